/*
 * helper.c — the restart helper: turns itself into the checkpointed process.
 *
 * dmtcp_restart has validated the image (checksums, architecture, owner,
 * version, every field's range) and execs this static, libc-free program
 * with the image and a struct restart_info on two descriptors.  The helper
 * reads the image again itself, so it checks again every field it uses
 * (common/image_valid.h), before anything is unmapped: whatever the file
 * holds by now, the helper never crashes; a bad image ends it with the one
 * line dmtcp_restart would print, and exit status 1.  The helper lives in
 * its own address ranges (IMAGE_HELPER_* in image.h, far from where Linux
 * puts programs, libraries and stacks; images may not use them).  It:
 *   1. reads the image header and region table, and checks every field,
 *   2. unmaps everything but itself and the kernel's special mappings,
 *   3. moves the running kernel's vdso/vvar to the addresses they had at
 *      checkpoint (glibc holds pointers into the vdso), and the program
 *      break up to where it was, when it can,
 *   4. maps every region back and fills in the saved pages,
 *   5. jumps to the engine's restore entry on a stack in its scratch area.
 * Async-signal-safe by construction: no libc, no signals handled.
 */
#include <stdint.h>

#include "common/image.h"
#include "common/image_valid.h"
#include "restart/arch-x86_64.h"
#include "restart/lazy.h"
#include "restart/load.h"
#include "restart/report.h"

#define HELPER_SCRATCH IMAGE_HELPER_WORK_START /* handed to the engine */
#define HELPER_TMP (IMAGE_HELPER_WORK_START + 0x100000000ull)  /* table and maps; unmapped before the jump */
#define HELPER_LAZY (IMAGE_HELPER_WORK_START + 0x140000000ull) /* lazy restart's page lists (lazy.c) */
#define HELPER_BUFS (IMAGE_HELPER_WORK_START + 0x180000000ull) /* block buffers and decompressor (load.c) */
#define HELPER_HEAD (IMAGE_HELPER_WORK_START + 0x1c0000000ull) /* a region's payload head while it loads */
#define HELPER_PARK (IMAGE_HELPER_WORK_START + 0x200000000ull) /* vdso/vvar parked here while moving */
#define RESTORE_MAIN_STACK 65536ull
#define RESTORE_STACK 32768ull
_Static_assert(IMAGE_MAX_META + 1048576 + 3 * IMAGE_PAGE <= HELPER_LAZY - HELPER_TMP,
               "the largest table and strings an image may have fit the helper's work area");
_Static_assert(IMAGE_PAGE + RESTORE_MAIN_STACK + (IMAGE_MAX_THREADS + 1) * RESTORE_STACK <= HELPER_TMP - HELPER_SCRATCH,
               "the scratch area holds a stack for every thread an image may have");

__attribute__((aligned(16))) char helper_stack[65536];
extern char helper_stack_top[] __asm__("helper_stack_top");
__asm__(".globl helper_stack_top\n.set helper_stack_top, helper_stack + 65536");

void helper_jump(void *stack_top, void (*entry)(void *), void *arg) __attribute__((noreturn));
void helper_main(long *sp) __attribute__((noreturn));

/* ---- tiny string helpers (no libc) ---------------------------------- */
void *memset(void *d, int c, unsigned long n)
{
    void *r = d;
    __asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
    return r;
}
void *memcpy(void *d, const void *s, unsigned long n)
{
    void *r = d;
    __asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
    return r;
}
void *memmove(void *d, const void *s, unsigned long n)
{
    unsigned char *p = d;
    const unsigned char *q = s;
    if (p <= q || p >= q + n)
        return memcpy(d, s, n);
    while (n--) /* overlapping, destination above: copy from the end */
        p[n] = q[n];
    return d;
}
static unsigned long hs_len(const char *s)
{
    unsigned long n = 0;
    while (s[n])
        n++;
    return n;
}
static int hs_eq(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}
void hs_say(const char *s)
{
    rs_write(2, s, hs_len(s));
    report_note(s, hs_len(s));
}
void hs_dec(uint64_t v)
{
    char rev[24], out[24];
    int k = 0;
    do
        rev[k++] = (char)('0' + v % 10);
    while ((v /= 10) && k < 23);
    for (int i = 0; i < k; i++)
        out[i] = rev[k - 1 - i];
    out[k] = 0;
    hs_say(out);
}

void hs_hex(uint64_t v)
{
    char b[19] = "0x";
    for (int i = 0; i < 16; i++)
        b[2 + i] = "0123456789abcdef"[(v >> (60 - 4 * i)) & 15];
    b[18] = 0;
    hs_say(b);
}
static const char *hs_image; /* the image being restored, once known */

__attribute__((noreturn)) void hs_die(const char *what, const char *detail, long err)
{
    hs_say("dmtcp_restart: ");
    if (hs_image) {
        hs_say("cannot restore ");
        hs_say(hs_image);
        hs_say(": ");
    }
    hs_say(what);
    if (detail) {
        hs_say(" ");
        hs_say(detail);
    }
    if (err) {
        hs_say(" (errno ");
        hs_dec((uint64_t)-err);
        hs_say(")");
    }
    hs_say("\n");
    report_exit(1);
}

/* 0x and the hex digits of v, as image_check.c prints values */
static void hs_xval(uint64_t v)
{
    char b[19];
    int n = 0;
    do
        b[n++] = "0123456789abcdef"[v & 15];
    while ((v >>= 4) && n < 16);
    char out[19] = "0x";
    for (int i = 0; i < n; i++)
        out[2 + i] = b[n - 1 - i];
    out[2 + n] = 0;
    hs_say(out);
}


/* The image is refused: the same line dmtcp_restart's check prints for
 * the same fault (image_bad_fault in src/common/image_check.c), naming the
 * image, the part (a region, when f names one; its range when r is
 * given), the field, its value and the problem; exit status 1, and the
 * same reason to the coordinator (report.c), as for any failure. */
__attribute__((noreturn)) void hs_refuse(const char *part, const struct image_region *r, const struct image_fault *f)
{
    hs_say("dmtcp_restart: refusing to restart ");
    hs_say(hs_image ? hs_image : "the image");
    hs_say(": ");
    if (f->region != IMAGE_NO_REGION) {
        hs_say("region ");
        hs_dec(f->region);
        if (r) {
            hs_say(" (");
            hs_xval(r->start);
            hs_say("-");
            hs_xval(r->end);
            hs_say(")");
        }
        hs_say(" ");
    }
    hs_say(part);
    hs_say(": ");
    hs_say(f->field);
    hs_say(" ");
    hs_xval(f->value);
    hs_say(" ");
    hs_say(f->why);
    hs_say(": the image is corrupt\n");
    report_exit(1); /* the coordinator hears it too: the whole restart fails at once */
}

/* The same for one header field. */
static __attribute__((noreturn)) void hs_refuse_field(const char *part, const char *field, uint64_t value,
                                                      const char *why)
{
    struct image_fault f;
    image_fault_set(&f, IMAGE_NO_REGION, field, value, why);
    hs_refuse(part, 0, &f);
}

static int hs_atoi(const char *s)
{
    int v = 0;
    while (*s >= '0' && *s <= '9')
        v = v * 10 + (*s++ - '0');
    return v;
}

static int hs_read_at(int fd, void *buf, uint64_t len, uint64_t off)
{
    char *p = buf;
    while (len) {
        uint64_t chunk = len > (1ull << 30) ? (1ull << 30) : len;
        long n = rs_pread(fd, p, chunk, off);
        if (n <= 0)
            return n < 0 ? (int)n : -5;
        p += n;
        off += (uint64_t)n;
        len -= (uint64_t)n;
    }
    return 0;
}

/* ---- the kernel's mappings ------------------------------------------ */
struct hs_map {
    uint64_t start, end;
    int special; /* 0 other, 1 vdso, 2 vvar, 3 vvar_vclock, 4 vsyscall */
};

static uint64_t hs_hexparse(const char **p)
{
    uint64_t v = 0;
    for (;; (*p)++) {
        char c = **p;
        if (c >= '0' && c <= '9')
            v = v * 16 + (uint64_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v = v * 16 + (uint64_t)(c - 'a' + 10);
        else
            return v;
    }
}

static int hs_read_maps(char *buf, unsigned long cap, struct hs_map *maps, int max)
{
    int fd = (int)rs_open("/proc/self/maps", RS_O_RDONLY | RS_O_CLOEXEC);
    if (fd < 0)
        hs_die("cannot read", "/proc/self/maps", fd);
    unsigned long len = 0;
    for (;;) {
        long n = rs_read(fd, buf + len, cap - len - 1);
        if (n <= 0)
            break;
        len += (unsigned long)n;
    }
    rs_close(fd);
    buf[len] = 0;
    int count = 0;
    for (char *line = buf; *line && count < max;) {
        char *nl = line;
        while (*nl && *nl != '\n')
            nl++;
        char saved = *nl;
        *nl = 0;
        const char *p = line;
        struct hs_map *m = &maps[count++];
        m->start = hs_hexparse(&p);
        p++;
        m->end = hs_hexparse(&p);
        const char *name = line + (nl - line);
        while (name > line && name[-1] != ' ')
            name--;
        m->special = hs_eq(name, "[vdso]") ? 1 : hs_eq(name, "[vvar]") ? 2 : hs_eq(name, "[vvar_vclock]") ? 3
                   : hs_eq(name, "[vsyscall]") ? 4 : 0;
        *nl = saved;
        line = saved ? nl + 1 : nl;
    }
    return count;
}

/* Move the running kernel's vdso family to where the image had it. */
static void hs_move_specials(const struct image_header *h, struct hs_map *maps, int n)
{
    uint64_t want_start[4] = {0, h->vdso_start, h->vvar_start, h->vclock_start};
    uint64_t want_end[4] = {0, h->vdso_end, h->vvar_end, h->vclock_end};
    uint64_t cur_start[4] = {0}, cur_end[4] = {0};
    for (int i = 0; i < n; i++)
        if (maps[i].special >= 1 && maps[i].special <= 3) {
            cur_start[maps[i].special] = maps[i].start;
            cur_end[maps[i].special] = maps[i].end;
        }
    uint64_t park = HELPER_PARK;
    for (int k = 1; k <= 3; k++) {
        if (!cur_start[k])
            continue;
        uint64_t len = cur_end[k] - cur_start[k];
        long r = rs_mremap(cur_start[k], len, len, RS_MREMAP_MAYMOVE | RS_MREMAP_FIXED, park);
        if (r < 0)
            hs_die("cannot move the kernel's vdso/vvar", 0, r);
        cur_start[k] = park;
        cur_end[k] = park + len;
        park += len + 0x10000;
    }
    static const char *const field[4] = {0, "vdso_start", "vvar_start", "vclock_start"};
    for (int k = 1; k <= 3; k++) {
        if (!cur_start[k])
            continue;
        uint64_t len = cur_end[k] - cur_start[k];
        struct image_fault f;
        /* this kernel's mapping may be longer than the saved one */
        if (want_start[k] && image_valid_special(field[k], want_start[k], want_start[k] + len, &f) < 0)
            hs_refuse("the kernel's special mappings cannot go back", 0, &f);
        if (!want_start[k]) { /* the image's kernel had no such mapping: drop it */
            rs_munmap(cur_start[k], len);
            continue;
        }
        long r = rs_mremap(cur_start[k], len, len, RS_MREMAP_MAYMOVE | RS_MREMAP_FIXED, want_start[k]);
        if (r < 0)
            hs_die("cannot place the vdso/vvar at its saved address", 0, r);
        (void)want_end;
    }
}

/* Carry the program break over.  The kernel gave this process a break of
 * its own (after the helper's program, at a random offset), and a break can
 * only be moved up from where it started.  If the saved break lies above
 * it, move it there: a heap the program grew with brk() before the
 * checkpoint then goes on growing right where it ended, as glibc's malloc
 * expects.  (If it lies below, the heap's next brk() memory comes from
 * above it, which malloc accepts.)  The pages brk() maps in between are
 * given back; the saved regions are mapped over them next.  Nothing else
 * is mapped here yet.  A refusal (RLIMIT_DATA) only leaves the break where
 * the kernel put it. */
static void hs_restore_break(uint64_t saved)
{
    uint64_t now = (uint64_t)rs_brk(0);
    if (saved <= now || saved < IMAGE_HELPER_TEXT_END)
        return;
    if ((uint64_t)rs_brk(saved) != saved)
        return;
    uint64_t from = (now + IMAGE_PAGE - 1) & ~(uint64_t)(IMAGE_PAGE - 1);
    uint64_t to = (saved + IMAGE_PAGE - 1) & ~(uint64_t)(IMAGE_PAGE - 1);
    if (to > from)
        rs_munmap(from, to - from);
}

/* Shared anonymous memory: one memfd per kernel object, sized to cover every
 * region that maps it, so views that shared pages before share them again. */
static struct {
    uint64_t id;
    int fd;
} hs_shm[256];
static int hs_nshm;

static int hs_shared_object(const struct image_region *all, uint64_t n, const struct image_region *r)
{
    for (int i = 0; i < hs_nshm; i++)
        if (hs_shm[i].id == r->object_id)
            return hs_shm[i].fd;
    if (hs_nshm == 256)
        hs_die("too many shared memory objects in the image", 0, 0);
    uint64_t size = 0;
    for (uint64_t i = 0; i < n; i++)
        if (all[i].kind == REGION_ANON_SHARED && all[i].object_id == r->object_id &&
            all[i].file_offset + (all[i].end - all[i].start) > size)
            size = all[i].file_offset + (all[i].end - all[i].start);
    long fd = rs_memfd_create("stasis-shared", 1 /* MFD_CLOEXEC */);
    if (fd < 0)
        hs_die("cannot create shared memory (memfd_create)", 0, fd);
    long rc = rs_ftruncate((int)fd, size);
    if (rc < 0)
        hs_die("cannot size shared memory", 0, rc);
    hs_shm[hs_nshm].id = r->object_id;
    hs_shm[hs_nshm++].fd = (int)fd;
    return (int)fd;
}

/* A private file mapping: the file's pages, as far as the file reaches
 * now.  Pages past its end (a file that shrank since the checkpoint, or a
 * file_offset past it) would raise SIGBUS when the saved pages are written
 * into them, so they are mapped anonymous: the saved pages are all there
 * is for them, as for a file that is gone. */
static long hs_map_file_private(const struct image_region *r, const char *path)
{
    uint64_t len = r->end - r->start, from_file = 0;
    int rw = RS_PROT_READ | RS_PROT_WRITE;
    long rc = 0;
    int fd = (int)rs_open(path, RS_O_RDONLY | RS_O_CLOEXEC);
    if (fd >= 0) {
        long size = rs_lseek(fd, 0, RS_SEEK_END);
        if (size > 0 && (uint64_t)size > r->file_offset)
            from_file = image_round_up((uint64_t)size - r->file_offset);
        if (from_file > len)
            from_file = len;
        if (from_file)
            rc = rs_mmap(r->start, from_file, rw, RS_MAP_PRIVATE | RS_MAP_FIXED, fd, r->file_offset);
        rs_close(fd);
        if (rc < 0)
            from_file = 0;
    }
    if (from_file < len)
        rc = rs_mmap(r->start + from_file, len - from_file, rw, RS_MAP_PRIVATE | RS_MAP_ANONYMOUS | RS_MAP_FIXED, -1,
                     0);
    return rc;
}

static void hs_map_region(int img, const struct image_region *r, const char *strings,
                          const struct image_region *all, uint64_t n)
{
    uint64_t len = r->end - r->start;
    const char *path = r->path_len ? strings + r->path_offset : "";
    long rc = 0;
    int rw = RS_PROT_READ | RS_PROT_WRITE;
    switch (r->kind) {
    case REGION_RESERVED:
        rc = rs_mmap(r->start, len, 0, RS_MAP_PRIVATE | RS_MAP_ANONYMOUS | RS_MAP_FIXED | RS_MAP_NORESERVE, -1, 0);
        break;
    case REGION_ANON_PRIVATE:
        rc = rs_mmap(r->start, len, rw,
                     RS_MAP_PRIVATE | RS_MAP_ANONYMOUS | RS_MAP_FIXED | RS_MAP_NORESERVE |
                         ((r->flags & REGION_F_GROWSDOWN) ? RS_MAP_GROWSDOWN : 0),
                     -1, 0);
        break;
    case REGION_ANON_SHARED:
        rc = rs_mmap(r->start, len, rw, RS_MAP_SHARED | RS_MAP_FIXED, hs_shared_object(all, n, r),
                     r->file_offset);
        break;
    case REGION_FILE_PRIVATE:
        rc = hs_map_file_private(r, path);
        break;
    case REGION_FILE_SHARED: {
        int writable = (r->prot & RS_PROT_WRITE) != 0;
        int fd = (int)rs_open(path, (writable ? RS_O_RDWR : RS_O_RDONLY) | RS_O_CLOEXEC);
        if (fd < 0)
            hs_die("cannot open the shared-mapped file", path, fd);
        rc = rs_mmap(r->start, len, (int)r->prot, RS_MAP_SHARED | RS_MAP_FIXED, fd, r->file_offset);
        rs_close(fd);
        if (rc < 0)
            hs_die("cannot map the shared file", path, rc);
        return;
    }
    default:
        hs_die("unknown region kind in image", 0, 0);
    }
    if (rc < 0) {
        hs_say("dmtcp_restart: cannot map region at ");
        hs_hex(r->start);
        hs_die("", path, rc);
    }
    if (lazy_add(img, r))
        return; /* loaded on first touch by the lazy server */
    load_region(img, r, HELPER_HEAD);
}

/* The header as this helper restores it: format 2, x86_64, 4 KiB pages,
 * the invoking user's, sealed by its checksum, and every field in range
 * for this file (image_valid.h). */
static void hs_check_header(int img, const struct image_header *h)
{
    static const char magic[8] = IMAGE_MAGIC;
    const char *bad = "not an image this restart helper restores";
    long size = rs_lseek(img, 0, RS_SEEK_END);
    if (size < 0)
        hs_die("cannot read the image", 0, size);
    for (int i = 0; i < 8; i++)
        if (h->magic[i] != magic[i])
            hs_refuse_field(bad, "magic", (uint8_t)h->magic[i], "is not a Stasis image's");
    if (h->version != IMAGE_VERSION)
        hs_refuse_field(bad, "version", h->version, "is not format 2");
    if (h->header_size != IMAGE_HEADER_SIZE)
        hs_refuse_field(bad, "header_size", h->header_size, "is not 4096");
    if (h->arch != IMAGE_ARCH_X86_64)
        hs_refuse_field(bad, "arch", h->arch, "is not x86_64 (62)");
    if (h->page_size != IMAGE_PAGE)
        hs_refuse_field(bad, "page_size", h->page_size, "is not 4096");
    if (!load_header_sealed(h))
        hs_refuse_field(bad, "header_checksum", h->header_checksum, "does not match the header");
    if (h->uid != (uint64_t)rs_getuid())
        hs_refuse_field(bad, "uid", h->uid, "is not the user restarting it");
    struct image_fault f;
    if (image_valid_layout(h, (uint64_t)size, &f) < 0)
        hs_refuse("inconsistent layout in the header", 0, &f);
    if (image_valid_header_fields(h, &f) < 0)
        hs_refuse("header", 0, &f);
}

/* Every region: in user space, in address order without overlaps, clear
 * of the helper's ranges, of a known kind, its path and payload inside the
 * file; and the restore entry in the engine's code. */
static void hs_check_regions(const struct image_header *h, const struct image_region *regions, const char *strings)
{
    struct image_fault f;
    for (uint64_t i = 0; i < h->nregions; i++)
        if (image_valid_region(h, &regions[i], i, i ? &regions[i - 1] : 0, strings, &f) < 0)
            hs_refuse("is malformed", &regions[i], &f);
    if (image_valid_entry(h, regions, h->nregions, &f) < 0)
        hs_refuse("header", 0, &f);
}

void helper_main(long *sp)
{
    int argc = (int)sp[0];
    char **argv = (char **)(sp + 1);
    if (argc < 4 || argc > 4 + 64)
        hs_die("restart-helper is run by dmtcp_restart, not by hand", 0, 0);
    int img = hs_atoi(argv[1]), infofd = hs_atoi(argv[2]);
    int plan_fd = argv[3][0] == '-' ? -1 : hs_atoi(argv[3]);
    int chain_fds[64], nchain = 0;
    for (int i = 4; i < argc; i++)
        chain_fds[nchain++] = hs_atoi(argv[i]);
    /* libzstd is built with the stack protector: it reads its canary at
     * %fs:0x28, so the helper gets a thread pointer of its own (the engine
     * sets each thread's real one). */
    static uint64_t tls[16] __attribute__((aligned(64)));
    tls[0] = (uint64_t)tls;
    tls[5] = 0x5f535441534953ull;
    rs_syscall6(158 /* arch_prctl */, 0x1002 /* ARCH_SET_FS */, (long)tls, 0, 0, 0, 0);
    /* The restart information first: failures from here on name the
     * image and reach the coordinator. */
    static struct restart_info given;
    int rc = hs_read_at(infofd, &given, sizeof given, 0);
    if (rc < 0 || given.magic != RESTART_INFO_MAGIC)
        hs_die("bad restart information from dmtcp_restart", 0, rc);
    given.image_path[sizeof given.image_path - 1] = 0;
    hs_image = given.image_path;
    load_set_image_path(given.image_path);
    report_init(given.coord_fd, given.image_path);
    load_init(HELPER_BUFS);

    static struct image_header hdr;
    rc = hs_read_at(img, &hdr, sizeof hdr, 0);
    if (rc < 0)
        hs_die("cannot read the image header", 0, rc);
    hs_check_header(img, &hdr);
    uint64_t meta = hdr.strings_offset + hdr.strings_size - hdr.table_offset; /* <= IMAGE_MAX_META */
    uint64_t tmp_len = ((meta + 1048576 + 2 * IMAGE_PAGE) + IMAGE_PAGE - 1) & ~(uint64_t)(IMAGE_PAGE - 1);
    long m = rs_mmap(HELPER_TMP, tmp_len, RS_PROT_READ | RS_PROT_WRITE,
                     RS_MAP_PRIVATE | RS_MAP_ANONYMOUS | RS_MAP_FIXED_NOREPLACE, -1, 0);
    if (m < 0)
        hs_die("cannot allocate the helper's work area", 0, m);
    char *table_buf = (char *)HELPER_TMP;
    rc = hs_read_at(img, table_buf, meta, hdr.table_offset);
    if (rc < 0)
        hs_die("cannot read the region table", 0, rc);
    const struct image_region *regions = (const struct image_region *)table_buf;
    const char *strings = table_buf + (hdr.strings_offset - hdr.table_offset);
    char *maps_text = table_buf + ((meta + IMAGE_PAGE) & ~(uint64_t)(IMAGE_PAGE - 1));
    hs_check_regions(&hdr, regions, strings);
    load_set_table(regions, hdr.nregions, hdr.parent_checksum != 0);

    uint64_t scratch_len = IMAGE_PAGE + RESTORE_MAIN_STACK + (uint64_t)(hdr.nthreads + 1) * RESTORE_STACK;
    m = rs_mmap(HELPER_SCRATCH, scratch_len, RS_PROT_READ | RS_PROT_WRITE,
                RS_MAP_PRIVATE | RS_MAP_ANONYMOUS | RS_MAP_FIXED_NOREPLACE, -1, 0);
    if (m < 0)
        hs_die("cannot allocate the helper's scratch area", 0, m);
    struct restart_info *info = (struct restart_info *)HELPER_SCRATCH;
    *info = given;
    info->lazy_pid = 0;
    if (info->lazy && plan_fd < 0) {
        int lrc = lazy_init(HELPER_LAZY, HELPER_BUFS - HELPER_LAZY);
        if (lrc < 0 && !info->quiet)
            hs_say("dmtcp_restart: lazy restart needs userfaultfd for faults in the kernel too (root, "
                   "CAP_SYS_PTRACE or vm.unprivileged_userfaultfd=1); loading everything first\n");
    }
    info->scratch_start = HELPER_SCRATCH;
    info->scratch_size = scratch_len;
    info->helper_start = IMAGE_HELPER_TEXT_START; /* the program and its brk floor page */
    info->helper_end = IMAGE_HELPER_TEXT_END;

    static struct hs_map maps[4096];
    int n = hs_read_maps(maps_text, 1048576, maps, 4096);
    for (int i = 0; i < n; i++) {
        if (maps[i].special)
            continue;
        if ((maps[i].start >= IMAGE_HELPER_TEXT_START && maps[i].end <= IMAGE_HELPER_TEXT_END) ||
            (maps[i].start >= IMAGE_HELPER_WORK_START && maps[i].end <= IMAGE_HELPER_WORK_END))
            continue;
        rs_munmap(maps[i].start, maps[i].end - maps[i].start);
    }
    hs_move_specials(&hdr, maps, n);
    hs_restore_break(hdr.program_break);
    for (uint64_t i = 0; i < hdr.nregions; i++) {
        report_check(); /* another image may have failed the restart meanwhile */
        hs_map_region(img, &regions[i], strings, regions, hdr.nregions);
    }
    if (plan_fd >= 0) /* an incremental image: the pages it inherits */
        load_plan(plan_fd, chain_fds, nchain, HELPER_HEAD);
    info->lazy_pid = lazy_start(img);
    if (info->lazy_pid > 0 && !info->quiet) {
        hs_say("dmtcp_restart: lazy restart: ");
        hs_dec((lazy_bytes() + (1u << 20) - 1) >> 20);
        hs_say(" MiB of memory load on first touch and in the background\n");
    }
    for (uint64_t i = 0; i < hdr.nregions; i++)
        if (regions[i].kind != REGION_RESERVED && regions[i].kind != REGION_FILE_SHARED)
            rs_mprotect(regions[i].start, regions[i].end - regions[i].start, (int)regions[i].prot);
    for (int i = 0; i < hs_nshm; i++)
        rs_close(hs_shm[i].fd);
    rs_close(img);
    rs_close(infofd);
    report_check();
    info->coord_fd = report_fd();
    rs_munmap(HELPER_TMP, tmp_len);
    load_fini();
    helper_jump((char *)HELPER_SCRATCH + IMAGE_PAGE + RESTORE_MAIN_STACK,
                (void (*)(void *))(uintptr_t)hdr.restore_entry, info);
}
