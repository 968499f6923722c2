/*
 * The event decoder: any bytes either fail cleanly or decode to an event
 * that encodes, decodes again to the same type and fields, and encodes
 * again to the same bytes. The input itself need not come back: the
 * decoder also reads non-minimal varints and built-in names spelt out,
 * which the encoder writes in their short form. The first 24 bytes, read
 * as an event key, pack back to themselves.
 */
/* First: it sets _GNU_SOURCE for memfd_create(2). */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "crm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

static int
same(const char *a, size_t an, const char *b, size_t bn)
{
	return an == bn && (an == 0 || memcmp(a, b, an) == 0);
}

static void
check_same(const struct crm_event *a, const struct crm_event *b)
{
	size_t i;

	if (a->n != b->n || !same(a->type, a->tlen, b->type, b->tlen))
		abort();
	for (i = 0; i < a->n; i++)
		if (!same(a->f[i].name, a->f[i].nlen, b->f[i].name,
			b->f[i].nlen) ||
		    !same(a->f[i].val, a->f[i].vlen, b->f[i].val, b->f[i].vlen))
			abort();
}

static void
check_key(const uint8_t *data, size_t n)
{
	unsigned char key[CRM_EVKEY_LEN];
	uint64_t contact, id;
	int64_t ts;

	if (n < CRM_EVKEY_LEN)
		return;
	crm_evkey_unpack(data, &contact, &ts, &id);
	crm_evkey_pack(contact, ts, id, key);
	if (memcmp(key, data, CRM_EVKEY_LEN) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	struct crm_event a, b;
	struct crm_buf enc = { 0 }, enc2 = { 0 };
	char why[200];
	size_t i;

	check_key(data, n);
	if (crm_event_decode(&a, data, n) == 0) {
		if (a.n > CRM_EV_MAXFIELDS || a.tlen == 0)
			abort();
		for (i = 0; i < a.n; i++)
			if (a.f[i].nlen == 0)
				abort();
		/* The checks read every field; they must not trip. */
		(void)crm_event_check(&a, why, sizeof(why));
		(void)crm_event_get(&a, "amount", NULL);
		if (crm_event_encode(&a, &enc) != 0 ||
		    crm_event_decode(&b, enc.p, enc.len) != 0)
			abort();
		check_same(&a, &b);
		if (crm_event_encode(&b, &enc2) != 0 || enc.len != enc2.len ||
		    memcmp(enc.p, enc2.p, enc.len) != 0 || enc.len > n)
			abort();
	}
	crm_buf_free(&enc);
	crm_buf_free(&enc2);
	return 0;
}
