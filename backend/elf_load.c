/* elf_load.c - loads an x86-64 ELF relocatable object: headers, sections, symbols, the image. */
#define _GNU_SOURCE /* MAP_32BIT, MAP_FIXED_NOREPLACE, RTLD_DEFAULT */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "elf_internal.h"

/* The largest image we map: far beyond any compiled case, small enough that a malformed
 * SHT_NOBITS size cannot ask for the address space. */
#define ELF_MAX_IMAGE ((size_t)1 << 28)
#define ELF_MAX_ALIGN 4096
#define PAGE          4096

struct be_elf_ent {
  uint64_t addr, size;
  uint32_t name; /* offset in names; 0: empty slot */
  uint32_t hash;
  uint8_t global;
};

struct be_elf {
  uint8_t *base;
  size_t size;
  const uint8_t *text;
  size_t textlen;
  struct be_elf_ent *tab; /* open addressing, cap a power of two */
  size_t cap;
  char *names; /* a copy of the object's symbol string table */
};

af_status elf_fail(elf_ctx *x, const char *fmt, ...) {
  if (x->err) {
    va_list ap;
    va_start(ap, fmt);
    int k = snprintf(x->err->msg, sizeof x->err->msg, "ELF object: ");
    vsnprintf(x->err->msg + k, sizeof x->err->msg - (size_t)k, fmt, ap);
    va_end(ap);
    /* Names come from the object: keep the message one printable line. */
    for (char *p = x->err->msg; *p; p++)
      if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f) *p = '?';
  }
  return AF_ERR_INVALID;
}

const char *elf_sec_name(const elf_ctx *x, size_t i) {
  if (i >= x->shnum || !x->shstr) return "?";
  size_t o = x->sec[i].sh->sh_name;
  return o < x->shstrsz ? x->shstr + o : "?";
}

const char *elf_sym_name(const elf_ctx *x, size_t i) {
  if (i >= x->nsym) return "?";
  size_t o = x->sym[i].st_name;
  if (o >= x->strsz) return "?";
  if (!x->str[o] && ELF64_ST_TYPE(x->sym[i].st_info) == STT_SECTION)
    return elf_sec_name(x, elf_sym_shndx(x, i));
  return x->str + o;
}

size_t elf_sym_shndx(const elf_ctx *x, size_t i) {
  size_t s = x->sym[i].st_shndx;
  if (s == SHN_XINDEX) return x->shndx ? x->shndx[i] : SHN_UNDEF;
  return s;
}

/* [off, off+len) lies in the object. */
static int in_file(const elf_ctx *x, uint64_t off, uint64_t len) {
  return off <= x->n && len <= x->n - off;
}

/* A copy of n bytes at p in 16-byte aligned memory owned by x. */
static const void *aligned_copy(elf_ctx *x, const void *p, size_t n) {
  void **blk = malloc(16 + n);
  if (!blk) return NULL;
  blk[0] = x->copies;
  x->copies = blk;
  return memcpy((char *)blk + 16, p, n);
}

const void *elf_table(elf_ctx *x, size_t i, size_t align) {
  elf_sec *s = &x->sec[i];
  if (!s->table) {
    const uint8_t *p = x->obj + s->sh->sh_offset;
    s->table = (uintptr_t)p % align ? aligned_copy(x, p, s->sh->sh_size) : p;
  }
  return s->table;
}

/* A string table: in the file, non-empty, NUL-terminated at its end. */
static af_status str_table(elf_ctx *x, size_t i, const char **s, size_t *sz) {
  if (i == 0 || i >= x->shnum) return elf_fail(x, "string table index %zu out of range", i);
  const Elf64_Shdr *h = x->sec[i].sh;
  if (h->sh_type != SHT_STRTAB || h->sh_size == 0 || !in_file(x, h->sh_offset, h->sh_size) ||
      x->obj[h->sh_offset + h->sh_size - 1] != 0)
    return elf_fail(x, "section %zu is not a valid string table", i);
  *s = (const char *)x->obj + h->sh_offset;
  *sz = h->sh_size;
  return AF_OK;
}

/* The ELF header and section headers (gABI "ELF Header", "Sections"; extended numbering when
 * e_shnum / e_shstrndx overflow 16 bits). */
static af_status parse_headers(elf_ctx *x) {
  if (x->n < sizeof(Elf64_Ehdr)) return elf_fail(x, "truncated ELF header (%zu bytes)", x->n);
  Elf64_Ehdr ehc; /* copied: obj need not be aligned */
  memcpy(&ehc, x->obj, sizeof ehc);
  const Elf64_Ehdr *eh = &ehc;
  if (!memcmp(eh->e_ident, "BC\xc0\xde", 4))
    return elf_fail(x, "LLVM bitcode (-flto?), not an ELF object");
  if (memcmp(eh->e_ident, ELFMAG, SELFMAG)) return elf_fail(x, "not an ELF file");
  if (eh->e_ident[EI_CLASS] != ELFCLASS64) return elf_fail(x, "not ELFCLASS64");
  if (eh->e_ident[EI_DATA] != ELFDATA2LSB) return elf_fail(x, "not little-endian");
  if (eh->e_ident[EI_VERSION] != EV_CURRENT) return elf_fail(x, "unknown ELF version");
  if (eh->e_type != ET_REL)
    return elf_fail(x, "not a relocatable object (e_type %u)", (unsigned)eh->e_type);
  if (eh->e_machine != EM_X86_64)
    return elf_fail(x, "not x86-64 (e_machine %u)", (unsigned)eh->e_machine);
  if (eh->e_shentsize != sizeof(Elf64_Shdr))
    return elf_fail(x, "section header size %u", (unsigned)eh->e_shentsize);
  if (eh->e_shoff == 0) return elf_fail(x, "no section headers");
  if (!in_file(x, eh->e_shoff, sizeof(Elf64_Shdr)))
    return elf_fail(x, "section header table at 0x%llx out of range",
                    (unsigned long long)eh->e_shoff);
  Elf64_Shdr sh0;
  memcpy(&sh0, x->obj + eh->e_shoff, sizeof sh0);
  uint64_t shnum = eh->e_shnum ? eh->e_shnum : sh0.sh_size;
  if (shnum == 0 || shnum > (x->n - eh->e_shoff) / sizeof(Elf64_Shdr))
    return elf_fail(x, "section header table (%llu entries) out of range",
                    (unsigned long long)shnum);
  x->sh = (const Elf64_Shdr *)(x->obj + eh->e_shoff);
  if ((uintptr_t)x->sh % 8) x->sh = aligned_copy(x, x->sh, shnum * sizeof(Elf64_Shdr));
  if (!x->sh) return AF_ERR_NOMEM;
  x->shnum = shnum;
  x->sec = calloc(x->shnum, sizeof *x->sec);
  if (!x->sec) return AF_ERR_NOMEM;
  for (size_t i = 0; i < x->shnum; i++) {
    const Elf64_Shdr *h = &x->sh[i];
    x->sec[i].sh = h;
    if (h->sh_type != SHT_NOBITS && h->sh_type != SHT_NULL && !in_file(x, h->sh_offset, h->sh_size))
      return elf_fail(x, "section %zu data out of range", i);
  }
  size_t stri = eh->e_shstrndx == SHN_XINDEX ? x->sh[0].sh_link : eh->e_shstrndx;
  return str_table(x, stri, &x->shstr, &x->shstrsz);
}

/* Which sections are mapped, and where each goes by its flags. */
static af_status classify_sections(elf_ctx *x) {
  int lto = 0, code = 0;
  for (size_t i = 1; i < x->shnum; i++) {
    const Elf64_Shdr *h = x->sec[i].sh;
    const char *name = elf_sec_name(x, i);
    if (!strncmp(name, ".gnu.lto_", 9)) lto = 1;
    if ((h->sh_flags & SHF_EXECINSTR) && h->sh_size) code = 1;
    if (h->sh_type == SHT_SYMTAB) {
      if (x->symtab) return elf_fail(x, "more than one symbol table");
      x->symtab = i;
    }
    if (!(h->sh_flags & SHF_ALLOC) || h->sh_type == SHT_NULL) continue;
    /* Unwind tables and notes are for debuggers and the system linker: not loaded, and their
     * relocations are skipped with them. */
    if (h->sh_type == SHT_NOTE || h->sh_type == SHT_X86_64_UNWIND || !strcmp(name, ".eh_frame") ||
        h->sh_type == SHT_GROUP)
      continue;
    if (h->sh_flags & SHF_TLS)
      return elf_fail(x, "thread-local storage (section %s) is not supported", name);
    if ((h->sh_flags & SHF_WRITE) && (h->sh_flags & SHF_EXECINSTR))
      return elf_fail(x, "section %s is writable and executable", name);
    uint64_t al = h->sh_addralign;
    if (al & (al - 1))
      return elf_fail(x, "section %s alignment %llu", name, (unsigned long long)al);
    if (al > ELF_MAX_ALIGN)
      return elf_fail(x, "section %s alignment %llu exceeds %d", name, (unsigned long long)al,
                      ELF_MAX_ALIGN);
    if (h->sh_size > ELF_MAX_IMAGE)
      return elf_fail(x, "section %s too large (%llu bytes)", name, (unsigned long long)h->sh_size);
    x->sec[i].load = 1;
    /* .data.rel.ro (.ldata.rel.ro: the large model's) is writable only for the dynamic
     * linker's relocations; ours are done before the protections, so it is read-only like a
     * linked program's RELRO. */
    int relro = !strncmp(name, ".data.rel.ro", 12) || !strncmp(name, ".ldata.rel.ro", 13);
    x->sec[i].seg = (h->sh_flags & SHF_EXECINSTR)         ? SEG_TEXT
                    : (h->sh_flags & SHF_WRITE) && !relro ? SEG_DATA
                                                          : SEG_RO;
  }
  if (lto && !code)
    return elf_fail(x, "only GCC LTO bytecode, no code (-flto without -ffat-lto-objects)");
  return AF_OK;
}

/* The symbol table, its names and extended section indices. */
static af_status parse_symbols(elf_ctx *x) {
  if (!x->symtab) return AF_OK;
  const Elf64_Shdr *h = x->sec[x->symtab].sh;
  if (h->sh_entsize != sizeof(Elf64_Sym) || h->sh_size % sizeof(Elf64_Sym) ||
      !in_file(x, h->sh_offset, h->sh_size))
    return elf_fail(x, "malformed symbol table");
  x->sym = elf_table(x, x->symtab, 8);
  if (!x->sym) return AF_ERR_NOMEM;
  x->nsym = h->sh_size / sizeof(Elf64_Sym);
  af_status s = str_table(x, h->sh_link, &x->str, &x->strsz);
  if (s != AF_OK) return s;
  for (size_t i = 1; i < x->shnum; i++) {
    const Elf64_Shdr *t = x->sec[i].sh;
    if (t->sh_type != SHT_SYMTAB_SHNDX || t->sh_link != x->symtab) continue;
    if (t->sh_size / 4 < x->nsym || !in_file(x, t->sh_offset, t->sh_size))
      return elf_fail(x, "malformed extended section index table");
    x->shndx = elf_table(x, i, 4);
    if (!x->shndx) return AF_ERR_NOMEM;
  }
  x->sx = calloc(x->nsym ? x->nsym : 1, sizeof *x->sx);
  if (!x->sx) return AF_ERR_NOMEM;
  for (size_t i = 0; i < x->nsym; i++) {
    x->sx[i].got = x->sx[i].plt = -1;
    if (x->sym[i].st_name >= x->strsz) return elf_fail(x, "symbol %zu name out of range", i);
  }
  return AF_OK;
}

/* First sight of symbol i: checks it, resolves it if it comes from outside the image. */
static af_status sym_first(elf_ctx *x, size_t i) {
  elf_symx *sx = &x->sx[i];
  const Elf64_Sym *s = &x->sym[i];
  const char *name = elf_sym_name(x, i);
  int type = ELF64_ST_TYPE(s->st_info);
  size_t shndx = elf_sym_shndx(x, i);
  sx->state = SYM_DONE;
  if (i == 0) return AF_OK; /* the null symbol: S = 0 */
  if (type == STT_TLS) return elf_fail(x, "thread-local symbol %s is not supported", name);
  if (type == STT_GNU_IFUNC) return elf_fail(x, "IFUNC symbol %s is not supported", name);
  if (shndx == SHN_UNDEF) {
    if (!strcmp(name, "_GLOBAL_OFFSET_TABLE_")) { /* the large model's GOT base */
      sx->inimg = 1;
      sx->state = SYM_PENDING;
      return AF_OK;
    }
    const void *p = x->r ? x->r(x->u, name) : NULL;
    if (!p) p = be_runtime_sym(name);
    if (!p && name[0]) p = dlsym(RTLD_DEFAULT, name);
    if (!p && ELF64_ST_BIND(s->st_info) != STB_WEAK)
      return elf_fail(x, "undefined symbol %s", name);
    sx->addr = (uint64_t)(uintptr_t)p;
    sx->undef = 1;
    return AF_OK;
  }
  if (shndx == SHN_ABS) {
    sx->addr = s->st_value;
    return AF_OK;
  }
  if (shndx != SHN_COMMON) {
    if (shndx >= SHN_LORESERVE && shndx <= SHN_HIRESERVE)
      return elf_fail(x, "symbol %s has unsupported section index 0x%zx", name, shndx);
    if (shndx >= x->shnum)
      return elf_fail(x, "symbol %s section index %zu out of range", name, shndx);
    if (!x->sec[shndx].load)
      return elf_fail(x, "symbol %s is in section %s, which is not loaded", name,
                      elf_sec_name(x, shndx));
    if (s->st_value > x->sec[shndx].sh->sh_size)
      return elf_fail(x, "symbol %s value out of its section", name);
  }
  sx->inimg = 1;
  sx->state = SYM_PENDING;
  return AF_OK;
}

af_status elf_sym_resolve(elf_ctx *x, size_t i, int *in_image) {
  elf_symx *sx = &x->sx[i];
  if (sx->state == SYM_NEW) {
    af_status s = sym_first(x, i);
    if (s != AF_OK) {
      sx->state = SYM_NEW; /* asked again, it fails again */
      return s;
    }
  }
  *in_image = sx->inimg;
  if (sx->state == SYM_PENDING && x->base) {
    size_t shndx = elf_sym_shndx(x, i);
    uint64_t base = (uint64_t)(uintptr_t)x->base;
    if (shndx == SHN_UNDEF) /* _GLOBAL_OFFSET_TABLE_ */
      sx->addr = base + x->gotoff;
    else if (shndx == SHN_COMMON)
      sx->addr += base; /* addr held its offset in the image (layout) */
    else
      sx->addr = base + x->sec[shndx].off + x->sym[i].st_value;
    sx->state = SYM_DONE;
  }
  return AF_OK;
}

static size_t align_up(size_t v, size_t a) { return (v + a - 1) & ~(a - 1); }

/* Offsets of every loaded section, COMMON symbol, the GOT and the PLT; three page-aligned
 * parts: text + PLT, read-only data + GOT, data + bss + COMMON. */
static af_status layout(elf_ctx *x) {
  size_t cur[NSEG] = {0};
  for (size_t i = 1; i < x->shnum; i++) {
    elf_sec *s = &x->sec[i];
    if (!s->load) continue;
    size_t al = s->sh->sh_addralign ? s->sh->sh_addralign : 1;
    s->off = align_up(cur[s->seg], al);
    cur[s->seg] = s->off + s->sh->sh_size;
    if (cur[s->seg] > ELF_MAX_IMAGE) return elf_fail(x, "image too large");
  }
  x->pltoff = align_up(cur[SEG_TEXT], 16);
  cur[SEG_TEXT] = x->pltoff + x->nplt * ELF_PLT_ENTRY;
  x->gotoff = align_up(cur[SEG_RO], 8);
  cur[SEG_RO] = x->gotoff + x->ngot * 8;
  for (size_t i = 1; i < x->nsym; i++) {
    if (x->sym[i].st_shndx != SHN_COMMON) continue;
    /* COMMON: st_value is the alignment (gABI "Symbol Values"). */
    uint64_t al = x->sym[i].st_value ? x->sym[i].st_value : 1;
    if ((al & (al - 1)) || al > ELF_MAX_ALIGN || x->sym[i].st_size > ELF_MAX_IMAGE)
      return elf_fail(x, "COMMON symbol %s: bad alignment or size", elf_sym_name(x, i));
    x->sx[i].addr = align_up(cur[SEG_DATA], al); /* an offset in the data part until mapped */
    cur[SEG_DATA] = x->sx[i].addr + x->sym[i].st_size;
    if (cur[SEG_DATA] > ELF_MAX_IMAGE) return elf_fail(x, "image too large");
  }
  size_t off = 0;
  for (int g = 0; g < NSEG; g++) {
    x->segoff[g] = off;
    x->segsize[g] = align_up(cur[g], PAGE);
    off += x->segsize[g];
  }
  if (off > ELF_MAX_IMAGE) return elf_fail(x, "image too large");
  x->size = off ? off : PAGE;
  for (size_t i = 1; i < x->shnum; i++)
    if (x->sec[i].load) x->sec[i].off += x->segoff[x->sec[i].seg];
  x->pltoff += x->segoff[SEG_TEXT];
  x->gotoff += x->segoff[SEG_RO];
  for (size_t i = 1; i < x->nsym; i++)
    if (x->sym[i].st_shndx == SHN_COMMON) x->sx[i].addr += x->segoff[SEG_DATA];
  return AF_OK;
}

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0 /* an old libc: the address is then only a hint */
#endif

static uint8_t *map_at(size_t size, uint64_t hint, int flags) {
  void *p = mmap((void *)(uintptr_t)hint, size, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | flags, -1, 0);
  return p == MAP_FAILED ? NULL : p;
}

/* Where the image goes. -fno-pic code (R_X86_64_32/32S against the image) needs it in the low
 * 2 GiB (psABI 3.5.1, small code model); -fpie/-fno-pic code reading undefined data with PC32
 * (it assumes the data was copied next to it) needs it within +-2 GiB of that data. Neither:
 * anywhere. A placement that cannot be had is left to the relocations to report. */
static af_status map_image(elf_ctx *x) {
  if (x->low) {
    x->base = map_at(x->size, 0, MAP_32BIT);
    if (x->base && (uint64_t)(uintptr_t)x->base + x->size > ((uint64_t)1 << 31)) {
      munmap(x->base, x->size);
      x->base = NULL;
    }
    if (!x->base) return elf_fail(x, "cannot map %zu bytes in the low 2 GiB (-fno-pic)", x->size);
    return AF_OK;
  }
  if (x->has_near) {
    /* Every image address P and target T: |T - P| < 2 GiB less a margin for addends. */
    const uint64_t reach = ((uint64_t)1 << 31) - ((uint64_t)1 << 24);
    uint64_t lo = x->nearhi > reach ? x->nearhi - reach : PAGE * 16;
    uint64_t hi = x->nearlo + reach > x->size ? x->nearlo + reach - x->size : 0;
    lo = align_up(lo, PAGE);
    hi &= ~(uint64_t)(PAGE - 1);
    /* Just below the data first (where a PIE's heap and .bss leave room), then across the
     * window. */
    const uint64_t below = (uint64_t)1 << 26;
    for (int t = -1; t < 24 && lo <= hi; t++) {
      uint64_t hint = lo + (hi - lo) / 24 * (uint64_t)(t < 0 ? 0 : t);
      if (t < 0 && x->nearlo > x->size + below && x->nearlo - x->size - below >= lo)
        hint = x->nearlo - x->size - below;
      hint &= ~(uint64_t)(PAGE - 1);
      uint8_t *p = map_at(x->size, hint, MAP_FIXED_NOREPLACE);
      if (!p) continue;
      if ((uint64_t)(uintptr_t)p >= lo && (uint64_t)(uintptr_t)p <= hi) {
        x->base = p;
        return AF_OK;
      }
      munmap(p, x->size);
    }
  }
  x->base = map_at(x->size, 0, 0);
  if (!x->base) {
    if (x->err) snprintf(x->err->msg, sizeof x->err->msg, "cannot map %zu bytes", x->size);
    return AF_ERR_NOMEM;
  }
  return AF_OK;
}

static af_status protect(elf_ctx *x) {
  static const int prot[NSEG] = {PROT_READ | PROT_EXEC, PROT_READ, PROT_READ | PROT_WRITE};
  for (int g = 0; g < NSEG; g++)
    if (x->segsize[g] && mprotect(x->base + x->segoff[g], x->segsize[g], prot[g])) {
      if (x->err) snprintf(x->err->msg, sizeof x->err->msg, "mprotect of the ELF image failed");
      return AF_ERR_RUNTIME;
    }
  return AF_OK;
}

static uint32_t name_hash(const char *s) {
  uint32_t h = 2166136261u; /* FNV-1a */
  for (; *s; s++)
    h = (h ^ (uint8_t)*s) * 16777619u;
  return h;
}

/* The table be_elf_sym searches: every named function, object or untyped symbol the image
 * defines, a global replacing a local of the same name. */
static af_status build_symtab(elf_ctx *x, be_elf *e) {
  size_t cnt = 0;
  for (size_t i = 1; i < x->nsym; i++) {
    int t = ELF64_ST_TYPE(x->sym[i].st_info);
    if (x->sym[i].st_shndx != SHN_UNDEF && x->sym[i].st_name && x->str[x->sym[i].st_name] &&
        (t == STT_FUNC || t == STT_OBJECT || t == STT_NOTYPE))
      cnt++;
  }
  if (!cnt) return AF_OK;
  e->cap = 16;
  while (e->cap < cnt * 2)
    e->cap *= 2;
  e->tab = calloc(e->cap, sizeof *e->tab);
  e->names = malloc(x->strsz);
  if (!e->tab || !e->names) return AF_ERR_NOMEM;
  memcpy(e->names, x->str, x->strsz);
  for (size_t i = 1; i < x->nsym; i++) {
    const Elf64_Sym *s = &x->sym[i];
    int t = ELF64_ST_TYPE(s->st_info);
    if (s->st_shndx == SHN_UNDEF || !s->st_name || !x->str[s->st_name] ||
        (t != STT_FUNC && t != STT_OBJECT && t != STT_NOTYPE))
      continue;
    int in_image;
    if (elf_sym_resolve(x, i, &in_image) != AF_OK) continue; /* in a skipped section */
    const char *name = x->str + s->st_name;
    uint32_t h = name_hash(name);
    int global = ELF64_ST_BIND(s->st_info) != STB_LOCAL;
    size_t k = h & (e->cap - 1);
    while (e->tab[k].name && (e->tab[k].hash != h || strcmp(e->names + e->tab[k].name, name)))
      k = (k + 1) & (e->cap - 1);
    if (e->tab[k].name && (e->tab[k].global || !global)) continue; /* keep the first global */
    e->tab[k] = (struct be_elf_ent){x->sx[i].addr, s->st_size, s->st_name, h, (uint8_t)global};
  }
  if (x->err) x->err->msg[0] = 0; /* a skipped symbol's message is not an error */
  return AF_OK;
}

af_status be_elf_load(const void *obj, size_t n, be_elf_resolver r, void *u, be_elf **out,
                      af_error *err) {
  *out = NULL;
  if (err) err->msg[0] = 0;
  elf_ctx x;
  memset(&x, 0, sizeof x);
  x.obj = obj;
  x.n = n;
  x.r = r;
  x.u = u;
  x.err = err;
  be_elf *e = NULL;
  af_status s = AF_OK;
  if (!obj) x.n = 0;
  s = parse_headers(&x);
  if (s == AF_OK) s = classify_sections(&x);
  if (s == AF_OK) s = parse_symbols(&x);
  if (s == AF_OK) s = elf_reloc_scan(&x);
  if (s == AF_OK) s = layout(&x);
  if (s == AF_OK) s = map_image(&x);
  if (s == AF_OK) {
    /* Padding between sections of the text part traps, like the codemem tail. */
    memset(x.base + x.segoff[SEG_TEXT], 0xcc, x.segsize[SEG_TEXT]);
    for (size_t i = 1; i < x.shnum; i++)
      if (x.sec[i].load && x.sec[i].sh->sh_type != SHT_NOBITS)
        memcpy(x.base + x.sec[i].off, x.obj + x.sec[i].sh->sh_offset, x.sec[i].sh->sh_size);
    s = elf_reloc_apply(&x);
  }
  if (s == AF_OK) {
    e = calloc(1, sizeof *e);
    if (!e) s = AF_ERR_NOMEM;
  }
  if (s == AF_OK) s = build_symtab(&x, e);
  if (s == AF_OK) s = protect(&x);
  if (s == AF_OK) {
    e->base = x.base;
    e->size = x.size;
    size_t tl = x.pltoff - x.segoff[SEG_TEXT] + x.nplt * ELF_PLT_ENTRY;
    if (x.segsize[SEG_TEXT] && tl) {
      e->text = x.base + x.segoff[SEG_TEXT];
      e->textlen = tl;
    }
    *out = e;
  } else {
    if (s == AF_ERR_NOMEM && err && !err->msg[0])
      snprintf(err->msg, sizeof err->msg, "out of memory");
    if (x.base) munmap(x.base, x.size);
    if (e) {
      free(e->tab);
      free(e->names);
      free(e);
    }
  }
  free(x.sec);
  free(x.sx);
  while (x.copies) {
    void **blk = x.copies;
    x.copies = blk[0];
    free(blk);
  }
  return s;
}

const void *be_elf_sym(const be_elf *e, const char *name, size_t *size) {
  if (!e || !e->cap || !name) return NULL;
  uint32_t h = name_hash(name);
  for (size_t k = h & (e->cap - 1); e->tab[k].name; k = (k + 1) & (e->cap - 1))
    if (e->tab[k].hash == h && !strcmp(e->names + e->tab[k].name, name)) {
      if (size) *size = e->tab[k].size;
      return (const void *)(uintptr_t)e->tab[k].addr;
    }
  return NULL;
}

void be_elf_text_range(const be_elf *e, const void **lo, size_t *len) {
  *lo = e ? e->text : NULL;
  *len = e ? e->textlen : 0;
}

void be_elf_free(be_elf *e) {
  if (!e) return;
  munmap(e->base, e->size);
  free(e->tab);
  free(e->names);
  free(e);
}
