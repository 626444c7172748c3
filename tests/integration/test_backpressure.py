#!/usr/bin/env python3
"""test_backpressure.py -- a publisher learns it outruns the subscribers
(publish.max_lag_ms, publish_lag.h), through nginx: with the only
sseq-stream worker stopped (SIGSTOP: its pump falls behind by as long as
it stays stopped), a flood of POST /publish gets 503 + Retry-After naming
the lag and the setting, so does the Mercure hub, and `sseq publish`
exits 75 naming both; nothing refused is written; once the worker runs
again every acknowledged message reaches the subscriber, in order, and
publishing is accepted again. No timings are asserted: the test waits for
the refusal and for the delivery, each with a generous bound."""
import contextlib
import http.client
import json
import os
import signal
import time

import harness
import stream_util
from hub_util import HUB, KEY, form, publisher

MAX_LAG_MS = 300
SETTINGS = {
    "publish.max_lag_ms": MAX_LAG_MS,
    "mercure.publisher_jwt_key": KEY,
    "mercure.subscriber_jwt_key": KEY,
}
FLOOD_MAX = 5000            # POSTs at most before the first refusal


@contextlib.contextmanager
def fanout(settings):
    """A stack with one sseq-stream worker and a subscriber of channel bp
    that got a first message (so the pump went round its loop and its
    beat is fresh): yields (stack, subscriber)."""
    with harness.Stack(settings=settings, stream_procs=1,
                       publish_procs=1) as st:
        sub = st.sse("/events?channel=bp")
        try:
            assert stream_util.wait_streams(st, 1, 10), "no stream opened"
            first = st.publish_cli("bp", "first")
            got = [e.id for e in sub.events(1, 10)]
            assert got == [str(first)], "the first message: %r" % got
            yield st, sub
        finally:
            sub.close()


@contextlib.contextmanager
def stopped(st):
    """The stack's one sseq-stream worker stopped (SIGSTOP: its pump falls
    behind) for the block, running again (SIGCONT) after it."""
    [worker] = st.stream_pids()
    os.kill(worker, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(worker, signal.SIGCONT)


class Backpressure(harness.TestCase):

    def post(self, conn, st, data):
        """One POST /publish/bp on conn: (status, headers, body text)."""
        conn.request("POST", "/publish/bp", body=data.encode(),
                     headers={"Content-Type": "text/plain",
                              "Authorization": "Bearer " + st.token})
        r = conn.getresponse()
        return (r.status, {k.lower(): v for k, v in r.getheaders()},
                r.read().decode())

    def flood(self, st):
        """POSTs m0, m1, ... until one is refused; returns the ids of the
        accepted ones (data -> id) and the refusal."""
        conn = http.client.HTTPConnection("127.0.0.1", st.port, timeout=30)
        accepted = {}
        try:
            for k in range(FLOOD_MAX):
                status, hdrs, text = self.post(conn, st, "m%d" % k)
                if status == 202:
                    accepted["m%d" % k] = json.loads(text)["id"]
                    continue
                return accepted, (status, hdrs, text, "m%d" % k)
        finally:
            conn.close()
        self.fail("%d POSTs to a stopped fan-out were all accepted" %
                  FLOOD_MAX)

    def check_refusal(self, status, hdrs, text):
        self.assertEqual(status, 503, text)
        self.assertGreaterEqual(int(hdrs.get("retry-after", "0")), 1,
                                "a refusal carries Retry-After: %r" % hdrs)
        self.assertIn("publish.max_lag_ms %d" % MAX_LAG_MS, text)
        self.assertIn("ms behind", text)

    def test_flood_refused_nothing_lost(self):
        with fanout(SETTINGS) as (st, sub):
            token = publisher()
            with stopped(st):
                accepted, refusal = self.flood(st)
                self.check_refusal(*refusal[:3])
                appends = st.stats()["appends"]
                status, hdrs, raw = st.http(
                    "POST", HUB, body=form([("topic", "bp"),
                                            ("data", "hub")]),
                    headers={"Content-Type":
                             "application/x-www-form-urlencoded",
                             "Authorization": "Bearer " + token})
                self.check_refusal(status, hdrs, raw.decode())
                cli = st.sseq("publish", "bp", "cli")
                self.assertEqual(cli.returncode, 75, cli.stderr)
                self.assertIn("publish.max_lag_ms %d" % MAX_LAG_MS,
                              cli.stderr)
                self.assertEqual(len(cli.stderr.strip().splitlines()),
                                 1, "one line: %r" % cli.stderr)
                self.assertEqual(st.stats()["appends"], appends,
                                 "a refused publish writes nothing")
            want = sorted(accepted.items(), key=lambda kv: int(kv[1]))
            got = sub.events(len(want), timeout=60)
            self.assertEqual([(e.data, e.id) for e in got],
                             [(d, str(i)) for d, i in want],
                             "every acknowledged message, in order")
            # Caught up: publishing is accepted again (the lag is
            # measured afresh at each publish).
            again = None
            deadline = time.monotonic() + 30
            while again is None and time.monotonic() < deadline:
                r = st.sseq("publish", "bp", "again")
                if r.returncode == 0:
                    again = r.stdout.strip()
                else:
                    self.assertEqual(r.returncode, 75, r.stderr)
                    time.sleep(0.05)
            self.assertIsNotNone(again, "publishing resumes")
            self.assertEqual([(e.data, e.id) for e in sub.events(1, 10)],
                             [("again", again)],
                             "nothing refused was delivered")

    def test_off(self):
        """publish.max_lag_ms = 0: a stopped fan-out refuses nothing."""
        with fanout({"publish.max_lag_ms": 0}) as (st, sub), stopped(st):
            # For well past the other test's limit (1 s against 300 ms;
            # no timing is asserted), all accepted.
            t0 = time.monotonic()
            while time.monotonic() - t0 < 1.0:
                r = st.sseq("publish", "bp", "x")
                self.assertEqual(r.returncode, 0, r.stderr)


if __name__ == "__main__":
    harness.main()
