/*
 * children-fork-system.c — child processes work, outside checkpoint control:
 * after the check fork()+waitpid, fork()+exec, system("true") and
 * popen("echo hi") behave normally.  A detached grandchild started before
 * the checkpoint (and so alive during it) runs on its own and finishes —
 * the parent's checkpoint does not depend on it, nor it on the parent.
 */
#include "scenario.h"

#include <sys/wait.h>

static void expect_children_work(const char *when)
{
    pid_t p = fork();
    if (p < 0)
        fail_errno("%s: fork", when);
    if (p == 0)
        _exit(42);
    int st;
    pid_t w;
    while ((w = waitpid(p, &st, 0)) < 0 && errno == EINTR)
        ;
    if (w != p || !WIFEXITED(st) || WEXITSTATUS(st) != 42)
        fail("%s: fork+waitpid: status %#x, expected exit 42", when, st);

    p = fork();
    if (p == 0) {
        execl("/bin/sh", "sh", "-c", "exit 7", (char *)NULL);
        _exit(127);
    }
    while ((w = waitpid(p, &st, 0)) < 0 && errno == EINTR)
        ;
    if (w != p || !WIFEXITED(st) || WEXITSTATUS(st) != 7)
        fail("%s: fork+exec: status %#x, expected exit 7", when, st);

    int rc = system("true");
    if (rc != 0)
        fail("%s: system(\"true\") returned %#x", when, rc);

    FILE *f = popen("echo hi", "r");
    char line[16] = "";
    if (!f)
        fail_errno("%s: popen", when);
    if (!fgets(line, sizeof(line), f))
        line[0] = 0;
    rc = pclose(f);
    if (strcmp(line, "hi\n") != 0 || rc != 0)
        fail("%s: popen(\"echo hi\") read '%s' and pclose gave %#x", when, line, rc);
}

/* Forks a grandchild that works for a while, then creates `path`.
 * The middle child exits at once, so nothing here waits for it. */
static void start_grandchild(const char *path)
{
    pid_t p = fork();
    if (p < 0)
        fail_errno("fork");
    if (p == 0) {
        if (fork() == 0) {
            volatile uint64_t x = 0;
            uint64_t end = scen_now_ns() + 500000000ull; /* half a second of work */
            while (scen_now_ns() < end)
                x += scen_pattern_word(x, 1);
            char tmp[PATH_MAX];
            snprintf(tmp, sizeof(tmp), "%s.tmp", path);
            int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (fd >= 0) {
                close(fd);
                rename(tmp, path);
            }
            _exit(0);
        }
        _exit(0);
    }
    int st;
    while (waitpid(p, &st, 0) < 0 && errno == EINTR)
        ;
}

int main(void)
{
    expect_children_work("before the checkpoint");
    char *done = scen_path("grandchild-done");
    start_grandchild(done);

    scen_ready();
    scen_wait_check();

    expect_children_work("after the check");
    SCEN_WAIT_FOR(access(done, F_OK) == 0, "the grandchild alive during the checkpoint never finished");
    pass();
}
