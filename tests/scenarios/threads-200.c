/*
 * threads-200.c — 200 threads (main + 199 workers) survive: each worker
 * keeps a stack buffer with its own pattern and a counter it bumps between
 * short sleeps.  After the check every worker must still be alive and
 * progressing, find its stack intact, and return its index to pthread_join.
 */
#include "scenario.h"

#define NWORKERS 199

static atomic_long progress[NWORKERS];
static atomic_int n_started;
static atomic_int checked;

static void *worker(void *arg)
{
    int idx = (int)(intptr_t)arg;
    char stackbuf[8192];
    scen_fill(stackbuf, sizeof(stackbuf), 200 + (uint64_t)idx);
    atomic_fetch_add(&n_started, 1);
    while (atomic_load(&checked) < 2) {
        struct timespec req = { 0, 10000000L }, rem;
        while (nanosleep(&req, &rem) != 0)
            req = rem;
        atomic_fetch_add(&progress[idx], 1);
    }
    if (scen_compare(stackbuf, sizeof(stackbuf), 200 + (uint64_t)idx) >= 0)
        fail("thread %d: its stack buffer changed", idx);
    return (void *)(intptr_t)idx;
}

int main(void)
{
    static pthread_t t[NWORKERS];
    for (int i = 0; i < NWORKERS; i++)
        t[i] = scen_thread(worker, (void *)(intptr_t)i);
    SCEN_WAIT_FOR(atomic_load(&n_started) == NWORKERS, "only %d of %d threads started",
                  atomic_load(&n_started), NWORKERS);
    char mainbuf[8192];
    scen_fill(mainbuf, sizeof(mainbuf), 199);

    scen_ready();
    scen_wait_check();

    scen_expect_pattern("main thread's stack buffer", mainbuf, sizeof(mainbuf), 199);
    long seen[NWORKERS];
    for (int i = 0; i < NWORKERS; i++)
        seen[i] = atomic_load(&progress[i]);
    for (int i = 0; i < NWORKERS; i++)
        SCEN_WAIT_FOR(atomic_load(&progress[i]) > seen[i] + 1,
                      "thread %d made no progress after the check", i);
    atomic_store(&checked, 2);
    for (int i = 0; i < NWORKERS; i++) {
        void *ret = scen_join(t[i]);
        if ((intptr_t)ret != i)
            fail("thread %d returned %ld", i, (long)(intptr_t)ret);
    }
    pass();
}
