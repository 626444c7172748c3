"""site_util.py -- what test_several_sites and test_shared_host share: an
nginx run by root whose http { } and server { } blocks include the
snippets sseq-nginx-conf wrote for each site (the lines an admin adds),
one port, a server_name a site, and an HTTP POST through it."""
import http.client
import os
import shutil
import subprocess

import harness


class SiteNginx:
    """nginx on 127.0.0.1 (a held free port) with one server block per
    site: sites is a list of (server_name, http_include, server_include).
    Workers run as www-data, as Debian's nginx does. Stop with stop()."""

    def __init__(self, tmp, sites):
        self.tmp = tmp
        for f in ("fastcgi_params", "mime.types"):
            shutil.copy("/etc/nginx/" + f, os.path.join(tmp, f))
        os.makedirs(os.path.join(tmp, "tmp"), exist_ok=True)
        self.proc = None
        for attempt in range(5):
            hold, self.port = harness.hold_port()
            self.write_conf(sites)
            hold.close()
            self.proc = subprocess.Popen(
                [harness.NGINX, "-p", tmp, "-c", self.conf, "-e",
                 os.path.join(tmp, "error.log")],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if harness.wait_until(self.answers):
                return
            self.stop()
        raise RuntimeError("nginx did not start: " + self.error_log())

    def write_conf(self, sites):
        servers = "".join(
            "    server {\n        listen 127.0.0.1:%d;\n"
            "        server_name %s;\n        include %s;\n    }\n"
            % (self.port, name, server) for name, _, server in sites)
        uses = "".join("    include %s;\n" % h for _, h, _ in sites)
        self.conf = os.path.join(self.tmp, "nginx.conf")
        t = self.tmp
        with open(self.conf, "w") as f:
            f.write("daemon off;\nmaster_process on;\nworker_processes 1;\n"
                    "user www-data;\npid %s/nginx.pid;\n"
                    "events { worker_connections 256; }\nhttp {\n"
                    "    include %s/mime.types;\n    access_log off;\n"
                    "    client_body_temp_path %s/tmp/body;\n"
                    "    fastcgi_temp_path %s/tmp/fastcgi;\n%s%s}\n"
                    % (t, t, t, t, uses, servers))

    def answers(self):
        return harness.tcp_answers(self.proc, self.port)

    def error_log(self):
        try:
            with open(os.path.join(self.tmp, "error.log")) as f:
                return f.read()[-3000:]
        except OSError:
            return ""

    def sse(self, host, path):
        return harness.SSEClient(self.port, path, headers={"Host": host})

    def post(self, host, path, body, token):
        """POSTs body to host's path with a Bearer token: (status, body)."""
        h = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            h.request("POST", path, body=body, headers={
                "Host": host, "Authorization": "Bearer " + token,
                "Content-Type": "text/plain"})
            r = h.getresponse()
            return r.status, r.read().decode(errors="replace")
        finally:
            h.close()

    def stop(self):
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None
