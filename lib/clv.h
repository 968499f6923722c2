/*
 * Customer lifetime value: the BG/NBD model of repeat purchasing (Fader,
 * Hardie and Lee 2005a, "Counting your customers the easy way", Marketing
 * Science 24(2)) and the Gamma-Gamma model of spend per transaction (Fader,
 * Hardie and Lee 2005b, "RFM and CLV", JMR 42(4); Fader and Hardie 2013,
 * "The Gamma-Gamma model of monetary value"), fitted by maximum likelihood.
 *
 * A customer is summarised as the literature does: x repeat purchases (the
 * first purchase is not counted), tx the time from the first purchase to
 * the last, T the time from the first purchase to the end of calibration,
 * all in one unit of time chosen by the caller (weeks for the published
 * CDNOW figures). Spend is the mean value of the repeat purchases. These
 * functions use doubles: they are statistical estimates, never money sums.
 */
#ifndef CRM_CLV_H
#define CRM_CLV_H

#include <stddef.h>

#include "buf.h"

/* BG/NBD: purchase rate ~ Gamma(r, alpha), dropout p ~ Beta(a, b). */
struct crm_bgnbd {
	double r, alpha, a, b;
};

/* Gamma-Gamma: spend ~ Gamma(p, nu), nu ~ Gamma(q, gamma). */
struct crm_gg {
	double p, q, gamma;
};

struct crm_clv_obs {
	double x, tx, T;
};

struct crm_gg_obs {
	double x, zbar; /* x >= 1 repeat purchases of mean value zbar > 0 */
};

/* A fit's outcome: the log-likelihood at the optimum, the number of
 * customers and of distinct summaries it ran over, its evaluations. */
struct crm_fit {
	double ll;
	size_t n, distinct;
	int evals;
};

/*
 * The log-likelihood of one customer, in the stable form: the two terms
 * of the likelihood are added as logarithms (log-sum-exp), so that large
 * x or T never overflow or underflow a power.
 */
double crm_bgnbd_ll(const struct crm_bgnbd *m, double x, double tx, double T);
/* P(alive | x, tx, T). */
double crm_bgnbd_palive(const struct crm_bgnbd *m, double x, double tx,
    double T);
/* E[X(t)]: purchases in (0, t] of a customer who has just made the first.
 * These return 0 or CRM_EINVAL (crm_num_hyp2f1). */
int crm_bgnbd_expect(const struct crm_bgnbd *m, double t, double *out);
/* E[Y(t) | x, tx, T]: purchases in (T, T + t]. */
int crm_bgnbd_cond(const struct crm_bgnbd *m, double x, double tx, double T,
    double t, double *out);
/*
 * Maximum likelihood over n customers (x a whole number >= 0, 0 <= tx <=
 * T, x == 0 when tx == 0 does not hold is allowed as given). Customers
 * with the same (x, tx, T) are counted once with a weight, which on real
 * data leaves a fraction of them. Nelder-Mead runs on the logarithms of
 * the parameters, which keeps them positive without constraints. m holds
 * the result. Returns 0, CRM_EINVAL (no customer, or an observation out of
 * range), CRM_ENOMEM, or CRM_ETOOBIG (no convergence; m is the best point).
 */
int crm_bgnbd_fit(const struct crm_clv_obs *o, size_t n, struct crm_bgnbd *m,
    struct crm_fit *fit);

double crm_gg_ll(const struct crm_gg *m, double x, double zbar);
/* The population mean spend p gamma / (q - 1), or HUGE_VAL if q <= 1. */
double crm_gg_mean(const struct crm_gg *m);
/* E[Z | x, zbar] = (p (gamma + x zbar)) / (p x + q - 1); x == 0 gives
 * the population mean. */
double crm_gg_expect(const struct crm_gg *m, double x, double zbar);
/* Maximum likelihood over n repeat buyers (x >= 1, zbar > 0). */
int crm_gg_fit(const struct crm_gg_obs *o, size_t n, struct crm_gg *m,
    struct crm_fit *fit);

/*
 * Discounted value of the next h periods: spend times the sum over
 * k = 1..h of (E[Y(k)] - E[Y(k - 1)]) / (1 + d)^k, the expected purchases
 * of each period discounted to the end of calibration at rate d per
 * period. With d == 0 it is spend * E[Y(h)].
 */
int crm_clv_value(const struct crm_bgnbd *m, double x, double tx, double T,
    double spend, int h, double d, double *out);

/*
 * A fitted model as a parameter file: YAML with the unit, the BG/NBD
 * parameters and, if fitted, the Gamma-Gamma ones (crm-score(1) shows
 * one). Parameters are written with 17 significant digits, so that a
 * model read back scores exactly as the one written.
 */
struct crm_clv_params {
	int unit; /* days per unit of time: 7 (week) or 1 (day) */
	struct crm_bgnbd bg;
	struct crm_fit bgfit; /* ll and n are written; 0 if unknown */
	int have_gg;
	struct crm_gg gg;
	struct crm_fit ggfit;
};

int crm_clv_params_format(const struct crm_clv_params *p, struct crm_buf *out);
/* Reads text[0..n). Returns 0, CRM_ENOMEM, or CRM_EPARSE with err
 * "LINE: message". */
int crm_clv_params_parse(const char *text, size_t n, struct crm_clv_params *p,
    char *err, size_t errlen);

#endif
