/*
 * Unit tests of the scoring modules: special functions and the minimiser
 * (numeric.h), the BG/NBD and Gamma-Gamma models on the CDNOW sample
 * (clv.h; the reference figures are in tests/data/SOURCES.md), and the RFM
 * roll-up, quintiles and segment table (rfm.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clv.h"
#include "crm.h"
#include "numeric.h"
#include "rfm.h"
#include "unit.h"

static int
near(double got, double want, double tol)
{
	if (fabs(got - want) <= tol)
		return 1;
	printf("    got %.10g, want %.10g (tolerance %g)\n", got, want, tol);
	return 0;
}

static double
rosen(const double *x, void *ctx)
{
	(void)ctx;
	return 100 * pow(x[1] - x[0] * x[0], 2) + pow(1 - x[0], 2);
}

static double
bowl(const double *x, void *ctx)
{
	double s = 0;
	int i;

	(void)ctx;
	for (i = 0; i < 4; i++)
		s += (i + 1) * (x[i] - i) * (x[i] - i);
	return x[0] < -5 ? NAN : s;
}

/* Falls towards 0 along x == y without end: no finite minimum. */
static double
ridge(const double *x, void *ctx)
{
	(void)ctx;
	return exp(-(x[0] + x[1])) + (x[0] - x[1]) * (x[0] - x[1]);
}

static void
test_numeric(void)
{
	double x[4] = { -1.2, 1, 0, 0 }, f, v;
	int n;

	CHECK(near(crm_num_lbeta(2, 3), log(1.0 / 12), 1e-14));
	CHECK(near(crm_num_lbeta(0.5, 0.5), log(M_PI), 1e-13));
	CHECK(near(crm_num_logsumexp(1000, 1000), 1000 + log(2), 1e-12));
	CHECK(near(crm_num_logsumexp(-1000, -HUGE_VAL), -1000, 0));
	CHECK(crm_num_logsumexp(-HUGE_VAL, -HUGE_VAL) == -HUGE_VAL);
	/* 2F1(1, 1; 2; z) = -ln(1 - z) / z; 2F1(a, b; b; z) = (1 - z)^-a. */
	CHECK(crm_num_hyp2f1(1, 1, 2, 0.5, &v) == 0 &&
	    near(v, -log(0.5) / 0.5, 1e-14));
	CHECK(crm_num_hyp2f1(1, 1, 2, 0.999, &v) == 0 &&
	    near(v, -log(0.001) / 0.999, 1e-11));
	CHECK(crm_num_hyp2f1(2.5, 3, 3, 0.9, &v) == 0 &&
	    near(v, pow(0.1, -2.5), 1e-9));
	CHECK(crm_num_hyp2f1(0.3, 0.7, 1.5, 0, &v) == 0 && v == 1);
	/* 2F1(1/2, 1/2; 3/2; z^2) = asin(z) / z. */
	CHECK(crm_num_hyp2f1(0.5, 0.5, 1.5, 0.64, &v) == 0 &&
	    near(v, asin(0.8) / 0.8, 1e-13));
	CHECK(crm_num_hyp2f1(1, 1, 2, 1, &v) == CRM_EINVAL);
	CHECK(crm_num_hyp2f1(1, 1, -2, 0.5, &v) == CRM_EINVAL);
	/* A negative c, as BG/NBD gives for a + b < 1 (the demo's data fit
	 * a = 0.003176, b = 0.057082); value from mpmath.hyp2f1. */
	CHECK(crm_num_hyp2f1(0.427829, 0.057082, 0.003176 + 0.057082 - 1,
		  365 / (44.015397 + 365), &v) == 0 &&
	    near(v, -6.70136753245911, 1e-9));
	CHECK(crm_num_minimize(rosen, NULL, 2, x, &f, NULL, &n) == 0 &&
	    near(x[0], 1, 1e-4) && near(x[1], 1, 1e-4) && f < 1e-8);
	memset(x, 0, sizeof(x));
	x[0] = 3;
	CHECK(crm_num_minimize(bowl, NULL, 4, x, &f, NULL, NULL) == 0 &&
	    near(x[0], 0, 1e-4) && near(x[3], 3, 1e-4));
	x[0] = -6;
	CHECK(crm_num_minimize(bowl, NULL, 4, x, &f, NULL, NULL) == CRM_EINVAL);
	x[0] = 0;
	CHECK(crm_num_minimize(bowl, NULL, 0, x, &f, NULL, NULL) == CRM_EINVAL);
	/* A search along a ridge to infinity stops when it stalls. */
	x[0] = x[1] = 0;
	CHECK(crm_num_minimize(ridge, NULL, 2, x, &f, NULL, &n) == 0 &&
	    f < 1e-6 && fabs(x[0] - x[1]) < 1e-3 && n < 20000);
	{
		struct crm_num_opts o = { 0, 0, 0, 50, 0 };

		x[0] = 10;
		CHECK(crm_num_minimize(bowl, NULL, 4, x, &f, &o, &n) ==
		    CRM_ETOOBIG);
	}
}

/* ---- CDNOW ------------------------------------------------------------ */

#define CDNOW_DIR "tests/data/cdnow"

/* The calibration summary of CDNOW_sample.txt, as SOURCES.md (section 2)
 * derives it: same-day purchases merged, cut-off 1997-09-30, weeks. */
struct cdnow {
	struct crm_clv_obs o[2357];
	double zbar[2357];
	size_t n;
};

static int
cdnow_load(struct cdnow *c)
{
	static int64_t first[2358], last[2358], lastday[2358];
	static double days[2358], spend[2358], firstspend[2358];
	int64_t end = crm_days_from_civil(1997, 9, 30), d;
	char path[512], line[256];
	unsigned master, id, date, cds;
	double usd;
	FILE *fp;
	size_t i;

	snprintf(path, sizeof(path), "%s/CDNOW_sample.txt",
	    getenv("CDNOW_DIR") ? getenv("CDNOW_DIR") : CDNOW_DIR);
	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (sscanf(line, "%u %u %u %u %lf", &master, &id, &date, &cds,
			&usd) != 5 ||
		    id < 1 || id > 2357)
			continue;
		d = crm_days_from_civil((int)date / 10000, date / 100 % 100,
		    date % 100);
		if (d > end)
			continue;
		if (days[id] == 0) {
			first[id] = d;
			firstspend[id] = usd;
		} else if (d == first[id])
			firstspend[id] += usd;
		/* The file is in date order within each customer. */
		if (days[id] == 0 || d != lastday[id])
			days[id]++;
		lastday[id] = last[id] = d;
		spend[id] += usd;
	}
	fclose(fp);
	for (i = 1, c->n = 0; i <= 2357; i++, c->n++) {
		c->o[c->n].x = days[i] - 1;
		c->o[c->n].tx = (double)(last[i] - first[i]) / 7;
		c->o[c->n].T = (double)(end - first[i]) / 7;
		c->zbar[c->n] = days[i] > 1 ?
		    (spend[i] - firstspend[i]) / (days[i] - 1) :
		    0;
	}
	return 0;
}

static double
seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
test_bgnbd_fixed(void)
{
	struct crm_bgnbd pub = { 0.243, 4.414, 0.793, 2.426 };
	struct crm_bgnbd bt = { 0.2425982, 4.4136842, 0.7929899, 2.4261667 };
	double v;

	/* SOURCES.md 3.4: customer 1 of Hardie's spreadsheet. */
	CHECK(crm_bgnbd_cond(&pub, 2, 30.43, 38.86, 39, &v) == 0 &&
	    near(v, 1.226, 0.001));
	CHECK(near(crm_bgnbd_palive(&pub, 2, 30.43, 38.86), 0.7266, 1e-4));
	/* BTYD vignette, customer 1516 and E[X(52)]. */
	CHECK(crm_bgnbd_cond(&bt, 26, 30.85714, 31, 52, &v) == 0 &&
	    near(v, 25.75659, 25.75659e-4));
	CHECK(near(crm_bgnbd_palive(&bt, 26, 30.85714, 31), 0.9688523, 1e-6));
	CHECK(crm_bgnbd_expect(&bt, 52, &v) == 0 && near(v, 1.444004, 1e-5));
	/* The "increasing frequency paradox": more purchases, same recency,
	 * a lower expectation. */
	CHECK(crm_bgnbd_cond(&bt, 10, 20, 39, 52, &v) == 0 &&
	    near(v, 0.3474606, 1e-5));
	CHECK(crm_bgnbd_cond(&bt, 25, 20, 39, 52, &v) == 0 &&
	    near(v, 0.0003583685, 1e-8));
	/* lifetimes' expectation of a new customer over 78 weeks. */
	CHECK(crm_bgnbd_expect(&pub, 78, &v) == 0 && near(v, 1.8605, 1e-3));
	CHECK(crm_bgnbd_cond(&pub, 0, 0, 20, 0, &v) == 0 && v == 0);
	/* The stable form survives what naive powers would not. */
	v = crm_bgnbd_ll(&pub, 300, 5000, 5000.5);
	CHECK(isfinite(v) && v < 0);
}

static void
test_cdnow_fit(void)
{
	static struct cdnow c;
	static struct crm_gg_obs g[2357];
	struct crm_bgnbd m;
	struct crm_gg gm, pub = { 6.25, 3.74, 15.44 };
	struct crm_fit fit;
	double t0, sumx = 0, ll = 0, v;
	size_t i, ng = 0;

	if (cdnow_load(&c)) {
		printf("unit-score: %s/CDNOW_sample.txt missing\n", CDNOW_DIR);
		CHECK(!"CDNOW sample readable");
		return;
	}
	for (i = 0; i < c.n; i++) {
		sumx += c.o[i].x;
		if (c.o[i].x > 0)
			g[ng++] = (struct crm_gg_obs){ c.o[i].x, c.zbar[i] };
	}
	CHECK(c.n == 2357 && sumx == 2457 && ng == 946);
	/* SOURCES.md 3.2 and 4: the fit on exact weeks. */
	t0 = seconds();
	CHECK(crm_bgnbd_fit(c.o, c.n, &m, &fit) == 0);
	printf("unit-score: BG/NBD r=%.6f alpha=%.6f a=%.6f b=%.6f LL=%.4f "
	       "(%zu distinct, %d evaluations, %.3f s)\n",
	    m.r, m.alpha, m.a, m.b, fit.ll, fit.distinct, fit.evals,
	    seconds() - t0);
	CHECK(near(m.r, 0.2426, 0.001) && near(m.alpha, 4.4137, 0.001));
	CHECK(near(m.a, 0.7930, 0.001) && near(m.b, 2.4259, 0.001));
	CHECK(near(fit.ll, -9582.43, 0.05));
	CHECK(fit.n == 2357 && fit.distinct < fit.n);
	for (i = 0; i < c.n; i++)
		ll += crm_bgnbd_ll(&m, c.o[i].x, c.o[i].tx, c.o[i].T);
	CHECK(near(ll, fit.ll, 1e-6));
	CHECK(crm_bgnbd_cond(&m, 2, 30.43, 38.86, 39, &v) == 0 &&
	    near(v, 1.226, 0.001));
	t0 = seconds();
	CHECK(crm_gg_fit(g, ng, &gm, &fit) == 0);
	printf("unit-score: Gamma-Gamma p=%.6f q=%.6f gamma=%.6f LL=%.4f "
	       "(%d evaluations, %.3f s)\n",
	    gm.p, gm.q, gm.gamma, fit.ll, fit.evals, seconds() - t0);
	CHECK(near(gm.p, 6.25, 0.01) && near(gm.q, 3.74, 0.01));
	CHECK(near(gm.gamma, 15.44, 0.01) && near(fit.ll, -4055.92, 0.01));
	for (i = 0, ll = 0; i < ng; i++)
		ll += crm_gg_ll(&gm, g[i].x, g[i].zbar);
	CHECK(near(ll, fit.ll, 1e-6));
	/* lifetimes' conditional expected spend of customers 1 and 6. */
	CHECK(near(crm_gg_expect(&pub, c.o[0].x, c.zbar[0]), 24.65, 0.1));
	CHECK(near(crm_gg_expect(&pub, c.o[5].x, c.zbar[5]), 71.46, 0.1));
	CHECK(near(crm_gg_expect(&pub, 0, 0), 35.219, 0.001));
	CHECK(crm_gg_mean(&(struct crm_gg){ 1, 0.5, 1 }) == HUGE_VAL);
	/* Undiscounted value is spend times expected purchases; discounting
	 * lowers it. */
	CHECK(crm_clv_value(&m, 2, 30.43, 38.86, 10, 39, 0, &v) == 0 &&
	    near(v, 10 * 1.226, 0.01));
	CHECK(crm_clv_value(&m, 2, 30.43, 38.86, 10, 39, 0.01, &ll) == 0 &&
	    ll < v && ll > 0.7 * v);
	g[0].zbar = 0;
	CHECK(crm_gg_fit(g, ng, &gm, &fit) == CRM_EINVAL);
	c.o[0].tx = c.o[0].T + 1;
	CHECK(crm_bgnbd_fit(c.o, c.n, &m, &fit) == CRM_EINVAL);
	CHECK(crm_bgnbd_fit(c.o, 0, &m, &fit) == CRM_EINVAL);
}

/* ---- RFM ------------------------------------------------------------ */

static struct crm_dec
dec(const char *s)
{
	struct crm_dec d = { 0, 0 };

	crm_dec_parse(s, strlen(s), &d);
	return d;
}

static void
test_ntile(void)
{
	/* SQL ntile(5) over 7 rows: groups of 2, 2, 1, 1, 1. */
	static const unsigned char want7[] = { 1, 1, 2, 2, 3, 4, 5 };
	struct crm_rfm_stat st[12];
	struct crm_rfm_score sc[12];
	size_t i;
	int ok = 1;

	memset(st, 0, sizeof(st));
	for (i = 0; i < 7; i++) {
		/* All tied in f, reversed in r, distinct in m. */
		st[i].purchases = 3;
		st[i].last = 1000 - (int64_t)i;
		st[i].revenue = (struct crm_dec){ (int64_t)i * 10, 1 };
	}
	CHECK(crm_rfm_score(st, 7, sc) == 0);
	for (i = 0; i < 7; i++)
		ok &= sc[i].f == want7[i] && sc[i].m == want7[i] &&
		    sc[i].r == want7[6 - i];
	CHECK(ok);
	CHECK(crm_rfm_cell(&sc[0]) == 511);
	/* Customers without purchases are left out and score 0. */
	memset(&st[7], 0, sizeof(st[7]));
	st[7].revenue = (struct crm_dec){ -500, 2 };
	CHECK(crm_rfm_score(st, 8, sc) == 0 && sc[7].r == 0 && sc[7].f == 0 &&
	    sc[7].m == 0 && sc[6].m == 5 && crm_rfm_cell(&sc[7]) == 0);
	/* Fewer customers than groups: 1, 2, 3. */
	CHECK(crm_rfm_score(st, 3, sc) == 0 && sc[0].m == 1 && sc[1].m == 2 &&
	    sc[2].m == 3);
	/* Revenue of different scales compares exactly: 2.5 > 2.49. */
	st[0].revenue = dec("2.5");
	st[1].revenue = dec("2.49");
	st[2].revenue = dec("-3");
	CHECK(crm_rfm_score(st, 3, sc) == 0 && sc[0].m == 3 && sc[1].m == 2 &&
	    sc[2].m == 1);
	/* Beyond int64 at a common scale the decimal comparison takes over. */
	st[0].revenue = dec("900000000000000000");
	st[1].revenue = dec("0.000000001");
	CHECK(crm_rfm_score(st, 3, sc) == 0 && sc[0].m == 3 && sc[1].m == 2 &&
	    sc[2].m == 1);
	CHECK(crm_rfm_score(st, 0, sc) == 0);
}

/* Brute force: the rank of customer i by (value, position) among the
 * buyers, as ntile(5) numbers it. */
static unsigned char
ntile_of(const int64_t *v, const struct crm_rfm_stat *st, size_t n, size_t i)
{
	size_t j, before = 0, m = 0, q, rem, big;

	for (j = 0; j < n; j++) {
		if (st[j].purchases == 0)
			continue;
		m++;
		before += v[j] < v[i] || (v[j] == v[i] && j < i);
	}
	q = m / 5;
	rem = m % 5;
	big = rem * (q + 1);
	return (unsigned char)(before < big ? before / (q + 1) + 1 :
					      rem + (before - big) / q + 1);
}

static uint64_t lcg(uint64_t *s);

static void
test_ntile_random(void)
{
	static struct crm_rfm_stat st[1003];
	static struct crm_rfm_score sc[1003];
	static int64_t last[1003], freq[1003], rev[1003];
	uint64_t seed = 99;
	size_t i, n = 1003;
	int ok = 1;

	for (i = 0; i < n; i++) {
		memset(&st[i], 0, sizeof(st[i]));
		st[i].purchases = lcg(&seed) % 6; /* 0: no purchase */
		st[i].last = (int64_t)(lcg(&seed) % 40) - 20;
		/* Cents at scale 2 and whole units at scale 0 mixed. */
		if (lcg(&seed) % 2)
			st[i].revenue = (struct crm_dec){
				(int64_t)(lcg(&seed) % 2000) - 500, 2
			};
		else
			st[i].revenue =
			    (struct crm_dec){ (int64_t)(lcg(&seed) % 20) - 5,
				    0 };
		last[i] = st[i].last;
		freq[i] = (int64_t)st[i].purchases;
		rev[i] = st[i].revenue.v * (st[i].revenue.scale ? 1 : 100);
	}
	CHECK(crm_rfm_score(st, n, sc) == 0);
	for (i = 0; i < n; i++)
		if (st[i].purchases == 0)
			ok &= sc[i].r == 0 && sc[i].f == 0 && sc[i].m == 0;
		else
			ok &= sc[i].r == ntile_of(last, st, n, i) &&
			    sc[i].f == ntile_of(freq, st, n, i) &&
			    sc[i].m == ntile_of(rev, st, n, i);
	CHECK(ok);
}

/* A little deterministic generator, so that the merge test is the same
 * on every run. */
static uint64_t
lcg(uint64_t *s)
{
	*s = *s * 6364136223846793005u + 1442695040888963407u;
	return *s >> 33;
}

static int
same_rollup(struct crm_rfm *a, struct crm_rfm *b)
{
	const char *const *ka, *const *kb;
	const size_t *la, *lb;
	const struct crm_rfm_stat *sa, *sb;
	size_t i, n = crm_rfm_count(a);

	if (n != crm_rfm_count(b) || crm_rfm_sorted(a, &ka, &la, &sa) ||
	    crm_rfm_sorted(b, &kb, &lb, &sb))
		return 0;
	for (i = 0; i < n; i++) {
		if (la[i] != lb[i] || memcmp(ka[i], kb[i], la[i]) != 0 ||
		    sa[i].purchases != sb[i].purchases ||
		    crm_dec_cmp(sa[i].revenue, sb[i].revenue) != 0 ||
		    sa[i].days != sb[i].days ||
		    crm_dec_cmp(sa[i].spend, sb[i].spend) != 0 ||
		    crm_dec_cmp(sa[i].first_spend, sb[i].first_spend) != 0)
			return 0;
		if (sa[i].purchases &&
		    (sa[i].first != sb[i].first || sa[i].last != sb[i].last))
			return 0;
		if (i > 0 && la[i - 1] <= la[i] &&
		    memcmp(ka[i - 1], ka[i], la[i - 1]) > 0)
			return 0;
	}
	return 1;
}

/* Replays the generator of test_rollup and counts each customer's
 * distinct days (day = ts / 86400 rounded down) by brute force. */
static int
days_right(struct crm_rfm *r, int nev)
{
	static int64_t day[997][64];
	static size_t nday[997];
	const char *const *k;
	const size_t *kl;
	const struct crm_rfm_stat *st;
	uint64_t seed = 42;
	size_t i, j;
	int e, ok = 1;

	memset(nday, 0, sizeof(nday));
	for (e = 0; e < nev; e++) {
		int kind = (int)(lcg(&seed) % 3);
		int64_t ts, d;
		unsigned c;

		(void)lcg(&seed); /* the part */
		ts = (int64_t)(lcg(&seed) % 2000000) - 1000000;
		c = (unsigned)(lcg(&seed) % 997);
		(void)lcg(&seed);
		(void)lcg(&seed);
		if (kind != CRM_RFM_PURCHASE)
			continue;
		d = ts >= 0 ? ts / 86400 : -((-ts + 86399) / 86400);
		for (j = 0; j < nday[c] && day[c][j] != d; j++)
			;
		if (j == nday[c] && nday[c] < 64)
			day[c][nday[c]++] = d;
	}
	if (crm_rfm_sorted(r, &k, &kl, &st))
		return 0;
	for (i = 0; i < crm_rfm_count(r); i++) {
		char num[16] = { 0 };
		unsigned c;

		/* Keys are not NUL-terminated. */
		memcpy(num, k[i] + 1, kl[i] - 1 < 15 ? kl[i] - 1 : 15);
		c = (unsigned)atoi(num);

		ok &= st[i].days == nday[c];
	}
	return ok;
}

static void
test_rollup(void)
{
	struct crm_rfm *all, *part[3], *m1, *m2;
	const char *const *k;
	const size_t *kl;
	const struct crm_rfm_stat *st;
	char key[16], amt[16];
	uint64_t seed = 42;
	int i, ok = 1;

	CHECK(crm_rfm_open(CRM_RFM_FDAYS, &all) == 0 &&
	    crm_rfm_open(CRM_RFM_FDAYS, &m1) == 0 &&
	    crm_rfm_open(CRM_RFM_FDAYS, &m2) == 0);
	for (i = 0; i < 3; i++)
		CHECK(crm_rfm_open(CRM_RFM_FDAYS, &part[i]) == 0);
	for (i = 0; i < 20000; i++) {
		int kind = (int)(lcg(&seed) % 3), p = (int)(lcg(&seed) % 3);
		int64_t ts = (int64_t)(lcg(&seed) % 2000000) - 1000000;
		size_t n = (size_t)snprintf(key, sizeof(key), "c%u",
		    (unsigned)(lcg(&seed) % 997));

		snprintf(amt, sizeof(amt), "%u.%02u",
		    (unsigned)(lcg(&seed) % 300), (unsigned)(lcg(&seed) % 100));
		ok &= crm_rfm_add(all, key, n, kind, ts, dec(amt)) == 0;
		ok &= crm_rfm_add(part[p], key, n, kind, ts, dec(amt)) == 0;
	}
	CHECK(ok);
	/* In batches, with keys both short and longer than a record holds,
	 * the same roll-up as one event at a time. */
	{
		struct crm_rfm *one, *many;
		struct crm_rfm_event ev[CRM_RFM_BATCH];
		static char kb[CRM_RFM_BATCH][80];
		size_t nb = 0;

		CHECK(crm_rfm_open(CRM_RFM_FDAYS, &one) == 0 &&
		    crm_rfm_open(CRM_RFM_FDAYS, &many) == 0);
		seed = 7;
		for (i = 0; i < 30000; i++) {
			int kind = (int)(lcg(&seed) % 3);
			int64_t ts = (int64_t)(lcg(&seed) % 5000000);
			unsigned c = (unsigned)(lcg(&seed) % 3001);
			size_t n = (size_t)snprintf(kb[nb], sizeof(kb[nb]),
			    c % 2 ? "c%u" :
				    "a-rather-long-customer-key-%u-of-a-shop",
			    c);

			ok &= crm_rfm_add(one, kb[nb], n, kind, ts,
				  dec("1.5")) == 0;
			ev[nb] = (struct crm_rfm_event){ kb[nb], n, kind, ts,
				dec("1.5") };
			if (++nb == CRM_RFM_BATCH || i == 29999) {
				ok &= crm_rfm_add_batch(many, ev, nb) == 0;
				nb = 0;
			}
		}
		CHECK(ok && crm_rfm_count(one) == 3001);
		CHECK(same_rollup(one, many));
		CHECK(crm_rfm_add_batch(many, ev, CRM_RFM_BATCH + 1) ==
		    CRM_EINVAL);
		crm_rfm_close(one);
		crm_rfm_close(many);
	}
	/* Merged in two different orders, the parts equal the whole. */
	CHECK(crm_rfm_merge(m1, part[0]) == 0 &&
	    crm_rfm_merge(m1, part[1]) == 0 && crm_rfm_merge(m1, part[2]) == 0);
	CHECK(crm_rfm_merge(m2, part[2]) == 0 &&
	    crm_rfm_merge(part[0], part[1]) == 0 &&
	    crm_rfm_merge(m2, part[0]) == 0);
	CHECK(same_rollup(all, m1));
	CHECK(same_rollup(all, m2));
	CHECK(crm_rfm_count(all) == 997);
	CHECK(days_right(all, 20000));
	crm_rfm_close(all);
	crm_rfm_close(m1);
	crm_rfm_close(m2);
	for (i = 0; i < 3; i++)
		crm_rfm_close(part[i]);

	/* Refunds alone make a customer known without purchases; keys sort
	 * bytewise, a prefix first. */
	CHECK(crm_rfm_open(0, &all) == 0 &&
	    crm_rfm_open(CRM_RFM_FDAYS, &m1) == 0);
	CHECK(crm_rfm_merge(all, m1) == CRM_EINVAL);
	crm_rfm_close(m1);
	CHECK(crm_rfm_add(all, "bb", 2, CRM_RFM_REFUND, 5, dec("3.5")) == 0);
	CHECK(crm_rfm_add(all, "b", 1, CRM_RFM_OTHER, 5, dec("0")) == 0);
	CHECK(crm_rfm_add(all, "a", 1, CRM_RFM_PURCHASE, 9, dec("10")) == 0);
	CHECK(crm_rfm_add(all, "a", 1, CRM_RFM_PURCHASE, 7, dec("0.25")) == 0);
	CHECK(crm_rfm_add(all, "a", 1, CRM_RFM_REFUND, 8, dec("1")) == 0);
	CHECK(crm_rfm_add(all, "a", 1, CRM_RFM_PURCHASE, 1,
		  dec("900000000000000000")) == CRM_ETOOBIG);
	CHECK(
	    crm_rfm_sorted(all, &k, &kl, &st) == 0 && crm_rfm_count(all) == 3);
	CHECK(kl[0] == 1 && k[0][0] == 'a' && st[0].purchases == 2 &&
	    st[0].first == 7 && st[0].last == 9 &&
	    crm_dec_cmp(st[0].revenue, dec("9.25")) == 0);
	CHECK(kl[1] == 1 && k[1][0] == 'b' && st[1].purchases == 0 &&
	    st[1].revenue.v == 0);
	CHECK(kl[2] == 2 && st[2].purchases == 0 &&
	    crm_dec_cmp(st[2].revenue, dec("-3.5")) == 0);
	crm_rfm_close(all);
	crm_rfm_close(NULL);
}

static const char *
seg(const struct crm_rfm_table *t, int r, int f, int m)
{
	struct crm_rfm_score s = { (unsigned char)r, (unsigned char)f,
		(unsigned char)m };

	return crm_rfm_segment(t, &s);
}

/* Loads text as a config file; returns the table or NULL with err set. */
static struct crm_rfm_table *
table_of(const char *text, char *err, size_t errlen)
{
	struct crm_config *cf = NULL;
	struct crm_rfm_table *t = NULL;
	char path[] = "/tmp/unit-score-XXXXXX";
	int fd = mkstemp(path);
	FILE *fp = fd >= 0 ? fdopen(fd, "w") : NULL;

	err[0] = '\0';
	if (fp == NULL)
		return NULL;
	fputs(text, fp);
	fclose(fp);
	if (crm_config_load(path, &cf, err, errlen) == 0) {
		if (crm_rfm_table_load(cf, &t, err, errlen))
			t = NULL;
		crm_config_free(cf);
	}
	unlink(path);
	return t;
}

static void
test_segments(void)
{
	struct crm_rfm_table *t;
	char err[300];
	int r, f, m, all = 1;

	CHECK(crm_rfm_table_load(NULL, &t, err, sizeof(err)) == 0);
	CHECK(strcmp(seg(t, 5, 5, 5), "Champions") == 0);
	CHECK(strcmp(seg(t, 4, 4, 4), "Champions") == 0);
	CHECK(strcmp(seg(t, 3, 5, 3), "Loyal Customers") == 0);
	CHECK(strcmp(seg(t, 5, 1, 5), "New Customers") == 0);
	CHECK(strcmp(seg(t, 4, 1, 2), "Promising") == 0);
	CHECK(strcmp(seg(t, 5, 3, 2), "Potential Loyalist") == 0);
	CHECK(strcmp(seg(t, 3, 2, 5), "Need Attention") == 0);
	CHECK(strcmp(seg(t, 3, 1, 1), "About To Sleep") == 0);
	CHECK(strcmp(seg(t, 1, 5, 4), "Can't Lose Them") == 0);
	CHECK(strcmp(seg(t, 2, 5, 5), "At Risk") == 0);
	CHECK(strcmp(seg(t, 1, 3, 3), "At Risk") == 0);
	CHECK(strcmp(seg(t, 2, 1, 1), "Hibernating") == 0);
	CHECK(strcmp(seg(t, 2, 5, 1), "Hibernating") == 0);
	CHECK(strcmp(seg(t, 1, 1, 1), "Lost") == 0);
	CHECK(strcmp(seg(t, 1, 5, 2), "Lost") == 0);
	CHECK(strcmp(seg(t, 0, 0, 0), "No Purchases") == 0);
	for (r = 1; r <= 5; r++)
		for (f = 1; f <= 5; f++)
			for (m = 1; m <= 5; m++)
				all &= seg(t, r, f, m)[0] != '\0';
	CHECK(all);
	crm_rfm_table_free(t);
	crm_rfm_table_free(NULL);

	t = table_of("rfm:\n  none: Prospects\n  segments:\n"
		     "    - {name: Best, r: 5, f: 4-5}\n"
		     "    - name: Rest\n      m: 1-3\n",
	    err, sizeof(err));
	CHECK(t != NULL);
	if (t != NULL) {
		CHECK(strcmp(seg(t, 5, 4, 1), "Best") == 0);
		CHECK(strcmp(seg(t, 4, 4, 2), "Rest") == 0);
		CHECK(strcmp(seg(t, 4, 4, 5), "") == 0);
		CHECK(strcmp(seg(t, 0, 0, 0), "Prospects") == 0);
		crm_rfm_table_free(t);
	}
	/* Only the none segment changes: the built-in rules stay. */
	t = table_of("rfm:\n  none: Leads\n", err, sizeof(err));
	CHECK(t != NULL && strcmp(seg(t, 1, 1, 1), "Lost") == 0 &&
	    strcmp(seg(t, 0, 0, 0), "Leads") == 0);
	crm_rfm_table_free(t);
	/* Errors name the line of the fault. */
	CHECK(table_of("rfm:\n  segments:\n    - name: X\n      r: 6\n", err,
		  sizeof(err)) == NULL &&
	    strstr(err, ":4: rfm: r must be a score 1-5") != NULL);
	CHECK(table_of("rfm:\n  segments:\n    - name: X\n      r: 4-2\n", err,
		  sizeof(err)) == NULL &&
	    strstr(err, ":4: ") != NULL);
	CHECK(table_of("rfm:\n  segments:\n    - r: 4\n", err, sizeof(err)) ==
		NULL &&
	    strstr(err, ":3: rfm: a segment needs a name") != NULL);
	CHECK(table_of("rfm:\n  segment: []\n", err, sizeof(err)) == NULL &&
	    strstr(err, ":2: rfm: unknown key \"segment\"") != NULL);
	CHECK(
	    table_of("rfm:\n  segments: {a: 1}\n", err, sizeof(err)) == NULL &&
	    strstr(err, ":2: rfm: segments must be a list") != NULL);
	CHECK(table_of("rfm: [1]\n", err, sizeof(err)) == NULL &&
	    strstr(err, ":1: rfm: expected a mapping") != NULL);
	CHECK(table_of("rfm:\n  segments:\n    - name: X\n      q: 1\n", err,
		  sizeof(err)) == NULL &&
	    strstr(err, ":4: rfm: unknown key \"q\" in a segment") != NULL);
}

static void
test_params(void)
{
	struct crm_clv_params p = { 7, { 0.1 + 0.2, 4.4136, 0.79, 2.43 },
		{ -9582.43, 2357, 0, 0 }, 1, { 6.25, 3.74, 15.44 },
		{ -4055.92, 946, 0, 0 } },
			      q;
	struct crm_buf b = { 0 };
	char err[200];

	CHECK(crm_clv_params_format(&p, &b) == 0);
	CHECK(crm_clv_params_parse(b.p, b.len, &q, err, sizeof(err)) == 0);
	/* 17 digits: the very same doubles come back. */
	CHECK(q.unit == 7 && q.bg.r == p.bg.r && q.bg.alpha == p.bg.alpha &&
	    q.bg.a == p.bg.a && q.bg.b == p.bg.b && q.have_gg &&
	    q.gg.p == p.gg.p && q.gg.q == p.gg.q && q.gg.gamma == p.gg.gamma);
	b.len = 0;
	p.have_gg = 0;
	p.unit = 1;
	CHECK(crm_clv_params_format(&p, &b) == 0 &&
	    crm_clv_params_parse(b.p, b.len, &q, err, sizeof(err)) == 0 &&
	    q.unit == 1 && !q.have_gg);
	crm_buf_free(&b);
#define BAD(text, want)                                                        \
	CHECK(crm_clv_params_parse(text, strlen(text), &q, err,                \
		  sizeof(err)) == CRM_EPARSE &&                                \
	    strstr(err, want) != NULL)
	BAD("unit: week\nbgnbd:\n  r: 1\n  alpha: 2\n  a: 3\n",
	    "3: bgnbd: no parameter b");
	BAD("unit: week\nbgnbd: {r: 1, alpha: 0, a: 1, b: 1}\n",
	    "2: alpha must be a positive number");
	BAD("unit: week\nbgnbd: {r: 1, alpha: nan, a: 1, b: 1}\n",
	    "alpha must be a positive number");
	BAD("unit: week\nbgnbd: {r: 1, alpha: 1e999, a: 1, b: 1}\n",
	    "alpha must be a positive number");
	BAD("unit: month\nbgnbd: {r: 1, alpha: 1, a: 1, b: 1}\n",
	    "1: unit must be week or day");
	BAD("unit: day\n", "1: no bgnbd parameters");
	BAD("unit: day\nbgnbd: [1]\n", "2: bgnbd must be a mapping");
	BAD("- 1\n", "1: expected one mapping");
	BAD("", "expected one mapping");
	BAD("unit: day\nbgnbd: {r: 1, alpha: 1, a: 1, b: 1}\n"
	    "gamma_gamma: {p: 1, q: 2}\n",
	    "3: gamma_gamma: no parameter gamma");
	CHECK(crm_clv_params_parse("a: [", 4, &q, err, sizeof(err)) ==
	    CRM_EPARSE);
#undef BAD
}

int
main(void)
{
	test_numeric();
	test_bgnbd_fixed();
	test_cdnow_fit();
	test_ntile();
	test_ntile_random();
	test_rollup();
	test_segments();
	test_params();
	return UNIT_DONE("unit-score");
}
