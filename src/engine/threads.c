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
 * Everything here that runs in the handler is async-signal-safe: raw
 * syscalls and atomics only.
 */
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

/* A thread inside malloc, stdio and the like (critical.c) holds libc locks:
 * it is not parked there — a parked lock holder would deadlock the manager's
 * successors and the delayed-resume window — but as soon as it leaves. */
static __thread int threads_tls_critical;
static __thread int threads_tls_deferred; /* signal value to re-send, 0 = none */

void threads_critical_enter(void)
{
    threads_tls_critical++;
}

void threads_critical_leave(void)
{
    if (--threads_tls_critical > 0 || !threads_tls_deferred)
        return;
    if (threads_state.disabled) { /* a forked child: not under checkpoint control */
        threads_tls_deferred = 0;
        return;
    }
    int value = threads_tls_deferred;
    threads_tls_deferred = 0;
    siginfo_t si;
    memset(&si, 0, sizeof si);
    si.si_signo = engine_config.ckpt_signal;
    si.si_code = SI_QUEUE;
    si.si_pid = sys_getpid();
    si.si_uid = (uid_t)sys_call0(SYS_getuid);
    si.si_value.sival_int = value;
    sys_call4(SYS_rt_tgsigqueueinfo, si.si_pid, sys_gettid(), si.si_signo, &si);
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

static void threads_on_signal(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    if (si->si_code != SI_QUEUE || (si->si_value.sival_int >> 16) != THREADS_SIG_MAGIC ||
        si->si_pid != sys_getpid())
        return; /* not ours: the application sent the checkpoint signal itself */
    int slot = si->si_value.sival_int & 0xffff;
    if (slot >= ENGINE_MAX_THREADS)
        return;
    if (threads_state.disabled)
        return;
    if (threads_tls_critical > 0) {
        threads_tls_deferred = si->si_value.sival_int;
        return;
    }
    atomic_fetch_add(&threads_state.in_handler, 1);
    int saved_errno = errno;
    struct thread_rec *r = &threads_state.recs[slot];
    int seen = atomic_load(&threads_state.release_seq);
    threads_record_self(r);
    signals_thread_dequeue(slot);
    if (ctx_save(&r->ctx) == 0) {
        atomic_store(&r->in_use, 2); /* parked */
        atomic_fetch_add(&threads_state.parked, 1);
        sys_futex_wake(&threads_state.parked, 1);
    }
    threads_wait_release(seen);
    signals_thread_requeue(slot, r->is_main);
    dmtcp_event_data_t data = {.is_restart = manager_state.last_was_restart,
                               .generation = manager_state.generation};
    plugin_dispatch(DMTCP_EVENT_THREAD_RESUME, &data);
    threads_resume_sleep(uc);
    errno = saved_errno;
    if (atomic_fetch_sub(&threads_state.in_handler, 1) == 1)
        sys_futex_wake(&threads_state.in_handler, 1);
}

int threads_install_handler(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = threads_on_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigfillset(&sa.sa_mask);
    return signals_real_sigaction(engine_config.ckpt_signal, &sa, NULL);
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
    int fd = (int)sys_call3(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 1;
    long n = sys_call3(SYS_read, fd, st, sizeof st - 1);
    sys_call1(SYS_close, fd);
    if (n <= 0)
        return 1;
    st[n] = 0;
    const char *p = strrchr(st, ')');
    return p && (p[2] == 'Z' || p[2] == 'X');
}

void threads_save_manager(struct thread_rec **out)
{
    *out = &threads_state.recs[0];
}

int threads_suspend_all(void)
{
    static int tids[ENGINE_MAX_THREADS];
    pid_t pid = sys_getpid();
    pid_t me = sys_gettid();
    memset(threads_state.recs, 0, sizeof(threads_state.recs[0]) * (size_t)threads_state.nrecs);
    atomic_store(&threads_state.parked, 0);
    threads_state.nrecs = 1;
    struct thread_rec *mgr = &threads_state.recs[0];
    threads_record_self(mgr);
    mgr->in_use = 1;
    mgr->is_manager = 1;
    threads_state.manager_tid = me;
    int signalled = 0;
    for (;;) {
        int n = procfs_list_numbers("/proc/self/task", tids, ENGINE_MAX_THREADS, NULL);
        int fresh = 0;
        for (int i = 0; i < n; i++) {
            if (tids[i] == me || threads_rec_for_tid(tids[i]))
                continue;
            if (threads_state.nrecs >= ENGINE_MAX_THREADS) {
                engine_warn("more than %d threads; checkpoint aborted", ENGINE_MAX_THREADS - 1);
                return -EOVERFLOW;
            }
            int slot = threads_state.nrecs++;
            struct thread_rec *r = &threads_state.recs[slot];
            r->in_use = 1;
            r->real_tid = tids[i];
            r->is_main = (tids[i] == pid);
            siginfo_t si;
            memset(&si, 0, sizeof si);
            si.si_signo = engine_config.ckpt_signal;
            si.si_code = SI_QUEUE;
            si.si_pid = pid;
            si.si_uid = (uid_t)sys_call0(SYS_getuid);
            si.si_value.sival_int = (THREADS_SIG_MAGIC << 16) | slot;
            long rc = sys_call4(SYS_rt_tgsigqueueinfo, pid, tids[i], engine_config.ckpt_signal, &si);
            if (rc < 0) {
                r->in_use = 0;
                continue;
            }
            signalled++;
            fresh++;
        }
        if (!fresh && atomic_load(&threads_state.parked) >= signalled)
            break;
        while (atomic_load(&threads_state.parked) < signalled) {
            int cur = atomic_load(&threads_state.parked);
            struct timespec ts = {0, 20 * 1000 * 1000};
            if (sys_futex_wait(&threads_state.parked, cur, &ts) == -ETIMEDOUT) {
                for (int i = 1; i < threads_state.nrecs; i++) {
                    struct thread_rec *r = &threads_state.recs[i];
                    if (atomic_load(&r->in_use) == 1 && threads_is_gone(pid, r->real_tid)) {
                        r->in_use = 0;
                        signalled--;
                    }
                }
            }
        }
    }
    return 0;
}

void threads_release_all(void)
{
    atomic_fetch_add(&threads_state.release_seq, 1);
    sys_futex_wake(&threads_state.release_seq, 0x7fffffff);
}

struct thread_rec *threads_find_by_vtid(pid_t vtid)
{
    for (int i = 0; i < threads_state.nrecs; i++)
        if (threads_state.recs[i].in_use && threads_state.recs[i].vtid == vtid)
            return &threads_state.recs[i];
    return NULL;
}

struct thread_rec *threads_find_by_pthread(unsigned long th)
{
    for (int i = 0; i < threads_state.nrecs; i++)
        if (threads_state.recs[i].in_use && threads_state.recs[i].fs_base == th)
            return &threads_state.recs[i];
    return NULL;
}
