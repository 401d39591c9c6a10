/*
 * check_proxyhdr.c - PROXY protocol v1/v2 headers (core/proxyhdr.c) and the
 * trusted networks (core/cidr.c): complete headers, every way to be short,
 * and that reading exactly `needed` bytes at a time never reads past the
 * header, whatever follows it.
 */
#include "core/cidr.h"
#include "core/err.h"
#include "core/proxyhdr.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t V2_TCP4[] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
	0x21, 0x11, 0x00, 0x0c,
	127, 0, 0, 7, 127, 0, 0, 1, 0xd4, 0x31, 0x19, 0xdb,
};
/* The same with a 7-byte TLV (type 0x04 NOOP) after the addresses. */
static const uint8_t V2_TCP4_TLV[] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
	0x21, 0x11, 0x00, 0x13,
	127, 0, 0, 7, 127, 0, 0, 1, 0xd4, 0x31, 0x19, 0xdb,
	0x04, 0x00, 0x04, 'a', 'b', 'c', 'd',
};
static const uint8_t V2_LOCAL[] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
	0x20, 0x00, 0x00, 0x00,
};
static const char V1_TCP4[] = "PROXY TCP4 127.0.0.7 127.0.0.1 54321 6619\r\n";
static const char V1_TCP6[] = "PROXY TCP6 2001:db8::7 ::1 65535 6619\r\n";
/* What follows a header: the first bytes of a TLS ClientHello. */
static const uint8_t HELLO[] = { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01 };

static int
parse(const void *p, size_t n, struct sp_proxyhdr *h, size_t *used)
{
	size_t need = 0;

	return sp_proxyhdr_parse(p, n, h, used, &need);
}

static void
host_of(const struct sp_addr *a, char *t, size_t n)
{
	sp_addr_host(a, t, n);
}

START_TEST(v2_tcp4)
{
	struct sp_proxyhdr h;
	size_t used = 0;
	char t[SP_ADDR_TEXT];

	ck_assert_int_eq(parse(V2_TCP4, sizeof(V2_TCP4), &h, &used), SP_OK);
	ck_assert_uint_eq(used, sizeof(V2_TCP4));
	ck_assert_uint_eq(h.version, 2);
	ck_assert(!h.local);
	host_of(&h.src, t, sizeof(t));
	ck_assert_str_eq(t, "127.0.0.7");
	ck_assert_uint_eq(sp_addr_port(&h.src), 54321);
	ck_assert_uint_eq(sp_addr_port(&h.dst), 6619);
	ck_assert_int_eq(parse(V2_TCP4_TLV, sizeof(V2_TCP4_TLV), &h, &used), SP_OK);
	ck_assert_uint_eq(used, sizeof(V2_TCP4_TLV));
	ck_assert_int_eq(parse(V2_LOCAL, sizeof(V2_LOCAL), &h, &used), SP_OK);
	ck_assert(h.local);
	ck_assert_uint_eq(h.src.len, 0);
}
END_TEST

START_TEST(v2_tcp6_and_refusals)
{
	uint8_t b[16 + 36];
	struct sp_proxyhdr h;
	size_t used;
	char t[SP_ADDR_TEXT];

	memcpy(b, V2_TCP4, 12);
	b[12] = 0x21;
	b[13] = 0x21;
	b[14] = 0;
	b[15] = 36;
	memset(b + 16, 0, 36);
	b[16] = 0x20; b[17] = 0x01; b[18] = 0x0d; b[19] = 0xb8; b[31] = 7;
	b[47] = 1;
	b[48] = 0x04; b[49] = 0x00; b[50] = 0x19; b[51] = 0xdb;
	ck_assert_int_eq(parse(b, sizeof(b), &h, &used), SP_OK);
	host_of(&h.src, t, sizeof(t));
	ck_assert_str_eq(t, "2001:db8::7");
	ck_assert_uint_eq(sp_addr_port(&h.src), 1024);
	/* Body shorter than the addresses of its family. */
	b[15] = 35;
	ck_assert_int_eq(parse(b, 16 + 35, &h, &used), SP_ERR_PROTOCOL);
	/* Version 1 in the v2 nibble, command 2, UDP, UNIX, UNSPEC with PROXY. */
	memcpy(b, V2_TCP4, sizeof(V2_TCP4));
	b[12] = 0x11;
	ck_assert_int_eq(parse(b, sizeof(V2_TCP4), &h, &used), SP_ERR_PROTOCOL);
	b[12] = 0x22;
	ck_assert_int_eq(parse(b, sizeof(V2_TCP4), &h, &used), SP_ERR_PROTOCOL);
	b[12] = 0x21;
	b[13] = 0x12;
	ck_assert_int_eq(parse(b, sizeof(V2_TCP4), &h, &used), SP_ERR_PROTOCOL);
	b[13] = 0x31;
	ck_assert_int_eq(parse(b, sizeof(V2_TCP4), &h, &used), SP_ERR_PROTOCOL);
	b[13] = 0x00;
	ck_assert_int_eq(parse(b, sizeof(V2_TCP4), &h, &used), SP_ERR_PROTOCOL);
	/* Longer than we accept: refused on the length alone, at 16 bytes. */
	b[13] = 0x11;
	b[14] = (SP_PROXYHDR_V2_BODY_MAX + 1) >> 8;
	b[15] = (SP_PROXYHDR_V2_BODY_MAX + 1) & 0xff;
	ck_assert_int_eq(parse(b, 16, &h, &used), SP_ERR_LIMIT);
}
END_TEST

START_TEST(v1_lines)
{
	static const char *bad[] = {
		"PROXY TCP4 127.0.0.7 127.0.0.1 54321 6619\n",
		"PROXY TCP4 127.0.0.7 127.0.0.1 54321 6619\rX",
		"PROXY TCP4 127.0.0.7 127.0.0.1 054321 6619\r\n",
		"PROXY TCP4 127.0.0.7 127.0.0.1 65536 6619\r\n",
		"PROXY TCP4 127.0.0.7  127.0.0.1 1 6619\r\n",
		"PROXY TCP4 127.0.0.7 127.0.0.1 1 6619 \r\n",
		"PROXY TCP4 ::1 127.0.0.1 1 6619\r\n",
		"PROXY TCP6 127.0.0.7 ::1 1 6619\r\n",
		"PROXY UDP4 127.0.0.7 127.0.0.1 1 6619\r\n",
		"PROXY TCP4 127.0.0.7 127.0.0.1 1\r\n",
		"PROXY UNKNOWNX\r\n",
		"PROXY TCP4 300.0.0.7 127.0.0.1 54321 6619\r\n",
	};
	struct sp_proxyhdr h;
	size_t used, i;
	char t[SP_ADDR_TEXT], longline[200];

	ck_assert_int_eq(parse(V1_TCP4, strlen(V1_TCP4), &h, &used), SP_OK);
	ck_assert_uint_eq(used, strlen(V1_TCP4));
	ck_assert_uint_eq(h.version, 1);
	host_of(&h.src, t, sizeof(t));
	ck_assert_str_eq(t, "127.0.0.7");
	ck_assert_uint_eq(sp_addr_port(&h.src), 54321);
	ck_assert_int_eq(parse(V1_TCP6, strlen(V1_TCP6), &h, &used), SP_OK);
	host_of(&h.src, t, sizeof(t));
	ck_assert_str_eq(t, "2001:db8::7");
	ck_assert_uint_eq(sp_addr_port(&h.src), 65535);
	ck_assert_int_eq(parse("PROXY UNKNOWN\r\n", 15, &h, &used), SP_OK);
	ck_assert(h.local);
	ck_assert_int_eq(parse("PROXY UNKNOWN ffff::1 ::1 1 2\r\n", 31, &h, &used), SP_OK);
	ck_assert(h.local);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(parse(bad[i], strlen(bad[i]), &h, &used) == SP_ERR_PROTOCOL,
		    "accepted '%s'", bad[i]);
	/* No CRLF within 107 bytes. */
	memset(longline, 'x', sizeof(longline));
	memcpy(longline, "PROXY TCP4 ", 11);
	ck_assert_int_eq(parse(longline, sizeof(longline), &h, &used), SP_ERR_PROTOCOL);
}
END_TEST

START_TEST(not_a_header)
{
	struct sp_proxyhdr h;
	size_t used, need = 0;

	/* A ClientHello or an OFTP2 byte is refused on its first byte. */
	ck_assert_int_eq(parse(HELLO, 1, &h, &used), SP_ERR_PROTOCOL);
	ck_assert_int_eq(parse("X", 1, &h, &used), SP_ERR_PROTOCOL);
	ck_assert_int_eq(parse("PROXX", 5, &h, &used), SP_ERR_PROTOCOL);
	ck_assert_int_eq(sp_proxyhdr_parse((const uint8_t *)"", 0, &h, &used, &need),
	    SP_ERR_SHORT);
	ck_assert_uint_eq(need, 15);
}
END_TEST

/*
 * Feed a header followed by HELLO, reading exactly `needed` bytes each time
 * as the server does: the header must end exactly where it ends.
 */
static void
stepwise(const uint8_t *hdr, size_t hlen)
{
	uint8_t stream[SP_PROXYHDR_MAX + sizeof(HELLO)];
	struct sp_proxyhdr h;
	size_t have = 0, used = 0, need = 0;
	int r, steps = 0;

	memcpy(stream, hdr, hlen);
	memcpy(stream + hlen, HELLO, sizeof(HELLO));
	while ((r = sp_proxyhdr_parse(stream, have, &h, &used, &need)) == SP_ERR_SHORT) {
		ck_assert_uint_ge(need, 1);
		ck_assert_msg(have + need <= hlen, "needed %zu at %zu reads past %zu", need,
		    have, hlen);
		have += need;
		ck_assert_int_lt(++steps, 200);
	}
	ck_assert_int_eq(r, SP_OK);
	ck_assert_uint_eq(used, hlen);
	ck_assert_uint_eq(have, hlen);
}

START_TEST(needed_never_overreads)
{
	stepwise(V2_TCP4, sizeof(V2_TCP4));
	stepwise(V2_TCP4_TLV, sizeof(V2_TCP4_TLV));
	stepwise(V2_LOCAL, sizeof(V2_LOCAL));
	stepwise((const uint8_t *)V1_TCP4, strlen(V1_TCP4));
	stepwise((const uint8_t *)V1_TCP6, strlen(V1_TCP6));
	stepwise((const uint8_t *)"PROXY UNKNOWN\r\n", 15);
	stepwise((const uint8_t *)"PROXY UNKNOWN 1\r\n", 17);
}
END_TEST

START_TEST(trusted_networks)
{
	struct sp_cidr n[2];
	struct sp_addr a;

	ck_assert_int_eq(sp_cidr_parse("127.0.0.0/29", &n[0]), SP_OK);
	ck_assert_int_eq(sp_cidr_parse("2001:db8::/32", &n[1]), SP_OK);
	ck_assert_int_eq(sp_addr_parse_host("127.0.0.7", &a), SP_OK);
	ck_assert(sp_cidr_match_any(n, 2, &a));
	ck_assert_int_eq(sp_addr_parse_host("127.0.0.8", &a), SP_OK);
	ck_assert(!sp_cidr_match_any(n, 2, &a));
	ck_assert_int_eq(sp_addr_parse_host("::ffff:127.0.0.3", &a), SP_OK);
	ck_assert(sp_cidr_match(&n[0], &a));
	ck_assert_int_eq(sp_addr_parse_host("2001:db8:1::1", &a), SP_OK);
	ck_assert(sp_cidr_match(&n[1], &a));
	ck_assert(!sp_cidr_match(&n[0], &a));
	ck_assert_int_eq(sp_cidr_parse("127.0.0.1", &n[0]), SP_OK);
	ck_assert_uint_eq(n[0].prefix, 32);
	ck_assert_int_eq(sp_cidr_parse("0.0.0.0/0", &n[0]), SP_OK);
	ck_assert(sp_cidr_match(&n[0], &a) == false);   /* family differs */
	ck_assert_int_eq(sp_cidr_parse("127.0.0.1/33", &n[0]), SP_ERR_INVALID);
	ck_assert_int_eq(sp_cidr_parse("127.0.0.1/08", &n[0]), SP_ERR_INVALID);
	ck_assert_int_eq(sp_cidr_parse("/8", &n[0]), SP_ERR_INVALID);
	ck_assert_int_eq(sp_cidr_parse("lb.example/8", &n[0]), SP_ERR_INVALID);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("proxyhdr");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, v2_tcp4);
	tcase_add_test(tc, v2_tcp6_and_refusals);
	tcase_add_test(tc, v1_lines);
	tcase_add_test(tc, not_a_header);
	tcase_add_test(tc, needed_never_overreads);
	tcase_add_test(tc, trusted_networks);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
