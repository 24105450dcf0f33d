/*
 * pthread_tids.c — the calls that hand a thread id to the kernel, after a
 * restart, when the id is glibc's own (the virtual tid) or the program's
 * (a gettid() value).
 *
 * A restarted thread has a new kernel tid, but glibc's descriptor (struct
 * pthread, its `tid` at the thread's clear_child_tid address) keeps the
 * original one: glibc writes it into mutex owner fields, so error-checking,
 * recursive and robust mutexes keep working only if it never changes
 * (pid.c).  glibc also passes it to the kernel by raw system calls, which no
 * wrapper sees: pthread_getattr_np and pthread_{get,set}affinity_np
 * (sched_getaffinity), pthread_{get,set}schedparam and pthread_setschedprio
 * (sched_*), pthread_sigqueue (rt_tgsigqueueinfo), pthread_cancel (tgkill
 * with SIGCANCEL), pthread_getcpuclockid (the clock id encodes the tid).
 * After a restart each failed with ESRCH, or reached whatever task now had
 * that id.  So, for a thread whose descriptor holds a virtual tid, each is
 * done here in the safest way that gives glibc's result:
 *
 *   - Where glibc only passes the tid to one system call, the call is made
 *     here with the real tid: pthread_{get,set}affinity_np and
 *     pthread_sigqueue, and pthread_{get,set}schedparam/setschedprio on
 *     another thread.  The sched_*, getpriority/setpriority(PRIO_PROCESS),
 *     prlimit and clock_getcpuclockid functions and syscall(2) with those
 *     numbers take the program's ids (gettid() values): they are translated
 *     with pid_to_real.
 *   - Where glibc also reads or updates its own bookkeeping (the scheduling
 *     policy it caches, the stack of pthread_getattr_np), the real glibc
 *     function runs with the real tid in the descriptor for its duration,
 *     but only when the calling thread is the target, with every signal
 *     blocked.  Nothing else reads a thread's own tid from its descriptor
 *     then (other threads go through the wrappers, which look the thread up
 *     by its descriptor's address, or only compare it with 0), no signal
 *     handler runs in between, and no checkpoint can save the swapped tid.
 *     Swapping another thread's tid would not be safe: that thread may be
 *     locking a mutex at that moment and store the real tid as the owner.
 *   - pthread_getattr_np on another thread: glibc's function runs as it is.
 *     Only its affinity query used the virtual tid, so the affinity is asked
 *     with the real tid and put into the attributes here.  glibc destroys
 *     the attributes when that query fails (ESRCH) but leaves the other
 *     fields readable: they are read back through the public getters into
 *     fresh attributes.
 *   - pthread_cancel on another thread: glibc's function marks the thread
 *     cancelled (its own state, which only it knows how to change) and sends
 *     SIGCANCEL to the virtual tid, which fails with ESRCH; the signal is
 *     then sent here to the real tid, so that a thread blocked in a
 *     cancellation point acts on it at once.  If the virtual tid is the real
 *     tid of another of the process's threads, glibc's signal would cancel
 *     that innocent thread (glibc's SIGCANCEL handler cancels whoever gets
 *     it): then, and only then, the target's descriptor holds its real tid
 *     during the call.  That is the race above, accepted as the lesser harm.
 *   - CPU clock ids (pthread_getcpuclockid, clock_getcpuclockid) encode a
 *     tid or pid.  They stay virtual, as glibc encodes the descriptor's tid,
 *     so that an id taken before a checkpoint still works after it; every
 *     function that takes a clock id (clock_gettime, clock_getres,
 *     clock_nanosleep, clock_settime, timer_create, syscall(2)) translates
 *     it.  A normal clock id (>= 0) costs one comparison.
 *
 * A thread created after the restart has its real tid in its descriptor,
 * and every wrapper hands it straight to glibc.  A descriptor is the
 * thread's only if it still holds that record's virtual tid, since glibc
 * reuses the descriptor and stack of an exited thread for a new one.
 * Before any restart every wrapper does what glibc does, after one test.
 *
 * Part of the pid plugin (pid.h declares what it offers the other plugins):
 * wrappers only, with no state to save, so it has no descriptor of its own.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "engine/engine.h"
#include "engine/plugins/pid.h"
#include "engine/sys.h"

#define TIDS_SIGCANCEL 32 /* glibc's cancellation signal (__SIGRTMIN), and SIGTIMER */
#define TIDS_SIGSETXID 33 /* glibc's set*id broadcast signal */
#define TIDS_PZERO 20     /* getpriority(2) returns 20 - nice */
#define TIDS_IOPRIO_WHO_PROCESS 1

/* Linux CPU clock ids are ~id << 3 | kind: kind bit 4 set is a thread's
 * clock, kind 3 is the clock of a file descriptor (no id in it). */
#define TIDS_CLOCK_KIND_MASK 7
#define TIDS_CLOCK_KIND_FD 3
#define TIDS_CLOCK_KIND_PROCESS_SCHED 2
#define TIDS_AFFINITY_MAX (1024 * 1024) /* bytes: glibc's bound too */

typedef int (*tids_clock_fn)(clockid_t, struct timespec *);

static struct {
    tids_clock_fn clock_gettime, clock_getres;
    int (*clock_nanosleep)(clockid_t, int, const struct timespec *, struct timespec *);
    int (*clock_settime)(clockid_t, const struct timespec *);
    int (*clock_getcpuclockid)(pid_t, clockid_t *);
    int (*pthread_getattr_np)(pthread_t, pthread_attr_t *);
    int (*pthread_cancel)(pthread_t);
    int (*pthread_setschedparam)(pthread_t, int, const struct sched_param *);
    int (*pthread_getschedparam)(pthread_t, int *, struct sched_param *);
    int (*pthread_setschedprio)(pthread_t, int);
    int (*pthread_setaffinity_np)(pthread_t, size_t, const cpu_set_t *);
    int (*pthread_getaffinity_np)(pthread_t, size_t, cpu_set_t *);
    int (*pthread_sigqueue)(pthread_t, int, const union sigval);
} tids_real;

/* glibc's function, looked up at first use (the clock functions are looked
 * up in advance by pthread_tids_init). */
static inline void *tids_real_fn(void **slot, const char *name)
{
    void *f = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    if (__builtin_expect(f == NULL, 0)) {
        f = dlsym(RTLD_NEXT, name);
        __atomic_store_n(slot, f, __ATOMIC_RELEASE);
    }
    return f;
}
#define TIDS_REAL(fn) ((__typeof__(tids_real.fn))tids_real_fn((void **)&tids_real.fn, #fn))

/* From the pid plugin's INIT.  clock_gettime is async-signal-safe, so a
 * signal handler may call it first: its wrapper must not have to look
 * anything up then (dlsym takes locks). */
void pthread_tids_init(void)
{
    (void)TIDS_REAL(clock_gettime);
    (void)TIDS_REAL(clock_getres);
    (void)TIDS_REAL(clock_nanosleep);
    (void)TIDS_REAL(clock_settime);
}

/* A raw system call's -errno as libc gives it: -1, with errno set. */
static long tids_ret(long rc)
{
    if (rc < 0 && rc > -4096) {
        errno = (int)-rc;
        return -1;
    }
    return rc;
}

/* ---- which threads need it -------------------------------------------- */

/* The record of th if glibc's descriptor of th holds a virtual tid that is
 * not the thread's kernel tid.  NULL when its tid is real (no restart yet,
 * a thread created since, a thread that has exited): glibc then does it. */
static struct thread_rec *tids_virtual_target(pthread_t th)
{
    if (__builtin_expect(!pid_translating(), 1))
        return NULL;
    struct thread_rec *r = threads_find_by_pthread((unsigned long)th);
    if (!r || !r->tid_address || r->vtid == r->real_tid)
        return NULL;
    pid_t now = __atomic_load_n((pid_t *)(uintptr_t)r->tid_address, __ATOMIC_ACQUIRE);
    return now == r->vtid ? r : NULL;
}

static int tids_is_self(pthread_t th)
{
    return pthread_equal(th, pthread_self());
}

/* The descriptor of r's thread holds its kernel tid, and every signal of
 * the calling thread is blocked, from tids_swap_to_real to tids_swap_back.
 * r is the calling thread, except in the one case pthread_cancel says. */
struct tids_swap {
    pid_t *tid;
    pid_t vtid, real;
    uint64_t mask;
};

static void tids_swap_to_real(struct thread_rec *r, struct tids_swap *s)
{
    uint64_t all = ~0ull;
    sys_call4(SYS_rt_sigprocmask, SIG_SETMASK, &all, &s->mask, sizeof all);
    s->tid = (pid_t *)(uintptr_t)r->tid_address;
    s->vtid = r->vtid;
    s->real = r->real_tid;
    __atomic_store_n(s->tid, s->real, __ATOMIC_RELEASE);
}

static void tids_swap_back(struct tids_swap *s)
{
    /* Not if the thread exited meanwhile: the kernel wrote 0 there, and
     * pthread_join waits for that 0. */
    pid_t expect = s->real;
    __atomic_compare_exchange_n(s->tid, &expect, s->vtid, 0, __ATOMIC_RELEASE, __ATOMIC_RELAXED);
    sys_call4(SYS_rt_sigprocmask, SIG_SETMASK, &s->mask, NULL, sizeof s->mask);
}

/* ---- clock ids -------------------------------------------------------- */

/* The clock id the kernel knows for a CPU clock id that names a virtual
 * pid or tid; any other id as it is. */
clockid_t pthread_tids_clock_to_real(clockid_t c)
{
    if (c >= 0 || (c & TIDS_CLOCK_KIND_MASK) == TIDS_CLOCK_KIND_FD)
        return c;
    pid_t v = (pid_t)~(c >> 3);
    pid_t real = pid_to_real(v);
    if (real == v)
        return c;
    return (clockid_t)((~(uint32_t)real << 3) | (uint32_t)(c & TIDS_CLOCK_KIND_MASK));
}

ENGINE_API int clock_gettime(clockid_t c, struct timespec *ts)
{
    if (__builtin_expect(c < 0, 0))
        c = pthread_tids_clock_to_real(c);
    return TIDS_REAL(clock_gettime)(c, ts);
}

ENGINE_API int clock_getres(clockid_t c, struct timespec *ts)
{
    if (c < 0)
        c = pthread_tids_clock_to_real(c);
    return TIDS_REAL(clock_getres)(c, ts);
}

ENGINE_API int clock_nanosleep(clockid_t c, int flags, const struct timespec *req, struct timespec *rem)
{
    if (c < 0)
        c = pthread_tids_clock_to_real(c);
    return TIDS_REAL(clock_nanosleep)(c, flags, req, rem);
}

ENGINE_API int clock_settime(clockid_t c, const struct timespec *ts)
{
    if (c < 0)
        c = pthread_tids_clock_to_real(c);
    return TIDS_REAL(clock_settime)(c, ts);
}

/* A process's CPU clock is checked with the real pid (as glibc checks it,
 * with clock_getres) and given with the virtual one. */
ENGINE_API int clock_getcpuclockid(pid_t pid, clockid_t *out)
{
    pid_t real = pid_to_real(pid);
    if (real == pid)
        return TIDS_REAL(clock_getcpuclockid)(pid, out);
    clockid_t c = (clockid_t)((~(uint32_t)real << 3) | TIDS_CLOCK_KIND_PROCESS_SCHED);
    long rc = sys_call2(SYS_clock_getres, c, NULL);
    if (rc < 0)
        return rc == -EINVAL ? ESRCH : (int)-rc;
    *out = (clockid_t)((~(uint32_t)pid << 3) | TIDS_CLOCK_KIND_PROCESS_SCHED);
    return 0;
}

/* timer_create's other id: the thread a SIGEV_THREAD_ID timer signals,
 * copied into *copy when it changes. */
const struct sigevent *pthread_tids_sigevent_to_real(const struct sigevent *ev, struct sigevent *copy)
{
    if (!ev || ev->sigev_notify != SIGEV_THREAD_ID)
        return ev;
    pid_t real = pid_to_real(ev->_sigev_un._tid);
    if (real == ev->_sigev_un._tid)
        return ev;
    *copy = *ev;
    copy->_sigev_un._tid = real;
    return copy;
}

/* ---- the sched_* family and other calls that take an id ---------------- */

ENGINE_API int sched_setaffinity(pid_t pid, size_t size, const cpu_set_t *set)
{
    return (int)tids_ret(sys_call3(SYS_sched_setaffinity, pid_to_real(pid), size, set));
}

/* As glibc: 0, with the part of the mask the kernel did not write zeroed. */
ENGINE_API int sched_getaffinity(pid_t pid, size_t size, cpu_set_t *set)
{
    long n = sys_call3(SYS_sched_getaffinity, pid_to_real(pid), size < INT32_MAX ? size : INT32_MAX, set);
    if (n < 0)
        return (int)tids_ret(n);
    memset((char *)set + n, 0, size - (size_t)n);
    return 0;
}

ENGINE_API int sched_setscheduler(pid_t pid, int policy, const struct sched_param *p)
{
    return (int)tids_ret(sys_call3(SYS_sched_setscheduler, pid_to_real(pid), policy, p));
}

ENGINE_API int sched_getscheduler(pid_t pid)
{
    return (int)tids_ret(sys_call1(SYS_sched_getscheduler, pid_to_real(pid)));
}

ENGINE_API int sched_setparam(pid_t pid, const struct sched_param *p)
{
    return (int)tids_ret(sys_call2(SYS_sched_setparam, pid_to_real(pid), p));
}

ENGINE_API int sched_getparam(pid_t pid, struct sched_param *p)
{
    return (int)tids_ret(sys_call2(SYS_sched_getparam, pid_to_real(pid), p));
}

ENGINE_API int sched_rr_get_interval(pid_t pid, struct timespec *ts)
{
    return (int)tids_ret(sys_call2(SYS_sched_rr_get_interval, pid_to_real(pid), ts));
}

/* Only PRIO_PROCESS names a process or thread; a group or user id stays. */
static id_t tids_priority_who(int which, id_t who)
{
    return which == PRIO_PROCESS ? (id_t)pid_to_real((pid_t)who) : who;
}

ENGINE_API int getpriority(__priority_which_t which, id_t who)
{
    long rc = sys_call2(SYS_getpriority, which, tids_priority_who(which, who));
    return rc < 0 ? (int)tids_ret(rc) : TIDS_PZERO - (int)rc;
}

ENGINE_API int setpriority(__priority_which_t which, id_t who, int prio)
{
    return (int)tids_ret(sys_call3(SYS_setpriority, which, tids_priority_who(which, who), prio));
}

ENGINE_API int prlimit(pid_t pid, __rlimit_resource_t res, const struct rlimit *new, struct rlimit *old)
{
    return (int)tids_ret(sys_call4(SYS_prlimit64, pid_to_real(pid), res, new, old));
}

ENGINE_API int prlimit64(pid_t pid, __rlimit_resource_t res, const struct rlimit64 *new, struct rlimit64 *old)
{
    return (int)tids_ret(sys_call4(SYS_prlimit64, pid_to_real(pid), res, new, old));
}

/* syscall(2) with a number that takes an id: pid.c hands over every number
 * it does not handle itself.  Returns the kernel's result (-errno). */
long pthread_tids_syscall(long n, long a, long b, long c, long d, long e, long f)
{
    switch (n) {
    case SYS_sched_setaffinity:
    case SYS_sched_getaffinity:
    case SYS_sched_setscheduler:
    case SYS_sched_getscheduler:
    case SYS_sched_setparam:
    case SYS_sched_getparam:
    case SYS_sched_rr_get_interval:
    case SYS_sched_setattr:
    case SYS_sched_getattr:
    case SYS_prlimit64:
    case SYS_rt_sigqueueinfo:
        a = pid_to_real((pid_t)a);
        break;
    case SYS_rt_tgsigqueueinfo:
        a = pid_to_real((pid_t)a);
        b = pid_to_real((pid_t)b);
        break;
    case SYS_getpriority:
    case SYS_setpriority:
        b = (long)tids_priority_who((int)a, (id_t)b);
        break;
    case SYS_ioprio_get:
    case SYS_ioprio_set:
        if (a == TIDS_IOPRIO_WHO_PROCESS)
            b = pid_to_real((pid_t)b);
        break;
    case SYS_clock_gettime:
    case SYS_clock_getres:
    case SYS_clock_nanosleep:
    case SYS_clock_settime:
    case SYS_timer_create:
        a = pthread_tids_clock_to_real((clockid_t)a);
        if (n == SYS_timer_create && b) {
            struct sigevent copy;
            b = (long)pthread_tids_sigevent_to_real((const struct sigevent *)b, &copy);
            return sys_call3(n, a, b, c); /* copy lives only in this block */
        }
        break;
    }
    return sys_call6(n, a, b, c, d, e, f);
}

/* ---- glibc's pthread_* functions --------------------------------------- */

ENGINE_API int pthread_setaffinity_np(pthread_t th, size_t size, const cpu_set_t *set)
{
    struct thread_rec *r = tids_virtual_target(th);
    if (!r)
        return TIDS_REAL(pthread_setaffinity_np)(th, size, set);
    long rc = sys_call3(SYS_sched_setaffinity, r->real_tid, size, set);
    return rc < 0 ? (int)-rc : 0;
}

ENGINE_API int pthread_getaffinity_np(pthread_t th, size_t size, cpu_set_t *set)
{
    struct thread_rec *r = tids_virtual_target(th);
    if (!r)
        return TIDS_REAL(pthread_getaffinity_np)(th, size, set);
    long n = sys_call3(SYS_sched_getaffinity, r->real_tid, size < INT32_MAX ? size : INT32_MAX, set);
    if (n < 0)
        return (int)-n;
    memset((char *)set + n, 0, size - (size_t)n);
    return 0;
}

/* glibc puts the sender's getpid() in si_pid: here the pid the program
 * knows, which its handler may compare with getpid(). */
ENGINE_API int pthread_sigqueue(pthread_t th, int sig, const union sigval value)
{
    struct thread_rec *r = tids_virtual_target(th);
    if (!r)
        return TIDS_REAL(pthread_sigqueue)(th, sig, value);
    if (sig == TIDS_SIGCANCEL || sig == TIDS_SIGSETXID)
        return EINVAL; /* glibc's own signals, refused as glibc refuses them */
    siginfo_t si;
    memset(&si, 0, sizeof si);
    si.si_signo = sig;
    si.si_code = SI_QUEUE;
    si.si_pid = pid_virtual_pid();
    si.si_uid = (uid_t)sys_call0(SYS_getuid);
    si.si_value = value;
    long rc = sys_call4(SYS_rt_tgsigqueueinfo, sys_getpid(), r->real_tid, sig, &si);
    return rc < 0 ? (int)-rc : 0;
}

ENGINE_API int pthread_setschedparam(pthread_t th, int policy, const struct sched_param *p)
{
    struct thread_rec *r = tids_virtual_target(th);
    if (!r)
        return TIDS_REAL(pthread_setschedparam)(th, policy, p);
    if (tids_is_self(th)) { /* glibc also caches the policy: let it */
        struct tids_swap s;
        tids_swap_to_real(r, &s);
        int rc = TIDS_REAL(pthread_setschedparam)(th, policy, p);
        tids_swap_back(&s);
        return rc;
    }
    long rc = sys_call3(SYS_sched_setscheduler, r->real_tid, policy, p);
    return rc < 0 ? (int)-rc : 0;
}

ENGINE_API int pthread_getschedparam(pthread_t th, int *policy, struct sched_param *p)
{
    struct thread_rec *r = tids_virtual_target(th);
    if (!r)
        return TIDS_REAL(pthread_getschedparam)(th, policy, p);
    if (tids_is_self(th)) {
        struct tids_swap s;
        tids_swap_to_real(r, &s);
        int rc = TIDS_REAL(pthread_getschedparam)(th, policy, p);
        tids_swap_back(&s);
        return rc;
    }
    long pol = sys_call1(SYS_sched_getscheduler, r->real_tid);
    if (pol < 0)
        return (int)-pol;
    long rc = sys_call2(SYS_sched_getparam, r->real_tid, p);
    if (rc < 0)
        return (int)-rc;
    *policy = (int)pol;
    return 0;
}

ENGINE_API int pthread_setschedprio(pthread_t th, int prio)
{
    struct thread_rec *r = tids_virtual_target(th);
    if (!r)
        return TIDS_REAL(pthread_setschedprio)(th, prio);
    if (tids_is_self(th)) {
        struct tids_swap s;
        tids_swap_to_real(r, &s);
        int rc = TIDS_REAL(pthread_setschedprio)(th, prio);
        tids_swap_back(&s);
        return rc;
    }
    struct sched_param p = {.sched_priority = prio};
    long rc = sys_call2(SYS_sched_setparam, r->real_tid, &p);
    return rc < 0 ? (int)-rc : 0;
}

/* The mask of the thread with kernel tid `tid` into attr, sized as glibc
 * sizes it: doubled until the kernel takes it.  0 or an error number. */
static int tids_attr_set_affinity(pthread_attr_t *attr, pid_t tid)
{
    size_t size = 16;
    cpu_set_t *set = NULL;
    long n;
    do {
        size <<= 1;
        cpu_set_t *bigger = realloc(set, size);
        if (!bigger) {
            free(set);
            return ENOMEM;
        }
        set = bigger;
        n = sys_call3(SYS_sched_getaffinity, tid, size, set);
    } while (n == -EINVAL && size < TIDS_AFFINITY_MAX);
    int rc = n < 0 ? (int)-n : 0;
    if (rc == 0) {
        memset((char *)set + n, 0, size - (size_t)n);
        rc = pthread_attr_setaffinity_np(attr, size, set);
    }
    free(set);
    return rc;
}

/* Attributes glibc filled in and then destroyed, read back through the
 * getters (which read only the attributes themselves) into fresh ones. */
static int tids_attr_rebuild(pthread_attr_t *attr)
{
    pthread_attr_t fresh;
    void *addr;
    size_t size, guard;
    int v;
    struct sched_param sp;
    if (pthread_attr_getstack(attr, &addr, &size) != 0 || !addr || !size)
        return ESRCH; /* not what glibc leaves after that failure: give its error */
    int rc = pthread_attr_init(&fresh);
    if (rc)
        return rc;
    rc = pthread_attr_setstack(&fresh, addr, size);
    if (!rc && !pthread_attr_getguardsize(attr, &guard))
        rc = pthread_attr_setguardsize(&fresh, guard);
    if (!rc && !pthread_attr_getdetachstate(attr, &v))
        rc = pthread_attr_setdetachstate(&fresh, v);
    if (!rc && !pthread_attr_getinheritsched(attr, &v))
        rc = pthread_attr_setinheritsched(&fresh, v);
    if (!rc && !pthread_attr_getschedpolicy(attr, &v))
        rc = pthread_attr_setschedpolicy(&fresh, v);
    if (!rc && !pthread_attr_getschedparam(attr, &sp))
        rc = pthread_attr_setschedparam(&fresh, &sp);
    if (!rc && !pthread_attr_getscope(attr, &v))
        rc = pthread_attr_setscope(&fresh, v);
    if (rc) {
        pthread_attr_destroy(&fresh);
        return rc;
    }
    *attr = fresh;
    return 0;
}

ENGINE_API int pthread_getattr_np(pthread_t th, pthread_attr_t *attr)
{
    struct thread_rec *r = tids_virtual_target(th);
    if (!r)
        return TIDS_REAL(pthread_getattr_np)(th, attr);
    if (tids_is_self(th)) {
        struct tids_swap s;
        tids_swap_to_real(r, &s);
        int rc = TIDS_REAL(pthread_getattr_np)(th, attr);
        tids_swap_back(&s);
        return rc;
    }
    /* glibc asked the kernel for the affinity of the virtual tid: ESRCH
     * (and the attributes destroyed), or the mask of some other task. */
    int rc = TIDS_REAL(pthread_getattr_np)(th, attr);
    if (rc == ESRCH)
        rc = tids_attr_rebuild(attr);
    if (rc != 0)
        return rc;
    rc = tids_attr_set_affinity(attr, r->real_tid);
    if (rc)
        pthread_attr_destroy(attr);
    return rc;
}

ENGINE_API int pthread_cancel(pthread_t th)
{
    struct thread_rec *r = tids_is_self(th) ? NULL : tids_virtual_target(th);
    if (!r)
        return TIDS_REAL(pthread_cancel)(th);
    pid_t pid = sys_getpid();
    if (sys_call3(SYS_tgkill, pid, r->vtid, 0) == 0) {
        /* glibc's SIGCANCEL to the virtual tid would cancel the thread that
         * has it as its real tid: let glibc signal the target's instead. */
        struct tids_swap s;
        tids_swap_to_real(r, &s);
        int rc = TIDS_REAL(pthread_cancel)(th);
        tids_swap_back(&s);
        return rc;
    }
    int rc = TIDS_REAL(pthread_cancel)(th);
    if (rc != ESRCH)
        return rc; /* no signal was needed (or it did not fail) */
    /* glibc has marked the thread cancelled: wake it where it waits. */
    if (__atomic_load_n((pid_t *)(uintptr_t)r->tid_address, __ATOMIC_ACQUIRE) == 0)
        return 0; /* it exited meanwhile: no error, as in glibc */
    long k = sys_call3(SYS_tgkill, pid, r->real_tid, TIDS_SIGCANCEL);
    return k < 0 && k != -ESRCH ? (int)-k : 0;
}
