/*
 * command.h — internal interfaces of dmtcp_command: main.c parses the
 * command line and talks to the coordinator (through common/coordclient),
 * output.c prints the result as DMTCP-style text or as JSON.
 */
#ifndef STASIS_COMMAND_H
#define STASIS_COMMAND_H

#include <stdint.h>

#include "common/coordclient.h"

#define COMMAND_JSON_SCHEMA 1

struct command_run {
    const char *name;          /* "status", "checkpoint", … (JSON "command") */
    uint32_t code;             /* enum command_code */
    uint32_t arg;
    int json;
    struct coordclient_addr addr;
    int rc;                    /* enum coordclient_result */
    char err[1024];
    struct msg_command_reply reply;
    struct proto_peer *peers;
    uint32_t npeers;
};

void output_text(const struct command_run *r);
void output_json(const struct command_run *r);

#endif
