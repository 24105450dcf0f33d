/*
 * identity-pids.c — the process and its threads keep their identity:
 * getpid(), gettid() and pthread_self() give the same values after the check
 * in every thread, and kill(getpid()), tgkill(getpid(), tid) and
 * pthread_kill() with the saved ids deliver to this process and to the right
 * thread.
 */
#include "scenario.h"

#define NWORKERS 3

static pid_t pid0;
static pid_t tids[NWORKERS + 1];
static pthread_t selves[NWORKERS + 1];
static atomic_int n_ready, checked, n_verified;
static volatile sig_atomic_t got_in[NWORKERS + 1];
static atomic_int got_process;

static int my_index(void)
{
    pid_t me = gettid();
    for (int i = 0; i <= NWORKERS; i++)
        if (tids[i] == me)
            return i;
    return -1;
}

static void on_usr1(int sig, siginfo_t *si, void *ctx)
{
    (void)sig;
    (void)ctx;
    int i = my_index();
    if (i >= 0 && si->si_signo == SIGUSR1)
        got_in[i]++;
}

static void on_usr1_process(int sig)
{
    (void)sig;
    atomic_fetch_add(&got_process, 1);
}

static void verify_self(int i)
{
    if (getpid() != pid0)
        fail("thread %d: getpid() is %d, was %d", i, getpid(), pid0);
    if (gettid() != tids[i])
        fail("thread %d: gettid() is %d, was %d", i, gettid(), tids[i]);
    if (!pthread_equal(pthread_self(), selves[i]))
        fail("thread %d: pthread_self() changed", i);
}

static void *worker(void *arg)
{
    int i = (int)(intptr_t)arg;
    tids[i] = gettid();
    selves[i] = pthread_self();
    atomic_fetch_add(&n_ready, 1);
    while (!atomic_load(&checked))
        scen_sleep_ms(1);
    verify_self(i);
    atomic_fetch_add(&n_verified, 1);
    while (atomic_load(&checked) < 2) /* stay alive to receive signals */
        scen_sleep_ms(1);
    return NULL;
}

static void set_handler(void (*h)(int, siginfo_t *, void *), void (*plain)(int))
{
    struct sigaction sa = { 0 };
    sigemptyset(&sa.sa_mask);
    if (h) {
        sa.sa_sigaction = h;
        sa.sa_flags = SA_SIGINFO | SA_RESTART;
    } else {
        sa.sa_handler = plain;
        sa.sa_flags = SA_RESTART;
    }
    if (sigaction(SIGUSR1, &sa, NULL) != 0)
        fail_errno("sigaction");
}

int main(void)
{
    pid0 = getpid();
    tids[0] = gettid();
    selves[0] = pthread_self();
    if (tids[0] != pid0)
        fail("main thread's tid %d is not the pid %d", tids[0], pid0);
    pthread_t t[NWORKERS + 1];
    for (int i = 1; i <= NWORKERS; i++)
        t[i] = scen_thread(worker, (void *)(intptr_t)i);
    SCEN_WAIT_FOR(atomic_load(&n_ready) == NWORKERS, "workers did not start");

    scen_ready();
    scen_wait_check();

    verify_self(0);
    atomic_store(&checked, 1);
    SCEN_WAIT_FOR(atomic_load(&n_verified) == NWORKERS, "workers did not verify themselves");

    set_handler(on_usr1, NULL);
    for (int i = 1; i <= NWORKERS; i++) {
        int before = got_in[i];
        if (tgkill(pid0, tids[i], SIGUSR1) != 0)
            fail_errno("tgkill(%d, %d)", pid0, tids[i]);
        SCEN_WAIT_FOR(got_in[i] > before, "tgkill to thread %d (tid %d) did not reach it", i, tids[i]);
        before = got_in[i];
        int rc = pthread_kill(t[i], SIGUSR1);
        if (rc != 0)
            fail("pthread_kill to thread %d: %s", i, strerror(rc));
        SCEN_WAIT_FOR(got_in[i] > before, "pthread_kill to thread %d did not reach it", i);
    }
    int before = got_in[0];
    if (tgkill(pid0, tids[0], SIGUSR1) != 0)
        fail_errno("tgkill to the main thread");
    SCEN_WAIT_FOR(got_in[0] > before, "tgkill to the main thread did not reach it");

    set_handler(NULL, on_usr1_process);
    if (kill(pid0, SIGUSR1) != 0)
        fail_errno("kill(getpid(), SIGUSR1)");
    SCEN_WAIT_FOR(atomic_load(&got_process) == 1, "kill(getpid(), SIGUSR1) was not delivered");
    atomic_store(&checked, 2);
    for (int i = 1; i <= NWORKERS; i++)
        scen_join(t[i]);
    pass();
}
