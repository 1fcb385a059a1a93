/* The trial loop of a point on a backend with batches (host/sim/point.c): a fake backend
 * whose run_batch records every call (its size, each stage's trial, seed, stream and
 * shape) and computes each stage with the CPU backend's run_stage. It checks the split
 * (near-equal batches of at most what batch_size allows, in trial order), that every
 * trial of every stage ran exactly once and in one call with the same stage of its
 * batch's other trials, that the weak teachers of a batch come before its students,
 * that the risks and fallbacks equal the CPU backend's unbatched ones bit for bit (the
 * teacher cache and the peak included), that batch_size 1 means one trial per call
 * without run_batch, and that a stop is honoured between batches. Needs no device. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kdbench/backend.h"
#include "kdbench/point.h"
#include "stage_fixture.h"

/* ---- the fake backend ------------------------------------------------------------- */

enum { MAX_LOG = 4096, MAX_CALLS = 256 };

typedef struct {
  uint32_t call;    /* the run_batch call it came in (UINT32_MAX: run_stage) */
  uint64_t seed;
  uint32_t id, trial, purpose;
  size_t n, p, k;
} stage_log;

static struct {
  size_t batch;            /* what batch_size answers (capped at the trials asked) */
  size_t asked;            /* batch_size calls */
  uint32_t calls;          /* run_batch calls */
  size_t call_size[MAX_CALLS];
  size_t logged;
  stage_log log[MAX_LOG];
  volatile sig_atomic_t *stop; /* raised after call stop_after, when set */
  uint32_t stop_after;
} fake;

static void fake_reset(size_t batch) {
  memset(&fake, 0, sizeof fake);
  fake.batch = batch;
  fake.stop_after = UINT32_MAX;
}

static kd_status fake_probe(void) { return KD_OK; }
static kd_status fake_init(void *state) { return kd_backend_open("cpu", state); }
static void fake_release(void *state) { kd_backend_close(state); }

static void record(const kd_stage *st, uint32_t call) {
  cr_assert_lt(fake.logged, MAX_LOG, "more stages than the log holds");
  fake.log[fake.logged++] = (stage_log){call, st->design.seed, st->design.point,
                                        st->design.trial, st->design.purpose,
                                        st->n, st->p, st->k};
}

static kd_status fake_run_stage(void *state, kd_stage *st) {
  record(st, UINT32_MAX);
  return kd_stage_run(state, st);
}

static kd_status fake_run_batch(void *state, kd_stage *st, size_t count) {
  cr_assert_lt(fake.calls, MAX_CALLS);
  const uint32_t call = fake.calls++;
  fake.call_size[call] = count;
  for (size_t i = 0; i < count; ++i) {
    record(&st[i], call);
    kd_status rc = kd_stage_run(state, &st[i]);
    if (rc != KD_OK) return rc;
  }
  if (fake.stop && call == fake.stop_after) *fake.stop = 1;
  return KD_OK;
}

static void fake_describe(void *state, char *buf, size_t len) {
  (void)state;
  snprintf(buf, len, "fake batches over the CPU stage");
}

static size_t fake_batch_size(void *state, size_t n, size_t p, size_t k, double ridge,
                              size_t trials) {
  (void)state, (void)n, (void)p, (void)k, (void)ridge;
  ++fake.asked;
  return fake.batch < trials ? fake.batch : trials;
}

static const kd_backend_type fake_type = {
    .name = "fake",
    .state_size = sizeof(kd_backend),
    .probe = fake_probe,
    .init = fake_init,
    .release = fake_release,
    .run_stage = fake_run_stage,
    .describe = fake_describe,
    .run_batch = fake_run_batch,
    .batch_size = fake_batch_size,
};

/* ---- fixtures ----------------------------------------------------------------------- */

typedef struct {
  kd_problem pr;
  kd_backend cpu, fake;
} fixture;

static void setup(fixture *f, size_t p) {
  powerlaw_problem(&f->pr, p, 0.3);
  cr_assert_eq(kd_backend_open("cpu", &f->cpu), KD_OK, "%s", kd_last_error());
  void *state = calloc(1, fake_type.state_size);
  cr_assert_not_null(state);
  cr_assert_eq(fake_type.init(state), KD_OK, "%s", kd_last_error());
  f->fake = (kd_backend){.type = &fake_type, .state = state};
}

static void teardown(fixture *f) {
  kd_backend_close(&f->fake);
  kd_backend_close(&f->cpu);
  kd_problem_free(&f->pr);
}

static kd_plan plan(fixture *f, size_t n, size_t m, size_t k, unsigned pipes) {
  kd_point pt = {.n = n, .ridge = 0, .m = m, .k = k};
  kd_plan pl;
  cr_assert_eq(kd_plan_point(&f->pr, &pt, pipes, &pl), KD_OK, "%s", kd_last_error());
  return pl;
}

typedef struct {
  double risks[KD_NPIPES * 64];
  long fallbacks[KD_NPIPES];
} outcome;

static kd_status run(fixture *f, kd_backend *be, const kd_plan *pl, uint32_t trials,
                     kd_teacher_cache *cache, volatile sig_atomic_t *stop, outcome *o) {
  cr_assert_leq(trials, 64);
  return kd_run_point(be, &f->pr, 1, pl, 77, trials, cache, stop, o->risks, o->fallbacks);
}

static void expect_same(const outcome *a, const outcome *b, uint32_t trials, const char *what) {
  cr_expect_eq(memcmp(a->risks, b->risks, sizeof(double) * KD_NPIPES * trials), 0,
               "%s: the risks differ from the CPU backend's", what);
  cr_expect_eq(memcmp(a->fallbacks, b->fallbacks, sizeof a->fallbacks), 0,
               "%s: the fallbacks differ", what);
}

static int is_weak(const stage_log *s) { return (s->purpose & KD_STAGE_WEAK) != 0; }

/* Every (stage, trial) in the log exactly once, in a batch call; each call holds one
 * stage (weak or student) of consecutive trials, with one seed and one stream. */
static void expect_each_trial_once(const kd_plan *pl, uint32_t trials, int student_runs,
                                   int weak_runs) {
  int seen[2][64] = {{0}};
  for (size_t i = 0; i < fake.logged; ++i) {
    const stage_log *s = &fake.log[i];
    cr_assert_neq(s->call, UINT32_MAX, "trial %u ran outside a batch", s->trial);
    cr_assert_lt(s->trial, trials);
    cr_expect_eq(s->seed, 77);
    cr_expect_eq(s->id, is_weak(s) ? pl->weak_id : pl->id, "trial %u: another stream",
                 s->trial);
    cr_expect_eq(s->n, is_weak(s) ? pl->pt.m : pl->pt.n);
    ++seen[is_weak(s)][s->trial];
    if (i > 0 && fake.log[i - 1].call == s->call) {
      cr_expect_eq(is_weak(&fake.log[i - 1]), is_weak(s), "a call mixes two stages");
      cr_expect_eq(fake.log[i - 1].trial + 1, s->trial, "a call's trials are not in order");
    }
  }
  for (uint32_t t = 0; t < trials; ++t) {
    cr_expect_eq(seen[0][t], student_runs, "student stage of trial %u ran %d times", t,
                 seen[0][t]);
    cr_expect_eq(seen[1][t], weak_runs, "weak stage of trial %u ran %d times", t, seen[1][t]);
  }
}

TestSuite(batched);

/* 20 trials, at most 7 a call: batches of 7, 7, 6 in trial order, each stage of a batch
 * one call, the weak teachers' call before the students' of the same trials; every
 * number as the CPU backend gives it trial by trial. */
Test(batched, split_order_and_bit_identical_risks) {
  fixture f;
  setup(&f, 40);
  const unsigned pipes = KD_PIPES_DEFAULT | 1u << KD_PIPE_WEAK;
  const size_t sizes[] = {25, 40, 90}; /* p > n, the peak n = p (fallbacks), n > p */
  for (size_t c = 0; c < 3; ++c) {
    kd_plan pl = plan(&f, sizes[c], 120, 0, pipes);
    outcome want = {{0}, {0}}, got = {{0}, {0}};
    cr_assert_eq(run(&f, &f.cpu, &pl, 20, NULL, NULL, &want), KD_OK, "%s", kd_last_error());
    fake_reset(7);
    cr_assert_eq(run(&f, &f.fake, &pl, 20, NULL, NULL, &got), KD_OK, "%s", kd_last_error());
    expect_same(&want, &got, 20, "batches of 7");
    cr_expect_geq(fake.asked, 1, "batch_size was not asked");
    const size_t split[] = {7, 7, 6};
    cr_assert_eq(fake.calls, 6, "n = %zu: %u calls, expected 3 batches of 2 stages", sizes[c],
                 fake.calls);
    for (uint32_t call = 0; call < 6; ++call)
      cr_expect_eq(fake.call_size[call], split[call / 2], "call %u: %zu trials", call,
                   fake.call_size[call]);
    /* calls alternate weak, student over the same trials */
    uint32_t first_of[MAX_CALLS], weak_of[MAX_CALLS];
    for (size_t i = fake.logged; i-- > 0;) {
      first_of[fake.log[i].call] = fake.log[i].trial;
      weak_of[fake.log[i].call] = is_weak(&fake.log[i]);
    }
    for (uint32_t call = 0; call < 6; call += 2) {
      cr_expect(weak_of[call] && !weak_of[call + 1], "batch %u: the students came first",
                call / 2);
      cr_expect_eq(first_of[call], first_of[call + 1], "batch %u: other trials", call / 2);
    }
    expect_each_trial_once(&pl, 20, 1, 1);
    if (c == 1) cr_expect_gt(got.fallbacks[KD_PIPE_STRONG], 0, "the peak took no fallback");
    kd_plan_free(&pl);
  }
  teardown(&f);
}

/* One call for all the trials when they fit, any selection of pipelines; a backend whose
 * batch_size is 1 gets one trial at a time through run_stage, never run_batch. */
Test(batched, whole_point_and_one_at_a_time) {
  fixture f;
  setup(&f, 30);
  const unsigned selections[] = {1u << KD_PIPE_STRONG, 1u << KD_PIPE_WEAK,
                                 1u << KD_PIPE_W2S | 1u << KD_PIPE_MASK, KD_PIPES_DEFAULT};
  for (size_t s = 0; s < sizeof selections / sizeof selections[0]; ++s) {
    const unsigned pipes = selections[s];
    const int weak = (pipes >> KD_PIPE_W2S & 1u) || (pipes >> KD_PIPE_WEAK & 1u);
    const int student = (pipes & KD_PIPES_DEFAULT) != 0;
    kd_plan pl = plan(&f, 50, 80, 10, pipes);
    outcome want = {{0}, {0}}, got = {{0}, {0}};
    cr_assert_eq(run(&f, &f.cpu, &pl, 13, NULL, NULL, &want), KD_OK, "%s", kd_last_error());
    fake_reset(64);
    cr_assert_eq(run(&f, &f.fake, &pl, 13, NULL, NULL, &got), KD_OK, "%s", kd_last_error());
    expect_same(&want, &got, 13, "one batch");
    cr_expect_eq(fake.calls, (uint32_t)(weak + student), "selection %zu: %u calls", s,
                 fake.calls);
    for (uint32_t call = 0; call < fake.calls; ++call) cr_expect_eq(fake.call_size[call], 13);
    expect_each_trial_once(&pl, 13, student, weak);
    fake_reset(1);
    cr_assert_eq(run(&f, &f.fake, &pl, 13, NULL, NULL, &got), KD_OK, "%s", kd_last_error());
    expect_same(&want, &got, 13, "batch_size 1");
    cr_expect_eq(fake.calls, 0, "batch_size 1, yet run_batch was called");
    cr_expect_eq(fake.logged, (size_t)13 * (weak + student), "one stage per trial and stage");
    kd_plan_free(&pl);
  }
  teardown(&f);
}

/* The teacher cache in batches: a point filled by batches serves the next point of the
 * same teacher, whose calls are then the students' alone; the numbers stay the CPU's. */
Test(batched, teacher_cache_serves_the_next_point) {
  fixture f;
  setup(&f, 40);
  const unsigned pipes = KD_PIPES_DEFAULT | 1u << KD_PIPE_WEAK;
  kd_plan a = plan(&f, 30, 150, 12, pipes), b = plan(&f, 70, 150, 12, pipes);
  outcome want = {{0}, {0}}, got = {{0}, {0}};
  cr_assert_eq(run(&f, &f.cpu, &b, 17, NULL, NULL, &want), KD_OK, "%s", kd_last_error());
  kd_teacher_cache cache = {0};
  fake_reset(5);
  cr_assert_eq(run(&f, &f.fake, &a, 17, &cache, NULL, &got), KD_OK, "%s", kd_last_error());
  cr_assert(cache.valid, "the batches left no valid cache");
  fake_reset(5);
  cr_assert_eq(run(&f, &f.fake, &b, 17, &cache, NULL, &got), KD_OK, "%s", kd_last_error());
  expect_same(&want, &got, 17, "cached teachers");
  cr_expect_eq(fake.calls, 4, "17 trials in batches of at most 5: 4 student calls");
  expect_each_trial_once(&b, 17, 1, 0);
  kd_teacher_cache_free(&cache);
  kd_plan_free(&a);
  kd_plan_free(&b);
  teardown(&f);
}

/* A stop raised during the second batch ends the point with KD_ESTOP before the third
 * batch starts. */
Test(batched, stop_between_batches) {
  fixture f;
  setup(&f, 30);
  kd_plan pl = plan(&f, 50, 80, 10, 1u << KD_PIPE_STRONG);
  volatile sig_atomic_t stop = 0;
  outcome got = {{0}, {0}};
  fake_reset(4);
  fake.stop = &stop;
  fake.stop_after = 1;
  cr_expect_eq(run(&f, &f.fake, &pl, 16, NULL, &stop, &got), KD_ESTOP);
  cr_expect_not_null(strstr(kd_last_error(), "stopped by a signal"), "%s", kd_last_error());
  cr_expect_eq(fake.calls, 2, "%u calls after a stop in the second", fake.calls);
  kd_plan_free(&pl);
  teardown(&f);
}
