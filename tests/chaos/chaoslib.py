"""Infrastructure for tests/chaos/run: a private Dovecot, the SMTP sink, a
private PostgreSQL cluster, a cutting TCP proxy, mailgate itself, and the
accounting of what became of every message (database rows, IMAP folders,
the sink's files).

Python 3 standard library only; the sink runs under /usr/bin/python3 (aiosmtpd).
"""
import email.parser
import glob
import imaplib
import json
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HARNESS = os.path.join(ROOT, "tests", "harness")
T0 = time.time()


def log(*a):
    print("[chaos %6.1fs]" % (time.time() - T0), *a, file=sys.stderr, flush=True)


class ChaosFailure(Exception):
    pass


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_until(pred, timeout, interval=0.2, what="condition"):
    """Polls pred() until it returns a true value; returns it, or raises."""
    deadline = time.time() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.time() > deadline:
            raise ChaosFailure("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(interval)


def crlf(raw):
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


# ---------------------------------------------------------------- Dovecot

class Dovecot:
    def __init__(self, work, name="dc"):
        self.dir = os.path.join(work, name)
        for attempt in range(5):
            self.port = free_port()
            p = self._run_start()
            if p.returncode == 0:
                break
            if p.returncode != 89:
                raise ChaosFailure("start-dovecot.sh failed: %s" % p.stderr)
        else:
            raise ChaosFailure("no free port for Dovecot")
        self.up = True

    def _run_start(self):
        # The daemon inherits stdout/stderr: files, not pipes (a pipe would
        # stay open as long as Dovecot runs).
        out = self.dir + ".start.log"
        with open(out, "w+") as f:
            p = subprocess.run([os.path.join(HARNESS, "start-dovecot.sh"), self.dir, str(self.port)],
                               stdout=f, stderr=f, stdin=subprocess.DEVNULL)
            f.seek(0)
            p.stderr = f.read()[-2000:]
        return p

    def start(self):
        """Starts it again: same folder, same port."""
        deadline = time.time() + 30
        while True:
            p = self._run_start()
            if p.returncode == 0:
                break
            if time.time() > deadline:
                raise ChaosFailure("Dovecot did not start again: %s" % p.stderr)
            time.sleep(1)
        self.up = True

    def stop(self):
        subprocess.run([os.path.join(HARNESS, "stop-dovecot.sh"), self.dir],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.up = False

    def imap(self):
        c = imaplib.IMAP4("127.0.0.1", self.port)
        c.login("support", "secret")
        return c

    def counts(self, folders=("INBOX", "Processed", "Quarantine")):
        c = self.imap()
        out = {}
        for f in folders:
            typ, data = c.status(f, "(MESSAGES)")
            if typ == "OK":
                m = re.search(rb"MESSAGES (\d+)", data[0])
                out[f] = int(m.group(1)) if m else 0
            else:
                out[f] = 0
        c.logout()
        return out

    def inbox(self):
        return self.counts(("INBOX",))["INBOX"]

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
        """APPENDs each message; returns (accepted, refused) lists of indexes."""
        c = self.imap()
        ok, refused = [], []
        for i, raw in enumerate(messages):
            try:
                typ, data = c.append(folder, None, None, raw)
            except (imaplib.IMAP4.error, imaplib.IMAP4.abort) as e:
                typ, data = "NO", [str(e).encode()]
                try:
                    c.logout()
                except Exception:
                    pass
                c = self.imap()
            (ok if typ == "OK" else refused).append(i)
        c.logout()
        return ok, refused


# ---------------------------------------------------------------- SMTP sink

class Sink:
    def __init__(self, work, name="sink"):
        self.dir = os.path.join(work, name)
        os.makedirs(self.dir, exist_ok=True)
        self.port = 0
        self.proc = None
        self.start()

    def start(self):
        self.proc = subprocess.Popen(["/usr/bin/python3", os.path.join(HARNESS, "smtp_sink.py"), str(self.port), self.dir],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("READY"):
            raise ChaosFailure("SMTP sink did not start: %r" % line)
        self.port = int(line.split()[1])

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=10)
        self.proc = None

    def set_mode(self, mode):
        tmp = os.path.join(self.dir, "mode.tmp")
        with open(tmp, "w") as f:
            f.write(mode)
        os.rename(tmp, os.path.join(self.dir, "mode"))

    def files(self):
        return sorted(n for n in os.listdir(self.dir) if n.endswith(".eml") and not n.startswith("."))

    def count(self):
        return len(self.files())

    def message_ids(self):
        """Message-ID -> how many times the sink accepted it."""
        seen = {}
        parser = email.parser.BytesHeaderParser()
        for n in self.files():
            with open(os.path.join(self.dir, n), "rb") as f:
                head = f.read(65536).split(b"\r\n\r\n", 1)[0]
            mid = norm_id(parser.parsebytes(head + b"\r\n\r\n").get("Message-ID", ""))
            seen[mid] = seen.get(mid, 0) + 1
        return seen


def norm_id(mid):
    return (mid or "").strip().strip("<>").strip()


# ---------------------------------------------------------------- PostgreSQL

class Postgres:
    """A private cluster (initdb/pg_ctl as the postgres user), trust auth."""

    def __init__(self, work):
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not bins:
            raise ChaosFailure("no /usr/lib/postgresql/*/bin/initdb (install postgresql)")
        self.bin = os.path.dirname(bins[-1])
        self.dir = os.path.join(work, "pg")
        os.makedirs(self.dir)
        self.data = os.path.join(self.dir, "data")
        self.logfile = os.path.join(self.dir, "log")
        self.root = os.geteuid() == 0
        if self.root:
            subprocess.run(["chown", "-R", "postgres:postgres", self.dir], check=True)
        self.port = free_port()
        self.as_pg([os.path.join(self.bin, "initdb"), "-D", self.data, "-A", "trust", "-U", "postgres",
                    "--no-sync", "-E", "UTF8", "--locale", "C"], quiet=True)
        with open(os.path.join(self.data, "postgresql.auto.conf"), "a") as f:
            f.write("port = %d\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '%s'\n"
                    "fsync = on\nmax_connections = 50\n" % (self.port, self.dir))
        if self.root:
            subprocess.run(["chown", "postgres:postgres", os.path.join(self.data, "postgresql.auto.conf")], check=True)
        self.start()
        self.psql("postgres", "CREATE DATABASE mailgate")
        self.url = "postgres://postgres@127.0.0.1:%d/mailgate" % self.port

    def as_pg(self, cmd, quiet=False):
        if self.root:
            cmd = ["runuser", "-u", "postgres", "--"] + cmd
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd="/tmp")
        if p.returncode != 0:
            raise ChaosFailure("%s failed: %s" % (" ".join(cmd), p.stdout[-2000:]))
        return p.stdout

    def start(self):
        self.as_pg([os.path.join(self.bin, "pg_ctl"), "-D", self.data, "-l", self.logfile, "-w", "-t", "60", "start"])

    def stop(self, mode="fast"):
        self.as_pg([os.path.join(self.bin, "pg_ctl"), "-D", self.data, "-m", mode, "-w", "-t", "60", "stop"])

    def running(self):
        return os.path.exists(os.path.join(self.data, "postmaster.pid"))

    def psql(self, db, query):
        p = subprocess.run([os.path.join(self.bin, "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                            "-d", db, "-At", "-F", "\x1f", "-c", query], capture_output=True, text=True)
        if p.returncode != 0:
            raise ChaosFailure("psql: %s" % p.stderr.strip())
        return [tuple(l.split("\x1f")) for l in p.stdout.splitlines() if l]

    def destroy(self):
        if self.running():
            try:
                self.stop("immediate")
            except ChaosFailure:
                pass


# ---------------------------------------------------------------- database reads

class Db:
    def __init__(self, url, pg=None):
        self.url = url
        self.pg = pg

    def q(self, query):
        if self.pg is not None:
            rows = self.pg.psql("mailgate", query)
            return [tuple(None if v == "" else v for v in r) for r in rows]
        path = self.url[len("sqlite://"):]
        if not os.path.exists(path):
            return []
        c = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=30)
        try:
            return c.execute(query).fetchall()
        finally:
            c.close()

    def scalar(self, query):
        rows = self.q(query)
        return int(rows[0][0]) if rows and rows[0][0] is not None else 0

    def inbound(self):
        return self.scalar("SELECT COUNT(*) FROM inbound_messages")

    def pending(self):
        return self.scalar("SELECT COUNT(*) FROM outbox WHERE status = 'pending'")


# ---------------------------------------------------------------- TCP proxy that cuts once

class CuttingProxy:
    """Forwards 127.0.0.1:port to the upstream port. Once, when a connection
    has carried more than cut_after bytes from the server to the client, it
    closes both sides (a connection lost in the middle of a FETCH). With
    rate (bytes/s), the server's side is slowed down to that rate."""

    def __init__(self, upstream_port, cut_after=None, rate=None):
        self.upstream = upstream_port
        self.cut_after = cut_after
        self.rate = rate
        self.cut_done = False
        self.connections = 0
        self.cut_at = None
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.lock = threading.Lock()
        self.stopped = False
        self.refuse = False
        self.live = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopped:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            try:
                server = socket.socket()
                if self.rate:
                    # Small buffers, so that the server cannot run ahead of
                    # the slowed stream: when it dies, what it had not sent
                    # yet is lost, as without a proxy.
                    server.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32768)
                    client.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 32768)
                server.settimeout(10)
                server.connect(("127.0.0.1", self.upstream))
                server.settimeout(None)
            except OSError:
                client.close()
                continue
            if self.refuse:
                client.close()
                server.close()
                continue
            with self.lock:
                self.connections += 1
                self.live.append((client, server))
            state = {"down": 0, "closed": False}
            threading.Thread(target=self._pump, args=(client, server, None, state), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, state, state), daemon=True).start()

    def _close(self, a, b, state):
        state["closed"] = True
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                s.close()
            except OSError:
                pass

    def _pump(self, src, dst, count, state):
        try:
            while True:
                data = src.recv(16384)
                if not data:
                    break
                if count is not None:
                    count["down"] += len(data)
                    with self.lock:
                        cut = self.cut_after is not None and not self.cut_done and count["down"] > self.cut_after
                        if cut:
                            self.cut_done = True
                            self.cut_at = count["down"]
                    if cut:
                        # Forward part of this chunk, then cut mid-stream.
                        try:
                            dst.sendall(data[: len(data) // 2])
                        except OSError:
                            pass
                        break
                dst.sendall(data)
                if count is not None and self.rate:
                    time.sleep(len(data) / self.rate)
        except OSError:
            pass
        self._close(src, dst, state)

    def cut_all(self, refuse=True):
        """Closes every connection (the server died), and refuses new ones
        until allow()."""
        self.refuse = refuse
        with self.lock:
            live, self.live = self.live, []
        for pair in live:
            self._close(pair[0], pair[1], {})

    def allow(self):
        self.refuse = False

    def stop(self):
        self.stopped = True
        try:
            self.sock.close()
        except OSError:
            pass


# ---------------------------------------------------------------- mailgate

def write_config(path, db_url, data, imap_port, smtp_port, extra=""):
    text = f"""[database]
url = "{db_url}"
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
retry_initial = "2s"
retry_max = "10s"
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
timeout = "30s"
{extra}"""
    with open(path, "w") as f:
        f.write(text)


def read_status(pid, key):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


class Daemon:
    """`mailgate run`, restartable; every start appends to one JSON log."""

    def __init__(self, bins, cfg, logpath, rust_log="info"):
        self.bins = bins
        self.cfg = cfg
        self.logpath = logpath
        self.rust_log = rust_log
        self.proc = None
        self.starts = 0
        self.peak_rss = 0

    def start(self):
        self.err = open(self.logpath, "ab")
        self.offset = os.path.getsize(self.logpath)
        self.proc = subprocess.Popen([os.path.join(self.bins, "mailgate"), "--config", self.cfg, "--log-format", "json", "run"],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.err,
                                     env=dict(os.environ, RUST_LOG=self.rust_log))
        self.starts += 1
        return self

    def log_since_start(self):
        with open(self.logpath, "rb") as f:
            f.seek(self.offset)
            return f.read().decode("utf-8", "replace")

    def last_lines(self, n=12):
        """The daemon's last log lines since its start, for a failure that
        happens only on another machine (the work folder is gone there)."""
        lines = self.log_since_start().splitlines()[-n:]
        return "".join("\n    daemon: " + line[:400] for line in lines)

    def wait_connected(self, timeout=60):
        return wait_until(lambda: ('"connected"' in self.log_since_start()) or self.dead(), timeout,
                          0.05, "mailgate to connect")

    def dead(self):
        if self.proc and self.proc.poll() is not None:
            raise ChaosFailure("mailgate exited by itself with %s (see %s)" % (self.proc.returncode, self.logpath))
        return False

    def note_memory(self):
        if self.proc and self.proc.poll() is None:
            hwm = read_status(self.proc.pid, "VmHWM")
            if hwm:
                self.peak_rss = max(self.peak_rss, hwm)

    def kill9(self):
        self.note_memory()
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.err.close()
        self.proc = None

    def stop(self, timeout=30):
        if not self.proc:
            return None
        self.note_memory()
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = "killed after %d s" % timeout
        self.err.close()
        self.proc = None
        return rc

    def log_text(self):
        with open(self.logpath, "rb") as f:
            return f.read().decode("utf-8", "replace")


def panics_in(paths):
    found = []
    for p in paths:
        if not os.path.exists(p):
            continue
        with open(p, "rb") as f:
            for line in f:
                if b"panicked" in line:
                    found.append("%s: %s" % (os.path.basename(p), line.decode("utf-8", "replace").strip()[:300]))
    return found


# ---------------------------------------------------------------- accounting

def account(db, sink=None, expected_ids=None, dc=None):
    """What became of the messages, counted from the database, the sink and
    the IMAP folders. expected_ids: the Message-IDs that went in (canonical,
    without <>), or None."""
    A = {}
    A["inbound"] = db.inbound()
    A["outcomes"] = {r[0]: int(r[1]) for r in db.q("SELECT outcome, COUNT(*) FROM inbound_messages GROUP BY outcome")}
    A["filed"] = sum(v for k, v in A["outcomes"].items() if k != "duplicate")
    A["tickets"] = db.scalar("SELECT COUNT(*) FROM tickets")
    # Two tickets from one message: the same Message-ID filed twice as a
    # ticket, or a ticket that no inbound message points at.
    A["dup_ticket_ids"] = db.scalar(
        "SELECT COALESCE(SUM(n - 1), 0) FROM (SELECT COUNT(*) AS n FROM inbound_messages "
        "WHERE outcome = 'ticket' AND message_id IS NOT NULL GROUP BY message_id HAVING COUNT(*) > 1) AS d")
    A["orphan_tickets"] = db.scalar(
        "SELECT COUNT(*) FROM tickets WHERE id NOT IN (SELECT ticket_id FROM inbound_messages "
        "WHERE outcome = 'ticket' AND ticket_id IS NOT NULL)")
    A["dup_tickets"] = A["dup_ticket_ids"] + A["orphan_tickets"]
    # For inputs that share Message-IDs on purpose (hostile variants): one
    # raw message filed twice, or a ticket without its message.
    A["dup_tickets_raw"] = A["orphan_tickets"] + db.scalar(
        "SELECT COALESCE(SUM(n - 1), 0) FROM (SELECT COUNT(*) AS n FROM inbound_messages "
        "WHERE outcome <> 'duplicate' GROUP BY raw_sha256 HAVING COUNT(*) > 1) AS d")
    A["dup_comments"] = db.scalar(
        "SELECT COALESCE(SUM(n - 1), 0) FROM (SELECT COUNT(*) AS n FROM comments "
        "WHERE inbound_message_id IS NOT NULL GROUP BY inbound_message_id HAVING COUNT(*) > 1) AS d")
    A["outbox"] = {r[0]: int(r[1]) for r in db.q("SELECT status, COUNT(*) FROM outbox GROUP BY status")}
    A["confirmations"] = db.scalar("SELECT COUNT(*) FROM outbox WHERE kind = 'confirmation'")
    if expected_ids is not None:
        rows = db.q("SELECT message_id, outcome FROM inbound_messages")
        have = {}
        for mid, outcome in rows:
            if outcome != "duplicate":
                have.setdefault(norm_id(mid), []).append(outcome)
        A["lost_ids"] = sorted(m for m in expected_ids if m not in have)
        A["twice_ids"] = sorted(m for m in expected_ids if len(have.get(m, [])) > 1)
    if sink is not None:
        seen = sink.message_ids()
        out_ids = {norm_id(r[0]): r[1] for r in db.q("SELECT message_id, status FROM outbox")}
        A["sink_accepted"] = sum(seen.values())
        A["dup_replies"] = sum(n - 1 for n in seen.values() if n > 1)
        A["dup_reply_ids"] = sorted(m for m, n in seen.items() if n > 1)
        A["replies_missing"] = sorted(m for m, s in out_ids.items() if s not in ("suppressed",) and m not in seen)
        A["replies_unknown"] = sorted(m for m in seen if m not in out_ids)
    if dc is not None:
        A["folders"] = dc.counts()
    return A


def hostile_summary(A):
    return {k: A[k] for k in ("inbound", "outcomes") if k in A}
