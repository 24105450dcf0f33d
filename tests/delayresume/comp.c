/* comp.c — DMTCP_DELAYRESUME_SCOPE=computation: a window holds every
 * process of the computation.
 *
 *   comp ITER
 *
 * The initiator forks a child process (under checkpoint control, like any
 * child) whose two threads would race it: a worker that counts in a shared
 * page all the time and a main thread that sleeps and counts too.  The
 * initiator has a counting worker of its own.  Each iteration it opens a
 * window with dmtcp_checkpoint_block_resume(); then, as positive signs, it
 * waits until its own worker is parked by the plugin and both child threads
 * wait in futex(2) on a word of the engine (read from
 * /proc/CHILD/task/TID/syscall); it checks that no counter moved while they
 * were all held, runs `system("exit 7")` in the window (a new process must
 * run), unblocks, and waits until every counter moves again.
 * Prints "SUMMARY iterations=N held=H moved_in_window=M resumed=R
 * spawned=S errors=E".
 */
#include "drtest.h"

#include <sys/mman.h>
#include <sys/wait.h>

struct shared {
    _Atomic long worker, sleeper;
    _Atomic int stop;
};

static struct shared *sh;

static void *child_worker(void *arg)
{
    (void)arg;
    while (!atomic_load(&sh->stop))
        atomic_fetch_add(&sh->worker, 1);
    return NULL;
}

static void child_main(void)
{
    pthread_t t;
    pthread_create(&t, NULL, child_worker, NULL);
    while (!atomic_load(&sh->stop)) {
        atomic_fetch_add(&sh->sleeper, 1);
        dr_sleep_ms(1);
    }
    pthread_join(t, NULL);
    _exit(0);
}

/* the engine's range (libdmtcp.so and the anonymous mapping after it) */
static int engine_range(unsigned long *lo, unsigned long *hi)
{
    return dr_lib_range("/libdmtcp.so", lo, hi);
}

/* how many of the child's threads wait in futex on an engine word */
static int child_parked(pid_t child, unsigned long lo, unsigned long hi)
{
    return dr_count_futex_in(child, lo, hi);
}

int main(int argc, char **argv)
{
    int iter = argc > 1 ? atoi(argv[1]) : 5;
    sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED)
        return 2;
    pid_t child = fork();
    if (child < 0)
        return 2;
    if (child == 0)
        child_main();
    pthread_t t;
    dr_start_counters(&t, 1, 0);
    /* both child threads run before the first window (a thread created
     * while a checkpoint parks the others is not what this tests) */
    double start_end = dr_now() + 20;
    while ((!atomic_load(&sh->worker) || !atomic_load(&sh->sleeper)) && dr_now() < start_end)
        dr_sleep_ms(1);
    unsigned long lo, hi;
    int held = 0, moved = 0, resumed = 0, spawned = 0, errors = 0;
    for (int i = 0; i < iter; i++) {
        int rc = dmtcp_checkpoint_block_resume();
        if (rc != DMTCP_AFTER_CHECKPOINT) {
            dr_mark("comp: block_resume returned %s", dr_rc_name(rc));
            errors++;
            continue;
        }
        if (!engine_range(&lo, &hi)) {
            dr_mark("comp: libdmtcp.so is not mapped");
            errors++;
        }
        double end = dr_now() + 20;
        while ((dr_count_parked() < 1 || child_parked(child, lo, hi) < 2) && dr_now() < end)
            dr_sleep_ms(1);
        long snap_me[1];
        dr_snapshot(snap_me, 1);
        long w = atomic_load(&sh->worker), s = atomic_load(&sh->sleeper);
        /* a held thread wakes from its futex now and then (a bounded wait
         * in slices) and goes back: look again for a moment */
        double again = dr_now() + 2;
        while ((dr_count_parked() < 1 || child_parked(child, lo, hi) < 2) && dr_now() < again)
            dr_sleep_ms(1);
        if (dr_count_parked() >= 1 && child_parked(child, lo, hi) >= 2) {
            held++;
            /* held: nothing can have moved since the snapshot */
            if (dr_moved(snap_me, 1) || atomic_load(&sh->worker) != w || atomic_load(&sh->sleeper) != s)
                moved++;
        } else {
            dr_mark("comp: iteration %d: parked here %d, in the child %d (want 1 and 2); engine %lx-%lx", i,
                    dr_count_parked(), child_parked(child, lo, hi), lo, hi);
            char cmd[160];
            snprintf(cmd, sizeof cmd, "for t in /proc/%d/task/*; do echo \"$t $(cat $t/comm) $(cut -d' ' -f1-2 $t/syscall)\"; done >&2",
                     (int)child);
            if (system(cmd) < 0)
                dr_mark("comp: cannot list the child's threads");
        }
        int st = system("exit 7");
        if (WIFEXITED(st) && WEXITSTATUS(st) == 7)
            spawned++;
        else
            dr_mark("comp: system() in the window returned %#x", st);
        rc = dmtcp_checkpoint_unblock_resume();
        if (rc != 0) {
            dr_mark("comp: unblock returned %d", rc);
            errors++;
        }
        end = dr_now() + 20;
        while ((!dr_moved(snap_me, 1) || atomic_load(&sh->worker) == w || atomic_load(&sh->sleeper) == s) &&
               dr_now() < end)
            dr_sleep_ms(1);
        if (dr_moved(snap_me, 1) && atomic_load(&sh->worker) != w && atomic_load(&sh->sleeper) != s)
            resumed++;
        else
            dr_mark("comp: iteration %d: not every counter went on after unblock", i);
    }
    atomic_store(&sh->stop, 1);
    atomic_store(&dr_stop, 1);
    int st;
    while (waitpid(child, &st, 0) < 0 && errno == EINTR)
        ;
    printf("SUMMARY iterations=%d held=%d moved_in_window=%d resumed=%d spawned=%d errors=%d\n", iter, held, moved,
           resumed, spawned, errors);
    return 0;
}
