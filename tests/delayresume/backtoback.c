/* backtoback.c — windows opened one right after another: block, unblock,
 * block again at once, ROUNDS times, with NW busy workers (more than the
 * CPUs, so some released threads have not run yet when the next window is
 * asked for).  Every round must return DMTCP_AFTER_CHECKPOINT then 0, and
 * the program must end.  Progress "round N" lines go to stdout.
 *
 *   backtoback ROUNDS NW [gap_ms]
 */
#include "drtest.h"

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 20;
    int nw = argc > 2 ? atoi(argv[2]) : 8;
    int gap = argc > 3 ? atoi(argv[3]) : 0;
    if (nw > DR_MAXW)
        nw = DR_MAXW;
    pthread_t t[DR_MAXW];
    dr_start_counters(t, nw, 0);
    int bad = 0;
    for (int r = 1; r <= rounds; r++) {
        dr_say("round %d", r);
        int rc = dmtcp_checkpoint_block_resume();
        int u = rc == DMTCP_AFTER_CHECKPOINT ? dmtcp_checkpoint_unblock_resume() : 99;
        if (rc != DMTCP_AFTER_CHECKPOINT || u != 0) {
            bad++;
            dr_say("round %d: block %s, unblock %d", r, dr_rc_name(rc), u);
        }
        if (gap)
            dr_sleep_ms(gap);
    }
    long snap[DR_MAXW];
    dr_snapshot(snap, nw);
    int went = dr_wait_all_moved(snap, nw, 20);
    atomic_store(&dr_stop, 1);
    for (int i = 0; i < nw; i++)
        pthread_join(t[i], NULL);
    dr_say("SUMMARY rounds=%d bad=%d all-ran=%d", rounds, bad, went);
    return 0;
}
