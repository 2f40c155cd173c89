"""Hostile inputs for the chaos suite: mutations of generated mail
(truncated at every MIME boundary, wrong and missing boundaries, invalid
base64 and quoted-printable, NUL bytes, unknown charsets, CR-only lines)
and single monsters (10,000 headers, a 1 MB subject, multiparts nested
1,000 deep, a 50 MB attachment, 5,000 attachments, a zip bomb...).

Every case is written as NAME.eml into a folder; each carries a unique
X-Chaos-Case header (where it has headers at all) so that no two inputs are
the same bytes and a duplicate never hides a loss.
"""
import base64
import io
import os
import random
import re
import zipfile

HDR = ("From: Hostile Sender <hostile{n}@acme.example>\r\n"
       "To: support@example.com\r\n"
       "Date: Mon, 23 Nov 2026 10:00:00 +0100\r\n"
       "Message-ID: <hostile-{n}@acme.example>\r\n")


def tag(raw, name):
    """Prepends the unique case header."""
    return b"X-Chaos-Case: " + name.encode() + b"\r\n" + raw


def header_end(raw):
    i = raw.find(b"\r\n\r\n")
    return len(raw) if i < 0 else i


def boundaries(raw):
    return [m.group(1) or m.group(2) for m in
            re.finditer(rb'boundary\s*=\s*(?:"([^"\r\n]+)"|([^;\s"]+))', raw, re.I)]


def mutations(base, stem, rnd):
    """Yields (name, bytes) for one generated message."""
    bounds = boundaries(base)
    if bounds:
        # Truncated at every MIME boundary (up to 8 per message): just before
        # each delimiter line, and in the middle of it.
        cuts = []
        for b in set(bounds):
            for m in re.finditer(b"\r\n--" + re.escape(b), base):
                cuts.append(m.start())
                cuts.append(m.start() + 4 + len(b) // 2)
        cuts = sorted(set(cuts))
        if len(cuts) > 8:
            cuts = sorted(rnd.sample(cuts, 8))
        for c in cuts:
            yield "%s-trunc-%d" % (stem, c), base[:c]
        b = bounds[0]
        yield stem + "-wrong-boundary", base.replace(b'boundary="' + b + b'"', b'boundary="not-' + b + b'"', 1) \
            .replace(b"boundary=" + b, b"boundary=not-" + b, 1)
        yield stem + "-missing-boundary", re.sub(rb';\s*boundary\s*=\s*("[^"]*"|[^;\s]+)', b"", base, count=1)
        yield stem + "-unclosed", re.sub(b"\r\n--" + re.escape(b) + b"--", b"\r\n", base)
    else:
        yield stem + "-fake-multipart", base.replace(b"Content-Type: text/plain", b"Content-Type: multipart/mixed", 1)
    # Invalid base64: every base64 body gets garbage in the middle.
    if b"base64" in base.lower():
        out = re.sub(rb"(\r\n\r\n)([A-Za-z0-9+/]{20})", lambda m: m.group(1) + b"!!*%%" + m.group(2) + b"===x=\x80\xff", base)
        yield stem + "-bad-base64", out
    # Invalid quoted-printable on the text part.
    qp = re.sub(rb"(?i)content-transfer-encoding: *[a-z0-9-]+", b"Content-Transfer-Encoding: quoted-printable", base, count=1)
    h = header_end(qp)
    yield stem + "-bad-qp", qp[:h] + b"\r\n\r\n=ZZ=4=\r\n=\r\n=G1 soft line=\r\n=0D=0A=00=C3=28 " + qp[h + 4:]
    # NUL bytes in the headers, the body, the boundaries.
    h = header_end(base)
    yield stem + "-nul-header", base[:h // 2] + b"\x00" + base[h // 2:]
    yield stem + "-nul-body", base.replace(b"\r\n", b"\r\n\x00", 40)
    # Unknown charsets, declared and in encoded words.
    u = re.sub(rb'(?i)charset="?[a-z0-9_-]+"?', b'charset="x-klingon-%d"' % rnd.randrange(1000), base)
    u = re.sub(rb"(?im)^Subject: ", b"Subject: =?x-unknown-99?B?SGVsbG8=?= =?utf-8?Q?bad=ZZ?= ", u, count=1)
    yield stem + "-unknown-charset", u
    # CR-only line endings, and LF-only.
    yield stem + "-cr-only", base.replace(b"\r\n", b"\r")
    # Random byte flips.
    b = bytearray(base)
    for _ in range(max(1, len(b) // 500)):
        b[rnd.randrange(len(b))] = rnd.randrange(256)
    yield stem + "-flipped", bytes(b)


def plain(n, subject, body, extra=b""):
    return (HDR.format(n=n).encode() + b"Subject: " + subject + b"\r\n" + extra +
            b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body + b"\r\n")


def zip_bomb(expanded):
    """A small zip holding `expanded` bytes of zeros (deflated ~1000:1)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        with z.open("zeros.bin", "w", force_zip64=True) as f:
            chunk = b"\0" * (1 << 22)
            left = expanded
            while left > 0:
                f.write(chunk[:min(left, len(chunk))])
                left -= len(chunk)
    return buf.getvalue()


def b64lines(data):
    enc = base64.b64encode(data)
    return b"\r\n".join(enc[i:i + 76] for i in range(0, len(enc), 76))


def monsters(short):
    """Yields (name, bytes, note) for the single big cases."""
    n = 0

    def nid():
        nonlocal n
        n += 1
        return "m%d" % n

    yield "headers-10000", plain(nid(), b"Ten thousand headers", b"Hello, see the headers.",
                                 b"".join(b"X-Filler-%d: value %d\r\n" % (i, i) for i in range(10000))), "10,000 header lines"
    yield "subject-1mb", plain(nid(), b"Help " + b"A" * (1 << 20), b"A subject of one megabyte."), "1 MiB subject line"
    yield "subject-1mb-folded", plain(nid(), b" ".join([b"word"] * 200000), b"A folded subject."), "1 MB subject, many words"
    # Multiparts nested 1,000 deep.
    depth = 1000
    parts = []
    for i in range(depth):
        parts.append(b"--b%d\r\nContent-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n" % (i, i + 1))
    inner = b"--b%d\r\nContent-Type: text/plain\r\n\r\nDeep inside.\r\n--b%d--\r\n" % (depth, depth)
    closing = b"".join(b"--b%d--\r\n" % i for i in reversed(range(depth)))
    yield "nested-1000", (HDR.format(n=nid()).encode() + b"Subject: nested 1000 deep\r\nMIME-Version: 1.0\r\n"
                          b"Content-Type: multipart/mixed; boundary=\"b0\"\r\n\r\n" + b"".join(parts) + inner + closing), \
        "multipart nested 1,000 deep"
    # message/rfc822 nested 200 deep.
    msg = b"From: inner@acme.example\r\nSubject: innermost\r\n\r\nbottom\r\n"
    for i in range(200):
        msg = (b"From: layer%d@acme.example\r\nSubject: layer %d\r\nMIME-Version: 1.0\r\n"
               b"Content-Type: message/rfc822\r\n\r\n" % (i, i)) + msg
    yield "rfc822-200", HDR.format(n=nid()).encode() + msg, "message/rfc822 nested 200 deep"
    # 5,000 attachments.
    body = [HDR.format(n=nid()).encode(), b"Subject: five thousand attachments\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: multipart/mixed; boundary=\"FIVE\"\r\n\r\n--FIVE\r\nContent-Type: text/plain\r\n\r\nLogs attached.\r\n"]
    for i in range(5000):
        body.append(b"--FIVE\r\nContent-Type: text/plain; name=\"log%d.txt\"\r\nContent-Disposition: attachment; "
                    b"filename=\"log%d.txt\"\r\n\r\nline %d\r\n" % (i, i, i))
    body.append(b"--FIVE--\r\n")
    yield "attachments-5000", b"".join(body), "5,000 attachments"
    # The zip bomb: stored as an attachment, never expanded.
    expanded = (256 << 20) if short else (2 << 30)
    bomb = zip_bomb(expanded)
    yield "zip-bomb", (HDR.format(n=nid()).encode() + b"Subject: zip of our logs\r\nMIME-Version: 1.0\r\n"
                       b"Content-Type: multipart/mixed; boundary=\"ZIP\"\r\n\r\n--ZIP\r\nContent-Type: text/plain\r\n\r\n"
                       b"The logs are in the zip.\r\n--ZIP\r\nContent-Type: application/zip; name=\"logs.zip\"\r\n"
                       b"Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"logs.zip\"\r\n\r\n"
                       + b64lines(bomb) + b"\r\n--ZIP--\r\n"), \
        "zip bomb: %d KiB expanding to %d MiB" % (len(bomb) // 1024, expanded >> 20)
    # A 50 MB attachment (over max_message_size = 25 MiB).
    big = os.urandom(37 * 1000 * 1000)  # 50 MB once in base64
    yield "attachment-50mb", (HDR.format(n=nid()).encode() + b"Subject: core dump\r\nMIME-Version: 1.0\r\n"
                              b"Content-Type: multipart/mixed; boundary=\"BIG\"\r\n\r\n--BIG\r\nContent-Type: text/plain\r\n\r\n"
                              b"Dump attached.\r\n--BIG\r\nContent-Type: application/octet-stream; name=\"core\"\r\n"
                              b"Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"core\"\r\n\r\n"
                              + b64lines(big) + b"\r\n--BIG--\r\n"), "50 MB attachment"
    # A line of 2 MB without any newline; 8-bit garbage headers; no From.
    yield "long-line", plain(nid(), b"long line", b"x" * (2 << 20)), "2 MB line"
    yield "no-newline-at-all", b"Subject: " + b"y" * 100000, "headers only, no newline"
    yield "no-sender", (b"To: support@example.com\r\nSubject: who am I\r\nMessage-ID: <nosender@x>\r\n\r\nNo From.\r\n"), "no From"
    yield "from-garbage", (b"From: \xff\xfe<<<@@@>>>\r\nTo: support@example.com\r\nSubject: \x80\x81\r\n\r\nbody\r\n"), "garbage From"
    yield "empty", b"", "empty file"
    yield "only-blank", b"\r\n\r\n\r\n", "blank lines only"
    yield "random-bytes", os.urandom(20000), "random bytes"
    yield "encoded-word-bomb", plain(nid(), b"=?utf-8?B?" + b"QUFB" * 100000 + b"?=", b"encoded words"), "400 KB encoded word"
    yield "deep-header-fold", plain(nid(), b"folded" + b"\r\n " * 50000 + b"end", b"folded"), "subject folded 50,000 times"
    yield "bad-date-and-ids", (b"From: a@acme.example\r\nDate: 99 Foo 99999 99:99:99 +9999\r\nMessage-ID: <<<>>>\r\n"
                               b"In-Reply-To: <" + b"x" * 10000 + b">\r\nReferences: " + b"<a@b> " * 5000 +
                               b"\r\nSubject: dates\r\n\r\nbody\r\n"), "bad date, 5,000 references"
    # Nested HTML costs mailgate time quadratic in the depth (100,000: about
    # a minute of CPU in release; see docs/reliability.md): the short
    # version keeps it small.
    depth = 10000 if short else 100000
    yield "html-bomb", (HDR.format(n=nid()).encode() + b"Subject: html\r\nMIME-Version: 1.0\r\nContent-Type: text/html\r\n\r\n"
                        + b"<div>" * depth + b"text" + b"</div>" * depth + b"\r\n"), "HTML nested %d deep" % depth


def write_all(out, gen_dir, short, seed=7):
    """Writes every case into out/; returns a list of (file, note)."""
    os.makedirs(out, exist_ok=True)
    rnd = random.Random(seed)
    cases = []
    names = sorted(n for n in os.listdir(gen_dir) if n.endswith(".eml"))
    for n in names:
        base = open(os.path.join(gen_dir, n), "rb").read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        stem = n[:-4]
        for name, raw in mutations(base, stem, rnd):
            path = os.path.join(out, name + ".eml")
            with open(path, "wb") as f:
                f.write(tag(raw, name))
            cases.append((path, "mutation"))
    for name, raw, note in monsters(short):
        path = os.path.join(out, name + ".eml")
        with open(path, "wb") as f:
            f.write(raw if name in ("empty", "random-bytes", "no-newline-at-all") else tag(raw, name))
        cases.append((path, note))
    return cases
