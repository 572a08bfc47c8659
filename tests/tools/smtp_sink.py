#!/usr/bin/env python3
"""A minimal SMTP server for the notifier's tests: accepts every message and
writes it to DIR/<n>.eml (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT)."""
import os
import socketserver
import sys
import threading

port, outdir = int(sys.argv[1]), sys.argv[2]
os.makedirs(outdir, exist_ok=True)
counter = [0]
lock = threading.Lock()


class Session(socketserver.StreamRequestHandler):
    def send(self, line):
        self.wfile.write((line + "\r\n").encode())

    def handle(self):
        self.send("220 sink ESMTP")
        rcpts = []
        while True:
            line = self.rfile.readline()
            if not line:
                return
            verb = line.decode(errors="replace").strip().split(" ")[0].upper()
            if verb in ("EHLO", "HELO"):
                self.send("250 sink")
            elif verb == "MAIL":
                rcpts = []
                self.send("250 ok")
            elif verb == "RCPT":
                rcpts.append(line.decode().strip())
                self.send("250 ok")
            elif verb == "DATA":
                self.send("354 go ahead")
                data = b""
                while not data.endswith(b"\r\n.\r\n"):
                    chunk = self.rfile.readline()
                    if not chunk:
                        return
                    data += chunk
                with lock:
                    counter[0] += 1
                    n = counter[0]
                with open(os.path.join(outdir, "%d.eml" % n), "wb") as f:
                    f.write(("X-Rcpt: %s\r\n" % ",".join(rcpts)).encode() + data[:-5])
                self.send("250 queued as %d" % n)
            elif verb in ("RSET", "NOOP"):
                self.send("250 ok")
            elif verb == "QUIT":
                self.send("221 bye")
                return
            else:
                self.send("502 not implemented")


socketserver.ThreadingTCPServer.allow_reuse_address = True
server = socketserver.ThreadingTCPServer(("127.0.0.1", port), Session)
server.daemon_threads = True
server.serve_forever()
