/*
 * image_check.c — unit tests for src/common/image_check.c.
 *
 * A small writer here builds synthetic format-2 images the way
 * src/common/image.h and docs/image-format.md describe them: header,
 * page-aligned region payloads (a head — extents and block table — padded
 * to a page, then blocks of IMAGE_BLOCK_PAGES pages, raw and page-aligned
 * or one zstd frame each), region table, strings, sections, trailer.
 * They are whole images (no parent, no inherited extents).
 * Each group damages one thing and checks that image_check_file refuses
 * the image with a message naming the file and the problem, in the quick
 * check (full = 0: heads only) and the full one (full = 1: every block's
 * bytes too), or that only the full check sees damage to a block's bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#define XXH_INLINE_ALL
#include <xxhash.h>
#include <zstd.h>

#include "common/image_check.h"
#include "common/image_valid.h"
#include "unit.h"

/* One region of a synthetic image: at most two extents. */
struct img_spec {
    uint64_t start, npages;
    uint32_t kind;
    const char *path;
    uint64_t ext[2][2]; /* {first_page, npages}; npages 0 = unused */
};

/* How one region's payload is laid out, beyond the defaults (every block
 * raw, nothing after the payload). */
struct img_layout {
    const char *codecs; /* one letter a block, 'z' zstd, else raw; NULL or past its end: raw */
    uint32_t slack;     /* zero bytes left after the payload, outside it, for a test to grow into */
};

/* An image held in memory; damaged in place, then saved and checked. */
struct img {
    unsigned char *buf;
    size_t len;
};

static struct {
    char dir[256];
    char path[400];
    char err[1024];
} img_test;

static struct image_header *img_hdr(struct img *im)
{
    return (struct image_header *)im->buf;
}

/* The table and the trailer follow payloads and strings of any length, so
 * they are looked at through types that promise no alignment. */
typedef struct image_region img_region_t __attribute__((aligned(1)));
typedef struct image_trailer img_trailer_t __attribute__((aligned(1)));
typedef struct image_section img_section_t __attribute__((aligned(1)));

static img_region_t *img_region(struct img *im, uint64_t i)
{
    return (img_region_t *)(im->buf + img_hdr(im)->table_offset) + i;
}

static img_trailer_t *img_trailer(struct img *im)
{
    return (img_trailer_t *)(im->buf + im->len - sizeof(struct image_trailer));
}

static struct image_payload_head *img_head(struct img *im, uint64_t i)
{
    return (struct image_payload_head *)(im->buf + img_region(im, i)->payload_offset);
}

static struct image_extent *img_extents(struct img *im, uint64_t i)
{
    return (struct image_extent *)(img_head(im, i) + 1);
}

static struct image_block *img_blocks(struct img *im, uint64_t i)
{
    return (struct image_block *)(img_extents(im, i) + img_head(im, i)->nextents);
}

static unsigned char *img_block_bytes(struct img *im, uint64_t i, uint64_t k)
{
    return im->buf + img_region(im, i)->payload_offset + img_blocks(im, i)[k].offset;
}

static void img_put(struct img *im, uint64_t *off, const void *p, size_t n)
{
    if (*off + n > im->len) {
        im->len = (size_t)(*off + n);
        im->buf = realloc(im->buf, im->len);
    }
    memcpy(im->buf + *off, p, n);
    *off += n;
}

static void img_put_zeros(struct img *im, uint64_t *off, size_t n)
{
    static const unsigned char zero[IMAGE_PAGE];
    for (size_t c; n; n -= c) {
        c = n < sizeof zero ? n : sizeof zero;
        img_put(im, off, zero, c);
    }
}

static void img_pad(struct img *im, uint64_t *off)
{
    if (*off % IMAGE_PAGE)
        img_put_zeros(im, off, IMAGE_PAGE - *off % IMAGE_PAGE);
}

/* Table checksum as docs/image-format.md defines it: table, strings and
 * sections, contiguous. */
static void img_seal_table(struct img *im)
{
    struct image_header *h = img_hdr(im);
    img_trailer(im)->table_checksum =
        XXH64(im->buf + h->table_offset, h->strings_size + h->sections_size + h->nregions * sizeof(struct image_region), 0);
}

static void img_seal_header(struct img *im)
{
    struct image_header *h = img_hdr(im);
    h->header_checksum = 0;
    h->header_checksum = XXH64(h, sizeof *h, 0);
    img_trailer(im)->header_checksum = h->header_checksum;
}

static void img_seal(struct img *im)
{
    img_seal_table(im);
    img_seal_header(im);
}

/* Bytes of a payload's head, padding left out: the head struct, the
 * extents, the block table (worked out here, not taken from image.h, so the
 * checker's own sum is checked against the format).  These images have no
 * parent, so no inherited extents. */
static uint64_t img_head_len(uint64_t nextents, uint64_t nblocks)
{
    return sizeof(struct image_payload_head) + nextents * sizeof(struct image_extent) +
           nblocks * sizeof(struct image_block);
}

/* Region i's checksum: XXH64 of its payload's head.  The table holds it,
 * so img_seal_table must follow. */
static void img_seal_head(struct img *im, uint64_t i)
{
    struct image_payload_head *ph = img_head(im, i);
    img_region(im, i)->checksum = XXH64(ph, img_head_len(ph->nextents, ph->nblocks), 0);
}

/* Block k of region i: XXH3-64 of its stored bytes.  The head holds it, so
 * img_seal_head must follow. */
static void img_seal_block(struct img *im, uint64_t i, uint64_t k)
{
    struct image_block *b = &img_blocks(im, i)[k];
    b->checksum = XXH3_64bits(img_block_bytes(im, i, k), b->stored_len);
}

/* Block k of region i moved to `offset` in its payload, bytes and all (the
 * bytes may be overwritten in place; its checksum is taken again). */
static void img_move_block(struct img *im, uint64_t i, uint64_t k, uint64_t offset)
{
    struct image_block *b = &img_blocks(im, i)[k];
    unsigned char *from = img_block_bytes(im, i, k);
    b->offset = offset;
    memmove(img_block_bytes(im, i, k), from, b->stored_len);
    img_seal_block(im, i, k);
}

/* The pages of region i, as img_build fills them: each names itself. */
static void img_fill_page(unsigned char *page, size_t i, uint64_t p)
{
    memset(page, (int)(i * 16 + p + 1), IMAGE_PAGE);
    snprintf((char *)page, 64, "region %zu page %llu", i, (unsigned long long)p);
}

/* Region r's payload at *off (page-aligned): head, padding, blocks, as
 * src/engine/image_write.c lays them out; then the layout's slack. */
static void img_build_payload(struct img *im, uint64_t *off, struct image_region *r, size_t i,
                              const struct img_spec *s, const struct img_layout *lay)
{
    uint64_t next = 0, stored = 0;
    while (next < 2 && s->ext[next][1])
        stored += s->ext[next++][1];
    if (!next)
        return;
    uint64_t nblocks = (stored + IMAGE_BLOCK_PAGES - 1) / IMAGE_BLOCK_PAGES;
    uint64_t hb = img_head_len(next, nblocks);
    unsigned char *head = calloc(1, hb);
    struct image_payload_head ph = { .nextents = next, .nblocks = nblocks };
    memcpy(head, &ph, sizeof ph);
    struct image_extent *x = (struct image_extent *)(head + sizeof ph);
    for (uint64_t e = 0; e < next; e++)
        x[e] = (struct image_extent){ s->ext[e][0], s->ext[e][1] };
    struct image_block *blocks = (struct image_block *)(x + next);

    img_pad(im, off);
    r->payload_offset = *off;
    img_put_zeros(im, off, hb); /* the head goes in once the blocks are placed */
    img_pad(im, off);
    size_t cap = ZSTD_compressBound((size_t)IMAGE_BLOCK_PAGES * IMAGE_PAGE);
    unsigned char *raw = malloc((size_t)IMAGE_BLOCK_PAGES * IMAGE_PAGE), *z = malloc(cap);
    for (uint64_t k = 0; k < nblocks; k++) {
        uint64_t first = k * IMAGE_BLOCK_PAGES;
        uint64_t pages = stored - first < IMAGE_BLOCK_PAGES ? stored - first : IMAGE_BLOCK_PAGES;
        for (uint64_t p = 0; p < pages; p++)
            img_fill_page(raw + p * IMAGE_PAGE, i, first + p);
        struct image_block *b = &blocks[k];
        b->raw_len = (uint32_t)(pages * IMAGE_PAGE);
        int zstd = lay && lay->codecs && k < strlen(lay->codecs) && lay->codecs[k] == 'z';
        size_t c = zstd ? ZSTD_compress(z, cap, raw, b->raw_len, 3) : 0;
        if (zstd && !ZSTD_isError(c)) {
            b->codec = CODEC_ZSTD;
            b->stored_len = (uint32_t)c;
            b->offset = *off - r->payload_offset;
            b->checksum = XXH3_64bits(z, c);
            img_put(im, off, z, c);
        } else { /* raw, or a zstd failure the good-image tests will report */
            img_pad(im, off);
            b->codec = CODEC_RAW;
            b->stored_len = b->raw_len;
            b->offset = *off - r->payload_offset;
            b->checksum = XXH3_64bits(raw, b->raw_len);
            img_put(im, off, raw, b->raw_len);
        }
    }
    memcpy(im->buf + r->payload_offset, head, hb);
    r->payload_size = *off - r->payload_offset;
    r->stored_pages = stored;
    r->checksum = XXH64(head, hb, 0);
    if (lay)
        img_put_zeros(im, off, lay->slack);
    free(raw);
    free(z);
    free(head);
}

/* Writes an image of these regions (and one plugin section when sec); lay,
 * when not NULL, holds one layout a region. */
/* The engine's code, for images whose regions have no private file
 * mapping to hold the restore entry: one page, high above the others. */
static const struct img_spec img_code = { 0x7e0000000000ull, 1, REGION_FILE_PRIVATE, "/usr/lib/libengine.so",
                                          { { 0, 0 } } };

static struct img img_build_laid(const struct img_spec *spec, size_t nspec, const char *sec,
                                 const struct img_layout *lay)
{
    struct img im = { .buf = calloc(1, IMAGE_HEADER_SIZE), .len = IMAGE_HEADER_SIZE };
    uint64_t off = IMAGE_HEADER_SIZE, memory = 0;
    struct image_region table[8];
    char strings[512];
    size_t slen = 0;
    /* The restore entry lies in executable code from a file: the first
     * private file mapping, or img_code added last. */
    struct img_spec rs[8];
    size_t nr = nspec, code = nspec;
    memcpy(rs, spec, nspec * sizeof *spec);
    for (size_t i = nspec; i-- > 0;)
        if (rs[i].kind == REGION_FILE_PRIVATE)
            code = i;
    if (code == nspec)
        rs[nr++] = img_code;
    for (size_t i = 0; i < nr; i++) {
        struct image_region *r = &table[i];
        memset(r, 0, sizeof *r);
        r->start = rs[i].start;
        r->end = rs[i].start + rs[i].npages * IMAGE_PAGE;
        r->prot = rs[i].kind == REGION_RESERVED ? 0 : i == code ? 5 : 3;
        r->kind = rs[i].kind;
        if (rs[i].path) {
            r->path_offset = slen;
            r->path_len = (uint32_t)strlen(rs[i].path);
            memcpy(strings + slen, rs[i].path, r->path_len + 1);
            slen += r->path_len + 1;
        }
        img_build_payload(&im, &off, r, i, &rs[i], lay && i < nspec ? &lay[i] : NULL);
        memory += r->stored_pages * IMAGE_PAGE;
    }
    uint64_t table_offset = off;
    img_put(&im, &off, table, nr * sizeof table[0]);
    uint64_t strings_offset = off;
    img_put(&im, &off, strings, slen);
    uint64_t sections_offset = off;
    if (sec) {
        struct image_section s;
        memset(&s, 0, sizeof s);
        snprintf(s.name, sizeof s.name, "test-plugin");
        s.size = strlen(sec);
        s.checksum = XXH64(sec, s.size, 0);
        img_put(&im, &off, &s, sizeof s);
        img_put(&im, &off, sec, s.size);
    }
    uint64_t sections_size = off - sections_offset;
    struct image_trailer t;
    memset(&t, 0, sizeof t);
    memcpy(t.magic, IMAGE_TRAILER_MAGIC, 8);
    t.file_size = off + sizeof t;
    img_put(&im, &off, &t, sizeof t);

    struct image_header *h = img_hdr(&im);
    memcpy(h->magic, IMAGE_MAGIC, 8);
    h->version = IMAGE_VERSION;
    h->header_size = IMAGE_HEADER_SIZE;
    h->arch = IMAGE_ARCH_X86_64;
    h->page_size = IMAGE_PAGE;
    h->uid = getuid();
    h->nthreads = 1;
    h->created_ns = 1700000000000000000ull;
    h->comp_id = 0x1234;
    h->generation = 1;
    h->restore_entry = rs[code].start + 0x100;
    h->nregions = nr;
    h->table_offset = table_offset;
    h->strings_offset = strings_offset;
    h->strings_size = slen;
    h->sections_offset = sections_offset;
    h->sections_size = sections_size;
    h->file_size = off;
    h->memory_bytes = memory;
    h->vpid = h->real_pid = 4242;
    snprintf(h->program, sizeof h->program, "unit");
    snprintf(h->host, sizeof h->host, "testhost");
    img_seal(&im);
    return im;
}

static struct img img_build(const struct img_spec *rs, size_t nr, const char *sec)
{
    return img_build_laid(rs, nr, sec, NULL);
}

/* Anonymous private with two extents, a private file mapping with one, a
 * reserved range, and a shared file mapping (no payload); one raw block
 * each. */
static const struct img_spec img_default[] = {
    { 0x10000000, 4, REGION_ANON_PRIVATE, NULL, { { 0, 1 }, { 2, 2 } } },
    { 0x20000000, 2, REGION_FILE_PRIVATE, "/usr/lib/libfoo.so", { { 1, 1 } } },
    { 0x30000000, 16, REGION_RESERVED, NULL, { { 0, 0 } } },
    { 0x40000000, 2, REGION_FILE_SHARED, "/data/shared.bin", { { 0, 0 } } },
};
#define IMG_DEFAULT img_build(img_default, 4, NULL)

/* Regions of several blocks:
 *   0  300 pages stored in two extents: a zstd block of 256 pages, then a
 *      raw one of 44 (page-aligned, after a gap); 3 pages of slack;
 *   1  300 pages in one extent: two zstd blocks packed one after the other;
 *      192 KiB of slack (room for a block as large as zstd's bound);
 *   2  one page, zstd, two pages of slack;
 *   3  one raw page, the last payload: the region table follows it. */
static const struct img_spec img_blocks_spec[] = {
    { 0x10000000, 400, REGION_ANON_PRIVATE, NULL, { { 0, 100 }, { 150, 200 } } },
    { 0x20000000, 300, REGION_ANON_SHARED, NULL, { { 0, 300 } } },
    { 0x30000000, 4, REGION_ANON_PRIVATE, NULL, { { 3, 1 } } },
    { 0x40000000, 2, REGION_FILE_PRIVATE, "/usr/lib/libfoo.so", { { 1, 1 } } },
};
static const struct img_layout img_blocks_layout[] = {
    { "zr", 3 * IMAGE_PAGE },
    { "zz", 192 << 10 },
    { "z", 2 * IMAGE_PAGE },
    { "r", 0 },
};
_Static_assert(ZSTD_COMPRESSBOUND(44 * IMAGE_PAGE) < (192 << 10) && ZSTD_COMPRESSBOUND(IMAGE_PAGE) < 2 * IMAGE_PAGE,
               "the blocks image's slack holds a block as large as zstd's bound");
#define IMG_BLOCKS img_build_laid(img_blocks_spec, 4, NULL, img_blocks_layout)
#define IMG_BLOCKS_R0 "10000000-10190000" /* region 0's range, as messages name it */
#define IMG_BLOCKS_R1 "20000000-2012c000"

/* Saves the first `len` bytes (all when 0) and checks the file, quick
 * (full 0) or full; returns image_check_file's result, the message in
 * img_test.err. */
static int img_check_len(struct img *im, size_t len, int full, struct image_header *out)
{
    struct image_header h;
    int fd = open(img_test.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, im->buf, len ? len : im->len) != (ssize_t)(len ? len : im->len) || close(fd) < 0) {
        snprintf(img_test.err, sizeof img_test.err, "test: cannot write %s", img_test.path);
        return -99;
    }
    img_test.err[0] = 0;
    return image_check_file(img_test.path, out ? out : &h, img_test.err, sizeof img_test.err, full);
}

static int img_check(struct img *im, int full)
{
    return img_check_len(im, 0, full, NULL);
}

static const char *img_mode(int full)
{
    return full ? "full check" : "quick check";
}

/* Refused by the check `full` names, with a message that names the file
 * and contains `word`. */
#define REFUSED_BY(im, full, word, what)                                                                  \
    do {                                                                                                  \
        int rc_ = img_check(im, full);                                                                    \
        CHECKF(rc_ == -1, "%s: image accepted by the %s (rc %d)", what, img_mode(full), rc_);             \
        CHECKF(rc_ != -1 || (strncmp(img_test.err, img_test.path, strlen(img_test.path)) == 0 &&         \
                             strcasestr(img_test.err, word)),                                             \
               "%s: %s: message lacks '%s' or the path: %s", what, img_mode(full), word, img_test.err);  \
    } while (0)

/* Refused by both checks. */
#define REFUSED(im, word, what)                \
    do {                                       \
        REFUSED_BY(im, 0, word, what);         \
        REFUSED_BY(im, 1, word, what);         \
    } while (0)

/* Accepted by the check `full` names. */
#define ACCEPTED_BY(im, full, what)                                                                       \
    do {                                                                                                  \
        int rc_ = img_check(im, full);                                                                    \
        CHECKF(rc_ == 0, "%s: refused by the %s (rc %d): %s", what, img_mode(full), rc_, img_test.err);  \
    } while (0)

#define ACCEPTED(im, what)             \
    do {                               \
        ACCEPTED_BY(im, 0, what);      \
        ACCEPTED_BY(im, 1, what);      \
    } while (0)

static void img_free(struct img *im)
{
    free(im->buf);
    im->buf = NULL;
}

/* ---- groups --------------------------------------------------------------- */

static void test_good(void)
{
    CHECK(sizeof(struct image_trailer) == 64);
    CHECK(sizeof(struct image_header) <= IMAGE_HEADER_SIZE);
    struct img im = IMG_DEFAULT;
    for (int full = 0; full <= 1; full++) {
        struct image_header h;
        memset(&h, 0, sizeof h);
        int rc = img_check_len(&im, 0, full, &h);
        CHECKF(rc == 0, "good image refused by the %s: %s", img_mode(full), img_test.err);
        CHECKF(h.nregions == 4 && h.generation == 1 && h.vpid == 4242 && strcmp(h.program, "unit") == 0,
               "%s: header not returned", img_mode(full));
    }
    img_free(&im);

    /* no regions with payload at all */
    im = img_build(img_default + 2, 2, NULL);
    ACCEPTED(&im, "image without payloads");
    img_free(&im);

    /* regions right next to the helper's ranges (the work areas lie right
     * below the program: one zone from WORK_START to TEXT_END) */
    _Static_assert(IMAGE_HELPER_WORK_END == IMAGE_HELPER_TEXT_START, "helper ranges are adjacent");
    const struct img_spec near[] = {
        { IMAGE_HELPER_WORK_START - IMAGE_PAGE, 1, REGION_ANON_PRIVATE, NULL, { { 0, 1 } } },
        { IMAGE_HELPER_TEXT_END, 1, REGION_ANON_PRIVATE, NULL, { { 0, 1 } } },
        { IMAGE_HELPER_TEXT_END + IMAGE_PAGE, 1, REGION_RESERVED, NULL, { { 0, 0 } } },
    };
    im = img_build(near, 3, NULL);
    ACCEPTED(&im, "regions adjacent to the helper's ranges");
    img_free(&im);
}

/* Blocks of both codecs, several to a region, the last one short; the
 * zstd blocks real frames that give back the region's pages. */
static void test_good_blocks(void)
{
    struct img im = IMG_BLOCKS;
    ACCEPTED(&im, "image of raw and zstd blocks");
    /* the image is what its spec says, so the groups below damage what
     * they mean to */
    struct image_block *b0 = img_blocks(&im, 0), *b1 = img_blocks(&im, 1);
    CHECKF(img_head(&im, 0)->nblocks == 2 && b0[0].codec == CODEC_ZSTD && b0[1].codec == CODEC_RAW &&
               b0[0].raw_len == IMAGE_BLOCK_PAGES * IMAGE_PAGE && b0[1].raw_len == 44 * IMAGE_PAGE,
           "region 0: blocks not zstd 256 pages + raw 44 pages");
    CHECKF(b0[0].offset == IMAGE_PAGE && b0[1].offset % IMAGE_PAGE == 0 &&
               b0[1].offset >= b0[0].offset + b0[0].stored_len + 8,
           "region 0: zstd block not right after the head, or raw block not page-aligned after a gap of 8 bytes or more");
    CHECKF(img_head(&im, 1)->nblocks == 2 && b1[0].codec == CODEC_ZSTD && b1[1].codec == CODEC_ZSTD &&
               b1[1].offset == b1[0].offset + b1[0].stored_len &&
               img_region(&im, 1)->payload_size == b1[1].offset + b1[1].stored_len,
           "region 1: zstd blocks not packed, or payload not ending at the last");
    CHECKF(img_blocks(&im, 3)[0].codec == CODEC_RAW &&
               img_region(&im, 3)->payload_offset + img_region(&im, 3)->payload_size == img_hdr(&im)->table_offset,
           "region 3: not a raw payload right before the table");

    /* the first zstd block decompresses to region 0's first 256 pages */
    size_t raw_len = (size_t)IMAGE_BLOCK_PAGES * IMAGE_PAGE;
    unsigned char *out = malloc(raw_len), page[IMAGE_PAGE];
    size_t n = ZSTD_decompress(out, raw_len, img_block_bytes(&im, 0, 0), b0[0].stored_len);
    CHECKF(!ZSTD_isError(n) && n == raw_len, "region 0 block 0: not a zstd frame of %zu bytes (%zu)", raw_len, n);
    int same = !ZSTD_isError(n) && n == raw_len;
    for (uint64_t p = 0; same && p < IMAGE_BLOCK_PAGES; p++) {
        img_fill_page(page, 0, p);
        same = memcmp(out + p * IMAGE_PAGE, page, IMAGE_PAGE) == 0;
    }
    CHECKF(same, "region 0 block 0 does not hold the region's pages");
    CHECKF(b0[0].stored_len < raw_len / 16, "region 0 block 0 barely compressed: %u bytes",
           (unsigned)b0[0].stored_len);
    free(out);
    img_free(&im);

    /* a region of exactly one full block, and one just past it */
    const struct img_spec s[2] = {
        { 0x10000000, 256, REGION_ANON_PRIVATE, NULL, { { 0, 256 } } },
        { 0x20000000, 300, REGION_ANON_PRIVATE, NULL, { { 0, 1 }, { 43, 257 } } },
    };
    const struct img_layout l[2] = { { "z", 0 }, { "rz", 0 } };
    im = img_build_laid(s, 2, NULL, l);
    CHECK(img_head(&im, 0)->nblocks == 1 && img_head(&im, 1)->nblocks == 2 &&
          img_blocks(&im, 1)[1].raw_len == 2 * IMAGE_PAGE);
    ACCEPTED(&im, "regions of 256 pages (one block) and 258 pages (256 + 2)");
    img_free(&im);
}

/* docs/image-format.md and image.h: the trailer's table checksum covers the
 * table, the strings and the sections. */
static void test_good_with_section(void)
{
    struct img im = img_build(img_default, 4, "plugin state: 42 open files");
    for (int full = 0; full <= 1; full++) {
        int rc = img_check(&im, full);
        CHECKF(rc == 0, "image with a plugin section, table checksum over table+strings+sections as "
                        "docs/image-format.md says, refused by the %s: %s", img_mode(full), img_test.err);
    }
    img_free(&im);
}

static void test_bad_magic(void)
{
    struct img im = IMG_DEFAULT;
    memcpy(img_hdr(&im)->magic, "\x7f" "ELF\2\1\1\0", 8);
    img_seal(&im);
    REFUSED(&im, "magic", "ELF magic");
    img_free(&im);
    im = IMG_DEFAULT;
    img_hdr(&im)->magic[7] = 2;
    REFUSED(&im, "magic", "magic STASIS\\0\\2");
    img_free(&im);
}

static void test_newer_version(void)
{
    struct img im = IMG_DEFAULT;
    img_hdr(&im)->version = IMAGE_VERSION + 1;
    img_seal(&im);
    REFUSED(&im, "newer", "next format version, sealed");
    img_free(&im);
    im = IMG_DEFAULT;
    img_hdr(&im)->version = IMAGE_VERSION + 1;
    REFUSED(&im, "newer", "next format version, old checksum");
    img_free(&im);
}

/* A format-1 header: its payloads are laid out differently, so even an
 * image whose body would pass for format 2 (no payloads here) is refused. */
static void test_older_version(void)
{
    struct img im = img_build(img_default + 2, 2, NULL);
    img_hdr(&im)->version = 1;
    img_seal(&im);
    REFUSED(&im, "older", "format 1, no payloads");
    CHECKF(!strcasestr(img_test.err, "newer"), "format 1 called newer: %s", img_test.err);
    img_free(&im);
    im = IMG_DEFAULT;
    img_hdr(&im)->version = 1;
    img_seal(&im);
    REFUSED(&im, "older", "format 1");
    img_free(&im);
}
static void test_garbage_version(void)
{
    struct img im = IMG_DEFAULT;
    img_hdr(&im)->version = 0xdeadbeef;
    REFUSED(&im, "corrupt", "version 0xdeadbeef, checksum broken");
    CHECKF(!strcasestr(img_test.err, "newer"), "garbage version called newer: %s", img_test.err);
    img_free(&im);
    im = IMG_DEFAULT;
    img_hdr(&im)->version = 0;
    img_seal(&im);
    REFUSED(&im, "corrupt", "version 0, sealed");
    img_free(&im);
}

static void test_header_checksum(void)
{
    struct img im = IMG_DEFAULT;
    img_hdr(&im)->program[1] ^= 1;
    REFUSED(&im, "checksum", "program name changed");
    REFUSED(&im, "corrupt", "program name changed");
    img_free(&im);
    im = IMG_DEFAULT;
    img_hdr(&im)->header_checksum ^= 1;
    img_trailer(&im)->header_checksum ^= 1;
    REFUSED(&im, "checksum", "header checksum changed in header and trailer");
    img_free(&im);
}

static void test_other_arch(void)
{
    struct img im = IMG_DEFAULT;
    img_hdr(&im)->arch = 183; /* EM_AARCH64 */
    img_seal(&im);
    REFUSED(&im, "architecture", "arch 183");
    img_free(&im);
}

static void test_other_page_size(void)
{
    struct img im = IMG_DEFAULT;
    img_hdr(&im)->page_size = 65536;
    img_seal(&im);
    REFUSED(&im, "page size", "page size 65536");
    img_free(&im);
}

static void test_other_uid(void)
{
    struct img im = IMG_DEFAULT;
    img_hdr(&im)->uid = getuid() + 1;
    img_seal(&im);
    REFUSED(&im, "user", "uid + 1");
    char want[32];
    snprintf(want, sizeof want, "user %u", getuid() + 1);
    CHECKF(strstr(img_test.err, want) != NULL, "owner not named: %s", img_test.err);
    img_free(&im);
}

static void test_truncated(void)
{
    struct img im = IMG_DEFAULT;
    const size_t cuts[] = { im.len - 1, im.len - sizeof(struct image_trailer), img_hdr(&im)->table_offset,
                            IMAGE_HEADER_SIZE + 100, IMAGE_HEADER_SIZE };
    const size_t tiny[] = { 1, 100, sizeof(struct image_header) - 1 };
    for (int full = 0; full <= 1; full++) {
        for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
            int rc = img_check_len(&im, cuts[i], full, NULL);
            CHECKF(rc == -1 && strcasestr(img_test.err, "truncated"), "%s: cut to %zu of %zu bytes: rc %d, %s",
                   img_mode(full), cuts[i], im.len, rc, img_test.err);
        }
        for (size_t i = 0; i < sizeof tiny / sizeof tiny[0]; i++) {
            int rc = img_check_len(&im, tiny[i], full, NULL);
            CHECKF(rc == -1 && (strcasestr(img_test.err, "truncated") || strcasestr(img_test.err, "short")),
                   "%s: cut to %zu bytes: rc %d, %s", img_mode(full), tiny[i], rc, img_test.err);
        }
    }
    img_free(&im);
}

static void test_extra_bytes(void)
{
    struct img im = IMG_DEFAULT;
    size_t n = im.len;
    im.buf = realloc(im.buf, n + 4096);
    memset(im.buf + n, 0, 4096);
    im.len = n + 1;
    REFUSED(&im, "altered", "one byte appended");
    im.len = n + 4096;
    REFUSED(&im, "altered", "a page appended");
    img_free(&im);
}

static void test_trailer(void)
{
    struct img im = IMG_DEFAULT;
    img_trailer(&im)->magic[0] = 'X';
    REFUSED(&im, "trailer", "trailer magic");
    img_free(&im);

    im = IMG_DEFAULT;
    memset(img_trailer(&im), 0, sizeof(struct image_trailer));
    REFUSED(&im, "trailer", "trailer zeroed (never written)");
    img_free(&im);

    im = IMG_DEFAULT;
    img_trailer(&im)->file_size += 4096;
    REFUSED(&im, "trailer", "trailer file size");
    img_free(&im);

    im = IMG_DEFAULT;
    img_trailer(&im)->header_checksum ^= 0x100;
    REFUSED(&im, "trailer", "trailer's copy of the header checksum");
    img_free(&im);
}

static void test_table_checksum(void)
{
    struct img im = IMG_DEFAULT;
    img_region(&im, 2)->prot = 7;
    REFUSED(&im, "table checksum", "region table changed");
    img_free(&im);

    im = IMG_DEFAULT;
    im.buf[img_hdr(&im)->strings_offset + 5] ^= 1;
    REFUSED(&im, "table checksum", "strings changed");
    img_free(&im);

    im = IMG_DEFAULT;
    img_trailer(&im)->table_checksum ^= 1;
    REFUSED(&im, "table checksum", "trailer's table checksum changed");
    img_free(&im);
}

/* Damage to a block's bytes: the quick check leaves the blocks to the
 * restart helper and accepts; the full check refuses, naming the region. */
#define BLOCK_DAMAGED(im, word, what)           \
    do {                                        \
        ACCEPTED_BY(im, 0, what);               \
        REFUSED_BY(im, 1, word, what);          \
    } while (0)

static void test_payload_checksum(void)
{
    struct img im = IMG_DEFAULT;
    img_region_t *r = img_region(&im, 0);
    im.buf[r->payload_offset + r->payload_size - 1] ^= 1;
    BLOCK_DAMAGED(&im, "checksum mismatch in memory region 10000000-10004000", "last byte of region 0's pages");
    img_free(&im);

    im = IMG_DEFAULT;
    r = img_region(&im, 1);
    im.buf[r->payload_offset + sizeof(struct image_payload_head)] ^= 1; /* the extent list */
    REFUSED(&im, "checksum mismatch", "region 1's extent list");
    REFUSED(&im, "20000000-20002000", "region 1's extent list");
    img_free(&im);

    im = IMG_DEFAULT;
    img_region(&im, 0)->checksum ^= 1;
    img_seal_table(&im);
    REFUSED(&im, "checksum mismatch", "region 0's recorded checksum");
    img_free(&im);
}

/* Every block is checked on its own, whatever its codec and place. */
static void test_block_checksum(void)
{
    const char *r0 = "checksum mismatch in memory region " IMG_BLOCKS_R0;
    const char *r1 = "checksum mismatch in memory region " IMG_BLOCKS_R1;
    struct img im = IMG_BLOCKS;
    img_block_bytes(&im, 0, 0)[img_blocks(&im, 0)[0].stored_len / 2] ^= 0x40;
    BLOCK_DAMAGED(&im, r0, "middle byte of region 0's zstd block");
    img_free(&im);

    im = IMG_BLOCKS;
    img_block_bytes(&im, 0, 1)[0] ^= 1;
    BLOCK_DAMAGED(&im, r0, "first byte of region 0's raw block (its second block)");
    img_free(&im);

    im = IMG_BLOCKS;
    img_block_bytes(&im, 1, 1)[img_blocks(&im, 1)[1].stored_len - 1] ^= 1;
    BLOCK_DAMAGED(&im, r1, "last byte of region 1's second zstd block (the payload's last byte)");
    img_free(&im);

    im = IMG_BLOCKS;
    img_block_bytes(&im, 2, 0)[0] ^= 1;
    BLOCK_DAMAGED(&im, "checksum mismatch in memory region 30000000-30004000", "region 2's one-page zstd block");
    img_free(&im);

    /* the block table's checksum changed and the head resealed, as if the
     * bytes had been damaged before they were checksummed */
    im = IMG_BLOCKS;
    img_blocks(&im, 1)[0].checksum ^= 1;
    img_seal_head(&im, 1);
    img_seal_table(&im);
    BLOCK_DAMAGED(&im, r1, "region 1 block 0's recorded checksum, head resealed");
    img_free(&im);

    /* two damaged blocks in two regions: the first is named */
    im = IMG_BLOCKS;
    img_block_bytes(&im, 0, 1)[5] ^= 1;
    img_block_bytes(&im, 1, 0)[5] ^= 1;
    BLOCK_DAMAGED(&im, r0, "blocks of regions 0 and 1");
    img_free(&im);
}

/* The head steers every write the restart helper makes: damage to any of
 * it is refused by the quick check too. */
static void test_head_checksum(void)
{
    const char *r0 = "checksum mismatch in memory region " IMG_BLOCKS_R0;
    const char *r1 = "checksum mismatch in memory region " IMG_BLOCKS_R1;
    struct img im = IMG_BLOCKS;
    img_extents(&im, 0)[1].first_page ^= 1;
    REFUSED(&im, r0, "region 0's second extent");
    img_free(&im);

    im = IMG_BLOCKS;
    ((unsigned char *)&img_blocks(&im, 0)[1].offset)[1] ^= 1; /* +256 bytes */
    REFUSED(&im, r0, "region 0's raw block offset");
    img_free(&im);

    im = IMG_BLOCKS;
    ((unsigned char *)&img_blocks(&im, 1)[0].checksum)[7] ^= 0x80;
    REFUSED(&im, r1, "region 1 block 0's checksum in the block table");
    img_free(&im);

    im = IMG_BLOCKS;
    img_blocks(&im, 1)[1].codec ^= 1; /* zstd to raw */
    REFUSED(&im, r1, "region 1 block 1's codec");
    img_free(&im);

    im = IMG_BLOCKS;
    img_blocks(&im, 1)[1].reserved ^= 1;
    REFUSED(&im, r1, "reserved field of region 1's last block entry");
    img_free(&im);

    /* a block table entry whose bytes were changed along with their
     * checksum (the engine's checksum is of the head, not only the blocks) */
    im = IMG_BLOCKS;
    img_block_bytes(&im, 1, 0)[0] ^= 1;
    img_seal_block(&im, 1, 0);
    REFUSED(&im, r1, "region 1 block 0 and its checksum in the table changed, head not resealed");
    img_free(&im);
}

/* The blocks image with `edit` made to region i (r; b is its block table,
 * all blocks stored for a block moved, its bytes taken with it), then the
 * head and table resealed, so nothing but the edit is wrong: refused by
 * both checks as a malformed page list of region i. */
#define BLOCKS_MALFORMED(i, edit, what)                                       \
    do {                                                                      \
        struct img im = IMG_BLOCKS;                                           \
        img_region_t *r = img_region(&im, (i));                               \
        struct image_block *b = img_blocks(&im, (i));                         \
        (void)r;                                                              \
        (void)b;                                                              \
        edit;                                                                 \
        img_seal_head(&im, (i));                                              \
        img_seal_table(&im);                                                  \
        REFUSED(&im, "region " #i " has a malformed page list", what);        \
        img_free(&im);                                                        \
    } while (0)

/* The same edit, expected to be accepted: shows the edit next to it is
 * refused for the one thing it changes. */
#define BLOCKS_ACCEPTED(i, edit, what)                                        \
    do {                                                                      \
        struct img im = IMG_BLOCKS;                                           \
        img_region_t *r = img_region(&im, (i));                               \
        struct image_block *b = img_blocks(&im, (i));                         \
        (void)r;                                                              \
        (void)b;                                                              \
        edit;                                                                 \
        img_seal_head(&im, (i));                                              \
        img_seal_table(&im);                                                  \
        ACCEPTED(&im, what);                                                  \
        img_free(&im);                                                        \
    } while (0)

/* Region i's first two blocks stored the other way round, the table
 * following them: the second block's bytes come first. */
static void img_swap_blocks(struct img *im, uint64_t i)
{
    struct image_block *b = img_blocks(im, i);
    uint32_t c0 = b[0].stored_len, c1 = b[1].stored_len;
    unsigned char *first = img_block_bytes(im, i, 0), *tmp = malloc(c0);
    memcpy(tmp, first, c0);
    memmove(first, img_block_bytes(im, i, 1), c1);
    memcpy(first + c1, tmp, c0);
    free(tmp);
    b[1].offset = b[0].offset;
    b[0].offset += c1;
}

/* Raw blocks are mapped or read straight into place: page-aligned, and
 * exactly their pages long. */
static void test_block_raw(void)
{
    /* region 0's raw block moved 8 bytes on into the slack, payload grown
     * with it */
    BLOCKS_MALFORMED(0, (img_move_block(&im, 0, 1, b[1].offset + 8), r->payload_size += 8),
                     "raw block 8 bytes past a page boundary");
    BLOCKS_MALFORMED(0, (img_move_block(&im, 0, 1, b[1].offset + IMAGE_PAGE / 2), r->payload_size += IMAGE_PAGE / 2),
                     "raw block half a page past a page boundary");
    /* ... and 8 bytes back into the gap after the zstd block */
    BLOCKS_MALFORMED(0, (img_move_block(&im, 0, 1, b[1].offset - 8), r->payload_size -= 8),
                     "raw block 8 bytes before a page boundary");
    /* the same moves by a whole page are fine */
    BLOCKS_ACCEPTED(0, (img_move_block(&im, 0, 1, b[1].offset + IMAGE_PAGE), r->payload_size += IMAGE_PAGE),
                    "raw block moved a page on");

    BLOCKS_MALFORMED(0, (b[1].stored_len -= IMAGE_PAGE, r->payload_size -= IMAGE_PAGE, img_seal_block(&im, 0, 1)),
                     "raw block storing a page less than its raw_len");
    BLOCKS_MALFORMED(0, (b[1].stored_len += IMAGE_PAGE, r->payload_size += IMAGE_PAGE, img_seal_block(&im, 0, 1)),
                     "raw block storing a page more than its raw_len");
    BLOCKS_MALFORMED(0, (b[1].stored_len -= 1, r->payload_size -= 1, img_seal_block(&im, 0, 1)),
                     "raw block storing a byte less than its raw_len");
}

/* Block k holds pages k * 256 … of the stored pages: 256 of them, or the
 * rest for the last block. */
static void test_block_raw_len(void)
{
    BLOCKS_MALFORMED(1, b[0].raw_len -= IMAGE_PAGE, "first zstd block of 255 pages");
    BLOCKS_MALFORMED(1, b[0].raw_len += IMAGE_PAGE, "first zstd block of 257 pages");
    BLOCKS_MALFORMED(1, b[0].raw_len -= 1, "first zstd block a byte short of 256 pages");
    BLOCKS_MALFORMED(1, b[1].raw_len += IMAGE_PAGE, "last zstd block of 45 pages where 44 are left");
    BLOCKS_MALFORMED(1, b[1].raw_len -= IMAGE_PAGE, "last zstd block of 43 pages where 44 are left");
    BLOCKS_MALFORMED(1, b[1].raw_len = IMAGE_BLOCK_PAGES * IMAGE_PAGE, "last zstd block of 256 pages where 44 are left");
    BLOCKS_MALFORMED(2, b[0].raw_len = 0, "zstd block of 0 pages where 1 is stored");
    /* a raw block one page longer, the page stored */
    BLOCKS_MALFORMED(0,
                     (b[1].raw_len += IMAGE_PAGE, b[1].stored_len += IMAGE_PAGE, r->payload_size += IMAGE_PAGE,
                      img_seal_block(&im, 0, 1)),
                     "last raw block of 45 pages where 44 are left");
    BLOCKS_MALFORMED(0,
                     (b[1].raw_len -= IMAGE_PAGE, b[1].stored_len -= IMAGE_PAGE, r->payload_size -= IMAGE_PAGE,
                      img_seal_block(&im, 0, 1)),
                     "last raw block of 43 pages where 44 are left");
}

/* Blocks lie after the head, in order, apart, and inside the payload,
 * which ends where the last one does. */
static void test_block_places(void)
{
    /* region 1's two zstd blocks stored the other way round */
    BLOCKS_MALFORMED(1, img_swap_blocks(&im, 1), "blocks out of order");
    BLOCKS_MALFORMED(1, (b[1].offset -= 1, r->payload_size -= 1, img_seal_block(&im, 1, 1)),
                     "second zstd block overlapping the first by a byte");
    BLOCKS_MALFORMED(1, (b[1].offset = b[0].offset, img_seal_block(&im, 1, 1)), "both blocks at the same offset");
    /* the raw block a page back, over the end of the zstd block */
    BLOCKS_MALFORMED(0, (b[1].offset -= IMAGE_PAGE, r->payload_size -= IMAGE_PAGE, img_seal_block(&im, 0, 1)),
                     "raw block overlapping the zstd block before it");
    /* the first block moved back into the head's page */
    BLOCKS_MALFORMED(1, img_move_block(&im, 1, 0, b[0].offset - 8), "first block 8 bytes into the head's padding");
    BLOCKS_MALFORMED(1, (b[0].offset = 0, img_seal_block(&im, 1, 0)), "first block over the head");
    BLOCKS_MALFORMED(3, (b[0].offset = 0, img_seal_block(&im, 3, 0)), "raw block over the head");
    /* a block gap is fine: region 0's raw block a page on shows it above */

    /* running past the payload */
    BLOCKS_MALFORMED(1, (b[1].stored_len += 1, img_seal_block(&im, 1, 1)), "last block one byte past payload_size");
    BLOCKS_MALFORMED(2, (r->payload_size -= 1), "payload_size one byte short of the last block");
    BLOCKS_MALFORMED(1, b[1].stored_len = UINT32_MAX, "last block 4 GiB long, past the end of the file");
    BLOCKS_MALFORMED(1, (b[0].stored_len = (uint32_t)(r->payload_size - b[0].offset + 1)),
                     "first block running past payload_size (and over the second)");
    BLOCKS_MALFORMED(0, b[1].offset = r->payload_size, "raw block starting at payload_size");
    BLOCKS_MALFORMED(0, b[1].offset = UINT64_MAX - IMAGE_PAGE + 1,
                     "raw block at offset 2^64 - 4096 (its end wraps)");
    BLOCKS_MALFORMED(3, b[0].offset += IMAGE_PAGE, "the last payload's raw block moved a page on, over the table");

    /* payload_size past the last block */
    BLOCKS_MALFORMED(1, r->payload_size += 1, "payload_size a byte past the last block");
    BLOCKS_MALFORMED(0, r->payload_size += IMAGE_PAGE, "payload_size a page past the last block");
    BLOCKS_MALFORMED(2, r->payload_size += IMAGE_PAGE - 100, "payload_size past the last block, into the slack");
}

static void test_block_codec(void)
{
    BLOCKS_MALFORMED(0, b[1].codec = 2, "raw block with codec 2");
    BLOCKS_MALFORMED(0, b[0].codec = 2, "zstd block with codec 2");
    BLOCKS_MALFORMED(1, b[1].codec = UINT32_MAX, "zstd block with codec 2^32 - 1");
    /* a zstd frame can be longer than its content, never than zstd's bound
     * (the restart helper's buffer is that large) */
    const uint32_t bound44 = ZSTD_COMPRESSBOUND(44 * IMAGE_PAGE), bound1 = ZSTD_COMPRESSBOUND(IMAGE_PAGE);
    BLOCKS_ACCEPTED(1, (b[1].stored_len = bound44, r->payload_size = b[1].offset + bound44, img_seal_block(&im, 1, 1)),
                    "zstd block of 44 pages, stored in ZSTD_COMPRESSBOUND bytes");
    BLOCKS_MALFORMED(1,
                     (b[1].stored_len = bound44 + 1, r->payload_size = b[1].offset + bound44 + 1,
                      img_seal_block(&im, 1, 1)),
                     "zstd block of 44 pages, stored in ZSTD_COMPRESSBOUND + 1 bytes");
    BLOCKS_ACCEPTED(2, (b[0].stored_len = bound1, r->payload_size = b[0].offset + bound1, img_seal_block(&im, 2, 0)),
                    "zstd block of 1 page, stored in ZSTD_COMPRESSBOUND bytes");
    BLOCKS_MALFORMED(2,
                     (b[0].stored_len = bound1 + 1, r->payload_size = b[0].offset + bound1 + 1,
                      img_seal_block(&im, 2, 0)),
                     "zstd block of 1 page, stored in ZSTD_COMPRESSBOUND + 1 bytes");
    BLOCKS_MALFORMED(1, (b[1].stored_len = 0, r->payload_size = b[1].offset, img_seal_block(&im, 1, 1)),
                     "zstd block of 0 bytes");
}

/* The block table cuts exactly the stored pages: one block for every 256
 * of them, one more for the rest. */
static void test_block_count(void)
{
    /* 257 pages stored but a block table for 256: every block right */
    const struct img_spec s[1] = { { 0x10000000, 300, REGION_ANON_PRIVATE, NULL, { { 0, 256 } } } };
    struct img im = img_build(s, 1, NULL);
    ACCEPTED(&im, "256 pages in one block");
    img_extents(&im, 0)[0].npages = 257;
    img_region(&im, 0)->stored_pages = 257;
    img_seal_head(&im, 0);
    img_seal_table(&im);
    REFUSED(&im, "region 0 has a malformed page list", "257 pages stored, one block");
    img_free(&im);

    /* 256 pages stored but two blocks */
    BLOCKS_MALFORMED(1, (img_extents(&im, 1)[0].npages = 256, r->stored_pages = 256),
                     "256 pages stored, two blocks");
    /* no block at all: the block table dropped from the head */
    BLOCKS_MALFORMED(1, img_head(&im, 1)->nblocks = 0, "300 pages stored, no block");
    BLOCKS_MALFORMED(1, img_head(&im, 1)->nblocks = 3, "300 pages stored, three blocks");
    /* the region's stored_pages disagreeing with the extents */
    BLOCKS_MALFORMED(1, r->stored_pages = 299, "extents of 300 pages, stored_pages 299");
    /* so many blocks that the head's length wraps around 2^64, to that of
     * two blocks: the checksum of those bytes matches */
    BLOCKS_MALFORMED(1, img_head(&im, 1)->nblocks = (1ull << 59) + 2, "2^59 + 2 blocks (the head's length wraps)");

    /* more blocks than the region has room for: a head of 32 TiB, refused
     * before it is read (so not resealed here) */
    im = IMG_BLOCKS;
    img_head(&im, 1)->nblocks = 1ull << 40;
    REFUSED(&im, "region 1 has a malformed page list", "2^40 blocks");
    img_free(&im);
}

static void test_helper_overlap(void)
{
    const struct {
        uint64_t start, npages;
    } bad[] = {
        { IMAGE_HELPER_TEXT_START, 1 },
        { IMAGE_HELPER_TEXT_START - IMAGE_PAGE, 2 },
        { IMAGE_HELPER_TEXT_END - IMAGE_PAGE, 1 },
        { IMAGE_HELPER_WORK_START, 16 },
        { IMAGE_HELPER_WORK_END - IMAGE_PAGE, 2 },
        { IMAGE_HELPER_WORK_START - IMAGE_PAGE, 2 },
        { IMAGE_HELPER_WORK_START - IMAGE_PAGE, (IMAGE_HELPER_TEXT_END - IMAGE_HELPER_WORK_START) / IMAGE_PAGE + 2 },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct img_spec s[2] = { img_default[0], { bad[i].start, bad[i].npages, REGION_RESERVED, NULL, { { 0, 0 } } } };
        struct img im = img_build(s, 2, NULL);
        char what[80];
        snprintf(what, sizeof what, "region %llx +%llu pages", (unsigned long long)bad[i].start,
                 (unsigned long long)bad[i].npages);
        REFUSED(&im, "helper", what);
        img_free(&im);
    }
    /* the same with a payload */
    struct img_spec s[1] = { { IMAGE_HELPER_WORK_START + 0x1000000, 2, REGION_ANON_PRIVATE, NULL, { { 0, 2 } } } };
    struct img im = img_build(s, 1, NULL);
    REFUSED(&im, "helper", "anonymous region with pages in the work area");
    img_free(&im);
}

/* Region i of the default image changed by `edit`, table resealed. */
#define MALFORMED(i, edit, what)                         \
    do {                                                 \
        struct img im = IMG_DEFAULT;                     \
        img_region_t *r = img_region(&im, (i));          \
        edit;                                            \
        img_seal_table(&im);                             \
        REFUSED(&im, "malformed", what);                 \
        img_free(&im);                                   \
    } while (0)

static void test_malformed_region(void)
{
    MALFORMED(0, r->start += 8, "unaligned start");
    MALFORMED(2, r->end -= 1, "unaligned end");
    MALFORMED(2, r->end = r->start, "start == end");
    MALFORMED(2, r->end = r->start - IMAGE_PAGE, "start > end");
    MALFORMED(0, r->payload_offset = img_hdr(&im)->table_offset - r->payload_size + IMAGE_PAGE,
              "payload running into the table");
    MALFORMED(1, r->payload_size = img_hdr(&im)->table_offset, "payload size past the table");
    MALFORMED(0, r->payload_offset = 0, "payload inside the header");
    MALFORMED(0, r->payload_size = 0, "a payload offset and stored pages, but no payload size");
    MALFORMED(2, r->stored_pages = 1, "stored pages without a payload");
    MALFORMED(2, r->kind = 0, "kind 0");
    MALFORMED(2, r->kind = REGION_RESERVED + 1, "kind 6");
    MALFORMED(1, r->path_offset = img_hdr(&im)->strings_size, "path past the strings");
    MALFORMED(1, r->path_len = 1000, "path longer than the strings");
}

/* The restart helper takes strings + path_offset as a NUL-terminated path,
 * so the whole path and its NUL must lie in the strings area. */
static void test_region_path_in_strings(void)
{
    MALFORMED(1, (r->path_offset = UINT64_MAX, r->path_len = 1), "path_offset 2^64-1 (wraps)");
    /* the last path's NUL replaced, the path made one byte longer: it now
     * ends exactly at the end of the strings, unterminated */
    MALFORMED(3, (im.buf[img_hdr(&im)->strings_offset + img_hdr(&im)->strings_size - 1] = 'X', r->path_len += 1),
              "last path without its NUL, ending at the end of the strings");
}

/* The helper copies each extent to start + first_page * page size: an
 * extent must lie inside its region, and its pages inside the payload. */
static void test_extents_in_region(void)
{
    struct img_spec s[1] = { { 0x10000000, 2, REGION_ANON_PRIVATE, NULL, { { 1, 2 } } } };
    struct img im = img_build(s, 1, NULL);
    REFUSED(&im, "region", "extent {1, 2} in a 2-page region (one page past its end)");
    img_free(&im);
    struct img_spec t[1] = { { 0x10000000, 2, REGION_ANON_PRIVATE, NULL, { { 0x100000, 1 } } } };
    im = img_build(t, 1, NULL);
    REFUSED(&im, "region", "extent at page 0x100000 of a 2-page region");
    img_free(&im);
    /* an extent list promising more pages than the payload holds */
    struct img_spec u[2] = { { 0x10000000, 4, REGION_ANON_PRIVATE, NULL, { { 0, 1 } } }, img_default[1] };
    im = img_build(u, 2, NULL);
    img_extents(&im, 0)[0].npages = 3;
    img_seal_head(&im, 0);
    img_seal_table(&im);
    REFUSED(&im, "region 0 has a malformed page list", "extent of 3 pages with 1 page stored");
    img_free(&im);
    /* extents out of order, or overlapping, stored_pages and block alike */
    const struct img_spec v[1] = { { 0x10000000, 8, REGION_ANON_PRIVATE, NULL, { { 4, 2 }, { 0, 2 } } } };
    im = img_build(v, 1, NULL);
    REFUSED(&im, "region 0 has a malformed page list", "extents {4, 2} then {0, 2}");
    img_free(&im);
    const struct img_spec w[1] = { { 0x10000000, 8, REGION_ANON_PRIVATE, NULL, { { 0, 3 }, { 2, 2 } } } };
    im = img_build(w, 1, NULL);
    REFUSED(&im, "region 0 has a malformed page list", "extents {0, 3} then {2, 2}");
    img_free(&im);
}

static void test_inconsistent_layout(void)
{
    struct img im = IMG_DEFAULT;
    img_hdr(&im)->strings_offset += 8;
    img_seal_header(&im);
    REFUSED(&im, "layout", "strings offset moved");
    img_free(&im);

    im = IMG_DEFAULT;
    img_hdr(&im)->table_offset = 100;
    img_seal_header(&im);
    REFUSED(&im, "layout", "table inside the header");
    img_free(&im);

    im = IMG_DEFAULT;
    img_hdr(&im)->nregions = (1u << 24) + 1;
    img_seal_header(&im);
    REFUSED(&im, "layout", "2^24 + 1 regions");
    img_free(&im);

    /* One region more than the table holds, balanced by a strings size that
     * wraps around 2^64: every sum in the header check still matches, and
     * region 1 would be read from past the end of the table. */
    im = img_build(img_default, 1, NULL); /* one region, no strings */
    struct image_header *h = img_hdr(&im);
    h->nregions += 1;
    h->strings_offset += sizeof(struct image_region);
    h->strings_size -= sizeof(struct image_region); /* 0 - 88: wraps */
    img_seal(&im);
    REFUSED(&im, "layout", "nregions past the table, strings_size wrapped");
    img_free(&im);
}

/* A header field of the default image changed by `edit`, resealed: the
 * checksums match, only the range checks (common/image_valid.h) can tell. */
#define HEADER_FIELD(edit, word, what)                   \
    do {                                                 \
        struct img im = IMG_DEFAULT;                     \
        struct image_header *h = img_hdr(&im);           \
        edit;                                            \
        img_seal(&im);                                   \
        REFUSED(&im, word, what);                        \
        img_free(&im);                                   \
    } while (0)

/* Header fields the restart uses, beyond the layout. */
static void test_header_fields(void)
{
    HEADER_FIELD(h->nthreads = 0xffffffff, "nthreads 0xffffffff is out of range", "nthreads 2^32 - 1");
    HEADER_FIELD(h->nthreads = 0, "nthreads 0x0", "nthreads 0");
    HEADER_FIELD(h->nthreads = IMAGE_MAX_THREADS + 1, "nthreads", "nthreads 4097");
    HEADER_FIELD(h->restore_entry = 0x1000, "restore_entry 0x1000 lies in no saved region", "entry in no region");
    HEADER_FIELD(h->restore_entry = 0x10000010, "restore_entry", "entry in anonymous data");
    HEADER_FIELD(h->restore_entry = 0x30000010, "restore_entry", "entry in a reserved range");
    HEADER_FIELD((h->restore_entry = 0x10000010, img_region(&im, 0)->prot = 5), "restore_entry",
                 "entry in executable anonymous memory");
    HEADER_FIELD((h->vdso_start = IMAGE_HELPER_TEXT_START, h->vdso_end = IMAGE_HELPER_TEXT_START + 0x2000),
                 "vdso_start", "[vdso] over the helper");
    HEADER_FIELD((h->vvar_start = 0x50000800, h->vvar_end = 0x50004000), "vvar_start", "[vvar] unaligned");
    HEADER_FIELD((h->vclock_start = 0x50004000, h->vclock_end = 0x50000000), "vclock_start", "[vvar_vclock] reversed");
    HEADER_FIELD((h->vdso_start = IMAGE_USER_TOP, h->vdso_end = IMAGE_USER_TOP + 0x2000), "vdso_start",
                 "[vdso] past the top of user space");
    HEADER_FIELD(h->program_break = IMAGE_USER_TOP + IMAGE_PAGE, "program_break", "break past user space");
    HEADER_FIELD((h->parent_checksum = 1, memset(h->parent, 'A', sizeof h->parent)), "no terminating NUL",
                 "parent without a NUL");
    HEADER_FIELD((h->parent_checksum = 1, strcpy(h->parent, "../ckpt_x.dmtcp")), "outside the image's directory",
                 "parent in another directory");
    HEADER_FIELD((h->parent_checksum = 1, strcpy(h->parent, "..")), "parent", "parent ..");
    HEADER_FIELD((h->parent_checksum = 1, h->parent[0] = 0), "parent", "parent empty");

    /* the engine's code saved in full: its file was deleted or replaced */
    struct img del = IMG_DEFAULT;
    img_region(&del, 0)->prot = 5;
    img_region(&del, 0)->flags = REGION_F_DELETED;
    img_hdr(&del)->restore_entry = 0x10000010;
    img_seal(&del);
    ACCEPTED(&del, "entry in the saved code of a deleted file");
    img_free(&del);

    /* the special mappings next to regions, the break anywhere in user space */
    struct img im = IMG_DEFAULT;
    img_hdr(&im)->vdso_start = 0x50000000;
    img_hdr(&im)->vdso_end = 0x50002000;
    img_hdr(&im)->program_break = IMAGE_USER_TOP;
    img_seal(&im);
    ACCEPTED(&im, "[vdso] clear of every region, break at the top of user space");
    img_free(&im);
}

/* Regions in user space, in address order, apart, clear of the special
 * mappings; payloads only where the helper fills memory. */
static void test_region_ranges(void)
{
    MALFORMED(1, r->start = img_region(&im, 0)->start, "region 1 starting where region 0 does");
    MALFORMED(1, r->start = img_region(&im, 0)->end - IMAGE_PAGE, "region 1 overlapping region 0's last page");
    MALFORMED(0, (r->start = 0, r->end = 4 * IMAGE_PAGE), "region 0 in page zero");
    MALFORMED(3, (r->start = IMAGE_USER_TOP, r->end = IMAGE_USER_TOP + 2 * IMAGE_PAGE), "past the top of user space");
    MALFORMED(3, (r->start = 0xfffffffffffff000ull, r->end = 0xfffffffffffff000ull + 0), "at the top of 64 bits");
    MALFORMED(2, r->prot = 0x1000000, "protection bit 24");
    MALFORMED(3, r->file_offset = 0x800, "shared file mapping at an unaligned file offset");
    MALFORMED(3, r->file_offset = 1ull << 63, "shared file mapping at file offset 2^63");
    MALFORMED(3, r->path_len = 0, "shared file mapping with no path");
    MALFORMED(2, (r->payload_offset = img_region(&im, 0)->payload_offset,
                  r->payload_size = img_region(&im, 0)->payload_size),
              "reserved range with a payload");
    MALFORMED(3, (r->payload_offset = img_region(&im, 0)->payload_offset,
                  r->payload_size = img_region(&im, 0)->payload_size),
              "shared file mapping with a payload");
    MALFORMED(1, (r->flags = REGION_F_FROM_FILE, r->file_size = 8192, r->file_offset = 8192),
              "library mapping starting at its file's end");
    struct img im = IMG_DEFAULT;
    img_hdr(&im)->vvar_start = 0x30004000;
    img_hdr(&im)->vvar_end = 0x30008000;
    img_seal(&im);
    REFUSED(&im, "vdso] or [vvar]", "reserved range over the saved [vvar]");
    img_free(&im);
    /* a library mapping reaching past its file's end is fine if it starts inside */
    im = IMG_DEFAULT;
    img_region(&im, 1)->flags = REGION_F_FROM_FILE;
    img_region(&im, 1)->file_size = 4097;
    img_region(&im, 1)->file_offset = 4096;
    img_seal(&im);
    ACCEPTED(&im, "library mapping of 2 pages starting in its file's last, partial page");
    img_free(&im);
}

/* Plugin sections: whole records filling the area, names NUL-terminated,
 * each section's bytes matching its checksum. */
static void test_sections(void)
{
    const char *note = "plugin state: 42 open files";
    struct img im = img_build(img_default, 4, note);
    struct image_header *h = img_hdr(&im);
    img_section_t *sec = (img_section_t *)(im.buf + h->sections_offset);
    sec->size += 1;
    img_seal(&im);
    REFUSED(&im, "plugin section 0 is malformed: size", "section one byte longer than the area");
    img_free(&im);

    im = img_build(img_default, 4, note);
    sec = (img_section_t *)(im.buf + img_hdr(&im)->sections_offset);
    sec->size = UINT64_MAX;
    img_seal(&im);
    REFUSED(&im, "plugin section 0 is malformed", "section of 2^64 - 1 bytes");
    img_free(&im);

    im = img_build(img_default, 4, note);
    sec = (img_section_t *)(im.buf + img_hdr(&im)->sections_offset);
    memset(sec->name, 'k', sizeof sec->name);
    img_seal(&im);
    REFUSED(&im, "no terminating NUL", "section name without a NUL");
    img_free(&im);

    im = img_build(img_default, 4, note);
    sec = (img_section_t *)(im.buf + img_hdr(&im)->sections_offset);
    sec->size -= 1;
    sec->checksum = XXH64(sec + 1, sec->size, 0);
    img_seal(&im);
    REFUSED(&im, "plugin section 1 is malformed", "a byte after the last section");
    img_free(&im);

    im = img_build(img_default, 4, note);
    sec = (img_section_t *)(im.buf + img_hdr(&im)->sections_offset);
    sec->checksum ^= 1;
    img_seal(&im);
    REFUSED(&im, "checksum mismatch in plugin section 0", "section checksum");
    img_free(&im);
}

static void test_not_an_image(void)
{
    char err[600];
    struct image_header h;
    char missing[420];
    snprintf(missing, sizeof missing, "%s/does-not-exist", img_test.dir);
    for (int full = 0; full <= 1; full++) {
        CHECKF(image_check_file(missing, &h, err, sizeof err, full) == -1 && strstr(err, missing) &&
                   strcasestr(err, "open"),
               "%s: missing file: %s", img_mode(full), err);
        CHECKF(image_check_file(img_test.dir, &h, err, sizeof err, full) == -1 && strcasestr(err, "regular"),
               "%s: a directory: %s", img_mode(full), err);
    }
    struct img im = { .buf = calloc(1, 8192), .len = 8192 };
    memcpy(im.buf, "#!/bin/sh\n", 10);
    REFUSED(&im, "magic", "a shell script");
    img_free(&im);
    /* a tiny error buffer is not overrun */
    im = IMG_DEFAULT;
    img_hdr(&im)->arch = 3;
    img_seal(&im);
    img_check(&im, 0);
    memset(err, 'Z', sizeof err);
    CHECK(image_check_file(img_test.path, &h, err, 16, 1) == -1 && strlen(err) == 15 && err[16] == 'Z');
    img_free(&im);
}

/* Reserved fields and flag bits are written as zero and refused otherwise
 * (docs/image-format.md), each under intact checksums: the header's
 * reserved0/1/2, the trailer's reserved bytes, a region's unknown flag
 * bits (0x2 among them, once declared as NORESERVE and never set), a
 * payload head's and a block entry's reserved field. */
static void test_reserved_zero(void)
{
    struct img im = IMG_DEFAULT;
    img_hdr(&im)->reserved1 = 1;
    img_seal(&im);
    REFUSED(&im, "reserved header field reserved1 (offset 64) is not zero", "header reserved1");
    img_free(&im);

    im = IMG_DEFAULT;
    img_hdr(&im)->reserved2[sizeof img_hdr(&im)->reserved2 - 1] = 'x';
    img_seal(&im);
    REFUSED(&im, "reserved header field reserved2 (offset 472) is not zero", "header reserved2's last byte");
    img_free(&im);

    im = IMG_DEFAULT;
    img_hdr(&im)->reserved0 = 0x80000000u;
    img_seal(&im);
    REFUSED(&im, "reserved header field reserved0 (offset 1556) is not zero", "header reserved0");
    img_free(&im);

    im = IMG_DEFAULT;
    img_trailer(&im)->reserved[3] = 1;
    REFUSED(&im, "the trailer's reserved bytes are not zero", "trailer reserved");
    img_free(&im);

    const uint32_t unknown[] = { 0x2, 0x20, 0x80000000u };
    for (size_t k = 0; k < sizeof unknown / sizeof unknown[0]; k++) {
        im = IMG_DEFAULT;
        img_region(&im, 1)->flags |= unknown[k];
        img_seal(&im);
        char why[64];
        snprintf(why, sizeof why, "flags 0x%x are unknown flag bits", unknown[k]);
        REFUSED(&im, why, "region flag bit");
        img_free(&im);
    }
    im = IMG_DEFAULT;
    img_region(&im, 1)->flags |= REGION_F_ALL & ~REGION_F_FROM_FILE; /* every known bit, no file to check */
    img_seal(&im);
    ACCEPTED(&im, "every known region flag");
    img_free(&im);

    im = IMG_DEFAULT;
    img_head(&im, 0)->reserved = 1;
    img_seal_head(&im, 0);
    img_seal(&im);
    REFUSED(&im, "region 0 has a malformed page list", "payload head reserved");
    img_free(&im);

    im = IMG_DEFAULT;
    img_blocks(&im, 1)[0].reserved = 1;
    img_seal_head(&im, 1);
    img_seal(&im);
    REFUSED(&im, "region 1 has a malformed page list", "block entry reserved");
    img_free(&im);
}

int main(void)
{
    if (unit_mkdtemp(img_test.dir, sizeof img_test.dir, "img") < 0) {
        printf("FAIL image/setup: cannot make a temporary directory\n");
        return 1;
    }
    snprintf(img_test.path, sizeof img_test.path, "%s/ckpt_unit_1.dmtcp", img_test.dir);
    unit_run("image/good", test_good);
    unit_run("image/good-blocks", test_good_blocks);
    unit_run("image/good-with-plugin-section", test_good_with_section);
    unit_run("image/bad-magic", test_bad_magic);
    unit_run("image/newer-version", test_newer_version);
    unit_run("image/older-version", test_older_version);
    unit_run("image/garbage-version", test_garbage_version);
    unit_run("image/header-checksum", test_header_checksum);
    unit_run("image/other-arch", test_other_arch);
    unit_run("image/other-page-size", test_other_page_size);
    unit_run("image/other-uid", test_other_uid);
    unit_run("image/truncated", test_truncated);
    unit_run("image/extra-bytes", test_extra_bytes);
    unit_run("image/trailer", test_trailer);
    unit_run("image/table-checksum", test_table_checksum);
    unit_run("image/payload-checksum", test_payload_checksum);
    unit_run("image/block-checksum", test_block_checksum);
    unit_run("image/head-checksum", test_head_checksum);
    unit_run("image/block-raw", test_block_raw);
    unit_run("image/block-raw-len", test_block_raw_len);
    unit_run("image/block-places", test_block_places);
    unit_run("image/block-codec", test_block_codec);
    unit_run("image/block-count", test_block_count);
    unit_run("image/helper-overlap", test_helper_overlap);
    unit_run("image/malformed-region", test_malformed_region);
    unit_run("image/region-path-in-strings", test_region_path_in_strings);
    unit_run("image/extents-in-region", test_extents_in_region);
    unit_run("image/inconsistent-layout", test_inconsistent_layout);
    unit_run("image/not-an-image", test_not_an_image);
    unit_run("image/reserved-zero", test_reserved_zero);
    unit_run("image/header-fields", test_header_fields);
    unit_run("image/region-ranges", test_region_ranges);
    unit_run("image/sections", test_sections);
    unit_rmtree(img_test.dir);
    return unit_exit();
}
