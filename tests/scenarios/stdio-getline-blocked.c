/*
 * stdio-getline-blocked.c — like stdio-fgets-blocked, with getline(): a
 * thread blocked reading a line from an empty stdin is parked inside the
 * call, and reads the line the driver writes after `check`.  The call goes
 * through a pointer to getline itself, as unoptimised programs make it
 * (optimised ones call glibc's __getdelim through an inline).
 */
// SCEN_STDIN: fifo
// SCEN_MODES: plain continue restart ckpt-after-restart
#include "scenario.h"

#include <sys/syscall.h>

static ssize_t (*volatile getline_fn)(char **, size_t *, FILE *) = getline;
static char *line;
static atomic_int reader_tid;
static atomic_int outcome; /* 0 still reading, 1 got a line, 2 end of file or error */

static void *reader(void *arg)
{
    (void)arg;
    size_t cap = 0;
    atomic_store(&reader_tid, (int)syscall(SYS_gettid));
    ssize_t n = getline_fn(&line, &cap, stdin);
    atomic_store(&outcome, n > 0 ? 1 : 2);
    return NULL;
}

int main(void)
{
    pthread_t t = scen_thread(reader, NULL);
    SCEN_WAIT_FOR(atomic_load(&reader_tid) != 0, "the reader thread never started");
    scen_wait_in_syscall(atomic_load(&reader_tid), SYS_read, "read (inside getline)");
    scen_ready();
    scen_wait_check();
    SCEN_WAIT_FOR(atomic_load(&outcome) != 0, "the reader never returned from getline() after the driver "
                                              "wrote a line to stdin");
    SCEN_CHECK(atomic_load(&outcome) == 1, "getline() failed (%s)", feof(stdin) ? "end of file" : strerror(errno));
    SCEN_CHECK(strcmp(line, SCEN_STDIN_LINE "\n") == 0, "getline() read '%s', expected '%s'", line,
               SCEN_STDIN_LINE);
    scen_join(t);
    free(line);
    pass();
}
