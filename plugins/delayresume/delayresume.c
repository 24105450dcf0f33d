/*
 * delayresume.c — libdmtcp_delayresume.so: delayed resume, built only on the
 * public plugin API of dmtcp.h (see include/delayresume.h for the calls and
 * docs/plugins.md for a walk through this file).
 *
 * How it works.  dmtcp_checkpoint_block_resume() marks the calling thread as
 * the initiator and asks for a checkpoint.  After the image is durable the
 * engine lets every thread go, and each one runs THREAD_RESUME on its way out
 * of the parked state: here, every thread but the initiator parks again, on
 * a futex (no CPU), until the initiator calls
 * dmtcp_checkpoint_unblock_resume().  The window holds checkpoints back
 * (dmtcp_hold_checkpoints) while it is open, so a checkpoint asked for
 * meanwhile runs right after unblock — or after DMTCP_DELAYRESUME_TIMEOUT
 * releases the threads.  After a restart nobody parks.
 *
 * With DMTCP_DELAYRESUME_SCOPE=computation the window holds every process
 * of the computation: the initiator's process announces it during the
 * checkpoint (the coordinator's name service and a barrier), and the
 * threads of the other processes wait in THREAD_RESUME until the
 * coordinator says a window closed (dmtcp_wait_windows_closed).  Processes
 * the initiator starts during the window are new, and run.
 *
 * States: IDLE → REQUESTED (block called, checkpoint under way) → OPEN
 * (threads parked) → IDLE.  Parked threads wait on `closed_seq`, bumped
 * when a window closes; `window_gen` names the checkpoint whose threads
 * park, so a window requested right after another one closed never holds a
 * thread still on its way out of the previous one.
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "delayresume.h"

enum { DR_IDLE = 0, DR_REQUESTED = 1, DR_OPEN = 2 };

static struct {
    int state;          /* IDLE, REQUESTED or OPEN */
    int closed_seq;     /* futex word: bumped each time a window closes */
    uint64_t window_gen; /* the checkpoint generation whose threads park; 0 = none yet */
    pid_t initiator;    /* tid of the thread that opened the window */
    int timed_out;      /* DMTCP_DELAYRESUME_TIMEOUT released the threads */
    int holding;        /* the window holds checkpoints back (dmtcp_hold_checkpoints) */
    long timeout_sec;   /* 0 = wait for unblock, however long */
    int scope_computation; /* DMTCP_DELAYRESUME_SCOPE=computation */
    uint64_t remote_gen; /* a window another process opened holds this checkpoint's threads */
    unsigned remote_seen; /* windows closed in the computation when it was opened */
} dr;

static void dr_warn(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (n > (int)sizeof buf - 2)
        n = (int)sizeof buf - 2;
    buf[n++] = '\n';
    ssize_t w = write(2, buf, (size_t)n); /* no stdio: may run while others are parked */
    (void)w;
}

static pid_t dr_tid(void)
{
    return gettid(); /* the engine's: the thread's own id, restarts included */
}

static long dr_futex(int *addr, int op, int val, const struct timespec *ts)
{
    return syscall(SYS_futex, addr, op, val, ts, NULL, 0);
}

/* Close the window: every thread parked for it leaves. */
static void dr_close(void)
{
    dr.initiator = 0;
    atomic_store(&dr.window_gen, 0);
    atomic_store(&dr.state, DR_IDLE);
    atomic_fetch_add(&dr.closed_seq, 1);
    dr_futex(&dr.closed_seq, FUTEX_WAKE_PRIVATE, INT_MAX, NULL);
}

static void dr_release_hold(void)
{
    if (atomic_exchange(&dr.holding, 0)) {
        dmtcp_release_checkpoints();
        if (dmtcp_set_status_flags)
            dmtcp_set_status_flags(0);
    }
}

/* THREAD_RESUME, in a thread leaving the parked state after a checkpoint.
 * It parks only for the window of the checkpoint it is resuming from, and
 * leaves when that window closes — even if the next one has already been
 * requested (a thread still in this hook holds the next checkpoint back). */
static void dr_park_if_window(const dmtcp_event_data_t *data)
{
    if (data->is_restart || dr_tid() == dr.initiator)
        return;
    int seq = atomic_load(&dr.closed_seq);
    if (atomic_load(&dr.state) == DR_IDLE || atomic_load(&dr.window_gen) != data->generation)
        return;
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += dr.timeout_sec;
    for (;;) {
        if (atomic_load(&dr.closed_seq) != seq || atomic_load(&dr.timed_out))
            return;
        if (!dr.timeout_sec) {
            dr_futex(&dr.closed_seq, FUTEX_WAIT_PRIVATE, seq, NULL);
            continue;
        }
        struct timespec now, left;
        clock_gettime(CLOCK_MONOTONIC, &now);
        left.tv_sec = deadline.tv_sec - now.tv_sec;
        left.tv_nsec = deadline.tv_nsec - now.tv_nsec;
        if (left.tv_nsec < 0) {
            left.tv_sec--;
            left.tv_nsec += 1000000000L;
        }
        if (left.tv_sec < 0) {
            if (!atomic_exchange(&dr.timed_out, 1)) {
                dr_warn("delayresume: DMTCP_DELAYRESUME_TIMEOUT (%ld s) expired before "
                        "dmtcp_checkpoint_unblock_resume(); releasing the parked threads",
                        dr.timeout_sec);
                dr_futex(&dr.closed_seq, FUTEX_WAKE_PRIVATE, INT_MAX, NULL);
                dr_release_hold(); /* checkpoints may run again */
            }
            return;
        }
        dr_futex(&dr.closed_seq, FUTEX_WAIT_PRIVATE, seq, &left);
    }
}

/* Computation scope, at PRECHECKPOINT (every process of the checkpoint is
 * suspended): the process whose thread asked for the window names itself
 * to the coordinator's name service; after a barrier every other process
 * learns that this checkpoint's window holds its threads too, until the
 * coordinator counts one more closed window (the initiator's unblock, its
 * timeout or its exit). */
static void dr_announce(uint64_t generation)
{
    static const char key[] = "window";
    dr.remote_gen = 0;
    int mine = atomic_load(&dr.state) == DR_REQUESTED;
    if (mine) {
        int32_t me = getpid();
        dmtcp_send_key_val_pair_to_coordinator("delayresume", key, sizeof key, &me, sizeof me);
    }
    dmtcp_global_barrier("delayresume:window");
    int32_t who = 0;
    uint32_t len = sizeof who;
    if (!mine && dmtcp_send_query_to_coordinator("delayresume", key, sizeof key, &who, &len) && len == sizeof who &&
        who > 0) {
        dmtcp_get_computation_status(NULL, &dr.remote_seen);
        dr.remote_gen = generation;
    }
}

/* THREAD_RESUME in a process held by another process's window. */
static void dr_park_for_remote(const dmtcp_event_data_t *data)
{
    if (data->is_restart || !dr.remote_gen || dr.remote_gen != data->generation)
        return;
    if (dmtcp_wait_windows_closed(dr.remote_seen, dr.timeout_sec ? dr.timeout_sec * 1000 : -1) != 0)
        dr_warn("delayresume: process %d leaves the window of another process without its unblock "
                "(DMTCP_DELAYRESUME_TIMEOUT, or the coordinator is gone)",
                (int)getpid());
}

static void dr_event(dmtcp_event_t ev, dmtcp_event_data_t *data)
{
    switch (ev) {
    case DMTCP_EVENT_INIT: {
        const char *t = getenv("DMTCP_DELAYRESUME_TIMEOUT");
        char *end = NULL;
        dr.timeout_sec = t && *t ? strtol(t, &end, 10) : 0;
        if (t && *t && (*end || dr.timeout_sec < 0)) {
            dr_warn("delayresume: DMTCP_DELAYRESUME_TIMEOUT='%s' is not a number of seconds; no timeout", t);
            dr.timeout_sec = 0;
        }
        const char *scope = getenv("DMTCP_DELAYRESUME_SCOPE");
        dr.scope_computation = scope && !strcmp(scope, "computation");
        if (scope && *scope && strcmp(scope, "process") != 0 && !dr.scope_computation)
            dr_warn("delayresume: DMTCP_DELAYRESUME_SCOPE=%s is neither 'process' nor 'computation'; using "
                    "'process'",
                    scope);
        break;
    }
    case DMTCP_EVENT_PRECHECKPOINT:
        if (dr.scope_computation && dmtcp_send_key_val_pair_to_coordinator)
            dr_announce(data->generation);
        break;
    case DMTCP_EVENT_RESUME:
        /* the manager, before releasing the threads: the first checkpoint
         * to complete after block_resume() is the window's */
        if (!data->is_restart && atomic_load(&dr.state) == DR_REQUESTED && !atomic_load(&dr.window_gen))
            atomic_store(&dr.window_gen, data->generation);
        break;
    case DMTCP_EVENT_THREAD_RESUME:
        dr_park_if_window(data);
        dr_park_for_remote(data);
        break;
    default:
        break;
    }
}

static dmtcp_plugin_descriptor_t dr_descriptor = {
    .api_version = DMTCP_NATIVE_PLUGIN_API_VERSION,
    .name = "delayresume",
    .version = "1",
    .description = "keeps other threads parked after a checkpoint until the initiator unblocks them",
    .event_hook = dr_event,
};
DMTCP_DECL_PLUGIN(dr_descriptor)

#undef dmtcp_checkpoint_block_resume
#undef dmtcp_checkpoint_unblock_resume

__attribute__((visibility("default"))) int dmtcp_checkpoint_block_resume(void)
{
    if (!dmtcp_is_enabled())
        return DMTCP_NOT_PRESENT;
    if (dmtcp_in_signal_handler && dmtcp_in_signal_handler()) {
        dr_warn("delayresume: dmtcp_checkpoint_block_resume() called from a signal handler; refused "
                "(call it from normal thread context)");
        return DMTCP_RESUME_ESIGNAL;
    }
    int expected = DR_IDLE;
    if (!atomic_compare_exchange_strong(&dr.state, &expected, DR_REQUESTED)) {
        if (expected == DR_OPEN) {
            dr_warn("delayresume: dmtcp_checkpoint_block_resume() while a window is open; "
                    "call dmtcp_checkpoint_unblock_resume() first");
            return DMTCP_RESUME_EOPEN;
        }
        dr_warn("delayresume: dmtcp_checkpoint_block_resume() while another thread is in it; refused");
        return DMTCP_RESUME_EBUSY;
    }
    dr.initiator = dr_tid();
    atomic_store(&dr.timed_out, 0);
    int rc = dmtcp_checkpoint();
    if (rc == DMTCP_AFTER_CHECKPOINT) {
        dmtcp_hold_checkpoints(); /* a checkpoint asked for in the window runs after unblock */
        atomic_store(&dr.holding, 1);
        atomic_store(&dr.state, DR_OPEN);
        if (dmtcp_set_status_flags)
            dmtcp_set_status_flags(DMTCP_STATUS_RESUME_DELAYED);
        return rc;
    }
    /* restarted (everyone runs) or failed (release whoever parked) */
    dr_close();
    if (rc != DMTCP_AFTER_RESTART)
        dr_warn("delayresume: the checkpoint failed; no window was opened");
    return rc == DMTCP_AFTER_RESTART ? rc : DMTCP_ERROR;
}

__attribute__((visibility("default"))) int dmtcp_checkpoint_unblock_resume(void)
{
    if (!dmtcp_is_enabled())
        return DMTCP_NOT_PRESENT;
    if (atomic_load(&dr.state) != DR_OPEN) {
        dr_warn("delayresume: dmtcp_checkpoint_unblock_resume() with no window open; nothing to do");
        return DMTCP_RESUME_ENOWINDOW;
    }
    if (dr_tid() != dr.initiator) {
        dr_warn("delayresume: dmtcp_checkpoint_unblock_resume() from thread %d, but thread %d opened the "
                "window; only it may unblock",
                dr_tid(), dr.initiator);
        return DMTCP_RESUME_EPERM;
    }
    int timed_out = atomic_load(&dr.timed_out);
    dr_close();
    dr_release_hold();
    if (timed_out) {
        dr_warn("delayresume: the window had already been closed by DMTCP_DELAYRESUME_TIMEOUT");
        return DMTCP_RESUME_ETIMEDOUT;
    }
    return 0;
}
