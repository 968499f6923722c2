/*
 * crm-score: append scores to contact rows, or score customers straight
 * from event rows. Each score is a subcommand: rfm (quintile scores and a
 * segment) and clv (BG/NBD and Gamma-Gamma lifetime value) rank or fit a
 * population, so both first reduce their input to one crm_rfm_stat per
 * customer and work the same on contact rows (the statistics columns of
 * crm-export) and on event rows (--events, rolled up here). lead, at the
 * end, needs no population and is a stream filter of its own.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "crm.h"

#define MAXSHOWN 10             /* bad rows reported one by one */
#define MAXJOBS 8               /* reading threads */
#define PARALLEL_MIN (16 << 20) /* smaller files are read by one thread */
#define SPLITBUF (1 << 20)      /* split() reads the file in these */

struct ctx;

/*
 * A score over a population: the statistics it needs, the columns it
 * appends, and the work. prepare() runs once over all customers (fits,
 * quintiles); cells() writes customer i's appended cells.
 */
struct subcmd {
	const char *name;
	unsigned rollup;           /* crm_rfm_open flags for --events */
	const char *const *need;   /* statistics columns of contact rows */
	const char *const *cols;   /* appended columns */
	const char *const *evcols; /* --events: columns after the key */
	int (*prepare)(struct ctx *);
	void (*cells)(struct ctx *, size_t i, int events);
};

/* Where the columns an event needs are, in a header. */
struct evcols {
	long key, ts, type, amount;
	size_t width;
};

struct ctx {
	/* options */
	const struct subcmd *sub;
	const char *cfgpath, *outpath, *keyname, *params_out, *params_in;
	int fmt, events, quiet, skipbad, jobs, unit, unit_set, horizon;
	double discount;
	int64_t asof;
	char **files;
	size_t nfiles;
	/* state */
	struct crm_config *cf;
	struct crm_rfm_table *table;
	struct crm_rfm *roll; /* --events */
	int keykind;          /* KEY_* */
	char keycol[256];
	/* the customers: statistics and, for contact rows, the row text */
	const struct crm_rfm_stat *st;
	struct crm_rfm_stat *own; /* contact rows: st, owned */
	const char *const *key;
	const size_t *klen;
	size_t n, cap;
	struct crm_buf text; /* contact rows, encoded for output */
	size_t *off;
	char **hdr;
	size_t nhdr;
	/* scores */
	struct crm_rfm_score *sc;
	struct crm_bgnbd bg;
	struct crm_gg gg;
	int have_gg;
	/* bad rows and output */
	long nbad;
	struct crm_buf line;
	FILE *fp;
};

enum { KEY_EMAIL, KEY_CONTACT, KEY_OTHER };

/* Reasons a contact row's statistics do not add up. */
enum { BAD_ORDER = 1, BAD_ASOF = 2 };

static void
usage(int status)
{
	fputs("usage: crm-score rfm|clv [-q] [-c config] [-F csv|tsv|ndjson] "
	      "[-o file] [--as-of time]\n"
	      "                 [--events [--key column] [-j jobs]] "
	      "[--skip-bad] [file ...]\n"
	      "       crm-score clv ... [--unit week|day] [--horizon n] "
	      "[--discount rate]\n"
	      "                 [--params file | --use-params file]\n"
	      "       crm-score lead [-c config] [-D dir] [-F csv|tsv] "
	      "[-o file] [--as-of time]\n"
	      "                 [--explain] [file ...]\n",
	    status ? stderr : stdout);
	exit(status);
}

/* ---- bad rows ---------------------------------------------------------- */

/* Reports a bad row: the first MAXSHOWN one by one, then only counted. */
static void
bad_row(long *nbad, struct crm_buf *msgs, const char *file, long line,
    const char *fmt, ...)
{
	char m[600];
	va_list ap;
	int k;

	if (++*nbad > MAXSHOWN)
		return;
	k = snprintf(m, sizeof(m), "%s:%ld: ", file, line);
	va_start(ap, fmt);
	vsnprintf(m + k, sizeof(m) - (size_t)k, fmt, ap);
	va_end(ap);
	if (msgs == NULL)
		warnx("%s", m);
	else if (crm_buf_adds(msgs, m) || crm_buf_addc(msgs, '\n'))
		err(EX_OSERR, NULL);
}

/* After reading: bad rows end the run unless --skip-bad let them go. */
static void
judge_bad(struct ctx *c)
{
	if (c->nbad == 0)
		return;
	if (c->nbad > MAXSHOWN)
		warnx("%ld more bad rows", c->nbad - MAXSHOWN);
	if (!c->skipbad)
		errx(EX_DATAERR,
		    "%ld bad %s; nothing written (--skip-bad "
		    "scores the others)",
		    c->nbad, c->nbad == 1 ? "row" : "rows");
	if (!c->quiet)
		warnx("%ld bad %s skipped", c->nbad,
		    c->nbad == 1 ? "row" : "rows");
}

/* ---- values ------------------------------------------------------------ */

static int
parse_time(const char *s, size_t n, int64_t *t)
{
	crm_trim(&s, &n);
	return crm_time_parse(s, n, t, NULL);
}

static int
parse_amount(const char *s, size_t n, struct crm_dec *d)
{
	crm_trim(&s, &n);
	if (n == 0) {
		*d = (struct crm_dec){ 0, 0 };
		return 0;
	}
	return crm_dec_parse(s, n, d);
}

static int
parse_count(const char *s, size_t n, uint64_t *v)
{
	int64_t x;

	crm_trim(&s, &n);
	if (n == 0) {
		*v = 0;
		return 0;
	}
	if (crm_int_parse(s, n, &x) || x < 0)
		return CRM_EINVAL;
	*v = (uint64_t)x;
	return 0;
}

/* Whole UTC days since 1970, rounding down. */
static int64_t
day_of(int64_t t)
{
	return t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
}

/* ---- output ------------------------------------------------------------ */

static void
flush_line(struct ctx *c, int force)
{
	if (c->line.len < (force ? 1 : 65536))
		return;
	if (fwrite(c->line.p, 1, c->line.len, c->fp) != c->line.len)
		errx(EX_IOERR, "%s: write error",
		    c->outpath ? c->outpath : "stdout");
	c->line.len = 0;
}

/* The k-th cell of a row being written (k counts from 0); s NULL or ""
 * is an empty value, which NDJSON leaves out. */
static void
cell(struct ctx *c, size_t k, const char *name, const char *s, int num)
{
	size_t n = s ? strlen(s) : 0;
	int rc = 0;

	if (c->fmt != CRM_FMT_NDJSON) {
		rc = crm_csv_field(&c->line, c->fmt, k == 0, s ? s : "", n);
	} else if (n > 0) {
		if (c->line.len > 0 && c->line.p[c->line.len - 1] != '{')
			rc = crm_buf_addc(&c->line, ',');
		if (rc == 0)
			rc = crm_json_str(&c->line, name, strlen(name));
		if (rc == 0)
			rc = crm_buf_addc(&c->line, ':');
		if (rc == 0)
			rc = num ? crm_buf_add(&c->line, s, n) :
				   crm_json_str(&c->line, s, n);
	}
	if (rc)
		err(EX_OSERR, NULL);
}

static void
end_row(struct ctx *c)
{
	if ((c->fmt == CRM_FMT_NDJSON && crm_buf_addc(&c->line, '}')) ||
	    crm_buf_addc(&c->line, '\n'))
		err(EX_OSERR, NULL);
	flush_line(c, 0);
}

static void
header(struct ctx *c, char *const *first, size_t nfirst,
    const char *const *more)
{
	size_t i, k = 0;

	if (c->fmt == CRM_FMT_NDJSON)
		return;
	for (i = 0; i < nfirst; i++)
		cell(c, k++, first[i], first[i], 0);
	for (i = 0; more[i] != NULL; i++)
		cell(c, k++, more[i], more[i], 0);
	end_row(c);
}

static void
fmt_num(char *buf, size_t len, double v, int prec)
{
	char *p;

	snprintf(buf, len, "%.*f", prec, v);
	if (strchr(buf, '.') == NULL)
		return;
	for (p = buf + strlen(buf) - 1; *p == '0'; p--)
		*p = '\0';
	if (*p == '.')
		*p = '\0';
	if (strcmp(buf, "-0") == 0)
		strcpy(buf, "0");
}

/* ---- rfm --------------------------------------------------------------- */

static const char *const rfm_need[] = { "last_purchase_at", "purchases",
	"revenue", NULL };
static const char *const rfm_cols[] = { "r_score", "f_score", "m_score", "rfm",
	"rfm_segment", NULL };
static const char *const rfm_evcols[] = { "first_purchase_at",
	"last_purchase_at", "recency_days", "purchases", "revenue", "r_score",
	"f_score", "m_score", "rfm", "rfm_segment", NULL };

static int
rfm_prepare(struct ctx *c)
{
	if ((c->sc = calloc(c->n + 1, sizeof(*c->sc))) == NULL)
		return CRM_ENOMEM;
	return crm_rfm_score(c->st, c->n, c->sc);
}

/* The roll-up columns of --events: what crm-export's statistics say. */
static size_t
stat_cells(struct ctx *c, size_t k, const struct crm_rfm_stat *s, int rec)
{
	char b[64];

	if (s->purchases > 0) {
		crm_time_format(s->first, b);
		cell(c, k++, "first_purchase_at", b, 0);
		crm_time_format(s->last, b);
		cell(c, k++, "last_purchase_at", b, 0);
	} else {
		cell(c, k++, "first_purchase_at", NULL, 0);
		cell(c, k++, "last_purchase_at", NULL, 0);
	}
	if (rec) {
		snprintf(b, sizeof(b), "%lld",
		    (long long)(day_of(c->asof) - day_of(s->last)));
		cell(c, k++, "recency_days", s->purchases ? b : NULL, 1);
		snprintf(b, sizeof(b), "%llu",
		    (unsigned long long)s->purchases);
		cell(c, k++, "purchases", b, 1);
		crm_dec_format(s->revenue, 2, b);
		cell(c, k++, "revenue", b, 1);
	}
	return k;
}

static void
rfm_cells(struct ctx *c, size_t i, int events)
{
	const struct crm_rfm_score *s = &c->sc[i];
	size_t k = events ? stat_cells(c, 1, &c->st[i], 1) : c->nhdr;
	char b[4][8];

	if (s->r) {
		snprintf(b[0], 8, "%d", s->r);
		snprintf(b[1], 8, "%d", s->f);
		snprintf(b[2], 8, "%d", s->m);
		snprintf(b[3], 8, "%d", crm_rfm_cell(s));
	}
	cell(c, k++, "r_score", s->r ? b[0] : NULL, 1);
	cell(c, k++, "f_score", s->r ? b[1] : NULL, 1);
	cell(c, k++, "m_score", s->r ? b[2] : NULL, 1);
	cell(c, k++, "rfm", s->r ? b[3] : NULL, 1);
	cell(c, k++, "rfm_segment", crm_rfm_segment(c->table, s), 0);
}

/* ---- clv --------------------------------------------------------------- */

static const char *const clv_need[] = { "first_purchase_at", "last_purchase_at",
	"purchase_days", "revenue", NULL };
static const char *const clv_cols[] = { "p_alive", "exp_purchases", "exp_spend",
	"clv", NULL };
static const char *const clv_evcols[] = { "first_purchase_at",
	"last_purchase_at", "frequency", "recency", "T", "monetary_value",
	"p_alive", "exp_purchases", "exp_spend", "clv", NULL };

/*
 * A customer as the models see it: x repeat days, tx and T in units, and
 * the spend the Gamma-Gamma model reads, a mean zbar over n purchase days.
 * From events that is the exact mean of the repeat days (n = x). Contact
 * rows give only revenue over all purchase days, so there zbar is that
 * mean, first day included, and n = x + 1 days: the first purchase is
 * taken as one more draw of the customer's spend (see crm-score(1)).
 */
struct summary {
	double x, tx, T, zbar, n;
	int ok, spend_ok;
};

static double
dec_value(struct crm_dec d)
{
	return (double)d.v / pow(10, d.scale);
}

static struct summary
summarise(const struct ctx *c, const struct crm_rfm_stat *s)
{
	struct summary m = { 0, 0, 0, 0, 0, 0, 0 };
	double u = c->unit;

	if (s->purchases == 0 || s->days == 0)
		return m;
	m.ok = 1;
	m.x = (double)(s->days - 1);
	m.tx = (double)(day_of(s->last) - day_of(s->first)) / u;
	m.T = (double)(day_of(c->asof) - day_of(s->first)) / u;
	if (c->events) {
		m.n = m.x;
		m.zbar = m.x > 0 ?
		    (dec_value(s->spend) - dec_value(s->first_spend)) / m.x :
		    0;
	} else {
		m.n = (double)s->days;
		m.zbar = dec_value(s->revenue) / m.n;
	}
	m.spend_ok = m.x > 0 && m.zbar > 0 && isfinite(m.zbar);
	return m;
}

static const char *
unit_name(int unit)
{
	return unit == 7 ? "week" : "day";
}

static void
write_params(struct ctx *c, const struct crm_fit *bf, const struct crm_fit *gf)
{
	struct crm_clv_params p = { c->unit, c->bg, *bf, c->have_gg, c->gg,
		*gf };
	struct crm_buf b = { 0 };
	FILE *fp;

	if (crm_clv_params_format(&p, &b))
		err(EX_OSERR, NULL);
	if ((fp = fopen(c->params_out, "w")) == NULL)
		err(EX_CANTCREAT, "%s", c->params_out);
	if (fwrite(b.p, 1, b.len, fp) != b.len || fclose(fp))
		errx(EX_IOERR, "%s: write error", c->params_out);
	crm_buf_free(&b);
}

static void
read_params(struct ctx *c)
{
	struct crm_clv_params p;
	struct crm_buf text = { 0 };
	char e[256], chunk[4096];
	size_t n;
	FILE *fp = fopen(c->params_in, "r");
	int rc;

	if (fp == NULL)
		err(errno == ENOENT ? EX_NOINPUT : EX_IOERR, "%s",
		    c->params_in);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		if (crm_buf_add(&text, chunk, n))
			err(EX_OSERR, NULL);
	if (ferror(fp))
		err(EX_IOERR, "%s", c->params_in);
	fclose(fp);
	rc = crm_clv_params_parse(text.p ? text.p : "", text.len, &p, e,
	    sizeof(e));
	crm_buf_free(&text);
	if (rc)
		errx(rc == CRM_ENOMEM ? EX_OSERR : EX_DATAERR, "%s:%s",
		    c->params_in, e);
	if (c->unit_set && c->unit != p.unit)
		errx(EX_USAGE, "%s: fitted in %ss, not in %ss", c->params_in,
		    unit_name(p.unit), unit_name(c->unit));
	c->unit = p.unit;
	c->bg = p.bg;
	c->gg = p.gg;
	c->have_gg = p.have_gg;
}

static double
seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
fit(struct ctx *c)
{
	struct crm_clv_obs *o = malloc((c->n + 1) * sizeof(*o));
	struct crm_gg_obs *g = malloc((c->n + 1) * sizeof(*g));
	struct crm_fit bf = { 0 }, gf = { 0 };
	size_t i, no = 0, ng = 0;
	double t0;
	int rc;

	if (o == NULL || g == NULL)
		err(EX_OSERR, NULL);
	for (i = 0; i < c->n; i++) {
		struct summary m = summarise(c, &c->st[i]);

		if (m.ok)
			o[no++] = (struct crm_clv_obs){ m.x, m.tx, m.T };
		if (m.spend_ok)
			g[ng++] = (struct crm_gg_obs){ m.n, m.zbar };
	}
	if (no == 0)
		errx(EX_DATAERR, "no customer has a purchase: nothing to fit");
	t0 = seconds();
	if ((rc = crm_bgnbd_fit(o, no, &c->bg, &bf)) == CRM_ETOOBIG)
		errx(EX_DATAERR,
		    "the BG/NBD fit did not converge in %d evaluations "
		    "(r=%g alpha=%g a=%g b=%g LL=%.4f)",
		    bf.evals, c->bg.r, c->bg.alpha, c->bg.a, c->bg.b, bf.ll);
	if (rc)
		errx(rc == CRM_ENOMEM ? EX_OSERR : EX_DATAERR,
		    "the BG/NBD fit cannot run on these data");
	if (!c->quiet)
		warnx("BG/NBD r=%.6f alpha=%.6f a=%.6f b=%.6f LL=%.4f "
		      "(%zu customers, %zu distinct, %ss; %.3f s)",
		    c->bg.r, c->bg.alpha, c->bg.a, c->bg.b, bf.ll, bf.n,
		    bf.distinct, unit_name(c->unit), seconds() - t0);
	t0 = seconds();
	if (ng > 0 && (rc = crm_gg_fit(g, ng, &c->gg, &gf)) == 0)
		c->have_gg = 1;
	if (!c->have_gg)
		warnx("no Gamma-Gamma fit (%s): exp_spend and clv are left "
		      "empty",
		    ng == 0 ? "no repeat buyer with a positive spend" :
			      "it did not converge");
	else if (!c->quiet)
		warnx("Gamma-Gamma p=%.6f q=%.6f gamma=%.6f LL=%.4f "
		      "(%zu repeat customers; %.3f s)",
		    c->gg.p, c->gg.q, c->gg.gamma, gf.ll, gf.n, seconds() - t0);
	if (c->params_out)
		write_params(c, &bf, &gf);
	free(o);
	free(g);
}

static int
clv_prepare(struct ctx *c)
{
	if (c->params_in)
		read_params(c);
	else
		fit(c);
	if (c->have_gg && !(c->gg.q > 1)) {
		warnx("Gamma-Gamma q=%g <= 1: mean spend is unbounded; "
		      "exp_spend and clv are left empty",
		    c->gg.q);
		c->have_gg = 0;
	}
	return 0;
}

static void
clv_cells(struct ctx *c, size_t i, int events)
{
	struct summary m = summarise(c, &c->st[i]);
	char b[6][48];
	double ey, spend, v;
	size_t k = events ? stat_cells(c, 1, &c->st[i], 0) : c->nhdr;
	int has_v = 0;

	if (m.ok && crm_bgnbd_cond(&c->bg, m.x, m.tx, m.T, c->horizon, &ey))
		errx(EX_SOFTWARE,
		    "expected purchases cannot be computed for "
		    "x=%g, T=%g",
		    m.x, m.T);
	if (m.ok && c->have_gg) {
		spend = crm_gg_expect(&c->gg, m.spend_ok ? m.n : 0, m.zbar);
		if (crm_clv_value(&c->bg, m.x, m.tx, m.T, spend, c->horizon,
			c->discount, &v) == 0)
			has_v = 1;
		fmt_num(b[4], 48, spend, 2);
		fmt_num(b[5], 48, v, 2);
	}
	if (events) {
		fmt_num(b[0], 48, m.x, 0);
		cell(c, k++, "frequency", m.ok ? b[0] : NULL, 1);
		fmt_num(b[0], 48, m.tx, 6);
		cell(c, k++, "recency", m.ok ? b[0] : NULL, 1);
		fmt_num(b[0], 48, m.T, 6);
		cell(c, k++, "T", m.ok ? b[0] : NULL, 1);
		fmt_num(b[0], 48, m.zbar, 6);
		cell(c, k++, "monetary_value", m.ok ? b[0] : NULL, 1);
	}
	if (m.ok) {
		fmt_num(b[1], 48, crm_bgnbd_palive(&c->bg, m.x, m.tx, m.T), 6);
		fmt_num(b[2], 48, ey, 6);
	}
	cell(c, k++, "p_alive", m.ok ? b[1] : NULL, 1);
	cell(c, k++, "exp_purchases", m.ok ? b[2] : NULL, 1);
	cell(c, k++, "exp_spend", m.ok && c->have_gg ? b[4] : NULL, 1);
	cell(c, k++, "clv", has_v ? b[5] : NULL, 1);
}

static const struct subcmd subcmds[] = {
	{ "rfm", 0, rfm_need, rfm_cols, rfm_evcols, rfm_prepare, rfm_cells },
	{ "clv", CRM_RFM_FDAYS, clv_need, clv_cols, clv_evcols, clv_prepare,
	    clv_cells },
};

/* ---- contact rows ------------------------------------------------------ */

/* Which statistics column each of need[] is, by header position. */
struct need {
	long col[4];
};

static const char *
value_of(const struct crm_inrow *r, const struct need *nd, size_t j,
    const char *name, size_t *len)
{
	size_t i;

	if (nd != NULL) {
		*len = nd->col[j] >= 0 ? r->vlen[nd->col[j]] : 0;
		return nd->col[j] >= 0 ? r->val[nd->col[j]] : "";
	}
	for (i = 0; i < r->n; i++)
		if (r->name[i] != NULL && strcmp(r->name[i], name) == 0) {
			*len = r->vlen[i];
			return r->val[i];
		}
	*len = 0;
	return "";
}

/* Reads the statistics of one contact row into s; 0 or a bad row. */
static int
contact_stats(struct ctx *c, const struct crm_inrow *r, const struct need *nd,
    struct crm_rfm_stat *s, const char *file)
{
	const char *const *need = c->sub->need;
	const char *v;
	size_t j, n;
	int rc = 0, have_first = 0, have_last = 0;

	memset(s, 0, sizeof(*s));
	for (j = 0; rc == 0 && need[j] != NULL; j++) {
		v = value_of(r, nd, j, need[j], &n);
		if (strcmp(need[j], "first_purchase_at") == 0)
			rc = (have_first = n > 0) ?
			    parse_time(v, n, &s->first) :
			    0;
		else if (strcmp(need[j], "last_purchase_at") == 0)
			rc = (have_last = n > 0) ? parse_time(v, n, &s->last) :
						   0;
		else if (strcmp(need[j], "purchases") == 0)
			rc = parse_count(v, n, &s->purchases);
		else if (strcmp(need[j], "purchase_days") == 0)
			rc = parse_count(v, n, &s->days);
		else
			rc = parse_amount(v, n, &s->revenue);
		if (rc)
			bad_row(&c->nbad, NULL, file, r->line,
			    "%s: invalid value \"%.*s\"", need[j], (int)n, v);
	}
	if (rc)
		return rc;
	/* clv counts days; its customers are those with a purchase day. */
	if (c->sub->rollup & CRM_RFM_FDAYS)
		s->purchases = s->days;
	if (s->purchases == 0)
		return 0;
	if (!have_last || (!have_first && (c->sub->rollup & CRM_RFM_FDAYS)))
		rc = CRM_EINVAL;
	else if ((c->sub->rollup & CRM_RFM_FDAYS) && s->last < s->first)
		rc = BAD_ORDER;
	else if ((c->sub->rollup & CRM_RFM_FDAYS) && s->last > c->asof)
		rc = BAD_ASOF;
	if (rc == CRM_EINVAL)
		bad_row(&c->nbad, NULL, file, r->line,
		    "%s: a customer with purchases needs %s",
		    have_last ? "first_purchase_at" : "last_purchase_at",
		    "a purchase time");
	else if (rc == BAD_ORDER)
		bad_row(&c->nbad, NULL, file, r->line,
		    "last_purchase_at: before first_purchase_at");
	else if (rc == BAD_ASOF)
		bad_row(&c->nbad, NULL, file, r->line,
		    "last_purchase_at: after --as-of (the statistics cannot be "
		    "cut back; use --events)");
	return rc;
}

/* Keeps the row's cells, encoded for output, and its statistics. */
static void
keep_row(struct ctx *c, const struct crm_inrow *r, const struct crm_rfm_stat *s)
{
	size_t i, n;

	if (c->n + 1 >= c->cap) {
		c->cap = c->cap ? c->cap * 2 : 1024;
		c->off = realloc(c->off, (c->cap + 1) * sizeof(*c->off));
		c->own = realloc(c->own, c->cap * sizeof(*c->own));
		if (c->off == NULL || c->own == NULL)
			err(EX_OSERR, NULL);
	}
	c->off[c->n] = c->text.len;
	c->own[c->n++] = *s;
	if (c->fmt == CRM_FMT_NDJSON) {
		/* The object as it came, less its closing brace. */
		n = r->rawlen;
		while (n > 0 && (r->raw[n - 1] == ' ' || r->raw[n - 1] == '\t'))
			n--;
		if (crm_buf_add(&c->text, r->raw, n > 0 ? n - 1 : 0))
			err(EX_OSERR, NULL);
	} else
		for (i = 0; i < r->n; i++)
			if (crm_csv_field(&c->text, c->fmt, i == 0, r->val[i],
				r->vlen[i]))
				err(EX_OSERR, NULL);
	c->off[c->n] = c->text.len;
}

/* The header of a CSV or TSV input: the same in every file, and without
 * the columns this subcommand adds. */
static void
take_header(struct ctx *c, struct crm_in *in, const char *file, struct need *nd)
{
	const char *const *h;
	size_t n = crm_in_header(in, &h), i, j;

	if (c->hdr == NULL) {
		if ((c->hdr = calloc(n + 1, sizeof(char *))) == NULL)
			err(EX_OSERR, NULL);
		for (i = 0; i < n; i++)
			if ((c->hdr[i] = strdup(h[i])) == NULL)
				err(EX_OSERR, NULL);
		c->nhdr = n;
	} else {
		for (i = 0;
		     i < n && i < c->nhdr && strcmp(h[i], c->hdr[i]) == 0; i++)
			;
		if (i != n || n != c->nhdr)
			errx(EX_DATAERR,
			    "%s: columns differ from the first "
			    "input's",
			    file);
	}
	for (j = 0; c->sub->need[j] != NULL; j++) {
		for (nd->col[j] = -1, i = 0; i < n && nd->col[j] < 0; i++)
			if (strcmp(h[i], c->sub->need[j]) == 0)
				nd->col[j] = (long)i;
		if (nd->col[j] < 0)
			errx(EX_DATAERR,
			    "%s: no column %s (crm-export writes "
			    "it; event rows need --events)",
			    file, c->sub->need[j]);
	}
	for (i = 0; i < n; i++)
		for (j = 0; c->sub->cols[j] != NULL; j++)
			if (strcmp(h[i], c->sub->cols[j]) == 0)
				errx(EX_DATAERR,
				    "%s: the input has a column "
				    "%s already",
				    file, h[i]);
}

static void
read_contacts(struct ctx *c, const char *path)
{
	const char *file = path && strcmp(path, "-") ? path : "stdin";
	struct crm_in *in;
	struct crm_inrow r;
	struct crm_rfm_stat s;
	struct need nd;
	char e[200];
	int rc, first = 1;

	if ((rc = crm_in_open(path, c->fmt, &in, e, sizeof(e))))
		errx(rc > 0 ? EX_NOINPUT : EX_DATAERR, "%s: %s", file,
		    rc > 0 ? strerror(rc) : e);
	while ((rc = crm_in_next(in, &r)) == 0 || rc == CRM_EPARSE) {
		if (first && c->fmt != CRM_FMT_NDJSON)
			take_header(c, in, file, &nd);
		first = 0;
		if (rc == CRM_EPARSE)
			bad_row(&c->nbad, NULL, file, r.line, "%s",
			    crm_in_error(in));
		else if (contact_stats(c, &r,
			     c->fmt == CRM_FMT_NDJSON ? NULL : &nd, &s,
			     file) == 0)
			keep_row(c, &r, &s);
	}
	if (rc != CRM_EOF)
		errx(crm_sysexit(rc), "%s: %s", file, crm_strerror(rc));
	if (first && c->fmt != CRM_FMT_NDJSON) {
		const char *const *h;

		/* A header and no rows: an empty store's export. */
		if (crm_in_header(in, &h) > 0)
			take_header(c, in, file, &nd);
		else if (c->hdr == NULL)
			errx(EX_DATAERR, "%s: no header row", file);
	}
	crm_in_close(in);
}

static void
write_contacts(struct ctx *c)
{
	size_t i;

	header(c, c->hdr, c->nhdr, c->sub->cols);
	for (i = 0; i < c->n; i++) {
		if (crm_buf_add(&c->line, c->text.p + c->off[i],
			c->off[i + 1] - c->off[i]))
			err(EX_OSERR, NULL);
		c->sub->cells(c, i, 0);
		end_row(c);
	}
}

/* ---- event rows -------------------------------------------------------- */

/* One reader of event rows: the whole input, or one part of a file. */
struct worker {
	const struct ctx *c;
	const char *file;
	struct evcols col;
	struct crm_rfm *roll;
	struct crm_csv *csv;
	int fd;
	long line0, stop; /* lines are line0 + the reader's; stop at stop */
	long nbad;
	int parse_error; /* a malformed CSV row: the split may be wrong */
	int rc;
	struct crm_buf msgs, key;
	/* events waiting for crm_rfm_add_batch(), their keys in bkeys */
	struct crm_rfm_event batch[CRM_RFM_BATCH];
	size_t nbatch, boff[CRM_RFM_BATCH];
	struct crm_buf bkeys;
	pthread_t tid;
};

/* The key as the roll-up keeps it: an e-mail address trimmed and in
 * lower case, a contact id as 8 big-endian bytes (so that keys sort as
 * numbers), any other column as it is. */
static int
norm_key(struct worker *w, const char *s, size_t n, const char **k, size_t *kn)
{
	uint64_t id;
	size_t i, bad;
	int b;

	if (w->c->keykind == KEY_CONTACT) {
		if (crm_id_parse(s, n, &id))
			return CRM_EINVAL;
		w->key.len = 0;
		for (b = 7; b >= 0; b--)
			if (crm_buf_addc(&w->key, (int)(id >> (8 * b) & 0xff)))
				return CRM_ENOMEM;
		*k = w->key.p;
		*kn = 8;
		return 0;
	}
	if (w->c->keykind == KEY_EMAIL)
		crm_trim(&s, &n);
	if (n == 0 || !crm_utf8_valid(s, n, &bad))
		return CRM_EINVAL;
	*k = s;
	*kn = n;
	if (w->c->keykind != KEY_EMAIL)
		return 0;
	for (i = 0; i < n && !(s[i] >= 'A' && s[i] <= 'Z'); i++)
		;
	if (i == n)
		return 0;
	w->key.len = 0;
	if (crm_buf_add(&w->key, s, n))
		return CRM_ENOMEM;
	for (; i < n; i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			w->key.p[i] = (char)(s[i] + 32);
	*k = w->key.p;
	return 0;
}

static int
kind_of(const char *s, size_t n)
{
	if (n == 8 && memcmp(s, "purchase", 8) == 0)
		return CRM_RFM_PURCHASE;
	if (n == 6 && memcmp(s, "refund", 6) == 0)
		return CRM_RFM_REFUND;
	return CRM_RFM_OTHER;
}

static void
flush(struct worker *w)
{
	size_t i;
	int rc;

	for (i = 0; i < w->nbatch; i++)
		w->batch[i].key = w->bkeys.p + w->boff[i];
	if (w->nbatch > 0 &&
	    (rc = crm_rfm_add_batch(w->roll, w->batch, w->nbatch)))
		w->rc = rc;
	w->nbatch = 0;
	w->bkeys.len = 0;
}

/* One event: v[] and len[] are the key, ts, type (NULL: none) and amount. */
static void
event(struct worker *w, long line, const char *const *v, const size_t *len)
{
	const char *k;
	size_t kn;
	int kind = v[2] ? kind_of(v[2], len[2]) : CRM_RFM_PURCHASE, rc;
	struct crm_dec amt = { 0, 0 };
	int64_t ts;

	/* Customers are those who bought or were refunded: an e-mail opened
	 * or a call makes nobody a customer, and these rows are most of a
	 * log, so they are passed over unread. */
	if (kind == CRM_RFM_OTHER)
		return;
	if ((rc = norm_key(w, v[0], len[0], &k, &kn))) {
		if (rc == CRM_ENOMEM)
			w->rc = rc;
		bad_row(&w->nbad, &w->msgs, w->file, line,
		    "%s: invalid customer key \"%.*s\"", w->c->keycol,
		    (int)len[0], v[0]);
		return;
	}
	if (parse_time(v[1], len[1], &ts)) {
		bad_row(&w->nbad, &w->msgs, w->file, line,
		    "ts: invalid time \"%.*s\"", (int)len[1], v[1]);
		return;
	}
	if (ts > w->c->asof)
		return; /* after "now": not yet happened */
	if (parse_amount(v[3], len[3], &amt)) {
		bad_row(&w->nbad, &w->msgs, w->file, line,
		    "amount: invalid amount \"%.*s\"", (int)len[3], v[3]);
		return;
	}
	/* The row's memory is the reader's: the key is copied to wait. */
	w->boff[w->nbatch] = w->bkeys.len;
	if (crm_buf_add(&w->bkeys, k, kn)) {
		w->rc = CRM_ENOMEM;
		return;
	}
	w->batch[w->nbatch++] =
	    (struct crm_rfm_event){ NULL, kn, kind, ts, amt };
	if (w->nbatch == CRM_RFM_BATCH)
		flush(w);
}

static void
csv_row(struct worker *w, const struct crm_row *r)
{
	const char *v[4];
	size_t len[4];
	long line = w->line0 + r->line;

	if (r->n != w->col.width) {
		bad_row(&w->nbad, &w->msgs, w->file, line,
		    "expected %zu fields, found %zu", w->col.width, r->n);
		return;
	}
	v[0] = r->v[w->col.key];
	len[0] = r->len[w->col.key];
	v[1] = r->v[w->col.ts];
	len[1] = r->len[w->col.ts];
	v[2] = w->col.type >= 0 ? r->v[w->col.type] : NULL;
	len[2] = w->col.type >= 0 ? r->len[w->col.type] : 0;
	v[3] = r->v[w->col.amount];
	len[3] = r->len[w->col.amount];
	event(w, line, v, len);
}

/* Reads rows until the end or the first row of the next part. */
static void *
work(void *arg)
{
	struct worker *w = arg;
	struct crm_row r;
	int rc = 0;

	while (w->rc == 0 &&
	    ((rc = crm_csv_next(w->csv, &r)) == 0 || rc == CRM_EPARSE)) {
		if (w->stop > 0 && w->line0 + r.line >= w->stop) {
			flush(w);
			return NULL;
		}
		if (rc == CRM_EPARSE) {
			w->parse_error = 1;
			bad_row(&w->nbad, &w->msgs, w->file, w->line0 + r.line,
			    "%s", crm_csv_error(w->csv));
		} else
			csv_row(w, &r);
	}
	if (w->rc == 0 && rc != CRM_EOF)
		w->rc = rc;
	flush(w);
	return NULL;
}

/* The columns of the event header; the key is --key, else email, else
 * contact. */
static void
find_cols(struct ctx *c, const struct crm_row *h, const char *file,
    struct evcols *col)
{
	static const char *const auto_key[] = { "email", "contact" };
	size_t i, j;
	long *slot;

	*col = (struct evcols){ -1, -1, -1, -1, h->n };
	for (j = 0; c->keyname == NULL && j < 2 && col->key < 0; j++)
		for (i = 0; i < h->n && col->key < 0; i++)
			if (strcmp(h->v[i], auto_key[j]) == 0)
				col->key = (long)i;
	for (i = 0; i < h->n; i++) {
		slot = c->keyname && strcmp(h->v[i], c->keyname) == 0 ?
		    &col->key :
		    strcmp(h->v[i], "ts") == 0     ? &col->ts :
		    strcmp(h->v[i], "type") == 0   ? &col->type :
		    strcmp(h->v[i], "amount") == 0 ? &col->amount :
						     NULL;
		if (slot != NULL && *slot < 0)
			*slot = (long)i;
	}
	if (col->key < 0)
		errx(EX_DATAERR, "%s: no column %s", file,
		    c->keyname ? c->keyname : "email or contact");
	if (col->ts < 0 || col->amount < 0)
		errx(EX_DATAERR, "%s: no column %s", file,
		    col->ts < 0 ? "ts" : "amount");
	snprintf(c->keycol, sizeof(c->keycol), "%s", h->v[col->key]);
	c->keykind = c->keyname != NULL && strcmp(c->keyname, "email") &&
		strcmp(c->keyname, "contact") ?
	    KEY_OTHER :
	    strcmp(h->v[col->key], "email") == 0 ? KEY_EMAIL :
						   KEY_CONTACT;
}

/*
 * Counts the double quotes of one line, q[0..n) (its line feed last, if it
 * has one). Returns -1 for a carriage return that is not followed by a
 * line feed: CSV ends a line there too, which would make the line count
 * of a part wrong, so such a file is read on one thread.
 */
static long
scan_line(const char *q, size_t n, int fmt)
{
	const char *r;
	long quotes = 0;

	if (fmt != CRM_FMT_CSV)
		return 0;
	for (r = q; (r = memchr(r, '\r', n - (size_t)(r - q))) != NULL; r++)
		if (r + 1 == q + n || r[1] != '\n')
			return -1;
	for (r = q; (r = memchr(r, '"', n - (size_t)(r - q))) != NULL; r++)
		quotes++;
	return quotes;
}

/*
 * Where the parts of a file start, for reading them on several threads.
 * A part starts after a line feed, at or after an even share of the file,
 * and (CSV) after an even number of double quotes: RFC 4180 quotes come
 * in pairs, so there a row begins rather than a quoted field's next line.
 * A file that is not valid CSV may fool this; the readers notice (a
 * malformed row) and the file is read again on one thread. at[k] and
 * line[k] are part k's offset and first line; returns the parts found.
 */
static int
split(int fd, int fmt, off_t size, int parts, off_t *at, long *line)
{
	char *buf = malloc(SPLITBUF);
	off_t pos = 0;
	long nl = 0, quotes = 0, q;
	ssize_t got;
	size_t i, span;
	const char *p;
	int k = 1;

	at[0] = 0;
	line[0] = 1;
	while (buf && k < parts && (got = pread(fd, buf, SPLITBUF, pos)) > 0) {
		p = NULL;
		for (i = 0; i < (size_t)got && k < parts; i += span) {
			if ((p = memchr(buf + i, '\n', (size_t)got - i)) ==
			    NULL)
				break; /* read again whole with the next block */
			span = (size_t)(p - buf) + 1 - i;
			if ((q = scan_line(buf + i, span, fmt)) < 0) {
				k = 1;
				goto out;
			}
			quotes += q;
			nl++;
			if (pos + (off_t)(i + span) >= size / parts * k &&
			    quotes % 2 == 0 && pos + (off_t)(i + span) < size) {
				at[k] = pos + (off_t)(i + span);
				line[k++] = nl + 1;
			}
		}
		if (p == NULL && i == 0)
			break; /* a line longer than the buffer: stop here */
		pos += (off_t)(p == NULL ? i : (size_t)got);
	}
out:
	free(buf);
	return k;
}

static void
worker_init(struct worker *w, const struct ctx *c, const char *file,
    const struct evcols *col)
{
	int rc;

	memset(w, 0, sizeof(*w));
	w->c = c;
	w->file = file;
	w->col = *col;
	w->fd = -1;
	if ((rc = crm_rfm_open(c->sub->rollup, &w->roll)))
		errx(EX_OSERR, "%s", crm_strerror(rc));
}

static void
worker_free(struct worker *w)
{
	crm_csv_close(w->csv);
	if (w->fd > 0)
		close(w->fd);
	crm_rfm_close(w->roll);
	crm_buf_free(&w->msgs);
	crm_buf_free(&w->key);
	crm_buf_free(&w->bkeys);
}

/* Opens part k of the file at at: its own descriptor and reader. */
static int
open_part(struct worker *w, const char *path, int fmt, off_t at)
{
	char bom[3];

	if ((w->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	/* A reader skips a byte-order mark at its start: a part must not
	 * begin with one. */
	if (pread(w->fd, bom, 3, at) == 3 &&
	    memcmp(bom, "\xef\xbb\xbf", 3) == 0)
		return -1;
	if (lseek(w->fd, at, SEEK_SET) != at ||
	    crm_csv_open_raw(w->fd, fmt, &w->csv))
		return -1;
	return 0;
}

/* How many parts to read fd in: one unless it is a large regular file
 * (or -j asked for more). */
static int
parts_for(const struct ctx *c, int fd, off_t *size)
{
	struct stat sb;
	long ncpu;

	/* Parts are cut at offsets from the start of the file. */
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || c->jobs == 1 ||
	    lseek(fd, 0, SEEK_CUR) != 0)
		return 1;
	*size = sb.st_size;
	if (c->jobs > 1)
		return c->jobs;
	if (sb.st_size < PARALLEL_MIN)
		return 1;
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	return ncpu < 1 ? 1 : ncpu > MAXJOBS ? MAXJOBS : (int)ncpu;
}

/* Reads the parts, each on a thread of its own (part 0 on this one).
 * Returns 0, or -1 when a part met a malformed row and there were several
 * parts: then the split may be wrong and the caller reads again. */
static int
run_parts(struct worker *w, int n)
{
	int k, again = 0;

	for (k = 1; k < n; k++)
		if (pthread_create(&w[k].tid, NULL, work, &w[k]) != 0)
			errx(EX_OSERR, "cannot start a thread");
	work(&w[0]);
	for (k = 1; k < n; k++)
		pthread_join(w[k].tid, NULL);
	for (k = 0; k < n; k++)
		again |= w[k].parse_error && n > 1;
	return again ? -1 : 0;
}

/* Folds the parts into the run's roll-up and reports their bad rows in
 * file order, as one reader would have. */
static void
gather(struct ctx *c, struct worker *w, int n)
{
	long shown = c->nbad < MAXSHOWN ? c->nbad : MAXSHOWN;
	const char *p, *e;
	int k, rc;

	for (k = 0; k < n; k++) {
		if (w[k].rc)
			errx(w[k].rc == CRM_ETOOBIG ? EX_DATAERR :
						      crm_sysexit(w[k].rc),
			    "%s: %s", w[k].file,
			    w[k].rc == CRM_ETOOBIG ?
				"a customer's revenue is too large" :
				crm_strerror(w[k].rc));
		for (p = w[k].msgs.p; p && p < w[k].msgs.p + w[k].msgs.len;
		     p = e + 1) {
			e = memchr(p, '\n',
			    (size_t)(w[k].msgs.p + w[k].msgs.len - p));
			if (shown++ < MAXSHOWN)
				warnx("%.*s", (int)(e - p), p);
		}
		c->nbad += w[k].nbad;
		if (c->roll == NULL) {
			c->roll = w[k].roll;
			w[k].roll = NULL;
		} else if ((rc = crm_rfm_merge(c->roll, w[k].roll)))
			errx(rc == CRM_ETOOBIG ? EX_DATAERR : EX_OSERR,
			    "%s: %s", w[k].file,
			    rc == CRM_ETOOBIG ? "a customer's revenue is too "
						"large" :
						crm_strerror(rc));
	}
}

/* Reads a CSV or TSV file of events; n > 1 parts when it pays. */
static void
read_events_csv(struct ctx *c, const char *path, int n)
{
	const char *file = path && strcmp(path, "-") ? path : "stdin";
	const char *name = path && strcmp(path, "-") ? path : "/dev/stdin";
	struct worker w[MAXJOBS];
	struct evcols col;
	struct crm_row h;
	off_t at[MAXJOBS], size = 0;
	long line[MAXJOBS];
	int fd = 0, k, rc, ready;

	if (path && strcmp(path, "-") && (fd = open(path, O_RDONLY)) < 0)
		err(EX_NOINPUT, "%s", path);
	if (n == 0)
		n = parts_for(c, fd, &size);
	if (n > 1)
		n = split(fd, c->fmt, size, n > MAXJOBS ? MAXJOBS : n, at,
		    line);
	worker_init(&w[0], c, file, &(struct evcols){ 0, 0, 0, 0, 0 });
	w[0].fd = fd;
	if (crm_csv_open_raw(fd, c->fmt, &w[0].csv))
		err(EX_OSERR, NULL);
	if ((rc = crm_csv_next(w[0].csv, &h)) == CRM_EOF)
		errx(EX_DATAERR, "%s: no header row", file);
	if (rc)
		errx(crm_sysexit(rc), "%s:1: %s", file,
		    rc == CRM_EPARSE ? crm_csv_error(w[0].csv) :
				       crm_strerror(rc));
	find_cols(c, &h, file, &col);
	w[0].col = col;
	w[0].stop = n > 1 ? line[1] : 0;
	for (k = 1, ready = 1; k < n && ready == k; k++) {
		worker_init(&w[k], c, file, &col);
		w[k].line0 = line[k] - 1;
		w[k].stop = k + 1 < n ? line[k + 1] : 0;
		ready += open_part(&w[k], name, c->fmt, at[k]) == 0;
	}
	if (ready < n || run_parts(w, n) < 0) {
		while (k > 0)
			worker_free(&w[--k]);
		/* Again, on one thread, from the start (stdin too: parts are
		 * only made of a regular file read from its start). */
		if (fd == 0 && lseek(0, 0, SEEK_SET) != 0)
			err(EX_IOERR, "stdin");
		read_events_csv(c, path, 1);
		return;
	}
	gather(c, w, n);
	for (k = 0; k < n; k++)
		worker_free(&w[k]);
}

/* NDJSON events: named values in every row, read on one thread. */
static void
read_events_ndjson(struct ctx *c, const char *path)
{
	static const char *const names[] = { "ts", "type", "amount" };
	const char *file = path && strcmp(path, "-") ? path : "stdin";
	struct worker w;
	struct crm_inrow r;
	struct crm_in *in;
	const char *v[4];
	size_t len[4], i, j;
	char e[200];
	int rc;

	if ((rc = crm_in_open(path, c->fmt, &in, e, sizeof(e))))
		errx(rc > 0 ? EX_NOINPUT : EX_DATAERR, "%s: %s", file,
		    rc > 0 ? strerror(rc) : e);
	worker_init(&w, c, file, &(struct evcols){ 0, 0, 0, 0, 0 });
	c->keykind = c->keyname && strcmp(c->keyname, "email") &&
		strcmp(c->keyname, "contact") ?
	    KEY_OTHER :
	    c->keyname && strcmp(c->keyname, "contact") == 0 ? KEY_CONTACT :
							       KEY_EMAIL;
	snprintf(c->keycol, sizeof(c->keycol), "%s",
	    c->keyname ? c->keyname : "email");
	while (w.rc == 0 &&
	    ((rc = crm_in_next(in, &r)) == 0 || rc == CRM_EPARSE)) {
		if (rc == CRM_EPARSE) {
			bad_row(&w.nbad, &w.msgs, file, r.line, "%s",
			    crm_in_error(in));
			continue;
		}
		memset(v, 0, sizeof(v));
		memset(len, 0, sizeof(len));
		for (i = 0; i < r.n; i++) {
			if (strcmp(r.name[i], c->keycol) == 0)
				j = 0;
			else
				for (j = 0;
				     j < 3 && strcmp(r.name[i], names[j]); j++)
					;
			if (j < 3 || strcmp(r.name[i], c->keycol) == 0) {
				j = strcmp(r.name[i], c->keycol) == 0 ? 0 :
									j + 1;
				v[j] = r.val[i];
				len[j] = r.vlen[i];
			}
		}
		if (v[1] == NULL || v[0] == NULL)
			bad_row(&w.nbad, &w.msgs, file, r.line, "no %s",
			    v[0] == NULL ? c->keycol : "ts");
		else {
			v[3] = v[3] ? v[3] : "";
			event(&w, r.line, v, len);
		}
	}
	if (rc != CRM_EOF && w.rc == 0)
		w.rc = rc;
	flush(&w);
	crm_in_close(in);
	gather(c, &w, 1);
	worker_free(&w);
}

static void
write_events(struct ctx *c)
{
	char kb[32], *first[1] = { c->keycol };
	uint64_t id;
	size_t i, b;

	header(c, first, 1, c->sub->evcols);
	for (i = 0; i < c->n; i++) {
		if (c->fmt == CRM_FMT_NDJSON && crm_buf_addc(&c->line, '{'))
			err(EX_OSERR, NULL);
		if (c->keykind == KEY_CONTACT) {
			for (b = 0, id = 0; b < 8; b++)
				id = id << 8 | (unsigned char)c->key[i][b];
			snprintf(kb, sizeof(kb), "%llu",
			    (unsigned long long)id);
			cell(c, 0, c->keycol, kb, 1);
		} else if (c->fmt != CRM_FMT_NDJSON) {
			if (crm_csv_field(&c->line, c->fmt, 1, c->key[i],
				c->klen[i]))
				err(EX_OSERR, NULL);
		} else if (crm_json_str(&c->line, c->keycol,
			       strlen(c->keycol)) ||
		    crm_buf_addc(&c->line, ':') ||
		    crm_json_str(&c->line, c->key[i], c->klen[i]))
			err(EX_OSERR, NULL);
		c->sub->cells(c, i, 1);
		end_row(c);
	}
}

/* ---- main -------------------------------------------------------------- */

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
		errx(EX_SOFTWARE, "%s", crm_strerror(rc));
	rc = crm_rfm_table_load(c->cf, &c->table, msg, sizeof(msg));
	if (rc == CRM_ECONFIG)
		errx(EX_CONFIG, "%s", msg);
	if (rc)
		errx(EX_OSERR, "%s", crm_strerror(rc));
}

static void
read_input(struct ctx *c)
{
	size_t i, n = c->nfiles ? c->nfiles : 1;
	int rc;

	for (i = 0; i < n; i++) {
		const char *path = c->nfiles ? c->files[i] : NULL;

		if (!c->events)
			read_contacts(c, path);
		else if (c->fmt == CRM_FMT_NDJSON)
			read_events_ndjson(c, path);
		else
			read_events_csv(c, path, 0);
	}
	judge_bad(c);
	if (!c->events) {
		c->st = c->own;
		return;
	}
	c->n = crm_rfm_count(c->roll);
	if ((rc = crm_rfm_sorted(c->roll, &c->key, &c->klen, &c->st)))
		errx(rc == CRM_ETOOBIG ? EX_DATAERR : EX_OSERR, "%s",
		    rc == CRM_ETOOBIG ? "a customer's spend is too large" :
					crm_strerror(rc));
}

static const struct option longopts[] = {
	{ "as-of", required_argument, NULL, 'A' },
	{ "config", required_argument, NULL, 'c' },
	{ "discount", required_argument, NULL, 'd' },
	{ "events", no_argument, NULL, 'e' },
	{ "format", required_argument, NULL, 'F' },
	{ "help", no_argument, NULL, 'h' },
	{ "horizon", required_argument, NULL, 'H' },
	{ "jobs", required_argument, NULL, 'j' },
	{ "key", required_argument, NULL, 'k' },
	{ "output", required_argument, NULL, 'o' },
	{ "params", required_argument, NULL, 'P' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "skip-bad", no_argument, NULL, 's' },
	{ "unit", required_argument, NULL, 'u' },
	{ "use-params", required_argument, NULL, 'U' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static void
number_opt(const char *arg, double lo, double hi, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(arg, &end);
	if (end == arg || *end != '\0' || errno || !(*v >= lo && *v <= hi))
		errx(EX_USAGE, "invalid number \"%s\"", arg);
}

static void
option(struct ctx *c, int ch, const char *arg)
{
	double v;

	switch (ch) {
	case 'A':
		if (crm_time_parse(arg, strlen(arg), &c->asof, NULL))
			errx(EX_USAGE, "invalid time \"%s\"", arg);
		break;
	case 'c':
		c->cfgpath = arg;
		break;
	case 'd':
		number_opt(arg, 0, 1e6, &c->discount);
		break;
	case 'e':
		c->events = 1;
		break;
	case 'F':
		c->fmt = crm_fmt_parse(arg);
		if (c->fmt < 0 || c->fmt == CRM_FMT_YAML)
			errx(EX_USAGE, "unknown format \"%s\"", arg);
		break;
	case 'h':
		usage(0);
		break;
	case 'H':
		number_opt(arg, 0, 100000, &v);
		if (v != floor(v))
			errx(EX_USAGE, "invalid horizon \"%s\"", arg);
		c->horizon = (int)v;
		break;
	case 'j':
		number_opt(arg, 1, MAXJOBS, &v);
		if (v != floor(v))
			errx(EX_USAGE, "invalid number of jobs \"%s\"", arg);
		c->jobs = (int)v;
		break;
	case 'k':
		c->keyname = arg;
		break;
	case 'o':
		c->outpath = arg;
		break;
	case 'P':
		c->params_out = arg;
		break;
	case 'q':
		c->quiet = 1;
		break;
	case 's':
		c->skipbad = 1;
		break;
	case 'u':
		if (strcmp(arg, "week") != 0 && strcmp(arg, "day") != 0)
			errx(EX_USAGE, "unknown unit \"%s\"", arg);
		c->unit = arg[0] == 'w' ? 7 : 1;
		c->unit_set = 1;
		break;
	case 'U':
		c->params_in = arg;
		break;
	case 'V':
		puts("crm-score (crm) " CRM_VERSION);
		exit(0);
	default:
		usage(EX_USAGE);
	}
}

/* The subcommand is the first operand; options may come before it. */
static void
parse_args(struct ctx *c, int argc, char *argv[])
{
	size_t i;
	int ch;

	while (
	    (ch = getopt_long(argc, argv, "c:F:hj:o:q", longopts, NULL)) != -1)
		option(c, ch, optarg);
	if (optind >= argc)
		usage(EX_USAGE);
	for (i = 0; i < sizeof(subcmds) / sizeof(subcmds[0]); i++)
		if (strcmp(argv[optind], subcmds[i].name) == 0)
			c->sub = &subcmds[i];
	if (c->sub == NULL) {
		warnx("unknown score \"%s\"", argv[optind]);
		usage(EX_USAGE);
	}
	c->files = argv + optind + 1;
	c->nfiles = (size_t)(argc - optind - 1);
	if (c->params_in && c->params_out)
		errx(EX_USAGE, "--params and --use-params exclude each other");
	if (strcmp(c->sub->name, "clv") != 0 &&
	    (c->params_in || c->params_out || c->unit_set || c->horizon >= 0 ||
		c->discount > 0))
		errx(EX_USAGE,
		    "--unit, --horizon, --discount and the "
		    "parameter files are for clv");
	if (c->horizon < 0)
		c->horizon = c->unit == 7 ? 52 : 365;
}

/*
 * crm-score lead: a stream filter, unlike rfm and clv, since a lead score
 * needs no population. Each row gets lead_score (and lead_rules with
 * --explain); rules over events read the contact's log from the store,
 * found by the row's id column, else its email.
 */
struct lead {
	const char *db, *cfgpath, *outpath;
	int fmt, explain;
	int64_t asof;
	char **files;
	size_t nfiles;
	struct crm_config *cf;
	struct crm_lead *l;
	struct crm_store *st;
	struct crm_txn *t;
	long idcol, emailcol;
	struct crm_buf line, why;
	FILE *fp;
};

static void
lead_usage(int status)
{
	fputs("usage: crm-score lead [-c config] [-D dir] [-F csv|tsv] "
	      "[-o file] [--as-of time]\n"
	      "                      [--explain] [file ...]\n",
	    status ? stderr : stdout);
	exit(status);
}

/* The contact a row names: by id, else by e-mail; 0 if none. */
static uint64_t
lead_contact(struct lead *ld, const struct crm_inrow *r)
{
	char norm[256];
	uint64_t id = 0;
	size_t n;

	if (ld->idcol >= 0 && (size_t)ld->idcol < r->n &&
	    crm_id_parse(r->val[ld->idcol], r->vlen[ld->idcol], &id) == 0)
		return id;
	if (ld->emailcol >= 0 && (size_t)ld->emailcol < r->n &&
	    r->vlen[ld->emailcol] < sizeof(norm) &&
	    crm_email_norm(r->val[ld->emailcol], r->vlen[ld->emailcol], norm,
		&n) == 0 &&
	    crm_index_get(ld->t, CRM_IDX_EMAIL, norm, n, &id) == 0)
		return id;
	return 0;
}

static void
lead_events(struct lead *ld, uint64_t id)
{
	struct crm_evit *it;
	struct crm_event e;
	int rc;

	if (id == 0 || ld->t == NULL)
		return;
	if ((rc = crm_evit_open(ld->t, id, INT64_MIN, ld->asof + 1, 0, &it)))
		errx(crm_sysexit(rc), "%s", crm_store_error(ld->st));
	while ((rc = crm_evit_next(it, &e)) == 0)
		crm_lead_event(ld->l, e.type, e.tlen, e.ts);
	crm_evit_close(it);
	if (rc != CRM_EOF)
		errx(crm_sysexit(rc), "%s", crm_strerror(rc));
}

static void
lead_header(struct lead *ld, struct crm_in *in, const char *name)
{
	const char *const *names;
	char err[2048];
	size_t n, i;
	int rc;

	n = crm_in_header(in, &names);
	ld->idcol = crm_expr_lookup(names, n, "id", 2);
	ld->emailcol = crm_expr_lookup(names, n, "email", 5);
	if ((rc = crm_lead_load(ld->cf, names, n, ld->asof, &ld->l, err,
		 sizeof(err))))
		errx(rc == CRM_ECONFIG ? EX_CONFIG : EX_SOFTWARE, "%s", err);
	for (i = 0; i < n; i++)
		crm_csv_field(&ld->line, ld->fmt, i == 0, names[i],
		    strlen(names[i]));
	crm_csv_field(&ld->line, ld->fmt, n == 0, "lead_score", 10);
	if (ld->explain)
		crm_csv_field(&ld->line, ld->fmt, 0, "lead_rules", 10);
	crm_csv_end(&ld->line);
	(void)name;
}

static void
lead_row(struct lead *ld, const struct crm_inrow *r)
{
	char num[40];
	double score;
	size_t i;

	crm_lead_begin(ld->l);
	if (crm_lead_wants_events(ld->l))
		lead_events(ld, lead_contact(ld, r));
	if (crm_lead_end(ld->l, r->val, r->vlen, r->n, &score,
		ld->explain ? &ld->why : NULL))
		errx(EX_OSERR, "%s", crm_strerror(CRM_ENOMEM));
	for (i = 0; i < r->n; i++)
		crm_csv_field(&ld->line, ld->fmt, i == 0, r->val[i],
		    r->vlen[i]);
	snprintf(num, sizeof(num), "%.2f", score);
	crm_csv_field(&ld->line, ld->fmt, r->n == 0, num, strlen(num));
	if (ld->explain)
		crm_csv_field(&ld->line, ld->fmt, 0, ld->why.p ? ld->why.p : "",
		    ld->why.len);
	crm_csv_end(&ld->line);
	if (ld->line.len >= 65536) {
		fwrite(ld->line.p, 1, ld->line.len, ld->fp);
		ld->line.len = 0;
	}
}

static void
lead_file(struct lead *ld, const char *path)
{
	const char *name = path && strcmp(path, "-") ? path : "stdin";
	const char *const *names;
	struct crm_inrow r;
	struct crm_in *in;
	char msg[512];
	int rc;

	if ((rc = crm_in_open(path, ld->fmt, &in, msg, sizeof(msg))) > 0)
		err(EX_NOINPUT, "%s", name);
	if (rc)
		errx(EX_DATAERR, "%s: %s", name, msg);
	while ((rc = crm_in_next(in, &r)) == 0) {
		if (ld->l == NULL)
			lead_header(ld, in, name);
		lead_row(ld, &r);
	}
	if (rc != CRM_EOF)
		errx(rc == CRM_EPARSE ? EX_DATAERR : crm_sysexit(rc),
		    "%s:%ld: %s", name, r.line, crm_in_error(in));
	if (ld->l == NULL && crm_in_header(in, &names) > 0)
		lead_header(ld, in, name);
	crm_in_close(in);
}

static void
lead_open(struct lead *ld)
{
	char path[4096], msg[1024], dir[4096];
	const char *d;
	int rc;

	rc = crm_config_load(crm_config_path(ld->cfgpath, path, sizeof(path)),
	    &ld->cf, msg, sizeof(msg));
	if (rc)
		errx(rc == CRM_ECONFIG ? EX_CONFIG : EX_SOFTWARE, "%s",
		    rc == CRM_ECONFIG ? msg : crm_strerror(rc));
	d = crm_store_path(ld->db, dir, sizeof(dir));
	rc = crm_store_open(d, CRM_F_RDONLY, &ld->st);
	if (rc == 0)
		rc = crm_txn_begin(ld->st, CRM_F_RDONLY, &ld->t);
	else if (rc == CRM_ENOSTORE && ld->db == NULL) {
		crm_store_close(ld->st); /* no store: no event points */
		ld->st = NULL;
		rc = 0;
	}
	if (rc)
		errx(crm_sysexit(rc), "%s",
		    ld->st ? crm_store_error(ld->st) : crm_strerror(rc));
}

static const struct option lead_longopts[] = { { "as-of", required_argument,
						   NULL, 'A' },
	{ "config", required_argument, NULL, 'c' },
	{ "db", required_argument, NULL, 'D' },
	{ "explain", no_argument, NULL, 'x' },
	{ "format", required_argument, NULL, 'F' },
	{ "help", no_argument, NULL, 'h' },
	{ "output", required_argument, NULL, 'o' }, { NULL, 0, NULL, 0 } };

static int
lead_main(int argc, char *argv[])
{
	struct lead ld = { .fmt = CRM_FMT_CSV, .asof = (int64_t)time(NULL) };
	size_t i;
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:D:F:ho:", lead_longopts,
		    NULL)) != -1) {
		switch (ch) {
		case 'A':
			if (crm_time_parse(optarg, strlen(optarg), &ld.asof,
				NULL))
				errx(EX_USAGE, "invalid time \"%s\"", optarg);
			break;
		case 'c':
			ld.cfgpath = optarg;
			break;
		case 'D':
			ld.db = optarg;
			break;
		case 'F':
			ld.fmt = crm_fmt_parse(optarg);
			if (ld.fmt != CRM_FMT_CSV && ld.fmt != CRM_FMT_TSV)
				errx(EX_USAGE,
				    "lead reads csv or tsv, not \"%s\"",
				    optarg);
			break;
		case 'o':
			ld.outpath = optarg;
			break;
		case 'h':
			lead_usage(0);
			break;
		case 'x':
			ld.explain = 1;
			break;
		default:
			lead_usage(EX_USAGE);
		}
	}
	lead_open(&ld);
	ld.fp = stdout;
	if (ld.outpath && (ld.fp = fopen(ld.outpath, "w")) == NULL)
		err(EX_CANTCREAT, "%s", ld.outpath);
	if (optind >= argc)
		lead_file(&ld, NULL);
	for (i = (size_t)optind; i < (size_t)argc; i++)
		lead_file(&ld, argv[i]);
	fwrite(ld.line.p ? ld.line.p : "", 1, ld.line.len, ld.fp);
	if (fflush(ld.fp) || ferror(ld.fp) || fclose(ld.fp))
		errx(EX_IOERR, "%s: write error",
		    ld.outpath ? ld.outpath : "stdout");
	crm_lead_close(ld.l);
	crm_txn_abort(ld.t);
	crm_store_close(ld.st);
	crm_config_free(ld.cf);
	crm_buf_free(&ld.line);
	crm_buf_free(&ld.why);
	return 0;
}

int
main(int argc, char *argv[])
{
	struct ctx c = { .fmt = CRM_FMT_CSV, .unit = 7, .horizon = -1 };

	/* A roll-up of a million customers faults in hundreds of megabytes:
	 * huge pages save a tenth of the time (lib/tune.h). */
	crm_tune_hugepages(argv);
	setlocale(LC_ALL, "");
	if (argc > 1 && strcmp(argv[1], "lead") == 0)
		return lead_main(argc - 1, argv + 1);
	c.fp = stdout;
	c.asof = (int64_t)time(NULL);
	parse_args(&c, argc, argv);
	load_config(&c);
	read_input(&c);
	if (c.sub->prepare(&c))
		errx(EX_OSERR, "%s", crm_strerror(CRM_ENOMEM));
	if (c.outpath && (c.fp = fopen(c.outpath, "w")) == NULL)
		err(EX_CANTCREAT, "%s", c.outpath);
	if (c.events)
		write_events(&c);
	else
		write_contacts(&c);
	flush_line(&c, 1);
	if (fflush(c.fp) || ferror(c.fp) || fclose(c.fp))
		errx(EX_IOERR, "%s: write error",
		    c.outpath ? c.outpath : "stdout");
	crm_rfm_close(c.roll);
	crm_rfm_table_free(c.table);
	crm_config_free(c.cf);
	free(c.sc);
	free(c.own);
	free(c.off);
	crm_buf_free(&c.text);
	crm_buf_free(&c.line);
	for (size_t i = 0; i < c.nhdr; i++)
		free(c.hdr[i]);
	free(c.hdr);
	return 0;
}
