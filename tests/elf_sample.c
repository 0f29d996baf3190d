/* elf_sample.c - compiled by test_elf_load with each compiler and flag set, then loaded by
 * backend/elf_load.c: every kind of section, symbol and relocation a compiler emits. */
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

/* Resolved by the test's resolver. */
extern long ext_mul(long a, long b);
extern unsigned char *af_objects[16]; /* in the low 2 GiB, like imports.c's table */
extern int ext_counter;

static int counter = 7;                                     /* .data, local */
int gtable[8] = {3, 1, 4, 1, 5, 9, 2, 6};                   /* .data, global */
const long rotab[8] = {11, 13, 17, 19, 23, 29, 31, 37};     /* .rodata */
static const char *const names[3] = {"zero", "one", "two"}; /* pointers to .rodata.str */
int bss_arr[64];                                            /* .bss */
static double dbss[16];                                     /* .bss, local */
#if defined(__GNUC__) && !defined(__clang__)
int common_var __attribute__((common)); /* SHN_COMMON */
#else
int common_var;
#endif
char page_aligned[64] __attribute__((aligned(4096))) = {1}; /* sh_addralign 4096 */

static long op_add(long a, long b) { return a + b; }
static long op_sub(long a, long b) { return a - b; }
long op_xor(long a, long b) { return a ^ b; }
long (*ops[3])(long, long) = {op_add, op_sub, op_xor};          /* R_X86_64_64 in .data */
long (*const ops_ro[3])(long, long) = {op_sub, op_xor, op_add}; /* .data.rel.ro / .rodata */

long s_apply(int i, long a, long b) { return ops[i % 3](a, b) * 3 + ops_ro[i % 3](a, b); }
int s_counter(void) { return counter++ * 100 + ext_counter; }
long s_table(int i) { return gtable[i & 7] * rotab[(i * 3) & 7]; }
const char *s_name(int i) { return names[i % 3]; }
long s_ext(long a, long b) { return ext_mul(a, b) + 1; }
long s_objects(int i) { return (long)(af_objects[i & 15] - af_objects[0]); }
size_t s_mem(char *d, const char *s, size_t n) {
  memset(d, '#', 32);
  memcpy(d, s, n);
  d[31] = 0;
  return strlen(d);
}
int s_bss(int i, int v) {
  bss_arr[i & 63] += v;
  common_var += v;
  return bss_arr[i & 63] * 1000 + common_var;
}
double s_dbss(int i, double v) { return dbss[i & 15] += v; }
long s_fib(int n) { return n < 2 ? n : s_fib(n - 1) + s_fib(n - 2); }
long s_page(int i) { return page_aligned[i & 63] + (long)((size_t)page_aligned & 4095); }
double s_va(int n, ...) {
  va_list ap;
  va_start(ap, n);
  double s = 0;
  for (int i = 0; i < n; i++) {
    double d = va_arg(ap, double);
    s = s * 2 + d * va_arg(ap, int);
  }
  va_end(ap);
  return s;
}
unsigned long long s_d2u(double x) { return (unsigned long long)x; }
double s_u2d(unsigned long long x) { return (double)x; }
long double s_ld(long double a, unsigned long long b) { return a * b; }

#ifdef __SIZEOF_INT128__
__int128 s_div128(__int128 a, __int128 b) { return a / b; }
unsigned __int128 s_umod128(unsigned __int128 a, unsigned __int128 b) { return a % b; }
double s_i128tod(__int128 a) { return (double)a; }
__int128 s_dtoi128(double d) { return (__int128)d; }
long double s_u128told(unsigned __int128 a) { return (long double)a; }
#endif
#ifdef __FLT16_MAX__
float s_f16(float x) {
  _Float16 h = (_Float16)x;
  return (float)(h * h);
}
double s_f16d(double x) { return (double)(_Float16)x; }
#ifdef __SIZEOF_INT128__
_Float16 s_i128tof16(__int128 a) { return (_Float16)a; }
#endif
#endif
