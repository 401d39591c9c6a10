/*
 * msg.h - tunnel messages: a 4-octet big-endian length, then one JSON object.
 *
 * The control connection between smartproxy-client and smartproxy-server
 * carries only these; a data connection carries one (its hello) and then the
 * session's raw bytes. Every message is a JSON object with a string member
 * "type". Messages are bounded (SP_TMSG_MAX) and parsed with a depth limit, so
 * a peer cannot make the other side allocate without bound.
 *
 * Ownership: sp_tmsg_take() hands the caller a json_object reference to put
 * with json_object_put(). sp_tmsg_write() does not take the object.
 */
#ifndef SP_TUNNEL_MSG_H
#define SP_TUNNEL_MSG_H

#include <json-c/json.h>

#include "core/buf.h"
#include "core/conn.h"

#define SP_TMSG_MAX (8u * 1024 * 1024)   /* a configuration with PEMs fits */
#define SP_TMSG_DEPTH 16
#define SP_TUNNEL_VERSION 1

/*
 * Take one complete message off the front of `in`. SP_OK with *out set,
 * SP_ERR_SHORT when more bytes are needed, SP_ERR_LIMIT when the announced
 * length is too big, SP_ERR_PROTOCOL when it is not a JSON object with a
 * string "type".
 */
int sp_tmsg_take(struct sp_buf *in, json_object **out);
/* Serialise msg and queue it on c (length prefix + JSON). */
int sp_tmsg_write(struct sp_conn *c, json_object *msg);
/* Same into a buffer (tests, fuzzing). */
int sp_tmsg_encode(json_object *msg, struct sp_buf *out);

/* The message's "type", or "" if missing. */
const char *sp_tmsg_type(json_object *msg);
/* Members with defaults: no allocation; strings belong to msg. */
const char *sp_json_str(json_object *o, const char *key, const char *def);
long long sp_json_int(json_object *o, const char *key, long long def);
json_object *sp_json_get(json_object *o, const char *key, json_type want);

#endif
