/*
 * memory.h — the address space as the checkpoint sees it (memory.c).
 */
#ifndef STASIS_MEMORY_H
#define STASIS_MEMORY_H

#include <stddef.h>
#include <stdint.h>

struct memory_area {
    uint64_t start, end, offset;
    uint32_t prot;
    int shared;
    uint64_t inode;
    const char *path; /* points into the maps buffer; "" for anonymous */
};

/* A growable buffer made of mmap'd pages: safe while other threads are
 * parked inside malloc.  Registered buffers are left out of images. */
struct memory_buf {
    uint8_t *data;
    size_t len, cap;
};
int memory_buf_reserve(struct memory_buf *b, size_t need);
int memory_buf_append(struct memory_buf *b, const void *p, size_t n);
void memory_buf_free(struct memory_buf *b);
/* Drop a buffer that is not mapped any more (after a restart) without
 * unmapping whatever may now be at its address. */
void memory_buf_forget(struct memory_buf *b);
int memory_buf_is_own(uint64_t start, uint64_t end);
int memory_own_overlap(uint64_t start, uint64_t end, uint64_t *own_start, uint64_t *own_end);

/* Read /proc/self/maps into b and split it into areas (stored in areas_buf). */
int memory_read_maps(struct memory_buf *text, struct memory_buf *areas_buf, size_t *count);

/* Which pages of [start,end) hold data (present or swapped), one byte per
 * page in out (1 = has data).  own_only: only the process's own copies
 * (anonymous or swapped), not pages of a file's page cache it maps. */
int memory_pages_present(int pagemap_fd, uint64_t start, uint64_t end, uint8_t *out, int own_only);

int memory_page_is_zero(const void *p);

#endif
