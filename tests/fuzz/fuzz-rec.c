/*
 * The record decoder: any bytes either fail cleanly or decode to a record
 * that encodes and decodes again to the same fields. Records of format 2
 * refer to a table of three strings (../unit-strtab.h).
 */
/* First: it sets _GNU_SOURCE for memfd_create(2). */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "../unit-strtab.h"
#include "crm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	const struct crm_strtab tab = { tab3_get, tab3_find };
	struct crm_rec a = { 0 }, b = { 0 };
	struct crm_buf enc = { 0 }, enc2 = { 0 };
	int rc;

	/* Without the table a record that refers to it is refused. */
	if ((rc = crm_rec_decode(&a, data, n)) == 0 && n > 0 && data[0] == 2)
		abort();
	if (crm_rec_decode_with(&a, data, n, &tab) == 0) {
		if (crm_rec_encode(&a, &enc) != 0 ||
		    crm_rec_decode(&b, enc.p, enc.len) != 0 || a.n != b.n ||
		    crm_rec_encode(&b, &enc2) != 0 || enc.len != enc2.len ||
		    memcmp(enc.p, enc2.p, enc.len) != 0)
			abort();
		if (crm_rec_encode_with(&a, &tab, &enc) != 0 ||
		    crm_rec_decode_with(&b, enc.p, enc.len, &tab) != 0 ||
		    a.n != b.n || crm_rec_encode_with(&b, &tab, &enc2) != 0 ||
		    enc.len != enc2.len || memcmp(enc.p, enc2.p, enc.len) != 0)
			abort();
	} else if (rc == 0)
		abort(); /* what reads without a table reads with one */
	crm_rec_free(&a);
	crm_rec_free(&b);
	crm_buf_free(&enc);
	crm_buf_free(&enc2);
	return 0;
}
