/*
 * fds.h — what the fds plugin (fds.c) offers the other built-in plugins.
 */
#ifndef STASIS_PLUGINS_FDS_H
#define STASIS_PLUGINS_FDS_H

/* syscall(2) with SYS_close, SYS_dup2, SYS_dup3 or SYS_close_range, kept
 * away from the engine's own descriptors (pid.c's syscall() wrapper passes
 * them here); the kernel's convention, -errno */
long fds_syscall(long n, long a, long b, long c);
/* during RESTART: fd is a number the program's descriptors take (pipe.c
 * keeps its spare ends off them) */
int fds_restart_uses(int fd);
/* during RESTART: a descriptor made for the restart (close-on-exec) moved
 * to a number no saved descriptor takes; returns the new number */
int fds_park(int fd);

#endif
