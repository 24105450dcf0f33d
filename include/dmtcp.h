/*
 * dmtcp.h — the Stasis C API, source-compatible with DMTCP's.
 *
 * Every function is declared weak and wrapped in a macro of the same name, so
 * a program that calls it runs unchanged without the engine: the macro sees
 * the missing symbol and yields DMTCP_NOT_PRESENT (or 0 for
 * dmtcp_is_enabled).  Under `dmtcp_launch` the engine (libdmtcp.so) provides
 * the real functions.
 */
#ifndef DMTCP_H
#define DMTCP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DMTCP_AFTER_CHECKPOINT 1
#define DMTCP_AFTER_RESTART 2
#define DMTCP_NOT_PRESENT 3
#define DMTCP_ERROR (-1)

int dmtcp_is_enabled(void) __attribute__((weak));
int dmtcp_checkpoint(void) __attribute__((weak));
int dmtcp_disable_ckpt(void) __attribute__((weak));
int dmtcp_enable_ckpt(void) __attribute__((weak));
int dmtcp_get_coordinator_status(int *num_peers, int *is_running) __attribute__((weak));
int dmtcp_get_local_status(int *num_checkpoints, int *num_restarts) __attribute__((weak));
const char *dmtcp_get_ckpt_filename(void) __attribute__((weak));

#define dmtcp_is_enabled() (dmtcp_is_enabled ? dmtcp_is_enabled() : 0)
#define dmtcp_checkpoint() (dmtcp_checkpoint ? dmtcp_checkpoint() : DMTCP_NOT_PRESENT)
#define dmtcp_disable_ckpt() (dmtcp_disable_ckpt ? dmtcp_disable_ckpt() : DMTCP_NOT_PRESENT)
#define dmtcp_enable_ckpt() (dmtcp_enable_ckpt ? dmtcp_enable_ckpt() : DMTCP_NOT_PRESENT)
#define dmtcp_get_coordinator_status(n, r) \
    (dmtcp_get_coordinator_status ? dmtcp_get_coordinator_status(n, r) : DMTCP_NOT_PRESENT)
#define dmtcp_get_local_status(n, r) \
    (dmtcp_get_local_status ? dmtcp_get_local_status(n, r) : DMTCP_NOT_PRESENT)
#define dmtcp_get_ckpt_filename() (dmtcp_get_ckpt_filename ? dmtcp_get_ckpt_filename() : NULL)

/* ---- Plugin event API --------------------------------------------------
 * Internal in this release (the built-in features use it); documented and
 * made stable by the plugin issue.  A plugin fills a dmtcp_plugin_descriptor_t
 * and registers it with DMTCP_DECL_PLUGIN from a shared object passed with
 * --with-plugin.
 */
typedef enum {
    DMTCP_EVENT_INIT = 1,        /* engine started in this process */
    DMTCP_EVENT_EXIT,            /* process exits */
    DMTCP_EVENT_PRESUSPEND,      /* checkpoint requested; user threads still run */
    DMTCP_EVENT_PRECHECKPOINT,   /* user threads parked; save kernel state */
    DMTCP_EVENT_RESUME,          /* image durable; about to release threads */
    DMTCP_EVENT_RESTART,         /* memory restored; recreate kernel state */
    DMTCP_EVENT_RUNNING,         /* threads released (after checkpoint or restart) */
    DMTCP_EVENT_THREAD_RESUME,   /* in each user thread as it leaves the parked state */
    DMTCP_EVENT_ATFORK_PREPARE,
    DMTCP_EVENT_ATFORK_PARENT,
    DMTCP_EVENT_ATFORK_CHILD,
    DMTCP_EVENT_PRE_EXEC,
    DMTCP_EVENT_POST_EXEC,
    DMTCP_EVENT_PTHREAD_START,
    DMTCP_EVENT_PTHREAD_EXIT,
    DMTCP_EVENT_MAX
} dmtcp_event_t;

typedef struct {
    int is_restart;          /* THREAD_RESUME / RUNNING: 1 after a restart */
    uint64_t generation;     /* checkpoint generation */
} dmtcp_event_data_t;

typedef struct {
    const char *name;
    const char *version;
    const char *description;
    void (*event_hook)(dmtcp_event_t event, dmtcp_event_data_t *data);
} dmtcp_plugin_descriptor_t;

void dmtcp_register_plugin(const dmtcp_plugin_descriptor_t *d) __attribute__((weak));

/* What this process reports to the coordinator (dmtcp_command -s/-l/--json):
 * an OR of DMTCP_STATUS_* flags. */
#define DMTCP_STATUS_RESUME_DELAYED 1u
int dmtcp_set_status_flags(unsigned flags) __attribute__((weak));

/* The computation's view of those flags: their OR over every process,
 * and how many times DMTCP_STATUS_RESUME_DELAYED went from set to clear in
 * the computation (a delayed-resume window closed somewhere).  1, or
 * DMTCP_NOT_PRESENT.  dmtcp_wait_windows_closed blocks the calling thread
 * (no CPU) until that count exceeds seen: 0, or DMTCP_ERROR after
 * timeout_ms (negative: no bound) or when the coordinator is gone. */
int dmtcp_get_computation_status(unsigned *flags, unsigned *windows_closed) __attribute__((weak));
int dmtcp_wait_windows_closed(unsigned seen, long timeout_ms) __attribute__((weak));

/* Private bytes in the image: dmtcp_plugin_save() during
 * DMTCP_EVENT_PRECHECKPOINT stores len bytes under key (at most 31
 * characters); dmtcp_plugin_load() during DMTCP_EVENT_RESTART copies them
 * into buf and returns their length, or DMTCP_ERROR (-1) if nothing was saved
 * under key or buf is too small. */
int dmtcp_plugin_save(const char *key, const void *data, size_t len) __attribute__((weak));
long dmtcp_plugin_load(const char *key, void *buf, size_t cap) __attribute__((weak));

/* Hold checkpoints back: a checkpoint asked for meanwhile waits and runs
 * once every hold is released.  The hold is taken for the calling thread
 * (its own dmtcp_checkpoint() then returns DMTCP_ERROR at once rather than
 * wait for itself) but any thread may release it — unlike
 * dmtcp_disable_ckpt/dmtcp_enable_ckpt, which pair within one thread. */
int dmtcp_hold_checkpoints(void) __attribute__((weak));
int dmtcp_release_checkpoints(void) __attribute__((weak));

/* Named barriers for plugins, from a checkpoint or restart event hook
 * (PRESUSPEND … RUNNING, RESTART): return once every process of the
 * checkpoint (or restart) has reached the barrier of that name — global —
 * or every such process on this host — local.  0, or DMTCP_ERROR when
 * called from anywhere else. */
int dmtcp_global_barrier(const char *name) __attribute__((weak));
int dmtcp_local_barrier(const char *name) __attribute__((weak));

/* The coordinator's name service, DMTCP's calls: during a checkpoint or a
 * restart (from an event hook, like the barriers), the processes of the
 * computation share values by key (id and key together at most 60
 * characters once key is written in hex; values at most 184 bytes).  The
 * table is emptied when a checkpoint or restart starts.  1 on success, 0
 * when the key is unknown or the call failed; *val_len gives the room in
 * val and returns the value's length. */
int dmtcp_send_key_val_pair_to_coordinator(const char *id, const void *key, uint32_t key_len, const void *val,
                                           uint32_t val_len) __attribute__((weak));
int dmtcp_send_query_to_coordinator(const char *id, const void *key, uint32_t key_len, void *val,
                                    uint32_t *val_len) __attribute__((weak));

/* 1 when the calling thread is running one of the application's signal
 * handlers. */
int dmtcp_in_signal_handler(void) __attribute__((weak));

#define DMTCP_DECL_PLUGIN(descr)                                              \
    __attribute__((constructor)) static void dmtcp_plugin_register_##descr(void) \
    {                                                                          \
        if (dmtcp_register_plugin)                                             \
            dmtcp_register_plugin(&(descr));                                   \
    }

#ifdef __cplusplus
}
#endif
#endif
