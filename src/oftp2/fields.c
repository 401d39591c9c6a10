/* oftp2/fields.c - OFTP2 field rules and error texts; see fields.h. */
#include "oftp2/fields.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int
oftp2_err_set(struct oftp2_err *err, int rc, uint8_t esid, uint8_t cmd,
    const char *field, size_t off, const char *fmt, ...)
{
	const char *name;
	va_list ap;
	int n;

	if (err == NULL)
		return rc;
	memset(err, 0, sizeof(*err));
	err->esid = esid;
	err->cmd = cmd;
	err->field = field;
	err->offset = off;
	if ((name = oftp2_cmd_name(cmd)) == NULL)
		name = field != NULL && strcmp(field, "STH") == 0 ? NULL : "OEB";
	if (name != NULL && field != NULL)
		n = snprintf(err->text, sizeof(err->text), "%s.%s: ", name, field);
	else
		n = snprintf(err->text, sizeof(err->text), "%s: ",
		    name != NULL ? name : field);
	if (n < 0 || (size_t)n >= sizeof(err->text))
		return rc;
	va_start(ap, fmt);
	vsnprintf(err->text + n, sizeof(err->text) - (size_t)n, fmt, ap);
	va_end(ap);
	return rc;
}

void
oftp2_quote(char *dst, size_t cap, const uint8_t *p, size_t n)
{
	size_t o = 0, i;
	char esc[5];
	size_t el;

	/* Room kept for the closing quote, "..." and the NUL. */
	dst[o++] = '"';
	for (i = 0; i < n; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' && p[i] != '\\') {
			esc[0] = (char)p[i];
			el = 1;
		} else {
			snprintf(esc, sizeof(esc), "\\x%02x", p[i]);
			el = 4;
		}
		if (o + el + 5 > cap) {
			memcpy(dst + o, "\"...", 4);
			dst[o + 4] = '\0';
			return;
		}
		memcpy(dst + o, esc, el);
		o += el;
	}
	dst[o++] = '"';
	dst[o] = '\0';
}

/* The X character set of ref §2 / App. B, widened by tolerances. */
static bool
x_char_ok(uint8_t c, unsigned tol)
{
	if ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || c == ' ' ||
	    c == '/' || c == '-' || c == '.' || c == '&' || c == '(' || c == ')')
		return true;
	if ((tol & (OFTP2_TOL_LOWERCASE | OFTP2_TOL_X_CHARSET)) &&
	    c >= 'a' && c <= 'z')
		return true;
	return (tol & OFTP2_TOL_X_CHARSET) && c >= 0x21 && c <= 0x7e;
}

/* SIOORG: A-Z, 0-9, space and hyphen (ref §2.1). */
static bool
sio_org_char_ok(uint8_t c, unsigned tol)
{
	if ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || c == ' ' ||
	    c == '-')
		return true;
	if ((tol & (OFTP2_TOL_LOWERCASE | OFTP2_TOL_X_CHARSET)) &&
	    c >= 'a' && c <= 'z')
		return true;
	return false;
}

const char *
oftp2_x_problem(const uint8_t *p, size_t n, unsigned kind, unsigned tol)
{
	size_t i, used = n;

	for (i = 0; i < n; i++)
		if (!x_char_ok(p[i], tol))
			return "has a character outside the OFTP X set";
	while (used > 0 && p[used - 1] == ' ')
		used--;
	if (used == 0)
		return (kind & OFTP2_X_REQUIRED) ? "is empty" : NULL;
	if (p[0] == ' ')
		return "is not left-justified";
	if ((kind & ~OFTP2_X_REQUIRED) == OFTP2_X_SIO) {
		/* ODETTE codes: O + 4-digit ICD + organisation; other schemes
		 * have no structure we know, only the character set. */
		if (p[0] != 'O' || n < 19)
			return NULL;
		for (i = 1; i < 5; i++)
			if (p[i] < '0' || p[i] > '9')
				return "has a non-numeric ICD (octets 2-5)";
		for (i = 5; i < 19; i++)
			if (!sio_org_char_ok(p[i], tol))
				return "has an invalid organisation code "
				    "character (octets 6-19)";
		return NULL;
	}
	for (i = 0; i < used; i++)
		if (p[i] == ' ')
			return "has an embedded space";
	return NULL;
}

const char *
oftp2_num_problem(const uint8_t *p, size_t n, unsigned tol, uint64_t *v)
{
	size_t b = 0, e = n, i;
	uint64_t x = 0;

	if (tol & OFTP2_TOL_NUMERIC_SPACES) {
		while (b < e && p[b] == ' ')
			b++;
		while (e > b && p[e - 1] == ' ')
			e--;
	}
	for (i = b; i < e; i++) {
		if (p[i] < '0' || p[i] > '9')
			return "is not numeric";
		x = x * 10 + (uint64_t)(p[i] - '0');
	}
	*v = x;
	return NULL;
}

const char *
oftp2_utf8_problem(const uint8_t *p, size_t n, size_t *bad)
{
	size_t i = 0, k, need;
	uint32_t cp, min;

	while (i < n) {
		uint8_t c = p[i];

		*bad = i;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1; cp = c & 0x1f; min = 0x80;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2; cp = c & 0x0f; min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3; cp = c & 0x07; min = 0x10000;
		} else
			return "is not valid UTF-8";
		if (need > n - i - 1)
			return "ends inside a UTF-8 sequence";
		for (k = 1; k <= need; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return "is not valid UTF-8";
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if (cp < min)
			return "has an overlong UTF-8 sequence";
		if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return "has an invalid UTF-8 code point";
		i += need + 1;
	}
	return NULL;
}

const char *
oftp2_date_problem(uint64_t date)
{
	static const uint8_t mdays[12] =
	    { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	uint64_t y = date / 10000, m = date / 100 % 100, d = date % 100;
	bool leap;

	if (date > 99999999 || y == 0 || m < 1 || m > 12 || d < 1)
		return "is not a CCYYMMDD date";
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (d > mdays[m - 1] || (m == 2 && d == 29 && !leap))
		return "is not a calendar date";
	return NULL;
}

const char *
oftp2_time_problem(uint64_t time, unsigned tol)
{
	uint64_t hms = time / 10000, cnt = time % 10000;

	if (hms / 10000 > 23 || hms / 100 % 100 > 59 || hms % 100 > 59)
		return "is not an HHMMSScccc time";
	if (cnt == 0 && !(tol & OFTP2_TOL_TIME_COUNTER0))
		return "has counter 0000 (must be 0001-9999)";
	return NULL;
}
