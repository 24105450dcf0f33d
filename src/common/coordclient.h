/*
 * coordclient.h — client side of the coordinator for the programs:
 * dmtcp_launch, dmtcp_command and dmtcp_restart.
 *
 * Finds the coordinator's address (options, then DMTCP_COORD_HOST /
 * DMTCP_COORD_PORT, then 127.0.0.1:7779), makes sure one listens (joining,
 * or starting `dmtcp_coordinator --daemon` next to the running program), and
 * sends one command.  Every function returns a coordclient_result, whose
 * values are also dmtcp_command's exit statuses, and on failure writes one
 * clear line (no trailing newline) into err.  Not for use inside the engine's
 * checkpoint path: these functions allocate and fork.
 */
#ifndef STASIS_COORDCLIENT_H
#define STASIS_COORDCLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "common/proto.h"

#define COORDCLIENT_DEFAULT_HOST "127.0.0.1"
#define COORDCLIENT_CONNECT_MS 3000   /* connection attempts give up after this */
#define COORDCLIENT_REPLY_MS 10000    /* non-blocking command replies (the handshake:
                                         AUTH_HANDSHAKE_MS, auth.h) */
#define COORDCLIENT_START_MS 10000    /* waiting for a started coordinator */

enum coordclient_result {
    CC_OK = 0,
    CC_USAGE = 1,    /* bad host/port/option value */
    CC_NOCOORD = 2,  /* nobody listens, cannot connect, or cannot start one */
    CC_REFUSED = 3,  /* authentication failed either way (the program on the port does
                        not know our secret, or refused ours), or a refused version */
    CC_FAILED = 4,   /* the command ran and failed */
};

enum coordclient_mode {
    COORD_ANY = 0,   /* join the one listening, or start one */
    COORD_JOIN = 1,  /* one must already listen */
    COORD_NEW = 2,   /* start a new one (port 0 = any free port) */
};

struct coordclient_addr {
    char host[256];
    int port;        /* 0 only before COORD_NEW picked one */
};

/* What a started coordinator is told. */
struct coordclient_start {
    int interval;          /* -i N; -1 = not given */
    const char *ckptdir;   /* --ckptdir; NULL = not given */
};

/* Parse a port number 0..65535; 0 or -1. */
int coordclient_parse_port(const char *s, int *port);

/* Fill a from host_opt/port_opt (NULL = not given), else DMTCP_COORD_HOST /
 * DMTCP_COORD_PORT, else the defaults. */
int coordclient_addr_init(struct coordclient_addr *a, const char *host_opt,
                          const char *port_opt, char *err, size_t errcap);

/* Make sure a coordinator serves a (mode above).  May set a->port (COORD_NEW
 * with port 0).  *started is set to 1 when this call started it. */
int coordclient_ensure(struct coordclient_addr *a, enum coordclient_mode mode,
                       const struct coordclient_start *st, int *started,
                       char *err, size_t errcap);

/* Connect and complete the handshake (auth.h) as ROLE_COMMAND; returns CC_OK
 * and the connected fd in *fd_out. */
int coordclient_open(const struct coordclient_addr *a, int *fd_out,
                     char *err, size_t errcap);

/* Handshake + COMMAND{code, arg} + reply.  The peer records of a CMD_LIST reply
 * are copied into peers (capacity peers_cap, may be NULL/0) and their count
 * stored in *npeers (may be NULL).  A reply with status != 0 gives
 * CC_FAILED with the coordinator's message in err; out is filled either way. */
int coordclient_command(const struct coordclient_addr *a, uint32_t code, uint32_t arg,
                        struct msg_command_reply *out, struct proto_peer *peers,
                        uint32_t peers_cap, uint32_t *npeers, char *err, size_t errcap);

/* Directory of the running executable (no trailing slash); 0 or -errno. */
int coordclient_self_dir(char *dir, size_t cap);

#endif
