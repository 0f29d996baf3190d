/* test_text_bad.h - part of test_text.c: malformed inputs and the truncation/mutation loop. */

/* A valid header, and the smallest valid body. */
#define H    "# abifuzz case, generator 1\n# seed 1 index 2 abi sysv\n"
#define FN   "func f0 sysv () -> void {\n  ret void\n}\n"
#define B    FN "entry f0\n"
#define OBJ0 "object 0 = " Z32 Z32 Z32 Z32 "\n"
#define Z32  "0000000000000000000000000000000000000000000000000000000000000000"

typedef struct {
  const char *text;
  af_status status;
  const char *frag; /* the message must contain this ("m:LINE:COL: ...") */
} bad_case;

static const bad_case bad[] = {
    {"", AF_ERR_PARSE, "m:1:1: expected the header line '# abifuzz case, generator N'"},
    {"# abifuzz case, generator x\n", AF_ERR_PARSE, "m:1:27: expected a number"},
    {"# abifuzz case, generator 99999999999\n", AF_ERR_PARSE, "m:1:27: number too large"},
    {"# abifuzz case, generator 1", AF_ERR_PARSE, "m:1:28: expected the end of the header line"},
    {"# abifuzz case, generator 1\r\n", AF_ERR_PARSE, "m:1:28: expected the end"},
    {"# abifuzz case, generator 1\n# seed x", AF_ERR_PARSE, "m:2:8: expected a number"},
    {"# abifuzz case, generator 1\n# seed 1 index 2 abi foo\n", AF_ERR_PARSE,
     "m:2:22: unknown calling convention 'foo'"},
    {"# abifuzz case, generator 1\n# seed 1 index 99999999999999999999 abi sysv\n", AF_ERR_PARSE,
     "m:2:16: number too large"},
    {H, AF_ERR_PARSE, "m:3:1: missing 'entry'"},
    {H "bogus", AF_ERR_PARSE, "m:3:1: expected type, object, func, entry or input, found 'bogus'"},
    {H "func\0", AF_ERR_PARSE, "m:3:5: unexpected byte 0x00"},
    {H "# caf\xc3\xa9\n" B, AF_ERR_PARSE, "m:3:6: unexpected byte 0xc3 in a comment"},
    {H "\x7f", AF_ERR_PARSE, "m:3:1: unexpected byte 0x7f"},
    {H "type t22 = struct { }\n", AF_ERR_PARSE, "m:3:1: expected type t21 next"},
    {H "type t21 = struct { i33 }\n", AF_ERR_PARSE, "m:3:21: expected a type, found 'i33'"},
    {H "type t21 = struct { t21 }\n", AF_ERR_PARSE, "m:3:21: type t21 is not defined"},
    {H "type t21 = struct { i32", AF_ERR_PARSE, "m:3:24: expected ',', found end of file"},
    {H "type t21 = struct { i32 i32 }", AF_ERR_PARSE, "m:3:25: expected ',', found 'i32'"},
    {H "type t21 = struct { i32:99999999999999999999999 }", AF_ERR_PARSE,
     "m:3:25: bit-field width out of range"},
    {H "type t21 = array 0 x i32\n", AF_ERR_PARSE, "m:3:18: array count out of range"},
    {H "type t21 = array 170141183460469231731687303715884105728 x u8\n", AF_ERR_PARSE,
     "m:3:18: array count out of range"},
    {H "type t21 = array -0x80000000000000000000000000000000 x u8\n", AF_ERR_PARSE,
     "m:3:18: array count out of range"},
    {H "type t21 = array 0x100000000000000000000000000000000 x u8\n", AF_ERR_PARSE,
     "m:3:18: array count out of range"},
    {H "type t21 = array 2 y i32\n", AF_ERR_PARSE, "m:3:20: expected 'x', found 'y'"},
    {H "type t21 = blob\n", AF_ERR_PARSE, "m:3:12: expected struct, union or array"},
    {H "type t21 = struct { void }\n", AF_ERR_PARSE, "m:3:21: void is not allowed here"},
    {H FN "type t21 = struct { }\n", AF_ERR_PARSE, "m:6:1: types must come before"},
    {H "type t21 = struct { f32:3 }\n" B, AF_ERR_INVALID,
     "m: type t21 field 0: bit-field of type f32"},
    {H "type t21 = union { f80 }\n" B, AF_ERR_INVALID, "m: type t21 field 0: union member f80"},
    {H "type t21 = array 500 x u64\n" B, AF_ERR_INVALID, "m: type layout failed"},
    {H "object 0 = 0011", AF_ERR_PARSE,
     "m:3:16: expected 126 more bytes of hex, found end of file"},
    {H "object 0 = 001", AF_ERR_PARSE, "m:3:12: expected 128 more bytes of hex, found '001'"},
    {H "object 0 = " Z32 Z32 Z32 Z32 "00\n", AF_ERR_PARSE,
     "m:3:12: expected 128 more bytes of hex, found '000000000000000000000000...'"},
    {H "object 0 = " Z32 Z32 Z32 Z32 " 00\n", AF_ERR_PARSE, "m:3:269: expected type, object"},
    {H "object 1 = 00\n", AF_ERR_PARSE, "m:3:1: expected object 0 next"},
    {H FN OBJ0, AF_ERR_PARSE, "m:6:1: objects must come before functions"},
    {H "func f1 sysv () -> void {\n", AF_ERR_PARSE, "m:3:1: expected f0 next"},
    {H "func f0 fastcall () -> void {\n", AF_ERR_PARSE,
     "m:3:9: expected a calling convention, found 'fastcall'"},
    {H "func f0 sysv () void {\n", AF_ERR_PARSE, "m:3:17: expected '->', found 'void'"},
    {H "func f0 sysv (void) -> void {\n", AF_ERR_PARSE, "m:3:15: void is not allowed here"},
    {H "func f0 sysv (i32, ..., ...) -> void {\n", AF_ERR_PARSE, "m:3:25: a second '...'"},
    {H "func f0 sysv (i32 i32) -> void {\n", AF_ERR_PARSE, "m:3:19: expected ',', found 'i32'"},
    {H "func f0 sysv (f64) -> void {\n  v1 = frob i32 v0\n", AF_ERR_PARSE,
     "m:4:8: expected an instruction or '}', found 'frob'"},
    {H "func f0 sysv () -> void {\n  v5 = const i32 1\n", AF_ERR_PARSE, "m:4:3: expected v0 here"},
    {H "func f0 sysv () -> void {\n  const i32 1\n", AF_ERR_PARSE,
     "m:4:3: this instruction defines v0: write 'v0 = '"},
    {H "func f0 sysv (ptr) -> void {\n  v1 = store u32 v0 +0 v0\n", AF_ERR_PARSE,
     "m:4:3: 'store u32' defines no value"},
    {H "func f0 sysv () -> void {\n  v0 = call void f1 ()\n", AF_ERR_PARSE,
     "m:4:3: 'call void' defines no value"},
    {H "func f0 sysv () -> void {\n  v0 = const i8 128\n", AF_ERR_PARSE,
     "m:4:17: i8 value out of range"},
    {H "func f0 sysv () -> void {\n  v0 = const i8 -129\n", AF_ERR_PARSE, "i8 value out of range"},
    {H "func f0 sysv () -> void {\n  v0 = const u8 -1\n", AF_ERR_PARSE, "u8 value out of range"},
    {H "func f0 sysv () -> void {\n  v0 = const u64 999999999999999999999999999999999999999999\n",
     AF_ERR_PARSE, "m:4:18: u64 value out of range"},
    {H "func f0 sysv () -> void {\n  v0 = const u128 -1\n", AF_ERR_PARSE,
     "u128 value out of range"},
    {H "func f0 sysv () -> void {\n  v0 = const i32 12ab\n", AF_ERR_PARSE,
     "m:4:18: expected a i32 value, found '12ab'"},
    {H "func f0 sysv () -> void {\n  v0 = const f32 0x123456789\n", AF_ERR_PARSE,
     "m:4:18: expected a 32-bit float pattern"},
    {H "func f0 sysv () -> void {\n  v0 = const f32 1.5\n", AF_ERR_PARSE,
     "expected a 32-bit float pattern (0x and up to 8 hex digits), found '1.5'"},
    {H "func f0 sysv () -> void {\n  v0 = const f80 0x123456789012345678901\n", AF_ERR_PARSE,
     "expected a 80-bit float pattern"},
    {H "func f0 sysv () -> void {\n  v0 = const bool 2\n", AF_ERR_PARSE,
     "m:4:19: bool (0 or 1) out of range"},
    {H "func f0 sysv () -> void {\n  v0 = const void 0\n", AF_ERR_PARSE,
     "m:4:19: there is no value of type void"},
    {H "func f0 sysv () -> void {\n  v0 = const cf32 0011223344556677ff\n", AF_ERR_PARSE,
     "m:4:19: expected 8 more bytes of hex, found '0011223344556677ff'"},
    {H "type t21 = struct { }\nfunc f0 sysv () -> void {\n  v0 = const t21 00\n", AF_ERR_PARSE,
     "m:5:18: expected '{', found '00'"},
    {H "func f0 sysv (i32) -> void {\n  v1 = cmp bool gt v0 v0\n", AF_ERR_PARSE,
     "m:4:17: expected eq, ne, lt or le, found 'gt'"},
    {H "func f0 sysv (i32) -> void {\n  v1 = get i32 v0 [0, 0, 0, 0, 0, 0, 0, 0, 0]\n",
     AF_ERR_LIMIT, "m:4:44: path longer than 8"},
    {H "func f0 sysv (i32) -> void {\n  v1 = get i32 v0 []\n", AF_ERR_PARSE, "m:4:20: empty path"},
    {H "func f0 sysv (i32) -> void {\n  v1 = get i32 v0 [-1]\n", AF_ERR_PARSE,
     "m:4:20: a path index out of range"},
    {H "func f0 sysv (i32) -> void {\n  call void f1 v0\n", AF_ERR_PARSE,
     "m:4:16: expected '(', found 'v0'"},
    {H "func f0 sysv (i32) -> void {\n  call void f1 (v0 v0)\n", AF_ERR_PARSE,
     "m:4:20: expected ',', found 'v0'"},
    {H "func f0 sysv (i32) -> void {\n  v1 = mix u64 0xzz (v0)\n", AF_ERR_PARSE,
     "m:4:16: bad hex digit in the seed"},
    {H "func f0 sysv (i32) -> void {\n  v1 = load u32 v0 16\n", AF_ERR_PARSE, ""},
    {H "func f0 sysv (i32) -> void {\n  v1 = add i32 v99999999999 v0\n", AF_ERR_PARSE,
     "m:4:16: expected a value (v<number>), found 'v99999999999'"},
    {H "func f0 sysv (i32) -> void {\n  v1 = add i32 v0 v0\n", AF_ERR_PARSE,
     "m:5:1: expected an instruction or '}', found end of file"},
    {H "func f0 sysv (i32) -> void {\n  ret\n}\n", AF_ERR_PARSE,
     "m:5:1: expected a type, found '}'"},
    {H B "entry f0\n", AF_ERR_PARSE, "m:7:1: a second entry"},
    {H FN "input i32 1\n", AF_ERR_PARSE, "m:6:1: inputs come after the entry"},
    {H "func f0 sysv (ptr) -> void {\n  ret void\n}\nentry f0\ninput ptr 0\n", AF_ERR_PARSE,
     "m:7:11: expected 'obj', found '0'"},
    {H "func f0 sysv (ptr) -> void {\n  ret void\n}\nentry f0\ninput ptr obj 16\n", AF_ERR_PARSE,
     "m:7:15: object index out of range"},
    {H "func f0 sysv (i32) -> void {\n  ret void\n}\nentry f0\n", AF_ERR_INVALID,
     "m: entry: 0 inputs for f0's 1 parameters"},
    {H
     "func f0 sysv (f64) -> void {\n  v1 = add i32 v0 v0\n  ret void\n}\nentry f0\ninput f64 0x0\n",
     AF_ERR_INVALID, "m: f0 inst 0 (v1 = add): operand v0 is f64, expected i32"},
    {"# abifuzz case, generator 1\n# seed 1 index 2 abi win64\n" B, AF_ERR_INVALID,
     "m: entry: case convention win64 is not the entry's sysv"},
    {H "func f0 sysv (ptr) -> void {\n  ret void\n}\nentry f0\ninput ptr obj 0\n", AF_ERR_INVALID,
     "m: input 0: ptr names object 0, but the case has 0"},
    {H "func f0 sysv () -> ptr {\n  v0 = local ptr 16\n  ret ptr v0\n}\nentry f0\n", AF_ERR_INVALID,
     "a pointer derived from this function's local"},
    {H "func f0 sysv (f80) -> void {\n  ret void\n}\nentry f0\ninput f80 0x3fff0000000000000001\n",
     AF_ERR_INVALID, "m: input 0: f80 at offset 0 is not a canonical x87 encoding"},
    {H "entry f0\n", AF_ERR_INVALID, "m: case: 0 functions"},
};

static void test_malformed(void) {
  int n = (int)(sizeof bad / sizeof bad[0]);
  for (int i = 0; i < n; i++) {
    af_case c;
    af_error err = {{0}};
    /* sizeof-based length keeps embedded NULs */
    size_t len = strlen(bad[i].text);
    if (strstr(bad[i].frag, "0x00")) len += 1 + strlen(bad[i].text + len + 1);
    af_status s = parse_copy("m", bad[i].text, len, &c, &err);
    CHECKF(s == bad[i].status && strstr(err.msg, bad[i].frag) && strncmp(err.msg, "m:", 2) == 0,
           "bad case %d: status %d (want %d), message '%s', want '%s'", i, (int)s,
           (int)bad[i].status, err.msg, bad[i].frag);
    af_case_free(&c);
  }
  printf("%d malformed inputs checked\n", n);
  CHECK(n >= 40);

  /* Generated ones: limits, deep nesting, huge tokens. */
  size_t cap = 1 << 21;
  char *t = malloc(cap);
  af_case c;
  af_error err;
  int len = sprintf(t, H);
  for (int k = 21; k <= AF_MAX_TYPES; k++)
    len += sprintf(t + len, "type t%d = struct { }\n", k);
  CHECK(parse_copy("m", t, (size_t)len, &c, &err) == AF_ERR_LIMIT);
  CHECKF(strstr(err.msg, "m:238:1: too many types (max 256)") != NULL, "%s", err.msg);
  af_case_free(&c);

  len = sprintf(t, H "func f0 sysv (i32) -> void {\n");
  for (int k = 0; k < AF_MAX_INSTS + 1; k++)
    len += sprintf(t + len, "  v%d = add i32 v0 v0\n", k + 1);
  CHECK(parse_copy("m", t, (size_t)len, &c, &err) == AF_ERR_LIMIT);
  CHECKF(strstr(err.msg, "m:1028:11: too many instructions in f0 (max 1024)") != NULL, "%s",
         err.msg);
  af_case_free(&c);

  len = sprintf(t, H "func f0 sysv (i32) -> void {\n  v1 = mix u64 0x1 (v0");
  for (int k = 0; k < AF_MAX_OPERANDS; k++)
    len += sprintf(t + len, ", v0");
  len += sprintf(t + len, ")\n");
  CHECK(parse_copy("m", t, (size_t)len, &c, &err) == AF_ERR_LIMIT);
  CHECKF(strstr(err.msg, "too many operands (max 32)") != NULL, "%s", err.msg);
  af_case_free(&c);

  len = sprintf(t, H "func f0 sysv (i32");
  for (int k = 0; k < AF_MAX_PARAMS; k++)
    len += sprintf(t + len, ", i32");
  CHECK(parse_copy("m", t, (size_t)len, &c, &err) == AF_ERR_LIMIT);
  CHECKF(strstr(err.msg, "too many parameters (max 32)") != NULL, "%s", err.msg);
  af_case_free(&c);

  len = sprintf(t, H "type t21 = struct { i8");
  for (int k = 0; k < AF_MAX_FIELDS; k++)
    len += sprintf(t + len, ", i8");
  CHECK(parse_copy("m", t, (size_t)len, &c, &err) == AF_ERR_LIMIT);
  CHECKF(strstr(err.msg, "too many fields (max 64)") != NULL, "%s", err.msg);
  af_case_free(&c);

  len = sprintf(t, H);
  for (int k = 0; k <= AF_MAX_OBJECTS; k++)
    len += sprintf(t + len, "object %d = " Z32 Z32 Z32 Z32 "\n", k);
  CHECK(parse_copy("m", t, (size_t)len, &c, &err) == AF_ERR_LIMIT);
  CHECKF(strstr(err.msg, "m:19:1: too many objects (max 16)") != NULL, "%s", err.msg);
  af_case_free(&c);

  len = sprintf(t, H B);
  for (int k = 0; k <= AF_MAX_PARAMS; k++)
    len += sprintf(t + len, "input i32 %d\n", k);
  CHECK(parse_copy("m", t, (size_t)len, &c, &err) == AF_ERR_LIMIT);
  CHECKF(strstr(err.msg, "too many inputs (max 32)") != NULL, "%s", err.msg);
  af_case_free(&c);

  len = sprintf(t, H);
  memset(t + len, '{', 100000);
  len += 100000;
  CHECK(parse_copy("m", t, (size_t)len, &c, &err) == AF_ERR_PARSE);
  CHECKF(strstr(err.msg, "m:3:1: expected type, object, func, entry or input, found '{'"), "%s",
         err.msg);
  af_case_free(&c);

  len = sprintf(t, H "func f0 sysv () -> void {\n  v0 = const i32 ");
  memset(t + len, '9', 1000000);
  len += 1000000;
  CHECK(parse_copy("m", t, (size_t)len, &c, &err) == AF_ERR_PARSE);
  CHECKF(strstr(err.msg, "m:4:18: i32 value out of range"), "%s", err.msg);
  af_case_free(&c);

  len = sprintf(t, H);
  memset(t + len, 'a', 1000000);
  len += 1000000;
  CHECK(parse_copy("m", t, (size_t)len, &c, &err) == AF_ERR_PARSE);
  CHECKF(strstr(err.msg, "found 'aaaaaaaaaaaaaaaaaaaaaaaa...'"), "%s", err.msg);
  af_case_free(&c);

  /* A long file name is truncated, never overflows the message. */
  char name[600];
  memset(name, 'n', sizeof name - 1);
  name[sizeof name - 1] = 0;
  CHECK(parse_copy(name, "", 0, &c, &err) == AF_ERR_PARSE);
  CHECK(strlen(err.msg) < sizeof err.msg);
  af_case_free(&c);
  CHECK(af_parse("x", NULL, 0, &c, NULL) == AF_ERR_PARSE); /* no err: still fine */
  af_case_free(&c);
  free(t);
}

/* Every prefix and many random mutations of valid texts: the parser returns
 * cleanly, and whatever it accepts prints canonically. */
static void robust_one(const char *text, size_t len, long *accepted) {
  af_case c;
  af_error err = {{0}};
  af_status s = parse_copy("r", text, len, &c, &err);
  CHECKF(s == AF_OK || s == AF_ERR_PARSE || s == AF_ERR_INVALID || s == AF_ERR_LIMIT, "status %d",
         (int)s);
  if (s != AF_OK) {
    CHECKF(strncmp(err.msg, "r:", 2) == 0 || strncmp(err.msg, "r: ", 3) == 0, "message '%s'",
           err.msg);
  } else {
    ++*accepted;
    size_t n1, n2;
    char *a = print(&c, &n1);
    af_case d;
    CHECKF(parse_copy("r2", a, n1, &d, &err) == AF_OK, "reparse: %s", err.msg);
    char *b = print(&d, &n2);
    CHECK(a && b && n1 == n2 && memcmp(a, b, n1) == 0);
    af_case_free(&d);
    free(a);
    free(b);
  }
  af_case_free(&c);
}

static void test_robust(long mutations) {
  size_t len;
  char *text = read_file(AF_SOURCE_DIR "/corpus/seeds/all-ops.case", &len);
  CHECK(text != NULL);
  if (!text) return;
  long accepted = 0;
  for (size_t n = 0; n <= len; n++)
    robust_one(text, n, &accepted);
  CHECK(accepted >= 1); /* the whole text, at least */
  static const char alphabet[] = "{}()[],=:#-+.x0123456789abcdefvtfo \n\t\r\0\xff";
  char *buf = malloc(len * 2 + 128);
  long acc0 = accepted;
  for (long i = 0; i < mutations; i++) {
    memcpy(buf, text, len);
    size_t n = len;
    int edits = 1 + (int)(rnd() % 4);
    for (int e = 0; e < edits && n > 1; e++) {
      size_t at = rnd() % n, span = 1 + rnd() % 16;
      if (span > n - at) span = n - at;
      switch (rnd() % 6) {
      case 5: { /* insert an interesting token */
        static const char *const toks[] = {" 170141183460469231731687303715884105728 ",
                                           " -0x80000000000000000000000000000000 ",
                                           " 99999999999999999999999 ",
                                           " -1 ",
                                           " 0x ",
                                           " v1048577 ",
                                           " t255 ",
                                           " f16 ",
                                           " {} ",
                                           " ... ",
                                           " [0, 0] ",
                                           " obj 15 ",
                                           " 4294967295 ",
                                           " -9223372036854775808 "};
        const char *tk = toks[rnd() % (sizeof toks / sizeof toks[0])];
        size_t tl = strlen(tk);
        if (n + tl <= len * 2 + 32) {
          memmove(buf + at + tl, buf + at, n - at);
          memcpy(buf + at, tk, tl);
          n += tl;
        }
        break;
      }
      case 0: buf[at] = (char)rnd(); break;
      case 1: buf[at] = alphabet[rnd() % (sizeof alphabet - 1)]; break;
      case 2: /* delete a span */
        memmove(buf + at, buf + at + span, n - at - span);
        n -= span;
        break;
      case 3: /* duplicate a span */
        if (n + span <= len * 2 + 32) {
          memmove(buf + at + span, buf + at, n - at);
          n += span;
        }
        break;
      default: /* change a digit: keeps most texts valid, explores values */
        for (size_t k = at; k < n; k++)
          if (buf[k] >= '0' && buf[k] <= '9') {
            buf[k] = (char)('0' + rnd() % 10);
            break;
          }
        break;
      }
    }
    robust_one(buf, n, &accepted);
  }
  printf("robustness: %zu prefixes, %ld mutations, %ld accepted after mutation\n", len + 1,
         mutations, accepted - acc0);
  free(buf);
  free(text);
}
