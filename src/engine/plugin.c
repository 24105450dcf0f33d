/*
 * plugin.c — event dispatch to the built-in features and to user plugins.
 *
 * Built-in plugins register first (pid, process, fds, signals), user plugins
 * (loaded with --with-plugin) after them in load order.  Events that save
 * state (PRESUSPEND, PRECHECKPOINT, EXIT) run last-registered first; events
 * that rebuild or report (RESTART, RESUME, RUNNING, THREAD_RESUME …) run in
 * registration order, so a user plugin always sees the built-in state
 * rebuilt before it runs and saved after it ran.
 */
#include <string.h>

#include "engine/engine.h"

#define PLUGIN_MAX 64

/* Built-ins and user plugins are kept apart: a user plugin's constructor may
 * run before the engine's own (preloaded libraries initialise in reverse). */
static struct {
    struct engine_plugin builtin[PLUGIN_MAX], user[PLUGIN_MAX];
    int nbuiltin, nuser;
} plugin_state;

void plugin_register_builtin(const struct engine_plugin *p)
{
    if (plugin_state.nbuiltin < PLUGIN_MAX)
        plugin_state.builtin[plugin_state.nbuiltin++] = *p;
}

ENGINE_API void dmtcp_register_plugin(const dmtcp_plugin_descriptor_t *d)
{
    if (!d || !d->event_hook)
        return;
    if (plugin_state.nuser >= PLUGIN_MAX) {
        engine_warn("too many plugins; %s is not loaded", d->name ? d->name : "(unnamed)");
        return;
    }
    struct engine_plugin p = {.name = d->name, .hook = d->event_hook};
    plugin_state.user[plugin_state.nuser++] = p;
}

void plugin_dispatch(dmtcp_event_t ev, dmtcp_event_data_t *data)
{
    for (int i = 0; i < plugin_state.nbuiltin; i++)
        plugin_state.builtin[i].hook(ev, data);
    for (int i = 0; i < plugin_state.nuser; i++)
        plugin_state.user[i].hook(ev, data);
}

void plugin_dispatch_reverse(dmtcp_event_t ev, dmtcp_event_data_t *data)
{
    for (int i = plugin_state.nuser - 1; i >= 0; i--)
        plugin_state.user[i].hook(ev, data);
    for (int i = plugin_state.nbuiltin - 1; i >= 0; i--)
        plugin_state.builtin[i].hook(ev, data);
}
