/*
 * pty.h — what the pty plugin (pty.c) offers the fds plugin.
 */
#ifndef STASIS_PLUGINS_PTY_H
#define STASIS_PLUGINS_PTY_H

/* fd is a pseudo-terminal end: its id for pty_reopen (> 0), else 0 */
int pty_id_of(int fd);
/* fds.c, during RESTART: before it reopens descriptors, a descriptor for
 * the pty end `id` saved at number fd with status flags fl (or -1: fd
 * keeps what it has, a stream dmtcp_restart gave), and once every
 * descriptor is in place */
void pty_restart_begin(void);
int pty_reopen(int fd, int id, int fl);
void pty_restart_end(void);

#endif
