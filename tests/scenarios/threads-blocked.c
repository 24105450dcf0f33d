/*
 * threads-blocked.c — threads blocked in the kernel across the checkpoint
 * come back alive: in nanosleep, in pthread_cond_wait, on a contended mutex,
 * in poll, and reading a regular file.  Interrupted calls may return EINTR;
 * the loops retry with the remaining time, as robust programs do.  After the
 * check each thread must make progress.
 */
#include "scenario.h"

#include <poll.h>

#define FILE_SIZE ((size_t)4 << 20)

enum { T_SLEEP, T_COND, T_MUTEX, T_POLL, T_READ, NTHREADS };
static const char *const names[NTHREADS] = { "nanosleep", "pthread_cond_wait", "mutex", "poll",
                                             "read" };

static atomic_long progress[NTHREADS];
static atomic_int stop;
static atomic_int n_started;

static pthread_mutex_t cond_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static long cond_gen;
static pthread_mutex_t contended = PTHREAD_MUTEX_INITIALIZER;
static int read_fd;

static void *sleeper(void *arg)
{
    (void)arg;
    atomic_fetch_add(&n_started, 1);
    while (!atomic_load(&stop)) {
        struct timespec req = { 0, 300000000L }, rem;
        while (nanosleep(&req, &rem) != 0) {
            if (errno != EINTR)
                fail_errno("nanosleep");
            req = rem;
        }
        atomic_fetch_add(&progress[T_SLEEP], 1);
    }
    return NULL;
}

static void *cond_waiter(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&cond_lock);
    atomic_fetch_add(&n_started, 1);
    long gen = cond_gen;
    while (!atomic_load(&stop)) {
        while (cond_gen == gen)
            pthread_cond_wait(&cond, &cond_lock);
        gen = cond_gen;
        atomic_fetch_add(&progress[T_COND], 1);
    }
    pthread_mutex_unlock(&cond_lock);
    return NULL;
}

static void *mutex_waiter(void *arg)
{
    (void)arg;
    atomic_fetch_add(&n_started, 1);
    while (!atomic_load(&stop)) {
        int rc = pthread_mutex_lock(&contended); /* main holds it until the check */
        if (rc != 0)
            fail("pthread_mutex_lock: %s", strerror(rc));
        atomic_fetch_add(&progress[T_MUTEX], 1);
        pthread_mutex_unlock(&contended);
        scen_sleep_ms(5);
    }
    return NULL;
}

static void *poller(void *arg)
{
    (void)arg;
    atomic_fetch_add(&n_started, 1);
    while (!atomic_load(&stop)) {
        uint64_t end = scen_now_ns() + 300000000ull;
        for (;;) { /* poll with no fds: a timed wait, retried with what remains */
            uint64_t now = scen_now_ns();
            int left = now >= end ? 0 : (int)((end - now + 999999) / 1000000);
            int rc = poll(NULL, 0, left);
            if (rc == 0)
                break;
            if (rc < 0 && errno != EINTR)
                fail_errno("poll");
        }
        atomic_fetch_add(&progress[T_POLL], 1);
    }
    return NULL;
}

static void *reader(void *arg)
{
    (void)arg;
    static char buf[65536];
    size_t pos = 0;
    atomic_fetch_add(&n_started, 1);
    while (!atomic_load(&stop)) {
        ssize_t n = read(read_fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            fail_errno("read");
        if (n == 0) { /* end of file: start over */
            if (pos != FILE_SIZE)
                fail("reader hit end of file at %zu, file is %zu bytes", pos, FILE_SIZE);
            if (lseek(read_fd, 0, SEEK_SET) != 0)
                fail_errno("lseek");
            pos = 0;
            atomic_fetch_add(&progress[T_READ], 1);
            continue;
        }
        /* the file holds word i of the pattern at byte 8*i */
        for (ssize_t i = 0; i < n; i++) {
            size_t at = pos + (size_t)i;
            uint64_t w = scen_pattern_word(300, at / 8);
            if ((unsigned char)buf[i] != (unsigned char)(w >> (8 * (at % 8))))
                fail("read returned wrong data at file offset %zu", at);
        }
        pos += (size_t)n;
    }
    return NULL;
}

int main(void)
{
    char *data = malloc(FILE_SIZE);
    if (!data)
        fail("malloc");
    scen_fill(data, FILE_SIZE, 300);
    char *path = scen_make_file("blocked-read.bin", data, FILE_SIZE);
    read_fd = open(path, O_RDONLY | O_CLOEXEC);
    if (read_fd < 0)
        fail_errno("open %s", path);

    pthread_mutex_lock(&contended);
    void *(*fns[NTHREADS])(void *) = { sleeper, cond_waiter, mutex_waiter, poller, reader };
    pthread_t t[NTHREADS];
    for (int i = 0; i < NTHREADS; i++)
        t[i] = scen_thread(fns[i], NULL);
    SCEN_WAIT_FOR(atomic_load(&n_started) == NTHREADS, "threads did not start");

    scen_ready();
    scen_wait_check();

    long seen[NTHREADS];
    for (int i = 0; i < NTHREADS; i++)
        seen[i] = atomic_load(&progress[i]);
    if (seen[T_MUTEX] != 0)
        fail("the mutex waiter got a mutex the main thread holds");
    pthread_mutex_unlock(&contended);
    for (int round = 0; round < 2; round++) {
        pthread_mutex_lock(&cond_lock);
        cond_gen++;
        pthread_cond_broadcast(&cond);
        pthread_mutex_unlock(&cond_lock);
        SCEN_WAIT_FOR(atomic_load(&progress[T_COND]) > seen[T_COND] + round,
                      "the pthread_cond_wait thread did not wake after the check");
    }
    for (int i = 0; i < NTHREADS; i++)
        SCEN_WAIT_FOR(atomic_load(&progress[i]) > seen[i] + 1,
                      "the thread blocked in %s made no progress after the check", names[i]);

    atomic_store(&stop, 1);
    pthread_mutex_lock(&cond_lock);
    cond_gen++;
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&cond_lock);
    for (int i = 0; i < NTHREADS; i++)
        scen_join(t[i]);
    pass();
}
