/*
 * threads-join-detached.c — joinable and detached threads across the
 * checkpoint: a joinable thread that had already exited, joinable threads
 * still running (pthread_join after the check must return when they end,
 * with their values), a running thread that is not yet finished
 * (pthread_tryjoin_np says EBUSY), and a detached thread that keeps running
 * and finishes after the check.
 */
#include "scenario.h"

static atomic_int go;         /* 1: running threads may finish */
static atomic_int detached_state; /* 1 started, 2 saw go, 3 exiting */
static atomic_int n_running;

static atomic_int early_tid;

static void *exits_early(void *arg)
{
    atomic_store(&early_tid, gettid());
    return arg;
}

static void *runs_until_go(void *arg)
{
    atomic_fetch_add(&n_running, 1);
    while (!atomic_load(&go))
        scen_sleep_ms(3);
    return arg;
}

static void *detached(void *arg)
{
    (void)arg;
    atomic_store(&detached_state, 1);
    while (!atomic_load(&go))
        scen_sleep_ms(3);
    atomic_store(&detached_state, 2);
    scen_sleep_ms(10);
    atomic_store(&detached_state, 3);
    return NULL;
}

int main(void)
{
    pthread_t early = scen_thread(exits_early, (void *)0x1111);
    pthread_t running[4];
    for (int i = 0; i < 4; i++)
        running[i] = scen_thread(runs_until_go, (void *)(intptr_t)(0x2000 + i));
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t det;
    int rc = pthread_create(&det, &attr, detached, NULL);
    if (rc != 0)
        fail("pthread_create detached: %s", strerror(rc));
    SCEN_WAIT_FOR(atomic_load(&n_running) == 4 && atomic_load(&detached_state) == 1,
                  "threads did not start");
    /* wait until the early thread has really exited, without joining it */
    char task[64];
    SCEN_WAIT_FOR(atomic_load(&early_tid) != 0, "the early thread did not run");
    snprintf(task, sizeof(task), "/proc/self/task/%d", atomic_load(&early_tid));
    SCEN_WAIT_FOR(access(task, F_OK) != 0, "the early thread did not exit");

    scen_ready();
    scen_wait_check();

    void *early_ret = scen_join(early);
    if (early_ret != (void *)0x1111)
        fail("the thread that exited before the checkpoint returned %p to pthread_join", early_ret);
    rc = pthread_tryjoin_np(running[0], NULL);
    if (rc != EBUSY)
        fail("pthread_tryjoin_np on a running thread returned %s, expected EBUSY", strerror(rc));
    atomic_store(&go, 1);
    for (int i = 0; i < 4; i++) {
        void *ret = scen_join(running[i]);
        if ((intptr_t)ret != 0x2000 + i)
            fail("running thread %d returned %p", i, ret);
    }
    SCEN_WAIT_FOR(atomic_load(&detached_state) == 3, "the detached thread did not finish after the check");
    int drc = pthread_detach(scen_thread(exits_early, NULL));
    if (drc != 0)
        fail("pthread_detach after the check: %s", strerror(drc));
    pass();
}
