/* layout_internal.h - private: laying out only the newest types of a case (layout.c). */
#ifndef ABIFUZZ_LAYOUT_INTERNAL_H
#define ABIFUZZ_LAYOUT_INTERNAL_H

#include "gen.h"

/* af_layout restricted to types [first, ntypes): a type's layout depends only on
 * earlier types (fields and elements refer to lower ids), so when every type
 * below `first` is already laid out (af_layout returned AF_OK for them), this
 * gives exactly what af_layout would, without redoing the others. The generator
 * calls it after each type it adds (af_layout of the whole table per added type
 * was a tenth of generating a case). */
af_status layout_types_from(af_case *c, int first);

#endif /* ABIFUZZ_LAYOUT_INTERNAL_H */
