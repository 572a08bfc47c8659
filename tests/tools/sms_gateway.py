#!/usr/bin/env python3
"""A local SMS HTTP gateway for the notifier's tests: honours dedupe keys and
fails on purpose.

POST /sms  JSON {"to", "text", "dedupe_key", "case"} with header
           Idempotency-Key (must equal dedupe_key) and, with --token,
           "Authorization: Bearer TOKEN".  Each request, by a seeded draw:
           --fail  share answered 500 (nothing recorded);
           --timeout share recorded, then answered only after --delay seconds
                   (the client has given up: it will resend);
           the rest recorded and answered 200.
           A key already recorded is answered 200 {"duplicate": true} and
           never delivered twice.
GET /stats JSON counts; GET /keys the delivered keys, one per line;
POST /control JSON {"fail": x, "timeout": y} changes the shares.
"""
import argparse
import json
import random
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
state = {"requests": 0, "delivered": 0, "duplicates": 0, "errors": 0, "timeouts": 0,
         "unauthorized": 0, "bad": 0}
delivered = {}  # key -> (to, text)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, code, body):
        data = (body if isinstance(body, str) else json.dumps(body)).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        with lock:
            if self.path == "/stats":
                self.reply(200, dict(state))
            elif self.path == "/keys":
                self.reply(200, "".join(k + "\n" for k in sorted(delivered)))
            else:
                self.reply(404, {"error": "not found"})

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        raw = self.rfile.read(length)
        if self.path == "/control":
            with lock:
                shares.update(json.loads(raw))
            self.reply(200, shares)
            return
        with lock:
            state["requests"] += 1
        try:
            body = json.loads(raw)
            key = body["dedupe_key"]
            assert self.headers.get("Idempotency-Key") == key
            assert body["to"] and body["text"]
        except Exception:
            with lock:
                state["bad"] += 1
            self.reply(400, {"error": "bad request"})
            return
        if args.token and self.headers.get("Authorization") != "Bearer " + args.token:
            with lock:
                state["unauthorized"] += 1
            self.reply(401, {"error": "unauthorized"})
            return
        with lock:
            draw = rng.random()
            fail, slow = draw < shares["fail"], draw < shares["fail"] + shares["timeout"]
            if fail:
                state["errors"] += 1
            elif key in delivered:
                state["duplicates"] += 1
            else:
                delivered[key] = (body["to"], body["text"])
                state["delivered"] += 1
            if slow and not fail:
                state["timeouts"] += 1
        if fail:
            self.reply(500, {"error": "injected failure"})
            return
        if slow:
            time.sleep(args.delay)
        self.reply(200, {"status": "queued"})


parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--host", default="127.0.0.1")  # tests/multihost: the bridge address
parser.add_argument("--fail", type=float, default=0.0)
parser.add_argument("--timeout", type=float, default=0.0)
parser.add_argument("--delay", type=float, default=1.0)
parser.add_argument("--seed", type=int, default=1)
parser.add_argument("--token", default="")
args = parser.parse_args()
rng = random.Random(args.seed)
shares = {"fail": args.fail, "timeout": args.timeout}
ThreadingHTTPServer.request_queue_size = 256
server = ThreadingHTTPServer((args.host, args.port), Handler)
server.daemon_threads = True
server.serve_forever()
