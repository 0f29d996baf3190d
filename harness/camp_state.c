/* camp_state.c - OUT/campaign.state: where a campaign was, so that --resume goes on from there. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "campaign.h"

/* The layout: MAGIC, then records of fixed-size fields written in this order by
 * camp_state_write. It is not an interchange format: the same build writes and reads it, which
 * the version string and the struct sizes in the header check. */
#define MAGIC "abifuzz-campaign-state 1\n"

typedef struct {
  char version[32];
  uint32_t stats_size, bucket_size, leg_size;
  int32_t nargs;
  uint64_t argbytes;
  uint64_t next;
  int32_t npend, done;
  double elapsed;
  int32_t nbuckets, naxes;
} state_hdr;

static int put(FILE *f, const void *p, size_t n) { return fwrite(p, 1, n, f) == n ? 0 : -1; }

int camp_state_write(const camp_cfg *cfg, const camp_stats *st, uint64_t next, const uint64_t *pend,
                     int npend, int done) {
  if (!cfg->outdir) return 0;
  state_hdr h;
  memset(&h, 0, sizeof h);
  snprintf(h.version, sizeof h.version, "%s", AF_VERSION);
  h.stats_size = sizeof(camp_stats), h.bucket_size = sizeof(camp_bucket);
  h.leg_size = sizeof(camp_leg_stats);
  h.nargs = cfg->nargs;
  for (int i = 0; i < cfg->nargs; i++)
    h.argbytes += strlen(cfg->args[i]) + 1;
  h.next = next, h.npend = npend, h.done = done;
  h.elapsed = camp_now() - st->t0;
  h.nbuckets = st->nbuckets, h.naxes = st->naxes;
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f) return -1;
  int bad = put(f, MAGIC, sizeof MAGIC - 1) || put(f, &h, sizeof h);
  for (int i = 0; i < cfg->nargs && !bad; i++)
    bad = put(f, cfg->args[i], strlen(cfg->args[i]) + 1);
  if (!bad && npend) bad = put(f, pend, (size_t)npend * 2 * sizeof *pend);
  if (!bad) bad = put(f, st, sizeof *st); /* its pointers are meaningless on reading */
  if (!bad && st->nbuckets) bad = put(f, st->buckets, (size_t)st->nbuckets * sizeof *st->buckets);
  if (!bad) bad = put(f, st->axis_hits, ((size_t)st->naxes * 64 + 1) * sizeof *st->axis_hits);
  if (fclose(f) || bad) return free(buf), -1;
  char path[4200];
  snprintf(path, sizeof path, "%s/campaign.state", cfg->outdir);
  int rc = camp_write_atomic(path, buf, len);
  free(buf);
  return rc;
}

/* Reads n bytes at *pos of data[len]; -1 when the file is too short. */
static int take(const char *data, size_t len, size_t *pos, void *out, size_t n) {
  if (len - *pos < n) return -1;
  memcpy(out, data + *pos, n);
  *pos += n;
  return 0;
}

static int read_all(const char *path, char **data, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return -1;
  char *buf = NULL;
  size_t n = 0, cap = 0;
  for (;;) {
    if (cap - n < 65536) {
      char *nb = realloc(buf, cap = cap ? cap * 2 : 1 << 16);
      if (!nb) return free(buf), fclose(f), errno = ENOMEM, -1;
      buf = nb;
    }
    size_t r = fread(buf + n, 1, cap - n, f);
    n += r;
    if (r == 0) break;
  }
  int err = ferror(f);
  fclose(f);
  if (err) return free(buf), errno = EIO, -1;
  *data = buf, *len = n;
  return 0;
}

int camp_state_read(const char *outdir, camp_resume *r, char *err, size_t nerr) {
  memset(r, 0, sizeof *r);
  char path[4200];
  snprintf(path, sizeof path, "%s/campaign.state", outdir);
  char *data;
  size_t len, pos = 0;
  if (read_all(path, &data, &len))
    return snprintf(err, nerr, "cannot read '%s': %s", path, strerror(errno)), -1;
  state_hdr h;
  char magic[sizeof MAGIC - 1];
  if (take(data, len, &pos, magic, sizeof magic) || memcmp(magic, MAGIC, sizeof magic) ||
      take(data, len, &pos, &h, sizeof h)) {
    free(data);
    return snprintf(err, nerr, "'%s': not a campaign state file", path), -1;
  }
  h.version[sizeof h.version - 1] = 0;
  if (strcmp(h.version, AF_VERSION) || h.stats_size != sizeof(camp_stats) ||
      h.bucket_size != sizeof(camp_bucket) || h.leg_size != sizeof(camp_leg_stats)) {
    free(data);
    return snprintf(err, nerr, "'%s': written by another abifuzz build (%s)", path, h.version), -1;
  }
  int bad = h.nargs < 0 || h.nargs > 4096 || h.npend < 0 || h.npend > 1 << 20 || h.nbuckets < 0 ||
            h.naxes < 0 || h.naxes > 4096 || h.argbytes > len;
  if (!bad) {
    r->argbuf = malloc(h.argbytes + 1);
    r->args = calloc((size_t)h.nargs + 1, sizeof *r->args);
    r->pend = malloc(((size_t)h.npend + 1) * 2 * sizeof *r->pend);
    r->st.buckets = malloc(((size_t)h.nbuckets + 1) * sizeof *r->st.buckets);
    r->st.axis_hits = calloc((size_t)h.naxes * 64 + 1, sizeof *r->st.axis_hits);
    bad = !r->argbuf || !r->args || !r->pend || !r->st.buckets || !r->st.axis_hits;
  }
  bad = bad || take(data, len, &pos, r->argbuf, h.argbytes);
  if (!bad) {
    r->argbuf[h.argbytes] = 0;
    char *p = r->argbuf, *end = r->argbuf + h.argbytes;
    for (int i = 0; i < h.nargs && !bad; i++) {
      char *z = memchr(p, 0, (size_t)(end - p));
      if (!z) bad = 1;
      r->args[i] = p;
      p = z + 1;
    }
    r->nargs = h.nargs;
  }
  bad = bad || take(data, len, &pos, r->pend, (size_t)h.npend * 2 * sizeof *r->pend);
  camp_bucket *buckets = r->st.buckets;
  uint64_t *axis = r->st.axis_hits;
  bad = bad || take(data, len, &pos, &r->st, sizeof r->st);
  r->st.buckets = buckets, r->st.axis_hits = axis, r->st.tri = NULL;
  bad = bad || r->st.nbuckets != h.nbuckets || r->st.naxes != h.naxes || r->st.nlegs < 0 ||
        r->st.nlegs > (int)(sizeof r->st.legs / sizeof r->st.legs[0]);
  r->st.capbuckets = h.nbuckets + 1;
  bad = bad || take(data, len, &pos, r->st.buckets, (size_t)h.nbuckets * sizeof *r->st.buckets) ||
        take(data, len, &pos, r->st.axis_hits, ((size_t)h.naxes * 64 + 1) * sizeof *axis);
  free(data);
  if (bad) {
    camp_resume_free(r);
    return snprintf(err, nerr, "'%s': truncated or damaged", path), -1;
  }
  r->next = h.next, r->npend = h.npend, r->done = h.done, r->elapsed = h.elapsed;
  return 0;
}

void camp_resume_free(camp_resume *r) {
  free(r->argbuf), free(r->args), free(r->pend);
  free(r->st.buckets), free(r->st.axis_hits);
  memset(r, 0, sizeof *r);
}

int camp_state_restore(const camp_resume *r, camp_stats *st) {
  if (r->st.naxes != st->naxes) return -1; /* other weights: the options differ */
  camp_bucket *nb = NULL;
  if (r->st.nbuckets) {
    nb = malloc((size_t)r->st.capbuckets * sizeof *nb);
    if (!nb) return -1;
    memcpy(nb, r->st.buckets, (size_t)r->st.nbuckets * sizeof *nb);
  }
  uint64_t *axis = st->axis_hits;
  struct camp_triage *tri = st->tri;
  free(st->buckets);
  memcpy(st, &r->st, sizeof *st);
  st->buckets = nb, st->capbuckets = nb ? r->st.capbuckets : 0;
  st->axis_hits = axis, st->tri = tri;
  memcpy(axis, r->st.axis_hits, ((size_t)st->naxes * 64 + 1) * sizeof *axis);
  st->t0 = camp_now() - r->elapsed; /* --time counts the whole campaign */
  return 0;
}
