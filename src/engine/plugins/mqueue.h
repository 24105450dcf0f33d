/*
 * mqueue.h — what the message queue plugin (mqueue.c) offers the fds
 * plugin, which leaves message queue descriptors to it.
 */
#ifndef STASIS_PLUGINS_MQUEUE_H
#define STASIS_PLUGINS_MQUEUE_H

#include <stdint.h>

/* fd is a POSIX message queue */
int mqueue_is(int fd);
/* RESTART, around the fds plugin's reopening: the queues are opened again
 * with their messages (begin), each descriptor of one reopened with its
 * flags (reopen: a new descriptor, or -1), the temporaries go (end) */
void mqueue_restart_begin(void);
int mqueue_reopen(int fd, uint64_t ino, int flags);
void mqueue_restart_end(void);

#endif
