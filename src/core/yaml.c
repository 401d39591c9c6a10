/*
 * yaml.c - libyaml events to a line-numbered tree (see yaml.h).
 *
 * The tree is built with an explicit stack of open collections whose height
 * is the depth limit, so hostile nesting costs neither recursion nor memory
 * beyond the bound. Nodes not yet attached to the tree are on the stack (or
 * in hand), so every error path frees exactly what was built.
 */
#include "config.h"

#include "core/yaml.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "core/err.h"

struct frame {
	struct sp_yaml_node *node;
	struct sp_yaml_node *key; /* map: key read, value pending */
};

struct builder {
	const struct sp_yaml_limits *lim;
	struct frame *stack;
	size_t depth;
	size_t nodes;
	struct sp_yaml_node *root;
	struct sp_yaml_error *err;
};

const char *
sp_yaml_kind_name(enum sp_yaml_kind kind)
{
	switch (kind) {
	case SP_YAML_SCALAR: return "a scalar";
	case SP_YAML_MAP:    return "a mapping";
	case SP_YAML_SEQ:    return "a sequence";
	}
	return "a node";
}

bool
sp_yaml_is_null(const struct sp_yaml_node *node)
{
	if (node->kind != SP_YAML_SCALAR || !node->plain)
		return false;
	return node->len == 0 || strcmp(node->str, "~") == 0 ||
	    strcmp(node->str, "null") == 0 || strcmp(node->str, "Null") == 0 ||
	    strcmp(node->str, "NULL") == 0;
}

void
sp_yaml_free(struct sp_yaml_node *node)
{
	size_t i;

	if (node == NULL)
		return;
	if (node->kind == SP_YAML_MAP)
		for (i = 0; i < node->n; i++) {
			sp_yaml_free(node->pairs[i].key);
			sp_yaml_free(node->pairs[i].value);
		}
	if (node->kind == SP_YAML_SEQ)
		for (i = 0; i < node->n; i++)
			sp_yaml_free(node->items[i]);
	free(node->pairs);
	free(node->items);
	free(node->str);
	free(node);
}

static int
fail(struct builder *b, unsigned line, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int
fail(struct builder *b, unsigned line, int code, const char *fmt, ...)
{
	va_list ap;

	b->err->line = line;
	va_start(ap, fmt);
	vsnprintf(b->err->msg, sizeof(b->err->msg), fmt, ap);
	va_end(ap);
	return code;
}

static int
new_node(struct builder *b, enum sp_yaml_kind kind, unsigned line,
    struct sp_yaml_node **out)
{
	if (b->nodes >= b->lim->max_nodes)
		return fail(b, line, SP_ERR_LIMIT, "more than %zu YAML nodes",
		    b->lim->max_nodes);
	if ((*out = calloc(1, sizeof(**out))) == NULL)
		return SP_ERR_NOMEM;
	b->nodes++;
	(*out)->kind = kind;
	(*out)->line = line;
	return SP_OK;
}

static int
grow(void **arr, size_t *cap, size_t n, size_t elem)
{
	size_t ncap;
	void *p;

	if (n < *cap)
		return SP_OK;
	ncap = *cap ? *cap * 2 : 4;
	if ((p = reallocarray(*arr, ncap, elem)) == NULL)
		return SP_ERR_NOMEM;
	*arr = p;
	*cap = ncap;
	return SP_OK;
}

/* Hand a finished node to its parent; on failure the node is freed. */
static int
attach(struct builder *b, struct sp_yaml_node *node)
{
	struct frame *f;
	struct sp_yaml_node *p;
	int r;

	if (b->depth == 0) {
		b->root = node;
		return SP_OK;
	}
	f = &b->stack[b->depth - 1];
	p = f->node;
	if (p->kind == SP_YAML_SEQ) {
		if ((r = grow((void **)&p->items, &p->cap, p->n,
		    sizeof(p->items[0]))) != 0)
			goto fail;
		p->items[p->n++] = node;
		return SP_OK;
	}
	if (f->key == NULL) {
		if (node->kind != SP_YAML_SCALAR) {
			r = fail(b, node->line, SP_ERR_CONFIG,
			    "a mapping key must be a plain string, not %s",
			    sp_yaml_kind_name(node->kind));
			goto fail;
		}
		f->key = node;
		return SP_OK;
	}
	if ((r = grow((void **)&p->pairs, &p->cap, p->n,
	    sizeof(p->pairs[0]))) != 0)
		goto fail;
	p->pairs[p->n].key = f->key;
	p->pairs[p->n].value = node;
	p->n++;
	f->key = NULL;
	return SP_OK;
fail:
	sp_yaml_free(node);
	return r;
}

static int
refuse_extras(struct builder *b, unsigned line, const yaml_char_t *anchor,
    const yaml_char_t *tag)
{
	if (anchor != NULL)
		return fail(b, line, SP_ERR_CONFIG,
		    "anchors (&%.60s) are not supported", (const char *)anchor);
	if (tag != NULL)
		return fail(b, line, SP_ERR_CONFIG,
		    "tags (%.60s) are not supported", (const char *)tag);
	return SP_OK;
}

static int
on_event(struct builder *b, const yaml_event_t *ev, int *docs, int *done)
{
	struct sp_yaml_node *node;
	unsigned line = (unsigned)ev->start_mark.line + 1;
	int r;

	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (++*docs > 1)
			return fail(b, line, SP_ERR_CONFIG,
			    "only one YAML document is allowed");
		return SP_OK;
	case YAML_ALIAS_EVENT:
		return fail(b, line, SP_ERR_CONFIG,
		    "aliases (*%.60s) are not supported",
		    (const char *)ev->data.alias.anchor);
	case YAML_SCALAR_EVENT:
		if ((r = refuse_extras(b, line, ev->data.scalar.anchor,
		    ev->data.scalar.tag)) != 0)
			return r;
		if ((r = new_node(b, SP_YAML_SCALAR, line, &node)) != 0)
			return r;
		if ((node->str = malloc(ev->data.scalar.length + 1)) == NULL) {
			sp_yaml_free(node);
			return SP_ERR_NOMEM;
		}
		memcpy(node->str, ev->data.scalar.value, ev->data.scalar.length);
		node->str[ev->data.scalar.length] = '\0';
		node->len = ev->data.scalar.length;
		node->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		return attach(b, node);
	case YAML_MAPPING_START_EVENT:
	case YAML_SEQUENCE_START_EVENT:
		if (ev->type == YAML_MAPPING_START_EVENT)
			r = refuse_extras(b, line, ev->data.mapping_start.anchor,
			    ev->data.mapping_start.tag);
		else
			r = refuse_extras(b, line, ev->data.sequence_start.anchor,
			    ev->data.sequence_start.tag);
		if (r != 0)
			return r;
		if (b->depth >= b->lim->max_depth)
			return fail(b, line, SP_ERR_LIMIT,
			    "nested deeper than %zu levels", b->lim->max_depth);
		if ((r = new_node(b, ev->type == YAML_MAPPING_START_EVENT ?
		    SP_YAML_MAP : SP_YAML_SEQ, line, &node)) != 0)
			return r;
		b->stack[b->depth].node = node;
		b->stack[b->depth].key = NULL;
		b->depth++;
		return SP_OK;
	case YAML_MAPPING_END_EVENT:
	case YAML_SEQUENCE_END_EVENT:
		/* libyaml balances these; a dangling key cannot remain. */
		node = b->stack[--b->depth].node;
		sp_yaml_free(b->stack[b->depth].key);
		return attach(b, node);
	case YAML_STREAM_END_EVENT:
		*done = 1;
		return SP_OK;
	default:
		return SP_OK;
	}
}

static unsigned
line_of_offset(const unsigned char *data, size_t len, size_t off)
{
	unsigned line = 1;
	size_t i;

	for (i = 0; i < off && i < len; i++)
		if (data[i] == '\n')
			line++;
	return line;
}

static int
syntax_error(struct builder *b, const yaml_parser_t *p,
    const unsigned char *data, size_t len)
{
	const char *problem = p->problem ? p->problem : "unknown problem";

	if (p->error == YAML_MEMORY_ERROR)
		return SP_ERR_NOMEM;
	if (p->error == YAML_READER_ERROR)
		return fail(b, line_of_offset(data, len, p->problem_offset),
		    SP_ERR_CONFIG, "YAML syntax error: %s", problem);
	if (p->context != NULL)
		return fail(b, (unsigned)p->problem_mark.line + 1, SP_ERR_CONFIG,
		    "YAML syntax error: %s (%s started on line %u)", problem,
		    p->context, (unsigned)p->context_mark.line + 1);
	return fail(b, (unsigned)p->problem_mark.line + 1, SP_ERR_CONFIG,
	    "YAML syntax error: %s", problem);
}

int
sp_yaml_parse(const void *data, size_t len,
    const struct sp_yaml_limits *lim, struct sp_yaml_node **out,
    struct sp_yaml_error *err)
{
	struct builder b;
	yaml_parser_t parser;
	yaml_event_t ev;
	int r = SP_OK, docs = 0, done = 0;

	*out = NULL;
	err->line = 0;
	err->msg[0] = '\0';
	memset(&b, 0, sizeof(b));
	b.lim = lim;
	b.err = err;
	if (lim->max_depth == 0 ||
	    (b.stack = calloc(lim->max_depth, sizeof(*b.stack))) == NULL)
		return SP_ERR_NOMEM;
	if (!yaml_parser_initialize(&parser)) {
		free(b.stack);
		return SP_ERR_NOMEM;
	}
	yaml_parser_set_input_string(&parser, data, len);
	while (!done && r == SP_OK) {
		if (!yaml_parser_parse(&parser, &ev)) {
			r = syntax_error(&b, &parser, data, len);
			break;
		}
		r = on_event(&b, &ev, &docs, &done);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	while (b.depth > 0) {
		b.depth--;
		sp_yaml_free(b.stack[b.depth].key);
		sp_yaml_free(b.stack[b.depth].node);
	}
	free(b.stack);
	if (r != SP_OK) {
		sp_yaml_free(b.root);
		return r;
	}
	*out = b.root;
	return SP_OK;
}
