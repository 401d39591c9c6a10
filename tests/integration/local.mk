# tests/integration: build fragment, included from the top Makefile.am.
# Shell tests with real processes on 127.0.0.1; lib.sh is their harness.

SP_PEER_TESTS = \
	tests/integration/peer_plain.sh \
	tests/integration/peer_large.sh \
	tests/integration/peer_tls.sh \
	tests/integration/peer_refuse.sh
dist_check_SCRIPTS += $(SP_PEER_TESTS)
TESTS += $(SP_PEER_TESTS)
EXTRA_DIST += tests/integration/lib.sh

# Module ABI seen from outside: build modules/example-connlimit against the
# installed header with pkg-config, load it (driver: src/core/modules.mk).
dist_check_SCRIPTS += tests/integration/module_out_of_tree.sh
TESTS += tests/integration/module_out_of_tree.sh

# The chain: smartproxy-server, smartproxy-client and a backend on loopback.
SP_CHAIN_TESTS = \
	tests/integration/cli_bootstrap.sh \
	tests/integration/chain_relay.sh \
	tests/integration/chain_pairing.sh \
	tests/integration/chain_faults.sh \
	tests/integration/chain_memory.sh \
	tests/integration/chain_reconfig.sh \
	tests/integration/chain_loops.sh \
	tests/integration/chain_limits.sh \
	tests/integration/chain_outgoing.sh \
	tests/integration/chain_keyless.sh \
	tests/integration/keyless_pkcs11.sh \
	tests/integration/chain_outgoing_crl.sh \
	tests/integration/chain_inside_queue.sh \
	tests/integration/chain_tunnel_limit.sh \
	tests/integration/e2e_demo.sh
dist_check_SCRIPTS += $(SP_CHAIN_TESTS)
TESTS += $(SP_CHAIN_TESTS)
EXTRA_DIST += tests/integration/chain.sh tests/integration/fake_backend.py \
	tests/integration/relay_peer.py tests/integration/inside_queue.py \
	tests/integration/tunnel_hold.py

# smartproxy-api (docs/api.md): HTTPS config document, ETag/long poll, tokens.
SP_API_TESTS = tests/integration/api_config.sh tests/integration/api_roles.sh \
	tests/integration/api_limits.sh
dist_check_SCRIPTS += $(SP_API_TESTS)
TESTS += $(SP_API_TESTS)

# The admin panel in Debian's Chromium, headless, over the DevTools pipe
# (issue 15): logins, partners, rules, a live transfer, audit, CSRF.
dist_check_SCRIPTS += tests/integration/panel_browser.sh
TESTS += tests/integration/panel_browser.sh
EXTRA_DIST += tests/integration/cdp.py tests/integration/panel_browser.py

# The DMZ->backend surface (issue 11): a fake server on the tunnel asks the
# real client to change the real backend; refused, logged, reported.
dist_check_SCRIPTS += tests/integration/dmz_surface.sh
TESTS += tests/integration/dmz_surface.sh
EXTRA_DIST += tests/integration/fake_dmz.py

# The partner module (modules/partner) in the chain: refusals before TLS and
# at the certificate, the brake, SSID decisions with the OFTP2 module, a
# brute-force burst beside a valid transfer; each also checks the fail2ban
# filter of contrib/fail2ban against the log it produced.
SP_PARTNER_TESTS = \
	tests/integration/partner_open.sh \
	tests/integration/partner_ssid.sh \
	tests/integration/partner_bind.sh \
	tests/integration/partner_crl.sh
dist_check_SCRIPTS += $(SP_PARTNER_TESTS)
TESTS += $(SP_PARTNER_TESTS)
EXTRA_DIST += tests/integration/partner_lib.sh tests/integration/partner_probe.py

# Attacks before authentication (issue 11): silent TLS connections held from
# several addresses, a fill of max_unverified, protocol violations and
# wrong passwords sent all at once; out of descriptors on the partner port
# and a flood of silent connections on the tunnel port; driven by
# preauth_drive.py.
SP_PREAUTH_TESTS = tests/integration/preauth_flood.sh tests/integration/preauth_fds.sh
dist_check_SCRIPTS += $(SP_PREAUTH_TESTS)
TESTS += $(SP_PREAUTH_TESTS)
EXTRA_DIST += tests/integration/preauth_drive.py

# The OFTP2 module (modules/oftp2) in the chain: valid exchanges pass
# unchanged, the bad-input corpus ends with the specified ESID.
SP_OFTP2_MOD_TESTS = \
	tests/integration/oftp2_valid.sh \
	tests/integration/oftp2_bad.sh \
	tests/integration/oftp2_outgoing.sh \
	tests/integration/oftp2_ends.sh \
	tests/integration/oftp2_unasked_leg.sh
dist_check_SCRIPTS += $(SP_OFTP2_MOD_TESTS)
TESTS += $(SP_OFTP2_MOD_TESTS)
EXTRA_DIST += tests/integration/oftp2_lib.sh tests/integration/oftp2_bad.py

# The conformance suite as data (tests/conformance/*.case, RFC section,
# expected result, both sides' frames), replayed by one runner.
dist_check_SCRIPTS += tests/integration/oftp2_conformance.sh
TESTS += tests/integration/oftp2_conformance.sh
EXTRA_DIST += tests/conformance

# Operations (issue 7): log-ignore rules, the event script, session audit and
# smartproxyctl against the real backend and chain.
SP_OPS_TESTS = \
	tests/integration/ops_events.sh \
	tests/integration/ops_flood.sh \
	tests/integration/ops_nofile.sh
dist_check_SCRIPTS += $(SP_OPS_TESTS)
TESTS += $(SP_OPS_TESTS)

# Signals (issue 13): SIGHUP reloads and reopens logs, SIGTERM drains.
SP_SIGNAL_TESTS = \
	tests/integration/ops_server_signals.sh \
	tests/integration/ops_client_signals.sh \
	tests/integration/ops_api_signals.sh
dist_check_SCRIPTS += $(SP_SIGNAL_TESTS)
TESTS += $(SP_SIGNAL_TESTS)

# DMZ hardening (src/core/sandbox.h, docs/threat-model.md): the seccomp filter
# on every server thread with a session through it; as root, the server
# chrooted into an empty directory as 'nobody' (skipped when not root).
SP_HARDENING_TESTS = \
	tests/integration/hardening_seccomp.sh \
	tests/integration/hardening_chroot.sh
dist_check_SCRIPTS += $(SP_HARDENING_TESTS)
TESTS += $(SP_HARDENING_TESTS)

# Live state and metrics (issue 15): a transfer held half-way by
# pause_relay.py in `smartproxyctl sessions --live` and in GET /metrics
# (promtool), the client stopped mid-transfer: stale within three heartbeats.
SP_LIVE_TESTS = tests/integration/live_metrics.sh
dist_check_SCRIPTS += $(SP_LIVE_TESTS)
TESTS += $(SP_LIVE_TESTS)
EXTRA_DIST += tests/integration/pause_relay.py

# Online decisions and outgoing sessions through the full module chain
# (issues 6 and 8): the partner module asks the real smartproxy-api per SSID
# (allowed, blocked with the backend's ESID, backend stopped or gone: ESID 08
# within the timeout); modules oftp2 and partner on an outgoing route (the
# right partner passes unchanged, a wrong one gets ESID 03 on both sides).
SP_ONLINE_TESTS = \
	tests/integration/partner_online.sh \
	tests/integration/chain_outgoing_modules.sh
dist_check_SCRIPTS += $(SP_ONLINE_TESTS)
TESTS += $(SP_ONLINE_TESTS)

# Changing a partner (PUT /v1/partners/<id>, smartproxyctl partners change)
# with the real smartproxy-api and the chain running the oftp2 and partner
# modules: a changed password takes effect at once (the old one gets ESID
# 04 although the module had cached it), the new one passes; other fields
# change alone; bad changes are 404/400 naming the field, no revision.
SP_API_PARTNER_TESTS = tests/integration/api_partners.sh
dist_check_SCRIPTS += $(SP_API_PARTNER_TESTS)
TESTS += $(SP_API_PARTNER_TESTS)

# The site file next to daily work with smartproxyctl (smartproxy-api
# --import merges, --replace backs up first, --export round-trips into a
# fresh database); partners remove; smartproxyctl's refusals, --json and
# exit codes. api_certs: a listener certificate and a partner's CA bundle
# change through smartproxyctl while the chain runs (a session in flight
# keeps going, a new one gets the new certificate).
SP_API_IMPORT_TESTS = tests/integration/api_import.sh \
	tests/integration/api_certs.sh
dist_check_SCRIPTS += $(SP_API_IMPORT_TESTS)
EXTRA_DIST += tests/integration/rotate_probe.py
TESTS += $(SP_API_IMPORT_TESTS)

# smartproxy-api on PostgreSQL (docs/api.md 8): api_pg runs the API suite
# above again against a throwaway PostgreSQL server (pg.sh: initdb and
# postgres from Debian's postgresql, unix socket only), one fresh database
# per test; api_ha: two instances on one database (LISTEN/NOTIFY wakes the
# other's long poll, an event runs the event script once).
SP_API_PG_TESTS = tests/integration/api_pg.sh tests/integration/api_ha.sh
dist_check_SCRIPTS += $(SP_API_PG_TESTS)
EXTRA_DIST += tests/integration/pg.sh
TESTS += $(SP_API_PG_TESTS)

# A partner's OFTP2 quirk from refusal to admission (issue 14): the refusal
# names the switch, smartproxyctl partners diagnose reads it from the real
# smartproxy-api, partners oftp2 sets it (one revision), the quirk passes
# and is named in an oftp2_deviation line.
dist_check_SCRIPTS += tests/integration/oftp2_diagnose.sh
TESTS += tests/integration/oftp2_diagnose.sh
EXTRA_DIST += tests/integration/oftp2_lf.py

# Logs that keep working: the shipped fail2ban jail read by a real
# fail2ban-server across the daily roll of the log file (the current-file
# link; tests/integration/log_drive sets the logger's clock).
dist_check_SCRIPTS += tests/integration/log_fail2ban.sh
TESTS += tests/integration/log_fail2ban.sh

# Issue 12: the installed manual pages (render clean, every --help option in
# its page, --version/--help exit 0) and the hardening of the installed DMZ
# daemon (PIE, full RELRO, stack protector, FORTIFY).
dist_check_SCRIPTS += tests/integration/man_pages.sh tests/integration/hardening_flags.sh
TESTS += tests/integration/man_pages.sh tests/integration/hardening_flags.sh

# Service manager integration: READY=1/STOPPING=1 on $NOTIFY_SOCKET.
# ... and the units make install ships (verify, security rating, examples).
dist_check_SCRIPTS += tests/integration/svc_notify.sh tests/integration/svc_units.sh
TESTS += tests/integration/svc_notify.sh tests/integration/svc_units.sh
EXTRA_DIST += tests/integration/notify_listen.py
EXTRA_DIST += tests/integration/keyless_lib.sh tests/integration/keyless_mem.py

# High availability: HAProxy (send-proxy-v2) in front of two DMZ nodes fed by
# one backend (docs/deployment.md).
dist_check_SCRIPTS += tests/integration/ha_balancer.sh
TESTS += tests/integration/ha_balancer.sh
EXTRA_DIST += tests/integration/ha_hold.py
# ... and a keyless listener (the key with the client) behind HAProxy.
dist_check_SCRIPTS += tests/integration/keyless_haproxy.sh
TESTS += tests/integration/keyless_haproxy.sh

# panel_browser.sh keeps its screenshots beside its log.
clean-local: clean-panel-screens
clean-panel-screens:
	rm -rf tests/integration/panel_browser.screens
.PHONY: clean-panel-screens
