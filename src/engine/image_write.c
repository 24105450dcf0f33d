/*
 * image_write.c — write the process's memory into an image (format:
 * src/common/image.h, docs/image-format.md).
 *
 * Runs in the manager thread while every user thread is parked, so it uses
 * no malloc and no stdio.  The image is written into a file no one else
 * can have planted (image_file.c: unnamed until complete), fsync'd and
 * then renamed over <path>: a crash or a full disk never damages the last
 * good image.  Pages that are all zero, and pages never touched, are not
 * stored; shared file mappings are not stored at all (the file is the truth).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>
#include <sys/uio.h>

#include "engine/engine.h"
#include "engine/memory.h"
#include "engine/sys.h"

struct image_writer {
    int fd;
    uint64_t off;            /* next free offset in the image */
    struct image_header hdr;
    struct memory_buf table, strings, present, extents, inherit, blocks;
    struct memory_buf stage;                /* one block, gathered (image_gather) */
    struct memory_buf cbuf, zstd_ws;        /* compression only */
    int shared_pagemap_fd;                  /* where shared memory's pages are looked up */
    ZSTD_CCtx *zstd;                        /* NULL: blocks are stored raw */
    int level;
    uint64_t memory_bytes;
    const char *path;        /* the image's final path, for messages */
    char error[512];
};

static char image_path_cache[1024];
pid_t image_presence_pid; /* set in a forked writer: the program's real pid */
static uint64_t image_main_stack_end;

static void image_name(char *out, size_t cap, const char *dir);

/* The image this process writes next (or wrote last). */
const char *image_current_path(void)
{
    if (!image_path_cache[0]) {
        char unused[8];
        image_name(unused, sizeof unused, engine_config.ckptdir);
    }
    return image_path_cache;
}

/* A forked child: the name it inherited is its parent's (whose vpid it
 * carries); its own is made at its first use. */
void image_forget_name(void)
{
    image_path_cache[0] = 0;
}

/* The image this process writes into dir. */
const char *image_current_path_in(const char *dir)
{
    char unused[8];
    image_name(unused, sizeof unused, dir);
    return image_path_cache;
}

static uint64_t image_now_ns(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int image_fail(struct image_writer *w, int err, const char *what)
{
    if (!w->error[0])
        snprintf(w->error, sizeof w->error, "%s %s: %s", what, w->path, strerror(err));
    return -err;
}

static int image_pwrite_all(struct image_writer *w, const void *buf, uint64_t len, uint64_t off)
{
    const uint8_t *p = buf;
    while (len) {
        size_t chunk = len > (1u << 30) ? (1u << 30) : (size_t)len;
        ssize_t n = pwrite(w->fd, p, chunk, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return image_fail(w, errno, "cannot write image");
        if (n == 0)
            return image_fail(w, ENOSPC, "cannot write image");
        p += n;
        off += (uint64_t)n;
        len -= (uint64_t)n;
    }
    return 0;
}

static int image_is_special(const char *path)
{
    return !strcmp(path, "[vdso]") || !strcmp(path, "[vvar]") || !strcmp(path, "[vvar_vclock]") ||
           !strcmp(path, "[vsyscall]");
}

static void image_note_special(struct image_header *h, const struct memory_area *a)
{
    if (!strcmp(a->path, "[vdso]")) {
        h->vdso_start = a->start;
        h->vdso_end = a->end;
    } else if (!strcmp(a->path, "[vvar]")) {
        h->vvar_start = a->start;
        h->vvar_end = a->end;
    } else if (!strcmp(a->path, "[vvar_vclock]")) {
        h->vclock_start = a->start;
        h->vclock_end = a->end;
    }
}

/* Files mapped executable (programs and libraries), by inode: their
 * private mappings are remapped from the file at restart (see
 * REGION_F_FROM_FILE).  Collected before the areas are written; a process
 * with more of them saves the rest in full. */
static uint64_t image_code_inodes[1024];
static size_t image_ncode;

static void image_note_code(const struct memory_area *a)
{
    if ((a->prot & PROT_EXEC) && !a->shared && a->inode && a->path[0] == '/' &&
        image_ncode < sizeof image_code_inodes / sizeof image_code_inodes[0])
        image_code_inodes[image_ncode++] = a->inode;
}

static int image_is_code(uint64_t inode)
{
    for (size_t i = 0; i < image_ncode; i++)
        if (image_code_inodes[i] == inode)
            return 1;
    return 0;
}

/* Decide how an area is saved; fills kind, flags and (files of code) the
 * file's identity in r. */
static void image_classify(const struct memory_area *a, struct image_region *r)
{
    size_t plen = strlen(a->path);
    int deleted = plen > 10 && !strcmp(a->path + plen - 10, " (deleted)");
    int anon = a->inode == 0 || a->path[0] != '/' || deleted || !strncmp(a->path, "/SYSV", 5) ||
               !strncmp(a->path, "/memfd:", 7);
    struct stat st;
    if (!anon && !a->shared && (stat(a->path, &st) < 0 || st.st_ino != a->inode))
        deleted = anon = 1; /* the path names another file now: save what is mapped */
    r->flags = 0;
    if (a->end == image_main_stack_end)
        r->flags |= REGION_F_STACK | REGION_F_GROWSDOWN;
    if (deleted)
        r->flags |= REGION_F_DELETED;
    if (anon)
        r->kind = a->shared ? REGION_ANON_SHARED : REGION_ANON_PRIVATE;
    else
        r->kind = a->shared ? REGION_FILE_SHARED : REGION_FILE_PRIVATE;
    if (r->kind == REGION_FILE_PRIVATE && image_is_code(a->inode)) {
        r->flags |= REGION_F_FROM_FILE;
        r->file_size = (uint64_t)st.st_size;
        r->file_mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    }
}

static void image_extend(struct memory_buf *list, struct image_extent **cur, uint64_t page)
{
    if (*cur) {
        (*cur)->npages++;
        return;
    }
    struct image_extent e = {page, 1};
    memory_buf_append(list, &e, sizeof e); /* reserved up front: cannot fail */
    *cur = (struct image_extent *)(list->data + list->len - sizeof e);
}

/* Build the extent lists of the pages worth storing and (incremental
 * images) of those the previous image holds unchanged; returns pages stored. */
static uint64_t image_select_pages(struct image_writer *w, int pagemap_fd, const struct memory_area *a,
                                   const struct image_region *r)
{
    uint64_t npages = (a->end - a->start) / IMAGE_PAGE;
    w->extents.len = 0;
    w->inherit.len = 0;
    if (npages > w->present.cap || (npages / 2 + 1) * sizeof(struct image_extent) > w->extents.cap ||
        (npages / 2 + 1) * sizeof(struct image_extent) > w->inherit.cap)
        return UINT64_MAX; /* cannot happen: buffers are sized for the largest area */
    if (r->kind == REGION_ANON_SHARED)
        pagemap_fd = w->shared_pagemap_fd;
    /* A file that cannot serve the pages at restart (deleted, replaced):
     * every page is read and saved.  A file of code: only the pages the
     * process changed. */
    if ((r->flags & REGION_F_DELETED) ||
        memory_pages_present(pagemap_fd, a->start, a->end, w->present.data, (r->flags & REGION_F_FROM_FILE) != 0) < 0)
        memset(w->present.data, 1, npages); /* no pagemap: look at every page */
    int skip_zero = r->kind != REGION_FILE_PRIVATE;
    /* the writer's own stack changes while it is written: no hashes for it */
    uint64_t sp = (uint64_t)__builtin_frame_address(0);
    int hashing = delta_hashing() && !(sp >= a->start && sp < a->end);
    uint64_t stored = 0;
    struct image_extent *cur = NULL, *icur = NULL;
    for (uint64_t i = 0; i < npages; i++) {
        const void *page = (const void *)(a->start + i * IMAGE_PAGE);
        int keep = w->present.data[i];
        if (keep && skip_zero && memory_page_is_zero(page))
            keep = 0;
        if (!keep) {
            cur = icur = NULL;
            continue;
        }
        if (hashing && delta_page(a->start + i * IMAGE_PAGE, page) == 1) {
            cur = NULL;
            image_extend(&w->inherit, &icur, i);
            continue;
        }
        icur = NULL;
        stored++;
        image_extend(&w->extents, &cur, i);
    }
    return stored;
}

/* The pages of one block: runs of contiguous memory, in order. */
struct image_block_src {
    struct iovec iov[IMAGE_BLOCK_PAGES];
    int n;
    uint64_t len;
};

/* Collect the next `pages` stored pages, from extent *ei page *ep on. */
static void image_block_pages(const struct memory_area *a, const struct image_extent *ex, uint64_t *ei,
                              uint64_t *ep, uint64_t pages, struct image_block_src *b)
{
    b->n = 0;
    b->len = pages * IMAGE_PAGE;
    while (pages) {
        uint64_t take = ex[*ei].npages - *ep;
        if (take > pages)
            take = pages;
        b->iov[b->n++] = (struct iovec){(void *)(a->start + (ex[*ei].first_page + *ep) * IMAGE_PAGE),
                                        take * IMAGE_PAGE};
        pages -= take;
        *ep += take;
        if (*ep == ex[*ei].npages) {
            (*ei)++;
            *ep = 0;
        }
    }
}

/* Does it look worth compressing?  A small sample from the middle of the
 * block is compressed first: memory that is already random (compressed
 * media, encrypted data, random numbers) is stored raw at the cost of the
 * sample alone. */
static int image_worth_compressing(struct image_writer *w, const uint8_t *src, uint64_t len)
{
    enum { SAMPLE = 16384 };
    if (len <= 2 * SAMPLE)
        return 1;
    size_t c = ZSTD_compressCCtx(w->zstd, w->cbuf.data, w->cbuf.cap, src + len / 2 - SAMPLE / 2, SAMPLE,
                                 w->level);
    return !ZSTD_isError(c) && c < SAMPLE - SAMPLE / 8;
}

/* Gather a block's pages into the stage buffer.  The bytes stored and
 * their checksum both come from this one copy: memory may change while it
 * is written — a thread that has just parked still runs a few instructions
 * on its stack before it sleeps, the kernel updates its rseq fields, the
 * writer's own stack changes with every call — and the checksum must match
 * whatever was read. */
static const uint8_t *image_gather(struct image_writer *w, const struct image_block_src *b)
{
    uint64_t o = 0;
    for (int i = 0; i < b->n; i++) {
        memcpy(w->stage.data + o, b->iov[i].iov_base, b->iov[i].iov_len);
        o += b->iov[i].iov_len;
    }
    return w->stage.data;
}

static int image_write_block(struct image_writer *w, const struct image_block_src *b, uint64_t payload_start,
                             struct image_block *out)
{
    memset(out, 0, sizeof *out);
    out->raw_len = (uint32_t)b->len;
    const uint8_t *src = image_gather(w, b);
    if (w->zstd) {
        if (image_worth_compressing(w, src, b->len)) {
            size_t c = ZSTD_compressCCtx(w->zstd, w->cbuf.data, w->cbuf.cap, src, b->len, w->level);
            if (!ZSTD_isError(c) && c < b->len - b->len / 16) {
                out->codec = CODEC_ZSTD;
                out->stored_len = (uint32_t)c;
                out->offset = w->off - payload_start;
                out->checksum = XXH3_64bits(w->cbuf.data, c);
                int rc = image_pwrite_all(w, w->cbuf.data, c, w->off);
                w->off += c;
                return rc;
            }
        }
    }
    /* raw: page-aligned, so a restart could map it straight from the file */
    w->off = (w->off + IMAGE_PAGE - 1) & ~(uint64_t)(IMAGE_PAGE - 1);
    out->codec = CODEC_RAW;
    out->stored_len = (uint32_t)b->len;
    out->offset = w->off - payload_start;
    out->checksum = XXH3_64bits(src, b->len);
    int rc = image_pwrite_all(w, src, b->len, w->off);
    w->off += b->len;
    return rc;
}

/* The payload: head (extents and block table, written last, once the
 * blocks' places and checksums are known), then the blocks. */
static int image_write_payload(struct image_writer *w, const struct memory_area *a, struct image_region *r,
                               uint64_t stored)
{
    struct image_payload_head head = {w->extents.len / sizeof(struct image_extent),
                                      (stored + IMAGE_BLOCK_PAGES - 1) / IMAGE_BLOCK_PAGES,
                                      w->inherit.len / sizeof(struct image_extent), 0};
    uint64_t head_bytes = image_head_bytes(&head);
    if (head.nblocks * sizeof(struct image_block) > w->blocks.cap)
        return image_fail(w, EOVERFLOW, "an area grew while writing");
    w->off = (w->off + IMAGE_PAGE - 1) & ~(uint64_t)(IMAGE_PAGE - 1); /* payloads start on a page */
    r->payload_offset = w->off;
    w->off += (head_bytes + IMAGE_PAGE - 1) & ~(uint64_t)(IMAGE_PAGE - 1);
    const struct image_extent *ex = (const struct image_extent *)w->extents.data;
    struct image_block *blocks = (struct image_block *)w->blocks.data;
    static struct image_block_src src; /* 4 KiB of iovecs: kept off the stack */
    uint64_t ei = 0, ep = 0;
    int rc = 0;
    for (uint64_t k = 0; rc == 0 && k < head.nblocks; k++) {
        uint64_t first = k * IMAGE_BLOCK_PAGES;
        uint64_t pages = stored - first < IMAGE_BLOCK_PAGES ? stored - first : IMAGE_BLOCK_PAGES;
        image_block_pages(a, ex, &ei, &ep, pages, &src);
        rc = image_write_block(w, &src, r->payload_offset, &blocks[k]);
    }
    if (rc < 0)
        return rc;
    XXH64_state_t st;
    XXH64_reset(&st, 0);
    XXH64_update(&st, &head, sizeof head);
    XXH64_update(&st, w->extents.data, w->extents.len);
    XXH64_update(&st, w->inherit.data, w->inherit.len);
    XXH64_update(&st, blocks, head.nblocks * sizeof *blocks);
    uint64_t o = r->payload_offset;
    rc = image_pwrite_all(w, &head, sizeof head, o);
    if (rc == 0)
        rc = image_pwrite_all(w, w->extents.data, w->extents.len, o + sizeof head);
    if (rc == 0)
        rc = image_pwrite_all(w, w->inherit.data, w->inherit.len, o + sizeof head + w->extents.len);
    if (rc == 0)
        rc = image_pwrite_all(w, blocks, head.nblocks * sizeof *blocks,
                              o + sizeof head + w->extents.len + w->inherit.len);
    if (rc < 0)
        return rc;
    r->payload_size = w->off - r->payload_offset;
    r->stored_pages = stored;
    r->checksum = XXH64_digest(&st);
    w->memory_bytes += stored * IMAGE_PAGE;
    return 0;
}

static int image_write_area(struct image_writer *w, int pagemap_fd, const struct memory_area *a)
{
    struct image_region r;
    memset(&r, 0, sizeof r);
    r.start = a->start;
    r.end = a->end;
    r.prot = a->prot;
    r.file_offset = a->offset;
    image_classify(a, &r);
    if (r.kind == REGION_ANON_SHARED)
        r.object_id = a->inode ? a->inode : a->start;
    size_t plen = strlen(a->path);
    if (plen) {
        r.path_offset = w->strings.len;
        r.path_len = (uint32_t)plen;
        if (memory_buf_append(&w->strings, a->path, plen + 1) < 0)
            return image_fail(w, ENOMEM, "out of memory for");
    }
    if (r.kind != REGION_FILE_SHARED) {
        int unreadable = !(a->prot & PROT_READ);
        uint64_t npages = (a->end - a->start) / IMAGE_PAGE;
        if (unreadable) {
            if (npages > w->present.cap)
                return image_fail(w, EOVERFLOW, "an area grew while writing");
            memory_pages_present(pagemap_fd, a->start, a->end, w->present.data, 0);
            int any = 0;
            for (uint64_t i = 0; i < npages && !any; i++)
                any = w->present.data[i];
            if (!any && r.kind != REGION_ANON_SHARED) {
                r.kind = REGION_RESERVED; /* guard pages: address space only */
                return memory_buf_append(&w->table, &r, sizeof r);
            }
            if (mprotect((void *)a->start, a->end - a->start, a->prot | PROT_READ) < 0)
                return image_fail(w, errno, "cannot read protected memory for");
        }
        uint64_t stored = image_select_pages(w, pagemap_fd, a, &r);
        if (stored == UINT64_MAX)
            return image_fail(w, EOVERFLOW, "an area grew while writing");
        int rc = image_write_payload(w, a, &r, stored);
        if (unreadable)
            mprotect((void *)a->start, a->end - a->start, a->prot);
        if (rc < 0)
            return rc;
    }
    if (memory_buf_append(&w->table, &r, sizeof r) < 0)
        return image_fail(w, ENOMEM, "out of memory for");
    return 0;
}

/* libzstd's tracing hooks, defined here (hidden) so they can never bind to
 * a tracing build of libzstd in the user's program: no tracing. */
unsigned long long ZSTD_trace_compress_begin(const void *cctx);
void ZSTD_trace_compress_end(unsigned long long ctx, const void *trace);
unsigned long long ZSTD_trace_compress_begin(const void *cctx)
{
    (void)cctx;
    return 0;
}
void ZSTD_trace_compress_end(unsigned long long ctx, const void *trace)
{
    (void)ctx;
    (void)trace;
}

/* Compression (engine_config.compress): a zstd context in the writer's own
 * buffers (left out of the image, freed after it), no malloc. */
static int image_compressor_init(struct image_writer *w)
{
    w->zstd = NULL;
    if (!engine_config.compress)
        return 0;
    w->level = engine_config.zstd_level;
    size_t block = (size_t)IMAGE_BLOCK_PAGES * IMAGE_PAGE;
    size_t ws = ZSTD_estimateCCtxSize_usingCParams(ZSTD_getCParams(w->level, block, 0));
    if (memory_buf_reserve(&w->cbuf, ZSTD_compressBound(block)) < 0 || memory_buf_reserve(&w->zstd_ws, ws) < 0)
        return -ENOMEM;
    w->zstd = ZSTD_initStaticCCtx(w->zstd_ws.data, w->zstd_ws.cap);
    return w->zstd ? 0 : -ENOMEM;
}

static void image_fill_header(struct image_writer *w, uint64_t generation, size_t nthreads)
{
    struct image_header *h = &w->hdr;
    memcpy(h->magic, IMAGE_MAGIC, 8);
    h->version = IMAGE_VERSION;
    h->header_size = IMAGE_HEADER_SIZE;
    h->arch = IMAGE_ARCH_X86_64;
    h->page_size = IMAGE_PAGE;
    h->uid = getuid();
    h->nthreads = (uint32_t)nthreads;
    h->created_ns = image_now_ns(CLOCK_REALTIME);
    h->comp_id = manager_state.comp_id;
    h->generation = generation;
    h->restore_entry = (uint64_t)(uintptr_t)restore_entry;
    h->vpid = services_virtual_pid();
    h->real_pid = image_presence_pid ? image_presence_pid : sys_getpid(); /* the program's, not its writer's */
    h->vppid = manager_state.family[0];
    h->vpgid = manager_state.family[1];
    h->vsid = manager_state.family[2];
    h->nprocs = manager_state.ckpt_nprocs;
    h->program_break = (uint64_t)sys_call1(SYS_brk, 0);
    snprintf(h->program, sizeof h->program, "%s", engine_config.program);
    gethostname(h->host, sizeof h->host - 1);
}

static int image_finish(struct image_writer *w)
{
    struct image_header *h = &w->hdr;
    h->nregions = w->table.len / sizeof(struct image_region);
    h->table_offset = w->off;
    h->strings_offset = h->table_offset + w->table.len;
    h->strings_size = w->strings.len;
    size_t sections_len;
    const void *sections = sections_data(&sections_len);
    h->sections_offset = h->strings_offset + h->strings_size;
    h->sections_size = sections_len;
    h->memory_bytes = w->memory_bytes;
    XXH64_state_t st;
    XXH64_reset(&st, 0);
    XXH64_update(&st, w->table.data, w->table.len);
    XXH64_update(&st, w->strings.data, w->strings.len);
    if (sections_len)
        XXH64_update(&st, sections, sections_len);
    int rc = image_pwrite_all(w, w->table.data, w->table.len, h->table_offset);
    if (rc == 0)
        rc = image_pwrite_all(w, w->strings.data, w->strings.len, h->strings_offset);
    if (rc == 0 && sections_len)
        rc = image_pwrite_all(w, sections, sections_len, h->sections_offset);
    if (rc < 0)
        return rc;
    struct image_trailer t;
    memset(&t, 0, sizeof t);
    memcpy(t.magic, IMAGE_TRAILER_MAGIC, 8);
    uint64_t trailer_off = h->sections_offset + h->sections_size;
    t.file_size = trailer_off + sizeof t;
    t.table_checksum = XXH64_digest(&st);
    h->file_size = t.file_size;
    h->header_checksum = 0;
    h->header_checksum = XXH64(h, sizeof *h, 0);
    t.header_checksum = h->header_checksum;
    rc = image_pwrite_all(w, &t, sizeof t, trailer_off);
    if (rc == 0)
        rc = image_pwrite_all(w, h, sizeof *h, 0);
    if (rc == 0 && fsync(w->fd) < 0)
        rc = image_fail(w, errno, "cannot flush image");
    return rc;
}

static void image_name(char *out, size_t cap, const char *dir)
{
    if (!image_path_cache[0] || strncmp(image_path_cache, dir, strlen(dir)) != 0) {
        snprintf(image_path_cache, sizeof image_path_cache, "%s/ckpt_%s_%08x-%d-%llx.dmtcp", dir,
                 engine_config.program, image_host_id(), services_virtual_pid(),
                 (unsigned long long)manager_state.launch_ns);
    }
    snprintf(out, cap, "%s", image_path_cache);
}

int image_write(uint64_t generation, const char *dir, struct image_result *res)
{
    static struct image_writer w; /* big; lives in the engine's bss */
    static struct image_file file;
    memset(&w, 0, sizeof w);
    uint64_t t0 = image_now_ns(CLOCK_MONOTONIC);
    image_name(res->path, sizeof res->path, dir);
    w.path = res->path;
    res->error[0] = 0;
    int rc = image_file_create(&file, res->path, w.error, sizeof w.error);
    w.fd = file.fd;
    if (rc < 0)
        goto out;
    int pagemap_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    /* A forked writer has no page tables for shared memory (the kernel does
     * not copy them at fork; the pages stay in the shared object): it asks
     * the program's page map which of them hold data. */
    w.shared_pagemap_fd = pagemap_fd;
    if (image_presence_pid) {
        char pm[64];
        snprintf(pm, sizeof pm, "/proc/%d/pagemap", (int)image_presence_pid);
        w.shared_pagemap_fd = sys_open_real(pm, O_RDONLY | O_CLOEXEC);
    }
    struct memory_buf text = {0}, areas = {0};
    size_t count = 0;
    /* Size every buffer for the largest area first, then read the maps again,
     * so no buffer moves while the areas are being written. */
    rc = memory_read_maps(&text, &areas, &count);
    uint64_t maxpages = 1;
    for (size_t i = 0; rc == 0 && i < count; i++) {
        const struct memory_area *a = (const struct memory_area *)areas.data + i;
        if ((a->end - a->start) / IMAGE_PAGE > maxpages)
            maxpages = (a->end - a->start) / IMAGE_PAGE;
    }
    if (rc == 0 &&
        (memory_buf_reserve(&w.present, maxpages) < 0 ||
         memory_buf_reserve(&w.extents, (maxpages / 2 + 1) * sizeof(struct image_extent)) < 0 ||
         memory_buf_reserve(&w.inherit, (maxpages / 2 + 1) * sizeof(struct image_extent)) < 0 ||
         memory_buf_reserve(&w.blocks, (maxpages / IMAGE_BLOCK_PAGES + 1) * sizeof(struct image_block)) < 0 ||
         memory_buf_reserve(&w.stage, (size_t)IMAGE_BLOCK_PAGES * IMAGE_PAGE) < 0 ||
         image_compressor_init(&w) < 0 ||
         memory_buf_reserve(&w.table, (count + 64) * sizeof(struct image_region)) < 0 ||
         memory_buf_reserve(&w.strings, text.len + 65536) < 0 ||
         memory_buf_reserve(&text, text.len * 2 + 65536) < 0 ||
         memory_buf_reserve(&areas, (count + 64) * 2 * sizeof(struct memory_area)) < 0))
        rc = -ENOMEM;
    if (rc == 0)
        rc = memory_read_maps(&text, &areas, &count);
    if (rc < 0) {
        image_fail(&w, -rc, "cannot read /proc/self/maps for");
    } else {
        int nthreads = 0;
        for (int i = 0; i < threads_state.nrecs; i++)
            nthreads += threads_state.recs[i].in_use != 0;
        image_fill_header(&w, generation, (size_t)nthreads);
        delta_writer_begin(&w.hdr);
        /* The main stack: the kernel names it [stack] only in the process it
         * created, so its top is remembered (before any memory is written,
         * so the image holds it) for later generations. */
        for (size_t i = 0; i < count && !image_main_stack_end; i++) {
            const struct memory_area *a = (const struct memory_area *)areas.data + i;
            if (!strcmp(a->path, "[stack]"))
                image_main_stack_end = a->end;
        }
        image_ncode = 0;
        for (size_t i = 0; i < count; i++)
            image_note_code((const struct memory_area *)areas.data + i);
        w.off = IMAGE_HEADER_SIZE;
        for (size_t i = 0; rc == 0 && i < count; i++) {
            const struct memory_area *a = (const struct memory_area *)areas.data + i;
            if (image_is_special(a->path)) {
                image_note_special(&w.hdr, a);
                continue;
            }
            /* Leave out the writer's own buffers, even if the kernel merged
             * one into a neighbouring area. */
            struct memory_area part = *a;
            uint64_t os, oe;
            while (rc == 0 && part.start < part.end && memory_own_overlap(part.start, part.end, &os, &oe)) {
                if (os > part.start) {
                    struct memory_area before = part;
                    before.end = os;
                    rc = image_write_area(&w, pagemap_fd, &before);
                }
                if (oe >= part.end)
                    part.start = part.end;
                else {
                    part.offset += oe - part.start;
                    part.start = oe;
                }
            }
            if (rc == 0 && part.start < part.end)
                rc = image_write_area(&w, pagemap_fd, &part);
        }
        if (rc == 0)
            rc = image_finish(&w);
    }
    if (pagemap_fd >= 0)
        close(pagemap_fd);
    if (w.shared_pagemap_fd >= 0 && w.shared_pagemap_fd != pagemap_fd)
        close(w.shared_pagemap_fd);
    memory_buf_free(&text);
    memory_buf_free(&areas);
    memory_buf_free(&w.table);
    memory_buf_free(&w.strings);
    memory_buf_free(&w.present);
    memory_buf_free(&w.extents);
    memory_buf_free(&w.inherit);
    memory_buf_free(&w.blocks);
    memory_buf_free(&w.stage);
    memory_buf_free(&w.cbuf);
    memory_buf_free(&w.zstd_ws);
    /* written and fsync'd (image_finish): named now, closed after (the
     * unnamed file needs its descriptor to get a name) */
    if (rc == 0)
        rc = image_file_publish(&file, w.error, sizeof w.error);
    if (rc < 0)
        image_file_discard(&file);
    else
        image_file_close(&file); /* fsync succeeded: a late close error changes nothing on disk */
out:
    if (rc < 0)
        snprintf(res->error, sizeof res->error, "%s", w.error);
    delta_writer_end(rc == 0);
    res->header_checksum = w.hdr.header_checksum;
    res->bytes = w.off;
    res->usec = (image_now_ns(CLOCK_MONOTONIC) - t0) / 1000;
    return rc;
}
