/*
 * script.c — writes dmtcp_restart_script.sh after a successful checkpoint:
 * a /bin/sh script that execs dmtcp_restart (from the coordinator's own
 * directory) with this coordinator's host and port, the user's arguments,
 * and every image of the checkpoint.  dmtcp_restart lets later options
 * override earlier ones, so `./dmtcp_restart_script.sh -p 0` works.
 * Written to a temporary name and renamed, so a reader never sees half.
 */
#include "coordinator/coord.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SCRIPT_NAME "dmtcp_restart_script.sh"

/* Print s single-quoted for sh. */
static void script_quote(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'')
            fputs("'\\''", f);
        else
            fputc(*s, f);
    }
    fputc('\'', f);
}

/* The directory: --ckptdir, else the directory of the first image. */
static int script_dir(const struct coord *c, char *dir, size_t cap)
{
    if (c->opt.ckptdir[0]) {
        snprintf(dir, cap, "%s", c->opt.ckptdir);
        return 0;
    }
    if (c->ckpt.nimages == 0)
        return -1;
    snprintf(dir, cap, "%s", c->ckpt.images[0]);
    char *slash = strrchr(dir, '/');
    if (!slash)
        return -1;
    if (slash == dir)
        slash[1] = 0;
    else
        *slash = 0;
    return 0;
}

/* The host restarted processes should connect to. */
static const char *script_host(const struct coord *c, char *buf, size_t cap)
{
    const char *b = c->opt.bind_addr;
    if (strcmp(b, "0.0.0.0") != 0 && strcmp(b, "::") != 0)
        return b;
    if (gethostname(buf, cap - 1) < 0 || !buf[0])
        return "127.0.0.1";
    buf[cap - 1] = 0;
    return buf;
}

static void script_body(FILE *f, const struct coord *c)
{
    char restart[PATH_MAX + 32], hostbuf[256], port[16];
    snprintf(restart, sizeof(restart), "%s/dmtcp_restart", c->self_dir);
    snprintf(port, sizeof(port), "%d", c->port);
    time_t now = time(NULL);
    char when[64];
    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", localtime(&now));
    fprintf(f, "#!/bin/sh\n"
               "# Restarts the computation saved by checkpoint %llu (%s).\n"
               "# Written by dmtcp_coordinator (Stasis).  Extra arguments go to\n"
               "# dmtcp_restart and override the ones below, e.g. -p 0 for a new port.\n",
            (unsigned long long)c->ckpt.generation, when);
    fputs("exec ", f);
    script_quote(f, restart);
    fputs(" -h ", f);
    script_quote(f, script_host(c, hostbuf, sizeof(hostbuf)));
    fputs(" -p ", f);
    script_quote(f, port);
    fputs(" \"$@\"", f);
    for (int i = 0; i < c->ckpt.nimages; i++) {
        fputs(" \\\n  ", f);
        script_quote(f, c->ckpt.images[i]);
    }
    fputc('\n', f);
}

int script_write(struct coord *c, char *err, size_t cap)
{
    char dir[PATH_MAX], path[PATH_MAX + 64], tmp[PATH_MAX + 96];
    if (script_dir(c, dir, sizeof(dir)) < 0) {
        snprintf(err, cap, "no checkpoint directory and no image path");
        return -1;
    }
    snprintf(path, sizeof(path), "%s/" SCRIPT_NAME, dir);
    snprintf(tmp, sizeof(tmp), "%s/." SCRIPT_NAME ".%d.tmp", dir, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0755);
    FILE *f = fd < 0 ? NULL : fdopen(fd, "w");
    if (!f) {
        snprintf(err, cap, "cannot create %s: %s", tmp, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    script_body(f, c);
    int bad = ferror(f) || fflush(f) != 0 || fchmod(fd, 0755) != 0 || fsync(fd) != 0;
    int e = errno;
    if (fclose(f) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    if (!bad && rename(tmp, path) != 0) {
        bad = 1;
        e = errno;
    }
    if (bad) {
        snprintf(err, cap, "writing %s: %s", path, strerror(e));
        unlink(tmp);
        return -1;
    }
    coord_info("restart script: %s", path);
    return 0;
}
