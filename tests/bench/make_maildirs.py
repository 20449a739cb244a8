#!/usr/bin/env python3
"""Maildirs for tests/bench/servers.sh, as Dovecot's LDA would have left them.

make_maildirs.py BASE USERS_FILE [--users N] [--distinct D] [--messages M] [--size S]
                 [--big NAME:COUNT:SIZE:lf|crlf ...]

Users u1..uN, password "bench", in USERS_FILE (a Dovecot passwd-file, {PLAIN} scheme).
Users u1..uD get M messages of about S octets each, text lines of about 70 octets with LF
line ends (what Dovecot's LDA stores), headers first, some lines starting with '.', in
BASE/<user>/cur under Dovecot's LDA file names (<time>.M<usec>P<pid>.<host>,S=<size>,
W=<size with CRLF>:2,S). Users uD+1..uN get hard links to the files of u1..uD, so that
thousands of full maildrops cost no more disk than D. --big adds a user NAME (in the same
users file) with COUNT messages of SIZE octets, LF or CRLF line ends: a short text part and
a base64 attachment, as big mail is (no line starts with '.', so with CRLF line ends the
stored octets are their own POP3 wire form).
"""
import base64
import argparse
import os
import random

WORDS = ("mail server client message body line text data the a of and to in for with on "
         "as by at from this that which be are was were it has have POP3 Maildir").split()


def message(rnd, user, n, size):
    head = (f"Return-Path: <sender@example.org>\nDelivered-To: {user}@example.org\n"
            f"From: Sender <sender@example.org>\nTo: {user}@example.org\n"
            f"Subject: message {n} for {user}\nDate: Sat, 06 Dec 2025 10:{n % 60:02d}:00 +0000\n"
            f"Message-ID: <{user}.{n}@example.org>\n\n")
    lines, length = [], len(head)
    while length < size:
        line = " ".join(rnd.choice(WORDS) for _ in range(11))
        if rnd.random() < 0.02:
            line = "." + line  # dot-stuffing has work to do
        lines.append(line)
        length += len(line) + 1
    return (head + "\n".join(lines) + "\n").encode()


def attachment_message(rnd, user, size):
    head = (f"From: Sender <sender@example.org>\nTo: {user}@example.org\nSubject: a big file\n"
            "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b1\"\n\n"
            "--b1\nContent-Type: text/plain\n\nThe file is attached.\n\n--b1\n"
            "Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n")
    raw = rnd.randbytes((size - len(head)) * 3 // 4)
    b64 = base64.encodebytes(raw).decode()  # 76-character lines
    return (head + b64 + "--b1--\n").encode()


def write(directory, stamp, n, data):
    crlf = data.count(b"\n") - data.count(b"\r\n")
    name = f"{stamp}.M{n}P4242.bench,S={len(data)},W={len(data) + crlf}:2,S"
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data)
    return name


def maildir(base, user):
    d = os.path.join(base, user)
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    return os.path.join(d, "cur")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("base")
    p.add_argument("users_file")
    p.add_argument("--users", type=int, default=200)
    p.add_argument("--distinct", type=int, default=200)
    p.add_argument("--messages", type=int, default=20)
    p.add_argument("--size", type=int, default=4096)
    p.add_argument("--big", action="append", default=[])
    a = p.parse_args()
    rnd = random.Random(14)
    names = {}
    with open(a.users_file, "w") as users:
        for u in range(1, a.users + 1):
            users.write(f"u{u}:{{PLAIN}}bench\n")
        for spec in a.big:
            users.write(f"{spec.split(':')[0]}:{{PLAIN}}bench\n")
    os.chmod(a.users_file, 0o644)
    for u in range(1, a.distinct + 1):
        cur = maildir(a.base, f"u{u}")
        names[u] = [write(cur, 1765000000 + m, u * 100 + m, message(rnd, f"u{u}", m, a.size))
                    for m in range(a.messages)]
    for u in range(a.distinct + 1, a.users + 1):
        cur = maildir(a.base, f"u{u}")
        src = (u - 1) % a.distinct + 1
        for name in names[src]:
            os.link(os.path.join(a.base, f"u{src}", "cur", name), os.path.join(cur, name))
    for spec in a.big:
        user, count, size, ends = spec.split(":")
        cur = maildir(a.base, user)
        one = attachment_message(rnd, user, int(size))
        if ends == "crlf":
            one = one.replace(b"\n", b"\r\n")
        for m in range(int(count)):
            write(cur, 1765000000 + m, m, one.replace(b"a big file", f"big file {m:04d}".encode(), 1))


if __name__ == "__main__":
    main()
