/*
 * NDJSON: one flat JSON object a line. A value is a string, a number (kept
 * as written), true, false, null (an empty value), or an array of those (a
 * set, joined in the tag normal form). Nested objects are refused.
 */
#ifndef CRM_JSON_H
#define CRM_JSON_H

#include <stddef.h>

#include "buf.h"

struct crm_jobj {
	size_t n, cap;
	size_t *koff, *klen, *voff, *vlen; /* into data */
	struct crm_buf data;
	int *isarr;
};

/* Parses one object; on CRM_EPARSE, err says what and where (byte column). */
int crm_json_parse(const char *s, size_t n, struct crm_jobj *o, char *err,
    size_t errlen);
void crm_json_free(struct crm_jobj *o);
/* Appends s as a JSON string literal. */
int crm_json_str(struct crm_buf *b, const char *s, size_t n);

#endif
