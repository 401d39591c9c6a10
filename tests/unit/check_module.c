/*
 * check_module.c - the module loader: a good module loads and runs, each
 * kind of broken module is refused with its exact line, fini runs in
 * reverse order, and the in-tree example module (connlimit) enforces its
 * limit. The test modules are tests/unit/modules/testmod.c, built once per
 * variant into SP_TEST_MODDIR.
 */
#include "core/err.h"
#include "core/module.h"
#include "mod_drive.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef SP_TEST_MODDIR
#error "SP_TEST_MODDIR: where the test modules are built"
#endif
#ifndef SP_CONNLIMIT_SO
#error "SP_CONNLIMIT_SO: the in-tree example module"
#endif

static char err[SP_MODULE_ERR_MAX];
static char want[SP_MODULE_ERR_MAX];

static void
setup(void)
{
	md_reset();
	err[0] = want[0] = '\0';
}

/* Load a single module from SP_TEST_MODDIR by name; returns the loader's code. */
static int
load_one(const char *name, struct sp_module_set **set)
{
	struct sp_module_spec spec = { .name = name, .mode = SP_MODE_ENFORCE };

	return sp_modules_load(&spec, 1, SP_TEST_MODDIR, &md_host, set, err,
	    sizeof(err));
}

START_TEST(good_module_loads_and_runs)
{
	static const char *const opts[] = { "a", "1", "b", "two", NULL };
	struct sp_module_spec spec = {
		.name = "good", .mode = SP_MODE_DETECT, .options = opts
	};
	struct sp_module_set *set = NULL;
	struct sp_module_inst *mi;
	struct sp_peer peer = { .size = sizeof(peer), .addr = "192.0.2.7", .port = 4711 };
	struct md_sess s;
	char line[MD_LINE_MAX];

	ck_assert_int_eq(sp_modules_load(&spec, 1, SP_TEST_MODDIR, &md_host,
	    &set, err, sizeof(err)), SP_OK);
	ck_assert_str_eq(err, "");
	ck_assert_ptr_nonnull(set);
	ck_assert_uint_eq(set->count, 1);
	mi = &set->mods[0];
	ck_assert_str_eq(mi->name, "good");
	ck_assert_str_eq(mi->desc->name, "good");
	ck_assert_str_eq(mi->desc->version, "0.0.1");
	ck_assert_str_eq(mi->path, SP_TEST_MODDIR "/good.so");
	ck_assert_int_eq(mi->mode, SP_MODE_DETECT);
	ck_assert_ptr_nonnull(mi->mctx);

	/* init saw our host table, its version, the mode and the options. */
	snprintf(line, sizeof(line),
	    "%d init good abi=%d.%d host=%p mode=1 opts=a=1;b=two;",
	    SP_LEVEL_INFO, SP_MODULE_ABI_MAJOR, SP_MODULE_ABI_MINOR,
	    (const void *)&md_host);
	ck_assert_uint_eq(md_rec.nlog, 1);
	ck_assert_str_eq(md_rec.log[0], line);

	/* Hooks are callable through the descriptor copy, by the engine. */
	ck_assert_ptr_null(mi->desc->on_tls);
	ck_assert_int_eq(md_open(&s, 1, mi->desc, mi->mctx, mi->mode, &peer), SP_CONTINUE);
	ck_assert_int_ge(md_log_find("open 192.0.2.7 seq=1"), 0);
	ck_assert_int_eq(md_data(&s, SP_TO_OUTSIDE, "hello", 5), SP_CONTINUE);
	ck_assert_uint_eq(md_rec.nforward, 1);
	ck_assert_int_eq(md_rec.forward_dir, SP_TO_OUTSIDE);
	ck_assert_str_eq(md_rec.forwarded, "hello");
	md_close(&s, "normal");
	ck_assert_int_ge(md_log_find("close normal"), 0);

	sp_modules_unload(set);
	ck_assert_int_ge(md_log_find("fini good opens=1 closes=1"), 0);
}
END_TEST

START_TEST(options_default_to_empty_list)
{
	struct sp_module_set *set = NULL;

	ck_assert_int_eq(load_one("good", &set), SP_OK);
	ck_assert_uint_eq(md_rec.nlog, 1);
	ck_assert_ptr_nonnull(strstr(md_rec.log[0], " mode=0 opts="));
	/* Nothing after "opts=": the module saw an empty list, not NULL. */
	ck_assert_str_eq(strstr(md_rec.log[0], "opts="), "opts=");
	sp_modules_unload(set);
}
END_TEST

START_TEST(fini_in_reverse_order)
{
	struct sp_module_spec specs[] = {
		{ .name = "good" }, { .name = "good_b" }
	};
	struct sp_module_set *set = NULL;

	ck_assert_int_eq(sp_modules_load(specs, 2, SP_TEST_MODDIR, &md_host,
	    &set, err, sizeof(err)), SP_OK);
	ck_assert_uint_eq(set->count, 2);
	ck_assert_str_eq(set->mods[0].name, "good");
	ck_assert_str_eq(set->mods[1].name, "good_b");
	/* Each module got its own process context. */
	ck_assert_ptr_ne(set->mods[0].mctx, set->mods[1].mctx);
	ck_assert_int_eq(md_log_find("init good "), 0);
	ck_assert_int_eq(md_log_find("init good_b "), 1);
	sp_modules_unload(set);
	ck_assert_uint_eq(md_rec.nlog, 4);
	ck_assert_int_eq(md_log_find("fini good_b "), 2);
	ck_assert_int_eq(md_log_find("fini good "), 3);
}
END_TEST

START_TEST(no_modules)
{
	struct sp_module_set *set = NULL;

	ck_assert_int_eq(sp_modules_load(NULL, 0, NULL, &md_host, &set, err,
	    sizeof(err)), SP_OK);
	ck_assert_ptr_nonnull(set);
	ck_assert_uint_eq(set->count, 0);
	sp_modules_unload(set);
	sp_modules_unload(NULL);
}
END_TEST

/* Each broken test module and the exact line that refuses it. */
static const struct refusal {
	const char *name;
	int code;
	const char *why;   /* after "<path>: " */
} refusals[] = {
	{ "bad_magic", SP_ERR_ABI,
	  "bad magic 0x464f4f21 in sp_module_v1, expected 0x53504d31 (not a smartproxy module)" },
	{ "bad_major", SP_ERR_ABI,
	  "ABI major 3, this smartproxy speaks 2 (rebuild the module)" },
	{ "newer_minor", SP_ERR_ABI,
	  "ABI 2.1 is newer than this smartproxy's 2.0 "
	  "(upgrade smartproxy or build the module against its header)" },
	{ "no_symbol", SP_ERR_ABI,
	  "no symbol sp_module_v1 (not a smartproxy module, or built for another ABI major)" },
	{ "small_struct", SP_ERR_ABI, NULL /* needs the size: built below */ },
	{ "init_fail", SP_ERR_CONFIG, "init of module 'init_fail' failed (-22)" },
};

START_TEST(bad_module_refused)
{
	const struct refusal *rf = &refusals[_i];
	struct sp_module_set *set = (struct sp_module_set *)&err; /* must be reset */

	if (rf->why != NULL)
		snprintf(want, sizeof(want), "%s/%s.so: %s", SP_TEST_MODDIR,
		    rf->name, rf->why);
	else
		snprintf(want, sizeof(want),
		    "%s/%s.so: descriptor struct_size 16, ABI 2.0 needs at least %zu "
		    "(corrupt descriptor: use SP_MODULE_HEADER)",
		    SP_TEST_MODDIR, rf->name, (size_t)SP_MODULE_SIZE_BASE);
	ck_assert_int_eq(load_one(rf->name, &set), rf->code);
	ck_assert_ptr_null(set);
	ck_assert_str_eq(err, want);
}
END_TEST

/* The ABI versions this binary speaks are the ones the messages assume. */
START_TEST(messages_match_abi)
{
	ck_assert_int_eq(SP_MODULE_ABI_MAJOR, 2);
	ck_assert_int_eq(SP_MODULE_ABI_MINOR, 0);
	ck_assert_uint_eq(SP_MODULE_SIZE_BASE, sizeof(struct sp_module));
}
END_TEST

START_TEST(init_failure_unwinds_earlier_modules)
{
	struct sp_module_spec specs[] = {
		{ .name = "good" }, { .name = "good_b" }, { .name = "init_fail" }
	};
	struct sp_module_set *set = NULL;

	ck_assert_int_eq(sp_modules_load(specs, 3, SP_TEST_MODDIR, &md_host,
	    &set, err, sizeof(err)), SP_ERR_CONFIG);
	ck_assert_ptr_null(set);
	ck_assert_uint_eq(md_rec.nlog, 5);
	ck_assert_int_eq(md_log_find("init good "), 0);
	ck_assert_int_eq(md_log_find("init good_b "), 1);
	ck_assert_int_eq(md_log_find("init init_fail refuses"), 2);
	ck_assert_int_eq(md_log_find("fini good_b "), 3);
	ck_assert_int_eq(md_log_find("fini good "), 4);
}
END_TEST

/* Every file is checked before any init() runs. */
START_TEST(refusal_before_any_init)
{
	struct sp_module_spec specs[] = {
		{ .name = "good" }, { .name = "bad_major" }
	};
	struct sp_module_set *set = NULL;

	snprintf(want, sizeof(want),
	    "%s/bad_major.so: ABI major 3, this smartproxy speaks 2 (rebuild the module)",
	    SP_TEST_MODDIR);
	ck_assert_int_eq(sp_modules_load(specs, 2, SP_TEST_MODDIR, &md_host,
	    &set, err, sizeof(err)), SP_ERR_ABI);
	ck_assert_str_eq(err, want);
	ck_assert_uint_eq(md_rec.nlog, 0);
}
END_TEST

START_TEST(configured_name_must_match)
{
	struct sp_module_spec spec = {
		.name = "other", .path = SP_TEST_MODDIR "/good.so"
	};
	struct sp_module_set *set = NULL;

	ck_assert_int_eq(sp_modules_load(&spec, 1, "/nonexistent", &md_host,
	    &set, err, sizeof(err)), SP_ERR_INVALID);
	ck_assert_str_eq(err, SP_TEST_MODDIR
	    "/good.so: module calls itself 'good', configured as 'other'");
	ck_assert_uint_eq(md_rec.nlog, 0);
}
END_TEST

START_TEST(explicit_path_wins)
{
	struct sp_module_spec spec = {
		.name = "good_b", .path = SP_TEST_MODDIR "/good_b.so"
	};
	struct sp_module_set *set = NULL;

	ck_assert_int_eq(sp_modules_load(&spec, 1, "/nonexistent", &md_host,
	    &set, err, sizeof(err)), SP_OK);
	ck_assert_str_eq(set->mods[0].path, SP_TEST_MODDIR "/good_b.so");
	sp_modules_unload(set);
}
END_TEST

START_TEST(missing_file)
{
	struct sp_module_set *set = NULL;

	ck_assert_int_eq(load_one("nope", &set), SP_ERR_NOT_FOUND);
	ck_assert_str_eq(err, SP_TEST_MODDIR "/nope.so: no such file (module 'nope')");
}
END_TEST

START_TEST(default_moduledir)
{
	struct sp_module_spec spec = { .name = "surely_not_installed" };
	struct sp_module_set *set = NULL;

	ck_assert_int_eq(sp_modules_load(&spec, 1, NULL, &md_host, &set, err,
	    sizeof(err)), SP_ERR_NOT_FOUND);
	ck_assert_str_eq(err, SP_MODULEDIR "/surely_not_installed.so: "
	    "no such file (module 'surely_not_installed')");
}
END_TEST

START_TEST(not_a_shared_object)
{
	/* This test's own source: a file, but no ELF. */
	struct sp_module_spec spec = {
		.name = "good", .path = SP_TOP_SRCDIR "/tests/unit/check_module.c"
	};
	struct sp_module_set *set = NULL;
	const char *prefix = SP_TOP_SRCDIR "/tests/unit/check_module.c: cannot load: ";

	ck_assert_int_eq(sp_modules_load(&spec, 1, NULL, &md_host, &set, err,
	    sizeof(err)), SP_ERR_INVALID);
	ck_assert_msg(strncmp(err, prefix, strlen(prefix)) == 0, "got '%s'", err);
	/* dlerror's own copy of the file name is not repeated. */
	ck_assert_ptr_null(strstr(err + strlen(prefix), "check_module.c"));
}
END_TEST

START_TEST(bad_names_refused)
{
	static const char *const bad[] = { "../good", "Good", "", "a/b", "x.so" };
	struct sp_module_spec spec = { 0 };
	struct sp_module_set *set = NULL;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		spec.name = bad[i];
		ck_assert_int_eq(sp_modules_load(&spec, 1, SP_TEST_MODDIR,
		    &md_host, &set, err, sizeof(err)), SP_ERR_INVALID);
		snprintf(want, sizeof(want),
		    "module name '%s': use 1 to 64 of a-z, 0-9 and _", bad[i]);
		ck_assert_str_eq(err, want);
	}
	spec.name = NULL;
	ck_assert_int_eq(sp_modules_load(&spec, 1, SP_TEST_MODDIR, &md_host,
	    &set, err, sizeof(err)), SP_ERR_INVALID);
	ck_assert_uint_eq(md_rec.nlog, 0);
}
END_TEST

START_TEST(duplicate_refused)
{
	struct sp_module_spec specs[] = { { .name = "good" }, { .name = "good" } };
	struct sp_module_set *set = NULL;

	ck_assert_int_eq(sp_modules_load(specs, 2, SP_TEST_MODDIR, &md_host,
	    &set, err, sizeof(err)), SP_ERR_INVALID);
	ck_assert_str_eq(err, "module 'good' is configured twice");
	ck_assert_uint_eq(md_rec.nlog, 0);
}
END_TEST

START_TEST(check_descriptor_sizes)
{
	struct sp_module m = { SP_MODULE_HEADER, .name = "x" };

	ck_assert_int_eq(sp_module_check(&m, 0, "f", "x", err, sizeof(err)), SP_OK);
	ck_assert_int_eq(sp_module_check(&m, sizeof(m), "f", NULL, err,
	    sizeof(err)), SP_OK);
	/* The symbol is smaller than the descriptor claims. */
	ck_assert_int_eq(sp_module_check(&m, sizeof(m) - 8, "f", "x", err,
	    sizeof(err)), SP_ERR_ABI);
	snprintf(want, sizeof(want),
	    "f: descriptor struct_size %zu, but symbol sp_module_v1 has only %zu bytes",
	    sizeof(m), sizeof(m) - 8);
	ck_assert_str_eq(err, want);
	/* Too small to even hold the header. */
	ck_assert_int_eq(sp_module_check(&m, 4, "f", "x", err, sizeof(err)),
	    SP_ERR_ABI);
	ck_assert_str_eq(err,
	    "f: symbol sp_module_v1 has 4 bytes, too small for a module descriptor");
	m.name = "";
	ck_assert_int_eq(sp_module_check(&m, 0, "f", NULL, err, sizeof(err)),
	    SP_ERR_ABI);
	ck_assert_str_eq(err, "f: descriptor has no module name");
	m.name = NULL;
	ck_assert_int_eq(sp_module_check(&m, 0, "f", NULL, err, sizeof(err)),
	    SP_ERR_ABI);
	/* An older minor with a bigger struct (future host) is fine: >= 1.0. */
	m.name = "x";
	m.struct_size = (uint32_t)SP_MODULE_SIZE_BASE + 16;
	ck_assert_int_eq(sp_module_check(&m, 0, "f", "x", err, sizeof(err)), SP_OK);
}
END_TEST

/* ---- the example module, built in-tree ---- */

struct cl {
	struct sp_module_set *set;
	const struct sp_module *d;
	void *mctx;
};

static int
cl_load(struct cl *c, enum sp_mode mode, const char *const *opts)
{
	struct sp_module_spec spec = {
		.name = "connlimit", .path = SP_CONNLIMIT_SO, .mode = mode,
		.options = opts
	};
	int r;

	r = sp_modules_load(&spec, 1, NULL, &md_host, &c->set, err, sizeof(err));
	if (r == SP_OK) {
		c->d = c->set->mods[0].desc;
		c->mctx = c->set->mods[0].mctx;
	}
	return r;
}

static enum sp_verdict
cl_open(struct cl *c, struct md_sess *s, int id, const char *addr)
{
	struct sp_peer peer = { .size = sizeof(peer), .addr = addr, .port = (uint16_t)(1000 + id) };

	return md_open(s, id, c->d, c->mctx, c->set->mods[0].mode, &peer);
}

static void
cl_close(struct cl *c, struct md_sess *s)
{
	md_close(s, "normal");
}

START_TEST(connlimit_enforces)
{
	static const char *const opts[] = { "max_per_address", "2", NULL };
	struct cl c;
	struct md_sess s[6];

	ck_assert_int_eq(cl_load(&c, SP_MODE_ENFORCE, opts), SP_OK);
	ck_assert_int_ge(md_log_find("connlimit: at most 2 sessions per address"), 0);
	ck_assert_int_eq(cl_open(&c, &s[0], 0, "192.0.2.1"), SP_CONTINUE);
	ck_assert_int_eq(cl_open(&c, &s[1], 1, "192.0.2.1"), SP_CONTINUE);
	ck_assert_uint_eq(md_rec.nsecurity, 0);
	ck_assert_int_eq(cl_open(&c, &s[2], 2, "192.0.2.1"), SP_REJECT);
	ck_assert_uint_eq(md_rec.nsecurity, 1);
	ck_assert_str_eq(md_rec.security[0], "2 rate_limited: "
	    "2 sessions open from this address, max_per_address 2");
	/* Another address has its own count. */
	ck_assert_int_eq(cl_open(&c, &s[3], 3, "2001:db8::1"), SP_CONTINUE);
	/* Closing the rejected session frees no slot... */
	cl_close(&c, &s[2]);
	ck_assert_int_eq(cl_open(&c, &s[2], 4, "192.0.2.1"), SP_REJECT);
	cl_close(&c, &s[2]);
	/* ...closing a counted one does. */
	cl_close(&c, &s[0]);
	ck_assert_int_eq(cl_open(&c, &s[0], 5, "192.0.2.1"), SP_CONTINUE);
	ck_assert_int_eq(cl_open(&c, &s[4], 6, "192.0.2.1"), SP_REJECT);
	cl_close(&c, &s[4]);
	cl_close(&c, &s[0]);
	cl_close(&c, &s[1]);
	cl_close(&c, &s[3]);
	/* Fully drained: the address starts again from zero. */
	ck_assert_int_eq(cl_open(&c, &s[5], 7, "192.0.2.1"), SP_CONTINUE);
	cl_close(&c, &s[5]);
	sp_modules_unload(c.set);
}
END_TEST

START_TEST(connlimit_default_and_detect)
{
	struct cl c;
	struct md_sess s[6];
	int i;

	ck_assert_int_eq(cl_load(&c, SP_MODE_DETECT, NULL), SP_OK);
	ck_assert_int_ge(md_log_find("at most 4 sessions per address (detect only)"), 0);
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(cl_open(&c, &s[i], i, "198.51.100.9"), SP_CONTINUE);
	ck_assert_uint_eq(md_rec.nsecurity, 0);
	/* Over the limit: reported, but let through, and counted. */
	ck_assert_int_eq(cl_open(&c, &s[4], 4, "198.51.100.9"), SP_CONTINUE);
	ck_assert_int_eq(cl_open(&c, &s[5], 5, "198.51.100.9"), SP_CONTINUE);
	ck_assert_uint_eq(md_rec.nsecurity, 2);
	ck_assert_str_eq(md_rec.security[1], "5 rate_limited: 5 sessions open "
	    "from this address, max_per_address 4 (detect mode: let through)");
	for (i = 0; i < 6; i++)
		cl_close(&c, &s[i]);
	sp_modules_unload(c.set);
}
END_TEST

START_TEST(connlimit_bad_options)
{
	static const char *const bad[][3] = {
		{ "max_per_address", "0", NULL },
		{ "max_per_address", "-3", NULL },
		{ "max_per_address", "12x", NULL },
		{ "max_per_address", "", NULL },
		{ "max_per_address", "99999999999999999999", NULL },
		{ "max_per_adress", "3", NULL },
	};
	struct cl c;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		md_reset();
		ck_assert_int_eq(cl_load(&c, SP_MODE_ENFORCE, bad[i]), SP_ERR_CONFIG);
		ck_assert_ptr_null(c.set);
		ck_assert_str_eq(err, SP_CONNLIMIT_SO
		    ": init of module 'connlimit' failed (-22)");
		ck_assert_int_ge(md_log_find("connlimit: bad option"), 0);
	}
}
END_TEST

static Suite *
module_suite(void)
{
	Suite *s = suite_create("module");
	TCase *tc = tcase_create("loader");
	TCase *tx = tcase_create("connlimit");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, good_module_loads_and_runs);
	tcase_add_test(tc, options_default_to_empty_list);
	tcase_add_test(tc, fini_in_reverse_order);
	tcase_add_test(tc, no_modules);
	tcase_add_loop_test(tc, bad_module_refused, 0,
	    (int)(sizeof(refusals) / sizeof(refusals[0])));
	tcase_add_test(tc, messages_match_abi);
	tcase_add_test(tc, init_failure_unwinds_earlier_modules);
	tcase_add_test(tc, refusal_before_any_init);
	tcase_add_test(tc, configured_name_must_match);
	tcase_add_test(tc, explicit_path_wins);
	tcase_add_test(tc, missing_file);
	tcase_add_test(tc, default_moduledir);
	tcase_add_test(tc, not_a_shared_object);
	tcase_add_test(tc, bad_names_refused);
	tcase_add_test(tc, duplicate_refused);
	tcase_add_test(tc, check_descriptor_sizes);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(tx, setup, NULL);
	tcase_add_test(tx, connlimit_enforces);
	tcase_add_test(tx, connlimit_default_and_detect);
	tcase_add_test(tx, connlimit_bad_options);
	suite_add_tcase(s, tx);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(module_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
