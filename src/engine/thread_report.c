/*
 * thread_report.c — what a thread that a checkpoint could not park is
 * doing, in words, for the message that abandons the checkpoint: its tid
 * and name, whether it blocks the checkpoint signal, whether it is stopped
 * or in an uninterruptible wait, the libc call it was inside (critical.c)
 * and the system call it sleeps in — all read from /proc/self/task/TID.
 * Runs in the manager while other threads may be parked: no malloc, no
 * stdio streams.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "engine/sys.h"

static const char *thread_report_syscall_name(long nr)
{
    switch (nr) {
    case SYS_read: return "read";
    case SYS_write: return "write";
    case SYS_readv: return "readv";
    case SYS_writev: return "writev";
    case SYS_pread64: return "pread64";
    case SYS_pwrite64: return "pwrite64";
    case SYS_openat: return "openat";
    case SYS_ioctl: return "ioctl";
    case SYS_fcntl: return "fcntl";
    case SYS_flock: return "flock";
    case SYS_poll: return "poll";
    case SYS_ppoll: return "ppoll";
    case SYS_select: return "select";
    case SYS_pselect6: return "pselect6";
    case SYS_epoll_wait: return "epoll_wait";
    case SYS_epoll_pwait: return "epoll_pwait";
    case SYS_accept: return "accept";
    case SYS_accept4: return "accept4";
    case SYS_connect: return "connect";
    case SYS_recvfrom: return "recvfrom";
    case SYS_recvmsg: return "recvmsg";
    case SYS_sendto: return "sendto";
    case SYS_sendmsg: return "sendmsg";
    case SYS_wait4: return "wait4";
    case SYS_waitid: return "waitid";
    case SYS_futex: return "futex";
    case SYS_nanosleep: return "nanosleep";
    case SYS_clock_nanosleep: return "clock_nanosleep";
    case SYS_pause: return "pause";
    case SYS_rt_sigsuspend: return "rt_sigsuspend";
    case SYS_rt_sigtimedwait: return "rt_sigtimedwait";
    case SYS_msgrcv: return "msgrcv";
    case SYS_msgsnd: return "msgsnd";
    case SYS_semop: return "semop";
    case SYS_semtimedop: return "semtimedop";
    case SYS_io_getevents: return "io_getevents";
    default: return NULL;
    }
}

/* The hex mask after `key` in a /proc status text. */
static uint64_t thread_report_mask(const char *status, const char *key)
{
    const char *p = strstr(status, key);
    return p ? strtoull(p + strlen(key), NULL, 16) : 0;
}

/* ", in system call NAME", ", running" or "" from /proc/…/syscall; the
 * call's number, or -1. */
static long thread_report_syscall(int tid, char *out, size_t cap)
{
    char path[64], buf[256];
    out[0] = 0;
    snprintf(path, sizeof path, "/proc/self/task/%d/syscall", tid);
    if (procfs_read(path, buf, sizeof buf) <= 0)
        return -1;
    if (!strncmp(buf, "running", 7)) {
        snprintf(out, cap, ", running");
        return -1;
    }
    char *end;
    long nr = strtol(buf, &end, 10);
    if (end == buf || nr < 0)
        return -1;
    const char *name = thread_report_syscall_name(nr);
    if (name)
        snprintf(out, cap, ", in system call %s", name);
    else
        snprintf(out, cap, ", in system call %ld", nr);
    return nr;
}

void thread_report_stuck(const struct thread_rec *r, char *out, size_t cap)
{
    int tid = r->real_tid;
    char path[64], name[32] = "?", stat[512], status[4096], sc[64], call[64] = "";
    snprintf(path, sizeof path, "/proc/self/task/%d/comm", tid);
    if (procfs_read(path, name, sizeof name) > 0)
        name[strcspn(name, "\n")] = 0;
    char state = '?';
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
    const char *f = procfs_stat_fields(path, stat, sizeof stat);
    if (f)
        state = f[0];
    snprintf(path, sizeof path, "/proc/self/task/%d/status", tid);
    procfs_read(path, status, sizeof status);
    int blocks = (thread_report_mask(status, "SigBlk:\t") >> (engine_config.ckpt_signal - 1)) & 1;
    long nr = thread_report_syscall(tid, sc, sizeof sc);
    if (r->critical_call)
        snprintf(call, sizeof call, ", inside %s()", r->critical_call);
    if (blocks && nr == SYS_rt_sigtimedwait) /* glibc's helpers: timer_create, mq_notify */
        snprintf(out, cap, "thread %d (%s) blocks the checkpoint signal (%d) and waits for signals%s, as "
                 "glibc's helper thread for timer_create(SIGEV_THREAD) does", tid, name,
                 engine_config.ckpt_signal, sc);
    else if (blocks)
        snprintf(out, cap, "thread %d (%s) blocks the checkpoint signal (%d)%s%s", tid, name,
                 engine_config.ckpt_signal, call, sc);
    else if (state == 'T' || state == 't')
        snprintf(out, cap, "thread %d (%s) is stopped (by a signal or a debugger)%s%s", tid, name, call, sc);
    else if (state == 'D')
        snprintf(out, cap, "thread %d (%s) is in an uninterruptible wait%s%s", tid, name, call, sc);
    else if (r->critical_call)
        snprintf(out, cap, "thread %d (%s) did not leave %s()%s%s", tid, name, r->critical_call,
                 r->forced ? " and did not park inside it" : "", sc);
    else
        snprintf(out, cap, "thread %d (%s) did not answer the checkpoint signal%s", tid, name, sc);
}
