/*
 * The record library, libcrm: include this one header. Tools never include
 * lmdb.h, csv.h or yaml.h; the modules below hide them.
 */
#ifndef CRM_H
#define CRM_H

#include "audit.h"
#include "buf.h"
#include "check.h"
#include "clv.h"
#include "config.h"
#include "contact.h"
#include "csvio.h"
#include "dec.h"
#include "dedup.h"
#include "errors.h"
#include "event.h"
#include "evlog.h"
#include "expr.h"
#include "feed.h"
#include "hygiene.h"
#include "import.h"
#include "input.h"
#include "json.h"
#include "lead.h"
#include "numeric.h"
#include "output.h"
#include "prefault.h"
#include "rec.h"
#include "report.h"
#include "rfm.h"
#include "segment.h"
#include "sig.h"
#include "store.h"
#include "text.h"
#include "times.h"
#include "tune.h"
#include "ydoc.h"

#endif
