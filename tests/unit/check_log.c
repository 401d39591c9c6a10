/*
 * check_log.c - logging: exact text and JSON lines, level and target
 * filtering, daily files rolling with an injected clock, several processes
 * appending to one file, the filter and sink hooks, the line length bound and
 * surviving an unwritable directory.
 */
#include "config.h"

#include "core/err.h"
#include "core/log.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static struct timespec fake_now;
static char dir[64];

static void
fake_clock(struct timespec *ts)
{
	*ts = fake_now;
}

/* Set the fake clock to a UTC date and time. */
static void
set_now(int y, int mo, int d, int h, int mi, int s, long ms)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	fake_now.tv_sec = timegm(&tm);
	fake_now.tv_nsec = ms * 1000000;
}

static void
setup(void)
{
	strcpy(dir, "/tmp/check_log_XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	set_now(2026, 11, 25, 3, 4, 5, 123);
	sp_log_set_clock(fake_clock);
}

static void
teardown(void)
{
	char cmd[128];

	sp_log_reset();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Whole content of dir/name, malloc'ed; NULL if absent. */
static char *
slurp(const char *name)
{
	char path[256];
	struct stat st;
	char *buf;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	ck_assert_int_eq(fstat(fileno(f), &st), 0);
	buf = malloc((size_t)st.st_size + 1);
	ck_assert_ptr_nonnull(buf);
	n = fread(buf, 1, (size_t)st.st_size, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/*
 * Expected text with every "@" replaced by `fn`: Check wraps test bodies in
 * functions of its own naming, so tests pass __func__ rather than guess.
 */
static char *
expand(const char *tmpl, const char *fn)
{
	static char out[8192];
	size_t o = 0, n = strlen(fn);

	for (; *tmpl != '\0' && o + n + 1 < sizeof(out); tmpl++)
		if (*tmpl == '@') {
			memcpy(out + o, fn, n);
			o += n;
		} else
			out[o++] = *tmpl;
	out[o] = '\0';
	return out;
}

static size_t
count_lines(const char *s)
{
	size_t n = 0;

	for (; s != NULL && *s != '\0'; s++)
		if (*s == '\n')
			n++;
	return n;
}

static struct sp_log_target_conf
file_target(const char *prefix, int level, int format)
{
	struct sp_log_target_conf t;

	memset(&t, 0, sizeof(t));
	t.type = SP_LOG_TARGET_FILE;
	t.dir = dir;
	t.prefix = (char *)prefix;
	t.level = level;
	t.format = format;
	return t;
}

static void
configure(struct sp_log_target_conf *t, size_t n, int level, int format)
{
	struct sp_log_conf c;

	c.level = level;
	c.format = format;
	c.targets = t;
	c.ntargets = n;
	ck_assert_int_eq(sp_log_configure(&c), SP_OK);
}

START_TEST(text_line)
{
	struct sp_log_target_conf t = file_target("sp", SP_LOG_INHERIT,
	    SP_LOG_INHERIT);
	char *s;

	configure(&t, 1, SP_LOG_INFO, SP_LOG_FORMAT_TEXT);
	sp_logkv(SP_LOG_WARN, "partner",
	    SP_LOG_KV({ "session", "42" }, { "peer", "192.0.2.7:6619" },
	    { "partner", "O0013ACME 1" }, { "note", "" }, { "Bad-Key", "x=y" }),
	    "bad password for %s", "ACME");
	sp_log(SP_LOG_INFO, "core", "two\nlines\tand \x01 \xff ok");
	sp_log(SP_LOG_DEBUG, "core", "not written: below INFO");
	s = slurp("sp-2026-11-25.log");
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, expand(
	    "2026-11-25T03:04:05.123Z WARN partner [@] bad password "
	    "for ACME session=42 peer=192.0.2.7:6619 partner=\"O0013ACME 1\" "
	    "note=\"\" bad_key=\"x=y\"\n"
	    "2026-11-25T03:04:05.123Z INFO core [@] two\\nlines\\tand "
	    "\\x01 \\xff ok\n", __func__));
	free(s);
}
END_TEST

START_TEST(json_line)
{
	struct sp_log_target_conf t = file_target("sp", SP_LOG_INHERIT,
	    SP_LOG_INHERIT);
	struct json_object *o, *v;
	char *s, *nl;

	configure(&t, 1, SP_LOG_DEBUG, SP_LOG_FORMAT_JSON);
	sp_logkv(SP_LOG_NOTICE, "oftp2",
	    SP_LOG_KV({ "session", "7" }, { "msg", "clash" },
	    { "peer", "a\"b\\c\n" }),
	    "SSID from %s \xc3\xa9 \xe2\x82 end", "O0013");
	s = slurp("sp-2026-11-25.log");
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, expand(
	    "{\"ts\":\"2026-11-25T03:04:05.123Z\",\"level\":\"NOTICE\","
	    "\"category\":\"oftp2\",\"func\":\"@\","
	    "\"msg\":\"SSID from O0013 \xc3\xa9 \\ufffd\\ufffd end\","
	    "\"session\":\"7\",\"x_msg\":\"clash\",\"peer\":\"a\\\"b\\\\c\\n\"}\n",
	    __func__));
	nl = strchr(s, '\n');
	*nl = '\0';
	ck_assert_ptr_nonnull(o = json_tokener_parse(s));
	ck_assert(json_object_object_get_ex(o, "peer", &v));
	ck_assert_str_eq(json_object_get_string(v), "a\"b\\c\n");
	json_object_put(o);
	free(s);
}
END_TEST

START_TEST(levels_and_targets)
{
	struct sp_log_target_conf t[2] = {
		file_target("all", SP_LOG_DEBUG, SP_LOG_FORMAT_JSON),
		file_target("warn", SP_LOG_WARN, SP_LOG_INHERIT),
	};
	char *a, *w;
	int l;

	configure(t, 2, SP_LOG_INFO, SP_LOG_FORMAT_TEXT);
	ck_assert(sp_log_enabled(SP_LOG_DEBUG));
	for (l = SP_LOG_DEBUG; l <= SP_LOG_CRIT; l++)
		sp_log(l, "core", "level %d", l);
	a = slurp("all-2026-11-25.log");
	w = slurp("warn-2026-11-25.log");
	ck_assert_uint_eq(count_lines(a), 6);
	ck_assert_uint_eq(count_lines(w), 3);
	ck_assert_ptr_nonnull(strstr(a, "{\"ts\":"));
	ck_assert_ptr_nonnull(strstr(w, expand(" WARN core [@] level 3\n",
	    __func__)));
	ck_assert_ptr_nonnull(strstr(w, " ERR core "));
	ck_assert_ptr_nonnull(strstr(w, " CRIT core "));
	ck_assert_ptr_null(strstr(w, "NOTICE"));
	free(a);
	free(w);

	/* nothing below INFO when that is the lowest target level */
	t[0].level = SP_LOG_INHERIT;
	configure(t, 2, SP_LOG_INFO, SP_LOG_FORMAT_TEXT);
	ck_assert(!sp_log_enabled(SP_LOG_DEBUG));
	ck_assert(sp_log_enabled(SP_LOG_INFO));
	ck_assert_int_eq(sp_log_configure(&(struct sp_log_conf){ .level = 9 }),
	    SP_ERR_INVALID);
}
END_TEST

START_TEST(daily_roll)
{
	struct sp_log_target_conf t = file_target("smartproxy-server",
	    SP_LOG_INHERIT, SP_LOG_INHERIT);
	struct stat st;
	char path[256], *d1, *d2;

	set_now(2026, 11, 25, 23, 59, 59, 900);
	configure(&t, 1, SP_LOG_INFO, SP_LOG_FORMAT_TEXT);
	sp_log(SP_LOG_INFO, "core", "last of the day");
	set_now(2026, 11, 26, 0, 0, 0, 5);
	sp_log(SP_LOG_INFO, "core", "first of the next");
	sp_log(SP_LOG_INFO, "core", "second of the next");
	d1 = slurp("smartproxy-server-2026-11-25.log");
	d2 = slurp("smartproxy-server-2026-11-26.log");
	ck_assert_str_eq(d1, expand("2026-11-25T23:59:59.900Z INFO core [@] "
	    "last of the day\n", __func__));
	ck_assert_str_eq(d2, expand("2026-11-26T00:00:00.005Z INFO core [@] "
	    "first of the next\n2026-11-26T00:00:00.005Z INFO core "
	    "[@] second of the next\n", __func__));
	snprintf(path, sizeof(path), "%s/smartproxy-server-2026-11-26.log", dir);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0077 & ~0040, 0); /* 0640 at most */
	free(d1);
	free(d2);
}
END_TEST

/* Target of dir/name as a symbolic link ("" if it is none). */
static const char *
link_of(const char *name)
{
	static char target[256];
	char path[256];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	n = readlink(path, target, sizeof(target) - 1);
	target[n < 0 ? 0 : n] = '\0';
	return target;
}

static void
touch(const char *name)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT, 0640);
	ck_assert_int_ge(fd, 0);
	close(fd);
}

static int
exists(const char *name)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return lstat(path, &st) == 0;
}

/* A reader of the fixed name (fail2ban, tail -F) follows the daily roll. */
START_TEST(current_link_follows_roll)
{
	struct sp_log_target_conf t = file_target("srv", SP_LOG_INHERIT,
	    SP_LOG_INHERIT);
	char *cur;

	set_now(2026, 11, 25, 23, 59, 59, 0);
	configure(&t, 1, SP_LOG_INFO, SP_LOG_FORMAT_TEXT);
	ck_assert_str_eq(link_of("srv.log"), "srv-2026-11-25.log");
	set_now(2026, 11, 26, 0, 0, 1, 0);
	sp_log(SP_LOG_INFO, "core", "new day");
	ck_assert_str_eq(link_of("srv.log"), "srv-2026-11-26.log");
	cur = slurp("srv.log");
	ck_assert_ptr_nonnull(strstr(cur, "new day"));
	ck_assert_int_eq(exists("srv.log.new"), 0);
	free(cur);
}
END_TEST

/*
 * SIGHUP after logrotate: the day's file was moved away; sp_log_reopen()
 * makes a new one of that name, the link points at it, the moved file keeps
 * what was written before and gets nothing more, and the descriptor number
 * is the old one (dup3), so no other thread can write to a reused number.
 */
START_TEST(reopen_after_move)
{
	struct sp_log_target_conf t = file_target("srv", SP_LOG_INHERIT,
	    SP_LOG_INHERIT);
	char from[256], to[256], *old, *cur;

	configure(&t, 1, SP_LOG_INFO, SP_LOG_FORMAT_TEXT);
	sp_log(SP_LOG_INFO, "core", "before the move");
	snprintf(from, sizeof(from), "%s/srv-2026-11-25.log", dir);
	snprintf(to, sizeof(to), "%s/rotated.1", dir);
	ck_assert_int_eq(rename(from, to), 0);
	sp_log(SP_LOG_INFO, "core", "still into the moved file");
	ck_assert_int_eq(exists("srv-2026-11-25.log"), 0);
	ck_assert_int_eq(sp_log_reopen(), 1);
	sp_log(SP_LOG_INFO, "core", "after the reopen");
	old = slurp("rotated.1");
	cur = slurp("srv-2026-11-25.log");
	ck_assert_ptr_nonnull(old);
	ck_assert_ptr_nonnull(cur);
	ck_assert_ptr_nonnull(strstr(old, "before the move"));
	ck_assert_ptr_nonnull(strstr(old, "still into the moved file"));
	ck_assert_ptr_null(strstr(old, "after the reopen"));
	ck_assert_int_eq((int)count_lines(cur), 1);
	ck_assert_ptr_nonnull(strstr(cur, "after the reopen"));
	ck_assert_str_eq(link_of("srv.log"), "srv-2026-11-25.log");
	free(old);
	free(cur);
	/* nothing to reopen: no file target */
	sp_log_reset();
	ck_assert_int_eq(sp_log_reopen(), 0);
}
END_TEST

/* An operator's regular file of that name is never replaced. */
START_TEST(current_link_spares_regular_file)
{
	struct sp_log_target_conf t = file_target("srv", SP_LOG_INHERIT,
	    SP_LOG_INHERIT);
	char *kept;

	touch("srv.log");
	configure(&t, 1, SP_LOG_INFO, SP_LOG_FORMAT_TEXT);
	sp_log(SP_LOG_INFO, "core", "line");
	ck_assert_str_eq(link_of("srv.log"), "");
	kept = slurp("srv.log");
	ck_assert_str_eq(kept, "");
	free(kept);
}
END_TEST

/* keep_days: older daily files of this prefix go at the roll, nothing else. */
START_TEST(retention_removes_old_days)
{
	struct sp_log_target_conf t = file_target("srv", SP_LOG_INHERIT,
	    SP_LOG_INHERIT);

	t.keep_days = 3;
	touch("srv-2026-11-20.log");       /* older than 3 days: removed */
	touch("srv-2026-11-22.log");       /* the cutoff day itself: kept */
	touch("srv-2026-11-21.log");       /* removed */
	touch("other-2026-11-01.log");     /* another prefix */
	touch("srv-2026-11-01.log.gz");    /* not a daily file of ours */
	touch("srv-extra-2026-11-01.log"); /* not a date after the prefix */
	set_now(2026, 11, 25, 12, 0, 0, 0);
	configure(&t, 1, SP_LOG_INFO, SP_LOG_FORMAT_TEXT);
	ck_assert_int_eq(exists("srv-2026-11-20.log"), 0);
	ck_assert_int_eq(exists("srv-2026-11-21.log"), 0);
	ck_assert_int_eq(exists("srv-2026-11-22.log"), 1);
	ck_assert_int_eq(exists("srv-2026-11-25.log"), 1);
	ck_assert_int_eq(exists("other-2026-11-01.log"), 1);
	ck_assert_int_eq(exists("srv-2026-11-01.log.gz"), 1);
	ck_assert_int_eq(exists("srv-extra-2026-11-01.log"), 1);
	/* The next roll moves the cutoff on by a day. */
	set_now(2026, 11, 26, 0, 0, 0, 0);
	sp_log(SP_LOG_INFO, "core", "roll");
	ck_assert_int_eq(exists("srv-2026-11-22.log"), 0);
	ck_assert_int_eq(exists("srv-2026-11-25.log"), 1);
}
END_TEST

/* keep_days 0 (the default) keeps every day. */
START_TEST(retention_off_keeps_all)
{
	struct sp_log_target_conf t = file_target("srv", SP_LOG_INHERIT,
	    SP_LOG_INHERIT);

	touch("srv-2001-01-01.log");
	configure(&t, 1, SP_LOG_INFO, SP_LOG_FORMAT_TEXT);
	ck_assert_int_eq(exists("srv-2001-01-01.log"), 1);
}
END_TEST

#define WRITERS 4
#define LINES_EACH 400

START_TEST(several_writers)
{
	struct sp_log_target_conf t = file_target("shared", SP_LOG_INHERIT,
	    SP_LOG_INHERIT);
	static const char head[] =
	    "2026-11-25T03:04:05.123Z INFO core [@] w";
	char head_fn[128];
	size_t hl;
	char big[1500], *s, *line, *save;
	pid_t pids[WRITERS];
	int i, j, status, per[WRITERS] = { 0 };
	size_t n = 0;

	snprintf(head_fn, sizeof(head_fn), "%s", expand(head, __func__));
	hl = strlen(head_fn);
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	for (i = 0; i < WRITERS; i++) {
		ck_assert_int_ge(pids[i] = fork(), 0);
		if (pids[i] == 0) {
			/* its own process, its own open of the same file */
			configure(&t, 1, SP_LOG_INFO, SP_LOG_FORMAT_TEXT);
			for (j = 0; j < LINES_EACH; j++)
				sp_log(SP_LOG_INFO, "core", "w%d %s end", i, big);
			_exit(0);
		}
	}
	for (i = 0; i < WRITERS; i++) {
		ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	s = slurp("shared-2026-11-25.log");
	ck_assert_ptr_nonnull(s);
	for (line = strtok_r(s, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		/* every line whole: its own prefix, the payload, its end */
		ck_assert_int_eq(strncmp(line, head_fn, hl), 0);
		i = line[hl] - '0';
		ck_assert(i >= 0 && i < WRITERS);
		ck_assert_int_eq(line[hl + 1], ' ');
		ck_assert_int_eq(strncmp(line + hl + 2, big, sizeof(big) - 1), 0);
		ck_assert_str_eq(line + hl + 2 + sizeof(big) - 1, " end");
		per[i]++;
		n++;
	}
	ck_assert_uint_eq(n, WRITERS * LINES_EACH);
	for (i = 0; i < WRITERS; i++)
		ck_assert_int_eq(per[i], LINES_EACH);
	free(s);
}
END_TEST

static int sink_calls;
static int filter_calls;

/* The log-ignore module's shape: lower known noise and tag it. */
static void
ignore_filter(struct sp_log_record *rec, void *arg)
{
	filter_calls++;
	if (strstr(rec->msg, "noisy") != NULL) {
		rec->level = SP_LOG_INFO;
		sp_log_record_set_tag(rec, (const char *)arg);
	}
	if (strstr(rec->msg, "raise") != NULL) {
		rec->level = SP_LOG_CRIT; /* ignored: filters only lower */
		rec->escalate = 1;        /* ignored: filters only clear */
	}
	if (strstr(rec->msg, "quiet") != NULL)
		rec->escalate = 0;        /* still CRIT, but no event */
}

/* A filter that logs must not recurse. */
static void
chatty_filter(struct sp_log_record *rec, void *arg)
{
	sp_log(SP_LOG_WARN, "module", "filter saw: %s", rec->msg);
}

static void
crit_sink(const struct sp_log_record *rec, void *arg)
{
	sink_calls++;
	ck_assert_int_eq(rec->level, SP_LOG_CRIT);
	sp_log(SP_LOG_CRIT, "module", "sink saw: %s", rec->msg);
}

START_TEST(filter_and_sink)
{
	struct sp_log_target_conf t[2] = {
		file_target("info", SP_LOG_INHERIT, SP_LOG_INHERIT),
		file_target("warn", SP_LOG_WARN, SP_LOG_FORMAT_JSON),
	};
	char *i, *w;

	configure(t, 2, SP_LOG_INFO, SP_LOG_FORMAT_TEXT);
	ck_assert_int_eq(sp_log_filter_add(ignore_filter, "rule-7"), SP_OK);
	ck_assert_int_eq(sp_log_sink_add(crit_sink, NULL), SP_OK);
	sp_logkv(SP_LOG_WARN, "tls", SP_LOG_KV({ "peer", "192.0.2.1:1" }),
	    "noisy handshake failure");
	sp_log(SP_LOG_INFO, "tls", "info: filters not asked");
	sp_log(SP_LOG_ERR, "tls", "please raise");
	sp_log(SP_LOG_CRIT, "core", "noisy crit");  /* lowered: no sink */
	sp_log(SP_LOG_CRIT, "core", "quiet crit");  /* not escalated: no sink */
	sp_log(SP_LOG_CRIT, "core", "real crit");
	ck_assert_int_eq(filter_calls, 5);
	ck_assert_int_eq(sink_calls, 1);
	i = slurp("info-2026-11-25.log");
	w = slurp("warn-2026-11-25.log");
	ck_assert_str_eq(i, expand(
	    "2026-11-25T03:04:05.123Z INFO tls [@] noisy "
	    "handshake failure peer=192.0.2.1:1 tag=rule-7\n"
	    "2026-11-25T03:04:05.123Z INFO tls [@] info: "
	    "filters not asked\n"
	    "2026-11-25T03:04:05.123Z ERR tls [@] please raise\n"
	    "2026-11-25T03:04:05.123Z INFO core [@] noisy crit "
	    "tag=rule-7\n"
	    "2026-11-25T03:04:05.123Z CRIT core [@] quiet crit\n"
	    "2026-11-25T03:04:05.123Z CRIT module [crit_sink] sink saw: real "
	    "crit\n"
	    "2026-11-25T03:04:05.123Z CRIT core [@] real crit\n", __func__));
	/* the WARN-level target never saw the lowered records */
	ck_assert_uint_eq(count_lines(w), 4);
	ck_assert_ptr_null(strstr(w, "noisy"));
	free(i);
	free(w);

	/* a filter that logs: its line is written once, unfiltered */
	ck_assert_int_eq(sp_log_filter_remove(ignore_filter, "rule-7"), SP_OK);
	ck_assert_int_eq(sp_log_filter_remove(ignore_filter, "rule-7"),
	    SP_ERR_NOT_FOUND);
	ck_assert_int_eq(sp_log_filter_add(chatty_filter, NULL), SP_OK);
	sp_log(SP_LOG_WARN, "core", "once");
	w = slurp("warn-2026-11-25.log");
	ck_assert_uint_eq(count_lines(w), 6);
	ck_assert_ptr_nonnull(strstr(w, "\"msg\":\"filter saw: once\""));
	free(w);
}
END_TEST

START_TEST(hooks_bounded)
{
	int k;

	for (k = 0; k < SP_LOG_HOOKS_MAX; k++)
		ck_assert_int_eq(sp_log_filter_add(chatty_filter,
		    (void *)(intptr_t)(k + 1)), SP_OK);
	ck_assert_int_eq(sp_log_filter_add(chatty_filter, NULL), SP_ERR_LIMIT);
}
END_TEST

START_TEST(line_bound)
{
	struct sp_log_target_conf t[2] = {
		file_target("text", SP_LOG_INHERIT, SP_LOG_FORMAT_TEXT),
		file_target("json", SP_LOG_INHERIT, SP_LOG_FORMAT_JSON),
	};
	char huge[10000], v[1500];
	char *s, *line, *save;
	struct json_object *o, *m;
	size_t len;
	int n = 0;

	configure(t, 2, SP_LOG_INFO, SP_LOG_FORMAT_TEXT);
	memset(huge, 'm', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = '\0';
	memset(v, '\n', sizeof(v) - 1);  /* escapes to 2 or 6 bytes each */
	v[sizeof(v) - 1] = '\0';
	/* message alone: cut to SP_LOG_MSG_MAX with the marker */
	sp_log(SP_LOG_INFO, "core", "%s", huge);
	/* fields: cut at the line bound */
	sp_logkv(SP_LOG_INFO, "core", SP_LOG_KV({ "a", v }, { "b", v },
	    { "c", v }), "short");

	s = slurp("text-2026-11-25.log");
	line = strtok_r(s, "\n", &save);
	len = strlen(line);
	ck_assert_uint_eq(len, strlen(expand("2026-11-25T03:04:05.123Z INFO "
	    "core [@] ", __func__)) + SP_LOG_MSG_MAX - 1);
	ck_assert_str_eq(line + len - strlen(SP_LOG_TRUNC_MARK) - 1,
	    "m" SP_LOG_TRUNC_MARK);
	line = strtok_r(NULL, "\n", &save);
	ck_assert_uint_le(strlen(line) + 1, SP_LOG_LINE_MAX);
	ck_assert_uint_ge(strlen(line) + 1, SP_LOG_LINE_MAX - 2);
	ck_assert_str_eq(line + strlen(line) - strlen(SP_LOG_TRUNC_MARK),
	    SP_LOG_TRUNC_MARK);
	ck_assert_ptr_null(strtok_r(NULL, "\n", &save));
	free(s);

	s = slurp("json-2026-11-25.log");
	for (line = strtok_r(s, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save), n++) {
		ck_assert_uint_le(strlen(line) + 1, SP_LOG_LINE_MAX);
		ck_assert_ptr_nonnull(o = json_tokener_parse(line));
		if (n == 1) {
			ck_assert(json_object_object_get_ex(o, "truncated", &m));
			ck_assert(json_object_get_boolean(m));
			ck_assert(json_object_object_get_ex(o, "a", &m));
		} else {
			ck_assert(!json_object_object_get_ex(o, "truncated", &m));
			ck_assert(json_object_object_get_ex(o, "msg", &m));
			ck_assert_uint_eq(strlen(json_object_get_string(m)),
			    SP_LOG_MSG_MAX - 1);
		}
		json_object_put(o);
	}
	ck_assert_int_eq(n, 2);
	free(s);
}
END_TEST

/* Run with fd 2 going to a file; return what was written there. */
static char *
with_stderr(void (*fn)(void))
{
	char path[] = "/tmp/check_log_err_XXXXXX";
	int fd = mkstemp(path), saved = dup(2);
	char *buf = calloc(1, 65536);
	ssize_t n;

	ck_assert(fd >= 0 && saved >= 0 && buf != NULL);
	dup2(fd, 2);
	fn();
	dup2(saved, 2);
	close(saved);
	n = pread(fd, buf, 65535, 0);
	ck_assert_int_ge(n, 0);
	close(fd);
	unlink(path);
	return buf;
}

static char gone[128];

static void
unwritable_run(void)
{
	struct sp_log_target_conf t[2] = {
		file_target("sp", SP_LOG_INHERIT, SP_LOG_INHERIT),
		file_target("ok", SP_LOG_INHERIT, SP_LOG_INHERIT),
	};
	int k;

	t[0].dir = gone;
	configure(t, 2, SP_LOG_INFO, SP_LOG_FORMAT_TEXT);
	for (k = 0; k < 5; k++) {
		fake_now.tv_sec += 2;  /* past the retry interval */
		sp_log(SP_LOG_INFO, "core", "line %d", k);
	}
	ck_assert_int_eq(mkdir(gone, 0700), 0);
	fake_now.tv_sec += 2;
	sp_log(SP_LOG_INFO, "core", "back");
}

START_TEST(unwritable_dir)
{
	char *err, *ok, *back, want[512];

	snprintf(gone, sizeof(gone), "%s/not-yet", dir);
	err = with_stderr(unwritable_run);
	snprintf(want, sizeof(want), "smartproxy: log: cannot write "
	    "%s/sp-2026-11-25.log: No such file or directory (reported once; "
	    "retrying, other targets go on)\nsmartproxy: log: writing "
	    "%s/sp-2026-11-25.log again\n", gone, gone);
	ck_assert_str_eq(err, want);
	ok = slurp("ok-2026-11-25.log");
	ck_assert_uint_eq(count_lines(ok), 6);
	back = slurp("not-yet/sp-2026-11-25.log");
	ck_assert_ptr_nonnull(strstr(back, "] back\n"));
	ck_assert_uint_eq(count_lines(back), 1);
	free(err);
	free(ok);
	free(back);
}
END_TEST

static void
stderr_run(void)
{
	struct sp_log_target_conf t;

	memset(&t, 0, sizeof(t));
	t.type = SP_LOG_TARGET_STDERR;
	t.level = SP_LOG_INHERIT;
	t.format = SP_LOG_INHERIT;
	configure(&t, 1, SP_LOG_NOTICE, SP_LOG_FORMAT_TEXT);
	sp_log(SP_LOG_INFO, "core", "hidden");
	sp_log(SP_LOG_NOTICE, "core", "shown");
	sp_log_reset();  /* default: stderr, INFO, text */
	sp_log_set_clock(fake_clock);
	sp_log(SP_LOG_INFO, "core", "default target");
}

START_TEST(stderr_target)
{
	char *err = with_stderr(stderr_run);

	ck_assert_str_eq(err,
	    "2026-11-25T03:04:05.123Z NOTICE core [stderr_run] shown\n"
	    "2026-11-25T03:04:05.123Z INFO core [stderr_run] default target\n");
	free(err);
}
END_TEST

START_TEST(conf_checks)
{
	struct sp_log_target_conf t[2] = {
		{ .type = SP_LOG_TARGET_SYSLOG, .level = SP_LOG_INHERIT,
		  .format = SP_LOG_INHERIT },
		{ .type = SP_LOG_TARGET_SYSLOG, .level = SP_LOG_INHERIT,
		  .format = SP_LOG_INHERIT },
	};
	struct sp_log_conf c = { SP_LOG_INFO, SP_LOG_FORMAT_TEXT, t, 2 };
	int l;

	ck_assert_int_eq(sp_log_configure(&c), SP_ERR_INVALID);
	c.ntargets = 1;
	ck_assert_int_eq(sp_log_configure(&c), SP_OK);
	sp_log(SP_LOG_DEBUG, "core", "below the level: not sent to syslog");
	t[0] = file_target(NULL, SP_LOG_INHERIT, SP_LOG_INHERIT);
	ck_assert_int_eq(sp_log_configure(&c), SP_ERR_INVALID);
	t[0] = file_target("a/b", SP_LOG_INHERIT, SP_LOG_INHERIT);
	ck_assert_int_eq(sp_log_configure(&c), SP_ERR_INVALID);
	ck_assert_int_eq(sp_log_level_from_name("warn", &l), SP_OK);
	ck_assert_int_eq(l, SP_LOG_WARN);
	ck_assert_int_eq(sp_log_level_from_name("WARN", &l), SP_ERR_NOT_FOUND);
	ck_assert_str_eq(sp_log_level_name(SP_LOG_ERR), "ERR");
}
END_TEST

/* A flood of security lines from one source: the first 20 of a 10 s window
 * are written, the rest summarised in one line when the window ends. */
static size_t
count_str(const char *s, const char *needle)
{
	size_t n = 0;

	for (; s != NULL && (s = strstr(s, needle)) != NULL; s++)
		n++;
	return n;
}

START_TEST(security_burst)
{
	struct sp_log_target_conf t[1] = { file_target("sec", SP_LOG_INFO, SP_LOG_INHERIT) };
	char *a;
	int i;

	configure(t, 1, SP_LOG_INFO, SP_LOG_FORMAT_TEXT);
	for (i = 0; i < 25; i++)
		sp_logkv(SP_LOG_WARN, "security", SP_LOG_KV({ "event", "rate_limited" },
		    { "src", "192.0.2.7" }), "rate_limited from 192.0.2.7: try %d", i);
	for (i = 0; i < 3; i++)
		sp_logkv(SP_LOG_WARN, "security", SP_LOG_KV({ "event", "bad_password" },
		    { "src", "192.0.2.8" }), "bad_password from 192.0.2.8: try %d", i);
	/* Other categories and lines without a source are never held back;
	 * nor is another event of the same source (a block that starts). */
	for (i = 0; i < 30; i++)
		sp_log(SP_LOG_WARN, "session", "refused %d", i);
	sp_logkv(SP_LOG_WARN, "security", SP_LOG_KV({ "event", "rate_limited_start" },
	    { "src", "192.0.2.7" }), "block starts");
	a = slurp("sec-2026-11-25.log");
	ck_assert_uint_eq(count_str(a, "rate_limited from 192.0.2.7: try"), 20);
	ck_assert_ptr_nonnull(strstr(a, "try 19 event=rate_limited"));
	ck_assert_ptr_null(strstr(a, "try 20 "));
	ck_assert_uint_eq(count_str(a, "bad_password from 192.0.2.8"), 3);
	ck_assert_uint_eq(count_str(a, "WARN session"), 30);
	ck_assert_ptr_nonnull(strstr(a, "block starts"));
	ck_assert_ptr_null(strstr(a, "more from"));
	free(a);
	/* Not yet over: still counted. */
	fake_now.tv_sec += 9;
	sp_logkv(SP_LOG_WARN, "security", SP_LOG_KV({ "event", "rate_limited" },
	    { "src", "192.0.2.7" }), "late");
	/* Over: the next record, of any kind, writes the summary first. */
	fake_now.tv_sec += 1;
	sp_log(SP_LOG_INFO, "core", "later");
	a = slurp("sec-2026-11-25.log");
	ck_assert_ptr_nonnull(strstr(a, " WARN security [burst_report] 6 more from 192.0.2.7 "
	    "in 10 s: rate_limited event=suppressed src=192.0.2.7 of=rate_limited count=6\n"));
	ck_assert_ptr_null(strstr(a, "more from 192.0.2.7 in 10 s: rate_limited_start"));
	ck_assert_ptr_null(strstr(a, "from 192.0.2.8 in"));
	ck_assert(strstr(a, "6 more from") < strstr(a, "later"));
	ck_assert_ptr_null(strstr(a, "late\n"));
	free(a);
	/* A new window for the same source; the tick writes its summary. */
	for (i = 0; i < 22; i++)
		sp_logkv(SP_LOG_WARN, "security", SP_LOG_KV({ "src", "192.0.2.7" }), "again %d", i);
	/* (no event field: a window of its own) */
	fake_now.tv_sec += 10;
	sp_log_tick();
	a = slurp("sec-2026-11-25.log");
	ck_assert_uint_eq(count_str(a, "again "), 20);
	ck_assert_ptr_nonnull(strstr(a, "2 more from 192.0.2.7 in 10 s: -"));
	free(a);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, text_line);
	tcase_add_test(tc, json_line);
	tcase_add_test(tc, levels_and_targets);
	tcase_add_test(tc, daily_roll);
	tcase_add_test(tc, current_link_follows_roll);
	tcase_add_test(tc, current_link_spares_regular_file);
	tcase_add_test(tc, reopen_after_move);
	tcase_add_test(tc, retention_removes_old_days);
	tcase_add_test(tc, retention_off_keeps_all);
	tcase_add_test(tc, several_writers);
	tcase_add_test(tc, filter_and_sink);
	tcase_add_test(tc, hooks_bounded);
	tcase_add_test(tc, line_bound);
	tcase_add_test(tc, unwritable_dir);
	tcase_add_test(tc, stderr_target);
	tcase_add_test(tc, security_burst);
	tcase_add_test(tc, conf_checks);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
