/*
 * check_api_partner_rules.c - one set of partner rules (partner_rules.h):
 * the same bad values go through the three ways to a stored partner, the
 * site file (sp_site_parse), POST /v1/partners (sp_partner_body_post) and
 * PUT /v1/partners/<id> (sp_partner_body_change, then
 * sp_partner_change_apply onto a valid partner), and each refuses it with
 * the same words.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/bodies.h"
#include "api/partner_body.h"
#include "api/partner_rules.h"
#include "api/pwhash.h"
#include "api/site.h"
#include "core/err.h"

/* One bad value, written for each path (NULL: the path cannot say it). */
struct bad {
	const char *yaml;     /* lines added to a valid partner of the site file */
	const char *json;     /* members added to a valid POST body / a PUT body */
	const char *why;      /* what every path must say */
	bool put;             /* the PUT body can say it too */
};

static const struct bad bads[] = {
	{ "    odette_id: acme\n", "\"odette_id\":\"acme\"",
	  "expected 1 to 25 of A-Z and 0-9", false },
	{ "    odette_id: ABCDEFGHIJKLMNOPQRSTUVWXYZ\n",
	  "\"odette_id\":\"ABCDEFGHIJKLMNOPQRSTUVWXYZ\"",
	  "expected 1 to 25 of A-Z and 0-9", false },
	{ "    password: \"\"\n", "\"password\":\"\"",
	  "expected 1 to 8 characters", true },
	{ "    password: has sp\n", "\"password\":\"has sp\"",
	  "only printable ASCII without spaces (OFTP2 X(8))", true },
	{ "    password: ninechars\n", "\"password\":\"ninechars\"",
	  "expected 1 to 8 characters", true },
	{ "    max_sessions: 100001\n", "\"max_sessions\":100001",
	  "must be 0..100000", true },
	{ "    description: \"%s\"\n", "\"description\":\"%s\"",
	  "at most 200 characters", true },
	{ "    valid_from: 2027-01-01\n    valid_until: 2026-01-01\n",
	  "\"valid_from\":\"2027-01-01\",\"valid_until\":\"2026-01-01\"",
	  "must be after valid_from", true },
	{ "    tls:\n      require_client_cert: true\n",
	  "\"tls\":{\"require_client_cert\":true}",
	  "require_client_cert needs pins or ca_bundle", true },
	{ "    tls:\n      bind: subject\n", "\"tls\":{\"bind\":\"subject\"}",
	  "bind: expected cn, san, dn or none", true },
	{ "    tls:\n      bind: cn\n      bind_dn: CN=X\n",
	  "\"tls\":{\"bind\":\"cn\",\"bind_dn\":\"CN=X\"}",
	  "bind_dn: only with bind dn", true },
	{ "    tls:\n      bind: dn\n", "\"tls\":{\"bind\":\"dn\"}",
	  "bind_dn: required with bind dn", true },
};

static char long_text[202];

/* The bad member with %s filled by 201 letters (the description case). */
static void
fill(char *out, size_t n, const char *tmpl)
{
	const char *at = strstr(tmpl, "%s");

	if (at == NULL)
		snprintf(out, n, "%s", tmpl);
	else
		snprintf(out, n, "%.*s%s%s", (int)(at - tmpl), tmpl, long_text, at + 2);
}

static void
assert_says(const char *path, const struct bad *b, const char *err)
{
	if (strstr(err, b->why) == NULL)
		ck_abort_msg("%s refused %s with \"%s\", not \"%s\"", path, b->json, err,
		    b->why);
}

START_TEST(same_refusals)
{
	const struct bad *b = &bads[_i];
	struct sp_site_opts opts = { .pbkdf2_iterations = SP_PWHASH_MIN_ITERATIONS };
	struct sp_site site;
	struct sp_site_partner p;
	struct sp_partner_change ch;
	json_object *o;
	char member[600], doc[1200], err[600];
	const char *base_yaml_id = strstr(b->yaml, "odette_id") ? "" : "    odette_id: ACME\n";
	const char *base_yaml_pw = strstr(b->yaml, "password") ? "" : "    password: pw\n";
	int r;

	memset(long_text, 'x', 201);
	long_text[201] = '\0';

	/* The site file. */
	fill(member, sizeof(member), b->yaml);
	snprintf(doc, sizeof(doc), "partners:\n  - allowed_networks: []\n%s%s%s",
	    base_yaml_id, base_yaml_pw, member);
	r = sp_site_parse("s.yaml", doc, strlen(doc), &opts, &site, err, sizeof(err));
	ck_assert_int_eq(r, SP_ERR_CONFIG);
	assert_says("the site file", b, err);

	/* POST /v1/partners. */
	fill(member, sizeof(member), b->json);
	snprintf(doc, sizeof(doc), "{%s%s\"allowed_networks\":[],%s}",
	    strstr(b->json, "odette_id") ? "" : "\"odette_id\":\"ACME\",",
	    strstr(b->json, "password") ? "" : "\"password\":\"pw\",", member);
	ck_assert_int_eq(sp_body_parse(doc, strlen(doc), &o, err, sizeof(err)), SP_OK);
	r = sp_partner_body_post(o, SP_PWHASH_MIN_ITERATIONS, &p, err, sizeof(err));
	sp_partner_clear(&p);
	json_object_put(o);
	ck_assert_int_eq(r, SP_ERR_INVALID);
	assert_says("POST", b, err);

	/* PUT /v1/partners/ACME onto a valid stored partner. */
	if (!b->put)
		return;
	snprintf(doc, sizeof(doc), "{%s}", member);
	ck_assert_int_eq(sp_body_parse(doc, strlen(doc), &o, err, sizeof(err)), SP_OK);
	r = sp_partner_body_change(o, "ACME", SP_PWHASH_MIN_ITERATIONS, &ch, err, sizeof(err));
	if (r == SP_OK) {
		memset(&p, 0, sizeof(p));
		p.odette_id = strdup("ACME");
		p.description = strdup("");
		p.password_hash = strdup("pbkdf2-sha256$10000$00$00");
		p.enabled = true;
		r = sp_partner_change_apply(&ch, &p, err, sizeof(err));
		sp_partner_clear(&p);
	}
	sp_partner_change_clear(&ch);
	json_object_put(o);
	ck_assert_int_eq(r, SP_ERR_INVALID);
	assert_says("PUT", b, err);
}
END_TEST

/* The same good partner passes all three: the table's refusals are about
 * the bad value, not the frame around it. */
START_TEST(good_passes)
{
	static const char yaml[] = "partners:\n  - odette_id: ACME\n    password: pw\n"
	    "    allowed_networks: [10.0.0.0/8]\n    max_sessions: 100000\n"
	    "    valid_from: 2026-01-01\n    valid_until: 2027-01-01\n"
	    "    tls:\n      bind: dn\n      bind_dn: CN=ACME\n";
	static const char json[] = "{\"odette_id\":\"ACME\",\"password\":\"pw\","
	    "\"allowed_networks\":[\"10.0.0.0/8\"],\"max_sessions\":100000,"
	    "\"valid_from\":\"2026-01-01\",\"valid_until\":\"2027-01-01\","
	    "\"tls\":{\"bind\":\"dn\",\"bind_dn\":\"CN=ACME\"}}";
	struct sp_site_opts opts = { .pbkdf2_iterations = SP_PWHASH_MIN_ITERATIONS };
	struct sp_site site;
	struct sp_site_partner p;
	struct sp_partner_change ch;
	json_object *o;
	char err[600] = "";

	ck_assert_msg(sp_site_parse("s.yaml", yaml, strlen(yaml), &opts, &site, err,
	    sizeof(err)) == SP_OK, "%s", err);
	sp_site_free(&site);
	ck_assert_int_eq(sp_body_parse(json, strlen(json), &o, err, sizeof(err)), SP_OK);
	ck_assert_msg(sp_partner_body_post(o, SP_PWHASH_MIN_ITERATIONS, &p, err,
	    sizeof(err)) == SP_OK, "%s", err);
	ck_assert_int_eq(sp_partner_body_change(o, "ACME", SP_PWHASH_MIN_ITERATIONS, &ch, err,
	    sizeof(err)), SP_OK);
	ck_assert_msg(sp_partner_change_apply(&ch, &p, err, sizeof(err)) == SP_OK, "%s", err);
	ck_assert_int_eq(p.max_sessions, 100000);
	ck_assert_str_eq(p.bind_dn, "CN=ACME");
	sp_partner_change_clear(&ch);
	sp_partner_clear(&p);
	json_object_put(o);
}
END_TEST

/* POST keeps its defaults for null members, as before the rules moved. */
START_TEST(post_nulls_are_defaults)
{
	static const char json[] = "{\"odette_id\":\"ACME\",\"password\":\"pw\","
	    "\"allowed_networks\":[],\"max_sessions\":null,\"enabled\":null,"
	    "\"tls\":{\"require_client_cert\":null}}";
	struct sp_site_partner p;
	json_object *o;
	char err[600] = "";

	ck_assert_int_eq(sp_body_parse(json, strlen(json), &o, err, sizeof(err)), SP_OK);
	ck_assert_msg(sp_partner_body_post(o, SP_PWHASH_MIN_ITERATIONS, &p, err,
	    sizeof(err)) == SP_OK, "%s", err);
	ck_assert_int_eq(p.max_sessions, 0);
	ck_assert(p.enabled);
	ck_assert(!p.require_client_cert);
	sp_partner_clear(&p);
	json_object_put(o);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("api_partner_rules");
	TCase *tc = tcase_create("rules");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, same_refusals, 0, (int)(sizeof(bads) / sizeof(bads[0])));
	tcase_add_test(tc, good_passes);
	tcase_add_test(tc, post_nulls_are_defaults);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
