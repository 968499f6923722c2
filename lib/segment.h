/*
 * Named segments: the "segments" section of the config (crm(5)), a YAML
 * mapping from names to expressions (crm-expr(7)), kept in the order
 * written, since the first segment a row matches is its label.
 *
 *	segments:
 *	  at_risk: last_purchase_at < now - 90d and purchases >= 2
 *	  vip: tags has "vip"
 */
#ifndef CRM_SEGMENT_H
#define CRM_SEGMENT_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "expr.h"

struct crm_segments;

/*
 * Reads the section of cf (NULL, or no section: no segments). A name is
 * not empty, has no ',', '/' or control characters and does not start
 * with '.', since -s lists names with commas and --split makes file names
 * of them; names are unique. Returns 0, CRM_ECONFIG with "file:line: why"
 * in err, or CRM_ENOMEM. The names and expressions are borrowed from cf:
 * valid while cf is.
 */
int crm_segment_load(const struct crm_config *cf, struct crm_segments **out,
    char *err, size_t errlen);
void crm_segment_close(struct crm_segments *s);

size_t crm_segment_count(const struct crm_segments *s);
const char *crm_segment_name(const struct crm_segments *s, size_t i);
const char *crm_segment_source(const struct crm_segments *s, size_t i);
/* The index of the segment called name[0..n), or -1. */
long crm_segment_find(const struct crm_segments *s, const char *name, size_t n);

/*
 * Compiles segment i as crm_expr_compile() does. On an error err gets a
 * message for a person: "file:line: segment \"name\": column C: why", the
 * expression and a caret line under the fault (crm_expr_format()), and
 * the return value is crm_expr_compile()'s.
 */
int crm_segment_compile(const struct crm_segments *s, size_t i,
    const char *const *names, size_t n, const struct crm_config *cf,
    int64_t now, unsigned flags, struct crm_expr **out, char *err,
    size_t errlen);

#endif
