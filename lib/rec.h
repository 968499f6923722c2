/*
 * The record: a contact's fields as name/value pairs. Core fields (DESIGN.md
 * §2) have fixed column numbers; any other name is a custom field. A field is
 * either present with a non-empty value or absent: setting an empty value
 * removes it. A zeroed struct crm_rec is an empty record.
 */
#ifndef CRM_REC_H
#define CRM_REC_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum crm_col {
	CRM_COL_CUSTOM = 0, /* not a core field */
	CRM_COL_EMAIL = 1,
	CRM_COL_FIRST_NAME,
	CRM_COL_LAST_NAME,
	CRM_COL_PHONE,
	CRM_COL_COMPANY,
	CRM_COL_TITLE,
	CRM_COL_CITY,
	CRM_COL_COUNTRY,
	CRM_COL_SOURCE,
	CRM_COL_STAGE,
	CRM_COL_OWNER,
	CRM_COL_TAGS,
	CRM_COL_EMAIL_OPT_IN,
	CRM_COL_CONSENT_AT,
	CRM_COL_CONSENT_SOURCE,
	CRM_COL_CREATED_AT,
	CRM_COL_UPDATED_AT,
	CRM_COL_EXT_ID,
	CRM_NCOL
};

/* Column names in export order after "id"; index is the crm_col value. */
extern const char *const crm_col_names[CRM_NCOL];
extern const unsigned char crm_col_lens[CRM_NCOL];
/* Read-only statistics columns, derived from the event log. */
extern const char *const crm_stat_names[];
#define CRM_NSTAT 8

/* The core column of a header name: exact, else case-insensitive with
 * spaces and hyphens read as underscores. Returns CRM_COL_CUSTOM if none;
 * "id" gives -1, a statistics column -2. */
int crm_col_lookup(const char *name, size_t n);

struct crm_field {
	int col;             /* crm_col, or CRM_COL_CUSTOM */
	uint32_t name, nlen; /* custom name: offset/length in the arena */
	uint32_t val, vlen;  /* value: offset/length in the arena */
};

struct crm_rec {
	uint64_t id; /* 0 until the store assigns one */
	uint16_t
	    pos[CRM_NCOL]; /* 1 + field index of each core column, 0 absent */
	struct crm_field *f;
	size_t n, cap;
	struct crm_buf arena; /* names and values, each NUL-terminated */
};

/* At most this many fields a record: crm_rec_set() gives CRM_ETOOBIG. */
#define CRM_REC_MAXFIELDS 4096

void crm_rec_init(struct crm_rec *r);
void crm_rec_clear(struct crm_rec *r);
void crm_rec_free(struct crm_rec *r);
int crm_rec_copy(struct crm_rec *dst, const struct crm_rec *src);

/* Values are borrowed until the next change of the record; NULL if absent. */
const char *crm_rec_get(const struct crm_rec *r, int col, const char *name,
    size_t nlen, size_t *vlen);
/* Sets col (or the custom name when col is CRM_COL_CUSTOM); vlen 0 removes. */
int crm_rec_set(struct crm_rec *r, int col, const char *name, size_t nlen,
    const char *val, size_t vlen);
/* crm_rec_set() of a field r does not hold (the caller knows it), without
 * looking for it: an import's row, whose columns are distinct. */
int crm_rec_add(struct crm_rec *r, int col, const char *name, size_t nlen,
    const char *val, size_t vlen);
/* n bytes copied into r, a NUL after them, for crm_rec_add_at(): *off is
 * where they start. */
int crm_rec_stash(struct crm_rec *r, const char *s, size_t n, uint32_t *off);
/* crm_rec_add() of a value that is already in r, at off, followed there by
 * a NUL. */
int crm_rec_add_at(struct crm_rec *r, int col, const char *name, size_t nlen,
    uint32_t off, size_t vlen);
/* Name of field i: the core name or the custom name. */
const char *crm_rec_name(const struct crm_rec *r, size_t i, size_t *nlen);
const char *crm_rec_val(const struct crm_rec *r, size_t i, size_t *vlen);

/*
 * The strings a record of format 2 refers to by number: the store's string
 * table (store.h), or any table that gives the same numbers. get gives
 * string k, or NULL if there is none; find gives the number of s and 1, or
 * 0 if it has none. A table used by find from two threads must not change
 * meanwhile.
 */
struct crm_strtab {
	const char *(*get)(const struct crm_strtab *tab, uint64_t k, size_t *n);
	int (*find)(const struct crm_strtab *tab, const char *s, size_t n,
	    uint32_t *k);
};

/* The on-disk encoding (formats 1 and 2) is described at the top of rec.c.
 * Without a table a record is encoded in format 1, which refers to no
 * string; with one, custom names and the consent source found in it are
 * written as their numbers, and the record is format 2 if any was. */
#define CRM_REC_FORMAT 1
#define CRM_REC_FORMAT_REFS 2
int crm_rec_encode(const struct crm_rec *r, struct crm_buf *out);
int crm_rec_encode_with(const struct crm_rec *r, const struct crm_strtab *tab,
    struct crm_buf *out);
/* The same a field at a time: begin (out emptied), then each field in
 * record order, as a value or, for a time column, as seconds. */
int crm_rec_encode_begin(struct crm_buf *out);
int crm_rec_encode_field(struct crm_buf *out, const struct crm_strtab *tab,
    int col, const char *name, size_t nlen, const char *val, size_t vlen);
int crm_rec_encode_time(struct crm_buf *out, int col, int64_t t);
/* A record of format 2 needs the table it was written with: without one
 * it gives CRM_EVERSION, and a number the table lacks CRM_EPARSE. */
int crm_rec_decode(struct crm_rec *r, const void *p, size_t n);
int crm_rec_decode_with(struct crm_rec *r, const void *p, size_t n,
    const struct crm_strtab *tab);

#endif
