/*
 * kv.c — the coordinator's name service (MSG_KV, proto.h).
 *
 * Processes of a computation store and look up small values by key while
 * a checkpoint or a restart runs: the engine's plugins elect the one
 * process that saves an object several processes share (KV_MIN over their
 * pids) and publish where a recreated object can be reached.  The table is
 * emptied whenever a checkpoint or a restart starts, so nothing of an
 * earlier one is ever read; it holds at most KV_MAX_ENTRIES keys.
 */
#include "coordinator/coord.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KV_MAX_ENTRIES 65536

struct coord_kv {
    char key[KV_KEY_MAX];
    uint32_t len;
    uint8_t value[KV_VALUE_MAX];
};

void kv_clear(struct coord *c)
{
    free(c->kv);
    c->kv = NULL;
    c->nkv = c->kv_cap = 0;
}

static struct coord_kv *kv_find(struct coord *c, const char *key)
{
    for (int i = 0; i < c->nkv; i++)
        if (!strncmp(c->kv[i].key, key, KV_KEY_MAX))
            return &c->kv[i];
    return NULL;
}

static struct coord_kv *kv_add(struct coord *c, const char *key)
{
    if (c->nkv == c->kv_cap) {
        if (c->kv_cap >= KV_MAX_ENTRIES)
            return NULL;
        int cap = c->kv_cap ? c->kv_cap * 2 : 64;
        struct coord_kv *v = realloc(c->kv, sizeof(*v) * (size_t)cap);
        if (!v)
            return NULL;
        c->kv = v;
        c->kv_cap = cap;
    }
    struct coord_kv *e = &c->kv[c->nkv++];
    memset(e, 0, sizeof(*e));
    memcpy(e->key, key, KV_KEY_MAX);
    return e;
}

static int64_t kv_int(const uint8_t *v)
{
    int64_t x;
    memcpy(&x, v, sizeof(x));
    return x;
}

/* The coordinator's own entries (ckpt.c: "gone:PID" for a participant that
 * ended before it was suspended). */
void kv_set(struct coord *c, const char *key, const void *val, uint32_t len)
{
    char k[KV_KEY_MAX] = "";
    snprintf(k, sizeof(k), "%s", key);
    struct coord_kv *e = kv_find(c, k);
    if (!e && !(e = kv_add(c, k)))
        return;
    e->len = len > KV_VALUE_MAX ? KV_VALUE_MAX : len;
    memcpy(e->value, val, e->len);
}

void kv_message(struct coord *c, struct coord_conn *k, const struct msg_kv *m)
{
    char key[KV_KEY_MAX];
    memcpy(key, m->key, sizeof(key));
    key[sizeof(key) - 1] = 0;
    uint32_t len = m->len > KV_VALUE_MAX ? KV_VALUE_MAX : m->len;
    struct coord_kv *e = kv_find(c, key);
    if (m->op == KV_GET) {
        struct msg_kv r;
        memset(&r, 0, sizeof(r));
        memcpy(r.key, key, sizeof(r.key));
        r.op = e ? KV_FOUND : KV_MISSING;
        if (e) {
            r.len = e->len;
            memcpy(r.value, e->value, e->len);
        }
        conn_send(c, k, MSG_KV, &r, sizeof(r));
        return;
    }
    if (m->op != KV_SET && m->op != KV_MIN) {
        conn_drop(c, k, "protocol error: name service request with an unknown operation");
        return;
    }
    if (m->op == KV_MIN && len < sizeof(int64_t)) {
        conn_drop(c, k, "protocol error: KV_MIN without a number");
        return;
    }
    if (e && m->op == KV_MIN && e->len >= sizeof(int64_t) && kv_int(e->value) <= kv_int(m->value))
        return;
    if (!e && !(e = kv_add(c, key))) {
        coord_log("name service full (%d keys): '%s' from process %d not stored", c->nkv, key, k->hello.vpid);
        return;
    }
    e->len = len;
    memcpy(e->value, m->value, len);
}
