/* The Markdown notes of what computed a run, which the run's table and the tables of
 * several rows a point both give (whichever comes first). */
#include "internal.h"

void kd_report_backend_notes(const kd_report *r, kd_table *t) {
  const kd_report_meta *m = &r->meta;
  if (m->backend_description) kd_table_note(t, KD_TABLE_MD, "Backend: %s.", m->backend_description);
  if (m->earlier) kd_table_note(t, KD_TABLE_MD, "Computed earlier and resumed: %s.", m->earlier);
}
