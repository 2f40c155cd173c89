#!/usr/bin/env python3
"""bench.py -- mailgate's throughput, latency and memory benchmark.

Started by bench/run (which builds the release binaries first); see
bench/README.md for what is measured and how. Standard library only (the
SMTP sink itself runs under /usr/bin/python3 for aiosmtpd).
"""
import argparse
import datetime as dt
import email
import imaplib
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HARNESS = os.path.join(ROOT, "tests", "harness")
REL = os.path.join(ROOT, "target", "release")
MAILGATE = os.path.join(REL, "mailgate")
GEN = os.path.join(REL, "mailgate-gen")
BENCH = os.path.join(REL, "mailgate-bench")
PG = "postgres://postgres@127.0.0.1:5432"
PG_DB = "mailgate_bench"


def log(*a):
    print("[bench %s]" % time.strftime("%H:%M:%S"), *a, file=sys.stderr, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def median(xs):
    return statistics.median(xs) if xs else float("nan")


# ---------------------------------------------------------------- servers

class Dovecot:
    def __init__(self, work):
        self.dir = os.path.join(work, "dc")
        self.port = free_port()
        subprocess.run([os.path.join(HARNESS, "start-dovecot.sh"), self.dir, str(self.port)],
                       check=True, stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL)

    def stop(self):
        subprocess.run([os.path.join(HARNESS, "stop-dovecot.sh"), self.dir],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def imap(self):
        c = imaplib.IMAP4("127.0.0.1", self.port)
        c.login("support", "secret")
        return c

    def count(self, folder):
        c = self.imap()
        typ, data = c.select(folder, readonly=True)
        c.logout()
        return int(data[0]) if typ == "OK" else 0

    def empty(self, folders=("INBOX", "Processed", "Quarantine")):
        c = self.imap()
        for f in folders:
            typ, _ = c.select(f)
            if typ != "OK":
                continue
            c.uid("STORE", "1:*", "+FLAGS.SILENT", r"(\Deleted)")
            c.expunge()
            c.close()
        c.logout()

    def append(self, messages, folder="INBOX"):
        c = self.imap()
        for raw in messages:
            c.append(folder, None, None, raw)
        c.logout()

    def fetch_all(self, folder="INBOX"):
        """The limit: one plain client, UID FETCH 1:* BODY.PEEK[]."""
        c = self.imap()
        c.select(folder, readonly=True)
        t0 = time.perf_counter()
        typ, data = c.uid("FETCH", "1:*", "(BODY.PEEK[])")
        elapsed = time.perf_counter() - t0
        got = sum(len(d[1]) for d in data if isinstance(d, tuple))
        c.logout()
        return elapsed, got


class Sink:
    def __init__(self, work, name):
        self.dir = os.path.join(work, name)
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        self.proc = subprocess.Popen(["/usr/bin/python3", os.path.join(HARNESS, "smtp_sink.py"), "0", self.dir],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        assert line.startswith("READY"), line
        self.port = int(line.split()[1])

    def count(self):
        return sum(1 for n in os.listdir(self.dir) if n.endswith(".eml") and not n.startswith("."))

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=10)


# ---------------------------------------------------------------- mailgate

def db_url(backend, data):
    return "sqlite://%s/mailgate.db" % data if backend == "sqlite" else "%s/%s" % (PG, PG_DB)


def fresh_db(backend, data):
    shutil.rmtree(data, ignore_errors=True)
    os.makedirs(data)
    if backend == "postgres":
        subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", PG_DB], check=True)
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", PG_DB], check=True)


def write_config(path, backend, data, imap_port, smtp_port):
    text = f"""[database]
url = "{db_url(backend, data)}"
[intake]
own_addresses = ["support@example.com"]
[tickets]
team_address = "team@example.com"
[senders]
auto_reply_limit = 1000000
[http]
listen = "127.0.0.1:0"
ops_listen = "127.0.0.1:0"
[outbox]
directory = "{data}/outbox"
retry_initial = "1h"
retry_max = "1h"
[smtp]
host = "127.0.0.1"
port = {smtp_port}
tls = "none"
from = "support@example.com"
[[mailboxes]]
name = "support"
address = "support@example.com"
host = "127.0.0.1"
port = {imap_port}
tls = "none"
username = "support"
password = "secret"
timeout = "60s"
"""
    with open(path, "w") as f:
        f.write(text)


def parse_time_v(text):
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    return int(m.group(1)) * 1024 if m else None


def log_times(text, message):
    """Timestamps (epoch seconds) of JSON log lines with this message."""
    out = []
    for line in text.splitlines():
        if message not in line:
            continue
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if rec.get("fields", {}).get("message") == message:
            out.append(dt.datetime.fromisoformat(rec["timestamp"].replace("Z", "+00:00")).timestamp())
    return out


def run_once(cfg, workdir, tag):
    """`mailgate run --once` under /usr/bin/time -v. Returns wall seconds,
    seconds until the mailbox was drained (log), peak RSS, exit status."""
    errpath = os.path.join(workdir, "runonce-%s.log" % tag)
    timepath = os.path.join(workdir, "time-%s.txt" % tag)
    env = dict(os.environ, RUST_LOG="mailgate::source::imap=info,warn")
    # What the set-up wrote (the corpus appended to Dovecot, the previous
    # run's database) goes to disk first: written back during the run, it
    # made the fsyncs of the run slow at random (end to end 1.7 to 3.6 s).
    os.sync()
    with open(errpath, "w") as err:
        t0_wall = time.time()
        t0 = time.perf_counter()
        p = subprocess.run(["/usr/bin/time", "-v", "-o", timepath, MAILGATE, "--config", cfg,
                            "--log-format", "json", "run", "--once"],
                           stdout=subprocess.DEVNULL, stderr=err, env=env)
        wall = time.perf_counter() - t0
    text = open(errpath).read()
    drained = log_times(text, "folder drained")
    return {
        "wall": wall,
        "drained": (drained[-1] - t0_wall) if drained else None,
        "rss": parse_time_v(open(timepath).read()),
        "status": p.returncode,
    }


def sql(backend, data, query):
    if backend == "sqlite":
        import sqlite3
        c = sqlite3.connect(os.path.join(data, "mailgate.db"))
        rows = c.execute(query).fetchall()
        c.close()
        return rows
    out = subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", PG_DB, "-At", "-F", "|", "-c", query],
                         check=True, capture_output=True, text=True).stdout
    return [tuple(l.split("|")) for l in out.splitlines() if l]


def db_bytes(backend, data):
    """The database's size on disk: the SQLite file and its log, or what
    PostgreSQL reports for the database."""
    if backend == "sqlite":
        base = os.path.join(data, "mailgate.db")
        return sum(os.path.getsize(p) for p in (base, base + "-wal") if os.path.exists(p))
    return int(sql(backend, data, "SELECT pg_database_size(current_database())")[0][0])


def ingest_dir(cfg, corpus_dir, workdir, tag):
    """`mailgate ingest DIR` under /usr/bin/time -v: wall seconds, peak RSS."""
    timepath = os.path.join(workdir, "time-%s.txt" % tag)
    os.sync()
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-v", "-o", timepath, MAILGATE, "--config", cfg, "ingest", corpus_dir],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    return {"wall": wall, "rss": parse_time_v(open(timepath).read()), "status": p.returncode,
            "stderr": p.stderr[-500:]}


def outbox_states(backend, data):
    rows = sql(backend, data, "SELECT status, COUNT(*) FROM outbox GROUP BY status")
    return {r[0]: int(r[1]) for r in rows}


# ---------------------------------------------------------------- limits

def fsync_write(data_dir, nbytes):
    """One sequential write of nbytes, then fsync (the durable-write limit)."""
    path = os.path.join(data_dir, "fsync-limit.bin")
    chunk = b"\0" * (1 << 20)
    t0 = time.perf_counter()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    left = nbytes
    while left > 0:
        left -= os.write(fd, chunk[:min(left, len(chunk))])
    os.fsync(fd)
    os.close(fd)
    elapsed = time.perf_counter() - t0
    os.unlink(path)
    return elapsed


def fsync_per_message(data_dir, sizes):
    """Informative: one write+fsync per message into one file (what one
    durable commit per message costs at least)."""
    path = os.path.join(data_dir, "fsync-each.bin")
    t0 = time.perf_counter()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    for n in sizes:
        os.write(fd, b"\0" * n)
        os.fsync(fd)
    os.close(fd)
    elapsed = time.perf_counter() - t0
    os.unlink(path)
    return elapsed


# ---------------------------------------------------------------- latency

def latency(dc, backend, work, corpus, rate, count):
    data = os.path.join(work, "data-lat-%s" % backend)
    fresh_db(backend, data)
    sink = Sink(work, "sink-lat-%s" % backend)
    cfg = os.path.join(work, "lat-%s.toml" % backend)
    write_config(cfg, backend, data, dc.port, sink.port)
    dc.empty()
    logpath = os.path.join(work, "daemon-%s.log" % backend)
    errf = open(logpath, "w")
    daemon = subprocess.Popen([MAILGATE, "--config", cfg, "run"], stdout=subprocess.DEVNULL, stderr=errf,
                              env=dict(os.environ, RUST_LOG="mailgate=info,warn"))
    result = {}
    try:
        deadline = time.time() + 30
        while "connected" not in open(logpath).read() and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(2.0)  # settle, then the idle RSS
        result["idle_rss"] = read_rss(daemon.pid)
        msgs = corpus[:count]
        sent = {}
        c = dc.imap()
        t_start = time.perf_counter()
        for i, raw in enumerate(msgs):
            target = t_start + i / rate
            now = time.perf_counter()
            if target > now:
                time.sleep(target - now)
            mid = email.message_from_bytes(raw.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n").get("Message-ID", "")
            t = time.time()
            c.append("INBOX", None, None, raw)
            sent[mid.strip().strip("<>")] = t
        c.logout()
        # Wait until the sink has stopped growing for 3 s (or 60 s in all).
        last, stable, deadline = -1, time.time(), time.time() + 60
        while time.time() < deadline:
            n = sink.count()
            if n != last:
                last, stable = n, time.time()
            elif time.time() - stable > 3:
                break
            time.sleep(0.2)
        result["peak_rss_daemon"] = read_hwm(daemon.pid)
        result["rss_after"] = read_rss(daemon.pid)
        lats = []
        for name in sorted(os.listdir(sink.dir)):
            if not name.endswith(".json"):
                continue
            meta = json.load(open(os.path.join(sink.dir, name)))
            if "team@example.com" in meta["rcpt_tos"]:
                continue
            head = open(os.path.join(sink.dir, meta["file"]), "rb").read().split(b"\r\n\r\n", 1)[0]
            irt = email.message_from_bytes(head + b"\r\n\r\n").get("In-Reply-To", "")
            key = irt.strip().strip("<>")
            if key in sent:
                lats.append(meta["received_at"] - sent[key])
        lats.sort()
        result["appended"] = len(msgs)
        result["confirmations"] = len(lats)
        if lats:
            result["p50"] = lats[len(lats) // 2]
            result["p99"] = lats[min(len(lats) - 1, int(len(lats) * 0.99))]
            result["max"] = lats[-1]
    finally:
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(timeout=20)
        except subprocess.TimeoutExpired:
            daemon.kill()
        errf.close()
        sink.stop()
    return result


def time_wait(port):
    """Closed connections to the sink left in TIME-WAIT (about one per SMTP
    connection mailgate opened and closed in the last 60 s)."""
    out = subprocess.run(["ss", "-Htan", "state", "time-wait", "( dport = :%d or sport = :%d )" % (port, port)],
                         capture_output=True, text=True).stdout
    return len([l for l in out.splitlines() if l.strip()])


def sink_limit(work, count):
    """Informative: the sink alone, `count` small messages from smtplib over
    one connection, then over one connection each (10% of them)."""
    import smtplib
    sink = Sink(work, "sink-limit")
    msg = b"From: support@example.com\r\nTo: c@acme.fr\r\nSubject: x\r\n\r\n" + b"Your ticket SUP-1 is open.\r\n" * 40
    try:
        s = smtplib.SMTP("127.0.0.1", sink.port)
        t0 = time.perf_counter()
        for _ in range(count):
            s.sendmail("support@example.com", ["c@acme.fr"], msg)
        one = (time.perf_counter() - t0) / count
        s.quit()
        n = max(10, count // 10)
        t0 = time.perf_counter()
        for _ in range(n):
            s = smtplib.SMTP("127.0.0.1", sink.port)
            s.sendmail("support@example.com", ["c@acme.fr"], msg)
            s.quit()
        each = (time.perf_counter() - t0) / n
    finally:
        sink.stop()
    return one, each


def read_rss(pid):
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return None


def read_hwm(pid):
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return None


def big_message(size):
    """One customer message of about `size` bytes (a base64 attachment)."""
    head = ("From: Big Customer <big@acme.fr>\r\nTo: support@example.com\r\n"
            "Subject: Dump of the crash (large attachment)\r\nMessage-ID: <big-1@acme.fr>\r\n"
            "Date: Mon, 23 Nov 2026 10:00:00 +0100\r\nMIME-Version: 1.0\r\n"
            "Content-Type: multipart/mixed; boundary=\"BOUND\"\r\n\r\n"
            "--BOUND\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            "Hello,\r\nthe server crashed again, the dump is attached.\r\n"
            "--BOUND\r\nContent-Type: application/octet-stream; name=\"core.bin\"\r\n"
            "Content-Transfer-Encoding: base64\r\n"
            "Content-Disposition: attachment; filename=\"core.bin\"\r\n\r\n").encode()
    tail = b"\r\n--BOUND--\r\n"
    line = b"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0\r\n"
    n = (size - len(head) - len(tail)) // len(line)
    return head + line * n + tail


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--backends", default="sqlite,postgres")
    ap.add_argument("--latency-count", type=int, default=200)
    ap.add_argument("--rate", type=float, default=20.0)
    ap.add_argument("--big-mb", type=float, default=25.0)
    ap.add_argument("--results", default=os.path.join(ROOT, "bench", "RESULTS.md"))
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    a = ap.parse_args()
    if a.quick:
        a.count, a.reps, a.latency_count = min(a.count, 100), 1, 40
    backends = [b for b in a.backends.split(",") if b]
    if "postgres" in backends and subprocess.run(["pg_isready", "-h", "127.0.0.1", "-q"]).returncode != 0:
        log("PostgreSQL does not answer at 127.0.0.1:5432: skipped")
        backends.remove("postgres")

    load_before = open("/proc/loadavg").read().split()[:3]
    work = tempfile.mkdtemp(prefix="mgbench", dir="/tmp")
    os.chmod(work, 0o711)
    log("work folder", work)
    corpus_dir = os.path.join(work, "corpus")
    gen = subprocess.run([GEN, "--seed", "1", "--count", str(a.count), "--out", corpus_dir],
                         check=True, capture_output=True, text=True).stdout.strip()
    log(gen)
    names = sorted(n for n in os.listdir(corpus_dir) if n.endswith(".eml"))
    # IMAP stores CRLF; append CRLF so the bytes fetched are the bytes filed.
    corpus = [open(os.path.join(corpus_dir, n), "rb").read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
              for n in names]
    total = sum(len(m) for m in corpus)
    lat_corpus_dir = os.path.join(work, "lat-corpus")
    subprocess.run([GEN, "--seed", "2", "--count", str(a.latency_count), "--out", lat_corpus_dir,
                    "--mix", "light"], check=True, capture_output=True)
    lat_corpus = [open(os.path.join(lat_corpus_dir, n), "rb").read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
                  for n in sorted(os.listdir(lat_corpus_dir)) if n.endswith(".eml")]

    dc = Dovecot(work)
    closed_port = free_port()  # nothing listens there: sends fail at once
    R = {"count": len(corpus), "bytes": total, "reps": a.reps, "backends": {}}
    try:
        # Limits (independent of the database), once per repetition.
        dc.empty()
        t0 = time.perf_counter()
        dc.append(corpus)
        R["append_s"] = time.perf_counter() - t0
        fetch, fsync, fsync_each = [], [], []
        limit_dir = os.path.join(work, "data-limit")
        os.makedirs(limit_dir)
        for _ in range(a.reps):
            el, got = dc.fetch_all()
            fetch.append(el)
            R["fetched_bytes"] = got
            fsync.append(fsync_write(limit_dir, total))
        fsync_each.append(fsync_per_message(limit_dir, [len(m) for m in corpus]))
        R["fetch_s"], R["fsync_s"], R["fsync_each_s"] = median(fetch), median(fsync), median(fsync_each)
        log("limit: fetch %.3f s, fsync write %.3f s, fsync per message %.3f s" % (R["fetch_s"], R["fsync_s"], R["fsync_each_s"]))

        R["sink_one_conn_s"], R["sink_conn_each_s"] = sink_limit(work, len(corpus))
        log("sink: %.1f ms/msg on one connection, %.1f ms/msg with a connection each" % (
            R["sink_one_conn_s"] * 1e3, R["sink_conn_each_s"] * 1e3))
        for backend in backends:
            B = R["backends"][backend] = {"ingest": [], "e2e": []}
            data = os.path.join(work, "data-%s" % backend)
            cfg = os.path.join(work, "%s.toml" % backend)
            for rep in range(a.reps):
                # 2. ingest: replies stay pending (SMTP port closed).
                dc.empty()
                dc.append(corpus)
                fresh_db(backend, data)
                write_config(cfg, backend, data, dc.port, closed_port)
                r = run_once(cfg, work, "%s-ingest-%d" % (backend, rep))
                r["inbox_left"] = dc.count("INBOX")
                r["moved"] = dc.count("Processed") + dc.count("Quarantine")
                r["outbox"] = outbox_states(backend, data)
                r["inbound"] = int(sql(backend, data, "SELECT COUNT(*) FROM inbound_messages")[0][0])
                r["db_bytes"] = db_bytes(backend, data)
                B["ingest"].append(r)
                log(backend, "ingest", rep, r)
                # 3. end to end: the sink accepts everything.
                dc.empty()
                dc.append(corpus)
                fresh_db(backend, data)
                # A folder of its own each time: deleting the previous
                # run's 3,600 files made this run's file creations slow
                # (see bench/README.md, "Where the time goes").
                sink = Sink(work, "sink-%s-%d" % (backend, rep))
                write_config(cfg, backend, data, dc.port, sink.port)
                r = run_once(cfg, work, "%s-e2e-%d" % (backend, rep))
                r["inbox_left"] = dc.count("INBOX")
                r["sunk"] = sink.count()
                r["smtp_connections"] = time_wait(sink.port)
                r["outbox"] = outbox_states(backend, data)
                sink.stop()
                B["e2e"].append(r)
                log(backend, "e2e", rep, r)
            # 3b. `mailgate ingest DIR` of the same corpus: time, memory, size.
            fresh_db(backend, data)
            write_config(cfg, backend, data, dc.port, closed_port)
            r = ingest_dir(cfg, corpus_dir, work, "%s-ingest-dir" % backend)
            r["inbound"] = int(sql(backend, data, "SELECT COUNT(*) FROM inbound_messages")[0][0])
            r["db_bytes"] = db_bytes(backend, data)
            B["ingest_dir"] = r
            log(backend, "ingest DIR", {k: v for k, v in r.items() if k != "stderr"})
            # 4. latency and idle RSS.
            B["latency"] = latency(dc, backend, work, lat_corpus, a.rate, a.latency_count)
            log(backend, "latency", B["latency"])
            # 5. one big message.
            dc.empty()
            dc.append([big_message(int(a.big_mb * 1e6))])
            fresh_db(backend, data)
            write_config(cfg, backend, data, dc.port, closed_port)
            r = run_once(cfg, work, "%s-big" % backend)
            r["inbox_left"] = dc.count("INBOX")
            B["big"] = r
            log(backend, "big", r)
            if backend == "postgres":
                subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", PG_DB])
        # 6. parse.
        pcfg = os.path.join(work, "parse.toml")
        write_config(pcfg, "sqlite", os.path.join(work, "data-parse"), dc.port, closed_port)
        out = subprocess.run([BENCH, "parse", "--config", pcfg, "--reps", str(max(3, a.reps)), corpus_dir],
                             check=True, capture_output=True, text=True).stdout
        R["parse"] = json.loads(out)
        log("parse", R["parse"])
    finally:
        dc.stop()
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)
    R["load_before"] = load_before
    R["load_after"] = open("/proc/loadavg").read().split()[:3]
    report(R, a)


def machine():
    cores = os.cpu_count()
    mem = 0
    for line in open("/proc/meminfo"):
        if line.startswith("MemTotal:"):
            mem = int(line.split()[1]) / 1024 / 1024
    model = ""
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return "%d cores (%s), %.1f GiB RAM, %s %s" % (cores, model, mem, platform.system(), platform.release())


def report(R, a):
    MB = R["bytes"] / 1e6
    n = R["count"]
    limit_s = R["fetch_s"] + R["fsync_s"]
    rows = []

    def row(name, secs, ratio=True, note=""):
        if secs is None:
            rows.append("| %s | — | — | — | — | %s |" % (name, note))
            return
        rows.append("| %s | %.2f | %.0f | %.1f | %s | %s |" % (
            name, secs, n / secs, MB / secs, ("%.1f×" % (secs / limit_s)) if ratio else "—", note))

    row("limit: IMAP `UID FETCH 1:* BODY.PEEK[]`", R["fetch_s"], False)
    row("limit: sequential write + one fsync", R["fsync_s"], False)
    row("limit: fetch + fsync write (sum)", limit_s, True, "the reference of the ratios")
    row("(info) write + fsync per message", R["fsync_each_s"], True, "one durable write per message")
    targets = []
    for backend, B in R["backends"].items():
        ing = median([r["drained"] for r in B["ingest"] if r["drained"] is not None]) if B["ingest"] else None
        ing_wall = median([r["wall"] for r in B["ingest"]])
        e2e = median([r["wall"] for r in B["e2e"]])
        o = B["ingest"][-1]
        row("%s ingest (`run --once` to drained)" % backend, ing, True,
            "wall with the failing flush %.2f s; inbox left %d, moved %d, inbound rows %d, outbox %s" % (
                ing_wall, o["inbox_left"], o["moved"], o["inbound"], o["outbox"]))
        e = B["e2e"][-1]
        row("%s end to end (`run --once`, sink up)" % backend, e2e, True,
            "sink accepted %d, outbox %s, inbox left %d, SMTP connections closed (TIME-WAIT) %d" % (
                e["sunk"], e["outbox"], e["inbox_left"], e["smtp_connections"]))
        B["_ing"], B["_e2e"] = ing, e2e
        d = B["ingest_dir"]
        row("%s `mailgate ingest DIR` (same corpus, files)" % backend, d["wall"], True,
            "inbound rows %d, exit %d" % (d["inbound"], d["status"]))
    sink_note = ("- the SMTP sink alone (smtplib, %d small messages): %.1f ms per message on one connection, "
                 "%.1f ms per message with one connection each" % (n, R["sink_one_conn_s"] * 1e3, R["sink_conn_each_s"] * 1e3))
    table = "\n".join(["| measure | s (median) | msgs/s | MB/s | × limit | notes |",
                       "| --- | ---: | ---: | ---: | ---: | --- |"] + rows)

    size = ["| backend | database after `run --once` | × the mail | per message | after `ingest DIR` | × the mail |",
            "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for backend, B in R["backends"].items():
        run_db, dir_db = B["ingest"][-1]["db_bytes"], B["ingest_dir"]["db_bytes"]
        B["_size"] = run_db / R["bytes"]
        size.append("| %s | %.1f MB | %.2f× | %.1f kB | %.1f MB | %.2f× |" % (
            backend, run_db / 1e6, run_db / R["bytes"], run_db / n / 1e3, dir_db / 1e6, dir_db / R["bytes"]))
    mem = ["| backend | ingest peak RSS | end-to-end peak RSS | idle RSS (daemon, after start) | daemon peak RSS (latency run) | daemon RSS after it | 25 MB message peak RSS | `ingest DIR` peak RSS |",
           "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    lat = ["| backend | appended | confirmations matched | p50 | p99 | max |", "| --- | ---: | ---: | ---: | ---: | ---: |"]
    mib = lambda b: "%.1f MiB" % (b / 1048576) if b else "—"
    ms = lambda s: "%.0f ms" % (s * 1000) if s is not None else "—"
    for backend, B in R["backends"].items():
        L = B["latency"]
        mem.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
            backend, mib(max(r["rss"] for r in B["ingest"])), mib(max(r["rss"] for r in B["e2e"])),
            mib(L.get("idle_rss")), mib(L.get("peak_rss_daemon")), mib(L.get("rss_after")), mib(B["big"]["rss"]),
            mib(B["ingest_dir"]["rss"])))
        lat.append("| %s | %d | %d | %s | %s | %s |" % (backend, L.get("appended", 0), L.get("confirmations", 0),
                                                        ms(L.get("p50")), ms(L.get("p99")), ms(L.get("max"))))
    P = R["parse"]
    parse = "intake alone (`mailgate-bench parse`: `intake::decide` over the corpus held in memory, median of %d): **%.1f MB/s**, %.0f msgs/s" % (
        P["reps"], P["mb_per_s"], P["msgs_per_s"])

    mb = lambda b: "%.1f MB" % (b / 1e6) if b else "—"

    def t(ok):
        return "met" if ok else "**not met**"
    big_size = a.big_mb * 1e6
    for backend, B in R["backends"].items():
        ing, e2e, L = B["_ing"], B["_e2e"], B["latency"]
        targets.append("| %s | ingest ≥ 1,600 msg/s (stretch 2,000) | %.0f msg/s | %s |" % (backend, n / ing, t(n / ing >= 1600)))
        targets.append("| %s | ingest within 5× the limit | %.1f× | %s |" % (backend, ing / limit_s, t(ing / limit_s <= 5)))
        targets.append("| %s | end to end ≥ 600 msg/s | %.0f msg/s | %s |" % (backend, n / e2e, t(n / e2e >= 600)))
        targets.append("| %s | database ≤ 1.15× the mail filed | %.2f× | %s |" % (backend, B["_size"], t(B["_size"] <= 1.15)))
        d = B["ingest_dir"]
        targets.append("| %s | `ingest DIR` peak RSS < 100 MB (%d msgs) | %s | %s |" % (backend, n, mb(d["rss"]), t(d["rss"] < 100e6)))
        if L.get("p50") is not None:
            targets.append("| %s | IDLE latency p50 < 250 ms | %s | %s |" % (backend, ms(L["p50"]), t(L["p50"] < 0.25)))
            targets.append("| %s | IDLE latency p99 < 1 s | %s | %s |" % (backend, ms(L["p99"]), t(L["p99"] < 1)))
        peak = max(r["rss"] for r in B["ingest"] + B["e2e"])
        targets.append("| %s | peak RSS < 100 MB (%d msgs) | %s | %s |" % (backend, n, mb(peak), t(peak < 100e6)))
        if L.get("idle_rss"):
            targets.append("| %s | idle RSS < 30 MB | %s | %s |" % (backend, mb(L["idle_rss"]), t(L["idle_rss"] < 30e6)))
        targets.append("| %s | 25 MB message peak RSS < 3× size + 50 MB (%.0f MB) | %s | %s |" % (
            backend, (3 * big_size + 50e6) / 1e6, mb(B["big"]["rss"]), t(B["big"]["rss"] < 3 * big_size + 50e6)))
    if "sqlite" in R["backends"] and "postgres" in R["backends"]:
        s, p = R["backends"]["sqlite"], R["backends"]["postgres"]
        targets.append("| both | PostgreSQL within 1.5× of SQLite (ingest) | %.2f× | %s |" % (p["_ing"] / s["_ing"], t(p["_ing"] / s["_ing"] <= 1.5)))
        targets.append("| both | PostgreSQL within 1.5× of SQLite (end to end) | %.2f× | %s |" % (p["_e2e"] / s["_e2e"], t(p["_e2e"] / s["_e2e"] <= 1.5)))

    now = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    text = "\n".join([
        "## Run of %s" % now,
        "",
        "- command: `bench/run --count %d --reps %d%s%s`" % (
            a.count, a.reps, " --quick" if a.quick else "",
            "" if a.backends == "sqlite,postgres" else " --backends " + a.backends),
        "- machine: %s" % machine(),
        "- load average (1, 5, 15 min) before: %s, after: %s" % (" ".join(R["load_before"]), " ".join(R["load_after"])),
        "- corpus: `mailgate-gen --seed 1 --count %d` (mix standard), %d messages, %.1f MB as CRLF; APPEND of it took %.2f s" % (
            a.count, n, MB, R["append_s"]),
        "- median of %d repetitions for ingest and end to end; latency, idle RSS and the 25 MB message once per backend" % R["reps"],
        "",
        table,
        "",
        sink_note,
        "",
        "Latency (`mailgate run` on IDLE, %d messages of `mailgate-gen --seed 2 --mix light` appended at %g/s; APPEND sent → confirmation accepted by the sink):" % (a.latency_count, a.rate),
        "",
        "\n".join(lat),
        "",
        "Memory (`/usr/bin/time -v` maximum resident set size; idle RSS from /proc/PID/status 2 s after IDLE started, and again once the latency run is over):",
        "",
        "\n".join(mem),
        "",
        "Size on disk (the database right after the first `run --once` ingest, and after `mailgate ingest DIR` of the same corpus; mail %.1f MB):" % MB,
        "",
        "\n".join(size),
        "",
        "Parse: " + parse,
        "",
        "Targets:",
        "",
        "| backend | target | measured | |",
        "| --- | --- | ---: | --- |",
        "\n".join(targets),
        "",
    ])
    print(text)
    raw = os.path.join(os.path.dirname(a.results), "last-run.json")
    with open(raw, "w") as f:
        json.dump(R, f, indent=1, default=str)
    header = "# Benchmark results\n\nWritten by `bench/run` (newest first); see bench/README.md for the method.\n\n"
    old = ""
    if os.path.exists(a.results):
        old = open(a.results).read()
        if old.startswith(header):
            old = old[len(header):]
    with open(a.results, "w") as f:
        f.write(header + text + "\n" + old)
    log("written to", a.results)


if __name__ == "__main__":
    main()
