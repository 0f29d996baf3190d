/* reduce.c - delta debugging of a failing case: greedy passes of edits (reduce_ops.c), each
 * candidate verified, then run through the finding's leg in an in-process campaign. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "campaign.h"
#include "reduce.h"

/* ---- the predicate ---------------------------------------------------------------------- */
typedef struct {
  const red_cfg *cfg;
  int fired;
  uint64_t cases;
} fire_state;

static void on_done(void *u, const camp_stats *st) {
  fire_state *fs = u;
  fs->cases = st->cases;
  const red_cfg *cfg = fs->cfg;
  int want_what = !strcmp(cfg->check, "crash") || !strcmp(cfg->check, "timeout");
  for (int i = 0; i < st->nbuckets; i++) {
    const camp_bucket *b = &st->buckets[i];
    if (strcmp(b->leg, cfg->leg) || strcmp(b->check, cfg->check)) continue;
    if (want_what && cfg->what[0] && strcmp(b->what, cfg->what)) continue;
    fs->fired = 1;
  }
}

/* Runs the case file `path` through the finding's leg: 1 fires, 0 not, -1 error. */
static int fires_file(const red_cfg *cfg, af_weights *w, const char *path, af_error *err) {
  camp_cfg o;
  memset(&o, 0, sizeof o);
  o.seed = 1, o.jobs = 1, o.abi = CAMP_ABI_BOTH, o.quiet = 1, o.silent = 1;
  o.timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 1000;
  af_gen_opts_default(&o.gen);
  o.gen.weights = w;
  o.legs_cfg = cfg->legs_cfg;
  o.legs_cfg.seed = 1;
  const af_leg *leg = af_leg_find(cfg->leg);
  if (!leg) {
    snprintf(err->msg, sizeof err->msg, "leg '%s' is not in this build", cfg->leg);
    return -1;
  }
  o.nlegs = 1;
  o.legs[0] = leg;
  if (cfg->legs[0]) { /* --legs: these (checked by the caller), in registry order */
    char list[sizeof cfg->legs];
    snprintf(list, sizeof list, "%s", cfg->legs);
    if (camp_select_legs(&o, list)) {
      snprintf(err->msg, sizeof err->msg, "--legs %.200s: unknown leg", cfg->legs);
      return -1;
    }
  }
  char *files[1] = {(char *)path};
  o.case_files = files;
  o.ncase_files = 1;
  o.cases = 1;
  fire_state fs = {cfg, 0, 0};
  o.on_done = on_done, o.on_done_u = &fs;
  int saved = -1;
  if (cfg->quiet_runs) { /* the workers inherit stderr: keep their notes out of the output */
    fflush(stderr);
    saved = dup(2);
    int nul = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (saved >= 0 && nul >= 0) dup2(nul, 2);
    if (nul >= 0) close(nul);
  }
  fflush(stdout);
  camp_run(&o);
  if (saved >= 0) {
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
  }
  if (!fs.cases) {
    snprintf(err->msg, sizeof err->msg, "the campaign ran no case");
    return -1;
  }
  return fs.fired;
}

static int write_file(const char *path, const char *text, size_t len) {
  FILE *f = fopen(path, "w");
  if (!f) return -1;
  size_t w = fwrite(text, 1, len, f);
  return fclose(f) || w != len ? -1 : 0;
}

static int fires_text(const red_cfg *cfg, af_weights *w, const char *text, size_t len,
                      af_error *err) {
  char path[4200];
  snprintf(path, sizeof path, "%s/candidate.case", cfg->tmpdir ? cfg->tmpdir : "/tmp");
  if (write_file(path, text, len)) {
    snprintf(err->msg, sizeof err->msg, "cannot write '%.200s'", path);
    return -1;
  }
  return fires_file(cfg, w, path, err);
}

int red_fires(const red_cfg *cfg, const af_case *c, af_error *err) {
  char *text = NULL;
  size_t len = 0;
  if (af_print_str(c, &text, &len) != AF_OK) {
    snprintf(err->msg, sizeof err->msg, "cannot print the case");
    return -1;
  }
  af_weights *w = af_weights_default();
  int r = w ? fires_text(cfg, w, text, len, err) : -1;
  af_weights_free(w);
  free(text);
  return r;
}

/* ---- the driver --------------------------------------------------------------------------- */
typedef struct {
  const red_cfg *cfg;
  af_weights *w;
  af_case cur;
  char *text; /* af_print of cur */
  size_t len, nz;
  red_stats *st;
  af_error *err;
  int failed; /* an error (not a refusal): stop */
} reducer;

/* Characters other than '0' and blanks: ties on length are broken by simpler values. */
static size_t nonzero_chars(const char *s, size_t n) {
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    k += s[i] != '0' && s[i] != ' ' && s[i] != '\n';
  return k;
}

/* Tries one edit on the current case: 1 if kept (the case changed). Only strictly smaller
 * texts (or equal length with fewer non-zero characters) are run, so the loop terminates. */
static int try_edit(reducer *r, const red_edit *e) {
  if (r->failed) return 0;
  af_case cand;
  af_error e2 = {{0}};
  if (af_parse("case", r->text, r->len, &cand, &e2) != AF_OK) {
    af_case_free(&cand);
    snprintf(r->err->msg, sizeof r->err->msg, "internal: the current case does not parse: %s",
             e2.msg);
    r->failed = 1;
    return 0;
  }
  int kept = 0;
  char *text = NULL;
  size_t len = 0;
  if (red_apply(&cand, e)) goto out;
  if (af_verify(&cand, &e2) != AF_OK) {
    r->st->invalid++;
    goto out;
  }
  if (af_print_str(&cand, &text, &len) != AF_OK) goto out;
  size_t nz = nonzero_chars(text, len);
  if (len > r->len || (len == r->len && nz >= r->nz)) goto out;
  { /* the printed text must parse back (what MIN.case will hold) */
    af_case back;
    af_status s = af_parse("candidate", text, len, &back, &e2);
    af_case_free(&back);
    if (s != AF_OK) {
      r->st->invalid++;
      goto out;
    }
  }
  r->st->tries++;
  int f = fires_text(r->cfg, r->w, text, len, &e2);
  if (f < 0) {
    *r->err = e2;
    r->failed = 1;
    goto out;
  }
  if (f == 1) {
    af_case_free(&r->cur);
    r->cur = cand;
    memset(&cand, 0, sizeof cand);
    free(r->text);
    r->text = text, r->len = len, r->nz = nz;
    text = NULL;
    r->st->accepted++;
    kept = 1;
    if (r->cfg->log)
      fprintf(r->cfg->log, "  kept: %-22s -> %d functions, %d instructions, %zu bytes\n",
              red_kind_name(e->kind), r->cur.nfuncs, red_count_insts(&r->cur), r->len);
  }
out:
  free(text);
  if (cand.arena) af_case_free(&cand);
  return kept;
}

static int edit(reducer *r, red_kind k, int a, int b, int n, int m) {
  red_edit e = {k, a, b, n, m};
  return try_edit(r, &e);
}

/* ddmin over a function's instructions: ranges of halving size, each turned to constants. */
static int pass_insts(reducer *r) {
  int any = 0;
  for (int fi = 0; fi < r->cur.nfuncs && !r->failed; fi++) {
    int n = r->cur.funcs[fi].ninsts - 1;
    for (int size = n > 1 ? n : 1; size >= 1 && !r->failed; size /= 2) {
      for (int b = 0; fi < r->cur.nfuncs && b < r->cur.funcs[fi].ninsts - 1 && !r->failed;) {
        if (edit(r, RED_INSTS, fi, b, size, 0))
          any = 1; /* the same start again: what followed moved up */
        else
          b += size;
      }
      if (size == 1) break;
    }
  }
  return any;
}

static int pass_forward(reducer *r) {
  int any = 0;
  for (int fi = 0; fi < r->cur.nfuncs && !r->failed; fi++)
    for (int i = r->cur.funcs[fi].ninsts - 1; i >= 0 && !r->failed; i--) {
      if (fi >= r->cur.nfuncs || i >= r->cur.funcs[fi].ninsts) break;
      int na = r->cur.funcs[fi].insts[i].nargs;
      for (int a = 0; a < na && !r->failed; a++)
        if (edit(r, RED_FORWARD, fi, i, a, 0)) {
          any = 1;
          break;
        }
    }
  return any;
}

static int pass_mix(reducer *r) {
  int any = 0;
  for (int fi = 0; fi < r->cur.nfuncs && !r->failed; fi++)
    for (int i = 0; fi < r->cur.nfuncs && i < r->cur.funcs[fi].ninsts && !r->failed; i++) {
      if (r->cur.funcs[fi].insts[i].op != AF_OP_MIX) continue;
      for (int size = r->cur.funcs[fi].insts[i].nargs / 2; size >= 1 && !r->failed; size /= 2)
        for (int j = 0; i < r->cur.funcs[fi].ninsts && r->cur.funcs[fi].insts[i].op == AF_OP_MIX &&
                        j + size <= r->cur.funcs[fi].insts[i].nargs && !r->failed;) {
          if (edit(r, RED_MIX_OPS, fi, i, j, size))
            any = 1;
          else
            j += size;
        }
    }
  return any;
}

static int pass_funcs(reducer *r) {
  int any = 0;
  for (int k = r->cur.entry + 1; k < r->cur.nfuncs && !r->failed; k++)
    if (!r->cur.funcs[k].host && edit(r, RED_REENTRY, k, 0, 0, 0)) {
      any = 1;
      k = r->cur.entry; /* the new entry's callees next */
    }
  for (int k = r->cur.nfuncs - 1; k >= 0 && !r->failed; k--)
    if (k < r->cur.nfuncs && k != r->cur.entry) any |= edit(r, RED_DROP_FUNC, k, 0, 0, 0);
  return any;
}

static int pass_params(reducer *r) {
  int any = 0;
  for (int fi = 0; fi < r->cur.nfuncs && !r->failed; fi++) {
    for (int p = r->cur.funcs[fi].sig.nparams - 1; p >= 0 && !r->failed; p--)
      if (fi < r->cur.nfuncs && p < r->cur.funcs[fi].sig.nparams)
        any |= edit(r, RED_DROP_PARAM, fi, p, 0, 0);
    if (fi < r->cur.nfuncs && r->cur.funcs[fi].sig.variadic)
      any |= edit(r, RED_NONVARIADIC, fi, 0, 0, 0);
  }
  return any;
}

static int pass_types(reducer *r) {
  int any = 0;
  for (int t = r->cur.ntypes - 1; t >= AF_T_NSCALAR && !r->failed; t--) {
    if (t >= r->cur.ntypes) continue;
    any |= edit(r, RED_UNWRAP, t, 0, 0, 0);
    if (t >= r->cur.ntypes) continue;
    while (t < r->cur.ntypes && edit(r, RED_SHRINK_ARRAY, t, 0, 0, 0))
      any = 1;
    for (int f = (t < r->cur.ntypes ? r->cur.types[t].nfields : 0) - 1; f >= 0 && !r->failed; f--)
      if (t < r->cur.ntypes && f < r->cur.types[t].nfields)
        any |= edit(r, RED_DROP_FIELD, t, f, 0, 0);
  }
  return any;
}

static int pass_values(reducer *r) {
  int any = 0;
  for (int fi = 0; fi < r->cur.nfuncs && !r->failed; fi++)
    for (int i = 0; fi < r->cur.nfuncs && i < r->cur.funcs[fi].ninsts && !r->failed; i++)
      if (r->cur.funcs[fi].insts[i].op == AF_OP_CONST) any |= edit(r, RED_ZERO_CONST, fi, i, 0, 0);
  for (int p = 0; p < r->cur.ninputs && !r->failed; p++)
    any |= edit(r, RED_ZERO_INPUT, p, 0, 0, 0);
  for (int k = r->cur.nobjects - 1; k >= 0 && !r->failed; k--) {
    if (k < r->cur.nobjects && edit(r, RED_DROP_OBJECT, k, 0, 0, 0)) {
      any = 1;
      continue;
    }
    any |= edit(r, RED_ZERO_OBJECT, k, 0, 0, 0);
  }
  return any;
}

static void measure(const af_case *c, size_t len, red_stats *st, int at) {
  st->funcs[at] = c->nfuncs;
  st->insts[at] = red_count_insts(c);
  st->params[at] = red_count_params(c);
  st->types[at] = red_count_types(c);
  st->bytes[at] = len;
}

af_status red_reduce(const red_cfg *cfg, af_case *c, red_stats *st, af_error *err) {
  memset(st, 0, sizeof *st);
  double t0 = camp_now();
  reducer r;
  memset(&r, 0, sizeof r);
  r.cfg = cfg, r.st = st, r.err = err;
  r.w = af_weights_default();
  if (!r.w) return AF_ERR_NOMEM;
  af_status s = af_print_str(c, &r.text, &r.len);
  if (s != AF_OK) {
    af_weights_free(r.w);
    snprintf(err->msg, sizeof err->msg, "cannot print the case: %s", af_strerror(s));
    return s;
  }
  r.nz = nonzero_chars(r.text, r.len);
  s = af_parse("case", r.text, r.len, &r.cur, err);
  measure(c, r.len, st, 0);
  if (s == AF_OK) {
    int f = fires_text(cfg, r.w, r.text, r.len, err);
    st->tries++;
    if (f < 0)
      s = AF_ERR_RUNTIME;
    else if (f == 0) {
      snprintf(err->msg, sizeof err->msg, "the case does not fire %s %s%s%s", cfg->leg, cfg->check,
               cfg->legs_cfg.inject ? " with --inject " : "",
               cfg->legs_cfg.inject ? cfg->legs_cfg.inject : "");
      s = AF_ERR_INVALID;
    }
  }
  for (int round = 1; s == AF_OK && !r.failed; round++) {
    int any = 0;
    any |= pass_funcs(&r);
    any |= pass_insts(&r);
    any |= pass_forward(&r);
    any |= pass_mix(&r);
    any |= pass_params(&r);
    any |= pass_funcs(&r); /* functions nobody calls any more */
    any |= pass_types(&r);
    any |= pass_values(&r);
    if (cfg->log)
      fprintf(cfg->log, "round %d: %d functions, %d instructions, %zu bytes (%d runs)\n", round,
              r.cur.nfuncs, red_count_insts(&r.cur), r.len, st->tries);
    if (!any) break;
  }
  if (r.failed) s = AF_ERR_RUNTIME;
  if (s == AF_OK) {
    af_case_free(c);
    *c = r.cur;
    memset(&r.cur, 0, sizeof r.cur);
    measure(c, r.len, st, 1);
  }
  if (r.cur.arena) af_case_free(&r.cur);
  free(r.text);
  af_weights_free(r.w);
  st->secs = camp_now() - t0;
  return s;
}
