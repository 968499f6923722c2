#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "dec.h"
#include "errors.h"
#include "rec.h"
#include "times.h"

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

int
crm_audit_ranges(struct crm_buf *b, const uint64_t *ids, size_t n)
{
	char tmp[48];
	size_t i, j;
	int rc = 0;

	for (i = 0; rc == 0 && i < n && b->len < 4000; i = j) {
		for (j = i + 1; j < n && ids[j] <= ids[j - 1] + 1; j++)
			;
		if (ids[j - 1] > ids[i])
			snprintf(tmp, sizeof(tmp), "%s%llu-%llu",
			    b->len ? "," : "", (unsigned long long)ids[i],
			    (unsigned long long)ids[j - 1]);
		else
			snprintf(tmp, sizeof(tmp), "%s%llu", b->len ? "," : "",
			    (unsigned long long)ids[i]);
		rc = crm_buf_adds(b, tmp);
	}
	if (rc == 0 && i < n)
		rc = crm_buf_adds(b, ",...");
	return rc;
}

int
crm_audit_has_id(const char *s, size_t n, uint64_t id)
{
	const char *end = s + n, *comma, *dash;
	uint64_t lo, hi;

	for (; s < end; s = comma + 1) {
		if ((comma = memchr(s, ',', (size_t)(end - s))) == NULL)
			comma = end;
		dash = memchr(s, '-', (size_t)(comma - s));
		if (dash == NULL) {
			if (crm_id_parse(s, (size_t)(comma - s), &lo) == 0 &&
			    lo == id)
				return 1;
		} else if (crm_id_parse(s, (size_t)(dash - s), &lo) == 0 &&
		    crm_id_parse(dash + 1, (size_t)(comma - dash - 1), &hi) ==
			0 &&
		    lo <= id && id <= hi)
			return 1;
	}
	return 0;
}

static int
set(struct crm_rec *r, const char *name, const char *v)
{
	return v == NULL || *v == '\0' ?
	    0 :
	    crm_rec_set(r, CRM_COL_CUSTOM, name, strlen(name), v, strlen(v));
}

int
crm_audit_note(struct crm_txn *t, struct crm_audit_info *a)
{
	struct passwd *pw = getpwuid(getuid());
	struct crm_buf ids = { 0 };
	struct crm_rec r;
	char ts[CRM_TIME_LEN];
	int rc;

	crm_rec_init(&r);
	crm_time_format((int64_t)time(NULL), ts);
	if (a->nids > 1)
		qsort(a->ids, a->nids, sizeof(*a->ids), cmp_u64);
	rc = crm_audit_ranges(&ids, a->ids, a->nids);
	if (rc == 0)
		rc = crm_buf_nul(&ids);
	if (rc == 0 && (rc = set(&r, "ts", ts)) == 0 &&
	    (rc = set(&r, "user", pw ? pw->pw_name : "?")) == 0 &&
	    (rc = set(&r, "tool", a->tool)) == 0 &&
	    (rc = set(&r, "op", a->op)) == 0 &&
	    (rc = set(&r, "rows", a->rows)) == 0 &&
	    (rc = set(&r, "ids", a->nids ? ids.p : NULL)) == 0 &&
	    (rc = set(&r, "fields", a->fields)) == 0)
		rc = crm_audit_add(t, &r);
	crm_buf_free(&ids);
	crm_rec_free(&r);
	return rc;
}
