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

#include <dlfcn.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

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

/* ---- Plugin API ---------------------------------------------------------
 * A plugin is a shared object loaded next to the engine (dmtcp_launch
 * --with-plugin, DMTCP_PLUGIN) whose event hook the engine calls at each
 * step of the program's life and of every checkpoint and restart.  Two
 * styles are accepted, both declared with DMTCP_DECL_PLUGIN(descriptor):
 *
 *  - DMTCP's: a DmtcpPluginDescriptor_t (pluginApiVersion
 *    DMTCP_PLUGIN_API_VERSION, "3", as in DMTCP 3.x to 5.x) whose hook takes
 *    a DmtcpEventData_t; plugin sources written for DMTCP compile unchanged.
 *  - Stasis's native one: a dmtcp_plugin_descriptor_t (api_version
 *    DMTCP_NATIVE_PLUGIN_API_VERSION) whose hook takes a dmtcp_event_data_t
 *    (is_restart, generation, and DMTCP's union as data->dmtcp).
 *
 * The engine's own features (pids, signals, descriptors …) are native
 * plugins.  docs/plugins.md has the events, their order, the version rule
 * and how a hook fails a checkpoint (dmtcp_plugin_fail).
 */

/* Events.  The names are DMTCP's; the values are Stasis's own (sources
 * compile unchanged, objects built against DMTCP's header do not load).
 * The first group is delivered; the second exists in DMTCP but is never
 * sent by Stasis (docs/plugins.md says why). */
typedef enum eDmtcpEvent {
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
    DMTCP_EVENT_POST_EXEC,       /* exec returned: it failed */
    DMTCP_EVENT_PTHREAD_START,
    DMTCP_EVENT_PTHREAD_EXIT,    /* a program thread ends, by return or pthread_exit */

    /* DMTCP's, never sent by Stasis */
    DMTCP_EVENT_ATFORK_FAILED,
    DMTCP_EVENT_VFORK_PREPARE,
    DMTCP_EVENT_VFORK_PARENT,
    DMTCP_EVENT_VFORK_CHILD,
    DMTCP_EVENT_VFORK_FAILED,
    DMTCP_EVENT_PTHREAD_RETURN,
    DMTCP_EVENT_OPEN_FD,
    DMTCP_EVENT_REOPEN_FD,
    DMTCP_EVENT_CLOSE_FD,
    DMTCP_EVENT_DUP_FD,
    DMTCP_EVENT_VIRTUAL_TO_REAL_PATH,
    DMTCP_EVENT_REAL_TO_VIRTUAL_PATH,

    DMTCP_EVENT_MAX,
    nDmtcpEvents = DMTCP_EVENT_MAX
} DmtcpEvent_t;
typedef DmtcpEvent_t dmtcp_event_t;

/* What a DMTCP-style hook receives with an event: the member named after
 * the event's kind.  Every isRestart is the same int: 1 for RESTART, and
 * for RUNNING and THREAD_RESUME after a restart; 0 otherwise.  PRE_EXEC
 * gives the file, argv and envp to read (Stasis applies no change made to
 * them; maxArgs and maxEnv are 0) and serializationFd -1, as does
 * POST_EXEC. */
typedef union _DmtcpEventData_t {
    struct {
        int serializationFd;
        char *filename;
        size_t maxArgs;
        const char **argv;
        size_t maxEnv;
        const char **envp;
    } preExec;
    struct {
        int serializationFd;
    } postExec;
    struct {
        int isRestart;
    } resumeInfo, refillInfo, resumeUserThreadInfo, nameserviceInfo;
    struct {
        int fd;
        const char *path;
        int flags;
        mode_t mode;
    } openFd;
    struct {
        int fd;
        const char *path;
        int flags;
    } reopenFd;
    struct {
        int fd;
    } closeFd;
    struct {
        int oldFd;
        int newFd;
    } dupFd;
    struct {
        char *path;
    } realToVirtualPath, virtualToRealPath;
} DmtcpEventData_t;

/* What a native hook receives: the same event in Stasis's terms, with
 * DMTCP's view of it as the first member. */
typedef struct {
    DmtcpEventData_t dmtcp;
    int is_restart;          /* RESTART, and RUNNING / THREAD_RESUME after a restart: 1 */
    uint64_t generation;     /* checkpoint generation */
} dmtcp_event_data_t;

/* ---- DMTCP-style plugins -------------------------------------------------
 * The plugin API version this engine accepts in pluginApiVersion, and the
 * DMTCP release whose plugin API it follows (dmtcpVersion is informative). */
#define DMTCP_PLUGIN_API_VERSION "3"
#ifndef DMTCP_PACKAGE_VERSION
#define DMTCP_PACKAGE_VERSION "3.0.0"
#endif

typedef void (*HookFunctionPtr_t)(DmtcpEvent_t, DmtcpEventData_t *);

typedef struct {
    const char *pluginApiVersion; /* DMTCP_PLUGIN_API_VERSION */
    const char *dmtcpVersion;     /* DMTCP_PACKAGE_VERSION */
    const char *pluginName;
    const char *authorName;
    const char *authorEmail;
    const char *description;
    void (*event_hook)(DmtcpEvent_t event, DmtcpEventData_t *data);
} DmtcpPluginDescriptor_t;

/* Registers a DMTCP-style plugin; the descriptor is copied (by value, as
 * in DMTCP).  DMTCP_DECL_PLUGIN calls it. */
void dmtcp_register_plugin(DmtcpPluginDescriptor_t descr) __attribute__((weak));

/* ---- native plugins ------------------------------------------------------
 * The native API version of this header.  A later version only adds
 * fields at the end of dmtcp_plugin_descriptor_t; the engine loads a
 * descriptor of its own version or an older one, and refuses (with a
 * warning naming the plugin) one written for a newer engine.  0 — the
 * field left out — counts as 1. */
#define DMTCP_NATIVE_PLUGIN_API_VERSION 1

typedef struct {
    int api_version;         /* DMTCP_NATIVE_PLUGIN_API_VERSION */
    const char *name;
    const char *version;
    const char *description;
    void (*event_hook)(dmtcp_event_t event, dmtcp_event_data_t *data);
} dmtcp_plugin_descriptor_t;

/* Registers a native plugin; the descriptor is kept by address (it must
 * live as long as the plugin).  DMTCP_DECL_PLUGIN calls it. */
void dmtcp_register_native_plugin(const dmtcp_plugin_descriptor_t *d) __attribute__((weak));

/* DMTCP_DECL_PLUGIN(descriptor): registers either kind of descriptor from
 * a constructor of the plugin; nothing when the engine is absent. */
#ifdef __cplusplus
extern "C++" {
static inline void dmtcp_decl_plugin_register_(const DmtcpPluginDescriptor_t *d)
{
    if (dmtcp_register_plugin)
        dmtcp_register_plugin(*d);
}
static inline void dmtcp_decl_plugin_register_(const dmtcp_plugin_descriptor_t *d)
{
    if (dmtcp_register_native_plugin)
        dmtcp_register_native_plugin(d);
}
}
#define DMTCP_DECL_PLUGIN_REGISTER_(descr) dmtcp_decl_plugin_register_(&(descr))
#else
static inline void dmtcp_decl_plugin_register_dmtcp_(const DmtcpPluginDescriptor_t *d)
{
    if (dmtcp_register_plugin)
        dmtcp_register_plugin(*d);
}
static inline void dmtcp_decl_plugin_register_native_(const dmtcp_plugin_descriptor_t *d)
{
    if (dmtcp_register_native_plugin)
        dmtcp_register_native_plugin(d);
}
#define DMTCP_DECL_PLUGIN_REGISTER_(descr)                                    \
    _Generic(&(descr),                                                        \
        DmtcpPluginDescriptor_t *: dmtcp_decl_plugin_register_dmtcp_,          \
        const DmtcpPluginDescriptor_t *: dmtcp_decl_plugin_register_dmtcp_,    \
        dmtcp_plugin_descriptor_t *: dmtcp_decl_plugin_register_native_,       \
        const dmtcp_plugin_descriptor_t *: dmtcp_decl_plugin_register_native_)(&(descr))
#endif
#define DMTCP_DECL_PLUGIN_CAT2_(a, b) a##b
#define DMTCP_DECL_PLUGIN_CAT_(a, b) DMTCP_DECL_PLUGIN_CAT2_(a, b)
#define DMTCP_DECL_PLUGIN(descr)                                              \
    __attribute__((constructor)) static void DMTCP_DECL_PLUGIN_CAT_(dmtcp_decl_plugin_, __LINE__)(void) \
    {                                                                         \
        DMTCP_DECL_PLUGIN_REGISTER_(descr);                                   \
    }

/* The next definition of a function after the caller's own, for wrappers:
 * NEXT_FNC(open)(path, flags) calls the open() the plugin's own open()
 * wraps.  dmtcp_dlsym(RTLD_NEXT, name) does the same for a name (relative
 * to its caller, like dlsym); any other handle is dlsym's. */
#ifndef RTLD_NEXT
#define RTLD_NEXT ((void *)-1l) /* glibc's, which <dlfcn.h> declares only with _GNU_SOURCE */
#endif
void *dmtcp_dlsym(void *handle, const char *symbol) __attribute__((weak));
#define NEXT_FNC(func)                                                        \
    ({                                                                        \
        static __typeof__(&func) dmtcp_next_fnc_;                             \
        if (!dmtcp_next_fnc_)                                                 \
            dmtcp_next_fnc_ = (__typeof__(&func))dlsym(RTLD_NEXT, #func); \
        dmtcp_next_fnc_;                                                      \
    })

/* Fail the checkpoint from a DMTCP_EVENT_PRESUSPEND or
 * DMTCP_EVENT_PRECHECKPOINT hook (either style), with a printf-style
 * message.  The checkpoint then fails cleanly: no image is written (the
 * previous one stays), every thread goes on, the program runs on, and the
 * coordinator reports the failure with the plugin's name and the message
 * (dmtcp_command -bc; dmtcp_checkpoint() returns DMTCP_ERROR).  The other
 * plugins still get the checkpoint's remaining events: RUNNING after a
 * failed PRESUSPEND; RESUME and RUNNING after a failed PRECHECKPOINT.  The
 * first failure is the one reported.  0, or DMTCP_ERROR (nothing failed)
 * when called from anywhere else. */
int dmtcp_plugin_fail(const char *fmt, ...) __attribute__((weak, format(printf, 1, 2)));

/* The checkpoint generation: 0 before the first checkpoint, then the
 * number of the last one begun (the one in progress during its events). */
uint32_t dmtcp_get_generation(void) __attribute__((weak));

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
 * called from anywhere else.  (DMTCP's return nothing: every call written
 * for DMTCP compiles unchanged.) */
int dmtcp_global_barrier(const char *barrier) __attribute__((weak));
int dmtcp_local_barrier(const char *barrier) __attribute__((weak));

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

#ifdef __cplusplus
}
#endif
#endif
