/* weights.c - the generator's one named weights table: overrides, weight files, printer. */
#include <ctype.h>
#include <stddef.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gen_private.h"

#define GEN_MAX_WEIGHT 1000000L

/* Every axis the generator draws, every value, its default weight. A weight
 * of 0 removes the value; doc/weights.md gives the bug class behind each. */
static const gen_row_info weight_table[GEN_NROWS] = {
#define GEN_ROW_INFO(a, v, s, w) {#a, s, GA_##a, w},
    GEN_WEIGHTS(GEN_ROW_INFO)
#undef GEN_ROW_INFO
};

const gen_row_info *gen_weight_rows(void) { return weight_table; }

/* The default weights as one array (gen_weights_init copies it: it runs per generated case). */
static const long weight_defaults[GEN_NROWS] = {
#define GEN_ROW_WEIGHT(a, v, s, w) w,
    GEN_WEIGHTS(GEN_ROW_WEIGHT)
#undef GEN_ROW_WEIGHT
};

void gen_weights_init(struct af_weights *w) {
  memcpy(w->w, weight_defaults, sizeof w->w);
  /* an axis's rows are contiguous (GEN_WEIGHTS), so its first row is where the axis changes */
  memset(w->count, 0, sizeof w->count);
  for (int a = 0; a < GEN_NAXES; a++)
    w->first[a] = -1;
  for (int r = 0; r < GEN_NROWS; r++) {
    int a = gen_row_axis(r);
    if (r == 0 || gen_row_axis(r - 1) != a) w->first[a] = r;
    w->count[a]++;
  }
}

/* The default weights with each axis's first row and row count, as constants: the seeded
 * generator takes this table instead of running gen_weights_init per case (~1 k instructions
 * a case). An axis's rows are contiguous, in GEN_AXES order, so its first row is named here and
 * its count is the next axis's first row minus its own; test_gen_fast checks the table against
 * gen_weights_init. */
#define GEN_F0  GR_cc_sysv
#define GEN_F1  GR_nargs_n0_3
#define GEN_F2  GR_param_scalar
#define GEN_F3  GR_scalar_bool
#define GEN_F4  GR_agg_size_s1_8
#define GEN_F5  GR_agg_shape_all_int
#define GEN_F6  GR_backfill_no
#define GEN_F7  GR_ret_void_
#define GEN_F8  GR_varargs_none
#define GEN_F9  GR_nest_d0
#define GEN_F10 GR_pressure_low
#define GEN_F11 GR_local_align_none
#define GEN_F12 GR_input_edge
#define GEN_F13 GR_host_none
#define GEN_F14 GR_mixed_cc_same
#define GEN_F15 GR_op_int_
#define GEN_F16 GEN_NROWS
_Static_assert(GEN_NAXES == 16, "weights_default_table names 16 axes");
static const struct af_weights weights_default_table = {
    .w =
        {
#define GEN_ROW_WEIGHT(a, v, s, w) w,
            GEN_WEIGHTS(GEN_ROW_WEIGHT)
#undef GEN_ROW_WEIGHT
        },
    .first = {GEN_F0, GEN_F1, GEN_F2, GEN_F3, GEN_F4, GEN_F5, GEN_F6, GEN_F7, GEN_F8, GEN_F9,
              GEN_F10, GEN_F11, GEN_F12, GEN_F13, GEN_F14, GEN_F15},
    .count = {GEN_F1 - GEN_F0, GEN_F2 - GEN_F1, GEN_F3 - GEN_F2, GEN_F4 - GEN_F3, GEN_F5 - GEN_F4,
              GEN_F6 - GEN_F5, GEN_F7 - GEN_F6, GEN_F8 - GEN_F7, GEN_F9 - GEN_F8, GEN_F10 - GEN_F9,
              GEN_F11 - GEN_F10, GEN_F12 - GEN_F11, GEN_F13 - GEN_F12, GEN_F14 - GEN_F13,
              GEN_F15 - GEN_F14, GEN_F16 - GEN_F15},
};

const struct af_weights *gen_weights_defaults(void) { return &weights_default_table; }

/* The default weights' running sums as constants (gen_pick draws against them from a case's
 * first draw on, without summing an axis per case): a struct of one char array per row, as
 * long as the row's default weight, puts each row at the sum of the weights before it. */
struct gen_wsum {
#define GEN_WSUM_FIELD(a, v, s, w) char a##_##v[w];
  GEN_WEIGHTS(GEN_WSUM_FIELD)
#undef GEN_WSUM_FIELD
};
/* each axis's first row (GEN_F0..GEN_F15 above) as a field of gen_wsum */
#define GEN_WF_cc          cc_sysv
#define GEN_WF_nargs       nargs_n0_3
#define GEN_WF_param       param_scalar
#define GEN_WF_scalar      scalar_bool
#define GEN_WF_agg_size    agg_size_s1_8
#define GEN_WF_agg_shape   agg_shape_all_int
#define GEN_WF_backfill    backfill_no
#define GEN_WF_ret         ret_void_
#define GEN_WF_varargs     varargs_none
#define GEN_WF_nest        nest_d0
#define GEN_WF_pressure    pressure_low
#define GEN_WF_local_align local_align_none
#define GEN_WF_input       input_edge
#define GEN_WF_host        host_none
#define GEN_WF_mixed_cc    mixed_cc_same
#define GEN_WF_op          op_int_
#define GEN_WOFF(field)    offsetof(struct gen_wsum, field)
#define GEN_WBASE(a)       GEN_WOFF(GEN_WF_##a)

static const uint64_t default_pick_cum[GEN_NROWS] = {
#define GEN_ROW_CUM(a, v, s, w) GEN_WOFF(a##_##v) + (w)-GEN_WBASE(a),
    GEN_WEIGHTS(GEN_ROW_CUM)
#undef GEN_ROW_CUM
};

static const uint64_t default_pick_total[GEN_NAXES] = {
    GEN_WBASE(nargs) - GEN_WBASE(cc),
    GEN_WBASE(param) - GEN_WBASE(nargs),
    GEN_WBASE(scalar) - GEN_WBASE(param),
    GEN_WBASE(agg_size) - GEN_WBASE(scalar),
    GEN_WBASE(agg_shape) - GEN_WBASE(agg_size),
    GEN_WBASE(backfill) - GEN_WBASE(agg_shape),
    GEN_WBASE(ret) - GEN_WBASE(backfill),
    GEN_WBASE(varargs) - GEN_WBASE(ret),
    GEN_WBASE(nest) - GEN_WBASE(varargs),
    GEN_WBASE(pressure) - GEN_WBASE(nest),
    GEN_WBASE(local_align) - GEN_WBASE(pressure),
    GEN_WBASE(input) - GEN_WBASE(local_align),
    GEN_WBASE(host) - GEN_WBASE(input),
    GEN_WBASE(mixed_cc) - GEN_WBASE(host),
    GEN_WBASE(op) - GEN_WBASE(mixed_cc),
    sizeof(struct gen_wsum) - GEN_WBASE(op),
};

const uint64_t *gen_default_pick_cum(void) { return default_pick_cum; }
const uint64_t *gen_default_pick_total(void) { return default_pick_total; }

af_weights *af_weights_default(void) {
  af_weights *w = malloc(sizeof *w);
  if (w) gen_weights_init(w);
  return w;
}

void af_weights_free(af_weights *w) { free(w); }

static int weights_find(const char *key, size_t len) {
  for (int r = 0; r < GEN_NROWS; r++) {
    size_t al = strlen(weight_table[r].axis), vl = strlen(weight_table[r].value);
    if (len == al + 1 + vl && memcmp(key, weight_table[r].axis, al) == 0 && key[al] == '.' &&
        memcmp(key + al + 1, weight_table[r].value, vl) == 0)
      return r;
  }
  return -1;
}

af_status af_weights_set(af_weights *w, const char *key, long value, af_error *err) {
  int r = weights_find(key, strlen(key));
  if (r < 0) {
    if (err) snprintf(err->msg, sizeof err->msg, "unknown weight '%s'", key);
    return AF_ERR_PARSE;
  }
  if (value < 0 || value > GEN_MAX_WEIGHT) {
    if (err)
      snprintf(err->msg, sizeof err->msg, "weight of '%s' must be 0..%ld, not %ld", key,
               GEN_MAX_WEIGHT, value);
    return AF_ERR_PARSE;
  }
  w->w[r] = value;
  return AF_OK;
}

/* One "axis.value = N" line (comment already cut, no newline). */
static af_status weights_line(af_weights *w, char *s, const char *path, int line, af_error *err) {
  while (isspace((unsigned char)*s))
    s++;
  size_t n = strlen(s);
  while (n && isspace((unsigned char)s[n - 1]))
    s[--n] = 0;
  if (!n) return AF_OK;
  char *eq = strchr(s, '=');
  if (!eq) {
    if (err) snprintf(err->msg, sizeof err->msg, "%s:%d: expected 'axis.value = N'", path, line);
    return AF_ERR_PARSE;
  }
  char *k = eq;
  while (k > s && isspace((unsigned char)k[-1]))
    k--;
  size_t klen = (size_t)(k - s);
  int r = weights_find(s, klen);
  if (r < 0) {
    if (err)
      snprintf(err->msg, sizeof err->msg, "%s:%d: unknown weight '%.*s'", path, line, (int)klen, s);
    return AF_ERR_PARSE;
  }
  char *num = eq + 1, *end;
  while (isspace((unsigned char)*num))
    num++;
  errno = 0;
  long v = strtol(num, &end, 10);
  if (end == num || *end || errno || v < 0 || v > GEN_MAX_WEIGHT) {
    if (err)
      snprintf(err->msg, sizeof err->msg, "%s:%d: bad weight '%s' (want an integer 0..%ld)", path,
               line, num, GEN_MAX_WEIGHT);
    return AF_ERR_PARSE;
  }
  w->w[r] = v;
  return AF_OK;
}

af_status af_weights_load(af_weights *w, const char *path, af_error *err) {
  FILE *f = fopen(path, "r");
  if (!f) {
    if (err) snprintf(err->msg, sizeof err->msg, "%s: cannot open", path);
    return AF_ERR_IO;
  }
  /* Overrides apply only if the whole file is good: work on a copy. */
  af_weights tmp = *w;
  char buf[512];
  int line = 0;
  af_status st = AF_OK;
  while (st == AF_OK && fgets(buf, sizeof buf, f)) {
    line++;
    size_t n = strlen(buf);
    if (n == sizeof buf - 1 && buf[n - 1] != '\n' && !feof(f)) {
      if (err) snprintf(err->msg, sizeof err->msg, "%s:%d: line too long", path, line);
      st = AF_ERR_PARSE;
      break;
    }
    char *hash = strchr(buf, '#');
    if (hash) *hash = 0;
    st = weights_line(&tmp, buf, path, line, err);
  }
  if (st == AF_OK && ferror(f)) {
    if (err) snprintf(err->msg, sizeof err->msg, "%s: read error", path);
    st = AF_ERR_IO;
  }
  fclose(f);
  if (st == AF_OK) *w = tmp;
  return st;
}

af_status af_weights_print(const af_weights *w, FILE *out) {
  fprintf(out, "# abifuzz generator weights (generator version %d): axis.value = N\n",
          AF_GEN_VERSION);
  int last = -1;
  for (int r = 0; r < GEN_NROWS; r++) {
    if (weight_table[r].axis_id != last) {
      fprintf(out, "\n");
      last = weight_table[r].axis_id;
    }
    fprintf(out, "%s.%s = %ld\n", weight_table[r].axis, weight_table[r].value, w->w[r]);
  }
  return ferror(out) ? AF_ERR_IO : AF_OK;
}

/* The enumeration reads only the static table, so w may be NULL. */
static int axis_first(int axis) {
  for (int r = 0; r < GEN_NROWS; r++)
    if (weight_table[r].axis_id == axis) return r;
  return -1;
}

static int axis_count(int axis) {
  int n = 0;
  for (int r = 0; r < GEN_NROWS; r++)
    n += weight_table[r].axis_id == axis;
  return n;
}

int af_weights_naxes(const af_weights *w) {
  (void)w;
  return GEN_NAXES;
}

const char *af_weights_axis(const af_weights *w, int axis) {
  (void)w;
  if (axis < 0 || axis >= GEN_NAXES) return NULL;
  return weight_table[axis_first(axis)].axis;
}

int af_weights_nvalues(const af_weights *w, int axis) {
  (void)w;
  return axis < 0 || axis >= GEN_NAXES ? 0 : axis_count(axis);
}

const char *af_weights_value(const af_weights *w, int axis, int value) {
  (void)w;
  if (axis < 0 || axis >= GEN_NAXES || value < 0 || value >= axis_count(axis)) return NULL;
  return weight_table[axis_first(axis) + value].value;
}
