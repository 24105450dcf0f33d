/*
 * generations-many.c — a restarted program can be checkpointed and
 * restarted again, many times: worker threads keep counting, a heap pattern,
 * a file offset and a held mutex must all be intact after five generations
 * of checkpoint, kill and restart (the driver's "generations" mode), as in
 * every other mode.
 */
// SCEN_MODES: plain continue restart restart2 ckpt-after-restart forked forked-restart raw lazy incremental generations

#include "scenario.h"

#define NWORKERS 4
#define HEAP_SIZE ((size_t)16 << 20)

static atomic_long ticks[NWORKERS];
static atomic_int stop;
static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER;

static void *worker(void *arg)
{
    int i = (int)(intptr_t)arg;
    char local[4096];
    scen_fill(local, sizeof(local), 120 + (uint64_t)i);
    while (!atomic_load(&stop)) {
        atomic_fetch_add(&ticks[i], 1);
        scen_sleep_ms(3);
    }
    if (scen_compare(local, sizeof(local), 120 + (uint64_t)i) >= 0)
        fail("worker %d: its stack changed", i);
    return NULL;
}

int main(void)
{
    char *heap = malloc(HEAP_SIZE);
    if (!heap)
        fail("malloc");
    scen_fill(heap, HEAP_SIZE, 121);
    char data[4096];
    scen_fill(data, sizeof(data), 122);
    char *path = scen_make_file("generations.bin", data, sizeof(data));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || lseek(fd, 1000, SEEK_SET) != 1000)
        fail_errno("open %s", path);
    pthread_mutex_lock(&held);
    pthread_t t[NWORKERS];
    for (int i = 0; i < NWORKERS; i++)
        t[i] = scen_thread(worker, (void *)(intptr_t)i);

    scen_ready();
    scen_wait_check();

    scen_expect_pattern("heap", heap, HEAP_SIZE, 121);
    if (lseek(fd, 0, SEEK_CUR) != 1000)
        fail("file offset is %lld, expected 1000", (long long)lseek(fd, 0, SEEK_CUR));
    char buf[100];
    if (read(fd, buf, 100) != 100 || memcmp(buf, data + 1000, 100) != 0)
        fail("reading the file did not continue at offset 1000");
    if (pthread_mutex_trylock(&held) != EBUSY)
        fail("the mutex held by the main thread is free");
    if (pthread_mutex_unlock(&held) != 0)
        fail("the main thread cannot unlock the mutex it held");
    long seen[NWORKERS];
    for (int i = 0; i < NWORKERS; i++)
        seen[i] = atomic_load(&ticks[i]);
    for (int i = 0; i < NWORKERS; i++)
        SCEN_WAIT_FOR(atomic_load(&ticks[i]) > seen[i] + 1, "worker %d stopped", i);
    atomic_store(&stop, 1);
    for (int i = 0; i < NWORKERS; i++)
        scen_join(t[i]);
    pass();
}
