#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contact.h"
#include "errors.h"
#include "text.h"
#include "times.h"

/* What the rows of one input gave for one contact. */
struct mark {
	uint32_t input; /* the input's number; 0: not touched */
	uint32_t line;  /* the first row of that input about it */
	uint32_t core;  /* core columns those rows gave, by bit */
	uint32_t spare;
	uint64_t custom; /* custom names given, by this session's bit */
};

struct crm_upsert {
	struct crm_txn *t;
	uint32_t input;
	struct mark *mark; /* by contact id: ids are dense */
	size_t nmark;
	struct crm_map far; /* id -> index in farmark, for ids past them */
	struct mark *farmark;
	size_t nfar;
	struct crm_map cbit; /* custom name -> bit number */
	struct crm_rec cur;
	struct crm_buf tmp;
	struct crm_buf enc; /* a new contact's record, prepared later */
};

static int
why_col(char *why, size_t whylen, const char *name, size_t nlen,
    const char *fmt, const char *v, size_t vn)
{
	char msg[160];

	snprintf(msg, sizeof(msg), fmt, (int)(vn > 80 ? 80 : vn), v);
	snprintf(why, whylen, "column \"%.*s\": %s",
	    (int)(nlen > 60 ? 60 : nlen), name, msg);
	return CRM_EINVAL;
}

/* A time in normal form is its own normal form (the parser is strict and
 * formats back the same, a leap second apart): then it is kept as is. */
static int
time_value(const char *v, size_t n, struct crm_buf *out, const char **rv,
    size_t *rn)
{
	char buf[CRM_TIME_LEN];
	int64_t t;

	if (crm_time_parse(v, n, &t, NULL))
		return CRM_EINVAL;
	if (n == CRM_TIME_LEN - 1 && v[10] == 'T' && v[19] == 'Z' &&
	    !(v[17] == '6' && v[18] == '0')) {
		*rv = v;
		*rn = n;
		return 0;
	}
	crm_time_format(t, buf);
	if (crm_buf_add(out, buf, CRM_TIME_LEN - 1))
		return CRM_ENOMEM;
	*rv = out->p;
	*rn = out->len;
	return 0;
}

/* The normal form of v in *rv: v itself, or what was written to out. */
static int
core_value(const struct crm_config *cf, int col, const char *v, size_t n,
    int tagsep, struct crm_buf *out, const char **fmt, const char **rv,
    size_t *rn)
{
	char tmp[256];
	size_t len;
	int b, rc, same;

	*rv = v;
	*rn = n;
	switch (col) {
	case CRM_COL_EMAIL:
		*fmt = "invalid email \"%.*s\"";
		if (n > 254 || crm_email_norm_same(v, n, tmp, &len, &same))
			return CRM_EINVAL;
		if (same)
			return 0;
		rc = crm_buf_add(out, tmp, len);
		break;
	case CRM_COL_STAGE:
		*fmt = "stage \"%.*s\" is not allowed";
		return crm_config_stage_ok(cf, v, n) ? 0 : CRM_EINVAL;
	case CRM_COL_TAGS:
		rc = crm_tags_norm(v, n, tagsep, out);
		break;
	case CRM_COL_EMAIL_OPT_IN:
		*fmt = "not a bool \"%.*s\"";
		if (crm_bool_parse(v, n, &b))
			return CRM_EINVAL;
		*rv = b ? "true" : "false";
		*rn = b ? 4 : 5;
		return 0;
	case CRM_COL_CONSENT_AT:
	case CRM_COL_CREATED_AT:
	case CRM_COL_UPDATED_AT:
		*fmt = "invalid time \"%.*s\"";
		return time_value(v, n, out, rv, rn);
	case CRM_COL_EXT_ID:
		*fmt = "ext_id longer than 400 bytes: \"%.*s\"";
		return n > 400 ? CRM_EINVAL : 0;
	default:
		return 0;
	}
	*rv = out->p;
	*rn = out->len;
	return rc;
}

int
crm_contact_plain(int col)
{
	switch (col) {
	case CRM_COL_EMAIL:
	case CRM_COL_STAGE:
	case CRM_COL_TAGS:
	case CRM_COL_EMAIL_OPT_IN:
	case CRM_COL_CONSENT_AT:
	case CRM_COL_CREATED_AT:
	case CRM_COL_UPDATED_AT:
	case CRM_COL_EXT_ID:
		return 0;
	default:
		return col > 0 && col < CRM_NCOL;
	}
}

int
crm_contact_value_ref(const struct crm_config *cf, int col, const char *name,
    size_t nlen, const char *v, size_t n, int tagsep, struct crm_buf *out,
    const char **rv, size_t *rn, char *why, size_t whylen)
{
	const struct crm_fielddef *d;
	const char *fmt = "invalid value \"%.*s\"";
	size_t bad;
	char msg[160];
	int rc;

	if (col != CRM_COL_CUSTOM) {
		name = crm_col_names[col];
		nlen = crm_col_lens[col];
	}
	out->len = 0;
	*rv = v;
	*rn = 0;
	if (!crm_utf8_valid(v, n, &bad)) {
		snprintf(msg, sizeof(msg), "invalid UTF-8 at byte %zu",
		    bad + 1);
		return why_col(why, whylen, name, nlen, "%.*s", msg,
		    strlen(msg));
	}
	if (col != CRM_COL_CUSTOM) {
		crm_trim(&v, &n);
		if (n == 0)
			return 0;
		if ((rc = core_value(cf, col, v, n, tagsep, out, &fmt, rv,
			 rn)) == CRM_EINVAL) {
			*rn = 0;
			return why_col(why, whylen, name, nlen, fmt, v, n);
		}
		return rc;
	}
	if (n == 0)
		return 0;
	if ((d = crm_config_field(cf, name, nlen)) == NULL) {
		*rn = n;
		return 0;
	}
	/* A typed value is a value of its type: white space around it goes. */
	crm_trim(&v, &n);
	if (n == 0)
		return 0;
	if ((rc = crm_type_check(d, v, n, out, msg, sizeof(msg))) == CRM_EINVAL)
		return why_col(why, whylen, name, nlen, "%.*s", msg,
		    strlen(msg));
	*rv = out->p;
	*rn = out->len;
	return rc;
}

int
crm_contact_value(const struct crm_config *cf, int col, const char *name,
    size_t nlen, const char *v, size_t n, int tagsep, struct crm_buf *out,
    char *why, size_t whylen)
{
	const char *rv;
	size_t rn;
	int rc;

	rc = crm_contact_value_ref(cf, col, name, nlen, v, n, tagsep, out, &rv,
	    &rn, why, whylen);
	if (rc == 0 && rv != out->p) {
		out->len = 0;
		rc = crm_buf_add(out, rv, rn);
	}
	if (rc)
		out->len = 0;
	return rc;
}

int
crm_upsert_begin(struct crm_store *st, struct crm_txn *t,
    struct crm_upsert **out)
{
	struct crm_upsert *u;

	(void)st;
	if ((u = calloc(1, sizeof(*u))) == NULL)
		return CRM_ENOMEM;
	u->t = t;
	u->input = 1;
	*out = u;
	return 0;
}

void
crm_upsert_txn(struct crm_upsert *u, struct crm_txn *t)
{
	u->t = t;
}

void
crm_upsert_next_input(struct crm_upsert *u)
{
	u->input++;
}

void
crm_upsert_end(struct crm_upsert *u)
{
	if (u == NULL)
		return;
	free(u->mark);
	free(u->farmark);
	crm_map_free(&u->far);
	crm_map_free(&u->cbit);
	crm_rec_free(&u->cur);
	crm_buf_free(&u->tmp);
	crm_buf_free(&u->enc);
	free(u);
}

/* The mark of a contact: in an array by id (the store hands ids out in
 * order), or for ids far beyond it in a map. NULL if out of memory. */
static struct mark *
mark_of(struct crm_upsert *u, uint64_t id)
{
	struct mark *p;
	uint64_t k;
	size_t n;

	if (id >= u->nmark && id < u->nmark * 2 + (1 << 20)) {
		n = u->nmark * 2 + (1 << 20);
		if ((p = realloc(u->mark, n * sizeof(*p))) == NULL)
			return NULL;
		memset(p + u->nmark, 0, (n - u->nmark) * sizeof(*p));
		u->mark = p;
		u->nmark = n;
	}
	if (id < u->nmark)
		return &u->mark[id];
	if (crm_map_get(&u->far, &id, sizeof(id), &k))
		return &u->farmark[k];
	if ((u->nfar & (u->nfar - 1)) == 0) {
		p = realloc(u->farmark,
		    (u->nfar ? u->nfar * 2 : 1) * sizeof(*p));
		if (p == NULL)
			return NULL;
		u->farmark = p;
	}
	if (crm_map_put(&u->far, &id, sizeof(id), u->nfar))
		return NULL;
	memset(&u->farmark[u->nfar], 0, sizeof(*p));
	return &u->farmark[u->nfar++];
}

/* The bit of a custom name; 64 and up mean "not tracked". */
static unsigned
custom_bit(struct crm_upsert *u, const char *name, size_t n)
{
	uint64_t b;

	if (crm_map_get(&u->cbit, name, n, &b))
		return (unsigned)b;
	b = u->cbit.n;
	if (b < 64 && crm_map_put(&u->cbit, name, n, b))
		return 64;
	return b < 64 ? (unsigned)b : 64;
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

/*
 * Two rows of one input about one contact must not give it different
 * values. A field that an earlier row of this input gave holds that value
 * now (rows overwrite), so a later row contradicts it when it gives
 * another. Custom names past the 64th are compared whatever gave them.
 */
static int
contradicts(struct crm_upsert *u, const struct crm_rec *row,
    const struct mark *m, char *why, size_t whylen)
{
	size_t i, nl, rl, cl;
	const char *nm, *rv, *cv;
	unsigned bit;
	int col;

	for (i = 0; i < row->n; i++) {
		col = row->f[i].col;
		if (own_rules(col))
			continue;
		nm = crm_rec_name(row, i, &nl);
		if (col != CRM_COL_CUSTOM && !(m->core & 1u << col))
			continue;
		if (col == CRM_COL_CUSTOM &&
		    (bit = custom_bit(u, nm, nl)) < 64 &&
		    !(m->custom & (uint64_t)1 << bit))
			continue;
		rv = crm_rec_val(row, i, &rl);
		cv = crm_rec_get(&u->cur, col, nm, nl, &cl);
		if (cv == NULL || same(rv, rl, cv, cl))
			continue;
		snprintf(why, whylen,
		    "column \"%.*s\": \"%.*s\" conflicts with "
		    "\"%.*s\" given earlier (contact first seen on line %lu)",
		    (int)nl, nm, (int)(rl > 60 ? 60 : rl), rv,
		    (int)(cl > 60 ? 60 : cl), cv, (unsigned long)m->line);
		return CRM_EINVAL;
	}
	return 0;
}

/* Notes what the row gave, for the rows of this input still to come. */
static int
remember(struct crm_upsert *u, uint64_t id, const struct crm_rec *row,
    long line)
{
	struct mark *m = mark_of(u, id);
	size_t i, nl;
	const char *nm;
	unsigned bit;

	if (m == NULL)
		return CRM_ENOMEM;
	if (m->input != u->input) {
		memset(m, 0, sizeof(*m));
		m->input = u->input;
		m->line = line > 0 && line < UINT32_MAX ? (uint32_t)line : 0;
	}
	for (i = 0; i < row->n; i++) {
		if (row->f[i].col != CRM_COL_CUSTOM) {
			m->core |= 1u << row->f[i].col;
			continue;
		}
		nm = crm_rec_name(row, i, &nl);
		if ((bit = custom_bit(u, nm, nl)) < 64)
			m->custom |= (uint64_t)1 << bit;
	}
	return 0;
}

/* The core columns of the unique keys, by index number. */
#define NKEYS 2
static const int keycols[NKEYS] = { CRM_COL_EMAIL, CRM_COL_EXT_ID };

/* Finds the contact the row is about; *id 0 means a new contact. */
static int
resolve(struct crm_upsert *u, const struct crm_rec *row,
    const struct crm_upsert_prep *p, uint64_t *id, int *exists, char *why,
    size_t whylen)
{
	const int *cols = keycols;
	uint64_t owner[NKEYS] = { 0, 0 };
	const char *k;
	size_t n;
	int i, rc;

	*id = row->id;
	*exists = 0;
	/* A row with an id merged into another contact (crm-merge) updates
	 * that one, rather than bringing the merged contact back. */
	if (*id && crm_contact_resolve(u->t, *id, &owner[0]) == 0)
		*id = owner[0];
	owner[0] = 0;
	for (i = NKEYS - 1; i >= 0; i--) {
		if ((k = getc_(row, cols[i], &n)) == NULL)
			continue;
		rc = p != NULL && p->has[i] ?
		    crm_index_get_hashed(u->t, i, p->h[i], k, n, &owner[i]) :
		    crm_index_get(u->t, i, k, n, &owner[i]);
		if (rc && rc != CRM_ENOTFOUND)
			return rc;
		if (*id == 0)
			*id = owner[i];
	}
	for (i = 0; i < NKEYS; i++) {
		if (owner[i] && owner[i] != *id) {
			k = getc_(row, cols[i], &n);
			snprintf(why, whylen,
			    "column \"%s\": \"%.*s\" belongs "
			    "to contact %llu",
			    crm_col_names[cols[i]], (int)(n > 80 ? 80 : n), k,
			    (unsigned long long)owner[i]);
			return CRM_EINVAL;
		}
	}
	if (*id == 0)
		return 0;
	rc = crm_contact_get(u->t, *id, &u->cur);
	if (rc == CRM_ENOTFOUND && row->id)
		return 0; /* an id from another store: created as is */
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
		return 0; /* the same answer again proves nothing new */
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
	return src ?
	    crm_rec_set(res, CRM_COL_CONSENT_SOURCE, NULL, 0, src, sl) :
	    0;
}

static int
merge_tags(struct crm_buf *tmp, struct crm_rec *res, const char *v, size_t vl,
    const struct crm_upsert_opts *o)
{
	size_t cl = 0;
	const char *cur = getc_(res, CRM_COL_TAGS, &cl);
	int rc;

	if (o->add_tags || o->untag) {
		if (v &&
		    (rc = crm_tags_edit(cur, cur ? cl : 0, v, vl, '+', tmp)))
			return rc;
		if (v) {
			cur = tmp->p;
			cl = tmp->len;
		}
		if (o->untag) {
			struct crm_buf t = { 0 };

			rc = crm_tags_edit(cur, cur ? cl : 0, o->untag,
			    strlen(o->untag), '-', &t);
			if (rc == 0)
				rc = crm_rec_set(res, CRM_COL_TAGS, NULL, 0,
				    t.p, t.len);
			crm_buf_free(&t);
			return rc;
		}
		return crm_rec_set(res, CRM_COL_TAGS, NULL, 0, cur,
		    cur ? cl : 0);
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

/* The row applied to res, which holds the stored contact (cur, if it
 * exists) or nothing; tmp is scratch. */
static int
merge(struct crm_buf *tmp, const struct crm_rec *row, const struct crm_rec *cur,
    const struct crm_upsert_opts *o, struct crm_rec *res)
{
	int exists = cur != NULL;
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
	if (rc || (rc = merge_tags(tmp, res, tags, tl, o)) ||
	    (rc = merge_consent(res, row, o)))
		return rc;
	if ((v = getc_(row, CRM_COL_CREATED_AT, &vl)) != NULL)
		rc = crm_rec_set(res, CRM_COL_CREATED_AT, NULL, 0, v, vl);
	else if (!exists)
		rc = crm_rec_set(res, CRM_COL_CREATED_AT, NULL, 0, now,
		    CRM_TIME_LEN - 1);
	if (rc || (exists && rec_equal(res, cur)))
		return rc;
	if ((v = getc_(row, CRM_COL_UPDATED_AT, &vl)) == NULL) {
		v = now;
		vl = CRM_TIME_LEN - 1;
	}
	return crm_rec_set(res, CRM_COL_UPDATED_AT, NULL, 0, v, vl);
}

/* Moves the unique keys of contact id from old to new values (res); p,
 * if given, holds the hashes of res's keys. */
static int
reindex(struct crm_upsert *u, const struct crm_rec *old,
    const struct crm_rec *res, uint64_t id, const struct crm_upsert_prep *p)
{
	const int *cols = keycols;
	size_t on = 0, nn = 0, i, nl;
	const char *ov, *nv, *nm;
	int k, rc = 0;

	for (k = 0; rc == 0 && k < NKEYS; k++) {
		ov = old ? getc_(old, cols[k], &on) : NULL;
		nv = getc_(res, cols[k], &nn);
		if (same(ov, on, nv, nn))
			continue;
		if (ov && (rc = crm_index_del(u->t, k, ov, on)))
			break;
		if (nv && p != NULL && p->has[k])
			rc = crm_index_put_hashed(u->t, k, p->h[k], nv, nn, id);
		else if (nv)
			rc = crm_index_put(u->t, k, nv, nn, id);
	}
	for (i = 0; rc == 0 && i < res->n; i++) {
		if (res->f[i].col != CRM_COL_CUSTOM)
			continue;
		nm = crm_rec_name(res, i, &nl);
		rc = crm_field_note(u->t, nm, nl);
	}
	return rc;
}

/*
 * What merge() makes of the row for a new contact, encoded straight from
 * the row: its fields in their order but for tags and the fields with
 * rules of their own, then tags, the consent answer with its time and
 * source, created_at and updated_at (unit.c holds the two to the same
 * bytes). Not for the options that edit tags.
 */
static int
encode_new(const struct crm_upsert_opts *o, const struct crm_strtab *tab,
    const struct crm_rec *row, struct crm_buf *out)
{
	size_t i, nl, vl, al, sl;
	const char *nm, *v, *at, *src;
	int rc, col;

	if ((rc = crm_rec_encode_begin(out)))
		return rc;
	for (i = 0; i < row->n; i++) {
		col = row->f[i].col;
		if (own_rules(col) || col == CRM_COL_TAGS)
			continue;
		nm = crm_rec_name(row, i, &nl);
		v = crm_rec_val(row, i, &vl);
		if ((rc = crm_rec_encode_field(out, tab, col, nm, nl, v, vl)))
			return rc;
	}
	if ((v = getc_(row, CRM_COL_TAGS, &vl)) != NULL &&
	    (rc = crm_rec_encode_field(out, tab, CRM_COL_TAGS, NULL, 0, v, vl)))
		return rc;
	if ((v = getc_(row, CRM_COL_EMAIL_OPT_IN, &vl)) != NULL) {
		at = getc_(row, CRM_COL_CONSENT_AT, &al);
		if ((src = getc_(row, CRM_COL_CONSENT_SOURCE, &sl)) == NULL &&
		    (src = o->consent_source) != NULL)
			sl = strlen(src);
		if ((rc = crm_rec_encode_field(out, tab, CRM_COL_EMAIL_OPT_IN,
			 NULL, 0, v, vl)) ||
		    (rc = at ? crm_rec_encode_field(out, tab,
				   CRM_COL_CONSENT_AT, NULL, 0, at, al) :
			       crm_rec_encode_time(out, CRM_COL_CONSENT_AT,
				   o->now)) ||
		    (src &&
			(rc = crm_rec_encode_field(out, tab,
			     CRM_COL_CONSENT_SOURCE, NULL, 0, src, sl))))
			return rc;
	}
	if ((rc = (v = getc_(row, CRM_COL_CREATED_AT, &vl)) != NULL ?
		    crm_rec_encode_field(out, tab, CRM_COL_CREATED_AT, NULL, 0,
			v, vl) :
		    crm_rec_encode_time(out, CRM_COL_CREATED_AT, o->now)))
		return rc;
	return (v = getc_(row, CRM_COL_UPDATED_AT, &vl)) != NULL ?
	    crm_rec_encode_field(out, tab, CRM_COL_UPDATED_AT, NULL, 0, v, vl) :
	    crm_rec_encode_time(out, CRM_COL_UPDATED_AT, o->now);
}

/* The hashes of the row's keys, and no record yet. */
static void
hash_keys(const struct crm_rec *row, struct crm_upsert_prep *p)
{
	const char *k;
	size_t n;
	int i;

	p->enc.len = 0;
	for (i = 0; i < NKEYS; i++) {
		k = getc_(row, keycols[i], &n);
		p->has[i] = k != NULL;
		p->h[i] = k != NULL ? crm_map_hash(k, n) : 0;
	}
}

void
crm_upsert_prepare_keys(const struct crm_rec *row, struct crm_upsert_prep *p)
{
	hash_keys(row, p);
	p->later = 1;
}

int
crm_upsert_prepare(const struct crm_upsert_opts *o, const struct crm_rec *row,
    struct crm_rec *res, struct crm_buf *tmp, struct crm_upsert_prep *p)
{
	int rc;

	hash_keys(row, p);
	p->later = 0;
	if (o->add_tags || o->untag) {
		crm_rec_clear(res);
		if ((rc = merge(tmp, row, NULL, o, res)) == 0)
			rc = crm_rec_encode_with(res, o->strs, &p->enc);
	} else
		rc = encode_new(o, o->strs, row, &p->enc);
	if (rc)
		p->enc.len = 0;
	return rc == CRM_ENOMEM ? rc : 0;
}

void
crm_upsert_prefetch(struct crm_upsert *u, const struct crm_upsert_prep *p,
    int stage)
{
	int i;

	for (i = 0; i < NKEYS; i++)
		if (p->has[i])
			crm_index_prefetch(u->t, i, p->h[i], stage);
}

int
crm_upsert_row(struct crm_upsert *u, const struct crm_upsert_opts *o,
    const struct crm_rec *row, long line, struct crm_rec *res, int *status,
    char *why, size_t whylen)
{
	return crm_upsert_row_prep(u, o, row, NULL, line, res, status, why,
	    whylen);
}

int
crm_upsert_row_prep(struct crm_upsert *u, const struct crm_upsert_opts *o,
    const struct crm_rec *row, const struct crm_upsert_prep *p, long line,
    struct crm_rec *res, int *status, char *why, size_t whylen)
{
	struct mark *m;
	const struct crm_buf *enc = p != NULL ? &p->enc : NULL;
	uint64_t id;
	int exists, rc;

	if (row->id == 0 && getc_(row, CRM_COL_EMAIL, NULL) == NULL &&
	    getc_(row, CRM_COL_EXT_ID, NULL) == NULL) {
		snprintf(why, whylen, "row has no id, ext_id or email");
		return CRM_EINVAL;
	}
	if ((rc = resolve(u, row, p, &id, &exists, why, whylen)))
		return rc;
	/* A row prepared for its keys only is encoded now that it is known
	 * to be a new contact (or, with the options that edit tags, or if
	 * that fails, merged below as any other). */
	if (!exists && p != NULL && p->later) {
		u->enc.len = 0;
		if (!o->add_tags && !o->untag &&
		    (rc = encode_new(o, crm_txn_strtab(u->t), row, &u->enc)) !=
			0) {
			if (rc == CRM_ENOMEM)
				return rc;
			u->enc.len = 0;
		}
		enc = &u->enc;
	}
	/* A new contact: its record is the prepared one, its keys the row's. */
	if (!exists && enc != NULL && enc->len > 0) {
		id = id ? id : crm_txn_new_id(u->t);
		crm_rec_clear(res);
		res->id = id;
		*status = CRM_UP_CREATED;
		if ((rc = crm_contact_put_enc(u->t, id, enc->p, enc->len)) ||
		    (rc = reindex(u, NULL, row, id, p)))
			return rc;
		return remember(u, id, row, line);
	}
	if (exists && (m = mark_of(u, id)) == NULL)
		return CRM_ENOMEM;
	if (exists && m->input == u->input &&
	    (rc = contradicts(u, row, m, why, whylen)))
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
	if ((rc = merge(&u->tmp, row, exists ? &u->cur : NULL, o, res)))
		return rc;
	*status = !exists           ? CRM_UP_CREATED :
	    rec_equal(res, &u->cur) ? CRM_UP_UNCHANGED :
				      CRM_UP_UPDATED;
	if (*status != CRM_UP_UNCHANGED &&
	    ((rc = crm_contact_put(u->t, res)) ||
		(rc = reindex(u, exists ? &u->cur : NULL, res, res->id, NULL))))
		return rc;
	return remember(u, id, row, line);
}
