/*
 * crm-forget: erase people (the right to erasure). The contact, its
 * events, statistics, index keys and merged ids go in one transaction;
 * only what the config's privacy section allows stays, anonymised under a
 * tombstone id. Then the store's file is rewritten with its live pages
 * only (crm_store_scrub()), so that no freed page keeps the erased bytes.
 * --inactive-since erases, for a cron job, the contacts with no activity
 * since a time and no consent.
 */
#include <err.h>
#include <getopt.h>
#include <locale.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "crm.h"

struct ctx {
	const char *db, *cfgpath;
	int nowait, verbose, dry, scrub_only, retain_set;
	int64_t since; /* --inactive-since */
	struct crm_store *st;
	struct crm_txn *t;
	struct crm_privacy priv;
	uint64_t *ids;
	size_t nids;
	long nbad;
};

static void
usage(int status)
{
	fputs("usage: crm-forget [-nv] [-c config] [-D dir] [--no-wait] "
	      "contact ...\n"
	      "       crm-forget [-nv] [-c config] [-D dir] [--no-wait] "
	      "--inactive-since time\n"
	      "       crm-forget [-D dir] [--no-wait] --scrub\n",
	    status ? stderr : stdout);
	exit(status);
}

static void
die_rc(struct ctx *c, int rc)
{
	if (c->t != NULL)
		crm_txn_abort(c->t);
	errx(crm_sysexit(rc), "%s",
	    rc == CRM_ESTORE || rc == CRM_EFULL || rc == CRM_EIO ||
		    rc == CRM_EBUSY ?
		crm_store_error(c->st) :
		crm_strerror(rc));
}

static void
note_id(struct ctx *c, uint64_t id)
{
	size_t i;

	for (i = 0; i < c->nids; i++)
		if (c->ids[i] == id)
			return;
	if ((c->ids = realloc(c->ids, (c->nids + 1) * sizeof(*c->ids))) == NULL)
		err(EX_OSERR, NULL);
	c->ids[c->nids++] = id;
}

/* The contacts named; an unknown one is an error and erases nothing. */
static void
named(struct ctx *c, int argc, char *argv[])
{
	uint64_t id;
	int i, rc;

	for (i = 0; i < argc; i++) {
		rc = crm_contact_find(c->t, argv[i], strlen(argv[i]), &id);
		if (rc == CRM_EINVAL || rc == CRM_ENOTFOUND) {
			warnx("%s: \"%s\"",
			    rc == CRM_EINVAL ? "not an id or an email" :
					       "no contact",
			    argv[i]);
			c->nbad++;
		} else if (rc)
			die_rc(c, rc);
		else
			note_id(c, id);
	}
}

/* The time of a contact's last activity: its last event, else its last
 * change. */
static int64_t
last_activity(struct ctx *c, const struct crm_rec *r)
{
	struct crm_stats s;
	const char *v;
	int64_t t = CRM_TIME_NONE;
	int rc;

	if ((rc = crm_stats_get(c->t, r->id, &s)))
		die_rc(c, rc);
	if (s.last_seen != CRM_TIME_NONE)
		t = s.last_seen;
	if (((v = crm_rec_get(r, CRM_COL_UPDATED_AT, NULL, 0, NULL)) ||
		(v = crm_rec_get(r, CRM_COL_CREATED_AT, NULL, 0, NULL))) &&
	    crm_time_parse(v, strlen(v), &s.first_seen, NULL) == 0 &&
	    s.first_seen > t)
		t = s.first_seen;
	return t;
}

/* Retention: no activity since c->since and no consent to keep it. */
static void
inactive(struct ctx *c)
{
	struct crm_iter *it;
	struct crm_rec r;
	const char *v;
	int rc;

	crm_rec_init(&r);
	if ((rc = crm_iter_open(c->t, &it)))
		die_rc(c, rc);
	while ((rc = crm_iter_next(it, &r)) == 0) {
		v = crm_rec_get(&r, CRM_COL_EMAIL_OPT_IN, NULL, 0, NULL);
		if (v != NULL && strcmp(v, "true") == 0)
			continue;
		if (last_activity(c, &r) < c->since)
			note_id(c, r.id);
	}
	crm_iter_close(it);
	crm_rec_free(&r);
	if (rc != CRM_EOF)
		die_rc(c, rc);
}

static void
begin(struct ctx *c)
{
	int rc = crm_txn_begin(c->st, CRM_F_NOWAIT, &c->t);

	if (rc == CRM_EBUSY && !c->nowait) {
		warnx("store is busy, waiting for the lock");
		rc = crm_txn_begin(c->st, 0, &c->t);
	}
	if (rc)
		die_rc(c, rc);
}

static void
erase(struct ctx *c)
{
	struct crm_audit_info a = { "crm-forget", "forget", c->ids, c->nids,
		NULL, NULL };
	struct crm_forget_result res;
	char rows[160];
	int rc;

	if ((rc = crm_forget(c->t, c->ids, c->nids, &c->priv, &res)))
		die_rc(c, rc);
	/* Counts and ids only: the audit log keeps nothing erased. */
	snprintf(rows, sizeof(rows),
	    "%llu contacts erased, %llu events erased, %llu kept anonymised",
	    (unsigned long long)res.contacts, (unsigned long long)res.events,
	    (unsigned long long)res.kept);
	a.rows = rows;
	a.op = c->retain_set ? "retention" : "forget";
	if ((rc = crm_audit_note(c->t, &a)))
		die_rc(c, rc);
	if (crm_signal()) {
		crm_txn_abort(c->t);
		warnx("interrupted; nothing erased");
		crm_signal_reraise();
	}
	rc = crm_txn_commit(c->t);
	c->t = NULL;
	if (rc)
		die_rc(c, rc);
	if (c->verbose)
		warnx("%s", rows);
}

static void
scrub(struct ctx *c)
{
	int rc = crm_store_scrub(c->st, CRM_F_NOWAIT);

	if (rc == CRM_EBUSY && !c->nowait) {
		warnx("waiting for other processes to close the store");
		rc = crm_store_scrub(c->st, 0);
	}
	if (rc == CRM_EBUSY)
		errx(EX_TEMPFAIL,
		    "%s; erased, but freed pages keep the old bytes until "
		    "crm-forget --scrub runs",
		    crm_store_error(c->st));
	if (rc)
		die_rc(c, rc);
}

static void
load_config(struct ctx *c)
{
	struct crm_config *cf;
	char path[4096], msg[1024];
	int rc;

	rc = crm_config_load(crm_config_path(c->cfgpath, path, sizeof(path)),
	    &cf, msg, sizeof(msg));
	if (rc == 0)
		rc = crm_privacy_load(cf, &c->priv, msg, sizeof(msg));
	if (rc == CRM_ECONFIG)
		errx(EX_CONFIG, "%s", msg);
	if (rc)
		errx(EX_SOFTWARE, "%s", crm_strerror(rc));
	crm_config_free(cf);
}

static const struct option longopts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "db", required_argument, NULL, 'D' },
	{ "dry-run", no_argument, NULL, 'n' },
	{ "help", no_argument, NULL, 'h' },
	{ "inactive-since", required_argument, NULL, 'I' },
	{ "no-wait", no_argument, NULL, 'W' },
	{ "scrub", no_argument, NULL, 'S' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static void
options(struct ctx *c, int argc, char *argv[])
{
	int ch;

	while (
	    (ch = getopt_long(argc, argv, "c:D:hnv", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			c->cfgpath = optarg;
			break;
		case 'D':
			c->db = optarg;
			break;
		case 'h':
			usage(0);
			break;
		case 'I':
			if (crm_time_parse(optarg, strlen(optarg), &c->since,
				NULL))
				errx(EX_USAGE, "invalid time \"%s\"", optarg);
			c->retain_set = 1;
			break;
		case 'n':
			c->dry = 1;
			break;
		case 'S':
			c->scrub_only = 1;
			break;
		case 'v':
			c->verbose = 1;
			break;
		case 'V':
			puts("crm-forget (crm) " CRM_VERSION);
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
	struct ctx c = { 0 };
	char dir[4096];
	size_t i;
	int rc;

	setlocale(LC_ALL, "");
	options(&c, argc, argv);
	argc -= optind;
	argv += optind;
	if ((c.scrub_only && (argc || c.retain_set || c.dry)) ||
	    (!c.scrub_only && (argc > 0) == c.retain_set))
		usage(EX_USAGE);
	load_config(&c);
	crm_signals_catch();
	rc = crm_store_open(crm_store_path(c.db, dir, sizeof(dir)),
	    c.dry ? CRM_F_RDONLY : 0, &c.st);
	if (rc)
		errx(crm_sysexit(rc), "%s", crm_store_error(c.st));
	if (!c.scrub_only) {
		begin(&c);
		if (c.retain_set)
			inactive(&c);
		else
			named(&c, argc, argv);
		if (c.nbad) {
			crm_txn_abort(c.t);
			errx(EX_DATAERR, "nothing erased");
		}
		for (i = 0; c.dry && i < c.nids; i++)
			printf("%llu\n", (unsigned long long)c.ids[i]);
		if (c.dry)
			crm_txn_abort(c.t);
		else if (c.nids)
			erase(&c);
		else
			crm_txn_abort(c.t);
		c.t = NULL;
	}
	if (!c.dry && (c.nids || c.scrub_only))
		scrub(&c);
	if (fflush(stdout) || ferror(stdout))
		errx(EX_IOERR, "stdout: write error");
	crm_store_close(c.st);
	crm_privacy_free(&c.priv);
	free(c.ids);
	return 0;
}
