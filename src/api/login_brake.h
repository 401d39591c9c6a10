/*
 * login_brake.h - the brake on panel logins (panel.h): failures counted per
 * key ("a:<address>", "u:<user>") in a small fixed table.
 *
 * After SP_LOGIN_FAILS_FREE failures of one key, each within
 * SP_LOGIN_WINDOW seconds of the one before, every further try waits
 * SP_LOGIN_LOCK seconds after the last failure. A success clears the key.
 * With PBKDF2 at 100000 rounds per try that leaves a guesser a few
 * hundred tries a day per address and per name. When the table is full
 * the key idle longest gives way: a flood of addresses can push a key
 * out, but each of those addresses is then braked itself.
 *
 * Times are whole seconds of a monotonic clock, passed in (tests choose
 * them). Not thread-safe: the caller holds its lock. No allocation.
 */
#ifndef SP_API_LOGIN_BRAKE_H
#define SP_API_LOGIN_BRAKE_H

#include <time.h>

#define SP_LOGIN_FAILS_FREE 5
#define SP_LOGIN_WINDOW 900
#define SP_LOGIN_LOCK 60
#define SP_LOGIN_KEYS 256
#define SP_LOGIN_KEY_MAX 80

struct sp_login_brake {
	struct {
		char key[SP_LOGIN_KEY_MAX];   /* "" = free */
		unsigned fails;
		time_t last;
	} v[SP_LOGIN_KEYS];
};

/* Seconds before `key` may try again; 0: now. */
unsigned sp_login_brake_wait(struct sp_login_brake *b, const char *key,
    time_t now);
void sp_login_brake_fail(struct sp_login_brake *b, const char *key,
    time_t now);
void sp_login_brake_clear(struct sp_login_brake *b, const char *key,
    time_t now);

#endif
