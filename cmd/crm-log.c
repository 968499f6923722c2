/*
 * crm-log: append interactions to the log, from flags (one event) or rows
 * (CSV, TSV, NDJSON). One write transaction per run; a run with a bad row
 * commits nothing unless -r names a reject file. Events with an ext_id (or
 * an order_id) already stored are skipped, so a nightly import can be run
 * again safely.
 */
#include <err.h>
#include <getopt.h>
#include <locale.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "crm.h"

#define MAXSHOWN 100   /* bad rows reported one by one */
#define CHUNKROWS 4096 /* rows the reading thread hands over at a time */
#define ARENAROW 128   /* bytes a row keeps in its chunk, most often */
#define NTYPES 8       /* types known to pass, the last ones seen */
/* Chunks made at the start, and at most: the reading thread may run up to
 * a million rows ahead while the writer sorts and writes a batch. */
#define NCHUNKS 4
#define MAXCHUNKS 256

/* What a column of the input is to an event. */
enum { R_SKIP, R_CONTACT, R_EMAIL, R_TS, R_TYPE, R_FIELD };

/* A column's role and, for a field, its name: a built-in field's in the
 * case it is stored in. */
struct col {
	int role;
	const char *name;
	size_t nlen;
};

/*
 * The addresses of the stored contacts, when they are all read at the
 * start: every row's address is looked up, and one kept in its slot, a
 * cache line, costs one miss of the caches where crm_map costs two (the
 * slot, then the key), and the writing thread keeps the caches busy. A
 * longer address is kept in ctx.remails instead.
 */
#define KEYMAX 51
struct kslot {
	uint64_t id;
	uint32_t h; /* crm_map_hash() of the address; 0: empty */
	unsigned char n;
	char key[KEYMAX];
};
_Static_assert(sizeof(struct kslot) == 64, "a slot is a cache line");

/* A value not copied into ctx.vals: the field points into the row. */
#define BORROWED ((size_t)-1)

/*
 * A row made ready by the reading thread: checked, its contact reference
 * normalised and its event encoded, with what crm_evlog_prepare() said of
 * it. A chunk's rows are written to once and read once, and a reader
 * ahead of the writer fills chunks that are new to the caches, so a row
 * is kept small. Its bytes are in the chunk's arena from off on: the
 * normal e-mail, the encoding and the key, or (bad) why it is bad; cells
 * are the row's columns, kept for a reject file.
 */
struct prow {
	long line;
	uint64_t id, contact; /* contact: found by the reading thread, or 0 */
	int64_t ts;
	uint64_t h;
	int64_t amount;
	const char *keycol;
	size_t off, cells;
	uint32_t enclen, eh, kh; /* eh: crm_map_hash() of the e-mail */
	uint16_t nn, keylen;
	unsigned char bad, refisemail, byid, kind, scale;
};

struct chunk {
	struct prow *r;
	size_t n;
	struct crm_buf arena;
	int end, fatal; /* the last chunk; exit status of a fatal error */
	int resolved;   /* its rows' addresses looked up (known_emails()) */
	char msg[1200];
	struct chunk *next;
};

struct ctx {
	/* options */
	const char *db, *cfgpath, *rejpath, *type, *contact, *ts;
	size_t tlen; /* of type */
	char *tsbuf;
	int fmt, quiet, verbose, nowait, flagmode;
	struct crm_evlog_opts lo;
	char **fname, **fval; /* flag mode fields */
	size_t nflag;
	/* state */
	struct crm_config *cf;
	struct crm_store *st;
	struct crm_txn *t;
	struct crm_evlog *l;
	char dir[4096];
	const char *inname;
	/*
	 * What the reading thread changes, what both threads do, and what
	 * the writing thread does are kept on cache lines apart: a counter of
	 * the writer's beside the reader's state cost the reader a cache miss
	 * on every row.
	 */
	_Alignas(64) const char **roles_for; /* the header the roles are for */
	struct col *cols;
	size_t nroles;
	struct crm_buf vals, val;
	struct crm_event e;
	size_t offs[CRM_EV_MAXFIELDS];
	struct {
		char s[80];
		size_t n;
	} types[NTYPES]; /* types that passed, n 0 where none */
	size_t ntypes;
	struct crm_buf enc, key;
	/* the reading thread and the chunks it fills */
	struct crm_in *in;
	struct crm_txn *rt;     /* its read transaction: committed contacts */
	struct crm_map remails; /* normal e-mail -> contact id, from rt */
	int preloaded;          /* remails and known hold every address */
	struct kslot *known;    /* when preloaded: kmask + 1 slots */
	size_t kmask;
	_Alignas(64) pthread_mutex_t mu;
	pthread_cond_t cv;
	struct chunk *full, *free; /* ready to write; to be filled */
	size_t nchunks, nfull;
	int kready; /* known is complete, or there is none to wait for */
	int lazy;   /* CRM_LOG_LAZY: 1, 0 for tests; -1 as it comes */
	_Alignas(64) long rows, nbad;
	struct crm_out *rej;
	FILE *rejfp;
	char **rejcols;
	size_t nrejcols;
	double t0, tshown;
};

static void
usage(int status)
{
	fputs("usage: crm-log [-qv] [--config file] [-D dir] [-F "
	      "csv|tsv|ndjson]"
	      " [-t type] [-r rejects]\n"
	      "               [--as-of time] [--create] [--key column] "
	      "[--no-wait] [file ...]\n"
	      "       crm-log [-qv] [--config file] [-D dir] [--as-of time] "
	      "[--create]\n"
	      "               -c contact -t type [--ts time] [--subject s] "
	      "[--note text]\n"
	      "               [--amount n] [--ext-id x] [--channel x] "
	      "[--campaign x] [--source x]\n"
	      "               [--set name=value]...\n",
	    status ? stderr : stdout);
	exit(status);
}

/* A fatal error: the open transaction is dropped, nothing of it lands. */
static void
die(struct ctx *c, int status, const char *fmt, const char *a)
{
	crm_evlog_abort(c->l);
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
interrupted(struct ctx *c)
{
	crm_evlog_abort(c->l);
	c->l = NULL;
	crm_txn_abort(c->t);
	c->t = NULL;
	warnx("interrupted; nothing committed");
	crm_signal_reraise();
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
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
	if (t - c->t0 < 0.5 || t - c->tshown < 1.0)
		return;
	c->tshown = t;
	fprintf(stderr, "\rcrm-log: %ld rows, %.0f rows/s", c->rows,
	    c->rows / (t - c->t0 > 0 ? t - c->t0 : 1));
}

/* The reject file gets the input's columns, then _line and _error. */
static void
open_rejects(struct ctx *c, const struct crm_inrow *row)
{
	const char *tail[] = { "_line", "_error" };
	size_t i;
	int rc;

	c->nrejcols = row->n + 2;
	if ((c->rejcols = calloc(c->nrejcols, sizeof(char *))) == NULL)
		err(EX_OSERR, NULL);
	for (i = 0; i < c->nrejcols; i++) {
		c->rejcols[i] = i < row->n ?
		    strndup(row->name[i] ? row->name[i] : "", row->nlen[i]) :
		    strdup(tail[i - row->n]);
		if (c->rejcols[i] == NULL)
			err(EX_OSERR, NULL);
	}
	if ((rc = crm_out_open(c->rejfp, CRM_FMT_CSV, &c->rej)) ||
	    (rc = crm_out_names(c->rej, c->rejcols, c->nrejcols)) ||
	    (rc = crm_out_header(c->rej)))
		die_rc(c, rc);
}

static void
reject(struct ctx *c, const struct crm_inrow *row, const char *msg)
{
	struct crm_rec r;
	char line[24];
	size_t i;
	int rc = 0;

	if (c->rej == NULL)
		open_rejects(c, row);
	crm_rec_init(&r);
	for (i = 0; i < row->n && i + 2 < c->nrejcols; i++)
		rc |= crm_rec_set(&r, CRM_COL_CUSTOM, c->rejcols[i],
		    strlen(c->rejcols[i]), row->val[i], row->vlen[i]);
	snprintf(line, sizeof(line), "%ld", row->line);
	rc |= crm_rec_set(&r, CRM_COL_CUSTOM, "_line", 5, line, strlen(line));
	rc |= crm_rec_set(&r, CRM_COL_CUSTOM, "_error", 6, msg, strlen(msg));
	if (rc || crm_out_rec(c->rej, &r))
		die(c, EX_IOERR, "%s: write error", c->rejpath);
	crm_rec_free(&r);
}

static void
bad_row(struct ctx *c, const struct crm_inrow *row, const char *why)
{
	char msg[1600];

	char *p;

	if (c->flagmode)
		die(c, EX_DATAERR, "%s", why);
	snprintf(msg, sizeof(msg), "%s:%ld: %s", c->inname, row->line, why);
	/* A message quoting bad input must not pass its bad bytes on. */
	if (!crm_utf8_valid(msg, strlen(msg), NULL))
		for (p = msg; *p; p++)
			if ((unsigned char)*p >= 0x80)
				*p = '?';
	if (++c->nbad <= MAXSHOWN)
		warnx("%s", msg);
	else if (c->nbad == MAXSHOWN + 1)
		warnx("more bad rows are not shown");
	if (c->rejpath != NULL)
		reject(c, row, msg);
}

static int
role_of(const char *name, size_t n)
{
	static const struct {
		const char *name;
		int role;
	} known[] = { { "contact", R_CONTACT }, { "email", R_EMAIL },
		{ "ts", R_TS }, { "type", R_TYPE }, { "id", R_SKIP },
		/* a reject file's own columns, when it is read back */
		{ "_line", R_SKIP }, { "_error", R_SKIP } };
	size_t i;

	/* In any letter case and with spaces around, as crm-add takes its
	 * columns: "Email" from a spreadsheet is the e-mail column. */
	crm_trim(&name, &n);
	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strlen(known[i].name) == n &&
		    !strncasecmp(known[i].name, name, n))
			return known[i].role;
	return n > 0 ? R_FIELD : R_SKIP;
}

/* A field name is text: UTF-8 without control characters (crm(7)). */
static int
field_name_ok(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return crm_utf8_valid(s, n, NULL);
}

/* Roles are worked out once per header (every row of an NDJSON input
 * names its own keys, so there they are worked out per row). */
static int
roles(struct ctx *c, const struct crm_inrow *row, char *msg, size_t msglen)
{
	struct crm_map seen = { 0 };
	unsigned roleseen = 0;
	const char *key, *canon;
	uint64_t k;
	size_t i, klen;
	long line;
	int rc = 0, role;

	if (c->fmt != CRM_FMT_NDJSON && row->name == c->roles_for &&
	    row->n <= c->nroles)
		return 0;
	free(c->cols);
	if ((c->cols = calloc(row->n + 1, sizeof(*c->cols))) == NULL)
		err(EX_OSERR, NULL);
	c->roles_for = NULL;
	line = c->fmt == CRM_FMT_NDJSON ? row->line : 1;
	for (i = 0; i < row->n; i++) {
		role =
		    row->name[i] ? role_of(row->name[i], row->nlen[i]) : R_SKIP;
		c->cols[i].role = role;
		if (role == R_FIELD &&
		    !field_name_ok(row->name[i], row->nlen[i])) {
			snprintf(msg, msglen,
			    "%s:%ld: column %zu: a column name is UTF-8 text "
			    "without control characters",
			    c->inname, line, i + 1);
			rc = EX_DATAERR;
			break;
		}
		if (role == R_SKIP)
			continue;
		if (role != R_FIELD && (roleseen & 1u << role)) {
			snprintf(msg, msglen,
			    "%s:%ld: duplicate column \"%.*s\"", c->inname,
			    line, (int)row->nlen[i], row->name[i]);
			rc = EX_DATAERR;
			break;
		}
		roleseen |= 1u << role;
		/* "Amount" and "amount" are one field: a built-in field in
		 * another letter case is that field, as crm-add takes "Email"
		 * for email. */
		key = row->name[i];
		klen = row->nlen[i];
		if ((canon = crm_event_field_name(key, klen)) != NULL) {
			key = canon;
			klen = strlen(canon);
		}
		c->cols[i].name = key;
		c->cols[i].nlen = klen;
		if (crm_map_get(&seen, key, klen, &k)) {
			snprintf(msg, msglen,
			    "%s:%ld: duplicate column \"%.*s\"", c->inname,
			    line, (int)row->nlen[i], row->name[i]);
			rc = EX_DATAERR;
			break;
		}
		if (crm_map_put(&seen, key, klen, i))
			err(EX_OSERR, NULL);
	}
	crm_map_free(&seen);
	if (rc)
		return rc;
	c->roles_for = row->name;
	c->nroles = row->n;
	return 0;
}

static int
set_time(const char *v, size_t n, int64_t *ts, char *why, size_t whylen)
{
	const char *s = v;
	size_t k = n;

	crm_trim(&s, &k);
	if (k == 0) {
		snprintf(why, whylen, "ts: missing time");
		return CRM_EINVAL;
	}
	if (crm_time_parse(s, k, ts, NULL)) {
		snprintf(why, whylen, "ts: invalid time \"%.*s\"",
		    (int)(k > 64 ? 64 : k), s);
		return CRM_EINVAL;
	}
	return 0;
}

/*
 * Whether a type is one of the last few that passed
 * crm_event_type_check(): most inputs have a few types, which need not be
 * checked again on every row.
 */
static int
known_type(const struct ctx *c, const char *t, size_t n)
{
	size_t i;

	for (i = 0; i < NTYPES; i++)
		if (c->types[i].n == n && n > 0 &&
		    memcmp(c->types[i].s, t, n) == 0)
			return 1;
	return 0;
}

/* Checks the type of the row, unless it is known to pass. */
static int
check_type(struct ctx *c, char *why, size_t whylen)
{
	int rc;

	if (known_type(c, c->e.type, c->e.tlen))
		return 0;
	if ((rc = crm_event_type_check(c->cf, c->e.type, c->e.tlen, why,
		 whylen)) != 0)
		return rc;
	/* A type that passes is shorter than types[].s. */
	memcpy(c->types[c->ntypes].s, c->e.type, c->e.tlen);
	c->types[c->ntypes].n = c->e.tlen;
	c->ntypes = (c->ntypes + 1) % NTYPES;
	return 0;
}

/* Whether the type column holds a known type, white space aside: then it
 * is the type of the row, and valid UTF-8. */
static int
same_type(struct ctx *c, const char **v, size_t *n)
{
	const char *t = *v;
	size_t k = *n;

	crm_trim(&t, &k);
	if (!known_type(c, t, k))
		return 0;
	c->e.type = t;
	c->e.tlen = k;
	return 1;
}

/*
 * One field value, checked. Its normal form is most often a part of the
 * value read, which the event then borrows; one written anew (an amount)
 * is kept in c->vals, and pointed to once the row is done.
 */
static int
add_field(struct ctx *c, const struct col *col, const char *v, size_t n,
    char *why, size_t whylen)
{
	char sub[400];
	struct crm_evfield *f;

	if (c->e.n == CRM_EV_MAXFIELDS) {
		snprintf(why, whylen, "more than %d fields", CRM_EV_MAXFIELDS);
		return CRM_EINVAL;
	}
	if (crm_event_value_norm(col->name, col->nlen, &v, &n, &c->val, sub,
		sizeof(sub))) {
		snprintf(why, whylen, "%.*s: %s", (int)col->nlen, col->name,
		    sub);
		return CRM_EINVAL;
	}
	if (n == 0)
		return 0;
	f = &c->e.f[c->e.n];
	f->name = col->name;
	f->nlen = col->nlen;
	f->val = v;
	f->vlen = n;
	if (c->val.len == 0) {
		c->offs[c->e.n++] = BORROWED;
		return 0;
	}
	c->offs[c->e.n++] = c->vals.len;
	return crm_buf_add(&c->vals, c->val.p, c->val.len);
}

enum { ROW_FATAL = -100 };

/* The slot of an address in known, or the empty slot it would take. */
static struct kslot *
known_slot(const struct ctx *c, const char *k, size_t n, uint32_t h)
{
	struct kslot *s;
	size_t i;

	for (i = h & c->kmask;; i = (i + 1) & c->kmask) {
		s = &c->known[i];
		if (s->h == 0 ||
		    (s->h == h && s->n == n && memcmp(s->key, k, n) == 0))
			return s;
	}
}

/* Sets *id to the contact of an address in known, or to 0. */
static void
known_get(const struct ctx *c, const char *k, size_t n, uint32_t h,
    uint64_t *id)
{
	const struct kslot *s = known_slot(c, k, n, h);

	*id = s->h ? s->id : 0;
}

/* Keeps a stored address, for crm_index_each(). */
static int
known_put(void *arg, const char *k, size_t n, uint64_t id)
{
	struct ctx *c = arg;
	struct kslot *s;
	uint32_t h;

	if (n > KEYMAX)
		return crm_map_put(&c->remails, k, n, id);
	h = crm_map_hash(k, n);
	s = known_slot(c, k, n, h);
	s->id = id;
	s->h = h;
	s->n = (unsigned char)n;
	memcpy(s->key, k, n);
	return 0;
}

/*
 * A contact stored before this run, looked up by the reading thread in its
 * own read transaction; 0 when there is none, and the writing thread then
 * looks (contacts this run creates are only visible there).
 */
static int
known_email(struct ctx *c, const char *norm, size_t nn, uint32_t h,
    uint64_t *id)
{
	int rc;

	if (c->known != NULL && nn <= KEYMAX) {
		known_get(c, norm, nn, h, id);
		return 0;
	}
	if (crm_map_get_hashed(&c->remails, h, norm, nn, id))
		return 0;
	*id = 0;
	if (c->preloaded)
		return 0;
	rc = crm_index_get(c->rt, CRM_IDX_EMAIL, norm, nn, id);
	if (rc == CRM_ENOTFOUND) {
		*id = 0;
		return 0;
	}
	return rc ? rc : crm_map_put(&c->remails, norm, nn, *id);
}

/*
 * The contacts of a chunk's e-mail addresses, looked up in a batch: the
 * table is larger than the caches, so for a block of rows at a time every
 * row's slot is fetched (and, in remails, then every key, which needs the
 * slot), then they are looked up. The misses of the caches then overlap,
 * as many as the processor can have at once.
 */
static void
known_emails(struct ctx *c, struct chunk *k)
{
	enum { BLOCK = 128 };
	struct prow *p;
	size_t i, j, end;
	int rc;

	if (!c->preloaded && c->rt == NULL)
		return;
	for (i = 0; i < k->n; i = end) {
		end = i + BLOCK < k->n ? i + BLOCK : k->n;
		for (j = i; j < end; j++) {
			if (k->r[j].byid)
				continue;
			if (c->known != NULL)
				__builtin_prefetch(
				    &c->known[k->r[j].eh & c->kmask]);
			else
				crm_map_prefetch(&c->remails, k->r[j].eh);
		}
		for (j = i; j < end && c->known == NULL; j++)
			if (!k->r[j].byid)
				crm_map_prefetch_key(&c->remails, k->r[j].eh);
		for (j = i; j < end; j++) {
			p = &k->r[j];
			if (p->bad || p->byid)
				continue;
			if ((rc = known_email(c, k->arena.p + p->off, p->nn,
				 p->eh, &p->contact))) {
				k->fatal = crm_sysexit(rc);
				snprintf(k->msg, sizeof(k->msg), "%s",
				    crm_strerror(rc));
				k->end = 1;
				return;
			}
		}
	}
}

/*
 * The event of a row, without its contact: the reference is checked and
 * normalised into ref. Runs in the reading thread: it touches the reading
 * state of c only. ROW_FATAL: why is the whole message of a fatal error.
 */
static int
row_event(struct ctx *c, const struct crm_inrow *row, struct crm_evref *ref,
    int *refisemail, struct crm_evready *r, char *why, size_t whylen)
{
	const char *refp = NULL, *v;
	char sub[900];
	size_t i, nref = 0, n;
	int rc = 0, hasts = 0, role, typeknown = 0;

	c->e.n = 0;
	c->vals.len = 0;
	c->e.type = c->type;
	c->e.tlen = c->tlen;
	*refisemail = 0;
	if (roles(c, row, why, whylen))
		return ROW_FATAL;
	for (i = 0; rc == 0 && i < row->n; i++) {
		v = row->val[i];
		n = row->vlen[i];
		role = c->cols[i].role;
		if (role == R_FIELD) {
			rc = add_field(c, &c->cols[i], v, n, why, whylen);
			continue;
		}
		/* A time that reads, or a type known to pass, is ASCII:
		 * only one that does not is checked for UTF-8, which is the
		 * fault to name first. */
		if (role == R_TS) {
			hasts = 1;
			if ((rc = set_time(v, n, &c->e.ts, why, whylen)) == 0)
				continue;
		} else if (role == R_TYPE && same_type(c, &v, &n)) {
			typeknown = 1;
			continue;
		}
		if (role != R_SKIP && !crm_utf8_valid(v, n, NULL)) {
			snprintf(why, whylen, "%.*s: invalid UTF-8",
			    (int)row->nlen[i], row->name[i]);
			return CRM_EINVAL;
		}
		switch (role) {
		case R_EMAIL:
			if (n > 0) {
				refp = v, nref = n;
				*refisemail = 1;
			}
			break;
		case R_CONTACT:
			if (!*refisemail && n > 0)
				refp = v, nref = n;
			break;
		case R_TYPE:
			crm_trim(&v, &n);
			if (n > 0) {
				c->e.type = v;
				c->e.tlen = n;
			}
			break;
		}
	}
	if (rc == 0 && !hasts && c->ts == NULL) {
		snprintf(why, whylen, "no ts column and no --ts");
		rc = CRM_EINVAL;
	} else if (rc == 0 && !hasts)
		rc = set_time(c->ts, strlen(c->ts), &c->e.ts, why, whylen);
	if (rc == 0 && refp == NULL) {
		snprintf(why, whylen,
		    "no contact (an email or contact column)");
		rc = CRM_EINVAL;
	}
	if (rc == 0 && !typeknown)
		rc = check_type(c, why, whylen);
	for (i = 0; rc == 0 && i < c->e.n; i++)
		if (c->offs[i] != BORROWED)
			c->e.f[i].val = c->vals.p + c->offs[i];
	if (rc == 0 &&
	    (rc = crm_evlog_ref(refp, nref, ref, sub, sizeof(sub))) ==
		CRM_EINVAL)
		snprintf(why, whylen, "%s: %s",
		    *refisemail ? "email" : "contact", sub);
	if (rc == 0)
		rc = crm_evlog_prepare(c->cf, &c->lo, &c->e, &c->enc, &c->key,
		    r, why, whylen);
	return rc;
}

/* Keeps bytes in the chunk's arena; returns their offset. */
static size_t
keep(struct chunk *k, const void *p, size_t n, int *rc)
{
	size_t off = k->arena.len;

	if (crm_buf_add(&k->arena, p, n))
		*rc = CRM_ENOMEM;
	return off;
}

/* Keeps the bytes of a row's e-mail, encoding and key, one after the
 * other; returns the offset of the first. */
static size_t
keep3(struct chunk *k, const void *a, size_t an, const void *b, size_t bn,
    const void *c, size_t cn, int *rc)
{
	size_t off = k->arena.len;
	char *p;

	if (off + an + bn + cn > k->arena.cap &&
	    crm_buf_grow(&k->arena, an + bn + cn)) {
		*rc = CRM_ENOMEM;
		return off;
	}
	p = k->arena.p + off;
	if (an > 0)
		memcpy(p, a, an);
	if (bn > 0)
		memcpy(p + an, b, bn);
	if (cn > 0)
		memcpy(p + an + bn, c, cn);
	k->arena.len = off + an + bn + cn;
	return off;
}

/* A row's columns, for a reject file: n, then each name and value. */
static size_t
keep_cells(struct chunk *k, const struct crm_inrow *row, int *rc)
{
	size_t off = keep(k, &row->n, sizeof(row->n), rc), i, z = 0;

	for (i = 0; i < row->n; i++) {
		keep(k, row->name[i] ? &row->nlen[i] : &z, sizeof(size_t), rc);
		keep(k, row->name[i], row->name[i] ? row->nlen[i] : 0, rc);
		keep(k, &row->vlen[i], sizeof(size_t), rc);
		keep(k, row->val[i], row->vlen[i], rc);
	}
	return off;
}

/* Reads one row into the chunk; a fatal error ends the chunk. */
static void
prepare_row(struct ctx *c, struct chunk *k, const struct crm_inrow *row,
    const char *parse_error)
{
	struct prow *p = &k->r[k->n];
	struct crm_evready r;
	struct crm_evref ref;
	enum { AHEAD = 8 };
	char why[1024];
	int rc = 0, krc = 0, refisemail = 0;
	uint32_t eh;

	if (parse_error != NULL) {
		snprintf(why, sizeof(why), "%s", parse_error);
		rc = CRM_EINVAL;
	} else
		rc = row_event(c, row, &ref, &refisemail, &r, why, sizeof(why));
	if (rc == 0 && r.enclen > UINT32_MAX)
		rc = CRM_ETOOBIG; /* as the log would find it */
	if (rc == ROW_FATAL || (rc && rc != CRM_EINVAL)) {
		k->fatal = rc == ROW_FATAL ? EX_DATAERR : crm_sysexit(rc);
		snprintf(k->msg, sizeof(k->msg), "%s",
		    rc == ROW_FATAL ? why : crm_strerror(rc));
		k->end = 1;
		return;
	}
	/* Hashed before the row is stored: its stores to the chunk may miss
	 * the caches, and a hash that read back bytes just written would
	 * then wait for all of them. */
	eh = rc != 0 || ref.byid ? 0 : crm_map_hash(ref.norm, ref.nn);
	/* A chunk is most often cold: its rows and arena bytes a few rows on
	 * are fetched while this row is stored. (In a function of their own
	 * GCC 12 drops these as doing nothing.) */
	if (k->n + AHEAD < CHUNKROWS) {
		__builtin_prefetch(&k->r[k->n + AHEAD], 1);
		__builtin_prefetch(&k->r[k->n + AHEAD].nn, 1);
	}
	if (k->arena.len + AHEAD * ARENAROW < k->arena.cap)
		__builtin_prefetch(k->arena.p + k->arena.len + AHEAD * ARENAROW,
		    1);
	/* A bad row is cleared; a good one has every member set, which
	 * costs less than clearing it first. */
	if (rc == CRM_EINVAL)
		memset(p, 0, sizeof(*p));
	p->line = row->line;
	p->eh = eh;
	p->refisemail = (unsigned char)refisemail;
	p->cells = c->rejpath != NULL ? keep_cells(k, row, &krc) : 0;
	if (rc == CRM_EINVAL) {
		p->bad = 1;
		p->off = keep(k, why, strlen(why) + 1, &krc);
	} else {
		p->bad = 0;
		p->contact = 0;
		p->byid = (unsigned char)ref.byid;
		p->id = ref.id;
		p->nn = (uint16_t)(ref.byid ? 0 : ref.nn);
		p->off = keep3(k, ref.norm, p->nn, r.enc, r.enclen, r.key,
		    r.keylen, &krc);
		p->ts = r.ts;
		p->kind = (unsigned char)r.kind;
		p->keycol = r.keycol;
		p->enclen = (uint32_t)r.enclen;
		p->keylen = (uint16_t)r.keylen;
		p->h = r.h;
		p->amount = r.amount.v;
		p->scale = (unsigned char)r.amount.scale;
		p->kh = r.kh;
	}
	if (krc) {
		k->fatal = EX_OSERR;
		snprintf(k->msg, sizeof(k->msg), "%s", crm_strerror(krc));
		k->end = 1;
		return;
	}
	k->n++;
}

/*
 * Takes the first chunk of a list, waiting for one. The writing thread
 * wakes up now and then to see whether a signal came, so that an import
 * whose input has stalled can still be interrupted.
 */
static struct chunk *
chunk_get(struct ctx *c, struct chunk **list)
{
	struct timespec ts;
	struct chunk *k;

	pthread_mutex_lock(&c->mu);
	while (*list == NULL) {
		if (list != &c->full) {
			pthread_cond_wait(&c->cv, &c->mu);
			continue;
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&c->cv, &c->mu, &ts);
		if (crm_signal()) {
			pthread_mutex_unlock(&c->mu);
			interrupted(c);
		}
	}
	k = *list;
	*list = k->next;
	if (list == &c->full)
		c->nfull--;
	pthread_mutex_unlock(&c->mu);
	return k;
}

/*
 * A new chunk, its arena made as large as a chunk of rows most often
 * needs: grown by doubling, it was copied several times, and once past
 * the size malloc maps on its own, moved by mremap(2), which a virtual
 * machine makes dear. Pages not written to cost nothing.
 */
static struct chunk *
chunk_new(void)
{
	struct chunk *k;

	if ((k = calloc(1, sizeof(*k))) == NULL)
		return NULL;
	if ((k->r = calloc(CHUNKROWS, sizeof(*k->r))) == NULL ||
	    crm_buf_grow(&k->arena, CHUNKROWS * ARENAROW)) {
		free(k->r);
		free(k);
		return NULL;
	}
	return k;
}

/* A chunk to fill: a free one, or a new one while there are few. */
static struct chunk *
chunk_fresh(struct ctx *c)
{
	struct chunk *k = NULL;

	pthread_mutex_lock(&c->mu);
	if (c->free == NULL && c->nchunks < MAXCHUNKS)
		k = chunk_new();
	if (k != NULL)
		c->nchunks++;
	pthread_mutex_unlock(&c->mu);
	return k != NULL ? k : chunk_get(c, &c->free);
}

/*
 * Puts a chunk at the end of a list, or a free one at its start, and wakes
 * the other thread. The chunk freed last is filled next: it is the one
 * most likely still in a cache.
 */
static void
chunk_put(struct ctx *c, struct chunk **list, struct chunk *k)
{
	pthread_mutex_lock(&c->mu);
	k->next = NULL;
	if (list == &c->full)
		c->nfull++;
	while (list != &c->free && *list != NULL)
		list = &(*list)->next;
	k->next = *list;
	*list = k;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

static void
chunk_reset(struct chunk *k)
{
	k->n = 0;
	k->arena.len = 0;
	k->end = k->fatal = 0;
}

/*
 * When the input is large beside the contacts, every address is read in
 * one pass over the index, which is much faster than a lookup in the
 * store for each new address; otherwise they are looked up as they come,
 * by the reading thread. Returns whether they are to be read.
 */
static int
preload_wanted(struct ctx *c)
{
	size_t n = crm_index_count(c->t, CRM_IDX_EMAIL);

	if (c->lo.expect < 2 * n) {
		crm_map_reserve(&c->remails, c->lo.expect / 8 + 1024, 24);
		return 0;
	}
	for (c->kmask = 63; c->kmask < 2 * n; c->kmask = 2 * c->kmask + 1)
		;
	return 1;
}

/*
 * The table of every address, in memory of its own that the system has
 * zeroed, in huge pages where it can. calloc() would take it from the
 * heap, which was grown for LMDB's pages (crm_evlog_begin()), and clear
 * it there, page by page on this thread, then take more for LMDB's pages
 * later: on 10M events into 1M contacts (a 128 MB table) that cost
 * 0.3-0.9 s of an 8-10 s import. Slots start on a page, so on a line.
 */
static struct kslot *
known_new(size_t n)
{
	void *p;

	p = mmap(NULL, n * sizeof(struct kslot), PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
#ifdef MADV_HUGEPAGE
	(void)madvise(p, n * sizeof(struct kslot), MADV_HUGEPAGE);
#endif
	return p;
}

static void
known_free(struct ctx *c)
{
	if (c->known != NULL)
		munmap(c->known, (c->kmask + 1) * sizeof(struct kslot));
	c->known = NULL;
}

/*
 * Reads every stored address, in this thread while the reading thread
 * parses the first rows: their addresses are looked up once the table is
 * complete (kready), by either thread, as it has time (hand_over()). The
 * writing transaction sees the index as it was committed: it is written
 * only at the commit.
 */
static void
preload(struct ctx *c)
{
	if ((c->known = known_new(c->kmask + 1)) != NULL) {
		if (crm_index_each(c->t, CRM_IDX_EMAIL, known_put, c)) {
			crm_map_clear(&c->remails);
			known_free(c);
		} else
			c->preloaded = 1;
	}
	/* Otherwise the reading thread looks them up one by one. */
	pthread_mutex_lock(&c->mu);
	c->kready = 1;
	pthread_mutex_unlock(&c->mu);
}

/*
 * Hands a filled chunk to the writing thread. Its addresses are looked up
 * here while that thread has chunks to write; when it has none, it would
 * wait for this one, and with the table of every address complete it
 * looks them up itself. Until the table is complete they are left to it.
 */
static void
hand_over(struct ctx *c, struct chunk *k)
{
	int here;

	pthread_mutex_lock(&c->mu);
	here = c->kready &&
	    (!c->preloaded || (c->lazy >= 0 ? !c->lazy : c->nfull > 0));
	pthread_mutex_unlock(&c->mu);
	if (here)
		known_emails(c, k);
	k->resolved = here;
	chunk_put(c, &c->full, k);
}

/* The reading thread: rows to chunks, until the end or a fatal error. */
static void *
reader(void *arg)
{
	struct ctx *c = arg;
	struct crm_inrow row;
	struct chunk *k = chunk_get(c, &c->free);
	int rc = CRM_EOF;

	chunk_reset(k);
	if (crm_txn_begin(c->st, CRM_F_RDONLY, &c->rt))
		c->rt = NULL; /* then the writing thread looks up every row */
	while (!crm_signal() &&
	    ((rc = crm_in_next(c->in, &row)) == 0 || rc == CRM_EPARSE)) {
		prepare_row(c, k, &row,
		    rc == CRM_EPARSE ? crm_in_error(c->in) : NULL);
		if (k->end)
			break;
		if (k->n == CHUNKROWS) {
			hand_over(c, k);
			k = chunk_fresh(c);
			chunk_reset(k);
		}
	}
	if (!k->end && !crm_signal() && rc != CRM_EOF) {
		k->fatal = crm_sysexit(rc);
		snprintf(k->msg, sizeof(k->msg), "%s: %s", c->inname,
		    crm_in_error(c->in));
	}
	k->end = 1;
	hand_over(c, k);
	if (c->rt != NULL)
		crm_txn_abort(c->rt);
	c->rt = NULL;
	return NULL;
}

/* A kept row as the reject file wants it. */
static void
unkeep_cells(const struct chunk *k, const struct prow *p, struct crm_inrow *row,
    const char **names, const char **vals, size_t *nl, size_t *vl, size_t max)
{
	const char *q;
	size_t i, n;

	memset(row, 0, sizeof(*row));
	row->line = p->line;
	row->name = names;
	row->val = vals;
	row->nlen = nl;
	row->vlen = vl;
	if (k->arena.p == NULL)
		return;
	q = k->arena.p + p->cells;
	memcpy(&n, q, sizeof(n));
	q += sizeof(n);
	for (i = 0; i < n; i++) {
		memcpy(&nl[i < max ? i : 0], q, sizeof(size_t));
		q += sizeof(size_t);
		if (i < max)
			names[i] = q;
		q += nl[i < max ? i : 0];
		memcpy(&vl[i < max ? i : 0], q, sizeof(size_t));
		q += sizeof(size_t);
		if (i < max)
			vals[i] = q;
		q += vl[i < max ? i : 0];
	}
	row->n = n < max ? n : max;
}

static void
bad_kept(struct ctx *c, const struct chunk *k, const struct prow *p,
    const char *why)
{
	enum { MAXCOLS = 4096 };
	static const char *names[MAXCOLS], *vals[MAXCOLS];
	static size_t nl[MAXCOLS], vl[MAXCOLS];
	struct crm_inrow row;

	if (c->rejpath == NULL) {
		memset(&row, 0, sizeof(row));
		row.line = p->line;
	} else
		unkeep_cells(k, p, &row, names, vals, nl, vl, MAXCOLS);
	bad_row(c, &row, why);
}

/* Writes the rows of a chunk to the log, in the writing thread. */
/* What crm_evlog_prepare() said of a kept row. */
static void
ready(const struct chunk *k, const struct prow *p, struct crm_evready *r)
{
	memset(r, 0, sizeof(*r));
	r->ts = p->ts;
	r->kind = p->kind;
	r->keycol = p->keycol;
	r->enc = k->arena.p + p->off + p->nn;
	r->enclen = p->enclen;
	r->key = k->arena.p + p->off + p->nn + p->enclen;
	r->keylen = p->keylen;
	r->h = p->h;
	r->amount.v = p->amount;
	r->amount.scale = p->scale;
	r->kh = p->kh;
}

static void
prefetch(struct ctx *c, const struct prow *p, int stage)
{
	struct crm_evready r = { .keylen = p->keylen, .kh = p->kh };

	if (!p->bad)
		crm_evlog_prefetch(c->l, &r, stage);
}

static void
write_chunk(struct ctx *c, struct chunk *k)
{
	struct crm_evready r;
	struct crm_evref ref;
	struct prow *p;
	char why[1024], sub[900];
	uint64_t contact;
	size_t i;
	int rc, status;

	for (i = 0; i < k->n; i++) {
		if (i + 16 < k->n)
			prefetch(c, &k->r[i + 16], 0);
		if (i + 8 < k->n)
			prefetch(c, &k->r[i + 8], 1);
		p = &k->r[i];
		if (crm_signal())
			interrupted(c);
		if (p->bad) {
			bad_kept(c, k, p, k->arena.p + p->off);
			continue;
		}
		rc = 0;
		if ((contact = p->contact) == 0) {
			ref.byid = p->byid;
			ref.id = p->id;
			ref.nn = p->nn;
			memcpy(ref.norm, k->arena.p + p->off, p->nn);
			rc = crm_evlog_resolve(c->l, &ref, &contact, sub,
			    sizeof(sub));
		}
		if (rc == CRM_EINVAL)
			snprintf(why, sizeof(why), "%s: %s",
			    p->refisemail ? "email" : "contact", sub);
		if (rc == 0) {
			ready(k, p, &r);
			rc = crm_evlog_add_ready(c->l, contact, &r, &status,
			    why, sizeof(why));
		}
		if (rc == CRM_EINVAL) {
			bad_kept(c, k, p, why);
			continue;
		}
		if (rc)
			die_rc(c, rc);
		c->rows++;
		if ((c->rows & 0x3ff) == 0)
			progress(c, 0);
	}
}

static void
free_chunks(struct chunk *k)
{
	struct chunk *next;

	for (; k != NULL; k = next) {
		next = k->next;
		free(k->r);
		crm_buf_free(&k->arena);
		free(k);
	}
}

/*
 * Reads an input in a second thread, which parses and checks the rows
 * and encodes their events while this one writes them: on two cores the
 * two halves of the work overlap.
 */
static void
read_input(struct ctx *c, const char *path)
{
	struct chunk *k;
	pthread_t th;
	const char *e;
	char msg[1200];
	int rc, i, end = 0, fatal = 0;

	c->inname = path == NULL || strcmp(path, "-") == 0 ? "stdin" : path;
	/* Another input has its own header, wherever its arrays are. */
	c->roles_for = NULL;
	if ((rc = crm_in_open(path, c->fmt, &c->in, msg, sizeof(msg))) > 0)
		die(c, EX_NOINPUT, "%s", c->inname);
	if (rc)
		die(c, rc == CRM_EPARSE ? EX_DATAERR : crm_sysexit(rc), "%s",
		    msg);
	c->nchunks = NCHUNKS;
	for (i = 0; i < NCHUNKS; i++) {
		if ((k = chunk_new()) == NULL)
			err(EX_OSERR, NULL);
		chunk_put(c, &c->free, k);
	}
	/* CRM_LOG_LAZY: 1 leaves every lookup to this thread, 0 none that
	 * can be done in the other once the table is complete, for tests of
	 * both ways; otherwise it depends on timing. */
	e = getenv("CRM_LOG_LAZY");
	c->lazy = e != NULL && (*e == '0' || *e == '1') ? *e - '0' : -1;
	c->preloaded = 0;
	c->kready = !preload_wanted(c);
	if ((rc = pthread_create(&th, NULL, reader, c)))
		die(c, EX_OSERR, "cannot start a thread: %s", strerror(rc));
	if (!c->kready)
		preload(c);
	while (!end) {
		k = chunk_get(c, &c->full);
		if (!k->resolved && c->preloaded)
			known_emails(c, k);
		end = k->end;
		write_chunk(c, k);
		if ((fatal = k->fatal) != 0)
			snprintf(msg, sizeof(msg), "%s", k->msg);
		chunk_put(c, &c->free, k);
	}
	pthread_join(th, NULL);
	crm_map_free(&c->remails);
	known_free(c);
	if (fatal)
		die(c, fatal, "%s", msg);
	if (crm_signal())
		interrupted(c);
	free_chunks(c->free);
	c->free = NULL;
	crm_in_close(c->in);
	c->in = NULL;
}

/* Flag mode: the options make one row, checked like any other. */
static void
flag_mode(struct ctx *c)
{
	struct crm_inrow row = { 0 };
	const char *names[CRM_EV_MAXFIELDS + 1], *vals[CRM_EV_MAXFIELDS + 1];
	size_t nl[CRM_EV_MAXFIELDS + 1], vl[CRM_EV_MAXFIELDS + 1], i;
	char now[CRM_TIME_LEN];
	struct chunk *k;

	if (c->ts == NULL) {
		crm_time_format(c->lo.now, now);
		if ((c->ts = c->tsbuf = strdup(now)) == NULL)
			err(EX_OSERR, NULL);
	}
	names[0] = "contact";
	vals[0] = c->contact;
	for (i = 0; i < c->nflag; i++) {
		names[i + 1] = c->fname[i];
		vals[i + 1] = c->fval[i];
	}
	row.n = c->nflag + 1;
	for (i = 0; i < row.n; i++) {
		nl[i] = strlen(names[i]);
		vl[i] = strlen(vals[i]);
	}
	row.name = names;
	row.val = vals;
	row.nlen = nl;
	row.vlen = vl;
	c->inname = "arguments";
	if ((k = calloc(1, sizeof(*k))) == NULL ||
	    (k->r = calloc(1, sizeof(*k->r))) == NULL)
		err(EX_OSERR, NULL);
	prepare_row(c, k, &row, NULL);
	write_chunk(c, k);
	if (k->fatal)
		die(c, k->fatal, "%s", k->msg);
	free_chunks(k);
}

/*
 * One audit entry for the run: the contacts whose log grew, what of them
 * changed and the counts; no personal data.
 */
static int
audit(struct ctx *c)
{
	const struct crm_evlog_counts *n = crm_evlog_counts(c->l);
	struct crm_audit_info a = { .tool = "crm-log", .op = "log" };
	char num[160];
	int rc;

	snprintf(num, sizeof(num),
	    "%llu events added, %llu contacts created, %llu consent changes",
	    (unsigned long long)n->added, (unsigned long long)n->created,
	    (unsigned long long)n->consent);
	a.rows = num;
	a.fields = n->consent ? "events,statistics,email_opt_in,consent_at,"
				"consent_source" :
				"events,statistics";
	if ((rc = crm_evlog_touched(c->l, &a.ids, &a.nids)))
		return rc;
	rc = crm_audit_note(c->t, &a);
	free(a.ids);
	return rc;
}

/* About how many rows the named files hold, for sizing. */
static size_t
expect_rows(int argc, char *argv[])
{
	struct stat sb;
	size_t bytes = 0;
	int i;

	for (i = 0; i < argc; i++)
		if (strcmp(argv[i], "-") != 0 && stat(argv[i], &sb) == 0 &&
		    S_ISREG(sb.st_mode))
			bytes += (size_t)sb.st_size;
	return bytes / 64;
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
	if (rc == 0)
		rc = crm_evlog_begin(c->st, c->t, c->cf, &c->lo, &c->l);
	if (rc)
		die_rc(c, rc);
}

/* Writes the events held, then commits, unless a bad row forbids it. */
static void
finish(struct ctx *c)
{
	const struct crm_evlog_counts *n;
	char msg[80];
	int rc;

	progress(c, 1);
	if (c->nbad && c->rejpath == NULL) {
		snprintf(msg, sizeof(msg), "%ld bad row%s; nothing committed",
		    c->nbad, c->nbad == 1 ? "" : "s");
		die(c, EX_DATAERR, "%s", msg);
	}
	if (crm_signal())
		interrupted(c);
	if ((rc = crm_evlog_flush(c->l)))
		die_rc(c, rc);
	n = crm_evlog_counts(c->l);
	rc = n->added || n->created ? audit(c) : 0;
	if (rc == 0)
		rc = crm_txn_commit(c->t);
	else
		crm_txn_abort(c->t);
	c->t = NULL;
	if (rc)
		die_rc(c, rc);
	if (c->verbose || (c->flagmode && n->duplicates))
		warnx("%llu event%s added, %llu already stored, %llu contact%s "
		      "created",
		    (unsigned long long)n->added, n->added == 1 ? "" : "s",
		    (unsigned long long)n->duplicates,
		    (unsigned long long)n->created, n->created == 1 ? "" : "s");
	crm_evlog_abort(c->l);
	c->l = NULL;
}

static void
set_flag(struct ctx *c, const char *name, const char *v)
{
	char *eq, *setname = NULL;

	c->flagmode = 1;
	c->fname = realloc(c->fname, (c->nflag + 1) * sizeof(char *));
	c->fval = realloc(c->fval, (c->nflag + 1) * sizeof(char *));
	if (c->fname == NULL || c->fval == NULL)
		err(EX_OSERR, NULL);
	if (name == NULL) { /* --set name=value */
		if ((eq = strchr(v, '=')) == NULL || eq == v)
			errx(EX_USAGE, "--set wants name=value, not \"%s\"", v);
		if ((setname = strndup(v, (size_t)(eq - v))) == NULL)
			err(EX_OSERR, NULL);
		v = eq + 1;
		if (role_of(setname, strlen(setname)) != R_FIELD)
			errx(EX_USAGE, "--set %s: use its own option", setname);
		name = setname;
	}
	for (size_t i = 0; i < c->nflag; i++)
		if (strcmp(c->fname[i], name) == 0)
			errx(EX_USAGE, "field %s given twice", name);
	if (setname == NULL && (name = setname = strdup(name)) == NULL)
		err(EX_OSERR, NULL);
	c->fname[c->nflag] = (char *)name;
	c->fval[c->nflag++] = (char *)v;
}

static void
load_config(struct ctx *c)
{
	char path[4096], msg[1024];
	int rc;

	rc = crm_config_load(crm_config_path(c->cfgpath, path, sizeof(path)),
	    &c->cf, msg, sizeof(msg));
	if (rc == CRM_ECONFIG)
		errx(EX_CONFIG, "%s", msg);
	if (rc)
		errx(EX_SOFTWARE, "%s", crm_strerror(rc));
}

static void
open_store(struct ctx *c)
{
	const char *d = crm_store_path(c->db, c->dir, sizeof(c->dir));
	int rc;

	if (d != c->dir)
		snprintf(c->dir, sizeof(c->dir), "%s", d);
	if ((rc = crm_store_open(c->dir, 0, &c->st)))
		errx(crm_sysexit(rc), "%s",
		    c->st ? crm_store_error(c->st) : crm_strerror(rc));
}

static const struct option longopts[] = { { "amount", required_argument, NULL,
					      'a' },
	{ "as-of", required_argument, NULL, 'A' },
	{ "campaign", required_argument, NULL, 'P' },
	{ "channel", required_argument, NULL, 'H' },
	{ "config", required_argument, NULL, 'C' },
	{ "contact", required_argument, NULL, 'c' },
	{ "create", no_argument, NULL, 'N' },
	{ "db", required_argument, NULL, 'D' },
	{ "ext-id", required_argument, NULL, 'X' },
	{ "format", required_argument, NULL, 'F' },
	{ "help", no_argument, NULL, 'h' },
	{ "key", required_argument, NULL, 'K' },
	{ "no-wait", no_argument, NULL, 'W' },
	{ "note", required_argument, NULL, 'T' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "reject", required_argument, NULL, 'r' },
	{ "set", required_argument, NULL, 'E' },
	{ "source", required_argument, NULL, 'S' },
	{ "subject", required_argument, NULL, 'U' },
	{ "ts", required_argument, NULL, 'Z' },
	{ "type", required_argument, NULL, 't' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "version", no_argument, NULL, 'V' }, { NULL, 0, NULL, 0 } };

static void
options(struct ctx *c, int argc, char *argv[])
{
	int ch;

	while ((ch = getopt_long(argc, argv, "c:D:F:hqr:t:v", longopts,
		    NULL)) != -1) {
		switch (ch) {
		case 'a':
			set_flag(c, "amount", optarg);
			break;
		case 'A':
			if (crm_time_parse(optarg, strlen(optarg), &c->lo.now,
				NULL))
				errx(EX_USAGE, "invalid time \"%s\"", optarg);
			break;
		case 'c':
			c->contact = optarg;
			c->flagmode = 1;
			break;
		case 'C':
			c->cfgpath = optarg;
			break;
		case 'D':
			c->db = optarg;
			break;
		case 'E':
			set_flag(c, NULL, optarg);
			break;
		case 'F':
			c->fmt = crm_fmt_parse(optarg);
			if (c->fmt < 0 || c->fmt == CRM_FMT_YAML)
				errx(EX_USAGE, "unknown format \"%s\"", optarg);
			break;
		case 'h':
			usage(0);
			break;
		case 'H':
			set_flag(c, "channel", optarg);
			break;
		case 'K':
			c->lo.key_col = optarg;
			break;
		case 'N':
			c->lo.create = 1;
			break;
		case 'P':
			set_flag(c, "campaign", optarg);
			break;
		case 'q':
			c->quiet = 1;
			break;
		case 'r':
			c->rejpath = optarg;
			break;
		case 'S':
			set_flag(c, "source", optarg);
			break;
		case 't':
			c->type = optarg;
			c->tlen = strlen(optarg);
			break;
		case 'T':
			set_flag(c, "text", optarg);
			break;
		case 'U':
			set_flag(c, "subject", optarg);
			break;
		case 'v':
			c->verbose = 1;
			break;
		case 'V':
			puts("crm-log (crm) " CRM_VERSION);
			exit(0);
		case 'W':
			c->nowait = 1;
			break;
		case 'X':
			set_flag(c, "ext_id", optarg);
			break;
		case 'Z':
			c->ts = optarg;
			break;
		default:
			usage(EX_USAGE);
		}
	}
}

static void
check_options(struct ctx *c, int argc)
{
	if (c->flagmode && argc > 0)
		errx(EX_USAGE, "event options do not go with files");
	if (c->flagmode && c->contact == NULL)
		errx(EX_USAGE, "which contact? (-c id or email)");
	if (c->flagmode && c->type == NULL)
		errx(EX_USAGE, "which type of event? (-t type)");
	if (c->flagmode && c->rejpath != NULL)
		errx(EX_USAGE, "-r goes with files, not event options");
	if (c->rejpath != NULL && (c->rejfp = fopen(c->rejpath, "w")) == NULL)
		err(EX_CANTCREAT, "%s", c->rejpath);
}

int
main(int argc, char *argv[])
{
	struct ctx c = { .fmt = CRM_FMT_CSV,
		.mu = PTHREAD_MUTEX_INITIALIZER,
		.cv = PTHREAD_COND_INITIALIZER };
	int i;

	crm_tune_hugepages(argv);
	setlocale(LC_ALL, "");
	c.lo.now = (int64_t)time(NULL);
	c.lo.key_col = "order_id";
	options(&c, argc, argv);
	argc -= optind;
	argv += optind;
	check_options(&c, argc);
	load_config(&c);
	open_store(&c);
	crm_signals_catch();
	c.t0 = now_s();
	c.lo.expect = expect_rows(argc, argv);
	begin(&c);
	if (c.flagmode)
		flag_mode(&c);
	else if (argc == 0)
		read_input(&c, NULL);
	for (i = 0; i < argc; i++)
		read_input(&c, argv[i]);
	finish(&c);
	if (c.rej != NULL && crm_out_close(c.rej))
		err(EX_IOERR, "%s", c.rejpath);
	if (c.rejfp != NULL && fclose(c.rejfp))
		err(EX_IOERR, "%s", c.rejpath);
	if (c.nbad)
		warnx("%ld bad row%s written to %s", c.nbad,
		    c.nbad == 1 ? "" : "s", c.rejpath);
	crm_store_close(c.st);
	crm_config_free(c.cf);
	free(c.cols);
	crm_buf_free(&c.vals);
	crm_buf_free(&c.val);
	crm_buf_free(&c.enc);
	crm_buf_free(&c.key);
	for (i = 0; i < (int)c.nrejcols; i++)
		free(c.rejcols[i]);
	free(c.rejcols);
	while (c.nflag > 0)
		free(c.fname[--c.nflag]);
	free(c.fname);
	free(c.fval);
	free(c.tsbuf);
	return 0;
}
