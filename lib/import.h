/*
 * From input rows to contact records: the header mapping (--map pairs, a
 * config mapping, then the column's own name), the mapping's constant and
 * consent columns, and the check of every value.
 */
#ifndef CRM_IMPORT_H
#define CRM_IMPORT_H

#include <stddef.h>

#include "config.h"
#include "input.h"
#include "rec.h"

struct crm_import;

/* m may be NULL; from/to are --map pairs (to "" drops a column), copied. */
int crm_import_new(const struct crm_config *cf, const struct crm_mapping *m,
    char *const *from, char *const *to, size_t nmap, struct crm_import **out);
/* A table's header: CRM_EINVAL with why ("column 3 has no name",
 * "duplicate column \"email\"") when it cannot be used. */
int crm_import_header(struct crm_import *im, const char *const *names, size_t n,
    char *why, size_t whylen);
/* Builds out from r (a table row after crm_import_header(), or a row that
 * names its own columns). CRM_EINVAL with why for a bad row. */
int crm_import_row(struct crm_import *im, const struct crm_inrow *r, int table,
    struct crm_rec *out, char *why, size_t whylen);
/* The custom fields of the last header, in its order (borrowed). */
size_t crm_import_custom(const struct crm_import *im, const char **names,
    size_t max);
void crm_import_free(struct crm_import *im);

#endif
