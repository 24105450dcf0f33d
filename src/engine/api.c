/*
 * api.c — the dmtcp.h functions, as the engine provides them.
 *
 * The header wraps each call in a macro that checks the weak symbol, so these
 * only run under the engine.  Names are DMTCP's; the header's macros must be
 * undone here to define the functions themselves.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "common/auth.h"
#include "common/proto.h"
#include "common/secret.h"
#include "engine/engine.h"
#include "engine/sys.h"

#undef dmtcp_is_enabled
#undef dmtcp_checkpoint
#undef dmtcp_disable_ckpt
#undef dmtcp_enable_ckpt
#undef dmtcp_get_coordinator_status
#undef dmtcp_get_local_status
#undef dmtcp_get_ckpt_filename

static __thread int api_disable_depth; /* this thread's dmtcp_disable_ckpt nesting */

ENGINE_API int dmtcp_is_enabled(void)
{
    return 1;
}

ENGINE_API int dmtcp_checkpoint(void)
{
    if (api_disable_depth > 0 ||
        (atomic_load(&manager_state.holds) > 0 && manager_state.hold_owner == threads_current_vtid())) {
        /* waiting here would wait for ourselves: ask, and let it run as soon
         * as this thread calls dmtcp_enable_ckpt() */
        engine_warn("dmtcp_checkpoint() called while this thread holds checkpoints back "
                    "(dmtcp_disable_ckpt or a delayed-resume window); the checkpoint will run once it "
                    "lets go, and this call returns DMTCP_ERROR now");
        if (manager_state.connected)
            manager_request_checkpoint();
        return DMTCP_ERROR;
    }
    if (!manager_state.connected) {
        engine_warn("dmtcp_checkpoint(): no coordinator connection, so no checkpoint");
        return DMTCP_ERROR;
    }
    int seq = atomic_load(&manager_state.event_seq);
    int restarts = manager_state.num_restarts;
    if (manager_request_checkpoint() < 0)
        return DMTCP_ERROR;
    while (atomic_load(&manager_state.event_seq) == seq)
        sys_futex_wait(&manager_state.event_seq, seq, NULL);
    if (manager_state.num_restarts != restarts)
        return DMTCP_AFTER_RESTART;
    return manager_state.last_failed ? DMTCP_ERROR : DMTCP_AFTER_CHECKPOINT;
}

ENGINE_API int dmtcp_disable_ckpt(void)
{
    for (;;) {
        while (atomic_load(&manager_state.suspending))
            sys_futex_wait(&manager_state.suspending, 1, NULL);
        atomic_fetch_add(&manager_state.disable_count, 1);
        if (!atomic_load(&manager_state.suspending))
            break;
        atomic_fetch_sub(&manager_state.disable_count, 1);
        sys_futex_wake(&manager_state.disable_count, 1);
    }
    api_disable_depth++;
    return 1;
}

/* The engine's own sections during which no checkpoint may start (fork
 * until the child has joined, exec until the connection is handed over):
 * dmtcp_disable_ckpt's gate, without the thread's nesting count. */
void api_gate_enter(void)
{
    for (;;) {
        while (atomic_load(&manager_state.suspending))
            sys_futex_wait(&manager_state.suspending, 1, NULL);
        atomic_fetch_add(&manager_state.disable_count, 1);
        if (!atomic_load(&manager_state.suspending))
            return;
        atomic_fetch_sub(&manager_state.disable_count, 1);
        sys_futex_wake(&manager_state.disable_count, 1);
    }
}

void api_gate_leave(void)
{
    if (atomic_fetch_sub(&manager_state.disable_count, 1) == 1)
        sys_futex_wake(&manager_state.disable_count, 1);
}

/* In a forked child: only the forking thread's own sections are still open. */
int api_thread_disable_depth(void)
{
    return api_disable_depth;
}

ENGINE_API int dmtcp_enable_ckpt(void)
{
    if (api_disable_depth <= 0) {
        engine_warn("dmtcp_enable_ckpt() without a matching dmtcp_disable_ckpt(); ignored");
        return DMTCP_ERROR;
    }
    api_disable_depth--;
    if (atomic_fetch_sub(&manager_state.disable_count, 1) == 1)
        sys_futex_wake(&manager_state.disable_count, 1);
    return 1;
}

/* Checkpoints held back on behalf of the calling thread, releasable by any
 * thread (a plugin's timeout, say): the plugin API's form of
 * dmtcp_disable_ckpt, which is bound to the thread that called it. */
ENGINE_API int dmtcp_hold_checkpoints(void)
{
    atomic_fetch_add(&manager_state.disable_count, 1);
    manager_state.hold_owner = threads_current_vtid();
    atomic_fetch_add(&manager_state.holds, 1);
    return 1;
}

ENGINE_API int dmtcp_release_checkpoints(void)
{
    int h = atomic_load(&manager_state.holds);
    do {
        if (h <= 0) {
            engine_warn("dmtcp_release_checkpoints() without a hold; ignored");
            return DMTCP_ERROR;
        }
    } while (!atomic_compare_exchange_weak(&manager_state.holds, &h, h - 1));
    if (h == 1)
        manager_state.hold_owner = 0;
    if (atomic_fetch_sub(&manager_state.disable_count, 1) == 1)
        sys_futex_wake(&manager_state.disable_count, 1);
    return 1;
}

ENGINE_API int dmtcp_get_coordinator_status(int *num_peers, int *is_running)
{
    int fd = proto_connect(engine_config.coord_host, engine_config.coord_port, 2000);
    if (fd < 0)
        return DMTCP_ERROR;
    struct auth_client a;
    memset(&a, 0, sizeof a);
    a.hello.role = ROLE_COMMAND;
    a.hello.vpid = a.hello.real_pid = (int32_t)getpid();
    snprintf(a.hello.name, sizeof a.hello.name, "%.63s", engine_config.program);
    char token[SECRET_TOKEN_SIZE] = "";
    secret_load(engine_config.coord_port, token, NULL); /* the engine keeps no token */
    a.token = token;
    a.port = engine_config.coord_port;
    a.timeout_ms = 2000;
    struct msg_command c = {.code = CMD_STATUS};
    union {
        struct msg_command_reply r;
        uint8_t raw[4096];
    } u;
    uint16_t type = 0;
    struct timeval tv = {.tv_sec = 2};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    int authenticated = auth_client_handshake(fd, &a) == AUTH_OK;
    auth_wipe(token, sizeof token);
    int ok = authenticated && proto_send(fd, MSG_COMMAND, &c, sizeof c) == 0 &&
             proto_recv(fd, &type, &u, sizeof u) >= (long)sizeof u.r && type == MSG_COMMAND_REPLY;
    close(fd);
    if (!ok)
        return DMTCP_ERROR;
    if (num_peers)
        *num_peers = (int)u.r.num_peers;
    if (is_running)
        *is_running = (int)u.r.running;
    return 1;
}

ENGINE_API int dmtcp_get_local_status(int *num_checkpoints, int *num_restarts)
{
    if (num_checkpoints)
        *num_checkpoints = manager_state.num_checkpoints;
    if (num_restarts)
        *num_restarts = manager_state.num_restarts;
    return 1;
}

ENGINE_API int dmtcp_set_status_flags(unsigned flags)
{
    manager_set_status_flags(flags);
    return 1;
}

ENGINE_API const char *dmtcp_get_ckpt_filename(void)
{
    return image_current_path();
}

ENGINE_API uint32_t dmtcp_get_generation(void)
{
    return (uint32_t)manager_state.generation;
}
