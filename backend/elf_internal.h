/* elf_internal.h - the ELF loader's working state, shared by elf_load.c and elf_reloc.c. */
#ifndef ABIFUZZ_BACKEND_ELF_INTERNAL_H
#define ABIFUZZ_BACKEND_ELF_INTERNAL_H

#include <elf.h>
#include <stdint.h>

#include "elf_load.h"

/* The image's three parts, each starting on a page: what gets which protection. */
enum { SEG_TEXT, SEG_RO, SEG_DATA, NSEG };

#define ELF_PLT_ENTRY 8 /* jmp qword [rip+disp32] (FF 25 disp32), int3 x2 */

typedef struct {
  const Elf64_Shdr *sh; /* in the object */
  int load;             /* 1: mapped (SHF_ALLOC, not skipped) */
  int seg;              /* SEG_*, when load */
  size_t off;           /* offset in the image, when load */
  const void *table;    /* elf_table's aligned view of its data, once asked for */
} elf_sec;

/* Per symbol-table entry: what the relocations need. */
enum {
  SYM_NEW,     /* not looked at yet */
  SYM_PENDING, /* checked, in the image: its address once the image is mapped */
  SYM_DONE,    /* addr is final */
};
typedef struct {
  uint64_t addr; /* its address once resolved */
  int32_t got;   /* GOT slot, -1 none */
  int32_t plt;   /* PLT entry, -1 none */
  uint8_t state; /* SYM_* */
  uint8_t inimg; /* 1: defined in the image (a section, COMMON, the GOT) */
  uint8_t undef; /* 1: from outside the object (resolver, runtime table, dlsym) */
  uint8_t near;  /* 1: undefined and named by a PC-relative data reference */
} elf_symx;

typedef struct {
  const uint8_t *obj;
  size_t n;
  const Elf64_Shdr *sh;
  size_t shnum;
  const char *shstr; /* section names, NUL-terminated table */
  size_t shstrsz;
  elf_sec *sec;
  size_t symtab; /* section index of SHT_SYMTAB, 0 if none */
  const Elf64_Sym *sym;
  size_t nsym;
  const char *str; /* symbol names, NUL-terminated table */
  size_t strsz;
  const Elf32_Word *shndx; /* SHT_SYMTAB_SHNDX entries (nsym of them), or NULL */
  elf_symx *sx;
  size_t ngot, nplt;
  int low;                 /* 1: something needs the image in the low 2 GiB (R_X86_64_32/32S) */
  uint64_t nearlo, nearhi; /* range of undefined PC32 data targets (near) */
  int has_near;
  size_t segoff[NSEG], segsize[NSEG]; /* page-aligned parts of the image */
  size_t gotoff, pltoff, size;
  uint8_t *base; /* the mapping */
  be_elf_resolver r;
  void *u;
  af_error *err;
  void *copies; /* aligned copies of misaligned tables (a list, freed with the context) */
} elf_ctx;

/* elf_load.c */
af_status elf_fail(elf_ctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *elf_sec_name(const elf_ctx *x, size_t i);
const char *elf_sym_name(const elf_ctx *x, size_t i);
/* The section index of symbol i, SHN_XINDEX resolved; SHN_UNDEF..SHN_HIRESERVE kept. */
size_t elf_sym_shndx(const elf_ctx *x, size_t i);
/* Section i's data (in the file, checked by the caller), where entries of the given
 * alignment can be read in place: the object itself, or a copy when the file has the table
 * at an offset that is not a multiple of it (tcc writes such files). NULL: out of memory. */
const void *elf_table(elf_ctx *x, size_t i, size_t align);
/* Resolves symbol i (x->sx[i].addr). Before the image is mapped only undefined and absolute
 * symbols can be resolved (in_image says the symbol lies in the image instead). */
af_status elf_sym_resolve(elf_ctx *x, size_t i, int *in_image);

/* elf_reloc.c */
/* Pass 1, before layout: validates every relocation section that targets a loaded section,
 * resolves the undefined symbols they name, counts GOT slots and PLT entries, and decides
 * whether the image must be low or near some data. */
af_status elf_reloc_scan(elf_ctx *x);
/* Pass 2, the image mapped read+write: fills the GOT and PLT, applies every relocation. */
af_status elf_reloc_apply(elf_ctx *x);

#endif
