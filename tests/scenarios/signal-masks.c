/*
 * signal-masks.c — every thread keeps its own signal mask: the main thread
 * and three workers block different sets (standard and real-time signals);
 * after the check each thread's mask is what it set, and a process-directed
 * signal is handled only by a thread that does not block it.
 * SIGUSR2 (the default checkpoint signal) is never blocked.
 */
#include "scenario.h"

#define NWORKERS 3
#define NSIG_MAX 65

static atomic_int n_ready, checked, n_ok, finish;
static pid_t handler_tid;
static pid_t tids[NWORKERS + 1];

static int maskable(int s)
{
    return s != SIGKILL && s != SIGSTOP && s != SIGUSR2 && !(s > 31 && s < SIGRTMIN);
}

/* Thread i blocks signal s when this says so.  Every thread but thread 2
 * blocks SIGSTKFLT, so thread 2 is the only one that may take it. */
static int blocks(int i, int s)
{
    if (!maskable(s))
        return 0;
    if (s == SIGSTKFLT)
        return i != 2;
    return (s * 13 + i * 5) % (i + 2) == 0;
}

static void set_mask(int i)
{
    sigset_t set;
    sigemptyset(&set);
    for (int s = 1; s < NSIG_MAX; s++)
        if (blocks(i, s))
            sigaddset(&set, s);
    if (pthread_sigmask(SIG_SETMASK, &set, NULL) != 0)
        fail("pthread_sigmask");
}

static void check_mask(int i)
{
    sigset_t cur;
    if (pthread_sigmask(SIG_BLOCK, NULL, &cur) != 0)
        fail("pthread_sigmask query");
    for (int s = 1; s < NSIG_MAX; s++)
        if (maskable(s) && sigismember(&cur, s) != blocks(i, s))
            fail("thread %d: signal %d (%s) is %s, expected %s", i, s, strsignal(s),
                 sigismember(&cur, s) ? "blocked" : "not blocked", blocks(i, s) ? "blocked" : "not blocked");
}

static void on_stkflt(int sig)
{
    (void)sig;
    handler_tid = gettid();
}

static void *worker(void *arg)
{
    int i = (int)(intptr_t)arg;
    tids[i] = gettid();
    set_mask(i);
    atomic_fetch_add(&n_ready, 1);
    while (!atomic_load(&checked))
        scen_sleep_ms(2);
    check_mask(i);
    atomic_fetch_add(&n_ok, 1);
    while (!atomic_load(&finish))
        scen_sleep_ms(1);
    return NULL;
}

int main(void)
{
    struct sigaction sa = { .sa_handler = on_stkflt };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSTKFLT, &sa, NULL);
    tids[0] = gettid();
    set_mask(0); /* before creating workers: they inherit it, then set theirs */
    pthread_t t[NWORKERS + 1];
    for (int i = 1; i <= NWORKERS; i++)
        t[i] = scen_thread(worker, (void *)(intptr_t)i);
    SCEN_WAIT_FOR(atomic_load(&n_ready) == NWORKERS, "workers did not start");

    scen_ready();
    scen_wait_check();

    check_mask(0);
    atomic_store(&checked, 1);
    SCEN_WAIT_FOR(atomic_load(&n_ok) == NWORKERS, "workers did not check their masks");
    if (kill(getpid(), SIGSTKFLT) != 0)
        fail_errno("kill");
    SCEN_WAIT_FOR(handler_tid != 0, "SIGSTKFLT was never handled");
    if (handler_tid != tids[2])
        fail("SIGSTKFLT was handled by tid %d, but only thread 2 (tid %d) leaves it unblocked",
             handler_tid, tids[2]);
    atomic_store(&finish, 1);
    for (int i = 1; i <= NWORKERS; i++)
        scen_join(t[i]);
    pass();
}
