/*
 * ctx.S — save and resume a thread's place, and start a restored thread.
 *
 * ctx_save() records the callee-saved registers, the stack pointer, the
 * return address and the FPU control words of its caller, like setjmp
 * without signal masks or pointer mangling, so a context saved in one process
 * can be resumed in another (after restart) from the restored stack.
 * ctx_resume() never returns: it reloads such a context, adds one to *counter
 * (once the old stack is no longer used) and makes ctx_save return 1.
 * Async-signal-safe.
 *
 * struct engine_ctx { rbx, rbp, r12, r13, r14, r15, rsp, rip; mxcsr, fpucw }
 */
    .text
    .globl ctx_save
    .hidden ctx_save
    .type ctx_save, @function
ctx_save:
    movq %rbx, 0(%rdi)
    movq %rbp, 8(%rdi)
    movq %r12, 16(%rdi)
    movq %r13, 24(%rdi)
    movq %r14, 32(%rdi)
    movq %r15, 40(%rdi)
    leaq 8(%rsp), %rdx
    movq %rdx, 48(%rdi)
    movq (%rsp), %rdx
    movq %rdx, 56(%rdi)
    stmxcsr 64(%rdi)
    fnstcw 68(%rdi)
    xorl %eax, %eax
    ret
    .size ctx_save, .-ctx_save

    .globl ctx_resume
    .hidden ctx_resume
    .type ctx_resume, @function
ctx_resume:
    movq 0(%rdi), %rbx
    movq 8(%rdi), %rbp
    movq 16(%rdi), %r12
    movq 24(%rdi), %r13
    movq 32(%rdi), %r14
    movq 40(%rdi), %r15
    ldmxcsr 64(%rdi)
    fldcw 68(%rdi)
    movq 48(%rdi), %rsp
    testq %rsi, %rsi
    jz 1f
    lock incl (%rsi)
1:  movl $1, %eax
    jmpq *56(%rdi)
    .size ctx_resume, .-ctx_resume

/*
 * long ctx_clone_thread(unsigned long flags, void *stack, int *ptid,
 *                       int *ctid, unsigned long tls, void (*fn)(void *), void *arg)
 * Raw clone(2): the child starts on `stack` and calls fn(arg), which must not
 * return.  The parent gets the child's tid or -errno.
 */
    .globl ctx_clone_thread
    .hidden ctx_clone_thread
    .type ctx_clone_thread, @function
ctx_clone_thread:
    movq 8(%rsp), %rax          /* arg (7th parameter) */
    subq $16, %rsi
    movq %r9, 0(%rsi)           /* fn for the child */
    movq %rax, 8(%rsi)          /* arg for the child */
    movq %rcx, %r10             /* ctid */
    movq %r8, %r8               /* tls */
    movl $56, %eax              /* SYS_clone: flags, stack, ptid, ctid, tls */
    syscall
    testq %rax, %rax
    jnz 2f
    /* child */
    xorl %ebp, %ebp
    popq %rax                   /* fn */
    popq %rdi                   /* arg */
    andq $-16, %rsp
    call *%rax
    hlt
2:  ret
    .size ctx_clone_thread, .-ctx_clone_thread

    .section .note.GNU-stack,"",@progbits
