/*
 * demo-threads.c — the program `make demo` checkpoints, kills and restarts.
 *
 * Four worker threads each advance their own counter and fold it into a
 * running checksum; the main thread prints one line per tick.  After a
 * restart the lines go on from where the checkpoint left them, with the same
 * pid and the same sums an uninterrupted run would print.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "dmtcp.h"

#define WORKERS 4
#define STEPS_PER_TICK 2000000

static uint64_t sums[WORKERS];
static int tick_of[WORKERS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t tick_cv = PTHREAD_COND_INITIALIZER;
static int tick;

static void *worker(void *arg)
{
    int id = (int)(intptr_t)arg;
    uint64_t x = 0x9e3779b97f4a7c15ull * (uint64_t)(id + 1);
    for (;;) {
        pthread_mutex_lock(&lock);
        while (tick_of[id] > tick)
            pthread_cond_wait(&tick_cv, &lock);
        pthread_mutex_unlock(&lock);
        for (int i = 0; i < STEPS_PER_TICK; i++) { /* xorshift: deterministic work */
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
        }
        pthread_mutex_lock(&lock);
        sums[id] += x >> 32;
        tick_of[id]++;
        pthread_cond_broadcast(&tick_cv);
        pthread_mutex_unlock(&lock);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int ticks = argc > 1 ? atoi(argv[1]) : 40;
    pthread_t th[WORKERS];
    for (int i = 0; i < WORKERS; i++)
        pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i);
    printf("demo: pid %d, %d worker threads, %s\n", getpid(), WORKERS,
           dmtcp_is_enabled() ? "under checkpoint control" : "without Stasis");
    for (int t = 0; t < ticks; t++) {
        pthread_mutex_lock(&lock);
        for (int i = 0; i < WORKERS; i++)
            while (tick_of[i] <= tick)
                pthread_cond_wait(&tick_cv, &lock);
        uint64_t total = 0;
        for (int i = 0; i < WORKERS; i++)
            total += sums[i];
        pthread_mutex_unlock(&lock);
        printf("tick %2d  pid %d  checksum %016" PRIx64 "\n", tick, getpid(), total);
        fflush(stdout);
        struct timespec ts = {0, 100 * 1000 * 1000};
        while (nanosleep(&ts, &ts) != 0)
            ;
        pthread_mutex_lock(&lock);
        tick++;
        pthread_cond_broadcast(&tick_cv);
        pthread_mutex_unlock(&lock);
    }
    printf("demo: finished after %d ticks\n", ticks);
    return 0;
}
