/*
 * Unit tests of the expression language (lib/expr) and of named segments
 * (lib/segment): every operator, the type rules, the empty-value rules,
 * the errors with their positions, and the caret message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crm.h"
#include "expr.h"
#include "segment.h"
#include "unit.h"

#define NOW 1716163200 /* 2024-05-20T00:00:00Z */

enum { F = CRM_EXPR_FALSE, T = CRM_EXPR_TRUE, U = CRM_EXPR_UNKNOWN };

/* Splits s at '|' into at most 32 NUL-terminated cells of buf. */
static size_t
split(const char *s, char *buf, size_t size, char **v, size_t *len)
{
	size_t n = 0;
	char *p;

	if (s == NULL)
		return 0;
	snprintf(buf, size, "%s", s);
	for (p = buf; n < 32; p++) {
		v[n] = p;
		p += strcspn(p, "|");
		len[n] = (size_t)(p - v[n]);
		n++;
		if (*p == '\0')
			break;
		*p = '\0';
	}
	return n;
}

/*
 * Compiles src against the columns of hdr and evaluates it on row (both
 * '|'-separated): T, F or U; or 100 - the error code if it does not
 * compile.
 */
static int
ev_full(const struct crm_config *cf, int64_t now, const char *src,
    const char *hdr, const char *row)
{
	char hb[512], rb[512], *h[32], *v[32];
	size_t hl[32], vl[32], nh, nv;
	struct crm_expr *e;
	struct crm_expr_err err;
	int rc;

	nh = split(hdr, hb, sizeof(hb), h, hl);
	nv = split(row, rb, sizeof(rb), v, vl);
	rc = crm_expr_compile(src, (const char *const *)h, nh, cf, now, 0, &e,
	    &err);
	if (rc != 0)
		return 100 - rc;
	rc = crm_expr_eval(e, (const char *const *)v, vl, nv);
	if ((rc == T) != crm_expr_match(e, (const char *const *)v, vl, nv))
		rc = -1;
	crm_expr_close(e);
	return rc;
}

static int
ev(const char *src, const char *hdr, const char *row)
{
	return ev_full(NULL, NOW, src, hdr, row);
}

/* The error of src: code rc at byte pos, with msg in its message. */
static int
err_is(const char *src, const char *hdr, int rc, size_t pos, const char *msg)
{
	char hb[512], *h[32];
	size_t hl[32], nh = split(hdr, hb, sizeof(hb), h, hl);
	struct crm_expr *e;
	struct crm_expr_err err;
	int got;

	got = crm_expr_compile(src, (const char *const *)h, nh, NULL, NOW, 0,
	    &e, &err);
	if (got == 0)
		crm_expr_close(e);
	if (got != rc || err.pos != pos || strstr(err.msg, msg) == NULL) {
		printf("  %s: got %d at %zu: %s\n", src, got, err.pos, err.msg);
		return 0;
	}
	return e == NULL;
}

static void
test_strings(void)
{
	CHECK(ev("country == \"DE\"", "country", "DE") == T);
	CHECK(ev("country == \"DE\"", "country", "FR") == F);
	CHECK(ev("country != \"DE\"", "country", "FR") == T);
	CHECK(ev("country == 'DE'", "country", "DE") == T);
	/* Text is compared as written: no trimming, case counts. */
	CHECK(ev("country == \"DE\"", "country", " DE") == F);
	CHECK(ev("country == \"DE\"", "country", "de") == F);
	/* Byte order, which for UTF-8 is code point order. */
	CHECK(ev("city > \"Z\"", "city", "\xc3\x84rhus") == T);
	CHECK(ev("city < \"Oslo\"", "city", "Bergen") == T);
	CHECK(ev("city <= \"Oslo\"", "city", "Oslo") == T);
	CHECK(ev("city >= \"Oslob\"", "city", "Oslo") == F);
	CHECK(ev("note == \"say \\\"hi\\\"\"", "note", "say \"hi\"") == T);
	CHECK(ev("note == 'it\\'s'", "note", "it's") == T);
	CHECK(ev("note == \"a\\\\b\"", "note", "a\\b") == T);
	/* A backslash before any other character is kept. */
	CHECK(ev("note == \"a\\.b\"", "note", "a\\.b") == T);
	CHECK(ev("note == \"caf\xc3\xa9\"", "note", "caf\xc3\xa9") == T);
	CHECK(ev("note == \"a`\" or note == '`'", "note", "`") == T);
}

static void
test_numbers(void)
{
	CHECK(ev("revenue >= 100", "revenue", "100.00") == T);
	CHECK(ev("revenue > 100", "revenue", "100.00") == F);
	CHECK(ev("revenue == 12.5", "revenue", "12.50") == T);
	/* Exact: no binary floating point near the boundary. */
	CHECK(ev("revenue > 0.3", "revenue", "0.300000001") == T);
	CHECK(ev("revenue <= 0.3", "revenue", "0.3") == T);
	CHECK(ev("revenue < -0.5", "revenue", "-1") == T);
	CHECK(ev("revenue != 7", "revenue", "7") == F);
	CHECK(ev("events >= 3", "events", " 3 ") == T);
	/* A cell that is not a number is unknown, like an empty one. */
	CHECK(ev("revenue > 1", "revenue", "lots") == U);
	CHECK(ev("revenue > 1", "revenue", "1e3") == U);
	CHECK(ev("revenue > 1", "revenue", "") == U);
	/* An untyped column meeting a number is compared as a number. */
	CHECK(ev("seats > 9", "seats", "10") == T);
	CHECK(ev("seats > 9", "seats", "abc") == U);
	/* ... and a string literal makes it text: "10" < "9". */
	CHECK(ev("seats > \"9\"", "seats", "10") == F);
	/* Literals compared with each other, and a literal on the left. */
	CHECK(ev("1 < 2", "x", "") == T);
	CHECK(ev("100 <= revenue", "revenue", "150") == T);
	CHECK(ev("100 > revenue", "revenue", "150") == F);
	/* A string literal converts to a typed column's type. */
	CHECK(ev("revenue == \"12.5\"", "revenue", "12.50") == T);
}

static void
test_times(void)
{
	CHECK(ev("created_at < 2024-01-01", "created_at",
		  "2023-12-31T23:59:59Z") == T);
	CHECK(ev("created_at < 2024-01-01", "created_at", "2024-01-01") == F);
	CHECK(ev("created_at == 2024-01-01", "created_at",
		  "2024-01-01T00:00:00Z") == T);
	CHECK(ev("created_at >= 2024-05-20T00:00:00+02:00", "created_at",
		  "2024-05-19T22:00:00Z") == T);
	CHECK(ev("created_at > 2024-05-19T23:59Z", "created_at",
		  "2024-05-20 00:00") == T);
	CHECK(
	    ev("created_at < \"2024-01-01\"", "created_at", "2023-06-01") == T);
	CHECK(ev("created_at < 2024-01-01", "created_at", "yesterday") == U);
	/* An untyped column meeting a date is compared as a time. */
	CHECK(
	    ev("signup >= 2024-02-01", "signup", "2024-02-01T10:00:00Z") == T);
	CHECK(ev("signup >= 2024-02-01", "signup", "soon") == U);
	/* Two untyped columns: as numbers, else as times, else as text. */
	CHECK(ev("a > b", "a|b", "10|9") == T);
	CHECK(ev("a > b", "a|b", "2024-02-01|2024-01-31T23:00:00Z") == T);
	CHECK(ev("a > b", "a|b", "b|a10") == T);
	CHECK(ev("a > b", "a|b", "10|a") == F);
	CHECK(ev("a == b", "a|b", "1.0|1") == T);
	CHECK(ev("a == b", "a|b", "1|") == U);
	/* Typed columns of one type. */
	CHECK(ev("last_seen_at > created_at", "created_at|last_seen_at",
		  "2024-01-01|2024-03-01") == T);
	CHECK(ev("last_seen_at > signup", "signup|last_seen_at",
		  "2024-04-01|2024-03-01") == F);
}

static void
test_durations(void)
{
	CHECK(ev("last_purchase_at < now - 90d", "last_purchase_at",
		  "2024-02-19T23:59:59Z") == T);
	CHECK(ev("last_purchase_at < now - 90d", "last_purchase_at",
		  "2024-02-21") == F);
	CHECK(ev("created_at >= now - 2w", "created_at", "2024-05-06") == T);
	CHECK(ev("created_at >= now - 2w", "created_at", "2024-05-05T23:00Z") ==
	    F);
	CHECK(ev("created_at == now - 12h", "created_at",
		  "2024-05-19T12:00:00Z") == T);
	CHECK(ev("created_at == now - 1y", "created_at", "2023-05-20") == T);
	CHECK(ev("created_at == now + 1mo", "created_at", "2024-06-20") == T);
	CHECK(ev("created_at == today", "created_at", "2024-05-20") == T);
	/* A month back from the 31st is the last day of a shorter month. */
	CHECK(ev_full(NULL, 1711843200 /* 2024-03-31 */,
		  "created_at == now - 1mo", "created_at", "2024-02-29") == T);
	CHECK(ev_full(NULL, 1711843200, "created_at == now - 13mo",
		  "created_at", "2023-02-28") == T);
	/* Months first, then days: 2024-03-31 - 1mo - 1d = 2024-02-28. */
	CHECK(ev_full(NULL, 1711843200, "created_at == now - 1d - 1mo",
		  "created_at", "2024-02-28") == T);
	CHECK(ev("created_at == 2024-01-31 + 1mo", "created_at",
		  "2024-02-29") == T);
	/* A column moved by a duration, on every row. */
	CHECK(ev("created_at + 30d < now", "created_at", "2024-04-19") == T);
	CHECK(ev("created_at + 30d < now", "created_at", "2024-04-20") == F);
	CHECK(ev("signup + 1y > now", "signup", "2023-06-01") == T);
	/* Before 1970 too. */
	CHECK(ev("created_at == 1969-03-31 - 1mo", "created_at",
		  "1969-02-28") == T);
}

static void
test_bools(void)
{
	CHECK(ev("email_opt_in", "email_opt_in", "true") == T);
	CHECK(ev("email_opt_in", "email_opt_in", "yes") == T);
	CHECK(ev("email_opt_in", "email_opt_in", "no") == F);
	CHECK(ev("email_opt_in", "email_opt_in", "") == U);
	CHECK(ev("email_opt_in", "email_opt_in", "maybe") == U);
	CHECK(ev("not email_opt_in", "email_opt_in", "false") == T);
	CHECK(ev("not email_opt_in", "email_opt_in", "") == U);
	CHECK(ev("email_opt_in == true", "email_opt_in", "1") == T);
	CHECK(ev("email_opt_in != true", "email_opt_in", "off") == T);
	CHECK(ev("email_opt_in == \"yes\"", "email_opt_in", "TRUE") == T);
	CHECK(ev("active", "active", "on") == T);
	CHECK(ev("active == false", "active", "n") == T);
	CHECK(ev("true", "x", "") == T);
	CHECK(ev("false or x == 1", "x", "1") == T);
}

static void
test_logic(void)
{
	/* Kleene: false wins "and", true wins "or", else unknown spreads. */
	CHECK(ev("a == 1 and b == 1", "a|b", "1|") == U);
	CHECK(ev("a == 1 and b == 1", "a|b", "2|") == F);
	CHECK(ev("a == 1 or b == 1", "a|b", "1|") == T);
	CHECK(ev("a == 1 or b == 1", "a|b", "2|") == U);
	CHECK(ev("a == 1 or b == 1", "a|b", "2|2") == F);
	CHECK(ev("not (a == 1)", "a", "") == U);
	CHECK(ev("not (a == 1)", "a", "2") == T);
	CHECK(ev("not not a == 1", "a", "1") == T);
	/* A never-buyer is not "last purchase before", nor its negation. */
	CHECK(ev("last_purchase_at < now - 90d", "last_purchase_at", "") == U);
	CHECK(ev("not (last_purchase_at >= now - 90d)", "last_purchase_at",
		  "") == U);
	/* Precedence: not over and over or. */
	CHECK(ev("a == 1 or a == 2 and b == 3", "a|b", "1|0") == T);
	CHECK(ev("(a == 1 or a == 2) and b == 3", "a|b", "1|0") == F);
	CHECK(ev("not a == 1 and b == 2", "a|b", "2|2") == T);
	/* Columns past the row's cells are empty. */
	CHECK(ev("b is empty", "a|b", "1") == T);
	CHECK(ev("b == 1", "a|b", "1") == U);
}

static void
test_empty(void)
{
	CHECK(ev("phone is empty", "phone", "") == T);
	CHECK(ev("phone is empty", "phone", "  ") == T);
	CHECK(ev("phone is empty", "phone", "1") == F);
	CHECK(ev("phone is not empty", "phone", "1") == T);
	CHECK(ev("phone is not empty", "phone", "\t") == F);
	/* Every comparison with an empty cell is unknown. */
	CHECK(ev("phone != \"1\"", "phone", "") == U);
	CHECK(ev("phone contains \"1\"", "phone", "") == U);
	CHECK(ev("phone starts with \"1\"", "phone", " ") == U);
	CHECK(ev("phone =~ \".*\"", "phone", "") == U);
	CHECK(ev("phone !~ \"x\"", "phone", "") == U);
	CHECK(ev("phone in (\"1\")", "phone", "") == U);
	CHECK(ev("phone not in (\"1\")", "phone", "") == U);
	/* A tag set that is empty holds nothing: has is false. */
	CHECK(ev("tags has \"vip\"", "tags", "") == F);
	CHECK(ev("not (tags has \"vip\")", "tags", "") == T);
}

static void
test_lists(void)
{
	CHECK(ev("country in (\"DE\", \"AT\", \"CH\")", "country", "AT") == T);
	CHECK(ev("country in (\"DE\", \"AT\")", "country", "FR") == F);
	CHECK(ev("country not in (\"DE\", \"AT\")", "country", "FR") == T);
	CHECK(ev("country not in (\"DE\", \"AT\")", "country", "DE") == F);
	CHECK(ev("seats in (1, 2, 3)", "seats", "2.0") == T);
	CHECK(ev("seats in (1, 2, 3)", "seats", "x") == U);
	CHECK(ev("created_at in (2024-01-01, now)", "created_at",
		  "2024-05-20") == T);
	CHECK(ev("stage in ('lead')", "stage", "lead") == T);
}

static void
test_text_ops(void)
{
	CHECK(
	    ev("email =~ \"@example\\.com$\"", "email", "a@example.com") == T);
	CHECK(
	    ev("email =~ \"@example\\.com$\"", "email", "a@exampleXcom") == F);
	CHECK(ev("email =~ /@EXAMPLE\\.com$/i", "email", "a@example.com") == T);
	CHECK(ev("email =~ /@EXAMPLE\\.com$/", "email", "a@example.com") == F);
	CHECK(ev("email !~ /^admin@/", "email", "bo@x.com") == T);
	CHECK(ev("email !~ /^admin@/", "email", "admin@x.com") == F);
	CHECK(ev("email matches /^(a|b)@/", "email", "b@x.com") == T);
	CHECK(ev("path =~ /a\\/b/", "path", "xa/by") == T);
	CHECK(ev("company contains \"Soft\"", "company", "Vandelay Software") ==
	    T);
	CHECK(ev("company contains \"soft\"", "company", "Vandelay Software") ==
	    F);
	CHECK(ev("company contains \"are\"", "company", "Software") == T);
	CHECK(ev("company contains \"Softwares\"", "company", "Software") == F);
	CHECK(ev("phone starts with \"+49\"", "phone", "+49 30 1") == T);
	CHECK(ev("phone starts with \"+49\"", "phone", "+4") == F);
	CHECK(ev("email ends with \".de\"", "email", "a@b.de") == T);
	CHECK(ev("email ends with \".de\"", "email", "a@b.dk") == F);
	CHECK(ev("tags has \"vip\"", "tags", "vip;newsletter") == T);
	CHECK(ev("tags has \"vip\"", "tags", "a; vip ;b") == T);
	CHECK(ev("tags has \"vip\"", "tags", "vipx;avip") == F);
	CHECK(ev("tags has \"a;b\"", "tags", "x;\"a;b\"") == T);
	CHECK(ev("tags has \"say \\\"hi\\\"\"", "tags", "\"say \"\"hi\"\"\"") ==
	    T);
	CHECK(ev("tags has \"a\"", "tags", "\"a;b\"") == F);
	CHECK(ev("labels has \"x\"", "labels", "w;x") == T);
}

static void
test_columns(void)
{
	const char *h[] = { "Email Address", "First Name", "email", "x" };

	CHECK(ev("`First Name` == \"Ann\"", "First Name", "Ann") == T);
	CHECK(ev("first_name == \"Ann\"", "First Name", "Ann") == T);
	CHECK(ev("FIRST_NAME == \"Ann\"", "first-name", "Ann") == T);
	CHECK(ev("`a``b` == \"1\"", "a`b", "1") == T);
	CHECK(ev("`and` == \"1\"", "and", "1") == T);
	CHECK(ev("pa\xc3\xads == \"ES\"", "pa\xc3\xads", "ES") == T);
	CHECK(ev("utm.source == \"ad\"", "utm.source", "ad") == T);
	CHECK(crm_expr_lookup(h, 4, "email", 5) == 2);
	CHECK(crm_expr_lookup(h, 4, "first_name", 10) == 1);
	CHECK(crm_expr_lookup(h, 4, "Email Address", 13) == 0);
	CHECK(crm_expr_lookup(h, 4, "EMAIL", 5) == 2);
	CHECK(crm_expr_lookup(h, 4, "y", 1) == -1);
	CHECK(crm_expr_lookup(h, 3, "x", 1) == -1);
	/* The first of two columns of one name. */
	CHECK(ev("a == 1", "a|a", "1|2") == T);
}

static void
test_refs(void)
{
	const char *h[] = { "a", "b", "c" }, *v[] = { "1", "2" };
	size_t len[] = { 1, 1 };
	const size_t *cols;
	struct crm_expr *e;
	struct crm_expr_err err;

	CHECK(crm_expr_compile("c == 1 or a == 2 or c == 3", h, 3, NULL, NOW, 0,
		  &e, &err) == 0);
	CHECK(crm_expr_refs(e, &cols) == 2 && cols[0] == 2 && cols[1] == 0);
	CHECK(strcmp(crm_expr_column(e, 2), "c") == 0);
	CHECK(crm_expr_column(e, 1) == NULL);
	CHECK(crm_expr_added(e) == 0);
	crm_expr_close(e);
	/* Names outside the header, for rows that name their own columns. */
	CHECK(crm_expr_compile("z == 1 and b == 2 and y is empty and z > 0", h,
		  2, NULL, NOW, CRM_EXPR_ANYCOL, &e, &err) == 0);
	CHECK(crm_expr_added(e) == 2);
	CHECK(strcmp(crm_expr_column(e, 2), "z") == 0);
	CHECK(strcmp(crm_expr_column(e, 3), "y") == 0);
	CHECK(crm_expr_eval(e, v, len, 2) == U);
	crm_expr_close(e);
	CHECK(crm_expr_compile("revenue > 1 and Revenue < 9", NULL, 0, NULL,
		  NOW, CRM_EXPR_ANYCOL, &e, &err) == 0);
	CHECK(crm_expr_added(e) == 1);
	crm_expr_close(e);
	CHECK(crm_expr_compile("zz == 1", h, 3, NULL, NOW, 0, &e, &err) ==
	    CRM_ENOTFOUND);
	CHECK(e == NULL);
	crm_expr_close(NULL);
}

/* A long chain of "or" costs no depth; deep nesting is refused. */
static void
test_limits(void)
{
	struct crm_buf b = { 0 };
	struct crm_expr *e;
	struct crm_expr_err err;
	const char *h[] = { "a" }, *v[] = { "4999" };
	size_t len[] = { 4 }, i;
	int rc;

	for (i = 0; i < 5000; i++) {
		char t[32];

		snprintf(t, sizeof(t), "%sa == %zu", i ? " or " : "", i);
		crm_buf_adds(&b, t);
	}
	crm_buf_nul(&b);
	CHECK(crm_expr_compile(b.p, h, 1, NULL, NOW, 0, &e, &err) == 0);
	CHECK(e != NULL && crm_expr_eval(e, v, len, 1) == T);
	crm_expr_close(e);
	b.len = 0;
	for (i = 0; i < 150; i++)
		crm_buf_adds(&b, "(");
	crm_buf_adds(&b, "a == 1");
	for (i = 0; i < 150; i++)
		crm_buf_adds(&b, ")");
	crm_buf_nul(&b);
	rc = crm_expr_compile(b.p, h, 1, NULL, NOW, 0, &e, &err);
	CHECK(rc == CRM_EPARSE && strstr(err.msg, "nested") != NULL);
	b.len = 0;
	for (i = 0; i < 150; i++)
		crm_buf_adds(&b, "not ");
	crm_buf_adds(&b, "a == 1");
	crm_buf_nul(&b);
	CHECK(
	    crm_expr_compile(b.p, h, 1, NULL, NOW, 0, &e, &err) == CRM_EPARSE);
	crm_buf_free(&b);
}

static void
test_errors(void)
{
	CHECK(err_is("contry == \"DE\"", "country", CRM_ENOTFOUND, 0,
	    "unknown column \"contry\""));
	CHECK(err_is("a == 1 and `b c` == 2", "a", CRM_ENOTFOUND, 11,
	    "unknown column \"b c\""));
	CHECK(err_is("", "a", CRM_EPARSE, 0, "empty"));
	CHECK(err_is("   ", "a", CRM_EPARSE, 3, "empty"));
	CHECK(err_is("a ==", "a", CRM_EPARSE, 4, "ends where a value"));
	CHECK(err_is("a = 1", "a", CRM_EPARSE, 2, "use =="));
	CHECK(err_is("!a", "a", CRM_EPARSE, 0, "use not"));
	CHECK(err_is("a == \"x", "a", CRM_EPARSE, 5, "string is not closed"));
	CHECK(err_is("`a == 1", "a", CRM_EPARSE, 0, "column name is not"));
	CHECK(err_is("a =~ /x", "a", CRM_EPARSE, 5, "regular expression is"));
	CHECK(err_is("a =~ /x/g", "a", CRM_EPARSE, 8, "flag 'g'"));
	CHECK(err_is("a =~ \"(\"", "a", CRM_EINVAL, 5, "invalid regular"));
	/* Found by fuzz-expr: repeated repetitions blow regcomp(3) up. */
	CHECK(err_is("a =~ /a+++++++++++++++++++++++++++++/", "a", CRM_EINVAL,
	    5, "too large"));
	CHECK(err_is("a =~ /((a{100}){100}){100}/", "a", CRM_EINVAL, 5,
	    "too large"));
	CHECK(err_is("a =~ /(x(a{100}b){10}){30}/", "a", CRM_EINVAL, 5,
	    "too large"));
	CHECK(err_is("a =~ /x*+++.m/", "a", CRM_EINVAL, 5, "nest more than 3"));
	CHECK(err_is("a =~ /((((x*)+)+)+)+/", "a", CRM_EINVAL, 5,
	    "nest more than 3"));
	CHECK(ev("a =~ /((x*)+)+y/", "a", "xxy") == T);
	CHECK(ev("a =~ /(x+)+(y+)+(z*)?w/", "a", "xyw") == T);
	CHECK(ev("a =~ /^[0-9]{4}-[0-9]{2}(-[0-9]{2}){1,3}$/", "a",
		  "2024-05-20") == T);
	CHECK(ev("a =~ /(ab+c?)+[]{}]*\\{z{1000}/", "a", "abbcab]\\{z") == F);
	CHECK(ev("a =~ /a{2,}b/", "a", "xaab") == T);
	CHECK(err_is("(a == 1", "a", CRM_EPARSE, 7, "expected )"));
	CHECK(err_is("a == 1)", "a", CRM_EPARSE, 6, "unbalanced )"));
	CHECK(err_is("a == 1 b == 2", "a|b", CRM_EPARSE, 7, "expected and"));
	CHECK(err_is("a 1", "a", CRM_EPARSE, 2, "expected an operator"));
	CHECK(err_is("a == and", "a", CRM_EPARSE, 5, "found \"and\""));
	CHECK(err_is("a == 1 and", "a", CRM_EPARSE, 10, "ends where"));
	CHECK(err_is("a == 3x", "a", CRM_EPARSE, 6, "unknown unit \"x\""));
	CHECK(err_is("a == 1.5d", "a", CRM_EPARSE, 5, "invalid number"));
	CHECK(err_is("a == 2024-13-01", "a", CRM_EPARSE, 5, "invalid date"));
	/* Found by fuzz-expr: a date cut short at the end of the text. */
	CHECK(err_is("a == 2024-05", "a", CRM_EPARSE, 5, "invalid date"));
	CHECK(err_is("a == 2024-05-20T1", "a", CRM_EPARSE, 5, "invalid date"));
	CHECK(err_is("a == 1234567890123456789", "a", CRM_EPARSE, 5,
	    "18 digits"));
	CHECK(err_is("a == - x", "a", CRM_EPARSE, 7, "number after -"));
	CHECK(err_is("a # 1", "a", CRM_EPARSE, 2, "unexpected '#'"));
	CHECK(err_is("a == 1 \x01", "a", CRM_EPARSE, 7, "byte 0x01"));
	CHECK(err_is("a == \"\xff\"", "a", CRM_EPARSE, 6, "invalid UTF-8"));
	CHECK(err_is("a not 1", "a", CRM_EPARSE, 6, "in after not"));
	CHECK(err_is("a starts \"x\"", "a", CRM_EPARSE, 9, "with after"));
	CHECK(err_is("a is full", "a", CRM_EPARSE, 5, "expected empty"));
	CHECK(err_is("a in 1", "a", CRM_EPARSE, 5, "( after in"));
	CHECK(err_is("a in (1 2)", "a", CRM_EPARSE, 8, "expected , or )"));
	CHECK(err_is("a contains 1", "a", CRM_EPARSE, 11, "string after"));
	CHECK(err_is("a =~ 1", "a", CRM_EPARSE, 5, "regular expression"));
	/* Types. */
	CHECK(err_is("country == 5", "country", CRM_EINVAL, 8,
	    "cannot compare country (text) with 5 (a number): write text"));
	CHECK(err_is("revenue == \"x\"", "revenue", CRM_EINVAL, 11,
	    "revenue is a number, and \"x\" is not one"));
	CHECK(err_is("created_at > 5", "created_at", CRM_EINVAL, 11, "a time"));
	CHECK(err_is("created_at > \"soon\"", "created_at", CRM_EINVAL, 13,
	    "is a time, and \"soon\""));
	CHECK(err_is("email_opt_in == \"maybe\"", "email_opt_in", CRM_EINVAL,
	    16, "a boolean"));
	CHECK(err_is("email_opt_in < true", "email_opt_in", CRM_EINVAL, 13,
	    "no order"));
	CHECK(err_is("revenue > created_at", "revenue|created_at", CRM_EINVAL,
	    8, "cannot compare revenue (a number) with created_at (a time)"));
	CHECK(err_is("tags == \"vip\"", "tags", CRM_EINVAL, 5,
	    "tags is a tag set: test it with has"));
	CHECK(
	    err_is("email has \"x\"", "email", CRM_EINVAL, 6, "not a tag set"));
	CHECK(err_is("a == \"\"", "a", CRM_EINVAL, 5, "is empty"));
	CHECK(err_is("a != \" \"", "a", CRM_EINVAL, 5, "never compares"));
	CHECK(err_is("a contains \"\"", "a", CRM_EINVAL, 11, "empty string"));
	CHECK(err_is("a > 90d", "a", CRM_EINVAL, 4, "a duration is not"));
	CHECK(err_is("a > now - 3", "a", CRM_EINVAL, 10, "only a duration"));
	CHECK(err_is("revenue + 3d > now", "revenue", CRM_EINVAL, 8,
	    "revenue is a number, not a time"));
	CHECK(err_is("a in (1, \"x\")", "a", CRM_EINVAL, 9, "of one type"));
	CHECK(err_is("a in (b)", "a|b", CRM_EINVAL, 6, "not columns"));
	CHECK(err_is("\"x\" contains \"x\"", "a", CRM_EINVAL, 0,
	    "left of contains is a column"));
	CHECK(err_is("country", "country", CRM_EINVAL, 0,
	    "country is text, not a condition"));
	CHECK(err_is("5 and a == 1", "a", CRM_EINVAL, 0, "not a condition"));
	CHECK(err_is("now - 99999999d > a", "a", CRM_EPARSE, 6,
	    "whole number of at most"));
}

static void
test_format(void)
{
	struct crm_expr_err e = { 20, "unknown column \"contry\"" };
	char out[300];
	int n;

	n = crm_expr_format("country == \"DE\" and contry == \"AT\"", &e, "  ",
	    out, sizeof(out));
	CHECK(strcmp(out,
		  "column 21: unknown column \"contry\"\n"
		  "  country == \"DE\" and contry == \"AT\"\n"
		  "                      ^") == 0);
	CHECK(n == (int)strlen(out));
	/* Truncated, it says how much it needed. */
	CHECK(crm_expr_format("country == \"DE\" and contry == \"AT\"", &e,
		  "  ", out, 10) == n &&
	    strlen(out) == 9);
	/* A character is one column, a tab stays a tab. */
	e.pos = 9;
	crm_expr_format("\t\xc3\xa9t\xc3\xa9 == x", &e, "", out, sizeof(out));
	CHECK(strcmp(out,
		  "column 8: unknown column \"contry\"\n"
		  "\t\xc3\xa9t\xc3\xa9 == x\n"
		  "\t      ^") == 0);
	/* Several lines: the line of the fault only. */
	e.pos = 9;
	crm_expr_format("a == 1\nand b", &e, "> ", out, sizeof(out));
	CHECK(strcmp(out,
		  "line 2, column 3: unknown column \"contry\"\n"
		  "> and b\n"
		  ">   ^") == 0);
	/* A newline at the end alone does not make several lines. */
	e.pos = 0;
	crm_expr_format("x == 1\n", &e, "", out, sizeof(out));
	CHECK(strncmp(out, "column 1: ", 10) == 0);
	/* At the very end. */
	e.pos = 4;
	crm_expr_format("a ==", &e, "", out, sizeof(out));
	CHECK(strcmp(out, "column 5: unknown column \"contry\"\na ==\n    ^") ==
	    0);
}

static struct crm_config *
config(const char *dir, const char *name, const char *text, char *err,
    size_t errlen, int *rc)
{
	struct crm_config *cf = NULL;
	char path[600];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fp = fopen(path, "w")) == NULL)
		abort();
	fputs(text, fp);
	fclose(fp);
	*rc = crm_config_load(path, &cf, err, errlen);
	return cf;
}

static void
test_config_types(const char *dir)
{
	struct crm_config *cf;
	char err[300];
	int rc;

	cf = config(dir, "types.yaml",
	    "fields:\n  plan: {type: enum, values: [free, pro, team]}\n"
	    "  seats: int\n  renewal: date\n  vip: bool\n  note: string\n"
	    "  price: decimal\n",
	    err, sizeof(err), &rc);
	CHECK(rc == 0);
	CHECK(ev_full(cf, NOW, "plan == \"pro\"", "plan", "pro") == T);
	/* An enum is ordered as its values are listed. */
	CHECK(ev_full(cf, NOW, "plan > \"free\"", "plan", "team") == T);
	CHECK(ev_full(cf, NOW, "plan < \"pro\"", "plan", "team") == F);
	CHECK(ev_full(cf, NOW, "plan in (\"pro\", \"team\")", "plan", "pro") ==
	    T);
	CHECK(ev_full(cf, NOW, "plan == \"gold\"", "plan", "") ==
	    100 - CRM_EINVAL);
	CHECK(ev_full(cf, NOW, "seats >= 10", "seats", "12") == T);
	CHECK(ev_full(cf, NOW, "seats >= \"10\"", "seats", "9") == F);
	CHECK(ev_full(cf, NOW, "price == 9.9", "price", "9.90") == T);
	CHECK(ev_full(cf, NOW, "renewal < now + 1mo", "renewal",
		  "2024-06-19") == T);
	CHECK(ev_full(cf, NOW, "vip", "vip", "yes") == T);
	/* A declared string is text, even when it looks like a number. */
	CHECK(ev_full(cf, NOW, "note == 5", "note", "5") == 100 - CRM_EINVAL);
	CHECK(ev_full(cf, NOW, "note == \"5\"", "note", "5") == T);
	CHECK(ev_full(cf, NOW, "note == plan", "plan|note", "pro|pro") == T);
	CHECK(ev_full(cf, NOW, "seats == renewal", "seats|renewal", "1|1") ==
	    100 - CRM_EINVAL);
	crm_config_free(cf);
}

static void
test_segments(const char *dir)
{
	struct crm_segments *s;
	struct crm_config *cf;
	struct crm_expr *e;
	const char *h[] = { "tags", "revenue" };
	char err[800], want[800];
	int rc;

	CHECK(crm_segment_load(NULL, &s, err, sizeof(err)) == 0);
	CHECK(crm_segment_count(s) == 0);
	crm_segment_close(s);
	cf = config(dir, "seg.yaml",
	    "segments:\n  vip: tags has \"vip\"\n"
	    "  big: revenue >= 1000\n  bad: revnue > 1\n",
	    err, sizeof(err), &rc);
	CHECK(rc == 0 && crm_segment_load(cf, &s, err, sizeof(err)) == 0);
	CHECK(crm_segment_count(s) == 3);
	CHECK(strcmp(crm_segment_name(s, 1), "big") == 0);
	CHECK(strcmp(crm_segment_source(s, 0), "tags has \"vip\"") == 0);
	CHECK(crm_segment_find(s, "bad", 3) == 2);
	CHECK(crm_segment_find(s, "bi", 2) == -1);
	CHECK(crm_segment_compile(s, 1, h, 2, cf, NOW, 0, &e, err,
		  sizeof(err)) == 0);
	crm_expr_close(e);
	CHECK(crm_segment_compile(s, 2, h, 2, cf, NOW, 0, &e, err,
		  sizeof(err)) == CRM_ENOTFOUND);
	snprintf(want, sizeof(want),
	    "%s/seg.yaml:4: segment \"bad\": column 1: unknown column "
	    "\"revnue\"\n  revnue > 1\n  ^",
	    dir);
	CHECK(strcmp(err, want) == 0);
	crm_segment_close(s);
	crm_config_free(cf);
}

/* seg_error(dir, yaml, line, what): the segments section is refused. */
static int
seg_error(const char *dir, const char *yaml, int line, const char *what)
{
	struct crm_segments *s = NULL;
	struct crm_config *cf;
	char err[300], at[600];
	int rc;

	cf = config(dir, "bad.yaml", yaml, err, sizeof(err), &rc);
	if (rc != 0)
		return 0;
	rc = crm_segment_load(cf, &s, err, sizeof(err));
	snprintf(at, sizeof(at), "%s/bad.yaml:%d: ", dir, line);
	crm_config_free(cf);
	if (rc != CRM_ECONFIG || s != NULL || strncmp(err, at, strlen(at)) ||
	    strstr(err, what) == NULL) {
		printf("  %s: %d %s\n", yaml, rc, err);
		return 0;
	}
	return 1;
}

static void
test_segment_errors(const char *dir)
{
	char err[300];
	int rc;

	/* The config itself refuses a name given twice. */
	crm_config_free(config(dir, "twice.yaml",
	    "segments:\n  a: x == 1\n  a: x == 2\n", err, sizeof(err), &rc));
	CHECK(rc == CRM_ECONFIG && strstr(err, "twice.yaml:3:") != NULL);
	CHECK(seg_error(dir, "segments: [a]\n", 1, "expected a mapping"));
	CHECK(seg_error(dir, "segments:\n  a,b: x == 1\n", 2, "no ','"));
	CHECK(seg_error(dir, "segments:\n  a/b: x == 1\n", 2, "or '/'"));
	CHECK(seg_error(dir, "segments:\n  .a: x == 1\n", 2, "start with '.'"));
	CHECK(seg_error(dir, "segments:\n  \"\": x == 1\n", 2, "not empty"));
	CHECK(seg_error(dir, "segments:\n  a:\n", 2, "expected an expression"));
	CHECK(seg_error(dir, "segments:\n  a: [x]\n", 2,
	    "expected an expression"));
}

int
main(void)
{
	char dir[] = "/tmp/crm-unit-expr.XXXXXX";
	char cmd[100];

	if (mkdtemp(dir) == NULL)
		abort();
	test_strings();
	test_numbers();
	test_times();
	test_durations();
	test_bools();
	test_logic();
	test_empty();
	test_lists();
	test_text_ops();
	test_columns();
	test_refs();
	test_limits();
	test_errors();
	test_format();
	test_config_types(dir);
	test_segments(dir);
	test_segment_errors(dir);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("cannot remove %s\n", dir);
	return UNIT_DONE("unit-expr");
}
