/*
 * mmap-file-private-modified.c — a MAP_PRIVATE mapping of a file with some
 * pages modified: modified pages keep the program's data, untouched pages
 * still show the file, the file itself never sees the private changes, and
 * the mapping is still backed by the file.
 */
#include "scenario.h"

#include <sys/mman.h>

#define PAGE 4096
#define NPAGES 1024 /* 4 MiB */

static int page_is_modified(size_t i) { return i % 3 == 0; }

int main(void)
{
    size_t size = (size_t)NPAGES * PAGE;
    char *data = malloc(size);
    if (!data)
        fail("malloc");
    scen_fill(data, size, 21);
    char *path = scen_make_file("private.bin", data, size);

    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        fail_errno("open %s", path);
    char *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED)
        fail_errno("mmap %s", path);
    close(fd);
    for (size_t i = 0; i < NPAGES; i++)
        if (page_is_modified(i))
            scen_fill(m + i * PAGE, PAGE, 1000 + i);

    scen_ready();
    scen_wait_check();

    for (size_t i = 0; i < NPAGES; i++) {
        if (page_is_modified(i)) {
            if (scen_compare(m + i * PAGE, PAGE, 1000 + i) >= 0)
                fail("modified private page %zu lost the program's data", i);
        } else if (memcmp(m + i * PAGE, data + i * PAGE, PAGE) != 0) {
            fail("unmodified private page %zu no longer matches the file", i);
        }
    }
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        fail_errno("reopen %s", path);
    char *disk = malloc(size);
    if (!disk || scen_pread_all(fd, disk, size, 0) != size)
        fail("short read of %s", path);
    close(fd);
    if (memcmp(disk, data, size) != 0)
        fail("private modifications leaked into %s", path);

    struct scen_map map;
    if (scen_map_of(m, &map) != 0)
        fail("mapping at %p vanished", (void *)m);
    if (strcmp(map.perms, "rw-p") != 0)
        fail("mapping has permissions %s, expected rw-p", map.perms);
    if (strcmp(map.path, path) != 0)
        fail("mapping is backed by '%s', expected %s", map.path, path);

    m[PAGE + 1] ^= 1; /* still private and writable */
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        fail_errno("reopen %s", path);
    if (scen_pread_all(fd, disk, PAGE * 2, 0) != PAGE * 2 || disk[PAGE + 1] != data[PAGE + 1])
        fail("a write after the check reached the file");
    close(fd);
    pass();
}
