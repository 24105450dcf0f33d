/*
 * pbarrier.c — plugins' named barriers (dmtcp_global_barrier,
 * dmtcp_local_barrier).
 *
 * A worker waits at a barrier by name; once every peer it must wait for is
 * waiting at the same name and scope, all of them are released.  Its peers:
 * the participants of the running checkpoint; else the processes of its
 * computation being restarted (all `expected` of them must have joined);
 * else the running processes of its computation.  A local barrier counts
 * only peers on the same host.  A peer that leaves is not waited for.
 */
#include "coordinator/coord.h"

#include <string.h>

enum pbarrier_group { PB_CKPT, PB_RESTART, PB_RUNNING };

static enum pbarrier_group pbarrier_group_of(const struct coord_conn *k)
{
    if (k->participant)
        return PB_CKPT;
    return k->state == WSTATE_RESTARTING ? PB_RESTART : PB_RUNNING;
}

static int pbarrier_peer(const struct coord_conn *k, const struct coord_conn *o, uint32_t scope)
{
    if (o->dead || o->role != ROLE_WORKER || pbarrier_group_of(o) != pbarrier_group_of(k))
        return 0;
    if (pbarrier_group_of(o) == PB_CKPT && o->ckpt_done && o->barrier < BARRIER_CHECKPOINTED && o != k)
        return 0; /* it gave up on this checkpoint (abandoned): it reaches no plugin barrier */
    if (pbarrier_group_of(k) != PB_CKPT && o->hello.comp_id != k->hello.comp_id)
        return 0;
    return scope != PBARRIER_LOCAL || !strncmp(o->hello.host, k->hello.host, sizeof o->hello.host);
}

static void pbarrier_try(struct coord *c, struct coord_conn *k)
{
    const struct msg_plugin_barrier *b = &k->pbarrier;
    uint32_t peers = 0;
    for (int i = 0; i < c->nconns; i++) {
        struct coord_conn *o = c->conns[i];
        if (!pbarrier_peer(k, o, b->scope))
            continue;
        if (!o->pbarrier_waiting || o->pbarrier.scope != b->scope ||
            strncmp(o->pbarrier.name, b->name, sizeof b->name))
            return;
        peers++;
    }
    if (pbarrier_group_of(k) == PB_RESTART) { /* wait until the whole computation is back */
        for (int i = 0; i < c->ngroups; i++) {
            const struct coord_restart_group *g = &c->groups[i];
            if (g->comp_id == k->hello.comp_id && b->scope == PBARRIER_GLOBAL && peers < g->expected)
                return;
        }
    }
    struct msg_plugin_barrier rel = *b;
    for (int i = 0; i < c->nconns; i++) {
        struct coord_conn *o = c->conns[i];
        if (pbarrier_peer(k, o, rel.scope)) {
            o->pbarrier_waiting = 0;
            conn_send(c, o, MSG_PLUGIN_BARRIER_RELEASE, &rel, sizeof rel);
        }
    }
    coord_info("plugin barrier '%.64s' (%s) released for %u processes", rel.name,
               rel.scope == PBARRIER_LOCAL ? "local" : "global", peers);
}

void pbarrier_reached(struct coord *c, struct coord_conn *k, const struct msg_plugin_barrier *b)
{
    if (b->scope != PBARRIER_GLOBAL && b->scope != PBARRIER_LOCAL) {
        conn_drop(c, k, "protocol error: plugin barrier with an unknown scope");
        return;
    }
    k->pbarrier = *b;
    k->pbarrier.name[sizeof k->pbarrier.name - 1] = 0;
    k->pbarrier_waiting = 1;
    pbarrier_try(c, k);
}

void pbarrier_recheck(struct coord *c)
{
    for (int i = 0; i < c->nconns; i++) {
        struct coord_conn *k = c->conns[i];
        if (!k->dead && k->pbarrier_waiting)
            pbarrier_try(c, k);
    }
}
