/*
 * image_check.c — unit tests for src/common/image_check.c.
 *
 * A small writer here builds synthetic images the way docs/image-format.md
 * describes them (header, page-aligned region payloads, region table,
 * strings, sections, trailer; XXH64 seed 0 everywhere), then each group
 * damages one thing and checks that image_check_file refuses the image with
 * a message naming the file and the problem.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "common/image_check.h"
#include "unit.h"

/* One region of a synthetic image: at most two extents. */
struct img_spec {
    uint64_t start, npages;
    uint32_t kind;
    const char *path;
    uint64_t ext[2][2]; /* {first_page, npages}; npages 0 = unused */
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

static struct image_region *img_region(struct img *im, uint64_t i)
{
    return (struct image_region *)(im->buf + img_hdr(im)->table_offset) + i;
}

static struct image_trailer *img_trailer(struct img *im)
{
    return (struct image_trailer *)(im->buf + im->len - sizeof(struct image_trailer));
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

static void img_pad(struct img *im, uint64_t *off)
{
    static const unsigned char zero[IMAGE_PAGE];
    if (*off % IMAGE_PAGE)
        img_put(im, off, zero, IMAGE_PAGE - *off % IMAGE_PAGE);
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

/* Writes an image of these regions (and one plugin section when sec). */
static struct img img_build(const struct img_spec *rs, size_t nr, const char *sec)
{
    struct img im = { .buf = calloc(1, IMAGE_HEADER_SIZE), .len = IMAGE_HEADER_SIZE };
    uint64_t off = IMAGE_HEADER_SIZE, memory = 0;
    struct image_region table[8];
    char strings[512];
    size_t slen = 0;
    for (size_t i = 0; i < nr; i++) {
        struct image_region *r = &table[i];
        memset(r, 0, sizeof *r);
        r->start = rs[i].start;
        r->end = rs[i].start + rs[i].npages * IMAGE_PAGE;
        r->prot = rs[i].kind == REGION_RESERVED ? 0 : 3;
        r->kind = rs[i].kind;
        if (rs[i].path) {
            r->path_offset = slen;
            r->path_len = (uint32_t)strlen(rs[i].path);
            memcpy(strings + slen, rs[i].path, r->path_len + 1);
            slen += r->path_len + 1;
        }
        uint64_t next = 0, stored = 0;
        while (next < 2 && rs[i].ext[next][1])
            stored += rs[i].ext[next++][1];
        if (!next)
            continue;
        img_pad(&im, &off);
        r->payload_offset = off;
        img_put(&im, &off, &next, 8);
        for (uint64_t e = 0; e < next; e++) {
            struct image_extent x = { rs[i].ext[e][0], rs[i].ext[e][1] };
            img_put(&im, &off, &x, sizeof x);
        }
        img_pad(&im, &off);
        unsigned char page[IMAGE_PAGE];
        for (uint64_t p = 0; p < stored; p++) {
            memset(page, (int)(i * 16 + p + 1), sizeof page);
            snprintf((char *)page, 64, "region %zu page %llu", i, (unsigned long long)p);
            img_put(&im, &off, page, sizeof page);
        }
        r->payload_size = off - r->payload_offset;
        r->stored_pages = stored;
        r->checksum = XXH64(im.buf + r->payload_offset, r->payload_size, 0);
        memory += stored * IMAGE_PAGE;
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
    h->restore_entry = 0x7f0000001000ull;
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
    snprintf(h->cmdline, sizeof h->cmdline, "unit --test");
    snprintf(h->host, sizeof h->host, "testhost");
    img_seal(&im);
    return im;
}

/* Anonymous private with two extents, a private file mapping with one, a
 * reserved range, and a shared file mapping (no payload). */
static const struct img_spec img_default[] = {
    { 0x10000000, 4, REGION_ANON_PRIVATE, NULL, { { 0, 1 }, { 2, 2 } } },
    { 0x20000000, 2, REGION_FILE_PRIVATE, "/usr/lib/libfoo.so", { { 1, 1 } } },
    { 0x30000000, 16, REGION_RESERVED, NULL, { { 0, 0 } } },
    { 0x40000000, 2, REGION_FILE_SHARED, "/data/shared.bin", { { 0, 0 } } },
};
#define IMG_DEFAULT img_build(img_default, 4, NULL)

/* Saves the first `len` bytes (all when 0) and checks the file; returns
 * image_check_file's result, the message in img_test.err. */
static int img_check_len(struct img *im, size_t len, struct image_header *out)
{
    struct image_header h;
    int fd = open(img_test.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, im->buf, len ? len : im->len) != (ssize_t)(len ? len : im->len) || close(fd) < 0) {
        snprintf(img_test.err, sizeof img_test.err, "test: cannot write %s", img_test.path);
        return -99;
    }
    img_test.err[0] = 0;
    return image_check_file(img_test.path, out ? out : &h, img_test.err, sizeof img_test.err);
}

static int img_check(struct img *im)
{
    return img_check_len(im, 0, NULL);
}

/* Refused, with a message that names the file and contains `word`. */
#define REFUSED(im, word, what)                                                                           \
    do {                                                                                                  \
        int rc_ = img_check(im);                                                                          \
        CHECKF(rc_ == -1, "%s: image accepted (rc %d)", what, rc_);                                       \
        CHECKF(rc_ != -1 || (strncmp(img_test.err, img_test.path, strlen(img_test.path)) == 0 &&         \
                             strcasestr(img_test.err, word)),                                             \
               "%s: message lacks '%s' or the path: %s", what, word, img_test.err);                      \
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
    struct image_header h;
    memset(&h, 0, sizeof h);
    int rc = img_check_len(&im, 0, &h);
    CHECKF(rc == 0, "good image refused: %s", img_test.err);
    CHECK(h.nregions == 4 && h.generation == 1 && h.vpid == 4242 && strcmp(h.program, "unit") == 0);
    img_free(&im);

    /* no regions with payload at all */
    im = img_build(img_default + 2, 2, NULL);
    rc = img_check(&im);
    CHECKF(rc == 0, "image without payloads refused: %s", img_test.err);
    img_free(&im);

    /* regions right next to the helper's ranges */
    const struct img_spec near[] = {
        { IMAGE_HELPER_TEXT_START - IMAGE_PAGE, 1, REGION_ANON_PRIVATE, NULL, { { 0, 1 } } },
        { IMAGE_HELPER_TEXT_END, 1, REGION_ANON_PRIVATE, NULL, { { 0, 1 } } },
        { IMAGE_HELPER_WORK_START - IMAGE_PAGE, 1, REGION_RESERVED, NULL, { { 0, 0 } } },
        { IMAGE_HELPER_WORK_END, 1, REGION_RESERVED, NULL, { { 0, 0 } } },
    };
    im = img_build(near, 4, NULL);
    rc = img_check(&im);
    CHECKF(rc == 0, "regions adjacent to the helper's ranges refused: %s", img_test.err);
    img_free(&im);
}

/* docs/image-format.md and image.h: the trailer's table checksum covers the
 * table, the strings and the sections. */
static void test_good_with_section(void)
{
    struct img im = img_build(img_default, 4, "plugin state: 42 open files");
    int rc = img_check(&im);
    CHECKF(rc == 0, "image with a plugin section, table checksum over table+strings+sections as "
                    "docs/image-format.md says, refused: %s", img_test.err);
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
    img_hdr(&im)->version = 2;
    img_seal(&im);
    REFUSED(&im, "newer", "version 2, sealed");
    img_free(&im);
    im = IMG_DEFAULT;
    img_hdr(&im)->version = 2;
    REFUSED(&im, "newer", "version 2, old checksum");
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
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        int rc = img_check_len(&im, cuts[i], NULL);
        CHECKF(rc == -1 && strcasestr(img_test.err, "truncated"), "cut to %zu of %zu bytes: rc %d, %s", cuts[i],
               im.len, rc, img_test.err);
    }
    const size_t tiny[] = { 1, 100, sizeof(struct image_header) - 1 };
    for (size_t i = 0; i < 3; i++) {
        int rc = img_check_len(&im, tiny[i], NULL);
        CHECKF(rc == -1 && (strcasestr(img_test.err, "truncated") || strcasestr(img_test.err, "short")),
               "cut to %zu bytes: rc %d, %s", tiny[i], rc, img_test.err);
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

static void test_payload_checksum(void)
{
    struct img im = IMG_DEFAULT;
    struct image_region *r = img_region(&im, 0);
    im.buf[r->payload_offset + r->payload_size - 1] ^= 1;
    REFUSED(&im, "checksum mismatch in memory region 10000000-10004000", "last byte of region 0's pages");
    img_free(&im);

    im = IMG_DEFAULT;
    r = img_region(&im, 1);
    im.buf[r->payload_offset + 8] ^= 1; /* the extent list */
    REFUSED(&im, "checksum mismatch", "region 1's extent list");
    REFUSED(&im, "20000000-20002000", "region 1's extent list");
    img_free(&im);

    im = IMG_DEFAULT;
    img_region(&im, 0)->checksum ^= 1;
    img_seal_table(&im);
    REFUSED(&im, "checksum mismatch", "region 0's recorded checksum");
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
        { IMAGE_HELPER_TEXT_START - IMAGE_PAGE, (IMAGE_HELPER_WORK_END - IMAGE_HELPER_TEXT_START) / IMAGE_PAGE + 2 },
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
        struct image_region *r = img_region(&im, (i));   \
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
    struct image_region *r = img_region(&im, 0);
    struct image_extent *x = (struct image_extent *)(im.buf + r->payload_offset + 8);
    x->npages = 3;
    r->checksum = XXH64(im.buf + r->payload_offset, r->payload_size, 0);
    img_seal_table(&im);
    REFUSED(&im, "region", "extent of 3 pages with 1 page stored");
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

static void test_not_an_image(void)
{
    char err[600];
    struct image_header h;
    char missing[420];
    snprintf(missing, sizeof missing, "%s/does-not-exist", img_test.dir);
    CHECK(image_check_file(missing, &h, err, sizeof err) == -1 && strstr(err, missing) && strcasestr(err, "open"));
    CHECK(image_check_file(img_test.dir, &h, err, sizeof err) == -1 && strcasestr(err, "regular"));
    struct img im = { .buf = calloc(1, 8192), .len = 8192 };
    memcpy(im.buf, "#!/bin/sh\n", 10);
    REFUSED(&im, "magic", "a shell script");
    img_free(&im);
    /* a tiny error buffer is not overrun */
    im = IMG_DEFAULT;
    img_hdr(&im)->arch = 3;
    img_seal(&im);
    img_check(&im);
    memset(err, 'Z', sizeof err);
    CHECK(image_check_file(img_test.path, &h, err, 16) == -1 && strlen(err) == 15 && err[16] == 'Z');
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
    unit_run("image/good-with-plugin-section", test_good_with_section);
    unit_run("image/bad-magic", test_bad_magic);
    unit_run("image/newer-version", test_newer_version);
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
    unit_run("image/helper-overlap", test_helper_overlap);
    unit_run("image/malformed-region", test_malformed_region);
    unit_run("image/region-path-in-strings", test_region_path_in_strings);
    unit_run("image/extents-in-region", test_extents_in_region);
    unit_run("image/inconsistent-layout", test_inconsistent_layout);
    unit_run("image/not-an-image", test_not_an_image);
    unit_rmtree(img_test.dir);
    return unit_exit();
}
