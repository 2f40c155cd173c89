#!/usr/bin/env python3
"""smtp_sink_selftest.py -- starts smtp_sink.py on port 0 with /usr/bin/python3
and checks accept / tempfail / permfail (RCPT and DATA stage) with smtplib."""
import json, os, shutil, signal, smtplib, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
out = tempfile.mkdtemp(prefix="sink.")
p = subprocess.Popen(["/usr/bin/python3", os.path.join(HERE, "smtp_sink.py"), "0", out],
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
t0 = time.time()
line = p.stdout.readline().strip()
print(f"sink said {line!r} after {time.time()-t0:.3f}s")
assert line.startswith("READY "), line
port = int(line.split()[1])
assert open(os.path.join(out, "port")).read().strip() == str(port)

def setmode(m):
    if m is None:
        try: os.remove(os.path.join(out, "mode"))
        except FileNotFoundError: pass
        return
    tmp = os.path.join(out, "mode.tmp")
    open(tmp, "w").write(m + "\n"); os.rename(tmp, os.path.join(out, "mode"))

MSG = (b"From: mailgate <bot@example.org>\r\nTo: a@example.org\r\nSubject: [#42] reply\r\n"
       b"Message-ID: <t1@example.org>\r\n\r\nline1\r\n.leading dot\r\nlast\r\n")

def send(rcpts=("a@example.org", "b@example.org")):
    with smtplib.SMTP("127.0.0.1", port, timeout=5) as s:
        s.ehlo("client.test")
        return s.sendmail("bot@example.org", list(rcpts), MSG)

fails = 0
def expect(desc, fn, want):
    global fails
    try:
        r = fn(); got = ("ok", r)
    except smtplib.SMTPRecipientsRefused as e:
        got = ("rcpt-refused", {k: v[0] for k, v in e.recipients.items()})
    except smtplib.SMTPDataError as e:
        got = ("data-error", e.smtp_code)
    except smtplib.SMTPResponseException as e:
        got = ("resp", e.smtp_code)
    ok = want(got)
    fails += not ok
    print(("PASS" if ok else "FAIL"), desc, got)

setmode(None)
expect("mode absent -> accept", send, lambda g: g == ("ok", {}))
setmode("accept")
expect("mode accept -> accept", send, lambda g: g == ("ok", {}))
setmode("tempfail")
expect("tempfail -> 451 at RCPT", send, lambda g: g[0] == "rcpt-refused" and set(g[1].values()) == {451})
setmode("permfail")
expect("permfail -> 550 at RCPT", send, lambda g: g[0] == "rcpt-refused" and set(g[1].values()) == {550})
setmode("tempfail-data")
expect("tempfail-data -> 451 after DATA", send, lambda g: g == ("data-error", 451))
setmode("permfail-data")
expect("permfail-data -> 550 after DATA", send, lambda g: g == ("data-error", 550))
setmode(None)
expect("back to accept", lambda: send(["c@example.org"]), lambda g: g == ("ok", {}))

files = sorted(os.listdir(out))
print("files:", files)
emls = sorted(f for f in files if f.endswith(".eml"))
assert emls == ["000001.eml", "000002.eml", "000003.eml"], emls
assert not [f for f in files if f.startswith(".")], files
e1 = open(os.path.join(out, "000001.eml"), "rb").read()
print("000001.eml:\n" + e1.decode())
assert e1.startswith(b"X-Sink-Mail-From: <bot@example.org>\r\nX-Sink-Rcpt-To: <a@example.org>, <b@example.org>\r\n")
assert e1.endswith(MSG), "body not byte-identical (dot-unstuffing / CRLF)"
j3 = json.load(open(os.path.join(out, "000003.json")))
print("000003.json:", j3)
assert j3["rcpt_tos"] == ["c@example.org"] and j3["mail_from"] == "bot@example.org" and j3["seq"] == 3

p.send_signal(signal.SIGTERM)
rc = p.wait(5)
err = p.stderr.read()
print(f"sink exit code after SIGTERM: {rc}; stderr: {err!r}")
fails += rc != 0
shutil.rmtree(out)

# --auth USER:PASS
out2 = tempfile.mkdtemp(prefix="sink.")
p2 = subprocess.Popen(["/usr/bin/python3", os.path.join(HERE, "smtp_sink.py"), "0", out2,
                       "--auth", "mailgate:pw"], stdout=subprocess.PIPE, text=True)
port2 = int(p2.stdout.readline().split()[1])
with smtplib.SMTP("127.0.0.1", port2, timeout=5) as s:
    code, ehlo = s.ehlo("client.test")
    print("EHLO with --auth:", ehlo.decode().replace("\n", " | "))
    try:
        s.login("mailgate", "wrong"); print("FAIL wrong password accepted"); fails += 1
    except smtplib.SMTPAuthenticationError as e:
        print("PASS wrong password ->", e.smtp_code)
with smtplib.SMTP("127.0.0.1", port2, timeout=5) as s:
    s.login("mailgate", "pw")
    s.sendmail("bot@example.org", ["x@example.org"], MSG)
j = json.load(open(os.path.join(out2, "000001.json")))
print("auth_user recorded:", j["auth_user"]); fails += j["auth_user"] != "mailgate"
p2.terminate(); fails += p2.wait(5) != 0
shutil.rmtree(out2)
print("SINK SELFTEST", "OK" if not fails else f"FAILED ({fails})")
sys.exit(1 if fails else 0)
