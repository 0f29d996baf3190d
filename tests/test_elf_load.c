/* test_elf_load.c - the ELF object loader (backend/elf_load.c) on objects from gcc, clang-14,
 * clang-19 and tcc at every optimisation level and code model; malformed objects; the
 * runtime symbol table; the import stubs (backend/imports.c). */
#define _GNU_SOURCE
#include <elf.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backend_internal.h"
#include "check.h"
#include "elf_load.h"

static char tmpdir[64];

/* ---- helpers ------------------------------------------------------------------------------ */
static int have_prog(const char *p) {
  char cmd[256];
  snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", p);
  return system(cmd) == 0;
}

static int compile(const char *cc, const char *flags, const char *src, const char *obj) {
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "%s %s -c '%s' -o '%s' 2>'%s/cc.log'", cc, flags, src, obj, tmpdir);
  return system(cmd) == 0;
}

static uint8_t *read_all(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long sz = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *b = malloc(sz > 0 ? (size_t)sz : 1);
  *n = b ? fread(b, 1, (size_t)sz, f) : 0;
  fclose(f);
  return b;
}

static uint8_t *compile_read(const char *cc, const char *flags, const char *src, size_t *n) {
  char obj[128];
  snprintf(obj, sizeof obj, "%s/o.o", tmpdir);
  unlink(obj);
  if (!compile(cc, flags, src, obj)) return NULL;
  return read_all(obj, n);
}

static const char *write_src(const char *name, const char *text) {
  static char path[8][128];
  static int k;
  char *p = path[k++ % 8];
  snprintf(p, 128, "%s/%s", tmpdir, name);
  FILE *f = fopen(p, "w");
  fputs(text, f);
  fclose(f);
  return p;
}

/* The protection of the page holding p, from /proc/self/maps ("r-xp"), or "".  */
static void page_prot(const void *p, char out[5]) {
  strcpy(out, "");
  FILE *f = fopen("/proc/self/maps", "r");
  if (!f) return;
  char line[512];
  while (fgets(line, sizeof line, f)) {
    unsigned long lo, hi;
    char perm[5];
    if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perm) == 3 && (uintptr_t)p >= lo &&
        (uintptr_t)p < hi) {
      memcpy(out, perm, 5);
      break;
    }
  }
  fclose(f);
}

/* ---- the sample's environment: what the resolver hands out ------------------------------- */
typedef struct {
  unsigned char **objects; /* low, like imports.c's */
  int calls;               /* resolver calls */
} env;

static long ext_mul(long a, long b) { return a * b; }
/* Imported data lives in the low 2 GiB next to the object table, as imports.c's table does: an
 * object's PC32 / 32S references to it must reach from wherever the image goes. */
#define EXT_COUNTER(v) (*(int *)((v)->objects + 32))

static const void *resolve(void *u, const char *name) {
  env *v = u;
  v->calls++;
  if (!strcmp(name, "ext_mul")) return (const void *)ext_mul;
  if (!strcmp(name, "af_objects")) return v->objects;
  if (!strcmp(name, "ext_counter")) return &EXT_COUNTER(v);
  return NULL;
}

/* Native copies of the sample's logic, for the expected values. */
static long n_add(long a, long b) { return a + b; }
static long n_sub(long a, long b) { return a - b; }
static long n_xor(long a, long b) { return a ^ b; }
static long n_fib(int n) { return n < 2 ? n : n_fib(n - 1) + n_fib(n - 2); }
static double n_va(int n, ...) {
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

#define SYM(T, name) __typeof__(T) name = (__typeof__(T))(uintptr_t)be_elf_sym(e, #name, NULL)

/* Loads one compiled sample and runs every function in it. family: "gcc", "clang", "tcc". */
static void run_sample(const char *what, const char *family, int modern, const uint8_t *obj,
                       size_t n, env *v) {
  af_error err = {{0}};
  be_elf *e = NULL;
  EXT_COUNTER(v) = 42;
  af_status s = be_elf_load(obj, n, resolve, v, &e, &err);
  CHECKF(s == AF_OK, "%s: %s", what, err.msg);
  if (s != AF_OK) return;
  int fails = check_failed;
  static long (*const nops[3])(long, long) = {n_add, n_sub, n_xor};
  static long (*const nops_ro[3])(long, long) = {n_sub, n_xor, n_add};
  static const int gt[8] = {3, 1, 4, 1, 5, 9, 2, 6};
  static const long rt[8] = {11, 13, 17, 19, 23, 29, 31, 37};

  SYM(long (*)(int, long, long), s_apply);
  SYM(int (*)(void), s_counter);
  SYM(long (*)(int), s_table);
  SYM(const char *(*)(int), s_name);
  SYM(long (*)(long, long), s_ext);
  SYM(long (*)(int), s_objects);
  SYM(size_t(*)(char *, const char *, size_t), s_mem);
  SYM(int (*)(int, int), s_bss);
  SYM(double (*)(int, double), s_dbss);
  SYM(long (*)(int), s_fib);
  SYM(long (*)(int), s_page);
  SYM(double (*)(int, ...), s_va);
  SYM(unsigned long long (*)(double), s_d2u);
  SYM(double (*)(unsigned long long), s_u2d);
  SYM(long double (*)(long double, unsigned long long), s_ld);
  CHECKF(s_apply && s_counter && s_table && s_name && s_ext && s_objects && s_mem && s_bss &&
             s_dbss && s_fib && s_page && s_va && s_d2u && s_u2d && s_ld,
         "%s: a function is missing", what);
  if (check_failed != fails) goto out;

  for (int i = 0; i < 6; i++)
    CHECKF(s_apply(i, 1000 + i, 77) == nops[i % 3](1000 + i, 77) * 3 + nops_ro[i % 3](1000 + i, 77),
           "%s: s_apply(%d)", what, i);
  CHECKF(s_counter() == 742 && s_counter() == 842, "%s: s_counter", what);
  for (int i = 0; i < 8; i++)
    CHECKF(s_table(i) == gt[i] * rt[(i * 3) & 7], "%s: s_table(%d)", what, i);
  CHECKF(!strcmp(s_name(4), "one") && !strcmp(s_name(2), "two"), "%s: s_name", what);
  CHECKF(s_ext(123456, 789) == 123456L * 789 + 1, "%s: s_ext", what);
  for (int i = 0; i < 16; i++)
    v->objects[i] = (unsigned char *)(uintptr_t)(0x10000 + 0x100 * i);
  CHECKF(s_objects(5) == 0x500 && s_objects(15) == 0xf00, "%s: s_objects", what);
  char buf[64];
  CHECKF(s_mem(buf, "hello", 6) == 5 && !strcmp(buf, "hello"), "%s: s_mem", what);
  CHECKF(s_mem(buf, "abc", 3) == 31 && buf[3] == '#', "%s: s_mem 2", what);
  int b1 = s_bss(3, 5), b2 = s_bss(3, 2), b3 = s_bss(4, 1);
  CHECKF(b1 == 5005 && b2 == 7007 && b3 == 1008, "%s: s_bss %d %d %d", what, b1, b2, b3);
  CHECKF(s_dbss(2, 1.5) == 1.5 && s_dbss(2, 1.5) == 3.0 && s_dbss(3, 0.25) == 0.25, "%s: s_dbss",
         what);
  CHECKF(s_fib(20) == n_fib(20), "%s: s_fib", what);
  /* tcc 0.9.27 ignores aligned(4096) on a global. */
  CHECKF((s_page(0) == 1 && s_page(1) == 0) || !strcmp(family, "tcc"),
         "%s: s_page (4096-aligned data)", what);
  double va = s_va(9, 1.5, 2, 2.5, 3, -1.0, 7, 0.5, 1, 2.0, 2, 3.0, 3, 4.0, 4, 5.0, 5, 6.0, 6);
  CHECKF(va == n_va(9, 1.5, 2, 2.5, 3, -1.0, 7, 0.5, 1, 2.0, 2, 3.0, 3, 4.0, 4, 5.0, 5, 6.0, 6),
         "%s: s_va %g", what, va);
  volatile double big = 1.8e19;
  CHECKF(s_d2u(big) == (unsigned long long)big, "%s: s_d2u", what);
  volatile unsigned long long ub = ~0ull - 12345;
  CHECKF(s_u2d(ub) == (double)ub, "%s: s_u2d", what);
  volatile long double la = 1.25L;
  CHECKF(s_ld(la, 1ull << 62) == la * (1ull << 62), "%s: s_ld", what);

  /* 128-bit arithmetic and _Float16: the runtime table (libgcc). */
  const void *div128 = be_elf_sym(e, "s_div128", NULL);
  CHECKF(div128 || !strcmp(family, "tcc"), "%s: no __int128 functions", what);
#ifdef __SIZEOF_INT128__
  if (div128) {
    SYM(__int128 (*)(__int128, __int128), s_div128);
    SYM(unsigned __int128 (*)(unsigned __int128, unsigned __int128), s_umod128);
    SYM(double (*)(__int128), s_i128tod);
    SYM(__int128 (*)(double), s_dtoi128);
    SYM(long double (*)(unsigned __int128), s_u128told);
    volatile __int128 a = ((__int128)1 << 100) + 12345, bq = -7;
    volatile unsigned __int128 ua = ~(unsigned __int128)0 - 999,
                               ub2 = ((unsigned __int128)1 << 70) + 3;
    CHECKF(s_div128(a, bq) == a / bq, "%s: s_div128", what);
    CHECKF(s_umod128(ua, ub2) == ua % ub2, "%s: s_umod128", what);
    CHECKF(s_i128tod(-a) == (double)-a, "%s: s_i128tod", what);
    volatile double d = -1.5e30;
    CHECKF(s_dtoi128(d) == (__int128)d, "%s: s_dtoi128", what);
    CHECKF(s_u128told(ua) == (long double)ua, "%s: s_u128told", what);
  }
#endif
  const void *f16 = be_elf_sym(e, "s_f16", NULL);
  CHECKF(f16 || !modern, "%s: no _Float16 functions", what);
#ifdef __FLT16_MAX__
  if (f16) {
    SYM(float (*)(float), s_f16);
    SYM(double (*)(double), s_f16d);
    volatile double tenth = 0.1;
    CHECKF(s_f16(1.5f) == 2.25f && s_f16(-3.0f) == 9.0f, "%s: s_f16", what);
    CHECKF(s_f16d(tenth) == (double)(_Float16)tenth, "%s: s_f16d", what);
#ifdef __SIZEOF_INT128__
    SYM(_Float16 (*)(__int128), s_i128tof16);
    if (s_i128tof16)
      CHECKF(s_i128tof16((__int128)1 << 15) == (_Float16)32768.0f, "%s: s_i128tof16", what);
#endif
  }
#endif

  /* Symbols: sizes, the text range, the protections. */
  size_t sz = 0;
  CHECKF(be_elf_sym(e, "gtable", &sz) && sz == sizeof gt, "%s: gtable size %zu", what, sz);
  CHECKF(be_elf_sym(e, "rotab", &sz) && sz == sizeof rt, "%s: rotab size %zu", what, sz);
  CHECKF(be_elf_sym(e, "s_fib", &sz) && sz > 0, "%s: s_fib size %zu", what, sz);
  CHECKF(be_elf_sym(e, "counter", NULL) != NULL, "%s: a local symbol", what);
  CHECK(be_elf_sym(e, "ext_mul", NULL) == NULL); /* undefined: not the object's */
  CHECK(be_elf_sym(e, "no_such_symbol", NULL) == NULL);
  const void *lo;
  size_t len;
  be_elf_text_range(e, &lo, &len);
  const uint8_t *fib = (const uint8_t *)s_fib;
  CHECKF(lo && fib >= (const uint8_t *)lo && fib < (const uint8_t *)lo + len, "%s: text range",
         what);
  char pt[5], pr[5], pd[5], pf[5];
  page_prot(be_elf_sym(e, "ops_ro", NULL), pf); /* .data.rel.ro with -fPIC: read-only too */
  CHECKF(!strcmp(pf, "r--p") || !strcmp(family, "tcc"), "%s: ops_ro is %s", what, pf);
  page_prot((const void *)s_fib, pt);
  page_prot(be_elf_sym(e, "rotab", NULL), pr);
  page_prot(be_elf_sym(e, "gtable", NULL), pd);
  /* tcc 0.9.27 puts const data in .data: writable. */
  CHECKF(!strcmp(pt, "r-xp") && (!strcmp(pr, "r--p") || !strcmp(family, "tcc")) &&
             !strcmp(pd, "rw-p"),
         "%s: protections text %s rodata %s data %s", what, pt, pr, pd);
out:
  be_elf_free(e);
}

/* ---- every compiler and flag set ---------------------------------------------------------- */
static uint8_t *keep_obj; /* one valid object for the malformed-input part */
static size_t keep_n;

static void compilers(env *v) {
  const char *src = AF_SOURCE_DIR "/tests/elf_sample.c";
  static const char *const pic[] = {"-fPIC", "-fno-pic", "-fpie"};
  static const char *const extra[] = {"-O2 -mcmodel=large",          "-O1 -mcmodel=large -fPIC",
                                      "-O2 -mcmodel=medium",         "-O0 -mcmodel=medium -fPIC",
                                      "-O2 -fno-plt -fPIC",          "-O1 -fcommon -fno-pie",
                                      "-O0 -mcmodel=large -fPIC -g", "-O1 -g -fno-pic"};
  struct {
    const char *cc, *family;
    int modern; /* has _Float16 */
  } ccs[] = {{"gcc", "gcc", 1}, {"clang-14", "clang", 0}, {"clang-19", "clang", 1}};
  int loads = 0;
  for (size_t c = 0; c < sizeof ccs / sizeof ccs[0]; c++) {
    if (!have_prog(ccs[c].cc)) {
      printf("%s: absent, skipped\n", ccs[c].cc);
      continue;
    }
    for (int o = 0; o <= 3 + (int)(sizeof extra / sizeof extra[0]); o++)
      for (int p = 0; p < 3; p++) {
        char flags[128], what[192];
        if (o <= 3)
          snprintf(flags, sizeof flags, "-O%d %s%s", o, pic[p],
                   o & 1 ? " -ffunction-sections -fdata-sections" : "");
        else if (p == 0)
          snprintf(flags, sizeof flags, "%s", extra[o - 4]);
        else
          continue;
        snprintf(what, sizeof what, "%s %s", ccs[c].cc, flags);
        size_t n = 0;
        uint8_t *obj = compile_read(ccs[c].cc, flags, src, &n);
        CHECKF(obj != NULL, "%s: does not compile", what);
        if (!obj) continue;
        run_sample(what, ccs[c].family, ccs[c].modern, obj, n, v);
        loads++;
        if (!keep_obj && o == 2 && p == 0) {
          keep_obj = obj;
          keep_n = n;
        } else {
          free(obj);
        }
      }
  }
  if (have_prog("tcc")) {
    size_t n = 0;
    uint8_t *obj = compile_read("tcc", "", src, &n);
    CHECKF(obj != NULL, "tcc: does not compile");
    if (obj) run_sample("tcc", "tcc", 0, obj, n, v), loads++;
    free(obj);
  } else {
    printf("tcc: absent, skipped\n");
  }
  printf("sample loaded and run from %d objects\n", loads);
  CHECK(loads > 0);
}

/* ---- rejected objects ------------------------------------------------------------------- */
static void expect_error(const char *what, const uint8_t *obj, size_t n, env *v,
                         const char *needle) {
  af_error err = {{0}};
  be_elf *e = NULL;
  af_status s = be_elf_load(obj, n, resolve, v, &e, &err);
  CHECKF(s == AF_ERR_INVALID && e == NULL && strstr(err.msg, needle) && !strchr(err.msg, '\n'),
         "%s: status %d, message \"%s\", wanted \"%s\"", what, (int)s, err.msg, needle);
  be_elf_free(e);
}

static void rejected(env *v) {
  const char *cc = have_prog("gcc") ? "gcc" : have_prog("clang-19") ? "clang-19" : NULL;
  if (!cc) return;
  size_t n;
  uint8_t *o;
  o = compile_read(cc, "-O1", write_src("tls.c", "__thread int t; int f(void){return t;}\n"), &n);
  if (o) expect_error("TLS", o, n, v, "thread-local");
  free(o);
  o = compile_read(cc, "-O1",
                   write_src("und.c", "extern int nowhere_at_all(int);\n"
                                      "int f(int x){return nowhere_at_all(x)+1;}\n"),
                   &n);
  if (o) expect_error("undefined", o, n, v, "undefined symbol nowhere_at_all");
  free(o);
  o = compile_read(cc, "-O2 -flto", write_src("lto.c", "int f(int x){return x+1;}\n"), &n);
  if (o) expect_error("LTO", o, n, v, "LTO");
  free(o);
  if (have_prog("clang-19")) {
    o = compile_read("clang-19", "-O2 -flto", write_src("lto.c", "int f(int x){return x+1;}\n"),
                     &n);
    if (o) expect_error("bitcode", o, n, v, "LLVM bitcode");
    free(o);
  }
  if (keep_obj) {
    uint8_t *c = malloc(keep_n);
    memcpy(c, keep_obj, keep_n);
    ((Elf64_Ehdr *)c)->e_machine = EM_386;
    expect_error("machine", c, keep_n, v, "not x86-64");
    memcpy(c, keep_obj, keep_n);
    ((Elf64_Ehdr *)c)->e_type = ET_EXEC;
    expect_error("type", c, keep_n, v, "not a relocatable object");
    memcpy(c, keep_obj, keep_n);
    c[EI_CLASS] = ELFCLASS32;
    expect_error("class", c, keep_n, v, "ELFCLASS64");
    expect_error("short", c, 10, v, "truncated");
    free(c);
  }
}

static const void *far_resolve(void *u, const char *name) {
  (void)u;
  return !strcmp(name, "far_away") ? (const void *)(uintptr_t)0x123456789000ull : NULL;
}

static void overflow(void) {
  const char *cc = have_prog("gcc") ? "gcc" : have_prog("clang-19") ? "clang-19" : NULL;
  if (!cc) return;
  size_t n;
  uint8_t *o =
      compile_read(cc, "-O1 -fno-pic",
                   write_src("far.c", "extern char far_away[];\n"
                                      "unsigned long f(void){return (unsigned long)far_away;}\n"),
                   &n);
  if (!o) return;
  af_error err = {{0}};
  be_elf *e = NULL;
  af_status s = be_elf_load(o, n, far_resolve, NULL, &e, &err);
  CHECKF(s == AF_ERR_INVALID && strstr(err.msg, "R_X86_64_32") && strstr(err.msg, "far_away") &&
             strstr(err.msg, "does not fit"),
         "overflow: %d %s", (int)s, err.msg);
  be_elf_free(e);
  free(o);
}

/* ---- resolution order, weak symbols, edited relocations ------------------------------------- */
static size_t my_strlen(const char *p) { return 1000 + (size_t)(p != NULL); }

static const void *override_resolve(void *u, const char *name) {
  (void)u;
  return !strcmp(name, "strlen") ? (const void *)my_strlen : NULL;
}

/* The first RELA section that applies to .text (or .text.*): its entries, in c. */
static Elf64_Rela *text_relas(uint8_t *c, size_t *nrel, Elf64_Shdr **shdr) {
  Elf64_Ehdr *eh = (Elf64_Ehdr *)c;
  Elf64_Shdr *sh = (Elf64_Shdr *)(c + eh->e_shoff);
  const char *names = (const char *)c + sh[eh->e_shstrndx].sh_offset;
  for (int i = 0; i < eh->e_shnum; i++)
    if (sh[i].sh_type == SHT_RELA && !strncmp(names + sh[sh[i].sh_info].sh_name, ".text", 5) &&
        sh[i].sh_size) {
      *nrel = sh[i].sh_size / sizeof(Elf64_Rela);
      *shdr = &sh[i];
      return (Elf64_Rela *)(c + sh[i].sh_offset);
    }
  return NULL;
}

static int try_load(const uint8_t *obj, size_t n, env *v);

static void misc(env *v) {
  const char *cc = have_prog("gcc") ? "gcc" : have_prog("clang-19") ? "clang-19" : NULL;
  if (!cc) return;
  size_t n;
  af_error err = {{0}};
  be_elf *e = NULL;
  /* The resolver comes before dlsym, even for a libc name. */
  uint8_t *o = compile_read(cc, "-O1 -fno-builtin",
                            write_src("ovr.c", "#include <string.h>\n"
                                               "size_t f(const char *s) { return strlen(s); }\n"),
                            &n);
  if (o) {
    CHECKF(be_elf_load(o, n, override_resolve, NULL, &e, &err) == AF_OK, "override: %s", err.msg);
    size_t (*f)(const char *) = (size_t(*)(const char *))(uintptr_t)be_elf_sym(e, "f", NULL);
    CHECK(f && f("abc") == 1001);
    be_elf_free(e);
    e = NULL;
    CHECKF(be_elf_load(o, n, NULL, NULL, &e, &err) == AF_OK, "no resolver: %s", err.msg);
    f = (size_t(*)(const char *))(uintptr_t)be_elf_sym(e, "f", NULL);
    CHECK(f && f("abc") == 3); /* dlsym's strlen */
    be_elf_free(e);
    e = NULL;
  }
  free(o);
  /* An undefined weak symbol nobody defines is 0. */
  o = compile_read(cc, "-O1 -fPIC",
                   write_src("weak.c", "extern int maybe_there(void) __attribute__((weak));\n"
                                       "int f(void) { return maybe_there ? maybe_there() : 7; }\n"),
                   &n);
  if (o) {
    CHECKF(be_elf_load(o, n, resolve, v, &e, &err) == AF_OK, "weak: %s", err.msg);
    int (*f)(void) = (int (*)(void))(uintptr_t)be_elf_sym(e, "f", NULL);
    CHECK(f && f() == 7);
    be_elf_free(e);
    e = NULL;
  }
  free(o);
  /* Edited relocations: an unknown type, a TLS type, SHT_REL. */
  if (keep_obj) {
    uint8_t *c = malloc(keep_n);
    size_t nrel = 0;
    Elf64_Shdr *rs = NULL;
    memcpy(c, keep_obj, keep_n);
    Elf64_Rela *r = text_relas(c, &nrel, &rs);
    CHECK(r && nrel > 0);
    if (r && nrel) {
      r[0].r_info = ELF64_R_INFO(ELF64_R_SYM(r[0].r_info), 99);
      expect_error("unknown relocation", c, keep_n, v, "relocation type 99");
      r[0].r_info = ELF64_R_INFO(ELF64_R_SYM(r[0].r_info), R_X86_64_TPOFF32);
      expect_error("TLS relocation", c, keep_n, v, "thread-local");
      memcpy(c, keep_obj, keep_n);
      r = text_relas(c, &nrel, &rs);
      rs->sh_type = SHT_REL;
      expect_error("SHT_REL", c, keep_n, v, "SHT_REL");
      memcpy(c, keep_obj, keep_n);
      r = text_relas(c, &nrel, &rs);
      r[nrel - 1].r_offset = 1u << 30;
      expect_error("offset", c, keep_n, v, "outside the section");
    }
    /* Extended numbering (gABI: e_shnum 0 and e_shstrndx SHN_XINDEX defer to section 0). */
    memcpy(c, keep_obj, keep_n);
    Elf64_Ehdr *eh = (Elf64_Ehdr *)c;
    Elf64_Shdr *sh0 = (Elf64_Shdr *)(c + eh->e_shoff);
    sh0->sh_size = eh->e_shnum;
    sh0->sh_link = eh->e_shstrndx;
    eh->e_shnum = 0;
    eh->e_shstrndx = SHN_XINDEX;
    CHECK(try_load(c, keep_n, v));
    free(c);
  }
}

/* ---- malformed objects: truncated and corrupted; every load fails cleanly or works ------- */
static uint64_t rng_next(uint64_t *s) {
  *s = *s * 6364136223846793005ull + 1442695040888963407ull;
  return *s >> 33;
}

static int try_load(const uint8_t *obj, size_t n, env *v) {
  af_error err = {{0}};
  be_elf *e = NULL;
  af_status s = be_elf_load(obj, n, resolve, v, &e, &err);
  CHECKF((s == AF_OK) == (e != NULL), "status %d with image %p", (int)s, (void *)e);
  CHECKF(s == AF_OK || (err.msg[0] && !strchr(err.msg, '\n')), "status %d, message \"%s\"", (int)s,
         err.msg);
  be_elf_free(e);
  return s == AF_OK;
}

static void malformed(const char *what, const uint8_t *obj, size_t n, env *v) {
  int ok = 0, total = 0;
  uint8_t *c = malloc(n + 8);
  /* Truncations: every length (the copy is exactly that long, so ASan sees any overread). */
  for (size_t len = 0; len < n; len += len < 256 ? 1 : 7) {
    uint8_t *t = malloc(len ? len : 1);
    memcpy(t, obj, len);
    ok += try_load(t, len, v);
    total++;
    free(t);
  }
  CHECKF(ok == 0, "%s: a truncated object loaded", what);
  /* Byte flips in the ELF header and the section header table. */
  const Elf64_Ehdr *eh = (const Elf64_Ehdr *)obj;
  size_t regions[2][2] = {{0, sizeof(Elf64_Ehdr)},
                          {eh->e_shoff, (size_t)eh->e_shnum * sizeof(Elf64_Shdr)}};
  static const uint8_t pat[] = {0x00, 0xff, 0x01, 0x80, 0x7f};
  for (int r = 0; r < 2; r++)
    for (size_t i = regions[r][0]; i < regions[r][0] + regions[r][1] && i < n; i++)
      for (size_t p = 0; p < sizeof pat; p++) {
        memcpy(c, obj, n);
        c[i] = p < 2 ? pat[p] : (uint8_t)(obj[i] ^ pat[p]);
        ok += try_load(c, n, v);
        total++;
      }
  /* Random bytes anywhere (symbols, relocations, strings), one to four at a time. */
  uint64_t seed = 12345;
  for (int k = 0; k < 3000; k++) {
    memcpy(c, obj, n);
    int m = 1 + (int)(rng_next(&seed) % 4);
    for (int j = 0; j < m; j++)
      c[rng_next(&seed) % n] = (uint8_t)rng_next(&seed);
    ok += try_load(c, n, v);
    total++;
  }
  /* Misaligned buffer: the same object one byte off still loads. */
  memcpy(c + 1, obj, n);
  CHECKF(try_load(c + 1, n, v), "%s: misaligned buffer", what);
  printf("%s: %d malformed variants, %d loaded anyway, none crashed\n", what, total, ok);
  free(c);
}

/* ---- speed: a large object ---------------------------------------------------------------- */
static void speed(env *v) {
  const char *cc = have_prog("gcc") ? "gcc" : have_prog("clang-19") ? "clang-19" : NULL;
  if (!cc) return;
  char path[128];
  snprintf(path, sizeof path, "%s/big.c", tmpdir);
  FILE *f = fopen(path, "w");
  fprintf(f, "#include <string.h>\nextern long ext_mul(long, long);\n");
  for (int i = 0; i < 1200; i++) {
    fprintf(f, "static const long t%d[4] = {%d, %d, %d, %d};\nlong d%d[2];\n", i, i, i + 1, i * 3,
            i * 7, i);
    fprintf(
        f,
        "long g%d(long a, long b) { char buf[32]; memset(buf, (int)a, sizeof buf);"
        " d%d[a & 1] += b; return ext_mul(a, t%d[b & 3]) + buf[3] + d%d[0] + g%d(a, b - 1); }\n",
        i, i, i, i, i ? i - 1 : 0);
  }
  fclose(f);
  size_t n;
  uint8_t *o = compile_read(cc, "-O1 -fPIC -ffunction-sections -fdata-sections", path, &n);
  CHECK(o != NULL);
  if (!o) return;
  struct timespec t0, t1;
  int reps = 20, good = 0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (int r = 0; r < reps; r++) {
    af_error err = {{0}};
    be_elf *e = NULL;
    if (be_elf_load(o, n, resolve, v, &e, &err) == AF_OK && be_elf_sym(e, "g1199", NULL)) good++;
    be_elf_free(e);
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double us =
      ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / 1e3 / reps;
  printf("load of a %zu-byte object (%s -O1 -ffunction-sections, 1200 functions): %.0f us\n", n, cc,
         us);
  CHECK(good == reps);
  CHECKF(us < 20000, "loading is slow: %.0f us", us); /* generous: a shared, loaded machine */
  free(o);
}

/* ---- the runtime table ----------------------------------------------------------------------- */
static void runtime_table(void) {
  int n = be_runtime_sym_count();
  CHECK(n > 50);
  for (int i = 0; i < n; i++) {
    const char *name = be_runtime_sym_name(i);
    CHECKF(name && be_runtime_sym(name), "runtime symbol %s not found (table unsorted?)",
           name ? name : "?");
  }
  CHECK(be_runtime_sym_name(n) == NULL && be_runtime_sym_name(-1) == NULL);
  CHECK(be_runtime_sym("__divti3") && be_runtime_sym("__udivti3") &&
        be_runtime_sym("__extendhfsf2") && be_runtime_sym("__truncdfhf2") &&
        be_runtime_sym("__floattisf") && be_runtime_sym("__muldc3"));
  CHECK(be_runtime_sym("memcpy") == NULL && be_runtime_sym("__no_such_helper") == NULL &&
        be_runtime_sym("") == NULL && be_runtime_sym(NULL) == NULL);
  /* An address from the table is the real routine. */
  typedef __int128 (*divti)(__int128, __int128);
  divti d = (divti)(uintptr_t)be_runtime_sym("__divti3");
  volatile __int128 a = ((__int128)1 << 90) + 5, b = 3;
  CHECK(d && d(a, b) == a / b);
}

/* ---- imports.c ---------------------------------------------------------------------------- */
static long imp_twice(long x) { return 2 * x; }
static long imp_plus(long x) { return x + 1000; }

static void imports(void) {
  af_error err = {{0}};
  be_imports *im = NULL;
  CHECK(be_imports_new(&im, &err) == AF_OK && im);
  if (!im) return;
  typedef long (*fn)(long);
  fn s3 = (fn)(uintptr_t)be_imports_fn(im, 3);
  CHECK(s3 && be_imports_fn(im, -1) == NULL && be_imports_fn(im, AF_MAX_FUNCS) == NULL);
  be_imports_bind(im, 3, (const void *)imp_twice);
  CHECK(s3(21) == 42);
  be_imports_bind(im, 3, (const void *)imp_plus);
  CHECK(s3(21) == 1021);
  uint8_t **objs = be_imports_objects(im);
  CHECKF((uintptr_t)objs < ((uintptr_t)1 << 31), "objects table at %p is not low", (void *)objs);
  /* Names. */
  CHECK(be_import_lookup(im, "", "f3") == (const void *)s3);
  CHECK(be_import_lookup(im, NULL, "f3") == (const void *)s3);
  CHECK(be_import_lookup(im, "c12_", "c12_f3") == (const void *)s3);
  CHECK(be_import_lookup(im, "c12_", "c12_af_objects") == (const void *)objs);
  CHECK(be_import_lookup(im, "", "af_objects") == (const void *)objs);
  CHECK(be_import_lookup(im, "", "f0") == be_imports_fn(im, 0));
  CHECK(be_import_lookup(im, "", "f15") == be_imports_fn(im, 15));
  static const char *const bad[] = {"f16", "f03", "f", "fx", "f-1", "f3x", "g3", "af_object", ""};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    CHECKF(be_import_lookup(im, "", bad[i]) == NULL, "lookup of \"%s\"", bad[i]);
  CHECK(be_import_lookup(im, "c1_", "f3") == NULL && be_import_lookup(im, "c1_", "c2_f3") == NULL);
  CHECK(be_import_lookup(NULL, "", "f3") == NULL);
  /* Unbound (and unbound again) stubs trap: SIGILL, in a child. */
  for (int k = 0; k < 2; k++) {
    if (k == 1) be_imports_bind(im, 3, NULL);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
      signal(SIGILL, SIG_DFL);
      fn stub = (fn)(uintptr_t)be_imports_fn(im, k == 0 ? 5 : 3);
      stub(1);
      _exit(0);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    CHECKF(WIFSIGNALED(st) && WTERMSIG(st) == SIGILL, "unbound stub %d: status 0x%x", k, st);
  }
  be_imports_free(im);
  be_imports_free(NULL);
}

/* An object calling f<k> and reading af_objects through a real import table, every PIC mode. */
static const void *imp_resolve(void *u, const char *name) {
  return be_import_lookup(u, "c7_", name);
}

static void imports_loaded(void) {
  const char *src = NULL;
  static const char *const flags[] = {"-O2 -fPIC", "-O2 -fno-pic", "-O0 -fpie",
                                      "-O1 -mcmodel=large"};
  const char *ccs[] = {"gcc", "clang-19", "tcc"};
  for (size_t c = 0; c < 3; c++) {
    if (!have_prog(ccs[c])) continue;
    if (!src)
      src = write_src("imp.c", "extern long c7_f2(long);\n"
                               "extern unsigned char *c7_af_objects[16];\n"
                               "long (*c7_fp)(long) = c7_f2;\n"
                               "long c7_f1(long x, int i) { return c7_f2(x) + c7_fp(x) +\n"
                               "  (long)c7_af_objects[i] + (long)c7_af_objects[1]; }\n");
    for (size_t f = 0; f < (c == 2 ? 1 : sizeof flags / sizeof flags[0]); f++) {
      size_t n;
      uint8_t *o = compile_read(ccs[c], c == 2 ? "" : flags[f], src, &n);
      if (!o) continue;
      af_error err = {{0}};
      be_imports *im = NULL;
      be_elf *e = NULL;
      if (be_imports_new(&im, &err) != AF_OK) break;
      af_status s = be_elf_load(o, n, imp_resolve, im, &e, &err);
      CHECKF(s == AF_OK, "%s %s: %s", ccs[c], flags[f], err.msg);
      if (s == AF_OK) {
        be_imports_bind(im, 2, (const void *)imp_twice);
        uint8_t **objs = be_imports_objects(im);
        objs[1] = (uint8_t *)100;
        objs[4] = (uint8_t *)7;
        long (*f1)(long, int) = (long (*)(long, int))(uintptr_t)be_elf_sym(e, "c7_f1", NULL);
        CHECKF(f1 && f1(10, 4) == 20 + 20 + 7 + 100, "%s %s: import call", ccs[c], flags[f]);
      }
      be_elf_free(e);
      be_imports_free(im);
      free(o);
    }
  }
}

int main(int argc, char **argv) {
  int quick = argc > 1 && !strcmp(argv[1], "--quick"); /* skip the compiler matrix */
  snprintf(tmpdir, sizeof tmpdir, "/tmp/test_elf_XXXXXX");
  if (!mkdtemp(tmpdir)) return 1;
  env v = {0};
  v.objects =
      mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
  if (v.objects == MAP_FAILED) return 1;

  runtime_table();
  imports();
  imports_loaded();
  if (!quick) compilers(&v);
  if (!keep_obj && have_prog("gcc"))
    keep_obj = compile_read("gcc", "-O2 -fPIC", AF_SOURCE_DIR "/tests/elf_sample.c", &keep_n);
  rejected(&v);
  overflow();
  misc(&v);
  if (keep_obj) malformed("gcc -O2 -fPIC object", keep_obj, keep_n, &v);
  if (have_prog("tcc")) {
    size_t n;
    uint8_t *o = compile_read("tcc", "", AF_SOURCE_DIR "/tests/elf_sample.c", &n);
    if (o) malformed("tcc object", o, n, &v);
    free(o);
  }
  speed(&v);
  free(keep_obj);

  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  if (system(cmd)) fprintf(stderr, "cannot remove %s\n", tmpdir);
  return check_done();
}
