/*
 * proc-exec-control.c — exec keeps checkpoint control, even through a
 * program that empties the environment.
 *
 * Stage 1 clears its environment and LD_PRELOAD (clearenv) and execs
 * `env -i /proc/self/exe stage2 …` — env, a program nobody here wrote,
 * runs with an empty environment and execs this program again (by path).  Stage 2
 * (the same pid) must still run the engine whenever stage 1 did, then sets
 * up a child with fork+exec of itself (stage 3), and both are checkpointed:
 * after the check the child reports through its exit status that it still
 * runs under control and kept its pid, then execs itself once more (stage
 * 4: after a restart, a new program in a restored process) and reports
 * that it kept its pid, the engine and its parent's pid (getppid, kill);
 * stage 2 checks it kept its own.
 */
#include "scenario.h"

#include <sys/wait.h>

static int engine_on(void)
{
    return dmtcp_is_enabled();
}

/* After the check (and a restart): the same process, a new program */
static int stage4(pid_t expect_pid, int expect_enabled, pid_t expect_ppid)
{
    if (getpid() != expect_pid)
        return 13;
    if (engine_on() != expect_enabled)
        return 14;
    if (getppid() != expect_ppid || kill(expect_ppid, 0) < 0)
        return 15;
    return 0;
}

static int stage3(char **argv)
{
    pid_t expect_pid = (pid_t)atoi(argv[2]);
    int expect_enabled = atoi(argv[3]);
    scen_wait_check();
    if (getpid() != expect_pid)
        return 11;
    if (engine_on() != expect_enabled)
        return 12;
    char ppid_s[16];
    snprintf(ppid_s, sizeof ppid_s, "%d", (int)getppid());
    /* (by its path: after a restart /proc/self/exe names the restart helper) */
    execl(argv[4], "proc-exec-control", "stage4", argv[2], argv[3], ppid_s, (char *)NULL);
    return 16;
}

int main(int argc, char **argv)
{
    if (argc >= 5 && !strcmp(argv[1], "stage4"))
        return stage4((pid_t)atoi(argv[2]), atoi(argv[3]), (pid_t)atoi(argv[4]));
    if (argc >= 5 && !strcmp(argv[1], "stage3"))
        return stage3(argv);
    if (argc >= 4 && !strcmp(argv[1], "stage2")) {
        pid_t was = (pid_t)atoi(argv[2]);
        int enabled = atoi(argv[3]);
        SCEN_CHECK(getpid() == was, "exec changed the pid: %d, expected %d", (int)getpid(), (int)was);
        SCEN_CHECK(engine_on() == enabled, "the engine is %s after two execs through an empty environment",
                   engine_on() ? "on" : "off (control was lost)");
        pid_t c = fork();
        if (c < 0)
            fail_errno("fork");
        if (c == 0) {
            char pid_s[16], en_s[4], self[PATH_MAX];
            snprintf(pid_s, sizeof pid_s, "%d", (int)getpid());
            snprintf(en_s, sizeof en_s, "%d", enabled);
            ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
            if (n <= 0)
                _exit(98);
            self[n] = 0;
            execl("/proc/self/exe", "proc-exec-control", "stage3", pid_s, en_s, self, (char *)NULL);
            _exit(99);
        }
        scen_ready();
        scen_wait_check();
        SCEN_CHECK(getpid() == was, "the pid changed: %d, expected %d", (int)getpid(), (int)was);
        int st;
        pid_t w;
        while ((w = waitpid(c, &st, 0)) < 0 && errno == EINTR)
            ;
        SCEN_CHECK(w == c, "waitpid(%d): %s", (int)c, strerror(errno));
        SCEN_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0,
                   "the exec'd child ended with %#x (exit 11: its pid changed, 12: it lost the engine; after "
                   "it exec'd again: 13: its pid changed, 14: it lost the engine, 15: its parent's pid changed "
                   "or cannot be signalled, 16: the exec failed)",
                   st);
        pass();
    }
    /* stage 1 */
    char pid_s[16], en_s[4];
    snprintf(pid_s, sizeof pid_s, "%d", (int)getpid());
    snprintf(en_s, sizeof en_s, "%d", engine_on());
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        fail_errno("readlink /proc/self/exe");
    self[n] = 0;
    const char *dir = getenv("SCEN_DIR");
    char dir_copy[PATH_MAX];
    snprintf(dir_copy, sizeof dir_copy, "%s", dir ? dir : ".");
    clearenv();
    char scen_var[PATH_MAX + 16];
    snprintf(scen_var, sizeof scen_var, "SCEN_DIR=%s", dir_copy);
    /* env -i empties the environment again; the scenario's directory is
     * given back to stage 2 on env's command line */
    execl("/usr/bin/env", "env", "-i", scen_var, self, "stage2", pid_s, en_s, (char *)NULL);
    fail_errno("exec /usr/bin/env");
}
