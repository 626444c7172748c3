#!/usr/bin/env python3
"""test_mercure_urlpattern.py -- Mercure 1.0's match_urlpattern= through
real nginx + spawn-fcgi: the spec's Subscription example (match= beside
match_urlpattern=), named groups, wildcards, regexp groups and modifiers
matching and not matching, relative patterns and relative topics against
the hub's URL (the request's, then mercure.hub_url), the replay of a
resuming stream and the plain CGI loop, bad patterns and refused
constructs answered 400 naming the culprit, and pathological
patterns (nested quantifiers, many wildcards) against 1000-byte topics
answered while the one stream worker keeps serving a victim stream."""
import os
import select
import subprocess
import time
import urllib.parse

import harness
import hub_util

HUB = hub_util.HUB
LONG = "https://example.com/" + "a" * 990    # ~mercure.topic_max (1024)


def v1(*pairs):
    return HUB + "?" + urllib.parse.urlencode(pairs)


def stack(**settings):
    conf = {"mercure.publisher_jwt_key": hub_util.KEY}
    conf.update(settings)
    return harness.Stack(settings=conf, stream_procs=1, publish_procs=1)


def post(st, topic, data):
    """Publishes through the hub (relative topics are the hub's: the CLI
    takes only absolute ones)."""
    status, _, body = hub_util.post_hub(
        st, hub_util.form([("topic", topic), ("data", data)]),
        hub_util.publisher())
    if status != 200:
        raise RuntimeError("POST %s: %d %s" % (topic, status, body))


def publish(st, topic, data, *alts):
    args = ["publish"]
    for a in alts:
        args += ["--topic", a]
    st.sseq_ok(*(args + [topic, data]))


class UrlPattern(harness.TestCase):

    def datas(self, c, marker, timeout=10):
        """The data of every event c gets up to marker's (which must
        come within timeout seconds)."""
        out = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for e in c.events(1, timeout=deadline - time.monotonic()):
                out.append(e.data)
                if e.data == marker:
                    return out
        self.fail("marker %r never came; got %r" % (marker, out))

    def refused(self, st, path, *words):
        status, _, body = st.http("GET", path)
        self.assertEqual(status, 400, body)
        for w in words:
            self.assertIn(w.encode(), body, "the reason names %r" % w)

    def test_spec_example(self):
        """The spec's EventSource example: match= twice and a
        match_urlpattern= on one stream."""
        with stack() as st:
            c = st.sse(v1(("match", "https://example.com/foo"),
                          ("match", "bar"),
                          ("match_urlpattern",
                           "https://example.com/bar/:id")))
            self.assertEqual(c.status, 200, c.body())
            publish(st, "https://example.com/bar/1", "bar1")
            publish(st, "https://example.com/bar/1/reviews", "no-sub")
            publish(st, "https://example.com/baz/1", "no-baz")
            publish(st, "bar", "bar")
            publish(st, "https://example.com/foo", "foo")
            publish(st, "urn:x", "alt-bar2", "https://example.com/bar/2")
            publish(st, "https://example.com/bar/end", "end")
            self.assertEqual(self.datas(c, "end"),
                             ["bar1", "bar", "foo", "alt-bar2", "end"])
            c.close()

    def test_syntax(self):
        """Named groups, wildcards, regexp groups, modifiers, groups,
        hostname wildcards, search: each with a topic it matches and one
        it does not."""
        rows = [
            ("https://example.com/books/:id(\\d+)",
             "https://example.com/books/42", "https://example.com/books/x"),
            ("https://u.example/users/42/*",
             "https://u.example/users/42/books/1",
             "https://u.example/users/43/books/1"),
            ("https://p.example/p/:a+",
             "https://p.example/p/x/y/z", "https://p.example/p"),
            ("https://q.example/p{/:opt}?/end",
             "https://q.example/p/end", "https://q.example/p/x/y/end"),
            ("http{s}?://{*.}?example.org/:x",
             "http://a.b.example.org/q", "ftp://example.org/q"),
            ("https://s.example/s\\?q=:v",
             "https://s.example/s?q=1", "https://s.example/s?r=1"),
            ("https://C.EXAMPLE/Books",
             "https://c.example/Books", "https://c.example/books"),
        ]
        with stack() as st:
            subs = [st.sse(v1(("match_urlpattern", pat)))
                    for pat, _, _ in rows]
            for c, (pat, _, _) in zip(subs, rows):
                self.assertEqual(c.status, 200, "%s: %s" % (pat, c.body()))
            for i, (_, yes, no) in enumerate(rows):
                publish(st, no, "no%d" % i)
                publish(st, yes, "yes%d" % i)
            for i, c in enumerate(subs):
                self.assertEqual(self.datas(c, "yes%d" % i), ["yes%d" % i],
                                 rows[i][0])
                c.close()

    def test_relative(self):
        """A relative pattern and relative topics resolve against the
        hub's URL: the request's (http://127.0.0.1:PORT/.well-known/
        mercure), or mercure.hub_url when set."""
        with stack() as st:
            rel = st.sse(v1(("match_urlpattern", "/books/:id")))
            sib = st.sse(v1(("match_urlpattern", "subscriptions/*")))
            absolute = st.sse(v1(("match_urlpattern",
                                  "https://example.com/books/:id")))
            for c in (rel, sib, absolute):
                self.assertEqual(c.status, 200, c.body())
            here = "http://127.0.0.1:%d" % st.port
            post(st, "/books/1", "rel1")
            publish(st, here + "/books/2", "abs2")
            publish(st, "https://example.com/books/3", "other3")
            post(st, "/books/4/x", "deep4")
            post(st, "/.well-known/subscriptions/a", "sib")
            post(st, "books/5", "rel5")    # /.well-known/books/5
            post(st, "/books/end", "end")
            self.assertEqual(self.datas(rel, "end"), ["rel1", "abs2", "end"])
            self.assertEqual(self.datas(sib, "sib"), ["sib"])
            publish(st, "https://example.com/books/mark", "mark")
            self.assertEqual(self.datas(absolute, "mark"),
                             ["other3", "mark"])
        with stack(**{"mercure.hub_url":
                      "https://example.com/.well-known/mercure"}) as st:
            rel = st.sse(v1(("match_urlpattern", "/books/:id")))
            self.assertEqual(rel.status, 200, rel.body())
            publish(st, "http://127.0.0.1:%d/books/1" % st.port, "here")
            publish(st, "https://example.com/books/2", "set2")
            post(st, "/books/3", "rel3")
            self.assertEqual(self.datas(rel, "rel3"), ["set2", "rel3"])

    def test_resume_and_cgi(self):
        """The replay of a resuming stream (last_event_id=earliest) and
        the plain CGI loop match URL patterns as the live pump does."""
        with stack() as st:
            publish(st, "https://example.com/books/1", "b1")
            publish(st, "https://example.com/films/1", "f1")
            publish(st, "urn:x", "b2", "https://example.com/books/2")
            back = st.sse(v1(("match_urlpattern",
                              "https://example.com/books/:id"),
                             ("last_event_id", "earliest")))
            self.assertEqual(back.status, 200, back.body())
            publish(st, "https://example.com/books/3", "b3")
            self.assertEqual(self.datas(back, "b3"), ["b1", "b2", "b3"])
            back.close()
            env = dict(os.environ, GATEWAY_INTERFACE="CGI/1.1",
                       REQUEST_METHOD="GET", DOCUMENT_URI=HUB,
                       REQUEST_SCHEME="https", HTTP_HOST="hub.example",
                       QUERY_STRING=urllib.parse.urlencode(
                           [("match_urlpattern", "/books/:id")]),
                       SSEQ_CONF=st.conf_path)
            p = subprocess.Popen([harness.binary("sseq-stream")],
                                 stdin=subprocess.DEVNULL,
                                 stdout=subprocess.PIPE, env=env)
            try:
                out = self.read_until(p, b"retry:")
                self.assertTrue(out.startswith(b"Status: 200"), out)
                publish(st, "https://hub.example/books/1", "abs")
                publish(st, "https://other.example/books/2", "other")
                post(st, "/books/3", "rel")
                out = self.read_until(p, b"data: rel\n", out)
                self.assertIn(b"data: abs\n", out)
                self.assertNotIn(b"data: other", out)
            finally:
                if p.poll() is None:
                    p.kill()
                    p.wait()
                p.stdout.close()

    def read_until(self, p, want, got=b"", timeout=30):
        """Reads p's stdout until it holds want; fails if it ends first
        or want has not come within timeout seconds."""
        deadline = time.monotonic() + timeout
        while want not in got:
            left = deadline - time.monotonic()
            ready = select.select([p.stdout], [], [], max(left, 0))[0]
            self.assertTrue(ready, "%r did not come: %r" % (want, got))
            chunk = os.read(p.stdout.fileno(), 4096)
            self.assertTrue(chunk, "stdout ended early: %r" % got)
            got += chunk
        return got

    def test_bad_patterns(self):
        """A pattern that is not one, or that uses a construct with no
        linear-time automaton, or costs too much: 400 naming it."""
        with stack() as st:
            self.refused(st, v1(("match_urlpattern",
                                 "https://example.com/(a\\1)")),
                         "match_urlpattern", "backreference")
            self.refused(st, v1(("match_urlpattern",
                                 "https://example.com/((?=a)b)")),
                         "lookahead")
            self.refused(st, v1(("match_urlpattern",
                                 "https://example.com/((?<!a)b)")),
                         "lookbehind")
            self.refused(st, v1(("match_urlpattern",
                                 "https://example.com/:id/:id")),
                         "duplicate group name")
            self.refused(st, v1(("match_urlpattern",
                                 "https://example.com/((a))")),
                         "capturing group")
            self.refused(st, v1(("match_urlpattern",
                                 "https://example.com/(a{99}b{99})")),
                         "mercure.selector_cost_max")
            self.refused(st, v1(("match_urlpattern", "https://exa mple/")),
                         "hostname")
            self.refused(st, v1(("match_urlpattern", "")),
                         "match_urlpattern")
            self.refused(st, v1(("match_regex", "a.*")),
                         "unsupported topic matcher", "match_regex")
            ok = st.sse(v1(("match_urlpattern", "https://example.com/*")))
            self.assertEqual(ok.status, 200, "the worker still serves")

    def test_pathological_beside_a_victim(self):
        """Nested quantifiers and many wildcards against 1000-byte topics:
        each pattern stream gets what it matches, and the one worker keeps
        serving a victim /events stream and new streams meanwhile."""
        pats = [
            "https://example.com/((?:a+)+)b",
            "https://example.com/:x((?:a|a)*)b",
            "https://example.com/*a*a*a*a*a*a*a*a*b",
            "https://example.com/(.*a.*a.*a.*a.*a.*a.*a.*a)b",
        ]
        with stack(**{"mercure.anonymous_pattern_cost": 512}) as st:
            victim = st.sse("/events?channel=victim")
            self.assertEqual(victim.status, 200)
            attackers = []
            for k in range(20):
                c = st.sse(v1(("match_urlpattern", pats[k % len(pats)]),
                              ("match", "urn:k%d" % k)), timeout=30)
                self.assertEqual(c.status, 200, c.body())
                attackers.append(c)
            for i in range(40):
                publish(st, LONG + "%d" % i, "long%d" % i)  # no b: no match
                st.publish_cli("victim", "v%d" % i)
            publish(st, LONG + "b", "hit")
            got = [e.data for e in victim.events(40, timeout=60)]
            self.assertEqual(got, ["v%d" % i for i in range(40)],
                             "the victim gets every event, in order")
            for c in attackers:
                self.assertEqual(self.datas(c, "hit", timeout=60), ["hit"],
                                 "a pathological pattern answers")
            fresh = st.sse("/events?channel=after", timeout=30)
            self.assertEqual(fresh.status, 200)
            st.publish_cli("after", "a1")
            self.assertEqual([e.data for e in fresh.events(1, timeout=30)],
                             ["a1"])
            for c in attackers + [victim, fresh]:
                c.close()


if __name__ == "__main__":
    harness.main()
