/* leg_emu.c - the `emu` (xi) and `emu-unicorn` legs: JIT code run instruction by instruction
 * (emu.h). */
#include <stdio.h>
#include <stdlib.h>

#include "emu.h"
#include "legs.h"

/* The garbage pattern of the emu legs' undefined registers and stack bytes: the same on both
 * engines, so that they run the very same bytes and must give the very same findings. */
#define EMU_GARBAGE 0xe3a11ba6e5eedull

typedef struct {
  af_emu *e;
  const char *leg;
  af_findings fs;
} leg_state;

static af_status init_on(const af_legs_cfg *cfg, int engine, const char *leg, void **state,
                         af_error *err) {
  leg_state *st = calloc(1, sizeof *st);
  if (!st) return AF_ERR_NOMEM;
  af_emu_cfg ec = {.garbage = EMU_GARBAGE ^ (cfg ? cfg->seed : 0), .engine = engine};
  af_status s = af_emu_new(&ec, &st->e, err); /* default budgets */
  if (s != AF_OK) {
    free(st);
    return s;
  }
  st->leg = leg;
  *state = st;
  return AF_OK;
}

static af_status emu_init(const af_legs_cfg *cfg, void **state, af_error *err) {
  return init_on(cfg, AF_EMU_XI, "emu", state, err);
}

static af_status emu_unicorn_init(const af_legs_cfg *cfg, void **state, af_error *err) {
  return init_on(cfg, AF_EMU_UNICORN, "emu-unicorn", state, err);
}

static void emu_submit(void *state, af_job *j, const af_leg_sink *sink) {
  leg_state *st = state;
  const char *skip = NULL;
  st->fs.n = st->fs.dropped = 0; /* af_findings_add writes each entry whole */
  if (af_emu_run(st->e, j, sink, st->leg, &st->fs, &skip) != AF_OK) {
    sink->end(sink->u, j, st->leg, AF_LEG_SKIP, skip ? skip : "emu: cannot run this case", NULL, 0);
    return;
  }
  sink->end(sink->u, j, st->leg, st->fs.n ? AF_LEG_FAIL : AF_LEG_PASS, NULL, st->fs.f, st->fs.n);
}

static void emu_fini(void *state) {
  leg_state *st = state;
  if (!st) return;
  af_emu_free(st->e);
  free(st);
}

const af_leg af_leg_emu = {
    "emu",
    "the xi interpreter runs the JIT code instruction by instruction: every call site's "
    "alignment, every stack write (red zone, below RSP, caller's frame), reads of unwritten "
    "stack, callee-saved registers; host functions answered at trap addresses from the "
    "interpreter's trace",
    0, /* off by default (doc/emulator.md "Cost"): on with --legs emu */
    emu_init,
    emu_submit,
    NULL,
    emu_fini};

const af_leg af_leg_emu_unicorn = {
    "emu-unicorn",
    "the emu leg's checks with Unicorn (QEMU's TCG) as the engine: the cross-check of xi "
    "(--legs emu,emu-unicorn: both must agree); ~2 ms of CPU per case",
    0, /* translation per case: on with --legs emu-unicorn */
    emu_unicorn_init,
    emu_submit,
    NULL,
    emu_fini};
