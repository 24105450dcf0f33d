/*
 * image.h — the on-disk layout of a checkpoint image (format version 2).
 *
 * This header is the only thing the libc-free restart helper shares with the
 * engine, so it holds plain structs and constants and includes nothing but
 * <stdint.h> and <stddef.h>.  docs/image-format.md gives every byte of the
 * format; the _Static_asserts below pin each on-disk struct's size and
 * field offsets to what it says (tests/images/doc-layout.sh checks the
 * page against this file).  Fields named reserved… are written as zero and
 * checked to be zero on read.
 *
 *   offset 0                 struct image_header (IMAGE_HEADER_SIZE bytes)
 *   IMAGE_HEADER_SIZE …      region payloads, each page-aligned
 *   table_offset             struct image_region[nregions]
 *   strings_offset           NUL-terminated strings (paths) referenced by regions
 *   sections_offset          plugin sections: struct image_section + bytes, repeated
 *   file end - trailer       struct image_trailer
 *
 * A region payload starts with its head, then holds its blocks:
 *   struct image_payload_head; struct image_extent[nextents];
 *   struct image_extent[ninherit]; struct image_block[nblocks];
 *   padding to a page; the blocks' bytes.
 * The extents name the pages stored, in address order; the pages of every
 * extent, taken in order, are cut into blocks of IMAGE_BLOCK_PAGES pages (the
 * last may be shorter).  Each block is stored raw (page-aligned in the file,
 * so it can be mapped) or as one zstd frame, with an XXH3-64 checksum of the
 * bytes stored, so any block can be checked on its own as it is loaded.
 * Pages named by an inherited extent (incremental images) hold what the same
 * address held in the parent image, which may itself inherit them.
 * Pages of the region that no extent names are zero (anonymous memory) or
 * come from the backing file (MAP_SHARED file mappings: the file is the truth).
 */
#ifndef STASIS_IMAGE_H
#define STASIS_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#define IMAGE_MAGIC "STASIS\x00\x01"   /* 8 bytes */
#define IMAGE_TRAILER_MAGIC "STASEND\x01" /* 8 bytes */
#define IMAGE_VERSION 2u
#define IMAGE_HEADER_SIZE 4096u
#define IMAGE_ARCH_X86_64 62u /* EM_X86_64 */
#define IMAGE_PAGE 4096u

/* region kinds */
enum image_region_kind {
    REGION_ANON_PRIVATE = 1, /* anonymous private memory (heap, stacks, bss …) */
    REGION_ANON_SHARED = 2,  /* MAP_SHARED|MAP_ANONYMOUS (saved, re-created shared) */
    REGION_FILE_PRIVATE = 3, /* private file mapping: remapped from the file, saved pages on top */
    REGION_FILE_SHARED = 4,  /* shared file mapping: remapped from the file */
    REGION_RESERVED = 5,     /* PROT_NONE with no content: address space only */
};

/* region flags (bit 0x2 is reserved: zero) */
#define REGION_F_STACK 0x1u       /* the main thread's stack ([stack]); informative */
#define REGION_F_GROWSDOWN 0x4u   /* the main stack's growsdown VMA */
#define REGION_F_DELETED 0x8u     /* backing file was deleted or replaced: contents saved */
#define REGION_F_FROM_FILE 0x10u  /* a program's or library's file (mapped executable somewhere):
                                     only the pages the process changed are saved, the others
                                     come from the file, whose size and mtime must still match */
#define REGION_F_ALL (REGION_F_STACK | REGION_F_GROWSDOWN | REGION_F_DELETED | REGION_F_FROM_FILE)

struct image_extent {
    uint64_t first_page; /* page index within the region */
    uint64_t npages;
};

struct image_payload_head {
    uint64_t nextents; /* runs of pages stored in this payload */
    uint64_t nblocks;
    uint64_t ninherit; /* runs of pages whose bytes are in the parent image
                          (incremental images only; see image_header.parent) */
    uint64_t reserved; /* zero */
};

#define IMAGE_BLOCK_PAGES 256u /* 1 MiB of memory per block */

enum image_codec {
    CODEC_RAW = 0,  /* the pages as they are; offset page-aligned */
    CODEC_ZSTD = 1, /* one zstd frame holding exactly raw_len bytes */
};

struct image_block {
    uint64_t offset;     /* from the start of the payload */
    uint32_t stored_len; /* bytes in the file */
    uint32_t raw_len;    /* bytes of memory: IMAGE_BLOCK_PAGES pages, or fewer for the last */
    uint32_t codec;      /* enum image_codec */
    uint32_t reserved;   /* zero */
    uint64_t checksum;   /* XXH3-64 of the stored bytes, seed 0 */
};

/* Bytes of a payload's head (before its padding to a page): the head, the
 * stored extents, the inherited extents, the block table. */
static inline uint64_t image_head_bytes(const struct image_payload_head *h)
{
    return sizeof(struct image_payload_head) + (h->nextents + h->ninherit) * sizeof(struct image_extent) +
           h->nblocks * sizeof(struct image_block);
}

struct image_region {
    uint64_t start;
    uint64_t end;
    uint32_t prot;           /* PROT_* */
    uint32_t kind;           /* enum image_region_kind */
    uint32_t flags;          /* REGION_F_* */
    uint32_t path_len;       /* bytes of the backing path (0 = none) */
    uint64_t path_offset;    /* offset of the path within the strings area */
    uint64_t file_offset;    /* offset within the backing file */
    uint64_t payload_offset; /* file offset of the payload (0 = no payload) */
    uint64_t payload_size;   /* bytes of payload, head and padding included */
    uint64_t stored_pages;   /* pages held in the payload */
    uint64_t checksum;       /* XXH64 of the payload's head (image_head_bytes), seed 0;
                                each block carries its own checksum */
    uint64_t object_id;      /* shared anonymous memory: the kernel object (inode)
                                that several regions may map */
    uint64_t file_size;      /* REGION_F_FROM_FILE: the file's size and modification */
    int64_t file_mtime_ns;   /* time (ns since the epoch) at checkpoint */
};

struct image_header {
    char magic[8];
    uint32_t version;
    uint32_t header_size;
    uint32_t arch;
    uint32_t page_size;
    uint32_t uid;
    uint32_t nthreads;
    uint64_t created_ns;      /* CLOCK_REALTIME at checkpoint */
    uint64_t comp_id;         /* computation id */
    uint64_t generation;      /* checkpoint generation */
    uint64_t restore_entry;   /* engine's restore entry point (restored address) */
    uint64_t reserved1;       /* zero */
    uint64_t nregions;
    uint64_t table_offset;
    uint64_t strings_offset;
    uint64_t strings_size;
    uint64_t sections_offset;
    uint64_t sections_size;
    uint64_t file_size;
    uint64_t memory_bytes;    /* bytes of memory stored (pages × page size) */
    int32_t vpid;
    int32_t real_pid;
    /* the kernel's special mappings at checkpoint time */
    uint64_t vdso_start, vdso_end;
    uint64_t vvar_start, vvar_end;
    uint64_t vclock_start, vclock_end;
    uint64_t program_break;   /* the kernel's program break (brk) at checkpoint */
    char program[256];        /* short name of the program */
    /* the process's place in its computation, as the program knew it
     * (virtual ids); 0 = unknown (images of older builds) */
    int32_t vppid;            /* parent */
    int32_t vpgid;            /* process group */
    int32_t vsid;             /* session */
    uint32_t nprocs;          /* processes in the checkpoint this image belongs to (0 = unknown) */
    char reserved2[1008];     /* zero (no command line is stored) */
    char host[64];
    /* incremental images: the image this one builds on (0/"" when full) */
    uint64_t parent_checksum; /* its header_checksum */
    uint32_t chain_depth;     /* images back to the full one */
    uint32_t reserved0;       /* zero */
    char parent[256];         /* its file name, in this image's directory */
    uint64_t header_checksum; /* XXH64 of the header with this field zero */
};

/* a plugin section in the sections area */
struct image_section {
    char name[32];
    uint64_t size;     /* bytes following this struct */
    uint64_t checksum; /* XXH64 of those bytes */
};

struct image_trailer {
    char magic[8];
    uint64_t file_size;     /* total image size, trailer included */
    uint64_t table_checksum; /* XXH64 over table, strings and sections (contiguous) */
    uint64_t header_checksum; /* copy of the header's */
    uint64_t reserved[4];     /* zero */
};

/* The layout pinned: docs/image-format.md gives these offsets and sizes. */
#define IMAGE_PIN(type, field, offset, size)                                                                  \
    _Static_assert(offsetof(struct type, field) == (offset) && sizeof(((struct type *)0)->field) == (size), \
                   "struct " #type ": " #field " is " #size " bytes at offset " #offset)
#define IMAGE_PIN_SIZE(type, size) _Static_assert(sizeof(struct type) == (size), "struct " #type " is " #size " bytes")

IMAGE_PIN_SIZE(image_header, 1824);
IMAGE_PIN(image_header, magic, 0, 8);
IMAGE_PIN(image_header, version, 8, 4);
IMAGE_PIN(image_header, header_size, 12, 4);
IMAGE_PIN(image_header, arch, 16, 4);
IMAGE_PIN(image_header, page_size, 20, 4);
IMAGE_PIN(image_header, uid, 24, 4);
IMAGE_PIN(image_header, nthreads, 28, 4);
IMAGE_PIN(image_header, created_ns, 32, 8);
IMAGE_PIN(image_header, comp_id, 40, 8);
IMAGE_PIN(image_header, generation, 48, 8);
IMAGE_PIN(image_header, restore_entry, 56, 8);
IMAGE_PIN(image_header, reserved1, 64, 8);
IMAGE_PIN(image_header, nregions, 72, 8);
IMAGE_PIN(image_header, table_offset, 80, 8);
IMAGE_PIN(image_header, strings_offset, 88, 8);
IMAGE_PIN(image_header, strings_size, 96, 8);
IMAGE_PIN(image_header, sections_offset, 104, 8);
IMAGE_PIN(image_header, sections_size, 112, 8);
IMAGE_PIN(image_header, file_size, 120, 8);
IMAGE_PIN(image_header, memory_bytes, 128, 8);
IMAGE_PIN(image_header, vpid, 136, 4);
IMAGE_PIN(image_header, real_pid, 140, 4);
IMAGE_PIN(image_header, vdso_start, 144, 8);
IMAGE_PIN(image_header, vdso_end, 152, 8);
IMAGE_PIN(image_header, vvar_start, 160, 8);
IMAGE_PIN(image_header, vvar_end, 168, 8);
IMAGE_PIN(image_header, vclock_start, 176, 8);
IMAGE_PIN(image_header, vclock_end, 184, 8);
IMAGE_PIN(image_header, program_break, 192, 8);
IMAGE_PIN(image_header, program, 200, 256);
IMAGE_PIN(image_header, vppid, 456, 4);
IMAGE_PIN(image_header, vpgid, 460, 4);
IMAGE_PIN(image_header, vsid, 464, 4);
IMAGE_PIN(image_header, nprocs, 468, 4);
IMAGE_PIN(image_header, reserved2, 472, 1008);
IMAGE_PIN(image_header, host, 1480, 64);
IMAGE_PIN(image_header, parent_checksum, 1544, 8);
IMAGE_PIN(image_header, chain_depth, 1552, 4);
IMAGE_PIN(image_header, reserved0, 1556, 4);
IMAGE_PIN(image_header, parent, 1560, 256);
IMAGE_PIN(image_header, header_checksum, 1816, 8);
_Static_assert(sizeof(struct image_header) <= IMAGE_HEADER_SIZE, "the header fits its page");

IMAGE_PIN_SIZE(image_region, 104);
IMAGE_PIN(image_region, start, 0, 8);
IMAGE_PIN(image_region, end, 8, 8);
IMAGE_PIN(image_region, prot, 16, 4);
IMAGE_PIN(image_region, kind, 20, 4);
IMAGE_PIN(image_region, flags, 24, 4);
IMAGE_PIN(image_region, path_len, 28, 4);
IMAGE_PIN(image_region, path_offset, 32, 8);
IMAGE_PIN(image_region, file_offset, 40, 8);
IMAGE_PIN(image_region, payload_offset, 48, 8);
IMAGE_PIN(image_region, payload_size, 56, 8);
IMAGE_PIN(image_region, stored_pages, 64, 8);
IMAGE_PIN(image_region, checksum, 72, 8);
IMAGE_PIN(image_region, object_id, 80, 8);
IMAGE_PIN(image_region, file_size, 88, 8);
IMAGE_PIN(image_region, file_mtime_ns, 96, 8);

IMAGE_PIN_SIZE(image_payload_head, 32);
IMAGE_PIN(image_payload_head, nextents, 0, 8);
IMAGE_PIN(image_payload_head, nblocks, 8, 8);
IMAGE_PIN(image_payload_head, ninherit, 16, 8);
IMAGE_PIN(image_payload_head, reserved, 24, 8);

IMAGE_PIN_SIZE(image_extent, 16);
IMAGE_PIN(image_extent, first_page, 0, 8);
IMAGE_PIN(image_extent, npages, 8, 8);

IMAGE_PIN_SIZE(image_block, 32);
IMAGE_PIN(image_block, offset, 0, 8);
IMAGE_PIN(image_block, stored_len, 8, 4);
IMAGE_PIN(image_block, raw_len, 12, 4);
IMAGE_PIN(image_block, codec, 16, 4);
IMAGE_PIN(image_block, reserved, 20, 4);
IMAGE_PIN(image_block, checksum, 24, 8);

IMAGE_PIN_SIZE(image_section, 48);
IMAGE_PIN(image_section, name, 0, 32);
IMAGE_PIN(image_section, size, 32, 8);
IMAGE_PIN(image_section, checksum, 40, 8);

/* The section "stasis.stdio" (the engine's stdio plugin writes it, and
 * dmtcp_restart reads it before restoring anything): what the process's
 * descriptors 0, 1 and 2 were, three of these in that order. */
#define IMAGE_STDIO_SECTION "stasis.stdio"
enum image_stdio_kind {
    IMAGE_STDIO_OTHER = 0,    /* a pipe, socket, /dev/null...: not this section's */
    IMAGE_STDIO_FILE = 1,     /* a regular file, reopened at its offset */
    IMAGE_STDIO_TERMINAL = 2, /* a terminal: the one dmtcp_restart runs on */
};
struct image_stdio {
    uint32_t kind;   /* enum image_stdio_kind */
    int32_t flags;   /* status flags (fcntl F_GETFL) */
    int64_t offset;  /* file offset at the checkpoint */
    uint64_t dev;    /* identity of the file: after a restart it must be */
    uint64_t ino;    /* the same file, not another put at its path */
    char path[4096]; /* absolute, NUL-terminated */
};
IMAGE_PIN_SIZE(image_stdio, 4128);
/* the saved flags a stream's file is opened again with (for the files
 * that include <fcntl.h>; the helper does not) */
#ifdef O_ACCMODE
#define IMAGE_STDIO_OPEN_FLAGS (O_ACCMODE | O_APPEND | O_NONBLOCK | O_SYNC | O_DSYNC | O_DIRECT)
#endif
IMAGE_PIN(image_stdio, offset, 8, 8);
IMAGE_PIN(image_stdio, path, 32, 4096);

IMAGE_PIN_SIZE(image_trailer, 64);
IMAGE_PIN(image_trailer, magic, 0, 8);
IMAGE_PIN(image_trailer, file_size, 8, 8);
IMAGE_PIN(image_trailer, table_checksum, 16, 8);
IMAGE_PIN(image_trailer, header_checksum, 24, 8);
IMAGE_PIN(image_trailer, reserved, 32, 32);

/* Address ranges the restart helper occupies while it works; no image region
 * may overlap them.  The helper's program (text, data, bss) lies in the
 * upper one, its work areas in the lower one, right below it.  The Makefile
 * checks that the helper fits.  Both sit above where Linux puts programs and
 * their brk heaps (0x55…/0x56… for PIE, low addresses otherwise) and far
 * below its mmap area (0x7e…–0x7f…).
 *
 * A restarted process keeps the helper's program break: the kernel puts it
 * (plus a random offset of up to 1 GiB) after the highest segment of the
 * helper's ELF file, and nothing unprivileged can move it back.  The
 * helper's last segment is one page ending exactly at
 * IMAGE_HELPER_TEXT_END, so a heap the restarted program grows with brk()
 * starts above the text range and grows away from both ranges: the next
 * image never overlaps them, however many generations and however large
 * the heap.  (glibc's malloc copes with a break that moved up, not down.) */
#define IMAGE_HELPER_TEXT_START 0x600000000000ull
#define IMAGE_HELPER_TEXT_END 0x600000400000ull
#define IMAGE_HELPER_WORK_START 0x5ffd00000000ull
#define IMAGE_HELPER_WORK_END 0x600000000000ull

/* What dmtcp_restart hands the restart helper, and the helper hands the
 * engine's restore entry (in a page outside every saved region). */
struct restart_info {
    uint32_t magic;            /* RESTART_INFO_MAGIC */
    uint32_t restart_peers;    /* how many processes this restart brings back */
    int32_t coord_port;
    int32_t quiet;
    char coord_host[256];
    char secret[72];
    char ckptdir[1024];        /* "" = keep the checkpoint directory of the image */
    char image_path[1024];     /* absolute path of the image restarted from */
    uint64_t scratch_start;    /* helper's scratch area: stacks for thread restore */
    uint64_t scratch_size;
    uint64_t helper_start;     /* the helper's own image, unmapped once threads are back */
    uint64_t helper_end;
    uint32_t lazy;             /* dmtcp_restart --lazy */
    int32_t lazy_pid;          /* the lazy restart's server (helper → engine), 0 if none */
    uint64_t image_dev;        /* identity of the image file dmtcp_restart checked: */
    uint64_t image_ino;        /* the engine reads its plugin sections only from it */
    int32_t coord_fd;          /* the restart's connection to the coordinator (registered
                                  with MSG_RESTART_IMAGE), or -1; see docs/protocol.md */
    int32_t pidmap_fd;         /* memfd of struct restart_pid[] (vpid → real pid of every
                                  process of the restart), or -1 */
    uint32_t npids;
    uint32_t stdio_inherit;    /* bit N: descriptor N stays what dmtcp_restart was given
                                  (--stdin/--stdout/--stderr inherit) */
    int32_t stdio_fd[3];       /* the files dmtcp_restart reopened for its main root's
                                  descriptors 0-2 (inherited by the whole tree, so that
                                  processes sharing one open file share it again), or -1 */
    uint32_t reserved;
    int64_t stdio_offset[3];   /* the offset each stdio_fd was opened at: the saved offset of
                                  the description it stands for (it may have moved since) */
};
/* One process of a restart: the pid its program knows, the kernel's now. */
struct restart_pid {
    int32_t vpid;
    int32_t real_pid;
};
#define RESTART_INFO_MAGIC 0x52535452u

/* The restart plan for an incremental image, which dmtcp_restart works out
 * (src/restart-cli/chain.c) and the helper carries out: which blocks of the
 * older images of the chain hold the pages the newest image inherits, and
 * where each of those pages goes.  A plan is a struct plan_head, then
 * nblocks times a struct plan_block followed by its ncopies plan_copy. */
#define PLAN_MAGIC 0x4e414c50u
struct plan_head {
    uint32_t magic;
    uint32_t nimages; /* the older images, in the order their fds are passed */
    uint64_t nblocks;
};
struct plan_block {
    uint32_t image;      /* 0 = the parent, 1 = its parent, ... */
    uint32_t ncopies;
    uint64_t offset;     /* of the stored bytes in that image file */
    uint32_t stored_len, raw_len, codec, reserved;
    uint64_t checksum;   /* XXH3-64 of the stored bytes */
};
struct plan_copy {
    uint32_t first_page; /* within the block */
    uint32_t npages;
    uint64_t addr;       /* where they go in the restored process */
};

#endif
