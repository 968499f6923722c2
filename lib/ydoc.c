#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "errors.h"
#include "ydoc.h"

struct yp {
	yaml_parser_t p;
	char *err;
	size_t errlen;
};

static struct crm_ynode *
node(int kind, long line)
{
	struct crm_ynode *n = calloc(1, sizeof(*n));

	if (n != NULL) {
		n->kind = kind;
		n->line = line;
	}
	return n;
}

static int
add_kid(struct crm_ynode *parent, struct crm_ynode *kid)
{
	struct crm_ynode **k;

	if ((parent->n & (parent->n - 1)) == 0) {
		k = realloc(parent->kid,
		    (parent->n ? parent->n * 2 : 1) * sizeof(*k));
		if (k == NULL)
			return CRM_ENOMEM;
		parent->kid = k;
	}
	parent->kid[parent->n++] = kid;
	return 0;
}

static int
next_event(struct yp *y, yaml_event_t *ev)
{
	if (yaml_parser_parse(&y->p, ev))
		return 0;
	snprintf(y->err, y->errlen, "%ld: %s", (long)y->p.problem_mark.line + 1,
	    y->p.problem ? y->p.problem : "YAML syntax error");
	return CRM_EPARSE;
}

/* Reads one node whose first event is ev (consumed here). */
static int
read_node(struct yp *y, yaml_event_t *ev, int depth, struct crm_ynode **out)
{
	struct crm_ynode *n = NULL;
	yaml_event_t kid;
	long line = (long)ev->start_mark.line + 1;
	int rc = 0, end;

	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		if ((n = node(CRM_Y_SCALAR, line)) == NULL ||
		    (n->s = malloc(ev->data.scalar.length + 1)) == NULL) {
			rc = CRM_ENOMEM;
			break;
		}
		memcpy(n->s, ev->data.scalar.value, ev->data.scalar.length);
		n->s[n->slen = ev->data.scalar.length] = '\0';
		n->plain_null =
		    ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
		    (n->slen == 0 || strcmp(n->s, "~") == 0 ||
			strcmp(n->s, "null") == 0);
		break;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if (depth >= CRM_YDEPTH) {
			snprintf(y->err, y->errlen, "%ld: nested too deeply",
			    line);
			rc = CRM_EPARSE;
			break;
		}
		end = ev->type == YAML_SEQUENCE_START_EVENT ?
		    YAML_SEQUENCE_END_EVENT :
		    YAML_MAPPING_END_EVENT;
		if ((n = node(end == YAML_SEQUENCE_END_EVENT ? CRM_Y_SEQ :
							       CRM_Y_MAP,
			 line)) == NULL) {
			rc = CRM_ENOMEM;
			break;
		}
		while ((rc = next_event(y, &kid)) == 0) {
			struct crm_ynode *k;

			if ((int)kid.type == end) {
				yaml_event_delete(&kid);
				break;
			}
			if ((rc = read_node(y, &kid, depth + 1, &k)))
				break;
			if ((rc = add_kid(n, k))) {
				crm_ydoc_free(k);
				break;
			}
		}
		break;
	case YAML_ALIAS_EVENT:
		snprintf(y->err, y->errlen, "%ld: aliases are not supported",
		    line);
		rc = CRM_EPARSE;
		break;
	default:
		snprintf(y->err, y->errlen, "%ld: unexpected YAML event", line);
		rc = CRM_EPARSE;
	}
	yaml_event_delete(ev);
	if (rc) {
		crm_ydoc_free(n);
		return rc;
	}
	*out = n;
	return 0;
}

int
crm_ydoc_parse(const char *text, size_t len, struct crm_ynode **docs, char *err,
    size_t errlen)
{
	struct yp y = { .err = err, .errlen = errlen };
	struct crm_ynode *all, *doc;
	yaml_event_t ev;
	int rc;

	if ((all = node(CRM_Y_SEQ, 1)) == NULL)
		return CRM_ENOMEM;
	if (!yaml_parser_initialize(&y.p)) {
		free(all);
		return CRM_ENOMEM;
	}
	yaml_parser_set_input_string(&y.p, (const unsigned char *)text, len);
	while ((rc = next_event(&y, &ev)) == 0) {
		if (ev.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		if (ev.type != YAML_DOCUMENT_START_EVENT &&
		    ev.type != YAML_DOCUMENT_END_EVENT &&
		    ev.type != YAML_STREAM_START_EVENT) {
			if ((rc = read_node(&y, &ev, 0, &doc)))
				break;
			if ((rc = add_kid(all, doc))) {
				crm_ydoc_free(doc);
				break;
			}
			continue;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&y.p);
	if (rc) {
		crm_ydoc_free(all);
		return rc;
	}
	*docs = all;
	return 0;
}

void
crm_ydoc_free(struct crm_ynode *n)
{
	size_t i;

	if (n == NULL)
		return;
	for (i = 0; i < n->n; i++)
		crm_ydoc_free(n->kid[i]);
	free(n->kid);
	free(n->s);
	free(n);
}

const struct crm_ynode *
crm_ydoc_get(const struct crm_ynode *map, const char *key)
{
	size_t i;

	if (map == NULL || map->kind != CRM_Y_MAP)
		return NULL;
	for (i = 0; i + 1 < map->n; i += 2)
		if (map->kid[i]->kind == CRM_Y_SCALAR &&
		    strcmp(map->kid[i]->s, key) == 0)
			return map->kid[i + 1];
	return NULL;
}
