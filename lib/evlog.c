#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dec.h"
#include "errors.h"
#include "evlog.h"
#include "prefault.h"
#include "text.h"
#include "times.h"

/*
 * Events held before a sorted write. A batch of 4M took 1.5-2 s to write,
 * longer than crm-log's reading thread can run ahead (a million rows), so
 * the reader stood still for 2 s of a 10M-event import; a batch of 1M is
 * written in well under that time, and the last one, written after the
 * reading is done, is smaller too.
 */
#define DEFAULT_BATCH (1u << 20)
#define DAY 86400
#define FLUSHER_EVENTS 65536 /* crm_txn_flusher() for a batch this large */

/* What an event does to its contact beyond being counted. */
enum { K_OTHER, K_PURCHASE, K_REFUND, K_SUBSCRIBE, K_UNSUBSCRIBE };

/* An event held in the batch; its encoded value is in the arena. */
struct pend {
	uint64_t contact;
	int64_t ts;
	uint64_t id;
	int64_t amount; /* of a purchase or refund, in units of 10^-scale */
	uint32_t off, len;
	uint8_t kind, keyed, scale;
};

/* An event of the batch by its place in the key order: contact and time
 * packed into one number, and where the event is in the batch. */
struct skey {
	uint64_t k;
	uint64_t i;
};

/* A contact touched in this session: its statistics as they stand. */
struct slot {
	uint64_t id;
	struct crm_stats s;
	int64_t first0, last0; /* first_seen, last_seen before the session */
	uint32_t cons;         /* its consent in l->cons, + 1; 0 for none */
	int dirty;
};

/* The latest subscribe or unsubscribe of a contact in this session. Few
 * contacts have one, so it is kept apart from the slots. */
struct cons {
	int consent; /* 1 opt in, -1 opt out, 0 written */
	int64_t at;
	char source[64];
};

struct crm_evlog {
	struct crm_store *st;
	struct crm_txn *t;
	const struct crm_config *cf;
	struct crm_evlog_opts o;
	struct crm_evlog_counts counts;
	struct pend *p, *tmp;
	size_t n, cap;
	struct skey *sk, *sktmp; /* the batch's order, once sorted */
	size_t skcap;
	struct crm_buf arena, enc, key;
	struct slot *slots;
	size_t nslots, capslots;
	struct cons *cons;
	size_t ncons, capcons;
	uint32_t *slotix;       /* contact id -> slot index + 1, for an id */
	uint64_t nslotix;       /* below nslotix: the ids stored before */
	struct crm_map slotmap; /* contact id -> slot index, for the others */
	struct crm_map emails;  /* normal e-mail -> contact id */
	struct crm_map ids;     /* contact id known to exist -> 1 */
	uint64_t *hash; /* per event id of the session: hash of the event */
	size_t nhash;
	int keyed;       /* an event with a key was added */
	size_t lastslot; /* the slot of the contact written last, + 1 */
	struct crm_rec rec;
	uint64_t first_id; /* the first event id of the session */
	uint64_t last_id;  /* the id of the event added last */
	struct crm_buf cmp;
};

/*
 * Sizing the containers for the rows expected up front saves rehashing and
 * copying as they grow. Only a hint: if memory is short, they grow later.
 * Allocated now, they are also made present ahead of use (prefault.h), as
 * is the heap LMDB takes its dirty pages from (at most the 512 MB of them
 * it holds before it writes some out): on 10M events that took the faults
 * of about a gigabyte off the writing thread, which is the slower one.
 * Runs on the main thread, whose heap that is (crm-log's writer).
 */
static void
reserve(struct crm_evlog *l)
{
	size_t n = l->o.expect < l->o.batch ? l->o.expect : l->o.batch;
	size_t contacts = l->o.expect / 4 + 1024;

	if (l->o.expect == 0)
		return;
	if ((l->p = malloc(n * sizeof(*l->p))) != NULL)
		l->cap = n;
	crm_buf_grow(&l->arena, n * 24);
	crm_map_reserve(&l->emails, contacts, 24);
	if (l->slotix == NULL)
		crm_map_reserve(&l->slotmap, contacts, 8);
	if ((l->hash = malloc(l->o.expect * sizeof(*l->hash))) != NULL)
		l->nhash = l->o.expect;
	if (contacts > l->nslotix + 1024)
		contacts = l->nslotix + 1024;
	if ((l->slots = malloc(contacts * sizeof(*l->slots))) != NULL)
		l->capslots = contacts;
	if ((l->sk = malloc(n * sizeof(*l->sk))) != NULL &&
	    (l->sktmp = malloc(n * sizeof(*l->sktmp))) != NULL)
		l->skcap = n;
	crm_prefault(l->p, l->cap * sizeof(*l->p));
	crm_prefault(l->arena.p, l->arena.cap);
	crm_prefault(l->slots, l->capslots * sizeof(*l->slots));
	/* The keys' containers once a keyed event comes (crm_evlog_add_ready). */
	crm_txn_expect_index(l->t, CRM_IDX_EVKEY, l->o.expect / 2, 16);
	crm_prefault(l->sk, l->skcap * sizeof(*l->sk));
	crm_prefault(l->sktmp, l->skcap * sizeof(*l->sktmp));
	crm_prefault_heap(l->o.expect < CRM_TXN_DIRTY_MAX / 64 ?
		l->o.expect * 64 :
		CRM_TXN_DIRTY_MAX,
	    0);
}

int
crm_evlog_begin(struct crm_store *st, struct crm_txn *t,
    const struct crm_config *cf, const struct crm_evlog_opts *o,
    struct crm_evlog **out)
{
	struct crm_evlog *l = calloc(1, sizeof(*l));
	unsigned long b;
	const char *e;
	char *end;

	if (l == NULL)
		return CRM_ENOMEM;
	l->st = st;
	l->t = t;
	l->cf = cf;
	l->o = *o;
	/* CRM_EVLOG_BATCH: tiny batches, for tests of many of them */
	if (l->o.batch == 0 && (e = getenv("CRM_EVLOG_BATCH")) != NULL &&
	    (b = strtoul(e, &end, 10)) > 0 && *end == '\0')
		l->o.batch = b;
	if (l->o.batch == 0)
		l->o.batch = DEFAULT_BATCH;
	crm_rec_init(&l->rec);
	l->first_id = 0;
	/*
	 * Contact ids are given in sequence, so those stored before are a
	 * dense range: a slot is found by its id in an array, 4 bytes a
	 * contact, where a map took 128. calloc() returns memory the system
	 * has zeroed, and its untouched pages cost nothing.
	 */
	l->nslotix = crm_txn_next_id(t);
	if (l->nslotix > (1u << 28) ||
	    (l->slotix = calloc(l->nslotix, sizeof(*l->slotix))) == NULL)
		l->nslotix = 0;
	reserve(l);
	*out = l;
	return 0;
}

void
crm_evlog_txn(struct crm_evlog *l, struct crm_txn *t)
{
	l->t = t;
}

const struct crm_evlog_counts *
crm_evlog_counts(const struct crm_evlog *l)
{
	return &l->counts;
}

int
crm_evlog_touched(const struct crm_evlog *l, uint64_t **ids, size_t *n)
{
	size_t i;

	*n = 0;
	if ((*ids = malloc((l->nslots + 1) * sizeof(**ids))) == NULL)
		return CRM_ENOMEM;
	for (i = 0; i < l->nslots; i++)
		(*ids)[(*n)++] = l->slots[i].id;
	return 0;
}

static int
why_is(char *why, size_t whylen, const char *fmt, const char *a, size_t n)
{
	snprintf(why, whylen, fmt, (int)n, a);
	return CRM_EINVAL;
}

/* A contact for an e-mail nobody has yet, as crm-add would create it. */
static int
create_contact(struct crm_evlog *l, const char *email, size_t n, uint64_t *id)
{
	char now[CRM_TIME_LEN];
	int rc;

	crm_time_format(l->o.now, now);
	crm_rec_clear(&l->rec);
	l->rec.id = *id = crm_txn_new_id(l->t);
	if ((rc = crm_rec_set(&l->rec, CRM_COL_EMAIL, NULL, 0, email, n)) ||
	    (rc = crm_rec_set(&l->rec, CRM_COL_CREATED_AT, NULL, 0, now,
		 strlen(now))) ||
	    (rc = crm_rec_set(&l->rec, CRM_COL_UPDATED_AT, NULL, 0, now,
		 strlen(now))) ||
	    (rc = crm_contact_put(l->t, &l->rec)) ||
	    (rc = crm_index_put(l->t, CRM_IDX_EMAIL, email, n, *id)))
		return rc;
	l->counts.created++;
	return 0;
}

int
crm_evlog_ref(const char *ref, size_t n, struct crm_evref *r, char *why,
    size_t whylen)
{
	crm_trim(&ref, &n);
	r->byid = 0;
	if (n == 0)
		return why_is(why, whylen, "missing contact%.*s", "", 0);
	if (ref[0] >= '0' && ref[0] <= '9' && memchr(ref, '@', n) == NULL) {
		r->byid = 1;
		if (crm_id_parse(ref, n, &r->id))
			return why_is(why, whylen,
			    "invalid contact id \"%.*s\"", ref, n);
		return 0;
	}
	if (n >= sizeof(r->norm) || crm_email_norm(ref, n, r->norm, &r->nn))
		return why_is(why, whylen, "invalid email \"%.*s\"", ref, n);
	return 0;
}

int
crm_evlog_resolve(struct crm_evlog *l, const struct crm_evref *r, uint64_t *id,
    char *why, size_t whylen)
{
	char ref[24];
	int rc;

	if (r->byid) {
		if (crm_map_get(&l->ids, &r->id, 8, id))
			return 0;
		/* an id merged into another contact names that one */
		if ((rc = crm_contact_resolve(l->t, r->id, id)) ==
		    CRM_ENOTFOUND) {
			snprintf(ref, sizeof(ref), "%llu",
			    (unsigned long long)r->id);
			return why_is(why, whylen, "no contact with id %.*s",
			    ref, strlen(ref));
		}
		return rc ? rc : crm_map_put(&l->ids, &r->id, 8, *id);
	}
	if (crm_map_get(&l->emails, r->norm, r->nn, id))
		return 0;
	rc = crm_index_get(l->t, CRM_IDX_EMAIL, r->norm, r->nn, id);
	if (rc == CRM_ENOTFOUND && l->o.create)
		rc = create_contact(l, r->norm, r->nn, id);
	else if (rc == CRM_ENOTFOUND)
		return why_is(why, whylen, "no contact with email \"%.*s\"",
		    r->norm, r->nn);
	return rc ? rc : crm_map_put(&l->emails, r->norm, r->nn, *id);
}

int
crm_evlog_contact(struct crm_evlog *l, const char *ref, size_t n, uint64_t *id,
    char *why, size_t whylen)
{
	struct crm_evref r;
	int rc;

	if ((rc = crm_evlog_ref(ref, n, &r, why, whylen)))
		return rc;
	return crm_evlog_resolve(l, &r, id, why, whylen);
}

static uint32_t
kind_of(int type)
{
	switch (type) {
	case CRM_EV_PURCHASE:
		return K_PURCHASE;
	case CRM_EV_REFUND:
		return K_REFUND;
	case CRM_EV_SUBSCRIBE:
		return K_SUBSCRIBE;
	case CRM_EV_UNSUBSCRIBE:
		return K_UNSUBSCRIBE;
	default:
		return K_OTHER;
	}
}

/*
 * The fields an event is prepared by, found in one pass over them: the
 * value of the first of each name (as crm_event_get() finds it), or NULL.
 */
struct wanted {
	const char *ext, *key, *amount;
	size_t extn, keyn, amountn;
};

static void
find_wanted(const struct crm_evlog_opts *o, const struct crm_event *e,
    struct wanted *w)
{
	const struct crm_evfield *f;
	size_t i, kl = o->key_col != NULL ? strlen(o->key_col) : 0;

	memset(w, 0, sizeof(*w));
	for (i = e->n; i-- > 0;) {
		f = &e->f[i];
		if (f->nlen == 6 && memcmp(f->name, "ext_id", 6) == 0) {
			w->ext = f->val;
			w->extn = f->vlen;
		} else if (f->nlen == 6 && memcmp(f->name, "amount", 6) == 0) {
			w->amount = f->val;
			w->amountn = f->vlen;
		}
		if (kl > 0 && f->nlen == kl &&
		    memcmp(f->name, o->key_col, kl) == 0) {
			w->key = f->val;
			w->keyn = f->vlen;
		}
	}
}

/*
 * The idempotency key: type NUL ext_id (or the key column's value). An
 * order's purchase and its refund share an order number, so the type is
 * part of the key. Returns 0 and leaves l->key empty when there is none.
 */
static int
event_key(const struct crm_evlog_opts *o, const struct crm_event *e,
    const struct wanted *w, struct crm_buf *key, const char **col)
{
	const char *v = w->ext;
	size_t n = w->extn;

	*col = "ext_id";
	if (v == NULL && o->key_col != NULL) {
		*col = o->key_col;
		v = w->key;
		n = w->keyn;
	}
	key->len = 0;
	if (v == NULL)
		return 0;
	if (crm_buf_grow(key, e->tlen + 1 + n))
		return CRM_ENOMEM;
	if (e->tlen > 0)
		memcpy(key->p, e->type, e->tlen);
	key->p[e->tlen] = '\0';
	if (n > 0)
		memcpy(key->p + e->tlen + 1, v, n);
	key->len = e->tlen + 1 + n;
	return key->len > 511 ? CRM_ETOOBIG : 0;
}

/*
 * The hash of an event's time, type and fields, for telling whether two
 * events with one key are the same. A sum over the fields, so that their
 * order does not count.
 */
static uint64_t
content_hash(const struct crm_event *e)
{
	uint64_t h = crm_hash(e->type, e->tlen) ^ (uint64_t)e->ts, f;
	size_t i;

	for (i = 0; i < e->n; i++) {
		f = crm_hash(e->f[i].name, e->f[i].nlen) *
			0x9e3779b97f4a7c15ULL ^
		    crm_hash(e->f[i].val, e->f[i].vlen);
		f *= 0xbf58476d1ce4e5b9ULL;
		f ^= f >> 32;
		h += f * 0xd6e8feb86659fd93ULL;
	}
	return h;
}

/*
 * Whether the key is new (0), a repeat (*status), or a contradiction: an
 * event of this session with the same key and other content. The index
 * overlay says which event holds the key; events of this session have a
 * hash of their content.
 */
static int
check_key(struct crm_evlog *l, const struct crm_evready *r, uint64_t h,
    int *status, char *why, size_t whylen)
{
	uint64_t id;
	int rc;

	rc = crm_index_get_hashed(l->t, CRM_IDX_EVKEY, r->kh, r->key, r->keylen,
	    &id);
	if (rc == CRM_ENOTFOUND)
		return 0;
	if (rc)
		return rc;
	*status = CRM_EVLOG_DUPLICATE;
	if (l->first_id == 0 || id < l->first_id ||
	    l->hash[id - l->first_id] == h)
		return 0;
	snprintf(why, whylen,
	    "%s: %s given twice in this input with different values", r->keycol,
	    r->keycol);
	return CRM_EINVAL;
}

static int
note_hash(struct crm_evlog *l, uint64_t id, uint64_t h)
{
	size_t i = (size_t)(id - l->first_id), cap;
	uint64_t *p;

	if (i >= l->nhash) {
		cap = l->nhash ? l->nhash * 2 : 65536;
		while (cap <= i)
			cap *= 2;
		if ((p = realloc(l->hash, cap * sizeof(*p))) == NULL)
			return CRM_ENOMEM;
		l->hash = p;
		l->nhash = cap;
	}
	l->hash[i] = h;
	return 0;
}

static int
hold(struct crm_evlog *l, const struct crm_evready *r, uint64_t contact,
    uint64_t id)
{
	struct pend *p;

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 4096;
		if ((p = realloc(l->p, l->cap * sizeof(*p))) == NULL)
			return CRM_ENOMEM;
		l->p = p;
	}
	if (l->arena.len + r->enclen > UINT32_MAX)
		return CRM_ETOOBIG;
	p = &l->p[l->n++];
	p->contact = contact;
	p->ts = r->ts;
	p->id = id;
	p->off = (uint32_t)l->arena.len;
	p->len = (uint32_t)r->enclen;
	p->kind = (uint8_t)r->kind;
	p->keyed = r->keylen > 0;
	p->amount = r->amount.v;
	p->scale = (uint8_t)r->amount.scale;
	return crm_buf_add(&l->arena, r->enc, r->enclen);
}

int
crm_evlog_prepare(const struct crm_config *cf, const struct crm_evlog_opts *o,
    const struct crm_event *e, struct crm_buf *enc, struct crm_buf *key,
    struct crm_evready *r, char *why, size_t whylen)
{
	struct wanted w;
	int rc, type = crm_evtype_lookup(e->type, e->tlen);

	(void)cf;
	find_wanted(o, e, &w);
	/* crm_event_check() finds fault only with these. */
	if ((type == CRM_EV_SURVEY ||
		((type == CRM_EV_PURCHASE || type == CRM_EV_REFUND) &&
		    w.amount == NULL)) &&
	    (rc = crm_event_check(e, why, whylen)))
		return rc;
	if ((rc = crm_event_encode(e, enc)) ||
	    (rc = event_key(o, e, &w, key, &r->keycol)))
		return rc;
	r->ts = e->ts;
	r->kind = (int)kind_of(type);
	r->amount.v = 0;
	r->amount.scale = 0;
	if ((r->kind == K_PURCHASE || r->kind == K_REFUND) &&
	    (w.amount == NULL ||
		crm_dec_parse(w.amount, w.amountn, &r->amount))) {
		snprintf(why, whylen, "amount: invalid amount");
		return CRM_EINVAL;
	}
	r->enc = enc->p;
	r->enclen = enc->len;
	r->key = key->p;
	r->keylen = key->len;
	r->kh = key->len ? crm_map_hash(key->p, key->len) : 0;
	/* Only an event with a key is compared with another by it. */
	r->h = key->len ? content_hash(e) : 0;
	return 0;
}

static int flush(struct crm_evlog *);

int
crm_evlog_add_ready(struct crm_evlog *l, uint64_t contact,
    const struct crm_evready *r, int *status, char *why, size_t whylen)
{
	uint64_t h = r->h ^ contact * 0x9e3779b97f4a7c15u, id;
	int rc;

	*status = CRM_EVLOG_ADDED;
	if (r->keylen > 0 &&
	    ((rc = check_key(l, r, h, status, why, whylen)) ||
		*status == CRM_EVLOG_DUPLICATE)) {
		if (rc == 0)
			l->counts.duplicates++;
		return rc;
	}
	id = crm_txn_new_event_id(l->t);
	if (l->first_id == 0)
		l->first_id = id;
	if (r->keylen > 0 && !l->keyed) {
		/* An input with keys: their containers are used from now on,
		 * and made present (an input without leaves them unused). */
		l->keyed = 1;
		crm_prefault(l->hash, l->nhash * sizeof(*l->hash));
		crm_txn_prefault_index(l->t, CRM_IDX_EVKEY);
	}
	if (r->keylen > 0 &&
	    ((rc = crm_index_put(l->t, CRM_IDX_EVKEY, r->key, r->keylen, id)) ||
		(rc = note_hash(l, id, h))))
		return rc;
	if ((rc = hold(l, r, contact, id)))
		return rc;
	l->last_id = id;
	l->counts.added++;
	return l->n >= l->o.batch ? flush(l) : 0;
}

void
crm_evlog_prefetch(struct crm_evlog *l, const struct crm_evready *r, int stage)
{
	if (r->keylen > 0)
		crm_index_prefetch(l->t, CRM_IDX_EVKEY, r->kh, stage);
}

int
crm_evlog_add(struct crm_evlog *l, struct crm_event *e, int *status, char *why,
    size_t whylen)
{
	struct crm_evready r;
	int rc;

	*status = CRM_EVLOG_ADDED;
	if ((rc = crm_evlog_prepare(l->cf, &l->o, e, &l->enc, &l->key, &r, why,
		 whylen)))
		return rc;
	if ((rc = crm_evlog_add_ready(l, e->contact, &r, status, why, whylen)))
		return rc;
	e->id = *status == CRM_EVLOG_ADDED ? l->last_id : 0;
	return 0;
}

/*
 * A stable least-significant-digit radix sort of the batch by time, then
 * by contact: events were held in id order, so equal (contact, time) keep
 * it, and the result is in key order. Only the digits that differ within
 * the batch are sorted on.
 */
static void
radix_pass(struct pend *src, struct pend *dst, size_t n, int which,
    uint64_t min, int shift, size_t *count)
{
	size_t i, sum, c;
	uint64_t v;

	memset(count, 0, 65536 * sizeof(*count));
	for (i = 0; i < n; i++) {
		v = which ? src[i].contact : (uint64_t)src[i].ts;
		count[(v - min) >> shift & 0xffff]++;
	}
	for (i = sum = 0; i < 65536; i++) {
		c = count[i];
		count[i] = sum;
		sum += c;
	}
	for (i = 0; i < n; i++) {
		v = which ? src[i].contact : (uint64_t)src[i].ts;
		dst[count[(v - min) >> shift & 0xffff]++] = src[i];
	}
}

/* The number of bits v takes. */
static int
bits(uint64_t v)
{
	int b = 0;

	while (v >> b)
		b++;
	return b;
}

/*
 * The batch's order by key, into l->sk. When contact and time (less their
 * least values) fit one 64-bit number together, only those numbers and
 * the events' places are sorted, a radix pass per 16 bits, which moves a
 * third of the bytes of the events; else the events themselves are.
 */
static int
sort_batch(struct crm_evlog *l)
{
	struct pend *src = l->p, *dst, *sw;
	struct skey *ks, *kd, *kw;
	uint64_t min[2], max[2], v;
	size_t *count, i, c, sum;
	int which, shift, tb, total;

	if (l->n > l->skcap) {
		free(l->sk);
		free(l->sktmp);
		l->sktmp = NULL;
		if ((l->sk = malloc(l->n * sizeof(*l->sk))) == NULL ||
		    (l->sktmp = malloc(l->n * sizeof(*l->sktmp))) == NULL) {
			l->skcap = 0;
			return CRM_ENOMEM;
		}
		l->skcap = l->n;
	}
	for (i = 0; i < l->n; i++)
		l->sk[i].i = i;
	if (l->n < 2)
		return 0;
	if ((count = malloc(65536 * sizeof(*count))) == NULL)
		return CRM_ENOMEM;
	for (which = 0; which < 2; which++) {
		min[which] = UINT64_MAX;
		max[which] = 0;
		for (i = 0; i < l->n; i++) {
			/* Times are compared with the sign bit flipped. */
			v = which ? l->p[i].contact :
				    (uint64_t)l->p[i].ts ^ (1ULL << 63);
			min[which] = v < min[which] ? v : min[which];
			max[which] = v > max[which] ? v : max[which];
		}
	}
	tb = bits(max[0] - min[0]);
	total = tb + bits(max[1] - min[1]);
	if (total <= 64) {
		for (i = 0; i < l->n; i++)
			l->sk[i].k =
			    (tb < 64 ? (l->p[i].contact - min[1]) << tb : 0) |
			    (((uint64_t)l->p[i].ts ^ (1ULL << 63)) - min[0]);
		ks = l->sk;
		kd = l->sktmp;
		for (shift = 0; shift < total; shift += 16) {
			memset(count, 0, 65536 * sizeof(*count));
			for (i = 0; i < l->n; i++)
				count[ks[i].k >> shift & 0xffff]++;
			for (i = sum = 0; i < 65536; i++) {
				c = count[i];
				count[i] = sum;
				sum += c;
			}
			for (i = 0; i < l->n; i++)
				kd[count[ks[i].k >> shift & 0xffff]++] = ks[i];
			kw = ks;
			ks = kd;
			kd = kw;
		}
		free(count);
		if (ks != l->sk) {
			l->sktmp = l->sk;
			l->sk = ks;
		}
		return 0;
	}
	if ((dst = realloc(l->tmp, l->n * sizeof(*dst))) == NULL) {
		free(count);
		return CRM_ENOMEM;
	}
	l->tmp = dst;
	/* radix_pass subtracts min from the raw value: undo the flip. */
	min[0] ^= 1ULL << 63;
	max[0] ^= 1ULL << 63;
	for (which = 0; which < 2; which++)
		for (shift = 0;
		     shift < 64 && ((max[which] - min[which]) >> shift) != 0;
		     shift += 16) {
			radix_pass(src, dst, l->n, which, min[which], shift,
			    count);
			sw = src;
			src = dst;
			dst = sw;
		}
	free(count);
	if (src != l->p) {
		l->tmp = l->p;
		l->p = src;
	}
	return 0;
}

static struct slot *
slot_of(struct crm_evlog *l, uint64_t id, int *rc)
{
	struct slot *s;
	uint64_t i;

	/* Events come sorted by contact: mostly the same one as before. */
	if (l->lastslot && l->slots[l->lastslot - 1].id == id)
		return &l->slots[l->lastslot - 1];
	if (id < l->nslotix) {
		if ((i = l->slotix[id]) != 0) {
			l->lastslot = i;
			return &l->slots[i - 1];
		}
	} else if (crm_map_get(&l->slotmap, &id, 8, &i)) {
		l->lastslot = i + 1;
		return &l->slots[i];
	}
	if (l->nslots == l->capslots) {
		l->capslots = l->capslots ? l->capslots * 2 : 1024;
		s = realloc(l->slots, l->capslots * sizeof(*s));
		if (s == NULL) {
			*rc = CRM_ENOMEM;
			return NULL;
		}
		l->slots = s;
	}
	if (l->nslots >= UINT32_MAX) {
		*rc = CRM_ETOOBIG;
		return NULL;
	}
	s = &l->slots[l->nslots];
	memset(s, 0, sizeof(*s));
	s->id = id;
	if ((*rc = crm_stats_get(l->t, id, &s->s)))
		return NULL;
	if (id < l->nslotix)
		l->slotix[id] = (uint32_t)l->nslots + 1;
	else if ((*rc = crm_map_put(&l->slotmap, &id, 8, l->nslots)))
		return NULL;
	s->first0 = s->s.first_seen;
	s->last0 = s->s.last_seen;
	l->lastslot = ++l->nslots;
	return s;
}

static int64_t
day_of(int64_t ts)
{
	return ts >= 0 ? ts / DAY : -((-ts + DAY - 1) / DAY);
}

/* Whether the store holds a purchase of the contact on that day. */
static int
stored_purchase_day(struct crm_evlog *l, uint64_t contact, int64_t day,
    int *found)
{
	struct crm_evit *it;
	struct crm_event e;
	int rc;

	*found = 0;
	if ((rc = crm_evit_open(l->t, contact, day * DAY, (day + 1) * DAY, 0,
		 &it)))
		return rc;
	while (!*found && (rc = crm_evit_next(it, &e)) == 0)
		*found = crm_evtype_lookup(e.type, e.tlen) == CRM_EV_PURCHASE;
	crm_evit_close(it);
	return rc == CRM_EOF || rc == 0 ? 0 : rc;
}

/*
 * A purchase day is new unless the contact has another purchase that day.
 * Every purchase lies between the first and the last, and events come in
 * time order per contact here, so the store is asked only for a day
 * strictly inside that span.
 */
static int
new_purchase_day(struct crm_evlog *l, const struct slot *s, int64_t ts,
    int *isnew)
{
	int64_t d = day_of(ts), first, last;
	int rc, found;

	*isnew = 1;
	if (s->s.purchases == 0)
		return 0;
	first = day_of(s->s.first_purchase);
	last = day_of(s->s.last_purchase);
	if (d == first || d == last) {
		*isnew = 0;
		return 0;
	}
	if (d < first || d > last)
		return 0;
	if ((rc = stored_purchase_day(l, s->id, d, &found)))
		return rc;
	*isnew = !found;
	return 0;
}

static int
money(struct crm_evlog *l, const struct pend *p, struct slot *s)
{
	struct crm_dec d = { p->amount, p->scale };
	int rc, isnew;

	if (p->kind == K_REFUND)
		return crm_dec_sub(s->s.revenue, d, &s->s.revenue);
	if ((rc = new_purchase_day(l, s, p->ts, &isnew)))
		return rc;
	s->s.purchase_days += (uint64_t)isnew;
	s->s.purchases++;
	if (s->s.first_purchase == CRM_TIME_NONE || p->ts < s->s.first_purchase)
		s->s.first_purchase = p->ts;
	if (s->s.last_purchase == CRM_TIME_NONE || p->ts > s->s.last_purchase)
		s->s.last_purchase = p->ts;
	return crm_dec_add(s->s.revenue, d, &s->s.revenue);
}

/* Subscribe and unsubscribe: the latest in time is kept for the contact. */
static int
consent(struct crm_evlog *l, const struct pend *p, struct slot *s)
{
	struct crm_event e;
	struct cons *c;
	const char *src;
	size_t n;
	int rc;

	if (s->cons == 0) {
		if (l->ncons == l->capcons) {
			n = l->capcons ? l->capcons * 2 : 256;
			if (n > UINT32_MAX - 1 ||
			    (c = realloc(l->cons, n * sizeof(*c))) == NULL)
				return CRM_ENOMEM;
			l->cons = c;
			l->capcons = n;
		}
		c = &l->cons[l->ncons++];
		c->consent = 0;
		s->cons = (uint32_t)l->ncons;
	}
	c = &l->cons[s->cons - 1];
	if (c->consent != 0 && p->ts < c->at)
		return 0;
	if ((rc = crm_event_decode(&e, l->arena.p + p->off, p->len)))
		return rc;
	if ((src = crm_event_get(&e, "source", &n)) == NULL &&
	    (src = crm_event_get(&e, "channel", &n)) == NULL) {
		src = "crm-log";
		n = 7;
	}
	if (n >= sizeof(c->source))
		n = sizeof(c->source) - 1;
	memcpy(c->source, src, n);
	c->source[n] = '\0';
	c->consent = p->kind == K_SUBSCRIBE ? 1 : -1;
	c->at = p->ts;
	return 0;
}

/*
 * An event without an ext_id is the same as a stored one when every part
 * of it is: contact, second, type and fields. That makes re-running any
 * input harmless, not only inputs with ext_ids. Only events stored before
 * this session count, so that two equal rows of one input are both kept,
 * and the store is asked only when the time lies within the contact's
 * stored timeline.
 */
/* Whether two encoded events have the same type and fields, in any order. */
static int
same_event(const void *a, size_t alen, const void *b, size_t blen)
{
	struct crm_event x, y;
	size_t i, j;

	if (alen != blen) /* the same fields take the same bytes */
		return 0;
	if (memcmp(a, b, alen) == 0)
		return 1;
	if (crm_event_decode(&x, a, alen) || crm_event_decode(&y, b, blen) ||
	    x.n != y.n || x.tlen != y.tlen || memcmp(x.type, y.type, x.tlen))
		return 0;
	for (i = 0; i < x.n; i++) {
		for (j = 0; j < y.n; j++)
			if (x.f[i].nlen == y.f[j].nlen &&
			    memcmp(x.f[i].name, y.f[j].name, x.f[i].nlen) == 0)
				break;
		if (j == y.n || x.f[i].vlen != y.f[j].vlen ||
		    memcmp(x.f[i].val, y.f[j].val, x.f[i].vlen) != 0)
			return 0;
	}
	return 1;
}

/*
 * An event without an ext_id is the same as a stored one when every part
 * of it is: contact, second, type and fields, in whatever order the fields
 * came. That makes re-running any input harmless, not only inputs with
 * ext_ids, and an events export read back in adds nothing. Only events
 * stored before this session count, so that two equal rows of one input
 * are both kept, and the store is asked only when the time lies within
 * the contact's stored timeline.
 */
static int
stored_same(struct crm_evlog *l, const struct slot *s, const struct pend *p,
    int *same)
{
	struct crm_evit *it;
	struct crm_event e;
	int rc;

	*same = 0;
	if (p->keyed || s->first0 == CRM_TIME_NONE || p->ts < s->first0 ||
	    p->ts > s->last0)
		return 0;
	if ((rc = crm_evit_open(l->t, p->contact, p->ts, p->ts + 1, 0, &it)))
		return rc;
	while (!*same && (rc = crm_evit_next(it, &e)) == 0) {
		if (e.id >= l->first_id && l->first_id != 0)
			continue;
		if ((rc = crm_event_encode(&e, &l->cmp)))
			break;
		*same = same_event(l->cmp.p, l->cmp.len, l->arena.p + p->off,
		    p->len);
	}
	crm_evit_close(it);
	return rc == CRM_EOF || rc == 0 ? 0 : rc;
}

static int
apply(struct crm_evlog *l, const struct pend *p, struct slot *s)
{
	s->dirty = 1;
	s->s.events++;
	if (s->s.first_seen == CRM_TIME_NONE || p->ts < s->s.first_seen)
		s->s.first_seen = p->ts;
	if (s->s.last_seen == CRM_TIME_NONE || p->ts > s->s.last_seen)
		s->s.last_seen = p->ts;
	if (p->kind == K_PURCHASE || p->kind == K_REFUND)
		return money(l, p, s);
	if (p->kind == K_SUBSCRIBE || p->kind == K_UNSUBSCRIBE)
		return consent(l, p, s);
	return 0;
}

/*
 * The consent rule of crm-add: the newest answer wins, so an event older
 * than the contact's consent_at changes nothing.
 */
static int
write_consent(struct crm_evlog *l, struct slot *s, const struct cons *c)
{
	char at[CRM_TIME_LEN], now[CRM_TIME_LEN];
	const char *cur, *v = c->consent > 0 ? "true" : "false";
	int64_t t;
	int rc;

	if ((rc = crm_contact_get(l->t, s->id, &l->rec)))
		return rc == CRM_ENOTFOUND ? CRM_ESTORE : rc;
	cur = crm_rec_get(&l->rec, CRM_COL_CONSENT_AT, NULL, 0, NULL);
	if (cur != NULL && crm_time_parse(cur, strlen(cur), &t, NULL) == 0 &&
	    t > c->at)
		return 0;
	crm_time_format(c->at, at);
	crm_time_format(l->o.now, now);
	if ((rc = crm_rec_set(&l->rec, CRM_COL_EMAIL_OPT_IN, NULL, 0, v,
		 strlen(v))) ||
	    (rc = crm_rec_set(&l->rec, CRM_COL_CONSENT_AT, NULL, 0, at,
		 strlen(at))) ||
	    (rc = crm_rec_set(&l->rec, CRM_COL_CONSENT_SOURCE, NULL, 0,
		 c->source, strlen(c->source))) ||
	    (rc = crm_rec_set(&l->rec, CRM_COL_UPDATED_AT, NULL, 0, now,
		 strlen(now))))
		return rc;
	l->counts.consent++;
	return crm_contact_put(l->t, &l->rec);
}

static int
write_slots(struct crm_evlog *l)
{
	struct cons *c;
	size_t i;
	int rc = 0;

	for (i = 0; rc == 0 && i < l->nslots; i++) {
		if (!l->slots[i].dirty)
			continue;
		l->slots[i].dirty = 0;
		rc = crm_stats_put(l->t, l->slots[i].id, &l->slots[i].s);
		c = l->slots[i].cons ? &l->cons[l->slots[i].cons - 1] : NULL;
		if (rc == 0 && c != NULL && c->consent != 0) {
			rc = write_consent(l, &l->slots[i], c);
			c->consent = 0;
		}
	}
	return rc;
}

/*
 * Writes the batch's events. The contacts' statistics stay in their slots
 * until crm_evlog_flush(): a contact with events in every batch then has
 * them written once, not once a batch.
 */
static int
flush(struct crm_evlog *l)
{
	unsigned char key[CRM_EVKEY_LEN];
	const struct pend *p;
	struct slot *s;
	size_t i;
	int rc = 0, same;

	if ((rc = sort_batch(l)))
		return rc;
	/* A large import has its pages written back as they come. */
	if (l->n >= FLUSHER_EVENTS)
		(void)crm_txn_flusher(l->t);
	for (i = 0; i < l->n; i++) {
		if (i + 8 < l->n) {
			__builtin_prefetch(&l->p[l->sk[i + 8].i]);
			__builtin_prefetch(
			    l->arena.p + l->p[l->sk[i + 4].i].off);
		}
		p = &l->p[l->sk[i].i];
		if ((s = slot_of(l, p->contact, &rc)) == NULL ||
		    (rc = stored_same(l, s, p, &same)))
			return rc;
		if (same) {
			l->counts.added--;
			l->counts.duplicates++;
			continue;
		}
		crm_evkey_pack(p->contact, p->ts, p->id, key);
		if ((rc = apply(l, p, s)) ||
		    (rc = crm_event_put(l->t, key, l->arena.p + p->off,
			 p->len)))
			return rc;
	}
	l->n = 0;
	l->arena.len = 0;
	return 0;
}

int
crm_evlog_flush(struct crm_evlog *l)
{
	int rc = flush(l);

	return rc ? rc : write_slots(l);
}

static void
evlog_free(struct crm_evlog *l)
{
	free(l->p);
	free(l->tmp);
	free(l->sk);
	free(l->sktmp);
	free(l->slots);
	crm_buf_free(&l->arena);
	crm_buf_free(&l->enc);
	crm_buf_free(&l->key);
	crm_buf_free(&l->cmp);
	crm_map_free(&l->slotmap);
	free(l->slotix);
	free(l->cons);
	crm_map_free(&l->emails);
	crm_map_free(&l->ids);
	free(l->hash);
	crm_rec_free(&l->rec);
	free(l);
}

int
crm_evlog_end(struct crm_evlog *l)
{
	int rc = crm_evlog_flush(l);

	evlog_free(l);
	return rc;
}

void
crm_evlog_abort(struct crm_evlog *l)
{
	if (l != NULL)
		evlog_free(l);
}
