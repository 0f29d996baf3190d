/* test_backend_llvm.c - the llvm backend (LLVM ORC): generated cases under both conventions,
 * the corpus, and hand-written cases for each ABI shape the lowering chooses (coerced struct
 * returns, byval, i128, long double, Win64 by-reference, variadic calls with AL / Win64
 * float duplication checked by a probe on the import stub). */
#include <dirent.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <llvm-c/Core.h>

#include "backend_testlib.h"
#include "be_llvm_internal.h"
#include "check.h"
#include "oracle.h"

/* Like bt_run_gen, with the generator's f16 / m256 / divergent switches. */
static bt_stats run_opts(int cc, uint64_t seed, int n, int f16, int m256) {
  bt_stats st;
  memset(&st, 0, sizeof st);
  af_error err = {{0}};
  af_backend *b = NULL;
  if (af_backend_open("llvm", &b, &err) != AF_OK) {
    snprintf(st.first_fail, sizeof st.first_fail, "open: %.200s", err.msg);
    return st;
  }
  af_gen_opts o;
  af_gen_opts_default(&o);
  o.cc = cc;
  o.allow_f16 = f16;
  o.allow_m256 = m256;
  for (int i = 0; i < n; i++) {
    af_case c;
    if (af_gen_case(&o, seed, (uint64_t)i, &c, NULL, &err) != AF_OK) continue;
    bt_run_case(b, &c, &st);
    af_case_free(&c);
  }
  af_backend_close(b);
  return st;
}

/* ---- a probe on one import stub: what the external code left in the argument registers ---- */
uint64_t llvm_probe_rax, llvm_probe_gpr[4], llvm_probe_xmm[4];
const void *llvm_probe_target;
void llvm_probe(void);
/* R11 is free at a call in both conventions (the import stubs use it too). */
__asm__(".text\n"
        ".globl llvm_probe\n"
        "llvm_probe:\n"
        "  movq %rax, llvm_probe_rax(%rip)\n"
        "  movq %rcx, llvm_probe_gpr(%rip)\n"
        "  movq %rdx, llvm_probe_gpr+8(%rip)\n"
        "  movq %r8, llvm_probe_gpr+16(%rip)\n"
        "  movq %r9, llvm_probe_gpr+24(%rip)\n"
        "  movq %xmm0, llvm_probe_xmm(%rip)\n"
        "  movq %xmm1, llvm_probe_xmm+8(%rip)\n"
        "  movq %xmm2, llvm_probe_xmm+16(%rip)\n"
        "  movq %xmm3, llvm_probe_xmm+24(%rip)\n"
        "  movq llvm_probe_target(%rip), %r11\n"
        "  jmp *%r11\n");

/* Parses text (with "CC" replaced by cc's name), runs it through the llvm backend, probing
 * function probe_k (-1: none). 0 pass, 1 skip, 2 mismatch, 3 error; msg says what. */
/* The module the backend builds for c, as text (malloc'd; NULL on failure). */
static char *module_text(const af_case *c, af_backend_code *code) {
  LLVMContextRef ctx = LLVMContextCreate();
  bl_mod m;
  memset(&m, 0, sizeof m);
  af_error err = {{0}};
  m.err = &err;
  LLVMModuleRef mod = NULL;
  char *out = NULL;
  if (bl_build(&m, c, code, ctx, "t_", &mod) == AF_OK) {
    char *t = LLVMPrintModuleToString(mod);
    out = strdup(t);
    LLVMDisposeMessage(t);
    LLVMDisposeModule(mod);
  }
  LLVMContextDispose(ctx);
  return out;
}

/* Each of want[] (NULL-terminated) must occur in ir; "!x" must not. */
static void check_ir(const char *what, const char *ir, const char *const *want) {
  CHECKF(ir != NULL, "%s: no module", what);
  for (int i = 0; ir && want && want[i]; i++) {
    int neg = want[i][0] == '!';
    const char *w = want[i] + neg;
    CHECKF((strstr(ir, w) != NULL) == !neg, "%s: the IR %s '%s'", what, neg ? "has" : "lacks", w);
  }
  if (ir && getenv("LLVM_TEST_IR")) printf("%s\n", ir);
}

static int run_text(af_backend *b, const char *name, const char *text, af_cc cc, int probe_k,
                    const char *const *want_ir, char *msg, size_t nmsg) {
  char buf[8192], *o = buf;
  for (const char *p = text; *p && o < buf + sizeof buf - 8;) {
    if (!strncmp(p, "CC", 2)) {
      o += sprintf(o, "%s", af_cc_name(cc));
      p += 2;
    } else {
      *o++ = *p++;
    }
  }
  *o = 0;
  af_case c;
  af_error err = {{0}};
  int rc = 3;
  snprintf(msg, nmsg, "ok");
  if (af_parse(name, buf, strlen(buf), &c, &err) != AF_OK) {
    snprintf(msg, nmsg, "parse: %s", err.msg);
    af_case_free(&c);
    return 3;
  }
  af_interp_result want;
  memset(&want, 0, sizeof want);
  af_backend_code *code = NULL;
  const char *skip = NULL;
  af_jit *jit = NULL;
  af_jit_result res;
  memset(&res, 0, sizeof res);
  if (af_interp(&c, 0, &want, &err) != AF_OK) {
    snprintf(msg, nmsg, "interp: %s", err.msg);
  } else {
    af_status s = af_backend_compile(b, &c, &code, &skip, &err);
    if (s == AF_ERR_UNSUPPORTED) {
      snprintf(msg, nmsg, "skip: %s", skip ? skip : "?");
      rc = 1;
    } else if (s != AF_OK) {
      snprintf(msg, nmsg, "compile: %s", err.msg);
    } else if (af_backend_link(code, &c, NULL, &jit, &err) != AF_OK) {
      snprintf(msg, nmsg, "link: %s", err.msg);
    } else {
      char *ir = module_text(&c, code), what[64];
      snprintf(what, sizeof what, "%s %s", name, af_cc_name(cc));
      check_ir(what, ir, want_ir);
      free(ir);
      /* symbol sizes from the object: crash addresses map back to the function */
      const af_jit_ext *x = af_backend_ext(code);
      for (int k = 0; k < c.nfuncs; k++)
        if (!c.funcs[k].host) {
          CHECKF(x->size[k] > 0, "%s: f%d has no size", what, k);
          CHECKF(af_jit_which(jit, (const uint8_t *)x->fn[k] + x->size[k] - 1) == k,
                 "%s: the last byte of f%d is not attributed to it", what, k);
        }
      if (probe_k >= 0) {
        llvm_probe_target = af_jit_fn(jit, probe_k);
        af_backend_bind(code, probe_k, (const void *)llvm_probe);
      }
      if (af_jit_run(jit, NULL, &res, &err) != AF_OK) {
        snprintf(msg, nmsg, "run: %s", err.msg);
      } else if (res.checksum != want.checksum) {
        snprintf(msg, nmsg, "checksum 0x%016llx, interpreter 0x%016llx",
                 (unsigned long long)res.checksum, (unsigned long long)want.checksum);
        rc = 2;
      } else {
        rc = 0;
      }
    }
  }
  af_jit_result_free(&res);
  af_jit_free(jit);
  af_backend_code_free(code);
  af_interp_result_free(&want);
  af_case_free(&c);
  return rc;
}

#define HDR "# abifuzz case, generator 2\n# seed 0 index 0 abi CC\n"

/* A 16-byte {f64, i32} (SysV: SSE + INTEGER, {double, i32}; Win64: sret) and a 12-byte
 * {f32 x3} (SysV: {double, float}) returned by host and external code. */
static const char struct_ret[] = HDR "type t21 = struct { f64, i32 }\n"
                                     "type t22 = struct { f32, f32, f32 }\n"
                                     "func f0 CC (t21, i32) -> t22 {\n"
                                     "  v2 = call t21 f1 (v0, v1)\n"
                                     "  v3 = call t22 f2 (v2)\n"
                                     "  v4 = call t22 f3 (v3, v1)\n"
                                     "  ret t22 v4\n"
                                     "}\n"
                                     "func f1 host CC (t21, i32) -> t21 {\n"
                                     "  v2 = get i32 v0 [1]\n"
                                     "  v3 = add i32 v2 v1\n"
                                     "  v4 = set t21 v0 v3 [1]\n"
                                     "  ret t21 v4\n"
                                     "}\n"
                                     "func f2 CC (t21) -> t22 {\n"
                                     "  v1 = get f64 v0 [0]\n"
                                     "  v2 = fconv f32 v1\n"
                                     "  v3 = get i32 v0 [1]\n"
                                     "  v4 = itof f32 v3\n"
                                     "  v5 = const t22 0000803f0000004000004040\n"
                                     "  v6 = set t22 v5 v2 [0]\n"
                                     "  v7 = set t22 v6 v4 [2]\n"
                                     "  ret t22 v7\n"
                                     "}\n"
                                     "func f3 host CC (t22, i32) -> t22 {\n"
                                     "  v2 = get f32 v0 [1]\n"
                                     "  v3 = itof f32 v1\n"
                                     "  v4 = fadd f32 v2 v3\n"
                                     "  v5 = set t22 v0 v4 [1]\n"
                                     "  ret t22 v5\n"
                                     "}\n"
                                     "entry f0\n"
                                     "input t21 000000000000f03f2a00000000000000\n"
                                     "input i32 7\n";

/* A 40-byte struct argument: SysV MEMORY (byval, on the stack), Win64 by reference. */
static const char memory_arg[] =
    HDR "type t21 = struct { i64, i64, i64, u8, i64 }\n"
        "func f0 CC (t21, i32) -> u64 {\n"
        "  v2 = call u64 f1 (v1, v0, v0)\n"
        "  v3 = call u64 f2 (v0, v2)\n"
        "  v4 = mix u64 0x1 (v0, v2, v3)\n"
        "  ret u64 v4\n"
        "}\n"
        "func f1 host CC (i32, t21, t21) -> u64 {\n"
        "  v3 = mix u64 0x2 (v0, v1, v2)\n"
        "  ret u64 v3\n"
        "}\n"
        "func f2 CC (t21, u64) -> u64 {\n"
        "  v2 = get u8 v0 [3]\n"
        "  v3 = zext u64 v2\n"
        "  v4 = add u64 v3 v1\n"
        "  v5 = mix u64 0x3 (v0, v4)\n"
        "  ret u64 v5\n"
        "}\n"
        "entry f0\n"
        "input t21 0102030405060708111213141516171821222324252627283100000000000000"
        "4142434445464748\n"
        "input i32 -5\n";

/* __int128: in a register pair, then on the stack after five integers (the last argument,
 * so no register is left behind: gen/abi.c's divergence table). */
static const char i128_arg[] = HDR "func f0 CC (i128, u128, i64) -> i128 {\n"
                                   "  v3 = call i128 f1 (v0, v2, v1)\n"
                                   "  v4 = call i128 f2 (v2, v2, v2, v2, v2, v3)\n"
                                   "  v5 = mul i128 v4 v0\n"
                                   "  ret i128 v5\n"
                                   "}\n"
                                   "func f1 host CC (i128, i64, u128) -> i128 {\n"
                                   "  v3 = sext i128 v1\n"
                                   "  v4 = add i128 v0 v3\n"
                                   "  v5 = mix u64 0x4 (v2)\n"
                                   "  v6 = zext i128 v5\n"
                                   "  v7 = xor i128 v4 v6\n"
                                   "  ret i128 v7\n"
                                   "}\n"
                                   "func f2 CC (i64, i64, i64, i64, i64, i128) -> i128 {\n"
                                   "  v6 = sext i128 v4\n"
                                   "  v7 = sub i128 v5 v6\n"
                                   "  v8 = const i128 0x7\n"
                                   "  v9 = shl i128 v7 v8\n"
                                   "  ret i128 v9\n"
                                   "}\n"
                                   "entry f0\n"
                                   "input i128 0x123456789abcdef0fedcba9876543210\n"
                                   "input u128 0xffffffffffffffff0000000000000001\n"
                                   "input i64 -3\n";

/* long double: SysV in memory and ST0; Win64 by reference and ST0; a struct { long double }
 * returned in ST0 (SysV X87 class). */
static const char f80_arg[] = HDR "type t21 = struct { f80 }\n"
                                  "func f0 CC (f80, f64) -> f80 {\n"
                                  "  v2 = fconv f80 v1\n"
                                  "  v3 = call f80 f1 (v0, v2)\n"
                                  "  v4 = call t21 f2 (v3, v1)\n"
                                  "  v5 = get f80 v4 [0]\n"
                                  "  v6 = fmul f80 v5 v0\n"
                                  "  ret f80 v6\n"
                                  "}\n"
                                  "func f1 host CC (f80, f80) -> f80 {\n"
                                  "  v2 = fadd f80 v0 v1\n"
                                  "  ret f80 v2\n"
                                  "}\n"
                                  "func f2 CC (f80, f64) -> t21 {\n"
                                  "  v2 = fconv f80 v1\n"
                                  "  v3 = fsub f80 v0 v2\n"
                                  "  v4 = const t21 00000000000000000000000000000000\n"
                                  "  v5 = set t21 v4 v3 [0]\n"
                                  "  ret t21 v5\n"
                                  "}\n"
                                  "entry f0\n"
                                  "input f80 0xc000c90fdaa22168c000\n"
                                  "input f64 0x4008000000000000\n";

/* Win64 by reference: a 12-byte and a 3-byte struct, __m128, and a by-reference argument
 * past the fourth slot (its pointer on the stack). */
static const char win64_ref[] = HDR "type t21 = struct { i32, i32, i32 }\n"
                                    "type t22 = struct { u8, u8, u8 }\n"
                                    "func f0 CC (t21, t22, m128, i32, t21) -> u64 {\n"
                                    "  v5 = call u64 f1 (v0, v1, v2, v3, v4, v2)\n"
                                    "  v6 = call t21 f2 (v4, v1, v5)\n"
                                    "  v7 = mix u64 0x5 (v5, v6)\n"
                                    "  ret u64 v7\n"
                                    "}\n"
                                    "func f1 host CC (t21, t22, m128, i32, t21, m128) -> u64 {\n"
                                    "  v6 = mix u64 0x6 (v0, v1, v2, v3, v4, v5)\n"
                                    "  ret u64 v6\n"
                                    "}\n"
                                    "func f2 CC (t21, t22, u64) -> t21 {\n"
                                    "  v3 = get u8 v1 [2]\n"
                                    "  v4 = zext i32 v3\n"
                                    "  v5 = set t21 v0 v4 [1]\n"
                                    "  ret t21 v5\n"
                                    "}\n"
                                    "entry f0\n"
                                    "input t21 010000000200000003000000\n"
                                    "input t22 0a0b0c\n"
                                    "input m128 0000803f000000400000404000008040\n"
                                    "input i32 99\n"
                                    "input t21 111111112222222233333333\n";

/* A variadic host function taking doubles through "...", and a variadic external callee. */
static const char variadic[] = HDR "type t21 = struct { i64, f64 }\n"
                                   "func f0 CC (f64, i32) -> f64 {\n"
                                   "  v2 = fconv f64 v0\n"
                                   "  v3 = call f64 f1 (v1, v0, v2, v1)\n"
                                   "  v4 = const t21 0100000000000000000000000000f03f\n"
                                   "  v5 = call u64 f2 (v1, v3, v4, v0)\n"
                                   "  v6 = itof f64 v5\n"
                                   "  v7 = fadd f64 v3 v6\n"
                                   "  ret f64 v7\n"
                                   "}\n"
                                   "func f1 host CC (i32, ..., f64, f64, i32) -> f64 {\n"
                                   "  v4 = fmul f64 v1 v2\n"
                                   "  v5 = itof f64 v3\n"
                                   "  v6 = fadd f64 v4 v5\n"
                                   "  ret f64 v6\n"
                                   "}\n"
                                   "func f2 CC (i32, ..., f64, t21, f64) -> u64 {\n"
                                   "  v4 = mix u64 0x7 (v0, v1, v2, v3)\n"
                                   "  ret u64 v4\n"
                                   "}\n"
                                   "entry f0\n"
                                   "input f64 0x3ff8000000000000\n"
                                   "input i32 3\n";

/* bool, char and short arguments and returns: SysV extends them (zeroext / signext, as clang
 * and af_abi's AF_EXT_TO_32), Win64 only bool. */
static const char narrow[] = HDR "func f0 CC (bool, i8, u16) -> i16 {\n"
                                 "  v3 = call i8 f1 (v0, v1, v2)\n"
                                 "  v4 = call bool f2 (v3, v2)\n"
                                 "  v5 = zext i16 v4\n"
                                 "  v6 = sext i16 v3\n"
                                 "  v7 = add i16 v5 v6\n"
                                 "  ret i16 v7\n"
                                 "}\n"
                                 "func f1 host CC (bool, i8, u16) -> i8 {\n"
                                 "  v3 = trunc i8 v2\n"
                                 "  v4 = zext i8 v0\n"
                                 "  v5 = add i8 v3 v1\n"
                                 "  v6 = add i8 v5 v4\n"
                                 "  ret i8 v6\n"
                                 "}\n"
                                 "func f2 CC (i8, u16) -> bool {\n"
                                 "  v2 = sext u16 v0\n"
                                 "  v3 = cmp bool lt v2 v1\n"
                                 "  ret bool v3\n"
                                 "}\n"
                                 "entry f0\n"
                                 "input bool 01\n"
                                 "input i8 -100\n"
                                 "input u16 65000\n";

static void hand_written(void) {
  af_error err = {{0}};
  af_backend *b = NULL;
  CHECKF(af_backend_open("llvm", &b, &err) == AF_OK, "open: %s", err.msg);
  if (!b) return;
  static const struct {
    const char *name, *text;
    int win64_only;
    const char *ir[2][6]; /* [cc]: what clang 19 would write (X86.cpp), see be_llvm_abi.c */
  } cases[] = {
      {"struct_ret",
       struct_ret,
       0,
       {{"define x86_64_sysvcc { double, float } @t_f2(double %0, i32 %1)",
         "call x86_64_sysvcc { double, i32 } inttoptr", "!sret"},
        {"call win64cc void inttoptr (i64", "(ptr sret([16 x i8]) align 8 %",
         "define win64cc void @t_f2(ptr sret([12 x i8]) align 4 %0, ptr %1)"}}},
      {"memory_arg",
       memory_arg,
       0,
       {{"define x86_64_sysvcc i64 @t_f2(ptr byval([40 x i8]) align 8 %0, i64 %1)"},
        {"define win64cc i64 @t_f2(ptr %0, i64 %1)", "!byval"}}},
      {"i128_arg",
       i128_arg,
       0,
       {{"define x86_64_sysvcc { i64, i64 } @t_f2(i64 %0, i64 %1, i64 %2, i64 %3, i64 %4, i128 %5)",
         "define x86_64_sysvcc { i64, i64 } @t_f0(i64 %0, i64 %1, i64 %2, i64 %3, i64 %4)"},
        {"define win64cc <2 x i64> @t_f2(i64 %0, i64 %1, i64 %2, i64 %3, i64 %4, ptr %5)",
         "define win64cc <2 x i64> @t_f0(ptr %0, ptr %1, i64 %2)"}}},
      {"f80_arg",
       f80_arg,
       0,
       {{"define x86_64_sysvcc x86_fp80 @t_f2(x86_fp80 %0, double %1)",
         "define x86_64_sysvcc x86_fp80 @t_f0(x86_fp80 %0, double %1)"},
        {"define win64cc x86_fp80 @t_f0(x86_fp80 %0, double %1)",
         "define win64cc void @t_f2(ptr sret([16 x i8]) align 16 %0, x86_fp80 %1, double %2)"}}},
      {"win64_ref",
       win64_ref,
       1,
       {{NULL}, {"define win64cc i64 @t_f0(ptr %0, ptr %1, <4 x float> %2, i32 %3, ptr %4)"}}},
      {"variadic",
       variadic,
       0,
       {{"define x86_64_sysvcc i64 @t_f2(i32 %0, ...)",
         "call x86_64_sysvcc double (i32, ...) inttoptr", "@llvm.va_start"},
        {"define win64cc i64 @t_f2(i32 %0, ...)", "call win64cc double (i32, ...) inttoptr",
         "@llvm.va_start"}}},
      {"narrow",
       narrow,
       0,
       {{"define x86_64_sysvcc signext i16 @t_f0(i1 zeroext %0, i8 signext %1, i16 zeroext %2)",
         "define x86_64_sysvcc zeroext i1 @t_f2(i8 signext %0, i16 zeroext %1)"},
        {"define win64cc i16 @t_f0(i1 zeroext %0, i8 %1, i16 %2)",
         "define win64cc zeroext i1 @t_f2(i8 %0, i16 %1)", "!signext"}}},
  };
  char msg[300];
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    for (int cc = cases[i].win64_only; cc < 2; cc++) {
      int rc = run_text(b, cases[i].name, cases[i].text, (af_cc)cc, -1, cases[i].ir[cc], msg,
                        sizeof msg);
      printf("  %-11s %-5s %s\n", cases[i].name, af_cc_name((af_cc)cc), msg);
      CHECKF(rc == 0, "%s %s: %s", cases[i].name, af_cc_name((af_cc)cc), msg);
    }
  /* The variadic host call, probed: SysV AL bounds the vector registers used (psABI 3.5.7:
   * two doubles -> at least 2, at most 8); Win64 doubles through "..." are in both the XMM
   * and the integer register of their slot (MS "Varargs"). */
  memset(llvm_probe_xmm, 0, sizeof llvm_probe_xmm);
  llvm_probe_rax = 0xff;
  int rc = run_text(b, "variadic", variadic, AF_CC_SYSV, 1, NULL, msg, sizeof msg);
  CHECKF(rc == 0, "probed sysv: %s", msg);
  CHECKF((llvm_probe_rax & 0xff) >= 2 && (llvm_probe_rax & 0xff) <= 8, "sysv varargs: AL = %llu",
         (unsigned long long)(llvm_probe_rax & 0xff));
  CHECKF(llvm_probe_xmm[0] == 0x3ff8000000000000ull, "sysv: xmm0 0x%llx",
         (unsigned long long)llvm_probe_xmm[0]);
  memset(llvm_probe_gpr, 0, sizeof llvm_probe_gpr);
  rc = run_text(b, "variadic", variadic, AF_CC_WIN64, 1, NULL, msg, sizeof msg);
  CHECKF(rc == 0, "probed win64: %s", msg);
  for (int s = 1; s <= 2; s++)
    CHECKF(llvm_probe_gpr[s] == llvm_probe_xmm[s] && llvm_probe_xmm[s] == 0x3ff8000000000000ull,
           "win64 vararg slot %d: gpr 0x%llx xmm 0x%llx", s, (unsigned long long)llvm_probe_gpr[s],
           (unsigned long long)llvm_probe_xmm[s]);
  af_backend_close(b);
}

/* The id of the first known divergence (gen/abi.c) clang 19 has on a signature of c, NULL if
 * none: there LLVM 19 may rightly disagree with af_classify (a finding the table knows). */
static const char *clang19_divergence(const af_case *c) {
  const char *why = NULL;
  for (int k = 0; k < c->nfuncs; k++)
    if (af_abi_deviates(c, &c->funcs[k].sig, AF_FAMILY_CLANG, 19, &why)) return why;
  return NULL;
}

/* Every case of corpus/seeds and corpus/regress (mutant reproducers: the JIT's bugs, which
 * the external code does not have). Cases on a known clang 19 divergence are counted apart;
 * `must_differ` names one that must mismatch (LLVM 19 doing what the table says). */
static void corpus(const char *dir, const char *must_differ) {
  char path[1024];
  snprintf(path, sizeof path, "%s/corpus/%s", AF_SOURCE_DIR, dir);
  DIR *d = opendir(path);
  CHECKF(d != NULL, "cannot open %s", path);
  if (!d) return;
  af_backend *b = NULL;
  af_error err = {{0}};
  CHECKF(af_backend_open("llvm", &b, &err) == AF_OK, "open: %s", err.msg);
  bt_stats st, known;
  memset(&st, 0, sizeof st);
  memset(&known, 0, sizeof known);
  int seen_must = 0;
  struct dirent *e;
  while (b && (e = readdir(d))) {
    size_t n = strlen(e->d_name);
    if (n < 6 || strcmp(e->d_name + n - 5, ".case")) continue;
    char file[1400];
    snprintf(file, sizeof file, "%s/%s", path, e->d_name);
    af_case c;
    if (af_parse_file(file, &c, &err) == AF_OK) {
      const char *why = clang19_divergence(&c);
      int rc = bt_run_case(b, &c, why ? &known : &st);
      if (rc >= 2)
        printf("  %s: %s%s\n", e->d_name, why ? "known divergence " : "", why ? why : "");
      if (must_differ && !strcmp(e->d_name, must_differ)) {
        seen_must = 1;
        CHECKF(rc == 2, "%s: LLVM 19 should differ from the model here (%s)", must_differ,
               why ? why : "no divergence matched");
      }
    }
    af_case_free(&c);
  }
  closedir(d);
  af_backend_close(b);
  char what[96];
  snprintf(what, sizeof what, "llvm corpus/%s", dir);
  bt_print(what, &st);
  snprintf(what, sizeof what, "llvm corpus/%s, known clang 19 divergences", dir);
  bt_print(what, &known);
  CHECK(st.cases > 0);
  CHECKF(st.fail == 0 && st.error == 0, "%s", st.first_fail);
  CHECKF(known.error == 0, "%s", known.first_fail);
  CHECKF(!must_differ || seen_must, "%s/%s not found", dir, must_differ);
}

/* `test_backend_llvm explore SEED N CC`: every generator switch on (divergent constructs too);
 * prints each mismatch with the divergence it hits, if any. For hunting, not run by ctest. */
static int explore(uint64_t seed, int n, int cc) {
  af_error err = {{0}};
  af_backend *b = NULL;
  if (af_backend_open("llvm", &b, &err) != AF_OK) return 1;
  af_gen_opts o;
  af_gen_opts_default(&o);
  o.cc = cc;
  o.allow_f16 = o.allow_m256 = o.allow_divergent = 1;
  bt_stats st, known;
  memset(&st, 0, sizeof st);
  memset(&known, 0, sizeof known);
  for (int i = 0; i < n; i++) {
    af_case c;
    if (af_gen_case(&o, seed, (uint64_t)i, &c, NULL, &err) != AF_OK) continue;
    const char *why = clang19_divergence(&c);
    bt_stats *into = why ? &known : &st;
    if (getenv("LLVM_EXPLORE_VERBOSE")) fprintf(stderr, "index %d\n", i);
    fflush(stdout);
    /* in a child: a divergence can make a host function use a garbage pointer */
    pid_t pid = fork();
    if (pid == 0) {
      bt_stats one;
      memset(&one, 0, sizeof one);
      int rc = bt_run_case(b, &c, &one);
      if (rc >= 2)
        printf("seed %llu index %d: %s [%s]\n", (unsigned long long)seed, i, one.first_fail,
               why ? why : "no known divergence");
      fflush(stdout);
      _exit(rc);
    }
    int ws = 0;
    waitpid(pid, &ws, 0);
    into->cases++;
    if (WIFEXITED(ws) && WEXITSTATUS(ws) == 0)
      into->pass++;
    else if (WIFEXITED(ws) && WEXITSTATUS(ws) == 1)
      bt_skip(into, "skipped");
    else if (WIFEXITED(ws) && WEXITSTATUS(ws) == 2)
      into->fail++;
    else {
      into->error++;
      printf("seed %llu index %d: %s [%s]\n", (unsigned long long)seed, i,
             WIFSIGNALED(ws) ? strsignal(WTERMSIG(ws)) : "error",
             why ? why : "no known divergence");
    }
    af_case_free(&c);
  }
  af_backend_close(b);
  bt_print("explore", &st);
  bt_print("explore, known clang 19 divergences", &known);
  return 0;
}

/* `test_backend_llvm dump SEED INDEX CC [c|ir]`: the explored case's text, its C in
 * external-code mode (what clang would compile: compare `clang-19 -S -emit-llvm`), or the
 * module this backend builds. */
static int dump(uint64_t seed, int index, int cc, const char *what) {
  af_error err = {{0}};
  af_gen_opts o;
  af_gen_opts_default(&o);
  o.cc = cc;
  o.allow_f16 = o.allow_m256 = o.allow_divergent = 1;
  af_case c;
  if (af_gen_case(&o, seed, (uint64_t)index, &c, NULL, &err) != AF_OK) return 1;
  if (!strcmp(what, "c")) {
    af_emit_opts eo;
    af_emit_opts_default(&eo);
    eo.emit_main = 0;
    eo.ext_code = 1;
    af_emit_c(&c, &eo, stdout, &err);
  } else if (!strcmp(what, "ir")) {
    af_backend *b = NULL;
    af_backend_code *code = NULL;
    const char *skip = NULL;
    if (af_backend_open("llvm", &b, &err) == AF_OK &&
        af_backend_compile(b, &c, &code, &skip, &err) == AF_OK) {
      char *ir = module_text(&c, code);
      printf("%s", ir ? ir : "");
      free(ir);
    }
    af_backend_code_free(code);
    af_backend_close(b);
  } else {
    af_print(&c, stdout);
  }
  af_case_free(&c);
  return 0;
}

/* `test_backend_llvm bench SEED N`: cases/s of compile (+ link + run) at ABIFUZZ_LLVM_OPT. */
static int bench(uint64_t seed, int n) {
  af_error err = {{0}};
  af_backend *b = NULL;
  if (af_backend_open("llvm", &b, &err) != AF_OK) return 1;
  af_gen_opts o;
  af_gen_opts_default(&o);
  struct timespec t0, t1;
  double tc = 0, tr = 0;
  int m = 0;
  for (int i = 0; i < n; i++) {
    af_case c;
    if (af_gen_case(&o, seed, (uint64_t)i, &c, NULL, &err) != AF_OK) continue;
    m++;
    af_backend_code *code = NULL;
    const char *skip = NULL;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    af_status s = af_backend_compile(b, &c, &code, &skip, &err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    tc += (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    if (s == AF_OK) {
      af_jit *jit = NULL;
      af_jit_result res;
      memset(&res, 0, sizeof res);
      if (af_backend_link(code, &c, NULL, &jit, &err) == AF_OK) af_jit_run(jit, NULL, &res, &err);
      af_jit_result_free(&res);
      af_jit_free(jit);
      af_backend_code_free(code);
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    tr += (double)(t0.tv_sec - t1.tv_sec) + 1e-9 * (double)(t0.tv_nsec - t1.tv_nsec);
    af_case_free(&c);
  }
  af_backend_close(b);
  printf("opt %s: %d cases, compile %.1f ms/case (%.0f cases/s), link+run %.2f ms/case\n",
         getenv("ABIFUZZ_LLVM_OPT") ? getenv("ABIFUZZ_LLVM_OPT") : "default", m, 1e3 * tc / m,
         m / tc, 1e3 * tr / m);
  return 0;
}

/* `test_backend_llvm case FILE`: one .case file through the backend (replaying a finding). */
static int one_case(const char *file) {
  af_error err = {{0}};
  af_case c;
  af_backend *b = NULL;
  if (af_parse_file(file, &c, &err) != AF_OK || af_backend_open("llvm", &b, &err) != AF_OK) {
    printf("%s: %s\n", file, err.msg);
    af_case_free(&c);
    return 1;
  }
  bt_stats st;
  memset(&st, 0, sizeof st);
  const char *why = clang19_divergence(&c);
  int rc = bt_run_case(b, &c, &st);
  bt_print(file, &st);
  printf("  known clang 19 divergence: %s\n", why ? why : "none");
  af_backend_close(b);
  af_case_free(&c);
  return rc;
}

int main(int argc, char **argv) {
  if (argc > 2 && !strcmp(argv[1], "case")) return one_case(argv[2]);
  if (argc > 3 && !strcmp(argv[1], "bench"))
    return bench(strtoull(argv[2], NULL, 0), atoi(argv[3]));
  if (argc > 4 && !strcmp(argv[1], "dump"))
    return dump(strtoull(argv[2], NULL, 0), atoi(argv[3]), atoi(argv[4]), argc > 5 ? argv[5] : "");
  if (argc > 4 && !strcmp(argv[1], "explore"))
    return explore(strtoull(argv[2], NULL, 0), atoi(argv[3]), atoi(argv[4]));
  uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0) : 1;
  int n = argc > 2 ? atoi(argv[2]) : 150;
  hand_written();
  corpus("seeds", NULL);
  /* llvm #123935: clang/LLVM 18-19 leave R9 unused after an __int128 that went to the stack
   * (gen/abi.c "sysv-i128-last-gpr"): the next integer argument goes to the stack too. */
  corpus("regress", "sysv-i128-no-r9-backfill.case");
  for (int cc = 0; cc < 2; cc++) {
    int opened = 0;
    bt_stats st = bt_run_gen("llvm", cc, seed, n, 0, &opened);
    bt_print(cc ? "llvm win64" : "llvm sysv", &st);
    CHECKF(opened, "%s", st.first_fail);
    CHECKF(st.fail == 0 && st.error == 0, "%s", st.first_fail);
    CHECK(st.pass > n / 2); /* skips are the exception */
    /* at -O0 (FastISel's call lowering, no SROA) with _Float16 and __m256 (+avx) */
    const char *was = getenv("ABIFUZZ_LLVM_OPT");
    char keep[8];
    snprintf(keep, sizeof keep, "%s", was ? was : "");
    setenv("ABIFUZZ_LLVM_OPT", "0", 1);
    st = run_opts(cc, seed + 1, n, 1, 1);
    if (was)
      setenv("ABIFUZZ_LLVM_OPT", keep, 1);
    else
      unsetenv("ABIFUZZ_LLVM_OPT");
    bt_print(cc ? "llvm win64 f16 m256 -O0" : "llvm sysv f16 m256 -O0", &st);
    CHECKF(st.fail == 0 && st.error == 0, "%s", st.first_fail);
  }
  return check_done();
}
