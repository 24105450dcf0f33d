/*
 * sys.h — raw system calls for the engine's checkpoint and restore paths.
 *
 * Code that runs in the checkpoint signal handler, while other threads are
 * parked (they may hold libc locks), or before a restored thread has its TLS,
 * must not go through libc: these inline functions issue the syscall directly
 * and return the kernel's result (-errno on failure).  Async-signal-safe.
 */
#ifndef STASIS_SYS_H
#define STASIS_SYS_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <linux/futex.h>

static inline long sys_call6(long n, long a, long b, long c, long d, long e, long f)
{
    long ret;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}
#define sys_call0(n) sys_call6(n, 0, 0, 0, 0, 0, 0)
#define sys_call1(n, a) sys_call6(n, (long)(a), 0, 0, 0, 0, 0)
#define sys_call2(n, a, b) sys_call6(n, (long)(a), (long)(b), 0, 0, 0, 0)
#define sys_call3(n, a, b, c) sys_call6(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define sys_call4(n, a, b, c, d) sys_call6(n, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define sys_call5(n, a, b, c, d, e) sys_call6(n, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)

static inline int sys_gettid(void) { return (int)sys_call0(SYS_gettid); }
static inline int sys_getpid(void) { return (int)sys_call0(SYS_getpid); }
/* open(2) of a path that names processes by their kernel pids
 * ("/proc/<real pid>/..."): past the pid plugin's translation of the
 * program's paths (pid_proc.c); -1 with errno on failure. */
static inline int sys_open_real(const char *path, int flags)
{
    long fd = sys_call4(SYS_openat, AT_FDCWD, (long)path, flags, 0);
    if (fd < 0) {
        errno = (int)-fd;
        return -1;
    }
    return (int)fd;
}

static inline long sys_futex_wait(int *addr, int val, const void *timeout)
{
    return sys_call4(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, timeout);
}
static inline long sys_futex_wake(int *addr, int n)
{
    return sys_call3(SYS_futex, addr, FUTEX_WAKE_PRIVATE, n);
}

#endif
