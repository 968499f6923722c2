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

enum { CRM_UP_CREATED = 1, CRM_UP_UPDATED, CRM_UP_UNCHANGED };

struct crm_upsert_opts {
	int64_t now;                /* the time of created_at/updated_at */
	const char *consent_source; /* when email_opt_in comes without one */
	int add_tags;               /* a tags value adds to the set */
	const char *untag;          /* tags to remove (normal form), or NULL */
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
/* Starts a new input: its rows may override what earlier inputs set. */
void crm_upsert_next_input(struct crm_upsert *u);
void crm_upsert_end(struct crm_upsert *u);

#endif
