/*
 * yaml_read.h - reading a tree of core/yaml.h against what a file may say:
 * the one set of helpers behind every YAML file of the project (the
 * bootstrap files, core/bootstrap.c, and the api's site file, api/site.c).
 *
 * A struct sp_yaml_rd is the reader's position: the file's name, the key path
 * of the value being read ("partners[2].tls.pins[0]") and the caller's error
 * buffer. Every error is ONE line, "FILE:LINE: key 'PATH': what", without
 * the key part when no key applies and without LINE when no line does; the
 * functions return SP_ERR_CONFIG (SP_ERR_NOMEM when a copy fails).
 *
 * Ownership: the reader owns nothing but its path text; the tree stays the
 * caller's; strings returned through `char **out` are malloc'd copies the
 * caller frees.
 */
#ifndef SP_YAML_READ_H
#define SP_YAML_READ_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/yaml.h"

#define SP_YAML_PATH_MAX 256

struct sp_yaml_rd {
	const char *file;
	char *err;
	size_t errlen;
	char path[SP_YAML_PATH_MAX];
};

void sp_yaml_rd_init(struct sp_yaml_rd *rd, const char *file, char *err, size_t errlen);

/* Key paths: push returns the old length, which pop restores. */
size_t sp_yaml_rd_push(struct sp_yaml_rd *rd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
size_t sp_yaml_rd_push_key(struct sp_yaml_rd *rd, const char *name);
void sp_yaml_rd_pop(struct sp_yaml_rd *rd, size_t old);

/* The error line about the current path; returns SP_ERR_CONFIG. */
int sp_yaml_rd_fail(struct sp_yaml_rd *rd, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* "FILE:LINE: msg" (no key part), returning `code`. */
int sp_yaml_rd_vfail_at(struct sp_yaml_rd *rd, unsigned line, int code, const char *fmt,
    va_list ap) __attribute__((format(printf, 4, 0)));

/* Bytes from the file, escaped for an error line: at most `max` of them,
 * "..." when cut. */
void sp_yaml_escape(const char *s, size_t len, size_t max, char *out, size_t outsz);

/* Keys and mappings. */
bool sp_yaml_key_is(const struct sp_yaml_node *key, const char *name);
/* A key for an error line: at most 60 octets, non-printable ones as '?'. */
void sp_yaml_key_text(const struct sp_yaml_node *key, char *out, size_t outsz);
/* The value of `name` in mapping `map` (NULL: none), NULL when absent or
 * null; *line (if not NULL) is the key's line when present. */
const struct sp_yaml_node *sp_yaml_map_get(const struct sp_yaml_node *map, const char *name,
    unsigned *line);
/* `n` must be a mapping (`line`: where it was expected) whose keys are all
 * in `known` (NULL-terminated), each at most once. */
int sp_yaml_rd_keys(struct sp_yaml_rd *rd, const struct sp_yaml_node *n, unsigned line,
    const char *const *known);

/* Scalars. Printable text: no NUL, no control characters. */
bool sp_yaml_text_clean(const struct sp_yaml_node *n);
/* A scalar without NUL; `what` names the expectation ("a string"). */
int sp_yaml_rd_scalar(struct sp_yaml_rd *rd, const struct sp_yaml_node *v, const char *what);
/* Printable text of minlen..maxlen octets, copied into *out. */
int sp_yaml_rd_str(struct sp_yaml_rd *rd, const struct sp_yaml_node *v, size_t minlen,
    size_t maxlen, char **out);
/* Plain true or false. */
int sp_yaml_rd_bool(struct sp_yaml_rd *rd, const struct sp_yaml_node *v, bool *out);
/* Decimal digits only (no sign), min..max. */
int sp_yaml_rd_uint(struct sp_yaml_rd *rd, const struct sp_yaml_node *v, long long min,
    long long max, long long *out);

#endif
