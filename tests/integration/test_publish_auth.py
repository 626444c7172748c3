#!/usr/bin/env python3
"""test_publish_auth.py -- who may publish: the right token, a wrong one
(same and other length), a token scoped to other channels, an open channel
without a token, no tokens configured at all; and CORS for pages on other
origins (preflight and response headers)."""
import harness
from publish_util import appends, post, stack

SCOPED = "scoped-token-abcdef012345"


class Auth(harness.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.st = stack(publish_procs=1, settings={
            "publish.tokens": [
                {"token": harness.TOKEN, "channels": ["*"]},
                {"token": SCOPED, "channels": ["news", "news.*"]}],
            "publish.open_channels": ["open-*"]}).__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.st.__exit__(None, None, None)

    def status(self, path, token, reason=None):
        before = appends(self.st)
        got, hdrs, raw = post(self.st, path, "x", token=token)
        if got == 202:
            self.assertEqual(appends(self.st), before + 1)
        else:
            self.assertEqual(appends(self.st), before)
        if reason:
            self.assertIn(reason, raw.decode())
        return got, hdrs

    def test_right_token(self):
        self.assertEqual(self.status("/publish/chat", harness.TOKEN)[0], 202)

    def test_wrong_token_same_length(self):
        wrong = harness.TOKEN[:-1] + ("x" if harness.TOKEN[-1] != "x"
                                      else "y")
        self.assertEqual(self.status("/publish/chat", wrong,
                                     "wrong token")[0], 403)

    def test_wrong_token_other_length(self):
        self.assertEqual(self.status("/publish/chat", harness.TOKEN[:5],
                                     "wrong token")[0], 403)
        self.assertEqual(self.status("/publish/chat", harness.TOKEN * 2,
                                     "wrong token")[0], 403)

    def test_scoped_token(self):
        self.assertEqual(self.status("/publish/news", SCOPED)[0], 202)
        self.assertEqual(self.status("/publish/news.sport", SCOPED)[0], 202)
        self.assertEqual(self.status(
            "/publish/chat", SCOPED,
            "token not allowed for this channel (channel chat)")[0], 403)

    def test_open_channel(self):
        self.assertEqual(self.status("/publish/open-chat", "")[0], 202)
        got, hdrs = self.status("/publish/closed", "",
                                "authorization required")
        self.assertEqual(got, 401)
        self.assertIn("Bearer", hdrs["www-authenticate"])

    def test_open_channel_wrong_token(self):
        self.assertEqual(self.status("/publish/open-chat", "not-the-token",
                                     "wrong token")[0], 403)
        self.assertEqual(self.status("/publish/open-chat", SCOPED)[0], 202)


class NoTokens(harness.TestCase):
    def test_disabled(self):
        with stack(publish_procs=1, settings={
                "publish.tokens": [],
                "publish.open_channels": ["lobby"]}) as st:
            before = appends(st)
            got, _, raw = post(st, "/publish/chat", "x")
            self.assertEqual(got, 403)
            self.assertIn(b"publishing is disabled: no tokens", raw)
            got, _, raw = post(st, "/publish/chat", "x", token="")
            self.assertEqual(got, 403)
            self.assertEqual(appends(st), before)
            got, _, raw = post(st, "/publish/lobby", "x", token="")
            self.assertEqual(got, 202, raw)

    def test_open_channels_off_by_default(self):
        with stack(publish_procs=1, settings={
                "publish.open_channels": None}) as st:
            got, _, _ = post(st, "/publish/open-chat", "x", token="")
            self.assertEqual(got, 401)


class CORS(harness.TestCase):
    ORIGIN = "https://app.example"

    def test_preflight_and_post(self):
        with stack(publish_procs=1,
                   settings={"cors_origins": [self.ORIGIN]}) as st:
            got, hdrs, _ = st.http("OPTIONS", "/publish/chat", headers={
                "Origin": self.ORIGIN,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers":
                    "authorization, content-type"})
            self.assertEqual(got, 204)
            self.assertEqual(hdrs["access-control-allow-origin"],
                             self.ORIGIN)
            self.assertIn("POST", hdrs["access-control-allow-methods"])
            allowed = hdrs["access-control-allow-headers"].lower()
            self.assertIn("authorization", allowed)
            self.assertIn("content-type", allowed)
            got, hdrs, _ = post(st, "/publish/chat", "x",
                                headers={"Origin": self.ORIGIN})
            self.assertEqual(got, 202)
            self.assertEqual(hdrs["access-control-allow-origin"],
                             self.ORIGIN)
            got, hdrs, _ = post(st, "/publish/chat", "x", token="bad-token",
                                headers={"Origin": self.ORIGIN})
            self.assertEqual(got, 403)
            self.assertEqual(hdrs["access-control-allow-origin"],
                             self.ORIGIN)
            got, hdrs, _ = st.http("OPTIONS", "/publish/chat", headers={
                "Origin": "https://evil.example"})
            self.assertEqual(got, 204)
            self.assertNotIn("access-control-allow-origin", hdrs)
            got, hdrs, _ = post(st, "/publish/chat", "x",
                                headers={"Origin": "https://evil.example"})
            self.assertNotIn("access-control-allow-origin", hdrs)


if __name__ == "__main__":
    harness.main()
