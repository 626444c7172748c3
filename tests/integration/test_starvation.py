"""test_starvation.py -- nothing a client sends (or does not send) on the
FastCGI sockets can starve sseq-stream or sseq-publish: idle connections,
half-sent records and requests whose body never ends are held while valid
streams and publishes are answered at once, and are closed at their
deadline (fastcgi.read_timeout); thousands of them cost bounded memory and
descriptors."""
import os
import socket
import struct
import threading
import time
import unittest

import harness
import stream_util

READ_TIMEOUT_MS = 5000


def record(rtype, rid, content=b""):
    return struct.pack(">BBHHBx", 1, rtype, rid, len(content), 0) + content


def params(pairs):
    out = b""
    for k, v in pairs.items():
        k, v = k.encode(), v.encode()
        out += bytes([len(k)]) if len(k) < 128 else struct.pack(">I", len(k) | 1 << 31)
        out += bytes([len(v)]) if len(v) < 128 else struct.pack(">I", len(v) | 1 << 31)
        out += k + v
    return out


def stuck_connections(path, n):
    """n idle, n half-record and n endless-body connections to path."""
    socks = []
    begin = record(1, 1, struct.pack(">HB5x", 1, 0))
    env = params({"REQUEST_METHOD": "POST", "CONTENT_TYPE": "text/plain",
                  "CONTENT_LENGTH": "1000000", "QUERY_STRING":
                  "channel=s", "REQUEST_URI": "/publish/s"})
    for kind in ("idle", "half", "endless"):
        for _ in range(n):
            s = socket.socket(socket.AF_UNIX)
            s.connect(path)
            if kind == "half":
                s.sendall(b"\x01\x01\x00")
            elif kind == "endless":
                s.sendall(begin + record(4, 1, env) + record(4, 1) +
                          record(5, 1, b"x" * 100))
            socks.append(s)
    return socks


def closed_by_peer(s, timeout):
    s.settimeout(timeout)
    try:
        while True:
            d = s.recv(65536)
            if not d:
                return True
    except socket.timeout:
        return False
    except OSError:
        return True


class StarvationTest(harness.TestCase):

    def valid_requests(self, st, n):
        """n streams and n publishes through nginx at the same time;
        returns the slowest answer in seconds."""
        slowest = [0.0]
        errors = []

        def stream(k):
            t = time.monotonic()
            try:
                c = st.sse("/events?channel=v%d" % k, timeout=30)
                c.close()
            except Exception as e:      # noqa: BLE001 -- recorded
                errors.append("stream: %s" % e)
            slowest[0] = max(slowest[0], time.monotonic() - t)

        def publish(k):
            t = time.monotonic()
            status = st.http("POST", "/publish/v%d" % k, body=b"x",
                             headers={"Authorization": "Bearer " + st.token,
                                      "Content-Type": "text/plain"},
                             timeout=30)[0]
            if status != 202:
                errors.append("publish: %d" % status)
            slowest[0] = max(slowest[0], time.monotonic() - t)

        ts = [threading.Thread(target=f, args=(k,))
              for k in range(n) for f in (stream, publish)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        self.assertEqual(errors, [])
        return slowest[0]

    def test_stuck_connections_do_not_starve(self):
        with harness.Stack(settings={"fastcgi.read_timeout":
                                     READ_TIMEOUT_MS},
                           stream_procs=2, publish_procs=2) as st:
            stuck = []
            for role in ("stream", "publish"):
                stuck += stuck_connections(
                    os.path.join(st.tmpdir, role + ".sock"), 64)
            t0 = time.monotonic()
            slowest = self.valid_requests(st, 100)
            print("slowest of 100 streams + 100 publishes beside %d stuck "
                  "connections: %.3f s" % (len(stuck), slowest))
            self.assertLess(slowest, READ_TIMEOUT_MS / 1000.0,
                            "valid requests must not wait for the stuck "
                            "connections' deadline")
            left = READ_TIMEOUT_MS / 1000.0 - (time.monotonic() - t0) + 5
            self.assertTrue(all(closed_by_peer(s, max(left, 0.1))
                                for s in stuck),
                            "stuck connections are closed at the deadline")
            for s in stuck:
                s.close()

    def test_thousands_of_stuck_connections(self):
        stream_util.raise_nofile()
        with harness.Stack(settings={"fastcgi.read_timeout":
                                     READ_TIMEOUT_MS,
                                     "fastcgi.max_pending": 512},
                           stream_procs=1, publish_procs=1) as st:
            worker = st.pids("stream")[0]
            stuck = stuck_connections(os.path.join(st.tmpdir,
                                                   "stream.sock"), 700)
            slowest = self.valid_requests(st, 20)
            print("2,100 stuck connections: slowest valid answer %.3f s, "
                  "worker fds %d, RSS %d KiB" % (
                      slowest, len(os.listdir("/proc/%d/fd" % worker)),
                      stream_util.rss_kib(worker)))
            self.assertLess(slowest, READ_TIMEOUT_MS / 1000.0)
            self.assertLess(len(os.listdir("/proc/%d/fd" % worker)), 700,
                            "descriptors bounded by fastcgi.max_pending")
            st.wait_for(lambda: "fastcgi.max_pending" in
                        st.log("stream.log"), "the drops in the log")
            for s in stuck:
                s.close()


if __name__ == "__main__":
    harness.main()
