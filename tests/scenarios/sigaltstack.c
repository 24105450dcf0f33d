/*
 * sigaltstack.c — alternate signal stacks survive, per thread: the main
 * thread and a worker each have their own sigaltstack; after the check
 * sigaltstack() reports the same stacks, and a SA_ONSTACK handler runs on
 * the right one in each thread.
 */
#include "scenario.h"

#define ALT_SIZE (64 * 1024)

static char main_alt[ALT_SIZE], worker_alt[ALT_SIZE];
static __thread volatile uintptr_t handler_sp;
static atomic_int worker_ready, worker_go, worker_done;

static void on_usr1(int sig)
{
    volatile char here;
    (void)sig;
    handler_sp = (uintptr_t)&here;
}

static void setup_alt(char *mem)
{
    stack_t ss = { .ss_sp = mem, .ss_size = ALT_SIZE, .ss_flags = 0 };
    if (sigaltstack(&ss, NULL) != 0)
        fail_errno("sigaltstack");
}

/* Checks sigaltstack() and that the handler runs inside mem. */
static void check_alt(const char *who, char *mem)
{
    stack_t cur;
    if (sigaltstack(NULL, &cur) != 0)
        fail_errno("%s: sigaltstack query", who);
    if (cur.ss_sp != mem || cur.ss_size != ALT_SIZE || (cur.ss_flags & SS_DISABLE))
        fail("%s: sigaltstack is %p+%zu flags %d, expected %p+%d", who, cur.ss_sp, cur.ss_size,
             cur.ss_flags, (void *)mem, ALT_SIZE);
    handler_sp = 0;
    if (pthread_kill(pthread_self(), SIGUSR1) != 0)
        fail("%s: pthread_kill", who);
    if (handler_sp < (uintptr_t)mem || handler_sp >= (uintptr_t)mem + ALT_SIZE)
        fail("%s: the SA_ONSTACK handler ran at %p, outside the alternate stack %p", who,
             (void *)handler_sp, (void *)mem);
}

static void *worker(void *arg)
{
    (void)arg;
    setup_alt(worker_alt);
    check_alt("worker before", worker_alt);
    atomic_store(&worker_ready, 1);
    while (!atomic_load(&worker_go))
        scen_sleep_ms(2);
    check_alt("worker", worker_alt);
    atomic_store(&worker_done, 1);
    return NULL;
}

int main(void)
{
    struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_ONSTACK };
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGUSR1, &sa, NULL) != 0)
        fail_errno("sigaction");
    setup_alt(main_alt);
    check_alt("main before", main_alt);
    pthread_t t = scen_thread(worker, NULL);
    SCEN_WAIT_FOR(atomic_load(&worker_ready), "the worker did not start");

    scen_ready();
    scen_wait_check();

    check_alt("main thread", main_alt);
    atomic_store(&worker_go, 1);
    scen_join(t);
    if (!atomic_load(&worker_done))
        fail("the worker did not finish its check");
    pass();
}
