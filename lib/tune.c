#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tune.h"

#define HUGE ((uintptr_t)2 << 20)

static int huge; /* crm_hugepages() advises */

void
crm_tune_hugepages(char *argv[])
{
	const char *old = getenv("GLIBC_TUNABLES");

	if (getenv("CRM_NO_HUGEPAGES") != NULL)
		return;
	/* Set by the user, or by this function before executing again. */
	if (old != NULL && strstr(old, "glibc.malloc.hugetlb") != NULL) {
		huge = strstr(old, "glibc.malloc.hugetlb=1") != NULL;
		return;
	}
	huge = 1;
	if (old != NULL && *old) {
		size_t n = strlen(old) + 32;
		char *v = malloc(n);

		if (v == NULL)
			return;
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
	/* Not re-executed: carry on with the defaults. */
	unsetenv("GLIBC_TUNABLES");
}

void
crm_hugepages(const void *p, size_t n)
{
#ifdef MADV_HUGEPAGE
	uintptr_t a = ((uintptr_t)p + HUGE - 1) & ~(HUGE - 1);
	uintptr_t b = ((uintptr_t)p + n) & ~(HUGE - 1);

	if (huge && p != NULL && a < b)
		(void)madvise((void *)a, b - a, MADV_HUGEPAGE);
#else
	(void)p;
	(void)n;
#endif
}
