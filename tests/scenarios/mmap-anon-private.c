/*
 * mmap-anon-private.c — anonymous private mappings of several sizes and
 * permissions, including one at a fixed address, keep contents, addresses
 * and permissions; untouched pages of a touched mapping still read as zero.
 */
#include "scenario.h"

#include <sys/mman.h>

#define PAGE 4096
#define FIXED_ADDR ((void *)0x3f0000000000ul)

int main(void)
{
    size_t big = (size_t)256 << 20;
    char *a = mmap(NULL, big, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *one = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *ro = mmap(NULL, 16 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *fixed = mmap(FIXED_ADDR, 8 * PAGE, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (a == MAP_FAILED || one == MAP_FAILED || ro == MAP_FAILED || fixed == MAP_FAILED)
        fail_errno("mmap");
    if (fixed != FIXED_ADDR)
        fail("MAP_FIXED_NOREPLACE gave %p, asked %p", (void *)fixed, FIXED_ADDR);

    scen_fill(a, big / 2, 1); /* the upper half stays untouched */
    scen_fill(one, PAGE, 2);
    scen_fill(ro, 16 * PAGE, 3);
    scen_fill(fixed, 8 * PAGE, 4);
    if (mprotect(ro, 16 * PAGE, PROT_READ) != 0)
        fail_errno("mprotect");

    scen_ready();
    scen_wait_check();

    scen_expect_pattern("256 MiB mapping, touched half", a, big / 2, 1);
    for (size_t off = big / 2; off < big; off += 64 * PAGE)
        if (a[off] != 0)
            fail("untouched page at offset %zu is not zero", off);
    scen_expect_pattern("one-page mapping", one, PAGE, 2);
    scen_expect_pattern("read-only mapping", ro, 16 * PAGE, 3);
    scen_expect_pattern("fixed-address mapping", fixed, 8 * PAGE, 4);
    scen_expect_perms("256 MiB mapping", a, "rw-p");
    scen_expect_perms("read-only mapping", ro, "r--p");
    scen_expect_perms("fixed-address mapping", fixed, "rw-p");
    if (!scen_probe((unsigned char *)ro, 1))
        fail("writing the read-only mapping did not fault");

    scen_fill(a + big / 2, big / 2, 5); /* still writable, also the untouched half */
    scen_expect_pattern("upper half written after the check", a + big / 2, big / 2, 5);
    if (munmap(a, big) != 0 || munmap(fixed, 8 * PAGE) != 0)
        fail_errno("munmap");
    pass();
}
