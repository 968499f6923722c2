/*
 * Pull-style readers and writers of delimited text. The CSV reader wraps
 * libcsv (a push parser) so that a tool loops
 *
 *	while ((rc = crm_csv_next(r, &row)) == 0)
 *
 * CSV follows RFC 4180: a UTF-8 byte-order mark is skipped, CRLF and LF end
 * lines, white space is kept as it is. TSV has no quoting: a tab separates
 * fields, a newline ends a row, and \t \n \r \\ stand for tab, newline,
 * carriage return and backslash.
 */
#ifndef CRM_CSVIO_H
#define CRM_CSVIO_H

#include <stddef.h>
#include <stdio.h>

#include "buf.h"

enum crm_fmt { CRM_FMT_CSV, CRM_FMT_TSV, CRM_FMT_NDJSON, CRM_FMT_YAML };
/* "csv", "tsv", "ndjson" (or "json"), "yaml"; -1 if unknown. */
int crm_fmt_parse(const char *s);

/* A row: n fields; v[i] is NUL-terminated and len[i] long (it may hold
 * NULs of its own, which the caller rejects). Valid until the next call. */
struct crm_row {
	size_t n;
	char **v;
	size_t *len;
	long line; /* line where the row starts, 1 is the first */
};

struct crm_csv;

/*
 * Reads fd; fmt is CSV or TSV. CSV is read by libcsv, but for lines with
 * no quote and no carriage return: those are split at their commas here,
 * three times as fast, into the rows libcsv would give (CRM_CSV_SPLIT=0
 * in the environment has libcsv read them too, for tests).
 */
int crm_csv_open(int fd, int fmt, struct crm_csv **out);
/*
 * The same, and the reader keeps the bytes each row was read from, for
 * crm_csv_raw(): a filter can then write a row out exactly as it came in.
 * libcsv cannot say where a row's bytes are, so CSV is read here by a
 * scanner of this module's own. It reads the grammar libcsv reads as
 * crm_csv_open() configures it (strict RFC 4180; CR, LF or CRLF end a row;
 * blank lines skipped) and gives the same rows, lines and errors;
 * tests/fuzz/fuzz-csv.c holds the two readers to that.
 */
int crm_csv_open_raw(int fd, int fmt, struct crm_csv **out);
/*
 * Returns 0 and a row, CRM_EOF at the end, or CRM_EPARSE for a row that
 * cannot be read (row->line and crm_csv_error() say where and why); reading
 * goes on after it with the next line. CRM_EIO and CRM_ENOMEM are final.
 */
int crm_csv_next(struct crm_csv *r, struct crm_row *row);
const char *crm_csv_error(const struct crm_csv *r);
/*
 * The bytes the last row returned by crm_csv_next() was read from, without
 * its line end (and without a byte-order mark): for CSV the fields as
 * quoted in the input, for TSV the line before unescaping. Only for a
 * reader from crm_csv_open_raw(); else *n is 0. Valid until the next call.
 */
void crm_csv_raw(const struct crm_csv *r, const char **p, size_t *n);
void crm_csv_close(struct crm_csv *r);

/* Writers: fields are quoted (CSV) or escaped (TSV) as needed. */
int crm_csv_field(struct crm_buf *b, int fmt, int first, const char *s,
    size_t n);
int crm_csv_end(struct crm_buf *b);
/*
 * Whether a spreadsheet would take the cell for a formula: it starts with
 * = + - @, a tab or a carriage return (OWASP's list for CSV injection) and
 * is not a plain number such as -12.50.
 */
int crm_csv_formula(const char *s, size_t n);
/* Like crm_csv_field(), with a formula cell made text by a leading '. */
int crm_csv_field_safe(struct crm_buf *b, int fmt, int first, const char *s,
    size_t n);

#endif
