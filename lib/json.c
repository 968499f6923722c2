#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "json.h"

struct jp {
	const char *s, *e, *p;
	struct crm_buf *out;
	char *err;
	size_t errlen;
};

static int
fail(struct jp *j, const char *what)
{
	snprintf(j->err, j->errlen, "%s at byte %zu", what,
	    (size_t)(j->p - j->s) + 1);
	return CRM_EPARSE;
}

static void
ws(struct jp *j)
{
	while (j->p < j->e &&
	    (*j->p == ' ' || *j->p == '\t' || *j->p == '\r' || *j->p == '\n'))
		j->p++;
}

static int
hex4(struct jp *j, unsigned *v)
{
	int i;
	char c;

	*v = 0;
	if (j->e - j->p < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		c = *j->p++;
		*v <<= 4;
		if (c >= '0' && c <= '9')
			*v |= (unsigned)(c - '0');
		else if ((c | 32) >= 'a' && (c | 32) <= 'f')
			*v |= (unsigned)((c | 32) - 'a' + 10);
		else
			return -1;
	}
	return 0;
}

static int
put_utf8(struct crm_buf *b, unsigned cp)
{
	char u[4];
	size_t n;

	if (cp < 0x80)
		u[0] = (char)cp, n = 1;
	else if (cp < 0x800)
		u[0] = (char)(0xc0 | cp >> 6),
		u[1] = (char)(0x80 | (cp & 0x3f)), n = 2;
	else if (cp < 0x10000)
		u[0] = (char)(0xe0 | cp >> 12),
		u[1] = (char)(0x80 | (cp >> 6 & 0x3f)),
		u[2] = (char)(0x80 | (cp & 0x3f)), n = 3;
	else
		u[0] = (char)(0xf0 | cp >> 18),
		u[1] = (char)(0x80 | (cp >> 12 & 0x3f)),
		u[2] = (char)(0x80 | (cp >> 6 & 0x3f)),
		u[3] = (char)(0x80 | (cp & 0x3f)), n = 4;
	return crm_buf_add(b, u, n);
}

static int
escape(struct jp *j)
{
	unsigned cp, lo;
	char c = *j->p++;
	const char *map = "\"\"\\\\//b\bf\fn\nr\rt\t";
	const char *m;

	if (c != 'u') {
		for (m = map; *m; m += 2)
			if (*m == c)
				return crm_buf_addc(j->out, m[1]);
		return fail(j, "bad escape");
	}
	if (hex4(j, &cp))
		return fail(j, "bad \\u escape");
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (j->e - j->p < 6 || j->p[0] != '\\' || j->p[1] != 'u')
			return fail(j, "lone surrogate");
		j->p += 2;
		if (hex4(j, &lo) || lo < 0xdc00 || lo > 0xdfff)
			return fail(j, "bad surrogate pair");
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	} else if (cp >= 0xdc00 && cp <= 0xdfff)
		return fail(j, "lone surrogate");
	if (cp == 0)
		return fail(j, "NUL character");
	return put_utf8(j->out, cp);
}

/* A string literal, unescaped into j->out. */
static int
string(struct jp *j)
{
	int rc;

	j->p++;
	while (j->p < j->e && *j->p != '"') {
		if ((unsigned char)*j->p < 0x20)
			return fail(j, "control character in string");
		if (*j->p == '\\') {
			j->p++;
			if (j->p >= j->e)
				break;
			if ((rc = escape(j)))
				return rc;
			continue;
		}
		if (crm_buf_addc(j->out, *j->p++))
			return CRM_ENOMEM;
	}
	if (j->p >= j->e)
		return fail(j, "unterminated string");
	j->p++;
	return 0;
}

/* A scalar: string, number, true, false or null (adds nothing). */
static int
scalar(struct jp *j, int *null)
{
	const char *st = j->p;

	*null = 0;
	if (j->p < j->e && *j->p == '"')
		return string(j);
	if (j->e - j->p >= 4 && memcmp(j->p, "null", 4) == 0) {
		j->p += 4;
		*null = 1;
		return 0;
	}
	if (j->e - j->p >= 4 && memcmp(j->p, "true", 4) == 0)
		j->p += 4;
	else if (j->e - j->p >= 5 && memcmp(j->p, "false", 5) == 0)
		j->p += 5;
	else {
		while (j->p < j->e && strchr("+-0123456789.eE", *j->p))
			j->p++;
		if (j->p == st)
			return fail(j,
			    *j->p == '{' ? "nested object" :
					   "expected a value");
	}
	return crm_buf_add(j->out, st, (size_t)(j->p - st));
}

/* An array of scalars, written as a ';'-joined set, items quoted if needed. */
static int
array(struct jp *j)
{
	struct crm_buf item = { 0 }, *save = j->out;
	int rc = 0, null, first = 1;
	size_t i;

	j->p++;
	ws(j);
	if (j->p < j->e && *j->p == ']') {
		j->p++;
		return 0;
	}
	while (rc == 0) {
		ws(j);
		item.len = 0;
		j->out = &item;
		rc = j->p < j->e && *j->p == '[' ? fail(j, "nested array") :
						   scalar(j, &null);
		j->out = save;
		if (rc)
			break;
		if (item.len) {
			int q = memchr(item.p, ';', item.len) ||
			    memchr(item.p, '"', item.len);

			if (!first)
				rc |= crm_buf_addc(save, ';');
			if (q)
				rc |= crm_buf_addc(save, '"');
			for (i = 0; i < item.len; i++) {
				if (q && item.p[i] == '"')
					rc |= crm_buf_addc(save, '"');
				rc |= crm_buf_addc(save, item.p[i]);
			}
			if (q)
				rc |= crm_buf_addc(save, '"');
			first = 0;
		}
		ws(j);
		if (j->p < j->e && *j->p == ',') {
			j->p++;
			continue;
		}
		if (j->p < j->e && *j->p == ']') {
			j->p++;
			break;
		}
		rc = fail(j, "expected , or ]");
	}
	crm_buf_free(&item);
	return rc;
}

static int
add_pair(struct crm_jobj *o, size_t koff, size_t klen, size_t voff, size_t vlen,
    int isarr)
{
	if (o->n == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 32;
		size_t **arr[] = { &o->koff, &o->klen, &o->voff, &o->vlen };
		void *p;
		int i;

		for (i = 0; i < 4; i++) {
			if ((p = realloc(*arr[i], cap * sizeof(size_t))) ==
			    NULL)
				return CRM_ENOMEM;
			*arr[i] = p;
		}
		if ((p = realloc(o->isarr, cap * sizeof(int))) == NULL)
			return CRM_ENOMEM;
		o->isarr = p;
		o->cap = cap;
	}
	o->koff[o->n] = koff;
	o->klen[o->n] = klen;
	o->voff[o->n] = voff;
	o->vlen[o->n] = vlen;
	o->isarr[o->n++] = isarr;
	return 0;
}

static int
member(struct jp *j, struct crm_jobj *o)
{
	size_t koff, klen, voff;
	int rc, null = 0, arr;

	ws(j);
	if (j->p >= j->e || *j->p != '"')
		return fail(j, "expected a name");
	koff = o->data.len;
	if ((rc = string(j)) || (rc = crm_buf_addc(&o->data, '\0')))
		return rc;
	klen = o->data.len - koff - 1;
	ws(j);
	if (j->p >= j->e || *j->p++ != ':')
		return fail(j, "expected :");
	ws(j);
	voff = o->data.len;
	arr = j->p < j->e && *j->p == '[';
	if ((rc = arr ? array(j) : scalar(j, &null)))
		return rc;
	if ((rc = crm_buf_addc(&o->data, '\0')))
		return rc;
	if (null)
		return 0;
	return add_pair(o, koff, klen, voff, o->data.len - voff - 1, arr);
}

int
crm_json_parse(const char *s, size_t n, struct crm_jobj *o, char *err,
    size_t errlen)
{
	struct jp j = { s, s + n, s, &o->data, err, errlen };
	int rc;

	o->n = 0;
	o->data.len = 0;
	ws(&j);
	if (j.p >= j.e || *j.p != '{')
		return fail(&j, "expected an object");
	j.p++;
	ws(&j);
	if (j.p < j.e && *j.p == '}')
		j.p++;
	else
		for (;;) {
			if ((rc = member(&j, o)))
				return rc;
			ws(&j);
			if (j.p < j.e && *j.p == ',') {
				j.p++;
				continue;
			}
			if (j.p < j.e && *j.p++ == '}')
				break;
			return fail(&j, "expected , or }");
		}
	ws(&j);
	return j.p == j.e ? 0 : fail(&j, "text after the object");
}

void
crm_json_free(struct crm_jobj *o)
{
	free(o->koff);
	free(o->klen);
	free(o->voff);
	free(o->vlen);
	free(o->isarr);
	crm_buf_free(&o->data);
	memset(o, 0, sizeof(*o));
}

int
crm_json_str(struct crm_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;
	unsigned char c;
	int rc = crm_buf_grow(b, n + 2);

	rc |= crm_buf_addc(b, '"');
	for (i = 0; i < n && rc == 0; i++) {
		c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			rc |= crm_buf_addc(b, '\\');
			rc |= crm_buf_addc(b, c);
		} else if (c == '\n')
			rc |= crm_buf_add(b, "\\n", 2);
		else if (c == '\t')
			rc |= crm_buf_add(b, "\\t", 2);
		else if (c == '\r')
			rc |= crm_buf_add(b, "\\r", 2);
		else if (c < 0x20) {
			char u[6] = { '\\', 'u', '0', '0', hex[c >> 4],
				hex[c & 15] };

			rc |= crm_buf_add(b, u, 6);
		} else
			rc |= crm_buf_addc(b, c);
	}
	rc |= crm_buf_addc(b, '"');
	return rc ? CRM_ENOMEM : 0;
}
