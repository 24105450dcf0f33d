/*
 * sparse-noreserve.c — a 64 GiB MAP_NORESERVE mapping with a few touched
 * pages: the touched pages keep their data, untouched ones read as zero,
 * the mapping keeps its full size, and — with the engine — the image stays
 * small, because untouched pages are not written out.
 */
#include "scenario.h"

#include <sys/mman.h>

#define PAGE 4096
#define SIZE ((size_t)64 << 30)
#define NTOUCH 12
#define IMAGE_LIMIT ((off_t)512 << 20)

static size_t touched_offset(int i)
{
    return (size_t)i * (SIZE / NTOUCH / PAGE * PAGE) + (size_t)i * 7 * PAGE;
}

int main(void)
{
    char *m = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    if (m == MAP_FAILED)
        fail_errno("mmap 64 GiB MAP_NORESERVE");
    for (int i = 0; i < NTOUCH; i++)
        scen_fill(m + touched_offset(i), 2 * PAGE, 60 + (uint64_t)i);

    scen_ready();
    scen_wait_check();

    for (int i = 0; i < NTOUCH; i++) {
        char what[64];
        snprintf(what, sizeof(what), "touched pages at offset %zu", touched_offset(i));
        scen_expect_pattern(what, m + touched_offset(i), 2 * PAGE, 60 + (uint64_t)i);
    }
    for (int i = 0; i < NTOUCH; i++) {
        size_t off = touched_offset(i) + 5 * PAGE + 123;
        if (m[off] != 0)
            fail("untouched page at offset %zu is not zero", off);
    }
    struct scen_map map;
    if (scen_map_of(m, &map) != 0 || map.end - map.start < SIZE)
        fail("the 64 GiB mapping shrank or vanished");
    if (scen_map_of(m + SIZE - 1, &map) != 0 || strcmp(map.perms, "rw-p") != 0)
        fail("the end of the 64 GiB mapping is gone or not rw-p");

    const char *image = dmtcp_get_ckpt_filename();
    if (dmtcp_is_enabled() && image) {
        struct stat st;
        if (stat(image, &st) != 0)
            fail_errno("stat image %s", image);
        if (st.st_size > IMAGE_LIMIT)
            fail("image %s is %lld bytes for a few touched pages of a sparse mapping",
                 image, (long long)st.st_size);
    }
    m[SIZE - 1] = 1; /* still usable at the far end */
    pass();
}
