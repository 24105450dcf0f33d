/*
 * load.h — the restart helper's block loader (load.c) and the few helper
 * functions it shares (helper.c).
 */
#ifndef STASIS_RESTART_LOAD_H
#define STASIS_RESTART_LOAD_H

#include <stdint.h>

#include "common/image.h"

/* Set up the block buffers and the decompressor at work_area. */
void load_init(uint64_t work_area);
/* Fill the pages an incremental image inherits, following the plan on
 * plan_fd with the older images on fds; area is scratch address space. */
void load_plan(int plan_fd, const int *fds, int nfds, uint64_t area);
/* One block of region r, read, checked and decompressed: the bytes stay
 * valid until the next call. */
const uint8_t *load_block(int img, const struct image_region *r, const struct image_block *b);
/* Read region r's payload head into area (mapped; *mapped bytes) and check
 * it (refusing the image when it is malformed); NULL when it needs more
 * than cap bytes. */
const uint8_t *load_head(int img, const struct image_region *r, uint64_t area, uint64_t cap,
                         struct image_payload_head *ph, uint64_t *mapped);
/* In a lazy server: kill this process on a checksum mismatch. */
void load_set_victim(int pid);
/* The image's path, for messages. */
void load_set_image_path(const char *path);
/* The image's region table (checked), and whether the image has a parent:
 * load_head and load_plan check against them. */
void load_set_table(const struct image_region *regions, uint64_t n, int has_parent);
/* 1 when h's header_checksum matches it. */
int load_header_sealed(const struct image_header *h);
/* Give the buffers back (before the jump to the engine). */
void load_fini(void);
/* Fill region r (already mapped writable) from image fd img; its payload
 * head is read into a scratch mapping at head_area. */
void load_region(int img, const struct image_region *r, uint64_t head_area);

void hs_say(const char *s);
void hs_hex(uint64_t v);
void hs_dec(uint64_t v);
__attribute__((noreturn)) void hs_die(const char *what, const char *detail, long err);
struct image_fault;
/* Refuse the image for fault f (helper.c): one line, exit status 1. */
__attribute__((noreturn)) void hs_refuse(const char *part, const struct image_region *r, const struct image_fault *f);

#endif
