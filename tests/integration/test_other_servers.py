#!/usr/bin/env python3
"""test_other_servers.py -- sseq behind Apache httpd 2.4 (mod_proxy_fcgi)
and lighttpd 1.4 (mod_fastcgi), each configured with the shipped snippet
(fcgi-conf/apache/sseq.conf, fcgi-conf/lighttpd/sseq.conf) in front of the
sseq-stream and sseq-publish processes that harness.Stack starts: a stream
gets each event while it stays open, with exact framing; POST
/publish/NAME and /publish?channel=NAME with a bearer token answer 202;
Last-Event-ID resumes; a client that leaves frees its stream; the
Mercure hub URL sends POST to sseq-publish (a publisher JWT minted by
python3-jwt passed through: 200 and the id) and GET to sseq-stream;
GET /sseq/metrics answers the Prometheus text to 127.0.0.1, 403 to
127.0.0.2; GET /.well-known/oauth-protected-resource/.well-known/mercure
answers the Mercure 1.0 metadata document.

The Apache snippet is included verbatim (the test's config sets
`Define SSEQ_RUNDIR`); lighttpd has no way to give a variable a default,
so the test replaces the snippet's one `var.sseq_rundir = ...` line, the
line a user edits, and uses the rest verbatim.
"""
import http.client
import json
import os
import re
import shutil
import signal
import subprocess

import harness
import hub_util

APACHE = shutil.which("apache2") or "/usr/sbin/apache2"
LIGHTTPD = shutil.which("lighttpd") or "/usr/sbin/lighttpd"
APACHE_MODULES = "/usr/lib/apache2/modules"

# No mod_unixd: started as root, Apache would switch to a user that cannot
# open the test's root-owned 0660 sockets (and it refuses to serve as
# root); without it the children keep the test's user.
APACHE_CONF = """\
ServerRoot "{dir}"
ServerName 127.0.0.1
Listen 127.0.0.1:{port}
PidFile "{dir}/httpd.pid"
DefaultRuntimeDir "{dir}"
Mutex file:{dir}
ErrorLog "{dir}/error.log"
LogLevel warn
StartServers 1
ThreadsPerChild 25
LoadModule mpm_event_module {mods}/mod_mpm_event.so
LoadModule authz_core_module {mods}/mod_authz_core.so
LoadModule authz_host_module {mods}/mod_authz_host.so
LoadModule env_module {mods}/mod_env.so
LoadModule proxy_module {mods}/mod_proxy.so
LoadModule proxy_fcgi_module {mods}/mod_proxy_fcgi.so
Define SSEQ_RUNDIR {rundir}
<VirtualHost 127.0.0.1:{port}>
    DocumentRoot "{srcdir}/www"
    Include "{srcdir}/fcgi-conf/apache/sseq.conf"
</VirtualHost>
"""

LIGHTTPD_CONF = """\
server.document-root = "{srcdir}/www"
server.bind = "127.0.0.1"
server.port = {port}
server.pid-file = "{dir}/lighttpd.pid"
server.errorlog = "{dir}/error.log"
server.upload-dirs = ( "{dir}" )
include "{dir}/sseq.conf"
"""

RUNDIR_LINE = re.compile(r'^var\.sseq_rundir = "/run/sseq"$', re.M)


def children(pid):
    """Every descendant of pid, found through /proc."""
    kids = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                ppid = int(f.read().rsplit(") ", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        kids.setdefault(ppid, []).append(int(name))
    out, todo = [], [pid]
    while todo:
        for k in kids.get(todo.pop(), []):
            out.append(k)
            todo.append(k)
    return out


class Server:
    """A web server in the foreground, in its own dir under the Stack's
    tmpdir, on a free port; stop() ends it and its children by PID."""

    name = ""

    def __init__(self, st):
        self.st = st
        self.dir = os.path.join(st.tmpdir, self.name)
        os.makedirs(self.dir)
        self.proc = None
        self.pids = []
        self.port = None

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def log(self):
        try:
            with open(os.path.join(self.dir, "error.log"),
                      errors="replace") as f:
                return f.read()[-3000:]
        except OSError:
            return ""

    def start(self):
        for _ in range(5):
            self.port = harness.free_port()
            self.proc = subprocess.Popen(
                self.command(self.write_conf()),
                stdout=open(os.path.join(self.dir, "stdout.log"), "w"),
                stderr=subprocess.STDOUT)
            if self.st.wait_for(self.ready, self.name, fail=False):
                self.pids = children(self.proc.pid)
                return
            self.stop()
        raise RuntimeError("%s did not start:\n%s" % (self.name, self.log()))

    def ready(self):
        if self.proc.poll() is not None:
            return False
        try:
            c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
            c.request("GET", "/index.html")
            c.getresponse().read()
            c.close()
            return True
        except OSError:
            return False

    def stop(self):
        if self.proc is None:
            return
        pids = set(self.pids) | set(children(self.proc.pid))
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for p in pids:
            if harness.wait_exit(p, 5) is None:
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                harness.wait_exit(p, 2)
        self.proc = None

    # -- talking to it ----------------------------------------------------
    def sse(self, path, headers=None):
        return harness.SSEClient(self.port, path, headers, timeout=10)

    def post(self, path, body, headers):
        conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                          timeout=10)
        try:
            conn.request("POST", path, body=body, headers=headers)
            r = conn.getresponse()
            return r.status, r.getheader("Content-Type"), r.read()
        finally:
            conn.close()


class Apache(Server):
    name = "apache"

    def write_conf(self):
        conf = os.path.join(self.dir, "httpd.conf")
        with open(conf, "w") as f:
            f.write(APACHE_CONF.format(
                dir=self.dir, port=self.port, mods=APACHE_MODULES,
                rundir=self.st.tmpdir, srcdir=harness.SRCDIR))
        return conf

    def command(self, conf):
        return [APACHE, "-d", self.dir, "-f", conf, "-DFOREGROUND"]


class Lighttpd(Server):
    name = "lighttpd"

    def write_conf(self):
        with open(os.path.join(harness.SRCDIR, "fcgi-conf", "lighttpd",
                               "sseq.conf")) as f:
            snippet = f.read()
        snippet, n = RUNDIR_LINE.subn(
            'var.sseq_rundir = "%s"' % self.st.tmpdir, snippet)
        if n != 1:
            raise AssertionError("fcgi-conf/lighttpd/sseq.conf: expected "
                                 "one line 'var.sseq_rundir = \"/run/sseq\"'")
        with open(os.path.join(self.dir, "sseq.conf"), "w") as f:
            f.write(snippet)
        conf = os.path.join(self.dir, "lighttpd.conf")
        with open(conf, "w") as f:
            f.write(LIGHTTPD_CONF.format(dir=self.dir, port=self.port,
                                         srcdir=harness.SRCDIR))
        return conf

    def command(self, conf):
        return [LIGHTTPD, "-D", "-f", conf]


def frame(ev_id, data, event=None):
    """The exact bytes sseq-stream writes for one event."""
    return "id: %s\n%s%s\n" % (ev_id, "event: %s\n" % event if event else "",
                               "".join("data: %s\n" % ln
                                       for ln in data.split("\n")))


# Mercure 1.0's metadata: the hub's resource and where it is served.
PRM_RESOURCE = "https://localhost/.well-known/mercure"
PRM_PATH = "/.well-known/oauth-protected-resource/.well-known/mercure"


class OtherServers(harness.TestCase):

    def through(self, server_class):
        for prog in (APACHE, LIGHTTPD):
            self.assertTrue(os.access(prog, os.X_OK), prog + " missing: "
                            "apt-get install apache2 lighttpd")
        with harness.Stack(settings={
                "stream.heartbeat": 1,
                "mercure.publisher_jwt_key": hub_util.KEY,
                "mercure.subscriber_jwt_key": hub_util.KEY,
                "mercure.issuer": "https://localhost",
                "mercure.resource": PRM_RESOURCE},
                stream_procs=1) as st, server_class(st) as srv:
            try:
                self.check(st, srv)
                self.check_hub(st, srv)
                self.check_metrics(st, srv)
                self.check_prm(srv)
            except BaseException:
                print("%s error log:\n%s" % (srv.name, srv.log()))
                raise

    def check(self, st, srv):
        # 1. A stream gets an event published with `sseq publish` while it
        # stays open, framed exactly.
        c = srv.sse("/events?channel=chat")
        clients = [c]
        try:
            self.assertEqual(c.status, 200)
            self.assertTrue(c.headers["content-type"].startswith(
                "text/event-stream"), c.headers)
            first = st.publish_cli("chat", "hello\nsecond line")
            ev = c.events(1, timeout=10)
            self.assertEqual(ev, [harness.Event(str(first), "message",
                                                "hello\nsecond line")])
            self.assertFalse(c.eof, "the stream ended instead of staying "
                             "open")
            second = st.publish_cli("chat", "hi", event="greeting")
            ev = c.events(1, timeout=10)
            self.assertEqual(ev, [harness.Event(str(second), "greeting",
                                                "hi")])
            self.assertIn(frame(first, "hello\nsecond line") +
                          frame(second, "hi", "greeting"),
                          c.body().replace(":\n\n", ""))

            # 2. Both publish forms, bearer token passed through.
            auth = {"Authorization": "Bearer " + st.token}
            status, _, body = srv.post("/publish/chat", "no token",
                                       {"Content-Type": "text/plain"})
            self.assertEqual(status, 401, body)
            ids = []
            for path, body, ctype in (
                    ("/publish/chat", "via path", "text/plain"),
                    ("/publish?channel=chat", "data=via+query",
                     "application/x-www-form-urlencoded")):
                status, rtype, raw = srv.post(
                    path, body, dict(auth, **{"Content-Type": ctype}))
                self.assertEqual(status, 202, (path, raw))
                self.assertEqual(rtype, "application/json")
                reply = json.loads(raw)
                self.assertEqual(reply["channel"], "chat")
                ids.append(reply["id"])
            ev = c.events(2, timeout=10)
            self.assertEqual(ev, [harness.Event(ids[0], "message",
                                                "via path"),
                                  harness.Event(ids[1], "message",
                                                "via query")])

            # 3. Last-Event-ID resumes after the given id.
            r = srv.sse("/events?channel=chat",
                        {"Last-Event-ID": str(first)})
            clients.append(r)
            self.assertEqual(r.status, 200)
            ev = r.events(3, timeout=10)
            self.assertEqual([(e.id, e.data) for e in ev],
                             [(str(second), "hi"), (ids[0], "via path"),
                              (ids[1], "via query")])
        finally:
            for cl in clients:
                cl.close()

        # 4. The server notices the clients left (at the next heartbeat)
        # and closes the FastCGI connections: no stream stays open.
        self.assertTrue(st.wait_for(lambda: all(
            p["streams"] == 0 for p in st.stats()["processes"]
            if p["role"] == "stream"), "streams to close", timeout=20,
            fail=False), st.stats())

    def check_hub(self, st, srv):
        """POST /.well-known/mercure reaches sseq-publish with the token;
        GET reaches sseq-stream (a subscriber there gets the update once
        sseq-stream serves the hub, else sseq-stream's own refusal)."""
        hub = hub_util.HUB
        sub = srv.sse(hub + "?topic=hubchat")
        try:
            body = hub_util.form([("topic", "hubchat"), ("data", "via hub"),
                                  ("type", "note")])
            ctype = {"Content-Type": "application/x-www-form-urlencoded"}
            before = st.stats()["appends"]
            status, _, raw = srv.post(hub, body, ctype)
            self.assertEqual(status, 401, raw)
            status, rtype, raw = srv.post(hub, body, dict(ctype, **{
                "Authorization": "Bearer " + hub_util.publisher()}))
            self.assertEqual(status, 200, raw)
            self.assertTrue(rtype.startswith("text/plain"), rtype)
            self.assertEqual(st.stats()["appends"], before + 1)
            rec = hub_util.newest(st)[-1]
            self.assertEqual((rec["id"], rec["channel"], rec["event"]),
                             (raw.decode(), "hubchat", "note"))
            if sub.status == 200:
                ev = sub.events(1, timeout=10)
                self.assertEqual(ev, [harness.Event(raw.decode(), "note",
                                                    "via hub")])
            else:
                # sseq-stream's answer, never sseq-publish's 405.
                sub.closed(5)
                self.assertNotEqual(sub.status, 405, sub.body())
                self.assertNotIn("use POST", sub.body())
        finally:
            sub.close()

    def check_metrics(self, st, srv):
        """The metrics location: sseq-stream's Prometheus text (the
        SSEQ_ENDPOINT param reached it) to this host, 403 to another
        address."""
        for source, want in (("127.0.0.1", 200), ("127.0.0.2", 403)):
            conn = http.client.HTTPConnection(
                "127.0.0.1", srv.port, timeout=10,
                source_address=(source, 0))
            try:
                conn.request("GET", "/sseq/metrics")
                r = conn.getresponse()
                body = r.read().decode("utf-8", "replace")
            finally:
                conn.close()
            self.assertEqual(r.status, want, (source, body[:300]))
            if want == 200:
                self.assertEqual(r.getheader("Content-Type"),
                                 "text/plain; version=0.0.4; "
                                 "charset=utf-8")
                self.assertIn("\nsseq_queue_appended_total %d\n"
                              % st.stats()["appends"], body)
            else:
                self.assertNotIn("sseq_", body)

    def check_prm(self, srv):
        """The Mercure 1.0 protected resource metadata location: the
        SSEQ_ENDPOINT param reached sseq-stream, which answered the
        document."""
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
        try:
            conn.request("GET", PRM_PATH)
            r = conn.getresponse()
            body = r.read().decode("utf-8", "replace")
        finally:
            conn.close()
        self.assertEqual(r.status, 200, body[:300])
        self.assertEqual(r.getheader("Content-Type"), "application/json")
        self.assertEqual(json.loads(body)["resource"], PRM_RESOURCE)

    def test_apache(self):
        self.through(Apache)

    def test_lighttpd(self):
        self.through(Lighttpd)


if __name__ == "__main__":
    harness.main()
