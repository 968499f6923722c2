/*
 * The expression language of crm-expr(7): conditions over the columns of
 * a row, shared by crm-segment (filters, named segments), crm-score (lead
 * rules) and crm-report (filters).
 *
 * An expression is compiled once against a header, the names of the
 * columns the rows will have: column references become column numbers,
 * literals are parsed, types are checked and "now" is fixed. Evaluating it
 * against a row then reads only the cells it refers to and allocates
 * nothing, so that a filter runs in constant memory.
 *
 *	struct crm_expr *e;
 *	struct crm_expr_err err;
 *
 *	if (crm_expr_compile(src, names, n, cf, now, 0, &e, &err) != 0)
 *		... crm_expr_format(src, &err, msg, sizeof(msg)) ...
 *	while (... next row ...)
 *		if (crm_expr_match(e, row.v, row.len, row.n))
 *			... the row is selected ...
 *	crm_expr_close(e);
 *
 * Logic has three values: a comparison with an empty cell (or one that
 * cannot be read as the type compared) is unknown, "not" of unknown is
 * unknown, and a row is selected only when the whole expression is true.
 */
#ifndef CRM_EXPR_H
#define CRM_EXPR_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

struct crm_expr;

/* Where and why an expression cannot be compiled. */
struct crm_expr_err {
	size_t pos;    /* byte offset of the fault in the source */
	char msg[200]; /* what is wrong, without the position */
};

/* crm_expr_compile() flags. */
enum {
	/*
	 * A name that is not in the header is not an error: it gets the next
	 * column number after the header (n, n + 1, ...), in the order the
	 * names first appear, and crm_expr_column() names it. For rows that
	 * name their own columns (NDJSON): the caller keeps a list of names,
	 * compiles against it, then appends the expression's new names.
	 */
	CRM_EXPR_ANYCOL = 1
};

/*
 * Compiles src (NUL-terminated UTF-8) against the column names
 * names[0..n). cf gives custom fields their types and may be NULL; now is
 * the time "now" stands for (--as-of). Returns 0, or with err filled in:
 * CRM_EPARSE (the text is not an expression), CRM_ENOTFOUND (an unknown
 * column), CRM_EINVAL (types that cannot be compared, a bad literal or
 * regular expression); CRM_ENOMEM. names and cf are not kept.
 */
int crm_expr_compile(const char *src, const char *const *names, size_t n,
    const struct crm_config *cf, int64_t now, unsigned flags,
    struct crm_expr **out, struct crm_expr_err *err);
void crm_expr_close(struct crm_expr *e);

/* Results of crm_expr_eval(). */
enum { CRM_EXPR_FALSE = 0, CRM_EXPR_TRUE = 1, CRM_EXPR_UNKNOWN = 2 };

/*
 * Evaluates e against one row: cell i is v[i][0..len[i]), and v[i][len[i]]
 * must be a NUL byte (the readers of csvio.h and input.h end every cell
 * so). Columns past n are empty. e is only read: one expression may be
 * evaluated by several threads at once. crm_expr_eval() returns one of the
 * three values; crm_expr_match() returns 1 for true, 0 for false or unknown.
 */
int crm_expr_eval(const struct crm_expr *e, const char *const *v,
    const size_t *len, size_t n);
int crm_expr_match(const struct crm_expr *e, const char *const *v,
    const size_t *len, size_t n);

/*
 * The columns an expression reads: *cols gets its column numbers, in the
 * order of first reference, each once. With CRM_EXPR_ANYCOL, the number
 * of columns it added past the header, and the name of any column number
 * it refers to (NULL for a column of the header it does not refer to).
 */
size_t crm_expr_refs(const struct crm_expr *e, const size_t **cols);
size_t crm_expr_added(const struct crm_expr *e);
const char *crm_expr_column(const struct crm_expr *e, size_t col);

/*
 * The column of names[0..n) that ref names, as expressions resolve it:
 * the first header equal to ref; else, when ref is a core or statistics
 * column name in any spelling crm(7) allows ("First Name" for
 * first_name), the first header that is a spelling of that column.
 * Returns the column number, or -1.
 */
long crm_expr_lookup(const char *const *names, size_t n, const char *ref,
    size_t reflen);

/*
 * For a person: "column C: message" ("line L, column C: ..." when src has
 * several lines; C counts characters from 1), then on the next lines the
 * line of src with the fault and a caret under it, each line after
 * indent. No newline at the end. Returns the length it needed, as
 * snprintf(3) does.
 */
int crm_expr_format(const char *src, const struct crm_expr_err *err,
    const char *indent, char *out, size_t outlen);

#endif
