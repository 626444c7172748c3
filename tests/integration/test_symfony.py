#!/usr/bin/env python3
"""test_symfony.py -- a PHP app publishing through sseq with the real
Symfony Mercure component (Debian's php-symfony-mercure: Hub,
StaticTokenProvider, Update), the way a Symfony app's HubInterface does:
the hub URL through nginx, a token minted by python3-jwt; a private
update with alternate topics, a type and a retry is written whole
(`sseq tail --json`) and its id is the answer; a public one reaches a GET
subscriber through nginx; a token that does not cover every topic makes
Symfony throw and writes nothing."""
import json
import os
import shutil
import subprocess

import harness
from hub_util import HUB, KEY, newest, publisher
from publish_util import Subscriber, appends, stack

PHP = shutil.which("php") or "/usr/bin/php"
SCRIPT = os.path.join(harness.SRCDIR, "tests", "integration",
                      "symfony_publisher.php")
BOOK = "https://example.com/books/1"
USER = "https://example.com/users/dunglas"


class Symfony(harness.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.st = stack(publish_procs=1, settings={
            "mercure.publisher_jwt_key": KEY,
            "mercure.subscriber_jwt_key": KEY}).__enter__()
        cls.url = "http://127.0.0.1:%d%s" % (cls.st.port, HUB)

    @classmethod
    def tearDownClass(cls):
        cls.st.__exit__(None, None, None)

    def php(self, update, token=None):
        """Runs the PHP publisher; returns the CompletedProcess."""
        self.assertTrue(os.access(PHP, os.X_OK), "php missing: apt-get "
                        "install php-cli php-symfony-mercure")
        spec = {"url": self.url, "public_url": "https://example.com" + HUB,
                "token": token or publisher(), "update": update}
        return subprocess.run([PHP, SCRIPT, json.dumps(spec)],
                              capture_output=True, text=True, timeout=60)

    def test_private_update_with_alternates(self):
        before = appends(self.st)
        r = self.php({"topics": [BOOK, USER], "data": '{"title": "Hi"}',
                      "private": True, "type": "book.updated",
                      "retry": 5000})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(appends(self.st), before + 1)
        rec = newest(self.st)[-1]
        self.assertEqual(r.stdout, rec["id"])
        self.assertEqual((rec["channel"], rec["alt"], rec["private"],
                          rec["event"], rec["retry"], rec["data"]),
                         (BOOK, [USER], True, "book.updated", 5000,
                          '{"title": "Hi"}'))

    def test_publisher_id_is_the_answer(self):
        r = self.php({"topics": BOOK, "data": "x", "id": "urn:uuid:sym-1"})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "urn:uuid:sym-1")
        self.assertEqual(newest(self.st)[-1]["pub_id"], "urn:uuid:sym-1")

    def test_public_update_reaches_a_subscriber(self):
        sub = Subscriber(self.st, "books")
        try:
            r = self.php({"topics": ["books", BOOK],
                          "data": "line 1\nline 2", "type": "news"})
            self.assertEqual(r.returncode, 0, r.stderr)
            ev = sub.events(1)[0]
            self.assertEqual((ev.id, ev.event, ev.data),
                             (r.stdout, "news", "line 1\nline 2"))
        finally:
            sub.close()

    def test_token_not_covering_an_alternate(self):
        before = appends(self.st)
        r = self.php({"topics": [BOOK, USER], "data": "x"},
                     token=publisher(BOOK))
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("Failed to send an update", r.stderr)
        self.assertIn("403", r.stderr)
        self.assertEqual(appends(self.st), before)


if __name__ == "__main__":
    harness.main()
