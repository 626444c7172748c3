#!/usr/bin/env python3
"""test_cluster.py -- three sseq "hosts" on one machine (each its own
queue, nginx, sseq-stream, sseq-publish and sseq-bridge) joined through one
private redis-server with a password: every subscriber on every host gets
every message of its channels once, with the same ids in the same order;
a subscriber moving host resumes by Last-Event-ID; Redis stopped for 5 s
under publishing; a bridge killed with SIGKILL; Redis retention exceeded
while a host is cut off (sseq-gap, then live); a Mercure publish
(alternates, private, id, type, retry) arriving whole on every host."""
import contextlib
import json
import os
import signal
import stat
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import stream_util  # noqa: E402
from cluster_util import ClusterStack, Redis  # noqa: E402
import hub_util  # noqa: E402

PASSWORD = "redis-secret?Xy7"  # a "?" was once shown in clear


def data_events(events):
    return [e for e in events if e.event != "sseq-gap"]


def read_until(client, n, timeout=15):
    """Events until n data events (or timeout); gap events included."""
    got = []
    deadline = time.monotonic() + timeout
    while len(data_events(got)) < n and time.monotonic() < deadline:
        got += client.events(n - len(data_events(got)),
                             timeout=max(0.05, deadline - time.monotonic()))
        if client.eof:
            break
    return got


def wait_newest(hosts, at_least, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(h.newest() >= at_least for h in hosts):
            return True
        time.sleep(0.05)
    return False


def join_hosts(redis, prefix, n, settings=None):
    """n ClusterStacks on redis; a first message reaches all of them before
    any subscriber connects (a host's first entry may jump its ids)."""
    es = contextlib.ExitStack()
    try:
        hosts = [es.enter_context(ClusterStack(redis.url, prefix,
                                               settings=settings))
                 for _ in range(n)]
        first = hosts[0].publish_cli("warm-up", "x")
        if not wait_newest(hosts, first):
            raise RuntimeError("the first message did not reach every host")
    except BaseException:
        es.close()
        raise
    return es, hosts


def open_cluster(cls, prefix, n, settings=None, **redis_kw):
    """Starts a Redis (redis_kw) and n hosts joined on it into the test
    class cls (cls.es, cls.redis, cls.hosts); what started is stopped if a
    host fails to. tearDownClass closes cls.es."""
    stream_util.raise_nofile()
    cls.es = contextlib.ExitStack()
    cls.redis = cls.es.enter_context(Redis(**redis_kw))
    try:
        es, cls.hosts = join_hosts(cls.redis, prefix, n, settings=settings)
    except BaseException:
        cls.es.close()
        raise
    cls.es.enter_context(es)


class ClusterThreeHosts(harness.TestCase):
    @classmethod
    def setUpClass(cls):
        open_cluster(cls, "t3", 3, settings={
            "mercure.publisher_jwt_key": hub_util.KEY}, password=PASSWORD)

    @classmethod
    def tearDownClass(cls):
        cls.es.close()

    def test_1_every_host_every_message(self):
        subs = []
        for h in self.hosts:
            subs += [(h, "fa", h.sse("/events?channel=fa")),
                     (h, "fb", h.sse("/events?channel=fb")),
                     (h, "fa,fb", h.sse("/events?channel=fa,fb"))]
        acked = {}

        def publish_from(k):
            h = self.hosts[k]
            for i in range(20):
                ch = "fa" if i % 2 else "fb"
                status, mid, body = h.publish_http(ch, "h%d-%d" % (k, i))
                self.assertEqual(status, 202, body)
                acked[mid] = (ch, "h%d-%d" % (k, i))

        ts = [threading.Thread(target=publish_from, args=(k,))
              for k in range(3)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        for i in range(4):
            mid = self.hosts[2].publish_cli("fa", "cli-%d" % i)
            acked[mid] = ("fa", "cli-%d" % i)
        self.assertEqual(len(acked), 64, "every publish has its own id")
        seen = {}
        for h, chans, c in subs:
            want = [(mid, d) for mid, (ch, d) in sorted(acked.items())
                    if ch in chans.split(",")]
            got = read_until(c, len(want))
            self.assertEqual([(int(e.id), e.data) for e in got], want,
                             "host %d, channels %s: every message once, "
                             "in id order" % (self.hosts.index(h), chans))
            seen.setdefault(chans, []).append(got)
            c.close()
        for chans, lists in seen.items():
            self.assertTrue(all(x == lists[0] for x in lists),
                            "same ids and order on every host")

    def test_2_subscriber_moves_host(self):
        h0, h1, h2 = self.hosts
        c = h0.sse("/events?channel=mv")
        sent = [h1.publish_cli("mv", "m%d" % i) for i in range(10)]
        first = read_until(c, 4)
        c.close()
        self.assertEqual([int(e.id) for e in first], sent[:4])
        sent += [h2.publish_cli("mv", "m%d" % i) for i in range(10, 16)]
        self.assertTrue(wait_newest([h1], sent[-1]))
        c = h1.sse("/events?channel=mv",
                   headers={"Last-Event-ID": first[-1].id})
        rest = read_until(c, 12, timeout=10)
        self.assertEqual([(int(e.id), e.data) for e in rest],
                         [(sent[i], "m%d" % i) for i in range(4, 16)],
                         "no gap, no duplicate after moving host")
        self.assertNothingPending(h1, c, "mv")
        c.close()

    def test_3_redis_stopped_5s_under_publishing(self):
        subs = [h.sse("/events?channel=out", timeout=10) for h in self.hosts]
        # Only what the hosts log from here on counts.
        logs_at = [(len(h.log("bridge.log")), len(h.log("publish.log")))
                   for h in self.hosts]
        acked, attempted, refused = [], set(), []
        acked_by = [0] * len(self.hosts)   # 202s per host
        stop = threading.Event()

        def publisher():
            i = 0
            while not stop.is_set():
                k = i % 3
                data = "o%d" % i
                attempted.add(data)
                try:
                    status, mid, body = self.hosts[k].publish_http("out",
                                                                   data)
                except OSError:
                    status, mid, body = 0, None, b""
                if status == 202:
                    acked.append((mid, data))
                    acked_by[k] += 1
                else:
                    refused.append((status, body))
                i += 1
                time.sleep(0.02)

        def every_host_acked_since(before):
            return harness.wait_until(lambda: all(
                n > b for n, b in zip(acked_by, before)), timeout=20)

        t = threading.Thread(target=publisher)
        t.start()
        try:
            self.assertTrue(every_host_acked_since([0, 0, 0]),
                            "every host publishes before the outage")
            self.redis.stop()
            time.sleep(5)           # the outage under test
            down = list(acked_by)
            self.redis.start()
            self.assertTrue(every_host_acked_since(down),
                            "every host publishes again after it")
        finally:
            stop.set()
            t.join()
        self.assertTrue(refused, "publishes while Redis is down are refused")
        self.assertTrue(all(s == 503 and b"cluster:" in b
                            for s, b in refused), refused[:3])
        self.assertTrue(wait_newest(self.hosts, max(a[0] for a in acked)))
        want = dict(acked)
        for k, c in enumerate(subs):
            # Publishes that timed out after Redis ran the script were
            # refused yet went out, so count the acknowledged ids, not
            # events: read until every one came (or the deadline).
            got, deadline = [], time.monotonic() + 20
            while (not set(want) <= {int(e.id) for e in got} and
                   time.monotonic() < deadline and not c.eof):
                got += data_events(c.events(len(want), timeout=1))
            ids = [int(e.id) for e in got]
            self.assertFalse(c.eof, "host %d: stream stayed open" % k)
            self.assertEqual(ids, sorted(set(ids)), "in order, once")
            self.assertTrue(set(want) <= set(ids),
                            "host %d: every acknowledged message" % k)
            self.assertTrue(all(e.data in attempted for e in got))
            for e in got:
                if int(e.id) in want:
                    self.assertEqual(e.data, want[int(e.id)])
            c.close()
        for h, (bridge_at, publish_at) in zip(self.hosts, logs_at):
            n = h.log("bridge.log")[bridge_at:].count("unreachable")
            self.assertTrue(1 <= n <= 2, "bridge logs the state change once "
                            "(%d lines)" % n)
            n = h.log("publish.log")[publish_at:].count(": unreachable")
            self.assertTrue(n <= 2, "publish logs the state change once "
                            "(%d lines)" % n)

    def test_4_bridge_sigkill(self):
        h0, h1, _ = self.hosts
        c = h1.sse("/events?channel=kill")
        h1.kill_bridge(signal.SIGKILL)
        self.assertEqual(h1.stats()["cluster"]["bridge_pid"], 0)
        sent = [h0.publish_cli("kill", "k%d" % i) for i in range(20)]
        st = h1.stats()["cluster"]
        self.assertEqual(st["lag_messages"], sent[-1] - st["last_id"],
                         "sseq stats shows the lag behind Redis")
        self.assertGreater(st["lag_messages"], 19)
        h1.start_bridge()
        sent += [h0.publish_cli("kill", "k%d" % i) for i in range(20, 25)]
        got = read_until(c, 25)
        self.assertEqual([(int(e.id), e.data) for e in got],
                         [(sent[i], "k%d" % i) for i in range(25)])
        last = self.assertNothingPending(h0, c, "kill")
        c.close()
        self.assertTrue(wait_newest([h0, h1], last))
        self.assertEqual(h1.newest(), h0.newest())

    def test_6_foreign_entry_skipped(self):
        h0 = self.hosts[0]
        subs = [h.sse("/events?channel=fe") for h in self.hosts]
        top = h0.newest()
        self.redis.cli("XADD", "{t3}:stream", "%d-0" % (top + 1), "x", "y")
        mid = h0.publish_cli("fe", "after")
        self.assertEqual(mid, top + 2, "ids go on above a foreign entry")
        for k, c in enumerate(subs):
            got = read_until(c, 1)
            self.assertEqual([(e.event, e.data) for e in got][-1:],
                             [("message", "after")], "host %d" % k)
            self.assertEqual(int(got[-1].id), mid)
            c.close()
        # Each bridge handled (and logged) the foreign entry before the
        # message after it that its subscriber got.
        for h in self.hosts:
            self.assertEqual(h.log("bridge.log").count("not an sseq "
                                                       "message"), 1)

    def test_7_request_id_publishes_once(self):
        h0, h1, _ = self.hosts
        c = h1.sse("/events?channel=idem")
        s1, id1, _ = h0.publish_http("idem", "one", key="req-42")
        s2, id2, _ = h1.publish_http("idem", "one", key="req-42")
        r = h0.sseq_ok("publish", "--request-id", "req-43", "idem", "two")
        r2 = h1.sseq_ok("publish", "--request-id", "req-43", "idem", "two")
        last = h0.publish_cli("idem", "three")
        self.assertEqual((s1, s2), (202, 202))
        self.assertEqual(id1, id2, "a retry gets the first id back")
        self.assertEqual(r.stdout, r2.stdout)
        got = read_until(c, 3)
        self.assertEqual([(int(e.id), e.data) for e in got],
                         [(id1, "one"), (int(r.stdout), "two"),
                          (last, "three")], "published once each")
        self.assertNothingPending(h0, c, "idem", "published once each")
        c.close()

    def test_8_mercure_publish_whole_on_every_host(self):
        subs = [h.sse("/events?channel=fm") for h in self.hosts]
        alt = ["https://example.com/books/1", "https://example.com/{x}"]
        body = hub_util.form([("topic", "fm"), ("topic", alt[0]),
                              ("topic", alt[1]), ("data", "whole"),
                              ("id", "urn:uuid:c1"), ("type", "up"),
                              ("retry", "2500")])
        status, _, text = hub_util.post_hub(self.hosts[1], body,
                                            hub_util.publisher())
        self.assertEqual((status, text), (200, "urn:uuid:c1"))
        priv = hub_util.form([("topic", "fm"), ("data", "secret"),
                              ("private", "on")])
        status, _, text = hub_util.post_hub(self.hosts[2], priv,
                                            hub_util.publisher())
        self.assertEqual(status, 200, text)
        self.assertTrue(wait_newest(self.hosts, int(text)))
        for k, h in enumerate(self.hosts):
            recs = hub_util.newest(h, 2)
            self.assertEqual(
                [(r["channel"], r["alt"], r["data"], r["pub_id"],
                  r["event"], r["retry"], r["private"]) for r in recs],
                [("fm", alt, "whole", "urn:uuid:c1", "up", 2500, False),
                 ("fm", [], "secret", None, "", 0, True)], "host %d" % k)
            self.assertEqual(recs[1]["id"], text)
            got = read_until(subs[k], 1)
            self.assertEqual([(e.event, e.data) for e in got][:1],
                             [("up", "whole")], "host %d" % k)
            subs[k].close()

    def test_5_auth_and_secrets(self):
        h = self.hosts[0]
        shown = h.sseq_ok("check-config").stdout + \
            h.sseq_ok("stats").stdout
        self.assertIn(":***@", h.sseq_ok("stats").stdout)
        self.assertNotIn(PASSWORD, shown)
        for host in self.hosts:
            for log in ("bridge.log", "publish.log", "stream.log"):
                self.assertNotIn(PASSWORD, host.log(log))
                mode = os.stat(os.path.join(host.tmpdir, log)).st_mode
                self.assertEqual(stat.S_IMODE(mode), 0o640,
                                 "%s is not world-readable" % log)
        bad_url = self.redis.url.replace(PASSWORD, "wrong-pass")
        with harness.Stack(settings={"cluster.redis": bad_url},
                           stream_procs=1, publish_procs=0) as bad:
            r = bad.sseq("publish", "x", "y")
            self.assertEqual(r.returncode, 1)
            self.assertIn("AUTH", r.stderr)
            self.assertNotIn("wrong-pass", r.stderr)


class ClusterRetention(harness.TestCase):
    def test_cut_off_host_gets_gap_then_live(self):
        with Redis(node_entries=8) as redis:
            es, (h0, h1) = join_hosts(redis, "rt", 2,
                                      settings={"cluster.retention": 10})
            with es:
                c = h1.sse("/events?channel=g")
                before = [h0.publish_cli("g", "b%d" % i) for i in range(3)]
                self.assertEqual([int(e.id) for e in read_until(c, 3)],
                                 before)
                h1.kill_bridge(signal.SIGKILL)
                ok = stream_util.publish_many(
                    h0, [("g", "cut%d" % i) for i in range(200)], threads=1)
                self.assertEqual(ok, 200)
                first = int(redis.cli("XRANGE", "{rt}:stream", "-", "+",
                                      "COUNT", "1").split()[0][:-2])
                self.assertGreater(first, before[-1] + 1,
                                   "Redis trimmed past the cut-off host")
                h1.start_bridge()
                got = read_until(c, 1)
                self.assertEqual(got[0].event, "sseq-gap", got[:1])
                gap = json.loads(got[0].data)
                self.assertGreater(int(gap["oldest"]), before[-1] + 1,
                                   "the gap covers what Redis dropped")
                live = h0.publish_cli("g", "live")
                want = int(h0.newest())
                tail = []
                while (not tail or int(tail[-1].id) < want) and not c.eof:
                    more = c.events(100, timeout=5)
                    if not more:
                        break
                    tail += more
                ids = [int(e.id) for e in data_events(got[1:] + tail)]
                self.assertEqual(ids, list(range(int(gap["oldest"]),
                                                 live + 1)),
                                 "what Redis kept, in order, then live")
                self.assertEqual(tail[-1].data, "live")
                c.close()


if __name__ == "__main__":
    harness.main()
