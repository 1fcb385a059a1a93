/* G generations of regression on the labels of the generation before
 * (include/kdbench/theory_generations.h, docs/theory.md#generations). */
#include "kdbench/theory_generations.h"

#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "kdbench/theory.h"

static kd_status check(const kd_generation *gen, int G) {
  for (int g = 0; g < G; ++g)
    if (!(gen[g].t >= 1 && isfinite(gen[g].t) && gen[g].ridge >= 0 && isfinite(gen[g].ridge) &&
          gen[g].sigma >= 0 && isfinite(gen[g].sigma)))
      return kd_fail(KD_EINVAL, "generation %d: %g samples, ridge %g, sigma %g", g + 1, gen[g].t,
                     gen[g].ridge, gen[g].sigma);
  return KD_OK;
}

/* A ridgeless fit at its interpolation threshold: infinite expected risk. */
static int at_threshold(const kd_generation *g, size_t p) {
  return g->ridge == 0 && fabs(g->t - (double)p) <= 1;
}

/* One generation's fit in the test metric a (p): a <- Phi(a), returning sigma^2 c(a),
 * where with zeta_j = lambda_j / (lambda_j + tau):
 *   c(a) = sum_j a_j lambda_j / (lambda_j + tau)^2 / (t - df2),
 *   Phi(a)_j = zeta_j^2 a_j + c(a) tau^2 lambda_j / (lambda_j + tau)^2. */
static double step_back(const double *lambda, size_t p, const kd_de *de, double sigma, double *a) {
  const double tau = de->tau;
  double c = 0;
  for (size_t j = 0; j < p; ++j) {
    const double d = lambda[j] + tau;
    c += a[j] * lambda[j] / (d * d);
  }
  c /= de->n - de->df2;
  for (size_t j = 0; j < p; ++j) {
    const double z = kd_zeta(lambda[j], tau), d = lambda[j] + tau;
    a[j] = z * z * a[j] + c * tau * tau * lambda[j] / (d * d);
  }
  return sigma * sigma * c;
}

kd_status kd_generations_de(const double *lambda, const double *beta, size_t p,
                            const kd_generation *gen, int G, double *risk) {
  kd_status st = check(gen, G);
  kd_de *de = malloc(sizeof *de * (size_t)(G > 0 ? G : 1));
  double *a = malloc(sizeof *a * (p ? p : 1));
  if (st == KD_OK && (!de || !a)) st = kd_fail(KD_ENOMEM, "out of memory");
  for (int g = 0; g < G && st == KD_OK; ++g)
    if (!at_threshold(&gen[g], p)) st = kd_de_solve(lambda, p, gen[g].t, gen[g].ridge, &de[g]);
  double null = 0;
  for (size_t j = 0; j < p && st == KD_OK; ++j) null += lambda[j] * beta[j] * beta[j];
  for (int last = 0, peak = 0; last < G && st == KD_OK; ++last) {
    peak |= at_threshold(&gen[last], p);
    if (peak) {
      risk[last] = INFINITY;
      continue;
    }
    /* E b'Sigma b = beta*' diag(a_0) beta* + sum_g sigma_g^2 c_g(a_g), a_last = lambda */
    double noise = 0, quad = 0, cross = 0;
    for (size_t j = 0; j < p; ++j) a[j] = lambda[j];
    for (int g = last; g >= 0; --g) noise += step_back(lambda, p, &de[g], gen[g].sigma, a);
    for (size_t j = 0; j < p; ++j) {
      double shrink = 1; /* E b_j = prod_g zeta_gj beta*_j */
      for (int g = 0; g <= last; ++g) shrink *= kd_zeta(lambda[j], de[g].tau);
      quad += a[j] * beta[j] * beta[j];
      cross += lambda[j] * shrink * beta[j] * beta[j];
    }
    risk[last] = quad + noise - 2 * cross + null;
  }
  free(de);
  free(a);
  return st;
}

static int spectrum_isotropic(const double *lambda, size_t p) {
  int isotropic = 1;
  for (size_t j = 1; j < p; ++j) isotropic &= lambda[j] == lambda[0];
  return isotropic;
}

int kd_generations_exact(const double *lambda, const double *beta, size_t p,
                         const kd_generation *gen, int G, double *risk) {
  const int isotropic = spectrum_isotropic(lambda, p);
  const double P = (double)p;
  for (int g = 0; g < G; ++g) {
    const double t = gen[g].t;
    if (gen[g].ridge != 0 || !(t > P + 1 || (isotropic && t < P - 1))) return 0;
  }
  /* A = E b'Sigma b, C = E b'Sigma beta*, B = beta*'Sigma beta*; R = A - 2 C + B */
  double B = 0;
  for (size_t j = 0; j < p; ++j) B += lambda[j] * beta[j] * beta[j];
  double A = B, C = B;
  for (int g = 0; g < G; ++g) {
    const double t = gen[g].t, s2 = gen[g].sigma * gen[g].sigma;
    if (t > P + 1) {
      A += s2 * P / (t - P - 1);
    } else { /* the projection onto the row space of t isotropic rows */
      const double r = t / P;
      A = r * A + s2 * t / (P - t - 1);
      C *= r;
    }
    risk[g] = A - 2 * C + B;
  }
  return 1;
}

/* V(N) = E tr(Sigma (X'X)^+) for N Gaussian rows: p / (N - p - 1) above p + 1 (any
 * Sigma) and N / (p - N - 1) below p - 1 for an isotropic one (*exact = 1), +inf within
 * 1 of p (exact too: the Gaussian expectation does not exist), else the ridgeless DE
 * df2 / (N - df2) (*exact = 0). */
static kd_status pinv_trace(const double *lambda, size_t p, int isotropic, double N, double *v,
                            int *exact) {
  const double P = (double)p;
  *exact = 1;
  if (N > P + 1) {
    *v = P / (N - P - 1);
  } else if (N >= P - 1) {
    *v = INFINITY;
  } else if (isotropic) {
    *v = N / (P - N - 1);
  } else {
    kd_de de;
    kd_status st = kd_de_solve(lambda, p, N, 0, &de);
    if (st != KD_OK) return st;
    *v = kd_var_amp(1.0, &de);
    *exact = 0;
  }
  return KD_OK;
}

kd_status kd_generations_accumulate(const double *lambda, size_t p, double n, const double *sigma,
                                    int G, double first, double *risk, int *exact) {
  if (!(n >= 1 && isfinite(n)))
    return kd_fail(KD_EINVAL, "kd_generations_accumulate: %g samples a block (at least 1)", n);
  kd_status st = kd_check_spectrum("kd_generations_accumulate", "lambda", lambda, p);
  for (int g = 1; g < G && st == KD_OK; ++g)
    if (!(sigma[g] >= 0 && isfinite(sigma[g])))
      st = kd_fail(KD_EINVAL, "kd_generations_accumulate: block %d: sigma %g", g + 1, sigma[g]);
  const int isotropic = st == KD_OK && spectrum_isotropic(lambda, p);
  double r = first;
  int all_exact = 1;
  for (int g = 0; g < G && st == KD_OK; ++g) {
    if (g && sigma[g] != 0) { /* b_g = b_(g-1) + A_g^+ X_g' sigma_g z_g */
      double v;
      int e;
      st = pinv_trace(lambda, p, isotropic, (g + 1) * n, &v, &e);
      if (st != KD_OK) break;
      r += sigma[g] * sigma[g] * v / (g + 1);
      all_exact &= e;
    }
    risk[g] = r;
    exact[g] = all_exact;
  }
  return st;
}

/* ---- accumulated data with a ridge: the deterministic equivalent of a linear pencil ---- */

/* y = a b (G x G, row-major); at: a' b. */
static void mat_mul(int G, const double *a, int at, const double *b, double *y) {
  for (int i = 0; i < G; ++i)
    for (int k = 0; k < G; ++k) {
      double s = 0;
      for (int l = 0; l < G; ++l) s += (at ? a[l * G + i] : a[i * G + l]) * b[l * G + k];
      y[i * G + k] = s;
    }
}

/* inv = a^-1 (G x G); a is overwritten. */
static kd_status mat_inverse(int G, double *a, double *inv, lapack_int *piv) {
  for (int i = 0; i < G * G; ++i) inv[i] = i % (G + 1) == 0;
  if (LAPACKE_dgesv(LAPACK_ROW_MAJOR, G, G, a, G, piv, inv, G) != 0)
    return kd_fail(KD_ENUM, "kd_generations_accumulate_de: a singular pencil block");
  return KD_OK;
}

/* F_l: block l's Gram in generation k >= l's equation, on e_k and (k > 0) -e_(k-1). */
static void block_pattern(int G, int l, double *F) {
  memset(F, 0, sizeof *F * (size_t)(G * G));
  for (int k = l; k < G; ++k) {
    F[k * G + k] = 1;
    if (k) F[k * G + k - 1] = -1;
  }
}

#define PENCIL_TOL 1e-13
#define PENCIL_MAX_ITER 100000

/* The pencil's DE for G generations with the ridges mu (mu_k = k n lambda_k; 0 only for
 * a ridgeless fit on more than p + 1 rows, whose Gram is invertible). */
static kd_status pencil_risks(const double *lambda, const double *beta, size_t p, double n,
                              const double *mu, const double *sigma, int G, double *risk) {
  kd_status st = KD_OK;
  const size_t GG = (size_t)G * G, G4 = GG * GG;
  double *buf = calloc(GG * (7 + 3 * (size_t)G + p) + 3 * G4 + 2 * GG + (size_t)G, sizeof *buf);
  lapack_int *piv = malloc(sizeof *piv * GG);
  if (!buf || !piv) {
    free(buf);
    free(piv);
    return kd_fail(KD_ENOMEM, "out of memory");
  }
  /* F_l, L_l = (I + F_l Q')^-1 and E_l = L_l F_l: G each; N_j^-1: p */
  double *M0 = buf, *F = M0 + GG, *L = F + GG * G, *El = L + GG * G, *Es = El + GG * G,
         *Q = Es + GG, *Qn = Q + GG, *A = Qn + GG, *P = A + GG, *Y = P + GG, *Ninv = Y + GG,
         *T0 = Ninv + GG * p, *W = T0 + G4, *Tm = W + G4, *vb = Tm + G4, *c = vb + GG,
         *u = c + G;
  /* M0: the ridges; c_k = mu_k - mu_(k-1) multiplies -beta* */
  for (int k = 0; k < G; ++k) {
    const double prev = k ? mu[k - 1] : 0;
    M0[k * G + k] = mu[k];
    if (k) M0[k * G + k - 1] = -prev;
    c[k] = mu[k] - prev;
    block_pattern(G, k, F + GG * k);
  }
  /* the first-order fixed point: Q = sum_j lambda_j N_j^-T, N_j = M0 + n lambda_j sum_l
   * (I + F_l Q')^-1 F_l */
  int converged = 0;
  for (int it = 0; it < PENCIL_MAX_ITER && st == KD_OK && !converged; ++it) {
    memset(Es, 0, sizeof *Es * GG);
    for (int l = 0; l < G && st == KD_OK; ++l) {
      double *Fl = F + GG * l, *Ll = L + GG * l, *Ell = El + GG * l;
      for (int i = 0; i < G; ++i)
        for (int k = 0; k < G; ++k) {
          double s = i == k;
          for (int m = 0; m < G; ++m) s += Fl[i * G + m] * Q[k * G + m];
          A[i * G + k] = s;
        }
      st = mat_inverse(G, A, Ll, piv);
      mat_mul(G, Ll, 0, Fl, Ell);
      for (size_t i = 0; i < GG; ++i) Es[i] += Ell[i];
    }
    memset(Qn, 0, sizeof *Qn * GG);
    for (size_t j = 0; j < p && st == KD_OK; ++j) {
      for (size_t i = 0; i < GG; ++i) A[i] = M0[i] + n * lambda[j] * Es[i];
      double *Nj = Ninv + GG * j;
      st = mat_inverse(G, A, Nj, piv);
      for (int a = 0; a < G; ++a)
        for (int b = 0; b < G; ++b) Qn[a * G + b] += lambda[j] * Nj[b * G + a];
    }
    double diff = 0, size = 0;
    for (size_t i = 0; i < GG; ++i) {
      diff = fmax(diff, fabs(Qn[i] - Q[i]));
      size = fmax(size, fabs(Qn[i]));
      Q[i] = 0.5 * (Q[i] + Qn[i]);
    }
    converged = diff <= PENCIL_TOL * size;
  }
  if (st == KD_OK && !converged)
    st = kd_fail(KD_ENUM, "kd_generations_accumulate_de: the pencil's fixed point did not "
                 "converge (p = %zu, n = %g, %d generations)", p, n, G);
  /* generation g: the second-order block P solves P = b + T P (linear), then the risk */
  for (int g = 1; g <= G && st == KD_OK; ++g) {
    const int g2 = g * g;
    memset(T0, 0, sizeof *T0 * (size_t)(g2 * g2));
    memset(W, 0, sizeof *W * (size_t)(g2 * g2));
    memset(vb, 0, sizeof *vb * (size_t)g2);
    for (size_t j = 0; j < p; ++j) {
      const double *Nj = Ninv + GG * j, w = n * lambda[j] * lambda[j];
      for (int a = 0; a < g; ++a)
        for (int d = 0; d < g; ++d) {
          vb[a * g + d] -= lambda[j] * lambda[j] * Nj[(g - 1) * G + a] * Nj[(g - 1) * G + d];
          for (int b = 0; b < g; ++b)
            for (int cc = 0; cc < g; ++cc)
              T0[(a * g + d) * g2 + b * g + cc] += w * Nj[b * G + a] * Nj[cc * G + d];
        }
    }
    for (int l = 0; l < g; ++l) {
      const double *Ell = El + GG * l;
      for (int a = 0; a < g; ++a)
        for (int d = 0; d < g; ++d)
          for (int b = 0; b < g; ++b)
            for (int cc = 0; cc < g; ++cc)
              W[(a * g + d) * g2 + b * g + cc] += Ell[b * G + a] * Ell[cc * G + d];
    }
    for (int r = 0; r < g2; ++r)
      for (int q = 0; q < g2; ++q) {
        double s = r == q;
        for (int m = 0; m < g2; ++m) s -= T0[r * g2 + m] * W[m * g2 + q];
        Tm[r * g2 + q] = s;
      }
    if (LAPACKE_dgesv(LAPACK_ROW_MAJOR, g2, 1, Tm, g2, piv, vb, 1) != 0) {
      st = kd_fail(KD_ENUM, "kd_generations_accumulate_de: a singular second-order system");
      break;
    }
    memcpy(P, vb, sizeof *P * (size_t)g2); /* g x g */
    /* Y = sum_l E_l' P E_l (g x g) */
    memset(Y, 0, sizeof *Y * (size_t)g2);
    for (int l = 0; l < g; ++l) {
      const double *Ell = El + GG * l;
      for (int a = 0; a < g; ++a)
        for (int d = 0; d < g; ++d) {
          double s = 0;
          for (int b = 0; b < g; ++b)
            for (int cc = 0; cc < g; ++cc) s += Ell[b * G + a] * P[b * g + cc] * Ell[cc * G + d];
          Y[a * g + d] += s;
        }
    }
    /* bias: sum_j beta_j^2 (u' W_j u), u = N_j^-1 c, W_j = lambda_j e_g e_g' - n lambda_j Y */
    kd_acc bias = {0, 0}, noise = {0, 0};
    for (size_t j = 0; j < p; ++j) {
      const double *Nj = Ninv + GG * j;
      for (int a = 0; a < g; ++a) {
        double s = 0;
        for (int b = 0; b <= a; ++b) s += Nj[a * G + b] * c[b];
        u[a] = s;
      }
      double uyu = 0;
      for (int a = 0; a < g; ++a)
        for (int d = 0; d < g; ++d) uyu += u[a] * Y[a * g + d] * u[d];
      kd_acc_add(&bias, beta[j] * beta[j] * lambda[j] * (u[g - 1] * u[g - 1] - n * uyu));
    }
    /* noise of block k: -sigma_k^2 n (L_k' P L_k)_kk, L_k = (I + F_k Q')^-1 */
    for (int k = 0; k < g; ++k) {
      const double *Lk = L + GG * k;
      double s = 0;
      for (int a = 0; a < g; ++a)
        for (int b = 0; b < g; ++b) s += Lk[a * G + k] * P[a * g + b] * Lk[b * G + k];
      kd_acc_add(&noise, -sigma[k] * sigma[k] * n * s);
    }
    risk[g - 1] = kd_acc_sum(&bias) + kd_acc_sum(&noise);
  }
  free(buf);
  free(piv);
  return st;
}

/* A ridgeless generation on N = g n < p - 1 rows is the minimum-norm fit, the limit of a
 * vanishing ridge: the system's algebra holds for it with mu_g -> 0+, but the pencil's DE
 * diverges at mu_g = 0 (its resolvent grows like 1/mu_g while the effective ridge tau
 * stays finite). It takes the ridge h tau_N, h = MINNORM_EPS (tau_N the ridgeless DE's
 * tau on its N rows, the scale of its effective ridge), then 2h and 4h, and the risk is
 * extrapolated to h = 0 (Richardson, quadratic: (8 R(h) - 6 R(2h) + R(4h)) / 3): the DE
 * is smooth in the ridge there. A smaller h is not better: beside a generation with a
 * ridge the blocks' mixed scales cost digits, ~1e-14 / h^2 relative. Against the
 * ridgeless identity (every generation ridgeless) this h leaves 1e-6 relative up to
 * N = 0.7 p, 5e-6 at 0.84 p, 5e-4 at 0.96 p (inside the near-peak flag); beside a ridge,
 * h / 3 and 3 h move the risk by < 1e-5 relative (docs/theory.md#generations). */
#define MINNORM_EPS 1e-3

kd_status kd_generations_accumulate_de(const double *lambda, const double *beta, size_t p,
                                       double n, const double *ridge, const double *sigma, int G,
                                       double *risk) {
  if (!(n >= 1 && isfinite(n)))
    return kd_fail(KD_EINVAL, "kd_generations_accumulate_de: %g samples a block (at least 1)", n);
  if (G < 1) return kd_fail(KD_EINVAL, "kd_generations_accumulate_de: %d generations", G);
  for (int k = 0; k < G; ++k)
    if (!(ridge[k] >= 0 && isfinite(ridge[k]) && sigma[k] >= 0 && isfinite(sigma[k])))
      return kd_fail(KD_EINVAL, "kd_generations_accumulate_de: generation %d: ridge %g (must be "
                     ">= 0), sigma %g", k + 1, ridge[k], sigma[k]);
  kd_status st = kd_check_spectrum("kd_generations_accumulate_de", "lambda", lambda, p);
  double *mu = malloc(sizeof *mu * 3 * (size_t)G), *eps = mu + G, *twice = eps + G;
  if (st == KD_OK && !mu) st = kd_fail(KD_ENOMEM, "out of memory");
  /* a ridgeless generation at its threshold: its row and the later ones are infinite */
  int live = G, minnorm = 0;
  for (int k = 0; k < G && st == KD_OK; ++k) {
    const double N = (k + 1) * n;
    mu[k] = N * ridge[k];
    eps[k] = 0;
    if (ridge[k] > 0 || N > (double)p + 1) continue;
    if (N >= (double)p - 1) {
      live = k;
      break;
    }
    kd_de de;
    st = kd_de_solve(lambda, p, N, 0, &de);
    eps[k] = N * MINNORM_EPS * de.tau;
    minnorm = 1;
  }
  for (int k = live; k < G && st == KD_OK; ++k) risk[k] = INFINITY;
  if (st == KD_OK && live && !minnorm) st = pencil_risks(lambda, beta, p, n, mu, sigma, live, risk);
  if (st == KD_OK && live && minnorm) {
    for (int k = 0; k < live; ++k) mu[k] += eps[k];
    st = pencil_risks(lambda, beta, p, n, mu, sigma, live, risk);
    for (int k = 0; k < live; ++k) mu[k] += eps[k];
    if (st == KD_OK) st = pencil_risks(lambda, beta, p, n, mu, sigma, live, twice);
    for (int k = 0; k < live && st == KD_OK; ++k) risk[k] = 8 * risk[k] - 6 * twice[k];
    for (int k = 0; k < live; ++k) mu[k] += 2 * eps[k];
    if (st == KD_OK) st = pencil_risks(lambda, beta, p, n, mu, sigma, live, twice);
    for (int k = 0; k < live && st == KD_OK; ++k) risk[k] = (risk[k] + twice[k]) / 3;
  }
  free(mu);
  return st;
}

double kd_location_beats_first(double n0, const double *n, int t) {
  double inv = 0;
  for (int k = 0; k < t; ++k) inv += 1 / n[k];
  return atan(2 / sqrt(n0 * inv)) / M_PI;
}
