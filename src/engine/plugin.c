/*
 * plugin.c — the plugins the engine knows, and event dispatch to them.
 *
 * Two kinds of descriptor are accepted (include/dmtcp.h): DMTCP's
 * DmtcpPluginDescriptor_t, registered by value through
 * dmtcp_register_plugin() and checked for pluginApiVersion "3", and the
 * native dmtcp_plugin_descriptor_t, registered by address through
 * dmtcp_register_native_plugin() and checked for its api_version.  A
 * descriptor this engine cannot honour is refused with a warning naming
 * the plugin; the program runs on without it.  Both kinds end up as one
 * entry whose hook is called with the event data in the form its style
 * expects: a native hook gets the dmtcp_event_data_t, a DMTCP-style hook
 * the DmtcpEventData_t inside it.
 *
 * Built-in plugins (plugins/, each declared with PLUGIN_DECL_BUILTIN and
 * gathered from a linker section) come first, by rank; user plugins
 * (loaded with --with-plugin) after them in load order.  Events that save state
 * (PRESUSPEND, PRECHECKPOINT, EXIT) run last-registered first; events that
 * rebuild or report (RESTART, RESUME, RUNNING, THREAD_RESUME …) run in
 * registration order, so a user plugin always sees the built-in state
 * rebuilt before it runs and saved after it ran.
 */
#include <string.h>

#include "engine/engine.h"

#define PLUGIN_MAX 64

enum plugin_style { PLUGIN_NATIVE, PLUGIN_DMTCP };

struct plugin_entry {
    const char *name;
    enum plugin_style style;
    void (*native_hook)(dmtcp_event_t ev, dmtcp_event_data_t *data);
    void (*dmtcp_hook)(DmtcpEvent_t ev, DmtcpEventData_t *data);
};

/* Built-ins and user plugins are kept apart: a user plugin's constructor may
 * run before the engine's own (preloaded libraries initialise in reverse). */
struct plugin_tier {
    struct plugin_entry entries[PLUGIN_MAX];
    int n;
};

static struct {
    struct plugin_tier builtin, user;
} plugin_state;

static void plugin_add(struct plugin_tier *t, const struct plugin_entry *e)
{
    if (t->n >= PLUGIN_MAX) {
        engine_warn("too many plugins (at most %d); plugin '%s' is not loaded", PLUGIN_MAX, e->name);
        return;
    }
    t->entries[t->n++] = *e;
}

ENGINE_API void dmtcp_register_plugin(DmtcpPluginDescriptor_t d)
{
    const char *name = d.pluginName && *d.pluginName ? d.pluginName : "(unnamed)";
    if (!d.pluginApiVersion || strcmp(d.pluginApiVersion, DMTCP_PLUGIN_API_VERSION) != 0) {
        engine_warn("plugin '%s' was written for DMTCP's plugin API version %s; this engine takes version %s "
                    "(DMTCP 3.x to 5.x): the plugin is not loaded",
                    name, d.pluginApiVersion ? d.pluginApiVersion : "(none)", DMTCP_PLUGIN_API_VERSION);
        return;
    }
    if (!d.event_hook)
        return; /* nothing to call */
    struct plugin_entry e = {.name = name, .style = PLUGIN_DMTCP, .dmtcp_hook = d.event_hook};
    plugin_add(&plugin_state.user, &e);
}

/* A native descriptor into tier t, if this engine can honour its version;
 * 0, or -1 when refused (with a warning naming it). */
static int plugin_add_native(struct plugin_tier *t, const dmtcp_plugin_descriptor_t *d)
{
    const char *name = d->name && *d->name ? d->name : "(unnamed)";
    if (d->api_version < 0 || d->api_version > DMTCP_NATIVE_PLUGIN_API_VERSION) {
        engine_warn("plugin '%s' was written for the native plugin API version %d; this engine takes versions "
                    "1 to %d: the plugin is not loaded (rebuild it against this engine's dmtcp.h)",
                    name, d->api_version, DMTCP_NATIVE_PLUGIN_API_VERSION);
        return -1;
    }
    if (!d->event_hook)
        return 0;
    struct plugin_entry e = {.name = name, .style = PLUGIN_NATIVE, .native_hook = d->event_hook};
    plugin_add(t, &e);
    return 0;
}

ENGINE_API void dmtcp_register_native_plugin(const dmtcp_plugin_descriptor_t *d)
{
    if (d)
        plugin_add_native(&plugin_state.user, d);
}

/* The built-in plugins' declarations (PLUGIN_DECL_BUILTIN), which the
 * linker gathers between these two symbols. */
extern const struct plugin_builtin __start_stasis_builtin_plugins[] __attribute__((visibility("hidden")));
extern const struct plugin_builtin __stop_stasis_builtin_plugins[] __attribute__((visibility("hidden")));

static int plugin_builtin_before(const struct plugin_builtin *a, const struct plugin_builtin *b)
{
    return a->order != b->order ? a->order < b->order : strcmp(a->descriptor->name, b->descriptor->name) < 0;
}

/* Once, as the engine starts: every built-in plugin, by rank, through the
 * same checks as a user's native descriptor, and the services each offers. */
void plugin_register_builtins(void)
{
    const struct plugin_builtin *sorted[PLUGIN_MAX];
    int n = 0;
    for (const struct plugin_builtin *b = __start_stasis_builtin_plugins; b < __stop_stasis_builtin_plugins; b++) {
        if (n == PLUGIN_MAX) {
            engine_warn("more than %d built-in plugins; '%s' and those after it are left out", PLUGIN_MAX,
                        b->descriptor->name);
            break;
        }
        int i = n++;
        for (; i > 0 && plugin_builtin_before(b, sorted[i - 1]); i--)
            sorted[i] = sorted[i - 1];
        sorted[i] = b;
    }
    for (int i = 0; i < n; i++)
        if (plugin_add_native(&plugin_state.builtin, sorted[i]->descriptor) == 0)
            services_offer(sorted[i]->services, sorted[i]->descriptor->name);
}

/* DMTCP's view of the event: every isRestart member is the same int,
 * except where the union carries the exec's data. */
static void plugin_fill_dmtcp_view(dmtcp_event_t ev, dmtcp_event_data_t *data)
{
    if (ev != DMTCP_EVENT_PRE_EXEC && ev != DMTCP_EVENT_POST_EXEC)
        data->dmtcp.resumeUserThreadInfo.isRestart = data->is_restart;
}

static void plugin_call(const struct plugin_entry *e, dmtcp_event_t ev, dmtcp_event_data_t *data)
{
    if (e->style == PLUGIN_DMTCP)
        e->dmtcp_hook(ev, &data->dmtcp);
    else
        e->native_hook(ev, data);
}

void plugin_dispatch(dmtcp_event_t ev, dmtcp_event_data_t *data)
{
    plugin_fill_dmtcp_view(ev, data);
    for (int i = 0; i < plugin_state.builtin.n; i++)
        plugin_call(&plugin_state.builtin.entries[i], ev, data);
    for (int i = 0; i < plugin_state.user.n; i++)
        plugin_call(&plugin_state.user.entries[i], ev, data);
}

void plugin_dispatch_reverse(dmtcp_event_t ev, dmtcp_event_data_t *data)
{
    plugin_fill_dmtcp_view(ev, data);
    for (int i = plugin_state.user.n - 1; i >= 0; i--)
        plugin_call(&plugin_state.user.entries[i], ev, data);
    for (int i = plugin_state.builtin.n - 1; i >= 0; i--)
        plugin_call(&plugin_state.builtin.entries[i], ev, data);
}
