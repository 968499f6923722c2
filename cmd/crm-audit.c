/*
 * crm-audit: list the store's audit log, oldest first, with filters: one
 * row per write transaction of any tool, with its time, user, tool,
 * operation, record ids and changed field names (never a field's value).
 */
#include <err.h>
#include <getopt.h>
#include <locale.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "crm.h"

struct ctx {
	const char *db, *outpath, *tool, *op, *user;
	int fmt, since_set, until_set, id_set;
	int64_t since, until;
	uint64_t id;
	struct crm_store *st;
	struct crm_txn *t;
	struct crm_out *out;
	FILE *fp;
	long shown;
};

static char *const columns[] = { "seq", "ts", "user", "tool", "op", "ids",
	"fields", "rows" };

static void
usage(int status)
{
	fputs("usage: crm-audit [-D dir] [-F csv|tsv|ndjson] [-o file] "
	      "[--id n] [--op name]\n"
	      "                 [--since time] [--tool name] [--until time] "
	      "[--user name]\n",
	    status ? stderr : stdout);
	exit(status);
}

static int
is(const struct crm_rec *r, const char *name, const char *want)
{
	const char *v =
	    crm_rec_get(r, CRM_COL_CUSTOM, name, strlen(name), NULL);

	return want == NULL || (v != NULL && strcmp(v, want) == 0);
}

static int
wanted(const struct ctx *c, const struct crm_rec *r)
{
	const char *v;
	size_t n;
	int64_t t;

	if (!is(r, "tool", c->tool) || !is(r, "op", c->op) ||
	    !is(r, "user", c->user))
		return 0;
	if (c->since_set || c->until_set) {
		v = crm_rec_get(r, CRM_COL_CUSTOM, "ts", 2, &n);
		if (v == NULL || crm_time_parse(v, n, &t, NULL) ||
		    (c->since_set && t < c->since) ||
		    (c->until_set && t >= c->until))
			return 0;
	}
	if (c->id_set) {
		v = crm_rec_get(r, CRM_COL_CUSTOM, "ids", 3, &n);
		return v != NULL && crm_audit_has_id(v, n, c->id);
	}
	return 1;
}

static int
list(struct ctx *c)
{
	struct crm_iter *it;
	struct crm_rec r, row;
	char seq[24];
	const char *v;
	size_t i, n;
	int rc;

	crm_rec_init(&r);
	crm_rec_init(&row);
	if ((rc = crm_audit_open(c->t, &it)))
		return rc;
	while ((rc = crm_iter_next(it, &r)) == 0) {
		if (!wanted(c, &r))
			continue;
		crm_rec_clear(&row);
		snprintf(seq, sizeof(seq), "%llu", (unsigned long long)r.id);
		rc = crm_rec_set(&row, CRM_COL_CUSTOM, "seq", 3, seq,
		    strlen(seq));
		for (i = 1; rc == 0 && i < sizeof(columns) / sizeof(*columns);
		     i++)
			if ((v = crm_rec_get(&r, CRM_COL_CUSTOM, columns[i],
				 strlen(columns[i]), &n)) != NULL)
				rc = crm_rec_set(&row, CRM_COL_CUSTOM,
				    columns[i], strlen(columns[i]), v, n);
		if (rc || (rc = crm_out_rec(c->out, &row)))
			break;
		c->shown++;
	}
	crm_iter_close(it);
	crm_rec_free(&r);
	crm_rec_free(&row);
	return rc == CRM_EOF ? 0 : rc;
}

static void
parse_time(const char *s, int64_t *t, int *set)
{
	if (crm_time_parse(s, strlen(s), t, NULL))
		errx(EX_USAGE, "invalid time \"%s\"", s);
	*set = 1;
}

static const struct option longopts[] = {
	{ "db", required_argument, NULL, 'D' },
	{ "format", required_argument, NULL, 'F' },
	{ "help", no_argument, NULL, 'h' },
	{ "id", required_argument, NULL, 'I' },
	{ "op", required_argument, NULL, 'P' },
	{ "output", required_argument, NULL, 'o' },
	{ "since", required_argument, NULL, 'S' },
	{ "tool", required_argument, NULL, 'T' },
	{ "until", required_argument, NULL, 'U' },
	{ "user", required_argument, NULL, 'R' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static void
options(struct ctx *c, int argc, char *argv[])
{
	int ch;

	while (
	    (ch = getopt_long(argc, argv, "D:F:ho:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'D':
			c->db = optarg;
			break;
		case 'F':
			c->fmt = crm_fmt_parse(optarg);
			if (c->fmt < 0 || c->fmt == CRM_FMT_YAML)
				errx(EX_USAGE, "unknown format \"%s\"", optarg);
			break;
		case 'h':
			usage(0);
			break;
		case 'I':
			if (crm_id_parse(optarg, strlen(optarg), &c->id))
				errx(EX_USAGE, "invalid id \"%s\"", optarg);
			c->id_set = 1;
			break;
		case 'o':
			c->outpath = optarg;
			break;
		case 'P':
			c->op = optarg;
			break;
		case 'R':
			c->user = optarg;
			break;
		case 'S':
			parse_time(optarg, &c->since, &c->since_set);
			break;
		case 'T':
			c->tool = optarg;
			break;
		case 'U':
			parse_time(optarg, &c->until, &c->until_set);
			break;
		case 'V':
			puts("crm-audit (crm) " CRM_VERSION);
			exit(0);
		default:
			usage(EX_USAGE);
		}
	}
}

int
main(int argc, char *argv[])
{
	struct ctx c = { .fmt = CRM_FMT_CSV, .fp = stdout };
	char dir[4096];
	int rc;

	setlocale(LC_ALL, "");
	options(&c, argc, argv);
	if (optind < argc)
		usage(EX_USAGE);
	rc = crm_store_open(crm_store_path(c.db, dir, sizeof(dir)),
	    CRM_F_RDONLY, &c.st);
	if (rc == 0)
		rc = crm_txn_begin(c.st, CRM_F_RDONLY, &c.t);
	if (rc)
		errx(crm_sysexit(rc), "%s", crm_store_error(c.st));
	if (c.outpath && (c.fp = fopen(c.outpath, "w")) == NULL)
		err(EX_CANTCREAT, "%s", c.outpath);
	if ((rc = crm_out_open(c.fp, c.fmt, &c.out)) ||
	    (rc = crm_out_names(c.out, columns,
		 sizeof(columns) / sizeof(*columns))) ||
	    (rc = crm_out_header(c.out)))
		errx(EX_SOFTWARE, "%s", crm_strerror(rc));
	rc = list(&c);
	if (rc == CRM_EIO || crm_out_close(c.out) || fclose(c.fp))
		errx(EX_IOERR, "%s: write error",
		    c.outpath ? c.outpath : "stdout");
	if (rc)
		errx(crm_sysexit(rc), "%s", crm_strerror(rc));
	crm_txn_abort(c.t);
	crm_store_close(c.st);
	return c.shown ? 0 : 1;
}
