/*
 * streams.h — standard streams on regular files across a restart (streams.c).
 */
#ifndef STASIS_RESTART_STREAMS_H
#define STASIS_RESTART_STREAMS_H

#include <stddef.h>

#include "common/image.h"

/* Which streams stay what dmtcp_restart was given (bit N: descriptor N),
 * from STASIS_RESTART_STDIO and the options: 0 or -1 after a message. */
int streams_inherit_env(unsigned *inherit);
/* "--stdin"/"--stdout"/"--stderr"/"--stdio" with "saved" or "inherit":
 * updates *inherit; 0, or -1 after a message. */
int streams_option(const char *opt, const char *value, unsigned *inherit);

/* Every image's saved streams (the section "stasis.stdio", read from the
 * checked descriptor fd): a stream that was a regular file and is not
 * inherited must still be that file at its path.  0, or -1 with a message
 * in err naming the image, the stream, the file and what to do. */
int streams_check(const char *image, int fd, const struct image_header *hdr, unsigned inherit, char *err,
                  size_t cap);

/* Open the files of the main root's streams (image fd), once per open file
 * description, at their offsets, into ri->stdio_fd/stdio_offset (-1 where
 * none), inheritable: every process of the restart is forked from here, so
 * processes that shared the description share it again.  0, or -1 (err). */
int streams_open(const char *image, int fd, const struct image_header *hdr, struct restart_info *ri, char *err,
                 size_t cap);

#endif
