#!/usr/bin/env python3
"""test_mercure_tokens.py -- Mercure 1.0 authorization on the hub through
real nginx + spawn-fcgi: RFC 9068 access tokens (typ at+jwt, iss, aud,
exp) with RFC 9396 authorization_details, minted by python3-jwt
(Debian's /usr/bin/python3, or $SSEQ_JWT_PYTHON), never by sseq.

A publisher POSTing with a token granting [{"match": "*"}] for publish
and subscribe exchanges updates with 1.0 subscribers (?match=...): custom
ids echoed, private updates only to the subscribers whose grants match
one of their topics; the refusals (wrong typ, iss, aud, detail type,
action, matcher type, missing exp, a token in the URL, topic "*", a
URL pattern grant that is none or too costly) with their Bearer
challenges; URL pattern grants deciding publishing and private delivery;
the protected resource metadata document through nginx."""
import contextlib
import json
import os
import subprocess
import time
import urllib.parse

import harness

JWT_PYTHON = os.environ.get("SSEQ_JWT_PYTHON", "/usr/bin/python3")
SUB_KEY = "sub-key-7f3a9c21e4b85d60a1c9f2e7b3d84a56"
PUB_KEY = "pub-key-1b9e4c7a2f5d8e0c3a6b9f1e4d7c0a2b"
OTHER = "another-key-0c4e8a2f6b1d9e3c7a5f0b2d4e6c8a1f"
HUB = "/.well-known/mercure"
ISS = "https://localhost"
AUD = "https://localhost/.well-known/mercure"
META = "/.well-known/oauth-protected-resource/.well-known/mercure"
META_URL = "https://localhost" + META
DETAIL = "https://mercure.rocks/authorization-detail"
COOKIE = "__Secure-mercure_access_token"
BOOK = "https://example.com/books/%d"
FORM = "application/x-www-form-urlencoded"

MINT = """
import json, sys, jwt
claims, key, headers = (json.loads(sys.argv[1]), sys.argv[2],
                        json.loads(sys.argv[3]))
print(jwt.encode(claims, key, algorithm="HS256", headers=headers))
"""


def mint(details, key=SUB_KEY, typ="at+jwt", **claims):
    """An access token by python3-jwt: iss, aud, exp an hour ahead and
    authorization_details = details (None: left out), then claims (a
    value None removes the claim); typ None: no typ header."""
    body = {"iss": ISS, "aud": AUD, "exp": int(time.time()) + 3600,
            "sub": "urn:sseq:test", "client_id": ISS, "iat": int(time.time()),
            "jti": "urn:uuid:%d" % time.monotonic_ns()}
    if details is not None:
        body["authorization_details"] = details
    for k, v in claims.items():
        if v is None:
            body.pop(k, None)
        else:
            body[k] = v
    headers = {} if typ is None else {"typ": typ}
    r = subprocess.run([JWT_PYTHON, "-c", MINT, json.dumps(body), key,
                        json.dumps(headers)], capture_output=True, text=True,
                       timeout=30)
    if r.returncode != 0:
        raise RuntimeError("minting a token: " + r.stderr)
    return r.stdout.strip()


def grant(actions, *matchers, type_=DETAIL, payload=None):
    """One authorization detail; matchers are match strings or (match,
    match_type) pairs."""
    topics = [{"match": m} if isinstance(m, str) else
              {"match": m[0], "match_type": m[1]} for m in matchers]
    d = {"type": type_, "actions": list(actions), "topics": topics}
    if payload is not None:
        d["payload"] = payload
    return d


STAR = [grant(["publish", "subscribe"], "*")]


def match_path(*topics, **params):
    q = [("match", t) for t in topics] + sorted(params.items())
    return HUB + "?" + urllib.parse.urlencode(q)


def stack(**settings):
    conf = {"mercure.subscriber_jwt_key": SUB_KEY,
            "mercure.publisher_jwt_key": PUB_KEY,
            "mercure.issuer": ISS, "mercure.resource": AUD}
    conf.update(settings)
    return harness.Stack(settings=conf, stream_procs=2, publish_procs=1)


class Tokens(harness.TestCase):

    def post(self, st, pairs, token=None, query="", headers=None):
        """POSTs the form pairs to the hub; (status, headers, text)."""
        h = {"Content-Type": FORM}
        if token is not None:
            h["Authorization"] = "Bearer " + token
        h.update(headers or {})
        status, hdrs, raw = st.http("POST", HUB + query,
                                    body=urllib.parse.urlencode(pairs),
                                    headers=h)
        return status, hdrs, raw.decode("utf-8", "replace")

    def publish(self, st, topic, data, *alts, private=False, pub_id=None,
                token=None):
        """Publishes through nginx with the publisher's * token; returns
        the id the hub answered."""
        pairs = [("topic", topic)] + [("topic", a) for a in alts]
        pairs.append(("data", data))
        if private:
            pairs.append(("private", "on"))
        if pub_id:
            pairs.append(("id", pub_id))
        status, hdrs, text = self.post(st, pairs, token or mint(
            STAR, key=PUB_KEY))
        self.assertEqual(status, 200, text)
        self.assertEqual(hdrs["content-type"], "text/plain; charset=utf-8")
        return text

    def subscribe(self, st, es, path, token=None, cookie=None):
        """Opens a 1.0 stream (closed when es closes); 200 expected."""
        h = {}
        if token is not None:
            h["Authorization"] = "Bearer " + token
        if cookie is not None:
            h["Cookie"] = "%s=%s" % (COOKIE, cookie)
        c = st.sse(path, headers=h)
        es.callback(c.close)
        self.assertEqual(c.status, 200, c.body())
        return c

    def upto(self, c, marker, timeout=10):
        """The (id, data) of every event c gets up to the one whose data
        is marker (which must come)."""
        out = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for e in c.events(1, timeout=deadline - time.monotonic()):
                out.append((e.id, e.data))
                if e.data == marker:
                    return out
        self.fail("marker %r never came; got %r" % (marker, out))

    def test_exchange(self):
        """The issue's publisher and a 1.0 subscriber: custom ids echoed,
        the hub's own id otherwise, the same events (a private one too)
        with the token in the header or the cookie."""
        with stack() as st, contextlib.ExitStack() as es:
            sub = mint(STAR)
            by_header = self.subscribe(st, es, match_path(BOOK % 1, "urn:end"),
                                       token=sub)
            by_cookie = self.subscribe(st, es, match_path(BOOK % 1, "urn:end"),
                                       cookie=sub)
            self.assertEqual(self.publish(st, BOOK % 1, "one",
                                          pub_id="urn:uuid:book-1-v1"),
                             "urn:uuid:book-1-v1")
            hub_id = self.publish(st, BOOK % 1, "two")
            self.assertTrue(hub_id.isdigit(), hub_id)
            self.publish(st, BOOK % 2, "not matched")
            # only a token read from the header or the cookie gets this
            self.publish(st, BOOK % 1, "private", private=True,
                         pub_id="urn:uuid:book-1-v2")
            self.publish(st, "urn:end", "end")
            want = [("urn:uuid:book-1-v1", "one"), (hub_id, "two"),
                    ("urn:uuid:book-1-v2", "private"), (None, "end")]
            for c in (by_header, by_cookie):
                got = self.upto(c, "end")
                got[-1] = (None, got[-1][1])
                self.assertEqual(got, want)

    def test_private(self):
        """Private updates reach a subscriber only when a subscribe grant
        of its token matches one of their topics (canonical or
        alternate); routing matchers never widen that."""
        with stack() as st, contextlib.ExitStack() as es:
            path = match_path(BOOK % 1, BOOK % 2, "urn:end")
            every = self.subscribe(st, es, path, token=mint(STAR))
            anon = self.subscribe(st, es, path)
            book2 = self.subscribe(st, es, path, token=mint(
                [grant(["subscribe"], BOOK % 2)]))
            user42 = self.subscribe(st, es, path, token=mint(
                [grant(["subscribe"], "https://example.com/users/42/books/1")]))
            pub_only = self.subscribe(st, es, path, token=mint(
                [grant(["publish"], "*")]))
            other_type = self.subscribe(st, es, path, token=mint(
                [grant(["subscribe"], "*", type_="mercure")]))
            self.publish(st, BOOK % 1, "p1", private=True)
            self.publish(st, BOOK % 2, "p2", private=True)
            self.publish(st, BOOK % 1, "p1-alt",
                         "https://example.com/users/42/books/1", private=True)
            self.publish(st, "urn:end", "end")
            datas = {name: [d for _, d in self.upto(c, "end")]
                     for name, c in (("every", every), ("anon", anon),
                                     ("book2", book2), ("user42", user42),
                                     ("pub_only", pub_only),
                                     ("other_type", other_type))}
            self.assertEqual(datas, {
                "every": ["p1", "p2", "p1-alt", "end"],
                "anon": ["end"], "book2": ["p2", "end"],
                "user42": ["p1-alt", "end"], "pub_only": ["end"],
                "other_type": ["end"]})

    def test_urlpattern_grants(self):
        """URL pattern grants (match_type urlpattern) decide publishing
        and private delivery: a pattern, its wildcard, a relative one
        resolved against the hub's URL; a grant that is no URL pattern
        refuses the publisher's token (401)."""
        books = mint([grant(["publish"], (BOOK.replace("%d", ":id"),
                                          "urlpattern"),
                            ("/local/*", "urlpattern"))], key=PUB_KEY)
        with stack() as st, contextlib.ExitStack() as es:
            path = match_path(BOOK % 1, "/local/1", "urn:end")
            user42 = self.subscribe(st, es, path, token=mint([grant(
                ["subscribe"], ("https://example.com/users/42/*",
                                "urlpattern"))]))
            local = self.subscribe(st, es, path, token=mint([grant(
                ["subscribe"], ("/local/:n", "urlpattern"))]))
            self.publish(st, BOOK % 1, "p1", private=True, token=books)
            self.publish(st, BOOK % 1, "p1-alt",
                         "https://example.com/users/42/books/1",
                         private=True)
            self.publish(st, "/local/1", "l1", private=True, token=books)
            for pairs, reason in (
                    ([("topic", BOOK % 1), ("topic", "urn:other")],
                     "every topic"),
                    ([("topic", "https://example.com/local/1")],
                     "every topic"),
                    ([("topic", BOOK.replace("%d", "1/2"))],
                     "every topic")):
                got, hdrs, text = self.post(st, pairs, books)
                self.assertEqual(got, 403, text)
                self.assertIn(reason, text)
            bad = mint([grant(["publish"], "*", ("https://x/(a",
                                                 "urlpattern"))], key=PUB_KEY)
            got, hdrs, text = self.post(st, [("topic", BOOK % 1)], bad)
            self.assertEqual(got, 401, text)
            self.assertIn("is not a URL pattern", text)
            self.assertIn('error="invalid_token"',
                          hdrs.get("www-authenticate", ""))
            self.publish(st, "urn:end", "end")
            self.assertEqual([d for _, d in self.upto(user42, "end")],
                             ["p1-alt", "end"])
            self.assertEqual([d for _, d in self.upto(local, "end")],
                             ["l1", "end"])

    def refused_sub(self, st, path, token, status, error, reason):
        """GETs path with token (header); checks status, the challenge's
        resource_metadata and error, and the reason in the body."""
        h = {"Accept": "text/event-stream"}
        if token is not None:
            h["Authorization"] = "Bearer " + token
        got, hdrs, body = st.http("GET", path, headers=h)
        text = body.decode("utf-8", "replace")
        self.assertEqual(got, status, text)
        challenge = hdrs.get("www-authenticate", "")
        self.assertTrue(challenge.startswith("Bearer "), hdrs)
        self.assertIn('resource_metadata="%s"' % META_URL, challenge)
        if error is None:
            self.assertNotIn("error=", challenge)
        else:
            self.assertIn('error="%s"' % error, challenge)
        self.assertIn(reason, text)
        return text

    def test_subscribe_refusals(self):
        bad = {
            "wrong typ": (mint(STAR, typ="JWT"), "typ is not at+jwt"),
            "no typ": (mint(STAR, typ=None), "typ is not at+jwt"),
            "wrong iss": (mint(STAR, iss="https://evil.example"),
                          "another issuer"),
            "no iss": (mint(STAR, iss=None), "another issuer"),
            "wrong aud": (mint(STAR, aud=["https://other/.well-known/"
                                          "mercure"]), "another resource"),
            "no exp": (mint(STAR, exp=None), "without exp"),
            "expired": (mint(STAR, exp=int(time.time()) - 60), "expired"),
            "matcher type": (mint([grant(["subscribe"], ("a", "regexp"))]),
                             "match_type"),
            "not a URL pattern": (
                mint([grant(["subscribe"], "a",
                            ("https://x/(a", "urlpattern"))]),
                "is not a URL pattern"),
            "a costly URL pattern": (
                mint([grant(["subscribe"], ("https://x/" + "ab" * 40,
                                            "urlpattern"))]),
                "mercure.selector_cost_max"),
            "wrong key": (mint(STAR, key=OTHER), "signature"),
        }
        with stack(**{"mercure.anonymous": False}) as st:
            for name, (tok, reason) in bad.items():
                with self.subTest(name):
                    self.refused_sub(st, match_path("a"), tok, 401,
                                     "invalid_token", reason)
            self.refused_sub(st, match_path("a"), None, 401, None,
                             "no token")
            tok = mint(STAR)
            for q in ("authorization", "access_token"):
                self.refused_sub(st, match_path("a", **{q: tok}), None, 400,
                                 "invalid_request", "no token in the URL")
            # an access token is never read from a URL, v0.x's included
            got, _, body = st.http("GET", HUB + "?" + urllib.parse.urlencode(
                [("topic", "a"), ("authorization", tok)]))
            self.assertEqual(got, 400, body)
            log = st.log("stream.log")
            for tok, _ in bad.values():
                self.assertNotIn(tok, log, "a token must never be logged")

    def test_publish_refusals(self):
        star = [("topic", BOOK % 1), ("data", "x")]
        rows = [
            ("wrong typ", mint(STAR, key=PUB_KEY, typ="JWT"), 401,
             "invalid_token", "typ is not at+jwt"),
            ("wrong iss", mint(STAR, key=PUB_KEY, iss="https://x"), 401,
             "invalid_token", "another issuer"),
            ("wrong aud", mint(STAR, key=PUB_KEY, aud="https://x"), 401,
             "invalid_token", "another resource"),
            ("no exp", mint(STAR, key=PUB_KEY, exp=None), 401,
             "invalid_token", "without exp"),
            ("matcher type", mint([grant(["publish"], ("*", "glob"))],
                                  key=PUB_KEY), 401, "invalid_token",
             "match_type"),
            ("detail type", mint([grant(["publish"], "*", type_="urn:x")],
                                 key=PUB_KEY), 403, "insufficient_scope",
             "every topic"),
            ("action", mint([grant(["subscribe"], "*")], key=PUB_KEY), 403,
             "insufficient_scope", "every topic"),
            ("the subscriber key", mint(STAR), 401, "invalid_token",
             "signature"),
        ]
        with stack() as st:
            for name, tok, status, error, reason in rows:
                with self.subTest(name):
                    got, hdrs, text = self.post(st, star, tok)
                    self.assertEqual(got, status, text)
                    self.assertIn(reason, text)
                    challenge = hdrs.get("www-authenticate", "")
                    self.assertIn('resource_metadata="%s"' % META_URL,
                                  challenge)
                    self.assertIn('error="%s"' % error, challenge)
            tok = mint(STAR, key=PUB_KEY)
            got, hdrs, text = self.post(
                st, star, query="?" + urllib.parse.urlencode(
                    {"authorization": tok}))
            self.assertEqual(got, 400, text)
            self.assertIn('error="invalid_request"',
                          hdrs.get("www-authenticate", ""))
            for pairs in ([("topic", "*"), ("data", "x")],
                          [("topic", BOOK % 1), ("topic", "*")]):
                got, _, text = self.post(st, pairs, tok)
                self.assertEqual(got, 400, text)
                self.assertIn('"*", reserved', text)
            self.assertEqual(st.sseq_ok("tail", "--backlog", "5").stdout, "",
                             "nothing refused was published")
            log = st.log("publish.log")
            for _, tok, _, _, _ in rows:
                self.assertNotIn(tok, log, "a token must never be logged")

    def test_metadata(self):
        """The RFC 9728 document through nginx, as a client reads it."""
        with stack(**{"mercure.access_cookie_name": "hub_at"}) as st:
            status, hdrs, body = st.http("GET", META)
            self.assertEqual(status, 200, body)
            self.assertEqual(hdrs["content-type"], "application/json")
            self.assertEqual(json.loads(body), {
                "resource": AUD,
                "bearer_methods_supported": ["header"],
                "authorization_details_types_supported": [DETAIL],
                "mercure_cookie": "hub_at",
                "mercure_matcher_types_supported": ["exact", "urlpattern"]})
            status, _, body = st.http("HEAD", META)
            self.assertEqual((status, body), (200, b""))
            status, hdrs, _ = st.http("POST", META, body=b"x")
            self.assertEqual(status, 405)
        with stack(**{"mercure.issuer": None, "mercure.resource": None}) as st:
            status, _, body = st.http("GET", META)
            self.assertEqual(status, 404, body)
            self.assertIn(b"mercure.resource", body)


if __name__ == "__main__":
    harness.main()
