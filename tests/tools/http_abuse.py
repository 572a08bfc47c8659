#!/usr/bin/env python3
"""Hostile HTTP clients for tests/e2e/test_gateway_abuse.sh (one process, asyncio).

Usage: http_abuse.py HOST PORT OUT.json [--sse N] [--sse-sources K]
                     [--slowloris N] [--slow-sources K] [--summary N]
                     [--summary-sources K] [--summary-at SECONDS] [--hold SECONDS]
                     [--ready FILE] [--until FILE] [--min-hold SECONDS]

Opens N server-sent-event streams (GET /stream) and N slowloris connections
(a request whose headers never end: one more header line every 5 s), each
kind spread over K source addresses 127.0.<kind>.<1..K> (Linux routes all
of 127/8 to the loopback), holds them for --hold seconds, and --summary-at
seconds in fires N concurrent GET /api/summary.json, one connection each.
--ready FILE is written once every connection was attempted; with --until
FILE the hold ends as soon as FILE exists, but not before --min-hold
seconds (default 0) nor before the summary reads were fired, and after
--hold seconds at the most.

OUT.json gets, per kind, the count of each outcome: an HTTP status
("200", "503", ...), "refused" (connect failed or closed before any
byte), "open" (still open when the hold ended: SSE streams that answered
200, slowloris connections the server has not closed), "closed" (a slowloris
connection the server closed), plus "retry_after" (503s that carried it).
Python 3 standard library only.
"""
import argparse
import asyncio
import os
import json
import socket
import sys
import time
from collections import Counter


def source(kind, i, k):
    return f"127.0.{kind}.{1 + i % k}"


async def connect(host, port, src, timeout=10):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    sock.bind((src, 0))
    loop = asyncio.get_running_loop()
    await asyncio.wait_for(loop.sock_connect(sock, (host, port)), timeout)
    return await asyncio.open_connection(sock=sock)


async def read_head(reader, timeout):
    """Status and headers of a response, or None if closed first."""
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
    except (asyncio.IncompleteReadError, asyncio.TimeoutError, ConnectionError, asyncio.LimitOverrunError):
        return None
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    status = parts[1] if len(parts) > 1 else "bad"
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    return status, headers

# The staff reads need a session or a kiosk token (issue 16): GF_TEST_AUTH
# is that header ("Authorization: Bearer ..."), set by gateway_lib.sh.
AUTH = os.environ["GF_TEST_AUTH"] + "\r\n" if os.environ.get("GF_TEST_AUTH") else ""


async def sse(host, port, src, stop, out):
    try:
        reader, writer = await connect(host, port, src)
    except (OSError, asyncio.TimeoutError):
        out["refused"] += 1
        return
    try:
        writer.write(f"GET /stream HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n{AUTH}\r\n".encode())
        await writer.drain()
        got = await read_head(reader, 30)
        if got is None:
            out["refused"] += 1
            return
        status, headers = got
        out[status] += 1
        if status == "503" and "retry-after" in headers:
            out["retry_after"] += 1
        if status != "200":
            return
        # Keep reading (heartbeats, events) until the hold ends.
        while not stop.is_set():
            try:
                data = await asyncio.wait_for(reader.read(65536), 1.0)
            except asyncio.TimeoutError:
                continue
            if not data:
                out["closed"] += 1
                return
        out["open"] += 1
    except (OSError, ConnectionError):
        out["closed"] += 1
    finally:
        writer.close()


async def slowloris(host, port, src, stop, out):
    try:
        reader, writer = await connect(host, port, src)
    except (OSError, asyncio.TimeoutError):
        out["refused"] += 1
        return
    n = 0
    try:
        writer.write(f"GET /api/summary.json HTTP/1.1\r\nHost: {host}\r\n".encode())
        await writer.drain()
        while not stop.is_set():
            try:
                data = await asyncio.wait_for(reader.read(4096), 5.0)
                # The server answered (a refusal) or closed.
                out["answered" if data else ("refused" if n == 0 else "closed")] += 1
                return
            except asyncio.TimeoutError:
                pass
            n += 1
            writer.write(f"X-Slow-{n}: {n}\r\n".encode())
            await writer.drain()
        out["open"] += 1
    except (OSError, ConnectionError):
        out["refused" if n == 0 else "closed"] += 1
    finally:
        writer.close()


async def summary(host, port, src, out):
    try:
        reader, writer = await connect(host, port, src)
    except (OSError, asyncio.TimeoutError):
        out["refused"] += 1
        return
    try:
        writer.write(f"GET /api/summary.json HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n{AUTH}\r\n".encode())
        await writer.drain()
        got = await read_head(reader, 60)
        if got is None:
            out["refused"] += 1
            return
        out[got[0]] += 1
        try:
            await asyncio.wait_for(reader.read(), 30)
        except asyncio.TimeoutError:
            pass
    except (OSError, ConnectionError):
        out["refused"] += 1
    finally:
        writer.close()


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("out")
    ap.add_argument("--sse", type=int, default=0)
    ap.add_argument("--sse-sources", type=int, default=1)
    ap.add_argument("--slowloris", type=int, default=0)
    ap.add_argument("--slow-sources", type=int, default=1)
    ap.add_argument("--summary", type=int, default=0)
    ap.add_argument("--summary-sources", type=int, default=1)
    ap.add_argument("--summary-at", type=float, default=2.0)
    ap.add_argument("--hold", type=float, default=10.0)
    ap.add_argument("--ready")
    ap.add_argument("--until")
    ap.add_argument("--min-hold", type=float, default=0.0)
    a = ap.parse_args()
    stop = asyncio.Event()
    res = {"sse": Counter(), "slowloris": Counter(), "summary": Counter()}
    tasks = []
    # Interleave the two kinds so both compete for connections from the start.
    for i in range(max(a.sse, a.slowloris)):
        if i < a.sse:
            tasks.append(asyncio.create_task(sse(a.host, a.port, source(1, i, a.sse_sources), stop, res["sse"])))
        if i < a.slowloris:
            tasks.append(asyncio.create_task(slowloris(a.host, a.port, source(2, i, a.slow_sources), stop, res["slowloris"])))
        if i % 50 == 49:
            await asyncio.sleep(0.05)
    t0 = time.monotonic()
    await asyncio.sleep(0.5)
    if a.ready:
        open(a.ready, "w").close()
    await asyncio.sleep(max(0.0, a.summary_at - (time.monotonic() - t0)))
    reads = [asyncio.create_task(summary(a.host, a.port, source(3, i, a.summary_sources), res["summary"]))
             for i in range(a.summary)]
    while time.monotonic() - t0 < a.hold and not (
            a.until and os.path.exists(a.until) and time.monotonic() - t0 >= a.min_hold):
        await asyncio.sleep(0.2)
    stop.set()
    await asyncio.gather(*tasks, *reads, return_exceptions=True)
    with open(a.out, "w") as f:
        json.dump({k: dict(v) for k, v in res.items()}, f, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
