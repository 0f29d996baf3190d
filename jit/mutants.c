/* mutants.c - the table of injectable ABI bugs and the one place classification bugs live. */
#include <string.h>

#include "jit.h"
#include "mutants.h"

/* doc/mutants.md has one section per entry: what it does, the bug, which check catches it. */
static const mutant_info table[MUT_COUNT] = {
    [MUT_W64_XMM_UNSAVED] = {"w64-xmm-unsaved",
                             "Win64 callee neither saves nor restores XMM6-XMM15 and uses them as "
                             "scratch (zeroes them in the prologue)",
                             "wasmtime #1177, ChezScheme #1064", "callee"},
    [MUT_W64_XMM_LOW64] = {"w64-xmm-low64",
                           "Win64 callee saves/restores only the low 64 bits of XMM6-XMM15 "
                           "(movq) and uses them as scratch",
                           "zwasm #286, ChezScheme #1064", "callee"},
    [MUT_RBX_CLOBBERED] = {"rbx-clobbered",
                           "every function uses RBX as a scratch register without saving it",
                           "asmjit #126 (a callee-saved register not saved)", "callee"},
    [MUT_R12_R15_CLOBBERED] = {"r12-r15-clobbered",
                               "every function uses R12-R15 as scratch without saving them",
                               "asmjit #126 (callee-saved registers not saved)", "callee"},
    [MUT_W64_RSI_RDI_VOLATILE] = {"w64-rsi-rdi-volatile",
                                  "Win64 callee treats RSI/RDI as volatile (SysV habit): not "
                                  "saved, and used as scratch",
                                  "wasmtime #1177 (Win64 non-volatile set wrong)", "callee"},
    [MUT_RBP_NOT_RESTORED] = {"rbp-not-restored",
                              "the epilogue discards the saved RBP instead of popping it",
                              "asmjit #126 (rbp not saved)", "callee"},
    [MUT_DF_SET] = {"df-left-set", "the prologue sets DF (std) and nothing clears it",
                    "psABI 3.2.1: DF clear at entry and exit (class of libffi/JIT flag bugs)",
                    "callee"},
    [MUT_MXCSR_ROUNDING] = {"mxcsr-rounding",
                            "the prologue sets the MXCSR rounding mode to toward-zero and never "
                            "restores it",
                            "psABI 3.2.1 / MS 'x64 stack usage': MXCSR control bits "
                            "callee-saved",
                            "callee"},
    [MUT_VOLATILE_ACROSS_CALL] = {"volatile-across-call",
                                  "a call keeps the result slot's address in R11 (volatile) "
                                  "across the call and stores the result through it",
                                  "wasmtime #5023 (clobber of a volatile register not declared "
                                  "around a call)",
                                  "caller"},
    [MUT_W64_NO_HOME] = {"w64-no-home-space",
                         "Win64 calls reserve no 32-byte home space: stack arguments start at "
                         "[rsp] and the callee's home space overlaps the caller's frame",
                         "wasmtime #1728, asmjit #228, OCaml #11846", "caller"},
    [MUT_W64_LOCALS_IN_HOME] = {"w64-locals-in-home-space",
                                "a Win64 function with calls keeps its first two values in its "
                                "outgoing home space, which callees own",
                                "MIR #62, wasmtime #1728", "frame (caller)"},
    [MUT_MISALIGNED_CALLS] = {"misaligned-calls",
                              "the frame is 8 bytes too big (odd), so RSP is 8 mod 16 at every "
                              "call",
                              "dotnet/runtime #78092, FEX #84", "frame (caller)"},
    [MUT_W64_FLOAT_INDEX] = {"w64-float-index",
                             "Win64 float register arguments numbered by float index (XMM0 for "
                             "the first float) instead of by position",
                             "cranelift #691, wasmer #188", "caller"},
    [MUT_W64_VARARG_NO_DUP] = {"w64-vararg-no-dup",
                               "a Win64 variadic float argument goes only in its XMM register, "
                               "not also in the slot's GPR",
                               "ChezScheme #150", "caller"},
    [MUT_SYSV_NO_AL] = {"sysv-vararg-no-al",
                        "a SysV variadic call does not set AL (the vector register count)",
                        "psABI 3.5.7 (class of libffi / JIT vararg bugs)", "caller"},
    [MUT_SRET_NOT_RETURNED] = {"sret-not-returned",
                               "a callee returning in memory does not return the buffer "
                               "address in RAX",
                               "dotnet/coreclr #4690", "callee"},
    [MUT_SRET_IN_RAX] = {"sret-passed-in-rax",
                         "a caller passes the hidden return-buffer pointer in RAX instead of "
                         "RDI/RCX",
                         "mach #891", "caller"},
    [MUT_W64_STRUCT16_RAX_RDX] = {"w64-struct16-in-rax-rdx",
                                  "a Win64 caller expects a 9-16 byte struct in RAX:RDX (SysV "
                                  "habit) instead of passing a hidden buffer",
                                  "facet-rs #1366", "caller"},
    [MUT_SYSV_FLOAT_INT_SSE] = {"sysv-float-int-as-sse",
                                "a SysV caller classifies an INTEGER eightbyte that contains a "
                                "float ({float,int}) as SSE and passes it in an XMM register",
                                "psABI 3.2.3 merge rule (INTEGER beats SSE); libffi #29 class",
                                "caller"},
    [MUT_SYSV_STRUCT_SPLIT] = {"sysv-struct-split",
                               "a SysV two-eightbyte INTEGER struct that no longer fits is split: "
                               "first eightbyte in R9, second on the stack",
                               "llvm #41784 (split aggregates)", "caller"},
    [MUT_SYSV_I128_SPLIT] = {"sysv-i128-split",
                             "a SysV __int128 with one GPR left is split between R9 and the "
                             "stack",
                             "llvm #41784, llvm #59011", "caller"},
    [MUT_SYSV_I128_NO_BACKFILL] = {"sysv-i128-no-r9-backfill",
                                   "after an __int128 went to the stack, a later argument that "
                                   "belongs in R9 is put on the stack instead",
                                   "llvm #123935", "caller"},
    [MUT_NARROW_NOT_EXTENDED] = {"narrow-not-extended",
                                 "bool/char/short arguments are written into the low bits of a "
                                 "dirty register (no zero/sign extension to 32 bits)",
                                 "libffi #29, llvm #82598", "caller"},
    [MUT_CALLEE_READS_64] = {"callee-reads-64-of-32",
                             "a callee keeps all 64 bits of a 32-bit integer parameter's register "
                             "and widens it from there (SEXT/ZEXT read 64 bits)",
                             "llvm #82598 (callee trusting upper bits)", "callee"},
    [MUT_W64_BELOW_RSP] = {"w64-stores-below-rsp",
                           "a Win64 function keeps the bottom 128 bytes of its frame below RSP "
                           "(assumes a red zone Win64 does not have)",
                           "zlib #413, jato #40", "frame"},
    [MUT_SYSV_REDZONE_OVERRUN] = {"sysv-redzone-overrun",
                                  "a SysV function keeps up to 256 bytes of its frame below RSP, "
                                  "beyond the 128-byte red zone and across calls",
                                  "jato #40", "frame"},
    [MUT_W64_BYREF_NO_COPY] = {"w64-byref-no-copy",
                               "a Win64 by-reference aggregate is passed as the address of the "
                               "caller's own value, without the copy the callee may modify",
                               "libffi 3.4 (3/5/6/7-byte structs by reference without a copy)",
                               "caller"},
    [MUT_STACK_ARGS_REVERSED] = {"stack-args-reversed",
                                 "stack arguments are laid out in reverse order (left to right "
                                 "pushing)",
                                 "psABI 3.2.3 / MS parameter passing (class of cdecl-vs-pascal "
                                 "order bugs)",
                                 "caller"},
    [MUT_STACK16_UNALIGNED] = {"stack16-unaligned",
                               "SysV stack slots that need 16-byte alignment (__int128, long "
                               "double, __m128) are only 8-aligned",
                               "llvm #41784 family (i128 stack alignment)", "caller"},
    [MUT_FLOAT_AS_DOUBLE] = {"float-as-double",
                             "a float argument in an XMM register is converted to double "
                             "(K&R/vararg promotion applied to a prototyped call)",
                             "ChezScheme #150 family (float promotion bugs)", "caller"},
    [MUT_F80_IN_XMM0] = {"long-double-in-xmm0", "a long double is returned in XMM0 instead of ST0",
                         "gcc/clang ms_abi long double disagreement (abi-notes)", "callee"},
    [MUT_JIT_SEGV] = {"jit-segv",
                      "after its prologue the entry stores to a spill slot addressed off a "
                      "register holding 0 instead of RBP (mov [r11+0x38], r11 with R11 = 0): "
                      "SIGSEGV at address 0x38, RIP in JIT code",
                      "LuaJIT #1031 (spill restore assigned the wrong register)", "callee"},
    [MUT_JIT_HANG] = {"jit-hang",
                      "after its prologue the entry branches to itself forever (jmp . : a "
                      "back-edge whose displacement is off by its own length)",
                      "riscv-collab/v8 #89 (an unpatched branch at offset 0 branched to itself)",
                      "callee"},
    [MUT_JIT_WILD_JUMP] = {"jit-wild-jump",
                           "after its prologue the entry calls an absolute address that was "
                           "never relocated (call r11 with R11 = 0x5a5a5a5a5a40): SIGSEGV at "
                           "that address, the return address in JIT code",
                           "wasmtime #11734 (relocation targets 4 GB off), openj9 #11903 "
                           "(a relocation applied twice)",
                           "callee"},
};

const mutant_info *mutant_info_get(int m) {
  return m > MUT_NONE && m < MUT_COUNT ? &table[m] : NULL;
}

int mutant_resolve(const char *name) {
  if (!name || !*name) return MUT_NONE;
  for (int m = 1; m < MUT_COUNT; m++)
    if (!strcmp(table[m].name, name)) return m;
  return -1;
}

int af_jit_mutant_count(void) { return MUT_COUNT - 1; }
const char *af_jit_mutant_name(int i) {
  const mutant_info *mi = mutant_info_get(i + 1);
  return mi ? mi->name : NULL;
}
const char *af_jit_mutant_desc(int i) {
  const mutant_info *mi = mutant_info_get(i + 1);
  return mi ? mi->desc : NULL;
}
const char *af_jit_mutant_mimics(int i) {
  const mutant_info *mi = mutant_info_get(i + 1);
  return mi ? mi->mimics : NULL;
}
const char *af_jit_mutant_side(int i) {
  const mutant_info *mi = mutant_info_get(i + 1);
  return mi ? mi->side : NULL;
}
int af_jit_mutant_find(const char *name) {
  int m = name ? mutant_resolve(name) : -1;
  return m > 0 ? m - 1 : -1;
}

/* ---- classification mutants (caller side only) ---------------------------------------- */

static uint32_t tsize(const af_case *c, int t) {
  return t == AF_T_PTR ? 8 : t == AF_T_VOID ? 0 : c->types[t].size;
}

/* 1 if a float leaf (f16/f32/f64) of type t at byte `base` overlaps [lo, hi). */
static int float_in(const af_case *c, int t, uint32_t base, uint32_t lo, uint32_t hi) {
  if (t < AF_T_NSCALAR) {
    if (t != AF_T_F16 && t != AF_T_F32 && t != AF_T_F64) return 0;
    return base < hi && base + c->types[t].size > lo;
  }
  const af_type *ty = &c->types[t];
  if (ty->kind == AF_T_ARRAY) {
    uint32_t es = c->types[ty->elem].size;
    for (uint32_t k = 0; k < ty->count && k < 64; k++)
      if (float_in(c, ty->elem, base + k * es, lo, hi)) return 1;
    return 0;
  }
  for (int i = 0; i < ty->nfields; i++)
    if (ty->fields[i].bits < 0 &&
        float_in(c, ty->fields[i].type, base + ty->fields[i].offset, lo, hi))
      return 1;
  return 0;
}

static int is_aggregate(const af_case *c, int t) {
  return t >= AF_T_NSCALAR && t != AF_T_PTR && c->types[t].kind >= AF_T_STRUCT;
}

static int on_stack(const af_loc *l) {
  return l->kind == AF_LOC_STACK || (l->kind == AF_LOC_REF && l->nparts == 0);
}

/* Re-lays the stack arguments in `order` with slot alignment max(8, align) (or 8 when
 * align8), from `start`; keeps the old layout when the new one would not fit. */
static void relayout(af_callinfo *ci, const int *order, int n, int32_t start, int align8) {
  int32_t off = start, neu[AF_MAX_PARAMS];
  for (int k = 0; k < n; k++) {
    const af_loc *l = &ci->args[order[k]];
    int32_t a = align8 || l->stack_align < 8 ? 8 : (int32_t)l->stack_align;
    off = (off + a - 1) / a * a;
    neu[k] = off;
    off += (int32_t)(l->kind == AF_LOC_REF ? 8 : (l->stack_size + 7) / 8 * 8);
  }
  if (off > (int32_t)ci->stack_bytes) return;
  for (int k = 0; k < n; k++)
    ci->args[order[k]].stack_offset = neu[k];
}

void mutant_adjust_callinfo(int m, const af_case *c, const af_sig *sig, af_callinfo *ci,
                            int32_t split_hi[AF_MAX_PARAMS]) {
  for (int i = 0; i < AF_MAX_PARAMS; i++)
    split_hi[i] = -1;
  int w64 = sig->cc == AF_CC_WIN64;
  switch (m) {
  case MUT_W64_FLOAT_INDEX: {
    if (!w64) return;
    int nf = 0;
    for (int i = 0; i < ci->nargs; i++) {
      af_loc *l = &ci->args[i];
      if (l->kind == AF_LOC_REG && l->nparts == 1 && l->parts[0].reg >= AF_XMM0 &&
          l->parts[0].reg <= AF_XMM15)
        l->parts[0].reg = (af_reg)(AF_XMM0 + nf++);
    }
    return;
  }
  case MUT_W64_NO_HOME:
    if (!w64) return;
    for (int i = 0; i < ci->nargs; i++)
      if (on_stack(&ci->args[i])) ci->args[i].stack_offset -= 32;
    ci->stack_bytes = ci->stack_bytes >= 32 ? ci->stack_bytes - 32 : 0;
    return;
  case MUT_W64_STRUCT16_RAX_RDX: {
    uint32_t rs = tsize(c, sig->ret);
    if (!w64 || !ci->sret || rs < 9 || rs > 16 || !is_aggregate(c, sig->ret)) return;
    af_sig s2 = *sig;
    s2.ret = AF_T_VOID;
    af_callinfo c2;
    if (af_classify(c, &s2, &c2, NULL) != AF_OK) return;
    c2.ret.kind = AF_LOC_REG;
    c2.ret.nparts = 2;
    c2.ret.parts[0] = (af_part){AF_RAX, AF_CLS_INTEGER, 0, 8};
    c2.ret.parts[1] = (af_part){AF_RDX, AF_CLS_INTEGER, 8, (uint16_t)(rs - 8)};
    c2.sret = 0;
    if (c2.stack_bytes < ci->stack_bytes) c2.stack_bytes = ci->stack_bytes;
    *ci = c2;
    return;
  }
  case MUT_SYSV_FLOAT_INT_SSE:
    if (w64) return;
    for (int i = 0; i < ci->nargs; i++) {
      af_loc *l = &ci->args[i];
      if (l->kind != AF_LOC_REG || !is_aggregate(c, sig->params[i])) continue;
      for (int k = 0; k < l->nparts; k++) {
        af_part *p = &l->parts[k];
        if (p->reg >= AF_XMM0 || ci->sse_used >= 8) continue;
        if (float_in(c, sig->params[i], 0, p->offset, p->offset + p->size)) {
          p->reg = (af_reg)(AF_XMM0 + ci->sse_used++);
          p->cls = AF_CLS_SSE;
        }
      }
    }
    return;
  case MUT_SYSV_STRUCT_SPLIT:
  case MUT_SYSV_I128_SPLIT:
  case MUT_SYSV_I128_NO_BACKFILL: {
    if (w64) return;
    int gprs = ci->sret ? 1 : 0, spilled = 0;
    for (int i = 0; i < ci->nargs; i++) {
      af_loc *l = &ci->args[i];
      int t = sig->params[i];
      if (l->kind == AF_LOC_REG) {
        int uses_r9 = 0;
        for (int k = 0; k < l->nparts; k++)
          if (l->parts[k].reg < AF_XMM0) gprs++, uses_r9 |= l->parts[k].reg == AF_R9;
        if (m == MUT_SYSV_I128_NO_BACKFILL && spilled && uses_r9 && l->nparts == 1) {
          /* the backfilled argument goes after the others on the stack */
          l->kind = AF_LOC_STACK;
          l->stack_offset = (int32_t)((ci->stack_bytes + 7) & ~7u);
          l->stack_size = 8;
          l->stack_align = 8;
          l->nparts = 0;
          ci->stack_bytes = (ci->stack_bytes + 8 + 15) & ~15u;
        }
        continue;
      }
      if (l->kind != AF_LOC_STACK || gprs != 5) continue;
      int want = 0;
      if ((t == AF_T_I128 || t == AF_T_U128)) want = m != MUT_SYSV_STRUCT_SPLIT;
      if (m == MUT_SYSV_STRUCT_SPLIT && is_aggregate(c, t) && tsize(c, t) > 8 &&
          tsize(c, t) <= 16) {
        /* would it be two INTEGER eightbytes alone? */
        af_sig s1 = *sig;
        s1.nparams = 1;
        s1.params[0] = t;
        s1.variadic = 0;
        s1.nfixed = 1;
        s1.ret = AF_T_VOID;
        af_callinfo c1;
        if (af_classify(c, &s1, &c1, NULL) == AF_OK && c1.args[0].kind == AF_LOC_REG &&
            c1.args[0].nparts == 2 && c1.args[0].parts[0].reg < AF_XMM0 &&
            c1.args[0].parts[1].reg < AF_XMM0)
          want = 1;
      }
      if (!want) continue;
      spilled = 1;
      if (m == MUT_SYSV_I128_NO_BACKFILL) continue;
      split_hi[i] = l->stack_offset;
      l->kind = AF_LOC_REG;
      l->nparts = 1;
      l->parts[0] = (af_part){AF_R9, AF_CLS_INTEGER, 0, 8};
      gprs++;
    }
    return;
  }
  case MUT_STACK_ARGS_REVERSED:
  case MUT_STACK16_UNALIGNED: {
    if (m == MUT_STACK16_UNALIGNED && w64) return;
    int order[AF_MAX_PARAMS], n = 0;
    int32_t start = INT32_MAX;
    for (int i = 0; i < ci->nargs; i++)
      if (on_stack(&ci->args[i])) {
        order[n++] = i;
        if (ci->args[i].stack_offset < start) start = ci->args[i].stack_offset;
      }
    if (n < 1 || (m == MUT_STACK_ARGS_REVERSED && n < 2)) return;
    if (m == MUT_STACK_ARGS_REVERSED)
      for (int k = 0; k < n / 2; k++) {
        int x = order[k];
        order[k] = order[n - 1 - k];
        order[n - 1 - k] = x;
      }
    relayout(ci, order, n, start, m == MUT_STACK16_UNALIGNED);
    return;
  }
  default: return;
  }
}
