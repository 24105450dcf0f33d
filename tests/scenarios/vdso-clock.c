/*
 * vdso-clock.c — the clocks read through the vdso work after the check and
 * belong to the running kernel: a [vdso] is mapped at the address auxv
 * names, clock_gettime (MONOTONIC, REALTIME, BOOTTIME), gettimeofday and
 * time advance, never go back past readings from before the checkpoint, and
 * bracket the same clocks read by real system calls — a vdso left from the
 * old process would return stale or frozen times.
 */
#include "scenario.h"

#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/time.h>

static int64_t ns_of(struct timespec t) { return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec; }

static int64_t vdso_ns(clockid_t c)
{
    struct timespec t;
    if (clock_gettime(c, &t) != 0)
        fail_errno("clock_gettime(%d)", (int)c);
    return ns_of(t);
}

static int64_t syscall_ns(clockid_t c)
{
    struct timespec t;
    if (syscall(SYS_clock_gettime, c, &t) != 0)
        fail_errno("clock_gettime system call (%d)", (int)c);
    return ns_of(t);
}

/* vdso reading <= system call reading <= vdso reading, for clock c */
static void expect_bracketed(clockid_t c, const char *name)
{
    for (int attempt = 0;; attempt++) {
        int64_t a = vdso_ns(c), s = syscall_ns(c), b = vdso_ns(c);
        if (a <= s && s <= b)
            return;
        if (attempt == 20) /* REALTIME may be stepped by NTP; retry a few times */
            fail("%s: vdso %lld, system call %lld, vdso %lld: the vdso clock is not the kernel's",
                 name, (long long)a, (long long)s, (long long)b);
        scen_sleep_ms(1);
    }
}

int main(void)
{
    int64_t mono0 = vdso_ns(CLOCK_MONOTONIC), boot0 = vdso_ns(CLOCK_BOOTTIME);
    int64_t real0 = vdso_ns(CLOCK_REALTIME);
    unsigned long vdso_addr = getauxval(AT_SYSINFO_EHDR);
    if (!vdso_addr)
        fail("no vdso in auxv");

    scen_ready();
    scen_wait_check();

    struct scen_map m;
    if (scen_map_of((void *)getauxval(AT_SYSINFO_EHDR), &m) != 0 || strcmp(m.path, "[vdso]") != 0)
        fail("AT_SYSINFO_EHDR %#lx is not a mapped [vdso] (found '%s')", getauxval(AT_SYSINFO_EHDR),
             m.path);
    if (memcmp((void *)getauxval(AT_SYSINFO_EHDR), "\177ELF", 4) != 0)
        fail("the vdso does not start with an ELF header");

    int64_t mono1 = vdso_ns(CLOCK_MONOTONIC), boot1 = vdso_ns(CLOCK_BOOTTIME);
    int64_t real1 = vdso_ns(CLOCK_REALTIME);
    if (mono1 < mono0)
        fail("CLOCK_MONOTONIC went back: %lld before the checkpoint, %lld after", (long long)mono0,
             (long long)mono1);
    if (boot1 < boot0)
        fail("CLOCK_BOOTTIME went back");
    if (real1 < real0)
        fail("CLOCK_REALTIME went back");
    scen_sleep_ms(20);
    if (vdso_ns(CLOCK_MONOTONIC) <= mono1)
        fail("CLOCK_MONOTONIC does not advance (a frozen vdso data page?)");
    expect_bracketed(CLOCK_MONOTONIC, "CLOCK_MONOTONIC");
    expect_bracketed(CLOCK_BOOTTIME, "CLOCK_BOOTTIME");
    expect_bracketed(CLOCK_REALTIME, "CLOCK_REALTIME");

    for (int attempt = 0;; attempt++) {
        struct timeval a, s, b;
        gettimeofday(&a, NULL);
        syscall(SYS_gettimeofday, &s, NULL);
        gettimeofday(&b, NULL);
        int64_t ua = a.tv_sec * 1000000LL + a.tv_usec, us = s.tv_sec * 1000000LL + s.tv_usec,
                ub = b.tv_sec * 1000000LL + b.tv_usec;
        if (ua <= us && us <= ub && ua >= real0 / 1000)
            break;
        if (attempt == 20)
            fail("gettimeofday (%lld us) disagrees with the system call (%lld us)", (long long)ua,
                 (long long)us);
        scen_sleep_ms(1);
    }
    time_t t1 = time(NULL), ts = (time_t)syscall(SYS_time, NULL), t2 = time(NULL);
    if (t1 > ts || ts > t2 || t1 < real0 / 1000000000)
        fail("time() %lld disagrees with the system call %lld", (long long)t1, (long long)ts);
    pass();
}
