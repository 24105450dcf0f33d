/*
 * pthread_tids.c — glibc's cached thread ids after a restart.
 *
 * glibc keeps each thread's kernel tid in its thread descriptor (the `tid`
 * word the kernel clears at thread exit: thread_rec.tid_address) and passes
 * it to the kernel itself in pthread_cancel, pthread_getattr_np, the
 * affinity and scheduling calls, pthread_getcpuclockid and
 * pthread_sigqueue.  After a restart that word holds the thread's virtual
 * tid (mutex owner fields compare against it, so it must stay virtual:
 * pid.c), and those calls would reach no thread (ESRCH) or another one.
 *
 * So, once a restart has made ids differ, these calls are translated:
 *  - where glibc's work is one system call on the tid (affinity,
 *    scheduling, CPU clock, sigqueue), the wrapper makes that call with the
 *    real tid itself;
 *  - where glibc does more (pthread_cancel, pthread_getattr_np), the real tid
 *    is put in the descriptor for the length of the call and the virtual one
 *    put back after (unless the thread ended meanwhile: the kernel then
 *    cleared the word, and it stays clear for pthread_join).  For the calling
 *    thread itself this is exact.  For another thread there is a window of
 *    one call in which that thread, were it to lock an error-checking or
 *    recursive mutex right then, would record the real tid as owner; the
 *    JVM and the usual users of these calls target the calling thread or a
 *    thread blocked in a cancellation point.
 * The plain system-call wrappers that take a tid the program got from
 * gettid() (sched_setaffinity, sched_getaffinity, sched_setscheduler,
 * sched_getscheduler, sched_setparam, sched_getparam) translate it too.
 * Before any restart every call goes straight to glibc.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/engine.h"
#include "engine/plugins/pid.h"
#include "engine/sys.h"

/* The thread's record when its ids differ from the kernel's, else NULL. */
static struct thread_rec *pthread_tids_rec(pthread_t th)
{
    if (!pid_translating())
        return NULL;
    struct thread_rec *r = threads_find_by_pthread((unsigned long)th);
    return r && r->tid_address && r->real_tid != r->vtid ? r : NULL;
}

static void *pthread_tids_next(const char *name)
{
    return dlsym(RTLD_NEXT, name);
}

/* Give glibc the real tid for one call; 1 if it must be put back. */
static int pthread_tids_lend(struct thread_rec *r)
{
    return r && __atomic_compare_exchange_n((pid_t *)(uintptr_t)r->tid_address, &(pid_t){r->vtid}, r->real_tid, 0,
                                            __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

static void pthread_tids_take_back(struct thread_rec *r, int lent)
{
    if (lent) /* not if the thread ended meanwhile and the kernel cleared the word */
        __atomic_compare_exchange_n((pid_t *)(uintptr_t)r->tid_address, &(pid_t){r->real_tid}, r->vtid, 0,
                                    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

ENGINE_API int pthread_cancel(pthread_t th)
{
    static int (*real)(pthread_t);
    if (!real)
        real = (int (*)(pthread_t))pthread_tids_next("pthread_cancel");
    struct thread_rec *r = pthread_tids_rec(th);
    int lent = pthread_tids_lend(r);
    int rc = real(th);
    pthread_tids_take_back(r, lent);
    return rc;
}

ENGINE_API int pthread_getattr_np(pthread_t th, pthread_attr_t *attr)
{
    static int (*real)(pthread_t, pthread_attr_t *);
    if (!real)
        real = (int (*)(pthread_t, pthread_attr_t *))pthread_tids_next("pthread_getattr_np");
    struct thread_rec *r = pthread_tids_rec(th);
    int lent = pthread_tids_lend(r);
    int rc = real(th, attr);
    pthread_tids_take_back(r, lent);
    return rc;
}

/* ---- one system call on the tid --------------------------------------- */

static int pthread_tids_err(long rc)
{
    return rc < 0 ? (int)-rc : 0;
}

ENGINE_API int pthread_setaffinity_np(pthread_t th, size_t size, const cpu_set_t *set)
{
    struct thread_rec *r = pthread_tids_rec(th);
    if (r)
        return pthread_tids_err(sys_call3(SYS_sched_setaffinity, r->real_tid, size, set));
    static int (*real)(pthread_t, size_t, const cpu_set_t *);
    if (!real)
        real = (int (*)(pthread_t, size_t, const cpu_set_t *))pthread_tids_next("pthread_setaffinity_np");
    return real(th, size, set);
}

ENGINE_API int pthread_getaffinity_np(pthread_t th, size_t size, cpu_set_t *set)
{
    struct thread_rec *r = pthread_tids_rec(th);
    if (r) {
        long n = sys_call3(SYS_sched_getaffinity, r->real_tid, size, set);
        if (n < 0)
            return (int)-n;
        memset((char *)set + n, 0, size - (size_t)n); /* the kernel fills only its own mask's bytes */
        return 0;
    }
    static int (*real)(pthread_t, size_t, cpu_set_t *);
    if (!real)
        real = (int (*)(pthread_t, size_t, cpu_set_t *))pthread_tids_next("pthread_getaffinity_np");
    return real(th, size, set);
}

ENGINE_API int pthread_setschedparam(pthread_t th, int policy, const struct sched_param *param)
{
    struct thread_rec *r = pthread_tids_rec(th);
    if (r)
        return pthread_tids_err(sys_call3(SYS_sched_setscheduler, r->real_tid, policy, param));
    static int (*real)(pthread_t, int, const struct sched_param *);
    if (!real)
        real = (int (*)(pthread_t, int, const struct sched_param *))pthread_tids_next("pthread_setschedparam");
    return real(th, policy, param);
}

ENGINE_API int pthread_getschedparam(pthread_t th, int *policy, struct sched_param *param)
{
    struct thread_rec *r = pthread_tids_rec(th);
    if (r) {
        long p = sys_call1(SYS_sched_getscheduler, r->real_tid);
        if (p < 0)
            return (int)-p;
        long rc = sys_call2(SYS_sched_getparam, r->real_tid, param);
        if (rc < 0)
            return (int)-rc;
        *policy = (int)p & ~SCHED_RESET_ON_FORK;
        return 0;
    }
    static int (*real)(pthread_t, int *, struct sched_param *);
    if (!real)
        real = (int (*)(pthread_t, int *, struct sched_param *))pthread_tids_next("pthread_getschedparam");
    return real(th, policy, param);
}

ENGINE_API int pthread_setschedprio(pthread_t th, int prio)
{
    struct thread_rec *r = pthread_tids_rec(th);
    if (r) {
        struct sched_param p = {.sched_priority = prio};
        return pthread_tids_err(sys_call2(SYS_sched_setparam, r->real_tid, &p));
    }
    static int (*real)(pthread_t, int);
    if (!real)
        real = (int (*)(pthread_t, int))pthread_tids_next("pthread_setschedprio");
    return real(th, prio);
}

/* The kernel's CPU-time clock of a thread: ~tid << 3, per-thread, SCHED. */
ENGINE_API int pthread_getcpuclockid(pthread_t th, clockid_t *clock)
{
    struct thread_rec *r = pthread_tids_rec(th);
    if (r) {
        *clock = (clockid_t)(((unsigned)~r->real_tid << 3) | 4 /* per thread */ | 2 /* SCHED */);
        return 0;
    }
    static int (*real)(pthread_t, clockid_t *);
    if (!real)
        real = (int (*)(pthread_t, clockid_t *))pthread_tids_next("pthread_getcpuclockid");
    return real(th, clock);
}

ENGINE_API int pthread_sigqueue(pthread_t th, int sig, const union sigval value)
{
    struct thread_rec *r = pthread_tids_rec(th);
    if (r) {
        siginfo_t si;
        memset(&si, 0, sizeof si);
        si.si_signo = sig;
        si.si_code = SI_QUEUE;
        si.si_pid = pid_virtual_pid();
        si.si_uid = (uid_t)sys_call0(SYS_getuid);
        si.si_value = value;
        return pthread_tids_err(sys_call4(SYS_rt_tgsigqueueinfo, pid_real_pid(), r->real_tid, sig, &si));
    }
    static int (*real)(pthread_t, int, const union sigval);
    if (!real)
        real = (int (*)(pthread_t, int, const union sigval))pthread_tids_next("pthread_sigqueue");
    return real(th, sig, value);
}

/* ---- system calls given a tid ------------------------------------------ */

static int pthread_tids_ret(long rc)
{
    if (rc < 0 && rc > -4096) {
        errno = (int)-rc;
        return -1;
    }
    return (int)rc;
}

ENGINE_API int sched_setaffinity(pid_t pid, size_t size, const cpu_set_t *set)
{
    return pthread_tids_ret(sys_call3(SYS_sched_setaffinity, pid_to_real(pid), size, set)) < 0 ? -1 : 0;
}

ENGINE_API int sched_getaffinity(pid_t pid, size_t size, cpu_set_t *set)
{
    long n = sys_call3(SYS_sched_getaffinity, pid_to_real(pid), size, set);
    if (n < 0)
        return pthread_tids_ret(n);
    memset((char *)set + n, 0, size - (size_t)n);
    return 0;
}

ENGINE_API int sched_setscheduler(pid_t pid, int policy, const struct sched_param *param)
{
    return pthread_tids_ret(sys_call3(SYS_sched_setscheduler, pid_to_real(pid), policy, param));
}

ENGINE_API int sched_getscheduler(pid_t pid)
{
    return pthread_tids_ret(sys_call1(SYS_sched_getscheduler, pid_to_real(pid)));
}

ENGINE_API int sched_setparam(pid_t pid, const struct sched_param *param)
{
    return pthread_tids_ret(sys_call2(SYS_sched_setparam, pid_to_real(pid), param));
}

ENGINE_API int sched_getparam(pid_t pid, struct sched_param *param)
{
    return pthread_tids_ret(sys_call2(SYS_sched_getparam, pid_to_real(pid), param));
}
