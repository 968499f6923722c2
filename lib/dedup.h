/*
 * Finding likely duplicate contacts (crm-merge without operands). Two
 * contacts are a candidate pair when
 *
 *   - their e-mails are equal after the matching normalisation (a "+tag"
 *     dropped from the local part; for gmail.com and googlemail.com the
 *     dots too): score 1;
 *   - their phones have the same last nine digits (at least seven digits
 *     each), and their names are similar (Jaro-Winkler at least 0.80) or
 *     one has no name: score 0.95;
 *   - they work at the same company (lower-cased, letters and digits only,
 *     legal suffixes such as Inc, Ltd, GmbH dropped) and the Jaro-Winkler
 *     similarity of their normalised names ("first last", lower-case) is
 *     at least the threshold: score the similarity. Names are compared
 *     within a company only among those whose last names begin with the
 *     same letter, so that a large company costs no quadratic time.
 */
#ifndef CRM_DEDUP_H
#define CRM_DEDUP_H

#include <stddef.h>
#include <stdint.h>

#include "rec.h"

#define CRM_DEDUP_THRESHOLD 0.92

/* The Jaro-Winkler similarity of two byte strings, 0..1 (prefix scale
 * 0.1, at most four characters of common prefix). */
double crm_jaro_winkler(const char *a, size_t an, const char *b, size_t bn);

struct crm_dedup;

int crm_dedup_new(struct crm_dedup **out);
/* Adds a contact; events breaks a tie for which of a pair is kept. */
int crm_dedup_add(struct crm_dedup *d, const struct crm_rec *r,
    uint64_t events);
/*
 * Calls fn for every candidate pair, best score first: keep is the
 * contact with more events (the lower id on a tie), reason "email",
 * "phone" or "name".
 */
int crm_dedup_run(struct crm_dedup *d, double threshold,
    int (*fn)(void *arg, uint64_t keep, uint64_t drop, double score,
	const char *reason),
    void *arg);
void crm_dedup_free(struct crm_dedup *d);

#endif
