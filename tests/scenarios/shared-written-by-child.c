/*
 * shared-written-by-child.c — memory that keeps changing while the image is
 * written: a child outside checkpoint control (as every child is today)
 * rewrites an 8 MiB shared anonymous mapping without pause, so the engine
 * cannot stop it.  The image must still be consistent with its own
 * checksums (each block's checksum computed from the very bytes stored),
 * so the restart is accepted, and every word restored must be one the
 * child really wrote: it writes only self-checking words (value in the high
 * half, a hash of it in the low half; aligned 8-byte stores are atomic).
 * The values are random, so the memory does not compress and its blocks are
 * stored raw (in the default mode too).
 */
#include "scenario.h"

#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#define SHARED_BYTES ((size_t)8 << 20)
#define NWORDS (SHARED_BYTES / sizeof(uint64_t))

static uint64_t word_of(uint32_t v)
{
    uint32_t h = v * 2654435761u;
    h ^= h >> 15;
    return ((uint64_t)v << 32) | (h | 1); /* never 0: 0 means "not written yet" */
}

static int word_ok(uint64_t w)
{
    return w == 0 || word_of((uint32_t)(w >> 32)) == w;
}

int main(void)
{
    volatile uint64_t *shared =
        mmap(NULL, SHARED_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared == MAP_FAILED)
        fail_errno("mmap shared");
    pid_t parent = getpid();
    pid_t child = fork();
    if (child < 0)
        fail_errno("fork");
    if (child == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(0);
        uint32_t v = 2463534242u;
        for (;;)
            for (size_t i = 0; i < NWORDS; i++) {
                v ^= v << 13; /* xorshift32 */
                v ^= v >> 17;
                v ^= v << 5;
                shared[i] = word_of(v);
            }
    }
    SCEN_WAIT_FOR(shared[NWORDS - 1] != 0, "the child never wrote its memory");
    scen_ready();
    scen_wait_check();
    /* after a restart the child is gone (it was never checkpointed): the
     * words are the ones saved, and must all be words the child wrote */
    for (size_t i = 0; i < NWORDS; i++)
        if (!word_ok(shared[i]))
            fail("word %zu of the shared memory is %016" PRIx64 ", which the child never wrote", i, shared[i]);
    if (kill(child, 0) == 0) {
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
    }
    pass();
}
