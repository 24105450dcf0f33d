/*
 * trust.h — which image files dmtcp_restart uses (trust.c).
 */
#ifndef STASIS_RESTART_TRUST_H
#define STASIS_RESTART_TRUST_H

#include <stddef.h>

/* Open path for restarting: only a regular file (not a symbolic link)
 * owned by the user running dmtcp_restart and writable by nobody else,
 * checked on the opened descriptor.  The descriptor (close-on-exec), or -1
 * with a message in err naming path, the check that failed and what to do. */
int trust_open_image(const char *path, char *err, size_t cap);

#endif
