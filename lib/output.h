/*
 * Writing contact rows as CSV, TSV or NDJSON in a fixed column order: id,
 * the core columns, then custom columns. Output is buffered; close reports
 * a failed write (a full disk must not look like success).
 */
#ifndef CRM_OUTPUT_H
#define CRM_OUTPUT_H

#include <stddef.h>
#include <stdio.h>

#include "rec.h"

struct crm_out;

int crm_out_open(FILE *fp, int fmt, struct crm_out **out);
/*
 * Sets the columns. With only == NULL: id, every core column, then the
 * custom names given. Else exactly the names in only (core or custom, "id"
 * allowed). The names are copied.
 */
int crm_out_columns(struct crm_out *o, char *const *custom, size_t ncustom,
    char *const *only, size_t nonly);
/* Columns named as given, every one a plain name (no core columns). */
int crm_out_names(struct crm_out *o, char *const *names, size_t n);
/* For spreadsheets: CSV and TSV cells that a spreadsheet would run as a
 * formula are written as text (crm_csv_field_safe()). */
void crm_out_safe(struct crm_out *o, int on);
int crm_out_header(struct crm_out *o);
int crm_out_rec(struct crm_out *o, const struct crm_rec *r);
/* Flushes; returns CRM_EIO if anything could not be written. Frees o. */
int crm_out_close(struct crm_out *o);

#endif
