/*
 * The expression language: a lexer, a recursive-descent parser that types
 * and resolves as it goes, and an evaluator over a flat array of nodes.
 * The grammar, lowest precedence first:
 *
 *	expr  := and { "or" and }
 *	and   := unary { "and" unary }
 *	unary := "not" unary | "(" expr ")" | value [ tail ]
 *	tail  := cmp value | [ "not" ] "in" "(" value { "," value } ")"
 *	       | ( "=~" | "!~" | "matches" ) regex
 *	       | "contains" str | "starts" "with" str | "ends" "with" str
 *	       | "has" str | "is" [ "not" ] "empty"
 *	value := primary { ( "+" | "-" ) duration }
 */
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dec.h"
#include "errors.h"
#include "expr.h"
#include "rec.h"
#include "text.h"
#include "times.h"

/* Nesting of parentheses and "not": deeper is refused, so that neither
 * the parser nor the evaluator can run out of stack. */
#define MAXDEPTH 100
/* Durations count at most this many units, so that no sum overflows. */
#define MAXUNITS 1000000
#define MAXSECS ((int64_t)1 << 50)

enum ty {
	TY_ANY, /* a column without a type: typed by what it meets */
	TY_STR,
	TY_NUM,
	TY_TIME,
	TY_BOOL,
	TY_ENUM,
	TY_TAGS,
	TY_DUR /* a duration: only after + or - */
};

enum tok {
	T_END,
	T_NAME, /* a bare word: a keyword or a column */
	T_COL,  /* `a quoted column` */
	T_STR,
	T_RE,
	T_NUM,
	T_DATE,
	T_DUR,
	T_LP,
	T_RP,
	T_COMMA,
	T_PLUS,
	T_MINUS,
	T_EQ,
	T_NE,
	T_LT,
	T_LE,
	T_GT,
	T_GE,
	T_MATCH,
	T_NMATCH
};

enum op {
	N_AND,   /* kids[l .. l + r) */
	N_OR,    /* kids[l .. l + r) */
	N_NOT,   /* nodes[l] */
	N_CONST, /* neg is the value */
	N_TRUTH, /* a is a boolean */
	N_CMP,   /* a cmp b, compared as type as */
	N_IN,    /* a in items[l .. l + r); neg: not in */
	N_RE,    /* a =~ res[l]; neg: !~ */
	N_CONTAINS,
	N_STARTS,
	N_ENDS,
	N_HAS,  /* a has b */
	N_EMPTY /* a is empty; neg: is not empty */
};

/* A span of the string arena. */
struct span {
	size_t off, len;
};

struct operand {
	int lit;    /* a literal, else a column */
	int ty;     /* its type (a literal converted to what it meets) */
	size_t col; /* column */
	int months; /* a column: a duration added, months first */
	int64_t secs;
	size_t ef, en; /* enum: its values are spans[ef .. ef + en) */
	/* a literal's value as its type */
	struct crm_dec num;
	int64_t t;
	int b;
	long ord; /* enum: the index of the value */
	struct span s;
	size_t pos; /* in the source */
};

struct node {
	int op, cmp, as, neg;
	struct operand a, b;
	size_t l, r;
};

struct crm_expr {
	struct node *nodes;
	size_t nn, ncap;
	size_t *kids;
	size_t nkids, kcap;
	struct operand *items;
	size_t ni, icap;
	regex_t **res;
	size_t nre;
	struct span *spans;
	size_t nspans, scap;
	struct crm_buf str;
	size_t *refs;    /* referenced columns, each once */
	size_t *refname; /* the span of each one's name */
	size_t nrefs, rcap;
	size_t nhdr, added;
	size_t root;
};

struct token {
	int kind;
	size_t pos, len; /* its bytes in the source */
	struct crm_dec num;
	int64_t t;
	int months; /* a duration */
	int64_t secs;
	size_t body; /* a quoted token: the bytes between its quotes */
	int icase;   /* a regular expression's i flag */
};

struct parser {
	const char *src;
	size_t pos; /* the next byte to read */
	struct token tok;
	const char *const *names;
	size_t nnames;
	const struct crm_config *cf;
	int64_t now;
	unsigned flags;
	int depth;
	struct crm_expr *e;
	struct crm_expr_err *err;
	struct crm_buf tmp;
};

/* Columns with a type of their own (DESIGN.md §2), by their core name. */
static const struct {
	const char *name;
	int ty;
} builtin[] = { { "id", TY_NUM }, { "email", TY_STR }, { "first_name", TY_STR },
	{ "last_name", TY_STR }, { "phone", TY_STR }, { "company", TY_STR },
	{ "title", TY_STR }, { "city", TY_STR }, { "country", TY_STR },
	{ "source", TY_STR }, { "stage", TY_STR }, { "owner", TY_STR },
	{ "tags", TY_TAGS }, { "email_opt_in", TY_BOOL },
	{ "consent_at", TY_TIME }, { "consent_source", TY_STR },
	{ "created_at", TY_TIME }, { "updated_at", TY_TIME },
	{ "ext_id", TY_STR }, { "first_seen_at", TY_TIME },
	{ "last_seen_at", TY_TIME }, { "events", TY_NUM },
	{ "first_purchase_at", TY_TIME }, { "last_purchase_at", TY_TIME },
	{ "purchases", TY_NUM }, { "purchase_days", TY_NUM },
	{ "revenue", TY_NUM } };
#define NBUILTIN (sizeof(builtin) / sizeof(builtin[0]))

static const char *const tynames[] = { "text", "text", "a number", "a time",
	"a boolean", "one of a list", "a tag set", "a duration" };

static int fail(struct parser *p, size_t pos, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
fail(struct parser *p, size_t pos, int rc, const char *fmt, ...)
{
	va_list ap;

	if (rc == CRM_ENOMEM)
		fmt = "out of memory";
	p->err->pos = pos;
	va_start(ap, fmt);
	vsnprintf(p->err->msg, sizeof(p->err->msg), fmt, ap);
	va_end(ap);
	return rc;
}

/* ---- names ---- */

/* Header spellings of a core name: any case, spaces and hyphens for
 * underscores (crm(7), STREAMS). */
static int
loose_eq(const char *s, size_t n, const char *core)
{
	size_t i;
	int c;

	for (i = 0; i < n && core[i] != '\0'; i++) {
		c = (unsigned char)s[i];
		c = c == ' ' || c == '-' ? '_' :
		    c >= 'A' && c <= 'Z' ? c + 32 :
					   c;
		if (c != core[i])
			return 0;
	}
	return i == n && core[i] == '\0';
}

static int
builtin_of(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < NBUILTIN; i++)
		if (loose_eq(s, n, builtin[i].name))
			return (int)i;
	return -1;
}

long
crm_expr_lookup(const char *const *names, size_t n, const char *ref,
    size_t reflen)
{
	size_t i;
	int b;

	for (i = 0; i < n; i++)
		if (strlen(names[i]) == reflen &&
		    memcmp(names[i], ref, reflen) == 0)
			return (long)i;
	if ((b = builtin_of(ref, reflen)) < 0)
		return -1;
	for (i = 0; i < n; i++)
		if (builtin_of(names[i], strlen(names[i])) == b)
			return (long)i;
	return -1;
}

/* ---- storage ---- */

static int
grow(void **p, size_t *cap, size_t n, size_t size)
{
	size_t c;
	void *q;

	if (n < *cap)
		return 0;
	c = *cap ? *cap * 2 : 16;
	if ((q = realloc(*p, c * size)) == NULL)
		return CRM_ENOMEM;
	*p = q;
	*cap = c;
	return 0;
}

static int
add_span(struct crm_expr *e, const char *s, size_t n, size_t *idx)
{
	if (grow((void **)&e->spans, &e->scap, e->nspans, sizeof(*e->spans)))
		return CRM_ENOMEM;
	e->spans[e->nspans].off = e->str.len;
	e->spans[e->nspans].len = n;
	if (crm_buf_add(&e->str, s, n) || crm_buf_addc(&e->str, '\0'))
		return CRM_ENOMEM;
	*idx = e->nspans++;
	return 0;
}

static const char *
span_str(const struct crm_expr *e, struct span s)
{
	return e->str.p + s.off;
}

static int
new_node(struct parser *p, int op, size_t *idx)
{
	struct crm_expr *e = p->e;

	if (grow((void **)&e->nodes, &e->ncap, e->nn, sizeof(*e->nodes)))
		return fail(p, p->tok.pos, CRM_ENOMEM, " ");
	memset(&e->nodes[e->nn], 0, sizeof(e->nodes[0]));
	e->nodes[e->nn].op = op;
	*idx = e->nn++;
	return 0;
}

/* ---- the lexer ---- */

static int
is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
is_word(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	    c == '.' || is_digit(c) || c >= 0x80;
}

static int
is_word_start(int c)
{
	return is_word(c) && c != '.' && !is_digit(c);
}

static unsigned char
at(const struct parser *p, size_t i)
{
	return (unsigned char)p->src[i];
}

/* A quoted string, a `quoted name` or a /regular expression/: up to the
 * closing q, with a backslash escaping the next byte. */
static int
lex_quoted(struct parser *p, int q)
{
	size_t i = p->pos + 1;

	for (; at(p, i) != '\0'; i++) {
		if (at(p, i) == q && !(q == '`' && at(p, i + 1) == '`'))
			break;
		if (at(p, i) == (q == '`' ? '`' : '\\'))
			i += at(p, i + 1) != '\0';
	}
	if (at(p, i) == '\0')
		return fail(p, p->pos, CRM_EPARSE, "%s is not closed",
		    q == '`'     ? "quoted column name" :
			q == '/' ? "regular expression" :
				   "string");
	p->tok.body = i - p->pos - 1;
	p->tok.len = i + 1 - p->pos;
	p->pos = i + 1;
	for (; q == '/' && is_word(at(p, p->pos)); p->pos++, p->tok.len++) {
		if (at(p, p->pos) != 'i')
			return fail(p, p->pos, CRM_EPARSE,
			    "unknown flag '%c' of a regular expression: only i "
			    "is known",
			    at(p, p->pos));
		p->tok.icase = 1;
	}
	return 0;
}

/* A date or time literal: YYYY-MM-DD, optionally Thh:mm[:ss][Z|±hh:mm]. */
static int
lex_date(struct parser *p)
{
	size_t i = p->pos;
	int is_date;

	while (is_digit(at(p, i)) || at(p, i) == '-')
		i++;
	if ((at(p, i) == 'T' || at(p, i) == 't') && is_digit(at(p, i + 1))) {
		for (i++;
		     is_digit(at(p, i)) || at(p, i) == ':' || at(p, i) == '.';
		     i++)
			;
		if (at(p, i) == 'Z' || at(p, i) == 'z')
			i++;
		else if (at(p, i) == '+' || at(p, i) == '-')
			for (i++; is_digit(at(p, i)) || at(p, i) == ':'; i++)
				;
	}
	if (is_word(at(p, i)) ||
	    crm_time_parse(p->src + p->pos, i - p->pos, &p->tok.t, &is_date))
		return fail(p, p->pos, CRM_EPARSE, "invalid date or time");
	p->tok.kind = T_DATE;
	p->tok.len = i - p->pos;
	p->pos = i;
	return 0;
}

static int
unit_of(const char *s, size_t n, int *months, int64_t *secs)
{
	static const struct {
		const char *u;
		int months;
		int64_t secs;
	} units[] = { { "h", 0, 3600 }, { "d", 0, 86400 },
		{ "w", 0, 7 * 86400 }, { "mo", 1, 0 }, { "y", 12, 0 } };
	size_t i;

	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strlen(units[i].u) == n && memcmp(units[i].u, s, n) == 0) {
			*months = units[i].months;
			*secs = units[i].secs;
			return 0;
		}
	return -1;
}

/* A duration: a whole number and a unit, as in 90d. */
static int
lex_dur(struct parser *p, size_t digits, size_t i)
{
	size_t u = i;
	int64_t count, secs;
	int months;

	while (is_word(at(p, i)))
		i++;
	if (unit_of(p->src + u, i - u, &months, &secs))
		return fail(p, u, CRM_EPARSE,
		    "unknown unit \"%.*s\": use h, d, w, mo or y", (int)(i - u),
		    p->src + u);
	if (crm_int_parse(p->src + p->pos, digits, &count) || count > MAXUNITS)
		return fail(p, p->pos, CRM_EPARSE,
		    "a duration is a whole number of at most %d units",
		    MAXUNITS);
	p->tok.kind = T_DUR;
	p->tok.months = (int)count * months;
	p->tok.secs = count * secs;
	p->tok.len = i - p->pos;
	p->pos = i;
	return 0;
}

static int
lex_number(struct parser *p)
{
	size_t i = p->pos, digits;

	while (is_digit(at(p, i)))
		i++;
	digits = i - p->pos;
	if (digits == 4 && at(p, i) == '-' && is_digit(at(p, i + 1)))
		return lex_date(p);
	if (is_word_start(at(p, i)))
		return lex_dur(p, digits, i);
	if (at(p, i) == '.' && is_digit(at(p, i + 1)))
		for (i++; is_digit(at(p, i)); i++)
			;
	if (is_word(at(p, i)))
		return fail(p, p->pos, CRM_EPARSE, "invalid number");
	if (crm_dec_parse(p->src + p->pos, i - p->pos, &p->tok.num))
		return fail(p, p->pos, CRM_EPARSE,
		    "a number has at most 18 digits, 9 after the point");
	p->tok.kind = T_NUM;
	p->tok.len = i - p->pos;
	p->pos = i;
	return 0;
}

/* Operators of one or two bytes. */
static int
lex_op(struct parser *p)
{
	static const struct {
		const char *s;
		int kind;
	} ops[] = { { "==", T_EQ }, { "!=", T_NE }, { "<=", T_LE },
		{ ">=", T_GE }, { "=~", T_MATCH }, { "!~", T_NMATCH },
		{ "<", T_LT }, { ">", T_GT }, { "(", T_LP }, { ")", T_RP },
		{ ",", T_COMMA }, { "+", T_PLUS }, { "-", T_MINUS } };
	size_t i, n;

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		n = strlen(ops[i].s);
		if (strncmp(p->src + p->pos, ops[i].s, n) == 0) {
			p->tok.kind = ops[i].kind;
			p->tok.len = n;
			p->pos += n;
			return 0;
		}
	}
	if (at(p, p->pos) == '=')
		return fail(p, p->pos, CRM_EPARSE, "use == to compare");
	if (at(p, p->pos) == '!')
		return fail(p, p->pos, CRM_EPARSE, "use not to negate");
	if (at(p, p->pos) < 0x20 || at(p, p->pos) == 0x7f)
		return fail(p, p->pos, CRM_EPARSE, "unexpected byte 0x%02x",
		    at(p, p->pos));
	return fail(p, p->pos, CRM_EPARSE, "unexpected '%c'", at(p, p->pos));
}

static int
lex(struct parser *p)
{
	int c;

	while (is_space(at(p, p->pos)))
		p->pos++;
	memset(&p->tok, 0, sizeof(p->tok));
	p->tok.pos = p->pos;
	c = at(p, p->pos);
	if (c == '\0')
		p->tok.kind = T_END;
	else if (c == '"' || c == '\'' || c == '`' || c == '/') {
		p->tok.kind = c == '`' ? T_COL : c == '/' ? T_RE : T_STR;
		return lex_quoted(p, c);
	} else if (is_digit(c))
		return lex_number(p);
	else if (is_word_start(c)) {
		while (is_word(at(p, p->pos)))
			p->pos++;
		p->tok.kind = T_NAME;
		p->tok.len = p->pos - p->tok.pos;
	} else
		return lex_op(p);
	return 0;
}

/* Whether the current token is the keyword kw. Keywords are lower case;
 * a column of that name is written `quoted`. */
static int
is_kw(const struct parser *p, const char *kw)
{
	return p->tok.kind == T_NAME && p->tok.len == strlen(kw) &&
	    memcmp(p->src + p->tok.pos, kw, p->tok.len) == 0;
}

static int
expect_kw(struct parser *p, const char *kw)
{
	if (!is_kw(p, kw))
		return fail(p, p->tok.pos, CRM_EPARSE, "expected %s", kw);
	return lex(p);
}

/* The text of a string, name or regular expression token, unquoted, in
 * p->tmp (NUL-terminated). */
static int
unquote(struct parser *p)
{
	const char *s = p->src + p->tok.pos + 1;
	size_t i, n = p->tok.body;
	int q = s[-1];

	p->tmp.len = 0;
	for (i = 0; i < n; i++) {
		if (q == '`' && s[i] == '`')
			i++; /* `` is one backquote */
		else if (s[i] == '\\' && i + 1 < n &&
		    (s[i + 1] == q || (q != '/' && s[i + 1] == '\\')))
			i++; /* \" \' \\ and, in /re/, \/ */
		if (crm_buf_addc(&p->tmp, s[i]))
			return fail(p, p->tok.pos, CRM_ENOMEM, " ");
	}
	if (crm_buf_nul(&p->tmp))
		return fail(p, p->tok.pos, CRM_ENOMEM, " ");
	return 0;
}

/* ---- operands ---- */

static const char *const reserved[] = { "and", "or", "not", "in", "is", "empty",
	"contains", "starts", "ends", "with", "has", "matches", NULL };

static int
is_reserved(const struct parser *p)
{
	size_t i;

	for (i = 0; reserved[i] != NULL; i++)
		if (is_kw(p, reserved[i]))
			return 1;
	return 0;
}

/* What an operand is called in messages: its column, or its text. */
static void
describe(const struct parser *p, const struct operand *o, char *out, size_t len)
{
	const struct crm_expr *e = p->e;
	size_t i;

	for (i = 0; !o->lit && i < e->nrefs; i++)
		if (e->refs[i] == o->col) {
			snprintf(out, len, "%s",
			    span_str(e, e->spans[e->refname[i]]));
			return;
		}
	for (i = o->pos; p->src[i] != '\0' && !is_space(at(p, i)) &&
	     p->src[i] != ')' && p->src[i] != ',';
	     i++)
		;
	snprintf(out, len, "%.*s", (int)(i - o->pos > 60 ? 60 : i - o->pos),
	    p->src + o->pos);
}

static int
enum_values(struct parser *p, struct operand *o, const struct crm_fielddef *d)
{
	size_t i, sp;

	o->ef = p->e->nspans;
	o->en = d->nvalues;
	for (i = 0; i < d->nvalues; i++)
		if (add_span(p->e, d->values[i], strlen(d->values[i]), &sp))
			return fail(p, o->pos, CRM_ENOMEM, " ");
	return 0;
}

/* A column's type: its own if it is a core or statistics column, else
 * the config's, else none. */
static int
column_type(struct parser *p, struct operand *o, const char *name, size_t n)
{
	const struct crm_fielddef *d;
	int b = builtin_of(name, n);

	o->ty = TY_ANY;
	if (b >= 0)
		o->ty = builtin[b].ty;
	else if (p->cf != NULL && (d = crm_config_field(p->cf, name, n))) {
		o->ty = d->type == CRM_T_INT || d->type == CRM_T_DECIMAL ?
		    TY_NUM :
		    d->type == CRM_T_DATE ? TY_TIME :
		    d->type == CRM_T_BOOL ? TY_BOOL :
		    d->type == CRM_T_ENUM ? TY_ENUM :
					    TY_STR;
		if (o->ty == TY_ENUM)
			return enum_values(p, o, d);
	}
	return 0;
}

/* Under CRM_EXPR_ANYCOL, the number of a name not in the header: the one
 * it got at its first reference, or the next free one. */
static size_t
added_column(struct parser *p, const char *name, size_t n)
{
	struct crm_expr *e = p->e;
	struct span s;
	size_t i;
	int b = builtin_of(name, n);

	for (i = 0; i < e->nrefs; i++) {
		if (e->refs[i] < e->nhdr)
			continue;
		s = e->spans[e->refname[i]];
		if ((s.len == n && memcmp(span_str(e, s), name, n) == 0) ||
		    (b >= 0 && builtin_of(span_str(e, s), s.len) == b))
			return e->refs[i];
	}
	return e->nhdr + e->added++;
}

/* Notes a referenced column once, with the name it was referred to by,
 * for crm_expr_refs() and crm_expr_column(). */
static int
note_ref(struct parser *p, size_t col, const char *name, size_t n)
{
	struct crm_expr *e = p->e;
	size_t i, cap, *a, sp;

	for (i = 0; i < e->nrefs; i++)
		if (e->refs[i] == col)
			return 0;
	if (e->nrefs == e->rcap) {
		cap = e->rcap ? e->rcap * 2 : 8;
		if ((a = realloc(e->refs, cap * sizeof(*a))) == NULL)
			return fail(p, p->tok.pos, CRM_ENOMEM, " ");
		e->refs = a;
		if ((a = realloc(e->refname, cap * sizeof(*a))) == NULL)
			return fail(p, p->tok.pos, CRM_ENOMEM, " ");
		e->refname = a;
		e->rcap = cap;
	}
	if (add_span(e, name, n, &sp))
		return fail(p, p->tok.pos, CRM_ENOMEM, " ");
	e->refs[e->nrefs] = col;
	e->refname[e->nrefs++] = sp;
	return 0;
}

static int
column(struct parser *p, struct operand *o)
{
	const char *name = p->src + p->tok.pos, *hname;
	size_t n = p->tok.len;
	long col;
	int rc;

	if (p->tok.kind == T_COL) {
		if ((rc = unquote(p)))
			return rc;
		name = p->tmp.p;
		n = p->tmp.len;
		if (n == 0)
			return fail(p, p->tok.pos, CRM_EPARSE,
			    "a column name is not empty");
	}
	o->lit = 0;
	col = crm_expr_lookup(p->names, p->nnames, name, n);
	if (col < 0 && !(p->flags & CRM_EXPR_ANYCOL))
		return fail(p, p->tok.pos, CRM_ENOTFOUND,
		    "unknown column \"%.*s\"", (int)(n > 80 ? 80 : n), name);
	o->col = col < 0 ? added_column(p, name, n) : (size_t)col;
	hname = col < 0 ? name : p->names[col];
	if ((rc = column_type(p, o, hname, col < 0 ? n : strlen(hname))) ||
	    (rc = note_ref(p, o->col, name, n)))
		return rc;
	return lex(p);
}

static int
literal_string(struct parser *p, struct operand *o)
{
	size_t sp;
	int rc;

	if ((rc = unquote(p)))
		return rc;
	if (add_span(p->e, p->tmp.p, p->tmp.len, &sp))
		return fail(p, o->pos, CRM_ENOMEM, " ");
	o->s = p->e->spans[sp];
	o->ty = TY_STR;
	return 0;
}

static int64_t
floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static int
primary(struct parser *p, struct operand *o)
{
	int rc = 0;

	memset(o, 0, sizeof(*o));
	o->pos = p->tok.pos;
	o->lit = 1;
	switch (p->tok.kind) {
	case T_COL:
		return column(p, o);
	case T_NAME:
		if (is_kw(p, "now") || is_kw(p, "today")) {
			o->ty = TY_TIME;
			o->t = is_kw(p, "now") ?
			    p->now :
			    floor_div(p->now, 86400) * 86400;
		} else if (is_kw(p, "true") || is_kw(p, "false")) {
			o->ty = TY_BOOL;
			o->b = is_kw(p, "true");
		} else if (is_reserved(p))
			return fail(p, p->tok.pos, CRM_EPARSE,
			    "expected a value, found \"%.*s\"", (int)p->tok.len,
			    p->src + p->tok.pos);
		else
			return column(p, o);
		break;
	case T_STR:
		rc = literal_string(p, o);
		break;
	case T_MINUS:
		if ((rc = lex(p)) == 0 && p->tok.kind != T_NUM)
			rc = fail(p, p->tok.pos, CRM_EPARSE,
			    "expected a number after -");
		o->num = p->tok.num;
		o->num.v = -o->num.v;
		o->ty = TY_NUM;
		break;
	case T_NUM:
		o->num = p->tok.num;
		o->ty = TY_NUM;
		break;
	case T_DATE:
		o->t = p->tok.t;
		o->ty = TY_TIME;
		break;
	case T_DUR:
		o->months = p->tok.months;
		o->secs = p->tok.secs;
		o->ty = TY_DUR;
		break;
	case T_END:
		return fail(p, p->tok.pos, CRM_EPARSE,
		    "the expression ends where a value is expected");
	default:
		return fail(p, p->tok.pos, CRM_EPARSE, "expected a value");
	}
	return rc ? rc : lex(p);
}

/* Calendar arithmetic on days since 1970-01-01 (the proleptic Gregorian
 * calendar, as in times.c). */
static void
civil(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = floor_div(z, 146097);
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static unsigned
month_days(int64_t y, unsigned m)
{
	static const unsigned char days[] = { 31, 28, 31, 30, 31, 30, 31, 31,
		30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return days[m - 1] + (m == 2 && leap);
}

/* t moved by months (the day kept, or the month's last if it has fewer),
 * then by secs. */
static int64_t
shift(int64_t t, int months, int64_t secs)
{
	int64_t days, sod, y, mm;
	unsigned m, d;

	if (months != 0) {
		days = floor_div(t, 86400);
		sod = t - days * 86400;
		civil(days, &y, &m, &d);
		mm = y * 12 + (m - 1) + months;
		y = floor_div(mm, 12);
		m = (unsigned)(mm - y * 12 + 1);
		if (d > month_days(y, m))
			d = month_days(y, m);
		t = crm_days_from_civil((int)y, m, d) * 86400 + sod;
	}
	return t + secs;
}

/* value := primary { (+|-) duration }: a time moved by durations, months
 * and years first, then weeks, days and hours. */
static int
value(struct parser *p, struct operand *o)
{
	struct operand d;
	size_t pos;
	int rc, sign;
	char what[64];

	if ((rc = primary(p, o)))
		return rc;
	while (p->tok.kind == T_PLUS || p->tok.kind == T_MINUS) {
		sign = p->tok.kind == T_PLUS ? 1 : -1;
		pos = p->tok.pos;
		if ((rc = lex(p)) || (rc = primary(p, &d)))
			return rc;
		if (d.ty != TY_DUR)
			return fail(p, d.pos, CRM_EINVAL,
			    "only a duration such as 30d can be added to or "
			    "taken from a time");
		if (!o->lit && o->ty == TY_ANY)
			o->ty = TY_TIME;
		if (o->ty != TY_TIME) {
			describe(p, o, what, sizeof(what));
			return fail(p, pos, CRM_EINVAL,
			    "%s is %s, not a time: a duration cannot be "
			    "added to it",
			    what, tynames[o->ty]);
		}
		o->months += sign * d.months;
		o->secs += sign * d.secs;
		if (o->months > 12 * MAXUNITS || o->months < -12 * MAXUNITS ||
		    o->secs > MAXSECS || o->secs < -MAXSECS)
			return fail(p, d.pos, CRM_EINVAL, "too long a time");
	}
	if (o->lit && o->ty == TY_TIME) {
		o->t = shift(o->t, o->months, o->secs);
		o->months = 0;
		o->secs = 0;
	}
	return 0;
}

/* ---- types ---- */

static int
blank(const struct crm_expr *e, const struct operand *o)
{
	const char *s = span_str(e, o->s);
	size_t n = o->s.len;

	crm_trim(&s, &n);
	return n == 0;
}

static int
incompatible(struct parser *p, const struct operand *a, const struct operand *b,
    size_t pos)
{
	char x[64], y[64];

	describe(p, a, x, sizeof(x));
	describe(p, b, y, sizeof(y));
	return fail(p, pos, CRM_EINVAL, "cannot compare %s (%s) with %s (%s)%s",
	    x, tynames[a->ty], y, tynames[b->ty],
	    a->ty == TY_STR && b->lit ? ": write text in quotes" : "");
}

static long
enum_ord(const struct crm_expr *e, size_t ef, size_t en, const char *s,
    size_t n)
{
	size_t i;

	for (i = 0; i < en; i++)
		if (e->spans[ef + i].len == n &&
		    memcmp(span_str(e, e->spans[ef + i]), s, n) == 0)
			return (long)i;
	return -1;
}

static int
enum_error(struct parser *p, const struct operand *a, const struct operand *b,
    const char *s, size_t n)
{
	const struct crm_expr *e = p->e;
	char what[64], list[120];
	size_t i, k = 0;

	describe(p, a, what, sizeof(what));
	list[0] = '\0';
	for (i = 0; i < a->en && k < sizeof(list); i++)
		k += (size_t)snprintf(list + k, sizeof(list) - k, "%s%s",
		    i ? ", " : "", span_str(e, e->spans[a->ef + i]));
	return fail(p, b->pos, CRM_EINVAL, "\"%.*s\" is not a value of %s: %s",
	    (int)(n > 60 ? 60 : n), s, what, list);
}

/* A string literal b read as the type of a: a typed column meets text. */
static int
convert(struct parser *p, const struct operand *a, struct operand *b)
{
	const char *s = span_str(p->e, b->s);
	size_t n = b->s.len;
	char what[64];
	int bad;

	crm_trim(&s, &n);
	switch (a->ty) {
	case TY_NUM:
		bad = crm_dec_parse(s, n, &b->num) != 0;
		break;
	case TY_TIME:
		bad = crm_time_parse(s, n, &b->t, NULL) != 0;
		break;
	case TY_BOOL:
		bad = crm_bool_parse(s, n, &b->b) != 0;
		break;
	case TY_ENUM:
		bad = (b->ord = enum_ord(p->e, a->ef, a->en, s, n)) < 0;
		break;
	default:
		return incompatible(p, a, b, b->pos);
	}
	if (bad && a->ty == TY_ENUM)
		return enum_error(p, a, b, s, n);
	if (bad) {
		describe(p, a, what, sizeof(what));
		return fail(p, b->pos, CRM_EINVAL,
		    "%s is %s, and \"%.*s\" is not one", what, tynames[a->ty],
		    (int)(n > 60 ? 60 : n), s);
	}
	b->ty = a->ty;
	return 0;
}

/*
 * The type that a and b are compared as; literals are converted to it.
 * Two columns without a type are compared as the cells look (TY_ANY).
 */
static int
unify(struct parser *p, struct operand *a, struct operand *b, size_t pos,
    int *as)
{
	const struct operand *bad = a->ty == TY_DUR ? a : b;
	char what[64];

	if (a->ty == TY_DUR || b->ty == TY_DUR)
		return fail(p, bad->pos, CRM_EINVAL,
		    "a duration is not a value: add it to a time, as in "
		    "now - 90d");
	if (a->ty == TY_TAGS || b->ty == TY_TAGS) {
		describe(p, a->ty == TY_TAGS ? a : b, what, sizeof(what));
		return fail(p, pos, CRM_EINVAL,
		    "%s is a tag set: test it with has, as in %s has \"vip\"",
		    what, what);
	}
	bad = a->lit && a->ty == TY_STR && blank(p->e, a) ? a : b;
	if (bad->lit && bad->ty == TY_STR && blank(p->e, bad))
		return fail(p, bad->pos, CRM_EINVAL,
		    "an empty value never compares true: test it with "
		    "is empty or is not empty");
	if (a->ty == b->ty)
		*as = a->ty == TY_ENUM && !b->lit ? TY_STR : a->ty;
	else if (!a->lit && a->ty == TY_ANY)
		*as = b->ty == TY_ENUM ? TY_STR : b->ty;
	else if (!b->lit && b->ty == TY_ANY)
		*as = a->ty == TY_ENUM ? TY_STR : a->ty;
	else if (!b->lit && a->ty + b->ty == TY_STR + TY_ENUM &&
	    (a->ty == TY_STR || b->ty == TY_STR))
		*as = TY_STR;
	else if (b->lit && b->ty == TY_STR)
		return convert(p, a, b) ? CRM_EINVAL : (*as = a->ty, 0);
	else
		return incompatible(p, a, b, pos);
	return 0;
}

/* ---- conditions ---- */

enum { C_EQ, C_NE, C_LT, C_LE, C_GT, C_GE };

static int
cmp_of(int kind)
{
	switch (kind) {
	case T_EQ:
		return C_EQ;
	case T_NE:
		return C_NE;
	case T_LT:
		return C_LT;
	case T_LE:
		return C_LE;
	case T_GT:
		return C_GT;
	case T_GE:
		return C_GE;
	}
	return -1;
}

/* The same comparison with its operands swapped: 5 < x is x > 5. */
static int
flip(int cmp)
{
	static const int f[] = { C_EQ, C_NE, C_GT, C_GE, C_LT, C_LE };

	return f[cmp];
}

static int
comparison(struct parser *p, struct operand *a, size_t *idx)
{
	struct operand b, t;
	struct node *n;
	size_t pos = p->tok.pos;
	int cmp = cmp_of(p->tok.kind), as, rc;

	if ((rc = lex(p)) || (rc = value(p, &b)))
		return rc;
	if (a->lit && !b.lit) {
		t = *a;
		*a = b;
		b = t;
		cmp = flip(cmp);
	}
	if ((rc = unify(p, a, &b, pos, &as)))
		return rc;
	if ((as == TY_BOOL) && cmp != C_EQ && cmp != C_NE)
		return fail(p, pos, CRM_EINVAL,
		    "booleans have no order: compare them with == or !=");
	if ((rc = new_node(p, N_CMP, idx)))
		return rc;
	n = &p->e->nodes[*idx];
	n->a = *a;
	n->b = b;
	n->cmp = cmp;
	n->as = as;
	return 0;
}

static int
need_column(struct parser *p, const struct operand *a, const char *op)
{
	if (a->lit)
		return fail(p, a->pos, CRM_EINVAL,
		    "the left of %s is a column, not a value", op);
	return 0;
}

static int
add_item(struct parser *p, const struct operand *b)
{
	struct crm_expr *e = p->e;

	if (grow((void **)&e->items, &e->icap, e->ni, sizeof(*e->items)))
		return fail(p, b->pos, CRM_ENOMEM, " ");
	e->items[e->ni++] = *b;
	return 0;
}

/* in ( value, ... ): every value compared as one type. */
static int
in_list(struct parser *p, struct operand *a, int neg, size_t *idx)
{
	struct operand b;
	size_t first = p->e->ni, count = 0;
	int as = -1, t, rc;

	if ((rc = need_column(p, a, "in")) || (rc = lex(p)))
		return rc;
	if (p->tok.kind != T_LP)
		return fail(p, p->tok.pos, CRM_EPARSE, "expected ( after in");
	do {
		if ((rc = lex(p)) || (rc = value(p, &b)))
			return rc;
		if (!b.lit)
			return fail(p, b.pos, CRM_EINVAL,
			    "a list holds values, not columns");
		if ((rc = unify(p, a, &b, b.pos, &t)))
			return rc;
		if (as >= 0 && t != as)
			return fail(p, b.pos, CRM_EINVAL,
			    "the values of a list are of one type");
		as = t;
		if ((rc = add_item(p, &b)))
			return rc;
		count++;
	} while (p->tok.kind == T_COMMA);
	if (p->tok.kind != T_RP)
		return fail(p, p->tok.pos, CRM_EPARSE, "expected , or )");
	if ((rc = new_node(p, N_IN, idx)))
		return rc;
	p->e->nodes[*idx].a = *a;
	p->e->nodes[*idx].as = as;
	p->e->nodes[*idx].neg = neg;
	p->e->nodes[*idx].l = first;
	p->e->nodes[*idx].r = count;
	return lex(p);
}

/*
 * regcomp(3) and regexec(3) of glibc take exponential time or memory on
 * some expressions: + and intervals copy what they repeat, so nested
 * repetitions multiply, and a repetition of a repetition, as in (x*)+,
 * gets slower by about three times at each level. So an expression is
 * refused when an estimate of its size is over RE_MAXSIZE, or when
 * repetitions nest more than RE_MAXNEST deep (POSIX leaves a++ undefined
 * anyway). Sizes are doubles so that the estimate cannot overflow.
 */
#define RE_MAXSIZE 20000.0
#define RE_MAXNEST 3

static size_t
re_bracket(const char *re, size_t i)
{
	size_t j = i + 1;

	j += re[j] == '^';
	j += re[j] == ']';
	for (; re[j] != '\0' && re[j] != ']'; j++)
		if (re[j] == '[' &&
		    (re[j + 1] == ':' || re[j + 1] == '=' ||
			re[j + 1] == '.')) {
			const char *e = strchr(re + j + 2, ']');

			if (e == NULL)
				return strlen(re) - 1;
			j = (size_t)(e - re);
		}
	return re[j] == '\0' ? j - 1 : j;
}

/* The most copies an interval {m}, {m,} or {m,n} at re + i makes, and
 * where it ends; 0 if it is not an interval. */
static double
re_interval(const char *re, size_t *i)
{
	char *end;
	double m, n;

	if (!is_digit((unsigned char)re[*i + 1]))
		return 0;
	m = n = strtod(re + *i + 1, &end);
	if (*end == ',')
		n = is_digit((unsigned char)end[1]) ? strtod(end + 1, &end) :
						      (end++, m);
	if (*end != '}')
		return 0;
	*i = (size_t)(end - re);
	return n > m ? n : m > 1 ? m : 1;
}

/* The kind of re[i]: 0 an atom, 1 a repetition, 2 a group's start, 3 its
 * end; i moves to the atom's or the interval's last byte; *k gets the
 * copies a repetition makes. */
static int
re_part(const char *re, size_t *i, double *k)
{
	switch (re[*i]) {
	case '(':
		return 2;
	case ')':
		return 3;
	case '+':
		*k = 2;
		return 1;
	case '*':
	case '?':
		*k = 1;
		return 1;
	case '{':
		return (*k = re_interval(re, i)) > 0;
	case '[':
		*i = re_bracket(re, *i);
		return 0;
	case '\\':
		*i += re[*i + 1] != '\0';
		return 0;
	}
	return 0;
}

static int
re_too_big(const char *re)
{
	double size[MAXDEPTH + 1], last = 0, k = 0;
	int nest[MAXDEPTH + 1], lastnest = 0, d = 0, kind;
	size_t i;

	size[0] = 0;
	nest[0] = 0;
	for (i = 0; re[i] != '\0'; i++) {
		kind = re_part(re, &i, &k);
		if (kind == 2 && d < MAXDEPTH) {
			size[++d] = 0;
			nest[d] = 0;
			continue;
		}
		if (kind == 1) {
			/* A repetition copies what it repeats k times. */
			size[d] += last * (k - 1);
			last *= k;
			lastnest++;
		} else if (kind == 3 && d > 0) {
			last = size[d] + 1;
			lastnest = nest[d--];
			size[d] += last;
		} else {
			last = 1;
			lastnest = 0;
			size[d] += 1;
		}
		if (lastnest > nest[d])
			nest[d] = lastnest;
		if (size[d] > RE_MAXSIZE || last > RE_MAXSIZE ||
		    nest[d] > RE_MAXNEST)
			return 1;
	}
	return 0;
}

static int
regex(struct parser *p, struct operand *a, int neg, size_t *idx)
{
	struct crm_expr *e = p->e;
	regex_t *re, **res;
	char msg[120];
	int rc, icase;

	if ((rc = need_column(p, a, "a match")) || (rc = lex(p)))
		return rc;
	if (p->tok.kind != T_STR && p->tok.kind != T_RE)
		return fail(p, p->tok.pos, CRM_EPARSE,
		    "expected a regular expression, as in /^a/ or \"^a\"");
	icase = p->tok.icase;
	if ((rc = unquote(p)))
		return rc;
	if ((res = realloc(e->res, (e->nre + 1) * sizeof(*res))) == NULL ||
	    (re = malloc(sizeof(*re))) == NULL) {
		if (res != NULL)
			e->res = res;
		return fail(p, p->tok.pos, CRM_ENOMEM, " ");
	}
	e->res = res;
	if (re_too_big(p->tmp.p)) {
		free(re);
		return fail(p, p->tok.pos, CRM_EINVAL,
		    "regular expression too large, or its repetitions nest "
		    "more than %d deep",
		    RE_MAXNEST);
	}
	if ((rc = regcomp(re, p->tmp.p,
		 REG_EXTENDED | REG_NOSUB | (icase ? REG_ICASE : 0)))) {
		regerror(rc, re, msg, sizeof(msg));
		free(re);
		return fail(p, p->tok.pos, CRM_EINVAL,
		    "invalid regular expression: %s", msg);
	}
	e->res[e->nre++] = re;
	if ((rc = new_node(p, N_RE, idx)))
		return rc;
	e->nodes[*idx].a = *a;
	e->nodes[*idx].neg = neg;
	e->nodes[*idx].l = e->nre - 1;
	return lex(p);
}

/* contains, starts with, ends with, has: a column and a string. */
static int
text_op(struct parser *p, struct operand *a, int op, const char *name,
    size_t *idx)
{
	struct operand b;
	char what[64];
	int rc;

	if ((rc = need_column(p, a, name)))
		return rc;
	if (op == N_HAS && a->ty != TY_TAGS && a->ty != TY_ANY) {
		describe(p, a, what, sizeof(what));
		return fail(p, p->tok.pos, CRM_EINVAL,
		    "%s is %s, not a tag set", what, tynames[a->ty]);
	}
	if ((rc = lex(p)))
		return rc;
	if (p->tok.kind != T_STR)
		return fail(p, p->tok.pos, CRM_EPARSE,
		    "expected a string after %s, as in \"abc\"", name);
	memset(&b, 0, sizeof(b));
	b.pos = p->tok.pos;
	b.lit = 1;
	if ((rc = literal_string(p, &b)))
		return rc;
	if (blank(p->e, &b))
		return fail(p, b.pos, CRM_EINVAL,
		    "an empty string: test an empty value with is empty");
	if ((rc = new_node(p, op, idx)))
		return rc;
	p->e->nodes[*idx].a = *a;
	p->e->nodes[*idx].b = b;
	return lex(p);
}

static int
empty_test(struct parser *p, struct operand *a, size_t *idx)
{
	int rc, neg;

	if ((rc = need_column(p, a, "is empty")) || (rc = lex(p)))
		return rc;
	if ((neg = is_kw(p, "not")) && (rc = lex(p)))
		return rc;
	if ((rc = expect_kw(p, "empty")) || (rc = new_node(p, N_EMPTY, idx)))
		return rc;
	p->e->nodes[*idx].a = *a;
	p->e->nodes[*idx].neg = neg;
	return 0;
}

/* A value standing alone: a boolean column or literal. */
static int
truth(struct parser *p, struct operand *a, size_t *idx)
{
	char what[64];
	int rc, k = p->tok.kind;

	if (k != T_END && k != T_RP && !is_kw(p, "and") && !is_kw(p, "or"))
		return fail(p, p->tok.pos, CRM_EPARSE,
		    "expected an operator such as ==, in, contains or has");
	if (a->ty != TY_BOOL && (a->lit || a->ty != TY_ANY)) {
		describe(p, a, what, sizeof(what));
		return fail(p, a->pos, CRM_EINVAL,
		    "%s is %s, not a condition: compare it, as in %s == ...",
		    what, tynames[a->ty], what);
	}
	if ((rc = new_node(p, a->lit ? N_CONST : N_TRUTH, idx)))
		return rc;
	p->e->nodes[*idx].a = *a;
	p->e->nodes[*idx].neg = a->b;
	return 0;
}

static int
condition(struct parser *p, size_t *idx)
{
	struct operand a;
	int rc, op;

	if ((rc = value(p, &a)))
		return rc;
	if (cmp_of(p->tok.kind) >= 0)
		return comparison(p, &a, idx);
	if (p->tok.kind == T_MATCH || p->tok.kind == T_NMATCH ||
	    is_kw(p, "matches"))
		return regex(p, &a, p->tok.kind == T_NMATCH, idx);
	if (is_kw(p, "in"))
		return in_list(p, &a, 0, idx);
	if (is_kw(p, "not")) {
		if ((rc = lex(p)))
			return rc;
		if (!is_kw(p, "in"))
			return fail(p, p->tok.pos, CRM_EPARSE,
			    "expected in after not");
		return in_list(p, &a, 1, idx);
	}
	if (is_kw(p, "contains"))
		return text_op(p, &a, N_CONTAINS, "contains", idx);
	if (is_kw(p, "has"))
		return text_op(p, &a, N_HAS, "has", idx);
	if (is_kw(p, "starts") || is_kw(p, "ends")) {
		op = is_kw(p, "starts") ? N_STARTS : N_ENDS;
		if ((rc = lex(p)))
			return rc;
		if (!is_kw(p, "with"))
			return fail(p, p->tok.pos, CRM_EPARSE,
			    "expected with after %s",
			    op == N_STARTS ? "starts" : "ends");
		return text_op(p, &a, op,
		    op == N_STARTS ? "starts with" : "ends with", idx);
	}
	if (is_kw(p, "is"))
		return empty_test(p, &a, idx);
	return truth(p, &a, idx);
}

static int chain(struct parser *p, int op, size_t *idx);

static int
unary(struct parser *p, size_t *idx)
{
	size_t kid;
	int rc;

	if (++p->depth > MAXDEPTH)
		return fail(p, p->tok.pos, CRM_EPARSE,
		    "nested more than %d deep", MAXDEPTH);
	if (is_kw(p, "not")) {
		if ((rc = lex(p)) || (rc = unary(p, &kid)) ||
		    (rc = new_node(p, N_NOT, idx)))
			return rc;
		p->e->nodes[*idx].l = kid;
	} else if (p->tok.kind == T_LP) {
		if ((rc = lex(p)) || (rc = chain(p, N_OR, idx)))
			return rc;
		if (p->tok.kind != T_RP)
			return fail(p, p->tok.pos, CRM_EPARSE,
			    "expected ) or an operator");
		if ((rc = lex(p)))
			return rc;
	} else if ((rc = condition(p, idx)))
		return rc;
	p->depth--;
	return 0;
}

/* a or b or ..., a and b and ...: one node over all of them, so that a
 * long list costs no depth. */
static int
chain(struct parser *p, int op, size_t *idx)
{
	struct crm_expr *e = p->e;
	const char *kw = op == N_OR ? "or" : "and";
	size_t *kid = NULL, n = 0, cap = 0, k;
	int rc;

	do {
		if (n > 0 && (rc = lex(p)))
			break;
		if ((rc = op == N_OR ? chain(p, N_AND, &k) : unary(p, &k)))
			break;
		if ((rc = grow((void **)&kid, &cap, n, sizeof(*kid)))) {
			rc = fail(p, p->tok.pos, CRM_ENOMEM, " ");
			break;
		}
		kid[n++] = k;
	} while (is_kw(p, kw));
	if (rc == 0 && n == 1)
		*idx = kid[0];
	else if (rc == 0 && (rc = new_node(p, op, idx)) == 0) {
		for (k = 0; rc == 0 && k < n; k++)
			if ((rc = grow((void **)&e->kids, &e->kcap, e->nkids,
				 sizeof(*e->kids))) == 0)
				e->kids[e->nkids++] = kid[k];
		if (rc)
			rc = fail(p, p->tok.pos, CRM_ENOMEM, " ");
		e->nodes[*idx].l = e->nkids - n;
		e->nodes[*idx].r = n;
	}
	free(kid);
	return rc;
}

int
crm_expr_compile(const char *src, const char *const *names, size_t n,
    const struct crm_config *cf, int64_t now, unsigned flags,
    struct crm_expr **out, struct crm_expr_err *err)
{
	struct parser p = { .src = src,
		.names = names,
		.nnames = n,
		.cf = cf,
		.now = now,
		.flags = flags,
		.err = err };
	size_t bad;
	int rc;

	*out = NULL;
	memset(err, 0, sizeof(*err));
	if ((p.e = calloc(1, sizeof(*p.e))) == NULL)
		return fail(&p, 0, CRM_ENOMEM, " ");
	p.e->nhdr = n;
	if (!crm_utf8_valid(src, strlen(src), &bad))
		rc = fail(&p, bad, CRM_EPARSE, "invalid UTF-8");
	else if ((rc = lex(&p)) == 0 && p.tok.kind == T_END)
		rc = fail(&p, p.tok.pos, CRM_EPARSE, "the expression is empty");
	else if (rc == 0 && (rc = chain(&p, N_OR, &p.e->root)) == 0 &&
	    p.tok.kind != T_END)
		rc = fail(&p, p.tok.pos, CRM_EPARSE,
		    p.tok.kind == T_RP ? "unbalanced )" :
					 "expected and, or, or the end");
	crm_buf_free(&p.tmp);
	if (rc) {
		crm_expr_close(p.e);
		return rc;
	}
	*out = p.e;
	return 0;
}

void
crm_expr_close(struct crm_expr *e)
{
	size_t i;

	if (e == NULL)
		return;
	for (i = 0; i < e->nre; i++) {
		regfree(e->res[i]);
		free(e->res[i]);
	}
	free(e->res);
	free(e->nodes);
	free(e->kids);
	free(e->items);
	free(e->spans);
	free(e->refs);
	free(e->refname);
	crm_buf_free(&e->str);
	free(e);
}

size_t
crm_expr_refs(const struct crm_expr *e, const size_t **cols)
{
	*cols = e->refs;
	return e->nrefs;
}

size_t
crm_expr_added(const struct crm_expr *e)
{
	return e->added;
}

const char *
crm_expr_column(const struct crm_expr *e, size_t col)
{
	size_t i;

	for (i = 0; i < e->nrefs; i++)
		if (e->refs[i] == col)
			return span_str(e, e->spans[e->refname[i]]);
	return NULL;
}

/* ---- evaluation ---- */

enum { F = CRM_EXPR_FALSE, T = CRM_EXPR_TRUE, U = CRM_EXPR_UNKNOWN };

struct cells {
	const char *const *v;
	const size_t *len;
	size_t n;
};

/* A value read as the type it is compared as. */
struct val {
	struct crm_dec num;
	int64_t t;
	int b;
	long ord;
	const char *s;
	size_t n;
};

static const char *
text(const struct cells *c, size_t col, size_t *n)
{
	if (col >= c->n) {
		*n = 0;
		return "";
	}
	*n = c->len[col];
	return c->v[col];
}

/* The cell trimmed of white space, or NULL when nothing is left. */
static const char *
trimmed(const struct cells *c, size_t col, size_t *n)
{
	const char *s = text(c, col, n);

	crm_trim(&s, n);
	return *n > 0 ? s : NULL;
}

/* Reads operand o as type ty; -1 when it is empty or not of the type. */
static int
read_as(const struct crm_expr *e, const struct operand *o, int ty,
    const struct cells *c, struct val *v)
{
	const char *s;
	size_t n;

	if (o->lit) {
		v->num = o->num;
		v->t = o->t;
		v->b = o->b;
		v->ord = o->ord;
		v->s = span_str(e, o->s);
		v->n = o->s.len;
		return 0;
	}
	if ((s = trimmed(c, o->col, &n)) == NULL)
		return -1;
	switch (ty) {
	case TY_STR:
		v->s = text(c, o->col, &v->n);
		return 0;
	case TY_NUM:
		return crm_dec_parse(s, n, &v->num) ? -1 : 0;
	case TY_TIME:
		if (crm_time_parse(s, n, &v->t, NULL))
			return -1;
		v->t = shift(v->t, o->months, o->secs);
		return 0;
	case TY_BOOL:
		return crm_bool_parse(s, n, &v->b) ? -1 : 0;
	case TY_ENUM:
		return (v->ord = enum_ord(e, o->ef, o->en, s, n)) < 0 ? -1 : 0;
	}
	return -1;
}

static int
order(int ty, const struct val *a, const struct val *b)
{
	int r;

	switch (ty) {
	case TY_NUM:
		return crm_dec_cmp(a->num, b->num);
	case TY_TIME:
		return (a->t > b->t) - (a->t < b->t);
	case TY_BOOL:
		return a->b - b->b;
	case TY_ENUM:
		return (a->ord > b->ord) - (a->ord < b->ord);
	}
	r = memcmp(a->s, b->s, a->n < b->n ? a->n : b->n);
	return r != 0 ? r : (a->n > b->n) - (a->n < b->n);
}

/* Two columns without a type: numbers if both cells are numbers, else
 * times if both are times, else text. */
static int
dynamic(const struct node *n, const struct cells *c, struct val *a,
    struct val *b)
{
	const char *s, *t;
	size_t sn, tn;

	if ((s = trimmed(c, n->a.col, &sn)) == NULL ||
	    (t = trimmed(c, n->b.col, &tn)) == NULL)
		return -1;
	if (crm_dec_parse(s, sn, &a->num) == 0 &&
	    crm_dec_parse(t, tn, &b->num) == 0)
		return TY_NUM;
	if (crm_time_parse(s, sn, &a->t, NULL) == 0 &&
	    crm_time_parse(t, tn, &b->t, NULL) == 0) {
		a->t = shift(a->t, n->a.months, n->a.secs);
		b->t = shift(b->t, n->b.months, n->b.secs);
		return TY_TIME;
	}
	a->s = text(c, n->a.col, &a->n);
	b->s = text(c, n->b.col, &b->n);
	return TY_STR;
}

static int
holds(int cmp, int r)
{
	switch (cmp) {
	case C_EQ:
		return r == 0;
	case C_NE:
		return r != 0;
	case C_LT:
		return r < 0;
	case C_LE:
		return r <= 0;
	case C_GT:
		return r > 0;
	}
	return r >= 0;
}

static int
eval_cmp(const struct crm_expr *e, const struct node *n, const struct cells *c)
{
	struct val a, b;
	int ty = n->as;

	if (ty == TY_ANY) {
		if ((ty = dynamic(n, c, &a, &b)) < 0)
			return U;
	} else if (read_as(e, &n->a, ty, c, &a) || read_as(e, &n->b, ty, c, &b))
		return U;
	return holds(n->cmp, order(ty, &a, &b)) ? T : F;
}

static int
eval_in(const struct crm_expr *e, const struct node *n, const struct cells *c)
{
	struct val a, b;
	size_t i;

	if (read_as(e, &n->a, n->as, c, &a))
		return U;
	for (i = 0; i < n->r; i++) {
		read_as(e, &e->items[n->l + i], n->as, c, &b);
		if (order(n->as, &a, &b) == 0)
			return n->neg ? F : T;
	}
	return n->neg ? T : F;
}

/* Whether the tag set s[0..n) holds the item t: items are separated by
 * ';' and trimmed, or in double quotes with "" for a quote (text.h). */
static int
tag_has(const char *s, size_t n, const char *t, size_t tn)
{
	const char *it;
	size_t i = 0, k, j;
	int same;

	while (i < n) {
		while (i < n && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i < n && s[i] == '"') {
			for (i++, j = 0, same = 1; i < n; i++, j++) {
				if (s[i] == '"' &&
				    (i + 1 == n || s[i + 1] != '"'))
					break;
				i += s[i] == '"';
				same = same && j < tn && s[i] == t[j];
			}
			if (same && j == tn)
				return 1;
			while (i < n && s[i] != ';')
				i++;
			i++;
			continue;
		}
		for (k = i; k < n && s[k] != ';'; k++)
			;
		it = s + i;
		j = k - i;
		crm_trim(&it, &j);
		if (j == tn && memcmp(it, t, tn) == 0)
			return 1;
		i = k + 1;
	}
	return 0;
}

static int
find(const char *s, size_t n, const char *t, size_t tn)
{
	const char *p = s, *e = s + n;

	while (
	    (size_t)(e - p) >= tn && (p = memchr(p, t[0], (size_t)(e - p)))) {
		if ((size_t)(e - p) < tn)
			return 0;
		if (memcmp(p, t, tn) == 0)
			return 1;
		p++;
	}
	return 0;
}

/* contains, starts with, ends with, has, =~: on the cell as written. */
static int
eval_text(const struct crm_expr *e, const struct node *n, const struct cells *c)
{
	const char *s, *t = span_str(e, n->b.s);
	size_t len, tn = n->b.s.len;

	if (trimmed(c, n->a.col, &len) == NULL)
		return n->op == N_HAS ? F : U;
	s = text(c, n->a.col, &len);
	switch (n->op) {
	case N_CONTAINS:
		return find(s, len, t, tn) ? T : F;
	case N_STARTS:
		return len >= tn && memcmp(s, t, tn) == 0 ? T : F;
	case N_ENDS:
		return len >= tn && memcmp(s + len - tn, t, tn) == 0 ? T : F;
	case N_HAS:
		return tag_has(s, len, t, tn) ? T : F;
	}
	/* N_RE: the cell ends in a NUL (crm_expr_eval's contract). */
	return (regexec(e->res[n->l], s, 0, NULL, 0) == 0) != n->neg ? T : F;
}

static int eval(const struct crm_expr *e, size_t i, const struct cells *c);

/* Kleene's logic: false wins an "and", true wins an "or", else unknown
 * is catching. */
static int
eval_chain(const struct crm_expr *e, const struct node *n,
    const struct cells *c)
{
	int win = n->op == N_AND ? F : T, r = n->op == N_AND ? T : F, k;
	size_t i;

	for (i = 0; i < n->r; i++) {
		if ((k = eval(e, e->kids[n->l + i], c)) == win)
			return win;
		if (k == U)
			r = U;
	}
	return r;
}

static int
eval(const struct crm_expr *e, size_t i, const struct cells *c)
{
	const struct node *n = &e->nodes[i];
	const char *s;
	size_t len;
	int b, r;

	switch (n->op) {
	case N_AND:
	case N_OR:
		return eval_chain(e, n, c);
	case N_NOT:
		r = eval(e, n->l, c);
		return r == U ? U : r == T ? F : T;
	case N_CONST:
		return n->neg ? T : F;
	case N_TRUTH:
		if ((s = trimmed(c, n->a.col, &len)) == NULL ||
		    crm_bool_parse(s, len, &b))
			return U;
		return b ? T : F;
	case N_CMP:
		return eval_cmp(e, n, c);
	case N_IN:
		return eval_in(e, n, c);
	case N_EMPTY:
		return (trimmed(c, n->a.col, &len) == NULL) != n->neg ? T : F;
	}
	return eval_text(e, n, c);
}

int
crm_expr_eval(const struct crm_expr *e, const char *const *v, const size_t *len,
    size_t n)
{
	struct cells c = { v, len, n };

	return eval(e, e->root, &c);
}

int
crm_expr_match(const struct crm_expr *e, const char *const *v,
    const size_t *len, size_t n)
{
	return crm_expr_eval(e, v, len, n) == CRM_EXPR_TRUE;
}

/* ---- messages ---- */

/* Appends to out as snprintf(3) would, counting what did not fit. */
static void put_fmt(char *out, size_t outlen, size_t *k, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
put_fmt(char *out, size_t outlen, size_t *k, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(*k < outlen ? out + *k : NULL,
	    *k < outlen ? outlen - *k : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		*k += (size_t)n;
}

int
crm_expr_format(const char *src, const struct crm_expr_err *err,
    const char *indent, char *out, size_t outlen)
{
	size_t len = strlen(src), pos = err->pos > len ? len : err->pos;
	size_t start = pos, end, i, k = 0, col = 1, line = 1;

	while (start > 0 && src[start - 1] != '\n')
		start--;
	for (i = 0; i < start; i++)
		line += src[i] == '\n';
	for (end = pos; end < len && src[end] != '\n'; end++)
		;
	if (end > start && src[end - 1] == '\r')
		end--;
	/* A column is a character: UTF-8 continuation bytes do not count. */
	for (i = start; i < pos; i++)
		col += ((unsigned char)src[i] & 0xc0) != 0x80;
	if (outlen > 0)
		out[0] = '\0';
	/* A YAML block scalar ends in a newline: one line all the same. */
	for (i = len; i > 0 && is_space((unsigned char)src[i - 1]); i--)
		;
	if (memchr(src, '\n', i) != NULL)
		put_fmt(out, outlen, &k, "line %zu, ", line);
	put_fmt(out, outlen, &k, "column %zu: %s\n%s%.*s\n%s", col, err->msg,
	    indent, (int)(end - start), src + start, indent);
	for (i = start; i < pos; i++)
		if (((unsigned char)src[i] & 0xc0) != 0x80)
			put_fmt(out, outlen, &k, "%c",
			    src[i] == '\t' ? '\t' : ' ');
	put_fmt(out, outlen, &k, "^");
	return (int)k;
}
