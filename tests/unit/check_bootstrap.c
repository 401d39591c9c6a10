/*
 * check_bootstrap.c - the bootstrap reader: good files decode to the expected
 * values; every kind of bad file gives its exact error line.
 * Data files: tests/unit/data/bootstrap/ (SP_BOOTSTRAP_DATA).
 */
#include "config.h"

#include "core/bootstrap.h"
#include "core/err.h"
#include "core/sandbox.h"

#include <smartproxy/module.h>

#include <check.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#define DATA SP_BOOTSTRAP_DATA

static char errline[SP_BOOTSTRAP_ERR_MAX];

START_TEST(server_full)
{
	struct sp_server_conf c;
	struct sp_log_target_conf *t;

	ck_assert_int_eq(sp_server_conf_load(DATA "/server-good.yaml", &c,
	    errline, sizeof(errline)), SP_OK);
	ck_assert_str_eq(c.tunnel.listen.host, "127.0.0.1");
	ck_assert_uint_eq(c.tunnel.listen.port, 7443);
	ck_assert_str_eq(c.state_dir, "/var/lib/smartproxy");
	ck_assert_str_eq(c.pairing_file, "/etc/smartproxy/pairing");
	ck_assert_str_eq(c.user, "smartproxy");
	ck_assert_str_eq(c.chroot, "/var/lib/smartproxy/empty");
	ck_assert_int_eq(c.seccomp, SP_SANDBOX_LOG);
	ck_assert_uint_eq(c.nmodules, 2);
	ck_assert_str_eq(c.modules[0].name, "oftp2");
	ck_assert_str_eq(c.modules[0].path,
	    "/usr/lib/smartproxy/modules/oftp2.so");
	ck_assert_int_eq(c.modules[0].mode, SP_MODE_ENFORCE);
	ck_assert_ptr_nonnull(c.modules[0].options);
	ck_assert_str_eq(c.modules[0].options[0], "max_sessions");
	ck_assert_str_eq(c.modules[0].options[1], "64");
	ck_assert_str_eq(c.modules[0].options[2], "strict-sfid");
	ck_assert_str_eq(c.modules[0].options[3], "yes");
	ck_assert_ptr_null(c.modules[0].options[4]);
	ck_assert_str_eq(c.modules[1].name, "partner");
	ck_assert_ptr_null(c.modules[1].path);
	ck_assert_int_eq(c.modules[1].mode, SP_MODE_DETECT);
	ck_assert_ptr_null(c.modules[1].options);
	ck_assert_int_eq(c.logging.level, SP_LOG_INFO);
	ck_assert_int_eq(c.logging.format, SP_LOG_FORMAT_TEXT);
	ck_assert_uint_eq(c.logging.ntargets, 3);
	t = c.logging.targets;
	ck_assert_int_eq(t[0].type, SP_LOG_TARGET_FILE);
	ck_assert_str_eq(t[0].dir, "/var/log/smartproxy");
	ck_assert_str_eq(t[0].prefix, "smartproxy-server");
	ck_assert_int_eq(t[0].level, SP_LOG_INHERIT);
	ck_assert_int_eq(t[0].format, SP_LOG_INHERIT);
	ck_assert_int_eq(t[1].type, SP_LOG_TARGET_SYSLOG);
	ck_assert_int_eq(t[1].facility, LOG_DAEMON);
	ck_assert_ptr_null(t[1].ident);
	ck_assert_int_eq(t[2].type, SP_LOG_TARGET_STDERR);
	ck_assert_int_eq(t[2].level, SP_LOG_WARN);
	ck_assert_int_eq(t[2].format, SP_LOG_FORMAT_JSON);
	sp_server_conf_free(&c);
	ck_assert_ptr_null(c.modules);
	ck_assert_ptr_null(c.state_dir);
	sp_server_conf_free(&c); /* twice is harmless */
}
END_TEST

START_TEST(server_loops)
{
	struct sp_server_conf c;

	ck_assert_int_eq(sp_server_conf_load(DATA "/server-loops.yaml", &c,
	    errline, sizeof(errline)), SP_OK);
	ck_assert_str_eq(c.loops, "3");
	sp_server_conf_free(&c);
}
END_TEST

START_TEST(server_defaults)
{
	struct sp_server_conf c;

	ck_assert_int_eq(sp_server_conf_load(DATA "/server-minimal.yaml", &c,
	    errline, sizeof(errline)), SP_OK);
	ck_assert_str_eq(c.tunnel.listen.host, "::1");
	ck_assert_uint_eq(c.tunnel.listen.port, 7443);
	ck_assert_str_eq(c.state_dir, SP_LOCALSTATEDIR "/lib/smartproxy");
	ck_assert_str_eq(c.pairing_file, SP_SYSCONFDIR "/smartproxy/pairing");
	ck_assert_str_eq(c.user, SP_DEFAULT_USER);
	ck_assert_ptr_null(c.chroot);
	ck_assert_ptr_null(c.partner_host);
	ck_assert_int_eq(c.seccomp, SP_SANDBOX_ENFORCE);
	ck_assert_int_eq(c.drain_timeout, 300);
	ck_assert_str_eq(c.loops, "auto");
	ck_assert_uint_eq(c.nmodules, 0);
	ck_assert_ptr_null(c.modules);
	ck_assert_int_eq(c.logging.level, SP_LOG_INFO);
	ck_assert_int_eq(c.logging.format, SP_LOG_FORMAT_TEXT);
	ck_assert_uint_eq(c.logging.ntargets, 0);
	/* The decoded logging section is what sp_log_configure() takes. */
	ck_assert_int_eq(sp_log_configure(&c.logging), SP_OK);
	sp_log_reset();
	sp_server_conf_free(&c);
}
END_TEST

/* drain_timeout: 0 (end at once) to a day, in seconds. */
START_TEST(drain_timeout_range)
{
	static const char ok[] = "tunnel:\n  listen: 127.0.0.1:7443\ndrain_timeout: 0\n";
	static const char bad[] = "tunnel:\n  listen: 127.0.0.1:7443\ndrain_timeout: 86401\n";
	struct sp_server_conf c;

	ck_assert_int_eq(sp_bootstrap_parse("t.yaml", ok, sizeof(ok) - 1,
	    &sp_server_schema, &c, errline, sizeof(errline)), SP_OK);
	ck_assert_int_eq(c.drain_timeout, 0);
	sp_server_conf_free(&c);
	ck_assert_int_eq(sp_bootstrap_parse("t.yaml", bad, sizeof(bad) - 1,
	    &sp_server_schema, &c, errline, sizeof(errline)), SP_ERR_CONFIG);
	ck_assert_str_eq(errline, "t.yaml:3: key 'drain_timeout': expected an "
	    "integer from 0 to 86400, got \"86401\"");
}
END_TEST

START_TEST(client_full)
{
	struct sp_client_conf c;

	ck_assert_int_eq(sp_client_conf_load(DATA "/client-good.yaml", &c,
	    errline, sizeof(errline)), SP_OK);
	ck_assert_str_eq(c.server.address.host, "dmz.example");
	ck_assert_uint_eq(c.server.address.port, 7443);
	/* stored lowercase, whatever the case in the file */
	ck_assert_str_eq(c.server.proxy_id,
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	ck_assert_str_eq(c.backend.url, "https://backend.example:8443/api");
	ck_assert_str_eq(c.backend.token_file, "/etc/smartproxy/token");
	ck_assert_str_eq(c.backend.ca_file, "/etc/smartproxy/ca.pem");
	ck_assert_int_eq(c.backend.timeout, 600);
	ck_assert_int_eq(c.backend.heartbeat, 2);
	ck_assert_str_eq(c.inside.address.host, "10.0.0.5");
	ck_assert_uint_eq(c.inside.address.port, 3305);
	ck_assert_str_eq(c.state_dir, "/var/lib/smartproxy-client");
	ck_assert_int_eq(c.logging.level, SP_LOG_DEBUG);
	ck_assert_int_eq(c.logging.format, SP_LOG_FORMAT_JSON);
	ck_assert_uint_eq(c.logging.ntargets, 1);
	ck_assert_int_eq(c.logging.targets[0].type, SP_LOG_TARGET_SYSLOG);
	ck_assert_str_eq(c.logging.targets[0].ident, "sp-client");
	ck_assert_int_eq(c.logging.targets[0].facility, LOG_LOCAL3);
	ck_assert_int_eq(c.logging.targets[0].level, SP_LOG_NOTICE);
	sp_client_conf_free(&c);
}
END_TEST

/* file, expected error after the file's path */
static const struct {
	const char *file;
	const char *err;
} bad[] = {
	{ "bad-syntax.yaml", ":3: YAML syntax error: did not find expected key "
	  "(while parsing a block mapping started on line 1)" },
	{ "bad-utf8.yaml", ":3: YAML syntax error: invalid leading UTF-8 octet" },
	{ "bad-type.yaml",
	  ":1: key 'tunnel': expected a mapping, got \"127.0.0.1:7443\"" },
	{ "bad-unknown-key.yaml", ":2: unknown key 'tunnel.lisen'" },
	{ "bad-missing-section.yaml", ":1: key 'tunnel': required but missing" },
	{ "bad-missing-key.yaml", ":2: key 'tunnel.listen': required but missing" },
	{ "bad-address.yaml",
	  ":2: key 'tunnel.listen': expected host:port, got \"7443\"" },
	{ "bad-port.yaml",
	  ":2: key 'tunnel.listen': expected host:port, got \"localhost:65536\"" },
	{ "bad-ipv6.yaml",
	  ":2: key 'tunnel.listen': expected host:port, got \"::1:7443\"" },
	{ "client-bad-range.yaml", ":7: key 'backend.timeout': expected an "
	  "integer from 1 to 600, got \"601\"" },
	{ "client-bad-heartbeat.yaml", ":7: key 'backend.heartbeat': expected an "
	  "integer from 1 to 300, got \"0\"" },
	{ "client-bad-proxy-id.yaml", ":3: key 'server.proxy_id': expected 64 "
	  "hex digits, got \"0123456789abcdef0123456789abcdef01234567...\"" },
	{ "client-bad-url.yaml", ":5: key 'backend.url': expected an https:// "
	  "URL, got \"http://127.0.0.1:8080/\"" },
	{ "bad-deep.yaml", ":3: nested deeper than 16 levels" },
	{ "empty.yaml", ": the file is empty" },
	{ "comments-only.yaml", ": the file is empty" },
	{ "bad-anchor.yaml", ":1: anchors (&t) are not supported" },
	{ "bad-alias.yaml", ":3: aliases (*dir) are not supported" },
	{ "bad-tag.yaml", ":2: tags (tag:yaml.org,2002:str) are not supported" },
	{ "bad-duplicate.yaml",
	  ":5: key 'state_dir': given twice (first on line 3)" },
	{ "bad-two-documents.yaml", ":3: only one YAML document is allowed" },
	{ "bad-top-sequence.yaml", ":1: expected a mapping of settings at the "
	  "top level, got a sequence" },
	{ "bad-null.yaml",
	  ":3: key 'state_dir': expected an absolute path, got nothing" },
	{ "bad-relative-path.yaml", ":3: key 'state_dir': expected an absolute "
	  "path, got \"var/lib/smartproxy\"" },
	{ "bad-enum.yaml", ":4: key 'logging.level': expected one of "
	  "debug|info|notice|warn|err|crit, got \"verbose\"" },
	{ "bad-file-target.yaml",
	  ":6: key 'logging.targets[1].dir': required for a file target" },
	{ "bad-target-key.yaml",
	  ":6: key 'logging.targets[0].facility': only for a syslog target" },
	{ "bad-keep-days.yaml",
	  ":6: key 'logging.targets[0].keep_days': only for a file target" },
	{ "bad-two-syslog.yaml",
	  ":7: key 'logging.targets[2]': only one syslog target is possible" },
	{ "bad-module-duplicate.yaml", ":6: key 'modules[2].name': module "
	  "\"oftp2\" is already loaded as modules[0]" },
	{ "bad-module-name.yaml", ":4: key 'modules[0].name': only a-z, 0-9 "
	  "and '_', got \"../evil\"" },
	{ "bad-module-options.yaml", ":6: key 'modules[0].options.limits': "
	  "expected a string, got a mapping" },
	{ "bad-module-option-dup.yaml",
	  ":6: key 'modules[0].options.a': given twice" },
	{ "bad-module-mode.yaml", ":5: key 'modules[0].mode': expected one of "
	  "enforce|detect, got \"audit\"" },
	{ "bad-module-item.yaml",
	  ":4: key 'modules[0]': expected a mapping, got \"oftp2\"" },
	{ "bad-seccomp.yaml", ":3: key 'seccomp': expected one of "
	  "enforce|log|off, got \"strict\"" },
	{ "bad-partner-host.yaml", ":3: key 'partner_host': expected a numeric "
	  "IPv4 or IPv6 address, got \"dmz-a.example\"" },
	{ "bad-loops-0.yaml", ":3: key 'loops': expected auto or a number of "
	  "session loops from 1 to 64, got \"0\"" },
	{ "bad-loops-65.yaml", ":3: key 'loops': expected auto or a number of "
	  "session loops from 1 to 64, got \"65\"" },
	{ "bad-loops-two.yaml", ":3: key 'loops': expected auto or a number of "
	  "session loops from 1 to 64, got \"two\"" },
	{ "bad-loops-2x.yaml", ":3: key 'loops': expected auto or a number of "
	  "session loops from 1 to 64, got \"2x\"" },
};

START_TEST(bad_file)
{
	char path[512], want[1024];
	struct sp_server_conf sc;
	struct sp_client_conf cc;
	int r;

	snprintf(path, sizeof(path), "%s/%s", DATA, bad[_i].file);
	snprintf(want, sizeof(want), "%s%s", path, bad[_i].err);
	memset(errline, 0, sizeof(errline));
	if (strncmp(bad[_i].file, "client", 6) == 0) {
		r = sp_client_conf_load(path, &cc, errline, sizeof(errline));
		ck_assert_ptr_null(cc.server.address.host); /* zeroed on error */
	} else {
		r = sp_server_conf_load(path, &sc, errline, sizeof(errline));
		ck_assert_ptr_null(sc.tunnel.listen.host);
		ck_assert_ptr_null(sc.modules);
	}
	ck_assert_int_eq(r, SP_ERR_CONFIG);
	ck_assert_str_eq(errline, want);
}
END_TEST

static void
write_file(const char *path, const char *head, size_t pad)
{
	FILE *f = fopen(path, "w");
	size_t i;

	ck_assert_ptr_nonnull(f);
	fputs(head, f);
	/* comment lines of 80 bytes, the last one cut to fit */
	for (i = 0; i < pad; i++)
		fputc(i % 80 == 0 ? '#' : i % 80 == 79 ? '\n' : 'x', f);
	ck_assert_int_eq(fclose(f), 0);
}

START_TEST(size_bound)
{
	char path[] = "/tmp/check_bootstrap_XXXXXX";
	const char *head = "tunnel: {listen: 127.0.0.1:7443}\n";
	char want[600];
	struct sp_server_conf c;
	int fd;

	ck_assert_int_ge(fd = mkstemp(path), 0);
	close(fd);
	/* exactly the limit: accepted */
	write_file(path, head, SP_BOOTSTRAP_MAX_SIZE - strlen(head));
	ck_assert_int_eq(sp_server_conf_load(path, &c, errline,
	    sizeof(errline)), SP_OK);
	sp_server_conf_free(&c);
	/* one byte more */
	write_file(path, head, SP_BOOTSTRAP_MAX_SIZE - strlen(head) + 1);
	ck_assert_int_eq(sp_server_conf_load(path, &c, errline,
	    sizeof(errline)), SP_ERR_CONFIG);
	snprintf(want, sizeof(want), "%s: larger than 1048576 bytes", path);
	ck_assert_str_eq(errline, want);
	unlink(path);
	/* and from memory */
	ck_assert_int_eq(sp_bootstrap_parse("mem.yaml", "",
	    SP_BOOTSTRAP_MAX_SIZE + 1, &sp_server_schema, &c, errline,
	    sizeof(errline)), SP_ERR_CONFIG);
	ck_assert_str_eq(errline, "mem.yaml: larger than 1048576 bytes");
}
END_TEST

START_TEST(missing_and_not_regular)
{
	struct sp_server_conf c;

	ck_assert_int_eq(sp_server_conf_load(DATA "/no-such-file.yaml", &c,
	    errline, sizeof(errline)), SP_ERR_SYSTEM);
	ck_assert_str_eq(errline, DATA "/no-such-file.yaml: cannot open: "
	    "No such file or directory");
	ck_assert_int_eq(sp_server_conf_load(DATA, &c, errline,
	    sizeof(errline)), SP_ERR_CONFIG);
	ck_assert_str_eq(errline, DATA ": not a regular file");
}
END_TEST

START_TEST(node_bound)
{
	struct sp_server_conf c;
	size_t i, o = 0, cap = 64 + 10001 * 3;
	char *y = malloc(cap);

	ck_assert_ptr_nonnull(y);
	o += (size_t)snprintf(y, cap, "modules: [");
	for (i = 0; i < 10001; i++)
		o += (size_t)snprintf(y + o, cap - o, "a,");
	o += (size_t)snprintf(y + o, cap - o, "]\n");
	ck_assert_int_eq(sp_bootstrap_parse("mem.yaml", y, o,
	    &sp_server_schema, &c, errline, sizeof(errline)), SP_ERR_CONFIG);
	ck_assert_str_eq(errline, "mem.yaml:1: more than 10000 YAML nodes");
	free(y);
}
END_TEST

/* A schema of every scalar type, to test the engine apart from programs. */
struct all {
	char *s;
	int i;
	bool b;
	char *hex;
	struct sp_hostport a;
	int e;
};

static const struct sp_bs_enum colours[] = {
	{ "red", 1 }, { "green", 2 }, { NULL, 0 }
};

static const struct sp_bs_key all_keys[] = {
	{ .name = "s", .type = SP_BS_STRING, .offset = offsetof(struct all, s),
	  .max = 5, .def = "dflt" },
	{ .name = "i", .type = SP_BS_INT, .offset = offsetof(struct all, i),
	  .min = -10, .max = 10, .def = "-3" },
	{ .name = "b", .type = SP_BS_BOOL, .offset = offsetof(struct all, b),
	  .def = "true" },
	{ .name = "hex", .type = SP_BS_HEX, .offset = offsetof(struct all, hex),
	  .min = 4 },
	{ .name = "a", .type = SP_BS_ADDR, .offset = offsetof(struct all, a) },
	{ .name = "e", .type = SP_BS_ENUM, .offset = offsetof(struct all, e),
	  .values = colours },
	{ .name = NULL }
};

static const struct sp_bs_section all_section = { .keys = all_keys };
static const struct sp_bs_schema all_schema = {
	.name = "test", .root = &all_section, .size = sizeof(struct all),
};

static int
parse_all(const char *yaml, struct all *a)
{
	return sp_bootstrap_parse("t.yaml", yaml, strlen(yaml), &all_schema, a,
	    errline, sizeof(errline));
}

START_TEST(engine_types)
{
	struct all a;

	ck_assert_int_eq(parse_all("e: green\n", &a), SP_OK);
	ck_assert_str_eq(a.s, "dflt");
	ck_assert_int_eq(a.i, -3);
	ck_assert(a.b);
	ck_assert_ptr_null(a.hex);
	ck_assert_ptr_null(a.a.host);
	ck_assert_int_eq(a.e, 2);
	sp_bootstrap_free(&all_schema, &a);

	ck_assert_int_eq(parse_all("s: 'abcde'\ni: 10\nb: false\nhex: BEEF\n"
	    "a: \"[2001:db8::1]:1\"\n", &a), SP_OK);
	ck_assert_str_eq(a.s, "abcde");
	ck_assert_int_eq(a.i, 10);
	ck_assert(!a.b);
	ck_assert_str_eq(a.hex, "beef");
	ck_assert_str_eq(a.a.host, "2001:db8::1");
	ck_assert_uint_eq(a.a.port, 1);
	sp_bootstrap_free(&all_schema, &a);

	ck_assert_int_eq(parse_all("s: abcdef\n", &a), SP_ERR_CONFIG);
	ck_assert_str_eq(errline,
	    "t.yaml:1: key 's': expected a string, got \"abcdef\"");
	ck_assert_int_eq(parse_all("i: -11\n", &a), SP_ERR_CONFIG);
	ck_assert_str_eq(errline, "t.yaml:1: key 'i': expected an integer "
	    "from -10 to 10, got \"-11\"");
	ck_assert_int_eq(parse_all("i: 0x5\n", &a), SP_ERR_CONFIG);
	ck_assert_int_eq(parse_all("i: 99999999999999999999\n", &a),
	    SP_ERR_CONFIG);
	ck_assert_int_eq(parse_all("i: [1]\n", &a), SP_ERR_CONFIG);
	ck_assert_str_eq(errline, "t.yaml:1: key 'i': expected an integer "
	    "from -10 to 10, got a sequence");
	ck_assert_int_eq(parse_all("b: yes\n", &a), SP_ERR_CONFIG);
	ck_assert_str_eq(errline,
	    "t.yaml:1: key 'b': expected true or false, got \"yes\"");
	ck_assert_int_eq(parse_all("hex: beeg\n", &a), SP_ERR_CONFIG);
	ck_assert_int_eq(parse_all("a: \"[::1]7\"\n", &a), SP_ERR_CONFIG);
	ck_assert_int_eq(parse_all("a: host:0\n", &a), SP_ERR_CONFIG);
	ck_assert_int_eq(parse_all("a: ho st:1\n", &a), SP_ERR_CONFIG);
	/* a NUL or a newline smuggled in through an escape */
	ck_assert_int_eq(parse_all("s: \"a\\0b\"\n", &a), SP_ERR_CONFIG);
	ck_assert_str_eq(errline,
	    "t.yaml:1: key 's': expected a string, got \"a\\x00b\"");
	ck_assert_int_eq(parse_all("s: \"a\\nb\"\n", &a), SP_ERR_CONFIG);
	ck_assert_int_eq(parse_all("? [k]\n: v\n", &a), SP_ERR_CONFIG);
	ck_assert_str_eq(errline,
	    "t.yaml:1: a mapping key must be a plain string, not a sequence");
}
END_TEST

/* Run `fn` with stdout and stderr going to files; return what they got. */
static int
capture_check(const char *path, char *out, size_t outsz, char *err,
    size_t errsz)
{
	char fo[] = "/tmp/check_bs_out_XXXXXX", fe[] = "/tmp/check_bs_err_XXXXXX";
	int o = mkstemp(fo), e = mkstemp(fe), so = dup(1), se = dup(2), rc;
	ssize_t n;

	ck_assert(o >= 0 && e >= 0 && so >= 0 && se >= 0);
	fflush(stdout);
	fflush(stderr);
	dup2(o, 1);
	dup2(e, 2);
	rc = sp_bootstrap_check(path, &sp_server_schema);
	fflush(stdout);
	fflush(stderr);
	dup2(so, 1);
	dup2(se, 2);
	n = pread(o, out, outsz - 1, 0);
	out[n > 0 ? n : 0] = '\0';
	n = pread(e, err, errsz - 1, 0);
	err[n > 0 ? n : 0] = '\0';
	close(o);
	close(e);
	close(so);
	close(se);
	unlink(fo);
	unlink(fe);
	return rc;
}

/*
 * A server file naming only things that exist on this host, in `dir`, with
 * `extra` appended (a key that overrides nothing: tests add the bad one).
 */
static void
host_file(char *path, size_t pathsz, const char *dir, const char *extra,
    const char *user)
{
	struct passwd *pw = getpwuid(geteuid());
	char body[2048];

	ck_assert_ptr_nonnull(pw);
	snprintf(path, pathsz, "%s/server.yaml", dir);
	snprintf(body, sizeof(body),
	    "tunnel:\n  listen: 127.0.0.1:7443\nstate_dir: %s/state\n"
	    "user: %s\n%s", dir, user != NULL ? user : pw->pw_name, extra);
	write_file(path, body, 0);
}

START_TEST(check_mode)
{
	char dir[] = "/tmp/check_bs_XXXXXX", path[600], out[256], err[1024];

	ck_assert_ptr_nonnull(mkdtemp(dir));
	host_file(path, sizeof(path), dir, "", NULL);
	ck_assert_int_eq(capture_check(path, out, sizeof(out), err,
	    sizeof(err)), 0);
	ck_assert_str_eq(out, "ok\n");
	ck_assert_str_eq(err, "");
	ck_assert_int_eq(capture_check(DATA "/bad-address.yaml", out,
	    sizeof(out), err, sizeof(err)), 2);
	ck_assert_str_eq(out, "");
	ck_assert_str_eq(err, DATA "/bad-address.yaml:2: key 'tunnel.listen': "
	    "expected host:port, got \"7443\"\n");
	/* a module that loads with this ABI passes (opened and closed again) */
	host_file(path, sizeof(path), dir, "modules:\n  - name: good\n    path: "
	    SP_TEST_MODDIR "/good.so\n", NULL);
	ck_assert_int_eq(capture_check(path, out, sizeof(out), err,
	    sizeof(err)), 0);
	ck_assert_str_eq(err, "");
	unlink(path);
	rmdir(dir);
}
END_TEST

/*
 * --check checks meaning: each case is a file that parses, naming something
 * this host does not have; the line, the key and the reason are exact.
 */
static const struct {
	const char *extra;   /* appended after line 4 (user) */
	const char *user;    /* NULL: the test's own user */
	const char *err;     /* after "<path>:" */
} meaning[] = {
	{ "", "no_such_user_sp", "4: key 'user': no such user 'no_such_user_sp' "
	  "(create it, or name another)" },
	{ "chroot: %s/nodir\n", NULL, "5: key 'chroot': %s/nodir: No such file "
	  "or directory" },
	{ "chroot: %s/file\n", NULL, "5: key 'chroot': %s/file: not a directory" },
	{ "pairing_file: %s/nofile\n", NULL, "5: key 'pairing_file': %s/nofile: "
	  "No such file or directory" },
	{ "pairing_file: %s/open\n", NULL, "5: key 'pairing_file': %s/open: "
	  "writable by everyone (mode 0666)" },
	{ "modules:\n  - name: gone\n    path: %s/gone.so\n", NULL,
	  "7: key 'modules[0].path': %s/gone.so: no such file (module 'gone')" },
	{ "modules:\n  - name: bad_major\n    path: " SP_TEST_MODDIR
	  "/bad_major.so\n", NULL, "7: key 'modules[0].path': " SP_TEST_MODDIR
	  "/bad_major.so: ABI major 3, this smartproxy speaks 2 (rebuild the "
	  "module)" },
	{ "logging:\n  targets:\n    - type: file\n      dir: %s/nolog\n"
	  "      prefix: x\n", NULL, "8: key 'logging.targets[0].dir': "
	  "%s/nolog: No such file or directory" },
};

/* `tmpl` with each "%s" replaced by `dir`. */
static void
subst(char *out, size_t outsz, const char *tmpl, const char *dir)
{
	size_t o = 0;

	while (*tmpl != '\0' && o + 1 < outsz) {
		if (tmpl[0] == '%' && tmpl[1] == 's') {
			o += (size_t)snprintf(out + o, outsz - o, "%s", dir);
			tmpl += 2;
		} else
			out[o++] = *tmpl++;
	}
	out[o < outsz ? o : outsz - 1] = '\0';
}

START_TEST(check_meaning)
{
	char dir[] = "/tmp/check_bs_XXXXXX", path[600], out[256], err[1024];
	char extra[1024], want[2048], tail[1024], f[600];
	int fd;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(f, sizeof(f), "%s/file", dir);
	write_file(f, "", 0);
	snprintf(f, sizeof(f), "%s/open", dir);
	ck_assert_int_ge(fd = open(f, O_CREAT | O_WRONLY, 0600), 0);
	fchmod(fd, 0666);
	close(fd);
	subst(extra, sizeof(extra), meaning[_i].extra, dir);
	subst(tail, sizeof(tail), meaning[_i].err, dir);
	host_file(path, sizeof(path), dir, extra, meaning[_i].user);
	snprintf(want, sizeof(want), "%s:%s\n", path, tail);
	ck_assert_int_eq(capture_check(path, out, sizeof(out), err,
	    sizeof(err)), 2);
	ck_assert_str_eq(out, "");
	ck_assert_str_eq(err, want);
	/* parsing alone does not look at the host */
	{
		struct sp_server_conf c;

		ck_assert_int_eq(sp_server_conf_load(path, &c, errline,
		    sizeof(errline)), 0);
		sp_server_conf_free(&c);
	}
	unlink(path);
	snprintf(f, sizeof(f), "%s/file", dir);
	unlink(f);
	snprintf(f, sizeof(f), "%s/open", dir);
	unlink(f);
	rmdir(dir);
}
END_TEST

/* The client's token is a secret: readable by everyone is refused. */
START_TEST(check_client_token)
{
	char dir[] = "/tmp/check_bs_XXXXXX", path[600], tok[600], body[2048];
	char err[1024], want[2048];
	struct sp_client_conf c;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(tok, sizeof(tok), "%s/token", dir);
	write_file(tok, "test-token-0123456789abcdef\n", 0);
	ck_assert_int_eq(chmod(tok, 0644), 0);
	snprintf(path, sizeof(path), "%s/client.yaml", dir);
	snprintf(body, sizeof(body), "server:\n  address: 127.0.0.1:7443\n"
	    "  proxy_id: %064d\nbackend:\n  url: https://127.0.0.1:1/\n"
	    "  token_file: %s\ninside:\n  address: 127.0.0.1:3305\n"
	    "state_dir: %s/state\n", 0, tok, dir);
	write_file(path, body, 0);
	ck_assert_int_eq(sp_bootstrap_load_checked(path, &sp_client_schema, &c,
	    err, sizeof(err)), SP_ERR_CONFIG);
	snprintf(want, sizeof(want), "%s:6: key 'backend.token_file': %s: "
	    "readable by everyone (mode 0644): it holds a secret", path, tok);
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(chmod(tok, 0600), 0);
	ck_assert_int_eq(sp_bootstrap_load_checked(path, &sp_client_schema, &c,
	    err, sizeof(err)), 0);
	sp_client_conf_free(&c);
	unlink(tok);
	unlink(path);
	rmdir(dir);
}
END_TEST

/* keyless.keys: a key file, or a pkcs11: URL's pin-source file, mode 0600. */
START_TEST(check_client_keyless_keys)
{
	char dir[] = "/tmp/check_bs_XXXXXX", path[600], tok[600], key[600];
	char pin[600], body[4096], err[1024], want[2048];
	struct sp_client_conf c;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(tok, sizeof(tok), "%s/token", dir);
	write_file(tok, "test-token-0123456789abcdef\n", 0);
	ck_assert_int_eq(chmod(tok, 0600), 0);
	snprintf(key, sizeof(key), "%s/l.key", dir);
	write_file(key, "-----BEGIN PRIVATE KEY-----\n", 0);
	ck_assert_int_eq(chmod(key, 0640), 0);
	snprintf(pin, sizeof(pin), "%s/hsm.pin", dir);
	write_file(pin, "1234", 0);
	ck_assert_int_eq(chmod(pin, 0604), 0);
	snprintf(path, sizeof(path), "%s/client.yaml", dir);
	snprintf(body, sizeof(body), "server:\n  address: 127.0.0.1:7443\n"
	    "  proxy_id: %064d\nbackend:\n  url: https://127.0.0.1:1/\n"
	    "  token_file: %s\ninside:\n  address: 127.0.0.1:3305\n"
	    "keyless:\n  keys:\n    partners: %s\n"
	    "    hsm: \"pkcs11:token=t;object=o;type=private?pin-source=%s\"\n"
	    "state_dir: %s/state\n", 0, tok, key, pin, dir);
	write_file(path, body, 0);
	ck_assert_int_eq(sp_bootstrap_load_checked(path, &sp_client_schema, &c,
	    err, sizeof(err)), SP_ERR_CONFIG);
	snprintf(want, sizeof(want), "%s:11: key 'keyless.keys.partners': %s: "
	    "accessible by group or others (mode 0640): it holds a key; chmod 600 it",
	    path, key);
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(chmod(key, 0600), 0);
	ck_assert_int_eq(sp_bootstrap_load_checked(path, &sp_client_schema, &c,
	    err, sizeof(err)), SP_ERR_CONFIG);
	snprintf(want, sizeof(want), "%s:12: key 'keyless.keys.hsm': %s: "
	    "readable by everyone (mode 0604): it holds a secret", path, pin);
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(chmod(pin, 0600), 0);
	ck_assert_int_eq(sp_bootstrap_load_checked(path, &sp_client_schema, &c,
	    err, sizeof(err)), 0);
	sp_client_conf_free(&c);
	unlink(key);
	ck_assert_int_eq(sp_bootstrap_load_checked(path, &sp_client_schema, &c,
	    err, sizeof(err)), SP_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(err, "keyless.keys.partners"));
	ck_assert_ptr_nonnull(strstr(err, "No such file"));
	unlink(pin);
	unlink(tok);
	unlink(path);
	rmdir(dir);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("bootstrap");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, server_full);
	tcase_add_test(tc, server_defaults);
	tcase_add_test(tc, server_loops);
	tcase_add_test(tc, drain_timeout_range);
	tcase_add_test(tc, client_full);
	tcase_add_loop_test(tc, bad_file, 0, (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(tc, size_bound);
	tcase_add_test(tc, missing_and_not_regular);
	tcase_add_test(tc, node_bound);
	tcase_add_test(tc, engine_types);
	tcase_add_test(tc, check_mode);
	tcase_add_loop_test(tc, check_meaning, 0,
	    (int)(sizeof(meaning) / sizeof(meaning[0])));
	tcase_add_test(tc, check_client_token);
	tcase_add_test(tc, check_client_keyless_keys);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
