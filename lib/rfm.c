#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "errors.h"
#include "rfm.h"
#include "ydoc.h"

/* A purchase day of customer c and what was spent on it. */
struct dayent {
	size_t c;
	int64_t day;
	struct crm_dec amount;
};

/*
 * A customer: statistics and key side by side, so that one lookup touches
 * two cache lines of one record; keys longer than INKEY live in the arena.
 */
#define INKEY 40

struct rec {
	struct crm_rfm_stat st;
	uint64_t hash;
	uint32_t klen, koff; /* koff into keys when klen > INKEY */
	char key[INKEY];
};

/*
 * The roll-up is an open-addressing table of its own rather than a
 * crm_map: a slot holds the upper half of the key's hash and 1 + the
 * record's index, and crm_rfm_add_batch() fetches the slots, then the
 * records, of a whole batch before it touches any. On 10 million events
 * of a million customers, waiting for memory is most of the time of a
 * lookup one at a time.
 */
struct crm_rfm {
	unsigned flags;
	uint64_t *slot;
	size_t nslot;
	struct rec *rec;
	size_t n, cap;
	struct crm_buf keys;
	/* CRM_RFM_FDAYS: the day entries, and for each customer 1 + the
	 * index of its latest entry (0: none yet) */
	struct dayent *de;
	size_t nde, capde, *latest;
	/* crm_rfm_sorted's arrays */
	const char **skey;
	size_t *slen;
	struct crm_rfm_stat *sst;
};

int
crm_rfm_open(unsigned flags, struct crm_rfm **out)
{
	if ((*out = calloc(1, sizeof(**out))) == NULL)
		return CRM_ENOMEM;
	(*out)->flags = flags;
	return 0;
}

void
crm_rfm_close(struct crm_rfm *s)
{
	if (s == NULL)
		return;
	free(s->slot);
	free(s->rec);
	crm_buf_free(&s->keys);
	free(s->de);
	free(s->latest);
	free(s->skey);
	free(s->slen);
	free(s->sst);
	free(s);
}

size_t
crm_rfm_count(const struct crm_rfm *s)
{
	return s->n;
}

static const char *
rec_key(const struct crm_rfm *s, const struct rec *r)
{
	return r->klen > INKEY ? s->keys.p + r->koff : r->key;
}

/* Doubles the slots (kept at most half full) and places every record. */
static int
rehash(struct crm_rfm *s)
{
	size_t n = s->nslot ? s->nslot * 2 : 4096, i, k;
	uint64_t *slot = calloc(n, sizeof(*slot));

	if (slot == NULL)
		return CRM_ENOMEM;
	for (i = 0; i < s->n; i++) {
		for (k = s->rec[i].hash & (n - 1); slot[k] != 0;
		     k = (k + 1) & (n - 1))
			;
		slot[k] = (s->rec[i].hash & 0xffffffff00000000u) | (i + 1);
	}
	free(s->slot);
	s->slot = slot;
	s->nslot = n;
	return 0;
}

static int
grow(struct crm_rfm *s)
{
	size_t cap = s->cap ? s->cap * 2 : 1024;
	struct rec *p = realloc(s->rec, cap * sizeof(*p));
	size_t *l;

	if (p == NULL)
		return CRM_ENOMEM;
	s->rec = p;
	if (s->flags & CRM_RFM_FDAYS) {
		if ((l = realloc(s->latest, cap * sizeof(*l))) == NULL)
			return CRM_ENOMEM;
		s->latest = l;
	}
	s->cap = cap;
	return 0;
}

static int
insert(struct crm_rfm *s, size_t k, uint64_t h, const char *key, size_t klen)
{
	struct rec *r;

	if (klen > UINT32_MAX || s->keys.len > UINT32_MAX - klen)
		return CRM_ETOOBIG;
	if (s->n == s->cap && grow(s))
		return CRM_ENOMEM;
	r = &s->rec[s->n];
	memset(&r->st, 0, sizeof(r->st));
	r->hash = h;
	r->klen = (uint32_t)klen;
	if (klen > INKEY) {
		r->koff = (uint32_t)s->keys.len;
		if (crm_buf_add(&s->keys, key, klen))
			return CRM_ENOMEM;
	} else
		memcpy(r->key, key, klen);
	if (s->flags & CRM_RFM_FDAYS)
		s->latest[s->n] = 0;
	s->slot[k] = (h & 0xffffffff00000000u) | (s->n + 1);
	s->n++;
	return 0;
}

/* The index of key's statistics, made (empty) if the key is new. */
static int
lookup_h(struct crm_rfm *s, uint64_t h, const char *key, size_t klen, size_t *c)
{
	size_t k;
	int rc;

	if ((s->n + 1) * 2 > s->nslot && (rc = rehash(s)))
		return rc;
	for (k = h & (s->nslot - 1); s->slot[k] != 0;
	     k = (k + 1) & (s->nslot - 1)) {
		const struct rec *r;

		if ((s->slot[k] ^ h) >> 32)
			continue;
		r = &s->rec[(s->slot[k] & 0xffffffffu) - 1];
		if (r->hash == h && r->klen == klen &&
		    memcmp(rec_key(s, r), key, klen) == 0) {
			*c = (size_t)(s->slot[k] & 0xffffffffu) - 1;
			return 0;
		}
	}
	*c = s->n;
	return insert(s, k, h, key, klen);
}

static int
lookup(struct crm_rfm *s, const char *key, size_t klen, size_t *c)
{
	return lookup_h(s, crm_hash(key, klen), key, klen, c);
}

static int
add_day(struct crm_rfm *s, size_t c, int64_t day, struct crm_dec amount)
{
	struct dayent *e;

	if (s->latest[c] > 0 && (e = &s->de[s->latest[c] - 1])->day == day &&
	    e->c == c)
		return crm_dec_add(e->amount, amount, &e->amount) ?
		    CRM_ETOOBIG :
		    0;
	if (s->nde == s->capde) {
		size_t cap = s->capde ? s->capde * 2 : 1024;

		if ((e = realloc(s->de, cap * sizeof(*e))) == NULL)
			return CRM_ENOMEM;
		s->de = e;
		s->capde = cap;
	}
	s->de[s->nde++] = (struct dayent){ c, day, amount };
	s->latest[c] = s->nde;
	return 0;
}

/* Seconds to days since 1970-01-01, rounding down before 1970 too. */
static int64_t
day_of(int64_t t)
{
	return t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
}

/* Folds b into a: the one operation both adding and merging use. */
static int
combine(struct crm_rfm_stat *a, const struct crm_rfm_stat *b)
{
	struct crm_dec sum;

	if (crm_dec_add(a->revenue, b->revenue, &sum))
		return CRM_ETOOBIG;
	a->revenue = sum;
	if (b->purchases == 0)
		return 0;
	if (a->purchases == 0 || b->first < a->first)
		a->first = b->first;
	if (a->purchases == 0 || b->last > a->last)
		a->last = b->last;
	a->purchases += b->purchases;
	return 0;
}

/* Adds an event to customer c's statistics. */
static int
apply(struct crm_rfm *s, size_t c, int kind, int64_t ts, struct crm_dec amount)
{
	struct crm_rfm_stat e = { ts, ts, 0, { 0, 0 }, 0, { 0, 0 }, { 0, 0 } };
	int rc;

	if (kind == CRM_RFM_PURCHASE) {
		e.purchases = 1;
		e.revenue = amount;
	} else if (kind == CRM_RFM_REFUND) {
		if (amount.v == INT64_MIN)
			return CRM_ETOOBIG;
		e.revenue.v = -amount.v;
		e.revenue.scale = amount.scale;
	} else
		return 0;
	if ((rc = combine(&s->rec[c].st, &e)))
		return rc;
	if ((s->flags & CRM_RFM_FDAYS) && kind == CRM_RFM_PURCHASE)
		return add_day(s, c, day_of(ts), amount);
	return 0;
}

int
crm_rfm_add(struct crm_rfm *s, const char *key, size_t klen, int kind,
    int64_t ts, struct crm_dec amount)
{
	size_t c;
	int rc;

	if ((rc = lookup(s, key, klen, &c)))
		return rc;
	return apply(s, c, kind, ts, amount);
}

/* The record a key's first probe finds, or NULL: only for prefetching. */
static const struct rec *
first_probe(const struct crm_rfm *s, uint64_t h)
{
	uint64_t v = s->nslot ? s->slot[h & (s->nslot - 1)] : 0;

	return v && !((v ^ h) >> 32) ? &s->rec[(v & 0xffffffffu) - 1] : NULL;
}

int
crm_rfm_add_batch(struct crm_rfm *s, const struct crm_rfm_event *ev, size_t n)
{
	uint64_t h[CRM_RFM_BATCH];
	size_t i, c;
	int rc;

	if (n > CRM_RFM_BATCH)
		return CRM_EINVAL;
	/* Three passes, so that each waits for memory fetched by the one
	 * before: slots, then records, then the work. */
	for (i = 0; i < n; i++) {
		h[i] = crm_hash(ev[i].key, ev[i].klen);
		if (s->nslot)
			__builtin_prefetch(&s->slot[h[i] & (s->nslot - 1)]);
	}
	for (i = 0; i < n; i++) {
		const struct rec *r = first_probe(s, h[i]);

		if (r != NULL) {
			__builtin_prefetch(r);
			__builtin_prefetch((const char *)r + 64);
		}
	}
	for (i = 0; i < n; i++)
		if ((rc = lookup_h(s, h[i], ev[i].key, ev[i].klen, &c)) ||
		    (rc = apply(s, c, ev[i].kind, ev[i].ts, ev[i].amount)))
			return rc;
	return 0;
}

/* Fetches the slots, then the records, that src's records i.. i + n - 1
 * will look up in dst. */
static void
prefetch(const struct crm_rfm *dst, const struct crm_rfm *src, size_t i,
    size_t n)
{
	size_t k, end = i + n < src->n ? i + n : src->n;

	if (dst->nslot == 0)
		return;
	for (k = i; k < end; k++)
		__builtin_prefetch(
		    &dst->slot[src->rec[k].hash & (dst->nslot - 1)]);
	for (k = i; k < end; k++) {
		const struct rec *r = first_probe(dst, src->rec[k].hash);

		if (r != NULL)
			__builtin_prefetch(r);
	}
}

int
crm_rfm_merge(struct crm_rfm *dst, const struct crm_rfm *src)
{
	size_t i, c, *to;
	int rc = 0;

	if ((dst->flags ^ src->flags) & CRM_RFM_FDAYS)
		return CRM_EINVAL;
	if ((to = malloc((src->n + 1) * sizeof(*to))) == NULL)
		return CRM_ENOMEM;
	for (i = 0; rc == 0 && i < src->n; i++) {
		const struct rec *r = &src->rec[i];

		/* As in crm_rfm_add_batch: fetch ahead what is wanted later. */
		if (i % CRM_RFM_BATCH == 0)
			prefetch(dst, src, i, CRM_RFM_BATCH);
		if ((rc = lookup_h(dst, r->hash, rec_key(src, r), r->klen,
			 &c)) == 0)
			rc = combine(&dst->rec[c].st, &r->st);
		to[i] = c;
	}
	/* Day entries are appended as they are: the count of distinct days
	 * is taken when the roll-up is read. */
	for (i = 0; rc == 0 && i < src->nde; i++) {
		c = to[src->de[i].c];
		dst->latest[c] = 0;
		rc = add_day(dst, c, src->de[i].day, src->de[i].amount);
	}
	free(to);
	return rc;
}

static int
cmp_day(const void *pa, const void *pb)
{
	const struct dayent *a = pa, *b = pb;

	if (a->c != b->c)
		return a->c < b->c ? -1 : 1;
	return (a->day > b->day) - (a->day < b->day);
}

/* Sorts the day entries, joins those of one customer and day, and sets
 * each customer's days, first_spend and spend. */
static int
count_days(struct crm_rfm *s)
{
	size_t i, k = 0;
	struct dayent *e;

	if (s->nde > 1)
		qsort(s->de, s->nde, sizeof(*s->de), cmp_day);
	for (i = 0; i < s->nde; i++) {
		e = &s->de[i];
		if (k > 0 && s->de[k - 1].c == e->c &&
		    s->de[k - 1].day == e->day) {
			if (crm_dec_add(s->de[k - 1].amount, e->amount,
				&s->de[k - 1].amount))
				return CRM_ETOOBIG;
		} else
			s->de[k++] = *e;
	}
	s->nde = k;
	for (i = 0; i < s->n; i++) {
		s->rec[i].st.days = 0;
		s->rec[i].st.spend = s->rec[i].st.first_spend =
		    (struct crm_dec){ 0, 0 };
		s->latest[i] = 0;
	}
	for (i = 0; i < s->nde; i++) {
		struct crm_rfm_stat *a = &s->rec[s->de[i].c].st;

		if (a->days++ == 0)
			a->first_spend = s->de[i].amount;
		if (crm_dec_add(a->spend, s->de[i].amount, &a->spend))
			return CRM_ETOOBIG;
	}
	return 0;
}

/* A value to rank and a customer, the index of whatever is ranked. */
struct rank {
	int64_t v;
	size_t i;
};

/*
 * Sorts a[0..n) by v, stably, eight bits at a time from the lowest,
 * skipping the bytes in which all values agree: a few linear passes where
 * a comparison sort of a million customers makes twenty. Stable, so that
 * values that tie stay in the order they came in. tmp holds n.
 */
static void
radix(struct rank *a, struct rank *tmp, size_t n)
{
	static const uint64_t flip = (uint64_t)1 << 63;
	size_t count[8][256], i, sum, *c;
	struct rank *from = a, *to = tmp, *t;
	int d;

	memset(count, 0, sizeof(count));
	for (i = 0; i < n; i++)
		for (d = 0; d < 8; d++)
			count[d][((uint64_t)a[i].v ^ flip) >> (8 * d) & 255]++;
	for (d = 0; d < 8; d++) {
		c = count[d];
		if (n == 0 ||
		    c[((uint64_t)a[0].v ^ flip) >> (8 * d) & 255] == n)
			continue;
		for (i = 0, sum = 0; i < 256; i++) {
			size_t k = c[i];

			c[i] = sum;
			sum += k;
		}
		for (i = 0; i < n; i++)
			to[c[((uint64_t)from[i].v ^ flip) >> (8 * d) & 255]++] =
			    from[i];
		t = from;
		from = to;
		to = t;
	}
	if (from != a)
		memcpy(a, from, n * sizeof(*a));
}

/* Sorting keys: the first eight bytes as a big-endian number decide most
 * comparisons without touching the keys themselves. */
struct keyref {
	uint64_t head;
	const char *k;
	size_t len, i;
};

static int
cmp_key(const void *pa, const void *pb)
{
	const struct keyref *a = pa, *b = pb;
	size_t n = a->len < b->len ? a->len : b->len;
	int c;

	if (a->head != b->head)
		return a->head < b->head ? -1 : 1;
	if ((c = memcmp(a->k, b->k, n)) != 0)
		return c;
	return (a->len > b->len) - (a->len < b->len);
}

static uint64_t
head8(const char *k, size_t len)
{
	uint64_t h = 0;
	size_t i;

	for (i = 0; i < 8; i++)
		h = h << 8 | (i < len ? (unsigned char)k[i] : 0);
	return h;
}

/*
 * ref[0..n) gets the customers in key order: a radix sort on the first
 * eight bytes, then each run of keys that share them sorted whole.
 */
static int
sort_keys(struct crm_rfm *s, struct keyref *ref)
{
	static const uint64_t flip = (uint64_t)1 << 63;
	struct rank *rk = malloc(2 * (s->n + 1) * sizeof(*rk));
	size_t i, j;

	if (rk == NULL)
		return CRM_ENOMEM;
	for (i = 0; i < s->n; i++) {
		const char *k = rec_key(s, &s->rec[i]);

		rk[i].v = (int64_t)(head8(k, s->rec[i].klen) ^ flip);
		rk[i].i = i;
	}
	radix(rk, rk + s->n + 1, s->n);
	for (i = 0; i < s->n; i++) {
		const struct rec *r = &s->rec[rk[i].i];

		ref[i] = (struct keyref){ (uint64_t)rk[i].v, rec_key(s, r),
			r->klen, rk[i].i };
	}
	for (i = 0; i < s->n; i = j) {
		for (j = i + 1; j < s->n && ref[j].head == ref[i].head; j++)
			;
		if (j - i > 1)
			qsort(ref + i, j - i, sizeof(*ref), cmp_key);
	}
	free(rk);
	return 0;
}

int
crm_rfm_sorted(struct crm_rfm *s, const char *const **keys, const size_t **klen,
    const struct crm_rfm_stat **stat)
{
	struct keyref *ref;
	size_t i;
	int rc;

	if ((s->flags & CRM_RFM_FDAYS) && (rc = count_days(s)))
		return rc;
	free(s->skey);
	free(s->slen);
	free(s->sst);
	s->skey = malloc((s->n + 1) * sizeof(*s->skey));
	s->slen = malloc((s->n + 1) * sizeof(*s->slen));
	s->sst = malloc((s->n + 1) * sizeof(*s->sst));
	ref = malloc((s->n + 1) * sizeof(*ref));
	if (s->skey == NULL || s->slen == NULL || s->sst == NULL ||
	    ref == NULL) {
		free(ref);
		return CRM_ENOMEM;
	}
	if ((rc = sort_keys(s, ref))) {
		free(ref);
		return rc;
	}
	for (i = 0; i < s->n; i++) {
		s->skey[i] = ref[i].k;
		s->slen[i] = ref[i].len;
		s->sst[i] = s->rec[ref[i].i].st;
	}
	free(ref);
	*keys = s->skey;
	*klen = s->slen;
	*stat = s->sst;
	return 0;
}

/* ---- scores ------------------------------------------------------- */

/* Revenue is ranked exactly: every value brought to the largest scale
 * seen, or, if one would overflow there, compared as decimals. */
struct drank {
	struct crm_dec d;
	size_t i;
};

static int
cmp_drank(const void *pa, const void *pb)
{
	const struct drank *a = pa, *b = pb;
	int c = crm_dec_cmp(a->d, b->d);

	return c ? c : (a->i > b->i) - (a->i < b->i);
}

static int
scaled(struct crm_dec d, int scale, int64_t *v)
{
	int64_t x = d.v;
	int k;

	for (k = d.scale; k < scale; k++)
		if (__builtin_mul_overflow(x, 10, &x))
			return 0;
	*v = x;
	return 1;
}

/* ntile(5): with m rows, the first m % 5 groups have one row more. */
static unsigned char
ntile5(size_t p, size_t m)
{
	size_t q = m / 5, rem = m % 5, big = rem * (q + 1);

	if (p < big)
		return (unsigned char)(p / (q + 1) + 1);
	return (unsigned char)(rem + (p - big) / q + 1);
}

static void
assign(struct rank *rk, size_t m, struct crm_rfm_score *out, int which)
{
	size_t p;

	for (p = 0; p < m; p++) {
		unsigned char s = ntile5(p, m);

		if (which == 0)
			out[rk[p].i].r = s;
		else if (which == 1)
			out[rk[p].i].f = s;
		else
			out[rk[p].i].m = s;
	}
}

/* rk[0..m) holds the buyers in order of position; sorts them by
 * revenue. */
static int
rank_revenue(const struct crm_rfm_stat *st, struct rank *rk, size_t m,
    struct rank *tmp)
{
	struct drank *d;
	size_t p;
	int scale = 0, exact = 1;

	for (p = 0; p < m; p++)
		if (st[rk[p].i].revenue.scale > scale)
			scale = st[rk[p].i].revenue.scale;
	for (p = 0; p < m && exact; p++)
		exact = scaled(st[rk[p].i].revenue, scale, &rk[p].v);
	if (exact) {
		radix(rk, tmp, m);
		return 0;
	}
	/* Sums near 10^18 units: rare, so the slower exact comparison. */
	if ((d = malloc((m + 1) * sizeof(*d))) == NULL)
		return CRM_ENOMEM;
	for (p = 0; p < m; p++)
		d[p] = (struct drank){ st[rk[p].i].revenue, rk[p].i };
	qsort(d, m, sizeof(*d), cmp_drank);
	for (p = 0; p < m; p++)
		rk[p].i = d[p].i;
	free(d);
	return 0;
}

/* The buyers in order of position, with the value ranked: 0 last
 * purchase, 1 purchase count. */
static size_t
buyers(const struct crm_rfm_stat *st, size_t n, int which, struct rank *rk)
{
	size_t i, m = 0;

	for (i = 0; i < n; i++)
		if (st[i].purchases > 0)
			rk[m++] = (struct rank){ which == 0 ?
				    st[i].last :
				    (int64_t)st[i].purchases,
				i };
	return m;
}

int
crm_rfm_score(const struct crm_rfm_stat *st, size_t n,
    struct crm_rfm_score *out)
{
	struct rank *rk;
	size_t m;

	memset(out, 0, n * sizeof(*out));
	if ((rk = malloc(2 * (n + 1) * sizeof(*rk))) == NULL)
		return CRM_ENOMEM;
	/* Sorted stably from the order of position: ties stay in it. */
	m = buyers(st, n, 0, rk);
	radix(rk, rk + n + 1, m);
	assign(rk, m, out, 0);
	m = buyers(st, n, 1, rk);
	radix(rk, rk + n + 1, m);
	assign(rk, m, out, 1);
	m = buyers(st, n, 1, rk);
	if (rank_revenue(st, rk, m, rk + n + 1)) {
		free(rk);
		return CRM_ENOMEM;
	}
	assign(rk, m, out, 2);
	free(rk);
	return 0;
}

int
crm_rfm_cell(const struct crm_rfm_score *s)
{
	return s->r * 100 + s->f * 10 + s->m;
}

/* ---- segments ----------------------------------------------------- */

struct rule {
	const char *name;
	unsigned char lo[3], hi[3]; /* r, f, m */
};

/*
 * The built-in table, first match wins; every one of the 125 cells has a
 * segment. Recency splits first, as customers who have not bought for a
 * long time are a different audience whatever they once spent.
 */
static const struct rule builtin[] = {
	{ "Champions", { 4, 4, 4 }, { 5, 5, 5 } },
	{ "Loyal Customers", { 3, 3, 3 }, { 5, 5, 5 } },
	{ "New Customers", { 5, 1, 1 }, { 5, 1, 5 } },
	{ "Promising", { 4, 1, 1 }, { 4, 1, 5 } },
	{ "Potential Loyalist", { 4, 2, 1 }, { 5, 5, 5 } },
	{ "Need Attention", { 3, 2, 1 }, { 3, 5, 5 } },
	{ "About To Sleep", { 3, 1, 1 }, { 3, 1, 5 } },
	{ "Can't Lose Them", { 1, 4, 4 }, { 1, 5, 5 } },
	{ "At Risk", { 1, 3, 3 }, { 2, 5, 5 } },
	{ "Hibernating", { 2, 1, 1 }, { 2, 5, 5 } },
	{ "Lost", { 1, 1, 1 }, { 1, 5, 5 } },
};

static const char builtin_none[] = "No Purchases";

struct crm_rfm_table {
	const char *cell[125]; /* by (r-1)*25 + (f-1)*5 + (m-1) */
	const char *none;
	struct crm_buf names; /* the config's names, NUL-separated */
};

static void
fill_cells(struct crm_rfm_table *t, const struct rule *rules, size_t n)
{
	size_t c, i;

	for (c = 0; c < 125; c++) {
		unsigned char s[3] = { (unsigned char)(c / 25 + 1),
			(unsigned char)(c / 5 % 5 + 1),
			(unsigned char)(c % 5 + 1) };

		t->cell[c] = "";
		for (i = 0; i < n; i++)
			if (s[0] >= rules[i].lo[0] && s[0] <= rules[i].hi[0] &&
			    s[1] >= rules[i].lo[1] && s[1] <= rules[i].hi[1] &&
			    s[2] >= rules[i].lo[2] && s[2] <= rules[i].hi[2]) {
				t->cell[c] = rules[i].name;
				break;
			}
	}
}

/* "N" or "N-M" with 1 <= N <= M <= 5. */
static int
parse_range(const struct crm_ynode *v, unsigned char *lo, unsigned char *hi)
{
	const char *s = v->s;

	if (v->kind != CRM_Y_SCALAR)
		return -1;
	if (v->slen == 1 && s[0] >= '1' && s[0] <= '5') {
		*lo = *hi = (unsigned char)(s[0] - '0');
		return 0;
	}
	if (v->slen == 3 && s[0] >= '1' && s[0] <= '5' && s[1] == '-' &&
	    s[2] >= s[0] && s[2] <= '5') {
		*lo = (unsigned char)(s[0] - '0');
		*hi = (unsigned char)(s[2] - '0');
		return 0;
	}
	return -1;
}

struct loader {
	const struct crm_config *cf;
	char *err;
	size_t errlen;
};

static int
load_rule(struct loader *L, const struct crm_ynode *item, struct rule *r,
    size_t *nameoff, struct crm_buf *names)
{
	static const char *const keys[] = { "r", "f", "m" };
	const struct crm_ynode *k, *v;
	size_t i, j;
	int named = 0;

	if (item->kind != CRM_Y_MAP)
		return crm_config_error(L->cf, item, L->err, L->errlen,
		    "rfm: a segment must be a mapping with a name");
	memset(r->lo, 1, 3);
	memset(r->hi, 5, 3);
	for (i = 0; i + 1 < item->n; i += 2) {
		k = item->kid[i];
		v = item->kid[i + 1];
		if (k->kind != CRM_Y_SCALAR)
			return crm_config_error(L->cf, k, L->err, L->errlen,
			    "rfm: a key must be a name");
		if (strcmp(k->s, "name") == 0 && v->kind == CRM_Y_SCALAR &&
		    v->slen > 0 && memchr(v->s, '\0', v->slen) == NULL) {
			named = 1;
			*nameoff = names->len;
			if (crm_buf_add(names, v->s, v->slen + 1))
				return CRM_ENOMEM;
			continue;
		}
		for (j = 0; j < 3 && strcmp(k->s, keys[j]) != 0; j++)
			;
		if (j == 3)
			return crm_config_error(L->cf, k, L->err, L->errlen,
			    "rfm: unknown key \"%s\" in a segment", k->s);
		if (parse_range(v, &r->lo[j], &r->hi[j]))
			return crm_config_error(L->cf, v, L->err, L->errlen,
			    "rfm: %s must be a score 1-5 or a range such as "
			    "4-5",
			    keys[j]);
	}
	if (!named)
		return crm_config_error(L->cf, item, L->err, L->errlen,
		    "rfm: a segment needs a name");
	return 0;
}

static int
load_rules(struct loader *L, struct crm_rfm_table *t,
    const struct crm_ynode *seq)
{
	struct rule *r;
	size_t i, *off;
	int rc = 0;

	if (seq->kind != CRM_Y_SEQ)
		return crm_config_error(L->cf, seq, L->err, L->errlen,
		    "rfm: segments must be a list");
	r = calloc(seq->n + 1, sizeof(*r));
	off = calloc(seq->n + 1, sizeof(*off));
	for (i = 0; r && off && rc == 0 && i < seq->n; i++)
		rc = load_rule(L, seq->kid[i], &r[i], &off[i], &t->names);
	if (r == NULL || off == NULL)
		rc = CRM_ENOMEM;
	/* Names point into the buffer only once it has stopped growing. */
	for (i = 0; rc == 0 && i < seq->n; i++)
		r[i].name = t->names.p + off[i];
	if (rc == 0)
		fill_cells(t, r, seq->n);
	free(r);
	free(off);
	return rc;
}

static int
load_section(struct loader *L, struct crm_rfm_table *t,
    const struct crm_ynode *sec)
{
	const struct crm_ynode *k, *v, *segs = NULL;
	size_t i;
	int rc;

	if (sec->kind != CRM_Y_MAP)
		return crm_config_error(L->cf, sec, L->err, L->errlen,
		    "rfm: expected a mapping");
	for (i = 0; i + 1 < sec->n; i += 2) {
		k = sec->kid[i];
		v = sec->kid[i + 1];
		if (k->kind != CRM_Y_SCALAR)
			return crm_config_error(L->cf, k, L->err, L->errlen,
			    "rfm: a key must be a name");
		if (strcmp(k->s, "segments") == 0)
			segs = v;
		else if (strcmp(k->s, "none") != 0)
			return crm_config_error(L->cf, k, L->err, L->errlen,
			    "rfm: unknown key \"%s\"", k->s);
		else if (v->kind != CRM_Y_SCALAR ||
		    memchr(v->s, '\0', v->slen) != NULL)
			return crm_config_error(L->cf, v, L->err, L->errlen,
			    "rfm: none must be a segment name");
	}
	if (segs != NULL && (rc = load_rules(L, t, segs)))
		return rc;
	if ((v = crm_ydoc_get(sec, "none")) != NULL) {
		/* The rules' names are fixed by now; this copy is separate. */
		if ((t->none = strdup(v->plain_null ? "" : v->s)) == NULL)
			return CRM_ENOMEM;
	}
	return 0;
}

int
crm_rfm_table_load(const struct crm_config *cf, struct crm_rfm_table **out,
    char *err, size_t errlen)
{
	struct crm_rfm_table *t;
	const struct crm_ynode *sec = crm_config_section(cf, "rfm");
	struct loader L = { cf, err, errlen };
	int rc = 0;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return CRM_ENOMEM;
	fill_cells(t, builtin, sizeof(builtin) / sizeof(builtin[0]));
	if (sec != NULL && !(sec->kind == CRM_Y_SCALAR && sec->plain_null))
		rc = load_section(&L, t, sec);
	if (rc) {
		crm_rfm_table_free(t);
		return rc;
	}
	*out = t;
	return 0;
}

const char *
crm_rfm_segment(const struct crm_rfm_table *t, const struct crm_rfm_score *s)
{
	if (s->r == 0 || s->f == 0 || s->m == 0)
		return t->none ? t->none : builtin_none;
	return t->cell[(s->r - 1) * 25 + (s->f - 1) * 5 + (s->m - 1)];
}

void
crm_rfm_table_free(struct crm_rfm_table *t)
{
	if (t == NULL)
		return;
	free((char *)t->none);
	crm_buf_free(&t->names);
	free(t);
}
