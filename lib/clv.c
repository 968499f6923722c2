#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clv.h"
#include "errors.h"
#include "numeric.h"
#include "ydoc.h"

/* ---- BG/NBD -------------------------------------------------------- */

/* ln of a / (b + x - 1) ((alpha + T) / (alpha + tx))^(r + x), the second
 * term of the likelihood relative to the first; -inf when x == 0. */
static double
bg_odds(const struct crm_bgnbd *m, double x, double tx, double T)
{
	if (x <= 0)
		return -HUGE_VAL;
	return log(m->a) - log(m->b + x - 1) +
	    (m->r + x) * (log(m->alpha + T) - log(m->alpha + tx));
}

double
crm_bgnbd_ll(const struct crm_bgnbd *m, double x, double tx, double T)
{
	double r = m->r, al = m->alpha, a3, a4;

	a3 = -(r + x) * log(al + T);
	a4 = x > 0 ? log(m->a) - log(m->b + x - 1) - (r + x) * log(al + tx) :
		     -HUGE_VAL;
	return lgamma(r + x) - lgamma(r) + r * log(al) +
	    crm_num_lbeta(m->a, m->b + x) - crm_num_lbeta(m->a, m->b) +
	    crm_num_logsumexp(a3, a4);
}

double
crm_bgnbd_palive(const struct crm_bgnbd *m, double x, double tx, double T)
{
	return 1 / (1 + exp(bg_odds(m, x, tx, T)));
}

int
crm_bgnbd_expect(const struct crm_bgnbd *m, double t, double *out)
{
	double f, al = m->alpha;
	int rc;

	if (t <= 0) {
		*out = 0;
		return 0;
	}
	if ((rc = crm_num_hyp2f1(m->r, m->b, m->a + m->b - 1, t / (al + t),
		 &f)))
		return rc;
	*out = (m->a + m->b - 1) / (m->a - 1) *
	    (1 - exp(m->r * log(al / (al + t))) * f);
	return 0;
}

int
crm_bgnbd_cond(const struct crm_bgnbd *m, double x, double tx, double T,
    double t, double *out)
{
	double f, r = m->r, s = m->alpha + T;
	int rc;

	if (t <= 0) {
		*out = 0;
		return 0;
	}
	if ((rc = crm_num_hyp2f1(r + x, m->b + x, m->a + m->b + x - 1,
		 t / (s + t), &f)))
		return rc;
	*out = (m->a + m->b + x - 1) / (m->a - 1) *
	    (1 - exp((r + x) * log(s / (s + t))) * f) *
	    crm_bgnbd_palive(m, x, tx, T);
	return 0;
}

/*
 * The fit's data: distinct summaries with their weights, sorted by x, and
 * the distinct values of T and tx, so that one evaluation takes log(alpha
 * + T) once per value rather than once per customer.
 */
struct bgrow {
	double x, tx, T, w;
	size_t iT, itx;
};

struct bgdata {
	struct bgrow *row;
	size_t n, nT, ntx;
	double *Tv, *txv, *lT, *ltx;
};

static int
cmp_obs(const void *pa, const void *pb)
{
	const struct bgrow *a = pa, *b = pb;

	if (a->x != b->x)
		return a->x < b->x ? -1 : 1;
	if (a->T != b->T)
		return a->T < b->T ? -1 : 1;
	return (a->tx > b->tx) - (a->tx < b->tx);
}

static int
cmp_dbl(const void *pa, const void *pb)
{
	double a = *(const double *)pa, b = *(const double *)pb;

	return (a > b) - (a < b);
}

/* Sorts v[0..n) and drops repeats; returns the count left. */
static size_t
distinct(double *v, size_t n)
{
	size_t i, k = 0;

	qsort(v, n, sizeof(*v), cmp_dbl);
	for (i = 0; i < n; i++)
		if (k == 0 || v[i] != v[k - 1])
			v[k++] = v[i];
	return k;
}

static size_t
find_dbl(const double *v, size_t n, double x)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int
bg_valid(const struct crm_clv_obs *o)
{
	return isfinite(o->T) && o->x >= 0 && o->x == floor(o->x) &&
	    o->tx >= 0 && o->tx <= o->T;
}

static int
bg_load(struct bgdata *d, const struct crm_clv_obs *o, size_t n)
{
	size_t i, k = 0;

	d->row = malloc(n * sizeof(*d->row));
	d->Tv = malloc(4 * n * sizeof(double));
	if (d->row == NULL || d->Tv == NULL)
		return CRM_ENOMEM;
	d->txv = d->Tv + n;
	d->lT = d->txv + n;
	d->ltx = d->lT + n;
	for (i = 0; i < n; i++) {
		if (!bg_valid(&o[i]))
			return CRM_EINVAL;
		d->row[i] = (struct bgrow){ o[i].x, o[i].tx, o[i].T, 1, 0, 0 };
		d->Tv[i] = o[i].T;
		d->txv[i] = o[i].tx;
	}
	qsort(d->row, n, sizeof(*d->row), cmp_obs);
	for (i = 0; i < n; i++)
		if (k > 0 && cmp_obs(&d->row[k - 1], &d->row[i]) == 0)
			d->row[k - 1].w++;
		else
			d->row[k++] = d->row[i];
	d->n = k;
	d->nT = distinct(d->Tv, n);
	d->ntx = distinct(d->txv, n);
	for (i = 0; i < d->n; i++) {
		d->row[i].iT = find_dbl(d->Tv, d->nT, d->row[i].T);
		d->row[i].itx = find_dbl(d->txv, d->ntx, d->row[i].tx);
	}
	return 0;
}

/*
 * Small or odd data may have no finite optimum (no sign of dropout drives
 * a to 0, say): the search is kept to parameters within e^+-LOGBOUND, where
 * it then stops at the edge instead of wandering off.
 */
#define LOGBOUND 25.0

static int
out_of_bounds(const double *v, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (!(fabs(v[i]) <= LOGBOUND))
			return 1;
	return 0;
}

/* Minus the log-likelihood at exp(v): the objective of the fit. */
static double
bg_objective(const double *v, void *ctx)
{
	const struct bgdata *d = ctx;
	double r = exp(v[0]), al = exp(v[1]), a = exp(v[2]), b = exp(v[3]);
	double base = -lgamma(r) + r * log(al) - crm_num_lbeta(a, b), la = 0;
	double gx = 0, xprev = -1, ll = 0, t3, t4;
	size_t i;

	if (out_of_bounds(v, 4))
		return HUGE_VAL;
	for (i = 0; i < d->nT; i++)
		d->lT[i] = log(al + d->Tv[i]);
	for (i = 0; i < d->ntx; i++)
		d->ltx[i] = log(al + d->txv[i]);
	for (i = 0; i < d->n; i++) {
		const struct bgrow *w = &d->row[i];

		if (w->x != xprev) {
			xprev = w->x;
			gx = base + lgamma(r + w->x) +
			    crm_num_lbeta(a, b + w->x);
			la = w->x > 0 ? log(a) - log(b + w->x - 1) : 0;
		}
		t3 = -(r + w->x) * d->lT[w->iT];
		t4 = w->x > 0 ? la - (r + w->x) * d->ltx[w->itx] : -HUGE_VAL;
		ll += w->w * (gx + crm_num_logsumexp(t3, t4));
	}
	return -ll;
}

/* Tight enough that the flat direction of b (its standard error on CDNOW
 * is 0.7) is pinned to the fifth decimal; tighter only costs evaluations. */
static const struct crm_num_opts fit_opts = { 1.0, 1e-13, 1e-7, 20000, 3 };

int
crm_bgnbd_fit(const struct crm_clv_obs *o, size_t n, struct crm_bgnbd *m,
    struct crm_fit *fit)
{
	struct bgdata d = { 0 };
	double v[4], f, meanT = 0;
	size_t i;
	int rc;

	if (n == 0)
		return CRM_EINVAL;
	if ((rc = bg_load(&d, o, n)))
		goto out;
	for (i = 0; i < n; i++)
		meanT += o[i].T / (double)n;
	/* alpha is a time scale: start it at the mean age, so that the start
	 * does not depend on the unit of time. */
	v[0] = 0;
	v[1] = log(meanT > 0 ? meanT : 1);
	v[2] = 0;
	v[3] = 0;
	rc = crm_num_minimize(bg_objective, &d, 4, v, &f, &fit_opts,
	    fit ? &fit->evals : NULL);
	*m = (struct crm_bgnbd){ exp(v[0]), exp(v[1]), exp(v[2]), exp(v[3]) };
	if (fit != NULL) {
		fit->ll = -f;
		fit->n = n;
		fit->distinct = d.n;
	}
out:
	free(d.row);
	free(d.Tv);
	return rc;
}

/* ---- Gamma-Gamma ---------------------------------------------------- */

double
crm_gg_ll(const struct crm_gg *m, double x, double zbar)
{
	double px = m->p * x, q = m->q, g = m->gamma;

	return lgamma(px + q) - lgamma(px) - lgamma(q) + q * log(g) +
	    (px - 1) * log(zbar) + px * log(x) - (px + q) * log(g + x * zbar);
}

double
crm_gg_mean(const struct crm_gg *m)
{
	return m->q > 1 ? m->p * m->gamma / (m->q - 1) : HUGE_VAL;
}

double
crm_gg_expect(const struct crm_gg *m, double x, double zbar)
{
	if (x <= 0)
		return crm_gg_mean(m);
	return m->p * (m->gamma + x * zbar) / (m->p * x + m->q - 1);
}

/* Distinct (x, zbar) with weights, sorted by x, and the parts of the
 * likelihood that are linear in p: sums of x ln zbar, ln zbar, x ln x. */
struct ggdata {
	struct crm_gg_obs *row;
	double *w, n, sxlz, slz, sxlx;
	size_t k;
};

static int
cmp_gg(const void *pa, const void *pb)
{
	const struct crm_gg_obs *a = pa, *b = pb;

	if (a->x != b->x)
		return a->x < b->x ? -1 : 1;
	return (a->zbar > b->zbar) - (a->zbar < b->zbar);
}

static int
gg_load(struct ggdata *d, const struct crm_gg_obs *o, size_t n)
{
	size_t i, k = 0;

	d->row = malloc(n * sizeof(*d->row));
	d->w = malloc(n * sizeof(*d->w));
	if (d->row == NULL || d->w == NULL)
		return CRM_ENOMEM;
	for (i = 0; i < n; i++) {
		if (!(o[i].x >= 1 && o[i].zbar > 0 && isfinite(o[i].zbar)))
			return CRM_EINVAL;
		d->row[i] = o[i];
		d->sxlz += o[i].x * log(o[i].zbar);
		d->slz += log(o[i].zbar);
		d->sxlx += o[i].x * log(o[i].x);
	}
	qsort(d->row, n, sizeof(*d->row), cmp_gg);
	for (i = 0; i < n; i++)
		if (k > 0 && cmp_gg(&d->row[k - 1], &d->row[i]) == 0)
			d->w[k - 1]++;
		else {
			d->row[k] = d->row[i];
			d->w[k++] = 1;
		}
	d->k = k;
	d->n = (double)n;
	return 0;
}

static double
gg_objective(const double *v, void *ctx)
{
	const struct ggdata *d = ctx;
	double p = exp(v[0]), q = exp(v[1]), g = exp(v[2]), xprev = -1, gx = 0;
	double ll =
	    d->n * (q * log(g) - lgamma(q)) + p * (d->sxlz + d->sxlx) - d->slz;
	size_t i;

	for (i = 0; i < d->k; i++) {
		double x = d->row[i].x;

		if (x != xprev) {
			xprev = x;
			gx = lgamma(p * x + q) - lgamma(p * x);
		}
		ll +=
		    d->w[i] * (gx - (p * x + q) * log(g + x * d->row[i].zbar));
	}
	return -ll;
}

int
crm_gg_fit(const struct crm_gg_obs *o, size_t n, struct crm_gg *m,
    struct crm_fit *fit)
{
	struct ggdata d = { 0 };
	double v[3], f, mean = 0;
	size_t i;
	int rc;

	if (n == 0)
		return CRM_EINVAL;
	if ((rc = gg_load(&d, o, n)))
		goto out;
	for (i = 0; i < n; i++)
		mean += o[i].zbar / (double)n;
	/* gamma carries the unit of money: start it at the mean spend. */
	v[0] = 0;
	v[1] = log(2);
	v[2] = log(mean);
	rc = crm_num_minimize(gg_objective, &d, 3, v, &f, &fit_opts,
	    fit ? &fit->evals : NULL);
	*m = (struct crm_gg){ exp(v[0]), exp(v[1]), exp(v[2]) };
	if (fit != NULL) {
		fit->ll = -f;
		fit->n = n;
		fit->distinct = d.k;
	}
out:
	free(d.row);
	free(d.w);
	return rc;
}

/* ---- CLV ------------------------------------------------------------ */

int
crm_clv_value(const struct crm_bgnbd *m, double x, double tx, double T,
    double spend, int h, double d, double *out)
{
	double prev = 0, cur, sum = 0, disc = 1;
	int k, rc;

	if (h < 0 || d <= -1)
		return CRM_EINVAL;
	if (d == 0) {
		if ((rc = crm_bgnbd_cond(m, x, tx, T, h, &cur)))
			return rc;
		*out = spend * cur;
		return 0;
	}
	for (k = 1; k <= h; k++) {
		if ((rc = crm_bgnbd_cond(m, x, tx, T, k, &cur)))
			return rc;
		disc /= 1 + d;
		sum += (cur - prev) * disc;
		prev = cur;
	}
	*out = spend * sum;
	return 0;
}

/* ---- parameter files ------------------------------------------------ */

static int
addf(struct crm_buf *b, const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line))
		return CRM_EINVAL;
	return crm_buf_add(b, line, (size_t)n);
}

int
crm_clv_params_format(const struct crm_clv_params *p, struct crm_buf *out)
{
	int rc;

	rc = addf(out,
	    "# crm-score clv parameters (crm-score --use-params reads them)\n"
	    "unit: %s\nbgnbd:\n",
	    p->unit == 7 ? "week" : "day");
	if (rc == 0)
		rc = addf(out,
		    "  r: %.17g\n  alpha: %.17g\n  a: %.17g\n  b: %.17g\n"
		    "  loglik: %.10g\n  customers: %zu\n",
		    p->bg.r, p->bg.alpha, p->bg.a, p->bg.b, p->bgfit.ll,
		    p->bgfit.n);
	if (rc == 0 && p->have_gg)
		rc = addf(out,
		    "gamma_gamma:\n  p: %.17g\n  q: %.17g\n  gamma: %.17g\n"
		    "  loglik: %.10g\n  customers: %zu\n",
		    p->gg.p, p->gg.q, p->gg.gamma, p->ggfit.ll, p->ggfit.n);
	return rc;
}

struct preader {
	char *err;
	size_t errlen;
};

static int
perr(struct preader *R, long line, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(R->err, R->errlen, "%ld: %s", line, msg);
	return CRM_EPARSE;
}

/* The number under key name of section sec: positive and finite. */
static int
pnum(struct preader *R, const struct crm_ynode *sec, const char *secname,
    const char *name, double *out)
{
	const struct crm_ynode *v = crm_ydoc_get(sec, name);
	char *end;

	if (v == NULL || v->kind != CRM_Y_SCALAR)
		return perr(R, sec->line, "%s: no parameter %s", secname, name);
	errno = 0;
	*out = strtod(v->s, &end);
	if (end == v->s || *end != '\0' || errno || !(*out > 0) ||
	    !isfinite(*out))
		return perr(R, v->line, "%s must be a positive number", name);
	return 0;
}

/* The section key of map d: a mapping, or absent (NULL, 0). */
static int
psection(struct preader *R, const struct crm_ynode *d, const char *key,
    const struct crm_ynode **sec)
{
	*sec = crm_ydoc_get(d, key);
	if (*sec != NULL && (*sec)->kind != CRM_Y_MAP)
		return perr(R, (*sec)->line, "%s must be a mapping", key);
	return 0;
}

static int
pdoc(struct preader *R, const struct crm_ynode *d, struct crm_clv_params *p)
{
	const struct crm_ynode *u = crm_ydoc_get(d, "unit"), *b, *g;
	int rc;

	if (u == NULL || u->kind != CRM_Y_SCALAR ||
	    (strcmp(u->s, "week") != 0 && strcmp(u->s, "day") != 0))
		return perr(R, u ? u->line : d->line,
		    "unit must be week or day");
	p->unit = u->s[0] == 'w' ? 7 : 1;
	if ((rc = psection(R, d, "bgnbd", &b)))
		return rc;
	if (b == NULL)
		return perr(R, d->line, "no bgnbd parameters");
	if ((rc = pnum(R, b, "bgnbd", "r", &p->bg.r)) ||
	    (rc = pnum(R, b, "bgnbd", "alpha", &p->bg.alpha)) ||
	    (rc = pnum(R, b, "bgnbd", "a", &p->bg.a)) ||
	    (rc = pnum(R, b, "bgnbd", "b", &p->bg.b)) ||
	    (rc = psection(R, d, "gamma_gamma", &g)))
		return rc;
	if (g == NULL)
		return 0;
	p->have_gg = 1;
	if ((rc = pnum(R, g, "gamma_gamma", "p", &p->gg.p)) ||
	    (rc = pnum(R, g, "gamma_gamma", "q", &p->gg.q)))
		return rc;
	return pnum(R, g, "gamma_gamma", "gamma", &p->gg.gamma);
}

int
crm_clv_params_parse(const char *text, size_t n, struct crm_clv_params *p,
    char *err, size_t errlen)
{
	struct preader R = { err, errlen };
	struct crm_ynode *docs = NULL;
	int rc;

	memset(p, 0, sizeof(*p));
	if ((rc = crm_ydoc_parse(text, n, &docs, err, errlen)))
		return rc == CRM_ENOMEM ? rc : CRM_EPARSE;
	if (docs->n != 1 || docs->kid[0]->kind != CRM_Y_MAP)
		rc = perr(&R, docs->n ? docs->kid[0]->line : 1,
		    "expected one mapping of parameters");
	else
		rc = pdoc(&R, docs->kid[0], p);
	crm_ydoc_free(docs);
	return rc;
}
