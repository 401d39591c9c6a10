/*
 * store_oftp2.c - the OFTP2 module's per-partner switches in the modules
 * table and the diagnose query over the events table (api/oftp2.h).
 * Ownership: nothing is kept; returned objects are the caller's.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/db.h"

#include "api/oftp2.h"
#include "api/store_int.h"
#include "core/err.h"

/* The stored oftp2 section, or a new {} (never NULL on SP_OK). */
static int
section_load(struct sp_store *st, json_object **sec)
{
	struct sp_db_stmt *s;
	const char *text;
	int rc;

	*sec = NULL;
	if (sp_db_prepare(st->db, "SELECT section FROM modules WHERE "
	    "name = 'oftp2'", &s) != 0)
		return SP_ERR_SYSTEM;
	rc = sp_db_step(s);
	if (rc == SP_DB_ROW && (text = sp_db_column_text(s, 0))
	    != NULL)
		*sec = json_tokener_parse(text);
	sp_db_finalize(s);
	if (rc != SP_DB_ROW && rc != SP_DB_DONE)
		return SP_ERR_SYSTEM;
	if (*sec != NULL && !json_object_is_type(*sec, json_type_object)) {
		json_object_put(*sec);   /* null: the module's defaults */
		*sec = NULL;
	}
	if (*sec == NULL && (*sec = json_object_new_object()) == NULL)
		return SP_ERR_NOMEM;
	return SP_OK;
}

/* The partners[] entry of odette_id in sec, created if `create`. */
static json_object *
entry_of(json_object *sec, const char *odette_id, bool create)
{
	json_object *arr, *e, *id;
	size_t i, n;

	if (!json_object_object_get_ex(sec, "partners", &arr) ||
	    !json_object_is_type(arr, json_type_array)) {
		if (!create)
			return NULL;
		arr = json_object_new_array();
		json_object_object_add(sec, "partners", arr);
	}
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(arr, i);
		if (json_object_object_get_ex(e, "odette_id", &id) &&
		    strcmp(json_object_get_string(id), odette_id) == 0)
			return e;
	}
	if (!create)
		return NULL;
	e = json_object_new_object();
	json_object_object_add(e, "odette_id", json_object_new_string(odette_id));
	json_object_array_add(arr, e);
	return e;
}

int
sp_store_oftp2_switches_get(struct sp_store *st, const char *odette_id,
    json_object **entry)
{
	json_object *sec, *e;
	int r;

	if ((r = section_load(st, &sec)) != 0)
		return r;
	e = entry_of(sec, odette_id, false);
	if (e != NULL)
		*entry = json_object_get(e);
	else {
		*entry = json_object_new_object();
		json_object_object_add(*entry, "odette_id",
		    json_object_new_string(odette_id));
	}
	json_object_put(sec);
	return SP_OK;
}

static int
section_store(struct sp_store *st, json_object *sec)
{
	struct sp_db_stmt *s;
	int rc;

	if (sp_db_prepare(st->db, "INSERT INTO modules "
	    "VALUES ('oftp2', ?1) ON CONFLICT (name) DO UPDATE SET "
	    "section = excluded.section", &s) != 0)
		return SP_ERR_SYSTEM;
	if (sp_db_bind_text(s, 1, json_object_to_json_string_ext(sec,
	    JSON_C_TO_STRING_PLAIN)) != 0) {
		sp_db_finalize(s);
		return SP_ERR_SYSTEM;
	}
	rc = sp_db_step(s);
	sp_db_finalize(s);
	return rc == SP_DB_DONE ? SP_OK : SP_ERR_SYSTEM;
}

int
sp_store_oftp2_switches_set(struct sp_store *st, const char *odette_id,
    json_object *set, json_object **entry, int64_t *rev)
{
	json_object *sec = NULL, *e;
	int r;

	*entry = NULL;
	if (sp_db_begin_write(st->db) != 0)
		return SP_ERR_SYSTEM;
	if ((r = section_load(st, &sec)) != 0)
		goto fail;
	if ((e = entry_of(sec, odette_id, true)) == NULL) {
		r = SP_ERR_NOMEM;
		goto fail;
	}
	json_object_object_foreach(set, key, v) {
		if (v == NULL)
			json_object_object_del(e, key);
		else
			json_object_object_add(e, key, json_object_get(v));
	}
	if ((r = section_store(st, sec)) != 0 || (r = sp_store_bump(st, rev)) != 0 ||
	    (r = sp_db_commit(st->db)) != 0)
		goto fail;
	*entry = json_object_get(e);
	json_object_put(sec);
	return SP_OK;
fail:
	sp_db_rollback(st->db);
	json_object_put(sec);
	return r;
}

/* The value of `key=` in a message, into out ("" if absent). */
static void
token(const char *msg, const char *key, char *out, size_t cap)
{
	const char *p = msg;
	size_t klen = strlen(key), n = 0;

	out[0] = '\0';
	while ((p = strstr(p, key)) != NULL) {
		if (p == msg || p[-1] == ' ')
			break;
		p += klen;
	}
	if (p == NULL)
		return;
	p += klen;
	while (p[n] != '\0' && p[n] != ' ' && n + 1 < cap)
		n++;
	memcpy(out, p, n);
	out[n] = '\0';
}

/* Count one more under `key` in the object `o`. */
static void
count(json_object *o, const char *key)
{
	json_object *v;

	if (json_object_object_get_ex(o, key, &v))
		json_object_set_int64(v, json_object_get_int64(v) + 1);
	else
		json_object_object_add(o, key, json_object_new_int64(1));
}

int
sp_store_oftp2_diagnose(struct sp_store *st, const char *odette_id,
    int scan, json_object **out)
{
	json_object *refused, *devs, *admit, *o, *doc, *v, *arr;
	struct sp_db_stmt *s;
	char pat[64], sw[64];
	const char *text, *reason;
	size_t i, n;
	int rc;

	*out = NULL;
	/* Its own sessions, and refused ones that named its code before the
	 * partner was known (an SSID refused by the oftp2 module). */
	snprintf(pat, sizeof(pat), "%% code=%s %%", odette_id);
	if (sp_db_prepare(st->db, "SELECT doc FROM (SELECT id, partner, "
	    "doc FROM sessions ORDER BY id DESC LIMIT ?2) AS recent WHERE partner = ?3 "
	    "OR doc LIKE ?1 ORDER BY id", &s) != 0)
		return SP_ERR_SYSTEM;
	if (sp_db_bind_text(s, 1, pat) != 0 ||
	    sp_db_bind_int64(s, 2, scan) != 0 ||
	    sp_db_bind_text(s, 3, odette_id) != 0) {
		sp_db_finalize(s);
		return SP_ERR_SYSTEM;
	}
	refused = json_object_new_array();
	devs = json_object_new_object();
	admit = json_object_new_object();
	while ((rc = sp_db_step(s)) == SP_DB_ROW) {
		text = sp_db_column_text(s, 0);
		if (text == NULL || (doc = json_tokener_parse(text)) == NULL)
			continue;
		if (json_object_object_get_ex(doc, "oftp2_deviations", &arr) &&
		    json_object_is_type(arr, json_type_array)) {
			n = json_object_array_length(arr);
			for (i = 0; i < n; i++)
				count(devs, json_object_get_string(
				    json_object_array_get_idx(arr, i)));
		}
		reason = json_object_object_get_ex(doc, "end_reason", &v) ?
		    json_object_get_string(v) : "";
		if (reason == NULL || strcmp(reason, "protocol") != 0 ||
		    !json_object_object_get_ex(doc, "end_text", &v)) {
			json_object_put(doc);
			continue;
		}
		token(json_object_get_string(v), "admit=", sw, sizeof(sw));
		o = json_object_new_object();
		json_object_object_add(o, "ended", json_object_object_get_ex(doc,
		    "ended", &v) ? json_object_get(v) : NULL);
		json_object_object_add(o, "session", json_object_object_get_ex(
		    doc, "session", &v) ? json_object_get(v) : NULL);
		json_object_object_add(o, "refusal", json_object_object_get_ex(
		    doc, "end_text", &v) ? json_object_get(v) : NULL);
		json_object_object_add(o, "switch", sw[0] != '\0' &&
		    strcmp(sw, "-") != 0 ? json_object_new_string(sw) : NULL);
		json_object_array_add(refused, o);
		if (sw[0] != '\0' && strcmp(sw, "-") != 0)
			count(admit, sw);
		json_object_put(doc);
	}
	sp_db_finalize(s);
	if (rc != SP_DB_DONE) {
		json_object_put(refused);
		json_object_put(devs);
		json_object_put(admit);
		return SP_ERR_SYSTEM;
	}
	*out = json_object_new_object();
	json_object_object_add(*out, "odette_id", json_object_new_string(odette_id));
	json_object_object_add(*out, "refused", refused);
	json_object_object_add(*out, "deviations_admitted", devs);
	json_object_object_add(*out, "switches_that_would_admit", admit);
	return SP_OK;
}
