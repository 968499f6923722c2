/*
 * Checking a store: the records, the key indexes, the event log and the
 * statistics are read in one read transaction (a consistent snapshot, so a
 * check may run while a writer works) and checked against each other:
 *
 *   - every contact decodes, its e-mail and ext_id are indexed to it, its
 *     custom fields are in the field registry, its id is below next_id;
 *   - every email and ext_id index entry names a contact that holds that
 *     key, or one that another contact was merged into;
 *   - every merged id names a contact that exists and has no record left;
 *   - every event decodes, has an id of its own below next_event, belongs
 *     to a contact that exists or to an erased person's tombstone (a
 *     contact id with events and statistics but no record), not to a
 *     merged id; an event of a contact with an ext_id is the one the evkey
 *     index names for its type and ext_id;
 *   - every evkey entry names an event of its type;
 *   - every contact's (and tombstone's) statistics equal those recomputed
 *     from its events, and no statistics are stored for a contact that
 *     neither exists nor has events;
 *   - every audit entry decodes.
 */
#ifndef CRM_CHECK_H
#define CRM_CHECK_H

#include <stdint.h>

#include "store.h"

struct crm_check_counts {
	uint64_t contacts, emails, ext_ids, fields, events, evkeys, stats,
	    audit, aliases;
	uint64_t problems; /* inconsistencies found */
};

/*
 * Runs every check in transaction t. Each inconsistency is passed to
 * report (a sentence without a trailing newline, valid during the call)
 * and counted; the check goes on. Returns 0 when the whole store could be
 * read (problems or not), else the error that stopped it.
 */
int crm_check_run(struct crm_txn *t, void (*report)(void *, const char *),
    void *arg, struct crm_check_counts *counts);

#endif
