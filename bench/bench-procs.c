/*
 * bench-procs.c — a computation of many processes for `make bench`
 * (part-procs.sh).
 *
 *   bench-procs NPROCS MIB STATE NPIPES
 *
 * The process and NPROCS-1 children (all under the engine, as forked
 * children are) each fill MIB MiB with random bytes of their own.  With
 * NPIPES > 0 the first child holds the read ends of NPIPES pipes whose
 * write ends the parent fills to capacity (bytes in flight for the
 * checkpoint to drain and put back).  Each process creates STATE/ready.I
 * when its memory is filled; the parent, once all have, STATE/ready.  Then
 * every process sleeps until it is killed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void fill(size_t mib, uint64_t seed)
{
    if (!mib)
        return;
    size_t n = mib << 17; /* 8-byte words */
    uint64_t *p = mmap(NULL, mib << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("bench-procs: mmap");
        exit(1);
    }
    uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p[i] = x;
    }
}

static void mark(const char *state, int i)
{
    char path[4096];
    snprintf(path, sizeof path, i < 0 ? "%s/ready" : "%s/ready.%d", state, i);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        ssize_t w = write(fd, "ready\n", 6); /* not empty: the bench waits for content */
        (void)w;
        close(fd);
    }
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: bench-procs NPROCS MIB STATE NPIPES\n");
        return 2;
    }
    int nprocs = atoi(argv[1]), npipes = atoi(argv[4]);
    size_t mib = (size_t)atol(argv[2]);
    const char *state = argv[3];
    int (*pipes)[2] = calloc((size_t)(npipes > 0 ? npipes : 1), sizeof *pipes);
    for (int i = 0; i < npipes; i++)
        if (pipe(pipes[i]) < 0) {
            perror("bench-procs: pipe");
            return 1;
        }
    for (int c = 1; c < nprocs; c++) {
        pid_t pid = fork();
        if (pid < 0) {
            perror("bench-procs: fork");
            return 1;
        }
        if (pid == 0) {
            for (int i = 0; i < npipes; i++) {
                close(pipes[i][1]);
                if (c != 1)
                    close(pipes[i][0]);
            }
            fill(mib, (uint64_t)c);
            mark(state, c);
            for (;;)
                pause();
        }
    }
    for (int i = 0; i < npipes; i++) {
        close(pipes[i][0]);
        fcntl(pipes[i][1], F_SETFL, O_NONBLOCK);
        char buf[4096];
        memset(buf, 'p', sizeof buf);
        while (write(pipes[i][1], buf, sizeof buf) > 0)
            ;
    }
    fill(mib, 0);
    mark(state, 0);
    for (int c = 0; c < nprocs; c++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/ready.%d", state, c);
        while (access(path, F_OK) != 0)
            usleep(2000);
    }
    mark(state, -1);
    for (;;)
        pause();
}
