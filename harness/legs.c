/* legs.c - the leg registry, jobs, findings, and the leaf-by-leaf value comparison legs share. */
#include <malloc.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "legs.h"
#include "probe.h"

/* The legs, each defined in its own file (leg_*.c), in the order they run on a case: the
 * native probe first, as it has the most precise checks (when a leg crashes, the restarted
 * worker runs the case from the next leg on, and a finding's bucket follows the case's first
 * precise finding), the emulator last, as it is the slowest. */
extern const af_leg af_leg_native, af_leg_garbage, af_leg_runner, af_leg_ffi_caller,
    af_leg_ffi_callee, af_leg_cc_caller, af_leg_cc_callee, af_leg_cross_cc, af_leg_c_oracle,
    af_leg_emu, af_leg_emu_unicorn,
    af_leg_emu_cc; /* without Unicorn the emulator legs' init says so: they are off */

static const af_leg *const all_legs[] = {
    &af_leg_native,     &af_leg_garbage,   &af_leg_runner,      &af_leg_ffi_caller,
    &af_leg_ffi_callee, &af_leg_cc_caller, &af_leg_cc_callee,   &af_leg_cross_cc,
    &af_leg_c_oracle,   &af_leg_emu,       &af_leg_emu_unicorn, &af_leg_emu_cc,
};

const af_leg *const *af_legs_all(int *n) {
  *n = (int)(sizeof all_legs / sizeof all_legs[0]);
  return all_legs;
}

const af_leg *af_leg_find(const char *name) {
  int n;
  const af_leg *const *all = af_legs_all(&n);
  for (int i = 0; i < n; i++)
    if (!strcmp(all[i]->name, name)) return all[i];
  return NULL;
}

af_job *af_job_new(const af_legs_cfg *cfg, uint64_t seed, uint64_t index) {
  af_job *j = malloc(sizeof *j);
  if (!j) return NULL;
  memset(j, 0, offsetof(af_job, c));
  memset(&j->want, 0, sizeof *j - offsetof(af_job, want));
  j->refs = 1, j->seed = seed, j->index = index, j->cfg = cfg;
  return j;
}

af_job *af_job_ref(af_job *j) {
  j->refs++;
  return j;
}

void af_job_drop_compiles(af_job *j) {
  for (int i = 0; i < j->njits; i++)
    af_jit_free(j->jits[i].jit);
  j->njits = 0;
}

void af_job_unref(af_job *j) {
  if (!j || --j->refs > 0) return;
  af_job_drop_compiles(j); /* before the case and the code they refer to */
  af_backend_code_free(j->code);
  af_interp_result_free(&j->want);
  af_case_free(&j->c);
  free(j);
}

static void vset(af_finding *f, const char *leg, const char *check, const char *what,
                 const char *fmt, va_list ap) {
  memset(f, 0, sizeof *f); /* whole: findings go to the supervisor as bytes */
  snprintf(f->leg, sizeof f->leg, "%s", leg);
  snprintf(f->check, sizeof f->check, "%s", check);
  snprintf(f->what, sizeof f->what, "%s", what ? what : "");
  vsnprintf(f->detail, sizeof f->detail, fmt, ap);
}

void af_finding_set(af_finding *f, const char *leg, const char *check, const char *what,
                    const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vset(f, leg, check, what, fmt, ap);
  va_end(ap);
}

void af_findings_add(af_findings *fs, const char *leg, const char *check, const char *what,
                     const char *fmt, ...) {
  if (fs->n >= AF_FINDINGS_MAX) {
    fs->dropped++;
    return;
  }
  va_list ap;
  va_start(ap, fmt);
  vset(&fs->f[fs->n++], leg, check, what, fmt, ap);
  va_end(ap);
}

void af_legs_process_init(void) { mallopt(M_TRIM_THRESHOLD, 64 << 20); }

/* ---- value comparison ------------------------------------------------------------------- */
static void hex(char *out, size_t n, const uint8_t *p, uint32_t len) {
  size_t k = 0;
  if (n) out[0] = 0;
  for (uint32_t i = 0; i < len && k + 3 < n; i++)
    k += (size_t)snprintf(out + k, n - k, "%02x", p[i]);
}

typedef struct {
  const af_case *c;
  char *where;
  size_t nwhere;
  char *detail;
  size_t ndetail;
  int quiet; /* 1: only whether some leaf differs, no text (the common, equal case) */
} diff_ctx;

/* The first leaf of `type` at want/got (offset `base` into the outer value) whose fold differs;
 * 1 found (described), 0 equal. */
static int diff_leaf(diff_ctx *d, int type, const uint8_t *want, const uint8_t *got, uint32_t base,
                     const char *path) {
  const af_case *c = d->c;
  const af_type *t = &c->types[type];
  if (type < AF_T_NSCALAR) {
    if (af_fold_bytes(c, 0, type, want, 0) == af_fold_bytes(c, 0, type, got, 0)) return 0;
    if (d->quiet) return 1;
    uint32_t n = type == AF_T_F80 ? 10 : t->size;
    char tb[16], hw[80], hg[80];
    hex(hw, sizeof hw, want, n);
    hex(hg, sizeof hg, got, n);
    snprintf(d->where, d->nwhere, "%s%s(%s) at byte %u", path, *path ? " " : "",
             af_type_name(c, type, tb, sizeof tb), base);
    snprintf(d->detail, d->ndetail, "expected %s, got %s", hw, hg);
    return 1;
  }
  char sub[64] = "";
  if (t->kind == AF_T_ARRAY) {
    uint32_t es = c->types[t->elem].size;
    for (uint32_t i = 0; i < t->count; i++) {
      if (!d->quiet) snprintf(sub, sizeof sub, "%s[%u]", path, i);
      if (diff_leaf(d, t->elem, want + i * es, got + i * es, base + i * es, sub)) return 1;
    }
    return 0;
  }
  for (int i = 0; i < t->nfields; i++) {
    const af_field *f = &t->fields[i];
    if (f->bits == 0) continue;
    if (!d->quiet) snprintf(sub, sizeof sub, "%s.%d", path, i);
    if (f->bits > 0) {
      int sg = af_scalar((af_kind)f->type)->is_signed;
      uint64_t a = af_bitfield_get(want, f->bit_offset, f->bits, sg);
      uint64_t b = af_bitfield_get(got, f->bit_offset, f->bits, sg);
      if (a == b) continue;
      if (d->quiet) return 1;
      snprintf(d->where, d->nwhere, "%s (%d-bit bit-field at bit %u)", sub, f->bits,
               base * 8 + f->bit_offset);
      snprintf(d->detail, d->ndetail, "expected 0x%llx, got 0x%llx", (unsigned long long)a,
               (unsigned long long)b);
      return 1;
    }
    if (diff_leaf(d, f->type, want + f->offset, got + f->offset, base + f->offset, sub)) return 1;
  }
  return 0;
}

int af_value_diff(const af_case *c, const af_value *want, const uint8_t *got,
                  uint8_t *const *objects, char *where, size_t nwhere, char *detail,
                  size_t ndetail) {
  if (nwhere) where[0] = 0;
  if (ndetail) detail[0] = 0;
  if (want->type == AF_T_VOID) return 0;
  if (want->type == AF_T_PTR) {
    if (want->obj < 0 || !objects) return 0; /* a LOCAL's address: nothing to compare with */
    uint64_t a = (uint64_t)(uintptr_t)objects[want->obj], b;
    memcpy(&b, got, 8);
    if (a == b) return 0;
    snprintf(where, nwhere, "ptr");
    snprintf(detail, ndetail, "expected %p (object %d), got 0x%llx", (void *)(uintptr_t)a,
             want->obj, (unsigned long long)b);
    return 1;
  }
  /* equal values (nearly all) are compared without formatting a path per field; a difference
   * is walked again to describe its first leaf */
  if (want->size && memcmp(want->bytes, got, want->size) == 0) return 0; /* equal leaves */
  diff_ctx d = {c, where, nwhere, detail, ndetail, 1};
  if (!diff_leaf(&d, want->type, want->bytes, got, 0, "")) return 0;
  d.quiet = 0;
  return diff_leaf(&d, want->type, want->bytes, got, 0, "");
}

/* One compile per job and code-changing options (jit.h af_jit_set_fns: host_fns only sets
 * the table), shared by the legs: the compile was ~75% of a case, done 2.6 times per case
 * (doc/benchmarks.md). The cache is the job's own mutable state, hence the cast. */
af_status af_leg_compile_opts(const af_job *cj, const af_jit_opts *o, af_jit **out, af_error *err) {
  af_job *j = (af_job *)cj;
  af_jit_opts jo = {0};
  if (o) jo = *o;
  jo.inject = j->cfg ? j->cfg->inject : NULL;
  *out = NULL;
  for (int i = 0; i < j->njits; i++) {
    if (j->jits[i].rt_probe != jo.rt_probe || j->jits[i].check_stack != jo.check_stack ||
        j->jits[i].no_regalloc != jo.no_regalloc)
      continue;
    af_jit *jit = j->jits[i].jit;
    af_jit_set_fns(jit, jo.host_fns);
    /* external code's imports go where this call's table goes (as af_backend_link does) */
    for (int k = 0; j->code && k < j->c.nfuncs; k++)
      af_backend_bind(j->code, k, af_jit_fn(jit, k));
    *out = af_jit_retain(jit);
    return AF_OK;
  }
  af_status s = af_backend_link(j->code, &j->c, &jo, out, err);
  if (s == AF_OK && j->njits < (int)(sizeof j->jits / sizeof j->jits[0])) {
    j->jits[j->njits].rt_probe = jo.rt_probe;
    j->jits[j->njits].check_stack = jo.check_stack;
    j->jits[j->njits].no_regalloc = jo.no_regalloc;
    j->jits[j->njits++].jit = af_jit_retain(*out);
  }
  return s;
}

af_status af_leg_compile(const af_job *j, const void *const *host_fns, af_jit **out,
                         af_error *err) {
  af_jit_opts o = {0};
  o.host_fns = host_fns;
  return af_leg_compile_opts(j, &o, out, err);
}

af_status af_leg_compile_native(const af_job *j, const void *const *host_fns, af_jit **out,
                                af_error *err) {
  af_jit_opts o = {0};
  o.host_fns = host_fns;
  o.rt_probe = (const void *)af_rt_probe;
  return af_leg_compile_opts(j, &o, out, err);
}
