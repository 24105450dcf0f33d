/* timeout.c — run with DMTCP_DELAYRESUME_TIMEOUT=1.  Eight workers (each
 * counting once a millisecond); the initiator opens a window and never
 * unblocks during HOLD seconds (default 3).  It watches the counters and
 * prints "RELEASED after S s" once every worker ran again (or "NOT-RELEASED"),
 * then waits for DIR/looked (the driver's status check), unblocks (expects
 * DMTCP_RESUME_ETIMEDOUT), and opens and closes one more window at once
 * (expects 1 and 0).  "@@" markers on stderr delimit the phases.
 *
 *   timeout DIR [HOLD]
 */
#include "drtest.h"

#define NW 8

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : ".";
    double hold = argc > 2 ? atof(argv[2]) : 3;
    pthread_t t[NW];
    long snap[NW];
    dr_start_counters(t, NW, 1);
    dr_sleep_ms(20);
    dr_mark("@@ window");
    int rc = dmtcp_checkpoint_block_resume();
    double t0 = dr_now();
    if (rc != DMTCP_AFTER_CHECKPOINT) {
        dr_result(0, "timeout-window", "block returned %s", dr_rc_name(rc));
        return 1;
    }
    dr_snapshot(snap, NW);
    double released = -1, first = -1;
    while (dr_now() - t0 < hold) {
        int m = dr_moved(snap, NW);
        if (m && first < 0)
            first = dr_now() - t0;
        if (m == NW && released < 0)
            released = dr_now() - t0;
        dr_sleep_ms(2);
    }
    if (released >= 0)
        dr_say("RELEASED after %.3f s (first worker after %.3f s)", released, first);
    else
        dr_say("NOT-RELEASED (%d of %d workers ran within %.1f s)", dr_moved(snap, NW), NW, hold);
    char p[600];
    snprintf(p, sizeof p, "%s/looked", dir);
    dr_wait_file(p, 30);
    dr_mark("@@ unblock");
    int u = dmtcp_checkpoint_unblock_resume();
    dr_say("UNBLOCK %d", u);
    dr_mark("@@ next window");
    rc = dmtcp_checkpoint_block_resume();
    u = rc == DMTCP_AFTER_CHECKPOINT ? dmtcp_checkpoint_unblock_resume() : 99;
    dr_say("NEXT %d %d", rc, u);
    dr_mark("@@ end");
    atomic_store(&dr_stop, 1);
    for (int i = 0; i < NW; i++)
        pthread_join(t[i], NULL);
    dr_say("DONE");
    return 0;
}
