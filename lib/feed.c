#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "csvio.h"
#include "errors.h"
#include "feed.h"
#include "input.h"
#include "prefault.h"

#define BATCH 1024
#define NBATCH 4

struct batch {
	struct crm_feed_item it[BATCH];
	size_t n;
	int ready, last;
	int lazy; /* its rows are left for the caller's thread to prepare */
};

struct crm_feed {
	char **paths;
	size_t npaths;
	int fmt, keep_raw, stop;
	struct crm_import *im;
	crm_feed_prepare_fn prep;
	void *prep_arg, *main_arg;
	int lazy; /* -1: as the caller keeps up; 0 or 1 (tests): always */
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct batch b[NBATCH];
	size_t w, r, ri; /* batch written, batch read, item read */
	int own;         /* batch r was seen ready: the caller's */
	int started;
};

static void
why(struct crm_feed_item *it, const char *msg)
{
	it->why.len = 0;
	crm_buf_adds(&it->why, msg);
	crm_buf_nul(&it->why);
}

/*
 * Hands the batch being written over and waits for a free one. The next
 * batch's rows are prepared here while the caller's thread has more than
 * two to go through, this one among them, and left to it otherwise (it
 * would wait for them): whichever thread has time does that work. With
 * "more than one" the caller's thread, which the reading thread keeps
 * waiting on an import of new contacts, took too little of it: 1M new
 * contacts were imported faster with two in 7 of 8 interleaved runs
 * (median 2.13 -> 1.88 s).
 */
static int
hand_over(struct crm_feed *f, int last)
{
	int stop, queued = 0, i;

	pthread_mutex_lock(&f->mu);
	f->b[f->w].ready = 1;
	f->b[f->w].last = last;
	pthread_cond_broadcast(&f->cv);
	f->w = (f->w + 1) % NBATCH;
	while (f->b[f->w].ready && !f->stop)
		pthread_cond_wait(&f->cv, &f->mu);
	f->b[f->w].n = 0;
	for (i = 0; i < NBATCH; i++)
		queued += f->b[i].ready;
	f->b[f->w].lazy =
	    f->main_arg != NULL && (f->lazy >= 0 ? f->lazy : queued <= 2);
	stop = f->stop; /* read under the lock: crm_feed_stop() writes it */
	pthread_mutex_unlock(&f->mu);
	return stop;
}

static struct crm_feed_item *
next_slot(struct crm_feed *f, size_t file, long line)
{
	struct batch *b = &f->b[f->w];
	struct crm_feed_item *it;

	if (b->n == BATCH && hand_over(f, 0))
		return NULL;
	b = &f->b[f->w];
	it = &b->it[b->n++];
	it->file = file;
	it->line = line;
	it->status = it->fatal = it->prepared = 0;
	it->why.len = 0;
	it->prep.enc.len = 0;
	it->prep.has[0] = it->prep.has[1] = it->prep.later = 0;
	crm_rec_clear(&it->raw);
	crm_rec_clear(&it->hdr);
	return it;
}

static void
keep_raw(struct crm_feed_item *it, const struct crm_inrow *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (r->name[i] != NULL && r->nlen[i] > 0)
			crm_rec_set(&it->raw, CRM_COL_CUSTOM, r->name[i],
			    r->nlen[i], r->val[i], r->vlen[i]);
	if (r->n == 0 && r->raw != NULL)
		crm_rec_set(&it->raw, CRM_COL_CUSTOM, "_raw", 4, r->raw,
		    r->rawlen);
}

/* One row: parsed, mapped and checked into an item. */
static int
one_row(struct crm_feed *f, struct crm_in *in, size_t file, int rc,
    struct crm_inrow *r, int first)
{
	struct crm_feed_item *it = next_slot(f, file, r->line);
	const char *names[256];
	char msg[1024];
	size_t i, n;

	if (it == NULL)
		return -1;
	if (first) {
		n = crm_import_custom(f->im, names, 256);
		for (i = 0; i < n; i++)
			crm_rec_set(&it->hdr, CRM_COL_CUSTOM, names[i],
			    strlen(names[i]), "1", 1);
	}
	if (f->keep_raw)
		keep_raw(it, r);
	if (rc == CRM_EPARSE) {
		it->status = rc;
		why(it, crm_in_error(in));
		return 0;
	}
	if (rc) {
		it->fatal = rc;
		why(it, "read error");
		return -1;
	}
	rc = crm_import_row(f->im, r,
	    f->fmt == CRM_FMT_CSV || f->fmt == CRM_FMT_TSV, &it->rec, msg,
	    sizeof(msg));
	if (rc == CRM_EINVAL) {
		it->status = rc;
		why(it, msg);
	} else if (rc == 0 && f->prep != NULL && !f->b[f->w].lazy &&
	    (rc = f->prep(f->prep_arg, it)) == 0)
		it->prepared = 1;
	if (rc && rc != CRM_EINVAL) {
		it->fatal = rc;
		why(it, crm_strerror(rc));
		return -1;
	}
	return 0;
}

/* A whole input; -1 ends the feed. */
static int
one_file(struct crm_feed *f, size_t file)
{
	struct crm_feed_item *it;
	struct crm_inrow r;
	struct crm_in *in;
	const char *const *h;
	char msg[600];
	int rc, first = 1,
		table = f->fmt == CRM_FMT_CSV || f->fmt == CRM_FMT_TSV;
	int hdr_done = 0;

	if ((rc = crm_in_open(f->paths[file], f->fmt, &in, msg, sizeof(msg))) !=
	    0) {
		if ((it = next_slot(f, file, 0)) == NULL)
			return -1;
		it->fatal = rc;
		why(it, rc > 0 ? strerror(rc) : msg);
		return -1;
	}
	while ((rc = crm_in_next(in, &r)) != CRM_EOF) {
		if (first && table && rc != CRM_EIO && rc != CRM_ENOMEM) {
			size_t n = crm_in_header(in, &h);

			first = 0;
			if (crm_in_header_check(in, msg, sizeof(msg)) ||
			    crm_import_header(f->im, h, n, msg, sizeof(msg))) {
				if ((it = next_slot(f, file, 1)) != NULL) {
					it->fatal = CRM_EPARSE;
					why(it, msg);
				}
				rc = -1;
				break;
			}
		}
		if ((rc = one_row(f, in, file, rc, &r, table && !hdr_done)) !=
		    0)
			break;
		hdr_done = 1;
	}
	crm_in_close(in);
	return rc == CRM_EOF ? 0 : rc;
}

static void *
run(void *arg)
{
	struct crm_feed *f = arg;
	size_t i;

	pthread_setname_np(pthread_self(), "crm-feed");
	crm_prefault_arena();
	for (i = 0; i < f->npaths; i++)
		if (one_file(f, i) != 0 || f->stop)
			break;
	hand_over(f, 1);
	return NULL;
}

int
crm_feed_start(char *const *paths, size_t npaths, int fmt,
    struct crm_import *im, int keep, crm_feed_prepare_fn prep, void *prep_arg,
    void *main_arg, struct crm_feed **out)
{
	static char *dash[] = { "-" };
	struct crm_feed *f;
	const char *e;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return CRM_ENOMEM;
	f->paths = npaths ? (char **)paths : dash;
	f->npaths = npaths ? npaths : 1;
	f->fmt = fmt;
	f->im = im;
	f->keep_raw = keep;
	f->prep = prep;
	f->prep_arg = prep_arg;
	f->main_arg = prep != NULL ? main_arg : NULL;
	/* CRM_FEED_LAZY: 1 leaves every row to the caller, 0 none, for tests
	 * of both ways; otherwise it depends on timing. */
	f->lazy =
	    (e = getenv("CRM_FEED_LAZY")) != NULL && (*e == '0' || *e == '1') ?
	    *e - '0' :
	    -1;
	f->b[0].lazy = f->main_arg != NULL && f->lazy == 1;
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv, NULL);
	if (pthread_create(&f->th, NULL, run, f) != 0) {
		crm_feed_stop(f);
		return CRM_ENOMEM;
	}
	f->started = 1;
	*out = f;
	return 0;
}

/* On the caller's thread: a good row of a lazy batch, prepared. */
static struct crm_feed_item *
finish(struct crm_feed *f, struct crm_feed_item *it)
{
	int rc;

	if (it->prepared || it->status != 0 || it->fatal != 0 ||
	    f->main_arg == NULL)
		return it;
	if ((rc = f->prep(f->main_arg, it)) != 0) {
		it->fatal = rc;
		why(it, crm_strerror(rc));
	} else
		it->prepared = 1;
	return it;
}

/*
 * Once the caller has seen a batch ready, under the lock, the batch is its
 * own until it gives it back: its items are taken without the lock, and
 * the clock is read only when a batch has to be waited for. Taking the
 * lock and reading the clock for each of 1M rows was 3-4% of the
 * caller's thread, which otherwise prepares rows the reader left it.
 */
int
crm_feed_next(struct crm_feed *f, const struct crm_feed_item **it, int wait_ms)
{
	struct batch *b = &f->b[f->r];
	struct timespec until;
	int timed = 0;

	for (;;) {
		if (!f->own) {
			pthread_mutex_lock(&f->mu);
			while (!b->ready) {
				if (!timed) {
					clock_gettime(CLOCK_REALTIME, &until);
					until.tv_sec += wait_ms / 1000;
					until.tv_nsec +=
					    (long)(wait_ms % 1000) * 1000000L;
					if (until.tv_nsec >= 1000000000L) {
						until.tv_sec++;
						until.tv_nsec -= 1000000000L;
					}
					timed = 1;
				}
				if (pthread_cond_timedwait(&f->cv, &f->mu,
					&until) != 0 &&
				    !b->ready) {
					pthread_mutex_unlock(&f->mu);
					return CRM_EAGAIN;
				}
			}
			pthread_mutex_unlock(&f->mu);
			f->own = 1;
		}
		if (f->ri < b->n) {
			*it = finish(f, &b->it[f->ri++]);
			return 0;
		}
		if (b->last)
			return CRM_EOF;
		/* This batch is done: give it back to the reader. */
		pthread_mutex_lock(&f->mu);
		b->ready = 0;
		pthread_cond_broadcast(&f->cv);
		pthread_mutex_unlock(&f->mu);
		f->own = 0;
		f->r = (f->r + 1) % NBATCH;
		f->ri = 0;
		b = &f->b[f->r];
	}
}

const struct crm_feed_item *
crm_feed_peek(struct crm_feed *f, size_t ahead)
{
	struct batch *b = &f->b[f->r];

	/* The batch is the caller's since crm_feed_next() saw it ready. */
	if (f->ri == 0 || f->ri - 1 + ahead >= b->n)
		return NULL;
	return finish(f, &b->it[f->ri - 1 + ahead]);
}

void
crm_feed_fetch(struct crm_feed *f, size_t ahead, int stage)
{
	const struct batch *b = &f->b[f->r];
	const struct crm_feed_item *it;
	const char *p[2] = { NULL, NULL };
	size_t n[2] = { 0, 0 }, i, k;

	if (f->ri == 0 || f->ri - 1 + ahead >= b->n)
		return;
	it = &b->it[f->ri - 1 + ahead];
	if (stage == 0) {
		p[0] = (const char *)it;
		n[0] = sizeof(*it);
	} else {
		p[0] = (const char *)it->rec.f;
		n[0] = it->rec.n * sizeof(*it->rec.f);
		p[1] = it->rec.arena.p;
		n[1] = it->rec.arena.len;
	}
	/* Up to 512 bytes each: an item and a row's record take less. The
	 * loop is here, not in a helper: GCC takes a function that only
	 * prefetches for one without effect and drops the calls to it
	 * (.ci/run checks that this one still prefetches). */
	for (k = 0; k < 2; k++)
		for (i = 0; p[k] != NULL && i < n[k] && i < 512; i += 64)
			__builtin_prefetch(p[k] + i);
}

void
crm_feed_stop(struct crm_feed *f)
{
	size_t i, k;

	if (f == NULL)
		return;
	if (f->started) {
		pthread_mutex_lock(&f->mu);
		f->stop = 1;
		pthread_cond_broadcast(&f->cv);
		pthread_mutex_unlock(&f->mu);
		pthread_join(f->th, NULL);
	}
	for (i = 0; i < NBATCH; i++)
		for (k = 0; k < BATCH; k++) {
			crm_rec_free(&f->b[i].it[k].rec);
			crm_rec_free(&f->b[i].it[k].raw);
			crm_rec_free(&f->b[i].it[k].hdr);
			crm_buf_free(&f->b[i].it[k].why);
			crm_buf_free(&f->b[i].it[k].prep.enc);
		}
	pthread_mutex_destroy(&f->mu);
	pthread_cond_destroy(&f->cv);
	free(f);
}
