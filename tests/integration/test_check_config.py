#!/usr/bin/env python3
"""test_check_config.py -- `sseq check-config` as an operator reads it
about the queue: the owner, group and mode of the queue file, and what
the programs' queue_open would say of it (a queue another user made, or
one every user may write, is refused with the owner or mode named and
the fix). Real files in /dev/shm and real users (root, www-data,
nobody); needs root, as README's install does."""
import os
import pwd
import shutil
import subprocess
import tempfile
import unittest

import harness


class CheckConfig(harness.TestCase):
    def setUp(self):
        self.assertEqual(os.geteuid(), 0, "run as root: the test gives "
                         "the queue to other users")
        self.tmp = tempfile.mkdtemp(prefix="sseq-cc-")
        self.queue = "/sseq-cc-%d" % os.getpid()
        self.file = "/dev/shm" + self.queue
        self.conf = os.path.join(self.tmp, "sseq.conf")
        self.write_conf('queue: { path = "%s"; size = "1M"; };\n'
                        % self.queue)

    def tearDown(self):
        try:
            os.unlink(self.file)
        except FileNotFoundError:
            pass
        shutil.rmtree(self.tmp, ignore_errors=True)

    def write_conf(self, text):
        with open(self.conf, "w") as f:
            f.write(text)

    def sseq(self, *args):
        return subprocess.run([harness.binary("sseq"), "-c", self.conf]
                              + list(args), capture_output=True, text=True,
                              timeout=60)

    def test_owner_reported_and_trusted(self):
        r = self.sseq("create")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.sseq("check-config")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("# queue %s: owner www-data, group www-data, mode 0600"
                      % self.file, r.stdout)
        self.assertIn("the programs (as www-data) trust its owner: ok",
                      r.stdout)

    def test_foreign_owner_named(self):
        """A queue another user made (a squatter) is what the programs
        would refuse: check-config says so, naming the owner."""
        self.assertEqual(self.sseq("create").returncode, 0)
        nobody = pwd.getpwnam("nobody")
        os.chown(self.file, nobody.pw_uid, -1)
        r = self.sseq("check-config")
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("owner nobody, group www-data", r.stdout)
        self.assertIn("the programs (as www-data) would refuse it: queue "
                      "%s is owned by nobody" % self.file, r.stderr)
        self.assertEqual(r.stderr.count("\n"), 1, r.stderr)

    def test_world_writable_named(self):
        self.assertEqual(self.sseq("create").returncode, 0)
        os.chmod(self.file, 0o666)
        r = self.sseq("check-config")
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("is writable by every user (mode 0666)", r.stderr)
        self.assertIn("chmod o-w " + self.file, r.stderr)

    def test_queue_owner_setting_trusted(self):
        """queue.owner = "nobody": a queue of nobody's is trusted."""
        self.write_conf('queue: { path = "%s"; size = "1M"; '
                        'owner = "nobody"; };\n' % self.queue)
        self.assertEqual(self.sseq("create").returncode, 0)
        r = self.sseq("check-config")
        self.assertIn("owner nobody", r.stdout)
        self.assertIn("the programs (as nobody) trust its owner: ok",
                      r.stdout)

    def test_relative_queue_path_refused(self):
        """A relative queue.path would be found in each program's own
        current directory: refused in one line naming the file and line."""
        self.write_conf('queue: {\n  path = "var/queue";\n};\n')
        r = self.sseq("check-config")
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertRegex(r.stderr, r"^sseq: %s:2: queue\.path: is relative"
                         % self.conf)
        self.assertEqual(r.stderr.count("\n"), 1, r.stderr)


if __name__ == "__main__":
    harness.main()
