/* misuse.c — every misuse of the delayed-resume API returns its documented
 * code, prints one warning line, and never hangs or aborts; the program
 * goes on.  Before and after each case "@@ begin NAME" / "@@ end NAME
 * warnings=K" go to stderr (K = the number of error returns the case got),
 * so the driver checks each case printed exactly K warning lines.  Four
 * counting workers run throughout; at the end a normal window must still
 * park them and release them.
 */
#define _GNU_SOURCE
#include <signal.h>

#include "drtest.h"

#define NW 4
static pthread_t workers[NW];
static int errors_in_case;

static void check(const char *name, int got, int want)
{
    dr_result(got == want, name, "returned %d (%s), expected %d (%s)", got, dr_rc_name(got), want,
              dr_rc_name(want));
    if (got < 0)
        errors_in_case++;
}

static void begin(const char *name)
{
    errors_in_case = 0;
    dr_mark("@@ begin %s", name);
}
/* after each case, every worker must be back in its loop: a thread still
 * leaving the parked state when the next window starts is another test
 * (back-to-back.sh) */
static void end(const char *name)
{
    long snap[NW];
    dr_snapshot(snap, NW);
    if (!dr_wait_all_moved(snap, NW, 20))
        dr_result(0, name, "after the case, %d of %d workers never ran again", NW - dr_moved(snap, NW), NW);
    dr_mark("@@ end %s warnings=%d", name, errors_in_case);
}

/* ---- EPERM: a thread that is not the initiator unblocks ----------------- */
static _Atomic int eperm_rc = 99;
static void *eperm_thread(void *a)
{
    (void)a;
    atomic_store(&eperm_rc, dmtcp_checkpoint_unblock_resume());
    return NULL;
}

/* ---- ESIGNAL: block from a signal handler -------------------------------- */
static volatile sig_atomic_t sig_rc = 99;
static void on_sig(int s)
{
    (void)s;
    sig_rc = dmtcp_checkpoint_block_resume();
}

/* ---- EBUSY: two threads call block together ------------------------------ */
static pthread_barrier_t bar;
static _Atomic int busy_rc[2];
static _Atomic int busy_unblock[2];
static _Atomic int busy_seen;
static void *busy_thread(void *a)
{
    int i = (int)(long)a;
    pthread_barrier_wait(&bar);
    int rc = dmtcp_checkpoint_block_resume();
    atomic_store(&busy_rc[i], rc);
    if (rc == DMTCP_RESUME_EBUSY)
        atomic_store(&busy_seen, 1);
    if (rc == DMTCP_AFTER_CHECKPOINT)
        atomic_store(&busy_unblock[i], dmtcp_checkpoint_unblock_resume());
    return NULL;
}

/* join with a bound: a hang becomes a FAIL line and exit */
static int join_bounded(pthread_t t, const char *name)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 20;
    if (pthread_timedjoin_np(t, NULL, &ts) != 0) {
        dr_result(0, name, "a thread did not return within 20 s (hang)");
        _exit(3);
    }
    return 1;
}

/* round: 1 = with a dmtcp_disable_ckpt() holder, so the first caller's
 * checkpoint cannot finish before the second calls (deterministic);
 * 0 = just the barrier */
static void busy_round(const char *name, int hold)
{
    pthread_t t[2];
    atomic_store(&busy_seen, 0);
    for (int i = 0; i < 2; i++) {
        atomic_store(&busy_rc[i], 99);
        atomic_store(&busy_unblock[i], 99);
    }
    pthread_barrier_init(&bar, NULL, hold ? 3 : 2);
    if (hold)
        dmtcp_disable_ckpt();
    for (long i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, busy_thread, (void *)i);
    if (hold) {
        pthread_barrier_wait(&bar);
        double end = dr_now() + 20;
        while (!atomic_load(&busy_seen) && dr_now() < end)
            dr_sleep_ms(1);
        dmtcp_enable_ckpt();
    }
    join_bounded(t[0], name);
    join_bounded(t[1], name);
    pthread_barrier_destroy(&bar);
    int a = atomic_load(&busy_rc[0]), b = atomic_load(&busy_rc[1]);
    int ua = atomic_load(&busy_unblock[0]), ub = atomic_load(&busy_unblock[1]);
    int ck = (a == DMTCP_AFTER_CHECKPOINT) + (b == DMTCP_AFTER_CHECKPOINT);
    int busy = (a == DMTCP_RESUME_EBUSY) + (b == DMTCP_RESUME_EBUSY);
    errors_in_case += busy;
    int unblocks_ok = (a != DMTCP_AFTER_CHECKPOINT || ua == 0) && (b != DMTCP_AFTER_CHECKPOINT || ub == 0);
    int ok = unblocks_ok && ((ck == 1 && busy == 1) || (!hold && ck == 2));
    dr_result(ok, name, "the two threads got %s and %s (unblock: %d, %d)", dr_rc_name(a), dr_rc_name(b), ua, ub);
    dr_say("# %s: %s + %s", name, dr_rc_name(a), dr_rc_name(b));
}

int main(void)
{
    dr_start_counters(workers, NW, 1);
    long snap[NW];

    begin("misuse-enowindow");
    check("misuse-enowindow", dmtcp_checkpoint_unblock_resume(), DMTCP_RESUME_ENOWINDOW);
    end("misuse-enowindow");

    begin("misuse-eperm");
    int rc = dmtcp_checkpoint_block_resume();
    if (rc != DMTCP_AFTER_CHECKPOINT) {
        dr_result(0, "misuse-eperm", "block_resume returned %s", dr_rc_name(rc));
    } else {
        pthread_t t; /* created in the window: it is not parked */
        pthread_create(&t, NULL, eperm_thread, NULL);
        join_bounded(t, "misuse-eperm");
        check("misuse-eperm", atomic_load(&eperm_rc), DMTCP_RESUME_EPERM);
        check("misuse-eperm-initiator-still-unblocks", dmtcp_checkpoint_unblock_resume(), 0);
    }
    end("misuse-eperm");

    begin("misuse-eopen");
    rc = dmtcp_checkpoint_block_resume();
    if (rc != DMTCP_AFTER_CHECKPOINT) {
        dr_result(0, "misuse-eopen", "block_resume returned %s", dr_rc_name(rc));
    } else {
        check("misuse-eopen", dmtcp_checkpoint_block_resume(), DMTCP_RESUME_EOPEN);
        check("misuse-eopen-then-unblock", dmtcp_checkpoint_unblock_resume(), 0);
    }
    end("misuse-eopen");

    begin("misuse-esignal-sigaction");
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sig;
    sigaction(SIGUSR1, &sa, NULL);
    sig_rc = 99;
    raise(SIGUSR1);
    check("misuse-esignal-sigaction", sig_rc, DMTCP_RESUME_ESIGNAL);
    end("misuse-esignal-sigaction");

    begin("misuse-esignal-signal");
    signal(SIGHUP, on_sig);
    sig_rc = 99;
    raise(SIGHUP);
    check("misuse-esignal-signal", sig_rc, DMTCP_RESUME_ESIGNAL);
    end("misuse-esignal-signal");

    begin("misuse-esignal-from-another-thread");
    /* the signal handled by a worker-like thread: pthread_kill to a thread
     * blocked in sleep */
    sig_rc = 99;
    pthread_kill(workers[0], SIGUSR1);
    double until = dr_now() + 20;
    while (sig_rc == 99 && dr_now() < until)
        dr_sleep_ms(1);
    check("misuse-esignal-from-another-thread", sig_rc, DMTCP_RESUME_ESIGNAL);
    end("misuse-esignal-from-another-thread");

    for (int r = 1; r <= 3; r++) {
        char name[64];
        snprintf(name, sizeof name, "misuse-ebusy-held-%d", r);
        begin(name);
        busy_round(name, 1);
        end(name);
    }
    for (int r = 1; r <= 5; r++) {
        char name[64];
        snprintf(name, sizeof name, "misuse-ebusy-barrier-%d", r);
        begin(name);
        busy_round(name, 0);
        end(name);
    }

    /* the program goes on: a normal window still parks and releases */
    begin("misuse-after-all");
    rc = dmtcp_checkpoint_block_resume();
    if (rc != DMTCP_AFTER_CHECKPOINT) {
        dr_result(0, "misuse-then-normal-window", "block_resume returned %s", dr_rc_name(rc));
    } else {
        dr_snapshot(snap, NW);
        int parked = dr_wait_parked(NW, 20);
        int moved = dr_moved(snap, NW);
        int u = dmtcp_checkpoint_unblock_resume();
        int went = dr_wait_all_moved(snap, NW, 20);
        dr_result(parked && moved == 0 && u == 0 && went, "misuse-then-normal-window",
                  "%s, %d of %d workers ran in the window, unblock returned %d, all ran after: %s",
                  parked ? "all parked" : "not all parked within 20 s", moved, NW, u, went ? "yes" : "no");
    }
    end("misuse-after-all");
    atomic_store(&dr_stop, 1);
    for (int i = 0; i < NW; i++)
        pthread_join(workers[i], NULL);
    dr_say("DONE");
    return 0;
}
