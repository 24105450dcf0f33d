/*
 * proc-pid-paths.c — /proc/<pid> paths built from the pids the program
 * knows name the same processes after a restart.
 *
 * The main process forks a child that waits for the check.  After the
 * check main reaches its own, its child's and its thread's /proc entries
 * through paths made from getpid(), the child's pid (as fork returned it)
 * and gettid(), with each kind of call: open, fopen, openat, opendir,
 * stat, lstat, fstatat, statx, access, faccessat, readlink.  Each must
 * reach the right process: the pid field of /proc/<getpid()>/stat is the
 * one /proc/self/stat shows (whatever the kernel's pid is now), the
 * child's entry names main as its parent, the thread's is main's thread.
 */
#include "scenario.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

/* The first field (pid) and the fourth (ppid) of a stat file, read with
 * open/read (how = 0), fopen (1) or openat (2). */
static int stat_fields(const char *path, int how, long *pid, long *ppid)
{
    char buf[1024];
    ssize_t n = -1;
    if (how == 1) {
        FILE *f = fopen(path, "r");
        if (!f)
            return -1;
        n = (ssize_t)fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
    } else {
        int fd = how == 2 ? openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC) : open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return -1;
        n = read(fd, buf, sizeof buf - 1);
        close(fd);
    }
    if (n <= 0)
        return -1;
    buf[n] = 0;
    const char *close_paren = strrchr(buf, ')');
    char state;
    if (sscanf(buf, "%ld", pid) != 1 || !close_paren || sscanf(close_paren + 1, " %c %ld", &state, ppid) != 2)
        return -1;
    return 0;
}

int main(void)
{
    int ready[2], done[2];
    if (pipe(ready) < 0 || pipe(done) < 0)
        fail_errno("pipe");
    pid_t c = fork();
    if (c < 0)
        fail_errno("fork");
    if (c == 0) {
        close(ready[0]);
        close(done[1]);
        if (write(ready[1], "c", 1) != 1)
            _exit(2);
        scen_wait_check();
        char x;
        while (read(done[0], &x, 1) < 0 && errno == EINTR)
            ; /* alive until main has looked (a zombie's /proc entry is not another user's to read) */
        _exit(0);
    }
    close(ready[1]);
    close(done[0]);
    char ch;
    if (read(ready[0], &ch, 1) != 1)
        fail("the child died before it was ready");
    scen_ready();
    scen_wait_check();

    pid_t me = getpid(), tid = (pid_t)syscall(SYS_gettid);
    char mine[64], child[64], thread[96], path[160];
    snprintf(mine, sizeof mine, "/proc/%d", (int)me);
    snprintf(child, sizeof child, "/proc/%d", (int)c);
    snprintf(thread, sizeof thread, "/proc/%d/task/%d", (int)me, (int)tid);

    long self_pid, self_ppid, p, pp;
    SCEN_CHECK(stat_fields("/proc/self/stat", 0, &self_pid, &self_ppid) == 0, "read /proc/self/stat: %s",
               strerror(errno));
    static const char *const hows[] = {"open", "fopen", "openat"};
    for (int how = 0; how < 3; how++) {
        snprintf(path, sizeof path, "%s/stat", mine);
        SCEN_CHECK(stat_fields(path, how, &p, &pp) == 0, "%s(%s): %s", hows[how], path, strerror(errno));
        SCEN_CHECK(p == self_pid, "%s(%s) reached process %ld, not this one (%ld)", hows[how], path, p, self_pid);
        snprintf(path, sizeof path, "%s/stat", child);
        SCEN_CHECK(stat_fields(path, how, &p, &pp) == 0, "%s(%s): %s", hows[how], path, strerror(errno));
        SCEN_CHECK(pp == self_pid, "%s(%s) reached process %ld, whose parent is %ld, not this one (%ld)",
                   hows[how], path, p, pp, self_pid);
        snprintf(path, sizeof path, "%s/stat", thread);
        SCEN_CHECK(stat_fields(path, how, &p, &pp) == 0, "%s(%s): %s", hows[how], path, strerror(errno));
        SCEN_CHECK(p == self_pid, "%s(%s) reached thread %ld, not this process's main thread (%ld)", hows[how],
                   path, p, self_pid);
    }
    struct stat st;
    struct statx stx;
    SCEN_CHECK(stat(child, &st) == 0, "stat(%s): %s", child, strerror(errno));
    SCEN_CHECK(lstat(mine, &st) == 0, "lstat(%s): %s", mine, strerror(errno));
    snprintf(path, sizeof path, "%s/status", child);
    SCEN_CHECK(fstatat(AT_FDCWD, path, &st, 0) == 0, "fstatat(%s): %s", path, strerror(errno));
    SCEN_CHECK(statx(AT_FDCWD, path, 0, STATX_BASIC_STATS, &stx) == 0, "statx(%s): %s", path, strerror(errno));
    SCEN_CHECK(access(child, F_OK) == 0, "access(%s): %s", child, strerror(errno));
    SCEN_CHECK(faccessat(AT_FDCWD, mine, F_OK, 0) == 0, "faccessat(%s): %s", mine, strerror(errno));
    snprintf(path, sizeof path, "%s/fd", child);
    DIR *d = opendir(path);
    SCEN_CHECK(d != NULL, "opendir(%s): %s", path, strerror(errno));
    closedir(d);
    char link[4096], cwd[4096];
    snprintf(path, sizeof path, "%s/cwd", mine);
    ssize_t n = readlink(path, link, sizeof link - 1);
    SCEN_CHECK(n > 0, "readlink(%s): %s", path, strerror(errno));
    link[n] = 0;
    SCEN_CHECK(getcwd(cwd, sizeof cwd) && strcmp(link, cwd) == 0, "readlink(%s) = %s, but the cwd is %s", path,
               link, cwd);

    close(done[1]);
    int s;
    pid_t w;
    while ((w = waitpid(c, &s, 0)) < 0 && errno == EINTR)
        ;
    SCEN_CHECK(w == c && WIFEXITED(s) && WEXITSTATUS(s) == 0, "the child ended with %#x", s);
    pass();
}
