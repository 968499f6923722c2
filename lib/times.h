/*
 * Times: ISO 8601 in, UTC out. A time is seconds since 1970-01-01T00:00:00Z
 * in an int64_t. Input without an offset is taken as UTC.
 */
#ifndef CRM_TIMES_H
#define CRM_TIMES_H

#include <stddef.h>
#include <stdint.h>

#define CRM_TIME_LEN 21 /* "2024-05-20T14:17:53Z" and its NUL */
#define CRM_DATE_LEN 11 /* "2024-05-20" and its NUL */

/*
 * Accepts YYYY-MM-DD, optionally followed by 'T' or a space, HH:MM, :SS,
 * a fraction (dropped), and Z or an offset +HH:MM, +HHMM or +HH.
 * Returns 0 or CRM_EINVAL. *is_date is set to 1 when only a date was given.
 */
int crm_time_parse(const char *s, size_t n, int64_t *t, int *is_date);
void crm_time_format(int64_t t, char out[CRM_TIME_LEN]);
void crm_date_format(int64_t t, char out[CRM_DATE_LEN]);
int64_t crm_days_from_civil(int y, unsigned m, unsigned d);

#endif
