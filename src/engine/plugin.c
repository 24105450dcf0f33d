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
 * (loaded with --with-plugin) after them in load order.  Events that save
 * state (PRESUSPEND, PRECHECKPOINT, EXIT) run last-registered first; events
 * that rebuild or report (RESTART, RESUME, RUNNING, THREAD_RESUME …) run
 * in registration order, so a user plugin always sees the built-in state
 * rebuilt before it runs and saved after it ran.
 *
 * A PRESUSPEND or PRECHECKPOINT hook may fail the checkpoint
 * (dmtcp_plugin_fail): the dispatch notes which plugin is running in which
 * event, the first failure is kept with the plugin's name, and the manager
 * asks for it after each of those two events (plugin_failure).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "engine/engine.h"

#define PLUGIN_MAX 64

/* The public descriptors are contracts with plugins built separately: a
 * native descriptor's version comes first, so that any later version can
 * be told apart; DMTCP's view of the event data is where a native hook's
 * data starts. */
_Static_assert(offsetof(dmtcp_plugin_descriptor_t, api_version) == 0, "api_version first");
_Static_assert(offsetof(dmtcp_event_data_t, dmtcp) == 0, "DMTCP's view first");
_Static_assert(offsetof(DmtcpPluginDescriptor_t, event_hook) == 6 * sizeof(void *), "DMTCP's field order");

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
    int failed;                /* a hook failed the current checkpoint */
    char failure[480];         /* naming the plugin, the event and its message */
} plugin_state;

/* The hook this thread is running, and for which event (nested dispatch,
 * a hook that forks say, puts back the outer one). */
static __thread struct {
    const struct plugin_entry *running;
    dmtcp_event_t event;
} plugin_tls;

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
    if (d->api_version > DMTCP_NATIVE_PLUGIN_API_VERSION) {
        engine_warn("plugin '%s' was written for the native plugin API version %d, newer than this engine's (%d): "
                    "the plugin is not loaded (build it against this engine's dmtcp.h)",
                    name, d->api_version, DMTCP_NATIVE_PLUGIN_API_VERSION);
        return -1;
    }
    if (d->api_version < 0) {
        engine_warn("plugin '%s' gives api_version %d, which is no version: the plugin is not loaded", name,
                    d->api_version);
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
    const struct plugin_entry *outer = plugin_tls.running;
    dmtcp_event_t outer_event = plugin_tls.event;
    plugin_tls.running = e;
    plugin_tls.event = ev;
    if (e->style == PLUGIN_DMTCP)
        e->dmtcp_hook(ev, &data->dmtcp);
    else
        e->native_hook(ev, data);
    plugin_tls.running = outer;
    plugin_tls.event = outer_event;
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

/* ---- failing a checkpoint ------------------------------------------------ */

ENGINE_API int dmtcp_plugin_fail(const char *fmt, ...)
{
    const struct plugin_entry *e = plugin_tls.running;
    dmtcp_event_t ev = plugin_tls.event;
    if (!e || (ev != DMTCP_EVENT_PRESUSPEND && ev != DMTCP_EVENT_PRECHECKPOINT)) {
        engine_warn("dmtcp_plugin_fail() called %s%s%s; only a PRESUSPEND or PRECHECKPOINT hook can fail a "
                    "checkpoint: ignored",
                    e ? "by plugin '" : "outside any event hook", e ? e->name : "", e ? "' outside those events" : "");
        return DMTCP_ERROR;
    }
    if (plugin_state.failed)
        return 0; /* the first failure is the one reported */
    char msg[400] = "";
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
    }
    snprintf(plugin_state.failure, sizeof plugin_state.failure, "plugin '%.60s' failed the checkpoint at %s: %s",
             e->name, ev == DMTCP_EVENT_PRESUSPEND ? "PRESUSPEND" : "PRECHECKPOINT",
             msg[0] ? msg : "(no reason given)");
    plugin_state.failed = 1;
    return 0;
}

/* A new checkpoint: nothing has failed it yet. */
void plugin_failure_reset(void)
{
    plugin_state.failed = 0;
    plugin_state.failure[0] = 0;
}

/* 1, with the reason in why, when a hook has failed the checkpoint. */
int plugin_failure(char *why, size_t cap)
{
    if (!plugin_state.failed)
        return 0;
    snprintf(why, cap, "%s", plugin_state.failure);
    return 1;
}
