/*
 * prog-counter.c — the program the image tests checkpoint.
 *
 *   prog-counter [HEAP_MIB [SHARED_FILE]]
 *
 * Fills HEAP_MIB MiB (default 1) of heap with a pseudo-random, never-zero
 * pattern derived from a random id chosen at start, then every 50 ms prints
 *
 *   tick N id=ID heap=ok|BAD beat=B
 *
 * with fflush, after re-checking the whole pattern.  N counts up by one per
 * line, ID stays the same for the life of the process (a restarted process
 * prints the id of the one that was checkpointed), B is a counter a second
 * thread advances.  The tests read these lines: the counter advancing after
 * a failed checkpoint shows the program kept running; the id, the tick
 * continuing and heap=ok after a restart show nothing was lost.
 * With SHARED_FILE, the first page of that file is also mapped MAP_SHARED,
 * read-only: a restart must open the file again (restart-fail.sh removes it
 * or puts a FIFO in its place).
 * With PROG_COUNTER_EXIT=1 in the environment it ends on request: SIGUSR1
 * prints "exiting _exit" and calls _exit(7) in the handler; SIGTERM makes
 * the main loop print "exiting main" and return 8 from main.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static volatile unsigned long beat;

static void *beater(void *arg)
{
    (void)arg;
    for (;;) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
        beat++;
    }
    return NULL;
}

static volatile sig_atomic_t term_asked;

static void on_usr1(int sig)
{
    (void)sig;
    static const char msg[] = "exiting _exit\n";
    if (write(1, msg, sizeof msg - 1) < 0)
        _exit(9);
    _exit(7);
}

static void on_term(int sig)
{
    (void)sig;
    term_asked = 1;
}

static uint64_t next(uint64_t *s)
{
    /* xorshift64*: non-zero state stays non-zero */
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1DULL;
}

static void fill(uint64_t *p, size_t n, uint64_t seed)
{
    uint64_t s = seed | 1;
    for (size_t i = 0; i < n; i++)
        p[i] = next(&s) | 1; /* never a zero word, so no page is all zero */
}

static int check(const uint64_t *p, size_t n, uint64_t seed)
{
    uint64_t s = seed | 1;
    for (size_t i = 0; i < n; i++)
        if (p[i] != (next(&s) | 1))
            return 0;
    return 1;
}

int main(int argc, char **argv)
{
    long mib = argc > 1 ? atol(argv[1]) : 1;
    if (mib <= 0)
        mib = 1;
    uint64_t id = 0;
    int fd = open("/dev/urandom", O_RDONLY);
    if (fd < 0 || read(fd, &id, sizeof id) != (ssize_t)sizeof id)
        id = (uint64_t)getpid() * 0x9E3779B97F4A7C15ULL ^ (uint64_t)time(NULL);
    if (fd >= 0)
        close(fd);
    size_t n = (size_t)mib * (1u << 20) / sizeof(uint64_t);
    uint64_t *heap = malloc(n * sizeof *heap);
    if (!heap) {
        perror("prog-counter: malloc");
        return 1;
    }
    fill(heap, n, id);
    if (argc > 2) {
        int sfd = open(argv[2], O_RDONLY);
        if (sfd < 0 || mmap(NULL, 4096, PROT_READ, MAP_SHARED, sfd, 0) == MAP_FAILED) {
            perror(argv[2]);
            return 1;
        }
        close(sfd);
    }
    const char *ex = getenv("PROG_COUNTER_EXIT");
    if (ex && ex[0] == '1') {
        signal(SIGUSR1, on_usr1);
        struct sigaction sa = {.sa_handler = on_term}; /* no SA_RESTART: the sleep ends */
        sigaction(SIGTERM, &sa, NULL);
    }
    pthread_t t;
    if (pthread_create(&t, NULL, beater, NULL) != 0) {
        fprintf(stderr, "prog-counter: pthread_create failed\n");
        return 1;
    }
    for (unsigned long tick = 1;; tick++) {
        printf("tick %lu id=%016llx heap=%s beat=%lu\n", tick, (unsigned long long)id,
               check(heap, n, id) ? "ok" : "BAD", beat);
        fflush(stdout);
        struct timespec ts = {0, 50 * 1000 * 1000};
        while (nanosleep(&ts, &ts) != 0 && !term_asked)
            ;
        if (term_asked) {
            printf("exiting main\n");
            fflush(stdout);
            return 8;
        }
    }
}
