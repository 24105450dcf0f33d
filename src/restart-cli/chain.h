/*
 * chain.h — following an incremental image's chain and planning its
 * restart (chain.c).
 */
#ifndef STASIS_RESTART_CHAIN_H
#define STASIS_RESTART_CHAIN_H

#include <stddef.h>

#include "common/image.h"

#define CHAIN_MAX 64

struct chain_result {
    int plan_fd;        /* memfd holding the plan; -1 when none is needed */
    size_t plan_len;
    int nimages;        /* older images the plan reads from */
    int fds[CHAIN_MAX]; /* open, in plan order (parent first) */
};

/* For image (open on fd, its header newest): check every older image it
 * needs (trust.c, then fully when full is set) and build the plan.  0, or
 * -1 with a message in err naming the image and the problem. */
int chain_plan(const char *image, int fd, const struct image_header *newest, int full, struct chain_result *out,
               char *err, size_t cap);

#endif
