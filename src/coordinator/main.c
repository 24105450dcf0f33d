/*
 * main.c — dmtcp_coordinator: start-up (options, listening socket, secret,
 * port and status files, log file, daemon), the event loop, and clean exit
 * (secret file removed).
 *
 * Start-up order matters to dmtcp_launch: everything that can fail happens
 * before --daemon detaches, and the port file is written last, so a parent
 * that sees exit status 0 finds a listening coordinator, its secret and its
 * port.
 */
#include "coordinator/coord.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/coordclient.h"

static int main_write_file(const char *path, const char *text)
{
    char tmp[PATH_MAX + 32];
    snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid());
    FILE *f = fopen(tmp, "we");
    if (!f) {
        fprintf(stderr, "dmtcp_coordinator: cannot write %s: %s\n", tmp, strerror(errno));
        return -1;
    }
    fputs(text, f);
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        fprintf(stderr, "dmtcp_coordinator: cannot write %s: %s\n", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

static int main_write_files(struct coord *c)
{
    char text[PATH_MAX + 5000];
    if (c->opt.status_file) {
        snprintf(text, sizeof(text),
                 "DMTCP_COORD_HOST=%s\nDMTCP_COORD_PORT=%d\nCOORD_PID=%d\nSECRET_FILE=%s\n",
                 c->opt.bind_addr, c->port, (int)getpid(), c->secret_path);
        if (main_write_file(c->opt.status_file, text) < 0)
            return -1;
    }
    if (c->opt.port_file) {
        snprintf(text, sizeof(text), "%d\n", c->port);
        if (main_write_file(c->opt.port_file, text) < 0)
            return -1;
    }
    return 0;
}

/* A new secret for our port, in the first usable private directory
 * (secret.h); the directories refused on the way are named once. */
static int main_secret(struct coord *c)
{
    struct secret_where w;
    char token[SECRET_TOKEN_SIZE];
    int r = secret_create(c->port, token, &w);
    snprintf(c->secret_path, sizeof(c->secret_path), "%s", w.path);
    if (r < 0) {
        if (w.path[0])
            fprintf(stderr, "dmtcp_coordinator: cannot create the secret file %s: %s\n", w.path,
                    strerror(-r));
        else
            fprintf(stderr, "dmtcp_coordinator: no private directory for the secret: %s; set "
                    "XDG_RUNTIME_DIR to a directory of yours with mode 0700\n",
                    w.note[0] ? w.note : strerror(-r));
        return -1;
    }
    if (w.note[0])
        fprintf(stderr, "dmtcp_coordinator: %s\n", w.note);
    auth_key(token, c->key);
    auth_wipe(token, sizeof(token));
    return 0;
}

static int main_signals(struct coord *c)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    c->signal_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (c->signal_fd < 0) {
        fprintf(stderr, "dmtcp_coordinator: signalfd: %s\n", strerror(errno));
        return -1;
    }
    return 0;
}

static int main_open_log(const struct coord *c)
{
    if (!c->opt.logfile)
        return 0;
    int fd = open(c->opt.logfile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) {
        fprintf(stderr, "dmtcp_coordinator: cannot open log file %s: %s\n", c->opt.logfile,
                strerror(errno));
        return -1;
    }
    dup2(fd, STDERR_FILENO);
    close(fd);
    return 0;
}

/* Detach: the parent exits 0 once everything is set up; the child carries on
 * with stdin/stdout on /dev/null (and stderr too, unless there is a log). */
static int main_daemonize(const struct coord *c)
{
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "dmtcp_coordinator: fork: %s\n", strerror(errno));
        return -1;
    }
    if (pid > 0)
        _exit(0);
    setsid();
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
        dup2(null, STDIN_FILENO);
        dup2(null, STDOUT_FILENO);
        if (!c->opt.logfile)
            dup2(null, STDERR_FILENO);
        close(null);
    }
    if (chdir("/") < 0)
        return 0;
    return 0;
}

static int main_setup(struct coord *c)
{
    int r = coordclient_self_dir(c->self_dir, sizeof(c->self_dir));
    if (r < 0) {
        fprintf(stderr, "dmtcp_coordinator: cannot find its own directory: %s\n", strerror(-r));
        return -1;
    }
    if (main_signals(c) < 0 || conn_listen(c) < 0)
        return -1;
    lifetime_init(c); /* while the launcher waits for us, so surely alive */
    if (main_secret(c) < 0)
        return -1;
    if (main_open_log(c) < 0 || main_write_files(c) < 0) {
        unlink(c->secret_path);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static struct coord c;
    coord_parse_options(argc, argv, &c.opt);
    coord_log_init(c.opt.quiet);
    c.listen_fd = c.signal_fd = -1;
    if (main_setup(&c) < 0)
        return 1;
    if (c.opt.daemon && main_daemonize(&c) < 0) {
        unlink(c.secret_path);
        return 1;
    }
    coord_info("start: listening on %s:%d (pid %d, secret %s, interval %d s%s%s)",
               c.opt.bind_addr, c.port, (int)getpid(), c.secret_path, c.opt.interval,
               c.opt.ckptdir[0] ? ", ckptdir " : "", c.opt.ckptdir);
    ckpt_reset_timer(&c);
    conn_loop(&c);
    unlink(c.secret_path);
    coord_info("exit: port %d closed", c.port);
    return 0;
}
