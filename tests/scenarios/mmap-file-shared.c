/*
 * mmap-file-shared.c — a MAP_SHARED mapping of a file: the file is the
 * truth.  After the check the mapping shows the file's content, a write
 * through the mapping reaches the file and a pwrite to the file shows in the
 * mapping.  Every change made after the check is undone, so a second restart
 * from the same image finds the file as the first did.
 */
#include "scenario.h"

#include <sys/mman.h>

#define PAGE 4096
#define SIZE ((size_t)8 << 20)

int main(void)
{
    char *init = malloc(SIZE);
    if (!init)
        fail("malloc");
    scen_fill(init, SIZE, 31);
    char *path = scen_make_file("shared.bin", init, SIZE);
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        fail_errno("open %s", path);
    char *m = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED)
        fail_errno("mmap %s", path);
    /* the program's data, written through the mapping, not yet msync'd */
    scen_fill(m, SIZE / 2, 32);

    scen_ready();
    scen_wait_check();

    scen_expect_pattern("first half (written through the mapping)", m, SIZE / 2, 32);
    if (memcmp(m + SIZE / 2, init + SIZE / 2, SIZE / 2) != 0)
        fail("second half of the mapping no longer matches the file's original data");
    scen_expect_perms("shared file mapping", m, "rw-s");

    char *disk = malloc(SIZE);
    if (!disk || scen_pread_all(fd, disk, SIZE, 0) != SIZE)
        fail("short read of %s", path);
    if (memcmp(disk, m, SIZE) != 0)
        fail("the file and its shared mapping differ");

    for (size_t off = 0; off < SIZE; off += 256 * 1024) {
        char orig = m[off], v = (char)~orig;
        m[off] = v;
        char got;
        if (scen_pread_all(fd, &got, 1, (off_t)off) != 1 || got != v)
            fail("write through the mapping at offset %zu did not reach the file", off);
        if (pwrite(fd, &orig, 1, (off_t)off) != 1)
            fail_errno("pwrite %s", path);
        if (m[off] != orig)
            fail("pwrite at offset %zu is not visible in the mapping: not shared", off);
    }
    if (msync(m, SIZE, MS_SYNC) != 0)
        fail_errno("msync");
    pass();
}
