/*
 * proc-fork-image-names.c — a child forked after its parent has named its
 * image gets an image of its own.
 *
 * main asks for its image's name (dmtcp_get_ckpt_filename(), as a process
 * does once it has been checkpointed), then forks a child, which asks for
 * its own.  Under the engine the two must differ (the child's carried its
 * parent's name, and the two processes wrote one file: one image lost, or
 * a checkpoint failing as the second rename found the first).  The
 * checkpoint then writes one image per process, and each mode's restart
 * needs both: after the check the child exits 7, and main collects it.
 */
#include "scenario.h"

#include <sys/wait.h>

int main(void)
{
    const char *mine = dmtcp_get_ckpt_filename();
    char parent_name[4096] = "";
    if (mine)
        snprintf(parent_name, sizeof parent_name, "%s", mine);
    int names[2];
    if (pipe(names) < 0)
        fail_errno("pipe");
    pid_t c = fork();
    if (c < 0)
        fail_errno("fork");
    if (c == 0) {
        close(names[0]);
        const char *n = dmtcp_get_ckpt_filename();
        char buf[4096] = "";
        snprintf(buf, sizeof buf, "%s", n ? n : "");
        if (write(names[1], buf, strlen(buf) + 1) < 0)
            _exit(2);
        close(names[1]);
        scen_wait_check();
        _exit(7);
    }
    close(names[1]);
    char child_name[4096] = "";
    size_t got = 0;
    ssize_t r;
    while (got < sizeof child_name - 1 && (r = read(names[0], child_name + got, sizeof child_name - 1 - got)) > 0)
        got += (size_t)r;
    close(names[0]);
    if (dmtcp_is_enabled()) {
        SCEN_CHECK(parent_name[0] && child_name[0], "no image names: parent '%s', child '%s'", parent_name,
                   child_name);
        SCEN_CHECK(strcmp(parent_name, child_name) != 0, "the child's image is its parent's: %s", child_name);
    }
    scen_ready();
    scen_wait_check();
    int s;
    pid_t w;
    while ((w = waitpid(c, &s, 0)) < 0 && errno == EINTR)
        ;
    SCEN_CHECK(w == c && WIFEXITED(s) && WEXITSTATUS(s) == 7, "the child ended with %#x, not exit 7", s);
    pass();
}
