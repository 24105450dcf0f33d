/*
 * files.h — the program and library files a restart maps again (files.c).
 */
#ifndef STASIS_RESTART_FILES_H
#define STASIS_RESTART_FILES_H

#include <stddef.h>

#include "common/image.h"

/* Every file whose private mappings the image (open on fd, named image)
 * leaves to the file (REGION_F_FROM_FILE: programs and libraries) must
 * still exist with the size and modification time it had at checkpoint.
 * 0, or -1 with a message in err naming the image, the file and what to do. */
int files_check(const char *image, int fd, const struct image_header *hdr, char *err, size_t cap);

#endif
