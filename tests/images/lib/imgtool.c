/*
 * imgtool.c — reads and patches checkpoint images for tests/images.
 * Built by tests/images/lib/common.sh with the tree's own image.h:
 *   cc -O1 -I src -o imgtool tests/images/lib/imgtool.c
 *
 *   imgtool info IMAGE
 *       prints key=value lines: header fields (restore_entry, vdso_start/_end
 *       and program_break among them), the layout offsets, field
 *       offsets within the header and trailer (off_*), and the
 *       payload of the largest region (big_payload_offset/_size, and
 *       big_block_byte: the middle byte of its middle block), and whether
 *       the byte at the middle of the file lies inside a block's stored
 *       bytes (mid_in_payload=1); for incremental images, generation,
 *       header_checksum, chain_depth, parent and parent_checksum
 *   imgtool block-byte IMAGE ADDR
 *       prints the file offset of the middle byte of the middle block
 *       stored for the region holding address ADDR (decimal or 0x…)
 *   imgtool set IMAGE FIELD VALUE [--no-reseal]
 *       FIELD: version, arch, page_size, uid, header_size; writes VALUE
 *       (decimal or 0x…) into the header, then reseals it: recomputes
 *       header_checksum (XXH64, seed 0, of struct image_header with the field
 *       zero) and copies it into the trailer, as the engine would have.
 *   imgtool reseal IMAGE
 *       recomputes the trailer's table checksum (XXH64 over table, strings and
 *       sections) and the header checksum, as the engine would have.
 *
 * Crafting images (tests/images/crafted-*.sh): each command patches one
 * field, then reseals (table and header checksums recomputed), so only the
 * range checks can refuse the result.  VALUE is decimal or 0x…; 64-bit.
 *   imgtool regions IMAGE
 *       one line per region: index, start, end, prot, kind, flags, payload
 *       offset and size, stored pages, file offset, head counts, path
 *   imgtool set IMAGE FIELD VALUE [--no-reseal]
 *       also the header's nthreads, nregions, table_offset, strings_offset,
 *       strings_size, sections_offset, sections_size, file_size,
 *       restore_entry, program_break, vdso_start/_end, vvar_start/_end,
 *       vclock_start/_end, parent_checksum, chain_depth
 *   imgtool set-text IMAGE FIELD TEXT | --fill CHAR
 *       FIELD: parent, program, host; TEXT NUL-padded, or the whole field
 *       filled with CHAR and no NUL at all
 *   imgtool set-region IMAGE INDEX FIELD VALUE
 *       a field of region INDEX (start, end, prot, kind, flags, path_len,
 *       path_offset, file_offset, payload_offset, payload_size,
 *       stored_pages, checksum, object_id, file_size)
 *   imgtool set-head IMAGE INDEX FIELD VALUE
 *       a field of region INDEX's payload head: nextents, nblocks,
 *       ninherit, extent.K.first_page, extent.K.npages, block.K.offset,
 *       block.K.stored_len, block.K.raw_len, block.K.codec; the region's
 *       checksum is recomputed over the head as it now reads
 *   imgtool set-section IMAGE K FIELD VALUE
 *       size or checksum of the K-th plugin section (0-based)
 *   imgtool add-section IMAGE NAME TEXT
 *       a plugin section NAME holding TEXT, after the last one
 *   imgtool helper-info OUT IMAGEPATH
 *       writes the struct restart_info dmtcp_restart hands the restart
 *       helper, so a test can run the helper on an image by hand:
 *       restart-helper 3 4 -1 3<IMAGE 4<OUT
 *
 * Exit status 0 on success, 1 with a message on stderr otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "common/image.h"

static void die(const char *what, const char *path)
{
    fprintf(stderr, "imgtool: %s %s: %s\n", what, path, errno ? strerror(errno) : "bad input");
    exit(1);
}

static void rd(int fd, void *buf, size_t len, off_t off, const char *path)
{
    errno = 0;
    if (pread(fd, buf, len, off) != (ssize_t)len)
        die("cannot read", path);
}

static void wr(int fd, const void *buf, size_t len, off_t off, const char *path)
{
    errno = 0;
    if (pwrite(fd, buf, len, off) != (ssize_t)len)
        die("cannot write", path);
}

/* XXH64 of len bytes of the file at off (0 when they are not all there). */
static uint64_t file_xxh64(int fd, uint64_t off, uint64_t len, const char *path)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        die("cannot stat", path);
    if (off > (uint64_t)st.st_size || len > (uint64_t)st.st_size - off || len > (1ull << 32))
        return 0;
    char *buf = malloc(len + 1);
    if (!buf)
        die("out of memory for", path);
    rd(fd, buf, len, (off_t)off, path);
    uint64_t sum = XXH64(buf, len, 0);
    free(buf);
    return sum;
}

static void reseal(int fd, struct image_header *h, const char *path)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        die("cannot stat", path);
    int trailer_fits = h->file_size >= sizeof(struct image_trailer) && h->file_size <= (uint64_t)st.st_size;
    off_t toff = trailer_fits ? (off_t)(h->file_size - sizeof(struct image_trailer)) : 0;
    /* the trailer's table checksum, over table, strings and sections as the
     * header now places them (when they lie inside the file) */
    if (trailer_fits && h->table_offset <= (uint64_t)toff) {
        uint64_t sum = file_xxh64(fd, h->table_offset, (uint64_t)toff - h->table_offset, path);
        wr(fd, &sum, sizeof sum, toff + (off_t)offsetof(struct image_trailer, table_checksum), path);
    }
    h->header_checksum = 0;
    h->header_checksum = XXH64(h, sizeof *h, 0);
    wr(fd, h, sizeof *h, 0, path);
    /* the trailer's copy, where the header says the trailer is (if it fits) */
    if (trailer_fits)
        wr(fd, &h->header_checksum, sizeof h->header_checksum,
           toff + (off_t)offsetof(struct image_trailer, header_checksum), path);
}

static int info(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        die("cannot open", path);
    struct image_header h;
    rd(fd, &h, sizeof h, 0, path);
    struct stat st;
    fstat(fd, &st);
    printf("struct_size=%zu\nversion=%u\narch=%u\npage_size=%u\nuid=%u\nnthreads=%u\n", sizeof h, h.version,
           h.arch, h.page_size, h.uid, h.nthreads);
    printf("nregions=%llu\ntable_offset=%llu\nstrings_offset=%llu\nsections_offset=%llu\n"
           "sections_size=%llu\nfile_size=%llu\nactual_size=%lld\n",
           (unsigned long long)h.nregions, (unsigned long long)h.table_offset,
           (unsigned long long)h.strings_offset, (unsigned long long)h.sections_offset,
           (unsigned long long)h.sections_size, (unsigned long long)h.file_size, (long long)st.st_size);
    printf("off_version=%zu\noff_arch=%zu\noff_uid=%zu\noff_comp_id=%zu\noff_program=%zu\n"
           "off_trailer_header_checksum=%zu\n",
           offsetof(struct image_header, version), offsetof(struct image_header, arch),
           offsetof(struct image_header, uid), offsetof(struct image_header, comp_id),
           offsetof(struct image_header, program), offsetof(struct image_trailer, header_checksum));
    printf("trailer_offset=%llu\nprogram=%s\n", (unsigned long long)(h.file_size - sizeof(struct image_trailer)),
           h.program);
    printf("restore_entry=0x%llx\nvdso_start=0x%llx\nvdso_end=0x%llx\nprogram_break=0x%llx\n",
           (unsigned long long)h.restore_entry, (unsigned long long)h.vdso_start, (unsigned long long)h.vdso_end,
           (unsigned long long)h.program_break);
    /* incremental images: the chain (parent is "" and depth 0 when full) */
    printf("generation=%llu\nheader_checksum=0x%016llx\nchain_depth=%u\nparent=%.*s\nparent_checksum=0x%016llx\n",
           (unsigned long long)h.generation, (unsigned long long)h.header_checksum, h.chain_depth,
           (int)sizeof h.parent, h.parent, (unsigned long long)h.parent_checksum);
    if (h.nregions > (1u << 20) || h.table_offset + h.nregions * sizeof(struct image_region) > (uint64_t)st.st_size)
        return 0;
    struct image_region *r = malloc(h.nregions * sizeof *r + 1);
    rd(fd, r, h.nregions * sizeof *r, (off_t)h.table_offset, path);
    uint64_t big = 0, bigoff = 0, bigbyte = 0, mid = (uint64_t)st.st_size / 2;
    int mid_in = 0;
    for (uint64_t i = 0; i < h.nregions; i++) {
        if (!r[i].payload_size)
            continue;
        /* the block table: a byte inside a block's stored bytes (padding
         * between blocks is not data and is not checked) */
        struct image_payload_head ph;
        rd(fd, &ph, sizeof ph, (off_t)r[i].payload_offset, path);
        if (ph.nextents > (1u << 24) || ph.nblocks > (1u << 24))
            continue;
        struct image_block *b = malloc(ph.nblocks * sizeof *b + 1);
        rd(fd, b, ph.nblocks * sizeof *b,
           (off_t)(r[i].payload_offset + sizeof ph + ph.nextents * sizeof(struct image_extent)), path);
        if (r[i].payload_size > big && ph.nblocks) {
            big = r[i].payload_size;
            bigoff = r[i].payload_offset;
            const struct image_block *m = &b[ph.nblocks / 2];
            bigbyte = r[i].payload_offset + m->offset + m->stored_len / 2;
        }
        for (uint64_t k = 0; k < ph.nblocks; k++)
            if (mid >= r[i].payload_offset + b[k].offset && mid < r[i].payload_offset + b[k].offset + b[k].stored_len)
                mid_in = 1;
        free(b);
    }
    printf("big_payload_offset=%llu\nbig_payload_size=%llu\nbig_block_byte=%llu\nmid_offset=%llu\n"
           "mid_in_payload=%d\n",
           (unsigned long long)bigoff, (unsigned long long)big, (unsigned long long)bigbyte,
           (unsigned long long)mid, mid_in);
    free(r);
    close(fd);
    return 0;
}

/* The file offset of the middle byte of the middle block stored for the
 * region holding address addr (a byte the restart reads and checks). */
static int block_byte(const char *path, uint64_t addr)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        die("cannot open", path);
    struct image_header h;
    rd(fd, &h, sizeof h, 0, path);
    errno = 0;
    if (h.nregions > (1u << 20))
        die("implausible region count in", path);
    struct image_region *r = malloc(h.nregions * sizeof *r + 1);
    rd(fd, r, h.nregions * sizeof *r, (off_t)h.table_offset, path);
    for (uint64_t i = 0; i < h.nregions; i++) {
        if (addr < r[i].start || addr >= r[i].end || !r[i].payload_size)
            continue;
        struct image_payload_head ph;
        rd(fd, &ph, sizeof ph, (off_t)r[i].payload_offset, path);
        if (!ph.nblocks || ph.nblocks > (1u << 24) || ph.nextents + ph.ninherit > (1u << 24))
            break;
        struct image_block b;
        rd(fd, &b, sizeof b,
           (off_t)(r[i].payload_offset + sizeof ph + (ph.nextents + ph.ninherit) * sizeof(struct image_extent) +
                   ph.nblocks / 2 * sizeof b),
           path);
        printf("%llu\n", (unsigned long long)(r[i].payload_offset + b.offset + b.stored_len / 2));
        free(r);
        close(fd);
        return 0;
    }
    fprintf(stderr, "imgtool: no block stored for address 0x%llx in %s\n", (unsigned long long)addr, path);
    return 1;
}

/* ---- crafting: one field patched, checksums recomputed ------------------- */

struct field {
    const char *name;
    size_t offset, width;
};
#define HF(f) {#f, offsetof(struct image_header, f), sizeof(((struct image_header *)0)->f)}
static const struct field header_fields[] = {
    HF(version), HF(arch), HF(page_size), HF(uid), HF(header_size), HF(nthreads), HF(nregions),
    HF(table_offset), HF(strings_offset), HF(strings_size), HF(sections_offset), HF(sections_size),
    HF(file_size), HF(restore_entry), HF(program_break), HF(vdso_start), HF(vdso_end), HF(vvar_start),
    HF(vvar_end), HF(vclock_start), HF(vclock_end), HF(parent_checksum), HF(chain_depth), {0, 0, 0}};
#define RF(f) {#f, offsetof(struct image_region, f), sizeof(((struct image_region *)0)->f)}
static const struct field region_fields[] = {
    RF(start), RF(end), RF(prot), RF(kind), RF(flags), RF(path_len), RF(path_offset), RF(file_offset),
    RF(payload_offset), RF(payload_size), RF(stored_pages), RF(checksum), RF(object_id), RF(file_size),
    {0, 0, 0}};
#define PF(f) {#f, offsetof(struct image_payload_head, f), sizeof(((struct image_payload_head *)0)->f)}
static const struct field head_fields[] = {PF(nextents), PF(nblocks), PF(ninherit), {0, 0, 0}};
#define EF(f) {#f, offsetof(struct image_extent, f), sizeof(((struct image_extent *)0)->f)}
static const struct field extent_fields[] = {EF(first_page), EF(npages), {0, 0, 0}};
#define BF(f) {#f, offsetof(struct image_block, f), sizeof(((struct image_block *)0)->f)}
static const struct field block_fields[] = {BF(offset), BF(stored_len), BF(raw_len), BF(codec), BF(checksum),
                                            {0, 0, 0}};
#define SF(f) {#f, offsetof(struct image_section, f), sizeof(((struct image_section *)0)->f)}
static const struct field section_fields[] = {SF(size), SF(checksum), {0, 0, 0}};

static const struct field *field_named(const struct field *t, const char *name)
{
    for (; t->name; t++)
        if (!strcmp(t->name, name))
            return t;
    fprintf(stderr, "imgtool: unknown field %s\n", name);
    exit(1);
}

/* Store value into the field at base + f->offset (little-endian, its width). */
static void field_store(void *base, const struct field *f, uint64_t value)
{
    memcpy((char *)base + f->offset, &value, f->width);
}

static int open_image(const char *path, struct image_header *h)
{
    int fd = open(path, O_RDWR);
    if (fd < 0)
        die("cannot open", path);
    rd(fd, h, sizeof *h, 0, path);
    return fd;
}

static uint64_t number(const char *s)
{
    char *end;
    errno = 0;
    uint64_t v = strtoull(s, &end, 0);
    if (errno || end == s || *end) {
        fprintf(stderr, "imgtool: '%s' is not a number\n", s);
        exit(1);
    }
    return v;
}

/* Region i's record as the header places it, and its file offset. */
static off_t region_at(int fd, const struct image_header *h, uint64_t i, struct image_region *r, const char *path)
{
    errno = 0;
    if (i >= h->nregions)
        die("no such region in", path);
    off_t off = (off_t)(h->table_offset + i * sizeof *r);
    rd(fd, r, sizeof *r, off, path);
    return off;
}

static int regions(const char *path)
{
    struct image_header h;
    int fd = open_image(path, &h);
    errno = 0;
    if (h.nregions > (1u << 20))
        die("implausible region count in", path);
    char *strings = calloc(1, h.strings_size + 1);
    if (!strings)
        die("out of memory for", path);
    rd(fd, strings, h.strings_size, (off_t)h.strings_offset, path);
    for (uint64_t i = 0; i < h.nregions; i++) {
        struct image_region r;
        region_at(fd, &h, i, &r, path);
        struct image_payload_head ph = {0, 0, 0, 0};
        if (r.payload_size)
            rd(fd, &ph, sizeof ph, (off_t)r.payload_offset, path);
        const char *p = r.path_len && r.path_offset < h.strings_size ? strings + r.path_offset : "";
        printf("region=%llu start=0x%llx end=0x%llx prot=%u kind=%u flags=%u payload_offset=%llu payload_size=%llu "
               "stored_pages=%llu file_offset=%llu nextents=%llu nblocks=%llu ninherit=%llu path=%s\n",
               (unsigned long long)i, (unsigned long long)r.start, (unsigned long long)r.end, r.prot, r.kind, r.flags,
               (unsigned long long)r.payload_offset, (unsigned long long)r.payload_size,
               (unsigned long long)r.stored_pages, (unsigned long long)r.file_offset,
               (unsigned long long)ph.nextents, (unsigned long long)ph.nblocks, (unsigned long long)ph.ninherit, p);
    }
    free(strings);
    close(fd);
    return 0;
}

static int set_text(const char *path, const char *name, const char *text, int fill)
{
    struct image_header h;
    int fd = open_image(path, &h);
    char *field;
    size_t cap;
    if (!strcmp(name, "parent"))
        field = h.parent, cap = sizeof h.parent;
    else if (!strcmp(name, "program"))
        field = h.program, cap = sizeof h.program;
    else if (!strcmp(name, "host"))
        field = h.host, cap = sizeof h.host;
    else {
        fprintf(stderr, "imgtool: unknown text field %s\n", name);
        return 1;
    }
    if (fill) {
        memset(field, text[0], cap);
    } else {
        memset(field, 0, cap);
        memcpy(field, text, strnlen(text, cap));
    }
    reseal(fd, &h, path);
    close(fd);
    return 0;
}

static int set_region(const char *path, uint64_t i, const char *name, uint64_t value)
{
    struct image_header h;
    int fd = open_image(path, &h);
    struct image_region r;
    off_t off = region_at(fd, &h, i, &r, path);
    field_store(&r, field_named(region_fields, name), value);
    wr(fd, &r, sizeof r, off, path);
    reseal(fd, &h, path);
    close(fd);
    return 0;
}

/* NAME is a head field, or extent.K.FIELD / block.K.FIELD (K 0-based,
 * extents counted over the stored then the inherited ones). */
static int set_head(const char *path, uint64_t i, const char *name, uint64_t value)
{
    struct image_header h;
    int fd = open_image(path, &h);
    struct image_region r;
    off_t roff = region_at(fd, &h, i, &r, path);
    errno = 0;
    if (!r.payload_size)
        die("the region has no payload in", path);
    struct image_payload_head ph;
    rd(fd, &ph, sizeof ph, (off_t)r.payload_offset, path);
    unsigned long long k = 0;
    char what[16] = "", sub[32] = "";
    off_t at;
    const struct field *f;
    if (sscanf(name, "%15[a-z].%llu.%31s", what, &k, sub) == 3 && !strcmp(what, "extent")) {
        f = field_named(extent_fields, sub);
        at = (off_t)(r.payload_offset + sizeof ph + k * sizeof(struct image_extent));
    } else if (sscanf(name, "%15[a-z].%llu.%31s", what, &k, sub) == 3 && !strcmp(what, "block")) {
        f = field_named(block_fields, sub);
        at = (off_t)(r.payload_offset + sizeof ph + (ph.nextents + ph.ninherit) * sizeof(struct image_extent) +
                     k * sizeof(struct image_block));
    } else {
        f = field_named(head_fields, name);
        at = (off_t)r.payload_offset;
    }
    wr(fd, &value, f->width, at + (off_t)f->offset, path);
    /* the region's checksum covers the head as it now reads */
    rd(fd, &ph, sizeof ph, (off_t)r.payload_offset, path);
    r.checksum = file_xxh64(fd, r.payload_offset, image_head_bytes(&ph), path);
    wr(fd, &r, sizeof r, roff, path);
    reseal(fd, &h, path);
    close(fd);
    return 0;
}

static int set_section(const char *path, uint64_t k, const char *name, uint64_t value)
{
    struct image_header h;
    int fd = open_image(path, &h);
    const struct field *f = field_named(section_fields, name);
    uint64_t off = h.sections_offset, end = h.sections_offset + h.sections_size;
    for (uint64_t j = 0;; j++) {
        struct image_section s;
        errno = 0;
        if (off + sizeof s > end)
            die("no such section in", path);
        rd(fd, &s, sizeof s, (off_t)off, path);
        if (j == k) {
            field_store(&s, f, value);
            wr(fd, &s, sizeof s, (off_t)off, path);
            break;
        }
        off += sizeof s + s.size;
    }
    reseal(fd, &h, path);
    close(fd);
    return 0;
}

/* A plugin section NAME holding TEXT, added after the last one (the
 * trailer moves up; sections_size and file_size grow). */
static int add_section(const char *path, const char *name, const char *text)
{
    struct image_header h;
    int fd = open_image(path, &h);
    struct image_trailer t;
    uint64_t toff = h.file_size - sizeof t;
    rd(fd, &t, sizeof t, (off_t)toff, path);
    struct image_section s;
    memset(&s, 0, sizeof s);
    snprintf(s.name, sizeof s.name, "%s", name);
    s.size = strlen(text);
    s.checksum = XXH64(text, s.size, 0);
    wr(fd, &s, sizeof s, (off_t)toff, path);
    wr(fd, text, s.size, (off_t)(toff + sizeof s), path);
    h.sections_size += sizeof s + s.size;
    h.file_size += sizeof s + s.size;
    t.file_size = h.file_size;
    wr(fd, &t, sizeof t, (off_t)(h.file_size - sizeof t), path);
    reseal(fd, &h, path);
    close(fd);
    return 0;
}

static int helper_info(const char *out, const char *image)
{
    struct restart_info ri;
    memset(&ri, 0, sizeof ri);
    ri.magic = RESTART_INFO_MAGIC;
    ri.restart_peers = 1;
    ri.coord_port = 1; /* nothing listens there: a restored program could not join anything */
    snprintf(ri.coord_host, sizeof ri.coord_host, "127.0.0.1");
    snprintf(ri.image_path, sizeof ri.image_path, "%s", image);
    int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        die("cannot create", out);
    wr(fd, &ri, sizeof ri, 0, out);
    close(fd);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && !strcmp(argv[1], "info"))
        return info(argv[2]);
    if (argc >= 4 && !strcmp(argv[1], "block-byte"))
        return block_byte(argv[2], strtoull(argv[3], NULL, 0));
    if (argc >= 3 && !strcmp(argv[1], "reseal")) {
        int fd = open(argv[2], O_RDWR);
        if (fd < 0)
            die("cannot open", argv[2]);
        struct image_header h;
        rd(fd, &h, sizeof h, 0, argv[2]);
        reseal(fd, &h, argv[2]);
        return 0;
    }
    if (argc >= 5 && !strcmp(argv[1], "set")) {
        struct image_header h;
        int fd = open_image(argv[2], &h);
        field_store(&h, field_named(header_fields, argv[3]), number(argv[4]));
        if (argc >= 6 && !strcmp(argv[5], "--no-reseal"))
            wr(fd, &h, sizeof h, 0, argv[2]);
        else
            reseal(fd, &h, argv[2]);
        return 0;
    }
    if (argc >= 3 && !strcmp(argv[1], "regions"))
        return regions(argv[2]);
    if (argc >= 5 && !strcmp(argv[1], "set-text"))
        return argc >= 6 && !strcmp(argv[4], "--fill") ? set_text(argv[2], argv[3], argv[5], 1)
                                                       : set_text(argv[2], argv[3], argv[4], 0);
    if (argc >= 6 && !strcmp(argv[1], "set-region"))
        return set_region(argv[2], number(argv[3]), argv[4], number(argv[5]));
    if (argc >= 6 && !strcmp(argv[1], "set-head"))
        return set_head(argv[2], number(argv[3]), argv[4], number(argv[5]));
    if (argc >= 6 && !strcmp(argv[1], "set-section"))
        return set_section(argv[2], number(argv[3]), argv[4], number(argv[5]));
    if (argc >= 5 && !strcmp(argv[1], "add-section"))
        return add_section(argv[2], argv[3], argv[4]);
    if (argc >= 4 && !strcmp(argv[1], "helper-info"))
        return helper_info(argv[2], argv[3]);
    fprintf(stderr, "usage: imgtool info IMAGE | block-byte IMAGE ADDR | set IMAGE FIELD VALUE [--no-reseal] | "
                    "reseal IMAGE | regions IMAGE | set-text IMAGE FIELD TEXT|--fill C | "
                    "set-region IMAGE I FIELD VALUE | set-head IMAGE I FIELD VALUE | "
                    "set-section IMAGE K FIELD VALUE | add-section IMAGE NAME TEXT | helper-info OUT IMAGEPATH\n");
    return 1;
}
