/*
 * example-plugin.c — the smallest useful Stasis plugin: it prints one line
 * for every event it receives, and keeps a counter in its own memory to show
 * that a plugin's state survives a restart with the rest of the process.
 *
 *   cc -shared -fPIC -I../../include -o libexample.so example-plugin.c
 *   dmtcp_launch --with-plugin $PWD/libexample.so ./prog
 *
 * A hook may run in the manager thread while the program's threads are
 * parked (PRESUSPEND … RUNNING): it must not take locks those threads might
 * hold; write(2) is always safe, stdio and malloc are safe in Stasis (no
 * thread is ever parked inside them).  docs/plugins.md walks through it.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dmtcp.h"

static int checkpoints_seen; /* saved in the image like any memory */

static void example_say(const char *text)
{
    if (write(2, text, strlen(text)) < 0) /* write(2): safe in every hook */
        return;
}

static const char *example_name(dmtcp_event_t ev)
{
    static const char *names[] = {
        [DMTCP_EVENT_INIT] = "INIT",
        [DMTCP_EVENT_EXIT] = "EXIT",
        [DMTCP_EVENT_PRESUSPEND] = "PRESUSPEND",
        [DMTCP_EVENT_PRECHECKPOINT] = "PRECHECKPOINT",
        [DMTCP_EVENT_RESUME] = "RESUME",
        [DMTCP_EVENT_RESTART] = "RESTART",
        [DMTCP_EVENT_RUNNING] = "RUNNING",
        [DMTCP_EVENT_THREAD_RESUME] = "THREAD_RESUME",
        [DMTCP_EVENT_ATFORK_PREPARE] = "ATFORK_PREPARE",
        [DMTCP_EVENT_ATFORK_PARENT] = "ATFORK_PARENT",
        [DMTCP_EVENT_ATFORK_CHILD] = "ATFORK_CHILD",
        [DMTCP_EVENT_PRE_EXEC] = "PRE_EXEC",
        [DMTCP_EVENT_POST_EXEC] = "POST_EXEC",
        [DMTCP_EVENT_PTHREAD_START] = "PTHREAD_START",
        [DMTCP_EVENT_PTHREAD_EXIT] = "PTHREAD_EXIT",
    };
    return ev > 0 && ev < DMTCP_EVENT_MAX && names[ev] ? names[ev] : "?";
}

static void example_event(dmtcp_event_t ev, dmtcp_event_data_t *data)
{
    if (ev == DMTCP_EVENT_PRECHECKPOINT) {
        checkpoints_seen++;
        /* private bytes in the image, read back at RESTART */
        char note[64];
        int n = snprintf(note, sizeof note, "saved at checkpoint %d", checkpoints_seen);
        dmtcp_plugin_save("example.note", note, (size_t)n + 1);
        /* every process of the computation has saved its note */
        if (dmtcp_global_barrier("example.saved") == 0)
            example_say("[example-plugin] passed global barrier example.saved\n");
    }
    if (ev == DMTCP_EVENT_RESTART) {
        char note[64] = "";
        long n = dmtcp_plugin_load("example.note", note, sizeof note);
        char line[128];
        int m = snprintf(line, sizeof line, "[example-plugin] its section in the image: %s\n",
                         n > 0 ? note : "(none)");
        if (m > 0 && write(2, line, (size_t)m) < 0)
            return;
        if (dmtcp_local_barrier("example.restored") == 0)
            example_say("[example-plugin] passed local barrier example.restored\n");
    }
    char line[160];
    int n = snprintf(line, sizeof line, "[example-plugin] %-14s tid %d generation %llu%s (checkpoints seen: %d)\n",
                     example_name(ev), gettid(), (unsigned long long)data->generation,
                     data->is_restart ? " after restart" : "", checkpoints_seen);
    if (n > 0 && write(2, line, (size_t)n) < 0)
        return;
}

static dmtcp_plugin_descriptor_t example_plugin = {
    .api_version = DMTCP_NATIVE_PLUGIN_API_VERSION,
    .name = "example",
    .version = "1",
    .description = "prints one line per event",
    .event_hook = example_event,
};
DMTCP_DECL_PLUGIN(example_plugin)
