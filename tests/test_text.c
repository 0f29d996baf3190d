/* test_text.c - the .case format: exact round trips, malformed inputs, truncation and mutation. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "gen.h"

/* ---- helpers ---- */

/* Parses exactly len bytes from a private malloc'd copy (no NUL after it), so
 * that a sanitizer build catches any read past the end. */
static af_status parse_copy(const char *name, const char *text, size_t len, af_case *c,
                            af_error *err) {
  char *buf = malloc(len ? len : 1);
  if (len) memcpy(buf, text, len);
  af_status s = af_parse(name, buf, len, c, err);
  free(buf);
  return s;
}

static char *print(const af_case *c, size_t *n) {
  char *s = NULL;
  CHECK(af_print_str(c, &s, n) == AF_OK);
  return s;
}

/* print(parse(text)) == text; returns 1 on success. */
static int roundtrip_text(const char *name, const char *text, size_t len) {
  af_case c;
  af_error err = {{0}};
  af_status s = parse_copy(name, text, len, &c, &err);
  CHECKF(s == AF_OK, "%s: %s", name, err.msg);
  int same = 0;
  if (s == AF_OK) {
    size_t n;
    char *back = print(&c, &n);
    same = back && n == len && memcmp(back, text, len) == 0;
    CHECKF(same, "%s: print(parse(x)) != x", name);
    if (!same && back) {
      size_t i = 0;
      while (i < n && i < len && back[i] == text[i])
        i++;
      fprintf(stderr, "first difference at byte %zu:\n--- file\n%.80s\n--- reprinted\n%.80s\n", i,
              text + i, back + i);
    }
    free(back);
  }
  af_case_free(&c);
  return same;
}

static char *read_file(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)len + 1);
  *n = fread(buf, 1, (size_t)len, f);
  buf[*n] = 0;
  fclose(f);
  return buf;
}

/* ---- a hand-built case with every scalar kind, value kind and op ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void) { /* xorshift64*: test data only */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545f4914f6cdd1dull;
}

/* Valid random bytes for a value: bools 0/1, f80 canonical (and zero padding). */
static void fill(const af_case *c, int type, uint8_t *b) {
  uint32_t size = c->types[type].size;
  for (uint32_t i = 0; i < size; i++)
    b[i] = (uint8_t)rnd();
  if (type == AF_T_BOOL) b[0] &= 1;
  if (type == AF_T_F80) {
    memset(b + 10, 0, 6);
    b[7] |= 0x80; /* exponent below is non-zero */
    b[9] = (uint8_t)(b[9] & 0x3f) | 0x01;
  }
  if (type >= AF_T_NSCALAR) {
    const af_type *t = &c->types[type];
    if (t->kind == AF_T_ARRAY)
      for (uint32_t i = 0; i < t->count; i++)
        fill(c, t->elem, b + i * c->types[t->elem].size);
    if (t->kind == AF_T_STRUCT)
      for (int i = 0; i < t->nfields; i++)
        if (t->fields[i].bits < 0) fill(c, t->fields[i].type, b + t->fields[i].offset);
  }
}

static void inst(af_case *c, int fn, af_op op, int type, int nargs, const int *args, int64_t imm) {
  af_inst in;
  memset(&in, 0, sizeof in);
  in.op = op;
  in.type = type;
  in.nargs = nargs;
  for (int k = 0; k < nargs; k++)
    in.args[k] = args[k];
  in.imm = imm;
  CHECK(af_inst_add(c, fn, &in) >= -1);
}

static void build_all(af_case *c) {
  af_case_init(c);
  c->seed = 0xfedcba9876543210ull;
  c->index = 99;
  c->cc = AF_CC_WIN64;
  af_field fs[6] = {{AF_T_BOOL, -1, 0, 0, 0}, {AF_T_U16, 5, 0, 0, 0},   {AF_T_I64, 0, 0, 0, 0},
                    {AF_T_F80, -1, 32, 0, 0}, {AF_T_CF64, -1, 0, 0, 0}, {AF_T_I8, 7, 0, 0, 0}};
  CHECK(af_type_add_struct(c, AF_T_STRUCT, 6, fs, 0, 64) == 21);
  CHECK(af_type_add_struct(c, AF_T_STRUCT, 0, NULL, 0, 0) == 22);
  CHECK(af_type_add_array(c, AF_T_M128, 2) == 23);
  CHECK(af_type_add_array(c, 23, 3) == 24);
  af_field fu[3] = {{24, -1, 0, 0, 0}, {AF_T_BOOL, 1, 0, 0, 0}, {AF_T_F16, -1, 0, 0, 0}};
  CHECK(af_type_add_struct(c, AF_T_UNION, 3, fu, 0, 0) == 25);
  af_field fp[3] = {{AF_T_U8, -1, 0, 0, 0}, {22, -1, 0, 0, 0}, {AF_T_U128, -1, 0, 0, 0}};
  CHECK(af_type_add_struct(c, AF_T_STRUCT, 3, fp, 1, 2) == 26);
  CHECK(af_layout(c) == AF_OK);
  c->nobjects = 3;
  for (int k = 0; k < 3; k++)
    for (int i = 0; i < AF_REGION_SIZE; i++)
      c->objects[k].init[i] = (uint8_t)rnd();

  /* f0 (entry): one parameter of every value kind but m256 and f16, then the composites. */
  af_sig s;
  memset(&s, 0, sizeof s);
  s.cc = AF_CC_WIN64;
  s.ret = 21;
  for (int t = AF_T_BOOL; t <= AF_T_M256; t++)
    s.params[s.nparams++] = t;
  for (int t = 21; t <= 26; t++)
    if (t != 23 && t != 24) s.params[s.nparams++] = t;
  s.nfixed = s.nparams;
  CHECK(af_func_add(c, &s, 0) == 0);
  af_sig h;
  memset(&h, 0, sizeof h);
  h.cc = AF_CC_SYSV;
  h.ret = AF_T_VOID;
  h.nparams = 4;
  h.params[0] = AF_T_I32, h.params[1] = AF_T_F64, h.params[2] = AF_T_F80, h.params[3] = 26;
  h.variadic = 1;
  h.nfixed = 1;
  CHECK(af_func_add(c, &h, 1) == 1);

  int np = s.nparams, v = np;
  /* constants of every non-ptr value type */
  int consts[64], nc = 0;
  for (int t = AF_T_BOOL; t < c->ntypes; t++) {
    if (t == AF_T_PTR || t == 23 || t == 24) continue;
    af_inst in;
    memset(&in, 0, sizeof in);
    in.op = AF_OP_CONST;
    in.type = t;
    CHECK(af_value_init(c, &in.cst, t) == AF_OK);
    fill(c, t, in.cst.bytes);
    CHECK(af_inst_add(c, 0, &in) == v);
    consts[nc++] = v++;
  }
  int a[32];
  /* integer ops on i32 params (param index of i32 = AF_T_I32 - 1) */
  int i32 = AF_T_I32 - 1, f64 = AF_T_F64 - 1, f80 = AF_T_F80 - 1, ptr = AF_T_PTR - 1;
  for (af_op op = AF_OP_ADD; op <= AF_OP_ASHR; op++) {
    a[0] = i32, a[1] = i32;
    inst(c, 0, op, AF_T_I32, 2, a, 0);
    v++;
  }
  for (int k = 0; k < AF_CMP_COUNT; k++) {
    a[0] = i32, a[1] = i32;
    inst(c, 0, AF_OP_CMP, AF_T_BOOL, 2, a, k);
    v++;
  }
  int cmpv = v - 1;
  a[0] = cmpv, a[1] = ptr, a[2] = ptr;
  inst(c, 0, AF_OP_SELECT, AF_T_PTR, 3, a, 0);
  v++;
  a[0] = i32;
  inst(c, 0, AF_OP_SEXT, AF_T_I128, 1, a, 0), v++;
  inst(c, 0, AF_OP_ZEXT, AF_T_U64, 1, a, 0), v++;
  inst(c, 0, AF_OP_TRUNC, AF_T_BOOL, 1, a, 0), v++;
  inst(c, 0, AF_OP_ITOF, AF_T_F16, 1, a, 0), v++;
  inst(c, 0, AF_OP_BITCAST, AF_T_F32, 1, a, 0), v++;
  a[0] = f80, a[1] = f80;
  inst(c, 0, AF_OP_FADD, AF_T_F80, 2, a, 0), v++;
  inst(c, 0, AF_OP_FSUB, AF_T_F80, 2, a, 0), v++;
  inst(c, 0, AF_OP_FMUL, AF_T_F80, 2, a, 0), v++;
  a[0] = f64;
  inst(c, 0, AF_OP_FCONV, AF_T_F80, 1, a, 0), v++;
  inst(c, 0, AF_OP_FTOI, AF_T_U128, 1, a, 0), v++;
  af_inst g;
  memset(&g, 0, sizeof g);
  g.op = AF_OP_GET;
  g.type = AF_T_F32;
  g.nargs = 1;
  g.args[0] = np - 2; /* the t25 union parameter */
  g.npath = 4;
  g.path[0] = 0, g.path[1] = 2, g.path[2] = 1, g.path[3] = 3;
  CHECK(af_inst_add(c, 0, &g) == v);
  int getv = v++;
  af_inst st = g;
  st.op = AF_OP_SET;
  st.type = 25;
  st.nargs = 2;
  st.args[1] = getv;
  CHECK(af_inst_add(c, 0, &st) == v);
  v++;
  a[0] = ptr;
  inst(c, 0, AF_OP_LOAD, AF_T_M128, 1, a, 112), v++;
  a[0] = ptr, a[1] = v - 1;
  inst(c, 0, AF_OP_STORE, AF_T_M128, 2, a, 0);
  inst(c, 0, AF_OP_LOCAL, AF_T_PTR, 0, a, 64), v++;
  a[0] = i32, a[1] = f64, a[2] = f80, a[3] = np - 1;
  inst(c, 0, AF_OP_CALL, AF_T_VOID, 4, a, 1);
  int n = 0;
  for (int k = 0; k < 32 && k < v; k++)
    a[n++] = v - 1 - k;
  inst(c, 0, AF_OP_MIX, AF_T_U64, n, a, (int64_t)0x8000000000000001ull);
  a[0] = np - 4; /* t21 */
  inst(c, 0, AF_OP_RET, 21, 1, a, 0);
  a[0] = 0;
  inst(c, 1, AF_OP_MIX, AF_T_U64, 4, (int[]){0, 1, 2, 3}, -1);
  inst(c, 1, AF_OP_RET, AF_T_VOID, 0, a, 0);
  CHECK(af_fn_finish(c, 0) == AF_OK);
  CHECK(af_fn_finish(c, 1) == AF_OK);
  (void)consts;

  c->entry = 0;
  c->ninputs = s.nparams;
  for (int i = 0; i < s.nparams; i++) {
    CHECK(af_value_init(c, &c->inputs[i], s.params[i]) == AF_OK);
    if (s.params[i] == AF_T_PTR)
      c->inputs[i].obj = 2;
    else
      fill(c, s.params[i], c->inputs[i].bytes);
  }
}

static void test_handbuilt(void) {
  for (int round = 0; round < 50; round++) {
    af_case c, d;
    af_error err = {{0}};
    build_all(&c);
    af_status s = af_verify(&c, &err);
    CHECKF(s == AF_OK, "hand-built case: %s", err.msg);
    size_t n;
    char *text = print(&c, &n);
    if (round == 0) {
      /* Spot-check the syntax that the documentation promises. */
      char head[96];
      snprintf(head, sizeof head, "# abifuzz case, generator %d\n", AF_GEN_VERSION);
      CHECK(strstr(text, head) == text);
      CHECK(strstr(text, "\n# seed 18364758544493064720 index 99 abi win64\n") ==
            text + strlen(head) - 1);
      CHECK(strstr(text, "type t21 = struct align 64 { bool, u16:5, i64:0, f80 align 32, cf64, "
                         "i8:7 }") != NULL);
      CHECK(strstr(text, "type t22 = struct { }  # size 0 align 1\n") != NULL);
      CHECK(strstr(text, "type t24 = array 3 x t23  # size 96 align 16\n") != NULL);
      CHECK(strstr(text, "func f1 host sysv (i32, ..., f64, f80, t26) -> void {\n") != NULL);
      CHECK(strstr(text, " = const t22 {}\n") != NULL);
      CHECK(strstr(text, " = get f32 v") != NULL && strstr(text, " [0, 2, 1, 3]\n") != NULL);
      CHECK(strstr(text, " = mix u64 0x8000000000000001 (") != NULL);
      CHECK(strstr(text, "  call void f1 (v") != NULL);
      CHECK(strstr(text, " = local ptr 64\n") != NULL);
      CHECK(strstr(text, " = load m128 v17 +112\n") != NULL);
      CHECK(strstr(text, "input ptr obj 2\n") != NULL);
    }
    s = parse_copy("built", text, n, &d, &err);
    CHECKF(s == AF_OK, "parse of the hand-built case: %s", err.msg);
    if (s == AF_OK) {
      size_t n2;
      char *text2 = print(&d, &n2);
      CHECK(n2 == n && memcmp(text, text2, n) == 0);
      free(text2);
      /* The parsed case is the same case, not only the same text. */
      CHECK(d.seed == c.seed && d.index == c.index && d.cc == c.cc && d.ntypes == c.ntypes);
      CHECK(d.nfuncs == c.nfuncs && d.ninputs == c.ninputs && d.nobjects == c.nobjects);
      CHECK(memcmp(d.objects, c.objects, sizeof c.objects) == 0);
      for (int i = 0; i < c.ninputs; i++)
        CHECK(d.inputs[i].size == c.inputs[i].size && d.inputs[i].obj == c.inputs[i].obj &&
              (!c.inputs[i].size ||
               memcmp(d.inputs[i].bytes, c.inputs[i].bytes, c.inputs[i].size) == 0));
      for (int f = 0; f < c.nfuncs; f++) {
        CHECK(memcmp(&d.funcs[f].sig, &c.funcs[f].sig, sizeof(af_sig)) == 0);
        CHECK(d.funcs[f].ninsts == c.funcs[f].ninsts);
        for (int k = 0; k < c.funcs[f].ninsts && k < d.funcs[f].ninsts; k++) {
          const af_inst *x = &c.funcs[f].insts[k], *y = &d.funcs[f].insts[k];
          CHECK(x->op == y->op && x->type == y->type && x->dst == y->dst && x->imm == y->imm);
          CHECK(x->nargs == y->nargs && memcmp(x->args, y->args, sizeof x->args) == 0);
          CHECK(x->npath == y->npath && memcmp(x->path, y->path, sizeof x->path) == 0);
          if (x->op == AF_OP_CONST)
            CHECK(x->cst.size == y->cst.size &&
                  (!x->cst.size || memcmp(x->cst.bytes, y->cst.bytes, x->cst.size) == 0));
        }
      }
    }
    af_case_free(&d);
    af_case_free(&c);
    free(text);
  }
}

/* ---- the seeds (corpus/seeds, files ending in .case) are canonical ---- */

static void test_seeds(void) {
  const char *dir = AF_SOURCE_DIR "/corpus/seeds";
  DIR *d = opendir(dir);
  CHECKF(d != NULL, "cannot open %s", dir);
  if (!d) return;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    size_t l = strlen(e->d_name);
    if (l < 6 || strcmp(e->d_name + l - 5, ".case") != 0) continue;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    size_t len;
    char *text = read_file(path, &len);
    CHECKF(text != NULL, "cannot read %s", path);
    if (text) roundtrip_text(e->d_name, text, len);
    af_case c;
    af_error err;
    CHECKF(af_parse_file(path, &c, &err) == AF_OK, "%s", err.msg);
    af_case_free(&c);
    free(text);
    n++;
  }
  closedir(d);
  CHECKF(n >= 3, "only %d seeds", n);
  af_case c;
  af_error err;
  CHECK(af_parse_file("/nonexistent/x.case", &c, &err) == AF_ERR_IO);
  CHECK(strstr(err.msg, "/nonexistent/x.case: cannot open") == err.msg);
  af_case_free(&c);
}

#include "test_text_bad.h"

int main(int argc, char **argv) {
  long mutations = argc > 1 ? atol(argv[1]) : 100000;
  test_handbuilt();
  test_seeds();
  test_malformed();
  test_robust(mutations);
  return check_done();
}
