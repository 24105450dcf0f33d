/*
 * timers-alarm-itimer.c — interval timers keep their remaining time:
 * alarm() (ITIMER_REAL), ITIMER_VIRTUAL and ITIMER_PROF set long before the
 * checkpoint still have time left after the check — more than zero, no
 * more than was set (give or take a kernel tick) — and the same intervals;
 * a short timer set after the check still fires.  No tight timing is
 * asserted.
 */
#include "scenario.h"

#include <sys/time.h>

#define ALARM_SECS 3000
#define SLACK_US 20000 /* the kernel rounds CPU-time timers up to its tick */

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
    (void)sig;
    alarms++;
}

static long long usec(struct timeval tv)
{
    return (long long)tv.tv_sec * 1000000 + tv.tv_usec;
}

static void expect_itimer(int which, const char *name, const struct itimerval *set)
{
    struct itimerval cur;
    if (getitimer(which, &cur) != 0)
        fail_errno("getitimer(%s)", name);
    if (usec(cur.it_value) <= 0)
        fail("%s: no time left (the timer was lost)", name);
    if (usec(cur.it_value) > usec(set->it_value) + SLACK_US)
        fail("%s: %lld us left, more than the %lld us set", name, usec(cur.it_value),
             usec(set->it_value));
    if (llabs(usec(cur.it_interval) - usec(set->it_interval)) > SLACK_US)
        fail("%s: interval %lld us, expected %lld us", name, usec(cur.it_interval),
             usec(set->it_interval));
}

int main(void)
{
    struct sigaction sa = { .sa_handler = on_alarm, .sa_flags = SA_RESTART };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    sigaction(SIGVTALRM, &sa, NULL);
    sigaction(SIGPROF, &sa, NULL);

    const struct itimerval virt = { .it_interval = { 3, 0 }, .it_value = { 1000, 0 } };
    const struct itimerval prof = { .it_interval = { 7, 250000 }, .it_value = { 2000, 0 } };
    alarm(ALARM_SECS);
    if (setitimer(ITIMER_VIRTUAL, &virt, NULL) != 0 || setitimer(ITIMER_PROF, &prof, NULL) != 0)
        fail_errno("setitimer");

    scen_ready();
    scen_wait_check();

    const struct itimerval real = { .it_interval = { 0, 0 }, .it_value = { ALARM_SECS, 0 } };
    expect_itimer(ITIMER_REAL, "alarm()", &real);
    expect_itimer(ITIMER_VIRTUAL, "ITIMER_VIRTUAL", &virt);
    expect_itimer(ITIMER_PROF, "ITIMER_PROF", &prof);
    unsigned left = alarm(0);
    if (left == 0 || left > ALARM_SECS)
        fail("alarm(0) reports %u s left of %d", left, ALARM_SECS);
    if (alarms != 0)
        fail("a timer fired early (%d signals)", (int)alarms);

    const struct itimerval shortt = { .it_interval = { 0, 0 }, .it_value = { 0, 20000 } };
    if (setitimer(ITIMER_REAL, &shortt, NULL) != 0)
        fail_errno("setitimer(ITIMER_REAL)");
    SCEN_WAIT_FOR(alarms == 1, "a 20 ms ITIMER_REAL set after the check never fired");
    pass();
}
