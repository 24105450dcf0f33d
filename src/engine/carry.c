/*
 * carry.c — the engine's own state carried across exec.
 *
 * A process that execs keeps its place in the computation (spawn.c), and
 * a built-in plugin may have state the new program's engine needs too:
 * after a restart, the pid plugin's table of the other processes' old and
 * new pids.  At PRE_EXEC a plugin puts records, each a tag and bytes, into
 * an unnamed file (a memfd) that stays open across the exec;
 * STASIS_EXEC_STATE names its descriptor.  The new program's engine reads
 * the whole file as it starts and closes it at once, before the manager
 * thread could take a checkpoint; at INIT a plugin gets its record back by
 * tag, and then the copy is dropped.
 *
 * Record: tag (CARRY_TAG bytes, NUL-padded), length (uint32_t), bytes.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/engine.h"
#include "engine/sys.h"

#define CARRY_TAG 16
#define CARRY_MAX (1u << 20) /* what a new program reads at most */

static struct {
    int fd;       /* the old program's file being written, or -1 */
    char *copy;   /* the new program's copy of what was carried */
    size_t len;
} carry = {.fd = -1};

int carry_begin(void)
{
    carry.fd = (int)sys_call2(SYS_memfd_create, "stasis-exec-state", MFD_CLOEXEC);
    if (carry.fd < 0)
        carry.fd = -1;
    return carry.fd;
}

int carry_put(const char *tag, const void *data, uint32_t len)
{
    if (carry.fd < 0)
        return -1;
    char head[CARRY_TAG + sizeof(uint32_t)] = {0};
    strncpy(head, tag, CARRY_TAG - 1);
    memcpy(head + CARRY_TAG, &len, sizeof len);
    if (sys_call3(SYS_write, carry.fd, head, sizeof head) != (long)sizeof head ||
        sys_call3(SYS_write, carry.fd, data, len) != (long)len)
        return -1;
    return 0;
}

void carry_end(void)
{
    if (carry.fd >= 0)
        sys_call1(SYS_close, carry.fd);
    carry.fd = -1;
}

void carry_adopt(int fd)
{
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 || (uint64_t)st.st_size > CARRY_MAX) {
        sys_call1(SYS_close, fd);
        return;
    }
    char *p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p != MAP_FAILED && sys_call4(SYS_pread64, fd, p, st.st_size, 0) == st.st_size) {
        carry.copy = p;
        carry.len = (size_t)st.st_size;
    } else if (p != MAP_FAILED) {
        munmap(p, (size_t)st.st_size);
    }
    sys_call1(SYS_close, fd);
}

long carry_get(const char *tag, void *buf, uint32_t cap)
{
    size_t at = 0;
    while (carry.copy && at + CARRY_TAG + sizeof(uint32_t) <= carry.len) {
        uint32_t len;
        memcpy(&len, carry.copy + at + CARRY_TAG, sizeof len);
        const char *data = carry.copy + at + CARRY_TAG + sizeof len;
        if (len > carry.len - (size_t)(data - carry.copy))
            break; /* a record cut short: nothing trusted past it */
        if (strncmp(carry.copy + at, tag, CARRY_TAG) == 0) {
            uint32_t n = len < cap ? len : cap;
            memcpy(buf, data, n);
            return n;
        }
        at = (size_t)(data - carry.copy) + len;
    }
    return -1;
}

void carry_forget(void)
{
    if (carry.copy)
        munmap(carry.copy, carry.len);
    carry.copy = NULL;
    carry.len = 0;
}
