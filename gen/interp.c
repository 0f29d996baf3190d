/* interp.c - the reference interpreter: runs a case's bodies with the exact C semantics the
 * emitter writes (gen.h "Bodies"), and computes the checksum both must print. */
#include <emmintrin.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "case_internal.h"
#include "gen.h"
#include "fold_internal.h"
#include "interp_internal.h"

#define INTERP_DEFAULT_STEPS 1000000u
#define INTERP_MAX_REGIONS   65536 /* objects + live LOCAL regions */
#define PTR_LOCAL_ID         0xffffffff00000000ull

/* A memory region: the case's objects come first, then the LOCAL regions of
 * the calls that are running (a stack: a call's regions die when it
 * returns, and the verifier guarantees no pointer to them escapes upward). */
/* Calls as af_host_call records, in the order they were made. */
typedef struct {
  af_host_call *v;
  int n, cap;
} call_list;

/* A function's frame: the byte offset of every value id in buf. A function is never on the
 * call stack twice (calls go to greater indices), so each keeps one frame for the whole run,
 * laid out on its first call and reused by later ones. buf is never cleared: every value is
 * written in full (all size(T) bytes) before it is read (SSA, operands are earlier values),
 * so neither what an earlier call left nor the allocation's first contents is ever seen. */
typedef struct {
  uint32_t *off; /* NULL until the first call; one block with buf */
  uint8_t *buf;
  int own; /* 1: the block is its own malloc (else carved from interp.slab) */
} frame_cache;

/* Frames are carved from one block per run (a malloc per function called was a few
 * percent of interpreting); a frame that does not fit gets its own. */
#define INTERP_SLAB 32768
/* The run's scratch is one allocation (af_interp): the frame slab, the entry's argument and
 * return buffers and room for this many regions (more: an array of their own). */
#define INTERP_REGIONS0 64
#define INTERP_ARGBUF   (AF_MAX_TYPE_SIZE + 16) /* one argument or return value */

/* The result's arena (af_interp_result.arena): a chain of blocks from which every record's
 * argument bytes, `after` regions and return bytes (and the entry's return bytes) are carved,
 * 16-aligned, so that af_interp_result_free frees a few blocks instead of a malloc per value. */
typedef struct arena_blk {
  struct arena_blk *next;
  size_t cap, used;
  _Alignas(16) uint8_t data[];
} arena_blk;
/* Bytes of a block, header included, unless one value needs more: malloc keeps freed blocks
 * of up to 1032 bytes in its per-thread cache; 4 KB ones cost the JIT's allocations more. */
#define ARENA_BLK 1024

typedef struct {
  const af_case *c;
  arena_blk *arena; /* the newest block first; becomes af_interp_result.arena */
  frame_cache frames[AF_MAX_FUNCS];
  uint8_t *slab; /* INTERP_SLAB bytes of the run's scratch block */
  size_t slab_used;
  int regions_own; /* 1: regions is its own malloc (else the scratch block's room) */
  int slots_ready;
  uint64_t steps, max_steps;
  uint8_t (*regions)[AF_REGION_SIZE];
  int nregions, cap_regions;
  call_list host; /* calls of host functions: af_interp_result.host_calls */
  call_list all;  /* every call: af_interp_result.calls */
  af_error *err;
  /* per type id: a value's bytes in a frame, val_size rounded up to 16; filled with the first
   * frame (every frame_get walks every value's type). Last: af_interp clears the fields
   * above it only. */
  uint32_t slot[AF_MAX_TYPES];
} interp;

/* n bytes (n > 0) of the result's arena, 16-aligned, not cleared; NULL when out of memory. */
static uint8_t *arena_alloc(interp *I, size_t n) {
  n = (n + 15) & ~(size_t)15;
  arena_blk *b = I->arena;
  if (!b || b->cap - b->used < n) {
    size_t cap = ARENA_BLK - sizeof(arena_blk);
    if (cap < n) cap = n;
    arena_blk *nb = malloc(sizeof(arena_blk) + cap);
    if (!nb) return NULL;
    nb->next = b;
    nb->cap = cap;
    nb->used = 0;
    I->arena = b = nb;
  }
  uint8_t *p = b->data + b->used;
  b->used += n;
  return p;
}

static af_status fail(interp *I, af_status s, const char *what, int fn, int inst) {
  if (I->err) snprintf(I->err->msg, sizeof I->err->msg, "interp: f%d inst %d: %s", fn, inst, what);
  return s;
}

/* The source float as the host type DST, with C's conversion (one rounding,
 * straight from the source type, as `(DST)x` in the emitted C). */
#if HAVE_F16
#define CONV_TO(DST, v)                                                                            \
  ((v)->type == AF_T_F16   ? (DST)(v)->h                                                           \
   : (v)->type == AF_T_F32 ? (DST)(v)->f                                                           \
   : (v)->type == AF_T_F64 ? (DST)(v)->d                                                           \
                           : (DST)(v)->x)
#else
#define CONV_TO(DST, v)                                                                            \
  ((v)->type == AF_T_F32 ? (DST)(v)->f : (v)->type == AF_T_F64 ? (DST)(v)->d : (DST)(v)->x)
#endif

static fval fconv(const fval *a, int to) {
  fval r;
  memset(&r, 0, sizeof r);
  r.type = to;
  switch (to) {
#if HAVE_F16
  case AF_T_F16: r.h = CONV_TO(f16_t, a); break;
#endif
  case AF_T_F32: r.f = CONV_TO(float, a); break;
  case AF_T_F64: r.d = CONV_TO(double, a); break;
  case AF_T_F80: r.x = CONV_TO(long double, a); break;
  default: break;
  }
  return r;
}

static fval itof(u128 x, int from, int to) {
  fval r;
  memset(&r, 0, sizeof r);
  r.type = to;
  int sgn = is_signed_int(from), wide = int_bits(from) > 64;
#define ITOF_AS(DST)                                                                               \
  (wide ? (sgn ? (DST)(i128)x : (DST)x) : (sgn ? (DST)(int64_t)(uint64_t)x : (DST)(uint64_t)x))
  switch (to) {
#if HAVE_F16
  case AF_T_F16: r.h = ITOF_AS(f16_t); break;
#endif
  case AF_T_F32: r.f = ITOF_AS(float); break;
  case AF_T_F64: r.d = ITOF_AS(double); break;
  case AF_T_F80: r.x = ITOF_AS(long double); break;
  default: break;
  }
#undef ITOF_AS
  return r;
}

static long double pow2l(int n) {
  long double x = 1.0L;
  while (n-- > 0)
    x *= 2.0L;
  return x;
}

static long double widen(const fval *a) {
  switch (a->type) {
#if HAVE_F16
  case AF_T_F16: return (long double)(float)a->h;
#endif
  case AF_T_F32: return a->f;
  case AF_T_F64: return a->d;
  default: return a->x;
  }
}

/* Saturating float -> integer: the value is widened exactly to long double
 * (f16 through float), compared with the type's bounds (powers of two, exact)
 * and only then converted, so no conversion is ever out of range. The
 * emitted C's af_ftoi_* helpers do the same steps. */
static u128 ftoi(const fval *a, int to) {
  long double x = widen(a);
  int bits = int_bits(to);
  if (x != x) return 0;
  if (is_signed_int(to)) {
    long double lim = pow2l(bits - 1);
    if (x <= -lim) return ~(u128)0 << (bits - 1); /* min, sign-extended */
    if (x >= lim) return ((u128)1 << (bits - 1)) - 1;
    return (u128)(i128)x;
  }
  if (x <= -1.0L) return 0;
  if (x >= pow2l(bits)) return zext_width(~(u128)0, bits);
  return (u128)x;
}

/* ---- GET / SET paths: af_path_leaf (case.c) ---- */

/* ---- frames ---- */
typedef struct {
  const af_func *f;
  uint32_t *off; /* byte offset of every value id in buf */
  uint8_t *buf;
} frame;

/* 1: ITOF from -> to is one of the pairs itof_bits converts (bool, i8..u64 to f32 or f64: nearly
 * every ITOF of a generated case, u64 most of them). */
static inline int itof_fast(int from, int to) {
  return (unsigned)from - AF_T_BOOL <= (unsigned)(AF_T_U64 - AF_T_BOOL) &&
         (to == AF_T_F32 || to == AF_T_F64);
}

/* The bits of ITOF of x (as rd_slot / rd_int read it) for an itof_fast pair, without a branch
 * on either type or on u64's top bit (both conversions made, to's kept): the value is exact as
 * an int64_t, but for a u64 with its top bit set, which converts as half of it with the lost
 * bit or-ed into bit 0 (sticky: rounding that to 24 or 53 of its 63 bits is C's one rounding of
 * the value), doubled exactly. */
static inline uint64_t itof_bits(u128 v, int from, int to) {
  const uint64_t x = (uint64_t)v;
  const uint64_t top = (x >> 63) & (uint64_t)(from == AF_T_U64);
  const int64_t y = (int64_t)((x >> top) | (x & top));
  const float f = (float)y * (float)(1 + top);
  const double g = (double)y * (double)(1 + top);
  uint32_t fb;
  uint64_t gb;
  memcpy(&fb, &f, 4);
  memcpy(&gb, &g, 8);
  const uint64_t m = 0 - (uint64_t)(to == AF_T_F32); /* a mask: the ?: was a branch */
  return (fb & m) | (gb & ~m);
}

af_status af_eval_conv(af_op op, int from, int to, const uint8_t *a, uint8_t *d) {
  if (op == AF_OP_ITOF && itof_fast(from, to)) { /* the JIT's code calls this for u64 */
    const uint64_t r = itof_bits(rd_int(a, from), from, to);
    uint32_t hi = (uint32_t)(r >> 32), junk;
    memcpy(d, &r, 4); /* the low 4 bytes, then the high 4 where f64's are (else in junk) */
    const uintptr_t j = (uintptr_t)&junk, m = 0 - (uintptr_t)(to == AF_T_F64);
    memcpy((void *)(j + (((uintptr_t)(d + 4) - j) & m)), &hi, 4);
    __asm__("" : : "m"(junk)); /* "reads" junk: the store that may go there is kept */
    return AF_OK;
  }
  int ff = is_float(from), tf = is_float(to);
  int fi = is_int(from) || from == AF_T_BOOL, ti = is_int(to);
  if (op == AF_OP_FCONV  ? !(ff && tf)
      : op == AF_OP_FTOI ? !(ff && ti)
      : op == AF_OP_ITOF ? !(fi && tf)
                         : 1)
    return AF_ERR_INVALID;
  if ((from == AF_T_F16 || to == AF_T_F16) && !HAVE_F16) return AF_ERR_UNSUPPORTED;
  if (op == AF_OP_ITOF) {
    fval r = itof(rd_int(a, from), from, to);
    wr_float(d, &r);
    return AF_OK;
  }
  fval x = rd_float(a, from);
  if (op == AF_OP_FCONV) {
    fval r = fconv(&x, to);
    wr_float(d, &r);
  } else {
    wr_int(d, to, ftoi(&x, to));
  }
  return AF_OK;
}

/* memcpy of a value's n bytes: the usual scalar sizes as fixed-size copies (one load and
 * store each), the rest through memcpy (a library call for a variable size). */
static inline void copy_val(uint8_t *d, const uint8_t *s, uint32_t n) {
  switch (n) {
  case 1: d[0] = s[0]; return;
  case 2: memcpy(d, s, 2); return;
  case 4: memcpy(d, s, 4); return;
  case 8: memcpy(d, s, 8); return;
  case 16: memcpy(d, s, 16); return;
  default: memcpy(d, s, n); return;
  }
}

/* copy_val into a destination with room for at least 16 bytes (a frame slot, a record's
 * arena bytes, the argument and return buffers), whose bytes past n nobody reads: the scalar
 * sizes (1, 2, 4, 8, 16) without a branch on n (copy_val's jump table was mispredicted on
 * about every third value: the sizes of a case's values are random), as one 16-byte store.
 * Reads n bytes of s, never more (s may be a constant's exactly-sized bytes): each width's
 * load reads from s when it is n, else from slot_zeros. */
static inline void copy_slot(uint8_t *d, const uint8_t *s, uint32_t n) {
  if (n - 1u > 15u || (n & (n - 1u))) { /* aggregates, m256; 0: an empty struct's no bytes */
    memcpy(d, s, n);
    return;
  }
  const slot_copy_info *t = &slot_copy_tab[n];
  const uintptr_t z = (uintptr_t)slot_zeros, o = (uintptr_t)s - z;
  uint64_t lo, hi;
  uint32_t x4;
  uint16_t x2;
  memcpy(&lo, (const uint8_t *)(z + (o & t->m8)), 8);
  memcpy(&hi, (const uint8_t *)(z + ((o + 8) & t->m16)), 8);
  memcpy(&x4, (const uint8_t *)(z + (o & t->m4)), 4);
  memcpy(&x2, (const uint8_t *)(z + (o & t->m2)), 2);
  lo |= x4 | x2 | *(const uint8_t *)(z + (o & t->m1));
  memcpy(d, &lo, 8);
  memcpy(d + 8, &hi, 8);
}

/* copy_slot from a source that also has 16 readable bytes (another frame slot, the argument
 * buffers): any n up to 16 is one 16-byte copy, the bytes past n being padding on both sides. */
static inline void copy_slot16(uint8_t *d, const uint8_t *s, uint32_t n) {
  if (n - 1u > 15u) { /* larger aggregates; 0: an empty struct, whose slot has no bytes */
    memcpy(d, s, n);
    return;
  }
  memcpy(d, s, 16);
}

static uint32_t val_size(const af_case *c, int type) {
  return type == AF_T_PTR ? 8 : c->types[type].size;
}

static int64_t rd_region(const uint8_t *p) {
  int64_t r;
  memcpy(&r, p, 8);
  return r;
}

static uint64_t region_ptr_id(const interp *I, int64_t r) {
  return r >= 0 && r < I->c->nobjects ? (uint64_t)(r + 1) << 32 : PTR_LOCAL_ID;
}

static af_status push_region(interp *I, int64_t *id) {
  if (I->nregions >= INTERP_MAX_REGIONS) return AF_ERR_RUNTIME;
  if (I->nregions == I->cap_regions) {
    int cap = I->cap_regions ? I->cap_regions * 2 : INTERP_REGIONS0;
    void *n;
    if (I->regions_own || !I->regions) {
      n = realloc(I->regions, (size_t)cap * AF_REGION_SIZE);
    } else { /* out of the scratch block's room: the regions move to an array of their own */
      n = malloc((size_t)cap * AF_REGION_SIZE);
      if (n) memcpy(n, I->regions, (size_t)I->nregions * AF_REGION_SIZE);
    }
    if (!n) return AF_ERR_NOMEM;
    I->regions = n;
    I->regions_own = 1;
    I->cap_regions = cap;
  }
  memset(I->regions[I->nregions], 0, AF_REGION_SIZE);
  *id = I->nregions++;
  return AF_OK;
}

/* A new record at the end of L, *idx its index (records move when L grows); NULL: no memory. */
static af_host_call *call_list_push(call_list *L, int *idx) {
  if (L->n == L->cap) {
    int cap = L->cap ? L->cap * 2 : 16;
    af_host_call *n = realloc(L->v, sizeof *n * (size_t)cap);
    if (!n) return NULL;
    L->v = n;
    L->cap = cap;
  }
  *idx = L->n;
  return &L->v[L->n++];
}

/* Appends a record of a call of g (function `callee`) with these arguments to L; *idx = its
 * index (records move when L grows). */
static af_status record_call(interp *I, call_list *L, int callee, const af_func *g,
                             uint8_t *const *args, int *idx) {
  af_host_call *hc = call_list_push(L, idx);
  if (!hc) return AF_ERR_NOMEM;
  /* Every field but args[nargs..] (as many as 32 values nobody reads: nargs says how many
   * there are) cleared: the whole record was 800 bytes of clearing per call. */
  memset(hc, 0, offsetof(af_host_call, args));
  memset(hc->args, 0, sizeof hc->args[0] * (size_t)g->sig.nparams);
  memset(&hc->ret, 0, sizeof *hc - offsetof(af_host_call, ret));
  hc->callee = callee;
  hc->nargs = g->sig.nparams;
  hc->ret.type = g->sig.ret;
  hc->ret.obj = -1;
  hc->ret_arg = -1;
  /* The argument bytes of one record share one allocation, owned by the first non-ptr
   * argument (free_calls frees that one only): a malloc per argument was most of recording. */
  size_t total = 0;
  for (int i = 0; i < g->sig.nparams; i++)
    if (g->sig.params[i] != AF_T_PTR) {
      uint32_t n = I->c->types[g->sig.params[i]].size;
      total += ((n ? n : 1) + 15) & ~(size_t)15;
    }
  uint8_t *blk = NULL;
  if (total && !(blk = arena_alloc(I, total))) return AF_ERR_NOMEM;
  for (int i = 0; i < g->sig.nparams; i++) {
    af_value *v = &hc->args[i];
    v->type = g->sig.params[i];
    v->obj = -1;
    if (v->type == AF_T_PTR) {
      int64_t r = rd_region(args[i]);
      v->obj = r < I->c->nobjects ? (int)r : -1; /* a LOCAL region: not an object */
      continue;
    }
    v->size = I->c->types[v->type].size;
    v->bytes = blk;
    blk += ((v->size ? v->size : 1) + 15) & ~(size_t)15;
    copy_slot16(v->bytes, args[i], v->size);
  }
  return AF_OK;
}

/* Appends to L a copy of record src (nargs arguments), *idx = its index: a host call's record
 * in the host list is the same as in the list of all calls, and shares its bytes (all of them
 * in the result's arena, freed at once: no record frees its own). */
static af_status copy_record(call_list *L, const af_host_call *src, int nargs, int *idx) {
  af_host_call *hc = call_list_push(L, idx);
  if (!hc) return AF_ERR_NOMEM;
  memcpy(hc, src, offsetof(af_host_call, args) + sizeof hc->args[0] * (size_t)nargs);
  memcpy(&hc->ret, &src->ret, sizeof *hc - offsetof(af_host_call, ret));
  return AF_OK;
}

/* Completes record idx of L once the call returned d (NULL for void): the regions its ptr
 * arguments point to as the call left them, which argument a returned pointer is, the return
 * value. */
static af_status finish_call(interp *I, call_list *L, int idx, const af_func *g,
                             uint8_t *const *args, const uint8_t *d) {
  const af_case *c = I->c;
  af_host_call *hc = &L->v[idx];
  int T = g->sig.ret;
  int any_ptr = 0;
  for (int k = 0; k < g->sig.nparams; k++)
    any_ptr |= g->sig.params[k] == AF_T_PTR;
  if (any_ptr && !hc->after) {
    /* what calloc and a copy per ptr argument's region gave, each slot written once */
    hc->after = arena_alloc(I, (size_t)g->sig.nparams * AF_REGION_SIZE);
    if (!hc->after) return AF_ERR_NOMEM;
    for (int k = 0; k < g->sig.nparams; k++) {
      uint8_t *slot = hc->after + (size_t)k * AF_REGION_SIZE;
      int64_t r = g->sig.params[k] == AF_T_PTR ? rd_region(args[k]) : -1;
      if (r >= 0 && r < I->nregions)
        memcpy(slot, I->regions[r], AF_REGION_SIZE);
      else
        memset(slot, 0, AF_REGION_SIZE);
    }
  }
  for (int k = 0; T == AF_T_PTR && k < g->sig.nparams; k++)
    if (g->sig.params[k] == AF_T_PTR && hc->ret_arg < 0 && rd_region(args[k]) == rd_region(d))
      hc->ret_arg = k;
  if (T == AF_T_VOID) return AF_OK;
  if (T == AF_T_PTR) {
    int64_t r = rd_region(d);
    hc->ret.obj = r < c->nobjects ? (int)r : -1;
    return AF_OK;
  }
  hc->ret.size = c->types[T].size;
  hc->ret.bytes = arena_alloc(I, hc->ret.size ? hc->ret.size : 1);
  if (!hc->ret.bytes) return AF_ERR_NOMEM;
  copy_slot16(hc->ret.bytes, d, hc->ret.size);
  return AF_OK;
}

static af_status run_func(interp *I, int fi, uint8_t *const *args, uint8_t *ret);

/* exec's operand check: bit k set for k < n (n = 0..8). */
static const uint8_t in_lanes[9] = {0x00, 0x01, 0x03, 0x07, 0x0f, 0x1f, 0x3f, 0x7f, 0xff};
_Static_assert(AF_MAX_OPERANDS >= 8, "exec reads eight operand ids");

/* One instruction. *done is set by RET. */
/* Inlined into run_func's loop: a call per instruction, with this function's large frame
 * saved and restored, was a tenth of interpreting. */
static inline __attribute__((always_inline)) af_status exec(interp *I, frame *F, int fi, int ii,
                                                            uint8_t *ret, int *done) {
  const af_case *c = I->c;
  const af_inst *in = &F->f->insts[ii];
  const int dst = in->dst, nv = F->f->nvalues, n = in->nargs;
  const unsigned limit = (unsigned)(dst >= 0 && dst < nv ? dst : nv);
  /* 0 <= id < limit: what valid_id said, one compare. The first eight operands (all of nearly
   * every instruction; MIXes and calls have more than three, and a loop's exit after the
   * third was mispredicted on most of them) compared at once, as unsigned (biased signed)
   * lanes: args[] is a fixed array, the ids past nargs are read but their lanes do not
   * count (in_lanes[n]: the lanes below n). */
  const __m128i bias = _mm_set1_epi32(INT32_MIN), lim = _mm_set1_epi32((int)(limit ^ 0x80000000u));
  const __m128i ok0 =
      _mm_cmplt_epi32(_mm_xor_si128(_mm_loadu_si128((const __m128i *)&in->args[0]), bias), lim);
  const __m128i ok1 =
      _mm_cmplt_epi32(_mm_xor_si128(_mm_loadu_si128((const __m128i *)&in->args[4]), bias), lim);
  const unsigned ok = (unsigned)_mm_movemask_ps(_mm_castsi128_ps(ok0)) |
                      (unsigned)_mm_movemask_ps(_mm_castsi128_ps(ok1)) << 4;
  unsigned bad = in_lanes[n < 0 ? 0 : n > 8 ? 8 : n] & ~ok;
  for (int k = 8; k < n; k++)
    bad |= (unsigned)in->args[k] >= limit;
  if (bad) return fail(I, AF_ERR_INVALID, "bad operand", fi, ii);
  int T = in->type;
  if ((unsigned)T >= (unsigned)c->ntypes) return fail(I, AF_ERR_INVALID, "bad type", fi, ii);
#define ARG(k)   (F->buf + F->off[in->args[k]])
#define ATYPE(k) (F->f->value_type[in->args[k]])
  uint8_t *d = NULL; /* the defined value's bytes (never NULL when dst >= 0) */
  if (dst >= 0) {
    d = F->buf + F->off[dst];
    if (F->f->value_type[dst] != T)
      return fail(I, AF_ERR_INVALID, "value type differs from the instruction's", fi, ii);
  } else if (in->op != AF_OP_RET && in->op != AF_OP_STORE && in->op != AF_OP_CALL) {
    return fail(I, AF_ERR_INVALID, "instruction defines no value", fi, ii);
  }
  switch (in->op) {
  case AF_OP_CONST:
    /* an empty struct's constant has no bytes (af_value_init leaves them NULL) */
    if (in->cst.size != c->types[T].size || (!in->cst.bytes && in->cst.size) || T == AF_T_PTR)
      return fail(I, AF_ERR_INVALID, "bad constant", fi, ii);
    if (in->cst.size) copy_slot(d, in->cst.bytes, in->cst.size);
    return AF_OK;
    /* the integer ops, one case each: one indirect jump per instruction, not two */
#define INT_OPERANDS()                                                                             \
  if (!is_int(T) || n != 2) return fail(I, AF_ERR_INVALID, "bad integer op", fi, ii);              \
  u128 a = rd_slot(ARG(0), T), b = rd_slot(ARG(1), T)
#define INT_BIN(EXPR)                                                                              \
  {                                                                                                \
    INT_OPERANDS();                                                                                \
    wr_slot(d, T, EXPR);                                                                           \
    return AF_OK;                                                                                  \
  }
  case AF_OP_ADD: INT_BIN(a + b)
  case AF_OP_SUB: INT_BIN(a - b)
  case AF_OP_MUL: INT_BIN(a * b)
  case AF_OP_AND: INT_BIN(a & b)
  case AF_OP_OR: INT_BIN(a | b)
  case AF_OP_XOR: INT_BIN(a ^ b)
  case AF_OP_SHL:
  case AF_OP_LSHR:
  case AF_OP_ASHR: {
    INT_OPERANDS();
    u128 r;
    int w = int_bits(T);
    unsigned s = (unsigned)(b & (u128)(w - 1));
    switch (in->op) {
    case AF_OP_SHL: r = a << s; break;
    case AF_OP_LSHR: r = zext_width(a, w) >> s; break;
    default: /* ASHR, for unsigned types too: sign-extend from the type's width, then
                shift in copies of the sign */
      if (w < 128 && ((a >> (w - 1)) & 1)) a |= ~(u128)0 << w;
      r = (a >> s) | ((a >> 127) && s ? ~(~(u128)0 >> s) : 0);
      break;
    }
    wr_slot(d, T, r);
    return AF_OK;
  }
#undef INT_BIN
#undef INT_OPERANDS
  case AF_OP_CMP: {
    int A = ATYPE(0);
    if (in->nargs != 2 || !(is_int(A) || A == AF_T_BOOL) || T != AF_T_BOOL)
      return fail(I, AF_ERR_INVALID, "bad cmp", fi, ii);
    if ((uint64_t)in->imm >= AF_CMP_COUNT) return fail(I, AF_ERR_INVALID, "bad predicate", fi, ii);
    u128 a = rd_slot(ARG(0), A), b = rd_slot(ARG(1), A);
    /* the predicate as a bit pick, not a switch: bit p of `all` is predicate p's result */
    unsigned eq = a == b, lt = is_signed_int(A) ? (i128)a < (i128)b : a < b;
    unsigned all =
        eq << AF_CMP_EQ | (eq ^ 1u) << AF_CMP_NE | lt << AF_CMP_LT | (lt | eq) << AF_CMP_LE;
    d[0] = (uint8_t)((all >> in->imm) & 1u);
    return AF_OK;
  }
  case AF_OP_SELECT:
    if (in->nargs != 3) return fail(I, AF_ERR_INVALID, "bad select", fi, ii);
    copy_slot16(d, ARG(0)[0] ? ARG(1) : ARG(2), val_size(c, T));
    return AF_OK;
  case AF_OP_SEXT:
  case AF_OP_ZEXT:
  case AF_OP_TRUNC: {
    int A = ATYPE(0);
    if (in->nargs != 1 || !(is_int(A) || A == AF_T_BOOL) || !(is_int(T) || T == AF_T_BOOL))
      return fail(I, AF_ERR_INVALID, "bad extension", fi, ii);
    u128 a = rd_slot(ARG(0), A);
    int aw = int_bits(A);
    if (in->op == AF_OP_ZEXT || A == AF_T_BOOL) /* bool zero-extends */
      a = zext_width(a, A == AF_T_BOOL ? 1 : aw);
    else if (in->op == AF_OP_SEXT && aw < 128 && ((a >> (aw - 1)) & 1)) /* from a's width */
      a |= ~(u128)0 << aw;
    wr_slot(d, T, a); /* TRUNC to bool keeps bit 0, as wr_int does */
    return AF_OK;
  }
  case AF_OP_FADD:
  case AF_OP_FSUB:
  case AF_OP_FMUL: {
    if (in->nargs != 2 || (T != AF_T_F32 && T != AF_T_F64 && T != AF_T_F80))
      return fail(I, AF_ERR_INVALID, "bad float op", fi, ii);
    fval a = rd_float(ARG(0), T), b = rd_float(ARG(1), T), r = a;
    switch (T) {
    case AF_T_F32:
      r.f = in->op == AF_OP_FADD ? a.f + b.f : in->op == AF_OP_FSUB ? a.f - b.f : a.f * b.f;
      break;
    case AF_T_F64:
      r.d = in->op == AF_OP_FADD ? a.d + b.d : in->op == AF_OP_FSUB ? a.d - b.d : a.d * b.d;
      break;
    default:
      r.x = in->op == AF_OP_FADD ? a.x + b.x : in->op == AF_OP_FSUB ? a.x - b.x : a.x * b.x;
      break;
    }
    wr_float(d, &r);
    return AF_OK;
  }
  case AF_OP_ITOF:
    /* the usual pairs (itof_bits) without af_eval_conv's checks: one 16-byte slot write */
    if (n == 1 && itof_fast(ATYPE(0), T)) {
      const uint64_t w[2] = {itof_bits(rd_slot(ARG(0), ATYPE(0)), ATYPE(0), T), 0};
      memcpy(d, w, 16);
      return AF_OK;
    }
    /* fall through */
  case AF_OP_FCONV:
  case AF_OP_FTOI: {
    if (in->nargs != 1) return fail(I, AF_ERR_INVALID, "bad conversion", fi, ii);
    af_status s = af_eval_conv(in->op, ATYPE(0), T, ARG(0), d);
    if (s == AF_ERR_UNSUPPORTED) return fail(I, s, "no _Float16 in this build", fi, ii);
    return s == AF_OK ? AF_OK : fail(I, s, "bad conversion", fi, ii);
  }
  case AF_OP_BITCAST:
    if (in->nargs != 1 || c->types[ATYPE(0)].size != c->types[T].size || T == AF_T_PTR ||
        ATYPE(0) == AF_T_PTR)
      return fail(I, AF_ERR_INVALID, "bad bitcast", fi, ii);
    copy_slot16(d, ARG(0), c->types[T].size);
    return AF_OK;
  case AF_OP_GET:
  case AF_OP_SET: {
    af_leaf L;
    int A = ATYPE(0);
    if (af_path_leaf(c, A, in->path, in->npath, &L) != AF_OK ||
        in->nargs != (in->op == AF_OP_GET ? 1 : 2))
      return fail(I, AF_ERR_INVALID, "bad path", fi, ii);
    if (in->op == AF_OP_GET) {
      if (L.type != T) return fail(I, AF_ERR_INVALID, "get type differs from the leaf's", fi, ii);
      if (L.bits >= 0)
        wr_slot(d, T,
                (u128)(int64_t)af_bitfield_get(ARG(0), L.bit_offset, L.bits, is_signed_int(T)));
      else
        copy_slot(d, ARG(0) + L.offset, c->types[T].size);
      return AF_OK;
    }
    if (A != T || ATYPE(1) != L.type) return fail(I, AF_ERR_INVALID, "set types differ", fi, ii);
    memmove(d, ARG(0), c->types[T].size);
    if (L.bits >= 0)
      af_bitfield_set(d, L.bit_offset, L.bits, (uint64_t)rd_slot(ARG(1), L.type));
    else
      copy_val(d + L.offset, ARG(1), c->types[L.type].size);
    return AF_OK;
  }
  case AF_OP_LOAD:
  case AF_OP_STORE: {
    int is_load = in->op == AF_OP_LOAD;
    if (in->nargs != (is_load ? 1 : 2) || ATYPE(0) != AF_T_PTR || T == AF_T_BOOL || T == AF_T_F80 ||
        T == AF_T_PTR || T == AF_T_VOID || T >= AF_T_NSCALAR || (!is_load && ATYPE(1) != T))
      return fail(I, AF_ERR_INVALID, "bad load/store", fi, ii);
    int64_t r = rd_region(ARG(0));
    uint32_t n = c->types[T].size;
    if (r < 0 || r >= I->nregions || in->imm < 0 || in->imm + n > AF_REGION_SIZE)
      return fail(I, AF_ERR_RUNTIME, "memory access out of bounds", fi, ii);
    if (is_load)
      copy_slot(d, I->regions[r] + in->imm, n);
    else
      copy_val(I->regions[r] + in->imm, ARG(1), n);
    return AF_OK;
  }
  case AF_OP_LOCAL: {
    if (T != AF_T_PTR) return fail(I, AF_ERR_INVALID, "bad local", fi, ii);
    int64_t r;
    af_status s = push_region(I, &r);
    if (s != AF_OK) return fail(I, s, "too many LOCAL regions", fi, ii);
    memcpy(d, &r, 8);
    return AF_OK;
  }
  case AF_OP_CALL: {
    if (in->imm <= fi || in->imm >= c->nfuncs)
      return fail(I, AF_ERR_INVALID, "bad callee (calls go to a greater index)", fi, ii);
    const af_func *g = &c->funcs[in->imm];
    if (in->nargs != g->sig.nparams || g->sig.ret != T)
      return fail(I, AF_ERR_INVALID, "call does not match the callee's signature", fi, ii);
    uint8_t *args[AF_MAX_PARAMS];
    for (int k = 0; k < in->nargs; k++) {
      if (ATYPE(k) != g->sig.params[k])
        return fail(I, AF_ERR_INVALID, "argument type differs from the parameter's", fi, ii);
      args[k] = ARG(k);
    }
    int hi = -1, ai = -1;
    af_status s = record_call(I, &I->all, (int)in->imm, g, args, &ai);
    if (s == AF_OK && g->host) s = copy_record(&I->host, &I->all.v[ai], g->sig.nparams, &hi);
    if (s != AF_OK) return fail(I, s, "out of memory", fi, ii);
    uint8_t tmp[AF_MAX_TYPE_SIZE + 16];
    s = run_func(I, (int)in->imm, args, d ? d : tmp);
    if (s != AF_OK) return s;
    s = finish_call(I, &I->all, ai, g, args, d);
    if (s == AF_OK && hi >= 0) { /* what finish_call gave the same call's other record */
      const af_host_call *a = &I->all.v[ai];
      af_host_call *h = &I->host.v[hi];
      h->ret = a->ret;
      h->after = a->after;
      h->ret_arg = a->ret_arg;
    }
    if (s != AF_OK) return fail(I, s, "out of memory", fi, ii);
    return AF_OK;
  }
  case AF_OP_MIX: {
    uint64_t h = (uint64_t)in->imm;
    for (int k = 0; k < in->nargs; k++) {
      int A = ATYPE(k);
      uint64_t pid = A == AF_T_PTR ? region_ptr_id(I, rd_region(ARG(k))) : 0;
      h = A < AF_T_NSCALAR ? fold_scalar(h, A, ARG(k), pid) : af_fold_bytes(c, h, A, ARG(k), pid);
    }
    memcpy(d, &h, 8);
    return AF_OK;
  }
  case AF_OP_RET:
    if (T != F->f->sig.ret || in->nargs != (T == AF_T_VOID ? 0 : 1) ||
        (T != AF_T_VOID && ATYPE(0) != T))
      return fail(I, AF_ERR_INVALID, "bad ret", fi, ii);
    if (T != AF_T_VOID) copy_slot16(ret, ARG(0), val_size(c, T));
    *done = 1;
    return AF_OK;
  default: break;
  }
#undef ARG
#undef ATYPE
  return fail(I, AF_ERR_INVALID, "unknown op", fi, ii);
}

/* Lays out function fi's frame on its first call (one allocation: offsets, then values). */
static af_status frame_get(interp *I, int fi, frame *F) {
  const af_case *c = I->c;
  const af_func *f = &c->funcs[fi];
  frame_cache *fc = &I->frames[fi];
  F->f = f;
  if (fc->off) {
    F->off = fc->off;
    F->buf = fc->buf;
    return AF_OK;
  }
  if (!f->value_type || f->nvalues < f->sig.nparams)
    return fail(I, AF_ERR_INVALID, "function not finished (af_fn_finish)", fi, -1);
  size_t head = (sizeof(uint32_t) * (size_t)(f->nvalues + 1) + 15) & ~(size_t)15;
  size_t total = 0;
  uint32_t offs_small[256];
  uint32_t *offs = f->nvalues < 256 ? offs_small : malloc(sizeof(uint32_t) * (size_t)f->nvalues);
  if (!offs) return AF_ERR_NOMEM;
  const int *vt = f->value_type;
  const unsigned ntypes = c->ntypes < AF_MAX_TYPES ? (unsigned)c->ntypes : AF_MAX_TYPES;
  if (!I->slots_ready) {
    for (unsigned t = 0; t < ntypes; t++)
      I->slot[t] = (val_size(c, (int)t) + 15) & ~(uint32_t)15;
    I->slots_ready = 1;
  }
  for (int v = 0, n = f->nvalues; v < n; v++) {
    unsigned t = (unsigned)vt[v];
    if (t >= ntypes || t == AF_T_VOID) { /* t < 0 too (unsigned) */
      if (offs != offs_small) free(offs);
      return fail(I, AF_ERR_INVALID, "bad value type", fi, -1);
    }
    offs[v] = (uint32_t)total;
    total += I->slot[t]; /* (val_size + 15) & ~15 */
  }
  size_t need = (head + (total ? total : 1) + 15) & ~(size_t)15;
  uint8_t *blk; /* not cleared: see frame_cache */
  if (I->slab && INTERP_SLAB - I->slab_used >= need) {
    blk = I->slab + I->slab_used;
    I->slab_used += need;
    fc->own = 0;
  } else {
    blk = malloc(need);
    fc->own = 1;
  }
  if (!blk) {
    if (offs != offs_small) free(offs);
    return AF_ERR_NOMEM;
  }
  fc->off = (uint32_t *)blk;
  fc->buf = blk + head;
  if (f->nvalues) memcpy(fc->off, offs, sizeof(uint32_t) * (size_t)f->nvalues);
  if (offs != offs_small) free(offs);
  F->off = fc->off;
  F->buf = fc->buf;
  return AF_OK;
}

static af_status run_func(interp *I, int fi, uint8_t *const *args, uint8_t *ret) {
  const af_case *c = I->c;
  const af_func *f = &c->funcs[fi];
  frame F;
  af_status s = frame_get(I, fi, &F);
  if (s != AF_OK) return s;
  for (int p = 0; p < f->sig.nparams; p++)
    copy_slot16(F.buf + F.off[p], args[p], val_size(c, f->sig.params[p]));
  int base = I->nregions, done = 0;
  for (int ii = 0; ii < f->ninsts && !done && s == AF_OK; ii++) {
    if (++I->steps > I->max_steps) {
      s = fail(I, AF_ERR_RUNTIME, "step budget exhausted", fi, ii);
      break;
    }
    s = exec(I, &F, fi, ii, ret, &done);
  }
  if (s == AF_OK && !done) s = fail(I, AF_ERR_INVALID, "no ret", fi, f->ninsts);
  I->nregions = base; /* this call's LOCAL regions die */
  return s;
}

static int case_uses_f16(const af_case *c) {
  for (int t = AF_T_NSCALAR; t < c->ntypes; t++)
    if (af_type_has(c, t, AF_T_F16)) return 1;
  for (int fi = 0; fi < c->nfuncs; fi++) {
    const af_func *f = &c->funcs[fi];
    for (int v = 0; f->value_type && v < f->nvalues; v++)
      if (f->value_type[v] == AF_T_F16) return 1;
  }
  return 0;
}

/* arena: the bytes live in the result's arena (freed by the caller), else each is its own. */
static void free_calls(af_host_call *v, int n, int arena) {
  for (int i = 0; i < n && v && !arena; i++) {
    for (int k = 0; k < v[i].nargs; k++) /* one block for all: the first one holds it */
      if (v[i].args[k].type != AF_T_PTR) {
        free(v[i].args[k].bytes);
        break;
      }
    free(v[i].ret.bytes);
    free(v[i].after);
  }
  free(v);
}

void af_interp_result_free(af_interp_result *res) {
  if (!res) return;
  int arena = res->arena != NULL;
  free_calls(res->host_calls, res->nhost_calls, arena);
  free_calls(res->calls, res->ncalls, arena);
  if (!arena) free(res->ret.bytes);
  for (arena_blk *b = res->arena, *next; b; b = next) {
    next = b->next;
    free(b);
  }
  memset(res, 0, sizeof *res);
}

af_status af_interp(const af_case *c, uint64_t max_steps, af_interp_result *res, af_error *err) {
  memset(res, 0, sizeof *res);
  res->ret.obj = -1;
  interp I;
  memset(&I, 0, offsetof(interp, slot)); /* slot is written before it is read */
  I.c = c;
  I.err = err;
  I.max_steps = max_steps ? max_steps : INTERP_DEFAULT_STEPS;
  if (c->entry < 0 || c->entry >= c->nfuncs || c->nobjects < 0 || c->nobjects > AF_MAX_OBJECTS ||
      c->ninputs != c->funcs[c->entry].sig.nparams)
    return fail(&I, AF_ERR_INVALID, "bad entry, objects or inputs", c->entry, -1);
  if (!HAVE_F16 && case_uses_f16(c))
    return fail(&I, AF_ERR_UNSUPPORTED, "_Float16 is not supported by this build", c->entry, -1);
  af_status s = AF_OK;
  const af_func *e = &c->funcs[c->entry];
  /* One scratch block (four mallocs and frees were a few percent of a run): the frame slab,
   * the entry's argument buffers, its return buffer, the first INTERP_REGIONS0 regions.
   * Not cleared: an argument slot is read (run_func) only over the bytes its input wrote;
   * retbuf is cleared below up to the return type's size, all any reader takes from it; a
   * region is cleared when pushed; frames: see frame_cache. */
  size_t nin = (size_t)c->ninputs + 1;
  uint8_t *scratch =
      malloc(INTERP_SLAB + nin * INTERP_ARGBUF + INTERP_ARGBUF + INTERP_REGIONS0 * AF_REGION_SIZE);
  uint8_t *inbuf = scratch ? scratch + INTERP_SLAB : NULL;
  uint8_t *retbuf = scratch ? inbuf + nin * INTERP_ARGBUF : NULL;
  uint8_t *args[AF_MAX_PARAMS];
  if (!scratch) {
    s = AF_ERR_NOMEM;
    goto out;
  }
  I.slab = scratch;
  I.regions = (uint8_t(*)[AF_REGION_SIZE])(retbuf + INTERP_ARGBUF);
  I.cap_regions = INTERP_REGIONS0;
  unsigned rt_size = (unsigned)e->sig.ret < (unsigned)c->ntypes ? c->types[e->sig.ret].size : 0;
  memset(retbuf, 0, 16 + rt_size);
  for (int k = 0; k < c->nobjects; k++) {
    int64_t r;
    if ((s = push_region(&I, &r)) != AF_OK) goto out;
    memcpy(I.regions[r], c->objects[k].init, AF_REGION_SIZE);
  }
  for (int i = 0; i < c->ninputs; i++) {
    const af_value *v = &c->inputs[i];
    args[i] = inbuf + (size_t)i * INTERP_ARGBUF;
    if (v->type != e->sig.params[i]) {
      s = fail(&I, AF_ERR_INVALID, "input type differs from the parameter's", c->entry, -1);
      goto out;
    }
    if (v->type == AF_T_PTR) {
      if (v->obj < 0 || v->obj >= c->nobjects) {
        s = fail(&I, AF_ERR_INVALID, "pointer input names no object", c->entry, -1);
        goto out;
      }
      int64_t r = v->obj;
      memcpy(args[i], &r, 8);
    } else {
      if (v->size != c->types[v->type].size || (v->size && !v->bytes)) {
        s = fail(&I, AF_ERR_INVALID, "input size differs from its type's", c->entry, -1);
        goto out;
      }
      if (v->size) copy_slot(args[i], v->bytes, v->size); /* empty struct: no bytes */
    }
  }
  if ((s = run_func(&I, c->entry, args, retbuf)) != AF_OK) goto out;

  /* result and checksum (gen.h AF_CHECKSUM_FMT) */
  uint64_t h = 0;
  int rt = e->sig.ret;
  res->ret.type = rt;
  if (rt == AF_T_PTR) {
    int64_t r = rd_region(retbuf);
    res->ret.obj = r < c->nobjects ? (int)r : -1;
    h = af_fold_u64(h, region_ptr_id(&I, r));
  } else if (rt != AF_T_VOID) {
    res->ret.size = c->types[rt].size;
    res->ret.bytes = arena_alloc(&I, res->ret.size ? res->ret.size : 1);
    if (!res->ret.bytes) {
      s = AF_ERR_NOMEM;
      goto out;
    }
    memcpy(res->ret.bytes, retbuf, res->ret.size);
    h = af_fold_bytes(c, h, rt, retbuf, 0);
  }
  for (int k = 0; k < c->nobjects; k++) {
    memcpy(res->objects[k], I.regions[k], AF_REGION_SIZE);
    for (int j = 0; j < AF_REGION_SIZE; j += 8) {
      uint64_t x = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
      memcpy(&x, I.regions[k] + j, 8); /* the loop below, one load */
#else
      for (int b = 0; b < 8; b++)
        x |= (uint64_t)I.regions[k][j + b] << (8 * b);
#endif
      h = af_fold_u64(h, x);
    }
  }
  res->checksum = h;
out:
  res->steps = I.steps;
  res->host_calls = I.host.v;
  res->nhost_calls = I.host.n;
  res->calls = I.all.v;
  res->ncalls = I.all.n;
  res->arena = I.arena;
  for (int k = 0; k < AF_MAX_FUNCS; k++)
    if (I.frames[k].own) free(I.frames[k].off);
  if (I.regions_own) free(I.regions);
  free(scratch);
  if (s != AF_OK) {
    af_interp_result_free(res);
    res->ret.obj = -1;
  }
  return s;
}
