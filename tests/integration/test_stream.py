#!/usr/bin/env python3
"""test_stream.py -- sseq-stream through real nginx + spawn-fcgi -F 2:
framing, channels, resume (header, query, across a restart), backlog, the
gap event, disconnects, SIGTERM, heartbeats, error statuses, CGI mode."""
import os
import re
import shutil
import tempfile
import threading
import time

import harness
import stream_util


def ids(events):
    return [int(e.id) for e in events]


class StreamTest(harness.TestCase):

    def test_framing(self):
        with harness.Stack(stream_procs=2, publish_procs=0) as st:
            c = st.sse("/events?channel=chat")
            self.assertEqual(c.status, 200)
            self.assertEqual(c.headers["content-type"],
                             "text/event-stream; charset=utf-8")
            self.assertEqual(c.headers["cache-control"], "no-cache")
            i = st.publish_cli("chat", "line one\nline two", event="msg")
            ev = c.events(1, timeout=10)
            self.assertEqual(ev, [harness.Event(str(i), "msg",
                                                "line one\nline two")])
            self.assertTrue(c.body().startswith("retry: 1000\n\n"),
                            "the body must start with retry:")
            self.assertIn("id: %d\nevent: msg\ndata: line one\n"
                          "data: line two\n\n" % i, c.body())
            c.close()

    def test_channels(self):
        with harness.Stack(stream_procs=2, publish_procs=0) as st:
            ab = st.sse("/events?channel=a&channel=b")
            ab2 = st.sse("/events?channel=a,b")
            sent = []
            for ch in ("c", "a", "c", "b", "a"):
                sent.append((ch, st.publish_cli(ch, "to " + ch)))
            want = [(str(i), "to " + ch) for ch, i in sent if ch != "c"]
            for c in (ab, ab2):
                got = [(e.id, e.data) for e in c.events(3, timeout=10)]
                self.assertEqual(got, want)
            self.assertNothingPending(st, [ab, ab2], "a",
                                      "channel c must never arrive")
            ab.close()
            ab2.close()

    def check_resume(self, st, make_path, restart=False):
        c = st.sse(make_path(None))
        first = st.publish_cli("r", "before")
        self.assertEqual(ids(c.events(1)), [first])
        c.close()
        if restart:
            status = st.restart_stream()
            self.assertTrue(all(v == 0 for v in status.values()), status)
        sent = [st.publish_cli("r", "m%d" % k) for k in range(5)]
        st.publish_cli("other", "x")
        c = st.sse(make_path(first)[0], headers=make_path(first)[1]) \
            if isinstance(make_path(first), tuple) else st.sse(
                make_path(first))
        got = c.events(5)
        self.assertEqual(ids(got), sent)
        self.assertEqual([e.data for e in got],
                         ["m%d" % k for k in range(5)])
        self.assertNothingPending(st, c, "r", "no duplicates")
        live = st.publish_cli("r", "live")
        self.assertEqual(ids(c.events(1)), [live])
        c.close()

    def test_resume_header(self):
        with harness.Stack(stream_procs=2, publish_procs=0) as st:
            self.check_resume(st, lambda i: "/events?channel=r" if i is None
                              else ("/events?channel=r",
                                    {"Last-Event-ID": str(i)}))

    def test_resume_query(self):
        with harness.Stack(stream_procs=2, publish_procs=0) as st:
            self.check_resume(st, lambda i: "/events?channel=r" if i is None
                              else "/events?channel=r&last_event_id=%d" % i)

    def test_resume_across_restart(self):
        with harness.Stack(stream_procs=2, publish_procs=0) as st:
            self.check_resume(st, lambda i: "/events?channel=r" if i is None
                              else ("/events?channel=r",
                                    {"Last-Event-ID": str(i)}),
                              restart=True)

    def test_resume_seam_under_publishing(self):
        """Connecting while messages arrive: no gap, no duplicate."""
        with harness.Stack(stream_procs=2, publish_procs=0) as st:
            first = st.publish_cli("s", "0")
            stop = threading.Event()
            sent = []

            def pub():
                k = 1
                while not stop.is_set() and k < 60:
                    sent.append(st.publish_cli("s", str(k)))
                    k += 1

            t = threading.Thread(target=pub)
            t.start()
            clients = []
            for _ in range(6):
                time.sleep(0.05)
                clients.append(st.sse("/events?channel=s",
                                      headers={"Last-Event-ID": str(first)}))
            t.join()
            for c in clients:
                got = ids(c.events(len(sent), timeout=10))
                self.assertEqual(got, sent)
                c.close()

    def test_backlog(self):
        with harness.Stack(settings={"stream.backlog_max": 3},
                           stream_procs=2, publish_procs=0) as st:
            sent = [st.publish_cli("h", "m%d" % k) for k in range(5)]
            st.publish_cli("other", "x")
            c = st.sse("/events?channel=h&backlog=2")
            self.assertEqual(ids(c.events(2)), sent[3:])
            marker = self.assertNothingPending(st, c, "h", "only the last 2")
            c.close()
            c = st.sse("/events?channel=h&backlog=100")
            self.assertEqual(ids(c.events(3, timeout=10)), sent[3:] +
                             [marker])
            self.assertNothingPending(st, c, "h",
                                      "backlog is capped by backlog_max")
            c.close()

    def test_gap(self):
        with harness.Stack(stream_procs=1, publish_procs=1,
                           queue_size="256K") as st:
            first = st.publish_cli("g", "first")
            big = "x" * 20000
            n = stream_util.publish_many(st, [("g", big)] * 40, threads=1)
            self.assertEqual(n, 40)
            stats = st.stats()
            oldest = stats["oldest_id"]
            self.assertGreater(oldest, first + 1, "the ring must wrap")
            c = st.sse("/events?channel=g",
                       headers={"Last-Event-ID": str(first)})
            got = c.events(1 + stats["newest_id"] - oldest + 1, timeout=10)
            self.assertEqual(got[0].event, "sseq-gap")
            self.assertEqual(got[0].data, '{"requested":"%d","oldest":"%d"}'
                             % (first, oldest))
            self.assertEqual(ids(got[1:]),
                             list(range(oldest, stats["newest_id"] + 1)))
            c.close()

    def test_disconnect_noticed(self):
        with harness.Stack(stream_procs=2, publish_procs=0) as st:
            cs = [st.sse("/events?channel=d") for _ in range(4)]
            self.assertTrue(stream_util.wait_streams(st, 4))
            for c in cs[:3]:
                c.close()
            self.assertTrue(stream_util.wait_streams(st, 1, timeout=5),
                            "closed streams must leave the count")
            cs[3].close()
            self.assertTrue(stream_util.wait_streams(st, 0, timeout=5))

    def test_sigterm(self):
        with harness.Stack(stream_procs=2, publish_procs=0) as st:
            cs = [st.sse("/events?channel=t") for _ in range(6)]
            i = st.publish_cli("t", "x")
            for c in cs:
                self.assertEqual(ids(c.events(1)), [i])
            pids = st.master_pids("stream")
            status = st.stop_role("stream")
            self.assertEqual(sorted(status), sorted(pids))
            self.assertTrue(all(v == 0 for v in status.values()), status)
            for c in cs:
                self.assertTrue(c.closed(10), "response must end")
                self.assertTrue(c.clean_end, "with the last chunk")
                c.close()

    def test_heartbeat(self):
        with harness.Stack(settings={"stream.heartbeat": 1},
                           stream_procs=1, publish_procs=0) as st:
            c = st.sse("/events?channel=hb")
            self.assertTrue(c.wait(lambda: c.comments, timeout=10),
                            "an idle stream gets ':' lines")
            c.close()

    def test_errors(self):
        with harness.Stack(settings={"stream.max_subscribers": 1},
                           stream_procs=1, publish_procs=0) as st:
            # Each reason names the bad part and what is allowed.
            for path, parts in (
                    ("/events", ("no channel", "?channel=NAME")),
                    ("/events?channel=bad%20name",
                     ('"bad name"', "must match ^[A-Za-z0-9_.:-]")),
                    ("/events?channel=a&last_event_id=x",
                     ('last_event_id "x"', "digits")),
                    ("/events?channel=a&backlog=x",
                     ('backlog "x"', "at most"))):
                status, hdr, body = st.http("GET", path)
                self.assertEqual(status, 400, path)
                self.assertTrue(hdr["content-type"].startswith("text/plain"))
                self.assertEqual(body.count(b"\n"), 1, body)
                for part in parts:
                    self.assertIn(part.encode(), body, path)
            status, hdr, body = st.http("GET", "/events?channel=a",
                                        headers={"Last-Event-ID": "zz"})
            self.assertEqual(status, 400)
            self.assertIn(b'Last-Event-ID header "zz"', body)
            status, hdr, _ = st.http("POST", "/events?channel=a", body=b"")
            self.assertEqual(status, 405)
            self.assertEqual(hdr["allow"], "GET, HEAD")
            status, hdr, body = st.http("HEAD", "/events?channel=a")
            self.assertEqual(status, 200)
            self.assertEqual(hdr["content-type"],
                             "text/event-stream; charset=utf-8")
            c = st.sse("/events?channel=a")
            self.assertEqual(c.status, 200)
            status, hdr, body = st.http("GET", "/events?channel=a")
            self.assertEqual(status, 503)
            self.assertIn("retry-after", hdr)
            c.close()

    def test_limit_conn_per_client(self):
        """The shipped snippets' commented limit_conn lines, uncommented:
        a client's 21st stream is refused by nginx (503), and a slot
        frees when one of its streams ends."""
        snippets = tempfile.mkdtemp(prefix="sseq-snip-")
        try:
            for name in ("sseq.conf", "sseq-upstream.conf"):
                with open(os.path.join(harness.SRCDIR, "fcgi-conf", "nginx",
                                       name)) as f:
                    text = f.read()
                text, n = re.subn(r"^(\s*)#(limit_conn)", r"\1\2", text,
                                  flags=re.M)
                self.assertGreater(n, 0, name + " has a limit_conn line")
                with open(os.path.join(snippets, name), "w") as f:
                    f.write(text)
            with harness.Stack(stream_procs=1, publish_procs=0,
                               nginx_settings={"SSEQ_STACK_NGINX_SNIPPETS":
                                               snippets}) as st:
                cs = [st.sse("/events?channel=lim") for _ in range(20)]
                self.assertEqual({c.status for c in cs}, {200})
                status, _, _ = st.http("GET", "/events?channel=lim")
                self.assertEqual(status, 503, "the 21st stream")
                cs.pop().close()
                c = stream_util.open_when_ready(st, "/events?channel=lim")
                self.assertEqual(c.status, 200, "a freed slot is taken")
                for c in cs + [c]:
                    c.close()
        finally:
            shutil.rmtree(snippets, ignore_errors=True)

    def test_queue_missing(self):
        with harness.Stack(stream_procs=1, publish_procs=0,
                           create_queue=False) as st:
            status, hdr, body = st.http("GET", "/events?channel=a")
            self.assertEqual(status, 503)
            self.assertIn("retry-after", hdr)
            st.sseq_ok("create", "--force")
            c = stream_util.open_when_ready(st, "/events?channel=a")
            self.assertEqual(c.status, 200, "the queue is opened later")
            i = st.publish_cli("a", "late")
            self.assertEqual(ids(c.events(1)), [i])
            c.close()

    def test_spawn_creates_missing_queue(self):
        """As root, the shipped sseq-spawn creates a missing queue before
        the programs start (a /dev/shm queue is gone after every reboot,
        and a local user must not get to make it first): no 503."""
        with harness.Stack(stream_procs=1, publish_procs=1,
                           create_queue="spawn") as st:
            c = st.sse("/events?channel=a")
            self.assertEqual(c.status, 200, "the queue was there at start")
            mode = os.stat("/dev/shm" + st.queue).st_mode
            self.assertEqual(mode & 0o022, 0, "not writable by others")
            i = st.publish_cli("a", "first")
            self.assertEqual(ids(c.events(1)), [i])
            c.close()
            r = st.spawn("restart", "stream")
            self.assertEqual(r.returncode, 0, r.stderr)
            again = stream_util.open_when_ready(
                st, "/events?channel=a&last_event_id=%d" % (i - 1))
            self.assertEqual(ids(again.events(1)), [i],
                             "a restart keeps the queue it found")
            again.close()

    def test_streams_spread_over_workers(self):
        """Browsers that arrive one at a time are shared by the workers:
        one worker must not hold every stream (and alone meet
        max_subscribers) while the other idles."""
        with harness.Stack(stream_procs=2, publish_procs=0) as st:
            cs = [st.sse("/events?channel=c%d" % k) for k in range(20)]
            self.assertTrue(all(c.status == 200 for c in cs))
            st.wait_for(lambda: sum(p["streams"] for p in st.stats()[
                "processes"] if p["role"] == "stream") == 20,
                "20 streams counted")
            per = sorted(p["streams"] for p in st.stats()["processes"]
                         if p["role"] == "stream")
            self.assertEqual(len(per), 2)
            self.assertGreaterEqual(per[0], 5, "streams per worker: %s" %
                                    per)
            for c in cs:
                c.close()

    def test_queue_replaced(self):
        """`sseq create --force --while-running` under running programs:
        their masters notice the new file and restart the workers onto it,
        so what `sseq publish` and HTTP publishes append reaches browsers."""
        with harness.Stack(stream_procs=1, publish_procs=1) as st:
            c = st.sse("/events?channel=a")
            before = st.publish_cli("a", "old")
            self.assertEqual(ids(c.events(1)), [before])
            masters = st.master_pids("stream") + st.master_pids("publish")
            old = set(st.stream_pids() + st.publish_pids())
            r = st.sseq("create", "--force")
            self.assertEqual(r.returncode, 1, "refused while in use")
            self.assertIn("--while-running", r.stderr)
            st.sseq_ok("create", "--force", "--while-running")
            st.wait_for(lambda: len(st.stream_pids()) == 1 and
                        len(st.publish_pids()) == 1 and
                        not old & set(st.stream_pids() + st.publish_pids()),
                        "workers restarted onto the new queue", timeout=15)
            self.assertEqual(st.master_pids("stream") +
                             st.master_pids("publish"), masters)
            self.assertTrue(c.closed(timeout=10), "the old stream ends")
            for role in ("stream", "publish"):
                self.assertIn("was replaced", st.log(role + ".log"))
            n = st.sse("/events?channel=a")
            back = st.sse("/events?channel=a",
                          headers={"Last-Event-ID": str(before)})
            i = st.publish_cli("a", "cli into the new queue")
            status, _, body = st.http(
                "POST", "/publish/a", body=b"http into the new queue",
                headers={"Authorization": "Bearer " + st.token,
                         "Content-Type": "text/plain"})
            self.assertEqual(status, 202, body)
            got = n.events(2)
            self.assertEqual([e.data for e in got],
                             ["cli into the new queue",
                              "http into the new queue"])
            self.assertEqual(int(got[0].id), i)
            self.assertEqual(st.stats()["appends"], 2,
                             "both messages are in the new queue")
            got = back.events(3)
            self.assertEqual([e.event for e in got],
                             ["sseq-gap", "message", "message"],
                             "a browser resuming from the old queue is "
                             "told what it cannot get")
            n.close()
            back.close()

    def test_cgi(self):
        with harness.Stack(stream_procs=0, publish_procs=0) as st:
            with stream_util.CgiStream(st, "channel=cgi") as cgi:
                head = cgi.until(b"retry:")
                self.assertTrue(head.startswith(b"Status: 200"))
                self.assertIn(b"Content-Type: text/event-stream", head)
                i = st.publish_cli("cgi", "hello")
                st.publish_cli("other", "no")
                body = cgi.until(b"id: %d\ndata: hello\n\n" % i)
                self.assertNotIn(b"data: no", body)
                self.assertEqual(cgi.stop(), 0)


if __name__ == "__main__":
    harness.main()
