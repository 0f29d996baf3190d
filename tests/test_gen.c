/* test_gen.c - the generator: determinism, validity, axis coverage, weights files, byte mode. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "gen.h"

#define NCASES 10000
#define MAXAX  64
#define MAXVAL 64

/* A structural hash of a case, independent of the printer. */
static uint64_t h64(uint64_t h, uint64_t x) { return af_fold_u64(h, x); }

static uint64_t case_hash(const af_case *c) {
  uint64_t h = h64(0, (uint64_t)c->cc);
  h = h64(h, (uint64_t)c->ntypes);
  for (int t = AF_T_NSCALAR; t < c->ntypes; t++) {
    const af_type *ty = &c->types[t];
    h = h64(h, (uint64_t)ty->kind * 131 + (uint64_t)ty->nfields * 7 + ty->count);
    h = h64(h, ((uint64_t)ty->packed << 32) | (uint64_t)ty->align | ((uint64_t)ty->elem << 8));
    for (int i = 0; i < ty->nfields; i++)
      h = h64(h, (uint64_t)ty->fields[i].type * 977 + (uint64_t)(ty->fields[i].bits + 1) * 31 +
                     (uint64_t)ty->fields[i].align);
  }
  h = h64(h, (uint64_t)c->nfuncs);
  for (int f = 0; f < c->nfuncs; f++) {
    const af_func *fn = &c->funcs[f];
    h = h64(h, (uint64_t)fn->sig.cc | (uint64_t)fn->sig.ret << 4 | (uint64_t)fn->host << 20 |
                   (uint64_t)fn->sig.variadic << 21 | (uint64_t)fn->sig.nfixed << 22);
    for (int i = 0; i < fn->sig.nparams; i++)
      h = h64(h, (uint64_t)fn->sig.params[i]);
    for (int i = 0; i < fn->ninsts; i++) {
      const af_inst *in = &fn->insts[i];
      h = h64(h, (uint64_t)in->op | (uint64_t)in->type << 8 | (uint64_t)in->nargs << 24);
      h = h64(h, (uint64_t)in->imm);
      for (int k = 0; k < in->nargs; k++)
        h = h64(h, (uint64_t)in->args[k]);
      for (int k = 0; k < in->npath; k++)
        h = h64(h, (uint64_t)in->path[k]);
      for (uint32_t k = 0; k < in->cst.size; k++)
        h = h64(h, in->cst.bytes[k]);
    }
  }
  for (int i = 0; i < c->ninputs; i++) {
    h = h64(h, (uint64_t)c->inputs[i].obj);
    for (uint32_t k = 0; k < c->inputs[i].size; k++)
      h = h64(h, c->inputs[i].bytes[k]);
  }
  for (int o = 0; o < c->nobjects; o++)
    for (int k = 0; k < AF_REGION_SIZE; k++)
      h = h64(h, c->objects[o].init[k]);
  return h;
}

static char *print_case(const af_case *c) {
  char *s = NULL;
  size_t n = 0;
  if (af_print_str(c, &s, &n) != AF_OK) {
    free(s);
    return NULL;
  }
  return s;
}

static void test_rng(void) {
  af_rng a, b;
  af_rng_seed(&a, 1, 2);
  af_rng_seed(&b, 1, 2);
  int same = 1;
  for (int i = 0; i < 100; i++)
    same &= af_rng_next(&a) == af_rng_next(&b);
  CHECK(same);
  af_rng_seed(&b, 1, 3);
  CHECK(af_rng_next(&a) != af_rng_next(&b));
  /* Uniformity of af_rng_below(3): each bucket within 3% of a third. */
  long cnt[3] = {0, 0, 0};
  for (int i = 0; i < 300000; i++)
    cnt[af_rng_below(&a, 3)]++;
  for (int k = 0; k < 3; k++)
    CHECKF(labs(cnt[k] - 100000) < 3000, "bucket %d: %ld", k, cnt[k]);
  /* n that is not a power of two near 2^63: rejection keeps it in range. */
  uint64_t big = (1ull << 63) + 12345;
  int ok = 1;
  for (int i = 0; i < 1000; i++)
    ok &= af_rng_below(&a, big) < big;
  CHECK(ok);
  CHECK(af_rng_below(&a, 1) == 0);
  /* Byte mode: the bytes are the draws, then a tail seeded by them. */
  uint8_t buf[3] = {7, 200, 1};
  af_rng_bytes(&a, buf, 3);
  CHECK(af_rng_below(&a, 10) == 7);
  CHECK(af_rng_below(&a, 256) == 200);
  af_rng_bytes(&b, buf, 3);
  for (int i = 0; i < 5; i++)
    af_rng_next(&b);
  af_rng_bytes(&a, buf, 3);
  for (int i = 0; i < 5; i++)
    af_rng_next(&a);
  CHECK(af_rng_next(&a) == af_rng_next(&b)); /* the tail is deterministic too */
  af_rng_bytes(&a, NULL, 0);
  af_rng_bytes(&b, NULL, 0);
  CHECK(af_rng_next(&a) == af_rng_next(&b));
}

static void test_determinism(void) {
  af_gen_opts o;
  af_gen_opts_default(&o);
  uint64_t prev = 0;
  int distinct = 0;
  for (uint64_t i = 0; i < 200; i++) {
    af_case a, b;
    af_error e1 = {{0}}, e2 = {{0}};
    af_status s1 = af_gen_case(&o, 42, i, &a, NULL, &e1);
    af_status s2 = af_gen_case(&o, 42, i, &b, NULL, &e2);
    CHECKF(s1 == AF_OK && s2 == AF_OK, "index %llu: %s", (unsigned long long)i, e1.msg);
    if (s1 == AF_OK && s2 == AF_OK) {
      uint64_t ha = case_hash(&a);
      CHECKF(ha == case_hash(&b), "index %llu: two runs differ", (unsigned long long)i);
      char *pa = print_case(&a), *pb = print_case(&b);
      if (pa && pb)
        CHECKF(strcmp(pa, pb) == 0, "index %llu: printed text differs", (unsigned long long)i);
      free(pa);
      free(pb);
      distinct += i == 0 || ha != prev;
      prev = ha;
    }
    af_case_free(&a);
    af_case_free(&b);
  }
  CHECKF(distinct == 200, "only %d of 200 neighbouring indices differ", distinct);
  /* Seeds differ too. */
  af_case a, b;
  af_error e;
  if (af_gen_case(&o, 1, 5, &a, NULL, &e) == AF_OK && af_gen_case(&o, 2, 5, &b, NULL, &e) == AF_OK)
    CHECK(case_hash(&a) != case_hash(&b));
  af_case_free(&a);
  af_case_free(&b);
}

/* 1 if kind k appears anywhere in the case (types, signatures, instructions). */
static int uses_kind(const af_case *c, int k) {
  for (int t = AF_T_NSCALAR; t < c->ntypes; t++) {
    const af_type *ty = &c->types[t];
    if (ty->kind == AF_T_ARRAY && ty->elem == k) return 1;
    for (int i = 0; i < ty->nfields; i++)
      if (ty->fields[i].type == k) return 1;
  }
  for (int f = 0; f < c->nfuncs; f++) {
    const af_func *fn = &c->funcs[f];
    if (fn->sig.ret == k) return 1;
    for (int i = 0; i < fn->sig.nparams; i++)
      if (fn->sig.params[i] == k) return 1;
    for (int i = 0; i < fn->ninsts; i++)
      if (fn->insts[i].type == k) return 1;
    for (int v = 0; v < fn->nvalues; v++)
      if (fn->value_type[v] == k) return 1;
  }
  return 0;
}

/* The generator's promises beyond validity: every parameter of every
 * function reaches a MIX, every JIT function but the entry is called, and
 * host functions are called by someone. Returns a complaint or NULL. */
static const char *promises(const af_case *c, char *buf, size_t n) {
  int called[AF_MAX_FUNCS] = {0};
  for (int f = 0; f < c->nfuncs; f++) {
    const af_func *fn = &c->funcs[f];
    unsigned char mixed[AF_MAX_PARAMS] = {0};
    for (int i = 0; i < fn->ninsts; i++) {
      const af_inst *in = &fn->insts[i];
      if (in->op == AF_OP_MIX)
        for (int k = 0; k < in->nargs; k++)
          if (in->args[k] < fn->sig.nparams) mixed[in->args[k]] = 1;
      if (in->op == AF_OP_CALL) called[in->imm] = 1;
    }
    if (fn->sig.variadic) {
      int t = fn->sig.params[fn->sig.nfixed - 1];
      if (t == AF_T_BOOL || (t >= AF_T_I8 && t <= AF_T_U16) || t == AF_T_F16 || t == AF_T_F32) {
        snprintf(buf, n, "f%d: va_start's last named parameter is not promoted", f);
        return buf;
      }
    }
    for (int p = 0; p < fn->sig.nparams; p++)
      if (!mixed[p]) {
        snprintf(buf, n, "f%d: parameter v%d never reaches a MIX", f, p);
        return buf;
      }
  }
  for (int f = 0; f < c->nfuncs; f++)
    if (f != c->entry && !called[f]) {
      snprintf(buf, n, "f%d is never called", f);
      return buf;
    }
  return NULL;
}

typedef struct {
  long seen[MAXAX][MAXVAL];
  long ops[AF_OP_COUNT]; /* instructions per op over the pass */
  long ok, total;
  double secs;
} pass_stats;

static void run_pass(const af_gen_opts *o, uint64_t seed, int n, pass_stats *ps) {
  memset(ps, 0, sizeof *ps);
  clock_t t0 = clock();
  int printed = 0;
  for (int i = 0; i < n; i++) {
    af_case c;
    af_error e = {{0}};
    int axes[MAXAX];
    af_status st = af_gen_case(o, seed, (uint64_t)i, &c, axes, &e);
    ps->total++;
    if (st == AF_OK) {
      af_error ve = {{0}};
      af_status vs = af_verify(&c, &ve);
      char why[128];
      const char *bad = promises(&c, why, sizeof why);
      if (!bad && !o->allow_f16 && uses_kind(&c, AF_T_F16)) bad = "f16 without allow_f16";
      if (!bad && !o->allow_m256 && uses_kind(&c, AF_T_M256)) bad = "m256 without allow_m256";
      if (vs == AF_OK && !bad)
        ps->ok++;
      else if (printed++ < 5)
        fprintf(stderr, "case %d: %s\n", i, vs != AF_OK ? ve.msg : bad);
      for (int f = 0; f < c.nfuncs; f++)
        for (int k = 0; k < c.funcs[f].ninsts; k++)
          ps->ops[c.funcs[f].insts[k].op]++;
      for (int a = 0; a < MAXAX && a < 32; a++)
        if (axes[a] >= 0 && axes[a] < MAXVAL) ps->seen[a][axes[a]]++;
    } else if (printed++ < 5) {
      fprintf(stderr, "case %d: %s: %s\n", i, af_strerror(st), e.msg);
    }
    af_case_free(&c);
  }
  ps->secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
}

/* Every value with nonzero weight that the options allow was drawn. */
static void check_coverage(const af_gen_opts *o, const pass_stats *ps, const char *what) {
  af_weights *w = af_weights_default();
  int missing = 0;
  for (int a = 0; a < af_weights_naxes(w); a++)
    for (int v = 0; v < af_weights_nvalues(w, a); v++) {
      const char *ax = af_weights_axis(w, a), *val = af_weights_value(w, a, v);
      if (strcmp(ax, "scalar") == 0 && strcmp(val, "f16") == 0 && !o->allow_f16) continue;
      if (strcmp(ax, "scalar") == 0 && strcmp(val, "m256") == 0 && !o->allow_m256) continue;
      if (!ps->seen[a][v]) {
        fprintf(stderr, "%s: axis value %s.%s never drawn\n", what, ax, val);
        missing++;
      }
    }
  CHECKF(missing == 0, "%s: %d axis values missing", what, missing);
  for (int op = 0; op < AF_OP_COUNT; op++)
    CHECKF(ps->ops[op] > 0, "%s: no %s instruction generated", what, af_op_name((af_op)op));
  af_weights_free(w);
}

static void test_passes(void) {
  af_gen_opts o;
  af_gen_opts_default(&o);
  pass_stats *ps = malloc(sizeof *ps);
  run_pass(&o, 7, NCASES, ps);
  CHECKF(ps->ok == NCASES, "default options: %ld of %d cases verify", ps->ok, NCASES);
  printf("default options: %ld/%ld cases verified, %.1f us per case\n", ps->ok, ps->total,
         1e6 * ps->secs / NCASES);
  check_coverage(&o, ps, "default options");
  o.allow_f16 = o.allow_m256 = o.allow_divergent = 1;
  run_pass(&o, 8, NCASES / 2, ps);
  CHECKF(ps->ok == NCASES / 2, "all options on: %ld of %d cases verify", ps->ok, NCASES / 2);
  printf("all options on: %ld/%ld cases verified, %.1f us per case\n", ps->ok, ps->total,
         1e6 * ps->secs / (NCASES / 2));
  check_coverage(&o, ps, "all options on");
  /* Per convention, forced. */
  for (int cc = 0; cc < AF_CC_COUNT; cc++) {
    o.cc = cc;
    int bad = 0;
    for (int i = 0; i < 300; i++) {
      af_case c;
      af_error e;
      if (af_gen_case(&o, 9, (uint64_t)i, &c, NULL, &e) != AF_OK || c.cc != (af_cc)cc) bad++;
      af_case_free(&c);
    }
    CHECKF(bad == 0, "forced %s: %d bad cases", af_cc_name((af_cc)cc), bad);
  }
  free(ps);
}

static int axis_index(const af_weights *w, const char *name) {
  for (int a = 0; a < af_weights_naxes(w); a++)
    if (strcmp(af_weights_axis(w, a), name) == 0) return a;
  return -1;
}

static int value_index(const af_weights *w, int a, const char *name) {
  for (int v = 0; v < af_weights_nvalues(w, a); v++)
    if (strcmp(af_weights_value(w, a, v), name) == 0) return v;
  return -1;
}

static void test_weight_zero(void) {
  static const char *const keys[] = {
      "cc.win64",   "ret.sret",         "agg_shape.union", "nest.0",       "input.graffiti",
      "scalar.i32", "local_align.none", "mixed_cc.other",  "backfill.yes", "agg_size.odd"};
  af_weights *w = af_weights_default();
  af_error e;
  for (size_t k = 0; k < sizeof keys / sizeof *keys; k++)
    CHECK(af_weights_set(w, keys[k], 0, &e) == AF_OK);
  CHECK(af_weights_set(w, "cc.nosuch", 1, &e) == AF_ERR_PARSE);
  CHECK(af_weights_set(w, "cc.sysv", -1, &e) == AF_ERR_PARSE);
  af_gen_opts o;
  af_gen_opts_default(&o);
  o.weights = w;
  long hits = 0, unions = 0, win = 0, fails = 0, odd = 0;
  for (int i = 0; i < 1000; i++) {
    af_case c;
    int axes[MAXAX];
    if (af_gen_case(&o, 11, (uint64_t)i, &c, axes, &e) != AF_OK) {
      fails++;
      continue;
    }
    for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
      char ax[32];
      const char *dot = strchr(keys[k], '.');
      snprintf(ax, sizeof ax, "%.*s", (int)(dot - keys[k]), keys[k]);
      int a = axis_index(w, ax), v = value_index(w, a, dot + 1);
      if (a >= 0 && axes[a] == v && hits++ < 5) fprintf(stderr, "drew %s\n", keys[k]);
    }
    win += c.cc == AF_CC_WIN64;
    for (int f = 0; f < c.nfuncs; f++)
      win += c.funcs[f].sig.cc == AF_CC_WIN64;
    for (int t = AF_T_NSCALAR; t < c.ntypes; t++) {
      unsigned sz = c.types[t].size;
      unions += c.types[t].kind == AF_T_UNION;
      odd += c.types[t].kind != AF_T_ARRAY && (sz == 3 || sz == 5 || sz == 6 || sz == 7);
    }
    af_case_free(&c);
  }
  CHECKF(fails == 0, "%ld cases failed with zero weights", fails);
  CHECKF(hits == 0, "a value of weight 0 was drawn %ld times", hits);
  CHECKF(win == 0, "cc.win64 = 0, but %ld win64 signatures", win);
  CHECKF(unions == 0, "agg_shape.union = 0, but %ld unions", unions);
  CHECKF(odd == 0, "agg_size.odd = 0, but %ld aggregates of 3/5/6/7 bytes", odd);
  af_weights_free(w);
}

static char *slurp_print(const af_weights *w) {
  char *s = NULL;
  size_t n = 0;
  FILE *f = open_memstream(&s, &n);
  if (!f) return NULL;
  af_weights_print(w, f);
  fclose(f);
  return s;
}

static int write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  if (!f) return -1;
  fputs(text, f);
  return fclose(f);
}

static void test_weights_files(void) {
  char path[256];
  snprintf(path, sizeof path, "%s/test_gen_weights.txt", AF_BINARY_DIR);
  af_weights *w = af_weights_default(), *w2 = af_weights_default();
  af_error e = {{0}};
  /* Round trip of a modified table. */
  CHECK(af_weights_set(w, "nargs.17+", 99, &e) == AF_OK);
  CHECK(af_weights_set(w, "agg_size.odd", 0, &e) == AF_OK);
  char *a = slurp_print(w);
  CHECK(a && write_file(path, a) == 0);
  CHECKF(af_weights_load(w2, path, &e) == AF_OK, "%s", e.msg);
  char *b = slurp_print(w2);
  CHECK(a && b && strcmp(a, b) == 0);
  CHECK(a && strstr(a, "nargs.17+ = 99\n") != NULL);
  free(a);
  free(b);
  /* Bad files: rejected with the line number, the table left unchanged. */
  static const struct {
    const char *text;
    const char *where;
  } bad[] = {
      {"# ok\ncc.sysv = 3\ncc.nosuch = 4\n", ":3:"},
      {"cc.sysv = 1\nret.void = x1\n", ":2:"},
      {"ret.void = -5\n", ":1:"},
      {"\n\nnest.0 9\n", ":3:"},
      {"scalar.i32 = 12abc\n", ":1:"},
      {"bogus = 1\n", ":1:"},
      {"cc.sysv = 99999999999999999999\n", ":1:"},
  };
  char *before = slurp_print(w2);
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    CHECK(write_file(path, bad[i].text) == 0);
    memset(&e, 0, sizeof e);
    af_status st = af_weights_load(w2, path, &e);
    CHECKF(st == AF_ERR_PARSE, "bad file %zu accepted", i);
    CHECKF(strstr(e.msg, bad[i].where) != NULL, "bad file %zu: message '%s' lacks %s", i, e.msg,
           bad[i].where);
  }
  char *after = slurp_print(w2);
  CHECK(before && after && strcmp(before, after) == 0);
  free(before);
  free(after);
  /* Comments, blanks, spaces. */
  CHECK(write_file(path, "  # hi\n\ncc.win64=7   # trailing\n\tret.x87 = 0\n") == 0);
  CHECKF(af_weights_load(w2, path, &e) == AF_OK, "%s", e.msg);
  char *s = slurp_print(w2);
  CHECK(s && strstr(s, "cc.win64 = 7\n") && strstr(s, "ret.x87 = 0\n"));
  free(s);
  snprintf(path, sizeof path, "%s/no/such/file", AF_BINARY_DIR);
  CHECK(af_weights_load(w2, path, &e) == AF_ERR_IO);
  /* The committed example files load. */
  static const char *const examples[] = {"sysv-only.txt", "win64-only.txt", "stress-regs.txt",
                                         "aggregates.txt"};
  for (size_t i = 0; i < sizeof examples / sizeof *examples; i++) {
    snprintf(path, sizeof path, "%s/ci/weights/%s", AF_SOURCE_DIR, examples[i]);
    af_weights *x = af_weights_default();
    CHECKF(af_weights_load(x, path, &e) == AF_OK, "%s: %s", examples[i], e.msg);
    af_weights_free(x);
  }
  af_weights_free(w);
  af_weights_free(w2);
}

static void test_bytes(void) {
  af_gen_opts o;
  af_gen_opts_default(&o);
  af_rng r;
  af_rng_seed(&r, 1234, 0);
  uint8_t buf[512];
  int bad = 0;
  clock_t t0 = clock();
  for (int i = 0; i < NCASES + 3; i++) {
    size_t n;
    if (i == NCASES)
      n = 0;
    else if (i == NCASES + 1)
      memset(buf, 0xff, n = sizeof buf);
    else if (i == NCASES + 2)
      memset(buf, 0, n = sizeof buf);
    else {
      n = (size_t)af_rng_below(&r, 513);
      for (size_t k = 0; k < n; k++)
        buf[k] = (uint8_t)af_rng_next(&r);
    }
    af_case c;
    af_error e = {{0}};
    af_status st = af_gen_bytes(&o, n ? buf : NULL, n, &c, NULL, &e);
    if (st != AF_OK || af_verify(&c, &e) != AF_OK) {
      if (bad++ < 5) fprintf(stderr, "bytes case %d (n=%zu): %s\n", i, n, e.msg);
    }
    af_case_free(&c);
  }
  CHECKF(bad == 0, "%d byte buffers gave no valid case", bad);
  printf("byte mode: %d buffers, %.1f us per case\n", NCASES + 3,
         1e6 * (double)(clock() - t0) / CLOCKS_PER_SEC / (NCASES + 3));
  /* Same bytes, same case; one flipped late byte changes the case a little. */
  for (int k = 0; k < 64; k++)
    buf[k] = (uint8_t)(k * 37);
  af_case a, b;
  af_error e;
  if (af_gen_bytes(&o, buf, 64, &a, NULL, &e) == AF_OK &&
      af_gen_bytes(&o, buf, 64, &b, NULL, &e) == AF_OK)
    CHECK(case_hash(&a) == case_hash(&b));
  af_case_free(&a);
  af_case_free(&b);
  /* Locality: flipping the last of 512 bytes leaves the early draws (the
   * convention and the entry's signature) alone in most buffers. */
  int same = 0, tried = 0;
  for (int i = 0; i < 100; i++) {
    for (int k = 0; k < 512; k++)
      buf[k] = (uint8_t)af_rng_next(&r);
    af_case x, y;
    af_status s1 = af_gen_bytes(&o, buf, 512, &x, NULL, &e);
    buf[511] ^= 0x5a;
    af_status s2 = af_gen_bytes(&o, buf, 512, &y, NULL, &e);
    if (s1 == AF_OK && s2 == AF_OK) {
      tried++;
      const af_sig *p = &x.funcs[0].sig, *q = &y.funcs[0].sig;
      same += x.cc == y.cc && p->nparams == q->nparams && p->ret == q->ret &&
              memcmp(p->params, q->params, sizeof(int) * (size_t)p->nparams) == 0;
    }
    af_case_free(&x);
    af_case_free(&y);
  }
  CHECKF(tried == 100 && same >= 80, "byte locality: %d of %d keep the entry signature", same,
         tried);
}

static void test_table(void) {
  af_weights *w = af_weights_default();
  int n = af_weights_naxes(w);
  CHECK(n >= 15 && n <= 32); /* test arrays hold 32 axes */
  for (int a = 0; a < n; a++) {
    CHECKF(af_weights_nvalues(w, a) >= 2 && af_weights_nvalues(w, a) <= MAXVAL, "axis %d", a);
    CHECK(af_weights_axis(NULL, a) && strcmp(af_weights_axis(NULL, a), af_weights_axis(w, a)) == 0);
    for (int b = 0; b < a; b++)
      CHECK(strcmp(af_weights_axis(w, a), af_weights_axis(w, b)) != 0);
    for (int v = 0; v < af_weights_nvalues(w, a); v++)
      for (int u = 0; u < v; u++)
        CHECK(strcmp(af_weights_value(w, a, v), af_weights_value(w, a, u)) != 0);
  }
  CHECK(af_weights_axis(w, n) == NULL && af_weights_value(w, 0, 99) == NULL);
  af_weights_free(w);
}

int main(void) {
  test_table();
  test_rng();
  test_determinism();
  test_weight_zero();
  test_weights_files();
  test_passes();
  test_bytes();
  return check_done();
}
