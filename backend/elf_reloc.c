/* elf_reloc.c - x86-64 RELA relocations for the ELF loader: the GOT, the PLT, overflow checks. */
#include <stdio.h>
#include <string.h>

#include "elf_internal.h"

/* The relocation types (psABI 4.4.1, "Relocation Types"; the large-model ones from 3.5.5).
 * Notation: S symbol value, A addend, P place, G the symbol's GOT slot offset from the GOT,
 * GOT the GOT's address, L the symbol's PLT entry, Z the symbol's size. */
typedef enum {
  W_NONE, /* not a relocation we write */
  W_U64,  /* word64 */
  W_S32,  /* word32, sign-extended */
  W_U32,  /* word32, zero-extended */
  W_B16,  /* word16, signed or unsigned */
  W_S16,
  W_B8,
  W_S8,
} width;

typedef struct {
  const char *name;
  width w;
  uint8_t got; /* needs a GOT slot */
  uint8_t plt; /* goes through a PLT entry when the symbol is undefined */
  uint8_t abs; /* an absolute value narrower than 64 bits: the image must be low */
  uint8_t pc;  /* PC-relative to S */
} rel_info;

static const rel_info *rel_lookup(unsigned type) {
  static const rel_info t[] = {
      [R_X86_64_NONE] = {"R_X86_64_NONE", W_NONE, 0, 0, 0, 0},
      [R_X86_64_64] = {"R_X86_64_64", W_U64, 0, 0, 0, 0},
      [R_X86_64_PC32] = {"R_X86_64_PC32", W_S32, 0, 0, 0, 1},
      [R_X86_64_GOT32] = {"R_X86_64_GOT32", W_S32, 1, 0, 0, 0},
      [R_X86_64_PLT32] = {"R_X86_64_PLT32", W_S32, 0, 1, 0, 0},
      [R_X86_64_GOTPCREL] = {"R_X86_64_GOTPCREL", W_S32, 1, 0, 0, 0},
      [R_X86_64_32] = {"R_X86_64_32", W_U32, 0, 0, 1, 0},
      [R_X86_64_32S] = {"R_X86_64_32S", W_S32, 0, 0, 1, 0},
      [R_X86_64_16] = {"R_X86_64_16", W_B16, 0, 0, 1, 0},
      [R_X86_64_PC16] = {"R_X86_64_PC16", W_S16, 0, 0, 0, 1},
      [R_X86_64_8] = {"R_X86_64_8", W_B8, 0, 0, 1, 0},
      [R_X86_64_PC8] = {"R_X86_64_PC8", W_S8, 0, 0, 0, 1},
      [R_X86_64_PC64] = {"R_X86_64_PC64", W_U64, 0, 0, 0, 1},
      [R_X86_64_GOTOFF64] = {"R_X86_64_GOTOFF64", W_U64, 0, 0, 0, 0},
      [R_X86_64_GOTPC32] = {"R_X86_64_GOTPC32", W_S32, 0, 0, 0, 0},
      [R_X86_64_GOT64] = {"R_X86_64_GOT64", W_U64, 1, 0, 0, 0},
      [R_X86_64_GOTPCREL64] = {"R_X86_64_GOTPCREL64", W_U64, 1, 0, 0, 0},
      [R_X86_64_GOTPC64] = {"R_X86_64_GOTPC64", W_U64, 0, 0, 0, 0},
      [R_X86_64_GOTPLT64] = {"R_X86_64_GOTPLT64", W_U64, 1, 0, 0, 0},
      [R_X86_64_PLTOFF64] = {"R_X86_64_PLTOFF64", W_U64, 0, 1, 0, 0},
      [R_X86_64_SIZE32] = {"R_X86_64_SIZE32", W_U32, 0, 0, 0, 0},
      [R_X86_64_SIZE64] = {"R_X86_64_SIZE64", W_U64, 0, 0, 0, 0},
      [R_X86_64_GOTPCRELX] = {"R_X86_64_GOTPCRELX", W_S32, 1, 0, 0, 0},
      [R_X86_64_REX_GOTPCRELX] = {"R_X86_64_REX_GOTPCRELX", W_S32, 1, 0, 0, 0},
  };
  if (type >= sizeof t / sizeof t[0] || !t[type].name) return NULL;
  return &t[type];
}

static int is_tls(unsigned type) {
  return (type >= R_X86_64_DTPMOD64 && type <= R_X86_64_TPOFF32) ||
         (type >= R_X86_64_GOTPC32_TLSDESC && type <= R_X86_64_TLSDESC);
}

static size_t width_bytes(width w) {
  switch (w) {
  case W_U64: return 8;
  case W_S32:
  case W_U32: return 4;
  case W_B16:
  case W_S16: return 2;
  case W_B8:
  case W_S8: return 1;
  default: return 0;
  }
}

/* A relocation section that applies to a loaded section: checked, its entries returned. */
static af_status rela_section(elf_ctx *x, size_t i, const Elf64_Rela **rel, size_t *nrel,
                              size_t *target) {
  const Elf64_Shdr *h = x->sec[i].sh;
  *nrel = 0;
  *target = h->sh_info;
  if (h->sh_info >= x->shnum)
    return elf_fail(x, "relocation section %s: bad target", elf_sec_name(x, i));
  if (!x->sec[h->sh_info].load) return AF_OK; /* debug info, unwind tables: skipped */
  if (h->sh_type == SHT_REL)
    return elf_fail(x, "SHT_REL relocations (%s) are not supported", elf_sec_name(x, i));
  if (!x->symtab || h->sh_link != x->symtab)
    return elf_fail(x, "relocation section %s: bad symbol table link", elf_sec_name(x, i));
  if (h->sh_entsize != sizeof(Elf64_Rela) || h->sh_size % sizeof(Elf64_Rela) ||
      h->sh_offset > x->n || h->sh_size > x->n - h->sh_offset)
    return elf_fail(x, "malformed relocation section %s", elf_sec_name(x, i));
  if (x->sec[h->sh_info].sh->sh_type == SHT_NOBITS && h->sh_size)
    return elf_fail(x, "relocations against NOBITS section %s", elf_sec_name(x, h->sh_info));
  *rel = elf_table(x, i, 8);
  if (!*rel) return AF_ERR_NOMEM;
  *nrel = h->sh_size / sizeof(Elf64_Rela);
  return AF_OK;
}

/* A PC32 to an undefined symbol from a `call rel32` / `jmp rel32` (E8 / E9, addend -4): old
 * compilers' and tcc's calls; they may go through the PLT like PLT32. */
static int call_site(const elf_ctx *x, size_t target, const Elf64_Rela *r) {
  const Elf64_Shdr *t = x->sec[target].sh;
  if (r->r_addend != -4 || r->r_offset == 0) return 0;
  uint8_t op = x->obj[t->sh_offset + r->r_offset - 1];
  return op == 0xe8 || op == 0xe9;
}

af_status elf_reloc_scan(elf_ctx *x) {
  for (size_t i = 1; i < x->shnum; i++) {
    unsigned st = x->sec[i].sh->sh_type;
    if (st != SHT_RELA && st != SHT_REL) continue;
    const Elf64_Rela *rel;
    size_t nrel, tgt;
    af_status s = rela_section(x, i, &rel, &nrel, &tgt);
    if (s != AF_OK) return s;
    uint64_t tsize = x->sec[tgt].sh->sh_size;
    for (size_t k = 0; k < nrel; k++) {
      const Elf64_Rela *r = &rel[k];
      unsigned type = ELF64_R_TYPE(r->r_info);
      size_t si = ELF64_R_SYM(r->r_info);
      const rel_info *ri = rel_lookup(type);
      if (is_tls(type))
        return elf_fail(x, "thread-local storage relocation (type %u in %s) is not supported", type,
                        elf_sec_name(x, i));
      if (!ri)
        return elf_fail(x, "relocation type %u in %s is not supported", type, elf_sec_name(x, i));
      if (ri->w == W_NONE) continue;
      if (si >= x->nsym)
        return elf_fail(x, "%s in %s: symbol %zu out of range", ri->name, elf_sec_name(x, i), si);
      size_t wb = width_bytes(ri->w);
      if (r->r_offset > tsize || wb > tsize - r->r_offset)
        return elf_fail(x, "%s at %s+0x%llx: outside the section", ri->name, elf_sec_name(x, tgt),
                        (unsigned long long)r->r_offset);
      int in_image;
      s = elf_sym_resolve(x, si, &in_image);
      if (s != AF_OK) return s;
      elf_symx *sx = &x->sx[si];
      int viaplt = sx->undef && (ri->plt || (type == R_X86_64_PC32 && call_site(x, tgt, r)));
      if (viaplt && sx->plt < 0) sx->plt = (int32_t)x->nplt++;
      if ((ri->got || viaplt) && sx->got < 0) sx->got = (int32_t)x->ngot++;
      if (ri->abs && in_image) x->low = 1;
      if (ri->pc && ri->w != W_U64 && sx->undef && !viaplt) sx->near = 1;
    }
  }
  /* The data the image must be near: undefined symbols read PC-relatively, less those the
   * object also calls (functions: their PLT entry stands in when out of reach). */
  for (size_t i = 0; i < x->nsym; i++) {
    const elf_symx *sx = &x->sx[i];
    if (!sx->near || sx->plt >= 0) continue;
    if (!x->has_near || sx->addr < x->nearlo) x->nearlo = sx->addr;
    if (!x->has_near || sx->addr > x->nearhi) x->nearhi = sx->addr;
    x->has_near = 1;
  }
  return AF_OK;
}

static int fits(width w, uint64_t v) {
  int64_t sv = (int64_t)v;
  switch (w) {
  case W_U64: return 1;
  case W_S32: return sv >= INT32_MIN && sv <= INT32_MAX;
  case W_U32: return v <= UINT32_MAX;
  case W_B16: return sv >= INT16_MIN && sv <= UINT16_MAX;
  case W_S16: return sv >= INT16_MIN && sv <= INT16_MAX;
  case W_B8: return sv >= INT8_MIN && sv <= UINT8_MAX;
  case W_S8: return sv >= INT8_MIN && sv <= INT8_MAX;
  default: return 0;
  }
}

af_status elf_reloc_apply(elf_ctx *x) {
  uint8_t *got = x->base + x->gotoff, *plt = x->base + x->pltoff;
  uint64_t gotaddr = (uint64_t)(uintptr_t)got;
  for (size_t i = 0; i < x->nsym; i++) {
    elf_symx *sx = &x->sx[i];
    if (sx->got < 0 && sx->plt < 0) continue;
    int in_image;
    af_status s = elf_sym_resolve(x, i, &in_image);
    if (s != AF_OK) return s;
    if (sx->got >= 0) memcpy(got + 8 * (size_t)sx->got, &sx->addr, 8);
    if (sx->plt >= 0) { /* jmp qword [rip + slot]: rip is the entry's end, 6 bytes in */
      uint8_t *p = plt + ELF_PLT_ENTRY * (size_t)sx->plt;
      int32_t d = (int32_t)((got + 8 * (size_t)sx->got) - (p + 6));
      p[0] = 0xff;
      p[1] = 0x25;
      memcpy(p + 2, &d, 4);
      p[6] = p[7] = 0xcc;
    }
  }
  for (size_t i = 1; i < x->shnum; i++) {
    unsigned st = x->sec[i].sh->sh_type;
    if (st != SHT_RELA) continue;
    const Elf64_Rela *rel;
    size_t nrel, tgt;
    af_status s = rela_section(x, i, &rel, &nrel, &tgt);
    if (s != AF_OK) return s;
    uint8_t *sec = x->base + x->sec[tgt].off;
    for (size_t k = 0; k < nrel; k++) {
      const Elf64_Rela *r = &rel[k];
      unsigned type = ELF64_R_TYPE(r->r_info);
      size_t si = ELF64_R_SYM(r->r_info);
      const rel_info *ri = rel_lookup(type);
      if (ri->w == W_NONE) continue;
      int in_image;
      s = elf_sym_resolve(x, si, &in_image);
      if (s != AF_OK) return s;
      const elf_symx *sx = &x->sx[si];
      uint64_t S = sx->addr, A = (uint64_t)r->r_addend,
               P = (uint64_t)(uintptr_t)(sec + r->r_offset);
      uint64_t G = sx->got >= 0 ? 8 * (uint64_t)sx->got : 0;
      uint64_t L = sx->plt >= 0 ? (uint64_t)(uintptr_t)(plt + ELF_PLT_ENTRY * (size_t)sx->plt) : S;
      uint64_t Z = x->sym[si].st_size, v;
      switch (type) {
      case R_X86_64_64:
      case R_X86_64_32:
      case R_X86_64_32S:
      case R_X86_64_16:
      case R_X86_64_8: v = S + A; break;
      case R_X86_64_PC32: v = (sx->plt >= 0 && call_site(x, tgt, r) ? L : S) + A - P; break;
      case R_X86_64_PC16:
      case R_X86_64_PC8:
      case R_X86_64_PC64: v = S + A - P; break;
      case R_X86_64_PLT32: v = L + A - P; break;
      case R_X86_64_GOT32:
      case R_X86_64_GOT64:
      case R_X86_64_GOTPLT64: v = G + A; break;
      case R_X86_64_GOTPCREL:
      case R_X86_64_GOTPCRELX:
      case R_X86_64_REX_GOTPCRELX: /* not relaxed: the GOT slot is always there */
      case R_X86_64_GOTPCREL64: v = gotaddr + G + A - P; break;
      case R_X86_64_GOTOFF64: v = S + A - gotaddr; break;
      case R_X86_64_GOTPC32:
      case R_X86_64_GOTPC64: v = gotaddr + A - P; break;
      case R_X86_64_PLTOFF64: v = L + A - gotaddr; break;
      case R_X86_64_SIZE32:
      case R_X86_64_SIZE64: v = Z + A; break;
      default: return elf_fail(x, "relocation type %u is not supported", type);
      }
      /* The address of a function the object also calls, too far for a 32-bit field: its
       * PLT entry stands for it, as a linker's canonical PLT entry does for -fno-pic code. */
      if (!fits(ri->w, v) && sx->plt >= 0 && (ri->abs || ri->pc) && ri->w != W_U64)
        v = ri->pc ? L + A - P : L + A;
      if (!fits(ri->w, v))
        return elf_fail(x, "%s at %s+0x%llx against %s: value 0x%llx does not fit%s", ri->name,
                        elf_sec_name(x, tgt), (unsigned long long)r->r_offset, elf_sym_name(x, si),
                        (unsigned long long)v,
                        ri->abs  ? " (compiled for -fno-pic / the small code model)"
                        : ri->pc ? " (the image could not be placed near the data)"
                                 : "");
      memcpy(sec + r->r_offset, &v, width_bytes(ri->w));
    }
  }
  return AF_OK;
}
