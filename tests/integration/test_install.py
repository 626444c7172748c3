#!/usr/bin/env python3
"""test_install.py -- doc/install-from-source.md's steps (its blocks
marked "played by tests/integration/test_install.py"), played as root
in a throwaway prefix: configure --prefix, make, make install; edit
the installed sseq.conf (a token from `sseq token`, chgrp www-data);
`sseq check-config`; `sseq create` (no chgrp: the queue goes to
www-data); the installed sseq-spawn starts sseq-stream and
sseq-publish as www-data on /run/sseq; a separate nginx includes the
installed snippets exactly as the guide shows (workers as www-data); then an
event goes end to end, from `sseq publish` and from an HTTP POST. Last,
the installed systemd units' commands, run by hand (no systemd here),
create the queue a reboot removed and start on it; `make uninstall` with
nginx still including the snippets keeps them, and nginx -t passes.

The installed nginx snippet points at /run/sseq/{stream,publish}.sock, so
this test owns those two sockets while it runs (a lock file serialises
concurrent runs; a live sseq already there fails the test). Needs root,
as the guide's steps do (CI runs as root)."""
import fcntl
import http.client
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import harness

RUNDIR = "/run/sseq"
LOCK = "/tmp/sseq-test-install.lock"
USER = "www-data"

def run(*args, env=None, input=None, timeout=600, check=True, cwd=None):
    r = subprocess.run([str(a) for a in args], env=env, input=input, cwd=cwd,
                       capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError("%s: exit %d\n%s\n%s" % (
            " ".join(map(str, args)), r.returncode, r.stdout[-3000:],
            r.stderr[-3000:]))
    return r


def kill_pidfile(path, sig=signal.SIGTERM):
    """Signals every live pid listed in path; returns them."""
    try:
        with open(path) as f:
            pids = [int(x) for x in f.read().split()]
    except (OSError, ValueError):
        return []
    live = []
    for pid in pids:
        try:
            os.kill(pid, sig)
            live.append(pid)
        except OSError:
            pass
    return live


def proc_user(pid):
    """The name of the user process pid runs as (its real uid)."""
    import pwd
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("Uid:"):
                return pwd.getpwuid(int(line.split()[1])).pw_name
    return None


class Install(harness.TestCase):
    @classmethod
    def setUpClass(cls):
        assert os.geteuid() == 0, \
            "test_install plays doc/install-from-source.md as root: run " \
            "as root"
        harness.become_subreaper()
        cls.lock = open(LOCK, "w")
        fcntl.flock(cls.lock, fcntl.LOCK_EX)
        for role in ("stream", "publish"):
            assert not kill_pidfile(os.path.join(RUNDIR, role + ".pid"), 0), \
                "a live sseq-%s already serves %s: not ours to replace" % (
                    role, RUNDIR)
        cls.tmp = tempfile.mkdtemp(prefix="sseq-install-")
        os.chmod(cls.tmp, 0o755)        # www-data runs the installed files
        cls.prefix = os.path.join(cls.tmp, "prefix")
        cls.bin = os.path.join(cls.prefix, "bin")
        cls.conf = os.path.join(cls.prefix, "etc", "sseq.conf")
        cls.share = os.path.join(cls.prefix, "share", "sseq")
        cls.spawn = os.path.join(cls.prefix, "sbin", "sseq-spawn")
        cls.queue = "/sseq-install-%d" % os.getpid()
        cls.nginx = None
        cls.made_rundir = not os.path.exists(RUNDIR)
        try:
            cls.install()
        except BaseException:
            cls.cleanup()
            raise

    @classmethod
    def install(cls):
        """The guide's build: ./configure && make && make install (here
        out of tree, with --prefix for a throwaway prefix)."""
        build = cls.build = os.path.join(cls.tmp, "build")
        os.mkdir(build)
        subprocess.run([os.path.join(harness.SRCDIR, "configure"), "-q",
                        "--prefix=" + cls.prefix], cwd=build, check=True,
                       capture_output=True, timeout=300)
        r = subprocess.run(["make", "-j2", "-s"], cwd=build,
                           capture_output=True, text=True, timeout=900)
        assert r.returncode == 0, r.stderr[-3000:]
        r = subprocess.run(["make", "-s", "install"], cwd=build,
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr[-3000:]

    @classmethod
    def cleanup(cls):
        for role in ("stream", "publish"):
            pidfile = os.path.join(RUNDIR, role + ".pid")
            pids = kill_pidfile(pidfile)
            deadline = time.monotonic() + 10
            while pids and time.monotonic() < deadline:
                pids = [p for p in pids if harness.pid_alive(p)]
                time.sleep(0.05)
            kill_pidfile(pidfile, signal.SIGKILL)
            for ext in (".pid", ".sock"):
                try:
                    os.unlink(os.path.join(RUNDIR, role + ext))
                except OSError:
                    pass
        if cls.nginx is not None:
            cls.nginx.terminate()
            try:
                cls.nginx.wait(10)
            except subprocess.TimeoutExpired:
                cls.nginx.kill()
                cls.nginx.wait()
        try:
            os.unlink("/dev/shm" + cls.queue)
        except OSError:
            pass
        if cls.made_rundir:
            try:
                os.rmdir(RUNDIR)
            except OSError:
                pass
        shutil.rmtree(cls.tmp, ignore_errors=True)
        fcntl.flock(cls.lock, fcntl.LOCK_UN)
        cls.lock.close()

    @classmethod
    def tearDownClass(cls):
        cls.cleanup()

    def sseq(self, *args, input=None, check=True):
        return run(os.path.join(self.bin, "sseq"), *args, input=input,
                   check=check)

    def log(self, name):
        try:
            with open(os.path.join(self.tmp, name), errors="replace") as f:
                return f.read()[-3000:]
        except OSError:
            return ""

    def step1_config(self):
        """Step 1 (the config): the installed config ships no working token
        (and refuses a placeholder); set one from `sseq token`, let
        www-data read the file, check-config."""
        self.assertEqual(os.stat(self.conf).st_mode & 0o777, 0o640)
        with open(self.conf) as f:
            text = f.read()
        r = self.sseq("check-config", check=False)
        self.assertIn("  tokens = ( );", r.stdout,
                      "the installed config must ship no token")
        self.assertEqual(r.returncode, 1, "before the guide's chgrp, www-data "
                         "cannot read the config: " + r.stderr)
        self.assertIn("chgrp www-data " + self.conf, r.stderr)
        bad = text.replace("tokens = (", 'tokens = (\n{ token = '
                           '"change-me"; channels = [ "*" ]; }', 1)
        with open(self.conf, "w") as f:
            f.write(bad)
        r = self.sseq("check-config", check=False)
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("publish.tokens[0].token: is a placeholder", r.stderr)
        self.token = self.sseq("token").stdout.strip()
        self.assertRegex(self.token, "^[0-9a-f]{64}$")
        text = text.replace("tokens = (", 'tokens = (\n{ token = "%s"; '
                            'channels = [ "*" ]; }' % self.token, 1)
        # Only for isolation: a private queue name instead of /sseq.
        text = re.sub(r'path = "/sseq";', 'path = "%s";' % self.queue, text)
        self.assertIn(self.queue, text)
        with open(self.conf, "w") as f:
            f.write(text)
        run("chgrp", USER, self.conf)
        r = self.sseq("check-config")
        self.assertIn("# %s: ok" % self.conf, r.stdout)
        self.assertIn("not created yet", r.stdout)

    def step2_queue(self):
        """Step 2 (the queue): `sseq create`, no chgrp: www-data owns it."""
        r = self.sseq("create")
        self.assertIn("www-data:www-data 0600", r.stdout)
        r = self.sseq("check-config")
        self.assertIn("www-data (uid 33) can read and write it: ok",
                      r.stdout)

    def step3_processes(self):
        """Step 3 (the processes): the installed sseq-spawn, as root: the
        programs run as www-data on /run/sseq."""
        for role in ("stream", "publish"):
            # Only for isolation: the log in the test's directory.
            env = dict(os.environ, LOG=os.path.join(self.tmp, "log",
                                                    role + ".log"))
            r = run(self.spawn, role, env=env, timeout=30)
            sock = os.path.join(RUNDIR, role + ".sock")
            deadline = time.monotonic() + 10
            while not os.path.exists(sock) and time.monotonic() < deadline:
                time.sleep(0.05)
            self.assertTrue(os.path.exists(sock), r.stderr)
        # The processes sseq-spawn started (its pid file names the master;
        # the workers are its children), not whatever else runs here.
        users = {}
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            users = {}
            for role in ("stream", "publish"):
                try:
                    with open(os.path.join(RUNDIR, role + ".pid")) as f:
                        master = int(f.read().split()[0])
                except (OSError, ValueError, IndexError):
                    continue
                for pid in [master] + harness.child_pids(master):
                    users[(role, pid)] = proc_user(pid)
            if len(users) >= 4:
                break
            time.sleep(0.05)
        self.assertGreaterEqual(len(users), 4, users)
        self.assertEqual(set(users.values()), {USER}, users)

    def step4_nginx(self):
        """Step 4: nginx includes the installed snippets."""
        nginx = harness.NGINX
        for attempt in range(5):
            self.port = harness.free_port()
            # The installed snippets, included as they are (their
            # sockets in /run/sseq); workers as www-data.
            conf = harness.write_nginx_conf(
                self.tmp, self.port, SSEQ_STACK_NGINX_DAEMON="off",
                SSEQ_STACK_NGINX_USER=USER, SSEQ_STACK_SOCKETS=RUNDIR,
                SSEQ_STACK_NGINX_CONNECTIONS="256",
                SSEQ_STACK_NGINX_LOG_LEVEL="info",
                SSEQ_STACK_NGINX_SNIPPETS=os.path.join(
                    self.share, "fcgi-conf", "nginx"))
            type(self).nginx = subprocess.Popen(
                [nginx, "-c", conf, "-e",
                 os.path.join(self.tmp, "error.log")],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and self.nginx.poll() is None:
                try:
                    socket.create_connection(("127.0.0.1", self.port),
                                             0.2).close()
                    return
                except OSError:
                    time.sleep(0.05)
            self.nginx.kill()
            self.nginx.wait()
            type(self).nginx = None
        self.fail("nginx did not start: " + self.log("error.log"))

    def step5_events(self):
        """Step 5 (check it): curl -N /events?channel=chat in one shell,
        `sseq publish chat hello` in the other; then POST /publish."""
        c = harness.SSEClient(self.port, "/events?channel=chat")
        self.assertEqual(c.status, 200, self.log("log/stream.log") +
                         self.log("error.log"))
        r = self.sseq("publish", "chat", "hello")
        first = r.stdout.strip()
        got = c.events(1, timeout=10)
        self.assertEqual([(e.id, e.data) for e in got], [(first, "hello")])
        self.sseq("publish", "chat", input="from echo\n")
        got = c.events(1, timeout=10)
        self.assertEqual(got[0].data, "from echo")
        h = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        h.request("POST", "/publish/chat", body="over http",
                  headers={"Authorization": "Bearer " + self.token,
                           "Content-Type": "text/plain"})
        resp = h.getresponse()
        body = resp.read().decode()
        self.assertEqual(resp.status, 202, body + self.log(
            "log/publish.log"))
        got = c.events(1, timeout=10)
        self.assertEqual(got[0].data, "over http")
        h.request("POST", "/publish/chat", body="x",
                  headers={"Authorization": "Bearer wrong-token-0123456789",
                           "Content-Type": "text/plain"})
        resp = h.getresponse()
        resp.read()
        self.assertEqual(resp.status, 403)
        c.close()

    def step6_operations(self):
        """doc/operations.md, while it runs: create --force is refused;
        stats --prometheus; the man pages (the scripts' naming this
        install's config) and the logrotate snippet are installed."""
        r = self.sseq("create", "--force", check=False)
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("is in use by", r.stderr)
        r = self.sseq("stats", "--prometheus")
        m = re.search(r'^sseq_processes\{role="stream"\} (\d+)$', r.stdout,
                      re.M)
        self.assertTrue(m and int(m.group(1)) >= 1, r.stdout)
        man = os.path.join(self.prefix, "share", "man")
        for page in ("man1/sseq.1", "man5/sseq.conf.5",
                     "man8/sseq-stream.8", "man8/sseq-publish.8",
                     "man1/sseq-nginx-conf.1", "man8/sseq-spawn.8",
                     "man8/sseq-bridge.8", "man8/sseq-bridge-start.8"):
            self.assertTrue(os.path.exists(os.path.join(man, page)), page)
        for page in ("man8/sseq-spawn.8", "man8/sseq-bridge.8"):
            with open(os.path.join(man, page)) as f:
                text = f.read()
            self.assertIn(self.conf, text, page + " names the config")
            self.assertIsNone(re.search(r"@[a-z]+@", text),
                              page + ": no template name left")
        link = os.path.join(self.share, "fcgi-conf", "spawn-fcgi",
                            "sseq-spawn")
        self.assertEqual(os.path.realpath(link), self.spawn,
                         "the old place links to the sbin one")
        snippet = os.path.join(self.share, "fcgi-conf", "logrotate", "sseq")
        with open(snippet) as f:
            self.assertIn(self.spawn, f.read())
        r = run("logrotate", "-d", "-s", os.path.join(self.tmp, "lr.state"),
                snippet)
        self.assertNotIn("error", r.stderr.lower(), r.stderr)

    def unit_commands(self, role):
        """The installed sseq-ROLE.service's ExecStartPre (without its
        "+": as root) and ExecStart command lines, and its User=."""
        path = os.path.join(self.share, "fcgi-conf", "systemd",
                            "sseq-%s.service" % role)
        with open(path) as f:
            text = f.read()
        keys = {}
        for line in text.splitlines():
            key, _, value = line.partition("=")
            keys.setdefault(key, value)
        self.assertIn("ExecStartPre", keys, path + " has no ExecStartPre: "
                      "the queue is not created at start")
        self.assertTrue(keys["ExecStartPre"].startswith("+"),
                        "ExecStartPre must run as root (+): " +
                        keys["ExecStartPre"])
        return (shlex.split(keys["ExecStartPre"][1:]),
                shlex.split(keys["ExecStart"]), keys["User"])

    def queue_identity(self):
        """The queue file's (inode, owner name) or None when missing."""
        import pwd
        try:
            st = os.stat("/dev/shm" + self.queue)
        except FileNotFoundError:
            return None
        return st.st_ino, pwd.getpwuid(st.st_uid).pw_name

    def step7_units(self):
        """The installed systemd units, played by hand (no systemd here):
        after a reboot the queue is gone; each service's ExecStartPre
        creates it for www-data, a second start leaves it as it is, and
        ExecStart, as the unit's user on a socket given as fd 0
        (StandardInput=socket), opens it."""
        for role in ("stream", "publish"):
            run(self.spawn, "stop", role, timeout=60)
        os.unlink("/dev/shm" + self.queue)        # the reboot
        pre, start, user = self.unit_commands("stream")
        self.assertEqual(user, USER)
        r = run(*pre)
        made = self.queue_identity()
        self.assertEqual(made and made[1], USER, r.stdout + r.stderr)
        pre2, _, _ = self.unit_commands("publish")
        self.assertEqual(pre2, pre)
        r = run(*pre2)
        self.assertEqual(self.queue_identity(), made,
                         "a second ExecStartPre must leave the queue: " +
                         r.stdout)
        path = os.path.join(self.tmp, "unit-stream.sock")
        lsock = socket.socket(socket.AF_UNIX)
        lsock.bind(path)
        lsock.listen(16)
        proc = subprocess.Popen(
            ["setpriv", "--reuid=" + user, "--regid=" + user,
             "--init-groups"] + start, stdin=lsock.fileno(),
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        lsock.close()
        try:
            seen = harness.wait_until(lambda: re.search(
                r'^sseq_processes\{role="stream"\} [1-9]',
                self.sseq("stats", "--prometheus").stdout, re.M), 20)
            self.assertTrue(seen, "the unit's sseq-stream did not open the "
                            "queue its ExecStartPre made")
        finally:
            proc.terminate()
            _, err = proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, 0, err.decode()[-2000:])

    def step8_uninstall(self):
        """make uninstall while an nginx config still includes the
        installed snippets: they are kept (and it says so), so nginx -t
        still passes; the programs and the rest go."""
        snippets = os.path.join(self.share, "fcgi-conf", "nginx")
        r = run("make", "-s", "uninstall", "NGINX_CONF_DIR=" + self.tmp,
                cwd=self.build)
        for f in ("sseq.conf", "sseq-upstream.conf"):
            self.assertIn("make uninstall: kept %s/%s: %s still includes "
                          "it" % (snippets, f, self.tmp), r.stdout)
            self.assertTrue(os.path.exists(os.path.join(snippets, f)))
        self.assertFalse(os.path.exists(os.path.join(self.bin, "sseq")))
        self.assertFalse(os.path.exists(self.spawn))
        self.assertFalse(os.path.lexists(os.path.join(
            self.share, "fcgi-conf", "spawn-fcgi")), "empty folders go")
        r = run(harness.NGINX, "-t", "-c", os.path.join(self.tmp,
                "nginx.conf"), "-e", os.path.join(self.tmp, "t.log"),
                check=False)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_readme_install_path(self):
        self.step1_config()
        self.step2_queue()
        self.step3_processes()
        self.step4_nginx()
        self.step5_events()
        self.step6_operations()
        self.step7_units()
        self.step8_uninstall()


if __name__ == "__main__":
    harness.main()
