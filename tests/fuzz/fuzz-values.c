/*
 * The value parsers: times, decimals, e-mail addresses, tag sets, booleans
 * and the UTF-8 check, with the properties they promise.
 */
/* First: it sets _GNU_SOURCE for memfd_create(2). */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "crm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

static void
check_time(const char *s, size_t n)
{
	char out[CRM_TIME_LEN];
	int64_t t, t2;

	if (crm_time_parse(s, n, &t, NULL) != 0)
		return;
	crm_time_format(t, out);
	/* The normal form reads back as the same time (in 0000..9999). */
	if (t >= -62167219200LL && t < 253402300800LL &&
	    (crm_time_parse(out, strlen(out), &t2, NULL) != 0 || t2 != t))
		abort();
}

static void
check_dec(const char *s, size_t n)
{
	struct crm_dec d, d2;
	char out[CRM_DEC_LEN];

	if (crm_dec_parse(s, n, &d) != 0)
		return;
	crm_dec_format(d, 0, out);
	if (crm_dec_parse(out, strlen(out), &d2) != 0 || crm_dec_cmp(d, d2))
		abort();
}

static void
check_email(const char *s, size_t n)
{
	char out[300], again[300];
	size_t len, len2;

	if (n > 280 || crm_email_norm(s, n, out, &len) != 0)
		return;
	/* Normalising is idempotent. */
	if (crm_email_norm(out, len, again, &len2) != 0 || len != len2 ||
	    memcmp(out, again, len) != 0)
		abort();
}

static void
check_tags(const char *s, size_t n)
{
	struct crm_buf a = { 0 }, b = { 0 }, c = { 0 };

	if (crm_tags_norm(s, n, ';', &a) == 0 &&
	    (crm_tags_norm(a.p, a.len, ';', &b) != 0 || a.len != b.len ||
		memcmp(a.p, b.p, a.len) != 0))
		abort();
	crm_tags_norm(s, n, ',', &a);
	/* Without a quote, items are taken in place (crm_tags_norm()); an
	 * empty quoted item appended makes it read them one by one. */
	if (memchr(s, '"', n) == NULL && crm_tags_norm(s, n, ';', &a) == 0) {
		b.len = 0;
		if (crm_buf_add(&b, s, n) || crm_buf_adds(&b, ";\"\""))
			abort();
		if (crm_tags_norm(b.p, b.len, ';', &c) != 0 || a.len != c.len ||
		    memcmp(a.p, c.p, a.len) != 0)
			abort();
	}
	crm_buf_free(&a);
	crm_buf_free(&c);
	crm_buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	const char *s = (const char *)data;
	size_t bad;
	int b;

	check_time(s, n);
	check_dec(s, n);
	check_email(s, n);
	check_tags(s, n);
	crm_bool_parse(s, n, &b);
	crm_utf8_valid(s, n, &bad);
	return 0;
}
