#!/usr/bin/python3
"""smtp_sink.py PORT OUTDIR [--auth USER:PASS|any] -- private SMTP sink for mailgate's integration tests.

Run it with Debian's interpreter: /usr/bin/python3 (python3-aiosmtpd is
installed into /usr/lib/python3/dist-packages, which a pyenv python3 on PATH
does not see).

* Listens on 127.0.0.1:PORT only. PORT 0 = let the kernel choose a free port.
* Prints exactly one line "READY <port>" on stdout (flushed) once the socket
  is listening; the real port is also written to OUTDIR/port (atomically).
* Every accepted message is written atomically (write to a dot-temp file in
  OUTDIR, fsync, rename) as OUTDIR/<seq>.eml, seq = 1, 2, 3 ... (zero-padded
  to 6 digits: 000001.eml); one fsync per message, as an MTA syncs its queue
  file (the sidecar below is written and renamed, not fsynced). The first lines of the .eml are added trace
  headers, then the message bytes exactly as received after DATA:
      X-Sink-Mail-From: <sender>
      X-Sink-Rcpt-To: <rcpt1>, <rcpt2>
  and a sidecar OUTDIR/<seq>.json is written (before the .eml is renamed into
  place, so a visible .eml always has its .json):
      {"seq": 1, "mail_from": "...", "rcpt_tos": [...], "mail_options": [...],
       "rcpt_options": [...], "peer": "127.0.0.1", "helo": "...",
       "size": 123, "received_at": 1700000000.0, "file": "000001.eml"}
  A test waits for "<seq>.eml" to appear; files starting with "." are temp.
* Failure injection: OUTDIR/mode is re-read on every command, content
  (whitespace-trimmed):
      absent / empty / "accept"  -> normal acceptance (250)
      "tempfail"                 -> "451 4.3.0 Temporary failure (sink mode tempfail)"
      "permfail"                 -> "550 5.7.1 Permanent failure (sink mode permfail)"
  The rejection is given at RCPT TO by default. With "tempfail-data" /
  "permfail-data" it is given at the end of DATA instead (after the client
  sent the whole message). Rejected messages are not stored. Change the mode
  by writing the file atomically (write mode.tmp, rename to mode).
* AUTH: by default no AUTH is advertised (EHLO: SIZE 33554432, 8BITMIME,
  SMTPUTF8, HELP; no STARTTLS). With --auth USER:PASS, AUTH PLAIN LOGIN is
  advertised over plaintext and only those credentials are accepted (535
  otherwise); with --auth any, every user/password is accepted. AUTH is then
  optional for the client (not required before MAIL). The authenticated
  login is recorded as "auth_user" in the sidecar .json (null without AUTH).
* SIGTERM / SIGINT: stop listening and exit 0.
"""
import asyncio
import json
import os
import signal
import socket
import sys
import time
import logging

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

# aiosmtpd 1.4 itself sets the deprecated Session.login_data on every
# successful AUTH and logs a warning on logger "mail.log"; keep stderr clean.
logging.getLogger("mail.log").addFilter(
    lambda rec: "login_data is deprecated" not in rec.getMessage())

TEMPFAIL = "451 4.3.0 Temporary failure (sink mode tempfail)"
PERMFAIL = "550 5.7.1 Permanent failure (sink mode permfail)"


def _atomic_write(path, data: bytes, durable=True):
    d = os.path.dirname(path)
    tmp = os.path.join(d, ".%s.%d.tmp" % (os.path.basename(path), os.getpid()))
    with open(tmp, "wb") as f:
        f.write(data)
        if durable:
            f.flush()
            os.fsync(f.fileno())
    os.rename(tmp, path)


def _auth_user(session):
    d = getattr(session, "auth_data", None)
    if isinstance(d, LoginPassword):
        return d.login.decode("utf-8", "replace")
    return None


def make_authenticator(spec):
    """spec 'any' or 'USER:PASS' -> aiosmtpd authenticator callable."""
    def authenticator(server, session, envelope, mechanism, auth_data):
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        if spec == "any":
            return AuthResult(success=True, auth_data=auth_data)
        user, _, pw = spec.partition(":")
        ok = (auth_data.login == user.encode() and auth_data.password == pw.encode())
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)
    return authenticator


class SinkHandler:
    def __init__(self, outdir):
        self.outdir = outdir
        # continue numbering after existing files (restart with same OUTDIR)
        existing = [int(n[:-4]) for n in os.listdir(outdir)
                    if n.endswith(".eml") and n[:-4].isdigit()]
        self.seq = max(existing, default=0)

    def mode(self):
        try:
            with open(os.path.join(self.outdir, "mode")) as f:
                return f.read().strip().lower() or "accept"
        except FileNotFoundError:
            return "accept"

    def _reject(self, stage):
        m = self.mode()
        if m == "tempfail" and stage == "rcpt" or m == "tempfail-data" and stage == "data":
            return TEMPFAIL
        if m == "permfail" and stage == "rcpt" or m == "permfail-data" and stage == "data":
            return PERMFAIL
        return None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        r = self._reject("rcpt")
        if r:
            return r
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        r = self._reject("data")
        if r:
            return r
        self.seq += 1
        seq = self.seq
        name = "%06d" % seq
        content = envelope.original_content or b""
        trace = ("X-Sink-Mail-From: <%s>\r\nX-Sink-Rcpt-To: %s\r\n" % (
            envelope.mail_from or "",
            ", ".join("<%s>" % r for r in envelope.rcpt_tos))).encode("utf-8", "surrogateescape")
        meta = {
            "seq": seq,
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "mail_options": list(envelope.mail_options),
            "rcpt_options": list(envelope.rcpt_options),
            "peer": session.peer[0] if session.peer else None,
            "helo": session.host_name,
            "auth_user": _auth_user(session),
            "size": len(content),
            "received_at": time.time(),
            "file": name + ".eml",
        }
        # The sidecar (our bookkeeping, not fsynced) is renamed into place
        # first. Then the message, with one fsync as an MTA syncs its queue
        # file before the 250. Only the fsync leaves the event loop, so
        # connections wait for the disk side by side as an MTA's processes
        # do; a worker thread doing all the file work fought the loop for
        # the GIL (about 80 futex calls per message).
        _atomic_write(os.path.join(self.outdir, name + ".json"),
                      (json.dumps(meta, indent=1) + "\n").encode(), durable=False)
        path = os.path.join(self.outdir, name + ".eml")
        tmp = os.path.join(self.outdir, ".%s.eml.%d.tmp" % (name, os.getpid()))
        with open(tmp, "wb") as f:
            f.write(trace + content)
            f.flush()
            await asyncio.get_running_loop().run_in_executor(None, os.fsync, f.fileno())
        os.rename(tmp, path)
        return "250 2.0.0 OK queued as %s" % name


def main():
    args = sys.argv[1:]
    auth = None
    if "--auth" in args:
        i = args.index("--auth")
        if i + 1 >= len(args):
            args = []
        else:
            auth = args[i + 1]
            del args[i:i + 2]
    if len(args) != 2:
        sys.stderr.write("usage: /usr/bin/python3 smtp_sink.py PORT OUTDIR [--auth USER:PASS|any]\n")
        return 2
    port = int(args[0])
    outdir = os.path.abspath(args[1])
    os.makedirs(outdir, exist_ok=True)
    handler = SinkHandler(outdir)

    # Bind ourselves (so port 0 works and READY carries the real port),
    # then hand the socket to asyncio.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(64)
    real_port = sock.getsockname()[1]

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)

    def factory():
        # decode_data=False: keep the raw bytes; enable_SMTPUTF8 for UTF-8
        # addresses; data_size_limit generous (32 MiB).
        kw = {}
        if auth:
            kw = dict(authenticator=make_authenticator(auth),
                      auth_require_tls=False, auth_required=False)
        return SMTP(handler, hostname="sink.localhost", decode_data=False,
                    enable_SMTPUTF8=True, data_size_limit=32 * 1024 * 1024,
                    ident="mailgate-smtp-sink", **kw)

    server = loop.run_until_complete(loop.create_server(factory, sock=sock))
    _atomic_write(os.path.join(outdir, "port"), b"%d\n" % real_port)
    sys.stdout.write("READY %d\n" % real_port)
    sys.stdout.flush()

    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        loop.run_until_complete(stop.wait())
    finally:
        server.close()
        loop.run_until_complete(server.wait_closed())
        loop.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
