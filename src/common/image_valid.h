/*
 * image_valid.h — the range checks every field of a checkpoint image passes
 * before anything uses it.
 *
 * One definition, used twice: by dmtcp_restart (src/common/image_check.c),
 * which refuses a bad image before anything is mapped, and by the libc-free
 * restart helper (src/restart/), which reads the image again itself and
 * trusts nothing dmtcp_restart checked, so that no input at all can make it
 * crash.  Checksums prove an image is intact, not that it is sane: a crafted
 * image carries correct checksums, so every count, offset, length and
 * address is checked against the file, the address space and the helper's
 * own ranges here.
 *
 * Freestanding (the helper has no libc): inline functions over the structs
 * of image.h, and zstd.h for one macro.  Each returns 0, or -1 after filling a struct image_fault that
 * names the field, its value and what is wrong; the caller words the one
 * line the user sees (image_fault_* below give the parts both callers share).
 */
#ifndef STASIS_IMAGE_VALID_H
#define STASIS_IMAGE_VALID_H

#include <stdint.h>
#include <zstd.h> /* ZSTD_COMPRESSBOUND only: a macro */

#include "common/image.h"

/* The first address above x86_64 user space with 4-level page tables
 * (the kernel's TASK_SIZE): no region, no special mapping, no program
 * break lies past it. */
#define IMAGE_USER_TOP 0x7ffffffff000ull
/* Nothing is restored in page zero (where NULL points). */
#define IMAGE_LOWEST_ADDR ((uint64_t)IMAGE_PAGE)
/* More regions than Linux lets a process map by default (vm.max_map_count,
 * 65530) with room to spare; the table must fit the helper's work area. */
#define IMAGE_MAX_REGIONS (1u << 20)
/* The engine restores at most ENGINE_MAX_THREADS (src/engine/engine.h)
 * threads; the helper gives each a stack in its scratch area. */
#define IMAGE_MAX_THREADS 4096u
/* Region table and strings together: the helper reads them into its work
 * area in one piece. */
#define IMAGE_MAX_META (512ull << 20)
/* File offsets of mapped files: mmap takes a signed 64-bit offset. */
#define IMAGE_MAX_FILE_OFFSET (1ull << 62)

#define IMAGE_NO_REGION UINT64_MAX

struct image_fault {
    uint64_t region;   /* index in the region table, or IMAGE_NO_REGION */
    const char *field; /* as image.h names it: "nthreads", "start", "extents" … */
    uint64_t value;    /* the field's value */
    const char *why;   /* what is wrong with it */
};

static inline int image_fault_set(struct image_fault *f, uint64_t region, const char *field, uint64_t value,
                                  const char *why)
{
    f->region = region;
    f->field = field;
    f->value = value;
    f->why = why;
    return -1;
}

static inline uint64_t image_round_up(uint64_t n)
{
    return (n + IMAGE_PAGE - 1) & ~(uint64_t)(IMAGE_PAGE - 1);
}

static inline int image_overlaps(uint64_t a_start, uint64_t a_end, uint64_t b_start, uint64_t b_end)
{
    return a_start < b_end && b_start < a_end;
}

static inline int image_overlaps_helper(uint64_t start, uint64_t end)
{
    return image_overlaps(start, end, IMAGE_HELPER_TEXT_START, IMAGE_HELPER_TEXT_END) ||
           image_overlaps(start, end, IMAGE_HELPER_WORK_START, IMAGE_HELPER_WORK_END);
}

/* ---- the header ----------------------------------------------------------- */

/* Where the table, strings, sections and trailer lie: everything inside the
 * file, in this order, each right after the one before.  Every size is
 * bounded by the file before it is added, so no sum wraps. */
static inline int image_valid_layout(const struct image_header *h, uint64_t file_size, struct image_fault *f)
{
    const uint64_t N = IMAGE_NO_REGION;
    if (h->file_size != file_size)
        return image_fault_set(f, N, "file_size", h->file_size, "differs from the size of the file");
    if (file_size < IMAGE_HEADER_SIZE + sizeof(struct image_trailer))
        return image_fault_set(f, N, "file_size", h->file_size, "leaves no room for header and trailer");
    uint64_t end = file_size - sizeof(struct image_trailer);
    if (h->table_offset < IMAGE_HEADER_SIZE || h->table_offset > end)
        return image_fault_set(f, N, "table_offset", h->table_offset, "lies outside the file's body");
    if (h->nregions > IMAGE_MAX_REGIONS || h->nregions * sizeof(struct image_region) > end - h->table_offset)
        return image_fault_set(f, N, "nregions", h->nregions, "is more regions than the file holds");
    if (h->strings_offset != h->table_offset + h->nregions * sizeof(struct image_region))
        return image_fault_set(f, N, "strings_offset", h->strings_offset, "does not follow the region table");
    if (h->strings_size > end - h->strings_offset)
        return image_fault_set(f, N, "strings_size", h->strings_size, "runs past the end of the file");
    if (h->strings_offset + h->strings_size - h->table_offset > IMAGE_MAX_META)
        return image_fault_set(f, N, "strings_size", h->strings_size, "makes table and strings larger than 512 MiB");
    if (h->sections_offset != h->strings_offset + h->strings_size)
        return image_fault_set(f, N, "sections_offset", h->sections_offset, "does not follow the strings");
    if (h->sections_size != end - h->sections_offset)
        return image_fault_set(f, N, "sections_size", h->sections_size, "does not end where the trailer starts");
    return 0;
}

/* A range of the kernel's special mappings ([vdso], [vvar], [vvar_vclock])
 * at checkpoint: none (both 0), or pages of user space clear of the helper. */
static inline int image_valid_special(const char *field, uint64_t start, uint64_t end, struct image_fault *f)
{
    if (!start && !end)
        return 0;
    if (start % IMAGE_PAGE || end % IMAGE_PAGE || start >= end)
        return image_fault_set(f, IMAGE_NO_REGION, field, start, "is not a page-aligned range");
    if (start < IMAGE_LOWEST_ADDR || end > IMAGE_USER_TOP)
        return image_fault_set(f, IMAGE_NO_REGION, field, start, "lies outside user space");
    if (image_overlaps_helper(start, end))
        return image_fault_set(f, IMAGE_NO_REGION, field, start, "overlaps the restart helper's address ranges");
    return 0;
}

/* The parent of an incremental image: a file name in the image's own
 * directory, NUL-terminated inside its field. */
static inline int image_valid_parent(const struct image_header *h, struct image_fault *f)
{
    if (!h->parent_checksum)
        return 0;
    uint64_t n = 0;
    while (n < sizeof h->parent && h->parent[n])
        n++;
    if (n == sizeof h->parent)
        return image_fault_set(f, IMAGE_NO_REGION, "parent", n, "has no terminating NUL");
    if (n == 0 || (h->parent[0] == '.' && (n == 1 || (n == 2 && h->parent[1] == '.'))))
        return image_fault_set(f, IMAGE_NO_REGION, "parent", n, "is not a file name");
    for (uint64_t i = 0; i < n; i++)
        if (h->parent[i] == '/')
            return image_fault_set(f, IMAGE_NO_REGION, "parent", n, "names a file outside the image's directory");
    return 0;
}

/* Every header field the restart uses, beyond the layout: the thread
 * count, the special mappings, the program break, the parent. */
static inline int image_valid_header_fields(const struct image_header *h, struct image_fault *f)
{
    if (h->nthreads < 1 || h->nthreads > IMAGE_MAX_THREADS)
        return image_fault_set(f, IMAGE_NO_REGION, "nthreads", h->nthreads, "is out of range (1 to 4096)");
    if (image_valid_special("vdso_start", h->vdso_start, h->vdso_end, f) < 0 ||
        image_valid_special("vvar_start", h->vvar_start, h->vvar_end, f) < 0 ||
        image_valid_special("vclock_start", h->vclock_start, h->vclock_end, f) < 0)
        return -1;
    if (h->program_break > IMAGE_USER_TOP)
        return image_fault_set(f, IMAGE_NO_REGION, "program_break", h->program_break,
                               "lies past the top of user space");
    return image_valid_parent(h, f);
}

/* ---- the region table ------------------------------------------------------ */

static inline int image_valid_region_range(const struct image_header *h, const struct image_region *r, uint64_t i,
                                           const struct image_region *prev, struct image_fault *f)
{
    if (r->start % IMAGE_PAGE)
        return image_fault_set(f, i, "start", r->start, "is not page-aligned");
    if (r->end % IMAGE_PAGE)
        return image_fault_set(f, i, "end", r->end, "is not page-aligned");
    if (r->start >= r->end)
        return image_fault_set(f, i, "end", r->end, "is not above start");
    if (r->start < IMAGE_LOWEST_ADDR)
        return image_fault_set(f, i, "start", r->start, "lies in page zero");
    if (r->end > IMAGE_USER_TOP)
        return image_fault_set(f, i, "end", r->end, "lies past the top of user space (0x7ffffffff000)");
    if (prev && r->start < prev->end)
        return image_fault_set(f, i, "start", r->start, "overlaps the region before it (or is out of address order)");
    if (image_overlaps_helper(r->start, r->end))
        return image_fault_set(f, i, "start", r->start,
                               "overlaps the restart helper's address ranges (0x5ffd00000000-0x600000400000)");
    if (image_overlaps(r->start, r->end, h->vdso_start, h->vdso_end) ||
        image_overlaps(r->start, r->end, h->vvar_start, h->vvar_end) ||
        image_overlaps(r->start, r->end, h->vclock_start, h->vclock_end))
        return image_fault_set(f, i, "start", r->start, "overlaps the kernel's [vdso] or [vvar] at checkpoint");
    return 0;
}

/* The backing path: inside the strings area, NUL-terminated there. */
static inline int image_valid_region_path(const struct image_header *h, const struct image_region *r, uint64_t i,
                                          const char *strings, struct image_fault *f)
{
    if (!r->path_len)
        return r->kind == REGION_FILE_SHARED ? image_fault_set(f, i, "path_len", 0, "is 0 for a shared file mapping")
                                             : 0;
    if (r->path_offset >= h->strings_size || r->path_len >= h->strings_size - r->path_offset)
        return image_fault_set(f, i, "path_offset", r->path_offset, "places the path outside the strings area");
    if (strings[r->path_offset + r->path_len] != 0)
        return image_fault_set(f, i, "path_len", r->path_len, "does not end the path at a NUL");
    return 0;
}

/* The payload: page-aligned, after the header, before the table; only
 * kinds whose memory the helper fills have one. */
static inline int image_valid_region_payload(const struct image_header *h, const struct image_region *r, uint64_t i,
                                             struct image_fault *f)
{
    uint64_t pages = (r->end - r->start) / IMAGE_PAGE;
    if (!r->payload_size) {
        if (r->payload_offset)
            return image_fault_set(f, i, "payload_offset", r->payload_offset, "is set for an empty payload");
        if (r->stored_pages)
            return image_fault_set(f, i, "stored_pages", r->stored_pages, "are stored without a payload");
        return 0;
    }
    if (r->kind == REGION_RESERVED || r->kind == REGION_FILE_SHARED)
        return image_fault_set(f, i, "payload_size", r->payload_size,
                               "is not 0 for a reserved range or a shared file mapping (they hold no saved pages)");
    if (r->payload_offset < IMAGE_HEADER_SIZE || r->payload_offset % IMAGE_PAGE || r->payload_offset > h->table_offset)
        return image_fault_set(f, i, "payload_offset", r->payload_offset,
                               "is not page-aligned between the header and the region table");
    if (r->payload_size < IMAGE_PAGE || r->payload_size > h->table_offset - r->payload_offset)
        return image_fault_set(f, i, "payload_size", r->payload_size, "runs into the region table");
    if (r->stored_pages > pages)
        return image_fault_set(f, i, "stored_pages", r->stored_pages, "exceeds the region's pages");
    return 0;
}

/* Region i (prev: region i - 1, or NULL), with the strings area. */
static inline int image_valid_region(const struct image_header *h, const struct image_region *r, uint64_t i,
                                     const struct image_region *prev, const char *strings, struct image_fault *f)
{
    if (image_valid_region_range(h, r, i, prev, f) < 0)
        return -1;
    if (r->kind < REGION_ANON_PRIVATE || r->kind > REGION_RESERVED)
        return image_fault_set(f, i, "kind", r->kind, "is not a region kind");
    if (r->prot & ~7u)
        return image_fault_set(f, i, "prot", r->prot, "has bits other than read, write and execute");
    if (r->flags & ~REGION_F_ALL)
        return image_fault_set(f, i, "flags", r->flags & ~REGION_F_ALL, "are unknown flag bits (reserved: zero)");
    if (image_valid_region_path(h, r, i, strings, f) < 0)
        return -1;
    if (r->kind != REGION_ANON_PRIVATE && r->kind != REGION_RESERVED &&
        (r->file_offset % IMAGE_PAGE || r->file_offset > IMAGE_MAX_FILE_OFFSET))
        return image_fault_set(f, i, "file_offset", r->file_offset, "is not a page-aligned offset below 2^62");
    /* a program's or library's file: the mapping starts inside it (past
     * its end every page would be SIGBUS, and none could have been saved) */
    if (r->kind == REGION_FILE_PRIVATE && (r->flags & REGION_F_FROM_FILE) &&
        r->file_offset >= image_round_up(r->file_size))
        return image_fault_set(f, i, "file_offset", r->file_offset, "lies past the end of the file (file_size)");
    return image_valid_region_payload(h, r, i, f);
}

/* Executable pages of a file's private mapping: mapped from the file, or
 * saved in full because the file was deleted or replaced since (an engine
 * upgraded while the program ran). */
static inline int image_region_is_code(const struct image_region *r)
{
    return (r->prot & 4u) &&
           (r->kind == REGION_FILE_PRIVATE || (r->kind == REGION_ANON_PRIVATE && (r->flags & REGION_F_DELETED)));
}

/* The restore entry lies in the engine's code. */
static inline int image_valid_entry(const struct image_header *h, const struct image_region *regions, uint64_t n,
                                    struct image_fault *f)
{
    for (uint64_t i = 0; i < n; i++)
        if (h->restore_entry >= regions[i].start && h->restore_entry < regions[i].end)
            return image_region_is_code(&regions[i])
                       ? 0
                       : image_fault_set(f, IMAGE_NO_REGION, "restore_entry", h->restore_entry,
                                         "lies in a region that is not executable code from a file");
    return image_fault_set(f, IMAGE_NO_REGION, "restore_entry", h->restore_entry, "lies in no saved region");
}

/* ---- a payload's head ------------------------------------------------------ */

/* The counts, before the head's arrays are read: each bounded by the
 * region, and the head inside the payload. */
static inline int image_valid_head_counts(const struct image_region *r, uint64_t i, const struct image_payload_head *ph,
                                          int has_parent, struct image_fault *f)
{
    uint64_t pages = (r->end - r->start) / IMAGE_PAGE;
    if (ph->reserved)
        return image_fault_set(f, i, "reserved", ph->reserved, "of the payload head is not zero");
    if (ph->nextents > pages)
        return image_fault_set(f, i, "nextents", ph->nextents, "exceeds the region's pages");
    if (ph->ninherit > pages)
        return image_fault_set(f, i, "ninherit", ph->ninherit, "exceeds the region's pages");
    if (ph->ninherit && !has_parent)
        return image_fault_set(f, i, "ninherit", ph->ninherit, "is not 0 in an image with no parent");
    if (ph->nblocks > pages / IMAGE_BLOCK_PAGES + 1)
        return image_fault_set(f, i, "nblocks", ph->nblocks, "is more blocks than the region's pages fill");
    if (image_round_up(image_head_bytes(ph)) > r->payload_size)
        return image_fault_set(f, i, "nblocks", ph->nblocks, "makes the head larger than the payload");
    return 0;
}

/* Extents inside the region, ascending and apart: their pages, or -1
 * with the first bad one's index in *bad. */
static inline int64_t image_valid_extent_list(const struct image_extent *e, uint64_t n, uint64_t region_pages,
                                              uint64_t *bad)
{
    uint64_t pages = 0, min_next = 0;
    for (uint64_t j = 0; j < n; j++) {
        *bad = j;
        if (e[j].npages == 0 || e[j].first_page < min_next || e[j].first_page >= region_pages ||
            e[j].npages > region_pages - e[j].first_page)
            return -1;
        min_next = e[j].first_page + e[j].npages;
        pages += e[j].npages;
    }
    return (int64_t)pages;
}

/* No page both stored and inherited. */
static inline int image_valid_disjoint(const struct image_extent *a, uint64_t na, const struct image_extent *b,
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

/* Block k: its memory size what the extents say, its bytes inside the
 * payload after the one before (pos), raw ones page-aligned, zstd ones no
 * longer than zstd's bound for their size (the helper's buffer holds that
 * much for a whole block). */
static inline int image_valid_block(const struct image_region *r, uint64_t i, const struct image_block *b,
                                    uint64_t want, uint64_t pos, struct image_fault *f)
{
    if (b->reserved)
        return image_fault_set(f, i, "reserved", b->reserved, "of a block is not zero");
    if (b->raw_len != want)
        return image_fault_set(f, i, "raw_len", b->raw_len, "of a block differs from the pages its extents give it");
    if (b->offset < pos || b->offset > r->payload_size || b->stored_len == 0 ||
        b->stored_len > r->payload_size - b->offset)
        return image_fault_set(f, i, "offset", b->offset, "places a block outside the payload or over the one before");
    if (b->codec != CODEC_RAW && b->codec != CODEC_ZSTD)
        return image_fault_set(f, i, "codec", b->codec, "is not a known block encoding");
    if (b->codec == CODEC_RAW && (b->stored_len != b->raw_len || b->offset % IMAGE_PAGE))
        return image_fault_set(f, i, "stored_len", b->stored_len, "of a raw block is not its page-aligned raw_len");
    if (b->codec == CODEC_ZSTD && b->stored_len > ZSTD_COMPRESSBOUND((uint64_t)b->raw_len))
        return image_fault_set(f, i, "stored_len", b->stored_len,
                               "of a zstd block exceeds zstd's bound for its raw_len");
    return 0;
}

/* The whole head, counts already checked: head points to image_head_bytes
 * bytes.  The extents name pages inside the region, in order, adding up to
 * stored_pages; the blocks cut exactly those pages and fill the payload. */
static inline int image_valid_head(const struct image_region *r, uint64_t i, const uint8_t *head,
                                   struct image_fault *f)
{
    const struct image_payload_head *ph = (const struct image_payload_head *)head;
    const struct image_extent *e = (const struct image_extent *)(head + sizeof *ph);
    const struct image_extent *inh = e + ph->nextents;
    const struct image_block *blk = (const struct image_block *)(inh + ph->ninherit);
    uint64_t region_pages = (r->end - r->start) / IMAGE_PAGE;
    uint64_t bad = 0;
    int64_t pages = image_valid_extent_list(e, ph->nextents, region_pages, &bad);
    if (pages < 0)
        return image_fault_set(f, i, "extent", bad, "is not an ascending run of pages inside the region");
    if (image_valid_extent_list(inh, ph->ninherit, region_pages, &bad) < 0)
        return image_fault_set(f, i, "inherited extent", bad, "is not an ascending run of pages inside the region");
    if (image_valid_disjoint(e, ph->nextents, inh, ph->ninherit) < 0)
        return image_fault_set(f, i, "ninherit", ph->ninherit, "counts inherited extents that overlap stored ones");
    if ((uint64_t)pages != r->stored_pages)
        return image_fault_set(f, i, "stored_pages", r->stored_pages, "differs from the pages the extents name");
    if (ph->nblocks != ((uint64_t)pages + IMAGE_BLOCK_PAGES - 1) / IMAGE_BLOCK_PAGES)
        return image_fault_set(f, i, "nblocks", ph->nblocks, "does not cut the stored pages into 1 MiB blocks");
    uint64_t pos = image_round_up(image_head_bytes(ph));
    for (uint64_t k = 0; k < ph->nblocks; k++) {
        uint64_t left = (uint64_t)pages - k * IMAGE_BLOCK_PAGES;
        uint64_t want = (left < IMAGE_BLOCK_PAGES ? left : IMAGE_BLOCK_PAGES) * IMAGE_PAGE;
        if (image_valid_block(r, i, &blk[k], want, pos, f) < 0)
            return -1;
        pos = blk[k].offset + blk[k].stored_len;
    }
    if (pos != r->payload_size)
        return image_fault_set(f, i, "payload_size", r->payload_size, "does not end where the last block ends");
    return 0;
}

#endif
