/* check_buf.c - bounded buffer and read cursor. */
#include "core/buf.h"
#include "core/err.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

START_TEST(put_respects_max)
{
	struct sp_buf b;

	sp_buf_init(&b, 8);
	ck_assert_int_eq(sp_buf_len(&b), 0);
	ck_assert_ptr_null(b.data); /* lazy */
	ck_assert_int_eq(sp_buf_put(&b, "12345", 5), SP_OK);
	ck_assert_int_eq(sp_buf_put(&b, "6789", 4), SP_ERR_LIMIT);
	ck_assert_int_eq(sp_buf_len(&b), 5); /* unchanged on failure */
	ck_assert_int_eq(sp_buf_put(&b, "678", 3), SP_OK);
	ck_assert_int_eq(sp_buf_room(&b), 0);
	ck_assert_mem_eq(sp_buf_ptr(&b), "12345678", 8);
	sp_buf_free(&b);
}
END_TEST

START_TEST(consume_and_compact)
{
	struct sp_buf b;
	uint8_t *w;
	size_t got;
	int i;

	sp_buf_init(&b, 1000);
	for (i = 0; i < 100; i++) {
		ck_assert_int_eq(sp_buf_put(&b, "abcdefgh", 8), SP_OK);
		ck_assert_int_eq(sp_buf_consume(&b, 7), SP_OK);
	}
	ck_assert_int_eq(sp_buf_len(&b), 100);
	ck_assert_int_eq(sp_buf_consume(&b, 101), SP_ERR_SHORT);
	ck_assert_int_eq(sp_buf_reserve(&b, 5000, &w, &got), SP_OK);
	ck_assert_uint_eq(got, 900);
	memset(w, 'x', 10);
	sp_buf_commit(&b, 10);
	ck_assert_int_eq(sp_buf_len(&b), 110);
	ck_assert_int_eq(sp_buf_consume(&b, 110), SP_OK);
	sp_buf_release_if_empty(&b);
	ck_assert_ptr_null(b.data);
	sp_buf_free(&b);
}
END_TEST

/* A drained buffer keeps its storage and zeroes only the bytes that held data
 * (the rest of the storage is not touched); sp_buf_free() wipes them too. */
START_TEST(drain_keeps_storage_wipes_used)
{
	struct sp_buf b;
	uint8_t *w, *first;
	size_t got, cap, i;

	sp_buf_init(&b, 1u << 20);
	ck_assert_int_eq(sp_buf_put(&b, "secret-secret", 13), SP_OK);
	first = b.data;
	cap = b.cap;
	ck_assert_uint_ge(cap, 64);
	/* Mark the never-written tail: a wipe must leave it alone. */
	memset(b.data + 13, 0xA5, cap - 13);
	ck_assert_int_eq(sp_buf_put(&b, "more", 4), SP_OK);
	ck_assert_uint_eq(b.used, 17);
	ck_assert_int_eq(sp_buf_consume(&b, 10), SP_OK);
	sp_buf_wipe_if_empty(&b); /* not empty: nothing happens */
	ck_assert_mem_eq(sp_buf_ptr(&b), "retmore", 7);
	ck_assert_int_eq(sp_buf_consume(&b, 7), SP_OK);
	sp_buf_wipe_if_empty(&b);
	ck_assert_ptr_eq(b.data, first); /* storage kept */
	ck_assert_uint_eq(b.cap, cap);
	ck_assert_uint_eq(b.used, 0);
	for (i = 0; i < 17; i++)
		ck_assert_uint_eq(b.data[i], 0);
	for (i = 17; i < cap; i++)
		ck_assert_uint_eq(b.data[i], 0xA5);
	/* The next write reuses it; a reservation counts as written. */
	ck_assert_int_eq(sp_buf_put(&b, "abc", 3), SP_OK);
	ck_assert_ptr_eq(b.data, first);
	ck_assert_int_eq(sp_buf_reserve(&b, 20, &w, &got), SP_OK);
	ck_assert_uint_eq(got, 20);
	sp_buf_commit(&b, 5);
	ck_assert_uint_eq(b.used, 23);
	ck_assert_int_eq(sp_buf_consume(&b, 8), SP_OK);
	sp_buf_wipe_if_empty(&b);
	for (i = 0; i < 23; i++)
		ck_assert_uint_eq(b.data[i], 0);
	ck_assert_uint_eq(b.data[23], 0xA5);
	/* Growing copies the live bytes and leaves a fresh high-water mark. */
	ck_assert_int_eq(sp_buf_put(&b, "xy", 2), SP_OK);
	ck_assert_int_eq(sp_buf_reserve(&b, cap * 2, &w, &got), SP_OK);
	memset(w, 'z', got);
	sp_buf_commit(&b, got);
	ck_assert_uint_eq(b.used, b.len);
	ck_assert_mem_eq(sp_buf_ptr(&b), "xyz", 3);
	sp_buf_release_if_empty(&b); /* not empty */
	ck_assert_ptr_nonnull(b.data);
	ck_assert_int_eq(sp_buf_consume(&b, b.len), SP_OK);
	sp_buf_release_if_empty(&b);
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.used, 0);
	sp_buf_free(&b);
}
END_TEST

START_TEST(integers_and_format)
{
	struct sp_buf b;
	struct sp_rd r;
	uint8_t u8;
	uint16_t u16;
	uint32_t u24, u32;

	sp_buf_init(&b, 64);
	ck_assert_int_eq(sp_buf_put_u8(&b, 0x10), SP_OK);
	ck_assert_int_eq(sp_buf_put_u24be(&b, 0x000017), SP_OK);
	ck_assert_int_eq(sp_buf_put_u24be(&b, 0x1000000), SP_ERR_INVALID);
	ck_assert_int_eq(sp_buf_put_u16be(&b, 0xbeef), SP_OK);
	ck_assert_int_eq(sp_buf_put_u32be(&b, 0xdeadbeef), SP_OK);
	ck_assert_int_eq(sp_buf_putf(&b, "%05d", 128), SP_OK);
	ck_assert_int_eq(sp_buf_len(&b), 15);

	sp_rd_init(&r, sp_buf_ptr(&b), sp_buf_len(&b));
	ck_assert_int_eq(sp_rd_u8(&r, &u8), SP_OK);
	ck_assert_uint_eq(u8, 0x10);
	ck_assert_int_eq(sp_rd_u24be(&r, &u24), SP_OK);
	ck_assert_uint_eq(u24, 0x17);
	ck_assert_int_eq(sp_rd_u16be(&r, &u16), SP_OK);
	ck_assert_uint_eq(u16, 0xbeef);
	ck_assert_int_eq(sp_rd_u32be(&r, &u32), SP_OK);
	ck_assert_uint_eq(u32, 0xdeadbeef);
	ck_assert_uint_eq(sp_rd_left(&r), 5);
	ck_assert_int_eq(sp_rd_u32be(&r, &u32), SP_OK);
	ck_assert_int_eq(sp_rd_u16be(&r, &u16), SP_ERR_SHORT);
	ck_assert_uint_eq(sp_rd_left(&r), 1); /* failed read does not move */
	sp_buf_free(&b);
}
END_TEST

START_TEST(putf_bounded)
{
	struct sp_buf b;
	char big[600];

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	sp_buf_init(&b, 512);
	ck_assert_int_eq(sp_buf_putf(&b, "%s", big), SP_ERR_LIMIT);
	ck_assert_int_eq(sp_buf_len(&b), 0);
	big[400] = '\0';
	ck_assert_int_eq(sp_buf_putf(&b, "%s", big), SP_OK);
	ck_assert_int_eq(sp_buf_len(&b), 400);
	sp_buf_free(&b);
}
END_TEST

START_TEST(cursor_bytes)
{
	struct sp_rd r;
	const uint8_t *p;
	char out[4];

	sp_rd_init(&r, "HELLO", 5);
	ck_assert_int_eq(sp_rd_bytes(&r, 6, &p), SP_ERR_SHORT);
	ck_assert_int_eq(sp_rd_bytes(&r, 2, &p), SP_OK);
	ck_assert_mem_eq(p, "HE", 2);
	ck_assert_int_eq(sp_rd_copy(&r, out, 3), SP_OK);
	ck_assert_mem_eq(out, "LLO", 3);
	ck_assert_int_eq(sp_rd_skip(&r, 1), SP_ERR_SHORT);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("buf");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, put_respects_max);
	tcase_add_test(tc, consume_and_compact);
	tcase_add_test(tc, drain_keeps_storage_wipes_used);
	tcase_add_test(tc, integers_and_format);
	tcase_add_test(tc, putf_bounded);
	tcase_add_test(tc, cursor_bytes);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
