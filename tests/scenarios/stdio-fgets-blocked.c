/*
 * stdio-fgets-blocked.c — a thread blocked in fgets() on an empty stdin
 * (inside read(), holding stdin's lock) does not stop the checkpoint: the
 * engine lets it finish the call for a short while, then parks it inside
 * the call; the read goes on after the checkpoint and after a restart, and
 * the thread reads the line the driver writes after `check`.  Meanwhile the
 * main thread keeps using stdio and malloc (other locks are free).
 */
// SCEN_STDIN: fifo
#include "scenario.h"

#include <sys/syscall.h>

static char line[256];
static atomic_int reader_tid;
static atomic_int outcome; /* 0 still reading, 1 got a line, 2 end of file or error */

static void *reader(void *arg)
{
    (void)arg;
    atomic_store(&reader_tid, (int)syscall(SYS_gettid));
    char *r = fgets(line, sizeof(line), stdin);
    atomic_store(&outcome, r ? 1 : 2);
    return NULL;
}

int main(void)
{
    pthread_t t = scen_thread(reader, NULL);
    SCEN_WAIT_FOR(atomic_load(&reader_tid) != 0, "the reader thread never started");
    scen_wait_in_syscall(atomic_load(&reader_tid), SYS_read, "read (inside fgets)");
    scen_ready();
    scen_wait_check();
    char *probe = malloc(4096); /* malloc and another stream work while it reads */
    SCEN_CHECK(probe != NULL, "malloc failed while a thread reads stdin");
    snprintf(probe, 4096, "%s/probe", scen_dir());
    FILE *f = fopen(probe, "w");
    SCEN_CHECK(f != NULL, "fopen %s: %s", probe, strerror(errno));
    fprintf(f, "probe\n");
    SCEN_CHECK(fclose(f) == 0, "fclose %s: %s", probe, strerror(errno));
    unlink(probe);
    free(probe);
    SCEN_WAIT_FOR(atomic_load(&outcome) != 0, "the reader never returned from fgets() after the driver "
                                              "wrote a line to stdin");
    SCEN_CHECK(atomic_load(&outcome) == 1, "fgets() returned NULL (%s)",
               feof(stdin) ? "end of file" : strerror(errno));
    SCEN_CHECK(strcmp(line, SCEN_STDIN_LINE "\n") == 0, "fgets() read '%s', expected '%s'", line,
               SCEN_STDIN_LINE);
    scen_join(t);
    pass();
}
