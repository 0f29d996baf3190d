/* test_probe_observer.c - the probes' observer (af_probe_set_observer, what abifuzz replay
 * prints): every probed call is reported with its arguments and return value, the values agree
 * with the interpreter's trace on the correct JIT, and under an argument mutant the observer's
 * mismatches are exactly the probes' `arg` findings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "jit.h"
#include "legs.h"
#include "probe.h"
#include "replay.h"

typedef struct {
  const af_case *c;
  uint8_t *const *objects;
  int ncall, nret, narg, nbad_arg, nbad_ret, order_bad;
  int last_k, args_seen;
  char bad[64][64]; /* "arg I of call M to fK" of each mismatching argument */
} obs;

static void observe(void *u, const af_probe_event *ev) {
  obs *o = u;
  char where[128], detail[300];
  switch (ev->kind) {
  case AF_PROBE_EV_CALL:
    /* the previous call's arguments all came before this call */
    if (o->ncall && o->args_seen != o->c->funcs[o->last_k].sig.nparams) o->order_bad++;
    o->ncall++;
    o->last_k = ev->k;
    o->args_seen = 0;
    if (!ev->regs) o->order_bad++;
    break;
  case AF_PROBE_EV_ARG:
    o->narg++;
    if (ev->arg != o->args_seen++ || ev->k != o->last_k) o->order_bad++;
    if (ev->got && ev->want &&
        af_value_diff(o->c, ev->want, ev->got, o->objects, where, sizeof where, detail,
                      sizeof detail)) {
      if (o->nbad_arg < 64)
        snprintf(o->bad[o->nbad_arg], sizeof o->bad[0], "arg %d of call %d to f%d", ev->arg, ev->m,
                 ev->k);
      o->nbad_arg++;
    }
    break;
  case AF_PROBE_EV_RETURN:
    o->nret++;
    if (ev->got && ev->want &&
        af_value_diff(o->c, ev->want, ev->got, o->objects, where, sizeof where, detail,
                      sizeof detail))
      o->nbad_ret++;
    break;
  }
}

/* One case through the probes with the observer: 0 ran (o, fs, out filled), -1 skipped. */
static int run_case(af_case *c, af_interp_result *want, const char *inject, obs *o, af_findings *fs,
                    af_probe_outcome *out, uint8_t *const *objects) {
  static replay r;
  memset(&r, 0, sizeof r);
  r.c = *c;
  r.inject = inject;
  replay_compile(&r);
  if (!r.probe) {
    replay_release(&r);
    return -1;
  }
  af_probe *p;
  CHECK(af_probe_new(&p) == AF_OK);
  for (int k = 0; k < c->nobjects; k++)
    memcpy(objects[k], c->objects[k].init, AF_REGION_SIZE);
  af_jit_set_objects(r.probe, objects, c->nobjects);
  if (r.ref) af_jit_set_objects(r.ref, objects, c->nobjects);
  af_probe_opts po = {0};
  po.c = &r.c;
  po.want = want;
  po.entry = af_jit_fn(r.probe, c->entry);
  po.real = r.real;
  po.objects = objects;
  po.garbage = 0x6a7ba6e5eedull;
  po.leg = "native";
  po.code = r.code;
  memset(o, 0, sizeof *o);
  o->c = &r.c;
  o->objects = objects;
  af_probe_set_observer(p, observe, o);
  memset(fs, 0, sizeof *fs);
  af_error err = {{0}};
  CHECK(af_probe_last_frame(p) == NULL);
  int rc = af_probe_run(p, &po, fs, out, &err) == AF_OK ? 0 : -1;
  if (!rc) {
    af_probe_check_outcome(&po, out, fs);
    const af_probe_frame *f = af_probe_last_frame(p);
    CHECK(f != NULL);
    /* the canary the probe put in RBX (doc/probes.md) is in the frame's registers at the call */
    if (f)
      CHECKF(f->in.gpr[AF_RBX] == 0xca5a11ee00c0de03ull, "rbx 0x%llx",
             (unsigned long long)f->in.gpr[AF_RBX]);
    CHECK(af_probe_callinfo(p, c->entry) != NULL && af_probe_callinfo(p, c->nfuncs) == NULL);
  }
  af_probe_free(p);
  replay_release(&r);
  return rc;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 200;
  uint8_t *mem = malloc(AF_MAX_OBJECTS * AF_REGION_SIZE + 64);
  uint8_t *objects[AF_MAX_OBJECTS];
  uint8_t *a = (uint8_t *)(((uintptr_t)mem + 63) & ~(uintptr_t)63);
  for (int k = 0; k < AF_MAX_OBJECTS; k++)
    objects[k] = a + k * AF_REGION_SIZE;
  af_gen_opts go;
  af_gen_opts_default(&go);
  int ran = 0, calls = 0, args = 0, mut_cases = 0, mut_bad = 0, mut_consistent = 0;
  for (int i = 0; i < n; i++) {
    go.cc = i % 2;
    af_case c;
    af_error err = {{0}};
    if (af_gen_case(&go, 7, (uint64_t)i, &c, NULL, &err) != AF_OK) continue;
    af_interp_result want;
    if (af_probe_unsupported(&c) || af_interp(&c, 0, &want, &err) != AF_OK) {
      af_case_free(&c);
      continue;
    }
    obs o;
    af_findings fs;
    af_probe_outcome out;
    if (run_case(&c, &want, NULL, &o, &fs, &out, objects) == 0) {
      ran++;
      calls += o.ncall;
      args += o.narg;
      CHECKF(o.ncall == out.ncalls, "case %d: %d call events, %d calls", i, o.ncall, out.ncalls);
      CHECKF(o.nret == o.ncall, "case %d: %d returns, %d calls", i, o.nret, o.ncall);
      CHECKF(o.nbad_arg == 0 && o.nbad_ret == 0 && o.order_bad == 0,
             "case %d: %d bad args, %d bad returns, %d out of order (correct JIT)", i, o.nbad_arg,
             o.nbad_ret, o.order_bad);
      CHECKF(fs.n == 0, "case %d: %d findings on the correct JIT (%s)", i, fs.n,
             fs.n ? fs.f[0].check : "");
    }
    /* under an argument mutant: the observer's mismatches are the probes' `arg` findings (in a
     * child: the mutant may crash the run) */
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
      if (run_case(&c, &want, "stack-args-reversed", &o, &fs, &out, objects)) _exit(3);
      int consistent = 1;
      for (int b = 0; b < o.nbad_arg && b < 64; b++) {
        int found = 0;
        for (int q = 0; q < fs.n; q++)
          found |= !strcmp(fs.f[q].check, "arg") && !strcmp(fs.f[q].what, o.bad[b]);
        if (!found && fs.dropped == 0) consistent = 0;
      }
      int nargf = 0;
      for (int q = 0; q < fs.n; q++)
        nargf += !strcmp(fs.f[q].check, "arg") && strstr(fs.f[q].detail, "local region") == NULL &&
                 strstr(fs.f[q].detail, "outside") == NULL;
      if (nargf > o.nbad_arg) consistent = 0;
      _exit(!consistent ? 1 : o.nbad_arg ? 2 : 0);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    if (WIFEXITED(st) && WEXITSTATUS(st) != 3) {
      mut_cases++;
      CHECKF(WEXITSTATUS(st) != 1, "case %d: the observer's mismatches are not the arg findings",
             i);
      mut_bad += WEXITSTATUS(st) == 2;
      mut_consistent += WEXITSTATUS(st) != 1;
    }
    af_interp_result_free(&want);
    af_case_free(&c);
  }
  printf("correct JIT: %d cases, %d probed calls, %d arguments observed; stack-args-reversed: %d "
         "cases ran, %d with a mismatching argument, %d consistent\n",
         ran, calls, args, mut_cases, mut_bad, mut_consistent);
  CHECK(ran > n / 2);
  CHECK(calls > 0 && args > 0);
  CHECK(mut_bad > 0);
  free(mem);
  return check_done();
}
