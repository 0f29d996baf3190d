/* leg_runner.c - the "runner" leg: the JIT's own runner thunk calls the JIT entry. */
#include <stdio.h>
#include <string.h>

#include "legs.h"

/* The cheapest leg: JIT-compiled caller and callees, called by the JIT's own thunk
 * (af_jit_run), compared with the interpreter. It checks the JIT against itself more than
 * against the ABI (a caller and callee wrong the same way agree), but a crash, a hang, a wrong
 * value or a clobbered object shows here first, and it needs nothing else. */

static af_status runner_init(const af_legs_cfg *cfg, void **state, af_error *err) {
  (void)cfg, (void)err;
  *state = NULL;
  return AF_OK;
}

/* Findings of one run: the return value leaf by leaf, every object byte by byte, then the
 * checksum (which covers both, so it can only differ alone if the fold disagrees). */
static void compare(const af_job *j, const af_jit_result *r, af_findings *fs) {
  const af_case *c = &j->c;
  const af_value *want = &j->want.ret;
  char where[128], detail[300];
  if (want->type == AF_T_PTR) {
    if (r->ret.obj != want->obj)
      af_findings_add(fs, "runner", "result", "ptr", "expected a pointer to object %d, got %d",
                      want->obj, r->ret.obj);
  } else if (want->type != AF_T_VOID && (!r->ret.bytes || r->ret.size != want->size ||
                                         af_value_diff(c, want, r->ret.bytes, NULL, where,
                                                       sizeof where, detail, sizeof detail))) {
    if (!r->ret.bytes || r->ret.size != want->size)
      af_findings_add(fs, "runner", "result", "return value", "expected %u bytes, got %u",
                      want->size, r->ret.size);
    else
      af_findings_add(fs, "runner", "result", where, "%s", detail);
  }
  for (int k = 0; k < c->nobjects; k++) {
    if (!memcmp(r->objects[k], j->want.objects[k], AF_REGION_SIZE)) continue; /* the usual */
    for (int b = 0; b < AF_REGION_SIZE; b++)
      if (r->objects[k][b] != j->want.objects[k][b]) {
        char what[64];
        snprintf(what, sizeof what, "object %d byte %d", k, b);
        af_findings_add(fs, "runner", "objects", what, "expected 0x%02x, got 0x%02x",
                        j->want.objects[k][b], r->objects[k][b]);
        break;
      }
  }
  if (!fs->n && r->checksum != j->want.checksum)
    af_findings_add(fs, "runner", "checksum", "", "expected 0x%016llx, got 0x%016llx",
                    (unsigned long long)j->want.checksum, (unsigned long long)r->checksum);
}

static void runner_submit(void *state, af_job *j, const af_leg_sink *sink) {
  (void)state;
  af_error err = {{0}};
  af_findings fs;
  af_findings_clear(&fs);
  /* the compile is JIT code too: a crash or a hang in it is this leg's */
  sink->begin(sink->u, j, "runner");
  af_jit *jit = NULL;
  af_status s = af_leg_compile_native(j, NULL, &jit, &err);
  if (s == AF_ERR_UNSUPPORTED) {
    sink->end(sink->u, j, "runner", AF_LEG_SKIP, "the JIT does not support the case", NULL, 0);
    return;
  }
  if (s != AF_OK) {
    af_findings_add(&fs, "runner", "compile", af_strerror(s), "%s", err.msg);
    sink->end(sink->u, j, "runner", AF_LEG_FAIL, NULL, fs.f, fs.n);
    return;
  }
  af_jit_result r;
  memset(&r, 0, sizeof r);
  s = af_jit_run(jit, NULL, &r, &err);
  if (s != AF_OK)
    af_findings_add(&fs, "runner", "run", af_strerror(s), "%s", err.msg);
  else
    compare(j, &r, &fs);
  af_jit_result_free(&r);
  af_jit_free(jit);
  sink->end(sink->u, j, "runner", fs.n ? AF_LEG_FAIL : AF_LEG_PASS, NULL, fs.f, fs.n);
}

static void runner_fini(void *state) { (void)state; }

const af_leg af_leg_runner = {
    .name = "runner",
    .desc = "the JIT's own runner thunk calls the JIT entry (JIT caller and callees)",
    .default_on = 1,
    .init = runner_init,
    .submit = runner_submit,
    .poll = NULL,
    .fini = runner_fini,
};
