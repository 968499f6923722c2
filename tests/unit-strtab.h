/*
 * A table of three strings (rec.h), for the tests of records that refer to
 * strings: tests/unit.c and tests/fuzz/fuzz-rec.c.
 */
#ifndef UNIT_STRTAB_H
#define UNIT_STRTAB_H

#include <string.h>

#include "crm.h"

static const char *const tab3[] = { "import:/tmp/a.csv", "plan", "seats" };

static const char *
tab3_get(const struct crm_strtab *tab, uint64_t k, size_t *n)
{
	(void)tab;
	if (k >= 3)
		return NULL;
	*n = strlen(tab3[k]);
	return tab3[k];
}

static int
tab3_find(const struct crm_strtab *tab, const char *p, size_t n, uint32_t *k)
{
	uint32_t i;

	(void)tab;
	for (i = 0; i < 3; i++)
		if (strlen(tab3[i]) == n && memcmp(tab3[i], p, n) == 0) {
			*k = i;
			return 1;
		}
	return 0;
}

#endif
