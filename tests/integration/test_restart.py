"""test_restart.py -- restarts and upgrades with no client error: browsers
(here: subscribers that, like EventSource, give up for good on any
non-200 answer or refused connection) and a publisher at 200 msg/s keep
going through 10 restarts of sseq-stream, 10 of sseq-publish, a binary
upgrade, nginx reloads, and a systemd-style stop/start of the service
while its socket stays open. Nothing lost, nothing doubled, no publish
refused."""
import http.client
import os
import selectors
import shutil
import signal
import socket
import subprocess
import threading
import time
import unittest

import harness
import stream_util

SUBSCRIBERS = 200
RATE = 200              # publishes a second
RETRY_MS = 1000


class Browser:
    """One EventSource-like subscriber: GET /events over HTTP/1.0 (the
    response ends when the stream ends); on a clean end it reconnects
    with Last-Event-ID, at once or after the stream's retry; any answer
    but 200, or a refused connection, is fatal."""

    def __init__(self, loop, port, at_once):
        self.loop, self.port, self.at_once = loop, port, at_once
        self.ids = []
        self.fatal = None
        self.sock = None
        self.reconnects = 0
        self.connect()

    def connect(self):
        self.buf = b""
        self.head_done = False
        s = socket.socket()
        try:
            s.connect(("127.0.0.1", self.port))
        except OSError as e:
            self.fatal = "connect: %s" % e
            s.close()
            return
        last = ("Last-Event-ID: %d\r\n" % self.ids[-1]) if self.ids else ""
        s.sendall(("GET /events?channel=r HTTP/1.0\r\nHost: x\r\n"
                   "Accept: text/event-stream\r\n%s\r\n" % last).encode())
        s.setblocking(False)
        self.sock = s
        self.loop.sel.register(s, selectors.EVENT_READ, self)

    def ended(self):
        self.loop.sel.unregister(self.sock)
        self.sock.close()
        self.sock = None
        if not self.head_done:
            self.fatal = "connection ended before any answer"
            return
        self.reconnects += 1
        if self.at_once:
            self.connect()
        else:
            self.loop.later(time.monotonic() + RETRY_MS / 1000.0, self)

    def readable(self):
        try:
            data = self.sock.recv(262144)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.ended()
            return
        self.buf += data
        if not self.head_done:
            if b"\r\n\r\n" not in self.buf:
                return
            head, _, self.buf = self.buf.partition(b"\r\n\r\n")
            status = int(head.split()[1])
            if status != 200:
                self.fatal = "answer %d: %r" % (status, head[:200])
                self.loop.sel.unregister(self.sock)
                self.sock.close()
                self.sock = None
                return
            self.head_done = True
        blocks = self.buf.split(b"\n\n")
        self.buf = blocks.pop()
        for b in blocks:
            for line in b.split(b"\n"):
                if line.startswith(b"id: "):
                    self.ids.append(int(line[4:]))


class Loop:
    """The subscribers' selectors loop, and their delayed reconnects."""

    def __init__(self):
        self.sel = selectors.DefaultSelector()
        self.timers = []

    def later(self, when, browser):
        self.timers.append((when, browser))

    def run_for(self, seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            for key, _ in self.sel.select(0.05):
                if key.data.sock is not None:
                    key.data.readable()
            now = time.monotonic()
            due = [b for t, b in self.timers if t <= now]
            self.timers = [(t, b) for t, b in self.timers if t > now]
            for b in due:
                b.connect()


class Publisher(threading.Thread):
    """POSTs to /publish/r at RATE a second, a new client connection each
    (nginx's reload closes idle client keep-alive connections, a race of
    the client's own; the upstream connections nginx keeps to
    sseq-publish are what is tested); records every acknowledged id and
    every refusal."""

    def __init__(self, st):
        super().__init__(daemon=True)
        self.st = st
        self.acked = []
        self.refused = []
        self.stop = threading.Event()

    def run(self):
        hdr = {"Content-Type": "text/plain", "Connection": "close",
               "Authorization": "Bearer " + self.st.token}
        k = 0
        next_t = time.monotonic()
        while not self.stop.is_set():
            k += 1
            conn = http.client.HTTPConnection("127.0.0.1", self.st.port,
                                              timeout=10)
            try:
                conn.request("POST", "/publish/r", body=b"m%d" % k,
                             headers=hdr)
                r = conn.getresponse()
                body = r.read()
                if r.status == 202:
                    self.acked.append(int(body.split(b'"')[3]))
                else:
                    self.refused.append((r.status, body[:200]))
            except (OSError, http.client.HTTPException) as e:
                self.refused.append(("error", str(e)))
            conn.close()
            next_t += 1.0 / RATE
            delay = next_t - time.monotonic()
            if delay > 0:
                time.sleep(delay)


def exe_of(pid):
    """The binary pid runs (None when it is gone)."""
    try:
        return os.readlink("/proc/%d/exe" % pid)
    except OSError:
        return None


def install_copy(src, dst):
    """Replaces dst with a copy of src the way `make install` does: a new
    file renamed over the old one (running processes keep the old)."""
    tmp = dst + ".new"
    shutil.copy2(src, tmp)
    os.rename(tmp, dst)


class RestartTest(harness.TestCase):

    def check_browsers(self, st, browsers, pub):
        fatal = [b.fatal for b in browsers if b.fatal]
        why = [l for l in (st.log("error.log") + st.log("stream.log"))
               .splitlines() if "[error]" in l or "error:" in l or
               "upstream" in l or "killed by" in l or "Sanitizer" in l]
        self.assertEqual(fatal, [], "no browser may see an error; the "
                         "logs say:\n%s" % "\n".join(why[-20:]))
        self.assertEqual(pub.refused, [], "no publish may be refused")
        acked = pub.acked
        self.assertGreater(len(acked), RATE)
        for k, b in enumerate(browsers):
            self.assertEqual(len(b.ids), len(set(b.ids)),
                             "subscriber %d got a duplicate" % k)
            self.assertEqual(b.ids, sorted(b.ids),
                             "subscriber %d: out of order" % k)
            got = set(b.ids)
            lost = [i for i in acked if i not in got]
            self.assertEqual(lost, [], "subscriber %d lost %d of %d (the "
                             "%s acknowledged; it got up to %s, %d "
                             "reconnects)" % (
                                 k, len(lost), len(acked),
                                 [acked.index(i) + 1 for i in lost[:5]],
                                 b.ids[-1:], b.reconnects))

    def run_browsers(self, st, action):
        """SUBSCRIBERS browsers and the publisher around action(); then
        waits for the browsers to catch up and checks them."""
        stream_util.raise_nofile()
        loop = Loop()
        browsers = [Browser(loop, st.port, at_once=(k % 2 == 0))
                    for k in range(SUBSCRIBERS)]
        loop.run_for(1.0)
        pub = Publisher(st)
        pub.start()
        worker = threading.Thread(target=action, daemon=True)
        worker.start()
        while worker.is_alive():
            loop.run_for(0.2)
        loop.run_for(1.0)
        deadline = time.monotonic() + 60   # a loaded machine publishes slower
        while len(pub.acked) <= RATE and time.monotonic() < deadline:
            loop.run_for(0.2)
        pub.stop.set()
        pub.join()
        last = pub.acked[-1] if pub.acked else 0
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not all(
                b.fatal or (b.ids and b.ids[-1] >= last) for b in browsers):
            loop.run_for(0.2)
        for b in browsers:
            if b.sock is not None:
                b.sock.close()
        print("%d publishes, %d subscribers, %d reconnects, %d fatal, "
              "%d refused" % (len(pub.acked), len(browsers),
                              sum(b.reconnects for b in browsers),
                              sum(1 for b in browsers if b.fatal),
                              len(pub.refused)))
        self.check_browsers(st, browsers, pub)
        return browsers

    def test_restarts_and_upgrade(self):
        with harness.Stack(settings={"fastcgi.drain": 1000,
                                     "stream.retry": RETRY_MS},
                           stream_procs=2, publish_procs=2) as st:
            bindir = os.path.join(st.tmpdir, "bin")
            os.mkdir(bindir)
            progs = {}
            for role in ("stream", "publish"):
                progs[role] = os.path.join(bindir, "sseq-" + role)
                shutil.copy2(harness.binary("sseq-" + role), progs[role])
            st.programs = progs
            st.stop_role("stream")
            st.stop_role("publish")
            st.start_fcgi("stream", 2)
            st.start_fcgi("publish", 2)
            masters = st.master_pids("stream") + st.master_pids("publish")

            def restarts():
                for k in range(10):
                    for role in ("stream", "publish"):
                        r = st.spawn("restart", role)
                        self.assertEqual(r.returncode, 0, r.stderr)
                        time.sleep(0.4)
                # nginx reloads its config while streams run
                for _ in range(2):
                    os.kill(st.nginx.pid, signal.SIGHUP)
                    time.sleep(0.5)
                # the upgrade: new binaries on disk, then the same restart
                for role in ("stream", "publish"):
                    install_copy(harness.binary("sseq-" + role),
                                 progs[role])
                    r = st.spawn("restart", role)
                    self.assertEqual(r.returncode, 0, r.stderr)
                time.sleep(2.5)

            self.run_browsers(st, restarts)
            self.assertEqual(st.master_pids("stream") +
                             st.master_pids("publish"), masters,
                             "the masters (pid files) stay")
            # The old workers end after their drain; then every worker
            # runs the new binary (an old one's exe reads "... (deleted)").
            for role in ("stream", "publish"):
                st.wait_for(lambda: len(st.pids(role)) == 2 and all(
                    exe_of(p) == progs[role] for p in st.pids(role)),
                    "two sseq-%s workers on the new binary" % role)
            self.assertNotIn("ERROR: AddressSanitizer", st.log("stream.log"))

    def test_bad_binary_keeps_running(self):
        """A restart into a binary that fails its self-test leaves the
        running workers serving, and says why."""
        with harness.Stack(stream_procs=1, publish_procs=0) as st:
            bindir = os.path.join(st.tmpdir, "bin")
            os.mkdir(bindir)
            prog = os.path.join(bindir, "sseq-stream")
            shutil.copy2(harness.binary("sseq-stream"), prog)
            st.programs = {"stream": prog}
            st.stop_role("stream")
            st.start_fcgi("stream", 1)
            workers = st.pids("stream")
            with open(prog + ".new", "w") as f:
                f.write("#!/bin/sh\necho broken >&2\nexit 1\n")
            os.chmod(prog + ".new", 0o755)
            os.rename(prog + ".new", prog)
            r = st.spawn("restart", "stream")
            self.assertEqual(r.returncode, 0, r.stderr)
            st.wait_for(lambda: "restart refused" in st.log("stream.log"),
                        "the refusal in the log")
            self.assertEqual(st.pids("stream"), workers)
            c = st.sse("/events?channel=b")
            i = st.publish_cli("b", "still here")
            self.assertEqual([e.id for e in c.events(1)], [str(i)])
            c.close()

    def test_master_killed_workers_stop(self):
        """A master killed with SIGKILL (an operator, the OOM killer, a
        test's timeout) sends its workers nothing: the kernel does
        (PR_SET_PDEATHSIG), so each ends its streams cleanly and exits,
        and no worker serves on without a master."""
        with harness.Stack(stream_procs=2, publish_procs=0) as st:
            c = st.sse("/events?channel=k")
            self.assertEqual(c.status, 200)
            workers = st.pids("stream")
            self.assertEqual(len(workers), 2)
            for m in st.master_pids("stream"):
                os.kill(m, signal.SIGKILL)
            for w in workers:
                self.assertIsNotNone(harness.wait_exit(w, 30),
                                     "worker %d still runs" % w)
            self.assertTrue(c.closed(timeout=10), "the stream ended")
            c.close()

    def unit_commands(self, st):
        """ExecStart and ExecReload of the shipped sseq-stream.service,
        with the build's binary and this stack's config."""
        with open(os.path.join(harness.SRCDIR, "fcgi-conf", "systemd",
                               "sseq-stream.service.in")) as f:
            lines = dict(l.strip().split("=", 1) for l in f
                         if l.startswith(("ExecStart=", "ExecReload=")))
        sub = lambda c: c.replace("@bindir@", os.path.dirname(
            harness.binary("sseq-stream"))).replace(
            "@sysconfdir@/sseq.conf", st.conf_path)
        return sub(lines["ExecStart"]).split(), sub(lines["ExecReload"])

    def test_socket_held_stop_start(self):
        """systemd's socket unit: the socket outlives the service, which
        is stopped (SIGTERM) and started again with the unit's ExecStart,
        and reloaded with its ExecReload; no browser sees an error."""
        with harness.Stack(settings={"fastcgi.drain": 500,
                                     "stream.retry": RETRY_MS},
                           stream_procs=0, publish_procs=1) as st:
            path = os.path.join(st.tmpdir, "stream.sock")
            lsock = socket.socket(socket.AF_UNIX)
            lsock.bind(path)
            lsock.listen(4096)
            procs = []
            exec_start, exec_reload = self.unit_commands(st)

            def start():
                procs.append(subprocess.Popen(
                    exec_start, stdin=lsock.fileno(),
                    stderr=open(os.path.join(st.tmpdir, "stream.log"), "a")))

            def stop_start():
                for _ in range(5):
                    time.sleep(0.8)
                    subprocess.run(exec_reload.replace(
                        "$MAINPID", str(procs[-1].pid)), shell=True,
                        check=True)
                    time.sleep(0.3)
                    procs[-1].terminate()
                    procs[-1].wait(10)
                    start()
                time.sleep(1.5)

            start()
            time.sleep(0.5)
            try:
                self.run_browsers(st, stop_start)
            finally:
                for p in procs:
                    if p.poll() is None:
                        p.terminate()
                        p.wait(10)
                lsock.close()


if __name__ == "__main__":
    harness.main()
