#!/usr/bin/env python3
"""imap_smoke.py PORT [TLSPORT CAFILE] -- stdlib-only smoke test of the
private Dovecot started by start-dovecot.sh.

LOGIN support/secret, CAPABILITY, APPEND to INBOX, SELECT, UID FETCH
BODY.PEEK[], CREATE a folder, UID MOVE; then the same LOGIN/CAPABILITY/SELECT
over implicit TLS on TLSPORT verifying the server with CAFILE (hostname
'localhost' and also '127.0.0.1'). Prints facts; exits non-zero on failure."""
import imaplib, re, ssl, sys, time

def check(typ, data, what):
    if typ != "OK":
        raise SystemExit(f"FAIL {what}: {typ} {data}")
    return data

def session(M, label):
    print(f"[{label}] greeting: {M.welcome!r}")
    check(*M.login("support", "secret"), "LOGIN")
    typ, data = M.capability()
    caps = data[0].decode()
    print(f"[{label}] CAPABILITY after login: {caps}")
    for c in ("IDLE", "MOVE", "UIDPLUS", "CONDSTORE", "ENABLE", "LITERAL+"):
        print(f"[{label}]   {c}: {'yes' if c in caps.split() else 'no'}")
    return caps

def main():
    port = int(sys.argv[1])
    folder = f"Smoke{int(time.time()*1000)%100000}"
    M = imaplib.IMAP4("127.0.0.1", port)
    session(M, "plain")
    msg = (b"From: Alice <alice@example.org>\r\nTo: support@example.org\r\n"
           b"Subject: printer on fire\r\nMessage-ID: <smoke-%d@example.org>\r\n"
           b"Date: Mon, 23 Nov 2026 20:00:00 +0000\r\n\r\nHelp!\r\n" % time.time_ns())
    typ, data = M.append("INBOX", None, None, msg)
    check(typ, data, "APPEND")
    print(f"[plain] APPEND response: {data[0].decode()}")  # [APPENDUID uidvalidity uid]
    m = re.search(rb"APPENDUID (\d+) (\d+)", data[0])
    uidvalidity, uid = m.group(1).decode(), m.group(2).decode()
    typ, data = M.select("INBOX")
    check(typ, data, "SELECT")
    print(f"[plain] SELECT INBOX: EXISTS={data[0].decode()} "
          f"UIDVALIDITY={M.untagged_responses.get('UIDVALIDITY')} "
          f"UIDNEXT={M.untagged_responses.get('UIDNEXT')}")
    typ, data = M.uid("FETCH", uid, "(UID FLAGS BODY.PEEK[])")
    check(typ, data, "UID FETCH")
    body = data[0][1]
    assert body == msg, (body, msg)
    print(f"[plain] UID FETCH {uid} BODY.PEEK[]: {len(body)} bytes, identical to appended; meta {data[0][0]!r}")
    check(*M.create(folder), "CREATE")
    typ, data = M.uid("MOVE", uid, folder)
    check(typ, data, "UID MOVE")
    print(f"[plain] UID MOVE {uid} -> {folder}: {typ} {data} untagged={ {k: v for k, v in M.untagged_responses.items()} }")
    typ, data = M.status(folder, "(MESSAGES UIDNEXT UIDVALIDITY)")
    print(f"[plain] STATUS {folder}: {data[0].decode()}")
    typ, data = M.list()
    print(f"[plain] LIST: {[d.decode() for d in data]}")
    M.logout()

    if len(sys.argv) >= 4:
        tport, cafile = int(sys.argv[2]), sys.argv[3]
        for host in ("localhost", "127.0.0.1"):
            ctx = ssl.create_default_context(cafile=cafile)
            T = imaplib.IMAP4_SSL(host, tport, ssl_context=ctx)
            print(f"[tls {host}] cipher={T.sock.cipher()} peer CN/SAN ok")
            session(T, f"tls {host}")
            typ, data = T.select("INBOX")
            check(typ, data, "SELECT over TLS")
            T.logout()
        # negative: no CA file -> verification must fail
        try:
            imaplib.IMAP4_SSL("localhost", tport, ssl_context=ssl.create_default_context())
            raise SystemExit("FAIL: TLS succeeded without the test CA")
        except ssl.SSLCertVerificationError as e:
            print(f"[tls] without CA file: rejected as expected ({e.verify_message})")
    print("SMOKE OK")

if __name__ == "__main__":
    main()
