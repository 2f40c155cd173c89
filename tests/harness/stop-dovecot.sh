#!/usr/bin/env bash
# stop-dovecot.sh DIR -- stop a Dovecot started by start-dovecot.sh and wait
# until its master process is gone (max ~10 s, then SIGKILL).
set -uo pipefail
DIR=${1:?usage: $0 DIR}
DIR=$(cd "$DIR" && pwd -P)
PIDF="$DIR/run/master.pid"
[ -s "$PIDF" ] || { echo "not running (no $PIDF)"; exit 0; }
PID=$(cat "$PIDF")
doveadm -c "$DIR/dovecot.conf" stop 2>/dev/null || kill -TERM "$PID" 2>/dev/null || true
for _ in $(seq 1 100); do
  kill -0 "$PID" 2>/dev/null || { echo "STOPPED"; exit 0; }
  sleep 0.1
done
echo "master $PID still alive; sending SIGKILL" >&2
kill -KILL "$PID" 2>/dev/null || true
exit 1
