/* runtime_syms.c - compiler runtime routines compiled code calls that libc does not export. */
#include <stdint.h>
#include <string.h>

#include "elf_load.h"

/* Code from gcc, clang and tcc calls helper routines for what the ISA has no instruction for:
 * 128-bit division, float <-> __int128, _Float16 without AVX512-FP16, complex multiply and
 * divide (Annex G), __builtin_powi, -ftrapv arithmetic, gcc's -mcall-ms2sysv-xlogues
 * save/restore stubs, and tcc's libtcc1 (va_arg, unsigned 64-bit conversions). A linked
 * program gets them from libgcc.a / libtcc1.a; those are static archives, so dlsym cannot
 * find them: this table names each one, which also makes the linker pull it into abifuzz.
 * Found by compiling oracle/emit_c.c's operations (and ext_code batches of generated cases)
 * with each compiler and listing `nm -u`: gcc 12 and clang-19 call __fix*ti / __float*ti*
 * for __int128 <-> floating point, __divti3 / __udivti3 / __modti3 / __umodti3 for 128-bit
 * division, __extendhf?f2 / __trunc?fhf2 / __float*tihf / __fix*hfti for _Float16 without
 * AVX512-FP16 (clang-14 has no _Float16), __{mul,div}{s,d,x}c3 for complex * and /, and
 * __powi?f2; clang -O0 also memcpy / memset (libc). tcc 0.9.27 calls __fixuns?fdi,
 * __floatundi?f and __va_arg; gcc -mcall-ms2sysv-xlogues the __{sse,avx}_{sav,res}ms64*
 * stubs. __multi3 exists, but neither compiler calls it on x86-64.
 * The declarations' types do not matter: only the addresses are taken (through asm labels,
 * so that the complex helpers gcc declares as builtins are not redeclared). */

#define RT_LIBGCC(X)                                                                               \
  X(__absvdi2)                                                                                     \
  X(__absvsi2)                                                                                     \
  X(__absvti2)                                                                                     \
  X(__addtf3)                                                                                      \
  X(__addvdi3)                                                                                     \
  X(__addvsi3)                                                                                     \
  X(__addvti3)                                                                                     \
  X(__ashlti3)                                                                                     \
  X(__ashrti3)                                                                                     \
  X(__avx_resms64_12)                                                                              \
  X(__avx_resms64_13)                                                                              \
  X(__avx_resms64_14)                                                                              \
  X(__avx_resms64_15)                                                                              \
  X(__avx_resms64_16)                                                                              \
  X(__avx_resms64_17)                                                                              \
  X(__avx_resms64_18)                                                                              \
  X(__avx_resms64f_12)                                                                             \
  X(__avx_resms64f_13)                                                                             \
  X(__avx_resms64f_14)                                                                             \
  X(__avx_resms64f_15)                                                                             \
  X(__avx_resms64f_16)                                                                             \
  X(__avx_resms64f_17)                                                                             \
  X(__avx_resms64fx_12)                                                                            \
  X(__avx_resms64fx_13)                                                                            \
  X(__avx_resms64fx_14)                                                                            \
  X(__avx_resms64fx_15)                                                                            \
  X(__avx_resms64fx_16)                                                                            \
  X(__avx_resms64fx_17)                                                                            \
  X(__avx_resms64x_12)                                                                             \
  X(__avx_resms64x_13)                                                                             \
  X(__avx_resms64x_14)                                                                             \
  X(__avx_resms64x_15)                                                                             \
  X(__avx_resms64x_16)                                                                             \
  X(__avx_resms64x_17)                                                                             \
  X(__avx_resms64x_18)                                                                             \
  X(__avx_savms64_12)                                                                              \
  X(__avx_savms64_13)                                                                              \
  X(__avx_savms64_14)                                                                              \
  X(__avx_savms64_15)                                                                              \
  X(__avx_savms64_16)                                                                              \
  X(__avx_savms64_17)                                                                              \
  X(__avx_savms64_18)                                                                              \
  X(__avx_savms64f_12)                                                                             \
  X(__avx_savms64f_13)                                                                             \
  X(__avx_savms64f_14)                                                                             \
  X(__avx_savms64f_15)                                                                             \
  X(__avx_savms64f_16)                                                                             \
  X(__avx_savms64f_17)                                                                             \
  X(__bswapdi2)                                                                                    \
  X(__bswapsi2)                                                                                    \
  X(__clrsbdi2)                                                                                    \
  X(__clrsbti2)                                                                                    \
  X(__clzdi2)                                                                                      \
  X(__clzti2)                                                                                      \
  X(__cmpti2)                                                                                      \
  X(__ctzdi2)                                                                                      \
  X(__ctzti2)                                                                                      \
  X(__divdc3)                                                                                      \
  X(__divhc3)                                                                                      \
  X(__divmodti4)                                                                                   \
  X(__divsc3)                                                                                      \
  X(__divtc3)                                                                                      \
  X(__divtf3)                                                                                      \
  X(__divti3)                                                                                      \
  X(__divxc3)                                                                                      \
  X(__eqhf2)                                                                                       \
  X(__eqtf2)                                                                                       \
  X(__extenddftf2)                                                                                 \
  X(__extendhfdf2)                                                                                 \
  X(__extendhfsf2)                                                                                 \
  X(__extendhftf2)                                                                                 \
  X(__extendhfxf2)                                                                                 \
  X(__extendsftf2)                                                                                 \
  X(__extendxftf2)                                                                                 \
  X(__ffsdi2)                                                                                      \
  X(__ffsti2)                                                                                      \
  X(__fixdfti)                                                                                     \
  X(__fixhfti)                                                                                     \
  X(__fixsfti)                                                                                     \
  X(__fixtfdi)                                                                                     \
  X(__fixtfsi)                                                                                     \
  X(__fixtfti)                                                                                     \
  X(__fixunsdfdi)                                                                                  \
  X(__fixunsdfti)                                                                                  \
  X(__fixunshfti)                                                                                  \
  X(__fixunssfdi)                                                                                  \
  X(__fixunssfti)                                                                                  \
  X(__fixunstfdi)                                                                                  \
  X(__fixunstfsi)                                                                                  \
  X(__fixunstfti)                                                                                  \
  X(__fixunsxfdi)                                                                                  \
  X(__fixunsxfti)                                                                                  \
  X(__fixxfti)                                                                                     \
  X(__floatditf)                                                                                   \
  X(__floatsitf)                                                                                   \
  X(__floattidf)                                                                                   \
  X(__floattihf)                                                                                   \
  X(__floattisf)                                                                                   \
  X(__floattitf)                                                                                   \
  X(__floattixf)                                                                                   \
  X(__floatunditf)                                                                                 \
  X(__floatunsitf)                                                                                 \
  X(__floatuntidf)                                                                                 \
  X(__floatuntihf)                                                                                 \
  X(__floatuntisf)                                                                                 \
  X(__floatuntitf)                                                                                 \
  X(__floatuntixf)                                                                                 \
  X(__getf2)                                                                                       \
  X(__gttf2)                                                                                       \
  X(__letf2)                                                                                       \
  X(__lshrti3)                                                                                     \
  X(__lttf2)                                                                                       \
  X(__modti3)                                                                                      \
  X(__muldc3)                                                                                      \
  X(__mulhc3)                                                                                      \
  X(__mulsc3)                                                                                      \
  X(__multc3)                                                                                      \
  X(__multf3)                                                                                      \
  X(__multi3)                                                                                      \
  X(__mulvdi3)                                                                                     \
  X(__mulvsi3)                                                                                     \
  X(__mulvti3)                                                                                     \
  X(__mulxc3)                                                                                      \
  X(__negtf2)                                                                                      \
  X(__negti2)                                                                                      \
  X(__negvdi2)                                                                                     \
  X(__negvsi2)                                                                                     \
  X(__negvti2)                                                                                     \
  X(__nehf2)                                                                                       \
  X(__netf2)                                                                                       \
  X(__paritydi2)                                                                                   \
  X(__parityti2)                                                                                   \
  X(__popcountdi2)                                                                                 \
  X(__popcountti2)                                                                                 \
  X(__powidf2)                                                                                     \
  X(__powisf2)                                                                                     \
  X(__powitf2)                                                                                     \
  X(__powixf2)                                                                                     \
  X(__sse_resms64_12)                                                                              \
  X(__sse_resms64_13)                                                                              \
  X(__sse_resms64_14)                                                                              \
  X(__sse_resms64_15)                                                                              \
  X(__sse_resms64_16)                                                                              \
  X(__sse_resms64_17)                                                                              \
  X(__sse_resms64_18)                                                                              \
  X(__sse_resms64f_12)                                                                             \
  X(__sse_resms64f_13)                                                                             \
  X(__sse_resms64f_14)                                                                             \
  X(__sse_resms64f_15)                                                                             \
  X(__sse_resms64f_16)                                                                             \
  X(__sse_resms64f_17)                                                                             \
  X(__sse_resms64fx_12)                                                                            \
  X(__sse_resms64fx_13)                                                                            \
  X(__sse_resms64fx_14)                                                                            \
  X(__sse_resms64fx_15)                                                                            \
  X(__sse_resms64fx_16)                                                                            \
  X(__sse_resms64fx_17)                                                                            \
  X(__sse_resms64x_12)                                                                             \
  X(__sse_resms64x_13)                                                                             \
  X(__sse_resms64x_14)                                                                             \
  X(__sse_resms64x_15)                                                                             \
  X(__sse_resms64x_16)                                                                             \
  X(__sse_resms64x_17)                                                                             \
  X(__sse_resms64x_18)                                                                             \
  X(__sse_savms64_12)                                                                              \
  X(__sse_savms64_13)                                                                              \
  X(__sse_savms64_14)                                                                              \
  X(__sse_savms64_15)                                                                              \
  X(__sse_savms64_16)                                                                              \
  X(__sse_savms64_17)                                                                              \
  X(__sse_savms64_18)                                                                              \
  X(__sse_savms64f_12)                                                                             \
  X(__sse_savms64f_13)                                                                             \
  X(__sse_savms64f_14)                                                                             \
  X(__sse_savms64f_15)                                                                             \
  X(__sse_savms64f_16)                                                                             \
  X(__sse_savms64f_17)                                                                             \
  X(__subtf3)                                                                                      \
  X(__subvdi3)                                                                                     \
  X(__subvsi3)                                                                                     \
  X(__subvti3)                                                                                     \
  X(__truncdfhf2)                                                                                  \
  X(__truncsfhf2)                                                                                  \
  X(__trunctfdf2)                                                                                  \
  X(__trunctfhf2)                                                                                  \
  X(__trunctfsf2)                                                                                  \
  X(__trunctfxf2)                                                                                  \
  X(__truncxfhf2)                                                                                  \
  X(__ucmpti2)                                                                                     \
  X(__udivmodti4)                                                                                  \
  X(__udivti3)                                                                                     \
  X(__umodti3)                                                                                     \
  X(__unordtf2)

#ifdef AF_HAVE_LIBTCC1
#define RT_LIBTCC1(X)                                                                              \
  X(__fixdfdi)                                                                                     \
  X(__fixsfdi)                                                                                     \
  X(__fixxfdi)                                                                                     \
  X(__floatundidf)                                                                                 \
  X(__floatundisf)                                                                                 \
  X(__floatundixf)                                                                                 \
  X(__va_arg)
#else
#define RT_LIBTCC1(X)
#endif

#define RT_DECL(n) extern void rt_##n(void) __asm__(#n);
RT_LIBGCC(RT_DECL)
RT_LIBTCC1(RT_DECL)

typedef struct {
  const char *name;
  void (*fn)(void);
} rt_sym;

#define RT_ROW(n) {#n, rt_##n},
/* Each list is sorted by name (strcmp order): the lookup is a binary search in each. */
static const rt_sym rt_libgcc[] = {RT_LIBGCC(RT_ROW)};
#define RT_NGCC (sizeof rt_libgcc / sizeof rt_libgcc[0])
#ifdef AF_HAVE_LIBTCC1
static const rt_sym rt_libtcc1[] = {RT_LIBTCC1(RT_ROW)};
#define RT_NTCC (sizeof rt_libtcc1 / sizeof rt_libtcc1[0])
#endif

static const rt_sym *find(const rt_sym *t, size_t n, const char *name) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = strcmp(name, t[mid].name);
    if (!c) return &t[mid];
    if (c < 0)
      hi = mid;
    else
      lo = mid + 1;
  }
  return NULL;
}

const void *be_runtime_sym(const char *name) {
  if (!name || name[0] != '_' || name[1] != '_') return NULL; /* all are reserved names */
  const rt_sym *s = find(rt_libgcc, RT_NGCC, name);
#ifdef AF_HAVE_LIBTCC1
  if (!s) s = find(rt_libtcc1, RT_NTCC, name);
#endif
  return s ? (const void *)(uintptr_t)s->fn : NULL;
}

int be_runtime_sym_count(void) {
#ifdef AF_HAVE_LIBTCC1
  return (int)(RT_NGCC + RT_NTCC);
#else
  return (int)RT_NGCC;
#endif
}

const char *be_runtime_sym_name(int i) {
  if (i < 0 || i >= be_runtime_sym_count()) return NULL;
#ifdef AF_HAVE_LIBTCC1
  if ((size_t)i >= RT_NGCC) return rt_libtcc1[(size_t)i - RT_NGCC].name;
#endif
  return rt_libgcc[i].name;
}
