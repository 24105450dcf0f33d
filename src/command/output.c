/*
 * output.c — how dmtcp_command shows a result: DMTCP's text format for -s
 * and -l (plus Stasis lines after DMTCP's), the coordinator's message for
 * the other commands, or one JSON object (--json) for scripts.
 */
#include "command/command.h"

#include <stdio.h>
#include <string.h>

static const char *output_state(uint32_t s)
{
    switch (s) {
    case WSTATE_RUNNING: return "RUNNING";
    case WSTATE_CHECKPOINTING: return "CHECKPOINTING";
    case WSTATE_RESTARTING: return "RESTARTING";
    default: return "UNKNOWN";
    }
}

/* ---- text --------------------------------------------------------------- */

static void output_status_text(const struct command_run *r)
{
    const struct msg_command_reply *s = &r->reply;
    printf("Coordinator:\n  Host: %s\n  Port: %d\n", r->addr.host, r->addr.port);
    printf("Status...\n  NUM_PEERS=%u\n  RUNNING=%s\n", s->num_peers, s->running ? "yes" : "no");
    if (s->interval)
        printf("  CKPT_INTERVAL=%u\n", s->interval);
    else
        printf("  CKPT_INTERVAL=0 (checkpoint manually)\n");
    printf("  CHECKPOINTS=%llu\n", (unsigned long long)s->generation);
    if (s->comp_id)
        printf("  COMPUTATION_ID=%016llx\n", (unsigned long long)s->comp_id);
    if (s->ckpt_usec || s->ckpt_bytes)
        printf("  LAST_CKPT_BYTES=%llu\n  LAST_CKPT_SECONDS=%.3f\n",
               (unsigned long long)s->ckpt_bytes, (double)s->ckpt_usec / 1e6);
    for (uint32_t i = 0; i < r->npeers; i++)
        if (r->peers[i].flags & PEER_RESUME_DELAYED)
            printf("  RESUME_DELAYED=%d (%s)\n", r->peers[i].vpid, r->peers[i].name);
}

static void output_list_text(const struct command_run *r)
{
    printf("Client List:\n#, PROG[virtPID:realPID]@HOST, STATE\n");
    for (uint32_t i = 0; i < r->npeers; i++) {
        const struct proto_peer *p = &r->peers[i];
        printf("%u, %s[%d:%d]@%s, %s%s\n", p->worker_id, p->name, p->vpid, p->real_pid, p->host,
               output_state(p->state), (p->flags & PEER_RESUME_DELAYED) ? ", RESUME_DELAYED" : "");
    }
}

void output_text(const struct command_run *r)
{
    if (r->rc != CC_OK) {
        fprintf(stderr, "dmtcp_command: %s\n", r->err);
        return;
    }
    if (r->code == CMD_STATUS)
        output_status_text(r);
    else if (r->code == CMD_LIST)
        output_list_text(r);
    else if (r->reply.message[0])
        printf("%s\n", r->reply.message);
}

/* ---- JSON --------------------------------------------------------------- */

/* Length of a well-formed UTF-8 sequence at p, or 0. */
static int json_utf8_len(const unsigned char *p)
{
    int n = *p >= 0xf0 && *p <= 0xf4 ? 4 : *p >= 0xe0 ? 3 : *p >= 0xc2 && *p < 0xe0 ? 2 : 0;
    if (*p >= 0xf5)
        n = 0;
    for (int i = 1; i < n; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    return n;
}

static void json_string(const char *s)
{
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        int u = *p >= 0x80 ? json_utf8_len(p) : 0;
        if (u) {
            fwrite(p, 1, (size_t)u, stdout);
            p += u - 1;
        } else if (*p >= 0x80)
            printf("\\u%04x", *p);
        else if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", stdout);
        else if (*p == '\t')
            fputs("\\t", stdout);
        else if (*p < 0x20 || *p == 0x7f)
            printf("\\u%04x", *p);
        else
            putchar(*p);
    }
    putchar('"');
}

static void json_key_string(const char *key, const char *val)
{
    printf(",\n  \"%s\": ", key);
    json_string(val);
}

static void json_processes(const struct command_run *r)
{
    printf(",\n  \"processes\": [");
    for (uint32_t i = 0; i < r->npeers; i++) {
        const struct proto_peer *p = &r->peers[i];
        printf("%s\n    {\"id\": %u, \"vpid\": %d, \"pid\": %d, \"name\": ", i ? "," : "",
               p->worker_id, p->vpid, p->real_pid);
        json_string(p->name);
        printf(", \"host\": ");
        json_string(p->host);
        printf(", \"state\": ");
        json_string(output_state(p->state));
        printf(", \"resume_delayed\": %s}", (p->flags & PEER_RESUME_DELAYED) ? "true" : "false");
    }
    printf("%s]", r->npeers ? "\n  " : "");
}

static void json_status(const struct command_run *r)
{
    const struct msg_command_reply *s = &r->reply;
    int have = r->rc == CC_OK || r->rc == CC_FAILED;
    if (!have) {
        printf(",\n  \"num_peers\": null,\n  \"running\": null,\n  \"checkpoint_interval\": null");
        return;
    }
    printf(",\n  \"num_peers\": %u,\n  \"running\": %s,\n  \"checkpoint_interval\": %u", s->num_peers,
           s->running ? "true" : "false", s->interval);
    printf(",\n  \"checkpoints\": %llu,\n  \"computation_id\": \"%016llx\"",
           (unsigned long long)s->generation, (unsigned long long)s->comp_id);
    printf(",\n  \"last_checkpoint_bytes\": %llu,\n  \"last_checkpoint_seconds\": %.6f",
           (unsigned long long)s->ckpt_bytes, (double)s->ckpt_usec / 1e6);
    json_key_string("message", s->message);
    if (r->code == CMD_LIST || r->code == CMD_STATUS)
        json_processes(r);
}

void output_json(const struct command_run *r)
{
    printf("{\n  \"schema_version\": %d", COMMAND_JSON_SCHEMA);
    json_key_string("command", r->name);
    json_key_string("command_status", r->rc == CC_OK ? "success" : "failure");
    if (r->rc == CC_OK)
        printf(",\n  \"error\": null");
    else
        json_key_string("error", r->err);
    printf(",\n  \"exit_status\": %d", r->rc);
    json_key_string("coordinator_host", r->addr.host);
    printf(",\n  \"coordinator_port\": %d", r->addr.port);
    json_status(r);
    printf("\n}\n");
    if (r->rc != CC_OK)
        fprintf(stderr, "dmtcp_command: %s\n", r->err);
}
