/* Pipelines as descriptors (include/kdbench/pipeline.h) and chains of stages resolved
 * into fits (include/kdbench/chain.h): the registry (names, order, the parser and its
 * message), the paper's pipelines as one weak fit and one shared student fit (its
 * right-hand sides in the registry's order, the weak fit once for w2s and weak, the
 * streams of today's ids), the columns and flags each pipeline fills; chains written
 * here run exactly the stages they describe (generations on a schedule, each learning
 * from the one before; another design spectrum; two chains on one design), bit for bit
 * against stages run by hand; labels mixed by row fraction (truth rows and an earlier
 * fit's rows, against the stage by hand; fractions 1 and 0 the pure chains); and the
 * chains that cannot run, and bad mixes, are refused, naming the chain and stage. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kdbench/chain.h"
#include "kdbench/pipeline.h"

#define P 40
#define SEED 5

static kd_problem pr;
static kd_backend cpu;

static void setup(void) {
  kd_spectrum_spec spec = {.kind = KD_SPEC_POWERLAW, .alpha = 2.0};
  kd_beta_spec beta = {.kind = KD_BETA_POWERLAW, .signal_exp = 1.5};
  cr_assert_eq(kd_problem_init(&pr, &spec, &beta, P, 0.5, 0.3, 3), KD_OK, "%s", kd_last_error());
  cr_assert_eq(kd_backend_open("cpu", &cpu), KD_OK, "%s", kd_last_error());
}

static void teardown(void) {
  kd_backend_close(&cpu);
  kd_problem_free(&pr);
}

TestSuite(registry, .init = setup, .fini = teardown);
TestSuite(program, .init = setup, .fini = teardown);
TestSuite(chains, .init = setup, .fini = teardown);

static kd_plan plan(size_t n, double ridge, size_t m, size_t k, unsigned pipes) {
  kd_point pt = {.n = n, .ridge = ridge, .m = m, .k = k};
  kd_plan pl;
  cr_assert_eq(kd_plan_point(&pr, &pt, pipes, &pl), KD_OK, "%s", kd_last_error());
  return pl;
}

#define ALL_PIPES (KD_PIPES_DEFAULT | 1u << KD_PIPE_WEAK | 1u << KD_PIPE_MIX)
#define PAPER_PIPES KD_PIPE_RECURSIVE /* the pipelines of one row each come first */

/* ---- the registry ---------------------------------------------------------------------- */

Test(registry, names_in_the_order_of_the_rows) {
  const char *want[] = {"strong", "optimal", "mask", "w2s", "weak", "mix", "recursive",
                        "curriculum", "features"};
  cr_assert_eq(KD_NPIPES, 9);
  for (int q = 0; q < KD_NPIPES; ++q) {
    cr_expect_str_eq(kd_pipeline_name((kd_pipeline)q), want[q]);
    cr_expect_eq(kd_pipelines[q]->name, kd_pipeline_name((kd_pipeline)q));
    if (kd_pipelines[q]->groups) { /* several rows: groups of chains, and their theory */
      cr_expect_not_null(kd_pipelines[q]->group_theory, "%s has no theory", want[q]);
      continue;
    }
    cr_expect_not_null(kd_pipelines[q]->theory, "%s has no theory", want[q]);
    cr_expect(kd_pipelines[q]->chain.length >= 1, "%s has no stage", want[q]);
  }
  unsigned mask = 0;
  cr_assert_eq(kd_pipelines_parse("weak,strong,mix,w2s,mask,optimal", &mask), KD_OK);
  cr_expect_eq(mask, ALL_PIPES);
  cr_expect_eq(kd_pipelines_parse("strong,teacher", &mask), KD_EINVAL);
  cr_expect_str_eq(kd_last_error(),
                   "unknown pipeline 'teacher' (expected strong, optimal, mask, w2s, weak, mix, "
                   "recursive, curriculum or features)");
}

/* ---- the paper's pipelines as fits ------------------------------------------------------ */

/* Every pipeline: one weak fit (m samples, top k, the weak ridge, one right-hand side on
 * the truth, its noise counting the unseen signal) shared by w2s and weak, before one
 * student fit whose four right-hand sides are strong's, optimal's, mask's and w2s's in
 * that order; the streams are the plan's ids. */
Test(program, one_weak_fit_then_one_shared_student_fit) {
  kd_plan pl = plan(25, 0, 120, 12, ALL_PIPES);
  const kd_program *prog = &pl.prog;
  cr_assert_eq(prog->ncalls, 2);
  const kd_call *w = &prog->call[0], *s = &prog->call[1];
  cr_expect(w->n == 120 && w->p == 12 && w->nrhs == 1 && w->top_k && w->keep);
  cr_expect(w->role == KD_STAGE_WEAK && w->id == pl.weak_id);
  cr_expect_eq(w->src[0].vector, pr.beta);
  cr_expect_eq(w->sigma[0], sqrt(pr.sigma * pr.sigma + pl.dropped));
  cr_expect_eq(w->dropped, pl.dropped);
  cr_expect(s->n == 25 && s->p == P && s->nrhs == 4 && !s->top_k && !s->keep);
  cr_expect(s->role == KD_STAGE_STUDENT && s->id == pl.id);
  cr_expect_eq(s->src[0].vector, pr.beta);
  cr_expect_eq(s->src[1].vector, pl.beta_opt);
  cr_expect_eq(s->src[2].vector, pl.beta_mask);
  cr_expect(s->src[3].kind == KD_LABELS_STAGE && s->src[3].call == 0 && s->src[3].rhs == 0);
  cr_expect(s->sigma[0] == pr.sigma && s->sigma[1] == pr.teacher_sigma &&
            s->sigma[2] == pr.teacher_sigma && s->sigma[3] == pr.teacher_sigma);
  /* mix at real fraction 0: the teacher's labels alone, w2s's right-hand side */
  const unsigned uses[PAPER_PIPES] = {2, 2, 2, 3, 1, 3};
  const int out_call[PAPER_PIPES] = {1, 1, 1, 1, 0, 1}, out_rhs[PAPER_PIPES] = {0, 1, 2, 3, 0, 3};
  for (int q = 0; q < PAPER_PIPES; ++q) {
    const int ch = pl.chain_of[q];
    cr_assert_eq(ch, q, "every pipeline selected: chains in the registry's order");
    unsigned used = 0; /* bit c: fit c holds a stage of the chain */
    for (int c = 0; c < prog->ncalls; ++c) used |= (unsigned)kd_program_uses(prog, ch, 1, c) << c;
    cr_expect_eq(used, uses[q], "%s", kd_pipeline_name((kd_pipeline)q));
    cr_expect_eq(prog->out_call[ch], out_call[q], "%s", kd_pipeline_name((kd_pipeline)q));
    cr_expect_eq(prog->out_rhs[ch], out_rhs[q], "%s", kd_pipeline_name((kd_pipeline)q));
  }
  cr_expect_eq(prog->cached, 0, "the weak fit is the one a teacher cache holds");
  kd_plan_free(&pl);

  pl = plan(25, 0, 120, 12, 1u << KD_PIPE_MASK | 1u << KD_PIPE_STRONG);
  cr_expect_eq(pl.prog.ncalls, 1, "no weak fit without w2s or weak");
  cr_expect_eq(pl.prog.call[0].nrhs, 2);
  cr_expect_eq(pl.prog.call[0].src[1].vector, pl.beta_mask, "the mask after strong");
  cr_expect_eq(pl.prog.cached, -1);
  cr_expect(pl.chain_of[KD_PIPE_W2S] < 0 && pl.chain_of[KD_PIPE_WEAK] < 0);
  kd_plan_free(&pl);
}

/* The columns of each pipeline's rows, and the peaks and near-peaks of its own fits. */
Test(program, columns_and_peaks_of_each_pipeline) {
  kd_plan pl = plan(37, 0, 150, 12, ALL_PIPES); /* |n - p| = 3 < p/10: near the student's peak */
  const size_t want_m[PAPER_PIPES] = {0, 0, 0, 150, 150, 150},
               want_k[PAPER_PIPES] = {0, 0, pl.k_mask, 12, 12, 12};
  const double want_sigma[PAPER_PIPES] = {pr.sigma, pr.teacher_sigma, pr.teacher_sigma,
                                          pr.teacher_sigma, pr.sigma, pr.sigma};
  cr_assert_eq(pl.nrows, PAPER_PIPES, "one row per pipeline");
  for (int q = 0; q < PAPER_PIPES; ++q) { /* row q: pipeline q */
    size_t m, k;
    kd_plan_columns(&pl, q, &m, &k);
    const double sigma = pl.row[q].sigma;
    const char *name = kd_pipeline_name((kd_pipeline)q);
    cr_expect(pl.row[q].pipe == (kd_pipeline)q && pl.first_row[q] == q && pl.rows_of[q] == 1 &&
              pl.row[q].step == 0 && !pl.row[q].group[0], "%s: its one row", name);
    cr_expect(m == want_m[q] && k == want_k[q] && sigma == want_sigma[q],
              "%s: m %zu, k %zu, sigma %g", name, m, k, sigma);
    cr_expect_eq(kd_plan_near_peak(&pl, q), q != KD_PIPE_WEAK, "%s", name);
    cr_expect(!pl.row[q].peak, "%s", name);
  }
  kd_plan_free(&pl);
  pl = plan(P, 0, 13, 12, ALL_PIPES); /* the student's peak, and the teacher's */
  for (int q = 0; q < PAPER_PIPES; ++q) {
    const kd_plan_row *r = &pl.row[q];
    cr_expect(r->peak && r->theory == INFINITY && r->kind == KD_THEORY_EXACT, "%s",
              kd_pipeline_name((kd_pipeline)q));
  }
  kd_plan_free(&pl);
  pl = plan(P, 0.1, 150, 12, ALL_PIPES); /* ridge: no peak, nothing near one */
  for (int q = 0; q < PAPER_PIPES; ++q)
    cr_expect(!pl.row[q].peak && !kd_plan_near_peak(&pl, q), "%s",
              kd_pipeline_name((kd_pipeline)q));
  kd_plan_free(&pl);
}

/* ---- chains written here ---------------------------------------------------------------- */

/* generation g draws n (g + 1) samples */
static size_t growing(const kd_point *pt, int stage) { return pt->n * (size_t)(stage + 1); }

static double other_lambda[P];
static const double *other_spectrum(const struct kd_plan *pl) {
  (void)pl;
  return other_lambda;
}

/* trial t of a ridgeless stage on every feature by hand, on stream id */
static double by_hand(uint32_t id, size_t n, const double *lambda, const double *metric,
                      const double *src, double sigma, uint32_t t, double *hat) {
  double risk;
  kd_stage st = {.n = n, .p = P, .lambda = lambda, .k = 1, .sources = src, .sigma = &sigma,
                 .target = pr.beta, .metric = metric, .risk = &risk, .beta_hat = hat,
                 .design = {SEED, id, t, KD_STAGE_STUDENT | KD_PURPOSE_DESIGN},
                 .noise = {SEED, id, t, KD_STAGE_STUDENT | KD_PURPOSE_NOISE}};
  cr_assert_eq(kd_stage_run(&cpu, &st), KD_OK, "%s", kd_last_error());
  return risk;
}

/* Three generations on a schedule (n, 2n, 3n samples), each on a fresh design and
 * learning from the fit before it with a fixed noise: the program runs exactly those
 * three stages, in order, trial by trial and in one batch of trials alike. With one
 * fixed sample count the three are still three fits, on three designs. */
Test(chains, generations_learn_from_the_fit_before) {
  kd_chain gens = {
      3,
      {{.stream = KD_STREAM_STAGE, .samples = {.kind = KD_SAMPLES_SCHEDULE, .schedule = growing},
        .labels = {.kind = KD_LABELS_TRUTH, .noise = KD_NOISE_SIGMA}},
       {.stream = KD_STREAM_STAGE, .samples = {.kind = KD_SAMPLES_SCHEDULE, .schedule = growing},
        .labels = {.kind = KD_LABELS_STAGE, .stage = 0, .noise = KD_NOISE_FIXED, .sigma = 0.2}},
       {.stream = KD_STREAM_STAGE, .samples = {.kind = KD_SAMPLES_SCHEDULE, .schedule = growing},
        .labels = {.kind = KD_LABELS_STAGE, .stage = 1, .noise = KD_NOISE_FIXED, .sigma = 0.2}}}};
  kd_plan pl = plan(30, 0, 100, 10, 1u << KD_PIPE_STRONG);
  const kd_chain *chains[] = {&gens};
  kd_program prog;
  uint32_t id[3];
  for (int g = 0; g < 3; ++g) {
    gens.stage[g].samples = (kd_samples){.kind = KD_SAMPLES_FIXED, .count = 30};
    id[g] = kd_stream_id(KD_STREAM_STAGE, g, 30, P, P, 0);
  }
  cr_assert_eq(kd_program_build(&prog, &pr, &pl, chains, 1), KD_OK, "%s", kd_last_error());
  cr_assert_eq(prog.ncalls, 3, "one sample count, yet %d fits", prog.ncalls);
  cr_expect(id[0] != id[1] && id[1] != id[2] && id[0] != pl.id);
  for (int g = 0; g < 3; ++g) {
    cr_expect_eq(prog.call[g].id, id[g]);
    gens.stage[g].samples = (kd_samples){.kind = KD_SAMPLES_SCHEDULE, .schedule = growing};
    id[g] = kd_stream_id(KD_STREAM_STAGE, g, 30 * (size_t)(g + 1), P, P, 0);
  }
  kd_program_free(&prog);
  cr_assert_eq(kd_program_build(&prog, &pr, &pl, chains, 1), KD_OK, "%s", kd_last_error());
  cr_assert_eq(prog.ncalls, 3);
  for (int g = 0; g < 3; ++g) cr_expect_eq(prog.call[g].n, 30 * (size_t)(g + 1));
  cr_expect(prog.call[0].keep && prog.call[1].keep && !prog.call[2].keep);
  cr_expect(prog.out_call[0] == 2 && prog.cached == -1);
  for (int c = 0; c < 3; ++c) cr_expect(kd_program_uses(&prog, 0, 2, c), "fit %d: a stage", c);
  cr_expect(!kd_program_uses(&prog, 0, 0, 1), "generation 1 does not use generation 2's fit");
  enum { TRIALS = 4 };
  kd_trial_ws ws;
  cr_assert_eq(kd_trial_ws_init(&ws, &prog, TRIALS), KD_OK);
  double batched[TRIALS];
  cr_assert_eq(kd_program_run(&cpu, &prog, SEED, 0, TRIALS, &ws), KD_OK, "%s", kd_last_error());
  memcpy(batched, ws.risk[2], sizeof batched);
  for (uint32_t t = 0; t < TRIALS; ++t) {
    double hat0[P], hat1[P];
    by_hand(id[0], 30, pr.lambda, NULL, pr.beta, pr.sigma, t, hat0);
    by_hand(id[1], 60, pr.lambda, NULL, hat0, 0.2, t, hat1);
    const double want = by_hand(id[2], 90, pr.lambda, NULL, hat1, 0.2, t, NULL);
    cr_assert_eq(kd_program_run(&cpu, &prog, SEED, t, 1, &ws), KD_OK, "%s", kd_last_error());
    cr_expect_eq(ws.risk[2][0], want, "trial %u: %.17g, by hand %.17g", t, ws.risk[2][0], want);
    cr_expect_eq(batched[t], want, "trial %u in a batch: %.17g, by hand %.17g", t, batched[t],
                 want);
  }
  kd_trial_ws_free(&ws);
  kd_program_free(&prog);
  kd_plan_free(&pl);
}

/* Two chains on one design (the same stream, samples and ridge) are one fit with two
 * right-hand sides, and a stage of another design spectrum draws from it with the risk
 * still in the problem's spectrum. */
Test(chains, one_design_one_fit_and_another_spectrum) {
  for (size_t j = 0; j < P; ++j) other_lambda[j] = 2 * pr.lambda[j];
  const kd_chain truth = {1, {{.labels = {.kind = KD_LABELS_TRUTH, .noise = KD_NOISE_SIGMA}}}},
                 quiet = {1, {{.labels = {.kind = KD_LABELS_TRUTH, .noise = KD_NOISE_FIXED}}}},
                 shifted = {1, {{.spectrum = other_spectrum,
                                 .labels = {.kind = KD_LABELS_TRUTH, .noise = KD_NOISE_SIGMA}}}};
  kd_plan pl = plan(50, 0, 100, 10, 1u << KD_PIPE_STRONG);
  const kd_chain *chains[] = {&truth, &quiet, &shifted, &truth};
  kd_program prog;
  cr_assert_eq(kd_program_build(&prog, &pr, &pl, chains, 4), KD_OK, "%s", kd_last_error());
  cr_assert_eq(prog.ncalls, 2, "the shifted design is a fit of its own");
  cr_expect_eq(prog.call[0].nrhs, 2, "truth and quiet share one fit; the second truth too");
  cr_expect(prog.out_call[3] == 0 && prog.out_rhs[3] == 0, "the same chain twice: one column");
  cr_expect(prog.call[1].lambda == other_lambda && prog.call[1].metric == pr.lambda);
  kd_trial_ws ws;
  cr_assert_eq(kd_trial_ws_init(&ws, &prog, 1), KD_OK);
  cr_assert_eq(kd_program_run(&cpu, &prog, SEED, 3, 1, &ws), KD_OK, "%s", kd_last_error());
  const double want = by_hand(pl.id, 50, other_lambda, pr.lambda, pr.beta, pr.sigma, 3, NULL);
  cr_expect_eq(ws.risk[1][0], want, "%.17g, by hand %.17g", ws.risk[1][0], want);
  /* The shared fit by hand with its two right-hand sides (truth with noise sigma, quiet
   * with none): a BLAS kernel may block a two-column triangular solve otherwise than a
   * one-column one, so the bits are those of a two-column stage. */
  double sources[2 * P], sigmas[2] = {pr.sigma, 0}, risks[2];
  memcpy(sources, pr.beta, sizeof(double) * P);
  memcpy(sources + P, pr.beta, sizeof(double) * P);
  kd_stage both = {.n = 50, .p = P, .lambda = pr.lambda, .k = 2, .sources = sources,
                   .sigma = sigmas, .target = pr.beta, .risk = risks,
                   .design = {SEED, pl.id, 3, KD_STAGE_STUDENT | KD_PURPOSE_DESIGN},
                   .noise = {SEED, pl.id, 3, KD_STAGE_STUDENT | KD_PURPOSE_NOISE}};
  cr_assert_eq(kd_stage_run(&cpu, &both), KD_OK, "%s", kd_last_error());
  cr_expect_eq(ws.risk[0][0], risks[0], "%.17g, by hand %.17g", ws.risk[0][0], risks[0]);
  cr_expect_eq(ws.risk[0][1], risks[1], "%.17g, by hand %.17g", ws.risk[0][1], risks[1]);
  kd_trial_ws_free(&ws);
  kd_program_free(&prog);
  kd_plan_free(&pl);
}

/* A teacher on 30 samples of its own design, then a student whose labels mix by rows: the
 * first 30 % the truth (noise sigma), the rest the teacher's fit (noise 0.1). */
static kd_labels_mix real_and_teacher = {
    .parts = 2,
    .part = {{.kind = KD_LABELS_TRUTH, .noise = KD_NOISE_SIGMA},
             {.kind = KD_LABELS_STAGE, .stage = 0, .noise = KD_NOISE_FIXED, .sigma = 0.1}},
    .fraction = {0.3, 0.7}};
static kd_chain mixed_chain(const kd_labels_mix *mix) {
  return (kd_chain){
      2,
      {{.stream = KD_STREAM_STAGE, .samples = {.kind = KD_SAMPLES_FIXED, .count = 30},
        .labels = {.kind = KD_LABELS_TRUTH, .noise = KD_NOISE_SIGMA}},
       {.labels = {.kind = KD_LABELS_MIX, .mix = mix}}}};
}

/* The mixed student shares the plain truth student's design and its truth column: one
 * fit, two label columns (truth, teacher), two right-hand sides (the truth alone, the
 * mix of rows 0..14 and 15..49), its risk that of the stage run by hand bit for bit. */
Test(chains, a_mix_of_truth_and_an_earlier_fit_by_rows) {
  const kd_chain truth = {1, {{.labels = {.kind = KD_LABELS_TRUTH, .noise = KD_NOISE_SIGMA}}}};
  const kd_chain mix = mixed_chain(&real_and_teacher);
  kd_plan pl = plan(50, 0, 100, 10, 1u << KD_PIPE_STRONG);
  const kd_chain *chains[] = {&truth, &mix};
  kd_program prog;
  cr_assert_eq(kd_program_build(&prog, &pr, &pl, chains, 2), KD_OK, "%s", kd_last_error());
  cr_assert_eq(prog.ncalls, 2);
  const kd_call *student = &prog.call[1];
  cr_assert(student->mixed && student->ncols == 2 && student->nrhs == 2);
  cr_expect(prog.out_call[0] == 1 && prog.out_rhs[0] == 0 && prog.out_call[1] == 1 &&
            prog.out_rhs[1] == 1);
  const kd_row_mix *m = &student->mix[1];
  cr_expect(m->blocks == 2 && m->rows[0] == 15 && m->rows[1] == 35 && m->column[0] == 0 &&
            m->column[1] == 1, "round(0.3 * 50) = 15 truth rows first, then 35 teacher rows");
  kd_trial_ws ws;
  cr_assert_eq(kd_trial_ws_init(&ws, &prog, 1), KD_OK);
  const uint32_t id0 = kd_stream_id(KD_STREAM_STAGE, 0, 30, P, P, 0);
  for (uint32_t t = 0; t < 3; ++t) {
    cr_assert_eq(kd_program_run(&cpu, &prog, SEED, t, 1, &ws), KD_OK, "%s", kd_last_error());
    double hat0[P], sources[2 * P], risk[2];
    by_hand(id0, 30, pr.lambda, NULL, pr.beta, pr.sigma, t, hat0);
    memcpy(sources, pr.beta, sizeof hat0);
    memcpy(sources + P, hat0, sizeof hat0);
    const double sigma[2] = {pr.sigma, 0.1};
    const kd_row_mix rows[2] = {{1, {50}, {0}}, *m};
    kd_stage st = {.n = 50, .p = P, .lambda = pr.lambda, .k = 2, .sources = sources,
                   .sigma = sigma, .mix = rows, .columns = 2, .target = pr.beta, .risk = risk,
                   .design = {SEED, pl.id, t, KD_STAGE_STUDENT | KD_PURPOSE_DESIGN},
                   .noise = {SEED, pl.id, t, KD_STAGE_STUDENT | KD_PURPOSE_NOISE}};
    cr_assert_eq(kd_stage_run(&cpu, &st), KD_OK, "%s", kd_last_error());
    cr_expect_eq(ws.risk[1][1], risk[1], "trial %u: %.17g, by hand %.17g", t, ws.risk[1][1],
                 risk[1]);
    const double pure = by_hand(pl.id, 50, pr.lambda, NULL, pr.beta, pr.sigma, t, NULL);
    cr_expect_lt(fabs(ws.risk[1][0] - pure), 1e-12 * pure, "trial %u: the truth column", t);
    cr_expect(fabs(ws.risk[1][1] - pure) > 1e-6 * pure, "trial %u: the mix is not the truth", t);
  }
  kd_trial_ws_free(&ws);
  kd_program_free(&prog);
  kd_plan_free(&pl);
}

/* Trial 2's risks of each chain's result (program of the chains alone). */
static void chain_risks(const kd_chain *const *chains, int count, double *risks) {
  kd_plan pl = plan(50, 0, 100, 10, 1u << KD_PIPE_STRONG);
  kd_program prog;
  kd_trial_ws ws;
  cr_assert_eq(kd_program_build(&prog, &pr, &pl, chains, count), KD_OK, "%s", kd_last_error());
  cr_assert_eq(kd_trial_ws_init(&ws, &prog, 1), KD_OK);
  cr_assert_eq(kd_program_run(&cpu, &prog, SEED, 2, 1, &ws), KD_OK, "%s", kd_last_error());
  for (int i = 0; i < count; ++i)
    risks[i] = ws.risk[prog.out_call[i]][prog.out_rhs[i]];
  kd_trial_ws_free(&ws);
  kd_program_free(&prog);
  kd_plan_free(&pl);
}

/* Fractions (1, 0) and (0, 1) are the pure chains, truth and the teacher's fit, bit for
 * bit, next to the plain truth chain as in a run. */
Test(chains, a_mix_of_one_source_is_that_source) {
  const kd_chain truth = {1, {{.labels = {.kind = KD_LABELS_TRUTH, .noise = KD_NOISE_SIGMA}}}};
  kd_chain pure_teacher = mixed_chain(NULL);
  pure_teacher.stage[1].labels = real_and_teacher.part[1];
  kd_labels_mix ends[2] = {real_and_teacher, real_and_teacher};
  ends[0].fraction[0] = 1, ends[0].fraction[1] = 0;
  ends[1].fraction[0] = 0, ends[1].fraction[1] = 1;
  const kd_chain all_truth = mixed_chain(&ends[0]), all_teacher = mixed_chain(&ends[1]);
  double want[2], got[3];
  chain_risks((const kd_chain *const[]){&truth, &pure_teacher}, 2, want);
  chain_risks((const kd_chain *const[]){&truth, &all_truth, &all_teacher}, 3, got);
  cr_expect_eq(memcmp(&got[0], &want[0], sizeof(double)), 0);
  cr_expect_eq(memcmp(&got[1], &want[0], sizeof(double)), 0, "fraction 1: %.17g vs %.17g",
               got[1], want[0]);
  cr_expect_eq(memcmp(&got[2], &want[1], sizeof(double)), 0, "fraction 0: %.17g vs %.17g",
               got[2], want[1]);
}

static void expect_refused(const kd_chain *a, const kd_chain *b, const char *says) {
  kd_plan pl = plan(50, 0, 100, 10, 1u << KD_PIPE_STRONG);
  const kd_chain *chains[] = {a, b};
  kd_program prog;
  cr_expect_eq(kd_program_build(&prog, &pr, &pl, chains, b ? 2 : 1), KD_EINVAL);
  cr_expect_not_null(strstr(kd_last_error(), says), "'%s' does not say '%s'", kd_last_error(),
                     says);
  kd_program_free(&prog);
  kd_plan_free(&pl);
}

Test(chains, those_that_cannot_run_are_refused) {
  const kd_chain later = {2, {{.labels = {.kind = KD_LABELS_STAGE, .stage = 1}},
                              {.labels = {.kind = KD_LABELS_TRUTH}}}};
  expect_refused(&later, NULL, "chain 0, stage 0: labels from stage 1, not an earlier one");
  const kd_chain wider = {2, {{.labels = {.kind = KD_LABELS_TRUTH}},
                              {.stream = KD_STREAM_WEAK, .samples = {.kind = KD_SAMPLES_M},
                               .features = {.kind = KD_FEATURES_TOP_K},
                               .labels = {.kind = KD_LABELS_STAGE, .stage = 0}}}};
  expect_refused(&wider, NULL, "chain 0, stage 1 sees 10 features but learns from a fit on 40");
  /* A: the student, then a weak-stream fit learning from it; B: that same weak-stream
   * fit on the truth, then the same student learning from it: each fit reads the other */
  const kd_chain_stage student = {.labels = {.kind = KD_LABELS_TRUTH}},
                       weak_all = {.stream = KD_STREAM_WEAK, .samples = {.kind = KD_SAMPLES_M},
                                   .labels = {.kind = KD_LABELS_STAGE, .stage = 0}};
  kd_chain a = {2, {student, weak_all}}, b = {2, {weak_all, student}};
  b.stage[0].labels = (kd_labels){.kind = KD_LABELS_TRUTH};
  b.stage[1].labels = (kd_labels){.kind = KD_LABELS_STAGE, .stage = 0};
  expect_refused(&a, &b, "an order that cannot run");
  const kd_chain empty = {0, {{0}}};
  expect_refused(&empty, NULL, "chain 0: 0 stages");
}

/* ---- subsets of features and pure-noise features ---------------------------------------- */

static size_t first_ten(const struct kd_plan *pl, size_t p, size_t *index) {
  (void)pl, (void)p;
  for (size_t i = 0; i < 10; ++i) index[i] = i;
  return 10;
}

/* the tail first: the last ten features, the very last one first */
static size_t last_ten(const struct kd_plan *pl, size_t p, size_t *index) {
  (void)pl;
  for (size_t i = 0; i < 10; ++i) index[i] = p - 1 - i;
  return 10;
}

static size_t twice(const struct kd_plan *pl, size_t p, size_t *index) {
  (void)pl, (void)p;
  index[0] = index[1] = 3;
  return 2;
}

/* one stage by hand, any shape */
static double stage_by_hand(uint32_t id, uint32_t role, size_t n, size_t p, const double *lambda,
                            const double *target, const double *src, double sigma, uint32_t t,
                            double *hat) {
  double risk;
  kd_stage st = {.n = n, .p = p, .lambda = lambda, .k = 1, .sources = src, .sigma = &sigma,
                 .target = target, .risk = &risk, .beta_hat = hat,
                 .design = {SEED, id, t, role | KD_PURPOSE_DESIGN},
                 .noise = {SEED, id, t, role | KD_PURPOSE_NOISE}};
  cr_assert_eq(kd_stage_run(&cpu, &st), KD_OK, "%s", kd_last_error());
  return risk;
}

/* The subset of the first k features is the weak model's top k, bit for bit; the tail
 * first is the stage of those features by hand (their spectrum, beta* and labels, the
 * rest as noise of their signal, their signal added to the risk), and a student
 * learning from it gets its fit on those features and zero elsewhere; pure-noise
 * features are columns of their variance with no signal, in the risk's metric too. */
Test(chains, subsets_and_pure_noise_features) {
  kd_plan pl = plan(50, 0, 100, 10, 1u << KD_PIPE_WEAK);
  const kd_labels truth = {.kind = KD_LABELS_TRUTH, .noise = KD_NOISE_SIGMA};
  const kd_chain head = {1, {{.stream = KD_STREAM_WEAK, .samples = {.kind = KD_SAMPLES_M},
                              .features = {.kind = KD_FEATURES_SUBSET, .subset = first_ten},
                              .solver = {.ridge = KD_RIDGE_WEAK}, .labels = truth}}},
                 tail = {2, {{.features = {.kind = KD_FEATURES_SUBSET, .subset = last_ten},
                              .labels = truth},
                             {.stream = KD_STREAM_STAGE, .labels = {.kind = KD_LABELS_STAGE,
                                                                    .noise = KD_NOISE_TEACHER}}}},
                 padded = {1, {{.features = {.kind = KD_FEATURES_ALL, .noise = 5,
                                             .noise_var = 0.3},
                                .labels = truth}}};
  const kd_chain *chains[] = {&head, &tail, &padded};
  kd_program prog;
  cr_assert_eq(kd_program_build(&prog, &pr, &pl, chains, 3), KD_OK, "%s", kd_last_error());
  cr_assert_eq(prog.ncalls, 4);
  cr_expect(prog.call[prog.out_call[0]].partial && prog.cached == -1,
            "a subset's fit is not the teacher cache's");
  kd_trial_ws ws;
  cr_assert_eq(kd_trial_ws_init(&ws, &prog, 1), KD_OK);
  kd_trial_ws top;
  cr_assert_eq(kd_trial_ws_init(&top, &pl.prog, 1), KD_OK);
  for (uint32_t t = 0; t < 3; ++t) {
    double r[KD_PLAN_ROWS];
    int fb[KD_PLAN_ROWS];
    cr_assert_eq(kd_program_run(&cpu, &prog, SEED, t, 1, &ws), KD_OK, "%s", kd_last_error());
    cr_assert_eq(kd_run_trial(&cpu, &pl, SEED, t, &top, r, fb), KD_OK, "%s", kd_last_error());
    const double *risk_of[3];
    for (int ch = 0; ch < 3; ++ch) risk_of[ch] = &ws.risk[prog.out_call[ch]][prog.out_rhs[ch]];
    cr_expect_eq(*risk_of[0], r[pl.first_row[KD_PIPE_WEAK]], "trial %u: the first ten %.17g, the top k %.17g", t,
                 *risk_of[0], r[pl.first_row[KD_PIPE_WEAK]]);
    /* the tail first, by hand */
    double lam[10], beta[10], hat[10], dropped = 0, src[P] = {0};
    for (size_t i = 0; i < 10; ++i) {
      lam[i] = pr.lambda[P - 1 - i];
      beta[i] = pr.beta[P - 1 - i];
    }
    for (size_t j = 0; j < P - 10; ++j) dropped += pr.lambda[j] * pr.beta[j] * pr.beta[j];
    const double sigma = sqrt(pr.sigma * pr.sigma + dropped); /* the unseen signal as noise */
    const double teacher =
        stage_by_hand(pl.id, KD_STAGE_STUDENT, 50, 10, lam, beta, beta, sigma, t, hat) + dropped;
    const int tc = prog.call[prog.out_call[1]].src[0].call; /* the tail's teacher */
    cr_expect_eq(prog.call[tc].dropped, dropped);
    cr_expect_eq(ws.risk[tc][0], teacher, "trial %u: the tail %.17g, by hand %.17g", t,
                 ws.risk[tc][0], teacher);
    for (size_t i = 0; i < 10; ++i) src[P - 1 - i] = hat[i];
    const double student = stage_by_hand(kd_stream_id(KD_STREAM_STAGE, 1, 50, P, P, 0),
                                          KD_STAGE_STUDENT, 50, P, pr.lambda, pr.beta, src,
                                          pr.teacher_sigma, t, NULL);
    cr_expect_eq(*risk_of[1], student, "trial %u: the student of the tail %.17g, by hand %.17g",
                 t, *risk_of[1], student);
    /* pure-noise features */
    double plam[P + 5], pbeta[P + 5];
    for (size_t j = 0; j < P + 5; ++j) {
      plam[j] = j < P ? pr.lambda[j] : 0.3;
      pbeta[j] = j < P ? pr.beta[j] : 0;
    }
    const double padded_risk = stage_by_hand(kd_stream_id(KD_STREAM_STUDENT, 0, 50, P + 5, P, 0),
                                             KD_STAGE_STUDENT, 50, P + 5, plam, pbeta, pbeta,
                                             pr.sigma, t, NULL);
    cr_expect_eq(*risk_of[2], padded_risk, "trial %u: padded %.17g, by hand %.17g", t,
                 *risk_of[2], padded_risk);
  }
  kd_trial_ws_free(&ws);
  kd_trial_ws_free(&top);
  kd_program_free(&prog);
  kd_plan_free(&pl);
}

Test(chains, subsets_that_cannot_be_are_refused) {
  const kd_labels truth = {.kind = KD_LABELS_TRUTH, .noise = KD_NOISE_SIGMA};
  const kd_chain dup = {1, {{.features = {.kind = KD_FEATURES_SUBSET, .subset = twice},
                             .labels = truth}}};
  expect_refused(&dup, NULL, "chain 0, stage 0: subset entry 1 is feature 3, seen twice");
  const kd_chain from_noise = {2, {{.features = {.kind = KD_FEATURES_ALL, .noise = 2,
                                                 .noise_var = 1},
                                    .labels = truth},
                                   {.stream = KD_STREAM_STAGE,
                                    .labels = {.kind = KD_LABELS_STAGE, .stage = 0}}}};
  expect_refused(&from_noise, NULL, "chain 0, stage 1 learns from a fit on pure-noise features");
  const kd_chain narrower = {2, {{.features = {.kind = KD_FEATURES_SUBSET, .subset = last_ten},
                                  .labels = truth},
                                 {.stream = KD_STREAM_STAGE,
                                  .features = {.kind = KD_FEATURES_SUBSET, .subset = first_ten},
                                  .labels = {.kind = KD_LABELS_STAGE, .stage = 0}}}};
  expect_refused(&narrower, NULL, "chain 0, stage 1 learns from a fit on features it does not see");
}

Test(chains, bad_mixes_are_refused) {
  kd_labels_mix bad = real_and_teacher;
  const kd_chain chain = mixed_chain(&bad);
  bad.fraction[0] = -0.1, bad.fraction[1] = 1.1;
  expect_refused(&chain, NULL, "chain 0, stage 1: mix fraction 0 is -0.1, expected a number >= 0");
  bad.fraction[0] = 0.2, bad.fraction[1] = 0.7;
  expect_refused(&chain, NULL, "chain 0, stage 1: mix fractions sum to 0.8");
  bad.fraction[1] = NAN;
  expect_refused(&chain, NULL, "mix fraction 1 is nan");
  bad = real_and_teacher, bad.parts = 0;
  expect_refused(&chain, NULL, "chain 0, stage 1: a mix of 0 parts (1 to 8)");
  bad.parts = 2, bad.part[1] = (kd_labels){.kind = KD_LABELS_MIX, .mix = &real_and_teacher};
  expect_refused(&chain, NULL, "chain 0, stage 1: mix part 1 is itself a mix");
  bad = real_and_teacher, bad.part[1].stage = 1;
  expect_refused(&chain, NULL, "chain 0, stage 1: labels from stage 1, not an earlier one");
}
