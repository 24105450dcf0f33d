/*
 * stdio-attach.c — stdin, stdout and stderr attach to what the process was
 * given: after the check fds 0, 1 and 2 are open with the same kind of file
 * as before (the driver redirects stdin from /dev/null and stdout/stderr to
 * files, for dmtcp_launch and dmtcp_restart alike), writes to stderr work,
 * and stdout is where pass() prints — the driver expects the PASS line in
 * the output it gave dmtcp_restart.
 */
#include "scenario.h"

#include <sys/sysmacros.h>

static int is_dev_null(const struct stat *st)
{
    return S_ISCHR(st->st_mode) && major(st->st_rdev) == 1 && minor(st->st_rdev) == 3;
}

int main(void)
{
    struct stat before[3];
    int was_tty[3];
    for (int fd = 0; fd < 3; fd++) {
        if (fstat(fd, &before[fd]) != 0)
            fail_errno("fd %d is not open at the start", fd);
        was_tty[fd] = isatty(fd);
    }

    scen_ready();
    scen_wait_check();

    for (int fd = 0; fd < 3; fd++) {
        struct stat st;
        if (fstat(fd, &st) != 0)
            fail_errno("fd %d is closed after the check", fd);
        if ((st.st_mode & S_IFMT) != (before[fd].st_mode & S_IFMT))
            fail("fd %d changed kind (mode %o, was %o)", fd, st.st_mode & S_IFMT,
                 before[fd].st_mode & S_IFMT);
        if (isatty(fd) != was_tty[fd])
            fail("fd %d %s a terminal", fd, was_tty[fd] ? "is no longer" : "became");
        if (fd == 0 && is_dev_null(&before[0])) {
            char c;
            if (!is_dev_null(&st))
                fail("stdin was /dev/null and is now something else");
            if (read(0, &c, 1) != 0)
                fail("stdin (/dev/null) did not read end of file");
        }
    }
    int fl1 = fcntl(1, F_GETFL), fl2 = fcntl(2, F_GETFL);
    if ((fl1 & O_ACCMODE) == O_RDONLY || (fl2 & O_ACCMODE) == O_RDONLY)
        fail("stdout or stderr is no longer writable");
    static const char msg[] = "stdio-attach: stderr works after the check\n";
    if (write(2, msg, sizeof(msg) - 1) != (ssize_t)sizeof(msg) - 1)
        fail_errno("write stderr");
    pass();
}
