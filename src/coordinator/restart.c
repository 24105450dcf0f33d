/*
 * restart.c — restarts: groups of restarting processes, their barriers, and
 * the end of a restart that cannot complete.
 *
 * A group is the processes one dmtcp_restart brings back, known from the
 * images it registered (restart_image.c) before any was restored; or, for
 * a client that only says HELLO with state RESTARTING, the processes of one
 * computation id, as many as its restart_peers says.  BARRIER_RESTARTED and
 * then BARRIER_REFILLED are released once every process of the group has
 * reached them; after REFILLED they are ordinary RUNNING workers.
 *
 * A restart that cannot complete fails as a whole, at once: an image that
 * cannot be restored, a restart helper or a restored process that goes away
 * before REFILLED, or the group's time limit passing.  Every process of the
 * group is sent MSG_RESTART_FAILED with the reason and its connection is
 * closed; each exits without running the program (the engine and the
 * helper do so when told, and restart_image.c kills what is still there a
 * few seconds later).  The group is gone at once, so the coordinator is
 * free for the next checkpoint or restart.
 */
#include "coordinator/coord.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct coord_restart_group *restart_group_by_comp(struct coord *c, uint64_t comp_id)
{
    for (int i = 0; i < c->ngroups; i++)
        if (c->groups[i].token == 0 && c->groups[i].comp_id == comp_id)
            return &c->groups[i];
    return NULL;
}

struct coord_restart_group *restart_group_by_token(struct coord *c, uint64_t token)
{
    for (int i = 0; i < c->ngroups; i++)
        if (token && c->groups[i].token == token)
            return &c->groups[i];
    return NULL;
}

struct coord_restart_group *restart_group_of(struct coord *c, const struct coord_conn *k)
{
    if (k->restart_token)
        return restart_group_by_token(c, k->restart_token);
    return restart_group_by_comp(c, k->hello.comp_id);
}

static int restart_is_member(struct coord *c, const struct coord_conn *k,
                             const struct coord_restart_group *g)
{
    if (k->dead)
        return 0;
    if (g->token)
        return k->restart_image && k->restart_token == g->token;
    return k->role == ROLE_WORKER && k->state == WSTATE_RESTARTING && !k->restart_token &&
           k->hello.comp_id == g->comp_id && restart_group_of(c, k) == g;
}

struct coord_restart_group *restart_group_add(struct coord *c, uint64_t token, uint64_t comp_id,
                                              uint32_t expected, int timeout_s)
{
    struct coord_restart_image *images = NULL;
    if (token) {
        images = calloc(expected, sizeof(*images));
        if (!images)
            return NULL;
        for (uint32_t i = 0; i < expected; i++)
            images[i].pidfd = -1;
    }
    struct coord_restart_group *v = realloc(c->groups, sizeof(*v) * (size_t)(c->ngroups + 1));
    if (!v) {
        free(images);
        return NULL;
    }
    c->groups = v;
    struct coord_restart_group *g = &c->groups[c->ngroups++];
    memset(g, 0, sizeof(*g));
    g->token = token;
    g->comp_id = comp_id;
    g->expected = expected ? expected : 1;
    g->barrier = BARRIER_RESTARTED;
    g->timeout_s = timeout_s > 0 ? timeout_s : COORD_RESTART_TIMEOUT_S;
    g->deadline_ms = coord_now_ms() + (int64_t)g->timeout_s * 1000;
    g->images = images;
    kv_clear(c); /* ... or one restart */
    coord_info("restart: computation %016llx, expecting %u processes within %d s",
               (unsigned long long)comp_id, g->expected, g->timeout_s);
    return g;
}

static void restart_group_remove(struct coord *c, struct coord_restart_group *g)
{
    restart_image_release(g);
    free(g->images);
    int i = (int)(g - c->groups);
    c->groups[i] = c->groups[c->ngroups - 1];
    c->ngroups--;
}

int restart_in_progress(const struct coord *c)
{
    return c->ngroups > 0;
}

/* HELLO with state RESTARTING from a process dmtcp_restart did not register. */
void restart_join(struct coord *c, struct coord_conn *k)
{
    const struct msg_hello *h = &k->hello;
    struct coord_restart_group *g = restart_group_by_comp(c, h->comp_id);
    if (!g)
        g = restart_group_add(c, 0, h->comp_id, h->restart_peers, 0);
    if (!g) {
        conn_drop(c, k, "coordinator out of memory for the restart");
        return;
    }
    g->joined++;
    k->barrier = 0;
    coord_info("restart: process %d (%s@%s, pid %d) is back (%u of %u)", h->vpid, h->name,
               h->host, h->real_pid, g->joined, g->expected);
}

static const char *restart_barrier_name(uint32_t b)
{
    return b == BARRIER_RESTARTED ? "RESTARTED" : "REFILLED";
}

static void restart_released(struct coord *c, struct coord_restart_group *g)
{
    if (g->barrier == BARRIER_RESTARTED) {
        g->barrier = BARRIER_REFILLED;
        return;
    }
    int n = 0;
    for (int i = 0; i < c->nconns; i++) {
        struct coord_conn *k = c->conns[i];
        if (restart_is_member(c, k, g)) {
            k->state = WSTATE_RUNNING;
            k->barrier = 0;
            k->restart_image = 0;
            k->restart_token = 0;
            n++;
        }
    }
    coord_info("restart: computation %016llx complete, %d processes running",
               (unsigned long long)g->comp_id, n);
    restart_group_remove(c, g);
}

/* Release the barrier being collected once every process of the group is
 * back and has reached it. */
void restart_try_release(struct coord *c, struct coord_restart_group *g)
{
    uint32_t live = 0, reached = 0;
    for (int i = 0; i < c->nconns; i++) {
        struct coord_conn *k = c->conns[i];
        if (!restart_is_member(c, k, g) || k->role != ROLE_WORKER)
            continue;
        live++;
        if (k->barrier == g->barrier)
            reached++;
    }
    if (reached < live || live < g->expected)
        return;
    struct msg_barrier rel = { .barrier = g->barrier, .generation = c->generation };
    for (int i = 0; i < c->nconns; i++) {
        struct coord_conn *k = c->conns[i];
        if (restart_is_member(c, k, g))
            conn_send(c, k, MSG_BARRIER_RELEASE, &rel, sizeof(rel));
    }
    restart_released(c, g);
}

void restart_barrier(struct coord *c, struct coord_conn *k, const struct msg_barrier *b)
{
    struct coord_restart_group *g = restart_group_of(c, k);
    if (k->state != WSTATE_RESTARTING || !g) {
        coord_log("ignoring restart barrier %s from process %d: it is not restarting",
                  restart_barrier_name(b->barrier), k->hello.vpid);
        return;
    }
    if (b->barrier != g->barrier) {
        char why[160];
        snprintf(why, sizeof(why), "protocol error: restart barrier %s reached while %s was "
                 "expected", restart_barrier_name(b->barrier), restart_barrier_name(g->barrier));
        conn_drop(c, k, why);
        return;
    }
    k->barrier = b->barrier;
    restart_try_release(c, g);
}

/* After a failed restart with no process left, the computation is over:
 * the next process to join starts a new one. */
static void restart_forget_computation(struct coord *c, uint64_t comp_id)
{
    for (int i = 0; i < c->nconns; i++) {
        const struct coord_conn *k = c->conns[i];
        if (!k->dead && k->role == ROLE_WORKER)
            return;
    }
    for (int i = 0; i < c->ngroups; i++)
        if (c->groups[i].comp_id == comp_id)
            return;
    if (c->comp_id == comp_id)
        c->comp_id = 0;
}

/* End the restart: every process of it is told why and let go. */
void restart_fail(struct coord *c, struct coord_restart_group *g, const char *fmt, ...)
{
    struct msg_restart_failed f;
    memset(&f, 0, sizeof(f));
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f.reason, sizeof(f.reason), fmt, ap);
    va_end(ap);
    coord_log("restart of computation %016llx failed: %s", (unsigned long long)g->comp_id,
              f.reason);
    int told = 0;
    for (int i = 0; i < c->nconns; i++) {
        struct coord_conn *k = c->conns[i];
        if (!restart_is_member(c, k, g))
            continue;
        conn_send(c, k, MSG_RESTART_FAILED, &f, sizeof(f));
        k->restart_image = 0; /* no longer part of a restart: leaving fails nothing */
        k->restart_token = 0;
        k->close_after_flush = 1;
        told++;
    }
    coord_info("restart: told %d processes to exit", told);
    restart_image_doom(c, g);
    uint64_t comp_id = g->comp_id;
    restart_group_remove(c, g);
    for (int i = 0; i < c->nconns; i++) /* closes those whose message is already out */
        if (!c->conns[i]->dead && c->conns[i]->close_after_flush &&
            c->conns[i]->out_len == c->conns[i]->out_off)
            conn_drop(c, c->conns[i], NULL);
    restart_forget_computation(c, comp_id);
    pbarrier_recheck(c);
}

/* Every restart in progress ends (dmtcp_command -k, -q). */
void restart_fail_all(struct coord *c, const char *why)
{
    while (c->ngroups > 0)
        restart_fail(c, &c->groups[0], "%s", why);
}

/* A restored process left before the restart completed. */
void restart_worker_gone(struct coord *c, struct coord_conn *k)
{
    if (k->close_after_flush) /* let go by restart_fail, or the coordinator quits */
        return;
    struct coord_restart_group *g = restart_group_of(c, k);
    if (!g || (g->token && !k->restart_image))
        return;
    if (g->token && k->restart_index < g->expected)
        restart_fail(c, g, "%s: process %d (%s, pid %d) exited during the restart",
                     g->images[k->restart_index].path, k->hello.vpid, k->hello.name,
                     k->hello.real_pid);
    else
        restart_fail(c, g, "process %d (%s, pid %d) exited during the restart", k->hello.vpid,
                     k->hello.name, k->hello.real_pid);
}

/* The first process the group still waits for, for the timeout message. */
static void restart_describe_missing(struct coord *c, struct coord_restart_group *g, char *out,
                                     size_t cap)
{
    if (g->token) {
        for (uint32_t i = 0; i < g->expected; i++) {
            if (g->images[i].state == RIMG_BACK)
                continue;
            snprintf(out, cap, "%s: %s", g->images[i].path,
                     g->images[i].state == RIMG_MISSING ? "never registered by dmtcp_restart"
                                                        : "its process was not back");
            return;
        }
    }
    for (int i = 0; i < c->nconns; i++) {
        struct coord_conn *k = c->conns[i];
        if (restart_is_member(c, k, g) && k->role == ROLE_WORKER && k->barrier != g->barrier) {
            snprintf(out, cap, "%s%sprocess %d (%s, pid %d) had not reached barrier %s",
                     g->token ? g->images[k->restart_index].path : "", g->token ? ": " : "",
                     k->hello.vpid, k->hello.name, k->hello.real_pid,
                     restart_barrier_name(g->barrier));
            return;
        }
    }
    snprintf(out, cap, "%u of %u processes of computation %016llx were back", g->joined,
             g->expected, (unsigned long long)g->comp_id);
}

/* The time limit of each restart; then those of its stragglers. */
void restart_timer(struct coord *c)
{
    int64_t now = coord_now_ms();
    for (int i = 0; i < c->ngroups; i++) {
        struct coord_restart_group *g = &c->groups[i];
        if (now < g->deadline_ms)
            continue;
        char what[1400];
        restart_describe_missing(c, g, what, sizeof(what));
        restart_fail(c, g, "%s after %d s (the restart's time limit: dmtcp_restart "
                     "--restart-timeout)", what, g->timeout_s);
        i = -1; /* the array changed */
    }
    restart_stragglers_timer(c);
}
