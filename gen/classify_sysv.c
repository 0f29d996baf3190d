/* classify_sysv.c - where SysV (x86-64 psABI 3.2.3) puts each argument and the return value. */
#include <stdarg.h>
#include <string.h>

#include "abi_internal.h"
#include "case_internal.h"

/* ---- shared by both classifiers ---- */

void classify_err(af_error *err, const char *fmt, ...) {
  if (!err) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->msg, sizeof err->msg, fmt, ap);
  va_end(ap);
}

static af_status classify_check_type(const af_case *c, int t, int allow_void, af_error *err) {
  if (t < 0 || t >= c->ntypes) {
    classify_err(err, "type id %d out of range", t);
    return AF_ERR_INVALID;
  }
  if (t == AF_T_VOID && !allow_void) {
    classify_err(err, "void parameter");
    return AF_ERR_INVALID;
  }
  const af_type *ty = &c->types[t];
  if (t >= AF_T_NSCALAR) {
    if (ty->kind != AF_T_STRUCT && ty->kind != AF_T_UNION) {
      classify_err(err, "type t%d: arrays cannot be parameters or returns", t);
      return AF_ERR_INVALID;
    }
    if (ty->alignment == 0) {
      classify_err(err, "type t%d has no layout (af_layout not run)", t);
      return AF_ERR_INVALID;
    }
  }
  return AF_OK;
}

af_status classify_check_sig(const af_case *c, const af_sig *sig, af_error *err) {
  if (sig->nparams < 0 || sig->nparams > AF_MAX_PARAMS) {
    classify_err(err, "%d parameters (limit %d)", sig->nparams, AF_MAX_PARAMS);
    return AF_ERR_LIMIT;
  }
  if (sig->variadic ? (sig->nfixed < 1 || sig->nfixed > sig->nparams)
                    : sig->nfixed != sig->nparams) {
    classify_err(err, "nfixed %d does not fit nparams %d", sig->nfixed, sig->nparams);
    return AF_ERR_INVALID;
  }
  af_status s = classify_check_type(c, sig->ret, 1, err);
  for (int i = 0; s == AF_OK && i < sig->nparams; i++) {
    int t = sig->params[i];
    if (t > AF_T_VOID && t < AF_T_NSCALAR && t < c->ntypes) continue; /* a scalar: passes */
    s = classify_check_type(c, t, 0, err);
  }
  return s;
}

/* ---- eightbyte classification (psABI 3.2.3 "Classification") ---- */

#define SYSV_MAX_EB 8 /* objects larger than eight eightbytes are MEMORY */

/* psABI 3.2.3 step 4 (b): the merge of two classes of one eightbyte. The library merges with
 * sysv_merge_tab below, this function's table; test_gen_fast's copy merges with this. */
static inline __attribute__((always_inline, unused)) af_class sysv_merge(af_class a, af_class b) {
  if (a == b) return a;               /* (a) */
  if (a == AF_CLS_NO_CLASS) return b; /* (b) */
  if (b == AF_CLS_NO_CLASS) return a;
  if (a == AF_CLS_MEMORY || b == AF_CLS_MEMORY) return AF_CLS_MEMORY;    /* (c) */
  if (a == AF_CLS_INTEGER || b == AF_CLS_INTEGER) return AF_CLS_INTEGER; /* (d) */
  if (a == AF_CLS_X87 || a == AF_CLS_X87UP || a == AF_CLS_COMPLEX_X87 || b == AF_CLS_X87 ||
      b == AF_CLS_X87UP || b == AF_CLS_COMPLEX_X87)
    return AF_CLS_MEMORY; /* (e) */
  return AF_CLS_SSE;      /* (f) */
}

/* sysv_merge as a table, [a][b] = sysv_merge(a, b) (a load instead of its branches, which
 * depend on the random aggregate); test_gen_fast compares every pair (its copy of this file,
 * CLASSIFY_SYSV_PLAIN, merges with sysv_merge). */
static const uint8_t sysv_merge_tab[8][8] = {
    {0, 1, 2, 3, 4, 5, 6, 7}, /* NO_CLASS */
    {1, 1, 1, 1, 1, 1, 1, 7}, /* INTEGER */
    {2, 1, 2, 2, 7, 7, 7, 7}, /* SSE */
    {3, 1, 2, 3, 7, 7, 7, 7}, /* SSEUP */
    {4, 1, 7, 7, 4, 7, 7, 7}, /* X87 */
    {5, 1, 7, 7, 7, 5, 7, 7}, /* X87UP */
    {6, 1, 7, 7, 7, 7, 6, 7}, /* COMPLEX_X87 */
    {7, 7, 7, 7, 7, 7, 7, 7}, /* MEMORY */
};

static inline __attribute__((always_inline)) void sysv_put(af_class *eb, uint32_t byte,
                                                           af_class k) {
#ifndef CLASSIFY_SYSV_PLAIN
  /* eb holds classes only (cleared, then merged) and k is one: both below 8 */
  if (byte / 8 < SYSV_MAX_EB) eb[byte / 8] = (af_class)sysv_merge_tab[eb[byte / 8] & 7][k & 7];
#else
  if (byte / 8 < SYSV_MAX_EB) eb[byte / 8] = sysv_merge(eb[byte / 8], k);
#endif
}

/* Classes of the scalar kinds (psABI 3.2.3 step 1 and Figure 3.1). */
static inline __attribute__((always_inline)) void sysv_scalar(af_class *eb, int t, uint32_t off) {
  switch (t) {
  case AF_T_I128:
  case AF_T_U128: /* "__int128 ... treated as if it were two eightbytes of INTEGER" */
    sysv_put(eb, off, AF_CLS_INTEGER);
    sysv_put(eb, off + 8, AF_CLS_INTEGER);
    break;
  case AF_T_F16:
  case AF_T_F32:
  case AF_T_F64: sysv_put(eb, off, AF_CLS_SSE); break;
  case AF_T_F80: /* "the 64-bit mantissa ... X87, the exponent ... X87UP" */
    sysv_put(eb, off, AF_CLS_X87);
    sysv_put(eb, off + 8, AF_CLS_X87UP);
    break;
  case AF_T_CF32: /* complex T is a struct of two T (psABI 3.1.2, "Complex") */
    sysv_put(eb, off, AF_CLS_SSE);
    sysv_put(eb, off + 4, AF_CLS_SSE);
    break;
  case AF_T_CF64:
    sysv_put(eb, off, AF_CLS_SSE);
    sysv_put(eb, off + 8, AF_CLS_SSE);
    break;
  case AF_T_M128: /* "__m128 ... split into two halves. The least significant one
                     belongs to class SSE, the most significant one to SSEUP." */
    sysv_put(eb, off, AF_CLS_SSE);
    sysv_put(eb, off + 8, AF_CLS_SSEUP);
    break;
  case AF_T_M256: /* "__m256 ... split into four eightbyte chunks. The least
                     significant one belongs to class SSE and all the others to
                     class SSEUP." */
    sysv_put(eb, off, AF_CLS_SSE);
    for (uint32_t k = 8; k < 32; k += 8)
      sysv_put(eb, off + k, AF_CLS_SSEUP);
    break;
  default: /* _Bool, char, short, int, long, long long, pointers: INTEGER */
    sysv_put(eb, off, AF_CLS_INTEGER);
    break;
  }
}

static unsigned sysv_quirks_mask(const af_case *c, int t);

#ifndef CLASSIFY_SYSV_PLAIN /* test_gen_fast's copy walks every element */
/* The one class sysv_scalar puts for a scalar kind, at the eightbyte of its first byte, for
 * the kinds that put just that (AF_CLS_NO_CLASS: the others, which put two or more). */
static const uint8_t sysv_one_class[AF_T_NSCALAR] = {
    [AF_T_VOID] = AF_CLS_INTEGER, /* sysv_scalar's default */
    [AF_T_BOOL] = AF_CLS_INTEGER, [AF_T_I8] = AF_CLS_INTEGER,  [AF_T_U8] = AF_CLS_INTEGER,
    [AF_T_I16] = AF_CLS_INTEGER,  [AF_T_U16] = AF_CLS_INTEGER, [AF_T_I32] = AF_CLS_INTEGER,
    [AF_T_U32] = AF_CLS_INTEGER,  [AF_T_I64] = AF_CLS_INTEGER, [AF_T_U64] = AF_CLS_INTEGER,
    [AF_T_PTR] = AF_CLS_INTEGER,  [AF_T_F16] = AF_CLS_SSE,     [AF_T_F32] = AF_CLS_SSE,
    [AF_T_F64] = AF_CLS_SSE,
};
#endif

/* Merges every leaf of type t placed at byte `off` of the argument into eb.
 * Returns 0 if a field is unaligned (psABI 3.2.3 step 1: "If ... it contains
 * unaligned fields, it has class MEMORY"); offsets are absolute, as in gcc's
 * classify_argument and clang's X86_64ABIInfo::classify.
 * qm (NULL: not wanted): ORs in the gcc quirks that can change the walk of t, as
 * sysv_quirks_mask(c, t) gives them, when the walk returns 1 (it then saw every field that
 * mask looks at); after a 0, only some of them. */
static int sysv_walk(const af_case *c, int t, uint32_t off, af_class *eb, unsigned quirks,
                     unsigned *qm) {
  const af_type *ty = &c->types[t];
  if (t < AF_T_NSCALAR) {
    sysv_scalar(eb, t, off);
    return 1;
  }
  if (ty->kind == AF_T_ARRAY) { /* step 3: arrays classify their elements */
#ifndef CLASSIFY_SYSV_PLAIN
    if ((unsigned)ty->elem < AF_T_NSCALAR) {
      /* Scalar elements (most arrays): sysv_scalar for each, without the call (a scalar
       * ignores quirks and adds nothing to qm). An element of at most 8 bytes with one class
       * puts it in the eightbyte of its first byte: every eightbyte from the first element's to
       * the last one's gets it, once each (the merge is idempotent: merge(merge(a, k), k) ==
       * merge(a, k) for every pair of classes, and nothing else is merged in between). */
      uint32_t es = c->types[ty->elem].size;
      af_class k = (af_class)sysv_one_class[ty->elem];
      if (k != AF_CLS_NO_CLASS && es <= 8) {
        uint32_t e = (off + (ty->count - 1) * es) / 8; /* sysv_put drops eightbytes >= 8 */
        if (ty->count)
          for (uint32_t b = off / 8; b <= e && b < SYSV_MAX_EB; b++)
            sysv_put(eb, b * 8, k);
      } else {
        for (uint32_t i = 0; i < ty->count; i++)
          sysv_scalar(eb, ty->elem, off + i * es);
      }
      return 1;
    }
#endif
    if (qm && ty->elem >= AF_T_NSCALAR) /* sysv_quirks_mask's array case */
      *qm |= CLASSIFY_GCC_ARRAY | (ty->count ? 0 : sysv_quirks_mask(c, ty->elem));
    for (uint32_t i = 0; i < ty->count; i++) {
      /* gcc classifies the first element only and replicates its classes,
       * so it never sees a misaligned field of a later element. */
      unsigned q = i > 0 && (quirks & CLASSIFY_GCC_ARRAY) ? quirks | CLASSIFY_NO_ALIGN : quirks;
      if (!sysv_walk(c, ty->elem, off + i * c->types[ty->elem].size, eb, q, qm)) return 0;
    }
    return 1;
  }
  for (int i = 0; i < ty->nfields; i++) {
    const af_field *f = &ty->fields[i];
    if (f->bits == 0) {
      /* Unnamed zero-width: no bits, no class (clang; gcc >= 12.1 in
       * structs). gcc still makes it INTEGER in a union. */
      if (ty->kind == AF_T_UNION && (quirks & CLASSIFY_GCC_UNION_ZW))
        sysv_put(eb, off, AF_CLS_INTEGER);
      if (qm && ty->kind == AF_T_UNION) *qm |= CLASSIFY_GCC_UNION_ZW;
      continue;
    }
    if (f->bits > 0) {
      /* Bit-fields: INTEGER for every eightbyte their bits touch (gcc
       * classify_argument; psABI step 3 "each field ... classified"). */
      uint64_t lo = (uint64_t)off * 8 + f->bit_offset, hi = lo + (uint64_t)f->bits - 1;
      for (uint64_t b = lo / 64; b <= hi / 64; b++)
        sysv_put(eb, (uint32_t)(b * 8), AF_CLS_INTEGER);
      continue;
    }
    uint32_t abs = off + f->offset;
    uint32_t fal = c->types[f->type].alignment; /* abs % fal, a mask for a power of two */
    if ((fal && (fal & (fal - 1)) == 0 ? abs & (fal - 1) : abs % fal) != 0 &&
        !(quirks & CLASSIFY_NO_ALIGN))
      return 0;
    if (f->type < AF_T_NSCALAR)
      sysv_scalar(eb, f->type, abs); /* the walk's scalar case, without the call */
    else if (!sysv_walk(c, f->type, abs, eb, quirks, qm))
      return 0;
  }
  return 1;
}

/* Classifies a whole type: fills eb[0..*n) with the post-merger classes.
 * Returns AF_CLS_MEMORY if the object is MEMORY, AF_CLS_NO_CLASS if it
 * occupies nothing (size 0), else the class of its first eightbyte.
 * qm (NULL: not wanted): ORs in sysv_quirks_mask(c, t), from the walk when it saw the whole
 * type (one walk of the type instead of two: the divergence scan wants the mask). */
static af_class sysv_classify_type(const af_case *c, int t, af_class *eb, int *n, unsigned quirks,
                                   unsigned *qm) {
  uint32_t size = c->types[t].size;
  memset(eb, 0, sizeof(af_class) * SYSV_MAX_EB);
  *n = (int)((size + 7) / 8);
  if (size == 0) { /* GNU C empty struct: ignored */
    if (qm) *qm |= sysv_quirks_mask(c, t);
    return AF_CLS_NO_CLASS;
  }
  if (t < AF_T_NSCALAR && size == case_scalars[t].size) {
    /* A scalar of its own size: sysv_scalar's classes are final (no MEMORY, X87UP only
     * after X87, a 32-byte one is SSE + SSEUPs, SSEUP only after SSE), so the walk and the
     * post-merger cleanup below would change nothing. Most arguments take this path. */
    sysv_scalar(eb, t, 0);
    return eb[0];
  }
  int walked = size <= 8 * SYSV_MAX_EB && sysv_walk(c, t, 0, eb, quirks, qm);
  if (qm && !walked) *qm |= sysv_quirks_mask(c, t); /* not walked, or not to the end */
  int mem = !walked;
  if (*n > SYSV_MAX_EB) *n = SYSV_MAX_EB;
  /* Step 5, post merger cleanup. */
  for (int i = 0; !mem && i < *n; i++) {
    if (eb[i] == AF_CLS_MEMORY) mem = 1;                                       /* (a) */
    if (eb[i] == AF_CLS_X87UP && (i == 0 || eb[i - 1] != AF_CLS_X87)) mem = 1; /* (b) */
  }
  if (!mem && size > 16) { /* (c): only SSE followed by SSEUPs (one YMM) */
    if (eb[0] != AF_CLS_SSE) mem = 1;
    for (int i = 1; i < *n; i++)
      if (eb[i] != AF_CLS_SSEUP) mem = 1;
  }
  if (mem) {
    for (int i = 0; i < *n; i++)
      eb[i] = AF_CLS_MEMORY;
    return AF_CLS_MEMORY;
  }
  for (int i = 0; i < *n; i++) /* (d): SSEUP not after SSE/SSEUP -> SSE */
    if (eb[i] == AF_CLS_SSEUP && (i == 0 || (eb[i - 1] != AF_CLS_SSE && eb[i - 1] != AF_CLS_SSEUP)))
      eb[i] = AF_CLS_SSE;
  return eb[0];
}

static void sysv_note_classes(af_loc *l, const af_class *eb, int n) {
  l->ncls = n < 4 ? n : 4;
  for (int i = 0; i < l->ncls; i++)
    l->cls[i] = eb[i];
}

/* Turns register classes into parts: each INTEGER eightbyte takes the next
 * register of ints[], each SSE eightbyte the next of sses[] together with the
 * SSEUP eightbytes after it (one XMM / YMM). NO_CLASS eightbytes (padding)
 * take nothing. Returns the number of parts. */
static int sysv_parts(const af_class *eb, int n, uint32_t size, const af_reg *ints, int *ni,
                      const af_reg *sses, int *ns, af_part *parts) {
  int np = 0;
  for (int i = 0; i < n; i++) {
    uint32_t off = 8u * (uint32_t)i, len = size - off < 8 ? size - off : 8;
    if (eb[i] == AF_CLS_INTEGER) {
      parts[np++] = (af_part){ints[(*ni)++], AF_CLS_INTEGER, (uint16_t)off, (uint16_t)len};
    } else if (eb[i] == AF_CLS_SSE) {
      while (i + 1 < n && eb[i + 1] == AF_CLS_SSEUP) {
        i++;
        len = 8u * (uint32_t)(i + 1) - off;
        if (len > size - off) len = size - off;
      }
      parts[np++] = (af_part){sses[(*ns)++], AF_CLS_SSE, (uint16_t)off, (uint16_t)len};
    }
  }
  return np;
}

static uint32_t round_up(uint32_t x, uint32_t a) {
  return a && (a & (a - 1)) == 0 ? (x + a - 1) & ~(a - 1) : (x + a - 1) / a * a;
}

#ifndef CLASSIFY_SYSV_PLAIN
/* The eightbyte classes of every scalar kind of its own size, as sysv_classify_type gives them
 * (sysv_scalar's, final: see there), with the registers they take: INTEGER and SSE eightbytes
 * counted, an SSE eightbyte and the SSEUPs after it one register. x87: X87 classes (memory as
 * an argument). test_gen_fast compares every kind with sysv_classify_type and sysv_parts. */
typedef struct {
  uint8_t n, ni, ns, x87;
  af_class cls[4]; /* cls[n..4) AF_CLS_NO_CLASS (0), as af_classify's cleared af_loc has them */
} sysv_kind_info;

#define SK_INT                                                                                     \
  {                                                                                                \
    1, 1, 0, 0, { AF_CLS_INTEGER }                                                                 \
  }
#define SK_SSE                                                                                     \
  {                                                                                                \
    1, 0, 1, 0, { AF_CLS_SSE }                                                                     \
  }
static const sysv_kind_info sysv_kinds[AF_T_NSCALAR] = {
    [AF_T_BOOL] = SK_INT,
    [AF_T_I8] = SK_INT,
    [AF_T_U8] = SK_INT,
    [AF_T_I16] = SK_INT,
    [AF_T_U16] = SK_INT,
    [AF_T_I32] = SK_INT,
    [AF_T_U32] = SK_INT,
    [AF_T_I64] = SK_INT,
    [AF_T_U64] = SK_INT,
    [AF_T_I128] = {2, 2, 0, 0, {AF_CLS_INTEGER, AF_CLS_INTEGER}},
    [AF_T_U128] = {2, 2, 0, 0, {AF_CLS_INTEGER, AF_CLS_INTEGER}},
    [AF_T_F16] = SK_SSE,
    [AF_T_F32] = SK_SSE,
    [AF_T_F64] = SK_SSE,
    [AF_T_F80] = {2, 0, 0, 1, {AF_CLS_X87, AF_CLS_X87UP}},
    [AF_T_CF32] = SK_SSE,
    [AF_T_CF64] = {2, 0, 2, 0, {AF_CLS_SSE, AF_CLS_SSE}},
    [AF_T_PTR] = SK_INT,
    [AF_T_M128] = {2, 0, 1, 0, {AF_CLS_SSE, AF_CLS_SSEUP}},
    [AF_T_M256] = {4, 0, 1, 0, {AF_CLS_SSE, AF_CLS_SSEUP, AF_CLS_SSEUP, AF_CLS_SSEUP}},
};
#undef SK_INT
#undef SK_SSE

/* The registers of a scalar kind's value from ints[*ni..] and sses[*ns..] (what sysv_parts
 * gives for its classes): INTEGER eightbytes one register each, an SSE eightbyte and the SSEUPs
 * after it one register. Returns the number of parts. */
static inline int sysv_scalar_parts(const sysv_kind_info *k, uint32_t size, const af_reg *ints,
                                    int *ni, const af_reg *sses, int *ns, af_part *parts) {
  if (k->ni) {
    for (int j = 0; j < k->ni; j++)
      parts[j] = (af_part){ints[(*ni)++], AF_CLS_INTEGER, (uint16_t)(8 * j),
                           (uint16_t)(size - 8u * (uint32_t)j < 8 ? size - 8u * (uint32_t)j : 8)};
    return k->ni;
  }
  if (k->ns == 1) { /* one SSE eightbyte, or SSE + SSEUPs: one register, every byte */
    parts[0] = (af_part){sses[(*ns)++], AF_CLS_SSE, 0, (uint16_t)size};
    return 1;
  }
  for (int j = 0; j < k->ns; j++) /* cf64: two SSE eightbytes */
    parts[j] = (af_part){sses[(*ns)++], AF_CLS_SSE, (uint16_t)(8 * j), 8};
  return k->ns;
}

/* A scalar argument of its own size (not void): what the general path of classify_sysv does
 * for it (classes noted, registers if they are all free), from sysv_kinds. Returns 1 when it
 * went to registers, 0 when it goes on the stack (its classes noted, l->dup set). */
static inline int sysv_scalar_arg(const af_abi *abi, int t, uint32_t size, int unnamed, af_loc *l,
                                  int *ni, int *ns) {
  const sysv_kind_info *k = &sysv_kinds[t];
  l->ncls = k->n;
  memcpy(l->cls, k->cls, sizeof l->cls); /* the four, zeros past n as l has them */
  l->dup = AF_REG_NONE;
  /* psABI 3.5.7: an unnamed 256-bit argument goes to memory (see below); the tests combined
   * without branches (whether a register is left depends on the random signature) */
  if (k->x87 | (unnamed & (size > 16)) | (*ni + k->ni > abi->n_int_args) |
      (*ns + k->ns > abi->n_sse_args))
    return 0;
  l->kind = AF_LOC_REG;
  l->nparts = sysv_scalar_parts(k, size, abi->int_args, ni, abi->sse_args, ns, l->parts);
  return 1;
}

#endif

/* psABI 3.2.3 "Returning of Values". */
static void sysv_return(const af_case *c, const af_abi *abi, int t, af_callinfo *out,
                        unsigned *qm) {
  af_loc *l = &out->ret;
  af_class eb[SYSV_MAX_EB];
  int n;
  if (t == AF_T_VOID) {
    l->kind = AF_LOC_NONE;
    return;
  }
  af_class first = sysv_classify_type(c, t, eb, &n, 0, qm);
  sysv_note_classes(l, eb, n);
  if (first == AF_CLS_NO_CLASS && c->types[t].size == 0) {
    l->kind = AF_LOC_NONE; /* empty struct: nothing is returned */
  } else if (first == AF_CLS_MEMORY) {
    /* "If the type has class MEMORY, then the caller provides space for the
     * return value and passes the address of this storage in %rdi as if it
     * were the first argument ... On return %rax will contain the address." */
    l->kind = AF_LOC_SRET;
    out->sret = 1;
  } else if (first == AF_CLS_X87) {
    l->kind = AF_LOC_X87; /* "X87: returned on the X87 stack in %st0" */
  } else {
    int ni = 0, ns = 0;
    l->kind = AF_LOC_REG;
    l->nparts = sysv_parts(eb, n, c->types[t].size, abi->int_ret, &ni, abi->sse_ret, &ns, l->parts);
  }
}

/* An argument classified by sysv_classify_type (first: its first class): to registers if it
 * can go there (returns 1), else 0 (the stack). */
static int sysv_agg_regs(const af_case *c, const af_abi *abi, int t, const af_class *eb, int n,
                         af_class first, int unnamed, af_loc *l, int *ni, int *ns) {
  int need_i = 0, need_s = 0, mem = first == AF_CLS_MEMORY;
  if (unnamed && c->types[t].size > 16) mem = 1; /* psABI 3.5.7, see classify_sysv */
  for (int k = 0; k < n; k++) {
    if (eb[k] == AF_CLS_INTEGER) need_i++;
    if (eb[k] == AF_CLS_SSE) need_s++;
    /* "If the class is X87, X87UP or COMPLEX_X87, it is passed in memory." */
    if (eb[k] == AF_CLS_X87 || eb[k] == AF_CLS_X87UP || eb[k] == AF_CLS_COMPLEX_X87) mem = 1;
  }
  /* "If there are no registers available for any eightbyte of an argument,
   * the whole argument is passed on the stack. If registers have already
   * been assigned for some eightbytes of such an argument, the assignments
   * get reverted." Later arguments may still use the free registers. */
  if (mem || *ni + need_i > abi->n_int_args || *ns + need_s > abi->n_sse_args) return 0;
  l->kind = AF_LOC_REG;
  l->nparts = sysv_parts(eb, n, c->types[t].size, abi->int_args, ni, abi->sse_args, ns, l->parts);
  return 1;
}

af_status classify_sysv(const af_case *c, const af_sig *sig, af_callinfo *out, af_error *err,
                        unsigned *quirks) {
  (void)err;
  const af_abi *abi = af_abi_get(AF_CC_SYSV);
  unsigned qm = 0;
  sysv_return(c, abi, sig->ret, out, quirks ? &qm : NULL);
  int ni = out->sret, ns = 0; /* the hidden pointer takes %rdi */
  uint32_t off = 0;           /* next free byte of the stack argument area */
  int nnamed = sig->variadic ? sig->nfixed : sig->nparams;
  for (int i = 0; i < sig->nparams; i++) {
    int t = sig->params[i];
    af_loc *l = &out->args[i];
    /* psABI 3.5.7: 256-bit arguments are passed in registers only when they
     * are named; through "..." they go to memory (gcc and clang agree). For
     * NAMED ones of a variadic function clang uses memory too: see abi.c's
     * "sysv-m256-variadic-named". */
    int unnamed = i >= nnamed; /* sig->variadic && i >= sig->nfixed */
#ifndef CLASSIFY_SYSV_PLAIN    /* test_gen_fast's copy takes the general path for every type */
    if (t > AF_T_VOID && t < AF_T_NSCALAR && c->types[t].size == case_scalars[t].size) {
      /* most arguments: a scalar of its own size, from the table */
      if (sysv_scalar_arg(abi, t, c->types[t].size, unnamed, l, &ni, &ns)) continue;
    } else
#endif
    {
      af_class eb[SYSV_MAX_EB];
      int n;
      af_class first = sysv_classify_type(c, t, eb, &n, 0, quirks ? &qm : NULL);
      sysv_note_classes(l, eb, n);
      l->dup = AF_REG_NONE;
      if (first == AF_CLS_NO_CLASS && c->types[t].size == 0) {
        l->kind = AF_LOC_NONE; /* empty struct: takes no register, no stack */
        continue;
      }
      if (sysv_agg_regs(c, abi, t, eb, n, first, unnamed, l, &ni, &ns)) continue;
    }
    /* psABI 3.2.3 and Figure 3.3: memory arguments are pushed in order, each
     * eightbyte aligned, with a larger alignment for types that need it
     * (16: long double, __int128, __m128; 32: __m256; aggregates: their
     * alignment, checked with gcc 12 and clang 19 up to 64). */
    uint32_t a = c->types[t].alignment < 8 ? 8 : c->types[t].alignment;
    off = round_up(off, a);
    l->kind = AF_LOC_STACK;
    l->stack_offset = (int32_t)off;
    l->stack_size = round_up(c->types[t].size, 8);
    l->stack_align = a;
    off += l->stack_size;
  }
  if (quirks) *quirks = qm;
  out->int_used = ni;
  out->sse_used = ns; /* psABI 3.5.7: %al for variadic calls */
  out->stack_bytes = round_up(off, (uint32_t)abi->stack_align);
  return AF_OK;
}

/* 0 if `quirks` cannot change how sysv_walk walks type t: CLASSIFY_GCC_ARRAY acts only on
 * arrays whose elements are not scalars (a scalar element ignores CLASSIFY_NO_ALIGN),
 * CLASSIFY_GCC_UNION_ZW only on a union's zero-width bit-field. A walk without merging, far
 * cheaper than the two classifications it spares for the usual type. */
static int sysv_quirks_reach(const af_case *c, int t, unsigned quirks) {
  if (t < AF_T_NSCALAR) return 0;
  const af_type *ty = &c->types[t];
  if (ty->kind == AF_T_ARRAY)
    return ty->elem >= AF_T_NSCALAR &&
           ((quirks & CLASSIFY_GCC_ARRAY) || sysv_quirks_reach(c, ty->elem, quirks));
  for (int i = 0; i < ty->nfields; i++) {
    const af_field *f = &ty->fields[i];
    if (f->bits == 0 && ty->kind == AF_T_UNION && (quirks & CLASSIFY_GCC_UNION_ZW)) return 1;
    if (f->bits < 0 && sysv_quirks_reach(c, f->type, quirks)) return 1;
  }
  return 0;
}

/* The quirks that can change how type t is walked: sysv_quirks_reach(c, t, q) != 0 exactly
 * for the bits q of this mask (one walk for both quirks instead of one per quirk). */
static unsigned sysv_quirks_mask(const af_case *c, int t) {
  if (t < AF_T_NSCALAR) return 0;
  const af_type *ty = &c->types[t];
  if (ty->kind == AF_T_ARRAY)
    return ty->elem >= AF_T_NSCALAR ? CLASSIFY_GCC_ARRAY | sysv_quirks_mask(c, ty->elem) : 0;
  unsigned m = 0;
  for (int i = 0; i < ty->nfields; i++) {
    const af_field *f = &ty->fields[i];
    if (f->bits == 0 && ty->kind == AF_T_UNION) m |= CLASSIFY_GCC_UNION_ZW;
    if (f->bits < 0 && f->type >= AF_T_NSCALAR) m |= sysv_quirks_mask(c, f->type); /* scalar: 0 */
  }
  return m;
}

unsigned classify_sysv_quirks_reach(const af_case *c, const af_sig *sig) {
  unsigned m = 0;
  for (int i = -1; i < sig->nparams; i++) {
    int t = i < 0 ? sig->ret : sig->params[i];
    if (t >= AF_T_NSCALAR) m |= sysv_quirks_mask(c, t);
  }
  return m;
}

/* 1 if classifying with `quirks` (gcc's ways, see sysv_walk) gives another
 * eightbyte class to the return value or an argument than the model. */
int classify_sysv_quirk_differs(const af_case *c, const af_sig *sig, unsigned quirks) {
  for (int i = -1; i < sig->nparams; i++) {
    int t = i < 0 ? sig->ret : sig->params[i];
    /* the quirks change how arrays and unions are walked: a scalar classifies the same */
    if (t < AF_T_NSCALAR || !sysv_quirks_reach(c, t, quirks)) continue;
    af_class a[SYSV_MAX_EB], b[SYSV_MAX_EB];
    int na, nb;
    sysv_classify_type(c, t, a, &na, 0, NULL);
    sysv_classify_type(c, t, b, &nb, quirks, NULL);
    if (na != nb || memcmp(a, b, sizeof(af_class) * (size_t)na) != 0) return 1;
  }
  return 0;
}
