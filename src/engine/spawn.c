/*
 * spawn.c — new processes and new programs stay under checkpoint control.
 *
 * The computation is every process descended from dmtcp_launch.  So:
 *  - fork (and vfork, which becomes fork): the child joins the coordinator
 *    as a process of its own before fork returns to the program, and the
 *    parent holds its own checkpoints back (the gate of api.c) until the
 *    child has joined, so no checkpoint can include the parent after the
 *    fork and miss the child (the coordinator admits a child that joins
 *    before everyone is suspended: ckpt_admit).
 *  - exec of a program the engine can follow (dynamically linked, not
 *    set-user-ID): the environment handed to the new program always carries
 *    the engine (LD_PRELOAD) and its settings, even when the program cleared
 *    or rewrote them; and the process keeps its place in the computation —
 *    the manager lets go of the coordinator connection, which stays open
 *    across the exec (STASIS_EXEC_STATE names it), and the new program's
 *    engine takes it over without a new handshake.  A program the engine
 *    cannot follow (static, set-user-ID) runs outside checkpoint control
 *    after one warning, and the coordinator is told (its status says so).
 *  - posix_spawn and system(): the new program gets the same environment,
 *    and the parent's checkpoints wait until it has joined (it tells the
 *    parent through the parent's pipe, reopened by /proc/PPID/fd/N:
 *    STASIS_JOIN_FD), bounded by SPAWN_JOIN_WAIT_MS.
 * popen() runs its command through system()'s path inside glibc: its
 * child gets the engine from the environment, which the engine keeps.
 */
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/engine.h"
#include "engine/sys.h"
#include "engine/plugins/pipe.h"

#define SPAWN_JOIN_WAIT_MS 15000  /* a new process has this long to join */
#define SPAWN_ENV_EXTRA 64        /* engine variables at most */
#define SPAWN_VAR_MAX 8192

extern char **environ;

static struct {
    char vars[SPAWN_VAR_MAX];  /* "NAME=value\0"… of the engine's settings at start */
    size_t len;
    int nvars;
    char preload[4096];        /* the engine's LD_PRELOAD entries, ':'-joined */
    int active;                /* the engine runs in this process */
    int warned;                /* warned once about an exec it cannot follow */
} spawn_state;

/* ---- the environment a new program gets -------------------------------- */

static int spawn_is_engine_lib(const char *item, size_t n)
{
    const char *base = item;
    for (size_t i = 0; i < n; i++)
        if (item[i] == '/')
            base = item + i + 1;
    return (size_t)(item + n - base) >= 8 && strncmp(base, "libdmtcp", 8) == 0;
}

/* Variables computed from the engine's current state, not remembered. */
static int spawn_is_live_var(const char *name, size_t n)
{
    static const char *const live[] = {"DMTCP_COORD_HOST", "DMTCP_COORD_PORT", "DMTCP_CHECKPOINT_DIR",
                                       "STASIS_EXEC_STATE", "STASIS_JOIN_FD", "STASIS_ENGINE_DISABLED",
                                       "STASIS_SECRET_FILE", "STASIS_OUTSIDE_STDIO"};
    for (size_t i = 0; i < sizeof live / sizeof live[0]; i++)
        if (strlen(live[i]) == n && strncmp(live[i], name, n) == 0)
            return 1;
    return 0;
}

static void spawn_remember_env(void)
{
    for (char **e = environ; e && *e; e++) {
        const char *eq = strchr(*e, '=');
        if (!eq)
            continue;
        size_t n = (size_t)(eq - *e);
        if (n == 10 && strncmp(*e, "LD_PRELOAD", 10) == 0) {
            size_t o = 0;
            for (const char *p = eq + 1; *p;) {
                size_t k = strcspn(p, ": ");
                if (k && spawn_is_engine_lib(p, k) && o + k + 2 < sizeof spawn_state.preload)
                    o += (size_t)snprintf(spawn_state.preload + o, sizeof spawn_state.preload - o, "%s%.*s",
                                          o ? ":" : "", (int)k, p);
                p += k;
                while (*p == ':' || *p == ' ')
                    p++;
            }
            continue;
        }
        if ((strncmp(*e, "DMTCP_", 6) != 0 && strncmp(*e, "STASIS_", 7) != 0) || spawn_is_live_var(*e, n))
            continue;
        size_t len = strlen(*e) + 1;
        if (spawn_state.len + len > sizeof spawn_state.vars || spawn_state.nvars >= SPAWN_ENV_EXTRA - 8)
            break;
        memcpy(spawn_state.vars + spawn_state.len, *e, len);
        spawn_state.len += len;
        spawn_state.nvars++;
    }
}

/* Does env entry e set a variable the engine sets (so it is replaced)? */
static int spawn_env_overridden(const char *e, char *const ours[], int nours)
{
    const char *eq = strchr(e, '=');
    size_t n = eq ? (size_t)(eq - e) : strlen(e);
    for (int i = 0; i < nours; i++)
        if (!strncmp(ours[i], e, n) && ours[i][n] == '=')
            return 1;
    return 0;
}

/* The engine's entries for a new program's environment, into buf; their
 * addresses into ours.  user_preload: the LD_PRELOAD the program passes. */
static int spawn_engine_vars(char *ours[SPAWN_ENV_EXTRA], char *buf, size_t cap, const char *user_preload,
                             const char *exec_state, const char *join)
{
    int n = 0;
    size_t o = 0;
#define SPAWN_ADD(...)                                                                   \
    do {                                                                                 \
        int w_ = snprintf(buf + o, cap - o, __VA_ARGS__);                                \
        if (w_ >= 0 && (size_t)w_ < cap - o && n < SPAWN_ENV_EXTRA - 1) {                 \
            ours[n++] = buf + o;                                                         \
            o += (size_t)w_ + 1;                                                         \
        }                                                                                \
    } while (0)
    SPAWN_ADD("DMTCP_COORD_HOST=%s", engine_config.coord_host);
    SPAWN_ADD("DMTCP_COORD_PORT=%d", engine_config.coord_port);
    SPAWN_ADD("DMTCP_CHECKPOINT_DIR=%s", engine_config.ckptdir);
    if (engine_config.secret_path[0])
        SPAWN_ADD("STASIS_SECRET_FILE=%s", engine_config.secret_path);
    SPAWN_ADD("STASIS_OUTSIDE_STDIO=%s", pipe_outside_stdio());
    /* LD_PRELOAD: the engine first, then the program's own entries */
    char pre[8192];
    size_t po = (size_t)snprintf(pre, sizeof pre, "%s", spawn_state.preload);
    for (const char *p = user_preload; p && *p;) {
        size_t k = strcspn(p, ": ");
        if (k && !spawn_is_engine_lib(p, k) && po + k + 2 < sizeof pre)
            po += (size_t)snprintf(pre + po, sizeof pre - po, "%s%.*s", po ? ":" : "", (int)k, p);
        p += k;
        while (*p == ':' || *p == ' ')
            p++;
    }
    SPAWN_ADD("LD_PRELOAD=%s", pre);
    for (size_t i = 0; i < spawn_state.len; i += strlen(spawn_state.vars + i) + 1)
        SPAWN_ADD("%s", spawn_state.vars + i);
    if (exec_state)
        SPAWN_ADD("STASIS_EXEC_STATE=%s", exec_state);
    if (join)
        SPAWN_ADD("STASIS_JOIN_FD=%s", join);
#undef SPAWN_ADD
    return n;
}

/* out (capacity cap, at least count(envp) + SPAWN_ENV_EXTRA + 1): envp
 * with the engine's variables set. */
static void spawn_build_env(char **out, size_t cap, char *const envp[], char *buf, size_t bufcap,
                            const char *exec_state, const char *join)
{
    const char *user_preload = NULL;
    for (char *const *e = envp; e && *e; e++)
        if (!strncmp(*e, "LD_PRELOAD=", 11))
            user_preload = *e + 11;
    char *ours[SPAWN_ENV_EXTRA];
    int nours = spawn_engine_vars(ours, buf, bufcap, user_preload, exec_state, join);
    size_t k = 0;
    for (char *const *e = envp; e && *e && k + (size_t)nours + 1 < cap; e++)
        if (!spawn_env_overridden(*e, ours, nours))
            out[k++] = *e;
    for (int i = 0; i < nours && k + 1 < cap; i++)
        out[k++] = ours[i];
    out[k] = NULL;
}

static size_t spawn_env_count(char *const envp[])
{
    size_t n = 0;
    while (envp && envp[n])
        n++;
    return n;
}

/* ---- can the engine follow this program? ------------------------------- */

/* The file exec would run for `file` (searched in PATH when it has no '/'). */
static int spawn_resolve(const char *file, int search, char *out, size_t cap)
{
    if (!search || strchr(file, '/')) {
        snprintf(out, cap, "%s", file);
        return 0;
    }
    const char *path = getenv("PATH");
    if (!path)
        path = "/bin:/usr/bin";
    for (const char *p = path;;) {
        size_t n = strcspn(p, ":");
        snprintf(out, cap, "%.*s%s%s", (int)n, p, n ? "/" : "", file);
        if (access(out, X_OK) == 0)
            return 0;
        if (!p[n])
            break;
        p += n + 1;
    }
    return -ENOENT;
}

/* 1 when the engine can run inside `path`; 0 with the reason in why when
 * not; the program is then run outside checkpoint control.  Unknown
 * formats count as followable (exec itself will say). */
static int spawn_followable(const char *path, int depth, char *why, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 1;
    struct stat st;
    unsigned char head[512];
    ssize_t got = -1;
    if (fstat(fd, &st) == 0)
        got = pread(fd, head, sizeof head, 0);
    int ok = 1;
    if (got < 0) {
        ok = 1;
    } else if (((st.st_mode & S_ISUID) && st.st_uid != geteuid()) ||
               ((st.st_mode & S_ISGID) && st.st_gid != getegid())) {
        snprintf(why, cap, "it is set-user-ID or set-group-ID (the loader ignores LD_PRELOAD)");
        ok = 0;
    } else if (got >= 4 && head[0] == '#' && head[1] == '!' && depth < 4) {
        char interp[256];
        size_t i = 2, o = 0;
        while (i < (size_t)got && (head[i] == ' ' || head[i] == '\t'))
            i++;
        while (i < (size_t)got && head[i] != ' ' && head[i] != '\t' && head[i] != '\n' && o + 1 < sizeof interp)
            interp[o++] = (char)head[i++];
        interp[o] = 0;
        if (o)
            ok = spawn_followable(interp, depth + 1, why, cap);
    } else if ((size_t)got >= sizeof(Elf64_Ehdr) && !memcmp(head, ELFMAG, SELFMAG) && head[EI_CLASS] == ELFCLASS64) {
        Elf64_Ehdr eh;
        memcpy(&eh, head, sizeof eh);
        int interp = 0;
        for (int i = 0; i < eh.e_phnum && i < 256; i++) {
            Elf64_Phdr ph;
            if (eh.e_phentsize != sizeof ph ||
                pread(fd, &ph, sizeof ph, (off_t)(eh.e_phoff + (uint64_t)i * sizeof ph)) != (ssize_t)sizeof ph)
                break;
            if (ph.p_type == PT_INTERP)
                interp = 1;
        }
        if (!interp) {
            snprintf(why, cap, "it is statically linked (no dynamic loader to preload the engine)");
            ok = 0;
        }
    }
    close(fd);
    return ok;
}

static const char *spawn_base(const char *path)
{
    const char *b = strrchr(path, '/');
    return b ? b + 1 : path;
}

static void spawn_warn_unfollowed(const char *path, const char *why)
{
    engine_warn("%s execs %s: %s; it runs outside checkpoint control, and later checkpoints do not "
                "include this process",
                engine_config.program, path, why);
}

/* ---- exec ------------------------------------------------------------- */

typedef int (*spawn_exec_fn)(const char *, char *const[], char *const[]);

static void spawn_sleep_ms(int ms)
{
    struct timespec ts = {0, (long)ms * 1000000L};
    nanosleep(&ts, NULL);
}

/* Hand the connection over (or say the process leaves), exec, and if the
 * exec failed take everything back.  Returns only on failure, errno set. */
static int spawn_exec(spawn_exec_fn real, const char *file, int search, char *const argv[], char *const envp[])
{
    if (!spawn_state.active || threads_state.disabled)
        return real(file, argv, envp);
    char target[4096], why[160] = "";
    int follow = 1;
    if (spawn_resolve(file, search, target, sizeof target) == 0)
        follow = spawn_followable(target, 0, why, sizeof why);
    dmtcp_event_data_t data = {.is_restart = 0, .generation = manager_state.generation};
    api_gate_enter();
    int detached = manager_detach_for_exec();
    while (detached == -EBUSY) { /* a checkpoint runs: let it, then ask again */
        api_gate_leave();
        spawn_sleep_ms(2);
        api_gate_enter();
        detached = manager_detach_for_exec();
    }
    /* DMTCP's view: what is being exec'd, to read (a change is not applied);
     * the built-in plugins put what the new program needs (carry.c) */
    int carried = detached == 0 && follow ? carry_begin() : -1;
    data.dmtcp.preExec.serializationFd = -1;
    data.dmtcp.preExec.filename = (char *)file;
    data.dmtcp.preExec.argv = (const char **)argv;
    data.dmtcp.preExec.envp = (const char **)envp;
    plugin_dispatch(DMTCP_EVENT_PRE_EXEC, &data);
    char state[160];
    const char *pass = NULL;
    int fd = manager_state.coord_fd;
    if (detached == 0 && follow) {
        if (carried >= 0 && sys_call3(SYS_fcntl, carried, F_SETFD, 0) < 0)
            carried = -1;
        snprintf(state, sizeof state, "%d:%d:%llx:%llu:%d", fd, services_virtual_pid(),
                 (unsigned long long)manager_state.comp_id, (unsigned long long)manager_state.generation, carried);
        if (sys_call3(SYS_fcntl, fd, F_SETFD, 0) == 0)
            pass = state;
    } else if (detached == 0) {
        manager_say_leaving(spawn_base(target), why);
    }
    if (!follow) {
        spawn_warn_unfollowed(target, why);
    } else if (detached < 0 && detached != -ENOTCONN) {
        engine_warn("exec of %s: the checkpoint manager did not let go of the coordinator connection (%s); "
                    "the new program joins the computation as a new process",
                    target, strerror(-detached));
    }
    size_t cap = spawn_env_count(envp) + SPAWN_ENV_EXTRA + 1;
    char *env[cap];
    char buf[SPAWN_VAR_MAX + 8192];
    spawn_build_env(env, cap, envp, buf, sizeof buf, pass, NULL);
    real(file, argv, follow ? env : envp);
    int err = errno;
    carry_end();
    if (pass)
        sys_call3(SYS_fcntl, fd, F_SETFD, FD_CLOEXEC);
    if (detached == 0)
        manager_reattach();
    api_gate_leave();
    data.dmtcp.postExec.serializationFd = -1;
    plugin_dispatch(DMTCP_EVENT_POST_EXEC, &data);
    errno = err;
    return -1;
}

static void *spawn_next(const char *name)
{
    return dlsym(RTLD_NEXT, name);
}

ENGINE_API int execve(const char *path, char *const argv[], char *const envp[])
{
    static spawn_exec_fn real;
    if (!real)
        real = (spawn_exec_fn)spawn_next("execve");
    return spawn_exec(real, path, 0, argv, envp);
}

ENGINE_API int execvpe(const char *file, char *const argv[], char *const envp[])
{
    static spawn_exec_fn real;
    if (!real)
        real = (spawn_exec_fn)spawn_next("execvpe");
    return spawn_exec(real, file, 1, argv, envp);
}

ENGINE_API int execv(const char *path, char *const argv[])
{
    return execve(path, argv, environ);
}

ENGINE_API int execvp(const char *file, char *const argv[])
{
    return execvpe(file, argv, environ);
}

/* execl, execlp, execle: the list becomes an array on the stack. */
#define SPAWN_LIST_ARGV(arg0, ap, argv, last)                  \
    size_t n_ = 1;                                              \
    va_start(ap, arg0);                                         \
    while (va_arg(ap, const char *))                            \
        n_++;                                                   \
    va_end(ap);                                                 \
    const char *argv[n_ + 1];                                   \
    argv[0] = arg0;                                             \
    va_start(ap, arg0);                                         \
    for (size_t i_ = 1; i_ <= n_; i_++)                         \
        argv[i_] = i_ < n_ ? va_arg(ap, const char *) : NULL;   \
    last;                                                       \
    va_end(ap)

ENGINE_API int execl(const char *path, const char *arg0, ...)
{
    va_list ap;
    SPAWN_LIST_ARGV(arg0, ap, argv, (void)0);
    return execve(path, (char *const *)argv, environ);
}

ENGINE_API int execlp(const char *file, const char *arg0, ...)
{
    va_list ap;
    SPAWN_LIST_ARGV(arg0, ap, argv, (void)0);
    return execvpe(file, (char *const *)argv, environ);
}

ENGINE_API int execle(const char *path, const char *arg0, ...)
{
    va_list ap;
    char *const *envp;
    SPAWN_LIST_ARGV(arg0, ap, argv, (void)va_arg(ap, const char *); envp = va_arg(ap, char *const *));
    return execve(path, (char *const *)argv, envp);
}

/* fexecve and execveat run a descriptor: it is checked by /proc path. */
ENGINE_API int fexecve(int fd, char *const argv[], char *const envp[])
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    return execve(path, argv, envp);
}

/* ---- fork ------------------------------------------------------------- */

/* Wait until rd is readable or closed, at most SPAWN_JOIN_WAIT_MS; with
 * pid > 0, also stop waiting once that child has ended. */
static void spawn_wait_joined(int rd, pid_t pid)
{
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        struct pollfd p = {rd, POLLIN, 0};
        if (poll(&p, 1, 50) > 0)
            return;
        if (pid > 0) {
            siginfo_t si;
            memset(&si, 0, sizeof si);
            if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid)
                return;
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
        if ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 > SPAWN_JOIN_WAIT_MS) {
            engine_warn("new process %d did not join the computation within %d s; checkpoints go on without "
                        "waiting for it",
                        (int)pid, SPAWN_JOIN_WAIT_MS / 1000);
            return;
        }
    }
}

static void spawn_tell_parent(int fd)
{
    if (fd < 0)
        return;
    char c = 'j';
    ssize_t w = write(fd, &c, 1);
    (void)w;
    close(fd);
}

static void spawn_tell_parent_cb(void *fdp)
{
    spawn_tell_parent(*(int *)fdp);
    *(int *)fdp = -1;
}

/* In the child, single-threaded, before fork returns there.  The parent is
 * told (notify_fd) as soon as the connection is made. */
static void spawn_child_join(int open_sections, int *notify_fd)
{
    manager_after_fork_child(open_sections);
    threads_join_child();
    if (manager_start(spawn_tell_parent_cb, notify_fd) < 0)
        engine_warn("cannot start the checkpoint manager thread in the new process; it runs without checkpoints");
}

ENGINE_API pid_t fork(void)
{
    static pid_t (*real)(void);
    if (!real)
        real = (pid_t(*)(void))spawn_next("fork");
    restore_lazy_wait(); /* a lazy restart's missing pages would not reach the child */
    int joining = spawn_state.active && !threads_state.disabled && manager_state.connected;
    if (joining)
        api_gate_enter();
    int p[2] = {-1, -1};
    if (joining && pipe2(p, O_CLOEXEC) < 0)
        p[0] = p[1] = -1;
    threads_critical_enter("fork");
    pid_t r = real();
    int err = errno;
    threads_critical_leave();
    if (r == 0) {
        if (p[0] >= 0)
            close(p[0]);
        if (joining)
            spawn_child_join(api_thread_disable_depth(), &p[1]);
        spawn_tell_parent(p[1]); /* not joining (or the manager could not start) */
        return 0;
    }
    if (p[1] >= 0)
        close(p[1]);
    if (r > 0 && p[0] >= 0)
        spawn_wait_joined(p[0], r);
    if (p[0] >= 0)
        close(p[0]);
    if (joining)
        api_gate_leave();
    errno = err;
    return r;
}

/* vfork's child shares the parent's memory until it execs, where the engine
 * cannot run: it becomes a fork, which POSIX allows. */
ENGINE_API pid_t vfork(void)
{
    return fork();
}

/* ---- posix_spawn and system ------------------------------------------- */

typedef int (*spawn_fn)(pid_t *, const char *, const posix_spawn_file_actions_t *, const posix_spawnattr_t *,
                        char *const[], char *const[]);

static int spawn_posix(spawn_fn real, int search, pid_t *pidp, const char *file,
                       const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *at, char *const argv[],
                       char *const envp[])
{
    if (!spawn_state.active || threads_state.disabled)
        return real(pidp, file, fa, at, argv, envp);
    char target[4096], why[160] = "";
    int follow = 1;
    if (spawn_resolve(file, search, target, sizeof target) == 0)
        follow = spawn_followable(target, 0, why, sizeof why);
    if (!follow) {
        spawn_warn_unfollowed(target, why);
        return real(pidp, file, fa, at, argv, envp);
    }
    int joining = manager_state.connected;
    int p[2] = {-1, -1};
    char join[64];
    if (joining) {
        api_gate_enter();
        if (pipe2(p, O_CLOEXEC | O_NONBLOCK) == 0)
            snprintf(join, sizeof join, "%d:%d", (int)sys_getpid(), p[1]);
        else
            p[0] = p[1] = -1;
    }
    size_t cap = spawn_env_count(envp) + SPAWN_ENV_EXTRA + 1;
    char *env[cap];
    char buf[SPAWN_VAR_MAX + 8192];
    spawn_build_env(env, cap, envp, buf, sizeof buf, NULL, p[1] >= 0 ? join : NULL);
    pid_t pid = 0;
    int rc = real(&pid, file, fa, at, argv, env);
    if (rc == 0 && pidp)
        *pidp = pid;
    if (rc == 0 && p[0] >= 0)
        spawn_wait_joined(p[0], pid);
    if (p[0] >= 0) {
        close(p[0]);
        close(p[1]);
    }
    if (joining)
        api_gate_leave();
    return rc;
}

ENGINE_API int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
                           const posix_spawnattr_t *at, char *const argv[], char *const envp[])
{
    static spawn_fn real;
    if (!real)
        real = (spawn_fn)spawn_next("posix_spawn");
    return spawn_posix(real, 0, pid, path, fa, at, argv, envp);
}

ENGINE_API int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
                            const posix_spawnattr_t *at, char *const argv[], char *const envp[])
{
    static spawn_fn real;
    if (!real)
        real = (spawn_fn)spawn_next("posix_spawnp");
    return spawn_posix(real, 1, pid, file, fa, at, argv, envp);
}

/* system(3) on posix_spawn, so the shell joins like any spawned program:
 * SIGINT and SIGQUIT ignored and SIGCHLD blocked in the caller while the
 * command runs, defaults and the caller's mask in the shell. */
ENGINE_API int system(const char *cmd)
{
    if (!cmd)
        return access("/bin/sh", X_OK) == 0;
    struct sigaction ign = {.sa_handler = SIG_IGN}, old_int, old_quit;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGINT, &ign, &old_int);
    sigaction(SIGQUIT, &ign, &old_quit);
    sigset_t chld, old_mask, defs;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, &old_mask);
    posix_spawnattr_t at;
    posix_spawnattr_init(&at);
    sigemptyset(&defs);
    if (old_int.sa_handler != SIG_IGN)
        sigaddset(&defs, SIGINT);
    if (old_quit.sa_handler != SIG_IGN)
        sigaddset(&defs, SIGQUIT);
    posix_spawnattr_setsigdefault(&at, &defs);
    posix_spawnattr_setsigmask(&at, &old_mask);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    const char *argv[] = {"sh", "-c", "--", cmd, NULL};
    pid_t pid;
    int status = -1;
    int rc = posix_spawn(&pid, "/bin/sh", NULL, &at, (char *const *)argv, environ);
    posix_spawnattr_destroy(&at);
    if (rc == 0) {
        while (waitpid(pid, &status, 0) < 0) {
            if (errno != EINTR) {
                status = -1;
                break;
            }
        }
    } else {
        status = 127 << 8; /* as if the shell could not run */
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGQUIT, &old_quit, NULL);
    sigprocmask(SIG_SETMASK, &old_mask, NULL);
    return status;
}

/* ---- the new program's side -------------------------------------------- */

/* STASIS_EXEC_STATE="fd:vpid:comp_id:generation:carried": the connection
 * the previous program of this process handed over, and the descriptor of
 * the engine state it carried (carry.c), or -1. */
static void spawn_adopt(const char *v)
{
    int fd = -1, vpid = 0, carried = -1;
    unsigned long long comp = 0, gen = 0;
    int n = sscanf(v, "%d:%d:%llx:%llu:%d", &fd, &vpid, &comp, &gen, &carried);
    if (n == 5 && carried >= 0)
        carry_adopt(carried);
    if (n < 4 || fd < 0)
        return;
    struct stat st;
    int type = 0;
    socklen_t tl = sizeof type;
    if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode) || getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) < 0 ||
        type != SOCK_STREAM) {
        engine_warn("STASIS_EXEC_STATE names descriptor %d, which is not the coordinator connection; "
                    "joining as a new process",
                    fd);
        return;
    }
    manager_state.comp_id = comp;
    manager_state.generation = gen;
    services_adopt_virtual_pid(vpid);
    if (manager_adopt_connection(fd) < 0)
        engine_warn("cannot keep the coordinator connection across exec; joining as a new process");
}

/* STASIS_JOIN_FD="ppid:fd": the parent waits on that pipe until this new
 * process has joined. */
static void spawn_notify_parent(const char *v)
{
    int ppid = 0, fd = -1;
    if (sscanf(v, "%d:%d", &ppid, &fd) != 2 || ppid <= 0 || fd < 0 || ppid != (int)getppid())
        return;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd/%d", ppid, fd);
    int w = open(path, O_WRONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat st;
    if (w >= 0 && fstat(w, &st) == 0 && S_ISFIFO(st.st_mode))
        spawn_tell_parent(w);
    else if (w >= 0)
        close(w);
}

static char spawn_join_var[64];

/* From the constructor, before the manager starts. */
void spawn_init(void)
{
    pipe_outside_init(getenv("STASIS_OUTSIDE_STDIO"));
    spawn_remember_env();
    const char *st = getenv("STASIS_EXEC_STATE");
    if (st) {
        char copy[160];
        snprintf(copy, sizeof copy, "%s", st);
        unsetenv("STASIS_EXEC_STATE");
        spawn_adopt(copy);
    }
    const char *j = getenv("STASIS_JOIN_FD");
    if (j) {
        snprintf(spawn_join_var, sizeof spawn_join_var, "%s", j);
        unsetenv("STASIS_JOIN_FD");
    }
    spawn_state.active = 1;
}

/* From manager_start, once this process has joined (or failed to). */
void spawn_joined(void *unused)
{
    (void)unused;
    if (spawn_join_var[0])
        spawn_notify_parent(spawn_join_var);
    spawn_join_var[0] = 0;
}
