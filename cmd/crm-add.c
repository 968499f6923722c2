/*
 * crm-add: create or update contacts, from rows (CSV, TSV, NDJSON, YAML)
 * or from flags. One write transaction per run unless --batch says
 * otherwise; a run with a bad row commits nothing unless -r names a
 * reject file.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <locale.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "crm.h"

#define MAXSHOWN 100       /* bad rows reported one by one */
#define FLUSHER_ROWS 65536 /* crm_txn_flusher() from this many rows on */

/* Flag options are checked once the config is loaded: kept until then. */
struct pending {
	int opt;
	const char *arg;
};

/*
 * What the feed's thread may refer to in the records it prepares (rec.h):
 * the consent sources of the inputs, put in the store's string table
 * before the feed starts, and the strings the table held then. It does not
 * change while the feed runs; the writer uses its transaction's table,
 * which also learns the custom columns of each input's header.
 */
struct strs {
	struct crm_strtab pub;
	struct crm_map map; /* string -> its number */
};

/* A thread's state for preparing rows (see prepare()): the feed's, and
 * the writer's for the rows the feed leaves to it. */
struct prep {
	struct crm_upsert_opts uo; /* as the writer's, per input */
	char **paths;
	size_t npaths, file;
	char src[512];
	struct crm_rec res;
	struct crm_buf tmp;
	int keys_only; /* the writer's: see prepare() */
};

struct ctx {
	/* options */
	const char *db, *cfgpath, *outpath, *rejpath, *mapname;
	int fmt, noout, quiet, verbose, nowait, table;
	long batch;
	char **mfrom, **mto;
	size_t nmap;
	/* flag mode */
	int flagmode, optin, streamopt;
	struct pending *pend;
	size_t npend;
	struct crm_rec frow;
	struct crm_buf ftags, funtag;
	const char *csrc;
	/* state */
	struct crm_config *cf;
	const struct crm_mapping *map;
	struct crm_store *st;
	struct crm_txn *t;
	struct crm_upsert *u;
	struct crm_upsert_opts uo;
	char dir[4096], src[512];
	const char *fname;
	char **paths;
	size_t npaths, file;
	struct crm_import *im;
	struct crm_feed *feed;
	struct prep *prep, *mprep;
	struct strs strs;
	struct crm_rec res;
	struct crm_buf val;
	long rows, inbatch, nbad, created, updated, unchanged, committed;
	uint64_t *ids; /* the contact of every good row, for output */
	size_t nids, idcap, ncommitted, nprinted;
	uint64_t *changed; /* created or updated in this transaction */
	size_t nchanged, chcap;
	uint32_t corecols;    /* core columns written in it, a bit each */
	struct crm_map names; /* custom field names written in it */
	struct crm_out *out;
	FILE *outfp, *rejfp;
	struct crm_rec *rej;
	size_t nrej;
	double t0, tshown;
};

static void interrupted(struct ctx *c);

static void
usage(int status)
{
	FILE *fp = status ? stderr : stdout;

	fputs(
	    "usage: crm-add [-nqv] [-c config] [-D dir] [-F "
	    "csv|tsv|ndjson|yaml]"
	    " [-m mapping]\n"
	    "               [--map from=to]... [-o file] [-r rejects] "
	    "[--as-of time]\n"
	    "               [--batch n] [--no-wait] [file ...]\n"
	    "       crm-add [-qv] [-c config] [-D dir] [-o file] [--as-of time]"
	    " --email addr\n"
	    "               [--id n] [--ext-id x] [--first-name x] "
	    "[--last-name x] [--phone x]\n"
	    "               [--company x] [--title x] [--city x] [--country x] "
	    "[--source x]\n"
	    "               [--stage x] [--owner x] [--tag t]... [--untag t]..."
	    "\n"
	    "               [--opt-in | --opt-out] [--consent-source s] "
	    "[--set name=value]...\n",
	    fp);
	exit(status);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A fatal error: the open transaction is dropped, nothing of it lands. */
static void
die(struct ctx *c, int status, const char *fmt, const char *a)
{
	if (c->t != NULL)
		crm_txn_abort(c->t);
	warnx(fmt, a);
	exit(status);
}

static void
die_rc(struct ctx *c, int rc)
{
	char msg[512];

	snprintf(msg, sizeof(msg), "%s%s%s", crm_strerror(rc),
	    c->st && *crm_store_error(c->st) ? ": " : "",
	    c->st ? crm_store_error(c->st) : "");
	die(c, crm_sysexit(rc), "%s", msg);
}

static void
set_flag(struct ctx *c, int col, const char *name, const char *v)
{
	char why[512];
	size_t nlen = name ? strlen(name) : 0;
	int rc;

	if (col == CRM_COL_TAGS) {
		rc = crm_contact_value(c->cf, col, NULL, 0, v, strlen(v), ';',
		    &c->val, why, sizeof(why));
		if (rc == 0)
			rc = crm_tags_edit(c->ftags.p, c->ftags.len, c->val.p,
			    c->val.len, '+', &c->ftags);
	} else if ((rc = crm_contact_value(c->cf, col, name, nlen, v, strlen(v),
			';', &c->val, why, sizeof(why))) == 0)
		rc = crm_rec_set(&c->frow, col, name, nlen, c->val.p,
		    c->val.len);
	if (rc == CRM_EINVAL)
		die(c, EX_DATAERR, "%s", why);
	if (rc)
		die_rc(c, rc);
}

static void
add_map(struct ctx *c, const char *arg)
{
	const char *eq = strchr(arg, '=');

	if (eq == NULL || eq == arg)
		usage(EX_USAGE);
	c->mfrom = realloc(c->mfrom, (c->nmap + 1) * sizeof(char *));
	c->mto = realloc(c->mto, (c->nmap + 1) * sizeof(char *));
	if (c->mfrom == NULL || c->mto == NULL)
		err(EX_OSERR, NULL);
	c->mfrom[c->nmap] = strndup(arg, (size_t)(eq - arg));
	c->mto[c->nmap++] = strdup(eq + 1);
}

static void
keep_reject(struct ctx *c, const struct crm_feed_item *it, const char *msg)
{
	struct crm_rec *x;
	char line[24];
	int rc;

	if ((x = realloc(c->rej, (c->nrej + 1) * sizeof(*x))) == NULL)
		err(EX_OSERR, NULL);
	c->rej = x;
	x = &c->rej[c->nrej++];
	crm_rec_init(x);
	rc = crm_rec_copy(x, &it->raw);
	snprintf(line, sizeof(line), "%ld", it->line);
	rc |= crm_rec_set(x, CRM_COL_CUSTOM, "_line", 5, line, strlen(line));
	rc |= crm_rec_set(x, CRM_COL_CUSTOM, "_error", 6, msg, strlen(msg));
	if (rc)
		err(EX_OSERR, NULL);
}

static void
bad_row(struct ctx *c, const struct crm_feed_item *it, const char *why)
{
	char msg[1600];

	snprintf(msg, sizeof(msg), "%s:%ld: %s", c->fname, it->line, why);
	if (++c->nbad <= MAXSHOWN)
		warnx("%s", msg);
	else if (c->nbad == MAXSHOWN + 1)
		warnx("more bad rows are not shown");
	if (c->rejpath != NULL)
		keep_reject(c, it, msg);
}

/* The reject file: the columns of every bad row, _line and _error last. */
static void
write_rejects(struct ctx *c)
{
	struct crm_map seen = { 0 };
	char **names = NULL, **more, *tail[] = { "_line", "_error" };
	size_t i, k, n = 0, nl;
	const char *nm;
	struct crm_out *o;
	uint64_t x;
	FILE *fp;
	int rc;

	fp = c->rejfp;
	for (i = 0; i < c->nrej; i++)
		for (k = 0; k < c->rej[i].n; k++) {
			nm = crm_rec_name(&c->rej[i], k, &nl);
			if (crm_map_get(&seen, nm, nl, &x) ||
			    (nl == 5 && !memcmp(nm, "_line", 5)) ||
			    (nl == 6 && !memcmp(nm, "_error", 6)))
				continue;
			crm_map_put(&seen, nm, nl, 1);
			if ((more = realloc(names, (n + 3) * sizeof(char *))) ==
				NULL ||
			    (more[n++] = strndup(nm, nl)) == NULL)
				err(EX_OSERR, NULL);
			names = more;
		}
	if (names == NULL && (names = calloc(3, sizeof(char *))) == NULL)
		err(EX_OSERR, NULL);
	names[n] = tail[0];
	names[n + 1] = tail[1];
	rc = crm_out_open(fp, CRM_FMT_CSV, &o);
	rc = rc ? rc : crm_out_names(o, names, n + 2);
	rc = rc ? rc : crm_out_header(o);
	for (i = 0; rc == 0 && i < c->nrej; i++)
		rc = crm_out_rec(o, &c->rej[i]);
	if (crm_out_close(o) || rc || fclose(fp))
		err(EX_IOERR, "%s", c->rejpath);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	crm_map_free(&seen);
	if (c->nbad)
		warnx("%ld bad row%s written to %s", c->nbad,
		    c->nbad == 1 ? "" : "s", c->rejpath);
}

static void
push_id(uint64_t **v, size_t *n, size_t *cap, uint64_t id)
{
	uint64_t *p;

	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 1024;
		if ((p = realloc(*v, *cap * sizeof(*p))) == NULL)
			err(EX_OSERR, NULL);
		*v = p;
	}
	(*v)[(*n)++] = id;
}

/* The names of the fields a row wrote, for the audit entry: a bit per
 * core column, so that the common case costs nothing. */
static void
note_fields(struct ctx *c, const struct crm_rec *row)
{
	const char *nm;
	uint64_t x;
	size_t i, nl;

	for (i = 0; i < row->n; i++) {
		c->corecols |= (uint32_t)1 << row->f[i].col;
		if (row->f[i].col != CRM_COL_CUSTOM)
			continue;
		nm = crm_rec_name(row, i, &nl);
		if (!crm_map_get(&c->names, nm, nl, &x) &&
		    crm_map_put(&c->names, nm, nl, 1))
			err(EX_OSERR, NULL);
	}
}

static void
note_row(struct ctx *c, int status, const struct crm_rec *row)
{
	if (status != CRM_UP_UNCHANGED)
		note_fields(c, row);
	if (status == CRM_UP_CREATED)
		c->created++;
	else if (status == CRM_UP_UPDATED)
		c->updated++;
	else
		c->unchanged++;
	if (status != CRM_UP_UNCHANGED)
		push_id(&c->changed, &c->nchanged, &c->chcap, c->res.id);
	if (!c->noout)
		push_id(&c->ids, &c->nids, &c->idcap, c->res.id);
}

/* The committed contacts of this run, re-read from the store and printed
 * as crm-export prints them, so the output is what was stored. It comes
 * after the last commit, so that the header has every column. */
static void
print_rows(struct ctx *c)
{
	struct crm_txn *rt;
	char **all = NULL;
	size_t n = 0, i;
	int rc;

	if (c->noout || c->nprinted == c->ncommitted)
		return;
	if ((rc = crm_txn_begin(c->st, CRM_F_RDONLY, &rt)) ||
	    (rc = crm_fields_list(rt, &all, &n)))
		die_rc(c, rc);
	if (c->out == NULL) {
		if ((rc = crm_out_open(c->outfp, CRM_FMT_CSV, &c->out)) ||
		    (rc = crm_out_columns(c->out, all, n, NULL, 0)) ||
		    (rc = crm_out_header(c->out)))
			die_rc(c, rc);
	}
	for (i = c->nprinted; rc == 0 && i < c->ncommitted; i++)
		if ((rc = crm_contact_get(rt, c->ids[i], &c->res)) == 0)
			rc = crm_out_rec(c->out, &c->res);
	crm_txn_abort(rt);
	crm_fields_free(all, n);
	if (rc)
		die_rc(c, rc);
	c->nprinted = c->ncommitted;
}

static void
progress(struct ctx *c, int last)
{
	double t = now_s();

	if (c->quiet || !isatty(2))
		return;
	if (last) {
		if (c->tshown > 0)
			fputs("\r\033[K", stderr);
		return;
	}
	/* The first report after half a second, then one a second. */
	if (t - c->t0 < 0.5 || t - c->tshown < 1.0)
		return;
	c->tshown = t;
	fprintf(stderr, "\rcrm-add: %ld rows, %.0f rows/s", c->rows,
	    c->rows / (t - c->t0 > 0 ? t - c->t0 : 1));
}

static void
ranges(struct crm_buf *b, const uint64_t *ids, size_t n)
{
	char tmp[48];
	size_t i, j;

	for (i = 0; i < n && b->len < 4000; i = j) {
		for (j = i + 1; j < n && ids[j] == ids[j - 1] + 1; j++)
			;
		if (j - i > 1)
			snprintf(tmp, sizeof(tmp), "%s%llu-%llu",
			    b->len ? "," : "", (unsigned long long)ids[i],
			    (unsigned long long)ids[j - 1]);
		else
			snprintf(tmp, sizeof(tmp), "%s%llu", b->len ? "," : "",
			    (unsigned long long)ids[i]);
		crm_buf_adds(b, tmp);
	}
	if (i < n)
		crm_buf_adds(b, ",...");
}

static int
cmp_id(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* The names of the fields written in this transaction, a,b,c. */
static void
written(struct ctx *c, struct crm_buf *b)
{
	const char *k;
	size_t i, n;
	uint64_t v;
	int col;

	b->len = 0;
	for (col = 1; col < CRM_NCOL; col++)
		if (c->corecols & (uint32_t)1 << col) {
			if (b->len)
				crm_buf_addc(b, ',');
			crm_buf_adds(b, crm_col_names[col]);
		}
	for (i = 0; crm_map_each(&c->names, &i, &k, &n, &v);) {
		if (b->len)
			crm_buf_addc(b, ',');
		crm_buf_add(b, k, n);
	}
	c->corecols = 0;
	crm_map_clear(&c->names);
}

/* One audit entry per commit: when, who, which tool, how many, which ids
 * (no field values: the audit log holds no personal data). */
static int
audit(struct ctx *c)
{
	struct crm_rec a;
	struct crm_buf b = { 0 };
	struct passwd *pw = getpwuid(getuid());
	char ts[CRM_TIME_LEN], num[64];
	size_t i;
	int rc = 0;

	crm_rec_init(&a);
	crm_time_format((int64_t)time(NULL), ts);
	rc |= crm_rec_set(&a, 0, "ts", 2, ts, strlen(ts));
	snprintf(num, sizeof(num), "%s", pw ? pw->pw_name : "?");
	rc |= crm_rec_set(&a, 0, "user", 4, num, strlen(num));
	rc |= crm_rec_set(&a, 0, "tool", 4, "crm-add", 7);
	rc |= crm_rec_set(&a, 0, "op", 2, "upsert", 6);
	snprintf(num, sizeof(num), "%ld created, %ld updated", c->created,
	    c->updated);
	rc |= crm_rec_set(&a, 0, "rows", 4, num, strlen(num));
	for (i = 1; i < c->nchanged && c->changed[i - 1] < c->changed[i]; i++)
		;
	if (i < c->nchanged) /* new contacts come in order: mostly sorted */
		qsort(c->changed, c->nchanged, sizeof(*c->changed), cmp_id);
	ranges(&b, c->changed, c->nchanged);
	if (b.len)
		rc |= crm_rec_set(&a, 0, "ids", 3, b.p, b.len);
	written(c, &b);
	if (b.len)
		rc |= crm_rec_set(&a, 0, "fields", 6, b.p, b.len);
	if (rc == 0)
		rc = crm_audit_add(c->t, &a);
	crm_buf_free(&b);
	crm_rec_free(&a);
	return rc;
}

static void
begin(struct ctx *c)
{
	int rc = crm_txn_begin(c->st, CRM_F_NOWAIT, &c->t);

	if (rc == CRM_EBUSY && !c->nowait) {
		if (!c->quiet)
			warnx("store %s is busy, waiting for the lock", c->dir);
		rc = crm_txn_begin(c->st, 0, &c->t);
	}
	if (rc == CRM_EBUSY)
		die(c, EX_TEMPFAIL, "store %s is busy", c->dir);
	if (rc == 0 && c->u == NULL)
		rc = crm_upsert_begin(c->st, c->t, &c->u);
	if (rc)
		die_rc(c, rc);
	crm_upsert_txn(c->u, c->t);
	c->inbatch = 0;
	c->nchanged = 0;
	c->created = c->updated = c->unchanged = 0;
}

static void
commit(struct ctx *c)
{
	int rc;

	if (crm_signal())
		interrupted(c);
	rc = c->nchanged ? audit(c) : 0;
	if (rc)
		crm_txn_abort(c->t);
	else
		rc = crm_txn_commit(c->t);
	c->t = NULL;
	if (rc)
		die_rc(c, rc);
	c->committed += c->created + c->updated + c->unchanged;
	c->ncommitted = c->nids;
	if (c->verbose)
		warnx("%ld row%s: %ld created, %ld updated, %ld unchanged",
		    c->created + c->updated + c->unchanged,
		    c->created + c->updated + c->unchanged == 1 ? "" : "s",
		    c->created, c->updated, c->unchanged);
}

/* Without a reject file a bad row stops the run: nothing more commits. */
static void
give_up(struct ctx *c)
{
	char msg[160];

	if (c->committed)
		snprintf(msg, sizeof(msg),
		    "%ld bad row%s; the first %ld rows "
		    "were committed",
		    c->nbad, c->nbad == 1 ? "" : "s", c->committed);
	else
		snprintf(msg, sizeof(msg), "%ld bad row%s; nothing committed",
		    c->nbad, c->nbad == 1 ? "" : "s");
	crm_txn_abort(c->t);
	c->t = NULL;
	print_rows(c);
	crm_out_close(c->out);
	die(c, EX_DATAERR, "%s", msg);
}

static void
interrupted(struct ctx *c)
{
	progress(c, 1);
	crm_txn_abort(c->t);
	c->t = NULL;
	warnx("interrupted; %s",
	    c->committed ? "rows after the last batch "
			   "were not committed" :
			   "nothing committed");
	crm_signal_reraise();
}

static void
one_row(struct ctx *c, const struct crm_feed_item *it)
{
	char why[1024];
	int rc = it->status, status;

	if (rc == 0)
		rc = crm_upsert_row_prep(c->u, &c->uo, &it->rec, &it->prep,
		    it->line, &c->res, &status, why, sizeof(why));
	else
		snprintf(why, sizeof(why), "%s", it->why.p);
	if (rc == CRM_EINVAL || rc == CRM_EPARSE) {
		bad_row(c, it, why);
		return;
	}
	if (rc)
		die_rc(c, rc);
	note_row(c, status, &it->rec);
	c->rows++;
	/* A large transaction has its pages written back as they come. */
	if (++c->inbatch == FLUSHER_ROWS)
		(void)crm_txn_flusher(c->t);
	if (c->batch && c->inbatch >= c->batch) {
		if (c->nbad && c->rejpath == NULL)
			give_up(c);
		commit(c);
		begin(c);
	}
}

/* An input's name in messages, and its consent source in src. */
static const char *
input_name(char *const *paths, size_t npaths, size_t file, char *src,
    size_t srclen)
{
	const char *p = file < npaths ? paths[file] : "-";

	p = strcmp(p, "-") == 0 ? "stdin" : p;
	snprintf(src, srclen, "import:%s", p);
	return p;
}

/* The first row of an input: its name in messages, its consent source. */
static void
next_input(struct ctx *c, size_t file)
{
	c->file = file;
	c->fname =
	    input_name(c->paths, c->npaths, file, c->src, sizeof(c->src));
	c->uo.consent_source = c->src;
	crm_upsert_next_input(c->u);
}

static const char *
strs_get(const struct crm_strtab *tab, uint64_t k, size_t *n)
{
	(void)tab;
	(void)k;
	(void)n;
	return NULL; /* for encoding only */
}

static int
strs_find(const struct crm_strtab *tab, const char *p, size_t n, uint32_t *k)
{
	const struct strs *s = (const struct strs *)tab;
	uint64_t x;

	if (!crm_map_get(&s->map, p, n, &x))
		return 0;
	*k = (uint32_t)x;
	return 1;
}

/* The table of struct strs, made in the writer's first transaction: what
 * it puts there is committed before any row that refers to it (a failed
 * transaction ends the run). A source too long for the table is written
 * out in each record. */
static void
make_strs(struct ctx *c)
{
	const struct crm_strtab *tab = crm_txn_strtab(c->t);
	const char *v;
	char src[512];
	size_t i, n;
	uint32_t k;
	int rc;

	c->strs.pub.get = strs_get;
	c->strs.pub.find = strs_find;
	for (i = 0; i < (c->npaths ? c->npaths : 1); i++) {
		input_name(c->paths, c->npaths, i, src, sizeof(src));
		rc = crm_txn_intern(c->t, src, strlen(src), &k);
		if (rc != 0 && rc != CRM_ETOOBIG)
			die_rc(c, rc);
	}
	for (k = 0; (v = tab->get(tab, k, &n)) != NULL; k++)
		if (crm_map_put(&c->strs.map, v, n, k))
			die_rc(c, CRM_ENOMEM);
}

/*
 * Each good row's record as a new contact, encoded with the options the
 * writer will use for that input, and the hashes of its keys; the writer
 * then only stores it, when the contact is new. On the feed's thread, or
 * on the writer's when it has nothing else to do, each with its own p.
 * The writer hashes the keys only, and encodes a row when it finds it is
 * a new contact: a row that updates one is not encoded for nothing.
 */
static int
prepare(void *arg, struct crm_feed_item *it)
{
	struct prep *p = arg;

	if (p->keys_only) {
		crm_upsert_prepare_keys(&it->rec, &it->prep);
		return 0;
	}

	if (p->uo.consent_source == NULL || it->file != p->file) {
		p->file = it->file;
		input_name(p->paths, p->npaths, it->file, p->src,
		    sizeof(p->src));
		p->uo.consent_source = p->src;
	}
	return crm_upsert_prepare(&p->uo, &it->rec, &p->res, &p->tmp,
	    &it->prep);
}

/* A table's custom columns are known to the store in the header's order,
 * so that crm-export | crm-add keeps the columns in their order. */
static void
columns(struct ctx *c, const struct crm_feed_item *it)
{
	size_t i, nl;
	const char *nm;
	uint32_t k;
	int rc;

	for (i = 0; i < it->hdr.n; i++) {
		nm = crm_rec_name(&it->hdr, i, &nl);
		if ((rc = crm_field_note(c->t, nm, nl)) ||
		    ((rc = crm_txn_intern(c->t, nm, nl, &k)) &&
			rc != CRM_ETOOBIG))
			die_rc(c, rc);
	}
}

/* An input that cannot be read at all ends the run, nothing committed. */
static void
fatal_item(struct ctx *c, const struct crm_feed_item *it)
{
	char msg[1400];

	if (it->fatal > 0)
		snprintf(msg, sizeof(msg), "%s: %s", c->fname, it->why.p);
	else if (it->line > 0)
		snprintf(msg, sizeof(msg), "%s:%ld: %s", c->fname, it->line,
		    it->why.p);
	else /* a YAML error: why starts with the line */
		snprintf(msg, sizeof(msg), "%s:%s", c->fname, it->why.p);
	die(c, it->fatal == CRM_EPARSE ? EX_DATAERR : crm_sysexit(it->fatal),
	    "%s", msg);
}

/* About how many rows the inputs hold (files only), for sizing. */
static size_t
expect_rows(struct ctx *c)
{
	struct stat sb;
	size_t i, bytes = 0;

	for (i = 0; i < c->npaths; i++)
		if (strcmp(c->paths[i], "-") != 0 &&
		    stat(c->paths[i], &sb) == 0 && S_ISREG(sb.st_mode))
			bytes += (size_t)sb.st_size;
	return bytes / 128;
}

/* The index slots of rows to come are fetched into the cache ahead of
 * their turn: the pending index is larger than the caches. So are the
 * rows themselves, before their keys are hashed: they were written on the
 * feed's thread, so they are in another core's cache. */
static void
ahead(struct ctx *c)
{
	const struct crm_feed_item *a;

	crm_feed_fetch(c->feed, 40, 0);
	crm_feed_fetch(c->feed, 28, 1);
	if ((a = crm_feed_peek(c->feed, 16)) != NULL && a->status == 0)
		crm_upsert_prefetch(c->u, &a->prep, 0);
	if ((a = crm_feed_peek(c->feed, 8)) != NULL && a->status == 0)
		crm_upsert_prefetch(c->u, &a->prep, 1);
}

/* Rows come from the feed's thread, checked; this thread writes them. */
static void
stream_mode(struct ctx *c)
{
	const struct crm_feed_item *it;
	int rc, first = 1;

	crm_txn_expect(c->t, c->batch ? (size_t)c->batch : expect_rows(c));
	if ((rc = crm_import_new(c->cf, c->map, c->mfrom, c->mto, c->nmap,
		 &c->im)) ||
	    (c->prep = calloc(1, sizeof(*c->prep))) == NULL ||
	    (c->mprep = calloc(1, sizeof(*c->mprep))) == NULL)
		die_rc(c, rc ? rc : CRM_ENOMEM);
	make_strs(c);
	c->prep->uo = c->uo;
	c->prep->uo.consent_source = NULL;
	c->prep->uo.strs = &c->strs.pub;
	c->prep->paths = c->paths;
	c->prep->npaths = c->npaths;
	*c->mprep = *c->prep;
	c->mprep->keys_only = 1;
	if ((rc = crm_feed_start(c->paths, c->npaths, c->fmt, c->im,
		 c->rejpath != NULL, prepare, c->prep, c->mprep, &c->feed)))
		die_rc(c, rc);
	while (
	    (rc = crm_feed_next(c->feed, &it, 100)) == 0 || rc == CRM_EAGAIN) {
		if (crm_signal())
			interrupted(c);
		if (rc == CRM_EAGAIN) {
			progress(c, 0);
			continue;
		}
		if (first || it->file != c->file)
			next_input(c, it->file);
		first = 0;
		if (it->fatal)
			fatal_item(c, it);
		columns(c, it);
		ahead(c);
		one_row(c, it);
		if ((c->rows & 0x3ff) == 0)
			progress(c, 0);
	}
	crm_feed_stop(c->feed);
	crm_import_free(c->im);
	crm_rec_free(&c->prep->res);
	crm_buf_free(&c->prep->tmp);
	crm_rec_free(&c->mprep->res);
	crm_buf_free(&c->mprep->tmp);
	free(c->prep);
	free(c->mprep);
	crm_map_free(&c->strs.map);
}

/* Flag mode: one contact from the options, printed whole afterwards. */
static void
flag_mode(struct ctx *c)
{
	char why[1024];
	int rc, status;

	if (c->optin >= 0 &&
	    ((rc = crm_rec_set(&c->frow, CRM_COL_EMAIL_OPT_IN, NULL, 0,
		  c->optin ? "true" : "false", c->optin ? 4 : 5)) ||
		(c->csrc &&
		    (rc = crm_rec_set(&c->frow, CRM_COL_CONSENT_SOURCE, NULL, 0,
			 c->csrc, strlen(c->csrc))))))
		die_rc(c, rc);
	if (c->ftags.len &&
	    crm_rec_set(&c->frow, CRM_COL_TAGS, NULL, 0, c->ftags.p,
		c->ftags.len))
		err(EX_OSERR, NULL);
	c->uo.consent_source = "crm-add";
	c->uo.add_tags = 1;
	c->uo.untag = c->funtag.len ? c->funtag.p : NULL;
	rc = crm_upsert_row(c->u, &c->uo, &c->frow, 0, &c->res, &status, why,
	    sizeof(why));
	if (rc == CRM_EINVAL)
		die(c, EX_DATAERR, "%s", why);
	if (rc)
		die_rc(c, rc);
	note_row(c, status, &c->frow);
	c->rows = 1;
	commit(c);
}

static const struct option longopts[] = { { "as-of", required_argument, NULL,
					      'A' },
	{ "batch", required_argument, NULL, 'B' },
	{ "config", required_argument, NULL, 'c' },
	{ "db", required_argument, NULL, 'D' },
	{ "format", required_argument, NULL, 'F' },
	{ "help", no_argument, NULL, 'h' },
	{ "map", required_argument, NULL, 'M' },
	{ "mapping", required_argument, NULL, 'm' },
	{ "no-output", no_argument, NULL, 'n' },
	{ "no-wait", no_argument, NULL, 'W' },
	{ "output", required_argument, NULL, 'o' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "reject", required_argument, NULL, 'r' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "version", no_argument, NULL, 'V' },
	/* flag mode: 1000 + column, or the letters below */
	{ "email", required_argument, NULL, 1000 + CRM_COL_EMAIL },
	{ "first-name", required_argument, NULL, 1000 + CRM_COL_FIRST_NAME },
	{ "last-name", required_argument, NULL, 1000 + CRM_COL_LAST_NAME },
	{ "phone", required_argument, NULL, 1000 + CRM_COL_PHONE },
	{ "company", required_argument, NULL, 1000 + CRM_COL_COMPANY },
	{ "title", required_argument, NULL, 1000 + CRM_COL_TITLE },
	{ "city", required_argument, NULL, 1000 + CRM_COL_CITY },
	{ "country", required_argument, NULL, 1000 + CRM_COL_COUNTRY },
	{ "source", required_argument, NULL, 1000 + CRM_COL_SOURCE },
	{ "stage", required_argument, NULL, 1000 + CRM_COL_STAGE },
	{ "owner", required_argument, NULL, 1000 + CRM_COL_OWNER },
	{ "ext-id", required_argument, NULL, 1000 + CRM_COL_EXT_ID },
	{ "tag", required_argument, NULL, 1000 + CRM_COL_TAGS },
	{ "id", required_argument, NULL, 'I' },
	{ "untag", required_argument, NULL, 'U' },
	{ "opt-in", no_argument, NULL, 'Y' },
	{ "opt-out", no_argument, NULL, 'N' },
	{ "consent-source", required_argument, NULL, 'S' },
	{ "set", required_argument, NULL, 'E' }, { NULL, 0, NULL, 0 } };

/* Options that make sense only with rows, or only with flags. */
static void
check_modes(struct ctx *c, int argc, int streamopt)
{
	if (c->flagmode && (argc > 0 || streamopt))
		errx(EX_USAGE,
		    "field options do not go with files, -F, -m, "
		    "--map, -r or --batch");
	if (!c->flagmode && (c->optin >= 0 || c->csrc || c->funtag.len))
		errx(EX_USAGE,
		    "--opt-in, --opt-out, --consent-source and --untag "
		    "need --email, --id or --ext-id");
	if (c->csrc && c->optin < 0)
		errx(EX_USAGE, "--consent-source needs --opt-in or --opt-out");
	if (c->flagmode && c->frow.id == 0 &&
	    !crm_rec_get(&c->frow, CRM_COL_EMAIL, NULL, 0, NULL) &&
	    !crm_rec_get(&c->frow, CRM_COL_EXT_ID, NULL, 0, NULL))
		errx(EX_USAGE, "a contact needs --email, --id or --ext-id");
}

static void
untag(struct ctx *c, const char *v)
{
	struct crm_buf norm = { 0 }, t = { 0 };

	if (crm_tags_norm(v, strlen(v), ';', &norm) ||
	    crm_tags_edit(c->funtag.p, c->funtag.len, norm.p, norm.len, '+',
		&t))
		err(EX_OSERR, NULL);
	crm_buf_free(&c->funtag);
	crm_buf_free(&norm);
	c->funtag = t;
}

static void
apply_flag(struct ctx *c, int opt, const char *arg)
{
	const char *eq;
	char *name;

	if (opt >= 1000) {
		set_flag(c, opt - 1000, NULL, arg);
		return;
	}
	if (opt == 'I') {
		if (crm_id_parse(arg, strlen(arg), &c->frow.id))
			errx(EX_USAGE, "invalid id \"%s\"", arg);
		return;
	}
	if (opt == 'U') {
		untag(c, arg);
		return;
	}
	if ((eq = strchr(arg, '=')) == NULL || eq == arg)
		errx(EX_USAGE, "--set needs name=value");
	if ((name = strndup(arg, (size_t)(eq - arg))) == NULL)
		err(EX_OSERR, NULL);
	if (crm_col_lookup(name, strlen(name)) != CRM_COL_CUSTOM)
		errx(EX_USAGE,
		    "--set is for custom fields; \"%s\" has its own "
		    "option",
		    name);
	set_flag(c, CRM_COL_CUSTOM, name, eq + 1);
	free(name);
}

static void
load_config(struct ctx *c)
{
	char path[4096], msg[1024];
	const char *p = crm_config_path(c->cfgpath, path, sizeof(path));
	int rc;

	if ((rc = crm_config_load(p, &c->cf, msg, sizeof(msg))) == CRM_ECONFIG)
		errx(EX_CONFIG, "%s", msg);
	if (rc)
		errx(EX_SOFTWARE, "%s", crm_strerror(rc));
	if (c->mapname &&
	    (c->map = crm_config_mapping(c->cf, c->mapname)) == NULL)
		errx(EX_USAGE, "no mapping \"%s\" in the config", c->mapname);
}

static void
open_store(struct ctx *c)
{
	const char *d = crm_store_path(c->db, c->dir, sizeof(c->dir));
	int rc;

	if (d != c->dir)
		snprintf(c->dir, sizeof(c->dir), "%s", d);
	rc = crm_store_open(c->dir, CRM_F_NOWAIT, &c->st);
	if (rc == CRM_EBUSY && !c->nowait) {
		crm_store_close(c->st);
		rc = crm_store_open(c->dir, 0, &c->st);
	}
	if (rc) {
		warnx("%s", c->st ? crm_store_error(c->st) : crm_strerror(rc));
		exit(crm_sysexit(rc));
	}
}

static void
set_optin(struct ctx *c, int v)
{
	if (c->optin >= 0 && c->optin != v)
		errx(EX_USAGE, "--opt-in and --opt-out exclude each other");
	c->optin = v;
}

/* The options; those that name fields wait for the config (in c->pend).
 * Returns the index of the first operand. */
static int
options(struct ctx *c, int argc, char *argv[])
{
	int ch, isdate;

	if ((c->pend = calloc((size_t)argc + 1, sizeof(*c->pend))) == NULL)
		err(EX_OSERR, NULL);
	while ((ch = getopt_long(argc, argv, "c:D:F:hm:no:qr:v", longopts,
		    NULL)) != -1) {
		switch (ch) {
		case 'A':
			if (crm_time_parse(optarg, strlen(optarg), &c->uo.now,
				&isdate))
				errx(EX_USAGE, "invalid time \"%s\"", optarg);
			break;
		case 'B':
			if ((c->batch = strtol(optarg, NULL, 10)) <= 0)
				errx(EX_USAGE,
				    "--batch needs a positive number");
			c->streamopt = 1;
			break;
		case 'c':
			c->cfgpath = optarg;
			break;
		case 'D':
			c->db = optarg;
			break;
		case 'F':
			if ((c->fmt = crm_fmt_parse(optarg)) < 0)
				errx(EX_USAGE, "unknown format \"%s\"", optarg);
			c->streamopt = 1;
			break;
		case 'h':
			usage(0);
			break;
		case 'm':
			c->mapname = optarg;
			c->streamopt = 1;
			break;
		case 'M':
			add_map(c, optarg);
			c->streamopt = 1;
			break;
		case 'n':
			c->noout = 1;
			break;
		case 'N':
			set_optin(c, 0);
			break;
		case 'o':
			c->outpath = optarg;
			break;
		case 'q':
			c->quiet = 1;
			break;
		case 'r':
			c->rejpath = optarg;
			c->streamopt = 1;
			break;
		case 'S':
			c->csrc = optarg;
			break;
		case 'v':
			c->verbose = 1;
			break;
		case 'V':
			puts("crm-add (crm) " CRM_VERSION);
			exit(0);
		case 'W':
			c->nowait = 1;
			break;
		case 'Y':
			set_optin(c, 1);
			break;
		case 'I':
		case 'U':
		case 'E':
			if (ch != 'U')
				c->flagmode = 1;
			c->pend[c->npend].opt = ch;
			c->pend[c->npend++].arg = optarg;
			break;
		default:
			if (ch < 1000)
				usage(EX_USAGE);
			c->flagmode = 1;
			c->pend[c->npend].opt = ch;
			c->pend[c->npend++].arg = optarg;
		}
	}
	return optind;
}

static void
open_outputs(struct ctx *c)
{
	if (c->outpath && (c->outfp = fopen(c->outpath, "w")) == NULL)
		err(EX_CANTCREAT, "%s", c->outpath);
	if (c->rejpath && (c->rejfp = fopen(c->rejpath, "w")) == NULL)
		err(EX_CANTCREAT, "%s", c->rejpath);
}

/* Stream mode from start to commit: the inputs, then the policy. */
static void
stream_run(struct ctx *c, char *paths[], size_t n)
{
	c->paths = paths;
	c->npaths = n;
	stream_mode(c);
	progress(c, 1);
	if (crm_signal())
		interrupted(c);
	if (c->nbad && c->rejpath == NULL)
		give_up(c);
	commit(c);
	if (c->rejpath)
		write_rejects(c);
}

/* The rows, then a check that every byte of output was written. */
static void
finish(struct ctx *c)
{
	print_rows(c);
	crm_upsert_end(c->u);
	if (crm_out_close(c->out) || fflush(c->outfp) || ferror(c->outfp))
		errx(EX_IOERR, "%s: write error",
		    c->outpath ? c->outpath : "stdout");
	crm_store_close(c->st);
	crm_config_free(c->cf);
	crm_map_free(&c->names);
}

int
main(int argc, char *argv[])
{
	static struct ctx ctx;
	struct ctx *c = &ctx;
	size_t i;
	int first;

	crm_tune_hugepages(argv);
	setlocale(LC_ALL, "");
	c->fmt = CRM_FMT_CSV;
	c->optin = -1;
	c->uo.now = (int64_t)time(NULL);
	c->outfp = stdout;
	first = options(c, argc, argv);
	load_config(c);
	for (i = 0; i < c->npend; i++)
		apply_flag(c, c->pend[i].opt, c->pend[i].arg);
	free(c->pend);
	check_modes(c, argc - first, c->streamopt);
	open_outputs(c);
	open_store(c);
	begin(c);
	crm_signals_catch();
	c->t0 = now_s();
	if (c->flagmode)
		flag_mode(c);
	else
		stream_run(c, argv + first, (size_t)(argc - first));
	finish(c);
	return 0;
}
