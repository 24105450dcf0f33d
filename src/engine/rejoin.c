/*
 * rejoin.c — a restarted process back with the coordinator.
 *
 * dmtcp_restart registered this process's image with the coordinator on a
 * connection of its own (MSG_RESTART_IMAGE) and handed it through the
 * restart helper (restart_info.coord_fd).  The restored process takes it
 * over: it says MSG_RESTART_BACK and, once welcomed, uses it as its
 * coordinator connection.  Until the restart's last barrier the
 * coordinator may answer MSG_RESTART_FAILED instead (another image could
 * not be restored, a process of the restart died, the time limit passed):
 * the process then exits with status 4 and the reason, without the program
 * running again — a partial restart never runs.  docs/protocol.md has the
 * sequence.
 */
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "common/proto.h"
#include "engine/engine.h"
#include "engine/sys.h"

#define REJOIN_FAILED_STATUS 4 /* dmtcp_restart's status for a restart that could not complete */
#define REJOIN_REPLY_MS 10000  /* the coordinator answers MSG_RESTART_BACK at once */

void rejoin_abort(const char *why)
{
    char line[1600];
    const char *image = restore_state.info.image_path;
    int n = snprintf(line, sizeof line, "dmtcp_restart: the restart failed: %s; %s is not resumed\n",
                     why, image[0] ? image : "this process");
    if (n > (int)sizeof line - 1)
        n = (int)sizeof line - 1;
    if (n > 0 && write(2, line, (size_t)n) < 0)
        n = 0;
    _exit(REJOIN_FAILED_STATUS);
}

void rejoin_check_message(uint16_t type, const void *buf, long n)
{
    if (type != MSG_RESTART_FAILED || n != (long)sizeof(struct msg_restart_failed))
        return;
    struct msg_restart_failed f;
    memcpy(&f, buf, sizeof f);
    f.reason[sizeof f.reason - 1] = 0;
    rejoin_abort(f.reason);
}

static void rejoin_rcvtimeo(int fd, int ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

int rejoin_coordinator(int fd)
{
    if (engine_fds_own(fd, &manager_state.coord_fd, "coordinator connection") < 0)
        return -1;
    fd = manager_state.coord_fd;
    struct msg_restart_back b;
    memset(&b, 0, sizeof b);
    b.vpid = services_virtual_pid();
    b.real_pid = sys_getpid();
    b.generation = manager_state.generation;
    snprintf(b.name, sizeof b.name, "%.63s", engine_config.program);
    gethostname(b.host, sizeof b.host - 1);
    union {
        struct msg_welcome w;
        struct msg_restart_failed f;
    } u;
    uint16_t type = 0;
    /* The coordinator speaks first only if the restart failed while this
     * image loaded (or it went away): read that rather than say BACK. */
    struct pollfd p = {.fd = fd, .events = POLLIN};
    long n = poll(&p, 1, 0) > 0 ? 0 : proto_send(fd, MSG_RESTART_BACK, &b, sizeof b);
    if (n == 0) {
        rejoin_rcvtimeo(fd, REJOIN_REPLY_MS);
        n = proto_recv(fd, &type, &u, sizeof u);
        rejoin_rcvtimeo(fd, 0);
    }
    if (n >= 0)
        rejoin_check_message(type, &u, n);
    if (n != (long)sizeof u.w || type != MSG_WELCOME) {
        engine_warn("the coordinator at %s:%d did not take this restarted process back (%s)",
                    engine_config.coord_host, engine_config.coord_port,
                    n < 0 ? strerror((int)-n) : "unexpected answer");
        engine_fds_close(&manager_state.coord_fd);
        return -1;
    }
    manager_state.coord_fd = fd;
    manager_state.connected = 1;
    manager_state.lost_warned = 0;
    if (!manager_state.comp_id)
        manager_state.comp_id = u.w.comp_id;
    return 0;
}
