#!/usr/bin/env python3
"""A minimal server-sent-events client for the gateway tests.

Usage: sse_client.py URL OUT [--last-id N] [--until SEQ_FILE] [--idle MS] [--ready FILE]
                     [--rcvbuf BYTES] [--stall] [--slow SECONDS]

Writes one line per event to OUT: "<id> <event type> <grid>" (flushed per line).
Stops when the connection closes, when no event came for --idle ms (default
10000), or, with --until, once it has seen the seq written in SEQ_FILE (read
again while waiting).  --ready FILE is created once the response headers and
the stream's first bytes arrived.  --stall connects and then never reads
until killed; --slow reads 1 KiB per SECONDS (slow clients; --rcvbuf
shrinks the socket buffer).
Exit status: 0, or 3 if the server closed the stream.
Python 3 standard library only.
"""
import argparse
import json
import os
import select
import socket
import sys
import time
import urllib.parse


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("out")
    ap.add_argument("--last-id")
    ap.add_argument("--until")
    ap.add_argument("--idle", type=int, default=10000)
    ap.add_argument("--ready")
    ap.add_argument("--rcvbuf", type=int)
    ap.add_argument("--stall", action="store_true")
    ap.add_argument("--slow", type=float, default=0.0)
    a = ap.parse_args()
    u = urllib.parse.urlsplit(a.url)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if a.rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, a.rcvbuf)
    sock.connect((u.hostname, u.port or 80))
    path = u.path + ("?" + u.query if u.query else "")
    req = f"GET {path} HTTP/1.1\r\nHost: {u.hostname}\r\nAccept: text/event-stream\r\n"
    if a.last_id is not None:
        req += f"Last-Event-ID: {a.last_id}\r\n"
    # The stream needs a session or a kiosk token (issue 16): GF_TEST_AUTH
    # is that header ("Authorization: Bearer ..."), set by gateway_lib.sh.
    if os.environ.get("GF_TEST_AUTH"):
        req += os.environ["GF_TEST_AUTH"] + "\r\n"
    sock.sendall((req + "\r\n").encode())
    if a.stall:
        if a.ready:
            open(a.ready, "w").close()
        while True:
            time.sleep(3600)
    raw = b""
    while b"\r\n\r\n" not in raw:
        data = sock.recv(65536)
        if not data:
            return 2
        raw += data
    head, raw = raw.split(b"\r\n\r\n", 1)
    if b" 200 " not in head.split(b"\r\n")[0]:
        sys.stderr.write("status: %r\n" % head)
        return 2
    chunked = b"transfer-encoding: chunked" in head.lower()
    if a.ready:
        open(a.ready, "w").close()
    out = open(a.out, "w")
    until = None
    last_event = time.monotonic()
    last_id = -1
    body = b""  # de-chunked bytes not yet parsed into events
    closed = False
    while True:
        if a.until and until is None and os.path.exists(a.until):
            text = open(a.until).read().strip()
            until = int(text) if text else None
        if until is not None and last_id >= until:
            return 0
        # de-chunk what we have
        while raw:
            if not chunked:
                body += raw
                raw = b""
                break
            if b"\r\n" not in raw:
                break
            size_line, rest = raw.split(b"\r\n", 1)
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                closed = True
                raw = b""
                break
            if len(rest) < size + 2:
                break
            body += rest[:size]
            raw = rest[size + 2:]
        while b"\n\n" in body:
            frame, body = body.split(b"\n\n", 1)
            event = {}
            for line in frame.decode().split("\n"):
                if line.startswith(":") or ":" not in line:
                    continue
                k, v = line.split(":", 1)
                event[k] = v[1:] if v.startswith(" ") else v
            if "id" in event and "data" in event:
                d = json.loads(event["data"])
                out.write(f"{event['id']} {event.get('event', '')} {d.get('grid') or '-'}\n")
                out.flush()
                last_event = time.monotonic()
                last_id = int(event["id"])
                if until is not None and int(event["id"]) >= until:
                    return 0
        if closed:
            return 3
        r, _, _ = select.select([sock], [], [], 0.2)
        if r:
            data = sock.recv(1024 if a.slow else 65536)
            if a.slow:
                time.sleep(a.slow)
            if not data:
                return 3
            raw += data
        elif (time.monotonic() - last_event) * 1000 > a.idle:
            return 0


if __name__ == "__main__":
    sys.exit(main())
