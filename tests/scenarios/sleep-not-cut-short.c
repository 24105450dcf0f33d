/*
 * sleep-not-cut-short.c — a checkpoint does not end a sleep early.
 *
 * Two threads sleep in a loop while the checkpoint is taken: one with a
 * relative nanosleep() that passes a remaining-time buffer, one with an
 * absolute clock_nanosleep(TIMER_ABSTIME).  Neither may ever see EINTR: the
 * engine resumes an interrupted sleep for the time that was left.  (A
 * relative sleep without a remaining-time buffer may still see EINTR, as
 * with any signal, so it is not checked.)
 */
#include "scenario.h"

#include <stdatomic.h>

static atomic_int eintr_relative, eintr_absolute, rounds;

static void *relative_sleeper(void *arg)
{
    (void)arg;
    for (;;) {
        struct timespec req = {0, 20 * 1000 * 1000}, rem;
        if (nanosleep(&req, &rem) != 0 && errno == EINTR)
            atomic_fetch_add(&eintr_relative, 1);
        atomic_fetch_add(&rounds, 1);
    }
    return NULL;
}

static void *absolute_sleeper(void *arg)
{
    (void)arg;
    for (;;) {
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        t.tv_nsec += 20 * 1000 * 1000;
        if (t.tv_nsec >= 1000000000L) {
            t.tv_sec++;
            t.tv_nsec -= 1000000000L;
        }
        if (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) == EINTR)
            atomic_fetch_add(&eintr_absolute, 1);
    }
    return NULL;
}

int main(void)
{
    pthread_t a, b;
    pthread_create(&a, NULL, relative_sleeper, NULL);
    pthread_create(&b, NULL, absolute_sleeper, NULL);
    scen_ready();
    scen_wait_check();
    int before = atomic_load(&rounds);
    while (atomic_load(&rounds) < before + 3) /* still sleeping and waking */
        usleep(1000);
    if (atomic_load(&eintr_relative))
        fail("a relative nanosleep with a remaining-time buffer returned EINTR %d times",
             atomic_load(&eintr_relative));
    if (atomic_load(&eintr_absolute))
        fail("an absolute clock_nanosleep returned EINTR %d times", atomic_load(&eintr_absolute));
    pass();
}
