/*
 * The checks of the library unit tests. Each tests/unit*.c is one program
 * that includes this header; a check prints file:line when it fails and
 * UNIT_DONE prints the count of passes and failures.
 */
#ifndef CRM_UNIT_H
#define CRM_UNIT_H

#include <stdio.h>

static int passed, failed;

#define CHECK(cond) check((cond), __FILE__, __LINE__, #cond)
#define UNIT_DONE(name)                                                        \
	(printf("%s: %d passed, %d failed\n", (name), passed, failed),         \
	    failed != 0)

static void
check(int ok, const char *file, int line, const char *what)
{
	if (ok) {
		passed++;
		return;
	}
	failed++;
	printf("%s:%d: failed: %s\n", file, line, what);
}

#endif
