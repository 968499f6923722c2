/*
 * Growable byte buffers and a hash table: the two containers every module
 * needs. Neither prints or aborts; allocation failure returns CRM_ENOMEM.
 */
#ifndef CRM_BUF_H
#define CRM_BUF_H

#include <stddef.h>
#include <stdint.h>

struct crm_buf {
	char *p;
	size_t len, cap;
};

int crm_buf_grow(struct crm_buf *b, size_t need);
int crm_buf_add(struct crm_buf *b, const void *s, size_t n);
int crm_buf_addc(struct crm_buf *b, int c);
int crm_buf_adds(struct crm_buf *b, const char *s);
/* Appends a NUL without counting it in len, so b->p is a C string. */
int crm_buf_nul(struct crm_buf *b);
void crm_buf_free(struct crm_buf *b);

uint64_t crm_hash(const void *p, size_t n);

/*
 * For a function whose only effect is __builtin_prefetch(): GCC finds it
 * has none and drops the calls to it, across files as well when the
 * program is optimised whole (-flto, the Makefile's default). noipa makes
 * its effects unknown to the callers.
 */
#if defined(__GNUC__) && !defined(__clang__)
#define CRM_PREFETCHER __attribute__((noipa))
#else
#define CRM_PREFETCHER
#endif

/* LEB128 varints (7 bits a byte, low group first), for the encodings of
 * records and events. crm_varint_get returns CRM_EPARSE when p runs out. */
int crm_varint_put(struct crm_buf *b, uint64_t v);
/* The most bytes a varint takes, and v written at p, which has room for
 * them: returns the byte after it. For encoders that reserve a record's
 * room once; inline, since they call it for every tag and length. */
#define CRM_VARINT_MAX 10
static inline unsigned char *
crm_varint_at(unsigned char *p, uint64_t v)
{
	for (; v > 0x7f; v >>= 7)
		*p++ = (unsigned char)(v | 0x80);
	*p++ = (unsigned char)v;
	return p;
}
int crm_varint_get(const unsigned char **p, const unsigned char *end,
    uint64_t *v);

/*
 * A map from byte strings to 64-bit values, open addressing. Keys are copied
 * into the map's own arena, where they stay until the map is freed or
 * cleared; crm_map_each() gives them in the order they were first put.
 */
struct crm_map {
	struct crm_slot *slot;
	size_t nslot, n;
	struct crm_buf keys;
};

int crm_map_put(struct crm_map *m, const void *k, size_t klen, uint64_t v);
/* Has the map's present storage made present ahead of use (prefault.h). */
void crm_map_prefault(const struct crm_map *m);
/* Returns 1 and sets *v when found, 0 when not. */
int crm_map_get(const struct crm_map *m, const void *k, size_t klen,
    uint64_t *v);
/*
 * Lookups in a batch, for maps larger than the caches: hash every key
 * first, prefetch a key's slot a few lookups ahead of its turn and its
 * stored key a little later, then look up with the hash. The misses of
 * the caches then overlap instead of coming one after the other.
 */
uint32_t crm_map_hash(const void *k, size_t klen);
CRM_PREFETCHER void crm_map_prefetch(const struct crm_map *m, uint32_t h);
CRM_PREFETCHER void crm_map_prefetch_key(const struct crm_map *m, uint32_t h);
int crm_map_get_hashed(const struct crm_map *m, uint32_t h, const void *k,
    size_t klen, uint64_t *v);
int crm_map_put_hashed(struct crm_map *m, uint32_t h, const void *k,
    size_t klen, uint64_t v);
/* Iteration, in the order the keys were first put: set *i = 0, then call
 * while it returns 1. The map must not change meanwhile. */
int crm_map_each(const struct crm_map *m, size_t *i, const char **k,
    size_t *klen, uint64_t *v);
/* Makes room for n keys of about klen bytes, so that no rehash follows. */
int crm_map_reserve(struct crm_map *m, size_t n, size_t klen);
/* The length and the value of a key that crm_map_each() gave, from where
 * its bytes are. */
size_t crm_map_keylen(const char *k);
uint64_t crm_map_keyval(const char *k);
/* Asks for the cache line of such a key's length and value, ahead of use. */
CRM_PREFETCHER void crm_map_prefetch_entry(const char *k);
/*
 * For a map whose last use is to be gone through once: hands its hash
 * table (*bytes long; NULL and 0 when it has none) to the caller, who
 * frees it. The map can then only be gone through, cleared or freed:
 * lookups find nothing, and a put or reserve fails with CRM_EINVAL.
 */
void *crm_map_take_table(struct crm_map *m, size_t *bytes);
void crm_map_clear(struct crm_map *m);
void crm_map_free(struct crm_map *m);

#endif
