/*
 * Events: the interaction log's entries (DESIGN.md §2). An event belongs to
 * one contact, happens at a time, has a type and fields. This module checks
 * event values and encodes events for the store; evlog.h writes them.
 *
 * In the store an event's key is its contact, its time and its id, each a
 * big-endian 64-bit number (the time with its sign bit flipped), so that
 * one contact's timeline is one contiguous, time-ordered range of keys.
 */
#ifndef CRM_EVENT_H
#define CRM_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "config.h"
#include "dec.h"

#define CRM_EVKEY_LEN 24
#define CRM_TIME_NONE INT64_MIN

/* Types with a built-in meaning; any other name is stored as given. */
enum crm_evtype {
	CRM_EV_OTHER = 0,
	CRM_EV_PURCHASE,
	CRM_EV_REFUND,
	CRM_EV_EMAIL,
	CRM_EV_CALL,
	CRM_EV_MEETING,
	CRM_EV_NOTE,
	CRM_EV_VISIT,
	CRM_EV_EMAIL_SENT,
	CRM_EV_EMAIL_OPEN,
	CRM_EV_EMAIL_CLICK,
	CRM_EV_SUBSCRIBE,
	CRM_EV_UNSUBSCRIBE,
	CRM_EV_SURVEY,
	CRM_EV_TICKET_OPEN,
	CRM_EV_TICKET_CLOSE,
	CRM_EV_DEAL,
	CRM_NEVTYPE
};
extern const char *const crm_evtype_names[CRM_NEVTYPE];

/* The built-in type of a name, or CRM_EV_OTHER. */
int crm_evtype_lookup(const char *s, size_t n);
/* The built-in field name s is in any letter case ("Amount"), or NULL. */
const char *crm_event_field_name(const char *s, size_t n);

/* One field of an event; name and value are borrowed. */
struct crm_evfield {
	const char *name, *val;
	size_t nlen, vlen;
};

#define CRM_EV_MAXFIELDS 64

/* An event, its strings borrowed (from a decoded value or from input). */
struct crm_event {
	uint64_t id, contact;
	int64_t ts;
	const char *type;
	size_t tlen;
	struct crm_evfield f[CRM_EV_MAXFIELDS];
	size_t n;
};

/* The value of a field, or NULL. */
const char *crm_event_get(const struct crm_event *e, const char *name,
    size_t *vlen);

/*
 * Checks a type name: not empty, a name (letters, digits, _ - .), and
 * allowed by the config's types list. why says what is wrong.
 */
int crm_event_type_check(const struct crm_config *cf, const char *s, size_t n,
    char *why, size_t whylen);
/*
 * Checks the value of field name for an event of type t and writes its
 * normal form to out (trimmed; amount an exact decimal; survey score a
 * whole number in the metric's range is checked by crm_event_check()).
 */
int crm_event_value(const char *name, size_t nlen, const char *v, size_t n,
    struct crm_buf *out, char *why, size_t whylen);
/*
 * The same without a copy: *v and *n are set to the normal form, a part
 * of the value given, or (an amount written anew) the text in tmp, which
 * then is not empty.
 */
int crm_event_value_norm(const char *name, size_t nlen, const char **v,
    size_t *n, struct crm_buf *tmp, char *why, size_t whylen);
/* Checks the fields an event of its type needs (purchase and refund an
 * amount; survey a metric and a score in its range). */
int crm_event_check(const struct crm_event *e, char *why, size_t whylen);

/* The store key of an event, and back. */
void crm_evkey_pack(uint64_t contact, int64_t ts, uint64_t id,
    unsigned char key[CRM_EVKEY_LEN]);
void crm_evkey_unpack(const unsigned char key[CRM_EVKEY_LEN], uint64_t *contact,
    int64_t *ts, uint64_t *id);

/*
 * The encoding of an event's type and fields (the value of its key), format
 * 1: a varint type tag (1..CRM_NEVTYPE-1 a built-in type; 0 followed by a
 * varint length and the name), then per field a varint field tag (a
 * built-in field name, or 0 followed by a varint length and the name), a
 * varint value length and the value bytes. Decoding borrows from p.
 */
int crm_event_encode(const struct crm_event *e, struct crm_buf *out);
int crm_event_decode(struct crm_event *e, const void *p, size_t n);

/*
 * Per-contact statistics, derived from the log. Times are CRM_TIME_NONE
 * when there is none; revenue is purchases minus refunds.
 */
struct crm_stats {
	int64_t first_seen, last_seen, first_purchase, last_purchase;
	uint64_t events, purchases, purchase_days;
	struct crm_dec revenue;
};

void crm_stats_init(struct crm_stats *s);
/* Writes the statistics columns (crm_stat_names order) as text into the
 * CRM_NSTAT buffers of out, each NUL-terminated; empty for no time. */
void crm_stats_format(const struct crm_stats *s, char out[][32]);

#endif
