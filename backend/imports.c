/* imports.c - the stubs and tables through which external code calls the harness. */
#define _GNU_SOURCE /* MAP_32BIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "backend_internal.h"

struct be_imports {
  codemem *mem;                     /* the stubs, sealed */
  uint8_t *stub[AF_MAX_FUNCS];      /* stub k */
  const void *slot[AF_MAX_FUNCS];   /* where stub k jumps: a trap until bound */
  uint8_t *objects[AF_MAX_OBJECTS]; /* the object table (af_jit_ext.objects) */
  uint8_t *trap;                    /* ud2 */
  size_t mapped;                    /* bytes of this struct's own mapping; 0: calloc'd */
};

/* The table lives in the low 2 GiB when it can: -fno-pic code addresses `af_objects` with
 * 32-bit absolute relocations (R_X86_64_32S, psABI 3.5.1 small code model) and -fpie code
 * with PC32 from wherever the ELF loader put it, so a low table is in reach of both. */
static be_imports *imports_alloc(void) {
  size_t size = (sizeof(be_imports) + 4095) & ~(size_t)4095;
  void *p =
      mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
  if (p != MAP_FAILED) {
    be_imports *im = p; /* anonymous memory is zeroed */
    im->mapped = size;
    return im;
  }
  return calloc(1, sizeof(be_imports));
}

#define STUB_SIZE 16

/* movabs r11, imm64 (49 BB imm64); jmp qword [r11] (41 FF 23); pad with int3. */
static void put_stub(uint8_t *p, const void *slot) {
  uint64_t a = (uint64_t)(uintptr_t)slot;
  p[0] = 0x49;
  p[1] = 0xbb;
  memcpy(p + 2, &a, 8);
  p[10] = 0x41;
  p[11] = 0xff;
  p[12] = 0x23;
  p[13] = p[14] = p[15] = 0xcc;
}

af_status be_imports_new(be_imports **out, af_error *err) {
  *out = NULL;
  be_imports *im = imports_alloc();
  if (!im) {
    if (err) snprintf(err->msg, sizeof err->msg, "out of memory");
    return AF_ERR_NOMEM;
  }
  uint8_t code[(AF_MAX_FUNCS + 1) * STUB_SIZE];
  for (int k = 0; k < AF_MAX_FUNCS; k++)
    put_stub(code + k * STUB_SIZE, &im->slot[k]);
  memset(code + AF_MAX_FUNCS * STUB_SIZE, 0xcc, STUB_SIZE);
  code[AF_MAX_FUNCS * STUB_SIZE] = 0x0f; /* ud2 */
  code[AF_MAX_FUNCS * STUB_SIZE + 1] = 0x0b;
  void *where = NULL;
  af_status s = codemem_new(&im->mem, sizeof code);
  if (s == AF_OK) s = codemem_add(im->mem, code, sizeof code, &where);
  if (s == AF_OK) s = codemem_seal(im->mem);
  if (s != AF_OK) {
    if (err) snprintf(err->msg, sizeof err->msg, "cannot map the import stubs");
    be_imports_free(im);
    return s;
  }
  for (int k = 0; k < AF_MAX_FUNCS; k++)
    im->stub[k] = (uint8_t *)where + k * STUB_SIZE;
  im->trap = (uint8_t *)where + AF_MAX_FUNCS * STUB_SIZE;
  for (int k = 0; k < AF_MAX_FUNCS; k++)
    im->slot[k] = im->trap;
  *out = im;
  return AF_OK;
}

void be_imports_free(be_imports *im) {
  if (!im) return;
  codemem_free(im->mem);
  if (im->mapped)
    munmap(im, im->mapped);
  else
    free(im);
}

const void *be_imports_fn(const be_imports *im, int k) {
  return im && k >= 0 && k < AF_MAX_FUNCS ? im->stub[k] : NULL;
}

uint8_t **be_imports_objects(be_imports *im) { return im ? im->objects : NULL; }

void be_imports_bind(be_imports *im, int k, const void *target) {
  if (im && k >= 0 && k < AF_MAX_FUNCS) im->slot[k] = target ? target : im->trap;
}

const void *be_import_lookup(be_imports *im, const char *prefix, const char *name) {
  size_t pl = prefix ? strlen(prefix) : 0;
  if (!im || strncmp(name, prefix ? prefix : "", pl)) return NULL;
  name += pl;
  if (!strcmp(name, "af_objects")) return im->objects;
  if (name[0] != 'f' || name[1] < '0' || name[1] > '9') return NULL;
  char *end;
  long k = strtol(name + 1, &end, 10);
  if (*end || k < 0 || k >= AF_MAX_FUNCS || (name[1] == '0' && name[2])) return NULL;
  return im->stub[k];
}
