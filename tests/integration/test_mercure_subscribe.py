#!/usr/bin/env python3
"""test_mercure_subscribe.py -- subscribing on the Mercure hub
(GET /.well-known/mercure) through real nginx + spawn-fcgi: the spec's
Subscription examples (exact, templates, {?topic}, *, several selectors,
once-only delivery, alternates), resume (hub id, publisher id, earliest,
the Last-Event-ID answer), the crossing with /events and /publish, and
authorization (anonymous, private updates by claims, bad tokens, the
query parameter and the cookie, CORS with credentials, exp ending the
stream). Tokens are minted by python3-jwt (Debian's /usr/bin/python3, or
$SSEQ_JWT_PYTHON)."""
import json
import os
import subprocess
import time
import urllib.parse

import harness

JWT_PYTHON = os.environ.get("SSEQ_JWT_PYTHON", "/usr/bin/python3")
SECRET = "sub-key-7f3a9c21e4b85d60a1c9f2e7b3d84a56"
OTHER = "another-key-0c4e8a2f6b1d9e3c7a5f0b2d4e6c8a1f"
HUB = "/.well-known/mercure"
ORIGIN = "https://app.example"
BOOK = "https://example.com/books/%d"

MINT = """
import json, sys, jwt
claims, key, alg = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]
print(jwt.encode(claims, None if alg == "none" else key, algorithm=alg))
"""


def mint(subscribe=None, key=SECRET, alg="HS256", exp=None):
    """A token made by python3-jwt with mercure.subscribe = subscribe."""
    claims = {"mercure": {"subscribe": subscribe or []}}
    if exp is not None:
        claims["exp"] = int(exp)
    r = subprocess.run([JWT_PYTHON, "-c", MINT, json.dumps(claims), key,
                        alg], capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise RuntimeError("minting a token: " + r.stderr)
    return r.stdout.strip()


def hub_path(*topics, **params):
    q = [("topic", t) for t in topics] + sorted(params.items())
    return HUB + "?" + urllib.parse.urlencode(q)


def stack(**settings):
    conf = {"mercure.subscriber_jwt_key": SECRET,
            "mercure.cors_credentials_origins": [ORIGIN],
            "cors_origins": ["https://plain.example"]}
    conf.update(settings)
    return harness.Stack(settings=conf, stream_procs=2, publish_procs=1)


def publish(st, topic, data, *alts, private=False, pub_id=None,
            retry=None, event=None):
    """`sseq publish` with the Mercure options; returns the hub id."""
    args = ["publish"]
    for a in alts:
        args += ["--topic", a]
    if private:
        args.append("--private")
    if pub_id:
        args += ["--id", pub_id]
    if retry:
        args += ["--retry", str(retry)]
    if event:
        args += ["--event", event]
    return int(st.sseq_ok(*(args + [topic, data])).stdout.strip())


class Subscribe(harness.TestCase):

    def datas(self, c, marker, timeout=5):
        """The data of every event c gets up to the one whose data is
        marker (which must come)."""
        out = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for e in c.events(1, timeout=deadline - time.monotonic()):
                out.append(e.data)
                if e.data == marker:
                    return out
        self.fail("marker %r never came; got %r" % (marker, out))

    def test_spec_selectors(self):
        with stack() as st:
            exact = st.sse(hub_path(BOOK % 1))
            tpl = st.sse(hub_path("https://example.com/books/{id}"))
            query = st.sse(hub_path("https://example.com/books/1{?topic}"))
            every = st.sse(hub_path("*"))
            several = st.sse(hub_path("https://example.com/reviews/{id}",
                                      BOOK % 2))
            for c in (exact, tpl, query, every, several):
                self.assertEqual(c.status, 200)
                self.assertEqual(c.headers["content-type"],
                                 "text/event-stream; charset=utf-8")
            publish(st, BOOK % 1, "b1")
            publish(st, BOOK % 2, "b2")
            publish(st, "https://example.com/reviews/9", "r9")
            publish(st, "https://example.com/books/1?topic=x", "b1q")
            publish(st, "urn:end", "end")
            self.assertEqual(self.datas(every, "end"),
                             ["b1", "b2", "r9", "b1q", "end"])
            publish(st, BOOK % 1, "mark")
            self.assertEqual(self.datas(exact, "mark"), ["b1", "mark"])
            self.assertEqual(self.datas(tpl, "mark"), ["b1", "b2", "mark"])
            self.assertEqual(self.datas(query, "mark"),
                             ["b1", "b1q", "mark"])
            publish(st, BOOK % 2, "mark2")
            self.assertEqual(self.datas(several, "mark2"),
                             ["b2", "r9", "mark2"])

    def test_v1_dialect(self):
        """Mercure 1.0 on the same hub URL as v0.x: match= is byte-exact
        (a template is a plain topic), "*" is every topic, last_event_id=
        resumes and Mercure-Last-Event-ID answers; match* names the hub
        does not support are a 400 naming the parameter
        (match_urlpattern=: test_mercure_urlpattern.py)."""
        def v1(*pairs):
            return HUB + "?" + urllib.parse.urlencode(pairs)

        with stack() as st:
            exact = st.sse(v1(("match", BOOK % 1),
                              ("match", "https://example.com/books/{id}")))
            every = st.sse(v1(("match_exact", "*")))
            mixed = st.sse(v1(("topic", "https://example.com/books/{id}"),
                              ("match", "urn:end")))
            a = publish(st, BOOK % 1, "b1", pub_id="urn:b1")
            publish(st, BOOK % 2, "b2")
            publish(st, "https://example.com/books/{id}", "literal")
            publish(st, "urn:end", "end")
            self.assertEqual(self.datas(exact, "literal"), ["b1", "literal"])
            self.assertEqual(self.datas(every, "end"),
                             ["b1", "b2", "literal", "end"])
            self.assertEqual(self.datas(mixed, "end"), ["b1", "b2", "end"],
                             "topic= is still a v0.x template ({id} does "
                             "not expand to a brace)")
            back = st.sse(v1(("match", "*"), ("last_event_id", "urn:b1")))
            self.assertEqual(back.headers.get("mercure-last-event-id"),
                             "urn:b1")
            self.assertEqual(self.datas(back, "end"),
                             ["b2", "literal", "end"])
            for path, culprit in (
                    (v1(("match_regex", "https://e/.*")),
                     "match_regex"),
                    (v1(("match", "a"), ("Match", "b")), "Match")):
                status, _, body = st.http("GET", path)
                self.assertEqual(status, 400, body)
                self.assertIn(culprit.encode(), body)
            self.assertTrue(a > 0)
            for c in (exact, every, mixed, back):
                c.close()

    def test_once_and_alternates(self):
        with stack() as st:
            many = st.sse(hub_path("*", BOOK % 1,
                                   "https://example.com/books/{id}",
                                   "https://example.com/users/{u}/books",
                                   "chat.lobby"))
            alt = st.sse(hub_path("https://example.com/users/7/books"))
            publish(st, BOOK % 1, "one", "https://example.com/users/7/books",
                    "chat.lobby", "https://example.com/users/8/books")
            publish(st, "urn:other", "other")
            publish(st, BOOK % 3, "mark", "https://example.com/users/7/books")
            self.assertEqual(self.datas(many, "mark"),
                             ["one", "other", "mark"],
                             "one update matched by several selectors and "
                             "topics must come once")
            self.assertEqual(self.datas(alt, "mark"), ["one", "mark"])

    def test_fields(self):
        with stack() as st:
            c = st.sse(hub_path("t:1"))
            ev = st.sse("/events?channel=chat&channel=plain")
            publish(st, "t:1", "x", "chat", pub_id="urn:uuid:a-1",
                    retry=2500, event="upd")
            hid = publish(st, "t:1", "y", "plain")
            got = c.events(2)
            self.assertEqual(got, [harness.Event("urn:uuid:a-1", "upd", "x"),
                                   harness.Event(str(hid), "message", "y")])
            self.assertIn("retry: 2500\n", c.body())
            self.assertEqual(c.parser.retry, 2500)
            self.assertEqual([e.id for e in ev.events(2)],
                             [str(hid - 1), str(hid)],
                             "/events keeps numeric ids")

    def resume(self, st, topic, last, header=True):
        hdr = {"Last-Event-ID": last} if header else {}
        params = {} if header else {"lastEventID": last}
        return st.sse(hub_path(topic, **params), headers=hdr)

    def test_resume(self):
        with stack() as st:
            a = publish(st, "r:1", "a", pub_id="urn:a")
            b = publish(st, "r:1", "b")
            publish(st, "r:other", "x")
            c = publish(st, "r:1", "c", pub_id="urn:c")
            for last, want, hdr in (
                    ("urn:a", ["b", "c"], "urn:a"),
                    (str(b), ["c"], str(b)),
                    ("earliest", ["a", "b", "c"], "earliest")):
                for header in (True, False):
                    s = self.resume(st, "r:1", last, header)
                    self.assertEqual(s.headers.get("last-event-id"), hdr)
                    publish(st, "r:1", "live")
                    self.assertEqual(self.datas(s, "live"), want + ["live"])
                    s.close()
            both = st.sse(hub_path("r:1", lastEventID="earliest"),
                          headers={"Last-Event-ID": "urn:c"})
            self.assertEqual(both.headers.get("last-event-id"), "urn:c",
                             "the header wins over lastEventID")
            newest = publish(st, "r:1", "newest", pub_id="urn:newest")
            s = self.resume(st, "r:1", "urn:unknown")
            self.assertEqual(s.headers.get("last-event-id"), "urn:newest",
                             "unknown id: live, answered with the newest")
            publish(st, "r:1", "after")
            self.assertEqual(self.datas(s, "after"), ["after"])
            hidden = publish(st, "r:2", "p", private=True, pub_id="urn:p")
            s = self.resume(st, "r:1", "urn:unknown")
            self.assertEqual(s.headers.get("last-event-id"), str(hidden),
                             "a private update's publisher id never shows")
            plain = st.sse(hub_path("r:1"))
            self.assertNotIn("last-event-id", plain.headers)
            self.assertTrue(a < b < c < newest)

    def test_resume_reveals_nothing(self):
        """A resume id names a private update only to a subscriber who
        may receive it; a Last-Event-ID too long to keep starts live even
        with lastEventID=earliest."""
        with stack() as st:
            publish(st, "s:1", "old", pub_id="urn:old")
            hidden = publish(st, "s:2", "p", private=True, pub_id="urn:secret")
            unknown = self.resume(st, "s:1", "urn:never-published")
            guess = self.resume(st, "s:1", "urn:secret")
            self.assertEqual(guess.headers.get("last-event-id"),
                             unknown.headers.get("last-event-id"),
                             "an anonymous guess of a private id is "
                             "answered as an unknown id")
            self.assertEqual(guess.headers.get("last-event-id"), str(hidden))
            allowed = st.sse(hub_path("s:1"), headers={
                "Last-Event-ID": "urn:secret",
                "Authorization": "Bearer " + mint(["s:2"])})
            self.assertEqual(allowed.headers.get("last-event-id"),
                             "urn:secret", "a subscriber allowed to see it "
                             "resumes from it")
            long_hdr = st.sse(hub_path("s:1", lastEventID="earliest"),
                              headers={"Last-Event-ID": "x" * 2000})
            self.assertNotEqual(long_hdr.headers.get("last-event-id"),
                                "earliest")
            publish(st, "s:1", "live")
            self.assertEqual(self.datas(long_hdr, "live"), ["live"],
                             "an over-long header starts live, no replay")
            for s in (unknown, guess, allowed, long_hdr):
                s.close()

    def test_crossing(self):
        with stack() as st:
            hub = st.sse(hub_path("chat.lobby"))
            ev = st.sse("/events?channel=chat.lobby")
            status, _, _ = st.http(
                "POST", "/publish/chat.lobby", body=b"from publish",
                headers={"Authorization": "Bearer " + st.token,
                         "Content-Type": "text/plain"})
            self.assertEqual(status, 202)
            publish(st, "https://example.com/rooms/lobby", "from hub",
                    "chat.lobby")
            publish(st, "chat.lobby", "mark")
            self.assertEqual(self.datas(hub, "mark"),
                             ["from publish", "from hub", "mark"])
            self.assertEqual(self.datas(ev, "mark"),
                             ["from publish", "from hub", "mark"])

    def test_private(self):
        with stack() as st:
            ta = mint(["https://example.com/a/{id}"])
            anon = st.sse(hub_path("*"))
            a = st.sse(hub_path("*"), headers={"Authorization": "Bearer " + ta})
            ev_a = st.sse("/events?channel=room",
                          headers={"Authorization": "Bearer " + ta})
            ev_anon = st.sse("/events?channel=room")
            publish(st, "https://example.com/a/1", "A", "room", private=True)
            publish(st, "https://example.com/b/1", "B", "room", private=True)
            publish(st, "room", "pub", "https://example.com/b/2")
            self.assertEqual(self.datas(anon, "pub"), ["pub"])
            self.assertEqual(self.datas(a, "pub"), ["A", "pub"])
            self.assertEqual(self.datas(ev_a, "pub"), ["A", "pub"])
            self.assertEqual(self.datas(ev_anon, "pub"), ["pub"])
            # replay applies the same rule
            r = st.sse(hub_path("*", lastEventID="earliest"),
                       headers={"Authorization": "Bearer " + ta})
            self.assertEqual(self.datas(r, "pub"), ["A", "pub"])

    def test_bad_tokens(self):
        with stack() as st:
            past = time.time() - 60
            bad = {"garbage": "not.a.token",
                   "expired": mint(["*"], exp=past),
                   "none": mint(["*"], alg="none"),
                   "wrong key": mint(["*"], key=OTHER),
                   "HS512": mint(["*"], alg="HS512",
                                 key=SECRET + SECRET)}
            for name, tok in bad.items():
                for path in (hub_path("*"), "/events?channel=x"):
                    status, hdrs, body = st.http(
                        "GET", path,
                        headers={"Authorization": "Bearer " + tok})
                    self.assertEqual(status, 401, "%s on %s" % (name, path))
                    self.assertEqual(hdrs.get("www-authenticate"), "Bearer")
            status, _, _ = st.http("GET", hub_path("*"),
                                   headers={"Authorization": "Basic eA=="})
            self.assertEqual(status, 401)
            status, _, _ = st.http("GET", hub_path("*", authorization=bad[
                "expired"]))
            self.assertEqual(status, 401)
            log = st.log("stream.log")
            self.assertIn("refused 401", log)
            for tok in bad.values():
                self.assertNotIn(tok, log, "a token must never be logged")

    def test_anonymous_off(self):
        with stack(**{"mercure.anonymous": False}) as st:
            for path in (hub_path("*"), "/events?channel=x"):
                status, hdrs, body = st.http("GET", path)
                self.assertEqual(status, 401, path)
                self.assertEqual(hdrs.get("www-authenticate"), "Bearer")
            c = st.sse(hub_path("*"), headers={
                "Authorization": "Bearer " + mint(["*"])})
            self.assertEqual(c.status, 200)

    def test_query_and_cookie(self):
        with stack(**{"mercure.cookie_name": "hubAuth"}) as st:
            tok = mint(["p:1"])
            q = st.sse(hub_path("p:1", authorization=tok))
            self.assertEqual(q.status, 200)
            self.assertIn("private", q.headers["cache-control"].split(", "))
            k = st.sse(hub_path("p:1"), headers={
                "Cookie": "other=1; hubAuth=" + tok})
            self.assertEqual(k.status, 200)
            self.assertEqual(k.headers["cache-control"], "no-cache")
            st_bad = st.sse(hub_path("p:1"), headers={
                "Cookie": "hubAuth=" + mint(["p:1"], key=OTHER)})
            self.assertEqual(st_bad.status, 401)
            publish(st, "p:1", "secret", private=True)
            publish(st, "p:1", "mark")
            self.assertEqual(self.datas(q, "mark"), ["secret", "mark"])
            self.assertEqual(self.datas(k, "mark"), ["secret", "mark"])

    def test_cors_credentials(self):
        with stack() as st:
            c = st.sse(hub_path("*"), headers={"Origin": ORIGIN})
            self.assertEqual(c.headers["access-control-allow-origin"], ORIGIN)
            self.assertEqual(
                c.headers["access-control-allow-credentials"], "true")
            self.assertEqual(c.headers["vary"], "Origin")
            p = st.sse(hub_path("*"), headers={
                "Origin": "https://plain.example"})
            self.assertEqual(p.headers["access-control-allow-origin"],
                             "https://plain.example")
            self.assertNotIn("access-control-allow-credentials", p.headers)
            o = st.sse(hub_path("*"), headers={"Origin": "https://evil.example"})
            self.assertNotIn("access-control-allow-origin", o.headers)
            self.assertNotIn("access-control-allow-credentials", o.headers)
            status, hdrs, _ = st.http("GET", hub_path("*"), headers={
                "Origin": ORIGIN, "Authorization": "Bearer x.y.z"})
            self.assertEqual(status, 401)
            self.assertEqual(hdrs.get("access-control-allow-origin"), ORIGIN)

    def test_expiry(self):
        with stack() as st:
            exp = int(time.time()) + 10    # room for a loaded machine
            tok = mint(["*"], exp=exp)
            hub = st.sse(hub_path("*"), headers={
                "Authorization": "Bearer " + tok})
            ev = st.sse("/events?channel=x", headers={
                "Cookie": "mercureAuthorization=" + tok})
            for c in (hub, ev):
                self.assertEqual(c.status, 200, "opened before exp")
                self.assertTrue(c.closed(timeout=30),
                                "a stream must end when its token expires")
                self.assertTrue(c.clean_end, "ended with END_REQUEST")
            self.assertGreaterEqual(time.time(), exp - 0.05,
                                    "ended because of exp, not before")
            self.assertIn("token expired", st.log("stream.log"))

    def test_reload_key(self):
        with stack() as st:
            tok = mint(["*"])
            st.conf_dict["mercure"]["subscriber_jwt_key"] = OTHER
            st.write_conf()
            for pid in st.stream_pids():
                os.kill(pid, 1)
            st.wait_for(lambda: st.log("stream.log").count("reloaded") >= 2,
                        "reload")
            status, _, _ = st.http("GET", hub_path("*"), headers={
                "Authorization": "Bearer " + tok})
            self.assertEqual(status, 401, "the old key must be gone")
            c = st.sse(hub_path("*"), headers={
                "Authorization": "Bearer " + mint(["*"], key=OTHER)})
            self.assertEqual(c.status, 200)

    def cgi(self, st, query, **env):
        """sseq-stream as a plain CGI on the hub's path; the process."""
        e = dict(os.environ, GATEWAY_INTERFACE="CGI/1.1",
                 REQUEST_METHOD="GET", QUERY_STRING=query,
                 DOCUMENT_URI=HUB, SSEQ_CONF=st.conf_path, **env)
        return subprocess.Popen([harness.binary("sseq-stream")],
                                stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, env=e)

    def test_cgi(self):
        with stack() as st:
            q = urllib.parse.urlencode({"topic": "https://e/c/{id}"})
            bad = self.cgi(st, q, HTTP_AUTHORIZATION="Bearer " + mint(
                ["*"], key=OTHER))
            out = bad.communicate(timeout=10)[0]
            self.assertTrue(out.startswith(b"Status: 401"), out)
            self.assertIn(b"WWW-Authenticate: Bearer", out)
            p = self.cgi(st, q, HTTP_AUTHORIZATION="Bearer " + mint(
                ["https://e/c/1"]))
            try:
                body = self.cgi_read(p, b"retry:")
                self.assertTrue(body.startswith(b"Status: 200"))
                publish(st, "https://e/c/2", "two", private=True)
                publish(st, "https://e/c/1", "one", private=True,
                        pub_id="urn:one")
                body = self.cgi_read(p, b"data: one", body)
                self.assertIn(b"id: urn:one\ndata: one\n\n", body)
                self.assertNotIn(b"data: two", body)
            finally:
                self.cgi_close(p)
            # A token's exp ends the stream: nothing is published, so
            # only the clock can end it (exp leaves room for a slow start).
            tok = mint(["https://e/c/1"], exp=time.time() + 6)
            p = self.cgi(st, q, HTTP_AUTHORIZATION="Bearer " + tok)
            try:
                self.assertTrue(self.cgi_read(p, b"retry:").startswith(
                    b"Status: 200"))
                self.assertEqual(p.wait(30), 0,
                                 "the CGI ends when the token expires")
            finally:
                self.cgi_close(p)

    def cgi_read(self, p, want, got=b""):
        """Reads p's stdout until it holds want; fails if it ends first."""
        while want not in got:
            chunk = os.read(p.stdout.fileno(), 4096)
            self.assertTrue(chunk, "stdout ended early")
            got += chunk
        return got

    def cgi_close(self, p):
        """Ends the CGI p (if it still runs) and closes its stdout."""
        if p.poll() is None:
            p.kill()
            p.wait()
        p.stdout.close()

if __name__ == "__main__":
    harness.main()
