/* check_yaml_read.c - the shared YAML reader (core/yaml_read.h) behind the
 * bootstrap files and the api's site file: error lines, key checks, scalars. */
#include "core/err.h"
#include "core/yaml.h"
#include "core/yaml_read.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static struct sp_yaml_node *
tree(const char *text)
{
	static const struct sp_yaml_limits lim = { 8, 100 };
	struct sp_yaml_node *root = NULL;
	struct sp_yaml_error e;

	ck_assert_int_eq(sp_yaml_parse(text, strlen(text), &lim, &root, &e), SP_OK);
	ck_assert_ptr_nonnull(root);
	return root;
}

START_TEST(error_lines)
{
	struct sp_yaml_rd rd;
	char err[200];
	size_t a, b;

	sp_yaml_rd_init(&rd, "f.yaml", err, sizeof(err));
	ck_assert_int_eq(sp_yaml_rd_fail(&rd, 3, "no %s", "good"), SP_ERR_CONFIG);
	ck_assert_str_eq(err, "f.yaml:3: no good");
	a = sp_yaml_rd_push_key(&rd, "partners");
	b = sp_yaml_rd_push(&rd, "[%d]", 2);
	(void)sp_yaml_rd_push_key(&rd, "tls");
	ck_assert_int_eq(sp_yaml_rd_fail(&rd, 7, "bad"), SP_ERR_CONFIG);
	ck_assert_str_eq(err, "f.yaml:7: key 'partners[2].tls': bad");
	sp_yaml_rd_pop(&rd, b);
	ck_assert_int_eq(sp_yaml_rd_fail(&rd, 0, "bad"), SP_ERR_CONFIG);
	ck_assert_str_eq(err, "f.yaml: key 'partners': bad");
	sp_yaml_rd_pop(&rd, a);
	ck_assert_str_eq(rd.path, "");
}
END_TEST

START_TEST(keys)
{
	static const char *const known[] = { "a", "b", NULL };
	struct sp_yaml_node *t = tree("a: 1\nb: x\n");
	struct sp_yaml_node *u = tree("a: 1\nc: 2\n");
	struct sp_yaml_node *d = tree("a: 1\nb: 2\na: 3\n");
	struct sp_yaml_node *s = tree("- 1\n");
	struct sp_yaml_rd rd;
	char err[200];
	unsigned line = 0;

	sp_yaml_rd_init(&rd, "f", err, sizeof(err));
	ck_assert_int_eq(sp_yaml_rd_keys(&rd, t, 1, known), SP_OK);
	ck_assert_str_eq(sp_yaml_map_get(t, "b", &line)->str, "x");
	ck_assert_uint_eq(line, 2);
	ck_assert_ptr_null(sp_yaml_map_get(t, "c", NULL));
	ck_assert_int_eq(sp_yaml_rd_keys(&rd, u, 1, known), SP_ERR_CONFIG);
	ck_assert_str_eq(err, "f:2: key 'c': unknown key");
	ck_assert_int_eq(sp_yaml_rd_keys(&rd, d, 1, known), SP_ERR_CONFIG);
	ck_assert_str_eq(err, "f:3: key 'a': given twice (first on line 1)");
	ck_assert_int_eq(sp_yaml_rd_keys(&rd, s, 1, known), SP_ERR_CONFIG);
	ck_assert_str_eq(err, "f:1: expected a mapping, got a sequence");
	ck_assert_int_eq(sp_yaml_rd_keys(&rd, NULL, 9, known), SP_ERR_CONFIG);
	ck_assert_str_eq(err, "f:9: expected a mapping, got nothing");
	ck_assert_str_eq(rd.path, "");
	sp_yaml_free(t);
	sp_yaml_free(u);
	sp_yaml_free(d);
	sp_yaml_free(s);
}
END_TEST

START_TEST(scalars)
{
	struct sp_yaml_node *t = tree("n: 42\nbig: 1000\nneg: -1\nt: true\nq: \"true\"\n"
	    "s: hello\nc: \"a\\tb\"\nz: \"a\\0b\"\nm: {x: 1}\n");
	struct sp_yaml_rd rd;
	char err[200], *out = NULL;
	long long v = 0;
	bool b = false;

	sp_yaml_rd_init(&rd, "f", err, sizeof(err));
	ck_assert_int_eq(sp_yaml_rd_uint(&rd, sp_yaml_map_get(t, "n", NULL), 0, 100, &v), SP_OK);
	ck_assert_int_eq(v, 42);
	ck_assert_int_eq(sp_yaml_rd_uint(&rd, sp_yaml_map_get(t, "big", NULL), 0, 100, &v),
	    SP_ERR_CONFIG);
	ck_assert_str_eq(err, "f:2: 1000 is outside 0..100");
	ck_assert_int_eq(sp_yaml_rd_uint(&rd, sp_yaml_map_get(t, "neg", NULL), 0, 100, &v),
	    SP_ERR_CONFIG);
	ck_assert_str_eq(err, "f:3: expected an integer");
	ck_assert_int_eq(sp_yaml_rd_bool(&rd, sp_yaml_map_get(t, "t", NULL), &b), SP_OK);
	ck_assert(b);
	/* A quoted "true" is a string, not a boolean. */
	ck_assert_int_eq(sp_yaml_rd_bool(&rd, sp_yaml_map_get(t, "q", NULL), &b), SP_ERR_CONFIG);
	ck_assert_int_eq(sp_yaml_rd_str(&rd, sp_yaml_map_get(t, "s", NULL), 1, 10, &out), SP_OK);
	ck_assert_str_eq(out, "hello");
	free(out);
	ck_assert_int_eq(sp_yaml_rd_str(&rd, sp_yaml_map_get(t, "s", NULL), 1, 3, &out),
	    SP_ERR_CONFIG);
	ck_assert_str_eq(err, "f:6: expected 1 to 3 characters, got 5");
	ck_assert_int_eq(sp_yaml_rd_str(&rd, sp_yaml_map_get(t, "c", NULL), 0, 10, &out),
	    SP_ERR_CONFIG);
	ck_assert_str_eq(err, "f:7: control characters are not allowed");
	ck_assert_int_eq(sp_yaml_rd_str(&rd, sp_yaml_map_get(t, "z", NULL), 0, 10, &out),
	    SP_ERR_CONFIG);
	ck_assert_str_eq(err, "f:8: expected a string, got a string holding NUL");
	ck_assert_int_eq(sp_yaml_rd_str(&rd, sp_yaml_map_get(t, "m", NULL), 0, 10, &out),
	    SP_ERR_CONFIG);
	ck_assert_str_eq(err, "f:9: expected a string, got a mapping");
	sp_yaml_free(t);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("yaml_read");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, error_lines);
	tcase_add_test(tc, keys);
	tcase_add_test(tc, scalars);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
