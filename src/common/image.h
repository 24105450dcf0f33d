/*
 * image.h — the on-disk layout of a checkpoint image (format version 2).
 *
 * This header is the only thing the libc-free restart helper shares with the
 * engine, so it holds plain structs and constants and includes nothing but
 * <stdint.h>.  docs/image-format.md describes the format in prose.
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

/* region flags */
#define REGION_F_STACK 0x1u       /* a thread's or the main stack ([stack]) */
#define REGION_F_NORESERVE 0x2u   /* mapped with MAP_NORESERVE semantics */
#define REGION_F_GROWSDOWN 0x4u   /* the main stack's growsdown VMA */
#define REGION_F_DELETED 0x8u     /* backing file was deleted or replaced: contents saved */
#define REGION_F_FROM_FILE 0x10u  /* a program's or library's file (mapped executable somewhere):
                                     only the pages the process changed are saved, the others
                                     come from the file, whose size and mtime must still match */

struct image_extent {
    uint64_t first_page; /* page index within the region */
    uint64_t npages;
};

struct image_payload_head {
    uint64_t nextents; /* runs of pages stored in this payload */
    uint64_t nblocks;
    uint64_t ninherit; /* runs of pages whose bytes are in the parent image
                          (incremental images only; see image_header.parent) */
    uint64_t reserved;
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
    uint32_t reserved;
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
    uint64_t restore_arg;     /* argument for it */
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
    char cmdline[1024];       /* argv joined by spaces, for tools */
    char host[64];
    /* incremental images: the image this one builds on (0/"" when full) */
    uint64_t parent_checksum; /* its header_checksum */
    uint32_t chain_depth;     /* images back to the full one */
    uint32_t reserved0;
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
    uint64_t reserved[4];
};

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
    int32_t coord_fd;          /* the restart's connection to the coordinator (registered
                                  with MSG_RESTART_IMAGE), or -1; see docs/protocol.md */
    uint32_t reserved;
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
