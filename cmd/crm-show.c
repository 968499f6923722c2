/*
 * crm-show: one contact at a glance, for a person at a terminal: fields,
 * statistics, consent, open deals and cases, and the latest events as a
 * timeline; -F json gives the same as one JSON object for machines.
 */
#include <err.h>
#include <getopt.h>
#include <limits.h>
#include <locale.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "crm.h"

#define MAXOPEN 256 /* open deals or cases shown */

/* A deal or a case, as its latest event left it. */
struct thread {
	char id[64], state[64], amount[32];
	int64_t since, at;
	int open;
};

struct ctx {
	const char *db, *cfgpath;
	int json;
	long last;
	struct crm_store *st;
	struct crm_txn *t;
	struct crm_rec r;
	struct crm_stats s;
	struct thread deals[MAXOPEN], cases[MAXOPEN];
	size_t ndeals, ncases;
	struct crm_buf b;
};

static void
usage(int status)
{
	fputs("usage: crm-show [-c config] [-D dir] [-F text|json] [-n events] "
	      "contact\n",
	    status ? stderr : stdout);
	exit(status);
}

static void
copy(char *dst, size_t len, const char *s, size_t n)
{
	if (n >= len)
		n = len - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

/* The thread of id in v, made if new (up to MAXOPEN). */
static struct thread *
thread_of(struct thread *v, size_t *n, const char *id, size_t idlen)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (strlen(v[i].id) == idlen && memcmp(v[i].id, id, idlen) == 0)
			return &v[i];
	if (*n == MAXOPEN)
		return NULL;
	memset(&v[*n], 0, sizeof(v[*n]));
	v[*n].since = CRM_TIME_NONE;
	copy(v[*n].id, sizeof(v[*n].id), id, idlen);
	return &v[(*n)++];
}

/* Whether s holds word, in any case. */
static int
has_word(const char *s, const char *word)
{
	size_t i, n = strlen(word);

	for (; *s; s++) {
		for (i = 0; i < n && s[i] != '\0'; i++)
			if ((s[i] | 0x20) != word[i])
				break;
		if (i == n)
			return 1;
	}
	return 0;
}

/*
 * A deal is open until its stage says won, lost or closed, in any case:
 * "closed_won" and "Closed Lost" (the usual names of sales tools) alike.
 */
static int
deal_open(const char *stage)
{
	return !has_word(stage, "won") && !has_word(stage, "lost") &&
	    !has_word(stage, "closed");
}

static void
follow(struct ctx *c, const struct crm_event *e)
{
	int type = crm_evtype_lookup(e->type, e->tlen);
	struct thread *th;
	const char *id, *v;
	size_t n, vn;

	if (type == CRM_EV_DEAL && (id = crm_event_get(e, "deal_id", &n))) {
		if ((th = thread_of(c->deals, &c->ndeals, id, n)) == NULL)
			return;
		if (th->since == CRM_TIME_NONE)
			th->since = e->ts;
		th->at = e->ts;
		if ((v = crm_event_get(e, "stage", &vn)))
			copy(th->state, sizeof(th->state), v, vn);
		if ((v = crm_event_get(e, "amount", &vn)))
			copy(th->amount, sizeof(th->amount), v, vn);
		th->open = deal_open(th->state);
	} else if ((type == CRM_EV_TICKET_OPEN ||
		       type == CRM_EV_TICKET_CLOSE) &&
	    (id = crm_event_get(e, "case_id", &n))) {
		if ((th = thread_of(c->cases, &c->ncases, id, n)) == NULL)
			return;
		if (type == CRM_EV_TICKET_OPEN)
			th->since = e->ts;
		th->at = e->ts;
		th->open = type == CRM_EV_TICKET_OPEN;
		if ((v = crm_event_get(e, "priority", &vn)))
			copy(th->state, sizeof(th->state), v, vn);
	}
}

/* Deals and cases need the whole timeline, oldest first. */
static int
threads(struct ctx *c)
{
	struct crm_evit *it;
	struct crm_event e;
	int rc;

	if ((rc = crm_evit_open(c->t, c->r.id, INT64_MIN, INT64_MAX, 0, &it)))
		return rc;
	while ((rc = crm_evit_next(it, &e)) == 0)
		follow(c, &e);
	crm_evit_close(it);
	return rc == CRM_EOF ? 0 : rc;
}

static int
find(struct ctx *c, const char *ref)
{
	char norm[256];
	uint64_t id;
	size_t n;
	int rc;

	if (strchr(ref, '@') == NULL) {
		if (crm_id_parse(ref, strlen(ref), &id))
			errx(EX_USAGE, "not an id or an email: \"%s\"", ref);
	} else if (strlen(ref) >= sizeof(norm) ||
	    crm_email_norm(ref, strlen(ref), norm, &n))
		errx(EX_USAGE, "invalid email \"%s\"", ref);
	else if ((rc = crm_index_get(c->t, CRM_IDX_EMAIL, norm, n, &id)))
		return rc;
	/* An id merged into another contact (crm-merge) shows that one. */
	if ((rc = crm_contact_resolve(c->t, id, &id)))
		return rc;
	return crm_contact_get(c->t, id, &c->r);
}

/*
 * Writes at most max bytes of s for a terminal: a control character (a
 * line end, an escape) becomes a space, and a cut never splits a UTF-8
 * character.
 */
static void
put_text(const char *s, size_t n, size_t max)
{
	size_t i;

	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	for (i = 0; i < n; i++)
		putchar(
		    (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? ' ' : s[i]);
}

/* put_text() of a whole string, padded with spaces to width bytes. */
static void
put_pad(const char *s, size_t width)
{
	size_t n = strlen(s);

	put_text(s, n, SIZE_MAX);
	for (; n < width; n++)
		putchar(' ');
}

static const char *
field(const struct ctx *c, int col)
{
	const char *v = crm_rec_get(&c->r, col, NULL, 0, NULL);

	return v ? v : "";
}

static void
text_head(struct ctx *c)
{
	const char *first = field(c, CRM_COL_FIRST_NAME);
	const char *last = field(c, CRM_COL_LAST_NAME);
	const char *nm, *v;
	size_t i, nl, vl;
	int col;

	put_text(first, strlen(first), SIZE_MAX);
	fputs(*first && *last ? " " : "", stdout);
	put_text(last, strlen(last), SIZE_MAX);
	printf("%s<%s>  (id %llu)\n", *first || *last ? " " : "",
	    field(c, CRM_COL_EMAIL), (unsigned long long)c->r.id);
	for (i = 0; i < c->r.n; i++) {
		nm = crm_rec_name(&c->r, i, &nl);
		col = c->r.f[i].col;
		if (col == CRM_COL_EMAIL || col == CRM_COL_FIRST_NAME ||
		    col == CRM_COL_LAST_NAME || col == CRM_COL_EMAIL_OPT_IN ||
		    col == CRM_COL_CONSENT_AT || col == CRM_COL_CONSENT_SOURCE)
			continue;
		printf("  %-16.*s ", (int)nl, nm);
		v = crm_rec_val(&c->r, i, &vl);
		put_text(v, vl, SIZE_MAX);
		putchar('\n');
	}
}

static void
text_stats(struct ctx *c)
{
	char v[CRM_NSTAT][32];
	const char *optin = field(c, CRM_COL_EMAIL_OPT_IN);

	crm_stats_format(&c->s, v);
	printf("\nActivity\n  %s events", v[2]);
	if (c->s.events)
		printf(", first %s, last %s", v[0], v[1]);
	printf("\n  %s purchases on %s days, revenue %s", v[5], v[6], v[7]);
	if (c->s.purchases)
		printf(", first %s, last %s", v[3], v[4]);
	printf("\n\nConsent\n  email: %s",
	    *optin == '\0'                 ? "not asked" :
		strcmp(optin, "true") == 0 ? "opted in" :
					     "opted out");
	if (*field(c, CRM_COL_CONSENT_AT))
		printf(" since %s", field(c, CRM_COL_CONSENT_AT));
	if (*field(c, CRM_COL_CONSENT_SOURCE))
		printf(" (%s)", field(c, CRM_COL_CONSENT_SOURCE));
	putchar('\n');
}

static void
text_threads(const char *title, struct thread *v, size_t n, const char *what)
{
	char since[CRM_TIME_LEN];
	size_t i, shown = 0;

	for (i = 0; i < n; i++) {
		if (!v[i].open)
			continue;
		if (shown++ == 0)
			printf("\n%s\n", title);
		crm_time_format(v[i].since, since);
		fputs("  ", stdout);
		put_pad(v[i].id, 12);
		printf(" %s ", what);
		put_pad(v[i].state[0] ? v[i].state : "-", 12);
		if (v[i].amount[0]) {
			fputs(" amount ", stdout);
			put_text(v[i].amount, strlen(v[i].amount), SIZE_MAX);
		}
		printf(" since %s\n", since);
	}
}

static int
text_event(struct ctx *c, const struct crm_event *e)
{
	char ts[CRM_TIME_LEN];
	size_t i;

	(void)c;
	crm_time_format(e->ts, ts);
	printf("  %.10s %.5s  %-12.*s", ts, ts + 11, (int)e->tlen, e->type);
	for (i = 0; i < e->n; i++) {
		putchar(' ');
		put_text(e->f[i].name, e->f[i].nlen, SIZE_MAX);
		putchar('=');
		put_text(e->f[i].val, e->f[i].vlen, 60);
	}
	putchar('\n');
	return 0;
}

/* The latest events, newest first. */
static int
timeline(struct ctx *c, int (*fn)(struct ctx *, const struct crm_event *))
{
	struct crm_evit *it;
	struct crm_event e;
	long n = 0;
	int rc;

	if ((rc = crm_evit_open(c->t, c->r.id, INT64_MIN, INT64_MAX, 1, &it)))
		return rc;
	while (n < c->last && (rc = crm_evit_next(it, &e)) == 0) {
		fn(c, &e);
		n++;
	}
	crm_evit_close(it);
	return rc == CRM_EOF || rc == 0 ? 0 : rc;
}

static int
show_text(struct ctx *c)
{
	text_head(c);
	text_stats(c);
	text_threads("Open deals", c->deals, c->ndeals, "stage");
	text_threads("Open cases", c->cases, c->ncases, "priority");
	if (c->s.events == 0 || c->last == 0)
		return 0;
	printf("\nLatest events\n");
	return timeline(c, text_event);
}

static void
jkey(struct ctx *c, const char *k, int first)
{
	crm_buf_adds(&c->b, first ? "" : ",");
	crm_json_str(&c->b, k, strlen(k));
	crm_buf_addc(&c->b, ':');
}

static void
jstr(struct ctx *c, const char *k, const char *v, size_t n, int first)
{
	jkey(c, k, first);
	crm_json_str(&c->b, v, n);
}

/* A contact's value as crm-export -F ndjson writes it: email_opt_in a
 * boolean, tags an array of strings, anything else a string. */
static void
json_value(struct ctx *c, int col, const char *v, size_t n)
{
	struct crm_buf item = { 0 };
	size_t pos = 0;

	if (col == CRM_COL_EMAIL_OPT_IN &&
	    ((n == 4 && memcmp(v, "true", 4) == 0) ||
		(n == 5 && memcmp(v, "false", 5) == 0))) {
		crm_buf_add(&c->b, v, n);
		return;
	}
	if (col != CRM_COL_TAGS) {
		crm_json_str(&c->b, v, n);
		return;
	}
	crm_buf_addc(&c->b, '[');
	while (crm_tags_next(v, n, &pos, &item) == 1) {
		if (c->b.p[c->b.len - 1] != '[')
			crm_buf_addc(&c->b, ',');
		crm_json_str(&c->b, item.p, item.len);
	}
	crm_buf_addc(&c->b, ']');
	crm_buf_free(&item);
}

static void
json_contact(struct ctx *c)
{
	char v[CRM_NSTAT][32], num[24];
	const char *nm, *val;
	size_t i, nl, vl;

	snprintf(num, sizeof(num), "%llu", (unsigned long long)c->r.id);
	crm_buf_adds(&c->b, "{\"contact\":{");
	jkey(c, "id", 1);
	crm_buf_adds(&c->b, num);
	for (i = 0; i < c->r.n; i++) {
		nm = crm_rec_name(&c->r, i, &nl);
		crm_buf_addc(&c->b, ',');
		crm_json_str(&c->b, nm, nl);
		crm_buf_addc(&c->b, ':');
		val = crm_rec_val(&c->r, i, &vl);
		json_value(c, c->r.f[i].col, val, vl);
	}
	crm_buf_adds(&c->b, "},\"stats\":{");
	crm_stats_format(&c->s, v);
	for (i = 0; i < CRM_NSTAT; i++) {
		if (i == 2 || i >= 5) {
			jkey(c, crm_stat_names[i], i == 0);
			crm_buf_adds(&c->b, v[i]);
		} else if (v[i][0] == '\0') {
			jkey(c, crm_stat_names[i], i == 0);
			crm_buf_adds(&c->b, "null");
		} else
			jstr(c, crm_stat_names[i], v[i], strlen(v[i]), i == 0);
	}
	crm_buf_addc(&c->b, '}');
}

static void
json_threads(struct ctx *c, const char *name, struct thread *v, size_t n,
    const char *what)
{
	char since[CRM_TIME_LEN];
	size_t i;
	int first = 1;

	crm_buf_addc(&c->b, ',');
	crm_json_str(&c->b, name, strlen(name));
	crm_buf_adds(&c->b, ":[");
	for (i = 0; i < n; i++) {
		if (!v[i].open)
			continue;
		crm_buf_adds(&c->b, first ? "{" : ",{");
		first = 0;
		jstr(c, "id", v[i].id, strlen(v[i].id), 1);
		jstr(c, what, v[i].state, strlen(v[i].state), 0);
		if (v[i].amount[0])
			jstr(c, "amount", v[i].amount, strlen(v[i].amount), 0);
		crm_time_format(v[i].since, since);
		jstr(c, "since", since, strlen(since), 0);
		crm_buf_addc(&c->b, '}');
	}
	crm_buf_addc(&c->b, ']');
}

static int
json_event(struct ctx *c, const struct crm_event *e)
{
	char ts[CRM_TIME_LEN], num[24];
	size_t i;

	if (c->b.p[c->b.len - 1] != '[')
		crm_buf_addc(&c->b, ',');
	snprintf(num, sizeof(num), "%llu", (unsigned long long)e->id);
	crm_buf_adds(&c->b, "{\"id\":");
	crm_buf_adds(&c->b, num);
	crm_time_format(e->ts, ts);
	jstr(c, "ts", ts, strlen(ts), 0);
	jstr(c, "type", e->type, e->tlen, 0);
	for (i = 0; i < e->n; i++) {
		crm_buf_addc(&c->b, ',');
		crm_json_str(&c->b, e->f[i].name, e->f[i].nlen);
		crm_buf_addc(&c->b, ':');
		crm_json_str(&c->b, e->f[i].val, e->f[i].vlen);
	}
	crm_buf_addc(&c->b, '}');
	return 0;
}

static int
show_json(struct ctx *c)
{
	int rc;

	json_contact(c);
	json_threads(c, "open_deals", c->deals, c->ndeals, "stage");
	json_threads(c, "open_cases", c->cases, c->ncases, "priority");
	crm_buf_adds(&c->b, ",\"events\":[");
	if ((rc = timeline(c, json_event)))
		return rc;
	if (crm_buf_adds(&c->b, "]}\n"))
		return CRM_ENOMEM;
	fwrite(c->b.p, 1, c->b.len, stdout);
	return 0;
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
	{ "format", required_argument, NULL, 'F' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' }, { NULL, 0, NULL, 0 } };

int
main(int argc, char *argv[])
{
	struct ctx c = { .last = 20 };
	char dir[4096];
	const char *d;
	int64_t n;
	int ch, rc;

	setlocale(LC_ALL, "");
	while (
	    (ch = getopt_long(argc, argv, "c:D:F:hn:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			c.cfgpath = optarg;
			break;
		case 'D':
			c.db = optarg;
			break;
		case 'F':
			if (strcmp(optarg, "json") != 0 &&
			    strcmp(optarg, "text") != 0)
				errx(EX_USAGE, "unknown format \"%s\"", optarg);
			c.json = strcmp(optarg, "json") == 0;
			break;
		case 'h':
			usage(0);
			break;
		case 'n':
			if (crm_int_parse(optarg, strlen(optarg), &n) ||
			    n < 0 || n > LONG_MAX)
				errx(EX_USAGE, "invalid count \"%s\"", optarg);
			c.last = (long)n;
			break;
		case 'V':
			puts("crm-show (crm) " CRM_VERSION);
			return 0;
		default:
			usage(EX_USAGE);
		}
	}
	if (argc - optind != 1)
		usage(EX_USAGE);
	check_config(c.cfgpath);
	d = crm_store_path(c.db, dir, sizeof(dir));
	if ((rc = crm_store_open(d, CRM_F_RDONLY, &c.st)) ||
	    (rc = crm_txn_begin(c.st, CRM_F_RDONLY, &c.t)))
		errx(crm_sysexit(rc), "%s",
		    c.st ? crm_store_error(c.st) : crm_strerror(rc));
	crm_rec_init(&c.r);
	if ((rc = find(&c, argv[optind])) == CRM_ENOTFOUND)
		errx(1, "no contact \"%s\"", argv[optind]);
	if (rc == 0 && (rc = crm_stats_get(c.t, c.r.id, &c.s)) == 0 &&
	    (rc = threads(&c)) == 0)
		rc = c.json ? show_json(&c) : show_text(&c);
	if (rc)
		errx(crm_sysexit(rc), "%s", crm_strerror(rc));
	if (fflush(stdout) || ferror(stdout))
		errx(EX_IOERR, "stdout: write error");
	crm_txn_abort(c.t);
	crm_store_close(c.st);
	crm_rec_free(&c.r);
	crm_buf_free(&c.b);
	return 0;
}
