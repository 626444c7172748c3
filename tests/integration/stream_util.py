"""stream_util.py -- helpers for the sseq-stream integration tests: bulk
publishing through nginx (keep-alive, a few threads), many SSE streams in
one selectors loop, process RSS and per-process stream counts, and
sseq-stream run as a plain CGI."""
import http.client
import os
import resource
import selectors
import signal
import socket
import subprocess
import threading
import time

import harness


class CgiStream:
    """sseq-stream run as a plain CGI (GATEWAY_INTERFACE set) for a GET
    of QUERY_STRING query, in a with block: until() gathers its stdout,
    stop() sends SIGTERM and returns the exit code; leaving the block
    kills it if it still runs."""

    def __init__(self, st, query):
        env = dict(os.environ, GATEWAY_INTERFACE="CGI/1.1",
                   REQUEST_METHOD="GET", QUERY_STRING=query,
                   SSEQ_CONF=st.conf_path)
        self.p = subprocess.Popen([harness.binary("sseq-stream")],
                                  stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, env=env)
        self.out = b""

    def __enter__(self):
        return self

    def until(self, want):
        """Reads stdout until want is in it; returns all read so far.
        Fails if stdout ends first."""
        while want not in self.out:
            chunk = os.read(self.p.stdout.fileno(), 4096)
            if not chunk:
                raise AssertionError("stdout ended before %r: %r" % (
                    want, self.out))
            self.out += chunk
        return self.out

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        return self.p.wait(5)

    def __exit__(self, *exc):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()
        self.p.stdout.close()
        return False


def raise_nofile():
    """Raises this process's descriptor limit to its hard limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def publish_many(st, items, threads=4):
    """POSTs every (channel, data) of items through nginx, each thread on
    one keep-alive connection, keeping per-channel order. Returns the
    number of 202 answers."""
    by_chan = {}
    for ch, data in items:
        by_chan.setdefault(ch, []).append(data)
    chans = sorted(by_chan)
    ok = [0] * threads

    def run(k):
        conn = http.client.HTTPConnection("127.0.0.1", st.port, timeout=30)
        hdr = {"Content-Type": "text/plain",
               "Authorization": "Bearer " + st.token}
        for ch in chans[k::threads]:
            for data in by_chan[ch]:
                conn.request("POST", "/publish/" + ch, body=data.encode(),
                             headers=hdr)
                r = conn.getresponse()
                r.read()
                if r.status == 202:
                    ok[k] += 1
        conn.close()

    ts = [threading.Thread(target=run, args=(k,)) for k in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return sum(ok)


class Stream:
    """One raw SSE connection driven by Many's selector loop."""

    def __init__(self, port, path, rcvbuf=None):
        self.sock = socket.socket()
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.connect(("127.0.0.1", port))
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                           "Accept: text/event-stream\r\n\r\n" % path)
                          .encode())
        self.sock.setblocking(False)
        self.head = b""
        self.status = None
        self.decoder = harness.ChunkedDecoder()
        self.parser = harness.SSEParser()
        self.events = []
        self.eof = False

    def readable(self):
        try:
            data = self.sock.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.eof = True
            return
        if self.status is None:
            self.head += data
            if b"\r\n\r\n" not in self.head:
                return
            head, _, data = self.head.partition(b"\r\n\r\n")
            self.status = int(head.split()[1])
        payload = self.decoder.feed(data)
        if self.decoder.done:
            self.eof = True
        self.events.extend(self.parser.feed(payload))


class Many:
    """Many SSE streams read in one selectors loop."""

    def __init__(self, port, paths):
        raise_nofile()
        self.sel = selectors.DefaultSelector()
        self.streams = []
        for p in paths:
            s = Stream(port, p)
            self.sel.register(s.sock, selectors.EVENT_READ, s)
            self.streams.append(s)

    def run_until(self, cond, timeout, stall=None):
        """Reads until cond() or timeout; returns cond(). With stall, the
        wait goes on past timeout while bytes keep coming (it ends once
        none came for stall seconds, or at 10 x timeout): a slow machine
        is waited for, a stream that stopped is not."""
        start = last = time.monotonic()
        while not cond():
            now = time.monotonic()
            if now >= start + timeout and (
                    stall is None or now >= last + stall or
                    now >= start + 10 * timeout):
                break
            for key, _ in self.sel.select(0.2):
                last = time.monotonic()
                key.data.readable()
                if key.data.eof:
                    self.sel.unregister(key.fileobj)
        return cond()

    def all_open(self):
        return all(s.status == 200 for s in self.streams)

    def close(self):
        for s in self.streams:
            try:
                s.sock.close()
            except OSError:
                pass
        self.sel.close()


def rss_kib(pid):
    """VmRSS of pid in KiB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def streams_by_pid(st):
    """{pid: open streams} of the live sseq-stream processes."""
    return {p["pid"]: p["streams"] for p in st.stats()["processes"]
            if p["role"] == "stream"}


def total_streams(st):
    return sum(streams_by_pid(st).values())


def wait_streams(st, want, timeout=10):
    """Polls sseq stats until the open stream count is want."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if total_streams(st) == want:
            return True
        time.sleep(0.05)
    return total_streams(st) == want


def open_when_ready(st, path, timeout=10):
    """Opens the stream of path again while it is refused (503, e.g. the
    queue is not there yet) until it opens or timeout seconds pass;
    returns the last client (its status says which)."""
    deadline = time.monotonic() + timeout
    while True:
        c = st.sse(path)
        if c.status != 503 or time.monotonic() > deadline:
            return c
        c.close()
        time.sleep(0.05)
