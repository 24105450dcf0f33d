/*
 * timer-sigev-thread.c — POSIX timers that notify by starting a thread
 * (timer_create with SIGEV_THREAD).  glibc serves them from a helper thread
 * that blocks every signal and so could never be parked for a checkpoint;
 * under the engine they are served by a thread that can be.  A periodic
 * timer runs across the checkpoint; after `check` a new one-shot timer must
 * notify once, with its value, on a thread of its own (timers themselves
 * are not restored at restart yet, so nothing here depends on the first
 * one still running).
 */
#include "scenario.h"

#include <sys/syscall.h>

static atomic_int periodic_fired;
static atomic_int oneshot_fired;
static atomic_int oneshot_on_main;
static pthread_t main_thread;

static void periodic(union sigval v)
{
    if (v.sival_int == 42)
        atomic_fetch_add(&periodic_fired, 1);
}

static void oneshot(union sigval v)
{
    if (pthread_equal(pthread_self(), main_thread))
        atomic_store(&oneshot_on_main, 1);
    if (v.sival_ptr == &oneshot_fired)
        atomic_fetch_add(&oneshot_fired, 1);
}

static timer_t make_timer(void (*fn)(union sigval), union sigval value, long first_ms, long every_ms)
{
    struct sigevent ev;
    memset(&ev, 0, sizeof(ev));
    ev.sigev_notify = SIGEV_THREAD;
    ev.sigev_notify_function = fn;
    ev.sigev_value = value;
    timer_t t;
    if (timer_create(CLOCK_MONOTONIC, &ev, &t) != 0)
        fail_errno("timer_create(SIGEV_THREAD)");
    struct itimerspec its = { { every_ms / 1000, (every_ms % 1000) * 1000000L },
                              { first_ms / 1000, (first_ms % 1000) * 1000000L } };
    if (timer_settime(t, 0, &its, NULL) != 0)
        fail_errno("timer_settime");
    return t;
}

int main(void)
{
    main_thread = pthread_self();
    timer_t t1 = make_timer(periodic, (union sigval){ .sival_int = 42 }, 10, 10);
    SCEN_WAIT_FOR(atomic_load(&periodic_fired) >= 3, "the periodic SIGEV_THREAD timer fired %d times, "
                  "expected 3", atomic_load(&periodic_fired));
    scen_ready();
    scen_wait_check();
    timer_delete(t1); /* after a restart it is gone already (EINVAL): fine */
    timer_t t2 = make_timer(oneshot, (union sigval){ .sival_ptr = &oneshot_fired }, 20, 0);
    SCEN_WAIT_FOR(atomic_load(&oneshot_fired) >= 1, "a SIGEV_THREAD timer created after the check never notified");
    SCEN_CHECK(!atomic_load(&oneshot_on_main), "the notification ran on the main thread");
    scen_sleep_ms(50); /* a one-shot timer notifies once */
    SCEN_CHECK(atomic_load(&oneshot_fired) == 1, "the one-shot timer notified %d times", atomic_load(&oneshot_fired));
    SCEN_CHECK(timer_delete(t2) == 0, "timer_delete: %s", strerror(errno));
    pass();
}
