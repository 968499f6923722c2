/*
 * Shared by the fuzz targets: the input as a file descriptor (the readers
 * read descriptors), through an in-memory file.
 */
#ifndef CRM_FUZZ_H
/* memfd_create(2) is a GNU extension. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#define CRM_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

static inline int
fuzz_fd(const uint8_t *data, size_t n)
{
	int fd = memfd_create("fuzz", 0);

	if (fd < 0)
		return -1;
	if (n > 0 && write(fd, data, n) != (ssize_t)n) {
		close(fd);
		return -1;
	}
	lseek(fd, 0, SEEK_SET);
	return fd;
}

#endif
