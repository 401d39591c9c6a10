/* msg.c - length-prefixed JSON tunnel messages; see msg.h. */
#include "tunnel/msg.h"
#include "core/err.h"

#include <string.h>

int
sp_tmsg_take(struct sp_buf *in, json_object **out)
{
	struct sp_rd r;
	uint32_t len;
	const uint8_t *body;
	json_tokener *tok;
	json_object *o;
	int rc;

	*out = NULL;
	sp_rd_init(&r, sp_buf_ptr(in), sp_buf_len(in));
	if (sp_rd_u32be(&r, &len) != 0)
		return SP_ERR_SHORT;
	if (len == 0 || len > SP_TMSG_MAX)
		return SP_ERR_LIMIT;
	if (sp_rd_bytes(&r, len, &body) != 0)
		return SP_ERR_SHORT;
	if ((tok = json_tokener_new_ex(SP_TMSG_DEPTH)) == NULL)
		return SP_ERR_NOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, (const char *)body, (int)len);
	rc = SP_OK;
	/* Exactly one complete object and nothing after it. */
	if (o == NULL || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len ||
	    !json_object_is_type(o, json_type_object) ||
	    sp_json_get(o, "type", json_type_string) == NULL) {
		json_object_put(o);
		o = NULL;
		rc = SP_ERR_PROTOCOL;
	}
	json_tokener_free(tok);
	sp_buf_consume(in, 4 + (size_t)len);
	*out = o;
	return rc;
}

int
sp_tmsg_encode(json_object *msg, struct sp_buf *out)
{
	size_t len;
	const char *s = json_object_to_json_string_length(msg, JSON_C_TO_STRING_PLAIN, &len);
	int r;

	if (s == NULL)
		return SP_ERR_NOMEM;
	if (len == 0 || len > SP_TMSG_MAX)
		return SP_ERR_LIMIT;
	if (sp_buf_room(out) < 4 + len)
		return SP_ERR_LIMIT;
	if ((r = sp_buf_put_u32be(out, (uint32_t)len)) != 0)
		return r;
	return sp_buf_put(out, s, len);
}

int
sp_tmsg_write(struct sp_conn *c, json_object *msg)
{
	struct sp_buf b;
	int r;

	sp_buf_init(&b, SP_TMSG_MAX + 4);
	if ((r = sp_tmsg_encode(msg, &b)) == 0)
		r = sp_conn_write(c, sp_buf_ptr(&b), sp_buf_len(&b));
	sp_buf_free(&b);
	return r;
}

json_object *
sp_json_get(json_object *o, const char *key, json_type want)
{
	json_object *v;

	if (o == NULL || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, want))
		return NULL;
	return v;
}

const char *
sp_tmsg_type(json_object *msg)
{
	return sp_json_str(msg, "type", "");
}

const char *
sp_json_str(json_object *o, const char *key, const char *def)
{
	json_object *v = sp_json_get(o, key, json_type_string);

	return v != NULL ? json_object_get_string(v) : def;
}

long long
sp_json_int(json_object *o, const char *key, long long def)
{
	json_object *v = sp_json_get(o, key, json_type_int);

	return v != NULL ? (long long)json_object_get_int64(v) : def;
}
