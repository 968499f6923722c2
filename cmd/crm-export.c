/*
 * crm-export: stream the store's contacts out as CSV, TSV or NDJSON, in id
 * order, every field and the statistics included, so that crm-add can read
 * them back; or, with --events, the interaction log, which crm-log reads.
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
	int fmt, since_set, until_set, missing, events;
	int spreadsheet; /* --spreadsheet: formula cells made text */
	int64_t since, until;
	char **types;
	size_t ntypes;
	struct crm_buf fields; /* --fields, comma-separated */
	uint64_t *ids;
	size_t nids;
	char **emails;
	size_t nemails;
	struct crm_store *st;
	struct crm_txn *t;
	struct crm_out *out;
	FILE *fp;
	/* --subject: one person's data (the right of access) */
	const char *subject;
};

static void
usage(int status)
{
	fputs("usage: crm-export [-c config] [-D dir] [-F csv|tsv|ndjson] "
	      "[-o file] [--id n]...\n"
	      "                  [--email addr]... [--since time] "
	      "[--fields a,b,c] [--spreadsheet]\n"
	      "       crm-export --events [-c config] [-D dir] "
	      "[-F csv|tsv|ndjson] [-o file]\n"
	      "                  [--id n]... [--email addr]... [--type t]... "
	      "[--since time]\n"
	      "                  [--until time] [--spreadsheet]\n"
	      "       crm-export --subject contact [-c config] [-D dir] "
	      "[-o file]\n",
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

static void
add_types(struct ctx *c, const char *arg)
{
	char *s = strdup(arg), *p, *save = NULL, why[200];

	if (s == NULL)
		err(EX_OSERR, NULL);
	for (p = strtok_r(s, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		if (crm_event_type_check(NULL, p, strlen(p), why, sizeof(why)))
			errx(EX_USAGE, "%s", why);
		c->types = realloc(c->types, (c->ntypes + 1) * sizeof(char *));
		if (c->types == NULL ||
		    (c->types[c->ntypes++] = strdup(p)) == NULL)
			err(EX_OSERR, NULL);
	}
	free(s);
}

/* The statistics columns go into the record as fields of those names. */
static int
add_stats(struct ctx *c, struct crm_rec *r)
{
	struct crm_stats s;
	char v[CRM_NSTAT][32];
	size_t i;
	int rc;

	if ((rc = crm_stats_get(c->t, r->id, &s)))
		return rc;
	crm_stats_format(&s, v);
	for (i = 0; i < CRM_NSTAT; i++)
		if ((rc = crm_rec_set(r, CRM_COL_CUSTOM, crm_stat_names[i],
			 strlen(crm_stat_names[i]), v[i], strlen(v[i]))))
			return rc;
	return 0;
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

/*
 * Columns: id, the core columns, the statistics, then the custom ones.
 * --fields: every name must be one of those.
 */
static void
columns(struct ctx *c, char **custom, size_t ncustom)
{
	char *only[512], *s, *p, *save = NULL, **all;
	size_t n = 0, i;
	int rc, known;

	if (c->fields.len == 0) {
		if ((all = calloc(CRM_NSTAT + ncustom + 1, sizeof(char *))) ==
		    NULL)
			err(EX_OSERR, NULL);
		for (i = 0; i < CRM_NSTAT; i++)
			all[i] = (char *)crm_stat_names[i];
		for (i = 0; i < ncustom; i++)
			all[CRM_NSTAT + i] = custom[i];
		if ((rc = crm_out_columns(c->out, all, CRM_NSTAT + ncustom,
			 NULL, 0)))
			errx(EX_SOFTWARE, "%s", crm_strerror(rc));
		free(all);
		return;
	}
	s = c->fields.p;
	for (p = strtok_r(s, ",", &save); p && n < 512;
	     p = strtok_r(NULL, ",", &save)) {
		known = strcmp(p, "id") == 0;
		for (i = 1; !known && i < CRM_NCOL; i++)
			known = strcmp(crm_col_names[i], p) == 0;
		for (i = 0; !known && i < CRM_NSTAT; i++)
			known = strcmp(crm_stat_names[i], p) == 0;
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
			if (wanted(c, &r) &&
			    ((rc = add_stats(c, &r)) ||
				(rc = crm_out_rec(c->out, &r))))
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
			} else if (rc == 0 && wanted(c, &r) &&
			    (rc = add_stats(c, &r)) == 0)
				rc = crm_out_rec(c->out, &r);
		}
	}
	crm_rec_free(&r);
	return rc;
}

static int
type_wanted(const struct ctx *c, const struct crm_event *e)
{
	size_t i;

	if (c->ntypes == 0)
		return 1;
	for (i = 0; i < c->ntypes; i++)
		if (strlen(c->types[i]) == e->tlen &&
		    memcmp(c->types[i], e->type, e->tlen) == 0)
			return 1;
	return 0;
}

/*
 * Visits the selected events in key order (contact, then time): of the
 * contacts named, or of all. fn returns nonzero to stop.
 */
static int
each_event(struct ctx *c,
    int (*fn)(struct ctx *, const struct crm_event *, void *), void *arg)
{
	struct crm_evit *it;
	struct crm_event e;
	int64_t from = c->since_set ? c->since : INT64_MIN;
	int64_t to = c->until_set ? c->until : INT64_MAX;
	size_t i = 0;
	int rc = 0;

	do {
		if (c->nids > 0 && i > 0 && c->ids[i] == c->ids[i - 1])
			continue;
		if ((rc = crm_evit_open(c->t, c->nids ? c->ids[i] : 0, from, to,
			 0, &it)))
			return rc;
		while ((rc = crm_evit_next(it, &e)) == 0)
			if (type_wanted(c, &e) && (rc = fn(c, &e, arg)))
				break;
		crm_evit_close(it);
		if (rc != CRM_EOF)
			return rc;
		rc = 0;
	} while (++i < c->nids);
	return rc;
}

/* The first pass: the names of the fields, in order of first sight. */
static int
note_names(struct ctx *c, const struct crm_event *e, void *arg)
{
	struct crm_map *m = arg;
	uint64_t x;
	size_t i;
	int rc;

	(void)c;
	for (i = 0; i < e->n; i++)
		if (!crm_map_get(m, e->f[i].name, e->f[i].nlen, &x) &&
		    (rc = crm_map_put(m, e->f[i].name, e->f[i].nlen, m->n)))
			return rc;
	return 0;
}

/* The columns: id, contact, email, ts, type, then the fields of the
 * selected events (none when the selection names no contact). */
static int
event_columns(struct ctx *c, int none)
{
	static char *fixed[] = { "id", "contact", "email", "ts", "type" };
	struct crm_map m = { 0 };
	char **names;
	const char *k;
	size_t i = 0, n, kl;
	uint64_t v;
	int rc;

	if (!none && (rc = each_event(c, note_names, &m)))
		return rc;
	if ((names = calloc(m.n + 5, sizeof(char *))) == NULL)
		return CRM_ENOMEM;
	for (n = 0; n < 5; n++)
		names[n] = fixed[n];
	while (crm_map_each(&m, &i, &k, &kl, &v))
		if ((names[5 + v] = strndup(k, kl)) == NULL)
			rc = CRM_ENOMEM;
	if (rc == 0)
		rc = crm_out_names(c->out, names, m.n + 5);
	for (i = 5; i < m.n + 5; i++)
		free(names[i]);
	free(names);
	crm_map_free(&m);
	return rc;
}

struct evout {
	struct crm_rec r, contact;
	uint64_t last; /* the contact whose e-mail is in contact */
};

static int
put_event(struct ctx *c, const struct crm_event *e, void *arg)
{
	struct evout *o = arg;
	char num[24], ts[CRM_TIME_LEN];
	const char *email = NULL;
	size_t i, n = 0;
	int rc;

	if (o->last != e->contact) {
		if ((rc = crm_contact_get(c->t, e->contact, &o->contact)) &&
		    rc != CRM_ENOTFOUND)
			return rc;
		/* A tombstone of crm-forget has no contact: no e-mail, and
		 * never the previous contact's. */
		if (rc == CRM_ENOTFOUND)
			crm_rec_clear(&o->contact);
		o->last = e->contact;
	}
	email = crm_rec_get(&o->contact, CRM_COL_EMAIL, NULL, 0, &n);
	crm_rec_clear(&o->r);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)e->id);
	rc = crm_rec_set(&o->r, CRM_COL_CUSTOM, "id", 2, num, strlen(num));
	snprintf(num, sizeof(num), "%llu", (unsigned long long)e->contact);
	rc |=
	    crm_rec_set(&o->r, CRM_COL_CUSTOM, "contact", 7, num, strlen(num));
	if (email != NULL)
		rc |= crm_rec_set(&o->r, CRM_COL_CUSTOM, "email", 5, email, n);
	crm_time_format(e->ts, ts);
	rc |= crm_rec_set(&o->r, CRM_COL_CUSTOM, "ts", 2, ts, strlen(ts));
	rc |= crm_rec_set(&o->r, CRM_COL_CUSTOM, "type", 4, e->type, e->tlen);
	for (i = 0; i < e->n; i++)
		rc |= crm_rec_set(&o->r, CRM_COL_CUSTOM, e->f[i].name,
		    e->f[i].nlen, e->f[i].val, e->f[i].vlen);
	return rc ? CRM_ENOMEM : crm_out_rec(c->out, &o->r);
}

/*
 * The selected ids that name no contact are reported, as for contacts, and
 * dropped: an event log has nothing to say about them.
 */
static int
known_ids(struct ctx *c)
{
	struct crm_rec r;
	size_t i, n = 0;
	int rc = 0;

	crm_rec_init(&r);
	for (i = 0; rc == 0 && i < c->nids; i++) {
		if (i > 0 && c->ids[i] == c->ids[i - 1])
			continue;
		if ((rc = crm_contact_get(c->t, c->ids[i], &r)) ==
		    CRM_ENOTFOUND) {
			warnx("no contact with id %llu",
			    (unsigned long long)c->ids[i]);
			c->missing = 1;
			rc = 0;
		} else if (rc == 0)
			c->ids[n++] = c->ids[i];
	}
	c->nids = n;
	crm_rec_free(&r);
	return rc;
}

/* Events: a first pass finds the columns, the second writes the rows. */
static int
export_events(struct ctx *c)
{
	struct evout o = { .last = 0 };
	int rc, selected = c->nids > 0 || c->nemails > 0, none;

	select_ids(c);
	if ((rc = known_ids(c)))
		return rc;
	none = selected && c->nids == 0;
	crm_rec_init(&o.r);
	crm_rec_init(&o.contact);
	if ((rc = event_columns(c, none)) == 0 &&
	    (rc = crm_out_header(c->out)) == 0 && !none)
		rc = each_event(c, put_event, &o);
	crm_rec_free(&o.r);
	crm_rec_free(&o.contact);
	return rc;
}

/* Nothing here depends on the config yet, but a broken one is reported by
 * every tool alike. */
/*
 * --subject: everything stored about one person (the right of access) as
 * NDJSON, written by lib/hygiene.c. The contact is an id (merged ids
 * followed) or an e-mail.
 */
static int
export_subject(struct ctx *c)
{
	struct crm_buf b = { 0 };
	uint64_t id;
	int rc;

	rc = crm_contact_find(c->t, c->subject, strlen(c->subject), &id);
	if (rc == CRM_EINVAL)
		errx(EX_USAGE, "--subject: not an id or an email: \"%s\"",
		    c->subject);
	if (rc == CRM_ENOTFOUND)
		errx(1, "no contact \"%s\"", c->subject);
	if (rc == 0 && (rc = crm_subject_write(c->t, id, &b)) == 0 &&
	    fwrite(b.p, 1, b.len, c->fp) != b.len)
		rc = CRM_EIO;
	crm_buf_free(&b);
	return rc;
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

static const struct option longopts[] = { { "config", required_argument, NULL,
					      'c' },
	{ "db", required_argument, NULL, 'D' },
	{ "email", required_argument, NULL, 'E' },
	{ "events", no_argument, NULL, 'e' },
	{ "fields", required_argument, NULL, 'f' },
	{ "format", required_argument, NULL, 'F' },
	{ "help", no_argument, NULL, 'h' },
	{ "id", required_argument, NULL, 'I' },
	{ "output", required_argument, NULL, 'o' },
	{ "since", required_argument, NULL, 'S' },
	{ "spreadsheet", no_argument, NULL, 'X' },
	{ "subject", required_argument, NULL, 'j' },
	{ "type", required_argument, NULL, 't' },
	{ "until", required_argument, NULL, 'U' },
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
		case 'e':
			c.events = 1;
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
		case 'j':
			c.subject = optarg;
			break;
		case 't':
			add_types(&c, optarg);
			break;
		case 'U':
			if (crm_time_parse(optarg, strlen(optarg), &c.until,
				NULL))
				errx(EX_USAGE, "invalid time \"%s\"", optarg);
			c.until_set = 1;
			break;
		case 'V':
			puts("crm-export (crm) " CRM_VERSION);
			return 0;
		case 'X':
			c.spreadsheet = 1;
			break;
		default:
			usage(EX_USAGE);
		}
	}
	if (optind < argc)
		usage(EX_USAGE);
	if (!c.events && (c.ntypes || c.until_set))
		errx(EX_USAGE, "--type and --until go with --events");
	if (c.events && c.fields.len)
		errx(EX_USAGE, "--fields goes with contacts, not --events");
	if (c.subject != NULL &&
	    (c.events || c.fields.len || c.nids || c.nemails || c.since_set ||
		(c.fmt != CRM_FMT_CSV && c.fmt != CRM_FMT_NDJSON)))
		errx(EX_USAGE,
		    "--subject writes NDJSON and takes no selection");
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
	crm_out_safe(c.out, c.spreadsheet);
	if (c.subject != NULL)
		rc = export_subject(&c);
	else if (c.events)
		rc = export_events(&c);
	else {
		columns(&c, custom, ncustom);
		if ((rc = crm_out_header(c.out)) == 0)
			rc = export(&c);
	}
	if (rc == CRM_EIO || crm_out_close(c.out) || fclose(c.fp))
		errx(EX_IOERR, "%s: write error",
		    c.outpath ? c.outpath : "stdout");
	if (rc)
		errx(crm_sysexit(rc), "%s", crm_strerror(rc));
	crm_txn_abort(c.t);
	crm_fields_free(custom, ncustom);
	crm_store_close(c.st);
	free(c.ids);
	while (c.ntypes > 0)
		free(c.types[--c.ntypes]);
	free(c.types);
	while (c.nemails > 0)
		free(c.emails[--c.nemails]);
	free(c.emails);
	crm_buf_free(&c.fields);
	return c.missing;
}
