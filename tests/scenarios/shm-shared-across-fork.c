/*
 * shm-shared-across-fork.c — memory shared between a parent and its child
 * stays one object: MAP_SHARED|MAP_ANONYMOUS inherited across fork, a
 * memfd, and a POSIX shared memory object unlinked once mapped (as
 * Python's multiprocessing does with its semaphores).
 *
 * Before the checkpoint both processes see the same bytes (the child
 * checks the parent's pattern and answers with its own in the last page).
 * After the check the child writes a new word into each object and exits;
 * the parent reaps it and must read those words in its own mappings — a
 * restart that gave each process its own copy fails here.
 */
#include "scenario.h"

#include <sys/mman.h>
#include <sys/wait.h>

#define OBJ_PAGES 3
#define NOBJ 3

static const char *obj_name[NOBJ] = {"anonymous shared", "memfd", "unlinked POSIX shm"};

static volatile uint64_t *map_obj(int i)
{
    size_t len = OBJ_PAGES * 4096;
    int fd = -1;
    if (i == 1) {
        fd = memfd_create("scen-shm", 0);
    } else if (i == 2) {
        char name[64];
        snprintf(name, sizeof name, "/stasis-scen-%d", (int)getpid());
        fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
        if (fd >= 0)
            shm_unlink(name);
    }
    if (i > 0 && (fd < 0 || ftruncate(fd, (off_t)len) < 0))
        fail_errno("%s: create", obj_name[i]);
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | (i == 0 ? MAP_ANONYMOUS : 0), fd, 0);
    if (p == MAP_FAILED)
        fail_errno("%s: mmap", obj_name[i]);
    if (fd >= 0)
        close(fd);
    return p;
}

int main(void)
{
    volatile uint64_t *obj[NOBJ];
    for (int i = 0; i < NOBJ; i++) {
        obj[i] = map_obj(i);
        for (size_t w = 0; w < OBJ_PAGES * 512; w += 512)
            obj[i][w] = scen_pattern_word((uint64_t)i, w);
    }
    pid_t c = fork();
    if (c < 0)
        fail_errno("fork");
    if (c == 0) {
        for (int i = 0; i < NOBJ; i++) {
            for (size_t w = 0; w < OBJ_PAGES * 512; w += 512)
                if (obj[i][w] != scen_pattern_word((uint64_t)i, w))
                    _exit(10 + i);
            obj[i][OBJ_PAGES * 512 - 1] = 0xc0ffee00u + (uint64_t)i;
        }
        scen_wait_check();
        for (int i = 0; i < NOBJ; i++)
            obj[i][1] = 0xabcd0000u + (uint64_t)i;
        _exit(0);
    }
    for (int i = 0; i < NOBJ; i++)
        SCEN_WAIT_FOR(obj[i][OBJ_PAGES * 512 - 1] == 0xc0ffee00u + (uint64_t)i,
                      "%s: the child's answer never showed up before the checkpoint", obj_name[i]);
    scen_ready();
    scen_wait_check();
    int st;
    pid_t w;
    while ((w = waitpid(c, &st, 0)) < 0 && errno == EINTR)
        ;
    SCEN_CHECK(w == c && WIFEXITED(st) && WEXITSTATUS(st) == 0, "the child ended with %#x", st);
    for (int i = 0; i < NOBJ; i++) {
        SCEN_CHECK(obj[i][1] == 0xabcd0000u + (uint64_t)i,
                   "%s: the child's write after the check is not visible here (%#llx): the memory is no longer "
                   "shared",
                   obj_name[i], (unsigned long long)obj[i][1]);
        for (size_t wd = 0; wd < OBJ_PAGES * 512; wd += 512)
            SCEN_CHECK(obj[i][wd] == scen_pattern_word((uint64_t)i, wd), "%s: word %zu changed", obj_name[i], wd);
    }
    pass();
}
