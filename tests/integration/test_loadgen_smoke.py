#!/usr/bin/env python3
"""test_loadgen_smoke.py -- bench/loadgen, small: against a real sseq stack
(50 subscribers, 100 messages, one and several channels) its report must
show every message delivered once and in order; against a tiny fake SSE
server that frames events awkwardly (chunked with extensions, CR / LF /
CRLF line ends, comments, id: and event: fields, writes split at random
bytes) it must parse every event. Functional checks, no timings."""
import json
import os
import random
import socket
import subprocess
import threading

import harness


def loadgen():
    """Path of the built load generator."""
    return os.path.join(harness.BUILDDIR, "bench", "loadgen")


def run_loadgen(test, tmpdir, sub, pub, *args):
    """Runs loadgen (bounded) and returns its JSON report."""
    out = os.path.join(tmpdir, "loadgen-%d.json" % random.randrange(10**9))
    r = subprocess.run([loadgen(), "-q", "-s", sub, "-p", pub, "-j", out,
                        "--settle", "0.3", "--idle-window", "0",
                        "--drain", "5", "--timeout", "60"] + list(args),
                       capture_output=True, text=True, timeout=90)
    test.assertTrue(os.path.exists(out), "loadgen must write its report: "
                    "exit %d\n%s%s" % (r.returncode, r.stdout, r.stderr))
    with open(out) as f:
        report = json.load(f)
    report["_text"] = r.stdout + r.stderr
    report["_rc"] = r.returncode
    return report


class FakeSSE:
    """A threaded HTTP/1.1 server: GET registers a subscriber, POST sends
    its body to every subscriber as one SSE event, framed awkwardly."""

    ENDS = ["\n", "\r", "\r\n"]

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        self.subs, self.lock = [], threading.Lock()
        self.rng = random.Random(7)
        self.stop = False
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while not self.stop:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self.serve, args=(c,),
                             daemon=True).start()

    def request(self, c, buf):
        """Reads one request; returns (method, body, rest) or None."""
        while b"\r\n\r\n" not in buf:
            d = c.recv(65536)
            if not d:
                return None
            buf += d
        head, _, buf = buf.partition(b"\r\n\r\n")
        n = 0
        for line in head.split(b"\r\n")[1:]:
            k, _, v = line.partition(b":")
            if k.strip().lower() == b"content-length":
                n = int(v)
        while len(buf) < n:
            buf += c.recv(65536)
        return head.split(b" ")[0], buf[:n], buf[n:]

    def serve(self, c):
        buf = b""
        while True:
            req = self.request(c, buf)
            if req is None:
                return
            method, body, buf = req
            if method == b"GET":
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-"
                          b"stream\r\nTransfer-Encoding: chunked\r\n\r\n")
                with self.lock:
                    self.subs.append(c)
                    self.send(c, ": hello" + self.rng.choice(self.ENDS))
                return
            with self.lock:
                for s in self.subs:
                    self.send(s, self.event(body.decode()))
            c.sendall(b"HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n"
                      b"\r\nok")

    def event(self, data):
        """data as an SSE event with extra fields and a random line end
        (one per event: a CR then an LF would be one CRLF)."""
        end = self.rng.choice(self.ENDS)
        e = lambda: end
        text = ""
        if self.rng.random() < 0.5:
            text += ": comment" + e()
        text += "id: %d%s" % (self.rng.randrange(10**6), e())
        if self.rng.random() < 0.3:
            text += "event: message" + e()
        text += "data:" + self.rng.choice(["", " "]) + data + e()
        if self.rng.random() < 0.2:
            text += "retry: 1000" + e()
        return text + e()

    def send(self, s, text):
        """Sends text chunked, the chunk bytes split at random."""
        data = text.encode()
        wire = b""
        while data:
            k = self.rng.randint(1, 9)
            ext = b";x=1" if self.rng.random() < 0.2 else b""
            wire += b"%x%s\r\n%s\r\n" % (k if k <= len(data) else len(data),
                                        ext, data[:k])
            data = data[k:]
        while wire:
            k = self.rng.randint(1, 7)
            try:
                s.sendall(wire[:k])
            except OSError:
                return
            wire = wire[k:]

    def close(self):
        self.stop = True
        self.sock.close()
        with self.lock:
            for s in self.subs:
                s.close()


class LoadgenSmokeTest(harness.TestCase):

    def assertClean(self, rep, subs, expected):
        detail = rep["_text"]
        self.assertEqual(rep["connected"], subs, detail)
        self.assertEqual(rep["published"], rep["messages"], detail)
        self.assertEqual(rep["expected"], expected, detail)
        self.assertEqual(rep["delivered"], expected, detail)
        for k in ("lost", "duplicated", "reordered", "misrouted",
                  "unparsable", "disconnects"):
            self.assertEqual(rep[k], 0, "%s must be 0\n%s" % (k, detail))
        self.assertTrue(rep["clean"], detail)
        self.assertEqual(rep["_rc"], 0, detail)

    def test_sseq_one_channel(self):
        with harness.Stack(stream_procs=2) as st:
            rep = run_loadgen(
                self, st.tmpdir, st.base_url + "/events?channel={ch}",
                st.base_url + "/publish/{ch}", "-t", st.token, "-n", "50",
                "-m", "100", "--prefix", "smoke", "-P",
                "stream=" + ",".join(map(str, st.stream_pids())))
            self.assertClean(rep, 50, 50 * 100)
            self.assertIn("stream", rep["servers"])

    def test_sseq_channels_at_a_rate(self):
        with harness.Stack(stream_procs=2) as st:
            rep = run_loadgen(
                self, st.tmpdir, st.base_url + "/events?channel={ch}",
                st.base_url + "/publish/{ch}", "-t", st.token, "-n", "50",
                "-m", "100", "-c", "5", "-r", "500", "--prefix", "smoke")
            self.assertClean(rep, 50, 50 * 100 // 5)

    def test_awkward_framing(self):
        fake = FakeSSE()
        try:
            url = "http://127.0.0.1:%d" % fake.port
            tmp = os.environ.get("TMPDIR", "/tmp")
            rep = run_loadgen(self, tmp, url + "/sub?id={ch}",
                              url + "/pub?id={ch}", "-n", "5", "-m", "60")
            self.assertClean(rep, 5, 5 * 60)
        finally:
            fake.close()


if __name__ == "__main__":
    harness.main()
