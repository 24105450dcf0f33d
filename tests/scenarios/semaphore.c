/*
 * semaphore.c — unnamed semaphores across the checkpoint: one keeps its
 * count (5), another at zero has threads blocked in sem_wait and one in
 * sem_timedwait.  sem_wait may return EINTR (it is never restarted); the
 * waiters retry as robust programs do.  After the check the count is still
 * 5, sem_trywait on the empty one says EAGAIN, and each sem_post wakes one
 * waiter.
 */
#include "scenario.h"

#include <semaphore.h>

#define NWAITERS 3

static sem_t counted, empty;
static atomic_int n_started, n_woken;

static void *waiter(void *arg)
{
    int timed = arg != NULL;
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 3600;
    atomic_fetch_add(&n_started, 1);
    for (;;) {
        int rc = timed ? sem_timedwait(&empty, &deadline) : sem_wait(&empty);
        if (rc == 0)
            break;
        if (errno != EINTR)
            fail_errno("sem_%swait", timed ? "timed" : "");
    }
    atomic_fetch_add(&n_woken, 1);
    return NULL;
}

int main(void)
{
    if (sem_init(&counted, 0, 5) != 0 || sem_init(&empty, 0, 0) != 0)
        fail_errno("sem_init");
    pthread_t t[NWAITERS + 1];
    for (int i = 0; i <= NWAITERS; i++)
        t[i] = scen_thread(waiter, i == NWAITERS ? (void *)1 : NULL);
    SCEN_WAIT_FOR(atomic_load(&n_started) == NWAITERS + 1, "waiters did not start");

    scen_ready();
    scen_wait_check();

    int v;
    if (sem_getvalue(&counted, &v) != 0 || v != 5)
        fail("the counting semaphore holds %d, expected 5", v);
    if (sem_trywait(&empty) == 0 || errno != EAGAIN)
        fail("sem_trywait on the empty semaphore did not say EAGAIN");
    if (atomic_load(&n_woken) != 0)
        fail("a waiter passed an empty semaphore");
    for (int i = 1; i <= NWAITERS + 1; i++) {
        if (sem_post(&empty) != 0)
            fail_errno("sem_post");
        SCEN_WAIT_FOR(atomic_load(&n_woken) == i, "sem_post #%d woke no waiter", i);
    }
    for (int i = 0; i <= NWAITERS; i++)
        scen_join(t[i]);
    for (int i = 0; i < 5; i++)
        if (sem_trywait(&counted) != 0)
            fail("sem_trywait #%d on the counting semaphore failed", i + 1);
    if (sem_trywait(&counted) == 0)
        fail("the counting semaphore gave a sixth unit");
    if (sem_getvalue(&empty, &v) != 0 || v != 0)
        fail("the empty semaphore ended at %d", v);
    pass();
}
