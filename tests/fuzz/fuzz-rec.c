/*
 * The record decoder: any bytes either fail cleanly or decode to a record
 * that encodes and decodes again to the same fields.
 */
/* First: it sets _GNU_SOURCE for memfd_create(2). */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "crm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	struct crm_rec a = { 0 }, b = { 0 };
	struct crm_buf enc = { 0 }, enc2 = { 0 };

	if (crm_rec_decode(&a, data, n) == 0) {
		if (crm_rec_encode(&a, &enc) != 0 ||
		    crm_rec_decode(&b, enc.p, enc.len) != 0 || a.n != b.n ||
		    crm_rec_encode(&b, &enc2) != 0 || enc.len != enc2.len ||
		    memcmp(enc.p, enc2.p, enc.len) != 0)
			abort();
	}
	crm_rec_free(&a);
	crm_rec_free(&b);
	crm_buf_free(&enc);
	crm_buf_free(&enc2);
	return 0;
}
