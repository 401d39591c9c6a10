/*
 * yaml.h - a small YAML document tree for the bootstrap reader.
 *
 * libyaml's event parser builds a tree of mappings, sequences and scalars,
 * each node remembering its line (1-based). Only what a small configuration
 * file needs is accepted: one document; no anchors, aliases or tags (they buy
 * nothing here and aliases are the classic "billion laughs" amplifier);
 * keys must be scalars. Depth and node count are bounded by the caller;
 * input size is bounded by the caller too (the bootstrap reader caps files).
 * Duplicate keys are kept: the schema validator reports them with both lines.
 *
 * Ownership: sp_yaml_parse() returns a tree the caller frees with
 * sp_yaml_free(); every string in it belongs to the tree.
 */
#ifndef SP_YAML_H
#define SP_YAML_H

#include <stdbool.h>
#include <stddef.h>

enum sp_yaml_kind { SP_YAML_SCALAR = 1, SP_YAML_MAP, SP_YAML_SEQ };

struct sp_yaml_pair;

struct sp_yaml_node {
	enum sp_yaml_kind kind;
	unsigned line;
	/* scalar: NUL-terminated, but may hold a NUL ("\0" escape): use len */
	char *str;
	size_t len;
	bool plain;       /* scalar written without quotes */
	/* map: pairs[n]; sequence: items[n] */
	size_t n;
	size_t cap;
	struct sp_yaml_pair *pairs;
	struct sp_yaml_node **items;
};

struct sp_yaml_pair {
	struct sp_yaml_node *key; /* always a scalar */
	struct sp_yaml_node *value;
};

struct sp_yaml_limits {
	size_t max_depth;  /* nested mappings/sequences */
	size_t max_nodes;
};

/* A parse error: line 0 when it has none. */
struct sp_yaml_error {
	unsigned line;
	char msg[200];
};

/*
 * Parse one document from memory. An input with no document at all (empty,
 * only comments) gives SP_OK with *out == NULL. Errors: SP_ERR_CONFIG (syntax
 * or an unsupported feature, described in *err), SP_ERR_LIMIT (depth or node
 * count, described in *err), SP_ERR_NOMEM.
 */
int sp_yaml_parse(const void *data, size_t len,
    const struct sp_yaml_limits *lim, struct sp_yaml_node **out,
    struct sp_yaml_error *err);

void sp_yaml_free(struct sp_yaml_node *node);

/* "a mapping", "a sequence", "a scalar": for error messages. */
const char *sp_yaml_kind_name(enum sp_yaml_kind kind);

/* True for a plain empty scalar, "~", "null", "Null", "NULL". */
bool sp_yaml_is_null(const struct sp_yaml_node *node);

#endif
