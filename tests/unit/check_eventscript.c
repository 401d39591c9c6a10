/*
 * check_eventscript.c - the event-script bridge (modules/event_script)
 * driven through the real chain engine (mod_drive.h) with a recording backend_post: which records
 * become events and what the event document holds.
 */
#include <check.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mod_drive.h"

extern const struct sp_module sp_module_v1;
#define MOD (&sp_module_v1)

#define POSTS_MAX 8
static struct {
	size_t n;
	char path[POSTS_MAX][64];
	char *json[POSTS_MAX];
} posts;

static int
rec_post(struct sp_msess *ms, const char *path, const char *json)
{
	if (posts.n >= POSTS_MAX)
		return -1;
	snprintf(posts.path[posts.n], sizeof(posts.path[0]), "%s", path);
	posts.json[posts.n++] = strdup(json);
	return 0;
}

static struct sp_host host;
static const char *const no_options[] = { NULL };

static void *
start(void)
{
	struct sp_module_args args = { "event_script", SP_MODE_ENFORCE, no_options };
	void *mctx = NULL;

	md_reset();
	host = md_host;
	host.backend_post = rec_post;
	ck_assert_int_eq(MOD->init(&host, &args, &mctx), 0);
	return mctx;
}

static void
stop(void *mctx)
{
	size_t i;

	MOD->fini(mctx);
	for (i = 0; i < posts.n; i++)
		free(posts.json[i]);
	memset(&posts, 0, sizeof(posts));
}

static const char *
member(json_object *o, const char *key)
{
	json_object *v;

	ck_assert_msg(json_object_object_get_ex(o, key, &v), "no member %s", key);
	return v != NULL ? json_object_get_string(v) : NULL;
}

START_TEST(crit_record_becomes_event)
{
	void *mctx = start();
	static const char *const fields[] = {
		"session", "42", "src", "192.0.2.7", "partner", "O0013000000ACME",
		"detail", "x=\"y\"", NULL
	};
	struct sp_log_entry e;
	json_object *doc, *f;

	memset(&e, 0, sizeof(e));
	e.level = SP_LEVEL_CRIT;
	e.category = "tunnel";
	e.function = "control_lost";
	e.message = "control connection lost (eof) with 2 session(s) running";
	e.escalate = 1;
	e.fields = fields;
	e.time_ms = 1767225600123LL;     /* 2026-01-01T00:00:00.123Z */
	MOD->on_log(mctx, &e);
	ck_assert_uint_eq(posts.n, 1);
	ck_assert_str_eq(posts.path[0], "v1/events");
	ck_assert_ptr_nonnull(doc = json_tokener_parse(posts.json[0]));
	ck_assert_str_eq(member(doc, "type"), "log.tunnel");
	ck_assert_str_eq(member(doc, "severity"), "crit");
	ck_assert_str_eq(member(doc, "time"), "2026-01-01T00:00:00Z");
	ck_assert_str_eq(member(doc, "time_ms"), "1767225600123");
	ck_assert_str_eq(member(doc, "category"), "tunnel");
	ck_assert_str_eq(member(doc, "function"), "control_lost");
	ck_assert_str_eq(member(doc, "message"), e.message);
	ck_assert_str_eq(member(doc, "partner"), "O0013000000ACME");
	ck_assert_str_eq(member(doc, "source_address"), "192.0.2.7");
	ck_assert_str_eq(member(doc, "session"), "42");
	ck_assert(json_object_object_get_ex(doc, "fields", &f));
	ck_assert_str_eq(member(f, "detail"), "x=\"y\"");
	/* The record itself is not changed. */
	ck_assert_int_eq(e.level, SP_LEVEL_CRIT);
	ck_assert_int_eq(e.escalate, 1);
	json_object_put(doc);
	stop(mctx);
}
END_TEST

START_TEST(module_event_keeps_its_type)
{
	void *mctx = start();
	static const char *const fields[] = { "event", "disk_full", "peer", "[2001:db8::1]:6619", NULL };
	struct sp_log_entry e;
	json_object *doc;

	memset(&e, 0, sizeof(e));
	e.level = SP_LEVEL_CRIT;
	e.category = "event";
	e.message = "spool full";
	e.escalate = 1;
	e.fields = fields;
	MOD->on_log(mctx, &e);
	ck_assert_uint_eq(posts.n, 1);
	ck_assert_ptr_nonnull(doc = json_tokener_parse(posts.json[0]));
	ck_assert_str_eq(member(doc, "type"), "disk_full");
	ck_assert_str_eq(member(doc, "source_address"), "[2001:db8::1]:6619");
	ck_assert_ptr_null(member(doc, "partner"));
	ck_assert_ptr_null(member(doc, "session"));
	json_object_put(doc);
	stop(mctx);
}
END_TEST

START_TEST(silenced_and_lower_records_are_not_events)
{
	void *mctx = start();
	struct sp_log_entry e;

	memset(&e, 0, sizeof(e));
	e.category = "core";
	e.message = "m";
	/* What log_ignore leaves behind: INFO, not escalated. */
	e.level = SP_LEVEL_INFO;
	MOD->on_log(mctx, &e);
	/* CRIT whose escalation a filter cleared. */
	e.level = SP_LEVEL_CRIT;
	e.escalate = 0;
	MOD->on_log(mctx, &e);
	/* ERR, even if flagged. */
	e.level = SP_LEVEL_ERR;
	e.escalate = 1;
	MOD->on_log(mctx, &e);
	ck_assert_uint_eq(posts.n, 0);
	/* Messages with quotes and control characters still make valid JSON. */
	e.level = SP_LEVEL_CRIT;
	e.message = "a \"quoted\"\n\\ line";
	e.fields = NULL;
	MOD->on_log(mctx, &e);
	ck_assert_uint_eq(posts.n, 1);
	{
		json_object *doc = json_tokener_parse(posts.json[0]);
		ck_assert_ptr_nonnull(doc);
		ck_assert_str_eq(member(doc, "message"), e.message);
		json_object_put(doc);
	}
	stop(mctx);
}
END_TEST

START_TEST(options_and_old_hosts_refused)
{
	static const char *const opts[] = { "path", "/bin/true", NULL };
	struct sp_module_args args = { "event_script", SP_MODE_ENFORCE, opts };
	void *mctx = NULL;

	md_reset();
	host = md_host;
	host.backend_post = rec_post;
	ck_assert_int_lt(MOD->init(&host, &args, &mctx), 0);
	ck_assert_int_ge(md_log_find("unknown option 'path'"), 0);
	/* A host without backend_post cannot carry events. */
	args.options = no_options;
	host.backend_post = NULL;
	ck_assert_int_lt(MOD->init(&host, &args, &mctx), 0);
	ck_assert_int_ge(md_log_find("cannot post"), 0);
}
END_TEST

static Suite *
eventscript_suite(void)
{
	Suite *s = suite_create("event_script");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, crit_record_becomes_event);
	tcase_add_test(tc, module_event_keeps_its_type);
	tcase_add_test(tc, silenced_and_lower_records_are_not_events);
	tcase_add_test(tc, options_and_old_hosts_refused);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(eventscript_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
