/*
 * log_ignore.c - the log-ignore module: known noise is written at INFO,
 * tagged with the rule that silenced it, and never becomes an event.
 *
 * Rules come in the runtime configuration, `modules.log_ignore.rules`
 * (docs/api.md 4.2): id, description, match text, validity window. on_log sees
 * every record of WARN and above; the first rule whose match text occurs
 * (ASCII case-insensitively, a plain substring, not a pattern) in the record's
 * message and whose window holds the record's time lowers the record to INFO,
 * sets the tag `ignore-rule=<id>` and clears escalate. A rule outside its
 * window does nothing. A rule whose window has ended is dropped from the
 * current revision, and the drop is logged once per rule id (the backend
 * purges it soon after, so the next revision no longer carries it).
 *
 * Ownership: a struct li_conf (one per revision) belongs to the core between
 * config_parse and config_free; the module only borrows the current one from
 * config_apply to the next config_apply. The list of rule ids whose expiry was
 * logged belongs to struct li_mod (freed in fini).
 *
 * Threads: on_log runs on the thread that logs, config_apply on the main
 * thread; a mutex guards the current revision and the logged-expiry list.
 * Nothing is logged while it is held (host->log from on_log skips the hooks,
 * so it cannot recurse, but it must not wait for our own lock either).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem, strptime, timegm */
#endif
#include <smartproxy/module.h>

#include <json-c/json.h>

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LI_MATCH_MAX 200
#define LI_DESC_MAX 200
#define LI_RULES_MAX 4096
#define LI_MSG_MAX 4096      /* longer messages are matched on this prefix */
#define LI_JSON_DEPTH 16
#define LI_EXPIRED_MAX 8     /* expiries reported per record at most */

struct li_rule {
	int64_t id;
	int64_t from_ms;     /* INT64_MIN: no lower bound */
	int64_t until_ms;    /* INT64_MAX: no upper bound; exclusive */
	size_t match_len;
	char match[LI_MATCH_MAX + 1];  /* lower-cased */
	bool dropped;        /* expired: no longer considered */
};

struct li_conf {
	size_t nrules;
	struct li_rule *rules;
};

struct li_mod {
	const struct sp_host *host;
	pthread_mutex_t lock;
	struct li_conf *cur;            /* borrowed, see above */
	int64_t *logged;                /* ids whose expiry was logged */
	size_t nlogged, caplogged;
};

/* ---- parsing ---- */

/* "YYYY-MM-DDTHH:MM:SSZ" (the document's only time form) to ms. */
static int
li_parse_time(const char *s, int64_t *ms)
{
	struct tm tm;
	const char *end;
	time_t t;

	if (strlen(s) != 20)
		return -1;
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (end == NULL || *end != '\0')
		return -1;
	if ((t = timegm(&tm)) == (time_t)-1)
		return -1;
	*ms = (int64_t)t * 1000;
	return 0;
}

__attribute__((format(printf, 3, 4)))
static int
li_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int
li_time_member(json_object *o, const char *key, size_t i, int64_t def,
    int64_t *out, char *err, size_t errlen)
{
	json_object *v;

	*out = def;
	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_string) ||
	    li_parse_time(json_object_get_string(v), out) != 0)
		return li_err(err, errlen, "log_ignore: rules[%zu].%s must be a "
		    "time YYYY-MM-DDTHH:MM:SSZ or null", i, key);
	return 0;
}

static int
li_parse_rule(json_object *o, size_t i, struct li_rule *ru, char *err,
    size_t errlen)
{
	json_object *v;
	const char *m;
	size_t n, k;
	int r;

	if (!json_object_is_type(o, json_type_object))
		return li_err(err, errlen, "log_ignore: rules[%zu] must be an object", i);
	if (!json_object_object_get_ex(o, "id", &v) ||
	    !json_object_is_type(v, json_type_int) ||
	    (ru->id = json_object_get_int64(v)) <= 0)
		return li_err(err, errlen, "log_ignore: rules[%zu].id must be an "
		    "integer > 0", i);
	if (!json_object_object_get_ex(o, "match", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    (n = (size_t)json_object_get_string_len(v)) == 0 || n > LI_MATCH_MAX ||
	    strlen(m = json_object_get_string(v)) != n)
		return li_err(err, errlen, "log_ignore: rules[%zu].match must be "
		    "1 to %d characters", i, LI_MATCH_MAX);
	for (k = 0; k < n; k++)
		ru->match[k] = (char)tolower((unsigned char)m[k]);
	ru->match[n] = '\0';
	ru->match_len = n;
	if (json_object_object_get_ex(o, "description", &v) && v != NULL &&
	    (!json_object_is_type(v, json_type_string) ||
	    json_object_get_string_len(v) > LI_DESC_MAX))
		return li_err(err, errlen, "log_ignore: rules[%zu].description "
		    "must be a string of at most %d characters", i, LI_DESC_MAX);
	if ((r = li_time_member(o, "valid_from", i, INT64_MIN, &ru->from_ms,
	    err, errlen)) != 0 ||
	    (r = li_time_member(o, "valid_until", i, INT64_MAX, &ru->until_ms,
	    err, errlen)) != 0)
		return r;
	return 0;
}

static void
li_config_free(void *mctx, void *cfg)
{
	struct li_conf *c = cfg;

	if (c != NULL) {
		free(c->rules);
		free(c);
	}
}

static int
li_config_parse(void *mctx, const char *json, void **cfg, char *err,
    size_t errlen)
{
	struct json_tokener *tok;
	json_object *sec = NULL, *rules = NULL;
	struct li_conf *c;
	size_t i, j, n = 0;
	int r = 0;

	*cfg = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -ENOMEM;
	if ((tok = json_tokener_new_ex(LI_JSON_DEPTH)) == NULL) {
		free(c);
		return -ENOMEM;
	}
	sec = json_tokener_parse_ex(tok, json, -1);
	if (json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != strlen(json)) {
		r = li_err(err, errlen, "log_ignore: section is not one JSON value");
		goto out;
	}
	if (sec != NULL && !json_object_is_type(sec, json_type_object)) {
		r = li_err(err, errlen, "log_ignore: section must be an object or null");
		goto out;
	}
	if (sec != NULL && json_object_object_get_ex(sec, "rules", &rules) &&
	    rules != NULL) {
		if (!json_object_is_type(rules, json_type_array) ||
		    (n = json_object_array_length(rules)) > LI_RULES_MAX) {
			r = li_err(err, errlen, "log_ignore: rules must be an array "
			    "of at most %d rules", LI_RULES_MAX);
			goto out;
		}
	}
	if (n > 0 && (c->rules = calloc(n, sizeof(*c->rules))) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if ((r = li_parse_rule(json_object_array_get_idx(rules, i), i,
		    &c->rules[i], err, errlen)) != 0)
			goto out;
		for (j = 0; j < i; j++)
			if (c->rules[j].id == c->rules[i].id) {
				r = li_err(err, errlen, "log_ignore: rules[%zu].id "
				    "%" PRId64 " is not unique", i, c->rules[i].id);
				goto out;
			}
		c->nrules = i + 1;
	}
out:
	json_object_put(sec);
	json_tokener_free(tok);
	if (r != 0) {
		li_config_free(mctx, c);
		return r;
	}
	*cfg = c;
	return 0;
}

/* ---- expiry ---- */

static bool
li_was_logged(const struct li_mod *m, int64_t id)
{
	size_t i;

	for (i = 0; i < m->nlogged; i++)
		if (m->logged[i] == id)
			return true;
	return false;
}

/* Remember `id`; false when it was already there (or memory is short). */
static bool
li_remember(struct li_mod *m, int64_t id)
{
	int64_t *nv;
	size_t cap;

	if (li_was_logged(m, id))
		return false;
	if (m->nlogged == m->caplogged) {
		cap = m->caplogged ? 2 * m->caplogged : 16;
		if ((nv = realloc(m->logged, cap * sizeof(*nv))) == NULL)
			return false;
		m->logged = nv;
		m->caplogged = cap;
	}
	m->logged[m->nlogged++] = id;
	return true;
}

/*
 * Under the lock: mark rules whose window ended before `now_ms` as dropped
 * and collect those not reported yet into ids[] (at most `max`).
 */
static size_t
li_expire(struct li_mod *m, int64_t now_ms, int64_t *ids, size_t max)
{
	struct li_conf *c = m->cur;
	size_t i, n = 0;

	if (c == NULL)
		return 0;
	for (i = 0; i < c->nrules; i++) {
		struct li_rule *ru = &c->rules[i];

		if (ru->dropped || now_ms < ru->until_ms)
			continue;
		ru->dropped = true;
		if (n < max && li_remember(m, ru->id))
			ids[n++] = ru->id;
	}
	return n;
}

static void
li_report(struct li_mod *m, const int64_t *ids, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		m->host->log(NULL, SP_LEVEL_NOTICE, "log-ignore rule %" PRId64
		    " expired: dropped", ids[i]);
}

static int64_t
li_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
li_config_apply(void *mctx, void *cfg)
{
	struct li_mod *m = mctx;
	struct li_conf *c = cfg;
	int64_t ids[LI_EXPIRED_MAX];
	size_t i, j, k, n;

	pthread_mutex_lock(&m->lock);
	m->cur = c;
	/*
	 * Forget ids the new revision no longer has (the backend purged them);
	 * keep the list while no revision is active (tunnel down), so the same
	 * revision coming back does not report its expiries again.
	 */
	if (c != NULL) {
		for (i = k = 0; i < m->nlogged; i++) {
			for (j = 0; j < c->nrules && c->rules[j].id != m->logged[i]; j++)
				;
			if (j < c->nrules)
				m->logged[k++] = m->logged[i];
		}
		m->nlogged = k;
	}
	n = li_expire(m, li_now_ms(), ids, LI_EXPIRED_MAX);
	pthread_mutex_unlock(&m->lock);
	li_report(m, ids, n);
}

/* ---- the filter ---- */

static void
li_on_log(void *mctx, struct sp_log_entry *rec)
{
	struct li_mod *m = mctx;
	char low[LI_MSG_MAX];
	int64_t ids[LI_EXPIRED_MAX], hit = 0;
	size_t i, len, n;
	struct li_conf *c;

	if (rec->level < SP_LEVEL_WARN || rec->message == NULL)
		return;
	len = strnlen(rec->message, sizeof(low));
	for (i = 0; i < len; i++)
		low[i] = (char)tolower((unsigned char)rec->message[i]);
	pthread_mutex_lock(&m->lock);
	n = li_expire(m, rec->time_ms > 0 ? rec->time_ms : li_now_ms(), ids,
	    LI_EXPIRED_MAX);
	c = m->cur;
	for (i = 0; c != NULL && i < c->nrules; i++) {
		const struct li_rule *ru = &c->rules[i];

		if (ru->dropped || rec->time_ms < ru->from_ms ||
		    rec->time_ms >= ru->until_ms)
			continue;
		if (memmem(low, len, ru->match, ru->match_len) != NULL) {
			hit = ru->id;
			break;
		}
	}
	pthread_mutex_unlock(&m->lock);
	if (hit > 0) {
		rec->level = SP_LEVEL_INFO;
		rec->escalate = 0;
		snprintf(rec->tag, sizeof(rec->tag), "ignore-rule=%" PRId64, hit);
	}
	li_report(m, ids, n);
}

/* ---- process level ---- */

static int
li_init(const struct sp_host *host, const struct sp_module_args *args,
    void **mctx)
{
	struct li_mod *m;

	if (args->options != NULL && args->options[0] != NULL) {
		host->log(NULL, SP_LEVEL_ERR, "%s: unknown option '%s' (this "
		    "module has none: rules come from the backend)", args->name,
		    args->options[0]);
		return -EINVAL;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return -ENOMEM;
	if (pthread_mutex_init(&m->lock, NULL) != 0) {
		free(m);
		return -ENOMEM;
	}
	m->host = host;
	*mctx = m;
	return 0;
}

static void
li_fini(void *mctx)
{
	struct li_mod *m = mctx;

	pthread_mutex_destroy(&m->lock);
	free(m->logged);
	free(m);
}

__attribute__((visibility("default")))
const struct sp_module sp_module_v1 = {
	SP_MODULE_HEADER,
	.name = "log_ignore",
	.version = "1.0",
	.init = li_init,
	.fini = li_fini,
	.config_parse = li_config_parse,
	.config_free = li_config_free,
	.config_apply = li_config_apply,
	.on_log = li_on_log,
};
