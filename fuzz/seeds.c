/*
 * seeds.c — writes the seed corpus of the fuzz harnesses (make fuzz-seeds):
 * small, valid inputs that reach deep into the parsers, from which the
 * fuzzer mutates.  The output is kept in the tree (fuzz/corpus/), so this
 * only runs when the formats change.
 *
 *   seeds DIR    writes DIR/image/… and DIR/proto/…
 *
 * Images (fuzz_image.c's input): a few regions of each kind — the engine's
 * code holding the restore entry, anonymous memory stored as zstd and raw
 * blocks, a reserved range, shared mappings, a plugin section, the special
 * mappings — a few KiB each; and a chain of three (newest, parent, base,
 * separated by FUZZ_SEP, each parent_checksum 1: the harness links them),
 * and one image marked FUZZ_UNSEALED (checked as written: owned by uid 0).
 * Protocol scripts (fuzz_proto.c's input): chunks per connection that say
 * HELLO (and an AUTH that cannot match), ask for status, run a whole
 * checkpoint, a plugin barrier, a restart that completes and one that
 * fails, and a few malformed messages.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>
#include <zstd.h>

#include "common/image.h"
#include "common/proto.h"

#define FUZZ_SEP "\nSTASIS-FUZZ-PARENT\n"
#define FUZZ_UNSEALED "STASIS-FUZZ-UNSEALED"

/* ---- a growing buffer --------------------------------------------------- */

struct buf {
    unsigned char *p;
    size_t len, cap;
};

static void put_at(struct buf *b, size_t off, const void *src, size_t n)
{
    if (off + n > b->cap) {
        b->cap = (off + n) * 2;
        b->p = realloc(b->p, b->cap);
        if (!b->p)
            exit(1);
    }
    if (off > b->len)
        memset(b->p + b->len, 0, off - b->len);
    memcpy(b->p + off, src, n);
    if (off + n > b->len)
        b->len = off + n;
}

static void put(struct buf *b, const void *src, size_t n)
{
    put_at(b, b->len, src, n);
}

static void pad_page(struct buf *b)
{
    static const unsigned char zero[IMAGE_PAGE];
    if (b->len % IMAGE_PAGE)
        put(b, zero, IMAGE_PAGE - b->len % IMAGE_PAGE);
}

/* ---- images ------------------------------------------------------------- */

struct seed_region {
    uint64_t start, npages;
    uint32_t kind, prot, flags;
    const char *path;
    uint64_t ext[3][2];     /* stored {first_page, npages}; npages 0 ends */
    uint64_t inherit[2][2]; /* inherited */
    char codec;             /* 'z' zstd blocks, else raw */
};

struct seed_image {
    const struct seed_region *r;
    int n;
    const char *section;    /* a plugin section's bytes, or NULL */
    int incremental;        /* parent_checksum 1: linked by the harness */
    int specials;           /* [vdso] and [vvar] recorded */
};

static void fill_page(unsigned char *page, uint64_t addr)
{
    memset(page, (int)(addr >> 12) & 0xff, IMAGE_PAGE);
    snprintf((char *)page, 64, "page at %llx", (unsigned long long)addr);
}

/* Region r's payload, appended at a page boundary. */
static void put_payload(struct buf *b, struct image_region *t, const struct seed_region *r)
{
    uint64_t next = 0, ninh = 0, stored = 0;
    while (next < 3 && r->ext[next][1])
        stored += r->ext[next++][1];
    while (ninh < 2 && r->inherit[ninh][1])
        ninh++;
    if (!next && !ninh)
        return;
    struct image_payload_head ph = {next, (stored + IMAGE_BLOCK_PAGES - 1) / IMAGE_BLOCK_PAGES, ninh, 0};
    uint64_t hb = image_head_bytes(&ph);
    unsigned char *head = calloc(1, hb);
    memcpy(head, &ph, sizeof ph);
    struct image_extent *x = (struct image_extent *)(head + sizeof ph);
    for (uint64_t e = 0; e < next; e++)
        x[e] = (struct image_extent){r->ext[e][0], r->ext[e][1]};
    for (uint64_t e = 0; e < ninh; e++)
        x[next + e] = (struct image_extent){r->inherit[e][0], r->inherit[e][1]};
    struct image_block *blk = (struct image_block *)(x + next + ninh);

    pad_page(b);
    t->payload_offset = b->len;
    put(b, head, hb); /* rewritten once the blocks are placed */
    pad_page(b);
    size_t rawcap = (size_t)IMAGE_BLOCK_PAGES * IMAGE_PAGE, zcap = ZSTD_compressBound(rawcap);
    unsigned char *raw = malloc(rawcap), *z = malloc(zcap);
    uint64_t e = 0, ep = 0;
    for (uint64_t k = 0; k < ph.nblocks; k++) {
        uint64_t pages = stored - k * IMAGE_BLOCK_PAGES;
        if (pages > IMAGE_BLOCK_PAGES)
            pages = IMAGE_BLOCK_PAGES;
        for (uint64_t p = 0; p < pages; p++) {
            fill_page(raw + p * IMAGE_PAGE, r->start + (r->ext[e][0] + ep) * IMAGE_PAGE);
            if (++ep == r->ext[e][1])
                e++, ep = 0;
        }
        blk[k].raw_len = (uint32_t)(pages * IMAGE_PAGE);
        size_t c = r->codec == 'z' ? ZSTD_compress(z, zcap, raw, blk[k].raw_len, 19) : 0;
        if (r->codec == 'z' && !ZSTD_isError(c)) {
            blk[k].codec = CODEC_ZSTD;
            blk[k].stored_len = (uint32_t)c;
            blk[k].offset = b->len - t->payload_offset;
            blk[k].checksum = XXH3_64bits(z, c);
            put(b, z, c);
        } else {
            pad_page(b);
            blk[k].codec = CODEC_RAW;
            blk[k].stored_len = blk[k].raw_len;
            blk[k].offset = b->len - t->payload_offset;
            blk[k].checksum = XXH3_64bits(raw, blk[k].raw_len);
            put(b, raw, blk[k].raw_len);
        }
    }
    if (!ph.nblocks)
        pad_page(b); /* an empty head fills its page */
    put_at(b, t->payload_offset, head, hb);
    t->payload_size = b->len - t->payload_offset;
    t->stored_pages = stored;
    t->checksum = XXH64(head, hb, 0);
    free(raw);
    free(z);
    free(head);
}

static void build_image(struct buf *b, const struct seed_image *s)
{
    struct image_header h;
    memset(&h, 0, sizeof h);
    b->len = 0;
    put(b, &h, sizeof h);
    pad_page(b);
    struct image_region table[8];
    char strings[1024];
    size_t slen = 0;
    for (int i = 0; i < s->n; i++) {
        const struct seed_region *r = &s->r[i];
        struct image_region *t = &table[i];
        memset(t, 0, sizeof *t);
        t->start = r->start;
        t->end = r->start + r->npages * IMAGE_PAGE;
        t->prot = r->prot;
        t->kind = r->kind;
        t->flags = r->flags;
        if (r->path) {
            t->path_offset = slen;
            t->path_len = (uint32_t)strlen(r->path);
            memcpy(strings + slen, r->path, t->path_len + 1);
            slen += t->path_len + 1;
        }
        if (r->kind == REGION_ANON_SHARED)
            t->object_id = 77;
        if (r->flags & REGION_F_FROM_FILE)
            t->file_size = 123456, t->file_mtime_ns = 1700000000000000000ll;
        put_payload(b, t, r);
        h.memory_bytes += t->stored_pages * IMAGE_PAGE;
        if (r->kind == REGION_FILE_PRIVATE && (r->prot & 4) && !h.restore_entry)
            h.restore_entry = r->start + 0x123;
    }
    h.table_offset = b->len;
    h.nregions = (uint64_t)s->n;
    put(b, table, (size_t)s->n * sizeof table[0]);
    h.strings_offset = b->len;
    h.strings_size = slen;
    put(b, strings, slen);
    h.sections_offset = b->len;
    if (s->section) {
        struct image_section sec;
        memset(&sec, 0, sizeof sec);
        snprintf(sec.name, sizeof sec.name, "fuzz.note");
        sec.size = strlen(s->section);
        sec.checksum = XXH64(s->section, sec.size, 0);
        put(b, &sec, sizeof sec);
        put(b, s->section, sec.size);
    }
    h.sections_size = b->len - h.sections_offset;
    struct image_trailer t;
    memset(&t, 0, sizeof t);
    memcpy(t.magic, IMAGE_TRAILER_MAGIC, 8);
    h.file_size = b->len + sizeof t;
    t.file_size = h.file_size;
    t.table_checksum = XXH64(b->p + h.table_offset, b->len - h.table_offset, 0);
    memcpy(h.magic, IMAGE_MAGIC, 8);
    h.version = IMAGE_VERSION;
    h.header_size = IMAGE_HEADER_SIZE;
    h.arch = IMAGE_ARCH_X86_64;
    h.page_size = IMAGE_PAGE;
    h.uid = 0; /* the harness makes it the fuzzing user's (unless FUZZ_UNSEALED) */
    h.nthreads = 2;
    h.created_ns = 1700000000000000000ull;
    h.comp_id = 0xc0ffee;
    h.generation = 3;
    h.vpid = h.real_pid = 4242;
    h.program_break = 0x560000022000ull;
    if (s->specials) {
        h.vdso_start = 0x7ffff7fc0000ull, h.vdso_end = 0x7ffff7fc2000ull;
        h.vvar_start = 0x7ffff7fbc000ull, h.vvar_end = 0x7ffff7fc0000ull;
    }
    snprintf(h.program, sizeof h.program, "fuzzed");
    snprintf(h.host, sizeof h.host, "fuzzhost");
    if (s->incremental) {
        h.parent_checksum = 1;
        h.chain_depth = 1;
        snprintf(h.parent, sizeof h.parent, "ckpt_fuzz.g1.dmtcp");
    }
    h.header_checksum = XXH64(&h, sizeof h, 0);
    t.header_checksum = h.header_checksum;
    put(b, &t, sizeof t);
    put_at(b, 0, &h, sizeof h);
}

#define CODE {0x7ffff7800000ull, 4, REGION_FILE_PRIVATE, 5, 0, "/usr/lib/x86_64-linux-gnu/libc.so.6", {{0}}, {{0}}, 0}

static const struct seed_region basic[] = {
    {0x560000000000ull, 8, REGION_ANON_PRIVATE, 3, 0, "[heap]", {{0, 2}, {4, 1}}, {{0}}, 'z'},
    {0x7ff000000000ull, 16, REGION_RESERVED, 0, 0, NULL, {{0}}, {{0}}, 0},
    {0x7ff100000000ull, 1, REGION_FILE_SHARED, 1, 0, "/dev/null", {{0}}, {{0}}, 0},
    CODE,
};
static const struct seed_region raw[] = {
    {0x560000000000ull, 2, REGION_ANON_PRIVATE, 3, 0, NULL, {{1, 1}}, {{0}}, 'r'},
    CODE,
};
static const struct seed_region blocks[] = {
    {0x560000000000ull, 300, REGION_ANON_PRIVATE, 3, 0, NULL, {{0, 10}, {20, 280}}, {{0}}, 'z'},
    {0x7ffff7700000ull, 4, REGION_ANON_SHARED, 3, 0, NULL, {{0, 1}, {2, 2}}, {{0}}, 'z'},
    CODE,
    {0x7ffffffde000ull, 33, REGION_ANON_PRIVATE, 3, REGION_F_STACK | REGION_F_GROWSDOWN, "[stack]",
     {{30, 3}}, {{0}}, 'z'},
};
static const struct seed_region files[] = {
    {0x555555554000ull, 2, REGION_FILE_PRIVATE, 1, REGION_F_FROM_FILE, "/dev/null", {{1, 1}}, {{0}}, 'z'},
    {0x7ff100000000ull, 1, REGION_FILE_SHARED, 3, 0, "/dev/zero", {{0}}, {{0}}, 0},
    CODE,
};
/* a chain: newest inherits pages 0-3 and stores 4; its parent stores 0-1
 * and inherits 2-3; the base stores 0-4 */
static const struct seed_region chain_newest[] = {
    {0x560000000000ull, 8, REGION_ANON_PRIVATE, 3, 0, NULL, {{4, 1}}, {{0, 4}}, 'z'},
    CODE,
};
static const struct seed_region chain_parent[] = {
    {0x560000000000ull, 8, REGION_ANON_PRIVATE, 3, 0, NULL, {{0, 2}}, {{2, 2}}, 'z'},
    CODE,
};
static const struct seed_region chain_base[] = {
    {0x560000000000ull, 8, REGION_ANON_PRIVATE, 3, 0, NULL, {{0, 5}}, {{0}}, 'z'},
    CODE,
};

static void write_file(const char *dir, const char *name, const void *p, size_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
        fprintf(stderr, "seeds: cannot write %s: %s\n", path, strerror(errno));
        exit(1);
    }
}

static void write_images(const char *dir)
{
    struct buf b = {0}, all = {0};
    const struct seed_image one[] = {
        {basic, 4, NULL, 0, 0},
        {raw, 2, NULL, 0, 0},
        {blocks, 4, "plugin state: 3 files", 0, 1},
        {files, 3, NULL, 0, 1},
    };
    const char *names[] = {"basic", "raw", "blocks-section-specials", "files"};
    for (size_t i = 0; i < sizeof one / sizeof one[0]; i++) {
        build_image(&b, &one[i]);
        write_file(dir, names[i], b.p, b.len);
    }
    /* the raw image as written, not sealed again by the harness */
    build_image(&b, &one[1]);
    put(&all, FUZZ_UNSEALED, strlen(FUZZ_UNSEALED));
    put(&all, b.p, b.len);
    write_file(dir, "unsealed-raw", all.p, all.len);
    all.len = 0;
    const struct seed_image chain[] = {
        {chain_newest, 2, NULL, 1, 0},
        {chain_parent, 2, NULL, 1, 0},
        {chain_base, 2, NULL, 0, 0},
    };
    for (size_t i = 0; i < 3; i++) {
        build_image(&b, &chain[i]);
        if (i)
            put(&all, FUZZ_SEP, strlen(FUZZ_SEP));
        put(&all, b.p, b.len);
    }
    write_file(dir, "chain", all.p, all.len);
    free(b.p);
    free(all.p);
}

/* ---- protocol scripts ------------------------------------------------------ */

/* One chunk for connection `conn`: a whole message. */
static void put_msg(struct buf *b, int conn, uint16_t type, const void *payload, uint32_t len)
{
    struct proto_hdr h = {PROTO_MAGIC, PROTO_VERSION, type, len, 0};
    uint8_t c[3] = {(uint8_t)conn, (uint8_t)((sizeof h + len) & 0xff), (uint8_t)((sizeof h + len) >> 8)};
    put(b, c, 3);
    put(b, &h, sizeof h);
    if (len)
        put(b, payload, len);
}

static void put_command(struct buf *b, uint32_t code, uint32_t arg)
{
    struct msg_command m = {code, arg};
    put_msg(b, 3, MSG_COMMAND, &m, sizeof m);
}

static void put_barrier(struct buf *b, int conn, uint32_t id, uint64_t gen)
{
    struct msg_barrier m = {id, 0, gen};
    put_msg(b, conn, MSG_BARRIER, &m, sizeof m);
}

/* A new connection's HELLO; its AUTH can never match (the coordinator's
 * nonce is random), so it reaches everything before authentication. */
static void put_hello(struct buf *b, uint32_t role, uint32_t state, uint32_t peers)
{
    struct msg_hello h;
    memset(&h, 0, sizeof h);
    h.role = role;
    h.state = state;
    memset(h.nonce, 0x5a, sizeof h.nonce);
    h.vpid = h.real_pid = 200;
    h.comp_id = 0xc0ffee;
    h.generation = 4;
    h.restart_peers = peers;
    snprintf(h.name, sizeof h.name, "seed");
    snprintf(h.host, sizeof h.host, "fuzzhost");
    put_msg(b, 0, MSG_HELLO, &h, sizeof h);
}

static void write_protos(const char *dir)
{
    struct buf b = {0};

    put_hello(&b, ROLE_WORKER, WSTATE_RUNNING, 0);
    put_msg(&b, 0, MSG_CKPT_REQUEST, NULL, 0);
    struct msg_worker_status ws = {PEER_RESUME_DELAYED, 0};
    put_msg(&b, 0, MSG_WORKER_STATUS, &ws, sizeof ws);
    write_file(dir, "hello-worker", b.p, b.len);

    b.len = 0;
    put_command(&b, CMD_STATUS, 0);
    put_command(&b, CMD_LIST, 0);
    put_command(&b, CMD_INTERVAL, 60);
    put_command(&b, 99, 0);
    write_file(dir, "commands", b.p, b.len);

    /* a whole blocking checkpoint of the two workers */
    b.len = 0;
    put_command(&b, CMD_BCKPT, 0);
    for (uint32_t id = BARRIER_SUSPENDED; id <= BARRIER_CHECKPOINTED; id++) {
        if (id == BARRIER_CHECKPOINTED)
            for (int w = 1; w <= 2; w++) {
                struct msg_ckpt_done d;
                memset(&d, 0, sizeof d);
                d.generation = 1;
                d.bytes = 4096;
                snprintf(d.path, sizeof d.path, "/tmp/ckpt_seed_%d.dmtcp", w);
                put_msg(&b, w, MSG_CKPT_DONE, &d, sizeof d);
            }
        put_barrier(&b, 1, id, 1);
        put_barrier(&b, 2, id, 1);
    }
    put_barrier(&b, 1, BARRIER_RESUMED, 1);
    put_barrier(&b, 2, BARRIER_RESUMED, 1);
    put_command(&b, CMD_KCKPT, 0);
    put_command(&b, CMD_KILL, 0);
    write_file(dir, "checkpoint", b.p, b.len);

    b.len = 0;
    struct msg_plugin_barrier pb;
    memset(&pb, 0, sizeof pb);
    pb.scope = PBARRIER_GLOBAL;
    snprintf(pb.name, sizeof pb.name, "fuzz-barrier");
    put_msg(&b, 1, MSG_PLUGIN_BARRIER, &pb, sizeof pb);
    put_msg(&b, 2, MSG_PLUGIN_BARRIER, &pb, sizeof pb);
    pb.scope = PBARRIER_LOCAL;
    put_msg(&b, 1, MSG_PLUGIN_BARRIER, &pb, sizeof pb);
    write_file(dir, "plugin-barrier", b.p, b.len);

    /* a new connection: HELLO, then an AUTH with a proof that cannot match */
    b.len = 0;
    put_hello(&b, ROLE_WORKER, WSTATE_RUNNING, 0);
    struct msg_auth auth;
    memset(&auth, 0x33, sizeof auth);
    put_msg(&b, 0, MSG_AUTH, &auth, sizeof auth);
    write_file(dir, "hello-auth", b.p, b.len);

    /* a restart of one image carried by the command connection: the image
     * registered, the restored process back on it, the restart barriers */
    b.len = 0;
    struct msg_restart_image ri;
    memset(&ri, 0, sizeof ri);
    ri.token = 7;
    ri.comp_id = 0xc0ffee;
    ri.generation = 4;
    ri.vpid = ri.pid = 300;
    ri.nimages = 1;
    snprintf(ri.host, sizeof ri.host, "fuzzhost");
    snprintf(ri.image, sizeof ri.image, "/tmp/ckpt_seed_300.dmtcp");
    put_msg(&b, 3, MSG_RESTART_IMAGE, &ri, sizeof ri);
    struct msg_restart_back back;
    memset(&back, 0, sizeof back);
    back.vpid = back.real_pid = 300;
    back.generation = 4;
    snprintf(back.name, sizeof back.name, "seed");
    snprintf(back.host, sizeof back.host, "fuzzhost");
    put_msg(&b, 3, MSG_RESTART_BACK, &back, sizeof back);
    put_barrier(&b, 3, BARRIER_RESTARTED, 4);
    put_barrier(&b, 3, BARRIER_REFILLED, 4);
    put_msg(&b, 1, MSG_CKPT_REQUEST, NULL, 0);
    write_file(dir, "restart", b.p, b.len);

    /* the same image's restart failing in the helper */
    b.len = 0;
    put_msg(&b, 3, MSG_RESTART_IMAGE, &ri, sizeof ri);
    struct msg_restart_failed rf;
    memset(&rf, 0, sizeof rf);
    rf.status = 22;
    snprintf(rf.reason, sizeof rf.reason, "refusing to restart /tmp/ckpt_seed_300.dmtcp: header: nthreads");
    put_msg(&b, 3, MSG_RESTART_FAILED, &rf, sizeof rf);
    put_command(&b, CMD_QUIT, 0);
    write_file(dir, "restart-failed", b.p, b.len);

    /* malformed: bad magic, a newer version, a length for another type, a
     * message before HELLO, a reply sent to the coordinator */
    b.len = 0;
    struct proto_hdr bad = {0x12345678, PROTO_VERSION, MSG_COMMAND, 8, 0};
    uint8_t c[3] = {3, sizeof bad, 0};
    put(&b, c, 3);
    put(&b, &bad, sizeof bad);
    struct proto_hdr newer = {PROTO_MAGIC, PROTO_VERSION + 1, MSG_BARRIER, sizeof(struct msg_barrier), 0};
    c[0] = 1;
    put(&b, c, 3);
    put(&b, &newer, sizeof newer);
    struct msg_command m = {CMD_STATUS, 0};
    put_msg(&b, 2, MSG_COMMAND, &m, sizeof m);
    put_msg(&b, 0, MSG_BARRIER, &m, sizeof m);
    struct {
        struct msg_command_reply r;
        struct proto_peer p;
    } reply;
    memset(&reply, 0, sizeof reply);
    reply.r.npeers = 1;
    snprintf(reply.r.message, sizeof reply.r.message, "1 processes");
    snprintf(reply.p.name, sizeof reply.p.name, "seed");
    put_msg(&b, 3, MSG_COMMAND_REPLY, &reply, sizeof reply);
    write_file(dir, "malformed", b.p, b.len);
    free(b.p);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: seeds DIR (writes DIR/image/ and DIR/proto/)\n");
        return 1;
    }
    char dir[512];
    snprintf(dir, sizeof dir, "%s/image", argv[1]);
    mkdir(argv[1], 0755);
    mkdir(dir, 0755);
    write_images(dir);
    snprintf(dir, sizeof dir, "%s/proto", argv[1]);
    mkdir(dir, 0755);
    write_protos(dir);
    return 0;
}
