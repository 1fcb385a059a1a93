/* kdbench --job weights: the paper's Figure 1a numbers (docs/theory.md#figure-1) and the
 * identities between the CSV's columns. Runs the real binary. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static int run(const char *args, const char *csv) {
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "%s --job weights --quiet --csv %s %s 2>/tmp/kdbench-weights.err",
           KDBENCH_BIN, csv, args);
  int status = system(cmd);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

Test(weights, figure_1a) {
  const char *csv = "/tmp/kdbench-weights.csv";
  cr_assert_eq(run("--n 200", csv), 0);
  FILE *f = fopen(csv, "r");
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
  cr_expect_eq(run("--n 100,200", "/tmp/kdbench-weights-bad.csv"), 2);
  FILE *f = fopen("/tmp/kdbench-weights-bad.csv", "r");
  cr_expect_null(f, "no output on bad input");
  if (f) fclose(f);
}
