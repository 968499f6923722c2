/*
 * The raw CSV reader, and the libcsv reader as it runs (splitting plain
 * lines itself), against libcsv reading every line: on any input all give
 * the same rows, fields, lines and errors, and the bytes the raw reader
 * keeps for a row read back as that row.
 */
/* First: it sets _GNU_SOURCE for memfd_create(2). */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "crm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

/* One row, read back from bytes of the raw reader, has these fields.
 * They follow a first line, since at the start of an input a byte-order
 * mark would be dropped. */
static void
reads_back(const char *raw, size_t n, const struct crm_row *want)
{
	struct crm_csv *r;
	struct crm_row row;
	size_t i;
	char *text = malloc(n + 2);
	int fd;

	if (text == NULL)
		return;
	memcpy(text, "x\n", 2);
	memcpy(text + 2, raw, n);
	fd = fuzz_fd((const uint8_t *)text, n + 2);
	free(text);
	if (fd < 0)
		return;
	if (crm_csv_open_raw(fd, CRM_FMT_CSV, &r) != 0 ||
	    crm_csv_next(r, &row) != 0)
		abort();
	if (crm_csv_next(r, &row) != 0 || row.n != want->n)
		abort();
	for (i = 0; i < row.n; i++)
		if (row.len[i] != want->len[i] ||
		    memcmp(row.v[i], want->v[i], row.len[i]) != 0)
			abort();
	if (crm_csv_next(r, &row) != CRM_EOF)
		abort();
	crm_csv_close(r);
	close(fd);
}

static void
same_row(struct crm_csv *a, struct crm_csv *b, const struct crm_row *x,
    const struct crm_row *y)
{
	const char *raw;
	size_t i, n;

	if (x->n != y->n)
		abort();
	for (i = 0; i < x->n; i++)
		if (x->len[i] != y->len[i] ||
		    memcmp(x->v[i], y->v[i], x->len[i]) != 0 ||
		    y->v[i][y->len[i]] != '\0')
			abort();
	(void)a;
	if (b == NULL)
		return; /* a reader without raw bytes */
	crm_csv_raw(b, &raw, &n);
	/* A row of one empty field is written "" in its raw bytes. */
	if (n > 0)
		reads_back(raw, n, y);
	else if (!(y->n == 1 && y->len[0] == 0))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	struct crm_csv *a, *b, *c;
	struct crm_row x, y, z;
	int fa, fb, fc, ra, rb, rc;

	if ((fa = fuzz_fd(data, n)) < 0)
		return 0;
	if ((fb = fuzz_fd(data, n)) < 0) {
		close(fa);
		return 0;
	}
	if ((fc = fuzz_fd(data, n)) < 0) {
		close(fa);
		close(fb);
		return 0;
	}
	setenv("CRM_CSV_SPLIT", "0", 1);
	if (crm_csv_open(fa, CRM_FMT_CSV, &a) != 0)
		abort();
	unsetenv("CRM_CSV_SPLIT");
	if (crm_csv_open_raw(fb, CRM_FMT_CSV, &b) != 0 ||
	    crm_csv_open(fc, CRM_FMT_CSV, &c) != 0)
		abort();
	do {
		ra = crm_csv_next(a, &x);
		rb = crm_csv_next(b, &y);
		rc = crm_csv_next(c, &z);
		if (ra != rb || ra != rc ||
		    (ra != CRM_EOF && (x.line != y.line || x.line != z.line)))
			abort();
		if (ra == CRM_EPARSE &&
		    (strcmp(crm_csv_error(a), crm_csv_error(b)) != 0 ||
			strcmp(crm_csv_error(a), crm_csv_error(c)) != 0))
			abort();
		if (ra == 0) {
			same_row(a, b, &x, &y);
			same_row(a, NULL, &x, &z);
		}
	} while (ra == 0 || ra == CRM_EPARSE);
	crm_csv_close(a);
	crm_csv_close(b);
	crm_csv_close(c);
	close(fa);
	close(fb);
	close(fc);
	return 0;
}
