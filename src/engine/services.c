/*
 * services.c — what the core asks of whichever feature provides it.
 *
 * The core (manager, threads, image, spawn, log) never calls a feature by
 * name.  Where it genuinely needs one — the pid the program knows, for the
 * image header and the coordinator; the process's family for the image
 * header; the pid an exec'd program keeps; a path the program gave, as the
 * kernel must see it (/proc/<pid>); something done in each thread
 * as it parks and is released — it calls a service here, which a built-in
 * plugin offered when it was registered (PLUGIN_DECL_BUILTIN, engine.h).
 * A service that answers has at most one provider; the per-thread ones
 * call every provider, in rank order.  Without a provider the core does
 * the plain thing.  The table is filled once, as the engine starts, before
 * any thread can be parked, and never changes after: the calls below are
 * async-signal-safe.
 */
#include "engine/engine.h"
#include "engine/sys.h"

#define SERVICES_THREAD_MAX 8 /* providers of each per-thread service */

static struct {
    struct engine_services one; /* the single-provider services */
    struct {
        const char *virtual_pid, *family, *adopt_virtual_pid, *kernel_path;
    } by; /* the plugin that offered each */
    void (*parking[SERVICES_THREAD_MAX])(int slot);
    void (*released[SERVICES_THREAD_MAX])(int slot, int is_main, int is_restart, void *ucontext);
    int nparking, nreleased;
} services_state;

/* A single-provider service: taken if nobody offers it yet. */
#define SERVICES_TAKE_ONE(field)                                                                       \
    do {                                                                                               \
        if (!offer->field)                                                                             \
            break;                                                                                     \
        if (services_state.one.field) {                                                                \
            engine_warn("built-in plugin '%s' offers the service %s, already offered by '%s'; ignored", \
                        plugin, #field, services_state.by.field);                                      \
        } else {                                                                                       \
            services_state.one.field = offer->field;                                                   \
            services_state.by.field = plugin;                                                          \
        }                                                                                              \
    } while (0)

/* A per-thread service: one more provider. */
#define SERVICES_ADD(list, n, fn)                                                                      \
    do {                                                                                               \
        if (!(fn))                                                                                     \
            break;                                                                                     \
        if (services_state.n < SERVICES_THREAD_MAX)                                                    \
            services_state.list[services_state.n++] = (fn);                                            \
        else                                                                                           \
            engine_warn("built-in plugin '%s': more than %d providers of a per-thread service; ignored", \
                        plugin, SERVICES_THREAD_MAX);                                                  \
    } while (0)

void services_offer(const struct engine_services *offer, const char *plugin)
{
    if (!offer)
        return;
    SERVICES_TAKE_ONE(virtual_pid);
    SERVICES_TAKE_ONE(family);
    SERVICES_TAKE_ONE(adopt_virtual_pid);
    SERVICES_TAKE_ONE(kernel_path);
    SERVICES_ADD(parking, nparking, offer->thread_parking);
    SERVICES_ADD(released, nreleased, offer->thread_released);
}

pid_t services_virtual_pid(void)
{
    return services_state.one.virtual_pid ? services_state.one.virtual_pid() : sys_getpid();
}

void services_family(int32_t *ppid, int32_t *pgid, int32_t *sid)
{
    if (services_state.one.family) {
        services_state.one.family(ppid, pgid, sid);
        return;
    }
    *ppid = (int32_t)sys_call0(SYS_getppid);
    *pgid = (int32_t)sys_call1(SYS_getpgid, 0);
    *sid = (int32_t)sys_call1(SYS_getsid, 0);
}

void services_adopt_virtual_pid(pid_t vpid)
{
    if (services_state.one.adopt_virtual_pid)
        services_state.one.adopt_virtual_pid(vpid);
}

const char *services_kernel_path(const char *path, char *buf, size_t cap)
{
    return services_state.one.kernel_path ? services_state.one.kernel_path(path, buf, cap) : path;
}

void services_thread_parking(int slot)
{
    for (int i = 0; i < services_state.nparking; i++)
        services_state.parking[i](slot);
}

void services_thread_released(int slot, int is_main, int is_restart, void *ucontext)
{
    for (int i = 0; i < services_state.nreleased; i++)
        services_state.released[i](slot, is_main, is_restart, ucontext);
}
