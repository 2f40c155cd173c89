#!/usr/bin/env bash
# selftest.sh -- end-to-end check of the harness recipes on this machine:
# Dovecot start (plain + TLS) / IMAP smoke / restart keeps mail / UIDVALIDITY
# recipes / stop leaves no process; then the SMTP sink in all modes.
# Needs: dovecot-imapd python3-aiosmtpd openssl (Debian). Loopback only.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
freeport() { $PY -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
D=$(mktemp -d /tmp/dvt.XXXXXX)
cleanup() { "$HERE/stop-dovecot.sh" "$D" >/dev/null 2>&1 || true; rm -rf "$D"; }
trap cleanup EXIT
P=$(freeport); T=$(freeport)
C=$D/dovecot.conf

echo "== dovecot $(dovecot --version)"
"$HERE/start-dovecot.sh" "$D" "$P" "$T"
$PY "$HERE/imap_smoke.py" "$P" "$T" "$D/tls/ca.pem" | grep -E 'CAPABILITY after login|SMOKE' | sort -u | tail -2

uv() { doveadm -c "$C" mailbox status -u support uidvalidity INBOX | sed 's/.*uidvalidity=//'; }
msgs() { doveadm -c "$C" mailbox status -u support messages INBOX | sed 's/.*messages=//'; }
printf 'Subject: persist\r\n\r\nx\r\n' | doveadm -c "$C" save -u support -m INBOX
V1=$(uv); N1=$(msgs)

"$HERE/stop-dovecot.sh" "$D" >/dev/null
if pgrep -f "$D/dovecot.conf" >/dev/null; then echo "FAIL: process left after stop"; exit 1; fi
"$HERE/start-dovecot.sh" "$D" "$P" "$T" >/dev/null
[ "$(uv)" = "$V1" ] && [ "$(msgs)" = "$N1" ] || { echo "FAIL: restart lost state"; exit 1; }
echo "restart keeps mail: ok (uidvalidity $V1, $N1 messages)"

# recipe A: live, via doveadm
doveadm -c "$C" mailbox update -u support --uid-validity 4242 INBOX
[ "$(uv)" = 4242 ] || { echo "FAIL: doveadm uid-validity"; exit 1; }
echo "uidvalidity via doveadm mailbox update: ok (now 4242)"

# recipe B: offline, delete uidlist + indexes
"$HERE/stop-dovecot.sh" "$D" >/dev/null
rm -f "$D"/mail/support/Maildir/dovecot-uidlist "$D"/mail/support/Maildir/dovecot.index*
"$HERE/start-dovecot.sh" "$D" "$P" "$T" >/dev/null
V3=$(uv)
[ "$V3" != 4242 ] && [ "$(msgs)" = "$N1" ] || { echo "FAIL: file-delete recipe"; exit 1; }
echo "uidvalidity via rm dovecot-uidlist+dovecot.index*: ok (now $V3, messages kept, renumbered from 1)"

"$HERE/stop-dovecot.sh" "$D" >/dev/null
if pgrep -f "$D/dovecot.conf" >/dev/null; then echo "FAIL: process left after stop"; exit 1; fi
if grep -E 'Fatal|Panic' "$D/dovecot.log"; then echo "FAIL: fatal in log"; exit 1; fi

echo "== smtp sink"
$PY "$HERE/smtp_sink_selftest.py" | grep -E 'PASS|FAIL|SELFTEST'
echo "HARNESS SELFTEST OK"
