/*
 * The expression language: compiling any text, formatting its error, and
 * evaluating what compiles against a row, with the properties crm-expr(7)
 * promises. The input is the expression, a newline, a header line and a
 * row line, cells separated by commas.
 */
/* First: it sets _GNU_SOURCE for memfd_create(2). */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crm.h"
#include "expr.h"

#define NOW 1716163200 /* 2024-05-20T00:00:00Z */
#define MAXCELLS 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

/* Splits the line at *p (up to a newline) into NUL-terminated cells. */
static size_t
cells(char **p, char *v[], size_t len[])
{
	char *s = *p, *e = s + strcspn(s, "\n"), *c;
	size_t k = 0;

	*p = *e ? e + 1 : e;
	*e = '\0';
	for (c = s; k < MAXCELLS; c++) {
		v[k] = c;
		c += strcspn(c, ",");
		len[k] = (size_t)(c - v[k]);
		k++;
		if (*c == '\0')
			break;
		*c = '\0';
	}
	return k;
}

static void
check_error(const char *src, const struct crm_expr_err *err)
{
	char out[512];
	int k;

	if (err->pos > strlen(src) || err->msg[0] == '\0')
		abort();
	k = crm_expr_format(src, err, "  ", out, sizeof(out));
	if (k < 0 || ((size_t)k < sizeof(out) && strlen(out) != (size_t)k))
		abort();
}

/* not (e) is the negation of e in three-valued logic. */
static void
check_not(const char *src, char *const *h, size_t nh, char *const *v,
    const size_t *len, size_t nv, int r)
{
	struct crm_expr *e;
	struct crm_expr_err err;
	char *neg = malloc(strlen(src) + 8);
	int t;

	if (neg == NULL)
		return;
	sprintf(neg, "not (%s)", src);
	if (crm_expr_compile(neg, (const char *const *)h, nh, NULL, NOW, 0, &e,
		&err) == 0) {
		t = crm_expr_eval(e, (const char *const *)v, len, nv);
		if (t != (r == CRM_EXPR_UNKNOWN ? r : !r))
			abort();
		crm_expr_close(e);
	} else if (strstr(err.msg, "nested") == NULL)
		abort(); /* a comment or a quote in src could do this */
	free(neg);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	char *buf, *p, *src, *h[MAXCELLS], *v[MAXCELLS];
	size_t hl[MAXCELLS], vl[MAXCELLS], nh, nv;
	struct crm_expr *e;
	struct crm_expr_err err;
	int r;

	if ((buf = malloc(n + 1)) == NULL)
		return 0;
	memcpy(buf, data, n);
	buf[n] = '\0';
	src = buf;
	p = buf + strcspn(buf, "\n");
	if (*p)
		*p++ = '\0';
	nh = cells(&p, h, hl);
	nv = cells(&p, v, vl);
	if (crm_expr_compile(src, (const char *const *)h, nh, NULL, NOW, 0, &e,
		&err) != 0)
		check_error(src, &err);
	else {
		r = crm_expr_eval(e, (const char *const *)v, vl, nv);
		if (r < 0 || r > 2 ||
		    crm_expr_match(e, (const char *const *)v, vl, nv) !=
			(r == CRM_EXPR_TRUE))
			abort();
		crm_expr_close(e);
		check_not(src, h, nh, v, vl, nv, r);
	}
	/* Any column allowed: for rows that name their own columns. */
	if (crm_expr_compile(src, NULL, 0, NULL, NOW, CRM_EXPR_ANYCOL, &e,
		&err) == 0) {
		if (crm_expr_added(e) > strlen(src))
			abort();
		crm_expr_eval(e, (const char *const *)v, vl, nv);
		crm_expr_close(e);
	}
	free(buf);
	return 0;
}
