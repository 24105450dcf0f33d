/*
 * options.c — dmtcp_launch's command line.  Options stop at the first
 * argument that is not one (the program) or after "--".  Usage errors exit
 * with status 1.
 */
#include "launch/launch.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cliopt.h"

static void launch_usage(FILE *f)
{
    fprintf(f,
"Usage: dmtcp_launch [OPTIONS] PROGRAM [ARGS...]\n"
"Runs PROGRAM under checkpoint control.\n"
"\n"
"Coordinator:\n"
"  -h, --coord-host HOST  coordinator host (default 127.0.0.1, env DMTCP_COORD_HOST)\n"
"  -p, --coord-port PORT  coordinator port (default 7779, env DMTCP_COORD_PORT);\n"
"                         0 = start a coordinator on any free port\n"
"  --port-file FILE       write the coordinator's port to FILE\n"
"  -j, --join-coordinator use an existing coordinator; fail if none listens\n"
"  --new-coordinator      start a new coordinator (fail if the port is taken)\n"
"  --any-coordinator      use the one listening, else start one (default)\n"
"  -i, --interval N       checkpoint every N seconds (env DMTCP_CHECKPOINT_INTERVAL)\n"
"\n"
"Checkpointing:\n"
"  --ckptdir DIR          where images go (env DMTCP_CHECKPOINT_DIR; default .)\n"
"  --ckpt-signal N        signal used to suspend threads (default 12, SIGUSR2)\n"
"  --with-plugin A:B      preload these plugins too (absolute paths; env DMTCP_PLUGIN)\n"
"  --gzip, --no-gzip      compress images (zstd) or not (env DMTCP_GZIP=1/0; default on:\n"
"                         memory that compresses is written faster and smaller, and\n"
"                         incompressible blocks are detected and stored raw)\n"
"  --zstd-level N         zstd level, -7 (fastest) to 19 (env STASIS_ZSTD_LEVEL; default 1)\n"
"  --forked-ckpt          write images from a copy-on-write child so the program is\n"
"                         stopped only while its threads are parked (env\n"
"                         STASIS_FORKED_CKPT=1; default off; see dmtcp_launch(1))\n"
"  --incremental          after the first, images hold only the pages that changed and\n"
"                         name the image they build on (ckpt_*.g<N>.dmtcp, kept beside\n"
"                         them) (env STASIS_INCREMENTAL=1; default off)\n"
"  --full-every N         with --incremental: every Nth image is full, and older\n"
"                         images of the chain are deleted (env STASIS_FULL_EVERY; default 8)\n"
"  --suspend-timeout S    a checkpoint whose threads are not all parked within S\n"
"                         seconds (a thread that blocks the checkpoint signal, one\n"
"                         stopped by a debugger) is abandoned with a message naming\n"
"                         the thread; the program runs on (env STASIS_SUSPEND_TIMEOUT;\n"
"                         default 10).  A thread inside a libc call that holds a libc\n"
"                         lock (fgets on an empty pipe, system()) is parked inside\n"
"                         the call after STASIS_PARK_DEFER_MS ms (default 100)\n"
"\n"
"Other:\n"
"  -q, --quiet            no messages from Stasis (STASIS_QUIET=1)\n"
"  --help                 print this help and exit\n"
"  --version              print the version and exit\n"
"\n"
"Exit status: that of PROGRAM once started; before that 1 (usage or check\n"
"failed), 2 (no coordinator), 3 (refused by the coordinator).\n"
"See dmtcp_launch(1).\n");
}

void launch_usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "dmtcp_launch: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry 'dmtcp_launch --help' for the list of options.\n");
    exit(1);
}

static int launch_signal(const char *v)
{
    int sig;
    if (cliopt_uint(v, &sig) < 0 || sig < 1 || sig > SIGRTMAX || sig == SIGKILL ||
        sig == SIGSTOP)
        launch_usage_error("invalid --ckpt-signal '%s': expected a signal number other than "
                           "SIGKILL and SIGSTOP", v);
    return sig;
}

/* Options that take a value; 1 when argv[*i] was one. */
static int launch_opt_value(int argc, char **argv, int *i, struct launch_opts *o)
{
    const char *v = NULL;
    int m;
#define M(s, l) ((m = cliopt_match(argc, argv, i, s, l, &v)) != CLIOPT_NO)
    if (M("-h", "--coord-host")) {
        o->host = v;
    } else if (M("-p", "--coord-port") || M(NULL, "--port")) {
        o->port = v;
    } else if (M(NULL, "--port-file")) {
        o->port_file = v;
    } else if (M("-i", "--interval")) {
        if (m == CLIOPT_YES && cliopt_uint(v, &o->interval) < 0)
            launch_usage_error("invalid interval '%s': expected seconds >= 0", v);
    } else if (M(NULL, "--ckptdir")) {
        o->ckptdir_opt = v;
    } else if (M(NULL, "--ckpt-signal")) {
        if (m == CLIOPT_YES)
            o->ckpt_signal = launch_signal(v);
    } else if (M(NULL, "--with-plugin")) {
        o->plugins = v;
    } else if (M(NULL, "--full-every")) {
        int n;
        if (m == CLIOPT_YES && (cliopt_uint(v, &n) < 0 || n < 1 || n > 64))
            launch_usage_error("invalid --full-every '%s': expected a number from 1 to 64", v);
        o->full_every = v;
    } else if (M(NULL, "--suspend-timeout")) {
        int n;
        if (m == CLIOPT_YES && (cliopt_uint(v, &n) < 0 || n < 1 || n > 86400))
            launch_usage_error("invalid --suspend-timeout '%s': expected seconds from 1 to 86400", v);
        o->suspend_timeout = v;
    } else if (M(NULL, "--zstd-level")) {
        int lv;
        const char *num = v && v[0] == '-' ? v + 1 : v;
        if (m == CLIOPT_YES && (cliopt_uint(num, &lv) < 0 || (v[0] == '-' ? lv > 7 : lv > 19)))
            launch_usage_error("invalid --zstd-level '%s': expected a number from -7 to 19", v);
        o->zstd_level = v;
    } else {
        return 0;
    }
#undef M
    if (m == CLIOPT_MISSING)
        launch_usage_error("option '%s' needs a value", argv[*i]);
    return 1;
}

static int launch_opt_flag(int argc, char **argv, int *i, struct launch_opts *o)
{
#define F(s, l) (cliopt_match(argc, argv, i, s, l, NULL) == CLIOPT_YES)
    if (F("-j", "--join-coordinator") || F(NULL, "--join"))
        o->mode = COORD_JOIN;
    else if (F(NULL, "--new-coordinator"))
        o->mode = COORD_NEW;
    else if (F(NULL, "--any-coordinator"))
        o->mode = COORD_ANY;
    else if (F("-q", "--quiet"))
        o->quiet = 1;
    else if (F(NULL, "--gzip"))
        o->gzip = 1;
    else if (F(NULL, "--no-gzip"))
        o->gzip = 0;
    else if (F(NULL, "--forked-ckpt"))
        o->forked = 1;
    else if (F(NULL, "--incremental"))
        o->incremental = 1;
    else if (F(NULL, "--help")) {
        launch_usage(stdout);
        exit(0);
    } else if (F(NULL, "--version")) {
        printf("dmtcp_launch (Stasis) %s\n", STASIS_VERSION);
        exit(0);
    } else
        return 0;
#undef F
    return 1;
}

void launch_parse(int argc, char **argv, struct launch_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->interval = -1;
    o->gzip = -1;
    o->mode = COORD_ANY;
    int i = 1;
    while (i < argc && argv[i][0] == '-') {
        if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        }
        if (!launch_opt_value(argc, argv, &i, o) && !launch_opt_flag(argc, argv, &i, o))
            launch_usage_error("unknown option '%s'", argv[i]);
    }
    if (i >= argc)
        launch_usage_error("no program given%s", "");
    o->argv = argv + i;
}
