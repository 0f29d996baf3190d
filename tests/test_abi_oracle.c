/* test_abi_oracle.c - af_classify against what gcc and clang really do, on seeded random
 * signatures. */
#include <stdarg.h>

#include "abi_testlib.h"

/* For each convention, the test builds a pool of random struct/union types
 * and NSIG random signatures, then writes one C file in which, per signature:
 *  - call_i() fills every argument with known bytes and calls callee_i;
 *  - callee_i is an assembly stub that stores all 16 GPRs and YMM0-15, the
 *    outgoing stack area and the bytes behind every pointer af_classify
 *    says is a by-reference argument, then returns (RAX = the sret pointer
 *    when af_classify says sret);
 *  - ret_i() is an assembly stub that loads known bytes into RAX RDX YMM0 YMM1
 *    (RAX holds a valid address, in case the compiler expects an sret
 *    pointer back), ST0 when af_classify says x87, or fills the sret buffer;
 *    the caller stores what it received.
 * The file is compiled by gcc and by clang; the test reads the dumps back and
 * checks every defined bit (padding excluded) where af_classify says it is.
 * Signatures that af_abi_deviates() lists for a compiler are skipped for it. */

#define NSIG       160
#define STACK_DUMP 512

typedef struct {
  uint64_t s;
} lcg;

static uint32_t rnd(lcg *r, uint32_t n) {
  r->s = r->s * 6364136223846793005ull + 1442695040888963407ull;
  return (uint32_t)(r->s >> 33) % n;
}

/* Scalars the generator draws (no bool: its bytes must be 0/1). */
static const int gen_scalars[] = {AF_T_I8,  AF_T_U8,   AF_T_I16,  AF_T_U16,  AF_T_I32, AF_T_U32,
                                  AF_T_I64, AF_T_U64,  AF_T_I128, AF_T_F16,  AF_T_F32, AF_T_F64,
                                  AF_T_F80, AF_T_CF32, AF_T_CF64, AF_T_M128, AF_T_M256};
#define NGS ((int)(sizeof gen_scalars / sizeof gen_scalars[0]))

static int pick_scalar(lcg *r) {
  /* favour the small ones: they make the interesting eightbyte mixes */
  int i = rnd(r, 3) ? (int)rnd(r, 12) : (int)rnd(r, NGS);
  if (gen_scalars[i] == AF_T_M256 && rnd(r, 2)) return AF_T_F32;
  return gen_scalars[i];
}

static uint32_t type_align(const af_case *c, int t) {
  return c->types[t].kind == AF_T_ARRAY ? type_align(c, c->types[t].elem) : c->types[t].alignment;
}

static int has_f80(const af_case *c, int t) { return af_type_has(c, t, AF_T_F80); }

/* Adds one random struct/union to the pool; -1 if it came out unusable. */
static int gen_type(af_case *c, lcg *r, int npool, const int *pool) {
  af_field fs[8];
  int start = c->ntypes;
  int n = 1 + (int)rnd(r, 5);
  af_kind kind = rnd(r, 6) == 0 ? AF_T_UNION : AF_T_STRUCT;
  int packed = rnd(r, 8) == 0, align = rnd(r, 10) == 0 ? 8 << rnd(r, 3) : 0;
  for (int i = 0; i < n; i++) {
    af_field *f = &fs[i];
    memset(f, 0, sizeof *f);
    f->bits = -1;
    uint32_t k = rnd(r, 10);
    if (k < 6 || npool == 0) {
      f->type = pick_scalar(r);
    } else if (k < 8) {
      f->type = pool[rnd(r, (uint32_t)npool)];
    } else if (k == 8) {
      int e = rnd(r, 2) ? pick_scalar(r) : pool[rnd(r, (uint32_t)npool)];
      f->type = af_type_add_array(c, e, 1 + rnd(r, 4));
      if (f->type < 0) return -1;
    } else {
      static const int bt[] = {AF_T_I8, AF_T_U16, AF_T_I32, AF_T_U32, AF_T_I64, AF_T_U64};
      f->type = bt[rnd(r, 6)];
      int w = 8 * af_scalar((af_kind)f->type)->size;
      f->bits = rnd(r, 8) == 0 ? 0 : 1 + (int)rnd(r, (uint32_t)w);
    }
    if (kind == AF_T_UNION && has_f80(c, f->type)) f->type = AF_T_F64;
    if (f->bits < 0 && !packed && type_align(c, f->type) <= 16 && rnd(r, 12) == 0) f->align = 16;
  }
  int id = af_type_add_struct(c, kind, n, fs, packed, align);
  if (id < 0 || af_layout(c) != AF_OK || c->types[id].size > 64) {
    c->ntypes = start; /* drop it and its arrays */
    return -1;
  }
  return id;
}

static int variadic_ok(int t) {
  /* default-promoted types only (gen.h) */
  return !(t == AF_T_BOOL || (t >= AF_T_I8 && t <= AF_T_U16) || t == AF_T_F16 || t == AF_T_F32);
}

static void gen_sig(lcg *r, af_cc cc, int npool, const int *pool, af_sig *s) {
  memset(s, 0, sizeof *s);
  s->cc = cc;
  int kr = (int)rnd(r, 10);
  s->ret = kr < 2 ? AF_T_VOID : kr < 6 ? pick_scalar(r) : pool[rnd(r, (uint32_t)npool)];
  s->nparams = (int)rnd(r, 13);
  s->variadic = s->nparams > 1 && rnd(r, 6) == 0;
  s->nfixed = s->variadic ? 1 + (int)rnd(r, (uint32_t)s->nparams - 1) : s->nparams;
  for (int i = 0; i < s->nparams; i++) {
    int t;
    do {
      t = rnd(r, 2) ? pick_scalar(r) : pool[rnd(r, (uint32_t)npool)];
    } while (i >= s->nfixed && !variadic_ok(t));
    s->params[i] = t;
  }
}

/* ---- the bytes every argument carries, and which bits are defined ---- */

static uint8_t pat_byte(int sig, int arg, uint32_t j) {
  uint32_t h = (uint32_t)sig * 2654435761u ^ (uint32_t)(arg + 1) * 40503u ^ j * 2246822519u;
  h ^= h >> 15;
  h *= 2246822519u;
  h ^= h >> 13;
  return (uint8_t)h;
}

/* Marks the defined bits of type t at byte off in mask; makes f80 leaves
 * canonical in bytes (x87 loads must not alter them). */
static void defined_bits(const af_case *c, int t, uint32_t off, uint8_t *mask, uint8_t *bytes) {
  const af_type *ty = &c->types[t];
  if (t < AF_T_NSCALAR) {
    uint32_t n = t == AF_T_F80 ? 10 : ty->size;
    memset(mask + off, 0xff, n);
    if (t == AF_T_F80 && bytes) {
      bytes[off + 7] |= 0x80; /* integer bit */
      bytes[off + 9] = 0x3f;  /* exponent near 1.0, sign clear */
      bytes[off + 8] = bytes[off + 8] | 1;
    }
    return;
  }
  if (ty->kind == AF_T_ARRAY) {
    for (uint32_t i = 0; i < ty->count; i++)
      defined_bits(c, ty->elem, off + i * c->types[ty->elem].size, mask, bytes);
    return;
  }
  for (int i = 0; i < ty->nfields; i++) {
    const af_field *f = &ty->fields[i];
    if (f->bits == 0) continue;
    if (f->bits > 0) {
      for (uint32_t b = 0; b < (uint32_t)f->bits; b++) {
        uint32_t bit = off * 8 + f->bit_offset + b;
        mask[bit / 8] |= (uint8_t)(1u << (bit % 8));
      }
      continue;
    }
    defined_bits(c, f->type, off + f->offset, mask, bytes);
  }
}

/* ---- emission ---- */

static void emit_stub_save(FILE *o) {
  static const char *const g[16] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                    "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};
  for (int i = 0; i < 16; i++)
    fprintf(o, "    \"movq %%%s, regs+%d(%%rip)\\n\"\n", g[i], 8 * i);
  for (int i = 0; i < 16; i++)
    fprintf(o, "    \"vmovdqu %%ymm%d, vregs+%d(%%rip)\\n\"\n", i, 32 * i);
}

static void emit_sig(FILE *o, const af_case *c, const af_sig *s, const af_callinfo *ci, int i) {
  const char *attr = s->cc == AF_CC_WIN64 ? "__attribute__((ms_abi))" : "";
  char d[256], nm[16];
  const char *rty = s->ret == AF_T_VOID ? "void" : NULL;
  char rbuf[128];
  if (!rty) {
    c_decl(c, 0, s->ret, "", rbuf, sizeof rbuf);
    rty = rbuf;
  }
  /* parameter list */
  char params[2048] = "";
  size_t pl = 0;
  for (int k = 0; k < s->nparams; k++) {
    if (s->variadic && k == s->nfixed) break;
    snprintf(nm, sizeof nm, "a%d", k);
    c_decl(c, 0, s->params[k], nm, d, sizeof d);
    pl += (size_t)snprintf(params + pl, sizeof params - pl, "%s%s", k ? ", " : "", d);
  }
  if (s->variadic) pl += (size_t)snprintf(params + pl, sizeof params - pl, ", ...");
  if (s->nparams == 0) snprintf(params, sizeof params, "void");
  /* by-reference arguments the snapshot must follow */
  fprintf(o, "static const struct ref refs_%d[] = {", i);
  int nrefs = 0;
  for (int k = 0; k < s->nparams; k++) {
    const af_loc *l = &ci->args[k];
    if (l->kind != AF_LOC_REF) continue;
    fprintf(o, "{%d, %d, %u},", l->nparts ? (int)l->parts[0].reg : -1, (int)l->stack_offset,
            c->types[s->params[k]].size);
    nrefs++;
  }
  fprintf(o, "{-1, 0, 0}};\n");
  /* argument stub */
  /* Top-level assembly, not naked C functions: gcc may emit spill code for
   * the parameters of a naked function. Callers see the real prototype
   * through an asm label. */
  fprintf(o, "%s %s callee_%d(%s) __asm__(\"callee_raw_%d\");\n", attr, rty, i, params, i);
  fprintf(o, "__asm__(\".text\\n.globl callee_raw_%d\\n.p2align 4\\ncallee_raw_%d:\\n\"\n", i, i);
  emit_stub_save(o);
  fprintf(o, "    \"leaq 8(%%rsp), %%rax\\n\" \"movq %%rax, call_sp(%%rip)\\n\"\n");
  if (s->cc == AF_CC_WIN64)
    fprintf(o, "    \"subq $40, %%rsp\\n\" \"call snap_ms\\n\" \"addq $40, %%rsp\\n\"\n");
  else
    fprintf(o, "    \"subq $8, %%rsp\\n\" \"call snap_sysv\\n\" \"addq $8, %%rsp\\n\"\n");
  if (ci->sret)
    fprintf(o, "    \"movq regs+%d(%%rip), %%rax\\n\"\n", 8 * (int)af_abi_get(s->cc)->sret_in);
  fprintf(o, "    \"ret\\n\");\n");
  /* return stub */
  if (s->ret != AF_T_VOID) {
    fprintf(o, "%s %s ret_%d(void) __asm__(\"ret_raw_%d\");\n", attr, rty, i, i);
    fprintf(o, "__asm__(\".text\\n.globl ret_raw_%d\\n.p2align 4\\nret_raw_%d:\\n\"\n", i, i);
    fprintf(o, "    \"leaq retpat(%%rip), %%rax\\n\" \"movq retpat+8(%%rip), %%rdx\\n\"\n"
               "    \"vmovdqu retpat+16(%%rip), %%ymm0\\n\" \"vmovdqu retpat+48(%%rip), "
               "%%ymm1\\n\"\n");
    if (ci->ret.kind == AF_LOC_X87) fprintf(o, "    \"fldt retf80(%%rip)\\n\"\n");
    if (ci->ret.kind == AF_LOC_SRET) {
      const char *in = af_reg_name(af_abi_get(s->cc)->sret_in);
      fprintf(o,
              "    \"movq %%%s, %%rax\\n\" \"cmpq %%rsp, %%rax\\n\" \"jb 2f\\n\"\n"
              "    \"leaq 8192(%%rsp), %%r11\\n\" \"cmpq %%r11, %%rax\\n\" \"jae 2f\\n\"\n"
              "    \"leaq retbuf(%%rip), %%r10\\n\" \"xorl %%r11d, %%r11d\\n\"\n"
              "    \"1: cmpq $%u, %%r11\\n\" \"jae 2f\\n\" \"movb (%%r10,%%r11), %%dl\\n\"\n"
              "    \"movb %%dl, (%%rax,%%r11)\\n\" \"incq %%r11\\n\" \"jmp 1b\\n\" \"2:\\n\"\n",
              in, c->types[s->ret].size);
    }
    fprintf(o, "    \"ret\\n\");\n");
  }
  /* caller */
  fprintf(o, "static void call_%d(void) {\n", i);
  for (int k = 0; k < s->nparams; k++) {
    uint32_t sz = c->types[s->params[k]].size;
    snprintf(nm, sizeof nm, "a%d", k);
    c_decl(c, 0, s->params[k], nm, d, sizeof d);
    fprintf(o, "  %s; static const unsigned char p%d[%u] = {", d, k, sz ? sz : 1);
    uint8_t bytes[AF_MAX_TYPE_SIZE], mask[AF_MAX_TYPE_SIZE];
    for (uint32_t j = 0; j < sz; j++)
      bytes[j] = pat_byte(i, k, j);
    memset(mask, 0, sizeof mask);
    defined_bits(c, s->params[k], 0, mask, bytes);
    for (uint32_t j = 0; j < sz; j++)
      fprintf(o, "%u,", bytes[j]);
    fprintf(o, "0}; memcpy(&a%d, p%d, %u);\n", k, k, sz);
  }
  fprintf(o, "  cur_refs = refs_%d; cur_nrefs = %d;\n  %scallee_%d(", i, nrefs,
          s->ret == AF_T_VOID ? "" : "(void)", i);
  for (int k = 0; k < s->nparams; k++)
    fprintf(o, "%sa%d", k ? ", " : "", k);
  fprintf(o, ");\n  dump_args(%d);\n", i);
  if (s->ret != AF_T_VOID)
    fprintf(o, "  { %s r = ret_%d(); dump_ret(%d, &r, sizeof r); }\n", rty, i, i);
  fprintf(o, "}\n");
}

static const char prelude[] =
    "#include <immintrin.h>\n#include <stdint.h>\n#include <stdio.h>\n#include <string.h>\n"
    "struct ref { int reg, off; unsigned size; };\n"
    "__attribute__((used)) uint64_t regs[16];\n"
    "__attribute__((used, aligned(32))) unsigned char vregs[16 * 32];\n"
    "__attribute__((used)) uint64_t call_sp;\n"
    "__attribute__((used, aligned(32))) unsigned char retpat[80];\n"
    "__attribute__((used, aligned(16))) unsigned char retf80[16] = "
    "{0x11,0x22,0x33,0x44,0x55,0x66,0x77,0x88,0x01,0x40};\n"
    "__attribute__((used)) unsigned char retbuf[512];\n"
    "static unsigned char stackbuf[512], refbuf[32][512]; static int refok[32];\n"
    "static const struct ref *cur_refs; static int cur_nrefs;\n"
    "__attribute__((used)) void snap_sysv(void) {\n"
    "  memcpy(stackbuf, (void *)call_sp, sizeof stackbuf);\n"
    "  for (int k = 0; k < cur_nrefs; k++) {\n"
    "    uint64_t p = cur_refs[k].reg >= 0 ? regs[cur_refs[k].reg]\n"
    "                                      : *(uint64_t *)(call_sp + cur_refs[k].off);\n"
    "    refok[k] = p >= call_sp && p + cur_refs[k].size <= call_sp + 8192;\n"
    "    if (refok[k]) memcpy(refbuf[k], (void *)p, cur_refs[k].size);\n"
    "  }\n}\n"
    "__attribute__((used, ms_abi)) void snap_ms(void) { snap_sysv(); }\n"
    "static void hex(const void *p, size_t n) {\n"
    "  for (size_t i = 0; i < n; i++) printf(\"%02x\", ((const unsigned char *)p)[i]);\n"
    "  if (!n) printf(\"-\");\n}\n"
    "static void dump_args(int i) {\n"
    "  printf(\"A %d \", i); hex(regs, sizeof regs); printf(\" \"); hex(vregs, sizeof vregs);\n"
    "  printf(\" \"); hex(stackbuf, sizeof stackbuf);\n"
    "  for (int k = 0; k < cur_nrefs; k++) {\n"
    "    printf(\" \");\n"
    "    if (refok[k]) hex(refbuf[k], cur_refs[k].size); else printf(\"X\");\n"
    "  }\n  printf(\"\\n\");\n}\n"
    "static void dump_ret(int i, const void *p, size_t n) {\n"
    "  printf(\"R %d \", i); hex(p, n); printf(\"\\n\");\n}\n";

/* ---- reading the dumps back ---- */

static int unhex(const char *s, uint8_t *out, size_t n) {
  for (size_t i = 0; i < n; i++) {
    unsigned v;
    if (sscanf(s + 2 * i, "%2x", &v) != 1) return -1;
    out[i] = (uint8_t)v;
  }
  return 0;
}

typedef struct {
  const af_case *c;
  const char *compiler;
  int checked, skipped, failed;
} tally;

/* Compares n bytes of `got` with `want` under `mask`; reports once. */
static int cmp_masked(const uint8_t *got, const uint8_t *want, const uint8_t *mask, uint32_t n) {
  for (uint32_t j = 0; j < n; j++)
    if ((got[j] ^ want[j]) & mask[j]) return 0;
  return 1;
}

static void fail(tally *t, const af_sig *s, int i, const char *fmt, ...) {
  va_list ap;
  char buf[256];
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  t->failed++;
  if (t->failed > 25) return;
  char sb[512], tb[16];
  size_t n = (size_t)snprintf(sb, sizeof sb, "%s(", af_type_name(t->c, s->ret, tb, sizeof tb));
  for (int k = 0; k < s->nparams && n < sizeof sb - 32; k++)
    n += (size_t)snprintf(sb + n, sizeof sb - n, "%s%s%s", k ? " " : "",
                          s->variadic && k == s->nfixed ? "... " : "",
                          af_type_name(t->c, s->params[k], tb, sizeof tb));
  fprintf(stderr, "%s %s sig %d %s): %s\n", t->compiler, af_cc_name(s->cc), i, sb, buf);
}

static void check_args(const af_case *c, const af_sig *s, const af_callinfo *ci, int i,
                       const char *line, tally *t) {
  uint8_t regs[128], vregs[512], stack[STACK_DUMP], ref[AF_MAX_TYPE_SIZE];
  const char *p = line;
  if (unhex(p, regs, sizeof regs)) {
    fail(t, s, i, "bad dump");
    return;
  }
  p += 2 * sizeof regs + 1;
  if (unhex(p, vregs, sizeof vregs)) {
    fail(t, s, i, "bad dump");
    return;
  }
  p += 2 * sizeof vregs + 1;
  if (unhex(p, stack, sizeof stack)) {
    fail(t, s, i, "bad dump");
    return;
  }
  p += 2 * sizeof stack;
  if (s->cc == AF_CC_SYSV && s->variadic && (regs[0] & 0xff) != ci->sse_used)
    fail(t, s, i, "AL %u, model %d", regs[0], ci->sse_used);
  for (int k = 0; k < s->nparams; k++) {
    const af_loc *l = &ci->args[k];
    uint32_t sz = c->types[s->params[k]].size;
    uint8_t want[AF_MAX_TYPE_SIZE], mask[AF_MAX_TYPE_SIZE];
    for (uint32_t j = 0; j < sz; j++)
      want[j] = pat_byte(i, k, j);
    memset(mask, 0, sizeof mask);
    defined_bits(c, s->params[k], 0, mask, want);
    switch (l->kind) {
    case AF_LOC_NONE: break;
    case AF_LOC_REG:
      for (int q = 0; q < l->nparts; q++) {
        const af_part *pt = &l->parts[q];
        const uint8_t *src =
            pt->reg < AF_XMM0 ? regs + 8 * pt->reg : vregs + 32 * (pt->reg - AF_XMM0);
        if (!cmp_masked(src, want + pt->offset, mask + pt->offset, pt->size))
          fail(t, s, i, "arg %d part %d: not in %s", k, q, af_reg_name(pt->reg));
      }
      if (l->dup != AF_REG_NONE && !cmp_masked(regs + 8 * l->dup, want, mask, sz))
        fail(t, s, i, "arg %d: not duplicated in %s", k, af_reg_name(l->dup));
      break;
    case AF_LOC_STACK:
      if (l->stack_offset + sz > STACK_DUMP) break;
      if (!cmp_masked(stack + l->stack_offset, want, mask, sz))
        fail(t, s, i, "arg %d: not at stack offset %d", k, (int)l->stack_offset);
      break;
    case AF_LOC_REF: {
      while (*p == ' ')
        p++;
      if (*p == 'X') {
        fail(t, s, i, "arg %d: no pointer to a copy where the model says", k);
        p++;
        break;
      }
      if (sz == 0) {
        p++; /* "-" */
        break;
      }
      if (unhex(p, ref, sz)) {
        fail(t, s, i, "bad ref dump");
        return;
      }
      p += 2 * sz;
      if (!cmp_masked(ref, want, mask, sz)) fail(t, s, i, "arg %d: by-reference copy differs", k);
      break;
    }
    default: fail(t, s, i, "arg %d: kind %d", k, l->kind);
    }
  }
}

static void check_ret(const af_case *c, const af_sig *s, const af_callinfo *ci, int i,
                      const char *line, const uint8_t *retpat_addr, tally *t) {
  uint32_t sz = c->types[s->ret].size;
  uint8_t got[AF_MAX_TYPE_SIZE], want[AF_MAX_TYPE_SIZE], mask[AF_MAX_TYPE_SIZE], pat[80];
  if (sz && unhex(line, got, sz)) {
    fail(t, s, i, "bad ret dump");
    return;
  }
  memset(mask, 0, sizeof mask);
  memset(want, 0, sizeof want);
  defined_bits(c, s->ret, 0, mask, NULL);
  for (int j = 0; j < 80; j++)
    pat[j] = (uint8_t)(0xa0 + j * 7);
  const af_loc *l = &ci->ret;
  switch (l->kind) {
  case AF_LOC_REG:
    for (int q = 0; q < l->nparts; q++) {
      const af_part *pt = &l->parts[q];
      const uint8_t *src = pt->reg == AF_RAX    ? retpat_addr
                           : pt->reg == AF_RDX  ? pat + 8
                           : pt->reg == AF_XMM0 ? pat + 16
                                                : pat + 48;
      memcpy(want + pt->offset, src, pt->size);
    }
    break;
  case AF_LOC_X87: {
    static const uint8_t f80[10] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x01, 0x40};
    memcpy(want, f80, 10);
    break;
  }
  case AF_LOC_SRET:
    for (uint32_t j = 0; j < sz; j++)
      want[j] = (uint8_t)(j * 13 + 5);
    break;
  default: return;
  }
  if (!cmp_masked(got, want, mask, sz)) fail(t, s, i, "return value not where the model says");
}

static void run_cc(af_cc cc, const char **compilers, const af_family *fams, const int *vers,
                   int ncomp, uint64_t seed) {
  af_case c;
  af_case_init(&c);
  lcg r = {seed};
  int pool[64], npool = 0;
  for (int tries = 0; npool < 48 && tries < 400 && c.ntypes < AF_MAX_TYPES - 8; tries++) {
    int id = gen_type(&c, &r, npool, pool);
    if (id >= 0) pool[npool++] = id;
  }
  CHECK(npool >= 20);
  static af_sig sigs[NSIG];
  static af_callinfo cis[NSIG];
  char dir[400], path[450], cmd[3072];
  snprintf(dir, sizeof dir, "%s/test_abi_oracle.d", AF_BINARY_DIR);
  snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
  if (system(cmd) != 0) return;
  snprintf(path, sizeof path, "%s/%s.c", dir, af_cc_name(cc));
  FILE *o = fopen(path, "w");
  CHECK(o != NULL);
  if (!o) return;
  fputs(prelude, o);
  c_types(o, &c, 0);
  for (int i = 0; i < NSIG; i++) {
    gen_sig(&r, cc, npool, pool, &sigs[i]);
    af_error err = {{0}};
    CHECKF(af_classify(&c, &sigs[i], &cis[i], &err) == AF_OK, "sig %d: %s", i, err.msg);
    emit_sig(o, &c, &sigs[i], &cis[i], i);
  }
  /* argv[1]: one '0'/'1' per signature, '1' = skip (a known divergence of
   * this compiler: its stubs would not match what the code expects). */
  fprintf(o, "int main(int argc, char **argv) {\n  const char *skip = argc > 1 ? argv[1] : \"\";\n"
             "  for (int j = 0; j < 80; j++) retpat[j] = (unsigned char)(0xa0 + "
             "j * 7);\n  for (int j = 0; j < 512; j++) retbuf[j] = (unsigned char)(j * 13 + 5);\n"
             "  printf(\"P \"); { void *a = retpat; hex(&a, 8); } printf(\"\\n\");\n");
  for (int i = 0; i < NSIG; i++)
    fprintf(o, "  if ((int)strlen(skip) <= %d || skip[%d] != '1') call_%d();\n", i, i, i);
  fprintf(o, "  return 0;\n}\n");
  fclose(o);

  for (int ci = 0; ci < ncomp; ci++) {
    tally t = {&c, compilers[ci], 0, 0, 0};
    char exe[460], out[470];
    snprintf(exe, sizeof exe, "%s/%s-%d", dir, af_cc_name(cc), ci);
    snprintf(out, sizeof out, "%s.out", exe);
    char skip[NSIG + 1];
    for (int i = 0; i < NSIG; i++)
      skip[i] = af_abi_deviates(&c, &sigs[i], fams[ci], vers[ci], NULL) ? '1' : '0';
    skip[NSIG] = 0;
    snprintf(cmd, sizeof cmd, "'%s' -std=gnu11 -O2 -mavx2 -w -o '%s' '%s' && '%s' %s > '%s'",
             compilers[ci], exe, path, exe, skip, out);
    int rc = system(cmd);
    CHECKF(rc == 0, "%s: compile or run failed (%s)", compilers[ci], path);
    if (rc != 0) continue;
    FILE *in = fopen(out, "r");
    char *line = NULL;
    size_t cap = 0;
    uint8_t addr[8] = {0};
    int seen = 0;
    while (in && getline(&line, &cap, in) > 0) {
      int i, n = 0;
      if (line[0] == 'P') {
        unhex(line + 2, addr, 8);
        continue;
      }
      if (sscanf(line + 2, "%d %n", &i, &n) != 1 || i < 0 || i >= NSIG) continue;
      const af_sig *s = &sigs[i];
      if (skip[i] == '1') {
        fail(&t, s, i, "ran although skipped");
        continue;
      }
      t.checked++;
      if (line[0] == 'A') {
        seen++;
        check_args(&c, s, &cis[i], i, line + 2 + n, &t);
      } else {
        check_ret(&c, s, &cis[i], i, line + 2 + n, addr, &t);
      }
    }
    free(line);
    if (in) fclose(in);
    for (int i = 0; i < NSIG; i++)
      t.skipped += skip[i] == '1';
    printf("%s %s: %d dumps checked, %d signatures skipped (known divergences), %d mismatches\n",
           compilers[ci], af_cc_name(cc), t.checked, t.skipped, t.failed);
    CHECKF(t.failed == 0, "%s %s: %d mismatches", compilers[ci], af_cc_name(cc), t.failed);
    CHECKF(seen >= NSIG / 2, "%s: only %d argument dumps", compilers[ci], seen);
  }
  af_case_free(&c);
}

static int major_version(const char *cc) {
  char cmd[600];
  snprintf(cmd, sizeof cmd, "'%s' -dumpversion", cc);
  FILE *p = popen(cmd, "r");
  int v = 0;
  if (p) {
    if (fscanf(p, "%d", &v) != 1) v = 0;
    pclose(p);
  }
  return v;
}

int main(int argc, char **argv) {
  uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0) : 20261121;
  const char *compilers[2];
  af_family fams[2];
  int vers[2], n = 0;
  if (AF_GCC[0]) {
    compilers[n] = AF_GCC;
    fams[n] = AF_FAMILY_GCC;
    vers[n++] = major_version(AF_GCC);
  }
  if (AF_CLANG[0]) {
    compilers[n] = AF_CLANG;
    fams[n] = AF_FAMILY_CLANG;
    vers[n++] = major_version(AF_CLANG);
  }
  if (n == 0) {
    printf("no compiler: nothing to check\n");
    return check_done();
  }
  run_cc(AF_CC_SYSV, compilers, fams, vers, n, seed);
  run_cc(AF_CC_WIN64, compilers, fams, vers, n, seed + 1);
  return check_done();
}
