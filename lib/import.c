#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contact.h"
#include "dec.h"
#include "errors.h"
#include "import.h"
#include "text.h"
#include "times.h"

enum { P_DROP, P_ID, P_CORE, P_CUSTOM, P_IN, P_OUT };

struct plan {
	int kind, col;
	size_t idx;       /* P_IN, P_OUT: place in the mapping's list */
	const char *name; /* P_CORE, P_CUSTOM: the target's name */
	size_t nlen;
	int plain; /* a value of plain text is taken as it is (below) */
};

struct crm_import {
	const struct crm_config *cf;
	const struct crm_mapping *map;
	char **mfrom, **mto;
	size_t nmap;
	struct plan *plan;
	char **names; /* the header's names, owned */
	size_t nplan;
	struct crm_rec *out; /* the record being built */
	struct crm_buf val;
};

static int
in_list(char *const *v, size_t n, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strlen(v[i]) == len && memcmp(v[i], s, len) == 0)
			return (int)i;
	return -1;
}

/* What an input column becomes: --map, then the mapping, then its name. */
static void
plan_for(struct crm_import *c, const char *name, size_t n, struct plan *p)
{
	const struct crm_mapping *m = c->map;
	const char *to = name;
	int i;

	memset(p, 0, sizeof(*p));
	crm_trim(&name, &n);
	to = name;
	if ((i = in_list(c->mfrom, c->nmap, name, n)) >= 0)
		to = c->mto[i];
	else if (m && (i = in_list(m->opt_out, m->nout, name, n)) >= 0) {
		p->kind = P_OUT;
		p->idx = (size_t)i;
		return;
	} else if (m && (i = in_list(m->opt_in, m->nin, name, n)) >= 0) {
		p->kind = P_IN;
		p->idx = (size_t)i;
		return;
	} else if (m && (i = in_list(m->from, m->ncols, name, n)) >= 0)
		to = m->to[i];
	if (to != name)
		n = to ? strlen(to) : 0;
	if (n == 0 || (n == 5 && memcmp(to, "_line", 5) == 0) ||
	    (n == 6 && memcmp(to, "_error", 6) == 0) ||
	    (n == 4 && memcmp(to, "_raw", 4) == 0)) {
		p->kind = P_DROP;
		return;
	}
	p->col = crm_col_lookup(to, n);
	p->kind = p->col == -1 ? P_ID :
	    p->col == -2       ? P_DROP :
	    p->col > 0         ? P_CORE :
				 P_CUSTOM;
	p->name = to;
	p->nlen = n;
	/* Names, phones, untyped custom fields...: a value that is plain
	 * text needs no call to crm_contact_value_ref(), which would give
	 * it back as it is; most of the values of a large import are such. */
	p->plain = p->kind == P_CORE ? crm_contact_plain(p->col) :
	    p->kind == P_CUSTOM      ? crm_config_field(c->cf, to, n) == NULL :
				       0;
}

static int
same_target(const struct plan *a, const struct plan *b)
{
	if (a->kind != b->kind || a->kind == P_DROP)
		return 0;
	if (a->kind == P_CORE)
		return a->col == b->col;
	if (a->kind == P_CUSTOM)
		return a->nlen == b->nlen &&
		    memcmp(a->name, b->name, a->nlen) == 0;
	return a->kind == P_ID || a->idx == b->idx;
}

static void
free_names(struct crm_import *c)
{
	size_t i;

	for (i = 0; c->names && i < c->nplan; i++)
		free(c->names[i]);
	free(c->names);
	free(c->plan);
	c->names = NULL;
	c->plan = NULL;
	c->nplan = 0;
}

/* A header that cannot be used leaves none: its rows, if a caller went on,
 * would be read as rows that name their own columns, not as a table with
 * two columns of one target (crm_import_row() adds a table's fields
 * without looking for one already there). */
static int
bad_header(struct crm_import *c, int rc)
{
	free_names(c);
	return rc;
}

int
crm_import_header(struct crm_import *c, const char *const *h, size_t n,
    char *why, size_t whylen)
{
	size_t i, k;

	free_names(c);
	if (n > CRM_REC_MAXFIELDS) {
		snprintf(why, whylen,
		    "%zu columns; a contact row has at most %d", n,
		    CRM_REC_MAXFIELDS);
		return CRM_EINVAL;
	}
	if ((c->plan = calloc(n + 1, sizeof(*c->plan))) == NULL ||
	    (c->names = calloc(n + 1, sizeof(char *))) == NULL)
		return bad_header(c, CRM_ENOMEM);
	c->nplan = n;
	for (i = 0; i < n; i++) {
		if ((c->names[i] = strdup(h[i])) == NULL)
			return bad_header(c, CRM_ENOMEM);
		if (h[i][strspn(h[i], " \t")] == '\0') {
			snprintf(why, whylen, "column %zu has no name", i + 1);
			return bad_header(c, CRM_EINVAL);
		}
		plan_for(c, c->names[i], strlen(c->names[i]), &c->plan[i]);
		for (k = 0; k < i; k++)
			if (same_target(&c->plan[k], &c->plan[i])) {
				snprintf(why, whylen,
				    "duplicate column \"%.*s\"", 100, h[i]);
				return bad_header(c, CRM_EINVAL);
			}
	}
	return 0;
}

/* A consent column of the mapping: the time it holds, normalised. */
static int
consent_time(const char *name, const char *v, size_t n, char *out, char *why,
    size_t whylen)
{
	int64_t t;

	crm_trim(&v, &n);
	if (crm_time_parse(v, n, &t, NULL) == 0) {
		crm_time_format(t, out);
		return 0;
	}
	snprintf(why, whylen, "column \"%s\": invalid time \"%.*s\"", name,
	    (int)(n > 60 ? 60 : n), v);
	return CRM_EINVAL;
}

static int
set_consent(struct crm_import *c, const char *in, const char *out)
{
	const char *at = out ? out : in;

	if (at == NULL)
		return 0;
	if (crm_rec_set(c->out, CRM_COL_EMAIL_OPT_IN, NULL, 0,
		out ? "false" : "true", out ? 5 : 4))
		return CRM_ENOMEM;
	return crm_rec_set(c->out, CRM_COL_CONSENT_AT, NULL, 0, at,
	    CRM_TIME_LEN - 1);
}

static int
apply_set(struct crm_import *c, char *why, size_t whylen)
{
	const struct crm_mapping *m = c->map;
	size_t i, nl;
	int col, rc;

	for (i = 0; m && i < m->nset; i++) {
		nl = strlen(m->setf[i]);
		col = crm_col_lookup(m->setf[i], nl);
		if (col < 0)
			continue;
		if ((rc = crm_contact_value(c->cf, col, m->setf[i], nl,
			 m->setv[i], strlen(m->setv[i]), ';', &c->val, why,
			 whylen)) ||
		    (rc = crm_rec_set(c->out, col, m->setf[i], nl, c->val.p,
			 c->val.len)))
			return rc;
	}
	return 0;
}

/*
 * A CSV or TSV reader gives a row's values in one buffer (r->onebuf), most
 * each followed by a NUL: copied into rec at once, at *base, they need no
 * copy each. *lo is where the copy starts in the reader's buffer, NULL if
 * the values are not known to lie together.
 */
static int
take_row(struct crm_rec *rec, const struct crm_inrow *r, const char **lo,
    uint32_t *base)
{
	const char *a, *b;
	size_t i;
	int rc;

	*lo = NULL;
	if (!r->onebuf || r->n == 0)
		return 0;
	a = r->val[0];
	b = r->val[0] + r->vlen[0];
	for (i = 1; i < r->n; i++) {
		if (r->val[i] < a)
			a = r->val[i];
		if (r->val[i] + r->vlen[i] > b)
			b = r->val[i] + r->vlen[i];
	}
	if ((rc = crm_rec_stash(rec, a, (size_t)(b - a), base)))
		return rc;
	*lo = a;
	return 0;
}

int
crm_import_row(struct crm_import *c, const struct crm_inrow *r, int table,
    struct crm_rec *rec, char *why, size_t whylen)
{
	char tin[CRM_TIME_LEN], tout[CRM_TIME_LEN];
	const char *v, *lo = NULL;
	size_t vn, i, bestin = SIZE_MAX, bestout = SIZE_MAX;
	uint32_t base = 0;
	int tagsep = c->map ? c->map->tagsep : ';', rc;
	struct plan pl, *p;

	c->out = rec;
	crm_rec_clear(rec);
	if (table && (rc = take_row(rec, r, &lo, &base)))
		return rc;
	for (i = 0; i < r->n; i++) {
		if (r->name[i] == NULL)
			continue;
		p = table && i < c->nplan ? &c->plan[i] : &pl;
		if (p == &pl)
			plan_for(c, r->name[i], r->nlen[i], &pl);
		switch (p->kind) {
		case P_ID:
			if (r->vlen[i] &&
			    crm_id_parse(r->val[i], r->vlen[i], &c->out->id)) {
				snprintf(why, whylen,
				    "column \"id\": invalid id "
				    "\"%.*s\"",
				    (int)(r->vlen[i] > 40 ? 40 : r->vlen[i]),
				    r->val[i]);
				return CRM_EINVAL;
			}
			break;
		case P_CORE:
		case P_CUSTOM:
			if (r->vlen[i] == 0)
				break; /* nothing to set, nothing to check */
			if (p->plain && crm_text_plain(r->val[i], r->vlen[i])) {
				v = r->val[i];
				vn = r->vlen[i];
				/* in the record already, NUL-terminated */
				if (lo != NULL && p != &pl &&
				    rec->arena.p[base + (size_t)(v - lo) +
					vn] == '\0') {
					if ((rc = crm_rec_add_at(rec, p->col,
						 p->name, p->nlen,
						 base + (uint32_t)(v - lo),
						 vn)))
						return rc;
					break;
				}
			} else if ((rc = crm_contact_value_ref(c->cf, p->col,
					p->name, p->nlen, r->val[i], r->vlen[i],
					tagsep, &c->val, &v, &vn, why, whylen)))
				return rc;
			if (vn == 0)
				break; /* blank: sets nothing */
			/* A table's columns have distinct targets (see
			 * crm_import_header()): no need to look for one. */
			if ((rc = p == &pl ? crm_rec_set(c->out, p->col,
						 p->name, p->nlen, v, vn) :
					     crm_rec_add(c->out, p->col,
						 p->name, p->nlen, v, vn)))
				return rc;
			break;
		case P_IN:
		case P_OUT:
			if (r->vlen[i] == 0 ||
			    p->idx >= (p->kind == P_IN ? bestin : bestout))
				break;
			if (consent_time(r->name[i], r->val[i], r->vlen[i],
				p->kind == P_IN ? tin : tout, why, whylen))
				return CRM_EINVAL;
			*(p->kind == P_IN ? &bestin : &bestout) = p->idx;
			break;
		}
	}
	if ((rc = apply_set(c, why, whylen)))
		return rc;
	return set_consent(c, bestin != SIZE_MAX ? tin : NULL,
	    bestout != SIZE_MAX ? tout : NULL);
}

size_t
crm_import_custom(const struct crm_import *c, const char **names, size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < c->nplan && n < max; i++)
		if (c->plan[i].kind == P_CUSTOM)
			names[n++] = c->plan[i].name;
	return n;
}

int
crm_import_new(const struct crm_config *cf, const struct crm_mapping *m,
    char *const *from, char *const *to, size_t nmap, struct crm_import **out)
{
	struct crm_import *c;
	size_t i;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return CRM_ENOMEM;
	c->cf = cf;
	c->map = m;
	c->mfrom = calloc(nmap + 1, sizeof(char *));
	c->mto = calloc(nmap + 1, sizeof(char *));
	if (c->mfrom == NULL || c->mto == NULL) {
		crm_import_free(c);
		return CRM_ENOMEM;
	}
	for (i = 0; i < nmap; i++, c->nmap++)
		if ((c->mfrom[i] = strdup(from[i])) == NULL ||
		    (c->mto[i] = strdup(to[i])) == NULL) {
			c->nmap++;
			crm_import_free(c);
			return CRM_ENOMEM;
		}
	*out = c;
	return 0;
}

void
crm_import_free(struct crm_import *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nmap; i++) {
		free(c->mfrom[i]);
		free(c->mto[i]);
	}
	free(c->mfrom);
	free(c->mto);
	free_names(c);
	crm_buf_free(&c->val);
	free(c);
}
