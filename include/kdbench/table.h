/* A table as data, and three views of it: columns (header, alignment, number format),
 * rows of typed cells (text, a number, a value ± interval, a range, not available,
 * each with an optional mark), a caption and notes. The emitters print it as aligned
 * text (the live table of a sweep, `kdbench fit`), GitHub-flavoured Markdown and a
 * booktabs LaTeX float (`kdbench report`): every table of kdbench is built once and
 * printed by these, which alone know each format's syntax and escapes. */
#ifndef KDBENCH_TABLE_H
#define KDBENCH_TABLE_H

#include <stddef.h>
#include <stdio.h>

#include "kdbench/status.h"

/* The formats, as bits (a column, a caption or a note may be for some of them only). */
enum { KD_TABLE_TEXT = 1u << 0, KD_TABLE_MD = 1u << 1, KD_TABLE_TEX = 1u << 2 };

typedef enum { KD_RIGHT, KD_LEFT } kd_align;

/* A column (kd_table_column keeps copies of head, tex_head and group; the formats and
 * the separator are string literals). */
typedef struct {
  const char *head;     /* the header (escaped in Markdown and LaTeX) */
  const char *tex_head; /* the header as LaTeX source (NULL: head) */
  const char *group;    /* LaTeX: a header over the consecutive columns of one group */
  kd_align align;
  /* Numbers: printf's `fmt` (a double: "%.5g", "%.0f") or, without one, `digits`
   * significant digits (kd_fmt_digits); ci_fmt / ci_digits for the ± part. */
  const char *fmt, *ci_fmt;
  int digits, ci_digits;
  int pair;        /* LaTeX: two columns r@{\,}l (value & ± interval, [low, & high]) */
  int md_infinity; /* Markdown: infinities as ∞ and −∞ (else "inf", "-inf") */
  int width;       /* text: the column's width (a longer cell pushes the rest right) */
  const char *sep; /* text: what comes before it (NULL: one space; none before the first) */
  unsigned formats; /* the formats it appears in (0: all) */
} kd_column;

/* What follows a value, in each format: "‡" in Markdown is ^{\ddagger} in LaTeX. */
typedef struct {
  const char *text, *md, *tex;
} kd_mark;
extern const kd_mark kd_mark_dagger, kd_mark_ddagger;

typedef enum { KD_CELL_NONE, KD_CELL_TEXT, KD_CELL_NUMBER, KD_CELL_PM, KD_CELL_RANGE } kd_cell_kind;

/* NONE: not available ("-", "—", "---"). TEXT: text (tex: LaTeX source instead of the
 * escaped text). NUMBER: x. PM: x ± y (Markdown and LaTeX leave out ± y when y is
 * NaN; LaTeX puts the mark on the ± part). RANGE: [x, y]. A bold cell's numbers are
 * bold in Markdown (**...**) and LaTeX (\mathbf); the text table ignores it. */
typedef struct {
  kd_cell_kind kind;
  double x, y;
  char *text, *tex;
  const kd_mark *mark;
  int bold;
} kd_cell;

typedef struct {
  kd_column *cols;
  size_t ncols;
  kd_cell *cells; /* row after row, ncols each */
  size_t ncells, cap;
  int nan_none;    /* a NaN number, ± value or range is not available (NONE) */
  char *caption[3]; /* by format (bit index): text lines before the header, Markdown
                       before the table, LaTeX the \caption */
  char **notes[3];  /* text: lines after the rows; Markdown: "- " items; LaTeX: \par lines */
  size_t nnotes[3];
  char *label; /* LaTeX \label */
  int tex_wide; /* LaTeX: a table* float, across both columns of a two-column page */
  kd_status st; /* the first failure (out of memory): the emitters return it */
} kd_table;

void kd_table_init(kd_table *t);
void kd_table_free(kd_table *t);
/* Columns are added before any cell. */
void kd_table_column(kd_table *t, const kd_column *c);
/* Cells, left to right, row after row (a row has one cell per column). */
void kd_table_none(kd_table *t);
void kd_table_text(kd_table *t, const char *text, const char *tex);
void kd_table_num(kd_table *t, double x, const kd_mark *mark);
void kd_table_pm(kd_table *t, double x, double y, const kd_mark *mark);
void kd_table_range(kd_table *t, double lo, double hi, const kd_mark *mark);
/* The last cell added is bold (a number, a ± value or a range). */
void kd_table_bold(kd_table *t);
size_t kd_table_rows(const kd_table *t);
void kd_table_clear_rows(kd_table *t);

/* Appended to the caption, or a new note, of each format in `formats`: printf's
 * format, where a %s argument is escaped for the format (Markdown, LaTeX: its width
 * and precision then do not apply) and the format's own text is that format's source. */
void kd_table_caption(kd_table *t, unsigned formats, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
void kd_table_note(kd_table *t, unsigned formats, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
/* Appended to the caption of each format in `formats` as it is: that format's source. */
void kd_table_caption_source(kd_table *t, unsigned formats, const char *source);
void kd_table_label(kd_table *t, const char *label);

/* The emitters (host/base/table_text.c, table_md.c, table_tex.c). The text table prints in
 * pieces too, for a live table: the caption and header, then rows as they come. */
kd_status kd_table_write_text(const kd_table *t, FILE *out);
void kd_table_text_head(const kd_table *t, FILE *out);
void kd_table_text_rows(const kd_table *t, FILE *out);
void kd_table_text_notes(const kd_table *t, FILE *out);
kd_status kd_table_write_md(const kd_table *t, FILE *out);
/* LaTeX: a table (or, with tex_wide, table*) float whose tabular never runs past the
 * line: one wider than \linewidth (the column, or with table* the page) is scaled
 * down to it where graphicx is loaded (\resizebox), else set as it is (overfull). */
kd_status kd_table_write_tex(const kd_table *t, FILE *out);

#endif
