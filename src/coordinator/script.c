/*
 * script.c — writes dmtcp_restart_script.sh after a successful checkpoint:
 * a /bin/sh script that execs dmtcp_restart (from the coordinator's own
 * directory) with this coordinator's host and port, the user's arguments,
 * and every image of the checkpoint.  dmtcp_restart lets later options
 * override earlier ones, so `./dmtcp_restart_script.sh -p 0` works.
 *
 * The checkpoint directory may be writable by other users (/tmp, a shared
 * project directory), and a script is code its owner will run: it is
 * written under a fresh random name created with O_EXCL|O_NOFOLLOW (a name
 * someone planted is never opened), fsync'd, and renamed over the final
 * name (rename replaces a planted file or link, never follows it), so a
 * reader never sees half and the script is always the coordinator's own,
 * mode 0700 (nobody else could restart the user's images anyway).  A
 * directory others may write without the sticky bit lets them replace
 * files after the fact: the coordinator warns once per directory.
 */
#include "coordinator/coord.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SCRIPT_NAME "dmtcp_restart_script.sh"
#define SCRIPT_MODE 0700 /* the owner's alone: nobody else could restart the images anyway */
#define SCRIPT_TRIES 16  /* fresh random names tried before giving up */

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

/* Warn (once per directory) when other users may write dir and the
 * sticky bit does not keep them from replacing what is in it. */
static void script_warn_shared_dir(int dirfd, const char *dir)
{
    static char warned[PATH_MAX];
    struct stat st;
    if (fstat(dirfd, &st) < 0 || !(st.st_mode & (S_IWGRP | S_IWOTH)) || (st.st_mode & S_ISVTX) ||
        !strcmp(warned, dir))
        return;
    snprintf(warned, sizeof(warned), "%s", dir);
    coord_log("warning: checkpoint directory %s is writable by %s (mode %04o) without the sticky bit: they can "
              "replace its images and %s; dmtcp_restart refuses files that are not the user's own, but keep "
              "checkpoints in a directory only you can write (or chmod +t it)",
              dir, (st.st_mode & S_IWOTH) ? "every user" : "its group", (unsigned)(st.st_mode & 07777),
              SCRIPT_NAME);
}

/* Create the script's temporary under a fresh name in dirfd: O_EXCL, so a
 * name someone else created first is never opened.  fd, or -1 (errno). */
static int script_create_tmp(int dirfd, char *tmp, size_t cap)
{
    for (int i = 0; i < SCRIPT_TRIES; i++) {
        uint64_t r = 0;
        if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
            r = (uint64_t)coord_now_ms() * 0x9E3779B97F4A7C15ull ^ (uint64_t)i;
        snprintf(tmp, cap, "." SCRIPT_NAME ".%d.%016llx.tmp", (int)getpid(), (unsigned long long)r);
        int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    errno = EEXIST;
    return -1;
}

/* After the rename: the final name holds the file written. */
static int script_is_in_place(int fd, int dirfd)
{
    struct stat mine, there;
    return fstat(fd, &mine) == 0 && fstatat(dirfd, SCRIPT_NAME, &there, AT_SYMLINK_NOFOLLOW) == 0 &&
           mine.st_dev == there.st_dev && mine.st_ino == there.st_ino;
}

int script_write(struct coord *c, char *err, size_t cap)
{
    char dir[PATH_MAX], path[PATH_MAX + 64], tmp[128];
    if (script_dir(c, dir, sizeof(dir)) < 0) {
        snprintf(err, cap, "no checkpoint directory and no image path");
        return -1;
    }
    snprintf(path, sizeof(path), "%s/" SCRIPT_NAME, dir);
    int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0) {
        snprintf(err, cap, "cannot open the directory of %s: %s", path, strerror(errno));
        return -1;
    }
    script_warn_shared_dir(dirfd, dir);
    int fd = script_create_tmp(dirfd, tmp, sizeof(tmp));
    FILE *f = fd < 0 ? NULL : fdopen(fd, "w");
    if (!f) {
        snprintf(err, cap, "cannot create %s/%s: %s", dir, tmp, strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlinkat(dirfd, tmp, 0);
        }
        close(dirfd);
        return -1;
    }
    script_body(f, c);
    int bad = ferror(f) || fflush(f) != 0 || fchmod(fd, SCRIPT_MODE) != 0 || fsync(fd) != 0;
    int e = errno, replaced = 0;
    if (!bad && renameat(dirfd, tmp, dirfd, SCRIPT_NAME) != 0) {
        bad = 1;
        e = errno;
    } else if (!bad && !script_is_in_place(fd, dirfd)) {
        bad = replaced = 1;
    }
    if (fclose(f) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    if (bad) {
        if (replaced)
            snprintf(err, cap, "%s was replaced by another file as it was renamed into place: another user can "
                     "write %s", path, dir);
        else
            snprintf(err, cap, "writing %s: %s", path, strerror(e));
        unlinkat(dirfd, tmp, 0); /* gone already when the rename happened */
        close(dirfd);
        return -1;
    }
    fsync(dirfd);
    close(dirfd);
    coord_info("restart script: %s", path);
    return 0;
}
