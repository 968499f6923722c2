/*
 * Lead scoring (crm-score lead): points from rules in the config's "lead"
 * section. A field rule gives its points when an expression (crm-expr(7))
 * over the contact's row holds; an event rule gives points for each event
 * of a type, halved every half-life of the event's age, up to a cap:
 *
 *	lead:
 *	  rules:
 *	    - when: 'stage == "prospect"'
 *	      points: 10
 *	  events:
 *	    - type: email_open
 *	      points: 2
 *	      half_life: 30d
 *	      cap: 20
 *
 * An event of age a adds points * 2^(-a / half_life); events after "now"
 * are not counted, events without a half-life do not decay.
 */
#ifndef CRM_LEAD_H
#define CRM_LEAD_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "config.h"

struct crm_lead;

/*
 * Loads the rules and compiles their expressions against the header
 * names[0..n). err gets "file:line: message" (with the expression and a
 * caret under the fault for a bad expression). CRM_ECONFIG when the
 * config has no usable lead section.
 */
int crm_lead_load(const struct crm_config *cf, const char *const *names,
    size_t n, int64_t now, struct crm_lead **out, char *err, size_t errlen);
void crm_lead_close(struct crm_lead *l);
/* Whether any rule counts events (so the caller needs the log). */
int crm_lead_wants_events(const struct crm_lead *l);

/* Scoring one row: begin, one call per event of the contact, end. */
void crm_lead_begin(struct crm_lead *l);
void crm_lead_event(struct crm_lead *l, const char *type, size_t tlen,
    int64_t ts);
/*
 * The score of the row (cells as crm_expr_eval() takes them). With
 * explain not NULL, it gets the rules that gave points, "name:points"
 * separated by ';'.
 */
int crm_lead_end(struct crm_lead *l, const char *const *v, const size_t *len,
    size_t n, double *score, struct crm_buf *explain);

#endif
