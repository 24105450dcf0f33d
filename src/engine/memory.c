/*
 * memory.c — reading the address space for a checkpoint.
 *
 * Parses /proc/self/maps, asks /proc/self/pagemap which pages hold data (so
 * untouched pages of huge sparse mappings are never read), and provides the
 * mmap-backed buffers the checkpoint path uses instead of malloc (a parked
 * thread may hold a malloc lock).  Buffers are recorded so the image writer
 * leaves them out.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "engine/engine.h"
#include "engine/memory.h"
#include "engine/sys.h"

#define MEMORY_MAX_OWN 32
static struct {
    uint64_t own_start[MEMORY_MAX_OWN], own_end[MEMORY_MAX_OWN];
} memory_state;

static void memory_own_set(void *old, size_t oldcap, void *p, size_t cap)
{
    for (int i = 0; i < MEMORY_MAX_OWN; i++) {
        if (old && memory_state.own_start[i] == (uint64_t)old &&
            memory_state.own_end[i] == (uint64_t)old + oldcap) {
            memory_state.own_start[i] = memory_state.own_end[i] = 0;
        }
    }
    if (!p)
        return;
    for (int i = 0; i < MEMORY_MAX_OWN; i++) {
        if (!memory_state.own_end[i]) {
            memory_state.own_start[i] = (uint64_t)p;
            memory_state.own_end[i] = (uint64_t)p + cap;
            return;
        }
    }
}

/* The first of the engine's buffers that overlaps [start,end), or 0. */
int memory_own_overlap(uint64_t start, uint64_t end, uint64_t *own_start, uint64_t *own_end)
{
    int found = 0;
    for (int i = 0; i < MEMORY_MAX_OWN; i++) {
        if (!memory_state.own_end[i] || memory_state.own_start[i] >= end || memory_state.own_end[i] <= start)
            continue;
        if (!found || memory_state.own_start[i] < *own_start) {
            *own_start = memory_state.own_start[i];
            *own_end = memory_state.own_end[i];
            found = 1;
        }
    }
    return found;
}

int memory_buf_is_own(uint64_t start, uint64_t end)
{
    for (int i = 0; i < MEMORY_MAX_OWN; i++)
        if (memory_state.own_end[i] && start >= memory_state.own_start[i] && end <= memory_state.own_end[i])
            return 1;
    return 0;
}

int memory_buf_reserve(struct memory_buf *b, size_t need)
{
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 65536;
    while (cap < need)
        cap *= 2;
    void *p = b->data ? mremap(b->data, b->cap, cap, MREMAP_MAYMOVE)
                      : mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return -ENOMEM;
    /* A named mapping never merges with the program's own anonymous memory,
     * so the writer's buffers stay separate areas it can leave out. */
    prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, (unsigned long)p, cap, (unsigned long)"stasis-writer");
    memory_own_set(b->data, b->cap, p, cap);
    b->data = p;
    b->cap = cap;
    return 0;
}

int memory_buf_append(struct memory_buf *b, const void *p, size_t n)
{
    if (memory_buf_reserve(b, b->len + n) < 0)
        return -ENOMEM;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

void memory_buf_free(struct memory_buf *b)
{
    if (b->data) {
        munmap(b->data, b->cap);
        memory_own_set(b->data, b->cap, NULL, 0);
    }
    b->data = NULL;
    b->len = b->cap = 0;
}

void memory_buf_forget(struct memory_buf *b)
{
    if (b->data)
        memory_own_set(b->data, b->cap, NULL, 0);
    b->data = NULL;
    b->len = b->cap = 0;
}

static uint64_t memory_hex(const char **p)
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

static uint64_t memory_dec(const char **p)
{
    uint64_t v = 0;
    while (**p >= '0' && **p <= '9')
        v = v * 10 + (uint64_t)(*(*p)++ - '0');
    return v;
}

/* Parse one maps line (NUL-terminated, modified in place). */
static int memory_parse_line(char *line, struct memory_area *a)
{
    const char *p = line;
    a->start = memory_hex(&p);
    if (*p++ != '-')
        return -1;
    a->end = memory_hex(&p);
    if (*p++ != ' ')
        return -1;
    a->prot = (p[0] == 'r' ? PROT_READ : 0) | (p[1] == 'w' ? PROT_WRITE : 0) | (p[2] == 'x' ? PROT_EXEC : 0);
    a->shared = p[3] == 's';
    p += 5;
    a->offset = memory_hex(&p);
    p++;
    while (*p && *p != ' ')
        p++; /* device */
    p++;
    a->inode = memory_dec(&p);
    while (*p == ' ')
        p++;
    a->path = p;
    return 0;
}

int memory_read_maps(struct memory_buf *text, struct memory_buf *areas_buf, size_t *count)
{
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    text->len = 0;
    for (;;) {
        if (memory_buf_reserve(text, text->len + 65536) < 0) {
            close(fd);
            return -ENOMEM;
        }
        ssize_t n = read(fd, text->data + text->len, text->cap - text->len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            return -e;
        }
        if (n == 0)
            break;
        text->len += (size_t)n;
    }
    close(fd);
    text->data[text->len] = 0;
    areas_buf->len = 0;
    *count = 0;
    char *line = (char *)text->data;
    while (*line) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = 0;
        struct memory_area a;
        if (memory_parse_line(line, &a) == 0) {
            if (memory_buf_append(areas_buf, &a, sizeof a) < 0)
                return -ENOMEM;
            (*count)++;
        }
        if (!nl)
            break;
        line = nl + 1;
    }
    return 0;
}

#define PM_PRESENT (1ull << 63)
#define PM_SWAPPED (1ull << 62)
#define PM_FILE (1ull << 61) /* a file's page (or shared anonymous memory) */

int memory_pages_present(int pagemap_fd, uint64_t start, uint64_t end, uint8_t *out, int own_only)
{
    uint64_t entries[4096];
    uint64_t npages = (end - start) / IMAGE_PAGE;
    for (uint64_t done = 0; done < npages;) {
        uint64_t want = npages - done;
        if (want > 4096)
            want = 4096;
        ssize_t n = pread(pagemap_fd, entries, want * 8, (off_t)((start / IMAGE_PAGE + done) * 8));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -EIO;
        uint64_t got = (uint64_t)n / 8;
        for (uint64_t i = 0; i < got; i++)
            out[done + i] = (entries[i] & PM_SWAPPED) ||
                            ((entries[i] & PM_PRESENT) && !(own_only && (entries[i] & PM_FILE)));
        done += got;
    }
    return 0;
}

int memory_page_is_zero(const void *p)
{
    const uint64_t *w = p;
    for (unsigned i = 0; i < IMAGE_PAGE / 8; i += 8) {
        if (w[i] | w[i + 1] | w[i + 2] | w[i + 3] | w[i + 4] | w[i + 5] | w[i + 6] | w[i + 7])
            return 0;
    }
    return 1;
}
