/* Chains of stages resolved into the distinct fits of one trial, and those fits run for
 * a batch of trials (include/kdbench/chain.h). */
#include "kdbench/chain.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kdbench/hash.h"
#include "kdbench/pipeline.h"
#include "kdbench/sgd.h"
#include "internal.h"

uint32_t kd_stream_id(kd_stream s, int stage, size_t n, size_t features, size_t p,
                      double ridge) {
  char key[256];
  if (s == KD_STREAM_WEAK)
    snprintf(key, sizeof key, "weak m=%zu k=%zu p=%zu weak_ridge=%.17g", n, features, p, ridge);
  else if (s == KD_STREAM_STAGE)
    snprintf(key, sizeof key, "stage=%d n=%zu k=%zu p=%zu ridge=%.17g", stage, n, features, p,
             ridge);
  else
    snprintf(key, sizeof key, "n=%zu p=%zu", n, p);
  return kd_hash32(key);
}

/* ---- building the program ---------------------------------------------------------------- */

/* sum_{j >= from} lambda_j v_j^2: the signal of v on the features a stage does not see */
static double unseen(const double *lambda, const double *v, size_t from, size_t p) {
  double s = 0;
  for (size_t j = from; j < p; ++j) s += lambda[j] * v[j] * v[j];
  return s;
}

/* A block the program owns (kd_program_free), zeroed; NULL when out of memory. */
static void *own(kd_program *prog, size_t bytes) {
  if (prog->n_owned % 16 == 0) {
    void **grown = realloc(prog->owned, sizeof *grown * (prog->n_owned + 16));
    if (!grown) return NULL;
    prog->owned = grown;
  }
  void *block = calloc(bytes ? bytes : 1, 1);
  if (block) {
    prog->owned[prog->n_owned++] = block;
    prog->owned_bytes += bytes;
  }
  return block;
}

void kd_program_free(kd_program *prog) {
  for (size_t i = 0; i < prog->n_owned; ++i) free(prog->owned[i]);
  free(prog->owned);
  free(prog->call);
  prog->call = NULL;
  prog->owned = NULL;
  prog->n_owned = prog->owned_bytes = 0;
}

static kd_status no_memory(int chain, int s) {
  return kd_fail(KD_ENOMEM, "chain %d, stage %d: cannot allocate its features", chain, s);
}

/* v on a subset fit's features: v[index[i]] for the problem's, 0 for the pure noise. */
static double *gather(kd_program *prog, const kd_call *c, const double *v, double noise) {
  double *out = own(prog, sizeof(double) * c->p);
  if (!out) return NULL;
  for (size_t i = 0; i < c->p; ++i) out[i] = i < c->seen ? v[c->index[i]] : noise;
  return out;
}

/* A subset fit's features, spectra and target; `design`: the design's spectrum on the
 * problem's features. `seen` marks what it sees (p entries). */
static kd_status resolve_subset(kd_program *prog, const kd_problem *pr, const kd_plan *pl,
                                const kd_chain_stage *st, int s, int chain, kd_call *c,
                                const double *design, unsigned char *seen) {
  const size_t p = pr->p;
  const kd_features *f = &st->features;
  const kd_student_features *sf = &pl->pt.features;
  const int student = f->kind == KD_FEATURES_STUDENT;
  const size_t noise = student ? sf->noise : f->noise;
  const double noise_var = student ? sf->level : f->noise_var;
  size_t *index = own(prog, sizeof(size_t) * p);
  if (!index) return no_memory(chain, s);
  if (f->kind == KD_FEATURES_SUBSET) {
    c->seen = f->subset(pl, p, index);
  } else if (student) { /* the first s of the plan's order */
    if (!pl->order)
      return kd_fail(KD_EINVAL, "chain %d, stage %d: the student's features have no order",
                     chain, s);
    c->seen = sf->count ? sf->count : p;
    for (size_t j = 0; j < c->seen && j < p; ++j) index[j] = pl->order[j];
  } else { /* the first ones, before pure-noise features */
    c->seen = f->kind == KD_FEATURES_TOP_K ? pl->pt.k : p;
    for (size_t j = 0; j < c->seen && j < p; ++j) index[j] = j;
  }
  if (c->seen > p)
    return kd_fail(KD_EINVAL, "chain %d, stage %d: a subset of %zu of %zu features", chain, s,
                   c->seen, p);
  for (size_t i = 0; i < c->seen; ++i) {
    if (index[i] >= p || seen[index[i]])
      return kd_fail(KD_EINVAL, "chain %d, stage %d: subset entry %zu is feature %zu, %s", chain,
                     s, i, index[i], index[i] >= p ? "not one of the problem's" : "seen twice");
    seen[index[i]] = 1;
  }
  c->index = index;
  c->p = c->seen + noise;
  c->partial = c->seen < p;
  if (c->p == 0) return KD_OK; /* refused by the caller */
  if (noise && !(noise_var > 0 && noise_var <= KD_SCALE_MAX))
    return kd_fail(KD_EINVAL, "chain %d, stage %d: pure-noise features of variance %g "
                   "(expected a number above 0, at most %g)", chain, s, noise_var, KD_SCALE_MAX);
  c->lambda = gather(prog, c, design, noise_var);
  c->target = gather(prog, c, pr->beta, 0);
  if (design != pr->lambda) c->metric = gather(prog, c, pr->lambda, noise_var);
  if (!c->lambda || !c->target || (design != pr->lambda && !c->metric))
    return no_memory(chain, s);
  for (size_t j = 0; j < p; ++j)
    if (!seen[j]) c->dropped += pr->lambda[j] * pr->beta[j] * pr->beta[j];
  return KD_OK;
}

/* Label source lb as fit c's next label column: its coefficients on c's features and
 * its noise level. `seen` (NULL: c sees the first features) marks c's features. */
static kd_status resolve_source(kd_program *prog, const kd_problem *pr, const kd_plan *pl,
                                const kd_labels *lb, const double *design,
                                const unsigned char *seen, int chain, int s, kd_call *c) {
  const size_t p = pr->p, col = c->ncols++;
  double sigma = lb->noise == KD_NOISE_SIGMA     ? pr->sigma
                 : lb->noise == KD_NOISE_TEACHER ? pr->teacher_sigma
                                                 : lb->sigma;
  c->src[col] = (kd_call_source){.kind = lb->kind, .call = -1, .rhs = -1, .stage = lb->stage};
  const double *v = lb->kind == KD_LABELS_TRUTH       ? pr->beta
                    : lb->kind == KD_LABELS_SURROGATE ? lb->surrogate(pl)
                                                      : NULL;
  /* the unseen features' part of the labels is Gaussian noise independent of the seen
   * ones (diagonal design): drawn as such, the n x (p - k) block is never generated */
  if (v && seen) {
    double extra = 0;
    for (size_t j = 0; j < p; ++j)
      if (!seen[j]) extra += design[j] * v[j] * v[j];
    if (c->partial) sigma = sqrt(sigma * sigma + extra);
    v = gather(prog, c, v, 0);
    if (!v) return no_memory(chain, s);
  } else if (v && c->top_k) {
    sigma = sqrt(sigma * sigma + unseen(c->lambda, v, c->p, p));
  }
  c->src[col].vector = v;
  c->sigma[col] = sigma;
  return KD_OK;
}

size_t kd_mix_rows(double cum, size_t n) {
  return (size_t)fmin((double)llround(cum * (double)n), (double)n);
}

/* A mix by row fraction (kd_labels_mix) as fit c's label columns and its one right-hand
 * side's row blocks; the parts that label no row are left out, and a mix left with one
 * part is that part's labels, unmixed. */
static kd_status resolve_mix(kd_program *prog, const kd_problem *pr, const kd_plan *pl,
                             const kd_labels *lb, const double *design,
                             const unsigned char *seen, int chain, int s, kd_call *c) {
  const kd_labels_mix *given = lb->mix;
  if (!given || given->parts < 1 || given->parts > KD_MIX_BLOCKS)
    return kd_fail(KD_EINVAL, "chain %d, stage %d: a mix of %d parts (1 to %d)", chain, s,
                   given ? given->parts : 0, KD_MIX_BLOCKS);
  if (given->from_point && given->parts != 2)
    return kd_fail(KD_EINVAL, "chain %d, stage %d: a mix by the point's real fraction of %d "
                   "parts (2: the truth's, the rest's)", chain, s, given->parts);
  kd_labels_mix point_mix;
  const kd_labels_mix *mx = given;
  if (given->from_point) {
    point_mix = *given;
    point_mix.fraction[0] = pl->pt.real_fraction;
    point_mix.fraction[1] = 1 - pl->pt.real_fraction;
    mx = &point_mix;
  }
  double total = 0;
  for (int b = 0; b < mx->parts; ++b) {
    const double f = mx->fraction[b];
    if (!(isfinite(f) && f >= 0))
      return kd_fail(KD_EINVAL, "chain %d, stage %d: mix fraction %d is %g, expected a "
                     "number >= 0", chain, s, b, f);
    if (mx->part[b].kind == KD_LABELS_MIX)
      return kd_fail(KD_EINVAL, "chain %d, stage %d: mix part %d is itself a mix", chain, s, b);
    total += f;
  }
  if (!(fabs(total - 1) <= 1e-9))
    return kd_fail(KD_EINVAL, "chain %d, stage %d: mix fractions sum to %.17g, expected 1",
                   chain, s, total);
  c->ncols = 0;
  kd_row_mix *m = &c->mix[0];
  *m = (kd_row_mix){0};
  double cum = 0;
  size_t start = 0;
  for (int b = 0; b < mx->parts; ++b) {
    cum += mx->fraction[b];
    const size_t end = b == mx->parts - 1 ? c->n : kd_mix_rows(cum, c->n);
    if (end <= start) continue; /* no row of its own */
    kd_status rc = resolve_source(prog, pr, pl, &mx->part[b], design, seen, chain, s, c);
    if (rc != KD_OK) return rc;
    m->rows[m->blocks] = end - start;
    m->column[m->blocks++] = c->ncols - 1;
    start = end;
  }
  c->mixed = m->blocks > 1;
  return KD_OK;
}

/* An SGD stage (kd_solver.sgd) resolved alone: ridgeless on every feature of the
 * problem's design, its two label columns the point's curriculum's easy and hard samples'
 * (kd_sgd_labels), its one right-hand side along the stage's order. */
static kd_status resolve_sgd(kd_program *prog, const kd_problem *pr, const kd_plan *pl,
                             const kd_chain_stage *st, int chain, int s, kd_call *c) {
  const size_t p = pr->p;
  if (st->features.kind != KD_FEATURES_ALL || st->features.noise || st->spectrum)
    return kd_fail(KD_EINVAL, "chain %d, stage %d: an SGD stage sees every feature of the "
                   "problem's own design", chain, s);
  c->p = c->seen = p;
  c->ridge = 0;
  c->sgd = 1;
  c->cur = kd_plan_curriculum(pr, pl, c->n);
  kd_status rc = kd_curriculum_check(&c->cur, (int)st->solver.order);
  if (rc != KD_OK) return rc;
  double *src = own(prog, sizeof(double) * 2 * p);
  if (!src) return no_memory(chain, s);
  kd_sgd_labels(&c->cur, pr->beta, p, src, c->sigma);
  for (size_t q = 0; q < 2; ++q)
    c->src[q] = (kd_call_source){.kind = KD_LABELS_SURROGATE, .vector = src + q * p, .call = -1,
                                 .rhs = -1};
  c->ncols = 2;
  c->order[0] = st->solver.order;
  c->id = kd_stream_id(st->stream, s, c->n, p, p, 0);
  c->role = KD_STAGE_STUDENT;
  return KD_OK;
}

/* Stage s of a chain as a fit of its own, one right-hand side: one label column (src[0],
 * sigma[0]), or those of its mix (mix[0]). */
static kd_status resolve(kd_program *prog, const kd_problem *pr, const kd_plan *pl,
                         const kd_chain_stage *st, int s, int chain, kd_call *c) {
  const size_t p = pr->p;
  const kd_features *f = &st->features;
  *c = (kd_call){.nrhs = 1, .target = pr->beta, .lambda = pr->lambda};
  switch (st->samples.kind) {
    case KD_SAMPLES_N: c->n = pl->pt.n; break;
    case KD_SAMPLES_M: c->n = pl->pt.m; break;
    case KD_SAMPLES_FIXED: c->n = st->samples.count; break;
    case KD_SAMPLES_SCHEDULE: c->n = st->samples.schedule(&pl->pt, s); break;
  }
  c->ridge = st->solver.ridge == KD_RIDGE_STUDENT ? pl->pt.ridge
             : st->solver.ridge == KD_RIDGE_WEAK  ? pl->pt.weak_ridge
                                                  : st->solver.value;
  if (st->solver.sgd) return resolve_sgd(prog, pr, pl, st, chain, s, c);
  const double *design = st->spectrum ? st->spectrum(pl) : NULL;
  if (!design) design = pr->lambda;
  unsigned char *seen = NULL;
  c->top_k = f->kind == KD_FEATURES_TOP_K;
  if (f->kind == KD_FEATURES_SUBSET || f->kind == KD_FEATURES_STUDENT || f->noise > 0) {
    /* gathered copies */
    seen = calloc(p, 1);
    kd_status rc = seen ? resolve_subset(prog, pr, pl, st, s, chain, c, design, seen)
                        : no_memory(chain, s);
    if (rc != KD_OK) {
      free(seen);
      return rc;
    }
  } else { /* the first p features: the problem's own arrays */
    c->p = c->seen = c->top_k ? pl->pt.k : p;
    c->partial = c->top_k;
    if (design != pr->lambda) { /* another design; the risk stays the problem's */
      c->lambda = design;
      c->metric = pr->lambda;
    }
    if (c->top_k && c->p <= p) c->dropped = unseen(pr->lambda, pr->beta, c->p, p);
  }
  if (c->n == 0 || c->p == 0 || c->seen > p) {
    free(seen);
    return kd_fail(KD_EINVAL, "chain %d, stage %d: %zu samples of %zu features (p = %zu)", chain,
                   s, c->n, c->p, p);
  }
  c->id = kd_stream_id(st->stream, s, c->n, c->p, p, c->ridge);
  c->role = st->stream == KD_STREAM_WEAK ? KD_STAGE_WEAK : KD_STAGE_STUDENT;
  kd_status rc = st->labels.kind == KD_LABELS_MIX
                     ? resolve_mix(prog, pr, pl, &st->labels, design, seen, chain, s, c)
                     : resolve_source(prog, pr, pl, &st->labels, design, seen, chain, s, c);
  free(seen);
  return rc;
}

static int same_values(const double *a, const double *b, size_t len) {
  return a == b || (a && b && memcmp(a, b, sizeof(double) * len) == 0);
}

/* Two SGD fits of one curriculum (the same steps, budget, checkpoints, difficulty and
 * pace), which differ in their orders only. */
static int same_curriculum(const kd_call *a, const kd_call *b) {
  const kd_curriculum *x = &a->cur, *y = &b->cur;
  return x->difficulty == y->difficulty && x->pacing == y->pacing &&
         x->step.kind == y->step.kind && x->step.c == y->step.c && x->step.tau == y->step.tau &&
         x->n == y->n && x->budget == y->budget && x->checkpoints == y->checkpoints &&
         x->easy_fraction == y->easy_fraction && x->easy_sigma == y->easy_sigma &&
         x->hard_sigma == y->hard_sigma && x->sigma == y->sigma;
}

static int same_design(const kd_call *a, const kd_call *b) {
  if (a->sgd != b->sgd || (a->sgd && !same_curriculum(a, b))) return 0;
  return a->n == b->n && a->p == b->p && a->seen == b->seen && a->ridge == b->ridge &&
         a->id == b->id && a->role == b->role && a->top_k == b->top_k &&
         (a->index == b->index ||
          (a->index && b->index && memcmp(a->index, b->index, sizeof(size_t) * a->seen) == 0)) &&
         same_values(a->lambda, b->lambda, a->p) && same_values(a->metric, b->metric, a->p);
}

/* Label column r of fit a and column q of fit b are the same source and noise. */
static int same_column(const kd_call *a, size_t r, const kd_call *b, size_t q) {
  const kd_call_source *x = &a->src[r], *y = &b->src[q];
  return x->kind == y->kind && x->vector == y->vector && x->call == y->call &&
         x->rhs == y->rhs && a->sigma[r] == b->sigma[q];
}

static int same_mix(const kd_row_mix *a, const kd_row_mix *b) {
  int same = a->blocks == b->blocks;
  for (size_t i = 0; same && i < a->blocks; ++i)
    same = a->rows[i] == b->rows[i] && a->column[i] == b->column[i];
  return same;
}

/* The right-hand side of fit `call` that `one` (a stage resolved alone) adds to it, in
 * *r: its label columns found among the fit's or added to them; unmixed on an unmixed
 * fit, column r itself; otherwise a mix of the fit's columns, the fit's earlier
 * right-hand sides becoming one-block mixes of their own columns. */
static kd_status add_rhs(kd_call *call, const kd_call *one, size_t *r) {
  if (call->sgd) { /* the curriculum's two columns; a right-hand side per order */
    if (call->ncols == 0) {
      memcpy(call->src, one->src, sizeof one->src[0] * 2);
      memcpy(call->sigma, one->sigma, sizeof one->sigma[0] * 2);
      call->ncols = 2;
    }
    for (*r = 0; *r < call->nrhs && call->order[*r] != one->order[0]; ++*r) continue;
    if (*r == call->nrhs) call->order[call->nrhs++] = one->order[0]; /* at most KD_NORDERS */
    return KD_OK;
  }
  size_t cols[KD_MIX_BLOCKS];
  for (size_t q = 0; q < one->ncols; ++q) {
    size_t c = 0;
    while (c < call->ncols && !same_column(call, c, one, q)) ++c;
    if (c == call->ncols) {
      if (c == KD_CALL_RHS)
        return kd_fail(KD_EINVAL, "pipelines: more than %d label sources on one design",
                       KD_CALL_RHS);
      call->src[c] = one->src[q];
      call->sigma[c] = one->sigma[q];
      ++call->ncols;
    }
    cols[q] = c;
  }
  if (!call->mixed && !one->mixed) {
    *r = cols[0];
    call->nrhs = call->ncols;
    return KD_OK;
  }
  kd_row_mix want = {.blocks = 1, .rows = {one->n}, .column = {cols[0]}};
  if (one->mixed) {
    want = one->mix[0];
    for (size_t b = 0; b < want.blocks; ++b) want.column[b] = cols[want.column[b]];
  }
  if (!call->mixed) {
    for (size_t q = 0; q < call->nrhs; ++q)
      call->mix[q] = (kd_row_mix){.blocks = 1, .rows = {call->n}, .column = {q}};
    call->mixed = 1;
  }
  *r = 0;
  while (*r < call->nrhs && !same_mix(&call->mix[*r], &want)) ++*r;
  if (*r == call->nrhs) {
    if (*r == KD_CALL_RHS)
      return kd_fail(KD_EINVAL, "pipelines: more than %d right-hand sides on one design",
                     KD_CALL_RHS);
    call->mix[call->nrhs++] = want;
  }
  return KD_OK;
}

/* For a fit c learning from fit `from`: where each of c's features sits among from's
 * (NULL when both are the first features, in order). KD_EINVAL when `from` has a
 * feature c does not see, or pure noise: its labels would carry a part of that fit that
 * changes from trial to trial. */
static kd_status learn_from(kd_program *prog, const kd_call *from, const kd_call *c, int chain,
                            int s, const long **map) {
  *map = NULL;
  if (from->seen < from->p)
    return kd_fail(KD_EINVAL, "chain %d, stage %d learns from a fit on pure-noise features",
                   chain, s);
  if (!from->index && !c->index) {
    if (from->p > c->p)
      return kd_fail(KD_EINVAL, "chain %d, stage %d sees %zu features but learns from a fit "
                     "on %zu", chain, s, c->p, from->p);
    return KD_OK;
  }
  long *m = own(prog, sizeof(long) * c->p);
  if (!m) return no_memory(chain, s);
  size_t found = 0;
  for (size_t i = 0; i < c->p; ++i) {
    m[i] = -1;
    const size_t j = c->index ? c->index[i] : i;
    for (size_t k = 0; i < c->seen && k < from->p && m[i] < 0; ++k)
      if ((from->index ? from->index[k] : k) == j) m[i] = (long)k;
    found += m[i] >= 0;
  }
  if (found < from->p)
    return kd_fail(KD_EINVAL, "chain %d, stage %d learns from a fit on features it does not see",
                   chain, s);
  *map = m;
  return KD_OK;
}

/* Puts the fits in an order where each comes after those it reads (the lowest-numbered
 * ready fit first, so that independent fits keep the order they were met in). */
static kd_status order_calls(kd_program *prog) {
  int order[KD_PROGRAM_CALLS], rank[KD_PROGRAM_CALLS], done[KD_PROGRAM_CALLS] = {0};
  for (int placed = 0; placed < prog->ncalls; ++placed) {
    int next = -1;
    for (int c = 0; c < prog->ncalls && next < 0; ++c) {
      if (done[c]) continue;
      int ready = 1;
      for (size_t r = 0; r < prog->call[c].ncols; ++r) {
        int from = prog->call[c].src[r].call;
        if (from >= 0 && !done[from]) ready = 0;
      }
      if (ready) next = c;
    }
    if (next < 0)
      return kd_fail(KD_EINVAL, "pipelines: their stages share designs in an order that "
                                "cannot run (a fit would read itself)");
    done[next] = 1;
    order[placed] = next;
    rank[next] = placed;
  }
  kd_call *calls = malloc(sizeof(kd_call) * (prog->ncalls > 0 ? (size_t)prog->ncalls : 1));
  if (!calls) return kd_fail(KD_ENOMEM, "pipelines: cannot order %d fits", prog->ncalls);
  for (int i = 0; i < prog->ncalls; ++i) {
    calls[i] = prog->call[order[i]];
    for (size_t r = 0; r < calls[i].ncols; ++r)
      if (calls[i].src[r].call >= 0) calls[i].src[r].call = rank[calls[i].src[r].call];
  }
  memcpy(prog->call, calls, sizeof(kd_call) * (size_t)prog->ncalls);
  free(calls);
  for (int i = 0; i < prog->chains; ++i) {
    for (int s = 0; s < prog->length[i]; ++s) prog->stage_call[i][s] = rank[prog->stage_call[i][s]];
    prog->out_call[i] = rank[prog->out_call[i]];
  }
  return KD_OK;
}

int kd_program_uses(const kd_program *prog, int chain, int stage, int call) {
  for (int s = 0; s <= stage && s < prog->length[chain]; ++s)
    if (prog->stage_call[chain][s] == call) return 1;
  return 0;
}

/* A KD_STREAM_EXTEND stage (one resolved alone) takes the streams of the earlier stage it
 * extends: the same features and design, no fewer samples. */
static kd_status extend(const kd_program *prog, const kd_chain_stage *st, int chain, int s,
                        kd_call *one) {
  const int from = st->extends;
  if (from < 0 || from >= s)
    return kd_fail(KD_EINVAL, "chain %d, stage %d extends stage %d, not an earlier one", chain, s,
                   from);
  const kd_call *base = &prog->call[prog->stage_call[chain][from]];
  if (base->n > one->n || base->p != one->p || base->index || one->index ||
      !same_values(base->lambda, one->lambda, one->p))
    return kd_fail(KD_EINVAL, "chain %d, stage %d extends stage %d, whose design (%zu samples of "
                   "%zu features) is not its first rows", chain, s, from, base->n, base->p);
  one->id = base->id;
  one->role = base->role;
  return KD_OK;
}

kd_status kd_program_build(kd_program *prog, const kd_problem *pr, const kd_plan *pl,
                           const kd_chain *const *chains, int count) {
  memset(prog, 0, sizeof *prog); /* nothing owned yet */
  prog->cached = -1;
  if (count > KD_PROGRAM_CHAINS)
    return kd_fail(KD_EINVAL, "pipelines: %d chains, at most %d", count, KD_PROGRAM_CHAINS);
  prog->call = calloc(KD_PROGRAM_CALLS, sizeof *prog->call);
  if (!prog->call) return kd_fail(KD_ENOMEM, "pipelines: cannot allocate %d fits", KD_PROGRAM_CALLS);
  prog->chains = count;
  for (int i = 0; i < count; ++i) {
    const kd_chain *ch = chains[i];
    if (ch->length < 1 || ch->length > KD_CHAIN_MAX)
      return kd_fail(KD_EINVAL, "chain %d: %d stages (1 to %d)", i, ch->length, KD_CHAIN_MAX);
    for (int s = 0; s < ch->length; ++s) {
      const kd_chain_stage *st = &ch->stage[s];
      kd_call one;
      kd_status rc = resolve(prog, pr, pl, st, s, i, &one);
      if (rc == KD_OK && st->stream == KD_STREAM_EXTEND) rc = extend(prog, st, i, s, &one);
      if (rc != KD_OK) return rc;
      for (size_t q = 0; q < one.ncols; ++q) { /* the earlier fits it learns from */
        kd_call_source *src = &one.src[q];
        if (src->kind != KD_LABELS_STAGE) continue;
        const int from = src->stage;
        if (from < 0 || from >= s)
          return kd_fail(KD_EINVAL, "chain %d, stage %d: labels from stage %d, not an earlier one",
                         i, s, from);
        rc = learn_from(prog, &prog->call[prog->stage_call[i][from]], &one, i, s, &src->map);
        if (rc != KD_OK) return rc;
        src->call = prog->stage_call[i][from];
        src->rhs = prog->stage_rhs[i][from];
        prog->call[src->call].keep = 1;
      }
      int c = 0;
      while (c < prog->ncalls && !same_design(&prog->call[c], &one)) ++c;
      if (c == prog->ncalls) {
        if (c == KD_PROGRAM_CALLS)
          return kd_fail(KD_EINVAL, "pipelines: more than %d distinct fits", KD_PROGRAM_CALLS);
        prog->call[prog->ncalls++] = one;
        /* its right-hand side is added below, as on a shared design */
        prog->call[c].nrhs = prog->call[c].ncols = 0;
        prog->call[c].mixed = 0;
      }
      size_t r = 0;
      rc = add_rhs(&prog->call[c], &one, &r);
      if (rc != KD_OK) return rc;
      prog->stage_call[i][s] = c;
      prog->stage_rhs[i][s] = (int)r;
      prog->length[i] = s + 1;
    }
    prog->out_call[i] = prog->stage_call[i][ch->length - 1];
    prog->out_rhs[i] = prog->stage_rhs[i][ch->length - 1];
  }
  kd_status rc = order_calls(prog);
  if (rc != KD_OK) return rc;
  for (int c = 0; c < prog->ncalls && prog->cached < 0; ++c) {
    const kd_call *call = &prog->call[c];
    int truth = 1;
    for (size_t r = 0; r < call->ncols; ++r) truth &= call->src[r].kind == KD_LABELS_TRUTH;
    if (call->role == KD_STAGE_WEAK && truth && !call->index) prog->cached = c;
  }
  if (prog->cached >= 0) prog->call[prog->cached].keep = 1;
  return KD_OK;
}

/* ---- running it ---------------------------------------------------------------------------- */

/* doubles and ints of fit c's buffers per trial */
static size_t doubles_per_trial(const kd_call *c) {
  return c->p * c->ncols + (c->keep ? c->p * c->nrhs : 0) + c->nrhs * kd_call_risks(c);
}

size_t kd_trial_ws_bytes(const kd_program *prog, size_t batch) {
  size_t doubles = 0;
  if (batch == 0) batch = 1;
  for (int c = 0; c < prog->ncalls; ++c) doubles += doubles_per_trial(&prog->call[c]);
  return batch * (sizeof(kd_stage) + sizeof(double) * doubles +
                  sizeof(int) * (size_t)prog->ncalls);
}

kd_status kd_trial_ws_init(kd_trial_ws *ws, const kd_program *prog, size_t batch) {
  memset(ws, 0, sizeof *ws);
  ws->given = -1;
  if (batch == 0) batch = 1;
  ws->batch = batch;
  size_t doubles = 0;
  for (int c = 0; c < prog->ncalls; ++c) doubles += doubles_per_trial(&prog->call[c]);
  ws->stages = malloc(sizeof *ws->stages * batch);
  ws->block = malloc(sizeof(double) * (doubles ? doubles : 1) * batch);
  ws->flags = malloc(sizeof(int) * (size_t)(prog->ncalls ? prog->ncalls : 1) * batch);
  if (!ws->stages || !ws->block || !ws->flags) {
    kd_trial_ws_free(ws);
    return kd_fail(KD_ENOMEM, "cannot allocate the buffers of %zu trials", batch);
  }
  double *at = ws->block;
  for (int c = 0; c < prog->ncalls; ++c) {
    const kd_call *call = &prog->call[c];
    ws->src[c] = at;
    at += batch * call->p * call->ncols;
    if (call->keep) {
      ws->hat[c] = at;
      at += batch * call->p * call->nrhs;
    }
    ws->risk[c] = at;
    at += batch * call->nrhs * kd_call_risks(call);
    ws->fallback[c] = ws->flags + (size_t)c * batch;
  }
  return KD_OK;
}

void kd_trial_ws_free(kd_trial_ws *ws) {
  free(ws->stages);
  free(ws->block);
  free(ws->flags);
  memset(ws, 0, sizeof *ws);
  ws->given = -1;
}

/* Trial i's label columns of fit c: the fixed vectors, or an earlier fit's
 * coefficients on its features, zero on the others. */
static void fill_sources(const kd_program *prog, const kd_call *c, size_t i, kd_trial_ws *ws,
                         double *src) {
  for (size_t r = 0; r < c->ncols; ++r, src += c->p) {
    const kd_call_source *s = &c->src[r];
    if (s->call < 0) {
      memcpy(src, s->vector, sizeof(double) * c->p);
      continue;
    }
    const kd_call *from = &prog->call[s->call];
    const double *hat = ws->hat[s->call] + (i * from->nrhs + (size_t)s->rhs) * from->p;
    if (s->map) {
      for (size_t j = 0; j < c->p; ++j) src[j] = s->map[j] >= 0 ? hat[s->map[j]] : 0;
      continue;
    }
    memcpy(src, hat, sizeof(double) * from->p);
    memset(src + from->p, 0, sizeof(double) * (c->p - from->p));
  }
}

kd_status kd_program_run(kd_backend *be, const kd_program *prog, uint64_t seed, uint32_t first,
                         uint32_t count, kd_trial_ws *ws) {
  if (count > ws->batch)
    return kd_fail(KD_EINVAL, "%u trials in buffers of %zu", count, ws->batch);
  for (int ci = 0; ci < prog->ncalls; ++ci) {
    if (ci == ws->given) continue;
    const kd_call *c = &prog->call[ci];
    const size_t width = c->p * c->nrhs, risks = c->nrhs * kd_call_risks(c);
    const kd_sgd sgd = {.cur = &c->cur, .orders = c->order}; /* read by SGD fits only */
    for (uint32_t i = 0; i < count; ++i) {
      double *src = ws->src[ci] + (size_t)i * c->p * c->ncols;
      fill_sources(prog, c, i, ws, src);
      ws->stages[i] = (kd_stage){
          .n = c->n, .p = c->p, .lambda = c->lambda, .ridge = c->ridge, .k = c->nrhs,
          .sources = src, .sigma = c->sigma, .mix = c->mixed ? c->mix : NULL,
          .columns = c->ncols, .target = c->target, .metric = c->metric,
          .design = {seed, c->id, first + i, c->role | KD_PURPOSE_DESIGN},
          .noise = {seed, c->id, first + i, c->role | KD_PURPOSE_NOISE},
          .sgd = c->sgd ? &sgd : NULL,
          .risk = ws->risk[ci] + (size_t)i * risks,
          .beta_hat = c->keep ? ws->hat[ci] + (size_t)i * width : NULL};
    }
    kd_status s = count == 1 ? kd_stage_run(be, ws->stages)
                             : kd_stage_run_batch(be, ws->stages, count);
    if (s != KD_OK) return s;
    for (uint32_t i = 0; i < count; ++i) {
      if (c->partial) /* the signal of the features it did not see */
        for (size_t r = 0; r < c->nrhs; ++r) ws->risk[ci][(size_t)i * c->nrhs + r] += c->dropped;
      ws->fallback[ci][i] = ws->stages[i].fallback;
    }
  }
  return KD_OK;
}
