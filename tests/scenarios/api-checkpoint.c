/*
 * api-checkpoint.c — the program checkpoints itself: a worker thread (not
 * main) calls dmtcp_checkpoint() while another thread keeps computing.  The
 * call returns DMTCP_AFTER_CHECKPOINT in the running program,
 * DMTCP_AFTER_RESTART in a restarted one, DMTCP_NOT_PRESENT without the
 * engine; the local status counts agree, and the program's state is intact.
 *
 * Self-checkpointing protocol (run.sh): the driver does not request the
 * first checkpoint — the program's own call writes the image before it
 * creates `ready`; the driver then continues, or kills and restarts, as in
 * every other scenario.  The driver writes the mode to $SCEN_DIR/mode, so the
 * program knows which return value to expect.
 */
// SCEN_SELF_CHECKPOINT: yes

#include "scenario.h"

#define HEAP_SIZE ((size_t)32 << 20)

static atomic_long ticks;
static atomic_int stop;

static void *ticker(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop)) {
        atomic_fetch_add(&ticks, 1);
        scen_sleep_ms(2);
    }
    return NULL;
}

static void *checkpointer(void *arg)
{
    (void)arg;
    return (void *)(intptr_t)dmtcp_checkpoint();
}

static int mode_is_restart(const char *m)
{
    return !strcmp(m, "restart") || !strcmp(m, "restart2") || !strcmp(m, "ckpt-after-restart") ||
           !strcmp(m, "generations") || !strcmp(m, "forked-restart") || !strcmp(m, "raw") ||
           !strcmp(m, "lazy");
}

int main(void)
{
    char *heap = malloc(HEAP_SIZE);
    if (!heap)
        fail("malloc");
    scen_fill(heap, HEAP_SIZE, 110);
    pthread_t tick = scen_thread(ticker, NULL);
    SCEN_WAIT_FOR(atomic_load(&ticks) > 0, "the ticker did not start");
    int enabled = dmtcp_is_enabled();

    int rc = (int)(intptr_t)scen_join(scen_thread(checkpointer, NULL));

    scen_ready();
    scen_wait_check();

    const char *mode = scen_mode();
    if (strcmp(mode, "plain") != 0 && strcmp(mode, "unknown") != 0 && !enabled)
        fail("mode %s, but dmtcp_is_enabled() says the engine is not there", mode);
    if (!enabled) {
        if (rc != DMTCP_NOT_PRESENT)
            fail("without the engine dmtcp_checkpoint() returned %d, expected DMTCP_NOT_PRESENT", rc);
    } else {
        /* incremental: restarted from an image taken after the call returned */
        int want = !strcmp(mode, "continue") || !strcmp(mode, "forked") || !strcmp(mode, "incremental")
                       ? DMTCP_AFTER_CHECKPOINT
                   : mode_is_restart(mode)    ? DMTCP_AFTER_RESTART
                                              : 0;
        if (want && rc != want)
            fail("dmtcp_checkpoint() from a worker returned %d in mode %s, expected %d", rc, mode, want);
        if (rc != DMTCP_AFTER_CHECKPOINT && rc != DMTCP_AFTER_RESTART)
            fail("dmtcp_checkpoint() from a worker returned %d", rc);
        int ckpts = -1, restarts = -1;
        dmtcp_get_local_status(&ckpts, &restarts);
        /* incremental: the call's checkpoint came before the restart */
        if (rc == DMTCP_AFTER_CHECKPOINT && (ckpts < 1 || (restarts != 0 && strcmp(mode, "incremental") != 0)))
            fail("after a checkpoint, local status says %d checkpoints, %d restarts", ckpts, restarts);
        if (rc == DMTCP_AFTER_RESTART && restarts < 1)
            fail("after a restart, local status says %d restarts", restarts);
        const char *img = dmtcp_get_ckpt_filename();
        if (!img || access(img, R_OK) != 0)
            fail("dmtcp_get_ckpt_filename() gives %s, which is not a readable file", img ? img : "NULL");
    }
    scen_expect_pattern("heap", heap, HEAP_SIZE, 110);
    long seen = atomic_load(&ticks);
    SCEN_WAIT_FOR(atomic_load(&ticks) > seen + 1, "the ticker thread stopped");
    atomic_store(&stop, 1);
    scen_join(tick);
    pass();
}
