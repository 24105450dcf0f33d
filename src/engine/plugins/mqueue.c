/*
 * mqueue.c — POSIX message queues (mq_open) of the computation, with the
 * messages waiting in them.
 *
 * A message queue descriptor (mqd_t is a descriptor on the mqueue file
 * system) looks like a regular file named "/NAME"; the fds plugin asks
 * here (mqueue_is) and leaves such descriptors to this plugin.
 *
 * Checkpoint (PRECHECKPOINT): each process names the queues it holds
 * ("mq:INODE" keeps the smallest pid); after a barrier the process named
 * owns the queue: it records its name, mode and limits (mq_getattr) and
 * receives every waiting message (non-blocking, highest priority first)
 * into memory the image saves; at RESUME it sends them back in that order
 * with their priorities, so the queue holds what it held.
 *
 * Restart (fds.c asks, around its reopening): the owner opens the queue by
 * its name — still there (queues outlive their processes) it is emptied
 * of what was sent after the checkpoint, else created with the saved mode
 * and limits — and puts the messages back; after a barrier every holder
 * opens it by name with its saved flags, at its number.  A queue that was
 * unlinked while open comes back under a temporary name, unlinked again
 * once every holder has it.  Not restored: a registration for
 * notification (mq_notify).
 */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "common/proto.h"
#include "engine/engine.h"
#include "engine/plugins/fds.h"
#include "engine/plugins/mqueue.h"
#include "engine/plugins/pid.h"
#include "engine/sys.h"

#define MQUEUE_MAGIC 0x19800202 /* the mqueue file system's f_type */
#define MQUEUE_MAX 64
#define MQUEUE_NAME_MAX 256

struct mqueue_rec {
    uint64_t ino;
    char name[MQUEUE_NAME_MAX]; /* "/NAME"; "" if unlinked */
    int fd;                     /* a descriptor of it this process holds */
    int owner;
    mode_t mode;
    long maxmsg, msgsize;
    char *saved;                /* messages: (prio, len, bytes), 8-aligned (anonymous: in the image) */
    size_t saved_cap, saved_len;
    /* restart */
    char open_name[MQUEUE_NAME_MAX]; /* the name to open it by now */
    int temp;                        /* open_name is a temporary: unlinked at the end */
};

struct mqueue_msg_head {
    unsigned prio;
    unsigned len;
};

static struct {
    struct mqueue_rec recs[MQUEUE_MAX];
    int n;
    int listing;
} mqueue;

int mqueue_is(int fd)
{
    struct statfs sf;
    return fstatfs(fd, &sf) == 0 && (unsigned long)sf.f_type == MQUEUE_MAGIC;
}

static struct mqueue_rec *mqueue_find(uint64_t ino)
{
    for (int i = 0; i < mqueue.n; i++)
        if (mqueue.recs[i].ino == ino)
            return &mqueue.recs[i];
    return NULL;
}

static void mqueue_note_fd(int fd, void *arg)
{
    (void)arg;
    struct stat st;
    if (fd == mqueue.listing || engine_fds_is_own(fd) || !mqueue_is(fd) || fstat(fd, &st) < 0)
        return;
    if (mqueue_find((uint64_t)st.st_ino))
        return;
    if (mqueue.n >= MQUEUE_MAX) {
        engine_warn("checkpoint: more than %d message queues are open; fd %d and the others are not restored",
                    MQUEUE_MAX, fd);
        return;
    }
    struct mqueue_rec *q = &mqueue.recs[mqueue.n++];
    memset(q, 0, sizeof *q);
    q->ino = (uint64_t)st.st_ino;
    q->fd = fd;
    q->mode = st.st_mode & 0777;
    int deleted = 0;
    if (procfs_fd_name(fd, q->name, sizeof q->name, &deleted) <= 0 || deleted)
        q->name[0] = 0; /* unlinked: it comes back under a temporary name */
}

static void mqueue_release(void)
{
    for (int i = 0; i < mqueue.n; i++)
        if (mqueue.recs[i].saved)
            munmap(mqueue.recs[i].saved, mqueue.recs[i].saved_cap);
    mqueue.n = 0;
}

/* The owner: limits, and every message, received without blocking through
 * a description of its own (the program's keeps its flags). */
static void mqueue_save(struct mqueue_rec *q)
{
    struct mq_attr a;
    if (mq_getattr(q->fd, &a) < 0)
        return;
    q->maxmsg = a.mq_maxmsg;
    q->msgsize = a.mq_msgsize;
    char self[64];
    snprintf(self, sizeof self, "/proc/self/fd/%d", q->fd);
    int rd = sys_open_real(self, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (rd < 0)
        rd = -1;
    size_t per = (sizeof(struct mqueue_msg_head) + (size_t)q->msgsize + 7) & ~(size_t)7;
    q->saved_cap = per * (size_t)(a.mq_curmsgs + 1);
    q->saved = mmap(NULL, q->saved_cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (q->saved == MAP_FAILED || rd < 0) {
        engine_warn("checkpoint: cannot keep the messages waiting in message queue %s (fd %d): %s; they are "
                    "missing after a restart",
                    q->name[0] ? q->name : "(unlinked)", q->fd, strerror(errno));
        if (q->saved == MAP_FAILED)
            q->saved = NULL;
        q->saved_cap = q->saved ? q->saved_cap : 0;
        if (rd >= 0)
            close(rd);
        return;
    }
    while (q->saved_len + per <= q->saved_cap) {
        struct mqueue_msg_head *h = (struct mqueue_msg_head *)(q->saved + q->saved_len);
        unsigned prio = 0;
        ssize_t n = mq_receive(rd, (char *)(h + 1), (size_t)q->msgsize, &prio);
        if (n < 0)
            break;
        h->prio = prio;
        h->len = (unsigned)n;
        q->saved_len += (sizeof *h + (size_t)n + 7) & ~(size_t)7;
    }
    close(rd);
}

/* Send the saved messages into the queue open (for writing) at fd. */
static void mqueue_refill(const struct mqueue_rec *q, int fd)
{
    for (size_t at = 0; at + sizeof(struct mqueue_msg_head) <= q->saved_len;) {
        const struct mqueue_msg_head *h = (const struct mqueue_msg_head *)(q->saved + at);
        if (mq_send(fd, (const char *)(h + 1), h->len, h->prio) < 0) {
            engine_warn("message queue %s: cannot put back a message saved from it: %s",
                        q->name[0] ? q->name : "(unlinked)", strerror(errno));
            return;
        }
        at += (sizeof *h + h->len + 7) & ~(size_t)7;
    }
}

static void mqueue_checkpoint(void)
{
    mqueue_release();
    mqueue.listing = -1;
    procfs_each_number("/proc/self/fd", mqueue_note_fd, NULL, &mqueue.listing);
    pid_t me = pid_virtual_pid();
    for (int i = 0; i < mqueue.n; i++)
        manager_kv_min("mq", mqueue.recs[i].ino, me);
    dmtcp_global_barrier("stasis:mqueues-named"); /* every process calls it, with queues or not */
    for (int i = 0; i < mqueue.n; i++) {
        struct mqueue_rec *q = &mqueue.recs[i];
        q->owner = manager_kv_get_int("mq", q->ino) == me || !manager_state.connected;
        if (q->owner)
            mqueue_save(q);
    }
}

static void mqueue_resume(void)
{
    for (int i = 0; i < mqueue.n; i++) {
        struct mqueue_rec *q = &mqueue.recs[i];
        if (!q->owner || !q->saved_len)
            continue;
        char self[64];
        snprintf(self, sizeof self, "/proc/self/fd/%d", q->fd);
        int wr = sys_open_real(self, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        if (wr < 0) {
            engine_warn("message queue %s: cannot put back the messages received for the checkpoint: %s",
                        q->name[0] ? q->name : "(unlinked)", strerror(errno));
            continue;
        }
        mqueue_refill(q, wr);
        close(wr);
    }
    mqueue_release();
}

/* ---- restart ------------------------------------------------------------ */

static void mqueue_rebuild(struct mqueue_rec *q)
{
    if (q->name[0]) {
        snprintf(q->open_name, sizeof q->open_name, "%s", q->name);
    } else {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        snprintf(q->open_name, sizeof q->open_name, "/stasis-mq-%d-%llu-%ld", (int)sys_getpid(),
                 (unsigned long long)q->ino, ts.tv_nsec);
        q->temp = 1;
    }
    /* (a temporary name is ours alone: O_EXCL; a queue found under the
     * program's name must be this user's, not one another user put there) */
    struct mq_attr a = {.mq_maxmsg = q->maxmsg, .mq_msgsize = q->msgsize};
    mqd_t m = mq_open(q->open_name, O_RDWR | O_NONBLOCK | O_CREAT | O_CLOEXEC | (q->temp ? O_EXCL : 0), q->mode,
                      q->maxmsg > 0 ? &a : NULL);
    struct stat st;
    if (m >= 0 && (fstat(m, &st) < 0 || st.st_uid != getuid())) {
        engine_warn("message queue %s belongs to another user now (uid %d); it is not reopened", q->open_name,
                    (int)st.st_uid);
        close(m);
        m = -1;
        errno = EPERM;
    }
    if (m < 0) {
        engine_warn("cannot recreate message queue %s: %s", q->open_name, strerror(errno));
        q->open_name[0] = 0;
        return;
    }
    char drop[65536];
    struct mq_attr now;
    if (mq_getattr(m, &now) == 0 && (size_t)now.mq_msgsize <= sizeof drop)
        while (mq_receive(m, drop, sizeof drop, NULL) >= 0)
            ; /* what was sent after the checkpoint */
    mqueue_refill(q, m);
    close(m);
}

void mqueue_restart_begin(void)
{
    char k[KV_KEY_MAX];
    for (int i = 0; i < mqueue.n; i++) {
        struct mqueue_rec *q = &mqueue.recs[i];
        if (!q->owner)
            continue;
        mqueue_rebuild(q);
        manager_kv_name(k, "mqf", q->ino);
        manager_kv_put(k, q->open_name, (uint32_t)strlen(q->open_name) + 1, KV_SET);
    }
    dmtcp_global_barrier("stasis:mqueues-made");
    for (int i = 0; i < mqueue.n; i++) {
        struct mqueue_rec *q = &mqueue.recs[i];
        if (q->owner)
            continue;
        manager_kv_name(k, "mqf", q->ino);
        if (manager_kv_get(k, q->open_name, sizeof q->open_name - 1) <= 0)
            q->open_name[0] = 0;
    }
}

int mqueue_reopen(int fd, uint64_t ino, int flags)
{
    struct mqueue_rec *q = mqueue_find(ino);
    if (!q || !q->open_name[0]) {
        engine_warn("fd %d: the message queue it was cannot be opened again; the program continues without it",
                    fd);
        return -1;
    }
    mqd_t m = mq_open(q->open_name, (flags & (O_ACCMODE | O_NONBLOCK)) | O_CLOEXEC);
    if (m < 0)
        engine_warn("cannot reopen fd %d (message queue %s): %s", fd, q->open_name, strerror(errno));
    return m;
}

void mqueue_restart_end(void)
{
    dmtcp_global_barrier("stasis:mqueues-opened");
    for (int i = 0; i < mqueue.n; i++)
        if (mqueue.recs[i].owner && mqueue.recs[i].temp && mqueue.recs[i].open_name[0])
            mq_unlink(mqueue.recs[i].open_name);
    mqueue_release();
}

static void mqueue_hook(dmtcp_event_t ev, dmtcp_event_data_t *data)
{
    (void)data;
    if (ev == DMTCP_EVENT_PRECHECKPOINT)
        mqueue_checkpoint();
    else if (ev == DMTCP_EVENT_RESUME)
        mqueue_resume();
}

static const dmtcp_plugin_descriptor_t mqueue_descriptor = {
    .api_version = DMTCP_NATIVE_PLUGIN_API_VERSION,
    .name = "mqueue",
    .version = STASIS_VERSION,
    .description = "POSIX message queues, with the messages waiting in them",
    .event_hook = mqueue_hook,
};
PLUGIN_DECL_BUILTIN(mqueue_descriptor, 36, NULL); /* after fds: it saves first, and fds asks it at RESTART */
