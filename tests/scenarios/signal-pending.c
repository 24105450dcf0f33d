/*
 * signal-pending.c — signals pending across the checkpoint are delivered
 * once unblocked: a blocked SIGUSR1 sent to the process, a real-time signal
 * queued three times with sigqueue() values (each delivered, in order, with
 * its value), and a SIGUSR1 pending on one blocked worker thread only.
 * After the check sigpending() still shows them; unblocking delivers them.
 */
#include "scenario.h"

#define RT_SIG (SIGRTMIN + 1)

static atomic_int usr1_main, usr1_worker;
static int rt_values[8];
static atomic_int rt_count;
static pid_t worker_tid;
static atomic_int worker_ready, worker_go, worker_done;

static void on_usr1(int sig)
{
    (void)sig;
    if (gettid() == worker_tid)
        atomic_fetch_add(&usr1_worker, 1);
    else
        atomic_fetch_add(&usr1_main, 1);
}

static void on_rt(int sig, siginfo_t *si, void *ctx)
{
    (void)sig;
    (void)ctx;
    int n = atomic_fetch_add(&rt_count, 1);
    if (n < 8)
        rt_values[n] = si->si_value.sival_int;
}

static void block(int sig, int how)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    if (pthread_sigmask(how, &s, NULL) != 0)
        fail("pthread_sigmask");
}

static int is_pending(int sig)
{
    sigset_t p;
    sigpending(&p);
    return sigismember(&p, sig);
}

static void *worker(void *arg)
{
    (void)arg;
    worker_tid = gettid();
    /* SIGUSR1 is blocked here (inherited from main) */
    atomic_store(&worker_ready, 1);
    while (!atomic_load(&worker_go))
        scen_sleep_ms(2);
    if (!is_pending(SIGUSR1))
        fail("worker: its pending SIGUSR1 is gone");
    block(SIGUSR1, SIG_UNBLOCK);
    if (atomic_load(&usr1_worker) != 1)
        fail("worker: unblocking did not deliver its pending SIGUSR1");
    atomic_store(&worker_done, 1);
    return NULL;
}

int main(void)
{
    struct sigaction sa = { .sa_handler = on_usr1 };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    struct sigaction sr = { .sa_sigaction = on_rt, .sa_flags = SA_SIGINFO };
    sigemptyset(&sr.sa_mask);
    sigaction(RT_SIG, &sr, NULL);
    block(SIGUSR1, SIG_BLOCK);
    block(RT_SIG, SIG_BLOCK);

    pthread_t w = scen_thread(worker, NULL);
    SCEN_WAIT_FOR(atomic_load(&worker_ready), "worker did not start");
    if (pthread_kill(w, SIGUSR1) != 0) /* pending on the worker only */
        fail("pthread_kill");
    if (kill(getpid(), SIGUSR1) != 0) /* pending on the process */
        fail_errno("kill");
    for (int v = 1; v <= 3; v++)
        if (sigqueue(getpid(), RT_SIG, (union sigval){ .sival_int = 100 * v }) != 0)
            fail_errno("sigqueue");
    if (!is_pending(SIGUSR1) || !is_pending(RT_SIG))
        fail("signals are not pending before the checkpoint");

    scen_ready();
    scen_wait_check();

    if (!is_pending(SIGUSR1))
        fail("the process's pending SIGUSR1 is gone");
    if (!is_pending(RT_SIG))
        fail("the queued real-time signals are gone");
    if (atomic_load(&usr1_main) || atomic_load(&rt_count))
        fail("a blocked signal was delivered while blocked");
    block(RT_SIG, SIG_UNBLOCK);
    if (atomic_load(&rt_count) != 3)
        fail("unblocking delivered %d of the 3 queued real-time signals", atomic_load(&rt_count));
    for (int i = 0; i < 3; i++)
        if (rt_values[i] != 100 * (i + 1))
            fail("queued real-time signal %d carried value %d, expected %d", i + 1, rt_values[i],
                 100 * (i + 1));
    block(SIGUSR1, SIG_UNBLOCK);
    if (atomic_load(&usr1_main) != 1)
        fail("unblocking delivered %d SIGUSR1 to the main thread, expected 1", atomic_load(&usr1_main));
    atomic_store(&worker_go, 1);
    scen_join(w);
    if (!atomic_load(&worker_done) || atomic_load(&usr1_worker) != 1)
        fail("the worker's pending signal was not delivered to it");
    pass();
}
