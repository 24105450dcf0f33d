/*
 * fds-5000-open-files.c — a program that raises RLIMIT_NOFILE and holds
 * 5000 regular files open.  Every descriptor keeps its number (900 and
 * above too, where the engine used to keep its own and skipped them), its
 * file, access mode, close-on-exec flag and offset; descriptors made with
 * dup() still share their offset; reading goes on where it stopped, and
 * RLIMIT_NOFILE is what the program set.
 *
 * Each file holds its own pattern and each descriptor stands at its own
 * offset, so a descriptor restored on the wrong file or at the wrong place
 * is caught.  Reading after the check only moves offsets, which restart2
 * takes again from the image.
 */
#include "scenario.h"

#include <sys/resource.h>

#define NFILES 5000
#define FILE_SIZE 128
#define NDUPS 50 /* every NFILES/NDUPS-th file also gets a dup() */

struct entry {
    int fd;
    int dup_fd;
    ino_t ino;
    off_t offset;
    int accmode;
    int cloexec;
};

static struct entry entries[NFILES];
static int nfiles;

static off_t offset_of(int i)
{
    return (off_t)(i * 7 % (FILE_SIZE - 16));
}

static void open_one(int i)
{
    char name[32], content[FILE_SIZE];
    snprintf(name, sizeof name, "f%04d", i);
    scen_fill(content, sizeof content, 1000 + (uint64_t)i);
    free(scen_make_file(name, content, sizeof content));
    static const int modes[3] = { O_RDONLY, O_RDWR, O_RDONLY | O_CLOEXEC };
    int flags = modes[i % 3];
    char *p = scen_path(name);
    int fd = open(p, flags);
    if (fd < 0)
        fail_errno("open %s (file %d of %d)", p, i, nfiles);
    free(p);
    struct stat st;
    if (fstat(fd, &st) != 0)
        fail_errno("fstat fd %d", fd);
    if (lseek(fd, offset_of(i), SEEK_SET) != offset_of(i))
        fail_errno("lseek fd %d", fd);
    entries[i] = (struct entry){ .fd = fd, .dup_fd = -1, .ino = st.st_ino, .offset = offset_of(i),
                                 .accmode = flags & O_ACCMODE, .cloexec = !!(flags & O_CLOEXEC) };
    if (i % (NFILES / NDUPS) == 0 && (entries[i].dup_fd = dup(fd)) < 0)
        fail_errno("dup fd %d", fd);
}

static void check_fd(int i, int fd, int cloexec)
{
    const struct entry *e = &entries[i];
    int fl = fcntl(fd, F_GETFL), fdfl = fcntl(fd, F_GETFD);
    if (fl < 0 || fdfl < 0)
        fail_errno("fd %d (file f%04d) is no longer open", fd, i);
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_ino != e->ino)
        fail("fd %d names another file than f%04d (inode %lu, expected %lu)", fd, i, (unsigned long)st.st_ino,
             (unsigned long)e->ino);
    if ((fl & O_ACCMODE) != e->accmode)
        fail("fd %d (f%04d): access mode %#x, expected %#x", fd, i, fl & O_ACCMODE, e->accmode);
    if (!!(fdfl & FD_CLOEXEC) != cloexec)
        fail("fd %d (f%04d): FD_CLOEXEC is %s", fd, i, cloexec ? "lost" : "set");
    off_t cur = lseek(fd, 0, SEEK_CUR);
    if (cur != e->offset)
        fail("fd %d (f%04d): offset %lld, expected %lld", fd, i, (long long)cur, (long long)e->offset);
}

int main(void)
{
    struct rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) != 0)
        fail_errno("getrlimit(RLIMIT_NOFILE)");
    rlim_t want = NFILES + NDUPS + 200;
    if (lim.rlim_max != RLIM_INFINITY && lim.rlim_max < want)
        want = lim.rlim_max;
    lim.rlim_cur = want;
    if (setrlimit(RLIMIT_NOFILE, &lim) != 0)
        fail_errno("setrlimit(RLIMIT_NOFILE, %llu)", (unsigned long long)want);
    /* with a hard limit below what the test needs, as many as fit */
    nfiles = want >= NFILES + NDUPS + 200 ? NFILES : (int)want - NDUPS - 200;
    if (nfiles < 100)
        fail("the hard RLIMIT_NOFILE (%llu) is too low for this test", (unsigned long long)lim.rlim_max);
    for (int i = 0; i < nfiles; i++)
        open_one(i);
    int highest = 0;
    for (int i = 0; i < nfiles; i++)
        highest = entries[i].fd > highest ? entries[i].fd : highest;

    scen_ready();
    scen_wait_check();

    struct rlimit now;
    if (getrlimit(RLIMIT_NOFILE, &now) != 0 || now.rlim_cur != lim.rlim_cur || now.rlim_max != lim.rlim_max)
        fail("RLIMIT_NOFILE is %llu/%llu, expected %llu/%llu", (unsigned long long)now.rlim_cur,
             (unsigned long long)now.rlim_max, (unsigned long long)lim.rlim_cur, (unsigned long long)lim.rlim_max);
    for (int i = 0; i < nfiles; i++) {
        check_fd(i, entries[i].fd, entries[i].cloexec);
        if (entries[i].dup_fd >= 0)
            check_fd(i, entries[i].dup_fd, 0);
    }
    for (int i = 0; i < nfiles; i++) {
        const struct entry *e = &entries[i];
        unsigned char got[8], want_bytes[FILE_SIZE];
        scen_fill(want_bytes, sizeof want_bytes, 1000 + (uint64_t)i);
        if (read(e->fd, got, sizeof got) != (ssize_t)sizeof got)
            fail_errno("read fd %d (f%04d)", e->fd, i);
        if (memcmp(got, want_bytes + e->offset, sizeof got) != 0)
            fail("fd %d (f%04d): read did not continue at offset %lld", e->fd, i, (long long)e->offset);
        if (e->dup_fd >= 0 && lseek(e->dup_fd, 0, SEEK_CUR) != e->offset + (off_t)sizeof got)
            fail("fd %d no longer shares its offset with fd %d (f%04d)", e->dup_fd, e->fd, i);
    }
    if (highest < 900 && nfiles == NFILES)
        fail("the highest descriptor is %d: the test meant to reach 900 and above", highest);
    pass();
}
