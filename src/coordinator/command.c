/*
 * command.c — requests from dmtcp_command (ROLE_COMMAND clients): status,
 * list, checkpoint (plain, blocking, then-kill), kill, quit and interval.
 * Every request gets exactly one MSG_COMMAND_REPLY; blocking checkpoints get
 * theirs from ckpt.c when the checkpoint's result is known.
 */
#include "coordinator/coord.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int command_is_running(const struct coord *c, int npeers)
{
    return npeers > 0 && !c->ckpt.active && !restart_in_progress(c);
}

static void command_fill(const struct coord *c, struct msg_command_reply *r)
{
    int n = conn_count_workers(c);
    r->num_peers = (uint32_t)n;
    r->running = (uint32_t)command_is_running(c, n);
    r->interval = (uint32_t)c->opt.interval;
    r->generation = c->generation;
    r->comp_id = c->comp_id;
    r->ckpt_bytes = c->last_bytes;
    r->ckpt_usec = c->last_usec;
}

static void command_peer(const struct coord_conn *k, struct proto_peer *p)
{
    memset(p, 0, sizeof(*p));
    p->worker_id = k->id;
    p->vpid = k->hello.vpid;
    p->real_pid = k->hello.real_pid;
    p->state = k->participant ? WSTATE_CHECKPOINTING : k->state;
    p->flags = k->flags;
    memcpy(p->name, k->hello.name, sizeof(p->name));
    memcpy(p->host, k->hello.host, sizeof(p->host));
}

void command_reply(struct coord *c, struct coord_conn *k, int status, const char *fmt, ...)
{
    struct msg_command_reply r;
    memset(&r, 0, sizeof(r));
    command_fill(c, &r);
    r.status = status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r.message, sizeof(r.message), fmt, ap);
    va_end(ap);
    conn_send(c, k, MSG_COMMAND_REPLY, &r, sizeof(r));
}

/* CMD_LIST: the status reply followed by as many peer records as fit. */
static void command_list(struct coord *c, struct coord_conn *k)
{
    size_t maxp = (PROTO_MAX_PAYLOAD - sizeof(struct msg_command_reply)) /
                  sizeof(struct proto_peer);
    size_t n = (size_t)conn_count_workers(c);
    if (n > maxp)
        n = maxp;
    size_t len = sizeof(struct msg_command_reply) + n * sizeof(struct proto_peer);
    unsigned char *buf = calloc(1, len);
    if (!buf) {
        command_reply(c, k, ENOMEM, "coordinator out of memory for the process list");
        return;
    }
    struct msg_command_reply *r = (struct msg_command_reply *)buf;
    command_fill(c, r);
    size_t j = 0;
    for (int i = 0; i < c->nconns && j < n; i++) {
        struct coord_conn *w = c->conns[i];
        if (w->dead || w->role != ROLE_WORKER)
            continue;
        struct proto_peer p;
        command_peer(w, &p);
        memcpy(buf + sizeof(*r) + j * sizeof(p), &p, sizeof(p));
        j++;
    }
    r->npeers = (uint32_t)j;
    snprintf(r->message, sizeof(r->message), "%zu processes", j);
    conn_send(c, k, MSG_COMMAND_REPLY, buf, (uint32_t)len);
    free(buf);
}

/* -c: start a checkpoint and answer at once. */
static void command_ckpt(struct coord *c, struct coord_conn *k)
{
    char why[256];
    if (c->ckpt.active) {
        command_reply(c, k, EBUSY, "checkpoint already in progress (checkpoint %llu); use -bc "
                      "to wait for it", (unsigned long long)c->ckpt.generation);
        return;
    }
    int e = ckpt_start(c, c->opt.kill_after_ckpt, why, sizeof(why));
    if (e) {
        command_reply(c, k, e, "%s", why);
        return;
    }
    command_reply(c, k, 0, "checkpoint %llu started (%d processes)",
                  (unsigned long long)c->ckpt.generation, c->ckpt.nprocs);
}

/* -bc/-kc: start (or join) a checkpoint; ckpt.c replies at its end. */
static void command_bckpt(struct coord *c, struct coord_conn *k, int kill_after)
{
    char why[256];
    int e;
    if (c->ckpt.active && c->ckpt.result_final) {
        command_reply(c, k, EBUSY, "checkpoint %llu is resuming; retry in a moment",
                      (unsigned long long)c->ckpt.generation);
        return;
    }
    if (c->ckpt.active) {
        coord_info("blocking checkpoint request joins running checkpoint %llu",
                   (unsigned long long)c->ckpt.generation);
        c->ckpt.kill_after |= kill_after;
    } else if ((e = ckpt_start(c, kill_after || c->opt.kill_after_ckpt, why, sizeof(why)))) {
        command_reply(c, k, e, "%s", why);
        return;
    }
    k->waiting_ckpt = 1;
}

static void command_quit(struct coord *c, struct coord_conn *k)
{
    restart_fail_all(c, "the coordinator was told to quit (dmtcp_command -q)");
    worker_kill_all(c);
    command_reply(c, k, 0, "coordinator exiting");
    coord_info("quit requested by %s", k->peer_addr);
    c->quitting = 1; /* once every worker has left or been killed (kill.c) */
    c->quit_deadline_ms = coord_now_ms() + 2000 + (int64_t)c->opt.kill_timeout * 1000;
}

static void command_interval(struct coord *c, struct coord_conn *k, uint32_t secs)
{
    c->opt.interval = (int)secs;
    ckpt_reset_timer(c);
    coord_info("checkpoint interval set to %u s%s", secs, secs ? "" : " (manual only)");
    command_reply(c, k, 0, "checkpoint interval set to %u", secs);
}

void command_handle(struct coord *c, struct coord_conn *k, const struct msg_command *m)
{
    switch (m->code) {
    case CMD_STATUS:
        command_reply(c, k, 0, "ok");
        break;
    case CMD_LIST:
        command_list(c, k);
        break;
    case CMD_CKPT:
        command_ckpt(c, k);
        break;
    case CMD_BCKPT:
        command_bckpt(c, k, 0);
        break;
    case CMD_KCKPT:
        command_bckpt(c, k, 1);
        break;
    case CMD_KILL: {
        int n = conn_count_workers(c);
        restart_fail_all(c, "the computation was killed (dmtcp_command -k)");
        worker_kill_all(c);
        command_reply(c, k, 0, "kill sent to %d processes", n);
        break;
    }
    case CMD_QUIT:
        command_quit(c, k);
        break;
    case CMD_INTERVAL:
        if (m->arg > 100000000u)
            command_reply(c, k, EINVAL, "interval %u s is out of range", m->arg);
        else
            command_interval(c, k, m->arg);
        break;
    default:
        command_reply(c, k, EINVAL, "unknown command code %u", m->code);
        break;
    }
}
