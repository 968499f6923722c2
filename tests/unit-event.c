/*
 * Unit tests of the event module (event.h): the encoding of an event's
 * type and fields and its decoder on bad input, the store key and its
 * order, value checks, the checks of an event's type, and the text of the
 * statistics.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crm.h"
#include "unit.h"

/* Sets field i of e; the strings are borrowed. */
static void
setf(struct crm_event *e, size_t i, const char *name, const char *val)
{
	e->f[i].name = name;
	e->f[i].nlen = strlen(name);
	e->f[i].val = val;
	e->f[i].vlen = strlen(val);
}

static void
settype(struct crm_event *e, const char *type)
{
	e->type = type;
	e->tlen = strlen(type);
}

static int
same_str(const char *a, size_t an, const char *b, size_t bn)
{
	return an == bn && (an == 0 || memcmp(a, b, an) == 0);
}

/* Whether the type and the first n fields of a and b are the same. */
static int
same_fields(const struct crm_event *a, const struct crm_event *b, size_t n)
{
	size_t i;

	if (!same_str(a->type, a->tlen, b->type, b->tlen))
		return 0;
	for (i = 0; i < n; i++)
		if (!same_str(a->f[i].name, a->f[i].nlen, b->f[i].name,
			b->f[i].nlen) ||
		    !same_str(a->f[i].val, a->f[i].vlen, b->f[i].val,
			b->f[i].vlen))
			return 0;
	return 1;
}

/* Encodes e, decodes it, and compares; encodes the result again. */
static int
round_trip(const struct crm_event *e)
{
	struct crm_buf b = { 0 }, b2 = { 0 };
	struct crm_event d;
	int ok;

	ok = crm_event_encode(e, &b) == 0 &&
	    crm_event_decode(&d, b.p, b.len) == 0 && d.n == e->n &&
	    same_fields(e, &d, e->n) && crm_event_encode(&d, &b2) == 0 &&
	    b2.len == b.len && memcmp(b.p, b2.p, b.len) == 0;
	crm_buf_free(&b);
	crm_buf_free(&b2);
	return ok;
}

static void
test_round_trip(void)
{
	struct crm_event e = { 0 };
	char big[300];
	size_t i;

	/* A built-in type and built-in field names. */
	settype(&e, "purchase");
	setf(&e, 0, "amount", "19.99");
	setf(&e, 1, "order_id", "O-1");
	setf(&e, 2, "channel", "web");
	e.n = 3;
	CHECK(round_trip(&e));
	/* Custom names, UTF-8, an empty value, bytes of every kind. */
	setf(&e, 3,
	    "Gr\xc3\xb6\xc3\x9f"
	    "e",
	    "XL");
	setf(&e, 4, "gift", "");
	setf(&e, 5, "note", "line\nwith, \"quotes\" and \t tab");
	e.n = 6;
	CHECK(round_trip(&e));
	/* A custom type, every built-in type and field name. */
	settype(&e, "webinar");
	CHECK(round_trip(&e));
	for (i = 1; i < CRM_NEVTYPE; i++) {
		settype(&e, crm_evtype_names[i]);
		CHECK(round_trip(&e));
		CHECK(crm_evtype_lookup(e.type, e.tlen) == (int)i);
	}
	CHECK(crm_evtype_lookup("webinar", 7) == CRM_EV_OTHER);
	CHECK(crm_evtype_lookup("purchases", 9) == CRM_EV_OTHER);
	CHECK(crm_evtype_lookup("purch", 5) == CRM_EV_OTHER);
	CHECK(crm_evtype_lookup("", 0) == CRM_EV_OTHER);
	/* A name like a built-in one is not taken for it. */
	settype(&e, "purchase_x");
	setf(&e, 0, "amounts", "1");
	setf(&e, 1, "ext_i", "2");
	e.n = 2;
	CHECK(round_trip(&e));
	/* No fields; the most fields; a long value (a varint of 2 bytes). */
	e.n = 0;
	CHECK(round_trip(&e));
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	for (i = 0; i < CRM_EV_MAXFIELDS; i++)
		setf(&e, i, i % 2 ? "subject" : "custom", big + i);
	e.n = CRM_EV_MAXFIELDS;
	CHECK(round_trip(&e));
	/* crm_event_get finds a field by its whole name. */
	settype(&e, "call");
	setf(&e, 0, "subject", "hi");
	setf(&e, 1, "sub", "x");
	e.n = 2;
	{
		size_t n = 0;
		const char *v = crm_event_get(&e, "subject", &n);

		CHECK(v != NULL && n == 2 && memcmp(v, "hi", 2) == 0);
		CHECK(crm_event_get(&e, "subj", NULL) == NULL);
		CHECK(crm_event_get(&e, "sub", &n) != NULL && n == 1);
		CHECK(crm_event_get(&e, "amount", &n) == NULL);
	}
}

/* Decodes p[0..n) and says whether it failed. */
static int
refused(const void *p, size_t n)
{
	struct crm_event d;

	return crm_event_decode(&d, p, n) != 0;
}

static void
test_decode_bad(void)
{
	struct crm_event e = { 0 }, d;
	struct crm_buf b = { 0 };
	unsigned char x[256];
	size_t k, cut[8], ncut = 0, n;
	int rc;

	settype(&e, "webinar");
	setf(&e, 0, "amount", "12.50");
	setf(&e, 1, "topic", "CRM basics");
	setf(&e, 2, "subject", "");
	e.n = 3;
	CHECK(crm_event_encode(&e, &b) == 0);
	/*
	 * Every prefix either fails or is the same event with fewer fields:
	 * the encoding has no length of its own, so a cut between fields
	 * cannot be told from an event that has fewer.
	 */
	for (k = 0; k < b.len; k++) {
		rc = crm_event_decode(&d, b.p, k);
		if (rc == 0) {
			CHECK(d.n < e.n && same_fields(&e, &d, d.n));
			cut[ncut++] = k;
		}
	}
	/* Those prefixes are exactly the ends of the type and of the fields:
	 * 1 + 7 + 1 (webinar), then amount 1 + 1 + 5, topic 1 + 5 + 1 + 10. */
	CHECK(ncut == 3 && cut[0] == 9 && cut[1] == 16 && cut[2] == 34);
	CHECK(crm_event_decode(&d, b.p, b.len) == 0 && d.n == 3);
	/* Nothing, a type tag past the built-in types, a field tag past the
	 * built-in names, a custom name of length 0 or past the end. */
	CHECK(refused("", 0));
	x[0] = CRM_NEVTYPE;
	CHECK(refused(x, 1));
	x[0] = 0x7f;
	CHECK(refused(x, 1));
	memcpy(x, "\x01\x7f\x00", 3); /* purchase, field tag 127 */
	CHECK(refused(x, 3));
	memcpy(x, "\x01\x10\x00", 3); /* field tag 16: one past the last */
	CHECK(refused(x, 3));
	memcpy(x, "\x01\x0f\x00", 3); /* tag 15 (currency), empty value */
	CHECK(!refused(x, 3));
	memcpy(x, "\x00\x00", 2); /* custom type of length 0 */
	CHECK(refused(x, 2));
	memcpy(x,
	    "\x00\x05"
	    "ab",
	    4); /* custom type longer than the input */
	CHECK(refused(x, 4));
	memcpy(x, "\x01\x00\x00\x00", 4); /* custom field name of length 0 */
	CHECK(refused(x, 4));
	memcpy(x,
	    "\x01\x02\x05"
	    "12",
	    5); /* value longer than the input */
	CHECK(refused(x, 5));
	memcpy(x, "\x01\x02", 2); /* a field tag without a value length */
	CHECK(refused(x, 2));
	/* A varint that does not end, and one of more than ten bytes. */
	memset(x, 0x80, sizeof(x));
	CHECK(refused(x, 5));
	CHECK(refused(x, sizeof(x)));
	/* A value length of 2^64 - 1 does not wrap around. */
	memcpy(x,
	    "\x01\x02\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"
	    "ab",
	    14);
	CHECK(refused(x, 14));
	/* More fields than an event may have. */
	n = 0;
	x[n++] = 1;
	for (k = 0; k <= CRM_EV_MAXFIELDS; k++) {
		x[n++] = 5; /* subject */
		x[n++] = 0;
	}
	CHECK(refused(x, n));
	CHECK(!refused(x, n - 2));
	/* A non-minimal varint is read, which makes the encoding not
	 * canonical: re-encoding gives the minimal form. */
	memcpy(x,
	    "\x81\x00\x85\x00\x01"
	    "a",
	    6); /* purchase, subject=a */
	CHECK(crm_event_decode(&d, x, 6) == 0 && d.n == 1 &&
	    same_str(d.type, d.tlen, "purchase", 8) &&
	    same_str(d.f[0].val, d.f[0].vlen, "a", 1));
	CHECK(crm_event_encode(&d, &b) == 0 && b.len == 4 &&
	    memcmp(b.p,
		"\x01\x05\x01"
		"a",
		4) == 0);
	/* A built-in name spelt out is read as that name. */
	memcpy(x,
	    "\x00\x04"
	    "call"
	    "\x00\x07"
	    "subject"
	    "\x00",
	    16);
	CHECK(crm_event_decode(&d, x, 16) == 0 &&
	    crm_evtype_lookup(d.type, d.tlen) == CRM_EV_CALL && d.n == 1 &&
	    crm_event_encode(&d, &b) == 0 && b.len == 3);
	crm_buf_free(&b);
}

struct key {
	uint64_t contact;
	int64_t ts;
	uint64_t id;
};

static int
key_cmp(const struct key *a, const struct key *b)
{
	if (a->contact != b->contact)
		return a->contact < b->contact ? -1 : 1;
	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	if (a->id != b->id)
		return a->id < b->id ? -1 : 1;
	return 0;
}

static int
sign(int x)
{
	return (x > 0) - (x < 0);
}

static void
test_key(void)
{
	static const int64_t ts[] = { INT64_MIN, INT64_MIN + 1, -86401, -86400,
		-1, 0, 1, 86399, 1716214673, INT64_MAX - 1, INT64_MAX };
	static const uint64_t ids[] = { 0, 1, 255, 256, UINT64_MAX };
	static const uint64_t contacts[] = { 1, 2, 0x100, UINT64_MAX };
	struct key k[sizeof(ts) / sizeof(ts[0]) * 5 * 4], u;
	unsigned char ka[CRM_EVKEY_LEN], kb[CRM_EVKEY_LEN];
	size_t n = 0, i, j, bad = 0, badorder = 0;

	for (i = 0; i < sizeof(contacts) / sizeof(contacts[0]); i++)
		for (j = 0; j < sizeof(ts) / sizeof(ts[0]); j++) {
			k[n].contact = contacts[i];
			k[n].ts = ts[j];
			k[n].id = ids[(i + j) % 5];
			n++;
			k[n].contact = contacts[i];
			k[n].ts = ts[j];
			k[n].id = ids[(i + j + 2) % 5];
			n++;
		}
	for (i = 0; i < n; i++) {
		crm_evkey_pack(k[i].contact, k[i].ts, k[i].id, ka);
		crm_evkey_unpack(ka, &u.contact, &u.ts, &u.id);
		bad += key_cmp(&u, &k[i]) != 0;
	}
	CHECK(bad == 0);
	/* memcmp order, which LMDB uses, is (contact, ts, id) order. */
	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++) {
			crm_evkey_pack(k[i].contact, k[i].ts, k[i].id, ka);
			crm_evkey_pack(k[j].contact, k[j].ts, k[j].id, kb);
			badorder += sign(memcmp(ka, kb, CRM_EVKEY_LEN)) !=
			    key_cmp(&k[i], &k[j]);
		}
	CHECK(badorder == 0);
	/* One contact's keys lie between (contact, INT64_MIN, 0) and
	 * (contact + 1, INT64_MIN, 0), the range a timeline is read by. */
	crm_evkey_pack(2, INT64_MIN, 0, ka);
	crm_evkey_pack(2, -1, 7, kb);
	CHECK(memcmp(ka, kb, CRM_EVKEY_LEN) < 0);
	crm_evkey_pack(3, INT64_MIN, 0, ka);
	crm_evkey_pack(2, INT64_MAX, UINT64_MAX, kb);
	CHECK(memcmp(kb, ka, CRM_EVKEY_LEN) < 0);
	/* Big-endian: the contact is the first 8 bytes. */
	crm_evkey_pack(0x0102030405060708ULL, 0, 9, ka);
	CHECK(ka[0] == 1 && ka[7] == 8 && ka[8] == 0x80 && ka[15] == 0 &&
	    ka[23] == 9);
}

/* crm_event_value of name=val: want the normal form, or NULL for bad. */
static int
value_is(const char *name, const char *val, const char *want)
{
	struct crm_buf out = { 0 };
	char why[200] = "";
	int rc, ok;

	rc = crm_event_value(name, strlen(name), val, strlen(val), &out, why,
	    sizeof(why));
	if (want == NULL)
		ok = rc == CRM_EINVAL && why[0] != '\0';
	else
		ok = rc == 0 && same_str(out.p, out.len, want, strlen(want));
	if (!ok)
		printf("    %s=\"%s\": rc %d, \"%.*s\", why \"%s\"\n", name,
		    val, rc, (int)out.len, out.p ? out.p : "", why);
	crm_buf_free(&out);
	return ok;
}

static void
test_value(void)
{
	struct crm_buf out = { 0 };
	char why[200];

	CHECK(value_is("amount", "12.50", "12.50"));
	CHECK(value_is("amount", " 12.50 ", "12.50"));
	CHECK(value_is("amount", "+3.1", "3.1"));
	CHECK(value_is("amount", "-0.05", "-0.05"));
	CHECK(value_is("amount", "007", "7"));
	CHECK(value_is("amount", "0.000", "0.000"));
	CHECK(value_is("amount", "123456789.123456789", "123456789.123456789"));
	CHECK(value_is("amount", "", ""));
	CHECK(value_is("amount", "  ", ""));
	CHECK(value_is("amount", "1,50", NULL));
	CHECK(value_is("amount", "1e3", NULL));
	/* A trailing point is read as no decimals. */
	CHECK(value_is("amount", "12.", "12"));
	CHECK(value_is("amount", "0.1234567891", NULL));
	CHECK(value_is("amount", "EUR 5", NULL));
	CHECK(value_is("amount", "NaN", NULL));
	CHECK(value_is("score", " 7 ", "7"));
	CHECK(value_is("score", "7.5", NULL));
	CHECK(value_is("score", "x", NULL));
	CHECK(value_is("ext_id", " X-1 ", "X-1"));
	CHECK(value_is("order_id", "\tO-1 ", "O-1"));
	CHECK(value_is("metric", " nps ", "nps"));
	/* Other values are kept as given, white space and all. */
	CHECK(value_is("subject", " hi there ", " hi there "));
	CHECK(value_is("Amount", "not checked", "not checked"));
	CHECK(value_is("note", "\xc3\xa9t\xc3\xa9", "\xc3\xa9t\xc3\xa9"));
	/* Invalid UTF-8 is refused in any field. */
	CHECK(value_is("note", "ab\xff", NULL));
	CHECK(value_is("subject", "\xc0\xaf", NULL));
	CHECK(value_is("amount", "1\xff", NULL));
	CHECK(value_is("ext_id", "\xe2\x82", NULL));
	CHECK(crm_event_value("note", 4, "\xff", 1, &out, why, sizeof(why)) ==
		CRM_EINVAL &&
	    strstr(why, "UTF-8") != NULL);
	CHECK(crm_event_value("amount", 6, "x", 1, &out, why, sizeof(why)) ==
		CRM_EINVAL &&
	    strstr(why, "amount") != NULL);
	crm_buf_free(&out);
}

/*
 * crm_event_value_norm gives what crm_event_value gives, as a part of the
 * value (borrowed) or, for an amount written anew, in tmp.
 */
static int
norm_is(const char *name, const char *val, const char *want, int borrowed)
{
	struct crm_buf tmp = { 0 };
	const char *v = val;
	size_t n = strlen(val);
	char why[200] = "";
	int rc, ok;

	crm_buf_adds(&tmp, "left over");
	rc = crm_event_value_norm(name, strlen(name), &v, &n, &tmp, why,
	    sizeof(why));
	if (want == NULL)
		ok = rc == CRM_EINVAL && why[0] != '\0' &&
		    value_is(name, val, NULL);
	else
		ok = rc == 0 && same_str(v, n, want, strlen(want)) &&
		    value_is(name, val, want) &&
		    (borrowed ? v >= val && v + n <= val + strlen(val) &&
				tmp.len == 0 :
				v == tmp.p && n == tmp.len && tmp.len > 0);
	if (!ok)
		printf("    %s=\"%s\": rc %d, \"%.*s\", why \"%s\"\n", name,
		    val, rc, (int)n, v ? v : "", why);
	crm_buf_free(&tmp);
	return ok;
}

static void
test_value_norm(void)
{
	struct crm_buf out = { 0 };
	char why[200];

	/* An amount already in its normal form is borrowed too. */
	CHECK(norm_is("amount", " 12.50 ", "12.50", 1));
	CHECK(norm_is("amount", "-0.05", "-0.05", 1));
	CHECK(norm_is("amount", "0", "0", 1));
	CHECK(norm_is("amount", "007", "7", 0));
	CHECK(norm_is("amount", "+3.1", "3.1", 0));
	CHECK(norm_is("amount", "-0.00", "0.00", 0));
	CHECK(norm_is("amount", ".5", "0.5", 0));
	CHECK(norm_is("amount", "12.", "12", 0));
	CHECK(norm_is("amount", "0.50", "0.50", 1));
	CHECK(norm_is("amount", "  ", "", 1));
	CHECK(norm_is("amount", "1,50", NULL, 0));
	CHECK(norm_is("score", " 7 ", "7", 1));
	CHECK(norm_is("score", "7.5", NULL, 0));
	CHECK(norm_is("ext_id", " X-1 ", "X-1", 1));
	CHECK(norm_is("order_id", "\tO-1 ", "O-1", 1));
	CHECK(norm_is("metric", " nps ", "nps", 1));
	CHECK(norm_is("subject", " hi there ", " hi there ", 1));
	CHECK(norm_is("note", "", "", 1));
	CHECK(norm_is("note", "ab\xff", NULL, 0));
	/* crm_event_value replaces what out held. */
	crm_buf_adds(&out, "left over");
	CHECK(crm_event_value("note", 4, "x", 1, &out, why, sizeof(why)) == 0 &&
	    same_str(out.p, out.len, "x", 1));
	crm_buf_adds(&out, "left over");
	CHECK(crm_event_value("amount", 6, "1.0", 3, &out, why, sizeof(why)) ==
		0 &&
	    same_str(out.p, out.len, "1.0", 3));
	crm_buf_free(&out);
}

/* Built-in names are found by their whole name, fields in any case. */
static void
test_names(void)
{
	static const char *const fields[] = { "ext_id", "amount", "order_id",
		"channel", "subject", "text", "campaign", "metric", "score",
		"case_id", "priority", "deal_id", "stage", "source",
		"currency" };
	struct crm_event e = { .type = "web", .tlen = 3, .n = 1 };
	struct crm_buf b = { 0 };
	const char *fn;
	char big[300];
	size_t i;

	for (i = 1; i < CRM_NEVTYPE; i++)
		CHECK(crm_evtype_lookup(crm_evtype_names[i],
			  strlen(crm_evtype_names[i])) == (int)i);
	/* Each built-in field is one byte of tag, in order from 1. */
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		e.f[0] = (struct crm_evfield){ fields[i], "v",
			strlen(fields[i]), 1 };
		fn = crm_event_field_name(fields[i], strlen(fields[i]));
		CHECK(fn != NULL && strcmp(fn, fields[i]) == 0);
		CHECK(crm_event_encode(&e, &b) == 0 && b.len == 8 &&
		    (unsigned char)b.p[5] == i + 1);
	}
	/* The encoding, byte by byte: a type and a field spelt out, a
	 * value of two varint bytes. */
	memset(big, 'x', sizeof(big));
	e.type = "refund";
	e.tlen = 6;
	e.n = 2;
	e.f[0] = (struct crm_evfield){ "Note", "hi", 4, 2 };
	e.f[1] = (struct crm_evfield){ "order_id", big, 8, 200 };
	CHECK(crm_event_encode(&e, &b) == 0 && b.len == 2 + 6 + 2 + 3 + 200 &&
	    memcmp(b.p,
		"\x02\x00\x04"
		"Note"
		"\x02"
		"hi"
		"\x03\xc8\x01",
		13) == 0 &&
	    memcmp(b.p + 13, big, 200) == 0);
	crm_buf_free(&b);

	CHECK(crm_evtype_lookup("purchase", 8) == CRM_EV_PURCHASE);
	CHECK(crm_evtype_lookup("email_open", 10) == CRM_EV_EMAIL_OPEN);
	CHECK(crm_evtype_lookup("email", 5) == CRM_EV_EMAIL);
	CHECK(crm_evtype_lookup("deal", 4) == CRM_EV_DEAL);
	CHECK(crm_evtype_lookup("emai", 4) == CRM_EV_OTHER);
	CHECK(crm_evtype_lookup("email_opens", 11) == CRM_EV_OTHER);
	CHECK(crm_evtype_lookup("Purchase", 8) == CRM_EV_OTHER);
	CHECK(crm_evtype_lookup("", 0) == CRM_EV_OTHER);
	CHECK(crm_evtype_lookup("x", 1) == CRM_EV_OTHER);
	CHECK(crm_event_field_name("amount", 6) != NULL &&
	    strcmp(crm_event_field_name("AMOUNT", 6), "amount") == 0);
	CHECK(crm_event_field_name("Ext_Id", 6) != NULL &&
	    strcmp(crm_event_field_name("Ext_Id", 6), "ext_id") == 0);
	CHECK(crm_event_field_name("currency", 8) != NULL &&
	    strcmp(crm_event_field_name("cURRENCY", 8), "currency") == 0);
	CHECK(crm_event_field_name("amoun", 5) == NULL);
	CHECK(crm_event_field_name("amounts", 7) == NULL);
	CHECK(crm_event_field_name("xmount", 6) == NULL);
	CHECK(crm_event_field_name("", 0) == NULL);
	CHECK(crm_event_field_name("\0mount", 6) == NULL);
}

/* crm_event_check of a type with fields name=value...: 0 or CRM_EINVAL. */
static int
check_of(const char *type, const char *why_has, ...)
{
	struct crm_event e = { 0 };
	char why[200] = "";
	const char *name;
	va_list ap;
	int rc;

	settype(&e, type);
	va_start(ap, why_has);
	while ((name = va_arg(ap, const char *)) != NULL)
		setf(&e, e.n++, name, va_arg(ap, const char *));
	va_end(ap);
	rc = crm_event_check(&e, why, sizeof(why));
	if (why_has == NULL)
		return rc == 0;
	if (rc == CRM_EINVAL && strstr(why, why_has) != NULL)
		return 1;
	printf("    %s: rc %d, why \"%s\", want \"%s\"\n", type, rc, why,
	    why_has);
	return 0;
}

static void
test_check(void)
{
	CHECK(check_of("purchase", NULL, "amount", "1", NULL));
	CHECK(check_of("purchase", "a purchase needs an amount", NULL));
	CHECK(check_of("purchase", "a purchase needs an amount", "order_id",
	    "O1", NULL));
	CHECK(check_of("refund", NULL, "amount", "1", NULL));
	CHECK(check_of("refund", "a refund needs an amount", NULL));
	CHECK(check_of("survey", NULL, "metric", "nps", "score", "0", NULL));
	CHECK(check_of("survey", NULL, "metric", "nps", "score", "10", NULL));
	CHECK(check_of("survey", "nps score must be 0 to 10", "metric", "nps",
	    "score", "11", NULL));
	CHECK(check_of("survey", "nps score must be 0 to 10", "metric", "nps",
	    "score", "-1", NULL));
	CHECK(check_of("survey", NULL, "score", "1", "metric", "csat", NULL));
	CHECK(check_of("survey", NULL, "metric", "csat", "score", "5", NULL));
	CHECK(check_of("survey", "csat score must be 1 to 5", "metric", "csat",
	    "score", "0", NULL));
	CHECK(check_of("survey", "csat score must be 1 to 5", "metric", "csat",
	    "score", "6", NULL));
	CHECK(check_of("survey", "score must be", "metric", "nps", "score",
	    "high", NULL));
	CHECK(
	    check_of("survey", "metric", "metric", "NPS", "score", "5", NULL));
	CHECK(
	    check_of("survey", "metric", "metric", "ces", "score", "5", NULL));
	CHECK(check_of("survey", "metric", "score", "5", NULL));
	CHECK(check_of("survey", "score", "metric", "nps", NULL));
	/* Other types need nothing. */
	CHECK(check_of("call", NULL, NULL));
	CHECK(check_of("deal", NULL, "stage", "won", NULL));
	CHECK(check_of("webinar", NULL, NULL));
	CHECK(check_of("purchases", NULL, NULL));
}

static int
type_ok(const struct crm_config *cf, const char *s, const char *why_has)
{
	char why[200] = "";
	int rc = crm_event_type_check(cf, s, strlen(s), why, sizeof(why));

	if (why_has == NULL)
		return rc == 0;
	return rc == CRM_EINVAL && strstr(why, why_has) != NULL;
}

static void
test_type(void)
{
	struct crm_config *cf;
	char err[300], path[] = "/tmp/unit-event-XXXXXX", long_name[200];
	FILE *fp;
	int fd;

	CHECK(type_ok(NULL, "purchase", NULL));
	CHECK(type_ok(NULL, "web-inar.2_x", NULL));
	CHECK(type_ok(NULL, "", "missing type"));
	CHECK(type_ok(NULL, "phone call", "invalid type \"phone call\""));
	CHECK(type_ok(NULL, "caf\xc3\xa9", "invalid type"));
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	CHECK(type_ok(NULL, long_name, "too long"));
	long_name[79] = '\0';
	CHECK(type_ok(NULL, long_name, NULL));
	if ((fd = mkstemp(path)) < 0 || (fp = fdopen(fd, "w")) == NULL)
		abort();
	fputs("types: [call, purchase, web-inar]\n", fp);
	fclose(fp);
	CHECK(crm_config_load(path, &cf, err, sizeof(err)) == 0);
	unlink(path);
	CHECK(type_ok(cf, "call", NULL));
	CHECK(type_ok(cf, "web-inar", NULL));
	CHECK(type_ok(cf, "visit",
	    "type \"visit\" is not in the config's types"));
	CHECK(type_ok(cf, "Call", "not in the config"));
	CHECK(type_ok(cf, "cal", "not in the config"));
	CHECK(type_ok(cf, "bad type", "invalid type"));
	crm_config_free(cf);
}

static void
test_stats(void)
{
	struct crm_stats s;
	char v[CRM_NSTAT][32];
	static const char *const names[CRM_NSTAT] = { "first_seen_at",
		"last_seen_at", "events", "first_purchase_at",
		"last_purchase_at", "purchases", "purchase_days", "revenue" };
	size_t i;
	int same = 1;

	for (i = 0; i < CRM_NSTAT; i++)
		same &= strcmp(crm_stat_names[i], names[i]) == 0;
	CHECK(same);
	crm_stats_init(&s);
	crm_stats_format(&s, v);
	CHECK(v[0][0] == '\0' && v[1][0] == '\0' && strcmp(v[2], "0") == 0 &&
	    v[3][0] == '\0' && v[4][0] == '\0' && strcmp(v[5], "0") == 0 &&
	    strcmp(v[6], "0") == 0 && strcmp(v[7], "0.00") == 0);
	s.first_seen = -1;
	s.last_seen = 1716214673;
	s.events = 18446744073709551615ULL;
	s.first_purchase = 0;
	s.last_purchase = 86400;
	s.purchases = 3;
	s.purchase_days = 2;
	crm_dec_parse("-2.625", 6, &s.revenue);
	crm_stats_format(&s, v);
	CHECK(strcmp(v[0], "1969-12-31T23:59:59Z") == 0);
	CHECK(strcmp(v[1], "2024-05-20T14:17:53Z") == 0);
	CHECK(strcmp(v[2], "18446744073709551615") == 0);
	CHECK(strcmp(v[3], "1970-01-01T00:00:00Z") == 0);
	CHECK(strcmp(v[4], "1970-01-02T00:00:00Z") == 0);
	CHECK(strcmp(v[5], "3") == 0 && strcmp(v[6], "2") == 0);
	CHECK(strcmp(v[7], "-2.625") == 0);
	/* The revenue has at least two decimals, and no needless zeros. */
	crm_dec_parse("40.000", 6, &s.revenue);
	crm_stats_format(&s, v);
	CHECK(strcmp(v[7], "40.00") == 0);
	crm_dec_parse("199999999.98", 12, &s.revenue);
	crm_stats_format(&s, v);
	CHECK(strcmp(v[7], "199999999.98") == 0);
	crm_dec_parse("0.1", 3, &s.revenue);
	crm_stats_format(&s, v);
	CHECK(strcmp(v[7], "0.10") == 0);
}

int
main(void)
{
	test_round_trip();
	test_decode_bad();
	test_key();
	test_value();
	test_value_norm();
	test_names();
	test_check();
	test_type();
	test_stats();
	return UNIT_DONE("unit-event");
}
