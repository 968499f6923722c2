#include <math.h>
#include <string.h>

#include "errors.h"
#include "numeric.h"

#define NM_MAX 8 /* dimensions crm_num_minimize accepts */

double
crm_num_lbeta(double a, double b)
{
	return lgamma(a) + lgamma(b) - lgamma(a + b);
}

double
crm_num_logsumexp(double x, double y)
{
	double hi = x > y ? x : y, lo = x > y ? y : x;

	if (hi == -HUGE_VAL)
		return -HUGE_VAL;
	/* log1p would keep the relative precision of a tiny result, which
	 * is lost anyway when it is added to hi; log is faster. Below e^-40
	 * the smaller term no longer changes a double. */
	if (lo - hi < -40)
		return hi;
	return hi + log(1 + exp(lo - hi));
}

int
crm_num_hyp2f1(double a, double b, double c, double z, double *out)
{
	double term = 1, sum = 1, ratio;
	long n;

	/* c may be negative (BG/NBD with a + b < 1), not 0, -1, -2, ... */
	if (!(a > 0 && b > 0 && (c > 0 || c != floor(c)) && z >= 0 && z < 1))
		return CRM_EINVAL;
	for (n = 0; n < 1000000; n++) {
		ratio = (a + n) * (b + n) / ((c + n) * (n + 1)) * z;
		term *= ratio;
		sum += term;
		/*
		 * Once n is past a, b and |c|, every factor is positive;
		 * once the ratio of successive terms is then below 1 (it
		 * tends to z from above or below, monotonically for large
		 * n), the tail is at most term * q / (1 - q) with q the
		 * larger of the ratio and z.
		 */
		if (ratio < 1 && (double)n > a + b + fabs(c)) {
			double q = ratio > z ? ratio : z;

			if (fabs(term) * q / (1 - q) <= fabs(sum) * 1e-17) {
				*out = sum;
				return 0;
			}
		}
		if (term == 0) {
			*out = sum;
			return 0;
		}
	}
	return CRM_EINVAL;
}

/* ---- Nelder-Mead --------------------------------------------------- */

struct nm {
	double (*f)(const double *, void *);
	void *ctx;
	size_t n;
	double x[NM_MAX + 1][NM_MAX], fx[NM_MAX + 1];
	int evals, maxeval;
};

static double
eval(struct nm *s, const double *x)
{
	double v = s->f(x, s->ctx);

	s->evals++;
	return isfinite(v) ? v : HUGE_VAL;
}

/* Keeps the vertices sorted by value, best first (insertion sort: n is
 * small and only the worst vertex moves between sorts). */
static void
order(struct nm *s)
{
	double t[NM_MAX], ft;
	size_t i, j;

	for (i = 1; i <= s->n; i++) {
		memcpy(t, s->x[i], sizeof(t));
		ft = s->fx[i];
		for (j = i; j > 0 && s->fx[j - 1] > ft; j--) {
			memcpy(s->x[j], s->x[j - 1], sizeof(t));
			s->fx[j] = s->fx[j - 1];
		}
		memcpy(s->x[j], t, sizeof(t));
		s->fx[j] = ft;
	}
}

/* y = c + k (c - worst): reflection (k 1), expansion (2), outside (1/2)
 * and inside (-1/2) contraction are all points on this one line. */
static double
along(struct nm *s, const double *c, double k, double *y)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		y[i] = c[i] + k * (c[i] - s->x[s->n][i]);
	return eval(s, y);
}

static void
take(struct nm *s, const double *y, double fy)
{
	memcpy(s->x[s->n], y, sizeof(s->x[0]));
	s->fx[s->n] = fy;
}

static void
shrink(struct nm *s)
{
	size_t i, k;

	for (i = 1; i <= s->n; i++) {
		for (k = 0; k < s->n; k++)
			s->x[i][k] =
			    s->x[0][k] + 0.5 * (s->x[i][k] - s->x[0][k]);
		s->fx[i] = eval(s, s->x[i]);
	}
}

/* One iteration of Lagarias et al. (1998), section 2. */
static void
step(struct nm *s)
{
	double c[NM_MAX] = { 0 }, r[NM_MAX], e[NM_MAX], fr, fe, fc;
	size_t i, k, n = s->n;

	for (i = 0; i < n; i++)
		for (k = 0; k < n; k++)
			c[k] += s->x[i][k] / (double)n;
	fr = along(s, c, 1, r);
	if (fr < s->fx[0]) {
		fe = along(s, c, 2, e);
		if (fe < fr)
			take(s, e, fe);
		else
			take(s, r, fr);
	} else if (fr < s->fx[n - 1]) {
		take(s, r, fr);
	} else if (fr < s->fx[n]) {
		if ((fc = along(s, c, 0.5, e)) <= fr)
			take(s, e, fc);
		else
			shrink(s);
	} else if ((fc = along(s, c, -0.5, e)) < s->fx[n]) {
		take(s, e, fc);
	} else
		shrink(s);
	order(s);
}

static int
converged(const struct nm *s, double ftol, double xtol)
{
	double scale = fabs(s->fx[0]) > 1 ? fabs(s->fx[0]) : 1;
	size_t i, k;

	if (!(s->fx[s->n] - s->fx[0] <= ftol * scale))
		return 0;
	for (i = 1; i <= s->n; i++)
		for (k = 0; k < s->n; k++)
			if (fabs(s->x[i][k] - s->x[0][k]) > xtol)
				return 0;
	return 1;
}

/*
 * Runs the simplex until it converges or stalls: a search along a ridge
 * that rises without end towards a limit at infinity (a model whose best
 * fit is a degenerate case of itself) never brings the vertices together,
 * but there the best value stops improving, and that ends it too.
 */
static void
descend(struct nm *s, double ftol, double xtol)
{
	double mark = s->fx[0];
	int next = s->evals + 200 * (int)s->n;

	while (!converged(s, ftol, xtol) && s->evals < s->maxeval) {
		step(s);
		if (s->evals < next)
			continue;
		if (mark - s->fx[0] <=
		    ftol * (fabs(s->fx[0]) > 1 ? fabs(s->fx[0]) : 1))
			return;
		mark = s->fx[0];
		next = s->evals + 200 * (int)s->n;
	}
}

static void
simplex(struct nm *s, const double *x0, double fx0, double h)
{
	size_t i;

	memcpy(s->x[0], x0, sizeof(s->x[0]));
	s->fx[0] = fx0;
	for (i = 1; i <= s->n; i++) {
		memcpy(s->x[i], x0, sizeof(s->x[0]));
		s->x[i][i - 1] += h;
		s->fx[i] = eval(s, s->x[i]);
	}
	order(s);
}

int
crm_num_minimize(double (*f)(const double *x, void *ctx), void *ctx, size_t n,
    double *x, double *fx, const struct crm_num_opts *opts, int *nevals)
{
	static struct crm_num_opts none;
	const struct crm_num_opts *o = opts ? opts : &none;
	double h = o->step > 0 ? o->step : 1,
	       ftol = o->ftol > 0 ? o->ftol : 1e-10;
	double xtol = o->xtol > 0 ? o->xtol : 1e-9, best[NM_MAX], fbest;
	int restarts = o->restarts > 0 ? o->restarts : 3, rc = 0, round;
	struct nm s = { .f = f, .ctx = ctx, .n = n };

	s.maxeval = o->maxeval > 0 ? o->maxeval : 20000;
	if (n == 0 || n > NM_MAX)
		return CRM_EINVAL;
	memset(best, 0, sizeof(best));
	memcpy(best, x, n * sizeof(*x));
	if ((fbest = eval(&s, best)) == HUGE_VAL)
		return CRM_EINVAL;
	for (round = 0; round <= restarts; round++) {
		simplex(&s, best, fbest, h);
		descend(&s, ftol, xtol);
		if (s.evals >= s.maxeval && !converged(&s, ftol, xtol))
			rc = CRM_ETOOBIG;
		/* A restart that finds nothing better ends the search. */
		if (round > 0 &&
		    fbest - s.fx[0] <=
			ftol * (fabs(fbest) > 1 ? fabs(fbest) : 1)) {
			if (s.fx[0] < fbest) {
				memcpy(best, s.x[0], sizeof(best));
				fbest = s.fx[0];
			}
			break;
		}
		memcpy(best, s.x[0], sizeof(best));
		fbest = s.fx[0];
		if (rc)
			break;
		h = h > 0.1 ? 0.1 : h; /* restarts search near the optimum */
	}
	memcpy(x, best, n * sizeof(*x));
	*fx = fbest;
	if (nevals != NULL)
		*nevals = s.evals;
	return rc;
}
