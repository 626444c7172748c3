#!/usr/bin/env python3
"""test_publish_cgi.py -- the same sseq-publish binary run as a plain CGI
program (CGI variables in the environment, the body on stdin, the response
on stdout, the log on stderr): it publishes, refuses with the same
statuses and reasons, and logs one line per refusal without the token."""
import json

import harness
from publish_util import Subscriber, appends, run_cgi, stack


def cgi_env(st, channel="cgi", ctype="text/plain", clen=None, token=None,
            method="POST", query=""):
    env = {"REQUEST_METHOD": method, "SCRIPT_NAME": "/publish",
           "PATH_INFO": "/" + channel, "QUERY_STRING": query,
           "REMOTE_ADDR": "192.0.2.7", "CONTENT_TYPE": ctype,
           "HTTP_AUTHORIZATION": "Bearer " + (token or st.token)}
    if clen is not None:
        env["CONTENT_LENGTH"] = str(clen)
    return env


class CGI(harness.TestCase):
    def test_publish(self):
        with stack(publish_procs=0) as st:
            sub = Subscriber(st, "cgi")
            try:
                body = json.dumps({"data": "from cgi \u00e9",
                                   "event": "c"}).encode()
                status, headers, raw, log = run_cgi(
                    st, cgi_env(st, ctype="application/json",
                                clen=len(body)), body)
                self.assertEqual(status, 202, raw + log.encode())
                self.assertEqual(headers["content-type"], "application/json")
                reply = json.loads(raw)
                ev = sub.events(1)[0]
                self.assertEqual((ev.id, ev.event, ev.data),
                                 (reply["id"], "c", "from cgi \u00e9"))
            finally:
                sub.close()

    def test_refusal_logged_without_token(self):
        with stack(publish_procs=0) as st:
            before = appends(st)
            status, _, raw, log = run_cgi(
                st, cgi_env(st, clen=1, token="wrong-token-value"), b"x")
            self.assertEqual(status, 403, raw)
            self.assertEqual(raw, b"wrong token (channel cgi)\n")
            self.assertIn("refused 403: wrong token (channel cgi); "
                          "channel=cgi remote=192.0.2.7", log)
            self.assertNotIn("wrong-token-value", log)
            self.assertNotIn(st.token, log)
            self.assertEqual(appends(st), before)

    def test_too_large_from_content_length(self):
        with stack(publish_procs=0) as st:
            before = appends(st)
            status, _, raw, _ = run_cgi(st, cgi_env(st, clen=65537),
                                        b"x" * 65537)
            self.assertEqual(status, 413, raw)
            self.assertIn(b"body of 65537 bytes is over the limit", raw)
            self.assertEqual(appends(st), before)

    def test_queue_missing(self):
        with stack(publish_procs=0, create_queue=False) as st:
            status, _, raw, log = run_cgi(st, cgi_env(st, clen=1), b"x")
            self.assertEqual(status, 503, raw)
            self.assertIn(st.queue + " does not exist", log)
            self.assertIn("run `sseq create`", log, "the log says the fix")


if __name__ == "__main__":
    harness.main()
