/*
 * pipe.h — what the pipe plugin (pipe.c) offers the fds plugin, which
 * reopens every descriptor at a restart and asks it for the pipes, and
 * spawn.c, which passes the outside pipes on across exec.
 */
#ifndef STASIS_PLUGINS_PIPE_H
#define STASIS_PLUGINS_PIPE_H

#include <stdint.h>

/* fd is a pipe this plugin restores (its inode in *ino) */
int pipe_is_pipe_fd(int fd, uint64_t *ino);
/* RESTART, around the fds plugin's reopening: pipes are made again
 * (begin), each descriptor of one put back at its number (reopen), spare
 * ends closed (end) */
void pipe_restart_begin(void);
/* (dev: a named FIFO's file system; 0 for an anonymous pipe) */
int pipe_reopen(int fd, uint64_t dev, uint64_t ino, int acc, int fl);
void pipe_restart_end(void);
/* which pipes on 0-2 lead outside the computation (the launch root's, or
 * dmtcp_restart's streams): passed on to programs started with exec or
 * spawn (spawn.c) as STASIS_OUTSIDE_STDIO, read back at start */
int pipe_is_outside_stdio(uint64_t ino);
const char *pipe_outside_stdio(void);
void pipe_outside_init(const char *env);

#endif
