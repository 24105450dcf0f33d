/*
 * lazy.c — lazy restart (dmtcp_restart --lazy): the program runs again
 * before its memory is loaded.
 *
 * The helper maps the private anonymous regions (heap, stacks, bss: nearly
 * all of a big process's memory) empty and registers them with
 * userfaultfd, then forks a server process — a copy of the helper, with the
 * image and the userfaultfd — and jumps into the program as usual.  When
 * the program (or the kernel on its behalf, in a system call) first touches
 * a page that is not there, the kernel stops that thread and tells the
 * server, which reads the page's 1 MiB block, checks it against its
 * checksum, decompresses it and copies the whole block into place, waking
 * the thread.  Between faults the server loads the remaining blocks in
 * order; when all are in, it unregisters the regions (so pages never
 * stored fault in as zeros, as they always did) and exits.  No page is
 * ever seen before its block has matched its checksum; a mismatch kills the
 * program with the reason, since it cannot go on without that memory.
 *
 * The engine waits for the server to finish before a checkpoint and before
 * fork() (a child would not see the pages still missing), and reaps it.
 * userfaultfd must handle faults taken in the kernel too, which needs
 * privilege (or vm.unprivileged_userfaultfd=1); without it the restart
 * loads everything first, as without --lazy, and says so.
 */
#include <linux/ioctl.h>
#include <linux/userfaultfd.h>
#include <stddef.h>
#include <stdint.h>

#include "common/image.h"
#include "restart/arch-x86_64.h"
#include "restart/lazy.h"
#include "restart/load.h"
#include "restart/report.h"

#define LAZY_MAX_REGIONS 4096
#define LAZY_QUIET_MS 2     /* while starting: no fault for this long, then background */
#define LAZY_STARTUP_MS 100 /* how long "starting" lasts */

struct lazy_region {
    const struct image_region *r;
    const struct image_extent *ex;
    const struct image_block *blk;
    const uint64_t *before; /* stored pages before each extent */
    uint64_t nextents, nblocks, first_block;
};

static struct {
    int uffd;
    struct lazy_region reg[LAZY_MAX_REGIONS];
    int n;
    uint64_t nblocks;
    uint8_t *loaded; /* one bit per block */
    uint64_t next, end; /* free part of the bookkeeping area */
    uint64_t bytes;  /* memory registered, for the message */
} lazy = {.uffd = -1};

static long lazy_ioctl(unsigned long req, void *arg)
{
    return rs_syscall6(16 /* ioctl */, lazy.uffd, (long)req, (long)arg, 0, 0, 0);
}

static void *lazy_alloc(uint64_t bytes)
{
    bytes = (bytes + IMAGE_PAGE - 1) & ~(uint64_t)(IMAGE_PAGE - 1);
    if (!bytes)
        bytes = IMAGE_PAGE;
    if (lazy.next + bytes > lazy.end)
        return 0;
    long m = rs_mmap(lazy.next, bytes, RS_PROT_READ | RS_PROT_WRITE,
                     RS_MAP_PRIVATE | RS_MAP_ANONYMOUS | RS_MAP_FIXED_NOREPLACE, -1, 0);
    if (m < 0)
        return 0;
    void *p = (void *)lazy.next;
    lazy.next += bytes;
    return p;
}

int lazy_init(uint64_t area, uint64_t area_len)
{
    long fd = rs_syscall6(323 /* userfaultfd */, 02000000 /* O_CLOEXEC */ | 04000 /* O_NONBLOCK */, 0, 0, 0, 0, 0);
    if (fd < 0)
        return (int)fd;
    lazy.uffd = (int)fd;
    struct uffdio_api api = {.api = UFFD_API, .features = 0};
    long rc = lazy_ioctl(UFFDIO_API, &api);
    if (rc < 0) {
        rs_close(lazy.uffd);
        lazy.uffd = -1;
        return (int)rc;
    }
    lazy.next = area;
    lazy.end = area + area_len;
    return 0;
}

int lazy_add(int img, const struct image_region *r)
{
    if (lazy.uffd < 0 || lazy.n == LAZY_MAX_REGIONS || r->kind != REGION_ANON_PRIVATE || !r->payload_offset ||
        !r->stored_pages || (r->prot & (RS_PROT_READ | RS_PROT_WRITE)) != (RS_PROT_READ | RS_PROT_WRITE))
        return 0;
    struct image_payload_head ph;
    uint64_t mapped;
    /* the head goes where the next allocation would */
    const uint8_t *head = load_head(img, r, lazy.next, lazy.end - lazy.next, &ph, &mapped);
    if (!head)
        return 0;
    lazy.next += mapped;
    if (ph.ninherit)
        return 0; /* dmtcp_restart asks for lazy loading only without a chain */
    uint64_t *before = lazy_alloc(ph.nextents * 8);
    if (!before)
        return 0;
    struct lazy_region *l = &lazy.reg[lazy.n];
    l->r = r;
    l->ex = (const struct image_extent *)(head + sizeof ph);
    l->blk = (const struct image_block *)(l->ex + ph.nextents);
    l->nextents = ph.nextents;
    l->nblocks = ph.nblocks;
    uint64_t sum = 0;
    for (uint64_t i = 0; i < ph.nextents; i++) {
        before[i] = sum;
        sum += l->ex[i].npages;
    }
    l->before = before;
    struct uffdio_register reg = {.range = {r->start, r->end - r->start}, .mode = UFFDIO_REGISTER_MODE_MISSING};
    if (lazy_ioctl(UFFDIO_REGISTER, &reg) < 0)
        return 0;
    l->first_block = lazy.nblocks;
    lazy.nblocks += ph.nblocks;
    lazy.bytes += r->stored_pages * IMAGE_PAGE;
    lazy.n++;
    return 1;
}

/* ---- the server ----------------------------------------------------------- */

static int lazy_is_loaded(uint64_t g)
{
    return (lazy.loaded[g / 8] >> (g % 8)) & 1;
}

/* Copy pages into the program; EEXIST (already there) is fine. */
static void lazy_copy(uint64_t dst, const uint8_t *src, uint64_t len)
{
    while (len) {
        struct uffdio_copy c = {.dst = dst, .src = (uint64_t)src, .len = len, .mode = 0};
        long rc = lazy_ioctl(UFFDIO_COPY, &c);
        uint64_t done = c.copy > 0 ? (uint64_t)c.copy : 0;
        if (rc < 0 && rc != -11 /* EAGAIN */ && done == 0) {
            if (rc == -17 /* EEXIST */) { /* skip a page that is there */
                done = IMAGE_PAGE;
                struct uffdio_range w = {dst, IMAGE_PAGE};
                lazy_ioctl(UFFDIO_WAKE, &w);
            } else {
                rs_exit(1); /* the program is gone */
            }
        }
        dst += done;
        src += done;
        len -= done;
    }
}

static void lazy_load_block(int img, struct lazy_region *l, uint64_t k)
{
    uint64_t g = l->first_block + k;
    if (lazy_is_loaded(g))
        return;
    const uint8_t *bytes = load_block(img, l->r, &l->blk[k]);
    uint64_t first = k * IMAGE_BLOCK_PAGES, pages = l->blk[k].raw_len / IMAGE_PAGE;
    /* the extent holding stored page `first` */
    uint64_t lo = 0, hi = l->nextents;
    while (hi - lo > 1) {
        uint64_t mid = (lo + hi) / 2;
        if (l->before[mid] <= first)
            lo = mid;
        else
            hi = mid;
    }
    uint64_t e = lo, ep = first - l->before[e], at = 0;
    while (at < pages && e < l->nextents) {
        uint64_t take = l->ex[e].npages - ep;
        if (take > pages - at)
            take = pages - at;
        lazy_copy(l->r->start + (l->ex[e].first_page + ep) * IMAGE_PAGE, bytes + at * IMAGE_PAGE,
                  take * IMAGE_PAGE);
        at += take;
        e++;
        ep = 0;
    }
    lazy.loaded[g / 8] |= (uint8_t)(1u << (g % 8));
}

static void lazy_fault(int img, uint64_t addr)
{
    addr &= ~(uint64_t)(IMAGE_PAGE - 1);
    int lo = 0, hi = lazy.n;
    while (lo < hi) { /* regions are in address order */
        int mid = (lo + hi) / 2;
        if (lazy.reg[mid].r->end <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    struct uffdio_range one = {addr, IMAGE_PAGE};
    if (lo == lazy.n || lazy.reg[lo].r->start > addr) {
        lazy_ioctl(UFFDIO_WAKE, &one);
        return;
    }
    struct lazy_region *l = &lazy.reg[lo];
    uint64_t p = (addr - l->r->start) / IMAGE_PAGE;
    uint64_t a = 0, b = l->nextents;
    while (a < b) { /* the first extent ending after p */
        uint64_t mid = (a + b) / 2;
        if (l->ex[mid].first_page + l->ex[mid].npages <= p)
            a = mid + 1;
        else
            b = mid;
    }
    if (a < l->nextents && l->ex[a].first_page <= p) {
        lazy_load_block(img, l, (l->before[a] + p - l->ex[a].first_page) / IMAGE_BLOCK_PAGES);
        lazy_ioctl(UFFDIO_WAKE, &one); /* if it was loaded before this fault was read */
        return;
    }
    /* a page that was never stored: zero, as always */
    struct uffdio_zeropage z = {.range = one, .mode = 0};
    if (lazy_ioctl(UFFDIO_ZEROPAGE, &z) < 0)
        lazy_ioctl(UFFDIO_WAKE, &one);
}

static uint64_t lazy_now_ms(void)
{
    struct {
        long sec, nsec;
    } ts = {0, 0};
    rs_syscall6(228 /* clock_gettime */, 1 /* CLOCK_MONOTONIC */, (long)&ts, 0, 0, 0, 0);
    return (uint64_t)ts.sec * 1000 + (uint64_t)ts.nsec / 1000000;
}

static __attribute__((noreturn)) void lazy_serve(int img)
{
    uint64_t started = lazy_now_ms();
    struct uffd_msg msgs[32];
    uint64_t cursor = 0; /* next block to load in the background */
    int ri = 0;
    for (;;) {
        long n = rs_read(lazy.uffd, msgs, sizeof msgs);
        if (n > 0) {
            for (long i = 0; i < n / (long)sizeof msgs[0]; i++)
                if (msgs[i].event == UFFD_EVENT_PAGEFAULT)
                    lazy_fault(img, msgs[i].arg.pagefault.address);
            continue;
        }
        if (n != -11 /* EAGAIN */)
            rs_exit(0); /* the program exited or exec'd */
        /* Faults first while the program starts: loading a block in the
         * background takes about a millisecond, and a thread faulting
         * meanwhile would wait for it; a starting program faults in quick
         * succession, so background loading waits for a quiet moment.
         * Later the background loading runs between faults, reading ahead
         * of a program that goes through its memory. */
        if (lazy_now_ms() - started < LAZY_STARTUP_MS) {
            struct {
                int fd;
                short events, revents;
            } pfd = {lazy.uffd, 1 /* POLLIN */, 0};
            if (rs_syscall6(7 /* poll */, (long)&pfd, 1, LAZY_QUIET_MS, 0, 0, 0) > 0)
                continue;
        }
        while (ri < lazy.n && cursor >= lazy.reg[ri].first_block + lazy.reg[ri].nblocks)
            ri++;
        if (ri == lazy.n)
            break;
        lazy_load_block(img, &lazy.reg[ri], cursor - lazy.reg[ri].first_block);
        cursor++;
    }
    /* everything stored is in: what is still missing was never stored, and
     * faults in as zeros once nobody serves it */
    for (int i = 0; i < lazy.n; i++) {
        struct uffdio_range r = {lazy.reg[i].r->start, lazy.reg[i].r->end - lazy.reg[i].r->start};
        lazy_ioctl(UFFDIO_UNREGISTER, &r);
    }
    rs_exit(0);
}

int lazy_start(int img)
{
    if (lazy.uffd < 0)
        return 0;
    if (!lazy.n) {
        rs_close(lazy.uffd);
        lazy.uffd = -1;
        return 0;
    }
    lazy.loaded = lazy_alloc(lazy.nblocks / 8 + 1);
    if (!lazy.loaded)
        hs_die("cannot allocate the lazy restart's block map", 0, 0);
    long parent = rs_syscall6(39 /* getpid */, 0, 0, 0, 0, 0, 0);
    long pid = rs_syscall6(56 /* clone */, 0 /* no exit signal */, 0, 0, 0, 0, 0);
    if (pid < 0)
        hs_die("cannot start the lazy restart's server (clone)", 0, pid);
    if (pid == 0) {
        rs_syscall6(157 /* prctl */, 1 /* PR_SET_PDEATHSIG */, 9 /* SIGKILL */, 0, 0, 0, 0);
        if (rs_syscall6(110 /* getppid */, 0, 0, 0, 0, 0, 0) != parent)
            rs_exit(0);
        load_set_victim((int)parent);
        report_forget(); /* the restart's connection is the restored process's */
        lazy_serve(img);
    }
    rs_close(lazy.uffd);
    lazy.uffd = -1;
    return (int)pid;
}

uint64_t lazy_bytes(void)
{
    return lazy.bytes;
}
