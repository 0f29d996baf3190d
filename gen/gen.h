/* gen.h - abifuzz's foundation: the case model, the ABI description and classifiers,
 * the .case text format, the seeded generator and the reference interpreter. */
#ifndef ABIFUZZ_GEN_H
#define ABIFUZZ_GEN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define AF_VERSION "0.1.0"
#define AF_GEN_VERSION 2 /* bump when (seed, index) -> case changes (2: sysv-i128-stack-align) */

/* ------------------------------------------------------------------------- */
/* Status codes. Library code never exits; a finding is data, not an error.   */
/* ------------------------------------------------------------------------- */
typedef enum {
  AF_OK = 0,
  AF_ERR_NOMEM,       /* allocation failed */
  AF_ERR_PARSE,       /* malformed .case / weights text */
  AF_ERR_INVALID,     /* a case that breaks a rule of the model (af_verify) */
  AF_ERR_IO,          /* file could not be read or written */
  AF_ERR_UNSUPPORTED, /* valid, but this component cannot handle it */
  AF_ERR_LIMIT,       /* a fixed limit (AF_MAX_*) was exceeded */
  AF_ERR_RUNTIME,     /* interpreter: out-of-bounds access, budget exhausted */
} af_status;

const char *af_strerror(af_status s);

/* An error with a message: "file:line:col: message" for the parser,
 * a sentence for the others. Filled by functions taking an af_error *. */
typedef struct {
  char msg[256];
} af_error;

/* ------------------------------------------------------------------------- */
/* Limits (the verifier enforces them; the parser rejects beyond them).       */
/* ------------------------------------------------------------------------- */
#define AF_MAX_FUNCS 16    /* functions in a case, host ones included */
#define AF_MAX_PARAMS 32   /* parameters of one signature (fixed + variadic) */
#define AF_MAX_FIELDS 64   /* fields of one struct/union */
#define AF_MAX_TYPES 256   /* type table entries, scalars included */
#define AF_MAX_INSTS 1024  /* instructions of one function */
#define AF_MAX_PATH 8      /* indices in one get/set path */
#define AF_MAX_OBJECTS 16  /* memory objects of a case */
#define AF_MAX_TYPE_SIZE 512 /* bytes of one type */
#define AF_REGION_SIZE 128 /* bytes of every memory region (object or local) */

/* ------------------------------------------------------------------------- */
/* Calling conventions                                                        */
/* ------------------------------------------------------------------------- */
typedef enum { AF_CC_SYSV = 0, AF_CC_WIN64 = 1, AF_CC_COUNT } af_cc;

const char *af_cc_name(af_cc cc);              /* "sysv", "win64" */
int af_cc_parse(const char *s, af_cc *out);    /* 0 ok, -1 unknown */

/* ------------------------------------------------------------------------- */
/* Types                                                                      */
/* ------------------------------------------------------------------------- */
/* Scalar kinds double as their own type ids: the type table of every case
 * starts with one entry per scalar kind, in this order (af_case_init). */
typedef enum {
  AF_T_VOID = 0,
  AF_T_BOOL,
  AF_T_I8, AF_T_U8, AF_T_I16, AF_T_U16, AF_T_I32, AF_T_U32, AF_T_I64, AF_T_U64,
  AF_T_I128, AF_T_U128,
  AF_T_F16,  /* _Float16: needs an oracle compiler that supports it */
  AF_T_F32, AF_T_F64,
  AF_T_F80,  /* long double, x87 80-bit, size 16 align 16 */
  AF_T_CF32, /* _Complex float */
  AF_T_CF64, /* _Complex double */
  AF_T_PTR,  /* void *, points to an AF_REGION_SIZE region */
  AF_T_M128, /* __m128 (4 x float) */
  AF_T_M256, /* __m256 (8 x float), native-only: needs AVX */
  AF_T_NSCALAR,
  /* composite kinds: never a type id by themselves */
  AF_T_STRUCT = AF_T_NSCALAR,
  AF_T_UNION,
  AF_T_ARRAY, /* only as a field type */
} af_kind;

typedef struct {
  int type;        /* field type id */
  int bits;        /* bit-field width; -1 = not a bit-field; 0 = unnamed zero-width */
  int align;       /* explicit _Alignas on the field; 0 = none */
  /* computed by af_layout(): */
  uint32_t offset;     /* byte offset (bit-field: bit_offset / 8) */
  uint32_t bit_offset; /* offset in bits from the start of the aggregate */
} af_field;

typedef struct {
  af_kind kind;
  /* AF_T_STRUCT / AF_T_UNION */
  int nfields;
  af_field *fields;
  int packed;      /* __attribute__((packed)) */
  int align;       /* __attribute__((aligned(N))) on the type; 0 = none; 1..64 */
  /* AF_T_ARRAY */
  int elem;        /* element type id */
  uint32_t count;  /* >= 1 */
  /* computed by af_layout() (scalars: filled by af_case_init) */
  uint32_t size;
  uint32_t alignment;
} af_type;

/* Properties of a scalar kind (size, alignment, C spelling, text name). */
typedef struct {
  const char *name;  /* text-format name: "i32", "f80", "m128" ... */
  const char *c;     /* C spelling: "int32_t", "long double", "__m128" ... */
  uint8_t size, align;
  uint8_t is_int, is_signed, is_float; /* is_float: f16 f32 f64 f80 */
} af_scalar_info;
const af_scalar_info *af_scalar(af_kind k); /* NULL for composite kinds */

/* ------------------------------------------------------------------------- */
/* Signatures                                                                 */
/* ------------------------------------------------------------------------- */
/* A variadic signature lists ALL arguments its call sites pass: the first
 * nfixed are the named parameters, the rest are passed through "..." and are
 * read by the callee with va_arg in order on entry. Variadic argument types
 * must be default-promoted types (no bool, i8-u16, f16, f32; af_verify). */
typedef struct {
  af_cc cc;
  int ret;              /* return type id (AF_T_VOID allowed) */
  int nparams;
  int params[AF_MAX_PARAMS];
  int variadic;         /* 0/1 */
  int nfixed;           /* == nparams unless variadic; >= 1 when variadic */
} af_sig;

/* ------------------------------------------------------------------------- */
/* Values: the bytes of a value of one type, as it lies in memory.            */
/* ------------------------------------------------------------------------- */
/* Scalars little-endian; f80 in its first 10 bytes (6 bytes padding, zero);
 * bool one byte 0 or 1; aggregates all their bytes, padding included (its
 * content never matters); ptr: no bytes, `obj` names the memory object the
 * pointer points to (offset 0). */
typedef struct {
  int type;
  int obj;           /* AF_T_PTR only: object index */
  uint32_t size;     /* == type size */
  uint8_t *bytes;    /* size bytes, owned by the case */
} af_value;

/* A memory object: AF_REGION_SIZE bytes, 64-aligned, initial contents. */
typedef struct {
  uint8_t init[AF_REGION_SIZE];
} af_object;

/* ------------------------------------------------------------------------- */
/* Bodies: straight-line SSA, defined semantics, no undefined behaviour.      */
/* ------------------------------------------------------------------------- */
/* Value ids: the parameters are v0..v(nparams-1); every instruction that
 * produces a value defines the next id, in order. Operand ids refer to earlier
 * values only. "T" below is inst.type.
 *
 *   CONST   T          -> T    value = inst.cst (any non-ptr type)
 *   ADD SUB MUL AND OR XOR  T a b -> T   integer types i8..u128, wrapping
 *   SHL LSHR ASHR T a b -> T   shift amount = b mod width(T) (b of type T,
 *                              taken unsigned); ASHR is arithmetic, LSHR logical
 *   CMP     T a b      -> bool inst.imm = af_cmp; a b of integer or bool type T;
 *                              signedness of T decides LT/LE
 *   SELECT  T c a b    -> T    c bool; any type T
 *   SEXT ZEXT T a      -> T    a integer narrower or equal; sign/zero-extend
 *                              from a's width (bool zero-extends)
 *   TRUNC   T a        -> T    a integer wider or equal; keep low bits;
 *                              T == bool: result = (a & 1)
 *   FADD FSUB FMUL T a b -> T  T in f32 f64 f80; IEEE, round to nearest
 *   FCONV   T a        -> T    float -> float (f16 f32 f64 f80), IEEE rounding
 *   FTOI    T a        -> T    float -> integer T (not bool), saturating:
 *                              NaN -> 0, below min -> min, above max -> max,
 *                              else truncation toward zero
 *   ITOF    T a        -> T    integer (signedness of a's type) -> float T
 *   BITCAST T a        -> T    same size int <-> f16/f32/f64 (not f80)
 *   GET     T agg path -> T    T = the leaf's type; path walks struct/union
 *                              fields, array elements, complex parts (0 re,
 *                              1 im) and vector lanes (m128/m256: f32 lanes)
 *   SET     T agg val path -> T  T = agg's type; a copy of agg with the leaf
 *                              replaced (bit-fields truncate to their width)
 *   LOAD    T p        -> T    T integer, f16 f32 f64, complex or vector
 *                              (never bool, f80 or ptr); bytes
 *                              [imm, imm+size(T)) of p's region (memcpy)
 *   STORE   T p v      -> -    same bounds rule; no value
 *   LOCAL              -> ptr  a fresh zeroed region of this call, aligned to
 *                              inst.imm (16, 32 or 64)
 *   CALL    T args...  -> T    callee = function inst.imm; args match its
 *                              signature (all nparams); no value if void
 *   MIX     u64 a...   -> u64  folds every bit of every operand (every leaf
 *                              field, padding excluded) into a hash seeded by
 *                              inst.imm; see af_fold_* below
 *   RET     [v]        -> -    last instruction, exactly once
 *
 * Calls form no cycle: a CALL's callee index is greater than the caller's.
 * Host functions (af_func.host) contain no CALL and no LOCAL.
 * Union members (recursively) admit every bit pattern: integers, f16 f32 f64,
 * complex, vectors, bit-fields; no bool (except as a 1-bit bit-field), no f80.
 * Bit-fields: bool (width 1) and i8..u64, width <= the type's; zero-width
 * ones are unnamed. Value bytes: a bool is 0 or 1, an f80 is a canonical x87
 * encoding (integer bit set iff the exponent is non-zero).
 *
 * Pointers come only from parameters, LOCAL, SELECT and CALL results; they
 * are never stored, never fields, never constants. A function never returns a
 * pointer derived from one of its own LOCALs (af_verify tracks this). */
typedef enum {
  AF_OP_CONST,
  AF_OP_ADD, AF_OP_SUB, AF_OP_MUL, AF_OP_AND, AF_OP_OR, AF_OP_XOR,
  AF_OP_SHL, AF_OP_LSHR, AF_OP_ASHR,
  AF_OP_CMP, AF_OP_SELECT,
  AF_OP_SEXT, AF_OP_ZEXT, AF_OP_TRUNC,
  AF_OP_FADD, AF_OP_FSUB, AF_OP_FMUL, AF_OP_FCONV, AF_OP_FTOI, AF_OP_ITOF,
  AF_OP_BITCAST,
  AF_OP_GET, AF_OP_SET,
  AF_OP_LOAD, AF_OP_STORE, AF_OP_LOCAL,
  AF_OP_CALL, AF_OP_MIX, AF_OP_RET,
  AF_OP_COUNT
} af_op;

typedef enum { AF_CMP_EQ, AF_CMP_NE, AF_CMP_LT, AF_CMP_LE, AF_CMP_COUNT } af_cmp;

const char *af_op_name(af_op op); /* text-format mnemonic: "add", "get" ... */

#define AF_MAX_OPERANDS AF_MAX_PARAMS

typedef struct {
  af_op op;
  int type;                   /* result type (STORE: stored type; RET: return type) */
  int dst;                    /* value id defined, -1 if none */
  int nargs;
  int args[AF_MAX_OPERANDS];  /* operand value ids */
  int64_t imm;                /* CMP: af_cmp; LOAD/STORE: offset; LOCAL: align;
                                 CALL: callee index; MIX: seed */
  int npath;
  int path[AF_MAX_PATH];      /* GET/SET */
  af_value cst;               /* CONST */
} af_inst;

typedef struct {
  af_sig sig;
  int host;         /* 1: supplied by the harness (a host function the code
                       under test calls); 0: code under test (the JIT's) */
  int ninsts, cap_insts;
  af_inst *insts;     /* grown by af_inst_add */
  int nvalues;      /* nparams + defined values (af_fn_finish computes it) */
  int *value_type;  /* [nvalues] type of every value id */
} af_func;

/* ------------------------------------------------------------------------- */
/* A case                                                                     */
/* ------------------------------------------------------------------------- */
typedef struct {
  /* header (comments of the text format, kept for replay) */
  uint64_t seed;
  uint64_t index;
  int gen_version;
  af_cc cc;               /* the convention the case exercises (the entry's) */

  int ntypes;
  af_type types[AF_MAX_TYPES];

  int nobjects;
  af_object objects[AF_MAX_OBJECTS];

  int nfuncs;
  af_func funcs[AF_MAX_FUNCS];

  int entry;              /* index of the entry function (not host) */
  int ninputs;            /* == funcs[entry].sig.nparams */
  af_value inputs[AF_MAX_PARAMS];

  /* bump arena for every variable-sized part (fields, insts, bytes) */
  struct af_arena *arena;
} af_case;

af_status af_case_init(af_case *c);   /* empty case with the scalar types */
void af_case_free(af_case *c);        /* frees everything the arena holds */
void *af_case_alloc(af_case *c, size_t n); /* zeroed, 16-aligned; NULL on OOM */

/* Builders (also used by the parser and the generator). */
int af_type_add_struct(af_case *c, af_kind kind /* STRUCT or UNION */, int nfields,
                       const af_field *fields, int packed, int align); /* -1 on error */
int af_type_add_array(af_case *c, int elem, uint32_t count);          /* -1 on error */
af_status af_layout(af_case *c);      /* computes size/alignment/offsets of every type */
/* Returns the index of a new function, -1 if full. */
int af_func_add(af_case *c, const af_sig *sig, int host);
/* Appends an instruction (copied; cst bytes copied into the arena) and
 * assigns inst.dst; returns the value id defined, -1 if none; -2 on error. */
int af_inst_add(af_case *c, int func, const af_inst *inst);
af_status af_fn_finish(af_case *c, int func); /* computes nvalues/value_type */
af_status af_value_init(af_case *c, af_value *v, int type); /* zeroed bytes */

/* Type helpers */
const char *af_type_name(const af_case *c, int type, char *buf, size_t n); /* "i32", "t21" */
int af_type_is_int(const af_case *c, int type);    /* i8..u128 (not bool) */
int af_type_is_float(const af_case *c, int type);  /* f16 f32 f64 f80 */
int af_type_is_aggregate(const af_case *c, int type); /* struct / union */
int af_type_has(const af_case *c, int type, af_kind k); /* contains kind k anywhere */

/* Where a GET/SET path leads from a value of type `type` (the walk gen.h's
 * GET describes): the leaf's type and byte offset, or for a bit-field leaf its
 * declared type, width and bit offset from the start of the outer value.
 * AF_ERR_INVALID on a path the model rejects (af_verify names the reason). */
typedef struct {
  int type;            /* leaf type (bit-field: its declared type) */
  uint32_t offset;     /* byte offset of the leaf (not a bit-field) */
  int bits;            /* -1, or the bit-field's width */
  uint32_t bit_offset; /* bit-field: bits from the start of the outer value */
} af_leaf;
af_status af_path_leaf(const af_case *c, int type, const int *path, int npath, af_leaf *out);

/* Checks every rule of the model (types, operands, bounds, pointers, limits).
 * AF_OK or AF_ERR_INVALID with a sentence naming the function and value. */
af_status af_verify(const af_case *c, af_error *err);

/* ------------------------------------------------------------------------- */
/* Folding: the hash every checksum and MIX uses (the C emitter writes the    */
/* same functions into each file).                                            */
/* ------------------------------------------------------------------------- */
/* h' = af_fold_u64(h, x): one 64-bit chunk. Leaves fold as:
 *   bool, i8..u64: (uint64_t) of the value (signed types sign-extend)
 *   i128/u128: low 64 bits, then high 64 bits
 *   f16/f32/f64: their bits zero-extended; a NaN folds as the canonical quiet
 *                NaN (0x7e00, 0x7fc00000, 0x7ff8000000000000)
 *   f80: mantissa (bytes 0-7), then sign+exponent (bytes 8-9); NaN canonical
 *        (0xc000000000000000, 0x7fff)
 *   cf32/cf64: real part, then imaginary part, as floats
 *   m128/m256: raw bytes as 2/4 little-endian u64 (no canonicalisation)
 *   ptr: af_ptr_id (object k at offset o: ((k+1) << 32) | o; anything else
 *        0xffffffff00000000)
 *   struct/union/array: every leaf in field order (unions: every member);
 *        zero-width and padding bits never fold */
static inline uint64_t af_fold_u64(uint64_t h, uint64_t x) {
  h ^= x + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  h ^= h >> 31;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 29;
  return h;
}

/* ------------------------------------------------------------------------- */
/* ABI description: every rule once, as data (gen/abi.c cites the sources).  */
/* ------------------------------------------------------------------------- */
typedef enum {
  AF_RAX, AF_RCX, AF_RDX, AF_RBX, AF_RSP, AF_RBP, AF_RSI, AF_RDI,
  AF_R8, AF_R9, AF_R10, AF_R11, AF_R12, AF_R13, AF_R14, AF_R15,
  AF_XMM0, AF_XMM1, AF_XMM2, AF_XMM3, AF_XMM4, AF_XMM5, AF_XMM6, AF_XMM7,
  AF_XMM8, AF_XMM9, AF_XMM10, AF_XMM11, AF_XMM12, AF_XMM13, AF_XMM14, AF_XMM15,
  AF_ST0,
  AF_REG_COUNT,
  AF_REG_NONE = -1
} af_reg;

const char *af_reg_name(af_reg r); /* "rax", "xmm7", "st0" */

/* How narrow (< 32-bit) integer arguments are left in their register. */
typedef enum {
  AF_EXT_NONE,      /* only the declared bits are defined (Win64) */
  AF_EXT_TO_32,     /* callers sign/zero-extend to 32 bits (SysV de facto,
                       clang callees rely on it); bool: bits 1-7 zero */
} af_ext_rule;

typedef struct {
  af_cc cc;
  const char *name;
  int n_int_args;
  af_reg int_args[6];     /* integer argument registers, in order */
  int n_sse_args;
  af_reg sse_args[8];     /* vector argument registers, in order */
  int positional;         /* Win64: argument k takes slot k (int or sse) */
  int max_reg_args;       /* Win64: 4 slots in all; SysV: 6 + 8 */
  af_reg int_ret[2];
  af_reg sse_ret[2];
  af_reg sret_in;         /* hidden return-buffer pointer: RDI / RCX */
  af_reg sret_out;        /* returned in RAX by both */
  int home_space;         /* bytes the caller reserves above the return address */
  int red_zone;           /* bytes below RSP a leaf may use */
  int stack_align;        /* RSP alignment at every call instruction */
  int stack_slot;         /* size of one stack argument slot */
  uint64_t callee_saved;  /* bit per af_reg (XMMn: its low 128 bits) */
  int vararg_al;          /* SysV: AL = upper bound of vector regs used */
  int vararg_dup_float;   /* Win64: float varargs in both GPR and XMM */
  int vararg_f80_memory;  /* SysV: long double varargs in memory (always) */
  af_ext_rule narrow_ext;
} af_abi;

const af_abi *af_abi_get(af_cc cc);

/* The narrow-integer rule (af_abi.narrow_ext), the one implementation every probe uses.
 * af_ext_narrow: 1 if `type` is one the rule speaks of (bool, i8, u8, i16, u16).
 * af_ext_apply: what a correct caller leaves in the low 4 bytes of the register or stack slot
 *   holding such a value (AF_EXT_TO_32: sign/zero-extended to 32 bits, bool 0/1); nothing for
 *   AF_EXT_NONE or a type it does not cover.
 * af_ext_holds: 1 if those 4 bytes are as the rule requires (always 1 for AF_EXT_NONE). */
int af_ext_narrow(int type);
void af_ext_apply(af_ext_rule rule, int type, uint8_t *slot);
int af_ext_holds(af_ext_rule rule, int type, const uint8_t *slot);

/* SysV eightbyte classes (psABI 3.2.3). */
typedef enum {
  AF_CLS_NO_CLASS, AF_CLS_INTEGER, AF_CLS_SSE, AF_CLS_SSEUP, AF_CLS_X87,
  AF_CLS_X87UP, AF_CLS_COMPLEX_X87, AF_CLS_MEMORY
} af_class;
const char *af_class_name(af_class k);

/* Where one argument or the return value lives. */
typedef enum {
  AF_LOC_NONE,   /* void return, or an ignored (empty) argument */
  AF_LOC_REG,    /* in registers: parts[] */
  AF_LOC_STACK,  /* in the argument area at stack_offset (by value) */
  AF_LOC_REF,    /* Win64 by reference: the caller's 16-aligned copy; the
                    pointer is in parts[0].reg or at stack_offset */
  AF_LOC_SRET,   /* return only: caller buffer, pointer in sret_in, the
                    callee returns it in sret_out */
  AF_LOC_X87,    /* return only: ST0 (long double) */
} af_loc_kind;

typedef struct {
  af_reg reg;
  af_class cls;       /* INTEGER / SSE (SysV classes; Win64 uses the same) */
  uint16_t offset;    /* first byte of the value this register holds */
  uint16_t size;      /* bytes of the value in it (1..16) */
} af_part;

typedef struct {
  af_loc_kind kind;
  int nparts;         /* AF_LOC_REG: 1 or 2; AF_LOC_REF in a register: 1 */
  af_part parts[2];
  af_reg dup;         /* Win64 variadic float: the GPR that also holds it */
  int32_t stack_offset; /* AF_LOC_STACK / AF_LOC_REF on the stack: byte offset
                           from RSP at the call instruction (so 8(%rsp) more at
                           the callee's entry); Win64 counts the home space */
  uint32_t stack_size;  /* bytes of the slot(s) */
  uint32_t stack_align; /* alignment of the slot */
  af_class cls[4];      /* SysV: class of each eightbyte (diagnostics) */
  int ncls;
} af_loc;

typedef struct {
  af_cc cc;
  af_loc ret;
  int nargs;
  af_loc args[AF_MAX_PARAMS];
  int sret;             /* 1 if the return goes through a hidden pointer */
  uint32_t stack_bytes; /* bytes of the outgoing argument area the caller
                           needs, home space included, rounded to 16 */
  int sse_used;         /* SysV: vector registers used (AL for varargs) */
  int int_used;         /* integer argument registers used (sret included) */
  int divergent;        /* 1 if gcc and clang disagree here (see abi.c table) */
} af_callinfo;

/* Classifies a signature under its own convention (sig->cc). */
af_status af_classify(const af_case *c, const af_sig *sig, af_callinfo *out,
                      af_error *err);

/* Notes on af_classify's output (gen/classify_*.c, doc/abi.md):
 * - a __m256 in a register is one part {reg = XMMn meaning YMMn, size 32};
 * - part sizes count bytes within the type's size, tail padding included
 *   ({double,int}: xmm0 bytes 0+8, rdi bytes 8+8);
 * - an empty (size 0) argument is AF_LOC_NONE on SysV (it takes nothing) and
 *   AF_LOC_REF on Win64 (gcc and clang pass a pointer in its slot);
 * - err may be NULL;
 * - only args[0, nargs) are written: args[nargs..] are left as they were (nothing reads
 *   them; clearing all 32 was most of a short signature's cost). */

/* Known gcc/clang divergences (gen/abi.c): constructs that compiler families,
 * or versions of one, lower differently. af_classify follows clang 19 on
 * Win64 and the psABI text on SysV (where gcc or clang depart from it, the
 * table says so), and sets af_callinfo.divergent when a signature hits an
 * entry. */
typedef enum { AF_FAMILY_GCC, AF_FAMILY_CLANG, AF_FAMILY_COUNT } af_family;
const char *af_family_name(af_family f); /* "gcc", "clang" */

typedef struct {
  af_family family;
  int ver_lo, ver_hi;   /* major versions, inclusive; 0 = unbounded */
  int as_model;         /* 1: these versions do what af_classify says */
  const char *behaviour;
} af_divergence_side;

typedef struct {
  const char *id;       /* "win64-f80-ret" */
  af_cc cc;
  int match;            /* private matcher kind (gen/abi_internal.h) */
  const char *construct; /* what triggers it */
  const char *ref;      /* evidence: bug / PR numbers, "seen" */
  int nsides;
  af_divergence_side sides[4];
} af_divergence;

int af_divergence_count(void);
const af_divergence *af_divergence_get(int i); /* NULL out of range */
/* Number of table entries this signature hits (0: gcc and clang of every
 * listed version agree); *why (optional) = id of the first. */
int af_abi_divergences(const af_case *c, const af_sig *sig, const char **why);
/* 1 if `family` at major `version` (0 = any version) is known to lower this
 * signature differently from af_classify; *why (optional) = the entry id. */
int af_abi_deviates(const af_case *c, const af_sig *sig, af_family family, int version,
                    const char **why);

/* ------------------------------------------------------------------------- */
/* The .case text format (doc/case-format.md)                                 */
/* ------------------------------------------------------------------------- */
/* Writes the canonical text: af_print(af_parse(x)) == x for any printed x. */
af_status af_print(const af_case *c, FILE *out);
/* Same into a malloc'd NUL-terminated string (*out, caller frees). */
af_status af_print_str(const af_case *c, char **out, size_t *len);
/* Parses text (len bytes, need not be NUL-terminated) into a fresh case
 * (af_case_init is called; free with af_case_free even on error). Errors are
 * "name:line:col: message". Runs af_layout and af_verify. */
af_status af_parse(const char *name, const char *text, size_t len, af_case *out,
                   af_error *err);
af_status af_parse_file(const char *path, af_case *out, af_error *err);

/* ------------------------------------------------------------------------- */
/* RNG and generator                                                          */
/* ------------------------------------------------------------------------- */
typedef struct {
  uint64_t s[4];              /* xoshiro256** state */
  const uint8_t *bytes;       /* byte mode: draws come from here */
  size_t nbytes, pos;
} af_rng;

void af_rng_seed(af_rng *r, uint64_t seed, uint64_t index); /* splitmix64 */
void af_rng_bytes(af_rng *r, const uint8_t *data, size_t n); /* byte mode: when
                                 the bytes run out, draws continue from a
                                 xoshiro state seeded by them */
uint64_t af_rng_next(af_rng *r);
uint64_t af_rng_below(af_rng *r, uint64_t n);  /* uniform in [0, n), n >= 1 */
/* One xoshiro256** 1.0 step (Blackman, Vigna) on a bare state: the one implementation, inline
 * for the hot draws (the generator's, gen/rng_internal.h; the probes' garbage, harness/). */
static inline uint64_t af_xoshiro_step(uint64_t s[4]) {
  uint64_t x = s[1] * 5, result = ((x << 7) | (x >> 57)) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = (s[3] << 45) | (s[3] >> 19);
  return result;
}

/* The weights table: every axis of the generator, named. A weight file holds
 * "axis.value = N" lines (doc/weights.md). */
typedef struct af_weights af_weights;
af_weights *af_weights_default(void);          /* fresh copy; free with af_weights_free */
void af_weights_free(af_weights *w);
af_status af_weights_load(af_weights *w, const char *path, af_error *err);
af_status af_weights_set(af_weights *w, const char *key, long value, af_error *err);
af_status af_weights_print(const af_weights *w, FILE *out);
/* Axis enumeration, for coverage tests: axis i has nvalues names. */
int af_weights_naxes(const af_weights *w);
const char *af_weights_axis(const af_weights *w, int axis);
int af_weights_nvalues(const af_weights *w, int axis);
const char *af_weights_value(const af_weights *w, int axis, int value);

typedef struct {
  const af_weights *weights;  /* NULL: defaults */
  int cc;                     /* -1: drawn from weights; else af_cc */
  int allow_f16;              /* oracle compiler supports _Float16 */
  int allow_m256;             /* native-only legs: __m256 allowed */
  int allow_divergent;        /* draw constructs gcc and clang disagree on */
} af_gen_opts;

void af_gen_opts_default(af_gen_opts *o);

/* Case `index` of `seed`: the same on every machine. On success *out holds a
 * verified case (with the default weights by construction, af_verify run on one index in 64:
 * generate.c; test_gen and test_gen_fast run af_verify on such cases; af_gen_bytes and custom
 * weights run it on every case). `axes` (optional, naxes ints) receives the value drawn on
 * each axis that this case exercises (-1 where not exercised): see
 * af_weights_axis. */
af_status af_gen_case(const af_gen_opts *o, uint64_t seed, uint64_t index,
                      af_case *out, int *axes, af_error *err);
/* The same from raw bytes (libFuzzer): any byte buffer yields a valid case. */
af_status af_gen_bytes(const af_gen_opts *o, const uint8_t *data, size_t n,
                       af_case *out, int *axes, af_error *err);

/* ------------------------------------------------------------------------- */
/* The reference interpreter                                                  */
/* ------------------------------------------------------------------------- */
/* One call as the interpreter saw it (for the harness's callout checks). */
typedef struct {
  int callee;                   /* function index (host) */
  int nargs;
  af_value args[AF_MAX_PARAMS]; /* bytes malloc'd; af_interp_result_free; args[nargs..] are
                                   not written (nothing reads them) */
  af_value ret;
  /* The call's effect on memory, so that a peer answering from this trace (a compiled
   * callee stub) can reproduce it: for every ptr argument i, after[i * AF_REGION_SIZE ..]
   * holds its region's AF_REGION_SIZE bytes as the call left them (NULL when the call has no
   * ptr argument; malloc'd). A ptr return: ret_arg is the first ptr argument pointing to the
   * same region (host functions return one of their arguments), -1 otherwise. */
  uint8_t *after;
  int ret_arg;
} af_host_call;

typedef struct {
  uint64_t checksum;            /* the value both outputs print last */
  af_value ret;                 /* the entry's return value (bytes malloc'd) */
  uint8_t objects[AF_MAX_OBJECTS][AF_REGION_SIZE]; /* final object contents */
  int nhost_calls;
  af_host_call *host_calls;     /* in call order; malloc'd, af_interp_result_free */
  /* Every call the run made (host or not), in the order made (a call's record comes before
   * those of the calls it makes): what a probe checks at each call between JIT functions. */
  int ncalls;
  af_host_call *calls;
  uint64_t steps;
  /* af_interp's own: the blocks that hold every `bytes` and `after` above (the records' and
   * ret's), freed at once by af_interp_result_free (a malloc and a free per value was ~1% of a
   * case). NULL: each of them is its own malloc, as before. Nobody else reads or frees it. */
  void *arena;
} af_interp_result;

/* Runs the entry on the case's inputs. Host functions run their own bodies.
 * max_steps bounds executed instructions (0 = default 1e6). */
af_status af_interp(const af_case *c, uint64_t max_steps, af_interp_result *res,
                    af_error *err);
void af_interp_result_free(af_interp_result *res);

/* The checksum: h = 0; h = fold of the entry's return value (nothing for
 * void); then for every object k in order, its AF_REGION_SIZE final bytes as
 * 16 little-endian u64 chunks through af_fold_u64. Both the interpreter and
 * the emitted C print it as the last line of their output:
 * "checksum 0x%016llx". */
#define AF_CHECKSUM_FMT "checksum 0x%016llx\n"

/* One scalar conversion exactly as the interpreter computes it (for code that
 * must agree with it bit for bit, such as the JIT's runtime helpers): op is
 * FCONV, FTOI or ITOF, `a` holds a value of type `from`, `d` receives one of
 * type `to`, both in the model's byte representation. AF_ERR_INVALID for a
 * pair the op does not take, AF_ERR_UNSUPPORTED for f16 in a build without
 * _Float16. */
af_status af_eval_conv(af_op op, int from, int to, const uint8_t *a, uint8_t *d);

/* Bit-field bits [bit_offset, bit_offset + bits) of p: read (sign-extended to 64
 * bits when is_signed) and written (the low `bits` bits of x). */
uint64_t af_bitfield_get(const uint8_t *p, uint32_t bit_offset, int bits, int is_signed);
void af_bitfield_set(uint8_t *p, uint32_t bit_offset, int bits, uint64_t x);

/* Folding a value (the same walk MIX and the checksum use). */
uint64_t af_fold_value(const af_case *c, uint64_t h, const af_value *v);
/* The same walk over the bytes p of a value of `type` (a ptr leaf folds as ptr_id): what the
 * harness uses to compare one leaf of a value it read back from registers or memory. */
uint64_t af_fold_bytes(const af_case *c, uint64_t h, int type, const uint8_t *p, uint64_t ptr_id);
/* MIX's fold of one operand as compiled code holds it in memory (p: its bytes; a ptr: the
 * pointer itself): a pointer folds as the id of the object among objects[0..nobjects) it equals
 * (pointers always point at a region's start), any other (a LOCAL) as the "no object" id. The
 * one runtime helper every code generator (our JIT, the llvm and gccjit backends) calls. */
uint64_t af_fold_operand(const af_case *c, uint8_t *const *objects, uint64_t h, const void *p,
                         int type);

/* ------------------------------------------------------------------------- */
/* The host CPU state code under test may leave broken (cpustate.c)           */
/* ------------------------------------------------------------------------- */
/* Whoever calls code under test straight from C (the JIT's runner, libffi, a compiled stub)
 * saves this before the call and restores it right after: a callee that returns with DF set
 * or another rounding mode (a bug the probes report) would otherwise break the harness. */
typedef struct {
  uint32_t mxcsr;
  uint16_t fcw;
} af_cpu_state;
void af_cpu_state_save(af_cpu_state *s);
void af_cpu_state_restore(const af_cpu_state *s); /* also clears DF */
/* For host code called BY code under test (a libffi closure's handler): 1 if DF was set at
 * the call (psABI 3.2.1 wants it clear), and clears it; 0 if it was clear. */
int af_cpu_df_clear_was_set(void);

#endif /* ABIFUZZ_GEN_H */
