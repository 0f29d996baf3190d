/* debug.h - debugging support for JIT code: function extents, frames, gdb JIT interface, perf map.
 */
#ifndef ABIFUZZ_JIT_DEBUG_H
#define ABIFUZZ_JIT_DEBUG_H

#include <stddef.h>
#include <stdint.h>

#include "jit.h"

/* Nothing here is recomputed: af_jit_compile (jit.c) keeps, per function, its address, its code
 * size (the lowering's buffer length) and the frame layout lower_function reported
 * (lower_frame, lower.h), plus the runner thunk's address and size; debug.c reads them through
 * jit_record (lower.h). The only thing read from the code is frame_code, what the prologue's
 * sub rsp really reserves, which a frame mutant changes. */

/* Where function k's code lies and what its frame looks like. */
typedef struct {
  int index;          /* function index k */
  char name[32];      /* "abifuzz_f<k>" */
  uint64_t addr;      /* entry address (af_jit_fn) */
  uint64_t size;      /* bytes of code from addr */
  int32_t frame;      /* bytes below rbp lower.c laid out, a multiple of 16 (odd under
                         misaligned-calls, which lays out an odd frame) */
  int32_t frame_code; /* what the prologue's sub rsp really reserves (-1: not found); differs
                         from frame only under a mutant that leaves part of the frame below
                         rsp */
  int32_t w64_save;   /* bytes of saved callee-saved registers below rbp (lower_save_size) */
  uint64_t saved;     /* which registers are saved there (bit per af_reg; lower_save_disp) */
  int32_t slots_end;  /* rbp displacement of the lowest value slot */
  int32_t sret_save;  /* rbp displacement of the saved sret pointer, 0 if none */
  int32_t va_save;    /* SysV variadic register save area, 0 if none */
  int32_t copy_area;  /* by-reference copy area (displacement, bytes) */
  int32_t copy_size;
  int32_t out_size;   /* outgoing argument area at [rsp] */
  int nlocals;        /* LOCAL regions in the frame */
  int32_t locals_end; /* rbp displacement of the lowest LOCAL region (slots_end if none) */
} jit_debug_fn;

/* Fills *out for function k of j, from what af_jit_compile recorded (the options, mutants
 * included, are those of the compilation). The frame fields are lower.c's layout as the code
 * uses it; frame_code shows what the prologue reserves. AF_ERR_INVALID for a bad k,
 * AF_ERR_UNSUPPORTED when the compilation's host_fns[k] replaces the function. */
af_status jit_debug_describe(const af_jit *j, int k, jit_debug_fn *out, af_error *err);

/* The runner thunk (named abifuzz_runner, index -1, no frame fields). */
af_status jit_debug_runner(const af_jit *j, jit_debug_fn *out, af_error *err);

/* Names an absolute address the code embeds: a runtime helper of lower_rt.c (jit_rt_fold ...)
 * or a function's entry (abifuzz_f<k>), written into buf; NULL if unknown. */
const char *jit_debug_symbolize(const af_case *c, const af_jit *j, uint64_t addr, char *buf,
                                size_t n);

/* ---- gdb's JIT interface (gdb manual, "JIT Compilation Interface") ----------------------
 * Registering builds an in-memory ELF64 relocatable object with one SHT_NOBITS section per
 * function (sh_addr = its code address) and a .symtab naming each one abifuzz_f<k> (and the
 * runner thunk abifuzz_runner), links it
 * into __jit_debug_descriptor and calls __jit_debug_register_code, where gdb keeps a
 * breakpoint. These two symbols are global by gdb's protocol; a mutex guards the list.
 * With ABIFUZZ_PERF_MAP=1 in the environment, registering also appends "ADDR SIZE name" lines
 * to /tmp/perf-<pid>.map for perf. af_jit_compile registers every compiled case (after sealing)
 * and af_jit_free unregisters it: nobody else needs to. Host_fns functions get no symbol. */
typedef struct jit_debug_reg jit_debug_reg;

/* One more registration of j's code (tests; the one af_jit_compile made stays). */
af_status jit_debug_register(const af_jit *j, jit_debug_reg **out, af_error *err);
/* Room for a registration and its image in the caller's memory (jit_debug_register_in): a
 * case of 16 functions needs ~2.5 KB. */
typedef union {
  max_align_t align;
  unsigned char bytes[3072];
} jit_debug_storage;
/* jit_debug_register with the registration and its image in *st (allocated instead if they do
 * not fit): af_jit_compile keeps it in the compile's one allocation, not a calloc per compile.
 * st must outlive the registration. */
af_status jit_debug_register_in(const af_jit *j, jit_debug_storage *st, jit_debug_reg **out,
                                af_error *err);
/* Unlinks and frees the registration (before af_jit_free); r may be NULL. */
void jit_debug_unregister(jit_debug_reg *r);
/* The registration's ELF image, for tests. */
const void *jit_debug_image(const jit_debug_reg *r, size_t *size);

/* Builds the ELF image alone for n functions into a malloc'd buffer (*image, *size). */
af_status jit_debug_elf(const jit_debug_fn *fns, int n, uint8_t **image, size_t *size);

#endif
