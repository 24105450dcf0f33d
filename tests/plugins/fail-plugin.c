/*
 * fail-plugin.c — a plugin that fails checkpoints on demand, for
 * fail-checkpoint.sh: in $STASIS_TEST_FAIL_DIR, the file
 * "fail-presuspend" (or "fail-precheckpoint") makes its PRESUSPEND (or
 * PRECHECKPOINT) hook call dmtcp_plugin_fail() with a message naming the
 * file.  It also tries to fail from RESUME, where that is refused, and says
 * on stderr what each call returned and every checkpoint event it saw.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dmtcp.h"

static void failer_say(const char *fmt, long a, long b)
{
    char line[256];
    int n = snprintf(line, sizeof line, fmt, a, b);
    if (n > 0 && write(2, line, (size_t)n) < 0)
        return;
}

static int failer_asked(const char *name, char *path, size_t cap)
{
    const char *dir = getenv("STASIS_TEST_FAIL_DIR");
    if (!dir)
        return 0;
    snprintf(path, cap, "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

static void failer_event(dmtcp_event_t ev, dmtcp_event_data_t *data)
{
    char path[4096];
    switch (ev) {
    case DMTCP_EVENT_PRESUSPEND:
        failer_say("[failer] PRESUSPEND generation %ld\n", (long)data->generation, 0);
        if (failer_asked("fail-presuspend", path, sizeof path))
            failer_say("[failer] fail at PRESUSPEND returned %ld\n",
                       dmtcp_plugin_fail("told to by %s", "fail-presuspend"), 0);
        break;
    case DMTCP_EVENT_PRECHECKPOINT:
        failer_say("[failer] PRECHECKPOINT generation %ld\n", (long)data->generation, 0);
        if (failer_asked("fail-precheckpoint", path, sizeof path))
            failer_say("[failer] fail at PRECHECKPOINT returned %ld\n",
                       dmtcp_plugin_fail("side file %s is busy (errno %d)", "fail-precheckpoint", 16), 0);
        break;
    case DMTCP_EVENT_RESUME:
        failer_say("[failer] RESUME generation %ld\n", (long)data->generation, 0);
        failer_say("[failer] fail at RESUME returned %ld\n", dmtcp_plugin_fail("too late"), 0);
        break;
    case DMTCP_EVENT_RESTART:
        failer_say("[failer] RESTART generation %ld\n", (long)data->generation, 0);
        break;
    case DMTCP_EVENT_RUNNING:
        failer_say("[failer] RUNNING generation %ld is_restart %ld\n", (long)data->generation, data->is_restart);
        break;
    default:
        break;
    }
}

static dmtcp_plugin_descriptor_t failer_descriptor = {
    .api_version = DMTCP_NATIVE_PLUGIN_API_VERSION,
    .name = "failer",
    .version = "1",
    .description = "fails checkpoints when told to (tests of dmtcp_plugin_fail)",
    .event_hook = failer_event,
};
DMTCP_DECL_PLUGIN(failer_descriptor)
