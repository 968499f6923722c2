#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "dec.h"
#include "errors.h"
#include "rec.h"
#include "text.h"
#include "times.h"
#include "ydoc.h"

/* The mappings every config has; a config may redefine them by name. */
static const char builtin[] = "mappings:\n"
			      "  mailchimp:\n"
			      "    columns:\n"
			      "      Email Address: email\n"
			      "      First Name: first_name\n"
			      "      Last Name: last_name\n"
			      "      Company: company\n"
			      "      Position: title\n"
			      "      Phone Number: phone\n"
			      "      TAGS: tags\n"
			      "    set: {consent_source: mailchimp}\n"
			      "    opt_in: [CONFIRM_TIME, OPTIN_TIME]\n"
			      "    opt_out: [UNSUB_TIME, CLEAN_TIME]\n"
			      "    tag_separator: \",\"\n";

static const char *const tnames[] = { "string", "int", "decimal", "date",
	"bool", "enum" };

struct ctx {
	const char *file;
	char *err;
	size_t errlen;
};

static int
bad(struct ctx *c, const struct crm_ynode *n, const char *fmt, const char *a,
    const char *b)
{
	char msg[200];

	snprintf(msg, sizeof(msg), fmt, a, b);
	snprintf(c->err, c->errlen, "%s:%ld: %s", c->file, n ? n->line : 0L,
	    msg);
	return CRM_ECONFIG;
}

const char *
crm_type_name(int type)
{
	return type >= 0 && type <= CRM_T_ENUM ? tnames[type] : "?";
}

const char *
crm_config_path(const char *opt, char *buf, size_t len)
{
	const char *e;

	if (opt != NULL)
		return opt;
	if ((e = getenv("CRM_CONFIG")) != NULL && *e)
		return e;
	if ((e = getenv("XDG_CONFIG_HOME")) != NULL && *e)
		snprintf(buf, len, "%s/crm/config.yaml", e);
	else if ((e = getenv("HOME")) != NULL && *e)
		snprintf(buf, len, "%s/.config/crm/config.yaml", e);
	else
		return NULL;
	return access(buf, F_OK) == 0 ? buf : NULL;
}

static int
scalar(struct ctx *c, const struct crm_ynode *n, const char *what, char **out)
{
	if (n == NULL || n->kind != CRM_Y_SCALAR)
		return bad(c, n, "%s must be a single value%s", what, "");
	if ((*out = strdup(n->s)) == NULL)
		return CRM_ENOMEM;
	return 0;
}

/* A list of scalars (or a single scalar) into a new string array. */
static int
strlist(struct ctx *c, const struct crm_ynode *n, const char *what, char ***out,
    size_t *nout)
{
	size_t i, k = n->kind == CRM_Y_SEQ ? n->n : 1;
	int rc;

	if (n->kind == CRM_Y_MAP)
		return bad(c, n, "%s must be a list%s", what, "");
	if ((*out = calloc(k, sizeof(char *))) == NULL)
		return CRM_ENOMEM;
	*nout = k;
	for (i = 0; i < k; i++)
		if ((rc = scalar(c, n->kind == CRM_Y_SEQ ? n->kid[i] : n, what,
			 &(*out)[i])))
			return rc;
	return 0;
}

static void
freelist(char **v, size_t n)
{
	size_t i;

	for (i = 0; v != NULL && i < n; i++)
		free(v[i]);
	free(v);
}

static int
load_field(struct ctx *c, const struct crm_ynode *k, const struct crm_ynode *v,
    struct crm_fielddef *d)
{
	const struct crm_ynode *t = v, *vals;
	int i;

	if ((d->name = strdup(k->s)) == NULL)
		return CRM_ENOMEM;
	if (v->kind == CRM_Y_MAP) {
		size_t j;

		for (j = 0; j + 1 < v->n; j += 2)
			if (strcmp(v->kid[j]->s, "type") != 0 &&
			    strcmp(v->kid[j]->s, "values") != 0)
				return bad(c, v->kid[j],
				    "unknown key \"%s\" in field"
				    " \"%s\"",
				    v->kid[j]->s, k->s);
		t = crm_ydoc_get(v, "type");
	}
	if (t == NULL || t->kind != CRM_Y_SCALAR)
		return bad(c, v, "field \"%s\" needs a type%s", k->s, "");
	for (i = 0; i <= CRM_T_ENUM; i++)
		if (strcmp(t->s, tnames[i]) == 0)
			break;
	if (i > CRM_T_ENUM)
		return bad(c, t, "unknown type \"%s\" for field \"%s\"", t->s,
		    k->s);
	d->type = i;
	vals = crm_ydoc_get(v, "values");
	if (i == CRM_T_ENUM && vals == NULL)
		return bad(c, v, "enum field \"%s\" needs values%s", k->s, "");
	if (i != CRM_T_ENUM && vals != NULL)
		return bad(c, vals,
		    "only an enum field has values (\"%s\" is %s)", k->s,
		    tnames[i]);
	if (vals != NULL)
		return strlist(c, vals, "values", &d->values, &d->nvalues);
	return 0;
}

static int
load_fields(struct ctx *c, const struct crm_ynode *n, struct crm_config *cf)
{
	size_t i;
	int rc, col;

	if (n->kind != CRM_Y_MAP)
		return bad(c, n, "fields must be a mapping%s%s", "", "");
	if ((cf->fields = calloc(n->n / 2 + 1, sizeof(*cf->fields))) == NULL)
		return CRM_ENOMEM;
	for (i = 0; i + 1 < n->n; i += 2) {
		col = n->kid[i]->kind == CRM_Y_SCALAR ?
		    crm_col_lookup(n->kid[i]->s, n->kid[i]->slen) :
		    0;
		if (col)
			return bad(c, n->kid[i], "\"%s\" is a %s column",
			    n->kid[i]->s, col == -2 ? "statistics" : "core");
		if ((rc = load_field(c, n->kid[i], n->kid[i + 1],
			 &cf->fields[cf->nfields++])))
			return rc;
	}
	return 0;
}

static int
load_columns(struct ctx *c, const struct crm_ynode *n, struct crm_mapping *m)
{
	size_t i, k = n->n / 2;

	if (n->kind != CRM_Y_MAP)
		return bad(c, n, "columns must be a mapping%s%s", "", "");
	if ((m->from = calloc(k + 1, sizeof(char *))) == NULL ||
	    (m->to = calloc(k + 1, sizeof(char *))) == NULL)
		return CRM_ENOMEM;
	for (i = 0; i + 1 < n->n; i += 2) {
		const struct crm_ynode *v = n->kid[i + 1];

		if (n->kid[i]->kind != CRM_Y_SCALAR || v->kind != CRM_Y_SCALAR)
			return bad(c, n->kid[i],
			    "a column maps to one name%s%s", "", "");
		if ((m->from[m->ncols] = strdup(n->kid[i]->s)) == NULL)
			return CRM_ENOMEM;
		m->ncols++;
		if (!v->plain_null &&
		    (m->to[m->ncols - 1] = strdup(v->s)) == NULL)
			return CRM_ENOMEM;
	}
	return 0;
}

static int
load_set(struct ctx *c, const struct crm_ynode *n, struct crm_mapping *m)
{
	size_t i;
	int rc;

	if (n->kind != CRM_Y_MAP)
		return bad(c, n, "set must be a mapping%s%s", "", "");
	if ((m->setf = calloc(n->n / 2 + 1, sizeof(char *))) == NULL ||
	    (m->setv = calloc(n->n / 2 + 1, sizeof(char *))) == NULL)
		return CRM_ENOMEM;
	/* Counted before the value is read, so a bad value frees the name. */
	for (i = 0; i + 1 < n->n; i += 2) {
		if ((rc = scalar(c, n->kid[i], "a field name",
			 &m->setf[m->nset])))
			return rc;
		m->nset++;
		if ((rc = scalar(c, n->kid[i + 1], "a set value",
			 &m->setv[m->nset - 1])))
			return rc;
	}
	return 0;
}

static int
load_mapping(struct ctx *c, const struct crm_ynode *k,
    const struct crm_ynode *v, struct crm_mapping *m)
{
	const struct crm_ynode *key, *val;
	size_t i;
	int rc = 0;

	m->tagsep = ';';
	if ((m->name = strdup(k->s)) == NULL)
		return CRM_ENOMEM;
	if (v->kind != CRM_Y_MAP)
		return bad(c, v, "mapping \"%s\" must be a mapping%s", k->s,
		    "");
	for (i = 0; rc == 0 && i + 1 < v->n; i += 2) {
		key = v->kid[i];
		val = v->kid[i + 1];
		if (strcmp(key->s, "columns") == 0)
			rc = load_columns(c, val, m);
		else if (strcmp(key->s, "set") == 0)
			rc = load_set(c, val, m);
		else if (strcmp(key->s, "opt_in") == 0)
			rc = strlist(c, val, "opt_in", &m->opt_in, &m->nin);
		else if (strcmp(key->s, "opt_out") == 0)
			rc = strlist(c, val, "opt_out", &m->opt_out, &m->nout);
		else if (strcmp(key->s, "tag_separator") == 0) {
			if (val->kind != CRM_Y_SCALAR || val->slen != 1)
				return bad(c, val,
				    "tag_separator must be one "
				    "character%s%s",
				    "", "");
			m->tagsep = (unsigned char)val->s[0];
		} else
			return bad(c, key,
			    "unknown key \"%s\" in mapping \"%s\"", key->s,
			    k->s);
	}
	return rc;
}

static void
free_mapping(struct crm_mapping *m)
{
	freelist(m->from, m->ncols);
	freelist(m->to, m->ncols);
	freelist(m->setf, m->nset);
	freelist(m->setv, m->nset);
	freelist(m->opt_in, m->nin);
	freelist(m->opt_out, m->nout);
	free(m->name);
	memset(m, 0, sizeof(*m));
}

static int
load_mappings(struct ctx *c, const struct crm_ynode *n, struct crm_config *cf)
{
	struct crm_mapping *m;
	size_t i, j;
	int rc;

	if (n->kind != CRM_Y_MAP)
		return bad(c, n, "mappings must be a mapping%s%s", "", "");
	m = realloc(cf->maps, (cf->nmaps + n->n / 2 + 1) * sizeof(*m));
	if (m == NULL)
		return CRM_ENOMEM;
	cf->maps = m;
	for (i = 0; i + 1 < n->n; i += 2) {
		/* A later definition of a name replaces the earlier one. */
		for (j = 0; j < cf->nmaps; j++)
			if (strcmp(cf->maps[j].name, n->kid[i]->s) == 0)
				break;
		if (j < cf->nmaps)
			free_mapping(&cf->maps[j]);
		else
			memset(&cf->maps[cf->nmaps++], 0, sizeof(*m));
		if ((rc = load_mapping(c, n->kid[i], n->kid[i + 1],
			 &cf->maps[j])))
			return rc;
	}
	return 0;
}

/*
 * Every key of every mapping must be a name (a scalar), and no key may be
 * given twice in one mapping: a mistake, not an override. Checked once, so
 * the loaders below can take every key as text.
 */
static int
check_keys(struct ctx *c, const struct crm_ynode *m)
{
	size_t i, k;

	if (m == NULL)
		return 0;
	for (i = 0; m->kind == CRM_Y_MAP && i + 1 < m->n; i += 2) {
		if (m->kid[i]->kind != CRM_Y_SCALAR)
			return bad(c, m->kid[i], "keys must be names%s%s", "",
			    "");
		for (k = 0; k < i; k += 2)
			if (strcmp(m->kid[i]->s, m->kid[k]->s) == 0)
				return bad(c, m->kid[i],
				    "\"%s\" is given twice%s", m->kid[i]->s,
				    "");
	}
	for (i = 0; i < m->n; i++)
		if (check_keys(c, m->kid[i]))
			return CRM_ECONFIG;
	return 0;
}

/* Top-level keys whose values the modules that own them parse. */
static const char *const sections[] = { "segments", "rfm", "lead", "clv",
	"report", "privacy", NULL };

static int
is_section(const char *k)
{
	size_t i;

	for (i = 0; sections[i] != NULL; i++)
		if (strcmp(k, sections[i]) == 0)
			return 1;
	return 0;
}

static int
load_doc(struct ctx *c, const char *text, size_t len, struct crm_config *cf,
    int keep)
{
	struct crm_ynode *docs;
	const struct crm_ynode *root, *k, *v;
	char msg[200];
	size_t i;
	int rc;

	if ((rc = crm_ydoc_parse(text, len, &docs, msg, sizeof(msg)))) {
		snprintf(c->err, c->errlen, "%s:%s", c->file, msg);
		return rc == CRM_ENOMEM ? rc : CRM_ECONFIG;
	}
	rc = 0;
	root = docs->n ? docs->kid[0] : NULL;
	if (docs->n > 1)
		rc = bad(c, docs->kid[1], "one document only%s%s", "", "");
	else if (root != NULL &&
	    !(root->kind == CRM_Y_SCALAR && root->plain_null) &&
	    root->kind != CRM_Y_MAP)
		rc = bad(c, root, "the config must be a mapping%s%s", "", "");
	else
		rc = check_keys(c, root);
	for (i = 0;
	     rc == 0 && root && root->kind == CRM_Y_MAP && i + 1 < root->n;
	     i += 2) {
		k = root->kid[i];
		v = root->kid[i + 1];
		if (k->kind != CRM_Y_SCALAR)
			rc = bad(c, k, "keys must be names%s%s", "", "");
		else if (strcmp(k->s, "stages") == 0)
			rc = strlist(c, v, "stages", &cf->stages, &cf->nstages);
		else if (strcmp(k->s, "types") == 0)
			rc = strlist(c, v, "types", &cf->types, &cf->ntypes);
		else if (strcmp(k->s, "fields") == 0)
			rc = load_fields(c, v, cf);
		else if (strcmp(k->s, "mappings") == 0)
			rc = load_mappings(c, v, cf);
		else if (!keep || !is_section(k->s))
			rc = bad(c, k, "unknown key \"%s\"%s", k->s, "");
	}
	if (rc == 0 && keep)
		cf->doc = docs;
	else
		crm_ydoc_free(docs);
	return rc;
}

static int
read_file(const char *path, struct crm_buf *b)
{
	FILE *fp = fopen(path, "r");
	size_t n;

	if (fp == NULL)
		return errno;
	do {
		if (crm_buf_grow(b, 65536)) {
			fclose(fp);
			return CRM_ENOMEM;
		}
		n = fread(b->p + b->len, 1, b->cap - b->len - 1, fp);
		b->len += n;
	} while (n > 0);
	n = (size_t)ferror(fp);
	fclose(fp);
	return n ? CRM_EIO : crm_buf_nul(b);
}

int
crm_config_load(const char *path, struct crm_config **out, char *err,
    size_t errlen)
{
	struct crm_config *cf;
	struct crm_buf text = { 0 };
	struct ctx c = { "(built-in)", err, errlen };
	int rc;

	if ((cf = calloc(1, sizeof(*cf))) == NULL)
		return CRM_ENOMEM;
	rc = load_doc(&c, builtin, sizeof(builtin) - 1, cf, 0);
	if (rc == 0 && path != NULL) {
		c.file = path;
		if ((rc = read_file(path, &text)) > 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(rc));
			rc = CRM_ECONFIG;
		} else if (rc == 0) {
			rc = load_doc(&c, text.p, text.len, cf, 1);
			if (rc == 0 && (cf->file = strdup(path)) == NULL)
				rc = CRM_ENOMEM;
		}
	}
	crm_buf_free(&text);
	if (rc) {
		crm_config_free(cf);
		return rc;
	}
	*out = cf;
	return 0;
}

void
crm_config_free(struct crm_config *c)
{
	size_t i;

	if (c == NULL)
		return;
	freelist(c->stages, c->nstages);
	freelist(c->types, c->ntypes);
	free(c->file);
	crm_ydoc_free(c->doc);
	for (i = 0; i < c->nfields; i++) {
		free(c->fields[i].name);
		freelist(c->fields[i].values, c->fields[i].nvalues);
	}
	free(c->fields);
	for (i = 0; i < c->nmaps; i++)
		free_mapping(&c->maps[i]);
	free(c->maps);
	free(c);
}

const struct crm_fielddef *
crm_config_field(const struct crm_config *c, const char *name, size_t n)
{
	size_t i;

	for (i = 0; i < c->nfields; i++)
		if (strlen(c->fields[i].name) == n &&
		    memcmp(c->fields[i].name, name, n) == 0)
			return &c->fields[i];
	return NULL;
}

const struct crm_mapping *
crm_config_mapping(const struct crm_config *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nmaps; i++)
		if (strcmp(c->maps[i].name, name) == 0)
			return &c->maps[i];
	return NULL;
}

const struct crm_ynode *
crm_config_section(const struct crm_config *c, const char *key)
{
	if (c == NULL || c->doc == NULL || c->doc->n == 0)
		return NULL;
	if (c->doc->kid[0]->kind != CRM_Y_MAP)
		return NULL;
	return crm_ydoc_get(c->doc->kid[0], key);
}

int
crm_config_error(const struct crm_config *c, const struct crm_ynode *n,
    char *err, size_t errlen, const char *fmt, ...)
{
	char msg[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "%s:%ld: %s",
	    c != NULL && c->file != NULL ? c->file : "(config)",
	    n != NULL ? n->line : 0L, msg);
	return CRM_ECONFIG;
}

static int
in_list(char **v, size_t nv, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < nv; i++)
		if (strlen(v[i]) == n && memcmp(v[i], s, n) == 0)
			return 1;
	return 0;
}

int
crm_config_type_ok(const struct crm_config *c, const char *s, size_t n)
{
	return c->types == NULL || in_list(c->types, c->ntypes, s, n);
}

int
crm_config_stage_ok(const struct crm_config *c, const char *s, size_t n)
{
	return c->stages == NULL || in_list(c->stages, c->nstages, s, n);
}

int
crm_type_check(const struct crm_fielddef *d, const char *v, size_t n,
    struct crm_buf *out, char *why, size_t whylen)
{
	struct crm_dec dec;
	char tmp[CRM_TIME_LEN];
	int64_t t, i;
	int b, isdate;

	out->len = 0;
	switch (d->type) {
	case CRM_T_INT:
		if (crm_int_parse(v, n, &i))
			goto fail;
		snprintf(tmp, sizeof(tmp), "%lld", (long long)i);
		return crm_buf_adds(out, tmp);
	case CRM_T_DECIMAL:
		if (crm_dec_parse(v, n, &dec))
			goto fail;
		break;
	case CRM_T_DATE:
		if (crm_time_parse(v, n, &t, &isdate))
			goto fail;
		crm_date_format(t, tmp);
		return crm_buf_adds(out, tmp);
	case CRM_T_BOOL:
		if (crm_bool_parse(v, n, &b))
			goto fail;
		return crm_buf_adds(out, b ? "true" : "false");
	case CRM_T_ENUM:
		if (!in_list(d->values, d->nvalues, v, n)) {
			snprintf(why, whylen, "not an allowed value \"%.*s\"",
			    (int)(n > 60 ? 60 : n), v);
			return CRM_EINVAL;
		}
		break;
	}
	return crm_buf_add(out, v, n);
fail:
	snprintf(why, whylen, "not a%s %s \"%.*s\"",
	    d->type == CRM_T_INT ? "n" : "", tnames[d->type],
	    (int)(n > 60 ? 60 : n), v);
	return CRM_EINVAL;
}
