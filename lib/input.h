/*
 * Rows of named values from CSV, TSV, NDJSON or YAML, one interface for all
 * four. CSV and TSV name their values by the header row; NDJSON and YAML by
 * each object's own keys. A YAML input is a sequence of mappings, or
 * mappings as separate documents.
 */
#ifndef CRM_INPUT_H
#define CRM_INPUT_H

#include <stddef.h>

struct crm_inrow {
	size_t n;
	const char **name; /* NULL past the header's width */
	const char **val;
	size_t *nlen, *vlen;
	long line;
	const char *raw; /* NDJSON: the line; else NULL */
	size_t rawlen;
	int onebuf; /* CSV, TSV: the values lie in one buffer, each
		       followed by a NUL unless TSV unescaping shortened it */
};

struct crm_in;

/* path NULL or "-" is standard input. Returns 0, an errno value from
 * open(2), CRM_EPARSE (YAML that cannot be read: err gets "line: why") or
 * CRM_ENOMEM. */
int crm_in_open(const char *path, int fmt, struct crm_in **out, char *err,
    size_t errlen);
/*
 * 0 and a row; CRM_EOF; or CRM_EPARSE for a row that cannot be used, with
 * row->line set, crm_in_error() saying why and, where anything could be
 * read, the row's values in row (for a reject file). Reading goes on after
 * CRM_EPARSE. Rows are valid until the next call.
 */
int crm_in_next(struct crm_in *in, struct crm_inrow *row);
const char *crm_in_error(const struct crm_in *in);
/* The header of a CSV or TSV input (after the first crm_in_next()). */
size_t crm_in_header(const struct crm_in *in, const char *const **names);
/* CRM_EINVAL with why when a header name holds a control character (a
 * NUL included) or invalid UTF-8 (crm(7): text). */
int crm_in_header_check(const struct crm_in *in, char *why, size_t whylen);
int crm_in_format(const struct crm_in *in);
void crm_in_close(struct crm_in *in);

#endif
