"""test_runtime_cli.py -- what an operator types to start the FastCGI
programs by hand: a bad --listen is refused with the reason, a unix socket
gets the mode nginx's user needs and is removed at exit, -t checks the
config, --version and usage name the program, not its path."""
import os
import signal
import stat
import subprocess
import tempfile
import time
import unittest

import harness


def stderr_of(pid):
    """The file pid's stderr points at (None when it is gone)."""
    try:
        return os.readlink("/proc/%d/fd/2" % pid)
    except OSError:
        return None


class RuntimeCliTest(harness.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="sseq-rt-")
        self.conf = os.path.join(self.tmp, "sseq.conf")
        with open(self.conf, "w") as f:
            f.write('queue: { path = "/sseq-rt-%d"; };\n' % os.getpid())

    def run_prog(self, role, *args, timeout=10):
        return subprocess.run([harness.binary("sseq-" + role)] + list(args),
                              capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)

    def test_bare_word_listen_refused(self):
        for role in ("stream", "publish"):
            r = self.run_prog(role, "-c", self.conf, "--listen", "foo")
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn("--listen 'foo'", r.stderr)
            self.assertIn("unix:/", r.stderr)
            self.assertFalse(os.path.exists("foo"))

    def test_version_and_test(self):
        for role in ("stream", "publish"):
            r = self.run_prog(role, "--version")
            self.assertEqual(r.returncode, 0)
            self.assertRegex(r.stdout, r"^sseq-%s \d" % role)
            r = self.run_prog(role, "-t", "-c", self.conf)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("config %s ok" % self.conf, r.stdout)
            r = self.run_prog(role, "--processes", "0")
            self.assertEqual(r.returncode, 2)
            self.assertIn("--processes '0'", r.stderr)

    def test_unix_socket_mode_and_removal(self):
        sock = os.path.join(self.tmp, "s.sock")
        p = subprocess.Popen([harness.binary("sseq-stream"), "-c", self.conf,
                              "--listen", "unix:" + sock, "-p", "1"],
                             stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 10
            while not os.path.exists(sock) and time.monotonic() < deadline:
                time.sleep(0.02)
            self.assertTrue(os.path.exists(sock))
            self.assertEqual(stat.S_IMODE(os.stat(sock).st_mode), 0o660)
        finally:
            p.send_signal(signal.SIGTERM)
            _, err = p.communicate(timeout=15)
        self.assertEqual(p.returncode, 0, err)
        self.assertFalse(os.path.exists(sock), "the socket is removed")
        self.assertIn("sseq-stream 0.1.0", err, "the startup line")


    def test_log_reopened_after_rotation(self):
        """logrotate's postrotate (sseq-spawn reopen ROLE): the master and
        its workers write to the new file, none to the moved one; both
        files are 0640."""
        with harness.Stack(stream_procs=2, publish_procs=1) as st:
            for role in ("stream", "publish"):
                log = os.path.join(st.tmpdir, role + ".log")
                self.assertEqual(stat.S_IMODE(os.stat(log).st_mode), 0o640,
                                 "sseq-spawn creates its log 0640")
                os.rename(log, log + ".1")
                r = st.spawn("reopen", role)
                self.assertEqual(r.returncode, 0, r.stderr)
                procs = st.master_pids(role) + st.pids(role)
                st.wait_for(lambda: all(stderr_of(p) == log for p in procs),
                            "every sseq-%s writing to the new log" % role)
                self.assertEqual(stat.S_IMODE(os.stat(log).st_mode), 0o640,
                                 "the reopened log is not world-readable")
                r = st.spawn("reload", role)
                self.assertEqual(r.returncode, 0, r.stderr)
                nworkers = len(st.pids(role))
                st.wait_for(lambda: st.log(role + ".log").count(
                    "reloaded") >= nworkers, "reload lines in the new log")
                with open(log + ".1") as f:
                    self.assertNotIn("reloaded", f.read())


if __name__ == "__main__":
    harness.main()
