/*
 * pthread-keys.c — thread-specific data survives: several pthread keys with
 * destructors hold per-thread values in the main thread and four workers.
 * After the check each thread still reads its own values, a new key can be
 * created, and thread exit runs the destructors with the right values.
 */
#include "scenario.h"

#define NKEYS 6
#define NWORKERS 4

static pthread_key_t keys[NKEYS];
static atomic_int destructor_calls;
static atomic_int destructor_bad;
static atomic_int n_set;
static atomic_int checked;

static void destructor(void *v)
{
    uintptr_t x = (uintptr_t)v;
    if ((x & 0xffff0000u) != 0x5ce00000u)
        atomic_fetch_add(&destructor_bad, 1);
    atomic_fetch_add(&destructor_calls, 1);
}

static void *value_for(int thread, int key)
{
    return (void *)(uintptr_t)(0x5ce00000u | (unsigned)(thread << 8) | (unsigned)key);
}

static void set_values(int thread)
{
    for (int k = 0; k < NKEYS; k++)
        if (pthread_setspecific(keys[k], value_for(thread, k)) != 0)
            fail("pthread_setspecific");
}

static void check_values(int thread)
{
    for (int k = 0; k < NKEYS; k++)
        if (pthread_getspecific(keys[k]) != value_for(thread, k))
            fail("thread %d: key %d holds %p, expected %p", thread, k, pthread_getspecific(keys[k]),
                 value_for(thread, k));
}

static void *worker(void *arg)
{
    int idx = (int)(intptr_t)arg;
    set_values(idx);
    atomic_fetch_add(&n_set, 1);
    while (!atomic_load(&checked))
        scen_sleep_ms(2);
    check_values(idx);
    return NULL;
}

int main(void)
{
    pthread_key_t unused_keys[3];
    for (int k = 0; k < 3; k++) /* shift the key numbers, and free some */
        pthread_key_create(&unused_keys[k], NULL);
    pthread_key_delete(unused_keys[1]);
    for (int k = 0; k < NKEYS; k++)
        if (pthread_key_create(&keys[k], destructor) != 0)
            fail("pthread_key_create");
    pthread_t t[NWORKERS];
    for (int i = 0; i < NWORKERS; i++)
        t[i] = scen_thread(worker, (void *)(intptr_t)(i + 1));
    set_values(0);
    SCEN_WAIT_FOR(atomic_load(&n_set) == NWORKERS, "workers did not start");

    scen_ready();
    scen_wait_check();

    check_values(0);
    atomic_store(&checked, 1);
    for (int i = 0; i < NWORKERS; i++)
        scen_join(t[i]);
    if (atomic_load(&destructor_calls) != NWORKERS * NKEYS)
        fail("%d destructor calls at thread exit, expected %d", atomic_load(&destructor_calls),
             NWORKERS * NKEYS);
    if (atomic_load(&destructor_bad))
        fail("destructors received wrong values");
    pthread_key_t fresh;
    if (pthread_key_create(&fresh, NULL) != 0 || pthread_setspecific(fresh, (void *)7) != 0 ||
        pthread_getspecific(fresh) != (void *)7)
        fail("a key created after the check does not work");
    for (int k = 0; k < NKEYS; k++)
        if (fresh == keys[k])
            fail("a new key reuses live key %d", k);
    pass();
}
