/* The curriculum pipeline's settings (include/kdbench/curriculum_settings.h): parsed
 * once into the config's kd_curriculum and order list, printed back from them. */
#include "kdbench/curriculum_settings.h"

#include <math.h>
#include <string.h>

#include "kdbench/number.h"
#include "kdbench/pipeline.h"

static const char *const NAMES[] = {"difficulty", "order",      "pacing",     "step",      "budget",
                                    "checkpoints", "easy-fraction", "easy-sigma", "hard-sigma"};

int kd_curriculum_setting(const char *name) {
  for (size_t i = 0; i < sizeof NAMES / sizeof *NAMES; ++i)
    if (!strcmp(name, NAMES[i])) return 1;
  return 0;
}

/* The block as a run without any of these settings has it (pipeline_curriculum.c's
 * defaults): filled in before the first of them is set. */
static void defaults(kd_pipe_opts *o) {
  const kd_curriculum d = KD_CURRICULUM_DEFAULTS;
  o->curriculum = d;
  o->orders = KD_NORDERS;
  for (int i = 0; i < KD_NORDERS; ++i) o->order[i] = (kd_order)i;
}

/* "curriculum,anti,random": each an order, none twice. */
static kd_status set_orders(kd_pipe_opts *c, const char *text) {
  kd_order order[KD_NORDERS];
  int count = 0;
  const char *s = text;
  for (;;) {
    const size_t len = strcspn(s, ",");
    kd_order o;
    if (len == 0) return kd_fail(KD_EINVAL, "--order: empty entry in '%s'", text);
    kd_status rc = kd_order_parse(s, len, &o);
    if (rc != KD_OK) return kd_fail(KD_EINVAL, "--order: %s", kd_last_error());
    for (int i = 0; i < count; ++i)
      if (order[i] == o) return kd_fail(KD_EINVAL, "--order: '%s' given twice", kd_order_name(o));
    order[count++] = o;
    if (!s[len]) break;
    s += len + 1;
  }
  memcpy(c->order, order, sizeof order);
  c->orders = count;
  return KD_OK;
}

static kd_status whole(const char *name, const char *text, size_t *out) {
  uint64_t x = 0;
  kd_num r = kd_whole_parse(text, &x);
  if (r != KD_NUM_OK || x < 1 || x > SIZE_MAX)
    return kd_fail(KD_EINVAL, "--%s: expected a positive integer, got '%s'%s", name, text,
                   kd_num_why(r));
  *out = (size_t)x;
  return KD_OK;
}

/* A number in [lo, hi]. */
static kd_status number(const char *name, const char *text, double lo, double hi, double *out) {
  double x = 0;
  kd_num r = kd_number_parse(text, &x);
  if (r != KD_NUM_OK || !(x >= lo && x <= hi))
    return kd_fail(KD_EINVAL, "--%s: expected a number from %g to %g, got '%s'%s", name, lo, hi,
                   text, kd_num_why(r));
  *out = x;
  return KD_OK;
}

kd_status kd_curriculum_set(kd_config *c, const char *name, const char *text) {
  kd_pipe_opts *o = &c->pipe_opts;
  if (o->orders == 0) defaults(o);
  kd_curriculum *cu = &o->curriculum;
  if (!strcmp(name, "order")) return set_orders(o, text);
  kd_status rc = KD_OK;
  if (!strcmp(name, "difficulty")) rc = kd_difficulty_parse(text, &cu->difficulty);
  else if (!strcmp(name, "pacing")) rc = kd_pacing_parse(text, &cu->pacing);
  else if (!strcmp(name, "step")) rc = kd_step_parse(text, &cu->step);
  if (rc != KD_OK && strncmp(kd_last_error(), "--", 2) != 0)
    return kd_fail(rc, "--%s: %s", name, kd_last_error());
  if (!strcmp(name, "difficulty") || !strcmp(name, "pacing") || !strcmp(name, "step")) return rc;
  if (!strcmp(name, "budget")) {
    if (!strcmp(text, "all")) {
      cu->budget = 0;
      return KD_OK;
    }
    return whole(name, text, &cu->budget);
  }
  if (!strcmp(name, "checkpoints")) return whole(name, text, &cu->checkpoints);
  if (!strcmp(name, "easy-fraction")) return number(name, text, 0, 1, &cu->easy_fraction);
  if (!strcmp(name, "easy-sigma")) return number(name, text, 0, KD_SIGMA_MAX, &cu->easy_sigma);
  if (!strcmp(name, "hard-sigma")) return number(name, text, 0, KD_SIGMA_MAX, &cu->hard_sigma);
  return kd_fail(KD_EINVAL, "unknown setting '%s'", name);
}

void kd_curriculum_print(const kd_config *c, FILE *out) {
  kd_pipe_opts d = c->pipe_opts;
  if (d.orders == 0) defaults(&d);
  const kd_pipe_opts *o = &d;
  const kd_curriculum *cu = &o->curriculum;
  char a[KD_NUMBER_TEXT_LEN], b[KD_NUMBER_TEXT_LEN];
  fprintf(out, "\n[curriculum]\ndifficulty = %s\norder = ", kd_difficulty_name(cu->difficulty));
  for (int i = 0; i < o->orders; ++i) fprintf(out, "%s%s", i ? "," : "", kd_order_name(o->order[i]));
  fprintf(out, "\npacing = %s\n", kd_pacing_name(cu->pacing));
  kd_number_text(cu->step.c, a);
  if (cu->step.kind == KD_STEP_DECAY) {
    kd_number_text(cu->step.tau, b);
    fprintf(out, "step = decay:%s,%s\n", a, b);
  } else {
    fprintf(out, "step = constant:%s\n", a);
  }
  if (cu->budget) fprintf(out, "budget = %zu\n", cu->budget);
  else fputs("budget = all\n", out);
  fprintf(out, "checkpoints = %zu\n", cu->checkpoints);
  kd_number_text(cu->easy_fraction, a);
  fprintf(out, "easy-fraction = %s\n", a);
  kd_number_text(cu->easy_sigma, a);
  kd_number_text(cu->hard_sigma, b);
  fprintf(out, "easy-sigma = %s\nhard-sigma = %s\n", a, b);
}
