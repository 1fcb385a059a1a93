/* A table as a booktabs LaTeX float (table, or table* across both columns): caption
 * and label, the tabular set in a box first and, when that box is wider than the line,
 * scaled down to \linewidth (\resizebox, where graphicx is loaded; without it the box
 * is set as it is, and LaTeX warns of the overfull line), the group headers over their
 * columns with \cmidrule, the notes in a minipage below. It needs \usepackage{booktabs} (and graphicx for the
 * scaling); every text from the table goes through kd_tex_escape and numbers are in
 * math mode, bold ones in \mathbf. A pair column is two tabular columns, r@{\,}l, so
 * that the ± signs (or a range's two ends) line up. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kdbench/escape.h"
#include "internal.h"

static int shown(const kd_column *c) { return !c->formats || (c->formats & KD_TABLE_TEX); }

static int width(const kd_column *c) { return c->pair ? 2 : 1; }

/* Cells are joined by " &"; one with something in it is preceded by a space. */
static void open_cell(FILE *out, int *first) {
  if (!*first) fputs(" & ", out);
  *first = 0;
}

static void empty_cell(FILE *out, int *first) {
  if (!*first) fputs(" &", out);
  *first = 0;
}

/* A number in math mode (without the $), bold or not. */
static void number(FILE *out, const char *s, int bold) {
  if (bold) fputs("\\mathbf{", out);
  kd_tex_number(out, s);
  if (bold) fputc('}', out);
}

static void cell(FILE *out, const kd_column *col, const kd_cell *c, int *first) {
  const char *mark = c->mark ? c->mark->tex : "";
  const int bold = c->bold;
  char a[64], b[64];
  kd_table_number(col, c->x, 0, a, sizeof a);
  kd_table_number(col, c->y, c->kind == KD_CELL_PM, b, sizeof b);
  open_cell(out, first);
  switch (c->kind) {
    case KD_CELL_NONE: fputs("---", out); break;
    case KD_CELL_TEXT:
      if (c->tex)
        fputs(c->tex, out);
      else
        kd_tex_escape(out, c->text);
      break;
    case KD_CELL_NUMBER:
      fputc('$', out);
      number(out, a, bold);
      fprintf(out, "%s$", mark);
      break;
    case KD_CELL_PM: /* the mark goes with the interval */
      fputc('$', out);
      number(out, a, bold);
      fputc('$', out);
      if (isnan(c->y)) {
        empty_cell(out, first);
      } else {
        open_cell(out, first);
        fputs("${}\\pm ", out);
        number(out, b, bold);
        fprintf(out, "%s$", mark);
      }
      return;
    case KD_CELL_RANGE:
      fputs("$[", out);
      number(out, a, bold);
      fputs(",$", out);
      open_cell(out, first);
      fputc('$', out);
      number(out, b, bold);
      fprintf(out, "]%s$", mark);
      return;
  }
  if (col->pair) empty_cell(out, first);
}

static void head(FILE *out, const kd_column *c) {
  if (c->tex_head)
    fputs(c->tex_head, out);
  else
    kd_tex_escape(out, c->head);
}

static int same_group(const kd_column *a, const kd_column *b) {
  return a->group && b->group && !strcmp(a->group, b->group);
}

/* Column i has a group and the shown column before it another one (or none). */
static int starts_group(const kd_table *t, size_t i) {
  if (!t->cols[i].group) return 0;
  for (size_t j = i; j-- > 0;)
    if (shown(&t->cols[j])) return !same_group(&t->cols[j], &t->cols[i]);
  return 1;
}

/* The tabular columns of the group that starts at column i. */
static int group_width(const kd_table *t, size_t i) {
  int w = 0;
  for (size_t j = i; j < t->ncols && (same_group(&t->cols[j], &t->cols[i]) || !shown(&t->cols[j]));
       ++j)
    if (shown(&t->cols[j])) w += width(&t->cols[j]);
  return w;
}

/* The row of group headers and their rules, where any column has a group. */
static void group_rows(const kd_table *t, FILE *out) {
  int any = 0, first = 1, col = 1;
  for (size_t i = 0; i < t->ncols; ++i) any |= shown(&t->cols[i]) && t->cols[i].group;
  if (!any) return;
  for (size_t i = 0; i < t->ncols; ++i) {
    const kd_column *c = &t->cols[i];
    if (!shown(c)) continue;
    if (!c->group) {
      for (int k = 0; k < width(c); ++k) empty_cell(out, &first);
    } else if (starts_group(t, i)) {
      open_cell(out, &first);
      fprintf(out, "\\multicolumn{%d}{c}{", group_width(t, i));
      kd_tex_escape(out, c->group);
      fputc('}', out);
    }
  }
  fputs(" \\\\\n", out);
  for (size_t i = 0; i < t->ncols; ++i) {
    if (!shown(&t->cols[i])) continue;
    if (starts_group(t, i))
      fprintf(out, "\\cmidrule(lr){%d-%d}", col, col + group_width(t, i) - 1);
    col += width(&t->cols[i]);
  }
  fputc('\n', out);
}

static void tabular_head(const kd_table *t, FILE *out) {
  int first = 1;
  fputs("\\begin{tabular}{", out);
  for (size_t i = 0; i < t->ncols; ++i)
    if (shown(&t->cols[i]))
      fputs(t->cols[i].pair ? "r@{\\,}l" : t->cols[i].align == KD_LEFT ? "l" : "r", out);
  fputs("}\n\\toprule\n", out);
  group_rows(t, out);
  for (size_t i = 0; i < t->ncols; ++i) {
    const kd_column *c = &t->cols[i];
    if (!shown(c)) continue;
    open_cell(out, &first);
    if (c->pair) fputs("\\multicolumn{2}{c}{", out);
    head(out, c);
    if (c->pair) fputc('}', out);
  }
  fputs(" \\\\\n\\midrule\n", out);
}

/* The box the tabular is set in before its width is known (allocated once per document). */
static const char *const box = "\\kdbenchtablebox";

kd_status kd_table_write_tex(const kd_table *t, FILE *out) {
  if (t->st) return t->st;
  const char *env = t->tex_wide ? "table*" : "table";
  fprintf(out, "\\begin{%s}[%s]\n\\centering\n\\small\n\\caption{", env,
          t->tex_wide ? "tbp" : "htbp");
  if (t->caption[2]) fputs(t->caption[2], out);
  fputs("}\n", out);
  if (t->label) fprintf(out, "\\label{%s}\n", t->label);
  fprintf(out,
          "\\footnotesize\n\\setlength{\\tabcolsep}{3pt}\n"
          "\\ifdefined%s\\else\\newsavebox{%s}\\fi\n\\sbox{%s}{%%\n",
          box, box, box);
  tabular_head(t, out);
  for (size_t r = 0; r < kd_table_rows(t); ++r) {
    int first = 1;
    for (size_t i = 0; i < t->ncols; ++i)
      if (shown(&t->cols[i])) cell(out, &t->cols[i], &t->cells[r * t->ncols + i], &first);
    fputs(" \\\\\n", out);
  }
  fprintf(out, "\\bottomrule\n\\end{tabular}}%%\n\\ifdim\\wd%s>\\linewidth\n"
          "\\ifdefined\\resizebox\\resizebox{\\linewidth}{!}{\\usebox{%s}}"
          "\\else\\usebox{%s}\\fi\n"
          "\\else\\usebox{%s}\\fi\n", box, box, box, box);
  if (t->nnotes[2]) {
    fputs("\\par\\smallskip\n\\begin{minipage}{\\linewidth}\n", out);
    for (size_t i = 0; i < t->nnotes[2]; ++i) fprintf(out, "%s\\par\n", t->notes[2][i]);
    fputs("\\end{minipage}\n", out);
  }
  fprintf(out, "\\end{%s}\n", env);
  return KD_OK;
}
