/* reduce_ops.c - the edits abifuzz reduce tries on a case: drop functions, instructions,
 * operands, parameters, fields; simplify types and values (each on a private copy). */
#include <stdlib.h>
#include <string.h>

#include "reduce.h"

static const char *const kind_names[RED_NKINDS] = {"drop function",      "constant instructions",
                                                   "forward an operand", "drop mix operands",
                                                   "drop a parameter",   "make non-variadic",
                                                   "zero a constant",    "zero an input",
                                                   "zero an object",     "drop an object",
                                                   "drop a field",       "shrink an array",
                                                   "unwrap a struct",    "new entry"};

const char *red_kind_name(red_kind k) { return k < RED_NKINDS ? kind_names[k] : "?"; }

af_status red_clone(const af_case *src, af_case *dst, af_error *err) {
  char *text = NULL;
  size_t len = 0;
  af_status s = af_print_str(src, &text, &len);
  if (s != AF_OK) {
    af_case_init(dst);
    if (err) snprintf(err->msg, sizeof err->msg, "cannot print the case: %s", af_strerror(s));
    return s;
  }
  af_error e = {{0}};
  s = af_parse("case", text, len, dst, err ? err : &e);
  free(text);
  return s;
}

int red_count_insts(const af_case *c) {
  int n = 0;
  for (int i = 0; i < c->nfuncs; i++)
    n += c->funcs[i].ninsts;
  return n;
}

int red_count_params(const af_case *c) {
  int n = 0;
  for (int i = 0; i < c->nfuncs; i++)
    n += c->funcs[i].sig.nparams;
  return n;
}

int red_count_types(const af_case *c) { return c->ntypes - AF_T_NSCALAR; }

/* ---- rebuilding a function -------------------------------------------------------------- */
/* Follows substitutions (old id -> old id), at most nold steps (no cycle can loop forever). */
static int resolve(const int *subst, int nold, int id) {
  for (int k = 0; k < nold && id >= 0 && id < nold && subst && subst[id] >= 0; k++)
    id = subst[id];
  return id;
}

/* Rewrites function fi from `in` (n insts whose operands are old ids; oid[i] = the old id the
 * inst defines, -1 if none; old ids < nold): parameters with dropp[p] removed, operands
 * substituted, every id renumbered. -1 if an operand refers to a value that is gone. */
static int fn_rebuild(af_case *c, int fi, const af_inst *in, const int *oid, int n, int nold,
                      const char *dropp, const int *subst) {
  af_func *f = &c->funcs[fi];
  if (n < 1 || nold < 1) return -1;
  int *map = malloc(sizeof(int) * (size_t)nold);
  af_inst *out = af_case_alloc(c, sizeof(af_inst) * (size_t)n);
  if (!map || !out) return free(map), -1;
  for (int i = 0; i < nold; i++)
    map[i] = -1;
  int np = 0, nfixed = f->sig.nfixed, params[AF_MAX_PARAMS];
  for (int p = 0; p < f->sig.nparams && p < nold; p++) {
    if (dropp && dropp[p]) {
      if (f->sig.variadic && p < f->sig.nfixed) nfixed--;
      continue;
    }
    map[p] = np;
    params[np++] = f->sig.params[p];
  }
  int next = np, k = 0, bad = 0;
  for (int i = 0; i < n && !bad; i++) {
    af_inst x = in[i];
    for (int a = 0; a < x.nargs; a++) {
      int id = resolve(subst, nold, x.args[a]);
      if (id < 0 || id >= nold || map[id] < 0) {
        bad = 1;
        break;
      }
      x.args[a] = map[id];
    }
    if (oid[i] >= 0 && oid[i] < nold) {
      map[oid[i]] = next;
      x.dst = next++;
    } else {
      x.dst = -1;
    }
    out[k++] = x;
  }
  free(map);
  if (bad || (f->sig.variadic && nfixed < 1)) return -1;
  memcpy(f->sig.params, params, sizeof(int) * (size_t)np);
  f->sig.nparams = np;
  f->sig.nfixed = f->sig.variadic ? nfixed : np;
  f->insts = out;
  f->ninsts = f->cap_insts = k;
  f->nvalues = next;
  return af_fn_finish(c, fi) == AF_OK ? 0 : -1;
}

/* Rebuilds fi without the insts marked in del (and with subst applied). */
static int fn_delete(af_case *c, int fi, const char *del, const int *subst) {
  af_func *f = &c->funcs[fi];
  af_inst *in = malloc(sizeof(af_inst) * (size_t)(f->ninsts + 1));
  int *oid = malloc(sizeof(int) * (size_t)(f->ninsts + 1));
  int n = 0, rc = -1;
  if (in && oid) {
    for (int i = 0; i < f->ninsts; i++)
      if (!del || !del[i]) in[n] = f->insts[i], oid[n++] = f->insts[i].dst;
    rc = fn_rebuild(c, fi, in, oid, n, f->nvalues, NULL, subst);
  }
  free(in), free(oid);
  return rc;
}

/* uses[id] = operands referring to value id. */
static int *count_uses(const af_func *f) {
  int *u = calloc((size_t)f->nvalues + 1, sizeof(int));
  if (!u) return NULL;
  for (int i = 0; i < f->ninsts; i++)
    for (int a = 0; a < f->insts[i].nargs; a++)
      if (f->insts[i].args[a] >= 0 && f->insts[i].args[a] < f->nvalues) u[f->insts[i].args[a]]++;
  return u;
}

/* Removes every instruction whose value nobody uses and that has no effect (calls stay: a
 * call's effects are what a finding is often about; RED_INSTS drops them). */
static int fn_dce(af_case *c, int fi) {
  af_func *f = &c->funcs[fi];
  int *u = count_uses(f);
  char *del = calloc((size_t)f->ninsts + 1, 1);
  int any = 0, rc = 0;
  if (!u || !del) {
    free(u), free(del);
    return -1;
  }
  for (int i = f->ninsts - 1; i >= 0; i--) {
    const af_inst *x = &f->insts[i];
    if (x->dst < 0 || x->op == AF_OP_CALL || u[x->dst]) continue;
    del[i] = 1, any = 1;
    for (int a = 0; a < x->nargs; a++)
      if (x->args[a] >= 0 && x->args[a] < f->nvalues) u[x->args[a]]--;
  }
  if (any) rc = fn_delete(c, fi, del, NULL);
  free(u), free(del);
  return rc;
}

static int dce_all(af_case *c) {
  for (int fi = 0; fi < c->nfuncs; fi++)
    if (fn_dce(c, fi)) return -1;
  return 0;
}

/* Turns the value-defining inst x into a zero constant of its type (never a pointer). */
static int constify(af_case *c, af_inst *x) {
  if (x->dst < 0 || x->type == AF_T_PTR || x->type <= AF_T_VOID || x->type >= c->ntypes) return -1;
  af_value v;
  if (af_value_init(c, &v, x->type) != AF_OK) return -1;
  x->op = AF_OP_CONST;
  x->nargs = 0, x->npath = 0, x->imm = 0;
  x->cst = v;
  return 0;
}

static int value_nonzero(const af_value *v) {
  for (uint32_t i = 0; v->bytes && i < v->size; i++)
    if (v->bytes[i]) return 1;
  return 0;
}

/* ---- function-level edits ------------------------------------------------------------- */
/* Every call to function k in the case: constants (void calls removed). */
static int calls_away(af_case *c, int k) {
  for (int fi = 0; fi < c->nfuncs; fi++) {
    af_func *f = &c->funcs[fi];
    char *del = calloc((size_t)f->ninsts + 1, 1);
    int *u = count_uses(f);
    int any = 0, bad = 0;
    if (!del || !u) bad = 1;
    for (int i = 0; i < f->ninsts && !bad; i++) {
      af_inst *x = &f->insts[i];
      if (x->op != AF_OP_CALL || x->imm != k) continue;
      if (x->dst < 0 || (x->type == AF_T_PTR && !u[x->dst]))
        del[i] = 1, any = 1;
      else if (constify(c, x))
        bad = 1;
    }
    if (!bad && any) bad = fn_delete(c, fi, del, NULL) != 0;
    free(del), free(u);
    if (bad) return -1;
  }
  return 0;
}

static int drop_func(af_case *c, int k) {
  if (k < 0 || k >= c->nfuncs || k == c->entry || c->nfuncs < 2) return -1;
  if (calls_away(c, k)) return -1;
  for (int i = k; i + 1 < c->nfuncs; i++)
    c->funcs[i] = c->funcs[i + 1];
  c->nfuncs--;
  memset(&c->funcs[c->nfuncs], 0, sizeof c->funcs[0]);
  if (c->entry > k) c->entry--;
  for (int fi = 0; fi < c->nfuncs; fi++)
    for (int i = 0; i < c->funcs[fi].ninsts; i++) {
      af_inst *x = &c->funcs[fi].insts[i];
      if (x->op == AF_OP_CALL && x->imm > k) x->imm--;
    }
  return dce_all(c);
}

/* Drops every function the entry does not reach. */
static int drop_unreachable(af_case *c) {
  char reach[AF_MAX_FUNCS] = {0};
  if (c->entry < 0 || c->entry >= c->nfuncs) return -1;
  reach[c->entry] = 1;
  for (int fi = 0; fi < c->nfuncs; fi++) /* callees have higher indices: one pass */
    for (int i = 0; reach[fi] && i < c->funcs[fi].ninsts; i++) {
      const af_inst *x = &c->funcs[fi].insts[i];
      if (x->op == AF_OP_CALL && x->imm > fi && x->imm < c->nfuncs) reach[x->imm] = 1;
    }
  for (int fi = c->nfuncs - 1; fi >= 0; fi--)
    if (!reach[fi] && drop_func(c, fi)) return -1;
  return 0;
}

/* Function k becomes the entry, called with the arguments its first call had in the
 * interpreter's run (a pointer to a LOCAL: a fresh zeroed object). */
static int reentry(af_case *c, int k) {
  if (k <= c->entry || k >= c->nfuncs || c->funcs[k].host) return -1;
  af_interp_result res;
  af_error e = {{0}};
  memset(&res, 0, sizeof res);
  int rc = -1, fresh = -1;
  if (af_interp(c, 0, &res, &e) != AF_OK) goto out;
  const af_host_call *hc = NULL;
  for (int i = 0; i < res.ncalls && !hc; i++)
    if (res.calls[i].callee == k) hc = &res.calls[i];
  const af_sig *sig = &c->funcs[k].sig;
  if (!hc || hc->nargs != sig->nparams) goto out;
  af_value in[AF_MAX_PARAMS];
  for (int p = 0; p < sig->nparams; p++) {
    if (af_value_init(c, &in[p], sig->params[p]) != AF_OK) goto out;
    const af_value *a = &hc->args[p];
    if (sig->params[p] == AF_T_PTR) {
      in[p].obj = a->obj;
      if (a->obj < 0 || a->obj >= c->nobjects) {
        if (fresh < 0) {
          if (c->nobjects >= AF_MAX_OBJECTS) goto out;
          fresh = c->nobjects++;
          memset(c->objects[fresh].init, 0, AF_REGION_SIZE);
        }
        in[p].obj = fresh;
      }
    } else if (a->bytes && a->size == in[p].size) {
      memcpy(in[p].bytes, a->bytes, a->size);
    }
  }
  memcpy(c->inputs, in, sizeof in[0] * (size_t)sig->nparams);
  c->ninputs = sig->nparams;
  c->entry = k;
  c->cc = sig->cc;
  rc = 0;
out:
  af_interp_result_free(&res);
  return rc ? rc : drop_unreachable(c);
}

static int edit_insts(af_case *c, int fi, int b, int n) {
  if (fi < 0 || fi >= c->nfuncs || n < 1) return -1;
  af_func *f = &c->funcs[fi];
  int *u = count_uses(f);
  char *del = calloc((size_t)f->ninsts + 1, 1);
  int any = 0, rc = -1;
  if (!u || !del) goto out;
  for (int i = b < 0 ? 0 : b; i < b + n && i < f->ninsts - 1; i++) {
    af_inst *x = &f->insts[i];
    if (x->op == AF_OP_RET || x->op == AF_OP_CONST) continue;
    if (x->op == AF_OP_STORE || (x->op == AF_OP_CALL && x->dst < 0))
      del[i] = 1, any = 1;
    else if (x->dst >= 0 && x->type == AF_T_PTR && x->op == AF_OP_CALL && !u[x->dst])
      del[i] = 1, any = 1;
    else if (x->dst >= 0 && x->type != AF_T_PTR && !constify(c, x))
      any = 1;
  }
  if (!any) goto out;
  if (fn_delete(c, fi, del, NULL)) goto out;
  rc = dce_all(c);
out:
  free(u), free(del);
  return rc;
}

static int forward(af_case *c, int fi, int i, int a) {
  if (fi < 0 || fi >= c->nfuncs) return -1;
  af_func *f = &c->funcs[fi];
  if (i < 0 || i >= f->ninsts) return -1;
  af_inst *x = &f->insts[i];
  if (x->dst < 0 || a < 0 || a >= x->nargs || x->args[a] < 0 || x->args[a] >= f->nvalues ||
      f->value_type[x->args[a]] != x->type)
    return -1;
  int *subst = malloc(sizeof(int) * (size_t)f->nvalues);
  char *del = calloc((size_t)f->ninsts + 1, 1);
  int rc = -1;
  if (subst && del) {
    for (int v = 0; v < f->nvalues; v++)
      subst[v] = -1;
    subst[x->dst] = x->args[a];
    del[i] = 1;
    rc = fn_delete(c, fi, del, subst);
    if (!rc) rc = dce_all(c);
  }
  free(subst), free(del);
  return rc;
}

static int mix_ops(af_case *c, int fi, int i, int j, int m) {
  if (fi < 0 || fi >= c->nfuncs) return -1;
  af_func *f = &c->funcs[fi];
  if (i < 0 || i >= f->ninsts) return -1;
  af_inst *x = &f->insts[i];
  if (x->op != AF_OP_MIX || j < 0 || m < 1 || j + m > x->nargs || x->nargs - m < 1) return -1;
  memmove(&x->args[j], &x->args[j + m], sizeof(int) * (size_t)(x->nargs - j - m));
  x->nargs -= m;
  return dce_all(c);
}

static int drop_param(af_case *c, int fi, int p) {
  if (fi < 0 || fi >= c->nfuncs) return -1;
  af_func *f = &c->funcs[fi];
  if (p < 0 || p >= f->sig.nparams) return -1;
  if (f->sig.variadic && p < f->sig.nfixed && f->sig.nfixed <= 1) return -1;
  int *u = count_uses(f);
  if (!u) return -1;
  int used = u[p] > 0;
  free(u);
  int ptype = f->sig.params[p];
  if (used && ptype == AF_T_PTR) return -1;
  int n = f->ninsts + 1, nold = f->nvalues + 1;
  af_inst *in = malloc(sizeof(af_inst) * (size_t)n);
  int *oid = malloc(sizeof(int) * (size_t)n), *subst = malloc(sizeof(int) * (size_t)nold);
  char dropp[AF_MAX_PARAMS] = {0};
  int rc = -1;
  if (!in || !oid || !subst) goto out;
  for (int v = 0; v < nold; v++)
    subst[v] = -1;
  int k = 0;
  if (used) { /* its uses read a zero constant defined first */
    memset(&in[0], 0, sizeof in[0]);
    in[0].op = AF_OP_CONST;
    in[0].type = ptype;
    in[0].dst = f->nvalues;
    if (constify(c, &in[0])) goto out;
    oid[k++] = f->nvalues;
    subst[p] = f->nvalues;
  }
  for (int i = 0; i < f->ninsts; i++)
    in[k] = f->insts[i], oid[k++] = f->insts[i].dst;
  dropp[p] = 1;
  if (fn_rebuild(c, fi, in, oid, k, nold, dropp, subst)) goto out;
  for (int g = 0; g < c->nfuncs; g++)
    for (int i = 0; i < c->funcs[g].ninsts; i++) {
      af_inst *x = &c->funcs[g].insts[i];
      if (x->op != AF_OP_CALL || x->imm != fi || p >= x->nargs) continue;
      memmove(&x->args[p], &x->args[p + 1], sizeof(int) * (size_t)(x->nargs - p - 1));
      x->nargs--;
    }
  if (fi == c->entry) {
    if (p >= c->ninputs) goto out;
    memmove(&c->inputs[p], &c->inputs[p + 1], sizeof c->inputs[0] * (size_t)(c->ninputs - p - 1));
    c->ninputs--;
  }
  rc = dce_all(c);
out:
  free(in), free(oid), free(subst);
  return rc;
}

/* ---- types -------------------------------------------------------------------------------- */
static int type_contains(const af_case *c, int ty, int t, int depth) {
  if (ty == t) return 1;
  if (ty < AF_T_NSCALAR || ty >= c->ntypes || depth > 64) return 0;
  const af_type *T = &c->types[ty];
  if (T->kind == AF_T_ARRAY) return type_contains(c, T->elem, t, depth + 1);
  for (int i = 0; i < T->nfields; i++)
    if (type_contains(c, T->fields[i].type, t, depth + 1)) return 1;
  return 0;
}

/* How an edit of type t changes a path step into it: the new index, -1 when the step leads
 * into what was removed, -2 when the step disappears (an unwrapped struct). */
typedef struct {
  red_kind kind;
  int t, field;
  uint32_t count; /* RED_SHRINK_ARRAY: the new count */
} type_edit;

static int step_map(const type_edit *te, int idx) {
  switch (te->kind) {
  case RED_DROP_FIELD: return idx == te->field ? -1 : idx > te->field ? idx - 1 : idx;
  case RED_SHRINK_ARRAY: return idx >= (int)te->count ? -1 : idx;
  case RED_UNWRAP: return -2;
  default: return idx;
  }
}

/* Rewrites a GET/SET path (walked with the types as they were); 1 if it leads into what was
 * removed. */
static int fix_path(const af_case *c, const type_edit *te, int ty, int *path, int *npath) {
  int out[AF_MAX_PATH], n = 0;
  for (int k = 0; k < *npath; k++) {
    int idx = path[k], next = -1;
    if (ty >= AF_T_NSCALAR && ty < c->ntypes) {
      const af_type *T = &c->types[ty];
      if (T->kind == AF_T_ARRAY)
        next = T->elem;
      else if (idx >= 0 && idx < T->nfields)
        next = T->fields[idx].type;
    }
    if (ty == te->t) {
      int m = step_map(te, idx);
      if (m == -1) return 1;
      if (m >= 0) out[n++] = m;
    } else {
      out[n++] = idx;
    }
    if (next < 0) { /* a scalar leaf's lane or part: the rest of the path is unchanged */
      for (k++; k < *npath; k++)
        out[n++] = path[k];
      break;
    }
    ty = next;
  }
  memcpy(path, out, sizeof(int) * (size_t)n);
  *npath = n;
  return 0;
}

/* Applies a type edit to every instruction and value (types not yet changed). */
static int retarget(af_case *c, const type_edit *te, int to) {
  for (int fi = 0; fi < c->nfuncs; fi++) {
    af_func *f = &c->funcs[fi];
    int *subst = malloc(sizeof(int) * (size_t)f->nvalues + sizeof(int));
    char *del = calloc((size_t)f->ninsts + 1, 1);
    int any = 0, bad = !subst || !del;
    for (int v = 0; !bad && v < f->nvalues; v++)
      subst[v] = -1;
    for (int i = 0; i < f->ninsts && !bad; i++) {
      af_inst *x = &f->insts[i];
      if ((x->op == AF_OP_GET || x->op == AF_OP_SET) && x->nargs >= 1 && x->args[0] >= 0 &&
          x->args[0] < f->nvalues) {
        int agg = f->value_type[x->args[0]];
        if (type_contains(c, agg, te->t, 0)) {
          int hit = fix_path(c, te, agg, x->path, &x->npath);
          if (x->op == AF_OP_GET && hit) {
            bad = constify(c, x) != 0;
            continue;
          }
          if (x->op == AF_OP_SET && hit) {
            subst[x->dst] = x->args[0], del[i] = 1, any = 1;
            continue;
          }
          if (x->npath == 0) { /* unwrapped: the value itself */
            subst[x->dst] = x->op == AF_OP_GET ? x->args[0] : x->args[1];
            del[i] = 1, any = 1;
            continue;
          }
        }
      }
      if (x->op == AF_OP_CONST && type_contains(c, x->type, te->t, 0) && te->kind != RED_UNWRAP)
        x->cst.type = -1; /* re-made zero once the type has its new size */
      if (to >= 0 && x->type == te->t) x->type = to;
      if (to >= 0 && x->op == AF_OP_CONST && x->cst.type == te->t) x->cst.type = to;
    }
    if (!bad && any) bad = fn_delete(c, fi, del, subst) != 0;
    free(subst), free(del);
    if (bad) return -1;
    if (to >= 0) {
      for (int p = 0; p < f->sig.nparams; p++)
        if (f->sig.params[p] == te->t) f->sig.params[p] = to;
      if (f->sig.ret == te->t) f->sig.ret = to;
    }
  }
  for (int i = 0; i < c->ninputs; i++) {
    af_value *v = &c->inputs[i];
    if (to >= 0 && v->type == te->t)
      v->type = to;
    else if (te->kind != RED_UNWRAP && type_contains(c, v->type, te->t, 0))
      v->obj = -2; /* re-made zero below */
  }
  if (to >= 0)
    for (int ty = AF_T_NSCALAR; ty < c->ntypes; ty++) {
      af_type *T = &c->types[ty];
      if (T->kind == AF_T_ARRAY && T->elem == te->t) T->elem = to;
      for (int k = 0; k < T->nfields; k++)
        if (T->fields[k].type == te->t) T->fields[k].type = to;
    }
  return 0;
}

/* The bytes of a value of type ty laid out by the old type table, re-laid out by the new one
 * (c's): every kept leaf keeps its value; what was dropped is gone. */
static void convert(const af_type *old, const af_case *c, const type_edit *te, int ty,
                    const uint8_t *src, uint8_t *dst, int depth) {
  if (ty < 0 || ty >= c->ntypes || depth > 64) return;
  const af_type *N = &c->types[ty], *O = &old[ty];
  if (ty < AF_T_NSCALAR) {
    memcpy(dst, src, N->size);
  } else if (N->kind == AF_T_ARRAY) {
    uint32_t eo = old[O->elem].size, en = c->types[N->elem].size;
    for (uint32_t i = 0; i < N->count && i < O->count; i++)
      convert(old, c, te, N->elem, src + i * eo, dst + i * en, depth + 1);
  } else if (N->kind == AF_T_UNION) {
    memcpy(dst, src, N->size < O->size ? N->size : O->size);
  } else {
    for (int j = 0; j < N->nfields; j++) {
      int jo = ty == te->t && te->kind == RED_DROP_FIELD && j >= te->field ? j + 1 : j;
      if (jo >= O->nfields) break;
      const af_field *of = &O->fields[jo], *nf = &N->fields[j];
      if (nf->bits > 0 && of->bits == nf->bits)
        af_bitfield_set(dst, nf->bit_offset, nf->bits,
                        af_bitfield_get(src, of->bit_offset, of->bits, 0));
      else if (nf->bits < 0)
        convert(old, c, te, nf->type, src + of->offset, dst + nf->offset, depth + 1);
    }
  }
}

/* After the type table changed: the constants and inputs marked get new bytes (old leaves
 * carried over when the old table is known, else zero). */
static int relayout(af_case *c, const af_type *old, const type_edit *te) {
  for (int fi = 0; fi < c->nfuncs; fi++)
    for (int i = 0; i < c->funcs[fi].ninsts; i++) {
      af_inst *x = &c->funcs[fi].insts[i];
      if (x->op != AF_OP_CONST || x->cst.type != -1) continue;
      const uint8_t *src = x->cst.bytes;
      if (af_value_init(c, &x->cst, x->type) != AF_OK) return -1;
      if (old && src) convert(old, c, te, x->type, src, x->cst.bytes, 0);
    }
  for (int i = 0; i < c->ninputs; i++) {
    af_value *v = &c->inputs[i];
    if (v->obj != -2) continue;
    const uint8_t *src = v->bytes;
    if (af_value_init(c, v, v->type) != AF_OK) return -1;
    if (old && src) convert(old, c, te, v->type, src, v->bytes, 0);
  }
  return 0;
}

/* A copy of the type table (fields copied too: edits move them in place). */
static af_type *snapshot_types(const af_case *c) {
  af_type *old = calloc((size_t)c->ntypes, sizeof *old);
  if (!old) return NULL;
  for (int t = 0; t < c->ntypes; t++) {
    old[t] = c->types[t];
    old[t].fields = NULL;
    if (c->types[t].nfields > 0) {
      old[t].fields = malloc(sizeof(af_field) * (size_t)c->types[t].nfields);
      if (!old[t].fields)
        old[t].nfields = 0;
      else
        memcpy(old[t].fields, c->types[t].fields, sizeof(af_field) * (size_t)c->types[t].nfields);
    }
  }
  return old;
}

static void free_types(af_type *old, int n) {
  for (int t = 0; old && t < n; t++)
    free(old[t].fields);
  free(old);
}

static int type_edit_apply(af_case *c, red_kind kind, int t, int field) {
  if (t < AF_T_NSCALAR || t >= c->ntypes) return -1;
  af_type *T = &c->types[t];
  type_edit te = {kind, t, field, 0};
  int to = -1;
  if (kind == RED_DROP_FIELD) {
    if (T->kind != AF_T_STRUCT && T->kind != AF_T_UNION) return -1;
    if (field < 0 || field >= T->nfields || (T->kind == AF_T_UNION && T->nfields < 2)) return -1;
  } else if (kind == RED_SHRINK_ARRAY) {
    if (T->kind != AF_T_ARRAY || T->count < 2) return -1;
    te.count = T->count / 2;
  } else { /* RED_UNWRAP: same size and alignment, so every value keeps its bytes */
    if (T->kind != AF_T_STRUCT || T->nfields != 1 || T->packed || T->align) return -1;
    const af_field *fl = &T->fields[0];
    const af_scalar_info *si = af_scalar((af_kind)fl->type);
    if (fl->bits != -1 || fl->align || !si || fl->type == AF_T_VOID || fl->type == AF_T_PTR ||
        si->size != T->size || si->align != T->alignment)
      return -1;
    to = fl->type;
  }
  int nold = c->ntypes;
  af_type *old = snapshot_types(c);
  if (retarget(c, &te, to)) return free_types(old, nold), -1;
  if (kind == RED_DROP_FIELD) {
    memmove(&T->fields[field], &T->fields[field + 1],
            sizeof(af_field) * (size_t)(T->nfields - field - 1));
    T->nfields--;
  } else if (kind == RED_SHRINK_ARRAY) {
    T->count = te.count;
  }
  int rc = af_layout(c) == AF_OK ? relayout(c, old, &te) : -1;
  free_types(old, nold);
  return rc;
}

/* Drops the types nothing refers to any more (renumbering the rest). */
static int gc_types(af_case *c) {
  char used[AF_MAX_TYPES] = {0};
  for (int t = 0; t < AF_T_NSCALAR && t < c->ntypes; t++)
    used[t] = 1;
#define USE(x)                                                                                     \
  do {                                                                                             \
    if ((x) >= 0 && (x) < c->ntypes) used[x] = 1;                                                  \
  } while (0)
  for (int fi = 0; fi < c->nfuncs; fi++) {
    const af_func *f = &c->funcs[fi];
    USE(f->sig.ret);
    for (int p = 0; p < f->sig.nparams; p++)
      USE(f->sig.params[p]);
    for (int i = 0; i < f->ninsts; i++)
      USE(f->insts[i].type);
  }
  for (int i = 0; i < c->ninputs; i++)
    USE(c->inputs[i].type);
  for (int t = c->ntypes - 1; t >= AF_T_NSCALAR; t--) /* members come before their users */
    if (used[t]) {
      const af_type *T = &c->types[t];
      if (T->kind == AF_T_ARRAY) USE(T->elem);
      for (int k = 0; k < T->nfields; k++)
        USE(T->fields[k].type);
    }
#undef USE
  int map[AF_MAX_TYPES], n = 0;
  for (int t = 0; t < c->ntypes; t++)
    map[t] = used[t] ? n++ : -1;
  if (n == c->ntypes) return 0;
  for (int t = 0; t < c->ntypes; t++)
    if (map[t] >= 0 && map[t] != t) c->types[map[t]] = c->types[t];
  c->ntypes = n;
#define MAP(x) ((x) = ((x) >= 0 && (x) < AF_MAX_TYPES && map[x] >= 0) ? map[x] : (x))
  for (int t = AF_T_NSCALAR; t < n; t++) {
    af_type *T = &c->types[t];
    if (T->kind == AF_T_ARRAY) MAP(T->elem);
    for (int k = 0; k < T->nfields; k++)
      MAP(T->fields[k].type);
  }
  for (int fi = 0; fi < c->nfuncs; fi++) {
    af_func *f = &c->funcs[fi];
    MAP(f->sig.ret);
    for (int p = 0; p < f->sig.nparams; p++)
      MAP(f->sig.params[p]);
    for (int i = 0; i < f->ninsts; i++) {
      MAP(f->insts[i].type);
      if (f->insts[i].op == AF_OP_CONST) MAP(f->insts[i].cst.type);
    }
  }
  for (int i = 0; i < c->ninputs; i++)
    MAP(c->inputs[i].type);
#undef MAP
  return 0;
}

/* ---- values ----------------------------------------------------------------------------- */
static int zero_const(af_case *c, int fi, int i) {
  if (fi < 0 || fi >= c->nfuncs || i < 0 || i >= c->funcs[fi].ninsts) return -1;
  af_inst *x = &c->funcs[fi].insts[i];
  if (x->op != AF_OP_CONST || !value_nonzero(&x->cst)) return -1;
  memset(x->cst.bytes, 0, x->cst.size);
  return 0;
}

static int zero_input(af_case *c, int p) {
  if (p < 0 || p >= c->ninputs || c->inputs[p].type == AF_T_PTR) return -1;
  if (!value_nonzero(&c->inputs[p])) return -1;
  memset(c->inputs[p].bytes, 0, c->inputs[p].size);
  return 0;
}

static int zero_object(af_case *c, int k) {
  if (k < 0 || k >= c->nobjects) return -1;
  int nz = 0;
  for (int i = 0; i < AF_REGION_SIZE; i++)
    nz |= c->objects[k].init[i];
  if (!nz) return -1;
  memset(c->objects[k].init, 0, AF_REGION_SIZE);
  return 0;
}

static int drop_object(af_case *c, int k) {
  if (k < 0 || k >= c->nobjects) return -1;
  for (int i = 0; i < c->ninputs; i++)
    if (c->inputs[i].type == AF_T_PTR && c->inputs[i].obj == k) return -1;
  for (int j = k; j + 1 < c->nobjects; j++)
    c->objects[j] = c->objects[j + 1];
  c->nobjects--;
  for (int i = 0; i < c->ninputs; i++)
    if (c->inputs[i].type == AF_T_PTR && c->inputs[i].obj > k) c->inputs[i].obj--;
  return 0;
}

int red_apply(af_case *c, const red_edit *e) {
  int rc = -1;
  switch (e->kind) {
  case RED_DROP_FUNC: rc = drop_func(c, e->a); break;
  case RED_INSTS: rc = edit_insts(c, e->a, e->b, e->n); break;
  case RED_FORWARD: rc = forward(c, e->a, e->b, e->n); break;
  case RED_MIX_OPS: rc = mix_ops(c, e->a, e->b, e->n, e->m); break;
  case RED_DROP_PARAM: rc = drop_param(c, e->a, e->b); break;
  case RED_NONVARIADIC:
    if (e->a >= 0 && e->a < c->nfuncs && c->funcs[e->a].sig.variadic) {
      c->funcs[e->a].sig.variadic = 0;
      c->funcs[e->a].sig.nfixed = c->funcs[e->a].sig.nparams;
      rc = 0;
    }
    break;
  case RED_ZERO_CONST: rc = zero_const(c, e->a, e->b); break;
  case RED_ZERO_INPUT: rc = zero_input(c, e->a); break;
  case RED_ZERO_OBJECT: rc = zero_object(c, e->a); break;
  case RED_DROP_OBJECT: rc = drop_object(c, e->a); break;
  case RED_DROP_FIELD:
  case RED_SHRINK_ARRAY:
  case RED_UNWRAP: rc = type_edit_apply(c, e->kind, e->a, e->b); break;
  case RED_REENTRY: rc = reentry(c, e->a); break;
  default: return -1;
  }
  if (rc) return rc;
  if (gc_types(c) || af_layout(c) != AF_OK) return -1;
  for (int fi = 0; fi < c->nfuncs; fi++)
    if (af_fn_finish(c, fi) != AF_OK) return -1;
  return 0;
}
