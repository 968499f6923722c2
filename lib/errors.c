#include <errno.h>
#include <string.h>
#include <sysexits.h>

#include "errors.h"

const char *
crm_strerror(int err)
{
	switch (err) {
	case 0:
		return "success";
	case CRM_EOF:
		return "end of input";
	case CRM_ENOMEM:
		return "out of memory";
	case CRM_EIO:
		return "input/output error";
	case CRM_ENOTFOUND:
		return "not found";
	case CRM_EEXIST:
		return "already exists";
	case CRM_EPARSE:
		return "malformed input";
	case CRM_EINVAL:
		return "invalid value";
	case CRM_EBUSY:
		return "store is busy";
	case CRM_EVERSION:
		return "store format version not supported";
	case CRM_EFULL:
		return "store or disk full";
	case CRM_ECONFIG:
		return "bad configuration";
	case CRM_ENOSTORE:
		return "no store";
	case CRM_ECREATE:
		return "cannot create store";
	case CRM_ESTORE:
		return "store error";
	case CRM_ETOOBIG:
		return "value too large";
	case CRM_EAGAIN:
		return "nothing yet";
	}
	return err > 0 ? strerror(err) : "unknown error";
}

int
crm_sysexit(int err)
{
	switch (err) {
	case 0:
		return 0;
	case CRM_EPARSE:
	case CRM_EINVAL:
	case CRM_EVERSION:
	case CRM_ETOOBIG: /* a value or a row over a limit: bad input */
		return EX_DATAERR;
	case CRM_ENOSTORE:
	case ENOENT:
	case EACCES:
		return EX_NOINPUT;
	case CRM_ECREATE:
		return EX_CANTCREAT;
	case CRM_EIO:
	case CRM_EFULL:
		return EX_IOERR;
	case CRM_EBUSY:
		return EX_TEMPFAIL;
	case CRM_ECONFIG:
		return EX_CONFIG;
	}
	return EX_SOFTWARE;
}
