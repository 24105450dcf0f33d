/*
 * api-status.c — the status calls tell the truth: dmtcp_is_enabled(),
 * dmtcp_get_coordinator_status() (one peer, running), dmtcp_get_local_status()
 * (no checkpoints at first; afterwards checkpoints in a continued program,
 * restarts in a restarted one) and dmtcp_get_ckpt_filename() (the image, named
 * ckpt_api-status_*.dmtcp).  Without the engine they say DMTCP_NOT_PRESENT.
 */
#include "scenario.h"

#include <libgen.h>

static void expect_coordinator(const char *when)
{
    int peers = -1, running = -1;
    int rc = dmtcp_get_coordinator_status(&peers, &running);
    if (rc == DMTCP_NOT_PRESENT || rc == DMTCP_ERROR)
        fail("%s: dmtcp_get_coordinator_status returned %d", when, rc);
    if (peers != 1 || running != 1)
        fail("%s: coordinator status says %d peers, running=%d; expected 1 peer, running", when, peers,
             running);
}

int main(void)
{
    int enabled = dmtcp_is_enabled();
    int ckpts = -1, restarts = -1;
    if (enabled) {
        expect_coordinator("at start");
        dmtcp_get_local_status(&ckpts, &restarts);
        if (ckpts != 0 || restarts != 0)
            fail("at start local status says %d checkpoints, %d restarts", ckpts, restarts);
    } else {
        int n, r;
        if (dmtcp_get_coordinator_status(&n, &r) != DMTCP_NOT_PRESENT ||
            dmtcp_get_local_status(&n, &r) != DMTCP_NOT_PRESENT || dmtcp_get_ckpt_filename() != NULL ||
            dmtcp_checkpoint() != DMTCP_NOT_PRESENT)
            fail("without the engine the API does not say DMTCP_NOT_PRESENT");
    }

    scen_ready();
    scen_wait_check();

    const char *mode = scen_mode();
    if (dmtcp_is_enabled() != enabled)
        fail("dmtcp_is_enabled() changed from %d to %d", enabled, dmtcp_is_enabled());
    if (strcmp(mode, "plain") != 0 && strcmp(mode, "unknown") != 0 && !enabled)
        fail("mode %s, but dmtcp_is_enabled() says the engine is not there", mode);
    if (!enabled)
        pass();

    expect_coordinator("after the check");
    int rc = dmtcp_get_local_status(&ckpts, &restarts);
    if (rc == DMTCP_NOT_PRESENT || rc == DMTCP_ERROR)
        fail("dmtcp_get_local_status returned %d", rc);
    if ((!strcmp(mode, "continue") || !strcmp(mode, "forked")) && (ckpts < 1 || restarts != 0))
        fail("continued after a checkpoint: local status says %d checkpoints, %d restarts", ckpts,
             restarts);
    if (strncmp(mode, "restart", 7) == 0 || !strcmp(mode, "ckpt-after-restart") ||
        !strcmp(mode, "generations") || !strcmp(mode, "forked-restart") || !strcmp(mode, "raw") ||
        !strcmp(mode, "incremental") || !strcmp(mode, "lazy"))
        if (restarts < 1)
            fail("restarted: local status says %d restarts", restarts);
    if (ckpts + restarts < 1)
        fail("local status counts neither a checkpoint nor a restart");

    const char *img = dmtcp_get_ckpt_filename();
    if (!img)
        fail("dmtcp_get_ckpt_filename() is NULL after a checkpoint");
    char copy[PATH_MAX];
    snprintf(copy, sizeof(copy), "%s", img);
    const char *base = basename(copy);
    size_t len = strlen(base);
    if (strncmp(base, "ckpt_api-status_", 16) != 0 || len < 6 || strcmp(base + len - 6, ".dmtcp") != 0)
        fail("image name %s is not ckpt_api-status_*.dmtcp", img);
    struct stat st;
    if (stat(img, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0)
        fail("image %s is not a non-empty file", img);
    pass();
}
