"""cluster_util.py -- helpers for the cluster tests: a private
redis-server (a held loopback port, its own directory, an append-only
file), and a Stack that joins it through sseq-bridge started with the
shipped fcgi-conf/spawn-fcgi/sseq-bridge-start."""
import os
import shutil
import signal
import subprocess
import tempfile
import time

import harness

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


class Redis:
    """redis-server on 127.0.0.1:<port>; stop() and start() keep the
    port (held by harness.hold_port() from first start to close(), so
    nothing else takes it while Redis is down) and the data: the
    append-only file gets every write before Redis replies, which is all
    a process restart needs (appendfsync no: an fsync guards against a
    power loss, and on a loaded disk it stalls Redis until it looks
    down)."""

    def __init__(self, password=None, node_entries=16):
        self.password = password
        self.node_entries = node_entries
        self.proc = None
        self.port = None
        self.port_hold = None
        self.dir = None

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="sseq-redis-")
        self.port_hold, self.port = harness.hold_port()
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    @property
    def url(self):
        cred = ":%s@" % self.password if self.password else ""
        return "redis://%s127.0.0.1:%d/0" % (cred, self.port)

    def start(self):
        args = [REDIS_SERVER, "--port", str(self.port), "--bind",
                "127.0.0.1", "--dir", self.dir, "--save", "",
                "--appendonly", "yes", "--appendfsync", "no",
                "--stream-node-max-entries", str(self.node_entries),
                "--logfile", os.path.join(self.dir, "redis.log")]
        if self.password:
            args += ["--requirepass", self.password]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                if self.cli("PING").strip() in ("PONG", "NOAUTH"):
                    return
            except subprocess.SubprocessError:
                pass
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start: " + self.log())

    def stop(self):
        """SIGTERM (Redis flushes its append-only file) and wait."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def close(self):
        self.stop()
        if self.port_hold:
            self.port_hold.close()
        self.port_hold = None
        if self.dir and not os.environ.get("SSEQ_KEEP_TMP"):
            shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None

    def cli(self, *args):
        cmd = ["redis-cli", "-p", str(self.port), "--no-auth-warning"]
        if self.password:
            cmd += ["-a", self.password]
        return subprocess.run(cmd + [str(a) for a in args],
                              capture_output=True, text=True,
                              timeout=5).stdout

    def log(self):
        try:
            with open(os.path.join(self.dir, "redis.log")) as f:
                return f.read()[-2000:]
        except OSError:
            return ""


class ClusterStack(harness.Stack):
    """A Stack in cluster mode with its sseq-bridge running."""

    def __init__(self, redis_url, prefix, settings=None, **kw):
        # No test waits for a Redis timeout (a stopped Redis refuses at
        # once), so it is long: on a loaded machine a short one turns a
        # slow reply into "unreachable" and a refused publish.
        s = {"cluster.redis": redis_url, "cluster.prefix": prefix,
             "cluster.timeout_ms": 10000}
        s.update(settings or {})
        super().__init__(settings=s, **kw)

    def __enter__(self):
        super().__enter__()
        try:
            self.start_bridge()
        except BaseException:
            self.stop()
            raise
        return self

    def start_bridge(self):
        """The shipped start script; waits until the bridge is connected."""
        env = dict(os.environ, RUNDIR=self.tmpdir, CONF=self.conf_path,
                   PROGRAM=harness.binary("sseq-bridge"),
                   LOG=os.path.join(self.tmpdir, "bridge.log"),
                   SSEQ_SPAWN_KEEP_USER="1")
        r = subprocess.run(
            [os.path.join(harness.BUILDDIR, "fcgi-conf", "spawn-fcgi",
                          "sseq-bridge-start")],
            env=env, capture_output=True, text=True, timeout=10)
        if r.returncode != 0:
            raise RuntimeError("sseq-bridge-start: exit %d: %s" % (
                r.returncode, r.stderr))
        self.wait_for(self.bridge_connected, "sseq-bridge to connect")

    def bridge_connected(self):
        c = self.stats().get("cluster", {})
        return c.get("connected") is True

    def kill_bridge(self, sig=signal.SIGKILL):
        for pid in self.master_pids("bridge"):
            os.kill(pid, sig)
            harness.wait_exit(pid, 5)

    def newest(self):
        return self.stats()["newest_id"]

    def publish_http(self, channel, data, key=None):
        """POST through nginx; (status, id or None, body)."""
        hdr = {"Content-Type": "text/plain",
               "Authorization": "Bearer " + self.token}
        if key:
            hdr["Idempotency-Key"] = key
        status, _, body = self.http("POST", "/publish/" + channel,
                                    body=data.encode(), headers=hdr)
        if status == 202:
            import json
            return status, int(json.loads(body)["id"]), body
        return status, None, body
