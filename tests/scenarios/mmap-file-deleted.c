/*
 * mmap-file-deleted.c — private mappings whose file is gone by the time of
 * the checkpoint: one file deleted, another replaced under the same name
 * (rename over it, as package upgrades and editors do).  Neither file can
 * serve the pages at restart, so every page of both mappings must come back
 * from the image — the pages the program never touched too, and the
 * replaced file's mapping must still show the old file, not the new one.
 */
#include "scenario.h"

#include <sys/mman.h>

#define PAGE 4096
#define NPAGES 2048 /* 8 MiB: far more than the kernel maps around one fault */

static char *map_file(const char *name, uint64_t seed, size_t size)
{
    char *data = malloc(size);
    if (!data)
        fail("malloc");
    scen_fill(data, size, seed);
    char *path = scen_make_file(name, data, size);
    free(data);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        fail_errno("open %s", path);
    char *m = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED)
        fail_errno("mmap %s", path);
    close(fd);
    free(path);
    return m;
}

int main(void)
{
    size_t size = (size_t)NPAGES * PAGE;
    char *gone = map_file("deleted.bin", 31, size);
    char *old = map_file("replaced.bin", 32, size);
    /* touch one page of each: the rest stays unmapped in the page tables */
    volatile char c = gone[0];
    c = old[0];
    (void)c;

    char *p = scen_path("deleted.bin");
    if (unlink(p) < 0)
        fail_errno("unlink %s", p);
    free(p);
    char *data = malloc(size);
    if (!data)
        fail("malloc");
    scen_fill(data, size, 33);
    char *fresh = scen_make_file("replaced.new", data, size);
    free(data);
    p = scen_path("replaced.bin");
    if (rename(fresh, p) < 0)
        fail_errno("rename %s over %s", fresh, p);
    free(p);
    free(fresh);

    scen_ready();
    scen_wait_check();

    scen_expect_pattern("mapping of the deleted file", gone, size, 31);
    scen_expect_pattern("mapping of the replaced file", old, size, 32);
    pass();
}
