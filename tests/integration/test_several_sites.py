#!/usr/bin/env python3
"""test_several_sites.py -- doc/several-sites.md played as root: two
sites on one host, each with its config and queue, started by the
shipped sseq-spawn with SITE=NAME (sockets in /run/sseq/NAME, as
www-data), and one nginx whose http { } and two server { } blocks
include what `sseq-nginx-conf NAME` wrote for each (the shipped
snippets included twice fail with a duplicate upstream). A message
published on one site's channel reaches that site's subscribers only."""
import os
import shutil
import subprocess
import tempfile

import harness
import site_util

SPAWN = os.path.join(harness.BUILDDIR, "fcgi-conf", "spawn-fcgi",
                     "sseq-spawn")
GEN = os.path.join(harness.BUILDDIR, "fcgi-conf", "nginx", "sseq-nginx-conf")
TOKEN = {"a": "site-a-token-0123456789abcdef", "b": "site-b-token-fedcba9876543210"}


class SeveralSites(harness.TestCase):
    def setUp(self):
        self.assertEqual(os.geteuid(), 0, "run as root, as the guide does")
        harness.become_subreaper()
        self.tmp = tempfile.mkdtemp(prefix="sseq-sites-")
        os.chmod(self.tmp, 0o755)            # www-data reads the configs
        self.names = {k: "t%d%s" % (os.getpid(), k) for k in "ab"}
        # The programs run as www-data: copies it can reach (a build tree
        # under /root is not, as in a fresh clone there).
        self.progs = {}
        for role in ("stream", "publish"):
            self.progs[role] = os.path.join(self.tmp, "sseq-" + role)
            shutil.copy2(harness.binary("sseq-" + role), self.progs[role])
            os.chmod(self.progs[role], 0o755)
        self.nginx = None
        self.started = []
        self.addCleanup(self.cleanup)
        for k, name in self.names.items():
            conf = self.conf(k)
            with open(conf, "w") as f:
                f.write('queue: { path = "/sseq-%s"; size = "4M"; };\n'
                        'publish: { tokens = ( { token = "%s"; '
                        'channels = [ "*" ]; } ); };\n'
                        'fastcgi: { drain = 200; };\n' % (name, TOKEN[k]))
            os.chmod(conf, 0o644)

    def conf(self, k):
        return os.path.join(self.tmp, "sseq-%s.conf" % k)

    def env(self, k):
        """sseq-spawn's environment for site k: SITE and the config; the
        rest (sockets, logs, user) its defaults."""
        return dict(os.environ, SITE=self.names[k], CONF=self.conf(k),
                    PROGRAM=self.progs["stream"],
                    SSEQ_CLI=harness.binary("sseq"), PROCS="1")

    def spawn(self, k, *args):
        env = self.env(k)
        env["PROGRAM"] = self.progs[args[-1]]
        return subprocess.run([SPAWN] + list(args), env=env,
                              capture_output=True, text=True, timeout=60)

    def cleanup(self):
        if self.nginx:
            self.nginx.stop()
        for k, role in self.started:
            self.spawn(k, "stop", role)
        for name in self.names.values():
            for d in ("/run/sseq/" + name, "/var/log/sseq/" + name):
                shutil.rmtree(d, ignore_errors=True)
            try:
                os.unlink("/dev/shm/sseq-" + name)
            except FileNotFoundError:
                pass
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_two_sites_stream_independently(self):
        sites = []
        for k, name in sorted(self.names.items()):
            for role in ("stream", "publish"):
                r = self.spawn(k, role)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.started.append((k, role))
                self.assertEqual(self.spawn(k, "address", role).stdout,
                                 "unix:/run/sseq/%s/%s.sock\n" % (name, role))
            r = subprocess.run(
                [GEN, "--dir", self.tmp, name], capture_output=True,
                text=True, timeout=60, env=dict(
                    os.environ, SSEQ_SPAWN=SPAWN, SSEQ_NGINX_SNIPPETS=os.path.
                    join(harness.SRCDIR, "fcgi-conf", "nginx")))
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("include %s/sseq-%s-upstream.conf;   # in http { }"
                          % (self.tmp, name), r.stdout)
            sites.append(("%s.test" % k,
                          os.path.join(self.tmp, "sseq-%s-upstream.conf" %
                                       name),
                          os.path.join(self.tmp, "sseq-%s.conf" % name)))
        self.nginx = site_util.SiteNginx(self.tmp, sites)
        a = self.nginx.sse("a.test", "/events?channel=chat")
        b = self.nginx.sse("b.test", "/events?channel=chat")
        try:
            self.assertEqual((a.status, b.status), (200, 200),
                             self.nginx.error_log())
            st, body = self.nginx.post("a.test", "/publish/chat", "for a",
                                       TOKEN["a"])
            self.assertEqual(st, 202, body)
            st, body = self.nginx.post("b.test", "/publish/chat", "for b",
                                       TOKEN["b"])
            self.assertEqual(st, 202, body)
            self.assertEqual([e.data for e in a.events(1, timeout=10)],
                             ["for a"])
            self.assertEqual([e.data for e in b.events(1, timeout=10)],
                             ["for b"], "b's first event is b's own")
            # Each site's token is its own: a's token publishes nothing
            # on b.
            st, _ = self.nginx.post("b.test", "/publish/chat", "x",
                                    TOKEN["a"])
            self.assertEqual(st, 403)
            r = subprocess.run([harness.binary("sseq"), "-c", self.conf("a"),
                                "publish", "chat", "cli into a"],
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual([e.data for e in a.events(1, timeout=10)],
                             ["cli into a"])
            self.nginx.post("b.test", "/publish/chat", "b marker",
                            TOKEN["b"])
            self.assertEqual([e.data for e in b.events(1, timeout=10)],
                             ["b marker"], "a's message reached b")
        finally:
            a.close()
            b.close()


if __name__ == "__main__":
    harness.main()
