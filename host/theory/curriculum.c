/* A curriculum's names, checks and schedule (include/kdbench/curriculum.h): CLIMB's
 * pacing functions, the step sizes, the checkpoints, which features and which kind of
 * sample a step sees. The recursion that gives its exact risk is curriculum_risk.c's. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kdbench/curriculum.h"
#include "kdbench/number.h"

static const char *const order_names[KD_NORDERS] = {"curriculum", "anti", "random"};
static const char *const pacing_names[KD_NPACINGS] = {"none", "linear", "quad", "root",
                                                      "step", "exp",    "log"};
static const char *const difficulty_names[KD_NDIFFICULTIES] = {"noise", "source", "features"};

const char *kd_order_name(kd_order o) { return order_names[o]; }
const char *kd_pacing_name(kd_pacing p) { return pacing_names[p]; }
const char *kd_difficulty_name(kd_difficulty d) { return difficulty_names[d]; }

/* The index of the len bytes at s among names[0..count), or KD_EINVAL naming them. */
static kd_status find_name(const char *what, const char *const *names, int count, const char *s,
                           size_t len, int *index) {
  char choices[128] = "";
  for (int i = 0; i < count; ++i) {
    if (strlen(names[i]) == len && strncmp(s, names[i], len) == 0) {
      *index = i;
      return KD_OK;
    }
    size_t used = strlen(choices);
    snprintf(choices + used, sizeof choices - used, "%s%s", i == 0 ? "" : ", ", names[i]);
  }
  return kd_fail(KD_EINVAL, "unknown %s '%.*s' (expected %s)", what, (int)len, s, choices);
}

kd_status kd_order_parse(const char *s, size_t len, kd_order *o) {
  int i = 0;
  kd_status rc = find_name("order", order_names, KD_NORDERS, s, len, &i);
  if (rc == KD_OK) *o = (kd_order)i;
  return rc;
}

kd_status kd_pacing_parse(const char *s, kd_pacing *p) {
  int i = 0;
  kd_status rc = find_name("pacing", pacing_names, KD_NPACINGS, s, strlen(s), &i);
  if (rc == KD_OK) *p = (kd_pacing)i;
  return rc;
}

kd_status kd_difficulty_parse(const char *s, kd_difficulty *d) {
  int i = 0;
  kd_status rc = find_name("difficulty", difficulty_names, KD_NDIFFICULTIES, s, strlen(s), &i);
  if (rc == KD_OK) *d = (kd_difficulty)i;
  return rc;
}

static int positive(double x) { return x > 0 && isfinite(x); }

kd_status kd_step_parse(const char *s, kd_step_rule *r) {
  const char *colon = strchr(s, ':');
  const size_t head = colon ? (size_t)(colon - s) : strlen(s);
  kd_step_rule out = {.kind = KD_STEP_CONSTANT, .c = 0, .tau = INFINITY};
  const char *args = colon ? colon + 1 : "";
  size_t clen = strlen(args);
  if (head == 5 && strncmp(s, "decay", 5) == 0) {
    const char *comma = strchr(args, ',');
    if (!comma)
      return kd_fail(KD_EINVAL, "--step '%s': expected decay:C,TAU (C, TAU > 0)", s);
    out.kind = KD_STEP_DECAY;
    clen = (size_t)(comma - args);
    if (kd_number_parse(comma + 1, &out.tau) != KD_NUM_OK || !positive(out.tau))
      return kd_fail(KD_EINVAL, "--step '%s': TAU must be a positive number", s);
  } else if (!(head == 8 && strncmp(s, "constant", 8) == 0)) {
    return kd_fail(KD_EINVAL, "--step '%s': expected constant:C or decay:C,TAU", s);
  }
  if (!colon || kd_number_parse_span(args, clen, &out.c) != KD_NUM_OK || !positive(out.c))
    return kd_fail(KD_EINVAL, "--step '%s': C (eta times tr Sigma) must be a positive number", s);
  *r = out;
  return KD_OK;
}

kd_status kd_curriculum_check(const kd_curriculum *c, int order) {
  if (c->n == 0) return kd_fail(KD_EINVAL, "curriculum: a pool of n = 0 samples");
  if (c->budget == 0 || c->budget > c->n)
    return kd_fail(KD_EINVAL, "--budget %zu: must be between 1 and n = %zu", c->budget, c->n);
  if (c->checkpoints == 0 || c->checkpoints > c->budget)
    return kd_fail(KD_EINVAL, "--checkpoints %zu: must be between 1 and the budget %zu",
                   c->checkpoints, c->budget);
  if (!positive(c->step.c))
    return kd_fail(KD_EINVAL, "--step: eta = %g / tr Sigma, expected a positive step", c->step.c);
  if (c->step.kind == KD_STEP_DECAY && !positive(c->step.tau))
    return kd_fail(KD_EINVAL, "--step: tau = %g, expected a positive number", c->step.tau);
  if (!(c->easy_fraction >= 0 && c->easy_fraction <= 1))
    return kd_fail(KD_EINVAL, "--easy-fraction %g: must be between 0 and 1", c->easy_fraction);
  const struct { double v; const char *name; } sig[] = {
      {c->easy_sigma, "--easy-sigma"}, {c->hard_sigma, "--hard-sigma"}, {c->sigma, "sigma"}};
  for (size_t i = 0; i < sizeof sig / sizeof sig[0]; ++i)
    if (!(sig[i].v >= 0 && isfinite(sig[i].v)))
      return kd_fail(KD_EINVAL, "%s %g: expected a non-negative noise level", sig[i].name,
                     sig[i].v);
  if (order == KD_ORDER_RANDOM && c->difficulty == KD_DIFFICULTY_FEATURES)
    return kd_fail(KD_EINVAL, "--order random: the features difficulty's samples are alike "
                              "(nothing to shuffle; --pacing none is its baseline)");
  return KD_OK;
}

/* CLIMB's pacing_fn.py, with its constants: start at 6.25 % of the steps, full at 87.5 %,
 * initial 0.1, growth c = 10 for exp and log. */
double kd_pace(kd_pacing p, size_t t, size_t steps) {
  const double g0 = KD_PACE_INITIAL, span = 1.0 - g0, c = KD_PACE_GROWTH;
  const double start = KD_PACE_START * (double)steps, end = KD_PACE_END * (double)steps;
  const double len = floor(end - start), x = (double)t - start;
  if (p == KD_PACING_NONE) return 1.0;
  if (p == KD_PACING_STEP) return (double)t < end ? g0 : 1.0;
  if (x < 0) return g0;
  if (!(len > 0)) return 1.0;
  double g = 1.0;
  switch (p) {
    case KD_PACING_LINEAR: g = g0 + span * x / len; break;
    case KD_PACING_QUAD: g = g0 + span * (x / len) * (x / len); break;
    case KD_PACING_ROOT: g = g0 + span * sqrt(x / len); break;
    case KD_PACING_EXP: g = g0 + span * expm1(c * x / len) / expm1(c); break;
    case KD_PACING_LOG: g = g0 + span * (1 + log(x / len + exp(-c)) / c); break;
    default: break;
  }
  return g < 1.0 ? g : 1.0;
}

double kd_step_size(const kd_step_rule *r, double trace, size_t t) {
  const double eta0 = r->c / trace;
  return r->kind == KD_STEP_DECAY ? eta0 / (1.0 + (double)t / r->tau) : eta0;
}

size_t kd_checkpoint_at(const kd_curriculum *c, size_t i) {
  return (size_t)(((unsigned long long)(i + 1) * c->budget) / c->checkpoints);
}

size_t kd_curriculum_easy(const kd_curriculum *c) {
  return (size_t)floor(c->easy_fraction * (double)c->n + 0.5);
}

void kd_curriculum_active(const kd_curriculum *c, kd_order o, size_t p, size_t t, size_t *lo,
                          size_t *hi) {
  *lo = 0;
  *hi = p;
  if (c->difficulty != KD_DIFFICULTY_FEATURES || c->pacing == KD_PACING_NONE) return;
  size_t k = (size_t)floor(kd_pace(c->pacing, t, c->budget) * (double)p);
  if (k < 1) k = 1;
  if (k > p) k = p;
  if (o == KD_ORDER_ANTI)
    *lo = p - k;
  else
    *hi = k;
}

double kd_curriculum_easy_prob(const kd_curriculum *c, kd_order o, size_t t) {
  const double f = c->easy_fraction;
  if (o == KD_ORDER_RANDOM) return f;
  if (c->pacing == KD_PACING_NONE) {
    const size_t easy = kd_curriculum_easy(c);
    return o == KD_ORDER_CURRICULUM ? (t < easy) : (t >= c->n - easy);
  }
  const double g = kd_pace(c->pacing, t, c->budget);
  if (o == KD_ORDER_CURRICULUM) return f >= g ? 1.0 : f / g;
  const double hard = 1.0 - f;
  return hard >= g ? 0.0 : 1.0 - hard / g;
}
