#define _GNU_SOURCE /* sync_file_range() */
#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "errors.h"
#include "prefault.h"
#include "store.h"

#define GIB ((size_t)1 << 30)
#define DISK_MAX (sizeof(size_t) > 4 ? (uint64_t)32 << 30 : (uint64_t)1 << 30)

struct crm_store {
	MDB_env *env;
	MDB_dbi meta, contacts, idx[CRM_NIDX], fields, audit, events, stats;
	MDB_dbi alias;     /* merged id -> kept id (hygiene additions) */
	int has_alias;     /* an older store may not have it yet */
	MDB_dbi strings;   /* the string table: number -> string */
	int has_strings;   /* nor this */
	uint32_t format;   /* CRM_STORE_FORMAT, or the one before it */
	int usersfd;       /* shared flock on DIR/crm.users while open */
	unsigned envflags; /* crm_store_open() flags, for a reopen */
	int lockfd, rdonly;
	int map_full; /* a write ran out of map: the next one doubles it */
	char *dir;
	char err[4400];
};

/* The string table records refer to (rec.c), loaded on first use. */
struct strtab {
	struct crm_strtab pub; /* first: the table as rec.h sees it */
	struct crm_txn *t;
	int loaded, err;
	struct crm_buf arena; /* the strings, one after another */
	size_t *off;          /* string k is at arena.p + off[k] */
	uint32_t *len;
	size_t n, cap;
	struct crm_map map; /* string -> k */
};

struct crm_txn {
	struct crm_store *st;
	MDB_txn *t;
	int rdonly;
	uint64_t next_id, max_id, next_event;
	MDB_cursor *evc;                     /* for crm_event_put() */
	unsigned char evlast[CRM_EVKEY_LEN]; /* the greatest event key */
	int evlast_known;
	uint64_t stlast;  /* the greatest contact with statistics, */
	int stlast_known; /* to append to them in order */
	int alias_made;   /* created the alias table: gone on abort */
	int strings_made; /* found or made the string table: st's at commit */
	int format_made;  /* moved the store to CRM_STORE_FORMAT */
	MDB_dbi strs_dbi;
	struct strtab strs;
	struct crm_map ov[CRM_NIDX]; /* pending index changes; 0 deletes */
	struct crm_map fieldset;
	int fields_loaded;
	uint32_t nfields;
	struct crm_buf enc;
	struct flusher *fl; /* crm_txn_flusher() */
};

/* A thread that starts the write-back of the store's file now and then. */
struct flusher {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int fd, stop;
	unsigned long ticks;
};

struct crm_iter {
	struct crm_txn *t;
	MDB_cursor *c;
	int started;
	uint64_t seek; /* crm_iter_seek(): the first id wanted, or 0 */
};

struct crm_evit {
	MDB_cursor *c;
	uint64_t contact, seek;
	int64_t from, to;
	int started, reverse;
	struct crm_store *st;
};

/*
 * LMDB reports a write cut short as EIO: on a filesystem with no room left
 * that is a full disk, and said so.
 */
static int
disk_full(const struct crm_store *st)
{
	struct statvfs fs;

	return statvfs(st->dir, &fs) == 0 &&
	    (uint64_t)fs.f_bavail * fs.f_frsize < ((uint64_t)1 << 22);
}

static int
lmdb_err(struct crm_store *st, int rc)
{
	if (rc == 0)
		return 0;
	/* Not an error to report, and the one result that two threads
	 * (crm-log's) may both come to at once: st->err is left alone. */
	if (rc == MDB_NOTFOUND)
		return CRM_ENOTFOUND;
	snprintf(st->err, sizeof(st->err), "%s", mdb_strerror(rc));
	if (rc == ENOSPC || rc == EDQUOT || (rc == EIO && disk_full(st))) {
		snprintf(st->err, sizeof(st->err),
		    "no space left on the disk of %s; nothing of this "
		    "transaction was stored",
		    st->dir);
		return CRM_EFULL;
	}
	if (rc == MDB_MAP_FULL) {
		st->map_full = 1;
		snprintf(st->err, sizeof(st->err),
		    "the map of store %s is full; nothing of this transaction "
		    "was stored, and the next write has a map twice as large",
		    st->dir);
		return CRM_EFULL;
	}
	switch (rc) {
	case ENOSPC:
	case EDQUOT:
		return CRM_EFULL;
	case MDB_VERSION_MISMATCH:
	case MDB_INVALID:
		return CRM_EVERSION;
	case ENOMEM:
		return CRM_ENOMEM;
	case EIO:
		return CRM_EIO;
	case EACCES:
	case EROFS:
		return rc;
	}
	return CRM_ESTORE;
}

const char *
crm_store_path(const char *opt, char *buf, size_t len)
{
	const char *e;

	if (opt != NULL && *opt)
		return opt;
	if ((e = getenv("CRM_DB")) != NULL && *e)
		return e;
	if ((e = getenv("XDG_DATA_HOME")) != NULL && *e)
		snprintf(buf, len, "%s/crm", e);
	else
		snprintf(buf, len, "%s/.local/share/crm",
		    (e = getenv("HOME")) != NULL ? e : ".");
	return buf;
}

const char *
crm_store_error(const struct crm_store *st)
{
	return st != NULL ? st->err : "";
}

/* mkdir -p with mode 0700 for every directory it creates. */
static int
mkdirs(char *path)
{
	char *p;

	for (p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) != 0 && errno != EEXIST) {
			*p = '/';
			return errno;
		}
		*p = '/';
	}
	return mkdir(path, 0700) != 0 && errno != EEXIST ? errno : 0;
}

static int take_lock(struct crm_store *st, unsigned flags);
static int open_alias(struct crm_store *st, MDB_txn *t, unsigned cr);
static void users_lock(struct crm_store *st);
static void users_relock(struct crm_store *st);
static void flusher_stop(struct crm_txn *t);
static int env_open(struct crm_store *st, unsigned flags);

/* Opens (create: creates) every named database in txn t. */
static int
open_all(struct crm_store *st, MDB_txn *t, unsigned cr)
{
	static const char *names[CRM_NIDX] = { "email", "ext_id", "evkey" };
	int rc, i;

	rc = mdb_dbi_open(t, "contacts", cr | MDB_INTEGERKEY, &st->contacts);
	for (i = 0; rc == 0 && i < CRM_NIDX; i++)
		rc = mdb_dbi_open(t, names[i], cr, &st->idx[i]);
	if (rc == 0)
		rc = mdb_dbi_open(t, "fields", cr, &st->fields);
	if (rc == 0)
		rc = mdb_dbi_open(t, "audit", cr | MDB_INTEGERKEY, &st->audit);
	if (rc == 0)
		rc = mdb_dbi_open(t, "events", cr, &st->events);
	if (rc == 0)
		rc = mdb_dbi_open(t, "stats", cr | MDB_INTEGERKEY, &st->stats);
	if (rc == 0)
		rc = open_alias(st, t, cr);
	if (rc == 0) {
		/* As the alias table: an older store has none until the
		 * first string is put in it. */
		rc = mdb_dbi_open(t, "strings", cr | MDB_INTEGERKEY,
		    &st->strings);
		st->has_strings = rc == 0;
		rc = rc == MDB_NOTFOUND ? 0 : rc;
	}
	return rc;
}

static int
check_format(struct crm_store *st, MDB_txn *t)
{
	MDB_val k = { 6, "format" }, v;
	uint32_t have = 0;
	int rc;

	/* Format 2 is a store whose records refer to no string table; it
	 * becomes 3 when its table gets its first string (crm_txn_intern()),
	 * so that a crm older than the table refuses it whole. */
	if ((rc = mdb_get(t, st->meta, &k, &v)) != 0)
		return rc;
	if (v.mv_size == 4)
		memcpy(&have, v.mv_data, 4);
	if (have == CRM_STORE_FORMAT || have == CRM_STORE_FORMAT - 1) {
		st->format = have;
		return 0;
	}
	memcpy(&have, v.mv_data, v.mv_size < 4 ? v.mv_size : 4);
	snprintf(st->err, sizeof(st->err),
	    "store %s has format %u; this crm "
	    "reads formats %u and %u",
	    st->dir, have, (unsigned)CRM_STORE_FORMAT - 1,
	    (unsigned)CRM_STORE_FORMAT);
	return CRM_EVERSION;
}

/* A new store: its databases and format number, under the writers' lock. */
static int
create_dbs(struct crm_store *st, unsigned flags)
{
	MDB_val k = { 6, "format" }, v;
	uint32_t fmt = CRM_STORE_FORMAT;
	MDB_txn *t;
	int rc;

	if ((rc = take_lock(st, flags)))
		return rc;
	if ((rc = mdb_txn_begin(st->env, NULL, 0, &t)) == 0) {
		rc = mdb_dbi_open(t, "meta", MDB_CREATE, &st->meta);
		if (rc == 0 && (rc = check_format(st, t)) == MDB_NOTFOUND) {
			v.mv_size = 4;
			v.mv_data = &fmt;
			rc = mdb_put(t, st->meta, &k, &v, 0);
			st->format = fmt;
		}
		if (rc == 0)
			rc = open_all(st, t, MDB_CREATE);
		if (rc == 0)
			rc = mdb_txn_commit(t);
		else
			mdb_txn_abort(t);
	}
	flock(st->lockfd, LOCK_UN);
	return rc < 0 && rc > -100 ? rc : lmdb_err(st, rc);
}

/*
 * An existing store is opened in a read transaction, so that opening never
 * waits for a writer; only a new store needs a write transaction.
 */
static int
open_dbs(struct crm_store *st, unsigned flags)
{
	MDB_txn *t;
	int rc;

	if ((rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &t)))
		return lmdb_err(st, rc);
	rc = mdb_dbi_open(t, "meta", 0, &st->meta);
	if (rc == 0 && (rc = check_format(st, t)) == 0)
		rc = open_all(st, t, 0);
	if (rc == 0)
		return lmdb_err(st, mdb_txn_commit(t));
	mdb_txn_abort(t);
	if (rc == CRM_EVERSION)
		return rc;
	if (rc != MDB_NOTFOUND)
		return lmdb_err(st, rc);
	if (st->rdonly) {
		snprintf(st->err, sizeof(st->err), "no store at %s", st->dir);
		return CRM_ENOSTORE;
	}
	return create_dbs(st, flags);
}

/*
 * The map is address space, not disk: LMDB (without MDB_WRITEMAP) grows the
 * file only as pages are written. So the map is set to what the disk could
 * hold: the file plus the free space of its filesystem (up to 32 GiB more,
 * which keeps the address space modest for valgrind and ulimit -v), and at
 * least 8 GiB or twice the file. A transaction then runs out of disk
 * (CRM_EFULL, a clear error, the store as it was) before it runs out of
 * map, and the map follows the store and the disk: crm_txn_begin() grows
 * it when either has grown.
 */
static size_t
map_size(const char *dir)
{
	char path[4096];
	struct stat sb;
	struct statvfs fs;
	size_t want = sizeof(size_t) > 4 ? 8 * GIB : GIB / 2, file = 0, disk;
	size_t cap = sizeof(size_t) > 4 ? (size_t)1 << 46 : (size_t)3 * GIB;
	unsigned long long room;
	uint64_t free_;
	const char *e;
	char *end;

	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	if (stat(path, &sb) == 0)
		file = (size_t)sb.st_size;
	/* CRM_MAP_BYTES: the room there is, for tests of a full map */
	if ((e = getenv("CRM_MAP_BYTES")) != NULL &&
	    (room = strtoull(e, &end, 10)) > 0 && *end == '\0')
		return (size_t)room;
	if (file > cap / 2)
		return file + GIB;
	if (file * 2 > want)
		want = file * 2;
	if (statvfs(dir, &fs) == 0) {
		free_ = (uint64_t)fs.f_bavail * fs.f_frsize;
		disk = file + (size_t)(free_ < DISK_MAX ? free_ : DISK_MAX);
		if (disk > want)
			want = disk;
	}
	if (want > cap)
		want = cap;
	return (want + GIB - 1) / GIB * GIB;
}

/*
 * Before a write: a map that the store or the disk has outgrown grows (see
 * above), and one that a write filled doubles.
 */
static void
grow_map(struct crm_store *st)
{
	MDB_envinfo info;
	size_t want = map_size(st->dir);

	if (mdb_env_info(st->env, &info) != 0)
		return;
	if (st->map_full && info.me_mapsize * 2 > want)
		want = info.me_mapsize * 2;
	if (want > info.me_mapsize && mdb_env_set_mapsize(st->env, want) == 0)
		st->map_full = 0;
}

int
crm_store_open(const char *dir, unsigned flags, struct crm_store **out)
{
	struct crm_store *st;
	char path[4096];
	int rc;

	if ((st = calloc(1, sizeof(*st))) == NULL ||
	    (st->dir = strdup(dir)) == NULL) {
		free(st);
		return CRM_ENOMEM;
	}
	st->lockfd = st->usersfd = -1;
	st->rdonly = (flags & CRM_F_RDONLY) != 0;
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	if (st->rdonly && access(path, F_OK) != 0) {
		snprintf(st->err, sizeof(st->err), "no store at %s", dir);
		rc = CRM_ENOSTORE;
		goto fail;
	}
	if (!st->rdonly && (rc = mkdirs(st->dir)) != 0) {
		snprintf(st->err, sizeof(st->err), "cannot create %s: %s", dir,
		    strerror(rc));
		rc = CRM_ECREATE;
		goto fail;
	}
	users_lock(st);
	rc = env_open(st, flags);
fail:
	*out = st;
	return rc;
}

/* Opens the LMDB environment of st->dir and its databases. */
static int
env_open(struct crm_store *st, unsigned flags)
{
	int rc;

	st->envflags = flags;
	if ((rc = mdb_env_create(&st->env)) ||
	    (rc = mdb_env_set_maxdbs(st->env, 16)) ||
	    (rc = mdb_env_set_mapsize(st->env, map_size(st->dir))) ||
	    (rc = mdb_env_open(st->env, st->dir, MDB_NOTLS, 0600))) {
		rc = lmdb_err(st, rc);
		snprintf(st->err + strlen(st->err),
		    sizeof(st->err) - strlen(st->err), " (%s)", st->dir);
		if (!st->rdonly && rc > 0)
			rc = CRM_ECREATE;
		return rc;
	}
	return open_dbs(st, flags);
}

void
crm_store_close(struct crm_store *st)
{
	if (st == NULL)
		return;
	if (st->env)
		mdb_env_close(st->env);
	if (st->lockfd >= 0)
		close(st->lockfd);
	if (st->usersfd >= 0)
		close(st->usersfd);
	free(st->dir);
	free(st);
}

static int
take_lock(struct crm_store *st, unsigned flags)
{
	char path[4096];

	if (st->lockfd < 0) {
		snprintf(path, sizeof(path), "%s/crm.lock", st->dir);
		st->lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (st->lockfd < 0) {
			snprintf(st->err, sizeof(st->err), "%s: %s", path,
			    strerror(errno));
			return CRM_ECREATE;
		}
	}
	while (flock(st->lockfd,
		   LOCK_EX | (flags & CRM_F_NOWAIT ? LOCK_NB : 0)) != 0) {
		if (errno == EINTR)
			continue;
		if (errno == EWOULDBLOCK) {
			snprintf(st->err, sizeof(st->err), "store %s is busy",
			    st->dir);
			return CRM_EBUSY;
		}
		return CRM_EIO;
	}
	return 0;
}

static uint64_t
meta_u64(struct crm_txn *t, const char *key)
{
	MDB_val k = { strlen(key), (void *)key }, v;
	uint64_t x = 0;

	if (mdb_get(t->t, t->st->meta, &k, &v) == 0 && v.mv_size == 8)
		memcpy(&x, v.mv_data, 8);
	return x;
}

static uint64_t
last_key(struct crm_txn *t, MDB_dbi dbi)
{
	MDB_cursor *c;
	MDB_val k, v;
	uint64_t x = 0;

	if (mdb_cursor_open(t->t, dbi, &c) == 0) {
		if (mdb_cursor_get(c, &k, &v, MDB_LAST) == 0 && k.mv_size == 8)
			memcpy(&x, k.mv_data, 8);
		mdb_cursor_close(c);
	}
	return x;
}

/*
 * The string table. String k has the key k, from 0 up with no gap; a
 * string is put once and never changed or taken out, so a number a
 * committed record holds always means the same string. Only the tools put
 * strings (crm_txn_intern()), and only names of columns and the consent
 * source of an import, never a value of a row: crm-forget leaves nothing of
 * a contact here.
 */
#define STRS_MAX 65536 /* strings a store holds at most */
#define STR_MAX 4096   /* bytes a string is at most */

static int
strs_add(struct strtab *s, const void *p, size_t n)
{
	size_t cap;
	void *a, *b;
	int rc;

	if (s->n == s->cap) {
		cap = s->cap ? 2 * s->cap : 16;
		if ((a = realloc(s->off, cap * sizeof(*s->off))) == NULL)
			return CRM_ENOMEM;
		s->off = a;
		if ((b = realloc(s->len, cap * sizeof(*s->len))) == NULL)
			return CRM_ENOMEM;
		s->len = b;
		s->cap = cap;
	}
	s->off[s->n] = s->arena.len;
	s->len[s->n] = (uint32_t)n;
	if (crm_buf_add(&s->arena, p, n) ||
	    (rc = crm_map_put(&s->map, p, n, s->n)) != 0)
		return CRM_ENOMEM;
	s->n++;
	return 0;
}

static int
strs_load(struct strtab *s)
{
	struct crm_txn *t = s->t;
	MDB_dbi dbi = t->st->strings;
	MDB_cursor *c;
	MDB_val k, v;
	uint64_t key;
	int rc;

	if (s->loaded)
		return s->err;
	s->loaded = 1;
	/*
	 * Another process may have made the table since the store was opened
	 * here. A writer looks for it (it is the one thread of the process
	 * that opens databases meanwhile, as LMDB asks), and the store has
	 * the handle once the transaction commits. A reader does not: a
	 * record that refers to the table is then refused (strs_get()).
	 */
	if (!t->st->has_strings) {
		if (t->rdonly)
			return 0;
		rc = mdb_dbi_open(t->t, "strings", MDB_INTEGERKEY, &dbi);
		if (rc == MDB_NOTFOUND)
			return 0;
		if (rc)
			return s->err = lmdb_err(t->st, rc);
		t->strs_dbi = dbi;
		t->strings_made = 1;
	}
	if ((rc = mdb_cursor_open(t->t, dbi, &c)))
		return s->err = lmdb_err(t->st, rc);
	while ((rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == 0) {
		if (k.mv_size != 8 || v.mv_size == 0 || v.mv_size > STR_MAX)
			break;
		memcpy(&key, k.mv_data, 8);
		if (key != s->n || s->n >= STRS_MAX)
			break;
		if ((rc = strs_add(s, v.mv_data, v.mv_size)))
			break;
	}
	mdb_cursor_close(c);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc == 0) {
		snprintf(t->st->err, sizeof(t->st->err),
		    "string table of %s: string %zu is missing or damaged",
		    t->st->dir, s->n);
		rc = CRM_ESTORE;
	} else if (rc > 0)
		rc = lmdb_err(t->st, rc);
	return s->err = rc;
}

static const char *
strs_get(const struct crm_strtab *tab, uint64_t k, size_t *n)
{
	struct strtab *s = (struct strtab *)tab;

	if (strs_load(s))
		return NULL;
	if (!s->t->st->has_strings && !s->t->strings_made) {
		snprintf(s->t->st->err, sizeof(s->t->st->err),
		    "store %s has a string table made after this program "
		    "opened it; run the program again",
		    s->t->st->dir);
		s->err = CRM_EVERSION;
		return NULL;
	}
	if (k >= s->n)
		return NULL;
	*n = s->len[k];
	return s->arena.p + s->off[k];
}

static int
strs_find(const struct crm_strtab *tab, const char *p, size_t n, uint32_t *k)
{
	struct strtab *s = (struct strtab *)tab;
	uint64_t x;

	if (strs_load(s) || s->n == 0)
		return 0;
	if (!crm_map_get(&s->map, p, n, &x))
		return 0;
	*k = (uint32_t)x;
	return 1;
}

const char *
crm_txn_strtab_problem(struct crm_txn *t)
{
	return strs_load(&t->strs) ? t->st->err : NULL;
}

const struct crm_strtab *
crm_txn_strtab(struct crm_txn *t)
{
	(void)strs_load(&t->strs);
	return &t->strs.pub;
}

int
crm_txn_intern(struct crm_txn *t, const char *p, size_t n, uint32_t *k)
{
	struct strtab *s = &t->strs;
	uint64_t key;
	MDB_val kv = { 8, &key }, v = { n, (void *)p };
	int rc;

	if (t->rdonly)
		return CRM_ESTORE;
	if ((rc = strs_load(s)))
		return rc;
	if (strs_find(&s->pub, p, n, k))
		return 0;
	if (n == 0 || n > STR_MAX || s->n >= STRS_MAX)
		return CRM_ETOOBIG;
	if (!t->st->has_strings && !t->strings_made) {
		rc = mdb_dbi_open(t->t, "strings", MDB_CREATE | MDB_INTEGERKEY,
		    &t->strs_dbi);
		if (rc)
			return lmdb_err(t->st, rc);
		t->strings_made = 1;
	}
	if (t->st->format < CRM_STORE_FORMAT && !t->format_made) {
		uint32_t fmt = CRM_STORE_FORMAT;
		MDB_val fk = { 6, "format" }, fv = { 4, &fmt };

		if ((rc = mdb_put(t->t, t->st->meta, &fk, &fv, 0)))
			return lmdb_err(t->st, rc);
		t->format_made = 1;
	}
	key = s->n;
	if ((rc = mdb_put(t->t, t->strings_made ? t->strs_dbi : t->st->strings,
		 &kv, &v, MDB_APPEND)))
		return lmdb_err(t->st, rc);
	*k = (uint32_t)key;
	return strs_add(s, p, n);
}

int
crm_txn_begin(struct crm_store *st, unsigned flags, struct crm_txn **out)
{
	struct crm_txn *t;
	int rc, ro = st->rdonly || (flags & CRM_F_RDONLY);

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return CRM_ENOMEM;
	t->st = st;
	t->rdonly = ro;
	if (!ro && (rc = take_lock(st, flags))) {
		free(t);
		return rc;
	}
	if (!ro)
		grow_map(st);
	rc = mdb_txn_begin(st->env, NULL, ro ? MDB_RDONLY : 0, &t->t);
	if (rc == MDB_MAP_RESIZED) {
		/* Another process grew the map: take its size and go on. */
		mdb_env_set_mapsize(st->env, 0);
		rc = mdb_txn_begin(st->env, NULL, ro ? MDB_RDONLY : 0, &t->t);
	}
	if (rc) {
		if (!ro)
			flock(st->lockfd, LOCK_UN);
		free(t);
		return lmdb_err(st, rc);
	}
	t->max_id = last_key(t, st->contacts);
	t->next_id = meta_u64(t, "next_id");
	if (t->next_id <= t->max_id)
		t->next_id = t->max_id + 1;
	if ((t->next_event = meta_u64(t, "next_event")) == 0)
		t->next_event = 1;
	t->strs.pub.get = strs_get;
	t->strs.pub.find = strs_find;
	t->strs.t = t;
	*out = t;
	return 0;
}

static void
txn_free(struct crm_txn *t)
{
	int i;

	/* A write transaction's cursors end with it (LMDB frees them). */
	for (i = 0; i < CRM_NIDX; i++)
		crm_map_free(&t->ov[i]);
	crm_map_free(&t->fieldset);
	crm_buf_free(&t->enc);
	crm_buf_free(&t->strs.arena);
	crm_map_free(&t->strs.map);
	free(t->strs.off);
	free(t->strs.len);
	free(t);
}

void
crm_txn_abort(struct crm_txn *t)
{
	if (t == NULL)
		return;
	if (t->evc != NULL)
		mdb_cursor_close(t->evc);
	flusher_stop(t);
	mdb_txn_abort(t->t);
	if (t->alias_made)
		t->st->has_alias = 0;
	if (!t->rdonly)
		flock(t->st->lockfd, LOCK_UN);
	txn_free(t);
}

/*
 * A key of an index's map to be written, by the place of its bytes in the
 * map (its length and value are read from there, crm_map_keylen() and
 * crm_map_keyval()) and eight of its bytes from where the sort has got to.
 * Sixteen bytes, so that the map's hash table, no longer needed at the
 * commit, holds the keys to be sorted.
 */
struct pending {
	uint64_t prefix;
	const char *k;
};

static uint64_t
prefix8(const char *k, size_t n)
{
	uint64_t x = 0;
	size_t i;

	for (i = 0; i < 8; i++)
		x = x << 8 | (i < n ? (unsigned char)k[i] : 0);
	return x;
}

static size_t
plen(const struct pending *p)
{
	return crm_map_keylen(p->k);
}

/* a and b in LMDB's order: bytes first, then the shorter first. */
static int
keycmp(const char *a, size_t an, const char *b, size_t bn)
{
	int c = memcmp(a, b, an < bn ? an : bn);

	return c ? c : (an > bn) - (an < bn);
}

/* a before b, for keys equal in their first depth bytes */
static int
before(const struct pending *a, const struct pending *b, size_t depth)
{
	size_t an = plen(a), bn = plen(b);

	if (an <= depth || bn <= depth)
		return an < bn;
	return keycmp(a->k + depth, an - depth, b->k + depth, bn - depth) < 0;
}

/* The same, by the prefixes (the next eight bytes of each) where they
 * differ: the keys themselves are read only where they tie. */
static int
before_p(const struct pending *a, const struct pending *b, size_t depth)
{
	if (a->prefix != b->prefix)
		return a->prefix < b->prefix;
	return before(a, b, depth);
}

/* Whether p[0..n) is in LMDB's order already, its keys being equal in
 * their first depth bytes. */
static int
in_order(const struct pending *p, size_t n, size_t depth)
{
	size_t i;

	for (i = 1; i < n; i++)
		if (before(&p[i], &p[i - 1], depth))
			return 0;
	return 1;
}

static void
swap_pending(struct pending *a, struct pending *b)
{
	struct pending t = *a;

	*a = *b;
	*b = t;
}

/*
 * Keys p[0..n) equal in their first depth bytes, each prefix holding the
 * next eight (zero-padded): a three-way radix quicksort on those eight,
 * then on the next eight within each run of equal ones. Keys that end
 * inside the eight come first in their run, shorter first: a run holds
 * no two equal keys, so they differ in length.
 */
static void
sort_small(struct pending *p, size_t n, size_t depth)
{
	uint64_t a, b, c, v;
	size_t lt, gt, i, j;

	while (n > 1) {
		if (n < 12) {
			for (i = 1; i < n; i++)
				for (j = i;
				     j > 0 && before_p(&p[j], &p[j - 1], depth);
				     j--)
					swap_pending(&p[j], &p[j - 1]);
			return;
		}
		a = p[0].prefix, b = p[n / 2].prefix, c = p[n - 1].prefix;
		v = a < b ? (b < c        ? b :
				    a < c ? c :
					    a) :
			    (a < c        ? a :
				    b < c ? c :
					    b);
		for (lt = i = 0, gt = n; i < gt;)
			if (p[i].prefix < v)
				swap_pending(&p[lt++], &p[i++]);
			else if (p[i].prefix > v)
				swap_pending(&p[i], &p[--gt]);
			else
				i++;
		sort_small(p, lt, depth);
		sort_small(p + gt, n - gt, depth);
		p += lt;
		n = gt - lt;
		for (i = j = 0; i < n; i++)
			if (plen(&p[i]) <= depth + 8)
				swap_pending(&p[j++], &p[i]);
		for (i = 1; i < j; i++) /* the ended keys, by length */
			for (lt = i; lt > 0 && plen(&p[lt]) < plen(&p[lt - 1]);
			     lt--)
				swap_pending(&p[lt], &p[lt - 1]);
		p += j;
		n -= j;
		depth += 8;
		for (i = 0; i < n; i++)
			p[i].prefix =
			    prefix8(p[i].k + depth, plen(&p[i]) - depth);
	}
}

/*
 * Sorts p[0..n) in LMDB's order, the keys being equal in their first depth
 * bytes: a least-significant-digit radix sort on the next eight bytes, 16
 * bits a pass and only the passes whose digit differs somewhere, then the
 * same again eight bytes further inside each run of equal bytes. Keys of
 * one kind share long prefixes ("purchase\0O000..."), so a run can be the
 * whole set; a comparison sort finishes runs too short for the counts.
 */
#define PREFETCH_KEYS 16
#define RADIX_MIN 4096 /* shorter runs are sorted by comparing */

static void
sort_from(struct pending *p, struct pending *tmp, size_t *count, size_t n,
    size_t depth)
{
	struct pending *src = p, *dst = tmp, *sw;
	uint64_t diff = 0;
	size_t i, j, sum, len, maxn = 0, ahead;
	int shift;

	/* Keys put in order (order numbers, say) stay in order through the
	 * stable passes above: then there is nothing left to do. */
	if (in_order(p, n, depth))
		return;
	for (i = 0; i < n; i++) {
		if (i + 8 < n)
			crm_map_prefetch_entry(p[i + 8].k);
		len = plen(&p[i]);
		p[i].prefix =
		    len > depth ? prefix8(p[i].k + depth, len - depth) : 0;
		diff |= p[i].prefix ^ p[0].prefix;
		maxn = len > maxn ? len : maxn;
	}
	/* A pass costs its 64k counts: a short run, or one whose keys all
	 * end here, is sorted by comparing. */
	if (n < RADIX_MIN || depth >= maxn) {
		sort_small(p, n, depth);
		return;
	}
	for (shift = 0; shift < 64; shift += 16) {
		if ((diff >> shift & 0xffff) == 0)
			continue;
		memset(count, 0, 65536 * sizeof(*count));
		for (i = 0; i < n; i++)
			count[src[i].prefix >> shift & 0xffff]++;
		for (i = sum = 0; i < 65536; i++) {
			j = count[i];
			count[i] = sum;
			sum += j;
		}
		for (i = 0; i < n; i++)
			dst[count[src[i].prefix >> shift & 0xffff]++] = src[i];
		sw = src;
		src = dst;
		dst = sw;
	}
	if (src != p)
		memcpy(p, src, n * sizeof(*p));
	/* The runs are sorted on the next eight bytes, read from their keys,
	 * which are all over memory: the keys of the runs to come are
	 * fetched ahead (those of keys alone in their run are not needed),
	 * but for runs sorted by counts, as this one, whose first pass
	 * fetches its keys itself. */
	for (i = 0, ahead = 0; i < n; i = j) {
		for (j = i + 1; j < n && p[j].prefix == p[i].prefix; j++)
			;
		if (j - i < 2)
			continue;
		if (j - i >= RADIX_MIN && ahead < j)
			ahead = j;
		for (ahead = ahead > i ? ahead : i;
		     ahead < n && ahead < j + PREFETCH_KEYS; ahead++)
			if ((ahead > 0 &&
				p[ahead].prefix == p[ahead - 1].prefix) ||
			    (ahead + 1 < n &&
				p[ahead].prefix == p[ahead + 1].prefix))
				crm_map_prefetch_entry(p[ahead].k);
		sort_from(p + i, tmp, count, j - i, depth + 8);
	}
}

/*
 * A large sort is split in two by the keys' first byte, and the upper part
 * sorted on a thread of its own: the commit has the machine to itself, and
 * keys that differ in their first byte are in that byte's order. The split
 * is where the counts of first bytes pass half; keys that nearly all begin
 * alike (crm-log's order keys) are sorted in one piece.
 */
#define SPLIT_MIN 65536

struct half {
	struct pending *p, *tmp;
	size_t *count, n;
};

static void *
sort_half(void *arg)
{
	struct half *h = arg;

	sort_from(h->p, h->tmp, h->count, h->n, 0);
	return NULL;
}

static int
first_byte(const struct pending *p)
{
	return plen(p) ? (unsigned char)p->k[0] : 0;
}

/*
 * Moves the keys of first byte below the split to the front (via tmp);
 * returns how many they are, or 0 when the split would leave a part with
 * less than a quarter. The split byte is chosen from every 64th key, so
 * that keys that nearly all begin alike cost a short look only.
 */
#define SPLIT_SAMPLE 64

static size_t
split_first(struct pending *p, struct pending *tmp, size_t n)
{
	size_t hist[256] = { 0 }, i, s = 0, m = 0, lo = 0, hi;
	int b;

	for (i = 0; i < n; i += SPLIT_SAMPLE, s++)
		hist[first_byte(&p[i])]++;
	for (b = 0; b < 256 && m + hist[b] <= s / 2; b++)
		m += hist[b];
	/* With byte b in the lower part, it may be nearer half. */
	if (b < 256 && s / 2 - m > m + hist[b] - s / 2)
		m += hist[b++];
	if (m < s / 4 || m > s - s / 4)
		return 0;
	/* The keys are read once, here: their first bytes are kept in the
	 * prefix for the pass that moves them. */
	for (i = m = 0; i < n; i++) {
		if (i + 8 < n)
			crm_map_prefetch_entry(p[i + 8].k);
		p[i].prefix = (uint64_t)first_byte(&p[i]);
		m += p[i].prefix < (uint64_t)b;
	}
	if (m < n / 4 || m > n - n / 4)
		return 0;
	for (i = 0, hi = m; i < n; i++)
		if (p[i].prefix < (uint64_t)b)
			tmp[lo++] = p[i];
		else
			tmp[hi++] = p[i];
	memcpy(p, tmp, n * sizeof(*p));
	return m;
}

static int
sort_pending(struct pending *p, size_t n)
{
	struct pending *tmp;
	struct half h;
	pthread_t th;
	size_t *count, i, m = 0;

	if (n < RADIX_MIN) {
		for (i = 0; i < n; i++)
			p[i].prefix = prefix8(p[i].k, plen(&p[i]));
		sort_small(p, n, 0);
		return 0;
	}
	/* Keys put in order (crm-log's order keys) are left as they are:
	 * sort_from() would find that too, after the look for a split. */
	if (in_order(p, n, 0))
		return 0;
	if ((tmp = malloc(n * sizeof(*tmp))) == NULL ||
	    (count = malloc(2 * 65536 * sizeof(*count))) == NULL) {
		free(tmp);
		return CRM_ENOMEM;
	}
	if (n >= SPLIT_MIN)
		m = split_first(p, tmp, n);
	h.p = p + m;
	h.tmp = tmp + m;
	h.count = count + 65536;
	h.n = n - m;
	if (m > 0 && pthread_create(&th, NULL, sort_half, &h) == 0) {
		sort_from(p, tmp, count, m, 0);
		pthread_join(th, NULL);
	} else {
		if (m > 0)
			sort_from(p, tmp, count, m, 0);
		sort_from(h.p, h.tmp, count, h.n, 0);
	}
	free(tmp);
	free(count);
	return 0;
}

/* One pending change of an index, in key order: appended once the keys
 * are past the last one stored (*append), put in its place before. */
static int
put_key(struct crm_txn *t, int idx, MDB_cursor *c, int *append,
    const MDB_val *last, const char *key, size_t n, uint64_t id)
{
	MDB_val k = { n, (void *)key }, v = { 8, &id };
	int rc;

	if (id == 0) {
		rc = mdb_del(t->t, t->st->idx[idx], &k, NULL);
		return rc == MDB_NOTFOUND ? 0 : rc;
	}
	if (!*append)
		*append = last->mv_size == 0 ||
		    keycmp(last->mv_data, last->mv_size, key, n) < 0;
	return mdb_cursor_put(c, &k, &v, *append ? MDB_APPEND : 0);
}

/*
 * Keys of a few kinds, each kind put in order (order numbers by type, say):
 * written kind after kind, straight from the map, with nothing to sort.
 * Returns 1 when done so, 0 when the keys are not like that.
 */
#define MAXKINDS 8
static int
flush_kinds(struct crm_txn *t, int idx, MDB_cursor *c, int *append,
    const MDB_val *last, int *rc)
{
	const struct crm_map *m = &t->ov[idx];
	struct kind {
		uint64_t prefix;
		const char *k;
		size_t n;
	} kind[MAXKINDS], sw;
	const char *k;
	size_t i, nk = 0, j, a, b, n;
	uint64_t id, prefix;

	for (i = 0; crm_map_each(m, &i, &k, &n, &id);) {
		if (id == 0)
			return 0;
		prefix = prefix8(k, n);
		for (j = 0; j < nk && kind[j].prefix != prefix; j++)
			;
		if (j == nk && nk == MAXKINDS)
			return 0;
		if (j == nk)
			nk++;
		else if (keycmp(kind[j].k, kind[j].n, k, n) >= 0)
			return 0;
		/* the kind's last key so far */
		kind[j].prefix = prefix;
		kind[j].k = k;
		kind[j].n = n;
	}
	for (a = 1; a < nk; a++) /* the kinds in key order */
		for (b = a; b > 0 && kind[b].prefix < kind[b - 1].prefix; b--) {
			sw = kind[b];
			kind[b] = kind[b - 1];
			kind[b - 1] = sw;
		}
	for (j = 0; *rc == 0 && j < nk; j++)
		for (i = 0; *rc == 0 && crm_map_each(m, &i, &k, &a, &id);)
			if (prefix8(k, a) == kind[j].prefix)
				*rc =
				    put_key(t, idx, c, append, last, k, a, id);
	return 1;
}

/* Writes one index's pending changes in key order; appends where it can. */
static int
flush_index(struct crm_txn *t, int idx)
{
	struct crm_map *m = &t->ov[idx];
	struct pending *p;
	MDB_cursor *c;
	MDB_val lk = { 0, NULL }, lv;
	char last[512];
	size_t i = 0, n = 0, len, room;
	uint64_t id;
	int rc = 0, append;

	if (m->n == 0)
		return 0;
	if ((rc = mdb_cursor_open(t->t, t->st->idx[idx], &c)))
		return lmdb_err(t->st, rc);
	append = mdb_cursor_get(c, &lk, &lv, MDB_LAST) == MDB_NOTFOUND;
	/* The last key as it is now: puts may change the page it is in. */
	if (!append && lk.mv_size <= sizeof(last)) {
		memcpy(last, lk.mv_data, lk.mv_size);
		lk.mv_data = last;
	} else
		lk.mv_size = 0;
	if (flush_kinds(t, idx, c, &append, &lk, &rc)) {
		mdb_cursor_close(c);
		return lmdb_err(t->st, rc);
	}
	/* The map is written once, at the commit: its hash table is the
	 * room for its keys' order. */
	p = crm_map_take_table(m, &room);
	if (room < m->n * sizeof(*p)) {
		free(p);
		p = malloc(m->n * sizeof(*p));
	}
	if (p == NULL) {
		mdb_cursor_close(c);
		return CRM_ENOMEM;
	}
	while (crm_map_each(m, &i, &p[n].k, &len, &id))
		n++;
	rc = sort_pending(p, n);
	/* In key order the keys are all over the map's arena: each is
	 * fetched a few puts ahead of its own. */
	for (i = 0; rc == 0 && i < n; i++) {
		if (i + 8 < n)
			crm_map_prefetch_entry(p[i + 8].k);
		rc = put_key(t, idx, c, &append, &lk, p[i].k, plen(&p[i]),
		    crm_map_keyval(p[i].k));
	}
	mdb_cursor_close(c);
	free(p);
	return rc < 0 ? rc : lmdb_err(t->st, rc);
}

int
crm_txn_commit(struct crm_txn *t)
{
	MDB_val k = { 7, "next_id" }, v = { 8, NULL };
	int rc = 0, i;

	if (t->rdonly) {
		crm_txn_abort(t);
		return 0;
	}
	for (i = 0; rc == 0 && i < CRM_NIDX; i++)
		rc = flush_index(t, i);
	v.mv_data = &t->next_id;
	if (rc == 0)
		rc = lmdb_err(t->st, mdb_put(t->t, t->st->meta, &k, &v, 0));
	k.mv_size = 10;
	k.mv_data = "next_event";
	v.mv_data = &t->next_event;
	if (rc == 0)
		rc = lmdb_err(t->st, mdb_put(t->t, t->st->meta, &k, &v, 0));
	if (rc) {
		crm_txn_abort(t);
		return rc;
	}
	if (t->evc != NULL)
		mdb_cursor_close(t->evc);
	t->evc = NULL;
	rc = lmdb_err(t->st, mdb_txn_commit(t->t));
	/* What the transaction opened or changed is the store's only now. */
	if (rc == 0 && t->strings_made) {
		t->st->strings = t->strs_dbi;
		t->st->has_strings = 1;
	}
	if (rc == 0 && t->format_made)
		t->st->format = CRM_STORE_FORMAT;
	if (rc != 0 && t->alias_made)
		t->st->has_alias = 0;
	flusher_stop(t);
	flock(t->st->lockfd, LOCK_UN);
	txn_free(t);
	return rc;
}

/*
 * LMDB writes the pages of a transaction larger than its dirty-page limit
 * (a few hundred megabytes) to the file before the commit, and the system
 * starts writing a file's pages to disk only past a share of memory
 * (gigabytes) or when it is synced: the commit then waits for the disk to
 * take all of them. A thread of its own asks for their write-back every
 * FLUSH_MS while the transaction lasts, so the disk works while the import
 * goes on; the commit still syncs everything, so nothing about durability
 * changes. On 10M events this took the sync at the commit from 0.43-0.53 s
 * to 0.27-0.40 s. The thread sleeps in between, and what it does is work
 * the sync would otherwise do on the writing thread. Only a hint: where
 * the system has no such call, or it fails, nothing happens.
 */
#define FLUSH_MS 50

static void *
flusher(void *arg)
{
	struct flusher *f = arg;
	struct timespec ts;

	pthread_mutex_lock(&f->mu);
	while (!f->stop) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += FLUSH_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		if (pthread_cond_timedwait(&f->cv, &f->mu, &ts) == 0 || f->stop)
			continue;
		pthread_mutex_unlock(&f->mu);
#ifdef SYNC_FILE_RANGE_WRITE
		(void)sync_file_range(f->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
#endif
		pthread_mutex_lock(&f->mu);
		f->ticks++;
	}
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

int
crm_txn_flusher(struct crm_txn *t)
{
	struct flusher *f;
	pthread_condattr_t ca;
	int fd, rc;

	if (t->rdonly || t->fl != NULL)
		return 0;
	if (mdb_env_get_fd(t->st->env, &fd) != 0)
		return CRM_EIO;
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return CRM_ENOMEM;
	f->fd = fd;
	pthread_mutex_init(&f->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&f->cv, &ca);
	pthread_condattr_destroy(&ca);
	if ((rc = pthread_create(&f->th, NULL, flusher, f)) != 0) {
		pthread_cond_destroy(&f->cv);
		pthread_mutex_destroy(&f->mu);
		free(f);
		return CRM_ENOMEM;
	}
	t->fl = f;
	return 0;
}

unsigned long
crm_txn_flusher_ticks(struct crm_txn *t)
{
	unsigned long n = 0;

	if (t->fl != NULL) {
		pthread_mutex_lock(&t->fl->mu);
		n = t->fl->ticks;
		pthread_mutex_unlock(&t->fl->mu);
	}
	return n;
}

static void
flusher_stop(struct crm_txn *t)
{
	struct flusher *f = t->fl;

	if (f == NULL)
		return;
	pthread_mutex_lock(&f->mu);
	f->stop = 1;
	pthread_cond_signal(&f->cv);
	pthread_mutex_unlock(&f->mu);
	pthread_join(f->th, NULL);
	pthread_cond_destroy(&f->cv);
	pthread_mutex_destroy(&f->mu);
	free(f);
	t->fl = NULL;
}

/*
 * Only a hint: if memory is short, the maps grow as they go. The e-mail
 * overlay, and the heap LMDB takes its dirty pages from, are made present
 * ahead of use (prefault.h): a new contact takes about 250 bytes of pages
 * (1M of them, 262 MB), and LMDB holds at most CRM_TXN_DIRTY_MAX before
 * it writes some out. New contacts are appended and the index is written
 * in key order, so that heap keeps small pages. Called on the main
 * thread, whose heap that is.
 */
void
crm_txn_expect(struct crm_txn *t, size_t n)
{
	size_t heap = n < CRM_TXN_DIRTY_MAX / 256 ? n * 256 : CRM_TXN_DIRTY_MAX;

	crm_map_reserve(&t->ov[CRM_IDX_EMAIL], n, 32);
	crm_map_prefault(&t->ov[CRM_IDX_EMAIL]);
	crm_prefault_heap(heap, 1);
}

void
crm_txn_expect_index(struct crm_txn *t, int idx, size_t n, size_t klen)
{
	crm_map_reserve(&t->ov[idx], n, klen);
}

void
crm_txn_prefault_index(struct crm_txn *t, int idx)
{
	crm_map_prefault(&t->ov[idx]);
}

int
crm_contact_get(struct crm_txn *t, uint64_t id, struct crm_rec *r)
{
	MDB_val k = { 8, &id }, v;
	int rc;

	if ((rc = mdb_get(t->t, t->st->contacts, &k, &v)))
		return lmdb_err(t->st, rc);
	if ((rc = crm_rec_decode_with(r, v.mv_data, v.mv_size, &t->strs.pub)))
		return t->strs.err ? t->strs.err : rc;
	r->id = id;
	return 0;
}

int
crm_contact_put(struct crm_txn *t, const struct crm_rec *r)
{
	int rc;

	if ((rc = crm_rec_encode_with(r, &t->strs.pub, &t->enc)))
		return rc;
	return crm_contact_put_enc(t, r->id, t->enc.p, t->enc.len);
}

int
crm_contact_put_enc(struct crm_txn *t, uint64_t id, const void *enc, size_t len)
{
	MDB_val k = { 8, &id }, v = { len, (void *)enc };
	int rc;

	rc = mdb_put(t->t, t->st->contacts, &k, &v,
	    id > t->max_id ? MDB_APPEND : 0);
	if (rc == 0 && id > t->max_id)
		t->max_id = id;
	crm_txn_claim_id(t, id);
	return lmdb_err(t->st, rc);
}

uint64_t
crm_txn_next_id(const struct crm_txn *t)
{
	return t->next_id;
}

uint64_t
crm_txn_new_id(struct crm_txn *t)
{
	return t->next_id++;
}

void
crm_txn_claim_id(struct crm_txn *t, uint64_t id)
{
	if (id >= t->next_id)
		t->next_id = id + 1;
}

int
crm_index_get(struct crm_txn *t, int idx, const char *key, size_t n,
    uint64_t *id)
{
	return crm_index_get_hashed(t, idx, crm_map_hash(key, n), key, n, id);
}

void
crm_index_prefetch(struct crm_txn *t, int idx, uint32_t h, int stage)
{
	if (stage == 0)
		crm_map_prefetch(&t->ov[idx], h);
	else
		crm_map_prefetch_key(&t->ov[idx], h);
}

int
crm_index_get_hashed(struct crm_txn *t, int idx, uint32_t h, const char *key,
    size_t n, uint64_t *id)
{
	MDB_val k = { n, (void *)key }, v;
	int rc;

	if (crm_map_get_hashed(&t->ov[idx], h, key, n, id))
		return *id ? 0 : CRM_ENOTFOUND;
	if (n == 0 || n > 511)
		return CRM_ENOTFOUND;
	if ((rc = mdb_get(t->t, t->st->idx[idx], &k, &v)))
		return lmdb_err(t->st, rc);
	if (v.mv_size != 8)
		return CRM_ESTORE;
	memcpy(id, v.mv_data, 8);
	return 0;
}

int
crm_index_put(struct crm_txn *t, int idx, const char *k, size_t n, uint64_t id)
{
	return crm_index_put_hashed(t, idx, crm_map_hash(k, n), k, n, id);
}

int
crm_index_put_hashed(struct crm_txn *t, int idx, uint32_t h, const char *k,
    size_t n, uint64_t id)
{
	if (n == 0 || n > 511)
		return CRM_ETOOBIG;
	return crm_map_put_hashed(&t->ov[idx], h, k, n, id);
}

int
crm_index_del(struct crm_txn *t, int idx, const char *k, size_t n)
{
	return crm_index_put_hashed(t, idx, crm_map_hash(k, n), k, n, 0);
}

size_t
crm_index_count(struct crm_txn *t, int idx)
{
	MDB_stat ms;

	if (mdb_stat(t->t, t->st->idx[idx], &ms))
		return 0;
	return ms.ms_entries;
}

int
crm_index_each(struct crm_txn *t, int idx,
    int (*fn)(void *arg, const char *k, size_t n, uint64_t id), void *arg)
{
	MDB_cursor *c;
	MDB_val k, v;
	uint64_t id;
	int rc, frc = 0;

	if ((rc = mdb_cursor_open(t->t, t->st->idx[idx], &c)))
		return lmdb_err(t->st, rc);
	while (frc == 0 && (rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == 0) {
		if (v.mv_size != 8)
			frc = CRM_ESTORE;
		else {
			memcpy(&id, v.mv_data, 8);
			frc = fn(arg, k.mv_data, k.mv_size, id);
		}
	}
	mdb_cursor_close(c);
	if (frc)
		return frc;
	return rc == MDB_NOTFOUND ? 0 : lmdb_err(t->st, rc);
}

static int
load_fields(struct crm_txn *t)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc;

	t->fields_loaded = 1;
	if ((rc = mdb_cursor_open(t->t, t->st->fields, &c)))
		return lmdb_err(t->st, rc);
	while ((rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == 0) {
		if ((rc = crm_map_put(&t->fieldset, k.mv_data, k.mv_size, 1)))
			break;
		t->nfields++;
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : lmdb_err(t->st, rc);
}

int
crm_field_note(struct crm_txn *t, const char *name, size_t n)
{
	MDB_val k = { n, (void *)name }, v = { 4, NULL };
	uint64_t x;
	int rc;

	if (!t->fields_loaded && (rc = load_fields(t)))
		return rc;
	if (crm_map_get(&t->fieldset, name, n, &x))
		return 0;
	if (n > 511)
		return CRM_ETOOBIG;
	v.mv_data = &t->nfields;
	if ((rc = mdb_put(t->t, t->st->fields, &k, &v, 0)))
		return lmdb_err(t->st, rc);
	t->nfields++;
	return crm_map_put(&t->fieldset, name, n, 1);
}

struct fname {
	uint32_t seq;
	char *name;
};

static int
cmp_fname(const void *a, const void *b)
{
	const struct fname *x = a, *y = b;

	return (x->seq > y->seq) - (x->seq < y->seq);
}

int
crm_fields_list(struct crm_txn *t, char ***names, size_t *n)
{
	MDB_stat ms;
	MDB_cursor *c;
	MDB_val k, v;
	struct fname *f;
	size_t i = 0;
	int rc;

	if ((rc = mdb_stat(t->t, t->st->fields, &ms)) ||
	    (rc = mdb_cursor_open(t->t, t->st->fields, &c)))
		return lmdb_err(t->st, rc);
	if ((f = calloc(ms.ms_entries + 1, sizeof(*f))) == NULL ||
	    (*names = calloc(ms.ms_entries + 1, sizeof(char *))) == NULL) {
		free(f);
		mdb_cursor_close(c);
		return CRM_ENOMEM;
	}
	while (i < ms.ms_entries && mdb_cursor_get(c, &k, &v, MDB_NEXT) == 0) {
		if (v.mv_size == 4)
			memcpy(&f[i].seq, v.mv_data, 4);
		if ((f[i].name = strndup(k.mv_data, k.mv_size)) == NULL)
			break;
		i++;
	}
	mdb_cursor_close(c);
	qsort(f, i, sizeof(*f), cmp_fname);
	for (*n = 0; *n < i; (*n)++)
		(*names)[*n] = f[*n].name;
	free(f);
	return i == ms.ms_entries ? 0 : CRM_ENOMEM;
}

void
crm_fields_free(char **names, size_t n)
{
	size_t i;

	for (i = 0; names && i < n; i++)
		free(names[i]);
	free(names);
}

int
crm_audit_add(struct crm_txn *t, const struct crm_rec *r)
{
	uint64_t seq = last_key(t, t->st->audit) + 1;
	MDB_val k = { 8, &seq }, v;
	int rc;

	if ((rc = crm_rec_encode(r, &t->enc)))
		return rc;
	v.mv_size = t->enc.len;
	v.mv_data = t->enc.p;
	return lmdb_err(t->st, mdb_put(t->t, t->st->audit, &k, &v, MDB_APPEND));
}

int
crm_iter_open(struct crm_txn *t, struct crm_iter **out)
{
	struct crm_iter *it;
	int rc;

	if ((it = calloc(1, sizeof(*it))) == NULL)
		return CRM_ENOMEM;
	if ((rc = mdb_cursor_open(t->t, t->st->contacts, &it->c))) {
		free(it);
		return lmdb_err(t->st, rc);
	}
	it->t = t;
	*out = it;
	return 0;
}

int
crm_iter_next(struct crm_iter *it, struct crm_rec *r)
{
	MDB_val k, v;
	int rc;

	if (!it->started && it->seek != 0) {
		k.mv_size = 8;
		k.mv_data = &it->seek;
		rc = mdb_cursor_get(it->c, &k, &v, MDB_SET_RANGE);
	} else
		rc = mdb_cursor_get(it->c, &k, &v,
		    it->started ? MDB_NEXT : MDB_FIRST);
	it->started = 1;
	if (rc == MDB_NOTFOUND)
		return CRM_EOF;
	if (rc)
		return CRM_ESTORE;
	if (k.mv_size != 8)
		return CRM_ESTORE;
	if ((rc = crm_rec_decode_with(r, v.mv_data, v.mv_size,
		 &it->t->strs.pub)))
		return it->t->strs.err ? it->t->strs.err : rc;
	memcpy(&r->id, k.mv_data, 8);
	return 0;
}

void
crm_iter_seek(struct crm_iter *it, uint64_t id)
{
	it->seek = id;
	it->started = 0;
}

void
crm_iter_close(struct crm_iter *it)
{
	if (it == NULL)
		return;
	mdb_cursor_close(it->c);
	free(it);
}

uint64_t
crm_txn_new_event_id(struct crm_txn *t)
{
	return t->next_event++;
}

/*
 * Events arrive in key order within a batch (evlog.c sorts them), and a
 * key above every stored one can be appended, which is several times
 * cheaper than a B-tree descent. The greatest key is looked up once.
 */
int
crm_event_put(struct crm_txn *t, const unsigned char key[CRM_EVKEY_LEN],
    const void *val, size_t n)
{
	MDB_val k = { CRM_EVKEY_LEN, (void *)key }, v = { n, (void *)val };
	MDB_val lk, lv;
	int rc, append;

	if (t->evc == NULL &&
	    (rc = mdb_cursor_open(t->t, t->st->events, &t->evc)))
		return lmdb_err(t->st, rc);
	if (!t->evlast_known) {
		rc = mdb_cursor_get(t->evc, &lk, &lv, MDB_LAST);
		if (rc == 0 && lk.mv_size == CRM_EVKEY_LEN)
			memcpy(t->evlast, lk.mv_data, CRM_EVKEY_LEN);
		else if (rc != MDB_NOTFOUND)
			return rc ? lmdb_err(t->st, rc) : CRM_ESTORE;
		t->evlast_known = 1;
	}
	append = memcmp(key, t->evlast, CRM_EVKEY_LEN) > 0;
	rc = mdb_cursor_put(t->evc, &k, &v, append ? MDB_APPEND : 0);
	if (rc == 0 && append)
		memcpy(t->evlast, key, CRM_EVKEY_LEN);
	return lmdb_err(t->st, rc);
}

int
crm_event_del(struct crm_txn *t, const unsigned char key[CRM_EVKEY_LEN])
{
	MDB_val k = { CRM_EVKEY_LEN, (void *)key };

	t->evlast_known = 0;
	return lmdb_err(t->st, mdb_del(t->t, t->st->events, &k, NULL));
}

/*
 * The stored statistics: seven 64-bit numbers (four times, three counts),
 * the revenue as a 64-bit count of 10^-scale units and a byte of scale, all
 * in the machine's byte order like every integer key of the store.
 */
#define STATS_LEN (8 * 8 + 1)

int
crm_stats_get(struct crm_txn *t, uint64_t contact, struct crm_stats *s)
{
	MDB_val k = { 8, &contact }, v;
	const unsigned char *p;
	int rc;

	crm_stats_init(s);
	if ((rc = mdb_get(t->t, t->st->stats, &k, &v)) == MDB_NOTFOUND)
		return 0;
	if (rc)
		return lmdb_err(t->st, rc);
	if (v.mv_size != STATS_LEN)
		return CRM_ESTORE;
	p = v.mv_data;
	memcpy(&s->first_seen, p, 8);
	memcpy(&s->last_seen, p + 8, 8);
	memcpy(&s->first_purchase, p + 16, 8);
	memcpy(&s->last_purchase, p + 24, 8);
	memcpy(&s->events, p + 32, 8);
	memcpy(&s->purchases, p + 40, 8);
	memcpy(&s->purchase_days, p + 48, 8);
	memcpy(&s->revenue.v, p + 56, 8);
	s->revenue.scale = p[64];
	return s->revenue.scale > CRM_DEC_MAXSCALE ? CRM_ESTORE : 0;
}

int
crm_stats_put(struct crm_txn *t, uint64_t contact, const struct crm_stats *s)
{
	MDB_val k = { 8, &contact }, v = { STATS_LEN, NULL };
	unsigned char p[STATS_LEN];
	int rc, append;

	memset(p, 0, sizeof(p));
	memcpy(p, &s->first_seen, 8);
	memcpy(p + 8, &s->last_seen, 8);
	memcpy(p + 16, &s->first_purchase, 8);
	memcpy(p + 24, &s->last_purchase, 8);
	memcpy(p + 32, &s->events, 8);
	memcpy(p + 40, &s->purchases, 8);
	memcpy(p + 48, &s->purchase_days, 8);
	memcpy(p + 56, &s->revenue.v, 8);
	p[64] = (unsigned char)s->revenue.scale;
	v.mv_data = p;
	if (!t->stlast_known) {
		MDB_cursor *c;
		MDB_val lk, lv;

		if ((rc = mdb_cursor_open(t->t, t->st->stats, &c)))
			return lmdb_err(t->st, rc);
		rc = mdb_cursor_get(c, &lk, &lv, MDB_LAST);
		mdb_cursor_close(c);
		if (rc == 0 && lk.mv_size == 8)
			memcpy(&t->stlast, lk.mv_data, 8);
		else if (rc == MDB_NOTFOUND)
			t->stlast = 0;
		else
			return rc ? lmdb_err(t->st, rc) : CRM_ESTORE;
		t->stlast_known = 1;
	}
	/* Contacts come mostly in order of id: those past the last append. */
	append = contact > t->stlast;
	rc = mdb_put(t->t, t->st->stats, &k, &v, append ? MDB_APPEND : 0);
	if (rc == 0 && append)
		t->stlast = contact;
	return lmdb_err(t->st, rc);
}

int
crm_evit_open(struct crm_txn *t, uint64_t contact, int64_t from, int64_t to,
    int reverse, struct crm_evit **out)
{
	struct crm_evit *it;
	int rc;

	if ((it = calloc(1, sizeof(*it))) == NULL)
		return CRM_ENOMEM;
	if ((rc = mdb_cursor_open(t->t, t->st->events, &it->c))) {
		free(it);
		return lmdb_err(t->st, rc);
	}
	it->contact = contact;
	it->from = from;
	it->to = to;
	it->reverse = reverse;
	it->st = t->st;
	*out = it;
	return 0;
}

/* Positions on the first key of the range (the last, reversed). */
static int
evit_first(struct crm_evit *it, MDB_val *k, MDB_val *v)
{
	unsigned char key[CRM_EVKEY_LEN];
	int rc;

	if (it->contact == 0 && it->seek != 0 && !it->reverse) {
		crm_evkey_pack(it->seek, INT64_MIN, 0, key);
		k->mv_size = CRM_EVKEY_LEN;
		k->mv_data = key;
		return mdb_cursor_get(it->c, k, v, MDB_SET_RANGE);
	}
	if (it->contact == 0)
		return mdb_cursor_get(it->c, k, v,
		    it->reverse ? MDB_LAST : MDB_FIRST);
	if (!it->reverse) {
		crm_evkey_pack(it->contact, it->from, 0, key);
		k->mv_size = CRM_EVKEY_LEN;
		k->mv_data = key;
		return mdb_cursor_get(it->c, k, v, MDB_SET_RANGE);
	}
	/* The first key past the range, then one step back. */
	if (it->to == INT64_MAX)
		crm_evkey_pack(it->contact + 1, INT64_MIN, 0, key);
	else
		crm_evkey_pack(it->contact, it->to, 0, key);
	k->mv_size = CRM_EVKEY_LEN;
	k->mv_data = key;
	rc = mdb_cursor_get(it->c, k, v, MDB_SET_RANGE);
	if (rc == MDB_NOTFOUND)
		return mdb_cursor_get(it->c, k, v, MDB_LAST);
	return rc ? rc : mdb_cursor_get(it->c, k, v, MDB_PREV);
}

int
crm_evit_next(struct crm_evit *it, struct crm_event *e)
{
	MDB_val k, v;
	int rc;

	for (;;) {
		if (!it->started)
			rc = evit_first(it, &k, &v);
		else
			rc = mdb_cursor_get(it->c, &k, &v,
			    it->reverse ? MDB_PREV : MDB_NEXT);
		it->started = 1;
		if (rc == MDB_NOTFOUND)
			return CRM_EOF;
		if (rc)
			return lmdb_err(it->st, rc);
		if (k.mv_size != CRM_EVKEY_LEN)
			return CRM_ESTORE;
		crm_evkey_unpack(k.mv_data, &e->contact, &e->ts, &e->id);
		if (it->contact != 0 && e->contact != it->contact)
			return CRM_EOF;
		if (e->ts >= it->from && e->ts < it->to)
			return crm_event_decode(e, v.mv_data, v.mv_size);
		/* One contact's timeline is in time order: past the range
		 * in the direction of travel, nothing more can match. */
		if (it->contact != 0 &&
		    (it->reverse ? e->ts < it->from : e->ts >= it->to))
			return CRM_EOF;
	}
}

void
crm_evit_seek(struct crm_evit *it, uint64_t contact)
{
	it->seek = contact;
	it->started = 0;
}

void
crm_evit_close(struct crm_evit *it)
{
	if (it == NULL)
		return;
	mdb_cursor_close(it->c);
	free(it);
}

/*
 * Data hygiene (crm-merge, crm-forget, crm-audit): aliases of merged ids,
 * deletion, the audit log read back, and the scrub that leaves no freed
 * page behind.
 */

static int
open_alias(struct crm_store *st, MDB_txn *t, unsigned cr)
{
	int rc = mdb_dbi_open(t, "alias", cr | MDB_INTEGERKEY, &st->alias);

	/* A store made before merges existed has no alias table: it is
	 * created by the first merge, and reading it finds no aliases. */
	st->has_alias = rc == 0;
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/*
 * Every process that has the store open holds a shared flock(2) on
 * DIR/crm.users; crm_store_scrub() takes it exclusively, so that it never
 * swaps the data file under another process's map. A store in a directory
 * the user cannot write and without the file is read without the lock.
 */
static void
users_lock(struct crm_store *st)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/crm.users", st->dir);
	st->usersfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (st->usersfd < 0)
		st->usersfd = open(path, O_RDONLY | O_CLOEXEC);
	if (st->usersfd < 0)
		return;
	while (flock(st->usersfd, LOCK_SH) != 0 && errno == EINTR)
		;
}

/* Back to the shared lock every open store holds. */
static void
users_relock(struct crm_store *st)
{
	int e = errno;

	while (flock(st->usersfd, LOCK_SH) != 0 && errno == EINTR)
		;
	errno = e;
}

int
crm_alias_get(struct crm_txn *t, uint64_t id, uint64_t *to)
{
	MDB_val k = { 8, &id }, v;
	int rc;

	if (!t->st->has_alias)
		return CRM_ENOTFOUND;
	if ((rc = mdb_get(t->t, t->st->alias, &k, &v)))
		return lmdb_err(t->st, rc);
	if (v.mv_size != 8)
		return CRM_ESTORE;
	memcpy(to, v.mv_data, 8);
	return 0;
}

int
crm_alias_put(struct crm_txn *t, uint64_t id, uint64_t to)
{
	MDB_val k = { 8, &id }, v = { 8, &to };
	int rc;

	if (t->rdonly)
		return CRM_ESTORE;
	if (!t->st->has_alias) {
		rc = mdb_dbi_open(t->t, "alias", MDB_CREATE | MDB_INTEGERKEY,
		    &t->st->alias);
		if (rc)
			return lmdb_err(t->st, rc);
		t->st->has_alias = 1;
		t->alias_made = 1;
	}
	return lmdb_err(t->st, mdb_put(t->t, t->st->alias, &k, &v, 0));
}

int
crm_alias_del_to(struct crm_txn *t, uint64_t to)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc;

	if (!t->st->has_alias)
		return 0;
	if ((rc = mdb_cursor_open(t->t, t->st->alias, &c)))
		return lmdb_err(t->st, rc);
	while ((rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == 0)
		if (v.mv_size == 8 && memcmp(v.mv_data, &to, 8) == 0 &&
		    (rc = mdb_cursor_del(c, 0)))
			break;
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : lmdb_err(t->st, rc);
}

int
crm_alias_each(struct crm_txn *t,
    int (*fn)(void *arg, uint64_t id, uint64_t to), void *arg)
{
	MDB_cursor *c;
	MDB_val k, v;
	uint64_t id, to;
	int rc;

	if (!t->st->has_alias)
		return 0;
	if ((rc = mdb_cursor_open(t->t, t->st->alias, &c)))
		return lmdb_err(t->st, rc);
	while ((rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == 0) {
		if (k.mv_size != 8 || v.mv_size != 8) {
			rc = CRM_ESTORE;
			break;
		}
		memcpy(&id, k.mv_data, 8);
		memcpy(&to, v.mv_data, 8);
		if ((rc = fn(arg, id, to)))
			break;
	}
	mdb_cursor_close(c);
	if (rc == MDB_NOTFOUND)
		return 0;
	return rc < 0 ? rc : lmdb_err(t->st, rc);
}

int
crm_contact_resolve(struct crm_txn *t, uint64_t id, uint64_t *out)
{
	MDB_val k = { 8, NULL }, v;
	int hops, rc;

	/* Merges of merged contacts make chains; a bound guards a loop. */
	for (hops = 0; hops < 64; hops++) {
		k.mv_data = &id;
		if ((rc = mdb_get(t->t, t->st->contacts, &k, &v)) == 0) {
			*out = id;
			return 0;
		}
		if (rc != MDB_NOTFOUND)
			return lmdb_err(t->st, rc);
		if ((rc = crm_alias_get(t, id, &id)))
			return rc;
	}
	return CRM_ESTORE;
}

int
crm_contact_del(struct crm_txn *t, uint64_t id)
{
	MDB_val k = { 8, &id };

	return lmdb_err(t->st, mdb_del(t->t, t->st->contacts, &k, NULL));
}

int
crm_stats_del(struct crm_txn *t, uint64_t contact)
{
	MDB_val k = { 8, &contact };
	int rc = mdb_del(t->t, t->st->stats, &k, NULL);

	t->stlast_known = 0;

	return rc == MDB_NOTFOUND ? 0 : lmdb_err(t->st, rc);
}

int
crm_audit_open(struct crm_txn *t, struct crm_iter **out)
{
	struct crm_iter *it;
	int rc;

	if ((it = calloc(1, sizeof(*it))) == NULL)
		return CRM_ENOMEM;
	if ((rc = mdb_cursor_open(t->t, t->st->audit, &it->c))) {
		free(it);
		return lmdb_err(t->st, rc);
	}
	it->t = t;
	*out = it;
	return 0;
}

/* Overwrites the whole file of fd with zeros and syncs it. */
static int
zero_file(int fd)
{
	static const char zeros[65536];
	struct stat sb;
	off_t off;
	ssize_t w;
	size_t n;

	if (fstat(fd, &sb) != 0)
		return CRM_EIO;
	for (off = 0; off < sb.st_size; off += w) {
		n = sb.st_size - off < (off_t)sizeof(zeros) ?
		    (size_t)(sb.st_size - off) :
		    sizeof(zeros);
		if ((w = pwrite(fd, zeros, n, off)) <= 0) {
			if (w < 0 && errno == EINTR) {
				w = 0;
				continue;
			}
			return CRM_EIO;
		}
	}
	return fsync(fd) == 0 ? 0 : CRM_EIO;
}

/* A compacting copy of the live pages into path (mode 0600), synced. */
static int
compact_to(struct crm_store *st, const char *path)
{
	int fd, rc;

	unlink(path);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) <
	    0) {
		snprintf(st->err, sizeof(st->err), "%s: %s", path,
		    strerror(errno));
		return errno == ENOSPC ? CRM_EFULL : CRM_EIO;
	}
	rc = mdb_env_copyfd2(st->env, fd, MDB_CP_COMPACT);
	if (rc == 0 && fsync(fd) != 0)
		rc = errno;
	if (close(fd) != 0 && rc == 0)
		rc = errno;
	if (rc)
		unlink(path);
	return lmdb_err(st, rc);
}

static int
sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

	if (fd < 0)
		return CRM_EIO;
	rc = fsync(fd) == 0 ? 0 : CRM_EIO;
	close(fd);
	return rc;
}

/*
 * LMDB never overwrites a page in place: a deleted record stays in the
 * pages its transaction freed until they are reused. The scrub writes a
 * compacting copy (live pages only) beside data.mdb, renames it over
 * data.mdb, overwrites the old file's blocks with zeros and opens the new
 * file. It holds DIR/crm.users exclusively, so no other process has the
 * store open meanwhile, and the writers' lock, so no write is lost.
 */
int
crm_store_scrub(struct crm_store *st, unsigned flags)
{
	char path[4096], tmp[4096];
	int rc, oldfd;

	if (st->rdonly || st->usersfd < 0) {
		snprintf(st->err, sizeof(st->err),
		    "store %s: cannot rewrite it: %s", st->dir,
		    st->rdonly ? "opened read-only" : "no crm.users lock file");
		return CRM_ESTORE;
	}
	/* The shared lock goes first: two scrubs waiting for each other's
	 * shared lock would wait for ever. */
	flock(st->usersfd, LOCK_UN);
	/* A signal ends the wait (the caller's handler has noted it): the
	 * caller says what is left to do. */
	if (flock(st->usersfd,
		LOCK_EX | (flags & CRM_F_NOWAIT ? LOCK_NB : 0)) != 0) {
		users_relock(st);
		if (errno == EWOULDBLOCK || errno == EINTR) {
			snprintf(st->err, sizeof(st->err),
			    "store %s is open in another process%s", st->dir,
			    errno == EINTR ? " (interrupted while waiting)" :
					     "");
			return CRM_EBUSY;
		}
		return CRM_EIO;
	}
	if ((rc = take_lock(st, 0)))
		goto out;
	snprintf(path, sizeof(path), "%s/data.mdb", st->dir);
	snprintf(tmp, sizeof(tmp), "%s/data.mdb.scrub", st->dir);
	if ((rc = compact_to(st, tmp)))
		goto unlock;
	if ((oldfd = open(path, O_RDWR | O_CLOEXEC)) < 0) {
		unlink(tmp);
		rc = CRM_EIO;
		goto unlock;
	}
	if (rename(tmp, path) != 0) {
		close(oldfd);
		unlink(tmp);
		rc = CRM_EIO;
		goto unlock;
	}
	rc = sync_dir(st->dir);
	mdb_env_close(st->env);
	st->env = NULL;
	if (zero_file(oldfd) && rc == 0)
		rc = CRM_EIO;
	close(oldfd);
	if (env_open(st, st->envflags) && rc == 0)
		rc = CRM_ESTORE;
unlock:
	flock(st->lockfd, LOCK_UN);
out:
	users_relock(st);
	return rc;
}

struct crm_raw {
	MDB_cursor *c;
	int started;
	struct crm_store *st;
};

static MDB_dbi
dbi_of(const struct crm_store *st, int db)
{
	switch (db) {
	case CRM_DB_META:
		return st->meta;
	case CRM_DB_CONTACTS:
		return st->contacts;
	case CRM_DB_EMAIL:
		return st->idx[CRM_IDX_EMAIL];
	case CRM_DB_EXT:
		return st->idx[CRM_IDX_EXT];
	case CRM_DB_EVKEY:
		return st->idx[CRM_IDX_EVKEY];
	case CRM_DB_FIELDS:
		return st->fields;
	case CRM_DB_AUDIT:
		return st->audit;
	case CRM_DB_EVENTS:
		return st->events;
	}
	return st->stats;
}

int
crm_raw_open(struct crm_txn *t, int db, struct crm_raw **out)
{
	struct crm_raw *it;
	int rc;

	if (db < 0 || db >= CRM_NDB)
		return CRM_EINVAL;
	if ((it = calloc(1, sizeof(*it))) == NULL)
		return CRM_ENOMEM;
	if ((rc = mdb_cursor_open(t->t, dbi_of(t->st, db), &it->c))) {
		free(it);
		return lmdb_err(t->st, rc);
	}
	it->st = t->st;
	*out = it;
	return 0;
}

int
crm_raw_next(struct crm_raw *it, const void **k, size_t *kn, const void **v,
    size_t *vn)
{
	MDB_val key, val;
	int rc;

	rc = mdb_cursor_get(it->c, &key, &val,
	    it->started ? MDB_NEXT : MDB_FIRST);
	it->started = 1;
	if (rc == MDB_NOTFOUND)
		return CRM_EOF;
	if (rc)
		return lmdb_err(it->st, rc);
	*k = key.mv_data;
	*kn = key.mv_size;
	*v = val.mv_data;
	*vn = val.mv_size;
	return 0;
}

void
crm_raw_close(struct crm_raw *it)
{
	if (it == NULL)
		return;
	mdb_cursor_close(it->c);
	free(it);
}

int
crm_raw_get(struct crm_txn *t, int db, const void *k, size_t kn, const void **v,
    size_t *vn)
{
	MDB_val key = { kn, (void *)k }, val;
	int rc;

	if (db < 0 || db >= CRM_NDB)
		return CRM_EINVAL;
	if (kn == 0 || kn > 511)
		return CRM_ENOTFOUND;
	if ((rc = mdb_get(t->t, dbi_of(t->st, db), &key, &val)))
		return lmdb_err(t->st, rc);
	*v = val.mv_data;
	*vn = val.mv_size;
	return 0;
}
