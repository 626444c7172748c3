#!/usr/bin/env python3
"""test_metrics.py -- `sseq stats --prometheus` parsed by the real
Prometheus text parser (Debian's python3-prometheus-client): the queue's
counters and every live process's, with a stream open and messages
published through nginx; and the per-role labels of `sseq stats`."""
import sys

import harness
from publish_util import post, stack, Subscriber

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


if __name__ == "__main__":
    harness.main()
