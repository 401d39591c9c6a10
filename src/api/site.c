/*
 * site.c - the site file reader (see site.h): walks the YAML tree of
 * core/yaml.h section by section, checking every key against the section's
 * list of known keys, and fills struct sp_site. Key paths, error lines, key
 * checks and scalars come from the shared reader (core/yaml_read.h), the
 * same one the bootstrap files go through.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/partner_rules.h"
#include "api/pwhash.h"
#include "api/site.h"
#include "core/crl.h"
#include "core/err.h"
#include "core/net.h"
#include "core/yaml.h"
#include "core/yaml_read.h"

const struct sp_limit_def sp_limit_defs[SP_LIMIT_COUNT] = {
	{ "max_sessions", 1000, 1, 100000 },
	{ "max_sessions_per_address", 20, 1, 100000 },
	{ "handshake_timeout_ms", 10000, 100, 600000 },
	{ "ssid_timeout_ms", 30000, 100, 600000 },
	{ "idle_timeout_ms", 300000, 1000, 86400000 },
	{ "session_max_ms", 86400000, 1000, 604800000 },
	{ "inside_connect_timeout_ms", 10000, 100, 600000 },
	{ "linger_ms", 5000, 0, 600000 },
	{ "max_unverified", 128, 1, 100000 },
	{ "max_unverified_per_address", 8, 1, 100000 },
};

struct ctx {
	struct sp_yaml_rd rd;     /* file, key path, error line (core/yaml_read.h) */
	const struct sp_site_opts *opts;
};

/* The shared reader under this file's short names. */
#define fail(c, line, ...) sp_yaml_rd_fail(&(c)->rd, (line), __VA_ARGS__)
#define push(c, ...) sp_yaml_rd_push(&(c)->rd, __VA_ARGS__)
#define push_key(c, name) sp_yaml_rd_push_key(&(c)->rd, (name))
#define pop(c, old) sp_yaml_rd_pop(&(c)->rd, (old))
#define kind_name(n) sp_yaml_kind_name((n)->kind)
#define key_is(k, name) sp_yaml_key_is((k), (name))
#define get(n, name, line) sp_yaml_map_get((n), (name), (line))
#define check_map(c, n, line, known) sp_yaml_rd_keys(&(c)->rd, (n), (line), (known))
#define want_scalar(c, v, what) sp_yaml_rd_scalar(&(c)->rd, (v), (what))
#define str_val(c, v, minlen, maxlen, out) sp_yaml_rd_str(&(c)->rd, (v), (minlen), (maxlen), (out))
#define int_val(c, v, min, max, out) sp_yaml_rd_uint(&(c)->rd, (v), (min), (max), (out))

enum { OPT = 0, REQ = 1 };

/*
 * Look up `name` in map `m` (line `mline`) and push its key path: the caller
 * pops. *v is NULL when absent; an absent REQ key is an error.
 */
static int
lookup(struct ctx *c, const struct sp_yaml_node *m, unsigned mline,
    const char *name, int req, const struct sp_yaml_node **v, size_t *old)
{
	*old = push_key(c, name);
	*v = get(m, name, NULL);
	if (*v == NULL && req)
		return fail(c, mline, "required but missing");
	return SP_OK;
}

static int
dup_out(const char *s, char **out)
{
	if ((*out = strdup(s)) == NULL)
		return SP_ERR_NOMEM;
	return SP_OK;
}

static int
get_str(struct ctx *c, const struct sp_yaml_node *m, unsigned mline,
    const char *name, int req, size_t minlen, size_t maxlen, char **out)
{
	const struct sp_yaml_node *v;
	size_t old;
	int r;

	if ((r = lookup(c, m, mline, name, req, &v, &old)) == 0 && v != NULL)
		r = str_val(c, v, minlen, maxlen, out);
	if (r == 0)
		pop(c, old);
	return r;
}

static int
get_bool(struct ctx *c, const struct sp_yaml_node *m, unsigned mline,
    const char *name, bool def, bool *out)
{
	const struct sp_yaml_node *v;
	size_t old;
	int r;

	*out = def;
	if ((r = lookup(c, m, mline, name, OPT, &v, &old)) != 0)
		return r;
	if (v != NULL && (r = sp_yaml_rd_bool(&c->rd, v, out)) != 0)
		return r;
	pop(c, old);
	return SP_OK;
}

static int
get_int(struct ctx *c, const struct sp_yaml_node *m, unsigned mline,
    const char *name, long long def, long long min, long long max, int *out)
{
	const struct sp_yaml_node *v;
	long long x = def;
	size_t old;
	int r;

	if ((r = lookup(c, m, mline, name, OPT, &v, &old)) != 0)
		return r;
	if (v != NULL && (r = int_val(c, v, min, max, &x)) != 0)
		return r;
	*out = (int)x;
	pop(c, old);
	return SP_OK;
}

/* ---- typed strings ---- */

int
sp_site_valid_odette_id(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 25)
		return -1;
	for (; *s != '\0'; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')))
			return -1;
	return 0;
}

int
sp_site_check_bind(const char *bind, const char *bind_dn, const char **why)
{
	bool dn = bind != NULL && strcmp(bind, "dn") == 0;

	if (bind != NULL && !dn && strcmp(bind, "cn") != 0 &&
	    strcmp(bind, "san") != 0 && strcmp(bind, "none") != 0) {
		*why = "bind: expected cn, san, dn or none";
		return -1;
	}
	if (dn && (bind_dn == NULL || bind_dn[0] == '\0')) {
		*why = "bind_dn: required with bind dn (the subject DN, RFC 4514)";
		return -1;
	}
	if (!dn && bind_dn != NULL) {
		*why = "bind_dn: only with bind dn";
		return -1;
	}
	if (bind_dn != NULL && strlen(bind_dn) > SP_SITE_BIND_DN_MAX) {
		*why = "bind_dn: longer than 1024 characters";
		return -1;
	}
	return 0;
}

static int
valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 64)
		return 0;
	for (; *s != '\0'; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		    (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' || *s == '-'))
			return 0;
	return 1;
}

static int
days_in_month(int y, int m)
{
	static const int d[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return d[m - 1];
}

static int
digits(const char *s, int n, int *out)
{
	int i, v = 0;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int
sp_site_time_normalise(const char *s, char out[21])
{
	int y, mo, d, h = 0, mi = 0, se = 0;
	size_t n = strlen(s);

	if (n != 10 && n != 20)
		return -1;
	if (digits(s, 4, &y) != 0 || s[4] != '-' || digits(s + 5, 2, &mo) != 0 ||
	    s[7] != '-' || digits(s + 8, 2, &d) != 0)
		return -1;
	if (n == 20 && (s[10] != 'T' || digits(s + 11, 2, &h) != 0 ||
	    s[13] != ':' || digits(s + 14, 2, &mi) != 0 || s[16] != ':' ||
	    digits(s + 17, 2, &se) != 0 || s[19] != 'Z'))
		return -1;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) ||
	    h > 23 || mi > 59 || se > 59)
		return -1;
	{
		char buf[64];

		snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02dZ", y, mo,
		    d, h, mi, se);
		memcpy(out, buf, 21);
	}
	return 0;
}

int
sp_site_cidr_normalise(const char *s, char *out, size_t outlen)
{
	char host[INET6_ADDRSTRLEN + 1], norm[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	unsigned char a[16];
	size_t hlen = slash ? (size_t)(slash - s) : strlen(s);
	int fam, bits, maxbits, i, n;

	if (hlen == 0 || hlen >= sizeof(host))
		return -1;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (inet_pton(AF_INET, host, a) == 1) {
		fam = AF_INET;
		maxbits = 32;
	} else if (inet_pton(AF_INET6, host, a) == 1) {
		fam = AF_INET6;
		maxbits = 128;
	} else
		return -1;
	bits = maxbits;
	if (slash != NULL) {
		n = (int)strlen(slash + 1);
		if (n < 1 || n > 3 || digits(slash + 1, n, &bits) != 0 ||
		    bits > maxbits)
			return -1;
	}
	/* Host bits must be zero: "10.0.0.1/8" is almost always a typo. */
	for (i = bits; i < maxbits; i++)
		if (a[i / 8] & (0x80 >> (i % 8)))
			return -1;
	if (inet_ntop(fam, a, norm, sizeof(norm)) == NULL)
		return -1;
	n = snprintf(out, outlen, "%s/%d", norm, bits);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

static int
get_time(struct ctx *c, const struct sp_yaml_node *m, unsigned mline,
    const char *name, char **out)
{
	const struct sp_yaml_node *v;
	char t[21];
	size_t old;
	int r;

	if ((r = lookup(c, m, mline, name, OPT, &v, &old)) != 0)
		return r;
	if (v != NULL) {
		if ((r = want_scalar(c, v, "a time")) != 0)
			return r;
		if (sp_site_time_normalise(v->str, t) != 0)
			return fail(c, v->line,
			    "expected YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ");
		if ((r = dup_out(t, out)) != 0)
			return r;
	}
	pop(c, old);
	return SP_OK;
}

/* withport: "host:port" (port 1..65535), else a bare numeric address. */
static int
get_addr(struct ctx *c, const struct sp_yaml_node *m, unsigned mline,
    const char *name, int req, int withport, char **out)
{
	const struct sp_yaml_node *v;
	struct sp_addr a;
	char text[SP_ADDR_TEXT];
	size_t old;
	int r;

	if ((r = lookup(c, m, mline, name, req, &v, &old)) != 0)
		return r;
	if (v != NULL) {
		if ((r = want_scalar(c, v, "an address")) != 0)
			return r;
		if (withport) {
			if (v->len >= SP_ADDR_TEXT || sp_addr_parse(v->str, &a) != 0 ||
			    sp_addr_port(&a) == 0)
				return fail(c, v->line,
				    "expected a numeric address with port, "
				    "like 192.0.2.1:6619 or [2001:db8::1]:6619");
			sp_addr_format(&a, text, sizeof(text));
		} else {
			if (v->len >= SP_ADDR_TEXT ||
			    sp_addr_parse_host(v->str, &a) != 0)
				return fail(c, v->line,
				    "expected a numeric address without port");
			sp_addr_host(&a, text, sizeof(text));
		}
		if ((r = dup_out(text, out)) != 0)
			return r;
	}
	pop(c, old);
	return SP_OK;
}

/* ---- lists ---- */

static int
strv_add(struct sp_strv *sv, const char *s)
{
	char **nv;

	if ((nv = realloc(sv->v, (sv->n + 1) * sizeof(*nv))) == NULL)
		return SP_ERR_NOMEM;
	sv->v = nv;
	if ((nv[sv->n] = strdup(s)) == NULL)
		return SP_ERR_NOMEM;
	sv->n++;
	return SP_OK;
}

static void
strv_free(struct sp_strv *sv)
{
	size_t i;

	for (i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = 0;
}

enum list_kind { LIST_CIDR, LIST_PIN, LIST_URL };

int
sp_site_valid_url(const char *s)
{
	size_t i, n = strlen(s);

	if (n > SP_SITE_URL_MAX || (strncmp(s, "http://", 7) != 0 &&
	    strncmp(s, "https://", 8) != 0) || n <= (s[4] == 's' ? 8u : 7u))
		return -1;
	for (i = 0; i < n; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f)
			return -1;
	return 0;
}

int
sp_site_bundle_id(const char *pem, char out[65])
{
	return sp_sha256_hex(pem, strlen(pem), out);
}

static int
get_list(struct ctx *c, const struct sp_yaml_node *m, unsigned mline,
    const char *name, enum list_kind kind, struct sp_strv *out)
{
	const struct sp_yaml_node *v, *it;
	char norm[80];
	size_t old, old2, i, j;
	int r;

	if ((r = lookup(c, m, mline, name, OPT, &v, &old)) != 0)
		return r;
	if (v != NULL) {
		if (v->kind != SP_YAML_SEQ)
			return fail(c, v->line, "expected a sequence, got %s",
			    kind_name(v));
		if (v->n > SP_SITE_MAX_LIST)
			return fail(c, v->line, "more than %d items",
			    SP_SITE_MAX_LIST);
		for (i = 0; i < v->n; i++) {
			it = v->items[i];
			old2 = push(c, "[%zu]", i);
			if ((r = want_scalar(c, it, kind == LIST_CIDR ?
			    "a network" : kind == LIST_URL ? "a URL" :
			    "a SHA-256 pin")) != 0)
				return r;
			if (kind == LIST_URL) {
				/* Kept as written; longer than `norm` may be. */
				if (sp_site_valid_url(it->str) != 0 ||
				    strlen(it->str) != it->len)
					return fail(c, it->line, "expected an "
					    "http:// or https:// URL");
				if ((r = strv_add(out, it->str)) != 0)
					return r;
				pop(c, old2);
				continue;
			}
			if (kind == LIST_CIDR) {
				if (sp_site_cidr_normalise(it->str, norm,
				    sizeof(norm)) != 0)
					return fail(c, it->line, "expected a "
					    "network like 192.0.2.0/24 or "
					    "2001:db8::/32 (host bits zero)");
			} else {
				uint8_t pin[32];

				if (sp_hex_decode(it->str, it->len, pin, 32) != 0)
					return fail(c, it->line,
					    "expected 64 hex digits");
				sp_hex_encode(pin, 32, norm);
			}
			for (j = 0; j < out->n; j++)
				if (strcmp(out->v[j], norm) == 0)
					return fail(c, it->line,
					    "\"%s\" is listed twice", norm);
			if ((r = strv_add(out, norm)) != 0)
				return r;
			pop(c, old2);
		}
	}
	pop(c, old);
	return SP_OK;
}

/* ---- files ---- */

static int
read_disk(const char *path, char **out, char *why, size_t whylen)
{
	struct stat st;
	char *buf = NULL;
	ssize_t n;
	size_t got = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		snprintf(why, whylen, "cannot open %s: %s", path, strerror(errno));
		return SP_ERR_SYSTEM;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "%s is not a regular file", path);
		close(fd);
		return SP_ERR_CONFIG;
	}
	if (st.st_size > SP_SITE_MAX_PEM) {
		snprintf(why, whylen, "%s is larger than %d bytes", path,
		    SP_SITE_MAX_PEM);
		close(fd);
		return SP_ERR_CONFIG;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return SP_ERR_NOMEM;
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(why, whylen, "cannot read %s: %s", path,
			    n < 0 ? strerror(errno) : "file shrank");
			free(buf);
			close(fd);
			return SP_ERR_SYSTEM;
		}
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	*out = buf;
	return SP_OK;
}

/* Zero a secret string before freeing it. */
static void
free_secret(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/*
 * A PEM file named by `name`; `marker` is the BEGIN label it must contain
 * ("CERTIFICATE", or "PRIVATE KEY" which also matches "EC PRIVATE KEY" etc.).
 */
static int
get_pem(struct ctx *c, const struct sp_yaml_node *m, unsigned mline,
    const char *name, int req, const char *marker, char **out)
{
	const struct sp_yaml_node *v;
	char full[4096], why[300], begin[64];
	const char *base;
	char *data = NULL;
	size_t old;
	int r;

	if ((r = lookup(c, m, mline, name, req, &v, &old)) != 0)
		return r;
	if (v != NULL) {
		if ((r = want_scalar(c, v, "a file name")) != 0)
			return r;
		if (v->len == 0 || v->len > 1024)
			return fail(c, v->line, "expected a file name");
		base = c->opts && c->opts->basedir ? c->opts->basedir : ".";
		if (v->str[0] == '/')
			snprintf(full, sizeof(full), "%s", v->str);
		else
			snprintf(full, sizeof(full), "%s/%s", base, v->str);
		why[0] = '\0';
		r = (c->opts && c->opts->read_file ? c->opts->read_file :
		    read_disk)(full, &data, why, sizeof(why));
		if (r == SP_ERR_NOMEM)
			return r;
		if (r != 0)
			return fail(c, v->line, "%s", why[0] ? why : "cannot read");
		snprintf(begin, sizeof(begin), "%s-----", marker);
		if (strstr(data, "-----BEGIN ") == NULL ||
		    strstr(data, begin) == NULL || strlen(data) < 30) {
			free_secret(data);
			return fail(c, v->line, "%s holds no PEM %s", full, marker);
		}
		*out = data;
	}
	pop(c, old);
	return SP_OK;
}

/* ---- sections ---- */

static int
parse_listener(struct ctx *c, const struct sp_yaml_node *n, unsigned line,
    struct sp_site_listener *l)
{
	static const char *const keys[] = { "name", "address", "tls",
		"proxy_protocol", NULL };
	static const char *const tkeys[] = { "certificate_chain", "private_key",
		"key", "require_client_cert", NULL };
	static const char *const pkeys[] = { "trusted", NULL };
	char *where = NULL;
	const struct sp_yaml_node *t;
	unsigned tline = line;
	size_t old;
	int r;

	if ((r = check_map(c, n, line, keys)) != 0)
		return r;
	line = n->line;
	/* The balancers allowed to put a PROXY header before the partner's bytes. */
	if ((t = get(n, "proxy_protocol", &tline)) != NULL) {
		old = push_key(c, "proxy_protocol");
		if ((r = check_map(c, t, tline, pkeys)) != 0 ||
		    (r = get_list(c, t, t->line, "trusted", LIST_CIDR,
		    &l->proxy_trusted)) != 0)
			return r;
		if (l->proxy_trusted.n == 0) {
			(void)push_key(c, "trusted");
			return fail(c, t->line, "expected at least one network of "
			    "trusted balancers");
		}
		l->proxy_protocol = true;
		pop(c, old);
		tline = line;
	}
	if ((r = get_str(c, n, line, "name", REQ, 1, 64, &l->name)) != 0)
		return r;
	if (!valid_name(l->name)) {
		(void)push_key(c, "name");
		return fail(c, get(n, "name", NULL)->line,
		    "only letters, digits, '_', '.' and '-'");
	}
	if ((r = get_addr(c, n, line, "address", REQ, 1, &l->address)) != 0)
		return r;
	if ((t = get(n, "tls", &tline)) == NULL)
		return SP_OK;
	old = push_key(c, "tls");
	if ((r = check_map(c, t, tline, tkeys)) != 0)
		return r;
	l->tls = true;
	if ((r = get_pem(c, t, t->line, "certificate_chain", REQ, "CERTIFICATE",
	    &l->chain_pem)) != 0 ||
	    (r = get_str(c, t, t->line, "key", OPT, 1, 16, &where)) != 0)
		return r;
	/* key: inside - the private key stays with smartproxy-client, which
	 * signs the handshakes (keyless TLS); nothing of it is stored here. */
	if (where != NULL && strcmp(where, "inside") != 0) {
		free(where);
		(void)push_key(c, "key");
		return fail(c, get(t, "key", NULL)->line, "only 'inside' (the client holds the key)");
	}
	if (where != NULL && get(t, "private_key", NULL) != NULL) {
		free(where);
		(void)push_key(c, "key");
		return fail(c, get(t, "key", NULL)->line,
		    "'key: inside' and 'private_key' exclude each other");
	}
	if ((where == NULL && (r = get_pem(c, t, t->line, "private_key", REQ,
	    "PRIVATE KEY", &l->key_pem)) != 0) ||
	    (r = get_bool(c, t, t->line, "require_client_cert", false,
	    &l->require_client_cert)) != 0) {
		free(where);
		return r;
	}
	free(where);
	pop(c, old);
	return SP_OK;
}

/*
 * The partner's password: `password` in clear (hashed at once), or
 * `password_hash` as stored (what --export writes, since the store keeps
 * only the hash). Exactly one of the two.
 */
static int
parse_password(struct ctx *c, const struct sp_yaml_node *n, unsigned line,
    struct sp_site_partner *p)
{
	const struct sp_yaml_node *v;
	char hash[SP_PWHASH_TEXT_MAX];
	const char *why;
	size_t old;
	int r;

	if (get(n, "password_hash", NULL) != NULL) {
		if (get(n, "password", NULL) != NULL) {
			(void)push_key(c, "password_hash");
			return fail(c, get(n, "password_hash", NULL)->line,
			    "give either password or password_hash, not both");
		}
		if ((r = get_str(c, n, line, "password_hash", REQ, 1,
		    SP_PWHASH_TEXT_MAX - 1, &p->password_hash)) != 0)
			return r;
		if (sp_pwhash_check_format(p->password_hash) != 0) {
			(void)push_key(c, "password_hash");
			return fail(c, get(n, "password_hash", NULL)->line,
			    "expected pbkdf2-sha256$ITERATIONS$SALT$HASH "
			    "(docs/api.md)");
		}
		/* The shape is checked: digits up to the next '$'. */
		if (strtoul(p->password_hash + strlen("pbkdf2-sha256$"), NULL,
		    10) < SP_PWHASH_MIN_ITERATIONS) {
			(void)push_key(c, "password_hash");
			return fail(c, get(n, "password_hash", NULL)->line,
			    "at least %u iterations (the partner module "
			    "refuses fewer)", SP_PWHASH_MIN_ITERATIONS);
		}
		return SP_OK;
	}
	if ((r = lookup(c, n, line, "password", REQ, &v, &old)) != 0)
		return r;
	if ((r = want_scalar(c, v, "a password")) != 0)
		return r;
	if (sp_partner_rule_password(v->str, v->len, &why) != 0)
		return fail(c, v->line, "%s", why);
	if ((r = sp_pwhash_make(v->str, v->len, c->opts ?
	    c->opts->pbkdf2_iterations : 0, hash, sizeof(hash))) != 0)
		return fail(c, v->line, "cannot hash: %s", sp_strerror(r));
	pop(c, old);
	return dup_out(hash, &p->password_hash);
}

static int
parse_partner(struct ctx *c, const struct sp_yaml_node *n, unsigned line,
    struct sp_site_partner *p)
{
	static const char *const keys[] = { "odette_id", "description",
		"password", "password_hash", "allowed_networks", "tls",
		"max_sessions", "enabled", "valid_from", "valid_until", NULL };
	static const char *const tkeys[] = { "require_client_cert", "pins",
		"ca_bundle", "bind", "bind_dn", NULL };
	const struct sp_yaml_node *t;
	const char *why, *field;
	unsigned tline;
	size_t old;
	int r;

	if ((r = check_map(c, n, line, keys)) != 0)
		return r;
	line = n->line;
	if ((r = get_str(c, n, line, "odette_id", REQ, 1, 1024, &p->odette_id)) != 0)
		return r;
	if (sp_partner_rule_odette_id(p->odette_id, &why) != 0) {
		(void)push_key(c, "odette_id");
		return fail(c, get(n, "odette_id", NULL)->line, "%s", why);
	}
	/* Lengths and ranges past the syntax are the shared rules' to refuse
	 * (below), so the wording is the same as over the API. */
	if ((r = get_str(c, n, line, "description", OPT, 0, 4096,
	    &p->description)) != 0)
		return r;
	if (p->description == NULL && (p->description = strdup("")) == NULL)
		return SP_ERR_NOMEM;
	if ((r = parse_password(c, n, line, p)) != 0 ||
	    (r = get_list(c, n, line, "allowed_networks", LIST_CIDR,
	    &p->networks)) != 0 ||
	    (r = get_int(c, n, line, "max_sessions", 0, 0, 999999999,
	    &p->max_sessions)) != 0 ||
	    (r = get_bool(c, n, line, "enabled", true, &p->enabled)) != 0 ||
	    (r = get_time(c, n, line, "valid_from", &p->valid_from)) != 0 ||
	    (r = get_time(c, n, line, "valid_until", &p->valid_until)) != 0)
		return r;
	if (get(n, "allowed_networks", NULL) == NULL) {
		(void)push_key(c, "allowed_networks");
		return fail(c, line, "required but missing "
		    "(an empty list allows no address)");
	}
	tline = line;
	if ((t = get(n, "tls", &tline)) != NULL) {
		old = push_key(c, "tls");
		if ((r = check_map(c, t, tline, tkeys)) != 0 ||
		    (r = get_bool(c, t, t->line, "require_client_cert", false,
		    &p->require_client_cert)) != 0 ||
		    (r = get_list(c, t, t->line, "pins", LIST_PIN, &p->pins)) != 0 ||
		    (r = get_pem(c, t, t->line, "ca_bundle", OPT, "CERTIFICATE",
		    &p->ca_bundle)) != 0 ||
		    (r = get_str(c, t, t->line, "bind", OPT, 1, SP_PARTNER_BIND_MAX,
		    &p->bind)) != 0 ||
		    (r = get_str(c, t, t->line, "bind_dn", OPT, 1,
		    SP_SITE_BIND_DN_MAX, &p->bind_dn)) != 0)
			return r;
		pop(c, old);
	}
	/* The rules every way to a partner shares (partner_rules.h). */
	if (sp_partner_rules_check(p, &field, &why) != 0) {
		(void)push_key(c, field);
		return fail(c, strncmp(field, "tls", 3) == 0 && t != NULL ? t->line : line,
		    "%s", why);
	}
	return SP_OK;
}

static int
parse_route(struct ctx *c, const struct sp_yaml_node *n, unsigned line,
    struct sp_site_route *rt)
{
	static const char *const keys[] = { "name", "client_listen",
		"partner_odette_id", "partner_address", "source_address", "tls",
		NULL };
	static const char *const tkeys[] = { "ca_bundle", "pins",
		"client_certificate_chain", "client_private_key", NULL };
	const struct sp_yaml_node *t;
	unsigned tline;
	size_t old;
	int r;

	if ((r = check_map(c, n, line, keys)) != 0)
		return r;
	line = n->line;
	if ((r = get_str(c, n, line, "name", REQ, 1, 64, &rt->name)) != 0)
		return r;
	if (!valid_name(rt->name)) {
		(void)push_key(c, "name");
		return fail(c, get(n, "name", NULL)->line,
		    "only letters, digits, '_', '.' and '-'");
	}
	if ((r = get_addr(c, n, line, "client_listen", REQ, 1,
	    &rt->client_listen)) != 0 ||
	    (r = get_str(c, n, line, "partner_odette_id", REQ, 1, 25,
	    &rt->partner_odette_id)) != 0 ||
	    (r = get_addr(c, n, line, "partner_address", REQ, 1,
	    &rt->partner_address)) != 0 ||
	    (r = get_addr(c, n, line, "source_address", OPT, 0,
	    &rt->source_address)) != 0)
		return r;
	tline = line;
	if ((t = get(n, "tls", &tline)) != NULL) {
		old = push_key(c, "tls");
		rt->tls = true;
		if ((r = check_map(c, t, tline, tkeys)) != 0 ||
		    (r = get_pem(c, t, t->line, "ca_bundle", OPT, "CERTIFICATE",
		    &rt->ca_bundle)) != 0 ||
		    (r = get_list(c, t, t->line, "pins", LIST_PIN, &rt->pins)) != 0 ||
		    (r = get_pem(c, t, t->line, "client_certificate_chain", OPT,
		    "CERTIFICATE", &rt->client_chain)) != 0 ||
		    (r = get_pem(c, t, t->line, "client_private_key", OPT,
		    "PRIVATE KEY", &rt->client_key)) != 0)
			return r;
		if (rt->ca_bundle == NULL && rt->pins.n == 0)
			return fail(c, t->line, "needs ca_bundle or pins to "
			    "verify the partner");
		if ((rt->client_chain == NULL) != (rt->client_key == NULL))
			return fail(c, t->line, "client_certificate_chain and "
			    "client_private_key go together");
		pop(c, old);
	}
	return SP_OK;
}

/* revocation[]: the CRLs and their policy for one CA bundle. */
static int
parse_revocation(struct ctx *c, const struct sp_yaml_node *n, unsigned line,
    struct sp_site_revocation *rv)
{
	static const char *const keys[] = { "ca_bundle", "crl", "crl_urls",
		"crl_expired", NULL };
	struct sp_crl_set set;
	char *policy = NULL, why[200];
	int r;

	if ((r = check_map(c, n, line, keys)) != 0)
		return r;
	line = n->line;
	if ((r = get_pem(c, n, line, "ca_bundle", REQ, "CERTIFICATE",
	    &rv->ca_bundle)) != 0 ||
	    (r = get_pem(c, n, line, "crl", OPT, "X509 CRL", &rv->crl)) != 0 ||
	    (r = get_list(c, n, line, "crl_urls", LIST_URL, &rv->urls)) != 0 ||
	    (r = get_str(c, n, line, "crl_expired", OPT, 1, 16, &policy)) != 0)
		return r;
	if (rv->urls.n > SP_SITE_MAX_URLS) {
		(void)push_key(c, "crl_urls");
		return fail(c, get(n, "crl_urls", NULL)->line, "more than %d URLs",
		    SP_SITE_MAX_URLS);
	}
	if (policy != NULL) {
		rv->fail_open = strcmp(policy, "fail_open") == 0;
		r = rv->fail_open || strcmp(policy, "fail_closed") == 0;
		free(policy);
		if (!r) {
			(void)push_key(c, "crl_expired");
			return fail(c, get(n, "crl_expired", NULL)->line,
			    "expected fail_closed or fail_open");
		}
	}
	if (rv->crl != NULL) {
		/* The same check the proxy makes: a CRL it would refuse is an
		 * error here, not a revision the proxy refuses later. */
		if ((r = sp_crl_load(rv->ca_bundle, rv->crl, &set, why,
		    sizeof(why))) == SP_ERR_NOMEM)
			return r;
		sp_crl_set_free(&set);
		if (r != 0) {
			(void)push_key(c, "crl");
			return fail(c, get(n, "crl", NULL)->line, "%s", why);
		}
	}
	return SP_OK;
}

static int
parse_rule(struct ctx *c, const struct sp_yaml_node *n, unsigned line,
    struct sp_site_rule *ru)
{
	static const char *const keys[] = { "description", "match",
		"valid_from", "valid_until", NULL };
	int r;

	if ((r = check_map(c, n, line, keys)) != 0)
		return r;
	line = n->line;
	if ((r = get_str(c, n, line, "description", REQ, 1, 200,
	    &ru->description)) != 0 ||
	    (r = get_str(c, n, line, "match", REQ, 1, 200, &ru->match)) != 0 ||
	    (r = get_time(c, n, line, "valid_from", &ru->valid_from)) != 0 ||
	    (r = get_time(c, n, line, "valid_until", &ru->valid_until)) != 0)
		return r;
	if (ru->valid_from && ru->valid_until &&
	    strcmp(ru->valid_from, ru->valid_until) >= 0) {
		(void)push_key(c, "valid_until");
		return fail(c, line, "must be after valid_from");
	}
	return SP_OK;
}

static int
parse_limits(struct ctx *c, const struct sp_yaml_node *n, unsigned line,
    long long *limits, unsigned *given)
{
	const char *keys[SP_LIMIT_COUNT + 1];
	const struct sp_yaml_node *v;
	size_t i, old;
	int r;

	for (i = 0; i < SP_LIMIT_COUNT; i++) {
		keys[i] = sp_limit_defs[i].name;
		limits[i] = sp_limit_defs[i].def;
	}
	keys[SP_LIMIT_COUNT] = NULL;
	if (n == NULL)
		return SP_OK;
	if ((r = check_map(c, n, line, keys)) != 0)
		return r;
	for (i = 0; i < SP_LIMIT_COUNT; i++) {
		if ((r = lookup(c, n, n->line, keys[i], OPT, &v, &old)) != 0)
			return r;
		if (v != NULL && (r = int_val(c, v, sp_limit_defs[i].min,
		    sp_limit_defs[i].max, &limits[i])) != 0)
			return r;
		if (v != NULL)
			*given |= 1u << i;
		pop(c, old);
	}
	return SP_OK;
}

/*
 * outgoing: defaults of outgoing sessions. Only source_address so far (the
 * address routes without their own bind to); absent or null: unset.
 */
static int
parse_outgoing(struct ctx *c, const struct sp_yaml_node *n, unsigned line,
    char **source)
{
	static const char *const keys[] = { "source_address", NULL };
	int r;

	if (n == NULL)
		return SP_OK;
	if ((r = check_map(c, n, line, keys)) != 0)
		return r;
	return get_addr(c, n, n->line, "source_address", OPT, 0, source);
}

/* ---- module sections: YAML to JSON ---- */

static json_object *
scalar_json(const struct sp_yaml_node *n)
{
	const char *p = n->str;
	long long x = 0;
	int neg = 0;

	if (!n->plain)
		return json_object_new_string_len(n->str, (int)n->len);
	if (sp_yaml_is_null(n))
		return NULL;
	if (strcmp(p, "true") == 0 || strcmp(p, "false") == 0)
		return json_object_new_boolean(p[0] == 't');
	if (*p == '-') {
		neg = 1;
		p++;
	}
	if (*p != '\0' && strlen(p) <= 15) {
		for (; *p >= '0' && *p <= '9'; p++)
			x = x * 10 + (*p - '0');
		if (*p == '\0')
			return json_object_new_int64(neg ? -x : x);
	}
	return json_object_new_string_len(n->str, (int)n->len);
}

static int
to_json(struct ctx *c, const struct sp_yaml_node *n, json_object **out)
{
	json_object *o, *child;
	size_t i;
	int r;

	*out = NULL;
	switch (n->kind) {
	case SP_YAML_SCALAR:
		if (strlen(n->str) != n->len)
			return fail(c, n->line, "strings holding NUL are not allowed");
		*out = scalar_json(n);
		if (*out == NULL && !sp_yaml_is_null(n))
			return SP_ERR_NOMEM;
		return SP_OK;
	case SP_YAML_SEQ:
		if ((o = json_object_new_array()) == NULL)
			return SP_ERR_NOMEM;
		for (i = 0; i < n->n; i++) {
			if ((r = to_json(c, n->items[i], &child)) != 0) {
				json_object_put(o);
				return r;
			}
			json_object_array_add(o, child);
		}
		*out = o;
		return SP_OK;
	case SP_YAML_MAP:
		if ((o = json_object_new_object()) == NULL)
			return SP_ERR_NOMEM;
		for (i = 0; i < n->n; i++) {
			const struct sp_yaml_node *k = n->pairs[i].key;

			if (strlen(k->str) != k->len) {
				json_object_put(o);
				return fail(c, k->line, "keys holding NUL are not "
				    "allowed");
			}
			if (json_object_object_get_ex(o, k->str, NULL)) {
				json_object_put(o);
				return fail(c, k->line, "key '%s' given twice",
				    k->str);
			}
			if ((r = to_json(c, n->pairs[i].value, &child)) != 0) {
				json_object_put(o);
				return r;
			}
			json_object_object_add(o, k->str, child);
		}
		*out = o;
		return SP_OK;
	}
	return SP_ERR_INVALID;
}

static int
parse_modules(struct ctx *c, const struct sp_yaml_node *n, unsigned line,
    json_object **out)
{
	json_object *sec;
	char kt[64];
	size_t i, j, old;
	int r;

	if ((*out = json_object_new_object()) == NULL)
		return SP_ERR_NOMEM;
	if (n == NULL)
		return SP_OK;
	if (n->kind != SP_YAML_MAP)
		return fail(c, n->line, "expected a mapping, got %s", kind_name(n));
	for (i = 0; i < n->n; i++) {
		const struct sp_yaml_node *k = n->pairs[i].key;
		const struct sp_yaml_node *v = n->pairs[i].value;

		sp_yaml_key_text(k, kt, sizeof(kt));
		old = push_key(c, kt);
		if (k->len < 1 || k->len > 64 || strlen(k->str) != k->len)
			return fail(c, k->line, "expected a module name");
		for (j = 0; j < k->len; j++)
			if (!((k->str[j] >= 'a' && k->str[j] <= 'z') ||
			    (k->str[j] >= '0' && k->str[j] <= '9') ||
			    k->str[j] == '_'))
				return fail(c, k->line, "a module name is made of "
				    "a-z, 0-9 and '_'");
		if (json_object_object_get_ex(*out, k->str, NULL))
			return fail(c, k->line, "given twice");
		if (sp_yaml_is_null(v) || v->kind != SP_YAML_MAP)
			return fail(c, v->line, "expected a mapping, got %s",
			    sp_yaml_is_null(v) ? "nothing" : kind_name(v));
		if ((strcmp(k->str, "partner") == 0 && get(v, "partners", NULL)) ||
		    (strcmp(k->str, "log_ignore") == 0 && get(v, "rules", NULL)))
			return fail(c, v->line, "'%s' is filled from the site's "
			    "%s section", strcmp(k->str, "partner") == 0 ?
			    "partners" : "rules", strcmp(k->str, "partner") == 0 ?
			    "partners" : "log_ignore");
		if ((r = to_json(c, v, &sec)) != 0)
			return r;
		json_object_object_add(*out, k->str, sec);
		pop(c, old);
	}
	(void)line;
	return SP_OK;
}

/* ---- the file ---- */

typedef int (*item_fn)(struct ctx *, const struct sp_yaml_node *, unsigned,
    void *);

static int
parse_seq(struct ctx *c, const struct sp_yaml_node *root, const char *name,
    size_t max, size_t item_size, item_fn fn, void **arr, size_t *count)
{
	const struct sp_yaml_node *v;
	unsigned line = 0;
	size_t i, old, old2;
	int r;

	old = push_key(c, name);
	if ((v = get(root, name, &line)) == NULL) {
		pop(c, old);
		return SP_OK;
	}
	if (v->kind != SP_YAML_SEQ)
		return fail(c, v->line, "expected a sequence, got %s", kind_name(v));
	if (v->n > max)
		return fail(c, v->line, "more than %zu items", max);
	if (v->n > 0 && (*arr = calloc(v->n, item_size)) == NULL)
		return SP_ERR_NOMEM;
	for (i = 0; i < v->n; i++) {
		old2 = push(c, "[%zu]", i);
		*count = i + 1;
		if ((r = fn(c, v->items[i], v->items[i]->line,
		    (char *)*arr + i * item_size)) != 0)
			return r;
		pop(c, old2);
		if (c->opts != NULL && c->opts->progress != NULL)
			c->opts->progress(c->opts->progress_arg, name, i + 1,
			    v->n);
	}
	pop(c, old);
	return SP_OK;
}

/* Names and ODETTE IDs unique, routes name defined partners. */
static int
cross_check(struct ctx *c, const struct sp_yaml_node *root,
    const struct sp_site *s)
{
	size_t i, j;

#define SEQ_LINE(sec, i) (get(root, sec, NULL)->items[i]->line)
	for (i = 0; i < s->nlisteners; i++)
		for (j = 0; j < i; j++)
			if (strcmp(s->listeners[i].name, s->listeners[j].name) == 0) {
				push(c, "listeners[%zu].name", i);
				return fail(c, SEQ_LINE("listeners", i),
				    "\"%s\" is already listeners[%zu]",
				    s->listeners[i].name, j);
			}
	for (i = 0; i < s->npartners; i++)
		for (j = 0; j < i; j++)
			if (strcmp(s->partners[i].odette_id,
			    s->partners[j].odette_id) == 0) {
				push(c, "partners[%zu].odette_id", i);
				return fail(c, SEQ_LINE("partners", i),
				    "\"%s\" is already partners[%zu]",
				    s->partners[i].odette_id, j);
			}
	for (i = 0; i < s->nroutes; i++) {
		for (j = 0; j < i; j++)
			if (strcmp(s->routes[i].name, s->routes[j].name) == 0) {
				push(c, "routes[%zu].name", i);
				return fail(c, SEQ_LINE("routes", i),
				    "\"%s\" is already routes[%zu]",
				    s->routes[i].name, j);
			}
		for (j = 0; j < s->npartners; j++)
			if (strcmp(s->routes[i].partner_odette_id,
			    s->partners[j].odette_id) == 0)
				break;
		if (j == s->npartners) {
			push(c, "routes[%zu].partner_odette_id", i);
			return fail(c, SEQ_LINE("routes", i),
			    "no partner \"%s\" in partners",
			    s->routes[i].partner_odette_id);
		}
	}
	/* A revocation entry names a bundle some partner or route uses. */
	for (i = 0; i < s->nrevocations; i++) {
		const char *b = s->revocations[i].ca_bundle;
		bool used = false;

		for (j = 0; j < i; j++)
			if (strcmp(b, s->revocations[j].ca_bundle) == 0) {
				push(c, "revocation[%zu].ca_bundle", i);
				return fail(c, SEQ_LINE("revocation", i),
				    "the same CA bundle as revocation[%zu]", j);
			}
		for (j = 0; j < s->npartners && !used; j++)
			used = s->partners[j].ca_bundle != NULL &&
			    strcmp(b, s->partners[j].ca_bundle) == 0;
		for (j = 0; j < s->nroutes && !used; j++)
			used = s->routes[j].ca_bundle != NULL &&
			    strcmp(b, s->routes[j].ca_bundle) == 0;
		if (!used) {
			push(c, "revocation[%zu].ca_bundle", i);
			return fail(c, SEQ_LINE("revocation", i),
			    "no partner or route has this ca_bundle");
		}
	}
#undef SEQ_LINE
	return SP_OK;
}

static int
item_revocation(struct ctx *c, const struct sp_yaml_node *n, unsigned line,
    void *p)
{
	return parse_revocation(c, n, line, p);
}

static int
item_listener(struct ctx *c, const struct sp_yaml_node *n, unsigned line,
    void *p)
{
	return parse_listener(c, n, line, p);
}

static int
item_partner(struct ctx *c, const struct sp_yaml_node *n, unsigned line,
    void *p)
{
	return parse_partner(c, n, line, p);
}

static int
item_route(struct ctx *c, const struct sp_yaml_node *n, unsigned line, void *p)
{
	return parse_route(c, n, line, p);
}

static int
item_rule(struct ctx *c, const struct sp_yaml_node *n, unsigned line, void *p)
{
	return parse_rule(c, n, line, p);
}

/* Wipe every scalar of the tree (clear passwords) before freeing it. */
static void
wipe_tree(struct sp_yaml_node *n)
{
	size_t i;

	if (n == NULL)
		return;
	if (n->kind == SP_YAML_SCALAR && n->str != NULL)
		explicit_bzero(n->str, n->len);
	for (i = 0; n->kind == SP_YAML_MAP && i < n->n; i++)
		wipe_tree(n->pairs[i].value);
	for (i = 0; n->kind == SP_YAML_SEQ && i < n->n; i++)
		wipe_tree(n->items[i]);
}

static int
parse_root(struct ctx *c, const struct sp_yaml_node *root, struct sp_site *s)
{
	static const char *const keys[] = { "listeners", "partners", "routes",
		"limits", "log_ignore", "modules", "outgoing", "revocation", NULL };
	unsigned line = 1;
	size_t old;
	int r;

	if ((r = check_map(c, root, 1, keys)) != 0)
		return r;
	if ((r = parse_seq(c, root, "listeners", SP_SITE_MAX_LISTENERS,
	    sizeof(*s->listeners), item_listener, (void **)&s->listeners,
	    &s->nlisteners)) != 0 ||
	    (r = parse_seq(c, root, "partners", SP_SITE_MAX_PARTNERS,
	    sizeof(*s->partners), item_partner, (void **)&s->partners,
	    &s->npartners)) != 0 ||
	    (r = parse_seq(c, root, "routes", SP_SITE_MAX_ROUTES,
	    sizeof(*s->routes), item_route, (void **)&s->routes,
	    &s->nroutes)) != 0 ||
	    (r = parse_seq(c, root, "log_ignore", SP_SITE_MAX_RULES,
	    sizeof(*s->rules), item_rule, (void **)&s->rules, &s->nrules)) != 0 ||
	    (r = parse_seq(c, root, "revocation", SP_SITE_MAX_REVOCATIONS,
	    sizeof(*s->revocations), item_revocation, (void **)&s->revocations,
	    &s->nrevocations)) != 0)
		return r;
	old = push_key(c, "limits");
	if ((r = parse_limits(c, get(root, "limits", &line), line,
	    s->limits, &s->limits_given)) != 0)
		return r;
	pop(c, old);
	old = push_key(c, "outgoing");
	if ((r = parse_outgoing(c, get(root, "outgoing", &line), line,
	    &s->outgoing_source)) != 0)
		return r;
	pop(c, old);
	old = push_key(c, "modules");
	if ((r = parse_modules(c, get(root, "modules", &line), line,
	    &s->modules)) != 0)
		return r;
	pop(c, old);
	return cross_check(c, root, s);
}

int
sp_site_parse(const char *name, const void *data, size_t len,
    const struct sp_site_opts *opts, struct sp_site *out, char *err,
    size_t errlen)
{
	static const struct sp_yaml_limits lim = { 16, 200000 };
	struct ctx c = { .opts = opts };
	struct sp_yaml_node *root = NULL;
	struct sp_yaml_error yerr;
	int r;

	sp_yaml_rd_init(&c.rd, name, err, errlen);
	memset(out, 0, sizeof(*out));
	if (len > SP_SITE_MAX_SIZE) {
		snprintf(err, errlen, "%s: larger than %d bytes", name,
		    SP_SITE_MAX_SIZE);
		return SP_ERR_CONFIG;
	}
	memset(&yerr, 0, sizeof(yerr));
	if ((r = sp_yaml_parse(data, len, &lim, &root, &yerr)) != 0) {
		if (r == SP_ERR_NOMEM)
			snprintf(err, errlen, "%s: out of memory", name);
		else if (yerr.line > 0)
			snprintf(err, errlen, "%s:%u: %s", name, yerr.line, yerr.msg);
		else
			snprintf(err, errlen, "%s: %s", name, yerr.msg);
		return r == SP_ERR_NOMEM ? r : SP_ERR_CONFIG;
	}
	if (root == NULL) {
		snprintf(err, errlen, "%s: the file is empty", name);
		return SP_ERR_CONFIG;
	}
	r = parse_root(&c, root, out);
	if (r == SP_ERR_NOMEM)
		snprintf(err, errlen, "%s: out of memory", name);
	wipe_tree(root);
	sp_yaml_free(root);
	if (r != 0)
		sp_site_free(out);
	return r;
}

int
sp_site_load(const char *path, const struct sp_site_opts *opts,
    struct sp_site *out, char *err, size_t errlen)
{
	struct sp_site_opts o = { 0 };
	char *data = NULL, *slash, dir[4096];
	struct stat st;
	int r;

	memset(out, 0, sizeof(*out));
	if (opts != NULL)
		o = *opts;
	if (stat(path, &st) == 0 && st.st_size > SP_SITE_MAX_SIZE) {
		snprintf(err, errlen, "%s: larger than %d bytes", path,
		    SP_SITE_MAX_SIZE);
		return SP_ERR_CONFIG;
	}
	if (o.basedir == NULL) {
		snprintf(dir, sizeof(dir), "%s", path);
		if ((slash = strrchr(dir, '/')) == NULL)
			snprintf(dir, sizeof(dir), ".");
		else if (slash == dir)
			dir[1] = '\0';
		else
			*slash = '\0';
		o.basedir = dir;
	}
	/* The PEM bound is far below the site bound: read the file directly. */
	{
		int fd;
		size_t got = 0;
		ssize_t n;

		if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
			snprintf(err, errlen, "%s: cannot open: %s", path,
			    strerror(errno));
			return SP_ERR_SYSTEM;
		}
		if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
			close(fd);
			snprintf(err, errlen, "%s: not a regular file", path);
			return SP_ERR_CONFIG;
		}
		if (st.st_size > SP_SITE_MAX_SIZE ||
		    (data = malloc((size_t)st.st_size + 1)) == NULL) {
			close(fd);
			snprintf(err, errlen, "%s: %s", path,
			    data ? "too large" : "out of memory");
			return st.st_size > SP_SITE_MAX_SIZE ? SP_ERR_CONFIG :
			    SP_ERR_NOMEM;
		}
		while (got < (size_t)st.st_size) {
			n = read(fd, data + got, (size_t)st.st_size - got);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			got += (size_t)n;
		}
		close(fd);
		if (got != (size_t)st.st_size) {
			free(data);
			snprintf(err, errlen, "%s: cannot read", path);
			return SP_ERR_SYSTEM;
		}
		r = sp_site_parse(path, data, got, &o, out, err, errlen);
		explicit_bzero(data, got);
		free(data);
	}
	return r;
}

void
sp_site_free(struct sp_site *s)
{
	size_t i;

	for (i = 0; i < s->nlisteners; i++) {
		free(s->listeners[i].name);
		free(s->listeners[i].address);
		free(s->listeners[i].chain_pem);
		free_secret(s->listeners[i].key_pem);
		strv_free(&s->listeners[i].proxy_trusted);
	}
	free(s->listeners);
	for (i = 0; i < s->npartners; i++) {
		struct sp_site_partner *p = &s->partners[i];

		free(p->odette_id);
		free(p->description);
		free(p->password_hash);
		strv_free(&p->networks);
		strv_free(&p->pins);
		free(p->ca_bundle);
		free(p->bind);
		free(p->bind_dn);
		free(p->valid_from);
		free(p->valid_until);
	}
	free(s->partners);
	for (i = 0; i < s->nroutes; i++) {
		struct sp_site_route *rt = &s->routes[i];

		free(rt->name);
		free(rt->client_listen);
		free(rt->partner_odette_id);
		free(rt->partner_address);
		free(rt->source_address);
		free(rt->ca_bundle);
		strv_free(&rt->pins);
		free(rt->client_chain);
		free_secret(rt->client_key);
	}
	free(s->routes);
	for (i = 0; i < s->nrules; i++) {
		free(s->rules[i].description);
		free(s->rules[i].match);
		free(s->rules[i].valid_from);
		free(s->rules[i].valid_until);
	}
	free(s->rules);
	for (i = 0; i < s->nrevocations; i++) {
		free(s->revocations[i].ca_bundle);
		free(s->revocations[i].crl);
		strv_free(&s->revocations[i].urls);
	}
	free(s->revocations);
	free(s->outgoing_source);
	if (s->modules != NULL)
		json_object_put(s->modules);
	memset(s, 0, sizeof(*s));
}
