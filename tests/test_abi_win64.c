/* test_abi_win64.c - af_classify on hand-checked Win64 signatures (Microsoft x64 calling
 * convention). */
#include "abi_testlib.h"

/* Notation: tests/abi_testlib.h. Rows marked "seen" were compared with gcc 12
 * and clang 19 assembly of __attribute__((ms_abi)) functions. */
static const abi_row rows[] = {
    /* positional slots: the other register of a slot is skipped */
    ABI_ROW({0}, "void(i32 f64 i32 f64)",
            "none | rcx@0:4 xmm1@0:8 r8@0:4 xmm3@0:8 | int=2 sse=2 stack=32"),
    ABI_ROW({0}, "void(f32 i32 f32 i32 f32 i32)",
            "none | xmm0@0:4 rdx xmm2 r9 s32 s40 | int=2 sse=2 stack=48"),
    ABI_ROW({0}, "void()", "none | | int=0 sse=0 stack=32"),
    ABI_ROW({0}, "void(i64 i64 i64 i64 i64 i64)", "none | rcx rdx r8 r9 s32/8 s40/8 | stack=48"),
    ABI_ROW({0}, "void(i64 i64 i64 i64 i64 i64 i64)",
            "none | rcx rdx r8 r9 s32 s40 s48 | stack=64 int=4"),
    ABI_ROW({0}, "void(i64 i64 i64 i64 f64)", "none | rcx rdx r8 r9 s32/8 | sse=0 stack=48"),
    ABI_ROW({0}, "void(bool i8 u16 ptr)", "none | rcx@0:1 rdx@0:1 r8@0:2 r9@0:8"),
    /* aggregates of 1, 2, 4, 8 bytes by value in the GPR, even all-float ones */
    ABI_ROW({"S: f32"}, "void($0)", "none | rcx@0:4 | int=1 sse=0"),
    ABI_ROW({"S: f32 f32"}, "void(f64 $0)", "none | xmm0 rdx@0:8 | int=1 sse=1"),
    ABI_ROW({"S: f64"}, "$0($0)", "rax@0:8 | rcx@0:8"),
    ABI_ROW({"S: i8 i8"}, "$0($0)", "rax@0:2 | rcx@0:2"),
    ABI_ROW({"U: i32 f32"}, "void($0)", "none | rcx@0:4"),
    ABI_ROW({"S p: i8 i8"}, "void($0)", "none | rcx@0:2"),
    ABI_ROW({"S: i16", "S: $0 i16"}, "void($1)", "none | rcx@0:4"),
    ABI_ROW({"S a8: i32"}, "void($0)", "none | rcx@0:8"),
    /* other sizes by reference to a caller copy */
    ABI_ROW({"S: i8*3"}, "void($0)", "none | &rcx | int=1"),
    ABI_ROW({"S: i8*5"}, "void($0)", "none | &rcx"),
    ABI_ROW({"S: i8*6"}, "void(i32 $0)", "none | rcx &rdx"),
    ABI_ROW({"S: i8*7"}, "void($0)", "none | &rcx"),
    ABI_ROW({"S: i64 i8"}, "void($0)", "none | &rcx"),
    ABI_ROW({"S: i64 i64"}, "void(f64 $0 f64)", "none | xmm0 &rdx xmm2 | int=1 sse=2"),
    ABI_ROW({"S p: i8 i32"}, "void($0)", "none | &rcx"),
    ABI_ROW({"S a16: i64"}, "void($0)", "none | &rcx"),
    ABI_ROW({"S: i64 i64"}, "void(i64 i64 i64 i64 $0)", "none | rcx rdx r8 r9 &s32 | stack=48"),
    ABI_ROW({"S:"}, "void($0 i64)", "none | &rcx rdx | int=2"),
    /* 16-byte and odd scalars by reference */
    ABI_ROW({0}, "void(m128 m128)", "none | &rcx &rdx | sse=0 int=2"),
    ABI_ROW({0}, "void(i64 i64 i64 i64 m128)", "none | rcx rdx r8 r9 &s32"),
    ABI_ROW({0}, "void(i128 u128)", "none | &rcx &rdx"),
    ABI_ROW({0}, "void(i64 i64 i64 i64 u128)", "none | rcx rdx r8 r9 &s32"),
    ABI_ROW({0}, "void(f80)", "none | &rcx"),
    ABI_ROW({0}, "void(cf64 cf32)", "none | &rcx rdx@0:8"),
    ABI_ROW({0}, "void(m256)", "none | &rcx"),
    /* returns: RAX, XMM0, or sret in RCX with every argument shifted */
    ABI_ROW({0}, "bool()", "rax@0:1 |"),
    ABI_ROW({0}, "u16(i8)", "rax@0:2 | rcx@0:1"),
    ABI_ROW({0}, "ptr(ptr)", "rax@0:8 | rcx"),
    ABI_ROW({0}, "f32(f32)", "xmm0@0:4 | xmm0@0:4"),
    ABI_ROW({0}, "f64(i32 f64)", "xmm0@0:8 | rcx xmm1"),
    ABI_ROW({0}, "m128(ptr)", "xmm0@0:16 | rcx"),
    ABI_ROW({0}, "cf32()", "rax@0:8 |"),
    ABI_ROW({0}, "cf64(i32)", "sret | rdx | int=2"),
    ABI_ROW({"S: i64 i64"}, "$0(i32)", "sret | rdx@0:4 | int=2"),
    ABI_ROW({"S: i8*3"}, "$0()", "sret | | int=1"),
    ABI_ROW({"S: i64 i64"}, "$0(i32 i32 i32 i32)", "sret | rdx r8 r9 s32 | int=4 stack=48"),
    ABI_ROW({"S: i64 i64 i64"}, "$0(f64 f64 f64 f64)", "sret | xmm1 xmm2 xmm3 s32 | sse=3 int=1"),
    /* gcc/clang divergences: the model is clang 19 (seen) */
    ABI_ROW({0}, "f80()", "st0 | | div=1"),
    ABI_ROW({0}, "m256(ptr)", "xmm0@0:32 | rcx | div=1"),
    ABI_ROW({"S:"}, "$0(i32)", "sret | rdx | div=1"),
    ABI_ROW({0}, "i128(i128)", "xmm0@0:16 | &rcx | div=1"),
    ABI_ROW({0}, "void(f16 f64)", "none | xmm0@0:2 xmm1 | div=1"),
    /* variadic: floats duplicated into the slot's GPR (MS-CC "Varargs") */
    ABI_ROW({0}, "void(ptr ... f64 i32 f64)", "none | rcx xmm1^rdx r8 xmm3^r9 | sse=2 int=4"),
    ABI_ROW({0}, "void(f64 ... f64)", "none | xmm0 xmm1^rdx"),
    ABI_ROW({0}, "void(i32 ... i32 i32 i32 f64)", "none | rcx rdx r8 r9 s32 | stack=48"),
    ABI_ROW({"S: i64 i64"}, "void(i32 ... $0)", "none | rcx &rdx"),
    ABI_ROW({"S: f32 f32"}, "void(i32 ... $0)", "none | rcx rdx@0:8"),
    ABI_ROW({"S: i64 i64"}, "$0(ptr ... f64)", "sret | rdx xmm2^r8"),
};

int main(void) {
  int n = (int)(sizeof rows / sizeof rows[0]);
  for (int i = 0; i < n; i++)
    check_abi_row(&rows[i], AF_CC_WIN64);
  printf("%d win64 rows\n", n);
  CHECK(n >= 40);

  /* The description itself (MS-CC, MS-SU). */
  const af_abi *a = af_abi_get(AF_CC_WIN64);
  CHECK(a && a->cc == AF_CC_WIN64 && a->n_int_args == 4 && a->n_sse_args == 4);
  CHECK(a->int_args[0] == AF_RCX && a->int_args[3] == AF_R9 && a->sse_args[3] == AF_XMM3);
  CHECK(a->positional && a->home_space == 32 && a->red_zone == 0 && a->vararg_dup_float);
  CHECK(a->sret_in == AF_RCX && a->sret_out == AF_RAX);
  static const af_reg saved[] = {AF_RBX, AF_RBP, AF_RDI,  AF_RSI,   AF_R12,  AF_R13,
                                 AF_R14, AF_R15, AF_XMM6, AF_XMM10, AF_XMM15};
  for (size_t i = 0; i < sizeof saved / sizeof saved[0]; i++)
    CHECKF(a->callee_saved >> saved[i] & 1, "%s not callee-saved", af_reg_name(saved[i]));
  CHECK(!(a->callee_saved >> AF_RCX & 1) && !(a->callee_saved >> AF_XMM5 & 1));
  CHECK(af_abi_get((af_cc)7) == NULL);

  /* The divergence table and its queries. */
  CHECK(af_divergence_count() >= 6);
  for (int i = 0; i < af_divergence_count(); i++) {
    const af_divergence *d = af_divergence_get(i);
    int model = 0, other = 0;
    for (int k = 0; k < d->nsides; k++)
      if (d->sides[k].as_model)
        model++;
      else
        other++;
    CHECKF(d->id && d->construct && d->ref && model && other, "entry %d", i);
  }
  CHECK(af_divergence_get(-1) == NULL && af_divergence_get(af_divergence_count()) == NULL);
  af_case c;
  af_case_init(&c);
  af_sig s = {.cc = AF_CC_WIN64, .ret = AF_T_F80};
  const char *why = NULL;
  CHECK(af_abi_divergences(&c, &s, &why) == 1 && why && strcmp(why, "win64-f80-ret") == 0);
  CHECK(af_abi_deviates(&c, &s, AF_FAMILY_GCC, 12, &why) == 1);
  CHECK(af_abi_deviates(&c, &s, AF_FAMILY_CLANG, 19, &why) == 0 && why == NULL);
  s.ret = AF_T_I128;
  CHECK(af_abi_deviates(&c, &s, AF_FAMILY_CLANG, 19, NULL) == 0);
  CHECK(af_abi_deviates(&c, &s, AF_FAMILY_CLANG, 23, NULL) == 1);
  CHECK(af_abi_deviates(&c, &s, AF_FAMILY_GCC, 12, NULL) == 0);
  s.ret = AF_T_F64;
  CHECK(af_abi_divergences(&c, &s, &why) == 0 && why == NULL);
  s.cc = AF_CC_SYSV; /* the SysV i128 entry, per clang version */
  s.ret = AF_T_VOID;
  s.nparams = s.nfixed = 7;
  for (int i = 0; i < 7; i++)
    s.params[i] = i == 5 ? AF_T_I128 : AF_T_I64;
  CHECK(af_abi_divergences(&c, &s, &why) == 1 && strcmp(why, "sysv-i128-last-gpr") == 0);
  CHECK(af_abi_deviates(&c, &s, AF_FAMILY_CLANG, 14, NULL) == 1);
  CHECK(af_abi_deviates(&c, &s, AF_FAMILY_CLANG, 19, NULL) == 1);
  CHECK(af_abi_deviates(&c, &s, AF_FAMILY_CLANG, 20, NULL) == 0);
  CHECK(af_abi_deviates(&c, &s, AF_FAMILY_GCC, 12, NULL) == 0);
  s.params[5] = AF_T_I64;
  CHECK(af_abi_divergences(&c, &s, NULL) == 0);
  /* an unnamed i128 in the overflow area: clang <= 17's va_arg misreads it */
  s.variadic = 1;
  s.nfixed = 1;
  s.params[6] = AF_T_U128;
  CHECK(af_abi_divergences(&c, &s, &why) == 1 && strcmp(why, "sysv-i128-vararg-stack") == 0);
  CHECK(af_abi_deviates(&c, &s, AF_FAMILY_CLANG, 14, NULL) == 1);
  CHECK(af_abi_deviates(&c, &s, AF_FAMILY_CLANG, 19, NULL) == 0);
  CHECK(af_abi_deviates(&c, &s, AF_FAMILY_GCC, 12, NULL) == 0);
  s.nfixed = 7; /* the same argument named: not this entry */
  CHECK(af_abi_divergences(&c, &s, NULL) == 0);
  af_case_free(&c);
  return check_done();
}
