/*
 * start.S — entry of the restart helper: move onto the helper's own stack
 * (inside its bss, in the helper's address zone, so the kernel's stack can be
 * unmapped like everything else), call helper_main(original sp); and
 * helper_jump(), which switches to the restored program's side for good.
 */
    .text
    .globl _start
_start:
    movq %rsp, %rdi
    leaq helper_stack_top(%rip), %rsp
    andq $-16, %rsp
    xorl %ebp, %ebp
    call helper_main
    hlt

/* void helper_jump(void *stack_top, void (*entry)(void *), void *arg) */
    .globl helper_jump
helper_jump:
    movq %rdi, %rsp
    andq $-16, %rsp
    xorl %ebp, %ebp
    movq %rdx, %rdi
    call *%rsi
    hlt

    .section .note.GNU-stack,"",@progbits
