/*
 * signal-handlers.c — the program's signal dispositions survive, for every
 * signal it may catch: handlers (plain and SA_SIGINFO) with their flags and
 * masks, SA_RESETHAND, and SIG_IGN.  After the check sigaction() reports
 * what was installed and raising each signal runs the right handler.
 * SIGUSR2 is left out: it is the default checkpoint signal
 * (signal-usr2-moved covers it with the checkpoint signal moved).
 */
#include "scenario.h"

#define NSIG_MAX 65

static volatile sig_atomic_t hits[NSIG_MAX];
static volatile sig_atomic_t bad_info;

static void plain_handler(int sig)
{
    if (sig > 0 && sig < NSIG_MAX)
        hits[sig]++;
}

static void info_handler(int sig, siginfo_t *si, void *ctx)
{
    (void)ctx;
    if (si->si_signo != sig || si->si_code != SI_TKILL)
        bad_info = sig;
    if (sig > 0 && sig < NSIG_MAX)
        hits[sig]++;
}

enum kind { K_SKIP, K_PLAIN, K_INFO, K_RESETHAND, K_IGNORE };

static enum kind kind_of(int sig)
{
    if (sig == SIGKILL || sig == SIGSTOP || sig == SIGUSR2 || (sig > 31 && sig < SIGRTMIN))
        return K_SKIP;
    if (sig == SIGPIPE || sig == SIGURG || sig == SIGRTMIN + 5)
        return K_IGNORE;
    if (sig == SIGHUP || sig == SIGRTMAX - 1)
        return K_RESETHAND;
    return sig % 2 ? K_PLAIN : K_INFO;
}

static int flags_of(int sig)
{
    int f = sig % 3 == 0 ? SA_RESTART : 0;
    if (sig % 5 == 0)
        f |= SA_NODEFER;
    if (kind_of(sig) == K_INFO)
        f |= SA_SIGINFO;
    if (kind_of(sig) == K_RESETHAND)
        f |= SA_RESETHAND;
    if (sig == SIGCHLD)
        f |= SA_NOCLDSTOP;
    return f;
}

static void mask_of(int sig, sigset_t *set)
{
    sigemptyset(set);
    for (int s = 1; s < NSIG_MAX; s++)
        if (s != SIGKILL && s != SIGSTOP && kind_of(s) != K_SKIP && (s * 7 + sig) % 4 == 0)
            sigaddset(set, s);
}

static void install(int sig)
{
    struct sigaction sa = { 0 };
    mask_of(sig, &sa.sa_mask);
    sa.sa_flags = flags_of(sig);
    if (kind_of(sig) == K_IGNORE)
        sa.sa_handler = SIG_IGN;
    else if (sa.sa_flags & SA_SIGINFO)
        sa.sa_sigaction = info_handler;
    else
        sa.sa_handler = plain_handler;
    if (sigaction(sig, &sa, NULL) != 0)
        fail_errno("sigaction(%d)", sig);
}

static void expect_installed(int sig)
{
    struct sigaction cur;
    const int flag_bits = SA_SIGINFO | SA_RESTART | SA_NODEFER | SA_RESETHAND | SA_NOCLDSTOP | SA_ONSTACK;
    if (sigaction(sig, NULL, &cur) != 0)
        fail_errno("sigaction query %d", sig);
    if (kind_of(sig) == K_IGNORE) {
        if (cur.sa_handler != SIG_IGN)
            fail("signal %d (%s): no longer ignored", sig, strsignal(sig));
        return;
    }
    void *want = flags_of(sig) & SA_SIGINFO ? (void *)info_handler : (void *)plain_handler;
    void *got = cur.sa_flags & SA_SIGINFO ? (void *)cur.sa_sigaction : (void *)cur.sa_handler;
    if (got != want)
        fail("signal %d (%s): handler is %p, expected %p", sig, strsignal(sig), got, want);
    if ((cur.sa_flags & flag_bits) != flags_of(sig))
        fail("signal %d (%s): flags %#x, expected %#x", sig, strsignal(sig), cur.sa_flags & flag_bits,
             flags_of(sig));
    sigset_t want_mask;
    mask_of(sig, &want_mask);
    for (int s = 1; s < NSIG_MAX; s++)
        if (kind_of(s) != K_SKIP && sigismember(&cur.sa_mask, s) != sigismember(&want_mask, s))
            fail("signal %d (%s): signal %d %s its handler mask", sig, strsignal(sig), s,
                 sigismember(&want_mask, s) ? "missing from" : "added to");
}

/* Raises sig in this thread; the handler (if any) has run on return. */
static void expect_delivery(int sig)
{
    int before = hits[sig];
    if (raise(sig) != 0)
        fail_errno("raise(%d)", sig);
    int want = kind_of(sig) == K_IGNORE ? before : before + 1;
    if (hits[sig] != want)
        fail("signal %d (%s): handler ran %d times, expected %d", sig, strsignal(sig),
             hits[sig] - before, want - before);
    if (bad_info)
        fail("signal %d: SA_SIGINFO handler got wrong siginfo", bad_info);
}

int main(void)
{
    for (int sig = 1; sig < NSIG_MAX; sig++)
        if (kind_of(sig) != K_SKIP)
            install(sig);
    for (int sig = 1; sig < NSIG_MAX; sig++) /* sanity, before the checkpoint */
        if (kind_of(sig) != K_SKIP && kind_of(sig) != K_RESETHAND)
            expect_delivery(sig);

    scen_ready();
    scen_wait_check();

    for (int sig = 1; sig < NSIG_MAX; sig++)
        if (kind_of(sig) != K_SKIP)
            expect_installed(sig);
    for (int sig = 1; sig < NSIG_MAX; sig++)
        if (kind_of(sig) != K_SKIP)
            expect_delivery(sig);
    for (int sig = 1; sig < NSIG_MAX; sig++) {
        struct sigaction cur;
        if (kind_of(sig) == K_RESETHAND &&
            (sigaction(sig, NULL, &cur) != 0 || cur.sa_handler != SIG_DFL))
            fail("signal %d: SA_RESETHAND did not reset the handler", sig);
    }
    pass();
}
