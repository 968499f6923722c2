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
 * Such a region is large and used all over: it is advised for huge
 * pages first (crm_hugepages(), whatever CRM_PREFAULT says).
 */
void crm_prefault(const void *p, size_t n);
/* Grows the main heap by n bytes kept free (malloc(3) then takes small
 * blocks from there) and makes them present: for a library that allocates
 * its pages one at a time, like LMDB's dirty pages. With small set the
 * memory keeps small pages even where malloc(3) asked for huge ones: for
 * memory used in order, where huge pages save few TLB misses but cost
 * more to make present (see prefault.c); without it, it is advised for
 * huge ones (crm_hugepages()). Only the main thread allocates
 * from the main heap, so only it may call this. */
void crm_prefault_heap(size_t n, int small);
/*
 * For a thread that will allocate many small blocks (a reading thread):
 * grows its malloc(3) arena by 8 MB at once, where glibc would grow it
 * a page at a time, each time with an mprotect(2) that waits for the
 * memory map while this module's thread holds it. Only once
 * crm_prefault_heap() has raised the size from which malloc(3) maps a
 * block of its own (before the thread starts); otherwise it does nothing.
 */
void crm_prefault_arena(void);
/*
 * Loads one byte from each 4 KB of p..p+n, changing nothing. A page made
 * present can still cost its first access: under a hypervisor that keeps
 * its own copy of the guest's page tables (shadow paging), the first load
 * or store through the program's address traps to the host, however the
 * guest kernel made the page present. On the VM of DESIGN.md §7 that was
 * 2.2-2.7 us a 4 KB page after MADV_POPULATE_WRITE, and 0.02 us once any
 * thread of the process had loaded from it. Returns 0, doing nothing, on
 * a machine this has no load instruction written for (x86-64 and AArch64
 * have). Elsewhere it costs a load a page.
 */
int crm_prefault_touch(const void *p, size_t n);
/*
 * Has the kernel read one byte from each 4 KB of p..p+n: it writes them
 * to a file in memory (memfd_create(2)). On the PVM guest of DESIGN.md
 * §7 the kernel's own first access to a page of the program traps to the
 * host as well, apart from the program's: the writev(2) of LMDB's dirty
 * pages to the store file at the commit of 1M new contacts took
 * 0.17-0.26 s, against 0.04-0.15 s once each page had been read this way
 * (5 runs each, timed around each writev(2)). A page not mapped is
 * skipped, not fatal. Returns how many 4 KB pieces were read: 0 where
 * there is no such file. Elsewhere it costs a system call for 32 of them.
 */
size_t crm_prefault_ktouch(const void *p, size_t n);

#endif
