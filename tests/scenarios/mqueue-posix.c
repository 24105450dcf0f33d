/*
 * mqueue-posix.c — POSIX message queues keep their messages, priorities
 * and limits, shared by a parent and its child, named or unlinked.
 *
 * main opens /stasis-scen-PID (at most 8 messages of 32 bytes) and sends
 * LOW (priority 1), HIGH (5) and MID (3); its child opens the same queue by
 * name for writing.  main also opens a second queue, sends U1 into it and
 * unlinks it (only the descriptor holds it).  After the check: the limits
 * are 8 x 32; main receives HIGH, MID, LOW in that order; the child sends
 * CHILD, which main receives; then the queue is empty (nothing came back
 * twice); the unlinked queue gives U1.  (CHILD has priority 0: it comes
 * after LOW whenever the child sent it.)
 */
#include "scenario.h"

#include <fcntl.h>
#include <mqueue.h>
#include <sys/wait.h>
#include <time.h>

static int receive(mqd_t q, const char *want, unsigned want_prio)
{
    char buf[64] = "";
    unsigned prio = 0;
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_sec += SCEN_WAIT_SECONDS;
    ssize_t n;
    while ((n = mq_timedreceive(q, buf, sizeof buf, &prio, &t)) < 0 && errno == EINTR)
        ;
    if (n < 0)
        fail("mq_receive (waiting for %s): %s", want, strerror(errno));
    SCEN_CHECK((size_t)n == strlen(want) + 1 && strcmp(buf, want) == 0 && prio == want_prio,
               "received '%s' (priority %u), expected '%s' (priority %u)", buf, prio, want, want_prio);
    return 0;
}

int main(void)
{
    char name[64], uname[64];
    snprintf(name, sizeof name, "/stasis-scen-%d", (int)getpid());
    snprintf(uname, sizeof uname, "/stasis-scen-%d-u", (int)getpid());
    mq_unlink(name);
    mq_unlink(uname);
    struct mq_attr a = {.mq_maxmsg = 8, .mq_msgsize = 32};
    mqd_t q = mq_open(name, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600, &a);
    mqd_t u = mq_open(uname, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600, &a);
    if (q < 0 || u < 0)
        fail_errno("mq_open");
    if (mq_send(q, "LOW", 4, 1) < 0 || mq_send(q, "HIGH", 5, 5) < 0 || mq_send(q, "MID", 4, 3) < 0 ||
        mq_send(u, "U1", 3, 0) < 0)
        fail_errno("mq_send");
    if (mq_unlink(uname) < 0)
        fail_errno("mq_unlink");
    int ready[2];
    if (pipe(ready) < 0)
        fail_errno("pipe");
    pid_t c = fork();
    if (c < 0)
        fail_errno("fork");
    if (c == 0) {
        close(ready[0]);
        mqd_t w = mq_open(name, O_WRONLY | O_CLOEXEC);
        if (w < 0 || write(ready[1], "r", 1) != 1)
            _exit(20);
        scen_wait_check();
        if (mq_send(w, "CHILD", 6, 0) < 0)
            _exit(21);
        _exit(0);
    }
    close(ready[1]);
    char ch;
    if (read(ready[0], &ch, 1) != 1)
        fail("the child died before it was ready");
    scen_ready();
    scen_wait_check();

    struct mq_attr now;
    SCEN_CHECK(mq_getattr(q, &now) == 0, "mq_getattr: %s", strerror(errno));
    SCEN_CHECK(now.mq_maxmsg == 8 && now.mq_msgsize == 32 && now.mq_flags == 0,
               "the queue's limits or flags changed: %ld x %ld, flags %#lx", now.mq_maxmsg, now.mq_msgsize,
               now.mq_flags);
    receive(q, "HIGH", 5);
    receive(q, "MID", 3);
    receive(q, "LOW", 1);
    receive(q, "CHILD", 0); /* (priority 0: after LOW whenever it was sent) */
    SCEN_CHECK(mq_getattr(q, &now) == 0 && now.mq_curmsgs == 0, "%ld messages are left: one came back twice",
               now.mq_curmsgs);
    receive(u, "U1", 0);
    int s;
    pid_t w;
    while ((w = waitpid(c, &s, 0)) < 0 && errno == EINTR)
        ;
    SCEN_CHECK(w == c && WIFEXITED(s) && WEXITSTATUS(s) == 0, "the child ended with %#x (exit 21: its mq_send failed)",
               s);
    mq_unlink(name);
    pass();
}
