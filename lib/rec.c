/*
 * Records, and their on-disk encoding (the value of a contact key in the
 * store, and of an audit entry). Format 1:
 *
 *   byte 0        format version, 1
 *   per field     varint tag; tag 0 is a custom field followed by varint
 *                 name length and the name bytes; tag 1..CRM_NCOL-1 is the
 *                 core column of that number
 *                 varint value length, value bytes (UTF-8, no NUL)
 *
 *   or            varint tag 64 + c, where c is consent_at, created_at or
 *                 updated_at, then the time as a zig-zag varint of seconds
 *                 since 1970-01-01T00:00:00Z (5 bytes, not 20)
 *
 * Format 2 (version byte 2) is format 1 with two more tags, which refer to
 * strings of the store's string table by their number k:
 *
 *   varint tag 32, varint k, varint value length, value bytes
 *                 a custom field whose name is string k
 *   varint tag 96 + c, varint k
 *                 core column c, consent_source only, whose value is
 *                 string k
 *
 * A bulk import writes each row's consent source, "import:" and the path
 * of its file, and the names of its custom columns: as numbers the store
 * of the benchmark's 1M contacts is 211 MB instead of 262. The table only grows,
 * and holds no value from a row (store.c), so that forgetting a contact
 * leaves nothing of it there. A record that refers to no string is written
 * as format 1.
 *
 * Varints are LEB128 (7 bits a byte, low group first). Fields appear in
 * record order; a decoder refuses an unknown version, a tag out of range, a
 * length past the end, an empty value, a field given twice and a number
 * the table does not have.
 */

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "errors.h"
#include "rec.h"
#include "times.h"

#define TAG_TIME 64
#define TAG_NAMEREF 32
#define TAG_VALREF 96

const char *const crm_col_names[CRM_NCOL] = { "", "email", "first_name",
	"last_name", "phone", "company", "title", "city", "country", "source",
	"stage", "owner", "tags", "email_opt_in", "consent_at",
	"consent_source", "created_at", "updated_at", "ext_id" };

/* Their lengths, for the hot paths (a unit test checks them). */
const unsigned char crm_col_lens[CRM_NCOL] = { 0, 5, 10, 9, 5, 7, 5, 4, 7, 6, 5,
	5, 4, 12, 10, 14, 10, 10, 6 };

const char *const crm_stat_names[CRM_NSTAT] = { "first_seen_at", "last_seen_at",
	"events", "first_purchase_at", "last_purchase_at", "purchases",
	"purchase_days", "revenue" };

static int
name_eq(const char *a, size_t n, const char *core, int loose)
{
	size_t i;
	char c;

	if (strlen(core) != n)
		return 0;
	if (!loose)
		return memcmp(a, core, n) == 0;
	for (i = 0; i < n; i++) {
		c = a[i] == ' ' || a[i] == '-' ? '_' : a[i];
		if (c >= 'A' && c <= 'Z')
			c += 32;
		if (c != core[i])
			return 0;
	}
	return 1;
}

int
crm_col_lookup(const char *name, size_t n)
{
	int loose, i;

	for (loose = 0; loose < 2; loose++) {
		if (name_eq(name, n, "id", loose))
			return -1;
		for (i = 1; i < CRM_NCOL; i++)
			if (name_eq(name, n, crm_col_names[i], loose))
				return i;
		for (i = 0; i < CRM_NSTAT; i++)
			if (name_eq(name, n, crm_stat_names[i], loose))
				return -2;
	}
	return CRM_COL_CUSTOM;
}

void
crm_rec_init(struct crm_rec *r)
{
	memset(r, 0, sizeof(*r));
}

void
crm_rec_clear(struct crm_rec *r)
{
	r->id = 0;
	r->n = 0;
	r->arena.len = 0;
	memset(r->pos, 0, sizeof(r->pos));
}

void
crm_rec_free(struct crm_rec *r)
{
	free(r->f);
	crm_buf_free(&r->arena);
	crm_rec_init(r);
}

int
crm_rec_copy(struct crm_rec *dst, const struct crm_rec *src)
{
	size_t i, nl, vl;
	const char *nm, *v;
	int rc;

	crm_rec_clear(dst);
	dst->id = src->id;
	for (i = 0; i < src->n; i++) {
		nm = crm_rec_name(src, i, &nl);
		v = crm_rec_val(src, i, &vl);
		if ((rc = crm_rec_set(dst, src->f[i].col, nm, nl, v, vl)))
			return rc;
	}
	return 0;
}

static struct crm_field *
find(const struct crm_rec *r, int col, const char *name, size_t nlen)
{
	size_t i;

	/* Core columns have a slot each; custom names are searched. */
	if (col != CRM_COL_CUSTOM)
		return r->pos[col] == 0 ? NULL : &r->f[r->pos[col] - 1];
	for (i = 0; i < r->n; i++)
		if (r->f[i].col == CRM_COL_CUSTOM && r->f[i].nlen == nlen &&
		    memcmp(r->arena.p + r->f[i].name, name, nlen) == 0)
			return &r->f[i];
	return NULL;
}

const char *
crm_rec_get(const struct crm_rec *r, int col, const char *name, size_t nlen,
    size_t *vlen)
{
	const struct crm_field *f = find(r, col, name, nlen);

	if (f == NULL)
		return NULL;
	if (vlen)
		*vlen = f->vlen;
	return r->arena.p + f->val;
}

static void
reindex(struct crm_rec *r)
{
	size_t i;

	memset(r->pos, 0, sizeof(r->pos));
	for (i = 0; i < r->n; i++)
		if (r->f[i].col != CRM_COL_CUSTOM)
			r->pos[r->f[i].col] = (uint16_t)(i + 1);
}

/* Appends s to the arena, NUL-terminated; returns its offset in *off. */
static int
stash(struct crm_rec *r, const char *s, size_t n, uint32_t *off)
{
	size_t inside = r->arena.p != NULL && s >= r->arena.p &&
		s < r->arena.p + r->arena.cap ?
	    (size_t)(s - r->arena.p) + 1 :
	    0;

	if (r->arena.len + n + 1 > UINT32_MAX)
		return CRM_ETOOBIG;
	/* s may point into the arena itself, which growing can move. */
	if (crm_buf_grow(&r->arena, n + 1))
		return CRM_ENOMEM;
	if (inside)
		s = r->arena.p + inside - 1;
	*off = (uint32_t)r->arena.len;
	if (n)
		memcpy(r->arena.p + r->arena.len, s, n);
	r->arena.p[r->arena.len + n] = '\0';
	r->arena.len += n + 1;
	return 0;
}

/*
 * A new field for col (or the custom name) at the end of r, which does not
 * hold it yet: *fp gets it, uncounted until its value is set (counted()).
 */
static int
new_field(struct crm_rec *r, int col, const char *name, size_t nlen,
    struct crm_field **fp)
{
	struct crm_field *f;
	size_t cap;
	int rc;

	/* Positions are 16 bits; lookups are linear in the fields. */
	if (r->n >= CRM_REC_MAXFIELDS)
		return CRM_ETOOBIG;
	if (r->n == r->cap) {
		cap = r->cap ? r->cap * 2 : 24;
		if ((f = realloc(r->f, cap * sizeof(*f))) == NULL)
			return CRM_ENOMEM;
		r->f = f;
		r->cap = cap;
	}
	f = *fp = &r->f[r->n];
	f->col = col;
	f->nlen = 0;
	f->name = 0;
	/* The name may point into our own arena: stash first. */
	if (col == CRM_COL_CUSTOM && (rc = stash(r, name, nlen, &f->name)))
		return rc;
	f->nlen = col == CRM_COL_CUSTOM ? (uint32_t)nlen : 0;
	return 0;
}

static int
counted(struct crm_rec *r, struct crm_field *f)
{
	if (f->col != CRM_COL_CUSTOM)
		r->pos[f->col] = (uint16_t)(r->n + 1);
	r->n++;
	return 0;
}

static int
add_new(struct crm_rec *r, int col, const char *name, size_t nlen,
    const char *val, size_t vlen)
{
	struct crm_field *f;
	int rc;

	if ((rc = new_field(r, col, name, nlen, &f)) ||
	    (rc = stash(r, val, vlen, &f->val)))
		return rc;
	f->vlen = (uint32_t)vlen;
	return counted(r, f);
}

int
crm_rec_set(struct crm_rec *r, int col, const char *name, size_t nlen,
    const char *val, size_t vlen)
{
	struct crm_field *f = find(r, col, name, nlen);
	int rc;

	if (vlen == 0) {
		if (f != NULL) {
			memmove(f, f + 1,
			    (size_t)(r->f + r->n - f - 1) * sizeof(*f));
			r->n--;
			reindex(r);
		}
		return 0;
	}
	if (f == NULL)
		return add_new(r, col, name, nlen, val, vlen);
	if (f->vlen == vlen && memcmp(r->arena.p + f->val, val, vlen) == 0)
		return 0;
	if ((rc = stash(r, val, vlen, &f->val)))
		return rc;
	f->vlen = (uint32_t)vlen;
	return 0;
}

int
crm_rec_add(struct crm_rec *r, int col, const char *name, size_t nlen,
    const char *val, size_t vlen)
{
	return vlen == 0 ? 0 : add_new(r, col, name, nlen, val, vlen);
}

int
crm_rec_stash(struct crm_rec *r, const char *s, size_t n, uint32_t *off)
{
	return stash(r, s, n, off);
}

int
crm_rec_add_at(struct crm_rec *r, int col, const char *name, size_t nlen,
    uint32_t off, size_t vlen)
{
	struct crm_field *f;
	int rc;

	if ((rc = new_field(r, col, name, nlen, &f)))
		return rc;
	f->val = off;
	f->vlen = (uint32_t)vlen;
	return counted(r, f);
}

const char *
crm_rec_name(const struct crm_rec *r, size_t i, size_t *nlen)
{
	const struct crm_field *f = &r->f[i];

	if (f->col != CRM_COL_CUSTOM) {
		*nlen = crm_col_lens[f->col];
		return crm_col_names[f->col];
	}
	*nlen = f->nlen;
	return r->arena.p + f->name;
}

const char *
crm_rec_val(const struct crm_rec *r, size_t i, size_t *vlen)
{
	*vlen = r->f[i].vlen;
	return r->arena.p + r->f[i].val;
}

static int
is_time_col(int col)
{
	return col == CRM_COL_CONSENT_AT || col == CRM_COL_CREATED_AT ||
	    col == CRM_COL_UPDATED_AT;
}

/*
 * A time in its normal form, YYYY-MM-DDTHH:MM:SSZ, as seconds. The parser
 * is strict, so such a text always formats back the same, except a leap
 * second (:60), which is kept as text.
 */
static int
normal_time(const char *v, size_t n, int64_t *t)
{
	return n == CRM_TIME_LEN - 1 && v[10] == 'T' && v[19] == 'Z' &&
	    !(v[17] == '6' && v[18] == '0') &&
	    crm_time_parse(v, n, t, NULL) == 0;
}

int
crm_rec_encode_begin(struct crm_buf *out)
{
	out->len = 0;
	return crm_buf_addc(out, CRM_REC_FORMAT);
}

/*
 * The encoders below reserve a field's room once and write its bytes in
 * place: a call to crm_varint_put() or crm_buf_add() for each tag, length
 * and value was a sixth of preparing 1M rows of contacts.
 */
static int
room(struct crm_buf *out, size_t n)
{
	return out->len + n <= out->cap ? 0 : crm_buf_grow(out, n);
}

/* v as a varint at out's end, which has room for it. */
static void
varint_at(struct crm_buf *out, uint64_t v)
{
	unsigned char *q = (unsigned char *)out->p + out->len;

	out->len += (size_t)(crm_varint_at(q, v) - q);
}

/* n bytes of s at out's end, which has room for them. */
static void
bytes_at(struct crm_buf *out, const char *s, size_t n)
{
	if (n)
		memcpy(out->p + out->len, s, n);
	out->len += n;
}

int
crm_rec_encode_time(struct crm_buf *out, int col, int64_t t)
{
	if (room(out, 2 * CRM_VARINT_MAX))
		return CRM_ENOMEM;
	varint_at(out, (uint64_t)(TAG_TIME + col));
	varint_at(out, ((uint64_t)t << 1) ^ (t < 0 ? UINT64_MAX : 0));
	return 0;
}

/* A reference, and the version byte that says there is one. */
static int
put_ref(struct crm_buf *out, uint64_t tag, uint32_t k)
{
	if (room(out, 2 * CRM_VARINT_MAX))
		return CRM_ENOMEM;
	varint_at(out, tag);
	varint_at(out, k);
	out->p[0] = CRM_REC_FORMAT_REFS;
	return 0;
}

int
crm_rec_encode_field(struct crm_buf *out, const struct crm_strtab *tab, int col,
    const char *name, size_t nlen, const char *val, size_t vlen)
{
	int64_t t;
	uint32_t k;
	int ref = 0;

	if (is_time_col(col) && normal_time(val, vlen, &t))
		return crm_rec_encode_time(out, col, t);
	if (tab != NULL && col == CRM_COL_CONSENT_SOURCE &&
	    tab->find(tab, val, vlen, &k))
		return put_ref(out, TAG_VALREF + (uint64_t)col, k);
	if (tab != NULL && col == CRM_COL_CUSTOM &&
	    tab->find(tab, name, nlen, &k)) {
		if (put_ref(out, TAG_NAMEREF, k))
			return CRM_ENOMEM;
		ref = 1;
	}
	if (ref || col != CRM_COL_CUSTOM)
		nlen = 0;
	if (room(out, 3 * CRM_VARINT_MAX + nlen + vlen))
		return CRM_ENOMEM;
	if (!ref)
		varint_at(out, (uint64_t)col);
	if (!ref && col == CRM_COL_CUSTOM) {
		varint_at(out, nlen);
		bytes_at(out, name, nlen);
	}
	varint_at(out, vlen);
	bytes_at(out, val, vlen);
	return 0;
}

int
crm_rec_encode_with(const struct crm_rec *r, const struct crm_strtab *tab,
    struct crm_buf *out)
{
	const struct crm_field *f;
	size_t i;
	int rc;

	if ((rc = crm_rec_encode_begin(out)))
		return rc;
	for (i = 0; i < r->n; i++) {
		f = &r->f[i];
		if ((rc = crm_rec_encode_field(out, tab, f->col,
			 r->arena.p + f->name, f->nlen, r->arena.p + f->val,
			 f->vlen)))
			return rc;
	}
	return 0;
}

int
crm_rec_encode(const struct crm_rec *r, struct crm_buf *out)
{
	return crm_rec_encode_with(r, NULL, out);
}

int
crm_rec_decode(struct crm_rec *r, const void *data, size_t n)
{
	return crm_rec_decode_with(r, data, n, NULL);
}

int
crm_rec_decode_with(struct crm_rec *r, const void *data, size_t n,
    const struct crm_strtab *tab)
{
	const unsigned char *p = data, *end = p + n;
	const char *name = NULL, *val;
	uint64_t tag, nlen = 0, vlen, zz, k;
	char tbuf[CRM_TIME_LEN];
	size_t sn;
	int rc, refs;

	crm_rec_clear(r);
	if (n == 0 || (*p != CRM_REC_FORMAT && *p != CRM_REC_FORMAT_REFS))
		return CRM_EVERSION;
	if ((refs = *p++ == CRM_REC_FORMAT_REFS) && tab == NULL)
		return CRM_EVERSION;
	while (p < end) {
		if (crm_varint_get(&p, end, &tag))
			return CRM_EPARSE;
		if (tag >= TAG_TIME && tag < TAG_TIME + CRM_NCOL &&
		    is_time_col((int)(tag - TAG_TIME))) {
			tag -= TAG_TIME;
			if (crm_varint_get(&p, end, &zz) ||
			    find(r, (int)tag, NULL, 0) != NULL)
				return CRM_EPARSE;
			crm_time_format((int64_t)(zz >> 1) ^ -(int64_t)(zz & 1),
			    tbuf);
			if ((rc = crm_rec_set(r, (int)tag, NULL, 0, tbuf,
				 CRM_TIME_LEN - 1)))
				return rc;
			continue;
		}
		if (refs && tag == TAG_VALREF + CRM_COL_CONSENT_SOURCE) {
			tag -= TAG_VALREF;
			if (crm_varint_get(&p, end, &k) ||
			    (val = tab->get(tab, k, &sn)) == NULL || sn == 0 ||
			    find(r, (int)tag, NULL, 0) != NULL)
				return CRM_EPARSE;
			if ((rc = crm_rec_set(r, (int)tag, NULL, 0, val, sn)))
				return rc;
			continue;
		}
		if (refs && tag == TAG_NAMEREF) {
			if (crm_varint_get(&p, end, &k) ||
			    (name = tab->get(tab, k, &sn)) == NULL || sn == 0)
				return CRM_EPARSE;
			nlen = sn;
			tag = CRM_COL_CUSTOM;
		} else if (tag >= CRM_NCOL)
			return CRM_EPARSE;
		else if (tag == CRM_COL_CUSTOM) {
			if (crm_varint_get(&p, end, &nlen) || nlen == 0 ||
			    nlen > (uint64_t)(end - p))
				return CRM_EPARSE;
			name = (const char *)p;
			p += nlen;
		}
		if (crm_varint_get(&p, end, &vlen) || vlen == 0 ||
		    vlen > (uint64_t)(end - p))
			return CRM_EPARSE;
		if (find(r, (int)tag, name, nlen) != NULL)
			return CRM_EPARSE;
		if ((rc = crm_rec_set(r, (int)tag, name, nlen, (const char *)p,
			 vlen)))
			return rc;
		p += vlen;
	}
	return 0;
}
