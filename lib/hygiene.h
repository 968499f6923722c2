/*
 * Data hygiene: merging duplicate contacts, erasing a person (the right to
 * erasure), writing everything stored about a person (the right of
 * access), and statistics recomputed from a contact's events. All of it
 * works inside a write (or, for reading, any) transaction of the caller,
 * so that a merge or an erasure is one transaction.
 */
#ifndef CRM_HYGIENE_H
#define CRM_HYGIENE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "config.h"
#include "event.h"
#include "store.h"

/* The statistics of a contact computed from its events in the store. */
int crm_stats_recompute(struct crm_txn *t, uint64_t contact,
    struct crm_stats *s);

/*
 * The contact a reference names: a number is an id (followed through
 * merges), anything with an @ an e-mail. CRM_ENOTFOUND if none, CRM_EINVAL
 * if the reference is neither.
 */
int crm_contact_find(struct crm_txn *t, const char *ref, size_t n,
    uint64_t *id);

struct crm_merge_result {
	uint64_t keep, drop;   /* after following earlier merges */
	uint64_t events;       /* events moved */
	struct crm_buf fields; /* names of the fields keep gained, a,b,c */
};

/*
 * Merges contact drop into keep: keep gains drop's events, tags and the
 * fields it lacks (the newer consent answer wins), its statistics are
 * recomputed, and drop's id, e-mail and ext_id resolve to keep
 * afterwards. CRM_EINVAL with why when both name one contact.
 */
int crm_merge(struct crm_txn *t, uint64_t keep, uint64_t drop, int64_t now,
    struct crm_merge_result *res, char *why, size_t whylen);
void crm_merge_result_free(struct crm_merge_result *res);

/*
 * What an erasure may keep, from the config's privacy section: per event
 * type the fields kept, in anonymised form (the day only, under a fresh
 * tombstone id with no contact record). Nothing is kept by default.
 */
struct crm_privacy {
	char **types;   /* event types kept */
	char ***fields; /* per type: field names kept, NULL-terminated */
	size_t ntypes;
};

int crm_privacy_load(const struct crm_config *cf, struct crm_privacy *p,
    char *err, size_t errlen);
void crm_privacy_free(struct crm_privacy *p);

struct crm_forget_result {
	uint64_t contacts, events, kept, keys;
};

/*
 * Erases contacts ids[0..n): their records, events, statistics, index
 * keys (e-mail, ext_id, the events' ext_ids) and aliases, keeping only
 * what p allows. The bytes stay in freed pages until crm_store_scrub().
 */
int crm_forget(struct crm_txn *t, const uint64_t *ids, size_t n,
    const struct crm_privacy *p, struct crm_forget_result *res);

/*
 * Everything stored about contact id as NDJSON lines appended to out: the
 * contact, its statistics, the ids merged into it, its events, and the
 * audit entries that name it.
 */
int crm_subject_write(struct crm_txn *t, uint64_t id, struct crm_buf *out);

#endif
