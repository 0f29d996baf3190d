/* generate.c - the seeded case generator: convention, call graph, inputs, verification. */
#include <stdarg.h>
#include <string.h>

#include "case_internal.h"
#include "gen_private.h"
#include "verify_internal.h"

#ifndef GEN_SEEDED /* the plain objects' only (gen_seeded.c) */
void af_gen_opts_default(af_gen_opts *o) {
  memset(o, 0, sizeof *o);
  o->weights = NULL;
  o->cc = -1;
  /* Conservative defaults: every leg can run them. The harness turns on
   * f16 (oracle compiler with _Float16), m256 (native legs with AVX) and
   * divergent constructs (per-compiler expectations) when it can. */
  o->allow_f16 = 0;
  o->allow_m256 = 0;
  o->allow_divergent = 0;
}

#endif

/* ---- drawing ---- */

GEN_FN int gen_pick_any(gen_state *g, int axis, uint64_t mask) {
  const struct af_weights *w = g->w;
  int first = w->first[axis], n = w->count[axis];
  uint64_t all = n >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << n) - 1;
  if ((mask & all) == all) {
    /* Every value allowed (most draws): the running sums of gen_picks_init. The same
     * random number lands on the same row as the scan below. */
    if (g->pick_total[axis]) {
      uint64_t x = gen_below(g, g->pick_total[axis]);
      int i = first;
      while (x >= g->pick_cum[i])
        i++;
      return i;
    }
  }
  uint64_t m = mask & all;
  if (m && (g->mpick_ready & (1u << axis)) && g->mpick_key[axis] == m && g->mpick_total[axis]) {
    /* the running sums of the allowed weights, as computed below for this mask before: the
     * first sum above x is the row the scan below stops at */
    uint64_t x = gen_below(g, g->mpick_total[axis]);
    int i = first;
    while (x >= g->mpick_cum[i])
      i++;
    return i;
  }
  /* the running sums of the allowed weights (a disallowed row adds 0), without a branch on
   * each row's mask bit (the masks vary with the draw: mispredicted ~14 times a case) */
  uint64_t total = 0;
  int allowed = 0;
  for (int i = 0; i < n; i++) {
    uint64_t bit = mask >> i & 1;
    total += (uint64_t)w->w[first + i] & (0 - bit);
    allowed += (int)bit;
    g->mpick_cum[first + i] = total;
  }
  g->mpick_key[axis] = m;
  g->mpick_total[axis] = total;
  g->mpick_ready |= 1u << axis;
  if (!allowed) return first;
  if (!total) {
    /* Every allowed value has weight 0 but the construct is needed (e.g. a
     * convention): fall back to a uniform choice among the allowed ones. */
    uint64_t k = gen_below(g, (uint64_t)allowed);
    for (int i = 0; i < n; i++)
      if ((mask & ((uint64_t)1 << i)) && k-- == 0) return first + i;
  }
  /* the scan over the allowed rows (x < w: that row, else x -= w), as the cached path above
   * does it: the first running sum above x (total > x ends it) */
  uint64_t x = gen_below(g, total);
  int i = first;
  while (x >= g->mpick_cum[i])
    i++;
  return i;
}

#ifndef GEN_SEEDED /* the plain objects' only */
void gen_picks_init(gen_state *g, uint64_t *total, uint64_t *cum) {
  if (g->w == gen_weights_defaults()) { /* the seeded path's weights: constants */
    g->pick_total = gen_default_pick_total();
    g->pick_cum = gen_default_pick_cum();
    return;
  }
  for (int a = 0; a < GEN_NAXES; a++) {
    uint64_t t = 0;
    for (int i = g->w->first[a]; i < g->w->first[a] + g->w->count[a]; i++)
      cum[i] = t += (uint64_t)g->w->w[i];
    total[a] = t;
  }
  g->pick_total = total;
  g->pick_cum = cum;
}

uint64_t gen_below_bytes(gen_state *g, uint64_t n) {
  uint64_t v = af_rng_below(&g->r, n);
  g->bytes = g->r.pos < g->r.nbytes;
  return v;
}

uint64_t gen_next_bytes(gen_state *g) {
  uint64_t v = af_rng_next(&g->r);
  g->bytes = g->r.pos < g->r.nbytes;
  return v;
}

af_status gen_fail(gen_state *g, af_status st, const char *fmt, ...) {
  if (g->st == AF_OK) {
    g->st = st;
    if (g->err) {
      va_list ap;
      va_start(ap, fmt);
      char body[200];
      vsnprintf(body, sizeof body, fmt, ap);
      va_end(ap);
      snprintf(g->err->msg, sizeof g->err->msg, "generator: %s", body);
    }
  }
  return g->st;
}
#endif

/* ---- the case ---- */

static void fill_object(gen_state *g, int k, uint8_t *p) {
  switch (g->input_mode) { /* (the mode tested once, not per byte) */
  case GV_RANDOM: {        /* one draw per byte, its low byte */
    int j = 0;
    while (j < AF_REGION_SIZE && g->bytes) /* byte mode (af_rng_next) while it lasts */
      p[j++] = (uint8_t)gen_next(g);
    /* then xoshiro steps with the state in locals (the byte stores would reload it) */
    uint64_t st[4] = {g->r.s[0], g->r.s[1], g->r.s[2], g->r.s[3]};
    for (; j < AF_REGION_SIZE; j++)
      p[j] = (uint8_t)af_xoshiro_step(st);
    memcpy(g->r.s, st, sizeof st);
    break;
  }
  /* graffiti: the low 7 bits name the byte, the top bit the object's parity */
  case GV_GRAFFITI:
    for (int j = 0; j < AF_REGION_SIZE; j++)
      p[j] = (uint8_t)(((j & 0x7f) | ((k & 1) << 7)) ^ 0xa5);
    break;
  default: /* edge: runs of 16 bytes of 0 and 0xff */
    for (int j = 0; j < AF_REGION_SIZE; j += 16)
      memset(p + j, (j / 16) & 1 ? 0xff : 0, 16);
    break;
  }
}

static af_status gen_inputs(gen_state *g) {
  af_case *c = g->c;
  const af_sig *s = &c->funcs[c->entry].sig;
  c->ninputs = s->nparams;
  for (int i = 0; i < s->nparams; i++) {
    af_value *v = &c->inputs[i];
    int t = s->params[i];
    if (t != AF_T_PTR) {
      /* af_value_init without clearing bytes gen_fill writes: every one of a value's size
       * (scalars by their leaves, aggregates by the padding fill first); the one byte of an
       * empty struct's value (size 0, bytes never NULL) is cleared as af_value_init clears it */
      uint32_t n = c->types[t].size;
      *v = (af_value){.type = t, .obj = -1, .size = n, .bytes = case_alloc_uncleared(c, n ? n : 1)};
      if (!v->bytes) return gen_fail(g, AF_ERR_NOMEM, "input %d", i);
      if (!n) v->bytes[0] = 0;
      gen_fill(g, t, v->bytes, g->input_mode);
      continue;
    }
    if (af_value_init(c, v, t) != AF_OK) return gen_fail(g, AF_ERR_NOMEM, "input %d", i);
    /* Usually a fresh object; sometimes an alias of an earlier one. */
    if (c->nobjects > 0 && (c->nobjects == AF_MAX_OBJECTS || gen_chance(g, 15))) {
      v->obj = (int)gen_below(g, (uint64_t)c->nobjects);
    } else {
      v->obj = c->nobjects;
      fill_object(g, c->nobjects, c->objects[c->nobjects].init);
      c->nobjects++;
    }
  }
  return g->st;
}

static af_cc callee_cc(gen_state *g, af_cc cc) {
  int row = gen_pick(g, GA_mixed_cc, GEN_ALL);
  gen_note(g, row);
  return row == GR_mixed_cc_other ? (af_cc)(1 - cc) : cc;
}

static af_status gen_run(gen_state *g) {
  af_case *c = g->c;
  af_cc cc;
  if (g->o->cc >= 0 && g->o->cc < AF_CC_COUNT)
    cc = (af_cc)g->o->cc;
  else
    cc = (af_cc)(gen_pick(g, GA_cc, GEN_ALL) - GR_cc_sysv);
  gen_note(g, GR_cc_sysv + (int)cc);
  c->cc = cc;
  int in_row = gen_pick(g, GA_input, GEN_ALL);
  gen_note(g, in_row);
  g->input_mode = in_row - GR_input_edge;

  /* Call graph: a chain f0 -> f1 -> ... -> fd gives the nesting depth d;
   * extra JIT functions hang off functions above depth d (calls only go to
   * higher indices, so the graph is acyclic). */
  int d = gen_pick(g, GA_nest, GEN_ALL) - GR_nest_d0;
  gen_note(g, GR_nest_d0 + d);
  int nj = d + 1 + (d > 0 ? (int)gen_below(g, (uint64_t)(8 - d < 4 ? 8 - d : 4)) : 0);
  if (nj > 8) nj = 8;
  int depth[8], caller[AF_MAX_FUNCS];
  depth[0] = 0;
  caller[0] = -1;
  for (int k = 1; k < nj; k++) {
    if (k <= d)
      caller[k] = k - 1;
    else {
      int cand[8], n = 0;
      for (int p = 0; p < k; p++)
        if (depth[p] < d) cand[n++] = p;
      caller[k] = cand[gen_below(g, (uint64_t)n)];
    }
    depth[k] = depth[caller[k]] + 1;
  }
  int host_row = gen_pick(g, GA_host, GEN_ALL);
  gen_note(g, host_row);
  int nh = host_row == GR_host_none ? 0 : 1 + (int)gen_below(g, 2);

  for (int k = 0; k < nj; k++) {
    af_sig s;
    af_cc fcc = k == 0 ? cc : callee_cc(g, cc);
    if (gen_sig(g, fcc, GEN_ROLE_JIT, &s) != AF_OK) return g->st;
    if (af_func_add(c, &s, 0) < 0) return gen_fail(g, AF_ERR_LIMIT, "af_func_add");
  }
  for (int h = 0; h < nh; h++) {
    af_sig s;
    int role = host_row == GR_host_variadic && (h == 0 || gen_chance(g, 50))
                   ? GEN_ROLE_HOST_VARIADIC
                   : GEN_ROLE_HOST;
    if (gen_sig(g, callee_cc(g, cc), role, &s) != AF_OK) return g->st;
    int f = af_func_add(c, &s, 1);
    if (f < 0) return gen_fail(g, AF_ERR_LIMIT, "af_func_add");
    caller[f] = (int)gen_below(g, (uint64_t)nj);
  }
  c->entry = 0;
  /* The types are final: the bodies add none. */
  uint8_t tflags[AF_MAX_TYPES];
  gen_type_flags(c, tflags);
  g->tflags = tflags;

  for (int f = 0; f < c->nfuncs; f++) {
    int callees[AF_MAX_FUNCS + 4], n = 0;
    if (!c->funcs[f].host) {
      for (int k = f + 1; k < c->nfuncs; k++)
        if (caller[k] == f || (k >= nj && gen_chance(g, 10))) callees[n++] = k;
      for (int i = n - 1; i > 0; i--) { /* call order: shuffled */
        int j = (int)gen_below(g, (uint64_t)i + 1), t = callees[i];
        callees[i] = callees[j];
        callees[j] = t;
      }
    }
    if (gen_body(g, f, callees, n) != AF_OK) {
      g->tflags = NULL;
      return g->st;
    }
  }
  af_status st = gen_inputs(g);
  g->tflags = NULL; /* (gen_run's storage) */
  return st;
}

/* verify: run the verifier on the result (without its layout freshness check). The seeded
 * path with the default weights skips it: see af_gen_case. */
static af_status gen_main(const af_gen_opts *o, af_rng *rng, uint64_t seed, uint64_t index,
                          af_case *out, int *axes, af_error *err, int verify) {
  af_gen_opts defaults;
  if (!o) {
    af_gen_opts_default(&defaults);
    o = &defaults;
  }
  gen_state g;
  gen_scalar_draw draws[GEN_NCTX];                     /* filled on demand (scalar_ctx) */
  uint64_t pick_total[GEN_NAXES], pick_cum[GEN_NROWS]; /* custom weights' (gen_picks_init) */
  uint64_t mpick_key[GEN_NAXES], mpick_total[GEN_NAXES],
      mpick_cum[GEN_NROWS]; /* filled on demand (mpick_ready) */
  memset(&g, 0, sizeof g);
  g.scalar_draw = draws;
  g.mpick_key = mpick_key;
  g.mpick_total = mpick_total;
  g.mpick_cum = mpick_cum;
  g.c = out;
  g.r = *rng; /* (the caller's copy is not used again) */
  g.bytes = g.r.pos < g.r.nbytes;
  /* weights equal to the defaults draw from the defaults' constant sums (the same rows) */
  g.w = !o->weights || gen_weights_are_default(o->weights) ? gen_weights_defaults() : o->weights;
  gen_picks_init(&g, pick_total, pick_cum);
  g.o = o;
  g.err = err;
  for (int a = 0; a < GEN_NAXES; a++)
    g.axes[a] = -1;
  case_init_lean(out);
  out->seed = seed;
  out->index = index;
  af_status st = gen_run(&g);
  /* No af_layout of the whole table here: every type was laid out as it was added
   * (layout_type_gen, layout_internal.h) and a type dropped after a failed layout is never
   * referenced, so af_layout would recompute the same sizes and offsets (test_gen_fast
   * checks af_verify's freshness check on generated cases). gen_body wrote every function's
   * value_type as af_fn_finish would (the verifier compares it with the body). */
  for (int f = 0; st == AF_OK && f < out->nfuncs; f++)
    if (!out->funcs[f].value_type) st = af_fn_finish(out, f);
  if (st == AF_OK && verify) {
    af_error verr;
    /* the layout is fresh by construction (above) */
    st = vfy_case(out, &verr, 0);
    if (st != AF_OK && err)
      snprintf(err->msg, sizeof err->msg, "generator bug (seed %llu index %llu): %.180s",
               (unsigned long long)seed, (unsigned long long)index, verr.msg);
  } else if (st != AF_OK && err && g.st == AF_OK) { /* (formatted only for a failure) */
    snprintf(err->msg, sizeof err->msg, "generator: %s", af_strerror(st));
  }
  if (st != AF_OK) {
    af_case_free(out);
    af_case_init(out);
    return st;
  }
  if (axes) memcpy(axes, g.axes, sizeof g.axes);
  return AF_OK;
}

#ifdef GEN_SEEDED
af_status gen_main_seeded(const af_gen_opts *o, af_rng *rng, uint64_t seed, uint64_t index,
                          af_case *out, int *axes, af_error *err, int verify) {
  return gen_main(o, rng, seed, index, out, axes, err, verify);
}
#else
af_status gen_main_plain(const af_gen_opts *o, af_rng *rng, uint64_t seed, uint64_t index,
                         af_case *out, int *axes, af_error *err, int verify) {
  return gen_main(o, rng, seed, index, out, axes, err, verify);
}

int gen_weights_are_default(const struct af_weights *w) {
  const struct af_weights *d = gen_weights_defaults();
  return w == d || !memcmp(w, d, sizeof *d);
}

af_status af_gen_case(const af_gen_opts *o, uint64_t seed, uint64_t index, af_case *out, int *axes,
                      af_error *err) {
  af_rng rng;
  af_rng_seed(&rng, seed, index);
  /* Every case the generator returns passes af_verify by construction: each builder emits
   * only what the verifier accepts (types laid out as added, operands of the right type,
   * value_type written as af_fn_finish would). The verifier's run here was a sixth of
   * generating a case, so the seeded path with the default weights, the one campaigns take
   * for every case, relies on that construction; test_gen verifies 15,000 such cases in full,
   * test_gen_fast (test_gen_verified) every option set and convention. Custom weights (rare
   * corners drawn more often) and raw bytes (libFuzzer: any input) still run the verifier,
   * and so does one seeded case in 64 (by index): a campaign keeps checking the construction
   * on what it actually draws, at ~0.4 k instructions a case. Weights equal to the defaults
   * count as the defaults: campaigns and `abifuzz bench` pass af_weights_default()'s copy
   * when no --weights file is given (until session 7 they paid the verifier on every case). */
  int custom = o && o->weights && !gen_weights_are_default(o->weights);
  int verify = custom || (index & 63) == 0;
  return gen_main_seeded(o, &rng, seed, index, out, axes, err, verify); /* gen_seeded.c */
}

af_status af_gen_bytes(const af_gen_opts *o, const uint8_t *data, size_t n, af_case *out, int *axes,
                       af_error *err) {
  af_rng rng;
  af_rng_bytes(&rng, data, n);
  return gen_main(o, &rng, 0, 0, out, axes, err, 1);
}
#endif /* GEN_SEEDED */
