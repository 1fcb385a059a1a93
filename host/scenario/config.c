/* Settings by name: one setter for the command line, scenario files and presets,
 * strict number parsing, and the printer that writes a config back as a scenario. */
#include "kdbench/config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kdbench/curriculum_settings.h"
#include "kdbench/number.h"
#include "kdbench/pipeline.h"
#include "kdbench/rng.h"
#include "kdbench/shard_spec.h"

static const char *const JOB_NAMES[] = {[KD_JOB_SWEEP] = "sweep", [KD_JOB_WEIGHTS] = "weights"};
static const char *const ORDER_NAMES[] = {
    [KD_GROW_HEAD] = "head", [KD_GROW_TAIL] = "tail", [KD_GROW_RANDOM] = "random"};

/* ---- numbers: the one grammar of include/kdbench/number.h, each setting's range ---- */

/* Every number error says what was expected: "--p: expected a positive integer, got
 * '0x10'". */
static kd_status expected(const char *name, const char *what, const char *text, kd_num r) {
  return kd_fail(KD_EINVAL, "--%s: expected %s, got '%s'%s", name, what, text, kd_num_why(r));
}

/* These set *out only when they succeed: a refused value leaves the config as it was. */
static kd_status parse_double(const char *name, const char *text, double *out) {
  kd_num r = kd_number_parse(text, out);
  return r == KD_NUM_OK ? KD_OK : expected(name, "a number", text, r);
}

/* A positive integer (1e4 and 200.0 are integers too). */
static kd_status parse_count(const char *name, const char *text, size_t *out) {
  uint64_t x = 0;
  kd_num r = kd_whole_parse(text, &x);
  if (r != KD_NUM_OK || x < 1 || x > SIZE_MAX) return expected(name, "a positive integer", text, r);
  *out = (size_t)x;
  return KD_OK;
}

/* A number in [0, max]: max keeps what the stages form from it finite (problem.h). */
static kd_status parse_nonneg(const char *name, const char *text, double max, double *out) {
  char what[64];
  snprintf(what, sizeof what, "a number from 0 to %g", max);
  double x = 0;
  kd_num r = kd_number_parse(text, &x);
  if (r != KD_NUM_OK || !(x >= 0 && x <= max)) return expected(name, what, text, r);
  *out = x;
  return KD_OK;
}

static kd_status parse_positive(const char *name, const char *text, double *out) {
  double x = 0;
  kd_num r = kd_number_parse(text, &x);
  if (r != KD_NUM_OK || !(x > 0)) return expected(name, "a positive number", text, r);
  *out = x;
  return KD_OK;
}

/* Above KD_ALPHA_MAX no p >= 2 keeps the power law's eigenvalues in range (problem.h). */
static kd_status parse_alpha(const char *text, double *out) {
  double x = 0;
  kd_num r = kd_number_parse(text, &x);
  if (r != KD_NUM_OK || !(x > 0 && x <= KD_ALPHA_MAX))
    return expected("alpha", "a positive number of at most 332.2 (p^-alpha >= 1e-100 at p = 2)",
                    text, r);
  *out = x;
  return KD_OK;
}

/* An integer >= 0. */
static kd_status parse_whole(const char *name, const char *text, size_t *out) {
  uint64_t x = 0;
  kd_num r = kd_whole_parse(text, &x);
  if (r != KD_NUM_OK || x > SIZE_MAX) return expected(name, "an integer >= 0", text, r);
  *out = (size_t)x;
  return KD_OK;
}

static kd_status parse_seed(const char *text, uint64_t *out) {
  kd_num r = kd_whole_parse(text, out);
  return r == KD_NUM_OK ? KD_OK : expected("seed", "an integer from 0 to 2^64 - 1", text, r);
}

static kd_status parse_bool(const char *name, const char *text, int *out) {
  if (!strcmp(text, "true") || !strcmp(text, "yes") || !strcmp(text, "1")) *out = 1;
  else if (!strcmp(text, "false") || !strcmp(text, "no") || !strcmp(text, "0")) *out = 0;
  else return kd_fail(KD_EINVAL, "--%s: expected true or false, got '%s'", name, text);
  return KD_OK;
}

static kd_status copy_text(const char *name, const char *text, char *dst, size_t len) {
  if (strlen(text) >= len)
    return kd_fail(KD_EINVAL, "--%s: value too long (%zu bytes, at most %zu)", name, strlen(text),
                   len - 1);
  strcpy(dst, text);
  return KD_OK;
}

/* ---- axis values ------------------------------------------------------------------------ */

/* At most this many values an axis (before de-duplication): the grid is their product,
 * and de-duplication compares each with those before it. */
#define AXIS_MAX_VALUES 10000

static kd_status push(const char *name, double **v, size_t *len, size_t *cap, double x) {
  if (*len == AXIS_MAX_VALUES)
    return kd_fail(KD_EINVAL, "--%s: more than %d values", name, AXIS_MAX_VALUES);
  if (*len == *cap) {
    size_t nc = *cap ? 2 * *cap : 16;
    double *nv = realloc(*v, sizeof(double) * nc);
    if (!nv) return kd_fail(KD_ENOMEM, "out of memory");
    *v = nv;
    *cap = nc;
  }
  (*v)[(*len)++] = x;
  return KD_OK;
}

/* s without the blanks around it (cut in place). */
static char *trim_blanks(char *s) {
  s += strspn(s, " \t");
  size_t n = strlen(s);
  while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) s[--n] = '\0';
  return s;
}

/* One item, parsed and checked: a number, or A:B:logN | A:B:linN | A:B:pow2. */
static kd_status parse_item(const char *name, char *item, kd_axis_item *it) {
  char *c1 = strchr(item, ':');
  if (!c1) {
    *it = (kd_axis_item){.kind = KD_ITEM_NUMBER};
    return parse_double(name, item, &it->a);
  }
  char *c2 = strchr(c1 + 1, ':');
  if (!c2)
    return kd_fail(KD_EINVAL, "--%s: range '%s' needs a spacing: A:B:logN, A:B:linN or A:B:pow2",
                   name, item);
  *c1 = *c2 = '\0';
  double a = 0, b = 0;
  kd_status st = parse_double(name, item, &a);
  if (st == KD_OK) st = parse_double(name, c1 + 1, &b);
  if (st != KD_OK) return st;
  const char *sp = trim_blanks(c2 + 1);
  if (strcmp(sp, "pow2") == 0) {
    if (!(a > 0) || !(b >= a))
      return kd_fail(KD_EINVAL, "--%s: pow2 range needs 0 < A <= B, got %g:%g", name, a, b);
    *it = (kd_axis_item){.kind = KD_ITEM_POW2, .a = a, .b = b};
    return KD_OK;
  }
  int lg = strncmp(sp, "log", 3) == 0, ln = strncmp(sp, "lin", 3) == 0;
  uint64_t count = 0;
  if (!(lg || ln) || kd_whole_parse(sp + 3, &count) != KD_NUM_OK || count < 1)
    return kd_fail(KD_EINVAL, "--%s: unknown spacing '%s' (expected logN, linN or pow2, N a "
                   "positive integer)", name, sp);
  if (count > AXIS_MAX_VALUES)
    return kd_fail(KD_EINVAL, "--%s: range %g:%g:%s asks for %llu values, at most %d", name, a, b,
                   sp, (unsigned long long)count, AXIS_MAX_VALUES);
  if (b < a)
    return kd_fail(KD_EINVAL, "--%s: reversed range %g:%g (write it A:B with A <= B)", name, a, b);
  if (lg && !(a > 0 && b > 0))
    return kd_fail(KD_EINVAL, "--%s: a log range needs positive bounds, got %g:%g", name, a, b);
  /* B - A (lin) or B / A (log) past the largest double would make inf and NaN values
   * between the bounds (found by tests/fuzz/fuzz_axis.c). */
  if (!isfinite(lg ? b / a : b - a))
    return kd_fail(KD_EINVAL, "--%s: range %g:%g spans more than a double holds", name, a, b);
  *it = (kd_axis_item){.kind = lg ? KD_ITEM_LOG : KD_ITEM_LIN, .count = (uint32_t)count, .a = a,
                       .b = b};
  return KD_OK;
}

/* The values of one item, appended to v. */
static kd_status expand_item(const char *name, const kd_axis_item *it, double **v, size_t *len,
                             size_t *cap) {
  double a = it->a, b = it->b;
  kd_status st = KD_OK;
  if (it->kind == KD_ITEM_NUMBER) return push(name, v, len, cap, a);
  if (it->kind == KD_ITEM_POW2) {
    size_t before = *len;
    for (double x = exp2(ceil(log2(a))); x <= b * (1 + 1e-12) && st == KD_OK; x *= 2)
      st = push(name, v, len, cap, x);
    if (st == KD_OK && *len == before) /* an empty range would make an empty grid */
      return kd_fail(KD_EINVAL, "--%s: no power of two between %g and %g", name, a, b);
    return st;
  }
  for (uint32_t i = 0; i < it->count && st == KD_OK; ++i) {
    double f = it->count == 1 ? 0 : (double)i / (double)(it->count - 1);
    double x = it->kind == KD_ITEM_LOG ? a * pow(b / a, f) : a + (b - a) * f;
    if (i == it->count - 1) x = b; /* the end point exactly, not a rounding of it */
    st = push(name, v, len, cap, x);
  }
  return st;
}

/* The items' values, rounded (integer axes), de-duplicated and checked against the
 * axis's range. Run by kd_axis_spec_parse on every spec it makes, so on a spec it made
 * only memory can fail. */
static kd_status spec_values(kd_axis a, const kd_axis_spec *s, double **out, size_t *count) {
  const char *name = kd_axis_name(a);
  double *v = NULL;
  size_t len = 0, cap = 0;
  kd_status st = KD_OK;
  for (size_t i = 0; i < s->count && st == KD_OK; ++i)
    st = expand_item(name, &s->item[i], &v, &len, &cap);
  /* Every axis is de-duplicated: two equal values would be two points with the same
   * key, which resume cannot tell apart. */
  if (st == KD_OK) {
    size_t kept = 0;
    for (size_t i = 0; i < len && st == KD_OK; ++i) {
      double x = kd_axis_is_integer(a) ? round(v[i]) : v[i];
      if (kd_axis_is_integer(a) && (x < 1 || x > 9007199254740992.0)) {
        st = kd_fail(KD_EINVAL, "--%s: values must be positive integers, got %g", name, v[i]);
        break;
      }
      int seen = 0;
      for (size_t j = 0; j < kept; ++j) seen |= v[j] == x;
      if (!seen) v[kept++] = x;
    }
    len = kept;
  }
  /* ridge and sigma: at most what keeps the stages finite (problem.h); a fraction: 1 */
  double max = a == KD_AXIS_RIDGE ? KD_SCALE_MAX : a == KD_AXIS_SIGMA ? KD_SIGMA_MAX : 1;
  for (size_t i = 0; i < len && st == KD_OK; ++i) {
    if (a == KD_AXIS_ALPHA && !(v[i] > 0 && v[i] <= KD_ALPHA_MAX))
      st = kd_fail(KD_EINVAL, "--%s: expected positive values of at most %.4g, got %g", name,
                   KD_ALPHA_MAX, v[i]);
    else if ((a == KD_AXIS_RIDGE || a == KD_AXIS_SIGMA || a == KD_AXIS_REAL_FRACTION) &&
             !(v[i] >= 0 && v[i] <= max))
      st = kd_fail(KD_EINVAL, "--%s: expected values from 0 to %g, got %g", name, max, v[i]);
  }
  if (st != KD_OK) {
    free(v);
    return st;
  }
  *out = v;
  *count = len;
  return KD_OK;
}

int kd_axis_spec_single(const kd_axis_spec *s, double *x) {
  if (s->count != 1 || s->item[0].kind != KD_ITEM_NUMBER) return 0;
  if (x) *x = s->item[0].a;
  return 1;
}

kd_status kd_axis_spec_values(kd_axis a, const kd_axis_spec *s, double **v, size_t *count) {
  return spec_values(a, s, v, count);
}

/* Parses into *tmp (a caller's buffer: a spec is KD_AXIS_MAX_ITEMS items), then checks
 * the values it makes. */
static kd_status spec_parse(kd_axis a, const char *text, kd_axis_spec *tmp) {
  const char *name = kd_axis_name(a);
  char *copy = strdup(text);
  if (!copy) return kd_fail(KD_ENOMEM, "out of memory");
  tmp->count = 0;
  kd_status st = KD_OK;
  char *s = copy;
  for (;;) {
    char *comma = strchr(s, ',');
    if (comma) *comma = '\0';
    char *item = trim_blanks(s); /* "10, 20": blanks around an item, as around a number */
    if (*item == '\0') {
      st = kd_fail(KD_EINVAL, "--%s: empty entry in '%s'", name, text);
      break;
    }
    if (tmp->count == KD_AXIS_MAX_ITEMS) { /* only a text longer than KD_TEXT_LEN */
      st = kd_fail(KD_EINVAL, "--%s: more than %d items", name, KD_AXIS_MAX_ITEMS);
      break;
    }
    st = parse_item(name, item, &tmp->item[tmp->count++]);
    if (st != KD_OK || !comma) break;
    s = comma + 1;
  }
  free(copy);
  double *v = NULL;
  size_t count = 0;
  if (st == KD_OK) st = spec_values(a, tmp, &v, &count);
  free(v);
  return st;
}

kd_status kd_axis_spec_parse(kd_axis a, const char *text, kd_axis_spec *s) {
  kd_axis_spec *tmp = malloc(sizeof *tmp); /* 24 KiB: not on the stack twice */
  if (!tmp) return kd_fail(KD_ENOMEM, "out of memory");
  kd_status st = spec_parse(a, text, tmp);
  if (st == KD_OK) {
    s->count = tmp->count;
    memcpy(s->item, tmp->item, sizeof *tmp->item * tmp->count);
  }
  free(tmp);
  return st;
}

kd_status kd_axis_values(kd_axis a, const char *text, double **v, size_t *count) {
  kd_axis_spec *s = malloc(sizeof *s);
  if (!s) return kd_fail(KD_ENOMEM, "out of memory");
  kd_status st = spec_parse(a, text, s);
  if (st == KD_OK) st = spec_values(a, s, v, count);
  free(s);
  return st;
}

/* ---- the settings ------------------------------------------------------------------------- */

typedef struct {
  const char *name, *section;
} setting;

/* Order = the order kd_config_print writes them in. */
static const setting SETTINGS[] = {
    {"spectrum", "problem"}, {"p", "problem"}, {"alpha", "problem"},
    {"beta", "problem"},   {"signal-exp", "problem"}, {"sigma", "problem"},
    {"teacher-sigma", "problem"}, {"ridge", "student"}, {"real-fraction", "student"},
    {"student-features", "student"}, {"feature-order", "student"},
    {"noise-features", "student"}, {"noise-level", "student"},
    {"m", "teacher"},      {"k", "teacher"},        {"weak-ridge", "teacher"},
    {"weak-spectrum", "teacher"}, {"weak-alpha", "teacher"},
    {"pipelines", "sweep"}, {"sweep", "sweep"},
    {"n", "sweep"},        {"trials", "sweep"},     {"seed", "sweep"},
    {"generations", "generations"}, {"schedule", "generations"},
    {"synthetic-sigma", "generations"}, {"gen-ridge", "generations"},
    {"gen-ridge-decay", "generations"},
    {"difficulty", "curriculum"}, {"order", "curriculum"}, {"pacing", "curriculum"},
    {"step", "curriculum"}, {"budget", "curriculum"}, {"checkpoints", "curriculum"},
    {"easy-fraction", "curriculum"}, {"easy-sigma", "curriculum"}, {"hard-sigma", "curriculum"},
    {"job", "run"},        {"backend", "run"},      {"shard", "run"},
    {"csv", "output"},     {"raw", "output"}, {"fit", "output"},
    {"theory-only", "output"},
};

int kd_config_known(const char *name, const char **section) {
  for (size_t i = 0; i < sizeof SETTINGS / sizeof *SETTINGS; ++i)
    if (strcmp(name, SETTINGS[i].name) == 0) {
      if (section) *section = SETTINGS[i].section;
      return 1;
    }
  return 0;
}

static int is_single_value(const char *text) { return !strchr(text, ',') && !strchr(text, ':'); }

static kd_status set_sweep(kd_config *c, const char *text) {
  char buf[64];
  if (strlen(text) >= sizeof buf) return kd_fail(KD_EINVAL, "--sweep: unknown axes '%s'", text);
  strcpy(buf, text);
  int count = 0;
  kd_axis axes[KD_MAX_SWEPT];
  for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    int a = kd_axis_parse(tok);
    if (a < 0) {
      char names[256];
      kd_axis_names(names, sizeof names);
      return kd_fail(KD_EINVAL, "--sweep: unknown axis '%s' (expected %s)", tok, names);
    }
    if (count == KD_MAX_SWEPT)
      return kd_fail(KD_EINVAL, "--sweep: at most %d axes at once, got '%s'", KD_MAX_SWEPT, text);
    if (count == 1 && axes[0] == (kd_axis)a)
      return kd_fail(KD_EINVAL, "--sweep: axis '%s' given twice", tok);
    axes[count++] = (kd_axis)a;
  }
  if (count == 0) return kd_fail(KD_EINVAL, "--sweep: no axis given");
  c->n_swept = count;
  memcpy(c->swept, axes, sizeof axes);
  return KD_OK;
}

/* An axis setting: parsed and checked now into c->axis_values (a list is used once the
 * sweep is known), the text kept for printing; a single value also sets the scalar. */
static kd_status set_axis(kd_config *c, kd_axis a, const char *text) {
  const char *name = kd_axis_name(a);
  if (a == KD_AXIS_K && (strcmp(text, "auto") == 0 || strcmp(text, "all") == 0)) {
    c->k = text[1] == 'u' ? 0 : KD_K_ALL;
    c->values[a][0] = '\0';
    c->axis_values[a].count = 0;
    return KD_OK;
  }
  if (a == KD_AXIS_STUDENT_FEATURES && strcmp(text, "all") == 0) {
    c->student_features = 0;
    c->values[a][0] = '\0';
    c->axis_values[a].count = 0;
    return KD_OK;
  }
  if (a == KD_AXIS_N && strcmp(text, "default") == 0) {
    c->values[a][0] = '\0';
    c->axis_values[a].count = 0;
    return KD_OK;
  }
  kd_status st = KD_OK;
  if (is_single_value(text)) {
    /* The scalar first, parsed strictly (an integer axis does not round a single
     * value), with the message of what the setting takes. */
    switch (a) {
      case KD_AXIS_N: { size_t z; st = parse_count(name, text, &z); break; }
      case KD_AXIS_P: st = parse_count(name, text, &c->p); break;
      case KD_AXIS_M: st = parse_count(name, text, &c->m); break;
      case KD_AXIS_K: st = parse_count(name, text, &c->k); break;
      case KD_AXIS_RIDGE: st = parse_nonneg(name, text, KD_SCALE_MAX, &c->ridge); break;
      case KD_AXIS_ALPHA: st = parse_alpha(text, &c->alpha); break;
      case KD_AXIS_SIGMA: st = parse_nonneg(name, text, KD_SIGMA_MAX, &c->sigma); break;
      case KD_AXIS_REAL_FRACTION: st = parse_nonneg(name, text, 1, &c->real_fraction); break;
      case KD_AXIS_STUDENT_FEATURES: st = parse_count(name, text, &c->student_features); break;
      default: break;
    }
  } else if (a == KD_AXIS_K && c->k == KD_K_ALL) {
    c->k = 0; /* a list of k for the sweep: not every feature */
  }
  if (st == KD_OK) st = kd_axis_spec_parse(a, text, &c->axis_values[a]);
  if (st != KD_OK) return st;
  return copy_text(name, text, c->values[a], sizeof c->values[a]);
}

/* The one reading of a spectrum's text (powerlaw | isotropic[:L] | twolevel:K,A,B |
 * file:PATH) into *s (alpha from the config; the path points into text), checked as far
 * as it goes without p (kd_spectrum_check). */
static kd_status parse_spectrum(const char *name, const char *text, double alpha,
                                kd_spectrum_spec *s) {
  memset(s, 0, sizeof *s);
  kd_status st = KD_OK;
  if (!strcmp(text, "powerlaw")) {
    *s = (kd_spectrum_spec){.kind = KD_SPEC_POWERLAW, .alpha = alpha};
    return KD_OK; /* alpha is checked as a setting and, with p, by the build */
  } else if (!strcmp(text, "isotropic")) {
    *s = (kd_spectrum_spec){.kind = KD_SPEC_ISOTROPIC, .level_a = 1};
  } else if (!strncmp(text, "isotropic:", 10)) {
    *s = (kd_spectrum_spec){.kind = KD_SPEC_ISOTROPIC};
    st = parse_positive(name, text + 10, &s->level_a);
  } else if (!strncmp(text, "twolevel:", 9)) {
    const char *k = text + 9, *c1 = strchr(k, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
    uint64_t strong = 0;
    double a = 0, b = 0;
    if (!c2 || strchr(c2 + 1, ',') || kd_whole_parse_span(k, (size_t)(c1 - k), &strong) ||
        strong > SIZE_MAX || kd_number_parse_span(c1 + 1, (size_t)(c2 - c1 - 1), &a) ||
        kd_number_parse(c2 + 1, &b))
      return kd_fail(KD_EINVAL, "--%s: expected twolevel:K,A,B (K an integer >= 0, A >= B > 0 "
                     "numbers), got '%s'", name, text);
    *s = (kd_spectrum_spec){.kind = KD_SPEC_TWOLEVEL, .strong = (size_t)strong, .level_a = a,
                            .level_b = b};
  } else if (!strncmp(text, "file:", 5) && text[5]) {
    *s = (kd_spectrum_spec){.kind = KD_SPEC_FILE, .path = text + 5};
  } else {
    return kd_fail(KD_EINVAL,
                   "--%s: unknown '%s' (expected powerlaw, isotropic[:LEVEL], "
                   "twolevel:K,A,B or file:PATH)", name, text);
  }
  if (st == KD_OK && kd_spectrum_check(s, 0) != KD_OK)
    st = kd_fail(KD_EINVAL, "--%s %s: %s", name, text, kd_last_error());
  return st;
}

/* The recursive pipeline's settings (include/kdbench/recursive.h); "same": sigma's, the
 * point's ridge. */
static kd_status set_generations(kd_recursive_opts *o, const char *name, const char *text) {
  if (!strcmp(name, "generations")) {
    size_t g = 0;
    kd_status st = parse_count(name, text, &g);
    if (st == KD_OK && g > KD_GENERATIONS_MAX)
      st = kd_fail(KD_EINVAL, "--generations: at most %d, got '%s'", KD_GENERATIONS_MAX, text);
    if (st == KD_OK) o->generations = (int)g;
    return st;
  }
  if (!strcmp(name, "schedule")) return kd_schedules_parse(text, o);
  if (!strcmp(name, "gen-ridge-decay")) {
    if (strcmp(text, "none") && strcmp(text, "inverse-square"))
      return kd_fail(KD_EINVAL, "--gen-ridge-decay: unknown '%s' (expected none or "
                     "inverse-square)", text);
    o->decay = strcmp(text, "none") ? KD_DECAY_INVERSE_SQUARE : KD_DECAY_NONE;
    return KD_OK;
  }
  double *x = !strcmp(name, "gen-ridge") ? &o->gen_ridge
              : !strcmp(name, "synthetic-sigma") ? &o->synthetic_sigma : NULL;
  if (!x) return kd_fail(KD_EINVAL, "unknown setting '%s'", name);
  if (!strcmp(text, "same")) {
    *x = -1;
    return KD_OK;
  }
  return parse_nonneg(name, text, x == &o->gen_ridge ? 1e100 : KD_SIGMA_MAX, x);
}

kd_status kd_config_set(kd_config *c, const char *name, const char *text) {
  /* Before any parsing: a list of a megabyte was parsed and de-duplicated first. */
  size_t len = strlen(text);
  if (len >= KD_TEXT_LEN)
    return kd_fail(KD_EINVAL, "--%s: value too long (%zu bytes, at most %d)", name, len,
                   KD_TEXT_LEN - 1);
  int a = kd_axis_parse(name);
  if (a >= 0) return set_axis(c, (kd_axis)a, text);
  size_t z = 0;
  if (!strcmp(name, "spectrum")) {
    kd_spectrum_spec spec;
    kd_status st = parse_spectrum(name, text, c->alpha, &spec);
    if (st != KD_OK) return st;
    spec.alpha = 0; /* the config's, given by kd_config_spectrum */
    spec.path = NULL;
    c->spectrum_spec = spec;
    if (spec.kind == KD_SPEC_FILE) { /* p: the file's length, unless set after */
      c->p = 0;
      c->values[KD_AXIS_P][0] = '\0';
      c->axis_values[KD_AXIS_P].count = 0;
      return copy_text(name, text, c->spectrum, sizeof c->spectrum);
    }
    /* Kept without the blanks around its numbers (the only place a blank may stand
     * outside a path), as printed in a scenario file: "isotropic: 2" is "isotropic:2". */
    size_t n = 0;
    for (const char *t = text; *t; ++t)
      if (*t != ' ' && *t != '\t') c->spectrum[n++] = *t;
    c->spectrum[n] = '\0';
    return KD_OK;
  }
  if (!strcmp(name, "weak-spectrum")) {
    kd_spectrum_spec spec;
    kd_status st = parse_spectrum(name, text, 0, &spec);
    if (st != KD_OK) return st;
    spec.path = NULL; /* kd_config_weak_spectrum points it into the text */
    c->weak_spectrum_spec = spec;
    size_t n = 0; /* without blanks, as the spectrum (a path keeps its own) */
    for (const char *t = text; *t; ++t)
      if (spec.kind == KD_SPEC_FILE || (*t != ' ' && *t != '\t')) c->weak_spectrum[n++] = *t;
    c->weak_spectrum[n] = '\0';
    return KD_OK;
  }
  if (!strcmp(name, "weak-alpha")) {
    kd_status st = parse_alpha(text, &c->weak_alpha);
    if (st == KD_OK && !c->weak_spectrum[0]) { /* a weak-alpha alone: a power law */
      c->weak_spectrum_spec = (kd_spectrum_spec){.kind = KD_SPEC_POWERLAW};
      snprintf(c->weak_spectrum, sizeof c->weak_spectrum, "powerlaw");
    }
    return st;
  }
  if (!strcmp(name, "beta")) {
    kd_beta_kind kind = KD_BETA_POWERLAW;
    if (!strcmp(text, "gauss")) kind = KD_BETA_GAUSS;
    else if (strncmp(text, "file:", 5) == 0 && text[5]) kind = KD_BETA_FILE;
    else if (strcmp(text, "powerlaw"))
      return kd_fail(KD_EINVAL, "--beta: unknown '%s' (expected powerlaw, gauss or file:PATH)", text);
    c->beta_spec = (kd_beta_spec){.kind = kind};
    return copy_text(name, text, c->beta, sizeof c->beta);
  }
  if (!strcmp(name, "signal-exp")) return parse_positive(name, text, &c->signal_exp);
  if (!strcmp(name, "teacher-sigma")) {
    if (!strcmp(text, "same")) {
      c->teacher_sigma = -1;
      return KD_OK;
    }
    return parse_nonneg(name, text, KD_SIGMA_MAX, &c->teacher_sigma);
  }
  if (!strcmp(name, "weak-ridge")) {
    if (!strcmp(text, "auto")) {
      c->weak_ridge = -1;
      return KD_OK;
    }
    return parse_nonneg(name, text, KD_SCALE_MAX, &c->weak_ridge);
  }
  if (!strcmp(name, "feature-order")) {
    for (int o = 0; o < (int)(sizeof ORDER_NAMES / sizeof *ORDER_NAMES); ++o)
      if (!strcmp(text, ORDER_NAMES[o])) {
        c->feature_order = (kd_feature_order)o;
        return KD_OK;
      }
    return kd_fail(KD_EINVAL, "--feature-order: unknown '%s' (expected head, tail or random)",
                   text);
  }
  if (!strcmp(name, "noise-features")) return parse_whole(name, text, &c->noise_features);
  if (!strcmp(name, "noise-level")) {
    double x = 0;
    kd_num r = kd_number_parse(text, &x);
    if (r != KD_NUM_OK || !(x > 0 && x <= KD_SCALE_MAX))
      return expected(name, "a number above 0, at most 1e+100", text, r);
    c->noise_level = x;
    return KD_OK;
  }
  if (!strcmp(name, "pipelines")) return kd_pipelines_parse(text, &c->pipelines);
  if (!strncmp(name, "gen", 3) || !strcmp(name, "schedule") || !strcmp(name, "synthetic-sigma"))
    return set_generations(&c->pipe_opts.recursive, name, text);
  if (kd_curriculum_setting(name)) return kd_curriculum_set(c, name, text);
  if (!strcmp(name, "sweep")) return set_sweep(c, text);
  if (!strcmp(name, "trials")) {
    kd_status st = parse_count(name, text, &z);
    if (st != KD_OK) return st;
    if (z >= KD_MAX_TRIALS)
      return kd_fail(KD_EINVAL, "--trials: at most %u, got '%s'", KD_MAX_TRIALS - 1, text);
    c->trials = (uint32_t)z;
    return KD_OK;
  }
  if (!strcmp(name, "seed")) return parse_seed(text, &c->seed);
  if (!strcmp(name, "backend")) {
    if (strcmp(text, "cpu") && strcmp(text, "cuda") && strcmp(text, "auto"))
      return kd_fail(KD_EINVAL, "--backend: unknown '%s' (expected cpu, cuda or auto)", text);
    return copy_text(name, text, c->run.backend, sizeof c->run.backend);
  }
  if (!strcmp(name, "job")) {
    for (int j = 0; j < (int)(sizeof JOB_NAMES / sizeof *JOB_NAMES); ++j)
      if (!strcmp(text, JOB_NAMES[j])) {
        c->run.job = (kd_job)j;
        return KD_OK;
      }
    return kd_fail(KD_EINVAL, "--job: unknown '%s' (expected sweep or weights)", text);
  }
  if (!strcmp(name, "csv")) {
    if (!*text) return kd_fail(KD_EINVAL, "--csv: empty path");
    return copy_text(name, text, c->run.csv, sizeof c->run.csv);
  }
  if (!strcmp(name, "raw")) return parse_bool(name, text, &c->raw);
  if (!strcmp(name, "fit")) return parse_bool(name, text, &c->run.fit);
  if (!strcmp(name, "theory-only")) return parse_bool(name, text, &c->theory_only);
  if (!strcmp(name, "shard")) { /* shard: checked now, resolved by the sweep (host/cluster/shard.c) */
    kd_shard_spec spec;
    kd_status st = kd_shard_parse(text, &spec);
    return st == KD_OK ? copy_text(name, text, c->run.shard, sizeof c->run.shard) : st;
  }
  return kd_fail(KD_EINVAL, "unknown setting '%s'", name);
}

/* ---- cross-setting checks ------------------------------------------------------------ */

int kd_config_swept(const kd_config *c, kd_axis a) {
  for (int i = 0; i < c->n_swept; ++i)
    if (c->swept[i] == a) return 1;
  return 0;
}

void kd_config_unswept_as_defaults(kd_config *c) {
  for (int a = 0; a < KD_NAXES; ++a)
    if (a != KD_AXIS_N && !kd_config_swept(c, (kd_axis)a)) {
      c->values[a][0] = '\0';
      c->axis_values[a].count = 0;
    }
}

kd_status kd_config_check(const kd_config *c) {
  if (c->run.job == KD_JOB_WEIGHTS) return KD_OK; /* kd_weights_run checks its own */
  if (c->n_swept == 0) return kd_fail(KD_EINVAL, "nothing to sweep: give --sweep AXIS (see kdbench --help)");
  for (int a = 0; a < KD_NAXES; ++a)
    if (!kd_config_swept(c, (kd_axis)a) && c->axis_values[a].count &&
        !kd_axis_spec_single(&c->axis_values[a], NULL))
      return kd_fail(KD_EINVAL, "--%s: several values ('%s') but %s is not swept (add it to --sweep)",
                     kd_axis_name((kd_axis)a), c->values[a], kd_axis_name((kd_axis)a));
  if (c->spectrum_spec.kind == KD_SPEC_FILE && kd_config_swept(c, KD_AXIS_P))
    return kd_fail(KD_EINVAL, "--sweep p: a spectrum file fixes p");
  if (kd_config_swept(c, KD_AXIS_ALPHA) && c->spectrum_spec.kind != KD_SPEC_POWERLAW)
    return kd_fail(KD_EINVAL, "--sweep alpha: needs --spectrum powerlaw, got '%s'", c->spectrum);
  if (c->weak_alpha > 0 && c->weak_spectrum_spec.kind != KD_SPEC_POWERLAW)
    return kd_fail(KD_EINVAL, "--weak-alpha: needs --weak-spectrum powerlaw, got '%s'",
                   c->weak_spectrum);
  if (c->weak_spectrum[0] &&
      !(c->pipelines & ((1u << KD_PIPE_W2S) | (1u << KD_PIPE_WEAK) | (1u << KD_PIPE_MIX))))
    return kd_fail(KD_EINVAL, "--weak-spectrum: no pipeline with a weak model (w2s, weak, "
                   "mix) in --pipelines");
  if (c->k && c->k != KD_K_ALL && c->p && c->k > c->p && !kd_config_swept(c, KD_AXIS_K) &&
      !kd_config_swept(c, KD_AXIS_P))
    return kd_fail(KD_EINVAL, "k = %zu exceeds p = %zu", c->k, c->p);
  if (c->weak_ridge < 0 && c->k == 0 && !kd_config_swept(c, KD_AXIS_K))
    return kd_fail(KD_EINVAL, "--weak-ridge auto: needs the weak model's k (--k N or --k all), "
                   "not --k auto");
  return KD_OK;
}

kd_status kd_config_spectrum(const kd_config *c, kd_spectrum_spec *s) {
  *s = c->spectrum_spec;
  s->alpha = c->alpha;
  if (s->kind == KD_SPEC_FILE) s->path = c->spectrum + 5; /* after "file:" */
  return KD_OK;
}

int kd_config_weak_spectrum(const kd_config *c, double alpha, kd_spectrum_spec *s) {
  if (!c->weak_spectrum[0]) return 0;
  *s = c->weak_spectrum_spec;
  s->alpha = c->weak_alpha > 0 ? c->weak_alpha : alpha;
  if (s->kind == KD_SPEC_FILE) s->path = c->weak_spectrum + 5; /* after "file:" */
  return 1;
}

kd_status kd_config_problem(const kd_config *c, size_t p, double alpha, double sigma,
                            double teacher_sigma, kd_problem *pr) {
  kd_spectrum_spec s, w;
  kd_beta_spec b;
  kd_status st = kd_config_spectrum(c, &s);
  if (st == KD_OK) st = kd_config_beta(c, &b);
  if (st != KD_OK) return st;
  if (s.kind == KD_SPEC_POWERLAW) s.alpha = alpha;
  st = kd_problem_init(pr, &s, &b, p, sigma, teacher_sigma, c->seed);
  if (st == KD_OK && kd_config_weak_spectrum(c, alpha, &w) &&
      (st = kd_problem_weak_spectrum(pr, &w)) != KD_OK)
    kd_problem_free(pr);
  return st;
}

kd_status kd_config_beta(const kd_config *c, kd_beta_spec *b) {
  *b = (kd_beta_spec){.kind = c->beta_spec.kind, .signal_exp = c->signal_exp};
  if (b->kind == KD_BETA_FILE) b->path = c->beta + 5; /* after "file:" */
  return KD_OK;
}

/* ---- printing ------------------------------------------------------------------------------ */

/* An axis swept without values prints the default grid it takes (for n and k, whose
 * grids depend on p, the scalar's "default" or "auto"). Canonical text (the hash's):
 * the parsed value, never the text as typed (5e2 and 500 are one scenario); a swept
 * axis is left to the grid's point values, which the hash covers. */
static void print_axis(const kd_config *c, FILE *out, kd_axis a, const char *scalar,
                       int canonical) {
  const char *text = c->values[a][0] ? c->values[a] : scalar;
  if (!c->values[a][0] && kd_config_swept(c, a) && kd_axis_default_values(a))
    text = kd_axis_default_values(a);
  if (canonical) text = kd_config_swept(c, a) ? "(the grid)" : scalar;
  fprintf(out, "%s = %s\n", kd_axis_name(a), text);
}

/* The spectrum from its typed values: "isotropic" and "isotropic:1.0" are one spectrum,
 * printed as "isotropic"; "twolevel:10,4.0,1" as "twolevel:10,4,1". A file by its path
 * (its values are hashed apart, kd_scenario_id_make). */
static void print_spectrum(const kd_spectrum_spec *s, const char *text, FILE *out) {
  char a[KD_NUMBER_TEXT_LEN], b[KD_NUMBER_TEXT_LEN];
  kd_number_text(s->level_a, a);
  kd_number_text(s->level_b, b);
  switch (s->kind) {
    case KD_SPEC_ISOTROPIC:
      if (s->level_a == 1) fputs("isotropic", out);
      else fprintf(out, "isotropic:%s", a);
      break;
    case KD_SPEC_TWOLEVEL: fprintf(out, "twolevel:%zu,%s,%s", s->strong, a, b); break;
    case KD_SPEC_FILE: fputs(text, out); break; /* "file:PATH" as given */
    default: fputs("powerlaw", out); break;
  }
}

/* The recursive pipeline's settings: only in a scenario that runs it, so that the
 * scenario (and its hash) of every other run is what it was. */
static void print_generations(const kd_config *c, FILE *out) {
  if (!(c->pipelines >> KD_PIPE_RECURSIVE & 1u)) return;
  const kd_recursive_opts *o = &c->pipe_opts.recursive;
  fprintf(out, "\n[generations]\ngenerations = %d\nschedule = ",
          o->generations ? o->generations : KD_GENERATIONS_DEFAULT);
  for (int i = 0; i < o->n_schedules; ++i) {
    char name[KD_GROUP_LEN];
    kd_schedule_name(&o->schedule[i], name, sizeof name);
    fprintf(out, "%s%s", i ? "," : "", name);
  }
  if (!o->n_schedules) fputs("fixed", out);
  if (o->synthetic_sigma < 0) fputs("\nsynthetic-sigma = same", out);
  else fprintf(out, "\nsynthetic-sigma = %.17g", o->synthetic_sigma);
  if (o->gen_ridge < 0) fputs("\ngen-ridge = same", out);
  else fprintf(out, "\ngen-ridge = %.17g", o->gen_ridge);
  fprintf(out, "\ngen-ridge-decay = %s\n", o->decay ? "inverse-square" : "none");
}

/* The features pipeline's settings, only those that differ from their defaults (all,
 * head, 0, 1): the scenarios made before them keep their text, hence their hash. */
static void print_features(const kd_config *c, FILE *out, int canonical) {
  char buf[64];
  snprintf(buf, sizeof buf, "%zu", c->student_features);
  if (c->student_features || c->values[KD_AXIS_STUDENT_FEATURES][0] ||
      kd_config_swept(c, KD_AXIS_STUDENT_FEATURES))
    print_axis(c, out, KD_AXIS_STUDENT_FEATURES, c->student_features ? buf : "all", canonical);
  if (c->feature_order != KD_GROW_HEAD)
    fprintf(out, "feature-order = %s\n", ORDER_NAMES[c->feature_order]);
  if (c->noise_features) fprintf(out, "noise-features = %zu\n", c->noise_features);
  if (c->noise_level != 1) fprintf(out, "noise-level = %.17g\n", c->noise_level);
}

void kd_config_print(const kd_config *c, FILE *out, int canonical) {
  char buf[64];
  if (!canonical)
    fputs("# kdbench scenario: run it with  kdbench --scenario FILE\n"
          "# Keys are the command-line flags without dashes; flags override them.\n"
          "# Axis values: a number, or for a swept axis a comma list whose items may be\n"
          "# ranges A:B:logN, A:B:linN or A:B:pow2.\n", out);
  /* spectrum before p: a spectrum file resets p to its length. */
  fputs("\n[problem]\nspectrum = ", out);
  if (canonical) print_spectrum(&c->spectrum_spec, c->spectrum, out);
  else fputs(c->spectrum, out);
  fputc('\n', out);
  snprintf(buf, sizeof buf, "%zu", c->p);
  if (c->p == 0 && !c->axis_values[KD_AXIS_P].count)
    fputs("# p: the spectrum file's length\n", out);
  else print_axis(c, out, KD_AXIS_P, buf, canonical);
  snprintf(buf, sizeof buf, "%.17g", c->alpha);
  print_axis(c, out, KD_AXIS_ALPHA, buf, canonical);
  /* beta*'s text is one of these already (kd_config_set takes no other spelling) */
  static const char *const BETA_NAMES[] = {[KD_BETA_POWERLAW] = "powerlaw",
                                           [KD_BETA_GAUSS] = "gauss"};
  const char *beta =
      canonical && c->beta_spec.kind != KD_BETA_FILE ? BETA_NAMES[c->beta_spec.kind] : c->beta;
  fprintf(out, "beta = %s\nsignal-exp = %.17g\n", beta, c->signal_exp);
  snprintf(buf, sizeof buf, "%.17g", c->sigma);
  print_axis(c, out, KD_AXIS_SIGMA, buf, canonical);
  if (c->teacher_sigma < 0) fputs("teacher-sigma = same\n", out);
  else fprintf(out, "teacher-sigma = %.17g\n", c->teacher_sigma);
  fputs("\n[student]\n", out);
  snprintf(buf, sizeof buf, "%.17g", c->ridge);
  print_axis(c, out, KD_AXIS_RIDGE, buf, canonical);
  /* the settings of the mix only where they are not their defaults (0): the scenarios
   * made before them keep their text, hence their hash */
  if (c->real_fraction != 0 || c->values[KD_AXIS_REAL_FRACTION][0] ||
      kd_config_swept(c, KD_AXIS_REAL_FRACTION)) {
    snprintf(buf, sizeof buf, "%.17g", c->real_fraction);
    print_axis(c, out, KD_AXIS_REAL_FRACTION, buf, canonical);
  }
  print_features(c, out, canonical);
  fputs("\n[teacher]\n", out);
  snprintf(buf, sizeof buf, "%zu", c->m);
  print_axis(c, out, KD_AXIS_M, buf, canonical);
  snprintf(buf, sizeof buf, "%zu", c->k);
  print_axis(c, out, KD_AXIS_K, c->k == KD_K_ALL ? "all" : c->k ? buf : "auto", canonical);
  if (c->weak_ridge < 0) fputs("weak-ridge = auto\n", out);
  else if (c->weak_ridge != 0) fprintf(out, "weak-ridge = %.17g\n", c->weak_ridge);
  if (c->weak_spectrum[0]) { /* only when given: a scenario without keeps its text and hash */
    fputs("weak-spectrum = ", out);
    if (canonical) print_spectrum(&c->weak_spectrum_spec, c->weak_spectrum, out);
    else fputs(c->weak_spectrum, out);
    fputc('\n', out);
    if (c->weak_alpha > 0) fprintf(out, "weak-alpha = %.17g\n", c->weak_alpha);
  }
  fputs("\n[sweep]\nsweep = ", out);
  for (int i = 0; i < c->n_swept; ++i) fprintf(out, "%s%s", i ? "," : "", kd_axis_name(c->swept[i]));
  fputc('\n', out);
  print_axis(c, out, KD_AXIS_N, "default", canonical);
  fputs("pipelines = ", out);
  int first = 1;
  for (int q = 0; q < KD_NPIPES; ++q)
    if (c->pipelines >> q & 1u) {
      fprintf(out, "%s%s", first ? "" : ",", kd_pipeline_name((kd_pipeline)q));
      first = 0;
    }
  fprintf(out, "\ntrials = %u\nseed = %llu\n", c->trials, (unsigned long long)c->seed);
  /* --raw changes what a row holds: a run is resumed only with the same choice. */
  if (canonical) {
    fprintf(out, "raw = %s\n", c->raw ? "true" : "false");
    /* so does --theory-only (no simulation); printed only when set, so that the hash of
     * every simulated run is what it was before the setting existed */
    if (c->theory_only) fputs("theory-only = true\n", out);
    print_generations(c, out);
    if (c->pipelines >> KD_PIPE_CURRICULUM & 1u) kd_curriculum_print(c, out);
    return;
  }
  print_generations(c, out);
  if (c->pipelines >> KD_PIPE_CURRICULUM & 1u) kd_curriculum_print(c, out);
  fprintf(out, "\n[run]\njob = %s\nbackend = %s\n", JOB_NAMES[c->run.job], c->run.backend);
  if (c->run.shard[0]) fprintf(out, "shard = %s\n", c->run.shard); /* shard: only when given */
  fprintf(out, "\n[output]\ncsv = %s\nraw = %s\nfit = %s\n", c->run.csv, c->raw ? "true" : "false",
          c->run.fit ? "true" : "false");
  if (c->theory_only) fputs("theory-only = true\n", out);
}
