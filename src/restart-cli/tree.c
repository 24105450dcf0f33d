/*
 * tree.c — dmtcp_restart rebuilds the computation's process tree.
 *
 * Every image records its process's virtual pid, parent, process group and
 * session (image_header.vpid, vppid, vpgid, vsid).  Before any helper runs,
 * dmtcp_restart creates one process per image in the shape the
 * computation had: a process becomes a session leader (setsid) or group
 * leader before it forks its children, so they inherit both; each image's
 * children are forked by the process that becomes its parent, so
 * waitpid() works after the restart; a process whose parent was not part of
 * the computation is a root: the first root (the one with most
 * descendants) is this very process, other roots are orphaned again (double
 * fork), as they were.  Once every process exists, members join their
 * group's leader.  Every process then registers its image, and execs its
 * restart helper only when all are registered.  Processes meet through one
 * shared anonymous page of counters (bounded waits).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "restart-cli/tree.h"

#define TREE_WAIT_MS 30000

static int tree_index_of(const struct tree *t, int32_t vpid)
{
    if (vpid <= 0)
        return -1;
    for (int i = 0; i < t->n; i++)
        if (t->hdrs[i].vpid == vpid)
            return i;
    return -1;
}

int tree_check(int n, char *const *names, const struct image_header *h, int partial, char *err, size_t cap)
{
    for (int i = 1; i < n; i++) {
        if (h[i].comp_id != h[0].comp_id || h[i].generation != h[0].generation) {
            snprintf(err, cap,
                     "the images are not one checkpoint: %s is checkpoint %llu of computation %016llx, %s is "
                     "checkpoint %llu of computation %016llx; restart the images of one checkpoint (the newest "
                     "set is the one dmtcp_restart_script.sh names)",
                     names[0], (unsigned long long)h[0].generation, (unsigned long long)h[0].comp_id, names[i],
                     (unsigned long long)h[i].generation, (unsigned long long)h[i].comp_id);
            return -1;
        }
        for (int k = 0; k < i; k++)
            if (h[k].vpid == h[i].vpid) {
                snprintf(err, cap, "%s and %s are images of the same process (pid %d): give each image once",
                         names[k], names[i], h[i].vpid);
                return -1;
            }
    }
    if (!partial && h[0].nprocs > (uint32_t)n) {
        snprintf(err, cap,
                 "checkpoint %llu took %u processes, and %d image%s given (%s%s): the others' images are "
                 "missing; give every image of the checkpoint (dmtcp_restart_script.sh does), or --partial "
                 "to restart only these",
                 (unsigned long long)h[0].generation, h[0].nprocs, n, n == 1 ? " is" : "s are", names[0],
                 n > 1 ? ", ..." : "");
        return -1;
    }
    return 0;
}

static int tree_descendants(const struct tree *t, int i, int depth)
{
    int d = 0;
    if (depth > t->n)
        return 0;
    for (int c = 0; c < t->n; c++)
        if (t->parent[c] == i)
            d += 1 + tree_descendants(t, c, depth + 1);
    return d;
}

int tree_plan(struct tree *t, int n, const struct image_header *hdrs, char *err, size_t cap)
{
    memset(t, 0, sizeof *t);
    t->n = n;
    t->hdrs = hdrs;
    t->parent = calloc((size_t)n, sizeof *t->parent);
    size_t shared = sizeof(struct tree_shared) + (size_t)n * 2 * sizeof(int32_t);
    t->sh = mmap(NULL, shared, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (!t->parent || t->sh == MAP_FAILED) {
        snprintf(err, cap, "out of memory planning the process tree");
        return -1;
    }
    t->sh->real = (int32_t *)(t->sh + 1);
    t->sh->status = t->sh->real + n;
    for (int i = 0; i < n; i++)
        t->parent[i] = tree_index_of(t, hdrs[i].vppid);
    /* a cycle cannot come from one checkpoint; cut it (a crafted image) */
    for (int i = 0; i < n; i++)
        for (int a = t->parent[i], steps = 0; a >= 0 && steps <= n; a = t->parent[a], steps++)
            if (a == i) {
                t->parent[i] = -1;
                break;
            }
    int best = -1, best_d = -1;
    for (int i = 0; i < n; i++) {
        if (t->parent[i] >= 0)
            continue;
        int d = tree_descendants(t, i, 0);
        if (d > best_d || (d == best_d && hdrs[i].vpid < hdrs[best].vpid)) {
            best = i;
            best_d = d;
        }
    }
    t->main = best < 0 ? 0 : best;
    if (best < 0)
        t->parent[0] = -1;
    return 0;
}

static void tree_sleep_ms(int ms)
{
    struct timespec ts = {0, (long)ms * 1000000L};
    nanosleep(&ts, NULL);
}

/* Wait until *counter reaches want; 0, or -1 after TREE_WAIT_MS. */
static int tree_wait_count(volatile int *counter, int want)
{
    for (int ms = 0; ms < TREE_WAIT_MS; ms++) {
        if (__atomic_load_n(counter, __ATOMIC_ACQUIRE) >= want)
            return 0;
        tree_sleep_ms(1);
    }
    return -1;
}

static void tree_fail(struct tree *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tree_fail(struct tree *t, const char *fmt, ...)
{
    if (__atomic_exchange_n(&t->sh->failed, 1, __ATOMIC_ACQ_REL) == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(t->sh->why, sizeof t->sh->why, fmt, ap);
        va_end(ap);
    }
}

/* This process becomes image i: its session or group, then its children. */
static int tree_become(struct tree *t, int i)
{
    const struct image_header *h = &t->hdrs[i];
    if (h->vsid > 0 && h->vsid == h->vpid)
        (void)setsid(); /* fails harmlessly where this process leads a group already */
    else if (h->vpgid > 0 && h->vpgid == h->vpid)
        (void)setpgid(0, 0);
    t->sh->real[i] = (int32_t)getpid();
    __atomic_add_fetch(&t->sh->created, 1, __ATOMIC_RELEASE);
    for (int c = 0; c < t->n; c++) {
        if (t->parent[c] != i)
            continue;
        pid_t pid = fork();
        if (pid == 0)
            return tree_become(t, c);
        if (pid < 0)
            tree_fail(t, "cannot create the process for image of pid %d: %s", t->hdrs[c].vpid, strerror(errno));
    }
    return i;
}

/* An orphan root: a grandchild, reparented to init as its process was. */
static void tree_start_orphan(struct tree *t, int r)
{
    pid_t mid = fork();
    if (mid == 0) {
        pid_t pid = fork();
        if (pid == 0) {
            t->me = tree_become(t, r);
            return;
        }
        if (pid < 0)
            tree_fail(t, "cannot create the process for image of pid %d: %s", t->hdrs[r].vpid, strerror(errno));
        _exit(0);
    }
    if (mid < 0) {
        tree_fail(t, "cannot create the process for image of pid %d: %s", t->hdrs[r].vpid, strerror(errno));
        return;
    }
    while (waitpid(mid, NULL, 0) < 0 && errno == EINTR)
        ;
}

int tree_build(struct tree *t)
{
    t->me = -1;
    for (int r = 0; r < t->n && t->me < 0; r++)
        if (t->parent[r] < 0 && r != t->main)
            tree_start_orphan(t, r);
    if (t->me < 0)
        t->me = tree_become(t, t->main);
    if (tree_wait_count(&t->sh->created, t->n) < 0)
        tree_fail(t, "only %d of the %d processes of the restart were created within %d s", t->sh->created, t->n,
                  TREE_WAIT_MS / 1000);
    const struct image_header *h = &t->hdrs[t->me];
    if (h->vpgid > 0 && h->vpgid != h->vpid) {
        int leader = tree_index_of(t, h->vpgid);
        if (leader >= 0)
            (void)setpgid(0, t->sh->real[leader]);
    }
    return t->me;
}

void tree_registered(struct tree *t, int ok)
{
    t->sh->status[t->me] = ok ? 1 : -1;
    if (!ok)
        tree_fail(t, "the image of pid %d could not be registered with the coordinator", t->hdrs[t->me].vpid);
    __atomic_add_fetch(&t->sh->registered, 1, __ATOMIC_RELEASE);
}

int tree_wait_all_registered(struct tree *t, char *why, size_t cap)
{
    if (tree_wait_count(&t->sh->registered, t->n) < 0)
        tree_fail(t, "only %d of the %d processes of the restart registered within %d s", t->sh->registered, t->n,
                  TREE_WAIT_MS / 1000);
    if (__atomic_load_n(&t->sh->failed, __ATOMIC_ACQUIRE)) {
        snprintf(why, cap, "%s", t->sh->why);
        return -1;
    }
    return 0;
}

int tree_pidmap_fd(const struct tree *t)
{
    int fd = memfd_create("stasis-pidmap", MFD_CLOEXEC);
    if (fd < 0)
        return -1;
    for (int i = 0; i < t->n; i++) {
        struct restart_pid p = {t->hdrs[i].vpid, t->sh->real[i]};
        if (write(fd, &p, sizeof p) != (ssize_t)sizeof p) {
            close(fd);
            return -1;
        }
    }
    return fd;
}
