#!/usr/bin/env python3
"""gridflow event stream client in Python: a worked example of proto/SPEC.md
and docs/streams.md for other languages (Debian: python3-zmq, python3-msgpack).

  gf_stream_client.py vectors [DIR]
      Decodes every golden vector DIR/<name>.hex (default proto/vectors) and
      compares it with <name>.json; encodes the .json (the spec's key order is
      the file's order; base64 back to bin for BINARY_KEYS) and compares the
      bytes with the .hex.

  gf_stream_client.py watch PUB REPLAY [--prefix P] [--since SEQ] [--count N]
                      [--idle MS] [--rcvhwm N] [--rcvbuf BYTES]
                      [--cert FILE --relay-cert FILE]   (CurveZMQ, docs/security.md)
      Follows the relay like common/gf_stream.c: subscribe first, replay from
      SEQ (the Clone pattern), drop what is already seen, detect gaps exactly
      (a seq jump or a heartbeat ahead without a prefix; a probe with one) and
      recover them by replay.  Prints "seq topic type case" per event and, on
      stderr at the end, "recovered R gaps G".  --rcvhwm and --rcvbuf limit the
      subscriber's queue (messages, kernel bytes); tests make them small.
"""
import base64
import collections
import json
import os
import sys
import time

import msgpack

REPLAY_PAGE = 5000
REPLAY_TIMEOUT = 10.0  # seconds without a replay message before asking again


def decode(body):
    """One body: exactly one msgpack map with string keys (SPEC.md 2, 4)."""
    unpacker = msgpack.Unpacker(raw=False, strict_map_key=True,
                                object_pairs_hook=collections.OrderedDict)
    unpacker.feed(body)
    value = unpacker.unpack()
    if unpacker.tell() != len(body):
        raise ValueError("malformed: trailing bytes")
    if not isinstance(value, dict) or value.get("v") != 1 or not isinstance(value.get("type"), str):
        raise ValueError("not a version 1 message")
    return value


def encode(message):
    """Keys in the given order, smallest int and str formats (SPEC.md 7)."""
    return msgpack.packb(message, use_bin_type=True)


# Keys whose value is msgpack bin (SPEC.md 6.8); JSON shows bin as base64.
BINARY_KEYS = {"attachment.add": ("data",)}


def as_json(value):
    """A decoded value as the vectors' JSON shows it: bin as base64 (SPEC.md 7)."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict):
        return collections.OrderedDict((k, as_json(v)) for k, v in value.items())
    if isinstance(value, list):
        return [as_json(v) for v in value]
    return value


def from_json(message):
    """A message read from JSON, its binary keys back to bytes."""
    message = collections.OrderedDict(message)
    for key in BINARY_KEYS.get(message.get("type"), ()):
        if key in message:
            message[key] = base64.b64decode(message[key], validate=True)
    return message


def check_vectors(directory):
    failed = 0
    names = sorted(f[:-4] for f in os.listdir(directory) if f.endswith(".hex"))
    for name in names:
        with open(os.path.join(directory, name + ".hex")) as f:
            data = bytes.fromhex(f.read().strip())
        with open(os.path.join(directory, name + ".json")) as f:
            expected = json.load(f, object_pairs_hook=collections.OrderedDict)
        got = as_json(decode(data))
        problems = []
        if got != expected or list(got.keys()) != list(expected.keys()):
            problems.append("decodes to %s" % json.dumps(got, ensure_ascii=False))
        if encode(from_json(expected)) != data:
            problems.append("encodes to %s" % encode(from_json(expected)).hex())
        print(("not ok - %s: %s" % (name, "; ".join(problems))) if problems else "ok - %s" % name)
        failed += bool(problems)
    print("# %d vectors, %d failed" % (len(names), failed))
    return 1 if failed or not names else 0


class Stream:
    """The relay's events matching a topic prefix, each exactly once."""

    def __init__(self, zmq, pub, replay, prefix="", since=None, rcvhwm=100000, rcvbuf=0,
                 cert=None, relay_cert=None):
        self.zmq = zmq
        ctx = zmq.Context.instance()
        self.sub = ctx.socket(zmq.SUB)
        self.dealer = ctx.socket(zmq.DEALER)
        # CurveZMQ (docs/security.md): our key pair (cert, cert_secret, as
        # `gridctl cert new` writes them) and the relay's public key.  The
        # relay then sends only what our identity may read: gaps are found
        # by probe, as with a prefix.
        secure = bool(relay_cert)
        if secure:
            import zmq.auth
            public, secret = zmq.auth.load_certificate(cert + "_secret")
            server, _ = zmq.auth.load_certificate(relay_cert)
            for sock in (self.sub, self.dealer):
                sock.curve_publickey, sock.curve_secretkey = public, secret
                sock.curve_serverkey = server
        self.sub.setsockopt(zmq.RCVHWM, rcvhwm)
        if rcvbuf:
            self.sub.setsockopt(zmq.RCVBUF, rcvbuf)
        self.sub.setsockopt(zmq.SUBSCRIBE, prefix.encode())
        if prefix or secure:
            self.sub.setsockopt(zmq.SUBSCRIBE, b"relay.hb")
        self.sub.connect(pub)
        self.dealer.setsockopt(zmq.LINGER, 0)
        self.dealer.connect(replay)
        self.poller = zmq.Poller()
        self.poller.register(self.sub, zmq.POLLIN)
        self.poller.register(self.dealer, zmq.POLLIN)
        self.prefix, self.filtered = prefix, bool(prefix) or secure
        self.verified, self.seen, self.anchored = 0, set(), False
        self.req, self.replaying, self.replay_id = 0, False, None
        self.rfrom, self.got, self.page_bad, self.sent_at = 0, 0, False, 0.0
        self.probe = None  # (id, from, to, sent_at) of the outstanding probe
        self.held = collections.deque()
        self.recovering, self.recovered, self.gaps = False, 0, 0
        # Head regression: `last` is the highest seq seen; each request
        # remembers it (marks), since the log held it when we asked.
        self.last, self.marks, self.check = 0, {}, None
        self.suspect, self.regressions = None, 0
        if since is not None:
            self.anchored, self.verified, self.last = True, since, since
            self._request(since)

    def _send(self, frm, to=0, probe=False, limit=REPLAY_PAGE):
        self.req += 1
        body = collections.OrderedDict(
            [("v", 1), ("type", "replay.request"), ("id", str(self.req)), ("from", frm),
             ("prefix", self.prefix), ("limit", limit)])
        if to:
            body["to"] = to
        if probe:
            body["probe"] = True
        self.dealer.send(encode(body))
        self.marks = {k: v for k, v in self.marks.items()
                      if k in (self.replay_id, self.probe and self.probe[0], self.check and self.check[0])}
        self.marks[str(self.req)] = self.last
        return str(self.req)

    def _request(self, frm):
        self.replay_id = self._send(frm)
        self.replaying, self.rfrom, self.got, self.page_bad = True, frm, 0, False
        self.sent_at = time.monotonic()

    def _gap(self):
        self.gaps += 1
        self.recovering = True
        self._request(self.verified)

    def _regress(self, head):
        # The log went back below what we saw (a failover to a standby that
        # was behind, a restore): replay from the lowest head of the new log.
        frm = min(head, self.suspect) if self.suspect is not None else head
        print("head regression: the log's head is %d, below seq %d already seen; "
              "resynchronising from the new log" % (head, self.last), file=sys.stderr, flush=True)
        self.regressions += 1
        self.verified = self.last = frm
        self.seen, self.probe, self.check, self.suspect = set(), None, None, None
        self.held.clear()
        self.recovering, self.anchored = False, True
        self._request(frm)

    def _verify_to(self, seq):
        self.last = max(self.last, seq)
        if seq > self.verified:
            self.verified = seq
            self.seen = {s for s in self.seen if s > seq}

    def _accept(self, seq):
        if self.anchored and seq <= self.verified:
            return False
        if self.filtered:
            if seq in self.seen:
                return False
            self.seen.add(seq)
        else:
            self.verified = seq
        self.last = max(self.last, seq)
        return True

    def _on_replay(self, frames):
        self.sent_at = time.monotonic()
        if len(frames) != 2:
            return None
        if frames[0] == b"replay.end":
            end = decode(frames[1])
            mark = self.marks.get(end.get("id"))
            if end.get("ok") and "head" in end and mark is not None and end["head"] < mark:
                self._regress(end["head"])
                return None
            if self.check and end.get("id") == self.check[0]:
                self.check, self.suspect = None, None  # an old heartbeat
            elif self.probe and end.get("id") == self.probe[0]:
                _, frm, to, _ = self.probe
                self.probe = None
                if not end.get("ok") or self.replaying or frm != self.verified:
                    return None
                mine = sum(1 for s in self.seen if frm < s <= to)
                if end.get("count") == mine:
                    self._verify_to(to)
                else:
                    self._gap()
            elif self.replaying and end.get("id") == self.replay_id:
                if not end.get("ok"):
                    self.sent_at = time.monotonic() - REPLAY_TIMEOUT + 0.5
                elif end.get("count", self.got) != self.got or self.page_bad:
                    self._request(self.rfrom if self.filtered else self.verified)
                elif end["more"]:
                    if not self.filtered:
                        self.verified = max(self.verified, end["last"])
                        self.last = max(self.last, self.verified)
                    self._request(end["last"])
                else:
                    self._verify_to(end["last"])
                    self.replaying = self.recovering = False
            return None
        if self.replaying:
            self.got += 1
        event = decode(frames[1])
        seq = event["seq"]
        if not self.filtered and self.replaying and seq > self.verified + 1:
            self.page_bad = True
            return None
        if self._accept(seq):
            if self.recovering:
                self.recovered += 1
            return frames[0].decode(), event
        return None

    def _on_live(self, frames):
        if self.replaying:
            self.held.append(frames)
            return None
        if len(frames) != 2:
            return None
        body = decode(frames[1])
        if frames[0] == b"relay.hb":
            head = body["seq"]
            if not self.anchored:
                self.anchored = True
                self._verify_to(head)
            elif not self.probe and head > self.verified:
                # Every event <= head that was not dropped came before this.
                if self.filtered:
                    pid = self._send(self.verified, to=head, probe=True, limit=1)
                    self.probe = (pid, self.verified, head, time.monotonic())
                else:
                    self._gap()
            elif head < self.last:
                # An old heartbeat, or the log went back: ask its head.
                self.suspect = head if self.suspect is None else min(self.suspect, head)
                if not self.probe and not self.check:
                    cid = self._send(head, to=head + 1, probe=True, limit=1)
                    self.check = (cid, time.monotonic())
            return None
        seq = body["seq"]
        if not self.filtered and self.anchored and seq > self.verified + 1:
            self._gap()  # the replay brings this one too
            return None
        if self._accept(seq):
            self.anchored = True if not self.filtered else self.anchored
            return frames[0].decode(), body
        return None

    def next(self, timeout):
        """(topic, event) or None after timeout seconds."""
        deadline = time.monotonic() + timeout
        while True:
            if not self.replaying and self.held:
                got = self._on_live(self.held.popleft())
                if got:
                    return got
                continue
            now = time.monotonic()
            if self.replaying and now - self.sent_at > REPLAY_TIMEOUT:
                self._request(self.rfrom if self.filtered else self.verified)
            if self.probe and now - self.probe[3] > REPLAY_TIMEOUT:
                self.probe = None
            if self.check and now - self.check[1] > REPLAY_TIMEOUT:
                self.check = None
            if now >= deadline:
                return None
            ready = dict(self.poller.poll(int(min(0.2, deadline - now) * 1000) + 1))
            if self.dealer in ready:
                got = self._on_replay(self.dealer.recv_multipart())
                if got:
                    return got
            if self.sub in ready:
                got = self._on_live(self.sub.recv_multipart())
                if got:
                    return got


def watch(args):
    import zmq
    pub, replay = args[0], args[1]
    opts = {"--prefix": "", "--since": None, "--count": None, "--idle": None,
            "--rcvhwm": "100000", "--rcvbuf": "0", "--cert": None, "--relay-cert": None}
    for i in range(2, len(args), 2):
        if args[i] not in opts or i + 1 >= len(args):
            raise SystemExit(__doc__)
        opts[args[i]] = args[i + 1]
    since = int(opts["--since"]) if opts["--since"] is not None else None
    count = int(opts["--count"]) if opts["--count"] else None
    idle = int(opts["--idle"]) / 1000.0 if opts["--idle"] else None
    stream = Stream(zmq, pub, replay, opts["--prefix"], since,
                    int(opts["--rcvhwm"]), int(opts["--rcvbuf"]), opts["--cert"], opts["--relay-cert"])
    seen, last = 0, time.monotonic()
    while count is None or seen < count:
        got = stream.next(0.2)
        if got is None:
            if idle is not None and time.monotonic() - last >= idle:
                break
            continue
        topic, event = got
        seen, last = seen + 1, time.monotonic()
        print("%d %s %s %s" % (event["seq"], topic, event["type"], event.get("case")), flush=True)
    print("recovered %d gaps %d" % (stream.recovered, stream.gaps), file=sys.stderr)
    print("regressions %d" % stream.regressions, file=sys.stderr)
    return 0


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "vectors":
        return check_vectors(sys.argv[2] if len(sys.argv) > 2 else "proto/vectors")
    if len(sys.argv) >= 4 and sys.argv[1] == "watch":
        return watch(sys.argv[2:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
