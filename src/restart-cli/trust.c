/*
 * trust.c — dmtcp_restart uses an image only if the user running it owns
 * it and no one else can have written it.
 *
 * A restart runs whatever code and data an image holds with the rights of
 * whoever restarts it, so an image is a program: root restarting another
 * user's image would run that user's code as root, and an image another
 * user can write is that user's program too.  The owner recorded inside
 * the image says nothing (anyone can write any header); the file system
 * does.  So every image, and every older image of an incremental chain, is
 * opened without following a symbolic link (a link can be redirected at
 * any time) and the opened descriptor — not the name, which can change
 * between a check and a later open — must be a regular file, owned by the
 * user (root: by root), writable by neither its group nor others.
 * dmtcp_restart then reads and passes on only that descriptor.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "restart-cli/trust.h"

static const char *trust_kind(mode_t m)
{
    if (S_ISDIR(m))
        return "a directory";
    if (S_ISFIFO(m))
        return "a FIFO (named pipe)";
    if (S_ISSOCK(m))
        return "a socket";
    if (S_ISCHR(m))
        return "a character device";
    if (S_ISBLK(m))
        return "a block device";
    return "not a file";
}

static void trust_user_name(uid_t uid, char *out, size_t cap)
{
    struct passwd *pw = getpwuid(uid);
    if (pw)
        snprintf(out, cap, "%s (uid %u)", pw->pw_name, (unsigned)uid);
    else
        snprintf(out, cap, "uid %u", (unsigned)uid);
}

static int trust_refuse_link(const char *path, char *err, size_t cap)
{
    char target[1024];
    ssize_t n = readlink(path, target, sizeof target - 1);
    target[n > 0 ? n : 0] = 0;
    snprintf(err, cap, "%s: is a symbolic link (to %s): dmtcp_restart reads only the image file itself, as a "
             "link can be pointed elsewhere at any moment; give the image's own path",
             path, n > 0 ? target : "?");
    return -1;
}

static int trust_check(int fd, const char *path, char *err, size_t cap)
{
    struct stat st;
    if (fstat(fd, &st) < 0) {
        snprintf(err, cap, "%s: cannot examine it: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, cap, "%s: not a regular file (it is %s)", path, trust_kind(st.st_mode));
        return -1;
    }
    uid_t me = getuid();
    if (st.st_uid != me) {
        char owner[128], self[128];
        trust_user_name(st.st_uid, owner, sizeof owner);
        trust_user_name(me, self, sizeof self);
        snprintf(err, cap, "%s: owned by user %s, not by you, %s: an image runs as whoever restarts it, so "
                 "dmtcp_restart uses only your own; if you trust it, copy it (cp) into a directory only you "
                 "can write and restart the copy",
                 path, owner, self);
        return -1;
    }
    if (st.st_mode & (S_IWGRP | S_IWOTH)) {
        const char *who = (st.st_mode & S_IWOTH) ? "other users" : "its group";
        snprintf(err, cap, "%s: writable by %s (mode %04o): someone else may have changed what it would run "
                 "as you; if you are sure nobody did, chmod go-w it and restart again",
                 path, who, (unsigned)(st.st_mode & 07777));
        return -1;
    }
    return 0;
}

int trust_open_image(const char *path, char *err, size_t cap)
{
    err[0] = 0;
    /* O_NONBLOCK: a FIFO put in the image's place must not hang the open */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        int e = errno;
        struct stat st;
        if (e == ELOOP && lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
            return trust_refuse_link(path, err, cap);
        snprintf(err, cap, "%s: cannot open: %s", path, strerror(e));
        errno = e;
        return -1;
    }
    if (trust_check(fd, path, err, cap) < 0 || fcntl(fd, F_SETFL, 0) < 0) {
        if (!err[0])
            snprintf(err, cap, "%s: cannot use it: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}
