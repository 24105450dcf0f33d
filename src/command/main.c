/*
 * main.c — dmtcp_command: sends one command to the coordinator and reports
 * the result.  Exit status: 0 success, 1 usage error, 2 no coordinator /
 * cannot connect / no answer, 3 authentication failed (the program on the
 * port does not know our secret, or refused ours), 4 the command failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command/command.h"
#include "common/cliopt.h"

#define COMMAND_MAX_PEERS 8192

struct command_verb {
    const char *shortname, *longname, *name;
    uint32_t code;
};

static const struct command_verb command_verbs[] = {
    { "-s", "--status", "status", CMD_STATUS },
    { "-l", "--list", "list", CMD_LIST },
    { "-c", "--checkpoint", "checkpoint", CMD_CKPT },
    { "-bc", "--bcheckpoint", "bcheckpoint", CMD_BCKPT },
    { "-kc", "--kcheckpoint", "kcheckpoint", CMD_KCKPT },
    { "-k", "--kill", "kill", CMD_KILL },
    { "-q", "--quit", "quit", CMD_QUIT },
};

static void command_usage(FILE *f)
{
    fprintf(f,
"Usage: dmtcp_command [OPTIONS] COMMAND\n"
"Sends a command to the checkpoint coordinator.\n"
"\n"
"Options:\n"
"  -h, --coord-host HOST  coordinator host (default 127.0.0.1, env DMTCP_COORD_HOST)\n"
"  -p, --coord-port PORT  coordinator port (default 7779, env DMTCP_COORD_PORT)\n"
"  --json                 print the result as one JSON object\n"
"  --help                 print this help and exit\n"
"  --version              print the version and exit\n"
"\n"
"Commands (exactly one):\n"
"  -s, --status           show the coordinator's status\n"
"  -l, --list             list the processes under checkpoint control\n"
"  -c, --checkpoint       start a checkpoint and return at once\n"
"  -bc, --bcheckpoint     checkpoint and wait until the images are written\n"
"  -kc, --kcheckpoint     checkpoint, wait, then kill the computation\n"
"  -k, --kill             kill the computation\n"
"  -q, --quit             kill the computation and stop the coordinator\n"
"  -i, --interval N       checkpoint every N seconds (0 = only on request)\n"
"\n"
"Exit status: 0 success, 1 usage error, 2 no coordinator (or no answer), 3\n"
"authentication failed: the program on the port does not know your secret (it\n"
"may be another user's), or refused yours; 4 the command failed.  See\n"
"dmtcp_command(1).\n");
}

static void command_usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "dmtcp_command: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry 'dmtcp_command --help' for the list of options.\n");
    exit(CC_USAGE);
}

static void command_set(struct command_run *r, const char *name, uint32_t code, const char *arg)
{
    if (r->name)
        command_usage_error("give only one command (already have --%s)", r->name);
    r->name = name;
    r->code = code;
    (void)arg;
}

/* A command verb at argv[*i]; 0 when it is not one. */
static int command_verb(int argc, char **argv, int *i, struct command_run *r)
{
    for (size_t v = 0; v < sizeof(command_verbs) / sizeof(command_verbs[0]); v++) {
        const struct command_verb *cv = &command_verbs[v];
        int m = cliopt_match(argc, argv, i, cv->shortname, cv->longname, NULL);
        if (m == CLIOPT_EXTRA)
            command_usage_error("option '%s' takes no value", argv[*i]);
        if (m == CLIOPT_YES) {
            command_set(r, cv->name, cv->code, NULL);
            return 1;
        }
    }
    const char *val;
    int m = cliopt_match(argc, argv, i, "-i", "--interval", &val);
    if (m == CLIOPT_MISSING)
        command_usage_error("option '%s' needs a number of seconds", argv[*i]);
    if (m != CLIOPT_YES)
        return 0;
    int secs;
    if (cliopt_uint(val, &secs) < 0)
        command_usage_error("invalid interval '%s': expected seconds >= 0", val);
    command_set(r, "interval", CMD_INTERVAL, val);
    r->arg = (uint32_t)secs;
    return 1;
}

static void command_parse(int argc, char **argv, struct command_run *r, const char **host,
                          const char **port)
{
    int i = 1;
    while (i < argc) {
        const char *val;
        int m;
        if ((m = cliopt_match(argc, argv, &i, "-h", "--coord-host", &val)) != CLIOPT_NO ||
            (m = cliopt_match(argc, argv, &i, NULL, "--host", &val)) != CLIOPT_NO) {
            if (m == CLIOPT_MISSING)
                command_usage_error("option '%s' needs a host name", argv[i]);
            *host = val;
        } else if ((m = cliopt_match(argc, argv, &i, "-p", "--coord-port", &val)) != CLIOPT_NO ||
                   (m = cliopt_match(argc, argv, &i, NULL, "--port", &val)) != CLIOPT_NO) {
            if (m == CLIOPT_MISSING)
                command_usage_error("option '%s' needs a port number", argv[i]);
            *port = val;
        } else if (cliopt_match(argc, argv, &i, NULL, "--json", NULL) == CLIOPT_YES) {
            r->json = 1;
        } else if (cliopt_match(argc, argv, &i, NULL, "--help", NULL) == CLIOPT_YES) {
            command_usage(stdout);
            exit(0);
        } else if (cliopt_match(argc, argv, &i, NULL, "--version", NULL) == CLIOPT_YES) {
            printf("dmtcp_command (Stasis) %s\n", STASIS_VERSION);
            exit(0);
        } else if (!command_verb(argc, argv, &i, r)) {
            command_usage_error("unknown option or argument '%s'", argv[i]);
        }
    }
    if (!r->name)
        command_usage_error("no command given (e.g. -s for status)%s", "");
}

static void command_run(struct command_run *r)
{
    /* -s asks for the list too, to show which processes have resume delayed. */
    uint32_t code = r->code == CMD_STATUS ? CMD_LIST : r->code;
    r->peers = calloc(COMMAND_MAX_PEERS, sizeof(*r->peers));
    if (!r->peers) {
        r->rc = CC_FAILED;
        snprintf(r->err, sizeof(r->err), "out of memory");
        return;
    }
    r->rc = coordclient_command(&r->addr, code, r->arg, &r->reply, r->peers, COMMAND_MAX_PEERS,
                                &r->npeers, r->err, sizeof(r->err));
}

int main(int argc, char **argv)
{
    static struct command_run r;
    const char *host = NULL, *port = NULL;
    command_parse(argc, argv, &r, &host, &port);
    if (coordclient_addr_init(&r.addr, host, port, r.err, sizeof(r.err)) != CC_OK)
        command_usage_error("%s", r.err);
    if (r.addr.port == 0)
        command_usage_error("port 0 is not a coordinator's port; give the real one with -p%s", "");
    command_run(&r);
    if (r.json)
        output_json(&r);
    else
        output_text(&r);
    free(r.peers);
    return r.rc;
}
