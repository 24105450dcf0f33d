/*
 * dev-files.c — fds on /dev/null, /dev/zero and /dev/urandom keep their
 * numbers and still work: /dev/null swallows writes and reads EOF, /dev/zero
 * reads zeros, /dev/urandom reads fresh random bytes; a private mapping of
 * /dev/zero keeps its data.
 */
#include "scenario.h"

#include <sys/mman.h>
#include <sys/sysmacros.h>

enum { FD_NULL = 50, FD_ZERO = 51, FD_URANDOM = 52 };

static void open_at(const char *path, int flags, int want)
{
    int fd = open(path, flags);
    if (fd < 0)
        fail_errno("open %s", path);
    if (dup2(fd, want) != want)
        fail_errno("dup2");
    close(fd);
}

static void expect_dev(int fd, const char *path, unsigned minor)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        fail_errno("%s: fd %d is closed", path, fd);
    if (!S_ISCHR(st.st_mode) || major(st.st_rdev) != 1 || minor(st.st_rdev) != minor)
        fail("%s: fd %d is now %u:%u, expected 1:%u", path, fd, major(st.st_rdev), minor(st.st_rdev),
             minor);
}

int main(void)
{
    open_at("/dev/null", O_RDWR, FD_NULL);
    open_at("/dev/zero", O_RDONLY, FD_ZERO);
    open_at("/dev/urandom", O_RDONLY | O_NONBLOCK, FD_URANDOM);
    int zfd = open("/dev/zero", O_RDWR);
    char *zmap = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE, zfd, 0);
    if (zmap == MAP_FAILED)
        fail_errno("mmap /dev/zero");
    close(zfd);
    scen_fill(zmap, 1 << 19, 95);

    scen_ready();
    scen_wait_check();

    expect_dev(FD_NULL, "/dev/null", 3);
    expect_dev(FD_ZERO, "/dev/zero", 5);
    expect_dev(FD_URANDOM, "/dev/urandom", 9);
    char buf[4096];
    if (write(FD_NULL, "hello", 5) != 5)
        fail_errno("write /dev/null");
    if (read(FD_NULL, buf, sizeof(buf)) != 0)
        fail("read /dev/null did not return end of file");
    memset(buf, 0x55, sizeof(buf));
    if (read(FD_ZERO, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
        fail_errno("read /dev/zero");
    for (size_t i = 0; i < sizeof(buf); i++)
        if (buf[i] != 0)
            fail("/dev/zero returned a non-zero byte");
    unsigned char r1[64], r2[64];
    if (read(FD_URANDOM, r1, 64) != 64 || read(FD_URANDOM, r2, 64) != 64)
        fail_errno("read /dev/urandom");
    if (memcmp(r1, r2, 64) == 0)
        fail("/dev/urandom returned the same 64 bytes twice");
    if ((fcntl(FD_URANDOM, F_GETFL) & O_NONBLOCK) == 0)
        fail("/dev/urandom fd lost O_NONBLOCK");
    scen_expect_pattern("private /dev/zero mapping, written part", zmap, 1 << 19, 95);
    for (size_t off = 1 << 19; off < 1 << 20; off += 4096)
        if (zmap[off])
            fail("private /dev/zero mapping: untouched page not zero");
    pass();
}
