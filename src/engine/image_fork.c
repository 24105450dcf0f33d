/*
 * image_fork.c — forked checkpointing: the image is written by a
 * copy-on-write child while the program goes on.
 *
 * With every user thread parked and its state recorded, the manager clones
 * the process (no CLONE_VM: the child's memory is a snapshot of the
 * parent's, shared copy-on-write).  The child writes that snapshot with the
 * ordinary writer (image_write.c) and reports the result through a pipe;
 * the parent releases its threads as soon as the clone exists, so the
 * program is stopped only for parking and the clone, not for the writing.
 *
 * The child is created with no exit signal: the program gets no SIGCHLD for
 * it and wait()/waitpid(-1) never see it (only __WALL/__WCLONE do, which the
 * manager uses).  It dies with the manager (PR_SET_PDEATHSIG), so killing
 * the program never leaves a writer behind; its image would then be
 * incomplete and is never renamed into place (image_file.c: an unnamed
 * file vanishes with the writer; a named temporary is removed by the next
 * checkpoint or the restart).
 *
 * What differs from an in-process checkpoint: memory the program shares
 * with others (MAP_SHARED) is copied while it may change, and areas marked
 * MADV_DONTFORK are missing from the child (MADV_WIPEONFORK ones read as
 * zeros).  Pages the program writes while the child works are copied by the
 * kernel, so memory use can grow by up to the pages written meanwhile.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/engine.h"
#include "engine/sys.h"

struct image_fork_report {
    int rc;
    struct image_result res;
};

int image_fork_start(uint64_t generation, const char *dir, struct image_fork *f)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return -errno;
    static int wr; /* static: the slot stays valid while registered */
    int rc_rd = engine_fds_own(p[0], &f->rd, "forked writer's pipe");
    int rc_wr = engine_fds_own(p[1], &wr, "forked writer's pipe");
    if (rc_rd < 0 || rc_wr < 0) {
        engine_fds_close(&f->rd);
        engine_fds_close(&wr);
        return -EMFILE;
    }
    /* raw system calls: the pid plugin's wrappers speak virtual pids */
    pid_t parent = sys_getpid();
    /* flags 0: a new process, copy-on-write memory, no exit signal */
    long pid = sys_call5(SYS_clone, 0, 0, 0, 0, 0);
    if (pid < 0) {
        engine_fds_close(&f->rd);
        engine_fds_close(&wr);
        return (int)pid;
    }
    if (pid == 0) {
        /* the writer: one thread, a snapshot of the parked process */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (sys_call0(SYS_getppid) != parent)
            sys_call1(SYS_exit_group, 1);
        prctl(PR_SET_NAME, "stasis-writer");
        image_presence_pid = parent;
        static struct image_fork_report rep;
        rep.rc = image_write(generation, dir, &rep.res);
        const char *p8 = (const char *)&rep;
        size_t left = sizeof rep;
        while (left) {
            ssize_t n = write(wr, p8, left);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            p8 += n;
            left -= (size_t)n;
        }
        sys_call1(SYS_exit_group, 0);
    }
    engine_fds_close(&wr);
    f->pid = (pid_t)pid;
    return 0;
}

int image_fork_finish(struct image_fork *f, struct image_result *res)
{
    static struct image_fork_report rep;
    memset(&rep, 0, sizeof rep);
    char *p8 = (char *)&rep;
    size_t got = 0;
    while (got < sizeof rep) {
        ssize_t n = read(f->rd, p8 + got, sizeof rep - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    engine_fds_close(&f->rd);
    int status = 0;
    while (sys_call4(SYS_wait4, f->pid, &status, __WALL, 0) == -EINTR)
        ;
    if (got == sizeof rep) {
        *res = rep.res;
        return rep.rc;
    }
    memset(res, 0, sizeof *res);
    snprintf(res->path, sizeof res->path, "%s", image_current_path());
    /* the last good image stays; its unfinished successor goes (nothing to
     * do for an unnamed one; a named temporary of the writer, now reaped) */
    image_file_sweep(res->path);
    if (WIFSIGNALED(status))
        snprintf(res->error, sizeof res->error,
                 "the image writer (process %d) was killed by signal %d (%s) before it finished", (int)f->pid,
                 WTERMSIG(status), WTERMSIG(status) == SIGKILL ? "out of memory?" : strsignal(WTERMSIG(status)));
    else
        snprintf(res->error, sizeof res->error, "the image writer (process %d) exited with status %d unfinished",
                 (int)f->pid, WEXITSTATUS(status));
    return -EIO;
}
