/*
 * check_oftp2_cmd.c - OFTP2 codec: reference examples, command round trips,
 * one failing case per field rule, builder rejections, STH framing at every
 * split point, SSID negotiation and reason texts.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "oftp2/codec.h"
#include "oftp2_samples.h"

/* Reference §11 examples, STH included. */
static const char *ex_ssrm =
    "10 00 00 17 49 4f 44 45 54 54 45 20 46 54 50 20 52 45 41 44 59 20 0d";
static const char *ex_ssid =
    "10 00 00 41 58 35 4f 30 30 31 33 30 30 30 30 30 30 41 43 4d 45 20 20 20"
    "20 20 20 20 20 20 20 53 45 43 52 45 54 20 20 30 34 30 39 36 42 4e 59 4e"
    "30 36 34 4e 20 20 20 20 20 20 20 20 20 20 20 20 0d";
static const char *ex_sfid =
    "10 00 00 a9 48 49 4e 56 4f 49 43 2e 54 45 53 54"
    "20 20 20 20 20 20 20 20 20 20 20 20 20 20 20 20"
    "20 20 32 30 32 34 30 33 31 35 31 34 33 30 30 30"
    "30 30 30 31 20 20 20 20 20 20 20 20 4f 30 30 31"
    "33 30 30 30 30 30 30 44 45 53 54 20 20 20 20 20"
    "20 20 20 20 20 4f 30 30 31 33 30 30 30 30 30 30"
    "41 43 4d 45 20 20 20 20 20 20 20 20 20 20 55 30"
    "30 30 30 30 30 30 30 30 30 30 30 30 30 30 30 31"
    "32 30 30 30 30 30 30 30 30 30 30 30 31 32 30 30"
    "30 30 30 30 30 30 30 30 30 30 30 30 30 30 30 30"
    "30 30 30 30 30 4e 30 30 30";
static const uint8_t ex_esid0[] = "\x10\x00\x00\x0b" "F00000\r";
static const uint8_t ex_esid4[] = "\x10\x00\x00\x1b" "F04016Invalid password\r";

/* Frame + parse a whole STB; asserts success. */
static void
parse_stb(const uint8_t *p, size_t n, unsigned tol, struct oftp2_cmd *c)
{
	struct oftp2_frame f;
	struct oftp2_err e;
	int r;

	ck_assert_int_eq(oftp2_frame(p, n, tol, &f, &e), 0);
	ck_assert_uint_eq(f.consumed, n);
	r = oftp2_parse(f.oeb, f.oeb_len, tol, c, &e);
	ck_assert_msg(r == 0, "parse: %s", e.text);
}

/* Build c (with STH) and compare with the expected octets. */
static void
build_equals(const struct oftp2_cmd *c, const uint8_t *want, size_t n)
{
	struct sp_buf b;
	struct oftp2_err e;
	int r;

	sp_buf_init(&b, 200000);
	r = oftp2_build(&b, c, OFTP2_BUILD_STH, &e);
	ck_assert_msg(r == 0, "build: %s", e.text);
	ck_assert_uint_eq(sp_buf_len(&b), n);
	ck_assert_mem_eq(sp_buf_ptr(&b), want, n);
	sp_buf_free(&b);
}

START_TEST(example_ssrm)
{
	uint8_t p[64];
	size_t n = sample_unhex(ex_ssrm, p, sizeof(p));
	struct oftp2_cmd c;

	ck_assert_uint_eq(n, 23);
	parse_stb(p, n, 0, &c);
	ck_assert_int_eq(c.code, OFTP2_SSRM);
	ck_assert_uint_eq(c.u.ssrm.cr, 0x0d);
	build_equals(&c, p, n);
}
END_TEST

START_TEST(example_ssid)
{
	uint8_t p[128];
	size_t n = sample_unhex(ex_ssid, p, sizeof(p));
	struct oftp2_cmd c, s;
	const char *lit = "X5O0013000000ACME          SECRET  04096BNYN064N"
	    "            \r";

	ck_assert_uint_eq(n, 65);
	ck_assert_mem_eq(p + 4, lit, 61);
	parse_stb(p, n, 0, &c);
	ck_assert_int_eq(c.code, OFTP2_SSID);
	ck_assert_uint_eq(c.u.ssid.level, 5);
	ck_assert_str_eq(c.u.ssid.code, "O0013000000ACME");
	ck_assert_str_eq(c.u.ssid.password, "SECRET");
	ck_assert_uint_eq(c.u.ssid.sdeb, 4096);
	ck_assert_int_eq(c.u.ssid.mode, OFTP2_MODE_BOTH);
	ck_assert(!c.u.ssid.compression);
	ck_assert(c.u.ssid.restart);
	ck_assert(!c.u.ssid.special);
	ck_assert_uint_eq(c.u.ssid.credit, 64);
	ck_assert(!c.u.ssid.auth);
	ck_assert_str_eq(c.u.ssid.user, "");
	ck_assert_uint_eq(c.u.ssid.cr, 0x0d);
	build_equals(&c, p, n);
	sample_cmd(OFTP2_SSID, 0, &s);
	build_equals(&s, p, n);
}
END_TEST

START_TEST(example_sfid)
{
	uint8_t p[256];
	size_t n = sample_unhex(ex_sfid, p, sizeof(p));
	struct oftp2_cmd c, s;

	ck_assert_uint_eq(n, 169);
	parse_stb(p, n, 0, &c);
	ck_assert_int_eq(c.code, OFTP2_SFID);
	ck_assert_str_eq(c.u.sfid.dsn, "INVOIC.TEST");
	ck_assert_uint_eq(c.u.sfid.date, 20240315);
	ck_assert_uint_eq(c.u.sfid.time, 1430000001);
	ck_assert_str_eq(c.u.sfid.user, "");
	ck_assert_str_eq(c.u.sfid.dest, "O0013000000DEST");
	ck_assert_str_eq(c.u.sfid.orig, "O0013000000ACME");
	ck_assert_int_eq(c.u.sfid.format, OFTP2_FMT_UNSTRUCTURED);
	ck_assert_uint_eq(c.u.sfid.lrecl, 0);
	ck_assert_uint_eq(c.u.sfid.fsiz, 12);
	ck_assert_uint_eq(c.u.sfid.osiz, 12);
	ck_assert_uint_eq(c.u.sfid.rest, 0);
	ck_assert_uint_eq(c.u.sfid.sec, 0);
	ck_assert_uint_eq(c.u.sfid.ciph, 0);
	ck_assert_uint_eq(c.u.sfid.comp, 0);
	ck_assert_uint_eq(c.u.sfid.env, 0);
	ck_assert(!c.u.sfid.sign);
	ck_assert_uint_eq(c.u.sfid.desc.len, 0);
	build_equals(&c, p, n);
	sample_cmd(OFTP2_SFID, 0, &s);
	build_equals(&s, p, n);
}
END_TEST

START_TEST(example_esid)
{
	struct oftp2_cmd c;

	parse_stb(ex_esid0, 11, 0, &c);
	ck_assert_int_eq(c.code, OFTP2_ESID);
	ck_assert_uint_eq(c.u.esid.reason, OFTP2_ESID_NORMAL);
	ck_assert_uint_eq(c.u.esid.text.len, 0);
	build_equals(&c, ex_esid0, 11);

	parse_stb(ex_esid4, 27, 0, &c);
	ck_assert_uint_eq(c.u.esid.reason, OFTP2_ESID_BAD_PASSWORD);
	ck_assert_uint_eq(c.u.esid.text.len, 16);
	ck_assert_mem_eq(c.u.esid.text.ptr, "Invalid password", 16);
	/* Points into the frame, no copy. */
	ck_assert_ptr_eq(c.u.esid.text.ptr, ex_esid4 + 10);
	build_equals(&c, ex_esid4, 27);
}
END_TEST

/* build -> parse -> build for every command type and both variants. */
START_TEST(round_trip_all)
{
	struct sp_buf b1, b2;
	struct oftp2_cmd c, back;
	struct oftp2_err e;
	int r;

	sp_buf_init(&b1, 200000);
	sp_buf_init(&b2, 200000);
	for (size_t v = 0; v < 2; v++) {
		sample_cmd(sample_codes[_i], (int)v, &c);
		sp_buf_reset(&b1);
		sp_buf_reset(&b2);
		r = oftp2_build(&b1, &c, 0, &e);
		ck_assert_msg(r == 0, "build %s: %s",
		    oftp2_cmd_name(sample_codes[_i]), e.text);
		r = oftp2_parse(sp_buf_ptr(&b1), sp_buf_len(&b1), 0, &back, &e);
		ck_assert_msg(r == 0, "parse: %s", e.text);
		ck_assert_int_eq(back.code, c.code);
		r = oftp2_build(&b2, &back, 0, &e);
		ck_assert_msg(r == 0, "rebuild: %s", e.text);
		ck_assert_uint_eq(sp_buf_len(&b1), sp_buf_len(&b2));
		ck_assert_mem_eq(sp_buf_ptr(&b1), sp_buf_ptr(&b2),
		    sp_buf_len(&b1));
		ck_assert_int_eq(oftp2_check(&back, &e), 0);
	}
	sp_buf_free(&b1);
	sp_buf_free(&b2);
}
END_TEST

/* Decoded values of the variant samples survive the round trip. */
START_TEST(round_trip_values)
{
	struct sp_buf b;
	struct oftp2_cmd c, back;

	sp_buf_init(&b, 200000);
	sample_cmd(OFTP2_SFID, 1, &c);
	ck_assert_int_eq(oftp2_build(&b, &c, 0, NULL), 0);
	ck_assert_uint_eq(sp_buf_len(&b), 165 + 14);
	ck_assert_int_eq(oftp2_parse(sp_buf_ptr(&b), sp_buf_len(&b), 0, &back,
	    NULL), 0);
	ck_assert_int_eq(back.u.sfid.format, OFTP2_FMT_VARIABLE);
	ck_assert_uint_eq(back.u.sfid.lrecl, 65536);
	ck_assert_uint_eq(back.u.sfid.time, 2359599999u);
	ck_assert_uint_eq(back.u.sfid.rest, 99999999999999999ull);
	ck_assert_uint_eq(back.u.sfid.sec, 3);
	ck_assert_uint_eq(back.u.sfid.ciph, 4);
	ck_assert(back.u.sfid.sign);
	ck_assert_str_eq(back.u.sfid.user, "USER1");
	ck_assert_mem_eq(back.u.sfid.desc.ptr, c.u.sfid.desc.ptr, 14);

	sp_buf_reset(&b);
	sample_cmd(OFTP2_NERP, 1, &c);
	ck_assert_int_eq(oftp2_build(&b, &c, 0, NULL), 0);
	ck_assert_uint_eq(sp_buf_len(&b), 135 + 13 + 20 + sizeof(sample_sig));
	ck_assert_int_eq(oftp2_parse(sp_buf_ptr(&b), sp_buf_len(&b), 0, &back,
	    NULL), 0);
	ck_assert_str_eq(back.u.nerp.crea, "O0013000000PROXY");
	ck_assert_uint_eq(back.u.nerp.reason, 35);
	ck_assert_uint_eq(back.u.nerp.hash.len, 20);
	ck_assert_mem_eq(back.u.nerp.sig.ptr, sample_sig, sizeof(sample_sig));

	sp_buf_reset(&b);
	sample_cmd(OFTP2_SSID, 1, &c);
	ck_assert_int_eq(oftp2_build(&b, &c, 0, NULL), 0);
	ck_assert_int_eq(oftp2_parse(sp_buf_ptr(&b), sp_buf_len(&b), 0, &back,
	    NULL), 0);
	ck_assert_str_eq(back.u.ssid.code, "O0013000000ACME-2 WARE01");
	ck_assert_str_eq(back.u.ssid.user, "U/1.(&)");
	ck_assert(back.u.ssid.compression && back.u.ssid.special &&
	    back.u.ssid.auth);
	ck_assert_uint_eq(back.u.ssid.sdeb, 99999);
	ck_assert_uint_eq(back.u.ssid.credit, 999);

	sp_buf_reset(&b);
	sample_cmd(OFTP2_AURP, 0, &c);
	ck_assert_int_eq(oftp2_build(&b, &c, 0, NULL), 0);
	ck_assert_int_eq(oftp2_parse(sp_buf_ptr(&b), sp_buf_len(&b), 0, &back,
	    NULL), 0);
	ck_assert_mem_eq(back.u.aurp.response, sample_hash, 20);
	sp_buf_free(&b);
}
END_TEST

/*
 * Field rule cases: take the OEB of a valid sample, overwrite octets at
 * `off` (and/or change its length), parse with `tol`, expect the ESID reason
 * and field (esid -1: must parse).
 */
struct mut {
	enum oftp2_code code;
	int variant;
	size_t off;
	const char *rep;      /* octets to write at off, NULL for none */
	size_t replen;        /* 0: strlen(rep) */
	long newlen;          /* -1 unchanged; else truncate or pad with ' ' */
	unsigned tol;
	int esid;
	const char *field;    /* NULL: no field expected */
};

#define BAD(c, v, off, rep, field) { c, v, off, rep, 0, -1, 0, 6, field }
#define LEN(c, v, nl) { c, v, 0, NULL, 0, nl, 0, 7, NULL }
#define OK(c, v, off, rep, nl, tol) { c, v, off, rep, 0, nl, tol, -1, NULL }

static const struct mut muts[] = {
	/* unknown command, empty */
	{ OFTP2_CD, 0, 0, "Z", 0, -1, 0, 1, NULL },
	{ OFTP2_CD, 0, 0, "x", 0, -1, 0, 1, NULL },
	{ OFTP2_CD, 0, 0, NULL, 0, 0, 0, 7, NULL },
	/* SSRM */
	BAD(OFTP2_SSRM, 0, 1, "ODETTE FTP READY!", "SSRMMSG"),
	BAD(OFTP2_SSRM, 0, 18, "\n", "SSRMCR"),
	LEN(OFTP2_SSRM, 0, 18), LEN(OFTP2_SSRM, 0, 20),
	OK(OFTP2_SSRM, 0, 0, NULL, 18, OFTP2_TOL_NO_CR),
	OK(OFTP2_SSRM, 0, 18, "\x8d", -1, 0),
	/* SSID */
	OK(OFTP2_SSID, 0, 1, "3", -1, 0),
	OK(OFTP2_SSID, 0, 1, "7", -1, 0),
	BAD(OFTP2_SSID, 0, 1, "A", "SSIDLEV"),
	OK(OFTP2_SSID, 0, 1, "4", -1, 0),
	BAD(OFTP2_SSID, 0, 2, "o0013000000ACME", "SSIDCODE"),
	BAD(OFTP2_SSID, 0, 2, "O00A3000000ACME", "SSIDCODE"),
	BAD(OFTP2_SSID, 0, 2, " O0013000000ACM", "SSIDCODE"),
	BAD(OFTP2_SSID, 0, 2, "                         ", "SSIDCODE"),
	BAD(OFTP2_SSID, 0, 2, "O0013000000AC.E", "SSIDCODE"),
	BAD(OFTP2_SSID, 0, 2, "O0013000000ACMe", "SSIDCODE"),
	OK(OFTP2_SSID, 0, 2, "O0013000000ACMe", -1, OFTP2_TOL_LOWERCASE),
	OK(OFTP2_SSID, 0, 2, "O0013000000AC E     CSA01", -1, 0),
	OK(OFTP2_SSID, 0, 2, "ZZ-ANY.CODE/(1)&", -1, 0),
	BAD(OFTP2_SSID, 0, 2, "ZZ_CODE", "SSIDCODE"),
	OK(OFTP2_SSID, 0, 2, "ZZ_CODE", -1, OFTP2_TOL_X_CHARSET),
	BAD(OFTP2_SSID, 0, 27, "SEC RET ", "SSIDPSWD"),
	BAD(OFTP2_SSID, 0, 27, " SECRET ", "SSIDPSWD"),
	BAD(OFTP2_SSID, 0, 27, "secret  ", "SSIDPSWD"),
	OK(OFTP2_SSID, 0, 27, "secret  ", -1, OFTP2_TOL_LOWERCASE),
	BAD(OFTP2_SSID, 0, 27, "SECRET\x01 ", "SSIDPSWD"),
	OK(OFTP2_SSID, 0, 27, "        ", -1, 0),
	BAD(OFTP2_SSID, 0, 35, "12A45", "SSIDSDEB"),
	BAD(OFTP2_SSID, 0, 35, "00127", "SSIDSDEB"),
	BAD(OFTP2_SSID, 0, 35, " 4096", "SSIDSDEB"),
	OK(OFTP2_SSID, 0, 35, " 4096", -1, OFTP2_TOL_NUMERIC_SPACES),
	OK(OFTP2_SSID, 0, 35, "00128", -1, 0),
	BAD(OFTP2_SSID, 0, 40, "X", "SSIDSR"),
	BAD(OFTP2_SSID, 0, 40, "b", "SSIDSR"),
	BAD(OFTP2_SSID, 0, 41, "y", "SSIDCMPR"),
	BAD(OFTP2_SSID, 0, 42, " ", "SSIDREST"),
	BAD(OFTP2_SSID, 0, 43, "1", "SSIDSPEC"),
	BAD(OFTP2_SSID, 0, 44, "000", "SSIDCRED"),
	BAD(OFTP2_SSID, 0, 44, "6 4", "SSIDCRED"),
	BAD(OFTP2_SSID, 0, 44, "   ", "SSIDCRED"),
	OK(OFTP2_SSID, 0, 44, " 64", -1, OFTP2_TOL_NUMERIC_SPACES),
	BAD(OFTP2_SSID, 0, 47, "X", "SSIDAUTH"),
	OK(OFTP2_SSID, 0, 48, "0000", -1, 0),
	BAD(OFTP2_SSID, 0, 52, "A B", "SSIDUSER"),
	BAD(OFTP2_SSID, 0, 52, "a", "SSIDUSER"),
	BAD(OFTP2_SSID, 0, 60, "\n", "SSIDCR"),
	OK(OFTP2_SSID, 0, 60, "\x8d", -1, 0),
	OK(OFTP2_SSID, 0, 60, "\n", -1, OFTP2_TOL_LF_TRAILER),
	LEN(OFTP2_SSID, 0, 60), LEN(OFTP2_SSID, 0, 62), LEN(OFTP2_SSID, 0, 1),
	OK(OFTP2_SSID, 0, 0, NULL, 60, OFTP2_TOL_NO_CR),
	/* SFID */
	BAD(OFTP2_SFID, 0, 1, "                          ", "SFIDDSN"),
	BAD(OFTP2_SFID, 0, 1, "INVOIC TEST", "SFIDDSN"),
	BAD(OFTP2_SFID, 0, 1, "INVOIC_TEST", "SFIDDSN"),
	OK(OFTP2_SFID, 0, 1, "invoic_test", -1, OFTP2_TOL_X_CHARSET),
	BAD(OFTP2_SFID, 0, 1, "invoic.test", "SFIDDSN"),
	OK(OFTP2_SFID, 0, 1, "invoic.test", -1, OFTP2_TOL_LOWERCASE),
	OK(OFTP2_SFID, 0, 27, "  X", -1, 0),
	BAD(OFTP2_SFID, 0, 30, "20230229", "SFIDDATE"),
	BAD(OFTP2_SFID, 0, 30, "20241301", "SFIDDATE"),
	BAD(OFTP2_SFID, 0, 30, "20240100", "SFIDDATE"),
	BAD(OFTP2_SFID, 0, 30, "00000101", "SFIDDATE"),
	BAD(OFTP2_SFID, 0, 30, "2024031X", "SFIDDATE"),
	OK(OFTP2_SFID, 0, 30, "20000229", -1, 0),
	BAD(OFTP2_SFID, 0, 30, "19000229", "SFIDDATE"),
	BAD(OFTP2_SFID, 0, 38, "2400000001", "SFIDTIME"),
	BAD(OFTP2_SFID, 0, 38, "2360000001", "SFIDTIME"),
	BAD(OFTP2_SFID, 0, 38, "2359600001", "SFIDTIME"),
	BAD(OFTP2_SFID, 0, 38, "1430000000", "SFIDTIME"),
	OK(OFTP2_SFID, 0, 38, "1430000000", -1, OFTP2_TOL_TIME_COUNTER0),
	BAD(OFTP2_SFID, 0, 48, "US ER", "SFIDUSER"),
	BAD(OFTP2_SFID, 0, 56, "O001X000000DEST", "SFIDDEST"),
	BAD(OFTP2_SFID, 0, 81, "                         ", "SFIDORIG"),
	BAD(OFTP2_SFID, 0, 106, "X", "SFIDFMT"),
	BAD(OFTP2_SFID, 0, 107, "0008A", "SFIDLRECL"),
	BAD(OFTP2_SFID, 0, 107, "00080", "SFIDLRECL"),
	OK(OFTP2_SFID, 0, 106, "F00080", -1, 0),
	BAD(OFTP2_SFID, 1, 107, "65537", "SFIDLRECL"),
	BAD(OFTP2_SFID, 0, 112, "000000000001X", "SFIDFSIZ"),
	BAD(OFTP2_SFID, 0, 125, "-000000000012", "SFIDOSIZ"),
	BAD(OFTP2_SFID, 0, 138, "0000000000000000 ", "SFIDREST"),
	BAD(OFTP2_SFID, 0, 155, "04", "SFIDSEC"),
	BAD(OFTP2_SFID, 0, 155, "01", "SFIDENV"),
	BAD(OFTP2_SFID, 0, 155, "010001", "SFIDCIPH"),
	OK(OFTP2_SFID, 0, 155, "010701", -1, 0),
	OK(OFTP2_SFID, 0, 155, "009900", -1, 0),
	BAD(OFTP2_SFID, 0, 157, "0A", "SFIDCIPH"),
	BAD(OFTP2_SFID, 0, 159, "2", "SFIDCOMP"),
	BAD(OFTP2_SFID, 0, 159, "10", "SFIDENV"),
	BAD(OFTP2_SFID, 0, 160, "2", "SFIDENV"),
	OK(OFTP2_SFID, 0, 160, "1", -1, 0),
	OK(OFTP2_SFID, 0, 161, "Y", -1, 0),
	BAD(OFTP2_SFID, 0, 161, "X", "SFIDSIGN"),
	BAD(OFTP2_SFID, 0, 162, "0A0", "SFIDDESCL"),
	{ OFTP2_SFID, 0, 162, "001", 0, -1, 0, 7, NULL },
	{ OFTP2_SFID, 0, 162, "002\xff\xff", 0, 167, 0, 6, "SFIDDESC" },
	{ OFTP2_SFID, 1, 165, "\xc3\x28", 0, -1, 0, 6, "SFIDDESC" },
	{ OFTP2_SFID, 1, 165, "\xc0\xaf", 0, -1, 0, 6, "SFIDDESC" },
	{ OFTP2_SFID, 1, 165, "\xed\xa0\x80", 0, -1, 0, 6, "SFIDDESC" },
	{ OFTP2_SFID, 1, 177, "\xe2\x82", 0, 179, 0, 6, "SFIDDESC" },
	LEN(OFTP2_SFID, 0, 164), LEN(OFTP2_SFID, 0, 166), LEN(OFTP2_SFID, 1, 178),
	/* SFPA */
	BAD(OFTP2_SFPA, 0, 1, "0000000000000000A", "SFPAACNT"),
	LEN(OFTP2_SFPA, 0, 17), LEN(OFTP2_SFPA, 0, 19),
	/* SFNA */
	BAD(OFTP2_SFNA, 0, 1, "07", "SFNAREAS"),
	BAD(OFTP2_SFNA, 0, 1, "21", "SFNAREAS"),
	BAD(OFTP2_SFNA, 0, 1, "1 ", "SFNAREAS"),
	OK(OFTP2_SFNA, 0, 1, "99", -1, 0),
	BAD(OFTP2_SFNA, 0, 3, "X", "SFNARRTR"),
	BAD(OFTP2_SFNA, 0, 4, "00A", "SFNAREASL"),
	{ OFTP2_SFNA, 1, 4, "010", 0, -1, 0, 7, NULL },
	{ OFTP2_SFNA, 1, 7, "\xff", 0, -1, 0, 6, "SFNAREAST" },
	LEN(OFTP2_SFNA, 0, 6), LEN(OFTP2_SFNA, 0, 8),
	/* DATA: any payload parses; subrecords are oftp2_data_check's job */
	OK(OFTP2_DATA, 0, 0, NULL, 1, 0),
	/* CDT */
	OK(OFTP2_CDT, 0, 1, "X ", -1, 0),
	LEN(OFTP2_CDT, 0, 1), LEN(OFTP2_CDT, 0, 2), LEN(OFTP2_CDT, 0, 4),
	OK(OFTP2_CDT, 0, 0, NULL, 1, OFTP2_TOL_BARE_CDT),
	{ OFTP2_CDT, 0, 0, NULL, 0, 2, OFTP2_TOL_BARE_CDT, 7, NULL },
	/* EFID */
	BAD(OFTP2_EFID, 0, 1, "0000000000000000 ", "EFIDRCNT"),
	BAD(OFTP2_EFID, 0, 18, "A", "EFIDUCNT"),
	LEN(OFTP2_EFID, 0, 34), LEN(OFTP2_EFID, 0, 36),
	/* EFPA */
	BAD(OFTP2_EFPA, 0, 1, "y", "EFPACD"),
	LEN(OFTP2_EFPA, 0, 1), LEN(OFTP2_EFPA, 0, 3),
	/* EFNA */
	BAD(OFTP2_EFNA, 0, 1, "24", "EFNAREAS"),
	BAD(OFTP2_EFNA, 0, 1, "00", "EFNAREAS"),
	OK(OFTP2_EFNA, 0, 1, "23", -1, 0),
	BAD(OFTP2_EFNA, 0, 3, "9 9", "EFNAREASL"),
	{ OFTP2_EFNA, 1, 6, "\x80", 0, -1, 0, 6, "EFNAREAST" },
	LEN(OFTP2_EFNA, 0, 5), LEN(OFTP2_EFNA, 0, 7), LEN(OFTP2_EFNA, 1, 14),
	/* ESID */
	BAD(OFTP2_ESID, 0, 1, "13", "ESIDREAS"),
	BAD(OFTP2_ESID, 0, 1, "98", "ESIDREAS"),
	OK(OFTP2_ESID, 0, 1, "12", -1, 0),
	BAD(OFTP2_ESID, 0, 3, "00X", "ESIDREASL"),
	BAD(OFTP2_ESID, 0, 6, "\n", "ESIDCR"),
	OK(OFTP2_ESID, 0, 6, "\x8d", -1, 0),
	{ OFTP2_ESID, 1, 6, "\xf5", 0, -1, 0, 6, "ESIDREAST" },
	{ OFTP2_ESID, 1, 3, "017", 0, -1, 0, 7, NULL },
	LEN(OFTP2_ESID, 0, 6), LEN(OFTP2_ESID, 0, 8), LEN(OFTP2_ESID, 1, 22),
	OK(OFTP2_ESID, 0, 0, NULL, 6, OFTP2_TOL_NO_CR),
	OK(OFTP2_ESID, 1, 0, NULL, 22, OFTP2_TOL_NO_CR),
	{ OFTP2_ESID, 0, 0, NULL, 0, 5, OFTP2_TOL_NO_CR, 7, NULL },
	/* CD, RTR, SECD */
	LEN(OFTP2_CD, 0, 2), LEN(OFTP2_RTR, 0, 2), LEN(OFTP2_SECD, 0, 5),
	/* EERP */
	BAD(OFTP2_EERP, 0, 1, " INVOIC.TEST", "EERPDSN"),
	OK(OFTP2_EERP, 0, 27, ".  ", -1, 0),
	BAD(OFTP2_EERP, 0, 30, "20240431", "EERPDATE"),
	BAD(OFTP2_EERP, 0, 38, "9930000001", "EERPTIME"),
	BAD(OFTP2_EERP, 0, 48, "\x7f", "EERPUSER"),
	BAD(OFTP2_EERP, 0, 56, "O00X", "EERPDEST"),
	BAD(OFTP2_EERP, 0, 81, "O0013000000DE_T", "EERPORIG"),
	{ OFTP2_EERP, 0, 106, "\x00\x01", 2, 111, 0, 7, NULL },
	{ OFTP2_EERP, 0, 106, "\x00\x01\x00\x00\x00", 5, 111, 0, 6, "EERPHSHL" },
	{ OFTP2_EERP, 1, 142, "\x31", 0, -1, 0, 6, "EERPSIG" },
	{ OFTP2_EERP, 0, 108, "\x00\x02", 2, -1, 0, 7, NULL },
	LEN(OFTP2_EERP, 0, 109), LEN(OFTP2_EERP, 0, 111), LEN(OFTP2_EERP, 1, 151),
	/* NERP */
	BAD(OFTP2_NERP, 0, 1, "INVOIC&TEST ABC", "NERPDSN"),
	OK(OFTP2_NERP, 0, 27, "     X", -1, 0),
	OK(OFTP2_NERP, 0, 30, "X", -1, 0),
	BAD(OFTP2_NERP, 0, 33, "20241232", "NERPDATE"),
	BAD(OFTP2_NERP, 0, 41, "14300A", "NERPTIME"),
	BAD(OFTP2_NERP, 0, 51, "O0013000000ACM(", "NERPDEST"),
	BAD(OFTP2_NERP, 0, 76, "         ", "NERPORIG"),
	BAD(OFTP2_NERP, 0, 101, "OX2", "NERPCREA"),
	BAD(OFTP2_NERP, 0, 126, "17", "NERPREAS"),
	BAD(OFTP2_NERP, 0, 126, "01", "NERPREAS"),
	OK(OFTP2_NERP, 0, 126, "90", -1, 0),
	BAD(OFTP2_NERP, 0, 128, "A00", "NERPREASL"),
	{ OFTP2_NERP, 0, 128, "001", 0, -1, 0, 7, NULL },
	{ OFTP2_NERP, 1, 131, "\xc1\xbf", 0, -1, 0, 6, "NERPREAST" },
	{ OFTP2_NERP, 0, 131, "\x00\x00\x00\x01", 4, 137, 0, 7, NULL },
	{ OFTP2_NERP, 0, 131, "\x00\x01\x00\x00\x00", 5, 136, 0, 6, "NERPHSHL" },
	{ OFTP2_NERP, 1, 168, "\x31", 0, -1, 0, 6, "NERPSIG" },
	LEN(OFTP2_NERP, 0, 134), LEN(OFTP2_NERP, 0, 136),
	/* AUCH */
	{ OFTP2_AUCH, 0, 1, "\x00\x00", 2, 3, 0, 6, "AUCHCHLL" },
	{ OFTP2_AUCH, 0, 3, "\x31", 0, -1, 0, 6, "AUCHCHAL" },
	{ OFTP2_AUCH, 0, 1, "\x00\x02", 2, -1, 0, 7, NULL },
	LEN(OFTP2_AUCH, 0, 2), LEN(OFTP2_AUCH, 0, 5),
	/* AURP */
	LEN(OFTP2_AURP, 0, 20), LEN(OFTP2_AURP, 0, 22),
};

START_TEST(field_rules)
{
	const struct mut *m = &muts[_i];
	struct sp_buf b;
	struct oftp2_cmd c;
	struct oftp2_err e;
	uint8_t oeb[2048];
	size_t n;
	int r;

	sp_buf_init(&b, sizeof(oeb));
	sample_cmd(m->code, m->variant, &c);
	ck_assert_int_eq(oftp2_build(&b, &c, 0, NULL), 0);
	n = sp_buf_len(&b);
	memcpy(oeb, sp_buf_ptr(&b), n);
	sp_buf_free(&b);
	if (m->newlen >= 0) {
		if ((size_t)m->newlen > n)
			memset(oeb + n, ' ', (size_t)m->newlen - n);
		n = (size_t)m->newlen;
	}
	if (m->rep != NULL)
		memcpy(oeb + m->off, m->rep,
		    m->replen ? m->replen : strlen(m->rep));
	r = oftp2_parse(oeb, n, m->tol, &c, &e);
	if (m->esid < 0) {
		ck_assert_msg(r == 0, "case %d: %s", _i, e.text);
		return;
	}
	ck_assert_msg(r == SP_ERR_PROTOCOL, "case %d parsed", _i);
	ck_assert_msg(e.esid == m->esid, "case %d: esid %u, want %d (%s)", _i,
	    e.esid, m->esid, e.text);
	if (m->field != NULL)
		ck_assert_msg(e.field != NULL && strcmp(e.field, m->field) == 0,
		    "case %d: field %s, want %s (%s)", _i,
		    e.field ? e.field : "(none)", m->field, e.text);
	ck_assert(strlen(e.text) > 0);
}
END_TEST

/* What the parser admitted is named: the rule and the first field. */
START_TEST(deviations_named)
{
	uint8_t oeb[61];
	struct oftp2_cmd c;
	struct oftp2_err e;
	struct oftp2_dev d;

	memcpy(oeb, "X5O0013000000ACME          SECRET  04096BNYN064N"
	    "            \r", 61);
	ck_assert_int_eq(oftp2_parse_dev(oeb, 61, 0, &c, &e, &d), 0);
	ck_assert_uint_eq(d.bits, 0);
	memcpy(oeb + 48, "0000", 4);
	ck_assert_int_eq(oftp2_parse_dev(oeb, 61, 0, &c, &e, &d), 0);
	ck_assert_uint_eq(d.bits, OFTP2_DEV_RESERVED);
	ck_assert_str_eq(oftp2_dev_field(&d, OFTP2_DEV_RESERVED), "SSIDRSV1");
	ck_assert_str_eq(oftp2_dev_rule(OFTP2_DEV_RESERVED),
	    "reserved_not_spaces");
	oeb[60] = '\n';
	ck_assert_int_eq(oftp2_parse_dev(oeb, 61, 0, &c, &e, &d),
	    SP_ERR_PROTOCOL);
	ck_assert_int_eq(oftp2_parse_dev(oeb, 61, OFTP2_TOL_LF_TRAILER |
	    OFTP2_TOL_LOWERCASE, &c, &e, &d), 0);
	ck_assert_uint_eq(d.bits, OFTP2_DEV_RESERVED | OFTP2_TOL_LF_TRAILER);
	ck_assert_str_eq(oftp2_dev_field(&d, OFTP2_TOL_LF_TRAILER), "SSIDCR");
	memcpy(oeb + 27, "secret", 6);
	ck_assert_int_eq(oftp2_parse_dev(oeb, 61, OFTP2_TOL_LF_TRAILER |
	    OFTP2_TOL_LOWERCASE | OFTP2_TOL_X_CHARSET, &c, &e, &d), 0);
	ck_assert(d.bits & OFTP2_TOL_LOWERCASE);
	ck_assert(!(d.bits & OFTP2_TOL_X_CHARSET));
	ck_assert_str_eq(oftp2_dev_field(&d, OFTP2_TOL_LOWERCASE), "SSIDPSWD");
	memcpy(oeb + 35, " 4096", 5);
	ck_assert_int_eq(oftp2_parse_dev(oeb, 61, OFTP2_TOL_LF_TRAILER |
	    OFTP2_TOL_LOWERCASE | OFTP2_TOL_NUMERIC_SPACES, &c, &e, &d), 0);
	ck_assert(d.bits & OFTP2_TOL_NUMERIC_SPACES);
	ck_assert_uint_eq(c.u.ssid.sdeb, 4096);
	ck_assert_ptr_null(oftp2_dev_rule(1u << 30));
}
END_TEST

/* The error names command, field and value for humans. */
START_TEST(error_text)
{
	uint8_t oeb[61];
	struct oftp2_cmd c;
	struct oftp2_err e;

	memcpy(oeb, "X5O0013000000ACME          SECRET  12A45BNYN064N"
	    "            \r", 61);
	ck_assert_int_eq(oftp2_parse(oeb, 61, 0, &c, &e), SP_ERR_PROTOCOL);
	ck_assert_str_eq(e.text, "SSID.SSIDSDEB: \"12A45\" is not numeric");
	ck_assert_uint_eq(e.esid, OFTP2_ESID_INVALID_DATA);
	ck_assert_uint_eq(e.cmd, OFTP2_SSID);
	ck_assert_uint_eq(e.offset, 35);
	ck_assert_str_eq(e.field, "SSIDSDEB");

	memcpy(oeb + 35, "00064", 5);
	ck_assert_int_eq(oftp2_parse(oeb, 61, 0, &c, &e), SP_ERR_PROTOCOL);
	ck_assert_str_eq(e.text,
	    "SSID.SSIDSDEB: \"00064\" is out of range 128..99999");

	memcpy(oeb, "z", 1);
	ck_assert_int_eq(oftp2_parse(oeb, 61, 0, &c, &e), SP_ERR_PROTOCOL);
	ck_assert_uint_eq(e.esid, OFTP2_ESID_CMD_UNKNOWN);
	ck_assert_str_eq(e.text, "OEB: command octet 0x7a not recognised");

	memcpy(oeb, "X", 1);
	ck_assert_int_eq(oftp2_parse(oeb, 60, 0, &c, &e), SP_ERR_PROTOCOL);
	ck_assert_str_eq(e.text,
	    "SSID: buffer is 60 octets, the command implies 61");
	/* err is optional. */
	ck_assert_int_eq(oftp2_parse(oeb, 60, 0, &c, NULL), SP_ERR_PROTOCOL);
}
END_TEST

static void
expect_field(const struct oftp2_err *e, const char *field)
{
	if (field == NULL)
		return;
	ck_assert_msg(e->field != NULL && strcmp(e->field, field) == 0, "%s",
	    e->text);
}

/* Builder: invalid contents -> SP_ERR_INVALID, out unchanged. */
START_TEST(build_rejects)
{
	struct sp_buf b;
	struct oftp2_cmd c;
	struct oftp2_err e;
	uint8_t big[1000];

	memset(big, 'a', sizeof(big));
	sp_buf_init(&b, 200000);
	ck_assert_int_eq(sp_buf_put(&b, "keep", 4), 0);

#define REJECT(mod, fieldname) do { \
		mod; \
		ck_assert_int_eq(oftp2_build(&b, &c, OFTP2_BUILD_STH, &e), \
		    SP_ERR_INVALID); \
		ck_assert_int_eq(oftp2_check(&c, NULL), SP_ERR_INVALID); \
		ck_assert_uint_eq(sp_buf_len(&b), 4); \
		expect_field(&e, fieldname); \
	} while (0)

	sample_cmd(OFTP2_SSID, 0, &c);
	REJECT(c.u.ssid.sdeb = 100000, "SSIDSDEB");
	sample_cmd(OFTP2_SSID, 0, &c);
	REJECT(c.u.ssid.sdeb = 127, "SSIDSDEB");
	sample_cmd(OFTP2_SSID, 0, &c);
	REJECT(c.u.ssid.level = 10, "SSIDLEV");
	sample_cmd(OFTP2_SSID, 0, &c);
	REJECT(strcpy(c.u.ssid.code, "O0013000000acme"), "SSIDCODE");
	sample_cmd(OFTP2_SSID, 0, &c);
	REJECT(memset(c.u.ssid.code, 'A', sizeof(c.u.ssid.code)), "SSIDCODE");
	sample_cmd(OFTP2_SSID, 0, &c);
	REJECT(strcpy(c.u.ssid.password, "PA SS"), "SSIDPSWD");
	sample_cmd(OFTP2_SSID, 0, &c);
	REJECT(c.u.ssid.mode = (enum oftp2_mode)'Q', "SSIDSR");
	sample_cmd(OFTP2_SSID, 0, &c);
	REJECT(c.u.ssid.mode = (enum oftp2_mode)0x153, "SSIDSR");
	sample_cmd(OFTP2_SSID, 0, &c);
	REJECT(c.u.ssid.credit = 0, "SSIDCRED");
	sample_cmd(OFTP2_SSID, 0, &c);
	REJECT(c.u.ssid.cr = 'x', "SSIDCR");
	sample_cmd(OFTP2_SFID, 0, &c);
	REJECT(c.u.sfid.date = 20240230, "SFIDDATE");
	sample_cmd(OFTP2_SFID, 0, &c);
	REJECT(c.u.sfid.time = 1430000000, "SFIDTIME");
	sample_cmd(OFTP2_SFID, 0, &c);
	REJECT(c.u.sfid.lrecl = 100, "SFIDLRECL");
	sample_cmd(OFTP2_SFID, 0, &c);
	REJECT(c.u.sfid.fsiz = 10000000000000ull, "SFIDFSIZ");
	sample_cmd(OFTP2_SFID, 0, &c);
	REJECT(c.u.sfid.format = (enum oftp2_format)'X', "SFIDFMT");
	sample_cmd(OFTP2_SFID, 0, &c);
	REJECT(sample_bytes(&c.u.sfid.desc, big, 1000), "SFIDDESCL");
	sample_cmd(OFTP2_SFID, 0, &c);
	REJECT(sample_bytes(&c.u.sfid.desc, NULL, 5), "SFIDDESC");
	sample_cmd(OFTP2_SFID, 0, &c);
	REJECT(sample_bytes(&c.u.sfid.desc, "\xff", 1), "SFIDDESC");
	sample_cmd(OFTP2_SFID, 0, &c);
	REJECT(strcpy(c.u.sfid.dsn, ""), "SFIDDSN");
	sample_cmd(OFTP2_SFNA, 0, &c);
	REJECT(c.u.sfna.reason = 21, "SFNAREAS");
	sample_cmd(OFTP2_ESID, 0, &c);
	REJECT(c.u.esid.reason = 100, "ESIDREAS");
	sample_cmd(OFTP2_EERP, 1, &c);
	REJECT(c.u.eerp.sig.len = 0, "EERPHSHL");
	sample_cmd(OFTP2_EERP, 0, &c);
	REJECT(sample_bytes(&c.u.eerp.sig, big, 70000), "EERPSIGL");
	sample_cmd(OFTP2_AUCH, 0, &c);
	REJECT(c.u.auch.challenge.len = 0, "AUCHCHLL");
	sample_cmd(OFTP2_DATA, 0, &c);
	REJECT(sample_bytes(&c.u.data.buf, "\x05" "AB", 3), "DATABUF");
	c.code = (enum oftp2_code)'Z';
	REJECT((void)0, NULL);
	/* Too big for an OEB. */
	{
		uint8_t *huge = calloc(1, 100000);

		ck_assert_ptr_nonnull(huge);
		huge[0] = 0;
		sample_cmd(OFTP2_DATA, 0, &c);
		REJECT(sample_bytes(&c.u.data.buf, huge, 99999), NULL);
		ck_assert_uint_eq(e.esid, OFTP2_ESID_BUFFER_SIZE);
		free(huge);
	}
	/* Not enough room: SP_ERR_LIMIT, unchanged. */
	sp_buf_free(&b);
	sp_buf_init(&b, 64);
	ck_assert_int_eq(sp_buf_put(&b, "keep", 4), 0);
	sample_cmd(OFTP2_SSID, 0, &c);
	ck_assert_int_eq(oftp2_build(&b, &c, 0, NULL), SP_ERR_LIMIT);
	ck_assert_uint_eq(sp_buf_len(&b), 4);
	sp_buf_reset(&b);
	ck_assert_int_eq(oftp2_build(&b, &c, 0, NULL), 0);
	ck_assert_uint_eq(sp_buf_len(&b), 61);
	/* A missing CR (0) is written as 0x0d, bare CDT as 3 octets. */
	sp_buf_reset(&b);
	c.u.ssid.cr = 0;
	ck_assert_int_eq(oftp2_build(&b, &c, 0, NULL), 0);
	ck_assert_uint_eq(sp_buf_ptr(&b)[60], 0x0d);
	sp_buf_reset(&b);
	sample_cmd(OFTP2_CDT, 0, &c);
	c.u.cdt.bare = true;
	ck_assert_int_eq(oftp2_build(&b, &c, OFTP2_BUILD_STH, NULL), 0);
	ck_assert_mem_eq(sp_buf_ptr(&b), "\x10\x00\x00\x07" "C  ", 7);
	sp_buf_free(&b);
#undef REJECT
}
END_TEST

/* A stream of every command (STH included), both variants. */
static size_t
make_stream(struct sp_buf *s)
{
	struct oftp2_cmd c;
	size_t count = 0;

	for (size_t i = 0; i < SAMPLE_NCODES; i++)
		for (int v = 0; v < 2; v++) {
			sample_cmd(sample_codes[i], v, &c);
			ck_assert_int_eq(oftp2_build(s, &c, OFTP2_BUILD_STH,
			    NULL), 0);
			count++;
		}
	return count;
}

/* Feed the stream to the framer in pieces delivered by `cuts`; every frame
 * must come out whole and parse; returns the number of frames. */
static size_t
drive(const uint8_t *p, size_t n, const size_t *cuts, size_t ncuts)
{
	struct sp_buf in;
	struct oftp2_frame f;
	struct oftp2_cmd c;
	struct oftp2_err e;
	size_t fed = 0, frames = 0, k = 0, next;
	int r;

	sp_buf_init(&in, 200000);
	while (fed < n || sp_buf_len(&in) > 0) {
		r = oftp2_frame(sp_buf_ptr(&in), sp_buf_len(&in), 0, &f, &e);
		if (r == 0) {
			ck_assert_int_eq(oftp2_parse(f.oeb, f.oeb_len, 0, &c,
			    &e), 0);
			ck_assert_int_eq(sp_buf_consume(&in, f.consumed), 0);
			frames++;
			continue;
		}
		ck_assert_int_eq(r, SP_ERR_SHORT);
		ck_assert_uint_gt(f.needed, 0);
		if (sp_buf_len(&in) >= 4)
			ck_assert_uint_eq(f.oeb_len + 4,
			    sp_buf_len(&in) + f.needed);
		ck_assert_uint_lt(fed, n);
		next = k < ncuts ? cuts[k++] : n;
		if (next > n)
			next = n;
		ck_assert_int_eq(sp_buf_put(&in, p + fed, next - fed), 0);
		fed = next;
	}
	sp_buf_free(&in);
	return frames;
}

START_TEST(frame_every_split)
{
	struct sp_buf s;
	size_t frames, n, cut[2], i, j;
	size_t *bytewise;

	sp_buf_init(&s, 200000);
	frames = make_stream(&s);
	n = sp_buf_len(&s);
	/* One cut anywhere. */
	for (i = 0; i <= n; i++) {
		cut[0] = i;
		ck_assert_uint_eq(drive(sp_buf_ptr(&s), n, cut, 1), frames);
	}
	/* Two cuts, all pairs within the first 3 frames. */
	for (i = 0; i < 150; i++)
		for (j = i; j < 150; j++) {
			cut[0] = i;
			cut[1] = j;
			ck_assert_uint_eq(drive(sp_buf_ptr(&s), n, cut, 2),
			    frames);
		}
	/* One octet at a time. */
	bytewise = malloc(n * sizeof(*bytewise));
	ck_assert_ptr_nonnull(bytewise);
	for (i = 0; i < n; i++)
		bytewise[i] = i + 1;
	ck_assert_uint_eq(drive(sp_buf_ptr(&s), n, bytewise, n), frames);
	free(bytewise);
	sp_buf_free(&s);
}
END_TEST

START_TEST(frame_errors)
{
	struct oftp2_frame f;
	struct oftp2_err e;
	uint8_t p[8] = { 0 };

	ck_assert_int_eq(oftp2_frame(p, 0, 0, &f, &e), SP_ERR_SHORT);
	ck_assert_uint_eq(f.needed, 4);
	/* Octet 0 is judged as soon as it arrives. */
	p[0] = 0x20;
	ck_assert_int_eq(oftp2_frame(p, 1, 0, &f, &e), SP_ERR_PROTOCOL);
	ck_assert_uint_eq(e.esid, OFTP2_ESID_INVALID_DATA);
	ck_assert_str_eq(e.field, "STH");
	ck_assert_int_eq(oftp2_frame(p, 1, OFTP2_TOL_STH_OCTET0, &f, &e),
	    SP_ERR_SHORT);
	ck_assert_uint_eq(f.needed, 3);
	p[0] = 0x11;
	ck_assert_int_eq(oftp2_frame(p, 1, 0, &f, &e), SP_ERR_PROTOCOL);
	p[0] = 0x10;
	memcpy(p + 1, "\x00\x00\x04", 3);
	ck_assert_int_eq(oftp2_frame(p, 4, 0, &f, &e), SP_ERR_PROTOCOL);
	ck_assert_uint_eq(e.esid, OFTP2_ESID_BUFFER_SIZE);
	memcpy(p + 1, "\x01\x86\xa4", 3);   /* 100004 */
	ck_assert_int_eq(oftp2_frame(p, 4, 0, &f, &e), SP_ERR_PROTOCOL);
	ck_assert_uint_eq(e.esid, OFTP2_ESID_BUFFER_SIZE);
	memcpy(p + 1, "\x01\x86\xa3", 3);   /* 100003: fine, incomplete */
	ck_assert_int_eq(oftp2_frame(p, 4, 0, &f, &e), SP_ERR_SHORT);
	ck_assert_uint_eq(f.oeb_len, 99999);
	ck_assert_uint_eq(f.needed, 99999);
	ck_assert_ptr_null(f.oeb);
	memcpy(p + 1, "\x00\x00\x05R", 4);
	ck_assert_int_eq(oftp2_frame(p, 5, 0, &f, &e), 0);
	ck_assert_uint_eq(f.oeb_len, 1);
	ck_assert_uint_eq(f.consumed, 5);
	ck_assert_ptr_eq(f.oeb, p + 4);
	/* sth_put */
	{
		struct sp_buf b;

		sp_buf_init(&b, 16);
		ck_assert_int_eq(oftp2_sth_put(&b, 61), 0);
		ck_assert_mem_eq(sp_buf_ptr(&b), "\x10\x00\x00\x41", 4);
		ck_assert_int_eq(oftp2_sth_put(&b, 0), SP_ERR_INVALID);
		ck_assert_int_eq(oftp2_sth_put(&b, 100000), SP_ERR_INVALID);
		sp_buf_free(&b);
	}
}
END_TEST

/* Negotiation (ref §5.2). */
static void
ssid_pair(struct oftp2_ssid *i, struct oftp2_ssid *r)
{
	struct oftp2_cmd c;

	sample_cmd(OFTP2_SSID, 0, &c);
	*i = c.u.ssid;
	*r = c.u.ssid;
}

START_TEST(negotiate)
{
	struct oftp2_ssid i, r;
	struct oftp2_session_params p;
	struct oftp2_err e;

#define NEG_FAIL(mod, tol, code) do { \
		ssid_pair(&i, &r); \
		mod; \
		ck_assert_int_eq(oftp2_negotiate(&i, &r, tol, &p, &e), \
		    SP_ERR_PROTOCOL); \
		ck_assert_uint_eq(e.esid, code); \
	} while (0)
#define NEG_OK(mod, tol) do { \
		ssid_pair(&i, &r); \
		mod; \
		ck_assert_int_eq(oftp2_negotiate(&i, &r, tol, &p, &e), 0); \
	} while (0)

	NEG_OK(i.sdeb = 8192; r.sdeb = 2048; r.credit = 10; i.compression = 1;
	    r.compression = 1, 0);
	ck_assert_uint_eq(p.level, 5);
	ck_assert_uint_eq(p.sdeb, 2048);
	ck_assert_uint_eq(p.credit, 10);
	ck_assert(p.compression);
	ck_assert(p.restart);
	ck_assert(!p.special);
	ck_assert(!p.auth);
	NEG_OK(r.compression = 1, 0);
	ck_assert(!p.compression);
	NEG_OK(i.restart = 1; r.restart = 0, 0);
	ck_assert(!p.restart);
	NEG_FAIL(i.level = 4; r.level = 4, 0, 10);
	NEG_FAIL(r.level = 4, 0, 10);
	/* RFC 5024 §5.3.2: an initiator may offer a future level; the
	 * responder of an OFTP 2.0 session answers 5. */
	NEG_OK(i.level = 7, 0);
	ck_assert_uint_eq(p.level, 5);
	NEG_FAIL(i.level = 7; r.level = 7, 0, 10);
	NEG_FAIL(r.sdeb = 4097, 0, 10);
	NEG_FAIL(r.credit = 65, 0, 10);
	NEG_FAIL(r.credit = 0, 0, 10);
	NEG_FAIL(i.mode = r.mode = OFTP2_MODE_SEND, OFTP2_TOL_SR_ANY, 10);
	NEG_FAIL(i.mode = r.mode = OFTP2_MODE_RECEIVE, OFTP2_TOL_SR_ANY, 10);
	NEG_FAIL(i.mode = OFTP2_MODE_SEND; r.mode = OFTP2_MODE_BOTH, 0, 10);
	NEG_OK(i.mode = OFTP2_MODE_SEND; r.mode = OFTP2_MODE_BOTH,
	    OFTP2_TOL_SR_ANY);
	NEG_OK(i.mode = OFTP2_MODE_SEND; r.mode = OFTP2_MODE_RECEIVE, 0);
	ck_assert_int_eq(p.initiator_mode, OFTP2_MODE_SEND);
	ck_assert_int_eq(p.responder_mode, OFTP2_MODE_RECEIVE);
	NEG_FAIL(i.mode = OFTP2_MODE_RECEIVE; r.mode = OFTP2_MODE_BOTH, 0, 10);
	NEG_OK(i.mode = OFTP2_MODE_BOTH; r.mode = OFTP2_MODE_RECEIVE, 0);
	NEG_FAIL(i.restart = 0; r.restart = 1, 0, 10);
	NEG_OK(i.restart = 0; r.restart = 1, OFTP2_TOL_REST_AND);
	ck_assert(!p.restart);
	NEG_FAIL(r.special = 1, 0, 10);
	NEG_FAIL(i.special = 1; r.special = 1, 0, 10);
	NEG_OK(i.special = 1, 0);
	ck_assert(!p.special);
	NEG_FAIL(i.auth = 1, 0, 12);
	NEG_FAIL(r.auth = 1, 0, 12);
	NEG_OK(i.auth = 1; r.auth = 1, 0);
	ck_assert(p.auth);
#undef NEG_FAIL
#undef NEG_OK
}
END_TEST

START_TEST(reason_texts)
{
	ck_assert_str_eq(oftp2_esid_text(4), "invalid password");
	ck_assert_str_eq(oftp2_esid_text(0), "normal session termination");
	ck_assert_ptr_null(oftp2_esid_text(13));
	ck_assert_ptr_nonnull(oftp2_esid_text(99));
	ck_assert_str_eq(oftp2_sfna_text(13), "duplicate file");
	ck_assert_ptr_null(oftp2_sfna_text(7));
	ck_assert_ptr_null(oftp2_sfna_text(21));
	ck_assert_ptr_nonnull(oftp2_efna_text(21));
	ck_assert_ptr_nonnull(oftp2_efna_text(1));
	ck_assert_ptr_null(oftp2_efna_text(24));
	ck_assert_ptr_nonnull(oftp2_nerp_text(35));
	ck_assert_ptr_null(oftp2_nerp_text(17));
	ck_assert_ptr_null(oftp2_nerp_text(0));
	ck_assert_str_eq(oftp2_cmd_name('X'), "SSID");
	ck_assert_str_eq(oftp2_cmd_name('P'), "RTR");
	ck_assert_ptr_null(oftp2_cmd_name('Z'));
	/* Every defined code in 0..99 of each table has a text and only
	 * those: counts per the reference tables. */
	{
		unsigned n_esid = 0, n_sfna = 0, n_efna = 0, n_nerp = 0;

		for (unsigned k = 0; k < 256; k++) {
			n_esid += oftp2_esid_text(k) != NULL;
			n_sfna += oftp2_sfna_text(k) != NULL;
			n_efna += oftp2_efna_text(k) != NULL;
			n_nerp += oftp2_nerp_text(k) != NULL;
		}
		ck_assert_uint_eq(n_esid, 14);
		ck_assert_uint_eq(n_sfna, 18);
		ck_assert_uint_eq(n_efna, 21);
		ck_assert_uint_eq(n_nerp, 29);
	}
}
END_TEST

static Suite *
oftp2_cmd_suite(void)
{
	Suite *s = suite_create("oftp2_cmd");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, example_ssrm);
	tcase_add_test(tc, example_ssid);
	tcase_add_test(tc, example_sfid);
	tcase_add_test(tc, example_esid);
	tcase_add_loop_test(tc, round_trip_all, 0, (int)SAMPLE_NCODES);
	tcase_add_test(tc, round_trip_values);
	tcase_add_loop_test(tc, field_rules, 0,
	    (int)(sizeof(muts) / sizeof(muts[0])));
	tcase_add_test(tc, error_text);
	tcase_add_test(tc, deviations_named);
	tcase_add_test(tc, build_rejects);
	tcase_add_test(tc, frame_every_split);
	tcase_add_test(tc, frame_errors);
	tcase_add_test(tc, negotiate);
	tcase_add_test(tc, reason_texts);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(oftp2_cmd_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
