/*
 * join.c — dmtcp_restart's part in the coordinator's restart protocol
 * (docs/protocol.md, "Restart").  Before anything is restored, each image
 * gets a connection of its own, registered with the restart's token, the
 * number of images and the pid that restores it.  The connection goes to
 * the restart helper and on to the restored process: if either fails or
 * dies, the coordinator hears of it at once and ends the whole restart.
 */
#include "restart-cli/join.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "common/proto.h"

uint64_t join_new_token(void)
{
    uint64_t t = 0;
    while (t == 0)
        if (getrandom(&t, sizeof t, 0) != (ssize_t)sizeof t)
            t = ((uint64_t)getpid() << 32) ^ (uint64_t)time(NULL) ^ (uint64_t)clock();
    return t;
}

static void join_set_rcvtimeo(int fd, int ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

static void join_fill(struct msg_restart_image *m, const struct restart_join *j, uint32_t index,
                      const char *image, const struct image_header *hdr)
{
    memset(m, 0, sizeof *m);
    m->token = j->token;
    m->comp_id = hdr->comp_id;
    m->generation = hdr->generation;
    m->vpid = hdr->vpid;
    m->pid = (int32_t)getpid();
    m->nimages = j->nimages;
    m->index = index;
    m->timeout = j->timeout;
    gethostname(m->host, sizeof m->host - 1);
    char abs[PATH_MAX];
    const char *path = realpath(image, abs) ? abs : image;
    size_t n = strlen(path);
    memcpy(m->image, path, n < sizeof m->image ? n : sizeof m->image - 1);
}

int join_register(const struct restart_join *j, uint32_t index, const char *image,
                  const struct image_header *hdr, int *fd_out, char *err, size_t cap)
{
    int fd;
    int r = coordclient_open(j->addr, &fd, err, cap);
    if (r != CC_OK)
        return r;
    struct msg_restart_image m;
    join_fill(&m, j, index, image, hdr);
    long n = proto_send(fd, MSG_RESTART_IMAGE, &m, sizeof m);
    struct msg_command_reply rep;
    uint16_t type = 0;
    if (n == 0) {
        join_set_rcvtimeo(fd, COORDCLIENT_REPLY_MS);
        n = proto_recv(fd, &type, &rep, sizeof rep);
    }
    if (n < 0 || type != MSG_COMMAND_REPLY || n != (long)sizeof rep) {
        snprintf(err, cap, "coordinator at %s:%d did not take the restart of %s: %s", j->addr->host,
                 j->addr->port, image, n < 0 ? strerror((int)-n) : "unexpected answer");
        close(fd);
        return CC_NOCOORD;
    }
    rep.message[sizeof rep.message - 1] = 0;
    if (rep.status != 0) {
        snprintf(err, cap, "coordinator at %s:%d refused the restart of %s: %s", j->addr->host,
                 j->addr->port, image, rep.message);
        close(fd);
        return CC_REFUSED;
    }
    join_set_rcvtimeo(fd, 0); /* the restored process waits at barriers as long as they take */
    *fd_out = fd;
    return CC_OK;
}

void join_fail(int fd, const char *reason)
{
    struct msg_restart_failed f;
    memset(&f, 0, sizeof f);
    snprintf(f.reason, sizeof f.reason, "%s", reason);
    proto_send(fd, MSG_RESTART_FAILED, &f, sizeof f);
}
