"""harness.py -- start real nginx + spawn-fcgi'd sseq-stream/sseq-publish
on a free 127.0.0.1 port with a private queue, and talk to them.

Every test builds a Stack in a `with` block; leaving it (also on failure)
stops every process it started, by PID, and removes the queue and the
private directory. Python 3 standard library only.
"""
import collections
import ctypes
import errno
import faulthandler
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

SRCDIR = os.environ.get("SSEQ_SRCDIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
BUILDDIR = os.environ.get("SSEQ_BUILDDIR") or SRCDIR
NGINX = os.environ.get("SSEQ_NGINX") or shutil.which("nginx") or \
    "/usr/sbin/nginx"
SPAWN_FCGI = shutil.which("spawn-fcgi") or "/usr/bin/spawn-fcgi"
TOKEN = "test-token-0123456789abcdef"

Event = collections.namedtuple("Event", "id event data")


def binary(name):
    """Path of a built sseq program."""
    return os.path.join(BUILDDIR, "src", name)


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def hold_port():
    """A free 127.0.0.1 port, held for a server: returns (socket, port),
    the socket bound with SO_REUSEADDR and not listening. While it is
    open no other bind and no outgoing connection of a test running
    alongside takes the port, yet nginx and redis-server (which set
    SO_REUSEADDR too) can listen on it, also again after a restart."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    return s, s.getsockname()[1]


def tcp_answers(proc, port, host="127.0.0.1"):
    """Whether proc still runs and something accepts on host:port."""
    if proc.poll() is not None:
        return False
    try:
        socket.create_connection((host, port), 0.2).close()
        return True
    except OSError:
        return False


def wait_until(cond, timeout=10, step=0.02):
    """Polls cond() until it holds or timeout seconds pass; returns
    whether it held."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(step)
    return bool(cond())


def become_subreaper():
    """Orphaned spawn-fcgi children become ours, so we can reap them and
    read their exit status (PR_SET_CHILD_SUBREAPER)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def pid_alive(pid):
    """True while pid runs; reaps it if it is our (adopted) zombie."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ")[-1][0] != "Z"
    except OSError:
        return False


def wait_exit(pid, timeout):
    """Waits for pid to end; returns its exit status if it was our child
    (or adopted), 0 if it ended elsewhere, None on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done == pid:
                return os.waitstatus_to_exitcode(status)
        except ChildProcessError:
            if not pid_alive(pid):
                return 0
        time.sleep(0.01)
    return None


def render_conf(value, key="", indent=""):
    """libconfig text for a Python value (dict = group, list of dicts =
    list, list of scalars = array)."""
    if isinstance(value, dict):
        inner = "".join("%s  %s = %s;\n" % (indent, k,
                        render_conf(v, k, indent + "  "))
                        for k, v in value.items())
        return "{\n%s%s}" % (inner, indent)
    if isinstance(value, list):
        if key == "tokens" or any(isinstance(v, dict) for v in value):
            return "( %s )" % ", ".join(render_conf(v, "", indent)
                                        for v in value)
        return "[ %s ]" % ", ".join(render_conf(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value) + ("L" if value > 2**31 - 1 else "")
    return json.dumps(str(value))


def child_pids(pid):
    """The children of pid (from /proc), [] if it is gone."""
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def default_settings(queue):
    """The test config: a private queue, one all-channel token, channels
    open-* open to anyone."""
    return {
        "queue": {"path": queue, "size": "16M", "mode": "0600",
                  "max_age": 0},
        "max_message_size": 65536,
        "stream": {"heartbeat": 15, "retry": 1000},
        # Tests stop and start processes often: end streams fast.
        "fastcgi": {"drain": 200},
        "publish": {"tokens": [{"token": TOKEN, "channels": ["*"]}],
                    "open_channels": ["open-*"]},
        "log_level": "info",
    }


def apply_settings(conf, overrides):
    """Sets dotted keys ("stream.heartbeat") in the nested dict conf; a
    value of None removes the key."""
    for dotted, value in overrides.items():
        node = conf
        parts = dotted.split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        if value is None:
            node.pop(parts[-1], None)
        else:
            node[parts[-1]] = value


STACK_SH = os.path.join(SRCDIR, "scripts", "stack.sh")


def write_nginx_conf(directory, port, **settings):
    """directory/nginx.conf for nginx on 127.0.0.1:port, written by
    scripts/stack.sh (the one nginx.conf of the tests and scripts/demo):
    www/ and the shipped snippets, the sockets in directory. settings
    are its SSEQ_STACK_* variables. Returns the file's path."""
    env = dict(os.environ, SSEQ_TOP=SRCDIR, **settings)
    r = subprocess.run(["bash", STACK_SH, "nginx-conf", directory,
                        str(port)], env=env, capture_output=True,
                       text=True, timeout=30)
    if r.returncode != 0:
        raise RuntimeError("scripts/stack.sh nginx-conf: exit %d: %s" % (
            r.returncode, r.stderr))
    return os.path.join(directory, "nginx.conf")


_counter = [0]


class Stack:
    """nginx + spawn-fcgi -F N sseq-stream + sseq-publish, private queue.
    create_queue: True (the test creates it first), False (missing), or
    "spawn" (missing: the shipped sseq-spawn creates it, as root)."""

    def __init__(self, settings=None, stream_procs=2, publish_procs=1,
                 nginx_workers=1, create_queue=True, queue_size=None,
                 programs=None, nginx_settings=None):
        _counter[0] += 1
        self.programs = programs or {}
        self.queue = "/sseq-it-%d-%d" % (os.getpid(), _counter[0])
        self.conf_dict = default_settings(self.queue)
        if queue_size:
            self.conf_dict["queue"]["size"] = queue_size
        apply_settings(self.conf_dict, settings or {})
        self.stream_procs = stream_procs
        self.publish_procs = publish_procs
        self.nginx_workers = nginx_workers
        self.nginx_settings = nginx_settings or {}  # more SSEQ_STACK_*
        self.create_queue = create_queue
        self.token = TOKEN
        self.port = None
        self.port_hold = None   # hold_port()'s socket while we run
        self.nginx = None
        self.spawners = []
        self.tmpdir = None

    # -- lifecycle --------------------------------------------------------
    def __enter__(self):
        become_subreaper()
        self.tmpdir = tempfile.mkdtemp(prefix="sseq-it-")
        os.chmod(self.tmpdir, 0o755)
        self.conf_path = os.path.join(self.tmpdir, "sseq.conf")
        self.write_conf()
        try:
            if self.create_queue is True:
                self.sseq_ok("create", "--force")
            self.start_fcgi("stream", self.stream_procs)
            if self.publish_procs:
                self.start_fcgi("publish", self.publish_procs)
            self.start_nginx()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def write_conf(self):
        text = "".join("%s = %s;\n" % (k, render_conf(v, k))
                       for k, v in self.conf_dict.items())
        with open(self.conf_path, "w") as f:
            f.write(text)

    def log(self, name):
        """Contents of a log file in the private dir ('' if none)."""
        try:
            with open(os.path.join(self.tmpdir, name), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def start_fcgi(self, role, count):
        """The shipped spawn-fcgi script (fcgi-conf/spawn-fcgi/sseq-spawn)
        starts count sseq-<role> processes on <tmp>/<role>.sock, their
        stderr in <tmp>/<role>.log (read for sanitizer reports)."""
        if count == 0:
            return
        env = dict(os.environ, RUNDIR=self.tmpdir, CONF=self.conf_path,
                   PROCS=str(count), PROGRAM=self.program(role),
                   LOG=os.path.join(self.tmpdir, role + ".log"),
                   SSEQ_SPAWN_KEEP_USER="1", SSEQ_CLI=binary("sseq"),
                   SSEQ_SPAWN_CREATE_QUEUE="1" if self.create_queue == "spawn"
                   else "0")
        r = subprocess.run(
            [os.path.join(BUILDDIR, "fcgi-conf", "spawn-fcgi", "sseq-spawn"),
             role], env=env, capture_output=True, text=True, timeout=10)
        if r.returncode != 0:
            raise RuntimeError("sseq-spawn %s: exit %d: %s" % (
                role, r.returncode, r.stderr))
        self.wait_for(lambda: len(self.pids(role)) == count,
                      "spawn-fcgi " + role)

    def program(self, role):
        """The binary sseq-<role> runs from (programs= overrides)."""
        return self.programs.get(role, binary("sseq-" + role))

    def spawn(self, *args):
        """Runs the shipped sseq-spawn with args (e.g. "restart",
        "stream"); returns the CompletedProcess."""
        env = dict(os.environ, RUNDIR=self.tmpdir, CONF=self.conf_path,
                   PROGRAM=self.program(args[-1]),
                   LOG=os.path.join(self.tmpdir, args[-1] + ".log"),
                   SSEQ_SPAWN_KEEP_USER="1", SSEQ_CLI=binary("sseq"),
                   SSEQ_SPAWN_CREATE_QUEUE="0")
        return subprocess.run(
            [os.path.join(BUILDDIR, "fcgi-conf", "spawn-fcgi", "sseq-spawn")]
            + list(args), env=env, capture_output=True, text=True,
            timeout=30)

    def start_nginx(self):
        for attempt in range(5):
            self.close_port_hold()
            self.port_hold, self.port = hold_port()
            conf = write_nginx_conf(
                self.tmpdir, self.port, SSEQ_STACK_NGINX_DAEMON="off",
                SSEQ_STACK_NGINX_WORKERS=str(self.nginx_workers),
                SSEQ_STACK_ACCESS_LOG="off",
                SSEQ_STACK_NGINX_LOG_LEVEL="info", **self.nginx_settings)
            self.nginx = subprocess.Popen(
                [NGINX, "-p", self.tmpdir, "-c", conf, "-e",
                 os.path.join(self.tmpdir, "error.log")],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if self.wait_for(self.port_open, "nginx", fail=False):
                self.base_url = "http://127.0.0.1:%d" % self.port
                return
            self.nginx.kill()
            self.nginx.wait()
        raise RuntimeError("nginx did not start:\n" +
                           self.log("error.log")[-2000:])

    def port_open(self):
        return tcp_answers(self.nginx, self.port)

    def wait_for(self, cond, what, timeout=10, fail=True):
        if wait_until(cond, timeout):
            return True
        if fail:
            raise RuntimeError("timed out waiting for " + what)
        return False

    def close_port_hold(self):
        if self.port_hold:
            self.port_hold.close()
        self.port_hold = None

    def master_pids(self, role):
        """The master processes spawn-fcgi started (its pid file)."""
        try:
            with open(os.path.join(self.tmpdir, role + ".pid")) as f:
                pids = [int(x) for x in f.read().split()]
        except OSError:
            return []
        return [p for p in pids if pid_alive(p)]

    def pids(self, role):
        """The worker processes (the masters' children), which hold the
        streams and answer requests."""
        return [c for m in self.master_pids(role) for c in child_pids(m)]

    def stream_pids(self):
        return self.pids("stream")

    def publish_pids(self):
        return self.pids("publish")

    def stop_role(self, role, sig=signal.SIGTERM, timeout=5):
        """Signals every sseq-<role> master (which stops its workers);
        returns {pid: exit status} (None for one that had to be killed)."""
        status = {}
        pids = self.master_pids(role)
        for p in pids:
            try:
                os.kill(p, sig)
            except ProcessLookupError:
                pass
        for p in pids:
            status[p] = wait_exit(p, timeout)
            if status[p] is None:
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                wait_exit(p, 2)
        return status

    def restart_stream(self):
        """SIGTERM every sseq-stream, wait, spawn them again; returns the
        exit statuses of the old ones."""
        status = self.stop_role("stream")
        self.start_fcgi("stream", self.stream_procs)
        return status

    def stop(self):
        if self.nginx and self.nginx.poll() is None:
            self.nginx.terminate()
            try:
                self.nginx.wait(5)
            except subprocess.TimeoutExpired:
                self.nginx.kill()
                self.nginx.wait()
        self.close_port_hold()
        if self.tmpdir:
            for role in ("stream", "publish", "bridge"):
                self.stop_role(role, timeout=3)
        try:
            os.unlink("/dev/shm" + self.queue)
        except OSError:
            pass
        reports = self.sanitizer_reports()
        if self.tmpdir and not os.environ.get("SSEQ_KEEP_TMP"):
            shutil.rmtree(self.tmpdir, ignore_errors=True)
        self.tmpdir = None
        if reports:
            raise AssertionError("sanitizer report in a server log:\n" +
                                 reports)

    def sanitizer_reports(self):
        """The ASan/UBSan reports the programs wrote to their logs."""
        out = []
        for role in ("stream", "publish", "bridge"):
            text = self.log(role + ".log")
            for marker in ("ERROR: AddressSanitizer", "runtime error:",
                           "ERROR: LeakSanitizer"):
                at = text.find(marker)
                if at >= 0:
                    out.append("%s.log: %s" % (role, text[at:at + 3000]))
        return "\n".join(out)

    # -- talking to it ----------------------------------------------------
    def sseq(self, *args, input=None, timeout=30):
        """Runs `sseq -c <conf> args...`; returns the CompletedProcess."""
        return subprocess.run([binary("sseq"), "-c", self.conf_path] +
                              [str(a) for a in args], input=input,
                              capture_output=True, text=True,
                              timeout=timeout)

    def sseq_ok(self, *args, **kw):
        r = self.sseq(*args, **kw)
        if r.returncode != 0:
            raise RuntimeError("sseq %s: exit %d: %s" % (
                " ".join(map(str, args)), r.returncode, r.stderr))
        return r

    def publish_cli(self, channel, data, event=None):
        args = ["publish"] + (["--event", event] if event else []) + \
            [channel, data]
        return int(self.sseq_ok(*args).stdout.strip())

    def stats(self):
        return json.loads(self.sseq_ok("stats", "--json").stdout)

    def http(self, method, path, body=None, headers=None, timeout=10):
        """One request; returns (status, {lowercase header: value}, body)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                          timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            return (r.status, {k.lower(): v for k, v in r.getheaders()},
                    r.read())
        finally:
            conn.close()

    def sse(self, path, headers=None, timeout=5):
        return SSEClient(self.port, path, headers, timeout)


class ChunkedDecoder:
    """Incremental HTTP/1.1 chunked transfer decoding."""

    def __init__(self):
        self.buf = b""
        self.left = 0           # bytes left in the current chunk
        self.state = "size"     # size | data | crlf | done
        self.done = False

    def feed(self, data):
        """Returns the payload bytes that data completes."""
        self.buf += data
        out = []
        while self.buf and not self.done:
            if self.state == "size":
                nl = self.buf.find(b"\r\n")
                if nl < 0:
                    break
                self.left = int(self.buf[:nl].split(b";")[0], 16)
                self.buf = self.buf[nl + 2:]
                self.state = "data" if self.left else "trailer"
            elif self.state == "data":
                take = self.buf[:self.left]
                out.append(take)
                self.buf = self.buf[len(take):]
                self.left -= len(take)
                if self.left == 0:
                    self.state = "crlf"
            elif self.state == "crlf":
                if len(self.buf) < 2:
                    break
                self.buf = self.buf[2:]
                self.state = "size"
            elif self.state == "trailer":
                if self.buf.startswith(b"\r\n"):
                    self.done = True
                    self.buf = self.buf[2:]
                else:
                    break
        return b"".join(out)


class SSEParser:
    """The WHATWG event-stream parser: feed bytes, get Events."""

    def __init__(self):
        self.buf = b""
        self.data = []
        self.event = ""
        self.last_id = None
        self.have_data = False
        self.comments = []
        self.retry = None

    def feed(self, data):
        self.buf += data
        events = []
        while True:
            cut = min([i for i in (self.buf.find(b"\n"), self.buf.find(b"\r"))
                       if i >= 0], default=-1)
            if cut < 0:
                break
            if self.buf[cut:cut + 1] == b"\r":
                if cut + 1 == len(self.buf):
                    break       # a CR at the end may be half of CRLF
                skip = 2 if self.buf[cut + 1:cut + 2] == b"\n" else 1
            else:
                skip = 1
            line = self.buf[:cut].decode("utf-8")
            self.buf = self.buf[cut + skip:]
            ev = self.line(line)
            if ev:
                events.append(ev)
        return events

    def line(self, line):
        if line == "":
            if not self.have_data:
                self.event = ""
                return None
            ev = Event(self.last_id, self.event or "message",
                       "\n".join(self.data))
            self.data, self.event, self.have_data = [], "", False
            return ev
        if line.startswith(":"):
            self.comments.append(line[1:].lstrip(" "))
            return None
        field, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if field == "data":
            self.data.append(value)
            self.have_data = True
        elif field == "event":
            self.event = value
        elif field == "id" and "\0" not in value:
            self.last_id = value
        elif field == "retry" and value.isdigit():
            self.retry = int(value)
        return None


class SSEClient:
    """A raw-socket HTTP/1.1 GET kept open, its body parsed as SSE."""

    def __init__(self, port, path, headers=None, timeout=5):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout)
        hdrs = {"Host": "127.0.0.1", "Accept": "text/event-stream"}
        hdrs.update(headers or {})
        req = "GET %s HTTP/1.1\r\n%s\r\n" % (path, "".join(
            "%s: %s\r\n" % kv for kv in hdrs.items()))
        self.sock.sendall(req.encode())
        self.parser = SSEParser()
        self.pending = []       # parsed, not yet returned by events()
        self.eof = False
        self.clean_end = False  # saw the terminating chunk
        self.raw = b""          # the body as received (decoded)
        self.read_head(timeout)

    def read_head(self, timeout):
        buf = b""
        self.sock.settimeout(timeout)
        while b"\r\n\r\n" not in buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed before the response head")
            buf += chunk
        head, _, rest = buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {}
        for ln in lines[1:]:
            k, _, v = ln.partition(":")
            self.headers[k.strip().lower()] = v.strip()
        self.chunked = self.headers.get("transfer-encoding") == "chunked"
        self.length = int(self.headers.get("content-length", -1))
        self.decoder = ChunkedDecoder() if self.chunked else None
        self.body_in(rest)

    def body_in(self, data):
        if self.decoder:
            payload = self.decoder.feed(data)
            if self.decoder.done:
                self.clean_end = True
                self.eof = True
        else:
            payload = data
        self.raw += payload
        if self.length >= 0 and len(self.raw) >= self.length:
            self.eof = self.clean_end = True
        self.pending.extend(self.parser.feed(payload))

    @property
    def comments(self):
        return self.parser.comments

    def pump(self, timeout):
        """Reads once (waiting up to timeout); False on EOF or timeout."""
        if self.eof:
            return False
        self.sock.settimeout(max(timeout, 0.001))
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return False
        except OSError:
            data = b""
        if not data:
            self.eof = True
            return False
        self.body_in(data)
        return True

    def events(self, n, timeout=5):
        """Returns up to n events, waiting at most timeout seconds."""
        deadline = time.monotonic() + timeout
        while len(self.pending) < n and not self.eof:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            self.pump(left)
        out, self.pending = self.pending[:n], self.pending[n:]
        return out

    def wait(self, cond, timeout=10):
        """Reads until cond() holds (e.g. a heartbeat comment came), the
        response ends or timeout seconds pass; returns cond()."""
        deadline = time.monotonic() + timeout
        while not cond() and not self.eof:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            self.pump(left)
        return bool(cond())

    def body(self):
        return self.raw.decode("utf-8", "replace")

    def closed(self, timeout=5):
        """Waits for the response to end; True if it did."""
        deadline = time.monotonic() + timeout
        while not self.eof and time.monotonic() < deadline:
            self.pump(deadline - time.monotonic())
        return self.eof

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class TestCase(unittest.TestCase):
    maxDiff = None

    def assertNothingPending(self, st, clients, channel, why="nothing else"):
        """Publishes a marker into channel (one that each of clients, an
        SSEClient or a list, subscribes to) and checks that it is the
        next event each gets: whatever it should not get (a duplicate,
        another channel's message) would have come before it. Waits for
        the marker, not for a silence. Returns the marker's id."""
        mid = st.publish_cli(channel, "-- marker --")
        for c in clients if isinstance(clients, list) else [clients]:
            got = c.events(1, timeout=10)
            self.assertEqual([(e.id, e.data) for e in got],
                             [(str(mid), "-- marker --")], why)
        return mid


class _Result(unittest.TextTestResult):
    pass


def main():
    """Runs the calling module's tests; skips count as failures. Prints
    'N passed, N failed' and exits non-zero on any failure."""
    # A hung test must not hang the suite: after this many seconds every
    # thread's traceback is printed and the file fails.
    faulthandler.dump_traceback_later(
        int(os.environ.get("SSEQ_TEST_TIMEOUT", "600")), exit=True)
    suite = unittest.defaultTestLoader.loadTestsFromModule(
        sys.modules["__main__"])
    runner = unittest.TextTestRunner(verbosity=2, resultclass=_Result)
    result = runner.run(suite)
    bad = len(result.failures) + len(result.errors) + len(result.skipped) + \
        len(result.unexpectedSuccesses)
    print("%d passed, %d failed" % (result.testsRun - bad, bad))
    sys.exit(1 if bad else 0)
