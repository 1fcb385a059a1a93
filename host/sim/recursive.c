/* The recursive pipeline's options: schedules by name, each generation's samples and
 * ridge (include/kdbench/recursive.h). */
#include "kdbench/recursive.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kdbench/number.h"

static const char *const NAMES[] = {[KD_SCHEDULE_FIXED] = "fixed",
                                    [KD_SCHEDULE_LINEAR] = "linear",
                                    [KD_SCHEDULE_QUADRATIC] = "quadratic",
                                    [KD_SCHEDULE_GEOMETRIC] = "geometric",
                                    [KD_SCHEDULE_ACCUMULATE] = "accumulate"};

/* One word: a name, or geometric:R with R a positive number. */
static kd_status parse_one(const char *w, size_t len, kd_schedule *s) {
  char word[64];
  if (len >= sizeof word) len = sizeof word - 1;
  memcpy(word, w, len);
  word[len] = '\0';
  for (int k = 0; k < (int)(sizeof NAMES / sizeof *NAMES); ++k)
    if (k != KD_SCHEDULE_GEOMETRIC && !strcmp(word, NAMES[k])) {
      *s = (kd_schedule){.kind = (kd_schedule_kind)k};
      return KD_OK;
    }
  double r = 0;
  if (!strncmp(word, "geometric:", 10)) {
    if (kd_number_parse(word + 10, &r) == KD_NUM_OK && r > 0 && isfinite(r)) {
      *s = (kd_schedule){.kind = KD_SCHEDULE_GEOMETRIC, .ratio = r};
      return KD_OK;
    }
    return kd_fail(KD_EINVAL, "--schedule: '%s': the ratio R of geometric:R must be a positive "
                   "number", word);
  }
  return kd_fail(KD_EINVAL, "--schedule: unknown '%s' (expected fixed, linear, quadratic, "
                 "geometric:R or accumulate)", word);
}

kd_status kd_schedules_parse(const char *text, kd_recursive_opts *o) {
  kd_schedule got[KD_SCHEDULES_MAX];
  int count = 0;
  for (const char *w = text;; ++w) {
    const char *end = strchr(w, ',');
    const size_t len = end ? (size_t)(end - w) : strlen(w);
    if (count == KD_SCHEDULES_MAX)
      return kd_fail(KD_EINVAL, "--schedule: at most %d schedules, got '%s'", KD_SCHEDULES_MAX,
                     text);
    kd_status st = parse_one(w, len, &got[count]);
    if (st != KD_OK) return st;
    for (int i = 0; i < count; ++i)
      if (got[i].kind == got[count].kind && got[i].ratio == got[count].ratio)
        return kd_fail(KD_EINVAL, "--schedule: '%.*s' given twice", (int)len, w);
    ++count;
    if (!end) break;
    w = end;
  }
  memcpy(o->schedule, got, sizeof *got * (size_t)count);
  o->n_schedules = count;
  return KD_OK;
}

void kd_schedule_name(const kd_schedule *s, char *buf, size_t len) {
  if (s->kind != KD_SCHEDULE_GEOMETRIC) {
    snprintf(buf, len, "%s", NAMES[s->kind]);
    return;
  }
  char r[KD_NUMBER_TEXT_LEN];
  kd_number_text(s->ratio, r);
  snprintf(buf, len, "geometric:%s", r);
}

kd_status kd_schedule_samples(const kd_schedule *s, size_t n, int g, size_t *t) {
  const double G = g, N = (double)n;
  double x = N;
  switch (s->kind) {
    case KD_SCHEDULE_FIXED: break;
    case KD_SCHEDULE_LINEAR:
    case KD_SCHEDULE_ACCUMULATE: x = N * G; break;
    case KD_SCHEDULE_QUADRATIC: x = N * G * G; break;
    case KD_SCHEDULE_GEOMETRIC: x = round(N * pow(s->ratio, G - 1)); break;
  }
  char name[64];
  kd_schedule_name(s, name, sizeof name);
  if (!(x <= (double)KD_SCHEDULE_SAMPLES_MAX))
    return kd_fail(KD_EINVAL, "--schedule %s: generation %d would fit on %.4g samples (T_1 = "
                   "%zu), more than %zu", name, g, x, n, KD_SCHEDULE_SAMPLES_MAX);
  if (x < 1)
    return kd_fail(KD_EINVAL, "--schedule %s: generation %d would fit on no samples (T_1 = %zu)",
                   name, g, n);
  *t = (size_t)x;
  return KD_OK;
}

double kd_generation_ridge(const kd_recursive_opts *o, double ridge, int g) {
  const double base = g > 1 && o->gen_ridge >= 0 ? o->gen_ridge : ridge;
  return o->decay == KD_DECAY_INVERSE_SQUARE ? base / ((double)g * g) : base;
}
