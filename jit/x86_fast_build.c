/* x86_fast_build.c - builds the encoder fast path's tables once per process (x86_enc_init). */
#include <pthread.h>

#include "x86_fast_internal.h"

/* From the table (x86_table.c) and the reference's own operand masks (x86_enc.c): a plan per
 * row, the candidate rows of every operand signature some row accepts, and the same keyed by
 * the raw operand bytes the lowering's constructors produce, with a fast recipe. */

row_plan x86_plans[MAX_ROWS];
memo_slot x86_memo[MEMO_SIZE];
raw_slot x86_raw[RAW_SIZE];
atomic_bool x86_built;

/* The classes a form accepts: the reference's own operand masks of a representative operand
 * per class (one definition of a form), except the forms decided by a value. */
static uint32_t class_mask[C_COUNT];

static bool accepts(int f, int c) {
  switch (f) {
  case XF_I8:
  case XF_I16:
  case XF_I32:
  case XF_I64:
  case XF_U8: return c == C_IMM;
  case XF_CL: return c == C_R8;
  case XF_REL8: return c == C_REL1;
  case XF_REL32: return c == C_REL4;
  default: return !!(class_mask[c] & XB(f));
  }
}

static uint8_t has_plan[MAX_ROWS];
_Static_assert(MAX_ROWS >= 300, "plans cover the table");

static int form_bytes(int f) {
  switch (f) {
  case XF_I8:
  case XF_U8:
  case XF_REL8: return 1;
  case XF_I16: return 2;
  case XF_I32:
  case XF_REL32: return 4;
  case XF_I64: return 8;
  default: return 0;
  }
}

/* The value check of form f at operation width w (x86_imm_mask, x86_opnd_mask_ref): a value v
 * fits when (uint64)(v - lo) <= span and sext(v from 64 - sh bits) fits 64 - fsh bits. */
static void value_check(row_plan *p, int f, int w) {
  p->vcheck = V_RANGE, p->lo = INT64_MIN, p->span = UINT64_MAX, p->sh = 0, p->fsh = 0;
  switch (f) {
  case XF_CL: p->vcheck = V_CL; return;
  case XF_U8: p->lo = -128, p->span = 383; return; /* -128..255 */
  case XF_REL8: p->fsh = 56; return;
  case XF_REL32: p->fsh = 32; return;
  default: break;
  }
  int fbits = 8 * form_bytes(f);
  if (w != 1 && w != 2 && w != 4 && w != 8) { /* no such row today: the reference's way */
    p->vcheck = V_GENERIC, p->vform = (uint8_t)f, p->width = (uint8_t)w;
    return;
  }
  int m = 8 * w;
  if (m < 64) { /* in range signed or unsigned, then read back signed */
    p->lo = -(INT64_C(1) << (m - 1));
    p->span = ((UINT64_C(1) << m) - 1) + (UINT64_C(1) << (m - 1));
    p->sh = (uint8_t)(64 - m);
  }
  p->fsh = (uint8_t)(64 - fbits);
}

static bool is_reg_form(int f) { return f != XF_NONE && form_bytes(f) == 0 && f != XF_CL; }

/* false: the row does not fit a plan; its signatures go to the reference. */
static bool make_plan(const x86_row *r, row_plan *p) {
  memset(p, 0, sizeof *p);
  if (r->nopc < 1 || r->nopc > 3) return false;
  uint8_t h[8] = {0};
  int n = 0;
  if (r->pfx) h[n++] = r->pfx;
  p->rexsh = (uint8_t)(8 * n);
  for (int i = 0; i < r->nopc; i++)
    h[n + i] = r->opc[i];
  memcpy(&p->hd0, h, 8), p->hl0 = (uint8_t)(n + r->nopc);
  memmove(h + n + 1, h + n, (size_t)r->nopc);
  h[n] = 0x40;
  memcpy(&p->hd1, h, 8), p->hl1 = (uint8_t)(n + 1 + r->nopc);
  p->w = r->w ? 8 : 0;
  p->cc = r->cc;
  p->digit = (uint8_t)(r->digit >= 0 ? r->digit : 0);
  p->regk = p->rmk = p->ik = p->vk = -1;
  int add = r->cc ? 15 : 0; /* the largest value added to the last opcode byte */
  int used[3] = {0, 0, 0};  /* operands the encoding reads */
  switch (r->enc) {
  case XE_NP:
  case XE_D: p->recipe = R_NP; break;
  case XE_O:
    p->recipe = R_O, add += 7, used[0] = 1;
    p->byte_reg = r->form[0] == XF_R8;
    break;
  case XE_ST: p->recipe = R_ST, add += 7, used[0] = 1; break;
  case XE_RM:
  case XE_MR:
  case XE_M:
    p->recipe = R_MODRM;
    p->rmk = r->enc == XE_RM ? 1 : 0;
    if (r->enc != XE_M) {
      p->regk = r->enc == XE_RM ? 0 : 1;
      p->regbias = r->form[p->regk] == XF_X ? 16 : 0;
      p->byte_reg = r->form[p->regk] == XF_R8;
      used[p->regk] = 1;
    }
    p->byte_rm = r->form[p->rmk] == XF_RM8 || r->form[p->rmk] == XF_R8;
    used[p->rmk] = 1;
    break;
  default: return false;
  }
  if (r->opc[r->nopc - 1] + add > 0xFF) return false; /* the reference wraps the byte */
  p->width = (uint8_t)x86_form_size(r->form[0]);      /* a row's operation width */
  for (int k = 0; k < 3; k++) {
    int f = r->form[k];
    if (is_reg_form(f) && !used[k]) return false; /* a register the encoding would not check */
    if (form_bytes(f)) {
      if (p->ik >= 0) return false;
      p->ik = (int8_t)k, p->ibytes = (uint8_t)form_bytes(f);
    }
    if (form_bytes(f) || f == XF_CL) {
      if (p->vk >= 0) return false;
      p->vk = (int8_t)k;
      value_check(p, f, p->width);
    }
  }
  return true;
}

static uint16_t op_rows[MAX_ROWS], op_first[X86_OP_COUNT + 1]; /* rows of an op, table order */
static size_t memo_used;

/* The candidate rows of a signature: the op's rows in table order whose forms accept the
 * classes, up to and including the first with no value to check. */
static void memo_add(int op, const int c[3]) {
  uint32_t key1 = make_key((uint32_t)op, (uint32_t)c[0], (uint32_t)c[1], (uint32_t)c[2]) + 1;
  uint32_t h = memo_hash(key1);
  while (x86_memo[h].key1 && x86_memo[h].key1 != key1)
    h = (h + 1) & (MEMO_SIZE - 1);
  if (x86_memo[h].key1 || memo_used + 1 >= MEMO_SIZE / 2) return; /* known; or full: reference */
  memo_slot s = {.key1 = key1};
  bool ok = true;
  for (int j = op_first[op]; j < op_first[op + 1]; j++) {
    int i = op_rows[j];
    const x86_row *r = &x86_rows[i];
    if (!accepts(r->form[0], c[0]) || !accepts(r->form[1], c[1]) || !accepts(r->form[2], c[2]))
      continue;
    if (s.ncand == MAXC || !has_plan[i]) {
      ok = false; /* more candidates than kept, or no plan: the reference decides */
      break;
    }
    s.cand[s.ncand++] = (uint16_t)i;
    if (x86_plans[i].vk < 0) break;
  }
  if (!ok) s.ncand = 0;
  s.plain = s.ncand && x86_plans[s.cand[0]].vk < 0;
  x86_memo[h] = s;
  memo_used++;
}

static fast_rec recs[MEMO_SIZE / 2];
static size_t recs_used;
static size_t raw_used;

/* Whether two plans encode alike but for their bytes and immediate width. */
static bool same_shape(const row_plan *a, const row_plan *b) {
  return a->recipe == b->recipe && a->regk == b->regk && a->rmk == b->rmk && a->ik == b->ik &&
         a->cc == b->cc && a->digit == b->digit && a->w == b->w && a->rexsh == b->rexsh &&
         a->regbias == b->regbias && a->byte_reg == b->byte_reg && a->byte_rm == b->byte_rm;
}

/* The fast recipe of a memo slot for the classes c, or NULL (encode_generic). */
static const fast_rec *raw_recipe(const memo_slot *ms, const int c[3]) {
  const row_plan *p = &x86_plans[ms->cand[0]];
  if (recs_used == sizeof recs / sizeof recs[0]) return NULL;
  if (p->vk >= 0 && p->vcheck != V_RANGE) return NULL; /* cl, width 0: rare */
  fast_rec *f = &recs[recs_used];
  memset(f, 0, sizeof *f);
  f->nalt = 1, f->checked = p->vk >= 0, f->vk = p->vk;
  for (int a = 0; a < 2; a++) {
    const row_plan *q = &x86_plans[ms->cand[a < ms->ncand ? a : 0]];
    if (a == 1 && (ms->ncand < 2 || !same_shape(p, q) || (q->vk >= 0 && q->vk != p->vk) ||
                   (q->vk >= 0 && q->vcheck != V_RANGE)))
      break;
    f->nalt = (uint8_t)(a + 1);
    f->hd0[a] = q->hd0, f->hd1[a] = q->hd1, f->hl0[a] = q->hl0, f->hl1[a] = q->hl1;
    f->ibytes[a] = q->ibytes;
    f->lo[a] = INT64_MIN, f->span[a] = UINT64_MAX, f->sh[a] = 0, f->fsh[a] = 0;
    if (q->vk >= 0) f->lo[a] = q->lo, f->span[a] = q->span, f->sh[a] = q->sh, f->fsh[a] = q->fsh;
  }
  f->rexsh = p->rexsh, f->w = p->w, f->cc = p->cc;
  f->ik = p->ik, f->regk = p->regk, f->rmk = p->rmk;
  f->regfix = p->digit;
  switch (p->recipe) {
  case R_NP: f->fast = FK_NP; break;
  case R_O:
    f->fast = FK_O, f->regk = 0;
    f->bytes = c[0] == C_R8;
    break;
  case R_MODRM:
    f->fast = c[p->rmk] == C_X || (c[p->rmk] >= C_R8 && c[p->rmk] <= C_R64) ? FK_RR : FK_RM;
    f->rmbias = c[p->rmk] == C_X ? AF_XMM0 : 0;
    if (p->regk >= 0) {
      f->regbias = c[p->regk] == C_X ? AF_XMM0 : 0;
      f->bytes |= c[p->regk] == C_R8;
    }
    f->bytes |= (uint8_t)((c[p->rmk] == C_R8) << 1);
    break;
  default: return NULL; /* x87 st(i): rare */
  }
  recs_used++;
  return f;
}

/* The canonical operand of a class (as the constructors make it). */
static x86_operand canonical(int c) {
  static const uint8_t kind[C_COUNT] = {
      [C_R8] = X86_OPND_GPR,  [C_R16] = X86_OPND_GPR,  [C_R32] = X86_OPND_GPR,
      [C_R64] = X86_OPND_GPR, [C_M1] = X86_OPND_MEM,   [C_M2] = X86_OPND_MEM,
      [C_M4] = X86_OPND_MEM,  [C_M8] = X86_OPND_MEM,   [C_M10] = X86_OPND_MEM,
      [C_M16] = X86_OPND_MEM, [C_MANY] = X86_OPND_MEM, [C_X] = X86_OPND_XMM,
      [C_IMM] = X86_OPND_IMM, [C_REL1] = X86_OPND_REL, [C_REL4] = X86_OPND_REL,
      [C_ST] = X86_OPND_ST};
  static const uint8_t size[C_COUNT] = {
      [C_R8] = 1, [C_R16] = 2,  [C_R32] = 4,  [C_R64] = 8, [C_M1] = 1,   [C_M2] = 2,  [C_M4] = 4,
      [C_M8] = 8, [C_M10] = 10, [C_M16] = 16, [C_X] = 16,  [C_REL1] = 1, [C_REL4] = 4};
  return (x86_operand){.kind = kind[c], .size = size[c]};
}

/* Every memo slot with candidates under its canonical raw key. */
static void raw_fill(void) {
  for (uint32_t i = 0; i < MEMO_SIZE; i++) {
    const memo_slot *ms = &x86_memo[i];
    if (!ms->key1 || !ms->ncand) continue;
    uint32_t key = ms->key1 - 1, mask = (1u << CBITS) - 1;
    int c[3] = {(int)(key >> 7 & mask), (int)(key >> (7 + CBITS) & mask),
                (int)(key >> (7 + 2 * CBITS) & mask)};
    x86_inst in = {.op = (uint16_t)(key & 127)}; /* cond 0: raw_key masks it */
    for (int k = 0; k < 3; k++) {
      in.o[k] = canonical(c[k]);
      if (c[k] != C_NONE) in.nops = (uint8_t)(k + 1);
    }
    uint64_t rk2, rk = raw_key(&in, &rk2);
    if (!rk || raw_used + 1 >= RAW_SIZE / 2) continue;
    uint32_t h = raw_hash(rk, rk2);
    while (x86_raw[h].key && !(x86_raw[h].key == rk && x86_raw[h].key2 == rk2))
      h = (h + 1) & (RAW_SIZE - 1);
    if (x86_raw[h].key) continue;
    x86_raw[h] = (raw_slot){.key = rk, .key2 = rk2, .rec = raw_recipe(ms, c), .ms = ms};
    raw_used++;
  }
}

static void build(void) {
  x86_ref_build_index();
  static const x86_operand probe[C_COUNT] = {
      [C_R8] = {.kind = X86_OPND_GPR, .size = 1, .reg = AF_RAX},
      [C_R16] = {.kind = X86_OPND_GPR, .size = 2},
      [C_R32] = {.kind = X86_OPND_GPR, .size = 4},
      [C_R64] = {.kind = X86_OPND_GPR, .size = 8},
      [C_M1] = {.kind = X86_OPND_MEM, .size = 1},
      [C_M2] = {.kind = X86_OPND_MEM, .size = 2},
      [C_M4] = {.kind = X86_OPND_MEM, .size = 4},
      [C_M8] = {.kind = X86_OPND_MEM, .size = 8},
      [C_M10] = {.kind = X86_OPND_MEM, .size = 10},
      [C_M16] = {.kind = X86_OPND_MEM, .size = 16},
      [C_MANY] = {.kind = X86_OPND_MEM, .size = 0},
      [C_X] = {.kind = X86_OPND_XMM, .size = 16, .reg = AF_XMM0},
      [C_IMM] = {.kind = X86_OPND_IMM},
      [C_REL1] = {.kind = X86_OPND_REL, .size = 1},
      [C_REL4] = {.kind = X86_OPND_REL, .size = 4},
      [C_ST] = {.kind = X86_OPND_ST},
  };
  for (int c = 0; c < C_COUNT; c++)
    class_mask[c] = x86_opnd_mask_ref(&probe[c]);
  size_t nrows = x86_nrows < MAX_ROWS ? x86_nrows : MAX_ROWS;
  for (size_t i = 0; i < nrows; i++)
    has_plan[i] = make_plan(&x86_rows[i], &x86_plans[i]);
  /* rows by op: a counting sort that keeps table order */
  memset(op_first, 0, sizeof op_first);
  for (size_t i = 0; i < nrows; i++)
    op_first[x86_rows[i].op + 1]++;
  for (int op = 0; op < X86_OP_COUNT; op++)
    op_first[op + 1] = (uint16_t)(op_first[op + 1] + op_first[op]);
  uint16_t at[X86_OP_COUNT];
  memcpy(at, op_first, sizeof at);
  for (size_t i = 0; i < nrows; i++)
    op_rows[at[x86_rows[i].op]++] = (uint16_t)i;
  /* every signature some row accepts */
  for (size_t i = 0; i < nrows; i++) {
    const x86_row *r = &x86_rows[i];
    int c[3];
    for (c[0] = 0; c[0] < C_COUNT; c[0]++) {
      if (!accepts(r->form[0], c[0])) continue;
      for (c[1] = 0; c[1] < C_COUNT; c[1]++) {
        if (!accepts(r->form[1], c[1])) continue;
        for (c[2] = 0; c[2] < C_COUNT; c[2]++)
          if (accepts(r->form[2], c[2])) memo_add(r->op, c);
      }
    }
  }
  raw_fill();
}

static pthread_once_t build_once = PTHREAD_ONCE_INIT;

static void build_and_publish(void) {
  build();
  atomic_store_explicit(&x86_built, true, memory_order_release);
}

void x86_enc_init(void) {
  if (__builtin_expect(!atomic_load_explicit(&x86_built, memory_order_acquire), 0))
    pthread_once(&build_once, build_and_publish);
}
