/*
 * crm-segment: keep the rows of a contact stream that an expression or a
 * named segment selects, or label, count or split them by segment; with
 * --campaign, make a mailing list that only holds contacts who consented.
 * Rows pass through byte for byte. No store is needed.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "crm.h"

#define MAXSHOWN 100         /* bad rows reported one by one */
#define FLUSH_AT (64 * 1024) /* bytes of output buffered */

/* Why --campaign holds a row back, in the order the checks are made. */
enum { H_EMAIL, H_OPTOUT, H_NOCONSENT, H_UNSUB, H_DUP, NHELD };
static const char *const held_why[NHELD] = { "without a usable email",
	"opted out (email_opt_in false)",
	"without recorded consent (email_opt_in empty or not a boolean)",
	"unsubscribed", "repeating an email already listed" };

/* Where rows go: standard output, -o, or a --split file. */
struct dest {
	FILE *fp;
	char *path; /* for messages; NULL: standard output */
	struct crm_buf b;
};

/* A named segment in use. */
struct seg {
	size_t idx; /* in the config */
	struct crm_expr *e;
	long count;
	struct dest d; /* --split */
};

struct ctx {
	/* options */
	const char *expr, *cfgpath, *outpath, *splitdir, *label, *defname;
	struct crm_buf segarg; /* -s names, comma-separated */
	int fmt, invert, quiet, count, campaign;
	int64_t now;
	char **paths;
	size_t npaths;
	/* config and expressions */
	struct crm_config *cf;
	struct crm_segments *segs;
	struct seg *sel; /* in config order */
	size_t nsel;
	struct crm_expr *e;
	int labelling; /* --label, --count or --split */
	/* the header (CSV, TSV) or the columns read (NDJSON) */
	char **cols;
	size_t ncols, nhdr;
	struct crm_buf hraw;
	int started;
	const char **cv; /* NDJSON: a row's cells by column */
	size_t *cl;
	/* --campaign */
	long ecol, ocol, ccol, ucol;
	struct crm_map seen;
	long held[NHELD];
	/* output and counts */
	struct dest out, deflt;    /* deflt: --split's file for --default */
	const char *fname, *first; /* the input read, the first input */
	size_t nkeys;              /* NDJSON: the row's own keys */
	long rows, matched, listed, nbad, ndefault;
};

static void
usage(int status)
{
	fputs("usage: crm-segment [-qv] [-c config] [-e expr] "
	      "[-F csv|tsv|ndjson] [-o file]\n"
	      "                   [-s name[,name...]] [--as-of time] "
	      "[--campaign]\n"
	      "                   [--count | --label[=column] | --split dir] "
	      "[--default name]\n"
	      "                   [file ...]\n",
	    status ? stderr : stdout);
	exit(status);
}

/* ---- output ---- */

static void
dest_flush(struct dest *d, int force)
{
	if (d->b.len == 0 || (!force && d->b.len < FLUSH_AT))
		return;
	if (fwrite(d->b.p, 1, d->b.len, d->fp) != d->b.len)
		errx(EX_IOERR, "%s: write error", d->path ? d->path : "stdout");
	d->b.len = 0;
}

static void
dest_close(struct dest *d)
{
	if (d->fp == NULL)
		return;
	dest_flush(d, 1);
	if (fflush(d->fp) != 0 || ferror(d->fp) ||
	    (d->fp != stdout && fclose(d->fp) != 0))
		errx(EX_IOERR, "%s: write error", d->path ? d->path : "stdout");
	if (d->fp == stdout && fclose(stdout) != 0)
		errx(EX_IOERR, "stdout: write error");
	d->fp = NULL;
	free(d->path);
	crm_buf_free(&d->b);
}

static void
dest_open(struct dest *d, const char *dir, const char *name, int fmt)
{
	static const char *const ext[] = { "csv", "tsv", "ndjson" };
	size_t n = strlen(dir) + strlen(name) + 9;
	int fd;

	if ((d->path = malloc(n)) == NULL)
		err(EX_OSERR, NULL);
	snprintf(d->path, n, "%s/%s.%s", dir, name, ext[fmt]);
	if ((fd = open(d->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		 0666)) < 0 ||
	    (d->fp = fdopen(fd, "w")) == NULL)
		err(EX_CANTCREAT, "%s", d->path);
}

static void
oom(int rc)
{
	if (rc)
		errx(EX_OSERR, "%s", crm_strerror(CRM_ENOMEM));
}

/* The value of the --label column for segment s (-1: the default). */
static const char *
label_of(const struct ctx *c, long s)
{
	if (s >= 0)
		return crm_segment_name(c->segs, c->sel[s].idx);
	return c->defname ? c->defname : "";
}

/* A row as it came in, and the label column after it when asked for. */
static void
put_row(struct ctx *c, struct dest *d, const char *raw, size_t n, size_t nkeys,
    long s)
{
	const char *lab = label_of(c, s);
	size_t k = n;

	if (c->label == NULL || c->fmt != CRM_FMT_NDJSON) {
		oom(crm_buf_add(&d->b, raw, n));
		if (c->label != NULL)
			oom(crm_csv_field(&d->b, c->fmt, 0, lab, strlen(lab)));
	} else {
		/* Into the object, before its closing brace. */
		while (k > 0 && raw[k - 1] != '}')
			k--;
		oom(crm_buf_add(&d->b, raw, k > 0 ? k - 1 : 0));
		oom(crm_buf_adds(&d->b, nkeys ? "," : ""));
		oom(crm_json_str(&d->b, c->label, strlen(c->label)));
		oom(crm_buf_addc(&d->b, ':'));
		oom(crm_json_str(&d->b, lab, strlen(lab)));
		oom(crm_buf_addc(&d->b, '}'));
	}
	oom(crm_buf_addc(&d->b, '\n'));
	dest_flush(d, 0);
}

static void
put_header(struct ctx *c, struct dest *d)
{
	if (c->fmt == CRM_FMT_NDJSON)
		return;
	oom(crm_buf_add(&d->b, c->hraw.p, c->hraw.len));
	if (c->label != NULL)
		oom(crm_csv_field(&d->b, c->fmt, c->hraw.len == 0, c->label,
		    strlen(c->label)));
	oom(crm_buf_addc(&d->b, '\n'));
}

/* --count: a count for each segment in use and the rows in none, or the
 * number of rows selected when no segment is in use. */
static void
put_counts(struct ctx *c)
{
	char num[24];
	size_t i;

	if (c->nsel == 0) {
		fprintf(c->out.fp, "%ld\n", c->matched);
		return;
	}
	if (c->fmt != CRM_FMT_NDJSON)
		oom(crm_buf_adds(&c->out.b,
		    c->fmt == CRM_FMT_TSV ? "segment\tcount\n" :
					    "segment,count\n"));
	for (i = 0; i <= c->nsel; i++) {
		const char *name = label_of(c, i < c->nsel ? (long)i : -1);

		snprintf(num, sizeof(num), "%ld",
		    i < c->nsel ? c->sel[i].count : c->ndefault);
		if (c->fmt == CRM_FMT_NDJSON) {
			oom(crm_buf_adds(&c->out.b, "{\"segment\":"));
			oom(crm_json_str(&c->out.b, name, strlen(name)));
			oom(crm_buf_adds(&c->out.b, ",\"count\":"));
			oom(crm_buf_adds(&c->out.b, num));
			oom(crm_buf_addc(&c->out.b, '}'));
		} else {
			oom(crm_csv_field(&c->out.b, c->fmt, 1, name,
			    strlen(name)));
			oom(crm_csv_field(&c->out.b, c->fmt, 0, num,
			    strlen(num)));
		}
		oom(crm_buf_addc(&c->out.b, '\n'));
	}
}

/* ---- the rows ---- */

/* The row is selected: -e and, outside --label, --count and --split, one
 * of the segments of -s; -v turns the answer round. */
static int
selected(const struct ctx *c, const char *const *v, const size_t *len, size_t n)
{
	size_t i;
	int yes = c->e == NULL || crm_expr_match(c->e, v, len, n);

	if (yes && !c->labelling && c->nsel > 0) {
		for (i = 0, yes = 0; !yes && i < c->nsel; i++)
			yes = crm_expr_match(c->sel[i].e, v, len, n);
	}
	return yes != c->invert;
}

/* The first segment in use that the row is in, or -1. */
static long
first_segment(const struct ctx *c, const char *const *v, const size_t *len,
    size_t n)
{
	size_t i;

	for (i = 0; i < c->nsel; i++)
		if (crm_expr_match(c->sel[i].e, v, len, n))
			return (long)i;
	return -1;
}

static const char *
cell(const char *const *v, const size_t *len, size_t n, long col, size_t *k)
{
	const char *s = col >= 0 && (size_t)col < n ? v[col] : "";

	*k = col >= 0 && (size_t)col < n ? len[col] : 0;
	crm_trim(&s, k);
	return s;
}

/* An unsubscribe counts unless consent was given again after it. */
static int
unsubscribed(const struct ctx *c, const char *const *v, const size_t *len,
    size_t n)
{
	const char *u, *g;
	size_t un, gn;
	int64_t tu, tg;

	u = cell(v, len, n, c->ucol, &un);
	g = cell(v, len, n, c->ccol, &gn);
	if (un == 0)
		return 0;
	return crm_time_parse(u, un, &tu, NULL) != 0 ||
	    crm_time_parse(g, gn, &tg, NULL) != 0 || tg <= tu;
}

/* --campaign: why the row may not be mailed, or -1 when it may. */
static int
hold_back(struct ctx *c, const char *const *v, const size_t *len, size_t n)
{
	char norm[256];
	const char *s;
	size_t k, nn;
	uint64_t x;
	int yes;

	s = cell(v, len, n, c->ecol, &k);
	if (k == 0 || crm_email_norm(s, k, norm, &nn) != 0)
		return H_EMAIL;
	s = cell(v, len, n, c->ocol, &k);
	if (k > 0 && crm_bool_parse(s, k, &yes) == 0 && !yes)
		return H_OPTOUT;
	if (k == 0 || crm_bool_parse(s, k, &yes) != 0)
		return H_NOCONSENT;
	if (unsubscribed(c, v, len, n))
		return H_UNSUB;
	if (crm_map_get(&c->seen, norm, nn, &x))
		return H_DUP;
	oom(crm_map_put(&c->seen, norm, nn, 1));
	return -1;
}

static void
one_row(struct ctx *c, const char *const *v, const size_t *len, size_t n,
    const char *raw, size_t rawn)
{
	struct dest *d = &c->out;
	long s = -1;
	int why;

	c->rows++;
	if (!selected(c, v, len, n))
		return;
	if (c->labelling)
		s = first_segment(c, v, len, n);
	/* --split drops the rows in no segment unless --default names a
	 * file: nothing of them is listed, nor their address remembered. */
	if (c->splitdir != NULL && s < 0 && c->defname == NULL)
		return;
	if (c->campaign && (why = hold_back(c, v, len, n)) >= 0) {
		c->held[why]++;
		return;
	}
	if (s >= 0 || !c->labelling || c->nsel == 0)
		c->matched++;
	if (c->quiet)
		exit(0); /* as grep -q: the answer is known */
	if (s >= 0)
		c->sel[s].count++;
	else
		c->ndefault++;
	if (c->count) {
		c->listed++;
		return;
	}
	if (c->splitdir != NULL)
		d = s >= 0 ? &c->sel[s].d : &c->deflt;
	put_row(c, d, raw, rawn, c->nkeys, s);
	c->listed++;
}

/* A row that cannot be used is reported and left out; the run goes on
 * and ends with EX_DATAERR. */
static void
bad_row(struct ctx *c, long line, const char *why)
{
	if (++c->nbad <= MAXSHOWN)
		warnx("%s:%ld: %s", c->fname, line, why);
	else if (c->nbad == MAXSHOWN + 1)
		warnx("more bad rows are not shown");
}

/* UTF-8 without NUL bytes: eight ASCII bytes at a time where it can, a
 * sequence at a time where it cannot. */
static int
utf8_ok(const char *s, size_t n)
{
	const uint64_t hi = 0x8080808080808080ULL, lo = 0x0101010101010101ULL;
	uint64_t w;
	size_t i = 0, k, bad;
	unsigned char c;

	while (i < n) {
		if (i + 8 <= n) {
			memcpy(&w, s + i, 8);
			if ((w & hi) == 0 && ((w - lo) & ~w & hi) == 0) {
				i += 8;
				continue;
			}
		}
		c = (unsigned char)s[i];
		k = c >= 0x01 && c < 0x80 ? 1 :
		    c >= 0xf0             ? 4 :
		    c >= 0xe0             ? 3 :
					    2;
		if (i + k > n || !crm_utf8_valid(s + i, k, &bad))
			return 0;
		i += k;
	}
	return 1;
}

/* Which column of a row holds bad UTF-8, for the message. */
static void
bad_utf8(struct ctx *c, long line, const char *const *v, const size_t *len,
    size_t n)
{
	char why[300];
	size_t i, bad;

	for (i = 0; i < n && crm_utf8_valid(v[i], len[i], &bad); i++)
		;
	snprintf(why, sizeof(why), "column \"%s\": invalid UTF-8",
	    i < n && i < c->ncols ? c->cols[i] : "?");
	bad_row(c, line, why);
}

/* ---- setting up for a header ---- */

static void
add_column(struct ctx *c, const char *name)
{
	char **p = realloc(c->cols, (c->ncols + 1) * sizeof(*p));

	if (p == NULL || (p[c->ncols] = strdup(name)) == NULL)
		err(EX_OSERR, NULL);
	c->cols = p;
	c->ncols++;
	if ((c->cv = realloc(c->cv, c->ncols * sizeof(*c->cv))) == NULL ||
	    (c->cl = realloc(c->cl, c->ncols * sizeof(*c->cl))) == NULL)
		err(EX_OSERR, NULL);
}

/* NDJSON: the columns an expression named that the list lacked. */
static void
add_columns(struct ctx *c, const struct crm_expr *e)
{
	size_t i, n = crm_expr_added(e), base = c->ncols;

	for (i = 0; i < n; i++)
		add_column(c, crm_expr_column(e, base + i));
}

static void
expr_error(const struct ctx *c, const struct crm_expr_err *e, int rc)
{
	char msg[1200];

	if (rc == CRM_ENOMEM)
		errx(EX_OSERR, "%s", crm_strerror(rc));
	crm_expr_format(c->expr, e, "  ", msg, sizeof(msg));
	errx(EX_USAGE, "-e: %s", msg);
}

/* Compiles -e (i < 0) or the segment in use i against the columns. */
static struct crm_expr *
compile_one(struct ctx *c, long i, unsigned flags)
{
	const char *const *names = (const char *const *)c->cols;
	struct crm_expr_err e;
	struct crm_expr *x;
	char msg[1400];
	int rc;

	if (i < 0) {
		if ((rc = crm_expr_compile(c->expr, names, c->ncols, c->cf,
			 c->now, flags, &x, &e)))
			expr_error(c, &e, rc);
		return x;
	}
	rc = crm_segment_compile(c->segs, c->sel[i].idx, names, c->ncols, c->cf,
	    c->now, flags, &x, msg, sizeof(msg));
	if (rc)
		errx(rc == CRM_ENOMEM ? EX_OSERR : EX_CONFIG, "%s",
		    rc == CRM_ENOMEM ? crm_strerror(rc) : msg);
	return x;
}

/*
 * Before any input: errors that do not depend on the columns (syntax,
 * types of known columns) are reported even when no row comes.
 */
static void
check_exprs(struct ctx *c)
{
	size_t i;

	if (c->expr != NULL)
		crm_expr_close(compile_one(c, -1, CRM_EXPR_ANYCOL));
	for (i = 0; i < c->nsel; i++)
		crm_expr_close(compile_one(c, (long)i, CRM_EXPR_ANYCOL));
}

/* Against the header; for NDJSON, against the list of columns read so
 * far, which each expression extends by the names it adds. */
static void
compile(struct ctx *c)
{
	unsigned flags = c->fmt == CRM_FMT_NDJSON ? CRM_EXPR_ANYCOL : 0;
	size_t i;

	if (c->expr != NULL) {
		c->e = compile_one(c, -1, flags);
		add_columns(c, c->e);
	}
	for (i = 0; i < c->nsel; i++) {
		c->sel[i].e = compile_one(c, (long)i, flags);
		add_columns(c, c->sel[i].e);
	}
}

/* The one column that gives a core field; two that do are refused, since
 * which of them holds the consent would be a guess. */
static long
sole_column(struct ctx *c, const char *name)
{
	const char *const *h = (const char *const *)c->cols;
	long i = crm_expr_lookup(h, c->nhdr, name, strlen(name)), j;

	for (j = i + 1; i >= 0 && (size_t)j < c->nhdr; j++)
		if (crm_expr_lookup(h + j, 1, name, strlen(name)) == 0)
			errx(EX_DATAERR,
			    "--campaign: %s: columns \"%s\" and \"%s\" both "
			    "give %s; nothing is written",
			    c->fname, h[i], h[j], name);
	return i;
}

static long
ndjson_column(struct ctx *c, const char *name)
{
	long i = crm_expr_lookup((const char *const *)c->cols, c->ncols, name,
	    strlen(name));

	if (i < 0) {
		add_column(c, name);
		i = (long)c->ncols - 1;
	}
	return i;
}

/* --campaign needs an email and a consent column; without them it writes
 * nothing rather than a list nobody checked. */
static void
campaign_columns(struct ctx *c)
{
	if (c->fmt == CRM_FMT_NDJSON) {
		c->ecol = ndjson_column(c, "email");
		c->ocol = ndjson_column(c, "email_opt_in");
		c->ccol = ndjson_column(c, "consent_at");
		c->ucol = ndjson_column(c, "unsubscribed_at");
		return;
	}
	c->ecol = sole_column(c, "email");
	c->ocol = sole_column(c, "email_opt_in");
	c->ccol = sole_column(c, "consent_at");
	c->ucol = sole_column(c, "unsubscribed_at");
	if (c->ecol < 0 || c->ocol < 0)
		errx(EX_DATAERR,
		    "--campaign: %s has no %s column, so consent cannot be "
		    "checked; nothing is written",
		    c->fname, c->ecol < 0 ? "email" : "email_opt_in");
}

static void
open_outputs(struct ctx *c)
{
	size_t i;

	if (c->quiet || c->count)
		return;
	if (c->splitdir == NULL) {
		put_header(c, &c->out);
		return;
	}
	if (mkdir(c->splitdir, 0700) != 0 && errno != EEXIST)
		err(EX_CANTCREAT, "%s", c->splitdir);
	for (i = 0; i < c->nsel; i++) {
		dest_open(&c->sel[i].d, c->splitdir,
		    crm_segment_name(c->segs, c->sel[i].idx), c->fmt);
		put_header(c, &c->sel[i].d);
	}
	if (c->defname != NULL) {
		dest_open(&c->deflt, c->splitdir, c->defname, c->fmt);
		put_header(c, &c->deflt);
	}
}

/* The first input's header (none for NDJSON) fixes the columns. */
static void
setup(struct ctx *c)
{
	size_t i;

	c->started = 1;
	c->first = c->fname;
	for (i = 0; c->label != NULL && i < c->nhdr; i++)
		if (strcmp(c->cols[i], c->label) == 0)
			errx(EX_DATAERR,
			    "%s already has a column \"%s\": name another "
			    "with --label=NAME",
			    c->fname, c->label);
	compile(c);
	if (c->campaign)
		campaign_columns(c);
	open_outputs(c);
}

/* ---- inputs ---- */

static void
header(struct ctx *c, const struct crm_row *row, const char *raw, size_t n)
{
	size_t i;

	if (!utf8_ok(raw, n))
		errx(EX_DATAERR, "%s:%ld: the header is not valid UTF-8",
		    c->fname, row->line);
	if (c->started) {
		for (i = 0; row->n == c->nhdr && i < row->n; i++)
			if (strcmp(row->v[i], c->cols[i]) != 0)
				break;
		if (row->n != c->nhdr || i < row->n)
			errx(EX_DATAERR,
			    "%s: its header differs from that of %s", c->fname,
			    c->first);
		return;
	}
	for (i = 0; i < row->n; i++)
		add_column(c, row->v[i]);
	c->nhdr = row->n;
	oom(crm_buf_add(&c->hraw, raw, n));
	setup(c);
}

static void
read_table(struct ctx *c, int fd)
{
	struct crm_csv *r;
	struct crm_row row;
	const char *raw;
	size_t rawn;
	char why[80];
	int rc, first = 1;

	oom(crm_csv_open_raw(fd, c->fmt, &r));
	while ((rc = crm_csv_next(r, &row)) == 0 || rc == CRM_EPARSE) {
		if (rc != 0 && first)
			errx(EX_DATAERR,
			    "%s:%ld: the header cannot be read: %s", c->fname,
			    row.line, crm_csv_error(r));
		if (rc != 0) {
			bad_row(c, row.line, crm_csv_error(r));
			continue;
		}
		crm_csv_raw(r, &raw, &rawn);
		if (first) {
			header(c, &row, raw, rawn);
			first = 0;
		} else if (row.n != c->nhdr) {
			snprintf(why, sizeof(why),
			    "expected %zu fields, found %zu", c->nhdr, row.n);
			bad_row(c, row.line, why);
		} else if (!utf8_ok(raw, rawn))
			bad_utf8(c, row.line, (const char *const *)row.v,
			    row.len, row.n);
		else
			one_row(c, (const char *const *)row.v, row.len, row.n,
			    raw, rawn);
	}
	if (rc != CRM_EOF)
		errx(crm_sysexit(rc), "%s: %s", c->fname, crm_strerror(rc));
	crm_csv_close(r);
}

/* An NDJSON row's values in the order of the columns read; 0 if the row
 * cannot be used. */
static int
ndjson_cells(struct ctx *c, const struct crm_inrow *row)
{
	static const char unset[] = "";
	char why[200];
	size_t i, bad;
	long k;

	for (i = 0; i < c->ncols; i++) {
		c->cv[i] = unset;
		c->cl[i] = 0;
	}
	for (i = 0; i < row->n; i++) {
		if (c->label != NULL && strcmp(row->name[i], c->label) == 0)
			snprintf(why, sizeof(why),
			    "it already has a key \"%s\"", c->label);
		else if (!crm_utf8_valid(row->val[i], row->vlen[i], &bad))
			snprintf(why, sizeof(why),
			    "key \"%.100s\": invalid UTF-8", row->name[i]);
		else {
			k = crm_expr_lookup((const char *const *)c->cols,
			    c->ncols, row->name[i], row->nlen[i]);
			if (k >= 0 && c->cv[k] == unset) {
				c->cv[k] = row->val[i];
				c->cl[k] = row->vlen[i];
			}
			continue;
		}
		bad_row(c, row->line, why);
		return 0;
	}
	c->nkeys = row->n;
	return 1;
}

static void
read_ndjson(struct ctx *c, const char *path)
{
	struct crm_in *in;
	struct crm_inrow row;
	char msg[200];
	int rc;

	if ((rc = crm_in_open(path, CRM_FMT_NDJSON, &in, msg, sizeof(msg))))
		errx(crm_sysexit(rc), "%s: %s", c->fname, crm_strerror(rc));
	if (!c->started)
		setup(c);
	while ((rc = crm_in_next(in, &row)) == 0 || rc == CRM_EPARSE) {
		if (rc != 0)
			bad_row(c, row.line, crm_in_error(in));
		else if (ndjson_cells(c, &row))
			one_row(c, c->cv, c->cl, c->ncols, row.raw, row.rawlen);
	}
	if (rc != CRM_EOF)
		errx(crm_sysexit(rc), "%s: %s", c->fname, crm_strerror(rc));
	crm_in_close(in);
}

static void
read_input(struct ctx *c, const char *path)
{
	int fd = 0;

	c->fname = strcmp(path, "-") == 0 ? "stdin" : path;
	if (c->fmt == CRM_FMT_NDJSON) {
		read_ndjson(c, path);
		return;
	}
	if (strcmp(path, "-") != 0 &&
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		err(EX_NOINPUT, "%s", path);
	read_table(c, fd);
	if (fd != 0)
		close(fd);
}

/* A missing input is found before anything is written. */
static void
check_inputs(const struct ctx *c)
{
	size_t i;

	for (i = 0; i < c->npaths; i++)
		if (strcmp(c->paths[i], "-") != 0 &&
		    access(c->paths[i], R_OK) != 0)
			err(EX_NOINPUT, "%s", c->paths[i]);
}

/* ---- options and the config ---- */

static void
load_config(struct ctx *c)
{
	char path[4096], msg[1024];
	int rc;

	rc = crm_config_load(crm_config_path(c->cfgpath, path, sizeof(path)),
	    &c->cf, msg, sizeof(msg));
	if (rc == CRM_ECONFIG)
		errx(EX_CONFIG, "%s", msg);
	if (rc)
		errx(crm_sysexit(rc), "%s", crm_strerror(rc));
	if ((rc = crm_segment_load(c->cf, &c->segs, msg, sizeof(msg))))
		errx(rc == CRM_ECONFIG ? EX_CONFIG : EX_OSERR, "%s",
		    rc == CRM_ECONFIG ? msg : crm_strerror(rc));
}

static void
use_segment(struct ctx *c, size_t idx)
{
	size_t i;

	for (i = 0; i < c->nsel; i++)
		if (c->sel[i].idx == idx)
			return;
	if ((c->sel = realloc(c->sel, (c->nsel + 1) * sizeof(*c->sel))) == NULL)
		err(EX_OSERR, NULL);
	memset(&c->sel[c->nsel], 0, sizeof(c->sel[0]));
	c->sel[c->nsel++].idx = idx;
}

static int
by_idx(const void *a, const void *b)
{
	const struct seg *x = a, *y = b;

	return (x->idx > y->idx) - (x->idx < y->idx);
}

/* The segments in use: those of -s, else, to label, count or split, all
 * of them; kept in config order, where the first match is the label. */
static void
choose_segments(struct ctx *c)
{
	char *s = c->segarg.p, *p, *save = NULL;
	size_t i, n = crm_segment_count(c->segs);
	long k;

	for (p = s ? strtok_r(s, ",", &save) : NULL; p != NULL;
	     p = strtok_r(NULL, ",", &save)) {
		if ((k = crm_segment_find(c->segs, p, strlen(p))) < 0)
			errx(EX_USAGE, "no segment \"%s\" in the config", p);
		use_segment(c, (size_t)k);
	}
	if (c->segarg.len == 0 && c->labelling)
		for (i = 0; i < n; i++)
			use_segment(c, i);
	if (c->nsel > 1)
		qsort(c->sel, c->nsel, sizeof(*c->sel), by_idx);
	if (c->nsel == 0 && (c->label != NULL || c->splitdir != NULL))
		errx(EX_USAGE, "no segments to %s by: the config defines none",
		    c->label != NULL ? "label" : "split");
	if (c->defname != NULL &&
	    crm_segment_find(c->segs, c->defname, strlen(c->defname)) >= 0)
		errx(EX_USAGE, "--default \"%s\" is the name of a segment",
		    c->defname);
}

enum {
	O_ASOF = 256,
	O_CAMPAIGN,
	O_COUNT,
	O_DEFAULT,
	O_LABEL,
	O_SPLIT,
	O_VERSION
};

static const struct option longopts[] = { { "as-of", required_argument, NULL,
					      O_ASOF },
	{ "campaign", no_argument, NULL, O_CAMPAIGN },
	{ "config", required_argument, NULL, 'c' },
	{ "count", no_argument, NULL, O_COUNT },
	{ "default", required_argument, NULL, O_DEFAULT },
	{ "expr", required_argument, NULL, 'e' },
	{ "format", required_argument, NULL, 'F' },
	{ "help", no_argument, NULL, 'h' },
	{ "invert", no_argument, NULL, 'v' },
	{ "label", optional_argument, NULL, O_LABEL },
	{ "output", required_argument, NULL, 'o' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "segment", required_argument, NULL, 's' },
	{ "split", required_argument, NULL, O_SPLIT },
	{ "version", no_argument, NULL, O_VERSION }, { NULL, 0, NULL, 0 } };

static void
option(struct ctx *c, int ch)
{
	switch (ch) {
	case 'c':
		c->cfgpath = optarg;
		break;
	case 'e':
		if (c->expr != NULL)
			errx(EX_USAGE,
			    "one -e only: join conditions with and "
			    "or or");
		c->expr = optarg;
		break;
	case 'F':
		c->fmt = crm_fmt_parse(optarg);
		if (c->fmt < 0 || c->fmt == CRM_FMT_YAML)
			errx(EX_USAGE, "unknown format \"%s\"", optarg);
		break;
	case 'h':
		usage(0);
		break;
	case 'o':
		c->outpath = optarg;
		break;
	case 'q':
		c->quiet = 1;
		break;
	case 's':
		oom(crm_buf_adds(&c->segarg, c->segarg.len ? "," : ""));
		oom(crm_buf_adds(&c->segarg, optarg));
		oom(crm_buf_nul(&c->segarg));
		break;
	case 'v':
		c->invert = 1;
		break;
	default:
		usage(EX_USAGE);
	}
}

static void
long_option(struct ctx *c, int ch)
{
	switch (ch) {
	case O_ASOF:
		if (crm_time_parse(optarg, strlen(optarg), &c->now, NULL))
			errx(EX_USAGE, "invalid time \"%s\"", optarg);
		break;
	case O_CAMPAIGN:
		c->campaign = 1;
		break;
	case O_COUNT:
		c->count = 1;
		break;
	case O_DEFAULT:
		c->defname = optarg;
		break;
	case O_LABEL:
		c->label = optarg ? optarg : "segment";
		break;
	case O_SPLIT:
		c->splitdir = optarg;
		break;
	case O_VERSION:
		puts("crm-segment (crm) " CRM_VERSION);
		exit(0);
	default:
		option(c, ch);
	}
}

/* Combinations that cannot mean anything, or would let a campaign list
 * through unchecked, are refused before anything is read. */
static void
validate(const struct ctx *c)
{
	const char *d = c->defname;

	if (c->campaign && c->invert)
		errx(EX_USAGE,
		    "--campaign and -v exclude each other: a "
		    "campaign list is made of selected rows only");
	if (c->invert && c->labelling)
		errx(EX_USAGE,
		    "-v selects rows; it does not go with --label, "
		    "--count or --split");
	if (c->quiet && (c->campaign || c->labelling || c->outpath))
		errx(EX_USAGE,
		    "-q writes nothing; it does not go with "
		    "--campaign, --label, --count, --split or -o");
	if (c->count && (c->label != NULL || c->splitdir != NULL))
		errx(EX_USAGE, "--count goes with neither --label nor --split");
	if (c->splitdir != NULL && c->outpath != NULL)
		errx(EX_USAGE, "--split writes files of its own; not with -o");
	if (d != NULL && !c->labelling)
		errx(EX_USAGE,
		    "--default goes with --label, --count or --split");
	if (c->label != NULL && *c->label == '\0')
		errx(EX_USAGE, "--label= names a column: it is not empty");
	if (d != NULL && c->splitdir != NULL &&
	    (*d == '\0' || *d == '.' || strchr(d, '/') != NULL))
		errx(EX_USAGE, "--default \"%s\" cannot be a file name", d);
	if (c->expr == NULL && c->segarg.len == 0 && !c->labelling &&
	    !c->campaign)
		errx(EX_USAGE,
		    "nothing to select by: give -e, -s, --label, "
		    "--count, --split or --campaign");
}

static void
options(struct ctx *c, int argc, char *argv[])
{
	int ch;

	c->now = (int64_t)time(NULL);
	while ((ch = getopt_long(argc, argv, "c:e:F:ho:qs:v", longopts,
		    NULL)) != -1)
		long_option(c, ch);
	c->paths = argv + optind;
	c->npaths = (size_t)(argc - optind);
	c->labelling = c->label != NULL || c->count || c->splitdir != NULL;
	validate(c);
}

static void
open_output(struct ctx *c)
{
	c->out.fp = stdout;
	if (c->quiet || c->splitdir != NULL)
		return;
	if (c->outpath != NULL) {
		if ((c->out.fp = fopen(c->outpath, "w")) == NULL)
			err(EX_CANTCREAT, "%s", c->outpath);
		if ((c->out.path = strdup(c->outpath)) == NULL)
			err(EX_OSERR, NULL);
	}
}

/* --campaign says what it held back, and why, every time. */
static void
campaign_summary(const struct ctx *c)
{
	char msg[600];
	size_t k;
	long all = 0;
	int i;

	for (i = 0; i < NHELD; i++)
		all += c->held[i];
	k = (size_t)snprintf(msg, sizeof(msg), "campaign: %ld contact%s %s, ",
	    c->listed, c->listed == 1 ? "" : "s",
	    c->count ? "counted" : "listed");
	if (all == 0)
		snprintf(msg + k, sizeof(msg) - k, "none held back");
	else
		k += (size_t)snprintf(msg + k, sizeof(msg) - k,
		    "%ld held back:", all);
	for (i = 0; i < NHELD && k < sizeof(msg); i++)
		if (c->held[i] > 0)
			k += (size_t)snprintf(msg + k, sizeof(msg) - k,
			    " %ld %s;", c->held[i], held_why[i]);
	if (all > 0 && k < sizeof(msg))
		msg[k - 1] = '\0';
	warnx("%s", msg);
}

static int
finish(struct ctx *c)
{
	size_t i;

	if (c->count)
		put_counts(c);
	if (!c->quiet)
		dest_close(&c->out);
	for (i = 0; i < c->nsel; i++) {
		dest_close(&c->sel[i].d);
		crm_expr_close(c->sel[i].e);
	}
	dest_close(&c->deflt);
	if (c->campaign)
		campaign_summary(c);
	if (c->nbad > MAXSHOWN)
		warnx("%ld bad rows in all", c->nbad);
	return c->nbad ? EX_DATAERR : c->matched ? 0 : 1;
}

static void
cleanup(struct ctx *c)
{
	size_t i;

	crm_expr_close(c->e);
	for (i = 0; i < c->ncols; i++)
		free(c->cols[i]);
	free(c->cols);
	free(c->cv);
	free(c->cl);
	free(c->sel);
	crm_buf_free(&c->hraw);
	crm_buf_free(&c->segarg);
	crm_map_free(&c->seen);
	crm_segment_close(c->segs);
	crm_config_free(c->cf);
}

int
main(int argc, char *argv[])
{
	struct ctx c = { .fmt = CRM_FMT_CSV };
	size_t i;
	int status;

	setlocale(LC_ALL, "");
	options(&c, argc, argv);
	load_config(&c);
	choose_segments(&c);
	check_exprs(&c);
	check_inputs(&c);
	open_output(&c);
	for (i = 0; i < (c.npaths > 0 ? c.npaths : 1); i++)
		read_input(&c, c.npaths > 0 ? c.paths[i] : "-");
	status = finish(&c);
	cleanup(&c);
	return status;
}
