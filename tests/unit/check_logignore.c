/*
 * check_logignore.c - the log-ignore module (modules/log_ignore) driven
 * through the real chain engine (mod_drive.h): configuration parsing, matching, validity windows,
 * expiry reported once per rule.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mod_drive.h"

extern const struct sp_module sp_module_v1;
#define MOD (&sp_module_v1)

/* 2100-01-01T00:00:00Z in ms: windows in the future of any test run. */
#define T_BASE 4102444800000LL
#define DAY 86400000LL

static const char *const no_options[] = { NULL };

static void *
start(void)
{
	struct sp_module_args args = { "log_ignore", SP_MODE_ENFORCE, no_options };
	void *mctx = NULL;

	md_reset();
	ck_assert_int_eq(MOD->init(&md_host, &args, &mctx), 0);
	return mctx;
}

static void *
parse_ok(void *mctx, const char *json)
{
	char err[256] = "";
	void *cfg = NULL;

	ck_assert_msg(MOD->config_parse(mctx, json, &cfg, err, sizeof(err)) == 0,
	    "refused: %s", err);
	ck_assert_ptr_nonnull(cfg);
	return cfg;
}

static const char RULES[] =
	"{\"rules\": ["
	"{\"id\": 3, \"description\": \"scanner\", \"match\": \"Connection RESET by peer\","
	" \"valid_from\": \"2099-12-01T00:00:00Z\", \"valid_until\": \"2100-02-01T00:00:00Z\"},"
	"{\"id\": 7, \"description\": \"maintenance\", \"match\": \"control connection lost\","
	" \"valid_from\": \"2100-01-10T00:00:00Z\", \"valid_until\": null, \"extra\": 1}"
	"], \"free_form\": true}";

static struct sp_log_entry
entry(enum sp_level level, const char *msg, int64_t t)
{
	struct sp_log_entry e;

	memset(&e, 0, sizeof(e));
	e.level = level;
	e.category = "tunnel";
	e.function = "f";
	e.message = msg;
	e.escalate = level == SP_LEVEL_CRIT;
	e.time_ms = t;
	return e;
}

START_TEST(match_lowers_tags_and_clears_escalate)
{
	void *mctx = start(), *cfg = parse_ok(mctx, RULES);
	struct sp_log_entry e;

	MOD->config_apply(mctx, cfg);
	e = entry(SP_LEVEL_CRIT, "read from 192.0.2.7: connection reset BY PEER (104)", T_BASE);
	MOD->on_log(mctx, &e);
	ck_assert_int_eq(e.level, SP_LEVEL_INFO);
	ck_assert_int_eq(e.escalate, 0);
	ck_assert_str_eq(e.tag, "ignore-rule=3");

	e = entry(SP_LEVEL_WARN, "Control Connection Lost (eof)", T_BASE + 20 * DAY);
	MOD->on_log(mctx, &e);
	ck_assert_int_eq(e.level, SP_LEVEL_INFO);
	ck_assert_str_eq(e.tag, "ignore-rule=7");

	MOD->config_apply(mctx, NULL);
	MOD->config_free(mctx, cfg);
	MOD->fini(mctx);
}
END_TEST

START_TEST(no_match_leaves_record_alone)
{
	void *mctx = start(), *cfg = parse_ok(mctx, RULES);
	struct sp_log_entry e;

	MOD->config_apply(mctx, cfg);
	e = entry(SP_LEVEL_CRIT, "connection reset", T_BASE);  /* only part of the text */
	MOD->on_log(mctx, &e);
	ck_assert_int_eq(e.level, SP_LEVEL_CRIT);
	ck_assert_int_eq(e.escalate, 1);
	ck_assert_str_eq(e.tag, "");
	/* A plain substring, not a pattern: '.' matches only '.'. */
	MOD->config_apply(mctx, NULL);
	MOD->config_free(mctx, cfg);
	cfg = parse_ok(mctx, "{\"rules\": [{\"id\": 1, \"match\": \"a.c\"}]}");
	MOD->config_apply(mctx, cfg);
	e = entry(SP_LEVEL_ERR, "abc", T_BASE);
	MOD->on_log(mctx, &e);
	ck_assert_int_eq(e.level, SP_LEVEL_ERR);
	e = entry(SP_LEVEL_ERR, "xA.Cx", T_BASE);
	MOD->on_log(mctx, &e);
	ck_assert_int_eq(e.level, SP_LEVEL_INFO);
	/* Records below WARN are not touched. */
	e = entry(SP_LEVEL_NOTICE, "a.c", T_BASE);
	MOD->on_log(mctx, &e);
	ck_assert_int_eq(e.level, SP_LEVEL_NOTICE);
	ck_assert_str_eq(e.tag, "");
	MOD->config_apply(mctx, NULL);
	MOD->config_free(mctx, cfg);
	MOD->fini(mctx);
}
END_TEST

START_TEST(outside_window_does_nothing)
{
	void *mctx = start(), *cfg = parse_ok(mctx, RULES);
	struct sp_log_entry e;

	MOD->config_apply(mctx, cfg);
	/* Rule 7 starts on 2100-01-10. */
	e = entry(SP_LEVEL_CRIT, "control connection lost", T_BASE + 9 * DAY - 1);
	MOD->on_log(mctx, &e);
	ck_assert_int_eq(e.level, SP_LEVEL_CRIT);
	ck_assert_int_eq(e.escalate, 1);
	/* Rule 3 ended on 2100-02-01 (exclusive). */
	e = entry(SP_LEVEL_CRIT, "connection reset by peer", T_BASE + 31 * DAY);
	MOD->on_log(mctx, &e);
	ck_assert_int_eq(e.level, SP_LEVEL_CRIT);
	ck_assert_str_eq(e.tag, "");
	MOD->config_apply(mctx, NULL);
	MOD->config_free(mctx, cfg);
	MOD->fini(mctx);
}
END_TEST

static size_t
count_lines(const char *needle)
{
	size_t i, n = 0;

	for (i = 0; i < md_rec.nlog; i++)
		if (strstr(md_rec.log[i], needle) != NULL)
			n++;
	return n;
}

START_TEST(expired_rule_dropped_and_logged_once)
{
	void *mctx = start(), *cfg, *cfg2;
	struct sp_log_entry e;

	/* Already over (2000): reported when the revision is applied. */
	cfg = parse_ok(mctx, "{\"rules\": [{\"id\": 12, \"match\": \"boom\", "
	    "\"valid_until\": \"2000-01-01T00:00:00Z\"}, {\"id\": 13, \"match\": \"bang\"}]}");
	MOD->config_apply(mctx, cfg);
	ck_assert_uint_eq(count_lines("log-ignore rule 12 expired: dropped"), 1);
	ck_assert_int_eq(md_log_find("rule 13"), -1);
	e = entry(SP_LEVEL_CRIT, "boom", T_BASE);
	MOD->on_log(mctx, &e);
	ck_assert_int_eq(e.level, SP_LEVEL_CRIT);
	e = entry(SP_LEVEL_CRIT, "bang", T_BASE);
	MOD->on_log(mctx, &e);
	ck_assert_int_eq(e.level, SP_LEVEL_INFO);
	ck_assert_str_eq(e.tag, "ignore-rule=13");
	/* The tunnel drops (no revision), then a new revision still has it. */
	MOD->config_apply(mctx, NULL);
	cfg2 = parse_ok(mctx, "{\"rules\": [{\"id\": 12, \"match\": \"boom\", "
	    "\"valid_until\": \"2000-01-01T00:00:00Z\"}]}");
	MOD->config_apply(mctx, cfg2);
	MOD->config_free(mctx, cfg);
	e = entry(SP_LEVEL_CRIT, "boom", T_BASE);
	MOD->on_log(mctx, &e);
	ck_assert_int_eq(e.level, SP_LEVEL_CRIT);
	ck_assert_uint_eq(count_lines("rule 12 expired"), 1);
	MOD->config_apply(mctx, NULL);
	MOD->config_free(mctx, cfg2);
	MOD->fini(mctx);
}
END_TEST

START_TEST(expiry_seen_at_record_time)
{
	void *mctx = start(), *cfg;
	struct sp_log_entry e;
	char json[256];

	/* Ends in the future of the wall clock: not reported at apply... */
	snprintf(json, sizeof(json), "{\"rules\": [{\"id\": 5, \"match\": \"x\", "
	    "\"valid_until\": \"2999-01-01T00:00:00Z\"}]}");
	cfg = parse_ok(mctx, json);
	MOD->config_apply(mctx, cfg);
	ck_assert_uint_eq(md_rec.nlog, 0);
	/* ...but a record stamped after the end drops it. */
	e = entry(SP_LEVEL_WARN, "x", 32503680000000LL + DAY);
	MOD->on_log(mctx, &e);
	ck_assert_int_eq(e.level, SP_LEVEL_WARN);
	ck_assert_uint_eq(count_lines("log-ignore rule 5 expired: dropped"), 1);
	e = entry(SP_LEVEL_WARN, "x", T_BASE);   /* dropped means dropped */
	MOD->on_log(mctx, &e);
	ck_assert_int_eq(e.level, SP_LEVEL_WARN);
	ck_assert_uint_eq(count_lines("expired"), 1);
	MOD->config_apply(mctx, NULL);
	MOD->config_free(mctx, cfg);
	MOD->fini(mctx);
}
END_TEST

START_TEST(empty_and_null_sections)
{
	void *mctx = start(), *cfg;
	struct sp_log_entry e;

	cfg = parse_ok(mctx, "null");
	MOD->config_apply(mctx, cfg);
	e = entry(SP_LEVEL_CRIT, "anything", T_BASE);
	MOD->on_log(mctx, &e);
	ck_assert_int_eq(e.level, SP_LEVEL_CRIT);
	MOD->config_apply(mctx, NULL);
	MOD->config_free(mctx, cfg);
	cfg = parse_ok(mctx, "{}");
	MOD->config_free(mctx, cfg);
	cfg = parse_ok(mctx, "{\"rules\": []}");
	MOD->config_free(mctx, cfg);
	/* No revision at all: nothing happens. */
	MOD->on_log(mctx, &e);
	ck_assert_int_eq(e.level, SP_LEVEL_CRIT);
	MOD->fini(mctx);
}
END_TEST

static const char *const bad_sections[] = {
	"[1]",
	"{\"rules\": {}}",
	"{\"rules\": [1]}",
	"{\"rules\": [{\"match\": \"x\"}]}",
	"{\"rules\": [{\"id\": 0, \"match\": \"x\"}]}",
	"{\"rules\": [{\"id\": \"1\", \"match\": \"x\"}]}",
	"{\"rules\": [{\"id\": 1, \"match\": \"\"}]}",
	"{\"rules\": [{\"id\": 1}]}",
	"{\"rules\": [{\"id\": 1, \"match\": \"x\", \"valid_from\": \"2026-01-01\"}]}",
	"{\"rules\": [{\"id\": 1, \"match\": \"x\", \"valid_until\": 5}]}",
	"{\"rules\": [{\"id\": 1, \"match\": \"x\", \"description\": 5}]}",
	"{\"rules\": [{\"id\": 1, \"match\": \"x\"}, {\"id\": 1, \"match\": \"y\"}]}",
	"{\"rules\": [",
	"{} {}",
};

START_TEST(bad_sections_refused)
{
	void *mctx = start(), *cfg = (void *)1;
	char err[256] = "";

	ck_assert_int_lt(MOD->config_parse(mctx, bad_sections[_i], &cfg, err,
	    sizeof(err)), 0);
	ck_assert_ptr_null(cfg);
	ck_assert_msg(strncmp(err, "log_ignore: ", 12) == 0, "err: %s", err);
	MOD->fini(mctx);
}
END_TEST

START_TEST(long_match_refused)
{
	void *mctx = start(), *cfg = NULL;
	char json[512], err[256];

	snprintf(json, sizeof(json), "{\"rules\": [{\"id\": 1, \"match\": \"%0201d\"}]}", 0);
	ck_assert_int_lt(MOD->config_parse(mctx, json, &cfg, err, sizeof(err)), 0);
	snprintf(json, sizeof(json), "{\"rules\": [{\"id\": 1, \"match\": \"%0200d\"}]}", 0);
	cfg = parse_ok(mctx, json);
	MOD->config_free(mctx, cfg);
	MOD->fini(mctx);
}
END_TEST

START_TEST(options_refused)
{
	static const char *const opts[] = { "rules", "x", NULL };
	struct sp_module_args args = { "log_ignore", SP_MODE_ENFORCE, opts };
	void *mctx = NULL;

	md_reset();
	ck_assert_int_lt(MOD->init(&md_host, &args, &mctx), 0);
	ck_assert_int_ge(md_log_find("unknown option 'rules'"), 0);
}
END_TEST

static Suite *
logignore_suite(void)
{
	Suite *s = suite_create("log_ignore");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, match_lowers_tags_and_clears_escalate);
	tcase_add_test(tc, no_match_leaves_record_alone);
	tcase_add_test(tc, outside_window_does_nothing);
	tcase_add_test(tc, expired_rule_dropped_and_logged_once);
	tcase_add_test(tc, expiry_seen_at_record_time);
	tcase_add_test(tc, empty_and_null_sections);
	tcase_add_loop_test(tc, bad_sections_refused, 0,
	    (int)(sizeof(bad_sections) / sizeof(bad_sections[0])));
	tcase_add_test(tc, long_match_refused);
	tcase_add_test(tc, options_refused);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(logignore_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
