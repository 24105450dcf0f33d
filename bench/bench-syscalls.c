/*
 * bench-syscalls.c — a syscall- and thread-heavy program with a fixed amount
 * of work, run by bench/syscalls.sh plain and under dmtcp_launch (no
 * checkpoint) to see what the engine's wrappers cost (issue 4, target 9).
 *
 *   bench-syscalls FILE SCALE
 *
 * Phases, each timed with CLOCK_MONOTONIC (SCALE multiplies every count):
 *   getpid      200,000 getpid()           (wrapped: virtual pids)
 *   gettid      200,000 syscall(SYS_gettid) (the syscall() wrapper)
 *   openclose    20,000 open(FILE) + close()
 *   threads       1,000 pthread_create() + pthread_join() of a thread that
 *                       calls getpid() and gettid() once
 * Prints "PHASE SECONDS" per phase and "total SECONDS" (the sum), and exits 0.
 * A failed call ends the program with a message and status 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double bs_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Prints the phase's time and returns it. */
static double bs_report(const char *phase, double t0)
{
    double dt = bs_now() - t0;
    printf("%s %.6f\n", phase, dt);
    return dt;
}

static void *bs_thread(void *arg)
{
    long *out = arg;
    *out = (long)getpid() + syscall(SYS_gettid);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 3 || atol(argv[2]) <= 0) {
        fprintf(stderr, "usage: bench-syscalls FILE SCALE\n");
        return 1;
    }
    const char *file = argv[1];
    long scale = atol(argv[2]);
    volatile long sink = 0;
    double total = 0, t0;

    t0 = bs_now();
    for (long i = 0; i < 200000 * scale; i++)
        sink += getpid();
    total += bs_report("getpid", t0);

    t0 = bs_now();
    for (long i = 0; i < 200000 * scale; i++)
        sink += syscall(SYS_gettid);
    total += bs_report("gettid", t0);

    t0 = bs_now();
    for (long i = 0; i < 20000 * scale; i++) {
        int fd = open(file, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            fprintf(stderr, "bench-syscalls: open %s: %s\n", file, strerror(errno));
            return 1;
        }
        close(fd);
    }
    total += bs_report("openclose", t0);

    t0 = bs_now();
    for (long i = 0; i < 1000 * scale; i++) {
        pthread_t t;
        long out;
        int rc = pthread_create(&t, NULL, bs_thread, &out);
        if (rc != 0) {
            fprintf(stderr, "bench-syscalls: pthread_create: %s\n", strerror(rc));
            return 1;
        }
        pthread_join(t, NULL);
        sink += out;
    }
    total += bs_report("threads", t0);
    printf("total %.6f\n", total);
    return 0;
}
