/*
 * export.c - the store as a site file (see export.h). Works from the
 * rendered configuration document, so what is exported is exactly what the
 * proxy is served: one read transaction, one revision.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/export.h"
#include "api/site.h"
#include "api/store.h"
#include "core/err.h"

struct exp {
	FILE *f;              /* the site file being built (memory) */
	char dir[4096];       /* FILE.d, absolute or as given */
	char rel[1024];       /* its name relative to FILE's directory */
	struct sp_export_stats *stats;
	char *err;
	size_t errlen;
};

/* ---- scalars ---- */

/* A string as a YAML double-quoted scalar (JSON escapes are YAML's). */
static void
q(FILE *f, const char *s)
{
	json_object *o = json_object_new_string(s != NULL ? s : "");

	fputs(o != NULL ? json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_NOSLASHESCAPE) : "\"\"", f);
	json_object_put(o);
}

/* Any JSON value in flow style (JSON is YAML flow syntax). */
static void
flow(FILE *f, json_object *v)
{
	fputs(v != NULL ? json_object_to_json_string_ext(v,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE) : "null", f);
}

static const char *
str(json_object *o, const char *key)
{
	json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) || v == NULL ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static json_object *
mem(json_object *o, const char *key)
{
	json_object *v;

	return o != NULL && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

/* `  key: "value"` when the member is a string (null: left out). */
static void
kv_str(FILE *f, const char *indent, json_object *o, const char *key)
{
	const char *s = str(o, key);

	if (s != NULL) {
		fprintf(f, "%s%s: ", indent, key);
		q(f, s);
		fputc('\n', f);
	}
}

/* `  key: value` for booleans, integers and arrays (flow). */
static void
kv_flow(FILE *f, const char *indent, json_object *o, const char *key)
{
	json_object *v = mem(o, key);

	if (v != NULL) {
		fprintf(f, "%s%s: ", indent, key);
		flow(f, v);
		fputc('\n', f);
	}
}

/*
 * A PEM member written to FILE.d/<name> (0600) and named in the site file
 * as `key: FILE.d/<name>`; nothing when the member is null.
 */
static int
kv_pem(struct exp *x, const char *indent, json_object *o, const char *key,
    const char *name)
{
	const char *pem = str(o, key);
	char path[4600];
	size_t len;
	int fd;

	if (pem == NULL)
		return SP_OK;
	snprintf(path, sizeof(path), "%s/%s", x->dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	len = strlen(pem);
	if (fd < 0 || write(fd, pem, len) != (ssize_t)len || fchmod(fd, 0600)
	    != 0 || close(fd) != 0) {
		snprintf(x->err, x->errlen, "%s: cannot write: %s", path,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		return SP_ERR_SYSTEM;
	}
	x->stats->files++;
	fprintf(x->f, "%s%s: ", indent, key);
	snprintf(path, sizeof(path), "%s/%s", x->rel, name);
	q(x->f, path);
	fputc('\n', x->f);
	return SP_OK;
}

/* ---- one function per section ---- */

static int
export_listener(struct exp *x, json_object *l)
{
	const char *name = str(l, "name");
	json_object *tls = mem(l, "tls"), *pp = mem(l, "proxy_protocol");
	char f1[128], f2[128];
	int r;

	fputs("  - name: ", x->f);
	q(x->f, name);
	fputc('\n', x->f);
	kv_str(x->f, "    ", l, "address");
	if (tls != NULL) {
		fputs("    tls:\n", x->f);
		snprintf(f1, sizeof(f1), "listener-%s-chain.pem", name);
		snprintf(f2, sizeof(f2), "listener-%s-key.pem", name);
		if ((r = kv_pem(x, "      ", tls, "certificate_chain", f1)) != 0)
			return r;
		if (mem(tls, "private_key") == NULL)
			fputs("      key: inside\n", x->f);
		else if ((r = kv_pem(x, "      ", tls, "private_key", f2)) != 0)
			return r;
		kv_flow(x->f, "      ", tls, "require_client_cert");
	}
	/* Behind a balancer: its trusted networks (null: no PROXY protocol). */
	if (pp != NULL) {
		fputs("    proxy_protocol:\n", x->f);
		kv_flow(x->f, "      ", pp, "trusted");
	}
	x->stats->listeners++;
	return SP_OK;
}

static int
export_partner(struct exp *x, json_object *p)
{
	const char *id = str(p, "odette_id");
	json_object *tls = mem(p, "tls");
	char f1[128];
	int r;

	fputs("  - odette_id: ", x->f);
	q(x->f, id);
	fputc('\n', x->f);
	kv_str(x->f, "    ", p, "description");
	kv_str(x->f, "    ", p, "password_hash");
	kv_flow(x->f, "    ", p, "allowed_networks");
	if (tls != NULL) {
		fputs("    tls:\n", x->f);
		kv_flow(x->f, "      ", tls, "require_client_cert");
		kv_flow(x->f, "      ", tls, "pins");
		kv_str(x->f, "      ", tls, "bind");
		kv_str(x->f, "      ", tls, "bind_dn");
		snprintf(f1, sizeof(f1), "partner-%s-ca.pem", id);
		if ((r = kv_pem(x, "      ", tls, "ca_bundle", f1)) != 0)
			return r;
	}
	kv_flow(x->f, "    ", p, "max_sessions");
	kv_flow(x->f, "    ", p, "enabled");
	kv_str(x->f, "    ", p, "valid_from");
	kv_str(x->f, "    ", p, "valid_until");
	x->stats->partners++;
	return SP_OK;
}

static int
export_route(struct exp *x, json_object *rt)
{
	const char *name = str(rt, "name");
	json_object *tls = mem(rt, "tls");
	char f1[128], f2[128], f3[128];
	int r;

	fputs("  - name: ", x->f);
	q(x->f, name);
	fputc('\n', x->f);
	kv_str(x->f, "    ", rt, "client_listen");
	kv_str(x->f, "    ", rt, "partner_odette_id");
	kv_str(x->f, "    ", rt, "partner_address");
	kv_str(x->f, "    ", rt, "source_address");
	if (tls != NULL) {
		fputs("    tls:\n", x->f);
		snprintf(f1, sizeof(f1), "route-%s-ca.pem", name);
		snprintf(f2, sizeof(f2), "route-%s-client-chain.pem", name);
		snprintf(f3, sizeof(f3), "route-%s-client-key.pem", name);
		if ((r = kv_pem(x, "      ", tls, "ca_bundle", f1)) != 0)
			return r;
		kv_flow(x->f, "      ", tls, "pins");
		if ((r = kv_pem(x, "      ", tls, "client_certificate_chain",
		    f2)) != 0 ||
		    (r = kv_pem(x, "      ", tls, "client_private_key", f3)) != 0)
			return r;
	}
	x->stats->routes++;
	return SP_OK;
}

static int
export_rule(struct exp *x, json_object *ru)
{
	fputs("  - description: ", x->f);
	q(x->f, str(ru, "description"));
	fputc('\n', x->f);
	kv_str(x->f, "    ", ru, "match");
	kv_str(x->f, "    ", ru, "valid_from");
	kv_str(x->f, "    ", ru, "valid_until");
	x->stats->rules++;
	return SP_OK;
}

static int
export_limits(struct exp *x, json_object *limits)
{
	size_t i;

	fputs("limits:\n", x->f);
	for (i = 0; i < SP_LIMIT_COUNT; i++)
		kv_flow(x->f, "  ", limits, sp_limit_defs[i].name);
	return SP_OK;
}

static int
export_outgoing(struct exp *x, json_object *og)
{
	if (str(og, "source_address") == NULL)
		return SP_OK;
	fputs("outgoing:\n", x->f);
	kv_str(x->f, "  ", og, "source_address");
	return SP_OK;
}

/*
 * Module sections in flow style, without the members the site fills from
 * its own sections (partner.partners, log_ignore.rules); a section left
 * empty by that is not written.
 */
static int
export_modules(struct exp *x, json_object *mods)
{
	json_object *copy;
	bool any = false;

	json_object_object_foreach(mods, name, sec) {
		if (sec == NULL || !json_object_is_type(sec, json_type_object))
			continue;
		copy = NULL;   /* json-c wants an empty slot */
		if (json_object_deep_copy(sec, &copy, NULL) != 0) {
			snprintf(x->err, x->errlen, "modules.%s: cannot copy",
			    name);
			return SP_ERR_NOMEM;
		}
		if (strcmp(name, "partner") == 0)
			json_object_object_del(copy, "partners");
		if (strcmp(name, "log_ignore") == 0)
			json_object_object_del(copy, "rules");
		if ((strcmp(name, "partner") == 0 ||
		    strcmp(name, "log_ignore") == 0) &&
		    json_object_object_length(copy) == 0) {
			json_object_put(copy);
			continue;
		}
		if (!any)
			fputs("modules:\n", x->f);
		any = true;
		fprintf(x->f, "  %s: ", name);
		flow(x->f, copy);
		fputc('\n', x->f);
		json_object_put(copy);
	}
	return SP_OK;
}

/* ---- the file ---- */

/*
 * PEM files an earlier export left in FILE.d that this one may not write
 * again (a listener since removed): a stale private key must not stay
 * behind. Only names of our own pattern are removed.
 */
static void
sweep_dir(const char *dir)
{
	static const char *const prefixes[] = { "listener-", "partner-",
		"route-", "revocation-" };
	struct dirent *de;
	size_t i, n;
	DIR *d;
	int fd;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		n = strlen(de->d_name);
		if (n < 5 || strcmp(de->d_name + n - 4, ".pem") != 0)
			continue;
		for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
			if (strncmp(de->d_name, prefixes[i], strlen(prefixes[i])) == 0)
				(void)unlinkat(dirfd(d), de->d_name, 0);
	}
	closedir(d);
}

/* One tls object's revocation (as the store renders it: tls.crl, tls.crl_urls,
 * tls.crl_expired on every tls with a ca_bundle): worth an entry when it says
 * anything beyond the defaults. */
static bool
has_revocation(json_object *tls)
{
	json_object *urls = mem(tls, "crl_urls");
	const char *pol = str(tls, "crl_expired");

	return str(tls, "crl") != NULL || (pol != NULL &&
	    strcmp(pol, "fail_open") == 0) || (urls != NULL &&
	    json_object_is_type(urls, json_type_array) &&
	    json_object_array_length(urls) > 0);
}

/*
 * revocation[]: one entry per distinct CA bundle of a partner or route (the
 * store keys them by the bundle's text), its own copy of the bundle (same
 * text, so the same key on import), the CRLs the store keeps for it as the
 * site file's starting CRL, the distribution points and the policy.
 */
static int
export_revocation(struct exp *x, json_object *partners, json_object *routes)
{
	json_object *lists[2] = { partners, routes }, *seen;
	char f1[128], f2[128];
	size_t l, i, n = 0;
	int r = SP_OK;

	if ((seen = json_object_new_object()) == NULL)
		return SP_ERR_NOMEM;
	for (l = 0; r == SP_OK && l < 2; l++) {
		size_t len = lists[l] != NULL && json_object_is_type(lists[l],
		    json_type_array) ? json_object_array_length(lists[l]) : 0;

		for (i = 0; r == SP_OK && i < len; i++) {
			json_object *tls = mem(json_object_array_get_idx(lists[l],
			    i), "tls");
			const char *ca = tls != NULL ? str(tls, "ca_bundle") : NULL;
			char id[65];

			if (ca == NULL || !has_revocation(tls))
				continue;
			if (sp_site_bundle_id(ca, id) != 0) {
				r = SP_ERR_NOMEM;
				break;
			}
			if (json_object_object_get_ex(seen, id, NULL))
				continue;
			json_object_object_add(seen, id, NULL);
			if (n++ == 0)
				fputs("revocation:\n", x->f);
			snprintf(f1, sizeof(f1), "revocation-%zu-ca.pem", n);
			snprintf(f2, sizeof(f2), "revocation-%zu-crl.pem", n);
			fputs("  - ", x->f);
			if ((r = kv_pem(x, "", tls, "ca_bundle", f1)) != 0 ||
			    (r = kv_pem(x, "    ", tls, "crl", f2)) != 0)
				break;
			kv_flow(x->f, "    ", tls, "crl_urls");
			kv_str(x->f, "    ", tls, "crl_expired");
		}
	}
	json_object_put(seen);
	return r;
}

typedef int (*item_fn)(struct exp *, json_object *);

static int
export_list(struct exp *x, const char *key, json_object *arr, item_fn fn)
{
	size_t i, n = arr != NULL && json_object_is_type(arr, json_type_array) ?
	    json_object_array_length(arr) : 0;
	int r;

	if (n == 0)
		return SP_OK;
	fprintf(x->f, "%s:\n", key);
	for (i = 0; i < n; i++)
		if ((r = fn(x, json_object_array_get_idx(arr, i))) != 0)
			return r;
	return SP_OK;
}

static int
export_doc(struct exp *x, json_object *doc, int64_t rev)
{
	json_object *mods = mem(doc, "modules");
	int r;

	fprintf(x->f, "# smartproxy-api --export: revision %lld, generated %s\n"
	    "# PEM files in %s/; passwords are stored hashes (password_hash)\n",
	    (long long)rev, str(doc, "generated") ? str(doc, "generated") : "",
	    x->rel);
	if ((r = export_list(x, "listeners", mem(doc, "listeners"),
	    export_listener)) != 0 ||
	    (r = export_list(x, "partners", mem(mem(mods, "partner"),
	    "partners"), export_partner)) != 0 ||
	    (r = export_list(x, "routes", mem(doc, "routes"),
	    export_route)) != 0 ||
	    (r = export_revocation(x, mem(mem(mods, "partner"), "partners"),
	    mem(doc, "routes"))) != 0 ||
	    (r = export_outgoing(x, mem(doc, "outgoing"))) != 0 ||
	    (r = export_limits(x, mem(doc, "limits"))) != 0 ||
	    (r = export_list(x, "log_ignore", mem(mem(mods, "log_ignore"),
	    "rules"), export_rule)) != 0 ||
	    (r = export_modules(x, mods)) != 0)
		return r;
	return SP_OK;
}

/* Write `len` bytes to `path` through a private temporary and a rename. */
static int
write_private(const char *path, const char *data, size_t len, char *err,
    size_t errlen)
{
	char tmp[4200];
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len || fsync(fd) != 0 ||
	    close(fd) != 0 || rename(tmp, path) != 0) {
		snprintf(err, errlen, "%s: cannot write: %s", path,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(tmp);
		return SP_ERR_SYSTEM;
	}
	return SP_OK;
}

int
sp_export_write(struct sp_store *st, const char *path,
    struct sp_export_stats *stats, char *err, size_t errlen)
{
	struct sp_export_stats none;
	struct exp x;
	json_object *doc = NULL;
	const char *base = strrchr(path, '/');
	char *text = NULL;
	size_t len = 0;
	int64_t rev;
	int r;

	memset(&x, 0, sizeof(x));
	x.stats = stats != NULL ? stats : &none;
	memset(x.stats, 0, sizeof(*x.stats));
	x.err = err;
	x.errlen = errlen;
	base = base != NULL ? base + 1 : path;
	if (*base == '\0' || strlen(path) > 3000) {
		snprintf(err, errlen, "%s: expected a file name", path);
		return SP_ERR_INVALID;
	}
	snprintf(x.dir, sizeof(x.dir), "%s.d", path);
	snprintf(x.rel, sizeof(x.rel), "%s.d", base);
	if (mkdir(x.dir, 0700) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: cannot create: %s", x.dir,
		    strerror(errno));
		return SP_ERR_SYSTEM;
	}
	sweep_dir(x.dir);
	if ((r = sp_store_render(st, &doc, &rev)) != 0) {
		snprintf(err, errlen, "cannot read the configuration: %s",
		    sp_store_errmsg(st));
		return r;
	}
	if ((x.f = open_memstream(&text, &len)) == NULL) {
		json_object_put(doc);
		return SP_ERR_NOMEM;
	}
	err[0] = '\0';
	r = export_doc(&x, doc, rev);
	if (fclose(x.f) != 0 && r == 0)
		r = SP_ERR_NOMEM;
	if (r != 0 && err[0] == '\0')
		snprintf(err, errlen, "%s", sp_strerror(r));
	if (r == 0)
		r = write_private(path, text, len, err, errlen);
	if (text != NULL) {
		explicit_bzero(text, len);
		free(text);
	}
	json_object_put(doc);
	return r;
}
