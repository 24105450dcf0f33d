/*
 * checks.c — everything dmtcp_launch verifies before it touches a
 * coordinator: the program exists and is executable, the checkpoint
 * directory is a writable directory, the engine and every plugin exist.
 * Each failure is one line naming the file and what to do; exit status 1.
 */
#include "launch/launch.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void launch_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void launch_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "dmtcp_launch: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static int launch_is_executable(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* Resolve PROGRAM the way execvp will. */
static void launch_find_program(const char *prog, char *out, size_t cap)
{
    if (strchr(prog, '/')) {
        if (!launch_is_executable(prog))
            launch_fail("cannot run '%s': %s", prog,
                        access(prog, F_OK) == 0 ? "not an executable file" : strerror(errno));
        snprintf(out, cap, "%s", prog);
        return;
    }
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    for (const char *p = path; p;) {
        const char *colon = strchr(p, ':');
        size_t n = colon ? (size_t)(colon - p) : strlen(p);
        int w = snprintf(out, cap, "%.*s%s%s", (int)n, p, n ? "/" : "", prog);
        if (w > 0 && (size_t)w < cap && launch_is_executable(out))
            return;
        p = colon ? colon + 1 : NULL;
    }
    launch_fail("program '%s' not found in PATH (or not executable); give its path", prog);
}

/* The engine comes in through LD_PRELOAD, which the dynamic loader alone
 * honours, and not for set-user-ID or set-group-ID programs: say so now
 * rather than run the program without checkpoints. */
static void launch_check_loadable(const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0 && (st.st_mode & (S_ISUID | S_ISGID)))
        launch_fail("cannot run '%s' under checkpoint control: it is set-user-ID or set-group-ID, "
                    "and the loader ignores LD_PRELOAD for such programs", path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    Elf64_Ehdr eh;
    int is_static = 0;
    if (read(fd, &eh, sizeof eh) == (ssize_t)sizeof eh && !memcmp(eh.e_ident, ELFMAG, SELFMAG) &&
        eh.e_ident[EI_CLASS] == ELFCLASS64 && eh.e_phentsize == sizeof(Elf64_Phdr) && eh.e_phnum < 256) {
        is_static = 1;
        for (int i = 0; i < eh.e_phnum; i++) {
            Elf64_Phdr ph;
            if (pread(fd, &ph, sizeof ph, (off_t)(eh.e_phoff + (uint64_t)i * sizeof ph)) != (ssize_t)sizeof ph)
                break;
            if (ph.p_type == PT_INTERP || ph.p_type == PT_DYNAMIC)
                is_static = 0;
        }
    }
    close(fd);
    if (is_static)
        launch_fail("cannot run '%s' under checkpoint control: it is statically linked, and the engine "
                    "is loaded with LD_PRELOAD, which only dynamically linked programs honour; "
                    "link it dynamically", path);
}

static void launch_check_ckptdir(const struct launch_opts *o, struct launch_paths *p)
{
    const char *dir = o->ckptdir_opt;
    const char *what = "--ckptdir";
    if (!dir || !*dir) {
        dir = getenv("DMTCP_CHECKPOINT_DIR");
        what = "DMTCP_CHECKPOINT_DIR";
    }
    if (!dir || !*dir) {
        dir = ".";
        what = "the current directory";
    }
    struct stat st;
    if (stat(dir, &st) < 0)
        launch_fail("checkpoint directory '%s' (%s): %s; create it or choose another with "
                    "--ckptdir", dir, what, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        launch_fail("checkpoint directory '%s' (%s) is not a directory", dir, what);
    if (access(dir, W_OK | X_OK) < 0)
        launch_fail("checkpoint directory '%s' (%s) is not writable: %s; choose another with "
                    "--ckptdir", dir, what, strerror(errno));
    if (!realpath(dir, p->ckptdir))
        launch_fail("cannot resolve checkpoint directory '%s': %s", dir, strerror(errno));
}

static void launch_check_engine(struct launch_paths *p)
{
    char self[PATH_MAX], lib[PATH_MAX + 8];
    int r = coordclient_self_dir(self, sizeof(self));
    if (r < 0)
        launch_fail("cannot find dmtcp_launch's own directory: %s", strerror(-r));
    snprintf(lib, sizeof(lib), "%s/../lib", self);
    if (!realpath(lib, p->libdir))
        launch_fail("engine not found at %s/libdmtcp.so; run make (%s)", lib, strerror(errno));
    snprintf(p->engine, sizeof(p->engine), "%s/libdmtcp.so", p->libdir);
    if (access(p->engine, R_OK) < 0)
        launch_fail("engine not found at %s; run make (%s)", p->engine, strerror(errno));
}

/* Append each plugin of a ':'-separated list after checking it. */
static void launch_check_plugins(const char *list, const char *what, struct launch_paths *p)
{
    if (!list || !*list)
        return;
    char buf[8192];
    snprintf(buf, sizeof(buf), "%s", list);
    for (char *save = NULL, *tok = strtok_r(buf, ":", &save); tok;
         tok = strtok_r(NULL, ":", &save)) {
        if (tok[0] != '/')
            launch_fail("plugin '%s' (%s) must be an absolute path", tok, what);
        if (access(tok, R_OK) < 0)
            launch_fail("plugin '%s' (%s): %s", tok, what, strerror(errno));
        size_t len = strlen(p->preload_extra);
        if (len + strlen(tok) + 2 > sizeof(p->preload_extra))
            launch_fail("too many plugins in %s", what);
        snprintf(p->preload_extra + len, sizeof(p->preload_extra) - len, "%s%s",
                 len ? ":" : "", tok);
    }
}

void launch_check(const struct launch_opts *o, struct launch_paths *p)
{
    memset(p, 0, sizeof(*p));
    launch_find_program(o->argv[0], p->program, sizeof(p->program));
    launch_check_loadable(p->program);
    launch_check_ckptdir(o, p);
    launch_check_engine(p);
    launch_check_plugins(o->plugins, "--with-plugin", p);
    launch_check_plugins(getenv("DMTCP_PLUGIN"), "DMTCP_PLUGIN", p);
}
