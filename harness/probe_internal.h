/* probe_internal.h - private to the probes (probe*.c, probe.S): the callout image, the run. */
#ifndef ABIFUZZ_HARNESS_PROBE_INTERNAL_H
#define ABIFUZZ_HARNESS_PROBE_INTERNAL_H

#include <stddef.h>

#include "probe.h"

/* The callout's register image (offsets fixed: probe.S). */
typedef struct {
  af_probe_regs entry;   /*   0: at the callout's entry (gpr[AF_RSP]: RSP at entry) */
  af_probe_regs exit;    /* 400: what the callout returns with (post-handler fills it) */
  uint64_t retaddr;      /* 800 */
  uint64_t index;        /* 808: K of af_callout_K */
  const void *real;      /* 816: the real implementation (pre-handler sets it) */
  uint64_t r11tmp;       /* 824 */
  uint64_t post_rax;     /* 832: after the real implementation returned */
  uint64_t post_rdx;     /* 840 */
  uint8_t post_xmm0[16]; /* 848 */
  uint8_t post_xmm1[16]; /* 864 */
  uint64_t post_rsp;     /* 880 */
} af_probe_co_state;

/* Mode "interpose": the image of af_probe_enter (offsets fixed: probe.S). */
typedef struct {
  af_probe_regs entry; /*    0: at entry */
  af_probe_regs call;  /*  400: what the target gets (entry, canaries); then the exit image */
  af_probe_regs out;   /*  800: after the target returned */
  uint64_t retaddr;    /* 1200 */
  const void *target;  /* 1208 */
  uint64_t r11tmp;     /* 1216 */
} af_probe_ip_state;

extern af_probe_ip_state af_probe_ip __attribute__((visibility("hidden")));
void af_probe_enter_pre(af_probe_ip_state *s) __attribute__((visibility("hidden")));
void af_probe_enter_post(af_probe_ip_state *s) __attribute__((visibility("hidden")));

/* The one global callout image (probe_callout.c) and the run in flight (probe.c). */
extern af_probe_co_state af_probe_co __attribute__((visibility("hidden")));
extern af_probe *af_probe_cur __attribute__((visibility("hidden")));

/* A function that returns at once (probe.S): the callout's stand-in for the real
 * implementation when a call hands it a wild sret or by-reference pointer. */
void af_probe_noop(void) __attribute__((visibility("hidden")));

/* Called from probe.S on the callout's own frame. */
void af_probe_callout_pre(af_probe_co_state *s) __attribute__((visibility("hidden")));
void af_probe_callout_post(af_probe_co_state *s) __attribute__((visibility("hidden")));

#define PROBE_STACK   (256u * 1024u) /* the stack code under test runs on */
#define PROBE_SCRATCH (32u * 1024u)  /* its top: by-reference copies and the sret buffer */
#define PROBE_BELOW   512u           /* pattern below the call's RSP (red zone and beyond) */
#define PROBE_MXCSR   0x1f80u        /* the MXCSR and x87 CW every call starts with */
#define PROBE_FCW     0x037fu

struct af_probe {
  uint8_t *mem;      /* malloc'd */
  uint8_t *lo, *hi;  /* the probe stack, 64-aligned */
  af_probe_frame *f; /* 64-aligned, in mem */
  /* the run in flight */
  const af_probe_opts *o;
  af_findings *fs;
  af_callinfo ci[AF_MAX_FUNCS]; /* every signature of the case, classified once */
  af_rng rng;                   /* the garbage pattern */
  int ncalls;                   /* host calls so far */
  /* the callout in flight (between pre and post) */
  int co_k;
  int co_wild; /* a wild sret or by-reference pointer: the real implementation was skipped */
  int co_nrefs;
  uint8_t *co_ref[AF_MAX_PARAMS];
  uint32_t co_ref_size[AF_MAX_PARAMS];
};

/* Shared by probe.c and probe_callout.c (probe_marshal.c). */
uint64_t probe_garbage(af_probe *p);
void probe_garbage_fill(af_probe *p, uint8_t *d, size_t n);
/* Marks in mask[0..size) the bytes of a value of `type` that hold some leaf (1) and leaves
 * padding bytes alone (the caller zeroes mask). */
void probe_defined_mask(const af_case *c, int type, uint8_t *mask, uint32_t base);
/* 1 for bool, i8, u8, i16, u16 (the SysV caller extends them to 32 bits). */
int probe_is_narrow(int type);
/* Size in bytes of a value of type t as an argument (ptr: 8). */
uint32_t probe_type_size(const af_case *c, int t);
/* The register's bytes in an image (GPR: 8, XMM: 16). */
uint8_t *probe_reg_bytes(af_probe_regs *r, af_reg reg);
/* "arg I of call N to fK" etc. in findings */
void probe_add(af_probe *p, const char *check, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
