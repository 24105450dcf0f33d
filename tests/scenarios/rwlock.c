/*
 * rwlock.c — rwlocks held across the checkpoint: one read-locked by three
 * readers with a writer blocked behind them, another write-locked by a
 * worker with a reader blocked behind it.  After the check the locks are
 * still held (try-locks say EBUSY), releasing them lets the blocked threads
 * in, in the right order, and the owners' unlocks succeed.
 */
#include "scenario.h"

#define NREADERS 3

static pthread_rwlock_t rl = PTHREAD_RWLOCK_INITIALIZER; /* read-held */
static pthread_rwlock_t wl = PTHREAD_RWLOCK_INITIALIZER; /* write-held */
static atomic_int n_readers_in, release, writer_in, writer_started;
static atomic_int wl_held, wl_release, wl_reader_in, wl_reader_started;
static atomic_int unlock_errors;

static void *reader(void *arg)
{
    (void)arg;
    if (pthread_rwlock_rdlock(&rl) != 0)
        fail("rdlock");
    atomic_fetch_add(&n_readers_in, 1);
    while (!atomic_load(&release))
        scen_sleep_ms(2);
    if (atomic_load(&writer_in))
        fail("the writer got in while readers held the lock");
    if (pthread_rwlock_unlock(&rl) != 0)
        atomic_fetch_add(&unlock_errors, 1);
    return NULL;
}

static void *writer(void *arg)
{
    (void)arg;
    atomic_store(&writer_started, 1);
    if (pthread_rwlock_wrlock(&rl) != 0)
        fail("wrlock");
    atomic_store(&writer_in, 1);
    if (pthread_rwlock_unlock(&rl) != 0)
        atomic_fetch_add(&unlock_errors, 1);
    return NULL;
}

static void *wl_owner(void *arg)
{
    (void)arg;
    if (pthread_rwlock_wrlock(&wl) != 0)
        fail("wrlock");
    atomic_store(&wl_held, 1);
    while (!atomic_load(&wl_release))
        scen_sleep_ms(2);
    if (atomic_load(&wl_reader_in))
        fail("a reader got in while the writer held the lock");
    if (pthread_rwlock_unlock(&wl) != 0)
        atomic_fetch_add(&unlock_errors, 1);
    return NULL;
}

static void *wl_reader(void *arg)
{
    (void)arg;
    atomic_store(&wl_reader_started, 1);
    if (pthread_rwlock_rdlock(&wl) != 0)
        fail("rdlock");
    atomic_store(&wl_reader_in, 1);
    pthread_rwlock_unlock(&wl);
    return NULL;
}

int main(void)
{
    pthread_t r[NREADERS], w, o, rr;
    for (int i = 0; i < NREADERS; i++)
        r[i] = scen_thread(reader, NULL);
    SCEN_WAIT_FOR(atomic_load(&n_readers_in) == NREADERS, "readers did not get in");
    w = scen_thread(writer, NULL);
    o = scen_thread(wl_owner, NULL);
    SCEN_WAIT_FOR(atomic_load(&wl_held) && atomic_load(&writer_started), "threads did not start");
    rr = scen_thread(wl_reader, NULL);
    SCEN_WAIT_FOR(atomic_load(&wl_reader_started), "threads did not start");
    scen_sleep_ms(20); /* let the blocked ones block; not required */

    scen_ready();
    scen_wait_check();

    if (pthread_rwlock_trywrlock(&rl) != EBUSY)
        fail("trywrlock on the read-held rwlock did not say EBUSY");
    if (pthread_rwlock_tryrdlock(&wl) != EBUSY || pthread_rwlock_trywrlock(&wl) != EBUSY)
        fail("try-locks on the write-held rwlock did not say EBUSY");
    if (atomic_load(&writer_in) || atomic_load(&wl_reader_in))
        fail("a blocked thread got its lock before the holders released");

    atomic_store(&release, 1);
    for (int i = 0; i < NREADERS; i++)
        scen_join(r[i]);
    SCEN_WAIT_FOR(atomic_load(&writer_in), "the blocked writer never got the lock");
    scen_join(w);
    atomic_store(&wl_release, 1);
    scen_join(o);
    SCEN_WAIT_FOR(atomic_load(&wl_reader_in), "the blocked reader never got the lock");
    scen_join(rr);
    if (atomic_load(&unlock_errors))
        fail("%d owner unlocks failed after the check", atomic_load(&unlock_errors));
    if (pthread_rwlock_wrlock(&rl) != 0 || pthread_rwlock_unlock(&rl) != 0 ||
        pthread_rwlock_rdlock(&wl) != 0 || pthread_rwlock_unlock(&wl) != 0)
        fail("the rwlocks do not work from the main thread after the check");
    pass();
}
