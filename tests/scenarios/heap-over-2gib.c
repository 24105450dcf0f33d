/*
 * heap-over-2gib.c — the brk heap survives when it holds more than 2 GiB.
 *
 * With mmap disabled in malloc, one 2.25 GiB block (larger than any 32-bit
 * size) and a few thousand small chunks, some freed, all come from the
 * [heap] segment.  After the check every byte must be intact, freeing and
 * allocating must still work, and the heap must still grow through brk
 * (which needs the kernel's brk restored, not just glibc's copy of it).
 */
#include "scenario.h"

#include <malloc.h>

#define BIG_SIZE ((size_t)9 << 28) /* 2.25 GiB */
#define N_SMALL 4000

static size_t small_size(int i) { return 16 + (size_t)(i * 37) % 4000; }

int main(void)
{
    static char *small[N_SMALL];

    if (mallopt(M_MMAP_MAX, 0) != 1)
        fail("mallopt(M_MMAP_MAX, 0) failed");

    char *big = malloc(BIG_SIZE);
    if (!big)
        fail("malloc(%zu) failed", BIG_SIZE);
    scen_fill(big, BIG_SIZE, 1);
    for (int i = 0; i < N_SMALL; i++) {
        small[i] = malloc(small_size(i));
        if (!small[i])
            fail("malloc small %d failed", i);
        scen_fill(small[i], small_size(i), 1000 + (uint64_t)i);
    }
    for (int i = 0; i < N_SMALL; i += 3) { /* leave holes in the free lists */
        free(small[i]);
        small[i] = NULL;
    }

    scen_ready();
    scen_wait_check();

    scen_expect_pattern("2.25 GiB block", big, BIG_SIZE, 1);
    for (int i = 0; i < N_SMALL; i++)
        if (small[i])
            scen_expect_pattern("small chunk", small[i], small_size(i), 1000 + (uint64_t)i);

    for (int i = 0; i < N_SMALL; i += 3) { /* reuse the free lists */
        small[i] = malloc(small_size(i));
        if (!small[i])
            fail("malloc into a freed hole failed after the check");
        scen_fill(small[i], small_size(i), 7);
    }
    for (int i = 0; i < N_SMALL; i++)
        free(small[i]);

    size_t more = (size_t)64 << 20; /* beyond the top: brk must grow */
    char *grow = malloc(more);
    if (!grow)
        fail("malloc(64 MiB) from brk failed after the check (kernel brk not restored?)");
    scen_fill(grow, more, 3);
    scen_expect_pattern("64 MiB grown after the check", grow, more, 3);
    free(grow);
    free(big);
    pass();
}
