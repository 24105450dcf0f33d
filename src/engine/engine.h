/*
 * engine.h — what the engine's modules share.
 *
 * The engine (libdmtcp.so) is preloaded into the user's program.  config.c
 * and log.c are its ground floor (settings, messages); init.c starts it,
 * manager.c runs the checkpoint protocol in its own thread, threads.c parks
 * and releases user threads, memory.c + image_write.c save the address
 * space, restore.c brings a process back after the restart helper has
 * mapped its memory, plugin.c dispatches events to the built-in features
 * (plugins/) and to user plugins.  Each module keeps its mutable state in
 * one struct named after it.
 */
#ifndef STASIS_ENGINE_H
#define STASIS_ENGINE_H

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

#include "dmtcp.h"
#include "common/image.h"

#define ENGINE_API __attribute__((visibility("default")))
#define ENGINE_MAX_THREADS 4096

/* ---- configuration (config.c), read once from the environment -------- */
struct engine_config {
    char coord_host[256];
    int coord_port;
    char secret[72];   /* the coordinator's token, wiped once the handshake is done */
    char secret_path[4200]; /* the file it came from ("" = STASIS_COORD_SECRET): new processes
                               read it again there, whatever their environment says */
    char ckptdir[1024];
    int ckpt_signal;
    int quiet;
    int compress;   /* DMTCP_GZIP: zstd-compress image blocks (default 1) */
    int zstd_level; /* STASIS_ZSTD_LEVEL (default 1) */
    int forked;     /* STASIS_FORKED_CKPT: write images from a copy-on-write child */
    int incremental; /* STASIS_INCREMENTAL: store only pages that changed */
    int full_every;  /* STASIS_FULL_EVERY: at most this many images per chain (default 8) */
    int tmpfile;     /* STASIS_TMPFILE: write images into an unnamed O_TMPFILE first (default 1) */
    int park_defer_ms;      /* STASIS_PARK_DEFER_MS: a thread inside a libc call that holds a
                               libc lock is parked inside it after this long (default 100) */
    int suspend_timeout_ms; /* STASIS_SUSPEND_TIMEOUT (seconds): a checkpoint whose threads are not
                               all parked by then is abandoned (default 10 s) */
    int exit_writer_wait_s; /* STASIS_EXIT_WRITER_WAIT (seconds): an exit waits this long for a
                               forked writer's image to be reported (default 300) */
    char libdir[1024];
    char program[256];
};
extern struct engine_config engine_config;
void config_read(void);

/* ---- messages to the user (log.c): one line on stderr each ----------- */
void engine_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void engine_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- context switching (ctx.S) --------------------------------------- */
struct engine_ctx {
    uint64_t rbx, rbp, r12, r13, r14, r15, rsp, rip;
    uint32_t mxcsr, fpucw;
};
int ctx_save(struct engine_ctx *c) __attribute__((returns_twice));
void ctx_resume(const struct engine_ctx *c, int *counter) __attribute__((noreturn));
long ctx_clone_thread(unsigned long flags, void *stack, int *ptid, int *ctid,
                      unsigned long tls, void (*fn)(void *), void *arg);

/* ---- threads (threads.c) --------------------------------------------- */
struct thread_rec {
    int in_use;
    int is_main;
    int is_manager;
    pid_t vtid;          /* virtual tid (the tid it had when first seen) */
    pid_t real_tid;      /* kernel tid now */
    uint64_t fs_base;
    uint64_t tid_address; /* clear_child_tid (glibc's &pd->tid) */
    uint64_t robust_head;
    uint64_t robust_len;
    uint64_t rseq_area;
    uint32_t rseq_len;
    uint32_t rseq_sig;
    stack_t altstack;
    char name[16];
    struct engine_ctx ctx;
    /* the checkpoint that parks it */
    uint64_t signalled_ns;     /* when the manager sent it the checkpoint signal */
    const char *critical_call; /* the libc call it was inside (critical.c) when it put off
                                  parking, or was parked in; NULL = outside any */
    int deferred;              /* it put off parking until it leaves critical_call */
    int forced;                /* the manager told it to park even inside critical_call */
};

struct threads_state {
    struct thread_rec recs[ENGINE_MAX_THREADS];
    int nrecs;
    int parked;        /* futex: user threads parked so far */
    int release_seq;   /* futex: bumped to release parked threads */
    int restored;      /* futex-ish: threads back in their context after restart */
    pid_t manager_tid;
    int in_handler;    /* futex: threads inside the checkpoint handler */
    int disabled;      /* forked child: the engine stands aside */
    int collecting;    /* threads are being parked or are parked: checkpoint signals count */
};
extern struct threads_state threads_state;

int threads_install_handler(void);
/* Park every user thread: 0, or -errno with the reason (naming the thread
 * that could not be parked) in why, every parked thread released again.
 * while_waiting runs every few milliseconds of the wait. */
int threads_suspend_all(void (*while_waiting)(void), char *why, size_t cap);
void threads_release_all(void);
void threads_save_manager(struct thread_rec **out);
struct thread_rec *threads_find_by_vtid(pid_t vtid);
struct thread_rec *threads_find_by_pthread(unsigned long th);
pid_t threads_current_vtid(void);
void threads_critical_enter(const char *call);
void threads_critical_leave(void);
void threads_after_fork_child(void);
void threads_join_child(void);

/* ---- the engine's own descriptors (engine_fds.c) ---------------------- */
int engine_fds_own(int fd, int *slot, const char *what);
void engine_fds_close(int *slot);
int engine_fds_is_own(int fd);
int engine_fds_in_owner(void);
int engine_fds_numbers(int *out, int cap);
long engine_fds_write(const int *slot, const void *buf, size_t len);
struct engine_fds_hold {
    uint64_t mask; /* the signal mask to put back */
};
long engine_fds_claim(int fd, struct engine_fds_hold *h);
void engine_fds_hold(struct engine_fds_hold *h);
void engine_fds_release(struct engine_fds_hold *h);
void engine_fds_serve(void);
void engine_fds_set_waker(void (*wake)(void));
void engine_fds_after_fork_child(void);
void engine_fds_plan_restart(int highest, unsigned long soft_limit);
void engine_fds_restart_begin(void);
long engine_fds_vacate(int fd);
void engine_fds_restart_done(void);

/* procfs.c: numbered entries of a /proc directory (tasks, fds); count */
int procfs_list_numbers(const char *dir, int *out, int cap, int *listing_fd);
/* each entry's number to fn, in directory order; how many, or -errno */
int procfs_each_number(const char *dir, void (*fn)(int n, void *arg), void *arg, int *listing_fd);
/* procfs.c: up to cap-1 bytes of a /proc file, NUL-terminated; bytes read or -errno */
long procfs_read(const char *path, char *buf, size_t cap);
/* A /proc/.../stat file read into buf: its fields from the third (state)
 * on, past the command name (which may hold spaces and parentheses); NULL
 * if it cannot be read. */
const char *procfs_stat_fields(const char *path, char *buf, size_t cap);
/* What /proc/self/fd/FD names, in buf: its length, or -1.  With deleted
 * given, a " (deleted)" suffix is cut off and *deleted says so. */
long procfs_fd_name(int fd, char *buf, size_t cap, int *deleted);

/* thread_report.c: what a thread that was not parked is doing, in words */
void thread_report_stuck(const struct thread_rec *r, char *out, size_t cap);

/* ---- memory and image (memory.c, image_write.c) ---------------------- */
struct image_result {
    char path[1024];
    uint64_t header_checksum;
    uint64_t bytes;
    uint64_t usec;
    char error[512];
};
int image_write(uint64_t generation, const char *dir, struct image_result *res);
/* Forked checkpointing (image_fork.c): start a copy-on-write child writing
 * the image; finish waits for it and gives its result. */
struct image_fork {
    int rd;
    pid_t pid;
};
int image_fork_start(uint64_t generation, const char *dir, struct image_fork *f);
int image_fork_finish(struct image_fork *f, struct image_result *res);
/* Incremental checkpoints (image_delta.c).  Program side: prepare decides
 * full or incremental before the write; after takes the result. */
void delta_prepare(const char *path, uint64_t generation);
void delta_after(int ok, const struct image_result *res, uint64_t generation);
void delta_after_restart(void);
/* Writer side (in the process or its forked writer). */
struct image_header;
void delta_writer_begin(struct image_header *h);
int delta_hashing(void);
int delta_page(uint64_t addr, const void *page);
int delta_writer_end(int ok);
const char *image_current_path(void);
void image_forget_name(void); /* a forked child: its parent's name is not its own */
/* The image file itself (image_file.c): created where no other user can
 * have planted it, named only once complete.  create opens an unnamed (or
 * exclusively created) file in path's directory; publish, once the file is
 * written and fsync'd, renames it over path; discard removes an unfinished
 * one.  -errno with a message naming the image in err.  sweep removes the
 * temporaries of the image at path whose writer died. */
struct image_file {
    int fd;          /* the file being written */
    int dirfd;       /* its directory */
    char name[256];  /* the final name in that directory */
    char tmp[320];   /* its current temporary name; "" while unnamed */
    char path[1024]; /* the final path, for messages */
};
int image_file_create(struct image_file *f, const char *path, char *err, size_t cap);
int image_file_publish(struct image_file *f, char *err, size_t cap);
void image_file_discard(struct image_file *f);
int image_file_close(struct image_file *f);
void image_file_sweep(const char *path);
void image_file_sweep_in(int dirfd, const char *name);
uint32_t image_host_id(void);
const char *image_current_path_in(const char *dir);
extern pid_t image_presence_pid;

/* ---- restore (restore.c) --------------------------------------------- */
void restore_entry(struct restart_info *info) __attribute__((noreturn));
void restore_lazy_begin(void);
void restore_lazy_wait(void); /* until a lazy restart's memory is all in */
struct restore_state {
    struct restart_info info; /* copy of what dmtcp_restart said */
    uint64_t helper_start, helper_end;
    int have_info;
};
extern struct restore_state restore_state;
void restore_wait_threads(int n);

/* ---- manager (manager.c) --------------------------------------------- */
struct manager_state {
    int coord_fd;
    int request_fd;        /* eventfd: dmtcp_checkpoint() → manager */
    int connected;
    int lost_warned;
    uint64_t comp_id;
    uint64_t generation;   /* last checkpoint generation taken */
    int num_checkpoints;   /* in this process's life, restarts included */
    int num_restarts;
    int event_seq;         /* futex: bumped after each checkpoint/restart */
    int last_failed;       /* last checkpoint's image failed */
    int last_was_restart;  /* the last event was a restart (for THREAD_RESUME) */
    int disable_count;     /* dmtcp_disable_ckpt nesting, plus holds */
    int holds;             /* dmtcp_hold_checkpoints not yet released */
    pid_t hold_owner;      /* the thread a hold was taken for */
    int suspending;        /* a checkpoint wants to suspend */
    uint32_t status_flags; /* PEER_* flags reported to the coordinator */
    int want_checkpoint;   /* doorbell reasons, set by other threads */
    int want_status;
    uint64_t launch_ns;
    uint32_t ckpt_nprocs;  /* processes in the checkpoint running (SUSPENDED's release) */
    int32_t family[3];     /* parent, group, session (virtual) at the checkpoint: taken here,
                              not in a forked writer, whose parent is this process */
    uint32_t local_closed; /* delayed-resume windows this process closed (sent with its flags) */
    uint32_t comp_flags;   /* the computation's flags (coordinator's MSG_WORKER_STATUS) */
    int windows_closed;    /* futex: delayed-resume windows closed in the computation */
    int want_detach;       /* a thread about to exec asks for the connection (spawn.c) */
    int detach_state;      /* futex: MANAGER_DETACH_* answer */
    int writer_pending;    /* futex: a forked writer's image is not yet reported */
    pid_t writer_owner;    /* the process whose writer that is (not a child forked meanwhile) */
    pid_t writer_pid;
};
extern struct manager_state manager_state;
int manager_start(void (*joined)(void *), void *arg);
int manager_request_checkpoint(void);
void manager_set_status_flags(uint32_t flags);
/* fork and exec (spawn.c) */
int manager_detach_for_exec(void);
void manager_wait_writer_before_exit(void);
void manager_load_secret(void);
/* the coordinator's name service (manager thread, in event hooks) */
int manager_kv_put(const char *key, const void *val, uint32_t len, uint32_t op);
long manager_kv_get(const char *key, void *buf, uint32_t cap);
void manager_kv_name(char *out, const char *kind, uint64_t id); /* out: KV_KEY_MAX bytes */
void manager_kv_min(const char *kind, uint64_t id, int64_t v);
int64_t manager_kv_get_int(const char *kind, uint64_t id);
void manager_reattach(void);
int manager_adopt_connection(int fd);
void manager_say_leaving(const char *name, const char *why);
void manager_after_fork_child(int open_sections);

/* ---- checkpoint gate (api.c): no checkpoint starts while one is open -- */
void api_gate_enter(void);
void api_gate_leave(void);
int api_thread_disable_depth(void);

/* ---- new processes and programs (spawn.c) ---------------------------- */
void spawn_init(void);
void spawn_joined(void *unused);

/* ---- engine state carried across exec (carry.c) ---------------------- */
int carry_begin(void);                                      /* spawn.c, before PRE_EXEC */
int carry_put(const char *tag, const void *data, uint32_t len); /* a plugin, at PRE_EXEC */
void carry_end(void);                                       /* spawn.c, the exec failed */
void carry_adopt(int fd);                                   /* the new program, as it starts */
long carry_get(const char *tag, void *buf, uint32_t cap);   /* a plugin, at INIT: its bytes, or -1 */
void carry_forget(void);                                    /* after INIT */

/* ---- back with the coordinator after a restart (rejoin.c) ------------ */
/* Take over the restart's connection fd and say the process is back: 0
 * when welcomed, -1 when the coordinator is lost; exits if the restart failed. */
int rejoin_coordinator(int fd);
/* Exits with status 4 if the coordinator's message says the restart failed. */
void rejoin_check_message(uint16_t type, const void *buf, long n);
/* The restart cannot complete: say why and exit with status 4. */
void rejoin_abort(const char *why) __attribute__((noreturn));

/* ---- plugins (plugin.c) ---------------------------------------------- */
/* The engine's own features are native plugins on the public API
 * (dmtcp.h), one file each under plugins/.  Each declares its descriptor
 * with PLUGIN_DECL_BUILTIN: the descriptor, its rank among the built-ins
 * (lower first: that is the order of events that rebuild, the reverse
 * that of events that save) and the services it offers the core, or NULL.
 * The declarations gather in one linker section (stasis_builtin_plugins),
 * which plugin_register_builtins() reads when the engine starts: no list
 * of features is written anywhere. */
struct engine_services;
struct plugin_builtin {
    int order;
    const dmtcp_plugin_descriptor_t *descriptor;
    const struct engine_services *services;
};
#define PLUGIN_DECL_BUILTIN(descr, rank, svc)                                                      \
    static const struct plugin_builtin plugin_builtin_##descr                                      \
        __attribute__((used, section("stasis_builtin_plugins"), aligned(sizeof(void *)))) = {       \
            (rank), &(descr), (svc)}
void plugin_register_builtins(void);
void plugin_dispatch(dmtcp_event_t ev, dmtcp_event_data_t *data);
void plugin_dispatch_reverse(dmtcp_event_t ev, dmtcp_event_data_t *data);
/* dmtcp_plugin_fail: reset as a checkpoint begins; 1 with the reason
 * (naming the plugin) once a PRESUSPEND or PRECHECKPOINT hook failed it */
void plugin_failure_reset(void);
int plugin_failure(char *why, size_t cap);

/* ---- services (services.c) ------------------------------------------- */
/* The few things the core needs from a feature, by what they are, never
 * by who provides them.  A built-in plugin offers them with its
 * declaration; with no provider the core does the plain thing (the
 * kernel's ids, nothing done). */
struct engine_services {
    /* one provider each */
    /* the pid the program knows: image header and name, hello, messages */
    pid_t (*virtual_pid)(void);
    /* parent, process group and session as the program knows them, taken
     * at each checkpoint for the image header */
    void (*family)(int32_t *ppid, int32_t *pgid, int32_t *sid);
    /* the program exec'd into this one keeps the pid it had (spawn.c) */
    void (*adopt_virtual_pid)(pid_t vpid);
    /* a path the program gave, as the kernel must see it (buf: cap bytes,
     * used if it changes); async-signal-safe (the stdio wrappers) */
    const char *(*kernel_path)(const char *path, char *buf, size_t cap);
    /* every provider, by rank: in the checkpoint handler of the thread
     * with record `slot`, just before it parks, and once released (before
     * its THREAD_RESUME; ucontext: its signal frame); async-signal-safe */
    void (*thread_parking)(int slot);
    void (*thread_released)(int slot, int is_main, int is_restart, void *ucontext);
};
void services_offer(const struct engine_services *s, const char *plugin);
pid_t services_virtual_pid(void);
void services_family(int32_t *ppid, int32_t *pgid, int32_t *sid);
void services_adopt_virtual_pid(pid_t vpid);
const char *services_kernel_path(const char *path, char *buf, size_t cap);
void services_thread_parking(int slot);
void services_thread_released(int slot, int is_main, int is_restart, void *ucontext);

void events_init(void);
int events_engine_thread_create(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *), void *arg);

/* sections.c: plugin sections of the image */
void sections_begin(void);
const void *sections_data(size_t *len);
void sections_end(void);
/* the sections of the image restarted from: ri->image_path, if it is still
 * the file dmtcp_restart checked (ri->image_dev, image_ino) */
void sections_load(const struct restart_info *ri);

#endif
