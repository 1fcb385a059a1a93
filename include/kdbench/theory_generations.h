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

/* Accumulated data, ridgeless throughout (docs/theory.md#generations): generation g is
 * the minimum-norm fit on the g blocks of n Gaussian samples so far, block k keeping
 * the labels it was born with (X_k b_(k-1) + sigma[k - 1] z_k; block 1's are the truth's,
 * its fit's risk `first`, generation 1's). Then b_g = b_(g-1) + A_g^+ X_g' sigma_g z_g
 * (A_g the g blocks' Gram) and
 *   risk[g - 1] = first + sum_{2 <= k <= g} sigma_k^2 V(k n) / k,
 * V(N) = E tr(Sigma (X'X)^+) on N rows: p / (N - p - 1) for N > p + 1 (any Sigma; with
 * n > p + 1 throughout this is A2), N / (p - N - 1) for an isotropic Sigma and N < p - 1,
 * +inf for |N - p| <= 1, else the ridgeless DE df2 / (N - df2). exact[g - 1] = 1 when
 * every V up to generation g is exact (the caller adds first's kind); a block without
 * noise adds exactly 0. KD_EINVAL (naming it) for a bad n, sigma or lambda; KD_ENUM when
 * a tau solve fails. sigma[0] is not read; risk may be the array first is read from. */
kd_status kd_generations_accumulate(const double *lambda, size_t p, double n, const double *sigma,
                                    int G, double first, double *risk, int *exact);

/* Accumulated data with a ridge in some generations or all (docs/theory.md#generations):
 * generation g fits the g blocks of n samples with b_g = (A_g + g n ridge[g-1] I)^-1
 * sum_k X_k' y_k, block k labelled X_k b_(k-1) + sigma[k - 1] z_k (b_0 = beta*); the
 * errors solve a block-bidiagonal system in the blocks' Grams, and risk[g - 1] is the
 * deterministic equivalent of its linear pencil (a first-order fixed point over G x G
 * matrices, then a linear solve for the second order; O(p G^4) a generation). A
 * generation with ridge 0 is the minimum-norm fit: mu_g = 0 on more than p + 1 rows; on
 * fewer than p - 1, the limit ridge -> 0+ (three solves at small ridges, extrapolated
 * to 0); within 1 of p, inf from it on. With every ridge 0 this is the ridgeless
 * formula above with the DE's V and first risk. KD_EINVAL (naming it) for a bad n, a
 * negative or non-finite ridge, a bad sigma or lambda; KD_ENUM when the fixed point does
 * not converge. */
kd_status kd_generations_accumulate_de(const double *lambda, const double *beta, size_t p,
                                       double n, const double *ridge, const double *sigma, int G,
                                       double *risk);

/* The probability that generation t of the Gaussian location model beats generation
 * 0 (|mu_t - mu| < |mu_0 - mu|), where mu_0 is the mean of n0 samples and mu_k the
 * mean of n[k-1] samples drawn around mu_{k-1}: (1/pi) atan(2 / sqrt(n0 sum 1/n_k))
 * (A5). */
double kd_location_beats_first(double n0, const double *n, int t);

#endif
