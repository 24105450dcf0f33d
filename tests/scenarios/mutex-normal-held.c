/*
 * mutex-normal-held.c — a normal (default) mutex held by a worker across
 * the checkpoint, with another thread blocked on it.  After the check it is
 * still taken (trylock says EBUSY), the worker unlocks it, and the blocked
 * thread then gets it; a static PTHREAD_MUTEX_INITIALIZER mutex left locked
 * by the main thread likewise stays locked until main unlocks it.
 */
#include "scenario.h"

static pthread_mutex_t m;
static pthread_mutex_t stat_m = PTHREAD_MUTEX_INITIALIZER;
static atomic_int held, release, released, waiting, acquired;
static atomic_int unlock_rc = -1;

static void *holder(void *arg)
{
    (void)arg;
    if (pthread_mutex_lock(&m) != 0)
        fail("holder could not lock");
    atomic_store(&held, 1);
    while (!atomic_load(&release))
        scen_sleep_ms(2);
    atomic_store(&unlock_rc, pthread_mutex_unlock(&m));
    atomic_store(&released, 1);
    return NULL;
}

static void *waiter(void *arg)
{
    (void)arg;
    atomic_store(&waiting, 1);
    int rc = pthread_mutex_lock(&m);
    if (rc != 0)
        fail("waiter: pthread_mutex_lock: %s", strerror(rc));
    atomic_store(&acquired, 1);
    pthread_mutex_unlock(&m);
    return NULL;
}

int main(void)
{
    pthread_mutex_init(&m, NULL);
    pthread_mutex_lock(&stat_m);
    pthread_t h = scen_thread(holder, NULL);
    SCEN_WAIT_FOR(atomic_load(&held), "the holder did not take the mutex");
    pthread_t w = scen_thread(waiter, NULL);
    SCEN_WAIT_FOR(atomic_load(&waiting), "the waiter did not start");
    scen_sleep_ms(20); /* let it block in the kernel; not required */

    scen_ready();
    scen_wait_check();

    int rc = pthread_mutex_trylock(&m);
    if (rc != EBUSY)
        fail("trylock returned %s, expected EBUSY (mutex still held by the worker)", strerror(rc));
    if (pthread_mutex_trylock(&stat_m) != EBUSY)
        fail("the static mutex the main thread held is no longer locked");
    if (atomic_load(&acquired))
        fail("the waiter took the mutex while the holder still held it");
    atomic_store(&release, 1);
    SCEN_WAIT_FOR(atomic_load(&released), "the holder did not unlock");
    if (unlock_rc != 0)
        fail("the owner's unlock after the check returned %s", strerror(unlock_rc));
    SCEN_WAIT_FOR(atomic_load(&acquired), "the blocked waiter never got the mutex");
    scen_join(h);
    scen_join(w);
    if ((rc = pthread_mutex_unlock(&stat_m)) != 0 || (rc = pthread_mutex_trylock(&stat_m)) != 0)
        fail("the static mutex: unlock/trylock after the check: %s", strerror(rc));
    pthread_mutex_unlock(&stat_m);
    if ((rc = pthread_mutex_lock(&m)) != 0 || (rc = pthread_mutex_unlock(&m)) != 0)
        fail("main lock/unlock after the check: %s", strerror(rc));
    pass();
}
