/* The YAML config loader. */
/* First: it sets _GNU_SOURCE for memfd_create(2). */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>

#include "crm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	struct crm_config *cf;
	char path[64], msg[1024];
	int fd;

	if ((fd = fuzz_fd(data, n)) < 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (crm_config_load(path, &cf, msg, sizeof(msg)) == 0)
		crm_config_free(cf);
	close(fd);
	return 0;
}
