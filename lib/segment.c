#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "segment.h"
#include "ydoc.h"

struct crm_segments {
	const struct crm_config *cf;
	const struct crm_ynode **key, **val; /* borrowed from the config */
	size_t n;
};

/* Why a name cannot be used, or NULL. */
static const char *
bad_name(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return "a segment name is not empty";
	if (s[0] == '.')
		return "a segment name does not start with '.'";
	for (i = 0; i < n; i++) {
		if (s[i] == ',' || s[i] == '/')
			return "a segment name has no ',' or '/'";
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return "a segment name has no control characters";
	}
	return NULL;
}

static int
check(struct crm_segments *s, const struct crm_ynode *k,
    const struct crm_ynode *v, char *err, size_t errlen)
{
	const char *why;

	if (k->kind != CRM_Y_SCALAR)
		return crm_config_error(s->cf, k, err, errlen,
		    "segments: a name is a string");
	if ((why = bad_name(k->s, k->slen)) != NULL)
		return crm_config_error(s->cf, k, err, errlen,
		    "segments: \"%s\": %s", k->s, why);
	if (crm_segment_find(s, k->s, k->slen) >= 0)
		return crm_config_error(s->cf, k, err, errlen,
		    "segments: \"%s\" is defined twice", k->s);
	if (v->kind != CRM_Y_SCALAR || v->plain_null)
		return crm_config_error(s->cf, v, err, errlen,
		    "segment \"%s\": expected an expression", k->s);
	return 0;
}

int
crm_segment_load(const struct crm_config *cf, struct crm_segments **out,
    char *err, size_t errlen)
{
	const struct crm_ynode *sec = crm_config_section(cf, "segments");
	struct crm_segments *s;
	size_t i, n = sec != NULL ? sec->n / 2 : 0;
	int rc = 0;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (n > 0 &&
		((s->key = calloc(n, sizeof(*s->key))) == NULL ||
		    (s->val = calloc(n, sizeof(*s->val))) == NULL))) {
		crm_segment_close(s);
		return CRM_ENOMEM;
	}
	s->cf = cf;
	if (sec != NULL && sec->kind != CRM_Y_MAP &&
	    !(sec->kind == CRM_Y_SCALAR && sec->plain_null))
		rc = crm_config_error(cf, sec, err, errlen,
		    "segments: expected a mapping of names to expressions");
	for (i = 0;
	     rc == 0 && sec != NULL && sec->kind == CRM_Y_MAP && i + 1 < sec->n;
	     i += 2) {
		if ((rc = check(s, sec->kid[i], sec->kid[i + 1], err,
			 errlen)) == 0) {
			s->key[s->n] = sec->kid[i];
			s->val[s->n++] = sec->kid[i + 1];
		}
	}
	if (rc) {
		crm_segment_close(s);
		return rc;
	}
	*out = s;
	return 0;
}

void
crm_segment_close(struct crm_segments *s)
{
	if (s == NULL)
		return;
	free(s->key);
	free(s->val);
	free(s);
}

size_t
crm_segment_count(const struct crm_segments *s)
{
	return s->n;
}

const char *
crm_segment_name(const struct crm_segments *s, size_t i)
{
	return s->key[i]->s;
}

const char *
crm_segment_source(const struct crm_segments *s, size_t i)
{
	return s->val[i]->s;
}

long
crm_segment_find(const struct crm_segments *s, const char *name, size_t n)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->key[i]->slen == n && memcmp(s->key[i]->s, name, n) == 0)
			return (long)i;
	return -1;
}

int
crm_segment_compile(const struct crm_segments *s, size_t i,
    const char *const *names, size_t n, const struct crm_config *cf,
    int64_t now, unsigned flags, struct crm_expr **out, char *err,
    size_t errlen)
{
	struct crm_expr_err e;
	size_t k;
	int rc;

	rc = crm_expr_compile(s->val[i]->s, names, n, cf, now, flags, out, &e);
	if (rc == 0 || rc == CRM_ENOMEM)
		return rc;
	/* The caret lines can be longer than a config message may be. */
	crm_config_error(s->cf, s->val[i], err, errlen,
	    "segment \"%s\": ", s->key[i]->s);
	if ((k = strlen(err)) + 1 < errlen)
		crm_expr_format(s->val[i]->s, &e, "  ", err + k, errlen - k);
	return rc;
}
