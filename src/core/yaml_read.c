/* yaml_read.c - key paths, error lines, keys and scalars; see yaml_read.h. */
#include "yaml_read.h"
#include "err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
sp_yaml_rd_init(struct sp_yaml_rd *rd, const char *file, char *err, size_t errlen)
{
	memset(rd, 0, sizeof(*rd));
	rd->file = file;
	rd->err = err;
	rd->errlen = errlen;
}

size_t
sp_yaml_rd_push(struct sp_yaml_rd *rd, const char *fmt, ...)
{
	size_t old = strlen(rd->path);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rd->path + old, sizeof(rd->path) - old, fmt, ap);
	va_end(ap);
	return old;
}

size_t
sp_yaml_rd_push_key(struct sp_yaml_rd *rd, const char *name)
{
	return sp_yaml_rd_push(rd, "%s%s", rd->path[0] ? "." : "", name);
}

void
sp_yaml_rd_pop(struct sp_yaml_rd *rd, size_t old)
{
	rd->path[old] = '\0';
}

int
sp_yaml_rd_vfail_at(struct sp_yaml_rd *rd, unsigned line, int code, const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (line > 0)
		snprintf(rd->err, rd->errlen, "%s:%u: %s", rd->file, line, msg);
	else
		snprintf(rd->err, rd->errlen, "%s: %s", rd->file, msg);
	return code;
}

static int
fail_at(struct sp_yaml_rd *rd, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int
fail_at(struct sp_yaml_rd *rd, unsigned line, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = sp_yaml_rd_vfail_at(rd, line, SP_ERR_CONFIG, fmt, ap);
	va_end(ap);
	return r;
}

int
sp_yaml_rd_fail(struct sp_yaml_rd *rd, unsigned line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (rd->path[0] != '\0')
		return fail_at(rd, line, "key '%s': %s", rd->path, msg);
	return fail_at(rd, line, "%s", msg);
}

void
sp_yaml_escape(const char *s, size_t len, size_t max, char *out, size_t outsz)
{
	size_t i, o = 0;
	unsigned char c;

	for (i = 0; i < len && i < max && o + 5 < outsz; i++) {
		c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c < 0x20 || c >= 0x7f)
			o += (size_t)snprintf(out + o, outsz - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	if (i < len && o + 4 < outsz) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

bool
sp_yaml_key_is(const struct sp_yaml_node *key, const char *name)
{
	return key->len == strlen(name) && memcmp(key->str, name, key->len) == 0;
}

const struct sp_yaml_node *
sp_yaml_map_get(const struct sp_yaml_node *map, const char *name, unsigned *line)
{
	size_t i;

	for (i = 0; map != NULL && i < map->n; i++)
		if (sp_yaml_key_is(map->pairs[i].key, name)) {
			if (line != NULL)
				*line = map->pairs[i].key->line;
			return sp_yaml_is_null(map->pairs[i].value) ? NULL : map->pairs[i].value;
		}
	return NULL;
}

void
sp_yaml_key_text(const struct sp_yaml_node *k, char *out, size_t outsz)
{
	size_t i, o = 0;

	for (i = 0; i < k->len && o + 1 < outsz && i < 60; i++)
		out[o++] = (k->str[i] >= 0x20 && k->str[i] < 0x7f) ? k->str[i] : '?';
	out[o] = '\0';
}

int
sp_yaml_rd_keys(struct sp_yaml_rd *rd, const struct sp_yaml_node *n, unsigned line,
    const char *const *known)
{
	size_t i, j, old;
	char kt[64];
	bool ok;
	int r;

	if (n == NULL || n->kind != SP_YAML_MAP)
		return sp_yaml_rd_fail(rd, n ? n->line : line, "expected a mapping, got %s",
		    n ? sp_yaml_kind_name(n->kind) : "nothing");
	for (i = 0; i < n->n; i++) {
		const struct sp_yaml_node *k = n->pairs[i].key;

		sp_yaml_key_text(k, kt, sizeof(kt));
		for (ok = false, j = 0; known[j] != NULL && !ok; j++)
			ok = sp_yaml_key_is(k, known[j]);
		if (!ok) {
			old = sp_yaml_rd_push_key(rd, kt);
			r = sp_yaml_rd_fail(rd, k->line, "unknown key");
			sp_yaml_rd_pop(rd, old);
			return r;
		}
		for (j = 0; j < i; j++)
			if (n->pairs[j].key->len == k->len &&
			    memcmp(n->pairs[j].key->str, k->str, k->len) == 0) {
				old = sp_yaml_rd_push_key(rd, kt);
				r = sp_yaml_rd_fail(rd, k->line, "given twice (first on line %u)",
				    n->pairs[j].key->line);
				sp_yaml_rd_pop(rd, old);
				return r;
			}
	}
	return SP_OK;
}

bool
sp_yaml_text_clean(const struct sp_yaml_node *n)
{
	size_t i;

	for (i = 0; i < n->len; i++)
		if ((unsigned char)n->str[i] < 0x20 || n->str[i] == 0x7f)
			return false;
	return true;
}

int
sp_yaml_rd_scalar(struct sp_yaml_rd *rd, const struct sp_yaml_node *v, const char *what)
{
	if (v->kind != SP_YAML_SCALAR)
		return sp_yaml_rd_fail(rd, v->line, "expected %s, got %s", what,
		    sp_yaml_kind_name(v->kind));
	if (strlen(v->str) != v->len)
		return sp_yaml_rd_fail(rd, v->line, "expected %s, got a string holding NUL", what);
	return SP_OK;
}

int
sp_yaml_rd_str(struct sp_yaml_rd *rd, const struct sp_yaml_node *v, size_t minlen,
    size_t maxlen, char **out)
{
	int r;

	if ((r = sp_yaml_rd_scalar(rd, v, "a string")) != 0)
		return r;
	if (v->len < minlen || v->len > maxlen)
		return sp_yaml_rd_fail(rd, v->line, "expected %zu to %zu characters, got %zu",
		    minlen, maxlen, v->len);
	if (!sp_yaml_text_clean(v))
		return sp_yaml_rd_fail(rd, v->line, "control characters are not allowed");
	if ((*out = strdup(v->str)) == NULL)
		return SP_ERR_NOMEM;
	return SP_OK;
}

int
sp_yaml_rd_bool(struct sp_yaml_rd *rd, const struct sp_yaml_node *v, bool *out)
{
	if (v->kind != SP_YAML_SCALAR || !v->plain ||
	    (strcmp(v->str, "true") != 0 && strcmp(v->str, "false") != 0))
		return sp_yaml_rd_fail(rd, v->line, "expected true or false");
	*out = strcmp(v->str, "true") == 0;
	return SP_OK;
}

int
sp_yaml_rd_uint(struct sp_yaml_rd *rd, const struct sp_yaml_node *v, long long min,
    long long max, long long *out)
{
	const char *p;
	long long x = 0;
	int r;

	if ((r = sp_yaml_rd_scalar(rd, v, "an integer")) != 0)
		return r;
	p = v->str;
	if (*p == '\0' || v->len > 12)
		return sp_yaml_rd_fail(rd, v->line, "expected an integer");
	for (; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return sp_yaml_rd_fail(rd, v->line, "expected an integer");
		x = x * 10 + (*p - '0');
	}
	if (x < min || x > max)
		return sp_yaml_rd_fail(rd, v->line, "%lld is outside %lld..%lld", x, min, max);
	*out = x;
	return SP_OK;
}
