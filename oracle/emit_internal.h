/* emit_internal.h - pieces of the C emitter that the stub emitter (stubs.c) shares (oracle/). */
#ifndef ABIFUZZ_ORACLE_EMIT_INTERNAL_H
#define ABIFUZZ_ORACLE_EMIT_INTERNAL_H

#include <stddef.h>
#include <stdio.h>

#include "gen.h"

/* Names type t in C into buf (a scalar's spelling or the emitter's own typedef name). */
typedef const char *(*emit_ctype_fn)(const void *emitter, int t, char *buf, size_t n);

/* Writes the typedef and definition of aggregate or array type t (its member types already
 * written), named `name`: fields f<i>, bit-fields, zero-width ones, _Alignas, packed and
 * aligned(N) as the case model says. The layout checks (_Static_assert) stay with the caller. */
void emit_type_def(FILE *o, const af_case *c, int t, const char *name, emit_ctype_fn ctype,
                   const void *emitter);

#endif
