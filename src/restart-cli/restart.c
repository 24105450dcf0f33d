/*
 * restart.c — dmtcp_restart: bring a computation back from its images.
 *
 *   dmtcp_restart [options] ckpt_*.dmtcp …
 *
 * Uses an image only if it is the user's own regular file that no one else
 * can write (trust.c), validates every image completely (image_check.c)
 * before anything else,
 * makes sure a coordinator is there (joining or starting one, as
 * dmtcp_launch does), registers every image of the restart with it on a
 * connection of its own (join.c), then for each image execs the libc-free
 * restart helper, which becomes the restored process.  The first image is
 * restored in this very process, so its output goes where dmtcp_restart's
 * goes; the others in forked children.  If any image cannot be restored,
 * the coordinator ends the whole restart and every process of it exits:
 * this one with status 4 and the reason.  Options given later override
 * earlier ones (dmtcp_restart_script.sh relies on that).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cliopt.h"
#include "common/coordclient.h"
#include "common/image_check.h"
#include "common/proto.h"
#include "common/secret.h"
#include "restart-cli/chain.h"
#include "restart-cli/files.h"
#include "restart-cli/join.h"
#include "restart-cli/streams.h"
#include "restart-cli/tree.h"
#include "restart-cli/trust.h"

#define RESTART_FAILED_STATUS 4 /* the restart could not complete */

static void restart_usage(FILE *f)
{
    fprintf(f,
            "Usage: dmtcp_restart [OPTIONS] IMAGE...\n"
            "Restart a computation from its checkpoint images (ckpt_*.dmtcp).\n\n"
            "Options:\n"
            "  -h, --coord-host HOST   coordinator host (default: $DMTCP_COORD_HOST or 127.0.0.1)\n"
            "  -p, --coord-port PORT   coordinator port (default: $DMTCP_COORD_PORT or 7779)\n"
            "  -j, --join-coordinator  the coordinator must already run\n"
            "      --new-coordinator   start a new coordinator (fails if one runs on PORT)\n"
            "      --any-coordinator   join the one running or start one (default)\n"
            "      --ckptdir DIR       write later checkpoints of the restarted processes to DIR\n"
            "                          (default: the directory they checkpointed to before)\n"
            "      --lazy              run the program before its memory is loaded: each 1 MiB\n"
            "                          block is loaded and checked on first touch, the rest in\n"
            "                          the background (env STASIS_LAZY_RESTART=1; needs\n"
            "                          userfaultfd for kernel faults: root, CAP_SYS_PTRACE or\n"
            "                          vm.unprivileged_userfaultfd=1; one full image only)\n"
            "      --partial           restart only the images given, though the checkpoint took\n"
            "                          more processes (by default every image is required)\n"
            "      --restart-timeout SECONDS\n"
            "                          a restart that is not complete after SECONDS fails\n"
            "                          (default %d; env STASIS_RESTART_TIMEOUT)\n"
            "      --stdin, --stdout, --stderr saved|inherit\n"
            "                          a stream that was a regular file at the checkpoint is\n"
            "                          that file again, at its offset (saved, the default), or\n"
            "                          what dmtcp_restart is given (inherit)\n"
            "      --stdio saved|inherit  the same for all three (env STASIS_RESTART_STDIO)\n"
            "  -q, --quiet             fewer messages from Stasis\n"
            "      --help              this text\n"
            "      --version           print the version\n\n"
            "An image, and every older image of an incremental chain, is used only if\n"
            "it is a regular file (not a symbolic link) owned by you (root: by root)\n"
            "that neither its group nor others can write; the owner recorded inside\n"
            "the image does not count.  A refusal names the file and the check.\n\n"
            "Every image is checked (format version, architecture, owner, layout)\n"
            "before anything is restored, and every block of memory against its\n"
            "checksum as it is loaded (with several images: all of them before any\n"
            "is restored); nothing unchecked ever runs.  The program and library\n"
            "files the process ran must be unchanged (same size and modification\n"
            "time): images keep only the pages of them the process changed.  A bad\n"
            "image is refused with a message and exit status 1.  Later options\n"
            "override earlier ones.\n\n"
            "If one image cannot be restored (a file it mapped is gone, its process\n"
            "dies, the time limit passes), the whole restart fails: every process\n"
            "of it exits without running the program, and dmtcp_restart exits with\n"
            "a message naming the image and the reason, and status 4 (1 when the\n"
            "image that failed is the first, which dmtcp_restart restores itself).\n\n"
            "Standard streams: one that was a regular file (`< script`, `> log`,\n"
            "`>> log`) is that file again, at its offset, shared again by the\n"
            "processes that shared it; the file must still be there, the same file,\n"
            "or the restart is refused (--stdin/--stdout/--stderr inherit to give it\n"
            "what dmtcp_restart is given instead).  A terminal, pipe from outside the\n"
            "computation or anything else is what dmtcp_restart is given.\n",
            JOIN_DEFAULT_TIMEOUT);
}

struct restart_opts {
    const char *host, *port, *ckptdir;
    enum coordclient_mode mode;
    int quiet;
    int lazy;
    int partial;
    unsigned stdio_inherit; /* bit N: descriptor N is what dmtcp_restart is given */
    const char *timeout;
    char **images;
    int nimages;
};

/* --stdin/--stdout/--stderr/--stdio saved|inherit: a cliopt_match result,
 * or -3 after a message about the value */
static int restart_stream_option(int argc, char **argv, int *i, unsigned *inherit)
{
    static const char *const names[] = {"--stdin", "--stdout", "--stderr", "--stdio"};
    for (unsigned k = 0; k < sizeof names / sizeof names[0]; k++) {
        const char *v = NULL;
        int m = cliopt_match(argc, argv, i, NULL, names[k], &v);
        if (m != CLIOPT_NO)
            return m < 0 ? m : streams_option(names[k], v, inherit) < 0 ? -3 : m;
    }
    return CLIOPT_NO;
}

static int restart_parse(int argc, char **argv, struct restart_opts *o)
{
    static char *images[4096];
    o->images = images;
    if (streams_inherit_env(&o->stdio_inherit) < 0)
        return -1;
    for (int i = 1; i < argc;) {
        const char *v = NULL;
        int m;
        if (!strcmp(argv[i], "--help")) {
            restart_usage(stdout);
            exit(0);
        }
        if (!strcmp(argv[i], "--version")) {
            printf("dmtcp_restart (Stasis) %s\n", STASIS_VERSION);
            exit(0);
        }
        if ((m = cliopt_match(argc, argv, &i, "-h", "--coord-host", &v)) != CLIOPT_NO) {
            if (m < 0)
                goto missing;
            o->host = v;
        } else if ((m = cliopt_match(argc, argv, &i, "-p", "--coord-port", &v)) != CLIOPT_NO) {
            if (m < 0)
                goto missing;
            o->port = v;
        } else if ((m = cliopt_match(argc, argv, &i, "-j", "--join-coordinator", NULL)) != CLIOPT_NO) {
            if (m < 0)
                goto extra;
            o->mode = COORD_JOIN;
        } else if ((m = cliopt_match(argc, argv, &i, NULL, "--new-coordinator", NULL)) != CLIOPT_NO) {
            if (m < 0)
                goto extra;
            o->mode = COORD_NEW;
        } else if ((m = cliopt_match(argc, argv, &i, NULL, "--any-coordinator", NULL)) != CLIOPT_NO) {
            if (m < 0)
                goto extra;
            o->mode = COORD_ANY;
        } else if ((m = cliopt_match(argc, argv, &i, NULL, "--ckptdir", &v)) != CLIOPT_NO) {
            if (m < 0)
                goto missing;
            o->ckptdir = v;
        } else if ((m = cliopt_match(argc, argv, &i, NULL, "--lazy", NULL)) != CLIOPT_NO) {
            if (m < 0)
                goto extra;
            o->lazy = 1;
        } else if ((m = cliopt_match(argc, argv, &i, NULL, "--restart-timeout", &v)) != CLIOPT_NO) {
            if (m < 0)
                goto missing;
            o->timeout = v;
        } else if ((m = cliopt_match(argc, argv, &i, NULL, "--partial", NULL)) != CLIOPT_NO) {
            if (m < 0)
                goto extra;
            o->partial = 1;
        } else if ((m = restart_stream_option(argc, argv, &i, &o->stdio_inherit)) != CLIOPT_NO) {
            if (m == CLIOPT_MISSING)
                goto missing;
            if (m < 0)
                return -1;
        } else if ((m = cliopt_match(argc, argv, &i, "-q", "--quiet", NULL)) != CLIOPT_NO) {
            if (m < 0)
                goto extra;
            o->quiet = 1;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "dmtcp_restart: unknown option '%s'; see dmtcp_restart --help\n", argv[i]);
            return -1;
        } else {
            if (o->nimages < 4096)
                images[o->nimages++] = argv[i];
            i++;
        }
        continue;
    missing:
        fprintf(stderr, "dmtcp_restart: option '%s' needs a value; see dmtcp_restart --help\n", argv[i]);
        return -1;
    extra:
        fprintf(stderr, "dmtcp_restart: option '%s' takes no value; see dmtcp_restart --help\n", argv[i]);
        return -1;
    }
    if (!o->nimages) {
        fprintf(stderr, "dmtcp_restart: no image given; usage: dmtcp_restart [OPTIONS] ckpt_*.dmtcp\n");
        return -1;
    }
    return 0;
}

static int restart_info_fd(const struct restart_info *ri)
{
    int fd = memfd_create("stasis-restart-info", 0);
    if (fd < 0 || write(fd, ri, sizeof *ri) != (ssize_t)sizeof *ri) {
        fprintf(stderr, "dmtcp_restart: cannot pass restart information: %s\n", strerror(errno));
        exit(1);
    }
    return fd;
}

/* Exec the helper for one image: argv is the image's fd, the restart
 * information's, then (incremental images) the plan's and the older images'.
 * img is the image's checked descriptor; coord_fd is the image's
 * registered connection to the coordinator. */
static void restart_exec(const char *helper, const char *image, int img, struct restart_info *ri,
                         const struct chain_result *chain, int coord_fd)
{
    fcntl(coord_fd, F_SETFD, 0); /* the helper's, then the restored process's */
    ri->coord_fd = coord_fd;
    if (!realpath(image, ri->image_path))
        snprintf(ri->image_path, sizeof ri->image_path, "%s", image);
    struct stat st;
    if (fstat(img, &st) < 0 || fcntl(img, F_SETFD, 0) < 0) { /* the checked file, and the helper's now */
        fprintf(stderr, "dmtcp_restart: cannot pass %s to the restart helper: %s\n", image, strerror(errno));
        exit(1);
    }
    ri->image_dev = (uint64_t)st.st_dev;
    ri->image_ino = (uint64_t)st.st_ino;
    int info = restart_info_fd(ri);
    static char num[3 + CHAIN_MAX][16];
    char *args[5 + CHAIN_MAX];
    int n = 0;
    args[n++] = "stasis-restart";
    snprintf(num[0], sizeof num[0], "%d", img);
    snprintf(num[1], sizeof num[1], "%d", info);
    snprintf(num[2], sizeof num[2], "%d", chain->plan_fd);
    if (chain->plan_fd >= 0)
        fcntl(chain->plan_fd, F_SETFD, 0);
    args[n++] = num[0];
    args[n++] = num[1];
    args[n++] = num[2];
    for (int i = 0; i < chain->nimages; i++) {
        fcntl(chain->fds[i], F_SETFD, 0); /* opened close-on-exec: this one is the helper's */
        snprintf(num[3 + i], sizeof num[3 + i], "%d", chain->fds[i]);
        args[n++] = num[3 + i];
    }
    args[n] = NULL;
    fflush(NULL);
    execv(helper, args);
    fprintf(stderr, "dmtcp_restart: cannot run the restart helper %s: %s (is the build complete? run make)\n",
            helper, strerror(errno));
    exit(1);
}

/* --restart-timeout, else STASIS_RESTART_TIMEOUT, else the default. */
static int restart_timeout(const struct restart_opts *o, uint32_t *out)
{
    const char *v = o->timeout ? o->timeout : getenv("STASIS_RESTART_TIMEOUT");
    int t = JOIN_DEFAULT_TIMEOUT;
    if (v && *v && (cliopt_uint(v, &t) < 0 || t == 0)) {
        fprintf(stderr, "dmtcp_restart: invalid %s '%s': expected seconds > 0\n",
                o->timeout ? "--restart-timeout" : "STASIS_RESTART_TIMEOUT", v);
        return -1;
    }
    *out = (uint32_t)t;
    return 0;
}

int main(int argc, char **argv)
{
    struct restart_opts o = {0};
    struct restart_join j = {.nimages = 0};
    if (restart_parse(argc, argv, &o) < 0 || restart_timeout(&o, &j.timeout) < 0)
        return 1;
    char err[1024];
    /* One image: its layout is checked here and every block's checksum by
     * the helper as it loads the block (one pass over the data, and no page
     * is used unchecked).  Several: every byte of every image is checked
     * first, so no process comes back when another image is bad. */
    int full = o.nimages > 1;
    /* kept until exit or exec (static: not a leak to LeakSanitizer, make asan) */
    static struct chain_result *chains;
    static struct image_header *hdrs;
    static int *fds;
    chains = calloc((size_t)o.nimages, sizeof *chains);
    hdrs = calloc((size_t)o.nimages, sizeof *hdrs);
    fds = calloc((size_t)o.nimages, sizeof *fds);
    if (!chains || !hdrs || !fds) {
        fprintf(stderr, "dmtcp_restart: out of memory\n");
        return 1;
    }
    /* Each image is trusted, checked and restored from one descriptor
     * (trust.c): never opened again by its name. */
    for (int i = 0; i < o.nimages; i++) {
        if ((fds[i] = trust_open_image(o.images[i], err, sizeof err)) < 0 ||
            image_check_fd(fds[i], o.images[i], &hdrs[i], err, sizeof err, full) < 0 ||
            files_check(o.images[i], fds[i], &hdrs[i], err, sizeof err) < 0 ||
            streams_check(o.images[i], fds[i], &hdrs[i], o.stdio_inherit, err, sizeof err) < 0 ||
            chain_plan(o.images[i], fds[i], &hdrs[i], full, &chains[i], err, sizeof err) < 0) {
            fprintf(stderr, "dmtcp_restart: refusing to restart %s\n", err);
            return 1;
        }
    }
    if (tree_check(o.nimages, o.images, hdrs, o.partial, err, sizeof err) < 0) {
        fprintf(stderr, "dmtcp_restart: refusing to restart: %s\n", err);
        return 1;
    }
    char dir[PATH_MAX], helper[PATH_MAX + 64];
    if (coordclient_self_dir(dir, sizeof dir) < 0) {
        fprintf(stderr, "dmtcp_restart: cannot find my own directory\n");
        return 1;
    }
    snprintf(helper, sizeof helper, "%s/../lib/stasis/restart-helper", dir);
    if (access(helper, X_OK) < 0) {
        fprintf(stderr, "dmtcp_restart: restart helper missing at %s: run make\n", helper);
        return 1;
    }
    if (o.ckptdir && access(o.ckptdir, W_OK) < 0) {
        fprintf(stderr, "dmtcp_restart: --ckptdir %s is not a writable directory: %s\n", o.ckptdir,
                strerror(errno));
        return 1;
    }
    struct coordclient_addr addr;
    if (coordclient_addr_init(&addr, o.host, o.port, err, sizeof err) != CC_OK) {
        fprintf(stderr, "dmtcp_restart: %s\n", err);
        return 1;
    }
    struct coordclient_start st = {.interval = -1, .ckptdir = NULL};
    int started = 0;
    int cc = coordclient_ensure(&addr, o.mode, &st, &started, err, sizeof err);
    if (cc != CC_OK) {
        fprintf(stderr, "dmtcp_restart: %s\n", err);
        return cc;
    }
    struct restart_info ri;
    memset(&ri, 0, sizeof ri);
    ri.magic = RESTART_INFO_MAGIC;
    ri.restart_peers = (uint32_t)o.nimages;
    ri.coord_port = addr.port;
    ri.quiet = o.quiet;
    ri.stdio_inherit = o.stdio_inherit;
    for (int i = 0; i < 3; i++)
        ri.stdio_fd[i] = -1;
    const char *lz = getenv("STASIS_LAZY_RESTART");
    ri.lazy = o.lazy || (lz && strcmp(lz, "0") != 0 && *lz);
    if (ri.lazy && (o.nimages > 1 || chains[0].plan_fd >= 0)) {
        if (!o.quiet)
            fprintf(stderr, "dmtcp_restart: --lazy applies to one full image; loading everything first\n");
        ri.lazy = 0;
    }
    snprintf(ri.coord_host, sizeof ri.coord_host, "%s", addr.host);
    if (secret_load(addr.port, ri.secret, NULL) < 0) {
        fprintf(stderr, "dmtcp_restart: no secret for the coordinator at %s:%d (set STASIS_COORD_SECRET)\n",
                addr.host, addr.port);
        return 3;
    }
    if (o.ckptdir && !realpath(o.ckptdir, ri.ckptdir))
        snprintf(ri.ckptdir, sizeof ri.ckptdir, "%s", o.ckptdir);
    j.addr = &addr;
    j.token = join_new_token();
    j.nimages = (uint32_t)o.nimages;
    /* one process per image, in the computation's shape (tree.c); each
     * registers its image, and runs its helper once all are registered */
    static struct tree t;
    if (tree_plan(&t, o.nimages, hdrs, err, sizeof err) < 0) {
        fprintf(stderr, "dmtcp_restart: %s\n", err);
        return 1;
    }
    /* before the tree forks: its processes inherit these (streams.c) */
    if (streams_open(o.images[t.main], fds[t.main], &hdrs[t.main], &ri, err, sizeof err) < 0) {
        fprintf(stderr, "dmtcp_restart: refusing to restart %s\n", err);
        return 1;
    }
    int me = tree_build(&t);
    int fd = -1;
    cc = join_register(&j, (uint32_t)me, o.images[me], &hdrs[me], &fd, err, sizeof err);
    if (cc != CC_OK)
        fprintf(stderr, "dmtcp_restart: %s\n", err);
    tree_registered(&t, cc == CC_OK);
    char why[1200];
    if (tree_wait_all_registered(&t, why, sizeof why) < 0) {
        if (cc == CC_OK) {
            join_fail(fd, why);
            if (me == t.main)
                fprintf(stderr, "dmtcp_restart: the restart failed: %s\n", why);
        }
        exit(cc == CC_OK ? RESTART_FAILED_STATUS : cc);
    }
    ri.pidmap_fd = tree_pidmap_fd(&t);
    ri.npids = (uint32_t)o.nimages;
    if (ri.pidmap_fd >= 0)
        fcntl(ri.pidmap_fd, F_SETFD, 0); /* the restored engine's to read */
    restart_exec(helper, o.images[me], fds[me], &ri, &chains[me], fd);
    return 1;
}
