/*
 * dmtcp-style-plugin.c — a plugin written the way DMTCP's documentation
 * writes them (DmtcpPluginDescriptor_t with positional fields,
 * DMTCP_DECL_PLUGIN, an event hook switching on DMTCP's event names,
 * dmtcp_global_barrier() in a checkpoint event, a wrapper through
 * NEXT_FNC), nothing Stasis-specific.  dmtcp-style.sh compiles it
 * unchanged against include/dmtcp.h with -Wall -Werror and checks the
 * lines it prints, one per event, across a checkpoint and a restart.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dmtcp.h"

static void say(const char *text)
{
  /* write(2), not printf: the program's threads may be parked */
  if (write(2, text, strlen(text)) < 0) {
    return;
  }
}

static void say_event(const char *name, int isRestart)
{
  char line[160];
  snprintf(line, sizeof line, "[dmtcpstyle] %s isRestart %d generation %u\n",
           name, isRestart, (unsigned)dmtcp_get_generation());
  say(line);
}

/* A wrapper, as DMTCP plugins write them: the program's getuid() comes
 * here first. */
uid_t getuid(void)
{
  static int said;
  if (!said) {
    said = 1;
    say("[dmtcpstyle] getuid wrapped\n");
  }
  return NEXT_FNC(getuid)();
}

static void dmtcpstyle_event_hook(DmtcpEvent_t event, DmtcpEventData_t *data)
{
  switch (event) {
  case DMTCP_EVENT_INIT:
    say_event("INIT", 0);
    if (dmtcp_dlsym(RTLD_NEXT, "getuid") != NULL &&
        dmtcp_dlsym(RTLD_NEXT, "getuid") == (void *)NEXT_FNC(getuid)) {
      say("[dmtcpstyle] dmtcp_dlsym finds the next getuid\n");
    }
    break;

  case DMTCP_EVENT_PRESUSPEND:
    say_event("PRESUSPEND", 0);
    break;

  case DMTCP_EVENT_PRECHECKPOINT:
    dmtcp_global_barrier("dmtcpstyle:checkpoint");
    say_event("PRECHECKPOINT", 0);
    break;

  case DMTCP_EVENT_RESUME:
    say_event("RESUME", data->resumeInfo.isRestart);
    break;

  case DMTCP_EVENT_RESTART:
    dmtcp_local_barrier("dmtcpstyle:restart");
    say_event("RESTART", data->nameserviceInfo.isRestart);
    break;

  case DMTCP_EVENT_RUNNING:
    say_event("RUNNING", data->nameserviceInfo.isRestart);
    break;

  case DMTCP_EVENT_THREAD_RESUME:
    say_event("THREAD_RESUME", data->resumeUserThreadInfo.isRestart);
    break;

  case DMTCP_EVENT_EXIT:
    say_event("EXIT", 0);
    break;

  default:
    break;
  }
}

DmtcpPluginDescriptor_t dmtcpstyle_plugin = {
  DMTCP_PLUGIN_API_VERSION,
  DMTCP_PACKAGE_VERSION,
  "dmtcpstyle",
  "Stasis tests",
  "nobody@localhost",
  "Prints every event, written as a DMTCP plugin",
  dmtcpstyle_event_hook
};

DMTCP_DECL_PLUGIN(dmtcpstyle_plugin);
