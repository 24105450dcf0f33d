/*
 * rseq-cpu.c — restartable sequences are registered again in every thread:
 * glibc registers an rseq area per thread, and sched_getcpu() reads the CPU
 * number from it.  After the check, in the main thread and a worker, the
 * kernel must report the area as registered (registering it again says
 * EBUSY), and pinned to each allowed CPU in turn, sched_getcpu() must agree
 * with the getcpu system call — a stale, unregistered area would not follow.
 */
#include "scenario.h"

#include <sched.h>
#include <sys/rseq.h>
#include <sys/syscall.h>

#define RSEQ_SIG_X86 0x53053053

static atomic_int go, done;

/* errno from registering glibc's rseq area again: EBUSY when it is already
 * registered, 0 if the kernel accepted it (it was not), -1 without rseq. */
static int rseq_register_again(void)
{
    if (__rseq_size == 0)
        return -1;
    char *tp;
    __asm__ volatile("mov %%fs:0, %0" : "=r"(tp));
    long rc = syscall(SYS_rseq, tp + __rseq_offset, __rseq_size < 32 ? 32 : __rseq_size, 0,
                      RSEQ_SIG_X86);
    return rc == 0 ? 0 : errno;
}

static int getcpu_syscall(void)
{
    unsigned cpu = 0;
    if (syscall(SYS_getcpu, &cpu, NULL, NULL) != 0)
        fail_errno("getcpu");
    return (int)cpu;
}

static void check_cpus(const char *who, int registered_errno)
{
    int e = rseq_register_again();
    if (registered_errno != -1 && e != registered_errno)
        fail("%s: registering the rseq area again gives %s, before the checkpoint %s — rseq %s",
             who, e ? strerror(e) : "success", strerror(registered_errno),
             e == 0 ? "was not registered" : "state changed");
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0)
        fail_errno("sched_getaffinity");
    int tried = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE && tried < 8; cpu++) {
        if (!CPU_ISSET(cpu, &allowed))
            continue;
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(cpu, &one);
        if (sched_setaffinity(0, sizeof(one), &one) != 0)
            continue; /* CPU went offline, or not ours */
        sched_yield();
        int a = sched_getcpu(), b = getcpu_syscall();
        if (a != cpu || b != cpu)
            fail("%s: pinned to CPU %d, sched_getcpu() says %d and getcpu says %d", who, cpu, a, b);
        tried++;
    }
    if (tried == 0)
        fail("%s: could not pin to any allowed CPU", who);
    sched_setaffinity(0, sizeof(allowed), &allowed);
}

static int reg_errno;

static void *worker(void *arg)
{
    (void)arg;
    while (!atomic_load(&go))
        scen_sleep_ms(2);
    check_cpus("worker", reg_errno);
    atomic_store(&done, 1);
    return NULL;
}

int main(void)
{
    if (sched_getcpu() < 0)
        fail_errno("sched_getcpu before the checkpoint");
    reg_errno = rseq_register_again();
    if (reg_errno == 0)
        fail("glibc's rseq area was not registered at start (registering it worked)");
    /* reg_errno -1: glibc does not use rseq here; only sched_getcpu is checked */
    pthread_t t = scen_thread(worker, NULL);
    check_cpus("main thread before the checkpoint", reg_errno);

    scen_ready();
    scen_wait_check();

    check_cpus("main thread", reg_errno);
    atomic_store(&go, 1);
    scen_join(t);
    if (!atomic_load(&done))
        fail("the worker did not finish");
    pass();
}
