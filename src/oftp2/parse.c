/*
 * oftp2/parse.c - decode one OFTP2 exchange buffer into struct oftp2_cmd.
 *
 * Every field goes through the sp_rd cursor and the rules of fields.c. The
 * ESID reason of a failure follows ref §7: unknown command 01, length 07,
 * anything else wrong in a field 06. Nothing is allocated: T/U fields point
 * into the caller's OEB.
 */
#include "oftp2/fields.h"

#include <inttypes.h>
#include <string.h>

#include "core/err.h"

/* Parser state: the cursor over the OEB and where to report. */
struct px {
	struct sp_rd rd;
	unsigned tol;
	uint8_t cmd;
	struct oftp2_err *err;
	struct oftp2_dev *dev;   /* admitted deviations; never NULL inside */
};

/* Name a deviation the parser admitted; the first field of each is kept. */
static void
note_dev(struct px *c, unsigned bit, const char *field)
{
	size_t i;

	if (bit == 0 || (c->dev->bits & bit))
		return;
	c->dev->bits |= bit;
	for (i = 0; i < OFTP2_DEV_NFIELD; i++)
		if (c->dev->field[i] == NULL) {
			c->dev->field[i] = field;
			c->dev->field_bit[i] = bit;
			break;
		}
}

/* Which single tolerance made an X(n) field pass (0: none was needed). */
static unsigned
x_dev(const uint8_t *p, size_t n, unsigned kind, unsigned tol)
{
	if ((tol & (OFTP2_TOL_LOWERCASE | OFTP2_TOL_X_CHARSET)) == 0 ||
	    oftp2_x_problem(p, n, kind, 0) == NULL)
		return 0;
	if ((tol & OFTP2_TOL_LOWERCASE) &&
	    oftp2_x_problem(p, n, kind, OFTP2_TOL_LOWERCASE) == NULL)
		return OFTP2_TOL_LOWERCASE;
	return OFTP2_TOL_X_CHARSET;
}

static int
len_error(struct px *c, size_t expect)
{
	return oftp2_err_set(c->err, SP_ERR_PROTOCOL, OFTP2_ESID_BUFFER_SIZE,
	    c->cmd, NULL, 0, "buffer is %zu octets, the command implies %zu",
	    c->rd.len, expect);
}

static int
take(struct px *c, const char *field, size_t n, const uint8_t **p)
{
	size_t off = sp_rd_pos(&c->rd);

	/* Lengths are checked before fields are read; this is the backstop. */
	if (sp_rd_bytes(&c->rd, n, p) != 0)
		return oftp2_err_set(c->err, SP_ERR_PROTOCOL,
		    OFTP2_ESID_BUFFER_SIZE, c->cmd, field, off,
		    "buffer ends inside the field");
	return 0;
}

static int
bad(struct px *c, const char *field, size_t off, const uint8_t *p, size_t n,
    const char *problem)
{
	char q[96];

	oftp2_quote(q, sizeof(q), p, n);
	return oftp2_err_set(c->err, SP_ERR_PROTOCOL, OFTP2_ESID_INVALID_DATA,
	    c->cmd, field, off, "%s %s", q, problem);
}

static int
get_x(struct px *c, const char *field, size_t n, unsigned kind, char *out)
{
	size_t off = sp_rd_pos(&c->rd);
	const uint8_t *p;
	const char *pr;
	int r;

	if ((r = take(c, field, n, &p)) != 0)
		return r;
	if ((pr = oftp2_x_problem(p, n, kind, c->tol)) != NULL)
		return bad(c, field, off, p, n, pr);
	note_dev(c, x_dev(p, n, kind, c->tol), field);
	memcpy(out, p, n);
	while (n > 0 && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
	return 0;
}

static int
get_num(struct px *c, const char *field, size_t n, uint64_t min, uint64_t max,
    uint64_t *v)
{
	size_t off = sp_rd_pos(&c->rd);
	const uint8_t *p;
	const char *pr;
	uint64_t x;
	char q[64];
	int r;

	if ((r = take(c, field, n, &p)) != 0)
		return r;
	if ((pr = oftp2_num_problem(p, n, c->tol, v)) != NULL)
		return bad(c, field, off, p, n, pr);
	if ((c->tol & OFTP2_TOL_NUMERIC_SPACES) &&
	    oftp2_num_problem(p, n, 0, &x) != NULL)
		note_dev(c, OFTP2_TOL_NUMERIC_SPACES, field);
	if (*v < min || *v > max) {
		oftp2_quote(q, sizeof(q), p, n);
		return oftp2_err_set(c->err, SP_ERR_PROTOCOL,
		    OFTP2_ESID_INVALID_DATA, c->cmd, field, off,
		    "%s is out of range %" PRIu64 "..%" PRIu64, q, min, max);
	}
	return 0;
}

static int
get_u8num(struct px *c, const char *field, size_t n, uint64_t min,
    uint64_t max, uint8_t *v)
{
	uint64_t x;
	int r;

	if ((r = get_num(c, field, n, min, max, &x)) != 0)
		return r;
	*v = (uint8_t)x;
	return 0;
}

/* A reserved field: the RFC says it "should" be spaces, so anything else is
 * a named deviation, never a refusal (ref §2; RFC 5024 §5.3). */
static int
get_rsv(struct px *c, const char *field, size_t n)
{
	const uint8_t *p;
	size_t i;
	int r;

	if ((r = take(c, field, n, &p)) != 0)
		return r;
	for (i = 0; i < n; i++)
		if (p[i] != ' ') {
			note_dev(c, OFTP2_DEV_RESERVED, field);
			break;
		}
	return 0;
}

/* A field whose octets are fixed (SSRMMSG). */
static int
get_lit(struct px *c, const char *field, const char *lit, const char *what)
{
	size_t off = sp_rd_pos(&c->rd), n = strlen(lit);
	const uint8_t *p;
	int r;

	if ((r = take(c, field, n, &p)) != 0)
		return r;
	if (memcmp(p, lit, n) != 0)
		return bad(c, field, off, p, n, what);
	return 0;
}

/* A one-octet field taking a letter from `set`. */
static int
get_enum(struct px *c, const char *field, const char *set, const char *what,
    uint8_t *v)
{
	size_t off = sp_rd_pos(&c->rd);
	const uint8_t *p;
	int r;

	if ((r = take(c, field, 1, &p)) != 0)
		return r;
	if (p[0] == '\0' || strchr(set, p[0]) == NULL)
		return bad(c, field, off, p, 1, what);
	*v = p[0];
	return 0;
}

static int
get_yn(struct px *c, const char *field, bool *v)
{
	uint8_t x = 0;
	int r;

	if ((r = get_enum(c, field, "YN", "is not Y or N", &x)) != 0)
		return r;
	*v = x == 'Y';
	return 0;
}

static int
get_text(struct px *c, const char *field, size_t n, struct oftp2_bytes *b)
{
	size_t off = sp_rd_pos(&c->rd), at = 0;
	const char *pr;
	int r;

	if ((r = take(c, field, n, &b->ptr)) != 0)
		return r;
	b->len = n;
	if ((pr = oftp2_utf8_problem(b->ptr, n, &at)) != NULL)
		return oftp2_err_set(c->err, SP_ERR_PROTOCOL,
		    OFTP2_ESID_INVALID_DATA, c->cmd, field, off,
		    "text %s at octet %zu", pr, at);
	return 0;
}

static int
get_bin(struct px *c, const char *field, size_t n, struct oftp2_bytes *b)
{
	b->len = n;
	return take(c, field, n, &b->ptr);
}

static int
get_u16(struct px *c, const char *field, uint16_t *v)
{
	const uint8_t *p;
	int r;

	if ((r = take(c, field, 2, &p)) != 0)
		return r;
	*v = (uint16_t)(p[0] << 8 | p[1]);
	return 0;
}

/* CR trailer; the caller has checked the length, so nothing left means the
 * tolerated missing CR. */
static int
get_cr(struct px *c, const char *field, uint8_t *cr)
{
	size_t off = sp_rd_pos(&c->rd);
	const uint8_t *p;
	int r;

	if (sp_rd_left(&c->rd) == 0 && (c->tol & OFTP2_TOL_NO_CR)) {
		note_dev(c, OFTP2_TOL_NO_CR, field);
		*cr = 0;
		return 0;
	}
	if ((r = take(c, field, 1, &p)) != 0)
		return r;
	if (p[0] == 0x0a && (c->tol & OFTP2_TOL_LF_TRAILER)) {
		note_dev(c, OFTP2_TOL_LF_TRAILER, field);
		*cr = p[0];
		return 0;
	}
	if (p[0] != OFTP2_CR && p[0] != OFTP2_CR_HIGH)
		return bad(c, field, off, p, 1, "is not a CR (0x0d or 0x8d)");
	*cr = p[0];
	return 0;
}

static int
get_date(struct px *c, const char *field, uint32_t *d)
{
	size_t off = sp_rd_pos(&c->rd);
	const char *pr;
	uint64_t v;
	int r;

	if ((r = get_num(c, field, 8, 0, 99999999, &v)) != 0)
		return r;
	if ((pr = oftp2_date_problem(v)) != NULL)
		return bad(c, field, off, c->rd.p + off, 8, pr);
	*d = (uint32_t)v;
	return 0;
}

static int
get_time(struct px *c, const char *field, uint32_t *t)
{
	size_t off = sp_rd_pos(&c->rd);
	const char *pr;
	uint64_t v;
	int r;

	if ((r = get_num(c, field, 10, 0, 9999999999ull, &v)) != 0)
		return r;
	if ((pr = oftp2_time_problem(v, c->tol)) != NULL)
		return bad(c, field, off, c->rd.p + off, 10, pr);
	if (oftp2_time_problem(v, 0) != NULL)
		note_dev(c, OFTP2_TOL_TIME_COUNTER0, field);
	*t = (uint32_t)v;
	return 0;
}

static int
get_sio(struct px *c, const char *field, char *out)
{
	return get_x(c, field, OFTP2_SIO_LEN, OFTP2_X_SIO | OFTP2_X_REQUIRED,
	    out);
}

/* A reason code checked against its table (ref §6). */
static int
get_reason(struct px *c, const char *field, const char *(*text)(unsigned),
    const char *what, uint8_t *v)
{
	size_t off = sp_rd_pos(&c->rd);
	int r;

	if ((r = get_u8num(c, field, 2, 0, 99, v)) != 0)
		return r;
	if (text(*v) == NULL)
		return bad(c, field, off, c->rd.p + off, 2, what);
	return 0;
}

/* A CR-terminated command of `base` octets plus CR (ref §3). */
static int
cr_len_ok(struct px *c, size_t base)
{
	size_t len = c->rd.len;

	if (len == base + 1 || (len == base && (c->tol & OFTP2_TOL_NO_CR)))
		return 0;
	return len_error(c, base + 1);
}

static int
fixed_len(struct px *c, size_t expect)
{
	return c->rd.len == expect ? 0 : len_error(c, expect);
}

static int
parse_ssrm(struct px *c, struct oftp2_ssrm *m)
{
	int r;

	if ((r = cr_len_ok(c, 18)) != 0 ||
	    (r = get_lit(c, "SSRMMSG", "ODETTE FTP READY ",
	    "is not \"ODETTE FTP READY \"")) != 0)
		return r;
	return get_cr(c, "SSRMCR", &m->cr);
}

static int
parse_ssid(struct px *c, struct oftp2_ssid *m)
{
	uint64_t v;
	uint8_t e;
	int r;

	if ((r = cr_len_ok(c, 60)) != 0)
		return r;
	/* Any digit: levels above 5 are future revisions (RFC 5024 §5.3.2:
	 * the lowest level is selected); what a level means for the session
	 * is the state machine's decision. */
	if ((r = get_enum(c, "SSIDLEV", "0123456789", "is not a protocol level "
	    "digit", &e)) != 0)
		return r;
	m->level = (uint8_t)(e - '0');
	if ((r = get_sio(c, "SSIDCODE", m->code)) != 0 ||
	    (r = get_x(c, "SSIDPSWD", OFTP2_PSWD_LEN, OFTP2_X_PLAIN,
	    m->password)) != 0 ||
	    (r = get_num(c, "SSIDSDEB", 5, OFTP2_SDEB_MIN, OFTP2_SDEB_MAX,
	    &v)) != 0)
		return r;
	m->sdeb = (uint32_t)v;
	if ((r = get_enum(c, "SSIDSR", "SRB", "is not S, R or B", &e)) != 0)
		return r;
	m->mode = (enum oftp2_mode)e;
	if ((r = get_yn(c, "SSIDCMPR", &m->compression)) != 0 ||
	    (r = get_yn(c, "SSIDREST", &m->restart)) != 0 ||
	    (r = get_yn(c, "SSIDSPEC", &m->special)) != 0 ||
	    (r = get_num(c, "SSIDCRED", 3, OFTP2_CREDIT_MIN, OFTP2_CREDIT_MAX,
	    &v)) != 0)
		return r;
	m->credit = (uint16_t)v;
	if ((r = get_yn(c, "SSIDAUTH", &m->auth)) != 0 ||
	    (r = get_rsv(c, "SSIDRSV1", 4)) != 0 ||
	    (r = get_x(c, "SSIDUSER", OFTP2_USER_LEN, OFTP2_X_PLAIN,
	    m->user)) != 0)
		return r;
	return get_cr(c, "SSIDCR", &m->cr);
}

/* Cross-field rules of SFID (ref §3, §7), after every field parsed. */
static int
sfid_rules(struct px *c, const struct oftp2_sfid *m)
{
	const uint8_t *p = c->rd.p;

	if ((m->format == OFTP2_FMT_UNSTRUCTURED ||
	    m->format == OFTP2_FMT_TEXT) && m->lrecl != 0)
		return bad(c, "SFIDLRECL", 107, p + 107, 5,
		    "must be 00000 for formats U and T");
	if (m->format == OFTP2_FMT_VARIABLE && m->lrecl > 65536 &&
	    (m->sec != OFTP2_SEC_NONE || m->comp != OFTP2_COMP_NONE))
		return bad(c, "SFIDLRECL", 107, p + 107, 5,
		    "exceeds 65536 for a secured or compressed V file");
	if ((m->sec != OFTP2_SEC_NONE || m->comp != OFTP2_COMP_NONE) &&
	    m->env != OFTP2_ENV_CMS)
		return bad(c, "SFIDENV", 160, p + 160, 1,
		    "must be 1 for a secured or compressed file");
	/* Only SFIDSEC needs a suite. SFIDSIGN=Y with suite 00 is valid: a
	 * receiver that cannot sign answers with an unsigned EERP (RFC 5024
	 * §3.3.5 note 3), so the request alone names no algorithm. */
	if (m->sec != OFTP2_SEC_NONE && m->ciph == OFTP2_CIPH_NONE)
		return bad(c, "SFIDCIPH", 157, p + 157, 2,
		    "must name a cipher suite for a secured file");
	return 0;
}

static int
parse_sfid(struct px *c, struct oftp2_sfid *m)
{
	uint64_t v;
	uint8_t e;
	int r;

	if (c->rd.len < 165)
		return len_error(c, 165);
	if ((r = get_x(c, "SFIDDSN", OFTP2_DSN_LEN,
	    OFTP2_X_PLAIN | OFTP2_X_REQUIRED, m->dsn)) != 0 ||
	    (r = get_rsv(c, "SFIDRSV1", 3)) != 0 ||
	    (r = get_date(c, "SFIDDATE", &m->date)) != 0 ||
	    (r = get_time(c, "SFIDTIME", &m->time)) != 0 ||
	    (r = get_x(c, "SFIDUSER", OFTP2_USER_LEN, OFTP2_X_PLAIN,
	    m->user)) != 0 ||
	    (r = get_sio(c, "SFIDDEST", m->dest)) != 0 ||
	    (r = get_sio(c, "SFIDORIG", m->orig)) != 0 ||
	    (r = get_enum(c, "SFIDFMT", "FVUT", "is not F, V, U or T",
	    &e)) != 0)
		return r;
	m->format = (enum oftp2_format)e;
	if ((r = get_num(c, "SFIDLRECL", 5, 0, 99999, &v)) != 0)
		return r;
	m->lrecl = (uint32_t)v;
	if ((r = get_num(c, "SFIDFSIZ", 13, 0, UINT64_MAX, &m->fsiz)) != 0 ||
	    (r = get_num(c, "SFIDOSIZ", 13, 0, UINT64_MAX, &m->osiz)) != 0 ||
	    (r = get_num(c, "SFIDREST", 17, 0, UINT64_MAX, &m->rest)) != 0 ||
	    (r = get_u8num(c, "SFIDSEC", 2, 0, 3, &m->sec)) != 0 ||
	    (r = get_u8num(c, "SFIDCIPH", 2, 0, 99, &m->ciph)) != 0 ||
	    (r = get_u8num(c, "SFIDCOMP", 1, 0, 1, &m->comp)) != 0 ||
	    (r = get_u8num(c, "SFIDENV", 1, 0, 1, &m->env)) != 0 ||
	    (r = get_yn(c, "SFIDSIGN", &m->sign)) != 0 ||
	    (r = get_num(c, "SFIDDESCL", 3, 0, OFTP2_TEXT_MAX, &v)) != 0)
		return r;
	if (c->rd.len != 165 + v)
		return len_error(c, 165 + (size_t)v);
	if ((r = get_text(c, "SFIDDESC", (size_t)v, &m->desc)) != 0)
		return r;
	return sfid_rules(c, m);
}

static int
parse_sfna(struct px *c, struct oftp2_sfna *m)
{
	uint64_t n;
	int r;

	if (c->rd.len < 7)
		return len_error(c, 7);
	if ((r = get_reason(c, "SFNAREAS", oftp2_sfna_text,
	    "is not an SFNA reason code", &m->reason)) != 0 ||
	    (r = get_yn(c, "SFNARRTR", &m->retry)) != 0 ||
	    (r = get_num(c, "SFNAREASL", 3, 0, OFTP2_TEXT_MAX, &n)) != 0)
		return r;
	if (c->rd.len != 7 + n)
		return len_error(c, 7 + (size_t)n);
	return get_text(c, "SFNAREAST", (size_t)n, &m->text);
}

static int
parse_efna(struct px *c, struct oftp2_efna *m)
{
	uint64_t n;
	int r;

	if (c->rd.len < 6)
		return len_error(c, 6);
	if ((r = get_reason(c, "EFNAREAS", oftp2_efna_text,
	    "is not an EFNA reason code", &m->reason)) != 0 ||
	    (r = get_num(c, "EFNAREASL", 3, 0, OFTP2_TEXT_MAX, &n)) != 0)
		return r;
	if (c->rd.len != 6 + n)
		return len_error(c, 6 + (size_t)n);
	return get_text(c, "EFNAREAST", (size_t)n, &m->text);
}

static int
parse_esid(struct px *c, struct oftp2_esid *m)
{
	size_t min = (c->tol & OFTP2_TOL_NO_CR) ? 6 : 7;
	uint64_t n;
	int r;

	if (c->rd.len < min)
		return len_error(c, 7);
	if ((r = get_reason(c, "ESIDREAS", oftp2_esid_text,
	    "is not an ESID reason code", &m->reason)) != 0 ||
	    (r = get_num(c, "ESIDREASL", 3, 0, OFTP2_TEXT_MAX, &n)) != 0 ||
	    (r = cr_len_ok(c, 6 + (size_t)n)) != 0 ||
	    (r = get_text(c, "ESIDREAST", (size_t)n, &m->text)) != 0)
		return r;
	return get_cr(c, "ESIDCR", &m->cr);
}

/* Hash and signature of EERP/NERP (ref §3, §7): SIGL 0 means no HSH. */
static int
get_hash_sig(struct px *c, const char *hshl, const char *hsh,
    const char *sigl, const char *sig, size_t base, struct oftp2_bytes *h,
    struct oftp2_bytes *s)
{
	size_t hoff = sp_rd_pos(&c->rd);
	uint16_t hl, sl;
	int r;

	if ((r = get_u16(c, hshl, &hl)) != 0)
		return r;
	if (c->rd.len < base + hl)
		return len_error(c, base + hl);
	if ((r = get_bin(c, hsh, hl, h)) != 0 || (r = get_u16(c, sigl, &sl)) != 0)
		return r;
	if (c->rd.len != base + hl + sl)
		return len_error(c, base + hl + (size_t)sl);
	if ((r = get_bin(c, sig, sl, s)) != 0)
		return r;
	if (sl == 0 && hl != 0)
		return bad(c, hshl, hoff, c->rd.p + hoff, 2,
		    "is not 0 although the response is unsigned");
	if (sl > 0 && s->ptr[0] != 0x30)
		return oftp2_err_set(c->err, SP_ERR_PROTOCOL,
		    OFTP2_ESID_INVALID_DATA, c->cmd, sig, base + hl,
		    "does not start with a DER SEQUENCE (0x30)");
	return 0;
}

static int
parse_eerp(struct px *c, struct oftp2_eerp *m)
{
	int r;

	if (c->rd.len < 110)
		return len_error(c, 110);
	if ((r = get_x(c, "EERPDSN", OFTP2_DSN_LEN,
	    OFTP2_X_PLAIN | OFTP2_X_REQUIRED, m->dsn)) != 0 ||
	    (r = get_rsv(c, "EERPRSV1", 3)) != 0 ||
	    (r = get_date(c, "EERPDATE", &m->date)) != 0 ||
	    (r = get_time(c, "EERPTIME", &m->time)) != 0 ||
	    (r = get_x(c, "EERPUSER", OFTP2_USER_LEN, OFTP2_X_PLAIN,
	    m->user)) != 0 ||
	    (r = get_sio(c, "EERPDEST", m->dest)) != 0 ||
	    (r = get_sio(c, "EERPORIG", m->orig)) != 0)
		return r;
	return get_hash_sig(c, "EERPHSHL", "EERPHSH", "EERPSIGL", "EERPSIG",
	    110, &m->hash, &m->sig);
}

static int
parse_nerp(struct px *c, struct oftp2_nerp *m)
{
	uint64_t n;
	int r;

	if (c->rd.len < 135)
		return len_error(c, 135);
	if ((r = get_x(c, "NERPDSN", OFTP2_DSN_LEN,
	    OFTP2_X_PLAIN | OFTP2_X_REQUIRED, m->dsn)) != 0 ||
	    (r = get_rsv(c, "NERPRSV1", 6)) != 0 ||
	    (r = get_date(c, "NERPDATE", &m->date)) != 0 ||
	    (r = get_time(c, "NERPTIME", &m->time)) != 0 ||
	    (r = get_sio(c, "NERPDEST", m->dest)) != 0 ||
	    (r = get_sio(c, "NERPORIG", m->orig)) != 0 ||
	    (r = get_sio(c, "NERPCREA", m->crea)) != 0 ||
	    (r = get_reason(c, "NERPREAS", oftp2_nerp_text,
	    "is not a NERP reason code", &m->reason)) != 0 ||
	    (r = get_num(c, "NERPREASL", 3, 0, OFTP2_TEXT_MAX, &n)) != 0)
		return r;
	if (c->rd.len < 135 + n)
		return len_error(c, 135 + (size_t)n);
	if ((r = get_text(c, "NERPREAST", (size_t)n, &m->text)) != 0)
		return r;
	return get_hash_sig(c, "NERPHSHL", "NERPHSH", "NERPSIGL", "NERPSIG",
	    135 + (size_t)n, &m->hash, &m->sig);
}

static int
parse_auch(struct px *c, struct oftp2_auch *m)
{
	uint16_t n;
	int r;

	if (c->rd.len < 3)
		return len_error(c, 3);
	if ((r = get_u16(c, "AUCHCHLL", &n)) != 0)
		return r;
	if (n == 0)
		return oftp2_err_set(c->err, SP_ERR_PROTOCOL,
		    OFTP2_ESID_INVALID_DATA, c->cmd, "AUCHCHLL", 1,
		    "challenge length is 0");
	if (c->rd.len != 3 + (size_t)n)
		return len_error(c, 3 + (size_t)n);
	if ((r = get_bin(c, "AUCHCHAL", n, &m->challenge)) != 0)
		return r;
	if (m->challenge.ptr[0] != 0x30)
		return oftp2_err_set(c->err, SP_ERR_PROTOCOL,
		    OFTP2_ESID_INVALID_DATA, c->cmd, "AUCHCHAL", 3,
		    "does not start with a DER SEQUENCE (0x30)");
	return 0;
}

static int
parse_body(struct px *c, struct oftp2_cmd *cmd)
{
	int r;

	switch (cmd->code) {
	case OFTP2_SSRM:
		return parse_ssrm(c, &cmd->u.ssrm);
	case OFTP2_SSID:
		return parse_ssid(c, &cmd->u.ssid);
	case OFTP2_SFID:
		return parse_sfid(c, &cmd->u.sfid);
	case OFTP2_SFPA:
		if ((r = fixed_len(c, 18)) != 0)
			return r;
		return get_num(c, "SFPAACNT", 17, 0, UINT64_MAX,
		    &cmd->u.sfpa.acnt);
	case OFTP2_SFNA:
		return parse_sfna(c, &cmd->u.sfna);
	case OFTP2_DATA:
		/* Subrecords need the session's compression flag:
		 * oftp2_data_check() does them. */
		return get_bin(c, "DATABUF", sp_rd_left(&c->rd),
		    &cmd->u.data.buf);
	case OFTP2_CDT:
		if (c->rd.len == 1 && (c->tol & OFTP2_TOL_BARE_CDT)) {
			note_dev(c, OFTP2_TOL_BARE_CDT, "CDTRSV1");
			cmd->u.cdt.bare = true;
			return 0;
		}
		if ((r = fixed_len(c, 3)) != 0)
			return r;
		return get_rsv(c, "CDTRSV1", 2);
	case OFTP2_EFID:
		if ((r = fixed_len(c, 35)) != 0 ||
		    (r = get_num(c, "EFIDRCNT", 17, 0, UINT64_MAX,
		    &cmd->u.efid.rcnt)) != 0)
			return r;
		return get_num(c, "EFIDUCNT", 17, 0, UINT64_MAX,
		    &cmd->u.efid.ucnt);
	case OFTP2_EFPA:
		if ((r = fixed_len(c, 2)) != 0)
			return r;
		return get_yn(c, "EFPACD", &cmd->u.efpa.cd);
	case OFTP2_EFNA:
		return parse_efna(c, &cmd->u.efna);
	case OFTP2_ESID:
		return parse_esid(c, &cmd->u.esid);
	case OFTP2_EERP:
		return parse_eerp(c, &cmd->u.eerp);
	case OFTP2_NERP:
		return parse_nerp(c, &cmd->u.nerp);
	case OFTP2_AUCH:
		return parse_auch(c, &cmd->u.auch);
	case OFTP2_AURP:
		if ((r = fixed_len(c, 1 + OFTP2_AURP_LEN)) != 0)
			return r;
		return sp_rd_copy(&c->rd, cmd->u.aurp.response,
		    OFTP2_AURP_LEN) == 0 ? 0 : len_error(c, 21);
	case OFTP2_SECD:
	case OFTP2_CD:
	case OFTP2_RTR:
		return fixed_len(c, 1);
	}
	return SP_ERR_INVALID;
}

int
oftp2_parse(const uint8_t *oeb, size_t len, unsigned tol,
    struct oftp2_cmd *cmd, struct oftp2_err *err)
{
	return oftp2_parse_dev(oeb, len, tol, cmd, err, NULL);
}

int
oftp2_parse_dev(const uint8_t *oeb, size_t len, unsigned tol,
    struct oftp2_cmd *cmd, struct oftp2_err *err, struct oftp2_dev *dev)
{
	struct oftp2_dev none;
	struct px c;
	uint8_t code;

	memset(cmd, 0, sizeof(*cmd));
	if (dev == NULL)
		dev = &none;
	memset(dev, 0, sizeof(*dev));
	sp_rd_init(&c.rd, oeb, len);
	c.tol = tol;
	c.cmd = 0;
	c.err = err;
	c.dev = dev;
	if (sp_rd_u8(&c.rd, &code) != 0)
		return oftp2_err_set(err, SP_ERR_PROTOCOL,
		    OFTP2_ESID_BUFFER_SIZE, 0, NULL, 0, "empty buffer");
	if (oftp2_cmd_name(code) == NULL)
		return oftp2_err_set(err, SP_ERR_PROTOCOL,
		    OFTP2_ESID_CMD_UNKNOWN, 0, NULL, 0,
		    "command octet 0x%02x not recognised", code);
	c.cmd = code;
	cmd->code = (enum oftp2_code)code;
	return parse_body(&c, cmd);
}
