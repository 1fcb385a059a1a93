/* kdbench --job weights: the paper's Figure 1a numbers (docs/theory.md#figure-1) and the
 * identities between the CSV's columns. Runs the real binary. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kd_test.h"

TestSuite(weights, .init = kd_test_dir_make, .fini = kd_test_dir_remove);

Test(weights, figure_1a) {
  kd_test_run_ok("--job weights --quiet --csv weights.csv --n 200");
  FILE *f = fopen(kd_test_path("weights.csv"), "r");
  cr_assert_not_null(f);
  char line[512];
  cr_assert_not_null(fgets(line, sizeof line, f));
  cr_expect_str_eq(line, "i,lambda,beta_star,gain,beta_optimal,beta_mask\n");
  size_t i, rows = 0, amplified = 0, argmax = 0, kept = 0;
  double lambda, beta, gain, opt, mask, best = 0;
  while (fscanf(f, "%zu,%lf,%lf,%lf,%lf,%lf\n", &i, &lambda, &beta, &gain, &opt, &mask) == 6) {
    ++rows;
    cr_expect_eq(i, rows);
    cr_expect_float_eq(lambda * beta * beta, pow((double)i, -1.5), 1e-8, "lambda beta^2 = i^-1.5");
    cr_expect_float_eq(opt, gain * beta, 1e-8 * fabs(opt) + 1e-300, "beta_optimal = gain beta*");
    cr_expect(mask == 0 || mask == beta, "the mask keeps or drops a feature");
    kept += mask != 0;
    if (mask == 0) cr_expect(kept < i, "the mask keeps a prefix");
    amplified += gain > 1;
    if (gain > best) best = gain, argmax = i;
  }
  fclose(f);
  cr_expect_eq(rows, 500);
  /* docs/theory.md#figure-1: features 1..126 amplified, max gain 1.14 at i = 84, mask 203 */
  cr_expect_eq(amplified, 126);
  cr_expect_eq(argmax, 84);
  cr_expect_float_eq(best, 1.14, 0.005);
  cr_expect_eq(kept, 203);
}

Test(weights, needs_one_n) {
  kd_test_expect_refused(kd_test_run("--job weights --quiet --csv bad.csv --n 100,200"), "--n");
  cr_expect(!kd_test_exists("bad.csv"), "no output on bad input");
}
