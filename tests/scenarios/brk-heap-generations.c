/*
 * brk-heap-generations.c — a program whose heap keeps growing with brk()
 * (small mallocs from the main thread) survives generation after generation
 * of checkpoint, kill and restart, and every chunk keeps its contents.
 *
 * A restarted process keeps the program break the kernel gave the restart
 * helper.  If that break could lie inside or below the helper's own address
 * ranges, a heap grown after a restart would one day overlap them and the
 * next image would be refused ("overlaps the restart helper's address
 * ranges") — by chance, depending on where the kernel put the break.  So
 * besides the end-to-end check, every allocation checks the invariant that
 * rules this out for good: every helper range lies below the break, or far
 * (over 1 TiB) above it.
 */
// SCEN_MODES: plain continue restart restart2 ckpt-after-restart forked forked-restart raw lazy incremental generations

#include <malloc.h>

#include "scenario.h"
#include "../../src/common/image.h"

#define CHUNK 32768
#define MAX_CHUNKS 4096 /* 128 MiB */
#define FAR (1ull << 40)

static char *chunks[MAX_CHUNKS];
static int nchunks;

static void check_break(void)
{
    uint64_t brk_now = (uint64_t)(uintptr_t)sbrk(0);
    const uint64_t ranges[2][2] = {
        { IMAGE_HELPER_TEXT_START, IMAGE_HELPER_TEXT_END },
        { IMAGE_HELPER_WORK_START, IMAGE_HELPER_WORK_END },
    };
    for (int i = 0; i < 2; i++)
        if (ranges[i][1] > brk_now && ranges[i][0] < brk_now + FAR)
            fail("the program break %#llx can grow into the restart helper's range %#llx-%#llx",
                 (unsigned long long)brk_now, (unsigned long long)ranges[i][0],
                 (unsigned long long)ranges[i][1]);
}

static void grow(void)
{
    if (nchunks == MAX_CHUNKS)
        return;
    char *p = malloc(CHUNK);
    if (!p)
        fail("malloc(%d) failed after %d chunks", CHUNK, nchunks);
    scen_fill(p, CHUNK, 300 + (uint64_t)nchunks);
    chunks[nchunks++] = p;
    check_break();
}

int main(void)
{
    /* keep every chunk on the brk heap: no mmap'd chunks, no trimming */
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    for (int i = 0; i < 16; i++)
        grow();
    scen_ready();
    char *check = scen_path("check");
    while (access(check, F_OK) != 0) {
        grow();
        scen_sleep_ms(2);
    }
    for (int i = 0; i < nchunks; i++)
        if (scen_compare(chunks[i], CHUNK, 300 + (uint64_t)i) >= 0)
            fail("chunk %d of %d at %p changed", i, nchunks, (void *)chunks[i]);
    grow(); /* the heap still grows after the last restart */
    pass();
}
