/*
 * tree.h — the process tree a multi-image restart rebuilds (tree.c).
 */
#ifndef STASIS_RESTART_TREE_H
#define STASIS_RESTART_TREE_H

#include <stddef.h>
#include <stdint.h>

#include "common/image.h"

/* Shared by every process of the restart (one anonymous shared mapping). */
struct tree_shared {
    int created;      /* processes created so far */
    int registered;   /* processes whose image registration ended (either way) */
    int failed;       /* something failed: why says what */
    char why[1024];
    int32_t *real;    /* real pid of the process for image i */
    int32_t *status;  /* 1 registered, -1 failed */
};

struct tree {
    int n;
    const struct image_header *hdrs;
    int *parent;      /* image index of each image's parent, -1 for a root */
    int main;         /* the root this process becomes */
    int me;           /* after tree_build: the image this process becomes */
    struct tree_shared *sh;
};

/* The images are one checkpoint of one computation, each process once, all
 * of them (unless partial).  0, or -1 with the reason in err. */
int tree_check(int n, char *const *names, const struct image_header *h, int partial, char *err, size_t cap);
/* Work out parents and the main root; 0 or -1 (err). */
int tree_plan(struct tree *t, int n, const struct image_header *hdrs, char *err, size_t cap);
/* Create the processes; returns, in each, the index of its image. */
int tree_build(struct tree *t);
/* This process's registration ended (ok or not). */
void tree_registered(struct tree *t, int ok);
/* Wait for every registration: 0, or -1 with why when one failed. */
int tree_wait_all_registered(struct tree *t, char *why, size_t cap);
/* A memfd with struct restart_pid[n] (vpid → real pid of each process). */
int tree_pidmap_fd(const struct tree *t);

#endif
