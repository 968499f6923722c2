/*
 * The store: one LMDB environment directory holding contacts, their unique
 * key indexes, a registry of custom field names and the audit log.
 *
 * Named databases (format 2):
 *   meta      "format" -> u32 format number, "next_id" -> u64,
 *             "next_event" -> u64
 *   contacts  u64 id (integer key) -> record (rec.h encoding)
 *   email     normalised e-mail -> u64 id
 *   ext_id    external id -> u64 id
 *   fields    custom field name -> u32 order of first appearance
 *   audit     u64 sequence (integer key) -> record: ts, user, tool, op, ...
 *   events    contact, time, event id (event.h key) -> type and fields
 *   evkey     type NUL ext_id -> u64 event id (what makes re-imports
 *             idempotent)
 *   stats     u64 contact id (integer key) -> statistics (store.c layout)
 *   alias     u64 merged id (integer key) -> u64 id of the contact it was
 *             merged into (crm-merge); made by the first merge, so a store
 *             without it is read as one without aliases
 *
 * Many readers and one writer (LMDB's model). A writer first takes an
 * flock(2) on DIR/crm.lock so that it can tell its user that it waits.
 * Index changes made in a write transaction are held in memory and written
 * in key order at commit, so a bulk import does not degrade into random
 * B-tree inserts; lookups see them at once.
 */
#ifndef CRM_STORE_H
#define CRM_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "rec.h"

#define CRM_STORE_FORMAT 3 /* and 2, read and written: see store.c */

#define CRM_F_RDONLY 0x1 /* open or begin read-only */
#define CRM_F_NOWAIT 0x2 /* begin: CRM_EBUSY instead of waiting */

enum crm_index { CRM_IDX_EMAIL, CRM_IDX_EXT, CRM_IDX_EVKEY, CRM_NIDX };

struct crm_store;
struct crm_txn;
struct crm_iter;
struct crm_evit;

/* The store directory: opt, else $CRM_DB, else $XDG_DATA_HOME/crm, else
 * ~/.local/share/crm. */
const char *crm_store_path(const char *opt, char *buf, size_t len);
/*
 * Opens the store in dir. Without CRM_F_RDONLY the directory is created
 * (mode 0700) if missing; files are created 0600. Read-only on a missing
 * store gives CRM_ENOSTORE. A store of another format gives CRM_EVERSION.
 * Opening a new store creates it under the writers' lock (CRM_F_NOWAIT:
 * CRM_EBUSY rather than waiting). On failure *out is still set, for
 * crm_store_error(); close it.
 */
int crm_store_open(const char *dir, unsigned flags, struct crm_store **out);
void crm_store_close(struct crm_store *st);
/* A sentence about the last error, for messages; never NULL. */
const char *crm_store_error(const struct crm_store *st);

int crm_txn_begin(struct crm_store *st, unsigned flags, struct crm_txn **out);
int crm_txn_commit(struct crm_txn *t);
void crm_txn_abort(struct crm_txn *t);

/* LMDB holds up to this many bytes of dirty pages (2^17 pages) in a
 * transaction before it writes some out. */
#define CRM_TXN_DIRTY_MAX ((size_t)512 << 20)

/* A hint: about n rows will be written in this transaction. It also has
 * the memory for them made present ahead of use (prefault.h), so only the
 * main thread may call it. */
void crm_txn_expect(struct crm_txn *t, size_t n);
/* A hint: about n keys of about klen bytes will go into index idx. */
void crm_txn_expect_index(struct crm_txn *t, int idx, size_t n, size_t klen);
/* Has the storage reserved for an index's pending keys made present ahead
 * of use (prefault.h). */
void crm_txn_prefault_index(struct crm_txn *t, int idx);
/* A hint, every few tens of milliseconds from a thread of its own until
 * the transaction ends, that what it wrote so far may go to disk: for
 * large imports. A no-op in a read-only
 * transaction; CRM_ENOMEM if no thread can be started (then there is
 * none, and nothing else changes). The number of hints given so far, for
 * tests. */
int crm_txn_flusher(struct crm_txn *t);
unsigned long crm_txn_flusher_ticks(struct crm_txn *t);

/* CRM_ENOTFOUND if there is no contact with that id. */
int crm_contact_get(struct crm_txn *t, uint64_t id, struct crm_rec *r);
int crm_contact_put(struct crm_txn *t, const struct crm_rec *r);
/* The same with the record encoded already (crm_rec_encode()). */
int crm_contact_put_enc(struct crm_txn *t, uint64_t id, const void *enc,
    size_t len);
/* A fresh id; crm_txn_claim_id() makes sure ids up to id are never given. */
uint64_t crm_txn_new_id(struct crm_txn *t);
/* The id crm_txn_new_id() would give now; every stored contact's is less. */
uint64_t crm_txn_next_id(const struct crm_txn *t);
void crm_txn_claim_id(struct crm_txn *t, uint64_t id);

/* Index lookups (CRM_ENOTFOUND) and changes, applied at commit. */
int crm_index_get(struct crm_txn *t, int idx, const char *k, size_t n,
    uint64_t *id);
int crm_index_put(struct crm_txn *t, int idx, const char *k, size_t n,
    uint64_t id);
int crm_index_del(struct crm_txn *t, int idx, const char *k, size_t n);
/* The same with the key's crm_map_hash(), and a prefetch of its place in
 * the changes (see crm_map_prefetch()); stage 0 the slot, 1 the key. */
int crm_index_get_hashed(struct crm_txn *t, int idx, uint32_t h, const char *k,
    size_t n, uint64_t *id);
int crm_index_put_hashed(struct crm_txn *t, int idx, uint32_t h, const char *k,
    size_t n, uint64_t id);
void crm_index_prefetch(struct crm_txn *t, int idx, uint32_t h, int stage);
/* The number of committed keys of an index. */
size_t crm_index_count(struct crm_txn *t, int idx);
/*
 * Calls fn for every committed key of an index, in key order, until it
 * returns other than 0, which is then returned. Changes made in this
 * transaction are not seen.
 */
int crm_index_each(struct crm_txn *t, int idx,
    int (*fn)(void *arg, const char *k, size_t n, uint64_t id), void *arg);

/* Records a custom field name, in order of first appearance. */
int crm_field_note(struct crm_txn *t, const char *name, size_t n);

/*
 * The store's string table, which records refer to by number (rec.h).
 * crm_txn_intern() gives the number of string p, putting it in the table
 * if it is not there; it is for names of columns and the consent source of
 * an import, never for a value of a row (crm-forget leaves the table as
 * it is). CRM_ETOOBIG: the string or the table is too large, and the
 * string is written out in records instead. A number put in a transaction
 * that is aborted must not be used. crm_txn_strtab() gives the table as
 * t has it, for the encoding of records on t's thread.
 */
int crm_txn_intern(struct crm_txn *t, const char *p, size_t n, uint32_t *k);
const struct crm_strtab *crm_txn_strtab(struct crm_txn *t);
/* NULL if the table reads, else what is wrong with it. */
const char *crm_txn_strtab_problem(struct crm_txn *t);
/* The custom field names in that order; free with crm_fields_free(). */
int crm_fields_list(struct crm_txn *t, char ***names, size_t *n);
void crm_fields_free(char **names, size_t n);

/* Appends an audit entry (fields of r) with its own sequence number. */
int crm_audit_add(struct crm_txn *t, const struct crm_rec *r);

/* A fresh event id. */
uint64_t crm_txn_new_event_id(struct crm_txn *t);
/* Stores an event under its key (crm_evkey_pack()); value from
 * crm_event_encode(). Keys given in ascending order are appended. */
int crm_event_put(struct crm_txn *t, const unsigned char key[CRM_EVKEY_LEN],
    const void *val, size_t n);
int crm_event_del(struct crm_txn *t, const unsigned char key[CRM_EVKEY_LEN]);
/* The statistics of a contact; a contact without events gets empty ones. */
int crm_stats_get(struct crm_txn *t, uint64_t contact, struct crm_stats *s);
int crm_stats_put(struct crm_txn *t, uint64_t contact,
    const struct crm_stats *s);

/*
 * Events in key order: of one contact (contact 0: of all), with from <= ts
 * < to, newest first when reverse is set. The event's strings are valid
 * until the next call.
 */
int crm_evit_open(struct crm_txn *t, uint64_t contact, int64_t from, int64_t to,
    int reverse, struct crm_evit **out);
int crm_evit_next(struct crm_evit *it, struct crm_event *e);
/* An iterator of all contacts' events, not reversed, goes on from the
 * first event of the first contact >= contact (for readers that share
 * the log out among threads). */
void crm_evit_seek(struct crm_evit *it, uint64_t contact);
void crm_evit_close(struct crm_evit *it);

/* Contacts in id order. The record is valid until the next call. */
int crm_iter_open(struct crm_txn *t, struct crm_iter **out);
int crm_iter_next(struct crm_iter *it, struct crm_rec *r);
/* Goes on from the contact with the least id >= id. */
void crm_iter_seek(struct crm_iter *it, uint64_t id);
void crm_iter_close(struct crm_iter *it);

/*
 * Data hygiene (crm-merge, crm-forget, crm-audit).
 *
 * The contact an id names now: the id itself, or the contact a merge put
 * it into (CRM_ENOTFOUND if neither).
 */
int crm_contact_resolve(struct crm_txn *t, uint64_t id, uint64_t *out);
int crm_alias_get(struct crm_txn *t, uint64_t id, uint64_t *to);
int crm_alias_put(struct crm_txn *t, uint64_t id, uint64_t to);
/* Calls fn for every alias (merged id, kept id); nonzero stops. */
int crm_alias_each(struct crm_txn *t,
    int (*fn)(void *arg, uint64_t id, uint64_t to), void *arg);
/* Deletes every alias that points to id. */
int crm_alias_del_to(struct crm_txn *t, uint64_t to);
/* Deletes a contact record (not its events, stats or index keys). */
int crm_contact_del(struct crm_txn *t, uint64_t id);
int crm_stats_del(struct crm_txn *t, uint64_t contact);
/* The audit log in order; crm_iter_next() gives each entry with its
 * sequence number as the record's id. */
int crm_audit_open(struct crm_txn *t, struct crm_iter **out);
/*
 * Rewrites the data file with its live pages only, so that no byte of a
 * deleted record survives in a freed page, and zeroes the old file's
 * blocks. Waits until no other process has the store open (CRM_F_NOWAIT:
 * CRM_EBUSY instead). Call it with no transaction open; the store stays
 * open for further use.
 */
int crm_store_scrub(struct crm_store *st, unsigned flags);

/*
 * Raw access to the named databases, for checking tools (crm_check_run()):
 * keys and values as stored, borrowed until the next call on the cursor or
 * the end of the transaction.
 */
enum crm_db {
	CRM_DB_META,
	CRM_DB_CONTACTS,
	CRM_DB_EMAIL,
	CRM_DB_EXT,
	CRM_DB_EVKEY,
	CRM_DB_FIELDS,
	CRM_DB_AUDIT,
	CRM_DB_EVENTS,
	CRM_DB_STATS,
	CRM_NDB
};
struct crm_raw;

int crm_raw_open(struct crm_txn *t, int db, struct crm_raw **out);
/* The next entry in key order; CRM_EOF after the last. */
int crm_raw_next(struct crm_raw *it, const void **k, size_t *kn, const void **v,
    size_t *vn);
void crm_raw_close(struct crm_raw *it);
/* One entry by key: CRM_ENOTFOUND if there is none. */
int crm_raw_get(struct crm_txn *t, int db, const void *k, size_t kn,
    const void **v, size_t *vn);

#endif
