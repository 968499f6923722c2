#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "dedup.h"
#include "errors.h"

struct person {
	uint64_t id, events;
	uint32_t email, phone, company; /* offsets in the arena; 0 none */
	uint32_t first, last;           /* normalised names, or 0 */
	char initial;                   /* of the last name */
	char ginit;       /* the initial when the pass groups by it, else 0 */
	const char *gkey; /* the key of the current pass, in the arena */
};

struct pair {
	uint64_t keep, drop;
	double score;
	const char *reason;
};

struct crm_dedup {
	struct person *p;
	size_t n, cap;
	struct crm_buf arena; /* keys, NUL-terminated; offset 0 is "" */
	struct pair *pairs;
	size_t npairs, pcap;
	int by; /* the key sort_by() compares */
};

double
crm_jaro_winkler(const char *a, size_t an, const char *b, size_t bn)
{
	unsigned char ma[256] = { 0 }, mb[256] = { 0 };
	size_t i, j, lo, hi, win, m = 0, tr = 0, l;
	double jaro;

	if (an == 0 || bn == 0)
		return an == bn;
	if (an > 255)
		an = 255;
	if (bn > 255)
		bn = 255;
	win = (an > bn ? an : bn) / 2;
	win = win ? win - 1 : 0;
	for (i = 0; i < an; i++) {
		lo = i > win ? i - win : 0;
		hi = i + win + 1 < bn ? i + win + 1 : bn;
		for (j = lo; j < hi; j++)
			if (!mb[j] && a[i] == b[j]) {
				ma[i] = mb[j] = 1;
				m++;
				break;
			}
	}
	if (m == 0)
		return 0;
	for (i = j = 0; i < an; i++) {
		if (!ma[i])
			continue;
		while (!mb[j])
			j++;
		tr += a[i] != b[j++];
	}
	jaro = ((double)m / an + (double)m / bn + (m - tr / 2.0) / m) / 3;
	for (l = 0; l < 4 && l < an && l < bn && a[l] == b[l]; l++)
		;
	return jaro + l * 0.1 * (1 - jaro);
}

int
crm_dedup_new(struct crm_dedup **out)
{
	struct crm_dedup *d = calloc(1, sizeof(*d));

	if (d == NULL || crm_buf_addc(&d->arena, '\0')) {
		free(d);
		return CRM_ENOMEM;
	}
	*out = d;
	return 0;
}

static uint32_t
put_key(struct crm_dedup *d, const char *s, size_t n)
{
	size_t off = d->arena.len;

	if (n == 0 || off > UINT32_MAX - n - 1 ||
	    crm_buf_add(&d->arena, s, n) || crm_buf_addc(&d->arena, '\0'))
		return 0;
	return (uint32_t)off;
}

/* The e-mail as matched: no +tag; gmail ignores dots. */
static uint32_t
email_key(struct crm_dedup *d, const char *v, size_t n)
{
	char k[256];
	const char *at = memchr(v, '@', n), *dom;
	size_t i, kn = 0, ln;
	int gmail;

	if (at == NULL || n >= sizeof(k))
		return 0;
	dom = at + 1;
	gmail = (size_t)(v + n - dom) == 9 ? memcmp(dom, "gmail.com", 9) == 0 :
	    (size_t)(v + n - dom) == 14 ? memcmp(dom, "googlemail.com", 14) ==
		0 :
					  0;
	ln = (size_t)(at - v);
	for (i = 0; i < ln && v[i] != '+'; i++)
		if (!(gmail && v[i] == '.'))
			k[kn++] = (char)tolower((unsigned char)v[i]);
	k[kn++] = '@';
	if (gmail) {
		memcpy(k + kn, "gmail.com", 9);
		kn += 9;
	} else
		for (i = 0; dom + i < v + n; i++)
			k[kn++] = (char)tolower((unsigned char)dom[i]);
	return put_key(d, k, kn);
}

static uint32_t
phone_key(struct crm_dedup *d, const char *v, size_t n)
{
	char k[64];
	size_t i, kn = 0;

	for (i = 0; i < n && kn < sizeof(k); i++)
		if (v[i] >= '0' && v[i] <= '9')
			k[kn++] = v[i];
	if (kn < 7)
		return 0;
	return kn > 9 ? put_key(d, k + kn - 9, 9) : put_key(d, k, kn);
}

static int
legal_suffix(const char *w, size_t n)
{
	static const char *const sfx[] = { "inc", "ltd", "llc", "gmbh", "ag",
		"co", "corp", "corporation", "plc", "sa", "sarl", "bv", "nv",
		"kg", "limited", "company", "the", NULL };
	size_t i;

	for (i = 0; sfx[i]; i++)
		if (strlen(sfx[i]) == n && memcmp(sfx[i], w, n) == 0)
			return 1;
	return 0;
}

/* Words of letters and digits, lower-cased; legal suffixes dropped. */
static uint32_t
company_key(struct crm_dedup *d, const char *v, size_t n)
{
	char k[256], w[256];
	size_t i, kn = 0, wn = 0;

	if (n >= sizeof(k))
		n = sizeof(k) - 1;
	for (i = 0; i <= n; i++) {
		if (i < n &&
		    (isalnum((unsigned char)v[i]) ||
			(unsigned char)v[i] >= 0x80)) {
			w[wn++] = (char)tolower((unsigned char)v[i]);
			continue;
		}
		if (wn && !legal_suffix(w, wn)) {
			memcpy(k + kn, w, wn);
			kn += wn;
		}
		wn = 0;
	}
	return put_key(d, k, kn);
}

/* "first last", lower-case, runs of other characters one space. */
static size_t
name_norm(const char *v, size_t n, char *k, size_t kn, size_t max)
{
	size_t i;
	int sp = kn > 0;

	for (i = 0; i < n && kn + 2 < max; i++) {
		if (isalpha((unsigned char)v[i]) ||
		    (unsigned char)v[i] >= 0x80) {
			if (sp && kn)
				k[kn++] = ' ';
			sp = 0;
			k[kn++] = (char)tolower((unsigned char)v[i]);
		} else
			sp = 1;
	}
	return kn;
}

int
crm_dedup_add(struct crm_dedup *d, const struct crm_rec *r, uint64_t events)
{
	struct person *p;
	const char *v, *last;
	char k[512];
	size_t n, kn, ln = 0;

	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 1024;
		if ((p = realloc(d->p, d->cap * sizeof(*p))) == NULL)
			return CRM_ENOMEM;
		d->p = p;
	}
	p = &d->p[d->n];
	memset(p, 0, sizeof(*p));
	p->id = r->id;
	p->events = events;
	if ((v = crm_rec_get(r, CRM_COL_EMAIL, NULL, 0, &n)) != NULL)
		p->email = email_key(d, v, n);
	if ((v = crm_rec_get(r, CRM_COL_PHONE, NULL, 0, &n)) != NULL)
		p->phone = phone_key(d, v, n);
	if ((v = crm_rec_get(r, CRM_COL_COMPANY, NULL, 0, &n)) != NULL)
		p->company = company_key(d, v, n);
	if ((v = crm_rec_get(r, CRM_COL_FIRST_NAME, NULL, 0, &n)) != NULL &&
	    (kn = name_norm(v, n, k, 0, sizeof(k))) > 0)
		p->first = put_key(d, k, kn);
	if ((last = crm_rec_get(r, CRM_COL_LAST_NAME, NULL, 0, &ln)) != NULL &&
	    (kn = name_norm(last, ln, k, 0, sizeof(k))) > 0)
		p->last = put_key(d, k, kn);
	if (last != NULL && ln > 0)
		p->initial = (char)tolower((unsigned char)last[0]);
	d->n++;
	return 0;
}

static int
add_pair(struct crm_dedup *d, const struct person *a, const struct person *b,
    double score, const char *reason)
{
	struct pair *p;
	const struct person *k = a, *x = b;

	if (b->events > a->events ||
	    (b->events == a->events && b->id < a->id)) {
		k = b;
		x = a;
	}
	if (d->npairs == d->pcap) {
		d->pcap = d->pcap ? d->pcap * 2 : 256;
		if ((p = realloc(d->pairs, d->pcap * sizeof(*p))) == NULL)
			return CRM_ENOMEM;
		d->pairs = p;
	}
	d->pairs[d->npairs++] = (struct pair){ k->id, x->id, score, reason };
	return 0;
}

static const char *
key(const struct crm_dedup *d, uint32_t off)
{
	return d->arena.p + off;
}

static double
jw(const struct crm_dedup *d, uint32_t a, uint32_t b)
{
	const char *x = key(d, a), *y = key(d, b);

	return crm_jaro_winkler(x, strlen(x), y, strlen(y));
}

/*
 * The name similarity: the Jaro-Winkler similarities of the first names
 * and of the last names, each at least min, else 0; their mean if so.
 * Both contacts need both names.
 */
static double
name_sim(const struct crm_dedup *d, const struct person *a,
    const struct person *b, double min)
{
	double f, l;

	if (!a->first || !b->first || !a->last || !b->last)
		return 0;
	if ((f = jw(d, a->first, b->first)) < min ||
	    (l = jw(d, a->last, b->last)) < min)
		return 0;
	return (f + l) / 2;
}

/* Both have a phone, and not the same one: two people, whatever the
 * names say (two direct lines at one company). */
static int
phones_differ(const struct crm_dedup *d, const struct person *a,
    const struct person *b)
{
	return a->phone && b->phone &&
	    strcmp(key(d, a->phone), key(d, b->phone)) != 0;
}

/* The key a pass groups by: 0 e-mail, 1 phone, 2 company and initial. */
static uint32_t
group_key(const struct person *p, int by)
{
	return by == 0 ? p->email : by == 1 ? p->phone : p->company;
}

/* The arena is complete when the passes run, so that each person can
 * point at its key of the pass and qsort needs no context. */
static int
cmp_group(const void *x, const void *y)
{
	const struct person *a = x, *b = y;
	int c = strcmp(a->gkey, b->gkey);

	if (c == 0)
		c = (a->ginit > b->ginit) - (a->ginit < b->ginit);
	return c ? c : (a->id > b->id) - (a->id < b->id);
}

static int
same_group(const struct crm_dedup *d, const struct person *a,
    const struct person *b)
{
	(void)d;
	return strcmp(a->gkey, b->gkey) == 0 && a->ginit == b->ginit;
}

/* The pairs of one run of equal keys. */
static int
run_pairs(struct crm_dedup *d, size_t i, size_t j, double threshold)
{
	static const char *const why[] = { "email", "phone", "name" };
	const struct person *a, *b;
	double s;
	size_t x, y;
	int rc = 0;

	for (x = i; rc == 0 && x < j; x++)
		for (y = x + 1; rc == 0 && y < j; y++) {
			a = &d->p[x];
			b = &d->p[y];
			if (d->by == 0)
				s = 1;
			else if (d->by == 1)
				s = !a->first || !b->first ||
					name_sim(d, a, b, 0.8) > 0 ?
				    0.95 :
				    0;
			else
				s = phones_differ(d, a, b) ?
				    0 :
				    name_sim(d, a, b, threshold);
			if (s >= (d->by == 2 ? threshold : 0.5))
				rc = add_pair(d, a, b, s, why[d->by]);
		}
	return rc;
}

static int
cmp_pair(const void *x, const void *y)
{
	const struct pair *a = x, *b = y;

	if (a->keep != b->keep)
		return a->keep < b->keep ? -1 : 1;
	if (a->drop != b->drop)
		return a->drop < b->drop ? -1 : 1;
	return (a->score < b->score) - (a->score > b->score);
}

static int
cmp_score(const void *x, const void *y)
{
	const struct pair *a = x, *b = y;

	if (a->score != b->score)
		return a->score < b->score ? 1 : -1;
	if (a->keep != b->keep)
		return a->keep < b->keep ? -1 : 1;
	return (a->drop > b->drop) - (a->drop < b->drop);
}

int
crm_dedup_run(struct crm_dedup *d, double threshold,
    int (*fn)(void *arg, uint64_t keep, uint64_t drop, double score,
	const char *reason),
    void *arg)
{
	size_t i, j, n;
	int rc = 0;

	/* qsort() of a NULL array, even of no elements, is undefined. */
	if (d->n == 0)
		return 0;
	for (d->by = 0; rc == 0 && d->by < 3; d->by++) {
		for (i = 0; i < d->n; i++) {
			d->p[i].gkey = key(d, group_key(&d->p[i], d->by));
			d->p[i].ginit = d->by == 2 ? d->p[i].initial : 0;
		}
		qsort(d->p, d->n, sizeof(*d->p), cmp_group);
		for (i = 0; rc == 0 && i < d->n; i = j) {
			for (j = i + 1;
			     j < d->n && same_group(d, &d->p[i], &d->p[j]); j++)
				;
			if (group_key(&d->p[i], d->by) != 0)
				rc = run_pairs(d, i, j, threshold);
		}
	}
	if (d->npairs == 0)
		return rc;
	/* A pair found for several reasons is reported once, at its best. */
	qsort(d->pairs, d->npairs, sizeof(*d->pairs), cmp_pair);
	for (i = n = 0; i < d->npairs; i++)
		if (n == 0 || d->pairs[n - 1].keep != d->pairs[i].keep ||
		    d->pairs[n - 1].drop != d->pairs[i].drop)
			d->pairs[n++] = d->pairs[i];
	qsort(d->pairs, n, sizeof(*d->pairs), cmp_score);
	for (i = 0; rc == 0 && i < n; i++)
		rc = fn(arg, d->pairs[i].keep, d->pairs[i].drop,
		    d->pairs[i].score, d->pairs[i].reason);
	return rc;
}

void
crm_dedup_free(struct crm_dedup *d)
{
	if (d == NULL)
		return;
	free(d->p);
	free(d->pairs);
	crm_buf_free(&d->arena);
	free(d);
}
