"""cluster_util.py -- helpers for the cluster tests: a private
redis-server (a held loopback port, its own directory, an append-only
file), and a Stack that joins it through sseq-bridge started with the
shipped fcgi-conf/spawn-fcgi/sseq-bridge-start."""
import os
import secrets
import socket
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

    def __init__(self, password=None, node_entries=16, args=()):
        self.password = password
        self.node_entries = node_entries
        self.args = list(args)      # more redis-server arguments
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
        args += self.args
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


# -- Sentinel, network namespaces and a front load balancer ---------------
# (test_sentinel.py). Everything here needs root (ip netns) and cleans up
# what it made even when a start fails half-way.

REDIS_SENTINEL = shutil.which("redis-sentinel") or "/usr/bin/redis-sentinel"
IP = shutil.which("ip") or "/usr/sbin/ip"


def run_ip(*args):
    """ip ARGS; raises with ip's message when it fails."""
    r = subprocess.run([IP] + [str(a) for a in args], capture_output=True,
                       text=True, timeout=10)
    if r.returncode != 0:
        raise RuntimeError("ip %s: %s" % (" ".join(map(str, args)),
                                          r.stderr.strip()))
    return r.stdout


class Net:
    """A bridge in the root namespace with ADDR.1/24 and one namespace a
    host, each joined by a veth: the test's own addresses (10.X.Y.0/24,
    X and Y from the pid, so two runs side by side do not meet)."""

    def __init__(self, hosts):
        pid = os.getpid()
        self.tag = "%05d" % (pid % 100000)
        self.prefix = "10.%d.%d" % (200 + pid % 50, (pid // 50) % 250)
        self.bridge = "sqb" + self.tag
        self.gateway = self.prefix + ".1"
        self.names = ["sqn%s-%d" % (self.tag, k) for k in range(hosts)]
        self.addrs = ["%s.%d" % (self.prefix, 11 + k) for k in range(hosts)]
        self.made = []          # ("link", name) / ("netns", name)

    def __enter__(self):
        try:
            run_ip("link", "add", self.bridge, "type", "bridge")
            self.made.append(("link", self.bridge))
            run_ip("addr", "add", self.gateway + "/24", "dev", self.bridge)
            run_ip("link", "set", self.bridge, "up")
            for k, ns in enumerate(self.names):
                veth = "sqv%s%d" % (self.tag, k)
                run_ip("netns", "add", ns)
                self.made.append(("netns", ns))
                run_ip("link", "add", veth, "type", "veth", "peer", "name",
                       "eth0", "netns", ns)
                self.made.append(("link", veth))
                run_ip("link", "set", veth, "master", self.bridge, "up")
                run_ip("-n", ns, "addr", "add", self.addrs[k] + "/24",
                       "dev", "eth0")
                run_ip("-n", ns, "link", "set", "eth0", "up")
                run_ip("-n", ns, "link", "set", "lo", "up")
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def kill_all(self, ns):
        """SIGKILLs every process in namespace ns and waits for them."""
        pids = [int(p) for p in run_ip("netns", "pids", ns).split()]
        for p in pids:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for p in pids:
            harness.wait_exit(p, 5)
        return pids

    def close(self):
        for kind, name in reversed(self.made):
            if kind == "netns":
                try:
                    self.kill_all(name)
                except RuntimeError:
                    pass
                subprocess.run([IP, "netns", "del", name],
                               capture_output=True)
            else:
                subprocess.run([IP, "link", "del", name],
                               capture_output=True)
        self.made = []


class SentinelSet:
    """A Redis master, two replicas and three sentinels, all on addr (in
    the root namespace), each with its own port and directory; a master
    judged down after down_ms and a failover bounded by failover_ms. The
    nodes' password and the sentinels' own (requirepass) are made per
    run and written only to the 0600 config files of this run's
    directory (never on a command line)."""

    NAME = "sseqm"

    def __init__(self, addr, down_ms=1000, failover_ms=3000):
        self.addr = addr
        self.down_ms = down_ms
        self.failover_ms = failover_ms
        # a '?' in the nodes' password (it was once shown in clear), a
        # '@' and a '/' in the sentinels' (the URL's query takes any byte)
        self.password = "n?" + secrets.token_urlsafe(12)
        self.sentinel_password = "s@/" + secrets.token_urlsafe(12)
        self.dir = None
        self.redis = {}         # port: Popen
        self.sentinels = {}     # port: Popen

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="sseq-sentinel-")
        try:
            ports = [harness.free_port() for _ in range(6)]
            self.master_port = ports[0]
            self.replica_ports = ports[1:3]
            self.sentinel_ports = ports[3:]
            self.start_redis(self.master_port)
            for p in self.replica_ports:
                self.start_redis(p, replica_of=self.master_port)
            harness.wait_until(lambda: self.replicas_of(self.master_port)
                               == 2, 20)
            for p in self.sentinel_ports:
                self.start_sentinel(p)
            if not harness.wait_until(self.sentinels_agree, 20):
                raise RuntimeError("the sentinels did not see the replicas")
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    @property
    def url(self):
        """cluster.redis: the nodes' password, the sentinels, the master's
        name and the sentinels' own password."""
        return "redis+sentinel://:%s@%s/%s?sentinel_password=%s" % (
            self.password, ",".join("%s:%d" % (self.addr, p)
                                    for p in self.sentinel_ports),
            self.NAME, self.sentinel_password)

    @staticmethod
    def write_conf(path, text):
        """Writes a config file holding a password: mode 0600 from the
        start."""
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)

    def start_redis(self, port, replica_of=None):
        d = os.path.join(self.dir, "r%d" % port)
        os.makedirs(d, exist_ok=True)
        conf = os.path.join(d, "redis.conf")
        if not os.path.exists(conf):
            self.write_conf(conf, 'requirepass "%s"\nmasterauth "%s"\n' % (
                self.password, self.password))
        args = [REDIS_SERVER, conf, "--port", str(port), "--bind", self.addr,
                "--dir", d, "--save", "", "--appendonly", "yes",
                "--appendfsync", "no", "--repl-diskless-sync", "yes",
                "--repl-diskless-sync-delay", "0",
                "--logfile", os.path.join(d, "redis.log")]
        if replica_of:
            args += ["--replicaof", self.addr, str(replica_of)]
        self.redis[port] = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                            stderr=subprocess.DEVNULL)
        if not harness.wait_until(lambda: "PONG" in self.cli(port, "PING"),
                                  10):
            raise RuntimeError("redis-server on %d did not start" % port)

    def start_sentinel(self, port):
        """A sentinel that requires sentinel_password from its clients and
        from the other sentinels (Redis uses its own requirepass when it
        talks to them)."""
        d = os.path.join(self.dir, "s%d" % port)
        os.makedirs(d, exist_ok=True)
        conf = os.path.join(d, "sentinel.conf")
        self.write_conf(
            conf, "port %d\nbind %s\ndir %s\nlogfile %s\n"
            "protected-mode no\n"
            'requirepass "%s"\n'
            "sentinel monitor %s %s %d 2\n"
            'sentinel auth-pass %s "%s"\n'
            "sentinel down-after-milliseconds %s %d\n"
            "sentinel failover-timeout %s %d\n"
            "sentinel parallel-syncs %s 2\n" % (
                port, self.addr, d, os.path.join(d, "sentinel.log"),
                self.sentinel_password,
                self.NAME, self.addr, self.master_port,
                self.NAME, self.password, self.NAME, self.down_ms,
                self.NAME, self.failover_ms, self.NAME))
        self.sentinels[port] = None
        self.sentinels[port] = subprocess.Popen(
            [REDIS_SENTINEL, conf], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        if not harness.wait_until(lambda: "PONG" in self.cli(port, "PING"),
                                  10):
            raise RuntimeError("redis-sentinel on %d did not start" % port)

    def cli(self, port, *args):
        """redis-cli to node or sentinel port, with its password in the
        environment (REDISCLI_AUTH), not on the command line."""
        pw = self.sentinel_password if port in self.sentinels else \
            self.password
        try:
            return subprocess.run(
                ["redis-cli", "-h", self.addr, "-p", str(port)] +
                [str(a) for a in args], capture_output=True, text=True,
                env=dict(os.environ, REDISCLI_AUTH=pw), timeout=5).stdout
        except subprocess.SubprocessError:
            return ""

    def replicas_of(self, port):
        info = self.cli(port, "INFO", "replication")
        for line in info.splitlines():
            if line.startswith("connected_slaves:"):
                return int(line.split(":")[1])
        return -1

    def sentinels_agree(self):
        """Every sentinel knows both replicas and the other sentinels."""
        for p in self.sentinel_ports:
            out = self.cli(p, "SENTINEL", "master", self.NAME).split()
            kv = dict(zip(out[::2], out[1::2]))
            if kv.get("num-slaves") != "2" or \
                    kv.get("num-other-sentinels") != "2":
                return False
        return True

    def master(self):
        """The master's port as the first sentinel says, or None."""
        for p in self.sentinel_ports:
            out = self.cli(p, "SENTINEL", "get-master-addr-by-name",
                           self.NAME).split()
            if len(out) == 2:
                return int(out[1])
        return None

    def kill_master(self):
        """SIGKILLs the current master; returns its port."""
        port = self.master()
        proc = self.redis[port]
        proc.kill()
        proc.wait()
        return port

    def close(self):
        for procs in (self.sentinels, self.redis):
            for proc in procs.values():
                if proc is None:
                    continue
                if proc.poll() is None:
                    proc.kill()
                proc.wait()
        self.sentinels, self.redis = {}, {}
        if self.dir and not os.environ.get("SSEQ_KEEP_TMP"):
            shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None


class NetnsHost(ClusterStack):
    """A ClusterStack whose every process (nginx, sseq-stream,
    sseq-publish, sseq-bridge) runs in network namespace ns, nginx on
    addr:80. kill() SIGKILLs them all; start() brings them back on the
    same queue (which kill leaves in /dev/shm)."""

    def __init__(self, ns, addr, redis_url, prefix, settings=None, **kw):
        self.ns = ns
        self.addr = addr
        super().__init__(redis_url, prefix, settings=settings, **kw)

    def in_ns(self, argv):
        return [IP, "netns", "exec", self.ns] + argv

    def start_fcgi(self, role, count):
        if count == 0:
            return
        env = dict(os.environ, RUNDIR=self.tmpdir, CONF=self.conf_path,
                   PROCS=str(count), PROGRAM=self.program(role),
                   LOG=os.path.join(self.tmpdir, role + ".log"),
                   SSEQ_SPAWN_KEEP_USER="1", SSEQ_CLI=harness.binary("sseq"),
                   SSEQ_SPAWN_CREATE_QUEUE="0")
        self.run_script("sseq-spawn", env, role)
        self.wait_for(lambda: len(self.pids(role)) == count,
                      "spawn-fcgi " + role)

    def start_bridge(self):
        env = dict(os.environ, RUNDIR=self.tmpdir, CONF=self.conf_path,
                   PROGRAM=harness.binary("sseq-bridge"),
                   LOG=os.path.join(self.tmpdir, "bridge.log"),
                   SSEQ_SPAWN_KEEP_USER="1")
        self.run_script("sseq-bridge-start", env)
        self.wait_for(self.bridge_connected, "sseq-bridge to connect", 20)

    def run_script(self, name, env, *args):
        r = subprocess.run(self.in_ns(
            [os.path.join(harness.BUILDDIR, "fcgi-conf", "spawn-fcgi",
                          name)] + list(args)),
            env=env, capture_output=True, text=True, timeout=20)
        if r.returncode != 0:
            raise RuntimeError("%s %s: exit %d: %s" % (
                name, " ".join(args), r.returncode, r.stderr))

    def start_nginx(self):
        self.port = 80
        conf = harness.write_nginx_conf(
            self.tmpdir, self.port, SSEQ_STACK_NGINX_DAEMON="off",
            SSEQ_STACK_NGINX_WORKERS=str(self.nginx_workers),
            SSEQ_STACK_ACCESS_LOG="off", SSEQ_STACK_NGINX_LOG_LEVEL="info",
            **self.nginx_settings)
        with open(conf) as f:
            text = f.read()
        listen = "listen 127.0.0.1:%d;" % self.port
        if listen not in text:
            raise RuntimeError("nginx.conf has no '%s'" % listen)
        with open(conf, "w") as f:
            f.write(text.replace(listen, "listen %s:80;" % self.addr))
        self.nginx = subprocess.Popen(
            self.in_ns([harness.NGINX, "-p", self.tmpdir, "-c", conf, "-e",
                        os.path.join(self.tmpdir, "error.log")]),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.wait_for(self.port_open, "nginx in " + self.ns)
        self.base_url = "http://%s:80" % self.addr

    def port_open(self):
        if self.nginx.poll() is not None:
            return False
        try:
            socket.create_connection((self.addr, 80), 0.2).close()
            return True
        except OSError:
            return False

    def start(self):
        """After kill(): the same processes again, on the same queue."""
        self.start_fcgi("stream", self.stream_procs)
        self.start_fcgi("publish", self.publish_procs)
        self.start_bridge()
        self.start_nginx()

    def kill(self, net):
        """SIGKILLs every process of the host (all of its namespace)."""
        pids = net.kill_all(self.ns)
        if self.nginx is not None:
            self.nginx.wait()
        return pids


FRONT_CONF = """daemon off;
worker_processes 1;
pid %(dir)s/front.pid;
error_log %(dir)s/front-error.log info;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path %(dir)s/body;
    proxy_temp_path %(dir)s/proxy;
    fastcgi_temp_path %(dir)s/fastcgi;
    uwsgi_temp_path %(dir)s/uwsgi;
    scgi_temp_path %(dir)s/scgi;
    upstream sseq_hosts {
%(servers)s
        keepalive 32;
    }
    server {
        listen 127.0.0.1:%(port)d;
        location / {
            proxy_pass http://sseq_hosts;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_buffering off;
            proxy_request_buffering off;
            proxy_read_timeout 1h;
            proxy_connect_timeout 1s;
            proxy_next_upstream error timeout;
        }
    }
}
"""


class Front:
    """nginx in the root namespace on 127.0.0.1:port balancing every path
    (/events, the hub, /publish) over addrs:80, round robin; a host that
    refuses a connection is skipped for fail_timeout."""

    def __init__(self, addrs):
        self.addrs = addrs
        self.proc = None
        self.dir = None
        self.port = None

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="sseq-front-")
        self.port = harness.free_port()
        servers = "".join("        server %s:80 max_fails=1 "
                          "fail_timeout=2s;\n" % a for a in self.addrs)
        conf = os.path.join(self.dir, "front.conf")
        with open(conf, "w") as f:
            f.write(FRONT_CONF % {"dir": self.dir, "port": self.port,
                                  "servers": servers})
        self.proc = subprocess.Popen(
            [harness.NGINX, "-p", self.dir, "-c", conf, "-e",
             os.path.join(self.dir, "front-error.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def up():
            try:
                socket.create_connection(("127.0.0.1", self.port),
                                         0.2).close()
                return True
            except OSError:
                return False
        if not harness.wait_until(up, 10):
            self.close()
            raise RuntimeError("the front nginx did not start")
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.dir and not os.environ.get("SSEQ_KEEP_TMP"):
            shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None
