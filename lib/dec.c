#include <string.h>

#include "dec.h"
#include "errors.h"

static const int64_t p10[] = { 1, 10, 100, 1000, 10000, 100000, 1000000,
	10000000, 100000000, 1000000000 };

int
crm_int_parse(const char *s, size_t n, int64_t *v)
{
	struct crm_dec d;

	if (memchr(s, '.', n) != NULL || crm_dec_parse(s, n, &d))
		return CRM_EINVAL;
	*v = d.v;
	return 0;
}

int
crm_id_parse(const char *s, size_t n, uint64_t *id)
{
	int64_t x;

	while (n > 0 && (*s == ' ' || *s == '\t'))
		s++, n--;
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n == 0 || s[0] == '+' || s[0] == '-' || crm_int_parse(s, n, &x) ||
	    x <= 0)
		return CRM_EINVAL;
	*id = (uint64_t)x;
	return 0;
}

int
crm_dec_parse(const char *s, size_t n, struct crm_dec *d)
{
	size_t i = 0, nd = 0;
	int neg = 0, frac = -1;
	int64_t v = 0;

	if (n > 0 && (s[0] == '-' || s[0] == '+'))
		neg = s[i++] == '-';
	for (; i < n; i++) {
		if (s[i] == '.' && frac < 0) {
			frac = 0;
			continue;
		}
		if (s[i] < '0' || s[i] > '9' || ++nd > 18)
			return CRM_EINVAL;
		v = v * 10 + (s[i] - '0');
		if (frac >= 0 && ++frac > CRM_DEC_MAXSCALE)
			return CRM_EINVAL;
	}
	if (nd == 0)
		return CRM_EINVAL;
	d->v = neg ? -v : v;
	d->scale = frac < 0 ? 0 : frac;
	return 0;
}

/* Brings a to scale s (s >= a.scale) without overflow, or fails. */
static int
rescale(struct crm_dec *a, int s)
{
	int64_t f = p10[s - a->scale], r;

	if (__builtin_mul_overflow(a->v, f, &r))
		return CRM_ETOOBIG;
	a->v = r;
	a->scale = s;
	return 0;
}

int
crm_dec_add(struct crm_dec a, struct crm_dec b, struct crm_dec *out)
{
	int s = a.scale > b.scale ? a.scale : b.scale;

	if (rescale(&a, s) || rescale(&b, s))
		return CRM_ETOOBIG;
	if (__builtin_add_overflow(a.v, b.v, &out->v))
		return CRM_ETOOBIG;
	out->scale = s;
	return 0;
}

int
crm_dec_sub(struct crm_dec a, struct crm_dec b, struct crm_dec *out)
{
	if (b.v == INT64_MIN)
		return CRM_ETOOBIG;
	b.v = -b.v;
	return crm_dec_add(a, b, out);
}

int
crm_dec_cmp(struct crm_dec a, struct crm_dec b)
{
	struct crm_dec d;

	/* Compare through long double only when the exact path overflows. */
	if (crm_dec_sub(a, b, &d) == 0)
		return (d.v > 0) - (d.v < 0);
	return (long double)a.v / p10[a.scale] >
		(long double)b.v / p10[b.scale] ?
	    1 :
	    -1;
}

void
crm_dec_format(struct crm_dec d, int min_scale, char out[CRM_DEC_LEN])
{
	uint64_t u = d.v < 0 ? -(uint64_t)d.v : (uint64_t)d.v;
	char tmp[CRM_DEC_LEN], *p = tmp + sizeof(tmp);
	int s = d.scale, k;

	/* Drop trailing zeros down to min_scale, pad up to it. */
	while (s > min_scale && u % 10 == 0) {
		u /= 10;
		s--;
	}
	*--p = '\0';
	for (k = s; k < min_scale && k < CRM_DEC_MAXSCALE; k++)
		*--p = '0';
	for (k = 0; k < s; k++, u /= 10)
		*--p = (char)('0' + u % 10);
	if (s > 0 || k < min_scale)
		*--p = '.';
	do
		*--p = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (d.v < 0)
		*--p = '-';
	memcpy(out, p, (size_t)(tmp + sizeof(tmp) - p));
}
