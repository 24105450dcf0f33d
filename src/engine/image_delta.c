/*
 * image_delta.c — incremental checkpoints: which pages changed since the
 * last image, and the chain of images that holds the rest.
 *
 * With incremental checkpoints on (STASIS_INCREMENTAL, dmtcp_launch
 * --incremental), every checkpoint records an XXH3-64 hash of each page it
 * saved (8 bytes per page, in the engine's own buffers, left out of
 * images).  The next checkpoint hashes each page again: a page whose hash
 * matches the one recorded for the same address is not stored but marked
 * "inherited" — its bytes are in the previous image.  Content decides, not
 * write tracking, so nothing that changes memory without a write fault
 * (MADV_DONTNEED, mremap, writes by the kernel or another process) can
 * slip through; a full 64-bit hash per page makes a collision, the one way
 * to get it wrong, as unlikely as a corrupt disk block passing its checksum.
 *
 * The chain: before an incremental image replaces ckpt_X.dmtcp, the image
 * it builds on gets a second name, ckpt_X.g<generation>.dmtcp (a hard link,
 * so the canonical name is never missing), and the new image records that
 * name and the header checksum of that image.  dmtcp_restart follows the
 * names back to the last full image.  Chains are compacted: every
 * STASIS_FULL_EVERY-th image is full, and so is the next one once the
 * images of the chain add up to half of its full image; after a full image
 * the chain's older files are deleted.  After a restart the first image is
 * full (the hashes are not kept in images).
 *
 * Works unchanged with forked checkpointing: the table of hashes the writer
 * builds reaches the parent through a memfd created before the fork.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "engine/engine.h"
#include "engine/memory.h"

/* A run of hashed pages in a table: header, then npages hashes. */
struct delta_run {
    uint64_t first; /* address >> 12 of the first page */
    uint64_t npages;
};

#define DELTA_MAX_CHAIN 64

static struct {
    struct memory_buf prev;     /* runs of the last good image, ascending */
    int have_prev;
    char path[1024];            /* canonical image the chain belongs to */
    uint64_t last_checksum;     /* header checksum of the image at path */
    uint64_t last_generation;
    uint32_t depth;             /* images since the last full one */
    uint64_t base_bytes;        /* size of the chain's full image */
    uint64_t delta_bytes;       /* sizes of the incremental images since */
    char links[DELTA_MAX_CHAIN][1100]; /* the chain's second names */
    int nlinks;
} delta_state;

/* This checkpoint's plan and the writer's progress, shared by parent and
 * (forked) writer through memory copied at the fork. */
static struct delta_pass {
    int hashing;             /* record hashes (incremental mode on) */
    int incremental;         /* this image may inherit pages */
    char parent_link[1100];  /* the previous image's second name */
    char parent_base[256];   /* its file name, for the header */
    uint64_t parent_checksum;
    int table_fd;            /* memfd: the writer's table for the parent */
    /* writer side */
    struct memory_buf next;
    struct delta_run *cur;   /* the run being extended in next */
    const uint8_t *pcur;     /* cursor in prev */
    const uint8_t *pend;
} delta_pass = {.table_fd = -1};

static int delta_read_checksum(const char *path, uint64_t *sum)
{
    /* never through a link, never blocking on a FIFO put in its place: a
     * file that is not the image written last simply makes a full image */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0)
        return -1;
    struct image_header h;
    ssize_t n = pread(fd, &h, sizeof h, 0);
    close(fd);
    if (n != (ssize_t)sizeof h || memcmp(h.magic, IMAGE_MAGIC, 8) != 0)
        return -1;
    *sum = h.header_checksum;
    return 0;
}

void delta_prepare(const char *path, uint64_t generation)
{
    struct delta_pass *d = &delta_pass;
    memory_buf_free(&d->next);
    engine_fds_close(&d->table_fd);
    memset(d, 0, sizeof *d);
    d->table_fd = -1;
    if (!engine_config.incremental)
        return;
    if (engine_fds_own(memfd_create("stasis-hashes", MFD_CLOEXEC), &d->table_fd, "incremental hash table") < 0)
        return; /* no table: a full image, and no hashes for the next */
    d->hashing = 1;
    uint64_t sum;
    int full = !delta_state.have_prev                               /* no hashes yet */
               || strcmp(delta_state.path, path) != 0                /* a new image name */
               || delta_state.depth + 1 >= (uint32_t)engine_config.full_every /* chain long enough */
               || delta_state.depth + 1 >= DELTA_MAX_CHAIN
               || delta_state.delta_bytes * 2 >= delta_state.base_bytes /* chain half its full image */
               || delta_read_checksum(path, &sum) < 0 || sum != delta_state.last_checksum; /* replaced */
    if (full)
        return;
    snprintf(d->parent_link, sizeof d->parent_link, "%.*s.g%llu.dmtcp", (int)(strlen(path) - 6), path,
             (unsigned long long)delta_state.last_generation);
    /* link() creates the name or fails (EEXIST): a name another user
     * planted is never followed or written, and only costs a full image */
    unlink(d->parent_link);
    if (link(path, d->parent_link) < 0) {
        engine_log("checkpoint %llu: cannot link %s as %s (%s); writing a full image",
                   (unsigned long long)generation, path, d->parent_link, strerror(errno));
        d->parent_link[0] = 0;
        return;
    }
    const char *base = strrchr(d->parent_link, '/');
    base = base ? base + 1 : d->parent_link;
    if (strlen(base) >= sizeof d->parent_base) { /* longer than a file name can be */
        unlink(d->parent_link);
        d->parent_link[0] = 0;
        return;
    }
    snprintf(d->parent_base, sizeof d->parent_base, "%.255s", base);
    d->parent_checksum = delta_state.last_checksum;
    d->incremental = 1;
    /* listed before the write, so the image itself knows every file of
     * its chain (a restarted process deletes them with its first full image) */
    if (delta_state.nlinks < DELTA_MAX_CHAIN)
        snprintf(delta_state.links[delta_state.nlinks++], sizeof delta_state.links[0], "%.1099s",
                 d->parent_link);
}

/* ---- the writer's side ------------------------------------------------- */

void delta_writer_begin(struct image_header *h)
{
    struct delta_pass *d = &delta_pass;
    memset(&d->next, 0, sizeof d->next); /* the parent's copy is not ours to free */
    d->cur = NULL;
    d->pcur = delta_state.have_prev ? delta_state.prev.data : NULL;
    d->pend = d->pcur ? d->pcur + delta_state.prev.len : NULL;
    if (d->incremental) {
        h->parent_checksum = d->parent_checksum;
        snprintf(h->parent, sizeof h->parent, "%.255s", d->parent_base);
        h->chain_depth = delta_state.depth + 1;
    }
}

int delta_hashing(void)
{
    return delta_pass.hashing;
}

/* The hash recorded for page address a in the last image, or 0 with
 * *found = 0.  Calls come in ascending address order. */
static uint64_t delta_prev_hash(uint64_t page, int *found)
{
    struct delta_pass *d = &delta_pass;
    *found = 0;
    while (d->pcur && d->pcur < d->pend) {
        const struct delta_run *r = (const struct delta_run *)d->pcur;
        if (page < r->first)
            return 0;
        if (page < r->first + r->npages) {
            *found = 1;
            return ((const uint64_t *)(r + 1))[page - r->first];
        }
        d->pcur += sizeof *r + r->npages * 8;
    }
    return 0;
}

/* Records page p (at address a) in the new table; 1 when it may be
 * inherited from the previous image, 0 when it must be stored, -1 when
 * the table cannot grow (the page is stored and the next image stores it
 * again).  A run of hashes grows only with the page right after its last,
 * so pages left out (not present, zero, the writer's stack) break it. */
int delta_page(uint64_t a, const void *p)
{
    struct delta_pass *d = &delta_pass;
    uint64_t h = XXH3_64bits(p, IMAGE_PAGE);
    uint64_t page = a / IMAGE_PAGE;
    if (!d->cur || d->cur->first + d->cur->npages != page) {
        struct delta_run r = {page, 0};
        size_t at = d->next.len;
        if (memory_buf_append(&d->next, &r, sizeof r) < 0)
            return -1;
        d->cur = (struct delta_run *)(d->next.data + at);
    }
    size_t curoff = (size_t)((uint8_t *)d->cur - d->next.data);
    if (memory_buf_append(&d->next, &h, sizeof h) < 0)
        return -1;
    d->cur = (struct delta_run *)(d->next.data + curoff); /* the buffer may have moved */
    d->cur->npages++;
    int found;
    uint64_t old = delta_prev_hash(page, &found);
    return d->incremental && found && old == h;
}

/* Hand the table to the parent (end of a successful write). */
int delta_writer_end(int ok)
{
    struct delta_pass *d = &delta_pass;
    int rc = 0;
    if (ok && d->hashing && d->table_fd >= 0) {
        size_t off = 0;
        while (off < d->next.len) {
            ssize_t n = pwrite(d->table_fd, d->next.data + off, d->next.len - off, (off_t)off);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                rc = -1;
                break;
            }
            off += (size_t)n;
        }
        if (rc == 0 && ftruncate(d->table_fd, (off_t)d->next.len) < 0)
            rc = -1;
        if (rc < 0 && ftruncate(d->table_fd, 0) < 0) /* no table rather than half of one */
            rc = -1;
    }
    memory_buf_free(&d->next);
    return rc;
}

/* ---- after the write, in the program ----------------------------------- */

/* A full image now stands under the canonical name: the files of the chain
 * it replaced are not needed any more.  Those this process made are listed;
 * any other ckpt_X.g<N>.dmtcp beside it (left by a process restarted from
 * an older image of the chain) goes too. */
static void delta_forget_chain(const char *path)
{
    for (int i = 0; i < delta_state.nlinks; i++)
        unlink(delta_state.links[i]);
    delta_state.nlinks = 0;
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        return;
    *slash = 0;
    const char *base = slash + 1;
    size_t stem = strlen(base) - 6; /* without ".dmtcp" */
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return;
    static char buf[8192]; /* raw getdents64: no malloc in the checkpoint path */
    for (;;) {
        long n = syscall(SYS_getdents64, fd, buf, sizeof buf);
        if (n <= 0)
            break;
        for (long off = 0; off < n;) {
            struct delta_dirent {
                uint64_t ino;
                int64_t off;
                unsigned short reclen;
                unsigned char type;
                char name[];
            } *e = (struct delta_dirent *)(buf + off);
            off += e->reclen;
            size_t len = strlen(e->name);
            if (len > stem + 8 && !strncmp(e->name, base, stem) && !strncmp(e->name + stem, ".g", 2) &&
                !strcmp(e->name + len - 6, ".dmtcp")) {
                int digits = 1;
                for (size_t k = stem + 2; k < len - 6; k++)
                    digits &= e->name[k] >= '0' && e->name[k] <= '9';
                if (digits)
                    unlinkat(fd, e->name, 0);
            }
        }
    }
    close(fd);
}

void delta_after(int ok, const struct image_result *res, uint64_t generation)
{
    struct delta_pass *d = &delta_pass;
    if (!d->hashing) {
        if (ok && strcmp(delta_state.path, res->path) == 0)
            delta_forget_chain(res->path); /* a full image replaced the chain's newest */
        memory_buf_free(&delta_state.prev);
        delta_state.have_prev = 0;
        goto out;
    }
    if (!ok) {
        if (d->parent_link[0]) {
            unlink(d->parent_link); /* the previous image keeps its one name */
            if (delta_state.nlinks > 0 && !strcmp(delta_state.links[delta_state.nlinks - 1], d->parent_link))
                delta_state.nlinks--;
        }
        goto out;
    }
    /* the new table becomes the one to compare against */
    off_t len = lseek(d->table_fd, 0, SEEK_END);
    memory_buf_free(&delta_state.prev);
    delta_state.have_prev = 0;
    if (len > 0 && memory_buf_reserve(&delta_state.prev, (size_t)len) == 0 &&
        pread(d->table_fd, delta_state.prev.data, (size_t)len, 0) == len) {
        delta_state.prev.len = (size_t)len;
        delta_state.have_prev = 1;
    }
    if (d->incremental) {
        delta_state.depth++;
        delta_state.delta_bytes += res->bytes;
    } else {
        if (strcmp(delta_state.path, res->path) == 0)
            delta_forget_chain(res->path);
        delta_state.nlinks = 0;
        delta_state.depth = 0;
        delta_state.base_bytes = res->bytes;
        delta_state.delta_bytes = 0;
    }
    snprintf(delta_state.path, sizeof delta_state.path, "%s", res->path);
    delta_state.last_checksum = res->header_checksum;
    delta_state.last_generation = generation;
out:
    engine_fds_close(&d->table_fd);
}

/* After a restart: the table was not saved (engine buffers never are), and
 * its address may now hold something else.  The chain on disk stays: the
 * image restarted from may still need it; the next full image written
 * over that same name deletes it. */
void delta_after_restart(void)
{
    memory_buf_forget(&delta_state.prev);
    delta_state.have_prev = 0;
    memory_buf_forget(&delta_pass.next);
    delta_pass.table_fd = -1;
}
