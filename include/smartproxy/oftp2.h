/*
 * smartproxy/oftp2.h - OFTP2 (ODETTE-FTP 2.0, RFC 5024) command types.
 *
 * Types and constants only (like HAProxy's *-t.h): a decoded OFTP2 command is
 * a plain C struct that modules read directly, with no function calls needed.
 * The codec that fills and serialises these structs lives in the tree
 * (src/oftp2/codec.h); the field rules are in docs/oftp2-wire-reference.md,
 * whose section numbers are quoted below as "ref §n".
 *
 * Decoded field conventions:
 *  - X(n) fields are copied into char[n + 1], trailing space padding removed,
 *    always NUL-terminated ("" when the field was all spaces).
 *  - 9(n) fields are unsigned integers; Y/N fields are bool; single-letter
 *    enums keep their ASCII letter as the enum value.
 *  - T(n) text and U(n) binary of variable length are struct oftp2_bytes:
 *    a pointer INTO THE FRAME that was parsed plus a length. They are valid
 *    only as long as the caller keeps that frame; they are not NUL-terminated.
 *    When building, they point at the caller's memory (NULL allowed if len 0).
 *  - Reserved fields (always spaces) and length fields implied by a
 *    struct oftp2_bytes are not represented.
 *
 * Ownership: nothing here owns memory. A struct oftp2_cmd never needs freeing.
 *
 * Versioning: SP_OFTP2_H_VERSION is (major << 16 | minor). The OFTP2 module
 * sets it in struct sp_message.parsed_version of every command it delivers;
 * a module reading `parsed` checks the major (SP_OFTP2_H_MAJOR) equals the
 * one it was built with. The major changes when a struct here changes
 * incompatibly; the minor grows with additions (new constants, new members
 * at the end of a struct).
 */
#ifndef SMARTPROXY_OFTP2_H
#define SMARTPROXY_OFTP2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SP_OFTP2_H_MAJOR 1
#define SP_OFTP2_H_MINOR 0
#define SP_OFTP2_H_VERSION (((uint32_t)SP_OFTP2_H_MAJOR << 16) | SP_OFTP2_H_MINOR)

/* ---- Stream transmission header and sizes (ref §1.2, §2, §3) ---- */

#define OFTP2_STH_LEN        4       /* octets of the STH before every OEB */
#define OFTP2_STH_OCTET0     0x10    /* version 1, flags 0 */
#define OFTP2_STB_MIN        5       /* STH length field: STH + 1-octet command */
#define OFTP2_STB_MAX        100003  /* STH length field maximum */
#define OFTP2_OEB_MAX        99999   /* largest exchange buffer (no STH) */
#define OFTP2_SDEB_MIN       128     /* SSIDSDEB range */
#define OFTP2_SDEB_MAX       99999
#define OFTP2_CREDIT_MIN     1       /* SSIDCRED range */
#define OFTP2_CREDIT_MAX     999
#define OFTP2_TEXT_MAX       999     /* T(n) fields: length is a 9(3) */
#define OFTP2_SUBREC_MAX     63      /* DATA subrecord count field maximum */
#define OFTP2_AURP_LEN       20      /* AURPRSP: the decrypted challenge */
#define OFTP2_LEVEL_OFTP2    5       /* SSIDLEV of OFTP 2.0 */

/* Field widths (X(n) sizes; the char arrays below are one larger). */
#define OFTP2_SIO_LEN        25      /* SSIDCODE, SFIDDEST/ORIG, E/NERP DEST/ORIG/CREA */
#define OFTP2_PSWD_LEN       8
#define OFTP2_USER_LEN       8       /* SSIDUSER, SFIDUSER, EERPUSER */
#define OFTP2_DSN_LEN        26      /* SFIDDSN, EERPDSN, NERPDSN */

/* DATA subrecord header bits (ref §4; RFC bit 0 is the MSB). */
#define OFTP2_SUBREC_EOR     0x80    /* last subrecord of a record */
#define OFTP2_SUBREC_CF      0x40    /* one octet, repeated `count` times */
#define OFTP2_SUBREC_COUNT   0x3f

/* CR trailer of SSRM, SSID and ESID: either value is valid. */
#define OFTP2_CR             0x0d
#define OFTP2_CR_HIGH        0x8d

/* ---- Command codes: the first octet of the OEB (ref §0) ---- */
enum oftp2_code {
	OFTP2_SSRM = 'I',  /* ready message, R->I, first buffer */
	OFTP2_SSID = 'X',  /* start session, both sides */
	OFTP2_SECD = 'J',  /* security change direction */
	OFTP2_AUCH = 'A',  /* authentication challenge */
	OFTP2_AURP = 'S',  /* authentication response */
	OFTP2_SFID = 'H',  /* start file */
	OFTP2_SFPA = '2',  /* start file positive answer */
	OFTP2_SFNA = '3',  /* start file negative answer */
	OFTP2_DATA = 'D',  /* data exchange buffer */
	OFTP2_CDT  = 'C',  /* set credit */
	OFTP2_EFID = 'T',  /* end file */
	OFTP2_EFPA = '4',  /* end file positive answer */
	OFTP2_EFNA = '5',  /* end file negative answer */
	OFTP2_ESID = 'F',  /* end session */
	OFTP2_CD   = 'R',  /* change direction */
	OFTP2_EERP = 'E',  /* end-to-end response */
	OFTP2_NERP = 'N',  /* negative end response */
	OFTP2_RTR  = 'P'   /* ready to receive */
};

/* ---- Enumerated field values ---- */

/* SSIDSR: what the sender of an SSID wants to do. */
enum oftp2_mode {
	OFTP2_MODE_SEND = 'S',
	OFTP2_MODE_RECEIVE = 'R',
	OFTP2_MODE_BOTH = 'B'
};

/* SFIDFMT: virtual file format. */
enum oftp2_format {
	OFTP2_FMT_FIXED = 'F',
	OFTP2_FMT_VARIABLE = 'V',
	OFTP2_FMT_UNSTRUCTURED = 'U',
	OFTP2_FMT_TEXT = 'T'
};

/* SFIDSEC */
#define OFTP2_SEC_NONE        0
#define OFTP2_SEC_ENCRYPTED   1
#define OFTP2_SEC_SIGNED      2
#define OFTP2_SEC_ENC_SIGNED  3

/* SFIDCIPH (ref §9). The codec accepts any two digits here: a suite the
 * receiver does not support is refused with SFNA 15, not a protocol error. */
#define OFTP2_CIPH_NONE            0
#define OFTP2_CIPH_3DES_RSA_SHA1   1
#define OFTP2_CIPH_AES_RSA_SHA1    2
#define OFTP2_CIPH_3DES_RSA_SHA256 3
#define OFTP2_CIPH_AES_RSA_SHA256  4
#define OFTP2_CIPH_3DES_RSA_SHA512 5
#define OFTP2_CIPH_AES_RSA_SHA512  6

/* SFIDCOMP, SFIDENV */
#define OFTP2_COMP_NONE  0
#define OFTP2_COMP_ZLIB  1
#define OFTP2_ENV_NONE   0
#define OFTP2_ENV_CMS    1

/* ---- Reason codes ---- */

/* ESIDREAS (ref §6.1) */
#define OFTP2_ESID_NORMAL            0   /* normal termination */
#define OFTP2_ESID_CMD_UNKNOWN       1   /* command not recognised */
#define OFTP2_ESID_PROTOCOL          2   /* command invalid in this state */
#define OFTP2_ESID_USER_UNKNOWN      3   /* user code not known */
#define OFTP2_ESID_BAD_PASSWORD      4   /* invalid password */
#define OFTP2_ESID_EMERGENCY         5   /* local site emergency close down */
#define OFTP2_ESID_INVALID_DATA      6   /* command contained invalid data */
#define OFTP2_ESID_BUFFER_SIZE       7   /* exchange buffer size error */
#define OFTP2_ESID_NO_RESOURCES      8   /* resources not available */
#define OFTP2_ESID_TIMEOUT           9   /* time out */
#define OFTP2_ESID_MODE              10  /* mode or capabilities incompatible */
#define OFTP2_ESID_BAD_CHALLENGE     11  /* invalid challenge response */
#define OFTP2_ESID_AUTH_MISMATCH     12  /* secure authentication requirements */
#define OFTP2_ESID_UNSPECIFIED       99  /* unspecified abort */

/* SFNAREAS and EFNAREAS (ref §6.2). EFNA also has the three OFTP2_EFNA_*. */
#define OFTP2_SFNA_INVALID_FILENAME      1
#define OFTP2_SFNA_INVALID_DEST          2
#define OFTP2_SFNA_INVALID_ORIGIN        3
#define OFTP2_SFNA_FORMAT_UNSUPPORTED    4
#define OFTP2_SFNA_LRECL_UNSUPPORTED     5
#define OFTP2_SFNA_FILE_TOO_BIG          6
#define OFTP2_SFNA_INVALID_RECORD_COUNT  10
#define OFTP2_SFNA_INVALID_BYTE_COUNT    11
#define OFTP2_SFNA_ACCESS_FAILURE        12
#define OFTP2_SFNA_DUPLICATE_FILE        13
#define OFTP2_SFNA_DIRECTION_REFUSED     14
#define OFTP2_SFNA_CIPHER_UNSUPPORTED    15
#define OFTP2_SFNA_ENCRYPTED_REFUSED     16
#define OFTP2_SFNA_UNENCRYPTED_REFUSED   17
#define OFTP2_SFNA_COMPRESSION_REFUSED   18
#define OFTP2_SFNA_SIGNED_REFUSED        19
#define OFTP2_SFNA_UNSIGNED_REFUSED      20
#define OFTP2_EFNA_BAD_SIGNATURE         21  /* EFNA only */
#define OFTP2_EFNA_DECRYPTION_FAILED     22  /* EFNA only */
#define OFTP2_EFNA_DECOMPRESSION_FAILED  23  /* EFNA only */
#define OFTP2_SFNA_UNSPECIFIED           99

/* NERPREAS (ref §6.3): mostly "this ESID/SFNA/EFNA code was received". */
#define OFTP2_NERP_ESID_03              3
#define OFTP2_NERP_ESID_04              4
#define OFTP2_NERP_ESID_99              9
#define OFTP2_NERP_SFNA_01              11
#define OFTP2_NERP_SFNA_02              12
#define OFTP2_NERP_SFNA_03              13
#define OFTP2_NERP_SFNA_04              14
#define OFTP2_NERP_SFNA_05              15
#define OFTP2_NERP_SFNA_06              16
#define OFTP2_NERP_SFNA_10              20
#define OFTP2_NERP_SFNA_11              21
#define OFTP2_NERP_SFNA_12              22
#define OFTP2_NERP_SFNA_13              23
#define OFTP2_NERP_SFNA_14              24
#define OFTP2_NERP_SFNA_15              25
#define OFTP2_NERP_SFNA_16              26
#define OFTP2_NERP_SFNA_17              27
#define OFTP2_NERP_SFNA_18              28
#define OFTP2_NERP_SFNA_19              29
#define OFTP2_NERP_SFNA_20              30
#define OFTP2_NERP_BAD_SIGNATURE        31
#define OFTP2_NERP_DECOMPRESSION_FAILED 32
#define OFTP2_NERP_DECRYPTION_FAILED    33
#define OFTP2_NERP_PROCESSING_FAILED    34
#define OFTP2_NERP_NOT_DELIVERED        35
#define OFTP2_NERP_NOT_ACKNOWLEDGED     36
#define OFTP2_NERP_STOPPED_BY_OPERATOR  50
#define OFTP2_NERP_SIZE_INCOMPATIBLE    90
#define OFTP2_NERP_UNSPECIFIED          99

/* ---- Tolerances for documented real-world deviations (ref §8) ----
 * A bit set of these is passed to the codec; 0 (the default) is strict.
 * Builders never produce a deviation, whatever the flags. */
#define OFTP2_TOL_NO_CR           (1u << 0) /* SSRM/SSID/ESID without CR trailer */
#define OFTP2_TOL_BARE_CDT        (1u << 1) /* CDT as the lone 'C' octet */
#define OFTP2_TOL_NUMERIC_SPACES  (1u << 2) /* 9(n) with spaces; all spaces = 0 */
#define OFTP2_TOL_LOWERCASE       (1u << 3) /* a-z in X(n) fields */
#define OFTP2_TOL_X_CHARSET       (1u << 4) /* any octet 0x21-0x7e in X(n) fields */
#define OFTP2_TOL_TIME_COUNTER0   (1u << 5) /* SFID/EERP/NERP TIME counter 0000 */
#define OFTP2_TOL_STH_OCTET0      (1u << 6) /* ignore STH octet 0 (version/flags) */
#define OFTP2_TOL_SR_ANY          (1u << 7) /* negotiation: reject only S/S and R/R */
#define OFTP2_TOL_REST_AND        (1u << 8) /* negotiation: restart = AND, no error */
#define OFTP2_TOL_EFID_NO_CREDIT  (1u << 9) /* state machine only: EFID at credit 0
                                               and one crossing CDT after it */
#define OFTP2_TOL_LF_TRAILER      (1u << 10) /* SSRM/SSID/ESID trailer LF (0x0a)
                                                instead of CR */
#define OFTP2_TOL_DATA_PAD        (1u << 11) /* state machine only: DATA up to
                                                OFTP2_DATA_PAD_MAX octets over
                                                SSIDSDEB, the excess zero octets
                                                after the last subrecord */
#define OFTP2_TOL_ESID_EARLY      (1u << 12) /* state machine only: ESID 00 from
                                                the speaker right after EFID,
                                                before EFPA/CD */
#define OFTP2_DATA_PAD_MAX        16         /* octets OFTP2_TOL_DATA_PAD admits */

/*
 * Deviations the codec and the module admit, named (Suricata style: an
 * anomaly is an event, what to do about it is decided elsewhere). Each
 * OFTP2_TOL_* bit doubles as the deviation it admits; these are deviations
 * from a "should" of the RFC that are always admitted, with no switch.
 */
#define OFTP2_DEV_RESERVED        (1u << 16) /* a reserved field not spaces
                                                (RFC: "should" be spaces) */

/* ---- Decoded commands ---- */

/* Variable-length text (T, UTF-8) or binary (U) field; see the top. */
struct oftp2_bytes {
	const uint8_t *ptr;   /* into the parsed frame; NULL or anything if len 0 */
	size_t len;           /* octets */
};

/* SSRM: the Responder's greeting. SSRMMSG is fixed, so not represented. */
struct oftp2_ssrm {
	uint8_t cr;           /* trailer seen: 0x0d, 0x8d, or 0 if missing
	                         (OFTP2_TOL_NO_CR). Builder: 0 writes 0x0d */
};

/* SSID: start session; carries the SENDER's own code and password. */
struct oftp2_ssid {
	uint8_t level;                       /* SSIDLEV 0..9: 5 is OFTP 2.0, 1/2/4
	                                        older, above 5 future levels */
	char code[OFTP2_SIO_LEN + 1];        /* SSIDCODE, an SIO identification */
	char password[OFTP2_PSWD_LEN + 1];   /* SSIDPSWD; may be "" */
	uint32_t sdeb;                       /* SSIDSDEB 128..99999: max DATA OEB
	                                        incl. 'D', excl. STH */
	enum oftp2_mode mode;                /* SSIDSR */
	bool compression;                    /* SSIDCMPR: buffer compression */
	bool restart;                        /* SSIDREST */
	bool special;                        /* SSIDSPEC: special logic (X.25) */
	uint16_t credit;                     /* SSIDCRED 1..999 */
	bool auth;                           /* SSIDAUTH: secure authentication */
	char user[OFTP2_USER_LEN + 1];       /* SSIDUSER; may be "" */
	uint8_t cr;                          /* as struct oftp2_ssrm.cr */
};

/* SFID: start file. */
struct oftp2_sfid {
	char dsn[OFTP2_DSN_LEN + 1];         /* SFIDDSN, virtual file name, not "" */
	uint32_t date;                       /* SFIDDATE CCYYMMDD as a number */
	uint32_t time;                       /* SFIDTIME HHMMSScccc as a number */
	char user[OFTP2_USER_LEN + 1];       /* SFIDUSER; may be "" */
	char dest[OFTP2_SIO_LEN + 1];        /* SFIDDEST: final recipient */
	char orig[OFTP2_SIO_LEN + 1];        /* SFIDORIG: originator */
	enum oftp2_format format;            /* SFIDFMT */
	uint32_t lrecl;                      /* SFIDLRECL: max record length,
	                                        0 for U and T */
	uint64_t fsiz;                       /* SFIDFSIZ: transmitted KiB (estimate) */
	uint64_t osiz;                       /* SFIDOSIZ: original KiB, 0 unknown */
	uint64_t rest;                       /* SFIDREST: restart position (records
	                                        for F/V, KiB for U/T) */
	uint8_t sec;                         /* SFIDSEC: OFTP2_SEC_* */
	uint8_t ciph;                        /* SFIDCIPH: OFTP2_CIPH_* (00..99) */
	uint8_t comp;                        /* SFIDCOMP: OFTP2_COMP_* */
	uint8_t env;                         /* SFIDENV: OFTP2_ENV_* */
	bool sign;                           /* SFIDSIGN: signed EERP requested */
	struct oftp2_bytes desc;             /* SFIDDESC, UTF-8, 0..999 octets */
};

/* SFPA: start file accepted. */
struct oftp2_sfpa {
	uint64_t acnt;                       /* SFPAACNT: restart position accepted,
	                                        <= the SFID's rest */
};

/* SFNA: start file refused. */
struct oftp2_sfna {
	uint8_t reason;                      /* SFNAREAS: OFTP2_SFNA_* */
	bool retry;                          /* SFNARRTR: sender may retry later */
	struct oftp2_bytes text;             /* SFNAREAST, UTF-8 */
};

/* DATA: subrecords, see src/oftp2/codec.h oftp2_data_*() to decode them. */
struct oftp2_data {
	struct oftp2_bytes buf;              /* DATABUF: the octets after 'D' */
};

/* CDT: set credit. */
struct oftp2_cdt {
	bool bare;                           /* received as lone 'C'
	                                        (OFTP2_TOL_BARE_CDT); builder ignores */
};

/* EFID: end file. */
struct oftp2_efid {
	uint64_t rcnt;                       /* EFIDRCNT: records (F/V), 0 for U/T */
	uint64_t ucnt;                       /* EFIDUCNT: octets of the whole file */
};

/* EFPA: end file accepted. */
struct oftp2_efpa {
	bool cd;                             /* EFPACD: listener wants a CD next */
};

/* EFNA: end file refused. */
struct oftp2_efna {
	uint8_t reason;                      /* EFNAREAS: OFTP2_SFNA_* / OFTP2_EFNA_* */
	struct oftp2_bytes text;             /* EFNAREAST, UTF-8 */
};

/* ESID: end session. */
struct oftp2_esid {
	uint8_t reason;                      /* ESIDREAS: OFTP2_ESID_* */
	struct oftp2_bytes text;             /* ESIDREAST, UTF-8 */
	uint8_t cr;                          /* as struct oftp2_ssrm.cr */
};

/* EERP: end-to-end response (file delivered). */
struct oftp2_eerp {
	char dsn[OFTP2_DSN_LEN + 1];         /* EERPDSN, as the SFID's */
	uint32_t date;                       /* EERPDATE CCYYMMDD, from the SFID */
	uint32_t time;                       /* EERPTIME HHMMSScccc, from the SFID */
	char user[OFTP2_USER_LEN + 1];       /* EERPUSER */
	char dest[OFTP2_SIO_LEN + 1];        /* EERPDEST: the file's originator */
	char orig[OFTP2_SIO_LEN + 1];        /* EERPORIG: the file's recipient */
	struct oftp2_bytes hash;             /* EERPHSH; len 0 when unsigned */
	struct oftp2_bytes sig;              /* EERPSIG: CMS SignedData; len 0 = none */
};

/* NERP: negative end response. */
struct oftp2_nerp {
	char dsn[OFTP2_DSN_LEN + 1];         /* NERPDSN */
	uint32_t date;                       /* NERPDATE CCYYMMDD */
	uint32_t time;                       /* NERPTIME HHMMSScccc */
	char dest[OFTP2_SIO_LEN + 1];        /* NERPDEST: the file's originator */
	char orig[OFTP2_SIO_LEN + 1];        /* NERPORIG: the file's recipient */
	char crea[OFTP2_SIO_LEN + 1];        /* NERPCREA: creator of this NERP */
	uint8_t reason;                      /* NERPREAS: OFTP2_NERP_* */
	struct oftp2_bytes text;             /* NERPREAST, UTF-8 */
	struct oftp2_bytes hash;             /* NERPHSH; len 0 when unsigned */
	struct oftp2_bytes sig;              /* NERPSIG; len 0 = unsigned */
};

/* AUCH: authentication challenge. */
struct oftp2_auch {
	struct oftp2_bytes challenge;        /* AUCHCHAL: CMS EnvelopedData, len > 0 */
};

/* AURP: authentication response. */
struct oftp2_aurp {
	uint8_t response[OFTP2_AURP_LEN];    /* AURPRSP: decrypted challenge */
};

/* One decoded command; `code` says which member of `u` is valid.
 * SECD, CD and RTR have no fields. */
struct oftp2_cmd {
	enum oftp2_code code;
	union {
		struct oftp2_ssrm ssrm;
		struct oftp2_ssid ssid;
		struct oftp2_sfid sfid;
		struct oftp2_sfpa sfpa;
		struct oftp2_sfna sfna;
		struct oftp2_data data;
		struct oftp2_cdt cdt;
		struct oftp2_efid efid;
		struct oftp2_efpa efpa;
		struct oftp2_efna efna;
		struct oftp2_esid esid;
		struct oftp2_eerp eerp;
		struct oftp2_nerp nerp;
		struct oftp2_auch auch;
		struct oftp2_aurp aurp;
	} u;
};

/* Effective parameters of a session after SSID negotiation (ref §5.2). */
struct oftp2_session_params {
	uint8_t level;                       /* 5 */
	uint32_t sdeb;                       /* min of both SSIDSDEB */
	enum oftp2_mode initiator_mode;      /* SSIDSR of each side */
	enum oftp2_mode responder_mode;
	bool compression;                    /* both asked for it */
	bool restart;                        /* both asked for it */
	bool special;                        /* always false over TCP */
	uint16_t credit;                     /* the Responder's SSIDCRED */
	bool auth;                           /* secure authentication runs */
};

#endif
