/*
 * Error codes of the record library. Every call that can fail returns 0 or
 * one of these; crm_strerror() names it. Codes are negative so that they never
 * collide with errno values, which some calls pass through unchanged.
 */
#ifndef CRM_ERRORS_H
#define CRM_ERRORS_H

enum {
	CRM_EOF = -1,       /* end of input: not an error */
	CRM_ENOMEM = -2,    /* out of memory */
	CRM_EIO = -3,       /* read or write failed */
	CRM_ENOTFOUND = -4, /* no such record */
	CRM_EEXIST = -5,    /* key already in use */
	CRM_EPARSE = -6,    /* malformed input */
	CRM_EINVAL = -7,    /* a value is not valid for its field */
	CRM_EBUSY = -8,     /* another writer holds the store */
	CRM_EVERSION = -9,  /* store written by another format version */
	CRM_EFULL = -10,    /* store map or disk full */
	CRM_ECONFIG = -11,  /* bad configuration */
	CRM_ENOSTORE = -12, /* no store at that path */
	CRM_ECREATE = -13,  /* store cannot be created */
	CRM_ESTORE = -14,   /* store error: corrupt or unexpected */
	CRM_ETOOBIG = -15,  /* value or record over a limit */
	CRM_EAGAIN = -16    /* nothing yet: call again */
};

const char *crm_strerror(int err);
/* The sysexits(3) status a tool exits with for err (DESIGN.md §6). */
int crm_sysexit(int err);

#endif
