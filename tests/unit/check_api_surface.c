/*
 * check_api_surface.c - unit tests of the roles and the DMZ->backend surface
 * (src/api/surface.c): admin may do everything, proxy exactly what
 * smartproxy-client needs, read every GET but the configuration document;
 * the client forwards for the server only events and audit records (as
 * documents) and the SSID question (as a question), each with a body that
 * passes the api's own validator, session records with the optional ESID
 * members included.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "api/surface.h"
#include "core/err.h"

START_TEST(roles)
{
	const struct sp_surface_line *l;
	int nproxy = 0;

	/* Unknown lines are admin-only. */
	ck_assert(sp_surface_allows(SP_ROLE_ADMIN, "POST", "v1/whatever"));
	ck_assert(!sp_surface_allows(SP_ROLE_PROXY, "POST", "v1/whatever"));
	ck_assert(!sp_surface_allows(SP_ROLE_READ, "GET", "v1/whatever"));
	for (l = sp_surface; l->method != NULL; l++) {
		bool get = strcmp(l->method, "GET") == 0;
		bool secret = strcmp(l->pattern, "v1/config") == 0;

		ck_assert(sp_surface_allows(SP_ROLE_ADMIN, l->method, l->pattern));
		ck_assert_msg(sp_surface_allows(SP_ROLE_READ, l->method,
		    l->pattern) == (get && !secret), "read: %s %s", l->method,
		    l->pattern);
		if (sp_surface_allows(SP_ROLE_PROXY, l->method, l->pattern))
			nproxy++;
		/* What the DMZ may reach, the proxy token may call. */
		if (l->dmz != SP_DMZ_NONE)
			ck_assert(sp_surface_allows(SP_ROLE_PROXY, l->method,
			    l->pattern));
	}
	ck_assert_int_eq(nproxy, 7);
	ck_assert(sp_surface_allows(SP_ROLE_PROXY, "GET", "v1/config"));
	ck_assert(sp_surface_allows(SP_ROLE_PROXY, "POST", "v1/events"));
	ck_assert(sp_surface_allows(SP_ROLE_PROXY, "POST", "v1/sessions"));
	ck_assert(sp_surface_allows(SP_ROLE_PROXY, "POST", "v1/status"));
	ck_assert(sp_surface_allows(SP_ROLE_PROXY, "POST", "v1/decisions/ssid"));
	/* The brake blocks the partner module reports through the client. */
	ck_assert(sp_surface_allows(SP_ROLE_PROXY, "POST", "v1/blocks"));
	/* CRLs the client fetched, with its own token; not from the DMZ. */
	ck_assert(sp_surface_allows(SP_ROLE_PROXY, "POST", "v1/crls"));
	ck_assert(sp_surface_allows(SP_ROLE_READ, "GET", "v1/crls"));
	ck_assert(!sp_surface_allows(SP_ROLE_READ, "POST", "v1/crls"));
	ck_assert(!sp_surface_allows(SP_ROLE_PROXY, "POST", "v1/partners"));
	ck_assert(!sp_surface_allows(SP_ROLE_PROXY, "POST", "v1/rules"));
	ck_assert_str_eq(sp_role_name(SP_ROLE_READ), "read");
}
END_TEST

static int
dmz(enum sp_dmz_kind k, const char *path, const char *body)
{
	char err[256] = "";
	int r = sp_surface_dmz_check(k, path, body, err, sizeof(err));

	if (r != SP_OK)
		ck_assert_msg(err[0] != '\0', "refusal without a reason");
	return r;
}

START_TEST(dmz_surface)
{
	const char *ev = "{\"type\":\"log.tunnel\",\"message\":\"m\"}";

	ck_assert_int_eq(dmz(SP_DMZ_POST, "v1/events", ev), SP_OK);
	ck_assert_int_eq(dmz(SP_DMZ_POST, "v1/sessions",
	    "{\"session\":\"1\",\"ended\":\"2026-11-25T04:11:31Z\"}"), SP_OK);
	/* The optional ESID members of a parallel change are accepted. */
	ck_assert_int_eq(dmz(SP_DMZ_POST, "v1/sessions",
	    "{\"session\":\"1\",\"ended\":\"2026-11-25T04:11:31Z\","
	    "\"esid\":\"03\",\"esid_from\":\"partner\"}"), SP_OK);
	ck_assert_int_eq(dmz(SP_DMZ_POST, "v1/sessions",
	    "{\"session\":\"1\",\"ended\":\"2026-11-25T04:11:31Z\","
	    "\"esid\":\"09\",\"esid_from\":\"proxy\"}"), SP_OK);
	ck_assert_int_eq(dmz(SP_DMZ_ASK, "v1/decisions/ssid",
	    "{\"odette_id\":\"O0013000000ACME\"}"), SP_OK);

	/* Off the surface, whatever the body. */
	ck_assert_int_eq(dmz(SP_DMZ_POST, "v1/partners",
	    "{\"odette_id\":\"O0013000000EVIL\",\"password\":\"X\","
	    "\"allowed_networks\":[\"0.0.0.0/0\"]}"), SP_ERR_DENIED);
	ck_assert_int_eq(dmz(SP_DMZ_POST, "v1/rules",
	    "{\"description\":\"x\",\"match\":\"security\"}"), SP_ERR_DENIED);
	ck_assert_int_eq(dmz(SP_DMZ_POST, "v1/status", "{\"connected\":true}"),
	    SP_ERR_DENIED);
	ck_assert_int_eq(dmz(SP_DMZ_POST, "v1/config", "{}"), SP_ERR_DENIED);
	ck_assert_int_eq(dmz(SP_DMZ_POST, "v1/events/", ev), SP_ERR_DENIED);
	ck_assert_int_eq(dmz(SP_DMZ_POST, "/v1/events", ev), SP_ERR_DENIED);
	ck_assert_int_eq(dmz(SP_DMZ_POST, "v1/events?x=1", ev), SP_ERR_DENIED);
	ck_assert_int_eq(dmz(SP_DMZ_POST, "v1/partners/X/enable", "{}"),
	    SP_ERR_DENIED);
	/* The right path, the wrong kind. */
	ck_assert_int_eq(dmz(SP_DMZ_ASK, "v1/events", ev), SP_ERR_DENIED);
	ck_assert_int_eq(dmz(SP_DMZ_POST, "v1/decisions/ssid",
	    "{\"odette_id\":\"O0013000000ACME\"}"), SP_ERR_DENIED);
	ck_assert_int_eq(dmz(SP_DMZ_NONE, "v1/events", ev), SP_ERR_DENIED);

	/* On the surface, with a body its validator refuses. */
	ck_assert_int_eq(dmz(SP_DMZ_POST, "v1/events", "{\"type\":\"x\"}"),
	    SP_ERR_INVALID);
	ck_assert_int_eq(dmz(SP_DMZ_POST, "v1/events", "[1]"), SP_ERR_INVALID);
	ck_assert_int_eq(dmz(SP_DMZ_POST, "v1/sessions",
	    "{\"session\":\"1\",\"ended\":\"yesterday\"}"), SP_ERR_INVALID);
	ck_assert_int_eq(dmz(SP_DMZ_ASK, "v1/decisions/ssid",
	    "{\"odette_id\":\"lower case\"}"), SP_ERR_INVALID);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("api_surface");
	TCase *tc = tcase_create("surface");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, roles);
	tcase_add_test(tc, dmz_surface);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
