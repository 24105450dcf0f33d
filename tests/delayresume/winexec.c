/* winexec.c — the initiator runs other programs in the window.
 *
 *   winexec exec DIR    four counting workers; in each of 3 windows the
 *                       initiator runs system("/bin/tar -cf ...") on the
 *                       files of DIR/data and popen("ls DIR/data"); both must
 *                       succeed and the workers must not run meanwhile (they
 *                       stay parked), then run again after unblock.  At the
 *                       end the program waits for DIR/go (the driver
 *                       checkpoints it meanwhile) and exits.
 *   winexec stdio DIR   two workers write to one shared FILE with fprintf
 *                       all the time, two malloc/free all the time (one
 *                       malloc arena for all: M_ARENA_MAX=1); in each of 20
 *                       windows the initiator writes to the same FILE,
 *                       mallocs and frees, and prints to stdout.  A worker
 *                       parked inside a call holding the lock would hang the
 *                       window.  Progress markers go to stderr.
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <sys/wait.h>

#include "drtest.h"

static char dir[512];
static FILE *shared;

static void *stdio_worker(void *a)
{
    int i = (int)(long)a;
    while (!atomic_load(&dr_stop)) {
        fprintf(shared, "worker %d line %ld with some text to make the call long enough %d %s\n", i,
                atomic_fetch_add(&dr_cnt[i], 1), i * 7, "abcdefghijklmnopqrstuvwxyz");
    }
    return NULL;
}

static void *malloc_worker(void *a)
{
    int i = (int)(long)a;
    void *keep[64] = {0};
    unsigned s = 12345u + (unsigned)i;
    while (!atomic_load(&dr_stop)) {
        s = s * 1103515245u + 12345u;
        int k = (int)(s >> 16) % 64;
        free(keep[k]);
        keep[k] = malloc(16 + (s >> 8) % 4000);
        atomic_fetch_add(&dr_cnt[i], 1);
    }
    for (int k = 0; k < 64; k++)
        free(keep[k]);
    return NULL;
}

static int run_exec(void)
{
    enum { NW = 4 };
    pthread_t t[NW];
    long snap[NW];
    char data[600];
    snprintf(data, sizeof data, "%s/data", dir);
    mkdir(data, 0755);
    for (int f = 1; f <= 5; f++) {
        char p[700];
        snprintf(p, sizeof p, "%s/f%d", data, f);
        FILE *fp = fopen(p, "w");
        fprintf(fp, "file %d\n", f);
        fclose(fp);
    }
    dr_start_counters(t, NW, 1);
    int ok_all = 1;
    for (int w = 1; w <= 3; w++) {
        int rc = dmtcp_checkpoint_block_resume();
        if (rc != DMTCP_AFTER_CHECKPOINT) {
            dr_result(0, "window-exec", "window %d: block returned %s", w, dr_rc_name(rc));
            return 1;
        }
        dr_snapshot(snap, NW);
        char cmd[1600];
        snprintf(cmd, sizeof cmd, "/bin/tar -cf %s/archive-%d.tar -C %s .", dir, w, data);
        int st = system(cmd);
        int sys_ok = st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
        int moved1 = dr_moved(snap, NW);
        snprintf(cmd, sizeof cmd, "ls %s", data);
        FILE *p = popen(cmd, "r");
        int lines = 0;
        char buf[256];
        while (p && fgets(buf, sizeof buf, p))
            lines++;
        int pst = p ? pclose(p) : -1;
        int pop_ok = p && lines == 5 && pst == 0;
        int moved2 = dr_moved(snap, NW);
        int u = dmtcp_checkpoint_unblock_resume();
        int went = dr_wait_all_moved(snap, NW, 20);
        char name[64];
        snprintf(name, sizeof name, "window-exec-system-tar-%d", w);
        dr_result(sys_ok, name, "system(\"%s\") returned status %d", cmd, st);
        snprintf(name, sizeof name, "window-exec-popen-ls-%d", w);
        dr_result(pop_ok, name, "popen: %s, %d lines, pclose %d", p ? "ok" : "failed", lines, pst);
        snprintf(name, sizeof name, "window-exec-others-parked-%d", w);
        dr_result(moved1 == 0 && moved2 == 0, name, "%d workers ran during system(), %d by the end of popen()",
                  moved1, moved2);
        snprintf(name, sizeof name, "window-exec-unblock-%d", w);
        dr_result(u == 0 && went, name, "unblock %s, all workers ran after: %s", dr_rc_name(u),
                  went ? "yes" : "no");
        ok_all &= sys_ok && pop_ok && !moved1 && !moved2 && u == 0 && went;
    }
    dr_say("WINDOWS-DONE");
    char go[600];
    snprintf(go, sizeof go, "%s/go", dir);
    dr_wait_file(go, 60);
    atomic_store(&dr_stop, 1);
    for (int i = 0; i < NW; i++)
        pthread_join(t[i], NULL);
    dr_say("DONE");
    return !ok_all;
}

static int run_stdio(void)
{
    enum { NW = 4, WINDOWS = 20 };
    mallopt(M_ARENA_MAX, 1);
    char p[600];
    snprintf(p, sizeof p, "%s/shared.log", dir);
    shared = fopen(p, "w");
    pthread_t t[NW];
    pthread_create(&t[0], NULL, stdio_worker, (void *)0L);
    pthread_create(&t[1], NULL, stdio_worker, (void *)1L);
    pthread_create(&t[2], NULL, malloc_worker, (void *)2L);
    pthread_create(&t[3], NULL, malloc_worker, (void *)3L);
    long snap[NW];
    int bad = 0;
    for (int w = 1; w <= WINDOWS; w++) {
        dr_sleep_ms(5);
        int rc = dmtcp_checkpoint_block_resume();
        if (rc != DMTCP_AFTER_CHECKPOINT) {
            dr_result(0, "window-stdio-malloc", "window %d: block returned %s", w, dr_rc_name(rc));
            return 1;
        }
        dr_mark("@@ window %d open: fprintf to the shared FILE", w);
        fprintf(shared, "initiator in window %d\n", w);
        fflush(shared);
        dr_mark("@@ window %d: malloc/free", w);
        for (int k = 0; k < 1000; k++)
            free(malloc(16 + (size_t)k * 8));
        dr_mark("@@ window %d: printf", w);
        printf("# window %d: initiator printed\n", w);
        fflush(stdout);
        dr_snapshot(snap, NW);
        int u = dmtcp_checkpoint_unblock_resume();
        bad += u != 0;
        dr_mark("@@ window %d closed", w);
        if (!dr_wait_all_moved(snap, NW, 20))
            bad++;
    }
    atomic_store(&dr_stop, 1);
    for (int i = 0; i < NW; i++)
        pthread_join(t[i], NULL);
    dr_result(bad == 0, "window-stdio-malloc", "%d windows went wrong", bad);
    dr_say("DONE");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return 1;
    setvbuf(stdout, NULL, _IOLBF, 0);
    snprintf(dir, sizeof dir, "%s", argv[2]);
    return strcmp(argv[1], "exec") == 0 ? run_exec() : run_stdio();
}
