/*
 * check_api_live.c - unit tests of the live part of a status report
 * (src/api/live_body.c): the clean copy keeps exactly the documented
 * members, bounded; a snapshot the DMZ could abuse (too many sessions,
 * counter names fit to break a Prometheus label, negative numbers, a total
 * below the list) is refused whole; a status report's heartbeat_ms is
 * bounded and its "live" and "client" replaced by their clean copies.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/bodies.h"
#include "core/err.h"

#define SESSION "{\"session\":\"17\",\"direction\":\"incoming\",\"via\":\"partners\"," \
	"\"partner\":\"O0013000000ACME\",\"source_address\":\"198.51.100.7\"," \
	"\"state\":\"active\",\"started\":\"2026-11-25T04:11:30Z\"," \
	"\"bytes_from_partner\":1000,\"bytes_to_partner\":20,\"files_done\":1," \
	"\"file\":{\"name\":\"BIG.DAT\",\"direction\":\"from_partner\"," \
	"\"size_kib\":8192,\"restart_offset\":0,\"octets\":900,\"secret\":1}," \
	"\"extra\":\"dropped\"}"
#define COUNTERS "{\"sessions_active\":1,\"sessions_started\":4," \
	"\"sessions_ended\":{\"normal\":2,\"tls_failed\":1},\"esid_sent\":{\"04\":1}," \
	"\"security_events\":{\"bad_password\":1},\"files\":{\"from_partner\":2}," \
	"\"bytes_from_partner\":5000,\"bytes_to_partner\":70,\"revision_active\":7}"

static int
live(const char *text, json_object **clean)
{
	json_object *o = json_tokener_parse(text);
	char err[200];
	int r;

	ck_assert_msg(o != NULL, "test JSON: %s", text);
	r = sp_body_live(o, clean, err, sizeof(err));
	json_object_put(o);
	return r;
}

START_TEST(clean_copy)
{
	json_object *c = NULL, *s, *f, *v;

	ck_assert_int_eq(live("{\"type\":\"live\",\"sessions\":[" SESSION "],"
	    "\"sessions_total\":1,\"counters\":" COUNTERS ",\"more\":[1]}", &c), SP_OK);
	ck_assert(!json_object_object_get_ex(c, "type", NULL));
	ck_assert(!json_object_object_get_ex(c, "more", NULL));
	s = json_object_array_get_idx(json_object_object_get(c, "sessions"), 0);
	ck_assert(!json_object_object_get_ex(s, "extra", NULL));
	ck_assert_str_eq(json_object_get_string(json_object_object_get(s, "partner")),
	    "O0013000000ACME");
	f = json_object_object_get(s, "file");
	ck_assert(!json_object_object_get_ex(f, "secret", NULL));
	ck_assert_int_eq(json_object_get_int64(json_object_object_get(f, "octets")), 900);
	v = json_object_object_get(json_object_object_get(c, "counters"), "esid_sent");
	ck_assert_int_eq(json_object_get_int64(json_object_object_get(v, "04")), 1);
	json_object_put(c);

	/* Absent counters and members: zero, null, empty tables. */
	ck_assert_int_eq(live("{\"sessions\":[{\"session\":\"1\"}],\"counters\":{}}",
	    &c), SP_ERR_INVALID);   /* sessions_total 0 below one listed */
	ck_assert_int_eq(live("{\"sessions\":[],\"counters\":{}}", &c), SP_OK);
	v = json_object_object_get(c, "counters");
	ck_assert_int_eq(json_object_get_int64(json_object_object_get(v, "sessions_active")), 0);
	ck_assert(json_object_object_get(v, "revision_active") == NULL);
	ck_assert_int_eq(json_object_object_length(json_object_object_get(v, "files")), 0);
	json_object_put(c);
}
END_TEST

START_TEST(refused)
{
	json_object *c = NULL;
	char *big;
	size_t i, n;

	ck_assert_int_eq(live("[]", &c), SP_ERR_INVALID);
	ck_assert_int_eq(live("{\"counters\":{}}", &c), SP_ERR_INVALID);
	ck_assert_int_eq(live("{\"sessions\":[]}", &c), SP_ERR_INVALID);
	ck_assert_int_eq(live("{\"sessions\":[1],\"sessions_total\":1,\"counters\":{}}",
	    &c), SP_ERR_INVALID);
	ck_assert_int_eq(live("{\"sessions\":[{\"state\":\"x\"}],\"sessions_total\":1,"
	    "\"counters\":{}}", &c), SP_ERR_INVALID);
	ck_assert_int_eq(live("{\"sessions\":[],\"counters\":{\"bytes_to_partner\":-1}}",
	    &c), SP_ERR_INVALID);
	/* A name that would break out of a Prometheus label. */
	ck_assert_int_eq(live("{\"sessions\":[],\"counters\":{\"security_events\":"
	    "{\"x\\\"} 1\\nevil{a=\\\"\":1}}}", &c), SP_ERR_INVALID);
	ck_assert_int_eq(live("{\"sessions\":[],\"counters\":{\"files\":"
	    "{\"0123456789012345678901234567890123\":1}}}", &c), SP_ERR_INVALID);
	ck_assert_int_eq(live("{\"sessions\":[{\"session\":\"1\",\"partner\":\""
	    "0123456789012345678901234567890123456789012345678901234567890123456789\"}],"
	    "\"sessions_total\":1,\"counters\":{}}", &c), SP_ERR_INVALID);
	ck_assert(c == NULL);
	/* 201 sessions listed: refused whole. */
	n = 201 * (sizeof("{\"session\":\"1\"},") - 1) + 100;
	big = malloc(n);
	ck_assert(big != NULL);
	strcpy(big, "{\"sessions\":[");
	for (i = 0; i < 201; i++)
		strcat(big, i ? ",{\"session\":\"1\"}" : "{\"session\":\"1\"}");
	strcat(big, "],\"sessions_total\":201,\"counters\":{}}");
	ck_assert_int_eq(live(big, &c), SP_ERR_INVALID);
	free(big);
}
END_TEST

static int
status(const char *text, json_object **out)
{
	char err[200];

	*out = json_tokener_parse(text);
	ck_assert(*out != NULL);
	return sp_body_status(*out, err, sizeof(err));
}

START_TEST(status_report)
{
	json_object *o, *l;

	ck_assert_int_eq(status("{\"connected\":true,\"heartbeat_ms\":1000,\"live\":"
	    "{\"sessions\":[],\"counters\":{},\"x\":1},\"client\":{\"tunnel_up\":true,"
	    "\"tunnel_connects\":2,\"backend_requests\":{\"buckets_ms\":[5,10],"
	    "\"counts\":[1,3],\"count\":4,\"sum_ms\":40}}}", &o), SP_OK);
	l = json_object_object_get(o, "live");
	ck_assert(!json_object_object_get_ex(l, "x", NULL));
	json_object_put(o);
	ck_assert_int_eq(status("{\"connected\":true,\"heartbeat_ms\":999}", &o),
	    SP_ERR_INVALID);
	json_object_put(o);
	ck_assert_int_eq(status("{\"connected\":true,\"live\":{\"sessions\":{}}}", &o),
	    SP_ERR_INVALID);
	json_object_put(o);
	ck_assert_int_eq(status("{\"connected\":true,\"client\":{\"backend_requests\":"
	    "{\"buckets_ms\":[5,10],\"counts\":[1]}}}", &o), SP_ERR_INVALID);
	json_object_put(o);
	/* An old client's report: no heartbeat, no live part. */
	ck_assert_int_eq(status("{\"connected\":false,\"sessions\":0}", &o), SP_OK);
	json_object_put(o);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("api_live");
	TCase *tc = tcase_create("live");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, clean_copy);
	tcase_add_test(tc, refused);
	tcase_add_test(tc, status_report);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
