#ifndef CRM_PREFAULT_H
#define CRM_PREFAULT_H

#include <stddef.h>

/*
 * Memory made present before it is used, by a thread of its own that runs
 * only when a core would otherwise be idle. The first write to a page of
 * new memory costs the writer a fault and the page's clearing; on a
 * virtual machine that is about a second and a half a gigabyte. A large
 * import allocates its buffers up front and hands them here, and the
 * faults are taken while the other thread waits. The contents are never
 * changed (MADV_POPULATE_WRITE), so a buffer may be in use, or freed,
 * meanwhile. CRM_PREFAULT=0 turns it off; where the system lacks it, it
 * does nothing.
 */
void crm_prefault(const void *p, size_t n);
/* Grows the main heap by n bytes kept free (malloc(3) then takes small
 * blocks from there) and makes them present: for a library that allocates
 * its pages one at a time, like LMDB's dirty pages. Only the main thread
 * allocates from the main heap, so only it may call this. */
void crm_prefault_heap(size_t n);

#endif
