/*
 * bench-threads.c — the process bench/threads.sh checkpoints to see how long
 * parking many threads takes (issue 4, target 8).
 *
 *   bench-threads NBUSY NCOND NSLEEP DIR
 *
 * Starts NBUSY threads spinning on clock_gettime(CLOCK_MONOTONIC), NCOND
 * threads blocked in pthread_cond_wait (a futex wait nobody ends) and NSLEEP
 * threads looping on a 50 ms nanosleep — the states a real program's threads
 * are in — while the main thread ticks every 100 us.  Once every thread runs
 * it writes DIR/ready ("THREADS", the count from /proc/self/status).
 *
 * Under the engine it also registers an event hook (the plugin API, from the
 * executable itself; nothing happens when run plain) that stamps
 * CLOCK_MONOTONIC at
 *   PRESUSPEND     the checkpoint is requested, user threads still run
 *   PRECHECKPOINT  every thread is parked and the coordinator's SUSPENDED
 *                  barrier has passed
 *   RESUME         the image is durable, threads are about to be released
 *   THREAD_RESUME  (the last one) the last user thread leaves the parked state
 *
 * On SIGUSR1 the main thread writes DIR/report, "KEY VALUE" lines in
 * nanoseconds about the checkpoint since the last report, then starts anew:
 *   hooks 0|1         whether the engine called the hook
 *   park_ns           PRECHECKPOINT - PRESUSPEND: signalling and parking
 *                     every thread, plus one barrier round trip
 *   write_ns          RESUME - PRECHECKPOINT: saving state, writing the image
 *   release_ns        last THREAD_RESUME - RESUME: until every thread runs
 *   main_gap_ns       the largest gap between two ticks of the main thread
 *                     (how long the program was stopped, seen from inside;
 *                     with spinning threads it also waits for a CPU after
 *                     the release)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dmtcp.h"

#define BT_MAX_THREADS 4096
#define BT_TICK_NS 100000L
#define BT_SLEEP_NS 50000000L

static struct {
    _Atomic int started;
    volatile sig_atomic_t report_requested;
    pthread_mutex_t lock;
    pthread_cond_t never;
    _Atomic int hooks;
    _Atomic int64_t presuspend_ns, precheckpoint_ns, resume_ns, running_ns, last_thread_resume_ns;
} bt = {.lock = PTHREAD_MUTEX_INITIALIZER, .never = PTHREAD_COND_INITIALIZER};

static int64_t bt_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

/* Runs in the manager thread, and for THREAD_RESUME in each user thread as it
 * leaves the parked state (possibly in a signal handler): stamps only. */
static void bt_event_hook(dmtcp_event_t event, dmtcp_event_data_t *data)
{
    (void)data;
    int64_t now = bt_now_ns();
    atomic_store(&bt.hooks, 1);
    switch (event) {
    case DMTCP_EVENT_PRESUSPEND:
        atomic_store(&bt.presuspend_ns, now);
        break;
    case DMTCP_EVENT_PRECHECKPOINT:
        atomic_store(&bt.precheckpoint_ns, now);
        break;
    case DMTCP_EVENT_RESUME:
        atomic_store(&bt.resume_ns, now);
        break;
    case DMTCP_EVENT_RUNNING:
        atomic_store(&bt.running_ns, now);
        break;
    case DMTCP_EVENT_THREAD_RESUME: {
        int64_t old = atomic_load(&bt.last_thread_resume_ns);
        while (now > old && !atomic_compare_exchange_weak(&bt.last_thread_resume_ns, &old, now))
            ;
        break;
    }
    default:
        break;
    }
}

static dmtcp_plugin_descriptor_t bt_plugin = {
    .name = "bench-threads",
    .version = "1",
    .description = "stamps the checkpoint's events for bench/threads.sh",
    .event_hook = bt_event_hook,
};
DMTCP_DECL_PLUGIN(bt_plugin)

static void *bt_busy_thread(void *arg)
{
    (void)arg;
    atomic_fetch_add(&bt.started, 1);
    volatile int64_t sink = 0;
    for (;;)
        sink += bt_now_ns();
    return NULL;
}

static void *bt_cond_thread(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&bt.lock);
    atomic_fetch_add(&bt.started, 1);
    for (;;)
        pthread_cond_wait(&bt.never, &bt.lock);
    return NULL;
}

static void *bt_sleep_thread(void *arg)
{
    (void)arg;
    atomic_fetch_add(&bt.started, 1);
    for (;;) {
        struct timespec d = {0, BT_SLEEP_NS};
        nanosleep(&d, NULL);
    }
    return NULL;
}

static void bt_on_usr1(int sig)
{
    (void)sig;
    bt.report_requested = 1;
}

static void bt_write_file(const char *dir, const char *name, const char *text)
{
    char tmp[4096], path[4096];
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(tmp, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0 || rename(tmp, path) != 0) {
        fprintf(stderr, "bench-threads: cannot write %s: %s\n", path, strerror(errno));
        exit(1);
    }
}

static int bt_thread_count(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    int n = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "Threads: %d", &n) == 1)
            break;
    if (f)
        fclose(f);
    return n;
}

static void bt_report(const char *dir, int64_t main_gap_ns)
{
    int64_t pre = atomic_exchange(&bt.presuspend_ns, 0), ck = atomic_exchange(&bt.precheckpoint_ns, 0);
    int64_t res = atomic_exchange(&bt.resume_ns, 0), run = atomic_exchange(&bt.running_ns, 0);
    int64_t last = atomic_exchange(&bt.last_thread_resume_ns, 0);
    int hooks = atomic_load(&bt.hooks) && pre && ck && res;
    char text[1024];
    snprintf(text, sizeof text,
             "hooks %d\npark_ns %lld\nwrite_ns %lld\nrelease_ns %lld\nmain_gap_ns %lld\n", hooks,
             hooks ? (long long)(ck - pre) : -1, hooks ? (long long)(res - ck) : -1,
             hooks ? (long long)((last > res ? last : run) - res) : -1, (long long)main_gap_ns);
    bt_write_file(dir, "report", text);
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: bench-threads NBUSY NCOND NSLEEP DIR\n");
        return 1;
    }
    int nbusy = atoi(argv[1]), ncond = atoi(argv[2]), nsleep = atoi(argv[3]);
    const char *dir = argv[4];
    if (nbusy < 0 || ncond < 0 || nsleep < 0 || nbusy + ncond + nsleep > BT_MAX_THREADS) {
        fprintf(stderr, "bench-threads: thread counts must be >= 0 and at most %d in all\n", BT_MAX_THREADS);
        return 1;
    }
    struct sigaction sa = {.sa_handler = bt_on_usr1};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);

    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024); /* 200 threads stay small */
    for (int i = 0; i < nbusy + ncond + nsleep; i++) {
        pthread_t t;
        void *(*fn)(void *) = i < nbusy ? bt_busy_thread : i < nbusy + ncond ? bt_cond_thread : bt_sleep_thread;
        int rc = pthread_create(&t, &attr, fn, NULL);
        if (rc != 0) {
            fprintf(stderr, "bench-threads: thread %d: pthread_create: %s\n", i, strerror(rc));
            return 1;
        }
    }
    while (atomic_load(&bt.started) < nbusy + ncond + nsleep) {
        struct timespec d = {0, 1000000};
        nanosleep(&d, NULL);
    }
    char text[64];
    snprintf(text, sizeof text, "%d\n", bt_thread_count());
    bt_write_file(dir, "ready", text);

    /* The main thread's ticker: the largest gap is how long it was stopped. */
    int64_t last = bt_now_ns(), max_gap = 0;
    for (;;) {
        struct timespec d = {0, BT_TICK_NS};
        nanosleep(&d, NULL);
        int64_t now = bt_now_ns();
        if (now - last > max_gap)
            max_gap = now - last;
        last = now;
        if (bt.report_requested) {
            bt.report_requested = 0;
            bt_report(dir, max_gap);
            max_gap = 0;
            last = bt_now_ns();
        }
    }
}
