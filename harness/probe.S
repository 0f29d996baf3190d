/* probe.S - the native probes: a caller of code under test, and callouts it calls (probe.h). */

/* Offsets of af_probe_regs (probe.h): gpr[16] at 0 (by af_reg), xmm[16] at 128, rflags 384,
 * mxcsr 392, fcw 396; 400 bytes. af_probe_frame: in 0, out 400, target 800, x87_ret 808,
 * fenv 816, st0 848, host_rsp 864, host_mxcsr 872, host_fcw 876. af_probe_co_state
 * (probe_internal.h): entry 0, exit 400, retaddr 800, index 808, real 816, r11tmp 824,
 * post_rax 832, post_rdx 840, post_xmm0 848, post_xmm1 864, post_rsp 880.
 *
 * Global state (documented in probe.h): probe_frame (the af_probe_call in flight), probe_tmp,
 * probe_target, and af_probe_co (the callout's image, in probe_callout.c). Single-threaded by
 * design: a worker process runs one case at a time. */

        .intel_syntax noprefix
        .section .note.GNU-stack,"",@progbits

        .bss
        .p2align 3
probe_frame:    .quad 0
probe_tmp:      .quad 0
probe_target:   .quad 0
ipz_tmp:        .quad 0

#ifdef AF_PROBE_HANDLER_STACK
        .p2align 6
probe_hstack:   .zero 65536
#endif

        .text

/* Where a handler's C frame goes: below everything at entry (the default), or, in a build with
 * AF_PROBE_HANDLER_STACK defined (test builds only: the equivalence builds of
 * bench/perf_finddump.c define it for C and ASM), on a stack of its own, so that what the handlers leave in their frames never shows in memory that code
 * under test reads without writing it (a mutant's stale stack slot): then two builds whose
 * handlers differ find the same. Handlers never nest: each returns before code under test
 * goes on. */
.macro HANDLER_RSP
#ifdef AF_PROBE_HANDLER_STACK
        lea rsp, [rip + probe_hstack + 65536]
#else
        sub rsp, 256
        and rsp, -64
#endif
.endm

/* Stores every GPR but R11 and RSP into the image at [r11 + \base]. */
.macro STORE_GPRS base
        mov [r11 + \base + 0], rax
        mov [r11 + \base + 8], rcx
        mov [r11 + \base + 16], rdx
        mov [r11 + \base + 24], rbx
        mov [r11 + \base + 40], rbp
        mov [r11 + \base + 48], rsi
        mov [r11 + \base + 56], rdi
        mov [r11 + \base + 64], r8
        mov [r11 + \base + 72], r9
        mov [r11 + \base + 80], r10
        mov [r11 + \base + 96], r12
        mov [r11 + \base + 104], r13
        mov [r11 + \base + 112], r14
        mov [r11 + \base + 120], r15
.endm

/* Loads every GPR but R11 and RSP from the image at [r11 + \base]. */
.macro LOAD_GPRS base
        mov rax, [r11 + \base + 0]
        mov rcx, [r11 + \base + 8]
        mov rdx, [r11 + \base + 16]
        mov rbx, [r11 + \base + 24]
        mov rbp, [r11 + \base + 40]
        mov rsi, [r11 + \base + 48]
        mov rdi, [r11 + \base + 56]
        mov r8, [r11 + \base + 64]
        mov r9, [r11 + \base + 72]
        mov r10, [r11 + \base + 80]
        mov r12, [r11 + \base + 96]
        mov r13, [r11 + \base + 104]
        mov r14, [r11 + \base + 112]
        mov r15, [r11 + \base + 120]
.endm

.macro STORE_XMMS base
        .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
        movdqu [r11 + \base + 128 + 16 * \n], xmm\n
        .endr
.endm

.macro LOAD_XMMS base
        .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
        movdqu xmm\n, [r11 + \base + 128 + 16 * \n]
        .endr
.endm

/* void af_probe_call(af_probe_frame *f) */
        .globl af_probe_call
        .type af_probe_call, @function
        .p2align 4
af_probe_call:
        push rbp
        push rbx
        push r12
        push r13
        push r14
        push r15
        mov [rip + probe_frame], rdi
        mov [rdi + 864], rsp
        stmxcsr [rdi + 872]
        fnstcw [rdi + 876]
        mov rax, [rdi + 800]
        mov [rip + probe_target], rax
        mov r11, rdi
        ldmxcsr [r11 + 392]
        fldcw [r11 + 396]
        mov rsp, [r11 + 32]             /* the call's RSP: the stack image lies there */
        LOAD_XMMS 0
        LOAD_GPRS 0
        cld                             /* psABI 3.2.1: DF clear at the call */
        mov r11, [r11 + 88]
        call [rip + probe_target]
        mov [rip + probe_tmp], r11
        mov r11, [rip + probe_frame]
        STORE_GPRS 400
        mov [r11 + 400 + 32], rsp
        mov rax, [rip + probe_tmp]
        mov [r11 + 400 + 88], rax
        STORE_XMMS 400
        pushfq
        pop rax
        mov [r11 + 400 + 384], rax
        cld
        stmxcsr [r11 + 400 + 392]
        fnstcw [r11 + 400 + 396]
        fnstenv [r11 + 816]             /* tag word: what the callee left on the x87 stack */
        cmp qword ptr [r11 + 808], 0
        je 1f
        fstp tbyte ptr [r11 + 848]
1:      fninit                          /* the host's x87 stack empty again */
        mov rsp, [r11 + 864]
        ldmxcsr [r11 + 872]
        fldcw [r11 + 876]
        pop r15
        pop r14
        pop r13
        pop r12
        pop rbx
        pop rbp
        ret
        .size af_probe_call, .-af_probe_call

/* The callouts: af_callout_K records K and joins the common path. */
.macro CALLOUT k
        .globl af_callout_\k
        .type af_callout_\k, @function
        .p2align 4
af_callout_\k:
        mov [rip + af_probe_co + 824], r11
        lea r11, [rip + af_probe_co]
        mov qword ptr [r11 + 808], \k
        jmp callout_common
        .size af_callout_\k, .-af_callout_\k
.endm
        .irp k, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
        CALLOUT \k
        .endr

        .p2align 4
callout_common:
        STORE_GPRS 0
        mov [r11 + 32], rsp
        mov rax, [r11 + 824]
        mov [r11 + 88], rax
        STORE_XMMS 0
        pushfq                          /* below RSP at entry: the callee's to use */
        pop rax
        mov [r11 + 384], rax
        stmxcsr [r11 + 392]
        fnstcw [r11 + 396]
        cld
        mov rbx, r11
        HANDLER_RSP                    /* the handler's frame, below everything at entry */
        mov rdi, rbx
        call af_probe_callout_pre
        /* the real implementation: registers and stack as received, same RSP */
        mov r11, rbx
        mov rsp, [r11 + 32]
        pop qword ptr [r11 + 800]       /* the return address: stack arguments keep offsets */
        push qword ptr [r11 + 384]
        popfq
        ldmxcsr [r11 + 392]
        fldcw [r11 + 396]
        LOAD_XMMS 0
        LOAD_GPRS 0
        mov r11, [r11 + 88]
        call [rip + af_probe_co + 816]
        lea r11, [rip + af_probe_co]
        mov [r11 + 832], rax
        mov [r11 + 840], rdx
        movdqu [r11 + 848], xmm0
        movdqu [r11 + 864], xmm1
        mov [r11 + 880], rsp
        cld
        mov rbx, r11
        HANDLER_RSP
        mov rdi, rbx
        call af_probe_callout_post      /* fills the exit image (ST0 stays untouched) */
        mov r11, rbx
        mov rsp, [r11 + 880]
        push qword ptr [r11 + 800]
        push qword ptr [r11 + 400 + 384]
        popfq
        ldmxcsr [r11 + 400 + 392]
        fldcw [r11 + 400 + 396]
        LOAD_XMMS 400
        LOAD_GPRS 400
        mov r11, [r11 + 400 + 88]
        ret

/* Mode "interpose": af_probe_enter is entered as the target of someone else's call. Offsets of
 * af_probe_ip_state (probe_internal.h): entry 0, call 400, out 800, retaddr 1200, target 1208,
 * r11tmp 1216. */
        .globl af_probe_enter
        .type af_probe_enter, @function
        .p2align 4
af_probe_enter:
        mov [rip + af_probe_ip + 1216], r11
        lea r11, [rip + af_probe_ip]
        STORE_GPRS 0
        mov [r11 + 32], rsp
        mov rax, [r11 + 1216]
        mov [r11 + 88], rax
        STORE_XMMS 0
        pushfq
        pop rax
        mov [r11 + 384], rax
        stmxcsr [r11 + 392]
        fnstcw [r11 + 396]
        cld
        mov rbx, r11
        HANDLER_RSP
        mov rdi, rbx
        call af_probe_enter_pre         /* call image: entry, canaries in callee-saved */
        mov r11, rbx
        mov rsp, [r11 + 32]
        pop qword ptr [r11 + 1200]      /* the caller's return address */
        push qword ptr [r11 + 384]
        popfq
        ldmxcsr [r11 + 400 + 392]
        fldcw [r11 + 400 + 396]
        LOAD_XMMS 400
        LOAD_GPRS 400
        mov r11, [r11 + 400 + 88]
        call [rip + af_probe_ip + 1208]
        mov [rip + af_probe_ip + 1216], r11
        lea r11, [rip + af_probe_ip]
        STORE_GPRS 800
        mov [r11 + 800 + 32], rsp
        mov rax, [r11 + 1216]
        mov [r11 + 800 + 88], rax
        STORE_XMMS 800
        pushfq
        pop rax
        mov [r11 + 800 + 384], rax
        stmxcsr [r11 + 800 + 392]
        fnstcw [r11 + 800 + 396]
        cld
        mov rbx, r11
        mov rsp, [r11 + 32]             /* whatever the target did to RSP */
        HANDLER_RSP
        mov rdi, rbx
        call af_probe_enter_post        /* checks; exit image (in `call`) */
        mov r11, rbx
        mov rsp, [r11 + 32]
        add rsp, 8
        push qword ptr [r11 + 1200]
        push qword ptr [r11 + 400 + 384]
        popfq
        ldmxcsr [r11 + 400 + 392]
        fldcw [r11 + 400 + 396]
        LOAD_XMMS 400
        LOAD_GPRS 400
        mov r11, [r11 + 400 + 88]
        ret
        .size af_probe_enter, .-af_probe_enter

/* The nested interposers: af_interpose_K stands where JIT function K would be called by
 * another JIT function. Its frame is the top of the shadow stack af_probe_ipz (probe_internal.h:
 * entry 0, call 400, out 800, exit 1200, retaddr 1600, index 1608, x87_ret 1616, fenv 1632,
 * st0 1664; IPZ_FRAME bytes): pushed at entry, popped when the callee returns, so a call made
 * by the callee (interposed or a callout) uses the frames above. */
        .set IPZ_FRAME, 1728

.macro INTERPOSE k
        .globl af_interpose_\k
        .type af_interpose_\k, @function
        .p2align 4
af_interpose_\k:
        mov [rip + ipz_tmp], r11
        mov r11, [rip + af_probe_ipz_next]
        mov qword ptr [r11 + 1608], \k
        jmp interpose_common
        .size af_interpose_\k, .-af_interpose_\k
.endm
        .irp k, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
        INTERPOSE \k
        .endr

        .p2align 4
interpose_common:
        STORE_GPRS 0
        mov [r11 + 32], rsp
        mov rax, [rip + ipz_tmp]
        mov [r11 + 88], rax
        STORE_XMMS 0
        pushfq                          /* below RSP at entry: the callee's to use */
        pop rax
        mov [r11 + 384], rax
        stmxcsr [r11 + 392]
        fnstcw [r11 + 396]
        cld
        mov rax, [rsp]
        mov [r11 + 1600], rax           /* the caller's return address */
        lea rax, [r11 + IPZ_FRAME]
        mov [rip + af_probe_ipz_next], rax /* push the frame */
        mov rbx, r11
        HANDLER_RSP                    /* the handler's frame, below everything at entry */
        mov rdi, rbx
        call af_probe_interpose_pre     /* checks; the call image; af_probe_ipz_target */
        mov r11, rbx
        mov rsp, [r11 + 400 + 32]       /* RSP at the call: entry + 8 (or realigned) */
        push qword ptr [r11 + 400 + 384]
        popfq
        ldmxcsr [r11 + 400 + 392]
        fldcw [r11 + 400 + 396]
        LOAD_XMMS 400
        LOAD_GPRS 400
        mov r11, [r11 + 400 + 88]
        call [rip + af_probe_ipz_target]
        mov [rip + ipz_tmp], r11
        mov r11, [rip + af_probe_ipz_next]
        lea r11, [r11 - IPZ_FRAME]      /* pop the frame (inner calls popped theirs) */
        mov [rip + af_probe_ipz_next], r11
        STORE_GPRS 800
        mov [r11 + 800 + 32], rsp
        mov rsp, [r11 + 32]             /* our own stack again, whatever the callee left */
        mov rax, [rip + ipz_tmp]
        mov [r11 + 800 + 88], rax
        STORE_XMMS 800
        pushfq
        pop rax
        mov [r11 + 800 + 384], rax
        stmxcsr [r11 + 800 + 392]
        fnstcw [r11 + 800 + 396]
        fnstenv [r11 + 1632]            /* tag word: what the callee left on the x87 stack */
        cmp qword ptr [r11 + 1616], 0
        je 1f
        fld st(0)
        fstp tbyte ptr [r11 + 1664]
1:      fninit                          /* repaired: only the return value goes back */
        cld
        mov rbx, r11
        HANDLER_RSP
        mov rdi, rbx
        call af_probe_interpose_post    /* checks; the exit image */
        mov r11, rbx
        mov rsp, [r11 + 32]
        add rsp, 8
        cmp qword ptr [r11 + 1616], 0
        je 2f
        fld tbyte ptr [r11 + 1664]
2:      push qword ptr [r11 + 1600]
        push qword ptr [r11 + 1200 + 384]
        popfq
        ldmxcsr [r11 + 1200 + 392]
        fldcw [r11 + 1200 + 396]
        LOAD_XMMS 1200
        LOAD_GPRS 1200
        mov r11, [r11 + 1200 + 88]
        ret

/* af_rt_probe: what the JIT calls instead of a runtime helper (af_jit_opts.rt_probe), with
 * the helper's address in R11 and its arguments in registers (the helpers take no stack
 * arguments). psABI 3.2.2: RSP + 8 is 16-aligned at entry; if not, the call is counted in
 * af_rt_probe_bad and its RSP kept in af_rt_probe_rsp (the leg reports `stack-align`), and the
 * helper still runs on an aligned stack, so that the finding is not lost to a crash in it. */
        .globl af_rt_probe
        .hidden af_rt_probe
        .type af_rt_probe, @function
        .p2align 4
af_rt_probe:
        push rbp
        mov rbp, rsp
        test rsp, 15
        jz 1f
        inc qword ptr [rip + af_rt_probe_bad]
        lea r10, [rbp + 8]
        mov [rip + af_rt_probe_rsp], r10
        and rsp, -16
1:
        call r11
        leave
        ret
        .size af_rt_probe, .-af_rt_probe

        .bss
        .p2align 3
        .globl af_rt_probe_bad
        .hidden af_rt_probe_bad
af_rt_probe_bad:
        .zero 8
        .globl af_rt_probe_rsp
        .hidden af_rt_probe_rsp
af_rt_probe_rsp:
        .zero 8
        .text

/* void af_probe_noop(void): the callout's stand-in for a call it must not make. */
        .globl af_probe_noop
        .hidden af_probe_noop
        .type af_probe_noop, @function
        .p2align 4
af_probe_noop:
        ret
        .size af_probe_noop, .-af_probe_noop
