/*
 * api-disable-enable.c — dmtcp_disable_ckpt()/dmtcp_enable_ckpt() nest and
 * hold checkpoints off: the program disables twice, tells the driver it is
 * ready (the driver asks for a blocking checkpoint at once, which must wait),
 * and watches its local checkpoint count for a while: it must not change
 * until the second enable.  After the check, a checkpoint requested by the
 * driver must have happened (continue mode) and the calls still work.
 */
#include "scenario.h"

static int calls_ok(int rc, int enabled)
{
    return enabled ? rc != DMTCP_NOT_PRESENT && rc != DMTCP_ERROR : rc == DMTCP_NOT_PRESENT;
}

static int local_ckpts(void)
{
    int ckpts = 0, restarts = 0;
    dmtcp_get_local_status(&ckpts, &restarts);
    return ckpts + restarts;
}

int main(void)
{
    int enabled = dmtcp_is_enabled();
    int rc1 = dmtcp_disable_ckpt(), rc2 = dmtcp_disable_ckpt();
    int c0 = local_ckpts();
    const char *violation = NULL;

    scen_ready();

    uint64_t end = scen_now_ns() + 1500000000ull;
    while (!violation && scen_now_ns() < end) {
        if (local_ckpts() != c0)
            violation = "a checkpoint ran while checkpoints were disabled twice";
        scen_sleep_ms(10);
    }
    int rc3 = dmtcp_enable_ckpt(); /* still disabled once */
    end = scen_now_ns() + 500000000ull;
    while (!violation && scen_now_ns() < end) {
        if (local_ckpts() != c0)
            violation = "a checkpoint ran after only one of two enables";
        scen_sleep_ms(10);
    }
    int rc4 = dmtcp_enable_ckpt(); /* a waiting checkpoint may run now */

    scen_wait_check();

    if (violation)
        fail("%s", violation);
    if (!calls_ok(rc1, enabled) || !calls_ok(rc2, enabled) || !calls_ok(rc3, enabled) ||
        !calls_ok(rc4, enabled))
        fail("disable/enable returned %d %d %d %d (engine %s)", rc1, rc2, rc3, rc4,
             enabled ? "present" : "absent");
    const char *mode = scen_mode();
    if (enabled && (!strcmp(mode, "continue") || !strcmp(mode, "forked")) && local_ckpts() < 1)
        fail("the checkpoint requested while disabled never ran");
    if (!calls_ok(dmtcp_disable_ckpt(), enabled) || !calls_ok(dmtcp_enable_ckpt(), enabled))
        fail("disable/enable after the check failed");
    pass();
}
