/* xi.c - the xi engine: open/close, mappings, registers, hooks, contexts and the run loop. */
#include "xi.h"

#if defined(AF_HAVE_UNICORN)

#include <stdlib.h>
#include <time.h>

#include "xi_internal.h"

/* ---- open / close --------------------------------------------------------------------------- */
static void hooks_reindex(xi *x);
static void hooks_compact(xi *x);

uc_err xi_open(xi **out) {
  *out = NULL;
  xi *x = calloc(1, sizeof *x);
  if (!x) return UC_ERR_NOMEM;
  /* Unicorn's reset state: RFLAGS 0x2, MXCSR 0x1f80, FCW 0x37f, the x87 stack empty. */
  x->c.rflags = 2;
  x->c.mxcsr = 0x1f80;
  x->c.fcw = 0x37f;
  x->c.fempty = 0xff;
  x->rh_lo = x->wh_lo = UINT64_MAX;
  x->next_id = 1;
  *out = x;
  return UC_ERR_OK;
}

void xi_close(xi *x) {
  if (!x) return;
  free(x->reg);
  free(x->hooks);
  free(x->code_addrs.slot);
  for (int k = 0; k < XI_HK_N; k++)
    free(x->by_kind[k]);
  free(x);
}

void xi_stats_get(const xi *x, xi_stats *out) { *out = x->stats; }

/* ---- memory --------------------------------------------------------------------------------- */
static void caches_clear(xi *x) {
  memset(&x->rcache, 0, sizeof x->rcache);
  memset(&x->wcache, 0, sizeof x->wcache);
  memset(&x->fcache, 0, sizeof x->fcache);
  x->fc_n = 0;
}

uc_err xi_mem_map_ptr(xi *x, uint64_t addr, size_t size, uint32_t perms, void *ptr) {
  if (!size || (addr & 0xfff) || (size & 0xfff) || !ptr || addr + size < addr) return UC_ERR_ARG;
  if (perms & ~(uint32_t)UC_PROT_ALL) return UC_ERR_ARG;
  for (int i = 0; i < x->nreg; i++)
    if (addr < x->reg[i].hi && addr + size > x->reg[i].lo) return UC_ERR_MAP;
  if (x->nreg == x->capreg) {
    int cap = x->capreg ? 2 * x->capreg : 8;
    xi_region *p = realloc(x->reg, (size_t)cap * sizeof *p);
    if (!p) return UC_ERR_NOMEM;
    x->reg = p, x->capreg = cap;
  }
  x->reg[x->nreg++] = (xi_region){.lo = addr, .hi = addr + size, .host = ptr, .perms = perms};
  return UC_ERR_OK;
}

uc_err xi_mem_unmap(xi *x, uint64_t addr, size_t size) {
  for (int i = 0; i < x->nreg; i++) {
    if (x->reg[i].lo != addr || x->reg[i].hi != addr + size) continue;
    x->reg[i] = x->reg[--x->nreg];
    caches_clear(x);
    return UC_ERR_OK;
  }
  return UC_ERR_NOMEM; /* Unicorn's answer for an unmapped range */
}

static const xi_region *region_of(const xi *x, uint64_t a) {
  for (int i = 0; i < x->nreg; i++)
    if (a >= x->reg[i].lo && a < x->reg[i].hi) return &x->reg[i];
  return NULL;
}

/* The invalid-access hooks of that kind, then the fault. */
static void fault(xi *x, uc_mem_type t, uint64_t a, unsigned n, int64_t v) {
  static const int hook_of[] = {
      [UC_MEM_READ_UNMAPPED] = UC_HOOK_MEM_READ_UNMAPPED,
      [UC_MEM_WRITE_UNMAPPED] = UC_HOOK_MEM_WRITE_UNMAPPED,
      [UC_MEM_FETCH_UNMAPPED] = UC_HOOK_MEM_FETCH_UNMAPPED,
      [UC_MEM_WRITE_PROT] = UC_HOOK_MEM_WRITE_PROT,
      [UC_MEM_READ_PROT] = UC_HOOK_MEM_READ_PROT,
      [UC_MEM_FETCH_PROT] = UC_HOOK_MEM_FETCH_PROT,
  };
  static const uc_err err_of[] = {
      [UC_MEM_READ_UNMAPPED] = UC_ERR_READ_UNMAPPED,
      [UC_MEM_WRITE_UNMAPPED] = UC_ERR_WRITE_UNMAPPED,
      [UC_MEM_FETCH_UNMAPPED] = UC_ERR_FETCH_UNMAPPED,
      [UC_MEM_WRITE_PROT] = UC_ERR_WRITE_PROT,
      [UC_MEM_READ_PROT] = UC_ERR_READ_PROT,
      [UC_MEM_FETCH_PROT] = UC_ERR_FETCH_PROT,
  };
  x->in_hook++;
  for (int j = 0; j < x->n_kind[XI_HK_INVALID]; j++) {
    xi_hook *h = &x->hooks[x->by_kind[XI_HK_INVALID][j]];
    if (!(h->type & hook_of[t])) continue;
    if (h->begin <= h->end && (a > h->end || a + n <= h->begin)) continue;
    ((uc_cb_eventmem_t)h->cb)(NULL, t, a, (int)n, v, h->user);
  }
  x->in_hook--;
  x->err = err_of[t];
}

/* Checks [a, a + n) for the permission; on success returns NULL and sets *whole to the region
 * when one holds it all, else the kind of the first bad byte with *bad its address. */
static uc_mem_type check(const xi *x, uint64_t a, unsigned n, uint32_t perm, int kind,
                         const xi_region **whole, uint64_t *bad) {
  *whole = NULL;
  const xi_region *r = kind == XI_R ? &x->rcache : &x->wcache;
  if (!(a >= r->lo && a < r->hi)) r = region_of(x, a);
  if (r && a + n <= r->hi && a + n > a && (r->perms & perm)) {
    *whole = r;
    return 0;
  }
  for (unsigned i = 0; i < n; i++) {
    const xi_region *q = region_of(x, a + i);
    *bad = a + i;
    if (!q) return kind == XI_R ? UC_MEM_READ_UNMAPPED : UC_MEM_WRITE_UNMAPPED;
    if (!(q->perms & perm)) return kind == XI_R ? UC_MEM_READ_PROT : UC_MEM_WRITE_PROT;
  }
  return 0;
}

static void copy_in(const xi *x, uint64_t a, unsigned n, uint8_t *out) {
  for (unsigned i = 0; i < n; i++) {
    const xi_region *q = region_of(x, a + i);
    out[i] = q->host[a + i - q->lo];
  }
}

static void copy_out(const xi *x, uint64_t a, unsigned n, const uint8_t *in) {
  for (unsigned i = 0; i < n; i++) {
    const xi_region *q = region_of(x, a + i);
    q->host[a + i - q->lo] = in[i];
  }
}

/* A written value as the hooks get it: its n bytes (at most 8), zero-extended; 0 for a read. */
static inline int64_t hook_value(const void *val, unsigned n) {
  int64_t v = 0;
  if (!val) return 0;
  if (n == 8) { /* most written values (a stack slot) */
    memcpy(&v, val, 8);
    return v;
  }
  switch (n) { /* fixed-size copies: no memcpy call */
  case 1: v = *(const uint8_t *)val; break;
  case 2: memcpy(&v, val, 2); break;
  case 4: memcpy(&v, val, 4); break;
  default: memcpy(&v, val, 8); break;
  }
  return v;
}

/* The hooks of one access part. */
static __attribute__((noinline)) void mem_hooks_part(xi *x, int kind, uc_mem_type t, uint64_t a,
                                                     unsigned n, const void *val) {
  int64_t v = hook_value(val, n);
  x->in_hook++;
  for (int j = 0; j < x->n_kind[kind]; j++) {
    xi_hook *h = &x->hooks[x->by_kind[kind][j]];
    if (!h->type || (h->begin <= h->end && (a > h->end || a + n <= h->begin))) continue;
    ((uc_cb_hookmem_t)h->cb)(NULL, t, a, (int)n, v, h->user);
  }
  x->in_hook--;
}

/* The one hook of an access part when its kind has exactly one (x->sole): 1 done, 0 walk the
 * list. Re-read at each part: a callback may add or delete hooks. */
static inline __attribute__((always_inline)) int
sole_part(xi *x, int kind, uc_mem_type t, uint64_t a, unsigned n, const void *val) {
  const xi_sole *s = &x->sole[kind == XI_HK_WRITE];
  if (!s->cb) return 0;
  if (s->begin <= s->end && (a > s->end || a + n <= s->begin)) return 1;
  int64_t v = hook_value(val, n);
  x->in_hook++;
  s->cb(NULL, t, a, (int)n, v, s->user);
  x->in_hook--;
  return 1;
}

/* The data-access hooks of one access: QEMU splits a 16-byte access into two of 8 and an
 * 80-bit one into 8 + 2, and Unicorn calls the hooks per part; so does xi. */
void xi_mem_hooks(xi *x, int kind, uc_mem_type t, uint64_t a, unsigned n, const void *val) {
  if (n <= 8) {
    if (!sole_part(x, kind, t, a, n, val)) mem_hooks_part(x, kind, t, a, n, val);
    return;
  }
  const uint8_t *v = val;
  if (!sole_part(x, kind, t, a, 8, v)) mem_hooks_part(x, kind, t, a, 8, v);
  if (!sole_part(x, kind, t, a + 8, n - 8, v ? v + 8 : NULL))
    mem_hooks_part(x, kind, t, a + 8, n - 8, v ? v + 8 : NULL);
}

/* The usual case, one read and one write hook (the emulation leg's, on the stack: ~750
 * accesses a case) and an access of at most 8 bytes: straight to it, few registers saved. */
void xi_mem_hooks_r(xi *x, uint64_t a, unsigned n) {
  const xi_sole *s = &x->sole[0];
  if (__builtin_expect(!s->cb || n > 8, 0)) {
    xi_mem_hooks(x, XI_HK_READ, UC_MEM_READ, a, n, NULL);
    return;
  }
  if (s->begin <= s->end && (a > s->end || a + n <= s->begin)) return;
  x->in_hook++;
  s->cb(NULL, UC_MEM_READ, a, (int)n, 0, s->user);
  x->in_hook--;
}

void xi_mem_hooks_w(xi *x, uint64_t a, unsigned n, const void *val) {
  const xi_sole *s = &x->sole[1];
  if (__builtin_expect(!s->cb || n > 8, 0)) {
    xi_mem_hooks(x, XI_HK_WRITE, UC_MEM_WRITE, a, n, val);
    return;
  }
  if (s->begin <= s->end && (a > s->end || a + n <= s->begin)) return;
  int64_t v = hook_value(val, n);
  x->in_hook++;
  s->cb(NULL, UC_MEM_WRITE, a, (int)n, v, s->user);
  x->in_hook--;
}

bool xi_load_slow(xi *x, uint64_t a, unsigned n, void *out) {
  const xi_region *r;
  uint64_t bad = a;
  uc_mem_type t = check(x, a, n, UC_PROT_READ, XI_R, &r, &bad);
  if (t) {
    fault(x, t, a, n, 0);
    return false;
  }
  if (a <= x->rh_hi && a + n > x->rh_lo) xi_mem_hooks_r(x, a, n);
  if (r) {
    memcpy(out, r->host + (a - r->lo), n);
    x->rcache = *r;
  } else {
    copy_in(x, a, n, out);
  }
  return true;
}

bool xi_store_slow(xi *x, uint64_t a, unsigned n, const void *in) {
  const xi_region *r;
  uint64_t bad = a;
  uc_mem_type t = check(x, a, n, UC_PROT_WRITE, XI_W, &r, &bad);
  if (t) {
    int64_t v = 0;
    memcpy(&v, in, n < 8 ? n : 8);
    fault(x, t, a, n, v);
    return false;
  }
  if (a <= x->wh_hi && a + n > x->wh_lo) xi_mem_hooks_w(x, a, n, in);
  if (r) {
    memcpy(r->host + (a - r->lo), in, n);
    x->wcache = *r;
  } else {
    copy_out(x, a, n, in);
  }
  return true;
}

/* ---- registers ------------------------------------------------------------------------------- */
static int gpr_index(int id) {
  switch (id) {
  case UC_X86_REG_RAX: return 0;
  case UC_X86_REG_RCX: return 1;
  case UC_X86_REG_RDX: return 2;
  case UC_X86_REG_RBX: return 3;
  case UC_X86_REG_RSP: return 4;
  case UC_X86_REG_RBP: return 5;
  case UC_X86_REG_RSI: return 6;
  case UC_X86_REG_RDI: return 7;
  case UC_X86_REG_R8: return 8;
  case UC_X86_REG_R9: return 9;
  case UC_X86_REG_R10: return 10;
  case UC_X86_REG_R11: return 11;
  case UC_X86_REG_R12: return 12;
  case UC_X86_REG_R13: return 13;
  case UC_X86_REG_R14: return 14;
  case UC_X86_REG_R15: return 15;
  default: return -1;
  }
}

/* The full tag word from the empty bits and the values, as Unicorn (QEMU's helper_fstenv)
 * computes it: 00 valid, 01 zero, 10 special (NaN, infinity, denormal, unnormal), 11 empty. */
static uint16_t full_tags(const xi_cpu *c) {
  uint16_t t = 0;
  for (int i = 7; i >= 0; i--) {
    t = (uint16_t)(t << 2);
    if (c->fempty >> i & 1) {
      t |= 3;
      continue;
    }
    uint64_t m;
    uint16_t se;
    memcpy(&m, c->st[i], 8);
    memcpy(&se, c->st[i] + 8, 2);
    unsigned e = se & 0x7fff;
    if (e == 0 && m == 0)
      t |= 1;
    else if (e == 0 || e == 0x7fff || !(m >> 63))
      t |= 2;
  }
  return t;
}

xi_regs *xi_regs_get(xi *x) { return &x->c; }

uc_err xi_reg_read(xi *x, int regid, void *value) {
  int g = gpr_index(regid);
  if (g >= 0) {
    memcpy(value, &x->c.gpr[g], 8);
    return UC_ERR_OK;
  }
  if (regid >= UC_X86_REG_XMM0 && regid <= UC_X86_REG_XMM15) {
    memcpy(value, x->c.xmm[regid - UC_X86_REG_XMM0], 16);
    return UC_ERR_OK;
  }
  if (regid >= UC_X86_REG_ST0 && regid <= UC_X86_REG_ST7) {
    unsigned top = (x->c.fsw >> 11) & 7;
    memcpy(value, x->c.st[(top + (unsigned)(regid - UC_X86_REG_ST0)) & 7], 10);
    return UC_ERR_OK;
  }
  if (regid >= UC_X86_REG_FP0 && regid <= UC_X86_REG_FP7) {
    memcpy(value, x->c.st[regid - UC_X86_REG_FP0], 10);
    return UC_ERR_OK;
  }
  uint16_t v16;
  switch (regid) {
  case UC_X86_REG_RIP: memcpy(value, &x->c.rip, 8); return UC_ERR_OK;
  case UC_X86_REG_RFLAGS:
  case UC_X86_REG_EFLAGS: memcpy(value, &x->c.rflags, 8); return UC_ERR_OK;
  case UC_X86_REG_MXCSR: memcpy(value, &x->c.mxcsr, 4); return UC_ERR_OK;
  case UC_X86_REG_FPSW: memcpy(value, &x->c.fsw, 2); return UC_ERR_OK;
  case UC_X86_REG_FPCW: memcpy(value, &x->c.fcw, 2); return UC_ERR_OK;
  case UC_X86_REG_FPTAG:
    v16 = full_tags(&x->c);
    memcpy(value, &v16, 2);
    return UC_ERR_OK;
  default: return UC_ERR_ARG;
  }
}

uc_err xi_reg_write(xi *x, int regid, const void *value) {
  int g = gpr_index(regid);
  if (g >= 0) {
    memcpy(&x->c.gpr[g], value, 8);
    return UC_ERR_OK;
  }
  if (regid >= UC_X86_REG_XMM0 && regid <= UC_X86_REG_XMM15) {
    memcpy(x->c.xmm[regid - UC_X86_REG_XMM0], value, 16);
    return UC_ERR_OK;
  }
  if (regid >= UC_X86_REG_ST0 && regid <= UC_X86_REG_ST7) {
    unsigned top = (x->c.fsw >> 11) & 7, p = (top + (unsigned)(regid - UC_X86_REG_ST0)) & 7;
    memcpy(x->c.st[p], value, 10);
    x->c.fempty &= (uint8_t) ~(1u << p);
    return UC_ERR_OK;
  }
  if (regid >= UC_X86_REG_FP0 && regid <= UC_X86_REG_FP7) {
    memcpy(x->c.st[regid - UC_X86_REG_FP0], value, 10);
    return UC_ERR_OK;
  }
  uint16_t v16;
  uint32_t v32;
  switch (regid) {
  case UC_X86_REG_RIP: memcpy(&x->c.rip, value, 8); return UC_ERR_OK;
  case UC_X86_REG_RFLAGS:
  case UC_X86_REG_EFLAGS:
    memcpy(&x->c.rflags, value, 8);
    x->c.rflags |= 2; /* bit 1 always reads 1 */
    return UC_ERR_OK;
  case UC_X86_REG_MXCSR:
    memcpy(&v32, value, 4);
    x->c.mxcsr = v32 & 0xffff; /* the reserved bits would #GP the host's ldmxcsr */
    return UC_ERR_OK;
  case UC_X86_REG_FPSW: memcpy(&x->c.fsw, value, 2); return UC_ERR_OK;
  case UC_X86_REG_FPCW: memcpy(&x->c.fcw, value, 2); return UC_ERR_OK;
  case UC_X86_REG_FPTAG:
    memcpy(&v16, value, 2);
    x->c.fempty = 0;
    for (int i = 0; i < 8; i++)
      if (((v16 >> (2 * i)) & 3) == 3) x->c.fempty |= (uint8_t)(1u << i);
    return UC_ERR_OK;
  default: return UC_ERR_ARG;
  }
}

/* ---- contexts -------------------------------------------------------------------------------- */
uc_err xi_context_alloc(xi *x, xi_context **ctx) {
  (void)x;
  *ctx = calloc(1, sizeof **ctx);
  return *ctx ? UC_ERR_OK : UC_ERR_NOMEM;
}
uc_err xi_context_save(xi *x, xi_context *ctx) {
  ctx->c = x->c;
  return UC_ERR_OK;
}
uc_err xi_context_restore(xi *x, const xi_context *ctx) {
  x->c = ctx->c;
  return UC_ERR_OK;
}
void xi_context_free(xi_context *ctx) { free(ctx); }

/* ---- hooks ----------------------------------------------------------------------------------- */
static uint64_t addr_hash(uint64_t a) { return a * 0x9E3779B97F4A7C15ull; }

static bool addrset_has(const xi_addrset *s, uint64_t a) {
  if (!a) return s->has_zero;
  if (!s->n) return false;
  size_t m = s->cap - 1, i = (size_t)(addr_hash(a) >> 40) & m;
  for (;; i = (i + 1) & m) {
    if (s->slot[i] == a) return true;
    if (!s->slot[i]) return false;
  }
}

static bool addrset_add(xi_addrset *s, uint64_t a) {
  if (!a) return s->has_zero = true;
  if ((s->n + 1) * 2 > s->cap) {
    size_t cap = s->cap ? 2 * s->cap : 256;
    uint64_t *p = calloc(cap, sizeof *p), *old = s->slot;
    if (!p) return false;
    size_t oldcap = s->cap;
    s->slot = p, s->cap = cap, s->n = 0;
    for (size_t i = 0; i < oldcap; i++)
      if (old[i]) addrset_add(s, old[i]);
    free(old);
  }
  size_t m = s->cap - 1, i = (size_t)(addr_hash(a) >> 40) & m;
  while (s->slot[i] && s->slot[i] != a)
    i = (i + 1) & m;
  if (!s->slot[i]) s->slot[i] = a, s->n++;
  return true;
}

static int kind_of(int type) {
  switch (type) {
  case UC_HOOK_CODE: return XI_HK_CODE;
  case UC_HOOK_BLOCK: return XI_HK_BLOCK;
  case UC_HOOK_MEM_READ: return XI_HK_READ;
  case UC_HOOK_MEM_WRITE: return XI_HK_WRITE;
  default: return XI_HK_INVALID;
  }
}

/* Files hook i under its kind and updates the quick tests (address set, range unions,
 * counts). false: out of memory. */
static bool hook_index(xi *x, int i) {
  xi_hook *h = &x->hooks[i];
  int k = kind_of(h->type);
  if (x->n_kind[k] == x->cap_kind[k]) {
    int cap = x->cap_kind[k] ? 2 * x->cap_kind[k] : 16;
    int *p = realloc(x->by_kind[k], (size_t)cap * sizeof *p);
    if (!p) return false;
    x->by_kind[k] = p, x->cap_kind[k] = cap;
  }
  x->by_kind[k][x->n_kind[k]++] = i;
  bool all = h->begin > h->end;
  uint64_t lo = all ? 0 : h->begin, hi = all ? UINT64_MAX : h->end;
  switch (k) {
  case XI_HK_CODE:
    if (!all && lo == hi) {
      x->code_bloom[(lo >> 6) & 63] |= 1ull << (lo & 63);
      x->ncode_one++;
      return addrset_add(&x->code_addrs, lo);
    }
    x->ncode_range++;
    for (int w = 0; w < 8; w++)
      x->code_ops[w] |= h->has_ops ? h->ops[w] : ~0ull;
    break;
  case XI_HK_BLOCK: x->nblock++; break;
  case XI_HK_READ:
    x->rh_lo = lo < x->rh_lo ? lo : x->rh_lo, x->rh_hi = hi > x->rh_hi ? hi : x->rh_hi;
    break;
  case XI_HK_WRITE:
    x->wh_lo = lo < x->wh_lo ? lo : x->wh_lo, x->wh_hi = hi > x->wh_hi ? hi : x->wh_hi;
    break;
  default: x->ninvalid++; break;
  }
  return true;
}

/* x->sole: for the read and the write kind, its hook when it has exactly one live one. */
static void sole_update(xi *x) {
  for (int w = 0; w < 2; w++) {
    int k = w ? XI_HK_WRITE : XI_HK_READ, live = 0;
    xi_sole *s = &x->sole[w];
    memset(s, 0, sizeof *s);
    for (int j = 0; j < x->n_kind[k]; j++) {
      const xi_hook *h = &x->hooks[x->by_kind[k][j]];
      if (!h->type) continue;
      if (++live > 1) break;
      *s = (xi_sole){
          .cb = (uc_cb_hookmem_t)h->cb, .user = h->user, .begin = h->begin, .end = h->end};
    }
    if (live != 1) memset(s, 0, sizeof *s);
  }
}

/* Rebuilds every quick test from the hook list (after a deletion). */
static void hooks_reindex(xi *x) {
  if (x->code_addrs.slot) memset(x->code_addrs.slot, 0, x->code_addrs.cap * sizeof(uint64_t));
  x->code_addrs.n = 0, x->code_addrs.has_zero = false;
  x->ncode_range = x->nblock = x->ninvalid = 0;
  x->rh_lo = x->wh_lo = UINT64_MAX, x->rh_hi = x->wh_hi = 0;
  memset(x->code_bloom, 0, sizeof x->code_bloom);
  x->ncode_one = 0;
  memset(x->code_ops, 0, sizeof x->code_ops);
  for (int k = 0; k < XI_HK_N; k++)
    x->n_kind[k] = 0;
  for (int i = 0; i < x->nhooks; i++)
    if (x->hooks[i].type) hook_index(x, i); /* no growth: the lists were this long before */
  sole_update(x);
}

uc_err xi_hook_add(xi *x, uc_hook *hh, int type, void *callback, void *user_data, uint64_t begin,
                   uint64_t end) {
  if (!callback) return UC_ERR_ARG;
  bool ok = type == UC_HOOK_CODE || type == UC_HOOK_BLOCK || type == UC_HOOK_MEM_READ ||
            type == UC_HOOK_MEM_WRITE || (type && !(type & ~UC_HOOK_MEM_INVALID));
  if (!ok) return UC_ERR_HOOK;
  if (x->ndeleted * 2 > x->nhooks) hooks_compact(x);
  if (x->nhooks == x->caphooks) {
    int cap = x->caphooks ? 2 * x->caphooks : 64;
    xi_hook *p = realloc(x->hooks, (size_t)cap * sizeof *p);
    if (!p) return UC_ERR_NOMEM;
    x->hooks = p, x->caphooks = cap;
  }
  xi_hook *h = &x->hooks[x->nhooks++];
  *h = (xi_hook){.type = type,
                 .cb = callback,
                 .user = user_data,
                 .begin = begin,
                 .end = end,
                 .id = x->next_id++};
  if (!hook_index(x, x->nhooks - 1)) {
    x->nhooks--;
    return UC_ERR_NOMEM;
  }
  sole_update(x);
  if (hh) *hh = (uc_hook)h->id;
  return UC_ERR_OK;
}

/* Drops the deleted hooks and rebuilds the indices (not while a callback runs: the lists are
 * being walked). Deferred to the next run or add, so that deleting n hooks costs O(n). */
static void hooks_compact(xi *x) {
  if (!x->ndeleted || x->in_hook) return;
  int k = 0;
  for (int j = 0; j < x->nhooks; j++)
    if (x->hooks[j].type) x->hooks[k++] = x->hooks[j];
  x->nhooks = k;
  x->ndeleted = 0;
  hooks_reindex(x);
}

/* The live hook with handle hh, or NULL. */
static xi_hook *hook_find(xi *x, uc_hook hh) {
  /* ids grow with the index (deletions only compact): a binary search */
  int lo = 0, hi = x->nhooks - 1;
  while (lo <= hi) {
    int mid = (lo + hi) / 2;
    if (x->hooks[mid].id < (uint64_t)hh)
      lo = mid + 1;
    else if (x->hooks[mid].id > (uint64_t)hh)
      hi = mid - 1;
    else
      return x->hooks[mid].type ? &x->hooks[mid] : NULL;
  }
  return NULL;
}

uc_err xi_hook_del(xi *x, uc_hook hh) {
  xi_hook *h = hook_find(x, hh);
  if (!h) return UC_ERR_OK; /* Unicorn ignores an unknown handle */
  /* type 0: every walk skips it at once; its stale entry in the address set only sends that
   * address to the slow path until the compaction */
  h->type = 0;
  x->ndeleted++;
  if (h->begin != h->end)
    hooks_reindex(x); /* the range counts, unions and opcodes shrink */
  else
    sole_update(x);
  return UC_ERR_OK;
}

uc_err xi_hook_code_ops(xi *x, uc_hook hh, const uint16_t *ops, size_t n) {
  xi_hook *h = hook_find(x, hh);
  if (!h || h->type != UC_HOOK_CODE) return UC_ERR_ARG;
  uint64_t m[8] = {0};
  for (size_t i = 0; i < n; i++) {
    if (ops[i] > 0x1FF) return UC_ERR_ARG;
    m[ops[i] >> 6] |= 1ull << (ops[i] & 63);
  }
  memcpy(h->ops, m, sizeof m);
  h->has_ops = true;
  hooks_reindex(x); /* code_ops: the union of the range hooks' opcodes */
  return UC_ERR_OK;
}

/* The code hooks of the instruction at rip (len bytes, opcode opi: map << 8 | opcode). */
static void code_hooks(xi *x, uint64_t rip, uint32_t len, unsigned opi) {
  x->in_hook++;
  for (int j = 0; j < x->n_kind[XI_HK_CODE]; j++) {
    xi_hook *h = &x->hooks[x->by_kind[XI_HK_CODE][j]];
    if (h->type != UC_HOOK_CODE) continue;
    if (h->begin <= h->end && (rip < h->begin || rip > h->end)) continue;
    if (h->has_ops && !(h->ops[opi >> 6] >> (opi & 63) & 1)) continue;
    ((uc_cb_hookcode_t)h->cb)(NULL, rip, len, h->user);
  }
  x->in_hook--;
}

static void block_hooks(xi *x, uint64_t rip) {
  x->in_hook++;
  for (int j = 0; j < x->n_kind[XI_HK_BLOCK]; j++) {
    xi_hook *h = &x->hooks[x->by_kind[XI_HK_BLOCK][j]];
    if (h->type != UC_HOOK_BLOCK) continue;
    if (h->begin <= h->end && (rip < h->begin || rip > h->end)) continue;
    ((uc_cb_hookcode_t)h->cb)(NULL, rip, 0, h->user);
  }
  x->in_hook--;
}

/* ---- the run loop ---------------------------------------------------------------------------- */
void xi_emu_stop(xi *x) { x->stop = true; }

static uint64_t now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000u + (uint64_t)t.tv_nsec / 1000u;
}

/* Up to 15 bytes of code at rip into buf (zero padded): how many are fetchable. */
static size_t fetch_slow(xi *x, uint64_t rip, uint8_t *buf, uc_mem_type *why) {
  size_t n = 0;
  memset(buf, 0, 16);
  *why = 0;
  while (n < 15) { /* a region's bytes at a time (code near its region's end: ~10 a case) */
    const xi_region *q = region_of(x, rip + n);
    if (!q) {
      *why = UC_MEM_FETCH_UNMAPPED;
      break;
    }
    if (!(q->perms & UC_PROT_EXEC)) {
      *why = UC_MEM_FETCH_PROT;
      break;
    }
    if (n == 0) x->fcache = *q, x->fc_n = q->hi - q->lo - 14; /* regions: >= 4096 bytes */
    uint64_t k = q->hi - (rip + n); /* > 0: mappings never wrap (xi_mem_map_ptr) */
    if (k > 15 - n) k = 15 - n;
    memcpy(buf + n, q->host + (rip + n - q->lo), (size_t)k);
    n += (size_t)k;
  }
  return n;
}

/* The code hooks of the instruction at rip (len bytes, opcode opi: map << 8 | opcode), if any:
 * 0 run it, 1 a hook moved RIP (skip it), -1 a hook stopped the run. A range hook is looked at
 * only when some range hook wants the opcode (code_ops), a one-address one only when the
 * bloom filter says the address may have one. */
static inline __attribute__((always_inline)) int hooks_at(xi *x, uint64_t rip, unsigned len,
                                                          uint64_t until, unsigned opi) {
  bool range = x->code_ops[opi >> 6] >> (opi & 63) & 1;
  if (__builtin_expect(range || (x->ncode_one && x->code_bloom[(rip >> 6) & 63] >> (rip & 63) & 1),
                       0)) {
    if (range || addrset_has(&x->code_addrs, rip)) {
      code_hooks(x, rip, len, opi);
      if (x->stop) return -1;
      if (x->c.rip != rip) {
        if (x->nblock && x->c.rip != until) block_hooks(x, x->c.rip);
        return 1;
      }
    }
  }
  return 0;
}

/* A decoder-executor in one for what a case's code mostly is (the code dumps of
 * doc/benchmarks.md: ~85% of its instructions): mov r/m, r (89), mov r, r/m (8B), lea (8D) and
 * mov r, imm (B8+r, movabs with REX.W), 32- and 64-bit; push/pop r64, call rel32, ret; movups,
 * movss, movsd (0F 10/11). At most a REX prefix (F3/F2 for movss/movsd). A fraction of the
 * generic decode + execute, with the same semantics as xi_exec_int's and the same hooks
 * (test_xi_diff runs these rows against the hardware, test_xi with hooks and against Unicorn).
 * p has 15 bytes. Returns 0 not one of those (the generic path takes it), 1 done (RIP moved
 * on, or a hook moved it), -1 stop the run (*err: the fault, or OK for a hook's stop). */
static inline __attribute__((always_inline)) int
fast_path(xi *x, const uint8_t *p, uint64_t rip, uint64_t until, size_t *reached, uc_err *err) {
  unsigned n = 0, rex = 0, pfx = 0, b = p[0];
  if (b == 0xF3 || b == 0xF2) pfx = b, b = p[++n];
  if ((b & 0xF0) == 0x40) rex = b, b = p[++n];
  n++;
  unsigned w = rex & 8, reg = (b & 7) | ((rex & 1) << 3), kind;
  uint64_t *g = x->c.gpr, v = 0, next;
  if (pfx && (b != 0x0F || (p[n] & 0xFE) != 0x10)) return 0;
  switch (b) {        /* (a failing xi_load / xi_store has set x->err) */
  case 0xB8 ... 0xBF: /* mov r32, imm32 (zero-extended) / movabs r64, imm64 */
    if (w)
      memcpy(&v, p + n, 8), n += 8;
    else
      memcpy(&v, p + n, 4), n += 4;
    (*reached)++;
    if ((kind = (unsigned)hooks_at(x, rip, n, until, b))) return (int)kind;
    g[reg] = v;
    x->c.rip = rip + n;
    x->stats.insns++;
    return 1;
  case 0x50 ... 0x57: /* push r64 */
    (*reached)++;
    if ((kind = (unsigned)hooks_at(x, rip, n, until, b))) return (int)kind;
    v = g[reg];
    if (!xi_store(x, g[4] - 8, 8, &v)) break;
    g[4] -= 8;
    x->c.rip = rip + n;
    x->stats.insns++;
    return 1;
  case 0x58 ... 0x5F: /* pop r64 */
    (*reached)++;
    if ((kind = (unsigned)hooks_at(x, rip, n, until, b))) return (int)kind;
    if (!xi_load(x, g[4], 8, &v)) break;
    g[4] += 8;
    g[reg] = v; /* pop rsp: the value wins */
    x->c.rip = rip + n;
    x->stats.insns++;
    return 1;
  case 0xE8: /* call rel32 */
  case 0xC3: /* ret */
    if (b == 0xE8) {
      int32_t rel;
      memcpy(&rel, p + n, 4), n += 4;
      v = rip + n + (uint64_t)(int64_t)rel;
    }
    (*reached)++;
    if ((kind = (unsigned)hooks_at(x, rip, n, until, b))) return (int)kind;
    if (b == 0xE8) {
      next = rip + n;
      if (!xi_store(x, g[4] - 8, 8, &next)) break;
      g[4] -= 8;
    } else {
      if (!xi_load(x, g[4], 8, &v)) break;
      g[4] += 8;
    }
    x->c.rip = v;
    x->stats.insns++;
    if (x->nblock && v != until) block_hooks(x, v);
    return 1;
  case 0x89: kind = 0; goto modrm;
  case 0x8B: kind = 1; goto modrm;
  case 0x8D: kind = 2; goto modrm;
  case 0x0F:
    if ((p[n] & 0xFE) != 0x10) return 0;
    kind = 3 + (p[n++] & 1); /* 3: movups/movss/movsd load, 4: store */
    goto modrm;
  default: return 0;
  }
  *err = x->err; /* a push / pop / call / ret fault */
  return -1;
modrm:;
  unsigned m = p[n++], mod = m >> 6, rm = m & 7, base = XI_NOBASE, index = XI_NOINDEX, scale = 0;
  reg = ((m >> 3) & 7) | ((rex & 4) << 1);
  int32_t disp = 0;
  if (mod == 3) {
    if (kind == 2) return 0; /* lea with a register: #UD, the generic path's */
    rm |= (rex & 1) << 3;
  } else {
    if (rm == 4) {
      unsigned sib = p[n++];
      scale = sib >> 6;
      index = ((sib >> 3) & 7) | ((rex & 2) << 2);
      if (index == 4) index = XI_NOINDEX;
      base = sib & 7;
      if (base == 5 && mod == 0)
        base = XI_NOBASE, mod = 2; /* disp32, no base */
      else
        base |= (rex & 1) << 3;
    } else if (rm == 5 && mod == 0) {
      base = XI_RIPBASE, mod = 2;
    } else {
      base = rm | ((rex & 1) << 3);
    }
    if (mod == 1)
      disp = (int8_t)p[n++];
    else if (mod == 2)
      memcpy(&disp, p + n, 4), n += 4;
  }
  (*reached)++;
  int h = hooks_at(x, rip, n, until, kind >= 3 ? 0x10Du + kind : b); /* 0F 10 / 0F 11 */
  if (h) return h;
  next = rip + n;
  uint64_t ea = 0;
  if (mod != 3) { /* the address after the hooks: they may change registers */
    ea = (uint64_t)(int64_t)disp;
    if (base == XI_RIPBASE)
      ea += next;
    else if (base < 16)
      ea += g[base];
    if (index < 16) ea += g[index] << scale;
  }
  if (kind >= 3) { /* movups (16 bytes), movss (4), movsd (8); no alignment rule */
    uint8_t *xr = x->c.xmm[reg];
    unsigned sz = pfx == 0xF3 ? 4 : pfx == 0xF2 ? 8 : 16;
    if (mod == 3) {
      if (kind == 3)
        memcpy(xr, x->c.xmm[rm], sz); /* reg: the low lane only (movss/movsd) */
      else
        memcpy(x->c.xmm[rm], xr, sz);
    } else if (kind == 3) {
      uint8_t t[16] = {0}; /* memory: zero-extended */
      if (!(sz == 16  ? xi_load(x, ea, 16, t)
            : sz == 8 ? xi_load(x, ea, 8, t)
                      : xi_load(x, ea, 4, t)))
        goto fault;
      memcpy(xr, t, 16);
    } else if (!(sz == 16  ? xi_store(x, ea, 16, xr)
                 : sz == 8 ? xi_store(x, ea, 8, xr)
                           : xi_store(x, ea, 4, xr))) {
      goto fault;
    }
  } else {
    uint64_t mask = w ? ~0ull : 0xffffffffull; /* a 32-bit write zero-extends */
    if (mod == 3) {
      if (kind == 0)
        g[rm] = g[reg] & mask;
      else
        g[reg] = g[rm] & mask;
    } else if (kind == 2) {
      g[reg] = ea & mask;
    } else if (kind == 0) { /* constant sizes: the copies inline */
      v = g[reg];
      if (!(w ? xi_store(x, ea, 8, &v) : xi_store(x, ea, 4, &v))) goto fault;
    } else {
      if (!(w ? xi_load(x, ea, 8, &v) : xi_load(x, ea, 4, &v))) goto fault;
      g[reg] = v;
    }
  }
  x->c.rip = next;
  x->stats.insns++;
  return 1;
fault:
  *err = x->err;
  return -1;
}

uc_err xi_emu_start(xi *x, uint64_t begin, uint64_t until, uint64_t timeout_us, size_t count) {
  hooks_compact(x);
  x->stats.runs++;
  x->stats.last_timed_out = x->stats.last_count_hit = 0;
  x->stop = false;
  x->err = UC_ERR_OK;
  x->c.rip = begin;
  uint64_t deadline = timeout_us ? now_us() + timeout_us : 0;
  __asm__ volatile("stmxcsr %0" : "=m"(x->host_mxcsr));
  __asm__ volatile("fnstcw %0" : "=m"(x->host_fcw));
  uc_err err = UC_ERR_OK;
  /* One test a loop for both the count and the clock: check_at is the next of the count and
   * the next clock read (every 4,096 instructions; each loop reaches one) */
  size_t reached = 0, limit = count ? count : SIZE_MAX, check_at = limit < 4095 ? limit : 4095;
  if (x->nblock) block_hooks(x, begin);
  uint8_t buf[32];
  for (;;) {
    if (x->stop) break;
    uint64_t rip = x->c.rip;
    if (rip == until) break;
    if (__builtin_expect(reached >= check_at, 0)) {
      if (reached >= limit) {
        x->stats.last_count_hit = 1;
        break;
      }
      check_at = limit - reached > 4096 ? reached + 4096 : limit;
      if (deadline && now_us() >= deadline) {
        x->stats.last_timed_out = 1;
        break;
      }
    }
    const uint8_t *p;
    size_t avail = 15;
    uc_mem_type why = 0;
    if (rip - x->fcache.lo < x->fc_n) { /* [rip, rip + 15) in the last region fetched from */
      p = x->fcache.host + (rip - x->fcache.lo);
    } else {
      avail = fetch_slow(x, rip, buf, &why);
      p = buf;
      if (!avail) {
        x->c.rip = rip;
        fault(x, why, rip, 1, 0);
        err = x->err;
        break;
      }
    }
    if (avail == 15) { /* movs, lea, push/pop, call/ret: most of a case's code */
      int f = fast_path(x, p, rip, until, &reached, &err);
      if (f > 0) continue;
      if (f < 0) break;
    }
    xi_insn d;
    bool more;
    if (__builtin_expect(!xi_decode(p, avail, &d, &more), 0)) {
      if (more && why) {
        fault(x, why, rip + avail, 1, 0);
        err = x->err;
      } else {
        err = UC_ERR_INSN_INVALID;
      }
      break;
    }
    x->next_rip = rip + d.len;
    reached++;
    int h = hooks_at(x, rip, d.len, until, (unsigned)d.map << 8 | d.op);
    if (h > 0) continue;
    if (h < 0) break;
    x->err = UC_ERR_OK;
    int xfer = 0;
    uc_err e = xi_exec_int(x, &d, &xfer);
    if (__builtin_expect(e != UC_ERR_OK, 0)) {
      x->c.rip = rip;
      err = e;
      break;
    }
    x->stats.insns++;
    if (!xfer)
      x->c.rip = x->next_rip;
    else if (x->nblock && x->c.rip != until)
      block_hooks(x, x->c.rip);
  }
  return err;
}

#else
typedef int xi_unused_main;
#endif
