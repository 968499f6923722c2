#include <stdint.h>
#include <string.h>

#include "errors.h"
#include "text.h"

/* Eight ASCII bytes, none of them NUL. */
static int
ascii_word(uint64_t w)
{
	return (w & 0x8080808080808080ULL) == 0 &&
	    ((w - 0x0101010101010101ULL) & ~w & 0x8080808080808080ULL) == 0;
}

int
crm_utf8_valid(const char *str, size_t n, size_t *bad)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, k, len;
	unsigned c, cp, min;

	uint64_t w;

	/* Most text checked is a short value of ASCII: the last bytes are read
	 * as a word that overlaps the one before, not one by one. */
	if (n < 8) {
		while (i < n && s[i] >= 0x01 && s[i] < 0x80)
			i++;
		if (i == n)
			return 1;
	} else {
		for (; i + 8 <= n; i += 8) {
			memcpy(&w, s + i, 8);
			if (!ascii_word(w))
				break;
		}
		if (i + 8 > n) {
			memcpy(&w, s + n - 8, 8);
			if (ascii_word(w))
				return 1;
		}
	}
	while (i < n) {
		/* Eight ASCII bytes at a time, none of them NUL. */
		while (i + 8 <= n) {
			memcpy(&w, s + i, 8);
			if (!ascii_word(w))
				break;
			i += 8;
		}
		if (i >= n)
			break;
		c = s[i];
		if (c >= 0x01 && c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			len = 2, cp = c & 0x1f, min = 0x80;
		else if (c >= 0xe0 && c <= 0xef)
			len = 3, cp = c & 0x0f, min = 0x800;
		else if (c >= 0xf0 && c <= 0xf4)
			len = 4, cp = c & 0x07, min = 0x10000;
		else
			goto fail;
		if (i + len > n)
			goto fail;
		for (k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				goto fail;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			goto fail;
		i += len;
	}
	return 1;
fail:
	if (bad)
		*bad = i;
	return 0;
}

static int
isspace_ascii(int c)
{
	/* space, \t \n \v \f \r */
	return c <= ' ' && (1ULL << c & (1ULL << ' ' | 0x3e00ULL)) != 0;
}

void
crm_trim(const char **s, size_t *n)
{
	while (*n > 0 && isspace_ascii((unsigned char)(*s)[0])) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && isspace_ascii((unsigned char)(*s)[*n - 1]))
		(*n)--;
}

int
crm_text_plain(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	uint64_t w;
	size_t i = 0;

	if (n == 0 || isspace_ascii(s[0]) || isspace_ascii(s[n - 1]))
		return 0;
	if (n < 8) {
		for (; i < n; i++)
			if (s[i] == 0 || s[i] >= 0x80)
				return 0;
		return 1;
	}
	for (; i + 8 <= n; i += 8) {
		memcpy(&w, s + i, 8);
		if (!ascii_word(w))
			return 0;
	}
	memcpy(&w, s + n - 8, 8);
	return ascii_word(w);
}

/*
 * A domain, in any letter case: at least two labels of letters, digits
 * and hyphens (or UTF-8), none empty or over 63 bytes or with a hyphen at
 * either end. Read in one pass.
 */
static int
label_end(const char *s, size_t start, size_t end)
{
	return end > start && end - start <= 63 && s[start] != '-' &&
	    s[end - 1] != '-';
}

static int
domain_ok(const char *s, size_t n)
{
	size_t i, start = 0, labels = 1;
	unsigned c;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if ((c | 0x20) - 'a' < 26u || c - '0' < 10u)
			continue;
		if (c == '.') {
			if (!label_end(s, start, i))
				return 0;
			start = i + 1;
			labels++;
		} else if (c != '-' && c < 0x80)
			return 0;
	}
	return labels >= 2 && label_end(s, start, n);
}

/* The specials an address may not hold unquoted, and DEL. */
static int
email_special(unsigned char c)
{
	switch (c) {
	case '"':
	case '(':
	case ')':
	case ',':
	case ':':
	case ';':
	case '<':
	case '>':
	case '[':
	case '\\':
	case ']':
	case 0x7f:
		return 1;
	default:
		return 0;
	}
}

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/*
 * In a word of eight ASCII bytes, the high bit of each byte in [lo, hi]:
 * a byte b below 0x80 plus 0x80 - lo reaches 0x80 when b >= lo, plus
 * 0x7f - hi when b > hi, and neither sum carries into the next byte.
 */
static uint64_t
in_range(uint64_t w, unsigned lo, unsigned hi)
{
	return (w + ONES * (0x80 - lo)) & ~(w + ONES * (0x7f - hi)) & HIGHS;
}

/*
 * The bytes of an address checked and lower-cased one by one: none an
 * address may not hold, no "..", one '@', UTF-8.
 */
static int
email_bytes(const char *s, size_t n, char *out, int *upper)
{
	size_t i, ats = 0;
	unsigned char c, high = 0, prev = 0;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c <= ' ' || email_special(c) || (c == '.' && prev == '.'))
			return CRM_EINVAL;
		ats += c == '@';
		high |= c;
		prev = c;
		if (c >= 'A' && c <= 'Z') {
			c += 32;
			*upper = 1;
		}
		out[i] = (char)c;
	}
	if (ats != 1 || ((high & 0x80) && !crm_utf8_valid(s, n, NULL)))
		return CRM_EINVAL;
	return 0;
}

/*
 * The same eight bytes at a time, for an address of eight bytes or more
 * made only of the bytes most addresses are made of: letters, digits,
 * '.', '-', '_' and '@'. Returns 0 or CRM_EINVAL and sets *at to where
 * the '@' is, or returns 1 for an address with other bytes, which are
 * then looked at one by one. Where n is not a multiple of eight the last
 * word overlaps the one before: its bytes are looked at and written
 * twice, to the same effect, but an '@' is counted in the bytes new to
 * it only; a word with two counts two.
 */
static int
email_words(const char *s, size_t n, char *out, size_t *at, int *upper)
{
	uint64_t w, up, d, prevd = 0, a, dots = 0, mine;
	size_t i, k, ats = 0;

	for (i = 0; i < n; i += 8) {
		k = i + 8 <= n ? i : n - 8;
		mine = k == i ? ~0ULL : ~0ULL << 8 * (8 - (n - i));
		memcpy(&w, s + k, 8);
		up = in_range(w, 'A', 'Z');
		d = in_range(w, '.', '.');
		a = in_range(w, '@', '@');
		if ((w & HIGHS) ||
		    (up | d | a | in_range(w, 'a', 'z') |
			in_range(w, '0', '9') | in_range(w, '-', '-') |
			in_range(w, '_', '_')) != HIGHS)
			return 1;
		dots |= (d & d >> 8) | (k == i ? prevd >> 56 & d & 0x80 : 0);
		prevd = d;
		if ((a &= mine) != 0) {
			ats += 1 + ((a & (a - 1)) != 0);
			*at = k + ((size_t)__builtin_ctzll(a) >> 3);
		}
		*upper |= up != 0;
		w |= up >> 2;
		memcpy(out + k, &w, 8);
	}
	return dots || ats != 1 ? CRM_EINVAL : 0;
}

/*
 * A practical check, not all of RFC 5321: what mail systems deliver to.
 * The local part is printable ASCII or UTF-8 without spaces, quotes, commas
 * or brackets and with no empty dot-separated piece; the domain has at
 * least two labels of letters, digits and hyphens (or UTF-8).
 *
 * Every row of an import has an address: most are read eight bytes at a
 * time.
 */
int
crm_email_norm(const char *s, size_t n, char *out, size_t *outlen)
{
	int same;

	return crm_email_norm_same(s, n, out, outlen, &same);
}

int
crm_email_norm_same(const char *s, size_t n, char *out, size_t *outlen,
    int *same)
{
	size_t local = 0, n0 = n;
	int rc, upper = 0;

	crm_trim(&s, &n);
	if (n == 0 || n > 254)
		return CRM_EINVAL;
	if ((rc = n >= 8 ? email_words(s, n, out, &local, &upper) : 1) == 1 &&
	    (rc = email_bytes(s, n, out, &upper)) == 0)
		local = (size_t)((const char *)memchr(s, '@', n) - s);
	if (rc)
		return rc;
	out[n] = '\0';
	*outlen = n;
	*same = n == n0 && !upper;
	/* The rest is read from s, in any case: reading back bytes just
	 * written to out would wait for them. */
	if (local == 0 || local > 64 || s[0] == '.' || s[local - 1] == '.' ||
	    !domain_ok(s + local + 1, n - local - 1))
		return CRM_EINVAL;
	return 0;
}

int
crm_bool_parse(const char *s, size_t n, int *b)
{
	static const char *yes[] = { "true", "yes", "y", "t", "1", "on" };
	static const char *no[] = { "false", "no", "n", "f", "0", "off" };
	char low[8];
	size_t i;

	crm_trim(&s, &n);
	if (n == 0 || n >= sizeof(low))
		return CRM_EINVAL;
	for (i = 0; i < n; i++)
		low[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
	low[n] = '\0';
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcmp(low, yes[i]) == 0 || strcmp(low, no[i]) == 0) {
			*b = strcmp(low, yes[i]) == 0;
			return 0;
		}
	}
	return CRM_EINVAL;
}

/* Reads the next raw item of a cell separated by sep into item (unquoted). */
static int
next_item(const char *s, size_t n, size_t *pos, int sep, struct crm_buf *item)
{
	size_t i = *pos;
	const char *p;
	size_t len;

	item->len = 0;
	if (i >= n)
		return 0;
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i < n && s[i] == '"') {
		for (i++; i < n; i++) {
			if (s[i] == '"' && i + 1 < n && s[i + 1] == '"')
				i++;
			else if (s[i] == '"')
				break;
			if (crm_buf_addc(item, s[i]))
				return CRM_ENOMEM;
		}
		while (i < n && s[i] != sep)
			i++;
	} else {
		p = s + i;
		while (i < n && s[i] != sep)
			i++;
		len = (size_t)(s + i - p);
		crm_trim(&p, &len);
		if (crm_buf_add(item, p, len))
			return CRM_ENOMEM;
	}
	*pos = i + 1;
	return 1;
}

int
crm_tags_next(const char *s, size_t n, size_t *pos, struct crm_buf *item)
{
	int rc;

	while ((rc = next_item(s, n, pos, ';', item)) == 1 && item->len == 0)
		;
	return rc;
}

/* Whether the normal set s[0..n) holds item it (unquoted). */
static int
has_item(const char *s, size_t n, const char *it, size_t len)
{
	size_t i = 0, k;
	int match;

	while (i < n) {
		if (s[i] != '"') {
			for (k = i; k < n && s[k] != ';'; k++)
				;
			if (k - i == len && memcmp(s + i, it, len) == 0)
				return 1;
			i = k + 1;
			continue;
		}
		/* A quoted item: "" inside stands for one quote. */
		for (i++, k = 0, match = 1; i < n; i++, k++) {
			if (s[i] == '"' && i + 1 < n && s[i + 1] == '"')
				i++;
			else if (s[i] == '"')
				break;
			if (k >= len || s[i] != it[k])
				match = 0;
		}
		if (match && k == len)
			return 1;
		i += 2;
	}
	return 0;
}

static int
append_item(struct crm_buf *out, const char *it, size_t len)
{
	size_t i;
	int rc = 0;

	if (out->len && (rc = crm_buf_addc(out, ';')))
		return rc;
	/* Quoted when a plain item would read back otherwise: with a ';' or
	 * '"' in it, or white space at either end (which reading trims). */
	if (memchr(it, ';', len) == NULL && memchr(it, '"', len) == NULL &&
	    !isspace_ascii((unsigned char)it[0]) &&
	    !isspace_ascii((unsigned char)it[len - 1]))
		return crm_buf_add(out, it, len);
	rc |= crm_buf_addc(out, '"');
	for (i = 0; i < len; i++) {
		if (it[i] == '"')
			rc |= crm_buf_addc(out, '"');
		rc |= crm_buf_addc(out, it[i]);
	}
	return rc | crm_buf_addc(out, '"') ? CRM_ENOMEM : 0;
}

int
crm_tags_norm(const char *s, size_t n, int sep, struct crm_buf *out)
{
	struct crm_buf it = { 0 };
	const char *p, *e;
	size_t pos = 0, len, end;
	int rc;

	out->len = 0;
	if (n == 0)
		return crm_buf_nul(out);
	/* With no quote in it, an item is what lies between separators,
	 * trimmed: taken where it is, not copied into a buffer of its own
	 * (one malloc(3) a row of an import, most of the import's). */
	if (memchr(s, '"', n) == NULL) {
		for (;;) {
			e = memchr(s + pos, sep, n - pos);
			end = e != NULL ? (size_t)(e - s) : n;
			p = s + pos;
			len = end - pos;
			crm_trim(&p, &len);
			if (len > 0 && !has_item(out->p, out->len, p, len) &&
			    (rc = append_item(out, p, len)))
				return rc;
			if (end == n)
				return crm_buf_nul(out);
			pos = end + 1;
		}
	}
	while ((rc = next_item(s, n, &pos, sep, &it)) == 1) {
		if (it.len == 0 || has_item(out->p, out->len, it.p, it.len))
			continue;
		if ((rc = append_item(out, it.p, it.len)))
			break;
	}
	crm_buf_free(&it);
	return rc < 0 ? rc : crm_buf_nul(out);
}

int
crm_tags_edit(const char *a, size_t alen, const char *b, size_t blen, int op,
    struct crm_buf *out)
{
	struct crm_buf it = { 0 };
	size_t pos = 0;
	int rc = 0;

	out->len = 0;
	while (rc == 0 && crm_tags_next(a, alen, &pos, &it) == 1)
		if (op == '+' || !has_item(b, blen, it.p, it.len))
			rc = append_item(out, it.p, it.len);
	pos = 0;
	while (rc == 0 && op == '+' && crm_tags_next(b, blen, &pos, &it) == 1)
		if (!has_item(out->p, out->len, it.p, it.len))
			rc = append_item(out, it.p, it.len);
	crm_buf_free(&it);
	return rc ? rc : crm_buf_nul(out);
}
