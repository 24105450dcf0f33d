/*
 * stdio.c — descriptors 0, 1 and 2 that are regular files.
 *
 * A program started as `sqlite3 db < script.sql > out.log` must, after a
 * restart, go on reading the script where it was and writing the log
 * where it was: neither read its input again nor lose the rest of it, and
 * never truncate or repeat its output.  So a standard stream on a regular
 * file is that file again after a restart, at its offset with its flags.
 * A stream on a terminal is the terminal dmtcp_restart runs on, and any
 * other kind (a pipe: pipe.c; /dev/null, a socket) is what dmtcp_restart
 * was given — unless the user says otherwise, per stream
 * (dmtcp_restart --stdin/--stdout/--stderr inherit).
 *
 * PRECHECKPOINT saves what 0-2 are in the image's section "stasis.stdio"
 * (common/image.h).  dmtcp_restart reads it from every image before it
 * restores anything: it refuses a restart whose file is gone or was
 * replaced (another inode at the path), and reopens its main root's files
 * once, before it forks the other processes, so that processes that shared
 * one open file description (a shell and the children writing to the same
 * `> log`) share one again, with one offset (restart_info.stdio_fd).
 * RESTART here, before the fds plugin reopens the other descriptors, puts
 * that shared file on the stream when it stands for the same file at the
 * same saved offset with the same flags, and otherwise opens the file
 * again for this process alone.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "engine/engine.h"
#include "engine/sys.h"

static struct image_stdio stdio_saved[3]; /* engine memory: saved, not restored */

static const char *const stdio_names[3] = {"stdin", "stdout", "stderr"};

static void stdio_note(int fd, struct image_stdio *s)
{
    memset(s, 0, sizeof *s);
    struct stat st;
    if (fstat(fd, &st) < 0)
        return;
    if (isatty(fd)) {
        s->kind = IMAGE_STDIO_TERMINAL;
        return;
    }
    if (!S_ISREG(st.st_mode) || st.st_nlink == 0)
        return; /* a deleted file cannot be opened again: what dmtcp_restart gives */
    char link[32];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, s->path, sizeof s->path - 1);
    if (n <= 0 || s->path[0] != '/')
        return;
    s->path[n] = 0;
    s->kind = IMAGE_STDIO_FILE;
    s->flags = fcntl(fd, F_GETFL);
    s->offset = lseek(fd, 0, SEEK_CUR);
    s->dev = st.st_dev;
    s->ino = st.st_ino;
}

static void stdio_save(void)
{
    for (int fd = 0; fd < 3; fd++)
        stdio_note(fd, &stdio_saved[fd]);
    dmtcp_plugin_save(IMAGE_STDIO_SECTION, stdio_saved, sizeof stdio_saved);
}

static int stdio_same_file(int fd, const struct image_stdio *s)
{
    struct stat st;
    return fd >= 0 && fstat(fd, &st) == 0 && (uint64_t)st.st_dev == s->dev && (uint64_t)st.st_ino == s->ino;
}

/* The file for stream `fd`: dmtcp_restart's shared one when it is the same
 * file at the same offset (one open file description, as before), or a
 * new open of the path; -1 after a warning if neither. */
static int stdio_file_for(int fd, const struct image_stdio *s, const struct restart_info *ri)
{
    for (int j = 0; j < 3; j++) {
        int shared = ri->stdio_fd[j];
        if (shared > 2 && stdio_same_file(shared, s) && ri->stdio_offset[j] == s->offset &&
            ((fcntl(shared, F_GETFL) ^ s->flags) & (O_ACCMODE | O_APPEND)) == 0)
            return (int)sys_call1(SYS_dup, shared);
    }
    int nf = open(s->path, (s->flags & IMAGE_STDIO_OPEN_FLAGS) | O_NOCTTY | O_NOFOLLOW | O_CLOEXEC);
    if (nf < 0) {
        engine_warn("%s: cannot open %s again (%s); it is what dmtcp_restart was given", stdio_names[fd], s->path,
                    strerror(errno));
        return -1;
    }
    if (!stdio_same_file(nf, s)) {
        engine_warn("%s: %s is no longer the file it was at the checkpoint (replaced since); it is what "
                    "dmtcp_restart was given",
                    stdio_names[fd], s->path);
        close(nf);
        return -1;
    }
    if (!(s->flags & O_APPEND))
        lseek(nf, s->offset, SEEK_SET);
    return nf;
}

static void stdio_restore(void)
{
    const struct restart_info *ri = &restore_state.info;
    long n = dmtcp_plugin_load(IMAGE_STDIO_SECTION, stdio_saved, sizeof stdio_saved);
    for (int fd = 0; fd < 3 && n == (long)sizeof stdio_saved; fd++) {
        struct image_stdio *s = &stdio_saved[fd];
        s->path[sizeof s->path - 1] = 0;
        if (s->kind != IMAGE_STDIO_FILE || (ri->stdio_inherit & (1u << fd)))
            continue;
        int nf = stdio_file_for(fd, s, ri);
        if (nf < 0)
            continue;
        sys_call3(SYS_dup3, nf, fd, 0);
        sys_call1(SYS_close, nf);
    }
    /* dmtcp_restart's copies are not the program's */
    for (int j = 0; j < 3; j++) {
        int dup_before = 0;
        for (int k = 0; k < j; k++)
            dup_before |= ri->stdio_fd[k] == ri->stdio_fd[j];
        if (ri->stdio_fd[j] > 2 && !dup_before)
            sys_call1(SYS_close, ri->stdio_fd[j]);
    }
    memset(stdio_saved, 0, sizeof stdio_saved);
}

static void stdio_hook(dmtcp_event_t ev, dmtcp_event_data_t *data)
{
    (void)data;
    if (ev == DMTCP_EVENT_PRECHECKPOINT)
        stdio_save();
    else if (ev == DMTCP_EVENT_RESTART)
        stdio_restore();
}

static const dmtcp_plugin_descriptor_t stdio_descriptor = {
    .api_version = DMTCP_NATIVE_PLUGIN_API_VERSION,
    .name = "stdio",
    .version = STASIS_VERSION,
    .description = "standard streams on regular files, reopened at their offsets",
    .event_hook = stdio_hook,
};
/* before fds: dmtcp_restart's files are put on 0-2 and closed before the
 * program's other descriptors are reopened at their numbers */
PLUGIN_DECL_BUILTIN(stdio_descriptor, 25, NULL);
