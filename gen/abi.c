/* abi.c - the SysV and Win64 conventions as data, and the table of known gcc/clang divergences. */
#include <stddef.h>
#include <string.h>

#include "abi_internal.h"

#define BIT(r) (1ull << (r))

/* Sources:
 *  [psABI]  System V Application Binary Interface, AMD64 Architecture Processor
 *           Supplement (gitlab.com/x86-psABIs/x86-64-ABI), sections cited as §.
 *  [MS-CC]  Microsoft, "x64 calling convention",
 *           https://learn.microsoft.com/en-us/cpp/build/x64-calling-convention
 *  [MS-SU]  Microsoft, "x64 stack usage",
 *           https://learn.microsoft.com/en-us/cpp/build/stack-usage */
static const af_abi abi_table[AF_CC_COUNT] = {
    [AF_CC_SYSV] =
        {
            .cc = AF_CC_SYSV,
            .name = "sysv",
            /* psABI §3.2.3 "Parameter Passing": INTEGER class uses the next
             * available register of the sequence %rdi %rsi %rdx %rcx %r8 %r9. */
            .n_int_args = 6,
            .int_args = {AF_RDI, AF_RSI, AF_RDX, AF_RCX, AF_R8, AF_R9},
            /* psABI §3.2.3: SSE class uses the next available of %xmm0-%xmm7;
             * the two sequences are consumed independently. */
            .n_sse_args = 8,
            .sse_args = {AF_XMM0, AF_XMM1, AF_XMM2, AF_XMM3, AF_XMM4, AF_XMM5, AF_XMM6, AF_XMM7},
            .positional = 0,
            .max_reg_args = 14,
            /* psABI §3.2.3 "Returning of Values": INTEGER -> %rax then %rdx,
             * SSE -> %xmm0 then %xmm1, X87 -> %st0. */
            .int_ret = {AF_RAX, AF_RDX},
            .sse_ret = {AF_XMM0, AF_XMM1},
            /* psABI §3.2.3 "Returning of Values", MEMORY: the caller passes the
             * buffer address in %rdi as a hidden first argument; on return
             * %rax holds the address the caller passed in %rdi. */
            .sret_in = AF_RDI,
            .sret_out = AF_RAX,
            .home_space = 0,
            /* psABI §3.2.2 "The Stack Frame": the 128-byte area beyond %rsp is
             * the red zone, not modified by signal or interrupt handlers. */
            .red_zone = 128,
            /* psABI §3.2.2: the end of the input argument area is 16-byte
             * aligned (32 if __m256 is passed on the stack): %rsp+8 is a
             * multiple of 16 on entry, i.e. %rsp is at the call. */
            .stack_align = 16,
            /* psABI §3.2.3: stack arguments are eightbyte aligned/sized. */
            .stack_slot = 8,
            /* psABI §3.2.1 "Registers", Figure 3.4: %rbx %rsp %rbp %r12-%r15
             * are preserved across calls; every XMM register is scratch. */
            .callee_saved = BIT(AF_RBX) | BIT(AF_RSP) | BIT(AF_RBP) | BIT(AF_R12) | BIT(AF_R13) |
                            BIT(AF_R14) | BIT(AF_R15),
            /* psABI §3.5.7 "Variable Argument Lists": %al is an upper bound on
             * the number of vector registers used (0-8). */
            .vararg_al = 1,
            .vararg_dup_float = 0,
            /* psABI §3.2.3: long double is X87 class, which is passed in
             * memory; varargs use the same placement (§3.5.7). */
            .vararg_f80_memory = 1,
            /* psABI §3.2.3 leaves bits beyond a narrow integer undefined except
             * that _Bool has bits 1-7 zero; gcc and clang callers extend to 32
             * bits and clang callees rely on it (abi-notes.md, llvm #82598). */
            .narrow_ext = AF_EXT_TO_32,
        },
    [AF_CC_WIN64] =
        {
            .cc = AF_CC_WIN64,
            .name = "win64",
            /* MS-CC "Parameter passing": the first four integer arguments in
             * RCX, RDX, R8, R9 ... */
            .n_int_args = 4,
            .int_args = {AF_RCX, AF_RDX, AF_R8, AF_R9},
            /* ... floating-point arguments in XMM0-XMM3 ... */
            .n_sse_args = 4,
            .sse_args = {AF_XMM0, AF_XMM1, AF_XMM2, AF_XMM3},
            /* ... "Each argument is assigned to the register of its position";
             * the register of the other kind for that position is unused. */
            .positional = 1,
            .max_reg_args = 4,
            /* MS-CC "Return values": RAX for scalars fitting in 64 bits and user
             * types of 1/2/4/8 bytes; XMM0 for float, double and __m128. There
             * is no second return register. */
            .int_ret = {AF_RAX, AF_REG_NONE},
            .sse_ret = {AF_XMM0, AF_REG_NONE},
            /* MS-CC "Return values": otherwise the caller passes a pointer to
             * the buffer as the first argument (RCX), shifting the others, and
             * the callee returns that pointer in RAX. */
            .sret_in = AF_RCX,
            .sret_out = AF_RAX,
            /* MS-SU "Stack allocation": the caller always allocates 32 bytes of
             * register parameter (home) space, even for fewer than 4 args. */
            .home_space = 32,
            /* MS-SU: there is no red zone; memory below RSP is volatile (it may
             * be overwritten by the OS / debuggers at any time). */
            .red_zone = 0,
            /* MS-SU "Stack allocation": the stack is 16-byte aligned at every
             * call, except in prologs and leaf functions. */
            .stack_align = 16,
            /* MS-CC "Parameter passing": arguments beyond four go on the stack,
             * 8 bytes each ("all arguments ... 8-byte aligned"). */
            .stack_slot = 8,
            /* MS-CC "Callee/caller saved registers": RBX RBP RDI RSI RSP R12-R15
             * and XMM6-XMM15 are nonvolatile (only their low 128 bits). */
            .callee_saved = BIT(AF_RBX) | BIT(AF_RSP) | BIT(AF_RBP) | BIT(AF_RDI) | BIT(AF_RSI) |
                            BIT(AF_R12) | BIT(AF_R13) | BIT(AF_R14) | BIT(AF_R15) | BIT(AF_XMM6) |
                            BIT(AF_XMM7) | BIT(AF_XMM8) | BIT(AF_XMM9) | BIT(AF_XMM10) |
                            BIT(AF_XMM11) | BIT(AF_XMM12) | BIT(AF_XMM13) | BIT(AF_XMM14) |
                            BIT(AF_XMM15),
            .vararg_al = 0,
            /* MS-CC "Varargs": floating-point values passed through "..." must
             * also be in the integer register of their slot. */
            .vararg_dup_float = 1,
            .vararg_f80_memory = 0,
            /* MS-CC gives no extension guarantee for narrow arguments: only the
             * declared bits are defined (clang sets only CL for a bool). */
            .narrow_ext = AF_EXT_NONE,
        },
};

/* The extension rule as code: psABI 3.2.3 says "bool ... bit 0 contains the truth value and
 * bits 1 to 7 shall be zero"; extending char and short to 32 bits is what gcc and clang callers
 * do and clang callees rely on (abi-notes, AF_EXT_TO_32 above). Microsoft x64 leaves the bits
 * above the declared width undefined (AF_EXT_NONE). */
int af_ext_narrow(int type) { return type >= AF_T_BOOL && type <= AF_T_U16; }

static int32_t ext32(int type, const uint8_t *d) {
  switch (type) {
  case AF_T_BOOL: return d[0] & 1;
  case AF_T_I8: return (int8_t)d[0];
  case AF_T_U8: return d[0];
  case AF_T_I16: return (int16_t)(uint16_t)(d[0] | d[1] << 8);
  default: return (uint16_t)(d[0] | d[1] << 8);
  }
}

void af_ext_apply(af_ext_rule rule, int type, uint8_t *slot) {
  if (rule != AF_EXT_TO_32 || !af_ext_narrow(type)) return;
  int32_t x = ext32(type, slot);
  memcpy(slot, &x, 4);
}

int af_ext_holds(af_ext_rule rule, int type, const uint8_t *slot) {
  if (rule != AF_EXT_TO_32 || !af_ext_narrow(type)) return 1;
  int32_t x;
  memcpy(&x, slot, 4);
  if (type == AF_T_BOOL) return x == 0 || x == 1; /* bits 1-7 zero, 8-31 extended */
  return x == ext32(type, slot);
}

const af_abi *af_abi_get(af_cc cc) { return (unsigned)cc < AF_CC_COUNT ? &abi_table[cc] : NULL; }

const char *af_class_name(af_class k) {
  static const char *const names[] = {"NO_CLASS", "INTEGER", "SSE",         "SSEUP",
                                      "X87",      "X87UP",   "COMPLEX_X87", "MEMORY"};
  return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
}

const char *af_family_name(af_family f) {
  return f == AF_FAMILY_GCC ? "gcc" : f == AF_FAMILY_CLANG ? "clang" : "?";
}

/* ---------------------------------------------------------------------------
 * Known divergences. Each entry names a construct, the compiler versions that
 * lower it as af_classify does (as_model = 1) and those that do not. Versions
 * are major numbers, inclusive; 0 = unbounded. "seen" = checked on this host
 * with gcc 12.2, clang 14 and clang 19 (-O2, __attribute__((ms_abi)) for
 * Win64). The model follows clang 19 on Win64 where the two disagree, and the
 * psABI text (= gcc) on SysV.
 * ------------------------------------------------------------------------- */
static const af_divergence div_table[] = {
    {"win64-f80-ret",
     AF_CC_WIN64,
     ABI_MATCH_RET_F80,
     "long double return under ms_abi",
     "seen; MS-CC has no 80-bit long double",
     2,
     {{AF_FAMILY_CLANG, 0, 0, 1, "returned in ST0"},
      {AF_FAMILY_GCC, 0, 0, 0, "returned through a hidden pointer in RCX (sret)"}}},
    {"win64-m256-ret",
     AF_CC_WIN64,
     ABI_MATCH_RET_M256,
     "__m256 return under ms_abi",
     "seen; MS-CC returns only __m128 and narrower vectors in XMM0",
     2,
     {{AF_FAMILY_CLANG, 0, 0, 1, "returned in YMM0"},
      {AF_FAMILY_GCC, 0, 0, 0, "returned through a hidden pointer in RCX (sret)"}}},
    {"win64-empty-ret",
     AF_CC_WIN64,
     ABI_MATCH_RET_EMPTY,
     "return of an empty (size 0) struct/union under ms_abi",
     "seen; empty structs are a GNU C extension, MS-CC does not cover them",
     2,
     {{AF_FAMILY_CLANG, 0, 0, 1, "hidden pointer in RCX (sret), arguments shift one slot"},
      {AF_FAMILY_GCC, 0, 0, 0, "nothing returned, no hidden pointer, no shift"}}},
    {"win64-i128-ret",
     AF_CC_WIN64,
     ABI_MATCH_RET_I128,
     "__int128 return under ms_abi",
     "seen (XMM0 in gcc 12, clang 14, clang 19); llvm PR 210358 (2026), gcc-patches 2026-07; "
     "rust-lang/rust #134288",
     3,
     {{AF_FAMILY_CLANG, 0, 22, 1, "returned in XMM0"},
      {AF_FAMILY_GCC, 0, 15, 1, "returned in XMM0"},
      {AF_FAMILY_CLANG, 23, 0, 0, "returned through a hidden pointer (sret)"}}},
    {"win64-f16",
     AF_CC_WIN64,
     ABI_MATCH_F16,
     "_Float16 argument or return under ms_abi",
     "seen in gcc 12; GCC bug 115054 (_Float16/__float128 ABI on x86-64 MinGW)",
     2,
     {{AF_FAMILY_CLANG, 0, 0, 1, "in the slot's XMM register / returned in XMM0"},
      {AF_FAMILY_GCC, 0, 0, 0, "in the slot's GPR / returned in AX"}}},
    {"sysv-i128-last-gpr",
     AF_CC_SYSV,
     ABI_MATCH_I128_LAST_GPR,
     "__int128 argument when only R9 is left (later integer args)",
     "llvm #41784 / #59011 (split, fixed in 18 by D158169), llvm #123935 (R9 skipped, fixed "
     "in 20 by PR 124134); seen in clang 14 and 19",
     4,
     {{AF_FAMILY_GCC, 0, 0, 1, "whole value on the stack, R9 still taken by the next one"},
      {AF_FAMILY_CLANG, 20, 0, 1, "whole value on the stack, R9 still taken by the next one"},
      {AF_FAMILY_CLANG, 18, 19, 0, "whole value on the stack, but R9 is then left unused"},
      {AF_FAMILY_CLANG, 0, 17, 0, "split: low half in R9, high half on the stack"}}},
    {"sysv-i128-vararg-stack",
     AF_CC_SYSV,
     ABI_MATCH_I128_VARARG_STACK,
     "unnamed __int128 argument passed in memory (the overflow area)",
     "found by abifuzz (doc/findings.md): clang 14's caller stores it 16-aligned (psABI "
     "3.2.3, 3.5.7 step 7) but its va_arg reads the next 8-aligned slot; LLVM 18 made i128 "
     "16-aligned (D158169); clang 19 and gcc 12 agree with the rule",
     3,
     {{AF_FAMILY_GCC, 0, 0, 1, "16-aligned in the overflow area, read from there"},
      {AF_FAMILY_CLANG, 18, 0, 1, "16-aligned in the overflow area, read from there"},
      {AF_FAMILY_CLANG, 0, 17, 0, "va_arg reads it from the next 8-aligned slot"}}},
    {"sysv-i128-stack-align",
     AF_CC_SYSV,
     ABI_MATCH_I128_STACK_PAD,
     "named __int128 argument in memory after an odd number of 8-byte stack slots",
     "found by abifuzz (doc/findings.md): clang 14 stores it at the next 8-aligned slot "
     "(8(%rsp)), gcc 12 and clang 19 16-align it as psABI 3.2.3 says (alignof __int128 is "
     "16); LLVM 18 made i128 16-aligned (D158169)",
     3,
     {{AF_FAMILY_GCC, 0, 0, 1, "16-aligned slot (an 8-byte hole before it)"},
      {AF_FAMILY_CLANG, 18, 0, 1, "16-aligned slot (an 8-byte hole before it)"},
      {AF_FAMILY_CLANG, 0, 17, 0, "next 8-aligned slot: it and the arguments after it move"}}},
    {"sysv-m256-variadic-named",
     AF_CC_SYSV,
     ABI_MATCH_NAMED_YMM_VARIADIC,
     "named __m256 (or struct of one) argument of a variadic function",
     "seen in clang 14 and 19 vs gcc 12 (caller side, AL and stack differ); psABI 3.5.7 puts "
     "only unnamed 256-bit arguments in memory",
     2,
     {{AF_FAMILY_GCC, 0, 0, 1, "in a YMM register, counted in AL"},
      {AF_FAMILY_CLANG, 0, 0, 0, "in memory, like an unnamed one"}}},
    {"sysv-array-misaligned",
     AF_CC_SYSV,
     ABI_MATCH_GCC_ARRAY_ALIGN,
     "array of packed structs whose later elements have misaligned fields",
     "seen in gcc 12 vs clang 19 (test_abi_oracle); gcc classify_argument classifies the "
     "first element of an array only; psABI 3.2.3: unaligned fields -> MEMORY",
     2,
     {{AF_FAMILY_CLANG, 0, 0, 1, "MEMORY (every element checked)"},
      {AF_FAMILY_GCC, 0, 0, 0, "classes of the first element, often registers"}}},
    {"sysv-union-zero-width",
     AF_CC_SYSV,
     ABI_MATCH_GCC_UNION_ZW,
     "union with an unnamed zero-width bit-field member",
     "seen in gcc 12 vs clang 19: union { double d; char :0; } goes in RDI with gcc, XMM0 "
     "with clang (gcc 12.1 changed this for structs only, PR102024)",
     2,
     {{AF_FAMILY_CLANG, 0, 0, 1, "the bit-field is ignored"},
      {AF_FAMILY_GCC, 0, 0, 0, "the bit-field makes its eightbyte INTEGER"}}},
};
#define DIV_COUNT ((int)(sizeof div_table / sizeof div_table[0]))

int af_divergence_count(void) { return DIV_COUNT; }

const af_divergence *af_divergence_get(int i) {
  return i >= 0 && i < DIV_COUNT ? &div_table[i] : NULL;
}

static int abi_is_i128(int t) { return t == AF_T_I128 || t == AF_T_U128; }

/* Does the construct of entry d occur in this signature (classified as ci)? */
static int abi_match(const af_divergence *d, const af_case *c, const af_sig *sig,
                     const af_callinfo *ci) {
  if (d->cc != sig->cc) return 0;
  switch ((abi_match_kind)d->match) {
  case ABI_MATCH_RET_F80: return sig->ret == AF_T_F80;
  case ABI_MATCH_RET_M256: return sig->ret == AF_T_M256;
  case ABI_MATCH_RET_EMPTY:
    return af_type_is_aggregate(c, sig->ret) && c->types[sig->ret].size == 0;
  case ABI_MATCH_RET_I128: return abi_is_i128(sig->ret);
  case ABI_MATCH_F16:
    if (sig->ret == AF_T_F16) return 1;
    for (int i = 0; i < sig->nparams; i++)
      if (sig->params[i] == AF_T_F16) return 1;
    return 0;
  case ABI_MATCH_NAMED_YMM_VARIADIC:
    if (!sig->variadic) return 0;
    for (int i = 0; i < sig->nfixed && i < ci->nargs; i++)
      if (ci->args[i].kind == AF_LOC_REG && ci->args[i].parts[0].size == 32) return 1;
    return 0;
  case ABI_MATCH_I128_VARARG_STACK:
    for (int i = sig->variadic ? sig->nfixed : sig->nparams; i < sig->nparams && i < ci->nargs; i++)
      if (abi_is_i128(sig->params[i]) && ci->args[i].kind == AF_LOC_STACK) return 1;
    return 0;
  case ABI_MATCH_I128_STACK_PAD: {
    /* A named i128 in memory whose 16-aligned slot leaves an 8-byte hole after the stack
     * arguments before it: a compiler aligning it to 8 puts it (and what follows) 8 lower. */
    int32_t end = 0;
    int named = sig->variadic ? sig->nfixed : sig->nparams;
    for (int i = 0; i < sig->nparams && i < ci->nargs; i++) {
      const af_loc *l = &ci->args[i];
      if (l->kind != AF_LOC_STACK) continue;
      if (i < named && abi_is_i128(sig->params[i]) && l->stack_offset > end) return 1;
      int32_t e = l->stack_offset + (int32_t)((l->stack_size + 7) & ~7u);
      if (e > end) end = e;
    }
    return 0;
  }
  case ABI_MATCH_GCC_ARRAY_ALIGN: return classify_sysv_quirk_differs(c, sig, CLASSIFY_GCC_ARRAY);
  case ABI_MATCH_GCC_UNION_ZW: return classify_sysv_quirk_differs(c, sig, CLASSIFY_GCC_UNION_ZW);
  case ABI_MATCH_I128_LAST_GPR: {
    /* An i128 that went to the stack while exactly one integer register was
     * free, i.e. the integer registers taken before it number 5. */
    int used = ci->sret;
    for (int i = 0; i < sig->nparams && i < ci->nargs; i++) {
      const af_loc *l = &ci->args[i];
      if (abi_is_i128(sig->params[i]) && l->kind == AF_LOC_STACK && used == 5) return 1;
      if (l->kind == AF_LOC_REG)
        for (int p = 0; p < l->nparts; p++)
          if (l->parts[p].cls == AF_CLS_INTEGER) used++;
    }
    return 0;
  }
  }
  return 0;
}

static int abi_side_covers(const af_divergence_side *s, af_family fam, int version) {
  if (s->family != fam) return 0;
  if (version <= 0) return 1; /* any version */
  return (s->ver_lo == 0 || version >= s->ver_lo) && (s->ver_hi == 0 || version <= s->ver_hi);
}

/* What the matchers look at, gathered in one pass over the signature: an entry whose
 * construct needs something the signature lacks cannot match (abi_match would say 0), so the
 * scan skips it. Most signatures need no matcher at all: the scan runs on every
 * classification (the generator's, the JIT's, the probes'). */
typedef struct {
  uint32_t kinds;  /* bit k: scalar kind k is the return type or a parameter's type */
  int agg;         /* a struct/union return or parameter */
  int ret_empty;   /* the return type is a struct/union of size 0 */
  unsigned quirks; /* SysV: the gcc quirks that reach the return or a parameter type */
} abi_facts;

static inline __attribute__((always_inline)) void
abi_facts_of(const af_case *c, const af_sig *sig, abi_facts *f, const unsigned *quirks) {
  /* without a branch on each type (scalar or not: the random signature's, mispredicted ~16
   * times a case): bit t for every type id t, ids at or past 63 (and negative ones) on bit 63;
   * the scalar kinds are the bits below AF_T_NSCALAR, an aggregate (agg) any bit above */
  unsigned t = (unsigned)sig->ret;
  uint64_t bits = 1ull << (t < 63 ? t : 63);
  for (int i = 0; i < sig->nparams; i++) {
    t = (unsigned)sig->params[i];
    bits |= 1ull << (t < 63 ? t : 63);
  }
  _Static_assert(AF_T_NSCALAR <= 32, "abi_facts.kinds holds a bit per scalar kind");
  f->kinds = (uint32_t)(bits & ((1ull << AF_T_NSCALAR) - 1));
  f->agg = (bits >> AF_T_NSCALAR) != 0;
  int r = sig->ret; /* af_type_is_aggregate(c, r), inline */
  f->ret_empty = r >= AF_T_NSCALAR && r < c->ntypes &&
                 (c->types[r].kind == AF_T_STRUCT || c->types[r].kind == AF_T_UNION) &&
                 c->types[r].size == 0;
  f->quirks = !f->agg || sig->cc != AF_CC_SYSV ? 0
              : quirks                         ? *quirks
                                               : classify_sysv_quirks_reach(c, sig);
}

/* 0 when entry d cannot match a signature with these facts: a necessary condition of each
 * abi_match case (its construct's type must be there; the quirks need an aggregate). */
static inline __attribute__((always_inline)) int
abi_may_match(const af_divergence *d, const af_sig *sig, const abi_facts *f) {
  if (d->cc != sig->cc) return 0;
  switch ((abi_match_kind)d->match) {
  case ABI_MATCH_RET_F80: return sig->ret == AF_T_F80;
  case ABI_MATCH_RET_M256: return sig->ret == AF_T_M256;
  case ABI_MATCH_RET_EMPTY: return f->ret_empty;
  case ABI_MATCH_RET_I128: return abi_is_i128(sig->ret);
  case ABI_MATCH_F16: return (f->kinds >> AF_T_F16) & 1;
  case ABI_MATCH_NAMED_YMM_VARIADIC: return sig->variadic;
  case ABI_MATCH_I128_VARARG_STACK:
  case ABI_MATCH_I128_STACK_PAD:
  case ABI_MATCH_I128_LAST_GPR: return (f->kinds & (1u << AF_T_I128 | 1u << AF_T_U128)) != 0;
  case ABI_MATCH_GCC_ARRAY_ALIGN: return (f->quirks & CLASSIFY_GCC_ARRAY) != 0;
  case ABI_MATCH_GCC_UNION_ZW: return (f->quirks & CLASSIFY_GCC_UNION_ZW) != 0;
  }
  return 1;
}

int abi_divergences_scan(const af_case *c, const af_sig *sig, const af_callinfo *ci,
                         const char **why) {
  return abi_divergences_scan_q(c, sig, ci, why, NULL);
}

/* Bit k set: an entry of match kind k may match (abi_may_match's test for each kind, the
 * convention aside). 0 for most signatures: then no entry can match and the scan stops. */
static inline __attribute__((always_inline)) uint32_t abi_may_kinds(const af_sig *sig,
                                                                    const abi_facts *f) {
#define ABI_K(k) (1u << (k))
  uint32_t m = 0;
  if (sig->ret == AF_T_F80) m |= ABI_K(ABI_MATCH_RET_F80);
  if (sig->ret == AF_T_M256) m |= ABI_K(ABI_MATCH_RET_M256);
  if (f->ret_empty) m |= ABI_K(ABI_MATCH_RET_EMPTY);
  if (abi_is_i128(sig->ret)) m |= ABI_K(ABI_MATCH_RET_I128);
  if ((f->kinds >> AF_T_F16) & 1) m |= ABI_K(ABI_MATCH_F16);
  if (sig->variadic) m |= ABI_K(ABI_MATCH_NAMED_YMM_VARIADIC);
  if (f->kinds & (1u << AF_T_I128 | 1u << AF_T_U128))
    m |= ABI_K(ABI_MATCH_I128_VARARG_STACK) | ABI_K(ABI_MATCH_I128_STACK_PAD) |
         ABI_K(ABI_MATCH_I128_LAST_GPR);
  if (f->quirks & CLASSIFY_GCC_ARRAY) m |= ABI_K(ABI_MATCH_GCC_ARRAY_ALIGN);
  if (f->quirks & CLASSIFY_GCC_UNION_ZW) m |= ABI_K(ABI_MATCH_GCC_UNION_ZW);
  return m;
#undef ABI_K
}

int abi_divergences_scan_q(const af_case *c, const af_sig *sig, const af_callinfo *ci,
                           const char **why, const unsigned *quirks) {
  int n = 0;
  abi_facts f;
  abi_facts_of(c, sig, &f, quirks);
  if (!abi_may_kinds(sig, &f)) return 0; /* no entry's construct is there */
  for (int i = 0; i < DIV_COUNT; i++)
    if (abi_may_match(&div_table[i], sig, &f) && abi_match(&div_table[i], c, sig, ci)) {
      if (n == 0 && why) *why = div_table[i].id;
      n++;
    }
  return n;
}

int abi_divergences_scan_plain(const af_case *c, const af_sig *sig, const af_callinfo *ci) {
  int n = 0;
  for (int i = 0; i < DIV_COUNT; i++)
    n += abi_match(&div_table[i], c, sig, ci);
  return n;
}

static af_status classify_cleared(const af_case *c, const af_sig *sig, af_callinfo *out,
                                  af_error *err, int check);

/* Clears what the classifiers and the scan read or leave: all but args[nparams..] (2 KB of
 * them for a short signature, which nobody reads: af_callinfo.nargs says how many there are).
 * Clearing the whole af_callinfo was most of a short signature's classification. */
static void classify_clear(const af_sig *sig, af_callinfo *out) {
  int n = sig->nparams >= 0 && sig->nparams <= AF_MAX_PARAMS ? sig->nparams : AF_MAX_PARAMS;
  memset(out, 0, offsetof(af_callinfo, args) + sizeof(af_loc) * (size_t)n);
  memset(&out->sret, 0, sizeof *out - offsetof(af_callinfo, sret));
}

af_status af_classify(const af_case *c, const af_sig *sig, af_callinfo *out, af_error *err) {
  classify_clear(sig, out);
  return classify_cleared(c, sig, out, err, 1);
}

af_status abi_classify_lean(const af_case *c, const af_sig *sig, af_callinfo *out) {
  classify_clear(sig, out);
  return classify_cleared(c, sig, out, NULL, 1);
}

af_status abi_classify_gen(const af_case *c, const af_sig *sig, af_callinfo *out) {
  classify_clear(sig, out);
  return classify_cleared(c, sig, out, NULL, 0);
}

/* af_classify on a cleared out (every field the classifiers leave alone is zero); check: run
 * classify_check_sig (0: the caller's signature passes it by construction). */
static af_status classify_cleared(const af_case *c, const af_sig *sig, af_callinfo *out,
                                  af_error *err, int check) {
  out->ret.dup = AF_REG_NONE;
  if ((unsigned)sig->cc >= AF_CC_COUNT) {
    classify_err(err, "unknown calling convention %d", (int)sig->cc);
    return AF_ERR_INVALID;
  }
  af_status s = check ? classify_check_sig(c, sig, err) : AF_OK;
  if (s != AF_OK) return s;
  out->cc = sig->cc;
  out->nargs = sig->nparams;
  unsigned quirks = 0; /* SysV: found on the classifier's walk, not walked again by the scan */
  s = sig->cc == AF_CC_SYSV ? classify_sysv(c, sig, out, err, &quirks)
                            : classify_win64(c, sig, out, err);
  if (s == AF_OK)
    out->divergent =
        abi_divergences_scan_q(c, sig, out, NULL, sig->cc == AF_CC_SYSV ? &quirks : NULL) > 0;
  return s;
}

int af_abi_divergences(const af_case *c, const af_sig *sig, const char **why) {
  af_callinfo ci;
  if (why) *why = NULL;
  if (af_classify(c, sig, &ci, NULL) != AF_OK) return 0;
  if (!ci.divergent) return 0; /* af_classify's scan found no entry */
  return abi_divergences_scan(c, sig, &ci, why);
}

int af_abi_deviates(const af_case *c, const af_sig *sig, af_family family, int version,
                    const char **why) {
  af_callinfo ci;
  if (why) *why = NULL;
  if (af_classify(c, sig, &ci, NULL) != AF_OK) return 0;
  if (!ci.divergent) return 0; /* no entry matches (af_classify's scan) */
  abi_facts f;
  abi_facts_of(c, sig, &f, NULL);
  for (int i = 0; i < DIV_COUNT; i++) {
    const af_divergence *d = &div_table[i];
    if (!abi_may_match(d, sig, &f) || !abi_match(d, c, sig, &ci)) continue;
    for (int s = 0; s < d->nsides; s++)
      if (!d->sides[s].as_model && abi_side_covers(&d->sides[s], family, version)) {
        if (why) *why = d->id;
        return 1;
      }
  }
  return 0;
}
