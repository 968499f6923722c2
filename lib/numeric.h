/*
 * Special functions and a minimiser for the statistical models (clv.h).
 * Doubles live here and in the models only; money stays in dec.h.
 *
 * The log-gamma function is lgamma(3) of the C library (C99), which is
 * accurate to a few ulp on glibc and musl; it writes the global signgam,
 * so these functions must not run on two threads at once. Every argument
 * the models pass is positive, where lgamma is well defined.
 */
#ifndef CRM_NUMERIC_H
#define CRM_NUMERIC_H

#include <stddef.h>

/* ln B(a, b) = ln Gamma(a) + ln Gamma(b) - ln Gamma(a + b), a, b > 0. */
double crm_num_lbeta(double a, double b);
/* ln(e^x + e^y) without overflow or underflow: the larger term factored
 * out. Either may be -HUGE_VAL (a term that is absent). */
double crm_num_logsumexp(double x, double y);

/*
 * The Gauss hypergeometric function 2F1(a, b; c; z) for a, b, c > 0 and
 * 0 <= z < 1, by its power series. Every term is positive there, so the
 * sum suffers no cancellation; it stops when a term no longer changes the
 * sum and the remaining tail, bounded by a geometric series, is below
 * the double's precision. Returns 0, or CRM_EINVAL for arguments outside
 * that domain or a series that has not converged after 10^6 terms (z
 * very close to 1).
 */
int crm_num_hyp2f1(double a, double b, double c, double z, double *out);

/* Options of crm_num_minimize; zero fields take the defaults shown. */
struct crm_num_opts {
	double step;  /* initial simplex edge (1.0) */
	double ftol;  /* stop when the values differ by less (1e-10) ... */
	double xtol;  /* ... and the vertices by less than this (1e-9) */
	int maxeval;  /* evaluations allowed in all (20000) */
	int restarts; /* fresh simplexes at the optimum found (3) */
};

/*
 * Minimises f over R^n (n <= 8) by the Nelder-Mead simplex method with the
 * standard coefficients (reflection 1, expansion 2, contraction 1/2,
 * shrink 1/2; Lagarias et al. 1998), starting at x. A non-finite value of
 * f counts as +infinity, so f may refuse points outside its domain. When
 * the simplex has converged it is built afresh around the best point and
 * the search repeats, which guards against the method's known stalls on
 * long curved valleys; it stops when a restart improves nothing.
 * On return x is the best point and *fx its value; *nevals (if not NULL)
 * counts the evaluations. Returns 0, CRM_EINVAL if f(x) is not finite at
 * the start or n is out of range, or CRM_ETOOBIG if maxeval was reached
 * before convergence (x is then the best point found).
 */
int crm_num_minimize(double (*f)(const double *x, void *ctx), void *ctx,
    size_t n, double *x, double *fx, const struct crm_num_opts *opts,
    int *nevals);

#endif
