/* A table as aligned text: every column padded to its width (right or left aligned)
 * after its separator, the caption before the header, the notes after the rows. */
#include <stdio.h>

#include "internal.h"

static int shown(const kd_column *c) { return !c->formats || (c->formats & KD_TABLE_TEXT); }

static void cell_text(const kd_column *col, const kd_cell *c, char *out, size_t len) {
  char a[64], b[64];
  const char *mark = c->mark ? c->mark->text : "";
  kd_table_number(col, c->x, 0, a, sizeof a);
  kd_table_number(col, c->y, c->kind == KD_CELL_PM, b, sizeof b);
  switch (c->kind) {
    case KD_CELL_NONE: snprintf(out, len, "-"); break;
    case KD_CELL_TEXT: snprintf(out, len, "%s", c->text); break;
    case KD_CELL_NUMBER: snprintf(out, len, "%s%s", a, mark); break;
    case KD_CELL_PM: snprintf(out, len, "%s +- %s%s", a, b, mark); break;
    case KD_CELL_RANGE: snprintf(out, len, "[%s, %s]%s", a, b, mark); break;
  }
}

/* One line: the header (row NULL) or a row's cells. */
static void line(const kd_table *t, const kd_cell *row, FILE *out) {
  int first = 1;
  for (size_t i = 0; i < t->ncols; ++i) {
    const kd_column *c = &t->cols[i];
    char s[512];
    if (!shown(c)) continue;
    if (row)
      cell_text(c, &row[i], s, sizeof s);
    else
      snprintf(s, sizeof s, "%s", c->head);
    if (!first) fputs(c->sep ? c->sep : " ", out);
    first = 0;
    fprintf(out, c->align == KD_LEFT ? "%-*s" : "%*s", c->width, s);
  }
  fputc('\n', out);
}

void kd_table_text_head(const kd_table *t, FILE *out) {
  if (t->caption[0]) fputs(t->caption[0], out);
  line(t, NULL, out);
}

void kd_table_text_rows(const kd_table *t, FILE *out) {
  for (size_t r = 0; r < kd_table_rows(t); ++r) line(t, &t->cells[r * t->ncols], out);
}

void kd_table_text_notes(const kd_table *t, FILE *out) {
  for (size_t i = 0; i < t->nnotes[0]; ++i) fprintf(out, "%s\n", t->notes[0][i]);
}

kd_status kd_table_write_text(const kd_table *t, FILE *out) {
  if (t->st) return t->st;
  kd_table_text_head(t, out);
  kd_table_text_rows(t, out);
  kd_table_text_notes(t, out);
  return KD_OK;
}
