/*
 * crm-check: verify a store. Records, key indexes, the event log and the
 * statistics are read in one snapshot and checked against each other
 * (lib/check.h lists the checks); every inconsistency is reported, and the
 * exit status says whether there was any. It only reads, so it may run
 * while a writer works.
 */
#include <err.h>
#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "crm.h"

#define SHOWN 100 /* problems printed before the rest are only counted */

struct ctx {
	const char *dir;
	int quiet;
	unsigned long long shown;
};

static void
usage(int status)
{
	fputs("usage: crm-check [-q] [-D dir]\n", status ? stderr : stdout);
	exit(status);
}

static void
report(void *arg, const char *msg)
{
	struct ctx *c = arg;

	if (c->shown++ < SHOWN)
		warnx("%s: %s", c->dir, msg);
}

static void
summary(const struct crm_check_counts *n)
{
	printf("%llu contacts, %llu emails, %llu ext_ids, %llu fields, "
	       "%llu events, %llu evkeys, %llu stats, %llu audit entries: "
	       "%s\n",
	    (unsigned long long)n->contacts, (unsigned long long)n->emails,
	    (unsigned long long)n->ext_ids, (unsigned long long)n->fields,
	    (unsigned long long)n->events, (unsigned long long)n->evkeys,
	    (unsigned long long)n->stats, (unsigned long long)n->audit,
	    n->problems ? "FAILED" : "ok");
}

static const struct option longopts[] = { { "db", required_argument, NULL,
					      'D' },
	{ "help", no_argument, NULL, 'h' }, { "quiet", no_argument, NULL, 'q' },
	{ "version", no_argument, NULL, 'V' }, { NULL, 0, NULL, 0 } };

int
main(int argc, char *argv[])
{
	struct ctx c = { 0 };
	struct crm_check_counts n;
	struct crm_store *st = NULL;
	struct crm_txn *t = NULL;
	const char *db = NULL;
	char buf[4096];
	int ch, rc;

	setlocale(LC_ALL, "");
	while ((ch = getopt_long(argc, argv, "D:hq", longopts, NULL)) != -1) {
		switch (ch) {
		case 'D':
			db = optarg;
			break;
		case 'h':
			usage(0);
			break;
		case 'q':
			c.quiet = 1;
			break;
		case 'V':
			puts("crm-check (crm) " CRM_VERSION);
			return 0;
		default:
			usage(EX_USAGE);
		}
	}
	if (optind < argc)
		usage(EX_USAGE);
	c.dir = crm_store_path(db, buf, sizeof(buf));
	if ((rc = crm_store_open(c.dir, CRM_F_RDONLY, &st)) ||
	    (rc = crm_txn_begin(st, CRM_F_RDONLY, &t)))
		errx(crm_sysexit(rc), "%s",
		    st ? crm_store_error(st) : crm_strerror(rc));
	if ((rc = crm_check_run(t, report, &c, &n)))
		errx(crm_sysexit(rc), "%s: check stopped: %s", c.dir,
		    crm_strerror(rc));
	if (n.problems > SHOWN)
		warnx("%s: %llu more problems not shown", c.dir,
		    (unsigned long long)(n.problems - SHOWN));
	if (!c.quiet)
		summary(&n);
	if (fflush(stdout) || ferror(stdout))
		errx(EX_IOERR, "stdout: write error");
	crm_txn_abort(t);
	crm_store_close(st);
	return n.problems ? EX_DATAERR : 0;
}
