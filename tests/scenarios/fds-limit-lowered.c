/*
 * fds-limit-lowered.c — a program that opened files up to descriptor 1400
 * and then lowered its soft RLIMIT_NOFILE to 256 (the kernel lets the open
 * descriptors above the limit live).  After the check every descriptor is
 * open at its number with its offset, the soft and hard limits are what
 * the program set, and the limit is enforced again: a dup2() onto a number
 * above it fails with EBADF.
 */
#include "scenario.h"

#include <sys/resource.h>

#define HIGHEST 1400
#define LOWERED 256
#define STEP 7 /* every STEP-th number gets its own file; the rest dup() it */

static ino_t inode_of[HIGHEST + 1];

static off_t offset_of(int fd)
{
    return (off_t)(fd % 97);
}

int main(void)
{
    struct rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) != 0)
        fail_errno("getrlimit(RLIMIT_NOFILE)");
    if (lim.rlim_max != RLIM_INFINITY && lim.rlim_max < HIGHEST + 64)
        fail("the hard RLIMIT_NOFILE (%llu) is too low for this test", (unsigned long long)lim.rlim_max);
    lim.rlim_cur = HIGHEST + 64;
    if (setrlimit(RLIMIT_NOFILE, &lim) != 0)
        fail_errno("setrlimit(RLIMIT_NOFILE, %d)", HIGHEST + 64);

    char content[128];
    scen_fill(content, sizeof content, 77);
    for (int fd = 3 * STEP; fd <= HIGHEST; fd += STEP) {
        char name[32];
        snprintf(name, sizeof name, "g%04d", fd);
        char *p = scen_make_file(name, content, sizeof content);
        int tmp = open(p, O_RDONLY | O_CLOEXEC);
        if (tmp < 0)
            fail_errno("open %s", p);
        free(p);
        if (dup2(tmp, fd) != fd)
            fail_errno("dup2 onto %d", fd);
        close(tmp);
        if (lseek(fd, offset_of(fd), SEEK_SET) != offset_of(fd))
            fail_errno("lseek fd %d", fd);
        struct stat st;
        if (fstat(fd, &st) != 0)
            fail_errno("fstat fd %d", fd);
        inode_of[fd] = st.st_ino;
    }
    lim.rlim_cur = LOWERED;
    if (setrlimit(RLIMIT_NOFILE, &lim) != 0)
        fail_errno("setrlimit(RLIMIT_NOFILE, %d)", LOWERED);

    scen_ready();
    scen_wait_check();

    struct rlimit now;
    if (getrlimit(RLIMIT_NOFILE, &now) != 0 || now.rlim_cur != LOWERED || now.rlim_max != lim.rlim_max)
        fail("RLIMIT_NOFILE is %llu/%llu, expected %d/%llu", (unsigned long long)now.rlim_cur,
             (unsigned long long)now.rlim_max, LOWERED, (unsigned long long)lim.rlim_max);
    for (int fd = 3 * STEP; fd <= HIGHEST; fd += STEP) {
        struct stat st;
        if (fstat(fd, &st) != 0)
            fail_errno("fd %d (above the soft limit %d) is no longer open", fd, LOWERED);
        if (st.st_ino != inode_of[fd])
            fail("fd %d names another file than g%04d", fd, fd);
        if (lseek(fd, 0, SEEK_CUR) != offset_of(fd))
            fail("fd %d: offset %lld, expected %lld", fd, (long long)lseek(fd, 0, SEEK_CUR),
                 (long long)offset_of(fd));
    }
    errno = 0;
    if (dup2(3 * STEP, HIGHEST + 1) != -1 || errno != EBADF)
        fail("dup2 onto %d, above the soft limit %d, did not fail with EBADF (%s)", HIGHEST + 1, LOWERED,
             strerror(errno));
    pass();
}
