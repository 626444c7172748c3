#!/usr/bin/env python3
"""test_metrics.py -- `sseq stats --prometheus` and the endpoint
GET /sseq/metrics (the shipped nginx location, answered by sseq-stream)
parsed by the real Prometheus text parser (Debian's
python3-prometheus-client): the queue's counters and every live
process's, with streams open and messages published through nginx; the
per-role labels of `sseq stats`; the endpoint's localhost restriction;
the HTTP errors each program answered, by status."""
import glob
import http.client
import os
import subprocess
import sys

import harness
from publish_util import (fcgi_open, fcgi_params, fcgi_response, parse_cgi,
                          post, stack, Subscriber)

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:         # a python3 other than Debian's (pyenv, venv)
    sys.path.append("/usr/lib/python3/dist-packages")
    from prometheus_client.parser import text_string_to_metric_families


def samples(text):
    """{(name, frozenset(labels)): value} and {family: type}."""
    values, types = {}, {}
    for fam in text_string_to_metric_families(text):
        types[fam.name] = fam.type
        for s in fam.samples:
            values[(s.name, frozenset(s.labels.items()))] = s.value
    return values, types


class Prometheus(harness.TestCase):
    def test_parsed_values(self):
        with stack(stream_procs=1, publish_procs=1) as st:
            sub = Subscriber(st, "metrics")
            for i in range(3):
                got, _, raw = post(st, "/publish/metrics", "m%d" % i)
                self.assertEqual(got, 202, raw)
            self.assertEqual([e.data for e in sub.events(3)],
                             ["m0", "m1", "m2"])
            self.assertTrue(st.wait_for(lambda: any(
                p.get("events", 0) >= 3 for p in st.stats()["processes"]
                if p["role"] == "stream"), "delivered counters"))
            r = st.sseq_ok("stats", "--prometheus")
            v, types = samples(r.stdout)
            stats = st.stats()
            spid = str(st.stream_pids()[0])
            ppid = str(st.publish_pids()[0])

            def one(name, **labels):
                key = (name, frozenset(labels.items()))
                self.assertIn(key, v, "%s%s missing in:\n%s" % (
                    name, labels, r.stdout))
                return v[key]

            self.assertEqual(one("sseq_queue_appended_total"), 3)
            self.assertEqual(types["sseq_queue_appended"], "counter")
            self.assertEqual(one("sseq_queue_records"), 3)
            self.assertEqual(one("sseq_queue_oldest_id"), stats["oldest_id"])
            self.assertEqual(one("sseq_queue_newest_id"), stats["newest_id"])
            self.assertGreater(one("sseq_queue_fill_ratio"), 0)
            self.assertLess(one("sseq_queue_fill_ratio"), 1)
            self.assertEqual(one("sseq_queue_info", path=st.queue,
                                 version=str(stats["version"])), 1)
            self.assertEqual(one("sseq_processes", role="stream"), 1)
            self.assertEqual(one("sseq_processes", role="publish"), 1)
            self.assertEqual(one("sseq_streams_open"), 1)
            self.assertEqual(types["sseq_streams_open"], "gauge")
            self.assertGreaterEqual(one("sseq_delivered_total"), 3)
            self.assertEqual(one("sseq_dropped_slow_total"), 0)
            self.assertEqual(one("sseq_process_streams_open", pid=spid,
                                 role="stream"), 1)
            self.assertGreaterEqual(one("sseq_process_delivered_total",
                                        pid=spid, role="stream"), 3)
            self.assertEqual(one("sseq_process_published_total", pid=ppid,
                                 role="publish"), 3)
            self.assertEqual(one("sseq_process_requests_total", pid=ppid,
                                 role="publish"), 3)
            self.assertEqual(one("sseq_process_published_bytes_total",
                                 pid=ppid, role="publish"), 6)
            self.assertNotIn(("sseq_process_streams_open",
                              frozenset({"pid": ppid, "role": "publish"}
                                        .items())), v,
                             "a publisher has no streams")
            sub.conn.close()

            text = st.sseq_ok("stats").stdout
            self.assertIn("process %s (publish): requests 3, published 3, "
                          "bytes 6" % ppid, text)
            self.assertIn("process %s (stream): streams " % spid, text)


def scrape(st, method="GET", source="127.0.0.1", headers=None,
           path="/sseq/metrics"):
    """One request to path from the address source; returns (status,
    {lowercase header: value}, body text)."""
    conn = http.client.HTTPConnection("127.0.0.1", st.port, timeout=10,
                                      source_address=(source, 0))
    try:
        conn.request(method, path, headers=headers or {})
        r = conn.getresponse()
        return (r.status, {k.lower(): v for k, v in r.getheaders()},
                r.read().decode("utf-8"))
    finally:
        conn.close()


class Endpoint(harness.TestCase):
    def scraped(self, st):
        got, head, body = scrape(st)
        self.assertEqual(got, 200, body)
        self.assertEqual(head["content-type"],
                         "text/plain; version=0.0.4; charset=utf-8")
        return samples(body) + (body,)

    def test_scrape_values(self):
        with stack(stream_procs=2, publish_procs=1) as st:
            subs = [Subscriber(st, "metrics"), Subscriber(st, "other")]
            for i in range(4):
                got, _, raw = post(st, "/publish/metrics", "m%d" % i)
                self.assertEqual(got, 202, raw)
            self.assertEqual([e.data for e in subs[0].events(4)],
                             ["m0", "m1", "m2", "m3"])

            # The top channels come from a file each sseq-stream
            # refreshes every second: wait for it too, else the CLI read
            # later lists sseq_channel_streams and this scrape did not.
            def settled():
                v = self.scraped(st)[0]
                return (v.get(("sseq_streams_open", frozenset())) == 2 and
                        v.get(("sseq_delivered_total", frozenset()), 0) >= 4
                        and all(v.get(("sseq_channel_streams", frozenset(
                            {("channel", ch)}))) == 1
                            for ch in ("metrics", "other")))
            st.wait_for(settled, "2 streams open, 4 delivered and the 2 "
                        "channels listed in /sseq/metrics")
            v, types, body = self.scraped(st)

            def one(name, **labels):
                key = (name, frozenset(labels.items()))
                self.assertIn(key, v, "%s%s missing in:\n%s" % (
                    name, labels, body))
                return v[key]

            self.assertEqual(one("sseq_streams_open"), 2)
            self.assertEqual(one("sseq_queue_appended_total"), 4)
            self.assertEqual(one("sseq_queue_records"), 4)
            self.assertEqual(one("sseq_processes", role="stream"), 2)
            self.assertEqual(one("sseq_processes", role="publish"), 1)
            self.assertEqual(one("sseq_dropped_slow_total"), 0)
            self.assertEqual(one("sseq_queue_oldest_id"),
                             st.stats()["oldest_id"])
            self.assertEqual(types["sseq_queue_appended"], "counter")
            self.assertEqual(sum(one("sseq_process_streams_open",
                                     pid=str(p), role="stream")
                                 for p in st.stream_pids()), 2)
            ppid = str(st.publish_pids()[0])
            self.assertEqual(one("sseq_process_published_total", pid=ppid,
                                 role="publish"), 4)
            cli, _ = samples(st.sseq_ok("stats", "--prometheus").stdout)
            self.assertEqual({k[0] for k in cli}, {k[0] for k in v},
                             "the endpoint and the CLI print the same "
                             "metrics")
            for sub in subs:
                sub.close()

    def test_channel_streams(self):
        """sseq_channel_streams: the 10 channels with the most streams,
        summed over two sseq-stream masters (the stack's, through nginx,
        and a second on its own socket, reached as a raw FastCGI client),
        ties by name; a master that exits removes its file."""
        with stack(stream_procs=1, publish_procs=0) as st:
            sock2 = os.path.join(st.tmpdir, "stream2.sock")
            log2 = open(os.path.join(st.tmpdir, "stream2.log"), "w")
            other = subprocess.Popen(
                [harness.binary("sseq-stream"), "-c", st.conf_path,
                 "--listen", "unix:" + sock2, "--processes", "1"],
                stdout=log2, stderr=log2)
            subs, raw = [], []
            try:
                st.wait_for(lambda: os.path.exists(sock2), "stream2.sock")
                self.channel_streams(st, sock2, subs, raw)
            finally:
                for c in subs + raw:
                    c.close()
                other.terminate()
                other.wait(10)
                log2.close()
            self.assertNotIn("Sanitizer", st.log("stream2.log"))
            files = glob.glob("/dev/shm%s.chans-*" % st.queue)
            self.assertEqual(len(files), 1, "the second master's file "
                             "should be gone, the stack's left: %s" % files)

    def channel_streams(self, st, sock2, subs, raw):
        for n in ["hot"] * 2 + ["warm"] * 2 + [
                "cold-%02d" % i for i in range(11)]:
            subs.append(st.sse("/events?channel=" + n))
        # One stream on two channels, tagged (sseq.js's union): it counts
        # for each, summed with the plain streams of the same names.
        subs.append(st.sse("/events?channel=warm&channel=cold-10&"
                           "tag=channel"))
        for n in ("hot", "cold-10"):
            raw.append(fcgi_open(sock2, {
                "REQUEST_METHOD": "GET", "QUERY_STRING": "channel=" + n,
                "DOCUMENT_URI": "/events"}))
        want = {"hot": 3, "warm": 3, "cold-10": 3}
        want.update({"cold-%02d" % i: 1 for i in range(7)})
        got = {}

        def listed():
            v = self.scraped(st)[0]
            got.clear()
            got.update({dict(k[1])["channel"]: n for k, n in v.items()
                        if k[0] == "sseq_channel_streams"})
            return got == want
        self.assertTrue(st.wait_for(listed, "top channels", fail=False),
                        got)
        self.assertEqual(self.scraped(st)[0][("sseq_streams_open",
                                              frozenset())], 18)
        for sub in subs[:2]:
            sub.close()
        del want["hot"]
        want["cold-07"] = 1
        self.assertTrue(st.wait_for(lambda: listed(), "hot gone",
                                    fail=False), got)

    def test_methods_and_forged_header(self):
        with stack(stream_procs=1, publish_procs=1) as st:
            got, _, body = scrape(st, "HEAD")
            self.assertEqual((got, body), (200, ""))
            got, head, body = scrape(st, "POST")
            self.assertEqual(got, 405, body)
            self.assertEqual(head.get("allow"), "GET, HEAD")
            # A client header is HTTP_SSEQ_ENDPOINT, never the param.
            ev = st.sse("/events?channel=forged",
                        headers={"SSEQ-Endpoint": "metrics"})
            self.assertEqual(ev.status, 200)
            self.assertTrue(ev.headers["content-type"].startswith(
                "text/event-stream"), ev.headers)
            ev.close()

    def test_localhost_only(self):
        with stack(stream_procs=1, publish_procs=1) as st:
            got, _, body = scrape(st, source="127.0.0.2")
            self.assertEqual(got, 403, body)
            self.assertNotIn("sseq_", body)
            # The same client reaches the other locations.
            got, head, _ = scrape(st, "HEAD", source="127.0.0.2",
                                  path="/events?channel=x")
            self.assertEqual(got, 200)
            self.assertTrue(head["content-type"].startswith(
                "text/event-stream"), head)
            got, _, body = scrape(st, source="127.0.0.1")
            self.assertEqual(got, 200, body)


def stalled(st, role, params):
    """A raw FastCGI request to <role>.sock whose body never completes:
    the runtime answers 408 after fastcgi.read_timeout."""
    s = fcgi_open(os.path.join(st.tmpdir, role + ".sock"), params,
                  b"0123", end_stdin=False)
    try:
        return parse_cgi(fcgi_response(s, timeout=30))[0]
    finally:
        s.close()


class Refusals(harness.TestCase):
    def test_by_status(self):
        settings = {"fastcgi": {"read_timeout": 500}}
        with stack(stream_procs=2, publish_procs=1,
                   settings=settings) as st:
            got, _, raw = post(st, "/publish/ok", "first")
            self.assertEqual(got, 202, raw)
            st.wait_for(lambda: len([p for p in st.stats()["processes"]
                                     if p["role"] == "stream"]) == 2,
                        "both stream processes in the slot table")
            want = {("stream", 400): 2, ("stream", 405): 2,
                    ("stream", 408): 1, ("publish", 401): 2,
                    ("publish", 405): 1, ("publish", 415): 1,
                    ("publish", 408): 1}
            for _ in range(2):
                self.assertEqual(st.http("GET", "/events")[0], 400)
                self.assertEqual(post(st, "/publish/x", "m", token="")[0],
                                 401)
            self.assertEqual(st.http("POST", "/events?channel=a")[0], 405)
            self.assertEqual(scrape(st, "POST")[0], 405)
            self.assertEqual(st.http("GET", "/publish/x")[0], 405)
            self.assertEqual(post(st, "/publish/x", "m",
                                  ctype="image/png")[0], 415)
            self.assertEqual(stalled(st, "publish",
                                     fcgi_params(st, clen=100)), 408)
            self.assertEqual(stalled(st, "stream", {
                "REQUEST_METHOD": "GET", "QUERY_STRING": "channel=a",
                "DOCUMENT_URI": "/events", "CONTENT_LENGTH": "100"}), 408)

            def refusals(text):
                v, types = samples(text)
                self.assertEqual(types["sseq_refusals"], "counter")
                total = {(dict(k[1])["role"], int(dict(k[1])["status"])): n
                         for k, n in v.items()
                         if k[0] == "sseq_refusals_total"}
                procs = {}
                for k, n in v.items():
                    if k[0] == "sseq_process_refusals_total":
                        lb = dict(k[1])
                        key = (lb["role"], int(lb["status"]))
                        procs[key] = procs.get(key, 0) + n
                return total, procs

            total, procs = refusals(scrape(st)[2])
            self.assertEqual({k: n for k, n in total.items() if n}, want,
                             "sseq_refusals_total through /sseq/metrics")
            self.assertEqual(procs, want, "sseq_process_refusals_total "
                             "summed over the processes")
            self.assertEqual(len(total), 2 * 14,
                             "every status for both roles, zeros too")
            total, _ = refusals(st.sseq_ok("stats", "--prometheus").stdout)
            self.assertEqual({k: n for k, n in total.items() if n}, want,
                             "sseq stats --prometheus, another process")


if __name__ == "__main__":
    harness.main()
