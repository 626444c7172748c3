"""publish_util.py -- helpers shared by the sseq-publish integration tests:
POSTing through nginx, reading what subscribers see (a real sseq-stream
when it is built, else `sseq tail --json`), a raw FastCGI client for the
cases nginx never produces, and running the binary as a plain CGI."""
import json
import os
import socket
import struct
import subprocess

import harness


def stream_built():
    """Whether sseq-stream exists, so subscribers can be real streams."""
    return os.access(harness.binary("sseq-stream"), os.X_OK)


def stack(**kw):
    """A harness.Stack; without sseq-stream it starts none."""
    if not stream_built():
        kw["stream_procs"] = 0
    return harness.Stack(**kw)


def post(st, path, body=b"", ctype="text/plain", token=None, headers=None,
         method="POST"):
    """POSTs through nginx; token None = the stack's token, "" = none.
    Returns (status, headers, body bytes)."""
    h = {}
    if ctype is not None:
        h["Content-Type"] = ctype
    tok = st.token if token is None else token
    if tok:
        h["Authorization"] = "Bearer " + tok
    h.update(headers or {})
    if isinstance(body, str):
        body = body.encode("utf-8")
    return st.http(method, path, body=body, headers=h)


def appends(st):
    """The queue's append counter (sseq stats)."""
    return st.stats()["appends"]


class Subscriber:
    """What a subscriber of channel sees: an SSE stream opened before
    publishing when sseq-stream is built, else the queue's tail read
    afterwards. events(n) -> [harness.Event] in delivery order."""

    def __init__(self, st, channel):
        self.st = st
        self.channel = channel
        self.conn = None
        if stream_built():
            self.conn = st.sse("/events?channel=" + channel)
            assert self.conn.status == 200, self.conn.status

    def events(self, n, timeout=10):
        if self.conn is not None:
            return self.conn.events(n, timeout=timeout)
        r = self.st.sseq("tail", self.channel, "--backlog", n, "--json")
        assert r.returncode == 0, r.stderr
        out = []
        for line in r.stdout.splitlines():
            rec = json.loads(line)
            out.append(harness.Event(rec["id"], rec["event"] or "message",
                                     rec["data"]))
        return out

    def close(self):
        if self.conn is not None:
            self.conn.close()


def sse_data(data):
    """data as an SSE subscriber sees it: CRLF and CR become LF (only when
    delivery goes through a stream)."""
    if not stream_built():
        return data
    return data.replace("\r\n", "\n").replace("\r", "\n")


# ---- raw FastCGI, for bodies nginx would never send -----------------------

def _fcgi_record(rtype, content, req_id=1):
    return struct.pack(">BBHHBx", 1, rtype, req_id, len(content), 0) + \
        content


def _fcgi_params(params):
    out = b""
    for k, v in params.items():
        k, v = k.encode(), v.encode()
        for n in (len(k), len(v)):
            out += bytes([n]) if n < 128 else struct.pack(">I", n | 1 << 31)
        out += k + v
    return out


def fcgi_open(sock_path, params, stdin=b"", end_stdin=True):
    """Connects to a FastCGI socket and sends BEGIN_REQUEST, the params and
    stdin (then the empty STDIN record if end_stdin). Returns the socket."""
    s = socket.socket(socket.AF_UNIX)
    s.connect(sock_path)
    msg = _fcgi_record(1, struct.pack(">HB5x", 1, 0))
    msg += _fcgi_record(4, _fcgi_params(params)) + _fcgi_record(4, b"")
    for at in range(0, len(stdin), 32768):
        msg += _fcgi_record(5, stdin[at:at + 32768])
    if end_stdin:
        msg += _fcgi_record(5, b"")
    s.sendall(msg)
    return s


def fcgi_response(s, timeout=20):
    """Reads STDOUT records until END_REQUEST; returns the bytes."""
    s.settimeout(timeout)
    buf, out = b"", b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            return out
        buf += chunk
        while len(buf) >= 8:
            _, rtype, _, clen, plen = struct.unpack(">BBHHBx", buf[:8])
            if len(buf) < 8 + clen + plen:
                break
            content, buf = buf[8:8 + clen], buf[8 + clen + plen:]
            if rtype == 6:
                out += content
            elif rtype == 3:
                return out


def parse_cgi(raw):
    """(status, {lowercase header: value}, body) of a CGI response."""
    head, _, body = raw.partition(b"\r\n\r\n")
    headers = {}
    for line in head.decode("latin-1").split("\r\n"):
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return int(headers.get("status", "200").split()[0]), headers, body


def fcgi_params(st, path="/chat", clen=None, ctype="text/plain",
                token=None):
    """The CGI variables nginx would pass for a POST to /publish<path>."""
    p = {"REQUEST_METHOD": "POST", "SCRIPT_NAME": "/publish",
         "PATH_INFO": path, "QUERY_STRING": "", "REMOTE_ADDR": "127.0.0.9",
         "CONTENT_TYPE": ctype,
         "HTTP_AUTHORIZATION": "Bearer " + (token or st.token)}
    if clen is not None:
        p["CONTENT_LENGTH"] = str(clen)
    return p


def run_cgi(st, env, body=b"", timeout=20):
    """Runs sseq-publish as a plain CGI; returns (status, headers, body)."""
    full = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GATEWAY_INTERFACE": "CGI/1.1"}
    full.update(env)
    r = subprocess.run([harness.binary("sseq-publish"), "-c", st.conf_path],
                       input=body, env=full, capture_output=True,
                       timeout=timeout)
    return parse_cgi(r.stdout) + (r.stderr.decode("utf-8", "replace"),)
