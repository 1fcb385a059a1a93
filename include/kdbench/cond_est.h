/* Condition estimates and the decisions taken on them, shared by the CUDA backend's
 * kernels and the host (compiled by gcc and by nvcc: keep it C and C++ clean).
 *
 * The estimator is LAPACK's dlacn2 (Higham's refinement of Hager's method, which
 * dpocon and dtrcon call) rewritten as a state machine over whole vectors: each step
 * reads a few reductions of the vector x that the caller has just overwritten with
 * A^-1 x or A^-T x, updates the state, and says how to refill x. Driven by the same
 * solves, it takes the same path as LAPACK's and returns the same estimate of
 * ||A^-1||_1 up to the rounding of the sums; it needs at most KD_EST_MAX_SOLVES
 * solves, so a device can run it as a fixed sequence of launches. */
#ifndef KDBENCH_COND_EST_H
#define KDBENCH_COND_EST_H

#include <stddef.h>
#include <stdint.h>

#if defined(__CUDACC__)
#define KD_EST_HD static inline __host__ __device__
#else
#define KD_EST_HD static inline
#endif

/* The least rcond(G) whose Cholesky solve is accepted: the forward error is about
 * u / rcond, ~1e-6 relative at 1e-10 (host/sim/backend_cpu.c explains both thresholds). */
#define KD_RCOND_MIN 1e-10
/* Below this estimate of rcond_1(R), the QR fallback's triangular factor is
 * numerically singular and the stage goes on to the rank-revealing dgelsy. */
#define KD_QR_RCOND_MIN 1e-11
/* dlacn2's ITMAX = 5: two first solves, four iterations of two, one final one. */
#define KD_EST_MAX_SOLVES 11

typedef struct {
  int32_t kase;  /* 0: done; 1: overwrite x with A^-1 x, then step; 2: with A^-T x */
  int32_t entry; /* dlacn2's ISAVE(1): which step comes next, 1..5 */
  int32_t j;     /* ISAVE(2) - 1: the index of the unit vector */
  int32_t iter;  /* ISAVE(3): the iteration, 2..5 */
  double est;    /* the estimate of ||A^-1||_1 so far */
} kd_est;

/* How x is refilled after a step (element i of m). */
typedef enum {
  KD_EST_KEEP,  /* unchanged */
  KD_EST_CONST, /* 1/m */
  KD_EST_SIGNS, /* sign(x_i), +1 for 0; isgn_i records it */
  KD_EST_UNIT,  /* e_j */
  KD_EST_ALT    /* (-1)^i (1 + i/(m-1)) */
} kd_est_fill;

/* The reductions of x a step reads. */
typedef struct {
  double asum;  /* sum_i |x_i| */
  int32_t same; /* 1 when sign(x_i) == isgn_i for every i */
  int32_t imax; /* the first i of max_i |x_i| (0 when every x_i is NaN) */
  double amax;  /* |x_imax| */
  double xj;    /* x at the state's j, before the step */
  double x0;    /* x_0 */
} kd_est_sums;

/* The first call: x <- 1/m, then the first solve. */
KD_EST_HD kd_est_fill kd_est_start(kd_est *s) {
  s->kase = 1;
  s->entry = 1;
  s->j = 0;
  s->iter = 0;
  s->est = 0;
  return KD_EST_CONST;
}

/* dlacn2's final stage: the alternating vector, then one more solve. */
KD_EST_HD kd_est_fill kd_est_final_stage(kd_est *s) {
  s->kase = 1;
  s->entry = 5;
  return KD_EST_ALT;
}

/* One step after the solve the state asked for, m >= 1. */
KD_EST_HD kd_est_fill kd_est_next(kd_est *s, const kd_est_sums *r, int64_t m) {
  switch (s->entry) {
    case 1: /* x = A^-1 (1/m) */
      if (m == 1) {
        s->est = r->x0 < 0 ? -r->x0 : r->x0;
        s->kase = 0;
        return KD_EST_KEEP;
      }
      s->est = r->asum;
      s->kase = 2;
      s->entry = 2;
      return KD_EST_SIGNS;
    case 2: /* x = A^-T sign */
      s->j = r->imax;
      s->iter = 2;
      s->kase = 1;
      s->entry = 3;
      return KD_EST_UNIT;
    case 3: { /* x = A^-1 e_j */
      const double old = s->est;
      s->est = r->asum;
      if (r->same || s->est <= old) return kd_est_final_stage(s); /* converged, or cycling */
      s->kase = 2;
      s->entry = 4;
      return KD_EST_SIGNS;
    }
    case 4: /* x = A^-T sign: go on while the new j's |x| differs from x at the old j */
      s->j = r->imax;
      if (r->xj != r->amax && s->iter < 5) {
        ++s->iter;
        s->kase = 1;
        s->entry = 3;
        return KD_EST_UNIT;
      }
      return kd_est_final_stage(s);
    default: { /* 5: x = A^-1 alt */
      const double temp = 2 * (r->asum / (double)(3 * m));
      if (temp > s->est) s->est = temp;
      s->kase = 0;
      return KD_EST_KEEP;
    }
  }
}

/* Element i of x after a step that returned f (xi: its value before). */
KD_EST_HD double kd_est_value(kd_est_fill f, const kd_est *s, double xi, int64_t i, int64_t m) {
  switch (f) {
    case KD_EST_CONST: return 1.0 / (double)m;
    case KD_EST_SIGNS: return xi >= 0 ? 1.0 : -1.0;
    case KD_EST_UNIT: return i == s->j ? 1.0 : 0.0;
    case KD_EST_ALT: { /* reached only for m >= 2 */
      const double v = 1.0 + (double)i / (double)(m - 1);
      return i % 2 ? -v : v;
    }
    default: return xi;
  }
}

/* dpocon's rcond of an SPD A from ||A||_1 and the estimate of ||A^-1||_1. */
KD_EST_HD double kd_rcond_spd(double anorm, double ainvnm) {
  return anorm == 0 || ainvnm == 0 ? 0 : (1 / ainvnm) / anorm;
}
/* dtrcon's, for a triangular A. */
KD_EST_HD double kd_rcond_tri(double anorm, double ainvnm) {
  return !(anorm > 0) || ainvnm == 0 ? 0 : (1 / anorm) / ainvnm;
}

/* The Cholesky factor is used when dpotrf succeeded (info 0) and rcond >= rcond_min
 * (a NaN rcond fails). */
KD_EST_HD int kd_cholesky_trusted(int info, double rcond, double rcond_min) {
  return info == 0 && rcond >= rcond_min;
}
/* The QR fallback's R is numerically singular (a NaN rcond is). */
KD_EST_HD int kd_qr_singular(double rcond) { return !(rcond >= KD_QR_RCOND_MIN); }

/* ---- the host driver (cuda/cond_est.c) ----------------------------------------------
 * The estimator on host vectors x (m doubles) and isgn (m ints), m >= 1: begin fills
 * x for the first solve (and clears isgn); after each solve the state asks for (s->kase), step reads x,
 * moves on and refills it; s->kase = 0 when s->est is final. */
#ifdef __cplusplus
extern "C" {
#endif
void kd_est_begin(kd_est *s, double *x, int32_t *isgn, size_t m);
void kd_est_step(kd_est *s, double *x, int32_t *isgn, size_t m);
#ifdef __cplusplus
}
#endif

#endif
