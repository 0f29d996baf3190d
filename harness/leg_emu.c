/* leg_emu.c - the `emu` leg: Unicorn runs the JIT's entry instruction by instruction (emu.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu.h"
#include "legs.h"

/* The garbage pattern of the emu leg's undefined registers and stack bytes. */
#define EMU_GARBAGE 0xe3a11ba6e5eedull

typedef struct {
  af_emu *e;
  af_findings fs;
} leg_state;

static af_status emu_init(const af_legs_cfg *cfg, void **state, af_error *err) {
  leg_state *st = calloc(1, sizeof *st);
  if (!st) return AF_ERR_NOMEM;
  af_emu_cfg ec = {.garbage = EMU_GARBAGE ^ (cfg ? cfg->seed : 0)}; /* default budgets */
  af_status s = af_emu_new(&ec, &st->e, err);
  if (s != AF_OK) {
    free(st);
    return s;
  }
  *state = st;
  return AF_OK;
}

static void emu_submit(void *state, af_job *j, const af_leg_sink *sink) {
  leg_state *st = state;
  const char *leg = "emu", *skip = NULL;
  memset(&st->fs, 0, sizeof st->fs);
  if (af_emu_run(st->e, j, sink, leg, &st->fs, &skip) != AF_OK) {
    sink->end(sink->u, j, leg, AF_LEG_SKIP, skip ? skip : "emu: cannot run this case", NULL, 0);
    return;
  }
  sink->end(sink->u, j, leg, st->fs.n ? AF_LEG_FAIL : AF_LEG_PASS, NULL, st->fs.f, st->fs.n);
}

static void emu_fini(void *state) {
  leg_state *st = state;
  if (!st) return;
  af_emu_free(st->e);
  free(st);
}

const af_leg af_leg_emu = {
    "emu",
    "Unicorn runs the JIT code instruction by instruction: every call site's alignment, every "
    "stack write (red zone, below RSP, caller's frame), reads of unwritten stack, callee-saved "
    "registers; host functions answered at trap addresses from the interpreter's trace",
    0, /* ~4 ms of CPU per case (doc/emulator.md): on with --legs emu */
    emu_init,
    emu_submit,
    NULL,
    emu_fini};
