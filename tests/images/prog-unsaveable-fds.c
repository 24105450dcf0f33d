/*
 * prog-unsaveable-fds.c — a program holding descriptors the engine cannot
 * restore yet: a pipe (its read end moved to fd 950), a socket pair and an
 * eventfd.  It prints one line naming them,
 *
 *   fds pipe=950 pipe_w=N sock=N sock2=N eventfd=N
 *
 * and then "tick N" every 50 ms until killed.  tests/images/ckpt-fds-report.sh
 * checks that a checkpoint names each of them, at checkpoint time.
 */
#include <stdio.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int main(void)
{
    int p[2], s[2];
    if (pipe(p) != 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, s) != 0)
        return perror("pipe/socketpair"), 1;
    int ev = eventfd(0, 0);
    if (ev < 0 || dup2(p[0], 950) != 950)
        return perror("eventfd/dup2"), 1;
    close(p[0]);
    printf("fds pipe=950 pipe_w=%d sock=%d sock2=%d eventfd=%d\n", p[1], s[0], s[1], ev);
    fflush(stdout);
    for (unsigned long n = 1;; n++) {
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
        printf("tick %lu\n", n);
        fflush(stdout);
    }
}
