/* A table as GitHub-flavoured Markdown: the caption (Markdown source) before it, a
 * header row and an alignment row, one row per table row, the notes as "- " items
 * after a blank line; a bold cell's value as **value**. Every text from the table goes
 * through kd_md_escape. */
#include <math.h>
#include <stdio.h>

#include "kdbench/escape.h"
#include "internal.h"

static int shown(const kd_column *c) { return !c->formats || (c->formats & KD_TABLE_MD); }

static void number(FILE *out, const kd_column *col, double x, int ci) {
  char s[64];
  if (col->md_infinity && isinf(x)) {
    fputs(x > 0 ? "∞" : "−∞", out);
    return;
  }
  kd_table_number(col, x, ci, s, sizeof s);
  fputs(s, out);
}

static int bold(const kd_cell *c) { return c->bold && c->kind != KD_CELL_NONE && c->kind != KD_CELL_TEXT; }

static void cell(FILE *out, const kd_column *col, const kd_cell *c) {
  fputs(bold(c) ? " **" : " ", out);
  switch (c->kind) {
    case KD_CELL_NONE: fputs("—", out); break;
    case KD_CELL_TEXT: kd_md_escape(out, c->text); break;
    case KD_CELL_NUMBER: number(out, col, c->x, 0); break;
    case KD_CELL_PM:
      number(out, col, c->x, 0);
      if (!isnan(c->y)) {
        fputs(" ± ", out);
        number(out, col, c->y, 1);
      }
      break;
    case KD_CELL_RANGE:
      fputc('[', out);
      number(out, col, c->x, 0);
      fputs(", ", out);
      number(out, col, c->y, 0);
      fputc(']', out);
      break;
  }
  if (bold(c)) fputs("**", out);
  if (c->kind != KD_CELL_NONE && c->mark) fputs(c->mark->md, out);
  fputs(" |", out);
}

kd_status kd_table_write_md(const kd_table *t, FILE *out) {
  if (t->st) return t->st;
  if (t->caption[1]) fputs(t->caption[1], out);
  fputc('|', out);
  for (size_t i = 0; i < t->ncols; ++i)
    if (shown(&t->cols[i])) {
      fputc(' ', out);
      kd_md_escape(out, t->cols[i].head);
      fputs(" |", out);
    }
  fputs("\n|", out);
  for (size_t i = 0; i < t->ncols; ++i)
    if (shown(&t->cols[i])) fputs(t->cols[i].align == KD_LEFT ? ":---|" : "---:|", out);
  fputc('\n', out);
  for (size_t r = 0; r < kd_table_rows(t); ++r) {
    fputc('|', out);
    for (size_t i = 0; i < t->ncols; ++i)
      if (shown(&t->cols[i])) cell(out, &t->cols[i], &t->cells[r * t->ncols + i]);
    fputc('\n', out);
  }
  if (t->nnotes[1]) fputc('\n', out);
  for (size_t i = 0; i < t->nnotes[1]; ++i) fprintf(out, "- %s\n", t->notes[1][i]);
  return KD_OK;
}
