/* The exact expected risk of one pass of SGD along a curriculum (docs/theory.md#curriculum):
 * the diagonal second-moment recursion B2, with B4's masked features.
 *
 * With e = w - beta*, a step on x ~ N(0, diag lambda), labels x^T theta + s xi and
 * delta = theta - beta*, Gaussian fourth moments close the recursion on the diagonal
 * D_j = E e_j^2 and the mean mu_j = E e_j (the off-diagonal moments never enter):
 *   D_j <- D_j (1 - 2 eta l_j + 2 eta^2 l_j^2) + eta^2 l_j S_D
 *          + b (eta^2 (2 l_j^2 delta_j^2 + l_j S_dd))
 *          + 2 eta (l_j delta_j c_j - eta (2 l_j^2 delta_j c_j + l_j S_dc))
 *          + eta^2 s^2 l_j
 *   mu_j <- (1 - eta l_j) mu_j + eta l_j b delta_j
 * where S_D = sum l_k D_k, S_dd = sum l_k delta_k^2, S_dc = sum l_k delta_k c_k over the
 * active features, b = P(the step's sample carries the teacher's labels), c_j =
 * E[b mu_j] the mean of e_j on such steps, and s^2 = E s_t^2 plus the signal the masked
 * features carry, sum over them of l_k beta*_k^2 (their x's are independent of the
 * active ones: they add to the noise). Masked coordinates are frozen.
 *
 * The order enters through b and s^2 (each step's kind, in expectation) and c_j: when
 * a step's kind is independent of the steps before it (a sorted pool, where it is
 * fixed, or a paced draw) c_j = b mu_j. A shuffled pool (random, unpaced) has kinds
 * that are exchangeable instead: with mu = h + g, h the decay of the start mu_0 = -beta*
 * and g what the teacher's steps drove, c = f h + ((E - 1)/(n - 1)) g, f = E/n the
 * pool's easy share, since two distinct steps are both easy with probability
 * E (E - 1) / (n (n - 1)). */
#include <math.h>
#include <stdlib.h>

#include "kdbench/curriculum.h"
#include "internal.h"

typedef struct {
  double *d, *h, *g, *delta;
} sgd_moments;

/* What step t sees in expectation: its step size, the probability b of a teacher's
 * (easy, for source) sample, the noise variance, its features and how c follows mu. */
typedef struct {
  double eta, b, s2, pair;
  int exchangeable;
  size_t lo, hi;
} sgd_step;

static void step_of(const kd_curriculum *c, kd_order o, double trace, size_t p, size_t t,
                    sgd_step *s) {
  kd_curriculum_active(c, o, p, t, &s->lo, &s->hi);
  const double easy = kd_curriculum_easy_prob(c, o, t);
  s->eta = kd_step_size(&c->step, trace, t);
  s->exchangeable = o == KD_ORDER_RANDOM && c->pacing == KD_PACING_NONE;
  const size_t e = kd_curriculum_easy(c);
  s->pair = c->n > 1 && e > 0 ? ((double)e - 1.0) / ((double)c->n - 1.0) : 0.0;
  switch (c->difficulty) {
    case KD_DIFFICULTY_NOISE:
      s->b = 0;
      s->s2 = easy * c->easy_sigma * c->easy_sigma + (1 - easy) * c->hard_sigma * c->hard_sigma;
      break;
    case KD_DIFFICULTY_SOURCE: /* the easy samples: the teacher's noiseless labels */
      s->b = easy;
      s->s2 = (1 - easy) * c->sigma * c->sigma;
      break;
    default:
      s->b = 0;
      s->s2 = c->sigma * c->sigma;
      break;
  }
}

static void one_step(const sgd_step *s, const double *lambda, const double *beta, size_t p,
                     sgd_moments *m) {
  kd_acc sd = {0, 0}, sdd = {0, 0}, sdc = {0, 0}, masked = {0, 0};
  const double f = s->b;
  for (size_t j = 0; j < p; ++j) {
    if (j < s->lo || j >= s->hi) {
      kd_acc_add(&masked, lambda[j] * beta[j] * beta[j]);
      continue;
    }
    const double mu = m->h[j] + m->g[j];
    const double cj = s->exchangeable ? f * m->h[j] + s->pair * m->g[j] : f * mu;
    kd_acc_add(&sd, lambda[j] * m->d[j]);
    kd_acc_add(&sdd, lambda[j] * m->delta[j] * m->delta[j]);
    kd_acc_add(&sdc, lambda[j] * m->delta[j] * cj);
  }
  const double SD = kd_acc_sum(&sd), Sdd = kd_acc_sum(&sdd), Sdc = kd_acc_sum(&sdc);
  const double eta = s->eta, s2 = s->s2 + kd_acc_sum(&masked);
  for (size_t j = s->lo; j < s->hi; ++j) {
    const double l = lambda[j], dl = m->delta[j];
    const double mu = m->h[j] + m->g[j];
    const double cj = s->exchangeable ? f * m->h[j] + s->pair * m->g[j] : f * mu;
    const double el = eta * l;
    m->d[j] = m->d[j] * (1 - 2 * el + 2 * el * el) + eta * eta * l * SD +
              f * eta * eta * (2 * l * l * dl * dl + l * Sdd) +
              2 * eta * (l * dl * cj - eta * (2 * l * l * dl * cj + l * Sdc)) + eta * eta * s2 * l;
    m->h[j] *= 1 - el;
    m->g[j] = (1 - el) * m->g[j] + el * f * dl;
  }
}

kd_status kd_curriculum_risk(const kd_curriculum *c, kd_order o, const double *lambda,
                             const double *beta, size_t p, double *risk) {
  kd_status rc = kd_curriculum_check(c, (int)o);
  if (rc != KD_OK) return rc;
  rc = kd_check_spectrum("curriculum", "lambda", lambda, p);
  if (rc != KD_OK) return rc;
  double *block = malloc(sizeof(double) * 4 * p);
  if (!block) return kd_fail(KD_ENOMEM, "curriculum: cannot allocate the moments of p = %zu", p);
  sgd_moments m = {block, block + p, block + 2 * p, block + 3 * p};
  kd_acc tr = {0, 0};
  const double teacher = c->difficulty == KD_DIFFICULTY_SOURCE ? KD_CURRICULUM_TEACHER - 1.0 : 0.0;
  for (size_t j = 0; j < p; ++j) {
    m.d[j] = beta[j] * beta[j]; /* w = 0: e = -beta* */
    m.h[j] = -beta[j];
    m.g[j] = 0;
    m.delta[j] = teacher * beta[j];
    kd_acc_add(&tr, lambda[j]);
  }
  const double trace = kd_acc_sum(&tr);
  size_t next = 0;
  for (size_t t = 0; t < c->budget; ++t) {
    sgd_step s;
    step_of(c, o, trace, p, t, &s);
    one_step(&s, lambda, beta, p, &m);
    for (; next < c->checkpoints && kd_checkpoint_at(c, next) == t + 1; ++next) {
      kd_acc r = {0, 0};
      for (size_t j = 0; j < p; ++j) kd_acc_add(&r, lambda[j] * m.d[j]);
      risk[next] = kd_acc_sum(&r);
    }
  }
  free(block);
  return KD_OK;
}
