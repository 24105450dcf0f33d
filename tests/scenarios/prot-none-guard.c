/*
 * prot-none-guard.c — PROT_NONE guard pages around a data region, and a
 * large PROT_NONE reservation, stay inaccessible and reserved: touching a
 * guard faults, the data between them is intact, and nothing else can be
 * mapped inside the reservation.
 */
#include "scenario.h"

#include <sys/mman.h>

#define PAGE 4096

int main(void)
{
    size_t n = 18;
    char *r = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (r == MAP_FAILED)
        fail_errno("mmap");
    scen_fill(r + PAGE, (n - 2) * PAGE, 41);
    if (mprotect(r, PAGE, PROT_NONE) != 0 || mprotect(r + (n - 1) * PAGE, PAGE, PROT_NONE) != 0)
        fail_errno("mprotect guard");

    size_t resv_size = (size_t)1 << 30;
    char *resv = mmap(NULL, resv_size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (resv == MAP_FAILED)
        fail_errno("mmap reservation");

    scen_ready();
    scen_wait_check();

    scen_expect_pattern("data between the guards", r + PAGE, (n - 2) * PAGE, 41);
    scen_expect_perms("lower guard", r, "---p");
    scen_expect_perms("upper guard", r + (n - 1) * PAGE, "---p");
    scen_expect_perms("data between the guards", r + PAGE, "rw-p");
    scen_expect_perms("1 GiB reservation", resv + resv_size / 2, "---p");
    if (!scen_probe((unsigned char *)r, 0))
        fail("reading the lower guard page did not fault");
    if (!scen_probe((unsigned char *)r + (n - 1) * PAGE + 100, 1))
        fail("writing the upper guard page did not fault");
    if (!scen_probe((unsigned char *)resv + resv_size - 1, 0))
        fail("reading the reservation did not fault");
    if (scen_probe((unsigned char *)r + PAGE, 1))
        fail("writing the data page next to the guard faulted");

    void *p = mmap(resv + PAGE * 100, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
                   -1, 0);
    if (p != MAP_FAILED)
        fail("could map a page inside the reservation at %p: it is no longer reserved", p);
    if (errno != EEXIST)
        fail_errno("mmap inside the reservation failed unexpectedly");

    /* the reservation still works as one: commit a piece of it */
    if (mprotect(resv, 4 * PAGE, PROT_READ | PROT_WRITE) != 0)
        fail_errno("mprotect inside the reservation");
    scen_fill(resv, 4 * PAGE, 42);
    scen_expect_pattern("committed part of the reservation", resv, 4 * PAGE, 42);
    pass();
}
