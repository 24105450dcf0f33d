/*
 * signals.c — signal state across a checkpoint, and the checkpoint signal
 * kept out of the application's way.
 *
 * Wrappers: the application can neither replace the engine's handler for the
 * checkpoint signal nor block it; what it asks for that signal is remembered
 * and reported back, so from its point of view the call worked.
 * PRECHECKPOINT saves every disposition exactly as the kernel holds it (raw
 * rt_sigaction), the pending signals of the process and of each thread, and
 * the interval timers; RESTART puts them back before any thread runs.
 * Per-thread masks need nothing: each thread's mask is in its signal frame.
 * A thread's own pending signals are taken and put back in the checkpoint
 * handler itself, through the two services this plugin offers the core
 * (thread_parking, thread_released: services.c).
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "engine/engine.h"
#include "engine/plugins/pid.h"
#include "engine/sys.h"

struct kernel_sigaction {
    uint64_t handler, flags, restorer, mask;
};

static struct {
    int (*real_sigaction)(int, const struct sigaction *, struct sigaction *);
    int (*real_sigprocmask)(int, const sigset_t *, sigset_t *);
    int (*real_pthread_sigmask)(int, const sigset_t *, sigset_t *);
    struct sigaction app_ckpt_action; /* what the app asked for the checkpoint signal */
    struct kernel_sigaction saved[65];
    struct itimerval timers[3];
} signals_state;

static void signals_resolve(void)
{
    if (!signals_state.real_sigaction) {
        signals_state.real_sigaction = dlsym(RTLD_NEXT, "sigaction");
        signals_state.real_sigprocmask = dlsym(RTLD_NEXT, "sigprocmask");
        signals_state.real_pthread_sigmask = dlsym(RTLD_NEXT, "pthread_sigmask");
    }
}

static int signals_is_ckpt(int sig)
{
    return engine_config.ckpt_signal && sig == engine_config.ckpt_signal;
}

/* The application's handlers run through one trampoline, so the engine
 * knows when a thread is inside a signal handler (dmtcp_in_signal_handler:
 * delayed resume refuses to start a window from one).  A handler left with
 * siglongjmp/longjmp resets the count (those are wrapped too). */
static struct sigaction signals_app[65];
static __thread int signals_tls_depth;

static void signals_trampoline(int sig, siginfo_t *si, void *uc)
{
    const struct sigaction *a = &signals_app[sig];
    signals_tls_depth++;
    if (a->sa_flags & SA_SIGINFO)
        a->sa_sigaction(sig, si, uc);
    else if (a->sa_handler != SIG_DFL && a->sa_handler != SIG_IGN)
        a->sa_handler(sig);
    signals_tls_depth--;
}

ENGINE_API int dmtcp_in_signal_handler(void)
{
    return signals_tls_depth > 0;
}

ENGINE_API int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    signals_resolve();
    if (signals_is_ckpt(sig)) {
        if (old)
            *old = signals_state.app_ckpt_action;
        if (act)
            signals_state.app_ckpt_action = *act;
        return 0;
    }
    if (sig < 1 || sig > 64)
        return signals_state.real_sigaction(sig, act, old);
    struct sigaction prev_app = signals_app[sig], kold, k;
    const struct sigaction *give = act;
    if (act && act->sa_handler != SIG_DFL && act->sa_handler != SIG_IGN) {
        k = *act;
        k.sa_sigaction = signals_trampoline;
        k.sa_flags |= SA_SIGINFO;
        give = &k;
    }
    int rc = signals_state.real_sigaction(sig, give, &kold);
    if (rc < 0)
        return rc;
    if (act)
        signals_app[sig] = *act;
    if (old)
        *old = (kold.sa_sigaction == signals_trampoline) ? prev_app : kold;
    return 0;
}

#define SIGNALS_JMP_WRAP(name, type)                                         \
    ENGINE_API __attribute__((noreturn)) void name(type env, int val)        \
    {                                                                        \
        static void (*real)(type, int);                                      \
        if (!real)                                                           \
            real = (void (*)(type, int))dlsym(RTLD_NEXT, #name);             \
        signals_tls_depth = 0;                                               \
        real(env, val);                                                      \
        __builtin_unreachable();                                             \
    }
SIGNALS_JMP_WRAP(siglongjmp, sigjmp_buf)
SIGNALS_JMP_WRAP(longjmp, jmp_buf)
SIGNALS_JMP_WRAP(_longjmp, jmp_buf)

static sighandler_t signals_set_handler(int sig, sighandler_t h, int flags)
{
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = h;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    if (sigaction(sig, &sa, &old) < 0)
        return SIG_ERR;
    return old.sa_handler;
}

ENGINE_API sighandler_t signal(int sig, sighandler_t h)
{
    return signals_set_handler(sig, h, SA_RESTART);
}

ENGINE_API sighandler_t sysv_signal(int sig, sighandler_t h)
{
    return signals_set_handler(sig, h, SA_RESETHAND | SA_NODEFER);
}

static const sigset_t *signals_filter(const sigset_t *in, sigset_t *copy)
{
    if (!in || !sigismember(in, engine_config.ckpt_signal))
        return in;
    *copy = *in;
    sigdelset(copy, engine_config.ckpt_signal);
    return copy;
}

ENGINE_API int sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
    signals_resolve();
    sigset_t copy;
    const sigset_t *s = how == SIG_UNBLOCK ? set : signals_filter(set, &copy);
    return signals_state.real_sigprocmask(how, s, old);
}

ENGINE_API int pthread_sigmask(int how, const sigset_t *set, sigset_t *old)
{
    signals_resolve();
    sigset_t copy;
    const sigset_t *s = how == SIG_UNBLOCK ? set : signals_filter(set, &copy);
    return signals_state.real_pthread_sigmask(how, s, old);
}

/* Pending signals are taken off the kernel's queues at checkpoint with
 * rt_sigtimedwait (so every queued real-time instance and its siginfo is
 * kept, not just one bit per signal) and queued again after the checkpoint
 * or the restart, each by the thread that is to receive it: the kernel lets
 * a thread queue a kernel- or kill()-style siginfo only to itself. */
#define SIGNALS_PER_THREAD 16
#define SIGNALS_SHARED 64

static struct {
    siginfo_t info[ENGINE_MAX_THREADS][SIGNALS_PER_THREAD];
    int n[ENGINE_MAX_THREADS];
    siginfo_t shared[SIGNALS_SHARED];
    int nshared;
} signals_pending;

/* Hex mask after `key` in a /proc status file; raw syscalls only. */
static uint64_t signals_status_mask(const char *path, const char *key)
{
    char buf[4096];
    int fd = (int)sys_call3(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    long n = sys_call3(SYS_read, fd, buf, sizeof buf - 1);
    sys_call1(SYS_close, fd);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    const char *p = strstr(buf, key);
    if (!p)
        return 0;
    uint64_t v = 0;
    for (p += strlen(key);; p++) {
        int d = (*p >= '0' && *p <= '9') ? *p - '0' : (*p >= 'a' && *p <= 'f') ? *p - 'a' + 10 : -1;
        if (d < 0)
            return v;
        v = v * 16 + (uint64_t)d;
    }
}

static uint64_t signals_ckpt_bit(void)
{
    return 1ull << (engine_config.ckpt_signal - 1);
}

/* Take up to max signals whose bits are in *mask off the caller's queues. */
static int signals_take(uint64_t mask, siginfo_t *out, int max, const char *path, const char *key)
{
    int n = 0;
    struct timespec zero = {0, 0};
    while (mask && n < max) {
        long sig = sys_call4(SYS_rt_sigtimedwait, &mask, &out[n], &zero, 8);
        if (sig <= 0)
            break;
        n++;
        mask = signals_status_mask(path, key) & ~signals_ckpt_bit();
    }
    return n;
}

/* In the checkpoint handler of thread `slot` (async-signal-safe). */
static void signals_thread_dequeue(int slot)
{
    uint64_t mask = signals_status_mask("/proc/thread-self/status", "SigPnd:\t") & ~signals_ckpt_bit();
    signals_pending.n[slot] = mask ? signals_take(mask, signals_pending.info[slot], SIGNALS_PER_THREAD,
                                                  "/proc/thread-self/status", "SigPnd:\t")
                                   : 0;
}

/* In the checkpoint handler, after release (async-signal-safe). */
static void signals_thread_requeue(int slot, int is_main, int is_restart, void *ucontext)
{
    (void)is_restart;
    (void)ucontext;
    pid_t pid = pid_real_pid(), tid = sys_gettid();
    for (int i = 0; i < signals_pending.n[slot]; i++) {
        siginfo_t *si = &signals_pending.info[slot][i];
        sys_call4(SYS_rt_tgsigqueueinfo, pid, tid, si->si_signo, si);
    }
    signals_pending.n[slot] = 0;
    if (!is_main)
        return;
    for (int i = 0; i < signals_pending.nshared; i++) {
        siginfo_t *si = &signals_pending.shared[i];
        sys_call3(SYS_rt_sigqueueinfo, pid, si->si_signo, si);
    }
    signals_pending.nshared = 0;
}

static void signals_save(void)
{
    for (int s = 1; s <= 64; s++)
        sys_call4(SYS_rt_sigaction, s, NULL, &signals_state.saved[s], 8);
    /* the manager blocks every signal and has none of its own pending, so
     * what it takes comes from the process-wide queue */
    uint64_t shared = signals_status_mask("/proc/self/status", "ShdPnd:\t") & ~signals_ckpt_bit();
    signals_pending.nshared = shared ? signals_take(shared, signals_pending.shared, SIGNALS_SHARED,
                                                    "/proc/self/status", "ShdPnd:\t")
                                     : 0;
    for (int w = 0; w < 3; w++)
        getitimer(w, &signals_state.timers[w]);
}

static void signals_restore(void)
{
    for (int s = 1; s <= 64; s++) {
        if (s == SIGKILL || s == SIGSTOP)
            continue;
        sys_call4(SYS_rt_sigaction, s, &signals_state.saved[s], NULL, 8);
    }
    for (int w = 0; w < 3; w++)
        if (signals_state.timers[w].it_value.tv_sec || signals_state.timers[w].it_value.tv_usec)
            setitimer(w, &signals_state.timers[w], NULL);
}

static void signals_hook(dmtcp_event_t ev, dmtcp_event_data_t *data)
{
    (void)data;
    if (ev == DMTCP_EVENT_INIT)
        signals_resolve();
    else if (ev == DMTCP_EVENT_PRECHECKPOINT)
        signals_save();
    else if (ev == DMTCP_EVENT_RESTART)
        signals_restore();
}

static const dmtcp_plugin_descriptor_t signals_descriptor = {
    .api_version = DMTCP_NATIVE_PLUGIN_API_VERSION,
    .name = "signals",
    .version = STASIS_VERSION,
    .description = "signal state across a checkpoint; the checkpoint signal kept from the program",
    .event_hook = signals_hook,
};
static const struct engine_services signals_services = {
    .thread_parking = signals_thread_dequeue,
    .thread_released = signals_thread_requeue,
};
PLUGIN_DECL_BUILTIN(signals_descriptor, 40, &signals_services);
