/*
 * crm-export: stream the store's contacts out as CSV, TSV or NDJSON, in id
 * order, every field included, so that crm-add can read them back.
 */
#include <err.h>
#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "crm.h"

struct ctx {
	const char *db, *outpath, *cfgpath;
	int fmt, since_set, missing;
	int64_t since;
	struct crm_buf fields; /* --fields, comma-separated */
	uint64_t *ids;
	size_t nids;
	char **emails;
	size_t nemails;
	struct crm_store *st;
	struct crm_txn *t;
	struct crm_out *out;
	FILE *fp;
};

static void
usage(int status)
{
	fputs("usage: crm-export [-c config] [-D dir] [-F csv|tsv|ndjson] "
	      "[-o file] [--id n]...\n"
	      "                  [--email addr]... [--since time] "
	      "[--fields a,b,c]\n",
	    status ? stderr : stdout);
	exit(status);
}

static void
add_ids(struct ctx *c, const char *arg)
{
	char *s = strdup(arg), *p, *save = NULL;
	int64_t v;

	if (s == NULL)
		err(EX_OSERR, NULL);
	for (p = strtok_r(s, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		if (crm_int_parse(p, strlen(p), &v) || v <= 0)
			errx(EX_USAGE, "invalid id \"%s\"", p);
		if ((c->ids = realloc(c->ids,
			 (c->nids + 1) * sizeof(*c->ids))) == NULL)
			err(EX_OSERR, NULL);
		c->ids[c->nids++] = (uint64_t)v;
	}
	free(s);
}

static void
add_emails(struct ctx *c, const char *arg)
{
	char *s = strdup(arg), *p, *save = NULL, norm[256];
	size_t n;

	if (s == NULL)
		err(EX_OSERR, NULL);
	for (p = strtok_r(s, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		if (strlen(p) > 254 || crm_email_norm(p, strlen(p), norm, &n))
			errx(EX_USAGE, "invalid email \"%s\"", p);
		c->emails =
		    realloc(c->emails, (c->nemails + 1) * sizeof(char *));
		if (c->emails == NULL ||
		    (c->emails[c->nemails++] = strdup(norm)) == NULL)
			err(EX_OSERR, NULL);
	}
	free(s);
}

static int
cmp_id(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static int
wanted(const struct ctx *c, const struct crm_rec *r)
{
	const char *u;
	int64_t t;

	if (!c->since_set)
		return 1;
	u = crm_rec_get(r, CRM_COL_UPDATED_AT, NULL, 0, NULL);
	return u != NULL && crm_time_parse(u, strlen(u), &t, NULL) == 0 &&
	    t >= c->since;
}

/* --fields: every name must be a core column, "id" or a known custom one. */
static void
columns(struct ctx *c, char **custom, size_t ncustom)
{
	char *only[512], *s, *p, *save = NULL;
	size_t n = 0, i;
	int rc, known;

	if (c->fields.len == 0) {
		if ((rc = crm_out_columns(c->out, custom, ncustom, NULL, 0)))
			errx(EX_SOFTWARE, "%s", crm_strerror(rc));
		return;
	}
	s = c->fields.p;
	for (p = strtok_r(s, ",", &save); p && n < 512;
	     p = strtok_r(NULL, ",", &save)) {
		known = strcmp(p, "id") == 0;
		for (i = 1; !known && i < CRM_NCOL; i++)
			known = strcmp(crm_col_names[i], p) == 0;
		for (i = 0; !known && i < ncustom; i++)
			known = strcmp(custom[i], p) == 0;
		if (!known)
			errx(EX_USAGE, "unknown field \"%s\"", p);
		only[n++] = p;
	}
	if ((rc = crm_out_columns(c->out, NULL, 0, only, n)))
		errx(EX_SOFTWARE, "%s", crm_strerror(rc));
}

/* The ids the selection names, sorted; a name that matches nothing is
 * reported and makes the exit status 1. */
static void
select_ids(struct ctx *c)
{
	uint64_t id;
	size_t i;

	for (i = 0; i < c->nemails; i++) {
		if (crm_index_get(c->t, CRM_IDX_EMAIL, c->emails[i],
			strlen(c->emails[i]), &id) == 0) {
			c->ids =
			    realloc(c->ids, (c->nids + 1) * sizeof(*c->ids));
			if (c->ids == NULL)
				err(EX_OSERR, NULL);
			c->ids[c->nids++] = id;
		} else {
			warnx("no contact with email \"%s\"", c->emails[i]);
			c->missing = 1;
		}
	}
	if (c->nids > 1)
		qsort(c->ids, c->nids, sizeof(*c->ids), cmp_id);
}

static int export(struct ctx *c)
{
	struct crm_rec r;
	struct crm_iter *it = NULL;
	size_t i;
	int rc = 0;

	crm_rec_init(&r);
	if (c->nids == 0 && c->nemails == 0) {
		if ((rc = crm_iter_open(c->t, &it)))
			return rc;
		while ((rc = crm_iter_next(it, &r)) == 0)
			if (wanted(c, &r) && (rc = crm_out_rec(c->out, &r)))
				break;
		crm_iter_close(it);
		rc = rc == CRM_EOF ? 0 : rc;
	} else {
		select_ids(c);
		for (i = 0; rc == 0 && i < c->nids; i++) {
			if (i > 0 && c->ids[i] == c->ids[i - 1])
				continue;
			if ((rc = crm_contact_get(c->t, c->ids[i], &r)) ==
			    CRM_ENOTFOUND) {
				warnx("no contact with id %llu",
				    (unsigned long long)c->ids[i]);
				c->missing = 1;
				rc = 0;
			} else if (rc == 0 && wanted(c, &r))
				rc = crm_out_rec(c->out, &r);
		}
	}
	crm_rec_free(&r);
	return rc;
}

/* Nothing here depends on the config yet, but a broken one is reported by
 * every tool alike. */
static void
check_config(const char *opt)
{
	struct crm_config *cf;
	char path[4096], msg[1024];
	int rc;

	rc = crm_config_load(crm_config_path(opt, path, sizeof(path)), &cf, msg,
	    sizeof(msg));
	if (rc == CRM_ECONFIG)
		errx(EX_CONFIG, "%s", msg);
	if (rc)
		errx(EX_SOFTWARE, "%s", crm_strerror(rc));
	crm_config_free(cf);
}

static const struct option longopts[] = { { "config", required_argument, NULL,
					      'c' },
	{ "db", required_argument, NULL, 'D' },
	{ "email", required_argument, NULL, 'E' },
	{ "fields", required_argument, NULL, 'f' },
	{ "format", required_argument, NULL, 'F' },
	{ "help", no_argument, NULL, 'h' },
	{ "id", required_argument, NULL, 'I' },
	{ "output", required_argument, NULL, 'o' },
	{ "since", required_argument, NULL, 'S' },
	{ "version", no_argument, NULL, 'V' }, { NULL, 0, NULL, 0 } };

int
main(int argc, char *argv[])
{
	struct ctx c = { .fmt = CRM_FMT_CSV };
	char dir[4096], **custom = NULL;
	const char *d;
	size_t ncustom = 0;
	int ch, rc;

	setlocale(LC_ALL, "");
	c.fp = stdout;
	while (
	    (ch = getopt_long(argc, argv, "c:D:F:ho:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			c.cfgpath = optarg;
			break;
		case 'D':
			c.db = optarg;
			break;
		case 'E':
			add_emails(&c, optarg);
			break;
		case 'f':
			c.fields.len = 0;
			if (crm_buf_adds(&c.fields, optarg) ||
			    crm_buf_nul(&c.fields))
				err(EX_OSERR, NULL);
			break;
		case 'F':
			c.fmt = crm_fmt_parse(optarg);
			if (c.fmt < 0 || c.fmt == CRM_FMT_YAML)
				errx(EX_USAGE, "unknown format \"%s\"", optarg);
			break;
		case 'h':
			usage(0);
			break;
		case 'I':
			add_ids(&c, optarg);
			break;
		case 'o':
			c.outpath = optarg;
			break;
		case 'S':
			if (crm_time_parse(optarg, strlen(optarg), &c.since,
				NULL))
				errx(EX_USAGE, "invalid time \"%s\"", optarg);
			c.since_set = 1;
			break;
		case 'V':
			puts("crm-export (crm) " CRM_VERSION);
			return 0;
		default:
			usage(EX_USAGE);
		}
	}
	if (optind < argc)
		usage(EX_USAGE);
	check_config(c.cfgpath);
	d = crm_store_path(c.db, dir, sizeof(dir));
	if ((rc = crm_store_open(d, CRM_F_RDONLY, &c.st)))
		errx(crm_sysexit(rc), "%s",
		    c.st ? crm_store_error(c.st) : crm_strerror(rc));
	if ((rc = crm_txn_begin(c.st, CRM_F_RDONLY, &c.t)) ||
	    (rc = crm_fields_list(c.t, &custom, &ncustom)))
		errx(crm_sysexit(rc), "%s", crm_store_error(c.st));
	if (c.outpath && (c.fp = fopen(c.outpath, "w")) == NULL)
		err(EX_CANTCREAT, "%s", c.outpath);
	if ((rc = crm_out_open(c.fp, c.fmt, &c.out)))
		errx(EX_SOFTWARE, "%s", crm_strerror(rc));
	columns(&c, custom, ncustom);
	if ((rc = crm_out_header(c.out)) == 0)
		rc = export(&c);
	if (rc == CRM_EIO || crm_out_close(c.out) || fclose(c.fp))
		errx(EX_IOERR, "%s: write error",
		    c.outpath ? c.outpath : "stdout");
	if (rc)
		errx(crm_sysexit(rc), "%s", crm_strerror(rc));
	crm_txn_abort(c.t);
	crm_fields_free(custom, ncustom);
	crm_store_close(c.st);
	free(c.ids);
	while (c.nemails > 0)
		free(c.emails[--c.nemails]);
	free(c.emails);
	crm_buf_free(&c.fields);
	return c.missing;
}
