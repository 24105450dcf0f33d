/*
 * manager.c — the engine's manager thread: talks to the coordinator and runs
 * the checkpoint sequence of this process.
 *
 *   DO_CKPT → wait for dmtcp_disable_ckpt sections to end → PRESUSPEND
 *   → park user threads (bounded: threads.c; a checkpoint that cannot park
 *   them all, or that a PRESUSPEND hook failed, is abandoned, and goes
 *   through the barriers without an image)
 *   → barrier SUSPENDED → PRECHECKPOINT → save the manager's own place
 *   (ctx_save) → write image (none if a PRECHECKPOINT hook failed the
 *   checkpoint: it fails as a failed write does) → CKPT_DONE → barrier
 *   CHECKPOINTED → RESUME → release threads → RUNNING → barrier RESUMED.
 *   Forked (STASIS_FORKED_CKPT): after ctx_save a copy-on-write child
 *   writes the image (image_fork.c) while RESUME runs and the threads go
 *   on; CKPT_DONE and what follows wait for the child's result, and so
 *   does dmtcp_checkpoint() in the thread that asked.
 *
 * After a restart the manager comes back out of ctx_save (restore.c): it
 * waits for every thread to be back, drops the helper's mappings, lets the
 * plugins rebuild kernel state (RESTART), reconnects to the coordinator,
 * passes the restart barriers and releases the threads.
 *
 * While user threads are parked nothing here may take a libc lock: only
 * syscall wrappers, snprintf and the mmap-backed buffers of memory.c.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "common/auth.h"
#include "common/proto.h"
#include "common/secret.h"
#include "engine/engine.h"
#include "engine/sys.h"

struct manager_state manager_state = {.coord_fd = -1, .request_fd = -1};
static int manager_ring(void);
static __thread int manager_tls_is_manager; /* set in the manager thread */

static void manager_lost(const char *why)
{
    engine_fds_close(&manager_state.coord_fd);
    manager_state.connected = 0;
    if (!manager_state.lost_warned) {
        manager_state.lost_warned = 1;
        engine_warn("lost contact with the coordinator at %s:%d (%s); %s keeps running, without checkpoints",
                    engine_config.coord_host, engine_config.coord_port, why, engine_config.program);
    }
}

/* The coordinator's token, from the file found when the engine started
 * (a program that changed its environment still finds it), or by the
 * usual rule (secret.h) — remembering the file for the next time. */
void manager_load_secret(void)
{
    struct engine_config *c = &engine_config;
    if (c->secret_path[0] && secret_load_file(c->secret_path, c->secret) == 0)
        return;
    struct secret_where w;
    if (secret_load(c->coord_port, c->secret, &w) < 0) {
        memset(c->secret, 0, sizeof c->secret);
        return;
    }
    snprintf(c->secret_path, sizeof c->secret_path, "%s", w.path);
}

/* Connect and authenticate (auth.h: the coordinator proves it holds this
 * user's secret before anything is obeyed); 0 or -errno (message already
 * printed).  Bounded: connect 5 s, handshake AUTH_HANDSHAKE_MS. */
static int manager_connect(uint32_t state, uint32_t restart_peers)
{
    int fd = proto_connect(engine_config.coord_host, engine_config.coord_port, 5000);
    if (fd < 0) {
        engine_warn("cannot reach the coordinator at %s:%d: %s; %s runs without checkpoints "
                    "(start one with dmtcp_coordinator, or use dmtcp_launch)",
                    engine_config.coord_host, engine_config.coord_port, strerror(-fd), engine_config.program);
        return fd;
    }
    if (engine_fds_own(fd, &manager_state.coord_fd, "coordinator connection") < 0)
        return -EMFILE;
    fd = manager_state.coord_fd;
    struct auth_client a;
    memset(&a, 0, sizeof a);
    a.hello.role = ROLE_WORKER;
    a.hello.state = state;
    a.hello.vpid = services_virtual_pid();
    a.hello.real_pid = sys_getpid();
    a.hello.comp_id = manager_state.comp_id;
    a.hello.generation = manager_state.generation;
    a.hello.restart_peers = restart_peers;
    snprintf(a.hello.name, sizeof a.hello.name, "%.63s", engine_config.program);
    gethostname(a.hello.host, sizeof a.hello.host - 1);
    if (!engine_config.secret[0])
        manager_load_secret(); /* a new process reads it again */
    a.token = engine_config.secret;
    a.port = engine_config.coord_port;
    a.timeout_ms = AUTH_HANDSHAKE_MS;
    int r = auth_client_handshake(fd, &a);
    /* the token is needed for this one handshake: kept no longer, it is
     * not saved in the images */
    auth_wipe(engine_config.secret, sizeof engine_config.secret);
    if (r == AUTH_OK) {
        manager_state.connected = 1;
        manager_state.lost_warned = 0;
        if (!manager_state.comp_id)
            manager_state.comp_id = a.welcome.comp_id;
        return 0;
    }
    char why[1024];
    auth_describe(&a, r, engine_config.coord_host, why, sizeof why);
    engine_warn("%s; %s runs without checkpoints", why, engine_config.program);
    engine_fds_close(&manager_state.coord_fd);
    return -ECONNREFUSED;
}

static void manager_kill_self(void)
{
    sys_call2(SYS_kill, sys_getpid(), SIGKILL);
    for (;;)
        pause();
}

/* One message from the coordinator.  A lost connection is handled (warned
 * once) and reported as -1; MSG_KILL is obeyed here, wherever we wait. */
static long manager_recv(uint16_t *type, void *buf, uint32_t cap)
{
    long n = proto_recv(manager_state.coord_fd, type, buf, cap);
    if (n < 0) {
        manager_lost(n == -ECONNRESET ? "connection closed" : strerror((int)-n));
        return -1;
    }
    if (*type == MSG_KILL)
        manager_kill_self();
    if (*type == MSG_WORKER_STATUS && n == (long)sizeof(struct msg_worker_status)) {
        const struct msg_worker_status *st = buf; /* the computation's flags (wherever we wait) */
        atomic_store(&manager_state.comp_flags, st->flags);
        atomic_store(&manager_state.windows_closed, (int)st->closed);
        sys_futex_wake(&manager_state.windows_closed, 0x7fffffff);
    }
    rejoin_check_message(*type, buf, n); /* the restart this process is part of failed */
    return n;
}

/* Report reaching barrier b and wait for its release.  0, or -1 when the
 * coordinator went away (the checkpoint then finishes locally). */
static int manager_barrier(uint32_t b)
{
    if (!manager_state.connected)
        return -1;
    struct msg_barrier m = {.barrier = b, .generation = manager_state.generation};
    if (proto_send(manager_state.coord_fd, MSG_BARRIER, &m, sizeof m) < 0) {
        manager_lost("send failed");
        return -1;
    }
    for (;;) {
        uint8_t buf[2048];
        uint16_t type;
        long n = manager_recv(&type, buf, sizeof buf);
        if (n < 0)
            return -1;
        if (type == MSG_BARRIER_RELEASE && n == (long)sizeof(struct msg_barrier) &&
            ((struct msg_barrier *)buf)->barrier == b) {
            if (b == BARRIER_SUSPENDED)
                manager_state.ckpt_nprocs = ((struct msg_barrier *)buf)->nprocs;
            return 0;
        }
    }
}

/* While a checkpoint waits (for threads held in the previous handler, or
 * for dmtcp_disable_ckpt sections), the coordinator may still kill us. */
static void manager_poll_kill(void)
{
    if (!manager_state.connected)
        return;
    struct pollfd p = {manager_state.coord_fd, POLLIN, 0};
    if (poll(&p, 1, 0) <= 0)
        return;
    uint8_t buf[2048];
    uint16_t type;
    manager_recv(&type, buf, sizeof buf); /* anything but KILL waits for later */
}

/* A plugin's named barrier (dmtcp.h): only from the manager thread, which
 * runs the checkpoint and restart events and owns the coordinator socket. */
static int manager_plugin_barrier(uint32_t scope, const char *name)
{
    if (!manager_tls_is_manager) {
        engine_warn("dmtcp_%s_barrier(\"%s\") called outside a checkpoint or restart event hook; ignored",
                    scope == PBARRIER_LOCAL ? "local" : "global", name);
        return DMTCP_ERROR;
    }
    if (!manager_state.connected)
        return 0; /* no coordinator: this process is alone */
    struct msg_plugin_barrier m;
    memset(&m, 0, sizeof m);
    m.scope = scope;
    m.generation = manager_state.generation;
    snprintf(m.name, sizeof m.name, "%s", name);
    if (proto_send(manager_state.coord_fd, MSG_PLUGIN_BARRIER, &m, sizeof m) < 0) {
        manager_lost("send failed");
        return 0;
    }
    for (;;) {
        uint8_t buf[2048];
        uint16_t type;
        long n = manager_recv(&type, buf, sizeof buf);
        if (n < 0)
            return 0;
        if (type == MSG_PLUGIN_BARRIER_RELEASE && n == (long)sizeof m &&
            !strncmp(((struct msg_plugin_barrier *)buf)->name, m.name, sizeof m.name))
            return 0;
    }
}

/* ---- the coordinator's name service (MSG_KV), for plugins ------------
 * From the manager thread only, in checkpoint and restart event hooks:
 * the table lives as long as one checkpoint or one restart. */
int manager_kv_put(const char *key, const void *val, uint32_t len, uint32_t op)
{
    if (!manager_tls_is_manager || !manager_state.connected || len > KV_VALUE_MAX || strlen(key) >= KV_KEY_MAX)
        return -1;
    struct msg_kv m;
    memset(&m, 0, sizeof m);
    m.op = op;
    m.len = len;
    memcpy(m.key, key, strlen(key));
    memcpy(m.value, val, len);
    if (proto_send(manager_state.coord_fd, MSG_KV, &m, sizeof m) < 0) {
        manager_lost("send failed");
        return -1;
    }
    return 0;
}

/* The value stored under key: its length, or -1 when there is none (or no
 * coordinator). */
long manager_kv_get(const char *key, void *buf, uint32_t cap)
{
    if (!manager_tls_is_manager || !manager_state.connected || strlen(key) >= KV_KEY_MAX)
        return -1;
    struct msg_kv m;
    memset(&m, 0, sizeof m);
    m.op = KV_GET;
    memcpy(m.key, key, strlen(key));
    if (proto_send(manager_state.coord_fd, MSG_KV, &m, sizeof m) < 0) {
        manager_lost("send failed");
        return -1;
    }
    for (;;) {
        union {
            struct msg_kv kv;
            uint8_t raw[2048];
        } u;
        uint16_t type;
        long n = manager_recv(&type, &u, sizeof u);
        if (n < 0)
            return -1;
        if (type != MSG_KV || n != (long)sizeof u.kv || strncmp(u.kv.key, m.key, sizeof m.key))
            continue;
        if (u.kv.op != KV_FOUND)
            return -1;
        uint32_t len = u.kv.len < cap ? u.kv.len : cap;
        memcpy(buf, u.kv.value, len);
        return (long)len;
    }
}

/* The engine's plugins name an object by kind and number ("pr:INODE"). */
void manager_kv_name(char *out, const char *kind, uint64_t id)
{
    snprintf(out, KV_KEY_MAX, "%s:%llu", kind, (unsigned long long)id);
}

/* KV_MIN of v under kind:id (an election: the smallest value wins). */
void manager_kv_min(const char *kind, uint64_t id, int64_t v)
{
    char k[KV_KEY_MAX];
    manager_kv_name(k, kind, id);
    manager_kv_put(k, &v, sizeof v, KV_MIN);
}

/* The number stored under kind:id, 0 when there is none. */
int64_t manager_kv_get_int(const char *kind, uint64_t id)
{
    char k[KV_KEY_MAX];
    int64_t v = 0;
    manager_kv_name(k, kind, id);
    return manager_kv_get(k, &v, sizeof v) == (long)sizeof v ? v : 0;
}

/* DMTCP's form: the key is id and key's bytes (hex), at most 63 characters. */
static int manager_kv_key(char out[KV_KEY_MAX], const char *id, const void *key, uint32_t key_len)
{
    size_t o = (size_t)snprintf(out, KV_KEY_MAX, "u:%s:", id ? id : "");
    if (o + 2 * (size_t)key_len >= KV_KEY_MAX)
        return -1;
    for (uint32_t i = 0; i < key_len; i++)
        o += (size_t)snprintf(out + o, KV_KEY_MAX - o, "%02x", ((const uint8_t *)key)[i]);
    return 0;
}

ENGINE_API int dmtcp_send_key_val_pair_to_coordinator(const char *id, const void *key, uint32_t key_len,
                                                      const void *val, uint32_t val_len)
{
    char k[KV_KEY_MAX];
    if (manager_kv_key(k, id, key, key_len) < 0)
        return 0;
    return manager_kv_put(k, val, val_len, KV_SET) == 0;
}

ENGINE_API int dmtcp_send_query_to_coordinator(const char *id, const void *key, uint32_t key_len, void *val,
                                               uint32_t *val_len)
{
    char k[KV_KEY_MAX];
    if (!val_len || manager_kv_key(k, id, key, key_len) < 0)
        return 0;
    long n = manager_kv_get(k, val, *val_len);
    if (n < 0)
        return 0;
    *val_len = (uint32_t)n;
    return 1;
}

/* The computation's status flags (the OR of every process's
 * dmtcp_set_status_flags) and how many delayed-resume windows have closed
 * in it, as the coordinator last said. */
ENGINE_API int dmtcp_get_computation_status(unsigned *flags, unsigned *windows_closed)
{
    if (flags)
        *flags = atomic_load(&manager_state.comp_flags);
    if (windows_closed)
        *windows_closed = (unsigned)atomic_load(&manager_state.windows_closed);
    return 1;
}

/* Wait (any thread, no CPU) until more than `seen` windows have closed:
 * 0, or DMTCP_ERROR after timeout_ms (< 0: no bound) or without a
 * coordinator. */
ENGINE_API int dmtcp_wait_windows_closed(unsigned seen, long timeout_ms)
{
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        int cur = atomic_load(&manager_state.windows_closed);
        if ((unsigned)cur > seen)
            return 0;
        if (!manager_state.connected)
            return DMTCP_ERROR;
        struct timespec slice = {0, 200 * 1000 * 1000}; /* re-check the connection now and then */
        if (timeout_ms >= 0) {
            clock_gettime(CLOCK_MONOTONIC, &now);
            long left = timeout_ms - ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000);
            if (left <= 0)
                return DMTCP_ERROR;
            if (left < 200)
                slice.tv_nsec = left * 1000000L;
        }
        sys_futex_wait(&manager_state.windows_closed, cur, &slice);
    }
}

ENGINE_API int dmtcp_global_barrier(const char *name)
{
    return manager_plugin_barrier(PBARRIER_GLOBAL, name);
}

ENGINE_API int dmtcp_local_barrier(const char *name)
{
    return manager_plugin_barrier(PBARRIER_LOCAL, name);
}

/* ---- exec: handing the connection over to the next program ------------
 * A thread about to exec (spawn.c) asks the manager to let go of the
 * coordinator connection: the manager, idle between checkpoints, stops
 * reading it (a DO_CKPT that arrives meanwhile stays in the socket for the
 * next program's engine) and waits until the exec fails — the thread then
 * gives it back — or the process image is gone.  A manager inside a
 * checkpoint says no: the thread lets the checkpoint run and asks again. */
#define MANAGER_DETACH_ASKED 1
#define MANAGER_DETACH_GRANTED 2
#define MANAGER_DETACH_REFUSED 3

static void manager_answer_detach(int answer)
{
    atomic_store(&manager_state.want_detach, 0);
    atomic_store(&manager_state.detach_state, answer);
    sys_futex_wake(&manager_state.detach_state, 0x7fffffff);
}

static void manager_refuse_detach(void)
{
    if (atomic_load(&manager_state.want_detach))
        manager_answer_detach(MANAGER_DETACH_REFUSED);
}

/* In the manager's idle loop: grant, and wait for the connection back. */
static void manager_serve_detach(void)
{
    if (!atomic_load(&manager_state.want_detach))
        return;
    manager_answer_detach(MANAGER_DETACH_GRANTED);
    /* bounded by the execve itself: it replaces the process or fails, and
     * then the thread gives the connection back; said if it lasts */
    struct timespec slice = {10, 0};
    int said = 0;
    while (atomic_load(&manager_state.detach_state) == MANAGER_DETACH_GRANTED)
        if (sys_futex_wait(&manager_state.detach_state, MANAGER_DETACH_GRANTED, &slice) == -ETIMEDOUT && !said++)
            engine_warn("an exec in %s has not completed after 10 s; checkpoints of this process wait for it",
                        engine_config.program);
}

/* From the exec'ing thread (inside api_gate_enter): 0 once the manager no
 * longer reads the connection, -EBUSY while a checkpoint runs, -ETIMEDOUT
 * when the manager did not answer within 10 s, -ENOTCONN without one. */
int manager_detach_for_exec(void)
{
    if (!manager_state.connected)
        return -ENOTCONN;
    atomic_store(&manager_state.detach_state, MANAGER_DETACH_ASKED);
    atomic_store(&manager_state.want_detach, 1);
    manager_ring();
    struct timespec ts = {0, 100 * 1000 * 1000};
    for (int i = 0; i < 100; i++) {
        int st = atomic_load(&manager_state.detach_state);
        if (st == MANAGER_DETACH_GRANTED)
            return 0;
        if (st == MANAGER_DETACH_REFUSED)
            return -EBUSY;
        sys_futex_wait(&manager_state.detach_state, st, &ts);
    }
    atomic_store(&manager_state.want_detach, 0);
    if (atomic_load(&manager_state.detach_state) == MANAGER_DETACH_GRANTED)
        return 0;
    atomic_store(&manager_state.detach_state, 0);
    return -ETIMEDOUT;
}

/* The exec failed: the manager takes the connection back. */
void manager_reattach(void)
{
    atomic_store(&manager_state.detach_state, 0);
    sys_futex_wake(&manager_state.detach_state, 0x7fffffff);
}

/* The connection inherited across exec (spawn.c): it is already
 * authenticated; tell the coordinator which program runs now. */
int manager_adopt_connection(int fd)
{
    if (engine_fds_own(fd, &manager_state.coord_fd, "coordinator connection") < 0)
        return -EMFILE;
    manager_state.connected = 1;
    struct msg_worker_exec m;
    memset(&m, 0, sizeof m);
    m.real_pid = sys_getpid();
    snprintf(m.name, sizeof m.name, "%.63s", engine_config.program);
    if (proto_send(manager_state.coord_fd, MSG_WORKER_EXEC, &m, sizeof m) < 0) {
        manager_lost("send failed");
        return -EPIPE;
    }
    return 0;
}

/* Just before an exec the engine cannot follow (spawn.c): say so; the
 * connection closes with the exec. */
void manager_say_leaving(const char *name, const char *why)
{
    if (!manager_state.connected)
        return;
    struct msg_worker_exec m;
    memset(&m, 0, sizeof m);
    m.real_pid = sys_getpid();
    m.flags = EXEC_LEAVING;
    snprintf(m.name, sizeof m.name, "%.63s", name);
    snprintf(m.why, sizeof m.why, "%.127s", why);
    proto_send(manager_state.coord_fd, MSG_WORKER_EXEC, &m, sizeof m);
}

/* A forked child (spawn.c), single-threaded: the parent's manager thread
 * and its connection are not here.  The child starts its own, as a new
 * process of the computation, keeping the computation id and generation.
 * Sections the forking thread had open stay open; everything else the
 * parent's threads held is gone with them. */
void manager_after_fork_child(int open_sections)
{
    manager_state.coord_fd = -1;
    manager_state.request_fd = -1;
    manager_state.connected = 0;
    manager_state.lost_warned = 0;
    atomic_store(&manager_state.suspending, 0);
    atomic_store(&manager_state.disable_count, open_sections);
    atomic_store(&manager_state.holds, 0);
    manager_state.hold_owner = 0;
    atomic_store(&manager_state.want_checkpoint, 0);
    atomic_store(&manager_state.want_status, 0);
    atomic_store(&manager_state.want_detach, 0);
    atomic_store(&manager_state.detach_state, 0);
    atomic_store(&manager_state.status_flags, 0);
    manager_state.num_checkpoints = 0;
    manager_state.num_restarts = 0;
    image_forget_name(); /* (it named the parent's image) */
}

/* A wait the program itself asked for: checkpoints held back by
 * dmtcp_disable_ckpt() sections or a delayed-resume window (whose threads
 * are still in the previous checkpoint's handler).  It lasts as long as the
 * program wants — that is what the calls promise — but the coordinator can
 * still kill the process, and past STASIS_SUSPEND_TIMEOUT the wait is said. */
static void manager_wait_holds(int *counter, int is_hold, uint64_t generation, const char *who)
{
    struct timespec ts = {0, 50 * 1000 * 1000}, start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    int said = 0;
    for (;;) {
        int n = atomic_load(counter);
        if (n <= 0)
            break;
        sys_futex_wait(counter, n, &ts);
        engine_fds_serve();
        manager_poll_kill();
        manager_refuse_detach();
        clock_gettime(CLOCK_MONOTONIC, &now);
        int64_t ms = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
        if (!said && ms >= engine_config.suspend_timeout_ms) {
            said = 1;
            engine_warn("checkpoint %llu of %s waits for %s; it goes on when %s", (unsigned long long)generation,
                        engine_config.program, who,
                        is_hold ? "the program calls dmtcp_enable_ckpt() or releases the hold"
                                : "the window closes (dmtcp_checkpoint_unblock_resume)");
        }
    }
}

static void manager_wait_no_disable(uint64_t generation)
{
    manager_wait_holds(&threads_state.in_handler, 0, generation,
                       "threads still held after the previous checkpoint (a delayed-resume window)");
    atomic_store(&manager_state.suspending, 1); /* no new dmtcp_disable_ckpt() sections from now on */
    manager_wait_holds(&manager_state.disable_count, 1, generation,
                       "a dmtcp_disable_ckpt() section or a checkpoint hold to end");
}

/* Threads may enter dmtcp_disable_ckpt() sections again. */
static void manager_open_gate(void)
{
    atomic_store(&manager_state.suspending, 0);
    sys_futex_wake(&manager_state.suspending, 0x7fffffff);
}

/* The checkpoint (or restart) is over: wake dmtcp_checkpoint() callers. */
static void manager_after_event(int failed)
{
    manager_state.last_failed = failed;
    atomic_fetch_add(&manager_state.event_seq, 1);
    sys_futex_wake(&manager_state.event_seq, 0x7fffffff);
    manager_open_gate();
}

static void manager_restarted(void)
{
    int n = 0;
    for (int i = 0; i < threads_state.nrecs; i++)
        n += threads_state.recs[i].in_use != 0;
    restore_wait_threads(n);
    struct restart_info *ri = &restore_state.info;
    if (ri->scratch_size)
        munmap((void *)(uintptr_t)ri->scratch_start, ri->scratch_size);
    if (ri->helper_end > ri->helper_start)
        munmap((void *)(uintptr_t)ri->helper_start, ri->helper_end - ri->helper_start);
    if (ri->coord_host[0]) {
        if (ri->coord_port != engine_config.coord_port)
            engine_config.secret_path[0] = 0; /* another coordinator: found again by its port */
        snprintf(engine_config.coord_host, sizeof engine_config.coord_host, "%s", ri->coord_host);
        engine_config.coord_port = ri->coord_port;
        memcpy(engine_config.secret, ri->secret, sizeof engine_config.secret);
    }
    auth_wipe(ri->secret, sizeof ri->secret);
    if (ri->ckptdir[0])
        snprintf(engine_config.ckptdir, sizeof engine_config.ckptdir, "%s", ri->ckptdir);
    engine_config.quiet = ri->quiet;
    manager_state.coord_fd = -1;
    manager_state.connected = 0;
    manager_state.lost_warned = 0;
    engine_fds_own(eventfd(0, EFD_CLOEXEC), &manager_state.request_fd, "doorbell (eventfd)");
    dmtcp_event_data_t data = {.is_restart = 1, .generation = manager_state.generation};
    sections_load(ri);
    image_file_sweep(image_current_path()); /* what a writer killed before this restart left */
    /* connect first (the socket goes above every user fd), so RESTART hooks
     * can use plugin barriers with the other restarted processes; the
     * connection is the one dmtcp_restart registered for this image */
    int alone = ri->restart_peers <= 1;
    int connected = ri->coord_fd >= 0 ? rejoin_coordinator(ri->coord_fd) == 0
                                      : manager_connect(WSTATE_RESTARTING, alone ? 1 : ri->restart_peers) == 0;
    /* the connection dmtcp_restart registered was authenticated by it: the
     * token is not needed here either, and must not reach the next image */
    auth_wipe(engine_config.secret, sizeof engine_config.secret);
    if (!connected && !alone)
        rejoin_abort("cannot reach the coordinator, which the other processes of the restart wait for");
    plugin_dispatch(DMTCP_EVENT_RESTART, &data);
    if (connected && (manager_barrier(BARRIER_RESTARTED) < 0 || manager_barrier(BARRIER_REFILLED) < 0) &&
        !alone)
        rejoin_abort("lost contact with the coordinator before every process of the restart was back");
    manager_state.num_restarts++;
}

/* The threads could not all be parked (threads.c has let the parked ones
 * go again): say why, here and to the coordinator, which fails the
 * checkpoint; pass its barriers so that it can finish; the program runs on.
 * No image is written and the previous one stays. */
static void manager_abandon(uint64_t generation, int err, const char *why)
{
    engine_warn("checkpoint %llu of %s abandoned: %s; the program runs on and the previous image is untouched",
                (unsigned long long)generation, engine_config.program, why);
    struct msg_ckpt_done d;
    memset(&d, 0, sizeof d);
    d.status = err;
    d.generation = generation;
    snprintf(d.error, sizeof d.error, "checkpoint abandoned: %.480s", why);
    if (manager_state.connected && proto_send(manager_state.coord_fd, MSG_CKPT_DONE, &d, sizeof d) < 0)
        manager_lost("send failed");
    manager_barrier(BARRIER_SUSPENDED);
    manager_barrier(BARRIER_CHECKPOINTED);
    manager_state.last_was_restart = 0;
    manager_after_event(1);
    dmtcp_event_data_t data = {.is_restart = 0, .generation = generation};
    plugin_dispatch(DMTCP_EVENT_RUNNING, &data);
    manager_barrier(BARRIER_RESUMED);
}

/* The directory a coordinator names in DO_CKPT is used only when it is an
 * absolute path without "." or ".." components (the coordinator sends its
 * --ckptdir through realpath): a relative one would land wherever the
 * program's working directory happens to be.  1 (with the reason in why)
 * when refused.  No libc lock: threads may be parked. */
static int manager_ckptdir_refused(const char *dir, char *why, size_t cap)
{
    if (dir[0] != '/') {
        snprintf(why, cap, "the coordinator's checkpoint directory '%.300s' is not an absolute path; "
                 "refused (it would depend on the program's working directory)", dir);
        return 1;
    }
    for (const char *p = dir; *p;) {
        while (*p == '/')
            p++;
        size_t n = strcspn(p, "/");
        if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.')) {
            snprintf(why, cap, "the coordinator's checkpoint directory '%.300s' has a '.' or '..' "
                     "component; refused", dir);
            return 1;
        }
        p += n;
    }
    return 0;
}

static void manager_checkpoint(uint64_t generation, const char *coord_dir)
{
    dmtcp_event_data_t data = {.is_restart = 0, .generation = generation};
    manager_state.generation = generation;
    restore_lazy_wait(); /* a lazy restart's memory must be all in first */
    manager_wait_no_disable(generation);
    plugin_failure_reset();
    plugin_dispatch_reverse(DMTCP_EVENT_PRESUSPEND, &data);
    char why[480];
    if (plugin_failure(why, sizeof why)) { /* no thread has been touched yet */
        manager_abandon(generation, ECANCELED, why);
        return;
    }
    int rc = threads_suspend_all(manager_poll_kill, why, sizeof why);
    if (rc < 0) {
        manager_abandon(generation, -rc, why);
        return;
    }
    manager_barrier(BARRIER_SUSPENDED);
    sections_begin();
    plugin_dispatch_reverse(DMTCP_EVENT_PRECHECKPOINT, &data);
    services_family(&manager_state.family[0], &manager_state.family[1], &manager_state.family[2]);
    struct thread_rec *me;
    threads_save_manager(&me);
    int failed = 0, released = 0;
    if (ctx_save(&me->ctx) == 0) {
        static struct image_result res;
        const char *dir = coord_dir[0] ? coord_dir : engine_config.ckptdir;
        struct image_fork fk;
        int rc;
        char path[1024];
        snprintf(path, sizeof path, "%s", image_current_path_in(dir));
        delta_prepare(path, generation);
        if (plugin_failure(res.error, sizeof res.error)) {
            /* a PRECHECKPOINT hook failed it: no image, and the rest as
             * when writing one fails (RESUME, release, RUNNING) */
            rc = -ECANCELED;
            res.path[0] = 0;
            res.bytes = res.usec = 0;
        } else if (coord_dir[0] && manager_ckptdir_refused(coord_dir, res.error, sizeof res.error)) {
            rc = -EINVAL;
            res.path[0] = 0;
            res.bytes = res.usec = 0;
        } else if (engine_config.forked && (rc = image_fork_start(generation, dir, &fk)) == 0) {
            /* the snapshot exists: the program goes on while it is written
             * (a process that exits meanwhile waits for the report first:
             * it was part of the cut, its image must complete) */
            manager_state.writer_owner = sys_getpid();
            manager_state.writer_pid = fk.pid;
            atomic_store(&manager_state.writer_pending, 1);
            plugin_dispatch(DMTCP_EVENT_RESUME, &data);
            threads_release_all();
            manager_open_gate();
            released = 1;
            rc = image_fork_finish(&fk, &res);
        } else {
            if (engine_config.forked)
                engine_warn("checkpoint %llu: cannot start the image writer process (%s); writing the image "
                            "from the stopped program instead",
                            (unsigned long long)generation, strerror(-rc));
            rc = image_write(generation, dir, &res);
        }
        delta_after(rc == 0, &res, generation);
        struct msg_ckpt_done d;
        memset(&d, 0, sizeof d);
        d.status = rc < 0 ? -rc : 0;
        d.generation = generation;
        d.bytes = res.bytes;
        d.usec = res.usec;
        snprintf(d.path, sizeof d.path, "%.1023s", res.path);
        snprintf(d.error, sizeof d.error, "%.511s", res.error);
        if (rc < 0) {
            failed = 1;
            engine_warn("checkpoint %llu failed: %s; the program keeps running and the previous image is "
                        "untouched",
                        (unsigned long long)generation, res.error);
        } else {
            manager_state.num_checkpoints++;
        }
        if (manager_state.connected && proto_send(manager_state.coord_fd, MSG_CKPT_DONE, &d, sizeof d) < 0)
            manager_lost("send failed");
        if (atomic_exchange(&manager_state.writer_pending, 0))
            sys_futex_wake(&manager_state.writer_pending, 0x7fffffff);
        manager_barrier(BARRIER_CHECKPOINTED);
        data.is_restart = 0;
        if (!released)
            plugin_dispatch(DMTCP_EVENT_RESUME, &data);
    } else {
        delta_after_restart();
        manager_restarted();
        data.is_restart = 1;
    }
    manager_state.last_was_restart = data.is_restart;
    manager_after_event(failed);
    if (!released)
        threads_release_all();
    plugin_dispatch(DMTCP_EVENT_RUNNING, &data);
    sections_end();
    if (!data.is_restart)
        manager_barrier(BARRIER_RESUMED);
}

static uint64_t manager_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A process that exits (exit, _exit, return from main) while its forked
 * writer is still writing the image of a checkpoint that includes it: the
 * exit waits until the manager has reported that image, or the writer
 * would die with the process (PR_SET_PDEATHSIG) and the checkpoint fail.
 * Bounded: a writer that does not finish in STASIS_EXIT_WRITER_WAIT
 * seconds (default 300) is given up, with a message. */
void manager_wait_writer_before_exit(void)
{
    if (!atomic_load(&manager_state.writer_pending) || manager_state.writer_owner != sys_getpid() ||
        manager_tls_is_manager)
        return;
    long limit_s = engine_config.exit_writer_wait_s;
    uint64_t end = manager_now_ns() + (uint64_t)limit_s * 1000000000ull;
    while (atomic_load(&manager_state.writer_pending)) {
        uint64_t now = manager_now_ns();
        if (now >= end) {
            engine_warn("exiting without the image of checkpoint %llu: its writer (process %d) did not "
                        "finish within %ld s (STASIS_EXIT_WRITER_WAIT); that checkpoint fails",
                        (unsigned long long)manager_state.generation, (int)manager_state.writer_pid, limit_s);
            return;
        }
        uint64_t left = end - now;
        struct timespec ts = {.tv_sec = (time_t)(left / 1000000000ull), .tv_nsec = (long)(left % 1000000000ull)};
        sys_futex_wait(&manager_state.writer_pending, 1, &ts);
    }
}

static void manager_handle(uint16_t type, const void *buf, long n)
{
    if (type == MSG_DO_CKPT && n == (long)sizeof(struct msg_do_ckpt)) {
        const struct msg_do_ckpt *m = buf;
        char dir[1024];
        memcpy(dir, m->ckptdir, sizeof dir);
        dir[sizeof dir - 1] = 0;
        manager_checkpoint(m->generation, dir);
    }
}

static void *manager_main(void *arg)
{
    (void)arg;
    uint64_t all = ~0ull; /* the checkpoint signal too: raw, past the engine's filter */
    sys_call4(SYS_rt_sigprocmask, SIG_SETMASK, &all, NULL, 8);
    prctl(PR_SET_NAME, "stasis:ckpt");
    manager_tls_is_manager = 1;
    for (;;) {
        engine_fds_serve(); /* here the manager holds no descriptor number: its own may move */
        struct pollfd p[2] = {{manager_state.request_fd, POLLIN, 0}, {manager_state.coord_fd, POLLIN, 0}};
        int np = manager_state.connected ? 2 : 1;
        if (poll(p, (nfds_t)np, -1) < 0)
            continue;
        if (p[0].revents & POLLIN) {
            uint64_t v;
            if (read(manager_state.request_fd, &v, sizeof v) == (ssize_t)sizeof v) {
                manager_serve_detach(); /* first: a DO_CKPT waiting now is the next program's */
                if (atomic_exchange(&manager_state.want_status, 0) && manager_state.connected) {
                    struct msg_worker_status st = {.flags = atomic_load(&manager_state.status_flags),
                                                   .closed = atomic_load(&manager_state.local_closed)};
                    if (proto_send(manager_state.coord_fd, MSG_WORKER_STATUS, &st, sizeof st) < 0)
                        manager_lost("send failed");
                }
                if (atomic_exchange(&manager_state.want_checkpoint, 0) &&
                    (!manager_state.connected ||
                     proto_send(manager_state.coord_fd, MSG_CKPT_REQUEST, NULL, 0) < 0))
                    manager_after_event(1);
            }
        }
        if (np == 2 && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
            uint8_t buf[4096];
            uint16_t type;
            long n = manager_recv(&type, buf, sizeof buf);
            if (n >= 0)
                manager_handle(type, buf, n);
        }
    }
    return NULL;
}

static void manager_wake(void);

/* joined (if not NULL) runs once the connection is made or has failed,
 * before the manager thread exists: a new process tells its parent it has
 * joined there, while nothing can park it yet (a checkpoint it is admitted
 * to waits for the parent, which waits for this word). */
int manager_start(void (*joined)(void *), void *arg)
{
    engine_fds_set_waker(manager_wake);
    engine_fds_own(eventfd(0, EFD_CLOEXEC), &manager_state.request_fd, "doorbell (eventfd)");
    if (!manager_state.connected)
        manager_connect(WSTATE_RUNNING, 0);
    if (joined)
        joined(arg);
    pthread_t th;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    /* The manager must never take one of the program's signals: it starts
     * with every signal blocked (a thread inherits its creator's mask), not
     * just blocks them once it runs — until then a process-directed signal
     * could be handed to it. */
    uint64_t all = ~0ull, old = 0;
    sys_call4(SYS_rt_sigprocmask, SIG_SETMASK, &all, &old, 8);
    int rc = events_engine_thread_create(&th, &at, manager_main, NULL);
    sys_call4(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, 8);
    pthread_attr_destroy(&at);
    return -rc;
}

/* Other threads never write to the coordinator socket themselves: they set
 * a flag and ring the manager's doorbell (an eventfd). */
static int manager_ring(void)
{
    uint64_t one = 1;
    long n = engine_fds_write(&manager_state.request_fd, &one, sizeof one);
    return n == (long)sizeof one ? 0 : n < 0 ? (int)n : -EIO;
}

static void manager_wake(void)
{
    manager_ring();
}

int manager_request_checkpoint(void)
{
    atomic_store(&manager_state.want_checkpoint, 1);
    return manager_ring();
}

void manager_set_status_flags(uint32_t flags)
{
    uint32_t old = atomic_exchange(&manager_state.status_flags, flags);
    if ((old & PEER_RESUME_DELAYED) && !(flags & PEER_RESUME_DELAYED))
        atomic_fetch_add(&manager_state.local_closed, 1); /* counted, so no quick open+close is missed */
    atomic_store(&manager_state.want_status, 1);
    manager_ring();
}
