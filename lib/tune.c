#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tune.h"

void
crm_tune_hugepages(char *argv[])
{
	const char *old = getenv("GLIBC_TUNABLES");

	if (getenv("CRM_NO_HUGEPAGES") != NULL ||
	    (old != NULL && strstr(old, "glibc.malloc.hugetlb") != NULL))
		return;
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
