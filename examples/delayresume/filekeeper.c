/*
 * filekeeper.c — the delayed-resume use case, made real.
 *
 *   filekeeper delayed|plain DATA_DIR ARCHIVE_DIR
 *
 * Four worker threads keep rewriting and deleting their files in DATA_DIR
 * and remember, in memory, what each file should hold.  Such a program's
 * checkpoint is only useful with a copy of its files taken at the same
 * moment: the main thread takes the checkpoint and then archives DATA_DIR
 * beside the image (tar).
 *
 *   delayed: dmtcp_checkpoint_block_resume(); archive; unblock.  No worker
 *            runs between the checkpoint and the archive.
 *   plain:   dmtcp_checkpoint(); archive.  Workers resume at once and change
 *            (race a) or delete (race b) files before tar reads them.
 *
 * After a restart (from restore-and-restart.sh, which first puts the archive
 * back) the main thread checks every file against the restored memory and
 * prints how many differ or are missing.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "delayresume.h"

#define WORKERS 4
#define FILES 8

static const char *data_dir, *archive_dir;
static long version[WORKERS][FILES]; /* 0 = the file must not exist */
static atomic_int verified_restarts;

static void file_path(char *out, size_t cap, int w, int k)
{
    snprintf(out, cap, "%s/w%d-%d.txt", data_dir, w, k);
}

static void write_file(int w, int k, long v)
{
    char path[4096], text[64];
    file_path(path, sizeof path, w, k);
    int n = snprintf(text, sizeof text, "worker %d file %d version %ld\n", w, k, v);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        if (write(fd, text, (size_t)n) != n)
            perror("write");
        close(fd);
    }
}

/* Each operation changes a file and the memory that describes it together:
 * dmtcp_disable_ckpt() keeps a checkpoint from falling between the two. */
static void *worker(void *arg)
{
    int w = (int)(intptr_t)arg;
    uint64_t x = 0x9e3779b97f4a7c15ull * (uint64_t)(w + 1);
    long next = 1;
    int my_restarts = 0;
    for (;;) {
        dmtcp_disable_ckpt();
        int ckpts = 0, restarts = 0;
        dmtcp_get_local_status(&ckpts, &restarts);
        while (restarts > my_restarts && atomic_load(&verified_restarts) < restarts)
            usleep(1000); /* restarted: the main thread checks the files first */
        my_restarts = restarts;
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int k = (int)(x % FILES);
        char path[4096];
        file_path(path, sizeof path, w, k);
        if (x % 5 == 0) {
            unlink(path);
            version[w][k] = 0;
        } else {
            write_file(w, k, next);
            version[w][k] = next++;
        }
        dmtcp_enable_ckpt();
        usleep(200);
    }
    return NULL;
}

static void verify(void)
{
    int differ = 0, missing = 0, extra = 0;
    for (int w = 0; w < WORKERS; w++)
        for (int k = 0; k < FILES; k++) {
            char path[4096], want[64], got[64] = "";
            file_path(path, sizeof path, w, k);
            snprintf(want, sizeof want, "worker %d file %d version %ld\n", w, k, version[w][k]);
            int fd = open(path, O_RDONLY);
            if (fd < 0) {
                missing += version[w][k] != 0;
                continue;
            }
            ssize_t n = read(fd, got, sizeof got - 1);
            close(fd);
            got[n > 0 ? n : 0] = 0;
            if (!version[w][k])
                extra++;
            else if (strcmp(got, want) != 0)
                differ++;
        }
    printf("filekeeper: restarted; checked %d files against the restored memory: "
           "%d changed after the checkpoint (race a), %d deleted after it (race b), %d created after it\n",
           WORKERS * FILES, differ, missing, extra);
    printf("RESULT races=%d\n", differ + missing + extra);
    fflush(stdout);
}

static void write_restore_script(void)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/restore-and-restart.sh", archive_dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return;
    fprintf(f,
            "#!/bin/sh\n"
            "# Written by filekeeper: put the files back as they were archived at the\n"
            "# checkpoint, then restart from the image.\n"
            "set -e\n"
            "rm -rf '%s'\nmkdir -p '%s'\n"
            "tar -C '%s' -xf '%s/files.tar'\n"
            "exec '%s/dmtcp_restart_script.sh' \"$@\"\n",
            data_dir, data_dir, data_dir, archive_dir, archive_dir);
    fclose(f);
    chmod(path, 0755);
}

int main(int argc, char **argv)
{
    if (argc != 4 || (strcmp(argv[1], "delayed") && strcmp(argv[1], "plain"))) {
        fprintf(stderr, "usage: filekeeper delayed|plain DATA_DIR ARCHIVE_DIR\n");
        return 2;
    }
    int delayed = !strcmp(argv[1], "delayed");
    data_dir = argv[2];
    archive_dir = argv[3];
    mkdir(data_dir, 0755);
    pthread_t th[WORKERS];
    for (int i = 0; i < WORKERS; i++)
        pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i);
    sleep(1);

    int rc = delayed ? dmtcp_checkpoint_block_resume() : dmtcp_checkpoint();
    if (rc == DMTCP_AFTER_RESTART) {
        verify();
        int c, r;
        dmtcp_get_local_status(&c, &r);
        atomic_store(&verified_restarts, r);
        return 0;
    }
    if (rc != DMTCP_AFTER_CHECKPOINT) {
        fprintf(stderr, "filekeeper: no checkpoint (%d): run it under dmtcp_launch --with-plugin "
                        "libdmtcp_delayresume.so\n", rc);
        return 1;
    }
    char cmd[9000];
    snprintf(cmd, sizeof cmd, "tar -C '%s' -cf '%s/files.tar' .", data_dir, archive_dir);
    int t = system(cmd); /* tar of a directory being rewritten may warn; that is the race */
    write_restore_script();
    if (delayed)
        dmtcp_checkpoint_unblock_resume();
    printf("filekeeper: checkpoint taken, files archived in %s/files.tar (tar status %d), workers %s\n",
           archive_dir, t, delayed ? "released after the archive" : "never stopped");
    fflush(stdout);
    for (;;)
        pause(); /* the demo kills us here */
}
