/*
 * restart.c — the restart barriers.  Processes brought back by dmtcp_restart
 * say HELLO with state RESTARTING, their computation id and how many
 * processes this restart brings back (restart_peers = N).  They are grouped
 * by computation id; BARRIER_RESTARTED and then BARRIER_REFILLED are released
 * to the group once all N have reached it (counting processes that died on
 * the way as arrived, so the survivors never wait for them).  After REFILLED
 * they are ordinary RUNNING workers.
 */
#include "coordinator/coord.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct coord_restart_group *restart_group(struct coord *c, uint64_t comp_id)
{
    for (int i = 0; i < c->ngroups; i++)
        if (c->groups[i].comp_id == comp_id)
            return &c->groups[i];
    return NULL;
}

static struct coord_restart_group *restart_group_new(struct coord *c, uint64_t comp_id,
                                                     uint32_t expected)
{
    struct coord_restart_group *v = realloc(c->groups, sizeof(*v) * (size_t)(c->ngroups + 1));
    if (!v)
        return NULL;
    c->groups = v;
    struct coord_restart_group *g = &c->groups[c->ngroups++];
    memset(g, 0, sizeof(*g));
    g->comp_id = comp_id;
    g->expected = expected ? expected : 1;
    g->barrier = BARRIER_RESTARTED;
    coord_info("restart: computation %016llx, expecting %u processes",
               (unsigned long long)comp_id, g->expected);
    return g;
}

static void restart_group_remove(struct coord *c, struct coord_restart_group *g)
{
    int i = (int)(g - c->groups);
    c->groups[i] = c->groups[c->ngroups - 1];
    c->ngroups--;
}

int restart_in_progress(const struct coord *c)
{
    return c->ngroups > 0;
}

void restart_join(struct coord *c, struct coord_conn *k)
{
    const struct msg_hello *h = &k->hello;
    struct coord_restart_group *g = restart_group(c, h->comp_id);
    if (!g)
        g = restart_group_new(c, h->comp_id, h->restart_peers);
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
        if (!k->dead && k->state == WSTATE_RESTARTING && k->hello.comp_id == g->comp_id) {
            k->state = WSTATE_RUNNING;
            k->barrier = 0;
            n++;
        }
    }
    coord_info("restart: computation %016llx complete, %d processes running%s",
               (unsigned long long)g->comp_id, n,
               g->lost ? " (some exited during the restart)" : "");
    restart_group_remove(c, g);
}

static void restart_try_release(struct coord *c, struct coord_restart_group *g)
{
    uint32_t live = 0, reached = 0;
    for (int i = 0; i < c->nconns; i++) {
        struct coord_conn *k = c->conns[i];
        if (k->dead || k->state != WSTATE_RESTARTING || k->hello.comp_id != g->comp_id)
            continue;
        live++;
        if (k->barrier == g->barrier)
            reached++;
    }
    if (reached < live || reached + g->lost < g->expected)
        return;
    if (live == 0) {
        coord_log("restart: every process of computation %016llx exited during the restart",
                  (unsigned long long)g->comp_id);
        restart_group_remove(c, g);
        return;
    }
    struct msg_barrier rel = { .barrier = g->barrier, .generation = c->generation };
    for (int i = 0; i < c->nconns; i++) {
        struct coord_conn *k = c->conns[i];
        if (!k->dead && k->state == WSTATE_RESTARTING && k->hello.comp_id == g->comp_id)
            conn_send(c, k, MSG_BARRIER_RELEASE, &rel, sizeof(rel));
    }
    restart_released(c, g);
}

void restart_barrier(struct coord *c, struct coord_conn *k, const struct msg_barrier *b)
{
    struct coord_restart_group *g = restart_group(c, k->hello.comp_id);
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

void restart_worker_gone(struct coord *c, struct coord_conn *k)
{
    struct coord_restart_group *g = restart_group(c, k->hello.comp_id);
    if (!g)
        return;
    g->lost++;
    coord_log("restart: process %d (%s) exited during the restart", k->hello.vpid,
              k->hello.name);
    restart_try_release(c, g);
}
