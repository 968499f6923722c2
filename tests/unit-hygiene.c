/*
 * Unit tests of data hygiene: the Jaro-Winkler similarity against the
 * published examples, the id ranges of audit entries, and statistics
 * recomputed from a contact's events (hygiene.c) against those the event
 * log keeps as it goes (evlog.c), on random timelines.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crm.h"
#include "unit.h"

static double
jw(const char *a, const char *b)
{
	return crm_jaro_winkler(a, strlen(a), b, strlen(b));
}

static void
test_jaro_winkler(void)
{
	/* Winkler (1990), as reprinted in the record linkage literature. */
	CHECK(fabs(jw("martha", "marhta") - 0.961) < 0.001);
	CHECK(fabs(jw("dwayne", "duane") - 0.840) < 0.001);
	CHECK(fabs(jw("dixon", "dicksonx") - 0.813) < 0.001);
	CHECK(jw("ada", "ada") == 1);
	CHECK(jw("", "") == 1);
	CHECK(jw("ada", "") == 0);
	CHECK(jw("abc", "xyz") == 0);
	CHECK(jw("martha", "marhta") == jw("marhta", "martha"));
}

static void
test_ranges(void)
{
	uint64_t ids[] = { 1, 2, 3, 7, 9, 10 };
	struct crm_buf b = { 0 };

	CHECK(crm_audit_ranges(&b, ids, 6) == 0 && crm_buf_nul(&b) == 0);
	CHECK(strcmp(b.p, "1-3,7,9-10") == 0);
	CHECK(crm_audit_has_id(b.p, b.len, 2));
	CHECK(crm_audit_has_id(b.p, b.len, 7));
	CHECK(crm_audit_has_id(b.p, b.len, 10));
	CHECK(!crm_audit_has_id(b.p, b.len, 4));
	CHECK(!crm_audit_has_id(b.p, b.len, 11));
	CHECK(!crm_audit_has_id("1-3,...", 7, 4));
	crm_buf_free(&b);
}

static int
same_stats(const struct crm_stats *a, const struct crm_stats *b)
{
	return a->first_seen == b->first_seen && a->last_seen == b->last_seen &&
	    a->first_purchase == b->first_purchase &&
	    a->last_purchase == b->last_purchase && a->events == b->events &&
	    a->purchases == b->purchases &&
	    a->purchase_days == b->purchase_days &&
	    crm_dec_cmp(a->revenue, b->revenue) == 0;
}

/* Random events of a few contacts in several sessions, then compare. */
static void
test_recompute(void)
{
	static const char *types[] = { "purchase", "refund", "call", "note" };
	char dir[] = "/tmp/unit-hygiene.XXXXXX", why[200], amt[32], path[64];
	struct crm_evlog_opts o = { .now = 1700000000, .create = 1 };
	struct crm_stats kept, again;
	struct crm_store *st = NULL;
	struct crm_evlog *l;
	struct crm_txn *t;
	struct crm_event e;
	uint64_t id;
	int session, i, status, ok = 1;

	srand(7);
	if (mkdtemp(dir) == NULL || crm_store_open(dir, 0, &st) != 0) {
		CHECK(!"store");
		return;
	}
	for (session = 0; session < 3; session++) {
		CHECK(crm_txn_begin(st, 0, &t) == 0);
		CHECK(crm_evlog_begin(st, t, NULL, &o, &l) == 0);
		for (i = 0; i < 300; i++) {
			snprintf(path, sizeof(path), "c%d@example.com",
			    rand() % 5);
			memset(&e, 0, sizeof(e));
			CHECK(crm_evlog_contact(l, path, strlen(path),
				  &e.contact, why, sizeof(why)) == 0);
			/* Days apart and hours apart, so that days repeat. */
			e.ts = 1600000000 + (int64_t)(rand() % 40) * 86400 +
			    (rand() % 5) * 3600;
			e.type = types[rand() % 4];
			e.tlen = strlen(e.type);
			if (e.type[0] == 'p' || e.type[0] == 'r') {
				snprintf(amt, sizeof(amt), "%d.%02d",
				    rand() % 100, rand() % 100);
				e.f[0].name = "amount";
				e.f[0].nlen = 6;
				e.f[0].val = amt;
				e.f[0].vlen = strlen(amt);
				e.n = 1;
			}
			CHECK(crm_evlog_add(l, &e, &status, why, sizeof(why)) ==
			    0);
		}
		CHECK(crm_evlog_end(l) == 0);
		CHECK(crm_txn_commit(t) == 0);
	}
	CHECK(crm_txn_begin(st, CRM_F_RDONLY, &t) == 0);
	for (id = 1; id <= 5; id++) {
		CHECK(crm_stats_get(t, id, &kept) == 0);
		CHECK(crm_stats_recompute(t, id, &again) == 0);
		ok &= same_stats(&kept, &again) && kept.events > 0;
	}
	CHECK(ok);
	crm_txn_abort(t);
	crm_store_close(st);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	CHECK(system(path) == 0);
}

int
main(void)
{
	test_jaro_winkler();
	test_ranges();
	test_recompute();
	return UNIT_DONE("unit-hygiene");
}
