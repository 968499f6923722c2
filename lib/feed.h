/*
 * A feed reads the input files on a thread of its own: parsing, mapping and
 * checking rows while the caller's thread applies them to the store. Items
 * come back in input order, in batches handed over under a mutex.
 */
#ifndef CRM_FEED_H
#define CRM_FEED_H

#include <stddef.h>

#include "buf.h"
#include "contact.h"
#include "import.h"
#include "rec.h"

struct crm_feed_item {
	struct crm_rec rec; /* the contact row, when status is 0 */
	long line;          /* where the row starts in its input */
	size_t file;        /* which input */
	int status;         /* 0; CRM_EINVAL/CRM_EPARSE: a bad row */
	int fatal;          /* an error that ends the run: an errno value,
				   CRM_EPARSE (input unusable), CRM_EIO ... */
	struct crm_buf why; /* the reason, for bad rows and fatal errors */
	struct crm_rec raw; /* the input's cells as given, if asked for */
	struct crm_rec hdr; /* first row of a table: its custom columns,
				   in the header's order (names only) */
	struct crm_upsert_prep prep; /* by the feed's prepare function */
	int prepared;                /* prep is filled */
};

/* Called for each good row, to fill it->prep: on the feed's thread with
 * prep_arg, or on the caller's with main_arg (see crm_feed_start()). The
 * two calls may run at once, so it must keep its state in its argument. */
typedef int (*crm_feed_prepare_fn)(void *arg, struct crm_feed_item *it);

struct crm_feed;

/*
 * paths[i] NULL or "-" is standard input; keep_raw keeps every row's
 * cells (for a reject file). The import, and prep with prep_arg if prep
 * is not NULL, are used by the feed's thread only, until crm_feed_stop().
 * With main_arg not NULL, the feed leaves rows to prepare, with main_arg,
 * on the caller's thread when that thread has nothing else to do (in
 * crm_feed_next() and crm_feed_peek()); main_arg is that thread's own.
 */
int crm_feed_start(char *const *paths, size_t npaths, int fmt,
    struct crm_import *im, int keep_raw, crm_feed_prepare_fn prep,
    void *prep_arg, void *main_arg, struct crm_feed **out);
/* The next item, prepared (or, if preparing it failed, with fatal set),
 * or CRM_EOF after the last; CRM_EAGAIN when none came within wait_ms (so
 * that the caller can look at signals). Valid until the next call. */
int crm_feed_next(struct crm_feed *f, const struct crm_feed_item **it,
    int wait_ms);
/* The item ahead places after the one crm_feed_next() gave last, prepared,
 * if it has come already; NULL if not. For prefetching: valid as that one
 * is. */
const struct crm_feed_item *crm_feed_peek(struct crm_feed *f, size_t ahead);
/*
 * Has this thread's cache fetch the item ahead places after the last one
 * crm_feed_next() gave, which the feed's thread wrote: stage 0 the item,
 * stage 1 (given once stage 0 has had time to arrive) its record's fields
 * and bytes. Prepares nothing; for a caller that reads items in turn.
 */
CRM_PREFETCHER void crm_feed_fetch(struct crm_feed *f, size_t ahead, int stage);
void crm_feed_stop(struct crm_feed *f);

#endif
