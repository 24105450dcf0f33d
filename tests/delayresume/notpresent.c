/* notpresent.c — prints what the two calls return:
 * "RESULT block=N unblock=N enabled=N" (numbers), after one
 * block/unblock pair. */
#include "drtest.h"

int main(void)
{
    pthread_t t[1];
    dr_start_counters(t, 1, 1);
    int b = dmtcp_checkpoint_block_resume();
    int u = b == DMTCP_AFTER_CHECKPOINT || b == DMTCP_NOT_PRESENT ? dmtcp_checkpoint_unblock_resume() : 99;
    atomic_store(&dr_stop, 1);
    pthread_join(t[0], NULL);
    dr_say("RESULT block=%d unblock=%d enabled=%d", b, u, dmtcp_is_enabled());
    return 0;
}
