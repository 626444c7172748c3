#!/usr/bin/env python3
"""test_stream_tag.py -- /events?tag=channel through real nginx +
spawn-fcgi: each event names its channels in "channel:" lines (the
record's channel, then its alternates), byte for byte, live, on resume
(last_event_id=, backlog=) and as a plain CGI; the answer's
Last-Event-ID says where the stream starts; a stream without tag= on
the same process keeps its exact old bytes; tag= with another value is
a 400."""

import harness
import stream_util


def body_until(c, want, timeout=5):
    """Reads c until its body holds want; returns the body."""
    while want not in c.body() and c.pump(timeout):
        pass
    return c.body()


class StreamTagTest(harness.TestCase):

    def test_live_bytes(self):
        # One process: both flavors of each record come from one pass.
        with harness.Stack(stream_procs=1, publish_procs=0) as st:
            tagged = st.sse("/events?channel=a,b&tag=channel")
            plain = st.sse("/events?channel=a,b")
            self.assertEqual(tagged.status, 200)
            start = tagged.headers["last-event-id"]
            self.assertNotIn("last-event-id", plain.headers)
            i = st.publish_cli("a", "one\ntwo", event="msg")
            j = st.publish_cli("b", "three")
            k = st.publish_cli("c", "never")
            alt = int(st.sseq_ok("publish", "--topic", "b", "--topic",
                                 "urn:x:1", "d", "four").stdout)
            want = ("retry: 1000\n\n"
                    "id: %d\nevent: msg\nchannel: a\ndata: one\n"
                    "data: two\n\n"
                    "id: %d\nchannel: b\ndata: three\n\n"
                    "id: %d\nchannel: d\nchannel: b\nchannel: urn:x:1\n"
                    "data: four\n\n" % (i, j, alt))
            self.assertEqual(body_until(tagged, "data: four\n\n"), want)
            self.assertEqual(body_until(plain, "data: four\n\n"),
                             "retry: 1000\n\n"
                             "id: %d\nevent: msg\ndata: one\ndata: two\n\n"
                             "id: %d\ndata: three\n\n"
                             "id: %d\ndata: four\n\n" % (i, j, alt),
                             "without tag= the bytes stay as they were")
            self.assertNotIn("id: %d\n" % k, tagged.body())
            again = st.sse("/events?channel=a,b&tag=channel&"
                           "last_event_id=" + start)
            self.assertEqual(body_until(again, "data: four\n\n"), want,
                             "Last-Event-ID says where the stream started")
            again.close()
            tagged.close()
            plain.close()

    def test_resume_and_backlog(self):
        with harness.Stack(stream_procs=2, publish_procs=0) as st:
            first = st.publish_cli("r", "m0")
            sent = [st.publish_cli(ch, "m%d" % n)
                    for n, ch in enumerate(("s", "r", "x"), 1)]
            want = ("id: %d\nchannel: s\ndata: m1\n\n"
                    "id: %d\nchannel: r\ndata: m2\n\n" % tuple(sent[:2]))
            c = st.sse("/events?channel=r,s&tag=channel&last_event_id=%d"
                       % first)
            self.assertEqual(c.headers["last-event-id"], str(first))
            self.assertEqual(body_until(c, "data: m2\n\n"),
                             "retry: 1000\n\n" + want)
            c.close()
            c = st.sse("/events?channel=r&channel=s&backlog=2&tag=channel")
            self.assertEqual(c.headers["last-event-id"], str(sent[0] - 1),
                             "the id before the backlog")
            self.assertEqual(body_until(c, "data: m2\n\n"),
                             "retry: 1000\n\n" + want)
            live = st.publish_cli("s", "m4")
            self.assertIn("id: %d\nchannel: s\ndata: m4\n\n" % live,
                          body_until(c, "data: m4\n\n"),
                          "live after the replay, tagged too")
            c.close()

    def test_bad_tag(self):
        with harness.Stack(stream_procs=1, publish_procs=0) as st:
            for q in ("tag=topic", "tag=", "tag=Channel"):
                status, _, body = st.http("GET", "/events?channel=a&" + q)
                self.assertEqual(status, 400, q)
                self.assertIn(b"tag=channel", body, q)

    def test_cgi(self):
        with harness.Stack(stream_procs=0, publish_procs=0) as st:
            with stream_util.CgiStream(st, "channel=cgi&tag=channel") as cgi:
                cgi.until(b"retry:")
                i = st.publish_cli("cgi", "hello")
                cgi.until(b"id: %d\nchannel: cgi\ndata: hello\n\n" % i)
                self.assertEqual(cgi.stop(), 0)


if __name__ == "__main__":
    harness.main()
