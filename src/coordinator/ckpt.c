/*
 * ckpt.c — the checkpoint protocol as the coordinator runs it.
 *
 *   trigger (-c/-bc/-kc, MSG_CKPT_REQUEST, interval timer)
 *   → MSG_DO_CKPT{generation, ckptdir} to every RUNNING worker (participants)
 *   → BARRIER_SUSPENDED → images written, MSG_CKPT_DONE → BARRIER_CHECKPOINTED
 *     (result logged, restart script written, blocking commands answered,
 *      MSG_KILL if -kc / --kill-after-ckpt) → BARRIER_RESUMED → idle.
 *
 * A barrier is released to every participant once each still-connected one
 * has reached it.  A participant that disconnects before the result is known
 * fails the checkpoint; the others still go through every barrier so they
 * resume.
 */
#include "coordinator/coord.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *ckpt_barrier_name(uint32_t b)
{
    switch (b) {
    case BARRIER_SUSPENDED: return "SUSPENDED";
    case BARRIER_CHECKPOINTED: return "CHECKPOINTED";
    case BARRIER_RESUMED: return "RESUMED";
    default: return "?";
    }
}

void ckpt_reset_timer(struct coord *c)
{
    c->next_ckpt_ms = c->opt.interval > 0 ? coord_now_ms() + (int64_t)c->opt.interval * 1000 : 0;
}

static void ckpt_clear(struct coord_ckpt *ck)
{
    for (int i = 0; i < ck->nimages; i++)
        free(ck->images[i]);
    free(ck->images);
    memset(ck, 0, sizeof(*ck));
}

static void ckpt_fail(struct coord *c, const char *fmt, const struct coord_conn *k)
{
    struct coord_ckpt *ck = &c->ckpt;
    if (ck->result_final)
        return;
    if (!ck->failed)
        snprintf(ck->error, sizeof(ck->error), fmt, k->hello.vpid, k->hello.name);
    ck->failed = 1;
}

static void ckpt_send_do(struct coord *c, struct coord_conn *k)
{
    struct msg_do_ckpt d;
    memset(&d, 0, sizeof(d));
    d.generation = c->ckpt.generation;
    /* options.c keeps ckptdir shorter than the field */
    memcpy(d.ckptdir, c->opt.ckptdir, sizeof(d.ckptdir) - 1);
    k->participant = 1;
    k->barrier = 0;
    k->ckpt_done = 0;
    conn_send(c, k, MSG_DO_CKPT, &d, sizeof(d));
}

/* A process that joins while a checkpoint has not yet suspended everyone
 * (a child forked or spawned by a participant, which holds its own
 * suspension back until the child has joined) is part of that checkpoint:
 * its parent's image records it.  Later it would miss the consistent cut,
 * and waits for the next checkpoint. */
void ckpt_admit(struct coord *c, struct coord_conn *k)
{
    if (c->ckpt.barrier == BARRIER_SUSPENDED) {
        c->ckpt.nprocs++;
        coord_info("checkpoint %llu: process %d (%s) joined before every process was suspended; "
                   "it is part of the checkpoint",
                   (unsigned long long)c->ckpt.generation, k->hello.vpid, k->hello.name);
        ckpt_send_do(c, k);
    } else {
        coord_info("process %d joined during checkpoint %llu and is not part of it", k->hello.vpid,
                   (unsigned long long)c->ckpt.generation);
    }
}

int ckpt_start(struct coord *c, int kill_after, char *why, size_t cap)
{
    if (c->ckpt.active) {
        snprintf(why, cap, "checkpoint already in progress (checkpoint %llu)",
                 (unsigned long long)c->ckpt.generation);
        return EBUSY;
    }
    if (restart_in_progress(c)) {
        snprintf(why, cap, "a restart is in progress; retry when it completes");
        return EBUSY;
    }
    int n = 0;
    for (int i = 0; i < c->nconns; i++)
        if (!c->conns[i]->dead && c->conns[i]->role == ROLE_WORKER &&
            c->conns[i]->state == WSTATE_RUNNING)
            n++;
    if (n == 0) {
        snprintf(why, cap, "no processes to checkpoint");
        return ENOENT;
    }
    ckpt_clear(&c->ckpt);
    c->ckpt.active = 1;
    kv_clear(c); /* the name service serves one checkpoint */
    c->ckpt.generation = ++c->generation;
    c->ckpt.kill_after = kill_after;
    c->ckpt.barrier = BARRIER_SUSPENDED;
    c->ckpt.start_ms = coord_now_ms();
    c->ckpt.nprocs = n;
    c->next_ckpt_ms = 0;
    coord_info("checkpoint %llu: starting (%d processes)", (unsigned long long)c->ckpt.generation,
               n);
    for (int i = 0; i < c->nconns; i++) {
        struct coord_conn *k = c->conns[i];
        if (!k->dead && k->role == ROLE_WORKER && k->state == WSTATE_RUNNING)
            ckpt_send_do(c, k);
    }
    return 0;
}

/* ---- result ------------------------------------------------------------- */

static void ckpt_answer_waiters(struct coord *c, int status, const char *msg)
{
    for (int i = 0; i < c->nconns; i++) {
        struct coord_conn *k = c->conns[i];
        if (!k->dead && k->waiting_ckpt) {
            k->waiting_ckpt = 0;
            command_reply(c, k, status, "%s", msg);
        }
    }
}

static void ckpt_report_success(struct coord *c, int64_t ms)
{
    struct coord_ckpt *ck = &c->ckpt;
    double secs = (double)ms / 1000.0;
    double mbs = ms > 0 ? (double)ck->bytes / 1e6 / secs : 0.0;
    c->last_bytes = ck->bytes;
    c->last_usec = (uint64_t)ms * 1000;
    c->checkpoints_done++;
    char msg[512], err[300] = "";
    snprintf(msg, sizeof(msg), "checkpoint %llu: %d processes, %llu bytes in %.3f s (%.1f MB/s)",
             (unsigned long long)ck->generation, ck->nimages, (unsigned long long)ck->bytes,
             secs, mbs);
    coord_info("%s", msg);
    if (script_write(c, err, sizeof(err)) < 0) {
        coord_log("checkpoint %llu: restart script not written: %s",
                  (unsigned long long)ck->generation, err);
        size_t len = strlen(msg);
        snprintf(msg + len, sizeof(msg) - len, "; restart script not written: %s", err);
    }
    ckpt_answer_waiters(c, 0, msg);
}

static void ckpt_report(struct coord *c)
{
    struct coord_ckpt *ck = &c->ckpt;
    ck->result_final = 1;
    if (!ck->failed) {
        ckpt_report_success(c, coord_now_ms() - ck->start_ms);
        return;
    }
    char msg[900];
    snprintf(msg, sizeof(msg), "checkpoint %llu failed: %s", (unsigned long long)ck->generation,
             ck->error);
    coord_log("%s", msg);
    ckpt_answer_waiters(c, EIO, msg);
}

static void ckpt_finish(struct coord *c)
{
    if (!c->ckpt.result_final)
        ckpt_report(c);
    for (int i = 0; i < c->nconns; i++)
        c->conns[i]->participant = 0;
    ckpt_clear(&c->ckpt);
    ckpt_reset_timer(c);
}

/* ---- barriers ----------------------------------------------------------- */

/* Every participant not yet CKPT_DONE at CHECKPOINTED fails the checkpoint. */
static void ckpt_check_images(struct coord *c)
{
    for (int i = 0; i < c->nconns; i++) {
        struct coord_conn *k = c->conns[i];
        if (!k->dead && k->participant && !k->ckpt_done)
            ckpt_fail(c, "process %d (%s) reached CHECKPOINTED without reporting its image", k);
    }
}

static void ckpt_released(struct coord *c, uint32_t barrier)
{
    struct coord_ckpt *ck = &c->ckpt;
    if (barrier == BARRIER_SUSPENDED) {
        ck->barrier = BARRIER_CHECKPOINTED;
    } else if (barrier == BARRIER_CHECKPOINTED) {
        ck->barrier = BARRIER_RESUMED;
        ckpt_report(c);
        if (ck->kill_after)
            worker_kill_all(c);
    } else {
        ckpt_finish(c);
    }
}

static void ckpt_try_release(struct coord *c)
{
    struct coord_ckpt *ck = &c->ckpt;
    if (!ck->active)
        return;
    int live = 0;
    for (int i = 0; i < c->nconns; i++) {
        struct coord_conn *k = c->conns[i];
        if (k->dead || !k->participant)
            continue;
        live++;
        if (k->barrier != ck->barrier)
            return;
    }
    if (live == 0) {
        ckpt_finish(c);
        return;
    }
    struct msg_barrier rel = { .barrier = ck->barrier, .generation = ck->generation };
    if (ck->barrier == BARRIER_SUSPENDED)
        rel.nprocs = (uint32_t)live;
    /* -kc: once the images are durable the processes are killed where
     * they wait (ckpt_released), never released to run past the
     * checkpoint: output they printed then would be printed again by the
     * restart */
    int kill_here = ck->barrier == BARRIER_CHECKPOINTED && ck->kill_after;
    for (int i = 0; i < c->nconns && !kill_here; i++) {
        struct coord_conn *k = c->conns[i];
        if (!k->dead && k->participant)
            conn_send(c, k, MSG_BARRIER_RELEASE, &rel, sizeof(rel));
    }
    if (ck->barrier == BARRIER_CHECKPOINTED)
        ckpt_check_images(c);
    ckpt_released(c, rel.barrier);
}

void ckpt_barrier(struct coord *c, struct coord_conn *k, const struct msg_barrier *b)
{
    struct coord_ckpt *ck = &c->ckpt;
    if (!ck->active || !k->participant || b->generation != ck->generation) {
        coord_log("ignoring barrier %u (generation %llu) from process %d: not part of a running "
                  "checkpoint", b->barrier, (unsigned long long)b->generation, k->hello.vpid);
        return;
    }
    if (b->barrier != ck->barrier) {
        char why[160];
        snprintf(why, sizeof(why), "protocol error: barrier %s reached while %s was expected",
                 ckpt_barrier_name(b->barrier), ckpt_barrier_name(ck->barrier));
        conn_drop(c, k, why);
        return;
    }
    k->barrier = b->barrier;
    ckpt_try_release(c);
}

static void ckpt_add_image(struct coord *c, struct coord_conn *k, const char *path)
{
    struct coord_ckpt *ck = &c->ckpt;
    if (path[0] != '/') {
        ckpt_fail(c, "process %d (%s) reported an image path that is not absolute", k);
        return;
    }
    if (ck->nimages == ck->images_cap) {
        int cap = ck->images_cap ? ck->images_cap * 2 : 16;
        char **v = realloc(ck->images, sizeof(*v) * (size_t)cap);
        if (!v) {
            ckpt_fail(c, "coordinator out of memory recording the image of process %d (%s)", k);
            return;
        }
        ck->images = v;
        ck->images_cap = cap;
    }
    char *dup = strdup(path);
    if (!dup) {
        ckpt_fail(c, "coordinator out of memory recording the image of process %d (%s)", k);
        return;
    }
    ck->images[ck->nimages++] = dup;
}

void ckpt_done(struct coord *c, struct coord_conn *k, const struct msg_ckpt_done *d)
{
    struct coord_ckpt *ck = &c->ckpt;
    if (!ck->active || !k->participant || d->generation != ck->generation || k->ckpt_done) {
        coord_log("ignoring CKPT_DONE (generation %llu) from process %d",
                  (unsigned long long)d->generation, k->hello.vpid);
        return;
    }
    k->ckpt_done = 1;
    pbarrier_recheck(c); /* one that gave up is no longer waited for at plugin barriers */
    char path[sizeof(d->path)], error[sizeof(d->error)];
    memcpy(path, d->path, sizeof(path));
    path[sizeof(path) - 1] = 0;
    memcpy(error, d->error, sizeof(error));
    error[sizeof(error) - 1] = 0;
    if (d->status != 0) {
        if (!ck->failed && !ck->result_final) {
            snprintf(ck->error, sizeof(ck->error), "process %d (%s): %s", k->hello.vpid,
                     k->hello.name, error[0] ? error : strerror(d->status));
            ck->failed = 1;
        }
        return;
    }
    ck->bytes += d->bytes;
    ckpt_add_image(c, k, path);
}

/* A participant that ends before it was suspended ended before the cut:
 * the others' images show it gone (its parent may still reap it), and the
 * checkpoint goes on without it.  Once suspended, it was part of the cut:
 * ended after it reported its image, it counts; before, its image is
 * missing. */
void ckpt_participant_gone(struct coord *c, struct coord_conn *k)
{
    k->participant = 0;
    if (!c->ckpt.active)
        return;
    int others = 0;
    for (int i = 0; i < c->nconns; i++)
        others += !c->conns[i]->dead && c->conns[i]->participant;
    if (k->barrier == 0 && c->ckpt.barrier == BARRIER_SUSPENDED && others > 0) {
        c->ckpt.nprocs--;
        coord_info("checkpoint %llu: process %d (%s) ended before it was suspended; the checkpoint "
                   "goes on without it", (unsigned long long)c->ckpt.generation, k->hello.vpid,
                   k->hello.name);
        /* its parent may still see it alive for a moment (the connection
         * closes before the process becomes a zombie): tell it to wait */
        char key[32];
        int64_t one = 1;
        snprintf(key, sizeof(key), "gone:%d", k->hello.real_pid);
        kv_set(c, key, &one, sizeof(one));
    } else if (k->ckpt_done) {
        /* its image is reported: it ended after the cut (a forked
         * checkpoint lets the program run on while its image is written,
         * and a process may end before the last barrier) */
        coord_log("checkpoint %llu: process %d (%s) ended after its image was written",
                  (unsigned long long)c->ckpt.generation, k->hello.vpid, k->hello.name);
    } else {
        ckpt_fail(c, "process %d (%s) exited during checkpoint", k);
    }
    ckpt_try_release(c);
}

void ckpt_timer(struct coord *c)
{
    if (!c->next_ckpt_ms || coord_now_ms() < c->next_ckpt_ms)
        return;
    char why[256];
    if (c->ckpt.active)
        return; /* the timer restarts when it ends */
    int e = ckpt_start(c, c->opt.kill_after_ckpt, why, sizeof(why));
    if (e) {
        if (e != ENOENT)
            coord_info("no interval checkpoint: %s", why);
        ckpt_reset_timer(c);
    }
}
