/*
 * bootstrap.c - schema-driven validation and decoding of bootstrap files
 * (see bootstrap.h). The programs' schemas live in bootstrap_conf.c.
 *
 * Decoding walks the YAML tree and the schema side by side, writing each
 * value at its offset in the caller's struct. The first error stops the walk;
 * the partly decoded struct is then freed with the same schema, which is why
 * list arrays are attached to the struct before their items are decoded.
 * Key paths, error lines and text checks are the shared reader's
 * (core/yaml_read.h), which the api's site file uses too.
 */
#include "config.h"

#include "core/bootstrap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/err.h"
#include "core/yaml.h"
#include "core/yaml_read.h"

#define STRING_MAX_DEFAULT 1024

struct sp_bs_ctx {
	struct sp_yaml_rd rd;      /* file, key path, error line (core/yaml_read.h) */
	/* the section a finish hook is looking at */
	const struct sp_yaml_node *map;
	unsigned line;
	bool verify;               /* run the sections' verify hooks */
};

/* ---- error lines ---- */

static int
err_at(struct sp_bs_ctx *ctx, unsigned line, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int
err_at(struct sp_bs_ctx *ctx, unsigned line, int code, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = sp_yaml_rd_vfail_at(&ctx->rd, line, code, fmt, ap);
	va_end(ap);
	return r;
}

/* "key 'a.b': ..." about the current path. */
#define err_key(ctx, line, ...) sp_yaml_rd_fail(&(ctx)->rd, (line), __VA_ARGS__)

/* What the file had: "7443" in quotes, or "a mapping", or "nothing". */
static void
got(const struct sp_yaml_node *n, char *out, size_t outsz)
{
	char esc[180];

	if (sp_yaml_is_null(n))
		snprintf(out, outsz, "nothing");
	else if (n->kind != SP_YAML_SCALAR)
		snprintf(out, outsz, "%s", sp_yaml_kind_name(n->kind));
	else {
		sp_yaml_escape(n->str, n->len, 40, esc, sizeof(esc));
		snprintf(out, outsz, "\"%s\"", esc);
	}
}

static void
describe(const struct sp_bs_key *k, char *out, size_t outsz)
{
	const struct sp_bs_enum *e;
	size_t o;

	switch (k->type) {
	case SP_BS_STRING: snprintf(out, outsz, "a string"); break;
	case SP_BS_PATH:   snprintf(out, outsz, "an absolute path"); break;
	case SP_BS_INT:
		snprintf(out, outsz, "an integer from %lld to %lld", k->min,
		    k->max);
		break;
	case SP_BS_BOOL:   snprintf(out, outsz, "true or false"); break;
	case SP_BS_ADDR:   snprintf(out, outsz, "host:port"); break;
	case SP_BS_HEX:    snprintf(out, outsz, "%lld hex digits", k->min); break;
	case SP_BS_URL:    snprintf(out, outsz, "an https:// URL"); break;
	case SP_BS_SECTION: snprintf(out, outsz, "a mapping"); break;
	case SP_BS_LIST:   snprintf(out, outsz, "a sequence"); break;
	case SP_BS_STRMAP: snprintf(out, outsz, "a mapping of strings"); break;
	case SP_BS_ENUM:
		o = (size_t)snprintf(out, outsz, "one of ");
		for (e = k->values; e->name != NULL && o < outsz; e++)
			o += (size_t)snprintf(out + o, outsz - o, "%s%s",
			    e == k->values ? "" : "|", e->name);
		break;
	}
}

static int
err_expected(struct sp_bs_ctx *ctx, const struct sp_bs_key *k,
    const struct sp_yaml_node *n)
{
	char want[200], had[200];

	describe(k, want, sizeof(want));
	got(n, had, sizeof(had));
	return err_key(ctx, n->line, "expected %s, got %s", want, had);
}

static int
valid_hostname(const char *h, size_t len)
{
	size_t i;

	if (len == 0 || len > 253)
		return 0;
	for (i = 0; i < len; i++)
		if (!((h[i] >= 'a' && h[i] <= 'z') || (h[i] >= 'A' && h[i] <= 'Z') ||
		    (h[i] >= '0' && h[i] <= '9') || h[i] == '.' || h[i] == '-' ||
		    h[i] == '_'))
			return 0;
	return 1;
}

/* 1..65535, digits only. */
static int
parse_port(const char *s, uint16_t *port)
{
	unsigned long v = 0;

	if (*s == '\0' || strlen(s) > 5)
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	if (v == 0 || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

/* 0, 1 when `s` is not host:port, or SP_ERR_NOMEM. */
static int
parse_addr(const char *s, struct sp_hostport *hp)
{
	const char *colon, *end;
	char host[256];
	struct in6_addr a6;
	size_t hlen;

	if (*s == '[') {
		if ((end = strchr(s, ']')) == NULL || end[1] != ':')
			return 1;
		hlen = (size_t)(end - s - 1);
		if (hlen == 0 || hlen >= sizeof(host))
			return 1;
		memcpy(host, s + 1, hlen);
		host[hlen] = '\0';
		if (inet_pton(AF_INET6, host, &a6) != 1)
			return 1;
		colon = end + 1;
	} else {
		if ((colon = strchr(s, ':')) == NULL || strchr(colon + 1, ':'))
			return 1;
		hlen = (size_t)(colon - s);
		if (!valid_hostname(s, hlen))
			return 1;
		memcpy(host, s, hlen);
		host[hlen] = '\0';
	}
	if (parse_port(colon + 1, &hp->port) != 0)
		return 1;
	if ((hp->host = strdup(host)) == NULL)
		return SP_ERR_NOMEM;
	return 0;
}

static int
parse_int(const char *s, long long min, long long max, int *out)
{
	char *end;
	long long v;

	if (*s != '-' && (*s < '0' || *s > '9'))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max || v < INT_MIN ||
	    v > INT_MAX)
		return -1;
	*out = (int)v;
	return 0;
}

static int
valid_url(const char *s)
{
	const char *host = s + 8;
	size_t i;

	if (strncmp(s, "https://", 8) != 0 || strlen(s) > 2048)
		return 0;
	if (*host == '\0' || *host == '/' || *host == ':')
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (s[i] == ' ' || s[i] == '"' || s[i] == '<' || s[i] == '>')
			return 0;
	return 1;
}

static int
dup_str(const struct sp_yaml_node *n, char **out)
{
	if ((*out = strdup(n->str)) == NULL)
		return SP_ERR_NOMEM;
	return SP_OK;
}

static int decode_section(struct sp_bs_ctx *ctx, const struct sp_bs_section *sec,
    const struct sp_yaml_node *map, char *obj, unsigned line);

static int
decode_list(struct sp_bs_ctx *ctx, const struct sp_bs_key *k,
    const struct sp_yaml_node *n, char *base)
{
	const struct sp_bs_section *sec = k->section;
	char *items;
	size_t i, old;
	int r;

	if (n->kind != SP_YAML_SEQ)
		return err_expected(ctx, k, n);
	if (k->max > 0 && n->n > (size_t)k->max)
		return err_key(ctx, n->line, "more than %lld items", k->max);
	if (n->n == 0)
		return SP_OK;
	if ((items = calloc(n->n, sec->item_size)) == NULL)
		return SP_ERR_NOMEM;
	/* Attached first, so a failure below is freed with the struct. */
	*(void **)(base + k->offset) = items;
	*(size_t *)(base + k->count_offset) = n->n;
	for (i = 0; i < n->n; i++) {
		old = sp_yaml_rd_push(&ctx->rd, "[%zu]", i);
		if (n->items[i]->kind != SP_YAML_MAP) {
			char had[200];

			got(n->items[i], had, sizeof(had));
			r = err_key(ctx, n->items[i]->line,
			    "expected a mapping, got %s", had);
		} else
			r = decode_section(ctx, sec, n->items[i],
			    items + i * sec->item_size, n->items[i]->line);
		sp_yaml_rd_pop(&ctx->rd, old);
		if (r != 0)
			return r;
	}
	return SP_OK;
}

static int
valid_option_name(const struct sp_yaml_node *k)
{
	size_t i;

	if (k->len == 0 || k->len > 64)
		return 0;
	for (i = 0; i < k->len; i++)
		if (!((k->str[i] >= 'a' && k->str[i] <= 'z') ||
		    (k->str[i] >= 'A' && k->str[i] <= 'Z') ||
		    (k->str[i] >= '0' && k->str[i] <= '9') ||
		    k->str[i] == '_' || k->str[i] == '-' || k->str[i] == '.'))
			return 0;
	return 1;
}

static int
decode_strmap(struct sp_bs_ctx *ctx, const struct sp_bs_key *k,
    const struct sp_yaml_node *n, char *base)
{
	const struct sp_yaml_node *key, *val;
	size_t i, j, max = k->max > 0 ? (size_t)k->max : 64, old;
	char **kv, esc[200], had[200];
	int r;

	if (n->kind != SP_YAML_MAP)
		return err_expected(ctx, k, n);
	if (n->n > max)
		return err_key(ctx, n->line, "more than %zu entries", max);
	if ((kv = calloc(2 * n->n + 1, sizeof(*kv))) == NULL)
		return SP_ERR_NOMEM;
	*(char ***)(base + k->offset) = kv;   /* freed with the struct */
	for (i = 0; i < n->n; i++) {
		key = n->pairs[i].key;
		val = n->pairs[i].value;
		sp_yaml_escape(key->str, key->len, 60, esc, sizeof(esc));
		old = sp_yaml_rd_push_key(&ctx->rd, esc);
		r = SP_OK;
		if (!valid_option_name(key))
			r = err_key(ctx, key->line,
			    "option names are letters, digits, '_', '-' and '.'");
		for (j = 0; r == SP_OK && j < i; j++)
			if (strcmp(kv[2 * j], key->str) == 0)
				r = err_key(ctx, key->line, "given twice");
		if (r == SP_OK && (val->kind != SP_YAML_SCALAR ||
		    sp_yaml_is_null(val) || !sp_yaml_text_clean(val))) {
			got(val, had, sizeof(had));
			r = err_key(ctx, val->line, "expected a string, got %s",
			    had);
		}
		sp_yaml_rd_pop(&ctx->rd, old);
		if (r != SP_OK)
			return r;
		if ((kv[2 * i] = strdup(key->str)) == NULL ||
		    (kv[2 * i + 1] = strdup(val->str)) == NULL)
			return SP_ERR_NOMEM;
	}
	return SP_OK;
}

/* `line`: where the key was, for sections whose mapping is absent. */
static int
decode_value(struct sp_bs_ctx *ctx, const struct sp_bs_key *k,
    const struct sp_yaml_node *n, char *base, unsigned line)
{
	char *dst = base + k->offset;
	const struct sp_bs_enum *e;
	size_t i, max;
	int r;

	if (k->type == SP_BS_SECTION) {
		if (n->kind != SP_YAML_MAP)
			return err_expected(ctx, k, n);
		return decode_section(ctx, k->section, n, dst, line);
	}
	if (k->type == SP_BS_LIST)
		return decode_list(ctx, k, n, base);
	if (k->type == SP_BS_STRMAP)
		return decode_strmap(ctx, k, n, base);
	if (n->kind != SP_YAML_SCALAR || sp_yaml_is_null(n) || !sp_yaml_text_clean(n))
		return err_expected(ctx, k, n);

	switch (k->type) {
	case SP_BS_STRING:
		max = k->max > 0 ? (size_t)k->max : STRING_MAX_DEFAULT;
		if (n->len == 0 || n->len > max)
			return err_expected(ctx, k, n);
		return dup_str(n, (char **)dst);
	case SP_BS_PATH:
		if (n->str[0] != '/' || n->len >= PATH_MAX)
			return err_expected(ctx, k, n);
		return dup_str(n, (char **)dst);
	case SP_BS_INT:
		if (parse_int(n->str, k->min, k->max, (int *)dst) != 0)
			return err_expected(ctx, k, n);
		return SP_OK;
	case SP_BS_BOOL:
		if (strcmp(n->str, "true") == 0)
			*(bool *)dst = true;
		else if (strcmp(n->str, "false") == 0)
			*(bool *)dst = false;
		else
			return err_expected(ctx, k, n);
		return SP_OK;
	case SP_BS_ADDR:
		if ((r = parse_addr(n->str, (struct sp_hostport *)dst)) > 0)
			return err_expected(ctx, k, n);
		return r;
	case SP_BS_HEX:
		if (n->len != (size_t)k->min)
			return err_expected(ctx, k, n);
		for (i = 0; i < n->len; i++)
			if (!((n->str[i] >= '0' && n->str[i] <= '9') ||
			    (n->str[i] >= 'a' && n->str[i] <= 'f') ||
			    (n->str[i] >= 'A' && n->str[i] <= 'F')))
				return err_expected(ctx, k, n);
		if ((r = dup_str(n, (char **)dst)) != 0)
			return r;
		for (i = 0; i < n->len; i++)
			if ((*(char **)dst)[i] >= 'A' && (*(char **)dst)[i] <= 'F')
				(*(char **)dst)[i] += 'a' - 'A';
		return SP_OK;
	case SP_BS_URL:
		if (!valid_url(n->str))
			return err_expected(ctx, k, n);
		return dup_str(n, (char **)dst);
	case SP_BS_ENUM:
		for (e = k->values; e->name != NULL; e++)
			if (strcmp(n->str, e->name) == 0) {
				*(int *)dst = e->value;
				return SP_OK;
			}
		return err_expected(ctx, k, n);
	default:
		return err_key(ctx, n->line, "schema error: unknown type %d",
		    (int)k->type);
	}
}

static const struct sp_bs_key *
find_key(const struct sp_bs_section *sec, const struct sp_yaml_node *name,
    size_t *idx)
{
	size_t i;

	for (i = 0; sec->keys[i].name != NULL; i++)
		if (strlen(sec->keys[i].name) == name->len &&
		    memcmp(sec->keys[i].name, name->str, name->len) == 0) {
			*idx = i;
			return &sec->keys[i];
		}
	return NULL;
}

#define KEYS_MAX 64

static int
decode_section(struct sp_bs_ctx *ctx, const struct sp_bs_section *sec,
    const struct sp_yaml_node *map, char *obj, unsigned line)
{
	unsigned seen[KEYS_MAX];   /* line where key i was given, 0 = not */
	const struct sp_bs_key *k;
	const struct sp_yaml_pair *p;
	struct sp_yaml_node def;
	char esc[200];
	size_t i, idx, old;
	int r;

	memset(seen, 0, sizeof(seen));
	if (sec->init != NULL)
		sec->init(obj);
	for (i = 0; map != NULL && i < map->n; i++) {
		p = &map->pairs[i];
		if ((k = find_key(sec, p->key, &idx)) == NULL || idx >= KEYS_MAX) {
			sp_yaml_escape(p->key->str, p->key->len, 60, esc, sizeof(esc));
			old = sp_yaml_rd_push_key(&ctx->rd, esc);
			r = err_at(ctx, p->key->line, SP_ERR_CONFIG,
			    "unknown key '%s'", ctx->rd.path);
			sp_yaml_rd_pop(&ctx->rd, old);
			return r;
		}
		old = sp_yaml_rd_push_key(&ctx->rd, k->name);
		if (seen[idx])
			r = err_key(ctx, p->key->line,
			    "given twice (first on line %u)", seen[idx]);
		else {
			seen[idx] = p->key->line;
			r = decode_value(ctx, k, p->value, obj, p->key->line);
		}
		sp_yaml_rd_pop(&ctx->rd, old);
		if (r != 0)
			return r;
	}
	for (i = 0; sec->keys[i].name != NULL; i++) {
		k = &sec->keys[i];
		if (i < KEYS_MAX && seen[i])
			continue;
		old = sp_yaml_rd_push_key(&ctx->rd, k->name);
		r = SP_OK;
		if (k->flags & SP_BS_REQUIRED)
			r = err_key(ctx, line, "required but missing");
		else if (k->type == SP_BS_SECTION)
			r = decode_section(ctx, k->section, NULL, obj + k->offset,
			    line);
		else if (k->def != NULL) {
			memset(&def, 0, sizeof(def));
			def.kind = SP_YAML_SCALAR;
			def.line = line;
			def.str = (char *)k->def;
			def.len = strlen(k->def);
			def.plain = true;
			r = decode_value(ctx, k, &def, obj, line);
		}
		sp_yaml_rd_pop(&ctx->rd, old);
		if (r != 0)
			return r;
	}
	ctx->map = map;
	ctx->line = line;
	if (sec->finish != NULL && (r = sec->finish(obj, ctx)) != 0)
		return r;
	if (ctx->verify && sec->verify != NULL)
		return sec->verify(obj, ctx);
	return SP_OK;
}

/* ---- finish-hook errors ---- */

/*
 * Follow "a.b[2].c" from `n`; returns the line of the deepest key found and
 * sets *found when the whole path was there.
 */
static unsigned
line_of(const struct sp_yaml_node *n, const char *rel, unsigned line,
    bool *found)
{
	char seg[64];
	size_t len, i;
	unsigned long idx;
	char *end;

	*found = false;
	while (n != NULL && *rel != '\0') {
		len = strcspn(rel, ".[");
		if (len > 0) {
			if (n->kind != SP_YAML_MAP || len >= sizeof(seg))
				return line;
			memcpy(seg, rel, len);
			seg[len] = '\0';
			for (i = 0; i < n->n; i++)
				if (n->pairs[i].key->len == len &&
				    memcmp(n->pairs[i].key->str, seg, len) == 0)
					break;
			if (i == n->n)
				return line;
			line = n->pairs[i].key->line;
			n = n->pairs[i].value;
			rel += len;
		}
		if (*rel == '[') {
			idx = strtoul(rel + 1, &end, 10);
			if (*end != ']' || n->kind != SP_YAML_SEQ || idx >= n->n)
				return line;
			n = n->items[idx];
			line = n->line;
			rel = end + 1;
		}
		if (*rel == '.')
			rel++;
	}
	*found = n != NULL && *rel == '\0';
	return line;
}

bool
sp_bs_given(struct sp_bs_ctx *ctx, const char *rel)
{
	bool found;

	line_of(ctx->map, rel, ctx->line, &found);
	return found;
}

const char *
sp_bs_file(const struct sp_bs_ctx *ctx)
{
	return ctx->rd.file;
}

int
sp_bs_fail(struct sp_bs_ctx *ctx, const char *rel, const char *fmt, ...)
{
	char msg[SP_BOOTSTRAP_ERR_MAX];
	unsigned line;
	size_t old;
	bool found;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	line = line_of(ctx->map, rel, ctx->line, &found);
	old = rel[0] == '[' ? sp_yaml_rd_push(&ctx->rd, "%s", rel) :
	    sp_yaml_rd_push_key(&ctx->rd, rel);
	err_key(ctx, line, "%s", msg);
	sp_yaml_rd_pop(&ctx->rd, old);
	return SP_ERR_CONFIG;
}

/* ---- freeing ---- */

static void
free_section(const struct sp_bs_section *sec, char *obj)
{
	const struct sp_bs_key *k;
	char *items, **kv;
	size_t i, n;

	for (k = sec->keys; k->name != NULL; k++) {
		switch (k->type) {
		case SP_BS_STRMAP:
			kv = *(char ***)(obj + k->offset);
			/* a half-built map has NULL after its last pair */
			for (i = 0; kv != NULL && kv[i] != NULL; i++)
				free(kv[i]);
			free(kv);
			*(char ***)(obj + k->offset) = NULL;
			break;
		case SP_BS_STRING:
		case SP_BS_PATH:
		case SP_BS_HEX:
		case SP_BS_URL:
			free(*(char **)(obj + k->offset));
			*(char **)(obj + k->offset) = NULL;
			break;
		case SP_BS_ADDR:
			free(((struct sp_hostport *)(obj + k->offset))->host);
			((struct sp_hostport *)(obj + k->offset))->host = NULL;
			break;
		case SP_BS_SECTION:
			free_section(k->section, obj + k->offset);
			break;
		case SP_BS_LIST:
			items = *(char **)(obj + k->offset);
			n = *(size_t *)(obj + k->count_offset);
			for (i = 0; items != NULL && i < n; i++)
				free_section(k->section,
				    items + i * k->section->item_size);
			free(items);
			*(char **)(obj + k->offset) = NULL;
			*(size_t *)(obj + k->count_offset) = 0;
			break;
		default:
			break;
		}
	}
}

void
sp_bootstrap_free(const struct sp_bs_schema *schema, void *obj)
{
	if (obj == NULL)
		return;
	free_section(schema->root, obj);
	memset(obj, 0, schema->size);
}

/* ---- entry points ---- */

static int
parse(const char *name, const void *data, size_t len,
    const struct sp_bs_schema *schema, void *out, char *err, size_t errlen,
    bool verify)
{
	static const struct sp_yaml_limits lim = {
		SP_BOOTSTRAP_MAX_DEPTH, SP_BOOTSTRAP_MAX_NODES
	};
	struct sp_bs_ctx ctx;
	struct sp_yaml_node *root = NULL;
	struct sp_yaml_error yerr;
	int r;

	memset(out, 0, schema->size);
	memset(&ctx, 0, sizeof(ctx));
	sp_yaml_rd_init(&ctx.rd, name, err, errlen);
	ctx.verify = verify;
	if (errlen > 0)
		err[0] = '\0';
	if (len > SP_BOOTSTRAP_MAX_SIZE)
		return err_at(&ctx, 0, SP_ERR_CONFIG, "larger than %d bytes",
		    SP_BOOTSTRAP_MAX_SIZE);
	if ((r = sp_yaml_parse(data, len, &lim, &root, &yerr)) != 0) {
		if (r == SP_ERR_NOMEM)
			return err_at(&ctx, 0, r, "out of memory");
		return err_at(&ctx, yerr.line, SP_ERR_CONFIG, "%s", yerr.msg);
	}
	if (root == NULL)
		return err_at(&ctx, 0, SP_ERR_CONFIG, "the file is empty");
	if (root->kind != SP_YAML_MAP)
		r = err_at(&ctx, root->line, SP_ERR_CONFIG,
		    "expected a mapping of settings at the top level, got %s",
		    sp_yaml_is_null(root) ? "nothing" :
		    sp_yaml_kind_name(root->kind));
	else
		r = decode_section(&ctx, schema->root, root, out, root->line);
	if (r == SP_ERR_NOMEM)
		err_at(&ctx, 0, r, "out of memory");
	sp_yaml_free(root);
	if (r != 0)
		sp_bootstrap_free(schema, out);
	return r;
}

int
sp_bootstrap_parse(const char *name, const void *data, size_t len,
    const struct sp_bs_schema *schema, void *out, char *err, size_t errlen)
{
	return parse(name, data, len, schema, out, err, errlen, false);
}

static int
load(const char *path, const struct sp_bs_schema *schema, void *out,
    char *err, size_t errlen, bool verify)
{
	struct sp_bs_ctx ctx;
	struct stat st;
	char *data = NULL;
	size_t len = 0;
	ssize_t n;
	int fd, r;

	memset(out, 0, schema->size);
	memset(&ctx, 0, sizeof(ctx));
	sp_yaml_rd_init(&ctx.rd, path, err, errlen);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
		return err_at(&ctx, 0, SP_ERR_SYSTEM, "cannot open: %s",
		    strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		r = err_at(&ctx, 0, SP_ERR_CONFIG, "not a regular file");
		goto out;
	}
	if (st.st_size > SP_BOOTSTRAP_MAX_SIZE) {
		r = err_at(&ctx, 0, SP_ERR_CONFIG, "larger than %d bytes",
		    SP_BOOTSTRAP_MAX_SIZE);
		goto out;
	}
	/* One byte more than allowed, to notice a file that grew meanwhile. */
	if ((data = malloc(SP_BOOTSTRAP_MAX_SIZE + 1)) == NULL) {
		r = err_at(&ctx, 0, SP_ERR_NOMEM, "out of memory");
		goto out;
	}
	while (len < SP_BOOTSTRAP_MAX_SIZE + 1) {
		n = read(fd, data + len, SP_BOOTSTRAP_MAX_SIZE + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = err_at(&ctx, 0, SP_ERR_SYSTEM, "cannot read: %s",
			    strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	r = parse(path, data, len, schema, out, err, errlen, verify);
out:
	free(data);
	close(fd);
	return r;
}

int
sp_bootstrap_load(const char *path, const struct sp_bs_schema *schema,
    void *out, char *err, size_t errlen)
{
	return load(path, schema, out, err, errlen, false);
}

int
sp_bootstrap_load_checked(const char *path, const struct sp_bs_schema *schema,
    void *out, char *err, size_t errlen)
{
	return load(path, schema, out, err, errlen, true);
}

int
sp_bootstrap_check(const char *path, const struct sp_bs_schema *schema)
{
	char err[SP_BOOTSTRAP_ERR_MAX];
	void *obj;
	int r;

	if ((obj = calloc(1, schema->size)) == NULL) {
		fprintf(stderr, "%s: out of memory\n", path);
		return 2;
	}
	r = sp_bootstrap_load_checked(path, schema, obj, err, sizeof(err));
	sp_bootstrap_free(schema, obj);
	free(obj);
	if (r != 0) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	printf("ok\n");
	return 0;
}
