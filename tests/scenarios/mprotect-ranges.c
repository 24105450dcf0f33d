/*
 * mprotect-ranges.c — one mapping split by mprotect into ranges of
 * different permissions (rw, r, none, rx, rw) keeps each range's
 * permissions and contents: read-only ranges refuse writes, the
 * executable range still runs its code.
 */
#include "scenario.h"

#include <sys/mman.h>

#define PAGE 4096

/* mov eax, 42 ; ret */
static const unsigned char code[] = { 0xb8, 0x2a, 0x00, 0x00, 0x00, 0xc3 };

int main(void)
{
    size_t n = 40;
    char *r = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (r == MAP_FAILED)
        fail_errno("mmap");
    scen_fill(r, n * PAGE, 51);
    memcpy(r + 20 * PAGE, code, sizeof(code));
    char *expect = malloc(n * PAGE);
    if (!expect)
        fail("malloc");
    memcpy(expect, r, n * PAGE);
    /* pages 0-7 rw, 8-15 r, 16-19 none, 20-23 rx, 24-31 r, 32-39 rw */
    if (mprotect(r + 8 * PAGE, 8 * PAGE, PROT_READ) != 0 ||
        mprotect(r + 16 * PAGE, 4 * PAGE, PROT_NONE) != 0 ||
        mprotect(r + 20 * PAGE, 4 * PAGE, PROT_READ | PROT_EXEC) != 0 ||
        mprotect(r + 24 * PAGE, 8 * PAGE, PROT_READ) != 0)
        fail_errno("mprotect");
    int (*fn)(void) = (int (*)(void))(void *)(r + 20 * PAGE);
    if (fn() != 42)
        fail("code in the rx range did not return 42 before the checkpoint");

    scen_ready();
    scen_wait_check();

    static const struct { int first, count; const char *perms; } ranges[] = {
        { 0, 8, "rw-p" }, { 8, 8, "r--p" }, { 16, 4, "---p" },
        { 20, 4, "r-xp" }, { 24, 8, "r--p" }, { 32, 8, "rw-p" },
    };
    for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
        for (int p = ranges[i].first; p < ranges[i].first + ranges[i].count; p++) {
            char what[64];
            snprintf(what, sizeof(what), "page %d", p);
            scen_expect_perms(what, r + p * PAGE, ranges[i].perms);
            int readable = ranges[i].perms[0] == 'r', writable = ranges[i].perms[1] == 'w';
            if (scen_probe((unsigned char *)r + p * PAGE + 8, 0) == readable)
                fail("page %d (%s): reading %s", p, ranges[i].perms, readable ? "faulted" : "did not fault");
            if (scen_probe((unsigned char *)r + p * PAGE + 8, 1) == writable)
                fail("page %d (%s): writing %s", p, ranges[i].perms, writable ? "faulted" : "did not fault");
        }
    }
    if (fn() != 42)
        fail("code in the rx range did not return 42 after the check");
    if (mprotect(r + 16 * PAGE, 4 * PAGE, PROT_READ) != 0)
        fail_errno("mprotect none -> r");
    for (size_t p = 0; p < n; p++)
        if (memcmp(r + p * PAGE, expect + p * PAGE, PAGE) != 0)
            fail("page %zu lost its contents", p);
    pass();
}
