/*
 * engine.h — what the engine's modules share.
 *
 * The engine (libdmtcp.so) is preloaded into the user's program.  init.c
 * starts it, manager.c runs the checkpoint protocol in its own thread,
 * threads.c parks and releases user threads, memory.c + image_write.c save
 * the address space, restore.c brings a process back after the restart
 * helper has mapped its memory, plugin.c dispatches events to the built-in
 * features (plugins/) and to user plugins.  Each module keeps its mutable
 * state in one struct named after it.
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
#define ENGINE_FD_BASE 900 /* the engine's own fds live at or above this */

/* ---- configuration (init.c), read once from the environment ---------- */
struct engine_config {
    char coord_host[256];
    int coord_port;
    char secret[72];   /* the coordinator's token, wiped once the handshake is done */
    char ckptdir[1024];
    int ckpt_signal;
    int quiet;
    int compress;   /* DMTCP_GZIP: zstd-compress image blocks (default 1) */
    int zstd_level; /* STASIS_ZSTD_LEVEL (default 1) */
    int forked;     /* STASIS_FORKED_CKPT: write images from a copy-on-write child */
    int incremental; /* STASIS_INCREMENTAL: store only pages that changed */
    int full_every;  /* STASIS_FULL_EVERY: at most this many images per chain (default 8) */
    char libdir[1024];
    char program[256];
};
extern struct engine_config engine_config;

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
};
extern struct threads_state threads_state;

int threads_install_handler(void);
int threads_suspend_all(void);
void threads_release_all(void);
void threads_save_manager(struct thread_rec **out);
struct thread_rec *threads_find_by_vtid(pid_t vtid);
struct thread_rec *threads_find_by_pthread(unsigned long th);
pid_t threads_current_vtid(void);
void threads_critical_enter(void);
void threads_critical_leave(void);
void threads_after_fork_child(void);

/* procfs.c: numbered entries of a /proc directory (tasks, fds); count */
int procfs_list_numbers(const char *dir, int *out, int cap, int *listing_fd);

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
};
extern struct manager_state manager_state;
int manager_start(void);
int manager_request_checkpoint(void);
void manager_set_status_flags(uint32_t flags);

/* ---- plugin dispatch (plugin.c) -------------------------------------- */
struct engine_plugin {
    const char *name;
    void (*hook)(dmtcp_event_t ev, dmtcp_event_data_t *data);
};
void plugin_register_builtin(const struct engine_plugin *p);
void plugin_dispatch(dmtcp_event_t ev, dmtcp_event_data_t *data);
void plugin_dispatch_reverse(dmtcp_event_t ev, dmtcp_event_data_t *data);

void events_init(void);

/* sections.c: plugin sections of the image */
void sections_begin(void);
const void *sections_data(size_t *len);
void sections_end(void);
void sections_load(const char *image_path);

/* built-in plugins */
void fds_plugin_init(void);
void signals_plugin_init(void);
void process_plugin_init(void);
void pid_plugin_init(void);

/* signals.c: the engine's own access to the real sigaction */
int signals_real_sigaction(int sig, const struct sigaction *act, struct sigaction *old);
void signals_thread_dequeue(int slot);
void signals_thread_requeue(int slot, int is_main);

/* pid.c */
pid_t pid_virtual_pid(void);
pid_t pid_real_pid(void);
pid_t pid_to_real(pid_t vpid);
void pid_after_restart(void);
void pid_reset_for_child(void);

#endif
