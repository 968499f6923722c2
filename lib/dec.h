/*
 * Exact decimals for money: a signed 64-bit count of 10^-scale units.
 * Sums never go through binary floating point; an overflow is an error
 * (CRM_ETOOBIG), never a wrong total.
 */
#ifndef CRM_DEC_H
#define CRM_DEC_H

#include <stddef.h>
#include <stdint.h>

#define CRM_DEC_MAXSCALE 9
#define CRM_DEC_LEN 32

struct crm_dec {
	int64_t v;
	int scale;
};

/* Accepts [+-]digits[.digits], at most CRM_DEC_MAXSCALE decimals. */
int crm_dec_parse(const char *s, size_t n, struct crm_dec *d);
int crm_dec_add(struct crm_dec a, struct crm_dec b, struct crm_dec *out);
int crm_dec_sub(struct crm_dec a, struct crm_dec b, struct crm_dec *out);
int crm_dec_cmp(struct crm_dec a, struct crm_dec b);
/* Writes the shortest exact form with at least min_scale decimals. */
void crm_dec_format(struct crm_dec d, int min_scale, char out[CRM_DEC_LEN]);
/* A contact id: a positive whole number, white space around it allowed. */
int crm_id_parse(const char *s, size_t n, uint64_t *id);
/* Parses a whole number of at most 18 digits. */
int crm_int_parse(const char *s, size_t n, int64_t *v);

#endif
