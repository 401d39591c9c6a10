/*
 * trace.h - the -v session trace of oftp2-peer: every command sent (">") or
 * received ("<") on one line with its fields, like `openssl s_client -msg`.
 * DATA and CDT are traced only at -vv (a large file has thousands).
 * Nothing here allocates or keeps pointers.
 */
#ifndef PEER_TRACE_H
#define PEER_TRACE_H

#include <stddef.h>

#include <smartproxy/oftp2.h>

void peer_trace_cmd(char dir, const struct oftp2_cmd *cmd, size_t oeb_len);
/* Outside UTF-8 text as printable ASCII (others as \xNN), NUL-terminated. */
void peer_text_escape(char *out, size_t outlen, const struct oftp2_bytes *b);
/* "04 invalid password", for messages. Static or buf. */
const char *peer_esid_meaning(unsigned reason);

#endif
