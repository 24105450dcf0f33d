/*
 * pthread-tid-calls.c — glibc calls that pass a thread's cached tid to the
 * kernel work after a restart: pthread_getattr_np (self and another
 * thread), pthread_{set,get}affinity_np, sched_getaffinity(gettid()),
 * pthread_{set,get}schedparam, pthread_getcpuclockid + clock_gettime,
 * pthread_sigqueue to a thread with a handler, and pthread_cancel of a
 * thread blocked in read() (its cleanup handler runs, pthread_join gives
 * PTHREAD_CANCELED).  Each check names the call and its error.
 */
#include "scenario.h"

#include <sched.h>
#include <sys/syscall.h>

static int block_pipe[2];
static atomic_int cleaned, queued_value, sleeper_tid, reader_tid;
static atomic_int stop_sleeper;

static void cleanup(void *arg)
{
    (void)arg;
    atomic_store(&cleaned, 1);
}

static void *reader(void *arg)
{
    (void)arg;
    atomic_store(&reader_tid, (int)syscall(SYS_gettid));
    pthread_cleanup_push(cleanup, NULL);
    char c;
    for (;;)
        if (read(block_pipe[0], &c, 1) < 0 && errno != EINTR)
            break;
    pthread_cleanup_pop(0);
    return NULL;
}

static void on_usr1(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    atomic_store(&queued_value, si->si_value.sival_int);
}

static void *sleeper(void *arg)
{
    (void)arg;
    atomic_store(&sleeper_tid, (int)syscall(SYS_gettid));
    while (!atomic_load(&stop_sleeper))
        scen_sleep_ms(2);
    return NULL;
}

int main(void)
{
    if (pipe(block_pipe) < 0)
        fail_errno("pipe");
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_usr1;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);
    pthread_t rd = scen_thread(reader, NULL), sl = scen_thread(sleeper, NULL);
    SCEN_WAIT_FOR(atomic_load(&reader_tid) && atomic_load(&sleeper_tid), "the threads did not start");
    scen_wait_in_syscall(atomic_load(&reader_tid), SYS_read, "read (the thread to cancel)");
    scen_ready();
    scen_wait_check();

    pthread_attr_t at;
    int rc = pthread_getattr_np(pthread_self(), &at);
    SCEN_CHECK(rc == 0, "pthread_getattr_np(self): %s", strerror(rc));
    void *stack;
    size_t size;
    SCEN_CHECK(pthread_attr_getstack(&at, &stack, &size) == 0 && size > 0, "main thread's stack size is 0");
    pthread_attr_destroy(&at);
    rc = pthread_getattr_np(sl, &at);
    SCEN_CHECK(rc == 0, "pthread_getattr_np(other thread): %s", strerror(rc));
    pthread_attr_destroy(&at);

    cpu_set_t set, got;
    rc = pthread_getaffinity_np(sl, sizeof set, &set);
    SCEN_CHECK(rc == 0 && CPU_COUNT(&set) > 0, "pthread_getaffinity_np: %s", strerror(rc));
    rc = pthread_setaffinity_np(sl, sizeof set, &set);
    SCEN_CHECK(rc == 0, "pthread_setaffinity_np: %s", strerror(rc));
    SCEN_CHECK(sched_getaffinity((pid_t)syscall(SYS_gettid), sizeof got, &got) == 0 && CPU_COUNT(&got) > 0,
               "sched_getaffinity(gettid()): %s", strerror(errno));

    struct sched_param sp = {.sched_priority = 0};
    rc = pthread_setschedparam(sl, SCHED_OTHER, &sp);
    SCEN_CHECK(rc == 0, "pthread_setschedparam: %s", strerror(rc));
    int policy = -1;
    rc = pthread_getschedparam(sl, &policy, &sp);
    SCEN_CHECK(rc == 0 && policy == SCHED_OTHER, "pthread_getschedparam: %s (policy %d)", strerror(rc), policy);

    clockid_t clk;
    struct timespec ts;
    rc = pthread_getcpuclockid(sl, &clk);
    SCEN_CHECK(rc == 0, "pthread_getcpuclockid: %s", strerror(rc));
    SCEN_CHECK(clock_gettime(clk, &ts) == 0, "clock_gettime(the thread's CPU clock): %s", strerror(errno));

    rc = pthread_sigqueue(sl, SIGUSR1, (union sigval){.sival_int = 4242});
    SCEN_CHECK(rc == 0, "pthread_sigqueue: %s", strerror(rc));
    SCEN_WAIT_FOR(atomic_load(&queued_value) == 4242, "the value queued with pthread_sigqueue never arrived");

    rc = pthread_cancel(rd);
    SCEN_CHECK(rc == 0, "pthread_cancel of the thread blocked in read(): %s", strerror(rc));
    void *ret = NULL;
    rc = pthread_join(rd, &ret);
    SCEN_CHECK(rc == 0 && ret == PTHREAD_CANCELED, "pthread_join of the cancelled thread: %s, %s", strerror(rc),
               ret == PTHREAD_CANCELED ? "cancelled" : "not cancelled");
    SCEN_CHECK(atomic_load(&cleaned), "the cancelled thread's cleanup handler did not run");
    atomic_store(&stop_sleeper, 1);
    pthread_join(sl, NULL);
    pass();
}
