#!/usr/bin/env python3
"""test_cluster_hostile.py -- Redis is not trusted: two sseq hosts joined
through a private redis-server, then entries XADDed by hand (as anyone who
can write to Redis could): a forged event type that smuggles a whole SSE
event, a publisher id with CR LF (a header injection when a client
resumes with it through the hub), an id <newest>-5 (once re-read in a
tight loop), an id 2^64-1 (once wrapped every host's queue and made every
publish fail) and an id past 2^53 (once garbage through the Lua script's
doubles). Every host's queue stays healthy, no subscriber gets a forged
event, each bad entry is logged once, and publishing keeps working."""
import os
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from test_cluster import open_cluster, read_until, wait_newest  # noqa: E402

STREAM = "{hx}:stream"
FORGED_EVENT = 'message\ndata: {"forged":1}\nid: 1\n\nevent: message'
FORGED_ID = "a\r\nSet-Cookie: forged=1"


class ClusterHostile(harness.TestCase):
    @classmethod
    def setUpClass(cls):
        open_cluster(cls, "hx", 2)

    @classmethod
    def tearDownClass(cls):
        cls.es.close()

    def xadd(self, entry_id, *fields):
        out = self.redis.cli("XADD", STREAM, entry_id, *fields).strip()
        self.assertEqual(out, entry_id, "redis took the foreign entry")

    def assert_healthy(self, want_newest):
        for k, h in enumerate(self.hosts):
            r = h.sseq("check")
            self.assertEqual(r.returncode, 0, "host %d: sseq check: %s%s"
                             % (k, r.stdout, r.stderr))
            self.assertEqual(h.newest(), want_newest, "host %d" % k)

    def test_1_foreign_entries_skipped(self):
        subs = [h.sse("/events?channel=hx") for h in self.hosts]
        top = self.hosts[0].newest()
        self.xadd("%d-0" % (top + 1), "c", "hx", "d", "x", "t", "1",
                  "e", FORGED_EVENT)
        self.xadd("%d-0" % (top + 2), "c", "hx", "d", "x", "t", "1",
                  "i", FORGED_ID)
        self.xadd("%d-5" % (top + 2), "c", "hx", "d", "seq5", "t", "1")
        first = self.hosts[0].publish_cli("hx", "after-1")
        self.assertEqual(first, top + 3, "ids go on above foreign entries")
        self.xadd("18446744073709551615-0", "c", "hx", "d", "top", "t", "1")
        status, second, body = self.hosts[1].publish_http("hx", "after-2")
        self.assertEqual(status, 202, "a publish after an entry at 2^64-1 "
                         "is taken: %r" % body)
        self.assertEqual(second, first + 1)
        self.assertTrue(wait_newest(self.hosts, second))
        for k, c in enumerate(subs):
            got = read_until(c, 2)
            c.close()
            self.assertEqual([e.data for e in got
                              if e.event != "sseq-gap"],
                             ["after-1", "after-2"], "host %d" % k)
            self.assertNotIn(b"forged", c.raw, "host %d" % k)
        self.assert_healthy(second)
        for k, h in enumerate(self.hosts):
            log = h.log("bridge.log")
            skipped = [ln for ln in log.splitlines() if " skipped: " in ln]
            self.assertTrue(3 <= len(skipped) <= 4, "host %d: one line a "
                            "bad entry: %r" % (k, skipped))
            self.assertIn("bad event type", log)
            self.assertIn("bad id", log)
            self.assertIn("-5 skipped: id", log)
            self.assertNotIn("\r", log, "a culprit is quoted, not copied")

    def test_2_resume_with_forged_id_through_hub(self):
        path = "/.well-known/mercure?" + urllib.parse.urlencode(
            [("topic", "hx"), ("lastEventID", FORGED_ID)])
        for k, h in enumerate(self.hosts):
            c = h.sse(path)
            c.close()
            self.assertEqual(c.status, 200, "host %d" % k)
            self.assertNotIn("set-cookie", c.headers, "host %d" % k)
            self.assertNotIn("forged", c.headers.get("last-event-id", ""),
                             "host %d: the id is never echoed" % k)

    def test_3_ids_past_2_53(self):
        h0, h1 = self.hosts
        big = 2 ** 53 + 1
        self.xadd("%d-0" % big, "c", "hx", "d", "big", "t", "1")
        self.assertTrue(wait_newest(self.hosts, big))
        mid = h0.publish_cli("hx", "past-2^53")
        self.assertEqual(mid, big + 1, "exact ids past 2^53")
        status, mid2, body = h1.publish_http("hx", "and-on")
        self.assertEqual((status, mid2), (202, big + 2), body)
        self.assertTrue(wait_newest(self.hosts, big + 2))
        self.assert_healthy(big + 2)


if __name__ == "__main__":
    harness.main()
