#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contact.h"
#include "errors.h"
#include "text.h"
#include "times.h"

struct crm_upsert {
	struct crm_txn *t, *before;	/* the write txn; the state before it */
	uint32_t *line;			/* contact id -> first line, dense */
	size_t nline;
	struct crm_map far;		/* the same for ids past the dense range */
	struct crm_rec cur, pre;
	struct crm_buf tmp;
};

static int
why_col(char *why, size_t whylen, const char *name, size_t nlen,
    const char *fmt, const char *v, size_t vn)
{
	char msg[160];

	snprintf(msg, sizeof(msg), fmt, (int)(vn > 80 ? 80 : vn), v);
	snprintf(why, whylen, "column \"%.*s\": %s", (int)(nlen > 60 ? 60 : nlen),
	    name, msg);
	return CRM_EINVAL;
}

static int
time_value(const char *v, size_t n, struct crm_buf *out)
{
	char buf[CRM_TIME_LEN];
	int64_t t;

	if (crm_time_parse(v, n, &t, NULL))
		return CRM_EINVAL;
	crm_time_format(t, buf);
	return crm_buf_add(out, buf, CRM_TIME_LEN - 1);
}

static int
core_value(const struct crm_config *cf, int col, const char *v, size_t n,
    int tagsep, struct crm_buf *out, const char **fmt)
{
	char tmp[256];
	size_t len;
	int b;

	switch (col) {
	case CRM_COL_EMAIL:
		*fmt = "invalid email \"%.*s\"";
		if (n > 254 || crm_email_norm(v, n, tmp, &len))
			return CRM_EINVAL;
		return crm_buf_add(out, tmp, len);
	case CRM_COL_STAGE:
		*fmt = "stage \"%.*s\" is not allowed";
		return crm_config_stage_ok(cf, v, n) ? crm_buf_add(out, v, n) :
		    CRM_EINVAL;
	case CRM_COL_TAGS:
		return crm_tags_norm(v, n, tagsep, out);
	case CRM_COL_EMAIL_OPT_IN:
		*fmt = "not a bool \"%.*s\"";
		if (crm_bool_parse(v, n, &b))
			return CRM_EINVAL;
		return crm_buf_adds(out, b ? "true" : "false");
	case CRM_COL_CONSENT_AT:
	case CRM_COL_CREATED_AT:
	case CRM_COL_UPDATED_AT:
		*fmt = "invalid time \"%.*s\"";
		return time_value(v, n, out);
	case CRM_COL_EXT_ID:
		*fmt = "ext_id longer than 400 bytes: \"%.*s\"";
		if (n > 400)
			return CRM_EINVAL;
	}
	return crm_buf_add(out, v, n);
}

int
crm_contact_value(const struct crm_config *cf, int col, const char *name,
    size_t nlen, const char *v, size_t n, int tagsep, struct crm_buf *out,
    char *why, size_t whylen)
{
	const struct crm_fielddef *d;
	const char *fmt = "invalid value \"%.*s\"";
	size_t bad;
	char msg[160];
	int rc;

	if (col != CRM_COL_CUSTOM) {
		name = crm_col_names[col];
		nlen = strlen(name);
	}
	out->len = 0;
	if (!crm_utf8_valid(v, n, &bad)) {
		snprintf(msg, sizeof(msg), "invalid UTF-8 at byte %zu", bad + 1);
		return why_col(why, whylen, name, nlen, "%.*s", msg, strlen(msg));
	}
	if (col != CRM_COL_CUSTOM) {
		crm_trim(&v, &n);
		if (n == 0)
			return 0;
		if ((rc = core_value(cf, col, v, n, tagsep, out, &fmt)) ==
		    CRM_EINVAL)
			return why_col(why, whylen, name, nlen, fmt, v, n);
		return rc;
	}
	if (n == 0)
		return 0;
	if ((d = crm_config_field(cf, name, nlen)) == NULL)
		return crm_buf_add(out, v, n);
	if ((rc = crm_type_check(d, v, n, out, msg, sizeof(msg))) == CRM_EINVAL)
		return why_col(why, whylen, name, nlen, "%.*s", msg, strlen(msg));
	return rc;
}

int
crm_upsert_begin(struct crm_store *st, struct crm_txn *t,
    struct crm_upsert **out)
{
	struct crm_upsert *u;
	int rc;

	if ((u = calloc(1, sizeof(*u))) == NULL)
		return CRM_ENOMEM;
	u->t = t;
	/* Begun while t holds the write lock, this snapshot is the state t
	 * started from: what was stored before this session. */
	if ((rc = crm_txn_begin(st, CRM_F_RDONLY, &u->before))) {
		free(u);
		return rc;
	}
	*out = u;
	return 0;
}

void
crm_upsert_next_input(struct crm_upsert *u)
{
	if (u->line)
		memset(u->line, 0, u->nline * sizeof(*u->line));
	crm_map_clear(&u->far);
}

/* Ids are dense (the store hands them out in order), so the lines of the
 * contacts a session touched live in an array; ids from elsewhere far
 * beyond it go to a map. */
static int
touched(struct crm_upsert *u, uint64_t id, uint64_t *line)
{
	if (id < u->nline) {
		*line = u->line[id];
		return *line != 0;
	}
	return crm_map_get(&u->far, &id, sizeof(id), line);
}

static int
touch(struct crm_upsert *u, uint64_t id, long line)
{
	uint64_t x;
	size_t n;
	uint32_t *p;

	if (line <= 0 || touched(u, id, &x))
		return 0;
	if (id >= u->nline && id < u->nline * 2 + (1 << 20)) {
		n = (u->nline * 2 + (1 << 20));
		if ((p = realloc(u->line, n * sizeof(*p))) == NULL)
			return CRM_ENOMEM;
		memset(p + u->nline, 0, (n - u->nline) * sizeof(*p));
		u->line = p;
		u->nline = n;
	}
	if (id < u->nline) {
		u->line[id] = line > UINT32_MAX ? UINT32_MAX : (uint32_t)line;
		return 0;
	}
	return crm_map_put(&u->far, &id, sizeof(id), (uint64_t)line);
}

void
crm_upsert_end(struct crm_upsert *u)
{
	if (u == NULL)
		return;
	crm_txn_abort(u->before);
	free(u->line);
	crm_map_free(&u->far);
	crm_rec_free(&u->cur);
	crm_rec_free(&u->pre);
	crm_buf_free(&u->tmp);
	free(u);
}

static const char *
getc_(const struct crm_rec *r, int col, size_t *n)
{
	return crm_rec_get(r, col, NULL, 0, n);
}

static int
same(const char *a, size_t an, const char *b, size_t bn)
{
	if (a == NULL || b == NULL)
		return a == b;
	return an == bn && memcmp(a, b, an) == 0;
}

/* Consent, creation and update times follow their own rules below. */
static int
own_rules(int col)
{
	return col == CRM_COL_EMAIL_OPT_IN || col == CRM_COL_CONSENT_AT ||
	    col == CRM_COL_CONSENT_SOURCE || col == CRM_COL_CREATED_AT ||
	    col == CRM_COL_UPDATED_AT;
}

/* A later row of this session may fill what is empty, or repeat a value,
 * but not replace a value an earlier row of the session set. */
static int
contradicts(struct crm_upsert *u, const struct crm_rec *row, uint64_t line,
    char *why, size_t whylen)
{
	size_t i, nl, rl, cl, pl;
	const char *nm, *rv, *cv, *pv;
	int have_pre = crm_contact_get(u->before, u->cur.id, &u->pre) == 0;

	for (i = 0; i < row->n; i++) {
		if (own_rules(row->f[i].col))
			continue;
		nm = crm_rec_name(row, i, &nl);
		rv = crm_rec_val(row, i, &rl);
		cv = crm_rec_get(&u->cur, row->f[i].col, nm, nl, &cl);
		if (cv == NULL || same(rv, rl, cv, cl))
			continue;
		pv = have_pre ? crm_rec_get(&u->pre, row->f[i].col, nm, nl, &pl) :
		    NULL;
		if (!same(cv, cl, pv, pl)) {
			snprintf(why, whylen, "column \"%.*s\": \"%.*s\" "
			    "conflicts with \"%.*s\" on line %llu", (int)nl, nm,
			    (int)(rl > 60 ? 60 : rl), rv, (int)(cl > 60 ? 60 : cl),
			    cv, (unsigned long long)line);
			return CRM_EINVAL;
		}
	}
	return 0;
}

/* Finds the contact the row is about; *id 0 means a new contact. */
static int
resolve(struct crm_upsert *u, const struct crm_rec *row, uint64_t *id,
    int *exists, char *why, size_t whylen)
{
	static const int cols[CRM_NIDX] = { CRM_COL_EMAIL, CRM_COL_EXT_ID };
	uint64_t owner[CRM_NIDX] = { 0, 0 };
	const char *k;
	size_t n;
	int i, rc;

	*id = row->id;
	*exists = 0;
	for (i = CRM_NIDX - 1; i >= 0; i--) {
		if ((k = getc_(row, cols[i], &n)) == NULL)
			continue;
		rc = crm_index_get(u->t, i, k, n, &owner[i]);
		if (rc && rc != CRM_ENOTFOUND)
			return rc;
		if (*id == 0)
			*id = owner[i];
	}
	for (i = 0; i < CRM_NIDX; i++) {
		if (owner[i] && owner[i] != *id) {
			k = getc_(row, cols[i], &n);
			snprintf(why, whylen, "column \"%s\": \"%.*s\" belongs "
			    "to contact %llu", crm_col_names[cols[i]],
			    (int)(n > 80 ? 80 : n), k,
			    (unsigned long long)owner[i]);
			return CRM_EINVAL;
		}
	}
	if (*id == 0)
		return 0;
	rc = crm_contact_get(u->t, *id, &u->cur);
	if (rc == CRM_ENOTFOUND && row->id)
		return 0;	/* an id from another store: created as is */
	*exists = rc == 0;
	return rc;
}

static int
merge_consent(struct crm_rec *res, const struct crm_rec *row,
    const struct crm_upsert_opts *o)
{
	size_t vl, al, sl, ol;
	const char *v = getc_(row, CRM_COL_EMAIL_OPT_IN, &vl);
	const char *at = getc_(row, CRM_COL_CONSENT_AT, &al);
	const char *src = getc_(row, CRM_COL_CONSENT_SOURCE, &sl);
	const char *old;
	const char *oldv = getc_(res, CRM_COL_EMAIL_OPT_IN, &ol);
	char now[CRM_TIME_LEN];
	int rc;

	/* The three consent fields change together, from an answer only. */
	if (v == NULL)
		return 0;
	if (at == NULL && oldv != NULL && same(v, vl, oldv, strlen(oldv)))
		return 0;	/* the same answer again proves nothing new */
	if (at == NULL) {
		crm_time_format(o->now, now);
		at = now;
		al = CRM_TIME_LEN - 1;
	}
	old = getc_(res, CRM_COL_CONSENT_AT, &ol);
	/* Times in normal form compare as strings: an older answer loses. */
	if (old != NULL && (al < ol || memcmp(at, old, al) < 0))
		return 0;
	if (src == NULL && o->consent_source != NULL) {
		src = o->consent_source;
		sl = strlen(src);
	}
	if ((rc = crm_rec_set(res, CRM_COL_EMAIL_OPT_IN, NULL, 0, v, vl)) ||
	    (rc = crm_rec_set(res, CRM_COL_CONSENT_AT, NULL, 0, at, al)))
		return rc;
	return src ? crm_rec_set(res, CRM_COL_CONSENT_SOURCE, NULL, 0, src, sl)
	    : 0;
}

static int
merge_tags(struct crm_upsert *u, struct crm_rec *res, const char *v,
    size_t vl, const struct crm_upsert_opts *o)
{
	size_t cl = 0;
	const char *cur = getc_(res, CRM_COL_TAGS, &cl);
	int rc;

	if (o->add_tags || o->untag) {
		if (v && (rc = crm_tags_edit(cur, cur ? cl : 0, v, vl, '+',
		    &u->tmp)))
			return rc;
		if (v) {
			cur = u->tmp.p;
			cl = u->tmp.len;
		}
		if (o->untag) {
			struct crm_buf t = { 0 };

			rc = crm_tags_edit(cur, cur ? cl : 0, o->untag,
			    strlen(o->untag), '-', &t);
			if (rc == 0)
				rc = crm_rec_set(res, CRM_COL_TAGS, NULL, 0, t.p,
				    t.len);
			crm_buf_free(&t);
			return rc;
		}
		return crm_rec_set(res, CRM_COL_TAGS, NULL, 0, cur, cur ? cl : 0);
	}
	return v ? crm_rec_set(res, CRM_COL_TAGS, NULL, 0, v, vl) : 0;
}

/* Whether two records hold the same fields, whatever their order. */
static int
rec_equal(const struct crm_rec *a, const struct crm_rec *b)
{
	size_t i, nl, al, bl;
	const char *nm, *av, *bv;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++) {
		nm = crm_rec_name(a, i, &nl);
		av = crm_rec_val(a, i, &al);
		bv = crm_rec_get(b, a->f[i].col, nm, nl, &bl);
		if (!same(av, al, bv, bl))
			return 0;
	}
	return 1;
}

static int
merge(struct crm_upsert *u, const struct crm_rec *row, int exists,
    const struct crm_upsert_opts *o, struct crm_rec *res)
{
	size_t i, nl, vl, tl = 0;
	const char *nm, *v, *tags = getc_(row, CRM_COL_TAGS, &tl);
	char now[CRM_TIME_LEN];
	int rc = 0;

	crm_time_format(o->now, now);
	for (i = 0; rc == 0 && i < row->n; i++) {
		if (own_rules(row->f[i].col) || row->f[i].col == CRM_COL_TAGS)
			continue;
		nm = crm_rec_name(row, i, &nl);
		v = crm_rec_val(row, i, &vl);
		rc = crm_rec_set(res, row->f[i].col, nm, nl, v, vl);
	}
	if (rc || (rc = merge_tags(u, res, tags, tl, o)) ||
	    (rc = merge_consent(res, row, o)))
		return rc;
	if ((v = getc_(row, CRM_COL_CREATED_AT, &vl)) != NULL)
		rc = crm_rec_set(res, CRM_COL_CREATED_AT, NULL, 0, v, vl);
	else if (!exists)
		rc = crm_rec_set(res, CRM_COL_CREATED_AT, NULL, 0, now,
		    CRM_TIME_LEN - 1);
	if (rc || (exists && rec_equal(res, &u->cur)))
		return rc;
	if ((v = getc_(row, CRM_COL_UPDATED_AT, &vl)) == NULL) {
		v = now;
		vl = CRM_TIME_LEN - 1;
	}
	return crm_rec_set(res, CRM_COL_UPDATED_AT, NULL, 0, v, vl);
}

/* Moves the unique keys of the contact from old to new values. */
static int
reindex(struct crm_upsert *u, const struct crm_rec *old,
    const struct crm_rec *res)
{
	static const int cols[CRM_NIDX] = { CRM_COL_EMAIL, CRM_COL_EXT_ID };
	size_t on = 0, nn = 0, i, nl;
	const char *ov, *nv, *nm;
	int k, rc = 0;

	for (k = 0; rc == 0 && k < CRM_NIDX; k++) {
		ov = old ? getc_(old, cols[k], &on) : NULL;
		nv = getc_(res, cols[k], &nn);
		if (same(ov, on, nv, nn))
			continue;
		if (ov && (rc = crm_index_del(u->t, k, ov, on)))
			break;
		if (nv)
			rc = crm_index_put(u->t, k, nv, nn, res->id);
	}
	for (i = 0; rc == 0 && i < res->n; i++) {
		if (res->f[i].col != CRM_COL_CUSTOM)
			continue;
		nm = crm_rec_name(res, i, &nl);
		rc = crm_field_note(u->t, nm, nl);
	}
	return rc;
}

int
crm_upsert_row(struct crm_upsert *u, const struct crm_upsert_opts *o,
    const struct crm_rec *row, long line, struct crm_rec *res, int *status,
    char *why, size_t whylen)
{
	uint64_t id, first;
	int exists, rc;

	if (row->id == 0 && getc_(row, CRM_COL_EMAIL, NULL) == NULL &&
	    getc_(row, CRM_COL_EXT_ID, NULL) == NULL) {
		snprintf(why, whylen, "row has no id, ext_id or email");
		return CRM_EINVAL;
	}
	if ((rc = resolve(u, row, &id, &exists, why, whylen)))
		return rc;
	if (exists && touched(u, id, &first) &&
	    (rc = contradicts(u, row, first, why, whylen)))
		return rc;
	if (exists) {
		if ((rc = crm_rec_copy(res, &u->cur)))
			return rc;
	} else {
		crm_rec_clear(res);
		crm_rec_clear(&u->cur);
		id = id ? id : crm_txn_new_id(u->t);
	}
	res->id = id;
	if ((rc = merge(u, row, exists, o, res)))
		return rc;
	*status = !exists ? CRM_UP_CREATED : rec_equal(res, &u->cur) ?
	    CRM_UP_UNCHANGED : CRM_UP_UPDATED;
	if (*status != CRM_UP_UNCHANGED &&
	    ((rc = crm_contact_put(u->t, res)) ||
	    (rc = reindex(u, exists ? &u->cur : NULL, res))))
		return rc;
	return touch(u, id, line);
}
