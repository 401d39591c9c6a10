/* check_hmap.c - the hash table of core/hmap.h: the server's lookups by session number and address. */
#include "core/err.h"
#include "core/hmap.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

START_TEST(empty_table)
{
	struct sp_hmap m;
	uint64_t id = 7;

	memset(&m, 0, sizeof(m));
	ck_assert_ptr_null(sp_hmap_get(&m, &id, sizeof(id)));
	ck_assert_ptr_null(sp_hmap_del(&m, &id, sizeof(id)));
	ck_assert_uint_eq(sp_hmap_count(&m), 0);
	sp_hmap_free(&m);
	sp_hmap_free(&m);    /* twice is fine: back to zeroed */
}
END_TEST

/* Session numbers, as the server uses it: 20 000 in, every other one out,
 * the rest still found, then all out. */
START_TEST(many_ids)
{
	struct sp_hmap m;
	static int vals[20000];
	uint64_t id;

	memset(&m, 0, sizeof(m));
	for (id = 1; id <= 20000; id++)
		ck_assert_int_eq(sp_hmap_put(&m, &id, sizeof(id), &vals[id - 1]), SP_OK);
	ck_assert_uint_eq(sp_hmap_count(&m), 20000);
	id = 5;
	ck_assert_int_eq(sp_hmap_put(&m, &id, sizeof(id), &vals[0]), SP_ERR_EXISTS);
	ck_assert_ptr_eq(sp_hmap_get(&m, &id, sizeof(id)), &vals[4]);
	for (id = 2; id <= 20000; id += 2)
		ck_assert_ptr_eq(sp_hmap_del(&m, &id, sizeof(id)), &vals[id - 1]);
	ck_assert_uint_eq(sp_hmap_count(&m), 10000);
	for (id = 1; id <= 20000; id++)
		ck_assert_ptr_eq(sp_hmap_get(&m, &id, sizeof(id)), id % 2 ? &vals[id - 1] : NULL);
	id = 0;
	ck_assert_ptr_null(sp_hmap_get(&m, &id, sizeof(id)));
	id = 20001;
	ck_assert_ptr_null(sp_hmap_del(&m, &id, sizeof(id)));
	for (id = 1; id <= 20000; id += 2)
		ck_assert_ptr_nonnull(sp_hmap_del(&m, &id, sizeof(id)));
	ck_assert_uint_eq(sp_hmap_count(&m), 0);
	sp_hmap_free(&m);
}
END_TEST

/* Address strings: keys differ in length and in content; a prefix is not a
 * match; the empty key is a key. */
START_TEST(string_keys)
{
	struct sp_hmap m;
	char a[64];
	int v[3000], x = 0, i;

	memset(&m, 0, sizeof(m));
	for (i = 0; i < 3000; i++) {
		snprintf(a, sizeof(a), "%s%d.%d", i % 2 ? "2001:db8::" : "10.0.", i / 256, i % 256);
		ck_assert_int_eq(sp_hmap_put(&m, a, strlen(a), &v[i]), SP_OK);
	}
	for (i = 0; i < 3000; i++) {
		snprintf(a, sizeof(a), "%s%d.%d", i % 2 ? "2001:db8::" : "10.0.", i / 256, i % 256);
		ck_assert_ptr_eq(sp_hmap_get(&m, a, strlen(a)), &v[i]);
		/* One octet shorter: another key (or none). */
		ck_assert_ptr_ne(sp_hmap_get(&m, a, strlen(a) - 1), &v[i]);
	}
	ck_assert_ptr_null(sp_hmap_get(&m, "", 0));
	ck_assert_int_eq(sp_hmap_put(&m, "", 0, &x), SP_OK);
	ck_assert_ptr_eq(sp_hmap_get(&m, "", 0), &x);
	ck_assert_int_eq(sp_hmap_put(&m, "k", 1, NULL), SP_ERR_INVALID);
	sp_hmap_free(&m);
	ck_assert_uint_eq(sp_hmap_count(&m), 0);
	ck_assert_ptr_null(sp_hmap_get(&m, "", 0));
}
END_TEST

/* The hash depends on every octet, the length and the key. */
START_TEST(siphash_keyed)
{
	unsigned char buf[64];
	uint64_t h[65];
	int i, j;

	memset(buf, 0xa5, sizeof(buf));
	for (i = 0; i <= 64; i++)
		h[i] = sp_siphash13(1, 2, buf, (size_t)i);
	for (i = 0; i <= 64; i++)
		for (j = i + 1; j <= 64; j++)
			ck_assert(h[i] != h[j]);
	ck_assert(sp_siphash13(1, 2, buf, 16) == sp_siphash13(1, 2, buf, 16));
	ck_assert(sp_siphash13(1, 2, buf, 16) != sp_siphash13(1, 3, buf, 16));
	ck_assert(sp_siphash13(1, 2, buf, 16) != sp_siphash13(2, 2, buf, 16));
	for (i = 0; i < 16; i++) {
		uint64_t before = sp_siphash13(1, 2, buf, 16);
		buf[i] ^= 1;
		ck_assert(sp_siphash13(1, 2, buf, 16) != before);
		buf[i] ^= 1;
	}
}
END_TEST

/* Two tables draw different keys: the same key lands elsewhere. */
START_TEST(tables_keyed_apart)
{
	struct sp_hmap a, b;
	int v;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	ck_assert_int_eq(sp_hmap_put(&a, "x", 1, &v), SP_OK);
	ck_assert_int_eq(sp_hmap_put(&b, "x", 1, &v), SP_OK);
	ck_assert(a.k0 != b.k0 || a.k1 != b.k1);
	sp_hmap_free(&a);
	sp_hmap_free(&b);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("hmap");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, empty_table);
	tcase_add_test(tc, many_ids);
	tcase_add_test(tc, string_keys);
	tcase_add_test(tc, siphash_keyed);
	tcase_add_test(tc, tables_keyed_apart);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
