/*
 * load.c — fill a mapped region with its saved pages, checking each block
 * against its checksum as it is loaded (image format: src/common/image.h).
 *
 * A block is read straight into the memory it belongs to when its pages are
 * contiguous (nearly always); a compressed block is read into a buffer,
 * checked, and decompressed into place.  No page reaches the restored
 * program unchecked: the helper jumps to the engine only after every block
 * of every region has matched its checksum, and a mismatch ends the restart
 * with a message before that.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* -ffreestanding makes memcpy an ordinary call; xxhash reads unaligned
 * words through it, which must stay single instructions. */
#define memcpy(d, s, n) __builtin_memcpy(d, s, n)
#define XXH_INLINE_ALL
#define XXH_NO_STREAM
#include <xxhash.h>
#undef memcpy
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

#include "common/image.h"
#include "common/image_valid.h"
#include "restart/arch-x86_64.h"
#include "restart/load.h"
#include "restart/report.h"

#define LOAD_BLOCK_BYTES ((uint64_t)IMAGE_BLOCK_PAGES * IMAGE_PAGE)

static struct {
    uint64_t len;  /* of the mapping holding all three */
    uint8_t *zbuf; /* a compressed block as stored */
    uint8_t *raw;  /* a block whose pages are scattered, before copying out */
    ZSTD_DCtx *dctx;
} load_io;

static uint64_t load_round(uint64_t n)
{
    return (n + IMAGE_PAGE - 1) & ~(uint64_t)(IMAGE_PAGE - 1);
}

void load_init(uint64_t work_area)
{
    uint64_t zcap = load_round(ZSTD_COMPRESSBOUND(LOAD_BLOCK_BYTES));
    uint64_t dcap = load_round(ZSTD_estimateDCtxSize());
    long m = rs_mmap(work_area, zcap + LOAD_BLOCK_BYTES + dcap, RS_PROT_READ | RS_PROT_WRITE,
                     RS_MAP_PRIVATE | RS_MAP_ANONYMOUS | RS_MAP_FIXED_NOREPLACE, -1, 0);
    if (m < 0)
        hs_die("cannot allocate the helper's block buffers", 0, m);
    load_io.len = zcap + LOAD_BLOCK_BYTES + dcap;
    load_io.zbuf = (uint8_t *)work_area;
    load_io.raw = load_io.zbuf + zcap;
    load_io.dctx = ZSTD_initStaticDCtx(load_io.raw + LOAD_BLOCK_BYTES, dcap);
    if (!load_io.dctx)
        hs_die("cannot set up decompression", 0, 0);
}

void load_fini(void)
{
    rs_munmap((uint64_t)load_io.zbuf, load_io.len);
}

static void load_read(int fd, void *buf, uint64_t len, uint64_t off)
{
    char *p = buf;
    while (len) {
        uint64_t chunk = len > (1ull << 30) ? (1ull << 30) : len;
        long n = rs_pread(fd, p, chunk, off);
        if (n <= 0)
            hs_die("cannot read the image", 0, n < 0 ? n : -5);
        p += n;
        off += (uint64_t)n;
        len -= (uint64_t)n;
    }
}

static const char *load_image_path = "the image";

void load_set_image_path(const char *path)
{
    load_image_path = path;
}

static void load_hex_plain(uint64_t v)
{
    char b[17];
    int n = 0;
    do
        b[n++] = "0123456789abcdef"[v & 15];
    while ((v >>= 4) && n < 16);
    char out[17];
    for (int i = 0; i < n; i++)
        out[i] = b[n - 1 - i];
    out[n] = 0;
    hs_say(out);
}

static int load_victim; /* lazy server: the program to stop on corruption */

void load_set_victim(int pid)
{
    load_victim = pid;
}

/* The same one line dmtcp_restart prints for an image it refuses.  In a
 * lazy restart's server the program already runs and cannot go on without
 * the block: it is killed, with the reason. */
static __attribute__((noreturn)) void load_corrupt(const struct image_region *r)
{
    hs_say(load_victim ? "dmtcp_restart: lazy restart of " : "dmtcp_restart: refusing to restart ");
    hs_say(load_image_path);
    hs_say(": checksum mismatch in memory region ");
    load_hex_plain(r->start);
    hs_say("-");
    load_hex_plain(r->end);
    hs_say(load_victim ? ": the image is corrupt; the restarted program was killed\n" : ": the image is corrupt\n");
    if (load_victim) {
        rs_syscall6(62 /* kill */, load_victim, 9 /* SIGKILL */, 0, 0, 0, 0);
        rs_exit(1);
    }
    report_exit(1);
}

static __attribute__((noreturn)) void load_corrupt_chain(uint32_t image)
{
    hs_say("dmtcp_restart: refusing to restart ");
    hs_say(load_image_path);
    hs_say(": checksum mismatch in an older image of its chain (");
    hs_dec(image + 1);
    hs_say(" back): the chain is corrupt\n");
    report_exit(1);
}

/* Where the pages of one block go: contiguous (dest) or scattered. */
struct load_cursor {
    const struct image_extent *ex;
    uint64_t ei, ep; /* extent, page within it */
};

static uint8_t *load_contiguous(const struct image_region *r, const struct load_cursor *c, uint64_t pages)
{
    if (c->ex[c->ei].npages - c->ep < pages)
        return NULL;
    return (uint8_t *)(r->start + (c->ex[c->ei].first_page + c->ep) * IMAGE_PAGE);
}

/* Move the cursor over `pages` stored pages, copying them from src to
 * where they belong when src is given. */
static void load_advance(const struct image_region *r, struct load_cursor *c, const uint8_t *src, uint64_t pages)
{
    while (pages) {
        uint64_t take = c->ex[c->ei].npages - c->ep;
        if (take > pages)
            take = pages;
        if (src) {
            __builtin_memcpy((void *)(r->start + (c->ex[c->ei].first_page + c->ep) * IMAGE_PAGE), src,
                             take * IMAGE_PAGE);
            src += take * IMAGE_PAGE;
        }
        pages -= take;
        c->ep += take;
        if (c->ep == c->ex[c->ei].npages) {
            c->ei++;
            c->ep = 0;
        }
    }
}

/* Read one stored block at off of fd into `into` (raw_len bytes), checking
 * its stored bytes against checksum and decompressing a zstd block: 0, or
 * -1 when the block is not what its checksum and sizes say. */
static int load_fetch(int fd, uint64_t off, uint32_t stored_len, uint32_t raw_len, uint32_t codec,
                      uint64_t checksum, uint8_t *into)
{
    if (codec == CODEC_RAW) {
        load_read(fd, into, raw_len, off);
        return XXH3_64bits(into, raw_len) == checksum ? 0 : -1;
    }
    load_read(fd, load_io.zbuf, stored_len, off);
    if (XXH3_64bits(load_io.zbuf, stored_len) != checksum)
        return -1;
    size_t n = ZSTD_decompressDCtx(load_io.dctx, into, raw_len, load_io.zbuf, stored_len);
    return ZSTD_isError(n) || n != raw_len ? -1 : 0;
}

/* One block's bytes, checked and decompressed, in the block buffer. */
const uint8_t *load_block(int img, const struct image_region *r, const struct image_block *b)
{
    if (load_fetch(img, r->payload_offset + b->offset, b->stored_len, b->raw_len, b->codec, b->checksum,
                   load_io.raw) < 0)
        load_corrupt(r);
    return load_io.raw;
}

/* The region table (checked by helper.c), for messages and the plan. */
static struct {
    const struct image_region *regions;
    uint64_t n;
    int has_parent;
} load_table;

void load_set_table(const struct image_region *regions, uint64_t n, int has_parent)
{
    load_table.regions = regions;
    load_table.n = n;
    load_table.has_parent = has_parent;
}

int load_header_sealed(const struct image_header *h)
{
    struct image_header copy = *h;
    copy.header_checksum = 0;
    return XXH64(&copy, sizeof copy, 0) == h->header_checksum;
}

/* Read and check a payload's head into memory at area (mapped here): its
 * counts before anything is read on their word, its checksum, then every
 * extent and block (image_valid.h), since the head steers every write the
 * helper makes. */
const uint8_t *load_head(int img, const struct image_region *r, uint64_t area, uint64_t cap,
                         struct image_payload_head *ph, uint64_t *mapped)
{
    struct image_fault f;
    uint64_t i = (uint64_t)(r - load_table.regions);
    load_read(img, ph, sizeof *ph, r->payload_offset);
    if (image_valid_head_counts(r, i, ph, load_table.has_parent, &f) < 0)
        hs_refuse("has a malformed page list", 0, &f);
    uint64_t hb = image_head_bytes(ph);
    if (load_round(hb) > cap)
        return NULL;
    long m = rs_mmap(area, load_round(hb), RS_PROT_READ | RS_PROT_WRITE,
                     RS_MAP_PRIVATE | RS_MAP_ANONYMOUS | RS_MAP_FIXED, -1, 0);
    if (m < 0)
        hs_die("cannot allocate memory for a region's page list", 0, m);
    load_read(img, (void *)area, hb, r->payload_offset);
    if (XXH64((void *)area, hb, 0) != r->checksum)
        load_corrupt(r);
    if (image_valid_head(r, i, (const uint8_t *)area, &f) < 0)
        hs_refuse("has a malformed page list", 0, &f);
    *mapped = load_round(hb);
    return (const uint8_t *)area;
}

void load_region(int img, const struct image_region *r, uint64_t head_area)
{
    if (!r->payload_offset)
        return;
    /* dmtcp_restart checked the head; load_head checks it again, because
     * the head steers every write below. */
    struct image_payload_head ph;
    uint64_t mapped;
    const uint8_t *head = load_head(img, r, head_area, UINT64_MAX, &ph, &mapped);
    struct load_cursor c = {(const struct image_extent *)(head + sizeof ph), 0, 0};
    /* inherited pages (after the stored extents) are filled by the plan */
    const struct image_block *blocks = (const struct image_block *)(c.ex + ph.nextents + ph.ninherit);
    for (uint64_t k = 0; k < ph.nblocks; k++) {
        const struct image_block *b = &blocks[k];
        uint64_t pages = b->raw_len / IMAGE_PAGE;
        uint8_t *dest = load_contiguous(r, &c, pages); /* else via the block buffer */
        uint8_t *into = dest ? dest : load_io.raw;
        if (load_fetch(img, r->payload_offset + b->offset, b->stored_len, b->raw_len, b->codec, b->checksum,
                       into) < 0)
            load_corrupt(r);
        load_advance(r, &c, dest ? NULL : into, pages);
    }
    rs_munmap(head_area, mapped);
}

/* Pages the plan copies to: inside one region of the newest image that
 * the helper mapped writable memory for (not a reserved range nor a shared
 * file).  Regions are in address order (helper.c checked). */
static int load_plan_target_ok(uint64_t addr, uint64_t npages)
{
    if (addr % IMAGE_PAGE || npages > IMAGE_BLOCK_PAGES)
        return 0;
    uint64_t lo = 0, hi = load_table.n;
    while (lo < hi) { /* the first region ending above addr */
        uint64_t mid = (lo + hi) / 2;
        if (load_table.regions[mid].end <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == load_table.n)
        return 0;
    const struct image_region *r = &load_table.regions[lo];
    return r->start <= addr && npages * IMAGE_PAGE <= r->end - addr && r->kind != REGION_RESERVED &&
           r->kind != REGION_FILE_SHARED;
}

/* Carry out dmtcp_restart's plan (struct plan_* in image.h): each block of
 * an older image that holds pages the newest inherits is read, checked,
 * decompressed once, and its pages copied to where they go. */
void load_plan(int plan_fd, const int *fds, int nfds, uint64_t area)
{
    struct plan_head ph;
    load_read(plan_fd, &ph, sizeof ph, 0);
    if (ph.magic != PLAN_MAGIC || (int)ph.nimages != nfds)
        hs_die("bad restart plan from dmtcp_restart", 0, 0);
    uint64_t off = sizeof ph;
    /* one plan block's copies at a time, in the head area */
    long m = rs_mmap(area, 1ull << 20, RS_PROT_READ | RS_PROT_WRITE, RS_MAP_PRIVATE | RS_MAP_ANONYMOUS | RS_MAP_FIXED,
                     -1, 0);
    if (m < 0)
        hs_die("cannot allocate memory for the restart plan", 0, m);
    struct plan_copy *copies = (struct plan_copy *)area;
    for (uint64_t k = 0; k < ph.nblocks; k++) {
        struct plan_block b;
        load_read(plan_fd, &b, sizeof b, off);
        off += sizeof b;
        if (b.image >= (uint32_t)nfds || b.raw_len > LOAD_BLOCK_BYTES || b.raw_len % IMAGE_PAGE ||
            b.stored_len > ZSTD_COMPRESSBOUND(LOAD_BLOCK_BYTES) || b.ncopies > IMAGE_BLOCK_PAGES ||
            (b.codec == CODEC_RAW && b.stored_len != b.raw_len))
            hs_die("bad restart plan from dmtcp_restart", 0, 0);
        load_read(plan_fd, copies, b.ncopies * sizeof *copies, off);
        off += b.ncopies * sizeof *copies;
        const uint8_t *src = load_io.raw;
        if (load_fetch(fds[b.image], b.offset, b.stored_len, b.raw_len, b.codec, b.checksum, load_io.raw) < 0)
            load_corrupt_chain(b.image);
        for (uint32_t i = 0; i < b.ncopies; i++) {
            const struct plan_copy *c = &copies[i];
            if (c->first_page > b.raw_len / IMAGE_PAGE || c->npages > b.raw_len / IMAGE_PAGE - c->first_page ||
                !load_plan_target_ok(c->addr, c->npages))
                hs_die("bad restart plan from dmtcp_restart", 0, 0);
            __builtin_memcpy((void *)c->addr, src + (uint64_t)c->first_page * IMAGE_PAGE,
                             (uint64_t)c->npages * IMAGE_PAGE);
        }
    }
    rs_munmap(area, 1ull << 20);
    for (int i = 0; i < nfds; i++)
        rs_close(fds[i]);
    rs_close(plan_fd);
}

/* ---- what libzstd needs from a C library -------------------------------
 * Stack-protector failures end the restart; the legacy-format decoders,
 * the only callers of malloc, never run (Stasis writes current frames
 * only), and fail cleanly if a corrupt frame reached them. */
void __stack_chk_fail(void)
{
    hs_die("stack smashing detected in the restart helper", 0, 0);
}
/* libzstd's tracing hooks: none (a zero context turns tracing off). */
unsigned long long ZSTD_trace_decompress_begin(const void *dctx);
void ZSTD_trace_decompress_end(unsigned long long ctx, const void *trace);
unsigned long long ZSTD_trace_decompress_begin(const void *dctx)
{
    (void)dctx;
    return 0;
}
void ZSTD_trace_decompress_end(unsigned long long ctx, const void *trace)
{
    (void)ctx;
    (void)trace;
}
void *malloc(size_t n)
{
    (void)n;
    return NULL;
}
void *calloc(size_t n, size_t m)
{
    (void)n;
    (void)m;
    return NULL;
}
void free(void *p)
{
    (void)p;
}
