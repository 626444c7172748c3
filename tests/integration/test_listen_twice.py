#!/usr/bin/env python3
"""test_listen_twice.py -- sseq-stream / sseq-publish started by hand
with --listen unix:PATH while another one already listens there: the
second is refused in one line that says what to do, and the first's
socket stays (it still accepts, and is removed only when the first
stops). A path that is not a socket is never deleted."""
import os
import shutil
import signal
import socket
import subprocess
import tempfile

import harness


class ListenTwice(harness.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="sseq-lt-")
        self.conf = os.path.join(self.tmp, "sseq.conf")
        with open(self.conf, "w") as f:
            f.write('queue: { path = "/sseq-lt-%d"; };\n' % os.getpid())
        self.sock = os.path.join(self.tmp, "s.sock")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def start(self, role):
        return subprocess.Popen([harness.binary("sseq-" + role), "-c",
                                 self.conf, "--listen", "unix:" + self.sock,
                                 "-p", "1"], stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)

    def accepts(self):
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.connect(self.sock)
            return True
        except OSError:
            return False

    def test_second_refused_first_kept(self):
        for role in ("stream", "publish"):
            with self.subTest(role=role):
                first = self.start(role)
                try:
                    self.assertTrue(harness.wait_until(self.accepts),
                                    "the first sseq-%s listens" % role)
                    inode = os.stat(self.sock).st_ino
                    second = self.start(role)
                    _, err = second.communicate(timeout=30)
                    self.assertEqual(second.returncode, 1, err)
                    self.assertIn("another process already listens on it",
                                  err)
                    self.assertEqual(os.stat(self.sock).st_ino, inode,
                                     "the first's socket was replaced")
                    self.assertTrue(self.accepts(), "the first still "
                                    "accepts after the second's refusal")
                finally:
                    first.send_signal(signal.SIGTERM)
                    _, err = first.communicate(timeout=30)
                self.assertEqual(first.returncode, 0, err)
                self.assertFalse(os.path.exists(self.sock),
                                 "the first removes its socket at exit")

    def test_dead_socket_reused(self):
        """A socket file left by a killed process is taken over."""
        with socket.socket(socket.AF_UNIX) as s:
            s.bind(self.sock)           # never listened: nobody accepts
        p = self.start("stream")
        try:
            self.assertTrue(harness.wait_until(self.accepts), "listens")
        finally:
            p.send_signal(signal.SIGTERM)
            _, err = p.communicate(timeout=30)
        self.assertEqual(p.returncode, 0, err)

    def test_file_not_deleted(self):
        with open(self.sock, "w") as f:
            f.write("not a socket\n")
        p = self.start("stream")
        _, err = p.communicate(timeout=30)
        self.assertEqual(p.returncode, 1, err)
        self.assertIn("exists and is not a socket", err)
        with open(self.sock) as f:
            self.assertEqual(f.read(), "not a socket\n")


if __name__ == "__main__":
    harness.main()
