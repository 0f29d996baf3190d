/* probe_internal.h - private to the probes (probe*.c, probe.S): the callout image, the run. */
#ifndef ABIFUZZ_HARNESS_PROBE_INTERNAL_H
#define ABIFUZZ_HARNESS_PROBE_INTERNAL_H

#include <emmintrin.h>
#include <stddef.h>
#include <string.h>

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

/* The nested interposer af_interpose_K's frame, one per call in flight on its shadow stack
 * (offsets fixed: probe.S; FRAME = sizeof). */
typedef struct {
  af_probe_regs entry; /*    0: at af_interpose_K's entry (gpr[AF_RSP]: RSP at entry) */
  af_probe_regs call;  /*  400: what the callee gets (gpr[AF_RSP]: RSP at the call) */
  af_probe_regs out;   /*  800: after the callee returned */
  af_probe_regs exit;  /* 1200: what the interposer returns to its caller with */
  uint64_t retaddr;    /* 1600: the caller's return address */
  uint64_t index;      /* 1608: K */
  uint64_t x87_ret;    /* 1616: 1: the callee returns in ST0 (copied to st0, reloaded) */
  uint64_t pad0;       /* 1624 */
  uint8_t fenv[32];    /* 1632: fnstenv after the return */
  uint8_t st0[16];     /* 1664: ST0 after the return (x87_ret) */
  uint8_t pad1[48];    /* 1680 */
} af_probe_ipz_frame;  /* 1728 bytes */
_Static_assert(sizeof(af_probe_ipz_frame) == 1728, "probe.S knows the frame's size");

/* The shadow stack: af_probe_ipz_next is the frame the next af_interpose_K takes (probe.S
 * pushes at entry, pops after the callee returns); depth < AF_MAX_FUNCS since calls go to
 * greater indices. af_probe_ipz_target: what the interposer in flight calls. */
#define PROBE_IPZ_DEPTH (AF_MAX_FUNCS + 2)
extern af_probe_ipz_frame af_probe_ipz[PROBE_IPZ_DEPTH] __attribute__((visibility("hidden")));
extern af_probe_ipz_frame *af_probe_ipz_next __attribute__((visibility("hidden")));
extern const void *af_probe_ipz_target __attribute__((visibility("hidden")));
void af_probe_interpose_pre(af_probe_ipz_frame *s) __attribute__((visibility("hidden")));
void af_probe_interpose_post(af_probe_ipz_frame *s) __attribute__((visibility("hidden")));

/* One call the probes check (callout or nested interposer): who, which record, and what the
 * callee owns (by-reference copies). */
typedef struct {
  int k;                   /* the callee */
  int slot;                /* interposer: its depth; the callout: PROBE_IPZ_DEPTH */
  int nhost0;              /* interposer: host calls of the run before this call */
  int m;                   /* the call's index among all calls of the run (want.calls) */
  const af_host_call *rec; /* the trace's record of it, NULL if none or another callee */
  int wild;                /* a wild pointer that cannot be repaired: the callee is skipped */
  int sret_fix; /* a wild sret pointer ("sret-ptr"): the callee gets a buffer of the probe's */
  uint32_t bad; /* bit i: argument i differs from the trace's ("arg") */
  int nrefs;
  uint8_t *ref[AF_MAX_PARAMS];
  uint32_t ref_size[AF_MAX_PARAMS];
} probe_call;

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
#define PROBE_POISON  (64u * 1024u)  /* see probe_exit_image */
#define PROBE_REFS    ((PROBE_IPZ_DEPTH + 1u) * (AF_MAX_PARAMS + 1u) * AF_MAX_TYPE_SIZE)
#define PROBE_MXCSR   0x1f80u /* the MXCSR and x87 CW every call starts with */
#define PROBE_FCW     0x037fu

struct af_probe {
  uint8_t *mem;      /* malloc'd */
  uint8_t *lo, *hi;  /* the probe stack, 64-aligned */
  uint8_t *poison;   /* PROBE_POISON bytes (malloc'd): where volatile GPRs point after a call */
  uint8_t *refmem;   /* malloc'd; refs: 64-aligned in it */
  uint8_t *refs;     /* repaired by-reference copies: [slot][arg] of AF_MAX_TYPE_SIZE bytes */
  af_probe_frame *f; /* 64-aligned, in mem */
  /* the run in flight */
  const af_probe_opts *o;
  af_findings *fs;
  af_callinfo ci[AF_MAX_FUNCS];      /* every signature of the case, when the run classifies */
  const af_callinfo *cis;            /* the classification the run uses: o->ci, else ci */
  uint64_t call_align[AF_MAX_FUNCS]; /* probe_call_align of each, computed with it */
  af_rng rng;                        /* the garbage pattern */
  int ncalls;                        /* host calls so far */
  int nall;                          /* calls so far, host or not (the index into want.calls) */
  probe_call co;                     /* the callout in flight (between pre and post) */
  /* every call of function k makes tree_calls[k] calls, tree_host[k] of them to host
   * functions, nested ones included (bodies are straight-line: gen.h); counted when first
   * asked for (probe_tree: bit k of tree_done), not for every function of every run */
  int tree_calls[AF_MAX_FUNCS], tree_host[AF_MAX_FUNCS];
  uint32_t tree_done;
  probe_call ipz[PROBE_IPZ_DEPTH]; /* the interposers in flight, by shadow-stack depth */
  af_probe_observer obs;           /* af_probe_set_observer (replay); NULL: none */
  void *obs_u;
  int ran; /* a run was made (af_probe_last_frame, af_probe_callinfo) */
};

/* Reports one event to p's observer, if any (kind, call, argument / return fields). Inline:
 * without an observer (every run but replay's) the call and its ten arguments cost more than
 * nothing, once per argument of every probed call. */
void probe_observe_out(af_probe *p, af_probe_ev_kind kind, const probe_call *pc, int arg,
                       const af_probe_regs *regs, const af_probe_regs *call, const uint8_t *got,
                       uint32_t size, const af_value *want);
static inline void probe_observe(af_probe *p, af_probe_ev_kind kind, const probe_call *pc, int arg,
                                 const af_probe_regs *regs, const af_probe_regs *call,
                                 const uint8_t *got, uint32_t size, const af_value *want) {
  if (p->obs) probe_observe_out(p, kind, pc, arg, regs, call, got, size, want);
}

/* The garbage pattern: the next draw of p->rng, seeded by af_rng_seed (never in byte mode), so
 * exactly af_rng_next's xoshiro256** step (gen.h af_xoshiro_step; Blackman and Vigna's
 * reference), inline: a run draws a few hundred times (every volatile register after every
 * probed call), and the call per draw was a tenth of the probes' own cost. perf_finddump
 * (bench/perf_finddump.c) checks that every finding stays the same. */
static inline uint64_t probe_xoshiro(uint64_t *s) { return af_xoshiro_step(s); }
static inline uint64_t probe_garbage(af_probe *p) { return probe_xoshiro(p->rng.s); }

/* The same draws from a copy of the state in locals (probe_rng_take, then probe_rng_put when
 * done): for the loops that fill a register image, whose uint64_t stores the compiler must
 * otherwise assume may change p->rng (it reloads and stores the state around every draw). */
typedef struct {
  uint64_t s[4];
} probe_rng;
static inline probe_rng probe_rng_take(const af_probe *p) {
  /* four 8-byte loads, as probe_rng_put and probe_garbage store the state: the compiler made
   * them two 16-byte loads, each of which spans two 8-byte stores just made and so cannot be
   * forwarded from them (a store-forwarding stall on every take after a put; the empty asm
   * keeps the loads apart) */
  probe_rng r;
  uint64_t a = p->rng.s[0], b = p->rng.s[1], c = p->rng.s[2], d = p->rng.s[3];
  __asm__("" : "+r"(a), "+r"(b), "+r"(c), "+r"(d));
  r.s[0] = a, r.s[1] = b, r.s[2] = c, r.s[3] = d;
  return r;
}
static inline void probe_rng_put(af_probe *p, const probe_rng *r) {
  memcpy(p->rng.s, r->s, sizeof r->s);
}

/* Garbage over the bytes of d[0, n) whose mask byte (probe_defined_mask: 1 defined, 0 padding)
 * is 0, one draw per such byte in order, as a byte loop does it: eight defined bytes are passed
 * over in one test, and the state stays in locals (a byte store may alias it otherwise). */
static inline void probe_garbage_pad(af_probe *p, uint8_t *d, const uint8_t *mask, uint32_t n) {
  probe_rng g = probe_rng_take(p);
  for (uint32_t b = 0; b < n;) {
    uint64_t w;
    if (n - b >= 8 && (memcpy(&w, mask + b, 8), w == 0x0101010101010101ull)) {
      b += 8;
      continue;
    }
    if (!mask[b]) d[b] = (uint8_t)probe_xoshiro(g.s);
    b++;
  }
  probe_rng_put(p, &g);
}

/* n bytes of garbage at d: one draw per 8 bytes, little-endian, the last draw's low bytes for
 * a tail (what the byte-wise fill always wrote). The state in locals (probe_rng_take): d never
 * points into the probe object, but the compiler cannot know, and reloaded and stored the state
 * around every 8-byte store. */
static inline void probe_garbage_fill(af_probe *p, uint8_t *d, size_t n) {
  probe_rng g = probe_rng_take(p);
  for (; n >= 8; d += 8, n -= 8) {
    uint64_t w = probe_xoshiro(g.s);
    memcpy(d, &w, 8);
  }
  if (n) {
    uint64_t w = probe_xoshiro(g.s);
    memcpy(d, &w, n);
  }
  probe_rng_put(p, &g);
}
/* The 16 bytes of an XMM register's image at d: lo, then hi (little-endian), in one 16-byte
 * store. probe.S loads every XMM register of an image with one 16-byte load right after the C
 * side wrote it: two 8-byte stores under such a load cannot be forwarded to it (a
 * store-forwarding stall per register, 16 per image). */
static inline void probe_put128(uint8_t *d, uint64_t lo, uint64_t hi) {
  _mm_storeu_si128((__m128i *)(void *)d, _mm_set_epi64x((long long)hi, (long long)lo));
}
/* Marks in mask[0..size) the bytes of a value of `type` that hold some leaf (1) and leaves
 * padding bytes alone (the caller zeroes mask). */
void probe_defined_mask(const af_case *c, int type, uint8_t *mask, uint32_t base);
/* 1 for bool, i8, u8, i16, u16 (the SysV caller extends them to 32 bits). */
static inline int probe_is_narrow(int type) { return af_ext_narrow(type); }
/* Size in bytes of a value of type t as an argument (ptr: 8). Inline, like the next: every
 * argument of every probed call asks a few times. */
static inline uint32_t probe_type_size(const af_case *c, int t) {
  return t == AF_T_PTR ? 8 : c->types[t].size;
}
/* The convention's callee-saved GPRs but RSP (bit r: af_reg r) and XMM registers (bit x:
 * XMMx): the checks after a return walk the set bits only, not every register with a test. */
static inline uint32_t probe_saved_gprs(const af_abi *abi) {
  return (uint32_t)(abi->callee_saved & 0xffffu) & ~(1u << AF_RSP);
}
static inline uint32_t probe_saved_xmms(const af_abi *abi) {
  return (uint32_t)(abi->callee_saved >> AF_XMM0) & 0xffffu;
}
/* The x87 registers in use in an fnstenv image: tag word (bytes 8-9) pairs other than 3
 * (empty), counted without a loop. */
static inline int probe_x87_used(const uint8_t *fenv) {
  uint32_t tw = (uint32_t)(fenv[8] | fenv[9] << 8);
  uint32_t x = (~tw | ~tw >> 1) & 0x5555u; /* bit 2i: pair i is not 3 */
  x = (x & 0x3333u) + (x >> 2 & 0x3333u);  /* a popcount without libgcc's (no -mpopcnt) */
  x = (x + (x >> 4)) & 0x0f0fu;
  return (int)((x + (x >> 8)) & 0x1fu);
}
/* The register's bytes in an image (GPR: 8, XMM: 16). */
static inline uint8_t *probe_reg_bytes(af_probe_regs *r, af_reg reg) {
  if (reg >= AF_RAX && reg <= AF_R15) return (uint8_t *)&r->gpr[reg];
  return r->xmm[(unsigned)(reg - AF_XMM0) & 15]; /* callers pass XMM0-15 here */
}
/* memcpy(dst, src, n) with the usual 8 and 16 (a register part, a scalar) as fixed-size moves,
 * not a call to memcpy per register of every argument. */
static inline void probe_copy(uint8_t *dst, const uint8_t *src, uint32_t n) {
  if (n == 8)
    memcpy(dst, src, 8);
  else if (n == 16)
    memcpy(dst, src, 16);
  else
    memcpy(dst, src, n);
}
/* 1 if got holds exactly want's bytes and want is neither void nor a ptr: then af_value_diff
 * finds no difference (its own first test) and probe_wild_local none (a ptr only), and the
 * call with its ten arguments, for every argument and return that passes (nearly all), is
 * not made. 0: ask them. */
static inline int probe_same_value(const af_value *want, const uint8_t *got) {
  if (want->type == AF_T_VOID || want->type == AF_T_PTR || !want->size || !want->bytes) return 0;
  if (want->size == 8) return !memcmp(want->bytes, got, 8);
  if (want->size == 16) return !memcmp(want->bytes, got, 16);
  return !memcmp(want->bytes, got, want->size);
}
/* The trace's record of call m (host call n, -1 if not a host call) to function k: calls[m]
 * when the run interposes every JIT function (o->code), else host_calls[n]; or NULL (and a finding
 * `check`, "call M to fK", if the trace's call m goes elsewhere or the trace has fewer calls). */
const af_host_call *probe_record(af_probe *p, int m, int n, int k, const char *check);
/* Counts p->tree_calls[k] and p->tree_host[k] (and those of the functions k calls) unless
 * done in this run; no library call (an interposer's post runs it, under the probes). */
void probe_tree(af_probe *p, int k);
/* The alignment RSP must have at a call of ci: the convention's, or the largest over-aligned
 * stack slot's (psABI 3.2.2). */
uint64_t probe_call_align(const af_callinfo *ci, const af_abi *abi);
/* 1 if [a, a + size) lies in the probe stack (every caller frame of a run lies there). */
int probe_in_stack(const af_probe *p, uint64_t a, uint32_t size);
/* The checks at a call (stack-align, df, mxcsr, x87cw, vararg-al, sret-ptr, arg, vararg-dup,
 * arg-ext) from the registers at the callee's entry (e->gpr[AF_RSP]: the return address);
 * fills pc->bad, pc->sret_fix, pc->wild and the by-reference copies. */
void probe_check_call(af_probe *p, probe_call *pc, const af_probe_regs *e);
/* The 8 bytes at b. */
uint64_t probe_u64(const uint8_t *b);
/* 1 if want is a ptr to a local region (obj -1: its address is not known) and got is not in
 * the probe stack, where every local region lies (in its function's frame). */
int probe_wild_local(const af_probe *p, const af_value *want, const uint8_t *got);
/* A 64-aligned region of AF_REGION_SIZE bytes in the poison area: what a wild pointer to a
 * local region is replaced by. */
uint8_t *probe_poison_region(const af_probe *p);
/* Repairs what the checks of pc named, so that what the callee does next is checked on its own
 * and not as a consequence of its caller's bug (or crashes the run, losing the findings): a
 * wild sret pointer: a buffer of the probe's (in e and x); every argument that was not what the
 * trace says ("arg"): the trace's value where the callee's convention puts it (registers in x,
 * stack slots at at_call: RSP at the call; a by-reference argument: a fresh copy, its address
 * in x or the slot), a ptr as its object's address (one to a local region, whose address the
 * trace cannot name: the poison region), padding garbage. */
void probe_repair_call(af_probe *p, const probe_call *pc, af_probe_regs *e, af_probe_regs *x,
                       uint8_t *at_call);
/* The repair area of argument i of pc (i == AF_MAX_PARAMS: its sret buffer). */
uint8_t *probe_ref_copy(const af_probe *p, const probe_call *pc, int i);
/* The image a callee of pc returns with (x), given the registers at its entry (e) and the
 * return registers it left (rax, rdx, xmm0, xmm1): volatile registers garbage but the return
 * value's bytes, callee-saved as at entry, DF clear, MXCSR / x87 CW as at entry; garbage over
 * the return value's padding, the stack argument slots, the Win64 home space and the
 * by-reference copies. */
void probe_exit_image(af_probe *p, const probe_call *pc, const af_probe_regs *e, af_probe_regs *x,
                      uint64_t rax, uint64_t rdx, const uint8_t *xmm0, const uint8_t *xmm1);
/* "arg I of call N to fK" etc. in findings */
void probe_add(af_probe *p, const char *check, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
