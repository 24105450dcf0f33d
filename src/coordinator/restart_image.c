/*
 * restart_image.c — the connections that carry a restart, one per image.
 *
 * Before any image is restored, dmtcp_restart opens a command connection
 * per image and registers it (MSG_RESTART_IMAGE: the restart's token, the
 * image, how many images the restart brings back, the pid that restores
 * it).  The connection then passes to the restart helper and on to the
 * restored process, which says MSG_RESTART_BACK on it and from then on is
 * an ordinary worker.  So the coordinator knows the whole restart from the
 * start, and every way an image can fail reaches it at once: the helper
 * reports why (MSG_RESTART_FAILED), or the connection closes because the
 * helper or the process died.  restart.c then fails the whole restart.
 *
 * Processes of a failed restart exit by themselves when told; one that is
 * still there COORD_RESTART_KILL_MS later (a helper stuck in a system call,
 * say) is killed through a pidfd taken when its image was registered, and
 * only if it runs on this host, under this user, as dmtcp_restart.
 */
#include "coordinator/coord.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define RESTART_MAX_IMAGES 4096 /* dmtcp_restart takes at most this many */

/* ---- watching the restoring processes ------------------------------------ */

static void restart_printable(char *dst, const char *src, size_t cap)
{
    size_t i = 0;
    for (; i + 1 < cap && src[i]; i++)
        dst[i] = ((unsigned char)src[i] < 32 || src[i] == 127) ? '?' : src[i];
    dst[i] = 0;
}

static int restart_pid_alive(int pidfd)
{
    struct pollfd p = { .fd = pidfd, .events = POLLIN };
    return poll(&p, 1, 0) == 0;
}

/* A pidfd for pid when it is dmtcp_restart, run by our user on this host
 * and in our pid namespace (its /proc entry says so); else -1. */
static int restart_watch(int pid, const char *host)
{
    char me[64] = "";
    gethostname(me, sizeof(me) - 1);
    if (pid <= 0 || strncmp(host, me, sizeof(me)) != 0)
        return -1;
    int fd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (fd < 0)
        return -1;
    char path[64], comm[32] = "";
    struct stat st;
    snprintf(path, sizeof(path), "/proc/%d", pid);
    int ok = stat(path, &st) == 0 && st.st_uid == geteuid();
    snprintf(path, sizeof(path), "/proc/%d/comm", pid);
    int cf = open(path, O_RDONLY | O_CLOEXEC);
    if (cf >= 0) {
        ssize_t n = read(cf, comm, sizeof(comm) - 1);
        comm[n > 0 ? n : 0] = 0;
        close(cf);
    }
    /* still alive after the checks: they were about the process the pidfd holds */
    if (!ok || strcmp(comm, "dmtcp_restart\n") != 0 || !restart_pid_alive(fd)) {
        close(fd);
        return -1;
    }
    return fd;
}

void restart_image_release(struct coord_restart_group *g)
{
    for (uint32_t i = 0; g->images && i < g->expected; i++)
        if (g->images[i].pidfd >= 0) {
            close(g->images[i].pidfd);
            g->images[i].pidfd = -1;
        }
}

/* The restart failed: its processes are given COORD_RESTART_KILL_MS to exit. */
void restart_image_doom(struct coord *c, struct coord_restart_group *g)
{
    for (uint32_t i = 0; g->images && i < g->expected; i++) {
        struct coord_restart_image *img = &g->images[i];
        if (img->pidfd < 0)
            continue;
        struct coord_straggler *v =
            realloc(c->stragglers, sizeof(*v) * (size_t)(c->nstragglers + 1));
        if (!v)
            return; /* the group's release closes the rest */
        c->stragglers = v;
        struct coord_straggler *s = &c->stragglers[c->nstragglers++];
        s->pidfd = img->pidfd;
        s->pid = img->pid;
        s->kill_ms = coord_now_ms() + COORD_RESTART_KILL_MS;
        snprintf(s->what, sizeof(s->what), "%s", img->path);
        img->pidfd = -1;
    }
}

void restart_stragglers_timer(struct coord *c)
{
    int64_t now = coord_now_ms();
    for (int i = 0; i < c->nstragglers;) {
        struct coord_straggler *s = &c->stragglers[i];
        if (restart_pid_alive(s->pidfd) && now < s->kill_ms) {
            i++;
            continue;
        }
        if (restart_pid_alive(s->pidfd) &&
            syscall(SYS_pidfd_send_signal, s->pidfd, SIGKILL, NULL, 0) == 0)
            coord_log("restart: killed process %d (restoring %s): still there %d s after its "
                      "restart failed", s->pid, s->what, COORD_RESTART_KILL_MS / 1000);
        close(s->pidfd);
        *s = c->stragglers[--c->nstragglers];
    }
}

/* ---- the messages ------------------------------------------------------- */

static void restart_image_register(struct coord *c, struct coord_conn *k,
                                   const struct msg_restart_image *m)
{
    char path[sizeof(m->image)], host[sizeof(m->host)];
    restart_printable(path, m->image, sizeof(path));
    restart_printable(host, m->host, sizeof(host));
    if (k->restart_image || !m->token || !m->nimages || m->nimages > RESTART_MAX_IMAGES ||
        m->index >= m->nimages) {
        k->close_after_flush = 1;
        command_reply(c, k, EINVAL, "malformed restart registration for %s", path);
        return;
    }
    struct coord_restart_group *g = restart_group_by_token(c, m->token);
    if (!g)
        g = restart_group_add(c, m->token, m->comp_id, m->nimages, (int)m->timeout);
    if (!g) {
        command_reply(c, k, ENOMEM, "coordinator out of memory for the restart of %s", path);
        return;
    }
    if (g->expected != m->nimages) {
        command_reply(c, k, EINVAL, "%s: registered as one of %u images, but its restart "
                      "brings back %u", path, m->nimages, g->expected);
        return;
    }
    struct coord_restart_image *img = &g->images[m->index];
    if (img->state != RIMG_MISSING) {
        command_reply(c, k, EEXIST, "%s: image %u of this restart is already registered (%s)",
                      path, m->index + 1, img->path);
        return;
    }
    snprintf(img->path, sizeof(img->path), "%s", path);
    img->comp_id = m->comp_id;
    img->vpid = m->vpid;
    img->pid = m->pid;
    img->pidfd = restart_watch(m->pid, host);
    img->state = RIMG_LOADING;
    g->joined++;
    k->restart_image = 1;
    k->restart_token = m->token;
    k->restart_index = m->index;
    c->any_worker_joined = 1; /* for --exit-on-last: a process is on its way */
    coord_info("restart: %s (%u of %u) is being restored by pid %d on %s", path,
               m->index + 1, m->nimages, m->pid, host);
    command_reply(c, k, 0, "restart of %s registered", path);
}

static struct coord_restart_image *restart_image_of(struct coord *c, struct coord_conn *k,
                                                    struct coord_restart_group **gp)
{
    struct coord_restart_group *g = k->restart_image ? restart_group_of(c, k) : NULL;
    *gp = g;
    if (!g || !g->images || k->restart_index >= g->expected)
        return NULL;
    return &g->images[k->restart_index];
}

static void restart_image_failed(struct coord *c, struct coord_conn *k,
                                 const struct msg_restart_failed *f)
{
    struct coord_restart_group *g;
    struct coord_restart_image *img = restart_image_of(c, k, &g);
    if (!img || img->state != RIMG_LOADING) {
        conn_drop(c, k, "protocol error: MSG_RESTART_FAILED from a connection that restores "
                  "no image");
        return;
    }
    char reason[sizeof(f->reason)];
    restart_printable(reason, f->reason, sizeof(reason));
    if (strstr(reason, img->path))
        restart_fail(c, g, "%s", reason);
    else
        restart_fail(c, g, "%s: %s", img->path, reason);
}

static void restart_image_back(struct coord *c, struct coord_conn *k,
                               const struct msg_restart_back *b)
{
    struct coord_restart_group *g;
    struct coord_restart_image *img = restart_image_of(c, k, &g);
    if (!img || img->state != RIMG_LOADING) {
        conn_drop(c, k, "protocol error: MSG_RESTART_BACK from a connection that restores "
                  "no image");
        return;
    }
    memset(&k->hello, 0, sizeof(k->hello));
    k->hello.role = ROLE_WORKER;
    k->hello.state = WSTATE_RESTARTING;
    k->hello.vpid = b->vpid;
    k->hello.real_pid = b->real_pid;
    k->hello.comp_id = img->comp_id;
    k->hello.generation = b->generation;
    k->hello.restart_peers = g->expected;
    restart_printable(k->hello.name, b->name, sizeof(k->hello.name));
    restart_printable(k->hello.host, b->host, sizeof(k->hello.host));
    k->role = ROLE_WORKER;
    k->state = WSTATE_RESTARTING;
    k->barrier = 0;
    img->state = RIMG_BACK;
    if (b->generation > c->generation)
        c->generation = b->generation;
    if (c->comp_id == 0)
        c->comp_id = img->comp_id;
    uint32_t back = 0;
    for (uint32_t i = 0; i < g->expected; i++)
        back += g->images[i].state == RIMG_BACK;
    coord_info("restart: process %d (%s@%s, pid %d) from %s is back (%u of %u)", b->vpid,
               k->hello.name, k->hello.host, b->real_pid, img->path, back, g->expected);
    struct msg_welcome w = {
        .worker_id = k->id,
        .interval = (uint32_t)c->opt.interval,
        .comp_id = c->comp_id,
        .generation = c->generation,
    };
    conn_send(c, k, MSG_WELCOME, &w, sizeof(w));
}

void restart_image_message(struct coord *c, struct coord_conn *k, uint16_t type, const void *p)
{
    if (type == MSG_RESTART_IMAGE)
        restart_image_register(c, k, p);
    else if (type == MSG_RESTART_FAILED)
        restart_image_failed(c, k, p);
    else if (type == MSG_RESTART_BACK)
        restart_image_back(c, k, p);
}

/* The connection closed before its process was back: the helper (or
 * dmtcp_restart before it) died. */
void restart_image_gone(struct coord *c, struct coord_conn *k)
{
    struct coord_restart_group *g;
    struct coord_restart_image *img = restart_image_of(c, k, &g);
    if (!img || img->state != RIMG_LOADING)
        return;
    restart_fail(c, g, "%s: its restart helper (pid %d) ended before the process was back "
                 "(killed, or it crashed)", img->path, img->pid);
}
