#ifndef CRM_PREFAULT_H
#define CRM_PREFAULT_H

#include <stddef.h>

/*
 * Memory made present before it is used, by a thread of its own at the
 * lowest priority, which runs mostly when a core is idle. The first write
 * to a page of new memory costs the writer a fault and the page's
 * clearing; on a virtual machine about a second and a half a GB. A large
 * import allocates its buffers up front and hands them here, and the
 * faults are taken while the other thread waits. The contents are never
 * changed (MADV_POPULATE_WRITE), so a buffer may be in use, or freed,
 * meanwhile. CRM_PREFAULT=0 turns it off; on a kernel without that advice
 * (before Linux 5.14) nothing is done, and the heap is not grown.
 */
void crm_prefault(const void *p, size_t n);
/* Grows the main heap by n bytes kept free (malloc(3) then takes small
 * blocks from there) and makes them present: for a library that allocates
 * its pages one at a time, like LMDB's dirty pages. With small set the
 * memory keeps small pages even where malloc(3) asked for huge ones: for
 * memory used in order, where huge pages save few TLB misses but cost
 * more to make present (see prefault.c). Only the main thread allocates
 * from the main heap, so only it may call this. */
void crm_prefault_heap(size_t n, int small);

#endif
