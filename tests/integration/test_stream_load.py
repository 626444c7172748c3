#!/usr/bin/env python3
"""test_stream_load.py -- sseq-stream under load through nginx: 1,000
streams over 100 channels, a stalled client dropped without hurting the
others, 1,500 streams in one process. Functional checks, no timings."""
import harness
import stream_util


class StreamLoadTest(harness.TestCase):

    def test_fanout_1000_streams(self):
        nchan, per_chan, nstreams = 100, 200, 1000
        with harness.Stack(stream_procs=2, publish_procs=1) as st:
            paths = ["/events?channel=load%d" % (k % nchan)
                     for k in range(nstreams)]
            many = stream_util.Many(st.port, paths)
            try:
                self.assertTrue(many.run_until(many.all_open, 30),
                                "every stream must open")
                self.assertTrue(stream_util.wait_streams(st, nstreams, 10))
                items = [("load%d" % c, "c%d-m%d" % (c, m))
                         for m in range(per_chan) for c in range(nchan)]
                self.assertEqual(stream_util.publish_many(st, items),
                                 len(items))
                done = lambda: all(len(s.events) >= per_chan
                                   for s in many.streams)
                self.assertTrue(many.run_until(done, 60),
                                "every stream must get its messages")
                for k, s in enumerate(many.streams):
                    c = k % nchan
                    want = ["c%d-m%d" % (c, m) for m in range(per_chan)]
                    got = [e.data for e in s.events]
                    self.assertEqual(got, want, "stream %d" % k)
                    idl = [int(e.id) for e in s.events]
                    self.assertEqual(idl, sorted(idl))
            finally:
                many.close()

    def test_stalled_client_dropped(self):
        with harness.Stack(settings={"stream.client_buffer": "1M"},
                           stream_procs=1, publish_procs=1) as st:
            pid = st.stream_pids()[0]
            stalled = stream_util.Stream(st.port, "/events?channel=slow",
                                         rcvbuf=4096)
            good = stream_util.Many(st.port, ["/events?channel=slow"])
            try:
                self.assertTrue(stream_util.wait_streams(st, 2, 10))
                big = "y" * 60000
                n = 200
                s = good.streams[0]
                ok = True
                # The reading client is never more than a few messages
                # behind (so it stays under its 1M bound however slow this
                # machine is); the stalled one falls 12 MB behind.
                for k in range(n):
                    self.assertEqual(st.http("POST", "/publish/slow",
                                             body=big.encode(), headers={
                        "Authorization": "Bearer " + st.token,
                        "Content-Type": "text/plain"})[0], 202)
                    ok = ok and good.run_until(
                        lambda: len(s.events) >= k - 4, 30)
                ok = ok and good.run_until(lambda: len(s.events) >= n, 30)
                self.assertTrue(ok, "the reading client must lose nothing "
                                "(got %d)" % len(s.events))
                self.assertEqual(len(s.events), n)
                self.assertTrue(all(e.data == big for e in s.events))
                self.assertTrue(stream_util.wait_streams(st, 1, 10),
                                "the stalled stream must be dropped")
                procs = [p for p in st.stats()["processes"]
                         if p["pid"] == pid]
                self.assertGreaterEqual(procs[0]["dropped_slow"], 1)
                self.assertLess(stream_util.rss_kib(pid), 128 * 1024,
                                "RSS must stay bounded")
            finally:
                stalled.sock.close()
                good.close()

    def test_1500_streams_one_process(self):
        n = 1500
        with harness.Stack(stream_procs=1, publish_procs=0) as st:
            pid = st.stream_pids()[0]
            rss0 = stream_util.rss_kib(pid)
            many = stream_util.Many(st.port, ["/events?channel=big%d" % (k % 10)
                                              for k in range(n)])
            try:
                self.assertTrue(many.run_until(many.all_open, 60))
                self.assertTrue(stream_util.wait_streams(st, n, 20))
                rss1 = stream_util.rss_kib(pid)
                print("\n1500 streams: RSS %d KiB -> %d KiB (%.2f KiB per "
                      "stream)" % (rss0, rss1, (rss1 - rss0) / n))
                ids = [st.publish_cli("big%d" % c, "hello %d" % c)
                       for c in range(10)]
                self.assertTrue(many.run_until(
                    lambda: all(len(s.events) >= 1 for s in many.streams),
                    30))
                for k, s in enumerate(many.streams):
                    self.assertEqual([e.data for e in s.events],
                                     ["hello %d" % (k % 10)])
                    self.assertEqual(int(s.events[0].id), ids[k % 10])
            finally:
                many.close()
            self.assertTrue(stream_util.wait_streams(st, 0, 20))


if __name__ == "__main__":
    harness.main()
