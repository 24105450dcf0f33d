/*
 * launch.h — internal interfaces of dmtcp_launch: options.c (command line
 * and environment), checks.c (program, checkpoint directory, engine and
 * plugins exist), env.c (the environment the program runs with), main.c
 * (coordinator, then exec).
 */
#ifndef STASIS_LAUNCH_H
#define STASIS_LAUNCH_H

#include <limits.h>

#include "common/cliopt.h"
#include "common/coordclient.h"

struct launch_opts {
    const char *host, *port;     /* NULL = env / default */
    const char *port_file;
    enum coordclient_mode mode;
    int interval;                /* -1 = not given on the command line */
    const char *ckptdir_opt;     /* --ckptdir as given */
    int ckpt_signal;             /* 0 = not given */
    const char *plugins;         /* --with-plugin A:B */
    int quiet;
    int gzip;                    /* -1 = not given (env DMTCP_GZIP or on), 0 off, 1 on */
    int forked;                  /* --forked-ckpt */
    int incremental;             /* --incremental */
    const char *full_every;      /* --full-every N */
    const char *zstd_level;      /* --zstd-level N */
    const char *suspend_timeout; /* --suspend-timeout SECONDS */
    char **argv;                 /* PROGRAM ARGS… */
};

/* What checks.c found. */
struct launch_paths {
    char program[PATH_MAX];      /* the executable that will run */
    char ckptdir[PATH_MAX];      /* absolute */
    char libdir[PATH_MAX];       /* absolute lib/ next to bin/ */
    char engine[PATH_MAX + 16];  /* libdir/libdmtcp.so */
    char preload_extra[8192];    /* plugins, ':'-separated, may be "" */
};

void launch_parse(int argc, char **argv, struct launch_opts *o);
void launch_usage_error(const char *fmt, const char *arg) __attribute__((noreturn));
void launch_check(const struct launch_opts *o, struct launch_paths *p);
void launch_set_env(const struct launch_opts *o, const struct launch_paths *p,
                    const struct coordclient_addr *a);

#endif
