#!/usr/bin/env python3
"""test_publishing_doc.py -- doc/publishing.md's examples, run as the
guide shows them against a real stack (nginx + spawn-fcgi + sseq-stream
+ sseq-publish): the curl line, the PHP and the Python snippets over
HTTP, and the `sseq publish` lines. Each block is taken from the guide
itself; the only changes are the stack's address for
http://127.0.0.1/ and its token for TOKEN, and `sseq` finds the stack's
config through $SSEQ_CONF. A subscriber of the channels the examples
name must get exactly what each example sends."""
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.environ.get("SSEQ_SRCDIR", "."),
                                "tests", "integration"))
import harness  # noqa: E402

DOC = os.path.join(harness.SRCDIR, "doc", "publishing.md")


def blocks(lang):
    """The fenced blocks of the guide in language lang, as text."""
    with open(DOC) as f:
        text = f.read()
    return re.findall(r"^```%s\n(.*?)^```$" % lang, text, re.M | re.S)


class PublishingDoc(harness.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.st = harness.Stack(publish_procs=1).__enter__()
        cls.tmp = tempfile.mkdtemp(prefix="sseq-doc-")

    @classmethod
    def tearDownClass(cls):
        cls.st.__exit__(None, None, None)
        subprocess.run(["rm", "-rf", cls.tmp])

    def adapt(self, code):
        return code.replace("http://127.0.0.1/", "http://127.0.0.1:%d/" %
                            self.st.port).replace("TOKEN", self.st.token)

    def run_code(self, args, code=None):
        env = dict(os.environ, SSEQ_CONF=self.st.conf_path,
                   PATH=os.path.join(harness.BUILDDIR, "src") + ":" +
                   os.environ["PATH"])
        r = subprocess.run(args, input=code, capture_output=True,
                           text=True, env=env, timeout=60)
        self.assertEqual(r.returncode, 0, "%s\n%s%s" % (code, r.stdout,
                                                        r.stderr))
        return r.stdout

    def subscriber(self, *channels):
        return harness.SSEClient(self.st.port, "/events?" + "&".join(
            "channel=" + c for c in channels))

    def test_curl(self):
        """The shell block of "Over HTTP": a form POST to chat."""
        (code,) = [b for b in blocks("sh") if "curl" in b]
        sub = self.subscriber("chat")
        out = self.run_code(["sh", "-e"], self.adapt(code))
        reply = json.loads(out)
        ev = sub.events(1, timeout=10)
        self.assertEqual([(e.id, e.event, e.data) for e in ev],
                         [(reply["id"], "message", "hello")])
        sub.close()

    def test_php(self):
        """The PHP block: a JSON POST with an event type to
        notifications; the answer's id is the event's."""
        (code,) = blocks("php")
        path = os.path.join(self.tmp, "publish.php")
        with open(path, "w") as f:
            f.write("<?php\n" + self.adapt(code) + 'echo $answer->id;\n')
        sub = self.subscriber("notifications")
        out = self.run_code(["php", path])
        ev = sub.events(1, timeout=10)
        self.assertEqual([(e.id, e.event, json.loads(e.data)) for e in ev],
                         [(out.strip(), "notice",
                           {"user": 42, "text": "hi"})])
        sub.close()

    def test_python(self):
        """The Python block: prints the id of the message it posts."""
        (code,) = blocks("python")
        sub = self.subscriber("notifications")
        out = self.run_code([sys.executable, "-"], self.adapt(code))
        ev = sub.events(1, timeout=10)
        self.assertEqual([(e.id, e.event, e.data) for e in ev],
                         [(out.strip(), "message", "hello")])
        sub.close()

    def test_sseq_publish(self):
        """The shell block of "From the shell": `sseq publish` with an
        argument, then from stdin with an event type (its final newline
        dropped); each prints its id."""
        (code,) = [b for b in blocks("sh") if "sseq publish" in b]
        sub = self.subscriber("chat")
        out = self.run_code(["sh", "-e"], self.adapt(code))
        ev = sub.events(2, timeout=10)
        self.assertEqual([(e.id, e.event, e.data) for e in ev],
                         list(zip(out.split(), ["message", "tick"],
                                  ["hello", '{"n": 1}'])))
        sub.close()


if __name__ == "__main__":
    harness.main()
