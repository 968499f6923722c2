/*
 * The KPI engine of crm-report (report.h). Each series is a list of
 * buckets with boundaries x[0] < x[1] < ... < x[nb]. A quantity that is a
 * state at the end of a bucket (contacts, customers, open deals) is
 * counted where it begins, in a difference array, and summed up at the
 * end, so that one pass over a timeline is enough whatever the number of
 * buckets.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dec.h"
#include "errors.h"
#include "event.h"
#include "report.h"
#include "times.h"
#include "ydoc.h"

#define DAY 86400

const char *const crm_kpi_groups[] = { "contacts", "sales", "retention",
	"surveys", "service", "pipeline", NULL };

const struct crm_kpidef crm_kpis[CRM_NKPI] = {
	{ "contacts", "contacts", CRM_V_COUNT, 0 },
	{ "new_contacts", "new contacts", CRM_V_COUNT, 0 },
	{ "customers", "customers", CRM_V_COUNT, 0 },
	{ "new_customers", "new customers", CRM_V_COUNT, 0 },
	{ "active_customers", "active customers", CRM_V_COUNT, 1 },
	{ "orders", "orders", CRM_V_COUNT, 1 },
	{ "revenue", "revenue", CRM_V_MONEY, 1 },
	{ "aov", "average order value", CRM_V_MONEY, 1 },
	{ "revenue_per_customer", "revenue per customer", CRM_V_MONEY, 1 },
	{ "repeat_purchase_rate", "repeat purchase rate %", CRM_V_PCT, 2 },
	{ "retention_rate", "customer retention rate %", CRM_V_PCT, 2 },
	{ "churn_rate", "churn rate %", CRM_V_PCT, 2 },
	{ "historical_clv", "historical CLV", CRM_V_MONEY, 2 },
	{ "lead_conversion_rate", "lead to customer conversion %", CRM_V_PCT,
	    0 },
	{ "nps", "NPS", CRM_V_SCORE, 3 },
	{ "nps_responses", "NPS responses", CRM_V_COUNT, 3 },
	{ "csat", "CSAT %", CRM_V_PCT, 3 },
	{ "csat_responses", "CSAT responses", CRM_V_COUNT, 3 },
	{ "cases_opened", "cases opened", CRM_V_COUNT, 4 },
	{ "cases_closed", "cases closed", CRM_V_COUNT, 4 },
	{ "resolution_mean_h", "mean resolution time (h)", CRM_V_HOURS, 4 },
	{ "resolution_median_h", "median resolution time (h)", CRM_V_HOURS, 4 },
	{ "open_deals", "open deals", CRM_V_COUNT, 5 },
	{ "pipeline_value", "pipeline value", CRM_V_MONEY, 5 },
	{ "weighted_pipeline_value", "weighted pipeline value", CRM_V_MONEY,
	    5 },
	{ "deals_won", "deals won", CRM_V_COUNT, 5 },
	{ "deals_lost", "deals lost", CRM_V_COUNT, 5 },
	{ "win_rate", "win rate %", CRM_V_PCT, 5 },
};

/* What is counted per bucket. */
struct agg {
	uint64_t new_contacts, new_customers, active, orders, new_repeat;
	uint64_t conv_new, conv_done;
	__int128 sales, revenue;
	uint64_t nps_n, nps_pro, nps_det, csat_n, csat_ok;
	uint64_t opened, closed, resolved, won, lost;
	int64_t res_sum;
	/* states at the end of the bucket, made by finish */
	uint64_t contacts, customers, repeat, s_cust, e_cust, deals;
	__int128 cumrev, value, weighted;
};

/* A resolution time and the bucket of its close, for medians. */
struct sample {
	size_t b;
	int64_t dt;
};

struct series {
	size_t nb;
	int64_t *x; /* nb + 1 boundaries */
	struct agg *a;
	/* before x[0] */
	uint64_t base_contacts, base_customers, base_repeat;
	__int128 base_rev;
	/* difference arrays over the boundaries 0..nb */
	int64_t *win, *dcount;
	__int128 *dvalue, *dweight;
	struct sample *smp;
	size_t nsmp, capsmp;
};

/* A deal of the contact at hand. */
struct deal {
	uint32_t key, stage;
	int64_t since, amount;
	int closed;
};

struct opencase {
	uint32_t key;
	int64_t ts;
};

struct seen {
	uint32_t campaign;
	uint8_t kind;
};

struct crm_report {
	struct crm_report_opts o;
	struct series s[2];
	int nseries;
	/* interned strings */
	struct crm_map strmap;
	char **strs;
	size_t nstrs, capstrs;
	/* breakdowns */
	struct crm_map campmap, stagemap;
	struct crm_rcampaign *camp;
	size_t ncamp, capcamp;
	struct crm_rstagecount *stg;
	size_t nstg, capstg;
	/* cohorts */
	int64_t cmonth0; /* month number (y * 12 + m - 1) of the first */
	size_t nmonths;
	uint64_t *csize, *cell;
	uint64_t rfm[5][5];
	int has_rfm;
	uint64_t ncontacts, nevents;
	/* per contact scratch */
	struct deal *deals;
	size_t ndeals, capdeals;
	struct opencase *cases;
	size_t ncases, capcases;
	struct seen *seen;
	size_t nseen, capseen;
	int64_t *purch;
	size_t npurch, cappurch;
	int finished;
};

/* ---- small helpers ---- */

static int
grow(void *pp, size_t *cap, size_t need, size_t size)
{
	void **p = pp;
	size_t n = *cap ? *cap : 8;
	void *q;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	if ((q = realloc(*p, n * size)) == NULL)
		return CRM_ENOMEM;
	*p = q;
	*cap = n;
	return 0;
}

static int64_t
floordiv(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static void
civil(int64_t days, int *y, unsigned *m, unsigned *d)
{
	int64_t z = days + 719468, era, doe, yoe, doy, mp;

	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

/* Month number of a time: y * 12 + m - 1. */
static int64_t
month_of(int64_t t)
{
	int y;
	unsigned m, d;

	civil(floordiv(t, DAY), &y, &m, &d);
	return (int64_t)y * 12 + m - 1;
}

static int64_t
month_start(int64_t mn)
{
	return crm_days_from_civil((int)floordiv(mn, 12),
		   (unsigned)(mn - floordiv(mn, 12) * 12 + 1), 1) *
	    DAY;
}

/* The start of the unit of time t is in. */
static int64_t
unit_start(int by, int64_t t)
{
	int64_t d = floordiv(t, DAY), mn;

	switch (by) {
	case CRM_BY_DAY:
		return d * DAY;
	case CRM_BY_WEEK: /* weeks start on Monday; 1970-01-01 a Thursday */
		return (d - (d + 3 - floordiv(d + 3, 7) * 7)) * DAY;
	case CRM_BY_MONTH:
		return month_start(month_of(t));
	default:
		mn = month_of(t);
		return month_start(mn - (mn - floordiv(mn, 12) * 12) % 3);
	}
}

static int64_t
unit_next(int by, int64_t t)
{
	switch (by) {
	case CRM_BY_DAY:
		return t + DAY;
	case CRM_BY_WEEK:
		return t + 7 * DAY;
	case CRM_BY_MONTH:
		return month_start(month_of(t) + 1);
	default:
		return month_start(month_of(t) + 3);
	}
}

int64_t
crm_report_default_since(int by, int64_t until)
{
	int64_t t;
	int k;

	switch (by) {
	case CRM_BY_NONE:
		return until - 30 * (int64_t)DAY;
	case CRM_BY_DAY:
		return unit_start(by, until - 1) - 29 * (int64_t)DAY;
	case CRM_BY_WEEK:
		return unit_start(by, until - 1) - 11 * 7 * (int64_t)DAY;
	case CRM_BY_MONTH:
		return month_start(month_of(until - 1) - 11);
	}
	t = unit_start(by, until - 1);
	for (k = 0; k < 7; k++)
		t = unit_start(by, t - 1);
	return t;
}

/* How many boundaries x[0..n) are <= t. */
static size_t
upto(const int64_t *x, size_t n, int64_t t)
{
	size_t lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (x[mid] <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The bucket of t: -1 before the series, nb at or after its end. */
static long
bucket(const struct series *s, int64_t t)
{
	return (long)upto(s->x, s->nb + 1, t) - 1;
}

/* ---- opening ---- */

static int
series_init(struct series *s, int by, int64_t since, int64_t until)
{
	int64_t t;
	size_t n = 1;

	if (by != CRM_BY_NONE)
		for (n = 0, t = unit_start(by, since); t < until;
		     t = unit_next(by, t))
			n++;
	if (n == 0)
		n = 1;
	s->nb = n;
	s->x = calloc(n + 1, sizeof(*s->x));
	s->a = calloc(n, sizeof(*s->a));
	s->win = calloc(n + 2, sizeof(*s->win));
	s->dcount = calloc(n + 2, sizeof(*s->dcount));
	s->dvalue = calloc(n + 2, sizeof(*s->dvalue));
	s->dweight = calloc(n + 2, sizeof(*s->dweight));
	if (!s->x || !s->a || !s->win || !s->dcount || !s->dvalue ||
	    !s->dweight)
		return CRM_ENOMEM;
	s->x[0] = since;
	s->x[n] = until;
	if (by != CRM_BY_NONE)
		for (n = 1, t = unit_next(by, unit_start(by, since)); n < s->nb;
		     t = unit_next(by, t))
			s->x[n++] = t;
	return 0;
}

int
crm_report_open(const struct crm_report_opts *o, struct crm_report **out)
{
	struct crm_report *r;
	int64_t m;
	int rc;

	*out = NULL;
	if (o->until <= o->since)
		return CRM_EINVAL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return CRM_ENOMEM;
	*out = r;
	r->o = *o;
	r->nseries = o->by != CRM_BY_NONE ? 2 : 1;
	if ((rc = series_init(&r->s[0], CRM_BY_NONE, o->since, o->until)))
		return rc;
	if (r->nseries == 2 &&
	    (rc = series_init(&r->s[1], o->by, o->since, o->until)))
		return rc;
	if (o->cohorts) {
		r->cmonth0 = month_of(o->since);
		m = month_of(o->until - 1);
		r->nmonths = (size_t)(m - r->cmonth0 + 1);
		r->csize = calloc(r->nmonths, sizeof(*r->csize));
		r->cell = calloc(r->nmonths * r->nmonths, sizeof(*r->cell));
		if (r->csize == NULL || r->cell == NULL)
			return CRM_ENOMEM;
	}
	if (grow(&r->strs, &r->capstrs, 1, sizeof(char *)) ||
	    (r->strs[0] = strdup("")) == NULL)
		return CRM_ENOMEM;
	r->nstrs = 1;
	return 0;
}

static void
series_free(struct series *s)
{
	free(s->x);
	free(s->a);
	free(s->win);
	free(s->dcount);
	free(s->dvalue);
	free(s->dweight);
	free(s->smp);
}

void
crm_report_close(struct crm_report *r)
{
	size_t i;

	if (r == NULL)
		return;
	series_free(&r->s[0]);
	series_free(&r->s[1]);
	for (i = 0; i < r->nstrs; i++)
		free(r->strs[i]);
	free(r->strs);
	crm_map_free(&r->strmap);
	crm_map_free(&r->campmap);
	crm_map_free(&r->stagemap);
	free(r->camp);
	free(r->stg);
	free(r->csize);
	free(r->cell);
	free(r->deals);
	free(r->cases);
	free(r->seen);
	free(r->purch);
	free(r);
}

uint32_t
crm_report_intern(struct crm_report *r, const char *s, size_t n)
{
	uint64_t v;

	if (n == 0)
		return 0;
	if (crm_map_get(&r->strmap, s, n, &v))
		return (uint32_t)v;
	if (grow(&r->strs, &r->capstrs, r->nstrs + 1, sizeof(char *)) ||
	    (r->strs[r->nstrs] = strndup(s, n)) == NULL ||
	    crm_map_put(&r->strmap, s, n, r->nstrs))
		return 0;
	return (uint32_t)r->nstrs++;
}

const char *
crm_report_str(const struct crm_report *r, uint32_t id)
{
	return id < r->nstrs ? r->strs[id] : "";
}

/* ---- deals ---- */

static int
has_word(const char *s, const char *word)
{
	size_t i, n = strlen(word);

	for (; *s; s++) {
		for (i = 0; i < n && s[i] != '\0'; i++)
			if ((s[i] | 0x20) != word[i])
				break;
		if (i == n)
			return 1;
	}
	return 0;
}

/* 0 open, 1 won, 2 lost: a stage that says won, lost or closed closes the
 * deal (crm-show(1) reads deals the same way). */
static int
stage_closed(const struct crm_report *r, uint32_t stage)
{
	const char *s = crm_report_str(r, stage);

	if (has_word(s, "won"))
		return 1;
	return has_word(s, "lost") || has_word(s, "closed") ? 2 : 0;
}

int
crm_report_stage_permille(const struct crm_report *r, uint32_t stage)
{
	const char *s = crm_report_str(r, stage);
	size_t i;

	switch (stage_closed(r, stage)) {
	case 1:
		return 1000;
	case 2:
		return -1;
	}
	for (i = 0; i < r->o.nstages; i++)
		if (strcasecmp(r->o.stages[i].name, s) == 0)
			return r->o.stages[i].permille;
	return 0;
}

/* The index of an interned name in a breakdown table, added if new. */
static long
slot_of(struct crm_map *m, void *arr, size_t *n, size_t *cap, size_t size,
    uint32_t name)
{
	uint64_t v;
	char *p;

	if (crm_map_get(m, &name, sizeof(name), &v))
		return (long)v;
	if (grow(arr, cap, *n + 1, size) ||
	    crm_map_put(m, &name, sizeof(name), *n))
		return -1;
	p = *(char **)arr + *n * size;
	memset(p, 0, size);
	memcpy(p, &name, sizeof(name)); /* name is the first member */
	return (long)(*n)++;
}

static struct crm_rstagecount *
stage_slot(struct crm_report *r, uint32_t name)
{
	long i = slot_of(&r->stagemap, &r->stg, &r->nstg, &r->capstg,
	    sizeof(*r->stg), name);

	return i < 0 ? NULL : &r->stg[i];
}

/* A deal state held from after t0 to t1 (inclusive; INT64_MAX: on). */
static int
deal_span(struct crm_report *r, const struct deal *d, int64_t t0, int64_t t1)
{
	struct crm_rstagecount *sc;
	__int128 w;
	size_t lo, hi;
	int i, pm;

	if (d->closed)
		return 0;
	pm = crm_report_stage_permille(r, d->stage);
	w = (__int128)d->amount * (pm < 0 ? 0 : pm) / 1000;
	for (i = 0; i < r->nseries; i++) {
		struct series *s = &r->s[i];

		/* the ends x[j], j >= 1, with t0 < x[j] <= t1 */
		lo = upto(s->x, s->nb + 1, t0);
		if (lo == 0)
			lo = 1;
		hi = upto(s->x, s->nb + 1, t1);
		if (lo >= hi)
			continue;
		s->dcount[lo]++;
		s->dcount[hi]--;
		s->dvalue[lo] += d->amount;
		s->dvalue[hi] -= d->amount;
		s->dweight[lo] += w;
		s->dweight[hi] -= w;
		if (i == 0) {
			if ((sc = stage_slot(r, d->stage)) == NULL)
				return CRM_ENOMEM;
			sc->deals++;
			sc->value += d->amount;
			sc->weighted += w;
		}
	}
	return 0;
}

static int
deal_event(struct crm_report *r, const struct crm_rev *e)
{
	struct deal *d = NULL;
	size_t i;
	int rc, was;
	long b;

	for (i = 0; i < r->ndeals && d == NULL; i++)
		if (r->deals[i].key == e->key)
			d = &r->deals[i];
	if (d == NULL) {
		if (grow(&r->deals, &r->capdeals, r->ndeals + 1,
			sizeof(*r->deals)))
			return CRM_ENOMEM;
		d = &r->deals[r->ndeals++];
		memset(d, 0, sizeof(*d));
		d->key = e->key;
		d->since = CRM_TIME_NONE;
	} else if ((rc = deal_span(r, d, d->since, e->ts)))
		return rc;
	was = d->closed;
	if (e->stage)
		d->stage = e->stage;
	if (e->has_amount)
		d->amount = e->amount;
	d->closed = stage_closed(r, d->stage);
	d->since = e->ts;
	if (d->closed && !was)
		for (i = 0; i < (size_t)r->nseries; i++) {
			b = bucket(&r->s[i], e->ts);
			if (b >= 0 && (size_t)b < r->s[i].nb) {
				if (d->closed == 1)
					r->s[i].a[b].won++;
				else
					r->s[i].a[b].lost++;
			}
		}
	return 0;
}

/* ---- one timeline ---- */

static int
add_sample(struct series *s, size_t b, int64_t dt)
{
	if (grow(&s->smp, &s->capsmp, s->nsmp + 1, sizeof(*s->smp)))
		return CRM_ENOMEM;
	s->smp[s->nsmp].b = b;
	s->smp[s->nsmp++].dt = dt;
	return 0;
}

static int
ticket(struct crm_report *r, const struct crm_rev *e)
{
	size_t i, j;
	long b;
	int rc;

	for (j = 0; j < (size_t)r->nseries; j++) {
		b = bucket(&r->s[j], e->ts);
		if (b >= 0 && (size_t)b < r->s[j].nb) {
			if (e->kind == CRM_RK_TOPEN)
				r->s[j].a[b].opened++;
			else
				r->s[j].a[b].closed++;
		}
	}
	for (i = 0; i < r->ncases; i++)
		if (r->cases[i].key == e->key)
			break;
	if (e->kind == CRM_RK_TOPEN) {
		if (i < r->ncases || e->key == 0)
			return 0; /* reopened: the case runs from its first open */
		if (grow(&r->cases, &r->capcases, r->ncases + 1,
			sizeof(*r->cases)))
			return CRM_ENOMEM;
		r->cases[r->ncases].key = e->key;
		r->cases[r->ncases++].ts = e->ts;
		return 0;
	}
	if (i == r->ncases || e->key == 0)
		return 0; /* a close without an open: no resolution time */
	for (j = 0; j < (size_t)r->nseries; j++) {
		struct series *s = &r->s[j];

		b = bucket(s, e->ts);
		if (b < 0 || (size_t)b >= s->nb)
			continue;
		s->a[b].resolved++;
		s->a[b].res_sum += e->ts - r->cases[i].ts;
		if ((rc = add_sample(s, (size_t)b, e->ts - r->cases[i].ts)))
			return rc;
	}
	r->cases[i] = r->cases[--r->ncases];
	return 0;
}

static void
survey(struct crm_report *r, const struct crm_rev *e)
{
	int i;
	long b;

	for (i = 0; i < r->nseries; i++) {
		b = bucket(&r->s[i], e->ts);
		if (b < 0 || (size_t)b >= r->s[i].nb)
			continue;
		struct agg *a = &r->s[i].a[b];
		if (e->kind == CRM_RK_NPS) {
			a->nps_n++;
			a->nps_pro += e->score >= 9;
			a->nps_det += e->score <= 6;
		} else {
			a->csat_n++;
			a->csat_ok += e->score >= 4;
		}
	}
}

/* Campaign responses count once per contact and campaign; sends count
 * every message. */
static int
campaign(struct crm_report *r, const struct crm_rev *e)
{
	struct crm_rcampaign *c;
	size_t i;
	long k;

	if (e->ts < r->o.since || e->ts >= r->o.until)
		return 0;
	if (e->kind != CRM_RK_SENT) {
		for (i = 0; i < r->nseen; i++)
			if (r->seen[i].campaign == e->campaign &&
			    r->seen[i].kind == e->kind)
				return 0;
		if (grow(&r->seen, &r->capseen, r->nseen + 1, sizeof(*r->seen)))
			return CRM_ENOMEM;
		r->seen[r->nseen].campaign = e->campaign;
		r->seen[r->nseen++].kind = e->kind;
	}
	k = slot_of(&r->campmap, &r->camp, &r->ncamp, &r->capcamp,
	    sizeof(*r->camp), e->campaign);
	if (k < 0)
		return CRM_ENOMEM;
	c = &r->camp[k];
	switch (e->kind) {
	case CRM_RK_SENT:
		c->sent++;
		break;
	case CRM_RK_OPEN:
		c->opened++;
		break;
	case CRM_RK_CLICK:
		c->clicked++;
		break;
	default:
		c->unsubscribed++;
	}
	return 0;
}

/* Purchases: sales, first and second purchase, activity, the customer
 * window, cohorts. p[0..n) are the purchase times. */
static void
purchases(struct crm_report *r, struct series *s, const int64_t *p, size_t n)
{
	int64_t a, e;
	size_t i, lo, hi;
	long b, last = -1;

	if (n == 0)
		return;
	/* customers from the first purchase on, repeat ones from the second */
	b = bucket(s, p[0]);
	if (b < 0)
		s->base_customers++;
	else if ((size_t)b < s->nb)
		s->a[b].new_customers++;
	b = n > 1 ? bucket(s, p[1]) : (long)s->nb;
	if (b < 0)
		s->base_repeat++;
	else if ((size_t)b < s->nb)
		s->a[b].new_repeat++;
	for (i = 0; i < n; i++) {
		b = bucket(s, p[i]);
		if (b >= 0 && (size_t)b < s->nb && b != last)
			s->a[b].active++;
		last = b;
	}
	/* Active in the window after a purchase: at the boundaries x[j]
	 * with p < x[j] <= p + window; overlapping windows merged. */
	for (i = 0; i < n;) {
		a = p[i];
		e = p[i] + r->o.window;
		while (++i < n && p[i] <= e)
			e = p[i] + r->o.window;
		lo = upto(s->x, s->nb + 1, a);
		hi = upto(s->x, s->nb + 1, e);
		if (lo < hi) {
			s->win[lo]++;
			s->win[hi]--;
		}
	}
}

static void
cohort(struct crm_report *r, const int64_t *p, size_t n)
{
	int64_t m0, m, last = -1;
	size_t i, c;

	if (!r->o.cohorts || n == 0 || p[0] < r->o.since || p[0] >= r->o.until)
		return;
	m0 = month_of(p[0]);
	c = (size_t)(m0 - r->cmonth0);
	r->csize[c]++;
	for (i = 0; i < n && p[i] < r->o.until; i++) {
		m = month_of(p[i]);
		if (m == last)
			continue;
		last = m;
		r->cell[c * r->nmonths + (size_t)(m - m0)]++;
	}
}

static int
money_in(struct crm_report *r, const struct crm_rev *e)
{
	int i;
	long b;

	for (i = 0; i < r->nseries; i++) {
		struct series *s = &r->s[i];

		b = bucket(s, e->ts);
		if (b < 0) {
			s->base_rev +=
			    e->kind == CRM_RK_PURCHASE ? e->amount : -e->amount;
			continue;
		}
		if ((size_t)b >= s->nb)
			continue;
		if (e->kind == CRM_RK_PURCHASE) {
			s->a[b].orders++;
			s->a[b].sales += e->amount;
			s->a[b].revenue += e->amount;
		} else
			s->a[b].revenue -= e->amount;
	}
	if (e->kind == CRM_RK_PURCHASE) {
		if (grow(&r->purch, &r->cappurch, r->npurch + 1,
			sizeof(*r->purch)))
			return CRM_ENOMEM;
		r->purch[r->npurch++] = e->ts;
	}
	return 0;
}

static int
timeline(struct crm_report *r, const struct crm_rev *ev, size_t n)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < n && rc == 0; i++) {
		switch (ev[i].kind) {
		case CRM_RK_PURCHASE:
		case CRM_RK_REFUND:
			rc = money_in(r, &ev[i]);
			break;
		case CRM_RK_SENT:
		case CRM_RK_OPEN:
		case CRM_RK_CLICK:
		case CRM_RK_UNSUB:
			rc = campaign(r, &ev[i]);
			break;
		case CRM_RK_NPS:
		case CRM_RK_CSAT:
			survey(r, &ev[i]);
			break;
		case CRM_RK_TOPEN:
		case CRM_RK_TCLOSE:
			rc = ticket(r, &ev[i]);
			break;
		case CRM_RK_DEAL:
			rc = deal_event(r, &ev[i]);
			break;
		}
	}
	for (i = 0; i < r->ndeals && rc == 0; i++)
		rc = deal_span(r, &r->deals[i], r->deals[i].since, INT64_MAX);
	return rc;
}

/* The contact itself: when it began, whether it converted, its stage. */
static int
contact(struct crm_report *r, const struct crm_rcontact *c, int64_t created)
{
	struct crm_rstagecount *sc;
	int64_t fp = r->npurch ? r->purch[0] : CRM_TIME_NONE;
	int i;
	long b;

	if (created != CRM_TIME_NONE && created >= r->o.until)
		return 0; /* not yet a contact in the period */
	for (i = 0; i < r->nseries; i++) {
		struct series *s = &r->s[i];

		if (created == CRM_TIME_NONE) {
			s->base_contacts++;
			continue;
		}
		b = bucket(s, created);
		if (b < 0) {
			s->base_contacts++;
			continue;
		}
		s->a[b].new_contacts++;
		s->a[b].conv_new++;
		if (fp != CRM_TIME_NONE && fp < r->o.until)
			s->a[b].conv_done++;
	}
	if ((sc = stage_slot(r, c ? c->stage : 0)) == NULL)
		return CRM_ENOMEM;
	sc->contacts++;
	if (c && c->r_score >= 1 && c->r_score <= 5 && c->f_score >= 1 &&
	    c->f_score <= 5) {
		r->rfm[c->r_score - 1][c->f_score - 1]++;
		r->has_rfm = 1;
	}
	return 0;
}

int
crm_report_add(struct crm_report *r, const struct crm_rcontact *c,
    const struct crm_rev *ev, size_t n)
{
	int64_t created = c ? c->created : CRM_TIME_NONE;
	int rc, i;

	r->ndeals = r->ncases = r->nseen = r->npurch = 0;
	if ((rc = timeline(r, ev, n)))
		return rc;
	if (created == CRM_TIME_NONE && n > 0)
		created = ev[0].ts;
	r->ncontacts++;
	r->nevents += n;
	for (i = 0; i < r->nseries; i++)
		purchases(r, &r->s[i], r->purch, r->npurch);
	cohort(r, r->purch, r->npurch);
	return contact(r, c, created);
}

/* ---- merging ---- */

static void
agg_add(struct agg *d, const struct agg *s)
{
	d->new_contacts += s->new_contacts;
	d->new_customers += s->new_customers;
	d->active += s->active;
	d->orders += s->orders;
	d->new_repeat += s->new_repeat;
	d->conv_new += s->conv_new;
	d->conv_done += s->conv_done;
	d->sales += s->sales;
	d->revenue += s->revenue;
	d->nps_n += s->nps_n;
	d->nps_pro += s->nps_pro;
	d->nps_det += s->nps_det;
	d->csat_n += s->csat_n;
	d->csat_ok += s->csat_ok;
	d->opened += s->opened;
	d->closed += s->closed;
	d->resolved += s->resolved;
	d->won += s->won;
	d->lost += s->lost;
	d->res_sum += s->res_sum;
}

static int
series_merge(struct series *d, const struct series *s)
{
	size_t i;

	d->base_contacts += s->base_contacts;
	d->base_customers += s->base_customers;
	d->base_repeat += s->base_repeat;
	d->base_rev += s->base_rev;
	for (i = 0; i < d->nb; i++)
		agg_add(&d->a[i], &s->a[i]);
	for (i = 0; i < d->nb + 2; i++) {
		d->win[i] += s->win[i];
		d->dcount[i] += s->dcount[i];
		d->dvalue[i] += s->dvalue[i];
		d->dweight[i] += s->dweight[i];
	}
	if (grow(&d->smp, &d->capsmp, d->nsmp + s->nsmp, sizeof(*d->smp)))
		return CRM_ENOMEM;
	if (s->nsmp > 0)
		memcpy(d->smp + d->nsmp, s->smp, s->nsmp * sizeof(*s->smp));
	d->nsmp += s->nsmp;
	return 0;
}

int
crm_report_merge(struct crm_report *dst, const struct crm_report *src)
{
	struct crm_rstagecount *sc;
	const char *name;
	size_t i, k;
	uint32_t id;
	long j;
	int rc;

	for (i = 0; i < (size_t)dst->nseries; i++)
		if ((rc = series_merge(&dst->s[i], &src->s[i])))
			return rc;
	for (i = 0; i < src->ncamp; i++) {
		name = crm_report_str(src, src->camp[i].name);
		id = crm_report_intern(dst, name, strlen(name));
		if ((id == 0 && *name) ||
		    (j = slot_of(&dst->campmap, &dst->camp, &dst->ncamp,
			 &dst->capcamp, sizeof(*dst->camp), id)) < 0)
			return CRM_ENOMEM;
		dst->camp[j].sent += src->camp[i].sent;
		dst->camp[j].opened += src->camp[i].opened;
		dst->camp[j].clicked += src->camp[i].clicked;
		dst->camp[j].unsubscribed += src->camp[i].unsubscribed;
	}
	for (i = 0; i < src->nstg; i++) {
		name = crm_report_str(src, src->stg[i].name);
		id = crm_report_intern(dst, name, strlen(name));
		if ((id == 0 && *name) || (sc = stage_slot(dst, id)) == NULL)
			return CRM_ENOMEM;
		sc->contacts += src->stg[i].contacts;
		sc->deals += src->stg[i].deals;
		sc->value += src->stg[i].value;
		sc->weighted += src->stg[i].weighted;
	}
	for (i = 0; i < dst->nmonths; i++) {
		dst->csize[i] += src->csize[i];
		for (k = 0; k < dst->nmonths; k++)
			dst->cell[i * dst->nmonths + k] +=
			    src->cell[i * dst->nmonths + k];
	}
	for (i = 0; i < 25; i++)
		dst->rfm[i / 5][i % 5] += src->rfm[i / 5][i % 5];
	dst->has_rfm |= src->has_rfm;
	dst->ncontacts += src->ncontacts;
	dst->nevents += src->nevents;
	return 0;
}

/* ---- the end ---- */

static int
cmp_sample(const void *a, const void *b)
{
	const struct sample *x = a, *y = b;

	if (x->b != y->b)
		return x->b < y->b ? -1 : 1;
	return (x->dt > y->dt) - (x->dt < y->dt);
}

struct byname {
	const char *s;
	size_t i;
};

static int
cmp_byname(const void *a, const void *b)
{
	const struct byname *x = a, *y = b;

	return strcmp(x->s, y->s);
}

/* Sorts n items of size bytes, each starting with an interned name, by
 * that name. */
static int
sort_names(const struct crm_report *r, void *base, size_t n, size_t size)
{
	struct byname *k;
	char *tmp;
	uint32_t id;
	size_t i;

	if (n < 2)
		return 0;
	k = calloc(n, sizeof(*k));
	tmp = malloc(n * size);
	if (k == NULL || tmp == NULL) {
		free(k);
		free(tmp);
		return CRM_ENOMEM;
	}
	for (i = 0; i < n; i++) {
		memcpy(&id, (char *)base + i * size, sizeof(id));
		k[i].s = crm_report_str(r, id);
		k[i].i = i;
	}
	qsort(k, n, sizeof(*k), cmp_byname);
	for (i = 0; i < n; i++)
		memcpy(tmp + i * size, (char *)base + k[i].i * size, size);
	memcpy(base, tmp, n * size);
	free(k);
	free(tmp);
	return 0;
}

static void
series_finish(struct series *s)
{
	uint64_t contacts = s->base_contacts, customers = s->base_customers;
	uint64_t repeat = s->base_repeat;
	int64_t win = 0, count = 0;
	__int128 rev = s->base_rev, value = 0, weight = 0;
	size_t b;

	win = s->win[0];
	for (b = 0; b < s->nb; b++) {
		struct agg *a = &s->a[b];

		contacts += a->new_contacts;
		customers += a->new_customers;
		repeat += a->new_repeat;
		rev += a->revenue;
		a->contacts = contacts;
		a->customers = customers;
		a->repeat = repeat;
		a->cumrev = rev;
		a->s_cust = (uint64_t)win;
		win += s->win[b + 1];
		a->e_cust = (uint64_t)win;
		count += s->dcount[b + 1];
		value += s->dvalue[b + 1];
		weight += s->dweight[b + 1];
		a->deals = (uint64_t)count;
		a->value = value;
		a->weighted = weight;
	}
	if (s->nsmp > 1)
		qsort(s->smp, s->nsmp, sizeof(*s->smp), cmp_sample);
}

int
crm_report_finish(struct crm_report *r)
{
	int i, rc;

	for (i = 0; i < r->nseries; i++)
		series_finish(&r->s[i]);
	r->finished = 1;
	if ((rc = sort_names(r, r->camp, r->ncamp, sizeof(*r->camp))))
		return rc;
	return sort_names(r, r->stg, r->nstg, sizeof(*r->stg));
}

/* ---- reading ---- */

size_t
crm_report_buckets(const struct crm_report *r, int series)
{
	return series < r->nseries ? r->s[series].nb : 0;
}

void
crm_report_bucket(const struct crm_report *r, int series, size_t b,
    int64_t *from, int64_t *to)
{
	*from = r->s[series].x[b];
	*to = r->s[series].x[b + 1];
}

void
crm_report_label(const struct crm_report *r, int series, size_t b, char *out,
    size_t len)
{
	int64_t t = r->s[series].x[b];
	char d[CRM_DATE_LEN];
	int y;
	unsigned m, dd;

	civil(floordiv(t, DAY), &y, &m, &dd);
	crm_date_format(t, d);
	if (series == 0 || r->o.by == CRM_BY_DAY || r->o.by == CRM_BY_WEEK)
		snprintf(out, len, "%s", d);
	else if (r->o.by == CRM_BY_MONTH)
		snprintf(out, len, "%04d-%02u", y, m);
	else
		snprintf(out, len, "%04d-Q%u", y, (m - 1) / 3 + 1);
}

static __int128
divround(__int128 a, __int128 b)
{
	__int128 q = a / b, rem = a % b;

	if (rem < 0)
		rem = -rem;
	if (2 * rem >= (b < 0 ? -b : b))
		q += (a < 0) != (b < 0) ? -1 : 1;
	return q;
}

/* The median of the samples of bucket b, in seconds; -1 if none. */
static double
median(const struct series *s, size_t b)
{
	size_t lo = 0, hi, n;

	while (lo < s->nsmp && s->smp[lo].b < b)
		lo++;
	for (hi = lo; hi < s->nsmp && s->smp[hi].b == b; hi++)
		;
	if ((n = hi - lo) == 0)
		return -1;
	if (n % 2)
		return (double)s->smp[lo + n / 2].dt;
	return ((double)s->smp[lo + n / 2 - 1].dt +
		   (double)s->smp[lo + n / 2].dt) /
	    2;
}

static void
ratio(struct crm_rval *v, uint64_t a, uint64_t b)
{
	v->na = b == 0;
	v->x = b ? 100.0 * (double)a / (double)b : 0;
}

static void
per(struct crm_rval *v, __int128 m, uint64_t n)
{
	v->na = n == 0;
	v->money = n ? divround(m, n) : 0;
}

void
crm_report_value(const struct crm_report *r, int series, size_t b, int kpi,
    struct crm_rval *v)
{
	const struct series *s = &r->s[series];
	const struct agg *a = &s->a[b];
	double m;

	memset(v, 0, sizeof(*v));
	v->kind = crm_kpis[kpi].kind;
	switch (kpi) {
	case CRM_K_CONTACTS:
		v->n = a->contacts;
		break;
	case CRM_K_NEW_CONTACTS:
		v->n = a->new_contacts;
		break;
	case CRM_K_CUSTOMERS:
		v->n = a->customers;
		break;
	case CRM_K_NEW_CUSTOMERS:
		v->n = a->new_customers;
		break;
	case CRM_K_ACTIVE:
		v->n = a->active;
		break;
	case CRM_K_ORDERS:
		v->n = a->orders;
		break;
	case CRM_K_REVENUE:
		v->money = a->revenue;
		break;
	case CRM_K_AOV:
		per(v, a->sales, a->orders);
		break;
	case CRM_K_REV_PER_CUST:
		per(v, a->revenue, a->active);
		break;
	case CRM_K_REPEAT:
		ratio(v, a->repeat, a->customers);
		break;
	case CRM_K_RETENTION:
	case CRM_K_CHURN:
		v->na = a->s_cust == 0;
		if (!v->na)
			v->x = 100.0 *
			    ((double)a->e_cust - (double)a->new_customers) /
			    (double)a->s_cust;
		if (kpi == CRM_K_CHURN && !v->na)
			v->x = 100.0 - v->x;
		break;
	case CRM_K_CLV:
		per(v, a->cumrev, a->customers);
		break;
	case CRM_K_CONVERSION:
		ratio(v, a->conv_done, a->conv_new);
		break;
	case CRM_K_NPS:
		v->na = a->nps_n == 0;
		if (!v->na)
			v->x = 100.0 *
			    ((double)a->nps_pro - (double)a->nps_det) /
			    (double)a->nps_n;
		break;
	case CRM_K_NPS_N:
		v->n = a->nps_n;
		break;
	case CRM_K_CSAT:
		ratio(v, a->csat_ok, a->csat_n);
		break;
	case CRM_K_CSAT_N:
		v->n = a->csat_n;
		break;
	case CRM_K_CASES_OPENED:
		v->n = a->opened;
		break;
	case CRM_K_CASES_CLOSED:
		v->n = a->closed;
		break;
	case CRM_K_RES_MEAN:
		v->na = a->resolved == 0;
		if (!v->na)
			v->x = (double)a->res_sum / (double)a->resolved / 3600;
		break;
	case CRM_K_RES_MEDIAN:
		m = median(s, b);
		v->na = m < 0;
		v->x = m < 0 ? 0 : m / 3600;
		break;
	case CRM_K_OPEN_DEALS:
		v->n = a->deals;
		break;
	case CRM_K_PIPELINE:
		v->money = a->value;
		break;
	case CRM_K_WEIGHTED:
		v->money = a->weighted;
		break;
	case CRM_K_WON:
		v->n = a->won;
		break;
	case CRM_K_LOST:
		v->n = a->lost;
		break;
	case CRM_K_WIN_RATE:
		ratio(v, a->won, a->won + a->lost);
		break;
	}
}

int
crm_report_empty(const struct crm_report *r)
{
	return r->ncontacts == 0 && r->nevents == 0;
}

size_t
crm_report_campaigns(const struct crm_report *r,
    const struct crm_rcampaign **out)
{
	*out = r->camp;
	return r->ncamp;
}

size_t
crm_report_stages(const struct crm_report *r,
    const struct crm_rstagecount **out)
{
	*out = r->stg;
	return r->nstg;
}

size_t
crm_report_cohorts(const struct crm_report *r, size_t *months)
{
	*months = r->nmonths;
	return r->o.cohorts ? r->nmonths : 0;
}

void
crm_report_cohort_label(const struct crm_report *r, size_t i, char *out,
    size_t len)
{
	int64_t mn = r->cmonth0 + (int64_t)i;

	snprintf(out, len, "%04lld-%02lld", (long long)floordiv(mn, 12),
	    (long long)(mn - floordiv(mn, 12) * 12 + 1));
}

uint64_t
crm_report_cohort_size(const struct crm_report *r, size_t i)
{
	return r->csize[i];
}

uint64_t
crm_report_cohort_cell(const struct crm_report *r, size_t i, size_t k)
{
	return i + k < r->nmonths ? r->cell[i * r->nmonths + k] : 0;
}

uint64_t
crm_report_rfm(const struct crm_report *r, int rs, int fs)
{
	return r->rfm[rs - 1][fs - 1];
}

int
crm_report_has_rfm(const struct crm_report *r)
{
	return r->has_rfm;
}

/* ---- values as text ---- */

void
crm_money_format(__int128 m, char *out, size_t len)
{
	char d[48];
	unsigned __int128 u;
	int i = (int)sizeof(d) - 1, neg;

	/* to the cent, half away from zero */
	m = divround(m, 10000000);
	neg = m < 0;
	u = neg ? (unsigned __int128)(-m) : (unsigned __int128)m;
	d[i] = '\0';
	d[--i] = (char)('0' + (int)(u % 10));
	d[--i] = (char)('0' + (int)(u / 10 % 10));
	d[--i] = '.';
	u /= 100;
	do {
		d[--i] = (char)('0' + (int)(u % 10));
		u /= 10;
	} while (u > 0);
	if (neg)
		d[--i] = '-';
	snprintf(out, len, "%s", d + i);
}

void
crm_rval_format(const struct crm_rval *v, char *out, size_t len)
{
	if (v->na) {
		snprintf(out, len, "%s", "");
		return;
	}
	switch (v->kind) {
	case CRM_V_COUNT:
		snprintf(out, len, "%llu", (unsigned long long)v->n);
		break;
	case CRM_V_MONEY:
		crm_money_format(v->money, out, len);
		break;
	default:
		snprintf(out, len, "%.2f", v->x + 0.0);
		if (strcmp(out, "-0.00") == 0)
			snprintf(out, len, "0.00");
	}
}

int
crm_money_parse(const char *s, size_t n, int64_t *out)
{
	struct crm_dec d;
	int64_t v;
	int k;

	if (crm_dec_parse(s, n, &d))
		return CRM_EINVAL;
	v = d.v;
	for (k = d.scale; k < CRM_MONEY_SCALE; k++) {
		if (v > INT64_MAX / 10 || v < INT64_MIN / 10)
			return CRM_ETOOBIG;
		v *= 10;
	}
	*out = v;
	return 0;
}

/* ---- config ---- */

/* Built in when the config names no stages. */
static const struct {
	const char *name;
	int permille;
} default_stages[] = { { "lead", 100 }, { "qualified", 250 },
	{ "proposal", 500 }, { "negotiation", 750 } };

/* A probability: 0.25, 25% or 1. */
static int
permille(const char *s, size_t n, int *out)
{
	struct crm_dec d;
	int pct = n > 0 && s[n - 1] == '%';
	int64_t v;
	int k;

	if (crm_dec_parse(s, n - (size_t)pct, &d) || d.v < 0)
		return CRM_EINVAL;
	v = d.v * (pct ? 10 : 1000);
	for (k = 0; k < d.scale; k++)
		v /= 10;
	if (v > 1000)
		return CRM_EINVAL;
	*out = (int)v;
	return 0;
}

static int
add_stage(struct crm_report_opts *o, const char *name, int pm)
{
	struct crm_rstage *p;

	if ((p = realloc((void *)o->stages, (o->nstages + 1) * sizeof(*p))) ==
	    NULL)
		return CRM_ENOMEM;
	o->stages = p;
	if ((p[o->nstages].name = strdup(name)) == NULL)
		return CRM_ENOMEM;
	p[o->nstages++].permille = pm;
	return 0;
}

int
crm_report_config(const struct crm_config *cf, struct crm_report_opts *o,
    char *err, size_t errlen)
{
	const struct crm_ynode *sec = crm_config_section(cf, "report");
	const struct crm_ynode *st, *w, *k, *v;
	size_t i;
	int pm, rc;
	int64_t days;

	o->window = 365 * (int64_t)DAY;
	st = sec && sec->kind == CRM_Y_MAP ? crm_ydoc_get(sec, "deal_stages") :
					     NULL;
	w = sec && sec->kind == CRM_Y_MAP ? crm_ydoc_get(sec, "active_days") :
					    NULL;
	if (sec && sec->kind != CRM_Y_MAP)
		return crm_config_error(cf, sec, err, errlen,
		    "report: a mapping is expected");
	if (w) {
		if (w->kind != CRM_Y_SCALAR ||
		    crm_int_parse(w->s, w->slen, &days) || days <= 0 ||
		    days > 100000)
			return crm_config_error(cf, w, err, errlen,
			    "report: active_days: a number of days is "
			    "expected");
		o->window = days * DAY;
	}
	if (st == NULL) {
		for (i = 0;
		     i < sizeof(default_stages) / sizeof(default_stages[0]);
		     i++)
			if ((rc = add_stage(o, default_stages[i].name,
				 default_stages[i].permille)))
				return rc;
		return 0;
	}
	if (st->kind != CRM_Y_MAP)
		return crm_config_error(cf, st, err, errlen,
		    "report: deal_stages: a mapping of stage: probability "
		    "is expected");
	for (i = 0; i + 1 < st->n; i += 2) {
		k = st->kid[i];
		v = st->kid[i + 1];
		if (v->kind != CRM_Y_SCALAR || permille(v->s, v->slen, &pm))
			return crm_config_error(cf, v, err, errlen,
			    "report: deal_stages: %s: a probability from 0 "
			    "to 1 (or 0%% to 100%%) is expected",
			    k->s);
		if ((rc = add_stage(o, k->s, pm)))
			return rc;
	}
	return 0;
}

void
crm_report_config_free(struct crm_report_opts *o)
{
	size_t i;

	for (i = 0; i < o->nstages; i++)
		free(o->stages[i].name);
	free((void *)o->stages);
	o->stages = NULL;
	o->nstages = 0;
}
