/*
 * log_line.c - text and JSON renderings of a log record (see log_line.h).
 *
 * Output is built in units (a token, one escaped character) that are either
 * written whole or not at all, so a cut line never ends inside an escape
 * sequence or a UTF-8 character. Room for the truncation marker and the
 * closing bytes is reserved up front, so a cut JSON line is still one valid
 * object.
 */
#include "config.h"

#include "core/log_line.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define JSON_TAIL ",\"truncated\":true}\n"

struct lw {
	char *p;
	size_t len;
	size_t limit; /* content may not pass this; the rest is reserve */
	int full;
};

static int
put(struct lw *w, const char *s, size_t n)
{
	if (w->full)
		return -1;
	if (n > w->limit - w->len) {
		w->full = 1;
		return -1;
	}
	memcpy(w->p + w->len, s, n);
	w->len += n;
	return 0;
}

static int
puts_(struct lw *w, const char *s)
{
	return put(w, s, strlen(s));
}

/* Writes into the reserve: only for bytes the reserve was sized for. */
static void
force(struct lw *w, const char *s)
{
	size_t n = strlen(s);

	memcpy(w->p + w->len, s, n);
	w->len += n;
}

/*
 * Length of the valid UTF-8 sequence at s (1..4), 0 if the bytes there are
 * not one (overlong, surrogate, beyond U+10FFFF, cut short).
 */
static size_t
utf8_seq(const unsigned char *s, size_t left)
{
	unsigned c = s[0];
	size_t n, i;
	unsigned long cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else
		return 0;
	if (n > left)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* Does a text value need quotes to stay one token? */
static int
text_needs_quotes(const char *s)
{
	if (*s == '\0')
		return 1;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= ' ' || *s == '"' || *s == '=' ||
		    *s == '\\' || *s == 0x7f)
			return 1;
	return 0;
}

/*
 * Text escaping: control bytes and invalid UTF-8 as \n \r \t or \xHH; in a
 * quoted value also \" and \\. Returns -1 once the line is full.
 */
static int
text_str(struct lw *w, const char *s, int quoted)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t left = strlen(s), n;
	char esc[8];

	while (left > 0) {
		n = utf8_seq(u, left);
		if (n == 1 && *u >= 0x20 && *u != 0x7f) {
			if (quoted && (*u == '"' || *u == '\\')) {
				esc[0] = '\\';
				esc[1] = (char)*u;
				if (put(w, esc, 2) != 0)
					return -1;
			} else if (put(w, (const char *)u, 1) != 0)
				return -1;
		} else if (n > 1) {
			if (put(w, (const char *)u, n) != 0)
				return -1;
		} else {
			n = 1;
			if (*u == '\n')
				strcpy(esc, "\\n");
			else if (*u == '\r')
				strcpy(esc, "\\r");
			else if (*u == '\t')
				strcpy(esc, "\\t");
			else
				snprintf(esc, sizeof(esc), "\\x%02x", *u);
			if (puts_(w, esc) != 0)
				return -1;
		}
		u += n;
		left -= n;
	}
	return 0;
}

static int
text_value(struct lw *w, const char *v)
{
	if (v == NULL)
		v = "";
	if (!text_needs_quotes(v))
		return text_str(w, v, 0);
	if (put(w, "\"", 1) != 0 || text_str(w, v, 1) != 0)
		return -1;
	return put(w, "\"", 1);
}

/* Field keys come from code, but a stray character must not break parsing. */
static void
clean_key(const char *key, char *out, size_t outsz)
{
	static const char *const reserved[] = { "ts", "level", "category",
		"func", "msg", "tag", "truncated", NULL };
	size_t i, o = 0;

	if (key == NULL || *key == '\0')
		key = "_";
	for (i = 0; reserved[i] != NULL; i++)
		if (strcmp(key, reserved[i]) == 0) {
			out[o++] = 'x';
			out[o++] = '_';
			break;
		}
	for (; *key != '\0' && o + 1 < outsz; key++)
		if (*key >= 'A' && *key <= 'Z')
			out[o++] = (char)(*key - 'A' + 'a');
		else
			out[o++] = ((*key >= 'a' && *key <= 'z') ||
			    (*key >= '0' && *key <= '9') || *key == '_') ?
			    *key : '_';
	out[o] = '\0';
}

static void
format_text(const struct sp_log_record *rec, unsigned flags, struct lw *w)
{
	const struct sp_log_field *f;
	char ts[25], key[40];

	if (!(flags & SP_LOG_LINE_NO_TIME)) {
		sp_log_line_time(&rec->ts, ts);
		if (puts_(w, ts) != 0 || put(w, " ", 1) != 0)
			return;
	}
	if (puts_(w, sp_log_level_name(rec->level)) != 0 ||
	    put(w, " ", 1) != 0 ||
	    text_str(w, rec->category ? rec->category : "-", 0) != 0 ||
	    put(w, " [", 2) != 0 ||
	    text_str(w, rec->func ? rec->func : "-", 0) != 0 ||
	    put(w, "] ", 2) != 0 || text_str(w, rec->msg, 0) != 0)
		return;
	for (f = rec->fields; f != NULL && f->key != NULL; f++) {
		clean_key(f->key, key, sizeof(key));
		if (put(w, " ", 1) != 0 || puts_(w, key) != 0 ||
		    put(w, "=", 1) != 0 || text_value(w, f->value) != 0)
			return;
	}
	if (rec->tag[0] != '\0')
		if (put(w, " tag=", 5) != 0 || text_value(w, rec->tag) != 0)
			return;
}

/* A JSON string body; the caller opened the quote and closes it. */
static int
json_body(struct lw *w, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t left = s ? strlen(s) : 0, n;
	char esc[8];

	while (left > 0) {
		n = utf8_seq(u, left);
		if (n == 0) {
			n = 1;
			if (puts_(w, "\\ufffd") != 0)
				return -1;
		} else if (n > 1) {
			if (put(w, (const char *)u, n) != 0)
				return -1;
		} else if (*u == '"' || *u == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*u;
			if (put(w, esc, 2) != 0)
				return -1;
		} else if (*u < 0x20 || *u == 0x7f) {
			if (*u == '\n')
				strcpy(esc, "\\n");
			else if (*u == '\r')
				strcpy(esc, "\\r");
			else if (*u == '\t')
				strcpy(esc, "\\t");
			else
				snprintf(esc, sizeof(esc), "\\u%04x", *u);
			if (puts_(w, esc) != 0)
				return -1;
		} else if (put(w, (const char *)u, 1) != 0)
			return -1;
		u += n;
		left -= n;
	}
	return 0;
}

/*
 * One member. `,"key":"` is a single unit, so a full line never ends with a
 * dangling key; once the opening quote is out, the closing one comes from
 * the reserve.
 */
static int
json_member(struct lw *w, const char *key, const char *value, int first)
{
	char head[64];
	int r;

	snprintf(head, sizeof(head), "%s\"%s\":\"", first ? "" : ",", key);
	if (puts_(w, head) != 0)
		return -1;
	r = json_body(w, value);
	force(w, "\"");
	return r;
}

static void
format_json(const struct sp_log_record *rec, struct lw *w)
{
	const struct sp_log_field *f;
	char ts[25], key[40];

	sp_log_line_time(&rec->ts, ts);
	if (put(w, "{", 1) != 0 ||
	    json_member(w, "ts", ts, 1) != 0 ||
	    json_member(w, "level", sp_log_level_name(rec->level), 0) != 0 ||
	    json_member(w, "category", rec->category ? rec->category : "-", 0) != 0 ||
	    json_member(w, "func", rec->func ? rec->func : "-", 0) != 0 ||
	    json_member(w, "msg", rec->msg, 0) != 0)
		return;
	for (f = rec->fields; f != NULL && f->key != NULL; f++) {
		clean_key(f->key, key, sizeof(key));
		if (json_member(w, key, f->value ? f->value : "", 0) != 0)
			return;
	}
	if (rec->tag[0] != '\0')
		(void)json_member(w, "tag", rec->tag, 0);
}

size_t
sp_log_line_format(const struct sp_log_record *rec, int format,
    unsigned flags, char *out, size_t outsz)
{
	struct lw w;

	w.p = out;
	w.len = 0;
	w.full = 0;
	if (format == SP_LOG_FORMAT_JSON) {
		/* closing quote + tail + NUL */
		w.limit = outsz - (1 + strlen(JSON_TAIL) + 1);
		format_json(rec, &w);
		force(&w, w.full ? JSON_TAIL : "}\n");
	} else {
		w.limit = outsz - (strlen(SP_LOG_TRUNC_MARK) + 2);
		format_text(rec, flags, &w);
		if (w.full)
			force(&w, SP_LOG_TRUNC_MARK);
		force(&w, "\n");
	}
	out[w.len] = '\0';
	return w.len;
}

void
sp_log_line_time(const struct timespec *ts, char out[25])
{
	struct tm tm;
	time_t t = ts->tv_sec;
	long ms = ts->tv_nsec / 1000000;
	char tmp[96];

	if (ms < 0 || ms > 999)
		ms = 0;
	if (gmtime_r(&t, &tm) == NULL || tm.tm_year < -1900 ||
	    tm.tm_year > 9999 - 1900) {
		strcpy(out, "0000-00-00T00:00:00.000Z");
		return;
	}
	/* Range checked above; the wide buffer keeps -Wformat-truncation calm. */
	snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, ms);
	memcpy(out, tmp, 24);
	out[24] = '\0';
}
