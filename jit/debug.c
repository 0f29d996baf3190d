/* debug.c - debugging support for JIT code: function extents, frames, gdb JIT interface, perf map.
 */
#include <elf.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "debug.h"
#include "lower.h"

static af_status fail(af_error *err, af_status s, const char *msg) {
  if (err) snprintf(err->msg, sizeof err->msg, "%s", msg);
  return s;
}

/* What the prologue really reserves: push rbp; mov rbp, rsp; [Win64 variadic home stores,
 * mutant code]; sub rsp, imm8/imm32 (48 83 ec ib / 48 81 ec id). -1 if not found. */
static int32_t prologue_frame(const uint8_t *p, uint64_t size) {
  if (size < 4 || memcmp(p, "\x55\x48\x89\xe5", 4)) return -1;
  for (uint64_t i = 4; i + 7 <= size && i < 48; i++) {
    if (p[i] == 0x48 && p[i + 1] == 0x81 && p[i + 2] == 0xec) {
      int32_t v;
      memcpy(&v, p + i + 3, 4);
      return v;
    }
    if (p[i] == 0x48 && p[i + 1] == 0x83 && p[i + 2] == 0xec) return (int8_t)p[i + 3];
  }
  return -1;
}

/* Writes "abifuzz_f<k>" (k >= 0) or "abifuzz_runner" and a NUL into name[32] (jit_debug_fn):
 * snprintf did the same at several hundred instructions a name, and every compile names every
 * function for gdb. */
static void put_name(char name[32], int k) {
  static const char runner[] = "abifuzz_runner", prefix[] = "abifuzz_f";
  if (k < 0) {
    memcpy(name, runner, sizeof runner);
    return;
  }
  char digits[12];
  size_t nd = 0, len = sizeof prefix - 1;
  unsigned v = (unsigned)k;
  do
    digits[nd++] = (char)('0' + v % 10);
  while ((v /= 10) != 0);
  memcpy(name, prefix, len);
  while (nd)
    name[len++] = digits[--nd];
  name[len] = 0;
}

/* Copies function k's record (jit.c) into *out: the code's extent as placed, the frame as
 * lower.c laid it out, and what the prologue really reserves. */
static void from_record(const jit_fn_record *r, int k, jit_debug_fn *out) {
  memset(out, 0, sizeof *out);
  out->index = k;
  put_name(out->name, k);
  out->addr = r->addr;
  out->size = r->size;
  if (k < 0) return; /* the runner: no frame fields */
  out->frame = r->fr.frame;
  out->frame_code = prologue_frame((const uint8_t *)(uintptr_t)r->addr, r->size);
  out->w64_save = r->fr.w64_save;
  out->saved = r->fr.saved;
  out->slots_end = r->fr.slots_end;
  out->sret_save = r->fr.sret_save;
  out->va_save = r->fr.va_save;
  out->copy_area = r->fr.copy_area;
  out->copy_size = r->fr.copy_size;
  out->out_size = r->fr.out_size;
  out->nlocals = r->fr.nlocals;
  out->locals_end = r->fr.locals_end;
}

/* The part of from_record the ELF image and the perf map read (index, name, extent); the
 * other fields are left as they are: every compile registers its functions, and the frame
 * fields (the prologue scan above) are for jit_debug_describe only. */
static void extent_from_record(const jit_fn_record *r, int k, jit_debug_fn *out) {
  out->index = k;
  put_name(out->name, k);
  out->addr = r->addr;
  out->size = r->size;
}

af_status jit_debug_describe(const af_jit *j, int k, jit_debug_fn *out, af_error *err) {
  memset(out, 0, sizeof *out);
  const jit_fn_record *r = k >= 0 ? jit_record(j, k) : NULL;
  if (!r || !r->addr) return fail(err, AF_ERR_INVALID, "no such function");
  if (r->host) return fail(err, AF_ERR_UNSUPPORTED, "host code replaces this function (host_fns)");
  from_record(r, k, out);
  return AF_OK;
}

af_status jit_debug_runner(const af_jit *j, jit_debug_fn *out, af_error *err) {
  memset(out, 0, sizeof *out);
  const jit_fn_record *r = jit_record(j, -1);
  if (!r || !r->addr) return fail(err, AF_ERR_INVALID, "no runner thunk");
  from_record(r, -1, out);
  return AF_OK;
}

const char *jit_debug_symbolize(const af_case *c, const af_jit *j, uint64_t addr, char *buf,
                                size_t n) {
  static const struct {
    const void *fn;
    const char *name;
  } helpers[] = {
      {(const void *)jit_rt_fold, "jit_rt_fold"},
      {(const void *)jit_rt_fconv, "jit_rt_fconv"},
      {(const void *)jit_rt_itof, "jit_rt_itof"},
      {(const void *)jit_rt_ftoi, "jit_rt_ftoi"},
      {(const void *)jit_rt_bf_get, "jit_rt_bf_get"},
      {(const void *)jit_rt_bf_set, "jit_rt_bf_set"},
  };
  for (size_t i = 0; i < sizeof helpers / sizeof helpers[0]; i++)
    if ((uint64_t)(uintptr_t)helpers[i].fn == addr) {
      snprintf(buf, n, "%s", helpers[i].name);
      return buf;
    }
  for (int k = 0; k < c->nfuncs; k++)
    if ((uint64_t)(uintptr_t)af_jit_fn(j, k) == addr) {
      snprintf(buf, n, "abifuzz_f%d", k);
      return buf;
    }
  return NULL;
}

/* ---- the ELF image ---------------------------------------------------------------------- */

/* An ELF64 relocatable object for gdb: sections [1..n] are SHT_NOBITS .text.<name> at each
 * function's address, then .symtab, .strtab, .shstrtab. gdb relocates a symbol of a
 * relocatable object by its section's address, so st_value is 0 and st_shndx its section. */
/* jit_debug_elf's image after `head` zeroed bytes of the same allocation (*block; head a
 * multiple of 16): the registration keeps itself and its image in one. */
static af_status elf_image(const jit_debug_fn *fns, int n, size_t head, uint8_t *mem, size_t cap,
                           uint8_t **block, uint8_t **image, size_t *size) {
  *block = *image = NULL;
  *size = 0;
  size_t strsz = 1, shstrsz = 1 + sizeof ".symtab" + sizeof ".strtab" + sizeof ".shstrtab";
  for (int k = 0; k < n; k++) {
    strsz += strlen(fns[k].name) + 1;
    shstrsz += sizeof ".text." + strlen(fns[k].name);
  }
  int nsec = n + 4;
  size_t symoff = sizeof(Elf64_Ehdr);
  size_t symsz = (size_t)(n + 1) * sizeof(Elf64_Sym);
  size_t stroff = symoff + symsz;
  size_t shstroff = stroff + strsz;
  size_t shoff = (shstroff + shstrsz + 7) & ~(size_t)7;
  size_t total = shoff + (size_t)nsec * sizeof(Elf64_Shdr);
  /* in the caller's memory (jit_debug_register_in) when it fits */
  uint8_t *m = mem && head + total <= cap ? memset(mem, 0, head + total) : calloc(1, head + total);
  if (!m) return AF_ERR_NOMEM;
  *block = m;
  m += head;

  Elf64_Ehdr *eh = (Elf64_Ehdr *)m;
  memcpy(eh->e_ident, ELFMAG, SELFMAG);
  eh->e_ident[EI_CLASS] = ELFCLASS64;
  eh->e_ident[EI_DATA] = ELFDATA2LSB;
  eh->e_ident[EI_VERSION] = EV_CURRENT;
  eh->e_ident[EI_OSABI] = ELFOSABI_SYSV;
  eh->e_type = ET_REL;
  eh->e_machine = EM_X86_64;
  eh->e_version = EV_CURRENT;
  eh->e_shoff = shoff;
  eh->e_ehsize = sizeof(Elf64_Ehdr);
  eh->e_shentsize = sizeof(Elf64_Shdr);
  eh->e_shnum = (Elf64_Half)nsec;
  eh->e_shstrndx = (Elf64_Half)(n + 3);

  Elf64_Sym *sym = (Elf64_Sym *)(m + symoff);
  char *str = (char *)(m + stroff);
  char *shstr = (char *)(m + shstroff);
  Elf64_Shdr *sh = (Elf64_Shdr *)(m + shoff);
  size_t sp = 1, shp = 1;
  for (int k = 0; k < n; k++) {
    Elf64_Shdr *t = &sh[1 + k];
    t->sh_name = (Elf64_Word)shp;
    size_t len = strlen(fns[k].name);
    memcpy(shstr + shp, ".text.", 6);
    memcpy(shstr + shp + 6, fns[k].name, len + 1);
    shp += 6 + len + 1;
    t->sh_type = SHT_NOBITS;
    t->sh_flags = SHF_ALLOC | SHF_EXECINSTR;
    t->sh_addr = fns[k].addr;
    t->sh_size = fns[k].size;
    t->sh_addralign = 16;
    Elf64_Sym *s = &sym[1 + k];
    s->st_name = (Elf64_Word)sp;
    memcpy(str + sp, fns[k].name, len + 1);
    sp += len + 1;
    s->st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC);
    s->st_shndx = (Elf64_Half)(1 + k);
    s->st_value = 0;
    s->st_size = fns[k].size;
  }
  static const char *const extra[] = {".symtab", ".strtab", ".shstrtab"};
  Elf64_Word extra_name[3];
  for (int i = 0; i < 3; i++) {
    extra_name[i] = (Elf64_Word)shp;
    size_t len = strlen(extra[i]);
    memcpy(shstr + shp, extra[i], len + 1);
    shp += len + 1;
  }
  Elf64_Shdr *st = &sh[n + 1];
  st->sh_name = extra_name[0];
  st->sh_type = SHT_SYMTAB;
  st->sh_offset = symoff;
  st->sh_size = symsz;
  st->sh_link = (Elf64_Word)(n + 2);
  st->sh_info = 1; /* index of the first non-local symbol */
  st->sh_addralign = 8;
  st->sh_entsize = sizeof(Elf64_Sym);
  Elf64_Shdr *ss = &sh[n + 2];
  ss->sh_name = extra_name[1];
  ss->sh_type = SHT_STRTAB;
  ss->sh_offset = stroff;
  ss->sh_size = strsz;
  ss->sh_addralign = 1;
  Elf64_Shdr *hs = &sh[n + 3];
  hs->sh_name = extra_name[2];
  hs->sh_type = SHT_STRTAB;
  hs->sh_offset = shstroff;
  hs->sh_size = shstrsz;
  hs->sh_addralign = 1;
  *image = m;
  *size = total;
  return AF_OK;
}

af_status jit_debug_elf(const jit_debug_fn *fns, int n, uint8_t **image, size_t *size) {
  uint8_t *block;
  return elf_image(fns, n, 0, NULL, 0, &block, image, size);
}

/* ---- gdb's JIT interface ---------------------------------------------------------------- */
/* Names and layout fixed by gdb (gdb/jit.h; manual, "JIT Declarations"). */
typedef enum { JIT_NOACTION = 0, JIT_REGISTER_FN, JIT_UNREGISTER_FN } jit_actions_t;

struct jit_code_entry {
  struct jit_code_entry *next_entry;
  struct jit_code_entry *prev_entry;
  const char *symfile_addr;
  uint64_t symfile_size;
};

struct jit_descriptor {
  uint32_t version;
  uint32_t action_flag; /* jit_actions_t */
  struct jit_code_entry *relevant_entry;
  struct jit_code_entry *first_entry;
};

/* gdb puts a breakpoint here and reads the descriptor when it is hit: it must not be inlined
 * or folded away, hence noinline, used and the asm barrier. */
void __attribute__((noinline, used)) __jit_debug_register_code(void);
void __attribute__((noinline, used)) __jit_debug_register_code(void) {
  __asm__ volatile("" ::: "memory");
}

/* The one process-wide list gdb reads (a global by the protocol, guarded by jit_debug_lock). */
struct jit_descriptor __jit_debug_descriptor __attribute__((used)) = {1, JIT_NOACTION, NULL, NULL};
static pthread_mutex_t jit_debug_lock = PTHREAD_MUTEX_INITIALIZER;

struct jit_debug_reg {
  struct jit_code_entry entry;
  uint8_t *image;
  size_t size;
  int heap; /* allocated (jit_debug_unregister frees it), not the caller's jit_debug_storage */
};

static void perf_map(const jit_debug_fn *fns, int n) {
  const char *e = getenv("ABIFUZZ_PERF_MAP");
  if (!e || strcmp(e, "1")) return;
  char path[64];
  snprintf(path, sizeof path, "/tmp/perf-%ld.map", (long)getpid());
  FILE *f = fopen(path, "a");
  if (!f) return; /* best effort: profiling aid only */
  for (int k = 0; k < n; k++)
    fprintf(f, "%llx %llx %s\n", (unsigned long long)fns[k].addr, (unsigned long long)fns[k].size,
            fns[k].name);
  fclose(f);
}

/* jit_debug_register, the registration and its image in st when st is not NULL and they fit. */
static af_status reg_in(const af_jit *j, jit_debug_storage *st, jit_debug_reg **out,
                        af_error *err) {
  *out = NULL;
  const af_case *c = jit_case(j);
  if (!c) return fail(err, AF_ERR_INVALID, "no compiled case");
  /* on the stack within the IR's limits (every verified case: no allocation per compile),
   * else on the heap; only the extents are filled (extent_from_record), all that is read */
  jit_debug_fn fns_st[AF_MAX_FUNCS + 1];
  int heap = c->nfuncs < 0 || c->nfuncs > AF_MAX_FUNCS;
  jit_debug_fn *fns = heap ? calloc((size_t)c->nfuncs + 1, sizeof *fns) : fns_st;
  if (!fns) return fail(err, AF_ERR_NOMEM, "out of memory");
  af_status s = AF_OK;
  int n = 0;
  for (int k = 0; k < c->nfuncs; k++) {
    /* every function, host_fns-replaced ones too: the harness's probes call the compiled code
     * behind them (af_jit_code), so it does run and a backtrace through it wants its name */
    extent_from_record(jit_record(j, k), k, &fns[n++]);
  }
  extent_from_record(jit_record(j, -1), -1, &fns[n++]);
  /* the registration and its image in one allocation (the image 16-aligned after it) */
  enum { HEAD = (sizeof(jit_debug_reg) + 15) & ~(size_t)15 };
  jit_debug_reg *r = NULL;
  uint8_t *block = NULL, *image = NULL;
  size_t size = 0;
  if ((s = elf_image(fns, n, HEAD, st ? st->bytes : NULL, st ? sizeof st->bytes : 0, &block, &image,
                     &size)) != AF_OK)
    fail(err, s, "out of memory");
  if (s == AF_OK) perf_map(fns, n);
  if (heap) free(fns);
  if (s != AF_OK) return s;
  r = (jit_debug_reg *)(void *)block;
  r->image = image;
  r->size = size;
  r->heap = !st || block != st->bytes;
  r->entry.symfile_addr = (const char *)r->image;
  r->entry.symfile_size = r->size;
  pthread_mutex_lock(&jit_debug_lock);
  r->entry.next_entry = __jit_debug_descriptor.first_entry;
  if (r->entry.next_entry) r->entry.next_entry->prev_entry = &r->entry;
  __jit_debug_descriptor.first_entry = &r->entry;
  __jit_debug_descriptor.relevant_entry = &r->entry;
  __jit_debug_descriptor.action_flag = JIT_REGISTER_FN;
  __jit_debug_register_code();
  __jit_debug_descriptor.action_flag = JIT_NOACTION;
  pthread_mutex_unlock(&jit_debug_lock);
  *out = r;
  return AF_OK;
}

af_status jit_debug_register(const af_jit *j, jit_debug_reg **out, af_error *err) {
  return reg_in(j, NULL, out, err);
}

af_status jit_debug_register_in(const af_jit *j, jit_debug_storage *st, jit_debug_reg **out,
                                af_error *err) {
  return reg_in(j, st, out, err);
}

void jit_debug_unregister(jit_debug_reg *r) {
  if (!r) return;
  pthread_mutex_lock(&jit_debug_lock);
  struct jit_code_entry *e = &r->entry;
  if (e->prev_entry)
    e->prev_entry->next_entry = e->next_entry;
  else
    __jit_debug_descriptor.first_entry = e->next_entry;
  if (e->next_entry) e->next_entry->prev_entry = e->prev_entry;
  __jit_debug_descriptor.relevant_entry = e;
  __jit_debug_descriptor.action_flag = JIT_UNREGISTER_FN;
  __jit_debug_register_code();
  __jit_debug_descriptor.action_flag = JIT_NOACTION;
  __jit_debug_descriptor.relevant_entry = NULL;
  pthread_mutex_unlock(&jit_debug_lock);
  if (r->heap) free(r); /* the image with it (jit_debug_register) */
}

const void *jit_debug_image(const jit_debug_reg *r, size_t *size) {
  *size = r ? r->size : 0;
  return r ? r->image : NULL;
}
