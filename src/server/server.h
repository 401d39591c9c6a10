/*
 * server.h - smartproxy-server's shared state (DMZ side).
 *
 * One struct server per process, owned by main(). It owns the tunnel
 * listener, the tunnel connections (one of them the control connection), the
 * current runtime configuration (reference counted: sessions keep the
 * revision they started with), the partner listeners opened from it, the
 * session loops (sloop.h) and what the control plane knows of each live
 * session (handoff.c). Nothing in it is ever written to disk.
 *
 * Threads: struct server belongs to the main loop's thread. Session loops
 * read only what never changes after the start (conf, chain, nchain, host)
 * and reach everything else by message (sloop.h). A revision's reference
 * count is atomic (sessions take and drop theirs on their loops); its last
 * release frees it on the main thread.
 */
#ifndef SP_SERVER_H
#define SP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <signal.h>
#include <stdint.h>
#include <json-c/json.h>
#include <smartproxy/module.h>

#include "core/bootstrap.h"
#include "core/cidr.h"
#include "core/conn.h"
#include "core/crl.h"
#include "core/hmap.h"
#include "core/loop.h"
#include "core/net.h"
#include "core/tls.h"
#include "core/workers.h"
#include "server/acceptor.h"
#include "server/chain.h"
#include "server/sloop.h"

struct session;
struct tunconn;
struct keyless;
struct pwait;
struct server_stats;

/* One partner listener of a configuration revision. */
struct rt_listener {
	char *name;
	struct sp_addr addr;
	char addr_text[SP_ADDR_TEXT];
	struct sp_identity tls;     /* certificate chain and key, memory only;
	                               keyless: chain and a key handle (keyless.c) */
	bool plain;                 /* no TLS: plain TCP */
	bool keyless;               /* key: inside; the client signs */
	bool require_client_cert;
	bool request_client_cert;
	/* PROXY protocol: a header is required, and only from these networks. */
	bool proxy_protocol;
	struct sp_cidr *trusted;
	size_t ntrusted;
};

/* An outgoing route: the inside calls a partner through the DMZ. */
struct rt_route {
	char *name;
	char *partner_id;               /* ODETTE ID the partner's SSID must carry */
	struct sp_addr partner;
	char partner_text[SP_ADDR_TEXT];
	struct sp_addr source;          /* len 0: the system chooses */
	bool plain;
	gnutls_certificate_credentials_t creds;  /* CA bundle, our client cert */
	bool has_ca;
	char (*pins)[SP_KEY_ID_HEX];    /* SHA-256 of the partner's DER cert */
	size_t npins;
	struct sp_crl_set crl;          /* info of the CRLs in creds (tls.crl) */
	bool crl_fail_open;             /* tls.crl_expired: fail_open */
};

/* A runtime configuration revision, shared by the sessions started under it. */
struct rtconf {
	unsigned refs;              /* atomic */
	struct sp_msg gone;         /* its last release off main: freed there */
	long long revision;
	struct rt_listener *listeners;
	size_t nlisteners;
	struct rt_route *routes;
	size_t nroutes;
	struct sp_addr default_source;  /* outgoing.source_address; len 0: none */
	void **modcfg;              /* per chain entry, from config_parse */
	struct server *srv;
	unsigned max_sessions;
	unsigned max_per_address;
	unsigned max_unverified;            /* sessions before the partner is verified */
	unsigned max_unverified_per_address;
	unsigned handshake_ms;
	unsigned ssid_ms;
	unsigned idle_ms;
	unsigned long long session_max_ms;
	unsigned inside_connect_ms;
	unsigned linger_ms;
};

/* An open partner listener socket. */
struct plistener {
	struct server *srv;
	int fd;
	char *name;
	struct sp_addr addr;
	char addr_text[SP_ADDR_TEXT];
	struct rtconf *rt;          /* revision whose credentials it uses */
	size_t idx;                 /* index in rt->listeners */
	struct acceptor acc;        /* its watch in the loop */
};

struct server {
	struct sp_loop *loop;
	struct sp_server_conf conf;
	const char *conf_path;
	struct sp_identity id;
	char (*pairing)[SP_KEY_ID_HEX];
	size_t npairing;
	int pairing_dirfd;          /* the pairing file's directory, opened
	                               before the chroot (-1: not yet) */
	char *pairing_path;         /* as given, for log lines */
	char *pairing_name;         /* its name in that directory */
	int tunnel_fd;
	struct acceptor tunnel_acc;
	struct tunconn *tunconns;   /* all tunnel connections (list) */
	struct tunconn *control;    /* the one carrying control messages */
	struct sp_workers *tunnel_hs; /* tunnel handshakes off the main thread
	                               (several loops only; tunnel.c) */
	struct sp_hmap tunnel_hs_from; /* address -> its tunnel handshakes in
	                               progress (unsigned, tunnel.c) */
	unsigned tunnel_nhs;        /* tunnel handshakes in progress, in all */
	struct rtconf *rt;          /* current revision or NULL */
	struct plistener *pl;
	size_t npl;
	struct chain_entry *chain;
	size_t nchain;
	unsigned nsessions;         /* live sessions, on every loop */
	unsigned long long nofile;  /* open-files limit after the start's raise (core/nofile.h) */
	struct sp_hmap session_ids; /* session number -> struct sref (handoff.c) */
	struct sloop *sloops;       /* the session loops (sloop.h) */
	unsigned nsloops;
	unsigned sloop_next;        /* round robin among equals */
	bool loops_gone;            /* sloops_stop() ran: nothing to post to */
	struct sp_hmap addr_counts; /* partner address -> its counts (admit.c) */
	struct pwait *pwaits;       /* connections waiting for their PROXY header */
	unsigned npwait;
	unsigned nunverified;       /* incoming, inside not asked for yet */
	uint64_t next_session;
	const struct sp_host *host;
	struct keyless *keyless;      /* signatures by the client (keyless.c) */
	struct server_stats *stats;   /* counters (stats.h) */
	bool stopping;
	bool draining;              /* SIGTERM: no new sessions, see main.c */
};

/* main.c: the one server of this process, for host calls without a session. */
extern struct server *server_self;

/* sig.c: SIGHUP reloads, SIGTERM/SIGINT drains (see sig.c). */
struct server_sig {
	struct server *srv;
	int fd;                     /* signalfd, owned */
	struct sp_timer poll;       /* draining: has the last session ended? */
	struct sp_timer drain;      /* draining: drain_timeout */
};
int server_signals_start(struct server *srv, const sigset_t *mask, struct server_sig *ss);
void server_signals_stop(struct server_sig *ss);

/* pairing.c */
/*
 * Read the pairing file. The first call opens its directory and keeps the
 * handle; later calls (SIGHUP) read the file through it, so a reload works
 * in the chroot and picks up a file an editor replaced. `path` is only used
 * by the first call. pairing_close() releases the handle and the keys.
 */
int pairing_load(struct server *srv, const char *path, char *err, size_t errlen);
void pairing_close(struct server *srv);
bool pairing_allows(const struct server *srv, const char *key_id);

/* tunnel.c */
int tunnel_start(struct server *srv, char *err, size_t errlen);
/* The server stops: the tunnel port and every tunnel connection close but
 * the control connection, which still carries what the last sessions'
 * ends send the backend (their audit records) until tunnel_stop(). */
void tunnel_quiesce(struct server *srv);
/* Has the control connection output still to send? */
bool tunnel_flushing(const struct server *srv);
/* Close whatever is left (and what tunnel_quiesce closes). */
void tunnel_stop(struct server *srv);
/* Ask the client for a data connection for session `sid` (listener NULL:
 * an outgoing session's; not asked then). */
int tunnel_request_inside(struct server *srv, uint64_t sid, const char *listener,
    const char *peer);
void tunnel_send(struct server *srv, json_object *msg);

/* bridge.c */
int bridge_post(struct server *srv, const char *path, const char *json);
void bridge_flush(struct server *srv);
int bridge_start(struct server *srv);
/* "v1/...": a path the backend may be asked or posted to. Any thread. */
bool bridge_path_valid(const char *path);
/* A module's question for session `sid` on loop `sl`, on main; the answer
 * (or -1 when none comes in timeout_ms) goes back to that loop by message. */
void bridge_ask(struct server *srv, struct sloop *sl, uint64_t sid, size_t idx,
    const char *path, const char *json, unsigned timeout_ms,
    void (*answer)(struct sp_msess *, void *, int, const char *), void *arg);
void bridge_answer(struct server *srv, json_object *msg);
void bridge_fail_asks(struct server *srv);
void bridge_stop(struct server *srv);

/* keyless.c: listener keys that stay with the client. `pool`: the main
 * loop carries the sessions (loops: 1) and gets the handshake threads;
 * otherwise every session loop has its own (sloop.c) and main none. */
int keyless_start(struct server *srv, bool pool);
void keyless_stop(struct server *srv);
/* Credentials for `chain_pem` whose key signs through the tunnel. */
int keyless_creds(struct server *srv, const char *listener, const char *chain_pem,
    gnutls_certificate_credentials_t *out, char *err, size_t errlen);
/* The main loop's handshake threads (NULL: started without a pool). */
struct sp_workers *keyless_workers(struct server *srv);
/* A "signature" message from the client. */
void keyless_answer(struct server *srv, json_object *msg);
/* Control connection lost: every waiting handshake fails now. */
void keyless_fail_all(struct server *srv, const char *why);
/* The server stops: every waiting handshake fails now and every later
 * signature at once, so that no handshake thread waits for an answer the
 * main thread, busy joining the session loops, would never send. Before
 * sloops_stop(); keyless_stop() frees what is left. */
void keyless_refuse(struct server *srv);

/* rtconf.c */
int rtconf_parse(struct server *srv, json_object *doc, struct rtconf **out,
    char *err, size_t errlen);
struct rtconf *rtconf_ref(struct rtconf *rt);
void rtconf_unref(struct rtconf *rt);

/* listener.c */
int listeners_apply(struct server *srv, struct rtconf *rt, char *err, size_t errlen);
void listeners_close(struct server *srv);

/* proxywait.c: read the PROXY header, then session_accept_from(). Takes the fd. */
void proxywait_accept(struct plistener *pl, int fd, const struct sp_addr *from);
void proxywait_drop_all(struct server *srv);

/* admit.c: may a connection from addr (text) start a session? SP_OK, or
 * SP_ERR_LIMIT after logging why (the caller closes it). Behind a balancer
 * addr is the one the PROXY header carried; connections still waiting for
 * their header (srv->npwait) count against max_sessions and max_unverified. */
int admit_incoming(struct server *srv, const struct rtconf *rt, const char *addr);
/* The per-address counts admit_incoming() reads, kept by session.c for each
 * incoming session: admit_enter() once it exists (unverified; SP_ERR_NOMEM:
 * refuse it), admit_verified() when it leaves the unverified, admit_leave()
 * when it ends (after admit_verified). */
int admit_enter(struct server *srv, const char *addr);
void admit_verified(struct server *srv, const char *addr);
void admit_leave(struct server *srv, const char *addr);

/* handoff.c: the control plane's side of sessions (main loop). */
void session_accept(struct plistener *pl, int fd, const struct sp_addr *peer);
/*
 * A partner connection on listener `lidx` of `rt`, from `peer` (the address a
 * PROXY header carried when `balancer` is not NULL: the balancer's address).
 * Takes the fd. For the PROXY stage, whose listener slot may have been
 * replaced by a newer revision's meanwhile.
 */
void session_accept_from(struct server *srv, struct rtconf *rt, size_t lidx, int fd,
    const struct sp_addr *peer, const char *balancer);
/* The client brought an outgoing call for route `ri` on data connection c
 * (takes c and copies early). */
void session_outgoing(struct server *srv, struct rtconf *rt, size_t ri, struct sp_conn *c,
    struct sp_buf *early);
/* Is session `sid` live (on some loop)? */
bool session_known(struct server *srv, uint64_t sid);
/* The client's data connection for `sid` arrived: it goes to the session's
 * loop to become the inside leg (takes c, copies early). */
void session_attach_inside(struct server *srv, uint64_t sid, struct sp_conn *c,
    struct sp_buf *early);
/* The client could not reach the inside server for `sid`. */
void session_inside_failed(struct server *srv, uint64_t sid, const char *why);
/* Every loop ends its sessions with `reason`. */
void sessions_end_all(struct server *srv, const char *reason);
/* Answer the client's live_get once every loop has said its part. */
void sessions_live(struct server *srv);
/* After the last session is gone, before the loop is freed: drop a
 * waiting memory trim. */
void sessions_trim_stop(void);
/* session.c: a session fact (owned by the session), or NULL. */
const char *session_fact(struct session *s, const char *key);

#endif
