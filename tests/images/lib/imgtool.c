/*
 * imgtool.c — reads and patches checkpoint images for tests/images.
 * Built by tests/images/lib/common.sh with the tree's own image.h:
 *   cc -O1 -I src -o imgtool tests/images/lib/imgtool.c
 *
 *   imgtool info IMAGE
 *       prints key=value lines: header fields, the layout offsets, field
 *       offsets within the header and trailer (off_*), and the
 *       payload of the largest region (big_payload_offset/_size, and
 *       big_block_byte: the middle byte of its middle block), and whether
 *       the byte at the middle of the file lies inside a block's stored
 *       bytes (mid_in_payload=1); for incremental images, generation,
 *       header_checksum, chain_depth, parent and parent_checksum
 *   imgtool block-byte IMAGE ADDR
 *       prints the file offset of the middle byte of the middle block
 *       stored for the region holding address ADDR (decimal or 0x…)
 *   imgtool set IMAGE FIELD VALUE [--no-reseal]
 *       FIELD: version, arch, page_size, uid, header_size; writes VALUE
 *       (decimal or 0x…) into the header, then reseals it: recomputes
 *       header_checksum (XXH64, seed 0, of struct image_header with the field
 *       zero) and copies it into the trailer, as the engine would have.
 *   imgtool reseal IMAGE
 *
 * Exit status 0 on success, 1 with a message on stderr otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "common/image.h"

static void die(const char *what, const char *path)
{
    fprintf(stderr, "imgtool: %s %s: %s\n", what, path, errno ? strerror(errno) : "bad input");
    exit(1);
}

static void rd(int fd, void *buf, size_t len, off_t off, const char *path)
{
    errno = 0;
    if (pread(fd, buf, len, off) != (ssize_t)len)
        die("cannot read", path);
}

static void wr(int fd, const void *buf, size_t len, off_t off, const char *path)
{
    errno = 0;
    if (pwrite(fd, buf, len, off) != (ssize_t)len)
        die("cannot write", path);
}

static void reseal(int fd, struct image_header *h, const char *path)
{
    h->header_checksum = 0;
    h->header_checksum = XXH64(h, sizeof *h, 0);
    wr(fd, h, sizeof *h, 0, path);
    struct stat st;
    if (fstat(fd, &st) < 0)
        die("cannot stat", path);
    /* the trailer's copy, where the header says the trailer is (if it fits) */
    if (h->file_size >= sizeof(struct image_trailer) && h->file_size <= (uint64_t)st.st_size) {
        off_t toff = (off_t)(h->file_size - sizeof(struct image_trailer));
        wr(fd, &h->header_checksum, sizeof h->header_checksum,
           toff + (off_t)offsetof(struct image_trailer, header_checksum), path);
    }
}

static int info(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        die("cannot open", path);
    struct image_header h;
    rd(fd, &h, sizeof h, 0, path);
    struct stat st;
    fstat(fd, &st);
    printf("struct_size=%zu\nversion=%u\narch=%u\npage_size=%u\nuid=%u\nnthreads=%u\n", sizeof h, h.version,
           h.arch, h.page_size, h.uid, h.nthreads);
    printf("nregions=%llu\ntable_offset=%llu\nstrings_offset=%llu\nsections_offset=%llu\n"
           "sections_size=%llu\nfile_size=%llu\nactual_size=%lld\n",
           (unsigned long long)h.nregions, (unsigned long long)h.table_offset,
           (unsigned long long)h.strings_offset, (unsigned long long)h.sections_offset,
           (unsigned long long)h.sections_size, (unsigned long long)h.file_size, (long long)st.st_size);
    printf("off_version=%zu\noff_arch=%zu\noff_uid=%zu\noff_comp_id=%zu\noff_program=%zu\n"
           "off_trailer_header_checksum=%zu\n",
           offsetof(struct image_header, version), offsetof(struct image_header, arch),
           offsetof(struct image_header, uid), offsetof(struct image_header, comp_id),
           offsetof(struct image_header, program), offsetof(struct image_trailer, header_checksum));
    printf("trailer_offset=%llu\nprogram=%s\n", (unsigned long long)(h.file_size - sizeof(struct image_trailer)),
           h.program);
    /* incremental images: the chain (parent is "" and depth 0 when full) */
    printf("generation=%llu\nheader_checksum=0x%016llx\nchain_depth=%u\nparent=%.*s\nparent_checksum=0x%016llx\n",
           (unsigned long long)h.generation, (unsigned long long)h.header_checksum, h.chain_depth,
           (int)sizeof h.parent, h.parent, (unsigned long long)h.parent_checksum);
    if (h.nregions > (1u << 20) || h.table_offset + h.nregions * sizeof(struct image_region) > (uint64_t)st.st_size)
        return 0;
    struct image_region *r = malloc(h.nregions * sizeof *r + 1);
    rd(fd, r, h.nregions * sizeof *r, (off_t)h.table_offset, path);
    uint64_t big = 0, bigoff = 0, bigbyte = 0, mid = (uint64_t)st.st_size / 2;
    int mid_in = 0;
    for (uint64_t i = 0; i < h.nregions; i++) {
        if (!r[i].payload_size)
            continue;
        /* the block table: a byte inside a block's stored bytes (padding
         * between blocks is not data and is not checked) */
        struct image_payload_head ph;
        rd(fd, &ph, sizeof ph, (off_t)r[i].payload_offset, path);
        if (ph.nextents > (1u << 24) || ph.nblocks > (1u << 24))
            continue;
        struct image_block *b = malloc(ph.nblocks * sizeof *b + 1);
        rd(fd, b, ph.nblocks * sizeof *b,
           (off_t)(r[i].payload_offset + sizeof ph + ph.nextents * sizeof(struct image_extent)), path);
        if (r[i].payload_size > big && ph.nblocks) {
            big = r[i].payload_size;
            bigoff = r[i].payload_offset;
            const struct image_block *m = &b[ph.nblocks / 2];
            bigbyte = r[i].payload_offset + m->offset + m->stored_len / 2;
        }
        for (uint64_t k = 0; k < ph.nblocks; k++)
            if (mid >= r[i].payload_offset + b[k].offset && mid < r[i].payload_offset + b[k].offset + b[k].stored_len)
                mid_in = 1;
        free(b);
    }
    printf("big_payload_offset=%llu\nbig_payload_size=%llu\nbig_block_byte=%llu\nmid_offset=%llu\n"
           "mid_in_payload=%d\n",
           (unsigned long long)bigoff, (unsigned long long)big, (unsigned long long)bigbyte,
           (unsigned long long)mid, mid_in);
    free(r);
    close(fd);
    return 0;
}

/* The file offset of the middle byte of the middle block stored for the
 * region holding address addr (a byte the restart reads and checks). */
static int block_byte(const char *path, uint64_t addr)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        die("cannot open", path);
    struct image_header h;
    rd(fd, &h, sizeof h, 0, path);
    errno = 0;
    if (h.nregions > (1u << 20))
        die("implausible region count in", path);
    struct image_region *r = malloc(h.nregions * sizeof *r + 1);
    rd(fd, r, h.nregions * sizeof *r, (off_t)h.table_offset, path);
    for (uint64_t i = 0; i < h.nregions; i++) {
        if (addr < r[i].start || addr >= r[i].end || !r[i].payload_size)
            continue;
        struct image_payload_head ph;
        rd(fd, &ph, sizeof ph, (off_t)r[i].payload_offset, path);
        if (!ph.nblocks || ph.nblocks > (1u << 24) || ph.nextents + ph.ninherit > (1u << 24))
            break;
        struct image_block b;
        rd(fd, &b, sizeof b,
           (off_t)(r[i].payload_offset + sizeof ph + (ph.nextents + ph.ninherit) * sizeof(struct image_extent) +
                   ph.nblocks / 2 * sizeof b),
           path);
        printf("%llu\n", (unsigned long long)(r[i].payload_offset + b.offset + b.stored_len / 2));
        free(r);
        close(fd);
        return 0;
    }
    fprintf(stderr, "imgtool: no block stored for address 0x%llx in %s\n", (unsigned long long)addr, path);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && !strcmp(argv[1], "info"))
        return info(argv[2]);
    if (argc >= 4 && !strcmp(argv[1], "block-byte"))
        return block_byte(argv[2], strtoull(argv[3], NULL, 0));
    if (argc >= 3 && !strcmp(argv[1], "reseal")) {
        int fd = open(argv[2], O_RDWR);
        if (fd < 0)
            die("cannot open", argv[2]);
        struct image_header h;
        rd(fd, &h, sizeof h, 0, argv[2]);
        reseal(fd, &h, argv[2]);
        return 0;
    }
    if (argc >= 5 && !strcmp(argv[1], "set")) {
        int fd = open(argv[2], O_RDWR);
        if (fd < 0)
            die("cannot open", argv[2]);
        struct image_header h;
        rd(fd, &h, sizeof h, 0, argv[2]);
        uint32_t v = (uint32_t)strtoul(argv[4], NULL, 0);
        if (!strcmp(argv[3], "version"))
            h.version = v;
        else if (!strcmp(argv[3], "arch"))
            h.arch = v;
        else if (!strcmp(argv[3], "page_size"))
            h.page_size = v;
        else if (!strcmp(argv[3], "uid"))
            h.uid = v;
        else if (!strcmp(argv[3], "header_size"))
            h.header_size = v;
        else {
            fprintf(stderr, "imgtool: unknown field %s\n", argv[3]);
            return 1;
        }
        if (argc >= 6 && !strcmp(argv[5], "--no-reseal"))
            wr(fd, &h, sizeof h, 0, argv[2]);
        else
            reseal(fd, &h, argv[2]);
        return 0;
    }
    fprintf(stderr, "usage: imgtool info IMAGE | block-byte IMAGE ADDR | set IMAGE FIELD VALUE [--no-reseal] | "
                    "reseal IMAGE\n");
    return 1;
}
