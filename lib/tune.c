#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tune.h"

static int huge; /* crm_hugepages() advises */

/* Whether the last glibc.malloc.hugetlb in tunables t is exactly 1 (the
 * last setting of a tunable is the one glibc keeps). */
static int
hugetlb_on(const char *t)
{
	static const char key[] = "glibc.malloc.hugetlb=";
	const char *p, *last = NULL;

	for (p = t; (p = strstr(p, key)) != NULL; p++)
		last = p + sizeof(key) - 1;
	return last != NULL && last[0] == '1' &&
	    (last[1] == '\0' || last[1] == ':');
}

void
crm_tune_hugepages(char *argv[])
{
	const char *old = getenv("GLIBC_TUNABLES");
	char *keep = NULL;

	if (getenv("CRM_NO_HUGEPAGES") != NULL)
		return;
	/* Set by the user, or by this function before executing again. */
	if (old != NULL && strstr(old, "glibc.malloc.hugetlb") != NULL) {
		huge = hugetlb_on(old);
		return;
	}
	if (old != NULL && *old) {
		size_t n = strlen(old) + 32;
		char *v = malloc(n);

		if (v == NULL || (keep = strdup(old)) == NULL) {
			free(v);
			return;
		}
		strcpy(v, old);
		strcat(v, ":glibc.malloc.hugetlb=1");
		setenv("GLIBC_TUNABLES", v, 1);
		free(v);
	} else
		setenv("GLIBC_TUNABLES", "glibc.malloc.hugetlb=1", 1);
	/* Executing the real path keeps the process's name (not "exe"). */
	{
		char self[4096];
		ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

		if (n > 0) {
			self[n] = '\0';
			execv(self, argv);
		}
	}
	/* Not re-executed: carry on as it was. */
	if (keep != NULL)
		setenv("GLIBC_TUNABLES", keep, 1);
	else
		unsetenv("GLIBC_TUNABLES");
	free(keep);
}

/*
 * The advice covers whole small pages, so that a block of its own
 * mapping (glibc's large blocks) stays one mapping: advising only its
 * aligned 2 MB pages would split it, and glibc's realloc(3) could then no
 * longer grow it in place with mremap(2), copying it instead. The kernel
 * makes huge pages only of the aligned 2 MB wholly inside the advice.
 */
void
crm_hugepages(const void *p, size_t n)
{
#ifdef MADV_HUGEPAGE
	uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t a = (uintptr_t)p & ~(pg - 1);
	uintptr_t b = ((uintptr_t)p + n + pg - 1) & ~(pg - 1);

	if (huge && p != NULL && n > 0 && a < b)
		(void)madvise((void *)a, b - a, MADV_HUGEPAGE);
#else
	(void)p;
	(void)n;
#endif
}
