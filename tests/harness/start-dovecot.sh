#!/usr/bin/env bash
# start-dovecot.sh DIR PORT [TLSPORT] [--foreground|--config-only]
#
# Writes a self-contained Dovecot 2.3 config into DIR (no include of
# /etc/dovecot), generates users, a throw-away CA + server cert (when TLSPORT
# is given), and starts a private Dovecot listening only on 127.0.0.1.
#
#   default        : daemonize, wait until 127.0.0.1:PORT sends "* OK",
#                    print "READY <port> [<tlsport>]" and exit 0.
#                    Stop with: stop-dovecot.sh DIR
#                           or: doveadm -c DIR/dovecot.conf stop
#   --foreground   : exec `dovecot -F -c DIR/dovecot.conf` (process stays the
#                    child of the caller; SIGTERM stops it cleanly).
#   --config-only  : only write the files, start nothing.
#
# Layout under DIR (must be an absolute path, kept short: unix sockets live
# in DIR/run and Linux limits socket paths to 107 bytes):
#   dovecot.conf  users  dovecot.log  run/ (base_dir)  state/ (state_dir)
#   tls/ca.pem tls/ca.key tls/server.pem tls/server.key
#   mail/<user>/Maildir   (INBOX = Maildir/{cur,new,tmp}, folder X = Maildir/.X)
#
# Users (plain passwords): support/secret, feature/secret, other/secret
# Override with DOVECOT_USERS="alice:pw1 bob:pw2".
set -euo pipefail

usage() { echo "usage: $0 DIR PORT [TLSPORT] [--foreground|--config-only]" >&2; exit 2; }

MODE=daemon
ARGS=()
for a in "$@"; do
  case "$a" in
    --foreground) MODE=foreground ;;
    --config-only) MODE=config ;;
    -h|--help) usage ;;
    *) ARGS+=("$a") ;;
  esac
done
[ "${#ARGS[@]}" -ge 2 ] || usage
DIR=${ARGS[0]}
PORT=${ARGS[1]}
TLSPORT=${ARGS[2]:-}

command -v dovecot >/dev/null || { echo "dovecot not installed (apt-get install dovecot-imapd)" >&2; exit 1; }

mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd -P)
mkdir -p "$DIR/run" "$DIR/state" "$DIR/mail" "$DIR/tls"

if [ ${#DIR} -gt 60 ]; then
  echo "warning: DIR path is ${#DIR} chars; unix socket paths in $DIR/run may exceed 107 bytes" >&2
fi

UID_N=$(id -u); GID_N=$(id -g); USER_N=$(id -un)

# Users the Dovecot processes run as.
#  * root caller (CI):
#    - imap-login refuses root ("Fatal: This process must not be run as
#      root"): login processes run as dovenull (created by dovecot-core;
#      fallback nobody). The root master chroots them into DIR/run/login
#      first, so they never need to traverse DIR.
#    - imap (mail) processes refuse root too ("Mail access not allowed for
#      root"; a userdb uid 0 gives "userdb returned 0 as uid"): they run as
#      DOVECOT_MAIL_USER (default nobody:nogroup). That user must be able to
#      traverse DIR and its ancestors, so DIR gets o+x (not o+r) and
#      DIR/mail is chowned to it.
#    - auth and other internal processes run as root so they can read the
#      0600 users file.
#  * non-root caller: no user switching is possible; everything runs as the
#    caller.
INTERNAL_GROUP_LINE=""
LOGIN_CHROOT_LINE=""
EXTRA_SERVICES=""
if [ "$UID_N" = 0 ]; then
  if getent passwd dovenull >/dev/null; then LOGIN_USER=dovenull; else LOGIN_USER=nobody; fi
  INTERNAL_USER=root
  MAIL_USER=${DOVECOT_MAIL_USER:-nobody}
  MAIL_UID=$(id -u "$MAIL_USER"); MAIL_GID=$(id -g "$MAIL_USER")
else
  LOGIN_USER=$USER_N
  INTERNAL_USER=$USER_N
  # built-in unix listeners (stats-writer, dict, imap-hibernate) are chowned
  # to group $default_internal_group (= dovecot): impossible for non-root.
  INTERNAL_GROUP_LINE="default_internal_group = $(id -gn)"
  # chroot(2) needs root: anvil and imap-login chroot by default.
  LOGIN_CHROOT_LINE="  chroot ="
  EXTRA_SERVICES="service anvil {
  chroot =
}
service imap-urlauth-login {
  chroot =
}"
  MAIL_USER=$USER_N; MAIL_UID=$UID_N; MAIL_GID=$GID_N
fi
FIRST_VALID_UID=$MAIL_UID
[ "$FIRST_VALID_UID" -ge 1 ] || { echo "mail uid must not be 0" >&2; exit 1; }

# ---- users -----------------------------------------------------------------
USERS=${DOVECOT_USERS:-"support:secret feature:secret other:secret"}

# XOAUTH2 / OAUTHBEARER: with DOVECOT_OAUTH2_INTROSPECTION_URL set, Dovecot
# validates bearer tokens by POSTing them to that URL (RFC 7662
# introspection) and expects {"active": true, "username": "<user>"}.
OAUTH2_MECHANISMS=""
OAUTH2_PASSDB=""
if [ -n "${DOVECOT_OAUTH2_INTROSPECTION_URL:-}" ]; then
  OAUTH2_MECHANISMS=" xoauth2 oauthbearer"
  OAUTH2_PASSDB="passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = $DIR/oauth2.conf.ext
}"
fi
: > "$DIR/users"
for up in $USERS; do
  u=${up%%:*}; p=${up#*:}
  # passwd-file: user:{scheme}password:uid:gid:gecos:home:shell:extra
  # uid/gid are left empty on purpose: passwd-file rejects uid 0 ("has invalid
  # UID '0'"); the mail uid/gid come from the global mail_uid/mail_gid.
  printf '%s:{PLAIN}%s:::::\n' "$u" "$p" >> "$DIR/users"
  mkdir -p "$DIR/mail/$u"
done
chmod 600 "$DIR/users"
if [ "$MAIL_UID" != "$UID_N" ]; then
  chmod o+x "$DIR"
  chown -R "$MAIL_UID:$MAIL_GID" "$DIR/mail"
  if ! setpriv --reuid="$MAIL_UID" --regid="$MAIL_GID" --clear-groups test -x "$DIR/mail" -a -w "$DIR/mail"; then
    echo "error: mail user $MAIL_USER (uid $MAIL_UID) cannot reach $DIR/mail;" \
         "every ancestor of DIR must be o+x (use a DIR under /tmp)" >&2
    exit 1
  fi
fi

# ---- TLS -------------------------------------------------------------------
if [ -n "$TLSPORT" ] && [ ! -s "$DIR/tls/server.pem" ]; then
  command -v openssl >/dev/null || { echo "openssl not installed" >&2; exit 1; }
  (
    cd "$DIR/tls"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 \
      -keyout ca.key -out ca.pem -subj "/CN=mailgate test CA" \
      -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr \
      -subj "/CN=localhost" 2>/dev/null
    printf '%s\n' \
      "basicConstraints=CA:FALSE" \
      "keyUsage=critical,digitalSignature,keyEncipherment" \
      "extendedKeyUsage=serverAuth" \
      "subjectAltName=DNS:localhost,IP:127.0.0.1" > server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
      -days 3650 -sha256 -extfile server.ext -out server.pem 2>/dev/null
    rm -f server.csr server.ext ca.srl
    chmod 600 ca.key server.key
  )
fi

if [ -n "$TLSPORT" ]; then
  SSL_BLOCK="ssl = yes
ssl_cert = <$DIR/tls/server.pem
ssl_key = <$DIR/tls/server.key
ssl_min_protocol = TLSv1.2"
  IMAPS_LISTENER="  inet_listener imaps {
    address = 127.0.0.1
    port = $TLSPORT
    ssl = yes
  }"
else
  SSL_BLOCK="ssl = no"
  IMAPS_LISTENER="  inet_listener imaps {
    port = 0
  }"
fi

# ---- dovecot.conf (2.3 syntax) ---------------------------------------------
if [ -n "${DOVECOT_OAUTH2_INTROSPECTION_URL:-}" ]; then
  cat > "$DIR/oauth2.conf.ext" <<OAUTH
introspection_mode = post
introspection_url = $DOVECOT_OAUTH2_INTROSPECTION_URL
username_attribute = username
active_attribute = active
active_value = true
OAUTH
fi

cat > "$DIR/dovecot.conf" <<CONF
# Generated by tests/harness/start-dovecot.sh -- Dovecot 2.3 syntax.
# Self-contained: nothing from /etc/dovecot is included.
protocols = imap
listen = 127.0.0.1
base_dir = $DIR/run
state_dir = $DIR/state
instance_name = mailgate-test-$PORT

log_path = $DIR/dovecot.log
info_log_path = $DIR/dovecot.log
debug_log_path = $DIR/dovecot.log
log_timestamp = "%Y-%m-%d %H:%M:%S "
auth_verbose = yes
#mail_debug = yes
#auth_debug = yes

default_internal_user = $INTERNAL_USER
default_login_user = $LOGIN_USER
$INTERNAL_GROUP_LINE
first_valid_uid = $FIRST_VALID_UID
first_valid_gid = 0
# uid/gid of the mail (imap) processes. Set globally, not by the userdb: a
# userdb that returns uid 0 is refused ("userdb returned 0 as uid").
mail_uid = $MAIL_UID
mail_gid = $MAIL_GID

# plaintext LOGIN / AUTHENTICATE PLAIN allowed without TLS
disable_plaintext_auth = no
auth_mechanisms = plain login$OAUTH2_MECHANISMS
auth_username_format = %Lu

passdb {
  driver = passwd-file
  mechanisms = plain login
  args = scheme=PLAIN username_format=%u $DIR/users
}
$OAUTH2_PASSDB
userdb {
  driver = passwd-file
  args = username_format=%u $DIR/users
  default_fields = home=$DIR/mail/%u
}

mail_location = maildir:~/Maildir
namespace inbox {
  inbox = yes
  separator = /
  prefix =
}
# IDLE, MOVE, UIDPLUS, CONDSTORE/QRESYNC are built in and advertised by default.
# IDLE: new mail is pushed ~0.5 s after delivery (inotify); the interval below
# is only the fallback poll.
imap_idle_notify_interval = 2 mins
mailbox_idle_check_interval = 1 secs

$SSL_BLOCK

service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $PORT
  }
$IMAPS_LISTENER
  # fork a fresh login process per connection; no pre-spawned pool
  process_min_avail = 0
$LOGIN_CHROOT_LINE
}
service imap {
  process_limit = 64
}
$EXTRA_SERVICES
CONF

if [ "$MODE" = config ]; then
  echo "CONFIG $DIR/dovecot.conf"
  exit 0
fi

# refuse to start twice on the same DIR
if [ -s "$DIR/run/master.pid" ] && kill -0 "$(cat "$DIR/run/master.pid")" 2>/dev/null; then
  echo "dovecot already running for $DIR (pid $(cat "$DIR/run/master.pid"))" >&2
  exit 1
fi

if [ "$MODE" = foreground ]; then
  exec dovecot -F -c "$DIR/dovecot.conf"
fi

LOG_OFFSET=$(stat -c %s "$DIR/dovecot.log" 2>/dev/null || echo 0)
dovecot -c "$DIR/dovecot.conf"

# Wait (max ~10 s) for the "* OK" greeting on the plaintext port. The master
# accepts TCP connections as soon as it has bound the port, even if imap-login
# cannot start, so a successful connect() alone is NOT readiness: read the
# greeting. Bail out early on a Fatal in the log.
wait_greeting() {
  local port=$1 deadline=$((SECONDS + 10)) line
  while [ "$SECONDS" -lt "$deadline" ]; do
    if tail -c +"$((LOG_OFFSET + 1))" "$DIR/dovecot.log" 2>/dev/null | grep -q 'Fatal:'; then return 1; fi
    if exec 3<>"/dev/tcp/127.0.0.1/$port" 2>/dev/null; then
      line=""
      IFS= read -r -t 1 line <&3 || true
      exec 3<&- 3>&-
      case "$line" in "* OK"*) return 0 ;; esac
    fi
    sleep 0.1
  done
  return 1
}
if ! wait_greeting "$PORT"; then
  echo "dovecot did not come up on 127.0.0.1:$PORT; stopping it; log follows" >&2
  tail -n 30 "$DIR/dovecot.log" >&2 || true
  doveadm -c "$DIR/dovecot.conf" stop 2>/dev/null || true
  exit 1
fi
echo "READY $PORT${TLSPORT:+ $TLSPORT}"
