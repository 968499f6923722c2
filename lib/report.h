/*
 * The KPIs of crm-report(1): contacts, sales, retention, lifetime value,
 * surveys, service cases, campaigns and the deal pipeline, over a period
 * cut into buckets (a time series), and a cohort retention matrix.
 *
 * The caller gives one contact at a time with its whole timeline in time
 * order (the order of the store's event keys), so that everything a KPI
 * needs of one person is at hand at once and only totals are kept:
 * memory grows with the number of buckets, campaigns, stages and cases,
 * not with contacts or events. Every total is a count or an exact sum,
 * which makes the state mergeable across shards (DESIGN.md §8); only the
 * median resolution time keeps its samples.
 *
 *	crm_report_open(&opts, &r);
 *	for each contact:
 *		crm_report_add(r, &contact, events, nevents);
 *	crm_report_finish(r);
 *	... crm_report_value(r, series, bucket, kpi, &v) ...
 *	crm_report_close(r);
 */
#ifndef CRM_REPORT_H
#define CRM_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* Money is kept in billionths of a unit (a decimal of scale 9). */
#define CRM_MONEY_SCALE 9

enum crm_by {
	CRM_BY_NONE,
	CRM_BY_DAY,
	CRM_BY_WEEK,
	CRM_BY_MONTH,
	CRM_BY_QUARTER
};

/* What kind of event a timeline entry is: the types a KPI reads. */
enum crm_rkind {
	CRM_RK_OTHER,
	CRM_RK_PURCHASE,
	CRM_RK_REFUND,
	CRM_RK_SENT,
	CRM_RK_OPEN,
	CRM_RK_CLICK,
	CRM_RK_UNSUB,
	CRM_RK_NPS,
	CRM_RK_CSAT,
	CRM_RK_TOPEN,
	CRM_RK_TCLOSE,
	CRM_RK_DEAL
};

/*
 * One event of a timeline. Strings are interned (crm_report_intern());
 * 0 is "none". campaign: the campaign of sent/open/click/unsubscribe;
 * key: case_id of a ticket, deal_id of a deal; stage: a deal's stage.
 */
struct crm_rev {
	int64_t ts;
	int64_t amount; /* purchase, refund, deal; CRM_MONEY_SCALE */
	uint32_t campaign, key, stage;
	uint8_t kind;
	uint8_t score;      /* survey score */
	uint8_t has_amount; /* deal: the event gives an amount */
};

/* One contact: created at (or CRM_TIME_NONE), stage (interned), and the
 * RFM cell of crm-score rfm when the rows have one (0: none). */
struct crm_rcontact {
	int64_t created;
	uint32_t stage;
	uint8_t r_score, f_score;
};

/* A deal stage and its probability of winning, in thousandths. */
struct crm_rstage {
	char *name;
	int permille;
};

struct crm_report_opts {
	int64_t since, until; /* the period, [since, until) */
	int by;               /* crm_by: buckets of the time series */
	int64_t window;       /* a customer is active this long after a
				 purchase (retention); seconds */
	int cohorts;          /* also the cohort matrix, by month */
	const struct crm_rstage *stages; /* deal stage probabilities */
	size_t nstages;
};

/* The KPIs of a bucket, in report order. */
enum crm_kpi {
	CRM_K_CONTACTS,
	CRM_K_NEW_CONTACTS,
	CRM_K_CUSTOMERS,
	CRM_K_NEW_CUSTOMERS,
	CRM_K_ACTIVE,
	CRM_K_ORDERS,
	CRM_K_REVENUE,
	CRM_K_AOV,
	CRM_K_REV_PER_CUST,
	CRM_K_REPEAT,
	CRM_K_RETENTION,
	CRM_K_CHURN,
	CRM_K_CLV,
	CRM_K_CONVERSION,
	CRM_K_NPS,
	CRM_K_NPS_N,
	CRM_K_CSAT,
	CRM_K_CSAT_N,
	CRM_K_CASES_OPENED,
	CRM_K_CASES_CLOSED,
	CRM_K_RES_MEAN,
	CRM_K_RES_MEDIAN,
	CRM_K_OPEN_DEALS,
	CRM_K_PIPELINE,
	CRM_K_WEIGHTED,
	CRM_K_WON,
	CRM_K_LOST,
	CRM_K_WIN_RATE,
	CRM_NKPI
};

/* How a value reads: a count, money, a percentage, hours, a score. */
enum crm_vkind {
	CRM_V_COUNT,
	CRM_V_MONEY,
	CRM_V_PCT,
	CRM_V_HOURS,
	CRM_V_SCORE
};

struct crm_kpidef {
	const char *name;  /* the column name: new_customers */
	const char *label; /* for people: "new customers" */
	int kind;          /* crm_vkind */
	int group;         /* the section it is shown in (crm_kpi_groups) */
};
extern const struct crm_kpidef crm_kpis[CRM_NKPI];
extern const char *const crm_kpi_groups[];

/* A value: na when it has no meaning (nothing to divide by). */
struct crm_rval {
	int kind, na;
	uint64_t n;     /* count */
	__int128 money; /* CRM_MONEY_SCALE */
	double x;       /* percentage, hours, score */
};

/* Breakdowns of the whole period. */
struct crm_rcampaign {
	uint32_t name; /* interned; 0 for events without a campaign */
	uint64_t sent, opened, clicked, unsubscribed;
};

struct crm_rstagecount {
	uint32_t name; /* interned stage */
	uint64_t contacts;
	uint64_t deals; /* open deals at the end of the period */
	__int128 value, weighted;
};

struct crm_report;

/*
 * The default start of a period that ends at until: 30 days before it;
 * with buckets the start of the unit 30 days, 12 weeks, 12 months or 8
 * quarters back (counting the unit of until - 1 as the last).
 */
int64_t crm_report_default_since(int by, int64_t until);
int crm_report_open(const struct crm_report_opts *o, struct crm_report **out);
void crm_report_close(struct crm_report *r);
/* The id of a string (0 for the empty string); the text of an id. */
uint32_t crm_report_intern(struct crm_report *r, const char *s, size_t n);
const char *crm_report_str(const struct crm_report *r, uint32_t id);
/*
 * Adds a contact and its timeline, ev[0..n) in time order. c may be NULL
 * for events of a contact without a record. CRM_ENOMEM; CRM_ETOOBIG when
 * a sum would overflow.
 */
int crm_report_add(struct crm_report *r, const struct crm_rcontact *c,
    const struct crm_rev *ev, size_t n);
/*
 * Adds what src has counted to dst, both opened with the same options and
 * not finished: a report over shards (threads, files, machines) equals the
 * report over the whole. src is left as it was.
 */
int crm_report_merge(struct crm_report *dst, const struct crm_report *src);
/* Closes the sums; call once after the last crm_report_add(). */
int crm_report_finish(struct crm_report *r);

/*
 * Series 0 is the whole period as one bucket; series 1, when opts.by is
 * set, the time series. A bucket is [from, to).
 */
size_t crm_report_buckets(const struct crm_report *r, int series);
void crm_report_bucket(const struct crm_report *r, int series, size_t b,
    int64_t *from, int64_t *to);
/* The label of a bucket: 2025-03-14, 2025-03, 2025-Q1. */
void crm_report_label(const struct crm_report *r, int series, size_t b,
    char *out, size_t len);
void crm_report_value(const struct crm_report *r, int series, size_t b, int kpi,
    struct crm_rval *v);
/* Whether the report saw anything at all: contacts or events. */
int crm_report_empty(const struct crm_report *r);

/* Breakdowns of the whole period, sorted by name. */
size_t crm_report_campaigns(const struct crm_report *r,
    const struct crm_rcampaign **out);
size_t crm_report_stages(const struct crm_report *r,
    const struct crm_rstagecount **out);
/* The probability of a deal stage in thousandths; -1 for a closed deal
 * that was lost, 1000 for one that was won. */
int crm_report_stage_permille(const struct crm_report *r, uint32_t stage);

/*
 * The cohort matrix (opts.cohorts): cohort i is the customers whose first
 * purchase is in month i of the period; cell (i, k) how many of them
 * bought in month i + k. *months is the number of months.
 */
size_t crm_report_cohorts(const struct crm_report *r, size_t *months);
/* The month of cohort i: 2025-03. */
void crm_report_cohort_label(const struct crm_report *r, size_t i, char *out,
    size_t len);
uint64_t crm_report_cohort_size(const struct crm_report *r, size_t i);
uint64_t crm_report_cohort_cell(const struct crm_report *r, size_t i, size_t k);
/* The RFM grid: contacts with r_score r and f_score f (1..5 each). */
uint64_t crm_report_rfm(const struct crm_report *r, int rs, int fs);
int crm_report_has_rfm(const struct crm_report *r);

/* Writes a value as text: counts whole, money to the cent (half away
 * from zero), percentages and hours with two decimals, "" when na. */
void crm_rval_format(const struct crm_rval *v, char *out, size_t len);
/* A money sum to the cent, as text. */
void crm_money_format(__int128 m, char *out, size_t len);
/* Reads an exact decimal amount into CRM_MONEY_SCALE units. */
int crm_money_parse(const char *s, size_t n, int64_t *out);

/* Reads the "report" section of the config: deal stage probabilities
 * and the customer window. err gets "file:line: message". */
int crm_report_config(const struct crm_config *cf, struct crm_report_opts *o,
    char *err, size_t errlen);
void crm_report_config_free(struct crm_report_opts *o);

#endif
