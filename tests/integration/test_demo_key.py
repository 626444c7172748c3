#!/usr/bin/env python3
"""test_demo_key.py -- ./scripts/demo takes any Mercure JWT key sseq.conf
takes (it used to refuse the `!` every Mercure example key has), and a
key sseq refuses stops the demo with sseq's own one-line reason. The
demo runs on a free port in a private directory, with this build."""
import base64
import hashlib
import hmac
import json
import os
import shutil
import subprocess
import tempfile
import urllib.parse

import harness

DEMO = os.path.join(harness.SRCDIR, "scripts", "demo")


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def jwt(key, claims):
    """An HS256 JWT, minted here (not by sseq or the demo)."""
    head = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64url(json.dumps(claims).encode())
    sig = hmac.new(key.encode(), ("%s.%s" % (head, body)).encode(),
                   hashlib.sha256).digest()
    return "%s.%s.%s" % (head, body, b64url(sig))


class DemoKey(harness.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="sseq-demo-")
        self.hold, self.port = harness.hold_port()
        self.hold.close()       # the demo's nginx takes it

    def demo(self, *args, key):
        env = dict(os.environ, SSEQ_PORT=str(self.port),
                   SSEQ_DEMO_DIR=os.path.join(self.tmp, "demo"),
                   SSEQ_BUILDDIR=harness.BUILDDIR, SSEQ_JWT_KEY=key)
        return subprocess.run([DEMO] + list(args), env=env,
                              capture_output=True, text=True, timeout=120)

    def tearDown(self):
        self.demo("stop", key="")
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_key_with_bang_and_quotes(self):
        key = '!My"Mercure\\Hub-JWT-secret-key-that-is-long!Zq8'
        r = self.demo("start", key=key)
        self.assertEqual(r.returncode, 0, r.stdout[-2000:] + r.stderr)
        self.assertIn(key, r.stdout, "the demo prints the key it uses")
        c = harness.SSEClient(self.port,
                              "/.well-known/mercure?topic=chat.lobby")
        try:
            self.assertEqual(c.status, 200)
            import http.client
            h = http.client.HTTPConnection("127.0.0.1", self.port,
                                           timeout=10)
            body = urllib.parse.urlencode({"topic": "chat.lobby",
                                           "data": "signed with a ! key"})
            h.request("POST", "/.well-known/mercure", body=body, headers={
                "Authorization": "Bearer " + jwt(key, {"mercure": {
                    "publish": ["*"]}}),
                "Content-Type": "application/x-www-form-urlencoded"})
            resp = h.getresponse()
            self.assertEqual(resp.status, 200, resp.read())
            resp.read()
            got = c.events(1, timeout=10)
            self.assertEqual(got[0].data, "signed with a ! key")
        finally:
            c.close()

    def test_weak_key_refused_by_sseq(self):
        r = self.demo("start", key="short!")
        self.assertNotEqual(r.returncode, 0, r.stdout)
        lines = [l for l in r.stderr.splitlines() if l.startswith("sseq:")]
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertIn("mercure.publisher_jwt_key", lines[0])


if __name__ == "__main__":
    harness.main()
