/*
 * fds-dup2-onto-engine.c — the program dup2()s and dup3()s its files onto
 * the numbers where the engine keeps its own descriptors (whatever
 * /proc/self/fd shows open that the program did not open, and 900–903,
 * the engine's old range), then checkpoints itself with dmtcp_checkpoint().
 * Every such descriptor holds the program's file with its offset and
 * close-on-exec flag, nothing was written into those files, and
 * checkpointing still works (the call returns, the driver's restarts and
 * later checkpoints succeed).
 */
// SCEN_SELF_CHECKPOINT: yes

#include "scenario.h"

#include <dirent.h>
#include <sys/resource.h>

#define MAX_TARGETS 64
#define FILE_SIZE 256

static int targets[MAX_TARGETS];
static int ntargets;
static ino_t inode_of[MAX_TARGETS];

static void add_target(int fd)
{
    struct rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && (rlim_t)fd >= lim.rlim_cur)
        return; /* above the limit no program can dup2 there */
    for (int i = 0; i < ntargets; i++)
        if (targets[i] == fd)
            return;
    if (ntargets < MAX_TARGETS)
        targets[ntargets++] = fd;
}

/* Every descriptor above 2 open now: the program opened none yet. */
static void add_open_descriptors(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        fail_errno("opendir /proc/self/fd");
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        int fd = atoi(e->d_name);
        if (e->d_name[0] >= '0' && e->d_name[0] <= '9' && fd > 2 && fd != dirfd(d))
            add_target(fd);
    }
    closedir(d);
}

static void take_number(int k)
{
    int t = targets[k];
    char name[32], content[FILE_SIZE];
    snprintf(name, sizeof name, "t%d", t);
    scen_fill(content, sizeof content, 2000 + (uint64_t)t);
    char *p = scen_make_file(name, content, sizeof content);
    int fd = open(p, O_RDWR);
    if (fd < 0)
        fail_errno("open %s", p);
    free(p);
    int got = k % 2 ? dup3(fd, t, O_CLOEXEC) : dup2(fd, t);
    if (got != t)
        fail_errno("%s onto fd %d returned %d", k % 2 ? "dup3" : "dup2", t, got);
    close(fd);
    if (lseek(t, k + 1, SEEK_SET) != k + 1)
        fail_errno("lseek fd %d", t);
    struct stat st;
    if (fstat(t, &st) != 0)
        fail_errno("fstat fd %d", t);
    inode_of[k] = st.st_ino;
}

static void check_number(int k)
{
    int t = targets[k];
    struct stat st;
    if (fstat(t, &st) != 0)
        fail_errno("fd %d (the program's t%d) is no longer open", t, t);
    if (st.st_ino != inode_of[k])
        fail("fd %d names another file than t%d", t, t);
    if (st.st_size != FILE_SIZE)
        fail("t%d is %lld bytes, expected %d: something wrote into fd %d", t, (long long)st.st_size, FILE_SIZE, t);
    int fdfl = fcntl(t, F_GETFD);
    if (fdfl < 0 || !!(fdfl & FD_CLOEXEC) != k % 2)
        fail("fd %d: FD_CLOEXEC is %s", t, k % 2 ? "lost" : "set");
    if (lseek(t, 0, SEEK_CUR) != k + 1)
        fail("fd %d: offset %lld, expected %d", t, (long long)lseek(t, 0, SEEK_CUR), k + 1);
    char buf[FILE_SIZE];
    char what[64];
    snprintf(what, sizeof what, "t%d read through fd %d", t, t);
    if (scen_pread_all(t, buf, sizeof buf, 0) != sizeof buf)
        fail("fd %d: short read", t);
    scen_expect_pattern(what, buf, sizeof buf, 2000 + (uint64_t)t);
}

int main(void)
{
    add_open_descriptors();
    for (int fd = 900; fd <= 903; fd++)
        add_target(fd);
    for (int k = 0; k < ntargets; k++)
        take_number(k);

    int enabled = dmtcp_is_enabled();
    int rc = dmtcp_checkpoint();

    scen_ready();
    scen_wait_check();

    if (enabled && rc != DMTCP_AFTER_CHECKPOINT && rc != DMTCP_AFTER_RESTART)
        fail("dmtcp_checkpoint() after taking the engine's numbers returned %d", rc);
    if (!enabled && rc != DMTCP_NOT_PRESENT)
        fail("without the engine dmtcp_checkpoint() returned %d", rc);
    for (int k = 0; k < ntargets; k++)
        check_number(k);
    pass();
}
