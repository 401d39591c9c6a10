#!/bin/sh
# make.sh - regenerate the certificates of tests/unit/check_partner.c with
# certtool (gnutls-bin): a CA, a client certificate it issued, one it issued
# and revoked (crl.pem), an expired CRL (crl-expired.pem), and an unrelated
# CA with its own client; two more of
# the CA for the binding to the partner (tls.bind): bound.pem names
# O0013000000TEST in its CN and O0013000000ALT as a DNS-name SAN, other.pem
# names O0013000000CERT. Valid for a
# century, so the committed files do not expire under the tests; the keys
# are thrown away (the tests only verify).
set -eu
cd "$(dirname "$0")"
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
key() { certtool --generate-privkey --key-type=ecdsa --curve=secp256r1 --outfile "$t/$1.key" 2>/dev/null; }
printf 'cn = "%s"\nca\ncert_signing_key\ncrl_signing_key\nexpiration_days = 36500\n' "Partner Test CA" >"$t/ca.tmpl"
printf 'cn = "%s"\nca\ncert_signing_key\ncrl_signing_key\nexpiration_days = 36500\n' "Rogue CA" >"$t/rogue-ca.tmpl"
for n in ca rogue-ca; do
	key $n
	certtool --generate-self-signed --load-privkey "$t/$n.key" --template "$t/$n.tmpl" --outfile $n.pem 2>/dev/null
done
issue() { # name cn ca serial [extra template line]
	key "$1"
	printf 'cn = "%s"\nserial = %s\ntls_www_client\nsigning_key\nexpiration_days = 36500\n%s\n' "$2" "$4" "${5:-}" >"$t/$1.tmpl"
	certtool --generate-certificate --load-privkey "$t/$1.key" --load-ca-certificate "$3.pem" \
		--load-ca-privkey "$t/$3.key" --template "$t/$1.tmpl" --outfile "$1.pem" 2>/dev/null
}
issue client "ACME client" ca 10
issue revoked-client "ACME revoked" ca 11
issue rogue-client "ACME lookalike" rogue-ca 12
issue bound O0013000000TEST ca 13 'dns_name = "o0013000000alt"'
issue other O0013000000CERT ca 14
printf 'crl_next_update = 36500\ncrl_number = 1\n' >"$t/crl.tmpl"
certtool --generate-crl --load-ca-privkey "$t/ca.key" --load-ca-certificate ca.pem \
	--load-certificate revoked-client.pem --template "$t/crl.tmpl" --outfile crl.pem 2>/dev/null
# A CRL of the same CA whose nextUpdate is long past (it revokes nothing), for
# the crl_expired policy.
printf 'crl_this_update_date = "2020-01-01 00:00:00"\ncrl_next_update_date = "2020-01-02 00:00:00"\ncrl_number = 2\n' >"$t/crl-expired.tmpl"
certtool --generate-crl --load-ca-privkey "$t/ca.key" --load-ca-certificate ca.pem \
	--template "$t/crl-expired.tmpl" --outfile crl-expired.pem 2>/dev/null
