#!/usr/bin/env python3
"""test_shared_host.py -- doc/shared-hosting.md played on this machine:
a normal user (made here with useradd, removed at the end) installs sseq
under ~/.local (`./configure --prefix=$HOME/.local && make install`),
adds a token, starts both programs with the installed sseq-spawn and its
defaults (the queue /sseq-USER made at start and owned by the user, the
logs in ~/.local/state/sseq, 127.0.0.1 ports of the user's own), and
writes its nginx snippets with sseq-nginx-conf. The admin, as root,
copies them and adds the two include lines to an nginx run by root
(workers as www-data); an event then goes end to end through it, from
`sseq publish` and from an HTTP POST with the user's token."""
import os
import pwd
import re
import shutil
import stat
import subprocess
import tempfile

import harness
import site_util

TOKEN = "shared-host-token-0123456789abcdef"


class SharedHost(harness.TestCase):
    @classmethod
    def setUpClass(cls):
        assert os.geteuid() == 0, "run as root: the test adds a user"
        cls.user = "sseqh%d" % (os.getpid() % 100000)
        cls.nginx = None
        cls.admin = tempfile.mkdtemp(prefix="sseq-admin-")
        os.chmod(cls.admin, 0o755)
        subprocess.run(["useradd", "-m", "-s", "/bin/sh", cls.user],
                       check=True, capture_output=True, timeout=60)
        try:
            pw = pwd.getpwnam(cls.user)
            cls.uid, cls.home = pw.pw_uid, pw.pw_dir
            src = os.path.join(cls.home, "sseq")
            shutil.copytree(harness.SRCDIR, src, symlinks=True,
                            ignore=shutil.ignore_patterns(
                                "_build", ".git", "autom4te.cache", ".demo",
                                "node_modules", "out"))
            subprocess.run(["chown", "-R", "%s:" % cls.user, src],
                           check=True, timeout=60)
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.nginx:
            cls.nginx.stop()
        for role in ("stream", "publish"):
            cls.as_user("sseq-spawn stop %s" % role, check=False)
        try:
            os.unlink("/dev/shm/sseq-" + cls.user)
        except FileNotFoundError:
            pass
        subprocess.run(["userdel", "-r", "-f", cls.user],
                       capture_output=True, timeout=60)
        shutil.rmtree(cls.admin, ignore_errors=True)

    @classmethod
    def as_user(cls, cmd, check=True, timeout=900):
        """Runs the shell command as the user, in a login-like
        environment (no XDG_RUNTIME_DIR: no session here)."""
        home = pwd.getpwnam(cls.user).pw_dir
        r = subprocess.run(
            ["runuser", "-u", cls.user, "--", "env", "-i", "HOME=" + home,
             "USER=" + cls.user, "LANG=C.UTF-8",
             "PATH=%s/.local/bin:%s/.local/sbin:/usr/bin:/bin:/usr/sbin"
             % (home, home), "sh", "-c", "cd && " + cmd],
            capture_output=True, text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError("as %s: %s: exit %d\n%s\n%s" % (
                cls.user, cmd, r.returncode, r.stdout[-2000:],
                r.stderr[-3000:]))
        return r

    def step1_install(self):
        self.as_user("cd sseq && ./configure -q --prefix=$HOME/.local && "
                     "make -j2 -s >/dev/null && make -s install >/dev/null")
        self.conf = os.path.join(self.home, ".local", "etc", "sseq.conf")
        with open(self.conf) as f:
            text = f.read()
        self.assertIn('path = "/sseq-%s";' % self.user, text,
                      "a normal user's queue is named after the user")
        self.assertEqual(os.stat(self.conf).st_uid, self.uid)
        text = text.replace("tokens = (", 'tokens = (\n{ token = "%s"; '
                            'channels = [ "*" ]; }' % TOKEN, 1)
        with open(self.conf, "w") as f:          # the user's edit
            f.write(text)
        r = self.as_user("sseq check-config")
        self.assertIn("not created yet", r.stdout)

    def step2_start(self):
        for role in ("stream", "publish"):
            self.as_user("sseq-spawn %s" % role, timeout=60)
        st = os.stat("/dev/shm/sseq-" + self.user)
        self.assertEqual(st.st_uid, self.uid, "the queue is the user's")
        port = 10000 + 2 * (self.uid % 10000)
        self.assertEqual(self.as_user("sseq-spawn address stream").stdout,
                         "127.0.0.1:%d\n" % port)
        self.assertEqual(self.as_user("sseq-spawn address publish").stdout,
                         "127.0.0.1:%d\n" % (port + 1))
        log = os.path.join(self.home, ".local", "state", "sseq",
                           "stream.log")
        self.assertEqual(stat.S_IMODE(os.stat(log).st_mode), 0o640)
        r = self.as_user("sseq check-config")
        self.assertIn("the programs (as %s) trust its owner: ok" % self.user,
                      r.stdout)

    def step3_nginx(self):
        r = self.as_user("sseq-nginx-conf %s" % self.user)
        lines = re.findall(r"^include (\S+);", r.stdout, re.M)
        self.assertEqual(len(lines), 2, r.stdout)
        # The admin reads the two files, copies them, adds two lines.
        copies = []
        for path in lines:
            dst = os.path.join(self.admin, os.path.basename(path))
            shutil.copy(path, dst)
            copies.append(dst)
        type(self).nginx = site_util.SiteNginx(
            self.admin, [("%s.test" % self.user, copies[0], copies[1])])

    def step4_events(self):
        host = "%s.test" % self.user
        c = self.nginx.sse(host, "/events?channel=chat")
        try:
            self.assertEqual(c.status, 200, self.nginx.error_log())
            self.as_user("sseq publish chat 'from the shell'")
            self.assertEqual([e.data for e in c.events(1, timeout=10)],
                             ["from the shell"])
            st, body = self.nginx.post(host, "/publish/chat", "over http",
                                       TOKEN)
            self.assertEqual(st, 202, body)
            self.assertEqual([e.data for e in c.events(1, timeout=10)],
                             ["over http"])
        finally:
            c.close()

    def test_user_install_through_root_nginx(self):
        self.step1_install()
        self.step2_start()
        self.step3_nginx()
        self.step4_events()


if __name__ == "__main__":
    harness.main()
