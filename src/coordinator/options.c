/*
 * options.c — dmtcp_coordinator's command line and environment
 * (DMTCP_COORD_PORT, DMTCP_CHECKPOINT_INTERVAL, DMTCP_CHECKPOINT_DIR).
 * Options override the environment.  Usage errors exit with status 1.
 */
#include "coordinator/coord.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cliopt.h"

static void coord_usage(FILE *f)
{
    fprintf(f,
"Usage: dmtcp_coordinator [OPTIONS]\n"
"Coordinates checkpoints of the processes started by dmtcp_launch.\n"
"\n"
"Options:\n"
"  -p, --coord-port PORT  port to listen on (default 7779, env DMTCP_COORD_PORT;\n"
"                         0 = any free port, see --port-file)\n"
"  --port-file FILE       write the port actually used to FILE\n"
"  --status-file FILE     write host, port and pid to FILE once listening\n"
"  --bind ADDR            address to listen on (default 127.0.0.1; 0.0.0.0 = all;\n"
"                         clients on other hosts need STASIS_COORD_SECRET)\n"
"  --daemon               run in the background\n"
"  --exit-on-last         exit when the last process leaves (or the last image of\n"
"                         a restart fails)\n"
"  --launcher-pid PID     with --exit-on-last: also exit if PID ends before any\n"
"                         process joined (dmtcp_launch and dmtcp_restart pass\n"
"                         their own pid when they start a coordinator)\n"
"  --kill-after-ckpt      kill the computation after each checkpoint\n"
"  --timeout SECONDS      exit after SECONDS with no client connected\n"
"  --kill-timeout SECONDS a process on this host still connected SECONDS after a\n"
"                         kill request (-k, -kc, -q) is killed with SIGKILL (default 2)\n"
"  -i, --interval N       checkpoint every N seconds (0 = never; env\n"
"                         DMTCP_CHECKPOINT_INTERVAL)\n"
"  --ckptdir DIR          where processes write images (env DMTCP_CHECKPOINT_DIR;\n"
"                         default: each process's own checkpoint directory)\n"
"  --coord-logfile FILE   append the event log to FILE (default stderr)\n"
"  -q, --quiet            log only errors and failures\n"
"  --help                 print this help and exit\n"
"  --version              print the version and exit\n"
"\n"
"Secret: the coordinator writes a random token to coord-PORT.secret in the\n"
"first private directory of $XDG_RUNTIME_DIR/stasis, /tmp/stasis-UID and\n"
"$HOME/.cache/stasis (a directory another user made, or that others may use,\n"
"is passed over, with a message).  Clients and the coordinator prove to each\n"
"other that they hold it, without sending it; on another host set\n"
"STASIS_COORD_SECRET to it.  See dmtcp_coordinator(1).\n");
}

static void coord_usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "dmtcp_coordinator: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry 'dmtcp_coordinator --help' for the list of options.\n");
    exit(1);
}

static int coord_opt_port(const char *s, const char *what)
{
    int p;
    if (cliopt_uint(s, &p) < 0 || p > 65535)
        coord_usage_error(what, s);
    return p;
}

static int coord_opt_seconds(const char *s, const char *what)
{
    int v;
    if (cliopt_uint(s, &v) < 0)
        coord_usage_error(what, s);
    return v;
}

static int coord_opt_pid(const char *s)
{
    int v;
    if (cliopt_uint(s, &v) < 0 || v == 0)
        coord_usage_error("invalid --launcher-pid '%s': expected a process id", s);
    return v;
}

static void coord_opt_ckptdir(struct coord_opts *o, const char *dir)
{
    struct stat st;
    if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
        coord_usage_error("checkpoint directory '%s' does not exist or is not a directory", dir);
    if (!realpath(dir, o->ckptdir))
        coord_usage_error("cannot resolve checkpoint directory '%s'", dir);
    if (strlen(o->ckptdir) >= sizeof(((struct msg_do_ckpt *)0)->ckptdir))
        coord_usage_error("checkpoint directory '%s' is too long (over 1023 bytes)", dir);
}

static void coord_opts_from_env(struct coord_opts *o)
{
    const char *e;
    if ((e = getenv("DMTCP_COORD_PORT")) && *e)
        o->port = coord_opt_port(e, "invalid DMTCP_COORD_PORT '%s': expected 0-65535");
    if ((e = getenv("DMTCP_CHECKPOINT_INTERVAL")) && *e)
        o->interval = coord_opt_seconds(e, "invalid DMTCP_CHECKPOINT_INTERVAL '%s': expected "
                                           "seconds >= 0");
    if ((e = getenv("DMTCP_CHECKPOINT_DIR")) && *e)
        coord_opt_ckptdir(o, e);
}

/* One option at argv[*i]; returns 0 when it was not recognised. */
static int coord_opt_one(int argc, char **argv, int *i, struct coord_opts *o)
{
    const char *v = NULL;
#define M(s, l, vp) ((r = cliopt_match(argc, argv, i, s, l, vp)) != CLIOPT_NO)
    int r;
    if (M("-p", "--coord-port", &v) || (r == CLIOPT_NO && M(NULL, "--port", &v))) {
        if (r == CLIOPT_YES)
            o->port = coord_opt_port(v, "invalid port '%s': expected 0-65535");
    } else if (M(NULL, "--port-file", &v)) {
        o->port_file = v;
    } else if (M(NULL, "--status-file", &v)) {
        o->status_file = v;
    } else if (M(NULL, "--coord-logfile", &v)) {
        o->logfile = v;
    } else if (M(NULL, "--bind", &v)) {
        o->bind_addr = v;
    } else if (M("-i", "--interval", &v)) {
        if (r == CLIOPT_YES)
            o->interval = coord_opt_seconds(v, "invalid interval '%s': expected seconds >= 0");
    } else if (M(NULL, "--timeout", &v)) {
        if (r == CLIOPT_YES)
            o->timeout = coord_opt_seconds(v, "invalid timeout '%s': expected seconds >= 0");
    } else if (M(NULL, "--kill-timeout", &v)) {
        const char *bad = "invalid --kill-timeout '%s': expected seconds from 1 to 3600";
        if (r == CLIOPT_YES && ((o->kill_timeout = coord_opt_seconds(v, bad)) < 1 || o->kill_timeout > 3600))
            coord_usage_error(bad, v);
    } else if (M(NULL, "--ckptdir", &v)) {
        if (r == CLIOPT_YES)
            coord_opt_ckptdir(o, v);
    } else if (M(NULL, "--daemon", NULL)) {
        o->daemon = 1;
    } else if (M(NULL, "--exit-on-last", NULL)) {
        o->exit_on_last = 1;
    } else if (M(NULL, "--launcher-pid", &v)) {
        if (r == CLIOPT_YES)
            o->launcher_pid = coord_opt_pid(v);
    } else if (M(NULL, "--kill-after-ckpt", NULL)) {
        o->kill_after_ckpt = 1;
    } else if (M("-q", "--quiet", NULL)) {
        o->quiet = 1;
    } else if (M(NULL, "--help", NULL)) {
        coord_usage(stdout);
        exit(0);
    } else if (M(NULL, "--version", NULL)) {
        printf("dmtcp_coordinator (Stasis) %s\n", STASIS_VERSION);
        exit(0);
    } else {
        return 0;
    }
#undef M
    if (r == CLIOPT_MISSING)
        coord_usage_error("option '%s' needs a value", argv[*i]);
    if (r == CLIOPT_EXTRA)
        coord_usage_error("option '%s' takes no value", argv[*i]);
    return 1;
}

int coord_parse_options(int argc, char **argv, struct coord_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->port = PROTO_DEFAULT_PORT;
    o->bind_addr = "127.0.0.1";
    o->kill_timeout = 2;
    coord_opts_from_env(o);
    int i = 1;
    while (i < argc) {
        if (!coord_opt_one(argc, argv, &i, o))
            coord_usage_error("unknown option or argument '%s'", argv[i]);
    }
    return 0;
}
