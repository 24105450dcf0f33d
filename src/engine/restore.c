/*
 * restore.c — the first code of a restarted process that is the program's own.
 *
 * The restart helper (src/restart/) has mapped every saved region back at its
 * address and jumps to restore_entry on a stack in its scratch area.  Here we
 * take on the main thread's TLS, recreate every saved thread with clone(2)
 * (same TLS, same clear_child_tid address so pthread_join works), give each
 * thread back its per-thread kernel state (robust list, rseq, sigaltstack,
 * name) and resume it where it was parked: inside the checkpoint signal
 * handler, or — for the manager thread — inside the checkpoint sequence,
 * which then rebuilds the process-wide state (manager.c).
 *
 * Async-signal-safe and free of libc until the threads are back: no TLS is
 * valid on entry, so no stack protector either.
 */
#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <asm/prctl.h>

#include "engine/engine.h"
#include "engine/sys.h"

#define RESTORE_STACK 32768
#define RESTORE_MAIN_STACK 65536

struct restore_state restore_state;

__attribute__((no_stack_protector, noreturn)) static void restore_thread_start(void *arg)
{
    struct thread_rec *r = arg;
    uint64_t all = ~0ull;
    sys_call4(SYS_rt_sigprocmask, SIG_SETMASK, &all, NULL, 8);
    r->real_tid = (pid_t)sys_call1(SYS_set_tid_address, r->tid_address);
    if (r->robust_head)
        sys_call2(SYS_set_robust_list, r->robust_head, r->robust_len);
    if (r->rseq_len) {
        *(volatile uint64_t *)(r->rseq_area + 8) = 0; /* no critical section in flight */
        sys_call4(SYS_rseq, r->rseq_area, r->rseq_len, 0, r->rseq_sig);
    }
    if (!(r->altstack.ss_flags & SS_DISABLE)) {
        stack_t ss = r->altstack;
        ss.ss_flags = 0;
        sys_call2(SYS_sigaltstack, &ss, NULL);
    }
    sys_call2(SYS_prctl, PR_SET_NAME, r->name);
    ctx_resume(&r->ctx, &threads_state.restored);
}

__attribute__((no_stack_protector, noreturn)) void restore_entry(struct restart_info *info)
{
    struct thread_rec *first = NULL;
    for (int i = 0; i < threads_state.nrecs; i++) {
        struct thread_rec *r = &threads_state.recs[i];
        if (r->in_use && r->is_main)
            first = r;
    }
    if (!first) /* the main thread had exited: any user thread leads */
        for (int i = 1; i < threads_state.nrecs && !first; i++)
            if (threads_state.recs[i].in_use)
                first = &threads_state.recs[i];
    if (!first)
        first = &threads_state.recs[0];
    sys_call2(SYS_arch_prctl, ARCH_SET_FS, first->fs_base);
    restore_state.info = *info;
    restore_state.have_info = 1;
    engine_fds_restart_begin(); /* grows the descriptor table once, while this is the only thread */
    restore_lazy_begin();
    threads_state.restored = 0;
    uint8_t *stacks = (uint8_t *)(uintptr_t)info->scratch_start + IMAGE_PAGE + RESTORE_MAIN_STACK;
    int k = 0;
    const unsigned long flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
                                CLONE_SYSVSEM | CLONE_SETTLS;
    for (int i = 0; i < threads_state.nrecs; i++) {
        struct thread_rec *r = &threads_state.recs[i];
        if (!r->in_use || r == first)
            continue;
        uint8_t *top = stacks + (size_t)(k + 1) * RESTORE_STACK;
        k++;
        r->in_use = 1;
        ctx_clone_thread(flags, top, NULL, NULL, r->fs_base, restore_thread_start, r);
    }
    restore_thread_start(first);
}

void restore_wait_threads(int n)
{
    while (atomic_load(&threads_state.restored) < n)
        sched_yield();
}

/* A lazy restart (dmtcp_restart --lazy) leaves a server process loading
 * memory on demand (src/restart/lazy.c).  A checkpoint must read every
 * page, and a forked child would not get the pages still missing, so both
 * wait here until the server has loaded everything and exited; the first
 * caller reaps it, others wait for that. */
static int restore_lazy_state; /* 0 none or done, 1 running, 2 being waited for */

void restore_lazy_begin(void)
{
    if (restore_state.info.lazy_pid > 0)
        __atomic_store_n(&restore_lazy_state, 1, __ATOMIC_RELEASE);
}

void restore_lazy_wait(void)
{
    int expect = 1;
    if (__atomic_compare_exchange_n(&restore_lazy_state, &expect, 2, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        int st;
        while (sys_call4(SYS_wait4, restore_state.info.lazy_pid, &st, __WALL, 0) == -EINTR)
            ;
        restore_state.info.lazy_pid = 0;
        __atomic_store_n(&restore_lazy_state, 0, __ATOMIC_RELEASE);
        sys_futex_wake(&restore_lazy_state, 0x7fffffff);
        return;
    }
    int v;
    while ((v = __atomic_load_n(&restore_lazy_state, __ATOMIC_ACQUIRE)) != 0)
        sys_futex_wait(&restore_lazy_state, v, NULL);
}
