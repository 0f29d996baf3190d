/* verify_internal.h - verifier pieces shared by verify*.c and the .case parser (private to gen/).
 */
#ifndef ABIFUZZ_VERIFY_INTERNAL_H
#define ABIFUZZ_VERIFY_INTERNAL_H

#include "gen.h"

/* Checks the type table without its layout (ids, kinds, fields, bit-fields,
 * the union member rule, alignment values): what must hold before af_layout
 * runs. AF_OK or AF_ERR_INVALID with a sentence naming the type. */
af_status af_verify_types_shape(const af_case *c, af_error *err);

/* af_verify with the freshness check (af_layout run again on a copy of the type table, its
 * result compared) only when check_fresh: for a caller that has just run af_layout on the case
 * itself (the generator), where that check cannot fail and was 3% of generating a case. */
af_status vfy_case(const af_case *c, af_error *err, int check_fresh);

/* The rest are the verifier's own building blocks. */

/* err->msg = "<prefix>: <formatted>"; returns AF_ERR_INVALID. */
af_status vfy_fail(af_error *err, const char *prefix, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Appends v in decimal at p (no terminator); returns the end. The place names of failing
 * checks are built with it instead of snprintf, which cost more than the checks. */
char *vfy_put_int(char *p, int v);

/* A type name that is safe for any id ("i32", "t21", "type#-3"). */
const char *vfy_tname(const af_case *c, int type, char *buf, size_t n);

/* 1 if `type` may be the type of a value: defined, not void, not an array. */
int vfy_is_value_type(const af_case *c, int type);

/* Checks a value (input or constant) of its own type: size, ptr object,
 * bool bytes, canonical f80 encodings, recursively inside aggregates. */
af_status vfy_value(const af_case *c, const af_value *v, int allow_ptr, const char *where,
                    af_error *err);

/* Checks the bodies of every function (verify_body.c). */
af_status vfy_bodies(const af_case *c, af_error *err);

#endif
