/* jit.h - the JIT module's public header: case IR -> x86-64 code in W^X memory. */
#ifndef ABIFUZZ_JIT_H
#define ABIFUZZ_JIT_H

/* What the module will hold (issue "The full JIT"): lowering of a case's functions to x86-64
 * under SysV and Win64 (argument locations only from af_classify), a register allocator,
 * injectable ABI bugs, and the calls into the result. What exists now:
 *   - executable memory that is never writable and executable at once (codemem.h);
 *   - a table-driven x86-64 encoder with a Capstone-style printer (x86.h, private to jit/:
 *     the lowering pass will use it; outside jit/ nothing needs it yet). */

#include <stddef.h>

#include "codemem.h"
#include "gen.h"

/* Options of a compilation. */
typedef struct {
  const char *inject; /* a mutant's name (doc/mutants.md), NULL for a correct JIT */
} af_jit_opts;

#endif
