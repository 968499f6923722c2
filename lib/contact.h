/*
 * Contacts: checking input values and the upsert that crm-add (and any tool
 * that creates contacts) performs inside a write transaction.
 */
#ifndef CRM_CONTACT_H
#define CRM_CONTACT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "config.h"
#include "rec.h"
#include "store.h"

/*
 * Checks one input value for a column (col from crm_col_lookup(), or
 * CRM_COL_CUSTOM with its name) and writes its normal form to out: core
 * values trimmed, e-mail lower-cased, booleans true/false, times
 * YYYY-MM-DDTHH:MM:SSZ, tags in normal form (items split at tagsep),
 * typed custom fields per the config. out->len 0 means an empty value.
 * Returns 0, or CRM_EINVAL with the reason in why.
 */
int crm_contact_value(const struct crm_config *cf, int col, const char *name,
    size_t nlen, const char *v, size_t n, int tagsep, struct crm_buf *out,
    char *why, size_t whylen);
/* Whether core column col takes a value as given, once it is valid UTF-8
 * and trimmed (names, phone, company, ...): crm_contact_value_ref() gives
 * such a value back unchanged. */
int crm_contact_plain(int col);
/* The same without a copy: the normal form is in *rv, *rn (0: empty),
 * which is v itself when v needs no change, or else what out holds. */
int crm_contact_value_ref(const struct crm_config *cf, int col,
    const char *name, size_t nlen, const char *v, size_t n, int tagsep,
    struct crm_buf *out, const char **rv, size_t *rn, char *why, size_t whylen);

enum { CRM_UP_CREATED = 1, CRM_UP_UPDATED, CRM_UP_UNCHANGED };

struct crm_upsert_opts {
	int64_t now;                /* the time of created_at/updated_at */
	const char *consent_source; /* when email_opt_in comes without one */
	int add_tags;               /* a tags value adds to the set */
	const char *untag;          /* tags to remove (normal form), or NULL */
	/* For a record prepared off the writer's thread: the strings it may
	 * refer to (rec.h), or NULL for none. The writer uses its
	 * transaction's table. */
	const struct crm_strtab *strs;
};

struct crm_upsert;

/* A session of upserts in write transaction t. It remembers, for each
 * contact, what the rows of the current input gave it, to find rows that
 * contradict each other; that memory outlives a move to another
 * transaction (crm_upsert_txn(), after a commit). */
int crm_upsert_begin(struct crm_store *st, struct crm_txn *t,
    struct crm_upsert **out);
void crm_upsert_txn(struct crm_upsert *u, struct crm_txn *t);
/*
 * Applies row (normal values; row->id nonzero if the input named an id).
 * The contact is matched by id, then ext_id, then email. Returns 0 with
 * *status and the stored contact in result, CRM_EINVAL with why (the row
 * is bad and nothing of it was written), or another error (fatal).
 */
int crm_upsert_row(struct crm_upsert *u, const struct crm_upsert_opts *o,
    const struct crm_rec *row, long line, struct crm_rec *result, int *status,
    char *why, size_t whylen);
/*
 * What a reading thread can work out for a row ahead of the writer: the
 * record the row makes of a contact that does not exist yet, encoded (as
 * crm_upsert_row() would store it under the same options), and the hashes
 * of the row's unique keys, to look them up and prefetch them.
 */
struct crm_upsert_prep {
	struct crm_buf enc; /* len 0: no record prepared */
	uint32_t h[2];      /* the hash of the e-mail, of the ext_id */
	unsigned char has[2];
	unsigned char later; /* keys only: the record is encoded by
				crm_upsert_row_prep(), if the contact is new */
};

/* Fills p for row; res and tmp are scratch. Runs in any thread. */
int crm_upsert_prepare(const struct crm_upsert_opts *o,
    const struct crm_rec *row, struct crm_rec *res, struct crm_buf *tmp,
    struct crm_upsert_prep *p);
/* Only the keys' part of that, and later set: for the writing thread,
 * which need not encode a row that turns out to update a contact. */
void crm_upsert_prepare_keys(const struct crm_rec *row,
    struct crm_upsert_prep *p);
/* Fetches into the cache what the row's lookups will touch: stage 0
 * sixteen or so rows ahead, stage 1 about eight. */
void crm_upsert_prefetch(struct crm_upsert *u, const struct crm_upsert_prep *p,
    int stage);
/* crm_upsert_row() with the row's preparation (o as it was prepared with):
 * a new contact is then stored as prepared. */
int crm_upsert_row_prep(struct crm_upsert *u, const struct crm_upsert_opts *o,
    const struct crm_rec *row, const struct crm_upsert_prep *p, long line,
    struct crm_rec *result, int *status, char *why, size_t whylen);
/* Starts a new input: its rows may override what earlier inputs set. */
void crm_upsert_next_input(struct crm_upsert *u);
void crm_upsert_end(struct crm_upsert *u);

#endif
