/* check_net.c - numeric address parsing and formatting. */
#include "core/err.h"
#include "core/net.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

START_TEST(parse_and_format)
{
	struct sp_addr a;
	char t[SP_ADDR_TEXT];

	ck_assert_int_eq(sp_addr_parse("127.0.0.1:6619", &a), SP_OK);
	sp_addr_format(&a, t, sizeof(t));
	ck_assert_str_eq(t, "127.0.0.1:6619");
	ck_assert_int_eq(sp_addr_parse("[::1]:3305", &a), SP_OK);
	sp_addr_format(&a, t, sizeof(t));
	ck_assert_str_eq(t, "[::1]:3305");
	ck_assert_uint_eq(sp_addr_port(&a), 3305);
	ck_assert_int_eq(sp_addr_parse(":7443", &a), SP_OK);
	sp_addr_format(&a, t, sizeof(t));
	ck_assert_str_eq(t, "0.0.0.0:7443");
	ck_assert_int_eq(sp_addr_parse_host("127.0.0.2", &a), SP_OK);
	sp_addr_host(&a, t, sizeof(t));
	ck_assert_str_eq(t, "127.0.0.2");
}
END_TEST

START_TEST(parse_rejects)
{
	static const char *bad[] = {
		"", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1",
		"127.0.0.1:12a", "::1:80", "[::1]80", "[::1", "example.com:80",
		"300.1.1.1:80", "127.0.0.1:+80",
	};
	struct sp_addr a;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(sp_addr_parse(bad[i], &a) == SP_ERR_INVALID, "accepted '%s'", bad[i]);
	ck_assert_int_eq(sp_addr_parse_host("10.0.0.1:80", &a), SP_ERR_INVALID);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("net");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, parse_and_format);
	tcase_add_test(tc, parse_rejects);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
