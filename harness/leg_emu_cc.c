/* leg_emu_cc.c - the `emu-cc` sanity leg: a clang-compiled caller stub calls the JIT entry, the
 * whole call in Unicorn (emu.h af_emu_run_stub). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu.h"
#include "legs.h"
#include "oracle.h"

#ifndef AF_DEFAULT_CLANG
#define AF_DEFAULT_CLANG ""
#endif

/* The garbage pattern of this leg's undefined registers and stack bytes (not emu's). */
#define EMU_CC_GARBAGE 0xcc5a11e7e3a11ull

typedef struct {
  af_emu *e;
  af_stub_pool *pool;
  af_family fam;
  int major;
  const char *ccname;
  af_findings fs;
} leg_state;

static af_status emu_cc_init(const af_legs_cfg *cfg, void **state, af_error *err) {
  const char *cc = cfg && cfg->ncc > 0 ? cfg->cc[0] : AF_DEFAULT_CLANG;
  if (!cc || !cc[0]) {
    if (err) snprintf(err->msg, sizeof err->msg, "no oracle compiler (--oracle-cc)");
    return AF_ERR_UNSUPPORTED;
  }
  leg_state *st = calloc(1, sizeof *st);
  if (!st) return AF_ERR_NOMEM;
  /* Unicorn: compiled C uses instructions xi (the JIT's instruction set) does not have */
  af_emu_cfg ec = {.garbage = EMU_CC_GARBAGE ^ (cfg ? cfg->seed : 0), .engine = AF_EMU_UNICORN};
  af_status s = af_emu_new(&ec, &st->e, err);
  if (s != AF_OK) {
    free(st);
    return s;
  }
  /* a pool of its own: a sanity leg waits for each stub (the on-disk cache is shared) */
  af_stub_pool_opts o = {0};
  o.cc = cc;
  o.cache_dir = cfg ? cfg->cache_dir : NULL;
  s = af_stub_pool_new(&o, &st->pool, err);
  if (s != AF_OK) {
    af_emu_free(st->e);
    free(st);
    return s == AF_ERR_NOMEM ? s : AF_ERR_UNSUPPORTED;
  }
  af_stub_pool_identity(st->pool, &st->fam, &st->major, &st->ccname);
  *state = st;
  return AF_OK;
}

/* The entry's caller stub, compiled (waiting for it); NULL and *skip if there is none. */
static af_stub_call_fn get_stub(leg_state *st, const af_case *c, const char **skip) {
  const af_sig *sig = &c->funcs[c->entry].sig;
  const char *why = NULL;
  if (af_abi_deviates(c, sig, st->fam, st->major, &why)) {
    *skip = why ? why : "a known compiler deviation";
    return NULL;
  }
  af_stub_src src;
  af_error err = {{0}};
  if (af_stub_emit(c, sig, &src, &err) != AF_OK) {
    *skip = "a signature the stubs cannot spell";
    return NULL;
  }
  uint64_t hash = src.hash;
  int avx = src.needs_avx;
  af_stub_state s = af_stub_pool_request(st->pool, &src);
  af_stub_src_free(&src);
  if (avx) {
    *skip = "not emulable (__m256)";
    return NULL;
  }
  if (s == AF_STUB_BACKLOG) {
    *skip = "oracle backlog";
    return NULL;
  }
  if (s == AF_STUB_PENDING) s = af_stub_pool_wait(st->pool, hash, -1);
  af_stub_syms sy;
  if (s != AF_STUB_READY || af_stub_pool_get(st->pool, hash, &sy) != AF_OK) {
    *skip = "the compiler refused the stub";
    return NULL;
  }
  return sy.call;
}

static void emu_cc_submit(void *state, af_job *j, const af_leg_sink *sink) {
  leg_state *st = state;
  const char *leg = "emu-cc", *skip = NULL;
  memset(&st->fs, 0, sizeof st->fs);
  af_stub_call_fn call = get_stub(st, &j->c, &skip);
  if (!call || af_emu_run_stub(st->e, j, call, sink, leg, &st->fs, &skip) != AF_OK) {
    sink->end(sink->u, j, leg, AF_LEG_SKIP, skip ? skip : "emu-cc: cannot run this case", NULL, 0);
    return;
  }
  sink->end(sink->u, j, leg, st->fs.n ? AF_LEG_FAIL : AF_LEG_PASS, NULL, st->fs.f, st->fs.n);
}

static void emu_cc_fini(void *state) {
  leg_state *st = state;
  if (!st) return;
  af_emu_free(st->e);
  af_stub_pool_free(st->pool);
  free(st);
}

const af_leg af_leg_emu_cc = {
    "emu-cc",
    "sanity: a clang-compiled caller stub calls the JIT entry and the whole call runs in Unicorn; "
    "the emulator's checks must find nothing on compiler-generated code",
    0, /* a sanity leg of the emulator, not of the JIT: on with --legs emu-cc */
    emu_cc_init,
    emu_cc_submit,
    NULL,
    emu_cc_fini};
