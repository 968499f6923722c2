#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tune.h"

void
crm_tune_hugepages(char *argv[])
{
	const char *old = getenv("GLIBC_TUNABLES");

	if (getenv("CRM_NO_HUGEPAGES") != NULL || (old != NULL &&
	    strstr(old, "glibc.malloc.hugetlb") != NULL))
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
	execv("/proc/self/exe", argv);
	/* Not re-executed: carry on with the defaults. */
	unsetenv("GLIBC_TUNABLES");
}
