/*
 * The YAML configuration (crm(5)). Every setting has a built-in default, so
 * a missing file is an empty config. Errors name the file and line.
 */
#ifndef CRM_CONFIG_H
#define CRM_CONFIG_H

#include <stddef.h>

#include "buf.h"

enum crm_type {
	CRM_T_STRING,
	CRM_T_INT,
	CRM_T_DECIMAL,
	CRM_T_DATE,
	CRM_T_BOOL,
	CRM_T_ENUM
};

struct crm_fielddef {
	char *name;
	int type;
	char **values; /* enum */
	size_t nvalues;
};

struct crm_mapping {
	char *name;
	char **from, **to; /* to[i] NULL drops the column */
	size_t ncols;
	char **setf, **setv; /* constant values */
	size_t nset;
	char **opt_in, **opt_out;
	size_t nin, nout;
	int tagsep;
};

struct crm_ynode;

struct crm_config {
	char **stages; /* NULL: any stage */
	size_t nstages;
	char **types; /* event types allowed; NULL: any type */
	size_t ntypes;
	struct crm_fielddef *fields;
	size_t nfields;
	struct crm_mapping *maps;
	size_t nmaps;
	char *file;            /* the file loaded, for messages; NULL */
	struct crm_ynode *doc; /* its parsed documents, for the sections */
};

/*
 * The config path: opt if not NULL, else $CRM_CONFIG, else
 * $XDG_CONFIG_HOME/crm/config.yaml or ~/.config/crm/config.yaml when that
 * file exists. Returns NULL when there is none (the defaults apply).
 */
const char *crm_config_path(const char *opt, char *buf, size_t len);
/* Loads path (NULL: defaults only). err gets "file:line: message". */
int crm_config_load(const char *path, struct crm_config **out, char *err,
    size_t errlen);
void crm_config_free(struct crm_config *c);

const struct crm_fielddef *crm_config_field(const struct crm_config *c,
    const char *name, size_t n);
const struct crm_mapping *crm_config_mapping(const struct crm_config *c,
    const char *name);
int crm_config_type_ok(const struct crm_config *c, const char *s, size_t n);
/*
 * Sections parsed by the module that owns them (segments, rfm, lead, clv,
 * report): the YAML node of the key in the user's config, or NULL. The
 * node lives as long as the config.
 */
const struct crm_ynode *crm_config_section(const struct crm_config *c,
    const char *key);
/* Writes "file:line: message" about node n to err; returns CRM_ECONFIG. */
int crm_config_error(const struct crm_config *c, const struct crm_ynode *n,
    char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
int crm_config_stage_ok(const struct crm_config *c, const char *s, size_t n);
/* Checks v against a typed field and writes its normal form to out; on
 * CRM_EINVAL, why says what is wrong. */
int crm_type_check(const struct crm_fielddef *d, const char *v, size_t n,
    struct crm_buf *out, char *why, size_t whylen);
const char *crm_type_name(int type);

#endif
