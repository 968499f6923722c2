#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "dec.h"
#include "errors.h"
#include "event.h"
#include "rec.h"

#define DAY 86400
/* Event ids past this are not tracked one by one (4 bytes each). */
#define MAX_TRACKED ((uint64_t)1 << 31)

struct chk {
	struct crm_txn *t;
	void (*report)(void *, const char *);
	void *arg;
	struct crm_check_counts *n;
	uint64_t next_id, next_event;
	struct crm_map fields;  /* registered custom field names */
	struct crm_map withev;  /* contacts that have events */
	struct crm_map targets; /* contacts that others were merged into */
	uint32_t *evtype;       /* per event id: hash of its type, or 0 */
	struct crm_rec rec;
	/* The contact whose events are being summed up. */
	uint64_t cur;
	int cur_exists, cur_alias;
	struct crm_stats s;
	int64_t lastday;
	char msg[1200];
};

static void
problem(struct chk *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->msg, sizeof(c->msg), fmt, ap);
	va_end(ap);
	c->n->problems++;
	c->report(c->arg, c->msg);
}

static unsigned long long
ull(uint64_t x)
{
	return (unsigned long long)x;
}

/* A key shown in a message: at most 60 bytes, printable ASCII only. */
static const char *
shown(const void *p, size_t n, char out[64])
{
	const unsigned char *s = p;
	size_t i;

	for (i = 0; i < n && i < 60; i++)
		out[i] = s[i] >= 0x20 && s[i] < 0x7f ? (char)s[i] : '?';
	out[i] = '\0';
	return out;
}

static uint32_t
type_hash(const char *type, size_t n)
{
	return (uint32_t)crm_hash(type, n) | 1;
}

static uint64_t
meta_u64(struct chk *c, const char *key)
{
	const void *v;
	size_t vn;
	uint64_t x = 0;

	if (crm_raw_get(c->t, CRM_DB_META, key, strlen(key), &v, &vn) == 0) {
		if (vn == 8)
			memcpy(&x, v, 8);
		else
			problem(c, "meta: %s has %zu bytes, not 8", key, vn);
	}
	return x;
}

static int
load_fields(struct chk *c)
{
	struct crm_raw *it;
	const void *k, *v;
	size_t kn, vn;
	int rc;

	if ((rc = crm_raw_open(c->t, CRM_DB_FIELDS, &it)))
		return rc;
	while ((rc = crm_raw_next(it, &k, &kn, &v, &vn)) == 0) {
		c->n->fields++;
		if (vn != 4)
			problem(c, "fields: entry of %zu bytes, not 4", vn);
		if ((rc = crm_map_put(&c->fields, k, kn, 1)))
			break;
	}
	crm_raw_close(it);
	return rc == CRM_EOF ? 0 : rc;
}

/* The index entry for a contact's key value must name that contact. */
static int
indexed(struct chk *c, int db, const char *col, uint64_t id, const char *val,
    size_t n)
{
	char buf[64];
	const void *v;
	size_t vn;
	uint64_t owner;
	int rc;

	rc = crm_raw_get(c->t, db, val, n, &v, &vn);
	if (rc == CRM_ENOTFOUND) {
		problem(c, "contact %llu: %s \"%s\" is not in the %s index",
		    ull(id), col, shown(val, n, buf), col);
		return 0;
	}
	if (rc)
		return rc;
	if (vn != 8) {
		problem(c, "%s index: entry \"%s\" has %zu bytes, not 8", col,
		    shown(val, n, buf), vn);
		return 0;
	}
	memcpy(&owner, v, 8);
	if (owner != id)
		problem(c, "contact %llu: %s \"%s\" is indexed to contact %llu",
		    ull(id), col, shown(val, n, buf), ull(owner));
	return 0;
}

static int
check_contact(struct chk *c, uint64_t id)
{
	const char *nm, *v;
	size_t i, nl, vn;
	uint64_t x;
	int rc = 0;

	if (c->next_id != 0 && id >= c->next_id)
		problem(c, "contact %llu: id not below next_id %llu", ull(id),
		    ull(c->next_id));
	if ((v = crm_rec_get(&c->rec, CRM_COL_EMAIL, NULL, 0, &vn)) != NULL)
		rc = indexed(c, CRM_DB_EMAIL, "email", id, v, vn);
	if (rc == 0 &&
	    (v = crm_rec_get(&c->rec, CRM_COL_EXT_ID, NULL, 0, &vn)) != NULL)
		rc = indexed(c, CRM_DB_EXT, "ext_id", id, v, vn);
	for (i = 0; rc == 0 && i < c->rec.n; i++) {
		if (c->rec.f[i].col != CRM_COL_CUSTOM)
			continue;
		nm = crm_rec_name(&c->rec, i, &nl);
		if (!crm_map_get(&c->fields, nm, nl, &x))
			problem(c,
			    "contact %llu: field \"%.*s\" is not in the field "
			    "registry",
			    ull(id), (int)(nl > 60 ? 60 : nl), nm);
	}
	return rc;
}

static int
check_contacts(struct chk *c)
{
	struct crm_raw *it;
	const void *k, *v;
	size_t kn, vn;
	const char *why;
	uint64_t id;
	int rc;

	if ((why = crm_txn_strtab_problem(c->t)) != NULL)
		problem(c, "%s", why);
	if ((rc = crm_raw_open(c->t, CRM_DB_CONTACTS, &it)))
		return rc;
	while ((rc = crm_raw_next(it, &k, &kn, &v, &vn)) == 0) {
		c->n->contacts++;
		if (kn != 8) {
			problem(c, "contacts: key of %zu bytes, not 8", kn);
			continue;
		}
		memcpy(&id, k, 8);
		if (id == 0)
			problem(c, "contacts: a contact with id 0");
		if (crm_rec_decode_with(&c->rec, v, vn, crm_txn_strtab(c->t)) !=
		    0) {
			problem(c, "contact %llu: record does not decode",
			    ull(id));
			continue;
		}
		if ((rc = check_contact(c, id)))
			break;
	}
	crm_raw_close(it);
	return rc == CRM_EOF ? 0 : rc;
}

/* Whether contact id exists; 0 or an error. */
static int
exists(struct chk *c, uint64_t id, int *yes)
{
	const void *v;
	size_t vn;
	int rc = crm_raw_get(c->t, CRM_DB_CONTACTS, &id, 8, &v, &vn);

	*yes = rc == 0;
	return rc == CRM_ENOTFOUND ? 0 : rc;
}

/* Every entry of a contact key index names a contact that has that key. */
static int
check_index(struct chk *c, int db, int col, uint64_t *count)
{
	const char *name = crm_col_names[col], *have;
	struct crm_raw *it;
	const void *k, *v;
	size_t kn, vn, hn;
	uint64_t id, x;
	char buf[64];
	int rc;

	if ((rc = crm_raw_open(c->t, db, &it)))
		return rc;
	while ((rc = crm_raw_next(it, &k, &kn, &v, &vn)) == 0) {
		(*count)++;
		if (vn != 8) {
			problem(c, "%s index: entry \"%s\" has %zu bytes", name,
			    shown(k, kn, buf), vn);
			continue;
		}
		memcpy(&id, v, 8);
		rc = crm_contact_get(c->t, id, &c->rec);
		if (rc == CRM_ENOTFOUND) {
			problem(c,
			    "%s index: \"%s\" names contact %llu, which does "
			    "not exist",
			    name, shown(k, kn, buf), ull(id));
			continue;
		}
		if (rc) {
			problem(c, "contact %llu: record does not decode",
			    ull(id));
			continue;
		}
		have = crm_rec_get(&c->rec, col, NULL, 0, &hn);
		/* A merge leaves the dropped contact's keys naming the kept
		 * one, so that they still find it. */
		if ((have == NULL || hn != kn || memcmp(have, k, kn) != 0) &&
		    !crm_map_get(&c->targets, &id, 8, &x))
			problem(c,
			    "%s index: \"%s\" names contact %llu, whose %s "
			    "differs",
			    name, shown(k, kn, buf), ull(id), name);
	}
	crm_raw_close(it);
	return rc == CRM_EOF ? 0 : rc;
}

/* The statistics of the contact summed up so far against the stored ones. */
static int
finish_contact(struct chk *c)
{
	struct crm_stats st;
	char want[CRM_NSTAT][32], have[CRM_NSTAT][32];
	int rc, i;

	if (c->cur == 0)
		return 0;
	if ((rc = crm_stats_get(c->t, c->cur, &st)) == CRM_ESTORE) {
		problem(c, "contact %llu: statistics do not decode",
		    ull(c->cur));
		return 0;
	}
	if (rc)
		return rc;
	crm_stats_format(&c->s, want);
	crm_stats_format(&st, have);
	for (i = 0; i < CRM_NSTAT; i++)
		if (strcmp(want[i], have[i]) != 0)
			problem(c,
			    "contact %llu: stored %s is \"%s\", the events "
			    "give \"%s\"",
			    ull(c->cur), crm_stat_names[i], have[i], want[i]);
	return 0;
}

static int64_t
day_of(int64_t ts)
{
	return ts >= 0 ? ts / DAY : -((-ts + DAY - 1) / DAY);
}

/* Adds an event to its contact's statistics, as evlog.c does. */
static void
sum_event(struct chk *c, const struct crm_event *e)
{
	int type = crm_evtype_lookup(e->type, e->tlen);
	struct crm_stats *s = &c->s;
	struct crm_dec d;
	const char *a;
	size_t n;
	int rc;

	s->events++;
	if (s->first_seen == CRM_TIME_NONE || e->ts < s->first_seen)
		s->first_seen = e->ts;
	if (s->last_seen == CRM_TIME_NONE || e->ts > s->last_seen)
		s->last_seen = e->ts;
	if (type != CRM_EV_PURCHASE && type != CRM_EV_REFUND)
		return;
	if ((a = crm_event_get(e, "amount", &n)) == NULL ||
	    crm_dec_parse(a, n, &d) != 0) {
		problem(c, "event %llu: a %s without a valid amount",
		    ull(e->id), crm_evtype_names[type]);
		return;
	}
	if (type == CRM_EV_REFUND)
		rc = crm_dec_sub(s->revenue, d, &s->revenue);
	else
		rc = crm_dec_add(s->revenue, d, &s->revenue);
	if (rc)
		problem(c, "contact %llu: revenue overflows", ull(e->contact));
	if (type == CRM_EV_REFUND)
		return;
	s->purchases++;
	if (s->purchases == 1 || day_of(e->ts) != c->lastday)
		s->purchase_days++;
	c->lastday = day_of(e->ts);
	if (s->first_purchase == CRM_TIME_NONE || e->ts < s->first_purchase)
		s->first_purchase = e->ts;
	if (s->last_purchase == CRM_TIME_NONE || e->ts > s->last_purchase)
		s->last_purchase = e->ts;
}

/* An event with an ext_id is the one the evkey index names for it. */
static int
check_evkey_of(struct chk *c, const struct crm_event *e, struct crm_buf *key)
{
	const char *x;
	const void *v;
	size_t n, vn;
	uint64_t id;
	char buf[64];
	int rc;

	if ((x = crm_event_get(e, "ext_id", &n)) == NULL)
		return 0;
	key->len = 0;
	if (crm_buf_add(key, e->type, e->tlen) || crm_buf_addc(key, '\0') ||
	    crm_buf_add(key, x, n))
		return CRM_ENOMEM;
	rc = crm_raw_get(c->t, CRM_DB_EVKEY, key->p, key->len, &v, &vn);
	if (rc == CRM_ENOTFOUND) {
		problem(c,
		    "event %llu: ext_id \"%s\" is not in the evkey index",
		    ull(e->id), shown(x, n, buf));
		return 0;
	}
	if (rc)
		return rc;
	if (vn == 8)
		memcpy(&id, v, 8);
	if (vn != 8 || id != e->id)
		problem(c,
		    "event %llu: the evkey index names another event for "
		    "ext_id \"%s\"",
		    ull(e->id), shown(x, n, buf));
	return 0;
}

static int
note_event_id(struct chk *c, const struct crm_event *e)
{
	if (c->next_event != 0 && e->id >= c->next_event) {
		problem(c, "event %llu: id not below next_event %llu",
		    ull(e->id), ull(c->next_event));
		return 0;
	}
	if (c->evtype == NULL)
		return 0;
	if (c->evtype[e->id] != 0)
		problem(c, "event %llu: two events have this id", ull(e->id));
	c->evtype[e->id] = type_hash(e->type, e->tlen);
	return 0;
}

static int
one_event(struct chk *c, const void *k, size_t kn, const void *v, size_t vn,
    struct crm_buf *key)
{
	struct crm_event e;
	uint64_t x;
	int rc;

	c->n->events++;
	if (kn != CRM_EVKEY_LEN) {
		problem(c, "events: key of %zu bytes, not %d", kn,
		    CRM_EVKEY_LEN);
		return 0;
	}
	crm_evkey_unpack(k, &e.contact, &e.ts, &e.id);
	if (e.contact != c->cur) {
		if ((rc = finish_contact(c)))
			return rc;
		c->cur = e.contact;
		crm_stats_init(&c->s);
		if ((rc = exists(c, e.contact, &c->cur_exists)) ||
		    (rc = crm_map_put(&c->withev, &e.contact, 8, 1)))
			return rc;
		/* No record: an erased person's tombstone (crm-forget), whose
		 * anonymised events keep no idempotency keys. */
		c->cur_alias =
		    !c->cur_exists && crm_alias_get(c->t, e.contact, &x) == 0;
	}
	if (!c->cur_exists && c->cur_alias)
		problem(c,
		    "event %llu: contact %llu was merged, but its event was "
		    "not moved",
		    ull(e.id), ull(e.contact));
	if (crm_event_decode(&e, v, vn) != 0) {
		problem(c, "event %llu: does not decode", ull(e.id));
		return 0;
	}
	if ((rc = note_event_id(c, &e)))
		return rc;
	sum_event(c, &e);
	return c->cur_exists ? check_evkey_of(c, &e, key) : 0;
}

static int
check_events(struct chk *c)
{
	struct crm_buf key = { 0 };
	struct crm_raw *it;
	const void *k, *v;
	size_t kn, vn;
	int rc;

	if (c->next_event > MAX_TRACKED)
		problem(c, "meta: next_event %llu is out of range",
		    ull(c->next_event));
	else if (c->next_event > 0 &&
	    (c->evtype = calloc(c->next_event, sizeof(*c->evtype))) == NULL)
		return CRM_ENOMEM;
	if ((rc = crm_raw_open(c->t, CRM_DB_EVENTS, &it)))
		return rc;
	while ((rc = crm_raw_next(it, &k, &kn, &v, &vn)) == 0)
		if ((rc = one_event(c, k, kn, v, vn, &key)))
			break;
	crm_raw_close(it);
	crm_buf_free(&key);
	if (rc == CRM_EOF)
		rc = finish_contact(c);
	return rc;
}

/* Every evkey entry (type NUL key) names an event of that type. */
static int
check_evkeys(struct chk *c)
{
	struct crm_raw *it;
	const void *k, *v;
	const char *nul;
	size_t kn, vn;
	uint64_t id;
	char buf[64], tbuf[64];
	int rc;

	if ((rc = crm_raw_open(c->t, CRM_DB_EVKEY, &it)))
		return rc;
	while ((rc = crm_raw_next(it, &k, &kn, &v, &vn)) == 0) {
		c->n->evkeys++;
		if (vn != 8 || (nul = memchr(k, '\0', kn)) == NULL) {
			problem(c, "evkey index: malformed entry \"%s\"",
			    shown(k, kn, buf));
			continue;
		}
		memcpy(&id, v, 8);
		if (c->evtype == NULL && c->next_event <= MAX_TRACKED) {
			problem(c,
			    "evkey index: \"%s\" names event %llu, "
			    "but there are no events",
			    shown(nul + 1, kn - (size_t)(nul + 1 - (char *)k),
				buf),
			    ull(id));
			continue;
		}
		if (c->evtype == NULL)
			continue;
		if (id >= c->next_event ||
		    c->evtype[id] != type_hash(k, (size_t)(nul - (char *)k)))
			problem(c,
			    "evkey index: \"%s\" names event %llu, which is "
			    "not an event of type %s",
			    shown(nul + 1, kn - (size_t)(nul + 1 - (char *)k),
				buf),
			    ull(id), shown(k, (size_t)(nul - (char *)k), tbuf));
	}
	crm_raw_close(it);
	return rc == CRM_EOF ? 0 : rc;
}

/* Statistics stored for a contact without events must be empty ones. */
static int
check_stats(struct chk *c)
{
	struct crm_stats st, none;
	struct crm_raw *it;
	const void *k, *v;
	size_t kn, vn;
	uint64_t id, x;
	int rc, yes;

	crm_stats_init(&none);
	if ((rc = crm_raw_open(c->t, CRM_DB_STATS, &it)))
		return rc;
	while ((rc = crm_raw_next(it, &k, &kn, &v, &vn)) == 0) {
		c->n->stats++;
		if (kn != 8) {
			problem(c, "stats: key of %zu bytes, not 8", kn);
			continue;
		}
		memcpy(&id, k, 8);
		if ((rc = exists(c, id, &yes)))
			break;
		/* A tombstone has statistics and events, but no record. */
		if (crm_map_get(&c->withev, &id, 8, &x))
			continue;
		if (!yes) {
			problem(c,
			    "stats: statistics of contact %llu, which does "
			    "not exist",
			    ull(id));
			continue;
		}
		if ((rc = crm_stats_get(c->t, id, &st)) == 0 &&
		    (st.events != 0 || st.purchases != 0))
			problem(c,
			    "contact %llu: stored events is %llu, the log "
			    "has none",
			    ull(id), ull(st.events));
		else if (rc == CRM_ESTORE)
			problem(c, "contact %llu: statistics do not decode",
			    ull(id));
		else if (rc)
			break;
		rc = 0;
	}
	crm_raw_close(it);
	return rc == CRM_EOF ? 0 : rc;
}

static int
check_audit(struct chk *c)
{
	struct crm_raw *it;
	const void *k, *v;
	size_t kn, vn;
	uint64_t seq;
	int rc;

	if ((rc = crm_raw_open(c->t, CRM_DB_AUDIT, &it)))
		return rc;
	while ((rc = crm_raw_next(it, &k, &kn, &v, &vn)) == 0) {
		c->n->audit++;
		if (kn != 8) {
			problem(c, "audit: key of %zu bytes, not 8", kn);
			continue;
		}
		memcpy(&seq, k, 8);
		if (crm_rec_decode_with(&c->rec, v, vn, crm_txn_strtab(c->t)) !=
		    0)
			problem(c, "audit entry %llu: does not decode",
			    ull(seq));
	}
	crm_raw_close(it);
	return rc == CRM_EOF ? 0 : rc;
}

/* A merged id names a contact that exists, and has no record itself. */
static int
one_alias(void *arg, uint64_t id, uint64_t to)
{
	struct chk *c = arg;
	int rc, yes;

	c->n->aliases++;
	if ((rc = exists(c, to, &yes)))
		return rc;
	if (!yes)
		problem(c,
		    "alias: merged id %llu names contact %llu, which does not "
		    "exist",
		    ull(id), ull(to));
	if ((rc = exists(c, id, &yes)))
		return rc;
	if (yes)
		problem(c, "alias: merged id %llu still has a record", ull(id));
	return crm_map_put(&c->targets, &to, 8, 1);
}

int
crm_check_run(struct crm_txn *t, void (*report)(void *, const char *),
    void *arg, struct crm_check_counts *counts)
{
	struct chk c;
	int rc;

	memset(&c, 0, sizeof(c));
	memset(counts, 0, sizeof(*counts));
	c.t = t;
	c.report = report;
	c.arg = arg;
	c.n = counts;
	crm_rec_init(&c.rec);
	c.next_id = meta_u64(&c, "next_id");
	c.next_event = meta_u64(&c, "next_event");
	if ((rc = load_fields(&c)) == 0 &&
	    (rc = crm_alias_each(t, one_alias, &c)) == 0 &&
	    (rc = check_contacts(&c)) == 0 &&
	    (rc = check_index(&c, CRM_DB_EMAIL, CRM_COL_EMAIL,
		 &counts->emails)) == 0 &&
	    (rc = check_index(&c, CRM_DB_EXT, CRM_COL_EXT_ID,
		 &counts->ext_ids)) == 0 &&
	    (rc = check_events(&c)) == 0 && (rc = check_evkeys(&c)) == 0 &&
	    (rc = check_stats(&c)) == 0)
		rc = check_audit(&c);
	free(c.evtype);
	crm_map_free(&c.fields);
	crm_map_free(&c.withev);
	crm_map_free(&c.targets);
	crm_rec_free(&c.rec);
	return rc;
}
