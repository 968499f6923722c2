#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csvio.h"
#include "errors.h"
#include "json.h"
#include "output.h"
#include "text.h"

#define FLUSH_AT (128 * 1024)

struct col {
	int col;    /* -1 id, CRM_COL_CUSTOM, or a core column */
	int number; /* NDJSON writes the value as a number */
	char *name;
	size_t nlen;
};

struct crm_out {
	FILE *fp;
	int fmt, failed, safe;
	struct col *c;
	size_t nc;
	struct crm_buf b, item;
};

int
crm_out_open(FILE *fp, int fmt, struct crm_out **out)
{
	struct crm_out *o = calloc(1, sizeof(*o));

	if (o == NULL)
		return CRM_ENOMEM;
	o->fp = fp;
	o->fmt = fmt;
	*out = o;
	return 0;
}

static int
add_col(struct crm_out *o, const char *name, int raw)
{
	struct col *c = realloc(o->c, (o->nc + 1) * sizeof(*c));
	int k = raw ? 0 : crm_col_lookup(name, strlen(name));

	if (c == NULL)
		return CRM_ENOMEM;
	o->c = c;
	c = &o->c[o->nc];
	/* Only exact core names are core here; others are custom names. */
	c->col = k > 0 && strcmp(crm_col_names[k], name) == 0 ? k :
	    !raw && strcmp(name, "id") == 0                   ? -1 :
								CRM_COL_CUSTOM;
	c->nlen = strlen(name);
	/* The statistics counts and revenue are numbers (exact as text). */
	c->number = strcmp(name, "events") == 0 ||
	    strcmp(name, "purchases") == 0 ||
	    strcmp(name, "purchase_days") == 0 || strcmp(name, "revenue") == 0;
	if ((c->name = strdup(name)) == NULL)
		return CRM_ENOMEM;
	o->nc++;
	return 0;
}

int
crm_out_columns(struct crm_out *o, char *const *custom, size_t ncustom,
    char *const *only, size_t nonly)
{
	size_t i;
	int rc = 0;

	if (only != NULL) {
		for (i = 0; rc == 0 && i < nonly; i++)
			rc = add_col(o, only[i], 0);
		return rc;
	}
	rc = add_col(o, "id", 0);
	for (i = 1; rc == 0 && i < CRM_NCOL; i++)
		rc = add_col(o, crm_col_names[i], 0);
	for (i = 0; rc == 0 && i < ncustom; i++)
		rc = add_col(o, custom[i], 1);
	return rc;
}

int
crm_out_names(struct crm_out *o, char *const *names, size_t n)
{
	size_t i;
	int rc = 0;

	/* Plain names: an event field called revenue is no statistic. */
	for (i = 0; rc == 0 && i < n; i++)
		if ((rc = add_col(o, names[i], 1)) == 0)
			o->c[o->nc - 1].number = 0;
	return rc;
}

static int
flush(struct crm_out *o, int force)
{
	if (o->b.len == 0 || (!force && o->b.len < FLUSH_AT))
		return 0;
	if (fwrite(o->b.p, 1, o->b.len, o->fp) != o->b.len)
		o->failed = 1;
	o->b.len = 0;
	return o->failed ? CRM_EIO : 0;
}

void
crm_out_safe(struct crm_out *o, int on)
{
	o->safe = on;
}

/* One CSV or TSV cell, made safe for spreadsheets when asked. */
static int
cell(struct crm_out *o, int first, const char *v, size_t n)
{
	if (o->safe)
		return crm_csv_field_safe(&o->b, o->fmt, first, v, n);
	return crm_csv_field(&o->b, o->fmt, first, v, n);
}

int
crm_out_header(struct crm_out *o)
{
	size_t i;
	int rc = 0;

	if (o->fmt == CRM_FMT_NDJSON)
		return 0;
	for (i = 0; rc == 0 && i < o->nc; i++)
		rc = cell(o, i == 0, o->c[i].name, o->c[i].nlen);
	return rc ? rc : crm_csv_end(&o->b);
}

static const char *
value(const struct crm_rec *r, const struct col *c, size_t *n, char *idbuf)
{
	if (c->col == -1) {
		*n = (size_t)snprintf(idbuf, 24, "%llu",
		    (unsigned long long)r->id);
		return idbuf;
	}
	return crm_rec_get(r, c->col, c->name, c->nlen, n);
}

/* One NDJSON member: id a number, email_opt_in a bool, tags an array. */
static int
json_member(struct crm_out *o, const struct col *c, const char *v, size_t n,
    int first)
{
	size_t pos = 0;
	int rc = crm_buf_adds(&o->b, first ? "{" : ",");

	rc |= crm_json_str(&o->b, c->name, c->nlen);
	rc |= crm_buf_addc(&o->b, ':');
	if (c->col == -1 || c->col == CRM_COL_EMAIL_OPT_IN || c->number)
		return rc | crm_buf_add(&o->b, v, n);
	if (c->col != CRM_COL_TAGS)
		return rc | crm_json_str(&o->b, v, n);
	rc |= crm_buf_addc(&o->b, '[');
	while (rc == 0 && crm_tags_next(v, n, &pos, &o->item) == 1) {
		if (o->b.p[o->b.len - 1] != '[')
			rc |= crm_buf_addc(&o->b, ',');
		rc |= crm_json_str(&o->b, o->item.p, o->item.len);
	}
	return rc | crm_buf_addc(&o->b, ']');
}

int
crm_out_rec(struct crm_out *o, const struct crm_rec *r)
{
	char idbuf[24];
	const char *v;
	size_t i, n;
	int rc = 0, first = 1;

	for (i = 0; rc == 0 && i < o->nc; i++) {
		v = value(r, &o->c[i], &n, idbuf);
		if (o->fmt != CRM_FMT_NDJSON)
			rc = cell(o, i == 0, v ? v : "", v ? n : 0);
		else if (v != NULL) {
			rc = json_member(o, &o->c[i], v, n, first);
			first = 0;
		}
	}
	if (o->fmt == CRM_FMT_NDJSON)
		rc |= crm_buf_adds(&o->b, first ? "{}" : "}");
	rc |= crm_csv_end(&o->b);
	return rc ? CRM_ENOMEM : flush(o, 0);
}

int
crm_out_close(struct crm_out *o)
{
	size_t i;
	int rc;

	if (o == NULL)
		return 0;
	flush(o, 1);
	if (fflush(o->fp) != 0 || ferror(o->fp))
		o->failed = 1;
	rc = o->failed ? CRM_EIO : 0;
	for (i = 0; i < o->nc; i++)
		free(o->c[i].name);
	free(o->c);
	crm_buf_free(&o->b);
	crm_buf_free(&o->item);
	free(o);
	return rc;
}
