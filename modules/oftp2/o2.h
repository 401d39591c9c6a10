/*
 * o2.h - internal to the OFTP2 verification module (modules/oftp2): the
 * module's process state, its parsed runtime configuration, the per-session
 * state and the functions the module's files share.
 *
 * Files: module.c (descriptor, hooks, timers, delivery), config.c (the
 * `modules.oftp2` section), stream.c (STH reassembly per direction, frame
 * dispatch, forwarding), state.c (the session state machine of wire reference
 * §5.2-5.5 for both roles), report.c (violations, deviations, ESID, dialogue
 * and file log), admit.c (the switch that would admit a refusal).
 *
 * Ownership: struct o2_mod belongs to the module (init/fini). struct
 * o2_config is made by config_parse and freed by config_free; sessions only
 * read it through host->config(). struct o2_sess lives in the core-owned
 * session context; the two input buffers it holds are the module's and are
 * freed on close (the core runs on_close only after the module's calls
 * have returned, module.h).
 *
 * Sides: O2_OUT is the partner (the OUTSIDE leg), O2_IN the inside OFTP2
 * server. Bytes that arrive from a side travel in direction o2_dir(side).
 */
#ifndef SP_MOD_OFTP2_O2_H
#define SP_MOD_OFTP2_O2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <smartproxy/module.h>
#include <smartproxy/oftp2.h>

#include "core/buf.h"
#include "oftp2/codec.h"

/* Timer ids of the module (host->timer_set). */
enum o2_timer {
	O2_T_SSRM = 1,     /* 0 ms after on_open: greet a plain-TCP initiator */
	O2_T_SSID = 2,     /* SSRM sent -> SSID received (both SSIDs) */
	O2_T_IDLE = 3,     /* no byte in either direction */
	O2_T_SESSION = 4   /* whole-session limit */
};

/* Defaults and ranges of the timeouts (docs/api.md, limits). */
#define O2_SSID_TIMEOUT_DEFAULT  30000u
#define O2_IDLE_TIMEOUT_DEFAULT  300000u
#define O2_SESSION_MAX_DEFAULT   86400000u

/*
 * Per-direction input bound: one frame of the largest size the protocol
 * allows plus one read of the core that may arrive while the module holds.
 * Storage grows lazily and is released when empty; the early length checks
 * keep a DATA frame within the negotiated buffer size.
 */
#define O2_IN_MAX (OFTP2_STB_MAX + 65536u)

/* Tolerances one partner overrides: `set` says which bits `val` decides. */
struct o2_partner_tol {
	char odette_id[OFTP2_SIO_LEN + 1];
	unsigned set;
	unsigned val;
	int check_counts;            /* -1: as global, else 0/1 */
	bool detect;                 /* detect mode for this partner only */
};

/* The parsed `modules.oftp2` section. */
struct o2_config {
	uint64_t ssid_timeout_ms;
	uint64_t idle_timeout_ms;
	uint64_t session_max_ms;
	/* Set in the section: else the revision's limits (session facts) rule. */
	bool ssid_set, idle_set, max_set;
	unsigned tol;                /* OFTP2_TOL_* for every partner */
	bool cipher_ok[100];         /* SFIDCIPH values accepted (00 always) */
	bool check_counts;           /* EFID against DATA seen (U/T, no restart) */
	struct o2_partner_tol *partners;
	size_t npartners;
};

/* Process state. */
struct o2_mod {
	const struct sp_host *host;
	enum sp_mode mode;
	struct o2_config defaults;   /* used when the revision has no section */
};

enum o2_side { O2_OUT = 0, O2_IN = 1 };

static inline enum sp_dir o2_dir(enum o2_side side)
{ return side == O2_OUT ? SP_TO_INSIDE : SP_TO_OUTSIDE; }
static inline enum o2_side o2_other(enum o2_side side)
{ return side == O2_OUT ? O2_IN : O2_OUT; }

/* Where the session is (wire reference §5.4, proxy view). */
enum o2_phase {
	PH_GREET,      /* own SSRM not yet sent to the initiator */
	PH_SSID_I,     /* waiting for the initiator's SSID */
	PH_SSID_HELD,  /* initiator's SSID accepted, responder's SSRM awaited */
	PH_SSID_R,     /* initiator's SSID passed on, responder's SSID awaited */
	PH_AUTH,       /* secure authentication, step auth_step (1..6) */
	PH_IDLE,       /* speaker may start a file, EERP/NERP, CD or ESID */
	PH_WF_SFANS,   /* SFID sent, SFPA/SFNA awaited */
	PH_DATA,       /* DATA/CDT/EFID */
	PH_WF_EFANS,   /* EFID sent, EFPA/EFNA awaited */
	PH_WF_CD,      /* EFPA Y: the speaker's CD is mandatory */
	PH_WF_RTR,     /* EERP/NERP sent, RTR awaited */
	PH_END         /* ESID passed or sent: nothing more */
};

/* What the session does after a frame was handled. */
enum o2_act {
	A_FORWARD,     /* valid: deliver, then pass on */
	A_SWALLOW,     /* valid, but the proxy answers it itself (SSRM) */
	A_HOLD_SSID,   /* initiator's SSID: deliver, pass on when possible */
	A_END          /* valid ESID: deliver, pass on, end the session */
};

/* One file in transfer (for checks and the INFO line). */
struct o2_file {
	bool active;
	enum o2_side from;           /* the speaker that sent the SFID */
	char dsn[OFTP2_DSN_LEN + 1];
	enum oftp2_format format;
	uint64_t rest;               /* SFIDREST */
	uint64_t acnt;               /* SFPAACNT */
	bool secured;                /* SEC/COMP set: travels as U */
	bool records_checked;        /* F/V not secured: records checked */
	uint32_t lrecl;              /* SFIDLRECL */
	uint64_t rec_len;            /* octets of the record still open */
	uint64_t octets;             /* file octets of all DATA so far */
	uint64_t size_kib;           /* SFIDOSIZ, else SFIDFSIZ (announced) */
	uint64_t records;
	uint64_t buffers;
};

/* A frame that the rest of the chain holds, or whose pass-on waits. */
struct o2_held {
	struct oftp2_cmd cmd;        /* its T/U fields point into raw below */
	struct sp_message msg;
	uint8_t *raw;                /* frame copy (STH + OEB), malloc'd */
	size_t raw_len;
	enum o2_side from;
	enum o2_act act;
};

struct o2_sess {
	struct o2_mod *mod;
	struct sp_msess *ms;
	const struct o2_config *cfg;
	bool outgoing;
	enum o2_side ini, rsp;       /* initiator / responder side */
	unsigned tol;                /* effective tolerances (global, then partner) */
	bool check_counts;
	bool detect;                 /* this partner is in detect mode */
	bool tol_final;              /* partner tolerances applied */
	unsigned state_dev;          /* deviations the state machine admitted in
	                                the frame at hand (OFTP2_TOL_*) */
	unsigned admit;              /* the switch that would admit the refusal
	                                being reported (o2_admit), 0 if none */
	uint64_t ssid_ms, idle_ms, max_ms;  /* effective timeouts */

	enum o2_phase phase;
	bool rsp_ready;              /* responder's SSRM seen (and swallowed) */
	bool leg_up[2];              /* a side has seen bytes from us */
	bool ssid_seen[2];
	bool legacy[2];              /* side spoke OFTP 1.x: ESID in its layout */
	unsigned dev_seen;           /* deviations already logged (OFTP2_TOL_* |
	                                OFTP2_DEV_*): one line per rule */
	struct oftp2_ssid ssid[2];   /* by side */
	struct oftp2_session_params params;
	bool negotiated;
	unsigned auth_step;
	enum o2_side speaker;
	bool cdind;                  /* speaker got the turn by unsolicited CD */
	unsigned credit;
	bool efid_at_zero;           /* tolerance: EFID sent while credit 0 */
	bool cdt_crossing;           /* tolerance: one CDT after it allowed */
	struct o2_file file;
	unsigned end_reason;         /* ESIDREAS of a valid ESID that passed */

	struct sp_buf in[2];         /* partial (or held-back) input by side */
	bool paused;                 /* a delivery is pending: process nothing */
	bool data_held[2];           /* on_data returned SP_HOLD, by direction */
	struct o2_held held;         /* the frame of the pending delivery */
	bool have_held;
	uint64_t cookie;
	bool passthrough;            /* detect mode after a violation */
	bool dead;                   /* session ended: touch nothing */
	bool closed;                 /* on_close ran */
	uint64_t frames[2];
};

/* ---- config.c ---- */
void o2_config_defaults(struct o2_config *c);
int o2_config_parse_json(const char *json, struct o2_config *c, char *err,
    size_t errlen);
void o2_config_release(struct o2_config *c);
/* Tolerances and count check for a partner code ("" or NULL: global). */
unsigned o2_config_tol(const struct o2_config *c, const char *odette_id,
    bool *check_counts, bool *detect);
/* The configuration key of one OFTP2_TOL_* flag ("tolerate_lf_trailer"),
 * NULL for a deviation no switch governs. */
const char *o2_config_switch_name(unsigned flag);

/* ---- stream.c ---- */
/* Take bytes from a side; returns the verdict for on_data. */
enum sp_verdict o2_stream_feed(struct o2_sess *s, enum o2_side side,
    const uint8_t *p, size_t n);
/* The pending delivery ended with verdict v: finish its frame. */
enum sp_verdict o2_stream_held_done(struct o2_sess *s, enum sp_verdict v);
/* Work through what was buffered while paused (after a delivery ended). */
enum sp_verdict o2_stream_drain(struct o2_sess *s);
/* Detect mode: pass every byte on from now on, the buffered ones first. */
void o2_stream_passthrough(struct o2_sess *s);

/* ---- state.c ---- */
/* Early check when only the command octet and length are known: 0 or an
 * ESID reason, err filled. */
int o2_state_early(struct o2_sess *s, enum o2_side from, uint8_t code,
    size_t oeb_len, struct oftp2_err *err);
/* Check a parsed command against the state and advance it. 0 and *act, or an
 * ESID reason with err filled. */
int o2_state_apply(struct o2_sess *s, enum o2_side from,
    const struct oftp2_cmd *cmd, const uint8_t *oeb, size_t oeb_len,
    enum o2_act *act, struct oftp2_err *err);
/* An SSID below level 5 (OFTP 1.x, whose layout differs): 0 if oeb is not
 * one, else ESID 10 with err filled and the side marked legacy, so that
 * its ESID goes out in the 1.x layout. Called before the OFTP2 parse. */
int o2_state_legacy(struct o2_sess *s, enum o2_side from, const uint8_t *oeb,
    size_t oeb_len, struct oftp2_err *err);
const char *o2_phase_name(enum o2_phase ph);
/* "partner" / "inside" */
const char *o2_side_name(enum o2_side side);

/* ---- admit.c ---- */
/* The OFTP2_TOL_* switch that would have admitted this refusal, 0 if none
 * (oeb NULL when only the STH and command octet were seen). */
unsigned o2_admit(const struct o2_sess *s, enum o2_side from,
    const uint8_t *oeb, size_t oeb_len, const struct oftp2_err *err);

/* ---- report.c ---- */
/* Build and send one ESID to a side (if its leg is up): 0 when it went
 * out, <0 when the side never heard from us or the leg is gone. */
int o2_send_esid(struct o2_sess *s, enum o2_side to, unsigned reason);
/*
 * The ESID that ends the session, for the audit record and the session line
 * (facts oftp2.end_esid "NN" and oftp2.end_esid_from): `from` is "partner",
 * "inside" or "proxy". The first one noted stays.
 */
void o2_note_end(struct o2_sess *s, unsigned reason, const char *from);
/* "partner" / "inside" as the audit names a side. */
const char *o2_side_who(enum o2_side side);
/* Build and send the proxy's SSRM to a side. 0 or <0. */
int o2_send_ssrm(struct o2_sess *s, enum o2_side to);
/*
 * A violation by `from` (or by nobody: timeouts pass -1 cast). Enforce mode:
 * ESID to both sides where up, security line, event, host->end; returns
 * SP_ABORT. Detect mode: the same lines marked as detected, passthrough from
 * now on; returns SP_CONTINUE.
 */
enum sp_verdict o2_violation(struct o2_sess *s, int from,
    const struct oftp2_err *err);
enum sp_verdict o2_timeout(struct o2_sess *s, const char *what);
/* One `oftp2_deviation` security line and event per rule and session for
 * what the codec or the state machine admitted from `from`. */
void o2_deviations(struct o2_sess *s, enum o2_side from,
    const struct oftp2_dev *dev);
/* The dialogue line (DEBUG) of one command; never the password. */
void o2_log_cmd(struct o2_sess *s, enum o2_side from,
    const struct oftp2_cmd *cmd);
/* The INFO line of a file, with its result ("EFPA", "SFNA 13", ...). */
/* The file's entry in the session's audit record (fact "oftp2.files"). */
void o2_audit_file(struct o2_sess *s, const char *result);
void o2_log_file(struct o2_sess *s, const char *result);
/* The file in transfer as the session fact "oftp2.file" (JSON), for the
 * live list (docs/api.md 5.3): at SFID, then each time DATA crosses another
 * O2_PROGRESS_STEP octets; "" once the file ended. */
#define O2_PROGRESS_STEP (64u * 1024)
void o2_file_progress(struct o2_sess *s);

#endif
