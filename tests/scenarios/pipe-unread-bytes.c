/*
 * pipe-unread-bytes.c — pipes between processes and inside one, with bytes
 * written and not yet read at the checkpoint, in both directions.
 *
 * The parent and a child share two pipes (down: parent → child, up: child
 * → parent); before the checkpoint each writes a known pattern the other
 * has not read yet (40 000 bytes down, 3 000 up), and the parent keeps a
 * pipe to itself with 1 000 unread bytes and non-blocking read end.  After
 * the check every byte must arrive exactly once, in order; the pipes must
 * still connect the same processes (a round trip each way), the
 * non-blocking flag must hold, and closing the write ends must give the
 * readers end of file.  The child reports through its exit status.
 */
#include "scenario.h"

#include <sys/ioctl.h>
#include <sys/wait.h>

#define DOWN_BYTES 40000
#define UP_BYTES 3000
#define SELF_BYTES 1000

static void fill(unsigned char *b, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        b[i] = (unsigned char)(seed * 31 + i * 7 + (i >> 8));
}

static int read_exact(int fd, unsigned char *b, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, b + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

static int write_all(int fd, const unsigned char *b, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(fd, b + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        done += (size_t)w;
    }
    return 0;
}

static int child(int down_r, int up_w)
{
    static unsigned char up[UP_BYTES], want[DOWN_BYTES], got[DOWN_BYTES];
    fill(up, sizeof up, 2);
    if (write_all(up_w, up, sizeof up) < 0)
        return 20;
    scen_wait_check();
    fill(want, sizeof want, 1);
    if (read_exact(down_r, got, sizeof got) < 0)
        return 21; /* bytes written before the checkpoint are missing */
    if (memcmp(got, want, sizeof want))
        return 22; /* ... or different */
    unsigned char ping;
    if (read_exact(down_r, &ping, 1) < 0 || ping != 'p')
        return 23; /* the pipe does not connect to the parent any more */
    if (write_all(up_w, (const unsigned char *)"q", 1) < 0)
        return 24;
    char extra;
    if (read(down_r, &extra, 1) != 0)
        return 25; /* no end of file once the parent closed its end */
    return 0;
}

int main(void)
{
    int down[2], up[2], self[2];
    if (pipe(down) < 0 || pipe(up) < 0 || pipe(self) < 0)
        fail_errno("pipe");
    pid_t c = fork();
    if (c < 0)
        fail_errno("fork");
    if (c == 0) {
        close(down[1]);
        close(up[0]);
        close(self[0]);
        close(self[1]);
        _exit(child(down[0], up[1]));
    }
    close(down[0]);
    close(up[1]);
    static unsigned char down_bytes[DOWN_BYTES], self_bytes[SELF_BYTES], got[DOWN_BYTES];
    fill(down_bytes, sizeof down_bytes, 1);
    fill(self_bytes, sizeof self_bytes, 3);
    if (write_all(down[1], down_bytes, sizeof down_bytes) < 0 || write_all(self[1], self_bytes, sizeof self_bytes) < 0)
        fail_errno("write");
    if (fcntl(self[0], F_SETFL, O_NONBLOCK) < 0)
        fail_errno("fcntl O_NONBLOCK");
    /* the child's bytes are in the up pipe before the checkpoint */
    int avail = 0;
    SCEN_WAIT_FOR((ioctl(up[0], FIONREAD, &avail) == 0 && avail == UP_BYTES), "the child did not write its bytes");
    scen_ready();
    scen_wait_check();
    unsigned char want_up[UP_BYTES];
    fill(want_up, sizeof want_up, 2);
    SCEN_CHECK(read_exact(up[0], got, UP_BYTES) == 0, "the child's %d bytes are missing from the up pipe", UP_BYTES);
    SCEN_CHECK(!memcmp(got, want_up, UP_BYTES), "the child's bytes changed in the up pipe");
    SCEN_CHECK(fcntl(self[0], F_GETFL) & O_NONBLOCK, "the self pipe's read end lost O_NONBLOCK");
    ssize_t n = read(self[0], got, sizeof got);
    SCEN_CHECK(n == SELF_BYTES, "the self pipe gave %zd bytes, expected %d", n, SELF_BYTES);
    SCEN_CHECK(!memcmp(got, self_bytes, SELF_BYTES), "the self pipe's bytes changed");
    n = read(self[0], got, 1);
    SCEN_CHECK(n < 0 && errno == EAGAIN, "the self pipe gave more bytes than were written (%zd)", n);
    if (write_all(self[1], (const unsigned char *)"s", 1) < 0 || read(self[0], got, 1) != 1 || got[0] != 's')
        fail("the self pipe no longer connects its two ends");
    SCEN_CHECK(write_all(down[1], (const unsigned char *)"p", 1) == 0, "write to the child: %s", strerror(errno));
    unsigned char q = 0;
    SCEN_CHECK(read_exact(up[0], &q, 1) == 0 && q == 'q', "no answer from the child through the up pipe");
    close(down[1]);
    int st;
    pid_t w;
    while ((w = waitpid(c, &st, 0)) < 0 && errno == EINTR)
        ;
    SCEN_CHECK(w == c, "waitpid(%d): %s", (int)c, strerror(errno));
    SCEN_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0,
               "the child ended with %#x (21/22: the bytes written to it before the checkpoint were missing or "
               "changed, 23/24: the pipes no longer connect it to the parent, 25: no end of file)", st);
    char extra;
    SCEN_CHECK(read(up[0], &extra, 1) == 0, "no end of file on the up pipe after the child exited");
    pass();
}
