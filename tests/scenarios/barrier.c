/*
 * barrier.c — a pthread barrier with threads waiting in it across the
 * checkpoint: after the check the last thread arrives, all pass, exactly one
 * gets PTHREAD_BARRIER_SERIAL_THREAD, and the barrier is reusable for more
 * rounds.
 */
#include "scenario.h"

#define NTHREADS 6 /* plus main */
#define ROUNDS 50

static pthread_barrier_t bar;
static atomic_int serial_count[ROUNDS + 1];
static atomic_int n_arrived;

static void wait_round(int round)
{
    int rc = pthread_barrier_wait(&bar);
    if (rc == PTHREAD_BARRIER_SERIAL_THREAD)
        atomic_fetch_add(&serial_count[round], 1);
    else if (rc != 0)
        fail("pthread_barrier_wait: %s", strerror(rc));
}

static void *worker(void *arg)
{
    (void)arg;
    atomic_fetch_add(&n_arrived, 1);
    for (int r = 0; r <= ROUNDS; r++)
        wait_round(r);
    return NULL;
}

int main(void)
{
    if (pthread_barrier_init(&bar, NULL, NTHREADS + 1) != 0)
        fail("pthread_barrier_init");
    pthread_t t[NTHREADS];
    for (int i = 0; i < NTHREADS; i++)
        t[i] = scen_thread(worker, NULL);
    SCEN_WAIT_FOR(atomic_load(&n_arrived) == NTHREADS, "threads did not start");

    scen_ready();
    scen_wait_check();

    if (atomic_load(&serial_count[0]) != 0)
        fail("the barrier opened before the last thread arrived");
    for (int r = 0; r <= ROUNDS; r++)
        wait_round(r);
    for (int i = 0; i < NTHREADS; i++)
        scen_join(t[i]);
    for (int r = 0; r <= ROUNDS; r++)
        if (atomic_load(&serial_count[r]) != 1)
            fail("round %d: %d threads got PTHREAD_BARRIER_SERIAL_THREAD, expected 1", r,
                 atomic_load(&serial_count[r]));
    if (pthread_barrier_destroy(&bar) != 0)
        fail("pthread_barrier_destroy");
    pass();
}
