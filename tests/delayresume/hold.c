/* hold.c — a window held open while the driver looks at it.
 *
 *   hold ckpt DIR    two workers; opens a window, touches DIR/open, waits
 *                    for DIR/requested (the driver has seen the coordinator
 *                    start the checkpoint dmtcp_command -c asked for), calls
 *                    dmtcp_checkpoint() itself (must return DMTCP_ERROR at
 *                    once), touches DIR/unblocking, waits for DIR/checked
 *                    (the driver looked meanwhile), unblocks, and waits (at
 *                    most 30 s) for the checkpoint count to go up.  The
 *                    witness below then tells where the initiator was when
 *                    that checkpoint was taken: after it decided to
 *                    unblock, never in the window.  Then waits for DIR/exit.
 *   hold status DIR  opens a window, touches DIR/open, waits for
 *                    DIR/release, unblocks, touches DIR/closed, waits for
 *                    DIR/exit.
 */
#include "drtest.h"

static char dir[512];

static void path(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", dir, name);
}

static int ckpts(void)
{
    int n = 0, r = 0;
    dmtcp_get_local_status(&n, &r);
    return n;
}

/* The witness: this program's own plugin.  Its PRECHECKPOINT hook runs
 * while every thread of the program is parked, so it records exactly how
 * far the initiator had got when each checkpoint was taken — no pause, no
 * timing: a checkpoint taken in the window is seen in the window. */
enum { PHASE_BEFORE, PHASE_WINDOW, PHASE_UNBLOCKING };
static _Atomic int phase;
static _Atomic int taken_in_window, taken_unblocking;

static void witness_event(dmtcp_event_t ev, dmtcp_event_data_t *data)
{
    (void)data;
    if (ev != DMTCP_EVENT_PRECHECKPOINT)
        return;
    int p = atomic_load(&phase);
    if (p == PHASE_WINDOW)
        atomic_fetch_add(&taken_in_window, 1);
    else if (p == PHASE_UNBLOCKING)
        atomic_fetch_add(&taken_unblocking, 1);
}

static dmtcp_plugin_descriptor_t hold_witness = {
    .name = "hold-witness",
    .version = "1",
    .description = "records where the initiator was at each checkpoint",
    .event_hook = witness_event,
};
DMTCP_DECL_PLUGIN(hold_witness)

int main(int argc, char **argv)
{
    if (argc != 3)
        return 1;
    snprintf(dir, sizeof dir, "%s", argv[2]);
    char p[600];
    pthread_t t[2];
    dr_start_counters(t, 2, 1);
    int rc = dmtcp_checkpoint_block_resume();
    if (rc != DMTCP_AFTER_CHECKPOINT) {
        dr_result(0, "hold-window", "block returned %s", dr_rc_name(rc));
        return 1;
    }
    if (strcmp(argv[1], "ckpt") == 0) {
        atomic_store(&phase, PHASE_WINDOW);
        int n0 = ckpts();
        path(p, sizeof p, "open");
        dr_touch(p);
        path(p, sizeof p, "requested");
        if (!dr_wait_file(p, 30))
            dr_result(0, "ckpt-in-window-driver", "the driver never said it requested a checkpoint");
        dr_mark("@@ begin own-checkpoint");
        double t0 = dr_now();
        int own = dmtcp_checkpoint();
        double took = dr_now() - t0;
        dr_mark("@@ end own-checkpoint");
        dr_result(own == DMTCP_ERROR, "ckpt-in-window-own-call-returns-error", "dmtcp_checkpoint() returned %s",
                  dr_rc_name(own));
        dr_say("# dmtcp_checkpoint() in the window returned after %.3f s", took);
        int n1 = ckpts();
        path(p, sizeof p, "unblocking");
        dr_touch(p);
        path(p, sizeof p, "checked"); /* the driver looked at the image and the log */
        dr_wait_file(p, 30);
        atomic_store(&phase, PHASE_UNBLOCKING);
        int u = dmtcp_checkpoint_unblock_resume();
        dr_result(u == 0, "ckpt-in-window-unblock", "unblock returned %s", dr_rc_name(u));
        double end = dr_now() + 30;
        while (ckpts() == n1 && dr_now() < end)
            dr_sleep_ms(5);
        int n2 = ckpts();
        dr_result(n2 > n1, "ckpt-in-window-runs-after-unblock",
                  "no checkpoint within 30 s of unblock (count still %d)", n2);
        int in_window = atomic_load(&taken_in_window), after = atomic_load(&taken_unblocking);
        dr_result(in_window == 0 && after >= 1, "ckpt-in-window-not-before-unblock",
                  "checkpoints taken while the window was open: %d; after unblock was called: %d", in_window,
                  after);
        dr_say("# checkpoint count: %d at the window, %d before unblock, %d after", n0, n1, n2);
        dr_say("CKPT-DONE");
    } else {
        path(p, sizeof p, "open");
        dr_touch(p);
        path(p, sizeof p, "release");
        if (!dr_wait_file(p, 60))
            dr_result(0, "hold-window", "never released by the driver");
        int u = dmtcp_checkpoint_unblock_resume();
        dr_result(u == 0, "status-unblock", "unblock returned %s", dr_rc_name(u));
        path(p, sizeof p, "closed");
        dr_touch(p);
    }
    path(p, sizeof p, "exit");
    dr_wait_file(p, 60);
    atomic_store(&dr_stop, 1);
    pthread_join(t[0], NULL);
    pthread_join(t[1], NULL);
    dr_say("DONE");
    return 0;
}
