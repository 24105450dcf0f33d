/*
 * mmap-anon-shared.c — MAP_SHARED|MAP_ANONYMOUS mappings keep their contents
 * and stay shared (the "s" flag), including a second view of the same memory
 * made with mremap(old_size = 0): a write through one view must show in the
 * other after the check.
 */
#include "scenario.h"

#include <sys/mman.h>

#define PAGE 4096

int main(void)
{
    size_t size = (size_t)64 << 20;
    char *a = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (a == MAP_FAILED)
        fail_errno("mmap shared anonymous");
    scen_fill(a, size, 11);
    /* old_size 0 on a shared mapping maps the same pages a second time */
    char *b = mremap(a, 0, size, MREMAP_MAYMOVE);
    if (b == MAP_FAILED)
        fail_errno("mremap(old_size 0)");
    if (memcmp(a, b, PAGE) != 0)
        fail("the second view does not show the first one's data before the checkpoint");

    char *small = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (small == MAP_FAILED)
        fail_errno("mmap");
    scen_fill(small, 3 * PAGE, 12);

    scen_ready();
    scen_wait_check();

    scen_expect_pattern("64 MiB shared mapping", a, size, 11);
    scen_expect_pattern("second view of it", b, size, 11);
    scen_expect_pattern("3-page shared mapping", small, 3 * PAGE, 12);
    scen_expect_perms("64 MiB shared mapping", a, "rw-s");
    scen_expect_perms("second view", b, "rw-s");
    scen_expect_perms("3-page shared mapping", small, "rw-s");

    for (size_t off = 0; off < size; off += 1 << 20) {
        a[off] ^= 0x5a;
        if (b[off] != a[off])
            fail("write through one view at offset %zu not seen in the other: sharing lost", off);
        b[off] ^= 0x5a;
        if (a[off] != b[off])
            fail("write through the second view at offset %zu not seen in the first", off);
    }
    scen_expect_pattern("shared mapping after writes", a, size, 11);
    pass();
}
