/* The table model: columns, cells, caption and notes (the emitters are table_text.c,
 * table_md.c and table_tex.c). Out of memory is kept in t->st, not returned by each
 * call, so that a builder reads as the table it builds. */
#include "internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "kdbench/escape.h"

const kd_mark kd_mark_dagger = {"", "†", "^{\\dagger}"};
const kd_mark kd_mark_ddagger = {"", "‡", "^{\\ddagger}"};

void kd_table_init(kd_table *t) { memset(t, 0, sizeof *t); }

static void oom(kd_table *t) {
  if (t->st == KD_OK) t->st = kd_fail(KD_ENOMEM, "out of memory for a table");
}

void kd_table_clear_rows(kd_table *t) {
  for (size_t i = 0; i < t->ncells; ++i) free(t->cells[i].text), free(t->cells[i].tex);
  t->ncells = 0;
}

void kd_table_free(kd_table *t) {
  kd_table_clear_rows(t);
  for (size_t i = 0; i < t->ncols; ++i)
    free((char *)t->cols[i].head), free((char *)t->cols[i].tex_head), free((char *)t->cols[i].group);
  free(t->cols), free(t->cells), free(t->label);
  for (int f = 0; f < 3; ++f) {
    free(t->caption[f]);
    for (size_t i = 0; i < t->nnotes[f]; ++i) free(t->notes[f][i]);
    free(t->notes[f]);
  }
  memset(t, 0, sizeof *t);
}

static char *copy(kd_table *t, const char *s) {
  char *d = s ? strdup(s) : NULL;
  if (s && !d) oom(t);
  return d;
}

/* A header may be made for the column: the table keeps its own copies. */
void kd_table_column(kd_table *t, const kd_column *c) {
  kd_column *cols = realloc(t->cols, (t->ncols + 1) * sizeof *cols);
  if (!cols) {
    oom(t);
    return;
  }
  t->cols = cols;
  kd_column *d = &t->cols[t->ncols++];
  *d = *c;
  d->head = copy(t, c->head ? c->head : "");
  d->tex_head = copy(t, c->tex_head);
  d->group = copy(t, c->group);
}

static void add(kd_table *t, kd_cell c) {
  if (t->ncells == t->cap) {
    size_t cap = t->cap ? 2 * t->cap : 64;
    kd_cell *cells = realloc(t->cells, cap * sizeof *cells);
    if (!cells) {
      free(c.text), free(c.tex);
      oom(t);
      return;
    }
    t->cells = cells, t->cap = cap;
  }
  t->cells[t->ncells++] = c;
}

void kd_table_none(kd_table *t) { add(t, (kd_cell){.kind = KD_CELL_NONE}); }

void kd_table_text(kd_table *t, const char *text, const char *tex) {
  add(t, (kd_cell){.kind = KD_CELL_TEXT, .text = copy(t, text), .tex = copy(t, tex)});
}

/* With nan_none, a NaN value is not available. */
static void add_value(kd_table *t, kd_cell c) {
  add(t, t->nan_none && isnan(c.x) ? (kd_cell){.kind = KD_CELL_NONE} : c);
}

void kd_table_num(kd_table *t, double x, const kd_mark *mark) {
  add_value(t, (kd_cell){.kind = KD_CELL_NUMBER, .x = x, .mark = mark});
}

void kd_table_pm(kd_table *t, double x, double y, const kd_mark *mark) {
  add_value(t, (kd_cell){.kind = KD_CELL_PM, .x = x, .y = y, .mark = mark});
}

void kd_table_range(kd_table *t, double lo, double hi, const kd_mark *mark) {
  add_value(t, (kd_cell){.kind = KD_CELL_RANGE, .x = lo, .y = hi, .mark = mark});
}

void kd_table_bold(kd_table *t) {
  if (t->ncells) t->cells[t->ncells - 1].bold = 1;
}

size_t kd_table_rows(const kd_table *t) { return t->ncols ? t->ncells / t->ncols : 0; }

void kd_table_number(const kd_column *c, double x, int ci, char *out, size_t len) {
  const char *fmt = ci ? c->ci_fmt : c->fmt;
  if (fmt)
    snprintf(out, len, fmt, x);
  else
    kd_fmt_digits(x, ci ? c->ci_digits : c->digits, out, len);
}

/* ---- captions and notes ----------------------------------------------------------------- */

/* One conversion of printf's grammar, %s escaped for format f (bit index). */
static const char *convert(FILE *out, int f, const char *p, va_list *ap) {
  char spec[16];
  size_t n = strspn(p + 1, "-+ #0123456789.hlzj") + 2;
  if (n >= sizeof spec) n = sizeof spec - 1;
  memcpy(spec, p, n), spec[n] = '\0';
  char conv = spec[n - 1], len = n > 2 ? spec[n - 2] : 0, len2 = n > 3 ? spec[n - 3] : 0;
  if (conv == '%') {
    fputc('%', out);
  } else if (conv == 's') { /* escaped, where width and precision cannot apply */
    const char *s = va_arg(*ap, const char *);
    if (f == 1)
      kd_md_escape(out, s);
    else if (f == 2)
      kd_tex_escape(out, s);
    else
      fprintf(out, spec, s);
  } else if (strchr("feEgG", conv)) {
    fprintf(out, spec, va_arg(*ap, double));
  } else if (len == 'z') {
    fprintf(out, spec, va_arg(*ap, size_t));
  } else if (len == 'l' && len2 == 'l') {
    fprintf(out, spec, va_arg(*ap, long long));
  } else if (len == 'l') {
    fprintf(out, spec, va_arg(*ap, long));
  } else {
    fprintf(out, spec, va_arg(*ap, int));
  }
  return p + n;
}

static char *render(kd_table *t, int f, const char *prefix, const char *format, va_list ap) {
  char *text = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&text, &len);
  if (!out) {
    oom(t);
    return NULL;
  }
  fputs(prefix ? prefix : "", out);
  va_list args;
  va_copy(args, ap);
  for (const char *p = format; *p;) {
    if (*p != '%') {
      fputc(*p++, out);
      continue;
    }
    p = convert(out, f, p, &args);
  }
  va_end(args);
  if (fclose(out) != 0) {
    free(text);
    oom(t);
    return NULL;
  }
  return text;
}

void kd_table_caption(kd_table *t, unsigned formats, const char *format, ...) {
  for (int f = 0; f < 3; ++f) {
    if (!(formats & (1u << f))) continue;
    va_list ap;
    va_start(ap, format);
    char *text = render(t, f, t->caption[f], format, ap);
    va_end(ap);
    if (!text) return;
    free(t->caption[f]);
    t->caption[f] = text;
  }
}

void kd_table_caption_source(kd_table *t, unsigned formats, const char *source) {
  for (int f = 0; f < 3; ++f) {
    if (!(formats & (1u << f))) continue;
    const char *old = t->caption[f] ? t->caption[f] : "";
    size_t n = strlen(old) + strlen(source) + 1;
    char *text = malloc(n);
    if (!text) {
      oom(t);
      return;
    }
    snprintf(text, n, "%s%s", old, source);
    free(t->caption[f]);
    t->caption[f] = text;
  }
}

void kd_table_note(kd_table *t, unsigned formats, const char *format, ...) {
  for (int f = 0; f < 3; ++f) {
    if (!(formats & (1u << f))) continue;
    char **notes = realloc(t->notes[f], (t->nnotes[f] + 1) * sizeof *notes);
    if (!notes) {
      oom(t);
      return;
    }
    t->notes[f] = notes;
    va_list ap;
    va_start(ap, format);
    char *text = render(t, f, NULL, format, ap);
    va_end(ap);
    if (!text) return;
    notes[t->nnotes[f]++] = text;
  }
}

void kd_table_label(kd_table *t, const char *label) {
  free(t->label);
  t->label = copy(t, label);
}
