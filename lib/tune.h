/*
 * Process tuning for bulk writers.
 */
#ifndef CRM_TUNE_H
#define CRM_TUNE_H

#include <stddef.h>

/*
 * A bulk import allocates hundreds of megabytes of LMDB dirty pages, each
 * first touched by a page fault; on virtual machines faults are dear. With
 * transparent huge pages in "madvise" mode, glibc's malloc asks for huge
 * pages only when the glibc.malloc.hugetlb tunable is set, and tunables
 * are read at start-up. So this sets it and executes the program again,
 * once; if anything fails it returns and the program runs as it is.
 */
void crm_tune_hugepages(char *argv[]);
/*
 * Asks for huge pages for p..p+n (the pages it touches; the kernel uses
 * huge ones for the aligned 2 MB inside), if crm_tune_hugepages() found
 * them turned on, that is once the program runs with the tunable at 1;
 * for large arrays used all over, before their first use. glibc 2.36
 * decides whether to honour the tunable by comparing the kernel's THP
 * mode with a buffer it never ends with a NUL, so in about a third of
 * runs (13 of 40 on the VM of DESIGN.md §7) its malloc asks for no huge
 * pages at all: those arrays are not left to it.
 */
void crm_hugepages(const void *p, size_t n);

#endif
