/*
 * start.S — entry of the restart helper: move onto the helper's own stack
 * (inside its bss, in the helper's address zone, so the kernel's stack can be
 * unmapped like everything else), call helper_main(original sp); and
 * helper_jump(), which switches to the restored program's side for good.
 * Also the brk floor: one page of bss that the Makefile places at the very
 * end of the helper's text range, so the kernel starts the program break
 * above it (see IMAGE_HELPER_TEXT_END in image.h).
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

    .section .stasis_brk_floor,"aw",@nobits
    .balign 4096
    .skip 4096

    .section .note.GNU-stack,"",@progbits
