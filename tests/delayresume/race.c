/* race.c — races (a) and (b) of the delayed-resume README, made
 * deterministic.
 *
 *   race MODE KIND ITER DIR
 *     MODE  block  dmtcp_checkpoint_block_resume() / unblock
 *           plain  dmtcp_checkpoint()
 *     KIND  change (a): a worker rewrites DIR/data with an increasing
 *                   counter, all the time (so it writes the instant it runs
 *                   again after the checkpoint); it sets `pending` before
 *                   each pwrite and `last` after it, so the file as
 *                   checkpointed holds one of the two;
 *           delete (b): before each checkpoint the initiator creates
 *                   DIR/victim-I and arms a worker that spins until the
 *                   process's checkpoint count goes up, then deletes the
 *                   file at once (the instant it runs after the checkpoint).
 *
 * Each iteration the initiator "copies" the file: it reads it, waits until
 * the worker is parked in the plugin (block: then nothing can change) or
 * has acted (plain, where it acts at once; at most 2 s), and reads it again.
 * A race is a copy that does not match the checkpointed state: the two reads
 * differ, or (block, change) the file is neither `pending` nor `last` as
 * found in memory in the window, or (delete) the file is missing.
 * Prints one line "SUMMARY mode=M kind=K iterations=N races=R resumed=S
 * errors=E first=...": resumed counts iterations after which the worker
 * went on (it changed/deleted the file after the window).
 */
#include "drtest.h"

static char dir[512];
static _Atomic long pending, last;
static _Atomic int armed, done;   /* delete: victim number armed / deleted */
static _Atomic int armed_ckpts;   /* checkpoint count when armed */

static long read_counter(void)
{
    char path[600], b[32];
    snprintf(path, sizeof path, "%s/data", dir);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t n = pread(fd, b, 21, 0);
    close(fd);
    if (n != 21)
        return -2;
    b[21] = 0;
    return atol(b);
}

static void *changer(void *arg)
{
    (void)arg;
    char path[600], b[32];
    snprintf(path, sizeof path, "%s/data", dir);
    int fd = open(path, O_RDWR | O_CREAT, 0644);
    if (fd < 0) {
        dr_mark("race: cannot open %s: %s", path, strerror(errno));
        exit(2);
    }
    for (long c = 1; !atomic_load(&dr_stop); c++) {
        atomic_store(&pending, c);
        snprintf(b, sizeof b, "%20ld\n", c);
        if (pwrite(fd, b, 21, 0) != 21)
            exit(2);
        atomic_store(&last, c);
    }
    close(fd);
    return NULL;
}

static void *deleter(void *arg)
{
    (void)arg;
    char path[600];
    while (!atomic_load(&dr_stop)) {
        int a = atomic_load(&armed);
        if (a && a != atomic_load(&done)) {
            int n = 0, r = 0;
            dmtcp_get_local_status(&n, &r);
            if (n + r != atomic_load(&armed_ckpts)) {
                snprintf(path, sizeof path, "%s/victim-%d", dir, a);
                unlink(path);
                atomic_store(&done, a);
            }
        }
    }
    return NULL;
}

static int victim_ok(int i)
{
    char path[600], b[32];
    snprintf(path, sizeof path, "%s/victim-%d", dir, i);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, b, sizeof b - 1);
    close(fd);
    if (n <= 0)
        return 0;
    b[n] = 0;
    return atoi(b) == i;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: race block|plain change|delete ITER DIR\n");
        return 1;
    }
    int block = strcmp(argv[1], "block") == 0;
    int change = strcmp(argv[2], "change") == 0;
    int iter = atoi(argv[3]);
    snprintf(dir, sizeof dir, "%s", argv[4]);
    double bound = 2.0; /* plain: the worker acts at once */

    pthread_t w;
    pthread_create(&w, NULL, change ? changer : deleter, NULL);
    if (change)
        while (atomic_load(&last) < 10)
            dr_sleep_ms(1);

    int races = 0, resumed = 0, errors = 0, unparked = 0;
    char first[300] = "";
    for (int i = 1; i <= iter; i++) {
        int rc;
        if (change) {
            rc = block ? dmtcp_checkpoint_block_resume() : dmtcp_checkpoint();
            if (rc != DMTCP_AFTER_CHECKPOINT) {
                errors++;
                snprintf(first, sizeof first, "iteration %d: checkpoint returned %s", i, dr_rc_name(rc));
                break;
            }
            long l = atomic_load(&last), p = atomic_load(&pending);
            long r1 = read_counter();
            if (block && !unparked && !dr_wait_parked(1, 10)) {
                unparked = 1; /* reported once; the next iterations do not wait again */
                errors++;
                snprintf(first, sizeof first, "iteration %d: the worker was not parked in the window within 10 s", i);
            }
            double end = dr_now() + bound;
            while (!block && atomic_load(&last) <= r1 && dr_now() < end)
                ;
            long r2 = read_counter();
            long l2 = atomic_load(&last), p2 = atomic_load(&pending);
            int race = r1 != r2 || (block && ((r1 != l && r1 != p) || l2 != l || p2 != p));
            if (race && !races++)
                snprintf(first, sizeof first,
                         "iteration %d: file read %ld then %ld; in memory last=%ld pending=%ld, then last=%ld", i,
                         r1, r2, l, p, l2);
            if (block) {
                int u = dmtcp_checkpoint_unblock_resume();
                if (u != 0) {
                    errors++;
                    snprintf(first, sizeof first, "iteration %d: unblock returned %s", i, dr_rc_name(u));
                }
                double e2 = dr_now() + 10;
                while (atomic_load(&last) <= l2 + 1 && dr_now() < e2)
                    dr_sleep_ms(1);
                resumed += atomic_load(&last) > l2 + 1;
            } else {
                resumed += atomic_load(&last) > l + 1;
            }
        } else {
            char path[600];
            snprintf(path, sizeof path, "%s/victim-%d", dir, i);
            int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            dprintf(fd, "%d\n", i);
            fsync(fd);
            close(fd);
            int n = 0, r = 0;
            dmtcp_get_local_status(&n, &r);
            atomic_store(&armed_ckpts, n + r);
            atomic_store(&armed, i);
            rc = block ? dmtcp_checkpoint_block_resume() : dmtcp_checkpoint();
            if (rc != DMTCP_AFTER_CHECKPOINT) {
                errors++;
                snprintf(first, sizeof first, "iteration %d: checkpoint returned %s", i, dr_rc_name(rc));
                break;
            }
            int e1 = victim_ok(i);
            if (block && !unparked && !dr_wait_parked(1, 10)) {
                unparked = 1; /* reported once; the next iterations do not wait again */
                errors++;
                snprintf(first, sizeof first, "iteration %d: the worker was not parked in the window within 10 s", i);
            }
            double end = dr_now() + bound;
            while (!block && atomic_load(&done) != i && dr_now() < end)
                ;
            int e2 = victim_ok(i);
            int race = !e1 || !e2;
            if (race && !races++)
                snprintf(first, sizeof first, "iteration %d: victim-%d %s at the first read, %s at the second", i,
                         i, e1 ? "present" : "GONE", e2 ? "present" : "GONE");
            if (block) {
                int u = dmtcp_checkpoint_unblock_resume();
                if (u != 0) {
                    errors++;
                    snprintf(first, sizeof first, "iteration %d: unblock returned %s", i, dr_rc_name(u));
                }
            }
            double e3 = dr_now() + 10;
            while (atomic_load(&done) != i && dr_now() < e3)
                dr_sleep_ms(1);
            resumed += atomic_load(&done) == i && !dr_exists(path);
        }
    }
    atomic_store(&dr_stop, 1);
    pthread_join(w, NULL);
    dr_say("SUMMARY mode=%s kind=%s iterations=%d races=%d resumed=%d errors=%d first=%s", argv[1], argv[2], iter,
           races, resumed, errors, first[0] ? first : "-");
    return 0;
}
