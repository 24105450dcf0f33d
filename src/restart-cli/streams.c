/*
 * streams.c — before a restart: standard streams that were regular files.
 *
 * A program started as `sqlite3 db < script.sql > out.log` reads on where
 * it was in the script after a restart, and writes on where it was in the
 * log: the engine's stdio plugin (src/engine/plugins/stdio.c) saves what
 * descriptors 0-2 were, and puts those files back at their offsets.  Here
 * dmtcp_restart checks, before anything is restored, that each such file is
 * still there and is the same file (a script replaced by another would be
 * read from the middle of something else), and opens the main root's files
 * once, so that the processes of a tree that wrote to one `> log` share one
 * offset again instead of overwriting each other.  The user can keep any
 * stream as dmtcp_restart was given it instead (--stdin/--stdout/--stderr
 * inherit, or STASIS_RESTART_STDIO=inherit for all three).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/image_check.h"
#include "restart-cli/streams.h"

static const char *const streams_names[3] = {"stdin", "stdout", "stderr"};

static int streams_word(const char *what, const char *v, unsigned bits, unsigned *inherit)
{
    if (!strcmp(v, "inherit"))
        *inherit |= bits;
    else if (!strcmp(v, "saved"))
        *inherit &= ~bits;
    else {
        fprintf(stderr, "dmtcp_restart: invalid %s '%s': expected 'saved' (the file the stream was on at the "
                "checkpoint) or 'inherit' (what dmtcp_restart was given)\n", what, v);
        return -1;
    }
    return 0;
}

int streams_inherit_env(unsigned *inherit)
{
    const char *v = getenv("STASIS_RESTART_STDIO");
    *inherit = 0;
    return v && *v ? streams_word("STASIS_RESTART_STDIO", v, 7, inherit) : 0;
}

int streams_option(const char *opt, const char *value, unsigned *inherit)
{
    for (int i = 0; i < 3; i++)
        if (!strcmp(opt + 2, streams_names[i]))
            return streams_word(opt, value, 1u << i, inherit);
    return streams_word(opt, value, 7, inherit);
}

/* The image's saved streams into s[3]: 1, or 0 if it has none (an image
 * of a process that never checkpointed with the stdio plugin). */
static int streams_load(int fd, const struct image_header *hdr, struct image_stdio *s)
{
    memset(s, 0, 3 * sizeof *s);
    if (image_section_read(fd, hdr, IMAGE_STDIO_SECTION, s, 3 * sizeof *s) != (long)(3 * sizeof *s))
        return 0;
    for (int i = 0; i < 3; i++)
        s[i].path[sizeof s[i].path - 1] = 0;
    return 1;
}

/* The file a saved stream names is still that file; else -1 (err). */
static int streams_same_file(const char *image, int i, const struct image_stdio *s, const struct stat *st, int got,
                             char *err, size_t cap)
{
    if (got < 0) {
        snprintf(err, cap, "%s: its %s was the file %s, which is gone (%s); put it back, or restart with "
                 "--%s inherit to give the program what dmtcp_restart is given instead", image,
                 streams_names[i], s->path, strerror(errno), streams_names[i]);
        return -1;
    }
    if ((uint64_t)st->st_dev != s->dev || (uint64_t)st->st_ino != s->ino || !S_ISREG(st->st_mode)) {
        snprintf(err, cap, "%s: its %s was the file %s, which has been replaced by another file since the "
                 "checkpoint; put the original back, or restart with --%s inherit to give the program what "
                 "dmtcp_restart is given instead", image, streams_names[i], s->path, streams_names[i]);
        return -1;
    }
    return 0;
}

int streams_check(const char *image, int fd, const struct image_header *hdr, unsigned inherit, char *err,
                  size_t cap)
{
    struct image_stdio s[3];
    if (!streams_load(fd, hdr, s))
        return 0;
    for (int i = 0; i < 3; i++) {
        if (s[i].kind != IMAGE_STDIO_FILE || (inherit & (1u << i)))
            continue;
        struct stat st;
        if (streams_same_file(image, i, &s[i], &st, lstat(s[i].path, &st), err, cap) < 0)
            return -1;
    }
    return 0;
}

int streams_open(const char *image, int fd, const struct image_header *hdr, struct restart_info *ri, char *err,
                 size_t cap)
{
    for (int i = 0; i < 3; i++) {
        ri->stdio_fd[i] = -1;
        ri->stdio_offset[i] = 0;
    }
    struct image_stdio s[3];
    if (!streams_load(fd, hdr, s))
        return 0;
    const int same = O_ACCMODE | O_APPEND; /* what tells one description from another */
    for (int i = 0; i < 3; i++) {
        if (s[i].kind != IMAGE_STDIO_FILE || (ri->stdio_inherit & (1u << i)))
            continue;
        int j = 0;
        while (j < i && !(ri->stdio_fd[j] >= 0 && s[j].dev == s[i].dev && s[j].ino == s[i].ino &&
                          s[j].offset == s[i].offset && ((s[j].flags ^ s[i].flags) & same) == 0))
            j++;
        if (j < i) { /* `> log 2>&1`: one description for both */
            ri->stdio_fd[i] = ri->stdio_fd[j];
            ri->stdio_offset[i] = ri->stdio_offset[j];
            continue;
        }
        int f = open(s[i].path, (s[i].flags & IMAGE_STDIO_OPEN_FLAGS) | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
        struct stat st;
        int got = f < 0 ? -1 : fstat(f, &st);
        if (streams_same_file(image, i, &s[i], &st, got, err, cap) < 0) {
            if (f >= 0)
                close(f);
            return -1;
        }
        if (!(s[i].flags & O_APPEND) && lseek(f, s[i].offset, SEEK_SET) < 0) {
            snprintf(err, cap, "%s: cannot seek its %s %s to offset %lld: %s", image, streams_names[i], s[i].path,
                     (long long)s[i].offset, strerror(errno));
            close(f);
            return -1;
        }
        /* above 2 (0-2 stay dmtcp_restart's until the engine puts these
         * there), and inherited by the helper and the restored engine */
        int g = fcntl(f, F_DUPFD, 3);
        close(f);
        if (g < 0) {
            snprintf(err, cap, "%s: cannot keep its %s %s open: %s", image, streams_names[i], s[i].path,
                     strerror(errno));
            return -1;
        }
        ri->stdio_fd[i] = g;
        ri->stdio_offset[i] = s[i].offset;
    }
    return 0;
}
