/*
 * files-modes-offsets.c — regular files open read-only, write-only,
 * read-write and append keep their fd numbers, access modes, status flags
 * (O_APPEND, O_NONBLOCK), close-on-exec flags and offsets; a dup()ed fd
 * still shares its offset with the original; reads and writes continue
 * where they left off.  Writes after the check are idempotent (restart2).
 */
#include "scenario.h"

#define SIZE 8192
enum { FD_RO = 40, FD_WO = 41, FD_RW = 42, FD_APP = 43, FD_DUP = 44 };

static char content[SIZE];

static void open_at(const char *name, int flags, int want_fd)
{
    char *p = scen_path(name);
    int fd = open(p, flags, 0644);
    if (fd < 0)
        fail_errno("open %s", p);
    if (dup2(fd, want_fd) != want_fd)
        fail_errno("dup2");
    close(fd);
    free(p);
}

static void expect_fd(int fd, const char *what, int accmode, int status_flags, int cloexec, off_t off)
{
    int fl = fcntl(fd, F_GETFL), fdfl = fcntl(fd, F_GETFD);
    if (fl < 0 || fdfl < 0)
        fail_errno("%s: fd %d is no longer open", what, fd);
    if ((fl & O_ACCMODE) != accmode)
        fail("%s: access mode %#x, expected %#x", what, fl & O_ACCMODE, accmode);
    if ((fl & (O_APPEND | O_NONBLOCK)) != status_flags)
        fail("%s: status flags %#x, expected %#x", what, fl & (O_APPEND | O_NONBLOCK), status_flags);
    if (!!(fdfl & FD_CLOEXEC) != cloexec)
        fail("%s: FD_CLOEXEC is %s", what, cloexec ? "lost" : "set");
    off_t cur = lseek(fd, 0, SEEK_CUR);
    if (cur != off)
        fail("%s: offset %lld, expected %lld", what, (long long)cur, (long long)off);
}

int main(void)
{
    scen_fill(content, SIZE, 80);
    free(scen_make_file("ro.txt", content, SIZE));
    free(scen_make_file("rw.txt", content, SIZE));
    free(scen_make_file("app.txt", content, 100));

    open_at("ro.txt", O_RDONLY | O_CLOEXEC, FD_RO);
    open_at("wo.txt", O_WRONLY | O_CREAT | O_TRUNC, FD_WO);
    open_at("rw.txt", O_RDWR, FD_RW);
    open_at("app.txt", O_WRONLY | O_APPEND, FD_APP);
    fcntl(FD_RO, F_SETFD, FD_CLOEXEC); /* dup2 cleared it */
    fcntl(FD_RW, F_SETFL, O_NONBLOCK);
    if (dup2(FD_RW, FD_DUP) != FD_DUP)
        fail_errno("dup2");

    char buf[SIZE];
    if (read(FD_RO, buf, 1000) != 1000 || memcmp(buf, content, 1000) != 0)
        fail("read ro.txt before the checkpoint");
    if (write(FD_WO, content, 3000) != 3000 || lseek(FD_WO, 1234, SEEK_SET) != 1234)
        fail_errno("write wo.txt");
    if (lseek(FD_RW, 5000, SEEK_SET) != 5000)
        fail_errno("lseek rw.txt");
    if (write(FD_APP, "A", 1) != 1 || lseek(FD_APP, 10, SEEK_SET) != 10)
        fail_errno("append");

    scen_ready();
    scen_wait_check();

    expect_fd(FD_RO, "ro.txt", O_RDONLY, 0, 1, 1000);
    expect_fd(FD_WO, "wo.txt", O_WRONLY, 0, 0, 1234);
    expect_fd(FD_RW, "rw.txt", O_RDWR, O_NONBLOCK, 0, 5000);
    expect_fd(FD_DUP, "dup of rw.txt", O_RDWR, O_NONBLOCK, 0, 5000);
    expect_fd(FD_APP, "app.txt", O_WRONLY, O_APPEND, 0, 10);

    if (read(FD_RO, buf, 500) != 500 || memcmp(buf, content + 1000, 500) != 0)
        fail("ro.txt: reading on did not continue at offset 1000");
    if (read(FD_RO, buf, 1) != 1 || write(FD_RO, buf, 1) != -1 || errno != EBADF)
        fail("ro.txt: writing to the read-only fd did not fail with EBADF");
    if (read(FD_WO, buf, 1) != -1 || errno != EBADF)
        fail("wo.txt: reading the write-only fd did not fail with EBADF");

    if (write(FD_WO, content + 1234, 66) != 66) /* same bytes: idempotent */
        fail_errno("write wo.txt");
    if (lseek(FD_WO, 0, SEEK_CUR) != 1300)
        fail("wo.txt: offset after writing is not 1300");
    struct stat st;
    if (fstat(FD_WO, &st) != 0 || st.st_size != 3000)
        fail("wo.txt: size %lld, expected 3000", (long long)st.st_size);

    if (read(FD_RW, buf, 100) != 100 || memcmp(buf, content + 5000, 100) != 0)
        fail("rw.txt: read did not continue at offset 5000");
    if (lseek(FD_DUP, 0, SEEK_CUR) != 5100)
        fail("the dup of rw.txt no longer shares its offset (%lld, expected 5100)",
             (long long)lseek(FD_DUP, 0, SEEK_CUR));
    if (pwrite(FD_RW, content + 6000, 10, 6000) != 10)
        fail_errno("pwrite rw.txt");

    if (fstat(FD_APP, &st) != 0)
        fail_errno("fstat app.txt");
    off_t before = st.st_size;
    if (before < 101)
        fail("app.txt lost the byte appended before the checkpoint (size %lld)", (long long)before);
    if (write(FD_APP, "B", 1) != 1)
        fail_errno("append");
    if (fstat(FD_APP, &st) != 0 || st.st_size != before + 1 || lseek(FD_APP, 0, SEEK_CUR) != before + 1)
        fail("app.txt: a write after the check did not go to the end of the file");
    pass();
}
