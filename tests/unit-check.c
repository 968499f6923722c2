/*
 * crm_check_run(): a store built through the library passes; each kind of
 * damage it is meant to find, done by hand through the store's own calls,
 * is found and named.
 */
#include <stdlib.h>
#include <string.h>

#include "crm.h"
#include "unit.h"

struct seen {
	int n;
	char all[4096];
};

static void
collect(void *arg, const char *msg)
{
	struct seen *s = arg;
	size_t len = strlen(s->all);

	s->n++;
	snprintf(s->all + len, sizeof(s->all) - len, "%s\n", msg);
}

static int
put_contact(struct crm_txn *t, uint64_t id, const char *email, const char *ext)
{
	struct crm_rec r = { 0 };
	int rc;

	r.id = id;
	rc = crm_rec_set(&r, CRM_COL_EMAIL, NULL, 0, email, strlen(email));
	if (rc == 0 && ext)
		rc = crm_rec_set(&r, CRM_COL_EXT_ID, NULL, 0, ext, strlen(ext));
	if (rc == 0)
		rc = crm_contact_put(t, &r);
	if (rc == 0)
		rc = crm_index_put(t, CRM_IDX_EMAIL, email, strlen(email), id);
	if (rc == 0 && ext)
		rc = crm_index_put(t, CRM_IDX_EXT, ext, strlen(ext), id);
	crm_rec_free(&r);
	return rc;
}

static int
log_event(struct crm_evlog *l, uint64_t contact, int64_t ts, const char *type,
    const char *amount, const char *ext)
{
	struct crm_event e;
	char why[200];
	int status;

	memset(&e, 0, sizeof(e));
	e.contact = contact;
	e.ts = ts;
	e.type = type;
	e.tlen = strlen(type);
	if (amount) {
		e.f[e.n].name = "amount";
		e.f[e.n].nlen = 6;
		e.f[e.n].val = amount;
		e.f[e.n++].vlen = strlen(amount);
	}
	if (ext) {
		e.f[e.n].name = "ext_id";
		e.f[e.n].nlen = 6;
		e.f[e.n].val = ext;
		e.f[e.n++].vlen = strlen(ext);
	}
	return crm_evlog_add(l, &e, &status, why, sizeof(why));
}

/* Two contacts, four events, committed; 0 on success. */
static int
build(const char *dir)
{
	struct crm_evlog_opts o = { .now = 1700000000 };
	struct crm_store *st;
	struct crm_txn *t;
	struct crm_evlog *l;
	int rc;

	if ((rc = crm_store_open(dir, 0, &st)) ||
	    (rc = crm_txn_begin(st, 0, &t))) {
		crm_store_close(st);
		return rc;
	}
	if ((rc = put_contact(t, crm_txn_new_id(t), "a@x.org", "A1")) == 0 &&
	    (rc = put_contact(t, crm_txn_new_id(t), "b@x.org", NULL)) == 0 &&
	    (rc = crm_evlog_begin(st, t, NULL, &o, &l)) == 0) {
		rc = log_event(l, 1, 1600000000, "purchase", "10.50", "o1");
		rc |= log_event(l, 1, 1600000100, "purchase", "4.50", "o2");
		rc |= log_event(l, 1, 1600090000, "call", NULL, NULL);
		rc |= log_event(l, 2, 1600000000, "refund", "2.00", "o9");
		rc |= crm_evlog_end(l);
	}
	if (rc == 0)
		rc = crm_txn_commit(t);
	else
		crm_txn_abort(t);
	crm_store_close(st);
	return rc;
}

/* Runs the check; returns the problems found, -1 if it could not run. */
static int
check_dir(const char *dir, struct seen *s, struct crm_check_counts *n)
{
	struct crm_store *st;
	struct crm_txn *t;
	int rc;

	memset(s, 0, sizeof(*s));
	if ((rc = crm_store_open(dir, CRM_F_RDONLY, &st)) ||
	    (rc = crm_txn_begin(st, CRM_F_RDONLY, &t))) {
		crm_store_close(st);
		return -1;
	}
	rc = crm_check_run(t, collect, s, n);
	crm_txn_abort(t);
	crm_store_close(st);
	return rc ? -1 : (int)n->problems;
}

/* A fresh store in base/name, damaged by fn in a write transaction. */
static int
damaged(const char *base, const char *name, int (*fn)(struct crm_txn *),
    struct seen *s)
{
	struct crm_check_counts n;
	struct crm_store *st;
	struct crm_txn *t;
	char dir[256];
	int rc;

	snprintf(dir, sizeof(dir), "%s/%s", base, name);
	if (build(dir) || crm_store_open(dir, 0, &st))
		return -1;
	if ((rc = crm_txn_begin(st, 0, &t)) == 0) {
		if ((rc = fn(t)) == 0)
			rc = crm_txn_commit(t);
		else
			crm_txn_abort(t);
	}
	crm_store_close(st);
	return rc ? -1 : check_dir(dir, s, &n);
}

static int
bad_stats(struct crm_txn *t)
{
	struct crm_stats s;
	int rc = crm_stats_get(t, 1, &s);

	s.events++;
	return rc ? rc : crm_stats_put(t, 1, &s);
}

static int
bad_revenue(struct crm_txn *t)
{
	struct crm_stats s;
	int rc = crm_stats_get(t, 2, &s);

	s.revenue.v = 0;
	return rc ? rc : crm_stats_put(t, 2, &s);
}

static int
no_email_key(struct crm_txn *t)
{
	return crm_index_del(t, CRM_IDX_EMAIL, "b@x.org", 7);
}

static int
stray_key(struct crm_txn *t)
{
	return crm_index_put(t, CRM_IDX_EXT, "B7", 2, 2);
}

static int
unregistered_field(struct crm_txn *t)
{
	struct crm_rec r = { 0 };
	int rc;

	if ((rc = crm_contact_get(t, 2, &r)) == 0 &&
	    (rc = crm_rec_set(&r, CRM_COL_CUSTOM, "plan", 4, "pro", 3)) == 0)
		rc = crm_contact_put(t, &r);
	crm_rec_free(&r);
	return rc;
}

static int
orphan_event(struct crm_txn *t)
{
	struct crm_event e;
	struct crm_buf b = { 0 };
	unsigned char key[CRM_EVKEY_LEN];
	int rc;

	memset(&e, 0, sizeof(e));
	e.type = "note";
	e.tlen = 4;
	crm_evkey_pack(99, 1600000000, crm_txn_new_event_id(t), key);
	if ((rc = crm_event_encode(&e, &b)) == 0)
		rc = crm_event_put(t, key, b.p, b.len);
	crm_buf_free(&b);
	return rc;
}

static int
stray_evkey(struct crm_txn *t)
{
	return crm_index_put(t, CRM_IDX_EVKEY, "refund\0o1", 9, 1);
}

static int
dangling_stats(struct crm_txn *t)
{
	struct crm_stats s;

	crm_stats_init(&s);
	return crm_stats_put(t, 42, &s);
}

int
main(void)
{
	char dir[] = "/tmp/crm-unit-check.XXXXXX", path[256], cmd[100];
	struct crm_check_counts n;
	struct seen s;

	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/good", dir);
	CHECK(build(path) == 0);
	CHECK(check_dir(path, &s, &n) == 0);
	CHECK(n.contacts == 2 && n.emails == 2 && n.ext_ids == 1);
	CHECK(n.events == 4 && n.evkeys == 3 && n.stats == 2);

	CHECK(damaged(dir, "stats", bad_stats, &s) == 1);
	CHECK(strstr(s.all,
		  "contact 1: stored events is \"4\", the events "
		  "give \"3\"") != NULL);
	CHECK(damaged(dir, "revenue", bad_revenue, &s) == 1);
	CHECK(strstr(s.all,
		  "stored revenue is \"0.00\", the events give "
		  "\"-2.00\"") != NULL);
	CHECK(damaged(dir, "email", no_email_key, &s) == 1);
	CHECK(strstr(s.all,
		  "contact 2: email \"b@x.org\" is not in the email "
		  "index") != NULL);
	CHECK(damaged(dir, "ext", stray_key, &s) == 1);
	CHECK(strstr(s.all,
		  "ext_id index: \"B7\" names contact 2, whose "
		  "ext_id differs") != NULL);
	CHECK(damaged(dir, "field", unregistered_field, &s) == 1);
	CHECK(strstr(s.all, "field \"plan\" is not in the field registry") !=
	    NULL);
	CHECK(damaged(dir, "orphan", orphan_event, &s) >= 1);
	/* An event without a record is taken for a tombstone, whose
	 * statistics must then be there. */
	CHECK(strstr(s.all,
		  "contact 99: stored events is \"0\", the events "
		  "give \"1\"") != NULL);
	CHECK(damaged(dir, "evkey", stray_evkey, &s) == 1);
	CHECK(strstr(s.all,
		  "names event 1, which is not an event of type "
		  "refund") != NULL);
	CHECK(damaged(dir, "dangling", dangling_stats, &s) == 1);
	CHECK(strstr(s.all, "statistics of contact 42, which does not exist") !=
	    NULL);

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return 1;
	return UNIT_DONE("unit-check");
}
