/* test_jit_debug.c - JIT debugging support: extents, frames, the gdb ELF image, perf map, gdb. */
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "debug.h"
#include "jit.h"

/* gdb's descriptor, as the protocol lays it out (defined in jit/debug.c). */
struct test_entry {
  struct test_entry *next, *prev;
  const char *addr;
  uint64_t size;
};
extern struct {
  uint32_t version, action;
  struct test_entry *relevant, *first;
} __jit_debug_descriptor;

static const char *case_path(void) { return AF_SOURCE_DIR "/corpus/seeds/win64-locals.case"; }

/* The frame size the prologue really reserves: push rbp; mov rbp, rsp; [Win64 variadic home
 * stores]; sub rsp, imm. -1 if no sub is found in the first bytes. */
static long prologue_frame(const uint8_t *p, uint64_t size) {
  if (size < 4 || memcmp(p, "\x55\x48\x89\xe5", 4)) return -1;
  for (uint64_t i = 4; i + 7 <= size && i < 40; i++) {
    if (p[i] == 0x48 && p[i + 1] == 0x81 && p[i + 2] == 0xec) {
      int32_t v;
      memcpy(&v, p + i + 3, 4);
      return v;
    }
    if (p[i] == 0x48 && p[i + 1] == 0x83 && p[i + 2] == 0xec) return (int8_t)p[i + 3];
  }
  return 0;
}

/* Extents and frames of every function of c against the placed code. */
static void check_extents(const af_case *c, const af_jit *j, const char *what) {
  for (int k = 0; k < c->nfuncs; k++) {
    jit_debug_fn d;
    af_error err = {{0}};
    af_status s = jit_debug_describe(j, k, &d, &err);
    CHECKF(s == AF_OK, "%s f%d: describe: %s", what, k, err.msg);
    if (s != AF_OK) continue;
    const uint8_t *p = (const uint8_t *)(uintptr_t)d.addr;
    CHECKF(d.addr == (uint64_t)(uintptr_t)af_jit_fn(j, k), "%s f%d: address", what, k);
    CHECKF(d.size > 4 && p[d.size - 1] == 0xC3, "%s f%d: code does not end in ret", what, k);
    uint64_t end = (d.addr + d.size + 15) & ~(uint64_t)15;
    const void *next = af_jit_fn(j, k + 1);
    if (next && (uint64_t)(uintptr_t)next > d.addr) end = (uint64_t)(uintptr_t)next;
    int pad_ok = 1;
    for (uint64_t a = d.addr + d.size; a < end; a++)
      if (*(const uint8_t *)(uintptr_t)a != 0xCC) pad_ok = 0;
    CHECKF(pad_ok, "%s f%d: bytes after the recorded end are not int3 fill", what, k);
    long fr = prologue_frame(p, d.size);
    CHECKF(fr == d.frame, "%s f%d: frame %d, prologue reserves %ld", what, k, d.frame, fr);
    CHECKF(d.frame_code == d.frame, "%s f%d: frame_code %d", what, k, d.frame_code);
    CHECKF(d.frame % 16 == 0 && d.out_size % 16 == 0, "%s f%d: alignment", what, k);
    CHECKF(d.slots_end <= -d.w64_save && d.locals_end <= d.slots_end, "%s f%d: order", what, k);
  }
}

/* Frame mutants: the record is what lower.c laid out (misaligned-calls: 8 bytes more, odd),
 * frame_code what the prologue reserves (w64-stores-below-rsp: 128 bytes less on Win64). */
static void check_mutant_frames(const af_case *c, const af_jit *good) {
  static const char *const names[] = {"misaligned-calls", "w64-stores-below-rsp"};
  for (int m = 0; m < 2; m++) {
    af_jit_opts o = {0};
    o.inject = names[m];
    af_jit *j = NULL;
    af_error err = {{0}};
    CHECKF(af_jit_compile(c, &o, &j, &err) == AF_OK, "%s: %s", names[m], err.msg);
    if (!j) continue;
    for (int k = 0; k < c->nfuncs; k++) {
      jit_debug_fn d, g;
      if (jit_debug_describe(j, k, &d, &err) != AF_OK ||
          jit_debug_describe(good, k, &g, &err) != AF_OK) {
        CHECKF(0, "%s f%d: describe: %s", names[m], k, err.msg);
        continue;
      }
      long fr = prologue_frame((const uint8_t *)(uintptr_t)d.addr, d.size);
      CHECKF(fr == d.frame_code, "%s f%d: frame_code %d, prologue %ld", names[m], k, d.frame_code,
             fr);
      int w64 = c->funcs[k].sig.cc == AF_CC_WIN64;
      if (m == 0)
        CHECKF(d.frame == g.frame + 8 && d.frame_code == d.frame, "%s f%d: frame %d/%d vs %d",
               names[m], k, d.frame, d.frame_code, g.frame);
      else
        CHECKF(d.frame == g.frame && d.frame_code == d.frame - (w64 ? 128 : 0),
               "%s f%d: frame %d/%d vs %d", names[m], k, d.frame, d.frame_code, g.frame);
    }
    af_jit_free(j);
  }
}

static const Elf64_Shdr *shdr(const uint8_t *m, int i) {
  const Elf64_Ehdr *eh = (const Elf64_Ehdr *)m;
  return (const Elf64_Shdr *)(m + eh->e_shoff) + i;
}

/* Parses the registration's ELF image back: header, sections, every symbol. */
static void check_elf(const af_case *c, const af_jit *j, const uint8_t *m, size_t size) {
  const Elf64_Ehdr *eh = (const Elf64_Ehdr *)m;
  CHECK(size >= sizeof *eh && !memcmp(eh->e_ident, ELFMAG, SELFMAG));
  CHECK(eh->e_ident[EI_CLASS] == ELFCLASS64 && eh->e_ident[EI_DATA] == ELFDATA2LSB);
  CHECK(eh->e_type == ET_REL && eh->e_machine == EM_X86_64);
  CHECK(eh->e_shentsize == sizeof(Elf64_Shdr));
  CHECK(eh->e_shoff + (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr) <= size);
  CHECK(eh->e_shstrndx < eh->e_shnum);
  const Elf64_Shdr *sstr = shdr(m, eh->e_shstrndx);
  CHECK(sstr->sh_type == SHT_STRTAB && sstr->sh_offset + sstr->sh_size <= size);
  const Elf64_Shdr *symtab = NULL;
  for (int i = 1; i < eh->e_shnum; i++) {
    const Elf64_Shdr *s = shdr(m, i);
    CHECK(s->sh_name < sstr->sh_size);
    if (s->sh_type == SHT_SYMTAB) symtab = s;
    if (s->sh_type == SHT_NOBITS) {
      const char *nm = (const char *)m + sstr->sh_offset + s->sh_name;
      CHECKF(!strncmp(nm, ".text.", 6), "section name %s", nm);
      CHECK(s->sh_flags == (SHF_ALLOC | SHF_EXECINSTR) && s->sh_addr && s->sh_size);
    }
  }
  CHECK(symtab != NULL);
  if (!symtab) return;
  CHECK(symtab->sh_entsize == sizeof(Elf64_Sym) && symtab->sh_offset + symtab->sh_size <= size);
  const Elf64_Shdr *str = shdr(m, (int)symtab->sh_link);
  CHECK(str->sh_type == SHT_STRTAB);
  const Elf64_Sym *sym = (const Elf64_Sym *)(m + symtab->sh_offset);
  int nsym = (int)(symtab->sh_size / sizeof *sym);
  int found = 0, runner = 0;
  for (int i = 1; i < nsym; i++) {
    const char *nm = (const char *)m + str->sh_offset + sym[i].st_name;
    CHECK(ELF64_ST_TYPE(sym[i].st_info) == STT_FUNC && sym[i].st_shndx < eh->e_shnum);
    uint64_t addr = shdr(m, sym[i].st_shndx)->sh_addr + sym[i].st_value;
    int k;
    if (sscanf(nm, "abifuzz_f%d", &k) == 1 && k >= 0 && k < c->nfuncs) {
      CHECKF(addr == (uint64_t)(uintptr_t)af_jit_fn(j, k), "%s at %llx", nm,
             (unsigned long long)addr);
      found++;
    } else if (!strcmp(nm, "abifuzz_runner")) {
      runner = 1;
    } else {
      CHECKF(0, "unexpected symbol '%s'", nm);
    }
  }
  CHECKF(found == c->nfuncs, "%d of %d functions named", found, c->nfuncs);
  CHECK(runner);
}

static int load(const char *path, af_case *c) {
  af_error err = {{0}};
  af_status s = af_parse_file(path, c, &err);
  CHECKF(s == AF_OK, "%s: %s", path, err.msg);
  return s == AF_OK ? 0 : -1;
}

/* gdb: break on a JIT function by its name, backtrace, and look for the names. */
static void check_gdb(const char *self) {
  if (system("gdb --version >/dev/null 2>&1") != 0) {
    printf("SKIP gdb: not installed\n");
    return;
  }
  char cmd[4096];
  snprintf(cmd, sizeof cmd,
           "timeout 60 gdb -batch -nx -ex 'set breakpoint pending on' -ex 'break abifuzz_f1' "
           "-ex run -ex bt -ex kill --args '%s' --child '%s' 2>&1",
           self, case_path());
  FILE *p = popen(cmd, "r");
  CHECK(p != NULL);
  if (!p) return;
  char line[1024];
  int hit = 0, f1 = 0, f0 = 0, runner = 0, noperm = 0;
  while (fgets(line, sizeof line, p)) {
    if (strstr(line, "Breakpoint 1, ")) hit = 1;
    if (!strncmp(line, "#0 ", 3) && strstr(line, " in abifuzz_f1 ")) f1 = 1;
    if (!strncmp(line, "#1 ", 3) && strstr(line, " in abifuzz_f0 ")) f0 = 1;
    if (!strncmp(line, "#2 ", 3) && strstr(line, " in abifuzz_runner ")) runner = 1;
    if (strstr(line, "ptrace") && strstr(line, "not permitted")) noperm = 1;
  }
  pclose(p);
  if (!hit && noperm) {
    printf("SKIP gdb: ptrace is not permitted here\n");
    return;
  }
  CHECKF(hit, "gdb did not stop at the JIT symbol abifuzz_f1");
  CHECKF(f1 && f0, "gdb's backtrace does not name abifuzz_f1 <- abifuzz_f0");
  CHECKF(runner, "gdb's backtrace does not name abifuzz_runner");
}

/* The program gdb runs: compile (which registers the code), run (f0 calls f1), free (which
 * unregisters it). Nothing here calls jit_debug_register: af_jit_compile must. */
static int child(const char *path) {
  af_case c;
  af_error err = {{0}};
  if (af_parse_file(path, &c, &err) != AF_OK) return 2;
  af_jit *j = NULL;
  if (af_jit_compile(&c, NULL, &j, &err) != AF_OK) return 2;
  af_jit_result res;
  if (af_jit_run(j, NULL, &res, &err) != AF_OK) return 2;
  af_jit_result_free(&res);
  af_jit_free(j);
  af_case_free(&c);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 3 && !strcmp(argv[1], "--child")) return child(argv[2]);
  af_case c;
  if (load(case_path(), &c) != 0) return check_done();
  af_jit *j = NULL;
  af_error err = {{0}};
  CHECK(__jit_debug_descriptor.version == 1 && __jit_debug_descriptor.first == NULL);
  CHECKF(af_jit_compile(&c, NULL, &j, &err) == AF_OK, "compile: %s", err.msg);
  if (!j) return check_done();
  check_extents(&c, j, "win64-locals");
  check_mutant_frames(&c, j);
  jit_debug_fn rd;
  CHECKF(jit_debug_runner(j, &rd, &err) == AF_OK, "runner: %s", err.msg);
  CHECK(rd.index == -1 && !strcmp(rd.name, "abifuzz_runner") && rd.size > 4 &&
        ((const uint8_t *)(uintptr_t)rd.addr)[rd.size - 1] == 0xC3);
  CHECK(jit_debug_describe(j, c.nfuncs, &rd, &err) == AF_ERR_INVALID);
  CHECK(jit_debug_describe(j, -1, &rd, &err) == AF_ERR_INVALID);

  /* af_jit_compile registered the code: the descriptor's only entry is its image */
  struct test_entry *own = __jit_debug_descriptor.first;
  CHECKF(own != NULL && own->next == NULL, "af_jit_compile did not register the code");
  if (own) check_elf(&c, j, (const uint8_t *)own->addr, own->size);
  char nm[32];
  const char *sy = jit_debug_symbolize(&c, j, (uint64_t)(uintptr_t)af_jit_fn(j, 1), nm, sizeof nm);
  CHECK(sy && !strcmp(sy, "abifuzz_f1"));
  CHECK(!jit_debug_symbolize(&c, j, (uint64_t)(uintptr_t)af_jit_fn(j, 1) + 1, nm, sizeof nm));

  /* more registrations: the descriptor links images, newest first; unregistering unlinks */
  jit_debug_reg *r1 = NULL, *r2 = NULL;
  CHECKF(jit_debug_register(j, &r1, &err) == AF_OK, "register: %s", err.msg);
  size_t size = 0;
  const uint8_t *img = jit_debug_image(r1, &size);
  CHECK(img && size);
  if (img) check_elf(&c, j, img, size);
  CHECK(__jit_debug_descriptor.first && __jit_debug_descriptor.first->addr == (const char *)img);
  CHECK(__jit_debug_descriptor.action == 0);

  /* a registration in the caller's memory (jit_debug_register_in, as af_jit_compile makes its
   * own): the image lies in it, linked first; unregistering leaves the memory (an invalid free
   * would abort) */
  {
    jit_debug_storage st;
    jit_debug_reg *rin = NULL;
    CHECKF(jit_debug_register_in(j, &st, &rin, &err) == AF_OK, "register_in: %s", err.msg);
    size_t isz = 0;
    const uint8_t *iimg = jit_debug_image(rin, &isz);
    CHECK(iimg && iimg >= st.bytes && iimg + isz <= st.bytes + sizeof st.bytes);
    if (iimg) check_elf(&c, j, iimg, isz);
    CHECK(__jit_debug_descriptor.first && __jit_debug_descriptor.first->addr == (const char *)iimg);
    jit_debug_unregister(rin);
    CHECK(__jit_debug_descriptor.first && __jit_debug_descriptor.first->addr == (const char *)img);
  }

  /* perf map, on request only */
  char map[64];
  snprintf(map, sizeof map, "/tmp/perf-%ld.map", (long)getpid());
  remove(map);
  setenv("ABIFUZZ_PERF_MAP", "1", 1);
  CHECKF(jit_debug_register(j, &r2, &err) == AF_OK, "register: %s", err.msg);
  unsetenv("ABIFUZZ_PERF_MAP");
  FILE *f = fopen(map, "r");
  CHECKF(f != NULL, "no %s", map);
  if (f) {
    char line[256], want[64];
    snprintf(want, sizeof want, "%llx ", (unsigned long long)(uintptr_t)af_jit_fn(j, 0));
    int n = 0, f0 = 0;
    while (fgets(line, sizeof line, f)) {
      unsigned long long a, s;
      char nm[64];
      CHECKF(sscanf(line, "%llx %llx %63s", &a, &s, nm) == 3 && s > 0, "map line '%s'", line);
      if (!strncmp(line, want, strlen(want)) && strstr(line, " abifuzz_f0")) f0 = 1;
      n++;
    }
    fclose(f);
    CHECKF(n == c.nfuncs + 1 && f0, "perf map: %d lines", n);
    remove(map);
  }
  CHECK(__jit_debug_descriptor.first && __jit_debug_descriptor.first->next &&
        __jit_debug_descriptor.first->next->prev == __jit_debug_descriptor.first);
  jit_debug_unregister(r1); /* the middle one */
  CHECK(__jit_debug_descriptor.first && __jit_debug_descriptor.first->next == own && own &&
        own->prev == __jit_debug_descriptor.first && own->next == NULL);
  jit_debug_unregister(r2);
  CHECK(__jit_debug_descriptor.first == own && own && own->prev == NULL);
  af_jit_free(j); /* unregisters af_jit_compile's image */
  CHECK(__jit_debug_descriptor.first == NULL);
  af_case_free(&c);

  /* generated cases: extents and frames of both conventions */
  af_gen_opts go;
  af_gen_opts_default(&go);
  int compiled = 0;
  for (int i = 0; i < 40; i++) {
    af_case g;
    if (af_gen_case(&go, 7, (uint64_t)i, &g, NULL, &err) != AF_OK) continue;
    af_jit *gj = NULL;
    if (af_jit_compile(&g, NULL, &gj, &err) == AF_OK) {
      char what[32];
      snprintf(what, sizeof what, "gen 7/%d", i);
      check_extents(&g, gj, what);
      const struct test_entry *e = __jit_debug_descriptor.first;
      CHECKF(e && !e->next, "%s: not registered", what);
      if (e) check_elf(&g, gj, (const uint8_t *)e->addr, e->size);
      compiled++;
      af_jit_free(gj);
      CHECKF(__jit_debug_descriptor.first == NULL, "%s: not unregistered", what);
    }
    af_case_free(&g);
  }
  CHECKF(compiled > 0, "no generated case compiled");
  printf("%d generated cases checked\n", compiled);

  char self[1024];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  CHECK(n > 0);
  if (n > 0) {
    self[n] = 0;
    check_gdb(self);
  }
  return check_done();
}
