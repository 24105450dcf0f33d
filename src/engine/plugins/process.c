/*
 * process.c — process-wide attributes that live in the kernel: the working
 * directory, the umask and the resource limits.  Saved at PRECHECKPOINT,
 * set again at RESTART (a hard limit above what an unprivileged user may set
 * stays at the restarting user's hard limit).  RLIMIT_NOFILE is the fds
 * plugin's to set, after the descriptors.
 */
#include <errno.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/engine.h"

static struct {
    char cwd[4096];
    mode_t umask;
    struct rlimit limits[RLIM_NLIMITS];
} process_state;

static void process_save(void)
{
    ssize_t n = readlink("/proc/self/cwd", process_state.cwd, sizeof process_state.cwd - 1);
    process_state.cwd[n > 0 ? n : 0] = 0;
    process_state.umask = umask(0);
    umask(process_state.umask);
    for (int i = 0; i < RLIM_NLIMITS; i++)
        getrlimit((__rlimit_resource_t)i, &process_state.limits[i]);
}

static void process_restore(void)
{
    /* glibc caches the program break; the kernel's is now the restart
     * helper's.  brk() at the cached value fails harmlessly and makes glibc
     * adopt the kernel's value, so malloc never trims or grows from a break
     * that is not there (it falls back to mmap when brk cannot grow). */
    void *cur = sbrk(0);
    if (cur != (void *)-1)
        (void)brk(cur);
    if (process_state.cwd[0] && chdir(process_state.cwd) < 0)
        engine_warn("cannot return to the working directory %s: %s", process_state.cwd, strerror(errno));
    umask(process_state.umask);
    for (int i = 0; i < RLIM_NLIMITS; i++) {
        if (i == RLIMIT_NOFILE)
            continue; /* fds.c sets it once the descriptors are back: it may be below some of them */
        struct rlimit cur;
        getrlimit((__rlimit_resource_t)i, &cur);
        if (cur.rlim_cur == process_state.limits[i].rlim_cur && cur.rlim_max == process_state.limits[i].rlim_max)
            continue;
        if (setrlimit((__rlimit_resource_t)i, &process_state.limits[i]) < 0) {
            struct rlimit lowered = process_state.limits[i];
            if (lowered.rlim_max > cur.rlim_max)
                lowered.rlim_max = cur.rlim_max;
            if (lowered.rlim_cur > lowered.rlim_max)
                lowered.rlim_cur = lowered.rlim_max;
            setrlimit((__rlimit_resource_t)i, &lowered);
        }
    }
}

static void process_hook(dmtcp_event_t ev, dmtcp_event_data_t *data)
{
    (void)data;
    if (ev == DMTCP_EVENT_PRECHECKPOINT)
        process_save();
    else if (ev == DMTCP_EVENT_RESTART)
        process_restore();
}

static const dmtcp_plugin_descriptor_t process_descriptor = {
    .api_version = DMTCP_NATIVE_PLUGIN_API_VERSION,
    .name = "process",
    .version = STASIS_VERSION,
    .description = "working directory, umask and resource limits",
    .event_hook = process_hook,
};
PLUGIN_DECL_BUILTIN(process_descriptor, 20, NULL);
