/*
 * The audit log: one entry per write transaction of any tool, with the
 * time, the user, the tool, the operation, the record ids and the names of
 * the fields changed. Never a field's value: the audit log holds no
 * personal data, so that an erasure need not touch it.
 */
#ifndef CRM_AUDIT_H
#define CRM_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

struct crm_audit_info {
	const char *tool, *op;
	uint64_t *ids; /* record ids; sorted in place */
	size_t nids;
	const char *fields; /* field names changed, a,b,c; NULL none */
	const char *rows;   /* counts in words; NULL none */
};

/* Appends an entry; its time is now and its user the real uid's name. */
int crm_audit_note(struct crm_txn *t, struct crm_audit_info *a);
/* Writes ids (sorted) as ranges "1-3,7" into b, ",..." past 4000 bytes. */
int crm_audit_ranges(struct crm_buf *b, const uint64_t *ids, size_t n);
/* Whether a ranges string names id. */
int crm_audit_has_id(const char *s, size_t n, uint64_t id);

#endif
