#!/usr/bin/env python3
"""test_mercure_publish.py -- publishing through the Mercure hub
(POST /.well-known/mercure) through nginx: the spec's Publication and
Authorization examples, what is written (`sseq tail --json`: topics,
private, id, type, retry) and what a plain GET subscriber receives; every
refusal of the table with nothing written (`sseq stats`: appends
unchanged); publisher JWTs and `private` on /publish; static tokens on the
hub only when mercure.static_tokens_on_hub says so; a new key at SIGHUP;
the shipped nginx hub location: POST to sseq-publish over one kept
connection, GET to sseq-stream; Mercure 1.0's refusals (the hub's
namespace, its event type, control and format characters).
Tokens are minted by python3-jwt."""
import json
import os
import signal
import time
import urllib.parse

import harness
from hub_util import (HUB, KEY, OTHER_KEY, form, mint, newest, post_hub,
                      publisher)
from publish_util import Subscriber, appends, post, stack

BOOK = "https://example.com/books/1"
USER = "https://example.com/users/dunglas/?topic=" + \
    urllib.parse.quote("https://example.com/books/1", safe="")
SETTINGS = {
    "mercure.publisher_jwt_key": KEY,
    "mercure.subscriber_jwt_key": KEY,
    "mercure.topic_max": 200,
    "mercure.cors_credentials_origins": ["https://app.example.com"],
}


def publish_conns(st):
    """The inodes of the connections sseq-publish accepted on its socket
    that are open now (/proc/net/unix: state 03, the socket's path)."""
    path = os.path.join(st.tmpdir, "publish.sock")
    with open("/proc/net/unix") as f:
        rows = [line.split() for line in f.read().splitlines()[1:]]
    return sorted(r[6] for r in rows if len(r) >= 8 and r[7] == path and
                  r[5] == "03")


class HubPublish(harness.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.st = stack(publish_procs=1, settings=SETTINGS).__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.st.__exit__(None, None, None)

    def ok(self, body, token=None, **kw):
        """A publish that must succeed: 200 text/plain, one append;
        returns (answer id, the record written)."""
        before = appends(self.st)
        status, hdrs, text = post_hub(
            self.st, body, publisher() if token is None else token, **kw)
        self.assertEqual(status, 200, text)
        self.assertTrue(hdrs["content-type"].startswith("text/plain"), hdrs)
        self.assertEqual(appends(self.st), before + 1)
        rec = newest(self.st)[-1]
        return text, rec

    def refused(self, status, body, token=None, reason=None, **kw):
        """A publish that must be refused with status, nothing written;
        returns the answer's headers."""
        before = appends(self.st)
        got, hdrs, text = post_hub(self.st, body, token, **kw)
        self.assertEqual(got, status, text)
        self.assertEqual(appends(self.st), before, "something was written")
        if reason:
            self.assertIn(reason, text)
        return hdrs

    # -- the spec's Publication section ---------------------------------
    def test_spec_publication_example(self):
        data = '{"@id": "https://example.com/books/1", "title": ' \
               '"Hello World"}'
        text, rec = self.ok(form([("topic", BOOK), ("data", data)]))
        self.assertEqual(text, rec["id"])        # the hub made the id
        self.assertEqual(rec["channel"], BOOK)
        self.assertEqual(rec["alt"], [])
        self.assertEqual(rec["data"], data)
        self.assertFalse(rec["private"])
        self.assertIsNone(rec["pub_id"])
        self.assertEqual(rec["retry"], 0)

    def test_every_field(self):
        text, rec = self.ok(form([
            ("topic", BOOK), ("topic", USER),
            ("topic", "https://example.com/books/{id}"),
            ("data", "line 1\nline 2"), ("private", "on"),
            ("id", "urn:uuid:e1ee88e2-532a-4d6f-ba70-f0f8bd584022"),
            ("type", "book-updated"), ("retry", "4500")]))
        self.assertEqual(text, "urn:uuid:e1ee88e2-532a-4d6f-ba70-"
                               "f0f8bd584022")
        self.assertEqual(rec["channel"], BOOK)
        self.assertEqual(rec["alt"], [USER, "https://example.com/books/{id}"])
        self.assertTrue(rec["private"])
        self.assertEqual(rec["pub_id"], text)
        self.assertEqual(rec["event"], "book-updated")
        self.assertEqual(rec["retry"], 4500)
        self.assertEqual(rec["data"], "line 1\nline 2")

    def test_private_whatever_its_value(self):
        for value in ("on", "", "false", "0"):
            _, rec = self.ok(form([("topic", BOOK), ("data", "x"),
                                   ("private", value)]))
            self.assertTrue(rec["private"], value)

    def test_no_data_is_empty(self):
        _, rec = self.ok(form([("topic", BOOK)]))
        self.assertEqual(rec["data"], "")

    def test_plus_and_percent_decoded(self):
        _, rec = self.ok(b"topic=" + urllib.parse.quote(BOOK).encode() +
                         b"&data=a+b%20c%E2%82%AC&unknown=1")
        self.assertEqual(rec["data"], "a b c\u20ac")

    def test_generated_ids_are_the_queue_ids(self):
        a, rec_a = self.ok(form([("topic", BOOK), ("data", "1")]))
        b, rec_b = self.ok(form([("topic", BOOK), ("data", "2")]))
        self.assertEqual((a, b), (rec_a["id"], rec_b["id"]))
        self.assertEqual(int(b), int(a) + 1)

    def test_public_update_reaches_a_subscriber(self):
        sub = Subscriber(self.st, "books")
        try:
            text, _ = self.ok(form([("topic", "books"), ("data", "hello"),
                                    ("type", "greeting")]))
            ev = sub.events(1)[0]
            self.assertEqual((ev.event, ev.data), ("greeting", "hello"))
            self.assertEqual(ev.id, text)
        finally:
            sub.close()

    def test_nginx_keeps_publish_connections(self):
        body = form([("topic", BOOK), ("data", "kept")])
        tok = publisher()
        self.ok(body, tok)
        first = publish_conns(self.st)
        self.assertEqual(len(first), 1, "one kept connection (one nginx "
                         "worker, one request at a time)")
        for _ in range(10):
            self.ok(body, tok)
        self.assertEqual(publish_conns(self.st), first,
                         "every POST used the same kept connection")

    def test_nginx_sends_get_to_sseq_stream(self):
        # sseq-stream's answer (a stream, or its own refusal before it
        # serves the hub), never sseq-publish's 405 "use POST".
        c = self.st.sse(HUB + "?topic=books")
        try:
            self.assertNotEqual(c.status, 405)
            if c.status != 200:
                c.closed(5)
                self.assertNotIn("use POST", c.body())
            else:
                self.assertTrue(c.headers["content-type"].startswith(
                    "text/event-stream"), c.headers)
        finally:
            c.close()

    # -- the spec's Authorization section --------------------------------
    def test_token_in_header_query_and_cookie(self):
        body = form([("topic", BOOK), ("data", "x")])
        tok = publisher(BOOK)
        self.ok(body, tok)
        before = appends(self.st)
        st, _, text = post_hub(self.st, body, None,
                               query="?authorization=" + tok)
        self.assertEqual(st, 200, text)
        st, _, text = post_hub(self.st, body, None, headers={
            "Cookie": "other=1; mercureAuthorization=" + tok})
        self.assertEqual(st, 200, text)
        st, _, text = post_hub(self.st, body, None, headers={
            "Cookie": "mercureAuthorization=" + tok,
            "Origin": "https://app.example.com"})
        self.assertEqual(st, 200, text)
        self.assertEqual(appends(self.st), before + 3)

    def test_spec_selectors(self):
        # The spec's example claims: a template and an exact topic.
        tok = publisher("https://example.com/books/{id}",
                        "https://example.com/users/dunglas/?topic=" +
                        urllib.parse.quote("https://example.com/books/1",
                                           safe=""))
        self.ok(form([("topic", BOOK), ("topic", USER), ("data", "x")]),
                tok)
        self.refused(403, form([("topic", "https://example.com/reviews/1"),
                                ("data", "x")]), tok, "every topic")

    def test_spec_jwt_example(self):
        # The spec's example token payload, "payload" member included.
        tok = mint({"mercure": {
            "publish": ["https://example.com/books/{id}"],
            "subscribe": ["https://example.com/users/dunglas/{?topic}",
                          "{+scheme}://{+host}/demo/books/{id}.jsonld",
                          "/.well-known/mercure/subscriptions{/topic}"
                          "{/subscriber}"],
            "payload": {"user": "https://example.com/users/dunglas",
                        "remoteAddr": "127.0.0.1"}}})
        self.ok(form([("topic", BOOK), ("data", "x")]), tok)
        self.refused(403, form([("topic", BOOK), ("topic", USER),
                                ("data", "x")]), tok, "every topic")

    # -- refusals: bad input --------------------------------------------
    def test_refusals_bad_input(self):
        tok = publisher()
        rows = [
            (400, [("data", "x")], "no topic="),
            (400, [("topic", "")], "empty topic="),
            (400, [("topic", "https://e.com/" + "a" * 200)], "topic_max"),
            (400, [("topic", "t%d" % i) for i in range(34)],
             "too many topic="),
            (400, [("topic", BOOK), ("type", "a\nb")], "bad type="),
            (400, [("topic", BOOK), ("type", "a\rb")], "bad type="),
            (400, [("topic", BOOK), ("id", "a\nb")], "bad id="),
            (400, [("topic", BOOK), ("id", "a\x00b")], "bad id="),
            (400, [("topic", BOOK), ("id", "#frag")], "must not start"),
            (400, [("topic", BOOK), ("retry", "12a")], "bad retry="),
            (400, [("topic", BOOK), ("retry", "-1")], "bad retry="),
            (400, [("topic", BOOK), ("retry", "99999999999")], "bad retry="),
            (400, [("topic", BOOK), ("data", "a"), ("data", "b")],
             "duplicate data="),
            (413, [("topic", BOOK), ("data", "x" * 70000)],
             "max_message_size"),
        ]
        for status, pairs, reason in rows:
            with self.subTest(reason=reason):
                self.refused(status, form(pairs), tok, reason)
        raw = [
            (400, b"topic=" + BOOK.encode() + b"&data=%FF", "UTF-8"),
            (400, b"topic=%FF&data=x", "UTF-8"),
            (400, b"topic=a&data=%G1", "percent escape"),
            (400, b"topic=a%2&data=x", "percent escape"),
        ]
        for status, body, reason in raw:
            with self.subTest(body=body):
                self.refused(status, body, tok, reason)

    def test_refusals_spec_reserved(self):
        """Mercure 1.0's refusals, whatever the token (here "*"): a topic
        under the hub's path however it is spelt, the hub's event type
        "mercure", a control or format character in a topic, id or type;
        each a 400 naming the culprit, nothing written; near misses are
        published."""
        tok = publisher()
        subs = "/.well-known/mercure/subscriptions/exact/a/urn%3Auuid%3A1"
        rows = [
            ([("topic", subs), ("data", "x")], "is under the hub's path"),
            ([("topic", BOOK), ("topic", "http://127.0.0.1" + subs)],
             "topic 2"),
            ([("topic", "https://anywhere.example/.well-known/%6Dercure")],
             "reserved for the hub's own updates"),
            ([("topic", "/x/../.well-known/mercure")], "hub's path"),
            ([("topic", "mercure/subscriptions")], "hub's path"),
            ([("topic", BOOK), ("type", "mercure")],
             'bad type= "mercure": reserved'),
            ([("topic", "https://example.com/\u202ebooks")], "U+202E"),
            ([("topic", BOOK), ("id", "urn:x\u200b")], "bad id="),
            ([("topic", BOOK), ("type", "up\xad")], "U+00AD"),
            ([("topic", BOOK), ("type", "up\x85")], "U+0085"),
            ([("topic", BOOK), ("type", "up\tdate")], "U+0009"),
        ]
        for pairs, reason in rows:
            with self.subTest(reason=reason, pairs=pairs):
                self.refused(400, form(pairs), tok, reason)
        for topic in ("/.well-known/mercurex", "/.well-known/MERCURE/x",
                      "urn:caf\u00e9", "chat.lobby"):
            with self.subTest(topic=topic):
                _, rec = self.ok(form([("topic", topic), ("type", "Mercure"),
                                       ("data", "ok")]), tok)
                self.assertEqual(rec["channel"], topic)

    def test_refusals_content_type(self):
        tok = publisher()
        body = form([("topic", BOOK), ("data", "x")])
        for ctype in (None, "text/plain", "application/json",
                      "multipart/form-data; boundary=x"):
            with self.subTest(ctype=ctype):
                self.refused(415, body, tok, ctype=ctype)
        self.refused(415, body, tok, ctype="application/x-www-form-"
                     "urlencoded; charset=latin1", reason="charset")

    # -- refusals: authorization -----------------------------------------
    def test_refusals_authorization(self):
        body = form([("topic", BOOK), ("topic", USER), ("data", "x")])
        now = int(time.time())
        rows = [
            (401, None, "authorization required"),
            (401, "not-a-jwt", "invalid publisher JWT"),
            (401, mint({"mercure": {"publish": ["*"]}}, alg="none"),
             "invalid publisher JWT"),
            (401, mint({"mercure": {"publish": ["*"]}}, key=OTHER_KEY),
             "invalid publisher JWT"),
            (401, mint({"mercure": {"publish": ["*"]}}, key=KEY + "x" * 30,
                       alg="HS512"), "invalid publisher JWT"),
            (401, mint({"mercure": {"publish": ["*"]}, "exp": now - 10}),
             "invalid publisher JWT"),
            (401, mint({"mercure": {"publish": ["*"]},
                        "nbf": now + 3600}), "invalid publisher JWT"),
            (401, harness.TOKEN, "mercure.static_tokens_on_hub"),
            (403, publisher(BOOK), "every topic"),     # not the alternate
            (403, publisher(USER), "every topic"),     # not the canonical
            (403, mint({"exp": now + 3600}), "every topic"),
            (403, mint({"mercure": {"subscribe": ["*"]}}), "every topic"),
        ]
        for status, tok, reason in rows:
            with self.subTest(reason=reason, status=status):
                hdrs = self.refused(status, body, tok, reason)
                if status == 401:
                    self.assertTrue(hdrs["www-authenticate"]
                                    .startswith("Bearer"), hdrs)

    def test_refusals_credential_sources(self):
        body = form([("topic", BOOK), ("data", "x")])
        tok = publisher()
        self.refused(401, body, None, "unusable credential",
                     headers={"Authorization": "Basic dXNlcjpwdw=="})
        self.refused(401, body, None, "unusable credential",
                     query="?authorization=" + tok + "&authorization=" + tok)
        # The first source present decides: a bad header is not passed
        # over for a good cookie.
        self.refused(401, body, "bad", "invalid publisher JWT",
                     headers={"Cookie": "mercureAuthorization=" + tok})
        # A cookie sent by a page of another origin (a forged POST).
        self.refused(403, body, None, "another origin", headers={
            "Cookie": "mercureAuthorization=" + tok,
            "Origin": "https://evil.example.net"})

    # -- /publish: JWTs and private --------------------------------------
    def test_publish_api_accepts_a_publisher_jwt(self):
        before = appends(self.st)
        status, _, raw = post(self.st, "/publish/news", "x",
                              token=publisher("news", "sport"))
        self.assertEqual(status, 202, raw)
        status, _, raw = post(self.st, "/publish/chat", "x",
                              token=publisher("news"))
        self.assertEqual(status, 403, raw)
        status, hdrs, raw = post(self.st, "/publish/chat", "x",
                                 token=mint({"mercure": {"publish": ["*"]}},
                                            key=OTHER_KEY))
        self.assertEqual(status, 401, raw)
        self.assertIn("invalid publisher JWT", raw.decode())
        # A wrong credential is refused on an open channel too.
        status, _, raw = post(self.st, "/publish/open-x", "x",
                              token=mint({}, alg="none"))
        self.assertEqual(status, 401, raw)
        self.assertEqual(appends(self.st), before + 1)

    def test_publish_api_private(self):
        status, _, raw = post(self.st, "/publish/news", "data=x&private=",
                              ctype="application/x-www-form-urlencoded")
        self.assertEqual(status, 202, raw)
        self.assertTrue(newest(self.st)[-1]["private"])
        status, _, raw = post(self.st, "/publish/news",
                              json.dumps({"data": "x", "private": True}),
                              ctype="application/json")
        self.assertEqual(status, 202, raw)
        self.assertTrue(newest(self.st)[-1]["private"])
        status, _, raw = post(self.st, "/publish/news",
                              json.dumps({"data": "x", "private": False}),
                              ctype="application/json")
        self.assertEqual(status, 202, raw)
        self.assertFalse(newest(self.st)[-1]["private"])
        before = appends(self.st)
        status, _, raw = post(self.st, "/publish/news",
                              json.dumps({"data": "x", "private": "yes"}),
                              ctype="application/json")
        self.assertEqual(status, 400, raw)
        self.assertEqual(appends(self.st), before)


class StaticTokensOnHub(harness.TestCase):
    """mercure.static_tokens_on_hub = true: publish.tokens work on the hub
    within their channel globs; a new key is used after SIGHUP."""

    def test_static_tokens_and_reload(self):
        settings = dict(SETTINGS)
        settings["mercure.static_tokens_on_hub"] = True
        settings["publish.tokens"] = [
            {"token": harness.TOKEN, "channels": ["*"]},
            {"token": "scoped-token-abcdef012345", "channels": ["news*"]}]
        with stack(publish_procs=1, settings=settings) as st:
            before = appends(st)
            status, _, text = post_hub(st, form([("topic", "news"),
                                                 ("data", "x")]),
                                       harness.TOKEN)
            self.assertEqual(status, 200, text)
            status, _, text = post_hub(st, form([("topic", "news"),
                                                 ("topic", "chat")]),
                                       "scoped-token-abcdef012345")
            self.assertEqual(status, 403, text)
            self.assertEqual(appends(st), before + 1)
            # SIGHUP with a new publisher key: old tokens fail, new pass.
            old = publisher()
            st.conf_dict["mercure"]["publisher_jwt_key"] = OTHER_KEY
            st.write_conf()
            for pid in st.master_pids("publish"):
                os.kill(pid, signal.SIGHUP)
            body = form([("topic", BOOK), ("data", "x")])
            new = mint({"mercure": {"publish": ["*"]}}, key=OTHER_KEY)
            st.wait_for(lambda: post_hub(st, body, new)[0] == 200,
                        "the new key after SIGHUP")
            status, _, text = post_hub(st, body, old)
            self.assertEqual(status, 401, text)


if __name__ == "__main__":
    harness.main()
