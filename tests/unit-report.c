/*
 * Unit tests of the KPI engine (lib/report): money in and out, periods
 * and bucket labels, a timeline whose KPIs are known, and merging: two
 * halves merged give the report of the whole.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crm.h"
#include "report.h"
#include "unit.h"

#define DAY 86400

static int64_t
t_of(const char *s)
{
	int64_t t = 0;

	crm_time_parse(s, strlen(s), &t, NULL);
	return t;
}

static void
money(void)
{
	char s[48];
	int64_t v;

	CHECK(crm_money_parse("12.5", 4, &v) == 0 && v == 12500000000LL);
	CHECK(crm_money_parse("-0.001", 6, &v) == 0 && v == -1000000);
	CHECK(crm_money_parse("ten", 3, &v) != 0);
	CHECK(crm_money_parse("99999999999", 11, &v) == CRM_ETOOBIG);
	crm_money_format((__int128)12345000000LL, s, sizeof(s));
	CHECK(strcmp(s, "12.35") == 0); /* 12.345: half away from zero */
	crm_money_format(-(__int128)12345000000LL, s, sizeof(s));
	CHECK(strcmp(s, "-12.35") == 0);
	crm_money_format(4999999, s, sizeof(s));
	CHECK(strcmp(s, "0.00") == 0);
	crm_money_format((__int128)1000000000 * 100000000000LL, s, sizeof(s));
	CHECK(strcmp(s, "100000000000.00") == 0);
}

static void
periods(void)
{
	int64_t u = t_of("2025-03-15T10:00:00Z");

	CHECK(crm_report_default_since(CRM_BY_NONE, u) == u - 30 * DAY);
	CHECK(crm_report_default_since(CRM_BY_MONTH, u) == t_of("2024-04-01"));
	CHECK(
	    crm_report_default_since(CRM_BY_QUARTER, u) == t_of("2023-04-01"));
	/* 2025-03-15 is a Saturday: its week began on Monday 10 March */
	CHECK(crm_report_default_since(CRM_BY_WEEK, u) ==
	    t_of("2025-03-10") - 11 * 7 * DAY);
	CHECK(crm_report_default_since(CRM_BY_DAY, u) ==
	    t_of("2025-03-15") - 29 * DAY);
}

static void
labels(void)
{
	struct crm_report_opts o = { 0 };
	struct crm_report *r;
	char s[32];
	int64_t a, b;

	o.since = t_of("2024-11-20");
	o.until = t_of("2025-02-10");
	o.by = CRM_BY_QUARTER;
	o.window = 365 * DAY;
	CHECK(crm_report_open(&o, &r) == 0);
	CHECK(crm_report_buckets(r, 1) == 2);
	crm_report_label(r, 1, 0, s, sizeof(s));
	CHECK(strcmp(s, "2024-Q4") == 0);
	crm_report_label(r, 1, 1, s, sizeof(s));
	CHECK(strcmp(s, "2025-Q1") == 0);
	/* the first and last buckets are cut to the period */
	crm_report_bucket(r, 1, 0, &a, &b);
	CHECK(a == o.since && b == t_of("2025-01-01"));
	crm_report_bucket(r, 1, 1, &a, &b);
	CHECK(b == o.until);
	crm_report_close(r);
	o.since = o.until;
	CHECK(crm_report_open(&o, &r) == CRM_EINVAL);
	crm_report_close(r);
}

/* Contact i of a small population: created, with purchases and a
 * survey, a case and a deal, all in January 2025 but for the first. */
static void
add_contact(struct crm_report *r, int i)
{
	struct crm_rcontact c = { 0 };
	struct crm_rev ev[6];
	size_t n = 0;
	char key[16];

	memset(ev, 0, sizeof(ev));
	c.created = t_of("2024-12-20") + i * DAY;
	c.stage =
	    crm_report_intern(r, i % 2 ? "lead" : "customer", i % 2 ? 4 : 8);
	snprintf(key, sizeof(key), "k%d", i);
	ev[n].ts = t_of("2024-12-01") + i * DAY;
	ev[n].kind = CRM_RK_PURCHASE;
	ev[n++].amount = (int64_t)(10 + i) * 1000000000;
	ev[n].ts = t_of("2025-01-10") + i * 3600;
	ev[n].kind = CRM_RK_PURCHASE;
	ev[n++].amount = 5 * 1000000000LL;
	ev[n].ts = t_of("2025-01-11");
	ev[n].kind = CRM_RK_NPS;
	ev[n++].score = (uint8_t)(i % 11);
	ev[n].ts = t_of("2025-01-12");
	ev[n].kind = CRM_RK_TOPEN;
	ev[n++].key = crm_report_intern(r, key, strlen(key));
	ev[n].ts = t_of("2025-01-12") + (i + 1) * 3600;
	ev[n].kind = CRM_RK_TCLOSE;
	ev[n++].key = crm_report_intern(r, key, strlen(key));
	ev[n].ts = t_of("2025-01-13");
	ev[n].kind = CRM_RK_DEAL;
	ev[n].key = crm_report_intern(r, key, strlen(key));
	ev[n].stage = crm_report_intern(r, "proposal", 8);
	ev[n].has_amount = 1;
	ev[n++].amount = 100 * 1000000000LL;
	CHECK(crm_report_add(r, &c, ev, n) == 0);
}

static void
known(void)
{
	static const struct crm_rstage st[] = { { "proposal", 500 } };
	struct crm_report_opts o = { 0 };
	struct crm_report *r;
	struct crm_rval v;
	char s[48];

	o.since = t_of("2025-01-01");
	o.until = t_of("2025-02-01");
	o.window = 365 * DAY;
	o.stages = st;
	o.nstages = 1;
	CHECK(crm_report_open(&o, &r) == 0);
	add_contact(r, 0);
	add_contact(r, 1);
	CHECK(crm_report_finish(r) == 0);
	crm_report_value(r, 0, 0, CRM_K_CONTACTS, &v);
	CHECK(v.n == 2);
	crm_report_value(r, 0, 0, CRM_K_NEW_CONTACTS, &v);
	CHECK(v.n == 0);
	crm_report_value(r, 0, 0, CRM_K_CONVERSION, &v);
	CHECK(v.na); /* nobody new: nothing to divide by */
	crm_report_value(r, 0, 0, CRM_K_REVENUE, &v);
	crm_rval_format(&v, s, sizeof(s));
	CHECK(strcmp(s, "10.00") == 0);
	crm_report_value(r, 0, 0, CRM_K_CLV, &v);
	crm_rval_format(&v, s, sizeof(s)); /* (10 + 5 + 11 + 5) / 2 */
	CHECK(strcmp(s, "15.50") == 0);
	crm_report_value(r, 0, 0, CRM_K_NPS, &v);
	CHECK(!v.na && v.x == -100); /* scores 0 and 1 */
	crm_report_value(r, 0, 0, CRM_K_RES_MEDIAN, &v);
	CHECK(v.x == 1.5);
	crm_report_value(r, 0, 0, CRM_K_WEIGHTED, &v);
	crm_rval_format(&v, s, sizeof(s));
	CHECK(strcmp(s, "100.00") == 0);
	crm_report_value(r, 0, 0, CRM_K_RETENTION, &v);
	CHECK(!v.na && v.x == 100);
	crm_report_close(r);
}

/* The contacts shared out between two reports and merged give the same
 * values as one report of them all. */
static void
merge(void)
{
	struct crm_report_opts o = { 0 };
	struct crm_report *all, *a, *b;
	struct crm_rval x, y;
	size_t k, bk;
	int i, same = 1;

	o.since = t_of("2024-12-01");
	o.until = t_of("2025-02-01");
	o.by = CRM_BY_WEEK;
	o.window = 30 * DAY;
	o.cohorts = 1;
	CHECK(crm_report_open(&o, &all) == 0);
	CHECK(crm_report_open(&o, &a) == 0);
	CHECK(crm_report_open(&o, &b) == 0);
	for (i = 0; i < 12; i++) {
		add_contact(all, i);
		add_contact(i % 3 ? a : b, i);
	}
	CHECK(crm_report_merge(a, b) == 0);
	CHECK(crm_report_finish(all) == 0 && crm_report_finish(a) == 0);
	for (bk = 0; bk < crm_report_buckets(all, 1); bk++)
		for (k = 0; k < CRM_NKPI; k++) {
			crm_report_value(all, 1, bk, (int)k, &x);
			crm_report_value(a, 1, bk, (int)k, &y);
			same &= x.na == y.na && x.n == y.n &&
			    x.money == y.money && x.x == y.x;
		}
	CHECK(same);
	CHECK(crm_report_cohort_cell(all, 0, 1) ==
	    crm_report_cohort_cell(a, 0, 1));
	crm_report_close(all);
	crm_report_close(a);
	crm_report_close(b);
}

int
main(void)
{
	money();
	periods();
	labels();
	known();
	merge();
	return UNIT_DONE("unit-report");
}
