/*
 * coord.h — internal interfaces of dmtcp_coordinator.
 *
 * The coordinator is one thread running a poll() loop (conn.c) over
 * non-blocking sockets.  All of its state lives in one `struct coord`, passed
 * explicitly.  Files: main.c (start-up, daemon, exit), options.c (command
 * line), log.c (event log), conn.c (sockets, buffers, dispatch), worker.c
 * (the handshake, join/leave), command.c (dmtcp_command requests), ckpt.c (the
 * checkpoint protocol), restart.c (restart barriers), script.c (the restart
 * script), kill.c (killing workers that do not obey MSG_KILL).
 */
#ifndef STASIS_COORD_H
#define STASIS_COORD_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/auth.h"
#include "common/proto.h"
#include "common/secret.h"

#define COORD_OUTQ_MAX (4u << 20)    /* a client that lets this much pile up is dropped */
#define COORD_AUTH_TIMEOUT_MS AUTH_HANDSHAKE_MS /* a client must be authenticated within this */
#define COORD_MAX_CONNS 4096
#define COORD_RESTART_TIMEOUT_S 300  /* a restart's time limit when dmtcp_restart gives none */
#define COORD_RESTART_KILL_MS 5000   /* a process of a failed restart still there after this is killed */

struct coord_opts {
    int port;               /* -p; 0 = any free port */
    const char *port_file;
    const char *status_file;
    const char *logfile;
    const char *bind_addr;  /* --bind, default 127.0.0.1 */
    char ckptdir[4096];     /* --ckptdir, absolute; "" = not set */
    int daemon;
    int exit_on_last;
    int kill_after_ckpt;
    int timeout;            /* --timeout seconds; 0 = none */
    int kill_timeout;       /* --kill-timeout seconds: SIGKILL a worker still there after MSG_KILL */
    int interval;           /* -i seconds; 0 = off */
    int quiet;
    int launcher_pid;       /* --launcher-pid: the program that started us; 0 = none */
};

struct coord_conn {
    int fd;
    uint32_t id;
    uint32_t role;          /* 0 until authenticated (AUTH), then enum proto_role */
    int challenged;         /* HELLO came and CHALLENGE went: AUTH is due */
    uint8_t snonce[PROTO_NONCE_LEN]; /* our nonce in its CHALLENGE */
    int dead;               /* dropped; freed by conn_reap() */
    int reaped;             /* protocols already told it left */
    int close_after_flush;  /* REJECT or quit sent: close once written */
    int64_t accepted_ms;
    char peer_addr[64];

    unsigned char *in;      /* bytes received, not yet a whole message */
    size_t in_len, in_cap;
    unsigned char *out;     /* bytes queued, out_off already sent */
    size_t out_len, out_off, out_cap;

    /* workers (and, for the nonce, every client during the handshake) */
    struct msg_hello hello;
    uint32_t state;         /* enum worker_state */
    uint32_t flags;         /* PEER_* from MSG_WORKER_STATUS */
    uint32_t closed;        /* windows it says it closed (MSG_WORKER_STATUS.closed) */
    int participant;        /* in the running checkpoint */
    uint32_t barrier;       /* last barrier reached (checkpoint or restart) */
    int ckpt_done;          /* sent CKPT_DONE for the running checkpoint */
    struct msg_plugin_barrier pbarrier; /* plugin barrier it waits at */
    int pbarrier_waiting;
    int pidfd;              /* the worker's process, when verified on this host (kill.c); -1 */
    int64_t kill_sent_ms;   /* when MSG_KILL was sent; 0 = not yet */
    int kill_forced;        /* kill.c acted on a worker that did not leave */

    /* command clients */
    int waiting_ckpt;       /* blocked on -bc/-kc until the checkpoint ends */

    /* a restart's connection (restart_image.c): registered by MSG_RESTART_IMAGE,
     * then the restored process's own (MSG_RESTART_BACK) */
    int restart_image;      /* carries an image's restart */
    uint64_t restart_token; /* its restart; 0 for workers that joined with HELLO alone */
    uint32_t restart_index; /* its image in the restart */
};

struct coord_ckpt {
    int active;
    uint64_t generation;
    int kill_after;         /* -kc or --kill-after-ckpt */
    int result_final;       /* CHECKPOINTED released: result reported */
    int failed;
    char error[800];
    uint32_t barrier;       /* barrier now being collected */
    int64_t start_ms;
    uint64_t bytes;
    int nprocs;
    char **images;          /* absolute image paths, in CKPT_DONE order */
    int nimages, images_cap;
};

enum restart_image_state { RIMG_MISSING = 0, RIMG_LOADING = 1, RIMG_BACK = 2 };

struct coord_restart_image {
    char path[1024];
    uint64_t comp_id;
    int32_t vpid;
    int32_t pid;            /* the process restoring it */
    int pidfd;              /* that process, or -1 (another host, or unknown) */
    int state;              /* enum restart_image_state */
};

/* One restart: the images one dmtcp_restart brings back (token != 0), or,
 * for clients that only say HELLO RESTARTING, the processes of one
 * computation id (token 0, no image records). */
struct coord_restart_group {
    uint64_t token;
    uint64_t comp_id;
    uint32_t expected;      /* processes it brings back */
    uint32_t joined;        /* images registered, or HELLOs */
    uint32_t barrier;       /* barrier now being collected */
    int timeout_s;
    int64_t deadline_ms;    /* the restart fails if not complete by then */
    struct coord_restart_image *images; /* [expected] when token != 0 */
};

/* A process of a failed restart, killed if still there at kill_ms. */
struct coord_straggler {
    int pidfd;
    int pid;
    int64_t kill_ms;
    char what[1024];        /* the image it was restoring */
};

struct coord {
    struct coord_opts opt;
    int listen_fd;
    int signal_fd;
    int port;               /* the real port */
    uint8_t key[AUTH_KEY_LEN]; /* from the secret (auth_key) */
    char secret_path[SECRET_PATH_MAX];
    char self_dir[4096];    /* directory of our executable */

    struct coord_conn **conns;
    int nconns;
    uint32_t next_id;

    uint64_t comp_id;
    uint64_t generation;
    int any_worker_joined;
    uint32_t comp_flags;           /* OR of the workers' flags, as last sent to them */
    uint32_t windows_closed;       /* delayed-resume windows closed (PEER_RESUME_DELAYED 1 → 0) */
    struct coord_kv *kv;           /* the name service's entries (kv.c) */
    int nkv, kv_cap;
    int uncontrolled;              /* processes that exec'd a program the engine cannot follow */
    char uncontrolled_last[256];   /* the latest of them, for the log and status */
    int quitting;
    int64_t quit_deadline_ms;
    int64_t next_ckpt_ms;   /* interval timer; 0 = off */
    int64_t idle_since_ms;  /* for --timeout: when the last client left */

    struct coord_ckpt ckpt;
    uint64_t last_bytes, last_usec;
    uint64_t checkpoints_done;

    struct coord_restart_group *groups;
    int ngroups;
    struct coord_straggler *stragglers;
    int nstragglers;

    int launcher_pidfd;     /* --launcher-pid, or -1 */
    int launcher_gone;      /* it exited */
};

/* log.c */
void coord_log_init(int quiet);
void coord_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void coord_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int64_t coord_now_ms(void);

/* options.c */
int coord_parse_options(int argc, char **argv, struct coord_opts *o);

/* conn.c */
int conn_listen(struct coord *c);
int conn_loop(struct coord *c);
void conn_send(struct coord *c, struct coord_conn *k, uint16_t type, const void *p, uint32_t len);
void conn_drop(struct coord *c, struct coord_conn *k, const char *why);
void conn_reject(struct coord *c, struct coord_conn *k, uint32_t code, const char *why);
int conn_count_workers(const struct coord *c);
const char *conn_describe(const struct coord_conn *k, char *buf, size_t cap);

/* worker.c */
void worker_hello(struct coord *c, struct coord_conn *k, const struct msg_hello *h);
void worker_auth(struct coord *c, struct coord_conn *k, const struct msg_auth *m);
void worker_message(struct coord *c, struct coord_conn *k, uint16_t type, const void *p);
void worker_gone(struct coord *c, struct coord_conn *k);
void worker_kill_all(struct coord *c);

/* command.c */
void command_handle(struct coord *c, struct coord_conn *k, const struct msg_command *m);
void command_reply(struct coord *c, struct coord_conn *k, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ckpt.c; ckpt_start returns 0 or a positive errno with the reason in why */
int ckpt_start(struct coord *c, int kill_after, char *why, size_t cap);
void ckpt_barrier(struct coord *c, struct coord_conn *k, const struct msg_barrier *b);
void ckpt_done(struct coord *c, struct coord_conn *k, const struct msg_ckpt_done *d);
void ckpt_participant_gone(struct coord *c, struct coord_conn *k);
void ckpt_admit(struct coord *c, struct coord_conn *k);
void pbarrier_reached(struct coord *c, struct coord_conn *k, const struct msg_plugin_barrier *b);
void pbarrier_recheck(struct coord *c);

/* kv.c: the name service (MSG_KV) */
void kv_message(struct coord *c, struct coord_conn *k, const struct msg_kv *m);
void kv_clear(struct coord *c);
void kv_set(struct coord *c, const char *key, const void *val, uint32_t len);
void ckpt_timer(struct coord *c);
void ckpt_reset_timer(struct coord *c);

/* restart.c */
void restart_join(struct coord *c, struct coord_conn *k);
void restart_barrier(struct coord *c, struct coord_conn *k, const struct msg_barrier *b);
void restart_worker_gone(struct coord *c, struct coord_conn *k);
int restart_in_progress(const struct coord *c);
struct coord_restart_group *restart_group_of(struct coord *c, const struct coord_conn *k);
struct coord_restart_group *restart_group_by_token(struct coord *c, uint64_t token);
struct coord_restart_group *restart_group_add(struct coord *c, uint64_t token, uint64_t comp_id,
                                              uint32_t expected, int timeout_s);
void restart_fail(struct coord *c, struct coord_restart_group *g, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void restart_fail_all(struct coord *c, const char *why);
void restart_try_release(struct coord *c, struct coord_restart_group *g);
void restart_timer(struct coord *c);

/* restart_image.c: a restart's connections (MSG_RESTART_*) */
void restart_image_message(struct coord *c, struct coord_conn *k, uint16_t type, const void *p);
void restart_image_gone(struct coord *c, struct coord_conn *k);
void restart_image_release(struct coord_restart_group *g);
void restart_image_doom(struct coord *c, struct coord_restart_group *g);
void restart_stragglers_timer(struct coord *c);

/* lifetime.c: --exit-on-last and --launcher-pid */
void lifetime_init(struct coord *c);
void lifetime_check(struct coord *c, int64_t now);

/* script.c */
int script_write(struct coord *c, char *err, size_t cap);

/* kill.c */
void kill_watch(struct coord *c, struct coord_conn *k);
void kill_request(struct coord *c, struct coord_conn *k);
void kill_check(struct coord *c, int64_t now);
int kill_pending(const struct coord *c);

#endif
