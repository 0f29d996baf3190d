/* elf_load.h - loads an x86-64 ELF relocatable object (a compiler's `-c` output) into this
 * process without a linker: sections, symbols, relocations, a GOT and PLT for imports. */
#ifndef ABIFUZZ_BACKEND_ELF_LOAD_H
#define ABIFUZZ_BACKEND_ELF_LOAD_H

#include <stddef.h>

#include "gen.h"

typedef struct be_elf be_elf;

/* Where an undefined symbol goes: the resolver's answer, else runtime_syms.c's table, else
 * dlsym(RTLD_DEFAULT). NULL from all three: AF_ERR_INVALID "undefined symbol NAME" (a weak
 * undefined symbol resolves to address 0 instead). r may be NULL. */
typedef const void *(*be_elf_resolver)(void *u, const char *name);

/* Loads obj[0..n) (ET_REL, EM_X86_64, ELFCLASS64). The object's bytes are not referenced
 * after the call. Anything else, a malformed or truncated object, TLS, a relocation this
 * loader does not know or whose value does not fit: AF_ERR_INVALID with a one-line err.
 * AF_ERR_NOMEM / AF_ERR_RUNTIME when memory cannot be mapped or protected.
 *
 * The image is one mapping: text + PLT (read+execute), read-only data + .data.rel.ro + GOT
 * (read-only), data + bss + COMMON (read+write); never writable and executable at once.
 * Not loaded: .eh_frame, notes, debug and other non-SHF_ALLOC sections, and their
 * relocations. Constructors (.init_array) are loaded but never run. Calls to
 * undefined functions go through a PLT entry inside the image, so PC32/PLT32 always reach.
 * An object with R_X86_64_32/32S relocations (-fno-pic) is mapped in the low 2 GiB; one
 * whose PC32 relocations name undefined data (-fpie, `extern` arrays) is mapped within
 * +-2 GiB of that data when possible. So data a resolver hands to -fno-pic / -fpie code
 * should lie in the low 2 GiB (imports.c's object table does); functions may be anywhere. */
af_status be_elf_load(const void *obj, size_t n, be_elf_resolver r, void *u, be_elf **out,
                      af_error *err);

/* A symbol the object defines (functions and objects; global or local: a global wins over a
 * local of the same name), NULL if none; *size = st_size when size is non-NULL. */
const void *be_elf_sym(const be_elf *e, const char *name, size_t *size);

/* The loaded image's executable range (text + PLT), for af_jit_ext.size / crash reports.
 * *lo = NULL, *len = 0 when the object has no code. */
void be_elf_text_range(const be_elf *e, const void **lo, size_t *len);

/* Unmaps the image; e may be NULL. Every address from e dies with it. */
void be_elf_free(be_elf *e);

/* runtime_syms.c: the compiler runtime routines (libgcc) compiled code may call that are
 * not in libc's dynamic symbol table (__divti3, __extendhfsf2, ...); NULL if absent. tcc's
 * libtcc1 helpers (__va_arg: tcc's va_arg; __floatundidf ...) are there when the build found
 * libtcc1.a (backend/elf.cmake, AF_HAVE_LIBTCC1): be_runtime_sym("__va_arg") says which. */
const void *be_runtime_sym(const char *name);
/* The table's entries, for tests: i in [0, be_runtime_sym_count()). */
int be_runtime_sym_count(void);
const char *be_runtime_sym_name(int i);

#endif
