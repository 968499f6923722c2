/*
 * crm-merge: find likely duplicate contacts, and merge them. Without
 * operands it prints candidate pairs as CSV with a score (lib/dedup.h says
 * how they are found); with KEEP DROP it merges DROP into KEEP; with a file
 * (or -) it merges every keep,drop pair of a CSV such as it prints, all in
 * one transaction.
 */
#include <err.h>
#include <fcntl.h>
#include <getopt.h>
#include <locale.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "crm.h"

struct ctx {
	const char *db, *cfgpath, *outpath, *inname;
	int nowait, verbose;
	double threshold;
	int64_t now;
	struct crm_store *st;
	struct crm_txn *t;
	struct crm_buf fields; /* field names changed, over every pair */
	uint64_t *ids;         /* ids of the run, for the audit log */
	size_t nids, npairs;
	long nbad;
	FILE *fp;
};

static void
usage(int status)
{
	fputs("usage: crm-merge [-c config] [-D dir] [-o file] "
	      "[-t threshold]\n"
	      "       crm-merge [-v] [-c config] [-D dir] [--as-of time] "
	      "[--no-wait] keep drop\n"
	      "       crm-merge [-v] [-c config] [-D dir] [--as-of time] "
	      "[--no-wait] file|-\n",
	    status ? stderr : stdout);
	exit(status);
}

static void
die_rc(struct ctx *c, int rc)
{
	if (c->t != NULL)
		crm_txn_abort(c->t);
	errx(crm_sysexit(rc), "%s",
	    rc == CRM_ESTORE || rc == CRM_EFULL || rc == CRM_EIO ?
		crm_store_error(c->st) :
		crm_strerror(rc));
}

static void
open_store(struct ctx *c, unsigned flags)
{
	char dir[4096];
	int rc;

	rc = crm_store_open(crm_store_path(c->db, dir, sizeof(dir)), flags,
	    &c->st);
	if (rc)
		errx(crm_sysexit(rc), "%s", crm_store_error(c->st));
}

static void
begin(struct ctx *c)
{
	int rc = crm_txn_begin(c->st, CRM_F_NOWAIT, &c->t);

	if (rc == CRM_EBUSY && !c->nowait) {
		warnx("store is busy, waiting for the lock");
		rc = crm_txn_begin(c->st, 0, &c->t);
	}
	if (rc == CRM_EBUSY)
		errx(EX_TEMPFAIL, "store is busy");
	if (rc)
		die_rc(c, rc);
}

/* The candidate pairs, as CSV. */
static int
put_pair(void *arg, uint64_t keep, uint64_t drop, double score,
    const char *reason)
{
	struct ctx *c = arg;
	struct crm_rec r;
	const char *e[2];
	uint64_t id[2] = { keep, drop };
	struct crm_buf b = { 0 };
	char num[80];
	int i, rc = 0;

	crm_rec_init(&r);
	snprintf(num, sizeof(num), "%llu,%llu,%.3f,%s",
	    (unsigned long long)keep, (unsigned long long)drop, score, reason);
	crm_buf_adds(&b, num);
	for (i = 0; rc == 0 && i < 2; i++) {
		if ((rc = crm_contact_get(c->t, id[i], &r)))
			break;
		e[i] = crm_rec_get(&r, CRM_COL_EMAIL, NULL, 0, NULL);
		rc = crm_csv_field(&b, CRM_FMT_CSV, 0, e[i] ? e[i] : "",
		    e[i] ? strlen(e[i]) : 0);
	}
	if (rc == 0 && (rc = crm_csv_end(&b)) == 0)
		fwrite(b.p, 1, b.len, c->fp);
	crm_buf_free(&b);
	crm_rec_free(&r);
	return rc;
}

static void
find(struct ctx *c)
{
	struct crm_dedup *d = NULL;
	struct crm_iter *it = NULL;
	struct crm_stats s;
	struct crm_rec r;
	int rc;

	open_store(c, CRM_F_RDONLY);
	crm_rec_init(&r);
	if ((rc = crm_txn_begin(c->st, CRM_F_RDONLY, &c->t)) ||
	    (rc = crm_dedup_new(&d)) || (rc = crm_iter_open(c->t, &it)))
		die_rc(c, rc);
	while ((rc = crm_iter_next(it, &r)) == 0)
		if ((rc = crm_stats_get(c->t, r.id, &s)) ||
		    (rc = crm_dedup_add(d, &r, s.events)))
			break;
	crm_iter_close(it);
	fputs("keep,drop,score,reason,keep_email,drop_email\n", c->fp);
	if (rc == CRM_EOF)
		rc = crm_dedup_run(d, c->threshold, put_pair, c);
	if (rc)
		die_rc(c, rc);
	crm_dedup_free(d);
	crm_rec_free(&r);
	crm_txn_abort(c->t);
	c->t = NULL;
}

static void
note_id(struct ctx *c, uint64_t id)
{
	if ((c->ids = realloc(c->ids, (c->nids + 1) * sizeof(*c->ids))) == NULL)
		err(EX_OSERR, NULL);
	c->ids[c->nids++] = id;
}

/* Whether the list a,b,c holds name. */
static int
has_name(const struct crm_buf *b, const char *name, size_t n)
{
	size_t i = 0, j;

	while (i < b->len) {
		for (j = i; j < b->len && b->p[j] != ','; j++)
			;
		if (j - i == n && memcmp(b->p + i, name, n) == 0)
			return 1;
		i = j + 1;
	}
	return 0;
}

/* Adds the names of the list s (a,b,c) that b does not hold yet. */
static void
add_names(struct crm_buf *b, const char *s, size_t n)
{
	size_t i = 0, j;

	while (i < n) {
		for (j = i; j < n && s[j] != ','; j++)
			;
		if (!has_name(b, s + i, j - i) &&
		    ((b->len && crm_buf_addc(b, ',')) ||
			crm_buf_add(b, s + i, j - i) || crm_buf_nul(b)))
			err(EX_OSERR, NULL);
		i = j + 1;
	}
}

/* Merges one pair; 0, or a bad row already reported (CRM_EINVAL). */
static int
merge_pair(struct ctx *c, const char *keep, size_t kn, const char *drop,
    size_t dn, long line)
{
	struct crm_merge_result res = { 0 };
	const char *ref[2] = { keep, drop };
	size_t len[2] = { kn, dn };
	uint64_t id[2];
	char why[200], where[300];
	size_t i;
	int rc;

	if (line > 0)
		snprintf(where, sizeof(where), "%s:%ld: ", c->inname, line);
	else
		where[0] = '\0';
	for (i = 0; i < 2; i++) {
		rc = crm_contact_find(c->t, ref[i], len[i], &id[i]);
		if (rc == CRM_EINVAL || rc == CRM_ENOTFOUND) {
			warnx("%scolumn \"%s\": %s \"%.*s\"", where,
			    i ? "drop" : "keep",
			    rc == CRM_EINVAL ? "not an id or an email" :
					       "no contact",
			    (int)(len[i] > 80 ? 80 : len[i]), ref[i]);
			return CRM_EINVAL;
		}
		if (rc)
			die_rc(c, rc);
	}
	rc = crm_merge(c->t, id[0], id[1], c->now, &res, why, sizeof(why));
	if (rc == CRM_EINVAL)
		warnx("%s\"%.*s\" and \"%.*s\" %s", where,
		    (int)(kn > 80 ? 80 : kn), keep, (int)(dn > 80 ? 80 : dn),
		    drop, why);
	else if (rc)
		die_rc(c, rc);
	else {
		note_id(c, res.keep);
		note_id(c, res.drop);
		c->npairs++;
		add_names(&c->fields, res.fields.p, res.fields.len);
		if (c->verbose)
			warnx("merged %llu into %llu: %llu events moved%s%s",
			    (unsigned long long)res.drop,
			    (unsigned long long)res.keep,
			    (unsigned long long)res.events,
			    res.fields.len ? ", fields " : "",
			    res.fields.len ? res.fields.p : "");
	}
	crm_merge_result_free(&res);
	return rc;
}

/* The column of name in the header row, or -1. */
static int
column(const struct crm_row *h, const char *name)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		if (h->len[i] == strlen(name) &&
		    memcmp(h->v[i], name, h->len[i]) == 0)
			return (int)i;
	return -1;
}

/* Every keep,drop row of a CSV file. */
static void
merge_file(struct ctx *c, const char *path)
{
	struct crm_csv *r;
	struct crm_row row;
	int fd = 0, rc, ck = -1, cd = -1;

	c->inname = strcmp(path, "-") == 0 ? "stdin" : path;
	if (strcmp(path, "-") != 0 && (fd = open(path, O_RDONLY)) < 0)
		err(EX_NOINPUT, "%s", path);
	if ((rc = crm_csv_open(fd, CRM_FMT_CSV, &r)))
		die_rc(c, rc);
	while ((rc = crm_csv_next(r, &row)) != CRM_EOF) {
		if (rc == CRM_EPARSE) {
			warnx("%s:%ld: %s", c->inname, row.line,
			    crm_csv_error(r));
			c->nbad++;
			continue;
		}
		if (rc)
			die_rc(c, rc);
		if (ck < 0 && cd < 0) {
			ck = column(&row, "keep");
			cd = column(&row, "drop");
			if (ck < 0 || cd < 0)
				errx(EX_DATAERR,
				    "%s:%ld: the header needs the columns keep "
				    "and drop",
				    c->inname, row.line);
			continue;
		}
		if ((size_t)ck >= row.n || (size_t)cd >= row.n) {
			warnx("%s:%ld: the row has too few columns", c->inname,
			    row.line);
			c->nbad++;
			continue;
		}
		if (merge_pair(c, row.v[ck], row.len[ck], row.v[cd],
			row.len[cd], row.line))
			c->nbad++;
	}
	crm_csv_close(r);
	if (fd > 0)
		close(fd);
}

static void
finish(struct ctx *c)
{
	struct crm_audit_info a = { "crm-merge", "merge", c->ids, c->nids,
		c->fields.len ? c->fields.p : NULL, NULL };
	char rows[64];
	int rc;

	if (c->nbad) {
		crm_txn_abort(c->t);
		errx(EX_DATAERR, "%ld bad row%s; nothing merged", c->nbad,
		    c->nbad == 1 ? "" : "s");
	}
	if (crm_signal()) {
		crm_txn_abort(c->t);
		warnx("interrupted; nothing merged");
		crm_signal_reraise();
	}
	snprintf(rows, sizeof(rows), "%zu pair%s merged", c->npairs,
	    c->npairs == 1 ? "" : "s");
	a.rows = rows;
	if (c->npairs && (rc = crm_audit_note(c->t, &a))) {
		crm_txn_abort(c->t);
		c->t = NULL;
		die_rc(c, rc);
	}
	/* For the test of atomicity: a kill at the last moment. */
	if (getenv("CRM_TEST_KILL_BEFORE_COMMIT") != NULL)
		raise(SIGKILL);
	rc = crm_txn_commit(c->t);
	c->t = NULL;
	if (rc)
		die_rc(c, rc);
}

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

static const struct option longopts[] = {
	{ "as-of", required_argument, NULL, 'A' },
	{ "config", required_argument, NULL, 'c' },
	{ "db", required_argument, NULL, 'D' },
	{ "help", no_argument, NULL, 'h' },
	{ "no-wait", no_argument, NULL, 'W' },
	{ "output", required_argument, NULL, 'o' },
	{ "threshold", required_argument, NULL, 't' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static void
options(struct ctx *c, int argc, char *argv[])
{
	char *end;
	int ch;

	while ((ch = getopt_long(argc, argv, "c:D:ho:t:v", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'A':
			if (crm_time_parse(optarg, strlen(optarg), &c->now,
				NULL))
				errx(EX_USAGE, "invalid time \"%s\"", optarg);
			break;
		case 'c':
			c->cfgpath = optarg;
			break;
		case 'D':
			c->db = optarg;
			break;
		case 'h':
			usage(0);
			break;
		case 'o':
			c->outpath = optarg;
			break;
		case 't':
			c->threshold = strtod(optarg, &end);
			if (*end || end == optarg || !(c->threshold > 0) ||
			    c->threshold > 1)
				errx(EX_USAGE,
				    "invalid threshold \"%s\": a number in "
				    "(0, 1]",
				    optarg);
			break;
		case 'v':
			c->verbose = 1;
			break;
		case 'V':
			puts("crm-merge (crm) " CRM_VERSION);
			exit(0);
		case 'W':
			c->nowait = 1;
			break;
		default:
			usage(EX_USAGE);
		}
	}
}

int
main(int argc, char *argv[])
{
	struct ctx c = { .threshold = CRM_DEDUP_THRESHOLD, .fp = stdout };

	setlocale(LC_ALL, "");
	c.now = (int64_t)time(NULL);
	options(&c, argc, argv);
	argc -= optind;
	argv += optind;
	if (argc > 2 || (argc > 0 && c.outpath != NULL))
		usage(EX_USAGE);
	check_config(c.cfgpath);
	if (argc == 0) {
		if (c.outpath && (c.fp = fopen(c.outpath, "w")) == NULL)
			err(EX_CANTCREAT, "%s", c.outpath);
		find(&c);
	} else {
		crm_signals_catch();
		open_store(&c, 0);
		begin(&c);
		if (argc == 2 &&
		    merge_pair(&c, argv[0], strlen(argv[0]), argv[1],
			strlen(argv[1]), 0))
			c.nbad++;
		else if (argc == 1)
			merge_file(&c, argv[0]);
		finish(&c);
	}
	if (fflush(c.fp) || ferror(c.fp) || (c.fp != stdout && fclose(c.fp)))
		errx(EX_IOERR, "%s: write error",
		    c.outpath ? c.outpath : "stdout");
	crm_store_close(c.st);
	crm_buf_free(&c.fields);
	free(c.ids);
	return 0;
}
