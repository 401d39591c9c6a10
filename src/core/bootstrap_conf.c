/*
 * bootstrap_conf.c - the bootstrap schemas of smartproxy-server and
 * smartproxy-client (structs in bootstrap.h, keys in docs/logging.md for the
 * logging section and in the programs' manuals for the rest).
 *
 * The tables are the single place that says which keys exist, their types,
 * defaults and whether they are required; cross-key rules (a file target
 * needs a directory, module names are unique) are the finish hooks here.
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <smartproxy/module.h>

#include "core/bootstrap.h"
#include "core/bootstrap_verify.h"
#include "core/err.h"
#include "core/net.h"
#include "core/sandbox.h"

/* ---- logging (shared) ---- */

static const struct sp_bs_enum level_values[] = {
	{ "debug", SP_LOG_DEBUG }, { "info", SP_LOG_INFO },
	{ "notice", SP_LOG_NOTICE }, { "warn", SP_LOG_WARN },
	{ "err", SP_LOG_ERR }, { "crit", SP_LOG_CRIT }, { NULL, 0 }
};

static const struct sp_bs_enum format_values[] = {
	{ "text", SP_LOG_FORMAT_TEXT }, { "json", SP_LOG_FORMAT_JSON },
	{ NULL, 0 }
};

static const struct sp_bs_enum target_values[] = {
	{ "file", SP_LOG_TARGET_FILE }, { "syslog", SP_LOG_TARGET_SYSLOG },
	{ "stderr", SP_LOG_TARGET_STDERR }, { NULL, 0 }
};

static const struct sp_bs_enum facility_values[] = {
	{ "daemon", LOG_DAEMON }, { "user", LOG_USER }, { "auth", LOG_AUTH },
	{ "authpriv", LOG_AUTHPRIV },
	{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
	{ "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
	{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
	{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 }, { NULL, 0 }
};

#define TGT(f) offsetof(struct sp_log_target_conf, f)

static const struct sp_bs_key target_keys[] = {
	{ .name = "type", .type = SP_BS_ENUM, .flags = SP_BS_REQUIRED,
	  .offset = TGT(type), .values = target_values },
	{ .name = "level", .type = SP_BS_ENUM, .offset = TGT(level),
	  .values = level_values },
	{ .name = "format", .type = SP_BS_ENUM, .offset = TGT(format),
	  .values = format_values },
	{ .name = "dir", .type = SP_BS_PATH, .offset = TGT(dir) },
	{ .name = "prefix", .type = SP_BS_STRING, .offset = TGT(prefix),
	  .max = 100 },
	{ .name = "keep_days", .type = SP_BS_INT, .offset = TGT(keep_days),
	  .min = 0, .max = 36500 },
	{ .name = "ident", .type = SP_BS_STRING, .offset = TGT(ident),
	  .max = 64 },
	{ .name = "facility", .type = SP_BS_ENUM, .offset = TGT(facility),
	  .values = facility_values },
	{ .name = NULL }
};

static void
target_init(void *obj)
{
	struct sp_log_target_conf *t = obj;

	t->level = SP_LOG_INHERIT;
	t->format = SP_LOG_INHERIT;
	t->facility = -1;
}

static int
valid_prefix(const char *p)
{
	for (; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
		    *p == '.'))
			return 0;
	return 1;
}

static int
target_finish(void *obj, struct sp_bs_ctx *ctx)
{
	struct sp_log_target_conf *t = obj;

	if (t->type == SP_LOG_TARGET_FILE) {
		if (t->dir == NULL)
			return sp_bs_fail(ctx, "dir", "required for a file target");
		if (t->prefix == NULL)
			return sp_bs_fail(ctx, "prefix",
			    "required for a file target");
		if (!valid_prefix(t->prefix) || t->prefix[0] == '.')
			return sp_bs_fail(ctx, "prefix",
			    "only letters, digits, '-', '_' and '.' (not first)");
	} else {
		if (t->dir != NULL)
			return sp_bs_fail(ctx, "dir", "only for a file target");
		if (t->prefix != NULL)
			return sp_bs_fail(ctx, "prefix",
			    "only for a file target");
		if (t->keep_days != 0)
			return sp_bs_fail(ctx, "keep_days",
			    "only for a file target");
	}
	if (t->type == SP_LOG_TARGET_SYSLOG) {
		if (t->facility < 0)
			t->facility = LOG_DAEMON;
	} else {
		if (t->ident != NULL)
			return sp_bs_fail(ctx, "ident",
			    "only for a syslog target");
		if (t->facility >= 0)
			return sp_bs_fail(ctx, "facility",
			    "only for a syslog target");
		t->facility = 0;
	}
	return SP_OK;
}

static const struct sp_bs_section target_section = {
	.keys = target_keys, .item_size = sizeof(struct sp_log_target_conf),
	.init = target_init, .finish = target_finish,
	.verify = sp_bsv_log_target,
};

#define LOGC(f) offsetof(struct sp_log_conf, f)

static const struct sp_bs_key logging_keys[] = {
	{ .name = "level", .type = SP_BS_ENUM, .offset = LOGC(level),
	  .values = level_values, .def = "info" },
	{ .name = "format", .type = SP_BS_ENUM, .offset = LOGC(format),
	  .values = format_values, .def = "text" },
	{ .name = "targets", .type = SP_BS_LIST, .offset = LOGC(targets),
	  .count_offset = LOGC(ntargets), .max = 8,
	  .section = &target_section },
	{ .name = NULL }
};

static int
logging_finish(void *obj, struct sp_bs_ctx *ctx)
{
	struct sp_log_conf *lc = obj;
	char rel[32];
	size_t i, nsyslog = 0;

	for (i = 0; i < lc->ntargets; i++)
		if (lc->targets[i].type == SP_LOG_TARGET_SYSLOG &&
		    ++nsyslog > 1) {
			snprintf(rel, sizeof(rel), "targets[%zu]", i);
			return sp_bs_fail(ctx, rel,
			    "only one syslog target is possible");
		}
	return SP_OK;
}

/* Shared by every program's bootstrap file (smartproxy-api's api.yaml too). */
const struct sp_bs_section sp_bs_logging_section = {
	.keys = logging_keys, .finish = logging_finish,
};

/* ---- server ---- */

#define MOD(f) offsetof(struct sp_module_conf, f)

static const struct sp_bs_enum mode_values[] = {
	{ "enforce", SP_MODE_ENFORCE }, { "detect", SP_MODE_DETECT },
	{ NULL, 0 }
};

static const struct sp_bs_key module_keys[] = {
	{ .name = "name", .type = SP_BS_STRING, .flags = SP_BS_REQUIRED,
	  .offset = MOD(name), .max = 64 },
	{ .name = "path", .type = SP_BS_PATH, .offset = MOD(path) },
	{ .name = "mode", .type = SP_BS_ENUM, .offset = MOD(mode),
	  .values = mode_values, .def = "enforce" },
	{ .name = "options", .type = SP_BS_STRMAP, .offset = MOD(options),
	  .max = 64 },
	{ .name = NULL }
};

static int
module_finish(void *obj, struct sp_bs_ctx *ctx)
{
	const struct sp_module_conf *m = obj;
	const char *p;

	for (p = m->name; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    *p == '_'))
			return sp_bs_fail(ctx, "name",
			    "only a-z, 0-9 and '_', got \"%s\"", m->name);
	return SP_OK;
}

static const struct sp_bs_section module_section = {
	.keys = module_keys, .item_size = sizeof(struct sp_module_conf),
	.finish = module_finish, .verify = sp_bsv_module,
};

#define SRV(f) offsetof(struct sp_server_conf, f)

static const struct sp_bs_enum seccomp_values[] = {
	{ "enforce", SP_SANDBOX_ENFORCE }, { "log", SP_SANDBOX_LOG },
	{ "off", SP_SANDBOX_OFF }, { NULL, 0 }
};

static const struct sp_bs_key server_tunnel_keys[] = {
	{ .name = "listen", .type = SP_BS_ADDR, .flags = SP_BS_REQUIRED,
	  .offset = offsetof(struct sp_server_conf, tunnel.listen) -
	      offsetof(struct sp_server_conf, tunnel) },
	{ .name = NULL }
};

static const struct sp_bs_section server_tunnel_section = {
	.keys = server_tunnel_keys,
};

static const struct sp_bs_key server_keys[] = {
	{ .name = "tunnel", .type = SP_BS_SECTION, .flags = SP_BS_REQUIRED,
	  .offset = SRV(tunnel), .section = &server_tunnel_section },
	{ .name = "state_dir", .type = SP_BS_PATH, .offset = SRV(state_dir),
	  .def = SP_LOCALSTATEDIR "/lib/smartproxy" },
	{ .name = "pairing_file", .type = SP_BS_PATH,
	  .offset = SRV(pairing_file),
	  .def = SP_SYSCONFDIR "/smartproxy/pairing" },
	{ .name = "user", .type = SP_BS_STRING, .offset = SRV(user),
	  .max = 32, .def = SP_DEFAULT_USER },
	{ .name = "chroot", .type = SP_BS_PATH, .offset = SRV(chroot) },
	{ .name = "partner_host", .type = SP_BS_STRING,
	  .offset = SRV(partner_host), .max = 45 },
	{ .name = "seccomp", .type = SP_BS_ENUM, .offset = SRV(seccomp),
	  .values = seccomp_values, .def = "enforce" },
	{ .name = "drain_timeout", .type = SP_BS_INT,
	  .offset = SRV(drain_timeout), .min = 0, .max = 86400, .def = "300" },
	{ .name = "loops", .type = SP_BS_STRING, .offset = SRV(loops),
	  .max = 4, .def = "auto" },
	{ .name = "modules", .type = SP_BS_LIST, .offset = SRV(modules),
	  .count_offset = SRV(nmodules), .max = 32,
	  .section = &module_section },
	{ .name = "logging", .type = SP_BS_SECTION, .offset = SRV(logging),
	  .section = &sp_bs_logging_section },
	{ .name = NULL }
};

static int
server_finish(void *obj, struct sp_bs_ctx *ctx)
{
	const struct sp_server_conf *c = obj;
	struct sp_addr a;
	char rel[40];
	size_t i, j;

	if (c->partner_host != NULL && sp_addr_parse_host(c->partner_host, &a) != 0)
		return sp_bs_fail(ctx, "partner_host",
		    "expected a numeric IPv4 or IPv6 address, got \"%s\"", c->partner_host);
	if (c->loops != NULL && strcmp(c->loops, "auto") != 0) {
		char *end;
		long n = strtol(c->loops, &end, 10);

		if (c->loops[0] < '0' || c->loops[0] > '9' || *end != '\0' || n < 1 || n > 64)
			return sp_bs_fail(ctx, "loops",
			    "expected auto or a number of session loops from 1 to 64, got \"%s\"",
			    c->loops);
	}

	for (i = 1; i < c->nmodules; i++)
		for (j = 0; j < i; j++)
			if (strcmp(c->modules[i].name, c->modules[j].name) == 0) {
				snprintf(rel, sizeof(rel), "modules[%zu].name", i);
				return sp_bs_fail(ctx, rel,
				    "module \"%s\" is already loaded as modules[%zu]",
				    c->modules[i].name, j);
			}
	return SP_OK;
}

static const struct sp_bs_section server_section = {
	.keys = server_keys, .finish = server_finish, .verify = sp_bsv_server,
};

const struct sp_bs_schema sp_server_schema = {
	.name = "smartproxy-server", .root = &server_section,
	.size = sizeof(struct sp_server_conf),
};

/* ---- client ---- */

#define CLI(f) offsetof(struct sp_client_conf, f)
#define IN(sec, f) (offsetof(struct sp_client_conf, sec.f) - \
	offsetof(struct sp_client_conf, sec))

static const struct sp_bs_key client_server_keys[] = {
	{ .name = "address", .type = SP_BS_ADDR, .flags = SP_BS_REQUIRED,
	  .offset = IN(server, address) },
	{ .name = "proxy_id", .type = SP_BS_HEX, .flags = SP_BS_REQUIRED,
	  .offset = IN(server, proxy_id), .min = 64 },
	{ .name = NULL }
};

static const struct sp_bs_section client_server_section = {
	.keys = client_server_keys,
};

static const struct sp_bs_key client_backend_keys[] = {
	{ .name = "url", .type = SP_BS_URL, .flags = SP_BS_REQUIRED,
	  .offset = IN(backend, url) },
	{ .name = "token_file", .type = SP_BS_PATH, .flags = SP_BS_REQUIRED,
	  .offset = IN(backend, token_file) },
	{ .name = "ca_file", .type = SP_BS_PATH, .offset = IN(backend, ca_file) },
	{ .name = "timeout", .type = SP_BS_INT, .offset = IN(backend, timeout),
	  .min = 1, .max = 600, .def = "30" },
	/* The backend calls the proxy stale after three periods without one. */
	{ .name = "heartbeat", .type = SP_BS_INT, .offset = IN(backend, heartbeat),
	  .min = 1, .max = 300, .def = "10" },
	{ .name = NULL }
};

static const struct sp_bs_section client_backend_section = {
	.keys = client_backend_keys,
};

static const struct sp_bs_key client_inside_keys[] = {
	{ .name = "address", .type = SP_BS_ADDR, .flags = SP_BS_REQUIRED,
	  .offset = IN(inside, address) },
	{ .name = NULL }
};

static const struct sp_bs_section client_inside_section = {
	.keys = client_inside_keys,
};

static const struct sp_bs_key client_keyless_keys[] = {
	{ .name = "signatures_per_minute", .type = SP_BS_INT,
	  .offset = IN(keyless, per_minute), .min = 1, .max = 6000000,
	  .def = "120000" },
	{ .name = "keys", .type = SP_BS_STRMAP, .offset = IN(keyless, keys),
	  .max = 32 },
	{ .name = NULL }
};

static const struct sp_bs_section client_keyless_section = {
	.keys = client_keyless_keys,
};

/* crl: how smartproxy-client fetches CRLs from distribution points. */
static const struct sp_bs_key client_crl_keys[] = {
	{ .name = "refresh", .type = SP_BS_INT, .offset = IN(crl, refresh),
	  .min = 1, .max = 86400, .def = "3600" },
	{ .name = "ca_file", .type = SP_BS_PATH, .offset = IN(crl, ca_file) },
	{ .name = NULL }
};

static const struct sp_bs_section client_crl_section = {
	.keys = client_crl_keys,
};

static const struct sp_bs_key client_keys[] = {
	{ .name = "server", .type = SP_BS_SECTION, .flags = SP_BS_REQUIRED,
	  .offset = CLI(server), .section = &client_server_section },
	{ .name = "backend", .type = SP_BS_SECTION, .flags = SP_BS_REQUIRED,
	  .offset = CLI(backend), .section = &client_backend_section },
	{ .name = "inside", .type = SP_BS_SECTION, .flags = SP_BS_REQUIRED,
	  .offset = CLI(inside), .section = &client_inside_section },
	{ .name = "keyless", .type = SP_BS_SECTION, .offset = CLI(keyless),
	  .section = &client_keyless_section },
	{ .name = "crl", .type = SP_BS_SECTION, .offset = CLI(crl),
	  .section = &client_crl_section },
	{ .name = "state_dir", .type = SP_BS_PATH, .offset = CLI(state_dir),
	  .def = SP_LOCALSTATEDIR "/lib/smartproxy-client" },
	{ .name = "drain_timeout", .type = SP_BS_INT,
	  .offset = CLI(drain_timeout), .min = 0, .max = 86400, .def = "300" },
	{ .name = "logging", .type = SP_BS_SECTION, .offset = CLI(logging),
	  .section = &sp_bs_logging_section },
	{ .name = NULL }
};

static const struct sp_bs_section client_section = {
	.keys = client_keys, .verify = sp_bsv_client,
};

const struct sp_bs_schema sp_client_schema = {
	.name = "smartproxy-client", .root = &client_section,
	.size = sizeof(struct sp_client_conf),
};
