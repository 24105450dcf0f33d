/*
 * tls-threads.c — every thread's TLS survives: initialised and zeroed
 * __thread variables, a 64 KiB __thread array with a per-thread pattern,
 * errno (itself thread-local) and the pthread_self() each thread saw,
 * in the main thread and eight workers.
 */
#include "scenario.h"

#define NWORKERS 8

static __thread long tls_init = 12345;
static __thread long tls_zero;
static __thread char tls_big[64 * 1024];
static __thread pthread_t tls_self;

static atomic_int n_ready;
static atomic_int checked;

/* Sets this thread's TLS from its index. */
static void tls_setup(int idx)
{
    tls_init += idx;
    tls_zero = 1000 + idx;
    scen_fill(tls_big, sizeof(tls_big), 70 + (uint64_t)idx);
    tls_self = pthread_self();
    errno = 100 + idx;
}

static void tls_verify(int idx)
{
    int e = errno; /* first: anything below may change it */
    if (e != 100 + idx)
        fail("thread %d: errno is %d, expected %d", idx, e, 100 + idx);
    if (tls_init != 12345 + idx)
        fail("thread %d: initialised __thread variable is %ld, expected %d", idx, tls_init,
             12345 + idx);
    if (tls_zero != 1000 + idx)
        fail("thread %d: zero-initialised __thread variable is %ld", idx, tls_zero);
    if (!pthread_equal(tls_self, pthread_self()))
        fail("thread %d: pthread_self() changed", idx);
    char what[64];
    snprintf(what, sizeof(what), "thread %d's 64 KiB __thread array", idx);
    scen_expect_pattern(what, tls_big, sizeof(tls_big), 70 + (uint64_t)idx);
}

static void *worker(void *arg)
{
    int idx = (int)(intptr_t)arg;
    tls_setup(idx);
    atomic_fetch_add(&n_ready, 1);
    while (!atomic_load(&checked)) {
        struct timespec req = { 0, 2000000L }, rem;
        while (nanosleep(&req, &rem) != 0)
            req = rem;
    }
    errno = 100 + idx; /* nanosleep may have set it to EINTR */
    tls_verify(idx);
    return (void *)&tls_big; /* the address of this thread's copy */
}

int main(void)
{
    pthread_t t[NWORKERS];
    for (int i = 0; i < NWORKERS; i++)
        t[i] = scen_thread(worker, (void *)(intptr_t)(i + 1));
    tls_setup(0);
    while (atomic_load(&n_ready) < NWORKERS)
        scen_sleep_ms(1);

    errno = 100;
    scen_ready();
    scen_wait_check();
    errno = 100;

    tls_verify(0);
    atomic_store(&checked, 1);
    void *addr[NWORKERS];
    for (int i = 0; i < NWORKERS; i++) {
        addr[i] = scen_join(t[i]);
        if (addr[i] == (void *)&tls_big)
            fail("worker %d's __thread array has the main thread's address", i + 1);
        for (int j = 0; j < i; j++)
            if (addr[j] == addr[i])
                fail("workers %d and %d share a __thread array", j + 1, i + 1);
    }
    pthread_t late = scen_thread(worker, (void *)(intptr_t)99); /* new thread, fresh TLS */
    scen_join(late);
    pass();
}
