/*
 * fuzz_image.c — libFuzzer harness for everything dmtcp_restart reads from
 * an image before the restart helper runs (make fuzz; fuzz/run.sh).
 *
 * Each input is up to FUZZ_IMAGES images, separated by FUZZ_SEP: the first
 * is the image restarted, the others its chain (its parent, the parent's
 * parent).  They are written to files in a private directory and go
 * through what src/restart-cli/restart.c does with them: image_check_file
 * (header, layout, trailer, region table, sections, payload heads; quick,
 * then full with every block's checksum), files_check (the programs' and
 * libraries' files) and chain_plan (the chain and the restart plan).
 *
 * Crafted, not corrupt: before the checks each image is sealed as an
 * attacker would seal it — owned by this user, file_size the input's,
 * every checksum recomputed (blocks, heads, table, header, trailer), and a
 * parent_checksum of 1 made into a link to the next image (its file name
 * and header checksum) — so the fuzzer spends its time on the range
 * checks, not on checksums it cannot forge.  An input that starts with
 * FUZZ_UNSEALED leaves its images as the fuzzer made them.
 *
 * Oracle, beyond the sanitizers: whatever dmtcp_restart accepts, the
 * restart helper must restore without crashing.  For an accepted image the
 * harness checks, written independently of image_valid.h, what the helper
 * will do: map every region in user space, apart from the others and from
 * the helper itself; fill no reserved or shared file mapping; jump into
 * executable memory; fit every thread's stack.  It walks every block as
 * src/restart/load.c does, and checks every copy of the restart plan
 * against the newest image's regions.  A violation is a crash (abort) with
 * the input saved.
 * FUZZ_VERBOSE=1 prints what became of each input (to check the seeds).
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "common/image_check.h"
#include "common/image_valid.h"
#include "restart-cli/chain.h"
#include "restart-cli/files.h"

#define FUZZ_IMAGES 3
#define FUZZ_SEP "\nSTASIS-FUZZ-PARENT\n"
#define FUZZ_SEP_LEN (sizeof FUZZ_SEP - 1)
#define FUZZ_UNSEALED "STASIS-FUZZ-UNSEALED"
#define FUZZ_BLOCK_BYTES ((uint64_t)IMAGE_BLOCK_PAGES * IMAGE_PAGE)

static char fuzz_dir[256];
static int fuzz_verbose;

static void fuzz_path(char *out, size_t cap, int k)
{
    if (k == 0)
        snprintf(out, cap, "%s/ckpt_fuzz.dmtcp", fuzz_dir);
    else
        snprintf(out, cap, "%s/ckpt_fuzz.g%d.dmtcp", fuzz_dir, k);
}

/* The private directory and what the checks left in it. */
static void fuzz_cleanup(void)
{
    DIR *d = opendir(fuzz_dir);
    for (struct dirent *e; d && (e = readdir(d));)
        if (e->d_name[0] != '.')
            unlinkat(dirfd(d), e->d_name, 0);
    if (d)
        closedir(d);
    rmdir(fuzz_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(fuzz_dir, sizeof fuzz_dir, "%s/stasis-fuzz-image.XXXXXX", base);
    if (!mkdtemp(fuzz_dir)) {
        perror("fuzz_image: mkdtemp");
        exit(1);
    }
    atexit(fuzz_cleanup);
    fuzz_verbose = getenv("FUZZ_VERBOSE") != NULL;
    return 0;
}

/* ---- sealing: what a crafted image carries ------------------------------- */

/* Recompute region r's block checksums and head checksum in the image,
 * as far as they lie inside it. */
static void fuzz_seal_payload(uint8_t *b, size_t len, struct image_region *r)
{
    struct image_payload_head ph;
    if (!r->payload_size || r->payload_offset > len || len - r->payload_offset < sizeof ph)
        return;
    memcpy(&ph, b + r->payload_offset, sizeof ph);
    if (ph.nextents > len || ph.ninherit > len || ph.nblocks > len)
        return; /* image_head_bytes cannot wrap below these */
    uint64_t hb = image_head_bytes(&ph), room = len - r->payload_offset;
    if (hb > room)
        return;
    uint8_t *head = b + r->payload_offset;
    uint8_t *blocks = head + hb - ph.nblocks * sizeof(struct image_block);
    for (uint64_t k = 0; k < ph.nblocks; k++) {
        struct image_block blk;
        memcpy(&blk, blocks + k * sizeof blk, sizeof blk);
        if (blk.offset <= room && blk.stored_len <= room - blk.offset) {
            blk.checksum = XXH3_64bits(head + blk.offset, blk.stored_len);
            memcpy(blocks + k * sizeof blk, &blk, sizeof blk);
        }
    }
    r->checksum = XXH64(head, hb, 0);
}

/* Seal image b (len bytes); parent: the next image's file name and header
 * checksum, or NULL.  Returns the image's header checksum. */
static uint64_t fuzz_seal(uint8_t *b, size_t len, const char *parent, uint64_t parent_checksum)
{
    struct image_header h;
    struct image_trailer t;
    if (len < sizeof h)
        return 0;
    memcpy(&h, b, sizeof h);
    h.uid = (uint32_t)getuid();
    h.file_size = len;
    if (h.parent_checksum == 1 && parent) {
        memset(h.parent, 0, sizeof h.parent);
        snprintf(h.parent, sizeof h.parent, "%s", parent);
        h.parent_checksum = parent_checksum;
    }
    if (len >= IMAGE_HEADER_SIZE + sizeof t) {
        uint64_t toff = len - sizeof t;
        if (h.table_offset <= toff && h.nregions <= (toff - h.table_offset) / sizeof(struct image_region)) {
            for (uint64_t i = 0; i < h.nregions; i++) {
                struct image_region r;
                uint8_t *at = b + h.table_offset + i * sizeof r;
                memcpy(&r, at, sizeof r);
                fuzz_seal_payload(b, len, &r);
                memcpy(at, &r, sizeof r);
            }
        }
        memcpy(&t, b + toff, sizeof t);
        t.file_size = len;
        if (h.table_offset <= toff)
            t.table_checksum = XXH64(b + h.table_offset, toff - h.table_offset, 0);
        h.header_checksum = 0;
        h.header_checksum = XXH64(&h, sizeof h, 0);
        t.header_checksum = h.header_checksum;
        memcpy(b + toff, &t, sizeof t);
    } else {
        h.header_checksum = 0;
        h.header_checksum = XXH64(&h, sizeof h, 0);
    }
    memcpy(b, &h, sizeof h);
    return h.header_checksum;
}

/* ---- the oracle ------------------------------------------------------------ */

static void fuzz_broken(const char *what, uint64_t region)
{
    char where[40] = "the header";
    if (region != IMAGE_NO_REGION)
        snprintf(where, sizeof where, "region %llu", (unsigned long long)region);
    fprintf(stderr, "fuzz_image: an image dmtcp_restart accepted would make the restart helper %s (%s)\n", what,
            where);
    abort();
}

/* Walk region r's blocks as load_region (src/restart/load.c) does: each
 * block's pages go, extent by extent, to start + first_page * page size. */
static void fuzz_walk_loads(const uint8_t *b, size_t len, const struct image_region *r, uint64_t i)
{
    struct image_payload_head ph;
    memcpy(&ph, b + r->payload_offset, sizeof ph);
    uint64_t hb = image_head_bytes(&ph);
    if (r->payload_offset + hb > len)
        fuzz_broken("read a head past the end of the image", i);
    const uint8_t *head = b + r->payload_offset;
    uint64_t ei = 0, ep = 0;
    for (uint64_t k = 0; k < ph.nblocks; k++) {
        struct image_block blk;
        memcpy(&blk, head + hb - (ph.nblocks - k) * sizeof blk, sizeof blk);
        if (blk.raw_len > FUZZ_BLOCK_BYTES || blk.raw_len % IMAGE_PAGE ||
            blk.stored_len > ZSTD_COMPRESSBOUND(FUZZ_BLOCK_BYTES))
            fuzz_broken("overflow its block buffers", i);
        if (r->payload_offset + blk.offset + blk.stored_len > len)
            fuzz_broken("read a block past the end of the image", i);
        for (uint64_t pages = blk.raw_len / IMAGE_PAGE; pages;) {
            if (ei >= ph.nextents)
                fuzz_broken("run past its extent list", i);
            struct image_extent e;
            memcpy(&e, head + sizeof ph + ei * sizeof e, sizeof e);
            uint64_t take = e.npages - ep < pages ? e.npages - ep : pages;
            uint64_t dest = r->start + (e.first_page + ep) * IMAGE_PAGE;
            if (dest < r->start || dest > r->end || take * IMAGE_PAGE > r->end - dest)
                fuzz_broken("write outside the region", i);
            pages -= take;
            ep += take;
            if (ep == e.npages)
                ei++, ep = 0;
        }
    }
}

/* What the helper does with the header and the table, written here
 * independently of image_valid.h: it maps every region MAP_FIXED in
 * table order (none may land on another, on itself or outside user
 * space), fills only regions it maps writable, gives each thread a stack
 * in its scratch area, moves the [vdso] family back and jumps to the
 * entry. */
#define FUZZ_HELPER_LOW 0x5ffd00000000ull
#define FUZZ_HELPER_HIGH 0x600000400000ull
#define FUZZ_USER_TOP 0x7ffffffff000ull

static int fuzz_clear_of_helper(uint64_t start, uint64_t end)
{
    return end <= FUZZ_HELPER_LOW || start >= FUZZ_HELPER_HIGH;
}

static void fuzz_check_layout(const uint8_t *b)
{
    struct image_header h;
    memcpy(&h, b, sizeof h);
    if (h.nthreads < 1 || h.nthreads > 4096)
        fuzz_broken("overflow its scratch area with thread stacks", IMAGE_NO_REGION);
    const uint64_t special[3][2] = {{h.vdso_start, h.vdso_end}, {h.vvar_start, h.vvar_end},
                                    {h.vclock_start, h.vclock_end}};
    for (int k = 0; k < 3; k++)
        if ((special[k][0] || special[k][1]) && !fuzz_clear_of_helper(special[k][0], special[k][1]))
            fuzz_broken("move the kernel's [vdso] onto itself", IMAGE_NO_REGION);
    if (h.parent_checksum && !memchr(h.parent, 0, sizeof h.parent))
        fuzz_broken("read a parent name past its field", IMAGE_NO_REGION);
    uint64_t prev_end = 0;
    int entry_ok = 0;
    for (uint64_t i = 0; i < h.nregions; i++) {
        struct image_region r;
        memcpy(&r, b + h.table_offset + i * sizeof r, sizeof r);
        if (r.start % IMAGE_PAGE || r.end % IMAGE_PAGE || r.start >= r.end || r.start < IMAGE_PAGE ||
            r.end > FUZZ_USER_TOP)
            fuzz_broken("map a region outside user space", i);
        if (r.start < prev_end)
            fuzz_broken("map a region over another", i);
        if (!fuzz_clear_of_helper(r.start, r.end))
            fuzz_broken("map a region over itself", i);
        if (r.payload_size && (r.kind == REGION_RESERVED || r.kind == REGION_FILE_SHARED))
            fuzz_broken("write saved pages into a reserved or shared file mapping", i);
        if (h.restore_entry >= r.start && h.restore_entry < r.end && (r.prot & 4))
            entry_ok = 1;
        prev_end = r.end;
    }
    if (!entry_ok)
        fuzz_broken("jump to an entry outside executable memory", IMAGE_NO_REGION);
}

static void fuzz_check_loads(const uint8_t *b, size_t len)
{
    struct image_header h;
    memcpy(&h, b, sizeof h);
    fuzz_check_layout(b);
    for (uint64_t i = 0; i < h.nregions; i++) {
        struct image_region r;
        memcpy(&r, b + h.table_offset + i * sizeof r, sizeof r);
        if (r.payload_size)
            fuzz_walk_loads(b, len, &r, i);
    }
}

/* Every copy of the plan lands inside a region of the newest image that
 * the helper fills (src/restart/load.c checks the same). */
static void fuzz_check_plan(const uint8_t *newest, const struct chain_result *c)
{
    if (c->plan_fd < 0)
        return;
    uint8_t *plan = malloc(c->plan_len + 1);
    if (!plan || pread(c->plan_fd, plan, c->plan_len, 0) != (ssize_t)c->plan_len)
        fuzz_broken("get an unreadable plan", IMAGE_NO_REGION);
    struct image_header h;
    memcpy(&h, newest, sizeof h);
    struct plan_head ph;
    memcpy(&ph, plan, sizeof ph);
    if (ph.magic != PLAN_MAGIC || (int)ph.nimages != c->nimages)
        fuzz_broken("get a plan with a bad head", IMAGE_NO_REGION);
    size_t off = sizeof ph;
    for (uint64_t k = 0; k < ph.nblocks; k++) {
        struct plan_block pb;
        if (c->plan_len - off < sizeof pb)
            fuzz_broken("read past the plan", IMAGE_NO_REGION);
        memcpy(&pb, plan + off, sizeof pb);
        off += sizeof pb;
        if (pb.image >= ph.nimages || pb.raw_len > FUZZ_BLOCK_BYTES || pb.raw_len % IMAGE_PAGE ||
            (c->plan_len - off) / sizeof(struct plan_copy) < pb.ncopies)
            fuzz_broken("get a malformed plan block", IMAGE_NO_REGION);
        for (uint32_t j = 0; j < pb.ncopies; j++, off += sizeof(struct plan_copy)) {
            struct plan_copy pc;
            memcpy(&pc, plan + off, sizeof pc);
            if ((uint64_t)pc.first_page + pc.npages > pb.raw_len / IMAGE_PAGE)
                fuzz_broken("copy from outside a plan block", IMAGE_NO_REGION);
            int inside = 0;
            for (uint64_t i = 0; i < h.nregions && !inside; i++) {
                struct image_region r;
                memcpy(&r, newest + h.table_offset + i * sizeof r, sizeof r);
                inside = r.kind != REGION_RESERVED && r.kind != REGION_FILE_SHARED && pc.addr >= r.start &&
                         pc.addr <= r.end && (uint64_t)pc.npages * IMAGE_PAGE <= r.end - pc.addr;
            }
            if (!inside)
                fuzz_broken("copy a plan's pages outside every region", IMAGE_NO_REGION);
        }
    }
    free(plan);
}

/* ---- one input ------------------------------------------------------------- */

static int fuzz_write(const char *path, const uint8_t *b, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    ssize_t n = len ? write(fd, b, len) : 0;
    close(fd);
    return n == (ssize_t)len ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int sealed = size < sizeof FUZZ_UNSEALED - 1 || memcmp(data, FUZZ_UNSEALED, sizeof FUZZ_UNSEALED - 1) != 0;
    if (!sealed) {
        data += sizeof FUZZ_UNSEALED - 1;
        size -= sizeof FUZZ_UNSEALED - 1;
    }
    uint8_t *img[FUZZ_IMAGES];
    size_t len[FUZZ_IMAGES];
    int n = 0;
    for (const uint8_t *p = data, *end = data + size; n < FUZZ_IMAGES; n++) {
        const uint8_t *sep = n + 1 < FUZZ_IMAGES ? memmem(p, (size_t)(end - p), FUZZ_SEP, FUZZ_SEP_LEN) : NULL;
        len[n] = (size_t)((sep ? sep : end) - p);
        img[n] = malloc(len[n] + 1);
        memcpy(img[n], p, len[n]);
        if (!sep) {
            n++;
            break;
        }
        p = sep + FUZZ_SEP_LEN;
    }
    /* oldest first: each image links to the one after it in the input */
    char path[FUZZ_IMAGES][400];
    uint64_t sum = 0;
    for (int k = n - 1; k >= 0; k--) {
        fuzz_path(path[k], sizeof path[k], k);
        const char *parent = k + 1 < n ? strrchr(path[k + 1], '/') + 1 : NULL;
        if (sealed)
            sum = fuzz_seal(img[k], len[k], parent, sum);
        fuzz_write(path[k], img[k], len[k]);
    }
    for (int k = n; k < FUZZ_IMAGES; k++) { /* no stale parents from an earlier input */
        fuzz_path(path[0], sizeof path[0], k);
        unlink(path[0]);
    }
    fuzz_path(path[0], sizeof path[0], 0);

    struct image_header h, full;
    char err[1024] = "";
    int accepted = image_check_file(path[0], &h, err, sizeof err, 0) == 0;
    if (fuzz_verbose) /* FUZZ_VERBOSE=1: what became of each input (for seeds) */
        fprintf(stderr, "fuzz_image: %d image(s): %s\n", n, accepted ? "accepted" : err);
    if (accepted) {
        fuzz_check_loads(img[0], len[0]);
        image_check_file(path[0], &full, err, sizeof err, 1);
        int fd = open(path[0], O_RDONLY | O_CLOEXEC);
        files_check(path[0], fd, &h, err, sizeof err);
        struct chain_result c;
        int planned = fd >= 0 && chain_plan(path[0], fd, &h, 1, &c, err, sizeof err) == 0;
        if (fd >= 0)
            close(fd);
        if (fuzz_verbose)
            fprintf(stderr, "fuzz_image: chain %s (%d older images)\n", planned ? "planned" : err,
                    planned ? c.nimages : 0);
        if (planned) {
            fuzz_check_plan(img[0], &c);
            for (int i = 0; i < c.nimages; i++)
                close(c.fds[i]);
            if (c.plan_fd >= 0)
                close(c.plan_fd);
        }
    }
    for (int k = 0; k < n; k++)
        free(img[k]);
    return 0;
}
