/*
 * mutex-errorcheck-held.c — an error-checking mutex held by a worker across
 * the checkpoint, with another thread blocked on it.  After the check the
 * mutex still belongs to the worker: the main thread can neither take it
 * (EBUSY) nor unlock it (EPERM), the worker relocking it gets EDEADLK, and
 * the worker's unlock succeeds (no EPERM) and hands it to the waiter.
 */
#include "scenario.h"

static pthread_mutex_t m;
static atomic_int held, release, released, waiting, acquired;
static atomic_int unlock_rc = -1, relock_rc = -1;

static void *holder(void *arg)
{
    (void)arg;
    if (pthread_mutex_lock(&m) != 0)
        fail("holder could not lock");
    atomic_store(&held, 1);
    while (!atomic_load(&release))
        scen_sleep_ms(2);
    atomic_store(&relock_rc, pthread_mutex_lock(&m)); /* must say EDEADLK */
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
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
    pthread_mutex_init(&m, &a);

    pthread_t h = scen_thread(holder, NULL);
    SCEN_WAIT_FOR(atomic_load(&held), "the holder did not take the mutex");
    pthread_t w = scen_thread(waiter, NULL);
    SCEN_WAIT_FOR(atomic_load(&waiting), "the waiter did not start");
    scen_sleep_ms(20); /* let it block in the kernel; not required */
    if (pthread_mutex_unlock(&m) != EPERM)
        fail("before the checkpoint: a non-owner could unlock");

    scen_ready();
    scen_wait_check();

    int rc = pthread_mutex_trylock(&m);
    if (rc != EBUSY)
        fail("trylock by the main thread returned %s, expected EBUSY (mutex still held)", strerror(rc));
    rc = pthread_mutex_unlock(&m);
    if (rc != EPERM)
        fail("unlock by the main thread (not the owner) returned %s, expected EPERM", strerror(rc));
    if (atomic_load(&acquired))
        fail("the waiter took the mutex while the holder still held it");
    atomic_store(&release, 1);
    SCEN_WAIT_FOR(atomic_load(&released), "the holder did not unlock");
    if (relock_rc != EDEADLK)
        fail("the owner relocking returned %s, expected EDEADLK (ownership lost)", strerror(relock_rc));
    if (unlock_rc != 0)
        fail("the owner's unlock after the check returned %s", strerror(unlock_rc));
    SCEN_WAIT_FOR(atomic_load(&acquired), "the blocked waiter never got the mutex");
    scen_join(h);
    scen_join(w);
    if ((rc = pthread_mutex_lock(&m)) != 0 || (rc = pthread_mutex_unlock(&m)) != 0)
        fail("main lock/unlock after the check: %s", strerror(rc));
    pass();
}
