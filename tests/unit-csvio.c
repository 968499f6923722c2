/*
 * Unit tests of the raw CSV reader (crm_csv_open_raw): the bytes it keeps
 * for each row, and that it reads every input as the libcsv reader does,
 * rows, lines and errors alike, across the refills of its buffer.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crm.h"
#include "unit.h"

static char path[] = "/tmp/crm-unit-csvio.XXXXXX";

static int
input(const char *text, size_t n)
{
	int fd = open(path, O_RDWR | O_TRUNC);

	if (fd < 0 || write(fd, text, n) != (ssize_t)n)
		abort();
	lseek(fd, 0, SEEK_SET);
	return fd;
}

/*
 * What a reader makes of text: one line per row, "line:n:fields" or
 * "line!why", and with raw set "=raw bytes" after each good row.
 */
static void
rows(const char *text, size_t n, int fmt, int raw, struct crm_buf *out)
{
	struct crm_csv *r;
	struct crm_row row;
	const char *p;
	size_t i, k;
	char num[64];
	int fd = input(text, n), rc;

	out->len = 0;
	/* raw 2: the libcsv reader with libcsv reading every line */
	if (raw == 2)
		setenv("CRM_CSV_SPLIT", "0", 1);
	rc = raw == 1 ? crm_csv_open_raw(fd, fmt, &r) :
			crm_csv_open(fd, fmt, &r);
	unsetenv("CRM_CSV_SPLIT");
	if (rc != 0)
		abort();
	while ((rc = crm_csv_next(r, &row)) == 0 || rc == CRM_EPARSE) {
		snprintf(num, sizeof(num), "%ld%c", row.line, rc ? '!' : ':');
		crm_buf_adds(out, num);
		if (rc) {
			crm_buf_adds(out, crm_csv_error(r));
			crm_buf_addc(out, '\n');
			continue;
		}
		for (i = 0; i < row.n; i++) {
			crm_buf_addc(out, '<');
			crm_buf_add(out, row.v[i], row.len[i]);
			crm_buf_addc(out, '>');
		}
		crm_csv_raw(r, &p, &k);
		if (raw == 1) {
			/* Line ends in it shown as \n and \r. */
			crm_buf_addc(out, '=');
			for (i = 0; i < k; i++)
				crm_buf_adds(out,
				    p[i] == '\n'     ? "\\n" :
					p[i] == '\r' ? "\\r" :
						       (char[]){ p[i], 0 });
		}
		crm_buf_addc(out, '\n');
	}
	if (rc != CRM_EOF)
		crm_buf_adds(out, "ERROR\n");
	crm_buf_nul(out);
	crm_csv_close(r);
	close(fd);
}

/* Whether reader b read what libcsv read (a); shows where not. */
static int
agree(const struct crm_buf *a, const struct crm_buf *b, const char *name)
{
	size_t i = 0;

	if (a->len == b->len && memcmp(a->p, b->p, a->len) == 0)
		return 1;
	while (i < a->len && i < b->len && a->p[i] == b->p[i])
		i++;
	printf("  readers differ at byte %zu: libcsv \"%.40s\", "
	       "%s \"%.40s\"\n",
	    i, a->p + i, name, b->p + i);
	return 0;
}

/* The raw reader and the libcsv reader splitting plain lines itself give
 * what libcsv gives reading every line. */
static int
same(const char *text, size_t n)
{
	struct crm_buf a = { 0 }, b = { 0 }, c = { 0 };
	int ok;

	rows(text, n, CRM_FMT_CSV, 2, &a);
	rows(text, n, CRM_FMT_CSV, 1, &b);
	rows(text, n, CRM_FMT_CSV, 0, &c);
	/* Without its "=raw" parts. */
	for (size_t i = 0, j = 0; i <= b.len; i++) {
		if (b.p[i] == '=')
			while (i < b.len && b.p[i] != '\n')
				i++;
		b.p[j++] = b.p[i];
		if (i == b.len)
			b.len = j - 1;
	}
	ok = agree(&a, &b, "raw");
	ok &= agree(&a, &c, "split");
	crm_buf_free(&a);
	crm_buf_free(&b);
	crm_buf_free(&c);
	return ok;
}

static int
raw_is(const char *text, const char *want)
{
	struct crm_buf out = { 0 };
	int ok;

	rows(text, strlen(text), CRM_FMT_CSV, 1, &out);
	ok = strcmp(out.p, want) == 0;
	if (!ok)
		printf("  got:\n%s  want:\n%s", out.p, want);
	crm_buf_free(&out);
	return ok;
}

static void
test_raw(void)
{
	CHECK(raw_is("a,b\n1,2\n", "1:<a><b>=a,b\n2:<1><2>=1,2\n"));
	CHECK(raw_is("\xef\xbb\xbf"
		     "a,b\r\n\"x\"\"y\",\"1,2\"\r\n",
	    "1:<a><b>=a,b\n2:<x\"y><1,2>=\"x\"\"y\",\"1,2\"\n"));
	CHECK(raw_is("a\n\"l1\r\nl2\"\nz",
	    "1:<a>=a\n2:<l1\r\nl2>=\"l1\\r\\nl2\"\n4:<z>=z\n"));
	CHECK(raw_is("a,\n,\n\n\r\n\r\"\"\n",
	    "1:<a><>=a,\n2:<><>=,\n6:<>=\"\"\n"));
	CHECK(raw_is("x\ra\r\rb", "1:<x>=x\n2:<a>=a\n4:<b>=b\n"));
	CHECK(raw_is("a,b\"c\nd\n", "1!malformed quoted field\n2:<d>=d\n"));
	CHECK(raw_is("\"a\"b,c\nd\n", "1!malformed quoted field\n2:<d>=d\n"));
	CHECK(raw_is("a\n\"x\ny\"z\nw\n",
	    "1:<a>=a\n2!malformed quoted field\n4:<w>=w\n"));
	CHECK(raw_is("a\n\"open\n", "1:<a>=a\n2!unterminated quoted field\n"));
	CHECK(raw_is("", ""));
	CHECK(raw_is("\n\n", ""));
	CHECK(raw_is("caf\xc3\xa9,\"\xe2\x82\xac\"\n",
	    "1:<caf\xc3\xa9><\xe2\x82\xac>=caf\xc3\xa9,\"\xe2\x82\xac\"\n"));
}

static void
test_same(void)
{
	static const char *const cases[] = { "a,b\n1,2\n", "a,b\n1,2",
		"\xef\xbb\xbf"
		"a\r\n1\r\n\r\n2",
		"a\n\"x\ny\",2\n3\n", "a\n\"x\"y,2\n3,4\n", "a\n\"open,3\n",
		"a,b\"c\nx\n", "\"a\" ,b\n1\n", " \"a\"\n1\n",
		"a\r\rb\r\n\n\rc", "\"\"\"\"\n\"a\"\"\"\n",
		"a,\n,,\n\"\",\"\"\n", "\"a\nb\"z\nq\n", "x\n\"a\n\nb\n", "\r",
		"\"", ",", "a\n\n\n\"b\"\n",
		/* plain lines next to those libcsv reads */
		"a,b\r\nc,d\ne,f\n", "x\n\"q\nr\",s\nt,u\nv\n",
		"a, b ,c\n\td\t,\n", "a\n\nb,c\n,\n", "a,\"b\"x\nc,d\ne\n",
		"a\rb,c\nd\n", "\"a\"\nb\n\"c\"\n", "a,b\n\"c\n",
		/* plain fields that end before, on and after 8 bytes */
		"abcdefg,abcdefgh,abcdefghi,,x\n"
		"0123456789abcdef,0123456789abcdefg,0123456,,\n"
		",,,,,,,,,\n12345678\n123456789,\n" };
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK(same(cases[i], strlen(cases[i])));
}

/* Rows and quoted fields that cross the reader's 256 KiB reads, and a
 * row larger than its buffer. */
static void
test_big(void)
{
	struct crm_buf t = { 0 }, a = { 0 };
	size_t i;

	crm_buf_adds(&t, "id,text\n");
	for (i = 0; t.len < 700 * 1024; i++) {
		char line[80];

		snprintf(line, sizeof(line),
		    i % 7 ? "%zu,plain text %zu\n" : "%zu,\"q,\"\"%zu\n\"\r\n",
		    i, i);
		crm_buf_adds(&t, line);
	}
	crm_buf_adds(&t, "big,\"");
	for (i = 0; i < 600 * 1024; i++)
		crm_buf_addc(&t, i % 1000 == 999 ? '\n' : 'x');
	crm_buf_adds(&t, "\"\nlast,row");
	CHECK(same(t.p, t.len));
	rows(t.p, t.len, CRM_FMT_CSV, 1, &a);
	CHECK(strstr(a.p, "\n1:") == NULL && strstr(a.p, "=last,row\n"));
	CHECK(strstr(a.p, "=7,\"q,\"\"7\\n\"\n") != NULL);
	crm_buf_free(&t);
	crm_buf_free(&a);
}

static int
csv_is(const char *text, const char *want)
{
	struct crm_buf out = { 0 };
	int ok;

	rows(text, strlen(text), CRM_FMT_CSV, 0, &out);
	ok = strcmp(out.p, want) == 0 && same(text, strlen(text));
	if (!ok)
		printf("  got:\n%s  want:\n%s", out.p, want);
	crm_buf_free(&out);
	return ok;
}

/*
 * The libcsv reader parses stretches without a space or tab with libcsv's
 * own test for white space and the rest with one that keeps it, and looks
 * for line ends only where a quoted field may be: white space stays at
 * either end of a field and line numbers stay right, wherever the
 * stretches begin and end.
 */
static void
test_spaces(void)
{
	struct crm_buf t = { 0 }, a = { 0 };
	size_t i;

	CHECK(csv_is(" a ,\tb\t, c\n", "1:< a ><\tb\t>< c>\n"));
	CHECK(csv_is("  ,\t\n \n", "1:<  ><\t>\n2:< >\n"));
	CHECK(csv_is("abcdefghijklmnopqrstuvwxyz,x  y,abcdefghijklmnopqrst ,"
		     "abcdefghijklmnopqrstuvwxyz\n",
	    "1:<abcdefghijklmnopqrstuvwxyz><x  y><abcdefghijklmnopqrst >"
	    "<abcdefghijklmnopqrstuvwxyz>\n"));
	CHECK(csv_is("\"a\" ,b\nabcdefghijklmnopqrstuvwxyz,\"x\"\t\nz\n",
	    "1!malformed quoted field\n2!malformed quoted field\n3:<z>\n"));
	/* A quoted field with line ends, begun long before them, and one
	 * spread over stretches with and without white space. */
	CHECK(csv_is("a\n\"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz"
		     "\n\",b\nc\n",
	    "1:<a>\n2:<abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz\n>"
	    "<b>\n4:<c>\n"));
	CHECK(csv_is("\"a b\nc d e f g h i j k l m n o p q r s t u v w "
		     "x\nabcdefghijklmnopqrstuvwxyz\nz\"\nlast\n",
	    "1:<a b\nc d e f g h i j k l m n o p q r s t u v w "
	    "x\nabcdefghijklmnopqrstuvwxyz\nz>\n5:<last>\n"));
	/* Long runs of white space, and rows of both kinds mixed. */
	for (i = 0; i < 5000; i++) {
		crm_buf_adds(&t, i % 3 ? "plain,row\n" : "a b c d e f,\t \t\n");
		if (i % 100 == 0)
			crm_buf_adds(&t, "\"two\nlines\"\n");
	}
	CHECK(same(t.p, t.len));
	rows(t.p, t.len, CRM_FMT_CSV, 0, &a);
	CHECK(strstr(a.p, "\n5100:<plain><row>\n") != NULL);
	CHECK(strstr(a.p, "\n5099:<a b c d e f><\t \t>\n") != NULL);
	crm_buf_free(&t);
	crm_buf_free(&a);
}

static void
test_tsv(void)
{
	struct crm_buf out = { 0 };
	const char *text = "a\tb\r\nx\\ty\t\\\\z\n";

	rows(text, strlen(text), CRM_FMT_TSV, 1, &out);
	CHECK(
	    strcmp(out.p, "1:<a><b>=a\tb\n2:<x\ty><\\z>=x\\ty\t\\\\z\n") == 0);
	rows(text, strlen(text), CRM_FMT_TSV, 0, &out);
	CHECK(strcmp(out.p, "1:<a><b>\n2:<x\ty><\\z>\n") == 0);
	crm_buf_free(&out);
}

int
main(void)
{
	int fd = mkstemp(path);

	if (fd < 0)
		abort();
	close(fd);
	test_raw();
	test_same();
	test_big();
	test_spaces();
	test_tsv();
	unlink(path);
	return UNIT_DONE("unit-csvio");
}
