/*
 * condvar.c — condition variables with waiters across the checkpoint:
 * several threads in pthread_cond_wait and one in pthread_cond_timedwait
 * (a deadline an hour away) on a shared condvar; after the check a signal
 * wakes exactly one waiter's worth of work, a broadcast wakes all of them,
 * and the condvar keeps working for a ping-pong exchange.
 */
#include "scenario.h"

#define NWAITERS 4

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int tokens;         /* each signal hands out one token */
static int open_all;       /* broadcast: everyone leaves */
static int n_waiting, n_woken;
static int ping;           /* ping-pong turn */
static pthread_cond_t turn = PTHREAD_COND_INITIALIZER;

static void *waiter(void *arg)
{
    int timed = arg != NULL;
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 3600;
    pthread_mutex_lock(&lock);
    n_waiting++;
    while (tokens == 0 && !open_all) {
        int rc = timed ? pthread_cond_timedwait(&cond, &lock, &deadline)
                       : pthread_cond_wait(&cond, &lock);
        if (rc != 0)
            fail("pthread_cond_%swait: %s", timed ? "timed" : "", strerror(rc));
    }
    if (tokens > 0)
        tokens--;
    n_woken++;
    pthread_mutex_unlock(&lock);
    return NULL;
}

static void *ponger(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < 100; i++) {
        while (ping % 2 == 0)
            pthread_cond_wait(&turn, &lock);
        ping++;
        pthread_cond_signal(&turn);
    }
    pthread_mutex_unlock(&lock);
    return NULL;
}

static int locked_get(int *v)
{
    pthread_mutex_lock(&lock);
    int x = *v;
    pthread_mutex_unlock(&lock);
    return x;
}

int main(void)
{
    pthread_t t[NWAITERS + 1];
    for (int i = 0; i <= NWAITERS; i++)
        t[i] = scen_thread(waiter, i == NWAITERS ? (void *)1 : NULL);
    SCEN_WAIT_FOR(locked_get(&n_waiting) == NWAITERS + 1, "waiters did not start");
    pthread_t p = scen_thread(ponger, NULL); /* waits on `turn` */

    scen_ready();
    scen_wait_check();

    if (locked_get(&n_woken) != 0)
        fail("%d waiters left pthread_cond_wait without a signal", n_woken);
    pthread_mutex_lock(&lock);
    tokens = 1;
    pthread_cond_signal(&cond);
    pthread_mutex_unlock(&lock);
    SCEN_WAIT_FOR(locked_get(&n_woken) == 1, "pthread_cond_signal after the check woke nobody");
    pthread_mutex_lock(&lock);
    open_all = 1;
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&lock);
    SCEN_WAIT_FOR(locked_get(&n_woken) == NWAITERS + 1,
                  "pthread_cond_broadcast woke only %d of %d waiters", n_woken, NWAITERS + 1);
    for (int i = 0; i <= NWAITERS; i++)
        scen_join(t[i]);

    pthread_mutex_lock(&lock);
    for (int i = 0; i < 100; i++) {
        while (ping % 2 == 1)
            pthread_cond_wait(&turn, &lock);
        ping++;
        pthread_cond_signal(&turn);
    }
    pthread_mutex_unlock(&lock);
    scen_join(p);
    if (ping != 200)
        fail("ping-pong ended at %d, expected 200", ping);
    pass();
}
