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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>
#include <zstd.h>

#include "common/image_check.h"

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
    /* every size is bounded by the file before any sum, so nothing wraps */
    uint64_t end = h->file_size - sizeof(struct image_trailer);
    if (h->table_offset < IMAGE_HEADER_SIZE || h->table_offset > end || h->nregions > (1u << 24) ||
        h->strings_size > end || h->sections_size > end ||
        h->strings_offset != h->table_offset + h->nregions * sizeof(struct image_region) ||
        h->strings_offset > end || h->sections_offset != h->strings_offset + h->strings_size ||
        h->sections_offset > end || h->sections_offset + h->sections_size != end)
        return image_bad(err, cap, path, "inconsistent layout in the header: the image is corrupt");
    return 0;
}

/* Extents inside the region, ascending and apart; returns pages or -1. */
static int64_t image_check_extent_list(const struct image_extent *e, uint64_t n, uint64_t region_pages)
{
    uint64_t pages = 0, min_next = 0;
    for (uint64_t j = 0; j < n; j++) {
        if (e[j].npages == 0 || e[j].first_page < min_next || e[j].first_page >= region_pages ||
            e[j].npages > region_pages - e[j].first_page)
            return -1;
        min_next = e[j].first_page + e[j].npages;
        pages += e[j].npages;
    }
    return (int64_t)pages;
}

/* No page both stored and inherited. */
static int image_check_disjoint(const struct image_extent *a, uint64_t na, const struct image_extent *b,
                                uint64_t nb)
{
    uint64_t i = 0, j = 0;
    while (i < na && j < nb) {
        if (a[i].first_page + a[i].npages <= b[j].first_page)
            i++;
        else if (b[j].first_page + b[j].npages <= a[i].first_page)
            j++;
        else
            return -1;
    }
    return 0;
}

/* A payload's head steers every write the restart helper makes: the
 * extents must name pages inside the region, in order; the blocks must cut
 * exactly those pages, lie inside the payload in order, and raw blocks be
 * page-aligned.  With full set, every block's bytes are checked against
 * its checksum too.  Returns 0, -1 (malformed) or -2 (checksum mismatch). */
static int image_check_payload(int fd, const struct image_region *r, uint8_t *buf, size_t bufcap, int full,
                               int has_parent)
{
    struct image_payload_head ph;
    uint64_t region_pages = (r->end - r->start) / IMAGE_PAGE;
    if (r->payload_size < IMAGE_PAGE || image_read_at(fd, &ph, sizeof ph, r->payload_offset) < 0)
        return -1;
    if (ph.nextents > region_pages || ph.ninherit > region_pages || ph.nblocks > region_pages / IMAGE_BLOCK_PAGES + 1 ||
        (ph.ninherit && !has_parent))
        return -1;
    uint64_t hb = image_head_bytes(&ph);
    uint64_t data_start = (hb + IMAGE_PAGE - 1) & ~(uint64_t)(IMAGE_PAGE - 1);
    if (data_start > r->payload_size)
        return -1;
    uint8_t *head = malloc(hb);
    if (!head)
        return -1;
    int rc = -1;
    if (image_read_at(fd, head, hb, r->payload_offset) < 0)
        goto out;
    if (XXH64(head, hb, 0) != r->checksum) {
        rc = -2;
        goto out;
    }
    const struct image_extent *e = (const struct image_extent *)(head + sizeof ph);
    const struct image_extent *inh = e + ph.nextents;
    int64_t pages = image_check_extent_list(e, ph.nextents, region_pages);
    if (pages < 0 || image_check_extent_list(inh, ph.ninherit, region_pages) < 0 ||
        image_check_disjoint(e, ph.nextents, inh, ph.ninherit) < 0)
        goto out;
    if ((uint64_t)pages != r->stored_pages ||
        ph.nblocks != ((uint64_t)pages + IMAGE_BLOCK_PAGES - 1) / IMAGE_BLOCK_PAGES)
        goto out;
    const struct image_block *blk = (const struct image_block *)(inh + ph.ninherit);
    uint64_t pos = data_start;
    for (uint64_t k = 0; k < ph.nblocks; k++) {
        const struct image_block *b = &blk[k];
        uint64_t left = pages - k * IMAGE_BLOCK_PAGES;
        uint64_t want = (left < IMAGE_BLOCK_PAGES ? left : IMAGE_BLOCK_PAGES) * IMAGE_PAGE;
        int ok = b->raw_len == want && b->stored_len > 0 && b->offset >= pos && b->offset <= r->payload_size &&
                 b->stored_len <= r->payload_size - b->offset &&
                 ((b->codec == CODEC_RAW && b->stored_len == b->raw_len && b->offset % IMAGE_PAGE == 0) ||
                  (b->codec == CODEC_ZSTD && b->stored_len <= ZSTD_COMPRESSBOUND(b->raw_len)));
        if (!ok)
            goto out;
        pos = b->offset + b->stored_len;
        if (!full)
            continue;
        XXH3_state_t st;
        XXH3_64bits_reset(&st);
        for (uint64_t done = 0; done < b->stored_len;) {
            size_t n = b->stored_len - done > bufcap ? bufcap : (size_t)(b->stored_len - done);
            if (image_read_at(fd, buf, n, r->payload_offset + b->offset + done) < 0)
                goto out;
            XXH3_64bits_update(&st, buf, n);
            done += n;
        }
        if (XXH3_64bits_digest(&st) != b->checksum) {
            rc = -2;
            goto out;
        }
    }
    if (pos != r->payload_size)
        goto out;
    rc = 0;
out:
    free(head);
    return rc;
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
    size_t bufcap = 8u << 20;
    buf = malloc(bufcap);
    if (!buf) {
        image_bad(err, cap, path, "out of memory");
        goto out;
    }
    for (uint64_t i = 0; i < hdr->nregions; i++) {
        const struct image_region *r = &regions[i];
        const char *strings = (const char *)meta + (hdr->strings_offset - hdr->table_offset);
        int bad_path = r->path_len && (r->path_offset >= hdr->strings_size ||
                                       r->path_len >= hdr->strings_size - r->path_offset ||
                                       strings[r->path_offset + r->path_len] != 0);
        int bad_payload = r->payload_size ? (r->payload_offset < IMAGE_HEADER_SIZE || r->payload_offset % IMAGE_PAGE ||
                                             r->payload_offset > hdr->table_offset ||
                                             r->payload_size > hdr->table_offset - r->payload_offset)
                                          : (r->payload_offset != 0 || r->stored_pages != 0);
        if (r->start >= r->end || (r->start | r->end) % IMAGE_PAGE || r->kind < REGION_ANON_PRIVATE ||
            r->kind > REGION_RESERVED || bad_path || bad_payload) {
            image_bad(err, cap, path, "region %llu is malformed: the image is corrupt", (unsigned long long)i);
            goto out;
        }
        if ((r->start < IMAGE_HELPER_TEXT_END && r->end > IMAGE_HELPER_TEXT_START) ||
            (r->start < IMAGE_HELPER_WORK_END && r->end > IMAGE_HELPER_WORK_START)) {
            image_bad(err, cap, path, "region %llx-%llx overlaps the restart helper's address ranges",
                      (unsigned long long)r->start, (unsigned long long)r->end);
            goto out;
        }
        int prc = r->payload_size ? image_check_payload(fd, r, buf, bufcap, full, hdr->parent_checksum != 0) : 0;
        if (prc == -2) {
            image_bad(err, cap, path, "checksum mismatch in memory region %llx-%llx: the image is corrupt",
                      (unsigned long long)r->start, (unsigned long long)r->end);
            goto out;
        }
        if (prc < 0) {
            image_bad(err, cap, path, "region %llu has a malformed page list: the image is corrupt",
                      (unsigned long long)i);
            goto out;
        }
    }
    rc = 0;
out:
    free(meta);
    free(buf);
    return rc;
}
