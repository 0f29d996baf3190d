/* text_internal.h - what the .case printer and parser share (private to gen/). */
#ifndef ABIFUZZ_TEXT_INTERNAL_H
#define ABIFUZZ_TEXT_INTERNAL_H

#include "gen.h"

/* Comparison mnemonics, indexed by af_cmp: "eq" "ne" "lt" "le". */
extern const char *const af_text_cmp_names[AF_CMP_COUNT];

/* The first header line, followed by the generator version and '\n'. */
#define AF_TEXT_HEADER1 "# abifuzz case, generator "
/* Hex bytes per printed line of objects and long values. */
#define AF_TEXT_HEX_LINE 32

#endif
