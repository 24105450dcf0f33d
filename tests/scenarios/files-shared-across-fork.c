/*
 * files-shared-across-fork.c — an open file description shared by a
 * parent and its child (opened before the fork) is one description again
 * after a restart; two descriptions of one file opened separately stay
 * two.
 *
 * F: "0123456789", opened by main, offset 3, duplicated in main (fd F2),
 * then main forks.  G: opened by main and, separately, by the child, both
 * at offset 0 with the same flags (alike in every way the kernel shows but
 * identity).  After the check: the child reads 2 bytes of F ("34") and
 * sets O_NONBLOCK on it; main then reads 2 bytes of F2 and must get "56"
 * (one offset), and sees O_NONBLOCK on F (one set of status flags); the
 * child moves its G to offset 5, and main's G must still be at 0.
 */
#include "scenario.h"

#include <fcntl.h>
#include <sys/wait.h>

int main(void)
{
    char *fpath = scen_make_file("f", "0123456789", 10);
    char *gpath = scen_make_file("g", "abcdefghij", 10);
    int f = open(fpath, O_RDWR | O_CLOEXEC);
    int g = open(gpath, O_RDONLY | O_CLOEXEC);
    if (f < 0 || g < 0)
        fail_errno("open");
    if (lseek(f, 3, SEEK_SET) != 3)
        fail_errno("lseek");
    int f2 = dup(f);
    if (f2 < 0)
        fail_errno("dup");
    int to_child[2], to_main[2];
    if (pipe(to_child) < 0 || pipe(to_main) < 0)
        fail_errno("pipe");
    pid_t c = fork();
    if (c < 0)
        fail_errno("fork");
    if (c == 0) {
        close(to_child[1]);
        close(to_main[0]);
        close(g);
        int cg = open(gpath, O_RDONLY | O_CLOEXEC); /* its own description of g */
        if (cg < 0 || write(to_main[1], "r", 1) != 1)
            _exit(20);
        scen_wait_check();
        char b[2];
        if (read(f, b, 2) != 2 || memcmp(b, "34", 2) != 0)
            _exit(21);
        if (fcntl(f, F_SETFL, fcntl(f, F_GETFL) | O_NONBLOCK) < 0 || lseek(cg, 5, SEEK_SET) != 5)
            _exit(22);
        if (write(to_main[1], "d", 1) != 1)
            _exit(23);
        char ch;
        if (read(to_child[0], &ch, 1) != 1) /* main has looked */
            _exit(24);
        _exit(0);
    }
    close(to_child[0]);
    close(to_main[1]);
    char ch;
    if (read(to_main[0], &ch, 1) != 1)
        fail("the child died before it was ready");
    scen_ready();
    scen_wait_check();

    SCEN_CHECK(read(to_main[0], &ch, 1) == 1, "the child did not get through its part (see its status below)");
    char b[3] = "";
    SCEN_CHECK(read(f2, b, 2) == 2, "read F2: %s", strerror(errno));
    SCEN_CHECK(memcmp(b, "56", 2) == 0,
               "F read '%s' after the child read 2 bytes: the offset is no longer shared (expected '56')", b);
    SCEN_CHECK(fcntl(f, F_GETFL) & O_NONBLOCK, "F: the child's O_NONBLOCK is not seen here: the status flags are "
               "no longer shared");
    off_t at = lseek(g, 0, SEEK_CUR);
    SCEN_CHECK(at == 0, "G is at offset %lld after the child moved its own G: two descriptions were merged",
               (long long)at);
    if (write(to_child[1], "x", 1) != 1)
        fail_errno("write to the child");
    int s;
    pid_t w;
    while ((w = waitpid(c, &s, 0)) < 0 && errno == EINTR)
        ;
    SCEN_CHECK(w == c && WIFEXITED(s) && WEXITSTATUS(s) == 0,
               "the child ended with %#x (exit 21: F did not give '34', 22: fcntl or lseek failed)", s);
    pass();
}
