/*
 * check_api_site.c - unit tests of smartproxy-api's site-file reader and
 * password hashes: a good site decodes field by field; each kind of bad site
 * is refused with its exact "FILE:LINE: key '...': ..." line.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/pwhash.h"
#include "api/site.h"
#include "core/err.h"

static const char CERT[] =
	"-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n";
static const char KEY[] =
	"-----BEGIN PRIVATE KEY-----\nMIIBfake\n-----END PRIVATE KEY-----\n";

/* Files by name, no disk: cert*, ca* give CERT; key* gives KEY. */
static int
mem_read(const char *path, char **out, char *why, size_t whylen)
{
	const char *b = strrchr(path, '/');

	b = b ? b + 1 : path;
	if (strncmp(b, "cert", 4) == 0 || strncmp(b, "ca", 2) == 0)
		*out = strdup(CERT);
	else if (strncmp(b, "key", 3) == 0)
		*out = strdup(KEY);
	else if (strncmp(b, "text", 4) == 0)
		*out = strdup("just some text, no PEM at all\n");
	else {
		snprintf(why, whylen, "cannot open %s: No such file", path);
		return SP_ERR_SYSTEM;
	}
	return *out ? SP_OK : SP_ERR_NOMEM;
}

static const struct sp_site_opts OPTS = { .basedir = "/site",
    .read_file = mem_read, .pbkdf2_iterations = 1 };

static const char GOOD[] =
	"listeners:\n"                                          /* 1 */
	"  - name: tls\n"
	"    address: \"0.0.0.0:6619\"\n"
	"    tls:\n"
	"      certificate_chain: cert.pem\n"                   /* 5 */
	"      private_key: /abs/key.pem\n"
	"  - name: plain\n"
	"    address: \"[::1]:3305\"\n"
	"partners:\n"
	"  - odette_id: O0013000000ACME\n"                      /* 10 */
	"    password: SECRET1\n"
	"    allowed_networks: [198.51.100.0/24, \"2001:db8::/32\", 192.0.2.7]\n"
	"    tls:\n"
	"      require_client_cert: true\n"
	"      pins: [" "ABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABAB" "]\n"
	"    max_sessions: 4\n"
	"    enabled: false\n"
	"    valid_from: 2025-01-01\n"
	"    valid_until: 2026-01-01T12:00:00Z\n"
	"  - odette_id: O0013000000BETA\n"                      /* 20 */
	"    password: pw\n"
	"    allowed_networks: []\n"
	"routes:\n"
	"  - name: acme-out\n"
	"    client_listen: \"127.0.0.1:13305\"\n"              /* 25 */
	"    partner_odette_id: O0013000000ACME\n"
	"    partner_address: \"198.51.100.7:6619\"\n"
	"    source_address: 192.0.2.10\n"
	"    tls:\n"
	"      ca_bundle: ca.pem\n"                             /* 30 */
	"      client_certificate_chain: cert-client.pem\n"
	"      client_private_key: key-client.pem\n"
	"limits:\n"
	"  max_sessions: 500\n"
	"  linger_ms: 0\n"                                      /* 35 */
	"log_ignore:\n"
	"  - description: scanner\n"
	"    match: reset by peer\n"
	"    valid_until: 2030-01-01\n"
	"modules:\n"                                            /* 40 */
	"  oftp2:\n"
	"    tolerate_lowercase: true\n"
	"    depth: 3\n"
	"    names: [a, \"1\", 2]\n"
	"outgoing:\n"                                           /* 45 */
	"  source_address: \"2001:DB8::10\"\n";

START_TEST(good_site)
{
	struct sp_site s;
	char err[512] = "";
	json_object *o;

	ck_assert_int_eq(sp_site_parse("site.yaml", GOOD, strlen(GOOD), &OPTS,
	    &s, err, sizeof(err)), 0);
	ck_assert_uint_eq(s.nlisteners, 2);
	ck_assert_str_eq(s.listeners[0].name, "tls");
	ck_assert_str_eq(s.listeners[0].address, "0.0.0.0:6619");
	ck_assert(s.listeners[0].tls);
	ck_assert_str_eq(s.listeners[0].chain_pem, CERT);
	ck_assert_str_eq(s.listeners[0].key_pem, KEY);
	ck_assert(!s.listeners[1].tls);
	ck_assert_str_eq(s.listeners[1].address, "[::1]:3305");

	ck_assert_uint_eq(s.npartners, 2);
	ck_assert_str_eq(s.partners[0].odette_id, "O0013000000ACME");
	ck_assert_int_eq(sp_pwhash_verify("SECRET1", 7,
	    s.partners[0].password_hash), 0);
	ck_assert_int_eq(sp_pwhash_verify("SECRET2", 7,
	    s.partners[0].password_hash), SP_ERR_DENIED);
	ck_assert_uint_eq(s.partners[0].networks.n, 3);
	ck_assert_str_eq(s.partners[0].networks.v[1], "2001:db8::/32");
	ck_assert_str_eq(s.partners[0].networks.v[2], "192.0.2.7/32");
	ck_assert(s.partners[0].require_client_cert);
	ck_assert_str_eq(s.partners[0].pins.v[0],
	    "abababababababababababababababababababababababababababababababab");
	ck_assert_int_eq(s.partners[0].max_sessions, 4);
	ck_assert(!s.partners[0].enabled);
	ck_assert_str_eq(s.partners[0].valid_from, "2025-01-01T00:00:00Z");
	ck_assert_str_eq(s.partners[0].valid_until, "2026-01-01T12:00:00Z");
	ck_assert(s.partners[1].enabled);
	ck_assert_str_eq(s.partners[1].description, "");
	ck_assert_uint_eq(s.partners[1].networks.n, 0);

	ck_assert_uint_eq(s.nroutes, 1);
	ck_assert_str_eq(s.routes[0].source_address, "192.0.2.10");
	ck_assert_str_eq(s.routes[0].client_key, KEY);
	ck_assert_str_eq(s.routes[0].ca_bundle, CERT);
	/* Normalised like a route's source address. */
	ck_assert_str_eq(s.outgoing_source, "2001:db8::10");

	ck_assert_int_eq(s.limits[SP_LIMIT_MAX_SESSIONS], 500);
	ck_assert_int_eq(s.limits[SP_LIMIT_LINGER_MS], 0);
	ck_assert_int_eq(s.limits[SP_LIMIT_HANDSHAKE_TIMEOUT_MS], 10000);

	ck_assert_uint_eq(s.nrules, 1);
	ck_assert_str_eq(s.rules[0].valid_until, "2030-01-01T00:00:00Z");
	ck_assert_ptr_null(s.rules[0].valid_from);

	ck_assert(json_object_object_get_ex(s.modules, "oftp2", &o));
	ck_assert_str_eq(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
	    "{\"tolerate_lowercase\":true,\"depth\":3,\"names\":[\"a\",\"1\",2]}");
	sp_site_free(&s);
}
END_TEST

/* A keyless listener behind a balancer: key: inside and proxy_protocol both. */
START_TEST(keyless_behind_balancer)
{
	static const char text[] = "listeners:\n  - name: lb\n"
	    "    address: \"0.0.0.0:6619\"\n"
	    "    proxy_protocol:\n      trusted: [10.0.0.0/8]\n"
	    "    tls:\n      certificate_chain: cert.pem\n      key: inside\n";
	struct sp_site s;
	char err[512] = "";

	ck_assert_int_eq(sp_site_parse("s.yaml", text, strlen(text), &OPTS,
	    &s, err, sizeof(err)), 0);
	ck_assert_uint_eq(s.nlisteners, 1);
	ck_assert(s.listeners[0].tls);
	ck_assert_str_eq(s.listeners[0].chain_pem, CERT);
	ck_assert_ptr_null(s.listeners[0].key_pem);
	ck_assert(s.listeners[0].proxy_protocol);
	ck_assert_uint_eq(s.listeners[0].proxy_trusted.n, 1);
	ck_assert_str_eq(s.listeners[0].proxy_trusted.v[0], "10.0.0.0/8");
	sp_site_free(&s);
}
END_TEST

#define HEX32 "0123456789abcdef0123456789abcdef"

/* An exported partner: its stored hash is taken as it is. */
START_TEST(password_hash_as_exported)
{
	static const char text[] = "partners:\n  - odette_id: O1\n"
	    "    password_hash: \"pbkdf2-sha256$10000$" HEX32 "$" HEX32 HEX32
	    "\"\n    allowed_networks: []\n"
	    "limits:\n  max_sessions: 5\n";
	struct sp_site s;
	char err[512] = "";

	ck_assert_msg(sp_site_parse("s.yaml", text, strlen(text), &OPTS, &s, err,
	    sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(s.partners[0].password_hash, "pbkdf2-sha256$10000$"
	    HEX32 "$" HEX32 HEX32);
	/* Only the limits the file names are marked given (merge import). */
	ck_assert_uint_eq(s.limits_given, 1u << SP_LIMIT_MAX_SESSIONS);
	sp_site_free(&s);
}
END_TEST

/* A bad site: base text with one line replaced, and the exact error. */
struct bad {
	const char *text;
	const char *err;
};

static const struct bad BAD[] = {
	{ "listeners:\n  - name: a\n    adress: \"1.2.3.4:1\"\n",
	  "s.yaml:3: key 'listeners[0].adress': unknown key" },
	{ "listeners:\n  - name: a\n",
	  "s.yaml:2: key 'listeners[0].address': required but missing" },
	{ "listeners:\n  - name: a\n    address: example.com:6619\n",
	  "s.yaml:3: key 'listeners[0].address': expected a numeric address "
	  "with port, like 192.0.2.1:6619 or [2001:db8::1]:6619" },
	{ "listeners:\n  - name: a\n    address: \"1.2.3.4:1\"\n"
	  "  - name: a\n    address: \"1.2.3.4:2\"\n",
	  "s.yaml:4: key 'listeners[1].name': \"a\" is already listeners[0]" },
	{ "listeners:\n  - name: a\n    address: \"1.2.3.4:1\"\n    tls:\n"
	  "      certificate_chain: text.pem\n      private_key: key.pem\n",
	  "s.yaml:5: key 'listeners[0].tls.certificate_chain': /site/text.pem "
	  "holds no PEM CERTIFICATE" },
	{ "listeners:\n  - name: a\n    address: \"1.2.3.4:1\"\n    tls:\n"
	  "      certificate_chain: cert.pem\n      private_key: missing.pem\n",
	  "s.yaml:6: key 'listeners[0].tls.private_key': cannot open "
	  "/site/missing.pem: No such file" },
	{ "partners:\n  - odette_id: O1\n    password: way-too-long\n"
	  "    allowed_networks: []\n",
	  "s.yaml:3: key 'partners[0].password': expected 1 to 8 characters" },
	{ "partners:\n  - odette_id: o1\n    password: x\n    allowed_networks: []\n",
	  "s.yaml:2: key 'partners[0].odette_id': expected 1 to 25 of A-Z and 0-9" },
	{ "partners:\n  - odette_id: O1\n    password: x\n",
	  "s.yaml:2: key 'partners[0].allowed_networks': required but missing "
	  "(an empty list allows no address)" },
	{ "partners:\n  - odette_id: O1\n    password: x\n"
	  "    allowed_networks: [10.0.0.1/8]\n",
	  "s.yaml:4: key 'partners[0].allowed_networks[0]': expected a network "
	  "like 192.0.2.0/24 or 2001:db8::/32 (host bits zero)" },
	{ "partners:\n  - odette_id: O1\n    password: x\n    allowed_networks: []\n"
	  "    max_sessions: -1\n",
	  "s.yaml:5: key 'partners[0].max_sessions': expected an integer" },
	{ "partners:\n  - odette_id: O1\n    password: x\n    allowed_networks: []\n"
	  "    enabled: yes\n",
	  "s.yaml:5: key 'partners[0].enabled': expected true or false" },
	{ "partners:\n  - odette_id: O1\n    password: x\n    allowed_networks: []\n"
	  "    valid_from: 2025-02-30\n",
	  "s.yaml:5: key 'partners[0].valid_from': expected YYYY-MM-DD or "
	  "YYYY-MM-DDTHH:MM:SSZ" },
	{ "partners:\n  - odette_id: O1\n    password: x\n    allowed_networks: []\n"
	  "    tls:\n      require_client_cert: true\n",
	  "s.yaml:6: key 'partners[0].tls': require_client_cert needs pins or "
	  "ca_bundle" },
	{ "partners:\n  - odette_id: O1\n    password: x\n    allowed_networks: []\n"
	  "    tls:\n      bind: subject\n",
	  "s.yaml:6: key 'partners[0].tls': bind: expected cn, san, dn or none" },
	{ "partners:\n  - odette_id: O1\n    password: x\n    allowed_networks: []\n"
	  "    tls:\n      bind: dn\n",
	  "s.yaml:6: key 'partners[0].tls': bind_dn: required with bind dn (the subject DN, "
	  "RFC 4514)" },
	{ "partners:\n  - odette_id: O1\n    password: x\n    allowed_networks: []\n"
	  "    tls:\n      bind_dn: CN=O1\n",
	  "s.yaml:6: key 'partners[0].tls': bind_dn: only with bind dn" },
	{ "partners:\n  - odette_id: O1\n    password: x\n    allowed_networks: []\n"
	  "    password: y\n",
	  "s.yaml:5: key 'partners[0].password': given twice (first on line 3)" },
	{ "routes:\n  - name: r\n    client_listen: \"127.0.0.1:1\"\n"
	  "    partner_odette_id: NOBODY\n    partner_address: \"192.0.2.1:6619\"\n",
	  "s.yaml:2: key 'routes[0].partner_odette_id': no partner \"NOBODY\" "
	  "in partners" },
	{ "limits:\n  max_sessions: 0\n",
	  "s.yaml:2: key 'limits.max_sessions': 0 is outside 1..100000" },
	{ "log_ignore:\n  - description: d\n",
	  "s.yaml:2: key 'log_ignore[0].match': required but missing" },
	{ "modules:\n  partner:\n    partners: []\n",
	  "s.yaml:3: key 'modules.partner': 'partners' is filled from the site's "
	  "partners section" },
	{ "modules:\n  Bad-Name: {}\n",
	  "s.yaml:2: key 'modules.Bad-Name': a module name is made of a-z, 0-9 "
	  "and '_'" },
	{ "listeners: {}\n",
	  "s.yaml:1: key 'listeners': expected a sequence, got a mapping" },
	{ "colour: blue\n", "s.yaml:1: key 'colour': unknown key" },
	{ "outgoing:\n  source_address: \"192.0.2.10:6619\"\n",
	  "s.yaml:2: key 'outgoing.source_address': expected a numeric address "
	  "without port" },
	{ "outgoing:\n  source_address: host.example\n",
	  "s.yaml:2: key 'outgoing.source_address': expected a numeric address "
	  "without port" },
	{ "outgoing:\n  source_adress: 192.0.2.10\n",
	  "s.yaml:2: key 'outgoing.source_adress': unknown key" },
	{ "outgoing: [192.0.2.10]\n",
	  "s.yaml:1: key 'outgoing': expected a mapping, got a sequence" },
	{ "listeners:\n  - name: a\n    address: \"1.2.3.4:1\"\n"
	  "    proxy_protocol: {trusted: []}\n",
	  "s.yaml:4: key 'listeners[0].proxy_protocol.trusted': expected at "
	  "least one network of trusted balancers" },
	{ "listeners:\n  - name: a\n    address: \"1.2.3.4:1\"\n"
	  "    proxy_protocol:\n      trusted: [lb.example]\n",
	  "s.yaml:5: key 'listeners[0].proxy_protocol.trusted[0]': expected a "
	  "network like 192.0.2.0/24 or 2001:db8::/32 (host bits zero)" },
	{ "listeners:\n  - name: a\n    address: \"1.2.3.4:1\"\n"
	  "    proxy_protocol:\n      trust: [10.0.0.1]\n",
	  "s.yaml:5: key 'listeners[0].proxy_protocol.trust': unknown key" },
	{ "listeners:\n  - name: a\n    address: \"1.2.3.4:1\"\n"
	  "    proxy_protocol: true\n",
	  "s.yaml:4: key 'listeners[0].proxy_protocol': expected a mapping, got "
	  "a scalar" },
	{ "partners:\n  - odette_id: O1\n    password: x\n    allowed_networks: []\n"
	  "    password_hash: \"pbkdf2-sha256$10000$" HEX32 "$" HEX32 HEX32 "\"\n",
	  "s.yaml:5: key 'partners[0].password_hash': give either password or "
	  "password_hash, not both" },
	{ "partners:\n  - odette_id: O1\n    allowed_networks: []\n"
	  "    password_hash: \"pbkdf2-sha256$10000$abc$def\"\n",
	  "s.yaml:4: key 'partners[0].password_hash': expected "
	  "pbkdf2-sha256$ITERATIONS$SALT$HASH (docs/api.md)" },
	{ "partners:\n  - odette_id: O1\n    allowed_networks: []\n"
	  "    password_hash: \"pbkdf2-sha256$9999$" HEX32 "$" HEX32 HEX32 "\"\n",
	  "s.yaml:4: key 'partners[0].password_hash': at least 10000 iterations "
	  "(the partner module refuses fewer)" },
	{ "", "s.yaml: the file is empty" },
	/* revocation[]: per CA bundle a partner or route names. */
#define RV_PARTNER "partners:\n  - odette_id: O1\n    password: x\n" \
	"    allowed_networks: []\n    tls:\n      ca_bundle: ca.pem\n"
	{ RV_PARTNER "revocation:\n  - ca_bundle: ca-other.pem\n    crl_expired: maybe\n",
	  "s.yaml:9: key 'revocation[0].crl_expired': expected fail_closed or fail_open" },
	{ RV_PARTNER "revocation:\n  - ca_bundle: ca.pem\n    crl_urls: [ftp://x/y]\n",
	  "s.yaml:9: key 'revocation[0].crl_urls[0]': expected an http:// or https:// URL" },
	{ RV_PARTNER "revocation:\n  - ca_bundle: ca.pem\n    crl: cert.pem\n",
	  "s.yaml:9: key 'revocation[0].crl': /site/cert.pem holds no PEM X509 CRL" },
	{ RV_PARTNER "revocation:\n  - crl_urls: []\n",
	  "s.yaml:8: key 'revocation[0].ca_bundle': required but missing" },
	{ RV_PARTNER "revocation:\n  - ca_bundle: ca.pem\n  - ca_bundle: ca2.pem\n",
	  "s.yaml:9: key 'revocation[1].ca_bundle': the same CA bundle as revocation[0]" },
	{ "partners:\n  - odette_id: O1\n    password: x\n    allowed_networks: []\n"
	  "revocation:\n  - ca_bundle: ca.pem\n",
	  "s.yaml:6: key 'revocation[0].ca_bundle': no partner or route has this ca_bundle" },
#undef RV_PARTNER
};

/* tls.bind and tls.bind_dn: what a CA-issued certificate must name. */
START_TEST(partner_bind)
{
	static const char site[] =
	    "partners:\n"
	    "  - odette_id: O1\n    password: x\n    allowed_networks: []\n"
	    "  - odette_id: O2\n    password: x\n    allowed_networks: []\n"
	    "    tls:\n      bind: san\n"
	    "  - odette_id: O3\n    password: x\n    allowed_networks: []\n"
	    "    tls:\n      bind: dn\n      bind_dn: \"CN=O3,O=Example\\\\, Inc.\"\n";
	struct sp_site s;
	char err[512] = "";

	ck_assert_msg(sp_site_parse("s.yaml", site, strlen(site), &OPTS, &s, err,
	    sizeof(err)) == 0, "%s", err);
	ck_assert_ptr_null(s.partners[0].bind);
	ck_assert_str_eq(s.partners[1].bind, "san");
	ck_assert_ptr_null(s.partners[1].bind_dn);
	ck_assert_str_eq(s.partners[2].bind, "dn");
	ck_assert_str_eq(s.partners[2].bind_dn, "CN=O3,O=Example\\, Inc.");
	sp_site_free(&s);
}
END_TEST

START_TEST(bad_site)
{
	struct sp_site s;
	char err[512] = "";
	const struct bad *b = &BAD[_i];

	ck_assert_int_eq(sp_site_parse("s.yaml", b->text, strlen(b->text), &OPTS,
	    &s, err, sizeof(err)), SP_ERR_CONFIG);
	ck_assert_str_eq(err, b->err);
}
END_TEST

START_TEST(yaml_syntax_error)
{
	static const char text[] = "listeners:\n  - name: [a\n";
	struct sp_site s;
	char err[512] = "";

	ck_assert_int_eq(sp_site_parse("s.yaml", text, strlen(text), &OPTS, &s,
	    err, sizeof(err)), SP_ERR_CONFIG);
	ck_assert_msg(strncmp(err, "s.yaml:", 7) == 0, "%s", err);
}
END_TEST

START_TEST(load_from_disk)
{
	char dir[] = "/tmp/check_api_site.XXXXXX", path[256], err[512];
	struct sp_site s;
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/cert.pem", dir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs(CERT, f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/key.pem", dir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs(KEY, f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/site.yaml", dir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs("listeners:\n  - name: l\n    address: \"127.0.0.1:6619\"\n"
	    "    tls:\n      certificate_chain: cert.pem\n"
	    "      private_key: key.pem\n", f);
	fclose(f);
	ck_assert_int_eq(sp_site_load(path, NULL, &s, err, sizeof(err)), 0);
	ck_assert_str_eq(s.listeners[0].key_pem, KEY);
	sp_site_free(&s);
	snprintf(path, sizeof(path), "%s/cert.pem", dir); unlink(path);
	snprintf(path, sizeof(path), "%s/key.pem", dir); unlink(path);
	snprintf(path, sizeof(path), "%s/site.yaml", dir); unlink(path);
	ck_assert_int_eq(sp_site_load(path, NULL, &s, err, sizeof(err)),
	    SP_ERR_SYSTEM);
	rmdir(dir);
}
END_TEST

/* Known answer for PBKDF2-HMAC-SHA256, one iteration. */
START_TEST(pwhash_known_answer)
{
	const uint8_t salt[16] = "saltsaltsaltsalt";
	char out[SP_PWHASH_TEXT_MAX], expect[SP_PWHASH_TEXT_MAX];

	ck_assert_int_eq(sp_pwhash_make_salted("password", 8, 1, salt, out,
	    sizeof(out)), 0);
	/* Expected value from Python's hashlib.pbkdf2_hmac. */
	ck_assert_str_eq(out, "pbkdf2-sha256$1$73616c7473616c7473616c7473616c74$"
	    "b13d6697e99cd6d1745da097ee03e4be501341e76fe9161a788de3d4cd0be219");
	ck_assert_int_eq(sp_pwhash_verify("password", 8, out), 0);
	ck_assert_int_eq(sp_pwhash_verify("passwore", 8, out), SP_ERR_DENIED);
	ck_assert_int_eq(sp_pwhash_verify("password", 7, out), SP_ERR_DENIED);
	/* Same input, same salt: same hash; another salt: another hash. */
	ck_assert_int_eq(sp_pwhash_make_salted("password", 8, 1, salt, expect,
	    sizeof(expect)), 0);
	ck_assert_str_eq(out, expect);
	ck_assert_int_eq(sp_pwhash_make("password", 8, 1, expect,
	    sizeof(expect)), 0);
	ck_assert_str_ne(out, expect);
	ck_assert_int_eq(sp_pwhash_verify("password", 8, expect), 0);
}
END_TEST

START_TEST(pwhash_malformed)
{
	static const char *const bad[] = {
		"", "pbkdf2-sha256$", "pbkdf2-sha1$1$00$00",
		"pbkdf2-sha256$0$73616c7473616c7473616c7473616c74$"
		"0000000000000000000000000000000000000000000000000000000000000000",
		"pbkdf2-sha256$1$73616c74$"
		"0000000000000000000000000000000000000000000000000000000000000000",
		"pbkdf2-sha256$1$73616c7473616c7473616c7473616c74$00",
		"pbkdf2-sha256$x$73616c7473616c7473616c7473616c74$"
		"0000000000000000000000000000000000000000000000000000000000000000",
		NULL
	};
	size_t i;

	for (i = 0; bad[i] != NULL; i++)
		ck_assert_msg(sp_pwhash_verify("pw", 2, bad[i]) == SP_ERR_INVALID,
		    "%s", bad[i]);
	ck_assert_int_eq(sp_pwhash_check_format("pbkdf2-sha256$100000$"
	    "73616c7473616c7473616c7473616c74$"
	    "0000000000000000000000000000000000000000000000000000000000000000"),
	    0);
}
END_TEST

START_TEST(cidr_and_time)
{
	char out[80], t[21];

	ck_assert_int_eq(sp_site_cidr_normalise("10.0.0.0/8", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "10.0.0.0/8");
	ck_assert_int_eq(sp_site_cidr_normalise("2001:DB8::/32", out,
	    sizeof(out)), 0);
	ck_assert_str_eq(out, "2001:db8::/32");
	ck_assert_int_eq(sp_site_cidr_normalise("10.0.0.0/33", out, sizeof(out)), -1);
	ck_assert_int_eq(sp_site_cidr_normalise("10.0.0.0/", out, sizeof(out)), -1);
	ck_assert_int_eq(sp_site_cidr_normalise("/8", out, sizeof(out)), -1);
	ck_assert_int_eq(sp_site_time_normalise("2024-02-29", t), 0);
	ck_assert_str_eq(t, "2024-02-29T00:00:00Z");
	ck_assert_int_eq(sp_site_time_normalise("2023-02-29", t), -1);
	ck_assert_int_eq(sp_site_time_normalise("2024-01-01T24:00:00Z", t), -1);
	ck_assert_int_eq(sp_site_time_normalise("2024-01-01T10:00:00+01:00", t), -1);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("api_site");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, good_site);
	tcase_add_test(tc, keyless_behind_balancer);
	tcase_add_test(tc, partner_bind);

	tcase_add_test(tc, password_hash_as_exported);
	tcase_add_loop_test(tc, bad_site, 0, (int)(sizeof(BAD) / sizeof(BAD[0])));
	tcase_add_test(tc, yaml_syntax_error);
	tcase_add_test(tc, load_from_disk);
	tcase_add_test(tc, pwhash_known_answer);
	tcase_add_test(tc, pwhash_malformed);
	tcase_add_test(tc, cidr_and_time);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
