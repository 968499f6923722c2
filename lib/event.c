#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "errors.h"
#include "event.h"
#include "text.h"
#include "times.h"

/*
 * Built-in names are kept in slots of a fixed width, so that a name of n
 * bytes is told from a longer one without measuring it: name[n] is NUL.
 * Names are looked up for every event written or read, so the candidates
 * of each length are listed (by index; the unit tests hold every name to
 * its index).
 */
#define TYPEW 13 /* "ticket_close" and its NUL */
static const char types[CRM_NEVTYPE][TYPEW] = { "", "purchase", "refund",
	"email", "call", "meeting", "note", "visit", "email_sent", "email_open",
	"email_click", "subscribe", "unsubscribe", "survey", "ticket_open",
	"ticket_close", "deal" };
static const unsigned char types_by_len[TYPEW][4] = { [4] = { 4, 6, 16 },
	[5] = { 3, 7 },
	[6] = { 2, 13 },
	[7] = { 5 },
	[8] = { 1 },
	[9] = { 11 },
	[10] = { 8, 9 },
	[11] = { 10, 12, 14 },
	[12] = { 15 } };

const char *const crm_evtype_names[CRM_NEVTYPE] = { types[0], types[1],
	types[2], types[3], types[4], types[5], types[6], types[7], types[8],
	types[9], types[10], types[11], types[12], types[13], types[14],
	types[15], types[16] };

/* Field names with a tag of their own in the encoding (index = tag). */
#define FIELDW 9
static const char fnames[][FIELDW] = { "", "ext_id", "amount", "order_id",
	"channel", "subject", "text", "campaign", "metric", "score", "case_id",
	"priority", "deal_id", "stage", "source", "currency" };
#define NFNAMES (sizeof(fnames) / sizeof(fnames[0]))
static const unsigned char fnames_by_len[FIELDW][4] = { [4] = { 6 },
	[5] = { 9, 13 },
	[6] = { 1, 2, 8, 14 },
	[7] = { 4, 5, 10, 12 },
	[8] = { 3, 7, 11, 15 } };

/* Whether n bytes, 4 <= n <= 16, are the same: two words of each, which
 * overlap where n is not twice a word. */
static int
same_bytes(const char *a, const char *b, size_t n)
{
	uint64_t x, y, u, v;
	uint32_t x4, y4, u4, v4;

	if (n <= 8) {
		memcpy(&x4, a, 4);
		memcpy(&y4, a + n - 4, 4);
		memcpy(&u4, b, 4);
		memcpy(&v4, b + n - 4, 4);
		return x4 == u4 && y4 == v4;
	}
	memcpy(&x, a, 8);
	memcpy(&y, a + n - 8, 8);
	memcpy(&u, b, 8);
	memcpy(&v, b + n - 8, 8);
	return x == u && y == v;
}

/* Built-in names are at least four bytes long, and shorter than a slot. */
static int
lookup(const char *names, size_t width, const unsigned char by_len[][4],
    const char *s, size_t n)
{
	size_t i;

	if (n < 4 || n >= width)
		return 0;
	for (i = 0; i < 4 && by_len[n][i] != 0; i++)
		if (same_bytes(names + by_len[n][i] * width, s, n))
			return by_len[n][i];
	return 0;
}

const char *
crm_event_field_name(const char *s, size_t n)
{
	size_t i;
	int c, t;

	if (n == 0 || n >= FIELDW)
		return NULL;
	c = s[0] >= 'A' && s[0] <= 'Z' ? s[0] + 32 : s[0];
	for (i = 0; i < 4 && (t = fnames_by_len[n][i]) != 0; i++)
		if (fnames[t][0] == c && strncasecmp(fnames[t], s, n) == 0)
			return fnames[t];
	return NULL;
}

int
crm_evtype_lookup(const char *s, size_t n)
{
	return lookup((const char *)types, TYPEW, types_by_len, s, n);
}

/*
 * The tag of a field name. A name from crm_event_field_name() or from a
 * decoding points into fnames, which tells its tag without a lookup.
 */
static int
field_tag(const char *s, size_t n)
{
	uintptr_t at = (uintptr_t)s - (uintptr_t)fnames;

	if (at < sizeof(fnames) && at % FIELDW == 0 && n > 0 && n < FIELDW &&
	    s[n - 1] != '\0' && s[n] == '\0')
		return (int)(at / FIELDW);
	return lookup((const char *)fnames, FIELDW, fnames_by_len, s, n);
}

const char *
crm_event_get(const struct crm_event *e, const char *name, size_t *vlen)
{
	size_t i, n = strlen(name);

	for (i = 0; i < e->n; i++)
		if (e->f[i].nlen == n && memcmp(e->f[i].name, name, n) == 0) {
			if (vlen != NULL)
				*vlen = e->f[i].vlen;
			return e->f[i].val;
		}
	return NULL;
}

static int
why_is(char *why, size_t whylen, const char *fmt, const char *a)
{
	snprintf(why, whylen, fmt, a);
	return CRM_EINVAL;
}

int
crm_event_type_check(const struct crm_config *cf, const char *s, size_t n,
    char *why, size_t whylen)
{
	char name[80];
	size_t i;

	if (n == 0)
		return why_is(why, whylen, "type: missing type%s", "");
	if (n >= sizeof(name))
		return why_is(why, whylen, "type: type name too long%s", "");
	memcpy(name, s, n);
	name[n] = '\0';
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
			(s[i] >= 'A' && s[i] <= 'Z') ||
			(s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
			s[i] == '-' || s[i] == '.'))
			return why_is(why, whylen,
			    "type: invalid type \"%s\" (letters, digits, _ - . "
			    "only)",
			    name);
	if (cf != NULL && !crm_config_type_ok(cf, s, n))
		return why_is(why, whylen,
		    "type: type \"%s\" is not in the config's types", name);
	return 0;
}

/*
 * Whether an amount that parses is written as crm_dec_format() writes it
 * at its own scale, as most are: no '+', no '-' on zero, no leading zero,
 * digits on both sides of a point. Then it is its own normal form.
 */
static int
normal_amount(const char *s, size_t n, struct crm_dec d)
{
	size_t i = s[0] == '-';

	if (s[0] == '+' || (i && d.v == 0) || i >= n || s[i] == '.' ||
	    s[n - 1] == '.')
		return 0;
	return s[i] != '0' || i + 1 == n || s[i + 1] == '.';
}

int
crm_event_value_norm(const char *name, size_t nlen, const char **v, size_t *n,
    struct crm_buf *tmp, char *why, size_t whylen)
{
	char dec[CRM_DEC_LEN];
	struct crm_dec d;
	int64_t x;

	tmp->len = 0;
	if (!crm_utf8_valid(*v, *n, NULL))
		return why_is(why, whylen, "invalid UTF-8 in %s", "a value");
	if (nlen == 6 && memcmp(name, "amount", 6) == 0) {
		crm_trim(v, n);
		if (*n == 0)
			return 0;
		if (crm_dec_parse(*v, *n, &d))
			return why_is(why, whylen,
			    "invalid amount (an exact decimal such as 12.50)%s",
			    "");
		if (normal_amount(*v, *n, d))
			return 0;
		crm_dec_format(d, d.scale, dec);
		if (crm_buf_adds(tmp, dec))
			return CRM_ENOMEM;
		*v = tmp->p;
		*n = tmp->len;
		return 0;
	}
	if (nlen == 5 && memcmp(name, "score", 5) == 0) {
		crm_trim(v, n);
		if (*n > 0 && crm_int_parse(*v, *n, &x))
			return why_is(why, whylen,
			    "invalid score (a whole number)%s", "");
	}
	if ((nlen == 6 && memcmp(name, "ext_id", 6) == 0) ||
	    (nlen == 8 && memcmp(name, "order_id", 8) == 0) ||
	    (nlen == 6 && memcmp(name, "metric", 6) == 0))
		crm_trim(v, n);
	return 0;
}

int
crm_event_value(const char *name, size_t nlen, const char *v, size_t n,
    struct crm_buf *out, char *why, size_t whylen)
{
	int rc = crm_event_value_norm(name, nlen, &v, &n, out, why, whylen);

	if (rc || out->len > 0) /* an error, or made in out */
		return rc;
	return crm_buf_add(out, v, n);
}

static int
check_survey(const struct crm_event *e, char *why, size_t whylen)
{
	const char *m, *s;
	size_t mn, sn;
	int64_t x, lo, hi;

	if ((m = crm_event_get(e, "metric", &mn)) == NULL)
		return why_is(why, whylen, "metric: a survey needs a metric%s",
		    "");
	if (mn == 3 && memcmp(m, "nps", 3) == 0)
		lo = 0, hi = 10;
	else if (mn == 4 && memcmp(m, "csat", 4) == 0)
		lo = 1, hi = 5;
	else
		return why_is(why, whylen,
		    "metric: unknown survey metric (nps or csat)%s", "");
	if ((s = crm_event_get(e, "score", &sn)) == NULL)
		return why_is(why, whylen, "score: a survey needs a score%s",
		    "");
	if (crm_int_parse(s, sn, &x) || x < lo || x > hi) {
		snprintf(why, whylen, "score: %.*s score must be %lld to %lld",
		    (int)mn, m, (long long)lo, (long long)hi);
		return CRM_EINVAL;
	}
	return 0;
}

int
crm_event_check(const struct crm_event *e, char *why, size_t whylen)
{
	switch (crm_evtype_lookup(e->type, e->tlen)) {
	case CRM_EV_PURCHASE:
	case CRM_EV_REFUND:
		if (crm_event_get(e, "amount", NULL) == NULL)
			return why_is(why, whylen,
			    "amount: a %s needs an amount",
			    e->tlen == 6 ? "refund" : "purchase");
		return 0;
	case CRM_EV_SURVEY:
		return check_survey(e, why, whylen);
	default:
		return 0;
	}
}

static void
put64(unsigned char *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

static uint64_t
get64(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

void
crm_evkey_pack(uint64_t contact, int64_t ts, uint64_t id,
    unsigned char key[CRM_EVKEY_LEN])
{
	/* Flipping the sign bit makes negative times sort before positive. */
	put64(key, contact);
	put64(key + 8, (uint64_t)ts ^ (1ULL << 63));
	put64(key + 16, id);
}

void
crm_evkey_unpack(const unsigned char key[CRM_EVKEY_LEN], uint64_t *contact,
    int64_t *ts, uint64_t *id)
{
	*contact = get64(key);
	*ts = (int64_t)(get64(key + 8) ^ (1ULL << 63));
	*id = get64(key + 16);
}

static unsigned char *
put_name(unsigned char *p, int tag, const char *s, size_t n)
{
	if (tag)
		return crm_varint_at(p, (uint64_t)tag);
	p = crm_varint_at(crm_varint_at(p, 0), n);
	if (n > 0)
		memcpy(p, s, n);
	return p + n;
}

/* Room is made once for the whole encoding (a varint takes at most ten
 * bytes), then it is written in place. */
int
crm_event_encode(const struct crm_event *e, struct crm_buf *out)
{
	const struct crm_evfield *f;
	unsigned char *p;
	size_t i, need = 20 + e->tlen;

	for (i = 0; i < e->n; i++)
		need += 30 + e->f[i].nlen + e->f[i].vlen;
	out->len = 0;
	if (crm_buf_grow(out, need))
		return CRM_ENOMEM;
	p = put_name((unsigned char *)out->p,
	    crm_evtype_lookup(e->type, e->tlen), e->type, e->tlen);
	for (i = 0; i < e->n; i++) {
		f = &e->f[i];
		p = put_name(p, field_tag(f->name, f->nlen), f->name, f->nlen);
		p = crm_varint_at(p, f->vlen);
		if (f->vlen > 0)
			memcpy(p, f->val, f->vlen);
		p += f->vlen;
	}
	out->len = (size_t)(p - (unsigned char *)out->p);
	return 0;
}

static int
get_name(const unsigned char **p, const unsigned char *end, const char *names,
    size_t width, size_t nnames, const char **s, size_t *n)
{
	uint64_t tag, len;

	if (crm_varint_get(p, end, &tag))
		return CRM_ESTORE;
	if (tag != 0) {
		if (tag >= nnames)
			return CRM_ESTORE;
		*s = names + tag * width;
		*n = strlen(*s);
		return 0;
	}
	if (crm_varint_get(p, end, &len) || len == 0 ||
	    len > (size_t)(end - *p))
		return CRM_ESTORE;
	*s = (const char *)*p;
	*n = len;
	*p += len;
	return 0;
}

int
crm_event_decode(struct crm_event *e, const void *data, size_t n)
{
	const unsigned char *p = data, *end = p + n;
	struct crm_evfield *f;
	uint64_t len;

	e->n = 0;
	if (get_name(&p, end, (const char *)types, TYPEW, CRM_NEVTYPE, &e->type,
		&e->tlen))
		return CRM_ESTORE;
	while (p < end) {
		if (e->n == CRM_EV_MAXFIELDS)
			return CRM_ESTORE;
		f = &e->f[e->n];
		if (get_name(&p, end, (const char *)fnames, FIELDW, NFNAMES,
			&f->name, &f->nlen) ||
		    crm_varint_get(&p, end, &len) || len > (size_t)(end - p))
			return CRM_ESTORE;
		f->val = (const char *)p;
		f->vlen = len;
		p += len;
		e->n++;
	}
	return 0;
}

void
crm_stats_init(struct crm_stats *s)
{
	memset(s, 0, sizeof(*s));
	s->first_seen = s->last_seen = CRM_TIME_NONE;
	s->first_purchase = s->last_purchase = CRM_TIME_NONE;
	s->revenue.scale = 2;
}

static void
fmt_time(int64_t t, char *out)
{
	if (t == CRM_TIME_NONE)
		out[0] = '\0';
	else
		crm_time_format(t, out);
}

void
crm_stats_format(const struct crm_stats *s, char out[][32])
{
	fmt_time(s->first_seen, out[0]);
	fmt_time(s->last_seen, out[1]);
	snprintf(out[2], 32, "%llu", (unsigned long long)s->events);
	fmt_time(s->first_purchase, out[3]);
	fmt_time(s->last_purchase, out[4]);
	snprintf(out[5], 32, "%llu", (unsigned long long)s->purchases);
	snprintf(out[6], 32, "%llu", (unsigned long long)s->purchase_days);
	crm_dec_format(s->revenue, 2, out[7]);
}
