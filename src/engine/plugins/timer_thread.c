/*
 * timer_thread.c — timer_create(SIGEV_THREAD) served by a thread that a
 * checkpoint can park.
 *
 * glibc serves SIGEV_THREAD timers from one helper thread that blocks every
 * signal, the checkpoint signal included, and waits in sigwaitinfo: a thread
 * that can never be parked, so a program that once made such a timer (vim
 * does, for its search timeouts) could never be checkpointed.  Under the
 * engine these timers are the engine's own.  The kernel timer notifies
 * (SIGEV_THREAD_ID) one engine thread, "stasis:timers", which blocks every
 * signal but the checkpoint signal — a checkpoint parks it like any thread,
 * a restart recreates it — and waits for the timer signal; for each expiry
 * it starts a detached thread, with the attributes the program gave, that
 * runs the program's function with its value, as glibc does (and with the
 * same signal mask: everything blocked, here but the checkpoint signal).
 *
 * The timer signal is glibc's own (SIGTIMER, the first real-time signal),
 * which programs cannot use.  The timer_t handed back is the kernel's timer
 * id, which glibc's timer_settime, timer_gettime and timer_getoverrun take
 * as it is (glibc 2.34 and later; older glibcs keep their own timers);
 * timer_delete is wrapped to forget the function.  Kernel timers are not
 * recreated at restart yet (README): the thread is, and serves new timers.
 */
#include <dlfcn.h>
#include <errno.h>
#include <gnu/libc-version.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include "engine/engine.h"
#include "engine/plugins/pid.h"
#include "engine/sys.h"

#define TIMER_SIG 32 /* glibc's SIGTIMER (= __SIGRTMIN), reserved to the C library */
#define TIMER_MAX 1024

struct timer_rec {
    int in_use;
    int gen;            /* bumped at each reuse: a late signal of a deleted timer is ignored */
    int kernel_id;
    int has_attr;
    void (*fn)(union sigval);
    union sigval value;
    pthread_attr_t attr; /* the program's attributes, copied; always detached */
};

static struct {
    pthread_mutex_t lock; /* the table and the thread's start */
    struct timer_rec recs[TIMER_MAX];
    int helper_vtid;      /* the serving thread (its tid as the program knows it); 0 = none yet */
    int glibc_ok;         /* 1 = timer_t is the kernel id for glibc; -1 = no; 0 = not known yet */
    int warned_full;
} timer_state = {.lock = PTHREAD_MUTEX_INITIALIZER};

typedef int (*timer_create_fn)(clockid_t, struct sigevent *, timer_t *);
typedef int (*timer_delete_fn)(timer_t);

static void timer_lock(void)
{
    threads_critical_enter("timer_create"); /* not parked holding the table */
    pthread_mutex_lock(&timer_state.lock);
}

static void timer_unlock(void)
{
    pthread_mutex_unlock(&timer_state.lock);
    threads_critical_leave();
}

/* glibc 2.34 and later take a kernel timer id for a timer_t. */
static int timer_glibc_takes_kernel_ids(void)
{
    if (!timer_state.glibc_ok) {
        int major = 0, minor = 0;
        const char *v = gnu_get_libc_version();
        char *end;
        major = (int)strtol(v, &end, 10);
        if (*end == '.')
            minor = (int)strtol(end + 1, NULL, 10);
        timer_state.glibc_ok = (major > 2 || (major == 2 && minor >= 34)) ? 1 : -1;
    }
    return timer_state.glibc_ok > 0;
}

/* ---- the notification threads --------------------------------------- */
struct timer_notify {
    void (*fn)(union sigval);
    union sigval value;
};

static void *timer_notify_main(void *arg)
{
    struct timer_notify n = *(struct timer_notify *)arg;
    free(arg);
    n.fn(n.value);
    return NULL;
}

/* An expiry of the timer in slot|gen<<16: start its notification thread. */
static void timer_fire(int code)
{
    int slot = code & 0xffff, gen = code >> 16;
    if (slot < 0 || slot >= TIMER_MAX)
        return;
    timer_lock();
    struct timer_rec *r = &timer_state.recs[slot];
    if (r->in_use && r->gen == gen) {
        static pthread_attr_t detached;
        static int detached_ready;
        if (!detached_ready) {
            pthread_attr_init(&detached);
            pthread_attr_setdetachstate(&detached, PTHREAD_CREATE_DETACHED);
            detached_ready = 1;
        }
        struct timer_notify *n = malloc(sizeof *n);
        if (n) {
            n->fn = r->fn;
            n->value = r->value;
            pthread_t th;
            if (pthread_create(&th, r->has_attr ? &r->attr : &detached, timer_notify_main, n) != 0)
                free(n); /* as with glibc, an expiry without a thread is lost */
        }
    }
    timer_unlock();
}

/* ---- the serving thread ---------------------------------------------- */
static void *timer_helper_main(void *arg)
{
    (void)arg;
    uint64_t mask = ~(1ull << (engine_config.ckpt_signal - 1)); /* raw: glibc keeps SIGTIMER open */
    sys_call4(SYS_rt_sigprocmask, SIG_SETMASK, &mask, NULL, 8);
    prctl(PR_SET_NAME, "stasis:timers");
    atomic_store(&timer_state.helper_vtid, threads_current_vtid());
    sys_futex_wake(&timer_state.helper_vtid, 0x7fffffff);
    uint64_t want = 1ull << (TIMER_SIG - 1);
    for (;;) {
        siginfo_t si;
        long sig = sys_call4(SYS_rt_sigtimedwait, &want, &si, NULL, 8);
        if (sig == TIMER_SIG && si.si_code == SI_TIMER)
            timer_fire(si.si_value.sival_int);
    }
    return NULL;
}

/* Start the serving thread once (the table lock is held); 0 or -errno. */
static int timer_helper_start(void)
{
    if (atomic_load(&timer_state.helper_vtid))
        return 0;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    pthread_t th;
    int rc = pthread_create(&th, &at, timer_helper_main, NULL);
    pthread_attr_destroy(&at);
    if (rc)
        return -rc;
    struct timespec step = {0, 10 * 1000 * 1000};
    for (int i = 0; i < 500 && !atomic_load(&timer_state.helper_vtid); i++)
        sys_futex_wait(&timer_state.helper_vtid, 0, &step);
    return atomic_load(&timer_state.helper_vtid) ? 0 : -EAGAIN;
}

/* The serving thread's kernel tid now (a restart changed it). */
static pid_t timer_helper_real_tid(void)
{
    pid_t v = atomic_load(&timer_state.helper_vtid);
    struct thread_rec *r = threads_find_by_vtid(v);
    return r ? r->real_tid : v;
}

/* ---- the program's calls --------------------------------------------- */
static void timer_copy_attr(pthread_attr_t *to, const pthread_attr_t *from)
{
    size_t size;
    int v;
    struct sched_param sp;
    cpu_set_t cpus;
    pthread_attr_init(to);
    pthread_attr_setdetachstate(to, PTHREAD_CREATE_DETACHED);
    if (!pthread_attr_getstacksize(from, &size))
        pthread_attr_setstacksize(to, size);
    if (!pthread_attr_getguardsize(from, &size))
        pthread_attr_setguardsize(to, size);
    if (!pthread_attr_getinheritsched(from, &v))
        pthread_attr_setinheritsched(to, v);
    if (!pthread_attr_getschedpolicy(from, &v))
        pthread_attr_setschedpolicy(to, v);
    if (!pthread_attr_getschedparam(from, &sp))
        pthread_attr_setschedparam(to, &sp);
    if (!pthread_attr_getscope(from, &v))
        pthread_attr_setscope(to, v);
    if (!pthread_attr_getaffinity_np(from, sizeof cpus, &cpus) && CPU_COUNT(&cpus) > 0)
        pthread_attr_setaffinity_np(to, sizeof cpus, &cpus);
}

/* A free slot, now in use (the lock is held); -1 if the table is full. */
static int timer_take_slot(void)
{
    for (int i = 0; i < TIMER_MAX; i++)
        if (!timer_state.recs[i].in_use) {
            timer_state.recs[i].in_use = 1;
            timer_state.recs[i].gen = (timer_state.recs[i].gen + 1) & 0x7fff;
            return i;
        }
    return -1;
}

static void timer_free_slot(struct timer_rec *r)
{
    if (r->has_attr)
        pthread_attr_destroy(&r->attr);
    r->has_attr = 0;
    r->in_use = 0;
}

/* The engine's SIGEV_THREAD timer: 0 with *out set, or -errno; -ENOSPC
 * when the table is full (glibc then makes it). */
static int timer_create_ours(clockid_t clock, const struct sigevent *ev, timer_t *out)
{
    timer_lock();
    int rc = timer_helper_start();
    int slot = rc < 0 ? -1 : timer_take_slot();
    if (rc == 0 && slot < 0)
        rc = -ENOSPC;
    if (rc < 0) {
        timer_unlock();
        return rc;
    }
    struct timer_rec *r = &timer_state.recs[slot];
    r->fn = ev->sigev_notify_function;
    r->value = ev->sigev_value;
    r->has_attr = ev->sigev_notify_attributes != NULL;
    if (r->has_attr)
        timer_copy_attr(&r->attr, ev->sigev_notify_attributes);
    struct sigevent kev;
    memset(&kev, 0, sizeof kev);
    kev.sigev_notify = SIGEV_THREAD_ID;
    kev.sigev_signo = TIMER_SIG;
    kev.sigev_value.sival_int = slot | (r->gen << 16);
    kev._sigev_un._tid = timer_helper_real_tid();
    int id = 0;
    rc = (int)sys_call3(SYS_timer_create, clock, &kev, &id);
    if (rc < 0)
        timer_free_slot(r);
    else
        r->kernel_id = id;
    timer_unlock();
    if (rc == 0)
        *out = (timer_t)(intptr_t)id;
    return rc;
}

ENGINE_API int timer_create(clockid_t clock, struct sigevent *ev, timer_t *out)
{
    static timer_create_fn real;
    if (!real)
        real = (timer_create_fn)dlsym(RTLD_NEXT, "timer_create");
    /* A CPU clock and a SIGEV_THREAD_ID thread are named by the program's
     * ids: the kernel needs its own. */
    struct sigevent by_real_tid;
    clock = pthread_tids_clock_to_real(clock);
    ev = (struct sigevent *)pthread_tids_sigevent_to_real(ev, &by_real_tid);
    if (!ev || ev->sigev_notify != SIGEV_THREAD || threads_state.disabled || !timer_glibc_takes_kernel_ids())
        return real ? real(clock, ev, out) : (errno = ENOSYS, -1);
    if (!ev->sigev_notify_function) {
        errno = EINVAL;
        return -1;
    }
    int rc = timer_create_ours(clock, ev, out);
    if (rc == -ENOSPC) {
        if (!timer_state.warned_full++)
            engine_warn("more than %d SIGEV_THREAD timers: glibc serves the next ones, from a thread that "
                        "blocks every signal, so checkpoints will be abandoned while it exists",
                        TIMER_MAX);
        return real ? real(clock, ev, out) : (errno = ENOSYS, -1);
    }
    if (rc < 0) {
        errno = -rc;
        return -1;
    }
    return 0;
}

ENGINE_API int timer_delete(timer_t t)
{
    static timer_delete_fn real;
    if (!real)
        real = (timer_delete_fn)dlsym(RTLD_NEXT, "timer_delete");
    if ((intptr_t)t >= 0 && (intptr_t)t <= INT32_MAX) {
        timer_lock();
        for (int i = 0; i < TIMER_MAX; i++) {
            struct timer_rec *r = &timer_state.recs[i];
            if (r->in_use && r->kernel_id == (int)(intptr_t)t) {
                timer_free_slot(r);
                break;
            }
        }
        timer_unlock();
    }
    return real ? real(t) : (errno = ENOSYS, -1);
}

/* A forked child has no timers and no serving thread; a restarted process
 * has the thread but no kernel timers (every thread is parked: no lock). */
static void timer_hook(dmtcp_event_t ev, dmtcp_event_data_t *data)
{
    (void)data;
    if (ev == DMTCP_EVENT_ATFORK_CHILD) {
        pthread_mutex_init(&timer_state.lock, NULL);
        memset(timer_state.recs, 0, sizeof timer_state.recs);
        timer_state.helper_vtid = 0;
    } else if (ev == DMTCP_EVENT_RESTART) {
        for (int i = 0; i < TIMER_MAX; i++)
            timer_state.recs[i].in_use = 0;
    }
}

static const dmtcp_plugin_descriptor_t timer_descriptor = {
    .api_version = DMTCP_NATIVE_PLUGIN_API_VERSION,
    .name = "timer_thread",
    .version = STASIS_VERSION,
    .description = "timer_create(SIGEV_THREAD) served by a thread a checkpoint can park",
    .event_hook = timer_hook,
};
PLUGIN_DECL_BUILTIN(timer_descriptor, 50, NULL);
