#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "csvio.h"
#include "errors.h"
#include "input.h"
#include "json.h"
#include "text.h"
#include "ydoc.h"

struct crm_in {
	int fd, fmt, own_fd, have_hdr;
	struct crm_csv *csv;
	char **hdr;
	size_t *hlen, nhdr;
	/* NDJSON */
	FILE *fp;
	char *line;
	size_t linecap;
	long lineno;
	struct crm_jobj obj;
	/* YAML: all rows parsed at open */
	struct crm_ynode *docs;
	const struct crm_ynode **ymaps;
	size_t nymaps, ycap, ynext;
	struct crm_buf ybuf;
	/* the row handed out; CSV and TSV names are set once, for named
	 * entries */
	const char **name, **val;
	size_t *nlen, *vlen, cap, named;
	char err[160];
};

static int
want(struct crm_in *in, size_t n)
{
	if (n <= in->cap)
		return 0;
	free(in->name);
	free(in->val);
	free(in->nlen);
	free(in->vlen);
	in->name = malloc(n * sizeof(*in->name));
	in->val = malloc(n * sizeof(*in->val));
	in->nlen = malloc(n * sizeof(size_t));
	in->vlen = malloc(n * sizeof(size_t));
	in->cap = in->name && in->val && in->nlen && in->vlen ? n : 0;
	in->named = 0;
	return in->cap ? 0 : CRM_ENOMEM;
}

static int
slurp(int fd, struct crm_buf *b)
{
	ssize_t n;

	for (;;) {
		if (crm_buf_grow(b, 65536))
			return CRM_ENOMEM;
		n = read(fd, b->p + b->len, b->cap - b->len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return CRM_EIO;
		if (n == 0)
			return crm_buf_nul(b);
		b->len += (size_t)n;
	}
}

static int
add_ymap(struct crm_in *in, const struct crm_ynode *m)
{
	const struct crm_ynode **p;

	if (in->nymaps == in->ycap) {
		in->ycap = in->ycap ? in->ycap * 2 : 16;
		if ((p = realloc(in->ymaps, in->ycap * sizeof(*p))) == NULL)
			return CRM_ENOMEM;
		in->ymaps = p;
	}
	in->ymaps[in->nymaps++] = m;
	return 0;
}

static int
open_yaml(struct crm_in *in)
{
	struct crm_buf text = { 0 };
	const struct crm_ynode *d;
	size_t i, k;
	int rc;

	if ((rc = slurp(in->fd, &text)) == 0)
		rc = crm_ydoc_parse(text.p, text.len, &in->docs, in->err,
		    sizeof(in->err));
	crm_buf_free(&text);
	for (i = 0; rc == 0 && i < in->docs->n; i++) {
		d = in->docs->kid[i];
		if (d->kind == CRM_Y_MAP)
			rc = add_ymap(in, d);
		else if (d->kind == CRM_Y_SEQ)
			for (k = 0; rc == 0 && k < d->n; k++)
				rc = d->kid[k]->kind == CRM_Y_MAP ?
				    add_ymap(in, d->kid[k]) :
				    CRM_EPARSE;
		else
			rc = CRM_EPARSE;
		if (rc == CRM_EPARSE)
			snprintf(in->err, sizeof(in->err),
			    "%ld: expected a mapping or a list of mappings",
			    d->line);
	}
	return rc;
}

/*
 * CSV is read by the scanner of crm_csv_open_raw(), which gives libcsv's
 * rows, lines and errors (tests/fuzz/fuzz-csv.c holds it to them) in about
 * half the time: the 1M contacts of the benchmark in 0.20-0.26 s, against
 * 0.42-0.44 s where libcsv reads the lines with a quote in them. With
 * CRM_CSV_SPLIT=0 in the environment libcsv reads every line.
 */
static int
open_csv(struct crm_in *in, int fmt)
{
	const char *e = getenv("CRM_CSV_SPLIT");

	if (fmt == CRM_FMT_CSV && (e == NULL || strcmp(e, "0") != 0))
		return crm_csv_open_raw(in->fd, fmt, &in->csv);
	return crm_csv_open(in->fd, fmt, &in->csv);
}

int
crm_in_open(const char *path, int fmt, struct crm_in **out, char *err,
    size_t errlen)
{
	struct crm_in *in;
	int rc = 0;

	if ((in = calloc(1, sizeof(*in))) == NULL)
		return CRM_ENOMEM;
	in->fmt = fmt;
	in->fd = 0;
	if (path != NULL && strcmp(path, "-") != 0) {
		if ((in->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
			rc = errno;
			free(in);
			return rc;
		}
		in->own_fd = 1;
	}
	if (fmt == CRM_FMT_CSV || fmt == CRM_FMT_TSV)
		rc = open_csv(in, fmt);
	else if (fmt == CRM_FMT_NDJSON)
		rc = (in->fp = fdopen(dup(in->fd), "r")) ? 0 : CRM_EIO;
	else
		rc = open_yaml(in);
	if (rc) {
		snprintf(err, errlen, "%s", in->err);
		crm_in_close(in);
		return rc;
	}
	*out = in;
	return 0;
}

static int
read_header(struct crm_in *in, struct crm_row *row)
{
	size_t i;

	in->have_hdr = 1;
	in->nhdr = row->n;
	if ((in->hdr = calloc(row->n, sizeof(char *))) == NULL ||
	    (in->hlen = calloc(row->n, sizeof(size_t))) == NULL)
		return CRM_ENOMEM;
	for (i = 0; i < row->n; i++) {
		if ((in->hdr[i] = malloc(row->len[i] + 1)) == NULL)
			return CRM_ENOMEM;
		memcpy(in->hdr[i], row->v[i], row->len[i] + 1);
		in->hlen[i] = row->len[i];
	}
	return 0;
}

static int
next_csv(struct crm_in *in, struct crm_inrow *out)
{
	struct crm_row row;
	size_t i;
	int rc;

	while ((rc = crm_csv_next(in->csv, &row)) == 0 && !in->have_hdr)
		if ((rc = read_header(in, &row)))
			return rc;
	out->line = row.line;
	out->n = 0;
	if (rc == CRM_EPARSE)
		snprintf(in->err, sizeof(in->err), "%s",
		    crm_csv_error(in->csv));
	if (rc)
		return rc;
	if (want(in, row.n))
		return CRM_ENOMEM;
	/* The names are the header's, the same for every row. */
	for (i = in->named; i < row.n; i++) {
		in->name[i] = i < in->nhdr ? in->hdr[i] : NULL;
		in->nlen[i] = i < in->nhdr ? in->hlen[i] : 0;
	}
	if (row.n > in->named)
		in->named = row.n;
	for (i = 0; i < row.n; i++) {
		in->val[i] = row.v[i];
		in->vlen[i] = row.len[i];
	}
	out->n = row.n;
	if (row.n != in->nhdr) {
		snprintf(in->err, sizeof(in->err),
		    "expected %zu fields, found %zu", in->nhdr, row.n);
		return CRM_EPARSE;
	}
	return 0;
}

static int
next_ndjson(struct crm_in *in, struct crm_inrow *out)
{
	ssize_t n;
	size_t i;
	int rc;
	char msg[80];

	do {
		errno = 0;
		if ((n = getline(&in->line, &in->linecap, in->fp)) < 0)
			return errno ? CRM_EIO : CRM_EOF;
		in->lineno++;
		while (n > 0 &&
		    (in->line[n - 1] == '\n' || in->line[n - 1] == '\r'))
			in->line[--n] = '\0';
	} while (n == 0);
	out->line = in->lineno;
	out->raw = in->line;
	out->rawlen = (size_t)n;
	out->n = 0;
	if ((rc = crm_json_parse(in->line, (size_t)n, &in->obj, msg,
		 sizeof(msg)))) {
		snprintf(in->err, sizeof(in->err), "%s", msg);
		return rc;
	}
	if (want(in, in->obj.n))
		return CRM_ENOMEM;
	for (i = 0; i < in->obj.n; i++) {
		in->name[i] = in->obj.data.p + in->obj.koff[i];
		in->nlen[i] = in->obj.klen[i];
		in->val[i] = in->obj.data.p + in->obj.voff[i];
		in->vlen[i] = in->obj.vlen[i];
	}
	out->n = in->obj.n;
	return 0;
}

/* A YAML value: a scalar, or a sequence of scalars joined as a set. */
static int
yvalue(struct crm_in *in, const struct crm_ynode *v, struct crm_buf *b)
{
	size_t i, k;

	if (v->kind == CRM_Y_SCALAR)
		return v->plain_null ? 0 : crm_buf_add(b, v->s, v->slen);
	if (v->kind == CRM_Y_MAP)
		goto bad;
	for (i = 0; i < v->n; i++) {
		if (v->kid[i]->kind != CRM_Y_SCALAR)
			goto bad;
		if (i && crm_buf_addc(b, ';'))
			return CRM_ENOMEM;
		if (memchr(v->kid[i]->s, ';', v->kid[i]->slen) == NULL &&
		    memchr(v->kid[i]->s, '"', v->kid[i]->slen) == NULL) {
			if (crm_buf_add(b, v->kid[i]->s, v->kid[i]->slen))
				return CRM_ENOMEM;
			continue;
		}
		crm_buf_addc(b, '"');
		for (k = 0; k < v->kid[i]->slen; k++) {
			if (v->kid[i]->s[k] == '"')
				crm_buf_addc(b, '"');
			crm_buf_addc(b, v->kid[i]->s[k]);
		}
		if (crm_buf_addc(b, '"'))
			return CRM_ENOMEM;
	}
	return 0;
bad:
	snprintf(in->err, sizeof(in->err), "nested value at line %ld", v->line);
	return CRM_EPARSE;
}

static int
next_yaml(struct crm_in *in, struct crm_inrow *out)
{
	const struct crm_ynode *m;
	size_t i, k, *off;
	int rc = 0;

	if (in->ynext >= in->nymaps)
		return CRM_EOF;
	m = in->ymaps[in->ynext++];
	out->line = m->line;
	out->n = 0;
	if (want(in, m->n / 2 + 1) ||
	    (off = malloc((m->n / 2 + 1) * sizeof(size_t))) == NULL)
		return CRM_ENOMEM;
	in->ybuf.len = 0;
	for (i = k = 0; rc == 0 && i + 1 < m->n; i += 2) {
		if (m->kid[i]->kind != CRM_Y_SCALAR) {
			snprintf(in->err, sizeof(in->err),
			    "key is not a string");
			rc = CRM_EPARSE;
			break;
		}
		off[k] = in->ybuf.len;
		if ((rc = yvalue(in, m->kid[i + 1], &in->ybuf)) ||
		    (rc = crm_buf_addc(&in->ybuf, '\0')))
			break;
		in->name[k] = m->kid[i]->s;
		in->nlen[k] = m->kid[i]->slen;
		in->vlen[k] = in->ybuf.len - off[k] - 1;
		k += in->vlen[k] > 0;
	}
	for (i = 0; rc == 0 && i < k; i++)
		in->val[i] = in->ybuf.p + off[i];
	free(off);
	out->n = rc ? 0 : k;
	return rc;
}

int
crm_in_next(struct crm_in *in, struct crm_inrow *row)
{
	int rc;

	row->raw = NULL;
	row->rawlen = 0;
	/* csvio.c gives a row's values in its own buffer, one after the
	 * other, NUL-terminated (push_field(), row_out(), next_tsv()) */
	row->onebuf = in->fmt == CRM_FMT_CSV || in->fmt == CRM_FMT_TSV;
	if (in->fmt == CRM_FMT_CSV || in->fmt == CRM_FMT_TSV)
		rc = next_csv(in, row);
	else if (in->fmt == CRM_FMT_NDJSON)
		rc = next_ndjson(in, row);
	else
		rc = next_yaml(in, row);
	row->name = in->name;
	row->val = in->val;
	row->nlen = in->nlen;
	row->vlen = in->vlen;
	return rc;
}

const char *
crm_in_error(const struct crm_in *in)
{
	return in->err;
}

size_t
crm_in_header(const struct crm_in *in, const char *const **names)
{
	*names = (const char *const *)in->hdr;
	return in->nhdr;
}

int
crm_in_header_check(const struct crm_in *in, char *why, size_t whylen)
{
	size_t i, k;

	for (i = 0; i < in->nhdr; i++) {
		for (k = 0; k < in->hlen[i]; k++)
			if ((unsigned char)in->hdr[i][k] < 0x20 ||
			    in->hdr[i][k] == 0x7f)
				break;
		if (k < in->hlen[i] ||
		    !crm_utf8_valid(in->hdr[i], in->hlen[i], NULL)) {
			snprintf(why, whylen,
			    "column %zu: a column name is UTF-8 text without "
			    "control characters",
			    i + 1);
			return CRM_EINVAL;
		}
	}
	return 0;
}

int
crm_in_format(const struct crm_in *in)
{
	return in->fmt;
}

void
crm_in_close(struct crm_in *in)
{
	size_t i;

	if (in == NULL)
		return;
	crm_csv_close(in->csv);
	for (i = 0; i < in->nhdr; i++)
		free(in->hdr ? in->hdr[i] : NULL);
	free(in->hdr);
	free(in->hlen);
	if (in->fp)
		fclose(in->fp);
	free(in->line);
	crm_json_free(&in->obj);
	crm_ydoc_free(in->docs);
	free(in->ymaps);
	crm_buf_free(&in->ybuf);
	free(in->name);
	free(in->val);
	free(in->nlen);
	free(in->vlen);
	if (in->own_fd)
		close(in->fd);
	free(in);
}
