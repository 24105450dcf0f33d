/*
 * hang-plugin.c — a plugin whose checkpoint or restart hook never returns,
 * to show that `dmtcp_command -k` still kills the process: the engine's
 * manager thread, stuck in the hook, cannot read the kill request, so the
 * coordinator must kill the process itself.
 *
 * In $STASIS_TEST_HANG_DIR: when the file "hang-precheckpoint" (or
 * "hang-restart") exists as the PRECHECKPOINT (or RESTART) event comes, the
 * hook creates "hanging" there and sleeps; it gives up after 300 s so that
 * nothing outlives a broken test for long.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "dmtcp.h"

static int hang_flag(const char *name)
{
    const char *dir = getenv("STASIS_TEST_HANG_DIR");
    char path[4096];
    if (!dir)
        return 0;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

static void hang_here(void)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/hanging", getenv("STASIS_TEST_HANG_DIR"));
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0)
        close(fd);
    for (int i = 0; i < 3000; i++) {
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

static void hang_event(dmtcp_event_t ev, dmtcp_event_data_t *data)
{
    (void)data;
    if ((ev == DMTCP_EVENT_PRECHECKPOINT && hang_flag("hang-precheckpoint")) ||
        (ev == DMTCP_EVENT_RESTART && hang_flag("hang-restart")))
        hang_here();
}

static dmtcp_plugin_descriptor_t hang_descriptor = {
    .name = "hang",
    .version = "1",
    .description = "a hook that does not return (tests of dmtcp_command -k)",
    .event_hook = hang_event,
};
DMTCP_DECL_PLUGIN(hang_descriptor)
