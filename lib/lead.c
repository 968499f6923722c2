#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "expr.h"
#include "lead.h"
#include "ydoc.h"

struct rule {
	char *name;
	double points;
	struct crm_expr *when; /* a field rule */
	char *type;            /* an event rule */
	double half_life, cap; /* seconds (0: none); 0: no cap */
	double acc;            /* the row's points so far */
};

struct crm_lead {
	struct rule *r;
	size_t n;
	int64_t now;
	int events;
};

/* A duration such as 30d, 2w, 6mo, 1y (a month is 30 days, a year 365). */
static int
duration(const char *s, double *secs)
{
	char *end;
	double x = strtod(s, &end);

	if (end == s || x <= 0)
		return -1;
	if (strcmp(end, "d") == 0)
		*secs = x * 86400;
	else if (strcmp(end, "w") == 0)
		*secs = x * 7 * 86400;
	else if (strcmp(end, "mo") == 0)
		*secs = x * 30 * 86400;
	else if (strcmp(end, "y") == 0)
		*secs = x * 365 * 86400;
	else if (strcmp(end, "h") == 0)
		*secs = x * 3600;
	else
		return -1;
	return 0;
}

static int
number(const char *s, double *x)
{
	char *end;

	*x = strtod(s, &end);
	return end == s || *end != '\0' || !isfinite(*x) ? -1 : 0;
}

struct load {
	const struct crm_config *cf;
	const char *const *names;
	size_t n;
	int64_t now;
	char *err;
	size_t errlen;
};

static int
bad(struct load *ld, const struct crm_ynode *node, const char *msg)
{
	return crm_config_error(ld->cf, node, ld->err, ld->errlen, "%s", msg);
}

static const struct crm_ynode *
scalar(const struct crm_ynode *map, const char *key)
{
	const struct crm_ynode *v = crm_ydoc_get(map, key);

	return v != NULL && v->kind == CRM_Y_SCALAR ? v : NULL;
}

static int
load_when(struct load *ld, const struct crm_ynode *w, struct rule *r)
{
	struct crm_expr_err e;
	char shown[600], msg[800];
	int rc;

	rc = crm_expr_compile(w->s, ld->names, ld->n, ld->cf, ld->now, 0,
	    &r->when, &e);
	if (rc == CRM_ENOMEM)
		return rc;
	if (rc) {
		crm_expr_format(w->s, &e, "  ", shown, sizeof(shown));
		snprintf(msg, sizeof(msg), "lead rule: %s", shown);
		return bad(ld, w, msg);
	}
	return 0;
}

static int
load_rule(struct load *ld, const struct crm_ynode *m, struct rule *r, int ev,
    size_t i)
{
	const struct crm_ynode *p, *w, *h, *c, *nm;
	char name[64];

	if (m->kind != CRM_Y_MAP)
		return bad(ld, m, "a lead rule is a mapping");
	if ((p = scalar(m, "points")) == NULL || number(p->s, &r->points))
		return bad(ld, p ? p : m,
		    "a lead rule needs points (a number)");
	nm = scalar(m, "name");
	if (ev) {
		if ((w = scalar(m, "type")) == NULL || w->slen == 0)
			return bad(ld, m, "an event rule needs a type");
		if ((r->type = strdup(w->s)) == NULL)
			return CRM_ENOMEM;
		if ((h = scalar(m, "half_life")) &&
		    duration(h->s, &r->half_life))
			return bad(ld, h,
			    "half_life is a duration such as 30d");
		if ((c = scalar(m, "cap")) &&
		    (number(c->s, &r->cap) || r->cap <= 0))
			return bad(ld, c, "cap is a positive number");
		snprintf(name, sizeof(name), "%s", w->s);
	} else {
		if ((w = scalar(m, "when")) == NULL)
			return bad(ld, m,
			    "a field rule needs when: an expression");
		if (load_when(ld, w, r))
			return CRM_ECONFIG;
		snprintf(name, sizeof(name), "rule%zu", i + 1);
	}
	r->name = strdup(nm ? nm->s : name);
	return r->name == NULL ? CRM_ENOMEM : 0;
}

static int
load_list(struct load *ld, struct crm_lead *l, const struct crm_ynode *seq,
    int ev)
{
	struct rule *r;
	size_t i;
	int rc;

	if (seq == NULL)
		return 0;
	if (seq->kind != CRM_Y_SEQ)
		return bad(ld, seq,
		    ev ? "lead events: a list of rules" :
			 "lead rules: a list of rules");
	r = realloc(l->r, (l->n + seq->n) * sizeof(*r));
	if (r == NULL)
		return CRM_ENOMEM;
	l->r = r;
	for (i = 0; i < seq->n; i++) {
		memset(&l->r[l->n], 0, sizeof(l->r[l->n]));
		rc = load_rule(ld, seq->kid[i], &l->r[l->n], ev, i);
		l->n++;
		if (rc)
			return rc;
		l->events |= ev;
	}
	return 0;
}

int
crm_lead_load(const struct crm_config *cf, const char *const *names, size_t n,
    int64_t now, struct crm_lead **out, char *err, size_t errlen)
{
	struct load ld = { cf, names, n, now, err, errlen };
	const struct crm_ynode *sec = crm_config_section(cf, "lead");
	struct crm_lead *l;
	int rc;

	if (sec == NULL) {
		snprintf(err, errlen,
		    "no lead section in the config (see crm-score(1))");
		return CRM_ECONFIG;
	}
	if (sec->kind != CRM_Y_MAP)
		return bad(&ld, sec, "lead: a mapping of rules and events");
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return CRM_ENOMEM;
	l->now = now;
	if ((rc = load_list(&ld, l, crm_ydoc_get(sec, "rules"), 0)) == 0 &&
	    (rc = load_list(&ld, l, crm_ydoc_get(sec, "events"), 1)) == 0 &&
	    l->n == 0)
		rc = bad(&ld, sec, "lead: no rules and no events");
	if (rc) {
		crm_lead_close(l);
		return rc;
	}
	*out = l;
	return 0;
}

void
crm_lead_close(struct crm_lead *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n; i++) {
		free(l->r[i].name);
		free(l->r[i].type);
		crm_expr_close(l->r[i].when);
	}
	free(l->r);
	free(l);
}

int
crm_lead_wants_events(const struct crm_lead *l)
{
	return l->events;
}

void
crm_lead_begin(struct crm_lead *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		l->r[i].acc = 0;
}

void
crm_lead_event(struct crm_lead *l, const char *type, size_t tlen, int64_t ts)
{
	struct rule *r;
	double age;
	size_t i;

	if (ts > l->now)
		return;
	age = (double)(l->now - ts);
	for (i = 0; i < l->n; i++) {
		r = &l->r[i];
		if (r->type == NULL || strlen(r->type) != tlen ||
		    memcmp(r->type, type, tlen) != 0)
			continue;
		r->acc += r->half_life > 0 ?
		    r->points * exp2(-age / r->half_life) :
		    r->points;
	}
}

int
crm_lead_end(struct crm_lead *l, const char *const *v, const size_t *len,
    size_t n, double *score, struct crm_buf *explain)
{
	char item[120];
	struct rule *r;
	double pts;
	size_t i;
	int rc = 0;

	*score = 0;
	if (explain != NULL)
		explain->len = 0;
	for (i = 0; i < l->n; i++) {
		r = &l->r[i];
		if (r->when != NULL)
			pts =
			    crm_expr_match(r->when, v, len, n) ? r->points : 0;
		else
			pts = r->cap > 0 && r->acc > r->cap ? r->cap : r->acc;
		*score += pts;
		if (explain == NULL || pts == 0)
			continue;
		snprintf(item, sizeof(item), "%s%s:%.4g",
		    explain->len ? ";" : "", r->name, pts);
		rc |= crm_buf_adds(explain, item);
	}
	return rc ? CRM_ENOMEM : 0;
}
