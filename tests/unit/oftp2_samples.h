/*
 * oftp2_samples.h - shared by the OFTP2 codec tests: one valid struct
 * oftp2_cmd per command type, and a hex decoder for the reference examples.
 * Header-only (static functions) so each test program stays one file.
 * T/U fields point at static storage here; nothing to free.
 */
#ifndef SP_TEST_OFTP2_SAMPLES_H
#define SP_TEST_OFTP2_SAMPLES_H

#include <stdio.h>
#include <string.h>

#include "oftp2/codec.h"

static const uint8_t sample_sig[] = { 0x30, 0x82, 0x00, 0x06, 1, 2, 3, 4, 5, 6 };
static const uint8_t sample_chal[] = { 0x30, 0x11, 0xaa, 0xbb, 0xcc, 0xdd, 0x00,
	0x01, 0x02, 0x03, 0xfe, 0xff, 0x10, 0x20, 0x30, 0x40, 0x50 };
static const uint8_t sample_hash[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
	13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30,
	31, 32 };
static const uint8_t sample_data[] = { 0x05, 'H', 'E', 'L', 'L', 'O', 0x83,
	' ', ' ', ' ' };

/* Every command code, for loops over all types. */
static const enum oftp2_code sample_codes[] = {
	OFTP2_SSRM, OFTP2_SSID, OFTP2_SECD, OFTP2_AUCH, OFTP2_AURP, OFTP2_SFID,
	OFTP2_SFPA, OFTP2_SFNA, OFTP2_DATA, OFTP2_CDT, OFTP2_EFID, OFTP2_EFPA,
	OFTP2_EFNA, OFTP2_ESID, OFTP2_CD, OFTP2_EERP, OFTP2_NERP, OFTP2_RTR
};
#define SAMPLE_NCODES (sizeof(sample_codes) / sizeof(sample_codes[0]))

static void
sample_bytes(struct oftp2_bytes *b, const void *p, size_t n)
{
	b->ptr = p;
	b->len = n;
}

/* A valid command of type `code`; `variant` 1 fills the optional parts
 * (texts, hash and signature) where a command has them. */
static void
sample_cmd(enum oftp2_code code, int variant, struct oftp2_cmd *c)
{
	memset(c, 0, sizeof(*c));
	c->code = code;
	switch (code) {
	case OFTP2_SSRM:
		c->u.ssrm.cr = variant ? OFTP2_CR_HIGH : OFTP2_CR;
		break;
	case OFTP2_SSID:
		c->u.ssid.level = 5;
		strcpy(c->u.ssid.code, "O0013000000ACME");
		strcpy(c->u.ssid.password, "SECRET");
		c->u.ssid.sdeb = 4096;
		c->u.ssid.mode = OFTP2_MODE_BOTH;
		c->u.ssid.restart = true;
		c->u.ssid.credit = 64;
		c->u.ssid.cr = OFTP2_CR;
		if (variant) {
			strcpy(c->u.ssid.code, "O0013000000ACME-2 WARE01");
			strcpy(c->u.ssid.user, "U/1.(&)");
			c->u.ssid.compression = c->u.ssid.special = true;
			c->u.ssid.auth = true;
			c->u.ssid.sdeb = 99999;
			c->u.ssid.credit = 999;
			c->u.ssid.mode = OFTP2_MODE_SEND;
		}
		break;
	case OFTP2_SFID:
		strcpy(c->u.sfid.dsn, "INVOIC.TEST");
		c->u.sfid.date = 20240315;
		c->u.sfid.time = 1430000001;
		strcpy(c->u.sfid.dest, "O0013000000DEST");
		strcpy(c->u.sfid.orig, "O0013000000ACME");
		c->u.sfid.format = OFTP2_FMT_UNSTRUCTURED;
		c->u.sfid.fsiz = c->u.sfid.osiz = 12;
		if (variant) {
			c->u.sfid.format = OFTP2_FMT_VARIABLE;
			c->u.sfid.lrecl = 65536;
			c->u.sfid.date = 20240229;
			c->u.sfid.time = 2359599999u;
			c->u.sfid.rest = 99999999999999999ull;
			c->u.sfid.sec = OFTP2_SEC_ENC_SIGNED;
			c->u.sfid.ciph = OFTP2_CIPH_AES_RSA_SHA256;
			c->u.sfid.comp = OFTP2_COMP_ZLIB;
			c->u.sfid.env = OFTP2_ENV_CMS;
			c->u.sfid.sign = true;
			strcpy(c->u.sfid.user, "USER1");
			sample_bytes(&c->u.sfid.desc, "Rechnung \xc3\xa4\xe2\x82\xac", 14);
		}
		break;
	case OFTP2_SFPA:
		c->u.sfpa.acnt = variant ? 12345 : 0;
		break;
	case OFTP2_SFNA:
		c->u.sfna.reason = OFTP2_SFNA_DUPLICATE_FILE;
		c->u.sfna.retry = variant;
		if (variant)
			sample_bytes(&c->u.sfna.text, "duplicate", 9);
		break;
	case OFTP2_DATA:
		if (variant)
			sample_bytes(&c->u.data.buf, sample_data,
			    sizeof(sample_data));
		break;
	case OFTP2_EFID:
		c->u.efid.rcnt = variant ? 7 : 0;
		c->u.efid.ucnt = 12345;
		break;
	case OFTP2_EFPA:
		c->u.efpa.cd = !variant;
		break;
	case OFTP2_EFNA:
		c->u.efna.reason = variant ? OFTP2_EFNA_BAD_SIGNATURE :
		    OFTP2_SFNA_INVALID_BYTE_COUNT;
		if (variant)
			sample_bytes(&c->u.efna.text, "bad count", 9);
		break;
	case OFTP2_ESID:
		c->u.esid.reason = variant ? OFTP2_ESID_BAD_PASSWORD : 0;
		c->u.esid.cr = OFTP2_CR;
		if (variant)
			sample_bytes(&c->u.esid.text, "Invalid password", 16);
		break;
	case OFTP2_EERP:
		strcpy(c->u.eerp.dsn, "INVOIC.TEST");
		c->u.eerp.date = 20240315;
		c->u.eerp.time = 1430000001;
		strcpy(c->u.eerp.dest, "O0013000000ACME");
		strcpy(c->u.eerp.orig, "O0013000000DEST");
		if (variant) {
			strcpy(c->u.eerp.user, "USER1");
			sample_bytes(&c->u.eerp.hash, sample_hash,
			    sizeof(sample_hash));
			sample_bytes(&c->u.eerp.sig, sample_sig,
			    sizeof(sample_sig));
		}
		break;
	case OFTP2_NERP:
		strcpy(c->u.nerp.dsn, "INVOIC.TEST");
		c->u.nerp.date = 20240315;
		c->u.nerp.time = 1430000001;
		strcpy(c->u.nerp.dest, "O0013000000ACME");
		strcpy(c->u.nerp.orig, "O0013000000DEST");
		strcpy(c->u.nerp.crea, "O0013000000PROXY");
		c->u.nerp.reason = OFTP2_NERP_NOT_DELIVERED;
		if (variant) {
			sample_bytes(&c->u.nerp.text, "not delivered", 13);
			sample_bytes(&c->u.nerp.hash, sample_hash, 20);
			sample_bytes(&c->u.nerp.sig, sample_sig,
			    sizeof(sample_sig));
		}
		break;
	case OFTP2_AUCH:
		sample_bytes(&c->u.auch.challenge, sample_chal,
		    variant ? sizeof(sample_chal) : 1);
		break;
	case OFTP2_AURP:
		memcpy(c->u.aurp.response, sample_hash, OFTP2_AURP_LEN);
		break;
	case OFTP2_CDT:
	case OFTP2_SECD:
	case OFTP2_CD:
	case OFTP2_RTR:
		break;
	}
}

/* "10 00 00 17 49 ..." -> octets; returns the count. */
static size_t
sample_unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = 0;
	unsigned v;

	while (*hex != '\0') {
		if (*hex == ' ' || *hex == '\n') {
			hex++;
			continue;
		}
		if (n == cap || sscanf(hex, "%2x", &v) != 1)
			break;
		out[n++] = (uint8_t)v;
		hex += 2;
	}
	return n;
}

#endif
