/* The theory of G generations of regression, each fitted on fresh samples labelled by
 * the generation before (host/theory/theory_generations.c; docs/theory.md#generations):
 * exact finite-sample risks where they exist, the deterministic-equivalent recursion
 * otherwise. All risks are excess risks (b - beta*)' Sigma (b - beta*), Sigma =
 * diag(lambda); generation 1 learns from beta* itself. */
#ifndef KDBENCH_THEORY_GENERATIONS_H
#define KDBENCH_THEORY_GENERATIONS_H

#include <stddef.h>

#include "kdbench/status.h"

/* Generation g's fit: t samples, ridge (b = (X'X + t ridge I)^-1 X'y; 0: minimum norm),
 * the noise level of its labels. */
typedef struct {
  double t, ridge, sigma;
} kd_generation;

/* risk[g] = E R after generations 0 .. g (G of them), by the deterministic-equivalent
 * recursion: the test metric propagated backwards through each generation's fit,
 * O(p G) per generation. KD_EINVAL (naming it) for a bad generation; KD_ENUM when a
 * tau solve fails. A ridgeless generation at its interpolation threshold gives inf. */
kd_status kd_generations_de(const double *lambda, const double *beta, size_t p,
                            const kd_generation *gen, int G, double *risk);

/* The exact risks of replaced data, ridgeless throughout (1 if they exist, 0 if not):
 * a generation with t > p + 1 adds sigma^2 p / (t - p - 1) to the risk, for any Sigma
 * (A1); with an isotropic Sigma, one with t < p - 1 also shrinks the estimate onto a
 * random t-dimensional subspace, r = t / p (A3). */
int kd_generations_exact(const double *lambda, const double *beta, size_t p,
                         const kd_generation *gen, int G, double *risk);

/* Accumulated data, ridgeless, blocks of n > p + 1 samples (A2, exact for any Sigma):
 * generation g is fitted on the g blocks so far, each with the labels it was born
 * with (block i's noise sigma[i]); risk[g - 1] = p sum_{i <= g} sigma_i^2 /
 * (i (i n - p - 1)). 0 (risk untouched) when n <= p + 1. */
int kd_generations_accumulate_exact(size_t p, double n, const double *sigma, int G,
                                    double *risk);

/* The probability that generation t of the Gaussian location model beats generation
 * 0 (|mu_t - mu| < |mu_0 - mu|), where mu_0 is the mean of n0 samples and mu_k the
 * mean of n[k-1] samples drawn around mu_{k-1}: (1/pi) atan(2 / sqrt(n0 sum 1/n_k))
 * (A5). */
double kd_location_beats_first(double n0, const double *n, int t);

#endif
