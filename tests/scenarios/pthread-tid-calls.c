/*
 * pthread-tid-calls.c — the calls that hand a thread's id to the kernel work
 * on the right thread after a restart, although glibc keeps each thread's
 * original (virtual) tid in its descriptor:
 *   pthread_getattr_np on itself, on a worker and (from the worker) on the
 *   main thread; pthread_{get,set}affinity_np; sched_{get,set}affinity,
 *   sched_{get,set}scheduler, sched_{get,set}param, getpriority/setpriority
 *   and prlimit with a gettid() value; the same through syscall(2);
 *   pthread_{get,set}schedparam and pthread_setschedprio; pthread_getcpuclockid
 *   and clock_getcpuclockid (a clock id taken before the checkpoint, too) read
 *   with clock_gettime; pthread_sigqueue to a thread with a handler; and
 *   pthread_cancel of threads blocked in read() (of stdin, a FIFO), pthread_cond_wait (on an
 *   error-checking mutex, which the cleanup handler must be able to unlock)
 *   and sleep(): each cleanup handler runs and pthread_join returns
 *   PTHREAD_CANCELED.
 * Where a call changes something (affinity, policy, nice value) the worker
 * itself reads it back with the "self" form (id 0), so a call that reached
 * another thread or process fails the check.  Every failure names the call
 * and its error.
 */
// SCEN_STDIN: fifo
// SCEN_MODES: plain continue restart restart2 ckpt-after-restart forked forked-restart raw lazy incremental generations
#include "scenario.h"

#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>

/* ---- a worker that runs requests from the main thread ------------------- */
#define BURN_NS 60000000ll

enum req { REQ_NONE, REQ_AFFINITY, REQ_POLICY, REQ_NICE, REQ_BURN, REQ_ATTR_MAIN, REQ_STOP };

static struct {
    atomic_int req;  /* posted by main */
    atomic_int done; /* = req once the worker has answered */
    cpu_set_t affinity;
    int policy, nice, err;
    pid_t tid;
    uintptr_t stack_local; /* address of a variable on its stack */
    pthread_t main_thread;
    uintptr_t main_stack_local;
} w;

static void worker_attr_of_main(void)
{
    pthread_attr_t a;
    w.err = pthread_getattr_np(w.main_thread, &a);
    if (w.err)
        return;
    void *addr;
    size_t size;
    pthread_attr_getstack(&a, &addr, &size);
    pthread_attr_destroy(&a);
    if (w.main_stack_local < (uintptr_t)addr || w.main_stack_local >= (uintptr_t)addr + size)
        w.err = -1;
}

static void *worker(void *arg)
{
    (void)arg;
    volatile int local = 0;
    w.stack_local = (uintptr_t)&local;
    w.tid = gettid();
    atomic_store(&w.done, -1);
    for (;;) {
        int r = atomic_load(&w.req);
        if (r == REQ_NONE || r == atomic_load(&w.done)) {
            scen_sleep_ms(1);
            continue;
        }
        w.err = 0;
        switch (r) {
        case REQ_AFFINITY:
            if (sched_getaffinity(0, sizeof w.affinity, &w.affinity) != 0)
                w.err = errno;
            break;
        case REQ_POLICY:
            w.policy = sched_getscheduler(0);
            if (w.policy < 0)
                w.err = errno;
            break;
        case REQ_NICE:
            errno = 0;
            w.nice = getpriority(PRIO_PROCESS, 0);
            w.err = errno;
            break;
        case REQ_BURN: { /* 60 ms of its own CPU time (the machine may be busy) */
            struct timespec t0, t;
            volatile uint64_t x = 0;
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
            do {
                for (int i = 0; i < 100000; i++)
                    x++;
                clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
            } while ((t.tv_sec - t0.tv_sec) * 1000000000ll + (t.tv_nsec - t0.tv_nsec) < BURN_NS);
            break;
        }
        case REQ_ATTR_MAIN:
            worker_attr_of_main();
            break;
        case REQ_STOP:
            atomic_store(&w.done, r);
            return NULL;
        }
        atomic_store(&w.req, REQ_NONE);
        atomic_store(&w.done, r);
    }
}

/* Runs request r in the worker and waits for its answer. */
static void ask(enum req r)
{
    atomic_store(&w.done, REQ_NONE);
    atomic_store(&w.req, r);
    SCEN_WAIT_FOR(atomic_load(&w.done) == (int)r, "the worker did not answer request %d", r);
}

/* ---- pthread_sigqueue target ------------------------------------------- */
static pthread_t sig_thread;
static atomic_int sig_value = -1, sig_in_target = -1;
static atomic_int sig_stop;

static void on_queued(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    atomic_store(&sig_in_target, pthread_equal(pthread_self(), sig_thread));
    atomic_store(&sig_value, si->si_value.sival_int);
}

static void *sig_waiter(void *arg)
{
    (void)arg;
    while (!atomic_load(&sig_stop))
        scen_sleep_ms(2);
    return NULL;
}

/* ---- threads to cancel ------------------------------------------------- */
enum { C_READ, C_COND, C_SLEEP, NCANCEL };
static const char *const cancel_what[NCANCEL] = { "read()", "pthread_cond_wait", "sleep()" };
static atomic_int cancel_tid[NCANCEL];
static atomic_int cleanup_ran[NCANCEL];
static atomic_int cond_unlock_rc = -1;
static pthread_mutex_t cond_mutex; /* error-checking */
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;

static void cleanup(void *arg)
{
    int i = (int)(intptr_t)arg;
    if (i == C_COND) /* pthread_cond_wait took the mutex back before the handlers run */
        atomic_store(&cond_unlock_rc, pthread_mutex_unlock(&cond_mutex));
    atomic_store(&cleanup_ran[i], 1);
}

static void *cancel_target(void *arg)
{
    int i = (int)(intptr_t)arg;
    char c;
    pthread_cleanup_push(cleanup, arg);
    switch (i) {
    case C_READ: /* stdin: a FIFO that never ends (the driver writes a line into it after check) */
        atomic_store(&cancel_tid[i], gettid());
        for (;;) {
            ssize_t n = read(STDIN_FILENO, &c, 1);
            if (n == 0 || (n < 0 && errno != EINTR))
                break;
        }
        break;
    case C_COND:
        pthread_mutex_lock(&cond_mutex);
        atomic_store(&cancel_tid[i], gettid());
        for (;;) /* nobody signals it */
            pthread_cond_wait(&cond, &cond_mutex);
        break;
    case C_SLEEP:
        atomic_store(&cancel_tid[i], gettid());
        for (;;)
            sleep(1000);
        break;
    }
    pthread_cleanup_pop(0);
    return NULL; /* not reached unless the blocking call failed */
}

/* ---- the checks -------------------------------------------------------- */
static void check_attr_self(void)
{
    pthread_attr_t a;
    int rc = pthread_getattr_np(pthread_self(), &a);
    if (rc)
        fail("pthread_getattr_np(self): %s", strerror(rc));
    void *addr;
    size_t size;
    volatile int local;
    pthread_attr_getstack(&a, &addr, &size);
    cpu_set_t in_attr, mine;
    rc = pthread_attr_getaffinity_np(&a, sizeof in_attr, &in_attr);
    pthread_attr_destroy(&a);
    if (rc)
        fail("pthread_attr_getaffinity_np on pthread_getattr_np(self)'s result: %s", strerror(rc));
    if ((uintptr_t)&local < (uintptr_t)addr || (uintptr_t)&local >= (uintptr_t)addr + size)
        fail("pthread_getattr_np(self): stack %p+%zu does not hold the caller's stack (%p)", addr, size,
             (void *)&local);
    if (sched_getaffinity(0, sizeof mine, &mine) != 0)
        fail_errno("sched_getaffinity(0)");
    if (!CPU_EQUAL(&in_attr, &mine))
        fail("pthread_getattr_np(self): its affinity differs from sched_getaffinity(0)");
}

static void check_attr_other(pthread_t t)
{
    pthread_attr_t a;
    int rc = pthread_getattr_np(t, &a);
    if (rc)
        fail("pthread_getattr_np(worker): %s", strerror(rc));
    void *addr;
    size_t size;
    int detach;
    pthread_attr_getstack(&a, &addr, &size);
    pthread_attr_getdetachstate(&a, &detach);
    cpu_set_t in_attr;
    rc = pthread_attr_getaffinity_np(&a, sizeof in_attr, &in_attr);
    pthread_attr_destroy(&a);
    if (rc)
        fail("pthread_attr_getaffinity_np on pthread_getattr_np(worker)'s result: %s", strerror(rc));
    if (w.stack_local < (uintptr_t)addr || w.stack_local >= (uintptr_t)addr + size)
        fail("pthread_getattr_np(worker): stack %p+%zu does not hold the worker's stack (%p)", addr, size,
             (void *)w.stack_local);
    if (detach != PTHREAD_CREATE_JOINABLE)
        fail("pthread_getattr_np(worker): not joinable");
    ask(REQ_AFFINITY);
    if (w.err)
        fail("worker: sched_getaffinity(0): %s", strerror(w.err));
    if (!CPU_EQUAL(&in_attr, &w.affinity))
        fail("pthread_getattr_np(worker): its affinity differs from the worker's own");
    ask(REQ_ATTR_MAIN);
    if (w.err == -1)
        fail("pthread_getattr_np(main thread) from the worker: its stack does not hold the main thread's");
    if (w.err)
        fail("pthread_getattr_np(main thread) from the worker: %s", strerror(w.err));
}

static int first_cpu(const cpu_set_t *s)
{
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, s))
            return c;
    fail("the affinity mask is empty");
}

/* Sets the worker's affinity to one CPU with each interface in turn, has
 * the worker read it back, and puts the original mask back. */
static void check_affinity(pthread_t t)
{
    cpu_set_t orig, one, got;
    int rc = pthread_getaffinity_np(t, sizeof orig, &orig);
    if (rc)
        fail("pthread_getaffinity_np(worker): %s", strerror(rc));
    ask(REQ_AFFINITY);
    if (w.err || !CPU_EQUAL(&orig, &w.affinity))
        fail("pthread_getaffinity_np(worker) differs from the worker's own sched_getaffinity(0)");
    if (sched_getaffinity(w.tid, sizeof got, &got) != 0)
        fail_errno("sched_getaffinity(worker's gettid() %d)", w.tid);
    if (!CPU_EQUAL(&orig, &got))
        fail("sched_getaffinity(worker's gettid()) differs from the worker's own");
    if (syscall(SYS_sched_getaffinity, w.tid, sizeof got, &got) <= 0)
        fail_errno("syscall(SYS_sched_getaffinity, worker's gettid() %d)", w.tid);
    if (sched_getaffinity(gettid(), sizeof got, &got) != 0)
        fail_errno("sched_getaffinity(gettid() %d)", gettid());
    cpu_set_t self;
    if ((rc = pthread_getaffinity_np(pthread_self(), sizeof self, &self)) != 0)
        fail("pthread_getaffinity_np(self): %s", strerror(rc));
    if (!CPU_EQUAL(&got, &self))
        fail("sched_getaffinity(gettid()) differs from pthread_getaffinity_np(self)");

    CPU_ZERO(&one);
    CPU_SET(first_cpu(&orig), &one);
    for (int way = 0; way < 3; way++) {
        const char *how = way == 0 ? "pthread_setaffinity_np(worker)"
                          : way == 1 ? "sched_setaffinity(worker's gettid())"
                                     : "syscall(SYS_sched_setaffinity, worker's gettid())";
        if (way == 0 && (rc = pthread_setaffinity_np(t, sizeof one, &one)) != 0)
            fail("%s: %s", how, strerror(rc));
        if (way == 1 && sched_setaffinity(w.tid, sizeof one, &one) != 0)
            fail_errno("%s", how);
        if (way == 2 && syscall(SYS_sched_setaffinity, w.tid, sizeof one, &one) != 0)
            fail_errno("%s", how);
        ask(REQ_AFFINITY);
        if (w.err || !CPU_EQUAL(&one, &w.affinity))
            fail("%s: the worker's own affinity did not become the one CPU", how);
        if ((rc = pthread_setaffinity_np(t, sizeof orig, &orig)) != 0)
            fail("pthread_setaffinity_np(worker) back to its mask: %s", strerror(rc));
        ask(REQ_AFFINITY);
        if (w.err || !CPU_EQUAL(&orig, &w.affinity))
            fail("pthread_setaffinity_np(worker) back: the worker's own affinity is not the original");
    }
}

static void expect_worker_policy(int policy, const char *how)
{
    ask(REQ_POLICY);
    if (w.err)
        fail("worker: sched_getscheduler(0): %s", strerror(w.err));
    if (w.policy != policy)
        fail("%s: the worker's own policy is %d, expected %d", how, w.policy, policy);
}

/* SCHED_BATCH and SCHED_OTHER: both open to unprivileged users. */
static void check_sched(pthread_t t)
{
    struct sched_param p = { 0 };
    int policy, rc;
    if ((rc = pthread_setschedparam(t, SCHED_BATCH, &p)) != 0)
        fail("pthread_setschedparam(worker, SCHED_BATCH): %s", strerror(rc));
    expect_worker_policy(SCHED_BATCH, "pthread_setschedparam(worker, SCHED_BATCH)");
    if ((rc = pthread_getschedparam(t, &policy, &p)) != 0)
        fail("pthread_getschedparam(worker): %s", strerror(rc));
    if (policy != SCHED_BATCH)
        fail("pthread_getschedparam(worker) gives policy %d, expected SCHED_BATCH", policy);
    if ((rc = sched_getscheduler(w.tid)) != SCHED_BATCH)
        fail("sched_getscheduler(worker's gettid() %d) gives %d (%s), expected SCHED_BATCH", w.tid, rc,
             rc < 0 ? strerror(errno) : "no error");
    if ((rc = (int)syscall(SYS_sched_getscheduler, w.tid)) != SCHED_BATCH)
        fail("syscall(SYS_sched_getscheduler, worker's gettid()) gives %d (%s)", rc,
             rc < 0 ? strerror(errno) : "no error");
    if (sched_getparam(w.tid, &p) != 0)
        fail_errno("sched_getparam(worker's gettid() %d)", w.tid);
    if (sched_setparam(w.tid, &p) != 0)
        fail_errno("sched_setparam(worker's gettid() %d)", w.tid);
    if (sched_setscheduler(w.tid, SCHED_OTHER, &p) != 0)
        fail_errno("sched_setscheduler(worker's gettid() %d, SCHED_OTHER)", w.tid);
    expect_worker_policy(SCHED_OTHER, "sched_setscheduler(worker's gettid(), SCHED_OTHER)");
    if ((rc = pthread_setschedprio(t, 0)) != 0)
        fail("pthread_setschedprio(worker, 0): %s", strerror(rc));

    /* the calling thread itself, through glibc's own bookkeeping */
    if ((rc = pthread_setschedparam(pthread_self(), SCHED_BATCH, &p)) != 0)
        fail("pthread_setschedparam(self, SCHED_BATCH): %s", strerror(rc));
    if (sched_getscheduler(0) != SCHED_BATCH)
        fail("pthread_setschedparam(self, SCHED_BATCH): sched_getscheduler(0) gives %d", sched_getscheduler(0));
    if ((rc = pthread_getschedparam(pthread_self(), &policy, &p)) != 0 || policy != SCHED_BATCH)
        fail("pthread_getschedparam(self): %s, policy %d", strerror(rc), policy);
    if ((rc = pthread_setschedprio(pthread_self(), 0)) != 0)
        fail("pthread_setschedprio(self, 0): %s", strerror(rc));
    if ((rc = pthread_setschedparam(pthread_self(), SCHED_OTHER, &p)) != 0)
        fail("pthread_setschedparam(self, SCHED_OTHER): %s", strerror(rc));
    if (sched_getscheduler(gettid()) != SCHED_OTHER)
        fail("sched_getscheduler(gettid() %d) gives %d (%s), expected SCHED_OTHER", gettid(),
             sched_getscheduler(gettid()), strerror(errno));
}

/* Nice values: raising one is open to everybody, lowering it is not, so
 * the worker's goes up by one (up to 19). */
static void check_priority(void)
{
    errno = 0;
    int nice = getpriority(PRIO_PROCESS, w.tid);
    if (errno)
        fail_errno("getpriority(PRIO_PROCESS, worker's gettid() %d)", w.tid);
    ask(REQ_NICE);
    if (w.err || w.nice != nice)
        fail("getpriority(PRIO_PROCESS, worker's gettid()) gives %d, the worker's own is %d (%s)", nice, w.nice,
             strerror(w.err));
    int want = nice < 19 ? nice + 1 : 19;
    if (setpriority(PRIO_PROCESS, w.tid, want) != 0)
        fail_errno("setpriority(PRIO_PROCESS, worker's gettid() %d, %d)", w.tid, want);
    ask(REQ_NICE);
    if (w.err || w.nice != want)
        fail("setpriority(PRIO_PROCESS, worker's gettid(), %d): the worker's own nice value is %d", want, w.nice);
}

static void check_prlimit(void)
{
    struct rlimit lim, via_pid, via_tid;
    if (getrlimit(RLIMIT_NOFILE, &lim) != 0)
        fail_errno("getrlimit(RLIMIT_NOFILE)");
    if (prlimit(getpid(), RLIMIT_NOFILE, NULL, &via_pid) != 0)
        fail_errno("prlimit(getpid() %d, RLIMIT_NOFILE)", getpid());
    if (prlimit(w.tid, RLIMIT_NOFILE, NULL, &via_tid) != 0)
        fail_errno("prlimit(worker's gettid() %d, RLIMIT_NOFILE)", w.tid);
    if (via_pid.rlim_cur != lim.rlim_cur || via_tid.rlim_max != lim.rlim_max)
        fail("prlimit(RLIMIT_NOFILE) by pid or tid differs from getrlimit");
    if (prlimit(getpid(), RLIMIT_NOFILE, &lim, NULL) != 0)
        fail_errno("prlimit(getpid(), RLIMIT_NOFILE, unchanged limits)");
}

static uint64_t clock_ns(clockid_t c, const char *what)
{
    struct timespec ts;
    if (clock_gettime(c, &ts) != 0)
        fail_errno("clock_gettime(%s)", what);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void check_cpu_clocks(pthread_t t, clockid_t worker_clock_before)
{
    clockid_t c, self_c, proc_c;
    int rc = pthread_getcpuclockid(t, &c);
    if (rc)
        fail("pthread_getcpuclockid(worker): %s", strerror(rc));
    if ((rc = pthread_getcpuclockid(pthread_self(), &self_c)) != 0)
        fail("pthread_getcpuclockid(self): %s", strerror(rc));
    if ((rc = clock_getcpuclockid(getpid(), &proc_c)) != 0)
        fail("clock_getcpuclockid(getpid() %d): %s", getpid(), strerror(rc));
    struct timespec res;
    if (clock_getres(c, &res) != 0)
        fail_errno("clock_getres(pthread_getcpuclockid(worker))");
    uint64_t self0 = clock_ns(self_c, "pthread_getcpuclockid(self)");
    uint64_t w0 = clock_ns(c, "pthread_getcpuclockid(worker)");
    uint64_t before0 = clock_ns(worker_clock_before, "the worker's clock id taken before the checkpoint");
    uint64_t p0 = clock_ns(proc_c, "clock_getcpuclockid(getpid())");
    ask(REQ_BURN); /* 60 ms of the worker's CPU time */
    uint64_t w1 = clock_ns(c, "pthread_getcpuclockid(worker)");
    uint64_t before1 = clock_ns(worker_clock_before, "the worker's clock id taken before the checkpoint");
    uint64_t p1 = clock_ns(proc_c, "clock_getcpuclockid(getpid())");
    uint64_t self1 = clock_ns(self_c, "pthread_getcpuclockid(self)");
    /* the same CPU time, through each id: at least the 60 ms burned */
    if (w1 - w0 < BURN_NS)
        fail("the worker's CPU clock advanced %.1f ms while it burned 60 ms of CPU", (double)(w1 - w0) / 1e6);
    if (before1 - before0 < BURN_NS)
        fail("the worker's CPU clock id taken before the checkpoint advanced %.1f ms while it burned 60 ms",
             (double)(before1 - before0) / 1e6);
    if (p1 - p0 < BURN_NS)
        fail("the process CPU clock advanced %.1f ms while the worker burned 60 ms", (double)(p1 - p0) / 1e6);
    if (self1 - self0 >= (w1 - w0) / 2) /* the main thread mostly slept meanwhile */
        fail("the main thread's CPU clock advanced %.1f ms while the worker burned %.1f ms: it is not the main "
             "thread's",
             (double)(self1 - self0) / 1e6, (double)(w1 - w0) / 1e6);
}

static void check_sigqueue(void)
{
    union sigval v = { .sival_int = 4242 };
    int rc = pthread_sigqueue(sig_thread, SIGRTMIN + 2, v);
    if (rc)
        fail("pthread_sigqueue(sig_thread, SIGRTMIN+2): %s", strerror(rc));
    SCEN_WAIT_FOR(atomic_load(&sig_value) != -1, "the handler never ran after pthread_sigqueue");
    if (atomic_load(&sig_value) != 4242)
        fail("pthread_sigqueue: the handler got value %d, expected 4242", atomic_load(&sig_value));
    if (atomic_load(&sig_in_target) != 1)
        fail("pthread_sigqueue: the handler ran in another thread than the target");
}

static void check_cancel(pthread_t t[NCANCEL])
{
    for (int i = 0; i < NCANCEL; i++) {
        int rc = pthread_cancel(t[i]);
        if (rc)
            fail("pthread_cancel(thread blocked in %s): %s", cancel_what[i], strerror(rc));
    }
    for (int i = 0; i < NCANCEL; i++) {
        void *ret;
        int rc = pthread_join(t[i], &ret);
        if (rc)
            fail("pthread_join(cancelled thread blocked in %s): %s", cancel_what[i], strerror(rc));
        if (ret != PTHREAD_CANCELED)
            fail("pthread_join(thread blocked in %s) after pthread_cancel: not PTHREAD_CANCELED", cancel_what[i]);
        if (!atomic_load(&cleanup_ran[i]))
            fail("the cleanup handler of the thread blocked in %s did not run", cancel_what[i]);
    }
    if (atomic_load(&cond_unlock_rc) != 0)
        fail("the cancelled pthread_cond_wait thread's cleanup could not unlock the error-checking mutex: %s",
             strerror(atomic_load(&cond_unlock_rc)));
}

int main(void)
{
    volatile int local = 0;
    w.main_thread = pthread_self();
    w.main_stack_local = (uintptr_t)&local;
    pthread_mutexattr_t ma;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ERRORCHECK);
    pthread_mutex_init(&cond_mutex, &ma);

    struct sigaction sa = { .sa_sigaction = on_queued, .sa_flags = SA_SIGINFO | SA_RESTART };
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGRTMIN + 2, &sa, NULL) != 0)
        fail_errno("sigaction(SIGRTMIN+2)");

    pthread_t wt = scen_thread(worker, NULL);
    SCEN_WAIT_FOR(atomic_load(&w.done) == -1, "the worker did not start");
    sig_thread = scen_thread(sig_waiter, NULL);
    pthread_t ct[NCANCEL];
    for (int i = 0; i < NCANCEL; i++) {
        ct[i] = scen_thread(cancel_target, (void *)(intptr_t)i);
        SCEN_WAIT_FOR(atomic_load(&cancel_tid[i]) != 0, "the thread to block in %s did not start", cancel_what[i]);
    }
    scen_wait_in_syscall(cancel_tid[C_READ], SYS_read, "read");
    scen_wait_in_syscall(cancel_tid[C_COND], SYS_futex, "pthread_cond_wait");
    scen_wait_in_syscall(cancel_tid[C_SLEEP], SYS_clock_nanosleep, "sleep");
    clockid_t worker_clock;
    int rc = pthread_getcpuclockid(wt, &worker_clock);
    if (rc)
        fail("pthread_getcpuclockid(worker) before the checkpoint: %s", strerror(rc));

    scen_ready();
    scen_wait_check();

    check_attr_self();
    check_attr_other(wt);
    check_affinity(wt);
    check_sched(wt);
    check_priority();
    check_prlimit();
    check_cpu_clocks(wt, worker_clock);
    check_sigqueue();
    if (syscall(SYS_tgkill, getpid(), w.tid, 0) != 0)
        fail_errno("syscall(SYS_tgkill, getpid(), worker's gettid(), 0)");
    check_cancel(ct);

    ask(REQ_STOP);
    scen_join(wt);
    atomic_store(&sig_stop, 1);
    scen_join(sig_thread);
    pass();
}
