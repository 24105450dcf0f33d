/*
 * pty.c — pseudo-terminals made inside the computation (forkpty, script,
 * expect-style drivers): both ends, their settings, the controlling
 * terminal of the session on them, and the output waiting to be read.
 *
 * Checkpoint (PRECHECKPOINT, every process suspended): each process names
 * the ptys whose master it holds to the name service ("ym:INDEX" keeps the
 * smallest pid), and after a barrier the process named owns the pty: it
 * records its termios and window size, and drains the output the slave
 * side wrote that the master side has not read yet (non-blocking reads of
 * the master) into memory the image saves; at RESUME it writes those bytes
 * back through the slave with output processing off, so they reach the
 * master unchanged.  A session leader whose controlling terminal is such a
 * pty records its foreground process group.
 *
 * Restart (fds.c asks, as for pipes): the owner opens a new pty, gives it
 * the saved settings and bytes, and publishes its index ("yf:INDEX" = pid,
 * new index, master descriptor); after a barrier every process holding the
 * slave opens /dev/pts/NEW, and the session leader makes it its
 * controlling terminal again with the same foreground group.  The slave's
 * name changes (/dev/pts/N is whatever index the kernel gives): ttyname()
 * says the new one.  A master held by several processes is shared again
 * through pidfd_getfd() where the kernel allows it.
 *
 * A terminal outside the computation on the standard input (the one
 * dmtcp_launch ran on) is the one dmtcp_restart runs on; the settings the
 * program had given it (raw mode, echo, control characters) are put back
 * on it, and a program on a terminal of another size gets SIGWINCH.
 *
 * What is not restored: bytes typed into the master that the slave side
 * has not read yet at the checkpoint (named at checkpoint time); a pty
 * whose master is outside the computation is a terminal outside it: on
 * descriptors 0-2 it is what dmtcp_restart was given, elsewhere a copy of
 * dmtcp_restart's terminal (or /dev/null when it has none).
 */
#include <errno.h>
#include <pty.h>
#include <signal.h>
#include <utmp.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include "common/proto.h"
#include "engine/engine.h"
#include "engine/plugins/fds.h"
#include "engine/plugins/pid.h"
#include "engine/plugins/pty.h"
#include "engine/sys.h"

#define PTY_MAX 64
#define PTY_BUF 65536 /* output kept per pty: more than a pty buffers */
#define PTY_SLAVE_MAJOR_FIRST 136
#define PTY_SLAVE_MAJOR_LAST 143

struct pty_rec {
    int idx;             /* /dev/pts/IDX at the checkpoint */
    int mfd, sfd;        /* a master / slave descriptor this process holds, or -1 */
    int owner;           /* holds the master with the smallest pid: saves and recreates */
    int inside;          /* some process of the computation holds the master */
    struct termios tio;
    struct winsize ws;
    uint32_t nbytes;     /* output drained from the master */
    char *bytes;         /* (anonymous memory: saved in the image) */
    /* restart */
    int new_idx, new_m, new_s;
};

/* The terminal outside the computation on the standard input (the one
 * dmtcp_launch ran on), when there is one: its settings go back onto the
 * terminal dmtcp_restart runs on. */
static struct {
    int saved;
    struct termios tio;
    struct winsize ws;
} pty_outside_tty;

static struct {
    struct pty_rec recs[PTY_MAX];
    int n;
    int listing;
    int ctty_idx;        /* the controlling terminal, a pty index, or -1 */
    int leader;          /* this process leads its session */
    pid_t fg_vpgid;      /* the leader's terminal's foreground group, or 0 */
} pty_state;

/* The pty index of a slave device number, or -1. */
static int pty_slave_index(dev_t rdev)
{
    unsigned maj = major(rdev);
    if (maj < PTY_SLAVE_MAJOR_FIRST || maj > PTY_SLAVE_MAJOR_LAST)
        return -1;
    return (int)((maj - PTY_SLAVE_MAJOR_FIRST) * 256 + minor(rdev));
}

/* What fd is: 1 master, 2 slave (index in *idx), 0 neither. */
static int pty_kind(int fd, int *idx)
{
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode))
        return 0;
    if (major(st.st_rdev) == 5 && minor(st.st_rdev) == 2) { /* ptmx: a master */
        unsigned n;
        if (ioctl(fd, TIOCGPTN, &n) < 0)
            return 0;
        *idx = (int)n;
        return 1;
    }
    /* devpts's own ptmx has another device number; its masters answer TIOCGPTN too */
    int i = pty_slave_index(st.st_rdev);
    if (i >= 0) {
        *idx = i;
        return 2;
    }
    unsigned n;
    if (ioctl(fd, TIOCGPTN, &n) == 0) {
        *idx = (int)n;
        return 1;
    }
    return 0;
}

int pty_id_of(int fd)
{
    int idx, k = pty_kind(fd, &idx);
    return k ? (idx << 1 | (k == 1)) + 1 : 0;
}

static struct pty_rec *pty_find(int idx)
{
    for (int i = 0; i < pty_state.n; i++)
        if (pty_state.recs[i].idx == idx)
            return &pty_state.recs[i];
    return NULL;
}

static void pty_note_fd(int fd, void *arg)
{
    (void)arg;
    int idx, k;
    if (fd == pty_state.listing || engine_fds_is_own(fd) || !(k = pty_kind(fd, &idx)))
        return;
    struct pty_rec *p = pty_find(idx);
    if (!p) {
        if (pty_state.n >= PTY_MAX)
            return;
        p = &pty_state.recs[pty_state.n++];
        memset(p, 0, sizeof *p);
        p->idx = idx;
        p->mfd = p->sfd = p->new_m = p->new_s = -1;
    }
    if (k == 1 && p->mfd < 0)
        p->mfd = fd;
    else if (k == 2 && p->sfd < 0)
        p->sfd = fd;
}

/* The controlling terminal (field 7 of /proc/self/stat), when a pty. */
static int pty_ctty(void)
{
    char buf[512];
    const char *f = procfs_stat_fields("/proc/self/stat", buf, sizeof buf);
    long long ppid_pgrp_sid[3];
    char st;
    unsigned long long tty;
    if (!f || sscanf(f, "%c %lld %lld %lld %llu", &st, &ppid_pgrp_sid[0], &ppid_pgrp_sid[1], &ppid_pgrp_sid[2],
                     &tty) != 5 || !tty)
        return -1;
    unsigned maj = (unsigned)((tty >> 8) & 0xfff), min = (unsigned)((tty & 0xff) | ((tty >> 12) & 0xfff00));
    return pty_slave_index(makedev(maj, min));
}

static void pty_forget(void)
{
    for (int i = 0; i < pty_state.n; i++) {
        struct pty_rec *p = &pty_state.recs[i];
        if (p->bytes)
            munmap(p->bytes, PTY_BUF);
    }
    pty_state.n = 0;
}

/* The owner: settings, window size, and the output waiting in the master. */
static void pty_save_owned(struct pty_rec *p)
{
    tcgetattr(p->mfd, &p->tio);
    ioctl(p->mfd, TIOCGWINSZ, &p->ws);
    /* (a slave descriptor of its own, closed at once: the fds plugin,
     * which saves after this one, must not see it) */
    int peer = ioctl(p->mfd, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC), typed = 0;
    if (peer >= 0 && ioctl(peer, FIONREAD, &typed) < 0)
        typed = 0;
    if (peer >= 0)
        close(peer);
    if (typed > 0)
        engine_warn("checkpoint: %d byte%s typed into /dev/pts/%d (fd %d) and not yet read by the program on it "
                    "are missing after a restart",
                    typed, typed == 1 ? "" : "s", p->idx, p->mfd);
    p->bytes = mmap(NULL, PTY_BUF, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p->bytes == MAP_FAILED) {
        p->bytes = NULL;
        return;
    }
    int fl = fcntl(p->mfd, F_GETFL);
    fcntl(p->mfd, F_SETFL, fl | O_NONBLOCK);
    while (p->nbytes < PTY_BUF) {
        long n = sys_call3(SYS_read, p->mfd, p->bytes + p->nbytes, PTY_BUF - p->nbytes);
        if (n <= 0)
            break;
        p->nbytes += (uint32_t)n;
    }
    fcntl(p->mfd, F_SETFL, fl);
}

/* Write bytes through the slave s so that they reach the master as they
 * are (output processing off meanwhile). */
static void pty_refill(int s, const struct pty_rec *p)
{
    if (s < 0 || !p->nbytes)
        return;
    struct termios t, raw;
    int have = tcgetattr(s, &t) == 0;
    if (have) {
        raw = t;
        raw.c_oflag &= ~(tcflag_t)OPOST;
        tcsetattr(s, TCSANOW, &raw);
    }
    uint32_t done = 0;
    while (done < p->nbytes) {
        long n = sys_call3(SYS_write, s, p->bytes + done, p->nbytes - done);
        if (n <= 0)
            break;
        done += (uint32_t)n;
    }
    if (have)
        tcsetattr(s, TCSANOW, &t);
    if (done < p->nbytes)
        engine_warn("/dev/pts/%d: cannot put back %u of the %u bytes of output saved from it", p->idx,
                    p->nbytes - done, p->nbytes);
}

static void pty_checkpoint(void)
{
    pty_forget();
    pty_state.listing = -1;
    procfs_each_number("/proc/self/fd", pty_note_fd, NULL, &pty_state.listing);
    pty_state.ctty_idx = pty_ctty();
    pty_state.leader = sys_call1(SYS_getsid, 0) == sys_getpid();
    pty_state.fg_vpgid = 0;
    pid_t me = pid_virtual_pid();
    for (int i = 0; i < pty_state.n; i++)
        if (pty_state.recs[i].mfd >= 0)
            manager_kv_min("ym", (uint64_t)pty_state.recs[i].idx, me);
    dmtcp_global_barrier("stasis:ptys-named"); /* every process calls it, with ptys or not */
    for (int i = 0; i < pty_state.n; i++) {
        struct pty_rec *p = &pty_state.recs[i];
        int64_t holder = manager_kv_get_int("ym", (uint64_t)p->idx);
        p->inside = holder > 0 || (!manager_state.connected && p->mfd >= 0);
        p->owner = p->mfd >= 0 && (holder == me || !manager_state.connected);
        if (p->owner)
            pty_save_owned(p);
    }
    int idx0;
    struct pty_rec *in0 = pty_kind(0, &idx0) == 2 ? pty_find(idx0) : NULL;
    pty_outside_tty.saved = !(in0 && in0->inside) && isatty(0) && tcgetattr(0, &pty_outside_tty.tio) == 0;
    if (pty_outside_tty.saved && ioctl(0, TIOCGWINSZ, &pty_outside_tty.ws) < 0)
        memset(&pty_outside_tty.ws, 0, sizeof pty_outside_tty.ws);
    if (pty_state.ctty_idx >= 0 && pty_state.leader) {
        int64_t holder = manager_kv_get_int("ym", (uint64_t)pty_state.ctty_idx);
        int t = open("/dev/tty", O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
        if (holder > 0 && t >= 0) {
            pid_t pg = tcgetpgrp(t); /* the pid plugin's: a virtual id */
            pty_state.fg_vpgid = pg > 0 ? pg : 0;
        }
        if (t >= 0)
            close(t);
    }
}

static void pty_resume(void)
{
    for (int i = 0; i < pty_state.n; i++) {
        struct pty_rec *p = &pty_state.recs[i];
        if (!p->owner || !p->nbytes)
            continue;
        int s = ioctl(p->mfd, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
        pty_refill(s, p);
        if (s >= 0)
            close(s);
    }
    pty_forget();
}

/* ---- restart ---------------------------------------------------------- */

static void pty_recreate(struct pty_rec *p)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    int unlock = 0;
    unsigned n;
    if (m < 0 || ioctl(m, TIOCSPTLCK, &unlock) < 0 || ioctl(m, TIOCGPTN, &n) < 0) {
        engine_warn("cannot recreate the pseudo-terminal /dev/pts/%d: %s", p->idx, strerror(errno));
        if (m >= 0)
            close(m);
        return;
    }
    tcsetattr(m, TCSANOW, &p->tio);
    ioctl(m, TIOCSWINSZ, &p->ws);
    p->new_idx = (int)n;
    p->new_m = fds_park(m);
    int s = ioctl(p->new_m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (s < 0) {
        char path[64];
        snprintf(path, sizeof path, "/dev/pts/%u", n);
        s = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
    }
    p->new_s = fds_park(s);
    pty_refill(p->new_s, p);
    char k[KV_KEY_MAX], v[64];
    manager_kv_name(k, "yf", (uint64_t)p->idx);
    int len = snprintf(v, sizeof v, "%d:%d:%d", (int)sys_getpid(), p->new_idx, p->new_m);
    manager_kv_put(k, v, (uint32_t)len + 1, KV_SET);
}

/* Another process's new pty: the slave by its name, the master (shared
 * with the owner) through pidfd_getfd. */
static void pty_open_shared(struct pty_rec *p)
{
    char k[KV_KEY_MAX], v[64] = "";
    manager_kv_name(k, "yf", (uint64_t)p->idx);
    int pid = 0, idx = -1, mfd = -1;
    if (manager_kv_get(k, v, sizeof v - 1) <= 0 || sscanf(v, "%d:%d:%d", &pid, &idx, &mfd) != 3) {
        engine_warn("/dev/pts/%d: the process that recreates it did not say where it is", p->idx);
        return;
    }
    p->new_idx = idx;
    if (p->sfd >= 0) {
        char path[64];
        snprintf(path, sizeof path, "/dev/pts/%d", idx);
        p->new_s = fds_park(open(path, O_RDWR | O_NOCTTY | O_CLOEXEC));
        if (p->new_s < 0)
            engine_warn("cannot open %s, the new /dev/pts/%d: %s", path, p->idx, strerror(errno));
    }
    if (p->mfd >= 0) {
        long pfd = sys_call2(SYS_pidfd_open, pid, 0);
        long m = pfd >= 0 ? sys_call3(SYS_pidfd_getfd, pfd, mfd, 0) : pfd;
        if (pfd >= 0)
            sys_call1(SYS_close, pfd);
        if (m < 0)
            engine_warn("the master of /dev/pts/%d (fd %d) is shared with process %d, which recreated it, but "
                        "cannot be shared again here (%s); /dev/null stands in for it",
                        p->idx, p->mfd, pid, strerror((int)-m));
        else
            p->new_m = fds_park((int)m);
    }
}

void pty_restart_begin(void)
{
    for (int i = 0; i < pty_state.n; i++) {
        struct pty_rec *p = &pty_state.recs[i];
        p->new_m = p->new_s = -1;
        if (p->owner)
            pty_recreate(p);
    }
    dmtcp_global_barrier("stasis:ptys-made");
    for (int i = 0; i < pty_state.n; i++) {
        struct pty_rec *p = &pty_state.recs[i];
        if (!p->owner && p->inside)
            pty_open_shared(p);
    }
}

/* A terminal outside the computation, away from 0-2: dmtcp_restart's
 * terminal, as the streams are, or /dev/null. */
static int pty_outside(int fd, int idx)
{
    for (int s = 0; s <= 2; s++)
        if (isatty(s))
            return (int)sys_call3(SYS_fcntl, s, F_DUPFD_CLOEXEC, 3);
    engine_warn("fd %d was /dev/pts/%d, a terminal outside the computation, and dmtcp_restart runs on none; "
                "/dev/null stands in for it",
                fd, idx);
    return open("/dev/null", O_RDWR | O_CLOEXEC);
}

int pty_reopen(int fd, int id, int fl)
{
    int idx = (id - 1) >> 1, master = (id - 1) & 1;
    struct pty_rec *p = pty_find(idx);
    if (!p || !p->inside)
        return fd <= 2 ? -1 : pty_outside(fd, idx);
    int src = master ? p->new_m : p->new_s;
    int nfd = src < 0 ? open("/dev/null", O_RDWR | O_CLOEXEC) : (int)sys_call3(SYS_fcntl, src, F_DUPFD_CLOEXEC, 3);
    if (nfd >= 0 && src >= 0)
        fcntl(nfd, F_SETFL, fl & (O_NONBLOCK | O_ASYNC));
    return nfd;
}

/* The session leader takes its terminal back, with its foreground group. */
static void pty_take_ctty(void)
{
    if (pty_state.ctty_idx < 0 || !pty_state.leader)
        return;
    struct pty_rec *p = pty_find(pty_state.ctty_idx);
    if (!p || !p->inside)
        return; /* a terminal outside: the one dmtcp_restart runs on */
    int s = p->new_s;
    if (s < 0 && p->new_idx >= 0) {
        char path[64];
        snprintf(path, sizeof path, "/dev/pts/%d", p->new_idx);
        s = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
    }
    if (s < 0 || ioctl(s, TIOCSCTTY, 0) < 0) {
        engine_warn("cannot make the new /dev/pts/%d the controlling terminal of session %d again: %s",
                    p->idx, (int)pid_virtual_pid(), strerror(errno));
    } else if (pty_state.fg_vpgid > 0 && tcsetpgrp(s, pty_state.fg_vpgid) < 0) {
        engine_warn("cannot give the new /dev/pts/%d back to process group %d: %s", p->idx,
                    (int)pty_state.fg_vpgid, strerror(errno));
    }
    if (s >= 0 && s != p->new_s)
        close(s);
}

/* The terminal dmtcp_restart runs on gets the settings the program had
 * put on its terminal (raw mode, no echo, its control characters); a
 * program on a terminal of another size is told, as a resize would
 * (SIGWINCH, ignored unless it has a handler). */
static void pty_outside_settings(void)
{
    if (!pty_outside_tty.saved || !isatty(0))
        return;
    sigset_t ttou, old;
    sigemptyset(&ttou);
    sigaddset(&ttou, SIGTTOU); /* (a process not in the foreground may set them too) */
    sigprocmask(SIG_BLOCK, &ttou, &old);
    if (tcsetattr(0, TCSANOW, &pty_outside_tty.tio) < 0)
        engine_warn("cannot give the terminal on fd 0 the settings it had at the checkpoint: %s", strerror(errno));
    sigprocmask(SIG_SETMASK, &old, NULL);
    struct winsize now;
    if (ioctl(0, TIOCGWINSZ, &now) == 0 &&
        (now.ws_row != pty_outside_tty.ws.ws_row || now.ws_col != pty_outside_tty.ws.ws_col))
        sys_call2(SYS_kill, sys_getpid(), SIGWINCH);
}

void pty_restart_end(void)
{
    pty_take_ctty();
    pty_outside_settings();
    dmtcp_global_barrier("stasis:ptys-opened"); /* the owners' spare ends are no longer needed */
    for (int i = 0; i < pty_state.n; i++) {
        struct pty_rec *p = &pty_state.recs[i];
        if (p->new_m >= 0)
            sys_call1(SYS_close, p->new_m);
        if (p->new_s >= 0)
            sys_call1(SYS_close, p->new_s);
        p->new_m = p->new_s = -1;
    }
    pty_forget();
}

/* glibc's forkpty forks inside libc, past the engine's fork(): the same
 * steps here, with the engine's fork, so the child joins the computation. */
ENGINE_API pid_t forkpty(int *amaster, char *name, const struct termios *termp, const struct winsize *winp)
{
    int m, s;
    if (openpty(&m, &s, name, termp, winp) < 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(m);
        close(s);
        errno = e;
        return -1;
    }
    if (pid == 0) {
        close(m);
        if (login_tty(s) < 0)
            _exit(1);
        return 0;
    }
    close(s);
    *amaster = m;
    return pid;
}

static void pty_hook(dmtcp_event_t ev, dmtcp_event_data_t *data)
{
    (void)data;
    if (ev == DMTCP_EVENT_PRECHECKPOINT)
        pty_checkpoint();
    else if (ev == DMTCP_EVENT_RESUME)
        pty_resume();
}

static const dmtcp_plugin_descriptor_t pty_descriptor = {
    .api_version = DMTCP_NATIVE_PLUGIN_API_VERSION,
    .name = "pty",
    .version = STASIS_VERSION,
    .description = "pseudo-terminals inside the computation, with their settings and output in flight",
    .event_hook = pty_hook,
};
PLUGIN_DECL_BUILTIN(pty_descriptor, 33, NULL); /* after fds: it saves first, and fds asks it at RESTART */
