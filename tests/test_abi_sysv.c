/* test_abi_sysv.c - af_classify on hand-checked SysV signatures (x86-64 psABI 3.2.3). */
#include "abi_testlib.h"

/* Notation: tests/abi_testlib.h. "checked" rows were also compared with the
 * assembly of gcc 12 and clang 19 at -O2 when they were written. */
static const abi_row rows[] = {
    /* abi-notes: independent counters */
    ABI_ROW({0}, "void(i32 f64 i32)", "none | rdi@0:4 xmm0@0:8 rsi@0:4 | int=2 sse=1 stack=0"),
    ABI_ROW({0}, "void()", "none | | int=0 sse=0 stack=0"),
    ABI_ROW({0}, "void(bool i8 u16 i64)", "none | rdi@0:1 rsi@0:1 rdx@0:2 rcx@0:8 | int=4"),
    ABI_ROW({0}, "ptr(ptr)", "rax@0:8 | rdi@0:8"),
    ABI_ROW({0}, "void(i32 i32 i32 i32 i32 i32 i32 i32)",
            "none | rdi rsi rdx rcx r8 r9 s0/8 s8/8 | int=6 stack=16"),
    ABI_ROW({0}, "void(f64 f64 f64 f64 f64 f64 f64 f64 f64 i64 i64 i64 i64 i64 i64 i64)",
            "none | xmm0 xmm1 xmm2 xmm3 xmm4 xmm5 xmm6 xmm7 s0 rdi rsi rdx rcx r8 r9 s8"
            " | int=6 sse=8 stack=16"),
    /* aggregates: eightbyte classes (psABI 3.2.3 steps 1-5) */
    ABI_ROW({"S: f32 f32"}, "void($0)", "none | xmm0@0:8 | sse=1 int=0"),
    ABI_ROW({"S: f32 i32"}, "void($0)", "none | rdi@0:8 | int=1 sse=0"),
    ABI_ROW({"S: f64 i32"}, "void($0)", "none | xmm0@0:8,rdi@8:8 | int=1 sse=1"),
    ABI_ROW({"S: i64 f64"}, "$0()", "rax@0:8,xmm0@8:8 |"),
    ABI_ROW({"S: f64 i64"}, "$0()", "xmm0@0:8,rax@8:8 |"),
    ABI_ROW({"S: f32 f32 f32"}, "$0($0)", "xmm0@0:8,xmm1@8:4 | xmm0@0:8,xmm1@8:4 | sse=2"),
    ABI_ROW({"S: f32 f32 f32 f32"}, "void($0)", "none | xmm0@0:8,xmm1@8:8"),
    ABI_ROW({"S: i32 f32"}, "$0()", "rax@0:8 |"),
    ABI_ROW({"S: f32*3"}, "void($0)", "none | xmm0@0:8,xmm1@8:4"),
    ABI_ROW({"S: i8*3 f32"}, "void($0)", "none | rdi@0:8"),
    ABI_ROW({"S: f32", "S: $0 f32"}, "void($1)", "none | xmm0@0:8"),
    ABI_ROW({"S: i64 i64 i64"}, "void($0 i32)", "none | s0/24 rdi | stack=32 int=1"),
    ABI_ROW({"S: f64 f64 f64"}, "$0(f64)", "sret | xmm0 | int=1 sse=1 stack=0"),
    /* sret takes %rdi; the callee returns the address in %rax */
    ABI_ROW({"S: i64 i64 i64"}, "$0(i32 f64)", "sret | rsi@0:4 xmm0 | int=2 sse=1"),
    ABI_ROW({"S: i64 i64 i64"}, "$0(i64 i64 i64 i64 i64 i64)",
            "sret | rsi rdx rcx r8 r9 s0/8 | int=6 stack=16"),
    /* backfill: the whole struct to the stack, later args still use registers */
    ABI_ROW({"S: i64 i64"}, "void(i64 i64 i64 i64 i64 $0 i64)",
            "none | rdi rsi rdx rcx r8 s0/16 r9 | int=6 stack=16"),
    ABI_ROW({"S: f64 f64"}, "void(f64 f64 f64 f64 f64 f64 f64 $0 f64)",
            "none | xmm0 xmm1 xmm2 xmm3 xmm4 xmm5 xmm6 s0/16 xmm7 | sse=8 stack=16"),
    ABI_ROW({"S: f64 f64"}, "void(f64 f64 f64 f64 f64 f64 f64 f64 $0 f64)",
            "none | xmm0 xmm1 xmm2 xmm3 xmm4 xmm5 xmm6 xmm7 s0/16 s16/8 | sse=8 stack=32"),
    ABI_ROW({"S: i64 f64"}, "void(i64 i64 i64 i64 i64 i64 $0 f64)",
            "none | rdi rsi rdx rcx r8 r9 s0/16 xmm0 | sse=1 int=6 stack=16"),
    /* __int128: two INTEGER, never split, 16-aligned on the stack */
    ABI_ROW({0}, "i128(i128)", "rax@0:8,rdx@8:8 | rdi@0:8,rsi@8:8 | int=2"),
    ABI_ROW({0}, "void(i64 i64 i64 i64 i64 i128 i64)",
            "none | rdi rsi rdx rcx r8 s0/16 r9 | int=6 stack=16 div=1"),
    /* 16-aligned after an 8-byte hole; clang <= 17 put it at s8 (sysv-i128-stack-align) */
    ABI_ROW({0}, "void(i64 i64 i64 i64 i64 i64 i64 u128)",
            "none | rdi rsi rdx rcx r8 r9 s0/8 s16/16 | stack=32 div=1"),
    ABI_ROW({0}, "void(i64 i64 i64 i64 i128 i64)", "none | rdi rsi rdx rcx r8@0:8,r9@8:8 s0/8"),
    ABI_ROW({"S: i128"}, "void(i64 i64 i64 i64 i64 $0 i64)",
            "none | rdi rsi rdx rcx r8 s0/16 r9 | stack=16"),
    /* long double: X87 -> memory as an argument, %st0 as a return */
    ABI_ROW({0}, "f80(f80 f64)", "st0 | s0/16 xmm0 | stack=16 sse=1"),
    ABI_ROW({0}, "void(i64 i64 i64 i64 i64 i64 i64 f80)",
            "none | rdi rsi rdx rcx r8 r9 s0/8 s16/16 | stack=32"),
    ABI_ROW({"S: f80"}, "$0($0)", "st0 | s0/16 | stack=16"),
    ABI_ROW({"S: f80 i64"}, "$0()", "sret |"),
    /* complex, vectors, _Float16 */
    ABI_ROW({0}, "cf32(cf32)", "xmm0@0:8 | xmm0@0:8 | sse=1"),
    ABI_ROW({0}, "cf64(cf64 f32)", "xmm0@0:8,xmm1@8:8 | xmm0@0:8,xmm1@8:8 xmm2@0:4 | sse=3"),
    ABI_ROW({0}, "m128(m128 m128)", "xmm0@0:16 | xmm0@0:16 xmm1@0:16 | sse=2"),
    ABI_ROW({0}, "m256(m256 f64)", "xmm0@0:32 | xmm0@0:32 xmm1@0:8 | sse=2"),
    ABI_ROW({"S: m256"}, "$0($0)", "xmm0@0:32 | xmm0@0:32"),
    ABI_ROW({"S: m128 m128"}, "$0($0)", "sret | s0/32 | stack=32"),
    ABI_ROW({0}, "void(f64 f64 f64 f64 f64 f64 f64 f64 m128)",
            "none | xmm0 xmm1 xmm2 xmm3 xmm4 xmm5 xmm6 xmm7 s0/16 | stack=16"),
    ABI_ROW({0}, "void(f64 f64 f64 f64 f64 f64 f64 f64 f64 m256)",
            "none | xmm0 xmm1 xmm2 xmm3 xmm4 xmm5 xmm6 xmm7 s0/8 s32/32 | stack=64"),
    ABI_ROW({0}, "f16(f16 f16)", "xmm0@0:2 | xmm0@0:2 xmm1@0:2"),
    ABI_ROW({"S: f16 f16 f32"}, "void($0)", "none | xmm0@0:8"),
    /* unions merge their members per eightbyte (checked) */
    ABI_ROW({"U: f32 i32"}, "void($0)", "none | rdi@0:4"),
    ABI_ROW({"U: f64 f32"}, "void($0)", "none | xmm0@0:8"),
    ABI_ROW({"U: m128 f32*4"}, "void($0)", "none | xmm0@0:8,xmm1@8:8 | sse=2"),
    ABI_ROW({"S: f32 f32", "U: $0 f64"}, "$1($1)", "xmm0@0:8 | xmm0@0:8"),
    /* empty structs are ignored (GNU C) */
    ABI_ROW({"S:"}, "$0(i32 $0 i32)", "none | rdi none rsi | int=2 stack=0"),
    /* packed: unaligned fields -> MEMORY; aligned ones keep their classes (checked) */
    ABI_ROW({"S p: i8 i32"}, "$0($0)", "sret | s0/8 | stack=16 int=1"),
    ABI_ROW({"S p: i64 i64"}, "void($0)", "none | rdi@0:8,rsi@8:8"),
    ABI_ROW({"S p: i8 i64:60 i8"}, "void($0)", "none | rdi@0:8,rsi@8:2"),
    ABI_ROW({"S: i8 f32", "S p: i8 $0"}, "void($1)", "none | s0/16 | stack=16"),
    /* bit-fields: INTEGER for the eightbytes they touch (checked) */
    ABI_ROW({"S: i32:3 i32:5 f32"}, "void($0)", "none | rdi@0:8"),
    ABI_ROW({"S: i64:40 i64:40"}, "void($0)", "none | rdi@0:8,rsi@8:8"),
    ABI_ROW({"S: f32 i64:0 f64"}, "void($0)", "none | xmm0@0:8,xmm1@8:8"),
    /* padding eightbytes take no register; slots aligned to the type (checked) */
    ABI_ROW({"S a16: i64"}, "void($0 i64)", "none | rdi@0:8 rsi | int=2"),
    ABI_ROW({"S a32: i64"}, "void(i64 i64 i64 i64 i64 i64 i64 $0)",
            "none | rdi rsi rdx rcx r8 r9 s0/8 s32/32 | stack=64"),
    ABI_ROW({"S a16: i64 i64 i64"}, "void(i64 i64 i64 i64 i64 i64 i64 $0)",
            "none | rdi rsi rdx rcx r8 r9 s0/8 s16/32 | stack=48"),
    /* variadic: same placement, AL = vector registers used (psABI 3.5.7) */
    ABI_ROW({0}, "void(i32 ... f64 i32 f64)", "none | rdi xmm0 rsi xmm1 | int=2 sse=2"),
    ABI_ROW({0}, "void(ptr ... f80 f64)", "none | rdi s0/16 xmm0 | sse=1 stack=16"),
    ABI_ROW({"S: f64 f64"}, "void(i32 ... $0 i64)", "none | rdi xmm0,xmm1 rsi | sse=2 int=2"),
    /* 256-bit arguments: registers only when named (psABI 3.5.7); clang also
     * puts named ones of a variadic function in memory (checked) */
    ABI_ROW({0}, "void(i32 ... m256 f64)", "none | rdi s0/32 xmm0 | sse=1 stack=32"),
    ABI_ROW({"S: m256"}, "void(i32 ... $0)", "none | rdi s0/32 | sse=0 stack=32"),
    ABI_ROW({0}, "void(m256 ... f64)", "none | xmm0@0:32 xmm1 | sse=2 div=1"),
    /* gcc quirks the model does not follow (checked; abi.c divergence table) */
    ABI_ROW({"U: f64 i8:0"}, "void($0)", "none | xmm0@0:8 | div=1"),
    ABI_ROW({"S: f64 i8:0"}, "void($0)", "none | xmm0@0:8"),
    ABI_ROW({"S p: i32 i16", "S: $0*2"}, "void($1)", "none | s0/16 | stack=16 div=1"),
    ABI_ROW({"S p: i32 i32", "S: $0*2"}, "void($1)", "none | rdi@0:8,rsi@8:8"),
};

int main(void) {
  int n = (int)(sizeof rows / sizeof rows[0]);
  for (int i = 0; i < n; i++)
    check_abi_row(&rows[i], AF_CC_SYSV);
  printf("%d sysv rows\n", n);
  CHECK(n >= 40);

  /* The description itself (psABI 3.2.1-3.2.3, 3.5.7). */
  const af_abi *a = af_abi_get(AF_CC_SYSV);
  CHECK(a && a->cc == AF_CC_SYSV && a->n_int_args == 6 && a->n_sse_args == 8);
  CHECK(a->int_args[0] == AF_RDI && a->int_args[5] == AF_R9 && a->sse_args[7] == AF_XMM7);
  CHECK(a->red_zone == 128 && a->home_space == 0 && !a->positional && a->vararg_al);
  CHECK(a->sret_in == AF_RDI && a->sret_out == AF_RAX);
  CHECK((a->callee_saved >> AF_RBX & 1) && (a->callee_saved >> AF_R15 & 1) &&
        !(a->callee_saved >> AF_RDI & 1) && !(a->callee_saved >> AF_XMM6 & 1));

  /* Errors: bad ids, arrays, void params, bad nfixed. */
  af_case c;
  af_case_init(&c);
  int arr = af_type_add_array(&c, AF_T_I32, 2);
  CHECK(af_layout(&c) == AF_OK);
  af_sig s = {.cc = AF_CC_SYSV, .ret = AF_T_VOID, .nparams = 1, .params = {arr}, .nfixed = 1};
  af_callinfo ci;
  af_error err = {{0}};
  CHECK(af_classify(&c, &s, &ci, &err) == AF_ERR_INVALID && err.msg[0]);
  s.params[0] = AF_T_VOID;
  CHECK(af_classify(&c, &s, &ci, NULL) == AF_ERR_INVALID);
  s.params[0] = 999;
  CHECK(af_classify(&c, &s, &ci, NULL) == AF_ERR_INVALID);
  s.params[0] = AF_T_I32;
  s.variadic = 1;
  s.nfixed = 0;
  CHECK(af_classify(&c, &s, &ci, NULL) == AF_ERR_INVALID);
  s.nfixed = 1;
  CHECK(af_classify(&c, &s, &ci, NULL) == AF_OK && ci.sse_used == 0);
  af_case_free(&c);
  return check_done();
}
