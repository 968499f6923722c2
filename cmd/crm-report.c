/*
 * crm-report: KPIs over a period, as one set of numbers or a time series,
 * and a cohort retention matrix; over the store, or over contact and event
 * rows without one. The KPIs are computed by lib/report.c, one contact and
 * its timeline at a time; this file reads the contacts and their events
 * and writes the report as a table, CSV, NDJSON, Markdown or HTML.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <locale.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "crm.h"
#include "expr.h"
#include "report.h"

#define DAY 86400
#define MAXSHOWN 10 /* bad rows reported one by one */

enum { OUT_TABLE, OUT_CSV, OUT_NDJSON, OUT_MD, OUT_HTML };
static const char *const out_names[] = { "table", "csv", "ndjson", "md", "html",
	NULL };
static const char *const by_names[] = { "", "day", "week", "month", "quarter",
	NULL };

/* Stream mode: an event, its contact, and its place in the input. */
struct sev {
	uint32_t cix;
	uint64_t seq;
	struct crm_rev ev;
};

/* Stream mode: a contact and whether -e selects it. */
struct scontact {
	struct crm_rcontact c;
	int selected, row; /* row: a contact row was read for it */
};

struct ctx {
	/* options */
	const char *db, *cfgpath, *outpath, *expr;
	int out, by, cohorts, skipbad, infmt, jobs;
	int64_t asof, since, until;
	int since_set, until_set;
	char **files;
	size_t nfiles;
	/* state */
	struct crm_config *cf;
	struct crm_report_opts ro;
	struct crm_report *r;
	struct crm_expr *e;
	size_t ecols; /* columns the expression names */
	const char **ev;
	size_t *el;
	/* stream mode */
	struct crm_map keys; /* "i" id or "e" email -> contact index */
	struct scontact *sc;
	size_t nsc, capsc;
	struct sev *sev;
	size_t nsev, capsev;
	long nbad;
	const char *fname;
	/* the timeline of the contact at hand (store mode) */
	struct crm_rev *tl;
	size_t ntl, captl;
	struct crm_buf o;
	FILE *fp;
};

static void
usage(int status)
{
	fputs("usage: crm-report [cohorts] [-c config] [-D dir] [-e expr] "
	      "[-F format] [-j jobs]\n"
	      "                  [-o file] [--as-of time] [--since time] "
	      "[--until time]\n"
	      "                  [--by day|week|month|quarter] [--in "
	      "csv|tsv|ndjson] [--skip-bad]\n"
	      "                  [file ...]\n"
	      "       format: table, csv, ndjson, md or html\n",
	    status ? stderr : stdout);
	exit(status);
}

static void
oom(int rc)
{
	if (rc)
		errx(EX_OSERR, "%s", crm_strerror(CRM_ENOMEM));
}

static void *
grow(void *p, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap : 64;

	if (need <= *cap)
		return p;
	while (n < need)
		n *= 2;
	if ((p = realloc(p, n * size)) == NULL)
		err(EX_OSERR, NULL);
	*cap = n;
	return p;
}

/* ---- events into timeline entries ---- */

/* The fields a KPI reads, by name. */
enum { F_AMOUNT, F_CAMPAIGN, F_DEAL, F_STAGE, F_CASE, F_METRIC, F_SCORE, NF };
static const char *const fnames[NF] = { "amount", "campaign", "deal_id",
	"stage", "case_id", "metric", "score" };

/*
 * An event of built-in type t with fields f into a timeline entry. Returns
 * 0, 1 for an event no KPI reads beyond its time, or -1 with why.
 */
static int
to_rev(struct crm_report *r, int t, int64_t ts, const char *const f[NF],
    const size_t fl[NF], struct crm_rev *ev, const char **why)
{
	int64_t v;

	memset(ev, 0, sizeof(*ev));
	ev->ts = ts;
	switch (t) {
	case CRM_EV_PURCHASE:
	case CRM_EV_REFUND:
		ev->kind =
		    t == CRM_EV_PURCHASE ? CRM_RK_PURCHASE : CRM_RK_REFUND;
		if (crm_money_parse(f[F_AMOUNT], fl[F_AMOUNT], &ev->amount)) {
			*why = "column \"amount\": not an amount";
			return -1;
		}
		return 0;
	case CRM_EV_EMAIL_SENT:
	case CRM_EV_EMAIL_OPEN:
	case CRM_EV_EMAIL_CLICK:
	case CRM_EV_UNSUBSCRIBE:
		ev->kind = t == CRM_EV_EMAIL_SENT ? CRM_RK_SENT :
		    t == CRM_EV_EMAIL_OPEN        ? CRM_RK_OPEN :
		    t == CRM_EV_EMAIL_CLICK       ? CRM_RK_CLICK :
						    CRM_RK_UNSUB;
		ev->campaign =
		    crm_report_intern(r, f[F_CAMPAIGN], fl[F_CAMPAIGN]);
		return 0;
	case CRM_EV_SURVEY:
		if (fl[F_METRIC] == 3 &&
		    strncasecmp(f[F_METRIC], "nps", 3) == 0)
			ev->kind = CRM_RK_NPS;
		else if (fl[F_METRIC] == 4 &&
		    strncasecmp(f[F_METRIC], "csat", 4) == 0)
			ev->kind = CRM_RK_CSAT;
		else {
			*why = "column \"metric\": nps or csat is expected";
			return -1;
		}
		if (crm_int_parse(f[F_SCORE], fl[F_SCORE], &v) || v < 0 ||
		    v > (ev->kind == CRM_RK_NPS ? 10 : 5) ||
		    (ev->kind == CRM_RK_CSAT && v < 1)) {
			*why = ev->kind == CRM_RK_NPS ?
			    "column \"score\": a whole number from 0 to 10 is "
			    "expected" :
			    "column \"score\": a whole number from 1 to 5 is "
			    "expected";
			return -1;
		}
		ev->score = (uint8_t)v;
		return 0;
	case CRM_EV_TICKET_OPEN:
	case CRM_EV_TICKET_CLOSE:
		ev->kind =
		    t == CRM_EV_TICKET_OPEN ? CRM_RK_TOPEN : CRM_RK_TCLOSE;
		ev->key = crm_report_intern(r, f[F_CASE], fl[F_CASE]);
		return 0;
	case CRM_EV_DEAL:
		ev->kind = CRM_RK_DEAL;
		ev->key = crm_report_intern(r, f[F_DEAL], fl[F_DEAL]);
		ev->stage = crm_report_intern(r, f[F_STAGE], fl[F_STAGE]);
		if (fl[F_AMOUNT] > 0) {
			if (crm_money_parse(f[F_AMOUNT], fl[F_AMOUNT],
				&ev->amount)) {
				*why = "column \"amount\": not an amount";
				return -1;
			}
			ev->has_amount = 1;
		}
		if (ev->key == 0) {
			*why = "column \"deal_id\": a deal needs one";
			return -1;
		}
		return 0;
	}
	ev->kind = CRM_RK_OTHER;
	return 1;
}

/* ---- the expression (-e) ---- */

static void
compile_expr(struct ctx *c)
{
	struct crm_expr_err ee;
	char msg[1200];
	int rc;

	rc = crm_expr_compile(c->expr, NULL, 0, c->cf, c->asof, CRM_EXPR_ANYCOL,
	    &c->e, &ee);
	if (rc) {
		crm_expr_format(c->expr, &ee, "    ", msg, sizeof(msg));
		errx(EX_USAGE, "-e: %s", msg);
	}
	c->ecols = crm_expr_added(c->e);
	c->ev = calloc(c->ecols + 1, sizeof(*c->ev));
	c->el = calloc(c->ecols + 1, sizeof(*c->el));
	if (c->ev == NULL || c->el == NULL)
		err(EX_OSERR, NULL);
}

/* Whether the contact whose columns are names/vals is selected; ev and
 * el are room for the expression's cells. */
static int
selected(const struct ctx *c, const char **ev, size_t *el,
    const char *const *names, const char *const *vals, const size_t *vlen,
    size_t n)
{
	const char *name;
	size_t i;
	long k;

	if (c->e == NULL)
		return 1;
	for (i = 0; i < c->ecols; i++) {
		name = crm_expr_column(c->e, i);
		k = crm_expr_lookup(names, n, name, strlen(name));
		ev[i] = k >= 0 ? vals[k] : "";
		el[i] = k >= 0 ? vlen[k] : 0;
	}
	return crm_expr_match(c->e, ev, el, c->ecols);
}

/* ---- the store ---- */

#define MAXJOBS 4
#define SPLIT_MIN 20000 /* contacts below this are read by one thread */

/* Columns of a stored contact for -e: id, the core fields, the
 * statistics when the expression reads them, the custom fields. */
struct srow {
	const char **names, **vals;
	size_t *vlen, n, cap;
	char id[24], stats[CRM_NSTAT][32];
};

/*
 * A reading thread: the contacts with ids in [lo, hi) (hi 0: no end) and
 * their events, in its own read transaction, into its own report, which
 * is merged at the end. Contacts are never shared out, so each is read
 * whole in one snapshot.
 */
struct worker {
	struct ctx *c;
	struct crm_store *st;
	struct crm_report *r;
	uint64_t lo, hi;
	int want_stats;
	struct srow s;
	const char **ev;
	size_t *el;
	struct crm_rev *tl;
	size_t ntl, captl;
	pthread_t th;
};

static void
srow_put(struct srow *s, const char *name, const char *v, size_t vl)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->names = realloc(s->names, s->cap * sizeof(*s->names));
		s->vals = realloc(s->vals, s->cap * sizeof(*s->vals));
		s->vlen = realloc(s->vlen, s->cap * sizeof(*s->vlen));
		if (!s->names || !s->vals || !s->vlen)
			err(EX_OSERR, NULL);
	}
	s->names[s->n] = name;
	s->vals[s->n] = v;
	s->vlen[s->n++] = vl;
}

static int
store_selected(struct worker *w, struct crm_txn *t, const struct crm_rec *rec)
{
	struct srow *s = &w->s;
	struct crm_stats st;
	size_t i, nl, vl;
	const char *name, *v;
	int rc;

	if (w->c->e == NULL)
		return 1;
	s->n = 0;
	snprintf(s->id, sizeof(s->id), "%llu", (unsigned long long)rec->id);
	srow_put(s, "id", s->id, strlen(s->id));
	for (i = 0; i < rec->n; i++) {
		name = crm_rec_name(rec, i, &nl);
		v = crm_rec_val(rec, i, &vl);
		srow_put(s, name, v, vl);
	}
	if (w->want_stats) {
		if ((rc = crm_stats_get(t, rec->id, &st)))
			errx(EX_IOERR, "%s", crm_strerror(rc));
		crm_stats_format(&st, s->stats);
		for (i = 0; i < CRM_NSTAT; i++)
			srow_put(s, crm_stat_names[i], s->stats[i],
			    strlen(s->stats[i]));
	}
	return selected(w->c, w->ev, w->el, s->names, s->vals, s->vlen, s->n);
}

static void
store_contact(struct crm_report *r, const struct crm_rec *rec,
    struct crm_rcontact *rc)
{
	const char *v;
	size_t n;

	rc->created = CRM_TIME_NONE;
	rc->stage = 0;
	rc->r_score = rc->f_score = 0;
	if ((v = crm_rec_get(rec, CRM_COL_CREATED_AT, NULL, 0, &n)) &&
	    crm_time_parse(v, n, &rc->created, NULL))
		rc->created = CRM_TIME_NONE;
	if ((v = crm_rec_get(rec, CRM_COL_STAGE, NULL, 0, &n)))
		rc->stage = crm_report_intern(r, v, n);
}

/* A stored event into the timeline at hand: one pass over its fields,
 * since this runs for every event in the store. */
static void
store_event(struct worker *w, const struct crm_event *e)
{
	static const unsigned char flen[NF] = { 6, 8, 7, 5, 7, 6, 5 };
	const char *f[NF], *why;
	size_t fl[NF], i, j;
	int t = crm_evtype_lookup(e->type, e->tlen);

	for (i = 0; i < NF; i++) {
		f[i] = "";
		fl[i] = 0;
	}
	for (j = 0; t != CRM_EV_OTHER && j < e->n; j++)
		for (i = 0; i < NF; i++)
			if (e->f[j].nlen == flen[i] &&
			    memcmp(e->f[j].name, fnames[i], flen[i]) == 0) {
				f[i] = e->f[j].val;
				fl[i] = e->f[j].vlen;
				break;
			}
	w->tl = grow(w->tl, &w->captl, w->ntl + 1, sizeof(*w->tl));
	/* The store holds checked events: one that cannot be read (an
	 * amount past the money range) counts for its time only. */
	if (to_rev(w->r, t, e->ts, f, fl, &w->tl[w->ntl], &why) < 0)
		w->tl[w->ntl].kind = CRM_RK_OTHER;
	w->ntl++;
}

static void
flush_contact(struct worker *w, const struct crm_rcontact *rc, int sel)
{
	int e;

	if (sel && (e = crm_report_add(w->r, rc, w->tl, w->ntl)))
		errx(e == CRM_ETOOBIG ? EX_DATAERR : EX_OSERR, "%s",
		    e == CRM_ETOOBIG ? "a sum is too large" : crm_strerror(e));
	w->ntl = 0;
}

static int
in_range(const struct worker *w, uint64_t id)
{
	return id >= w->lo && (w->hi == 0 || id < w->hi);
}

/*
 * Contacts in id order and events in (contact, time) order: one merge of
 * the two, so that each contact's timeline is read once, in order.
 */
static void *
read_range(void *arg)
{
	struct worker *w = arg;
	struct crm_txn *t = NULL;
	struct crm_iter *it = NULL;
	struct crm_evit *ei = NULL;
	struct crm_rec rec;
	struct crm_event ev;
	struct crm_rcontact rc;
	uint64_t id;
	int irc, erc, sel;

	if ((irc = crm_txn_begin(w->st, CRM_F_RDONLY, &t)) ||
	    (irc = crm_iter_open(t, &it)) ||
	    (irc = crm_evit_open(t, 0, INT64_MIN, w->c->until, 0, &ei)))
		errx(EX_IOERR, "%s", crm_store_error(w->st));
	crm_iter_seek(it, w->lo);
	crm_evit_seek(ei, w->lo);
	crm_rec_init(&rec);
	irc = crm_iter_next(it, &rec);
	erc = crm_evit_next(ei, &ev);
	if (irc == 0 && !in_range(w, rec.id))
		irc = CRM_EOF;
	if (erc == 0 && !in_range(w, ev.contact))
		erc = CRM_EOF;
	while (irc == 0 || erc == 0) {
		if (erc == 0 && (irc != 0 || ev.contact < rec.id)) {
			/* events of a contact without a record */
			id = ev.contact;
			while (erc == 0 && ev.contact == id) {
				store_event(w, &ev);
				erc = crm_evit_next(ei, &ev);
			}
			flush_contact(w, NULL, w->c->e == NULL);
		} else {
			store_contact(w->r, &rec, &rc);
			sel = store_selected(w, t, &rec);
			while (erc == 0 && ev.contact == rec.id) {
				if (sel)
					store_event(w, &ev);
				erc = crm_evit_next(ei, &ev);
			}
			flush_contact(w, &rc, sel);
			if ((irc = crm_iter_next(it, &rec)) == 0 &&
			    !in_range(w, rec.id))
				irc = CRM_EOF;
		}
		if (erc == 0 && !in_range(w, ev.contact))
			erc = CRM_EOF;
	}
	if (irc != CRM_EOF || erc != CRM_EOF)
		errx(EX_IOERR, "%s", crm_store_error(w->st));
	crm_evit_close(ei);
	crm_iter_close(it);
	crm_rec_free(&rec);
	crm_txn_abort(t);
	return NULL;
}

/* The highest contact id with events, to share the ids out. */
static uint64_t
last_contact(struct crm_store *st)
{
	struct crm_txn *t;
	struct crm_evit *ei;
	struct crm_event ev;
	uint64_t id = 0;

	if (crm_txn_begin(st, CRM_F_RDONLY, &t))
		errx(EX_IOERR, "%s", crm_store_error(st));
	if (crm_evit_open(t, 0, INT64_MIN, INT64_MAX, 1, &ei))
		errx(EX_IOERR, "%s", crm_store_error(st));
	if (crm_evit_next(ei, &ev) == 0)
		id = ev.contact;
	crm_evit_close(ei);
	crm_txn_abort(t);
	return id;
}

static void
read_store(struct ctx *c)
{
	struct worker w[MAXJOBS];
	struct crm_store *st = NULL;
	char buf[4096];
	const char *dir = crm_store_path(c->db, buf, sizeof(buf));
	const size_t *refs;
	size_t i, nrefs;
	uint64_t last;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int n, k, rc, want_stats = 0;

	if ((rc = crm_store_open(dir, CRM_F_RDONLY, &st)))
		errx(rc == CRM_ENOSTORE    ? EX_NOINPUT :
			rc == CRM_EVERSION ? EX_DATAERR :
					     EX_IOERR,
		    "%s", crm_store_error(st));
	if (c->e) {
		nrefs = crm_expr_refs(c->e, &refs);
		for (i = 0; i < nrefs; i++)
			if (crm_col_lookup(crm_expr_column(c->e, refs[i]),
				strlen(crm_expr_column(c->e, refs[i]))) == -2)
				want_stats = 1;
	}
	last = last_contact(st);
	n = ncpu > MAXJOBS ? MAXJOBS : ncpu < 1 ? 1 : (int)ncpu;
	if (last < SPLIT_MIN)
		n = 1;
	if (c->jobs > 0)
		n = c->jobs;
	memset(w, 0, sizeof(w));
	for (k = 0; k < n; k++) {
		w[k].c = c;
		w[k].st = st;
		w[k].want_stats = want_stats;
		w[k].lo = k == 0 ? 1 : 1 + last / (uint64_t)n * (uint64_t)k;
		w[k].hi =
		    k == n - 1 ? 0 : 1 + last / (uint64_t)n * (uint64_t)(k + 1);
		w[k].ev = calloc(c->ecols + 1, sizeof(*w[k].ev));
		w[k].el = calloc(c->ecols + 1, sizeof(*w[k].el));
		if (w[k].ev == NULL || w[k].el == NULL)
			err(EX_OSERR, NULL);
		if (k == 0)
			w[k].r = c->r;
		else if ((rc = crm_report_open(&c->ro, &w[k].r)))
			errx(EX_OSERR, "%s", crm_strerror(rc));
		if (k > 0 &&
		    (rc = pthread_create(&w[k].th, NULL, read_range, &w[k])))
			errx(EX_OSERR, "%s", strerror(rc));
	}
	read_range(&w[0]);
	for (k = 0; k < n; k++) {
		if (k > 0) {
			pthread_join(w[k].th, NULL);
			if ((rc = crm_report_merge(c->r, w[k].r)))
				errx(EX_OSERR, "%s", crm_strerror(rc));
			crm_report_close(w[k].r);
		}
		free(w[k].s.names);
		free(w[k].s.vals);
		free(w[k].s.vlen);
		free(w[k].ev);
		free(w[k].el);
		free(w[k].tl);
	}
	crm_store_close(st);
}

/* ---- streams ---- */

static void
bad_row(struct ctx *c, long line, const char *fmt, ...)
{
	char m[600];
	va_list ap;

	if (++c->nbad > MAXSHOWN) {
		if (c->nbad == MAXSHOWN + 1)
			warnx("more bad rows are not shown");
		return;
	}
	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	warnx("%s:%ld: %s", c->fname, line, m);
}

/* The value of the column called name in a row, trimmed; "" if none. */
static const char *
col(const struct crm_inrow *r, const char *name, size_t *n)
{
	const char *s;
	size_t i, k = strlen(name);

	for (i = 0; i < r->n; i++)
		if (r->name[i] && r->nlen[i] == k &&
		    memcmp(r->name[i], name, k) == 0) {
			s = r->val[i];
			*n = r->vlen[i];
			crm_trim(&s, n);
			return s;
		}
	*n = 0;
	return "";
}

/* The contact of a key ("i" and an id, or "e" and a normal e-mail),
 * added when new. */
static uint32_t
contact_of(struct ctx *c, const char *key, size_t n, int *isnew)
{
	uint64_t v;

	*isnew = 0;
	if (crm_map_get(&c->keys, key, n, &v))
		return (uint32_t)v;
	c->sc = grow(c->sc, &c->capsc, c->nsc + 1, sizeof(*c->sc));
	memset(&c->sc[c->nsc], 0, sizeof(c->sc[0]));
	c->sc[c->nsc].c.created = CRM_TIME_NONE;
	c->sc[c->nsc].selected = c->e == NULL;
	oom(crm_map_put(&c->keys, key, n, c->nsc));
	*isnew = 1;
	return (uint32_t)c->nsc++;
}

/* The key of a row's contact: its id column (idcol), else its email. */
static int
row_key(const struct crm_inrow *r, const char *idcol, char *key, size_t *kn,
    const char **why)
{
	const char *s;
	size_t n;
	uint64_t id;
	char norm[256];

	s = col(r, idcol, &n);
	if (n > 0) {
		if (crm_id_parse(s, n, &id)) {
			*why = idcol[0] == 'i' ?
			    "column \"id\": not an id" :
			    "column \"contact\": not an id";
			return -1;
		}
		*kn =
		    (size_t)snprintf(key, 32, "i%llu", (unsigned long long)id);
		return 0;
	}
	s = col(r, "email", &n);
	if (n == 0 || n > 254 || crm_email_norm(s, n, norm, &n)) {
		*why = n == 0 ? "no contact: neither id nor email" :
				"column \"email\": not an e-mail address";
		return -1;
	}
	key[0] = 'e';
	memcpy(key + 1, norm, n);
	*kn = n + 1;
	return 0;
}

static int
score_of(const struct crm_inrow *r, const char *name)
{
	const char *s;
	size_t n;
	int64_t v;

	s = col(r, name, &n);
	return crm_int_parse(s, n, &v) || v < 1 || v > 5 ? 0 : (int)v;
}

static void
contact_row(struct ctx *c, const struct crm_inrow *r)
{
	char key[300];
	const char *why = NULL, *s;
	size_t kn, n;
	uint32_t ix;
	int isnew;
	struct scontact *p;

	if (row_key(r, "id", key, &kn, &why)) {
		bad_row(c, r->line, "%s", why);
		return;
	}
	ix = contact_of(c, key, kn, &isnew);
	/* A row with an id and an email answers to both. */
	if (key[0] == 'i') {
		s = col(r, "email", &n);
		key[0] = 'e';
		if (n > 0 && n <= 254 && crm_email_norm(s, n, key + 1, &n) == 0)
			oom(crm_map_put(&c->keys, key, n + 1, ix));
	}
	p = &c->sc[ix];
	p->row = 1;
	s = col(r, "created_at", &n);
	if (n > 0 && crm_time_parse(s, n, &p->c.created, NULL)) {
		bad_row(c, r->line, "column \"created_at\": not a time");
		return;
	}
	s = col(r, "stage", &n);
	p->c.stage = crm_report_intern(c->r, s, n);
	p->c.r_score = (uint8_t)score_of(r, "r_score");
	p->c.f_score = (uint8_t)score_of(r, "f_score");
	p->selected = selected(c, c->ev, c->el, r->name, r->val, r->vlen, r->n);
}

static void
event_row(struct ctx *c, const struct crm_inrow *r, uint64_t seq)
{
	char key[300];
	const char *why = NULL, *s, *f[NF];
	size_t kn, n, fl[NF], i;
	int64_t ts;
	int isnew, t;
	struct sev *p;
	uint32_t ix;

	if (row_key(r, "contact", key, &kn, &why)) {
		bad_row(c, r->line, "%s", why);
		return;
	}
	s = col(r, "ts", &n);
	if (crm_time_parse(s, n, &ts, NULL)) {
		bad_row(c, r->line, "column \"ts\": not a time");
		return;
	}
	s = col(r, "type", &n);
	t = crm_evtype_lookup(s, n);
	for (i = 0; i < NF; i++)
		f[i] = col(r, fnames[i], &fl[i]);
	c->sev = grow(c->sev, &c->capsev, c->nsev + 1, sizeof(*c->sev));
	p = &c->sev[c->nsev];
	if (to_rev(c->r, t, ts, f, fl, &p->ev, &why) < 0) {
		bad_row(c, r->line, "%s", why);
		return;
	}
	ix = contact_of(c, key, kn, &isnew);
	p->cix = ix;
	p->seq = seq;
	c->nsev++;
}

/* An event row has ts and type columns (CSV, TSV: in the header). */
static int
is_event(const struct crm_inrow *r)
{
	size_t n;

	col(r, "type", &n);
	if (n == 0)
		return 0;
	col(r, "ts", &n);
	return n > 0;
}

static int
infmt_of(const struct ctx *c, const char *path)
{
	const char *dot = path ? strrchr(path, '.') : NULL;

	if (c->infmt >= 0)
		return c->infmt;
	if (dot && strcmp(dot, ".tsv") == 0)
		return CRM_FMT_TSV;
	if (dot && (strcmp(dot, ".ndjson") == 0 || strcmp(dot, ".jsonl") == 0))
		return CRM_FMT_NDJSON;
	return CRM_FMT_CSV;
}

static void
read_file(struct ctx *c, const char *path, uint64_t *seq)
{
	struct crm_in *in;
	struct crm_inrow r;
	char e[200];
	int rc, fmt;

	c->fname = path && strcmp(path, "-") ? path : "stdin";
	fmt = infmt_of(c, path && strcmp(path, "-") ? path : NULL);
	if ((rc = crm_in_open(path && strcmp(path, "-") ? path : NULL, fmt, &in,
		 e, sizeof(e))))
		errx(rc > 0 ? EX_NOINPUT : EX_DATAERR, "%s: %s", c->fname,
		    rc > 0 ? strerror(rc) : e);
	while ((rc = crm_in_next(in, &r)) == 0 || rc == CRM_EPARSE) {
		if (rc == CRM_EPARSE) {
			bad_row(c, r.line, "%s", crm_in_error(in));
			continue;
		}
		if (is_event(&r))
			event_row(c, &r, (*seq)++);
		else
			contact_row(c, &r);
	}
	if (rc != CRM_EOF)
		errx(EX_IOERR, "%s: %s", c->fname, crm_strerror(rc));
	crm_in_close(in);
}

static int
cmp_sev(const void *a, const void *b)
{
	const struct sev *x = a, *y = b;

	if (x->cix != y->cix)
		return x->cix < y->cix ? -1 : 1;
	if (x->ev.ts != y->ev.ts)
		return x->ev.ts < y->ev.ts ? -1 : 1;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

/*
 * Rows of every file, then the events grouped by contact in time order
 * (stable for equal times), each contact with its timeline.
 */
static void
read_streams(struct ctx *c)
{
	uint64_t seq = 0;
	size_t i, j, k;
	int rc;

	if (c->nfiles == 0)
		read_file(c, NULL, &seq);
	for (i = 0; i < c->nfiles; i++)
		read_file(c, c->files[i], &seq);
	if (c->nbad > 0 && !c->skipbad)
		errx(EX_DATAERR,
		    "%ld bad row%s; nothing reported (--skip-bad "
		    "leaves them out)",
		    c->nbad, c->nbad == 1 ? "" : "s");
	if (c->nsev > 1)
		qsort(c->sev, c->nsev, sizeof(*c->sev), cmp_sev);
	c->tl = grow(c->tl, &c->captl, 1, sizeof(*c->tl));
	for (i = 0, j = 0; i < c->nsc; i++) {
		c->ntl = 0;
		for (; j < c->nsev && c->sev[j].cix == i; j++) {
			c->tl =
			    grow(c->tl, &c->captl, c->ntl + 1, sizeof(*c->tl));
			c->tl[c->ntl++] = c->sev[j].ev;
		}
		if (!c->sc[i].selected)
			continue;
		k = c->ntl;
		if ((rc = crm_report_add(c->r,
			 c->sc[i].row ? &c->sc[i].c : NULL, c->tl, k)))
			errx(rc == CRM_ETOOBIG ? EX_DATAERR : EX_OSERR, "%s",
			    rc == CRM_ETOOBIG ? "a sum is too large" :
						crm_strerror(rc));
	}
}

/*
 * Rows are read when files are named, or when standard input is a pipe
 * or file that brings any byte; else (a terminal, /dev/null, the empty
 * pipe cron gives) the report is over the store.
 */
static int
stdin_has_rows(void)
{
	struct stat sb;
	struct pollfd p = { 0, POLLIN, 0 };
	int n = 0;

	if (fstat(0, &sb) != 0 || isatty(0))
		return 0;
	if (S_ISREG(sb.st_mode))
		return sb.st_size > lseek(0, 0, SEEK_CUR);
	if (!S_ISFIFO(sb.st_mode) && !S_ISSOCK(sb.st_mode))
		return 0;
	while (poll(&p, 1, -1) < 0)
		if (errno != EINTR)
			return 0;
	return ioctl(0, FIONREAD, &n) == 0 && n > 0;
}

/* ---- output helpers ---- */

static void
put(struct ctx *c, const char *fmt, ...)
{
	va_list ap;
	char s[2048];
	int n;

	va_start(ap, fmt);
	n = vsnprintf(s, sizeof(s), fmt, ap);
	va_end(ap);
	oom(crm_buf_add(&c->o, s,
	    n < (int)sizeof(s) ? (size_t)n : sizeof(s) - 1));
}

static void
puts_esc(struct ctx *c, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<':
			put(c, "&lt;");
			break;
		case '>':
			put(c, "&gt;");
			break;
		case '&':
			put(c, "&amp;");
			break;
		case '"':
			put(c, "&quot;");
			break;
		case '|': /* Markdown tables too */
			put(c, c->out == OUT_MD ? "\\|" : "|");
			break;
		default:
			oom(crm_buf_addc(&c->o, *s));
		}
	}
}

static const char *
name_or(const struct ctx *c, uint32_t id, const char *none)
{
	const char *s = crm_report_str(c->r, id);

	return *s ? s : none;
}

static void
value_text(const struct crm_rval *v, char *out, size_t len, const char *na)
{
	crm_rval_format(v, out, len);
	if (v->na)
		snprintf(out, len, "%s", na);
}

static double
value_num(const struct crm_rval *v)
{
	switch (v->kind) {
	case CRM_V_COUNT:
		return (double)v->n;
	case CRM_V_MONEY:
		return (double)v->money / 1e9;
	}
	return v->x;
}

static void
pct_text(uint64_t a, uint64_t b, char *out, size_t len, const char *na)
{
	if (b == 0)
		snprintf(out, len, "%s", na);
	else
		snprintf(out, len, "%.2f", 100.0 * (double)a / (double)b);
}

static void
period_text(const struct ctx *c, char *out, size_t len)
{
	char a[CRM_TIME_LEN], b[CRM_TIME_LEN], d[CRM_TIME_LEN];

	crm_time_format(c->since, a);
	crm_time_format(c->until, b);
	crm_time_format(c->asof, d);
	snprintf(out, len, "%s to %s (as of %s)", a, b, d);
}

/* ---- CSV and NDJSON: from,to,kpi,key,value ---- */

static void
row_out(struct ctx *c, int64_t from, int64_t to, const char *kpi,
    const char *key, const char *val, int num)
{
	char a[CRM_TIME_LEN], b[CRM_TIME_LEN];

	crm_time_format(from, a);
	crm_time_format(to, b);
	if (c->out == OUT_CSV) {
		oom(crm_csv_field(&c->o, CRM_FMT_CSV, 1, a, strlen(a)));
		oom(crm_csv_field(&c->o, CRM_FMT_CSV, 0, b, strlen(b)));
		oom(crm_csv_field(&c->o, CRM_FMT_CSV, 0, kpi, strlen(kpi)));
		oom(crm_csv_field(&c->o, CRM_FMT_CSV, 0, key, strlen(key)));
		oom(crm_csv_field(&c->o, CRM_FMT_CSV, 0, val, strlen(val)));
		put(c, "\n");
		return;
	}
	put(c, "{\"from\":\"%s\",\"to\":\"%s\",\"kpi\":", a, b);
	oom(crm_json_str(&c->o, kpi, strlen(kpi)));
	put(c, ",\"key\":");
	oom(crm_json_str(&c->o, key, strlen(key)));
	put(c, ",\"value\":");
	if (*val == '\0')
		put(c, "null");
	else if (num)
		put(c, "%s", val);
	else
		oom(crm_json_str(&c->o, val, strlen(val)));
	put(c, "}\n");
}

static void
rows_series(struct ctx *c, int series)
{
	struct crm_rval v;
	char s[64];
	int64_t from, to;
	size_t b;
	int k;

	for (b = 0; b < crm_report_buckets(c->r, series); b++) {
		crm_report_bucket(c->r, series, b, &from, &to);
		for (k = 0; k < CRM_NKPI; k++) {
			crm_report_value(c->r, series, b, k, &v);
			crm_rval_format(&v, s, sizeof(s));
			row_out(c, from, to, crm_kpis[k].name, "", s, 1);
		}
	}
}

static void
rows_breakdowns(struct ctx *c)
{
	const struct crm_rcampaign *cp;
	const struct crm_rstagecount *sc;
	size_t i, n;
	char s[64];
	const char *name;
	int pm;

	n = crm_report_stages(c->r, &sc);
	for (i = 0; i < n; i++)
		if (sc[i].contacts > 0) {
			snprintf(s, sizeof(s), "%llu",
			    (unsigned long long)sc[i].contacts);
			row_out(c, c->since, c->until, "contacts_by_stage",
			    crm_report_str(c->r, sc[i].name), s, 1);
		}
	n = crm_report_campaigns(c->r, &cp);
	for (i = 0; i < n; i++) {
		name = crm_report_str(c->r, cp[i].name);
		snprintf(s, sizeof(s), "%llu", (unsigned long long)cp[i].sent);
		row_out(c, c->since, c->until, "campaign_sent", name, s, 1);
		snprintf(s, sizeof(s), "%llu",
		    (unsigned long long)cp[i].opened);
		row_out(c, c->since, c->until, "campaign_opened", name, s, 1);
		snprintf(s, sizeof(s), "%llu",
		    (unsigned long long)cp[i].clicked);
		row_out(c, c->since, c->until, "campaign_clicked", name, s, 1);
		snprintf(s, sizeof(s), "%llu",
		    (unsigned long long)cp[i].unsubscribed);
		row_out(c, c->since, c->until, "campaign_unsubscribed", name, s,
		    1);
		pct_text(cp[i].opened, cp[i].sent, s, sizeof(s), "");
		row_out(c, c->since, c->until, "campaign_open_rate", name, s,
		    1);
		pct_text(cp[i].clicked, cp[i].sent, s, sizeof(s), "");
		row_out(c, c->since, c->until, "campaign_click_rate", name, s,
		    1);
		pct_text(cp[i].unsubscribed, cp[i].sent, s, sizeof(s), "");
		row_out(c, c->since, c->until, "campaign_unsubscribe_rate",
		    name, s, 1);
	}
	n = crm_report_stages(c->r, &sc);
	for (i = 0; i < n; i++) {
		if (sc[i].deals == 0)
			continue;
		name = crm_report_str(c->r, sc[i].name);
		pm = crm_report_stage_permille(c->r, sc[i].name);
		snprintf(s, sizeof(s), "%llu", (unsigned long long)sc[i].deals);
		row_out(c, c->since, c->until, "open_deals_by_stage", name, s,
		    1);
		crm_money_format(sc[i].value, s, sizeof(s));
		row_out(c, c->since, c->until, "pipeline_value_by_stage", name,
		    s, 1);
		crm_money_format(sc[i].weighted, s, sizeof(s));
		row_out(c, c->since, c->until, "weighted_value_by_stage", name,
		    s, 1);
		snprintf(s, sizeof(s), "%d.%03d", pm / 1000, pm % 1000);
		row_out(c, c->since, c->until, "stage_probability", name, s, 1);
	}
}

static void
out_rows(struct ctx *c)
{
	if (c->out == OUT_CSV)
		put(c, "from,to,kpi,key,value\n");
	rows_series(c, 0);
	rows_breakdowns(c);
	if (c->by != CRM_BY_NONE)
		rows_series(c, 1);
}

/* cohorts: cohort,size,months_since,customers,share */
static void
out_cohort_rows(struct ctx *c)
{
	size_t i, k, m, n = crm_report_cohorts(c->r, &m);
	uint64_t size, x;
	char lab[32], sh[32];

	if (c->out == OUT_CSV)
		put(c, "cohort,size,months_since,customers,share\n");
	for (i = 0; i < n; i++) {
		size = crm_report_cohort_size(c->r, i);
		crm_report_cohort_label(c->r, i, lab, sizeof(lab));
		for (k = 0; i + k < m; k++) {
			x = crm_report_cohort_cell(c->r, i, k);
			pct_text(x, size, sh, sizeof(sh), "");
			if (c->out == OUT_CSV)
				put(c, "%s,%llu,%zu,%llu,%s\n", lab,
				    (unsigned long long)size, k,
				    (unsigned long long)x, sh);
			else
				put(c,
				    "{\"cohort\":\"%s\",\"size\":%llu,"
				    "\"months_since\":%zu,\"customers\":%llu,"
				    "\"share\":%s}\n",
				    lab, (unsigned long long)size, k,
				    (unsigned long long)x, *sh ? sh : "null");
		}
	}
}

/* ---- the table for a terminal, and Markdown ---- */

static const char *const spark[] = { "\u2581", "\u2582", "\u2583", "\u2584",
	"\u2585", "\u2586", "\u2587", "\u2588" };

/* A sparkline of KPI k over the time series. */
static void
sparkline(struct ctx *c, int k)
{
	size_t b, n = crm_report_buckets(c->r, 1);
	struct crm_rval v;
	double lo = 0, hi = 0, x;
	int have = 0, lvl;

	for (b = 0; b < n; b++) {
		crm_report_value(c->r, 1, b, k, &v);
		if (v.na)
			continue;
		x = value_num(&v);
		if (!have || x < lo)
			lo = x;
		if (!have || x > hi)
			hi = x;
		have = 1;
	}
	for (b = 0; b < n; b++) {
		crm_report_value(c->r, 1, b, k, &v);
		if (v.na) {
			put(c, " ");
			continue;
		}
		x = value_num(&v);
		lvl = hi > lo ? (int)((x - lo) / (hi - lo) * 7 + 0.5) : 3;
		put(c, "%s", spark[lvl < 0 ? 0 : lvl > 7 ? 7 : lvl]);
	}
}

#define TAIL 6 /* buckets shown as numbers in the table */

static void
table_group(struct ctx *c, int g)
{
	struct crm_rval v;
	char s[64], lab[32];
	size_t b, n = crm_report_buckets(c->r, 1), first;
	int k;

	first = n > TAIL ? n - TAIL : 0;
	put(c, "\n%s\n", crm_kpi_groups[g]);
	if (c->by != CRM_BY_NONE) {
		put(c, "  %-30s %-*s", "", (int)n + 1, "trend");
		for (b = first; b < n; b++) {
			crm_report_label(c->r, 1, b, lab, sizeof(lab));
			put(c, " %11s", lab);
		}
		put(c, " %11s\n", "period");
	}
	for (k = 0; k < CRM_NKPI; k++) {
		if (crm_kpis[k].group != g)
			continue;
		put(c, "  %-30s", crm_kpis[k].label);
		if (c->by != CRM_BY_NONE) {
			put(c, " ");
			sparkline(c, k);
			put(c, " ");
			for (b = first; b < n; b++) {
				crm_report_value(c->r, 1, b, k, &v);
				value_text(&v, s, sizeof(s), "-");
				put(c, " %11s", s);
			}
		}
		crm_report_value(c->r, 0, 0, k, &v);
		value_text(&v, s, sizeof(s), "no data");
		put(c, " %11s\n", s);
	}
}

static void
bar(struct ctx *c, uint64_t x, uint64_t max, int width)
{
	int i, n = max ? (int)((double)x / (double)max * width + 0.5) : 0;

	for (i = 0; i < n; i++)
		put(c, "\u2588");
	if (n == 0 && x > 0)
		put(c, "\u258f");
}

static void
table_breakdowns(struct ctx *c)
{
	const struct crm_rcampaign *cp;
	const struct crm_rstagecount *sc;
	size_t i, n = crm_report_stages(c->r, &sc), nc;
	uint64_t max = 0;
	char a[32], b[32], d[32], e[32];

	for (i = 0; i < n; i++)
		max = sc[i].contacts > max ? sc[i].contacts : max;
	if (max > 0) {
		put(c, "\ncontacts by stage\n");
		for (i = 0; i < n; i++) {
			if (sc[i].contacts == 0)
				continue;
			put(c, "  %-20s %10llu  ",
			    name_or(c, sc[i].name, "(none)"),
			    (unsigned long long)sc[i].contacts);
			bar(c, sc[i].contacts, max, 30);
			put(c, "\n");
		}
	}
	nc = crm_report_campaigns(c->r, &cp);
	put(c, "\ncampaigns\n");
	if (nc == 0)
		put(c, "  no data\n");
	else
		put(c, "  %-20s %10s %8s %8s %8s\n", "campaign", "sent",
		    "open %", "click %", "unsub %");
	for (i = 0; i < nc; i++) {
		pct_text(cp[i].opened, cp[i].sent, a, sizeof(a), "no data");
		pct_text(cp[i].clicked, cp[i].sent, b, sizeof(b), "no data");
		pct_text(cp[i].unsubscribed, cp[i].sent, d, sizeof(d),
		    "no data");
		put(c, "  %-20s %10llu %8s %8s %8s\n",
		    name_or(c, cp[i].name, "(none)"),
		    (unsigned long long)cp[i].sent, a, b, d);
	}
	put(c, "\npipeline by stage\n");
	for (i = 0, max = 0; i < n; i++)
		max = sc[i].deals > max ? sc[i].deals : max;
	if (max == 0)
		put(c, "  no open deals\n");
	else
		put(c, "  %-20s %6s %14s %14s %6s\n", "stage", "deals", "value",
		    "weighted", "prob");
	for (i = 0; i < n && max > 0; i++) {
		if (sc[i].deals == 0)
			continue;
		crm_money_format(sc[i].value, a, sizeof(a));
		crm_money_format(sc[i].weighted, b, sizeof(b));
		snprintf(e, sizeof(e), "%.2f",
		    crm_report_stage_permille(c->r, sc[i].name) / 1000.0);
		put(c, "  %-20s %6llu %14s %14s %6s  ",
		    name_or(c, sc[i].name, "(none)"),
		    (unsigned long long)sc[i].deals, a, b, e);
		bar(c, sc[i].deals, max, 20);
		put(c, "\n");
	}
}

static void
out_table(struct ctx *c)
{
	char p[200];
	int g;

	period_text(c, p, sizeof(p));
	put(c, "KPI report, %s\n", p);
	if (crm_report_empty(c->r)) {
		put(c, "\nno data: no contacts and no events\n");
		return;
	}
	for (g = 0; crm_kpi_groups[g]; g++)
		table_group(c, g);
	table_breakdowns(c);
}

static void
md_group(struct ctx *c, int g)
{
	struct crm_rval v;
	char s[64], lab[32];
	size_t b, n = c->by != CRM_BY_NONE ? crm_report_buckets(c->r, 1) : 0;
	int k;

	put(c, "\n## %s\n\n| KPI |", crm_kpi_groups[g]);
	for (b = 0; b < n; b++) {
		crm_report_label(c->r, 1, b, lab, sizeof(lab));
		put(c, " %s |", lab);
	}
	put(c, " period |\n|---|");
	for (b = 0; b <= n; b++)
		put(c, "---:|");
	put(c, "\n");
	for (k = 0; k < CRM_NKPI; k++) {
		if (crm_kpis[k].group != g)
			continue;
		put(c, "| %s |", crm_kpis[k].label);
		for (b = 0; b <= n; b++) {
			if (b < n)
				crm_report_value(c->r, 1, b, k, &v);
			else
				crm_report_value(c->r, 0, 0, k, &v);
			value_text(&v, s, sizeof(s), "no data");
			put(c, " %s |", s);
		}
		put(c, "\n");
	}
}

static void
md_breakdowns(struct ctx *c)
{
	const struct crm_rcampaign *cp;
	const struct crm_rstagecount *sc;
	size_t i, n = crm_report_stages(c->r, &sc), nc;
	char a[32], b[32], d[32];

	put(c, "\n## contacts by stage\n\n| stage | contacts |\n|---|---:|\n");
	for (i = 0; i < n; i++)
		if (sc[i].contacts > 0) {
			put(c, "| ");
			puts_esc(c, name_or(c, sc[i].name, "(none)"));
			put(c, " | %llu |\n",
			    (unsigned long long)sc[i].contacts);
		}
	nc = crm_report_campaigns(c->r, &cp);
	put(c, "\n## campaigns\n\n");
	if (nc == 0)
		put(c, "no data\n");
	else
		put(c,
		    "| campaign | sent | open %% | click %% | unsubscribe %% "
		    "|\n|---|---:|---:|---:|---:|\n");
	for (i = 0; i < nc; i++) {
		pct_text(cp[i].opened, cp[i].sent, a, sizeof(a), "no data");
		pct_text(cp[i].clicked, cp[i].sent, b, sizeof(b), "no data");
		pct_text(cp[i].unsubscribed, cp[i].sent, d, sizeof(d),
		    "no data");
		put(c, "| ");
		puts_esc(c, name_or(c, cp[i].name, "(none)"));
		put(c, " | %llu | %s | %s | %s |\n",
		    (unsigned long long)cp[i].sent, a, b, d);
	}
	put(c, "\n## pipeline by stage\n\n");
	put(c,
	    "| stage | open deals | value | weighted |\n"
	    "|---|---:|---:|---:|\n");
	for (i = 0; i < n; i++) {
		if (sc[i].deals == 0)
			continue;
		crm_money_format(sc[i].value, a, sizeof(a));
		crm_money_format(sc[i].weighted, b, sizeof(b));
		put(c, "| ");
		puts_esc(c, name_or(c, sc[i].name, "(none)"));
		put(c, " | %llu | %s | %s |\n", (unsigned long long)sc[i].deals,
		    a, b);
	}
}

static void
out_md(struct ctx *c)
{
	char p[200];
	int g;

	period_text(c, p, sizeof(p));
	put(c, "# KPI report\n\n%s\n", p);
	if (crm_report_empty(c->r)) {
		put(c, "\nno data: no contacts and no events\n");
		return;
	}
	for (g = 0; crm_kpi_groups[g]; g++)
		md_group(c, g);
	md_breakdowns(c);
}

/* cohorts as a table or Markdown: rows cohorts, columns months since. */
static void
out_cohort_grid(struct ctx *c)
{
	size_t i, k, m, n = crm_report_cohorts(c->r, &m);
	uint64_t size;
	char lab[32], sh[32], p[200];
	int md = c->out == OUT_MD;

	period_text(c, p, sizeof(p));
	put(c, md ? "# Cohort retention\n\n%s\n\n" : "cohort retention, %s\n\n",
	    p);
	put(c, md ? "| cohort | customers |" : "%-8s %9s", "cohort",
	    "customers");
	for (k = 0; k < m; k++)
		put(c, md ? " %zu |" : " %6zu", k);
	put(c, "\n");
	if (md) {
		put(c, "|---|---:|");
		for (k = 0; k < m; k++)
			put(c, "---:|");
		put(c, "\n");
	}
	for (i = 0; i < n; i++) {
		size = crm_report_cohort_size(c->r, i);
		crm_report_cohort_label(c->r, i, lab, sizeof(lab));
		put(c, md ? "| %s | %llu |" : "%-8s %9llu", lab,
		    (unsigned long long)size);
		for (k = 0; i + k < m; k++) {
			pct_text(crm_report_cohort_cell(c->r, i, k), size, sh,
			    sizeof(sh), "-");
			put(c, md ? " %s |" : " %6s", sh);
		}
		put(c, "\n");
	}
	if (n == 0 || crm_report_empty(c->r))
		put(c, "\nno data\n");
}

/* ---- HTML with SVG charts ---- */

static void
html_kpis(struct ctx *c)
{
	struct crm_rval v;
	char s[64];
	int g, k;

	put(c, "<div class=\"groups\">\n");
	for (g = 0; crm_kpi_groups[g]; g++) {
		put(c, "<table><caption>%s</caption>\n", crm_kpi_groups[g]);
		for (k = 0; k < CRM_NKPI; k++) {
			if (crm_kpis[k].group != g)
				continue;
			crm_report_value(c->r, 0, 0, k, &v);
			value_text(&v, s, sizeof(s), "no data");
			put(c, "<tr><th>%s</th><td>%s</td></tr>\n",
			    crm_kpis[k].label, s);
		}
		put(c, "</table>\n");
	}
	put(c, "</div>\n");
}

#define W 640
#define H 220
#define M 40

/* A chart of KPI k over the time series: bars, or a line. */
static void
html_series(struct ctx *c, const char *id, const char *title, int k, int line)
{
	size_t b, n = crm_report_buckets(c->r, 1);
	struct crm_rval v;
	double max = 0, x, y, bw;
	char lab[32], s[64];

	for (b = 0; b < n; b++) {
		crm_report_value(c->r, 1, b, k, &v);
		if (!v.na && value_num(&v) > max)
			max = value_num(&v);
	}
	put(c,
	    "<h2>%s</h2>\n<svg id=\"%s\" class=\"chart\" "
	    "viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" "
	    "role=\"img\" xmlns=\"http://www.w3.org/2000/svg\">\n"
	    "<title>%s by %s</title>\n",
	    title, id, W, H, W, H, title, by_names[c->by]);
	put(c,
	    "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
	    "class=\"axis\"/>\n",
	    M, H - M, W - 10, H - M);
	bw = n ? (double)(W - M - 10) / (double)n : 0;
	if (line)
		put(c, "<polyline class=\"line\" points=\"");
	for (b = 0; b < n; b++) {
		crm_report_value(c->r, 1, b, k, &v);
		x = value_num(&v);
		y = max > 0 && !v.na ? x / max * (H - M - 20) : 0;
		if (line)
			put(c, "%.1f,%.1f ", M + bw * ((double)b + 0.5),
			    H - M - y);
		else {
			value_text(&v, s, sizeof(s), "no data");
			crm_report_label(c->r, 1, b, lab, sizeof(lab));
			put(c,
			    "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" "
			    "width=\"%.1f\" height=\"%.1f\">"
			    "<title>%s: %s</title></rect>\n",
			    M + bw * (double)b + 1, H - M - y,
			    bw > 2 ? bw - 2 : bw, y, lab, s);
		}
	}
	if (line)
		put(c, "\"/>\n");
	for (b = 0; b<n; b += n> 12 ? (n + 11) / 12 : 1) {
		crm_report_label(c->r, 1, b, lab, sizeof(lab));
		put(c, "<text x=\"%.1f\" y=\"%d\" class=\"tick\">%s</text>\n",
		    M + bw * (double)b, H - M + 14, lab);
	}
	if (max > 0) {
		crm_report_value(c->r, 0, 0, k, &v);
		snprintf(s, sizeof(s), "%.2f", max);
		put(c, "<text x=\"2\" y=\"24\" class=\"tick\">%s</text>\n", s);
	} else
		put(c, "<text x=\"%d\" y=\"%d\">no data</text>\n", W / 2 - 30,
		    H / 2);
	put(c, "</svg>\n");
}

static void
html_cohorts(struct ctx *c)
{
	size_t i, k, m, n = crm_report_cohorts(c->r, &m);
	uint64_t size, x;
	double cw = 44, ch = 22, share;
	char lab[32];

	put(c,
	    "<h2>cohort retention by month of first purchase</h2>\n"
	    "<svg id=\"cohorts\" class=\"chart\" viewBox=\"0 0 %.0f %.0f\" "
	    "width=\"%.0f\" height=\"%.0f\" "
	    "xmlns=\"http://www.w3.org/2000/svg\">\n"
	    "<title>cohort heatmap</title>\n",
	    90 + cw * ((double)m + 1), ch * ((double)n + 2),
	    90 + cw * ((double)m + 1), ch * ((double)n + 2));
	for (k = 0; k < m; k++)
		put(c, "<text x=\"%.0f\" y=\"15\" class=\"tick\">+%zu</text>\n",
		    90 + cw * (double)k + 10, k);
	for (i = 0; i < n; i++) {
		size = crm_report_cohort_size(c->r, i);
		crm_report_cohort_label(c->r, i, lab, sizeof(lab));
		put(c,
		    "<text x=\"2\" y=\"%.0f\" class=\"tick\">%s (%llu)"
		    "</text>\n",
		    ch * ((double)i + 2) - 6, lab, (unsigned long long)size);
		for (k = 0; i + k < m; k++) {
			x = crm_report_cohort_cell(c->r, i, k);
			share = size ? (double)x / (double)size : 0;
			put(c,
			    "<rect class=\"cell\" x=\"%.0f\" y=\"%.0f\" "
			    "width=\"%.0f\" height=\"%.0f\" "
			    "fill-opacity=\"%.3f\"><title>%s +%zu: %.1f%%"
			    "</title></rect>\n",
			    90 + cw * (double)k, ch * ((double)i + 1), cw - 2,
			    ch - 2, 0.05 + 0.95 * share, lab, k, 100 * share);
			put(c,
			    "<text x=\"%.0f\" y=\"%.0f\" class=\"val\">"
			    "%.0f</text>\n",
			    90 + cw * (double)k + 8, ch * ((double)i + 2) - 6,
			    100 * share);
		}
	}
	if (n == 0)
		put(c, "<text x=\"10\" y=\"30\">no data</text>\n");
	put(c, "</svg>\n");
}

static void
html_rfm(struct ctx *c)
{
	uint64_t max = 0, x;
	int r, f;

	for (r = 1; r <= 5; r++)
		for (f = 1; f <= 5; f++)
			if (crm_report_rfm(c->r, r, f) > max)
				max = crm_report_rfm(c->r, r, f);
	put(c,
	    "<h2>RFM grid (recency by frequency)</h2>\n"
	    "<svg id=\"rfm\" class=\"chart\" viewBox=\"0 0 330 330\" "
	    "width=\"330\" height=\"330\" "
	    "xmlns=\"http://www.w3.org/2000/svg\">\n"
	    "<title>contacts by r_score and f_score</title>\n");
	for (r = 1; r <= 5; r++) {
		put(c, "<text x=\"%d\" y=\"322\" class=\"tick\">R%d</text>\n",
		    30 + (r - 1) * 60 + 22, r);
		put(c, "<text x=\"2\" y=\"%d\" class=\"tick\">F%d</text>\n",
		    (5 - r) * 60 + 34, r);
	}
	for (r = 1; r <= 5; r++)
		for (f = 1; f <= 5; f++) {
			x = crm_report_rfm(c->r, r, f);
			put(c,
			    "<rect class=\"cell\" x=\"%d\" y=\"%d\" "
			    "width=\"58\" height=\"58\" "
			    "fill-opacity=\"%.3f\"/>\n"
			    "<text x=\"%d\" y=\"%d\" class=\"val\">%llu"
			    "</text>\n",
			    30 + (r - 1) * 60, (5 - f) * 60,
			    max ? 0.05 + 0.95 * (double)x / (double)max : 0.05,
			    30 + (r - 1) * 60 + 8, (5 - f) * 60 + 34,
			    (unsigned long long)x);
		}
	put(c, "</svg>\n");
}

/* The pipeline funnel: open deal stages by probability, widest first. */
static void
html_funnel(struct ctx *c)
{
	const struct crm_rstagecount *sc;
	size_t i, j, n = crm_report_stages(c->r, &sc), k = 0;
	size_t *ord = calloc(n + 1, sizeof(*ord));
	uint64_t max = 0;
	double w;
	char a[32];

	if (ord == NULL)
		err(EX_OSERR, NULL);
	for (i = 0; i < n; i++)
		if (sc[i].deals > 0) {
			/* insertion by probability, then name */
			for (j = k; j > 0 &&
			     crm_report_stage_permille(c->r,
				 sc[ord[j - 1]].name) >
				 crm_report_stage_permille(c->r, sc[i].name);
			     j--)
				ord[j] = ord[j - 1];
			ord[j] = i;
			k++;
			max = sc[i].deals > max ? sc[i].deals : max;
		}
	put(c,
	    "<h2>pipeline funnel (open deals by stage)</h2>\n"
	    "<svg id=\"funnel\" class=\"chart\" viewBox=\"0 0 %d %zu\" "
	    "width=\"%d\" height=\"%zu\" "
	    "xmlns=\"http://www.w3.org/2000/svg\">\n"
	    "<title>pipeline funnel</title>\n",
	    W + 140, 34 * k + 40, W + 140, 34 * k + 40);
	for (j = 0; j < k; j++) {
		i = ord[j];
		w = (double)sc[i].deals / (double)max * (W - 220);
		crm_money_format(sc[i].value, a, sizeof(a));
		put(c,
		    "<rect class=\"bar\" x=\"%.1f\" y=\"%zu\" width=\"%.1f\" "
		    "height=\"28\"/>\n<text x=\"4\" y=\"%zu\" "
		    "class=\"tick\">",
		    150 + (W - 220 - w) / 2, 34 * j + 10, w, 34 * j + 29);
		puts_esc(c, name_or(c, sc[i].name, "(none)"));
		put(c,
		    "</text>\n<text x=\"%d\" y=\"%zu\" class=\"tick\">%llu "
		    "(%s)</text>\n",
		    W - 60, 34 * j + 29, (unsigned long long)sc[i].deals, a);
	}
	if (k == 0)
		put(c, "<text x=\"10\" y=\"25\">no open deals</text>\n");
	put(c, "</svg>\n");
	free(ord);
}

static void
html_campaigns(struct ctx *c)
{
	const struct crm_rcampaign *cp;
	size_t i, n = crm_report_campaigns(c->r, &cp);
	char a[32], b[32], d[32];

	put(c, "<h2>campaigns</h2>\n");
	if (n == 0) {
		put(c, "<p>no data</p>\n");
		return;
	}
	put(c,
	    "<table><tr><th>campaign</th><th>sent</th><th>open %%</th>"
	    "<th>click %%</th><th>unsubscribe %%</th></tr>\n");
	for (i = 0; i < n; i++) {
		pct_text(cp[i].opened, cp[i].sent, a, sizeof(a), "no data");
		pct_text(cp[i].clicked, cp[i].sent, b, sizeof(b), "no data");
		pct_text(cp[i].unsubscribed, cp[i].sent, d, sizeof(d),
		    "no data");
		put(c, "<tr><th>");
		puts_esc(c, name_or(c, cp[i].name, "(none)"));
		put(c,
		    "</th><td>%llu</td><td>%s</td><td>%s</td><td>%s</td>"
		    "</tr>\n",
		    (unsigned long long)cp[i].sent, a, b, d);
	}
	put(c, "</table>\n");
}

static void
out_html(struct ctx *c)
{
	char p[200];

	period_text(c, p, sizeof(p));
	put(c,
	    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n<title>crm KPI report</title>\n"
	    "<style>\n"
	    "body{font:14px/1.4 sans-serif;margin:2em;color:#222}\n"
	    ".groups{display:flex;flex-wrap:wrap;gap:1.5em}\n"
	    "table{border-collapse:collapse}caption{font-weight:bold;"
	    "text-align:left}\n"
	    "th{text-align:left;font-weight:normal;padding:2px 1em 2px 0}\n"
	    "td{text-align:right;padding:2px 0}\n"
	    ".axis{stroke:#888}.bar{fill:#3a7bd5}.line{fill:none;"
	    "stroke:#d5533a;stroke-width:2}\n"
	    ".cell{fill:#2a9d8f}.tick{font-size:11px;fill:#444}"
	    ".val{font-size:11px;fill:#000}\n"
	    "</style>\n</head>\n<body>\n<h1>KPI report</h1>\n<p>%s</p>\n",
	    p);
	if (crm_report_empty(c->r))
		put(c,
		    "<p class=\"nodata\">no data: no contacts and no "
		    "events</p>\n");
	html_kpis(c);
	html_series(c, "revenue", "revenue", CRM_K_REVENUE, 0);
	html_series(c, "active", "active customers", CRM_K_ACTIVE, 1);
	html_cohorts(c);
	if (crm_report_has_rfm(c->r))
		html_rfm(c);
	html_funnel(c);
	html_campaigns(c);
	put(c, "</body>\n</html>\n");
}

/* ---- options and main ---- */

static const struct option longopts[] = {
	{ "as-of", required_argument, NULL, 'A' },
	{ "by", required_argument, NULL, 'b' },
	{ "config", required_argument, NULL, 'c' },
	{ "db", required_argument, NULL, 'D' },
	{ "expr", required_argument, NULL, 'e' },
	{ "format", required_argument, NULL, 'F' },
	{ "help", no_argument, NULL, 'h' },
	{ "in", required_argument, NULL, 'I' },
	{ "jobs", required_argument, NULL, 'j' },
	{ "output", required_argument, NULL, 'o' },
	{ "since", required_argument, NULL, 'S' },
	{ "skip-bad", no_argument, NULL, 'k' },
	{ "until", required_argument, NULL, 'U' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static int
name_index(const char *const *names, const char *s)
{
	int i;

	for (i = 0; names[i]; i++)
		if (*names[i] && strcmp(names[i], s) == 0)
			return i;
	return -1;
}

/* A time option; a date alone given as --until means the end of it. */
static int64_t
time_opt(const char *arg, int end)
{
	int64_t t;
	int is_date;

	if (crm_time_parse(arg, strlen(arg), &t, &is_date))
		errx(EX_USAGE, "invalid time \"%s\"", arg);
	return end && is_date ? t + DAY : t;
}

static void
option(struct ctx *c, int ch, const char *arg)
{
	switch (ch) {
	case 'A':
		c->asof = time_opt(arg, 0);
		break;
	case 'b':
		if ((c->by = name_index(by_names, arg)) < 0)
			errx(EX_USAGE, "unknown --by \"%s\"", arg);
		break;
	case 'c':
		c->cfgpath = arg;
		break;
	case 'D':
		c->db = arg;
		break;
	case 'e':
		c->expr = arg;
		break;
	case 'F':
		if ((c->out = name_index(out_names, arg)) < 0)
			errx(EX_USAGE, "unknown format \"%s\"", arg);
		break;
	case 'h':
		usage(0);
		break;
	case 'I':
		c->infmt = crm_fmt_parse(arg);
		if (c->infmt < 0 || c->infmt == CRM_FMT_YAML)
			errx(EX_USAGE, "unknown input format \"%s\"", arg);
		break;
	case 'j':
		if (strlen(arg) != 1 || arg[0] < '1' || arg[0] > '0' + MAXJOBS)
			errx(EX_USAGE, "invalid number of jobs \"%s\"", arg);
		c->jobs = arg[0] - '0';
		break;
	case 'k':
		c->skipbad = 1;
		break;
	case 'o':
		c->outpath = arg;
		break;
	case 'S':
		c->since = time_opt(arg, 0);
		c->since_set = 1;
		break;
	case 'U':
		c->until = time_opt(arg, 1);
		c->until_set = 1;
		break;
	case 'V':
		puts("crm-report (crm) " CRM_VERSION);
		exit(0);
	default:
		usage(EX_USAGE);
	}
}

/* The period: --until, else --as-of (now); --since, else a default that
 * depends on --by (crm_report_default_since()). */
static void
period(struct ctx *c)
{
	int by = c->cohorts ? CRM_BY_MONTH : c->by;

	if (!c->until_set)
		c->until = c->asof;
	if (!c->since_set)
		c->since = crm_report_default_since(by, c->until);
	if (c->since >= c->until)
		errx(EX_USAGE,
		    "the period is empty: --since is not before "
		    "--until");
	if (c->by != CRM_BY_NONE && c->until - c->since > 40LL * 366 * DAY &&
	    c->by == CRM_BY_DAY)
		errx(EX_USAGE, "too many days for --by day");
	/* HTML draws its charts from a time series of a size that fits. */
	if (c->out == OUT_HTML && c->by == CRM_BY_NONE)
		c->by = c->until - c->since <= 92LL * DAY  ? CRM_BY_DAY :
		    c->until - c->since <= 3LL * 366 * DAY ? CRM_BY_MONTH :
							     CRM_BY_QUARTER;
}

static void
parse_args(struct ctx *c, int argc, char *argv[])
{
	int ch;

	while ((ch = getopt_long(argc, argv, "c:D:e:F:hj:o:", longopts,
		    NULL)) != -1)
		option(c, ch, optarg);
	/* getopt_long() has moved the options first: "cohorts", when
	 * given, is the first operand. */
	if (optind < argc && strcmp(argv[optind], "cohorts") == 0) {
		c->cohorts = 1;
		optind++;
	}
	c->files = argv + optind;
	c->nfiles = (size_t)(argc - optind);
	if (c->cohorts && c->by != CRM_BY_NONE)
		errx(EX_USAGE, "cohorts are by month; --by is for the KPIs");
	if (c->nfiles > 0 && c->db != NULL)
		errx(EX_USAGE, "-D reads the store; files are rows: not both");
	period(c);
}

static void
setup(struct ctx *c)
{
	char path[4096], e[600];
	const char *cp = crm_config_path(c->cfgpath, path, sizeof(path));
	int rc;

	if ((rc = crm_config_load(cp, &c->cf, e, sizeof(e))))
		errx(rc == CRM_ENOMEM ? EX_OSERR : EX_CONFIG, "%s", e);
	if ((rc = crm_report_config(c->cf, &c->ro, e, sizeof(e))))
		errx(rc == CRM_ENOMEM ? EX_OSERR : EX_CONFIG, "%s", e);
	c->ro.since = c->since;
	c->ro.until = c->until;
	c->ro.by = c->by;
	c->ro.cohorts = c->cohorts || c->out == OUT_HTML;
	if ((rc = crm_report_open(&c->ro, &c->r)))
		errx(EX_OSERR, "%s", crm_strerror(rc));
	if (c->expr)
		compile_expr(c);
	if (c->outpath && (c->fp = fopen(c->outpath, "w")) == NULL)
		err(EX_CANTCREAT, "%s", c->outpath);
	if (c->fp == NULL)
		c->fp = stdout;
}

static void
write_out(struct ctx *c)
{
	if (c->cohorts && (c->out == OUT_CSV || c->out == OUT_NDJSON))
		out_cohort_rows(c);
	else if (c->cohorts && c->out != OUT_HTML)
		out_cohort_grid(c);
	else if (c->out == OUT_CSV || c->out == OUT_NDJSON)
		out_rows(c);
	else if (c->out == OUT_MD)
		out_md(c);
	else if (c->out == OUT_HTML)
		out_html(c);
	else
		out_table(c);
	if ((c->o.len > 0 && fwrite(c->o.p, 1, c->o.len, c->fp) != c->o.len) ||
	    fflush(c->fp) != 0 || ferror(c->fp) || fclose(c->fp) != 0)
		errx(EX_IOERR, "%s: write error",
		    c->outpath ? c->outpath : "stdout");
}

int
main(int argc, char *argv[])
{
	struct ctx c = { 0 };

	setlocale(LC_ALL, "");
	c.asof = (int64_t)time(NULL);
	c.infmt = -1;
	parse_args(&c, argc, argv);
	setup(&c);
	if (c.nfiles > 0 || (c.db == NULL && stdin_has_rows()))
		read_streams(&c);
	else
		read_store(&c);
	if (crm_report_finish(c.r))
		errx(EX_OSERR, "%s", crm_strerror(CRM_ENOMEM));
	write_out(&c);
	crm_report_close(c.r);
	crm_report_config_free(&c.ro);
	crm_expr_close(c.e);
	crm_config_free(c.cf);
	crm_map_free(&c.keys);
	free(c.sc);
	free(c.sev);
	free(c.tl);
	free(c.ev);
	free(c.el);
	crm_buf_free(&c.o);
	return c.nbad > 0 ? EX_DATAERR : 0;
}
