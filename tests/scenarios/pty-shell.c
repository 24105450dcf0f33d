/*
 * pty-shell.c — a program driving an interactive bash on a pseudo-terminal
 * (forkpty), as script, expect and terminal emulators do.
 *
 * The shell starts with the terminal's interrupt character set to ^B;
 * before the checkpoint the driver sets the terminal's size to 40x120,
 * runs one command and reads its output, then runs `echo PENDING-$((2*21))` and leaves its output unread in the
 * terminal.  After the check: that output arrives exactly once; the shell
 * still answers on the same terminal; the size and the interrupt character
 * are as set; a foreground job runs with no job-control complaint (bash
 * moves the terminal to the job's group and back); the shell still leads
 * its session and group, in the terminal's foreground (tcgetpgrp on the
 * master); and the shell exits 0 when told to.
 */
#include "scenario.h"

#include <poll.h>
#include <pty.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>

static char out[1 << 16];
static size_t out_len;

/* Read from the master until `want` is in what was read since `from`
 * (bounded); its offset, or -1. */
static long read_until(int m, size_t from, const char *want)
{
    time_t end = time(NULL) + SCEN_WAIT_SECONDS;
    for (;;) {
        out[out_len] = 0;
        char *hit = strstr(out + from, want);
        if (hit)
            return hit - out;
        if (time(NULL) > end || out_len >= sizeof out - 1)
            return -1;
        struct pollfd p = {.fd = m, .events = POLLIN};
        if (poll(&p, 1, 1000) <= 0)
            continue;
        ssize_t n = read(m, out + out_len, sizeof out - 1 - out_len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        out_len += (size_t)n;
    }
}

static void say(int m, const char *line)
{
    scen_write_all(m, line, strlen(line));
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

int main(void)
{
    struct termios t;
    struct winsize ws = {.ws_row = 24, .ws_col = 80};
    int m;
    pid_t c = forkpty(&m, NULL, NULL, &ws);
    if (c < 0)
        fail_errno("forkpty");
    if (c == 0) {
        /* set before bash starts: readline puts back the settings it found
         * whenever it finishes reading a line */
        if (tcgetattr(0, &t) == 0) {
            t.c_cc[VINTR] = 2; /* ^B */
            tcsetattr(0, TCSANOW, &t);
        }
        execle("/bin/bash", "bash", "--norc", "--noprofile", "-i", (char *)NULL,
               (char *[]){"PS1=$ ", "TERM=dumb", "PATH=/usr/bin:/bin", "HOME=/", NULL});
        _exit(127);
    }
    say(m, "echo M1-$((6*7))\n");
    long at = read_until(m, 0, "M1-42");
    if (at < 0)
        fail("the shell did not answer before the checkpoint: %.200s", out);
    ws.ws_row = 40;
    ws.ws_col = 120;
    if (ioctl(m, TIOCSWINSZ, &ws) < 0)
        fail_errno("TIOCSWINSZ");
    /* its output waits in the terminal, unread, through the checkpoint */
    say(m, "echo PENDING-$((2*21))\n");
    int avail = 0;
    SCEN_WAIT_FOR((ioctl(m, FIONREAD, &avail) == 0 && avail >= 30), "the shell did not run the pending command");
    size_t before = out_len;
    scen_ready();
    scen_wait_check();

    at = read_until(m, before, "PENDING-42");
    SCEN_CHECK(at >= 0, "the output waiting in the terminal is missing: %.300s", out + before);
    say(m, "echo SIZE-$(stty size | tr ' ' x)\n");
    SCEN_CHECK(read_until(m, (size_t)at, "SIZE-40x120") >= 0, "the terminal's size is not 40x120: %.300s",
               out + at);
    say(m, "stty -a | grep -o 'intr = ^B' | sed 's/^/INTR-/'\n");
    SCEN_CHECK(read_until(m, (size_t)at, "INTR-intr = ^B") >= 0, "the interrupt character is not ^B: %.300s",
               out + at);
    /* a job in the foreground and back: bash moves the terminal to the
     * job's group (setpgid, tcsetpgrp) and back to its own */
    say(m, "sleep 0; (exit 3); echo JOB-$?\n");
    SCEN_CHECK(read_until(m, (size_t)at, "JOB-3") >= 0, "a foreground job did not run: %.300s", out + at);
    SCEN_CHECK(!strstr(out + before, "setpgid") && !strstr(out + before, "tcsetpgrp") &&
                   !strstr(out + before, "job control"),
               "the shell's job control failed: %.300s", out + before);
    /* the shell leads its session and group, and its group is in the
     * terminal's foreground (pids as this program knows them) */
    pid_t fg = tcgetpgrp(m);
    SCEN_CHECK(getsid(c) == c && getpgid(c) == c && fg == c,
               "the shell (pid %d) is not its terminal's session leader in the foreground: sid %d, pgid %d, "
               "foreground group %d",
               (int)c, (int)getsid(c), (int)getpgid(c), (int)fg);
    SCEN_CHECK(count(out + before, "PENDING-42") == 1, "the pending output arrived %d times",
               count(out + before, "PENDING-42"));
    say(m, "exit 0\n");
    int st = 0;
    pid_t w;
    SCEN_WAIT_FOR(((w = waitpid(c, &st, WNOHANG)) != 0), "the shell did not exit");
    SCEN_CHECK(w == c && WIFEXITED(st) && WEXITSTATUS(st) == 0, "the shell ended with status 0x%x", st);
    pass();
}
