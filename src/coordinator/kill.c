/*
 * kill.c — making `dmtcp_command -k` (and -kc, -q) kill for certain.
 *
 * MSG_KILL asks each worker to end itself, which its engine does wherever it
 * waits for the coordinator.  A worker that cannot read the request — it is
 * stopped, or its manager thread is stuck in a plugin's hook or a long image
 * write — is killed here with SIGKILL once it has not disconnected within
 * --kill-timeout seconds.
 *
 * That needs the very process.  When a worker joins, the coordinator opens a
 * pidfd for the pid its HELLO gives and keeps it only if that process holds
 * the other end of the worker's connection: the peer socket's inode, found
 * in /proc/net/tcp or tcp6 (so only a worker on this host, in this network
 * namespace), appears in /proc/PID/fd.  A pidfd names one process for good,
 * so the signal can never reach a process that only claimed the pid, nor
 * one that got the pid after the worker died.
 */
#include "coordinator/coord.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

/* "%08X:%04X" of an address as /proc/net/tcp prints it (the raw 32-bit
 * words of the address in host order, the port in hex); 0 or -1. */
static int kill_proc_addr(const struct sockaddr_storage *ss, int v4, char *out, size_t cap)
{
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        snprintf(out, cap, "%08X:%04X", (unsigned)a->sin_addr.s_addr, ntohs(a->sin_port));
        return 0;
    }
    if (ss->ss_family != AF_INET6)
        return -1;
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
    uint32_t w[4];
    memcpy(w, &a->sin6_addr, sizeof(w));
    if (v4) { /* the peer may be an IPv4 socket talking to our v4-mapped one */
        if (!IN6_IS_ADDR_V4MAPPED(&a->sin6_addr))
            return -1;
        snprintf(out, cap, "%08X:%04X", (unsigned)w[3], ntohs(a->sin6_port));
    } else {
        snprintf(out, cap, "%08X%08X%08X%08X:%04X", (unsigned)w[0], (unsigned)w[1], (unsigned)w[2],
                 (unsigned)w[3], ntohs(a->sin6_port));
    }
    return 0;
}

/* The inode of the socket whose local address is `local` and remote one
 * `remote` in the /proc/net table `table`; 0 if none. */
static unsigned long kill_find_inode(const char *table, const char *local, const char *remote)
{
    FILE *f = fopen(table, "re");
    if (!f)
        return 0;
    char line[512], l[64], r[64];
    unsigned long ino, found = 0;
    while (!found && fgets(line, sizeof(line), f))
        if (sscanf(line, " %*s %63s %63s %*s %*s %*s %*s %*s %*s %lu", l, r, &ino) == 3 &&
            strcmp(l, local) == 0 && strcmp(r, remote) == 0)
            found = ino;
    fclose(f);
    return found;
}

/* The inode of the worker's end of connection fd (on this host); 0 if unknown. */
static unsigned long kill_peer_inode(int fd)
{
    struct sockaddr_storage me, peer;
    socklen_t ml = sizeof(me), pl = sizeof(peer);
    if (getsockname(fd, (struct sockaddr *)&me, &ml) < 0 || getpeername(fd, (struct sockaddr *)&peer, &pl) < 0)
        return 0;
    char local[64], remote[64];
    unsigned long ino = 0;
    if (kill_proc_addr(&peer, 0, local, sizeof(local)) == 0 && kill_proc_addr(&me, 0, remote, sizeof(remote)) == 0)
        ino = kill_find_inode(me.ss_family == AF_INET ? "/proc/net/tcp" : "/proc/net/tcp6", local, remote);
    if (!ino && me.ss_family == AF_INET6 && kill_proc_addr(&peer, 1, local, sizeof(local)) == 0 &&
        kill_proc_addr(&me, 1, remote, sizeof(remote)) == 0)
        ino = kill_find_inode("/proc/net/tcp", local, remote);
    return ino;
}

/* 1 when process pid has socket inode ino among its descriptors. */
static int kill_pid_holds(int pid, unsigned long ino)
{
    char dir[64], link[64], want[64];
    snprintf(dir, sizeof(dir), "/proc/%d/fd", pid);
    snprintf(want, sizeof(want), "socket:[%lu]", ino);
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int holds = 0;
    struct dirent *e;
    while (!holds && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        ssize_t n = readlinkat(dirfd(d), e->d_name, link, sizeof(link) - 1);
        if (n > 0) {
            link[n] = 0;
            holds = strcmp(link, want) == 0;
        }
    }
    closedir(d);
    return holds;
}

void kill_watch(struct coord *c, struct coord_conn *k)
{
    (void)c;
    k->pidfd = -1;
    int pid = k->hello.real_pid;
    if (pid <= 0)
        return;
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pidfd < 0)
        return;
    unsigned long ino = kill_peer_inode(k->fd);
    /* after the check, the pidfd's process is still alive, so it is the
     * one that has this pid now, the one that was checked */
    if (ino && kill_pid_holds(pid, ino) && syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) == 0) {
        k->pidfd = pidfd;
        return;
    }
    close(pidfd);
}

void kill_request(struct coord *c, struct coord_conn *k)
{
    conn_send(c, k, MSG_KILL, NULL, 0);
    if (!k->kill_sent_ms)
        k->kill_sent_ms = coord_now_ms();
}

static void kill_force(struct coord *c, struct coord_conn *k)
{
    k->kill_forced = 1;
    if (k->pidfd >= 0 && syscall(SYS_pidfd_send_signal, k->pidfd, SIGKILL, NULL, 0) == 0) {
        coord_info("process %d (%s@%s, pid %d) did not exit within %d s of the kill request; killed it "
                   "(SIGKILL)", k->hello.vpid, k->hello.name, k->hello.host, k->hello.real_pid,
                   c->opt.kill_timeout);
        return;
    }
    coord_log("process %d (%s@%s, pid %d) did not exit within %d s of the kill request and cannot be killed "
              "from here (%s); kill it on its host", k->hello.vpid, k->hello.name, k->hello.host,
              k->hello.real_pid, c->opt.kill_timeout,
              k->pidfd >= 0 ? strerror(errno) : "not a process on this host that the coordinator could verify");
}

void kill_check(struct coord *c, int64_t now)
{
    for (int i = 0; i < c->nconns; i++) {
        struct coord_conn *k = c->conns[i];
        if (!k->dead && k->role == ROLE_WORKER && k->kill_sent_ms && !k->kill_forced &&
            now - k->kill_sent_ms >= (int64_t)c->opt.kill_timeout * 1000)
            kill_force(c, k);
    }
}

int kill_pending(const struct coord *c)
{
    for (int i = 0; i < c->nconns; i++) {
        const struct coord_conn *k = c->conns[i];
        if (!k->dead && k->role == ROLE_WORKER && k->kill_sent_ms && (!k->kill_forced || k->pidfd >= 0))
            return 1;
    }
    return 0;
}
