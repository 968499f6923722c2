/*
 * Process tuning for bulk writers.
 */
#ifndef CRM_TUNE_H
#define CRM_TUNE_H

/*
 * A bulk import allocates hundreds of megabytes of LMDB dirty pages, each
 * first touched by a page fault; on virtual machines faults are dear. With
 * transparent huge pages in "madvise" mode, glibc's malloc asks for huge
 * pages only when the glibc.malloc.hugetlb tunable is set, and tunables
 * are read at start-up. So this sets it and executes the program again,
 * once; if anything fails it returns and the program runs as it is.
 */
void crm_tune_hugepages(char *argv[]);

#endif
