/*
 * stack-grown-main.c — a main-thread stack grown far below its initial size.
 *
 * The main thread recurses about 6 MiB deep, each frame holding a buffer
 * with its own pattern, and waits for the check at the deepest frame, so the
 * whole grown [stack] is live across the checkpoint.  Unwinding then checks
 * every frame and that the stack still grows afterwards.
 */
#include "scenario.h"

#define FRAME_BYTES 4000
#define DEPTH 1500 /* about 6 MiB, within the default 8 MiB limit */

static uintptr_t deepest;

static void grow_again(int n)
{
    volatile char buf[FRAME_BYTES];
    scen_fill((char *)buf, sizeof(buf), 99);
    if (n > 0)
        grow_again(n - 1);
    scen_expect_pattern("frame grown after the check", (char *)buf, sizeof(buf), 99);
}

static void descend(int depth)
{
    volatile char buf[FRAME_BYTES];
    scen_fill((char *)buf, sizeof(buf), (uint64_t)depth);
    if (depth < DEPTH) {
        descend(depth + 1);
    } else {
        deepest = (uintptr_t)buf;
        scen_ready();
        scen_wait_check();
        /* below the deepest frame: the stack must still grow */
        grow_again(200);
    }
    ssize_t off = scen_compare((char *)buf, sizeof(buf), (uint64_t)depth);
    if (off >= 0)
        fail("stack frame at depth %d (%p) differs at offset %zd", depth, (void *)buf, off);
}

int main(void)
{
    char top;
    descend(0);
    size_t grown = (uintptr_t)&top - deepest;
    if (grown < (size_t)5 << 20)
        fail("stack grew only %zu bytes; expected more than 5 MiB", grown);
    pass();
}
