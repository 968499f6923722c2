/*
 * RFM: recency, frequency and monetary value of each customer, their
 * quintile scores and a named segment.
 *
 * The roll-up of event rows into per-customer statistics is a mergeable
 * partial state (DESIGN.md section 8): two roll-ups of parts of a log,
 * merged, equal the roll-up of the whole log, in any order of parts. The
 * scores are computed from the merged statistics at the end.
 */
#ifndef CRM_RFM_H
#define CRM_RFM_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "dec.h"

/* One customer's purchases. With purchases == 0, first and last are
 * meaningless and revenue holds only refunds. */
struct crm_rfm_stat {
	int64_t first, last;    /* first and last purchase, seconds (UTC) */
	uint64_t purchases;     /* purchase events */
	struct crm_dec revenue; /* purchase amounts minus refund amounts */
	/* Kept only by a roll-up opened with CRM_RFM_FDAYS: */
	uint64_t days;              /* distinct UTC days with a purchase */
	struct crm_dec first_spend; /* purchase amounts of the first day */
	struct crm_dec spend;       /* purchase amounts, refunds left out */
};

enum { CRM_RFM_OTHER, CRM_RFM_PURCHASE, CRM_RFM_REFUND };

/*
 * Counting distinct purchase days needs the days seen: with this flag the
 * roll-up keeps one entry per customer and purchase day (in the order of
 * the input; a customer's same-day purchases in a row share one), so its
 * memory grows with purchase days. Without it, memory grows with
 * customers only.
 */
#define CRM_RFM_FDAYS 0x1

struct crm_rfm;

int crm_rfm_open(unsigned flags, struct crm_rfm **out);
/*
 * Adds one event of customer key[0..klen): a purchase or a refund of
 * amount at time ts, or (CRM_RFM_OTHER) any other event, which only
 * makes the customer known. Returns 0, CRM_ENOMEM, or CRM_ETOOBIG when
 * the customer's revenue overflows (the roll-up is then of no more use).
 */
int crm_rfm_add(struct crm_rfm *s, const char *key, size_t klen, int kind,
    int64_t ts, struct crm_dec amount);
/* An event for crm_rfm_add_batch(). */
struct crm_rfm_event {
	const char *key;
	size_t klen;
	int kind;
	int64_t ts;
	struct crm_dec amount;
};

#define CRM_RFM_BATCH 64

/*
 * Adds n <= CRM_RFM_BATCH events, as crm_rfm_add() one after the other
 * would, but faster on large roll-ups: the memory of all n customers is
 * fetched before the first is used. On an error, the events before the
 * one that failed have been added.
 */
int crm_rfm_add_batch(struct crm_rfm *s, const struct crm_rfm_event *ev,
    size_t n);
/* Adds every customer of src into dst; src is unchanged. Both must have
 * the same flags. */
int crm_rfm_merge(struct crm_rfm *dst, const struct crm_rfm *src);
size_t crm_rfm_count(const struct crm_rfm *s);
/*
 * The customers in the byte order of their keys (a shorter key that is a
 * prefix of another sorts first): keys, key lengths and statistics, in
 * arrays owned by s, valid until the next add, merge or close.
 */
int crm_rfm_sorted(struct crm_rfm *s, const char *const **keys,
    const size_t **klen, const struct crm_rfm_stat **stat);
void crm_rfm_close(struct crm_rfm *s);

/* Scores 1-5, or 0 for a customer without purchases. */
struct crm_rfm_score {
	unsigned char r, f, m;
};

/*
 * Quintile scores of n customers, as SQL's ntile(5) gives them over the
 * customers with at least one purchase, ordered by last purchase (r),
 * purchase count (f) and revenue (m), each ascending, with ties broken by
 * position in st (the earlier first): the most recent, most frequent and
 * largest spenders score 5. ntile makes groups as even as it can, the
 * larger ones first. Returns 0 or CRM_ENOMEM.
 */
int crm_rfm_score(const struct crm_rfm_stat *st, size_t n,
    struct crm_rfm_score *out);
/* The cell code: r * 100 + f * 10 + m, e.g. 545; 0 without purchases. */
int crm_rfm_cell(const struct crm_rfm_score *s);

/* The segment table: rules over the three scores, the first that
 * matches names the segment. */
struct crm_rfm_table;

/*
 * The table of the config's "rfm" section (crm(5)), or the built-in one
 * when the section is absent or has no "segments". On CRM_ECONFIG err
 * holds "file:line: message".
 */
int crm_rfm_table_load(const struct crm_config *cf, struct crm_rfm_table **out,
    char *err, size_t errlen);
/* The segment of s: the first rule that matches, "" if none does, or the
 * table's segment for customers without purchases. Valid until free. */
const char *crm_rfm_segment(const struct crm_rfm_table *t,
    const struct crm_rfm_score *s);
void crm_rfm_table_free(struct crm_rfm_table *t);

#endif
