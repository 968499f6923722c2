/*
 * Prefaulting: see prefault.h. One thread, started by the first region
 * worth it, takes regions from a short queue in order and asks the kernel
 * to make each present, 2 MB at a time (a huge page, where the region has
 * them). Its policy is SCHED_IDLE, the lowest: it takes a core mostly when
 * the threads doing the work leave one idle (and, if it cannot have that
 * policy, it does nothing). A region it has not reached
 * yet when its owner writes to it costs what it did before, no more.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "prefault.h"
#include "tune.h"

#define QMAX 32              /* regions waiting */
#define MINREGION (4u << 20) /* smaller ones fault fast enough */
#define STEP ((uintptr_t)2 << 20)
#define ARENA_AHEAD (8u << 20) /* see crm_prefault_arena() */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static struct {
	uintptr_t a, b;
	int touch; /* loaded from, then read by the kernel */
} q[QMAX];
static size_t qh, qt; /* taken, added */
static int state;     /* 0 not started, 1 running, -1 off */
static int stopping;  /* at exit: the queue is dropped */
/* Regions to be loaded from (crm_prefault_touch()) that are queued or
 * being loaded from: while there are any, the heap is never trimmed, since
 * a load from memory given back to the system would kill the process.
 * After them M_TRIM_THRESHOLD is trim_after again. The kernel's reads
 * (crm_prefault_ktouch()) need no hold: a page no longer mapped fails its
 * read and is skipped. */
static int holds, trim_after;
static int idle_refused; /* the thread could not run at the lowest priority */
static int raised;       /* crm_prefault_heap() set M_MMAP_THRESHOLD */
static pthread_t th;

static void *
run(void *arg)
{
	struct sched_param sp = { 0 };
	uintptr_t a, a0, b, e;
	int t, made;

	(void)arg;
	/* At the normal priority it would take time from the work: then
	 * it does nothing, and the regions queued are dropped. */
	if (pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp) != 0) {
		pthread_mutex_lock(&mu);
		idle_refused = 1;
		if (holds > 0)
			mallopt(M_TRIM_THRESHOLD, trim_after);
		holds = 0;
		pthread_mutex_unlock(&mu);
		return NULL;
	}
	pthread_mutex_lock(&mu);
	for (;;) {
		while (qh == qt && !stopping)
			pthread_cond_wait(&cv, &mu);
		if (stopping)
			break;
		a = a0 = q[qh % QMAX].a;
		b = q[qh % QMAX].b;
		t = q[qh % QMAX].touch;
		qh++;
		pthread_mutex_unlock(&mu);
		made = 1;
		for (; a < b && !__atomic_load_n(&stopping, __ATOMIC_RELAXED);
		     a += STEP) {
			e = b - a < STEP ? b : a + STEP;
			if (madvise((void *)a, e - a, MADV_POPULATE_WRITE) !=
				0 &&
			    errno == EINVAL) {
				made = 0;
				break; /* a kernel without it */
			}
			if (t)
				crm_prefault_touch((const void *)a, e - a);
		}
		pthread_mutex_lock(&mu);
		if (t && --holds == 0)
			mallopt(M_TRIM_THRESHOLD, trim_after);
		pthread_mutex_unlock(&mu);
		/* Once the whole region is ahead of its owner: the kernel's
		 * first reads, which its write to the store file makes at the
		 * commit, are needed only then. */
		for (a = a0; made && t && a < b &&
		     !__atomic_load_n(&stopping, __ATOMIC_RELAXED);
		     a += STEP)
			(void)crm_prefault_ktouch((const void *)a,
			    (b - a < STEP ? b : a + STEP) - a);
		pthread_mutex_lock(&mu);
	}
	pthread_mutex_unlock(&mu);
	return NULL;
}

/* At exit the thread is stopped and joined: what is left of the queue
 * no longer matters, and a thread still running then is reported by
 * valgrind as memory possibly lost. */
static void
stop(void)
{
	pthread_mutex_lock(&mu);
	__atomic_store_n(&stopping, 1, __ATOMIC_RELAXED);
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
	pthread_join(th, NULL);
}

/* Called with mu held. */
static int
on(void)
{
	const char *e;
	void *probe;
	long pg;
	int rc;

	if (state != 0)
		return state > 0;
	state = -1;
#ifdef MADV_POPULATE_WRITE
	if ((e = getenv("CRM_PREFAULT")) != NULL && strcmp(e, "0") == 0)
		return 0;
	/* A kernel older than 5.14 refuses the advice: nothing is done. */
	pg = sysconf(_SC_PAGESIZE);
	if ((probe = mmap(NULL, (size_t)pg, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) == MAP_FAILED)
		return 0;
	rc = madvise(probe, (size_t)pg, MADV_POPULATE_WRITE);
	munmap(probe, (size_t)pg);
	if (rc != 0)
		return 0;
	if (pthread_create(&th, NULL, run, NULL) != 0)
		return 0;
	if (atexit(stop) != 0) {
		/* Never stopped: the thread is left to the end. */
		pthread_detach(th);
	}
	state = 1;
#else
	(void)e;
	(void)probe;
	(void)pg;
	(void)rc;
#endif
	return state > 0;
}

/* Called with mu held; returns whether the region was queued. */
static int
push_locked(uintptr_t a, uintptr_t b, int touch)
{
	uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);

	a = (a + pg - 1) & ~(pg - 1);
	b &= ~(pg - 1);
	if (a >= b || b - a < MINREGION || !on() || idle_refused ||
	    qt - qh >= QMAX)
		return 0;
	q[qt % QMAX].a = a;
	q[qt % QMAX].b = b;
	q[qt % QMAX].touch = touch;
	qt++;
	holds += touch;
	pthread_cond_signal(&cv);
	return 1;
}

/*
 * The load is one instruction in assembly, not C: the byte may be being
 * written by its owner at that moment, its value is never used, and no
 * compiler or sanitizer is to see an access.
 */
int
crm_prefault_touch(const void *p, size_t n)
{
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__aarch64__))
	uintptr_t a = (uintptr_t)p & ~(uintptr_t)4095, b = (uintptr_t)p + n;
	unsigned char c;

	for (; a < b; a += 4096) {
#if defined(__x86_64__)
		__asm__ volatile("movb (%1), %0" : "=q"(c) : "r"(a));
#else
		__asm__ volatile("ldrb %w0, [%1]" : "=r"(c) : "r"(a));
#endif
	}
	return 1;
#else
	(void)p;
	(void)n;
	return 0;
#endif
}

static int kfd = -1;
static pthread_once_t kfd_once = PTHREAD_ONCE_INIT;

/* Opened once: if that fails (EMFILE, say), the kernel's reads are not
 * made, which costs time only. */
static void
kfd_open(void)
{
#ifdef MFD_CLOEXEC
	kfd = memfd_create("crm-ktouch", MFD_CLOEXEC);
#endif
}

/*
 * The kernel reads each byte from the program's memory as for any
 * write(2): a page it cannot read (not mapped) fails that one iovec, which
 * is skipped, and nothing is stored anywhere but in the file, at its
 * start, which is NIOV bytes long at most. The file is kept open for the
 * process. A call reads only NIOV pages: a kernel built without
 * preemption (CONFIG_PREEMPT_NONE, as on the VM of DESIGN.md §7) lets a
 * thread in a system call keep its core until it returns, whatever its
 * priority. With 512 pages a call (about 1 ms there) crm-add's commit
 * began later than with 32 in 3 of 4 paired runs.
 */
size_t
crm_prefault_ktouch(const void *p, size_t n)
{
	enum { NIOV = 32 };
	struct iovec iov[NIOV];
	uintptr_t a = (uintptr_t)p & ~(uintptr_t)4095, b = (uintptr_t)p + n;
	size_t done = 0;
	ssize_t r;
	int k, i;

	pthread_once(&kfd_once, kfd_open);
	if (kfd < 0 || n == 0)
		return 0;
	while (a < b) {
		for (k = 0; k < NIOV && a < b; k++, a += 4096) {
			iov[k].iov_base = (void *)a;
			iov[k].iov_len = 1;
		}
		for (i = 0; i < k; i++) {
			r = pwritev(kfd, iov + i, k - i, 0);
			if (r > 0) {
				/* r pages read; the next, if any, failed */
				done += (size_t)r;
				i += (int)r - 1;
			} else if (r < 0 && errno != EFAULT)
				return done;
		}
	}
	return done;
}

void
crm_prefault(const void *p, size_t n)
{
	if (p != NULL) {
		/* Before it is present: a region worth this is used all over. */
		crm_hugepages(p, n);
		pthread_mutex_lock(&mu);
		(void)push_locked((uintptr_t)p, (uintptr_t)p + n, 0);
		pthread_mutex_unlock(&mu);
	}
}

void
crm_prefault_heap(size_t n, int small)
{
	enum { BLOCK = 64 << 10, MAXB = 64 };
	struct mallinfo2 mi;
	void *b[MAXB];
	uintptr_t a, pg;
	char *end;
	int i, k, ok;

	if (n < MINREGION || n > INT32_MAX / 2)
		return;
	pthread_mutex_lock(&mu);
	k = on();
	pthread_mutex_unlock(&mu);
	if (!k)
		return;
	/*
	 * The next growth of the heap takes n more. Small blocks are taken
	 * until it grows; freed again, newest first, each joins the free top
	 * of the heap. Then growth is back to small steps (a failed one is
	 * not n too large), and the top is kept until it passes 2n. Setting
	 * these ends glibc's sliding threshold for mmap(2), so it is set to
	 * that threshold's most: blocks under 32 MB come from the heap.
	 */
	mallopt(M_TOP_PAD, (int)n);
	for (k = 0; k < MAXB; k++) {
		if ((b[k] = malloc(BLOCK)) == NULL)
			break;
		if (mallinfo2().keepcost >= n / 2) {
			k++;
			break;
		}
	}
	for (i = k - 1; i >= 0; i--)
		free(b[i]);
	mallopt(M_TOP_PAD, 128 << 10);
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
	__atomic_store_n(&raised, 1, __ATOMIC_RELEASE);
	mi = mallinfo2();
	end = sbrk(0);
	pg = (uintptr_t)sysconf(_SC_PAGESIZE);
	a = ((uintptr_t)end - mi.keepcost + pg - 1) & ~(pg - 1);
	ok = end != (void *)-1 && mi.keepcost != 0 && mi.keepcost <= 2 * n;
	/*
	 * A huge page costs its clearing and, where free memory is in
	 * pieces, the kernel's compaction of 2 MB first. On the 2-core VM of
	 * DESIGN.md §7 making 256 MB present took 0.53-0.63 s of a core in
	 * huge pages and 0.09-0.14 s in small ones (strace of crm-add's
	 * madvise calls). Memory used in order repays little of that; LMDB's
	 * pages of a B-tree changed all over (crm-log's events) do repay it:
	 * crm-log took 40% longer in small pages.
	 */
	if (ok && small && a < (uintptr_t)end)
		(void)madvise((void *)a, (uintptr_t)end - a, MADV_NOHUGEPAGE);
	else if (ok && a < (uintptr_t)end)
		crm_hugepages((void *)a, (uintptr_t)end - a);
	/* The heap's small pages are also loaded from (crm_prefault_touch()):
	 * LMDB's 51K pages of 1M new contacts cost the writer 0.11 s of
	 * first accesses, on the VM of DESIGN.md §7, without that. Until
	 * that is done the heap is not trimmed (see holds). Then the kernel
	 * reads them (crm_prefault_ktouch()), as it will at the commit. In
	 * huge pages that is not needed: crm-log's write(2)s at its commit
	 * of 2M events took 0.034-0.053 s with it, 0.037-0.046 s without. */
	pthread_mutex_lock(&mu);
	trim_after = (int)(2 * n);
	if (ok)
		(void)push_locked((uintptr_t)end - mi.keepcost, (uintptr_t)end,
		    small);
	mallopt(M_TRIM_THRESHOLD, holds > 0 ? INT_MAX : trim_after);
	pthread_mutex_unlock(&mu);
}

/*
 * glibc grows a thread's arena by what each allocation at its top needs,
 * a page at a time: the reading thread's first records of a 1M import
 * made 1,324 mprotect(2) calls, which waited for the memory map while the
 * thread above made 2 MB present (83 waits in the first 0.5 s when the
 * cores were slow). A block taken and given back at once leaves the arena
 * that much larger, in one call, without touching the memory (a trim of
 * it later keeps the arena's protection, so no mprotect(2) either).
 * Below M_MMAP_THRESHOLD the block would be mapped on its own instead,
 * and freeing it would move glibc's thresholds for the whole process, so
 * it is taken only once crm_prefault_heap() has set them.
 */
void
crm_prefault_arena(void)
{
	void *volatile p;

	if (!__atomic_load_n(&raised, __ATOMIC_ACQUIRE))
		return;
	p = malloc(ARENA_AHEAD);
	free(p);
}
