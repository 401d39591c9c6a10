/*
 * login_brake.c - the brake on panel logins (login_brake.h).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "api/login_brake.h"

/* The slot of `key`, or (make) a free one or the one idle longest. Slots
 * quiet for a whole window are forgotten on the way. */
static int
find(struct sp_login_brake *b, const char *key, int make, time_t now)
{
	int i, old = -1;

	for (i = 0; i < SP_LOGIN_KEYS; i++) {
		if (b->v[i].key[0] != '\0' && now - b->v[i].last > SP_LOGIN_WINDOW)
			memset(&b->v[i], 0, sizeof(b->v[i]));
		if (b->v[i].key[0] != '\0' && strcmp(b->v[i].key, key) == 0)
			return i;
		if (old < 0 || b->v[i].key[0] == '\0' ||
		    (b->v[old].key[0] != '\0' && b->v[i].last < b->v[old].last))
			old = i;
	}
	if (!make)
		return -1;
	memset(&b->v[old], 0, sizeof(b->v[old]));
	snprintf(b->v[old].key, sizeof(b->v[old].key), "%s", key);
	return old;
}

unsigned
sp_login_brake_wait(struct sp_login_brake *b, const char *key, time_t now)
{
	int i = find(b, key, 0, now);

	if (i < 0 || b->v[i].fails < SP_LOGIN_FAILS_FREE ||
	    now - b->v[i].last >= SP_LOGIN_LOCK)
		return 0;
	return (unsigned)(SP_LOGIN_LOCK - (now - b->v[i].last));
}

void
sp_login_brake_fail(struct sp_login_brake *b, const char *key, time_t now)
{
	int i = find(b, key, 1, now);

	b->v[i].fails++;
	b->v[i].last = now;
}

void
sp_login_brake_clear(struct sp_login_brake *b, const char *key, time_t now)
{
	int i = find(b, key, 0, now);

	if (i >= 0)
		memset(&b->v[i], 0, sizeof(b->v[i]));
}
