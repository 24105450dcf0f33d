/*
 * environ-argv.c — the environment and argv survive: argc and every argv
 * string, every environment variable (except the engine's own DMTCP_* and
 * LD_PRELOAD), variables the program set, replaced (with a 64 KiB value),
 * put with putenv() and unset; and setenv/getenv keep working afterwards.
 */
// SCEN_ARGS: alpha beta-gamma 12345 --delta=é

#include "scenario.h"

extern char **environ;

static int env_is_engines(const char *s)
{
    return strncmp(s, "DMTCP_", 6) == 0 || strncmp(s, "LD_PRELOAD=", 11) == 0 ||
           strncmp(s, "STASIS_", 7) == 0;
}

/* A copy of the environment without the engine's variables, sorted. */
static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char **env_snapshot(size_t *n)
{
    size_t count = 0, k = 0;
    while (environ[count])
        count++;
    char **copy = calloc(count + 1, sizeof(char *));
    if (!copy)
        fail("calloc");
    for (size_t i = 0; i < count; i++)
        if (!env_is_engines(environ[i]))
            copy[k++] = strdup(environ[i]);
    qsort(copy, k, sizeof(char *), cmp_str);
    *n = k;
    return copy;
}

static char put_buf[] = "SCEN_PUT=from-putenv";

int main(int argc, char **argv)
{
    char **args = calloc((size_t)argc + 1, sizeof(char *));
    if (!args)
        fail("calloc");
    for (int i = 0; i < argc; i++)
        args[i] = strdup(argv[i]);
    char *argv0_addr = argv[0];

    static char big[64 * 1024];
    memset(big, 'x', sizeof(big) - 1);
    if (setenv("SCEN_SET", "set-value", 1) != 0 || setenv("SCEN_BIG", "small", 1) != 0 ||
        setenv("SCEN_BIG", big, 1) != 0 || setenv("SCEN_GONE", "x", 1) != 0 ||
        putenv(put_buf) != 0 || unsetenv("SCEN_GONE") != 0)
        fail_errno("setenv");
    size_t n_before;
    char **before = env_snapshot(&n_before);

    scen_ready();
    scen_wait_check();

    if (argv[0] != argv0_addr)
        fail("argv[0] moved");
    for (int i = 0; i < argc; i++)
        if (!argv[i] || strcmp(argv[i], args[i]) != 0)
            fail("argv[%d] is '%s', expected '%s'", i, argv[i] ? argv[i] : "(null)", args[i]);
    if (argv[argc] != NULL)
        fail("argv[argc] is not NULL");
    const char *base = strrchr(argv[0], '/');
    if (strcmp(base ? base + 1 : argv[0], "environ-argv") != 0)
        fail("argv[0] is '%s'", argv[0]);

    size_t n_after;
    char **after = env_snapshot(&n_after);
    for (size_t i = 0; i < n_before || i < n_after; i++) {
        if (i >= n_before)
            fail("variable appeared: %.80s", after[i]);
        if (i >= n_after || strcmp(before[i], after[i]) != 0)
            fail("variable lost or changed: %.80s", before[i]);
    }
    const char *v = getenv("SCEN_SET");
    if (!v || strcmp(v, "set-value") != 0)
        fail("getenv(SCEN_SET) is %s", v ? v : "(null)");
    v = getenv("SCEN_BIG");
    if (!v || strcmp(v, big) != 0)
        fail("getenv(SCEN_BIG) lost its 64 KiB value");
    v = getenv("SCEN_PUT");
    if (!v || v != put_buf + 9)
        fail("getenv(SCEN_PUT) no longer points into the putenv() buffer");
    if (getenv("SCEN_GONE"))
        fail("unset variable SCEN_GONE came back");
    if (!getenv("SCEN_DIR"))
        fail("SCEN_DIR vanished");
    if (setenv("SCEN_AFTER", "after", 1) != 0 || !getenv("SCEN_AFTER") ||
        strcmp(getenv("SCEN_AFTER"), "after") != 0)
        fail("setenv/getenv after the check failed");
    pass();
}
