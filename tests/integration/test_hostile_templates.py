#!/usr/bin/env python3
"""test_hostile_templates.py -- anonymous URI templates cannot stall
sseq-stream (through real nginx + spawn-fcgi, one stream worker): a
victim /events stream beside 100 anonymous hub streams whose selectors
are the costliest the pattern budgets accept (some replaying every
retained record) gets every event of 20 messages/s, and the worker
still answers new streams; a selector, an anonymous stream or the
process over its budget is refused (400, 400, 503 + Retry-After) with a
reason naming the setting. Publisher and subscriber tokens are minted by
python3-jwt (hub_util)."""
import threading
import time
import urllib.parse

import harness
import hub_util

ATTACKERS = 100
REPLAYERS = 10                  # of them, lastEventID=earliest
PREFILL = 1000                  # records retained before they come
RATE = 20                       # victim messages a second
SECONDS = 5
LONG = "https://example.com/" + "a" * 200     # a 220-byte topic
VICTIM = "vic:tim"              # the ':' stops every attacker's scan


def hub(*topics, **params):
    q = [("topic", t) for t in topics] + sorted(params.items())
    return hub_util.HUB + "?" + urllib.parse.urlencode(q)


def chain(k, n):
    """n simple expressions, cost n: on a URL each stops at the ':', so
    no shortcut applies (no literal to check first or last, the end never
    reached) and every expression scans the whole topic."""
    return "".join("{k%da%d}" % (k, i) for i in range(n))


def wide(k, n):
    """One expression of n variables, cost 2 + 4n, the same way."""
    return "{" + ",".join("k%dv%d" % (k, i) for i in range(n)) + "}"


def costliest(k):
    """Stream k's selector: about the most an anonymous stream may cost
    (mercure.anonymous_pattern_cost, 32 by default: cost 32 or 30), in
    one of the two shapes."""
    return chain(k, 32) if k % 2 == 0 else wide(k, 7)


def stack():
    return harness.Stack(settings={
        "mercure.publisher_jwt_key": hub_util.KEY,
        "mercure.subscriber_jwt_key": hub_util.KEY,
    }, stream_procs=1, publish_procs=1)


class HostileTemplates(harness.TestCase):

    def refused(self, st, path, status, setting, headers=None):
        c = st.sse(path, headers=headers)
        self.assertEqual(c.status, status, "%s: %d" % (setting, c.status))
        self.assertTrue(c.closed(10))
        self.assertIn(setting, c.body(), "the reason names the setting")
        return c

    def prefill(self, st, n):
        """n hub records with the long topic, in 4 threads."""
        tok = hub_util.publisher()
        errors = []

        def post(lo, hi):
            for i in range(lo, hi):
                status = hub_util.post_hub(
                    st, hub_util.form([("topic", LONG), ("data", "f%d" % i)]),
                    tok)[0]
                if status != 200:
                    errors.append(status)
        ts = [threading.Thread(target=post, args=(k * n // 4,
                                                  (k + 1) * n // 4))
              for k in range(4)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        self.assertEqual(errors, [])

    def test_budgets_refuse_with_the_setting(self):
        with stack() as st:
            self.refused(st, hub(chain(0, 65)), 400,
                         "mercure.selector_cost_max")
            self.refused(st, hub(chain(1, 20), chain(2, 20)), 400,
                         "mercure.anonymous_pattern_cost")
            tok = hub_util.mint({"mercure": {"subscribe": []}})
            ok = st.sse(hub(chain(1, 20), chain(2, 20)),
                        headers={"Authorization": "Bearer " + tok})
            self.assertEqual(ok.status, 200, "a token holder's budget is "
                             "mercure.stream_pattern_cost (512)")
            self.refused(st, hub(*[wide(k, 15) for k in range(9)]), 400,
                         "mercure.stream_pattern_cost",
                         headers={"Authorization": "Bearer " + tok})
            exact = st.sse(hub("https://example.com/books/1"))
            self.assertEqual(exact.status, 200, "exact topics cost nothing")

    def test_victim_gets_everything_beside_attackers(self):
        with stack() as st:
            self.prefill(st, PREFILL)
            victim = st.sse("/events?channel=" + VICTIM)
            self.assertEqual(victim.status, 200)
            attackers = []
            for k in range(ATTACKERS):
                extra = {"lastEventID": "earliest"} if k < REPLAYERS else {}
                c = st.sse(hub(costliest(k), **extra), timeout=30)
                self.assertEqual(c.status, 200, "attacker %d admitted: its "
                                 "selector fits the budgets" % k)
                attackers.append(c)
            t0 = time.monotonic()
            for i in range(RATE * SECONDS):
                st.sseq_ok("publish", "--topic", "%s/%d" % (LONG, i),
                           VICTIM, "v%d" % i)       # a new topic each time
                pause = t0 + (i + 1) / RATE - time.monotonic()
                if pause > 0:
                    time.sleep(pause)       # pacing the publisher
            got = [e.data for e in victim.events(RATE * SECONDS,
                                                 timeout=60)]
            self.assertEqual(got, ["v%d" % i for i in range(RATE * SECONDS)],
                             "every victim event arrives, in order")
            fresh = st.sse("/events?channel=after", timeout=30)
            self.assertEqual(fresh.status, 200, "the worker answers a new "
                             "stream")
            st.publish_cli("after", "a1")
            self.assertEqual([e.data for e in fresh.events(1, timeout=30)],
                             ["a1"])
            # The process's budget (4096) is full at 128 such streams.
            full = None
            for k in range(ATTACKERS, ATTACKERS + 40):
                c = st.sse(hub(costliest(k)), timeout=30)
                if c.status != 200:
                    full = c
                    break
                attackers.append(c)
            self.assertIsNotNone(full, "the process's budget fills up")
            self.assertEqual(full.status, 503)
            self.assertIn("retry-after", full.headers)
            self.assertTrue(full.closed(10))
            self.assertIn("mercure.process_pattern_cost", full.body())
            for c in attackers:
                c.close()

            def admitted():
                c = st.sse(hub(costliest(999)))
                c.close()
                return c.status == 200
            st.wait_for(admitted, "the budget given back when the "
                        "attackers leave")


if __name__ == "__main__":
    harness.main()
