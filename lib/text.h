/*
 * Text rules shared by the tools: UTF-8 validity, e-mail addresses, booleans,
 * trimming and tag sets.
 */
#ifndef CRM_TEXT_H
#define CRM_TEXT_H

#include <stddef.h>

#include "buf.h"

/* Returns 1 when s[0..n) is valid UTF-8 without NUL bytes; else 0 and *bad
 * is the offset of the first bad byte. */
int crm_utf8_valid(const char *s, size_t n, size_t *bad);
/* Trims ASCII white space from both ends, in place on the pointer/length. */
void crm_trim(const char **s, size_t *n);
/* Whether s is n > 0 bytes of ASCII, none of them NUL, with no white space
 * at either end: valid UTF-8 that crm_trim() leaves as it is. */
int crm_text_plain(const char *s, size_t n);
/* Validates and normalises an address: trimmed, lower-cased. out gets the
 * normal form (n + 1 bytes suffice). Returns 0 or CRM_EINVAL. */
int crm_email_norm(const char *s, size_t n, char *out, size_t *outlen);
/* The same, and *same says whether out is s as given (nothing trimmed or
 * lower-cased): then s can be kept, without comparing the two. */
int crm_email_norm_same(const char *s, size_t n, char *out, size_t *outlen,
    int *same);
/* true/false/yes/no/y/n/t/f/1/0/on/off, any case. Returns 0 or CRM_EINVAL. */
int crm_bool_parse(const char *s, size_t n, int *b);

/*
 * Tag sets. A cell lists items separated by sep; items are trimmed, an item
 * in double quotes loses them ("" inside is one quote), empty items and
 * repeats are dropped, order is kept. The normal form joins items with ';'
 * and quotes an item that holds ';' or '"'.
 */
int crm_tags_norm(const char *s, size_t n, int sep, struct crm_buf *out);
/* op '+' adds the items of b to set a, '-' removes them; a and b are normal. */
int crm_tags_edit(const char *a, size_t alen, const char *b, size_t blen,
    int op, struct crm_buf *out);
/* Iterates the items of a normal tag set: *pos from 0 while it returns 1. */
int crm_tags_next(const char *s, size_t n, size_t *pos, struct crm_buf *item);

#endif
