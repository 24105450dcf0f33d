/*
 * zombie.c — children that ended before the checkpoint and were not reaped.
 *
 * Their exit status is the parent's to collect (waitpid, wait, SIGCHLD
 * handlers); a restart that lost them would make waitpid() fail with ECHILD,
 * and programs read that as success or hang (Python's subprocess takes it
 * for exit status 0).  At PRECHECKPOINT each process asks the kernel which of
 * its children are zombies (waitid with WNOWAIT: nothing is reaped) and
 * saves their pids and statuses; at RESTART it makes each one again: a
 * child that exits at once with the same status (or is killed by the same
 * signal), whose new pid pid_tree.c maps to the old one, so the program's
 * waitpid(<old pid>) collects it.  Its parent gets a SIGCHLD for it then,
 * as it may have had before the checkpoint.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/engine.h"
#include "engine/plugins/pid.h"
#include "engine/sys.h"

#define ZOMBIE_MAX 1024
#define ZOMBIE_EXIT_WAIT_MS 5000 /* a child that is ending has this long to become a zombie */

struct zombie_rec {
    pid_t vpid;
    int code;   /* CLD_EXITED, CLD_KILLED, CLD_DUMPED */
    int status; /* exit status or signal */
};

static struct {
    struct zombie_rec recs[ZOMBIE_MAX];
    int n;
} zombie_state;

#define ZOMBIE_PF_EXITING 0x4 /* the kernel's task flag: in exit() */

/* The kernel has begun to end process pid (flags, field 9 of its stat). */
static int zombie_is_exiting(pid_t pid)
{
    char path[48], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    const char *f = procfs_stat_fields(path, buf, sizeof buf);
    unsigned long flags = 0;
    char state;
    int i1, i2, i3, i4, i5;
    if (!f || sscanf(f, "%c %d %d %d %d %d %lu", &state, &i1, &i2, &i3, &i4, &i5, &flags) != 7)
        return 0;
    return (flags & ZOMBIE_PF_EXITING) != 0;
}

/* A child that is ending may not be a zombie yet: one the coordinator saw
 * end before it was suspended ("gone:PID": its connection closes before
 * its exit is done), or one that ended just before the checkpoint began
 * (the kernel says it is exiting).  Wait for that, bounded. */
static int zombie_is_ending(pid_t pid)
{
    char key[32];
    int64_t v = 0;
    snprintf(key, sizeof key, "gone:%d", (int)pid);
    if (manager_kv_get(key, &v, sizeof v) != (long)sizeof v && !zombie_is_exiting(pid))
        return 0;
    long fd = sys_call2(SYS_pidfd_open, pid, 0);
    if (fd < 0)
        return 0;
    struct pollfd p = {(int)fd, POLLIN, 0};
    struct timespec ts = {ZOMBIE_EXIT_WAIT_MS / 1000, (ZOMBIE_EXIT_WAIT_MS % 1000) * 1000000L};
    long r = sys_call5(SYS_ppoll, &p, 1, &ts, NULL, 8);
    sys_call1(SYS_close, fd);
    return r > 0;
}

static void zombie_note_child(pid_t pid)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    if (sys_call5(SYS_waitid, P_PID, pid, &si, WEXITED | WNOHANG | WNOWAIT, NULL) < 0 || si.si_pid != pid) {
        if (!zombie_is_ending(pid))
            return; /* alive (or not this process's) */
        memset(&si, 0, sizeof si);
        if (sys_call5(SYS_waitid, P_PID, pid, &si, WEXITED | WNOHANG | WNOWAIT, NULL) < 0 || si.si_pid != pid)
            return;
    }
    if (zombie_state.n >= ZOMBIE_MAX) {
        engine_warn("checkpoint: more than %d children wait to be reaped; the others' exit statuses are lost "
                    "at a restart",
                    ZOMBIE_MAX);
        return;
    }
    struct zombie_rec *z = &zombie_state.recs[zombie_state.n++];
    z->vpid = pid_tree_to_virtual(pid);
    z->code = si.si_code;
    z->status = si.si_status;
}

/* Children of every thread: /proc/self/task/TID/children. */
static void zombie_scan_task(int tid, void *arg)
{
    (void)arg;
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/self/task/%d/children", tid);
    long n = procfs_read(path, buf, sizeof buf);
    if (n <= 0)
        return;
    for (char *p = buf; *p;) {
        char *end;
        long pid = strtol(p, &end, 10);
        if (end == p)
            break;
        if (pid > 0)
            zombie_note_child((pid_t)pid);
        p = end;
        while (*p == ' ' || *p == '\n')
            p++;
    }
}

static void zombie_checkpoint(void)
{
    zombie_state.n = 0;
    int listing = -1;
    procfs_each_number("/proc/self/task", zombie_scan_task, NULL, &listing);
}

/* A child that ends as z did.  Raw clone: no fork handlers, no engine in it. */
static pid_t zombie_make(const struct zombie_rec *z)
{
    long pid = sys_call5(SYS_clone, SIGCHLD, 0, 0, 0, 0);
    if (pid != 0)
        return (pid_t)pid;
    if (z->code == CLD_KILLED || z->code == CLD_DUMPED) {
        struct {
            void *handler;
            unsigned long flags;
            void *restorer;
            uint64_t mask;
        } dfl = {SIG_DFL, 0, NULL, 0};
        uint64_t unblock = 1ull << (z->status - 1);
        sys_call4(SYS_rt_sigaction, z->status, &dfl, NULL, 8);
        sys_call4(SYS_rt_sigprocmask, SIG_UNBLOCK, &unblock, NULL, 8);
        sys_call2(SYS_kill, sys_getpid(), z->status);
    }
    sys_call1(SYS_exit_group, z->code == CLD_EXITED ? z->status : 128 + z->status);
    return 0;
}

static void zombie_restart(void)
{
    for (int i = 0; i < zombie_state.n; i++) {
        const struct zombie_rec *z = &zombie_state.recs[i];
        pid_t pid = zombie_make(z);
        if (pid < 0) {
            engine_warn("cannot recreate the ended child %d (%s); waiting for it fails with ECHILD", (int)z->vpid,
                        strerror(-pid));
            continue;
        }
        pid_tree_add(z->vpid, pid);
    }
    zombie_state.n = 0;
}

static void zombie_hook(dmtcp_event_t ev, dmtcp_event_data_t *data)
{
    (void)data;
    if (ev == DMTCP_EVENT_PRECHECKPOINT)
        zombie_checkpoint();
    else if (ev == DMTCP_EVENT_RESTART)
        zombie_restart();
    else if (ev == DMTCP_EVENT_RESUME)
        zombie_state.n = 0;
}

static const dmtcp_plugin_descriptor_t zombie_descriptor = {
    .api_version = DMTCP_NATIVE_PLUGIN_API_VERSION,
    .name = "zombie",
    .version = STASIS_VERSION,
    .description = "children that ended before the checkpoint and were not reaped",
    .event_hook = zombie_hook,
};
PLUGIN_DECL_BUILTIN(zombie_descriptor, 70, NULL);
