/*
 * worker.c — the coordinator's side of the handshake (HELLO → CHALLENGE,
 * AUTH → WELCOME, auth.h), and the life of worker connections: join/leave
 * logging, worker status flags, routing of worker messages to the
 * checkpoint and restart protocols, and MSG_KILL.
 */
#include "coordinator/coord.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

static uint64_t worker_new_comp_id(void)
{
    uint64_t id = 0;
    while (id == 0)
        if (getrandom(&id, sizeof(id), 0) != sizeof(id))
            id = (uint64_t)coord_now_ms() ^ ((uint64_t)getpid() << 32);
    return id;
}

static void worker_sanitize(struct msg_hello *h)
{
    h->name[sizeof(h->name) - 1] = 0;
    h->host[sizeof(h->host) - 1] = 0;
    /* Names go into log lines and JSON: keep them printable. */
    for (char *p = h->name; *p; p++)
        if ((unsigned char)*p < 32 || *p == 127)
            *p = '?';
    for (char *p = h->host; *p; p++)
        if ((unsigned char)*p < 32 || *p == 127)
            *p = '?';
}

static void worker_welcome(struct coord *c, struct coord_conn *k)
{
    struct msg_welcome w = {
        .worker_id = k->id,
        .interval = (uint32_t)c->opt.interval,
        .comp_id = c->comp_id,
        .generation = c->generation,
    };
    conn_send(c, k, MSG_WELCOME, &w, sizeof(w));
}

static int worker_check_role(struct coord *c, struct coord_conn *k, const struct msg_hello *h)
{
    if (h->role == ROLE_WORKER || h->role == ROLE_COMMAND)
        return 0;
    char why[64];
    snprintf(why, sizeof(why), "unknown client role %u", h->role);
    conn_reject(c, k, REJECT_BAD_MESSAGE, why);
    return -1;
}

static void worker_join(struct coord *c, struct coord_conn *k)
{
    const struct msg_hello *h = &k->hello;
    if (h->generation > c->generation)
        c->generation = h->generation;
    if (c->comp_id == 0)
        c->comp_id = h->comp_id ? h->comp_id : worker_new_comp_id();
    k->state = h->state == WSTATE_RESTARTING ? WSTATE_RESTARTING : WSTATE_RUNNING;
    k->flags = h->flags;
    c->any_worker_joined = 1;
    kill_watch(c, k);
    if (k->state == WSTATE_RESTARTING) {
        restart_join(c, k);
    } else {
        coord_info("join: process %d (%s@%s, pid %d) from %s; %d processes", h->vpid, h->name,
                   h->host, h->real_pid, k->peer_addr, conn_count_workers(c));
    }
    worker_welcome(c, k);
    if (k->state == WSTATE_RUNNING && c->ckpt.active)
        ckpt_admit(c, k);
}

/* HELLO: answer with our nonce and our proof; the client checks it before
 * it proves itself in AUTH. */
void worker_hello(struct coord *c, struct coord_conn *k, const struct msg_hello *h)
{
    k->hello = *h;
    worker_sanitize(&k->hello);
    if (worker_check_role(c, k, &k->hello) < 0)
        return;
    struct msg_challenge ch;
    int r = auth_nonce(k->snonce);
    if (r < 0) {
        char why[128];
        snprintf(why, sizeof(why), "the coordinator cannot draw a random nonce: %s", strerror(-r));
        conn_reject(c, k, REJECT_BUSY, why);
        return;
    }
    memcpy(ch.nonce, k->snonce, sizeof(ch.nonce));
    auth_proof(c->key, AUTH_LABEL_COORD, c->port, k->hello.nonce, k->snonce, ch.proof);
    k->challenged = 1;
    conn_send(c, k, MSG_CHALLENGE, &ch, sizeof(ch));
}

/* AUTH: the client's proof, checked in constant time. */
void worker_auth(struct coord *c, struct coord_conn *k, const struct msg_auth *m)
{
    uint8_t want[PROTO_PROOF_LEN];
    auth_proof(c->key, AUTH_LABEL_CLIENT, c->port, k->hello.nonce, k->snonce, want);
    int ok = auth_proof_equal(want, m->proof);
    auth_wipe(want, sizeof(want));
    if (!ok) {
        char why[160];
        snprintf(why, sizeof(why), "wrong secret (the proof does not match this coordinator's "
                 "secret, for port %d)", c->port);
        conn_reject(c, k, REJECT_BAD_SECRET, why);
        return;
    }
    k->role = k->hello.role;
    if (k->role == ROLE_WORKER)
        worker_join(c, k);
    else
        worker_welcome(c, k);
}

/* Every process hears the computation's flags (their OR) when it changes,
 * and how many delayed-resume windows have closed: processes held by a
 * window another process opened wait for that count to grow. */
static void worker_broadcast_flags(struct coord *c, int force)
{
    uint32_t all = 0;
    for (int i = 0; i < c->nconns; i++)
        if (!c->conns[i]->dead && c->conns[i]->role == ROLE_WORKER)
            all |= c->conns[i]->flags;
    if (all == c->comp_flags && !force)
        return;
    c->comp_flags = all;
    struct msg_worker_status m = {.flags = all, .closed = c->windows_closed};
    for (int i = 0; i < c->nconns; i++)
        if (!c->conns[i]->dead && c->conns[i]->role == ROLE_WORKER)
            conn_send(c, c->conns[i], MSG_WORKER_STATUS, &m, sizeof(m));
}

static void worker_status(struct coord *c, struct coord_conn *k, const struct msg_worker_status *s)
{
    int closed = s->closed > k->closed; /* windows it closed, even if opened and closed since */
    if (closed) {
        c->windows_closed += s->closed - k->closed;
        k->closed = s->closed;
    }
    if (s->flags == k->flags && !closed)
        return;
    uint32_t changed = s->flags ^ k->flags;
    k->flags = s->flags;
    if (changed & PEER_RESUME_DELAYED)
        coord_info("process %d (%s): resume %s", k->hello.vpid, k->hello.name,
                   (s->flags & PEER_RESUME_DELAYED) ? "delayed" : "no longer delayed");
    worker_broadcast_flags(c, closed);
}

static void worker_ckpt_request(struct coord *c, struct coord_conn *k)
{
    char why[256];
    if (c->ckpt.active) {
        coord_info("process %d asked for a checkpoint; checkpoint %llu is already running",
                   k->hello.vpid, (unsigned long long)c->ckpt.generation);
        return;
    }
    coord_info("process %d (%s) asked for a checkpoint", k->hello.vpid, k->hello.name);
    if (ckpt_start(c, c->opt.kill_after_ckpt, why, sizeof(why)) != 0)
        coord_log("cannot start the requested checkpoint: %s", why);
}

/* The process exec'd: the new program's engine took over the connection,
 * or (EXEC_LEAVING) the new program cannot be followed and the connection
 * is about to close. */
static void worker_exec(struct coord *c, struct coord_conn *k, const struct msg_worker_exec *m)
{
    struct msg_hello h = k->hello;
    memcpy(h.name, m->name, sizeof(h.name));
    worker_sanitize(&h);
    char why[sizeof(m->why)];
    memcpy(why, m->why, sizeof(why));
    why[sizeof(why) - 1] = 0;
    for (char *p = why; *p; p++)
        if ((unsigned char)*p < 32 || *p == 127)
            *p = '?';
    if (m->flags & EXEC_LEAVING) {
        coord_info("process %d (%s) leaves checkpoint control: it execs %s, %s", k->hello.vpid,
                   k->hello.name, h.name, why);
        c->uncontrolled++;
        snprintf(c->uncontrolled_last, sizeof(c->uncontrolled_last), "process %d: %s (%s)",
                 k->hello.vpid, h.name, why);
        return;
    }
    coord_info("exec: process %d (%s) now runs %s", k->hello.vpid, k->hello.name, h.name);
    memcpy(k->hello.name, h.name, sizeof(h.name));
}

void worker_message(struct coord *c, struct coord_conn *k, uint16_t type, const void *p)
{
    switch (type) {
    case MSG_CKPT_REQUEST:
        worker_ckpt_request(c, k);
        break;
    case MSG_BARRIER: {
        const struct msg_barrier *b = p;
        if (b->barrier == BARRIER_RESTARTED || b->barrier == BARRIER_REFILLED)
            restart_barrier(c, k, b);
        else
            ckpt_barrier(c, k, b);
        break;
    }
    case MSG_CKPT_DONE:
        ckpt_done(c, k, p);
        break;
    case MSG_WORKER_STATUS:
        worker_status(c, k, p);
        break;
    case MSG_PLUGIN_BARRIER:
        pbarrier_reached(c, k, p);
        break;
    case MSG_WORKER_EXEC:
        worker_exec(c, k, p);
        break;
    case MSG_KV:
        kv_message(c, k, p);
        break;
    }
}

void worker_gone(struct coord *c, struct coord_conn *k)
{
    int left = 0;
    for (int i = 0; i < c->nconns; i++)
        if (c->conns[i]->role == ROLE_WORKER && !c->conns[i]->reaped)
            left++;
    coord_info("leave: process %d (%s@%s, pid %d); %d processes left", k->hello.vpid,
               k->hello.name, k->hello.host, k->hello.real_pid, left);
    if (k->participant)
        ckpt_participant_gone(c, k);
    if (k->state == WSTATE_RESTARTING)
        restart_worker_gone(c, k);
    pbarrier_recheck(c); /* the peers it left may all be waiting now */
    int held = (k->flags & PEER_RESUME_DELAYED) != 0;
    if (held)
        c->windows_closed++; /* a window it held is closed with it */
    k->flags = 0;
    worker_broadcast_flags(c, held);
}

void worker_kill_all(struct coord *c)
{
    int n = 0;
    for (int i = 0; i < c->nconns; i++) {
        struct coord_conn *k = c->conns[i];
        if (!k->dead && k->role == ROLE_WORKER) {
            kill_request(c, k);
            n++;
        }
    }
    coord_info("kill: sent to %d processes", n);
}
