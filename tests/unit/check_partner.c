/*
 * check_partner.c - the partner verification module (modules/partner/)
 * through the real chain engine (partner_drive.h): configuration validation,
 * address networks, every stage (on_open, on_tls, the SSID) and decision,
 * the password check on run_async and without it, the session limit, the
 * brake, outgoing sessions, detect mode, the online decision through the
 * host's backend_ask (allow, refuse, no answer, session gone meanwhile).
 *
 * The module's sources are compiled into this program, so the tests can set
 * its clocks (pm_wall_now, pm_mono_ms) and call its parser directly.
 * Certificates: tests/unit/data/partner/ (make.sh there regenerates them).
 */
#include <check.h>

#include <smartproxy/module.h>
#include <smartproxy/oftp2.h>

#include "partner_drive.h"
#include "modules/partner/partner.h"
#include "api/pwhash.h"
#include "core/err.h"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

extern const struct sp_module sp_module_v1;
#define MOD (&sp_module_v1)

/* ---- fixtures: clocks, hashes, certificates ---- */

static time_t fake_wall = 1767225600;   /* 2026-01-01T00:00:00Z */
static uint64_t fake_mono = 1000000;
static time_t clock_wall(void) { return fake_wall; }
static uint64_t clock_mono(void) { return fake_mono; }

static char hash_secret[SP_PWHASH_TEXT_MAX];   /* "SECRET1" */
static char hash_other[SP_PWHASH_TEXT_MAX];    /* "OTHER" */

struct cert {
	char *pem_json;         /* PEM as a JSON string literal, quotes included */
	uint8_t der[4096];
	size_t derlen;
	char sha[65];
	char *subject;
};
static struct cert ca, client, revoked, rogue_ca, rogue, crl, crl_expired;
static struct cert bound, stranger;   /* CN O0013000000TEST (+SAN), CN O0013000000CERT */

static char *
read_file(const char *name)
{
	char path[512];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/tests/unit/data/partner/%s", SP_TOP_SRCDIR, name);
	ck_assert_msg((f = fopen(path, "rb")) != NULL, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	ck_assert(buf != NULL && fread(buf, 1, (size_t)n, f) == (size_t)n);
	fclose(f);
	return buf;
}

static char *
json_string(const char *s)
{
	char *out = malloc(strlen(s) * 2 + 3), *o = out;

	*o++ = '"';
	for (; *s; s++) {
		if (*s == '\n') {
			*o++ = '\\';
			*o++ = 'n';
		} else if (*s == '"' || *s == '\\') {
			*o++ = '\\';
			*o++ = *s;
		} else
			*o++ = *s;
	}
	*o++ = '"';
	*o = '\0';
	return out;
}

static void
load_cert(struct cert *c, const char *name, bool is_cert)
{
	char *pem = read_file(name);
	gnutls_x509_crt_t crt;
	gnutls_datum_t d = { (unsigned char *)pem, (unsigned)strlen(pem) };
	gnutls_datum_t dn;
	size_t len = sizeof(c->der);

	c->pem_json = json_string(pem);
	if (is_cert) {
		ck_assert(gnutls_x509_crt_init(&crt) == 0);
		ck_assert(gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM) == 0);
		ck_assert(gnutls_x509_crt_export(crt, GNUTLS_X509_FMT_DER, c->der, &len) == 0);
		c->derlen = len;
		ck_assert(sp_sha256_hex(c->der, c->derlen, c->sha) == 0);
		ck_assert(gnutls_x509_crt_get_dn3(crt, &dn, 0) == 0);
		c->subject = strdup((char *)dn.data);
		gnutls_free(dn.data);
		gnutls_x509_crt_deinit(crt);
	}
	free(pem);
}

static void
global_setup(void)
{
	static const uint8_t salt[SP_PWHASH_SALT_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };

	ck_assert(sp_pwhash_make_salted("SECRET1", 7, 10000, salt, hash_secret,
	    sizeof(hash_secret)) == 0);
	ck_assert(sp_pwhash_make_salted("OTHER", 5, 10000, salt, hash_other,
	    sizeof(hash_other)) == 0);
	load_cert(&ca, "ca.pem", true);
	load_cert(&client, "client.pem", true);
	load_cert(&revoked, "revoked-client.pem", true);
	load_cert(&rogue_ca, "rogue-ca.pem", true);
	load_cert(&rogue, "rogue-client.pem", true);
	load_cert(&crl, "crl.pem", false);
	load_cert(&crl_expired, "crl-expired.pem", false);
	load_cert(&bound, "bound.pem", true);
	load_cert(&stranger, "other.pem", true);
	pm_wall_now = clock_wall;
	pm_mono_ms = clock_mono;
}

static void
free_cert(struct cert *c)
{
	free(c->pem_json);
	free(c->subject);
}

static void
global_teardown(void)
{
	free_cert(&ca);
	free_cert(&client);
	free_cert(&revoked);
	free_cert(&rogue_ca);
	free_cert(&rogue);
	free_cert(&crl);
	free_cert(&crl_expired);
	free_cert(&bound);
	free_cert(&stranger);
}

/* ---- configuration builders ---- */

/* One partner object; `extra` replaces defaults (later members win in json-c). */
__attribute__((format(printf, 2, 3)))
static char *
partner(const char *id, const char *extra_fmt, ...)
{
	char extra[8192] = "", *out;
	va_list ap;
	size_t n;

	if (extra_fmt != NULL) {
		va_start(ap, extra_fmt);
		vsnprintf(extra, sizeof(extra), extra_fmt, ap);
		va_end(ap);
	}
	n = strlen(extra) + 1024;
	out = malloc(n);
	snprintf(out, n, "{\"odette_id\":\"%s\",\"description\":\"\","
	    "\"password_hash\":\"%s\",\"allowed_networks\":[\"192.0.2.0/24\"],"
	    "\"tls\":{\"require_client_cert\":false,\"pins\":[],\"ca_bundle\":null},"
	    "\"max_sessions\":0,\"enabled\":true,\"valid_from\":null,"
	    "\"valid_until\":null%s%s}", id, hash_secret, extra[0] ? "," : "", extra);
	return out;
}

/* A section from partner() strings (freed here), NULL-terminated. */
static char *
section(const char *brake, ...)
{
	static char buf[65536];
	va_list ap;
	char *p;
	size_t n;

	n = (size_t)snprintf(buf, sizeof(buf), "{%s%s\"partners\":[", brake ? brake : "",
	    brake ? "," : "");
	va_start(ap, brake);
	for (p = va_arg(ap, char *); p != NULL; p = va_arg(ap, char *)) {
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s",
		    buf[n - 1] == '[' ? "" : ",", p);
		free(p);
	}
	va_end(ap);
	snprintf(buf + n, sizeof(buf) - n, "]}");
	return buf;
}

static struct pm_config *
parse_ok(const char *json)
{
	char err[256] = "";
	void *cfg = NULL;

	ck_assert_msg(MOD->config_parse(NULL, json, &cfg, err, sizeof(err)) == 0,
	    "refused: %s: %.3000s", err, json);
	ck_assert(cfg != NULL);
	return cfg;
}

static void
parse_err(const char *json, const char *want)
{
	char err[256] = "";
	void *cfg = NULL;

	ck_assert_msg(MOD->config_parse(NULL, json, &cfg, err, sizeof(err)) != 0,
	    "accepted: %s", json);
	ck_assert(cfg == NULL);
	ck_assert_msg(strstr(err, want) != NULL, "error '%s' lacks '%s'", err, want);
	ck_assert(strchr(err, '\n') == NULL);
}

/* ---- module and session helpers ---- */

static void *mctx;
static enum sp_mode mode_now;   /* the chain entry's mode (init_module) */
static struct pm_config *cfg;

static void
init_module(const struct sp_host *host, enum sp_mode mode)
{
	static const char *const none[] = { NULL };
	struct sp_module_args args = { "partner", mode, none };

	mode_now = mode;
	ck_assert(MOD->init(host, &args, &mctx) == 0);
}

static void
setup(void)
{
	pmh_reset();
	fake_mono += 10000000;  /* brake state of earlier tests far in the past */
	init_module(&pmh_host, SP_MODE_ENFORCE);
	cfg = NULL;
}

static void
teardown(void)
{
	MOD->fini(mctx);
	if (cfg != NULL)
		MOD->config_free(NULL, cfg);
}

static enum sp_verdict
s_open(struct pmh_sess *s, int id, const char *addr, int outgoing)
{
	struct sp_peer peer = { sizeof(peer), addr, 40000, "192.0.2.254", 6619, outgoing,
		outgoing ? "acme-out" : "partners" };

	return pmh_open(s, id, MOD, mctx, mode_now, cfg, &peer);
}

static enum sp_verdict
s_tls(struct pmh_sess *s, const struct cert *c)
{
	struct sp_tls tls = { sizeof(tls), "TLS1.3", "TLS_AES_256_GCM_SHA384", NULL, 0, NULL, NULL, 0 };

	if (c != NULL) {
		tls.peer_cert_der = c->der;
		tls.peer_cert_len = c->derlen;
		tls.peer_cert_sha256 = c->sha;
		tls.peer_subject = c->subject;
	}
	return pmh_tls(s, &tls);
}

static enum sp_verdict
s_ssid(struct pmh_sess *s, const char *code, const char *pw, enum sp_dir dir)
{
	struct oftp2_cmd cmd;
	struct sp_message msg = { "oftp2", OFTP2_SSID, &cmd, (const uint8_t *)"X", 1, dir,
		SP_OFTP2_H_VERSION };

	memset(&cmd, 0, sizeof(cmd));
	cmd.code = OFTP2_SSID;
	cmd.u.ssid.level = 5;
	snprintf(cmd.u.ssid.code, sizeof(cmd.u.ssid.code), "%s", code);
	snprintf(cmd.u.ssid.password, sizeof(cmd.u.ssid.password), "%s", pw);
	return pmh_message(s, &msg);
}

static void
s_close(struct pmh_sess *s, const char *reason)
{
	pmh_close(s, reason);
}

/* The SSID through run_async: HOLD, one job, then the resumed verdict; or
 * the verdict at once when this password of this partner passed PBKDF2
 * lately (the password cache). */
static enum sp_verdict
s_ssid_async(struct pmh_sess *s, const char *code, const char *pw)
{
	enum sp_verdict v = s_ssid(s, code, pw, SP_TO_INSIDE);

	if (v != SP_HOLD) {
		ck_assert_uint_eq(pmh_run_jobs(), 0);
		return v;
	}
	ck_assert_int_eq(s->nresume, 0);
	ck_assert_uint_eq(pmh_run_jobs(), 1);
	ck_assert_int_eq(s->nresume, 1);
	return s->resumed;
}

#define ASSERT_SECURITY(needle) \
	ck_assert_msg(pmh_security_find(needle) >= 0, "no security line with '%s' " \
	    "(%zu lines, first: '%s')", needle, pmh_rec.nsecurity, pmh_rec.security[0])

/* ---- configuration ---- */

START_TEST(config_valid)
{
	struct pm_config *c;
	const struct pm_partner *p;
	char *sec;

	sec = section("\"brake\":{\"max_failures\":5,\"window_ms\":30000,\"block_ms\":60000}",
	    partner("ACME", "\"allowed_networks\":[\"198.51.100.0/24\",\"2001:db8:42::/48\","
	    "\"203.0.113.9\"],\"tls\":{\"require_client_cert\":true,\"pins\":[\"%s\"],"
	    "\"ca_bundle\":%s,\"crl\":%s},\"max_sessions\":4,"
	    "\"valid_from\":\"2025-01-01T00:00:00Z\",\"valid_until\":\"2027-01-01T00:00:00Z\","
	    "\"future_member\":{\"ignored\":true}", client.sha, ca.pem_json, crl.pem_json),
	    partner("O0013000000BETA", "\"enabled\":false"), NULL);
	c = parse_ok(sec);
	ck_assert_uint_eq(c->npartners, 2);
	ck_assert_uint_eq(c->brake.max_failures, 5);
	ck_assert_uint_eq(c->brake.window_ms, 30000);
	ck_assert_uint_eq(c->brake.block_ms, 60000);
	ck_assert((p = pm_config_find(c, "ACME")) != NULL);
	ck_assert_uint_eq(p->nnets, 3);
	ck_assert_uint_eq(p->npins, 1);
	ck_assert(p->trust != NULL && p->require_cert && p->enabled);
	ck_assert_uint_eq(p->max_sessions, 4);
	ck_assert(p->has_from && p->valid_from == 1735689600);
	ck_assert(p->has_until && p->valid_until == 1798761600);
	ck_assert(!pm_config_find(c, "O0013000000BETA")->enabled);
	ck_assert(pm_config_find(c, "NOBODY") == NULL);
	MOD->config_free(NULL, c);

	/* No section at all: nobody is a partner, the brake has its defaults. */
	c = parse_ok("null");
	ck_assert_uint_eq(c->npartners, 0);
	ck_assert_uint_eq(c->brake.max_failures, PM_BRAKE_FAILURES);
	ck_assert_uint_eq(c->brake.window_ms, PM_BRAKE_WINDOW_MS);
	ck_assert_uint_eq(c->brake.block_ms, PM_BRAKE_BLOCK_MS);
	MOD->config_free(NULL, c);
	c = parse_ok("{\"partners\":[]}");
	MOD->config_free(NULL, c);
}
END_TEST

START_TEST(config_errors)
{
	char h9999[SP_PWHASH_TEXT_MAX];
	static const uint8_t salt[SP_PWHASH_SALT_LEN] = { 0 };

	parse_err("{\"partners\":", "not valid JSON");
	parse_err("{\"partners\":[]} x", "not valid JSON");
	parse_err("[]", "expected an object or null");
	parse_err("{}", "partners: required");
	parse_err("{\"partners\":{}}", "partners: expected an array");
	parse_err(section(NULL, strdup("7"), NULL), "partners[0]: expected an object");
	parse_err(section(NULL, partner("acme", NULL), NULL), "partners[0]: odette_id");
	parse_err(section(NULL, partner("ABCDEFGHIJKLMNOPQRSTUVWXYZ", NULL), NULL),
	    "partners[0]: odette_id");
	parse_err(section(NULL, partner("A", NULL), partner("A", NULL), NULL),
	    "partners[1]: odette_id: A is already partners[0]");
	parse_err(section(NULL, partner("A", "\"password_hash\":\"SECRET1\""), NULL),
	    "partners[0]: password_hash: expected pbkdf2-sha256");
	ck_assert(sp_pwhash_make_salted("x", 1, 9999, salt, h9999, sizeof(h9999)) == 0);
	parse_err(section(NULL, partner("A", "\"password_hash\":\"%s\"", h9999), NULL),
	    "password_hash: 9999 iterations");
	parse_err(section(NULL, partner("A", "\"allowed_networks\":null"), NULL),
	    "partners[0]: allowed_networks: required");
	parse_err(section(NULL, partner("A", "\"allowed_networks\":[\"10.0.0.0/33\"]"), NULL),
	    "partners[0]: allowed_networks[0]");
	parse_err(section(NULL, partner("A", "\"allowed_networks\":[\"10.0.0.0/8\",\"example.com\"]"),
	    NULL), "allowed_networks[1]");
	parse_err(section(NULL, partner("A", "\"allowed_networks\":[\"10.0.0.0/08\"]"), NULL),
	    "allowed_networks[0]");
	parse_err(section(NULL, partner("A", "\"allowed_networks\":[5]"), NULL),
	    "allowed_networks[0]");
	parse_err(section(NULL, partner("A", "\"tls\":{\"require_client_cert\":true,"
	    "\"pins\":[],\"ca_bundle\":null}"), NULL),
	    "partners[0].tls: require_client_cert: needs pins or a ca_bundle");
	parse_err(section(NULL, partner("A", "\"tls\":{\"pins\":[]}"), NULL),
	    "partners[0].tls: require_client_cert: required");
	parse_err(section(NULL, partner("A", "\"tls\":{\"require_client_cert\":true,"
	    "\"pins\":[\"%.63s\"]}", client.sha), NULL), "partners[0].tls: pins[0]");
	parse_err(section(NULL, partner("A", "\"tls\":{\"require_client_cert\":true,"
	    "\"pins\":[\"%.63sA\"]}", client.sha), NULL), "partners[0].tls: pins[0]");
	parse_err(section(NULL, partner("A", "\"tls\":{\"require_client_cert\":true,"
	    "\"ca_bundle\":\"not a PEM\"}"), NULL), "partners[0].tls: ca_bundle");
	parse_err(section(NULL, partner("A", "\"tls\":{\"require_client_cert\":false,"
	    "\"crl\":%s}", crl.pem_json), NULL), "partners[0].tls: crl: needs a ca_bundle");
	/* A CRL the bundle's CAs did not sign would be dropped: refuse it. */
	parse_err(section(NULL, partner("A", "\"tls\":{\"require_client_cert\":true,"
	    "\"ca_bundle\":%s,\"crl\":%s}", rogue_ca.pem_json, crl.pem_json), NULL),
	    "partners[0].tls: crl");
	parse_err(section(NULL, partner("A", "\"tls\":{\"require_client_cert\":true,"
	    "\"ca_bundle\":%s,\"bind\":\"CN\"}", ca.pem_json), NULL),
	    "partners[0].tls: bind: expected \"cn\", \"san\", \"dn\" or \"none\"");
	parse_err(section(NULL, partner("A", "\"tls\":{\"require_client_cert\":true,"
	    "\"ca_bundle\":%s,\"bind\":\"dn\"}", ca.pem_json), NULL),
	    "partners[0].tls: bind_dn: required with bind \"dn\"");
	parse_err(section(NULL, partner("A", "\"tls\":{\"require_client_cert\":true,"
	    "\"ca_bundle\":%s,\"bind_dn\":\"CN=A\"}", ca.pem_json), NULL),
	    "partners[0].tls: bind_dn: only with bind \"dn\"");
	parse_err(section(NULL, partner("A", "\"tls\":{\"require_client_cert\":true,"
	    "\"ca_bundle\":%s,\"bind\":5}", ca.pem_json), NULL),
	    "partners[0].tls: bind: expected a string");
	parse_err(section(NULL, partner("A", "\"tls\":7"), NULL), "partners[0]: tls");
	parse_err(section(NULL, partner("A", "\"max_sessions\":-1"), NULL),
	    "partners[0]: max_sessions: -1 is outside");
	parse_err(section(NULL, partner("A", "\"max_sessions\":\"4\""), NULL),
	    "partners[0]: max_sessions: expected an integer");
	parse_err(section(NULL, partner("A", "\"enabled\":null"), NULL),
	    "partners[0]: enabled: required");
	parse_err(section(NULL, partner("A", "\"enabled\":1"), NULL),
	    "partners[0]: enabled: expected true or false");
	parse_err(section(NULL, partner("A", "\"valid_from\":\"2025-02-30T00:00:00Z\""), NULL),
	    "partners[0]: valid_from: expected a time");
	parse_err(section(NULL, partner("A", "\"valid_until\":\"2025-01-01\""), NULL),
	    "partners[0]: valid_until: expected a time");
	parse_err(section(NULL, partner("A", "\"valid_from\":\"2025-01-01T00:00:00Z\","
	    "\"valid_until\":\"2025-01-01T00:00:00Z\""), NULL),
	    "partners[0]: valid_until: must be after valid_from");
	parse_err(section(NULL, partner("A", "\"description\":5"), NULL),
	    "partners[0]: description: expected a string");
	parse_err(section(NULL, partner("A", "\"odette_id\":\"A\\u0000B\""), NULL),
	    "partners[0]: odette_id: contains a NUL");
	parse_err(section("\"brake\":{\"max_failure\":3}", NULL), "brake: unknown member 'max_failure'");
	parse_err(section("\"brake\":{\"window_ms\":10}", NULL), "brake: window_ms: 10 is outside");
	parse_err(section("\"brake\":{\"block_ms\":true}", NULL), "brake: block_ms: expected an integer");
	parse_err(section("\"brake\":[]", NULL), "brake: expected an object");
}
END_TEST

/* ---- networks ---- */

static bool
net_has(const char *net, const char *addr)
{
	struct pm_net n;
	uint8_t a[16];
	int fam;

	ck_assert_msg(pm_net_parse(net, &n) == 0, "network %s", net);
	ck_assert_msg(pm_addr_parse(addr, &fam, a) == 0, "address %s", addr);
	return pm_net_contains(&n, fam, a);
}

START_TEST(networks)
{
	struct pm_net n;
	uint8_t a[16];
	int fam;

	ck_assert(net_has("198.51.100.0/24", "198.51.100.7"));
	ck_assert(!net_has("198.51.100.0/24", "198.51.101.7"));
	ck_assert(net_has("198.51.100.7", "198.51.100.7"));
	ck_assert(!net_has("198.51.100.7", "198.51.100.8"));
	ck_assert(net_has("10.0.0.0/9", "10.127.255.255"));
	ck_assert(!net_has("10.0.0.0/9", "10.128.0.0"));
	ck_assert(net_has("0.0.0.0/0", "203.0.113.1"));
	ck_assert(!net_has("0.0.0.0/0", "2001:db8::1"));
	ck_assert(net_has("2001:db8:42::/48", "2001:db8:42:ffff::1"));
	ck_assert(!net_has("2001:db8:42::/48", "2001:db8:43::1"));
	ck_assert(net_has("2001:db8::1", "2001:db8::1"));
	ck_assert(net_has("::/0", "::1"));
	/* What a dual-stack listener reports for an IPv4 peer. */
	ck_assert(net_has("192.0.2.0/24", "::ffff:192.0.2.7"));
	ck_assert(!net_has("::ffff:0:0/96", "192.0.2.7"));
	ck_assert(pm_net_parse("192.0.2.0/", &n) != 0);
	ck_assert(pm_net_parse("/24", &n) != 0);
	ck_assert(pm_net_parse("192.0.2.0/2x", &n) != 0);
	ck_assert(pm_net_parse("2001:db8::/129", &n) != 0);
	ck_assert(pm_net_parse("192.0.2.0/24/1", &n) != 0);
	ck_assert(pm_addr_parse("192.0.2", &fam, a) != 0);
	ck_assert(pm_addr_parse("", &fam, a) != 0);
}
END_TEST

START_TEST(times)
{
	time_t t;

	ck_assert(pm_parse_time("1970-01-01T00:00:00Z", &t) == 0 && t == 0);
	ck_assert(pm_parse_time("2024-02-29T23:59:59Z", &t) == 0 && t == 1709251199);
	ck_assert(pm_parse_time("2025-02-29T00:00:00Z", &t) != 0);
	ck_assert(pm_parse_time("2025-13-01T00:00:00Z", &t) != 0);
	ck_assert(pm_parse_time("2025-01-01T24:00:00Z", &t) != 0);
	ck_assert(pm_parse_time("2025-01-01 00:00:00Z", &t) != 0);
	ck_assert(pm_parse_time("2025-01-01T00:00:00+01:00", &t) != 0);
	ck_assert(pm_parse_time("+025-01-01T00:00:00Z", &t) != 0);
}
END_TEST

/* ---- stage 1: on_open ---- */

START_TEST(open_address)
{
	struct pmh_sess s;

	cfg = parse_ok(section(NULL, partner("ACME", NULL),
	    partner("OFF", "\"enabled\":false,\"allowed_networks\":[\"198.51.100.0/24\"]"),
	    partner("OLD", "\"valid_until\":\"2025-06-01T00:00:00Z\","
	    "\"allowed_networks\":[\"203.0.113.0/24\"]"),
	    partner("SOON", "\"valid_from\":\"2027-01-01T00:00:00Z\","
	    "\"allowed_networks\":[\"2001:db8::/32\"]"), NULL));
	ck_assert_int_eq(s_open(&s, 1, "192.0.2.7", 0), SP_CONTINUE);
	s_close(&s, "normal");
	ck_assert_int_eq(s_open(&s, 2, "::ffff:192.0.2.7", 0), SP_CONTINUE);
	s_close(&s, "normal");
	ck_assert_uint_eq(pmh_rec.nsecurity, 0);

	ck_assert_int_eq(s_open(&s, 3, "192.0.3.7", 0), SP_REJECT);
	s_close(&s, "rejected");
	ASSERT_SECURITY("3 address_not_allowed: no enabled partner allows this address; "
	    "connection closed before TLS");
	/* Only a disabled, an expired and a not yet valid partner allow these:
	 * their own line, not address_not_allowed (which fail2ban bans). */
	ck_assert_int_eq(s_open(&s, 4, "198.51.100.1", 0), SP_REJECT);
	s_close(&s, "rejected");
	ASSERT_SECURITY("4 partner_inactive: partner OFF is disabled and this is "
	    "its address; connection closed before TLS");
	ck_assert_int_eq(s_open(&s, 5, "203.0.113.1", 0), SP_REJECT);
	s_close(&s, "rejected");
	ASSERT_SECURITY("5 partner_inactive: partner OLD is not valid since "
	    "2025-06-01T00:00:00Z and this is its address; connection closed "
	    "before TLS");
	ck_assert_int_eq(s_open(&s, 6, "2001:db8::1", 0), SP_REJECT);
	s_close(&s, "rejected");
	ASSERT_SECURITY("6 partner_inactive: partner SOON is not valid before "
	    "2027-01-01T00:00:00Z and this is its address; connection closed "
	    "before TLS");
	ck_assert_uint_eq(pmh_rec.nsecurity, 4);
	/* ...until the window opens. */
	fake_wall = 1798761600 + 1;
	ck_assert_int_eq(s_open(&s, 7, "2001:db8::1", 0), SP_CONTINUE);
	s_close(&s, "normal");
	fake_wall = 1767225600;
	/* Outgoing: we called them; no address check. */
	ck_assert_int_eq(s_open(&s, 8, "192.0.3.7", 1), SP_CONTINUE);
	s_close(&s, "normal");
	ck_assert_uint_eq(pmh_rec.nsecurity, 4);
}
END_TEST

START_TEST(open_no_config)
{
	struct pmh_sess s;

	ck_assert_int_eq(s_open(&s, 1, "192.0.2.7", 0), SP_REJECT);
	s_close(&s, "rejected");
	ASSERT_SECURITY("address_not_allowed");
	ck_assert_int_eq(s_open(&s, 2, "not-an-address", 0), SP_FAIL);
	s_close(&s, "module_failure");
}
END_TEST

START_TEST(init_options)
{
	static const char *const opts[] = { "max", "3", NULL };
	struct sp_module_args args = { "partner", SP_MODE_ENFORCE, opts };
	void *m2 = NULL;

	ck_assert(MOD->init(&pmh_host, &args, &m2) != 0);
	ck_assert(pmh_log_find("unknown option 'max'") >= 0);
}
END_TEST

/* ---- stage 2: on_tls ---- */

START_TEST(tls_certificates)
{
	struct pmh_sess s;

	cfg = parse_ok(section(NULL,
	    partner("PINNED", "\"tls\":{\"require_client_cert\":true,\"pins\":[\"%s\"]}", client.sha),
	    partner("BYCA", "\"allowed_networks\":[\"198.51.100.0/24\"],\"tls\":"
	    "{\"require_client_cert\":true,\"ca_bundle\":%s,\"crl\":%s,\"bind\":\"none\"}",
	    ca.pem_json, crl.pem_json),
	    partner("OPEN", "\"allowed_networks\":[\"203.0.113.0/24\"]"), NULL));

	/* 192.0.2.x: only PINNED is allowed, it wants exactly `client`. */
	ck_assert_int_eq(s_open(&s, 1, "192.0.2.7", 0), SP_CONTINUE);
	ck_assert_int_eq(s_tls(&s, &client), SP_CONTINUE);
	s_close(&s, "normal");
	ck_assert_int_eq(s_open(&s, 2, "192.0.2.7", 0), SP_CONTINUE);
	ck_assert_int_eq(s_tls(&s, NULL), SP_REJECT);
	s_close(&s, "rejected");
	ASSERT_SECURITY("2 certificate_refused: no client certificate; no partner allowed "
	    "from this address accepts it");
	ck_assert_int_eq(s_open(&s, 3, "192.0.2.7", 0), SP_CONTINUE);
	ck_assert_int_eq(s_tls(&s, &rogue), SP_REJECT);
	s_close(&s, "rejected");
	ASSERT_SECURITY("3 certificate_refused: client certificate sha256=");
	ASSERT_SECURITY(rogue.sha);
	ASSERT_SECURITY("subject=CN=ACME lookalike");

	/* 198.51.100.x: BYCA, by its CA, minus the revoked certificate. */
	ck_assert_int_eq(s_open(&s, 4, "198.51.100.7", 0), SP_CONTINUE);
	ck_assert_int_eq(s_tls(&s, &client), SP_CONTINUE);
	s_close(&s, "normal");
	ck_assert_int_eq(s_open(&s, 5, "198.51.100.7", 0), SP_CONTINUE);
	ck_assert_int_eq(s_tls(&s, &revoked), SP_REJECT);
	s_close(&s, "rejected");
	/* Its own line with serial and issuer, and the TLS alert says why. */
	ASSERT_SECURITY("5 certificate_revoked: client certificate serial=0b "
	    "issuer=\"CN=Partner Test CA\" sha256=");
	ASSERT_SECURITY("is revoked by the CRL of partner BYCA");
	ck_assert_uint_eq(pmh_rec.tls_alert, 44);
	ck_assert_int_eq(s_open(&s, 6, "198.51.100.7", 0), SP_CONTINUE);
	ck_assert_int_eq(s_tls(&s, &rogue), SP_REJECT);
	s_close(&s, "rejected");

	/* 203.0.113.x: OPEN needs no certificate; any or none will do. */
	ck_assert_int_eq(s_open(&s, 8, "203.0.113.7", 0), SP_CONTINUE);
	ck_assert_int_eq(s_tls(&s, NULL), SP_CONTINUE);
	s_close(&s, "normal");
	ck_assert_int_eq(s_open(&s, 9, "203.0.113.7", 0), SP_CONTINUE);
	ck_assert_int_eq(s_tls(&s, &rogue), SP_CONTINUE);
	s_close(&s, "normal");
	ck_assert_uint_eq(pmh_rec.nsecurity, 4);
}
END_TEST

/* ---- the certificate names the partner (tls.bind) ---- */

/* pm_cert_check for partner `id` trusting `ca` with `tls` extra members. */
__attribute__((format(printf, 3, 4)))
static enum pm_cert_verdict
bind_check(const char *id, const struct cert *c, const char *tls_fmt, ...)
{
	char tls[256];
	struct pm_config *pc;
	enum pm_cert_verdict v;
	va_list ap;

	va_start(ap, tls_fmt);
	vsnprintf(tls, sizeof(tls), tls_fmt, ap);
	va_end(ap);
	pc = parse_ok(section(NULL, partner(id, "\"tls\":{\"require_client_cert\":true,"
	    "\"ca_bundle\":%s%s%s}", ca.pem_json, tls[0] ? "," : "", tls), NULL));
	v = pm_cert_check(&pc->partners[0], c->der, c->derlen, c->sha, NULL);
	MOD->config_free(NULL, pc);
	return v;
}

START_TEST(cert_binding)
{
	/* Default: the subject CN is the ODETTE ID, exactly. */
	ck_assert_int_eq(bind_check("O0013000000TEST", &bound, "%s", ""), PM_CERT_OK);
	ck_assert_int_eq(bind_check("O0013000000CERT", &bound, "%s", ""), PM_CERT_UNBOUND);
	ck_assert_int_eq(bind_check("O0013000000CERT", &stranger, "%s", ""), PM_CERT_OK);
	ck_assert_int_eq(bind_check("O0013000000TES", &bound, "%s", ""), PM_CERT_UNBOUND);
	ck_assert_int_eq(bind_check("ACME", &client, "\"bind\":\"cn\""), PM_CERT_UNBOUND);
	/* A DNS-name SAN, without case (the certificate has it in lower case);
	 * the CN does not count there. */
	ck_assert_int_eq(bind_check("O0013000000ALT", &bound, "\"bind\":\"san\""), PM_CERT_OK);
	ck_assert_int_eq(bind_check("O0013000000TEST", &bound, "\"bind\":\"san\""),
	    PM_CERT_UNBOUND);
	ck_assert_int_eq(bind_check("O0013000000CERT", &stranger, "\"bind\":\"san\""),
	    PM_CERT_UNBOUND);
	/* The exact subject DN, whatever the ID. */
	ck_assert_int_eq(bind_check("ANY", &bound, "\"bind\":\"dn\",\"bind_dn\":"
	    "\"CN=O0013000000TEST\""), PM_CERT_OK);
	ck_assert_int_eq(bind_check("ANY", &stranger, "\"bind\":\"dn\",\"bind_dn\":"
	    "\"CN=O0013000000TEST\""), PM_CERT_UNBOUND);
	ck_assert_int_eq(bind_check("ANY", &bound, "\"bind\":\"dn\",\"bind_dn\":"
	    "\"CN=O0013000000TEST,O=X\""), PM_CERT_UNBOUND);
	/* Opted out: any certificate of the CA, as before the binding. */
	ck_assert_int_eq(bind_check("O0013000000CERT", &bound, "\"bind\":\"none\""), PM_CERT_OK);
	/* The binding never makes a foreign CA's certificate acceptable... */
	ck_assert_int_eq(bind_check("O0013000000TEST", &rogue, "%s", ""), PM_CERT_NO_MATCH);
	/* ...and a pin is bound by itself: pins work as before. */
	ck_assert_int_eq(bind_check("O0013000000CERT", &bound, "\"pins\":[\"%s\"]", bound.sha),
	    PM_CERT_OK);
}
END_TEST

/* Binding and revocation together: revoked is said first, whoever the
 * certificate names; a stale CRL is judged only for a bound certificate. */
START_TEST(cert_binding_revocation)
{
	struct pm_config *pc;
	const struct sp_crl_info *ci;
	const struct pm_partner *p;

	pc = parse_ok(section(NULL, partner("ACME", "\"tls\":{\"require_client_cert\":"
	    "true,\"ca_bundle\":%s,\"crl\":%s}", ca.pem_json, crl.pem_json),
	    partner("O0013000000TEST", "\"tls\":{\"require_client_cert\":true,"
	    "\"ca_bundle\":%s,\"crl\":%s}", ca.pem_json, crl_expired.pem_json), NULL));
	p = &pc->partners[0];
	ck_assert_int_eq(pm_cert_check(p, revoked.der, revoked.derlen, revoked.sha, NULL),
	    PM_CERT_REVOKED);
	ck_assert_int_eq(pm_cert_check(p, client.der, client.derlen, client.sha, NULL),
	    PM_CERT_UNBOUND);
	p = &pc->partners[1];
	ck_assert_int_eq(pm_cert_check(p, bound.der, bound.derlen, bound.sha, &ci),
	    PM_CERT_CRL_EXPIRED);
	ck_assert_ptr_nonnull(ci);
	ck_assert_int_eq(pm_cert_check(p, stranger.der, stranger.derlen, stranger.sha, &ci),
	    PM_CERT_UNBOUND);
	ck_assert_ptr_null(ci);
	MOD->config_free(NULL, pc);
}
END_TEST

/* The SSID names a partner whose CA issued the certificate to someone else. */
START_TEST(ssid_unbound_certificate)
{
	struct pmh_sess s;

	cfg = parse_ok(section(NULL,
	    partner("O0013000000TEST", "\"tls\":{\"require_client_cert\":true,"
	    "\"ca_bundle\":%s}", ca.pem_json),
	    partner("O0013000000CERT", "\"tls\":{\"require_client_cert\":true,"
	    "\"ca_bundle\":%s}", ca.pem_json), NULL));
	/* TEST's certificate passes the handshake stage (TEST accepts it)... */
	ck_assert_int_eq(s_open(&s, 1, "192.0.2.7", 0), SP_CONTINUE);
	ck_assert_int_eq(s_tls(&s, &bound), SP_CONTINUE);
	/* ...but cannot log in as CERT. */
	ck_assert_int_eq(s_ssid(&s, "O0013000000CERT", "SECRET1", SP_TO_INSIDE), SP_REJECT);
	ck_assert_uint_eq(pmh_refusal(&s), 3);
	ck_assert(pmh_fact(&s, "partner") == NULL);
	s_close(&s, "rejected");
	ASSERT_SECURITY("1 certificate_refused: client certificate sha256=");
	ASSERT_SECURITY("from a CA of partner O0013000000CERT does not name it (bind cn); ESID 03");
	ck_assert_uint_eq(pmh_rec.njobs_queued, 0);
	/* As itself it goes on to the password. */
	ck_assert_int_eq(s_open(&s, 2, "192.0.2.7", 0), SP_CONTINUE);
	ck_assert_int_eq(s_tls(&s, &bound), SP_CONTINUE);
	ck_assert_int_eq(s_ssid_async(&s, "O0013000000TEST", "SECRET1"), SP_CONTINUE);
	ck_assert_str_eq(pmh_fact(&s, "partner"), "O0013000000TEST");
	s_close(&s, "normal");
	/* A CA certificate that names no partner allowed here: refused at TLS. */
	ck_assert_int_eq(s_open(&s, 3, "192.0.2.7", 0), SP_CONTINUE);
	ck_assert_int_eq(s_tls(&s, &client), SP_REJECT);
	s_close(&s, "rejected");
	ASSERT_SECURITY("3 certificate_refused: client certificate sha256=");
}
END_TEST

/* A CRL past its nextUpdate: refused by default (fail_closed), let through
 * with a warning under fail_open; a revoked certificate stays revoked. */
START_TEST(tls_crl_expired)
{
	struct pmh_sess s;

	cfg = parse_ok(section(NULL,
	    partner("CLOSED", "\"allowed_networks\":[\"198.51.100.0/24\"],\"tls\":"
	    "{\"require_client_cert\":true,\"ca_bundle\":%s,\"crl\":%s,"
	    "\"bind\":\"none\"}", ca.pem_json, crl_expired.pem_json),
	    partner("OPENCRL", "\"allowed_networks\":[\"203.0.113.0/24\"],\"tls\":"
	    "{\"require_client_cert\":true,\"ca_bundle\":%s,\"crl\":%s,"
	    "\"crl_expired\":\"fail_open\",\"bind\":\"none\"}", ca.pem_json,
	    crl_expired.pem_json), NULL));

	ck_assert_int_eq(s_open(&s, 1, "198.51.100.7", 0), SP_CONTINUE);
	ck_assert_int_eq(s_tls(&s, &client), SP_REJECT);
	s_close(&s, "rejected");
	ASSERT_SECURITY("1 crl_expired: client certificate sha256=");
	ASSERT_SECURITY("of partner CLOSED: the CRL of CN=Partner Test CA is past its "
	    "nextUpdate 2020-01-02T00:00:00Z; crl_expired fail_closed");

	ck_assert_int_eq(s_open(&s, 2, "203.0.113.7", 0), SP_CONTINUE);
	ck_assert_int_eq(s_tls(&s, &client), SP_CONTINUE);
	s_close(&s, "normal");
	ck_assert(pmh_log_find("partner OPENCRL: the CRL of CN=Partner Test CA is past its "
	    "nextUpdate 2020-01-02T00:00:00Z; crl_expired fail_open") >= 0);
	ck_assert_uint_eq(pmh_rec.nsecurity, 1);
	/* A policy that is neither is refused with the revision. */
	parse_err(section(NULL, partner("X", "\"tls\":{\"require_client_cert\":"
	    "true,\"ca_bundle\":%s,\"crl\":%s,\"crl_expired\":\"maybe\"}", ca.pem_json,
	    crl.pem_json), NULL), "partners[0].tls: crl_expired: expected \"fail_closed\" "
	    "or \"fail_open\"");
}
END_TEST

/* ---- stage 3: the SSID ---- */

START_TEST(ssid_decisions)
{
	struct pmh_sess s;

	cfg = parse_ok(section(NULL,
	    partner("ACME", "\"tls\":{\"require_client_cert\":true,\"pins\":[\"%s\"]}", client.sha),
	    partner("OFF", "\"enabled\":false"),
	    partner("OLD", "\"valid_until\":\"2025-06-01T00:00:00Z\""),
	    partner("SOON", "\"valid_from\":\"2027-01-01T00:00:00Z\""),
	    partner("FAR", "\"allowed_networks\":[\"10.0.0.0/8\"]"),
	    partner("OTHERCERT", "\"tls\":{\"require_client_cert\":true,\"pins\":[\"%s\"]}",
	    rogue.sha), NULL));

#define SSID_CASE(n, code, pw, cert, esid, token) do { \
	ck_assert_int_eq(s_open(&s, n, "192.0.2.7", 0), SP_CONTINUE); \
	ck_assert_int_eq(s_tls(&s, cert), SP_CONTINUE); \
	ck_assert_int_eq(s_ssid(&s, code, pw, SP_TO_INSIDE), SP_REJECT); \
	ck_assert_uint_eq(pmh_refusal(&s), strtoul(esid, NULL, 10)); \
	ck_assert(pmh_fact(&s, "partner") == NULL); \
	s_close(&s, "rejected"); \
	ASSERT_SECURITY(token); \
} while (0)

	SSID_CASE(1, "NOBODY", "SECRET1", &client, "03",
	    "1 unknown_partner: SSID code 'NOBODY' is not a configured partner; ESID 03");
	SSID_CASE(2, "OFF", "SECRET1", &client, "03",
	    "2 partner_disabled: partner OFF is disabled; ESID 03");
	SSID_CASE(3, "OLD", "SECRET1", &client, "03",
	    "3 partner_not_valid: partner OLD is not valid since 2025-06-01T00:00:00Z; ESID 03");
	SSID_CASE(4, "SOON", "SECRET1", &client, "03",
	    "4 partner_not_valid: partner SOON is not valid before 2027-01-01T00:00:00Z; ESID 03");
	SSID_CASE(5, "FAR", "SECRET1", &client, "03",
	    "5 address_not_allowed: partner FAR does not allow this address; ESID 03");
	SSID_CASE(6, "OTHERCERT", "SECRET1", &client, "03",
	    "6 certificate_refused: client certificate sha256=");
	ASSERT_SECURITY("matches no pin and no CA of partner OTHERCERT; ESID 03");
	/* None of these cost a PBKDF2. */
	ck_assert_uint_eq(pmh_rec.njobs_queued, 0);

	/* Wrong password: 04, only after the hash ran off the loop. */
	ck_assert_int_eq(s_open(&s, 7, "192.0.2.7", 0), SP_CONTINUE);
	ck_assert_int_eq(s_tls(&s, &client), SP_CONTINUE);
	ck_assert_int_eq(s_ssid_async(&s, "ACME", "SECRET2"), SP_REJECT);
	ck_assert_uint_eq(pmh_refusal(&s), 4);
	ck_assert(pmh_fact(&s, "partner") == NULL);
	s_close(&s, "rejected");
	ASSERT_SECURITY("7 bad_password: wrong password for partner ACME; ESID 04");
	/* A prefix of the password is no password. */
	ck_assert_int_eq(s_open(&s, 8, "192.0.2.7", 0), SP_CONTINUE);
	ck_assert_int_eq(s_tls(&s, &client), SP_CONTINUE);
	ck_assert_int_eq(s_ssid_async(&s, "ACME", "SECRET"), SP_REJECT);
	s_close(&s, "rejected");

	/* Right password, right certificate, right address. */
	ck_assert_int_eq(s_open(&s, 9, "192.0.2.7", 0), SP_CONTINUE);
	ck_assert_int_eq(s_tls(&s, &client), SP_CONTINUE);
	ck_assert_int_eq(s_ssid_async(&s, "ACME", "SECRET1"), SP_CONTINUE);
	ck_assert_str_eq(pmh_fact(&s, "partner"), "ACME");
	ck_assert_uint_eq(pmh_refusal(&s), 0);
	ck_assert(pmh_log_find("partner ACME accepted, client certificate sha256=") >= 0);
	/* The inside server's answering SSID and other commands pass. */
	ck_assert_int_eq(s_ssid(&s, "INSIDE", "X", SP_TO_OUTSIDE), SP_CONTINUE);
	/* A second SSID may not change who the session is. */
	ck_assert_int_eq(s_ssid(&s, "ACME", "SECRET1", SP_TO_INSIDE), SP_CONTINUE);
	ck_assert_int_eq(s_ssid(&s, "FAR", "SECRET1", SP_TO_INSIDE), SP_REJECT);
	s_close(&s, "normal");
	ck_assert_uint_eq(pmh_rec.nsecurity, 9);
}
END_TEST

START_TEST(ssid_missing_certificate)
{
	struct pmh_sess s;

	/* OPEN lets the handshake through without a certificate; ACME may not
	 * use it to skip its own. */
	cfg = parse_ok(section(NULL,
	    partner("ACME", "\"tls\":{\"require_client_cert\":true,\"pins\":[\"%s\"]}", client.sha),
	    partner("OPEN", NULL), NULL));
	ck_assert_int_eq(s_open(&s, 1, "192.0.2.7", 0), SP_CONTINUE);
	ck_assert_int_eq(s_tls(&s, NULL), SP_CONTINUE);
	ck_assert_int_eq(s_ssid(&s, "ACME", "SECRET1", SP_TO_INSIDE), SP_REJECT);
	ck_assert_uint_eq(pmh_refusal(&s), 3);
	s_close(&s, "rejected");
	ASSERT_SECURITY("certificate_refused: partner ACME requires a client certificate, "
	    "none was presented; ESID 03");
	/* Plain listener: on_tls never runs. */
	ck_assert_int_eq(s_open(&s, 2, "192.0.2.7", 0), SP_CONTINUE);
	ck_assert_int_eq(s_ssid(&s, "ACME", "SECRET1", SP_TO_INSIDE), SP_REJECT);
	s_close(&s, "rejected");
	ck_assert_int_eq(s_open(&s, 3, "192.0.2.7", 0), SP_CONTINUE);
	ck_assert_int_eq(s_ssid_async(&s, "OPEN", "SECRET1"), SP_CONTINUE);
	s_close(&s, "normal");
}
END_TEST

START_TEST(ssid_other_messages)
{
	struct pmh_sess s;
	struct oftp2_cmd cmd = { .code = OFTP2_SFID };
	struct sp_message sfid = { "oftp2", OFTP2_SFID, &cmd, (const uint8_t *)"H", 1, SP_TO_INSIDE,
		SP_OFTP2_H_VERSION };
	struct sp_message other = { "http", 'X', NULL, (const uint8_t *)"X", 1, SP_TO_INSIDE, 0 };
	struct sp_message bare = { "oftp2", OFTP2_SSID, NULL, (const uint8_t *)"X", 1, SP_TO_INSIDE,
		SP_OFTP2_H_VERSION };
	struct sp_message alien = { "oftp2", OFTP2_SSID, &cmd, (const uint8_t *)"X", 1, SP_TO_INSIDE,
		(SP_OFTP2_H_MAJOR + 1u) << 16 };

	cfg = parse_ok(section(NULL, partner("ACME", NULL), NULL));
	ck_assert_int_eq(s_open(&s, 1, "192.0.2.7", 0), SP_CONTINUE);
	ck_assert_int_eq(pmh_message(&s, &sfid), SP_CONTINUE);
	ck_assert_int_eq(pmh_message(&s, &other), SP_CONTINUE);
	ck_assert_int_eq(pmh_message(&s, &bare), SP_FAIL);
	/* An SSID parsed by an oftp2.h of another major is not read. */
	ck_assert_int_eq(pmh_message(&s, &alien), SP_FAIL);
	s_close(&s, "normal");
}
END_TEST

START_TEST(ssid_sync_host)
{
	struct pmh_sess s;

	MOD->fini(mctx);
	init_module(&pmh_host_sync, SP_MODE_ENFORCE);
	cfg = parse_ok(section(NULL, partner("ACME", NULL), NULL));
	ck_assert_int_eq(s_open(&s, 1, "192.0.2.7", 0), SP_CONTINUE);
	ck_assert_int_eq(s_ssid(&s, "ACME", "WRONG", SP_TO_INSIDE), SP_REJECT);
	ck_assert_uint_eq(pmh_refusal(&s), 4);
	s_close(&s, "rejected");
	ck_assert_int_eq(s_open(&s, 2, "192.0.2.7", 0), SP_CONTINUE);
	ck_assert_int_eq(s_ssid(&s, "ACME", "SECRET1", SP_TO_INSIDE), SP_CONTINUE);
	ck_assert_str_eq(pmh_fact(&s, "partner"), "ACME");
	s_close(&s, "normal");
	ck_assert_uint_eq(pmh_rec.njobs_queued, 0);
}
END_TEST

START_TEST(ssid_async_refused)
{
	struct pmh_sess s;

	cfg = parse_ok(section(NULL, partner("ACME", NULL), NULL));
	pmh_async_refuse = true;
	ck_assert_int_eq(s_open(&s, 1, "192.0.2.7", 0), SP_CONTINUE);
	ck_assert_int_eq(s_ssid(&s, "ACME", "SECRET1", SP_TO_INSIDE), SP_REJECT);
	ck_assert_uint_eq(pmh_refusal(&s), 8);
	ck_assert(pmh_log_find("no worker free") >= 0);
	s_close(&s, "rejected");
}
END_TEST

START_TEST(ssid_session_ends_while_hashing)
{
	struct pmh_sess a, b;

	cfg = parse_ok(section("\"brake\":{\"max_failures\":2}", partner("ACME", NULL), NULL));
	ck_assert_int_eq(s_open(&a, 1, "192.0.2.7", 0), SP_CONTINUE);
	ck_assert_int_eq(s_ssid(&a, "ACME", "GUESS", SP_TO_INSIDE), SP_HOLD);
	ck_assert_int_eq(s_open(&b, 2, "192.0.2.8", 0), SP_CONTINUE);
	ck_assert_int_eq(s_ssid(&b, "ACME", "SECRET1", SP_TO_INSIDE), SP_HOLD);
	/* Both hang up before the hash is done. */
	s_close(&a, "outside_closed");
	s_close(&b, "outside_closed");
	a.ended = b.ended = true;
	ck_assert_uint_eq(pmh_run_jobs(), 2);
	ck_assert_int_eq(a.nresume + b.nresume, 0);
	/* The wrong guess still counted: one more failure blocks 192.0.2.7. */
	ck_assert(pmh_log_find("bad_password from 192.0.2.7 for partner ACME "
	    "(session already closed)") >= 0);
	ck_assert_int_eq(s_open(&a, 3, "192.0.2.7", 0), SP_CONTINUE);
	ck_assert_int_eq(s_ssid(&a, "NOBODY", "X", SP_TO_INSIDE), SP_REJECT);
	s_close(&a, "rejected");
	ASSERT_SECURITY("3 rate_limited: 2 failures within 60 s");
	ck_assert_int_eq(s_open(&a, 4, "192.0.2.7", 0), SP_REJECT);
	s_close(&a, "rejected");
	/* The right password whose session was gone took no session slot. */
	MOD->config_free(NULL, cfg);
	cfg = parse_ok(section(NULL, partner("ACME", "\"max_sessions\":1"), NULL));
	ck_assert_int_eq(s_open(&b, 5, "192.0.2.8", 0), SP_CONTINUE);
	ck_assert_int_eq(s_ssid_async(&b, "ACME", "SECRET1"), SP_CONTINUE);
	s_close(&b, "normal");
}
END_TEST

START_TEST(session_limit)
{
	struct pmh_sess s1, s2, s3;
	struct pm_config *rev2;

	cfg = parse_ok(section(NULL, partner("ACME", "\"max_sessions\":2"),
	    partner("FREE", "\"max_sessions\":0"), NULL));
	ck_assert_int_eq(s_open(&s1, 1, "192.0.2.7", 0), SP_CONTINUE);
	ck_assert_int_eq(s_ssid_async(&s1, "ACME", "SECRET1"), SP_CONTINUE);
	ck_assert_int_eq(s_open(&s2, 2, "192.0.2.8", 0), SP_CONTINUE);
	ck_assert_int_eq(s_ssid_async(&s2, "ACME", "SECRET1"), SP_CONTINUE);
	ck_assert_int_eq(s_open(&s3, 3, "192.0.2.9", 0), SP_CONTINUE);
	ck_assert_int_eq(s_ssid_async(&s3, "ACME", "SECRET1"), SP_REJECT);
	ck_assert_uint_eq(pmh_refusal(&s3), 8);
	s_close(&s3, "rejected");
	ASSERT_SECURITY("3 session_limit: partner ACME has 2 sessions open, max_sessions 2; ESID 08");

	/* The count survives a new revision; a closed session frees its slot. */
	rev2 = parse_ok(section(NULL, partner("ACME", "\"max_sessions\":2"), NULL));
	MOD->config_free(NULL, cfg);
	cfg = rev2;
	ck_assert_int_eq(s_open(&s3, 4, "192.0.2.9", 0), SP_CONTINUE);
	ck_assert_int_eq(s_ssid_async(&s3, "ACME", "SECRET1"), SP_REJECT);
	s_close(&s3, "rejected");
	s_close(&s1, "normal");
	ck_assert_int_eq(s_open(&s3, 5, "192.0.2.9", 0), SP_CONTINUE);
	ck_assert_int_eq(s_ssid_async(&s3, "ACME", "SECRET1"), SP_CONTINUE);
	s_close(&s3, "normal");
	s_close(&s2, "normal");
	/* Session limits are no failures: nothing braked. */
	ck_assert_int_eq(s_open(&s3, 6, "192.0.2.9", 0), SP_CONTINUE);
	s_close(&s3, "normal");
}
END_TEST

/* ---- the brake ---- */

START_TEST(brake_blocks_and_expires)
{
	struct pmh_sess s;
	int i;

	cfg = parse_ok(section("\"brake\":{\"max_failures\":3,\"window_ms\":10000,"
	    "\"block_ms\":60000}", partner("ACME", NULL), NULL));
	/* Two failures, then the window passes: no block. */
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(s_open(&s, i, "192.0.2.7", 0), SP_CONTINUE);
		ck_assert_int_eq(s_ssid(&s, "NOBODY", "X", SP_TO_INSIDE), SP_REJECT);
		s_close(&s, "rejected");
	}
	fake_mono += 10001;
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(s_open(&s, 10 + i, "192.0.2.7", 0), SP_CONTINUE);
		ck_assert_int_eq(s_ssid_async(&s, "ACME", "GUESS"), SP_REJECT);
		s_close(&s, "rejected");
	}
	ck_assert_int_eq(pmh_security_find("rate_limited"), -1);
	/* The third within the window: blocked, one line says so. */
	ck_assert_int_eq(s_open(&s, 20, "192.0.2.7", 0), SP_CONTINUE);
	ck_assert_int_eq(s_tls(&s, NULL), SP_CONTINUE);
	ck_assert_int_eq(s_ssid_async(&s, "ACME", "GUESS"), SP_REJECT);
	s_close(&s, "rejected");
	ASSERT_SECURITY("20 rate_limited: 3 failures within 10 s: address blocked for 60 s");
	/* ...and reported to the backend once, for GET /v1/blocks. */
	ck_assert_uint_eq(pmh_rec.nposts, 1);
	ck_assert_msg(strncmp(pmh_rec.post[0], "v1/blocks {\"address\":\"192.0.2.7\","
	    "\"blocked_until\":\"20", 45) == 0 && strstr(pmh_rec.post[0],
	    "\"failures\":3,\"window_ms\":10000,\"block_ms\":60000}") != NULL,
	    "%s", pmh_rec.post[0]);
	/* Refused at accept now, before TLS; other addresses are not. */
	ck_assert_int_eq(s_open(&s, 21, "192.0.2.7", 0), SP_REJECT);
	s_close(&s, "rejected");
	ASSERT_SECURITY("21 rate_limited: address blocked for another 60 s after repeated "
	    "failures; connection closed before TLS");
	ck_assert_int_eq(s_open(&s, 22, "192.0.2.8", 0), SP_CONTINUE);
	s_close(&s, "normal");
	fake_mono += 59000;
	ck_assert_int_eq(s_open(&s, 23, "192.0.2.7", 0), SP_REJECT);
	s_close(&s, "rejected");
	ASSERT_SECURITY("23 rate_limited: address blocked for another 1 s");
	fake_mono += 1000;
	ck_assert_int_eq(s_open(&s, 24, "192.0.2.7", 0), SP_CONTINUE);
	ck_assert_int_eq(s_ssid_async(&s, "ACME", "SECRET1"), SP_CONTINUE);
	s_close(&s, "normal");
}
END_TEST

START_TEST(brake_counts_tls_failures)
{
	struct pmh_sess s;
	int i;

	cfg = parse_ok(section("\"brake\":{\"max_failures\":4}",
	    partner("ACME", "\"tls\":{\"require_client_cert\":true,\"pins\":[\"%s\"]}",
	    client.sha), NULL));
	/* Two failed handshakes (the core logs those lines), one refused
	 * certificate, and a timeout with TLS started: four. */
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(s_open(&s, i, "192.0.2.7", 0), SP_CONTINUE);
		s_close(&s, "tls_failed");
	}
	ck_assert_int_eq(s_open(&s, 2, "192.0.2.7", 0), SP_CONTINUE);
	ck_assert_int_eq(s_tls(&s, &rogue), SP_REJECT);
	s_close(&s, "rejected");
	ck_assert_int_eq(s_open(&s, 3, "192.0.2.7", 0), SP_CONTINUE);
	s_close(&s, "handshake_timeout");
	ASSERT_SECURITY("3 rate_limited: 4 failures within 60 s: address blocked for 300 s");
	ck_assert_int_eq(s_open(&s, 4, "192.0.2.7", 0), SP_REJECT);
	s_close(&s, "rejected");
	/* An ordinary end after TLS is no failure. */
	ck_assert_int_eq(s_open(&s, 5, "192.0.2.8", 0), SP_CONTINUE);
	ck_assert_int_eq(s_tls(&s, &client), SP_CONTINUE);
	s_close(&s, "io_error");
	ck_assert_uint_eq(pmh_rec.nsecurity, 3);
}
END_TEST

START_TEST(brake_off)
{
	struct pmh_sess s;
	int i;

	cfg = parse_ok(section("\"brake\":{\"max_failures\":0}", partner("ACME", NULL), NULL));
	for (i = 0; i < 30; i++) {
		ck_assert_int_eq(s_open(&s, i, "192.0.2.7", 0), SP_CONTINUE);
		ck_assert_int_eq(s_ssid(&s, "NOBODY", "X", SP_TO_INSIDE), SP_REJECT);
		s_close(&s, "rejected");
	}
	ck_assert_int_eq(pmh_security_find("rate_limited"), -1);
}
END_TEST

/* ---- outgoing ---- */

START_TEST(outgoing_route_partner)
{
	struct pmh_sess s;

	cfg = parse_ok(section(NULL, partner("ACME", NULL), NULL));
	ck_assert_int_eq(s_open(&s, 1, "198.51.100.7", 1), SP_CONTINUE);
	ck_assert_int_eq(s_tls(&s, &rogue), SP_CONTINUE);
	pmh_fact_put(&s, "route", "acme-out");
	pmh_fact_put(&s, "route.partner", "O0013000000ACME");
	/* Our own inside server calls out: its SSID goes outside, untouched. */
	ck_assert_int_eq(s_ssid(&s, "OURSELVES", "PW", SP_TO_OUTSIDE), SP_CONTINUE);
	ck_assert_int_eq(s_ssid(&s, "O0013000000ACME", "ANY", SP_TO_INSIDE), SP_CONTINUE);
	ck_assert_str_eq(pmh_fact(&s, "partner"), "O0013000000ACME");
	s_close(&s, "normal");

	ck_assert_int_eq(s_open(&s, 2, "198.51.100.7", 1), SP_CONTINUE);
	pmh_fact_put(&s, "route", "acme-out");
	pmh_fact_put(&s, "route.partner", "O0013000000ACME");
	ck_assert_int_eq(s_ssid(&s, "O0013000000EVIL", "ANY", SP_TO_INSIDE), SP_REJECT);
	ck_assert_uint_eq(pmh_refusal(&s), 3);
	ck_assert(pmh_fact(&s, "partner") == NULL);
	s_close(&s, "rejected");
	ASSERT_SECURITY("2 wrong_partner: route acme-out expects partner O0013000000ACME, "
	    "the SSID names 'O0013000000EVIL'; ESID 03");

	ck_assert_int_eq(s_open(&s, 3, "198.51.100.7", 1), SP_CONTINUE);
	ck_assert_int_eq(s_ssid(&s, "O0013000000ACME", "ANY", SP_TO_INSIDE), SP_REJECT);
	s_close(&s, "rejected");
	ASSERT_SECURITY("3 wrong_partner: outgoing session without a route partner");
	ck_assert_uint_eq(pmh_rec.njobs_queued, 0);
	/* Refusals of partners we called do not brake their address. */
	ck_assert_int_eq(pmh_security_find("rate_limited"), -1);
}
END_TEST

/* ---- detect mode ---- */

START_TEST(detect_mode)
{
	struct pmh_sess s;

	MOD->fini(mctx);
	init_module(&pmh_host, SP_MODE_DETECT);
	cfg = parse_ok(section(NULL, partner("ACME", NULL), NULL));
	ck_assert_int_eq(s_open(&s, 1, "192.0.3.7", 0), SP_CONTINUE);
	ASSERT_SECURITY("1 address_not_allowed: no enabled partner allows this address; "
	    "connection closed before TLS (detect mode: let through)");
	ck_assert_int_eq(s_ssid(&s, "NOBODY", "X", SP_TO_INSIDE), SP_CONTINUE);
	ck_assert_uint_eq(pmh_refusal(&s), 0);
	ASSERT_SECURITY("1 unknown_partner: SSID code 'NOBODY' is not a configured partner; "
	    "ESID 03 (detect mode: let through)");
	s_close(&s, "normal");
	ck_assert_int_eq(s_open(&s, 2, "192.0.2.7", 0), SP_CONTINUE);
	ck_assert_int_eq(s_ssid_async(&s, "ACME", "WRONG"), SP_CONTINUE);
	ASSERT_SECURITY("2 bad_password: wrong password for partner ACME; ESID 04 (detect mode");
	s_close(&s, "normal");
}
END_TEST


/* ---- the online decision (modules.partner.online) ---- */

#define ONLINE "\"online\":{\"path\":\"v1/decisions/ssid\",\"timeout_ms\":2500}"

START_TEST(config_online)
{
	struct pm_config *c;

	c = parse_ok(section(ONLINE, partner("ACME", NULL), NULL));
	ck_assert(c->online.on);
	ck_assert_str_eq(c->online.path, "v1/decisions/ssid");
	ck_assert_uint_eq(c->online.timeout_ms, 2500);
	MOD->config_free(NULL, c);
	c = parse_ok(section("\"online\":{\"path\":\"v1/x\"}", NULL));
	ck_assert(c->online.on);
	ck_assert_uint_eq(c->online.timeout_ms, PM_ONLINE_TIMEOUT_MS);
	MOD->config_free(NULL, c);
	c = parse_ok(section("\"online\":null", NULL));
	ck_assert(!c->online.on);
	MOD->config_free(NULL, c);
	c = parse_ok("null");
	ck_assert(!c->online.on);
	MOD->config_free(NULL, c);

	parse_err(section("\"online\":true", NULL), "online: expected an object or null");
	parse_err(section("\"online\":{}", NULL), "online: path: required");
	parse_err(section("\"online\":{\"path\":\"v1/x\",\"timeout\":5}", NULL),
	    "online: unknown member 'timeout'");
	parse_err(section("\"online\":{\"path\":\"decisions/ssid\"}", NULL), "online: path: expected v1/");
	parse_err(section("\"online\":{\"path\":\"v1/\"}", NULL), "online: path: expected v1/");
	parse_err(section("\"online\":{\"path\":\"v1/../config\"}", NULL), "online: path");
	parse_err(section("\"online\":{\"path\":\"v1/Decisions\"}", NULL), "online: path");
	parse_err(section("\"online\":{\"path\":\"v1/a?b=1\"}", NULL), "online: path");
	parse_err(section("\"online\":{\"path\":5}", NULL), "online: path: expected a string");
	parse_err(section("\"online\":{\"path\":\"v1/x\",\"timeout_ms\":99}", NULL),
	    "online: timeout_ms: 99 is outside 100..60000");
	parse_err(section("\"online\":{\"path\":\"v1/x\",\"timeout_ms\":60001}", NULL),
	    "online: timeout_ms: 60001 is outside");
}
END_TEST

START_TEST(online_read_answers)
{
	char esid[3], d[200];

	ck_assert_int_eq(pm_online_read(200, "{\"allow\":true}", esid, d, sizeof(d)),
	    PM_ONLINE_ALLOW);
	ck_assert_int_eq(pm_online_read(200, "{\"allow\":false,\"esid_reason\":\"04\"}",
	    esid, d, sizeof(d)), PM_ONLINE_REFUSE);
	ck_assert_str_eq(esid, "04");
	ck_assert_int_eq(pm_online_read(200, "{\"allow\":false,\"esid_reason\":\"08\","
	    "\"reason\":\"busy\\n\\u0001\"}", esid, d, sizeof(d)), PM_ONLINE_REFUSE);
	ck_assert_str_eq(esid, "08");
	ck_assert_str_eq(d, "refused by the backend: busy??");
	/* A refusal naming no ESID we would send is still a refusal: 03. */
	ck_assert_int_eq(pm_online_read(200, "{\"allow\":false,\"esid_reason\":\"00\"}",
	    esid, d, sizeof(d)), PM_ONLINE_REFUSE);
	ck_assert_str_eq(esid, "03");
	ck_assert_int_eq(pm_online_read(200, "{\"allow\":false,\"esid_reason\":4}",
	    esid, d, sizeof(d)), PM_ONLINE_REFUSE);
	ck_assert_str_eq(esid, "03");
	/* No decision: status, shape, type. */
	ck_assert_int_eq(pm_online_read(-1, NULL, esid, d, sizeof(d)), PM_ONLINE_NO_ANSWER);
	ck_assert_str_eq(esid, "08");
	ck_assert_int_eq(pm_online_read(500, "{\"allow\":true}", esid, d, sizeof(d)),
	    PM_ONLINE_NO_ANSWER);
	ck_assert_str_eq(d, "the backend answered HTTP 500");
	ck_assert_int_eq(pm_online_read(201, "{\"allow\":true}", esid, d, sizeof(d)),
	    PM_ONLINE_NO_ANSWER);
	ck_assert_int_eq(pm_online_read(200, NULL, esid, d, sizeof(d)), PM_ONLINE_NO_ANSWER);
	ck_assert_int_eq(pm_online_read(200, "", esid, d, sizeof(d)), PM_ONLINE_NO_ANSWER);
	ck_assert_int_eq(pm_online_read(200, "{\"allow\":tru", esid, d, sizeof(d)),
	    PM_ONLINE_NO_ANSWER);
	ck_assert_int_eq(pm_online_read(200, "[true]", esid, d, sizeof(d)), PM_ONLINE_NO_ANSWER);
	ck_assert_int_eq(pm_online_read(200, "{\"allow\":\"yes\"}", esid, d, sizeof(d)),
	    PM_ONLINE_NO_ANSWER);
	ck_assert_int_eq(pm_online_read(200, "{\"allow\":1}", esid, d, sizeof(d)),
	    PM_ONLINE_NO_ANSWER);
	ck_assert_int_eq(pm_online_read(200, "{\"decision\":\"allow\"}", esid, d, sizeof(d)),
	    PM_ONLINE_NO_ANSWER);
	ck_assert_int_eq(pm_online_read(200, "{\"a\":[[[[[[[[[[[[1]]]]]]]]]]]],\"allow\":true}",
	    esid, d, sizeof(d)), PM_ONLINE_NO_ANSWER);
}
END_TEST

/* Open a session from 192.0.2.7 with `client`'s certificate and get its
 * SSID through the password job: the question to the backend is pending. */
static void
online_asked(struct pmh_sess *s, int id)
{
	char sid[16];

	ck_assert_int_eq(s_open(s, id, "192.0.2.7", 0), SP_CONTINUE);
	snprintf(sid, sizeof(sid), "%d", id);
	pmh_fact_put(s, "session.id", sid);
	ck_assert_int_eq(s_tls(s, &client), SP_CONTINUE);
	ck_assert_int_eq(s_ssid(s, "ACME", "SECRET1", SP_TO_INSIDE), SP_HOLD);
	/* PBKDF2 runs once per module and password; later sessions of the same
	 * partner find it in the password cache. */
	ck_assert_uint_le(pmh_run_jobs(), 1);
	/* The password was right; the backend decides now, the SSID waits. */
	ck_assert_msg(s->nresume == 0, "resumed with %d; last security line: '%s'",
	    (int)s->resumed, pmh_rec.nsecurity ? pmh_rec.security[pmh_rec.nsecurity - 1] : "");
	ck_assert_uint_eq(pmh_asks_pending(), 1);
	ck_assert(pmh_ask_get(0)->s == s);
}

START_TEST(online_allow)
{
	struct pmh_sess s;
	const struct pmh_ask *a;
	char want[512];

	cfg = parse_ok(section(ONLINE, partner("ACME", NULL), NULL));
	online_asked(&s, 17);
	a = pmh_ask_get(0);
	ck_assert_str_eq(a->path, "v1/decisions/ssid");
	ck_assert_uint_eq(a->timeout_ms, 2500);
	snprintf(want, sizeof(want), "{\"odette_id\":\"ACME\",\"source_address\":"
	    "\"192.0.2.7\",\"certificate_sha256\":\"%s\",\"listener\":\"partners\","
	    "\"session\":\"17\"}", client.sha);
	ck_assert_str_eq(a->json, want);
	ck_assert(strstr(a->json, "SECRET1") == NULL);
	/* A second SSID while the backend thinks is a module failure. */
	ck_assert_int_eq(s_ssid(&s, "ACME", "SECRET1", SP_TO_INSIDE), SP_FAIL);
	ck_assert(pmh_fact(&s, "partner") == NULL);
	ck_assert_uint_eq(pmh_answer_asks(200, "{\"allow\":true,\"reason\":\"known\"}"), 1);
	ck_assert_int_eq(s.nresume, 1);
	ck_assert_int_eq(s.resumed, SP_CONTINUE);
	ck_assert_str_eq(pmh_fact(&s, "partner"), "ACME");
	ck_assert_uint_eq(pmh_refusal(&s), 0);
	ck_assert(pmh_log_find("partner ACME allowed by the backend: known") >= 0);
	s_close(&s, "normal");
	ck_assert_uint_eq(pmh_rec.nsecurity, 0);

	/* No certificate: null in the question. */
	ck_assert_int_eq(s_open(&s, 18, "192.0.2.7", 0), SP_CONTINUE);
	ck_assert_int_eq(s_ssid(&s, "ACME", "SECRET1", SP_TO_INSIDE), SP_HOLD);
	ck_assert_uint_le(pmh_run_jobs(), 1);   /* 0: from the password cache */
	ck_assert_uint_eq(pmh_asks_pending(), 1);
	ck_assert(strstr(pmh_ask_get(0)->json, "\"certificate_sha256\":null") != NULL);
	ck_assert(strstr(pmh_ask_get(0)->json, "\"session\":null") != NULL);
	pmh_answer_asks(200, "{\"allow\":true}");
	ck_assert_int_eq(s.resumed, SP_CONTINUE);
	s_close(&s, "normal");
}
END_TEST

START_TEST(online_refused)
{
	struct pmh_sess s;
	int i;

	/* One failure would brake the address, one session the partner. */
	cfg = parse_ok(section(ONLINE ",\"brake\":{\"max_failures\":1}",
	    partner("ACME", "\"max_sessions\":1"), NULL));
	online_asked(&s, 1);
	pmh_answer_asks(200, "{\"allow\":false,\"esid_reason\":\"04\",\"reason\":\"blocked\"}");
	ck_assert_int_eq(s.nresume, 1);
	ck_assert_int_eq(s.resumed, SP_REJECT);
	ck_assert_uint_eq(pmh_refusal(&s), 4);
	ck_assert(pmh_fact(&s, "partner") == NULL);
	s_close(&s, "rejected");
	ASSERT_SECURITY("1 online_refused: partner ACME refused by the backend: blocked; ESID 04");
	/* Neither braked nor holding the partner's one slot. */
	for (i = 2; i < 4; i++) {
		online_asked(&s, i);
		pmh_answer_asks(200, "{\"allow\":false}");
		ck_assert_int_eq(s.resumed, SP_REJECT);
		ck_assert_uint_eq(pmh_refusal(&s), 3);
		s_close(&s, "rejected");
	}
	ck_assert_int_eq(pmh_security_find("rate_limited"), -1);
	/* The SSID timer ends a session waiting for the backend: the partner
	 * proved its password, no failure either. */
	online_asked(&s, 7);
	s_close(&s, "timeout");
	s.ended = true;
	pmh_answer_asks(200, "{\"allow\":true}");
	ck_assert_int_eq(pmh_security_find("rate_limited"), -1);
	online_asked(&s, 4);
	pmh_answer_asks(200, "{\"allow\":true}");
	ck_assert_int_eq(s.resumed, SP_CONTINUE);
	s_close(&s, "normal");
	/* Local refusals never reach the backend. */
	ck_assert_int_eq(s_open(&s, 5, "192.0.2.8", 0), SP_CONTINUE);
	ck_assert_int_eq(s_ssid(&s, "NOBODY", "X", SP_TO_INSIDE), SP_REJECT);
	s_close(&s, "rejected");
	ck_assert_int_eq(s_open(&s, 6, "192.0.2.9", 0), SP_CONTINUE);
	ck_assert_int_eq(s_ssid_async(&s, "ACME", "WRONG"), SP_REJECT);
	ck_assert_uint_eq(pmh_refusal(&s), 4);
	s_close(&s, "rejected");
	ck_assert_uint_eq(pmh_asks_pending(), 0);
}
END_TEST

/* Each way of not getting a decision refuses with ESID 08. */
START_TEST(online_fails_closed)
{
	static const struct { int status; const char *body; const char *line; } cases[] = {
		{ -1, NULL, "1 online_unavailable: partner ACME not decided: no answer from "
		    "the backend in time, or no tunnel (online timeout 2500 ms); failing "
		    "closed; ESID 08" },
		{ 500, "{\"allow\":true}", "2 online_unavailable: partner ACME not decided: "
		    "the backend answered HTTP 500" },
		{ 404, "", "3 online_unavailable: partner ACME not decided: the backend "
		    "answered HTTP 404" },
		{ 200, "<html>", "4 online_unavailable: partner ACME not decided: the "
		    "backend's answer is no decision" },
		{ 200, "{\"allow\":\"true\"}", "5 online_unavailable" },
	};
	struct pmh_sess s;
	struct sp_host noask;
	size_t i;

	cfg = parse_ok(section(ONLINE ",\"brake\":{\"max_failures\":1}",
	    partner("ACME", NULL), NULL));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		online_asked(&s, (int)i + 1);
		pmh_answer_asks(cases[i].status, cases[i].body);
		ck_assert_int_eq(s.nresume, 1);
		ck_assert_int_eq(s.resumed, SP_REJECT);
		ck_assert_uint_eq(pmh_refusal(&s), 8);
		ck_assert(pmh_fact(&s, "partner") == NULL);
		s_close(&s, "rejected");
		ASSERT_SECURITY(cases[i].line);
	}
	/* The question cannot even be sent (no tunnel at that moment). */
	pmh_ask_refuse = true;
	ck_assert_int_eq(s_open(&s, 10, "192.0.2.7", 0), SP_CONTINUE);
	ck_assert_int_eq(s_ssid_async(&s, "ACME", "SECRET1"), SP_REJECT);
	ck_assert_uint_eq(pmh_refusal(&s), 8);
	s_close(&s, "rejected");
	ASSERT_SECURITY("10 online_unavailable: partner ACME not decided: the question "
	    "could not be sent to the backend");
	pmh_ask_refuse = false;
	/* A host that cannot ask at all (a core older than backend_ask). */
	MOD->fini(mctx);
	noask = pmh_host;
	noask.struct_size = offsetof(struct sp_host, backend_ask);
	init_module(&noask, SP_MODE_ENFORCE);
	ck_assert_int_eq(s_open(&s, 11, "192.0.2.7", 0), SP_CONTINUE);
	ck_assert_int_eq(s_ssid_async(&s, "ACME", "SECRET1"), SP_REJECT);
	ck_assert_uint_eq(pmh_refusal(&s), 8);
	s_close(&s, "rejected");
	ASSERT_SECURITY("11 online_unavailable: partner ACME not decided: this server "
	    "cannot ask the backend");
	ck_assert_uint_eq(pmh_asks_pending(), 0);
	/* A backend outage brakes nobody. */
	ck_assert_int_eq(pmh_security_find("rate_limited"), -1);
	ck_assert_int_eq(s_open(&s, 12, "192.0.2.7", 0), SP_CONTINUE);
	s_close(&s, "normal");
}
END_TEST

START_TEST(online_session_gone)
{
	struct pmh_sess s, t;

	cfg = parse_ok(section(ONLINE, partner("ACME", "\"max_sessions\":1"), NULL));
	online_asked(&s, 1);
	/* The partner hangs up while the backend thinks. */
	s_close(&s, "outside_closed");
	s.ended = true;
	ck_assert_uint_eq(pmh_answer_asks(200, "{\"allow\":true}"), 1);
	ck_assert_int_eq(s.nresume, 0);
	ck_assert(pmh_log_find("online decision for partner ACME from 192.0.2.7 came "
	    "after the session ended: allowed by the backend") >= 0);
	/* Its slot went with it. */
	online_asked(&t, 2);
	pmh_answer_asks(200, "{\"allow\":true}");
	ck_assert_int_eq(t.resumed, SP_CONTINUE);
	s_close(&t, "normal");
	/* Same for the timeout of a session already gone. */
	online_asked(&s, 3);
	s_close(&s, "outside_closed");
	s.ended = true;
	pmh_answer_asks(-1, NULL);
	ck_assert_int_eq(s.nresume, 0);
	ck_assert_uint_eq(pmh_rec.nsecurity, 0);
}
END_TEST

START_TEST(online_sync_and_outgoing)
{
	struct pmh_sess s;

	MOD->fini(mctx);
	init_module(&pmh_host_sync, SP_MODE_ENFORCE);
	cfg = parse_ok(section(ONLINE, partner("ACME", NULL), NULL));
	/* The password inline, then the question: the SSID holds at once. */
	ck_assert_int_eq(s_open(&s, 1, "192.0.2.7", 0), SP_CONTINUE);
	ck_assert_int_eq(s_ssid(&s, "ACME", "SECRET1", SP_TO_INSIDE), SP_HOLD);
	ck_assert_uint_eq(pmh_asks_pending(), 1);
	pmh_answer_asks(200, "{\"allow\":true}");
	ck_assert_int_eq(s.nresume, 1);
	ck_assert_int_eq(s.resumed, SP_CONTINUE);
	s_close(&s, "normal");
	/* Outgoing: the route chose the partner; nothing to ask. */
	ck_assert_int_eq(s_open(&s, 2, "198.51.100.7", 1), SP_CONTINUE);
	pmh_fact_put(&s, "route.partner", "ACME");
	ck_assert_int_eq(s_ssid(&s, "ACME", "ANY", SP_TO_INSIDE), SP_CONTINUE);
	s_close(&s, "normal");
	ck_assert_uint_eq(pmh_asks_pending(), 0);
}
END_TEST

START_TEST(online_detect_mode)
{
	struct pmh_sess s;

	MOD->fini(mctx);
	init_module(&pmh_host, SP_MODE_DETECT);
	cfg = parse_ok(section(ONLINE, partner("ACME", NULL), NULL));
	online_asked(&s, 1);
	pmh_answer_asks(200, "{\"allow\":false,\"esid_reason\":\"03\"}");
	ck_assert_int_eq(s.resumed, SP_CONTINUE);
	ck_assert_uint_eq(pmh_refusal(&s), 0);
	ASSERT_SECURITY("1 online_refused: partner ACME refused by the backend; ESID 03 "
	    "(detect mode: let through)");
	s_close(&s, "normal");
	online_asked(&s, 2);
	pmh_answer_asks(-1, NULL);
	ck_assert_int_eq(s.resumed, SP_CONTINUE);
	ASSERT_SECURITY("2 online_unavailable");
	s_close(&s, "normal");
}
END_TEST

/* Passwords that passed PBKDF2 are remembered per partner, keyed and bounded. */
START_TEST(password_cache)
{
	struct pm_pwcache c;
	char id[16];
	int i;

	ck_assert_int_eq(pm_pwcache_init(&c), 0);
	ck_assert(!pm_pwcache_hit(&c, "O0013000000ACME", "h1", "SECRET", 1000));
	pm_pwcache_put(&c, "O0013000000ACME", "h1", "SECRET", 1000);
	ck_assert(pm_pwcache_hit(&c, "O0013000000ACME", "h1", "SECRET", 2000));
	/* Another password, another stored hash, another partner: no hit. */
	ck_assert(!pm_pwcache_hit(&c, "O0013000000ACME", "h1", "SECRET2", 2000));
	ck_assert(!pm_pwcache_hit(&c, "O0013000000ACME", "h2", "SECRET", 2000));
	ck_assert(!pm_pwcache_hit(&c, "O0013000000OTHER", "h1", "SECRET", 2000));
	/* Expired. */
	ck_assert(!pm_pwcache_hit(&c, "O0013000000ACME", "h1", "SECRET", 1000 + PM_PWCACHE_TTL_MS));
	/* Bounded: the oldest entry goes. */
	for (i = 0; i < PM_PWCACHE_MAX; i++) {
		snprintf(id, sizeof(id), "P%d", i);
		pm_pwcache_put(&c, id, "h", "pw", 5000);
	}
	ck_assert_uint_eq(c.n, PM_PWCACHE_MAX);
	ck_assert(!pm_pwcache_hit(&c, "O0013000000ACME", "h1", "SECRET", 5000));
	ck_assert(pm_pwcache_hit(&c, "P0", "h", "pw", 5000));
	pm_pwcache_fini(&c);
}
END_TEST

/* Before a partner was accepted, an SSID that never came and a protocol
 * violation are failed attempts; after it, a timeout is none. */
START_TEST(brake_counts_preauth_ends)
{
	struct pmh_sess s;

	cfg = parse_ok(section("\"brake\":{\"max_failures\":3}", partner("ACME", NULL), NULL));
	ck_assert_int_eq(s_open(&s, 1, "192.0.2.7", 0), SP_CONTINUE);
	ck_assert_int_eq(s_tls(&s, NULL), SP_CONTINUE);
	s_close(&s, "timeout");
	ck_assert_int_eq(s_open(&s, 2, "192.0.2.7", 0), SP_CONTINUE);
	ck_assert_int_eq(s_tls(&s, NULL), SP_CONTINUE);
	s_close(&s, "protocol");
	/* Accepted, then idle: no failure. Ordinary ends: none either. */
	ck_assert_int_eq(s_open(&s, 3, "192.0.2.7", 0), SP_CONTINUE);
	ck_assert_int_eq(s_tls(&s, NULL), SP_CONTINUE);
	ck_assert_int_eq(s_ssid_async(&s, "ACME", "SECRET1"), SP_CONTINUE);
	s_close(&s, "timeout");
	ck_assert_int_eq(s_open(&s, 4, "192.0.2.7", 0), SP_CONTINUE);
	ck_assert_int_eq(s_tls(&s, NULL), SP_CONTINUE);
	s_close(&s, "outside_closed");
	ck_assert_int_eq(pmh_security_find("rate_limited"), -1);
	/* The third: the core's idle backstop when no module timed the SSID. */
	ck_assert_int_eq(s_open(&s, 5, "192.0.2.7", 0), SP_CONTINUE);
	ck_assert_int_eq(s_tls(&s, NULL), SP_CONTINUE);
	s_close(&s, "idle_timeout");
	ASSERT_SECURITY("5 rate_limited: 3 failures within 60 s: address blocked for 300 s");
	ck_assert_int_eq(s_open(&s, 6, "192.0.2.7", 0), SP_REJECT);
	s_close(&s, "rejected");
	/* Outgoing sessions never brake the partner we called. */
	ck_assert_int_eq(s_open(&s, 7, "192.0.2.8", 1), SP_CONTINUE);
	ck_assert_int_eq(s_tls(&s, NULL), SP_CONTINUE);
	s_close(&s, "protocol");
	ck_assert_int_eq(s_open(&s, 8, "192.0.2.8", 1), SP_CONTINUE);
	s_close(&s, "timeout");
	ck_assert_int_eq(s_open(&s, 9, "192.0.2.8", 1), SP_CONTINUE);
	s_close(&s, "timeout");
	ck_assert_int_eq(s_open(&s, 10, "192.0.2.8", 0), SP_CONTINUE);
	s_close(&s, "normal");
}
END_TEST

/* Guesses sent all at once: at most max_failures are checked. */
START_TEST(brake_counts_checks_in_flight)
{
	struct pmh_sess s[6];
	int i;

	cfg = parse_ok(section("\"brake\":{\"max_failures\":3}", partner("ACME", NULL), NULL));
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(s_open(&s[i], i, "192.0.2.7", 0), SP_CONTINUE);
		ck_assert_int_eq(s_ssid(&s[i], "ACME", "GUESS", SP_TO_INSIDE), SP_HOLD);
	}
	/* Three checks run: the fourth and fifth are refused unchecked. */
	for (i = 3; i < 5; i++) {
		ck_assert_int_eq(s_open(&s[i], i, "192.0.2.7", 0), SP_CONTINUE);
		ck_assert_int_eq(s_ssid(&s[i], "ACME", "SECRET1", SP_TO_INSIDE), SP_REJECT);
		ck_assert_uint_eq(pmh_refusal(&s[i]), 8);
		s_close(&s[i], "rejected");
	}
	ASSERT_SECURITY("3 rate_limited: 3 password checks failed or running within 60 s, "
	    "max_failures 3; not checked; ESID 08");
	ck_assert_uint_eq(pmh_rec.njobs_queued, 3);
	ck_assert_int_eq(pmh_security_find("address blocked for"), -1);
	/* Opened before the block starts, its SSID comes after. */
	ck_assert_int_eq(s_open(&s[5], 5, "192.0.2.7", 0), SP_CONTINUE);
	/* Their answers: the first wrong one starts the block. */
	ck_assert_uint_eq(pmh_run_jobs(), 3);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(s[i].resumed, SP_REJECT);
		s_close(&s[i], "rejected");
	}
	ASSERT_SECURITY("0 rate_limited: 3 failures within 60 s: address blocked for 300 s");
	ck_assert_int_eq(s_open(&s[0], 10, "192.0.2.7", 0), SP_REJECT);
	s_close(&s[0], "rejected");
	/* No PBKDF2 for an SSID from a blocked address, even the right one. */
	ck_assert_int_eq(s_ssid(&s[5], "ACME", "SECRET1", SP_TO_INSIDE), SP_REJECT);
	ck_assert_uint_eq(pmh_refusal(&s[5]), 8);
	s_close(&s[5], "rejected");
	ASSERT_SECURITY("5 rate_limited: address blocked for another 300 s after repeated "
	    "failures; ESID 08");
	ck_assert_uint_eq(pmh_rec.njobs_queued, 3);
	/* The block ends: checks run again. */
	fake_mono += 300000;
	ck_assert_int_eq(s_open(&s[0], 11, "192.0.2.7", 0), SP_CONTINUE);
	ck_assert_int_eq(s_ssid_async(&s[0], "ACME", "SECRET1"), SP_CONTINUE);
	s_close(&s[0], "normal");
}
END_TEST

/* Right passwords give their place back: a partner never brakes itself. */
START_TEST(brake_right_passwords_free)
{
	struct pmh_sess s[2];
	char id[16];
	int i;

	cfg = parse_ok(section("\"brake\":{\"max_failures\":2}", partner("P0", NULL),
	    partner("P1", NULL), partner("P2", NULL), partner("P3", NULL),
	    partner("P4", NULL), partner("P5", NULL), NULL));
	/* Different partners: no password cache hit, every one a PBKDF2. */
	for (i = 0; i < 6; i += 2) {
		snprintf(id, sizeof(id), "P%d", i);
		ck_assert_int_eq(s_open(&s[0], i, "192.0.2.7", 0), SP_CONTINUE);
		ck_assert_int_eq(s_ssid(&s[0], id, "SECRET1", SP_TO_INSIDE), SP_HOLD);
		snprintf(id, sizeof(id), "P%d", i + 1);
		ck_assert_int_eq(s_open(&s[1], i + 1, "192.0.2.7", 0), SP_CONTINUE);
		ck_assert_int_eq(s_ssid(&s[1], id, "SECRET1", SP_TO_INSIDE), SP_HOLD);
		ck_assert_uint_eq(pmh_run_jobs(), 2);
		ck_assert_int_eq(s[0].resumed, SP_CONTINUE);
		ck_assert_int_eq(s[1].resumed, SP_CONTINUE);
		s_close(&s[0], "normal");
		s_close(&s[1], "normal");
	}
	ck_assert_uint_eq(pmh_rec.nsecurity, 0);
}
END_TEST

static Suite *
partner_suite(void)
{
	Suite *s = suite_create("partner");
	TCase *tc = tcase_create("module");

	tcase_add_unchecked_fixture(tc, global_setup, global_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, config_valid);
	tcase_add_test(tc, config_errors);
	tcase_add_test(tc, networks);
	tcase_add_test(tc, times);
	tcase_add_test(tc, open_address);
	tcase_add_test(tc, open_no_config);
	tcase_add_test(tc, init_options);
	tcase_add_test(tc, tls_certificates);
	tcase_add_test(tc, tls_crl_expired);
	tcase_add_test(tc, cert_binding);
	tcase_add_test(tc, cert_binding_revocation);
	tcase_add_test(tc, ssid_unbound_certificate);
	tcase_add_test(tc, ssid_decisions);
	tcase_add_test(tc, ssid_missing_certificate);
	tcase_add_test(tc, ssid_other_messages);
	tcase_add_test(tc, ssid_sync_host);
	tcase_add_test(tc, ssid_async_refused);
	tcase_add_test(tc, ssid_session_ends_while_hashing);
	tcase_add_test(tc, session_limit);
	tcase_add_test(tc, brake_blocks_and_expires);
	tcase_add_test(tc, brake_counts_tls_failures);
	tcase_add_test(tc, brake_off);
	tcase_add_test(tc, brake_counts_preauth_ends);
	tcase_add_test(tc, brake_counts_checks_in_flight);
	tcase_add_test(tc, brake_right_passwords_free);
	tcase_add_test(tc, outgoing_route_partner);
	tcase_add_test(tc, detect_mode);
	tcase_add_test(tc, config_online);
	tcase_add_test(tc, online_read_answers);
	tcase_add_test(tc, online_allow);
	tcase_add_test(tc, online_refused);
	tcase_add_test(tc, online_fails_closed);
	tcase_add_test(tc, online_session_gone);
	tcase_add_test(tc, online_sync_and_outgoing);
	tcase_add_test(tc, online_detect_mode);
	tcase_add_test(tc, password_cache);
	suite_add_tcase(s, tc);
	return s;
}


int
main(void)
{
	SRunner *sr = srunner_create(partner_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
