/*
 * check_api_users.c - unit tests of the panel's users and parsers
 * (src/api/users.c, src/api/store_users.c): the Cookie header (first
 * occurrence, spaces, quotes, malformed parts, a value too long), the
 * session id, the login body, user names and passwords, and the users
 * table (created on first use, stored hash verifies, role changes, proxy
 * refused as a person's role); the login brake (five free failures, then a
 * minute after the last one, keys apart, a success clears, a quiet window
 * forgets, a full table gives way); the table of logins (the cookie
 * value finds its login and nothing else, idle expiry and maximum age,
 * CSRF token, logout, a full table drops the login idle longest).
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/bodies.h"
#include "api/login_brake.h"
#include "api/panel_sessions.h"
#include "api/pwhash.h"
#include "api/store.h"
#include "api/users.h"
#include "core/err.h"

#define SID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

START_TEST(cookie)
{
	char v[SP_PANEL_SID_LEN + 2];

	ck_assert_int_eq(sp_panel_cookie("sp_session=" SID, SP_PANEL_COOKIE, v,
	    sizeof(v)), SP_OK);
	ck_assert_str_eq(v, SID);
	ck_assert_int_eq(sp_panel_cookie("a=b;  sp_session=" SID " ; c=d",
	    SP_PANEL_COOKIE, v, sizeof(v)), SP_OK);
	ck_assert_str_eq(v, SID);
	/* The first occurrence wins. */
	ck_assert_int_eq(sp_panel_cookie("sp_session=x; sp_session=y",
	    SP_PANEL_COOKIE, v, sizeof(v)), SP_OK);
	ck_assert_str_eq(v, "x");
	/* A name that only ends or starts like ours is another cookie. */
	ck_assert_int_eq(sp_panel_cookie("xsp_session=1; sp_session2=2",
	    SP_PANEL_COOKIE, v, sizeof(v)), SP_ERR_NOT_FOUND);
	ck_assert_int_eq(sp_panel_cookie(NULL, SP_PANEL_COOKIE, v, sizeof(v)),
	    SP_ERR_NOT_FOUND);
	ck_assert_int_eq(sp_panel_cookie("", SP_PANEL_COOKIE, v, sizeof(v)),
	    SP_ERR_NOT_FOUND);
	ck_assert_int_eq(sp_panel_cookie("sp_session", SP_PANEL_COOKIE, v,
	    sizeof(v)), SP_ERR_INVALID);
	ck_assert_int_eq(sp_panel_cookie("sp_session=a b", SP_PANEL_COOKIE, v,
	    sizeof(v)), SP_ERR_INVALID);
	ck_assert_int_eq(sp_panel_cookie("sp_session=" SID "0",
	    SP_PANEL_COOKIE, v, sizeof(v) - 1), SP_ERR_INVALID);
	ck_assert_int_eq(sp_panel_cookie("sp_session=", SP_PANEL_COOKIE, v,
	    sizeof(v)), SP_OK);
	ck_assert_str_eq(v, "");
}
END_TEST

START_TEST(sid_and_names)
{
	ck_assert_int_eq(sp_panel_sid_valid(SID), SP_OK);
	ck_assert_int_eq(sp_panel_sid_valid(SID "0"), SP_ERR_INVALID);
	ck_assert_int_eq(sp_panel_sid_valid("0123"), SP_ERR_INVALID);
	ck_assert_int_eq(sp_panel_sid_valid("0123456789ABCDEF0123456789abcdef"
	    "0123456789abcdef0123456789abcdef"), SP_ERR_INVALID);
	ck_assert_int_eq(sp_user_name_valid("alice.ops@example-1_x"), SP_OK);
	ck_assert_int_eq(sp_user_name_valid(""), SP_ERR_INVALID);
	ck_assert_int_eq(sp_user_name_valid("a b"), SP_ERR_INVALID);
	ck_assert_int_eq(sp_user_name_valid("a/b"), SP_ERR_INVALID);
	ck_assert_int_eq(sp_user_password_valid("correct horse", 13), SP_OK);
	ck_assert_int_eq(sp_user_password_valid("short", 5), SP_ERR_INVALID);
	ck_assert_int_eq(sp_user_password_valid("tab\there!!", 10),
	    SP_ERR_INVALID);
}
END_TEST

static int
parse(const char *text, json_object **o, char *err, size_t errlen)
{
	return sp_body_parse(text, strlen(text), o, err, errlen);
}

START_TEST(login_body)
{
	const char *u, *p;
	json_object *o;
	char err[160];

	ck_assert_int_eq(parse("{\"user\":\"alice\",\"password\":\"pw\"}",
	    &o, err, sizeof(err)), SP_OK);
	ck_assert_int_eq(sp_panel_login_body(o, &u, &p, err, sizeof(err)), SP_OK);
	ck_assert_str_eq(u, "alice");
	ck_assert_str_eq(p, "pw");
	json_object_put(o);
	ck_assert_int_eq(parse("{\"user\":\"a/b\",\"password\":\"pw\"}",
	    &o, err, sizeof(err)), SP_OK);
	ck_assert_int_eq(sp_panel_login_body(o, &u, &p, err, sizeof(err)),
	    SP_ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(err, "'user'"));
	json_object_put(o);
	ck_assert_int_eq(parse("{\"user\":\"alice\"}", &o, err,
	    sizeof(err)), SP_OK);
	ck_assert_int_eq(sp_panel_login_body(o, &u, &p, err, sizeof(err)),
	    SP_ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(err, "'password'"));
	json_object_put(o);
}
END_TEST

START_TEST(store)
{
	char dir[] = "/tmp/check_api_users.XXXXXX", path[300], err[256];
	char hash[SP_PWHASH_TEXT_MAX], got[SP_PWHASH_TEXT_MAX];
	struct sp_store *st;
	enum sp_role role;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/api.db", dir);
	ck_assert_int_eq(sp_store_open(path, &st, err, sizeof(err)), SP_OK);
	ck_assert_int_eq(sp_store_user_get(st, "alice", &role, got,
	    sizeof(got)), SP_ERR_NOT_FOUND);
	ck_assert_int_eq(sp_pwhash_make("correct horse", 13, 1000, hash,
	    sizeof(hash)), SP_OK);
	ck_assert_int_eq(sp_store_user_set(st, "alice", SP_ROLE_READ, hash),
	    SP_OK);
	ck_assert_int_eq(sp_store_user_get(st, "alice", &role, got,
	    sizeof(got)), SP_OK);
	ck_assert_int_eq(role, SP_ROLE_READ);
	ck_assert_int_eq(sp_pwhash_verify("correct horse", 13, got), SP_OK);
	ck_assert_int_eq(sp_pwhash_verify("wrong horse!!", 13, got),
	    SP_ERR_DENIED);
	/* The same name again: role and hash replaced. */
	ck_assert_int_eq(sp_store_user_set(st, "alice", SP_ROLE_ADMIN, hash),
	    SP_OK);
	ck_assert_int_eq(sp_store_user_get(st, "alice", &role, got,
	    sizeof(got)), SP_OK);
	ck_assert_int_eq(role, SP_ROLE_ADMIN);
	/* A machine's role is no person's. */
	ck_assert_int_eq(sp_store_user_set(st, "bot", SP_ROLE_PROXY, hash),
	    SP_ERR_INVALID);
	sp_store_close(st);
	unlink(path);
	rmdir(dir);
}
END_TEST

START_TEST(brake)
{
	static struct sp_login_brake b;
	char key[32];
	int i;

	memset(&b, 0, sizeof(b));
	for (i = 0; i < SP_LOGIN_FAILS_FREE; i++) {
		ck_assert_uint_eq(sp_login_brake_wait(&b, "a:192.0.2.7", 1000 + i),
		    0);
		sp_login_brake_fail(&b, "a:192.0.2.7", 1000 + i);
	}
	/* Braked for a minute after the last failure (t = 1004). */
	ck_assert_uint_eq(sp_login_brake_wait(&b, "a:192.0.2.7", 1004),
	    SP_LOGIN_LOCK);
	ck_assert_uint_eq(sp_login_brake_wait(&b, "a:192.0.2.7", 1034), 30);
	ck_assert_uint_eq(sp_login_brake_wait(&b, "a:192.0.2.7", 1064), 0);
	/* Another key is not braked. */
	ck_assert_uint_eq(sp_login_brake_wait(&b, "a:192.0.2.8", 1010), 0);
	/* One more failure after the lock: braked again at once. */
	sp_login_brake_fail(&b, "a:192.0.2.7", 1064);
	ck_assert_uint_eq(sp_login_brake_wait(&b, "a:192.0.2.7", 1065), 59);
	/* A success clears it. */
	sp_login_brake_clear(&b, "a:192.0.2.7", 1065);
	ck_assert_uint_eq(sp_login_brake_wait(&b, "a:192.0.2.7", 1065), 0);
	/* A quiet window forgets the failures. */
	for (i = 0; i < SP_LOGIN_FAILS_FREE; i++)
		sp_login_brake_fail(&b, "u:alice", 2000);
	ck_assert_uint_gt(sp_login_brake_wait(&b, "u:alice", 2001), 0);
	/* After a quiet window, one more failure starts a new count. */
	sp_login_brake_fail(&b, "u:alice", 2000 + SP_LOGIN_WINDOW + 1);
	ck_assert_uint_eq(sp_login_brake_wait(&b, "u:alice",
	    2000 + SP_LOGIN_WINDOW + 2), 0);
	memset(&b, 0, sizeof(b));
	for (i = 0; i < SP_LOGIN_FAILS_FREE; i++)
		sp_login_brake_fail(&b, "u:bob", 3000);
	ck_assert_uint_eq(sp_login_brake_wait(&b, "u:bob",
	    3000 + SP_LOGIN_WINDOW + 1), 0);
	/* A full table: the key idle longest gives way, the rest stay. */
	memset(&b, 0, sizeof(b));
	for (i = 0; i < SP_LOGIN_KEYS + 1; i++) {
		snprintf(key, sizeof(key), "a:10.0.%d.%d", i / 256, i % 256);
		sp_login_brake_fail(&b, key, 4000 + i);
	}
	for (i = 0; i < SP_LOGIN_FAILS_FREE; i++)
		sp_login_brake_fail(&b, "a:10.0.1.0", 4300);
	ck_assert_uint_gt(sp_login_brake_wait(&b, "a:10.0.1.0", 4300), 0);
}
END_TEST

START_TEST(sessions)
{
	static struct sp_panel_sessions t;
	struct sp_panel_session *s, *s2;
	char sid[SP_PANEL_SID_LEN + 1], sid2[SP_PANEL_SID_LEN + 1];
	char other[SP_PANEL_SID_LEN + 1], user[16];
	int i;

	memset(&t, 0, sizeof(t));
	t.idle = 900;
	t.max_age = 43200;
	ck_assert_int_eq(sp_panel_session_new(&t, "alice", SP_ROLE_ADMIN, 100,
	    sid, &s), SP_OK);
	ck_assert_int_eq(sp_panel_sid_valid(sid), SP_OK);
	ck_assert_int_eq(sp_panel_sid_valid(s->csrf), SP_OK);
	ck_assert_str_ne(sid, s->csrf);
	/* Only the hash is kept. */
	ck_assert_ptr_null(memmem(&t, sizeof(t), sid, SP_PANEL_SID_LEN));
	ck_assert_ptr_eq(sp_panel_session_find(&t, sid, 200), s);
	ck_assert_str_eq(s->user, "alice");
	ck_assert_int_eq(s->role, SP_ROLE_ADMIN);
	/* Another value, a malformed one: nothing. */
	memcpy(other, sid, sizeof(other));
	other[0] = other[0] == 'a' ? 'b' : 'a';
	ck_assert_ptr_null(sp_panel_session_find(&t, other, 200));
	ck_assert_ptr_null(sp_panel_session_find(&t, "", 200));
	ck_assert_ptr_null(sp_panel_session_find(&t, s->csrf, 200));
	/* CSRF token. */
	ck_assert(sp_panel_session_csrf_ok(s, s->csrf));
	ck_assert(!sp_panel_session_csrf_ok(s, NULL));
	ck_assert(!sp_panel_session_csrf_ok(s, sid));
	ck_assert(!sp_panel_session_csrf_ok(s, "abc"));
	/* Idle: each request moves the deadline; 901 s of silence end it. */
	ck_assert_ptr_eq(sp_panel_session_find(&t, sid, 1000), s);
	ck_assert_ptr_eq(sp_panel_session_find(&t, sid, 1900), s);
	ck_assert_ptr_null(sp_panel_session_find(&t, sid, 2801));
	ck_assert_ptr_null(sp_panel_session_find(&t, sid, 2802));
	/* Maximum age, however busy. */
	ck_assert_int_eq(sp_panel_session_new(&t, "bob", SP_ROLE_READ, 0, sid,
	    &s), SP_OK);
	for (i = 1; i <= 48; i++)
		ck_assert_ptr_nonnull(sp_panel_session_find(&t, sid, i * 900));
	ck_assert_ptr_null(sp_panel_session_find(&t, sid, 43201));
	/* Logout. */
	ck_assert_int_eq(sp_panel_session_new(&t, "bob", SP_ROLE_READ, 10, sid,
	    &s), SP_OK);
	ck_assert_int_eq(sp_panel_session_new(&t, "carol", SP_ROLE_READ, 10,
	    sid2, &s2), SP_OK);
	sp_panel_session_end(s);
	ck_assert_ptr_null(sp_panel_session_find(&t, sid, 11));
	ck_assert_ptr_eq(sp_panel_session_find(&t, sid2, 11), s2);
	/* Full: the login idle longest gives way; carol, made first but just
	 * seen, stays. */
	memset(&t, 0, sizeof(t));
	t.idle = 900;
	t.max_age = 43200;
	ck_assert_int_eq(sp_panel_session_new(&t, "carol", SP_ROLE_READ, 11,
	    sid2, &s2), SP_OK);
	for (i = 1; i < SP_PANEL_SESSIONS_MAX; i++) {
		snprintf(user, sizeof(user), "u%d", i);
		ck_assert_int_eq(sp_panel_session_new(&t, user, SP_ROLE_READ,
		    20 + i, sid, &s), SP_OK);
	}
	ck_assert_ptr_nonnull(sp_panel_session_find(&t, sid2, 100));
	ck_assert_int_eq(sp_panel_session_new(&t, "dave", SP_ROLE_READ, 101,
	    sid, &s), SP_OK);
	ck_assert_ptr_nonnull(sp_panel_session_find(&t, sid2, 102));
	ck_assert_ptr_eq(sp_panel_session_find(&t, sid, 102), s);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("api_users");
	TCase *tc = tcase_create("users");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, cookie);
	tcase_add_test(tc, sid_and_names);
	tcase_add_test(tc, login_body);
	tcase_add_test(tc, store);
	tcase_add_test(tc, brake);
	tcase_add_test(tc, sessions);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
