/*
 * session.h - one OFTP2 session of oftp2-peer, either role.
 *
 * peer_session_run() drives a whole session over an established connection:
 * start (SSRM/SSID, negotiation), then turns of speaker and listener until
 * ESID. The speaker sends the EERPs it owes and its files, then hands the turn
 * over with CD, or ends the session with ESID 00 when it got the turn by an
 * unsolicited CD and has nothing to send (RFC 5024 state tables, ref §5.4).
 *
 * The internals below are shared by session.c (start, turns, EERP), xfer_send.c
 * (speaker side of a file) and xfer_recv.c (listener side) and io.c (framing).
 * struct peer_session owns its buffers and lists; peer_session_run() sets up
 * and frees everything; the connection and options belong to the caller.
 */
#ifndef PEER_SESSION_H
#define PEER_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "oftp2/codec.h"
#include "conn.h"
#include "opts.h"

/* Run one session. 0 only if it ended normally (ESID 00) and every file sent
 * was accepted (and acknowledged by EERP with --wait-eerp). */
int peer_session_run(struct peer_conn *conn, const struct peer_opts *o,
    int initiator, int dirfd);

/* ---- internals ---- */

struct peer_sent {             /* a file we sent: what EERP must match */
	char dsn[OFTP2_DSN_LEN + 1];
	uint32_t date, time;
	int accepted;          /* EFPA received */
	int eerp;              /* EERP received */
};

struct peer_recvd {            /* a file we received: the EERP we owe */
	char dsn[OFTP2_DSN_LEN + 1];
	uint32_t date, time;
	char user[OFTP2_USER_LEN + 1];
	char orig[OFTP2_SIO_LEN + 1];
	char dest[OFTP2_SIO_LEN + 1];
	int eerp_sent;
};

struct peer_session {
	const struct peer_opts *o;
	struct peer_conn *conn;
	int initiator;
	int dirfd;
	const struct peer_partner *partner;   /* the other side, once known */
	struct oftp2_session_params p;

	struct sp_buf in;          /* the last frame received */
	struct sp_buf out;         /* the frame being sent */
	struct oftp2_cmd cmd;      /* last command received; points into in */
	size_t cmd_len;            /* its OEB length */

	size_t next_file;          /* next of o->send_files to send */
	struct peer_sent *sent;
	size_t nsent;
	struct peer_recvd *recvd;
	size_t nrecvd;
	unsigned counter;          /* SFIDTIME counter cccc */

	int cdind;                 /* speaker got the turn by unsolicited CD */
	int sent_cd_last;          /* our last command was an unsolicited CD */
	int awaiting_cd;           /* we sent EFPA CD=Y: CD must come next */
	int ended;                 /* ESID sent or received */
	int normal_end;            /* that ESID was 00 */
	int failures;              /* files refused, either direction */
};

/* io.c: frames and commands. `what` names what we wait for, for messages. */
int peer_recv(struct peer_session *s, const char *what);
int peer_send(struct peer_session *s, const struct oftp2_cmd *cmd);
/* Send an already built frame (DATA) from s->out, then empty s->out. */
int peer_send_out(struct peer_session *s);
/* Best effort ESID with reason and text; marks the session ended. */
void peer_send_esid(struct peer_session *s, unsigned reason, const char *text);
/* The command just received is not valid here: report an ESID from the
 * partner, or answer ESID 02. Returns the error to end the session with. */
int peer_unexpected(struct peer_session *s, const char *state);

/* xfer_send.c: send one file as speaker, under virtual file name vfn (NULL:
 * derived from path). 0 also when the partner refused the file (counted in
 * failures); <0 ends the session. */
int peer_send_file(struct peer_session *s, const char *path, const char *vfn);
/* xfer_recv.c: the SFID in s->cmd was received as listener; receive the file. */
int peer_recv_file(struct peer_session *s);

#endif
