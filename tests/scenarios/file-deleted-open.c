/*
 * file-deleted-open.c — a file deleted while open keeps working: its content
 * (which exists nowhere else) is intact, its offset is kept, it is still
 * deleted (no file reappears at the old path, st_nlink is 0), and it can
 * still be written and read back.
 */
#include "scenario.h"

#define SIZE ((size_t)1 << 20)

int main(void)
{
    char *data = malloc(SIZE), *buf = malloc(SIZE);
    if (!data || !buf)
        fail("malloc");
    scen_fill(data, SIZE, 90);
    char *path = scen_make_file("deleted.bin", data, SIZE);
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        fail_errno("open %s", path);
    if (unlink(path) != 0)
        fail_errno("unlink %s", path);
    if (lseek(fd, 77777, SEEK_SET) != 77777)
        fail_errno("lseek");

    scen_ready();
    scen_wait_check();

    if (fcntl(fd, F_GETFD) < 0)
        fail("the deleted file's fd %d is closed", fd);
    if (lseek(fd, 0, SEEK_CUR) != 77777)
        fail("offset is %lld, expected 77777", (long long)lseek(fd, 0, SEEK_CUR));
    if (access(path, F_OK) == 0)
        fail("%s exists again: the deleted file came back under its name", path);
    struct stat st;
    if (fstat(fd, &st) != 0)
        fail_errno("fstat");
    if (st.st_nlink != 0)
        fail("the deleted file has %lu links, expected 0", (unsigned long)st.st_nlink);
    if (st.st_size != (off_t)SIZE)
        fail("the deleted file is %lld bytes, expected %zu", (long long)st.st_size, SIZE);
    if (scen_pread_all(fd, buf, SIZE, 0) != SIZE || memcmp(buf, data, SIZE) != 0)
        fail("the deleted file's content changed");
    if ((fcntl(fd, F_GETFL) & O_ACCMODE) != O_RDWR)
        fail("the deleted file is no longer open read-write");
    if (pwrite(fd, "xyz", 3, 100) != 3 || scen_pread_all(fd, buf, 3, 100) != 3 ||
        memcmp(buf, "xyz", 3) != 0)
        fail("writing to the deleted file after the check did not read back");
    pass();
}
