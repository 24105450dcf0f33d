/*
 * proto.h — the coordinator wire protocol (version 2).
 *
 * Every message is a 16-byte header followed by `len` bytes of payload; the
 * payload is one of the fixed structs below (COMMAND_REPLY and LIST carry a
 * variable tail of peer records).  All integers are little-endian, strings
 * are NUL-padded fixed arrays.  A peer that sends a bad magic, an unknown
 * version or type, a length over PROTO_MAX_PAYLOAD or a length that does not
 * match its type is disconnected; nobody else is affected.  Every connection
 * starts with the handshake HELLO, CHALLENGE, AUTH, WELCOME, in which both
 * ends prove they hold the coordinator's secret without sending it
 * (auth.h).  Each struct's size and field offsets are pinned below;
 * docs/protocol.md gives the same offsets in prose.
 *
 * Shared by the coordinator, the commands and the engine: no global state.
 */
#ifndef STASIS_PROTO_H
#define STASIS_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define PROTO_MAGIC 0x31535453u /* "STS1" */
#define PROTO_VERSION 2
#define PROTO_VERSION_1 1 /* the old protocol (secret sent in HELLO): refused */
#define PROTO_MAX_PAYLOAD (1u << 20)
#define PROTO_DEFAULT_PORT 7779
#define PROTO_NONCE_LEN 32 /* random bytes from each end, per connection */
#define PROTO_PROOF_LEN 32 /* keyed BLAKE2b-256 (auth.h) */

/* Pins a wire struct: its size, and the offset of each named field. */
#define PROTO_PIN_SIZE(type, size) \
    _Static_assert(sizeof(struct type) == (size), "struct " #type ": size changed")
#define PROTO_PIN(type, field, off) \
    _Static_assert(offsetof(struct type, field) == (off), "struct " #type ": " #field " moved")

struct proto_hdr {
    uint32_t magic;
    uint16_t version;
    uint16_t type;
    uint32_t len; /* payload bytes that follow */
    uint32_t reserved;
};
PROTO_PIN_SIZE(proto_hdr, 16);
PROTO_PIN(proto_hdr, magic, 0);
PROTO_PIN(proto_hdr, version, 4);
PROTO_PIN(proto_hdr, type, 6);
PROTO_PIN(proto_hdr, len, 8);
PROTO_PIN(proto_hdr, reserved, 12);

enum proto_type {
    MSG_HELLO = 1,         /* client → coord: first message of every connection */
    MSG_WELCOME = 2,       /* coord → client: authenticated and accepted */
    MSG_REJECT = 3,        /* coord → client: refused (bad secret, bad version…), then close */
    MSG_COMMAND = 4,       /* command client → coord */
    MSG_COMMAND_REPLY = 5, /* coord → command client */
    MSG_CKPT_REQUEST = 6,  /* worker → coord: dmtcp_checkpoint() was called */
    MSG_DO_CKPT = 7,       /* coord → worker: start checkpoint `generation` */
    MSG_BARRIER = 8,       /* worker → coord: reached barrier */
    MSG_BARRIER_RELEASE = 9, /* coord → worker: everyone reached it */
    MSG_CKPT_DONE = 10,    /* worker → coord: image written (or failed) */
    MSG_KILL = 11,         /* coord → worker: terminate the computation */
    MSG_WORKER_STATUS = 12, /* worker → coord: state change (e.g. resume delayed) */
    MSG_PLUGIN_BARRIER = 13, /* worker → coord: a plugin reached a named barrier */
    MSG_PLUGIN_BARRIER_RELEASE = 14, /* coord → worker: every peer reached it */
    MSG_CHALLENGE = 15,    /* coord → client: answer to HELLO, the coordinator's proof */
    MSG_AUTH = 16,         /* client → coord: answer to CHALLENGE, the client's proof */
    MSG_RESTART_IMAGE = 17,  /* dmtcp_restart → coord (command connection): this connection
                                carries the restart of one image from now on */
    MSG_RESTART_FAILED = 18, /* restart helper → coord on that connection: the image cannot be
                                restored; coord → its processes: the restart failed */
    MSG_RESTART_BACK = 19,   /* restored process → coord on that connection: it is back and
                                becomes a worker (answered with WELCOME) */
    MSG_WORKER_EXEC = 20,    /* worker → coord: this process exec'd a new program, which took over
                                the connection (or, flag EXEC_LEAVING, one the engine cannot follow) */
    MSG_KV = 21,             /* worker → coord: store (KV_SET, KV_MIN) or ask (KV_GET) a value of
                                the computation's name service; coord → worker: the answer to KV_GET */
    MSG_TYPE_MAX
};

enum proto_role {
    ROLE_WORKER = 1,  /* a process under checkpoint control (launched or restarted) */
    ROLE_COMMAND = 2, /* dmtcp_command and other tools */
};

enum worker_state {
    WSTATE_RUNNING = 1,
    WSTATE_CHECKPOINTING = 2,
    WSTATE_RESTARTING = 3, /* just restored, waiting on the restart barrier */
};

enum barrier_id {
    BARRIER_SUSPENDED = 1,    /* every user thread of every process is parked */
    BARRIER_CHECKPOINTED = 2, /* every image is written and durable */
    BARRIER_RESUMED = 3,      /* every process has let its threads go */
    BARRIER_RESTARTED = 10,   /* every restarted process has its kernel state back */
    BARRIER_REFILLED = 11,    /* every restarted process is ready to resume */
};

struct msg_hello {
    uint32_t role;         /* enum proto_role */
    uint32_t state;        /* enum worker_state (workers only) */
    uint8_t nonce[PROTO_NONCE_LEN]; /* the client's random challenge */
    int32_t vpid;          /* virtual pid (== real pid before any restart) */
    int32_t real_pid;
    uint64_t comp_id;      /* computation id; 0 = new computation */
    uint64_t generation;   /* last checkpoint generation this process saw */
    uint32_t restart_peers; /* restarting: how many processes this restart brings back */
    uint32_t flags;        /* initial status flags (PEER_RESUME_DELAYED …); the engine sends 0 */
    char name[64];         /* program name */
    char host[64];         /* hostname */
};
PROTO_PIN_SIZE(msg_hello, 200);
PROTO_PIN(msg_hello, role, 0);
PROTO_PIN(msg_hello, state, 4);
PROTO_PIN(msg_hello, nonce, 8);
PROTO_PIN(msg_hello, vpid, 40);
PROTO_PIN(msg_hello, real_pid, 44);
PROTO_PIN(msg_hello, comp_id, 48);
PROTO_PIN(msg_hello, generation, 56);
PROTO_PIN(msg_hello, restart_peers, 64);
PROTO_PIN(msg_hello, flags, 68);
PROTO_PIN(msg_hello, name, 72);
PROTO_PIN(msg_hello, host, 136);

/* The coordinator's answer to HELLO: its own nonce, and its proof that it
 * holds the secret, MAC(key, "stasis coordinator v2" || port || client nonce
 * || server nonce) (auth.h). */
struct msg_challenge {
    uint8_t nonce[PROTO_NONCE_LEN];
    uint8_t proof[PROTO_PROOF_LEN];
};
PROTO_PIN_SIZE(msg_challenge, 64);
PROTO_PIN(msg_challenge, nonce, 0);
PROTO_PIN(msg_challenge, proof, 32);

/* The client's answer, once the coordinator's proof checked out:
 * MAC(key, "stasis client v2" || port || client nonce || server nonce). */
struct msg_auth {
    uint8_t proof[PROTO_PROOF_LEN];
};
PROTO_PIN_SIZE(msg_auth, 32);
PROTO_PIN(msg_auth, proof, 0);

struct msg_welcome {
    uint32_t worker_id;   /* coordinator's id for this connection */
    uint32_t interval;    /* checkpoint interval, seconds, 0 = none */
    uint64_t comp_id;     /* computation id (assigned for new computations) */
    uint64_t generation;  /* current checkpoint generation */
};
PROTO_PIN_SIZE(msg_welcome, 24);
PROTO_PIN(msg_welcome, worker_id, 0);
PROTO_PIN(msg_welcome, interval, 4);
PROTO_PIN(msg_welcome, comp_id, 8);
PROTO_PIN(msg_welcome, generation, 16);

enum reject_code {
    REJECT_BAD_SECRET = 1,
    REJECT_BAD_VERSION = 2,
    REJECT_BAD_MESSAGE = 3,
    REJECT_BUSY = 4,       /* e.g. a checkpoint is in progress and a worker tries to join */
};

struct msg_reject {
    uint32_t code;        /* enum reject_code */
    char reason[256];
};
PROTO_PIN_SIZE(msg_reject, 260);
PROTO_PIN(msg_reject, code, 0);
PROTO_PIN(msg_reject, reason, 4);

enum command_code {
    CMD_STATUS = 1,    /* -s */
    CMD_LIST = 2,      /* -l */
    CMD_CKPT = 3,      /* -c: start a checkpoint, reply at once */
    CMD_BCKPT = 4,     /* -bc: reply when the checkpoint is durable (or failed) */
    CMD_KCKPT = 5,     /* -kc: blocking checkpoint, then kill the computation */
    CMD_KILL = 6,      /* -k */
    CMD_QUIT = 7,      /* -q: kill the computation and stop the coordinator */
    CMD_INTERVAL = 8,  /* -i N */
};

struct msg_command {
    uint32_t code;     /* enum command_code */
    uint32_t arg;      /* CMD_INTERVAL: seconds */
};
PROTO_PIN_SIZE(msg_command, 8);
PROTO_PIN(msg_command, code, 0);
PROTO_PIN(msg_command, arg, 4);

struct proto_peer {
    uint32_t worker_id;
    int32_t vpid;
    int32_t real_pid;
    uint32_t state;     /* enum worker_state */
    uint32_t flags;     /* PEER_RESUME_DELAYED … */
    uint32_t reserved;
    char name[64];
    char host[64];
};
PROTO_PIN_SIZE(proto_peer, 152);
PROTO_PIN(proto_peer, worker_id, 0);
PROTO_PIN(proto_peer, vpid, 4);
PROTO_PIN(proto_peer, real_pid, 8);
PROTO_PIN(proto_peer, state, 12);
PROTO_PIN(proto_peer, flags, 16);
PROTO_PIN(proto_peer, reserved, 20);
PROTO_PIN(proto_peer, name, 24);
PROTO_PIN(proto_peer, host, 88);

#define PEER_RESUME_DELAYED 1u

struct msg_command_reply {
    int32_t status;        /* 0 = done; otherwise an errno-like code, see message */
    uint32_t num_peers;
    uint32_t running;      /* 1 when every peer runs (no checkpoint/restart in progress) */
    uint32_t interval;
    uint64_t generation;   /* checkpoints completed so far */
    uint64_t comp_id;
    uint64_t ckpt_bytes;   /* last checkpoint: total bytes written */
    uint64_t ckpt_usec;    /* last checkpoint: wall time */
    uint32_t npeers;       /* peer records following this struct (CMD_LIST) */
    uint32_t reserved;
    char message[512];     /* human-readable result or error */
    /* struct proto_peer peers[npeers]; */
};
PROTO_PIN_SIZE(msg_command_reply, 568);
PROTO_PIN(msg_command_reply, status, 0);
PROTO_PIN(msg_command_reply, num_peers, 4);
PROTO_PIN(msg_command_reply, running, 8);
PROTO_PIN(msg_command_reply, interval, 12);
PROTO_PIN(msg_command_reply, generation, 16);
PROTO_PIN(msg_command_reply, comp_id, 24);
PROTO_PIN(msg_command_reply, ckpt_bytes, 32);
PROTO_PIN(msg_command_reply, ckpt_usec, 40);
PROTO_PIN(msg_command_reply, npeers, 48);
PROTO_PIN(msg_command_reply, reserved, 52);
PROTO_PIN(msg_command_reply, message, 56);

struct msg_do_ckpt {
    uint64_t generation;
    uint32_t flags;        /* reserved */
    uint32_t reserved;
    char ckptdir[1024];    /* coordinator's --ckptdir, or "" = the worker's own */
};
PROTO_PIN_SIZE(msg_do_ckpt, 1040);
PROTO_PIN(msg_do_ckpt, generation, 0);
PROTO_PIN(msg_do_ckpt, flags, 8);
PROTO_PIN(msg_do_ckpt, reserved, 12);
PROTO_PIN(msg_do_ckpt, ckptdir, 16);

struct msg_barrier {
    uint32_t barrier;      /* enum barrier_id */
    uint32_t nprocs;       /* release of SUSPENDED: processes in the checkpoint; else 0 */
    uint64_t generation;
};
PROTO_PIN_SIZE(msg_barrier, 16);
PROTO_PIN(msg_barrier, barrier, 0);
PROTO_PIN(msg_barrier, nprocs, 4);
PROTO_PIN(msg_barrier, generation, 8);

struct msg_ckpt_done {
    int32_t status;        /* 0 = image durable, else errno */
    uint32_t reserved;
    uint64_t generation;
    uint64_t bytes;
    uint64_t usec;
    char path[1024];       /* absolute path of the image */
    char error[512];       /* message when status != 0 */
};
PROTO_PIN_SIZE(msg_ckpt_done, 1568);
PROTO_PIN(msg_ckpt_done, status, 0);
PROTO_PIN(msg_ckpt_done, reserved, 4);
PROTO_PIN(msg_ckpt_done, generation, 8);
PROTO_PIN(msg_ckpt_done, bytes, 16);
PROTO_PIN(msg_ckpt_done, usec, 24);
PROTO_PIN(msg_ckpt_done, path, 32);
PROTO_PIN(msg_ckpt_done, error, 1056);

/* A plugin's named barrier.  Global: every process of the checkpoint (or of
 * the restart, or of the computation when neither runs); local: those of
 * them on the same host. */
enum plugin_barrier_scope { PBARRIER_GLOBAL = 1, PBARRIER_LOCAL = 2 };
struct msg_plugin_barrier {
    uint32_t scope;        /* enum plugin_barrier_scope */
    uint32_t reserved;
    uint64_t generation;
    char name[64];
};
PROTO_PIN_SIZE(msg_plugin_barrier, 80);
PROTO_PIN(msg_plugin_barrier, scope, 0);
PROTO_PIN(msg_plugin_barrier, reserved, 4);
PROTO_PIN(msg_plugin_barrier, generation, 8);
PROTO_PIN(msg_plugin_barrier, name, 16);

/* A restart's processes: dmtcp_restart opens one command connection per
 * image before any image is restored and registers it; the connection is
 * handed to the restart helper and then to the restored process, so the
 * coordinator hears of every failure (MSG_RESTART_FAILED, or the
 * connection closing) and ends the restart instead of waiting for it. */
struct msg_restart_image {
    uint64_t token;        /* random; the same for every image of one restart */
    uint64_t comp_id;      /* from the image's header */
    uint64_t generation;   /* from the image's header */
    int32_t vpid;          /* the image's process, from its header */
    int32_t pid;           /* the process that restores it (becomes it) */
    uint32_t nimages;      /* processes this restart brings back */
    uint32_t index;        /* this image's place among them, from 0 */
    uint32_t timeout;      /* seconds the whole restart may take; 0 = coordinator's default */
    uint32_t reserved;
    char host[64];         /* where pid runs */
    char image[1024];      /* absolute path of the image */
};

struct msg_restart_failed {
    int32_t status;        /* errno-like cause, 0 when none applies */
    uint32_t reserved;
    char reason[768];      /* names the image and what went wrong */
};

struct msg_restart_back {
    int32_t vpid;
    int32_t real_pid;
    uint64_t generation;
    char name[64];         /* program name */
    char host[64];
};

_Static_assert(sizeof(struct msg_restart_image) == 1136, "msg_restart_image is pinned");
_Static_assert(offsetof(struct msg_restart_image, nimages) == 32, "msg_restart_image is pinned");
_Static_assert(offsetof(struct msg_restart_image, host) == 48, "msg_restart_image is pinned");
_Static_assert(offsetof(struct msg_restart_image, image) == 112, "msg_restart_image is pinned");
_Static_assert(sizeof(struct msg_restart_failed) == 776, "msg_restart_failed is pinned");
_Static_assert(offsetof(struct msg_restart_failed, reason) == 8, "msg_restart_failed is pinned");
_Static_assert(sizeof(struct msg_restart_back) == 144, "msg_restart_back is pinned");
_Static_assert(offsetof(struct msg_restart_back, name) == 16, "msg_restart_back is pinned");

/* worker → coord: this process's flags (reserved: 0).  coord → worker,
 * whenever the computation's flags change: the OR of every process's flags
 * in `flags`, and in `closed` how many times PEER_RESUME_DELAYED has gone
 * from set to clear in the computation (a delayed-resume window closed). */
struct msg_worker_status {
    uint32_t flags;        /* PEER_RESUME_DELAYED … */
    uint32_t closed;
};
PROTO_PIN_SIZE(msg_worker_status, 8);
PROTO_PIN(msg_worker_status, flags, 0);
PROTO_PIN(msg_worker_status, closed, 4);

/* MSG_WORKER_EXEC: sent by the new program's engine on the connection it
 * inherited across execve (the process keeps its place in the
 * computation), or by the old program's engine just before an exec the
 * engine cannot follow (flag EXEC_LEAVING: a static or set-user-ID
 * program, which runs outside checkpoint control; the connection then
 * closes). */
#define EXEC_LEAVING 1u
struct msg_worker_exec {
    int32_t real_pid;
    uint32_t flags;        /* EXEC_LEAVING */
    char name[64];         /* the new program's short name */
    char why[128];         /* EXEC_LEAVING: why it cannot be followed */
};
PROTO_PIN_SIZE(msg_worker_exec, 200);
PROTO_PIN(msg_worker_exec, real_pid, 0);
PROTO_PIN(msg_worker_exec, flags, 4);
PROTO_PIN(msg_worker_exec, name, 8);
PROTO_PIN(msg_worker_exec, why, 72);

/* MSG_KV: the coordinator's name service, a table of keys and values
 * that the processes of a computation share during one checkpoint or one
 * restart (the coordinator empties it when either starts).  Plugins elect
 * the owner of a shared object (KV_MIN keeps the smallest value, a
 * little-endian int64) and publish where a recreated object can be found. */
#define KV_SET 1u     /* value replaces the key's */
#define KV_MIN 2u     /* keep the smaller int64 (value[0..8]) */
#define KV_GET 3u     /* ask; the answer is a MSG_KV with op KV_FOUND or KV_MISSING */
#define KV_FOUND 4u
#define KV_MISSING 5u
#define KV_KEY_MAX 64
#define KV_VALUE_MAX 184
struct msg_kv {
    uint32_t op;
    uint32_t len;          /* bytes of value used */
    char key[KV_KEY_MAX];  /* NUL-terminated */
    uint8_t value[KV_VALUE_MAX];
};
PROTO_PIN_SIZE(msg_kv, 256);
PROTO_PIN(msg_kv, op, 0);
PROTO_PIN(msg_kv, len, 4);
PROTO_PIN(msg_kv, key, 8);
PROTO_PIN(msg_kv, value, 72);

/* ---- helpers (proto.c) ---------------------------------------------- */

/* Expected payload size for a type, or -1 when variable (COMMAND_REPLY). */
long proto_payload_size(uint16_t type);

/* Blocking send of one message on fd; 0 or -errno. Safe in the engine's
 * checkpoint path (no malloc, no stdio). */
int proto_send(int fd, uint16_t type, const void *payload, uint32_t len);

/* Blocking receive of one message into buf (capacity cap); returns payload
 * length, or -errno (-EPROTO for a malformed message, -ECONNRESET at EOF). */
long proto_recv(int fd, uint16_t *type, void *buf, uint32_t cap);

/* Validate a header just read: 0 or -EPROTO. */
int proto_check_hdr(const struct proto_hdr *h);

/* TCP connect to host:port with a timeout in ms; returns fd or -errno. */
int proto_connect(const char *host, int port, int timeout_ms);

#endif
