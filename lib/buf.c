#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "errors.h"
#include "prefault.h"

/*
 * A slot is 8 bytes: the hash's low 32 bits (never 0; 0 marks an empty
 * slot) and where the entry is in the arena. An entry is the value (8
 * bytes), the key's length (4 bytes), then the key's bytes; entries lie
 * in the order their keys came, which is the order of crm_map_each().
 * Entries of one map total at most 4 GiB.
 */
struct crm_slot {
	uint32_t hash;
	uint32_t koff;
};

#define ENTRY_HEAD 12

static uint32_t
hash32(const void *k, size_t n)
{
	uint32_t h = (uint32_t)crm_hash(k, n);

	return h ? h : 1;
}

static const char *
slot_key(const struct crm_map *m, const struct crm_slot *s, uint32_t *len)
{
	memcpy(len, m->keys.p + s->koff + 8, 4);
	return m->keys.p + s->koff + ENTRY_HEAD;
}

static uint64_t
slot_val(const struct crm_map *m, const struct crm_slot *s)
{
	uint64_t v;

	memcpy(&v, m->keys.p + s->koff, 8);
	return v;
}

int
crm_buf_grow(struct crm_buf *b, size_t need)
{
	size_t cap;
	char *p;

	if (b->len + need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < b->len + need)
		cap *= 2;
	if ((p = realloc(b->p, cap)) == NULL)
		return CRM_ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

int
crm_buf_add(struct crm_buf *b, const void *s, size_t n)
{
	if (crm_buf_grow(b, n + 1))
		return CRM_ENOMEM;
	if (n)
		memcpy(b->p + b->len, s, n);
	b->len += n;
	return 0;
}

int
crm_buf_addc(struct crm_buf *b, int c)
{
	if (b->len + 1 >= b->cap && crm_buf_grow(b, 2))
		return CRM_ENOMEM;
	b->p[b->len++] = (char)c;
	return 0;
}

int
crm_buf_adds(struct crm_buf *b, const char *s)
{
	return crm_buf_add(b, s, strlen(s));
}

int
crm_buf_nul(struct crm_buf *b)
{
	if (crm_buf_grow(b, 1))
		return CRM_ENOMEM;
	b->p[b->len] = '\0';
	return 0;
}

void
crm_buf_free(struct crm_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* A 64-bit multiply-xorshift hash over 8-byte words; never returns 0. Its
 * values are kept nowhere, so it is free to change. */
uint64_t
crm_hash(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ (n * 0xff51afd7ed558ccdULL), w;
	uint32_t a, b;

	/* Whole words; the bytes past the last are read as one more word
	 * that overlaps it, or, in a string shorter than a word, as two
	 * halves that overlap (under four bytes: the first, middle and last
	 * byte). The length is in h, so overlaps cannot collide. */
	if (n >= 8) {
		for (; n > 8; s += 8, n -= 8) {
			memcpy(&w, s, 8);
			h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
			h ^= h >> 29;
		}
		memcpy(&w, s + n - 8, 8);
	} else if (n >= 4) {
		memcpy(&a, s, 4);
		memcpy(&b, s + n - 4, 4);
		w = (uint64_t)a << 32 | b;
	} else
		w = n ?
		    (uint64_t)s[0] << 16 | (uint64_t)s[n / 2] << 8 | s[n - 1] :
		    0;
	h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 32;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h ? h : 1;
}

static struct crm_slot *
find(const struct crm_map *m, uint32_t h, const void *k, size_t klen)
{
	size_t i = h & (m->nslot - 1);
	struct crm_slot *s;
	const char *key;
	uint32_t len;

	for (;; i = (i + 1) & (m->nslot - 1)) {
		s = &m->slot[i];
		if (s->hash == 0)
			return s;
		if (s->hash != h)
			continue;
		key = slot_key(m, s, &len);
		if (len == klen && memcmp(key, k, klen) == 0)
			return s;
	}
}

/* The empty slot where a key of hash h goes in a table being rebuilt. */
static struct crm_slot *
free_slot(const struct crm_map *m, uint32_t h)
{
	size_t i = h & (m->nslot - 1);

	while (m->slot[i].hash != 0)
		i = (i + 1) & (m->nslot - 1);
	return &m->slot[i];
}

static int
rehash_to(struct crm_map *m, size_t nslot)
{
	struct crm_map nm = *m;
	size_t i;

	/* A map whose table was taken (crm_map_take_table()) has entries
	 * that no new table would hold. */
	if (m->slot == NULL && m->n != 0)
		return CRM_EINVAL;
	nm.nslot = nslot;
	if ((nm.slot = calloc(nm.nslot, sizeof(*nm.slot))) == NULL)
		return CRM_ENOMEM;
	for (i = 0; i < m->nslot; i++)
		if (m->slot[i].hash)
			*free_slot(&nm, m->slot[i].hash) = m->slot[i];
	free(m->slot);
	m->slot = nm.slot;
	m->nslot = nm.nslot;
	return 0;
}

static int
rehash(struct crm_map *m)
{
	return rehash_to(m, m->nslot ? m->nslot * 2 : 64);
}

int
crm_map_reserve(struct crm_map *m, size_t n, size_t klen)
{
	size_t want = 64;
	int rc;

	while (want < 2 * n + 2)
		want *= 2;
	if (want > m->nslot && (rc = rehash_to(m, want)) != 0)
		return rc;
	return crm_buf_grow(&m->keys, n * (klen + ENTRY_HEAD));
}

void
crm_map_prefault(const struct crm_map *m)
{
	crm_prefault(m->slot, m->nslot * sizeof(*m->slot));
	crm_prefault(m->keys.p, m->keys.cap);
}

int
crm_map_put(struct crm_map *m, const void *k, size_t klen, uint64_t v)
{
	return crm_map_put_hashed(m, hash32(k, klen), k, klen, v);
}

int
crm_map_put_hashed(struct crm_map *m, uint32_t h, const void *k, size_t klen,
    uint64_t v)
{
	uint32_t len = (uint32_t)klen;
	struct crm_slot *s;
	int rc;

	if ((m->n + 1) * 2 >= m->nslot && (rc = rehash(m)) != 0)
		return rc;
	s = find(m, h, k, klen);
	if (s->hash != 0) {
		memcpy(m->keys.p + s->koff, &v, 8);
		return 0;
	}
	if (m->keys.len + klen + ENTRY_HEAD > UINT32_MAX || klen > UINT32_MAX)
		return CRM_ETOOBIG;
	if (crm_buf_grow(&m->keys, ENTRY_HEAD + klen))
		return CRM_ENOMEM;
	s->hash = h;
	s->koff = (uint32_t)m->keys.len;
	memcpy(m->keys.p + m->keys.len, &v, 8);
	memcpy(m->keys.p + m->keys.len + 8, &len, 4);
	memcpy(m->keys.p + m->keys.len + ENTRY_HEAD, k, klen);
	m->keys.len += ENTRY_HEAD + klen;
	m->n++;
	return 0;
}

int
crm_map_get(const struct crm_map *m, const void *k, size_t klen, uint64_t *v)
{
	struct crm_slot *s;

	if (m->n == 0 || m->nslot == 0)
		return 0;
	s = find(m, hash32(k, klen), k, klen);
	if (s->hash == 0)
		return 0;
	*v = slot_val(m, s);
	return 1;
}

uint32_t
crm_map_hash(const void *k, size_t klen)
{
	return hash32(k, klen);
}

void
crm_map_prefetch(const struct crm_map *m, uint32_t h)
{
	if (m->nslot)
		__builtin_prefetch(&m->slot[h & (m->nslot - 1)]);
}

void
crm_map_prefetch_key(const struct crm_map *m, uint32_t h)
{
	const struct crm_slot *s;

	if (m->nslot == 0)
		return;
	s = &m->slot[h & (m->nslot - 1)];
	if (s->hash == h)
		__builtin_prefetch(m->keys.p + s->koff);
}

int
crm_map_get_hashed(const struct crm_map *m, uint32_t h, const void *k,
    size_t klen, uint64_t *v)
{
	struct crm_slot *s;

	if (m->n == 0 || m->nslot == 0)
		return 0;
	s = find(m, h, k, klen);
	if (s->hash == 0)
		return 0;
	*v = slot_val(m, s);
	return 1;
}

int
crm_map_each(const struct crm_map *m, size_t *i, const char **k, size_t *klen,
    uint64_t *v)
{
	uint32_t len;

	if (*i >= m->keys.len)
		return 0;
	memcpy(v, m->keys.p + *i, 8);
	memcpy(&len, m->keys.p + *i + 8, 4);
	*k = m->keys.p + *i + ENTRY_HEAD;
	*klen = len;
	*i += ENTRY_HEAD + len;
	return 1;
}

size_t
crm_map_keylen(const char *k)
{
	uint32_t len;

	memcpy(&len, k - ENTRY_HEAD + 8, 4);
	return len;
}

uint64_t
crm_map_keyval(const char *k)
{
	uint64_t v;

	memcpy(&v, k - ENTRY_HEAD, 8);
	return v;
}

void
crm_map_prefetch_entry(const char *k)
{
	__builtin_prefetch(k - ENTRY_HEAD);
}

void *
crm_map_take_table(struct crm_map *m, size_t *bytes)
{
	void *p = m->slot;

	*bytes = m->nslot * sizeof(*m->slot);
	m->slot = NULL;
	m->nslot = 0;
	return p;
}

void
crm_map_clear(struct crm_map *m)
{
	if (m->slot)
		memset(m->slot, 0, m->nslot * sizeof(*m->slot));
	m->n = 0;
	m->keys.len = 0;
}

void
crm_map_free(struct crm_map *m)
{
	free(m->slot);
	crm_buf_free(&m->keys);
	m->slot = NULL;
	m->nslot = m->n = 0;
}

int
crm_varint_put(struct crm_buf *b, uint64_t v)
{
	unsigned char tmp[CRM_VARINT_MAX];

	/* Tags and lengths are mostly one byte: no loop, no call. */
	if (v < 0x80 && b->len + 1 < b->cap) {
		b->p[b->len++] = (char)v;
		return 0;
	}
	return crm_buf_add(b, tmp, (size_t)(crm_varint_at(tmp, v) - tmp));
}

int
crm_varint_get(const unsigned char **p, const unsigned char *end, uint64_t *v)
{
	int shift = 0;

	*v = 0;
	while (*p < end && shift < 64) {
		*v |= (uint64_t)(**p & 0x7f) << shift;
		if ((*(*p)++ & 0x80) == 0)
			return 0;
		shift += 7;
	}
	return CRM_EPARSE;
}
