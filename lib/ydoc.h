/*
 * A small YAML document tree over libyaml, for the config file and YAML
 * input. Every node keeps its line for messages. Aliases are refused (no
 * alias bombs), nesting is limited to CRM_YDEPTH levels.
 */
#ifndef CRM_YDOC_H
#define CRM_YDOC_H

#include <stddef.h>

#define CRM_YDEPTH 64

enum { CRM_Y_SCALAR, CRM_Y_SEQ, CRM_Y_MAP };

struct crm_ynode {
	int kind;
	char *s; /* scalar text, NUL-terminated */
	size_t slen;
	long line;
	int plain_null; /* an unquoted ~, null or empty scalar */
	struct crm_ynode *
	    *kid; /* sequence items; map keys and values alternate */
	size_t n;
};

/* Parses every document of text[0..n) into a sequence node of documents. */
int crm_ydoc_parse(const char *text, size_t n, struct crm_ynode **docs,
    char *err, size_t errlen);
void crm_ydoc_free(struct crm_ynode *node);
/* The value of key in a map node, or NULL. */
const struct crm_ynode *crm_ydoc_get(const struct crm_ynode *map,
    const char *key);

#endif
