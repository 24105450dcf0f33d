/*
 * signal-usr2-moved.c — a program that uses SIGUSR2 itself, with the
 * checkpoint signal moved elsewhere (--ckpt-signal 36): its SIGUSR2 handler
 * is still installed after the check and SIGUSR2 sent to the process and to
 * a worker thread reaches it; a worker that blocks SIGUSR2 keeps it blocked.
 */
// SCEN_LAUNCH_OPTS: --ckpt-signal 36

#include "scenario.h"

static atomic_int hits_main, hits_worker;
static pid_t worker_tid;
static atomic_int worker_up, finish;

static void on_usr2(int sig, siginfo_t *si, void *ctx)
{
    (void)ctx;
    if (sig != SIGUSR2 || si->si_signo != SIGUSR2)
        return;
    if (gettid() == worker_tid)
        atomic_fetch_add(&hits_worker, 1);
    else
        atomic_fetch_add(&hits_main, 1);
}

static void *worker(void *arg)
{
    (void)arg;
    worker_tid = gettid();
    atomic_store(&worker_up, 1);
    while (!atomic_load(&finish))
        scen_sleep_ms(1);
    return NULL;
}

static void *blocker(void *arg)
{
    (void)arg;
    sigset_t s, cur;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &s, NULL);
    while (!atomic_load(&finish))
        scen_sleep_ms(1);
    pthread_sigmask(SIG_BLOCK, NULL, &cur);
    return (void *)(intptr_t)sigismember(&cur, SIGUSR2);
}

int main(void)
{
    struct sigaction sa = { .sa_sigaction = on_usr2, .sa_flags = SA_SIGINFO | SA_RESTART };
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGUSR2, &sa, NULL) != 0)
        fail_errno("sigaction(SIGUSR2)");
    pthread_t w = scen_thread(worker, NULL), b = scen_thread(blocker, NULL);
    SCEN_WAIT_FOR(atomic_load(&worker_up), "worker did not start");
    raise(SIGUSR2);
    if (atomic_load(&hits_main) != 1)
        fail("SIGUSR2 did not reach the handler before the checkpoint");

    scen_ready();
    scen_wait_check();

    struct sigaction cur;
    if (sigaction(SIGUSR2, NULL, &cur) != 0 || !(cur.sa_flags & SA_SIGINFO) ||
        cur.sa_sigaction != on_usr2)
        fail("the program's SIGUSR2 handler is no longer installed");
    raise(SIGUSR2);
    if (atomic_load(&hits_main) != 2)
        fail("raise(SIGUSR2) after the check did not reach the handler");
    if (pthread_kill(w, SIGUSR2) != 0)
        fail("pthread_kill");
    SCEN_WAIT_FOR(atomic_load(&hits_worker) == 1, "SIGUSR2 to the worker did not reach it");
    if (kill(getpid(), SIGUSR2) != 0)
        fail_errno("kill");
    SCEN_WAIT_FOR(atomic_load(&hits_main) + atomic_load(&hits_worker) == 4,
                  "kill(getpid(), SIGUSR2) was not delivered");
    atomic_store(&finish, 1);
    scen_join(w);
    if (scen_join(b) != (void *)1)
        fail("the thread that blocked SIGUSR2 no longer blocks it");
    pass();
}
