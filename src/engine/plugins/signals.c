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
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "engine/engine.h"
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
    uint64_t shared_pending;
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

int signals_real_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    signals_resolve();
    return signals_state.real_sigaction(sig, act, old);
}

static int signals_is_ckpt(int sig)
{
    return engine_config.ckpt_signal && sig == engine_config.ckpt_signal;
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
    return signals_state.real_sigaction(sig, act, old);
}

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

/* Parse the hex mask after `key` in a /proc status file. */
static uint64_t signals_status_mask(const char *path, const char *key)
{
    char buf[4096];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    const char *p = strstr(buf, key);
    return p ? strtoull(p + strlen(key), NULL, 16) : 0;
}

static void signals_save(void)
{
    for (int s = 1; s <= 64; s++)
        sys_call4(SYS_rt_sigaction, s, NULL, &signals_state.saved[s], 8);
    uint64_t ckpt_bit = 1ull << (engine_config.ckpt_signal - 1);
    signals_state.shared_pending = signals_status_mask("/proc/self/status", "ShdPnd:\t") & ~ckpt_bit;
    for (int i = 0; i < threads_state.nrecs; i++) {
        struct thread_rec *r = &threads_state.recs[i];
        if (!r->in_use)
            continue;
        char path[64];
        snprintf(path, sizeof path, "/proc/self/task/%d/status", r->real_tid);
        r->sig_pending = signals_status_mask(path, "SigPnd:\t") & ~ckpt_bit;
    }
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
    pid_t pid = pid_real_pid();
    for (int s = 1; s <= 64; s++) {
        uint64_t bit = 1ull << (s - 1);
        if (signals_state.shared_pending & bit)
            sys_call2(SYS_kill, pid, s);
        for (int i = 0; i < threads_state.nrecs; i++) {
            struct thread_rec *r = &threads_state.recs[i];
            if (r->in_use && (r->sig_pending & bit))
                sys_call3(SYS_tgkill, pid, r->real_tid, s);
        }
    }
}

static void signals_hook(dmtcp_event_t ev, dmtcp_event_data_t *data)
{
    (void)data;
    if (ev == DMTCP_EVENT_PRECHECKPOINT)
        signals_save();
    else if (ev == DMTCP_EVENT_RESTART)
        signals_restore();
}

void signals_plugin_init(void)
{
    signals_resolve();
    static const struct engine_plugin p = {"signals", signals_hook};
    plugin_register_builtin(&p);
}
