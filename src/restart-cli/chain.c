/*
 * chain.c — restarting from an incremental image: follow its chain of
 * parent images and work out the restart plan (format: struct plan_* in
 * src/common/image.h) that tells the helper which blocks of which older
 * image hold the pages the newest image inherits.
 *
 * Every image of the chain is trusted (trust.c) and checked like the
 * newest (image_check.c) on the descriptor the helper then reads, and must
 * carry exactly the header checksum its child recorded, so an image
 * replaced or rewritten since is refused, never silently mixed in.  The
 * plan decompresses each needed block once, however many pages it gives.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/image_check.h"
#include "common/image_valid.h"
#include "restart-cli/chain.h"
#include "restart-cli/trust.h"

/* The pages the newest image inherits: ranges in address order, and one
 * bit per page once an older image has provided it. */
struct chain_want {
    uint64_t addr, npages, bit;
};

struct chain_ctx {
    struct chain_want *want;
    size_t nwant, capwant;
    uint8_t *done; /* bitmap */
    uint64_t total, satisfied;
    FILE *plan;    /* the plan, built in memory (open_memstream) */
    char *plan_buf;
    size_t plan_len;
    uint64_t nblocks;
};

/* The table of an image and, for region i, its payload head (malloc'd). */
static struct image_region *chain_table(int fd, const struct image_header *h)
{
    size_t len = h->nregions * sizeof(struct image_region);
    struct image_region *r = malloc(len ? len : 1);
    if (r && image_read_at(fd, r, len, h->table_offset) < 0) {
        free(r);
        return NULL;
    }
    return r;
}

/* Region r's payload head, read again from the file and checked again
 * (image_valid.h): the file may have changed since image_check_file read
 * it, and the head's counts and extents steer every index below. */
static uint8_t *chain_head(int fd, const struct image_region *r, struct image_payload_head *ph)
{
    struct image_fault f;
    if (image_read_at(fd, ph, sizeof *ph, r->payload_offset) < 0 || image_valid_head_counts(r, 0, ph, 1, &f) < 0)
        return NULL;
    uint64_t hb = image_head_bytes(ph);
    uint8_t *head = malloc(hb);
    if (head && (image_read_at(fd, head, hb, r->payload_offset) < 0 || image_valid_head(r, 0, head, &f) < 0)) {
        free(head);
        return NULL;
    }
    return head;
}

static int chain_add_want(struct chain_ctx *c, uint64_t addr, uint64_t npages)
{
    if (c->nwant == c->capwant) {
        size_t cap = c->capwant ? c->capwant * 2 : 256;
        struct chain_want *w = realloc(c->want, cap * sizeof *w);
        if (!w)
            return -1;
        c->want = w;
        c->capwant = cap;
    }
    c->want[c->nwant++] = (struct chain_want){addr, npages, c->total};
    c->total += npages;
    return 0;
}

/* Collect what the newest image inherits. */
static int chain_collect(struct chain_ctx *c, int fd, const struct image_header *h)
{
    struct image_region *regions = chain_table(fd, h);
    if (!regions)
        return -1;
    int rc = 0;
    for (uint64_t i = 0; rc == 0 && i < h->nregions; i++) {
        const struct image_region *r = &regions[i];
        if (!r->payload_size)
            continue;
        struct image_payload_head ph;
        uint8_t *head = chain_head(fd, r, &ph);
        if (!head) {
            rc = -1;
            break;
        }
        const struct image_extent *inh = (const struct image_extent *)(head + sizeof ph) + ph.nextents;
        for (uint64_t k = 0; rc == 0 && k < ph.ninherit; k++)
            rc = chain_add_want(c, r->start + inh[k].first_page * IMAGE_PAGE, inh[k].npages);
        free(head);
    }
    free(regions);
    return rc;
}

/* The first wanted range that ends after addr. */
static size_t chain_find(const struct chain_ctx *c, uint64_t addr)
{
    size_t lo = 0, hi = c->nwant;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c->want[mid].addr + c->want[mid].npages * IMAGE_PAGE <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Pages [addr, addr + n pages), at page `at` of the block being looked at:
 * append a copy for every run of them still wanted. */
static void chain_match(struct chain_ctx *c, uint64_t addr, uint64_t n, uint32_t at, FILE *copies,
                        uint32_t *ncopies)
{
    uint64_t end = addr + n * IMAGE_PAGE;
    for (size_t w = chain_find(c, addr); w < c->nwant && c->want[w].addr < end; w++) {
        const struct chain_want *cw = &c->want[w];
        uint64_t from = cw->addr > addr ? cw->addr : addr;
        uint64_t to = cw->addr + cw->npages * IMAGE_PAGE < end ? cw->addr + cw->npages * IMAGE_PAGE : end;
        struct plan_copy run = {0, 0, 0};
        for (uint64_t a = from; a < to; a += IMAGE_PAGE) {
            uint64_t bit = cw->bit + (a - cw->addr) / IMAGE_PAGE;
            int wanted = !(c->done[bit / 8] & (1u << (bit % 8)));
            if (wanted) {
                c->done[bit / 8] |= (uint8_t)(1u << (bit % 8));
                c->satisfied++;
                if (run.npages && run.addr + run.npages * IMAGE_PAGE == a) {
                    run.npages++;
                    continue;
                }
            }
            if (run.npages) {
                fwrite(&run, sizeof run, 1, copies);
                (*ncopies)++;
                run.npages = 0;
            }
            if (wanted)
                run = (struct plan_copy){at + (uint32_t)((a - addr) / IMAGE_PAGE), 1, a};
        }
        if (run.npages) {
            fwrite(&run, sizeof run, 1, copies);
            (*ncopies)++;
        }
    }
}

/* Look through one older image (index idx in the plan) for wanted pages. */
static int chain_scan(struct chain_ctx *c, int fd, const struct image_header *h, uint32_t idx)
{
    struct image_region *regions = chain_table(fd, h);
    if (!regions)
        return -1;
    int rc = 0;
    char *cbuf = NULL;
    size_t clen = 0;
    for (uint64_t i = 0; rc == 0 && i < h->nregions; i++) {
        const struct image_region *r = &regions[i];
        if (!r->payload_size || !r->stored_pages)
            continue;
        if (chain_find(c, r->start) == c->nwant || c->want[chain_find(c, r->start)].addr >= r->end)
            continue; /* nothing wanted in this region */
        struct image_payload_head ph;
        uint8_t *head = chain_head(fd, r, &ph);
        if (!head) {
            rc = -1;
            break;
        }
        const struct image_extent *ex = (const struct image_extent *)(head + sizeof ph);
        const struct image_block *blk = (const struct image_block *)(ex + ph.nextents + ph.ninherit);
        uint64_t ei = 0, ep = 0;
        for (uint64_t k = 0; k < ph.nblocks; k++) {
            FILE *copies = open_memstream(&cbuf, &clen);
            if (!copies) {
                rc = -1;
                break;
            }
            uint32_t ncopies = 0, at = 0, pages = blk[k].raw_len / IMAGE_PAGE;
            while (at < pages) { /* the block's pages, run by run */
                uint64_t take = ex[ei].npages - ep;
                if (take > pages - at)
                    take = pages - at;
                chain_match(c, r->start + (ex[ei].first_page + ep) * IMAGE_PAGE, take, at, copies, &ncopies);
                at += (uint32_t)take;
                ep += take;
                if (ep == ex[ei].npages) {
                    ei++;
                    ep = 0;
                }
            }
            fclose(copies);
            if (ncopies) {
                struct plan_block pb = {idx, ncopies, r->payload_offset + blk[k].offset, blk[k].stored_len,
                                        blk[k].raw_len, blk[k].codec, 0, blk[k].checksum};
                fwrite(&pb, sizeof pb, 1, c->plan);
                fwrite(cbuf, 1, clen, c->plan);
                c->nblocks++;
            }
            free(cbuf);
            cbuf = NULL;
        }
        free(head);
    }
    free(regions);
    return rc;
}

int chain_plan(const char *image, int fd, const struct image_header *newest, int full, struct chain_result *out,
               char *err, size_t cap)
{
    memset(out, 0, sizeof *out);
    out->plan_fd = -1;
    if (!newest->parent_checksum)
        return 0;
    struct chain_ctx c = {0};
    int rc = -1;
    if (chain_collect(&c, fd, newest) < 0) {
        snprintf(err, cap, "%s: cannot read its page lists", image);
        goto out;
    }
    if (!c.total) { /* it stores every page it has: no older image needed */
        rc = 0;
        goto out;
    }
    c.done = calloc(c.total / 8 + 1, 1);
    c.plan = open_memstream(&c.plan_buf, &c.plan_len);
    if (!c.done || !c.plan) {
        snprintf(err, cap, "%s: out of memory for the restart plan", image);
        goto out;
    }
    struct plan_head ph = {PLAN_MAGIC, 0, 0};
    fwrite(&ph, sizeof ph, 1, c.plan);
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", image);
    char *slash = strrchr(dir, '/');
    if (slash)
        slash[1] = 0;
    else
        snprintf(dir, sizeof dir, "./");
    struct image_header child = *newest, h;
    char path[4096 + 256];
    while (c.satisfied < c.total) {
        if (!child.parent_checksum) {
            snprintf(err, cap, "%s: %llu pages it builds on are in none of the images of its chain: the chain is "
                               "incomplete", image, (unsigned long long)(c.total - c.satisfied));
            goto out;
        }
        if (out->nimages == CHAIN_MAX) {
            snprintf(err, cap, "%s: a chain of more than %d images", image, CHAIN_MAX);
            goto out;
        }
        /* the parent field need not end in a NUL: only its bytes are read */
        int outside = memchr(child.parent, '/', strnlen(child.parent, sizeof child.parent)) != NULL;
        snprintf(path, sizeof path, "%s%.*s", dir, (int)sizeof child.parent, child.parent);
        if (outside) {
            snprintf(err, cap, "%s: names a parent image outside its directory: the image is corrupt", image);
            goto out;
        }
        /* the older image is trusted and checked on one descriptor, and
         * that descriptor is what the helper reads */
        char why[1024];
        int pfd = trust_open_image(path, why, sizeof why);
        if (pfd < 0 && errno == ENOENT) {
            snprintf(err, cap, "%s: the image it builds on, %s, is missing (incremental images need "
                               "the whole chain: keep the ckpt_*.g*.dmtcp files beside it)", image, path);
            goto out;
        }
        if (pfd < 0 || image_check_fd(pfd, path, &h, why, sizeof why, full) < 0) {
            snprintf(err, cap, "%s: the image it builds on, %s", image, why);
            if (pfd >= 0)
                close(pfd);
            goto out;
        }
        if (h.header_checksum != child.parent_checksum) {
            snprintf(err, cap, "%s: %s is not the image it was built on (it was replaced since)", image, path);
            close(pfd);
            goto out;
        }
        if (chain_scan(&c, pfd, &h, (uint32_t)out->nimages) < 0) {
            snprintf(err, cap, "%s: cannot read %s", image, path);
            close(pfd);
            goto out;
        }
        out->fds[out->nimages++] = pfd;
        child = h;
    }
    fclose(c.plan);
    c.plan = NULL;
    ph.nimages = (uint32_t)out->nimages;
    ph.nblocks = c.nblocks;
    memcpy(c.plan_buf, &ph, sizeof ph);
    out->plan_fd = memfd_create("stasis-restart-plan", MFD_CLOEXEC);
    if (out->plan_fd < 0 || write(out->plan_fd, c.plan_buf, c.plan_len) != (ssize_t)c.plan_len) {
        snprintf(err, cap, "%s: cannot pass the restart plan: %s", image, strerror(errno));
        goto out;
    }
    out->plan_len = c.plan_len;
    rc = 0;
out:
    if (c.plan)
        fclose(c.plan);
    free(c.plan_buf);
    free(c.want);
    free(c.done);
    if (rc < 0) {
        for (int i = 0; i < out->nimages; i++)
            close(out->fds[i]);
        if (out->plan_fd >= 0)
            close(out->plan_fd);
        memset(out, 0, sizeof *out);
        out->plan_fd = -1;
    }
    return rc;
}
