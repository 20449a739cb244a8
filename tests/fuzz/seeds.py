#!/usr/bin/env python3
"""Hand-picked starting inputs for the fuzz targets, in each target's input layout (see the
comment at the top of tests/fuzz/<target>.cpp). They are the shapes the unit and transcript
tests use (RFC examples, the test maildrop, the SASL exchanges of test_sasl_*.cpp, the PROXY
headers of test_proxy_header.cpp); server_session gets the transcript tests' own inputs as
well (server_transcript.hpp writes them). seed_corpus.sh merges these into
tests/fuzz/corpus/<target>/, keeping only what adds coverage.

usage: seeds.py OUT_DIR   (writes OUT_DIR/<target>/<n>)
"""
import base64
import os
import sys

out = sys.argv[1]


def b64(s):
    return base64.b64encode(s).decode()


def v2(ver_cmd, fam, block):
    return (b"\r\n\r\n\0\r\nQUIT\n" + bytes([ver_cmd, fam]) + len(block).to_bytes(2, "big")
            + block)


def sasl_control(mechanism, initial_response, secret, verdict=0):
    """Byte 0 of a sasl_server input: registry index (byte % 7: SCRAM-SHA-256, SCRAM-SHA-1,
    CRAM-MD5, PLAIN, LOGIN, OAUTHBEARER, XOAUTH2), bit 3 = initial response, bits 4-5 = the
    secret looked up, bits 6-7 = the bearer token's verdict (0 invalid, 1 the named user's,
    2 someone else's)."""
    for c in range(256):
        if (c % 7 == mechanism and bool(c & 8) == initial_response and (c >> 4) & 3 == secret
                and c >> 6 == verdict):
            return c
    raise ValueError("no control octet")


def client_flags(mechanism, cleartext=False, pipelining=False, stls_required=False):
    """Byte 0 of a client_session input: mechanism = (flags >> 3) % 10 (1 user, 2 apop,
    3 plain...), bit 1 cleartext allowed, bit 2 pipelining, bit 7 STLS required."""
    for f in range(256):
        if ((f >> 3) % 10 == mechanism and bool(f & 2) == cleartext and bool(f & 4) == pipelining
                and bool(f & 0x80) == stls_required and not f & 1):
            return f
    raise ValueError("no flags octet")


SERVER_NONCE = base64.b64encode(b"r" * 18)  # the fuzz target's fixed random octets

TCP4 = bytes([192, 0, 2, 10, 203, 0, 113, 5, 0xdc, 0x04, 0, 110])
TCP6 = bytes(15 * [0]) + b"\x01" + bytes(15 * [0]) + b"\x02" + b"\x0f\xa0\x03\xe3"

BODY1 = b"Subject: one\r\n\r\nfirst body\r\n"
BODY2 = b"Subject: two\r\n\r\n.leading dot\r\n..two dots\r\nno final crlf"
WIRE1 = BODY1 + b".\r\n"
WIRE2 = b"Subject: two\r\n\r\n..leading dot\r\n...two dots\r\nno final crlf\r\n.\r\n"

COMMANDS = [b"USER alice", b"PASS two words", b"APOP mrose c4c9334bac560ecc979e58001b3e22fb",
            b"AUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=", b"AUTH SCRAM-SHA-256", b"AUTH", b"STLS",
            b"CAPA", b"STAT", b"LIST", b"LIST 1", b"UIDL 2", b"RETR 1", b"TOP 1 10", b"DELE 1",
            b"NOOP", b"RSET", b"QUIT", b"LANG en", b"UTF8", b"LIST 4294967297", b"LIST +1",
            b"LIST 0", b"LIST 1 2", b"retr 1", b"TOP 1 -1", b"USER a\0b"]

CLIENT_SESSION_REPLIES = [
    b"+OK POP3 Server ready <1.2@pop.example.org>\r\n",
    b"+OK Capability list follows\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nUSER\r\n"
    b"SASL SCRAM-SHA-256 CRAM-MD5 PLAIN LOGIN\r\nSTLS\r\n.\r\n",
    b"+OK User accepted\r\n", b"+OK You are now logged in\r\n", b"+OK 2 85\r\n",
    b"+OK 2 messages (85 octets)\r\n1 28\r\n2 57\r\n.\r\n",
    b"+OK Unique-ID listing follows\r\n1 uid-one\r\n2 uid-two\r\n.\r\n", b"+OK 1 28\r\n",
    b"+OK 2 uid-two\r\n", b"+OK Top of message follows\r\n" + WIRE1, b"+OK 28 octets\r\n" + WIRE1,
    b"+OK 57 octets\r\n" + WIRE2, b"+OK Capability list follows\r\nTOP\r\nUIDL\r\n.\r\n",
    b"+OK Message 1 deleted\r\n", b"+OK\r\n", b"+OK Maildrop has 2 messages (85 octets)\r\n",
    b"+OK izypop3 signing off (1 messages deleted)\r\n"]

seeds = {
    "line_reader": [b"\x20\x05USER alice\r\nPASS x\r\n", b"\x08\x03" + b"A" * 40 + b"\r\nNOOP\n",
                    b"\x3f\x60" + WIRE2],
    "command": COMMANDS,
    "status_line": [b"\x40+OK 2 85", b"\x40-ERR [SYS/TEMP] try again later",
                    b"\x10-ERR [AUTH] Invalid login", b"\x40+ " + b64(b"Username:").encode(),
                    b"\x60+OK POP3 Server ready <1896.697170952@dbc.mtview.ca.us>",
                    b"\x05-ERR \x1b[31mred"],
    "dot_unstuffer": [b"\x07" + WIRE1, b"\x11" + WIRE2, b"\x03\r.\r\n..\r\n.\r\n", b"\x00.\n"],
    "dot_roundtrip": [b"\x00\x05\x00\x09\x00\x10" + BODY1, b"\x01\x00\x00\x21\x00\x07" + BODY2,
                      b"\x00\x01\x00\x02\x00\x03\r.\r\n.\n..\rx"],
    "mail_header": [b"From: =?UTF-8?B?w6lsw6h2ZQ==?= <e@example.org>\r\n"
                    b"Subject: =?ISO-8859-1?Q?caf=E9?=\r\nDate: Mon, 7 Dec 2026 10:00:00 +0000\r\n"
                    b"\r\nbody\r\n", BODY1],
    "passwd_file": [b"alice:{PLAIN}wonderland\n# comment\n\nbob:{CLEAR}builder:1000:1000::/h:/s\n",
                    b"carol:{SCRAM-SHA-256}4096,W22ZaJ0SNY7soEsUEjb6gQ==,"
                    b"WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=,"
                    b"wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=\r\n",
                    b"dave:{SHA512-CRYPT}$6$enqpQCitJqWt2DVl$b5zpeMjHelvEACxwD.pmGisxS8jvgd2YD1W0"
                    b"TCW97B/\n",
                    b"erin:{PLAIN}e::::::userdb_expire=never userdb_logindelay=300\n"
                    b"jos\xc3\xa9:{PLAIN}f:1:2:3:4:5:userdb_logindelay=0\tuserdb_expire=30\n"],
    "sasl_server": [
        bytes([sasl_control(3, True, 1), 1]) + b"\0tim\0pencil",                  # PLAIN
        bytes([sasl_control(4, False, 1), 1]) + b"alice\x01pencil",                # LOGIN
        bytes([sasl_control(2, False, 1), 1]) + b"tim b913a602c7eda7a495b4e6e7334d3890",
        bytes([sasl_control(0, True, 2), 1]) + b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO\x01"
        b"c=biws,r=rOprNGfwEbeRWgbNEkqO" + SERVER_NONCE + b",p=" + b"A" * 43 + b"=\x01",
        bytes([sasl_control(1, True, 1), 1]) + b"n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL\x01"
        b"c=biws,r=fyko+d2lbbFgONRv9qkxdawL" + SERVER_NONCE + b",p=" + b"A" * 27 + b"=",
        bytes([sasl_control(5, True, 0, 1), 2]) + b"n,a=alice,\x01host=pop.example\x01port=995"
        b"\x01auth=Bearer ya29.token-_~+/==\x01\x01",
        bytes([sasl_control(5, False, 0, 2), 2]) + b"y,,\x01auth=bearer tok\x01\x01\x02\x01",
        bytes([sasl_control(6, True, 0, 1), 2]) + b"user=alice\x01auth=Bearer ya29.t\x01\x01",
        bytes([sasl_control(6, False, 0, 0), 2]) + b"user=a\x01auth=Bearer x\x01\x01\x02"],
    "sasl_client": [
        bytes([0, 1]), bytes([1, 1]) + b"Username:\x01Password:",
        bytes([2, 1]) + b"<1896.697170952@postoffice.reston.mci.net>",
        bytes([4, 1]) + b"r=" + b64(b"A" * 24).encode() + b"srv,s=W22ZaJ0SNY7soEsUEjb6gQ==,"
        b"i=4096\x01v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
        bytes([3, 1]) + b"r=" + b64(b"A" * 18).encode() + b"srv,s=QSXCR+Q6sek8bf92,i=4096",
        bytes([5, 1]) + b'{"status":"401","schemes":"bearer"}',
        bytes([6 | 8, 1]) + b'{"status":"invalid_token"}'],
    "client_session": [
        bytes([client_flags(1, cleartext=True), 0]) + b"\0".join(CLIENT_SESSION_REPLIES),
        bytes([client_flags(1, cleartext=True, pipelining=True), 0])
        + b"".join(CLIENT_SESSION_REPLIES),
        bytes([client_flags(2, cleartext=True), 0]) + b"\0".join(CLIENT_SESSION_REPLIES[:2])
        + b"\0+OK You are now logged in\r\n\0" + b"\0".join(CLIENT_SESSION_REPLIES[4:]),
        bytes([client_flags(3, stls_required=True), 0]) + CLIENT_SESSION_REPLIES[0] + b"\0"
        + CLIENT_SESSION_REPLIES[1] + b"\0+OK Begin TLS negotiation\r\n\0"
        + CLIENT_SESSION_REPLIES[1] + b"\0+OK You are now logged in\r\n\0"
        + b"\0".join(CLIENT_SESSION_REPLIES[4:])],
    "proxy_header": [
        b"\xffPROXY TCP4 192.0.2.10 203.0.113.5 56324 110\r\nUSER alice\r\n",
        b"\xffPROXY TCP6 2001:db8::1 2001:db8::2 4000 995\r\n",
        b"\xffPROXY UNKNOWN\r\n",
        b"\xff" + v2(0x21, 0x11, TCP4) + b"CAPA\r\n",
        b"\xff" + v2(0x21, 0x21, TCP6 + b"\x01\x00\x04pop3\x04\x00\x00"),
        b"\xff" + v2(0x20, 0x00, b""),
        b"\x02" + v2(0x21, 0x11, TCP4 + b"\x05\x00\x10" + b"u" * 16)],
    "introspection_response": [
        b"\x02" + b'{"active":true,"username":"alice","sub":"u-1","exp":1800000000,'
        b'"scope":"pop","client_id":"c","token_type":"Bearer","iat":1700000000}',
        b"\x03" + b'{"active":true,"sub":"u-1","exp":1}',
        b"\x00" + b'{"active":false}',
        b"\x00" + b'{"active":true,"username":"","exp":"x","nested":{"a":[1,2.5,null]}}'],
    "server_session": [
        b"\x01USER alice\r\nPASS 12345\r\n\x01STAT\r\nLIST\r\nUIDL\r\nRETR 1\r\nTOP 2 1\r\n"
        b"DELE 1\r\nQUIT\r\n",
        b"\x01AUTH PLAIN " + b64(b"\0alice\x0012345").encode() + b"\r\nLIST 2\r\nRSET\r\n\x01\x01",
        b"\x01STLS\r\nNOOP\r\n\x01CAPA\r\nAUTH LOGIN\r\n\x01" + b64(b"a").encode() + b"\r\n"
        + b64(b"12345").encode() + b"\r\n",
        b"\x01UTF8\r\nUSER jo\xc2\xads\xc3\xa9\r\nPASS 12345\xc2\xa0\r\n\x01RETR 1\r\nQUIT\r\n",
        b"\x01AUTH XOAUTH2 " + b64(b"user=alice\x01auth=Bearer tok\x01\x01").encode()
        + b"\r\n\x01\r\nSTAT\r\n\x01AUTH OAUTHBEARER\r\n"
        + b64(b"n,a=alice,\x01auth=Bearer t\x01\x01").encode() + b"\r\nAQ==\r\n"],
}

for target, inputs in seeds.items():
    os.makedirs(os.path.join(out, target), exist_ok=True)
    for i, data in enumerate(inputs):
        with open(os.path.join(out, target, f"seed-{i}"), "wb") as f:
            f.write(data)
