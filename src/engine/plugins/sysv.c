/*
 * sysv.c — System V semaphore sets and message queues of the computation.
 *
 * The program names such an object by the id semget()/msgget() gave it;
 * the wrappers here remember those ids (a child inherits them, a new
 * program after exec gets them through carry.c).  An id learned another
 * way (read from a file or a pipe) is not known here.
 *
 * Checkpoint (PRECHECKPOINT): an object removed meanwhile is forgotten;
 * for the others, the smallest pid holding each id owns it (name service,
 * then a barrier): it saves a semaphore set's key, mode and values
 * (GETALL), and drains a message queue's messages into memory the image
 * saves (at RESUME it sends them back, in order).
 *
 * Restart: the owner finds the object it had where it was (SysV objects
 * outlive their processes: the same id, key, owner and size) and gives it
 * the saved values and messages, or creates it again — under its key when
 * nobody else holds that key, else private, with a warning — and
 * publishes the id now; after a barrier every holder maps the id it knows
 * to that one.  The wrappers translate in both directions.
 *
 * A semop/semtimedop (no timeout), msgsnd or msgrcv the checkpoint signal
 * interrupts (they are never restarted by the kernel: EINTR) is run again,
 * with the id of now.  Not restored: SEM_UNDO adjustments (a process that
 * exits after a restart does not undo what it did before), the pids and
 * times IPC_STAT reports.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <unistd.h>

#include "common/proto.h"
#include "engine/engine.h"
#include "engine/plugins/pid.h"

#define SYSV_MAX 256
enum { SYSV_SEM = 1, SYSV_MSG = 2 };

union sysv_semun {
    int val;
    struct semid_ds *buf;
    unsigned short *array;
};

struct sysv_rec {
    int kind;
    int vid;           /* the id the program knows */
    int rid;           /* the kernel's id now */
    /* checkpoint, the owner */
    int owner;
    key_t key;
    int mode;
    int nsems;
    unsigned long qbytes;
    char *saved;       /* values or messages (anonymous memory: in the image) */
    size_t saved_cap, saved_len;
};

static struct {
    struct sysv_rec recs[SYSV_MAX];
    int n;
    int full_warned;
} sysv;

/* The C library's calls (cancellation points among them), looked up as
 * the engine loads. */
static struct {
    int (*semget)(key_t, int, int);
    int (*semctl)(int, int, int, ...);
    int (*semop)(int, struct sembuf *, size_t);
    int (*semtimedop)(int, struct sembuf *, size_t, const struct timespec *);
    int (*msgget)(key_t, int);
    int (*msgctl)(int, int, struct msqid_ds *);
    int (*msgsnd)(int, const void *, size_t, int);
    ssize_t (*msgrcv)(int, void *, size_t, long, int);
} sysv_libc;

__attribute__((constructor(101))) static void sysv_resolve(void)
{
    sysv_libc.semget = (int (*)(key_t, int, int))dlsym(RTLD_NEXT, "semget");
    sysv_libc.semctl = (int (*)(int, int, int, ...))dlsym(RTLD_NEXT, "semctl");
    sysv_libc.semop = (int (*)(int, struct sembuf *, size_t))dlsym(RTLD_NEXT, "semop");
    sysv_libc.semtimedop =
        (int (*)(int, struct sembuf *, size_t, const struct timespec *))dlsym(RTLD_NEXT, "semtimedop");
    sysv_libc.msgget = (int (*)(key_t, int))dlsym(RTLD_NEXT, "msgget");
    sysv_libc.msgctl = (int (*)(int, int, struct msqid_ds *))dlsym(RTLD_NEXT, "msgctl");
    sysv_libc.msgsnd = (int (*)(int, const void *, size_t, int))dlsym(RTLD_NEXT, "msgsnd");
    sysv_libc.msgrcv = (ssize_t(*)(int, void *, size_t, long, int))dlsym(RTLD_NEXT, "msgrcv");
}

#define SYSV_NEED(fn)            \
    do {                         \
        if (!sysv_libc.fn)       \
            sysv_resolve();      \
        if (!sysv_libc.fn) {     \
            errno = ENOSYS;      \
            return -1;           \
        }                        \
    } while (0)

static struct sysv_rec *sysv_by_vid(int kind, int vid)
{
    for (int i = 0; i < sysv.n; i++)
        if (sysv.recs[i].kind == kind && sysv.recs[i].vid == vid)
            return &sysv.recs[i];
    return NULL;
}

static struct sysv_rec *sysv_by_rid(int kind, int rid)
{
    for (int i = 0; i < sysv.n; i++)
        if (sysv.recs[i].kind == kind && sysv.recs[i].rid == rid)
            return &sysv.recs[i];
    return NULL;
}

static int sysv_real(int kind, int vid)
{
    const struct sysv_rec *r = sysv_by_vid(kind, vid);
    return r ? r->rid : vid;
}

/* The id semget/msgget gave (the kernel's): remembered; the program's. */
static int sysv_note(int kind, int rid)
{
    if (rid < 0)
        return rid;
    struct sysv_rec *r = sysv_by_rid(kind, rid);
    if (r)
        return r->vid;
    if (sysv.n >= SYSV_MAX) {
        if (!sysv.full_warned++)
            engine_warn("more than %d System V semaphore sets and message queues: the others are not restored",
                        SYSV_MAX);
        return rid;
    }
    r = &sysv.recs[sysv.n++];
    memset(r, 0, sizeof *r);
    r->kind = kind;
    r->vid = r->rid = rid;
    return rid;
}

static void sysv_forget(int kind, int vid)
{
    struct sysv_rec *r = sysv_by_vid(kind, vid);
    if (r)
        *r = sysv.recs[--sysv.n];
}

/* ---- the program's calls ------------------------------------------------ */

ENGINE_API int semget(key_t key, int nsems, int flg)
{
    SYSV_NEED(semget);
    return sysv_note(SYSV_SEM, sysv_libc.semget(key, nsems, flg));
}

ENGINE_API int semctl(int semid, int semnum, int cmd, ...)
{
    SYSV_NEED(semctl);
    va_list ap;
    va_start(ap, cmd);
    union sysv_semun arg = va_arg(ap, union sysv_semun); /* (read whatever the command: as glibc does) */
    va_end(ap);
    int rc = sysv_libc.semctl(sysv_real(SYSV_SEM, semid), semnum, cmd, arg);
    if (rc == 0 && cmd == IPC_RMID)
        sysv_forget(SYSV_SEM, semid);
    return rc;
}

/* A call the checkpoint interrupted (EINTR, the generation moved on) runs
 * again, with the id of now (a restart may have changed it). */
#define SYSV_AGAIN(call)                                                          \
    for (;;) {                                                                    \
        uint64_t gen = manager_state.generation;                                 \
        long rc = (call);                                                         \
        if (rc < 0 && errno == EINTR && manager_state.generation != gen)         \
            continue;                                                             \
        return rc;                                                                \
    }

ENGINE_API int semop(int semid, struct sembuf *sops, size_t n)
{
    SYSV_NEED(semop);
    SYSV_AGAIN(sysv_libc.semop(sysv_real(SYSV_SEM, semid), sops, n))
}

ENGINE_API int semtimedop(int semid, struct sembuf *sops, size_t n, const struct timespec *t)
{
    SYSV_NEED(semtimedop);
    if (t) /* (what is left of a timeout is not known: the EINTR stays, as any signal gives it) */
        return sysv_libc.semtimedop(sysv_real(SYSV_SEM, semid), sops, n, t);
    SYSV_AGAIN(sysv_libc.semtimedop(sysv_real(SYSV_SEM, semid), sops, n, t))
}

ENGINE_API int msgget(key_t key, int flg)
{
    SYSV_NEED(msgget);
    return sysv_note(SYSV_MSG, sysv_libc.msgget(key, flg));
}

ENGINE_API int msgctl(int id, int cmd, struct msqid_ds *buf)
{
    SYSV_NEED(msgctl);
    int rc = sysv_libc.msgctl(sysv_real(SYSV_MSG, id), cmd, buf);
    if (rc == 0 && cmd == IPC_RMID)
        sysv_forget(SYSV_MSG, id);
    return rc;
}

ENGINE_API int msgsnd(int id, const void *msg, size_t n, int flg)
{
    SYSV_NEED(msgsnd);
    SYSV_AGAIN(sysv_libc.msgsnd(sysv_real(SYSV_MSG, id), msg, n, flg))
}

ENGINE_API ssize_t msgrcv(int id, void *msg, size_t n, long type, int flg)
{
    SYSV_NEED(msgrcv);
    SYSV_AGAIN(sysv_libc.msgrcv(sysv_real(SYSV_MSG, id), msg, n, type, flg))
}

/* ---- checkpoint --------------------------------------------------------- */

static void sysv_release(struct sysv_rec *r)
{
    if (r->saved)
        munmap(r->saved, r->saved_cap);
    r->saved = NULL;
    r->saved_cap = r->saved_len = 0;
    r->owner = 0;
}

static char *sysv_alloc(struct sysv_rec *r, size_t cap)
{
    r->saved = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (r->saved == MAP_FAILED) {
        r->saved = NULL;
        return NULL;
    }
    r->saved_cap = cap;
    return r->saved;
}

/* (message: type, length, bytes; an 8-byte-aligned record) */
struct sysv_msg_head {
    long type;
    size_t len;
};

static void sysv_save(struct sysv_rec *r)
{
    if (r->kind == SYSV_SEM) {
        struct semid_ds ds;
        if (sysv_libc.semctl(r->rid, 0, IPC_STAT, (union sysv_semun){.buf = &ds}) < 0)
            return;
        r->key = ds.sem_perm.__key;
        r->mode = ds.sem_perm.mode & 0777;
        r->nsems = (int)ds.sem_nsems;
        if (sysv_alloc(r, (size_t)r->nsems * sizeof(unsigned short) + 1) &&
            sysv_libc.semctl(r->rid, 0, GETALL, (union sysv_semun){.array = (unsigned short *)r->saved}) == 0)
            r->saved_len = (size_t)r->nsems * sizeof(unsigned short);
        return;
    }
    struct msqid_ds ds;
    if (sysv_libc.msgctl(r->rid, IPC_STAT, &ds) < 0)
        return;
    r->key = ds.msg_perm.__key;
    r->mode = ds.msg_perm.mode & 0777;
    r->qbytes = ds.msg_qbytes;
    size_t cap = (size_t)ds.msg_cbytes + (size_t)(ds.msg_qnum + 1) * (sizeof(struct sysv_msg_head) + 8) + 8192;
    if (!sysv_alloc(r, cap))
        return;
    for (;;) {
        size_t room = cap - r->saved_len;
        if (room < sizeof(struct sysv_msg_head) + sizeof(long) + 1)
            break;
        char *at = r->saved + r->saved_len;
        /* msgrcv's buffer is (long type, text): placed so that the text follows the head's type */
        struct sysv_msg_head *h = (struct sysv_msg_head *)at;
        long *buf = (long *)(at + sizeof(struct sysv_msg_head) - sizeof(long));
        ssize_t n = sysv_libc.msgrcv(r->rid, buf, room - sizeof(struct sysv_msg_head), 0, IPC_NOWAIT);
        if (n < 0)
            break;
        long type = *buf;
        h->type = type;
        h->len = (size_t)n;
        r->saved_len += (sizeof(struct sysv_msg_head) + (size_t)n + 7) & ~(size_t)7;
    }
}

/* Send the saved messages back into queue id (in their order). */
static void sysv_refill(const struct sysv_rec *r, int id)
{
    for (size_t at = 0; at + sizeof(struct sysv_msg_head) <= r->saved_len;) {
        struct sysv_msg_head *h = (struct sysv_msg_head *)(r->saved + at);
        long *buf = (long *)(r->saved + at + sizeof(struct sysv_msg_head) - sizeof(long));
        size_t len = h->len;
        long keep = *buf; /* (the head's length lives there) */
        *buf = h->type;
        int rc = sysv_libc.msgsnd(id, buf, len, IPC_NOWAIT);
        *buf = keep;
        if (rc < 0) {
            engine_warn("System V message queue %d: cannot put back a message saved from it: %s", r->vid,
                        strerror(errno));
            return;
        }
        at += (sizeof(struct sysv_msg_head) + len + 7) & ~(size_t)7;
    }
}

static const char *sysv_kind_name(const struct sysv_rec *r)
{
    return r->kind == SYSV_SEM ? "ys" : "yq";
}

static void sysv_checkpoint(void)
{
    for (int i = 0; i < sysv.n;) { /* removed meanwhile: forgotten */
        struct sysv_rec *r = &sysv.recs[i];
        sysv_release(r);
        struct semid_ds sd;
        struct msqid_ds md;
        int gone = r->kind == SYSV_SEM ? sysv_libc.semctl(r->rid, 0, IPC_STAT, (union sysv_semun){.buf = &sd}) < 0
                                       : sysv_libc.msgctl(r->rid, IPC_STAT, &md) < 0;
        if (gone)
            *r = sysv.recs[--sysv.n];
        else
            i++;
    }
    pid_t me = pid_virtual_pid();
    for (int i = 0; i < sysv.n; i++)
        manager_kv_min(sysv_kind_name(&sysv.recs[i]), (uint64_t)(unsigned)sysv.recs[i].vid, me);
    dmtcp_global_barrier("stasis:sysv-named"); /* every process calls it, with objects or not */
    for (int i = 0; i < sysv.n; i++) {
        struct sysv_rec *r = &sysv.recs[i];
        int64_t holder = manager_kv_get_int(sysv_kind_name(r), (uint64_t)(unsigned)r->vid);
        r->owner = holder == me || !manager_state.connected;
        if (r->owner)
            sysv_save(r);
    }
}

static void sysv_resume(void)
{
    for (int i = 0; i < sysv.n; i++) {
        struct sysv_rec *r = &sysv.recs[i];
        if (r->owner && r->kind == SYSV_MSG)
            sysv_refill(r, r->rid);
        sysv_release(r);
    }
}

/* ---- restart ------------------------------------------------------------ */

/* The object as it was, still there (same id, key, owner, size): its id. */
static int sysv_still_there(const struct sysv_rec *r)
{
    if (r->kind == SYSV_SEM) {
        struct semid_ds ds;
        if (sysv_libc.semctl(r->vid, 0, IPC_STAT, (union sysv_semun){.buf = &ds}) == 0 &&
            ds.sem_perm.__key == r->key && ds.sem_perm.uid == getuid() && (int)ds.sem_nsems == r->nsems)
            return r->vid;
        return -1;
    }
    struct msqid_ds ds;
    if (sysv_libc.msgctl(r->vid, IPC_STAT, &ds) == 0 && ds.msg_perm.__key == r->key && ds.msg_perm.uid == getuid())
        return r->vid;
    return -1;
}

static int sysv_create(const struct sysv_rec *r)
{
    int flags = IPC_CREAT | IPC_EXCL | r->mode;
    int id = r->kind == SYSV_SEM ? sysv_libc.semget(r->key, r->nsems, flags) : sysv_libc.msgget(r->key, flags);
    if (id < 0 && r->key != IPC_PRIVATE) {
        engine_warn("System V %s %d: its key %#x is taken by another object; it comes back private (a semget or "
                    "msgget of that key does not find it)",
                    r->kind == SYSV_SEM ? "semaphore set" : "message queue", r->vid, (unsigned)r->key);
        id = r->kind == SYSV_SEM ? sysv_libc.semget(IPC_PRIVATE, r->nsems, flags)
                                 : sysv_libc.msgget(IPC_PRIVATE, flags);
    }
    return id;
}

/* The owner: the object back with what it held; its id now, or -1. */
static int sysv_rebuild(struct sysv_rec *r)
{
    int id = sysv_still_there(r);
    if (id < 0)
        id = sysv_create(r);
    if (id < 0) {
        engine_warn("cannot recreate System V %s %d: %s", r->kind == SYSV_SEM ? "semaphore set" : "message queue",
                    r->vid, strerror(errno));
        return -1;
    }
    if (r->kind == SYSV_SEM) {
        if (r->saved_len && sysv_libc.semctl(id, 0, SETALL, (union sysv_semun){.array = (unsigned short *)r->saved}) < 0)
            engine_warn("System V semaphore set %d: cannot set its values back: %s", r->vid, strerror(errno));
        return id;
    }
    struct msqid_ds ds;
    if (sysv_libc.msgctl(id, IPC_STAT, &ds) == 0 && ds.msg_qbytes != r->qbytes) {
        ds.msg_qbytes = r->qbytes;
        sysv_libc.msgctl(id, IPC_SET, &ds);
    }
    char drop[8192 + sizeof(long)];
    while (sysv_libc.msgrcv(id, drop, sizeof drop - sizeof(long), 0, IPC_NOWAIT | MSG_NOERROR) >= 0)
        ; /* what was sent after the checkpoint */
    sysv_refill(r, id);
    return id;
}

static void sysv_restart(void)
{
    char k[KV_KEY_MAX];
    for (int i = 0; i < sysv.n; i++) {
        struct sysv_rec *r = &sysv.recs[i];
        if (!r->owner)
            continue;
        int64_t id = sysv_rebuild(r);
        r->rid = (int)id;
        manager_kv_name(k, r->kind == SYSV_SEM ? "ysf" : "yqf", (uint64_t)(unsigned)r->vid);
        manager_kv_put(k, &id, sizeof id, KV_SET);
    }
    dmtcp_global_barrier("stasis:sysv-made");
    for (int i = 0; i < sysv.n; i++) {
        struct sysv_rec *r = &sysv.recs[i];
        if (!r->owner) {
            int64_t id = -1;
            manager_kv_name(k, r->kind == SYSV_SEM ? "ysf" : "yqf", (uint64_t)(unsigned)r->vid);
            r->rid = manager_kv_get(k, &id, sizeof id) == (long)sizeof id ? (int)id : -1;
        }
        sysv_release(r);
    }
}

/* exec: the ids go on to the new program (carry.c) */
struct sysv_carried {
    int kind, vid, rid;
};

static void sysv_carry(void)
{
    struct sysv_carried c[SYSV_MAX];
    for (int i = 0; i < sysv.n; i++)
        c[i] = (struct sysv_carried){sysv.recs[i].kind, sysv.recs[i].vid, sysv.recs[i].rid};
    if (sysv.n)
        carry_put("sysv", c, (uint32_t)((size_t)sysv.n * sizeof c[0]));
}

static void sysv_carried(void)
{
    struct sysv_carried c[SYSV_MAX];
    long got = carry_get("sysv", c, (uint32_t)sizeof c);
    for (long i = 0; got > 0 && i < got / (long)sizeof c[0]; i++) {
        struct sysv_rec *r = &sysv.recs[sysv.n++];
        memset(r, 0, sizeof *r);
        r->kind = c[i].kind;
        r->vid = c[i].vid;
        r->rid = c[i].rid;
    }
}

static void sysv_hook(dmtcp_event_t ev, dmtcp_event_data_t *data)
{
    (void)data;
    if (ev == DMTCP_EVENT_INIT)
        sysv_carried();
    else if (ev == DMTCP_EVENT_PRECHECKPOINT)
        sysv_checkpoint();
    else if (ev == DMTCP_EVENT_RESUME)
        sysv_resume();
    else if (ev == DMTCP_EVENT_RESTART)
        sysv_restart();
    else if (ev == DMTCP_EVENT_PRE_EXEC)
        sysv_carry();
}

static const dmtcp_plugin_descriptor_t sysv_descriptor = {
    .api_version = DMTCP_NATIVE_PLUGIN_API_VERSION,
    .name = "sysv",
    .version = STASIS_VERSION,
    .description = "System V semaphore sets and message queues",
    .event_hook = sysv_hook,
};
PLUGIN_DECL_BUILTIN(sysv_descriptor, 65, NULL);
