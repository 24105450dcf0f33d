/*
 * engine_fds.c — the engine's own file descriptors, kept out of the
 * program's way.
 *
 * The engine holds a few descriptors for itself (the coordinator
 * connection, the manager's doorbell, the forked writer's pipe, the
 * incremental hash table).  Each is registered here when it is made, with
 * the variable that holds its number, and unregistered when it is closed,
 * so the engine knows exactly which numbers are its own: the fds plugin
 * saves every other descriptor and keeps the program's close(), dup2(),
 * dup3() and close_range() off these.
 *
 * Where they go: above the program's soft RLIMIT_NOFILE when that costs a
 * small descriptor table (the soft limit is raised for the moment of the
 * dup, then put back), where no program can open, dup2 or F_DUPFD onto
 * them; otherwise at ENGINE_FDS_BASE and up, as before.  Numbers are a
 * convenience, never a promise: when the program wants a number the engine
 * holds (dup2/dup3 onto it, or a restart whose saved descriptors include
 * it), the engine's descriptor moves out of the way first.
 *
 * Moving a descriptor changes its number under whoever uses it, so moves
 * happen only where no thread can hold the old number: while the program
 * is stopped (checkpoint, restart), or in the manager thread between two
 * turns of its loop (engine_fds_serve), where it holds none — a program
 * thread's dup2 onto an engine number asks the manager and waits for it
 * (ENGINE_FDS_WAIT_MS at most; then the caller moves it itself: a manager
 * that has not come round by then is blocked inside a system call, which
 * holds its own reference to the file).  Program threads that use an
 * engine number themselves (the doorbell) do so under the same lock, with
 * every signal blocked, so they are never parked or interrupted holding
 * it.  Functions marked no_stack_protector also run in restore_entry,
 * before the process has its TLS: raw system calls only there.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "engine/engine.h"
#include "engine/sys.h"

#define ENGINE_FDS_MAX 16
#define ENGINE_FDS_BASE 900     /* inside the program's range: used when above it is not possible */
#define ENGINE_FDS_SPAN 16      /* room kept above the soft limit for the engine's descriptors */
#define ENGINE_FDS_CHEAP 8192   /* above the soft limit only below this: a table of 16384 entries at most */
#define ENGINE_FDS_WAIT_MS 2000 /* a dup2 onto an engine number waits this long for the manager */

struct engine_fds_entry {
    int *slot;        /* the engine's variable holding the number */
    const char *what; /* for messages: "coordinator connection" */
};

static struct {
    struct engine_fds_entry own[ENGINE_FDS_MAX];
    int lock;           /* futex: 0 free, 1 taken, 2 taken and waited for */
    int wanted;         /* a number a program thread asks the manager to free, -1 none */
    int served;         /* futex: bumped each time the manager served a request */
    int server_running; /* the manager thread serves requests */
    pid_t pid;          /* the process the registry describes (not a vfork child) */
    int floor;          /* during a restart: the engine takes no number below this */
    int restart_floor;  /* planned at checkpoint time for the restart */
    int restart_top;    /* the highest number the restart reopens for the program */
    void (*wake)(void); /* rings the manager */
} engine_fds = {.wanted = -1};

static __thread int engine_fds_tls_server; /* this is the manager thread */

/* ---- the lock ----------------------------------------------------------- */

__attribute__((no_stack_protector)) static void engine_fds_lock(struct engine_fds_hold *h)
{
    uint64_t all = ~0ull;
    sys_call4(SYS_rt_sigprocmask, SIG_BLOCK, &all, &h->mask, 8);
    int c = 0;
    if (__atomic_compare_exchange_n(&engine_fds.lock, &c, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
        return;
    if (c != 2)
        c = __atomic_exchange_n(&engine_fds.lock, 2, __ATOMIC_ACQUIRE);
    while (c != 0) { /* holders never block: they dup, close or write an eventfd */
        sys_futex_wait(&engine_fds.lock, 2, NULL);
        c = __atomic_exchange_n(&engine_fds.lock, 2, __ATOMIC_ACQUIRE);
    }
}

__attribute__((no_stack_protector)) static void engine_fds_unlock(struct engine_fds_hold *h)
{
    if (__atomic_exchange_n(&engine_fds.lock, 0, __ATOMIC_RELEASE) == 2)
        sys_futex_wake(&engine_fds.lock, 1);
    sys_call4(SYS_rt_sigprocmask, SIG_SETMASK, &h->mask, NULL, 8);
}

/* ---- the registry ------------------------------------------------------- */

static int engine_fds_index_of(int fd)
{
    if (fd < 0)
        return -1;
    for (int i = 0; i < ENGINE_FDS_MAX; i++) {
        int *s = __atomic_load_n(&engine_fds.own[i].slot, __ATOMIC_ACQUIRE);
        if (s && __atomic_load_n(s, __ATOMIC_RELAXED) == fd)
            return i;
    }
    return -1;
}

int engine_fds_is_own(int fd)
{
    return engine_fds_index_of(fd) >= 0;
}

/* The registry describes this process's table (a vfork child shares the
 * engine's memory, not its descriptors). */
int engine_fds_in_owner(void)
{
    return engine_fds.pid == sys_getpid();
}

/* The engine's numbers, ascending; how many. */
int engine_fds_numbers(int *out, int cap)
{
    int n = 0;
    for (int i = 0; i < ENGINE_FDS_MAX && n < cap; i++) {
        int *s = engine_fds.own[i].slot;
        if (s && *s >= 0)
            out[n++] = *s;
    }
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && out[j - 1] > out[j]; j--) {
            int t = out[j];
            out[j] = out[j - 1];
            out[j - 1] = t;
        }
    return n;
}

__attribute__((no_stack_protector)) static long engine_fds_dupfd(int fd, unsigned long at)
{
    return sys_call3(SYS_fcntl, fd, F_DUPFD_CLOEXEC, at);
}

/* A copy of fd (close-on-exec) at the engine's place, the lowest free
 * number at or above lo (and the restart's floor): above the soft
 * RLIMIT_NOFILE when may_raise and that is cheap — or forced by the floor,
 * whose table the program's own descriptors need anyway — else from
 * ENGINE_FDS_BASE, else from lo itself.  The number, or -errno. */
__attribute__((no_stack_protector)) static long engine_fds_place(int fd, unsigned long lo, int may_raise)
{
    struct rlimit lim;
    if (sys_call4(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &lim) < 0)
        return -EINVAL;
    if (lo < (unsigned long)engine_fds.floor)
        lo = (unsigned long)engine_fds.floor;
    unsigned long at = lo > lim.rlim_cur ? lo : lim.rlim_cur;
    int cheap = at == lo || at + ENGINE_FDS_SPAN <= ENGINE_FDS_CHEAP;
    if (may_raise && cheap && at + ENGINE_FDS_SPAN <= lim.rlim_max) {
        struct rlimit wide = {at + ENGINE_FDS_SPAN, lim.rlim_max};
        if (sys_call4(SYS_prlimit64, 0, RLIMIT_NOFILE, &wide, NULL) == 0) {
            long hi = engine_fds_dupfd(fd, at);
            sys_call4(SYS_prlimit64, 0, RLIMIT_NOFILE, &lim, NULL);
            if (hi >= 0)
                return hi;
        }
    }
    at = lo > ENGINE_FDS_BASE ? lo : ENGINE_FDS_BASE;
    long hi = at < lim.rlim_cur ? engine_fds_dupfd(fd, at) : -EINVAL;
    if (hi < 0 && lo < at && lo < lim.rlim_cur)
        hi = engine_fds_dupfd(fd, lo);
    return hi;
}

/* Take fd as one of the engine's own: move it to the engine's place and
 * record *slot as holding its number.  The program must be stopped or
 * single-threaded (the soft limit may be raised for a moment).  0, or
 * -errno with fd closed and *slot = -1. */
int engine_fds_own(int fd, int *slot, const char *what)
{
    if (fd < 0) {
        *slot = -1;
        return -EBADF;
    }
    struct engine_fds_hold h;
    engine_fds_lock(&h);
    if (!engine_fds.pid)
        engine_fds.pid = sys_getpid();
    int free_i = -1;
    for (int i = ENGINE_FDS_MAX - 1; i >= 0; i--)
        if (!engine_fds.own[i].slot || engine_fds.own[i].slot == slot)
            free_i = i;
    if (free_i < 0) {
        engine_fds_unlock(&h);
        sys_call1(SYS_close, fd);
        *slot = -1;
        engine_warn("the engine holds %d descriptors already; cannot keep one more for its %s", ENGINE_FDS_MAX,
                    what);
        return -EMFILE;
    }
    long hi = engine_fds_place(fd, 0, 1);
    if (hi >= 0) {
        sys_call1(SYS_close, fd);
        fd = (int)hi;
    } /* else it stays where it is: registered, so still out of the program's way */
    __atomic_store_n(slot, fd, __ATOMIC_RELEASE);
    engine_fds.own[free_i].what = what;
    __atomic_store_n(&engine_fds.own[free_i].slot, slot, __ATOMIC_RELEASE);
    engine_fds_unlock(&h);
    return 0;
}

/* Close one of the engine's descriptors and forget it; *slot = -1.  A
 * slot that holds no registered descriptor is only set to -1. */
void engine_fds_close(int *slot)
{
    struct engine_fds_hold h;
    engine_fds_lock(&h);
    int registered = 0;
    for (int i = 0; i < ENGINE_FDS_MAX; i++)
        if (engine_fds.own[i].slot == slot) {
            __atomic_store_n(&engine_fds.own[i].slot, NULL, __ATOMIC_RELEASE);
            registered = 1;
        }
    if (registered && *slot >= 0)
        sys_call1(SYS_close, *slot);
    __atomic_store_n(slot, -1, __ATOMIC_RELEASE);
    engine_fds_unlock(&h);
}

/* write(2) on one of the engine's descriptors from any thread: its number
 * cannot move meanwhile.  Bytes written or -errno. */
long engine_fds_write(const int *slot, const void *buf, size_t len)
{
    struct engine_fds_hold h;
    engine_fds_lock(&h);
    long rc = sys_call3(SYS_write, *slot, buf, len);
    engine_fds_unlock(&h);
    return rc;
}

/* Move the engine's descriptor at fd elsewhere (the lock is held).  At
 * restart (may_raise) it goes to the engine's place; while the program
 * runs, to the lowest free number above fd; failing that, to any free
 * number.  0 or -errno. */
static long engine_fds_move_locked(int fd, int may_raise)
{
    int i = engine_fds_index_of(fd);
    if (i < 0)
        return 0;
    long hi = engine_fds_place(fd, may_raise ? 0 : (unsigned long)fd + 1, may_raise);
    if (hi < 0) /* no room where it belongs: any free number will do, it stays registered */
        hi = engine_fds_dupfd(fd, (unsigned long)fd + 1);
    if (hi < 0)
        hi = engine_fds_dupfd(fd, 0);
    if (hi < 0) {
        engine_warn("cannot move the engine's %s (fd %d) out of the program's way: %s", engine_fds.own[i].what, fd,
                    strerror((int)-hi));
        return hi;
    }
    __atomic_store_n(engine_fds.own[i].slot, (int)hi, __ATOMIC_RELEASE);
    sys_call1(SYS_close, fd);
    return 0;
}

/* ---- the program's calls that target a number --------------------------- */

static uint64_t engine_fds_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Make sure fd is not the engine's, and keep it so: returns with the lock
 * held (signals blocked) until engine_fds_release, so that the program's
 * dup2/dup3/close_range runs before the engine takes any number again.
 * 0, or -errno (a move that failed; the lock is held all the same). */
long engine_fds_claim(int fd, struct engine_fds_hold *h)
{
    uint64_t deadline = 0;
    engine_fds_lock(h);
    while (engine_fds_index_of(fd) >= 0) {
        if (engine_fds_tls_server || !__atomic_load_n(&engine_fds.server_running, __ATOMIC_ACQUIRE) ||
            (deadline && engine_fds_now_ms() >= deadline))
            return engine_fds_move_locked(fd, 0);
        int seen = __atomic_load_n(&engine_fds.served, __ATOMIC_ACQUIRE);
        __atomic_store_n(&engine_fds.wanted, fd, __ATOMIC_RELEASE);
        engine_fds_unlock(h);
        if (!deadline)
            deadline = engine_fds_now_ms() + ENGINE_FDS_WAIT_MS;
        if (engine_fds.wake)
            engine_fds.wake();
        struct timespec slice = {0, 50 * 1000 * 1000};
        sys_futex_wait(&engine_fds.served, seen, &slice);
        engine_fds_lock(h);
    }
    return 0;
}

/* Hold the lock without claiming a number (close_range over the engine's). */
void engine_fds_hold(struct engine_fds_hold *h)
{
    engine_fds_lock(h);
}

void engine_fds_release(struct engine_fds_hold *h)
{
    engine_fds_unlock(h);
}

/* The manager thread, at the top of its loop and while it waits, where it
 * holds no descriptor number: moves the one a program thread asked for. */
void engine_fds_serve(void)
{
    engine_fds_tls_server = 1;
    __atomic_store_n(&engine_fds.server_running, 1, __ATOMIC_RELEASE);
    if (__atomic_load_n(&engine_fds.wanted, __ATOMIC_ACQUIRE) < 0)
        return;
    struct engine_fds_hold h;
    engine_fds_lock(&h);
    int fd = engine_fds.wanted;
    engine_fds.wanted = -1;
    engine_fds_move_locked(fd, 0);
    __atomic_add_fetch(&engine_fds.served, 1, __ATOMIC_RELEASE);
    engine_fds_unlock(&h);
    sys_futex_wake(&engine_fds.served, 0x7fffffff);
}

void engine_fds_set_waker(void (*wake)(void))
{
    engine_fds.wake = wake;
}

/* ---- fork and restart --------------------------------------------------- */

/* In a forked child (single-threaded, not under checkpoint control): the
 * engine's descriptors are copies nobody uses there; close them. */
void engine_fds_after_fork_child(void)
{
    for (int i = 0; i < ENGINE_FDS_MAX; i++) {
        int *s = engine_fds.own[i].slot;
        engine_fds.own[i].slot = NULL;
        if (s && *s >= 0)
            sys_call1(SYS_close, *s);
    }
    engine_fds.lock = 0;
    engine_fds.wanted = -1;
    engine_fds.server_running = 0;
    engine_fds.pid = sys_getpid();
}

/* At checkpoint time (the fds plugin): the restart will reopen the
 * program's descriptors up to highest and give it back soft_limit.  The
 * engine's own then go above both when that is cheap, else just above
 * highest. */
void engine_fds_plan_restart(int highest, unsigned long soft_limit)
{
    unsigned long floor = highest >= 0 ? (unsigned long)highest + 1 : 0;
    if (soft_limit > floor && soft_limit + ENGINE_FDS_SPAN <= ENGINE_FDS_CHEAP)
        floor = soft_limit;
    engine_fds.restart_floor = (int)floor;
    engine_fds.restart_top = highest;
}

/* restore_entry, before any thread exists: the restarted process holds
 * none of the engine's descriptors yet (its own get made again, above the
 * program's), and the table is grown now to hold the program's and the
 * engine's numbers — growing a table that threads share waits for an RCU
 * grace period (10-14 ms measured), and would be paid by every restart. */
__attribute__((no_stack_protector)) void engine_fds_restart_begin(void)
{
    for (int i = 0; i < ENGINE_FDS_MAX; i++)
        engine_fds.own[i].slot = NULL;
    engine_fds.lock = 0;
    engine_fds.wanted = -1;
    engine_fds.pid = (pid_t)sys_call0(SYS_getpid);
    engine_fds.floor = engine_fds.restart_floor;
    long fd = sys_call2(SYS_eventfd2, 0, O_CLOEXEC /* = EFD_CLOEXEC */);
    if (fd < 0)
        return;
    long hi = engine_fds_place((int)fd, 0, 1);
    if (hi >= 0)
        sys_call1(SYS_close, hi);
    struct rlimit lim;
    if (engine_fds.restart_top > 2 && sys_call4(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &lim) == 0) {
        struct rlimit wide = {(unsigned long)engine_fds.restart_top + 1, lim.rlim_max};
        if (wide.rlim_cur > lim.rlim_cur && wide.rlim_cur <= lim.rlim_max)
            sys_call4(SYS_prlimit64, 0, RLIMIT_NOFILE, &wide, NULL);
        hi = engine_fds_dupfd((int)fd, (unsigned long)engine_fds.restart_top);
        if (hi >= 0)
            sys_call1(SYS_close, hi);
        if (wide.rlim_cur > lim.rlim_cur)
            sys_call4(SYS_prlimit64, 0, RLIMIT_NOFILE, &lim, NULL);
    }
    sys_call1(SYS_close, fd);
}

/* The fds plugin, at restart, before it reopens the program's descriptor
 * at fd: the engine's, if there, moves to its place (threads are stopped). */
long engine_fds_vacate(int fd)
{
    struct engine_fds_hold h;
    engine_fds_lock(&h);
    long rc = engine_fds_move_locked(fd, 1);
    engine_fds_unlock(&h);
    return rc;
}

/* The program's descriptors are back: later placements ignore the restart's floor. */
void engine_fds_restart_done(void)
{
    engine_fds.floor = 0;
}
