/*
 * fifo-named.c — named FIFOs (mkfifo) between processes, with bytes in
 * flight, keep their ends and their bytes.
 *
 * f1: main reads, its child writes; the child wrote "HELLO-1", unread at
 * the checkpoint.  f2: main writes, the child reads; "TO-CHILD" unread.
 * f3: main alone, open read-write, with "SELF" in it.  After the check:
 * main reads HELLO-1 then what the child writes now, then end of file once
 * the child closes its end (so the child's end is write-only and nothing
 * else holds f1 open for writing); the child reads TO-CHILD, then end of
 * file once main closes f2; f3 gives SELF; each end has the access mode it
 * had, and every bytes arrives exactly once.
 */
#include "scenario.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>

/* Read exactly n bytes from the non-blocking fd (bounded); 0 or -1. */
static int read_exact(int fd, char *buf, size_t n)
{
    size_t got = 0;
    uint64_t end = scen_now_ns() + (uint64_t)SCEN_WAIT_SECONDS * 1000000000ull;
    while (got < n && scen_now_ns() < end) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 1000) <= 0)
            continue;
        ssize_t r = read(fd, buf + got, n - got);
        if (r > 0)
            got += (size_t)r;
        else if (r == 0 || (errno != EAGAIN && errno != EINTR))
            return -1;
    }
    return got == n ? 0 : -1;
}

/* End of file on the non-blocking fd (no writer left), bounded: 1, or 0
 * if data came instead or it never ended. */
static int at_eof(int fd)
{
    uint64_t end = scen_now_ns() + (uint64_t)SCEN_WAIT_SECONDS * 1000000000ull;
    while (scen_now_ns() < end) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 1000) <= 0)
            continue;
        char c;
        ssize_t r = read(fd, &c, 1);
        if (r == 0)
            return 1;
        if (r > 0 || (errno != EAGAIN && errno != EINTR))
            return 0;
    }
    return 0;
}

static int accmode(int fd)
{
    return fcntl(fd, F_GETFL) & O_ACCMODE;
}

static void child(const char *f1, const char *f2, int ready)
{
    int w1 = open(f1, O_WRONLY | O_CLOEXEC);
    int r2 = open(f2, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (w1 < 0 || r2 < 0)
        _exit(20);
    if (write(w1, "HELLO-1", 7) != 7 || write(ready, "c", 1) != 1)
        _exit(21);
    close(ready);
    scen_wait_check();
    char buf[16] = "";
    if (read_exact(r2, buf, 8) < 0 || memcmp(buf, "TO-CHILD", 8) != 0)
        _exit(22);
    if (accmode(w1) != O_WRONLY || accmode(r2) != O_RDONLY)
        _exit(23);
    if (write(w1, "AFTER", 5) != 5)
        _exit(24);
    close(w1);
    if (!at_eof(r2))
        _exit(25);
    _exit(0);
}

int main(void)
{
    const char *f1 = scen_path("f1"), *f2 = scen_path("f2"), *f3 = scen_path("f3");
    char p1[4096], p2[4096], p3[4096];
    snprintf(p1, sizeof p1, "%s", f1);
    snprintf(p2, sizeof p2, "%s", f2);
    snprintf(p3, sizeof p3, "%s", f3);
    unlink(p1);
    unlink(p2);
    unlink(p3);
    if (mkfifo(p1, 0600) < 0 || mkfifo(p2, 0600) < 0 || mkfifo(p3, 0600) < 0)
        fail_errno("mkfifo");
    int r1 = open(p1, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    int rw3 = open(p3, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (r1 < 0 || rw3 < 0)
        fail_errno("open a FIFO");
    if (write(rw3, "SELF", 4) != 4)
        fail_errno("write f3");
    int sync[2];
    if (pipe(sync) < 0)
        fail_errno("pipe");
    pid_t c = fork();
    if (c < 0)
        fail_errno("fork");
    if (c == 0) {
        close(sync[0]);
        child(p1, p2, sync[1]);
    }
    close(sync[1]);
    char ch;
    if (read(sync[0], &ch, 1) != 1)
        fail("the child died before it was ready");
    close(sync[0]);
    int w2 = open(p2, O_WRONLY | O_CLOEXEC);
    if (w2 < 0 || write(w2, "TO-CHILD", 8) != 8)
        fail_errno("f2");
    scen_ready();
    scen_wait_check();

    char buf[16] = "";
    SCEN_CHECK(read_exact(r1, buf, 7) == 0 && memcmp(buf, "HELLO-1", 7) == 0,
               "f1: the bytes waiting at the checkpoint did not arrive (got '%s')", buf);
    memset(buf, 0, sizeof buf);
    SCEN_CHECK(read_exact(r1, buf, 5) == 0 && memcmp(buf, "AFTER", 5) == 0,
               "f1: what the child wrote after the check did not arrive (got '%s')", buf);
    SCEN_CHECK(at_eof(r1), "f1: no end of file once the child closed its end (another writer holds it open)");
    memset(buf, 0, sizeof buf);
    SCEN_CHECK(read_exact(rw3, buf, 4) == 0 && memcmp(buf, "SELF", 4) == 0, "f3: got '%s', not SELF", buf);
    SCEN_CHECK(accmode(r1) == O_RDONLY && accmode(w2) == O_WRONLY && accmode(rw3) == O_RDWR,
               "the FIFOs' access modes changed: f1 %d, f2 %d, f3 %d", accmode(r1), accmode(w2), accmode(rw3));
    struct stat st;
    SCEN_CHECK(stat(p1, &st) == 0 && S_ISFIFO(st.st_mode), "f1 is no longer a FIFO by its name");
    close(w2);
    int s;
    pid_t w;
    while ((w = waitpid(c, &s, 0)) < 0 && errno == EINTR)
        ;
    SCEN_CHECK(w == c && WIFEXITED(s) && WEXITSTATUS(s) == 0,
               "the child ended with %#x (exit 22: f2's bytes did not arrive, 23: an access mode changed, 24: "
               "cannot write f1, 25: no end of file on f2 once main closed it)",
               s);
    pass();
}
