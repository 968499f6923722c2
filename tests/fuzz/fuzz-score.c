/*
 * crm-score's library parts on any input: the clv parameter file reader,
 * the config's rfm section, and the RFM roll-up fed the input's CSV rows
 * (key, time, amount), where one event at a time, batches, and two halves
 * merged must all give the same customers, and scoring must not fail.
 */
/* First: it sets _GNU_SOURCE for memfd_create(2). */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clv.h"
#include "crm.h"
#include "rfm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

static void
params(const uint8_t *data, size_t n)
{
	struct crm_clv_params p, q;
	struct crm_buf b = { 0 };
	char err[256];

	if (crm_clv_params_parse((const char *)data, n, &p, err, sizeof(err)) !=
	    0)
		return;
	/* What was read writes and reads back the same. */
	if (crm_clv_params_format(&p, &b) != 0 ||
	    crm_clv_params_parse(b.p, b.len, &q, err, sizeof(err)) != 0 ||
	    q.unit != p.unit || q.bg.r != p.bg.r || q.bg.b != p.bg.b ||
	    q.have_gg != p.have_gg || q.gg.gamma != p.gg.gamma)
		abort();
	crm_buf_free(&b);
}

static void
table(int fd)
{
	struct crm_config *cf;
	struct crm_rfm_table *t;
	struct crm_rfm_score s = { 1, 1, 1 };
	char path[64], msg[1024];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (crm_config_load(path, &cf, msg, sizeof(msg)) != 0)
		return;
	if (crm_rfm_table_load(cf, &t, msg, sizeof(msg)) == 0) {
		for (s.r = 0; s.r <= 5; s.r++)
			if (crm_rfm_segment(t, &s) == NULL)
				abort();
		crm_rfm_table_free(t);
	}
	crm_config_free(cf);
}

static int
same(struct crm_rfm *a, struct crm_rfm *b)
{
	const char *const *ka, *const *kb;
	const size_t *la, *lb;
	const struct crm_rfm_stat *sa, *sb;
	size_t i;

	if (crm_rfm_count(a) != crm_rfm_count(b) ||
	    crm_rfm_sorted(a, &ka, &la, &sa) ||
	    crm_rfm_sorted(b, &kb, &lb, &sb))
		return 0;
	for (i = 0; i < crm_rfm_count(a); i++)
		if (la[i] != lb[i] || memcmp(ka[i], kb[i], la[i]) != 0 ||
		    sa[i].purchases != sb[i].purchases ||
		    crm_dec_cmp(sa[i].revenue, sb[i].revenue) != 0 ||
		    sa[i].days != sb[i].days)
			return 0;
	return 1;
}

static void
rollup(int fd)
{
	struct crm_rfm *one, *batch, *half[2];
	struct crm_rfm_event ev[CRM_RFM_BATCH];
	struct crm_rfm_score *sc;
	struct crm_csv *r;
	struct crm_row row;
	struct crm_buf keys = { 0 };
	size_t off[CRM_RFM_BATCH], nb = 0, rows = 0, i;
	int rc, bad = 0;

	if (crm_rfm_open(CRM_RFM_FDAYS, &one) ||
	    crm_rfm_open(CRM_RFM_FDAYS, &batch) ||
	    crm_rfm_open(CRM_RFM_FDAYS, &half[0]) ||
	    crm_rfm_open(CRM_RFM_FDAYS, &half[1]) ||
	    crm_csv_open_raw(fd, CRM_FMT_CSV, &r))
		abort();
	while ((rc = crm_csv_next(r, &row)) == 0 || rc == CRM_EPARSE) {
		struct crm_dec d = { 0, 0 };
		int64_t ts = 0;
		int kind;

		if (rc || row.n < 3 ||
		    crm_dec_parse(row.v[2], row.len[2], &d) ||
		    crm_time_parse(row.v[1], row.len[1], &ts, NULL))
			continue;
		kind = (int)(rows % 3);
		if (crm_rfm_add(one, row.v[0], row.len[0], kind, ts, d) ||
		    crm_rfm_add(half[rows % 2], row.v[0], row.len[0], kind, ts,
			d)) {
			bad = 1; /* an overflow: the roll-ups part ways */
			break;
		}
		off[nb] = keys.len;
		if (crm_buf_add(&keys, row.v[0], row.len[0]))
			abort();
		ev[nb++] =
		    (struct crm_rfm_event){ NULL, row.len[0], kind, ts, d };
		if (nb == CRM_RFM_BATCH) {
			for (i = 0; i < nb; i++)
				ev[i].key = keys.p + off[i];
			if (crm_rfm_add_batch(batch, ev, nb))
				abort();
			nb = 0;
			keys.len = 0;
		}
		rows++;
	}
	for (i = 0; i < nb; i++)
		ev[i].key = keys.p + off[i];
	if (!bad && nb > 0 && crm_rfm_add_batch(batch, ev, nb))
		abort();
	if (!bad &&
	    (!same(one, batch) || crm_rfm_merge(half[0], half[1]) != 0 ||
		!same(one, half[0])))
		abort();
	if (!bad) {
		const char *const *k;
		const size_t *kl;
		const struct crm_rfm_stat *st;

		if (crm_rfm_sorted(one, &k, &kl, &st) ||
		    (sc = calloc(crm_rfm_count(one) + 1, sizeof(*sc))) ==
			NULL ||
		    crm_rfm_score(st, crm_rfm_count(one), sc))
			abort();
		free(sc);
	}
	crm_buf_free(&keys);
	crm_csv_close(r);
	crm_rfm_close(one);
	crm_rfm_close(batch);
	crm_rfm_close(half[0]);
	crm_rfm_close(half[1]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	int fd;

	params(data, n);
	if ((fd = fuzz_fd(data, n)) < 0)
		return 0;
	table(fd);
	lseek(fd, 0, SEEK_SET);
	rollup(fd);
	close(fd);
	return 0;
}
