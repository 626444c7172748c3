#!/usr/bin/env python3
"""test_publish.py -- sseq-publish through real nginx + spawn-fcgi: each
content type delivers exactly the data and event sent, and every row of
the error table answers its status with a one-line reason and writes
nothing to the queue."""
import json
import os
import time

import harness
from publish_util import (Subscriber, appends, fcgi_open, fcgi_params,
                          fcgi_response, parse_cgi, post, sse_data, stack)


class SharedStack(harness.TestCase):
    """One stack for all the tests of a class (they publish, not break)."""

    @classmethod
    def setUpClass(cls):
        cls.st = stack(publish_procs=1).__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.st.__exit__(None, None, None)


class Delivery(SharedStack):
    """Each content type succeeds; subscribers see the data and event."""

    def publish_and_see(self, channel, body, ctype, data, event=None,
                        query=""):
        sub = Subscriber(self.st, channel)
        try:
            status, headers, raw = post(self.st, "/publish/" + channel +
                                        query, body, ctype)
            self.assertEqual(status, 202, raw)
            self.assertEqual(headers["content-type"], "application/json")
            reply = json.loads(raw)
            self.assertEqual(reply["channel"], channel)
            evs = sub.events(1)
            self.assertEqual(len(evs), 1)
            self.assertEqual(evs[0].id, reply["id"])
            self.assertEqual(evs[0].data, sse_data(data))
            self.assertEqual(evs[0].event, event or "message")
        finally:
            sub.close()

    def test_text_plain(self):
        self.publish_and_see("text1", "hello world", "text/plain",
                             "hello world")

    def test_text_multiline_unicode_event_query(self):
        data = "line 1\nl\u00efne 2 \u20ac\nline 3 \U0001F600"
        self.publish_and_see("text2", data, "text/plain; charset=utf-8",
                             data, "note", "?event=note")

    def test_text_64k(self):
        data = "".join(chr(ord("a") + i % 26) for i in range(65536))
        self.publish_and_see("big", data, "text/plain", data)

    def test_channel_in_query(self):
        sub = Subscriber(self.st, "qchan")
        try:
            status, _, raw = post(self.st, "/publish?channel=qchan", "q")
            self.assertEqual(status, 202, raw)
            self.assertEqual(sub.events(1)[0].data, "q")
        finally:
            sub.close()

    def test_form(self):
        self.publish_and_see("form1", "data=a+b%0Ac%C3%A9&event=upd",
                             "application/x-www-form-urlencoded",
                             "a b\nc\u00e9", "upd")

    def test_form_64k(self):
        data = "x\u00e9" * 21845 + "y"         # 65536 bytes of UTF-8
        enc = "".join("%%%02X" % b for b in data.encode())
        self.publish_and_see("form2", "data=" + enc,
                             "application/x-www-form-urlencoded", data)

    def test_json_string(self):
        body = json.dumps({"event": "chat", "data": "hi\nthere \u00e9"})
        self.publish_and_see("json1", body, "application/json",
                             "hi\nthere \u00e9", "chat")

    def test_json_value(self):
        body = '{"data": {"user": "ann", "n": [1, 2.5, true, null]}}'
        self.publish_and_see("json2", body, "application/json",
                             '{"user":"ann","n":[1,2.5,true,null]}')

    def test_json_event_from_query(self):
        self.publish_and_see("json3", '{"data":"x"}', "application/json",
                             "x", "qev", "?event=qev")

    def test_json_64k(self):
        data = "\u00e9" * 32768                 # 65536 bytes of UTF-8
        self.publish_and_see("json4", json.dumps({"data": data}),
                             "application/json", data)


class Errors(SharedStack):
    """Every row of the error table: status, reason, nothing written."""

    def refused(self, status, reason, path="/publish/chat", body=b"x",
                ctype="text/plain", token=None, headers=None,
                method="POST"):
        before = appends(self.st)
        got, hdrs, raw = post(self.st, path, body, ctype, token, headers,
                              method)
        text = raw.decode("utf-8")
        self.assertEqual(got, status, text)
        self.assertTrue(text.endswith("\n") and text.count("\n") == 1,
                        "one-line reason: %r" % text)
        self.assertIn(reason, text)
        self.assertEqual(appends(self.st), before, "nothing written")
        return hdrs

    def test_no_channel(self):
        self.refused(400, "no channel", "/publish")
        self.refused(400, "no channel", "/publish/")

    def test_bad_channel(self):
        self.refused(400, 'bad channel name "bad name"',
                     "/publish/bad%20name")
        self.refused(400, "bad channel name", "/publish?channel=" +
                     "x" * 65)
        self.refused(400, "bad channel name", "/publish/a/b")
        self.refused(400, "two channels given", "/publish/a?channel=b")

    def test_bad_event(self):
        self.refused(400, "bad event name", "/publish/chat?event=a%0Ab")
        self.refused(400, "bad event name", "/publish/chat?event=a%0Db")
        self.refused(400, "bad event name", "/publish/chat?event=a%00b")
        self.refused(400, "bad event name", "/publish/chat?event=" +
                     "e" * 200)
        self.refused(400, "bad event name", body='{"data":"x","event":'
                     '"a\\nb"}', ctype="application/json")
        self.refused(400, "bad event name", body="data=x&event=a%0Ab",
                     ctype="application/x-www-form-urlencoded")

    def test_malformed_form(self):
        self.refused(400, "malformed form body: bad percent escape",
                     body="data=%ZZ",
                     ctype="application/x-www-form-urlencoded")
        self.refused(400, "malformed form body: no data= field",
                     body="event=x",
                     ctype="application/x-www-form-urlencoded")

    def test_malformed_json(self):
        self.refused(400, "malformed JSON body: unterminated string at byte",
                     body='{"data":"x', ctype="application/json")
        self.refused(400, "malformed JSON body: trailing data",
                     body='{"data":"x"} y', ctype="application/json")
        self.refused(400, 'no "data" member', body='{"event":"x"}',
                     ctype="application/json")

    def test_invalid_utf8(self):
        self.refused(400, "data is not valid UTF-8", body=b"ok \xff")
        self.refused(400, "data is not valid UTF-8", body="data=%C3",
                     ctype="application/x-www-form-urlencoded")
        self.refused(400, "data is not valid UTF-8",
                     body=b'{"data":"\xed\xa0\x80"}',
                     ctype="application/json")

    def test_no_authorization(self):
        hdrs = self.refused(401, "authorization required", token="")
        self.assertTrue(hdrs["www-authenticate"].startswith("Bearer"))
        self.refused(401, "not \"Bearer <token>\"",
                     headers={"Authorization": "Basic dXNlcjpwYXNz"},
                     token="")

    def test_wrong_token(self):
        # Same length as the right one, and unlike anything else logged.
        wrong = ("W7q" * len(self.st.token))[:len(self.st.token)]
        self.refused(403, "wrong token", token=wrong)
        self.refused(403, "wrong token", token="short-token")
        self.refused(403, "wrong token", token=self.st.token + "x")
        log = self.st.log("publish.log")
        self.assertNotIn(wrong, log)
        self.assertNotIn(self.st.token, log)

    def test_method(self):
        hdrs = self.refused(405, 'method "GET" not allowed', method="GET",
                            body=None)
        self.assertEqual(hdrs["allow"], "POST, OPTIONS")
        self.refused(405, 'method "PUT" not allowed', method="PUT")

    def test_too_large(self):
        self.refused(413, "over the limit", body="x" * 65537)
        big = "data=" + "x" * 65537        # body within 3x+4096, data not
        self.refused(413, "over max_message_size", body=big,
                     ctype="application/x-www-form-urlencoded")
        self.refused(413, "over the limit", body="data=" + "x" * 200704,
                     ctype="application/x-www-form-urlencoded")
        self.refused(413, "over max_message_size",
                     body=json.dumps({"data": "y" * 65537}),
                     ctype="application/json")

    def test_content_type(self):
        self.refused(415, 'unsupported Content-Type "application/xml"',
                     ctype="application/xml")
        self.refused(415, 'unsupported charset "iso-8859-1"',
                     ctype="text/plain; charset=iso-8859-1")
        self.refused(415, "missing Content-Type", ctype=None)

    def test_refusals_logged(self):
        self.refused(403, "wrong token", "/publish/logged",
                     token="another-wrong-token")
        log = self.st.log("publish.log")
        # spawn-fcgi points its children's stderr at /dev/null; the log
        # lines are checked here when the harness captures them, and
        # always in CGI mode (test_publish_cgi.py).
        if "sseq-publish[" in log:
            line = [ln for ln in log.splitlines()
                    if "channel=logged" in ln][-1]
            self.assertIn("refused 403: wrong token", line)
            self.assertIn("remote=127.0.0.1", line)
        self.assertNotIn("another-wrong-token", log)


class RawFastCGI(harness.TestCase):
    """Bodies only a misbehaving FastCGI client sends: stalled, shorter or
    longer than CONTENT_LENGTH."""

    def test_stalled_body(self):
        with stack(publish_procs=1) as st:
            before = appends(st)
            sock = os.path.join(st.tmpdir, "publish.sock")
            start = time.monotonic()
            s = fcgi_open(sock, fcgi_params(st, clen=100), b"0123456789",
                          end_stdin=False)
            status, _, body = parse_cgi(fcgi_response(s, timeout=30))
            s.close()
            self.assertEqual(status, 408, body)
            self.assertIn(b"request body timed out", body)
            self.assertGreater(time.monotonic() - start, 2)
            self.assertEqual(appends(st), before)

    def test_short_and_long_body(self):
        with stack(publish_procs=1) as st:
            before = appends(st)
            sock = os.path.join(st.tmpdir, "publish.sock")
            s = fcgi_open(sock, fcgi_params(st, clen=20), b"0123456789")
            status, _, body = parse_cgi(fcgi_response(s))
            s.close()
            self.assertEqual(status, 400, body)
            self.assertIn(b"request body cut short (got 10 of 20", body)
            s = fcgi_open(sock, fcgi_params(st, clen=5), b"0123456789")
            status, _, body = parse_cgi(fcgi_response(s))
            s.close()
            self.assertEqual(status, 413, body)
            self.assertIn(b"longer than its Content-Length 5", body)
            self.assertEqual(appends(st), before)
            s = fcgi_open(sock, fcgi_params(st, clen=10), b"0123456789")
            status, _, body = parse_cgi(fcgi_response(s))
            s.close()
            self.assertEqual(status, 202, body)
            self.assertEqual(appends(st), before + 1)


class QueueMissing(harness.TestCase):
    def test_503(self):
        with stack(publish_procs=1, create_queue=False) as st:
            for _ in range(3):
                status, _, body = post(st, "/publish/chat", "x")
                self.assertEqual(status, 503, body)
                self.assertIn(b"queue unavailable", body)
                self.assertNotIn(st.queue.encode(), body,
                                 "HTTP clients are not told the queue")
            log = st.log("publish.log")
            self.assertIn(st.queue, log, "the log names the queue")
            self.assertIn("sseq create", log, "and says how to fix it")
            self.assertEqual(log.count("is missing") +
                             log.count("No such file"), 1,
                             "once, not per request: " + log)
            st.sseq_ok("create")
            status, _, body = post(st, "/publish/chat", "x")
            self.assertEqual(status, 202, body)


if __name__ == "__main__":
    harness.main()
