/*
 * image_check.c — the whole-image validation dmtcp_restart runs first.
 *
 * A corrupt, truncated, foreign or future image is refused with a message
 * that names the file and the problem, before a single page is mapped.
 * The full check reads the payloads in bounded chunks, so it costs one
 * sequential read of the file and a few MiB of memory; the quick check
 * stops at the payloads' heads (the restart helper checks every block as it
 * loads it).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>
#include <zstd.h>

#include "common/image_check.h"
#include "common/image_valid.h"

static int image_bad(char *err, size_t cap, const char *path, const char *fmt, ...)
{
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    snprintf(err, cap, "%s: %s", path, why);
    return -1;
}

/* "<part>: <field> 0x<value> <why>: the image is corrupt", the one line
 * the restart helper prints too for the same fault (src/restart/helper.c). */
static int image_bad_fault(char *err, size_t cap, const char *path, const char *part, const struct image_fault *f)
{
    return image_bad(err, cap, path, "%s: %s 0x%llx %s: the image is corrupt", part, f->field,
                     (unsigned long long)f->value, f->why);
}

static int image_bad_region(char *err, size_t cap, const char *path, const struct image_region *r,
                            const struct image_fault *f)
{
    char part[128];
    snprintf(part, sizeof part, "region %llu (0x%llx-0x%llx) is malformed", (unsigned long long)f->region,
             (unsigned long long)r->start, (unsigned long long)r->end);
    return image_bad_fault(err, cap, path, part, f);
}

int image_read_at(int fd, void *buf, size_t len, uint64_t off)
{
    char *p = buf;
    while (len) {
        ssize_t n = pread(fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -EIO;
        p += n;
        off += (uint64_t)n;
        len -= (size_t)n;
    }
    return 0;
}

/* Reserved fields are written as zero: one that is not was not written by
 * this format's writer.  Returns the offset of the first such field, or 0. */
static size_t image_header_reserved_set(const struct image_header *h)
{
    if (h->reserved1)
        return offsetof(struct image_header, reserved1);
    for (size_t i = 0; i < sizeof h->reserved2; i++)
        if (h->reserved2[i])
            return offsetof(struct image_header, reserved2);
    if (h->reserved0)
        return offsetof(struct image_header, reserved0);
    return 0;
}

static const char *image_header_reserved_name(size_t offset)
{
    return offset == offsetof(struct image_header, reserved0)   ? "reserved0"
           : offset == offsetof(struct image_header, reserved1) ? "reserved1"
                                                                : "reserved2";
}

static int image_trailer_reserved_set(const struct image_trailer *t)
{
    for (size_t i = 0; i < sizeof t->reserved / sizeof t->reserved[0]; i++)
        if (t->reserved[i])
            return 1;
    return 0;
}

static int image_check_header(const struct image_header *h, uint64_t size, const char *path, char *err,
                              size_t cap)
{
    if (memcmp(h->magic, IMAGE_MAGIC, 8) != 0)
        return image_bad(err, cap, path, "not a Stasis checkpoint image (bad magic)");
    /* A newer format may lay its header out differently, so its checksum
     * cannot be checked here; only a plausible version number is taken for
     * a newer format, anything else with a bad checksum is corruption. */
    struct image_header copy = *h;
    copy.header_checksum = 0;
    int sealed = XXH64(&copy, sizeof copy, 0) == h->header_checksum;
    int plausible_newer = h->version > IMAGE_VERSION && h->version < 1000 && h->header_size == IMAGE_HEADER_SIZE;
    if (plausible_newer)
        return image_bad(err, cap, path,
                         "made by a newer Stasis (image format %u; this dmtcp_restart reads format %u)%s; "
                         "restart it with the Stasis that wrote it",
                         h->version, IMAGE_VERSION, sealed ? "" : ", or its header is corrupt");
    if (!sealed)
        return image_bad(err, cap, path, "header checksum mismatch: the image is corrupt");
    if (h->version >= 1 && h->version < IMAGE_VERSION && h->header_size == IMAGE_HEADER_SIZE)
        return image_bad(err, cap, path,
                         "made by an older Stasis (image format %u; this dmtcp_restart reads format %u); "
                         "restart it with the Stasis that wrote it",
                         h->version, IMAGE_VERSION);
    if (h->version < 1 || h->version > IMAGE_VERSION || h->header_size != IMAGE_HEADER_SIZE)
        return image_bad(err, cap, path, "unknown image format %u: the image is corrupt", h->version);
    size_t reserved = image_header_reserved_set(h);
    if (reserved)
        return image_bad(err, cap, path, "reserved header field %s (offset %zu) is not zero: the image is corrupt",
                         image_header_reserved_name(reserved), reserved);
    if (h->arch != IMAGE_ARCH_X86_64)
        return image_bad(err, cap, path, "made on another architecture (ELF machine %u); this is x86_64", h->arch);
    if (h->page_size != IMAGE_PAGE)
        return image_bad(err, cap, path, "page size %u differs from this machine's %u", h->page_size, IMAGE_PAGE);
    if (h->uid != getuid())
        return image_bad(err, cap, path, "belongs to user %u; you are user %u: restart it as its owner", h->uid,
                         getuid());
    if (size < h->file_size || size < IMAGE_HEADER_SIZE + sizeof(struct image_trailer))
        return image_bad(err, cap, path, "truncated: %llu bytes of %llu; the image is incomplete",
                         (unsigned long long)size, (unsigned long long)h->file_size);
    if (size > h->file_size)
        return image_bad(err, cap, path, "%llu bytes where %llu were written: the image was altered",
                         (unsigned long long)size, (unsigned long long)h->file_size);
    struct image_fault f;
    if (image_valid_layout(h, size, &f) < 0)
        return image_bad_fault(err, cap, path, "inconsistent layout in the header", &f);
    if (image_valid_header_fields(h, &f) < 0)
        return image_bad_fault(err, cap, path, "header", &f);
    return 0;
}

/* A payload's head steers every write the restart helper makes: the
 * extents must name pages inside the region, in order; the blocks must cut
 * exactly those pages, lie inside the payload in order, and raw blocks be
 * page-aligned (image_valid_head).  With full set, every block's bytes are
 * checked against its checksum too.  Returns 0, -1 (malformed: *f says
 * how) or -2 (checksum mismatch). */
static int image_check_payload(int fd, const struct image_region *r, uint64_t i, uint8_t *buf, size_t bufcap,
                               int full, int has_parent, struct image_fault *f)
{
    struct image_payload_head ph;
    if (image_read_at(fd, &ph, sizeof ph, r->payload_offset) < 0)
        return image_fault_set(f, i, "payload_offset", r->payload_offset, "cannot be read");
    if (image_valid_head_counts(r, i, &ph, has_parent, f) < 0)
        return -1;
    uint64_t hb = image_head_bytes(&ph);
    uint8_t *head = malloc(hb);
    if (!head)
        return image_fault_set(f, i, "nblocks", ph.nblocks, "makes a head too large for memory");
    int rc = -1;
    if (image_read_at(fd, head, hb, r->payload_offset) < 0) {
        image_fault_set(f, i, "payload_offset", r->payload_offset, "cannot be read");
        goto out;
    }
    if (XXH64(head, hb, 0) != r->checksum) {
        rc = -2;
        goto out;
    }
    if (image_valid_head(r, i, head, f) < 0)
        goto out;
    const struct image_block *blk = (const struct image_block *)(head + hb) - ph.nblocks;
    for (uint64_t k = 0; full && k < ph.nblocks; k++) {
        const struct image_block *b = &blk[k];
        XXH3_state_t st;
        XXH3_64bits_reset(&st);
        for (uint64_t done = 0; done < b->stored_len;) {
            size_t n = b->stored_len - done > bufcap ? bufcap : (size_t)(b->stored_len - done);
            if (image_read_at(fd, buf, n, r->payload_offset + b->offset + done) < 0) {
                image_fault_set(f, i, "offset", b->offset, "places a block where it cannot be read");
                goto out;
            }
            XXH3_64bits_update(&st, buf, n);
            done += n;
        }
        if (XXH3_64bits_digest(&st) != b->checksum) {
            rc = -2;
            goto out;
        }
    }
    rc = 0;
out:
    free(head);
    return rc;
}

/* The plugin sections: whole records, one after another, filling the
 * area exactly, each name NUL-terminated and each section's bytes matching
 * its checksum (the engine reads them back at restart). */
static int image_check_sections(const uint8_t *area, uint64_t len, const char *path, char *err, size_t cap)
{
    uint64_t off = 0;
    for (uint64_t k = 0; off < len; k++) {
        struct image_section s;
        char part[64];
        snprintf(part, sizeof part, "plugin section %llu is malformed", (unsigned long long)k);
        if (len - off < sizeof s) {
            struct image_fault f = {IMAGE_NO_REGION, "sections_size", len, "ends inside a section's header"};
            return image_bad_fault(err, cap, path, part, &f);
        }
        memcpy(&s, area + off, sizeof s);
        if (!memchr(s.name, 0, sizeof s.name)) {
            struct image_fault f = {IMAGE_NO_REGION, "name", sizeof s.name, "has no terminating NUL"};
            return image_bad_fault(err, cap, path, part, &f);
        }
        off += sizeof s;
        if (s.size > len - off) {
            struct image_fault f = {IMAGE_NO_REGION, "size", s.size, "runs past the end of the sections area"};
            return image_bad_fault(err, cap, path, part, &f);
        }
        if (XXH64(area + off, s.size, 0) != s.checksum)
            return image_bad(err, cap, path, "checksum mismatch in plugin section %llu (%s): the image is corrupt",
                             (unsigned long long)k, s.name);
        off += s.size;
    }
    return 0;
}

int image_check_file(const char *path, struct image_header *hdr, char *err, size_t cap, int full)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return image_bad(err, cap, path, "cannot open: %s", strerror(errno));
    int rc = image_check_fd(fd, path, hdr, err, cap, full);
    close(fd);
    return rc;
}

int image_check_fd(int fd, const char *path, struct image_header *hdr, char *err, size_t cap, int full)
{
    int rc = -1;
    uint8_t *meta = NULL, *buf = NULL;
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        image_bad(err, cap, path, "not a regular file");
        goto out;
    }
    if ((uint64_t)st.st_size < sizeof *hdr) {
        image_bad(err, cap, path, "too short to be a checkpoint image (%lld bytes)", (long long)st.st_size);
        goto out;
    }
    if (image_read_at(fd, hdr, sizeof *hdr, 0) < 0) {
        image_bad(err, cap, path, "cannot read the header: %s", strerror(errno));
        goto out;
    }
    if (image_check_header(hdr, (uint64_t)st.st_size, path, err, cap) < 0)
        goto out;
    struct image_trailer t;
    uint64_t toff = hdr->file_size - sizeof t;
    if (image_read_at(fd, &t, sizeof t, toff) < 0 || memcmp(t.magic, IMAGE_TRAILER_MAGIC, 8) != 0 ||
        t.file_size != hdr->file_size || t.header_checksum != hdr->header_checksum) {
        image_bad(err, cap, path, "no valid trailer: the image is truncated or was not completely written");
        goto out;
    }
    if (image_trailer_reserved_set(&t)) {
        image_bad(err, cap, path, "the trailer's reserved bytes are not zero: the image is corrupt");
        goto out;
    }
    size_t meta_len = (size_t)(toff - hdr->table_offset);
    meta = malloc(meta_len ? meta_len : 1);
    if (!meta || image_read_at(fd, meta, meta_len, hdr->table_offset) < 0) {
        image_bad(err, cap, path, "cannot read the region table");
        goto out;
    }
    if (XXH64(meta, meta_len, 0) != t.table_checksum) { /* table, strings and sections */
        image_bad(err, cap, path, "region table checksum mismatch: the image is corrupt");
        goto out;
    }
    const struct image_region *regions = (const struct image_region *)meta;
    const char *strings = (const char *)meta + (hdr->strings_offset - hdr->table_offset);
    if (image_check_sections(meta + (hdr->sections_offset - hdr->table_offset), hdr->sections_size, path, err,
                             cap) < 0)
        goto out;
    struct image_fault f;
    for (uint64_t i = 0; i < hdr->nregions; i++)
        if (image_valid_region(hdr, &regions[i], i, i ? &regions[i - 1] : NULL, strings, &f) < 0) {
            image_bad_region(err, cap, path, &regions[i], &f);
            goto out;
        }
    if (image_valid_entry(hdr, regions, hdr->nregions, &f) < 0) {
        image_bad_fault(err, cap, path, "header", &f);
        goto out;
    }
    size_t bufcap = (uint64_t)st.st_size < (8u << 20) ? (size_t)st.st_size : 8u << 20; /* blocks in chunks */
    buf = malloc(bufcap);
    if (!buf) {
        image_bad(err, cap, path, "out of memory");
        goto out;
    }
    for (uint64_t i = 0; i < hdr->nregions; i++) {
        const struct image_region *r = &regions[i];
        int prc = r->payload_size
                      ? image_check_payload(fd, r, i, buf, bufcap, full, hdr->parent_checksum != 0, &f)
                      : 0;
        if (prc == -2) {
            image_bad(err, cap, path, "checksum mismatch in memory region %llx-%llx: the image is corrupt",
                      (unsigned long long)r->start, (unsigned long long)r->end);
            goto out;
        }
        if (prc < 0) {
            char part[64];
            snprintf(part, sizeof part, "region %llu has a malformed page list", (unsigned long long)i);
            image_bad_fault(err, cap, path, part, &f);
            goto out;
        }
    }
    rc = 0;
out:
    free(meta);
    free(buf);
    return rc;
}

long image_section_read(int fd, const struct image_header *hdr, const char *name, void *buf, size_t cap)
{
    uint64_t off = hdr->sections_offset, end = hdr->sections_offset + hdr->sections_size;
    while (off + sizeof(struct image_section) <= end) {
        struct image_section s;
        if (image_read_at(fd, &s, sizeof s, off) < 0 || s.size > end - off - sizeof s)
            return -1;
        off += sizeof s;
        if (!strncmp(s.name, name, sizeof s.name)) {
            if (s.size > SIZE_MAX / 2)
                return -1;
            uint8_t *data = malloc(s.size ? (size_t)s.size : 1);
            if (!data)
                return -1;
            long rc = -1;
            if (image_read_at(fd, data, (size_t)s.size, off) == 0 && XXH64(data, (size_t)s.size, 0) == s.checksum) {
                memcpy(buf, data, s.size < cap ? (size_t)s.size : cap);
                rc = (long)s.size;
            }
            free(data);
            return rc;
        }
        off += s.size;
    }
    return -1;
}
