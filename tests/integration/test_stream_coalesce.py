#!/usr/bin/env python3
"""test_stream_coalesce.py -- sseq-stream's adaptive coalescing through
nginx: a fast burst to 200 streams arrives exactly once and in order (one
channel, and two channels on streams that take both), with the default
window, a long one and none; a lone message on an idle stream still
arrives. Functional checks, no timings."""
import threading

import harness
import stream_util


class StreamCoalesceTest(harness.TestCase):

    def burst(self, settings, nmsg=2000, nstreams=200):
        """Publishes nmsg messages back to back on channels co0 and co1
        to nstreams streams: even ones take co0, odd ones both."""
        with harness.Stack(settings=settings, stream_procs=2,
                           publish_procs=1) as st:
            paths = ["/events?channel=co0" if k % 2 == 0 else
                     "/events?channel=co0,co1" for k in range(nstreams)]
            many = stream_util.Many(st.port, paths)
            try:
                self.assertTrue(many.run_until(many.all_open, 30),
                                "every stream must open")
                self.assertTrue(stream_util.wait_streams(st, nstreams, 10))
                items = [("co%d" % (m % 2), "m%d" % m) for m in range(nmsg)]
                res = []
                pub = threading.Thread(target=lambda: res.append(
                    stream_util.publish_many(st, items, threads=1)))
                pub.start()
                # publish_many sends co0's messages, then co1's
                want = {0: ["m%d" % m for m in range(0, nmsg, 2)]}
                want[1] = want[0] + ["m%d" % m for m in range(1, nmsg, 2)]
                done = lambda: all(len(s.events) >= len(want[k % 2])
                                   for k, s in enumerate(many.streams))
                ok = many.run_until(done, 120, stall=30)
                pub.join()
                self.assertEqual(res, [nmsg])
                short = [(k, len(s.events), s.eof)
                         for k, s in enumerate(many.streams)
                         if len(s.events) < len(want[k % 2])]
                self.assertTrue(ok, "every stream must get the burst; short "
                                "(stream, events, closed): %s" % short[:5])
                # A lone message after the burst reaches every stream
                # (the even ones take co0 only: idle since co0's last),
                # and nothing came between: no extra event.
                lone = st.publish_cli("co0", "lone")
                self.assertTrue(many.run_until(
                    lambda: all(s.events[-1].data == "lone"
                                for s in many.streams), 10),
                    "a lone message must arrive")
                for k, s in enumerate(many.streams):
                    self.assertEqual([e.data for e in s.events],
                                     want[k % 2] + ["lone"], "stream %d" % k)
                    idl = [int(e.id) for e in s.events]
                    self.assertEqual(idl, sorted(set(idl)),
                                     "stream %d: ids ascending" % k)
                self.assertEqual(int(many.streams[0].events[-1].id), lone)
            finally:
                many.close()

    def test_burst_default_window(self):
        self.burst({})

    def test_burst_long_window(self):
        self.burst({"stream.coalesce_us": 50000})

    def test_burst_no_window(self):
        self.burst({"stream.coalesce_us": 0}, nmsg=500)

    def test_lone_message_idle(self):
        with harness.Stack(stream_procs=1, publish_procs=0) as st:
            c = st.sse("/events?channel=idle")
            for k in range(3):
                i = st.publish_cli("idle", "one %d" % k)
                ev = c.events(1, timeout=10)
                self.assertEqual(ev, [harness.Event(str(i), "message",
                                                    "one %d" % k)])
            c.close()


if __name__ == "__main__":
    harness.main()
