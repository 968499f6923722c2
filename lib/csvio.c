#include <csv.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "csvio.h"
#include "errors.h"

#define CHUNK (256 * 1024)

struct qrow {
	size_t f0, n;
	long line;
	int bad;
};

struct crm_csv {
	int fd, fmt, eof, first, skipping;
	struct csv_parser p;
	char *chunk;
	struct crm_buf data; /* field bytes, NUL-terminated */
	size_t *foff, *flen, nf,
	    fcap; /* fields of queued rows and the open one */
	struct qrow *q;
	size_t nq, qhead, qcap;
	size_t cur_f0; /* first field of the open row */
	long line, nl; /* open row's first line; newlines inside it */
	int prevterm;
	char **v;
	size_t *len, vcap;
	FILE *tsv;
	struct crm_buf tline;
	char err[96];
	int oom;
};

int
crm_fmt_parse(const char *s)
{
	if (strcmp(s, "csv") == 0)
		return CRM_FMT_CSV;
	if (strcmp(s, "tsv") == 0)
		return CRM_FMT_TSV;
	if (strcmp(s, "ndjson") == 0 || strcmp(s, "json") == 0 ||
	    strcmp(s, "jsonl") == 0)
		return CRM_FMT_NDJSON;
	if (strcmp(s, "yaml") == 0 || strcmp(s, "yml") == 0)
		return CRM_FMT_YAML;
	return -1;
}

static int
no_space(unsigned char c)
{
	(void)c;
	return 0; /* keep white space: columns pass through unchanged */
}

static int
push_field(struct crm_csv *r, const char *s, size_t n)
{
	if (r->nf == r->fcap) {
		size_t cap = r->fcap ? r->fcap * 2 : 256;
		size_t *o = realloc(r->foff, cap * sizeof(*o));
		size_t *l = o ? realloc(r->flen, cap * sizeof(*l)) : NULL;

		if (o)
			r->foff = o;
		if (l == NULL)
			return CRM_ENOMEM;
		r->flen = l;
		r->fcap = cap;
	}
	r->foff[r->nf] = r->data.len;
	r->flen[r->nf++] = n;
	if (crm_buf_add(&r->data, s, n) || crm_buf_addc(&r->data, '\0'))
		return CRM_ENOMEM;
	return 0;
}

static int
push_row(struct crm_csv *r, size_t f0, size_t n, long line, int bad)
{
	if (r->nq == r->qcap) {
		size_t cap = r->qcap ? r->qcap * 2 : 64;
		struct qrow *q = realloc(r->q, cap * sizeof(*q));

		if (q == NULL)
			return CRM_ENOMEM;
		r->q = q;
		r->qcap = cap;
	}
	r->q[r->nq].f0 = f0;
	r->q[r->nq].n = n;
	r->q[r->nq].line = line;
	r->q[r->nq++].bad = bad;
	return 0;
}

static void
on_field(void *s, size_t n, void *arg)
{
	struct crm_csv *r = arg;
	const char *p = s ? s : "", *e = p + n;

	while ((p = memchr(p, '\n', (size_t)(e - p))) != NULL) {
		r->nl++;
		p++;
	}
	if (push_field(r, s ? (const char *)s : "", n))
		r->oom = 1;
}

static void
on_row(int c, void *arg)
{
	struct crm_csv *r = arg;

	if (r->nf == r->cur_f0) {
		/* A bare line end: the LF of a CRLF, or a blank line. */
		if (!(c == '\n' && r->prevterm == '\r'))
			r->line++;
		r->prevterm = c;
		return;
	}
	if (push_row(r, r->cur_f0, r->nf - r->cur_f0, r->line, 0))
		r->oom = 1;
	r->line += r->nl + (c >= 0);
	r->nl = 0;
	r->cur_f0 = r->nf;
	r->prevterm = c;
}

int
crm_csv_open(int fd, int fmt, struct crm_csv **out)
{
	struct crm_csv *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return CRM_ENOMEM;
	r->fd = fd;
	r->fmt = fmt;
	r->first = 1;
	r->line = 1;
	if (fmt == CRM_FMT_TSV) {
		if ((r->tsv = fdopen(dup(fd), "r")) == NULL) {
			free(r);
			return CRM_EIO;
		}
	} else if ((r->chunk = malloc(CHUNK)) == NULL ||
	    csv_init(&r->p, CSV_STRICT | CSV_STRICT_FINI | CSV_REPALL_NL)) {
		free(r->chunk);
		free(r);
		return CRM_ENOMEM;
	} else
		csv_set_space_func(&r->p, no_space);
	*out = r;
	return 0;
}

/* Drops the rows handed out; keeps the open row's fields at the start. */
static void
compact(struct crm_csv *r)
{
	size_t i, base = r->cur_f0 < r->nf ? r->foff[r->cur_f0] : r->data.len;

	if (base > 0)
		memmove(r->data.p, r->data.p + base, r->data.len - base);
	r->data.len -= base;
	for (i = r->cur_f0; i < r->nf; i++) {
		r->foff[i - r->cur_f0] = r->foff[i] - base;
		r->flen[i - r->cur_f0] = r->flen[i];
	}
	r->nf -= r->cur_f0;
	r->cur_f0 = 0;
	r->nq = r->qhead = 0;
}

/* After a parse error: forget the open row and restart at the next line. */
static int
recover(struct crm_csv *r, const char *why)
{
	snprintf(r->err, sizeof(r->err), "%s", why);
	if (push_row(r, 0, 0, r->line, 1))
		return CRM_ENOMEM;
	r->line += r->nl + 1;
	r->nl = 0;
	r->nf = r->cur_f0;
	csv_free(&r->p);
	if (csv_init(&r->p, CSV_STRICT | CSV_STRICT_FINI | CSV_REPALL_NL))
		return CRM_ENOMEM;
	csv_set_space_func(&r->p, no_space);
	r->skipping = 1;
	return 0;
}

static int
feed(struct crm_csv *r, const char *p, size_t n)
{
	const char *nl;
	size_t done;

	while (n > 0) {
		if (r->skipping) {
			if ((nl = memchr(p, '\n', n)) == NULL)
				return 0;
			n -= (size_t)(nl + 1 - p);
			p = nl + 1;
			r->skipping = 0;
			r->prevterm = '\n';
			continue;
		}
		done = csv_parse(&r->p, p, n, on_field, on_row, r);
		if (r->oom)
			return CRM_ENOMEM;
		if (done == n)
			return 0;
		if (csv_error(&r->p) != CSV_EPARSE)
			return CRM_ENOMEM;
		if (recover(r, "malformed quoted field"))
			return CRM_ENOMEM;
		p += done;
		n -= done;
	}
	return 0;
}

static int
fill(struct crm_csv *r)
{
	ssize_t n;
	char *p;

	compact(r);
	do
		n = read(r->fd, r->chunk, CHUNK);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return CRM_EIO;
	if (n == 0) {
		r->eof = 1;
		if (csv_fini(&r->p, on_field, on_row, r) != 0 && !r->skipping) {
			snprintf(r->err, sizeof(r->err),
			    "unterminated quoted field");
			r->nf = r->cur_f0;
			return push_row(r, 0, 0, r->line, 1);
		}
		return r->oom ? CRM_ENOMEM : 0;
	}
	p = r->chunk;
	if (r->first && n >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0) {
		p += 3;
		n -= 3;
	}
	r->first = 0;
	return feed(r, p, (size_t)n);
}

static int
want_row_arrays(struct crm_csv *r, size_t n)
{
	if (n <= r->vcap)
		return 0;
	free(r->v);
	free(r->len);
	r->v = malloc(n * sizeof(*r->v));
	r->len = malloc(n * sizeof(*r->len));
	r->vcap = r->v && r->len ? n : 0;
	return r->vcap ? 0 : CRM_ENOMEM;
}

static void
unescape_tsv(char *s, size_t *n)
{
	size_t i, j;

	for (i = j = 0; i < *n; i++) {
		if (s[i] == '\\' && i + 1 < *n) {
			switch (s[++i]) {
			case 't':
				s[j++] = '\t';
				continue;
			case 'n':
				s[j++] = '\n';
				continue;
			case 'r':
				s[j++] = '\r';
				continue;
			case '\\':
				s[j++] = '\\';
				continue;
			}
			s[j++] = '\\';
		}
		s[j++] = s[i];
	}
	s[j] = '\0';
	*n = j;
}

static int
next_tsv(struct crm_csv *r, struct crm_row *row)
{
	ssize_t n;
	size_t i, k;
	char *s;

again:
	errno = 0;
	n = getline(&r->tline.p, &r->tline.cap, r->tsv);
	if (n < 0)
		return errno ? CRM_EIO : CRM_EOF;
	row->line = r->line++;
	s = r->tline.p;
	if (n == 1 || (n == 2 && s[0] == '\r'))
		goto again; /* blank lines are skipped, as in CSV */
	if (row->line == 1 && n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) {
		s += 3;
		n -= 3;
	}
	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
	for (i = 0, k = 1; i < (size_t)n; i++)
		k += s[i] == '\t';
	if (want_row_arrays(r, k))
		return CRM_ENOMEM;
	for (i = 0, k = 0; k == 0 || i <= (size_t)n; k++) {
		char *e = memchr(s + i, '\t', (size_t)n - i);
		size_t len = e ? (size_t)(e - s) - i : (size_t)n - i;

		s[i + len] = '\0';
		r->v[k] = s + i;
		r->len[k] = len;
		unescape_tsv(r->v[k], &r->len[k]);
		i += len + 1;
	}
	row->n = k;
	row->v = r->v;
	row->len = r->len;
	return 0;
}

int
crm_csv_next(struct crm_csv *r, struct crm_row *row)
{
	struct qrow *q;
	size_t i;
	int rc;

	if (r->fmt == CRM_FMT_TSV)
		return next_tsv(r, row);
	while (r->qhead == r->nq) {
		if (r->eof)
			return CRM_EOF;
		if ((rc = fill(r)))
			return rc;
	}
	q = &r->q[r->qhead++];
	row->line = q->line;
	if (q->bad)
		return CRM_EPARSE;
	if (want_row_arrays(r, q->n))
		return CRM_ENOMEM;
	for (i = 0; i < q->n; i++) {
		r->v[i] = r->data.p + r->foff[q->f0 + i];
		r->len[i] = r->flen[q->f0 + i];
	}
	row->n = q->n;
	row->v = r->v;
	row->len = r->len;
	return 0;
}

const char *
crm_csv_error(const struct crm_csv *r)
{
	return r->err;
}

void
crm_csv_close(struct crm_csv *r)
{
	if (r == NULL)
		return;
	if (r->tsv)
		fclose(r->tsv);
	else
		csv_free(&r->p);
	free(r->chunk);
	crm_buf_free(&r->data);
	crm_buf_free(&r->tline);
	free(r->foff);
	free(r->flen);
	free(r->q);
	free(r->v);
	free(r->len);
	free(r);
}

static int
needs_quotes(const char *s, size_t n)
{
	size_t i;

	if (n > 0 && (s[0] == ' ' || s[n - 1] == ' '))
		return 1;
	for (i = 0; i < n; i++)
		if (s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r')
			return 1;
	return 0;
}

int
crm_csv_field(struct crm_buf *b, int fmt, int first, const char *s, size_t n)
{
	size_t i;
	const char *esc;

	if (!first && crm_buf_addc(b, fmt == CRM_FMT_TSV ? '\t' : ','))
		return CRM_ENOMEM;
	if (crm_buf_grow(b, 2 * n + 3))
		return CRM_ENOMEM;
	if (fmt == CRM_FMT_TSV) {
		for (i = 0; i < n; i++) {
			esc = s[i] == '\t' ? "\\t" :
			    s[i] == '\n'   ? "\\n" :
			    s[i] == '\r'   ? "\\r" :
			    s[i] == '\\'   ? "\\\\" :
					     NULL;
			if (esc) {
				b->p[b->len++] = esc[0];
				b->p[b->len++] = esc[1];
			} else
				b->p[b->len++] = s[i];
		}
		return 0;
	}
	if (!needs_quotes(s, n)) {
		memcpy(b->p + b->len, s, n);
		b->len += n;
		return 0;
	}
	b->p[b->len++] = '"';
	for (i = 0; i < n; i++) {
		if (s[i] == '"')
			b->p[b->len++] = '"';
		b->p[b->len++] = s[i];
	}
	b->p[b->len++] = '"';
	return 0;
}

int
crm_csv_end(struct crm_buf *b)
{
	return crm_buf_addc(b, '\n');
}
