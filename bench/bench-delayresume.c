/* bench-delayresume.c — delayed-resume figures for bench/delayresume.sh.
 * Run under dmtcp_launch --with-plugin libdmtcp_delayresume.so.
 *
 *   bench-delayresume cpu NW WINDOW_MS REPS
 *       NW threads spin; for each of REPS windows, the process's CPU time
 *       (getrusage RUSAGE_SELF) across WINDOW_MS of open window, while the
 *       initiator sleeps.  Prints "cpu_ms_per_s V" per window (CPU
 *       milliseconds per second of window) and "busy_ms_per_s V" measured
 *       before (the same threads running).
 *   bench-delayresume latency NW ROUNDS
 *       NW threads loop on a 100 µs nanosleep, stamping CLOCK_MONOTONIC
 *       each time round; the first stamp a thread takes after the
 *       initiator's stamp taken just before dmtcp_checkpoint_unblock_resume()
 *       is its "running again" time.  Prints "latency_us V" per thread per
 *       round.  (A parked thread was interrupted in nanosleep, which is not
 *       restarted: it stamps as soon as it leaves the parked state.)
 *   bench-delayresume duration REPS
 *       alternately dmtcp_checkpoint_block_resume() (then unblock) and
 *       dmtcp_checkpoint(), timed by the caller; prints "block_s V" and
 *       "plain_s V" per repetition.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "delayresume.h"

#define MAXW 64
static _Atomic int stop;
static _Atomic long long spin_count[MAXW];
static _Atomic long long unblock_ns = -1; /* -1: not armed */
static _Atomic long long first_ns[MAXW];

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           (double)ru.ru_stime.tv_usec / 1e6;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static void *spinner(void *a)
{
    int i = (int)(long)a;
    while (!atomic_load_explicit(&stop, memory_order_relaxed))
        atomic_fetch_add_explicit(&spin_count[i], 1, memory_order_relaxed);
    return NULL;
}

static void *stamper(void *a)
{
    int i = (int)(long)a;
    struct timespec ts = {0, 100000};
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        long long t = now_ns();
        long long u = atomic_load(&unblock_ns);
        if (u >= 0 && t > u && atomic_load(&first_ns[i]) == 0)
            atomic_store(&first_ns[i], t);
        nanosleep(&ts, NULL); /* EINTR: go round at once */
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 1;
    setvbuf(stdout, NULL, _IOLBF, 0);
    pthread_t t[MAXW];
    if (strcmp(argv[1], "cpu") == 0 && argc == 5) {
        int nw = atoi(argv[2]), reps = atoi(argv[4]);
        long win = atol(argv[3]);
        if (nw > MAXW)
            nw = MAXW;
        for (long i = 0; i < nw; i++)
            pthread_create(&t[i], NULL, spinner, (void *)i);
        sleep_ms(100);
        double c0 = cpu_s(), w0 = (double)now_ns() / 1e9;
        sleep_ms(500);
        printf("busy_ms_per_s %.3f\n", (cpu_s() - c0) * 1000 / ((double)now_ns() / 1e9 - w0));
        for (int r = 0; r < reps; r++) {
            int rc = dmtcp_checkpoint_block_resume();
            if (rc != DMTCP_AFTER_CHECKPOINT) {
                printf("error block_resume returned %d\n", rc);
                return 1;
            }
            c0 = cpu_s();
            w0 = (double)now_ns() / 1e9;
            sleep_ms(win);
            double c = cpu_s() - c0, w = (double)now_ns() / 1e9 - w0;
            if (dmtcp_checkpoint_unblock_resume() != 0) {
                printf("error unblock failed\n");
                return 1;
            }
            printf("cpu_ms_per_s %.4f\n", c * 1000 / w);
            sleep_ms(200);
        }
    } else if (strcmp(argv[1], "latency") == 0 && argc == 4) {
        int nw = atoi(argv[2]), rounds = atoi(argv[3]);
        if (nw > MAXW)
            nw = MAXW;
        for (long i = 0; i < nw; i++)
            pthread_create(&t[i], NULL, stamper, (void *)i);
        sleep_ms(50);
        for (int r = 0; r < rounds; r++) {
            atomic_store(&unblock_ns, -1);
            for (int i = 0; i < nw; i++)
                atomic_store(&first_ns[i], 0);
            int rc = dmtcp_checkpoint_block_resume();
            if (rc != DMTCP_AFTER_CHECKPOINT) {
                printf("error block_resume returned %d\n", rc);
                return 1;
            }
            sleep_ms(5); /* every thread is parked by now (it is, from the return on) */
            long long u = now_ns();
            atomic_store(&unblock_ns, u);
            if (dmtcp_checkpoint_unblock_resume() != 0) {
                printf("error unblock failed\n");
                return 1;
            }
            long long end = now_ns() + 10000000000LL;
            for (int i = 0; i < nw; i++) {
                while (atomic_load(&first_ns[i]) == 0 && now_ns() < end)
                    sleep_ms(1);
                long long f = atomic_load(&first_ns[i]);
                if (!f) {
                    printf("error thread %d did not run within 10 s of unblock\n", i);
                    return 1;
                }
                printf("latency_us %.3f\n", (double)(f - u) / 1e3);
            }
            sleep_ms(20); /* every thread back in its loop before the next window */
        }
    } else if (strcmp(argv[1], "duration") == 0) {
        int reps = atoi(argv[2]);
        pthread_create(&t[0], NULL, stamper, (void *)0L);
        sleep_ms(50);
        for (int r = 0; r < reps; r++) {
            long long t0 = now_ns();
            int rc = dmtcp_checkpoint_block_resume();
            long long t1 = now_ns();
            if (rc != DMTCP_AFTER_CHECKPOINT || dmtcp_checkpoint_unblock_resume() != 0) {
                printf("error block_resume returned %d\n", rc);
                return 1;
            }
            sleep_ms(20);
            long long t2 = now_ns();
            rc = dmtcp_checkpoint();
            long long t3 = now_ns();
            if (rc != DMTCP_AFTER_CHECKPOINT) {
                printf("error dmtcp_checkpoint returned %d\n", rc);
                return 1;
            }
            printf("block_s %.6f\nplain_s %.6f\n", (double)(t1 - t0) / 1e9, (double)(t3 - t2) / 1e9);
            sleep_ms(20);
        }
    } else {
        return 1;
    }
    atomic_store(&stop, 1);
    return 0;
}
