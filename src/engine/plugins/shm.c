/*
 * shm.c — memory shared between the processes of a computation.
 *
 * A MAP_SHARED mapping with no file a restart could map again (anonymous
 * shared memory inherited across fork, a memfd, a deleted /dev/shm file, a
 * SysV segment) is saved with each process's image and comes back, in each
 * process, as shared anonymous memory with the saved bytes — one copy per
 * process.  Processes that shared it before must share it again, so:
 *
 * Checkpoint (PRECHECKPOINT, everyone suspended): each process names the
 * objects it maps to the coordinator's name service ("sm:INODE", the
 * smallest pid mapping it, elected owner) together with the extent it maps
 * ("sz:INODE", the largest end, as a minimum of its negation).
 *
 * Restart (RESTART): the owner puts the bytes of its mappings into a new
 * memfd of that extent and maps it over them (MAP_FIXED, same address,
 * protection and offset), and says where the memfd is ("sf:INODE"); after
 * a barrier every other process maps the same memfd (through
 * /proc/PID/fd/N) over its own copy; after a second barrier the owner
 * closes its descriptor.  The memory is one object again, with the owner's
 * bytes (all copies were equal at the cut: every process was suspended).
 * The next checkpoint sees a memfd mapping and does the same.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/proto.h"
#include "engine/engine.h"
#include "engine/plugins/pid.h"
#include "engine/memory.h"
#include "engine/sys.h"

#define SHM_MAX 256 /* shared mappings a process may have restored as shared */

struct shm_rec {
    uint64_t start, end, offset, inode;
    int prot;
    int owner;          /* this process recreates the object */
    uint64_t extent;    /* bytes of the object any process maps (offset + length) */
};

static struct {
    struct shm_rec recs[SHM_MAX];
    int n;
    int overflow;
    int memfds[SHM_MAX]; /* restart: the owner's descriptors, until every process mapped them */
    int nmemfds;
    struct memory_buf text, areas;
} shm_state;

/* Shared memory no file can give back at restart (image_write.c saves it
 * as REGION_ANON_SHARED). */
static int shm_is_object(const struct memory_area *a)
{
    if (!a->shared || !a->inode)
        return 0;
    size_t plen = strlen(a->path);
    return (plen > 10 && !strcmp(a->path + plen - 10, " (deleted)")) || !strncmp(a->path, "/SYSV", 5) ||
           !strncmp(a->path, "/memfd:", 7);
}

static void shm_checkpoint(void)
{
    shm_state.n = 0;
    shm_state.overflow = 0;
    size_t count = 0;
    if (memory_read_maps(&shm_state.text, &shm_state.areas, &count) < 0)
        count = 0;
    const struct memory_area *areas = (const struct memory_area *)shm_state.areas.data;
    for (size_t i = 0; i < count; i++) {
        const struct memory_area *a = &areas[i];
        if (!shm_is_object(a) || memory_buf_is_own(a->start, a->end))
            continue;
        if (shm_state.n >= SHM_MAX) {
            shm_state.overflow = 1;
            continue;
        }
        struct shm_rec *r = &shm_state.recs[shm_state.n++];
        memset(r, 0, sizeof *r);
        r->start = a->start;
        r->end = a->end;
        r->offset = a->offset;
        r->inode = a->inode;
        r->prot = (int)a->prot;
        manager_kv_min("sm", r->inode, pid_virtual_pid());
        manager_kv_min("sz", r->inode, -(int64_t)(r->offset + (r->end - r->start)));
    }
    if (shm_state.overflow)
        engine_warn("checkpoint: more than %d shared memory mappings; the others come back private to this "
                    "process after a restart",
                    SHM_MAX);
    dmtcp_global_barrier("stasis:shm-named"); /* every process calls it */
    for (int i = 0; i < shm_state.n; i++) {
        struct shm_rec *r = &shm_state.recs[i];
        int64_t owner = manager_kv_get_int("sm", r->inode), extent = -manager_kv_get_int("sz", r->inode);
        r->owner = owner == pid_virtual_pid() || !manager_state.connected;
        r->extent = extent > 0 ? (uint64_t)extent : r->offset + (r->end - r->start);
    }
    memory_buf_free(&shm_state.text);
    memory_buf_free(&shm_state.areas);
}

static int shm_map_over(const struct shm_rec *r, int fd)
{
    void *p = mmap((void *)(uintptr_t)r->start, r->end - r->start, r->prot, MAP_SHARED | MAP_FIXED, fd,
                   (off_t)r->offset);
    return p == MAP_FAILED ? -errno : 0;
}

/* The owner: one memfd per object holding the bytes of its mappings. */
static void shm_recreate(uint64_t inode)
{
    int fd = -1;
    uint64_t extent = 0;
    for (int i = 0; i < shm_state.n; i++) {
        struct shm_rec *r = &shm_state.recs[i];
        if (r->inode != inode || !r->owner)
            continue;
        if (fd < 0) {
            fd = (int)sys_call2(SYS_memfd_create, "stasis-shm", MFD_CLOEXEC);
            extent = r->extent;
            if (fd < 0 || ftruncate(fd, (off_t)extent) < 0) {
                engine_warn("cannot recreate shared memory object %llu: %s; it stays private to each process",
                            (unsigned long long)inode, strerror(fd < 0 ? (int)-fd : errno));
                if (fd >= 0)
                    sys_call1(SYS_close, fd);
                return;
            }
        }
        if (!(r->prot & PROT_READ))
            mprotect((void *)(uintptr_t)r->start, r->end - r->start, r->prot | PROT_READ);
        ssize_t w = pwrite(fd, (const void *)(uintptr_t)r->start, r->end - r->start, (off_t)r->offset);
        if (w != (ssize_t)(r->end - r->start) || shm_map_over(r, fd) < 0)
            engine_warn("shared memory %llx-%llx: cannot share it again (%s); it stays private to this process",
                        (unsigned long long)r->start, (unsigned long long)r->end, strerror(errno));
    }
    if (fd < 0)
        return;
    char k[KV_KEY_MAX], v[48];
    manager_kv_name(k, "sf", inode);
    int len = snprintf(v, sizeof v, "%d:%d", (int)sys_getpid(), fd);
    manager_kv_put(k, v, (uint32_t)len + 1, KV_SET);
    shm_state.memfds[shm_state.nmemfds++] = fd; /* kept until every process mapped it */
}

static void shm_attach(struct shm_rec *r)
{
    char k[KV_KEY_MAX], v[48] = "";
    int pid = 0, fd = -1;
    manager_kv_name(k, "sf", r->inode);
    if (manager_kv_get(k, v, sizeof v - 1) <= 0 || sscanf(v, "%d:%d", &pid, &fd) != 2) {
        engine_warn("shared memory %llx-%llx: the process that recreates it did not say where it is; it stays "
                    "private to this process",
                    (unsigned long long)r->start, (unsigned long long)r->end);
        return;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd/%d", pid, fd);
    int m = sys_open_real(path, O_RDWR | O_CLOEXEC);
    int rc = m < 0 ? -errno : shm_map_over(r, m);
    if (m >= 0)
        sys_call1(SYS_close, m);
    if (rc < 0)
        engine_warn("shared memory %llx-%llx: cannot map it from process %d (%s); it stays private to this "
                    "process",
                    (unsigned long long)r->start, (unsigned long long)r->end, pid, strerror(-rc));
}

static void shm_restart(void)
{
    for (int i = 0; i < shm_state.n; i++) {
        int first = 1;
        for (int j = 0; j < i; j++)
            if (shm_state.recs[j].inode == shm_state.recs[i].inode)
                first = 0;
        if (first && shm_state.recs[i].owner)
            shm_recreate(shm_state.recs[i].inode);
    }
    dmtcp_global_barrier("stasis:shm-made");
    for (int i = 0; i < shm_state.n; i++)
        if (!shm_state.recs[i].owner)
            shm_attach(&shm_state.recs[i]);
    dmtcp_global_barrier("stasis:shm-mapped");
    for (int i = 0; i < shm_state.nmemfds; i++)
        sys_call1(SYS_close, shm_state.memfds[i]);
    shm_state.nmemfds = 0;
    shm_state.n = 0;
}

static void shm_hook(dmtcp_event_t ev, dmtcp_event_data_t *data)
{
    (void)data;
    if (ev == DMTCP_EVENT_PRECHECKPOINT)
        shm_checkpoint();
    else if (ev == DMTCP_EVENT_RESTART)
        shm_restart();
    else if (ev == DMTCP_EVENT_RESUME)
        shm_state.n = 0;
}

static const dmtcp_plugin_descriptor_t shm_descriptor = {
    .api_version = DMTCP_NATIVE_PLUGIN_API_VERSION,
    .name = "shm",
    .version = STASIS_VERSION,
    .description = "memory shared between the processes of a computation",
    .event_hook = shm_hook,
};
PLUGIN_DECL_BUILTIN(shm_descriptor, 60, NULL);
