/* test_layout.c - af_layout against hand-computed layouts and against gcc and clang. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "abi_testlib.h"

/* A row: type definitions in a tiny notation, the last one checked against
 * hand-computed values.
 *   def    := ("S" | "U") ["p"] ["aN"] ":" field*
 *   field  := ["aN/"] base [":" bits] ["*" count]
 *   base   := scalar name ("i32", "f80", ...) | "$k" (the k-th def of the row)
 * expect := "size align off..." where a bit-field's offset is "bN" (bit
 * offset) and a zero-width bit-field's is "-" (not checked). */
typedef struct {
  const char *defs[4];
  const char *expect;
} row;

static const row rows[] = {
    {{"S: i8 i32 i8"}, "12 4 0 4 8"},
    {{"S: i8 i64"}, "16 8 0 8"},
    {{"S p: i8 i32 i8"}, "6 1 0 1 5"},
    {{"S p a4: i8 i32"}, "8 4 0 1"},
    {{"S a16: i32"}, "16 16 0"},
    {{"S: i8 a8/i16"}, "16 8 0 8"},
    {{"S p: i8 a4/i32"}, "8 4 0 4"},
    {{"S:"}, "0 1"},
    {{"S a8:"}, "0 8"},
    {{"U: i8 i64 f32"}, "8 8 0 0 0"},
    {{"U: i8*3 i16"}, "4 2 0 0"},
    {{"S: i8 f64*3"}, "32 8 0 8"},
    {{"S: f80 i8"}, "32 16 0 16"},
    {{"S: i8 m128"}, "32 16 0 16"},
    {{"S: i8 m256"}, "64 32 0 32"},
    {{"S: i8 i128"}, "32 16 0 16"},
    {{"S: cf32 i8"}, "12 4 0 8"},
    {{"S: i8 cf64"}, "24 8 0 8"},
    {{"S: i8 i32", "S: i8 $0 i8"}, "16 4 0 4 12"},
    {{"S p: i8 i32", "S: i8 $0"}, "6 1 0 1"},
    {{"S a16: i8", "S: i8 $0*2"}, "48 16 0 16"},
    {{"S: i32:3 i32:5 i8"}, "4 4 b0 b3 1"},
    {{"S: i8:7 i8:2"}, "2 1 b0 b8"},
    {{"S: i32:30 i32:4"}, "8 4 b0 b32"},
    {{"S: i8 i32:0 i8"}, "5 1 0 - 4"},
    {{"S: i64:40 i8"}, "8 8 b0 5"},
    {{"S: i8 i64:60 i8"}, "24 8 0 b64 16"},
    {{"S p: i8 i64:60 i8"}, "10 1 0 b8 9"},
    {{"S: u16:9 u16:9 bool:1"}, "4 2 b0 b16 b25"},
    {{"S p: i8 i64:0 i8"}, "9 1 0 - 8"},
    {{"U: i32:3 i8"}, "4 4 b0 0"},
    {{"U: i64:0 i8"}, "1 1 - 0"},
    {{"S: bool:1 bool:1 i8:6"}, "1 1 b0 b1 b2"},
    {{"S: i8 i16:0 i16:4"}, "4 2 0 - b16"},
    {{"S: i16*3 i8"}, "8 2 0 6"},
    {{"S a8: i32", "S p: i8 $0"}, "9 1 0 1"},
    {{"S: i64*64"}, "512 8 0"},
    {{"U: m256*16"}, "512 32 0"},
    {{"S: u8:3 u32:20 u64:41"}, "8 8 b0 b3 b23"},
    {{"S: u8:3 u32:20 u64:42"}, "16 8 b0 b3 b64"},
    {{"S: i8:3 u64:61", "S: $0*3 i8"}, "32 8 0 24"},
    {{"U: f64 i8*9", "S: i8 $0"}, "24 8 0 8"},
    {{"S: i8 f32", "U: i32 $0", "S: f16 $1"}, "12 4 0 4"},
    {{"S: u32:17 u32:17 u32:17"}, "12 4 b0 b32 b64"},
    {{"S p: u32:17 u32:17 u32:17"}, "7 1 b0 b17 b34"},
    {{"S p a2: i8 u16:12 i8"}, "4 2 0 b8 3"},
    {{"S a64: i8", "S: i8 $0"}, "128 64 0 64"},
    {{"S: i8 a16/i8 i8"}, "32 16 0 16 17"},
    {{"U p: i8 i64"}, "8 1 0 0"},
    {{"S: i8 u64:0 i8:3 i32:0 i16"}, "14 2 0 - b64 - 12"},
    {{"S: f16 f16 f32"}, "8 4 0 2 4"},
    {{"S: ptr bool"}, "16 8 0 8"},
};
#define NROWS ((int)(sizeof rows / sizeof rows[0]))

static void c_asserts(FILE *o, const af_case *c, int r) {
  fprintf(o, "#ifndef NO_ASSERTS\n");
  for (int id = AF_T_NSCALAR; id < c->ntypes; id++) {
    const af_type *t = &c->types[id];
    if (t->kind == AF_T_ARRAY) continue;
    const char *k = t->kind == AF_T_UNION ? "union" : "struct";
    fprintf(o, "_Static_assert(sizeof(%s r%d_t%d) == %u, \"r%d t%d size\");\n", k, r, id, t->size,
            r, id);
    fprintf(o, "_Static_assert(_Alignof(%s r%d_t%d) == %u, \"r%d t%d align\");\n", k, r, id,
            t->alignment, r, id);
    for (int i = 0; i < t->nfields; i++)
      if (t->fields[i].bits < 0)
        fprintf(o, "_Static_assert(offsetof(%s r%d_t%d, f%d) == %u, \"r%d t%d f%d\");\n", k, r, id,
                i, t->fields[i].offset, r, id, i);
  }
  fprintf(o, "#endif\n");
}

/* main() body lines: set each named bit-field to all ones in a zeroed value
 * and print the bytes as "r t f hex". */
static void c_bitprog(FILE *o, const af_case *c, int r) {
  for (int id = AF_T_NSCALAR; id < c->ntypes; id++) {
    const af_type *t = &c->types[id];
    if (t->kind == AF_T_ARRAY) continue;
    const char *k = t->kind == AF_T_UNION ? "union" : "struct";
    for (int i = 0; i < t->nfields; i++) {
      if (t->fields[i].bits <= 0) continue;
      fprintf(o, "  { %s r%d_t%d v; memset(&v, 0, sizeof v); v.f%d = %s; ", k, r, id, i,
              t->fields[i].type == AF_T_BOOL ? "1" : "-1");
      fprintf(o, "dump(%d, %d, %d, &v, sizeof v); }\n", r, id, i);
    }
  }
}

static int run(const char *cmd) {
  int rc = system(cmd);
  if (rc != 0) fprintf(stderr, "command failed (%d): %s\n", rc, cmd);
  return rc;
}

static void check_row(int r, af_case *c) {
  int ids[4] = {0};
  int n = 0;
  for (; n < 4 && rows[r].defs[n]; n++) {
    ids[n] = parse_def(c, rows[r].defs[n], ids);
    CHECKF(ids[n] >= 0, "row %d def %d", r, n);
    if (ids[n] < 0) return;
  }
  af_status s = af_layout(c);
  CHECKF(s == AF_OK, "row %d: %s", r, af_strerror(s));
  if (s != AF_OK) return;
  const af_type *t = &c->types[ids[n - 1]];
  const char *e = rows[r].expect;
  char *end;
  unsigned size = (unsigned)strtoul(e, &end, 10);
  unsigned align = (unsigned)strtoul(end, &end, 10);
  CHECKF(t->size == size, "row %d (%s): size %u, expected %u", r, rows[r].defs[n - 1], t->size,
         size);
  CHECKF(t->alignment == align, "row %d (%s): align %u, expected %u", r, rows[r].defs[n - 1],
         t->alignment, align);
  for (int i = 0;; i++) {
    while (*end == ' ')
      end++;
    if (!*end) {
      CHECKF(i == t->nfields, "row %d: %d offsets for %d fields", r, i, t->nfields);
      break;
    }
    if (i >= t->nfields) {
      CHECKF(0, "row %d: too many offsets", r);
      break;
    }
    const af_field *f = &t->fields[i];
    if (*end == '-') {
      end++;
    } else if (*end == 'b') {
      unsigned b = (unsigned)strtoul(end + 1, &end, 10);
      CHECKF(f->bits > 0 && f->bit_offset == b && f->offset == b / 8,
             "row %d field %d: bit offset %u, expected %u", r, i, f->bit_offset, b);
    } else {
      unsigned o = (unsigned)strtoul(end, &end, 10);
      CHECKF(f->offset == o && f->bit_offset == 8 * o, "row %d field %d: offset %u, expected %u", r,
             i, f->offset, o);
    }
  }
}

/* Invalid types and limits. */
static void check_errors(void) {
  static const struct {
    const char *def;
    af_status want;
  } bad[] = {
      {"S: i8:9", AF_ERR_INVALID},   {"S: bool:2", AF_ERR_INVALID},
      {"S: f32:3", AF_ERR_INVALID},  {"S: i128:3", AF_ERR_INVALID},
      {"S: a3/i32", AF_ERR_INVALID}, {"S a128: i8", AF_ERR_INVALID},
      {"S: i64*65", AF_ERR_LIMIT},   {"S: m256*16 i8", AF_ERR_LIMIT},
      {"S: i64:65", AF_ERR_INVALID}, {"S: void", AF_ERR_INVALID},
      {"S: a4/i64", AF_ERR_INVALID},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    af_case c;
    af_case_init(&c);
    int ids[4] = {0};
    int id = parse_def(&c, bad[i].def, ids);
    af_status s = id < 0 ? AF_ERR_INVALID : af_layout(&c);
    CHECKF(s == bad[i].want, "%s: %s, expected %s", bad[i].def, af_strerror(s),
           af_strerror(bad[i].want));
    af_case_free(&c);
  }
  /* A field referring to a later type id. */
  af_case c;
  af_case_init(&c);
  af_field f = {.type = AF_T_NSCALAR + 1, .bits = -1};
  af_type_add_struct(&c, AF_T_STRUCT, 1, &f, 0, 0);
  f.type = AF_T_I32;
  af_type_add_struct(&c, AF_T_STRUCT, 1, &f, 0, 0);
  CHECK(af_layout(&c) == AF_ERR_INVALID);
  /* A struct containing itself. */
  c.types[AF_T_NSCALAR].fields[0].type = AF_T_NSCALAR;
  CHECK(af_layout(&c) == AF_ERR_INVALID);
  af_case_free(&c);
}

int main(void) {
  char dir[400], path[450], cmd[4096];
  snprintf(dir, sizeof dir, "%s/test_layout.d", AF_BINARY_DIR);
  snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
  if (run(cmd) != 0) return 1;
  snprintf(path, sizeof path, "%s/layouts.c", dir);
  FILE *o = fopen(path, "w");
  CHECK(o != NULL);
  if (!o) return check_done();
  fprintf(o, "#include <stddef.h>\n#include <stdint.h>\n#include <stdio.h>\n#include <string.h>\n"
             "#include <immintrin.h>\n");
  fprintf(o, "static void dump(int r, int t, int f, const void *p, size_t n) {\n"
             "  printf(\"%%d %%d %%d \", r, t, f);\n"
             "  for (size_t i = 0; i < n; i++) printf(\"%%02x\", ((const unsigned char *)p)[i]);\n"
             "  printf(\"\\n\");\n}\n");
  af_case cases[NROWS];
  for (int r = 0; r < NROWS; r++) {
    af_case_init(&cases[r]);
    check_row(r, &cases[r]);
    c_types(o, &cases[r], r);
    c_asserts(o, &cases[r], r);
  }
  fprintf(o, "int main(void) {\n");
  for (int r = 0; r < NROWS; r++)
    c_bitprog(o, &cases[r], r);
  fprintf(o, "  return 0;\n}\n");
  fclose(o);
  check_errors();

  /* The compilers must agree with every computed size/alignment/offset. */
  const char *compilers[2] = {AF_GCC, AF_CLANG};
  for (int i = 0; i < 2; i++) {
    if (!compilers[i][0]) {
      printf("skip: compiler %d not found\n", i);
      continue;
    }
    snprintf(cmd, sizeof cmd, "'%s' -std=gnu11 -mavx -fsyntax-only '%s'", compilers[i], path);
    CHECKF(run(cmd) == 0, "%s rejects the computed layouts (see %s)", compilers[i], path);
  }

  /* Bit-field images from gcc against the computed bit offsets. */
  if (AF_GCC[0]) {
    char exe[450], out[450];
    snprintf(exe, sizeof exe, "%s/layouts", dir);
    snprintf(out, sizeof out, "%s/layouts.out", dir);
    snprintf(cmd, sizeof cmd, "'%s' -std=gnu11 -mavx -w -DNO_ASSERTS -o '%s' '%s' && '%s' > '%s'",
             AF_GCC, exe, path, exe, out);
    int ok = run(cmd) == 0;
    CHECK(ok);
    FILE *in = ok ? fopen(out, "r") : NULL;
    int seen = 0;
    int r, t, f;
    char hex[2 * AF_MAX_TYPE_SIZE + 2];
    while (in && fscanf(in, "%d %d %d %1025s", &r, &t, &f, hex) == 4) {
      seen++;
      const af_type *ty = &cases[r].types[t];
      const af_field *fd = &ty->fields[f];
      CHECKF(strlen(hex) == 2 * ty->size, "r%d t%d: %zu bytes", r, t, strlen(hex) / 2);
      for (uint32_t b = 0; b < ty->size; b++) {
        unsigned got, want = 0;
        sscanf(hex + 2 * b, "%2x", &got);
        for (int k = 0; k < 8; k++) {
          uint32_t bit = 8 * b + (uint32_t)k;
          if (bit >= fd->bit_offset && bit < fd->bit_offset + (uint32_t)fd->bits) want |= 1u << k;
        }
        CHECKF(got == want, "row %d t%d f%d byte %u: gcc %02x, layout %02x", r, t, f, b, got, want);
      }
    }
    CHECKF(seen >= 30, "only %d bit-field images", seen);
    if (in) fclose(in);
  }
  for (int r = 0; r < NROWS; r++)
    af_case_free(&cases[r]);
  return check_done();
}
