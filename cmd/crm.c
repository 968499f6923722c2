/*
 * crm: the front. "crm add ..." runs crm-add from the directory of this
 * program, else from PATH; "crm help" lists the tools.
 */
#include <err.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

static const struct {
	const char *name, *what;
} tools[] = {
	{ "add", "create or update contacts (upsert by id, ext_id, email)" },
	{ "audit", "list the audit log: who changed what, when" },
	{ "check", "verify that the store is consistent" },
	{ "export", "stream contacts or events out as CSV, TSV or NDJSON" },
	{ "forget", "erase a person, or inactive contacts (retention)" },
	{ "log", "append interactions (events) to the log" },
	{ "merge", "find likely duplicate contacts, merge them" },
	{ "report", "KPIs, time series, cohorts, pipeline, service, surveys" },
	{ "score", "RFM, lead scores and customer lifetime value" },
	{ "segment", "filter, label, count or split rows; campaign lists" },
	{ "show", "one contact at a glance: fields, statistics, timeline" },
};

#define NTOOLS (sizeof(tools) / sizeof(tools[0]))

static void
usage(int status)
{
	fputs("usage: crm tool [argument ...]\n"
	      "       crm help [tool]\n"
	      "       crm --version\n",
	    status ? stderr : stdout);
	exit(status);
}

static void
help(void)
{
	size_t i;

	puts("usage: crm tool [argument ...]\n\ntools:");
	for (i = 0; i < NTOOLS; i++)
		printf("  %-8s %s\n", tools[i].name, tools[i].what);
	puts("\n\"crm help tool\" shows the usage of one tool; "
	     "man crm-tool has the rest.");
}

/* Runs crm-NAME from this program's directory if it is there, else PATH. */
static void
run(const char *name, char *argv[])
{
	char self[PATH_MAX], path[PATH_MAX + 160], prog[128], *slash;
	ssize_t n;

	snprintf(prog, sizeof(prog), "crm-%s", name);
	argv[0] = prog;
	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			*slash = '\0';
			snprintf(path, sizeof(path), "%s/%s", self, prog);
			if (access(path, X_OK) == 0)
				execv(path, argv);
		}
	}
	execvp(prog, argv);
	err(EX_UNAVAILABLE, "%s", prog);
}

static int
known(const char *name)
{
	size_t i;

	for (i = 0; i < NTOOLS; i++)
		if (strcmp(tools[i].name, name) == 0)
			return 1;
	return 0;
}

int
main(int argc, char *argv[])
{
	char *hargv[] = { NULL, "--help", NULL };

	if (argc < 2)
		usage(EX_USAGE);
	if (strcmp(argv[1], "--version") == 0) {
		puts("crm (crm) " CRM_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)
		usage(0);
	if (strcmp(argv[1], "help") == 0) {
		if (argc < 3) {
			help();
			return 0;
		}
		if (!known(argv[2]))
			errx(EX_USAGE, "unknown tool \"%s\"; see crm help",
			    argv[2]);
		run(argv[2], hargv);
	}
	if (!known(argv[1]))
		errx(EX_USAGE, "unknown tool \"%s\"; see crm help", argv[1]);
	run(argv[1], argv + 1);
	return EX_SOFTWARE;
}
