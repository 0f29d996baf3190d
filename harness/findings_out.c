/* findings_out.c - findings into buckets, and each kept one as OUT/findings/<id>/, atomically. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "campaign.h"
#include "cli.h"

int camp_write_atomic(const char *path, const char *data, size_t len) {
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) return -1;
  while (len) {
    ssize_t w = write(fd, data, len);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) {
      int e = errno;
      close(fd), unlink(tmp);
      errno = e;
      return -1;
    }
    data += w, len -= (size_t)w;
  }
  if (fsync(fd) || close(fd)) {
    unlink(tmp);
    return -1;
  }
  return rename(tmp, path);
}

static camp_bucket *bucket_for(camp_stats *st, const af_finding *f, int cc) {
  for (int i = 0; i < st->nbuckets; i++) {
    camp_bucket *b = &st->buckets[i];
    if (b->cc == cc && !strcmp(b->leg, f->leg) && !strcmp(b->check, f->check) &&
        !strcmp(b->what, f->what))
      return b;
  }
  if (st->nbuckets == st->capbuckets) {
    int cap = st->capbuckets ? st->capbuckets * 2 : 64;
    camp_bucket *nb = realloc(st->buckets, (size_t)cap * sizeof *nb);
    if (!nb) return NULL;
    st->buckets = nb, st->capbuckets = cap;
  }
  camp_bucket *b = &st->buckets[st->nbuckets++];
  memset(b, 0, sizeof *b);
  snprintf(b->leg, sizeof b->leg, "%s", f->leg);
  snprintf(b->check, sizeof b->check, "%s", f->check);
  snprintf(b->what, sizeof b->what, "%s", f->what);
  b->cc = cc;
  return b;
}

static const char *const reg_names[23] = {
    "r8",  "r9",  "r10", "r11", "r12", "r13",    "r14",    "r15", "rdi",    "rsi",     "rbp", "rbx",
    "rdx", "rax", "rcx", "rsp", "rip", "eflags", "csgsfs", "err", "trapno", "oldmask", "cr2"};

static void report_json(FILE *f, const camp_cfg *cfg, uint64_t index, int cc, const char *id,
                        const af_finding *fd, const camp_crash *cr) {
  fputs("{\n  \"id\": ", f), camp_json_str(f, id);
  fputs(",\n  \"leg\": ", f), camp_json_str(f, fd->leg);
  fputs(",\n  \"check\": ", f), camp_json_str(f, fd->check);
  fputs(",\n  \"what\": ", f), camp_json_str(f, fd->what);
  fputs(",\n  \"detail\": ", f), camp_json_str(f, fd->detail);
  fprintf(f, ",\n  \"seed\": %llu,\n  \"index\": %llu,\n  \"abi\": \"%s\",\n  \"inject\": ",
          (unsigned long long)cfg->seed, (unsigned long long)index, af_cc_name((af_cc)cc));
  if (cfg->legs_cfg.inject)
    camp_json_str(f, cfg->legs_cfg.inject);
  else
    fputs("null", f);
  fprintf(f, ",\n  \"version\": \"%s\",\n  \"gen_version\": %d,\n", AF_VERSION, AF_GEN_VERSION);
  fprintf(f, "  \"replay\": \"abifuzz interp case.case; abifuzz jit case.case --run%s%s\"",
          cfg->legs_cfg.inject ? " --inject " : "",
          cfg->legs_cfg.inject ? cfg->legs_cfg.inject : "");
  if (cr) {
    fputs(",\n  \"crash\": {\"signal\": ", f);
    if (cr->sig > 0)
      camp_json_str(f, camp_signame(cr->sig));
    else
      fputs("null", f);
    fprintf(f, ", \"signo\": %d", cr->sig);
    if (cr->have_regs) {
      fprintf(f,
              ", \"si_code\": %d, \"fault_addr\": \"0x%llx\", \"rip\": \"0x%llx\", "
              "\"rip_in_jit\": %d, \"addr_in_jit\": %d,\n    \"regs\": {",
              cr->code, (unsigned long long)cr->addr, (unsigned long long)cr->rip, cr->rip_in_jit,
              cr->addr_in_jit);
      for (int r = 0; r < 23; r++)
        fprintf(f, "%s\"%s\": \"0x%llx\"", r ? ", " : "", reg_names[r],
                (unsigned long long)cr->gregs[r]);
      fputc('}', f);
    }
    fputc('}', f);
  }
  fputs("\n}\n", f);
}

/* OUT/findings/<id>/ with case.case and report.json: both files are written into
 * OUT/findings/.tmp-<id>/ (each fsync'd) and the directory renamed into place, so a finding
 * directory is never seen half-written. */
static int write_finding_dir(const camp_cfg *cfg, uint64_t index, int cc, const af_finding *fd,
                             const camp_crash *cr, char *id, size_t nid) {
  char base[4096], dir[4400], tmpdir[4400], path[4600];
  snprintf(base, sizeof base, "%s/findings", cfg->outdir);
  if (mkdir(base, 0777) && errno != EEXIST) return -1;
  struct stat sb;
  for (int n = 1;; n++) {
    if (n == 1)
      snprintf(id, nid, "%llu-%llu-%s-%s", (unsigned long long)cfg->seed, (unsigned long long)index,
               fd->leg, fd->check);
    else
      snprintf(id, nid, "%llu-%llu-%s-%s-%d", (unsigned long long)cfg->seed,
               (unsigned long long)index, fd->leg, fd->check, n);
    for (char *p = id; *p; p++)
      if (*p == '/' || *p == ' ') *p = '_';
    snprintf(dir, sizeof dir, "%s/%s", base, id);
    if (stat(dir, &sb)) break;
  }
  snprintf(tmpdir, sizeof tmpdir, "%s/.tmp-%s", base, id);
  if (mkdir(tmpdir, 0777) && errno != EEXIST) return -1;

  af_case c;
  af_error err = {{0}};
  char *text = NULL;
  size_t len = 0;
  af_status s = camp_gen(cfg, index, &c, NULL, &err);
  if (s == AF_OK) s = af_print_str(&c, &text, &len);
  af_case_free(&c);
  if (s != AF_OK) return -1;
  snprintf(path, sizeof path, "%s/case.case", tmpdir);
  int rc = camp_write_atomic(path, text, len);
  free(text);
  if (rc) return -1;
  FILE *f = open_memstream(&text, &len);
  if (!f) return -1;
  report_json(f, cfg, index, cc, id, fd, cr);
  if (fclose(f)) return free(text), -1;
  snprintf(path, sizeof path, "%s/report.json", tmpdir);
  rc = camp_write_atomic(path, text, len);
  free(text);
  if (rc) return -1;
  if (rename(tmpdir, dir)) return -1;
  int dfd = open(base, O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) fsync(dfd), close(dfd);
  return 0;
}

void camp_record_finding(const camp_cfg *cfg, camp_stats *st, uint64_t index, int cc,
                         const af_finding *f, const camp_crash *crash) {
  st->findings++;
  camp_bucket *b = bucket_for(st, f, cc);
  int first = b && b->count == 0;
  if (b) {
    if (!b->count) b->first_index = index, b->first_s = camp_now() - st->t0;
    b->count++;
  }
  if (!cfg->outdir) {
    if (cfg->silent) return;
    printf("finding: seed %llu index %llu (%s) %s %s %s: %s\n", (unsigned long long)cfg->seed,
           (unsigned long long)index, af_cc_name((af_cc)cc), f->leg, f->check, f->what, f->detail);
    fflush(stdout);
    return;
  }
  if (b && b->written >= CAMP_KEEP) return;
  char id[256];
  if (write_finding_dir(cfg, index, cc, f, crash, id, sizeof id)) {
    cli_error("cannot write the finding of case %llu under '%s/findings': %s",
              (unsigned long long)index, cfg->outdir, strerror(errno));
    return;
  }
  if (b) {
    if (!b->written) snprintf(b->first_id, sizeof b->first_id, "%s", id);
    b->written++;
  }
  if (first && !cfg->quiet) {
    printf("new bucket: %s %s %s %s (index %llu): %s  -> findings/%s\n", f->leg, f->check,
           af_cc_name((af_cc)cc), f->what, (unsigned long long)index, f->detail, id);
    fflush(stdout);
  }
}
