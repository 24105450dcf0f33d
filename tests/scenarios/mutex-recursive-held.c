/*
 * mutex-recursive-held.c — a recursive mutex locked three times by a worker
 * across the checkpoint, with another thread blocked on it.  After the
 * check the owner can lock it a fourth time (trylock succeeds only for the
 * owner), unlock it four times without EPERM, and the waiter then gets it;
 * until the last unlock, other threads see EBUSY.
 */
#include "scenario.h"

static pthread_mutex_t m;
static atomic_int held, release, released, waiting, acquired;
static atomic_int owner_trylock_rc = -1, unlock_rc[4] = { -1, -1, -1, -1 };
static atomic_int busy_before_last = -1;

static void *holder(void *arg)
{
    (void)arg;
    for (int i = 0; i < 3; i++)
        if (pthread_mutex_lock(&m) != 0)
            fail("holder could not lock");
    atomic_store(&held, 1);
    while (!atomic_load(&release))
        scen_sleep_ms(2);
    atomic_store(&owner_trylock_rc, pthread_mutex_trylock(&m)); /* the owner: succeeds */
    for (int i = 0; i < 4; i++) {
        if (i == 3) /* one level left: still held */
            atomic_store(&busy_before_last, !atomic_load(&acquired));
        atomic_store(&unlock_rc[i], pthread_mutex_unlock(&m));
    }
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
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&m, &a);

    pthread_t h = scen_thread(holder, NULL);
    SCEN_WAIT_FOR(atomic_load(&held), "the holder did not take the mutex");
    pthread_t w = scen_thread(waiter, NULL);
    SCEN_WAIT_FOR(atomic_load(&waiting), "the waiter did not start");
    scen_sleep_ms(20); /* let it block in the kernel; not required */

    scen_ready();
    scen_wait_check();

    int rc = pthread_mutex_trylock(&m);
    if (rc != EBUSY)
        fail("trylock by the main thread returned %s, expected EBUSY", strerror(rc));
    if ((rc = pthread_mutex_unlock(&m)) != EPERM)
        fail("unlock by a non-owner returned %s, expected EPERM", strerror(rc));
    atomic_store(&release, 1);
    SCEN_WAIT_FOR(atomic_load(&released), "the holder did not unlock");
    if (owner_trylock_rc != 0)
        fail("the owner's trylock after the check returned %s (ownership lost)",
             strerror(owner_trylock_rc));
    for (int i = 0; i < 4; i++)
        if (unlock_rc[i] != 0)
            fail("the owner's unlock #%d after the check returned %s", i + 1, strerror(unlock_rc[i]));
    if (busy_before_last != 1)
        fail("the waiter got the mutex before the owner's last unlock");
    SCEN_WAIT_FOR(atomic_load(&acquired), "the blocked waiter never got the mutex");
    scen_join(h);
    scen_join(w);
    if ((rc = pthread_mutex_lock(&m)) != 0 || (rc = pthread_mutex_lock(&m)) != 0 ||
        (rc = pthread_mutex_unlock(&m)) != 0 || (rc = pthread_mutex_unlock(&m)) != 0)
        fail("main recursive lock/unlock after the check: %s", strerror(rc));
    pass();
}
