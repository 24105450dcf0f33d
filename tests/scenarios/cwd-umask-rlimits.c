/*
 * cwd-umask-rlimits.c — the working directory (a name with a space, reached
 * through chdir), the umask and resource limits the program changed are the
 * same after the check: getcwd() matches, relative paths resolve there, new
 * files get the umask's mode, and getrlimit() returns what was set.
 */
#include "scenario.h"

#include <sys/resource.h>

#define UMASK 027

static const struct { int res; const char *name; } limits[] = {
    { RLIMIT_NOFILE, "RLIMIT_NOFILE" }, { RLIMIT_CORE, "RLIMIT_CORE" },
    { RLIMIT_FSIZE, "RLIMIT_FSIZE" }, { RLIMIT_NPROC, "RLIMIT_NPROC" },
    { RLIMIT_MSGQUEUE, "RLIMIT_MSGQUEUE" },
};
#define NLIMITS (sizeof(limits) / sizeof(limits[0]))

/* A soft limit different from the current one and allowed without
 * privilege: lower it, but keep RLIMIT_NOFILE well above the engine's fds. */
static rlim_t new_soft(int res, struct rlimit cur)
{
    rlim_t max = cur.rlim_max, soft = cur.rlim_cur;
    if (res == RLIMIT_NOFILE)
        return soft > 1200 ? soft - 100 : (max == RLIM_INFINITY || max >= soft + 100 ? soft + 100 : soft);
    if (soft == RLIM_INFINITY)
        return max == RLIM_INFINITY ? (rlim_t)1 << 40 : max - 1;
    return soft > 1 ? soft - 1 : soft;
}

int main(void)
{
    char *dir = scen_path("work dir");
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        fail_errno("mkdir %s", dir);
    if (chdir(dir) != 0)
        fail_errno("chdir %s", dir);
    char real_dir[PATH_MAX];
    if (!getcwd(real_dir, sizeof(real_dir)))
        fail_errno("getcwd");
    free(scen_make_file("work dir/marker", "marker", 6));
    umask(UMASK);

    struct rlimit want[NLIMITS];
    for (size_t i = 0; i < NLIMITS; i++) {
        if (getrlimit(limits[i].res, &want[i]) != 0)
            fail_errno("getrlimit(%s)", limits[i].name);
        want[i].rlim_cur = new_soft(limits[i].res, want[i]);
        if (setrlimit(limits[i].res, &want[i]) != 0)
            fail_errno("setrlimit(%s)", limits[i].name);
    }

    scen_ready();
    scen_wait_check();

    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof(cwd)))
        fail_errno("getcwd");
    if (strcmp(cwd, real_dir) != 0)
        fail("working directory is '%s', expected '%s'", cwd, real_dir);
    char buf[8] = { 0 };
    int fd = open("marker", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || read(fd, buf, 6) != 6 || strcmp(buf, "marker") != 0)
        fail("relative path 'marker' does not resolve in the working directory");
    close(fd);

    mode_t old = umask(UMASK);
    if (old != UMASK)
        fail("umask is %03o, expected %03o", (unsigned)old, UMASK);
    unlink("new-file");
    fd = open("new-file", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0)
        fail_errno("create new-file");
    close(fd);
    unlink("new-file");
    if ((st.st_mode & 0777) != (0666 & ~UMASK))
        fail("a new file got mode %03o, expected %03o", (unsigned)(st.st_mode & 0777),
             (unsigned)(0666 & ~UMASK));

    for (size_t i = 0; i < NLIMITS; i++) {
        struct rlimit cur;
        if (getrlimit(limits[i].res, &cur) != 0)
            fail_errno("getrlimit(%s)", limits[i].name);
        if (cur.rlim_cur != want[i].rlim_cur || cur.rlim_max != want[i].rlim_max)
            fail("%s is %llu/%llu, expected %llu/%llu", limits[i].name,
                 (unsigned long long)cur.rlim_cur, (unsigned long long)cur.rlim_max,
                 (unsigned long long)want[i].rlim_cur, (unsigned long long)want[i].rlim_max);
    }
    pass();
}
