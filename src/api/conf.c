/*
 * conf.c - the api.yaml schema and bearer tokens (see conf.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "api/conf.h"
#include "api/db.h"
#include "api/pwhash.h"
#include "core/bootstrap_verify.h"
#include "core/err.h"
#include "core/net.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

/* logging: the same section as the other daemons (core/bootstrap.h). */

/* ---- api.yaml ---- */

#define TOK(f) offsetof(struct sp_api_token_conf, f)

static const struct sp_bs_enum roles[] = {
	{ "admin", SP_ROLE_ADMIN },
	{ "proxy", SP_ROLE_PROXY },
	{ "read", SP_ROLE_READ },
	{ NULL, 0 }
};

static const struct sp_bs_key token_keys[] = {
	{ .name = "name", .type = SP_BS_STRING, .flags = SP_BS_REQUIRED,
	  .offset = TOK(name), .max = 64 },
	{ .name = "file", .type = SP_BS_PATH, .offset = TOK(file) },
	{ .name = "sha256", .type = SP_BS_HEX, .offset = TOK(sha256), .min = 64 },
	{ .name = "role", .type = SP_BS_ENUM, .flags = SP_BS_REQUIRED,
	  .offset = TOK(role), .values = roles },
	{ .name = NULL }
};

static int
token_finish(void *obj, struct sp_bs_ctx *ctx)
{
	const struct sp_api_token_conf *t = obj;

	if ((t->file == NULL) == (t->sha256 == NULL))
		return sp_bs_fail(ctx, t->file ? "sha256" : "file",
		    "give exactly one of file and sha256");
	return SP_OK;
}

static const struct sp_bs_section token_section = {
	.keys = token_keys, .item_size = sizeof(struct sp_api_token_conf),
	.finish = token_finish,
};

#define API(f) offsetof(struct sp_api_conf, f)
#define LIM(f) offsetof(struct sp_api_limits, f)
#define IN(sec, f) (offsetof(struct sp_api_conf, sec.f) - \
	offsetof(struct sp_api_conf, sec))

static const struct sp_bs_key tls_keys[] = {
	{ .name = "certificate", .type = SP_BS_PATH, .flags = SP_BS_REQUIRED,
	  .offset = IN(tls, certificate) },
	{ .name = "key", .type = SP_BS_PATH, .flags = SP_BS_REQUIRED,
	  .offset = IN(tls, key) },
	{ .name = NULL }
};

static const struct sp_bs_section tls_section = { .keys = tls_keys };

static const struct sp_bs_key script_keys[] = {
	{ .name = "path", .type = SP_BS_PATH, .offset = IN(event_script, path) },
	{ .name = "timeout", .type = SP_BS_INT,
	  .offset = IN(event_script, timeout), .min = 1, .max = 3600,
	  .def = "30" },
	{ .name = NULL }
};

static const struct sp_bs_section script_section = { .keys = script_keys };

static const struct sp_bs_key panel_keys[] = {
	{ .name = "directory", .type = SP_BS_PATH,
	  .offset = IN(panel, directory) },
	{ .name = "idle_timeout", .type = SP_BS_INT,
	  .offset = IN(panel, idle_timeout), .min = 60, .max = 86400,
	  .def = "900" },
	{ .name = NULL }
};

static const struct sp_bs_section panel_section = { .keys = panel_keys };

static const struct sp_bs_key limits_keys[] = {
	{ .name = "max_connections", .type = SP_BS_INT,
	  .offset = LIM(max_connections), .min = 2, .max = 10000,
	  .def = "256" },
	{ .name = "per_address", .type = SP_BS_INT,
	  .offset = LIM(per_address), .min = 1, .max = 10000,
	  .def = "40" },
	{ .name = "header_timeout", .type = SP_BS_INT,
	  .offset = LIM(header_timeout), .min = 1, .max = 3600,
	  .def = "10" },
	{ .name = "body_timeout", .type = SP_BS_INT,
	  .offset = LIM(body_timeout), .min = 1, .max = 3600,
	  .def = "30" },
	{ .name = "idle_timeout", .type = SP_BS_INT,
	  .offset = LIM(idle_timeout), .min = 1, .max = 3600,
	  .def = "90" },
	{ .name = NULL }
};

static int
limits_finish(void *obj, struct sp_bs_ctx *ctx)
{
	const struct sp_api_limits *l = obj;

	/* Equal limits are how one address locked everyone out. */
	if (l->per_address >= l->max_connections)
		return sp_bs_fail(ctx, "per_address", "must be below "
		    "max_connections (%d), or one address can take them all",
		    l->max_connections);
	return SP_OK;
}

static const struct sp_bs_section limits_section = {
	.keys = limits_keys, .finish = limits_finish,
};

static const struct sp_bs_key api_keys[] = {
	{ .name = "listen", .type = SP_BS_STRING, .flags = SP_BS_REQUIRED,
	  .offset = API(listen), .max = SP_ADDR_TEXT },
	{ .name = "tls", .type = SP_BS_SECTION, .flags = SP_BS_REQUIRED,
	  .offset = API(tls), .section = &tls_section },
	/* An absolute path (SQLite) or a libpq connection string. */
	{ .name = "database", .type = SP_BS_STRING, .flags = SP_BS_REQUIRED,
	  .offset = API(database), .max = 4095 },
	{ .name = "max_waiting", .type = SP_BS_INT, .offset = API(max_waiting),
	  .min = 1, .max = 1000, .def = "64" },
	{ .name = "limits", .type = SP_BS_SECTION, .offset = API(limits),
	  .section = &limits_section },
	{ .name = "tokens", .type = SP_BS_LIST, .flags = SP_BS_REQUIRED,
	  .offset = API(tokens), .count_offset = API(ntokens), .max = 64,
	  .section = &token_section },
	{ .name = "event_script", .type = SP_BS_SECTION,
	  .offset = API(event_script), .section = &script_section },
	{ .name = "panel", .type = SP_BS_SECTION, .offset = API(panel),
	  .section = &panel_section },
	{ .name = "logging", .type = SP_BS_SECTION, .offset = API(logging),
	  .section = &sp_bs_logging_section },
	{ .name = NULL }
};

/*
 * database: an absolute path is an SQLite file; a postgresql:// URL or a
 * libpq keyword string (db.h) is checked for syntax only, here and in
 * --check: whether the server answers is the daemon's start-up error, so a
 * check on a build host does not need the database.
 */
static int
check_database(struct sp_bs_ctx *ctx, const char *db)
{
	PQconninfoOption *opts;
	char *msg = NULL;

	if (sp_db_engine_of(db) == SP_DB_SQLITE) {
		if (db[0] != '/')
			return sp_bs_fail(ctx, "database", "expected an absolute "
			    "path (SQLite) or a postgresql:// URL, got \"%s\"", db);
		return SP_OK;
	}
	if ((opts = PQconninfoParse(db, &msg)) == NULL) {
		/* libpq's message quotes the bad part, never the password. */
		sp_bs_fail(ctx, "database", "not a PostgreSQL connection "
		    "string: %s", msg != NULL ? msg : "out of memory");
		PQfreemem(msg);
		return SP_ERR_CONFIG;
	}
	PQconninfoFree(opts);
	return SP_OK;
}

/* A password written in the connection string. */
static bool
database_has_password(const char *db)
{
	PQconninfoOption *opts, *o;
	bool has = false;

	if (sp_db_engine_of(db) != SP_DB_PG ||
	    (opts = PQconninfoParse(db, NULL)) == NULL)
		return false;
	for (o = opts; o->keyword != NULL; o++)
		if (strcmp(o->keyword, "password") == 0 && o->val != NULL &&
		    o->val[0] != '\0')
			has = true;
	PQconninfoFree(opts);
	return has;
}

static int
api_finish(void *obj, struct sp_bs_ctx *ctx)
{
	const struct sp_api_conf *c = obj;
	struct sp_addr a;

	if (sp_addr_parse(c->listen, &a) != 0)
		return sp_bs_fail(ctx, "listen", "expected a numeric host:port "
		    "(port 0: any free port), got \"%s\"", c->listen);
	if (c->ntokens == 0)
		return sp_bs_fail(ctx, "tokens", "at least one token is needed");
	return check_database(ctx, c->database);
}

/*
 * What api.yaml means on this host (--check, and before the port opens):
 * the TLS files and token files readable, the database's directory there,
 * the event script executable. Token files are not held to "not readable by
 * everyone" here as the client's token_file is: they are often the same
 * file, copied, and the mode is the operator's call (docs/operations.md).
 */
static int
api_verify(void *obj, struct sp_bs_ctx *ctx)
{
	const struct sp_api_conf *c = obj;
	char rel[40], dir[4096], *slash;
	struct stat sb;
	size_t i;
	int r;

	if ((r = sp_bsv_file(ctx, "tls.certificate", c->tls.certificate, false)) != 0 ||
	    (r = sp_bsv_file(ctx, "tls.key", c->tls.key, false)) != 0)
		return r;
	for (i = 0; i < c->ntokens; i++) {
		if (c->tokens[i].file == NULL)
			continue;
		snprintf(rel, sizeof(rel), "tokens[%zu].file", i);
		if ((r = sp_bsv_file(ctx, rel, c->tokens[i].file, false)) != 0)
			return r;
	}
	if (sp_db_engine_of(c->database) == SP_DB_SQLITE) {
		snprintf(dir, sizeof(dir), "%s", c->database);
		if ((slash = strrchr(dir, '/')) != NULL)
			slash[slash == dir ? 1 : 0] = '\0';
		if ((r = sp_bsv_dir(ctx, "database", dir)) != 0)
			return r;
	} else if (database_has_password(c->database) &&
	    (stat(sp_bs_file(ctx), &sb) != 0 || (sb.st_mode & 077) != 0))
		/* The token files' rule is the operator's call; a database
		 * password in a readable file is everybody's database. */
		return sp_bs_fail(ctx, "database", "holds a password, but %s "
		    "is readable by others: chmod 600 it, or keep the password "
		    "in a passfile (passfile=, ~/.pgpass)", sp_bs_file(ctx));
	if (c->event_script.path != NULL) {
		if ((r = sp_bsv_file(ctx, "event_script.path", c->event_script.path, false)) != 0)
			return r;
		if (access(c->event_script.path, X_OK) != 0)
			return sp_bs_fail(ctx, "event_script.path", "%s: not executable",
			    c->event_script.path);
	}
	return SP_OK;
}

static const struct sp_bs_section api_section = {
	.keys = api_keys, .finish = api_finish, .verify = api_verify,
};

const struct sp_bs_schema sp_api_schema = {
	.name = "smartproxy-api", .root = &api_section,
	.size = sizeof(struct sp_api_conf),
};

int
sp_api_conf_load(const char *path, struct sp_api_conf *c, char *err,
    size_t errlen)
{
	/* Checked: every caller is about to use the files (run, import). */
	return sp_bootstrap_load_checked(path, &sp_api_schema, c, err, errlen);
}

void
sp_api_conf_free(struct sp_api_conf *c)
{
	sp_bootstrap_free(&sp_api_schema, c);
}

/* ---- tokens ---- */

int
sp_api_token_valid(const char *s, size_t len)
{
	size_t i;

	if (len < SP_TOKEN_MIN || len > SP_TOKEN_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f)
			return 0;
	return 1;
}

static int
read_token(const char *path, unsigned char digest[32], char *err,
    size_t errlen)
{
	char buf[SP_TOKEN_MAX + 3];
	size_t len = 0;
	ssize_t n;
	int fd, r = SP_OK;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return SP_ERR_SYSTEM;
	}
	while (len < sizeof(buf) - 1 &&
	    (n = read(fd, buf + len, sizeof(buf) - 1 - len)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "%s: cannot read: %s", path,
			    strerror(errno));
			r = SP_ERR_SYSTEM;
			goto out;
		}
		len += (size_t)n;
	}
	buf[len] = '\0';
	len = strcspn(buf, "\r\n");
	if (!sp_api_token_valid(buf, len)) {
		snprintf(err, errlen, "%s: the first line must be a token of "
		    "%d to %d printable characters without spaces", path,
		    SP_TOKEN_MIN, SP_TOKEN_MAX);
		r = SP_ERR_CONFIG;
		goto out;
	}
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, buf, len, digest) != 0)
		r = SP_ERR_TLS;
out:
	explicit_bzero(buf, sizeof(buf));
	close(fd);
	return r;
}

int
sp_api_tokens_load(const struct sp_api_conf *c, struct sp_api_tokens *out,
    char *err, size_t errlen)
{
	size_t i;
	int r;

	memset(out, 0, sizeof(*out));
	if ((out->v = calloc(c->ntokens ? c->ntokens : 1, sizeof(*out->v))) ==
	    NULL)
		return SP_ERR_NOMEM;
	for (i = 0; i < c->ntokens; i++) {
		const struct sp_api_token_conf *tc = &c->tokens[i];

		snprintf(out->v[i].name, sizeof(out->v[i].name), "%s", tc->name);
		out->v[i].role = (enum sp_role)tc->role;
		if (tc->file != NULL)
			r = read_token(tc->file, out->v[i].digest, err, errlen);
		else
			r = sp_hex_decode(tc->sha256, strlen(tc->sha256),
			    out->v[i].digest, 32) == 0 ? SP_OK : SP_ERR_CONFIG;
		if (r != 0) {
			sp_api_tokens_free(out);
			return r;
		}
		out->n = i + 1;
	}
	return SP_OK;
}

void
sp_api_tokens_free(struct sp_api_tokens *t)
{
	free(t->v);
	t->v = NULL;
	t->n = 0;
}

const struct sp_api_token *
sp_api_tokens_check(const struct sp_api_tokens *t, const char *header)
{
	const struct sp_api_token *hit = NULL;
	unsigned char digest[32];
	const char *tok;
	size_t i, len;

	if (header == NULL || strncasecmp(header, "Bearer ", 7) != 0)
		return NULL;
	tok = header + 7;
	while (*tok == ' ')
		tok++;
	len = strlen(tok);
	if (!sp_api_token_valid(tok, len) ||
	    gnutls_hash_fast(GNUTLS_DIG_SHA256, tok, len, digest) != 0)
		return NULL;
	/* No early exit: the time does not depend on which token matched. */
	for (i = 0; i < t->n; i++)
		if (sp_ct_equal(digest, t->v[i].digest, 32))
			hit = &t->v[i];
	return hit;
}
