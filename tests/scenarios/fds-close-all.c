/*
 * fds-close-all.c — a daemon-like program closes every descriptor above 2:
 * close() on every number up to its RLIMIT_NOFILE, then close_range(),
 * closefrom() and syscall(SYS_close_range) over everything.  None of that
 * may close the engine's own descriptors: the program then opens a file,
 * checkpoints itself with dmtcp_checkpoint() (which must work), and the
 * driver's checkpoints and restarts go on as usual; the file is intact.
 */
// SCEN_SELF_CHECKPOINT: yes

#include "scenario.h"

#include <sys/resource.h>
#include <sys/syscall.h>

#define FILE_SIZE 4096
#define OFFSET 1234

int main(void)
{
    struct rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) != 0)
        fail_errno("getrlimit(RLIMIT_NOFILE)");
    rlim_t top = lim.rlim_cur > (1u << 20) ? (1u << 20) : lim.rlim_cur;
    for (rlim_t fd = 3; fd < top; fd++)
        close((int)fd); /* EBADF for numbers not open: daemons ignore it */
    if (close_range(3, ~0U, 0) != 0)
        fail_errno("close_range(3, ~0U, 0)");
    closefrom(3);
    if (syscall(SYS_close_range, 3, ~0U, 0) != 0)
        fail_errno("syscall(SYS_close_range, 3, ~0U, 0)");

    char content[FILE_SIZE];
    scen_fill(content, sizeof content, 3000);
    char *p = scen_make_file("data", content, sizeof content);
    int fd = open(p, O_RDONLY);
    if (fd < 0)
        fail_errno("open %s", p);
    free(p);
    if (lseek(fd, OFFSET, SEEK_SET) != OFFSET)
        fail_errno("lseek");

    int enabled = dmtcp_is_enabled();
    int rc = dmtcp_checkpoint();

    scen_ready();
    scen_wait_check();

    if (enabled && rc != DMTCP_AFTER_CHECKPOINT && rc != DMTCP_AFTER_RESTART)
        fail("dmtcp_checkpoint() after closing every descriptor returned %d", rc);
    if (!enabled && rc != DMTCP_NOT_PRESENT)
        fail("without the engine dmtcp_checkpoint() returned %d", rc);
    if (lseek(fd, 0, SEEK_CUR) != OFFSET)
        fail("fd %d: offset %lld, expected %d", fd, (long long)lseek(fd, 0, SEEK_CUR), OFFSET);
    char buf[FILE_SIZE];
    if (scen_pread_all(fd, buf, sizeof buf, 0) != sizeof buf)
        fail("fd %d: short read", fd);
    scen_expect_pattern("data", buf, sizeof buf, 3000);
    pass();
}
