/* The table of a fit's slopes against the generation (kd_fit_steps, the pipelines with
 * several rows at a point), in all three formats: kdbench fit prints its text
 * (report_fit_text.c), the report its Markdown and LaTeX (report_fit.c). */
#include <string.h>

#include "internal.h"

enum { MD = KD_TABLE_MD, TEX = KD_TABLE_TEX };

void kd_report_steps_fit_table(const kd_fit_result *f, kd_table *t) {
  static const kd_mark mark_t = {" t", " (t)", "^{t}"};
  t->nan_none = 1;
  static const char *const heads[] = {"pipeline", "schedule", "n", "p", "generations"};
  for (int i = 0; i < 5; ++i)
    kd_table_column(t, &(kd_column){.head = heads[i], .align = i < 2 ? KD_LEFT : KD_RIGHT,
                                    .fmt = "%.0f", .width = i < 2 ? 12 : 6, .sep = "  "});
  kd_table_column(t, &(kd_column){.head = "slope", .fmt = "%.4g", .width = 10, .sep = "  "});
  kd_table_column(t, &(kd_column){.head = "95% CI", .tex_head = "95\\,\\% CI", .fmt = "%.4g",
                                  .width = 20, .sep = "  ", .pair = 1});
  kd_table_column(t, &(kd_column){.head = "theory slope", .fmt = "%.4g", .width = 12,
                                  .sep = "  "});
  for (size_t i = 0; i < f->nsteps; ++i) {
    const kd_fit_steps *s = &f->steps[i];
    kd_table_text(t, s->pipeline, NULL);
    kd_table_text(t, s->group, NULL);
    kd_table_num(t, (double)s->n, NULL);
    kd_table_num(t, (double)s->p, NULL);
    kd_table_num(t, s->steps, NULL);
    kd_table_num(t, s->slope, NULL);
    kd_table_range(t, s->ci_low, s->ci_high, strcmp(s->ci_kind, "t") ? NULL : &mark_t);
    kd_table_num(t, s->theory_slope, NULL);
  }
  kd_table_caption(t, KD_TABLE_TEXT,
                   "# slopes: least-squares slope of the mean risk against the generation, "
                   "1 .. G, with its 95%% CI over trials (t: the regression's t-interval, "
                   "without per-trial risks)\n");
  kd_table_caption(t, MD,
                   "\n### Slopes against the generation\n\nLeast-squares slope of the mean risk "
                   "against the generation 1 .. G, per schedule and point, with its 95 %% "
                   "interval from the per-trial slopes (t: the regression's t-interval, without "
                   "per-trial risks), beside the same slope of the theory.\n\n");
  kd_table_caption(t, TEX,
                   "Slopes of the mean risk against the generation $g = 1, \\dots, G$ (least "
                   "squares), with their 95\\,\\%% interval from the per-trial slopes, beside "
                   "the slope of the theory.");
}
