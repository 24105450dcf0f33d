/*
 * arch-x86_64.h — the restart helper's system-call layer: inline syscalls
 * returning the kernel's result (-errno on failure), no libc.
 */
#ifndef STASIS_RESTART_ARCH_H
#define STASIS_RESTART_ARCH_H

#define NR_read 0
#define NR_write 1
#define NR_open 2
#define NR_close 3
#define NR_lseek 8
#define NR_poll 7
#define NR_mmap 9
#define NR_mprotect 10
#define NR_munmap 11
#define NR_brk 12
#define NR_sendto 44
#define NR_pread64 17
#define NR_mremap 25
#define NR_exit_group 231
#define NR_getuid 102
#define NR_prctl 157
#define NR_ftruncate 77
#define NR_memfd_create 319

static inline long rs_syscall6(long n, long a, long b, long c, long d, long e, long f)
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

#define RS_PROT_READ 1
#define RS_PROT_WRITE 2
#define RS_MAP_SHARED 0x01
#define RS_MAP_PRIVATE 0x02
#define RS_MAP_FIXED 0x10
#define RS_MAP_ANONYMOUS 0x20
#define RS_MAP_GROWSDOWN 0x100
#define RS_MAP_NORESERVE 0x4000
#define RS_MAP_FIXED_NOREPLACE 0x100000
#define RS_MREMAP_MAYMOVE 1
#define RS_MREMAP_FIXED 2
#define RS_O_RDONLY 0
#define RS_O_RDWR 2
#define RS_O_CLOEXEC 02000000

static inline long rs_brk(unsigned long to) { return rs_syscall6(NR_brk, (long)to, 0, 0, 0, 0, 0); }
static inline long rs_read(int fd, void *b, unsigned long n) { return rs_syscall6(NR_read, fd, (long)b, (long)n, 0, 0, 0); }
static inline long rs_write(int fd, const void *b, unsigned long n) { return rs_syscall6(NR_write, fd, (long)b, (long)n, 0, 0, 0); }
#define RS_MSG_NOSIGNAL 0x4000
static inline long rs_send(int fd, const void *b, unsigned long n, int flags)
{
    return rs_syscall6(NR_sendto, fd, (long)b, (long)n, flags, 0, 0);
}
static inline long rs_open(const char *p, int flags) { return rs_syscall6(NR_open, (long)p, flags, 0, 0, 0, 0); }
static inline long rs_close(int fd) { return rs_syscall6(NR_close, fd, 0, 0, 0, 0, 0); }
#define RS_SEEK_END 2
static inline long rs_lseek(int fd, long off, int whence) { return rs_syscall6(NR_lseek, fd, off, whence, 0, 0, 0); }
static inline long rs_getuid(void) { return rs_syscall6(NR_getuid, 0, 0, 0, 0, 0, 0); }
struct rs_pollfd {
    int fd;
    short events, revents;
};
#define RS_POLLIN 1
static inline long rs_poll(struct rs_pollfd *p, unsigned long n, int ms)
{
    return rs_syscall6(NR_poll, (long)p, (long)n, ms, 0, 0, 0);
}
static inline long rs_pread(int fd, void *b, unsigned long n, unsigned long off)
{
    return rs_syscall6(NR_pread64, fd, (long)b, (long)n, (long)off, 0, 0);
}
static inline long rs_mmap(unsigned long addr, unsigned long len, int prot, int flags, int fd, unsigned long off)
{
    return rs_syscall6(NR_mmap, (long)addr, (long)len, prot, flags, fd, (long)off);
}
static inline long rs_munmap(unsigned long addr, unsigned long len) { return rs_syscall6(NR_munmap, (long)addr, (long)len, 0, 0, 0, 0); }
static inline long rs_mprotect(unsigned long addr, unsigned long len, int prot)
{
    return rs_syscall6(NR_mprotect, (long)addr, (long)len, prot, 0, 0, 0);
}
static inline long rs_mremap(unsigned long old, unsigned long len, unsigned long nlen, int flags, unsigned long to)
{
    return rs_syscall6(NR_mremap, (long)old, (long)len, (long)nlen, flags, (long)to, 0);
}
static inline long rs_memfd_create(const char *name, unsigned flags)
{
    return rs_syscall6(NR_memfd_create, (long)name, flags, 0, 0, 0, 0);
}
static inline long rs_ftruncate(int fd, unsigned long len) { return rs_syscall6(NR_ftruncate, fd, (long)len, 0, 0, 0, 0); }
static inline __attribute__((noreturn)) void rs_exit(int code)
{
    for (;;)
        rs_syscall6(NR_exit_group, code, 0, 0, 0, 0, 0);
}

#endif
