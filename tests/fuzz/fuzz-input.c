/*
 * The input readers (CSV, TSV, NDJSON, YAML: the first byte chooses) and
 * the import of their rows into contact records with the default config.
 */
/* First: it sets _GNU_SOURCE for memfd_create(2). */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	static struct crm_config *cf;
	struct crm_import *im;
	struct crm_inrow r;
	struct crm_in *in;
	struct crm_rec rec = { 0 };
	const char *const *h;
	char path[64], msg[600], why[1024];
	int fd, fmt, rc, first = 1;
	size_t nh;

	if (n < 1)
		return 0;
	if (cf == NULL && crm_config_load(NULL, &cf, msg, sizeof(msg)) != 0)
		abort();
	fmt = data[0] % 4;
	if ((fd = fuzz_fd(data + 1, n - 1)) < 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (crm_import_new(cf, crm_config_mapping(cf, "mailchimp"), NULL, NULL,
		0, &im) != 0)
		abort();
	if (crm_in_open(path, fmt, &in, msg, sizeof(msg)) == 0) {
		while ((rc = crm_in_next(in, &r)) != CRM_EOF) {
			if (rc != 0 && rc != CRM_EPARSE)
				break;
			if (first &&
			    (fmt == CRM_FMT_CSV || fmt == CRM_FMT_TSV)) {
				nh = crm_in_header(in, &h);
				if (crm_import_header(im, h, nh, why,
					sizeof(why)))
					break;
			}
			first = 0;
			if (rc == 0)
				crm_import_row(im, &r,
				    fmt == CRM_FMT_CSV || fmt == CRM_FMT_TSV,
				    &rec, why, sizeof(why));
		}
		crm_in_close(in);
	}
	crm_import_free(im);
	crm_rec_free(&rec);
	close(fd);
	return 0;
}
