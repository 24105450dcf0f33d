/* cpu.c — CPU used by parked threads.  NW busy workers (default 8) spin;
 * the process's CPU time (getrusage RUSAGE_SELF) is measured across
 * BUSY_MS of normal running (the busy rate) and across WINDOW_MS of an open
 * window (the initiator sleeps), once every worker is parked.  Prints
 *   "CPU busy=<cpu s per wall s> window=<cpu s per wall s> wall=<s>
 *    parked=<1 if all were parked within 20 s> moved=... unblock=... went=..."
 *
 *   cpu [NW] [WINDOW_MS] [BUSY_MS]
 */
#define _GNU_SOURCE
#include <sys/resource.h>

#include "drtest.h"

static double cpu_now(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           (double)ru.ru_stime.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
    int nw = argc > 1 ? atoi(argv[1]) : 8;
    long window_ms = argc > 2 ? atol(argv[2]) : 1000;
    long busy_ms = argc > 3 ? atol(argv[3]) : 500;
    if (nw > DR_MAXW)
        nw = DR_MAXW;
    pthread_t t[DR_MAXW];
    dr_start_counters(t, nw, 0);
    dr_sleep_ms(50);
    double c0 = cpu_now(), w0 = dr_now();
    dr_sleep_ms(busy_ms);
    double busy = (cpu_now() - c0) / (dr_now() - w0);
    int rc = dmtcp_checkpoint_block_resume();
    if (rc != DMTCP_AFTER_CHECKPOINT) {
        dr_result(0, "cpu-window", "block returned %s", dr_rc_name(rc));
        return 1;
    }
    long snap[DR_MAXW];
    dr_snapshot(snap, nw);
    int parked = dr_wait_parked(nw, 20);
    c0 = cpu_now();
    w0 = dr_now();
    dr_sleep_ms(window_ms);
    double wall = dr_now() - w0;
    double win = (cpu_now() - c0) / wall;
    int moved = dr_moved(snap, nw);
    int u = dmtcp_checkpoint_unblock_resume();
    int went = dr_wait_all_moved(snap, nw, 20);
    atomic_store(&dr_stop, 1);
    for (int i = 0; i < nw; i++)
        pthread_join(t[i], NULL);
    dr_say("CPU busy=%.4f window=%.6f wall=%.3f parked=%d moved=%d unblock=%d went=%d", busy, win, wall, parked,
           moved, u, went);
    return 0;
}
