/*
 * join.h — dmtcp_restart's connections to the coordinator's restart (join.c).
 */
#ifndef STASIS_RESTART_JOIN_H
#define STASIS_RESTART_JOIN_H

#include <stddef.h>
#include <stdint.h>

#include "common/coordclient.h"
#include "common/image.h"

#define JOIN_DEFAULT_TIMEOUT 300 /* seconds a restart may take (--restart-timeout) */

struct restart_join {
    const struct coordclient_addr *addr;
    uint64_t token;    /* join_new_token() */
    uint32_t nimages;
    uint32_t timeout;  /* seconds */
};

/* A random token naming one restart. */
uint64_t join_new_token(void);

/* Open a connection to the coordinator and register image number index
 * (header hdr) of the restart on it, the caller being the process that
 * restores it.  Returns CC_OK with the connection in *fd_out (blocking, no
 * receive timeout, close-on-exec), or a coordclient_result with a message
 * in err. */
int join_register(const struct restart_join *j, uint32_t index, const char *image,
                  const struct image_header *hdr, int *fd_out, char *err, size_t cap);

/* Tell the coordinator on fd that the restart cannot go on, and why. */
void join_fail(int fd, const char *reason);

#endif
