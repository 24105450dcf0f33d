/*
 * threads.c — parking user threads for a checkpoint and letting them go.
 *
 * The manager thread sends the checkpoint signal to every other thread of the
 * process with rt_tgsigqueueinfo, carrying the index of the thread's record.
 * Each thread, inside the handler, records the per-thread kernel state a
 * restart must rebuild (TLS base, clear_child_tid address, robust list, rseq
 * area, sigaltstack, name), saves its place with ctx_save and waits on a futex
 * until the manager bumps release_seq.  After a restart the thread comes back
 * to the same place (restore.c) and waits the same way.  Returning from the
 * handler lets rt_sigreturn restore every register of the interrupted code.
 *
 * Parking is bounded.  A thread inside a libc call that holds a libc lock
 * parks when it leaves the call, or inside it after STASIS_PARK_DEFER_MS
 * (below, threads_critical_enter).  A checkpoint whose threads are not all
 * parked within STASIS_SUSPEND_TIMEOUT (a thread that blocks the checkpoint
 * signal, one stopped by a debugger…) is abandoned: the parked threads go
 * on, and the reason names the first thread missing (thread_report.c).
 *
 * Everything here that runs in the handler is async-signal-safe: raw
 * syscalls and atomics only.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>
#include <asm/prctl.h>

#include "engine/engine.h"
#include "engine/sys.h"

#define THREADS_SIG_MAGIC 0x5a7a

struct threads_state threads_state;
static __thread pid_t threads_tls_vtid; /* virtual tid of this thread, once known */

extern const unsigned int __rseq_size __attribute__((weak));
extern const ptrdiff_t __rseq_offset __attribute__((weak));

#define RSEQ_SIG_X86 0x53053053u

pid_t threads_current_vtid(void)
{
    return threads_tls_vtid ? threads_tls_vtid : sys_gettid();
}

void threads_after_fork_child(void)
{
    threads_tls_vtid = 0; /* a forked child is a new thread with its own tid */
    threads_state.disabled = 1;
}

/* A forked child that joins the computation: it has one thread, none
 * parked or in the handler; the table is rebuilt at its first checkpoint. */
void threads_join_child(void)
{
    atomic_store(&threads_state.parked, 0);
    atomic_store(&threads_state.in_handler, 0);
    atomic_store(&threads_state.collecting, 0);
    threads_state.nrecs = 0;
    threads_state.disabled = 0;
}

/* Fill the per-thread kernel state of the calling thread into r. */
static void threads_record_self(struct thread_rec *r)
{
    r->real_tid = sys_gettid();
    if (!threads_tls_vtid)
        threads_tls_vtid = r->real_tid;
    r->vtid = threads_tls_vtid;
    sys_call2(SYS_arch_prctl, ARCH_GET_FS, &r->fs_base);
    r->tid_address = 0;
    sys_call2(SYS_prctl, PR_GET_TID_ADDRESS, &r->tid_address);
    size_t len = 0;
    r->robust_head = 0;
    if (sys_call3(SYS_get_robust_list, 0, &r->robust_head, &len) == 0)
        r->robust_len = len;
    r->rseq_area = 0;
    r->rseq_len = 0;
    if (&__rseq_size && __rseq_size > 0 && &__rseq_offset) {
        r->rseq_area = r->fs_base + (uint64_t)__rseq_offset;
        r->rseq_len = 32; /* glibc 2.35+ registers the original 32-byte area */
        r->rseq_sig = RSEQ_SIG_X86;
    }
    sys_call2(SYS_sigaltstack, NULL, &r->altstack);
    memset(r->name, 0, sizeof r->name);
    sys_call2(SYS_prctl, PR_GET_NAME, r->name);
}

static void threads_wait_release(int seen)
{
    while (atomic_load(&threads_state.release_seq) == seen)
        sys_futex_wait(&threads_state.release_seq, seen, NULL);
}

static uint64_t threads_now_ns(void)
{
    struct timespec ts;
    sys_call2(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A thread inside malloc, stdio and the like (critical.c) holds libc locks:
 * it is not parked there at first — a parked lock holder would block
 * whoever needs the lock next, the manager's plugins and every thread of a
 * delayed-resume window — but as soon as it leaves the call.  A call that
 * does not return within STASIS_PARK_DEFER_MS (fgets on an empty pipe,
 * system() running a long command) is blocked in the kernel, where the
 * thread would wait anyway: the manager then marks its record `forced` and
 * signals it again, and it parks inside the call. */
static __thread int threads_tls_critical;
static __thread const char *threads_tls_critical_call; /* the outermost critical call */
static __thread int threads_tls_deferred; /* signal value to re-send, 0 = none */

void threads_critical_enter(const char *call)
{
    if (threads_tls_critical++ == 0)
        threads_tls_critical_call = call;
}

static void threads_send(pid_t pid, pid_t tid, int value)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    si.si_signo = engine_config.ckpt_signal;
    si.si_code = SI_QUEUE;
    si.si_pid = pid;
    si.si_uid = (uid_t)sys_call0(SYS_getuid);
    si.si_value.sival_int = value;
    sys_call4(SYS_rt_tgsigqueueinfo, pid, tid, si.si_signo, &si);
}

void threads_critical_leave(void)
{
    if (--threads_tls_critical > 0 || !threads_tls_deferred)
        return;
    int value = threads_tls_deferred;
    threads_tls_deferred = 0;
    /* a forked child is not under checkpoint control, and an abandoned
     * checkpoint wants nobody any more */
    if (threads_state.disabled || !atomic_load(&threads_state.collecting))
        return;
    threads_send(sys_getpid(), sys_gettid(), value);
}

/* A sleep the checkpoint signal interrupted goes on sleeping.
 *
 * With a handler, the kernel turns an interrupted clock_nanosleep into
 * EINTR, so sleep(), usleep() and nanosleep() would return early at every
 * checkpoint.  If the instruction just executed is glibc's
 * `mov $SYS_clock_nanosleep,%eax; syscall` and it failed with EINTR, the
 * frame is rewound to run the call again: unchanged for an absolute
 * deadline, and from the remaining time the kernel wrote to *rem for a
 * relative one.  A relative sleep without rem cannot know what is left, and
 * keeps its EINTR, as any signal would give it. */
static void threads_resume_sleep(ucontext_t *uc)
{
    greg_t *g = uc->uc_mcontext.gregs;
    if (g[REG_RAX] != -EINTR)
        return;
    const uint8_t *ip = (const uint8_t *)g[REG_RIP];
    if (((uintptr_t)ip & (IMAGE_PAGE - 1)) < 7) /* the bytes must lie in the same page */
        return;
    uint32_t nr;
    memcpy(&nr, ip - 6, sizeof nr);
    if (ip[-2] != 0x0f || ip[-1] != 0x05 || ip[-7] != 0xb8 || nr != SYS_clock_nanosleep)
        return;
    int absolute = (g[REG_RSI] & TIMER_ABSTIME) != 0;
    if (!absolute && !g[REG_R10])
        return;
    if (!absolute)
        g[REG_RDX] = g[REG_R10]; /* sleep what is left */
    g[REG_RAX] = SYS_clock_nanosleep;
    g[REG_RIP] -= 2;
}

/* This thread's record in the checkpoint that is parking threads: the one
 * the signal names, or (a signal left over from an abandoned checkpoint,
 * which a new one of the same non-real-time signal merged into) the one
 * with its tid.  -1 when it has none yet: its own signal follows. */
__attribute__((noinline)) static int threads_my_slot(int slot) /* not inlined: ctx_save below */
{
    pid_t me = sys_gettid();
    int n = atomic_load(&threads_state.nrecs);
    if (slot > 0 && slot < n && threads_state.recs[slot].real_tid == me)
        return slot;
    for (int i = 1; i < n; i++)
        if (threads_state.recs[i].in_use && threads_state.recs[i].real_tid == me)
            return i;
    return -1;
}

static void threads_on_signal(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    if (si->si_code != SI_QUEUE || (si->si_value.sival_int >> 16) != THREADS_SIG_MAGIC ||
        si->si_pid != sys_getpid())
        return; /* not ours: the application sent the checkpoint signal itself */
    if (threads_state.disabled)
        return;
    /* release_seq before collecting: a checkpoint that ends (or is
     * abandoned) clears collecting first, then bumps release_seq, so a
     * thread that sees collecting set waits for a bump still to come */
    int seen = atomic_load(&threads_state.release_seq);
    if (!atomic_load(&threads_state.collecting))
        return; /* left over from an abandoned checkpoint */
    int slot = threads_my_slot(si->si_value.sival_int & 0xffff);
    if (slot < 0)
        return;
    struct thread_rec *r = &threads_state.recs[slot];
    if (threads_tls_critical > 0 && !atomic_load(&r->forced)) {
        r->critical_call = threads_tls_critical_call;
        atomic_store(&r->deferred, 1);
        threads_tls_deferred = si->si_value.sival_int;
        return;
    }
    threads_tls_deferred = 0; /* parked now: nothing to re-send as the call returns */
    r->critical_call = threads_tls_critical > 0 ? threads_tls_critical_call : NULL;
    int is_main = r->is_main;
    atomic_fetch_add(&threads_state.in_handler, 1);
    int saved_errno = errno;
    threads_record_self(r);
    services_thread_parking(slot); /* e.g. the signals plugin takes the thread's pending signals */
    if (ctx_save(&r->ctx) == 0) {
        atomic_store(&r->in_use, 2); /* parked */
        atomic_fetch_add(&threads_state.parked, 1);
        sys_futex_wake(&threads_state.parked, 1);
    }
    threads_wait_release(seen);
    dmtcp_event_data_t data = {.is_restart = manager_state.last_was_restart,
                               .generation = manager_state.generation};
    /* and puts them back; after a restart the pid plugin gives an interrupted
     * wait4/waitid the pids of now */
    services_thread_released(slot, is_main, data.is_restart, uc);
    plugin_dispatch(DMTCP_EVENT_THREAD_RESUME, &data);
    threads_resume_sleep(uc);
    errno = saved_errno;
    if (atomic_fetch_sub(&threads_state.in_handler, 1) == 1)
        sys_futex_wake(&threads_state.in_handler, 1);
}

/* The handler goes in through libc's sigaction, past the engine's own
 * sigaction(), which keeps the checkpoint signal from the program. */
int threads_install_handler(void)
{
    int (*libc_sigaction)(int, const struct sigaction *, struct sigaction *) =
        (int (*)(int, const struct sigaction *, struct sigaction *))dlsym(RTLD_NEXT, "sigaction");
    if (!libc_sigaction)
        return -1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = threads_on_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigfillset(&sa.sa_mask);
    return libc_sigaction(engine_config.ckpt_signal, &sa, NULL);
}

static struct thread_rec *threads_rec_for_tid(pid_t tid)
{
    for (int i = 0; i < threads_state.nrecs; i++)
        if (threads_state.recs[i].in_use && threads_state.recs[i].real_tid == tid)
            return &threads_state.recs[i];
    return NULL;
}

/* A signalled thread that never parks may have exited, or be a zombie group
 * leader (main called pthread_exit): such a thread is dropped. */
static int threads_is_gone(pid_t pid, pid_t tid)
{
    if (sys_call3(SYS_tgkill, pid, tid, 0) == -ESRCH)
        return 1;
    char path[64], st[256];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
    const char *f = procfs_stat_fields(path, st, sizeof st);
    return !f || f[0] == 'Z' || f[0] == 'X';
}

void threads_save_manager(struct thread_rec **out)
{
    *out = &threads_state.recs[0];
}

/* The table of the last checkpoint (or restart), kept while a new one is
 * collected: the ids of a thread an abandoned checkpoint could not park
 * come from here (pid.c translates with them after a restart). */
static struct {
    struct thread_rec recs[ENGINE_MAX_THREADS];
    int nrecs;
} threads_previous;

static void threads_begin(pid_t me)
{
    threads_previous.nrecs = threads_state.nrecs;
    memcpy(threads_previous.recs, threads_state.recs, sizeof(threads_state.recs[0]) * (size_t)threads_state.nrecs);
    /* from here until a thread is parked, its ids come from the previous
     * table (threads_find_*): a thread still running may translate them */
    atomic_store(&threads_state.collecting, 1);
    memset(threads_state.recs, 0, sizeof(threads_state.recs[0]) * (size_t)threads_state.nrecs);
    atomic_store(&threads_state.parked, 0);
    threads_state.nrecs = 1;
    struct thread_rec *mgr = &threads_state.recs[0];
    threads_record_self(mgr);
    mgr->in_use = 1;
    mgr->is_manager = 1;
    threads_state.manager_tid = me;
}

/* Give up: every parked thread goes on; a thread not parked keeps the ids
 * it had in the previous table (or its own tid, if it is newer). */
static void threads_abandon(void)
{
    atomic_store(&threads_state.collecting, 0);
    threads_release_all();
    for (int i = 1; i < threads_state.nrecs; i++) {
        struct thread_rec *r = &threads_state.recs[i];
        if (atomic_load(&r->in_use) != 1)
            continue;
        r->vtid = r->real_tid;
        for (int j = 1; j < threads_previous.nrecs; j++) {
            const struct thread_rec *p = &threads_previous.recs[j];
            if (p->in_use && p->real_tid == r->real_tid) {
                r->vtid = p->vtid;
                r->fs_base = p->fs_base;
                r->tid_address = p->tid_address;
                break;
            }
        }
    }
}

/* Send the checkpoint signal to every thread not signalled yet; how many. */
static int threads_signal_new(pid_t pid, pid_t me, int *signalled)
{
    static int tids[ENGINE_MAX_THREADS];
    int n = procfs_list_numbers("/proc/self/task", tids, ENGINE_MAX_THREADS, NULL);
    int fresh = 0;
    for (int i = 0; i < n; i++) {
        if (tids[i] == me || threads_rec_for_tid(tids[i]))
            continue;
        if (threads_state.nrecs >= ENGINE_MAX_THREADS)
            return -EOVERFLOW;
        int slot = threads_state.nrecs;
        struct thread_rec *r = &threads_state.recs[slot];
        r->real_tid = tids[i];
        r->is_main = (tids[i] == pid);
        r->signalled_ns = threads_now_ns();
        atomic_store(&r->in_use, 1);
        atomic_store(&threads_state.nrecs, slot + 1);
        siginfo_t si;
        memset(&si, 0, sizeof si);
        si.si_signo = engine_config.ckpt_signal;
        si.si_code = SI_QUEUE;
        si.si_pid = pid;
        si.si_uid = (uid_t)sys_call0(SYS_getuid);
        si.si_value.sival_int = (THREADS_SIG_MAGIC << 16) | slot;
        if (sys_call4(SYS_rt_tgsigqueueinfo, pid, tids[i], engine_config.ckpt_signal, &si) < 0) {
            r->in_use = 0;
            continue;
        }
        (*signalled)++;
        fresh++;
    }
    return fresh;
}

/* Threads that put off parking for longer than STASIS_PARK_DEFER_MS are
 * told to park inside their call; threads that exited are forgotten. */
static void threads_check_waiting(pid_t pid, int *signalled)
{
    uint64_t now = threads_now_ns();
    uint64_t defer = (uint64_t)engine_config.park_defer_ms * 1000000ull;
    for (int i = 1; i < threads_state.nrecs; i++) {
        struct thread_rec *r = &threads_state.recs[i];
        if (atomic_load(&r->in_use) != 1)
            continue;
        if (threads_is_gone(pid, r->real_tid)) {
            r->in_use = 0;
            (*signalled)--;
        } else if (atomic_load(&r->deferred) && !atomic_load(&r->forced) && now - r->signalled_ns >= defer) {
            atomic_store(&r->forced, 1);
            threads_send(pid, r->real_tid, (THREADS_SIG_MAGIC << 16) | i);
        }
    }
}

/* The reason for giving up, naming the first thread not parked. */
static void threads_explain(char *why, size_t cap)
{
    int stuck = 0;
    const struct thread_rec *first = NULL;
    for (int i = 1; i < threads_state.nrecs; i++)
        if (atomic_load(&threads_state.recs[i].in_use) == 1 && stuck++ == 0)
            first = &threads_state.recs[i];
    if (!first) {
        snprintf(why, cap, "its threads were not all parked within %d ms (STASIS_SUSPEND_TIMEOUT)",
                 engine_config.suspend_timeout_ms);
        return;
    }
    char what[320];
    thread_report_stuck(first, what, sizeof what);
    int n = snprintf(why, cap, "%s; it was not parked within %d s (STASIS_SUSPEND_TIMEOUT)", what,
                     (engine_config.suspend_timeout_ms + 999) / 1000);
    if (stuck > 1 && n > 0 && (size_t)n < cap)
        snprintf(why + n, cap - (size_t)n, ", nor were %d more threads", stuck - 1);
}

int threads_suspend_all(void (*while_waiting)(void), char *why, size_t cap)
{
    pid_t pid = sys_getpid();
    pid_t me = sys_gettid();
    threads_begin(me);
    uint64_t deadline = threads_now_ns() + (uint64_t)engine_config.suspend_timeout_ms * 1000000ull;
    int signalled = 0;
    for (;;) {
        int fresh = threads_signal_new(pid, me, &signalled);
        if (fresh < 0) {
            snprintf(why, cap, "it has more than %d threads", ENGINE_MAX_THREADS - 1);
            threads_abandon();
            return fresh;
        }
        int cur = atomic_load(&threads_state.parked);
        if (!fresh && cur >= signalled)
            return 0;
        if (cur >= signalled)
            continue;
        struct timespec tick = {0, 10 * 1000 * 1000};
        long rc = sys_futex_wait(&threads_state.parked, cur, &tick);
        if (while_waiting)
            while_waiting();
        if (rc == -ETIMEDOUT) /* nobody parked for a while: look at who is missing */
            threads_check_waiting(pid, &signalled);
        if (atomic_load(&threads_state.parked) < signalled && threads_now_ns() >= deadline) {
            threads_explain(why, cap);
            threads_abandon();
            return -ETIMEDOUT;
        }
    }
}

void threads_release_all(void)
{
    atomic_store(&threads_state.collecting, 0);
    atomic_fetch_add(&threads_state.release_seq, 1);
    sys_futex_wake(&threads_state.release_seq, 0x7fffffff);
}

/* The record of a thread, by its virtual tid or its pthread_t (TLS base).
 * While a checkpoint is collecting, a thread not parked yet has no ids in
 * the new table: the previous one, still true until a restart, gives them. */
static struct thread_rec *threads_find_in(struct thread_rec *recs, int n, pid_t vtid, unsigned long th)
{
    for (int i = 0; i < n; i++)
        if (recs[i].in_use && (th ? recs[i].fs_base == th : recs[i].vtid == vtid))
            return &recs[i];
    return NULL;
}

static struct thread_rec *threads_find(pid_t vtid, unsigned long th)
{
    struct thread_rec *r = threads_find_in(threads_state.recs, threads_state.nrecs, vtid, th);
    if (!r && atomic_load(&threads_state.collecting))
        r = threads_find_in(threads_previous.recs, threads_previous.nrecs, vtid, th);
    return r;
}

struct thread_rec *threads_find_by_vtid(pid_t vtid)
{
    return threads_find(vtid, 0);
}

struct thread_rec *threads_find_by_pthread(unsigned long th)
{
    return th ? threads_find(0, th) : NULL;
}
