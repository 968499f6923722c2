#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "errors.h"
#include "hygiene.h"
#include "json.h"
#include "text.h"
#include "times.h"
#include "ydoc.h"

#define DAY 86400

static int64_t
day_of(int64_t ts)
{
	return ts >= 0 ? ts / DAY : -((-ts + DAY - 1) / DAY);
}

/* One event into the statistics; events come in time order. */
static int
tally(struct crm_stats *s, const struct crm_event *e, int64_t *lastday)
{
	int type = crm_evtype_lookup(e->type, e->tlen);
	struct crm_dec d = { 0, 2 };
	const char *a;
	size_t n;

	s->events++;
	if (s->first_seen == CRM_TIME_NONE)
		s->first_seen = e->ts;
	s->last_seen = e->ts;
	if (type != CRM_EV_PURCHASE && type != CRM_EV_REFUND)
		return 0;
	if ((a = crm_event_get(e, "amount", &n)) != NULL &&
	    crm_dec_parse(a, n, &d))
		return CRM_ESTORE;
	if (type == CRM_EV_REFUND)
		return crm_dec_sub(s->revenue, d, &s->revenue);
	s->purchases++;
	if (s->first_purchase == CRM_TIME_NONE)
		s->first_purchase = e->ts;
	s->last_purchase = e->ts;
	if (*lastday != day_of(e->ts) || s->purchases == 1)
		s->purchase_days++;
	*lastday = day_of(e->ts);
	return crm_dec_add(s->revenue, d, &s->revenue);
}

int
crm_stats_recompute(struct crm_txn *t, uint64_t contact, struct crm_stats *s)
{
	struct crm_evit *it;
	struct crm_event e;
	int64_t lastday = 0;
	int rc;

	crm_stats_init(s);
	if ((rc = crm_evit_open(t, contact, INT64_MIN, INT64_MAX, 0, &it)))
		return rc;
	while ((rc = crm_evit_next(it, &e)) == 0)
		if ((rc = tally(s, &e, &lastday)))
			break;
	crm_evit_close(it);
	return rc == CRM_EOF ? 0 : rc;
}

int
crm_contact_find(struct crm_txn *t, const char *ref, size_t n, uint64_t *id)
{
	char norm[256];
	size_t nn;
	int rc;

	crm_trim(&ref, &n);
	if (memchr(ref, '@', n) == NULL)
		return crm_id_parse(ref, n, id) ?
		    CRM_EINVAL :
		    crm_contact_resolve(t, *id, id);
	if (n >= sizeof(norm) || crm_email_norm(ref, n, norm, &nn))
		return CRM_EINVAL;
	if ((rc = crm_index_get(t, CRM_IDX_EMAIL, norm, nn, id)))
		return rc;
	return crm_contact_resolve(t, *id, id);
}

/*
 * A contact's events copied out of the store, so that the store can be
 * changed while they are walked: per event its key, a 4-byte length and
 * its encoded value.
 */
static int
collect(struct crm_txn *t, uint64_t contact, struct crm_buf *out, size_t *n)
{
	unsigned char key[CRM_EVKEY_LEN];
	struct crm_buf enc = { 0 };
	struct crm_evit *it;
	struct crm_event e;
	uint32_t len;
	int rc;

	out->len = 0;
	*n = 0;
	if ((rc = crm_evit_open(t, contact, INT64_MIN, INT64_MAX, 0, &it)))
		return rc;
	while ((rc = crm_evit_next(it, &e)) == 0) {
		crm_evkey_pack(e.contact, e.ts, e.id, key);
		enc.len = 0;
		if ((rc = crm_event_encode(&e, &enc)))
			break;
		len = (uint32_t)enc.len;
		if (crm_buf_add(out, key, sizeof(key)) ||
		    crm_buf_add(out, &len, 4) || crm_buf_add(out, enc.p, len)) {
			rc = CRM_ENOMEM;
			break;
		}
		(*n)++;
	}
	crm_evit_close(it);
	crm_buf_free(&enc);
	return rc == CRM_EOF ? 0 : rc;
}

/* The next collected event: its key and value; 0 at the end. */
static int
next_collected(const struct crm_buf *b, size_t *pos, const unsigned char **key,
    const unsigned char **val, uint32_t *len)
{
	if (*pos >= b->len)
		return 0;
	*key = (const unsigned char *)b->p + *pos;
	memcpy(len, *key + CRM_EVKEY_LEN, 4);
	*val = *key + CRM_EVKEY_LEN + 4;
	*pos += CRM_EVKEY_LEN + 4 + *len;
	return 1;
}

/* Notes a field name in a,b,c (once). */
static int
note_field(struct crm_buf *b, const char *name, size_t n)
{
	size_t i = 0, j;

	while (i < b->len) {
		for (j = i; j < b->len && b->p[j] != ','; j++)
			;
		if (j - i == n && memcmp(b->p + i, name, n) == 0)
			return 0;
		i = j + 1;
	}
	if (b->len && crm_buf_addc(b, ','))
		return CRM_ENOMEM;
	return crm_buf_add(b, name, n) || crm_buf_nul(b) ? CRM_ENOMEM : 0;
}

static const char *
getv(const struct crm_rec *r, int col, size_t *n)
{
	*n = 0;
	return crm_rec_get(r, col, NULL, 0, n);
}

/* keep takes the consent of drop when drop's answer is the newer one. */
static int
merge_consent(struct crm_rec *k, const struct crm_rec *d, struct crm_buf *fl)
{
	static const int cols[] = { CRM_COL_EMAIL_OPT_IN, CRM_COL_CONSENT_AT,
		CRM_COL_CONSENT_SOURCE };
	const char *kat, *dat, *v;
	size_t kn, dn, i, vn;
	int rc;

	kat = getv(k, CRM_COL_CONSENT_AT, &kn);
	dat = getv(d, CRM_COL_CONSENT_AT, &dn);
	if (getv(d, CRM_COL_EMAIL_OPT_IN, &vn) == NULL)
		return 0;
	/* Times are in one normal form, so that text order is time order. */
	if (getv(k, CRM_COL_EMAIL_OPT_IN, &vn) != NULL &&
	    (dat == NULL || (kat != NULL && strcmp(kat, dat) >= 0)))
		return 0;
	for (i = 0; i < 3; i++) {
		v = getv(d, cols[i], &vn);
		if ((rc = crm_rec_set(k, cols[i], NULL, 0, v, v ? vn : 0)) ||
		    (rc = note_field(fl, crm_col_names[cols[i]],
			 crm_col_lens[cols[i]])))
			return rc;
	}
	return 0;
}

static int
merge_tags(struct crm_rec *k, const char *dv, size_t dn, struct crm_buf *fl)
{
	struct crm_buf out = { 0 };
	const char *kv;
	size_t kn;
	int rc;

	kv = getv(k, CRM_COL_TAGS, &kn);
	if ((rc = crm_tags_edit(kv ? kv : "", kn, dv, dn, '+', &out)))
		return rc;
	if (out.len != kn || (kn > 0 && memcmp(out.p, kv, kn) != 0)) {
		rc = crm_rec_set(k, CRM_COL_TAGS, NULL, 0, out.p, out.len);
		if (rc == 0)
			rc = note_field(fl, "tags", 4);
	}
	crm_buf_free(&out);
	return rc;
}

/* keep gains drop's tags, the fields it lacks and an earlier created_at. */
static int
merge_fields(struct crm_rec *k, const struct crm_rec *d, struct crm_buf *fl)
{
	const char *name, *dv, *kv;
	size_t i, nl, dn, kn;
	int col, rc = 0;

	for (i = 0; rc == 0 && i < d->n; i++) {
		col = d->f[i].col;
		name = crm_rec_name(d, i, &nl);
		dv = crm_rec_val(d, i, &dn);
		kv = crm_rec_get(k, col, name, nl, &kn);
		switch (col) {
		case CRM_COL_TAGS:
			rc = merge_tags(k, dv, dn, fl);
			continue;
		case CRM_COL_EMAIL_OPT_IN:
		case CRM_COL_CONSENT_AT:
		case CRM_COL_CONSENT_SOURCE:
		case CRM_COL_UPDATED_AT:
			continue;
		case CRM_COL_CREATED_AT:
			if (kv != NULL && strcmp(dv, kv) >= 0)
				continue;
			break;
		default:
			if (kv != NULL)
				continue;
		}
		if ((rc = crm_rec_set(k, col, name, nl, dv, dn)) == 0)
			rc = note_field(fl, name, nl);
	}
	return rc ? rc : merge_consent(k, d, fl);
}

/* Moves every event of contact from to contact to, ids kept. */
static int
move_events(struct crm_txn *t, uint64_t from, uint64_t to, uint64_t *moved)
{
	unsigned char nk[CRM_EVKEY_LEN];
	const unsigned char *key, *val;
	struct crm_buf b = { 0 };
	uint64_t c, id;
	size_t n, pos = 0;
	uint32_t len;
	int64_t ts;
	int rc;

	if ((rc = collect(t, from, &b, &n)) == 0)
		while (next_collected(&b, &pos, &key, &val, &len)) {
			crm_evkey_unpack(key, &c, &ts, &id);
			crm_evkey_pack(to, ts, id, nk);
			if ((rc = crm_event_del(t, key)) ||
			    (rc = crm_event_put(t, nk, val, len)))
				break;
		}
	*moved = n;
	crm_buf_free(&b);
	return rc;
}

/* drop's e-mail and ext_id now find keep. */
static int
reindex(struct crm_txn *t, const struct crm_rec *d, uint64_t keep)
{
	const char *v;
	size_t n;
	int rc = 0;

	if ((v = getv(d, CRM_COL_EMAIL, &n)) != NULL)
		rc = crm_index_put(t, CRM_IDX_EMAIL, v, n, keep);
	if (rc == 0 && (v = getv(d, CRM_COL_EXT_ID, &n)) != NULL)
		rc = crm_index_put(t, CRM_IDX_EXT, v, n, keep);
	return rc;
}

static int
merge_records(struct crm_txn *t, struct crm_rec *k, struct crm_rec *d,
    int64_t now, struct crm_merge_result *res)
{
	char ts[CRM_TIME_LEN];
	struct crm_stats s;
	int rc;

	crm_time_format(now, ts);
	if ((rc = merge_fields(k, d, &res->fields)) ||
	    (rc = crm_rec_set(k, CRM_COL_UPDATED_AT, NULL, 0, ts,
		 strlen(ts))) ||
	    (rc = move_events(t, d->id, k->id, &res->events)) ||
	    (rc = reindex(t, d, k->id)) ||
	    (rc = crm_alias_put(t, d->id, k->id)) ||
	    (rc = crm_contact_put(t, k)) || (rc = crm_contact_del(t, d->id)) ||
	    (rc = crm_stats_del(t, d->id)) ||
	    (rc = crm_stats_recompute(t, k->id, &s)))
		return rc;
	return crm_stats_put(t, k->id, &s);
}

int
crm_merge(struct crm_txn *t, uint64_t keep, uint64_t drop, int64_t now,
    struct crm_merge_result *res, char *why, size_t whylen)
{
	struct crm_rec k, d;
	int rc;

	res->fields.len = 0;
	res->events = 0;
	if ((rc = crm_contact_resolve(t, keep, &res->keep)) ||
	    (rc = crm_contact_resolve(t, drop, &res->drop)))
		return rc;
	if (res->keep == res->drop) {
		snprintf(why, whylen, "name one contact (%llu)",
		    (unsigned long long)res->keep);
		return CRM_EINVAL;
	}
	crm_rec_init(&k);
	crm_rec_init(&d);
	if ((rc = crm_contact_get(t, res->keep, &k)) == 0 &&
	    (rc = crm_contact_get(t, res->drop, &d)) == 0)
		rc = merge_records(t, &k, &d, now, res);
	crm_rec_free(&k);
	crm_rec_free(&d);
	return rc;
}

void
crm_merge_result_free(struct crm_merge_result *res)
{
	crm_buf_free(&res->fields);
}

/* The privacy section: keep: {type: [field, ...], ...}. */
static int
load_keep(const struct crm_config *cf, const struct crm_ynode *keep,
    struct crm_privacy *p, char *err, size_t errlen)
{
	const struct crm_ynode *v;
	size_t i, j;

	if (keep->kind != CRM_Y_MAP)
		return crm_config_error(cf, keep, err, errlen,
		    "privacy: keep: a map of event types to field lists");
	p->ntypes = keep->n / 2;
	if ((p->types = calloc(p->ntypes + 1, sizeof(char *))) == NULL ||
	    (p->fields = calloc(p->ntypes + 1, sizeof(char **))) == NULL)
		return CRM_ENOMEM;
	for (i = 0; i < p->ntypes; i++) {
		v = keep->kid[2 * i + 1];
		if (v->kind != CRM_Y_SEQ && !v->plain_null)
			return crm_config_error(cf, v, err, errlen,
			    "privacy: keep: %s: a list of field names",
			    keep->kid[2 * i]->s);
		if ((p->types[i] = strdup(keep->kid[2 * i]->s)) == NULL ||
		    (p->fields[i] = calloc(v->n + 1, sizeof(char *))) == NULL)
			return CRM_ENOMEM;
		for (j = 0; v->kind == CRM_Y_SEQ && j < v->n; j++) {
			if (v->kid[j]->kind != CRM_Y_SCALAR)
				return crm_config_error(cf, v->kid[j], err,
				    errlen, "privacy: keep: a field name");
			if ((p->fields[i][j] = strdup(v->kid[j]->s)) == NULL)
				return CRM_ENOMEM;
		}
	}
	return 0;
}

int
crm_privacy_load(const struct crm_config *cf, struct crm_privacy *p, char *err,
    size_t errlen)
{
	const struct crm_ynode *sec = crm_config_section(cf, "privacy"), *keep;
	int rc;

	memset(p, 0, sizeof(*p));
	if (sec == NULL || sec->plain_null)
		return 0;
	if (sec->kind != CRM_Y_MAP)
		return crm_config_error(cf, sec, err, errlen,
		    "privacy: a map with the key keep");
	if ((keep = crm_ydoc_get(sec, "keep")) == NULL || keep->plain_null)
		return 0;
	if ((rc = load_keep(cf, keep, p, err, errlen)))
		crm_privacy_free(p);
	return rc;
}

void
crm_privacy_free(struct crm_privacy *p)
{
	size_t i, j;

	for (i = 0; i < p->ntypes; i++) {
		free(p->types ? p->types[i] : NULL);
		for (j = 0; p->fields && p->fields[i] && p->fields[i][j]; j++)
			free(p->fields[i][j]);
		free(p->fields ? p->fields[i] : NULL);
	}
	free(p->types);
	free(p->fields);
	memset(p, 0, sizeof(*p));
}

/* The fields kept of an event type, or NULL when none of it is kept. */
static char **
kept_fields(const struct crm_privacy *p, const struct crm_event *e)
{
	size_t i;

	for (i = 0; i < p->ntypes; i++)
		if (strlen(p->types[i]) == e->tlen &&
		    memcmp(p->types[i], e->type, e->tlen) == 0)
			return p->fields[i];
	return NULL;
}

/* e without what may not be kept: the day only, the fields allowed. */
static void
anonymise(struct crm_event *e, char **keep, uint64_t tomb, uint64_t id)
{
	size_t i, j, n = 0;

	for (i = 0; i < e->n; i++)
		for (j = 0; keep[j] != NULL; j++)
			if (strlen(keep[j]) == e->f[i].nlen &&
			    memcmp(keep[j], e->f[i].name, e->f[i].nlen) == 0) {
				e->f[n++] = e->f[i];
				break;
			}
	e->n = n;
	e->ts = day_of(e->ts) * DAY;
	e->contact = tomb;
	e->id = id;
}

struct forget {
	struct crm_txn *t;
	const struct crm_privacy *p;
	struct crm_forget_result *res;
	struct crm_map gone, events; /* contact ids, event ids erased */
	struct crm_buf b, enc;
	int idx;
};

/* One contact's events: erased, or moved to its tombstone anonymised. */
static int
forget_events(struct forget *f, uint64_t id, uint64_t *tomb)
{
	unsigned char nk[CRM_EVKEY_LEN];
	const unsigned char *key, *val;
	struct crm_event e;
	size_t n, pos = 0;
	uint32_t len;
	char **keep;
	int rc;

	if ((rc = collect(f->t, id, &f->b, &n)))
		return rc;
	while (next_collected(&f->b, &pos, &key, &val, &len)) {
		if ((rc = crm_event_decode(&e, val, len)))
			return rc;
		crm_evkey_unpack(key, &e.contact, &e.ts, &e.id);
		if ((rc = crm_map_put(&f->events, &e.id, 8, 1)) ||
		    (rc = crm_event_del(f->t, key)))
			return rc;
		f->res->events++;
		if ((keep = kept_fields(f->p, &e)) == NULL)
			continue;
		if (*tomb == 0)
			*tomb = crm_txn_new_id(f->t);
		anonymise(&e, keep, *tomb, crm_txn_new_event_id(f->t));
		crm_evkey_pack(e.contact, e.ts, e.id, nk);
		f->enc.len = 0;
		if ((rc = crm_event_encode(&e, &f->enc)) ||
		    (rc = crm_event_put(f->t, nk, f->enc.p, f->enc.len)))
			return rc;
		f->res->kept++;
	}
	return 0;
}

static int
forget_one(struct forget *f, uint64_t id)
{
	struct crm_stats s;
	uint64_t tomb = 0;
	int rc;

	if ((rc = crm_map_put(&f->gone, &id, 8, 1)) ||
	    (rc = forget_events(f, id, &tomb)) ||
	    (rc = crm_stats_del(f->t, id)) ||
	    (rc = crm_contact_del(f->t, id)) ||
	    (rc = crm_alias_del_to(f->t, id)))
		return rc;
	f->res->contacts++;
	if (tomb == 0)
		return 0;
	if ((rc = crm_stats_recompute(f->t, tomb, &s)))
		return rc;
	return crm_stats_put(f->t, tomb, &s);
}

/* An index key of an erased contact or event goes. */
static int
drop_key(void *arg, const char *k, size_t n, uint64_t id)
{
	struct forget *f = arg;
	uint64_t x;

	if (!crm_map_get(f->idx == CRM_IDX_EVKEY ? &f->events : &f->gone, &id,
		8, &x))
		return 0;
	f->res->keys++;
	return crm_index_del(f->t, f->idx, k, n);
}

int
crm_forget(struct crm_txn *t, const uint64_t *ids, size_t n,
    const struct crm_privacy *p, struct crm_forget_result *res)
{
	struct forget f = { .t = t, .p = p, .res = res };
	size_t i;
	int rc = 0;

	memset(res, 0, sizeof(*res));
	for (i = 0; rc == 0 && i < n; i++)
		rc = forget_one(&f, ids[i]);
	/* The indexes are walked once for all contacts: a retention run
	 * erases many. */
	for (f.idx = 0; rc == 0 && f.idx < CRM_NIDX; f.idx++)
		rc = crm_index_each(t, f.idx, drop_key, &f);
	crm_map_free(&f.gone);
	crm_map_free(&f.events);
	crm_buf_free(&f.b);
	crm_buf_free(&f.enc);
	return rc;
}

struct subject {
	struct crm_txn *t;
	struct crm_buf *out;
	uint64_t id, *ids; /* the contact and the ids merged into it */
	size_t nids;
};

static int
jkey(struct crm_buf *b, const char *k)
{
	return crm_buf_addc(b, ',') || crm_json_str(b, k, strlen(k)) ||
	    crm_buf_addc(b, ':');
}

static int
jnum(struct crm_buf *b, const char *k, uint64_t v)
{
	char num[24];

	snprintf(num, sizeof(num), "%llu", (unsigned long long)v);
	return jkey(b, k) || crm_buf_adds(b, num);
}

static int
jrec(struct crm_buf *b, const char *what, const struct crm_rec *r,
    const char *idname)
{
	const char *nm, *v;
	size_t i, nl, vl;
	int rc;

	rc = crm_buf_adds(b, "{\"record\":") ||
	    crm_json_str(b, what, strlen(what)) || jnum(b, idname, r->id);
	for (i = 0; rc == 0 && i < r->n; i++) {
		nm = crm_rec_name(r, i, &nl);
		v = crm_rec_val(r, i, &vl);
		rc = crm_buf_addc(b, ',') || crm_json_str(b, nm, nl) ||
		    crm_buf_addc(b, ':') || crm_json_str(b, v, vl);
	}
	return rc || crm_buf_adds(b, "}\n") ? CRM_ENOMEM : 0;
}

static int
subject_alias(void *arg, uint64_t id, uint64_t to)
{
	struct subject *s = arg;
	uint64_t *p, res;
	int rc;

	if ((rc = crm_contact_resolve(s->t, to, &res)) == CRM_ENOTFOUND ||
	    (rc == 0 && res != s->id))
		return 0;
	if (rc)
		return rc;
	if ((p = realloc(s->ids, (s->nids + 1) * sizeof(*p))) == NULL)
		return CRM_ENOMEM;
	s->ids = p;
	s->ids[s->nids++] = id;
	return 0;
}

static int
subject_merged(struct subject *s)
{
	char num[24];
	size_t i;
	int rc;

	if ((rc = crm_alias_each(s->t, subject_alias, s)))
		return rc;
	rc = crm_buf_adds(s->out, "{\"record\":\"merged_ids\"") ||
	    jnum(s->out, "contact", s->id) || jkey(s->out, "ids") ||
	    crm_buf_addc(s->out, '[');
	for (i = 0; rc == 0 && i < s->nids; i++) {
		snprintf(num, sizeof(num), "%s%llu", i ? "," : "",
		    (unsigned long long)s->ids[i]);
		rc = crm_buf_adds(s->out, num);
	}
	return rc || crm_buf_adds(s->out, "]}\n") ? CRM_ENOMEM : 0;
}

static int
subject_events(struct subject *s)
{
	char ts[CRM_TIME_LEN];
	struct crm_evit *it;
	struct crm_event e;
	size_t i;
	int rc, bad = 0;

	if ((rc = crm_evit_open(s->t, s->id, INT64_MIN, INT64_MAX, 0, &it)))
		return rc;
	while ((rc = crm_evit_next(it, &e)) == 0) {
		crm_time_format(e.ts, ts);
		bad |= crm_buf_adds(s->out, "{\"record\":\"event\"") ||
		    jnum(s->out, "id", e.id) ||
		    jnum(s->out, "contact", s->id) || jkey(s->out, "ts") ||
		    crm_json_str(s->out, ts, strlen(ts)) ||
		    jkey(s->out, "type") ||
		    crm_json_str(s->out, e.type, e.tlen);
		for (i = 0; i < e.n; i++)
			bad |= crm_buf_addc(s->out, ',') ||
			    crm_json_str(s->out, e.f[i].name, e.f[i].nlen) ||
			    crm_buf_addc(s->out, ':') ||
			    crm_json_str(s->out, e.f[i].val, e.f[i].vlen);
		bad |= crm_buf_adds(s->out, "}\n");
	}
	crm_evit_close(it);
	if (bad)
		return CRM_ENOMEM;
	return rc == CRM_EOF ? 0 : rc;
}

/* Audit entries that name the contact or an id merged into it. */
static int
subject_audit(struct subject *s)
{
	struct crm_iter *it;
	struct crm_rec r;
	const char *ids;
	size_t n, i;
	int rc, hit;

	crm_rec_init(&r);
	if ((rc = crm_audit_open(s->t, &it)))
		return rc;
	while ((rc = crm_iter_next(it, &r)) == 0) {
		if ((ids = crm_rec_get(&r, CRM_COL_CUSTOM, "ids", 3, &n)) ==
		    NULL)
			continue;
		hit = crm_audit_has_id(ids, n, s->id);
		for (i = 0; !hit && i < s->nids; i++)
			hit = crm_audit_has_id(ids, n, s->ids[i]);
		if (hit && (rc = jrec(s->out, "audit", &r, "seq")))
			break;
	}
	crm_iter_close(it);
	crm_rec_free(&r);
	return rc == CRM_EOF ? 0 : rc;
}

static int
subject_stats(struct subject *s)
{
	char v[CRM_NSTAT][32];
	struct crm_stats st;
	size_t i;
	int rc;

	if ((rc = crm_stats_get(s->t, s->id, &st)))
		return rc;
	crm_stats_format(&st, v);
	rc = crm_buf_adds(s->out, "{\"record\":\"statistics\"") ||
	    jnum(s->out, "contact", s->id);
	for (i = 0; rc == 0 && i < CRM_NSTAT; i++)
		rc = jkey(s->out, crm_stat_names[i]) ||
		    crm_json_str(s->out, v[i], strlen(v[i]));
	return rc || crm_buf_adds(s->out, "}\n") ? CRM_ENOMEM : 0;
}

int
crm_subject_write(struct crm_txn *t, uint64_t id, struct crm_buf *out)
{
	struct subject s = { .t = t, .out = out, .id = id };
	struct crm_rec r;
	int rc;

	crm_rec_init(&r);
	if ((rc = crm_contact_get(t, id, &r)) == 0 &&
	    (rc = jrec(out, "contact", &r, "id")) == 0 &&
	    (rc = subject_stats(&s)) == 0) {
		if ((rc = subject_merged(&s)) == 0 &&
		    (rc = subject_events(&s)) == 0)
			rc = subject_audit(&s);
	}
	free(s.ids);
	crm_rec_free(&r);
	return rc;
}
