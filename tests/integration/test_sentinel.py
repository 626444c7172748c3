#!/usr/bin/env python3
"""test_sentinel.py -- sseq hosts behind a load balancer, joined through
Redis with Sentinel, surviving a dead host and a dead Redis master.

Three hosts, each its own network namespace (a veth to a bridge in the
root namespace, the test's own 10.X.Y.0/24 addresses) with its own nginx,
sseq-stream, sseq-publish, sseq-bridge and queue; a Redis master, two
replicas and three sentinels in the root namespace; a front nginx on
127.0.0.1 balancing every path over the three hosts. Subscribers (SSE
clients that reconnect with Last-Event-ID, as a browser does; on /events
and on the Mercure hub; and Debian's Chromium with sseq.js,
tests/browser/subscriber.mjs) and one publisher at a steady rate all go
through the front. Faults, in order:
one host SIGKILLed (all its processes), the Redis master SIGKILLed
(Sentinel promotes a replica), the dead host started again. Asserted per
subscriber: every acknowledged (202) message once, none twice, ids
strictly increasing across both faults; publishes refused meanwhile are
503 with Retry-After; the restarted host catches up and serves. The time
from each fault to the first message delivered after it is printed (not
asserted). Chromium's page must receive exactly the acknowledged ids, in
order, none twice (a publish answered 503 or 502 is ambiguous: its
message may come too), and show no error. The sentinels require a
password of their own (requirepass, made per run like the nodes'):
sseq AUTHs to them (?sentinel_password= in cluster.redis) and no log
holds either password. Needs root (ip netns): without it the test
fails, never skips; so does a missing Chromium where the tree has
browser tests (tests/browser/run, which ./scripts/test runs)."""
import collections
import http.client
import json
import socket
import os
import secrets
import shutil
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import stream_util  # noqa: E402
from cluster_util import ClusterStack, Front, Net, NetnsHost, Redis, \
    SentinelSet  # noqa: E402

CHANNEL = "ha"
SUBSCRIBERS = 9         # on /events
HUB_SUBSCRIBERS = 3     # on the Mercure hub, same channel as topic
HUB = "/.well-known/mercure"
RATE = 40               # publishes a second through the front
BROWSER_DIR = os.path.join(harness.SRCDIR, "tests", "browser")


class Subscriber(threading.Thread):
    """An EventSource through the front: on any end of its stream it
    reconnects after 100 ms with the last id it got. Records every event
    with the time it came, and each (re)connection."""

    def __init__(self, port, path, stop, addr="127.0.0.1"):
        super().__init__(daemon=True)
        self.port, self.path, self.stop, self.addr = port, path, stop, addr
        self.events = []        # (monotonic time, id, event, data)
        self.last_id = None
        self.connects = []      # monotonic times of answered connects
        self.failures = 0       # connections refused or not 200
        self.lock = threading.Lock()

    def connect(self):
        hdr = {"Last-Event-ID": self.last_id} if self.last_id else {}
        c = harness.SSEClient.__new__(harness.SSEClient)
        c.sock = socket.create_connection((self.addr, self.port), 5)
        hdrs = {"Host": "sseq.test", "Accept": "text/event-stream"}
        hdrs.update(hdr)
        c.sock.sendall(("GET %s HTTP/1.1\r\n%s\r\n" % (self.path, "".join(
            "%s: %s\r\n" % kv for kv in hdrs.items()))).encode())
        c.parser = harness.SSEParser()
        c.pending, c.eof, c.clean_end, c.raw = [], False, False, b""
        c.read_head(5)
        return c

    def run(self):
        while not self.stop.is_set():
            try:
                c = self.connect()
            except OSError:
                self.failures += 1
                time.sleep(0.1)
                continue
            if c.status != 200:
                self.failures += 1
                c.close()
                time.sleep(0.1)
                continue
            self.connects.append(time.monotonic())
            while not self.stop.is_set() and not c.eof:
                for e in c.events(100, timeout=0.2):
                    with self.lock:
                        self.events.append((time.monotonic(), e.id,
                                            e.event, e.data))
                    if e.id:
                        self.last_id = e.id
            c.close()
            time.sleep(0.1)

    def data(self):
        with self.lock:
            return [(int(i), d, t) for t, i, ev, d in self.events
                    if ev != "sseq-gap"]

    def newest(self):
        d = self.data()
        return d[-1][0] if d else 0


class Publisher(threading.Thread):
    """POSTs RATE messages a second through the front, each with its own
    data; keeps what was acknowledged (id -> data, time sent) and what
    was refused (status, Retry-After)."""

    def __init__(self, port, token, stop):
        super().__init__(daemon=True)
        self.port, self.token, self.stop = port, token, stop
        self.lock = threading.Lock()    # acked and sent_at: read by
        self.acked = {}                 # the test's thread (snapshot())
        self.sent_at = {}
        self.refused = []   # (time, status, retry-after, body, data)
        self.reused = []        # (id, first data, second data): never
        self.n = 0

    def run(self):
        nxt = time.monotonic()
        while not self.stop.is_set():
            self.n += 1
            data = "m%d" % self.n
            t0 = time.monotonic()
            try:
                status, hdr, body = http_post(self.port, self.token, data)
            except OSError as exc:
                status, hdr, body = 0, {}, str(exc).encode()
            if status == 202:
                mid = int(json.loads(body)["id"])
                with self.lock:
                    if mid in self.acked:
                        self.reused.append((mid, self.acked[mid], data))
                    self.acked[mid] = data
                    self.sent_at[mid] = t0
            else:
                self.refused.append((t0, status, hdr.get("retry-after"),
                                     body[:200], data))
            nxt += 1.0 / RATE
            time.sleep(max(0, nxt - time.monotonic()))

    def snapshot(self):
        """What was acknowledged so far (id -> data), a copy: the
        publishing thread goes on adding to it."""
        with self.lock:
            return dict(self.acked)

    def first_acked_after(self, t):
        with self.lock:
            ids = [i for i, s in self.sent_at.items() if s > t]
        return min(ids) if ids else None


def chromium_required():
    """The suite requires the browser where the tree has browser tests
    (tests/browser/run, which ./scripts/test runs, as it decides); a
    tarball without them leaves the Chromium subscriber out."""
    return os.access(os.path.join(BROWSER_DIR, "run"), os.X_OK)


def chromium_missing():
    """What the Chromium subscriber lacks, as a list (empty: nothing)."""
    need = []
    if not os.access("/usr/bin/chromium", os.X_OK):
        need.append("/usr/bin/chromium (Debian's chromium)")
    if shutil.which("node") is None:
        need.append("node")
    if not os.path.isdir(os.path.join(BROWSER_DIR, "node_modules",
                                      "playwright-core")):
        need.append("tests/browser/node_modules/playwright-core")
    return need


class ChromiumSubscriber:
    """Debian's Chromium with sseq.js subscribed to url
    (tests/browser/subscriber.mjs): a reader thread keeps the page's
    progress lines; stop() returns what the page saw (its messages,
    errors, states, page errors)."""

    def __init__(self, url):
        self.progress = {}
        self.ready = False
        self.final = None
        self.fatal = None
        self.noise = []         # lines that are not the script's JSON
        self.proc = subprocess.Popen(
            ["node", os.path.join(BROWSER_DIR, "subscriber.mjs"), url],
            cwd=BROWSER_DIR, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True)
        self.reader = threading.Thread(target=self.read, daemon=True)
        self.reader.start()

    def read(self):
        for line in self.proc.stdout:
            try:
                msg = json.loads(line)
            except ValueError:
                self.noise.append(line.rstrip()[:300])
                continue
            if msg.get("ready"):
                self.ready = True
            elif "final" in msg:
                self.final = msg["final"]
            elif "fatal" in msg:
                self.fatal = msg["fatal"]
            else:
                self.progress = msg

    def up(self):
        """True once the page's stream is open; raises if the script
        failed."""
        if self.fatal or (self.proc.poll() is not None and not self.ready):
            raise AssertionError("the Chromium subscriber failed: %s %s" % (
                self.fatal, self.noise[-5:]))
        return self.ready

    def newest(self):
        return int(self.progress.get("newest") or 0)

    def stop(self, timeout=30):
        """Asks the page for what it saw and waits for the script to end;
        returns it (None if it never came)."""
        try:
            self.proc.stdin.write("stop\n")
            self.proc.stdin.flush()
        except OSError:
            pass
        harness.wait_until(lambda: self.final is not None or
                           self.proc.poll() is not None, timeout)
        self.close()
        return self.final

    def close(self):
        try:
            self.proc.stdin.close()     # the script's stop, if not said
        except OSError:
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.reader.join(5)


def http_post(port, token, data):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", "/publish/" + CHANNEL, body=data.encode(),
                     headers={"Content-Type": "text/plain",
                              "Authorization": "Bearer " + token})
        r = conn.getresponse()
        return (r.status, {k.lower(): v for k, v in r.getheaders()},
                r.read())
    finally:
        conn.close()


def read_until_data(c, data, timeout):
    """c's events until one carries data (or the stream ends or timeout
    seconds pass)."""
    got = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not c.eof and \
            not any(e.data == data for e in got):
        got += c.events(1, timeout=0.2)
    return got


def open_streams(host):
    """The streams host's sseq-stream processes hold open now."""
    return sum(p["streams"] for p in host.stats()["processes"]
               if p["role"] == "stream")


def delivered_at(subs, mid):
    """When the first subscriber got id mid (None if none did)."""
    ts = [t for s in subs for i, d, t in s.data() if i == mid]
    return min(ts) if ts else None


class SentinelFailover(harness.TestCase):
    def test_host_and_master_die_under_load(self):
        self.assertEqual(os.geteuid(), 0, "needs root for ip netns")
        stream_util.raise_nofile()
        figures = {}
        with Net(3) as net, SentinelSet(net.gateway) as red:
            hosts = []
            try:
                for k in range(3):
                    h = NetnsHost(net.names[k], net.addrs[k], red.url, "ha",
                                  settings={"stream.retry": 200})
                    hosts.append(h.__enter__())
                self.run_faults(net, red, hosts, figures)
                self.check_secrets(red, hosts)
            finally:
                for h in hosts:
                    h.__exit__(None, None, None)
        print("figures: " + json.dumps(figures, sort_keys=True))

    def run_faults(self, net, red, hosts, figures):
        first = hosts[0].publish_cli("warm-up", "x")
        self.assertTrue(harness.wait_until(
            lambda: all(h.newest() >= first for h in hosts), 20),
            "the first message reaches every host")
        stop, pub_stop = threading.Event(), threading.Event()
        with Front(net.addrs) as front:
            subs = [Subscriber(front.port, "/events?channel=" + CHANNEL,
                               stop) for _ in range(SUBSCRIBERS)] + \
                [Subscriber(front.port, HUB + "?topic=" + CHANNEL, stop)
                 for _ in range(HUB_SUBSCRIBERS)]
            for s in subs:
                s.start()
            self.assertTrue(harness.wait_until(
                lambda: all(s.connects for s in subs), 20),
                "every subscriber connects through the front")
            before = [open_streams(h) for h in hosts]
            page = self.start_chromium(front.port)
            final = pub = None
            try:
                self.assertTrue(harness.wait_until(
                    lambda: page is None or page.up(), 60),
                    "the Chromium subscriber connects through the front")
                victim = self.page_host(hosts, before) if page else 0
                pub = Publisher(front.port, hosts[0].token, pub_stop)
                pub.start()
                self.faults(net, red, hosts, victim, subs, pub, figures)
                pub_stop.set()
                pub.join(15)
                top = max(pub.snapshot())
                harness.wait_until(
                    lambda: all(s.newest() >= top for s in subs) and
                    (page is None or page.newest() >= top), 30)
                final = page and page.stop()
            finally:
                pub_stop.set()
                stop.set()
                if pub is not None:
                    pub.join(15)
                if page is not None:
                    page.close()
                for s in subs:
                    s.join(5)
            self.check(subs, pub, figures)
            if page is not None:
                self.check_chromium(page, final, pub, figures)

    def page_host(self, hosts, before):
        """The host the Chromium page's stream is on (the one whose open
        streams grew by one since before): the host the test kills, so
        the page lives through a host dying."""
        def grown():
            now = [open_streams(h) for h in hosts]
            up = [k for k in range(len(hosts)) if now[k] == before[k] + 1]
            return up if sum(now) == sum(before) + 1 and len(up) == 1 \
                else None
        up = harness.wait_until(grown, 10, step=0.2) and grown()
        self.assertTrue(up, "the Chromium page's stream is on one host")
        return up[0]

    def start_chromium(self, port):
        """The Chromium subscriber on the front, or None where the suite
        does not require a browser; fails naming what is missing."""
        if not chromium_required():
            print("no tests/browser/run here: the Chromium subscriber is "
                  "left out")
            return None
        missing = chromium_missing()
        self.assertEqual(missing, [], "the Chromium subscriber needs "
                         "%s: run `tests/browser/run --deps` as root "
                         "(./scripts/test does)" % ", ".join(missing))
        return ChromiumSubscriber("http://127.0.0.1:%d/events?channel=%s"
                                  % (port, CHANNEL))

    def check_chromium(self, page, final, pub, figures):
        """The page got exactly the acknowledged ids in order, none twice
        (a message whose publish was answered 503 or 502 is ambiguous and
        may come too), each with its own data, and showed no error."""
        self.assertIsNotNone(final, "the Chromium subscriber reported "
                             "nothing: %s %s" % (page.fatal, page.noise[-5:]))
        got = [(int(i), d) for i, d in final["got"]]
        ids = [i for i, d in got]
        self.assertEqual(ids, sorted(set(ids)), "Chromium: ids strictly "
                         "increasing, none twice")
        ambiguous = {r[4] for r in pub.refused}
        acked_all = pub.snapshot()
        extra = [(i, d) for i, d in got if acked_all.get(i) != d]
        self.assertEqual([x for x in extra if x[1] not in ambiguous], [],
                         "Chromium: only acknowledged (or ambiguous) "
                         "messages")
        acked = [i for i, d in got if acked_all.get(i) == d]
        self.assertEqual(acked, sorted(acked_all), "Chromium: the "
                         "acknowledged ids, in order, each once; missing "
                         "%r" % sorted(set(acked_all) - set(acked))[:10])
        self.assertGreaterEqual(final["states"].count("open"), 2,
                                "Chromium: its host died under it and it "
                                "reconnected: %r" % final["states"])
        shown = [e for e in final["errors"] if e["fatal"]]
        self.assertEqual((final["pageErrors"], shown,
                          "closed" in final["states"]), ([], [], False),
                         "Chromium: the page showed no error; states %r"
                         % final["states"][-10:])
        figures["chromium"] = {
            "messages": len(got), "ambiguous_received": len(extra),
            "reconnects": final["states"].count("open") - 1,
            "retried_errors": len(final["errors"]), "gaps": final["gaps"],
            "console_errors": len(final["console"])}

    def check_secrets(self, red, hosts):
        """Neither the nodes' nor the sentinels' password in any host's
        log or in `sseq stats`, which shows them as ***."""
        for h in hosts:
            for log in ("bridge.log", "publish.log", "stream.log",
                        "error.log"):
                text = h.log(log)
                for pw in (red.password, red.sentinel_password):
                    self.assertNotIn(pw, text, "%s of %s" % (log, h.ns))
        shown = hosts[1].sseq_ok("stats").stdout
        self.assertIn("sentinel_password=***", shown)
        self.assertNotIn(red.sentinel_password, shown)
        self.assertNotIn(red.password, shown)

    def wait_delivered_after(self, subs, pub, t, what, timeout=40):
        """Waits until a message published after t reached every
        subscriber; returns seconds from t to its first delivery."""
        def done():
            mid = pub.first_acked_after(t)
            return mid is not None and all(s.newest() >= mid for s in subs)
        self.assertTrue(harness.wait_until(done, timeout),
                        "%s: a message published after it reaches every "
                        "subscriber within %d s" % (what, timeout))
        mid = pub.first_acked_after(t)
        return round(delivered_at(subs, mid) - t, 3)

    def faults(self, net, red, hosts, victim, subs, pub, figures):
        self.assertTrue(harness.wait_until(lambda: len(pub.acked) >= RATE,
                                           20), "publishing works")
        # 1. a host dies: its subscribers move to the others.
        before = [len(s.connects) for s in subs]
        hosts[victim].kill(net)
        t = time.monotonic()    # every process of the host is gone
        self.host_killed = t
        figures["host_kill_to_first_delivery_s"] = \
            self.wait_delivered_after(subs, pub, t, "host killed")
        moved = [s for s, n in zip(subs, before) if len(s.connects) > n]
        self.assertTrue(moved, "some subscribers were on the killed host")
        figures["subscribers_moved"] = len(moved)
        figures["moved_first_event_after_kill_s"] = round(max(
            min(tt for i, d, tt in s.data() if tt > t) - t
            for s in moved), 3)
        time.sleep(1)           # steady load between faults (no assert)
        # 2. the Redis master dies: Sentinel promotes a replica.
        acked_before = len(pub.acked)
        old = red.kill_master()
        t = time.monotonic()    # the master is gone
        figures["master_kill_to_first_delivery_s"] = \
            self.wait_delivered_after(subs, pub, t, "master killed", 60)
        self.assertNotEqual(red.master(), old, "a replica was promoted")
        figures["refused_during_failover"] = sum(
            1 for r in pub.refused if r[0] > t)
        figures["acked_before_master_kill"] = acked_before
        # 3. the dead host comes back, catches up and serves.
        hosts[victim].start()
        top = max(pub.snapshot())
        self.assertTrue(harness.wait_until(
            lambda: hosts[victim].newest() >= top, 30),
            "the restarted host caught up to id %d" % top)
        stop = threading.Event()
        direct = Subscriber(80, "/events?channel=%s" % CHANNEL, stop,
                            addr=net.addrs[victim])
        acked = pub.snapshot()
        direct.last_id = str(min(acked))
        direct.start()
        want = sorted(i for i in acked if i > min(acked) and i <= top)
        ok = harness.wait_until(
            lambda: direct.newest() >= top, 20)
        stop.set()
        direct.join(5)
        self.assertTrue(ok, "the restarted host serves a resume")
        got = [i for i, d, t in direct.data() if i in acked and i <= top]
        self.assertEqual(got, want, "the restarted host replays every "
                         "acknowledged message once, in order")
        self.assertTrue(harness.wait_until(
            lambda: len(pub.acked) >= acked_before + 2 * RATE, 30),
            "publishing goes on after the failover")

    def explain(self, sub, pub, lost):
        """What the subscriber got around each lost id, and when that id
        was published and the subscriber (re)connected, relative to the
        host kill (for the failure message)."""
        t0 = self.host_killed
        got = sub.data()
        out = []
        for i in lost[:3]:
            near = [(j, d, round(t - t0, 3)) for j, d, t in got
                    if abs(j - i) <= 2]
            out.append("id %d (%r sent at %+.3f s): got %r" % (
                i, pub.snapshot()[i], pub.sent_at[i] - t0, near))
        return "; ".join(out) + "; connects at %r, newest %d" % (
            [round(c - t0, 3) for c in sub.connects], sub.newest())

    def check(self, subs, pub, figures):
        refused = [r for r in pub.refused]
        figures["published"] = pub.n
        figures["acknowledged"] = len(pub.acked)
        figures["refused"] = len(refused)
        figures["refused_statuses"] = sorted({r[1] for r in refused})
        figures["refusal_reasons"] = dict(collections.Counter(
            r[3].decode("utf-8", "replace").strip()[:60] for r in refused))
        # The one POST in flight on the host killed may end in the front's
        # 502 (nginx passes no POST it has sent to another host).
        lost_in_flight = [r for r in refused if r[1] == 502 and
                          abs(r[0] - self.host_killed) < 1]
        self.assertLessEqual(len(lost_in_flight), 1, lost_in_flight)
        figures["refused_in_flight_on_killed_host"] = len(lost_in_flight)
        for r in refused:
            if r in lost_in_flight:
                continue
            self.assertEqual(r[1], 503, "a refused publish is 503: %r"
                             % (r,))
            self.assertEqual(r[2], "1", "a 503 has Retry-After: 1: %r"
                             % (r,))
        self.assertEqual(pub.reused, [], "no id acknowledged twice")
        for k, s in enumerate(subs):
            got = s.data()
            ids = [i for i, d, t in got]
            self.assertEqual(ids, sorted(set(ids)), "subscriber %d: ids "
                             "strictly increasing, none twice" % k)
            have = {i: d for i, d, t in got}
            acked = pub.snapshot()
            lost = [i for i in acked if have.get(i) != acked[i]]
            self.assertEqual(lost, [], "subscriber %d: every acknowledged "
                             "message, with its own data; %s; %s" % (
                                 k, self.explain(s, pub, lost), figures))
        figures["reconnects"] = sum(len(s.connects) - 1 for s in subs)
        figures["gap_events"] = sum(1 for s in subs for e in s.events
                                    if e[2] == "sseq-gap")


class UnreplicatedEntry(harness.TestCase):
    """A write the replicas never got (WAIT timed out: 503) is on the old
    master only; the master dies and a replica without it is promoted,
    so the new master hands its id to the next message. No host may have
    delivered the 503'd entry (hosts deliver only acknowledged writes),
    else it would keep it under that id and skip the acknowledged
    message silently."""

    def publish_acked(self, host, data, timeout=30):
        """POSTs data to channel u as a client does: after a 503, again
        with the same Idempotency-Key, until a 202; returns its id."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status, mid, body = host.publish_http("u", data, key=data)
            if status == 202:
                return mid
            self.assertEqual(status, 503, body)
            time.sleep(0.1)             # the client's retry, not a wait
        self.fail("%s: no 202 within %d s" % (data, timeout))

    def test_promoted_replica_lacks_an_unacknowledged_write(self):
        stream_util.raise_nofile()
        with SentinelSet("127.0.0.1") as red, \
                ClusterStack(red.url, "ur") as a, \
                ClusterStack(red.url, "ur") as b:
            first = a.publish_cli("warm-up", "x")
            self.assertTrue(harness.wait_until(
                lambda: a.newest() >= first and b.newest() >= first, 20))
            subs = [h.sse("/events?channel=u") for h in (a, b)]
            id1 = self.publish_acked(a, "m1")
            for port in red.replica_ports:      # cut the replicas off
                red.cli(port, "CONFIG", "SET", "masterauth", "wrong")
                red.cli(port, "CLIENT", "KILL", "TYPE", "master")
            self.assertTrue(harness.wait_until(
                lambda: red.replicas_of(red.master_port) == 0, 10))
            status, _, body = a.publish_http("u", "m2")
            self.assertEqual(status, 503, "WAIT found no replica: %r" % body)
            self.assertIn(b"replicas", body)
            old = red.kill_master()
            for port in red.replica_ports:
                red.cli(port, "CONFIG", "SET", "masterauth", red.password)
            self.assertTrue(harness.wait_until(
                lambda: red.master() not in (None, old), 30),
                "Sentinel promotes a replica")
            id3 = self.publish_acked(b, "m3")
            for c in subs:
                got = read_until_data(c, "m3", 15)
                self.assertEqual([(int(e.id), e.event, e.data)
                                  for e in got],
                                 [(id1, "message", "m1"),
                                  (id3, "message", "m3")],
                                 "the acknowledged messages, once, and "
                                 "not the 503'd one")
                c.close()


class GracefulFailover(harness.TestCase):
    """SENTINEL FAILOVER under steady publishing: the old master lives on
    as a replica, so publishers still connected to it get READONLY and
    must ask the sentinels again; never a write to it, nothing
    acknowledged lost or doubled, 503 + Retry-After meanwhile."""

    def test_manual_failover(self):
        stream_util.raise_nofile()
        stop, pub_stop = threading.Event(), threading.Event()
        with SentinelSet("127.0.0.1") as red, \
                ClusterStack(red.url, "gf") as a, \
                ClusterStack(red.url, "gf") as b:
            first = a.publish_cli("warm-up", "x")
            self.assertTrue(harness.wait_until(
                lambda: a.newest() >= first and b.newest() >= first, 20))
            subs = [Subscriber(h.port, "/events?channel=" + CHANNEL, stop)
                    for h in (a, b)]
            for sub in subs:
                sub.start()
            self.assertTrue(harness.wait_until(
                lambda: all(sub.connects for sub in subs), 20))
            pub = Publisher(a.port, a.token, pub_stop)
            pub.start()
            try:
                self.assertTrue(harness.wait_until(
                    lambda: len(pub.acked) >= RATE // 2, 20))
                old = red.master()
                self.assertIn("OK", red.cli(red.sentinel_ports[0],
                                            "SENTINEL", "FAILOVER",
                                            red.NAME))
                t = time.monotonic()
                self.assertTrue(harness.wait_until(
                    lambda: red.master() not in (None, old), 30))
                self.assertTrue(harness.wait_until(
                    lambda: pub.first_acked_after(t + 1) is not None, 30),
                    "publishing resumes after the failover")
                pub_stop.set()
                pub.join(15)
                top = max(pub.snapshot())
                harness.wait_until(lambda: all(sub.newest() >= top
                                               for sub in subs), 20)
            finally:
                pub_stop.set()
                stop.set()
                pub.join(15)
                for sub in subs:
                    sub.join(5)
            self.assertTrue(harness.wait_until(
                lambda: "role:slave" in red.cli(old, "INFO", "replication"),
                30), "the old master lives on as a replica")
            for r in pub.refused:
                self.assertEqual((r[1], r[2]), (503, "1"), r)
            for k, sub in enumerate(subs):
                got = sub.data()
                ids = [i for i, d, tt in got]
                self.assertEqual(ids, sorted(set(ids)), "host %d" % k)
                have = {i: d for i, d, tt in got}
                acked = pub.snapshot()
                self.assertEqual([i for i in acked
                                  if have.get(i) != acked[i]], [],
                                 "host %d: every acknowledged message" % k)
            mid = pub.first_acked_after(t)
            print("graceful: first delivery %.3f s after SENTINEL FAILOVER,"
                  " %d acknowledged, %d refused: %s" % (
                      delivered_at(subs, mid) - t,
                      len(pub.acked), len(pub.refused), dict(collections.Counter(
                    r[3].decode("utf-8", "replace").strip()[:70]
                    for r in pub.refused))))


class SentinelAuth(harness.TestCase):
    """Sentinels with a password of their own (requirepass): sseq AUTHs
    to them with the URL's ?sentinel_password=; without it, or with a
    wrong one, a publish fails naming what to change in the URL and
    never quoting a password, not even when the server echoes it (an
    unknown AUTH: Redis quotes the arguments of a command it lacks)."""

    def publish_with(self, url):
        """`sseq publish` on a stack whose cluster.redis is url."""
        with harness.Stack(settings={"cluster.redis": url,
                                     "cluster.timeout_ms": 5000},
                           stream_procs=1, publish_procs=0) as st:
            return st.sseq("publish", "a", "x")

    def test_sentinel_password(self):
        with SentinelSet("127.0.0.1") as red:
            good = red.url
            head = good[:good.index("?sentinel_password=")]
            r = self.publish_with(good)
            self.assertEqual(r.returncode, 0, r.stderr)
            cases = [(head, "requires a password"),
                     (head + "?sentinel_password=wrong-" +
                      red.sentinel_password[3:], "refused the URL's "
                      "sentinel_password")]
            for url, why in cases:
                r = self.publish_with(url)
                self.assertEqual(r.returncode, 1, r.stdout)
                self.assertIn(why, r.stderr)
                for pw in (red.password, red.sentinel_password[3:]):
                    self.assertNotIn(pw, r.stderr + r.stdout)

    def test_auth_unknown_hides_the_reply(self):
        """As a sentinel and as the master (redis://)."""
        pw = "echoed-" + secrets.token_urlsafe(12)
        with Redis(args=["--rename-command", "AUTH", ""]) as old:
            for url, why in (
                    ("redis+sentinel://127.0.0.1:%d/m?sentinel_password=%s"
                     % (old.port, pw), "AUTH failed (the reply is not shown"),
                    ("redis://:%s@127.0.0.1:%d/0" % (pw, old.port),
                     "AUTH refused (the reply is not shown")):
                r = self.publish_with(url)
                self.assertEqual(r.returncode, 1, r.stdout)
                self.assertIn(why, r.stderr)
                self.assertNotIn(pw, r.stderr + r.stdout)


if __name__ == "__main__":
    harness.main()
