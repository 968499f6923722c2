/*
 * Writing the interaction log: a session of events added in one write
 * transaction. Events are held in a batch, sorted by key (contact, time,
 * id) and written in that order, so that a bulk import appends to each
 * contact's timeline rather than inserting at random. The statistics of
 * every contact touched and the consent fields that subscribe and
 * unsubscribe events change are worked out as the batches are written and
 * written once, by crm_evlog_flush(). The idempotency keys go into their
 * index at the commit.
 */
#ifndef CRM_EVLOG_H
#define CRM_EVLOG_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "dec.h"
#include "event.h"
#include "store.h"

struct crm_evlog_opts {
	int64_t now;         /* updated_at of contacts changed */
	int create;          /* an unknown e-mail creates a contact */
	size_t batch;        /* events held before a sorted write; 0: default */
	size_t expect;       /* about how many rows will come (a hint), or 0 */
	const char *key_col; /* the field that makes an event unique, when
				there is no ext_id field: NULL none */
};

enum { CRM_EVLOG_ADDED = 1, CRM_EVLOG_DUPLICATE };

struct crm_evlog_counts {
	uint64_t added, duplicates, created, consent;
};

struct crm_evlog;

int crm_evlog_begin(struct crm_store *st, struct crm_txn *t,
    const struct crm_config *cf, const struct crm_evlog_opts *o,
    struct crm_evlog **out);
/*
 * The contact a reference names: a number is an id, anything else a
 * normalised e-mail. CRM_EINVAL with why when there is no such contact
 * (unless the options create one for an e-mail) or the reference is bad.
 */
int crm_evlog_contact(struct crm_evlog *l, const char *ref, size_t n,
    uint64_t *id, char *why, size_t whylen);

/*
 * The same in two steps, so that a reading thread can do the first: the
 * reference checked and normalised (no store needed), then resolved.
 */
struct crm_evref {
	int byid; /* id, else the normal e-mail norm[0..nn) */
	uint64_t id;
	char norm[256];
	size_t nn;
};
int crm_evlog_ref(const char *ref, size_t n, struct crm_evref *r, char *why,
    size_t whylen);
int crm_evlog_resolve(struct crm_evlog *l, const struct crm_evref *r,
    uint64_t *id, char *why, size_t whylen);
/*
 * Adds an event with its contact, time, type and (checked, normal) fields.
 * The event id is assigned here. *status says whether it was added or was
 * already stored (same type and ext_id). CRM_EINVAL with why: the row is
 * bad (the same ext_id given twice in this session with other values, or
 * a failed crm_event_check()); nothing of it was kept.
 */
int crm_evlog_add(struct crm_evlog *l, struct crm_event *e, int *status,
    char *why, size_t whylen);

/*
 * crm_evlog_add() in two steps. crm_evlog_prepare() needs no session and
 * may run in another thread: it checks the event (CRM_EINVAL with why),
 * encodes it into enc and its idempotency key into key, and describes the
 * result in r, which points into enc and key. The contact of e is not
 * used. crm_evlog_add_ready() then adds it for a contact; r may point to
 * copies of enc and key.
 */
struct crm_evready {
	int64_t ts;
	int kind;
	const char *keycol; /* the column the key comes from, for messages */
	const void *enc;
	size_t enclen;
	const char *key; /* type NUL value, or keylen 0: none */
	size_t keylen;
	uint64_t h;            /* of the content and time; 0 without a key */
	struct crm_dec amount; /* of a purchase or refund */
	uint32_t kh;           /* crm_map_hash() of the key */
};
int crm_evlog_prepare(const struct crm_config *cf,
    const struct crm_evlog_opts *o, const struct crm_event *e,
    struct crm_buf *enc, struct crm_buf *key, struct crm_evready *r, char *why,
    size_t whylen);
int crm_evlog_add_ready(struct crm_evlog *l, uint64_t contact,
    const struct crm_evready *r, int *status, char *why, size_t whylen);
/* Called for the events to be added next, some ahead of their turn
 * (stage 0) and again nearer to it (stage 1), it hides cache misses. */
void crm_evlog_prefetch(struct crm_evlog *l, const struct crm_evready *r,
    int stage);
/* Writes what is held. Called by crm_evlog_end(); call it before a commit
 * of a transaction that goes on with crm_evlog_txn(). */
int crm_evlog_flush(struct crm_evlog *l);
void crm_evlog_txn(struct crm_evlog *l, struct crm_txn *t);
const struct crm_evlog_counts *crm_evlog_counts(const struct crm_evlog *l);
/* The contacts whose events were written so far, in a new array. */
int crm_evlog_touched(const struct crm_evlog *l, uint64_t **ids, size_t *n);
/* Flushes and frees; the transaction stays open for the caller. */
int crm_evlog_end(struct crm_evlog *l);
/* Frees without writing (the caller aborts the transaction). */
void crm_evlog_abort(struct crm_evlog *l);

#endif
