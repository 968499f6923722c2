#include <csv.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "csvio.h"
#include "errors.h"

#define CHUNK (256 * 1024)
/* See parse(): bytes parsed with the space function from a space or tab
 * on (doubled while white space keeps coming), and the shortest stretch
 * without white space that is worth a call of its own. */
#define SPACED 16
#define PLAINMIN 16

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
	int nlscan;   /* fields of this part may hold line ends */
	int rowstart; /* libcsv has no row open: see split_plain() */
	int split;    /* split_plain() is on */
	char **v;
	size_t *len, vcap;
	FILE *tsv;
	struct crm_buf tline;
	char err[96];
	int oom;
	/* The raw reader: input bytes [rpos, rlen) of rb are not yet read
	 * as rows; rawp/rawn are the last row's bytes. */
	int raw;
	char *rb;
	size_t rcap, rlen, rpos;
	const char *rawp;
	size_t rawn;
	struct crm_buf rawtsv;
	unsigned char *fesc; /* a quoted field with "" in it */
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
	char *d;

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
	if (r->data.len + n + 16 > r->data.cap &&
	    crm_buf_grow(&r->data, n + 16))
		return CRM_ENOMEM;
	r->foff[r->nf] = r->data.len;
	r->flen[r->nf++] = n;
	d = r->data.p + r->data.len;
	/* Most fields are short: those in libcsv's buffer, which holds 16
	 * bytes at least, are copied as two words without a call (the bytes
	 * past the field are copied too, and the NUL put over them). */
	if (n <= 16 && s == (const char *)r->p.entry_buf &&
	    r->p.entry_size >= 16) {
		memcpy(d, s, 8);
		memcpy(d + 8, s + 8, 8);
	} else
		memcpy(d, s, n);
	d[n] = '\0';
	r->data.len += n + 1;
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

	while (r->nlscan && (p = memchr(p, '\n', (size_t)(e - p))) != NULL) {
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
crm_csv_open_raw(int fd, int fmt, struct crm_csv **out)
{
	struct crm_csv *r;
	int rc;

	if (fmt == CRM_FMT_TSV) {
		if ((rc = crm_csv_open(fd, fmt, out)) == 0)
			(*out)->raw = 1;
		return rc;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return CRM_ENOMEM;
	r->fd = fd;
	r->fmt = fmt;
	r->first = 1;
	r->line = 1;
	r->raw = 1;
	if ((r->rb = malloc(CHUNK)) == NULL) {
		free(r);
		return CRM_ENOMEM;
	}
	r->rcap = CHUNK;
	*out = r;
	return 0;
}

int
crm_csv_open(int fd, int fmt, struct crm_csv **out)
{
	struct crm_csv *r;
	const char *e;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return CRM_ENOMEM;
	r->fd = fd;
	r->fmt = fmt;
	r->first = 1;
	r->line = 1;
	r->rowstart = 1;
	/* CRM_CSV_SPLIT=0: libcsv reads every line, for the tests that hold
	 * split_plain() to it */
	r->split = (e = getenv("CRM_CSV_SPLIT")) == NULL || strcmp(e, "0") != 0;
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
	const char *s = (const char *)r->p.entry_buf, *e;

	snprintf(r->err, sizeof(r->err), "%s", why);
	if (push_row(r, 0, 0, r->line, 1))
		return CRM_ENOMEM;
	/* The lines of the field libcsv was in the middle of count too. */
	for (e = s + (s ? r->p.entry_pos : 0);
	     s != NULL && (s = memchr(s, '\n', (size_t)(e - s))) != NULL; s++)
		r->nl++;
	r->line += r->nl + 1;
	r->nl = 0;
	r->nf = r->cur_f0;
	csv_free(&r->p);
	if (csv_init(&r->p, CSV_STRICT | CSV_STRICT_FINI | CSV_REPALL_NL))
		return CRM_ENOMEM;
	csv_set_space_func(&r->p, no_space);
	r->skipping = 1;
	r->rowstart = 1; /* once the rest of the line is skipped */
	return 0;
}

/*
 * libcsv grows a field's buffer by its block size at a time, 128 bytes by
 * default: a 10 MB field took 80,000 reallocs, each a copy under ASan (two
 * minutes) and often without. A block as large as the buffer already is
 * makes the growth geometric.
 */
static void
grow_geometric(struct crm_csv *r)
{
	size_t have = csv_get_buffer_size(&r->p);

	csv_set_blk_size(&r->p, have > 128 ? have : 128);
}

/* The first byte c in [p, e), or e; *at keeps the answer, so that a
 * search is made again only once p has passed it. */
static const char *
next_byte(int c, const char *p, const char *e, const char **at)
{
	if (*at == NULL || *at < p) {
		*at = memchr(p, c, (size_t)(e - p));
		if (*at == NULL)
			*at = e;
	}
	return *at;
}

/* Sets the high bit of each zero byte of v, and perhaps of bytes above
 * one: the lowest bit set is always right. */
static uint64_t
zero_bytes(uint64_t v)
{
	return (v - 0x0101010101010101ULL) & ~v & 0x8080808080808080ULL;
}

/* The bytes that end an unquoted field, or make it malformed. */
static const unsigned char
    stops[256] = { [','] = 1, ['\r'] = 1, ['\n'] = 1, ['"'] = 1 };

/*
 * The first byte from k on that ends an unquoted field or makes it
 * malformed, or e; with only_comma, the first comma (for a line known to
 * hold no quote and no line end). Eight bytes at a time where the byte
 * order allows, since this loop is most of the time spent reading CSV
 * (and a call to memchr() for each field of a line took longer).
 */
static inline const char *
field_end(const char *k, const char *e, int only_comma)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	const uint64_t ones = 0x0101010101010101ULL;
	uint64_t w, x;

	for (; e - k >= 8; k += 8) {
		memcpy(&w, k, 8);
		x = zero_bytes(w ^ (ones * ','));
		if (!only_comma)
			x |= zero_bytes(w ^ (ones * '"')) |
			    zero_bytes(w ^ (ones * '\n')) |
			    zero_bytes(w ^ (ones * '\r'));
		if (x != 0)
			return k + (__builtin_ctzll(x) >> 3);
	}
#endif
	while (k < e && (only_comma ? *k != ',' : !stops[(unsigned char)*k]))
		k++;
	return k;
}

/*
 * A line with no quote and no carriage return in it is a row whose fields
 * are the stretches between its commas, in the grammar libcsv reads as
 * crm_csv_open() sets it (white space kept, nothing unquoted to undo):
 * splitting it here gives libcsv's rows at a third of the time, since
 * libcsv calls back per byte. From q, at the start of a row, such lines
 * are split here; the first line that is not one (or not whole in the
 * buffer, or blank) is left to libcsv, and so are the lines of any row it
 * then has open. *dq, *cr and *lf are next_byte() answers.
 */
static const char *
split_plain(struct crm_csv *r, const char *q, const char *e, const char **dq,
    const char **cr, const char **lf)
{
	const char *nl, *c, *f;

	r->nlscan = 0;
	while (!r->oom && (nl = next_byte('\n', q, e, lf)) < e && nl > q &&
	    next_byte('"', q, e, dq) > nl && next_byte('\r', q, e, cr) > nl) {
		/* The line holds no quote and no CR: what ends a field
		 * before nl is a comma. */
		for (f = q; (c = field_end(f, nl, 1)) < nl; f = c + 1)
			on_field((void *)(uintptr_t)f, (size_t)(c - f), r);
		on_field((void *)(uintptr_t)f, (size_t)(nl - f), r);
		on_row('\n', r);
		q = nl + 1;
	}
	return q;
}

/*
 * Parses n bytes; returns how many were parsed, fewer on an error.
 *
 * libcsv asks the space function about every byte of an unquoted field,
 * and that call was a third of the time spent reading CSV. Its answer
 * matters for a space or a tab only, and on any other byte libcsv's own
 * test (which would trim white space) answers the same. So the input is
 * parsed in parts: up to the next space or tab without the function, and
 * from there SPACED bytes with it, or more where white space is dense.
 *
 * Likewise only a quoted field can hold a line end, so on_field() looks
 * for them only in a part with a quote in it or that starts inside a
 * quoted field (libcsv keeps in p.quoted that the open field is quoted).
 */
static size_t
parse(struct crm_csv *r, const char *p, size_t n)
{
	const char *e = p + n, *q = p, *sp = NULL, *tab = NULL, *dq = NULL;
	const char *cr = NULL, *lf = NULL, *ws, *end, *eol;
	size_t done, run = SPACED;
	int plain;

	while (q < e) {
		if (r->rowstart && r->split) {
			q = split_plain(r, q, e, &dq, &cr, &lf);
			if (q == e || r->oom)
				break;
		}
		/* libcsv reads up to the end of this line at most: if the
		 * row ends there, the lines after it may be plain. */
		eol = next_byte('\n', q, e, &lf);
		eol = eol < e ? eol + 1 : e;
		ws = next_byte(' ', q, e, &sp);
		if (next_byte('\t', q, e, &tab) < ws)
			ws = tab;
		plain = ws - q >= PLAINMIN || ws == e;
		if (plain) {
			end = ws;
			run = SPACED;
		} else {
			end = (size_t)(e - q) > run ? q + run : e;
			run = run < CHUNK ? run * 2 : run;
		}
		if (end > eol)
			end = eol;
		csv_set_space_func(&r->p, plain ? NULL : no_space);
		r->nlscan = r->p.quoted || next_byte('"', q, e, &dq) < end;
		grow_geometric(r);
		done =
		    csv_parse(&r->p, q, (size_t)(end - q), on_field, on_row, r);
		q += done;
		if (q < end || r->oom)
			break;
		r->rowstart =
		    q[-1] == '\n' && !r->p.quoted && r->cur_f0 == r->nf;
	}
	return (size_t)(q - p);
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
		done = parse(r, p, n);
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
		r->nlscan = 1;
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
	if (r->raw) {
		r->rawtsv.len = 0;
		if (crm_buf_add(&r->rawtsv, s, (size_t)n))
			return CRM_ENOMEM;
		r->rawp = r->rawtsv.p;
		r->rawn = (size_t)n;
	}
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

/*
 * The raw reader's scanner. A row is scanned from its first byte in rb;
 * a row cut off by the end of the buffer is scanned again once more input
 * is in, so that a row's bytes are always in one piece.
 */

static long
count_nl(const char *p, const char *e)
{
	long n = 0;

	while ((p = memchr(p, '\n', (size_t)(e - p))) != NULL) {
		n++;
		p++;
	}
	return n;
}

static int
field_room(struct crm_csv *r)
{
	size_t cap, *o, *l;
	unsigned char *q;

	if (r->nf < r->fcap)
		return 0;
	cap = r->fcap ? r->fcap * 2 : 256;
	if ((o = realloc(r->foff, cap * sizeof(*o))) != NULL)
		r->foff = o;
	if (o == NULL || (l = realloc(r->flen, cap * sizeof(*l))) == NULL)
		return CRM_ENOMEM;
	r->flen = l;
	if ((q = realloc(r->fesc, cap)) == NULL)
		return CRM_ENOMEM;
	r->fesc = q;
	r->fcap = cap;
	return 0;
}

/* A field at off..off + len of the row's bytes; esc: "" in it. */
static int
add_field(struct crm_csv *r, size_t off, size_t len, int esc)
{
	if (field_room(r))
		return CRM_ENOMEM;
	r->foff[r->nf] = off;
	r->flen[r->nf] = len;
	r->fesc[r->nf++] = (unsigned char)esc;
	return 0;
}

/*
 * The quoted field that opens at q: the byte after its closing quote, or
 * NULL when the input ends first (or the buffer does: then it is read
 * again with more). *esc is set if "" stands for a quote in it.
 */
static const char *
quoted(struct crm_csv *r, const char *q, const char *e, long *nl, int *esc)
{
	const char *s = q + 1, *k;

	for (;;) {
		if ((k = memchr(s, '"', (size_t)(e - s))) == NULL)
			return NULL;
		*nl += count_nl(s, k);
		if (k + 1 < e && k[1] == '"') {
			*esc = 1;
			s = k + 2;
		} else if (k + 1 == e && !r->eof)
			return NULL;
		else
			return k + 1;
	}
}

/* A row that cannot be read: reading goes on after the line of the fault.
 * The line count takes in the row's lines up to there. */
static int
bad_raw(struct crm_csv *r, struct crm_row *row, const char *p, const char *at,
    const char *e, const char *why)
{
	const char *nl = memchr(at, '\n', (size_t)(e - at));

	snprintf(r->err, sizeof(r->err), "%s", why);
	row->line = r->line;
	r->rawp = NULL;
	r->rawn = 0;
	if (nl != NULL) {
		r->line += count_nl(p, nl + 1);
		r->rpos = (size_t)(nl + 1 - r->rb);
	} else {
		r->line += count_nl(p, e);
		r->rpos = r->rlen;
		r->skipping = !r->eof;
	}
	return CRM_EPARSE;
}

/* Skips what is left of a bad line; CRM_EAGAIN until its end is in. */
static int
skip_rest(struct crm_csv *r)
{
	const char *p = r->rb + r->rpos, *e = r->rb + r->rlen;
	const char *nl = memchr(p, '\n', (size_t)(e - p));

	if (nl == NULL) {
		r->rpos = r->rlen;
		r->skipping = !r->eof;
		return r->eof ? CRM_EOF : CRM_EAGAIN;
	}
	r->line++;
	r->rpos = (size_t)(nl + 1 - r->rb);
	r->skipping = 0;
	return 0;
}

/* Blank lines: CR, LF and CRLF each end one line. */
static const char *
skip_blank(struct crm_csv *r, const char *p, const char *e)
{
	while (p < e && (*p == '\n' || *p == '\r')) {
		if (*p == '\r' && p + 1 == e && !r->eof)
			break; /* a LF may follow */
		if (*p == '\r' && p + 1 < e && p[1] == '\n')
			p++;
		p++;
		r->line++;
	}
	return p;
}

/* The fields as a row: the row's n bytes at p copied once, each field
 * ended by a NUL in place of what followed it, "" made one quote. */
static int
row_out(struct crm_csv *r, struct crm_row *row, const char *p, size_t n)
{
	size_t i, j, k;
	char *s;

	r->data.len = 0;
	if (crm_buf_grow(&r->data, n + 1) || want_row_arrays(r, r->nf))
		return CRM_ENOMEM;
	memcpy(r->data.p, p, n);
	for (i = 0; i < r->nf; i++) {
		s = r->data.p + r->foff[i];
		if (r->fesc[i]) {
			for (j = k = 0; j < r->flen[i]; j++, k++) {
				s[k] = s[j];
				j += s[j] == '"';
			}
			r->flen[i] = k;
		}
		s[r->flen[i]] = '\0';
		r->v[i] = s;
		r->len[i] = r->flen[i];
	}
	row->n = r->nf;
	row->v = r->v;
	row->len = r->len;
	return 0;
}

/* The fields of the row at p; t gets where its line end (or the input's
 * end) is. CRM_EAGAIN when the buffer ends inside the row. */
static int
scan_fields(struct crm_csv *r, struct crm_row *row, const char *p,
    const char *e, const char **t, long *nl)
{
	const char *q = p, *k;
	int esc, rc;

	for (;;) {
		esc = 0;
		if (q < e && *q == '"') {
			if ((k = quoted(r, q, e, nl, &esc)) == NULL)
				return r->eof ?
				    bad_raw(r, row, p, e, e,
					"unterminated quoted field") :
				    CRM_EAGAIN;
			if (k < e && *k != ',' && *k != '\r' && *k != '\n')
				return bad_raw(r, row, p, k, e,
				    "malformed quoted field");
			rc = add_field(r, (size_t)(q + 1 - p),
			    (size_t)(k - q - 2), esc);
		} else {
			k = field_end(q, e, 0);
			if (k == e && !r->eof)
				return CRM_EAGAIN;
			if (k < e && *k == '"')
				return bad_raw(r, row, p, k, e,
				    "malformed quoted field");
			rc = add_field(r, (size_t)(q - p), (size_t)(k - q), 0);
		}
		if (rc)
			return rc;
		if (k == e || *k != ',') {
			*t = k;
			return 0;
		}
		q = k + 1;
	}
}

static int
scan_row(struct crm_csv *r, struct crm_row *row)
{
	const char *p, *e = r->rb + r->rlen, *t = NULL, *end;
	long nl = 0;
	int rc;

	if (r->skipping && (rc = skip_rest(r)))
		return rc;
	p = skip_blank(r, r->rb + r->rpos, e);
	r->rpos = (size_t)(p - r->rb);
	if (p == e)
		return r->eof ? CRM_EOF : CRM_EAGAIN;
	if (*p == '\r')
		return CRM_EAGAIN;
	r->nf = 0;
	if ((rc = scan_fields(r, row, p, e, &t, &nl)))
		return rc;
	if (t < e && *t == '\r' && t + 1 == e && !r->eof)
		return CRM_EAGAIN;
	end = t == e ? e : t + 1 + (*t == '\r' && t + 1 < e && t[1] == '\n');
	row->line = r->line;
	r->line += nl + (t < e);
	r->rawp = p;
	r->rawn = (size_t)(t - p);
	r->rpos = (size_t)(end - r->rb);
	return row_out(r, row, p, r->rawn);
}

/*
 * Keeps the unread bytes, at the front, and reads more after them: at
 * least as many as are kept, or to the end of the input. A row that is
 * not whole yet is scanned again from its start once more is read, so a
 * long one read from a pipe (64 KB a read) would otherwise be scanned
 * again for every 64 KB of it.
 */
static int
refill(struct crm_csv *r)
{
	size_t keep = r->rlen - r->rpos, cap, got = 0;
	ssize_t n;
	char *p;

	memmove(r->rb, r->rb + r->rpos, keep);
	r->rlen = keep;
	r->rpos = 0;
	while (r->rcap - r->rlen < CHUNK / 2 || r->rcap - r->rlen < keep) {
		cap = r->rcap * 2;
		if ((p = realloc(r->rb, cap)) == NULL)
			return CRM_ENOMEM;
		r->rb = p;
		r->rcap = cap;
	}
	do {
		do
			n = read(r->fd, r->rb + r->rlen, r->rcap - r->rlen);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return CRM_EIO;
		if (n == 0)
			r->eof = 1;
		if (r->first && n >= 3 && memcmp(r->rb, "\xef\xbb\xbf", 3) == 0)
			r->rpos = 3;
		r->first = 0;
		r->rlen += (size_t)n;
		got += (size_t)n;
	} while (n > 0 && got < keep);
	return 0;
}

static int
next_raw(struct crm_csv *r, struct crm_row *row)
{
	int rc;

	while ((rc = scan_row(r, row)) == CRM_EAGAIN)
		if ((rc = refill(r)))
			return rc;
	return rc;
}

int
crm_csv_next(struct crm_csv *r, struct crm_row *row)
{
	struct qrow *q;
	size_t i;
	int rc;

	if (r->fmt == CRM_FMT_TSV)
		return next_tsv(r, row);
	if (r->raw)
		return next_raw(r, row);
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
crm_csv_raw(const struct crm_csv *r, const char **p, size_t *n)
{
	*p = r->raw ? r->rawp : NULL;
	*n = r->raw && r->rawp != NULL ? r->rawn : 0;
}

void
crm_csv_close(struct crm_csv *r)
{
	if (r == NULL)
		return;
	if (r->tsv)
		fclose(r->tsv);
	else if (!r->raw)
		csv_free(&r->p);
	free(r->rb);
	crm_buf_free(&r->rawtsv);
	free(r->chunk);
	crm_buf_free(&r->data);
	crm_buf_free(&r->tline);
	free(r->foff);
	free(r->flen);
	free(r->fesc);
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

int
crm_csv_formula(const char *s, size_t n)
{
	size_t i = 1, digits = 0;

	if (n == 0 || strchr("=+-@\t\r", s[0]) == NULL || s[0] == '\0')
		return 0;
	if (s[0] != '+' && s[0] != '-')
		return 1;
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
		digits++;
	if (i < n && s[i] == '.' && digits > 0)
		for (i++, digits = 0; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			digits++;
	return i < n || digits == 0;
}

int
crm_csv_field_safe(struct crm_buf *b, int fmt, int first, const char *s,
    size_t n)
{
	struct crm_buf t = { 0 };
	int rc;

	if (!crm_csv_formula(s, n))
		return crm_csv_field(b, fmt, first, s, n);
	if (crm_buf_addc(&t, '\'') || crm_buf_add(&t, s, n)) {
		crm_buf_free(&t);
		return CRM_ENOMEM;
	}
	rc = crm_csv_field(b, fmt, first, t.p, t.len);
	crm_buf_free(&t);
	return rc;
}
