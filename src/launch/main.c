/*
 * main.c — dmtcp_launch: check everything, make sure a coordinator serves
 * us (join, or start one), then exec the program with the engine preloaded.
 * Exit status before the exec: 1 usage or check failure, 2 no coordinator,
 * 3 refused by the coordinator.
 */
#include "launch/launch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* -i, else DMTCP_CHECKPOINT_INTERVAL, for a coordinator we start. */
static int launch_start_interval(const struct launch_opts *o)
{
    if (o->interval >= 0)
        return o->interval;
    const char *e = getenv("DMTCP_CHECKPOINT_INTERVAL");
    int v;
    if (e && *e && cliopt_uint(e, &v) == 0)
        return v;
    return -1;
}

static void launch_coordinator(const struct launch_opts *o, struct coordclient_addr *a)
{
    char err[1024];
    int r = coordclient_addr_init(a, o->host, o->port, err, sizeof(err));
    if (r != CC_OK)
        launch_usage_error("%s", err);
    struct coordclient_start st = { .interval = launch_start_interval(o),
                                    .ckptdir = o->ckptdir_opt };
    int started = 0;
    r = coordclient_ensure(a, o->mode, &st, &started, err, sizeof(err));
    if (r != CC_OK) {
        fprintf(stderr, "dmtcp_launch: %s\n", err);
        exit(r);
    }
    if (started && !o->quiet)
        fprintf(stderr, "dmtcp_launch: started a coordinator on %s:%d\n", a->host, a->port);
    if (!started && o->interval >= 0) {
        struct msg_command_reply rep;
        r = coordclient_command(a, CMD_INTERVAL, (uint32_t)o->interval, &rep, NULL, 0, NULL,
                                err, sizeof(err));
        if (r != CC_OK) {
            fprintf(stderr, "dmtcp_launch: setting the interval: %s\n", err);
            exit(r);
        }
    }
}

static void launch_write_port(const char *file, int port)
{
    FILE *f = fopen(file, "we");
    if (!f || fprintf(f, "%d\n", port) < 0 || fclose(f) != 0) {
        fprintf(stderr, "dmtcp_launch: cannot write the port to %s: %s\n", file,
                strerror(errno));
        exit(1);
    }
}

int main(int argc, char **argv)
{
    static struct launch_opts o;
    static struct launch_paths p;
    struct coordclient_addr a;
    launch_parse(argc, argv, &o);
    launch_check(&o, &p);
    launch_coordinator(&o, &a);
    if (o.port_file)
        launch_write_port(o.port_file, a.port);
    launch_set_env(&o, &p, &a);
    execv(p.program, o.argv);
    fprintf(stderr, "dmtcp_launch: cannot run %s: %s\n", p.program, strerror(errno));
    return 1;
}
