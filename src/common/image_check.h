/*
 * image_check.h — validating a checkpoint image before anything is mapped.
 */
#ifndef STASIS_IMAGE_CHECK_H
#define STASIS_IMAGE_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "common/image.h"

/* The address range the restart helper occupies; images may not use it. */
#define IMAGE_HELPER_ZONE_START 0x200000000000ull
#define IMAGE_HELPER_ZONE_END 0x200400000000ull

/* Check everything: header, version, architecture, owner, trailer, region
 * table and every payload's checksum.  0 when the image can be restarted;
 * otherwise -1 with a message in err naming the problem. */
int image_check_file(const char *path, struct image_header *hdr, char *err, size_t errcap);

#endif
