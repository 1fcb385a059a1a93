/* Spectra, ground truths and the files they may come from. */
#include "kdbench/problem.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kdbench/input_file.h"
#include "kdbench/number.h"
#include "kdbench/rng.h"

static kd_status alloc_doubles(size_t n, double **out) {
  *out = malloc(sizeof(double) * (n ? n : 1));
  if (!*out) return kd_fail(KD_ENOMEM, "cannot allocate %zu doubles", n);
  return KD_OK;
}

/* Skips blank lines and '#' comments; every other line must hold exactly one number
 * of the grammar (include/kdbench/number.h; and, with `eigenvalues`, one in
 * [KD_SCALE_MIN, KD_SCALE_MAX]), in at most KD_LINE_MAX bytes. */
kd_status kd_read_vector_file(const char *path, int eigenvalues, double **out, size_t *count,
                              size_t **lines) {
  FILE *f;
  kd_status st = kd_input_open(path, &f);
  if (st != KD_OK) return st;
  size_t cap = 1024, len = 0, lineno = 0;
  double *v = malloc(sizeof(double) * cap);
  size_t *at = lines ? malloc(sizeof(size_t) * cap) : NULL;
  char line[KD_LINE_MAX + 2];
  int got = 0;
  if (!v || (lines && !at)) st = kd_fail(KD_ENOMEM, "%s: out of memory", path);
  while (st == KD_OK && (got = kd_input_line(f, line)) != 0) {
    ++lineno;
    if (got < 0) {
      st = kd_input_line_too_long(path, lineno);
      break;
    }
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = '\0';
    char *s = line + strspn(line, " \t");
    if (*s == '\0' || *s == '#') continue;
    double x = 0;
    kd_num r = kd_number_parse(s, &x);
    if (r != KD_NUM_OK) {
      st = kd_fail(KD_EINVAL, "%s:%zu: expected a number, got '%s'%s", path, lineno, s,
                   kd_num_why(r));
    } else if (eigenvalues && !(x > 0)) {
      st = kd_fail(KD_EINVAL, "%s:%zu: eigenvalue must be positive, got %g", path, lineno, x);
    } else if (eigenvalues && !(x >= KD_SCALE_MIN && x <= KD_SCALE_MAX)) {
      st = kd_fail(KD_EINVAL, "%s:%zu: eigenvalue %g is outside [%g, %g], the range kdbench "
                   "computes with", path, lineno, x, KD_SCALE_MIN, KD_SCALE_MAX);
    } else {
      if (len == cap) {
        cap *= 2;
        double *w = realloc(v, sizeof(double) * cap);
        if (w) v = w;
        size_t *wl = lines ? realloc(at, sizeof(size_t) * cap) : NULL;
        if (wl) at = wl;
        if (!w || (lines && !wl)) {
          st = kd_fail(KD_ENOMEM, "%s: out of memory", path);
          break;
        }
      }
      if (at) at[len] = lineno;
      v[len++] = x;
    }
  }
  if (st == KD_OK && ferror(f)) st = kd_fail(KD_EIO, "%s: cannot read", path);
  fclose(f);
  if (st == KD_OK && len == 0) st = kd_fail(KD_EINVAL, "%s: no values", path);
  if (st != KD_OK) {
    free(v);
    free(at);
    return st;
  }
  *out = v;
  *count = len;
  if (lines) *lines = at;
  return KD_OK;
}

static kd_status spectrum_from_file(const char *path, size_t *p, double **lambda) {
  double *v;
  size_t len;
  kd_status st = kd_read_vector_file(path, 1, &v, &len, NULL);
  if (st != KD_OK) return st;
  for (size_t i = 1; i < len; ++i)
    if (v[i] > v[i - 1]) {
      kd_status st = kd_fail(KD_EINVAL,
                             "%s: eigenvalue %zu (%g) exceeds the one before it (%g): "
                             "list them in non-increasing order",
                             path, i + 1, v[i], v[i - 1]);
      free(v);
      return st;
    }
  if (*p != 0 && *p != len) {
    free(v);
    return kd_fail(KD_EINVAL, "%s: has %zu eigenvalues but p = %zu", path, len, *p);
  }
  *p = len;
  *lambda = v;
  return KD_OK;
}

static int in_scale(double x) { return x >= KD_SCALE_MIN && x <= KD_SCALE_MAX; }

kd_status kd_spectrum_check(const kd_spectrum_spec *s, size_t p) {
  switch (s->kind) {
    case KD_SPEC_POWERLAW:
      if (!(s->alpha > 0) || !isfinite(s->alpha))
        return kd_fail(KD_EINVAL, "alpha must be positive, got %g", s->alpha);
      /* lambda_p = p^-alpha, the smallest; its log10 does not underflow as it does */
      if (p > 1 && -s->alpha * log10((double)p) < log10(KD_SCALE_MIN))
        return kd_fail(KD_EINVAL, "alpha = %g with p = %zu: the smallest eigenvalue p^-alpha = "
                       "10^%.4g is below %g, the smallest kdbench computes with (alpha <= %.4g "
                       "at this p)", s->alpha, p, -s->alpha * log10((double)p), KD_SCALE_MIN,
                       -log10(KD_SCALE_MIN) / log10((double)p));
      break;
    case KD_SPEC_ISOTROPIC:
      if (!in_scale(s->level_a))
        return kd_fail(KD_EINVAL, "isotropic level %g is outside [%g, %g], the range kdbench "
                       "computes with", s->level_a, KD_SCALE_MIN, KD_SCALE_MAX);
      break;
    case KD_SPEC_TWOLEVEL:
      if (!in_scale(s->level_a) || !in_scale(s->level_b))
        return kd_fail(KD_EINVAL, "two-level levels %g and %g: each must be in [%g, %g], the "
                       "range kdbench computes with", s->level_a, s->level_b, KD_SCALE_MIN,
                       KD_SCALE_MAX);
      if (s->level_a < s->level_b)
        return kd_fail(KD_EINVAL, "two-level: strong level %g is below weak level %g",
                       s->level_a, s->level_b);
      if (p && s->strong > p)
        return kd_fail(KD_EINVAL, "two-level: %zu strong features exceed p = %zu", s->strong, p);
      break;
    case KD_SPEC_FILE: break; /* kd_read_vector_file checks each line */
  }
  return KD_OK;
}

kd_status kd_spectrum_build(const kd_spectrum_spec *s, size_t *p, double **lambda) {
  if (s->kind == KD_SPEC_FILE) return spectrum_from_file(s->path, p, lambda);
  if (*p == 0) return kd_fail(KD_EINVAL, "p must be a positive integer");
  kd_status st = kd_spectrum_check(s, *p);
  if (st != KD_OK) return st;
  st = alloc_doubles(*p, lambda);
  if (st != KD_OK) return st;
  for (size_t i = 0; i < *p; ++i) {
    switch (s->kind) {
      case KD_SPEC_POWERLAW: (*lambda)[i] = pow((double)(i + 1), -s->alpha); break;
      case KD_SPEC_ISOTROPIC: (*lambda)[i] = s->level_a; break;
      case KD_SPEC_TWOLEVEL: (*lambda)[i] = i < s->strong ? s->level_a : s->level_b; break;
      case KD_SPEC_FILE: break;
    }
  }
  return KD_OK;
}

kd_status kd_beta_build(const kd_beta_spec *b, size_t p, const double *lambda,
                        uint64_t seed, double **beta) {
  if (b->kind == KD_BETA_FILE) {
    size_t len, *lines = NULL;
    kd_status st = kd_read_vector_file(b->path, 0, beta, &len, &lines);
    if (st != KD_OK) return st;
    if (len != p)
      st = kd_fail(KD_EINVAL, "%s: has %zu values but p = %zu", b->path, len, p);
    for (size_t i = 0; i < p && st == KD_OK; ++i) {
      double share = lambda[i] * (*beta)[i] * (*beta)[i];
      if (!(share <= KD_SCALE_MAX))
        st = kd_fail(KD_EINVAL, "%s:%zu: beta*_%zu = %g makes lambda_i beta*_i^2 = %g, above %g, "
                     "the largest signal share kdbench computes with", b->path, lines[i], i + 1,
                     (*beta)[i], share, KD_SCALE_MAX);
    }
    free(lines);
    if (st != KD_OK) {
      free(*beta);
      *beta = NULL;
    }
    return st;
  }
  if (b->kind == KD_BETA_POWERLAW && (!(b->signal_exp > 0) || !isfinite(b->signal_exp)))
    return kd_fail(KD_EINVAL, "signal exponent must be positive, got %g", b->signal_exp);
  kd_status st = alloc_doubles(p, beta);
  if (st != KD_OK) return st;
  if (b->kind == KD_BETA_POWERLAW) {
    for (size_t i = 0; i < p; ++i) (*beta)[i] = sqrt(pow((double)(i + 1), -b->signal_exp) / lambda[i]);
  } else {
    kd_rng_addr a = {.seed = seed, .point = 0, .trial = 0, .purpose = KD_PURPOSE_BETA};
    kd_rng_fill(a, p, 0, 1, NULL, *beta, p);
    double s = 1.0 / sqrt((double)p);
    for (size_t i = 0; i < p; ++i) (*beta)[i] *= s;
  }
  return KD_OK;
}

kd_status kd_problem_init(kd_problem *pr, const kd_spectrum_spec *s, const kd_beta_spec *b,
                          size_t p, double sigma, double teacher_sigma, uint64_t seed) {
  memset(pr, 0, sizeof *pr);
  if (!(sigma >= 0 && sigma <= KD_SIGMA_MAX))
    return kd_fail(KD_EINVAL, "sigma must be in [0, %g], got %g", KD_SIGMA_MAX, sigma);
  if (!(teacher_sigma >= 0 && teacher_sigma <= KD_SIGMA_MAX))
    return kd_fail(KD_EINVAL, "teacher sigma must be in [0, %g], got %g", KD_SIGMA_MAX,
                   teacher_sigma);
  kd_status st = kd_spectrum_build(s, &p, &pr->lambda);
  if (st != KD_OK) return st;
  pr->p = p;
  st = kd_beta_build(b, p, pr->lambda, seed, &pr->beta);
  if (st != KD_OK) {
    kd_problem_free(pr);
    return st;
  }
  pr->sigma = sigma;
  pr->teacher_sigma = teacher_sigma;
  return KD_OK;
}

kd_status kd_problem_weak_spectrum(kd_problem *pr, const kd_spectrum_spec *s) {
  size_t p = pr->p;
  double *lambda_w = NULL;
  kd_status st = kd_spectrum_build(s, &p, &lambda_w);
  if (st != KD_OK) return kd_fail(st, "--weak-spectrum: %s", kd_last_error());
  for (size_t i = 0; i < p; ++i)
    if (!(lambda_w[i] * pr->beta[i] * pr->beta[i] <= KD_SCALE_MAX)) {
      free(lambda_w);
      return kd_fail(KD_EINVAL, "--weak-spectrum: feature %zu's signal share %g exceeds %g",
                     i + 1, lambda_w[i] * pr->beta[i] * pr->beta[i], KD_SCALE_MAX);
    }
  free(pr->lambda_w);
  pr->lambda_w = lambda_w;
  return KD_OK;
}

void kd_problem_free(kd_problem *pr) {
  free(pr->lambda);
  free(pr->lambda_w);
  free(pr->beta);
  pr->lambda = pr->lambda_w = pr->beta = NULL;
}
