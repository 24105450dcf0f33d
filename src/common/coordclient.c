/*
 * coordclient.c — how the programs find, start and talk to the coordinator
 * (see coordclient.h).  Connections are bounded by timeouts so a missing or
 * stalled coordinator produces an error, never a hang; blocking checkpoint
 * commands are the one place that waits without limit, as in DMTCP.
 */
#include "common/coordclient.h"

#include "common/auth.h"
#include "common/secret.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int cc_err(char *err, size_t cap, int result, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int cc_err(char *err, size_t cap, int result, const char *fmt, ...)
{
    if (err && cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, cap, fmt, ap);
        va_end(ap);
    }
    return result;
}

/* ---- address ------------------------------------------------------------ */

int coordclient_parse_port(const char *s, int *port)
{
    if (!s || !*s)
        return -1;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < 0 || v > 65535)
        return -1;
    *port = (int)v;
    return 0;
}

int coordclient_addr_init(struct coordclient_addr *a, const char *host_opt,
                          const char *port_opt, char *err, size_t errcap)
{
    if (host_opt && !*host_opt)
        return cc_err(err, errcap, CC_USAGE, "empty coordinator host given to -h/--coord-host");
    const char *host = host_opt ? host_opt : getenv("DMTCP_COORD_HOST");
    if (!host || !*host)
        host = COORDCLIENT_DEFAULT_HOST;
    if (strlen(host) >= sizeof(a->host))
        return cc_err(err, errcap, CC_USAGE, "coordinator host name too long: '%.40s…'", host);
    snprintf(a->host, sizeof(a->host), "%s", host);

    if (port_opt && !*port_opt)
        return cc_err(err, errcap, CC_USAGE,
                      "empty coordinator port given to -p/--coord-port: expected a number 0-65535");
    const char *port = port_opt;
    const char *what = "-p/--coord-port";
    if (!port) {
        port = getenv("DMTCP_COORD_PORT");
        what = "DMTCP_COORD_PORT";
    }
    if (!port || !*port) {
        a->port = PROTO_DEFAULT_PORT;
        return CC_OK;
    }
    if (coordclient_parse_port(port, &a->port) < 0)
        return cc_err(err, errcap, CC_USAGE,
                      "invalid coordinator port '%s' in %s: expected a number 0-65535", port, what);
    return CC_OK;
}

int coordclient_self_dir(char *dir, size_t cap)
{
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
    if (n < 0)
        return -errno;
    buf[n] = 0;
    char *slash = strrchr(buf, '/');
    if (!slash)
        return -ENOENT;
    *slash = 0;
    if ((size_t)snprintf(dir, cap, "%s", buf[0] ? buf : "/") >= cap)
        return -ENAMETOOLONG;
    return 0;
}

/* ---- connecting and the handshake ----------------------------------------------- */

static int cc_connect_error(const struct coordclient_addr *a, int e, char *err, size_t cap)
{
    switch (-e) {
    case ECONNREFUSED:
        return cc_err(err, cap, CC_NOCOORD,
                      "no coordinator at %s:%d (connection refused); start one with "
                      "dmtcp_coordinator, or point -h/-p (DMTCP_COORD_HOST/DMTCP_COORD_PORT) at it",
                      a->host, a->port);
    case ETIMEDOUT:
        return cc_err(err, cap, CC_NOCOORD,
                      "no coordinator at %s:%d (no answer within %d s); check the host and port",
                      a->host, a->port, COORDCLIENT_CONNECT_MS / 1000);
    case ENXIO:
        return cc_err(err, cap, CC_NOCOORD,
                      "cannot resolve coordinator host '%s'; check -h or DMTCP_COORD_HOST", a->host);
    default:
        return cc_err(err, cap, CC_NOCOORD, "cannot connect to coordinator at %s:%d: %s",
                      a->host, a->port, strerror(-e));
    }
}

static void cc_set_rcvtimeo(int fd, int ms)
{
    struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

static int cc_recv_error(const struct coordclient_addr *a, long e, const char *what,
                         char *err, size_t cap)
{
    if (e == -ETIMEDOUT)
        return cc_err(err, cap, CC_NOCOORD, "coordinator at %s:%d did not answer %s within %d s",
                      a->host, a->port, what, COORDCLIENT_REPLY_MS / 1000);
    if (e == -ECONNRESET)
        return cc_err(err, cap, CC_NOCOORD,
                      "coordinator at %s:%d closed the connection while we waited for %s",
                      a->host, a->port, what);
    if (e == -EPROTO || e == -EMSGSIZE)
        return cc_err(err, cap, CC_NOCOORD,
                      "%s:%d sent a malformed %s; is it a Stasis coordinator of the same version?",
                      a->host, a->port, what);
    return cc_err(err, cap, CC_NOCOORD, "reading %s from coordinator at %s:%d: %s", what,
                  a->host, a->port, strerror((int)-e));
}

/* Where our token came from (or why we have none), for a refusal. */
static void cc_secret_hint(int load_rc, const struct secret_where *w, char *hint, size_t cap)
{
    const char *env = getenv("STASIS_COORD_SECRET");
    if (env && *env)
        snprintf(hint, cap, " (our secret came from STASIS_COORD_SECRET)");
    else if (load_rc == -ENOENT)
        snprintf(hint, cap, " (no secret file %s%s%s)", w->path[0] ? w->path : "found",
                 w->note[0] ? "; " : "", w->note);
    else if (load_rc < 0)
        snprintf(hint, cap, " (cannot use the secret file %s: %s)", w->path,
                 load_rc == -EPERM ? "not a private file of yours" : strerror(-load_rc));
    else
        snprintf(hint, cap, " (our secret came from %s)", w->path);
}

static void cc_fill_hello(struct msg_hello *h)
{
    memset(h, 0, sizeof(*h));
    h->role = ROLE_COMMAND;
    h->vpid = h->real_pid = (int32_t)getpid();
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    exe[n > 0 ? n : 0] = 0;
    const char *base = strrchr(exe, '/');
    snprintf(h->name, sizeof(h->name), "%s", base ? base + 1 : "client");
    gethostname(h->host, sizeof(h->host) - 1);
}

/* The handshake (auth.h): both ends prove they hold the secret.  A peer
 * that cannot is refused (CC_REFUSED), one that stays silent is given up
 * on after AUTH_HANDSHAKE_MS (CC_NOCOORD). */
static int cc_handshake(const struct coordclient_addr *a, int fd, char *err, size_t cap)
{
    struct secret_where where;
    char token[SECRET_TOKEN_SIZE] = "";
    int load_rc = secret_load(a->port, token, &where);
    struct auth_client ac = { .token = token, .port = a->port, .timeout_ms = AUTH_HANDSHAKE_MS };
    cc_fill_hello(&ac.hello);
    int r = auth_client_handshake(fd, &ac);
    auth_wipe(token, sizeof(token));
    if (r == AUTH_OK)
        return CC_OK;
    char what[1024], hint[SECRET_PATH_MAX + SECRET_NOTE_MAX + 128] = "";
    auth_describe(&ac, r, a->host, what, sizeof(what));
    if (r == AUTH_IO)
        return cc_err(err, cap, CC_NOCOORD, "%s", what);
    if (r == AUTH_NO_TOKEN || r == AUTH_IMPOSTOR ||
        (r == AUTH_REJECTED && ac.reject.code == REJECT_BAD_SECRET))
        cc_secret_hint(load_rc, &where, hint, sizeof(hint));
    return cc_err(err, cap, CC_REFUSED, "%s%s", what, hint);
}

/* coordclient_open; *listening says whether anything accepted the
 * connection (a program holds the port, whatever came of the handshake). */
static int cc_open(const struct coordclient_addr *a, int *fd_out, int *listening, char *err,
                   size_t errcap)
{
    *listening = 0;
    if (a->port <= 0)
        return cc_err(err, errcap, CC_USAGE, "coordinator port %d: a real port is needed to connect",
                      a->port);
    int fd = proto_connect(a->host, a->port, COORDCLIENT_CONNECT_MS);
    if (fd < 0)
        return cc_connect_error(a, fd, err, errcap);
    *listening = 1;
    int r = cc_handshake(a, fd, err, errcap);
    if (r != CC_OK) {
        close(fd);
        return r;
    }
    *fd_out = fd;
    return CC_OK;
}

int coordclient_open(const struct coordclient_addr *a, int *fd_out, char *err, size_t errcap)
{
    int listening;
    return cc_open(a, fd_out, &listening, err, errcap);
}

/* ---- commands ----------------------------------------------------------- */

static int cc_command_waits(uint32_t code)
{
    return code == CMD_BCKPT || code == CMD_KCKPT;
}

static int cc_take_reply(const struct coordclient_addr *a, const char *buf, long n,
                         struct msg_command_reply *out, struct proto_peer *peers,
                         uint32_t peers_cap, uint32_t *npeers, char *err, size_t cap)
{
    memcpy(out, buf, sizeof(*out));
    out->message[sizeof(out->message) - 1] = 0;
    uint32_t have = (uint32_t)((size_t)(n - (long)sizeof(*out)) / sizeof(struct proto_peer));
    if (out->npeers != have)
        return cc_err(err, cap, CC_NOCOORD,
                      "coordinator at %s:%d sent a reply announcing %u processes but carrying %u",
                      a->host, a->port, out->npeers, have);
    uint32_t k = have < peers_cap ? have : peers_cap;
    if (peers && k)
        memcpy(peers, buf + sizeof(*out), (size_t)k * sizeof(struct proto_peer));
    for (uint32_t i = 0; peers && i < k; i++) {
        peers[i].name[sizeof(peers[i].name) - 1] = 0;
        peers[i].host[sizeof(peers[i].host) - 1] = 0;
    }
    if (npeers)
        *npeers = k;
    if (out->status != 0)
        return cc_err(err, cap, CC_FAILED, "%s",
                      out->message[0] ? out->message : "the coordinator reported a failure");
    return CC_OK;
}

int coordclient_command(const struct coordclient_addr *a, uint32_t code, uint32_t arg,
                        struct msg_command_reply *out, struct proto_peer *peers,
                        uint32_t peers_cap, uint32_t *npeers, char *err, size_t errcap)
{
    memset(out, 0, sizeof(*out));
    if (npeers)
        *npeers = 0;
    int fd;
    int r = coordclient_open(a, &fd, err, errcap);
    if (r != CC_OK)
        return r;
    struct msg_command cmd = { .code = code, .arg = arg };
    int s = proto_send(fd, MSG_COMMAND, &cmd, sizeof(cmd));
    if (s < 0) {
        close(fd);
        return cc_err(err, errcap, CC_NOCOORD, "sending the command to coordinator at %s:%d: %s",
                      a->host, a->port, strerror(-s));
    }
    cc_set_rcvtimeo(fd, cc_command_waits(code) ? 0 : COORDCLIENT_REPLY_MS);
    size_t cap = sizeof(*out) + PROTO_MAX_PAYLOAD;
    char *buf = malloc(cap);
    if (!buf) {
        close(fd);
        return cc_err(err, errcap, CC_FAILED, "out of memory for the coordinator's reply");
    }
    uint16_t type = 0;
    long n = proto_recv(fd, &type, buf, (uint32_t)cap);
    close(fd);
    if (n < 0)
        r = cc_recv_error(a, n, "the command's reply", err, errcap);
    else if (type != MSG_COMMAND_REPLY)
        r = cc_err(err, errcap, CC_NOCOORD,
                   "coordinator at %s:%d answered the command with message type %u", a->host,
                   a->port, type);
    else
        r = cc_take_reply(a, buf, n, out, peers, peers_cap, npeers, err, errcap);
    free(buf);
    return r;
}

/* ---- starting a coordinator --------------------------------------------- */

static void cc_exec_coordinator(const char *exe, const struct coordclient_addr *a,
                                const struct coordclient_start *st, const char *portfile)
{
    char port[16], interval[16], launcher[16];
    const char *argv[18];
    int i = 0;
    snprintf(port, sizeof(port), "%d", a->port);
    /* the program we run (or restore) keeps our pid: if it ends before it
     * ever joined, the coordinator must not wait for it */
    snprintf(launcher, sizeof(launcher), "%d", (int)getppid());
    argv[i++] = exe;
    argv[i++] = "--daemon";
    argv[i++] = "--exit-on-last";
    argv[i++] = "--launcher-pid";
    argv[i++] = launcher;
    argv[i++] = "-p";
    argv[i++] = port;
    argv[i++] = "--port-file";
    argv[i++] = portfile;
    if (st && st->interval >= 0) {
        snprintf(interval, sizeof(interval), "%d", st->interval);
        argv[i++] = "-i";
        argv[i++] = interval;
    }
    if (st && st->ckptdir) {
        argv[i++] = "--ckptdir";
        argv[i++] = st->ckptdir;
    }
    argv[i] = NULL;
    execv(exe, (char *const *)argv);
    fprintf(stderr, "stasis: cannot run %s: %s\n", exe, strerror(errno));
    _exit(127);
}

/* Wait (bounded) for the daemonising parent of the coordinator to exit. */
static int cc_wait_started(pid_t pid, int *status)
{
    struct timespec step = { 0, 10 * 1000 * 1000 };
    for (int waited = 0; waited < COORDCLIENT_START_MS; waited += 10) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid)
            return 0;
        if (r < 0 && errno != EINTR)
            return -errno;
        nanosleep(&step, NULL);
    }
    kill(pid, SIGTERM);
    waitpid(pid, status, 0);
    return -ETIMEDOUT;
}

static int cc_read_port_file(const char *path, int *port)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return -errno;
    int p = 0;
    int ok = fscanf(f, "%d", &p) == 1 && p > 0 && p <= 65535;
    fclose(f);
    if (!ok)
        return -EINVAL;
    *port = p;
    return 0;
}

static int cc_start_failed(const struct coordclient_addr *a, int wait_rc, int status,
                           const char *exe, char *err, size_t cap)
{
    if (wait_rc == -ETIMEDOUT)
        return cc_err(err, cap, CC_NOCOORD, "%s did not start within %d s (port %d)", exe,
                      COORDCLIENT_START_MS / 1000, a->port);
    if (wait_rc < 0)
        return cc_err(err, cap, CC_NOCOORD, "waiting for %s: %s", exe, strerror(-wait_rc));
    if (WIFEXITED(status))
        return cc_err(err, cap, CC_NOCOORD,
                      "could not start a coordinator on port %d: %s exited with status %d "
                      "(its message is above)", a->port, exe, WEXITSTATUS(status));
    return cc_err(err, cap, CC_NOCOORD, "could not start a coordinator on port %d: %s was "
                  "killed by signal %d", a->port, exe, WTERMSIG(status));
}

/* Run `dmtcp_coordinator --daemon …` from our own directory and learn its
 * real port from the port file it writes once it listens. */
static int cc_start(struct coordclient_addr *a, const struct coordclient_start *st,
                    char *err, size_t cap)
{
    char dir[PATH_MAX], exe[PATH_MAX + 32];
    int r = coordclient_self_dir(dir, sizeof(dir));
    if (r < 0)
        return cc_err(err, cap, CC_NOCOORD, "cannot find our own directory: %s", strerror(-r));
    snprintf(exe, sizeof(exe), "%s/dmtcp_coordinator", dir);
    if (access(exe, X_OK) < 0)
        return cc_err(err, cap, CC_NOCOORD, "cannot start a coordinator: %s: %s; run make",
                      exe, strerror(errno));
    const char *tmp = getenv("TMPDIR");
    char tdir[PATH_MAX], portfile[PATH_MAX + 16];
    snprintf(tdir, sizeof(tdir), "%s/stasis-start-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(tdir))
        return cc_err(err, cap, CC_NOCOORD, "cannot create a temporary directory %s: %s", tdir,
                      strerror(errno));
    snprintf(portfile, sizeof(portfile), "%s/port", tdir);
    pid_t pid = fork();
    if (pid < 0) {
        rmdir(tdir);
        return cc_err(err, cap, CC_NOCOORD, "fork: %s", strerror(errno));
    }
    if (pid == 0)
        cc_exec_coordinator(exe, a, st, portfile);
    int status = 0;
    r = cc_wait_started(pid, &status);
    if (r < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        r = cc_start_failed(a, r, status, exe, err, cap);
    else if (cc_read_port_file(portfile, &a->port) < 0)
        r = cc_err(err, cap, CC_NOCOORD, "%s started but wrote no port to %s", exe, portfile);
    else
        r = CC_OK;
    unlink(portfile);
    rmdir(tdir);
    return r;
}

/* We only start coordinators that will listen where a points: on loopback. */
static int cc_host_is_loopback(const char *host)
{
    return strcmp(host, "localhost") == 0 || strncmp(host, "127.", 4) == 0 ||
           strcmp(host, "::1") == 0;
}

int coordclient_ensure(struct coordclient_addr *a, enum coordclient_mode mode,
                       const struct coordclient_start *st, int *started, char *err,
                       size_t errcap)
{
    int fd = -1, r;
    *started = 0;
    if (mode == COORD_JOIN && a->port == 0)
        return cc_err(err, errcap, CC_USAGE,
                      "--join-coordinator needs a real port, not 0; give -p PORT");
    if (mode != COORD_NEW && a->port != 0) {
        int listening;
        r = cc_open(a, &fd, &listening, err, errcap);
        if (r == CC_OK) {
            close(fd);
            return CC_OK;
        }
        if (listening) /* the port is taken: never start a coordinator beside it */
            return r;
        if (mode == COORD_JOIN && r == CC_NOCOORD)
            return cc_err(err, errcap, CC_NOCOORD,
                          "no coordinator at %s:%d; start one with dmtcp_coordinator or drop "
                          "--join-coordinator", a->host, a->port);
        if (r != CC_NOCOORD || mode == COORD_JOIN)
            return r;
    }
    if (!cc_host_is_loopback(a->host))
        return cc_err(err, errcap, CC_NOCOORD,
                      "no coordinator at %s:%d, and one is started automatically only on "
                      "127.0.0.1; start dmtcp_coordinator --bind ADDR on %s yourself",
                      a->host, a->port, a->host);
    int want_port = a->port;
    r = cc_start(a, st, err, errcap);
    if (r != CC_OK) {
        /* Another launcher may have won the race for the port: join it. */
        if (mode == COORD_ANY && want_port != 0 && coordclient_open(a, &fd, NULL, 0) == CC_OK) {
            close(fd);
            return CC_OK;
        }
        return r;
    }
    *started = 1;
    r = coordclient_open(a, &fd, err, errcap);
    if (r == CC_OK)
        close(fd);
    return r;
}
