/* jit_ffi_replay.h - test_jit_ffi's libffi closures, replaying the interpreter's host calls. */
#ifndef ABIFUZZ_TESTS_JIT_FFI_REPLAY_H
#define ABIFUZZ_TESTS_JIT_FFI_REPLAY_H

#include <stdint.h>
#include <string.h>

#include "jit.h"
#include "oracle.h"


/* One closure standing for host function `callee`: each call it receives is the
 * next call to `callee` the interpreter saw (ir->host_calls, in order); the
 * arguments must fold equal (padding excluded, pointers by object) and the
 * interpreter's return value is handed back. */
typedef struct {
  const af_case *c;
  const af_interp_result *ir;
  void *const *objects; /* the run's object regions */
  int callee;
  const af_ffi_sig *sig; /* callee's */
  void *forward;         /* NULL, or native code of the callee to run the call on */
  int cursor;            /* host_calls index after the last call replayed */
  int *calls, *bad;      /* shared counters */
  char *msg;             /* first problem (shared, 200 bytes) */
} replay;

static int replay_obj(const replay *r, const void *addr) {
  for (int k = 0; k < r->c->nobjects; k++)
    if (r->objects[k] == addr) return k;
  return -1;
}

static uint64_t replay_fold_arg(const replay *r, const af_value *v, int got) {
  if (v->type != AF_T_PTR) return af_fold_value(r->c, 0, v);
  af_value p = *v;
  if (got) {
    void *a;
    memcpy(&a, v->bytes, sizeof a);
    p.obj = replay_obj(r, a);
  }
  return af_fold_value(r->c, 0, &p);
}

static void replay_fail(replay *r, const char *what, int i) {
  if (!*r->bad) snprintf(r->msg, 200, "host f%d call %d: %s", r->callee, i, what);
  (*r->bad)++;
}

static void replay_handler(void *user, const af_value *args, int nargs, uint8_t *ret) {
  replay *r = user;
  int i = r->cursor;
  while (i < r->ir->nhost_calls && r->ir->host_calls[i].callee != r->callee)
    i++;
  (*r->calls)++;
  if (i == r->ir->nhost_calls) {
    replay_fail(r, "a call the interpreter did not make", i);
    return;
  }
  r->cursor = i + 1;
  const af_host_call *h = &r->ir->host_calls[i];
  if (h->nargs != nargs) replay_fail(r, "argument count", i);
  for (int a = 0; a < nargs && a < h->nargs; a++)
    if (replay_fold_arg(r, &args[a], 1) != replay_fold_arg(r, &h->args[a], 0)) {
      char what[64];
      snprintf(what, sizeof what, "argument %d differs", a);
      replay_fail(r, what, i);
    }
  if (r->forward) {
    /* the callee's body runs (its loads and stores matter), called through libffi */
    if (af_ffi_call(r->sig, r->forward, args, r->c, (void **)r->objects, ret) != AF_OK) {
      replay_fail(r, "af_ffi_call refused the forwarded arguments", i);
      return;
    }
    if (h->ret.type == AF_T_VOID) return;
    af_value got = h->ret;
    got.bytes = ret;
    if (got.type == AF_T_PTR) {
      void *a;
      memcpy(&a, ret, sizeof a);
      got.obj = replay_obj(r, a);
    }
    if (af_fold_value(r->c, 0, &got) != af_fold_value(r->c, 0, &h->ret))
      replay_fail(r, "the callee's return value differs from the interpreter's", i);
    return;
  }
  if (h->ret.type == AF_T_PTR) {
    if (h->ret.obj < 0 || h->ret.obj >= r->c->nobjects) {
      replay_fail(r, "returns a pointer that is no object (not replayable)", i);
      return;
    }
    void *p = r->objects[h->ret.obj];
    memcpy(ret, &p, sizeof p);
  } else if (h->ret.type != AF_T_VOID && h->ret.bytes) {
    memcpy(ret, h->ret.bytes, h->ret.size);
  }
}

/* Closures for every host function whose signature libffi can spell. */
typedef struct {
  int n;
  int fn[AF_MAX_FUNCS];
  af_ffi_sig sig[AF_MAX_FUNCS];
  af_ffi_closure *cl[AF_MAX_FUNCS];
  void *code[AF_MAX_FUNCS];
  replay rp[AF_MAX_FUNCS];
  int calls, bad;
  char msg[200];
} replay_set;

/* forward: NULL, or a JIT whose host functions' code runs each replayed call. */
static void replay_set_init(replay_set *rs, const af_case *c, const af_interp_result *ir,
                            void *const *objects, const af_jit *forward) {
  memset(rs, 0, sizeof *rs);
  for (int k = 0; k < c->nfuncs; k++) {
    if (!c->funcs[k].host) continue;
    int i = rs->n;
    if (af_ffi_prepare(c, &c->funcs[k].sig, &rs->sig[i], NULL) != AF_OK) continue;
    void *fw = forward ? (void *)(uintptr_t)af_jit_fn(forward, k) : NULL;
    rs->rp[i] = (replay){c, ir, objects, k, &rs->sig[i], fw, 0, &rs->calls, &rs->bad, rs->msg};
    if (af_ffi_closure_new(&rs->sig[i], replay_handler, &rs->rp[i], &rs->cl[i], &rs->code[i]) !=
        AF_OK) {
      af_ffi_free(&rs->sig[i]);
      continue;
    }
    rs->fn[i] = k;
    rs->n++;
  }
}

static void replay_set_free(replay_set *rs) {
  for (int i = 0; i < rs->n; i++) {
    af_ffi_closure_free(rs->cl[i]);
    af_ffi_free(&rs->sig[i]);
  }
  rs->n = 0;
}

#endif
