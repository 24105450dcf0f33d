/* restartwin.c — the restart path.  Four counting workers; the initiator
 * calls dmtcp_checkpoint_block_resume().  In the first run it returns
 * DMTCP_AFTER_CHECKPOINT: once its workers are parked (or 20 s went by)
 * the program prints "WINDOW parked=1 moved=0" and waits there
 * (never unblocking; the driver kills it with dmtcp_command -k).  Restarted
 * from that image, the same call returns DMTCP_AFTER_RESTART, and then:
 * every worker runs without any unblock; unblock says there is no window;
 * a new window opens, parks the workers and releases them.
 */
#include "drtest.h"

#define NW 4

int main(void)
{
    pthread_t t[NW];
    long snap[NW];
    dr_start_counters(t, NW, 1);
    dr_sleep_ms(50);
    int rc = dmtcp_checkpoint_block_resume();
    if (rc == DMTCP_AFTER_CHECKPOINT) {
        dr_snapshot(snap, NW);
        int parked = dr_wait_parked(NW, 20);
        dr_say("WINDOW parked=%d moved=%d", parked, dr_moved(snap, NW));
        dr_sleep_ms(120 * 1000); /* the driver kills us here */
        dr_say("FAIL restart-window: not killed within 120 s");
        return 3;
    }
    dr_result(rc == DMTCP_AFTER_RESTART, "restart-block-returns-after-restart", "returned %s", dr_rc_name(rc));
    dr_snapshot(snap, NW);
    int went = dr_wait_all_moved(snap, NW, 20);
    dr_result(went, "restart-threads-run-without-unblock", "%d of %d workers ran within 20 s",
              dr_moved(snap, NW), NW);
    int u = dmtcp_checkpoint_unblock_resume();
    dr_result(u == DMTCP_RESUME_ENOWINDOW, "restart-nothing-to-unblock", "unblock returned %s",
              dr_rc_name(u));
    dr_mark("@@ after-restart-unblock");
    /* a new window after the restart */
    rc = dmtcp_checkpoint_block_resume();
    if (rc != DMTCP_AFTER_CHECKPOINT) {
        dr_result(0, "restart-new-window", "block returned %s", dr_rc_name(rc));
    } else {
        dr_snapshot(snap, NW);
        int parked = dr_wait_parked(NW, 20);
        int moved = dr_moved(snap, NW);
        u = dmtcp_checkpoint_unblock_resume();
        went = dr_wait_all_moved(snap, NW, 20);
        dr_result(parked && moved == 0 && u == 0 && went, "restart-new-window",
                  "%s, %d of %d workers ran in the window, unblock %s, all ran after: %s",
                  parked ? "all parked" : "not all parked within 20 s", moved, NW, dr_rc_name(u),
                  went ? "yes" : "no");
    }
    atomic_store(&dr_stop, 1);
    for (int i = 0; i < NW; i++)
        pthread_join(t[i], NULL);
    dr_say("DONE");
    return 0;
}
