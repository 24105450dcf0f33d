/*
 * image_check.h — validating a checkpoint image before anything is mapped.
 */
#ifndef STASIS_IMAGE_CHECK_H
#define STASIS_IMAGE_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "common/image.h"

/* Check header, version, architecture, owner, trailer, region table and
 * every payload's head (page list and block table, with their checksums);
 * with full set, also every block's bytes against its checksum.  0 when the
 * image can be restarted; otherwise -1 with a message in err naming the
 * problem. */
int image_check_file(const char *path, struct image_header *hdr, char *err, size_t errcap, int full);

/* The same for an image already open on fd (read with pread: the file
 * offset is not used); path only names it in messages. */
int image_check_fd(int fd, const char *path, struct image_header *hdr, char *err, size_t errcap, int full);

/* The plugin section `name` of an image that image_check_fd accepted:
 * copies up to cap bytes into buf and returns the section's size, or -1
 * if the image has no such section (or it does not match its checksum). */
long image_section_read(int fd, const struct image_header *hdr, const char *name, void *buf, size_t cap);

/* pread all of len bytes at off (retrying short reads and EINTR): 0, or a
 * negative errno (-EIO at the end of the file). */
int image_read_at(int fd, void *buf, size_t len, uint64_t off);

#endif
