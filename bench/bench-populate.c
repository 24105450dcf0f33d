/*
 * bench-populate.c — a floor for restarts: how long the kernel takes to
 * hand a process MIB MiB of fresh, zeroed, writable memory.
 *
 *   bench-populate MIB      prints "SECONDS"
 *
 * Every restart that brings memory back eagerly pays this before it copies a
 * byte (the pages must exist); `cat` of a cached image does not, so the
 * ratio to `cat` cannot go below this one.  Uses MADV_POPULATE_WRITE (Linux
 * 5.14) and falls back to writing one byte per page.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

static double bp_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    long mib = argc > 1 ? atol(argv[1]) : 0;
    if (mib <= 0) {
        fprintf(stderr, "usage: bench-populate MIB\n");
        return 1;
    }
    size_t len = (size_t)mib << 20;
    double t0 = bp_now();
    char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("bench-populate: mmap");
        return 1;
    }
    if (madvise(p, len, MADV_POPULATE_WRITE) != 0)
        for (size_t o = 0; o < len; o += 4096)
            p[o] = 1;
    double t1 = bp_now();
    printf("%.6f\n", t1 - t0);
    munmap(p, len);
    return 0;
}
