"""test_damaged_queue.py -- a queue damaged under running programs (8
zero bytes over its oldest id, as a stray write would leave it): open
streams end cleanly, new streams and publishes get 503 with a reason that
does not name the queue, the log says once what is wrong and how to fix
it, and nothing hangs, spins or crashes."""
import os
import time
import unittest

import harness

OLDEST_ID_OFFSET = 216      # queue.c's header: line 3, fourth u64


class DamagedQueueTest(harness.TestCase):

    def test_damage_under_running_programs(self):
        with harness.Stack(stream_procs=1, publish_procs=1) as st:
            c = st.sse("/events?channel=d")
            i = st.publish_cli("d", "before")
            self.assertEqual([e.id for e in c.events(1)], [str(i)])
            with open("/dev/shm" + st.queue, "r+b") as f:
                f.seek(OLDEST_ID_OFFSET)
                f.write(b"\0" * 8)
            t0 = time.monotonic()
            self.assertTrue(c.closed(5), "the open stream must end")
            self.assertTrue(c.clean_end, "cleanly, with the last chunk")
            print("stream ended %.2f s after the damage" %
                  (time.monotonic() - t0))
            for _ in range(3):
                status, _, body = st.http("GET", "/events?channel=d")
                self.assertEqual(status, 503, body)
                self.assertIn(b"queue damaged", body)
                status, _, body = st.http(
                    "POST", "/publish/d", body=b"x",
                    headers={"Authorization": "Bearer " + st.token,
                             "Content-Type": "text/plain"})
                self.assertEqual(status, 503, body)
                self.assertIn(b"queue damaged", body)
                self.assertNotIn(st.queue.encode(), body)
            for role in ("stream", "publish"):
                log = st.log(role + ".log")
                self.assertEqual(log.count("is damaged"), 1,
                                 role + " logs the damage once: " + log)
                self.assertIn("sseq create --force", log)
            self.assertTrue(all(len(st.pids(r)) == 1
                                for r in ("stream", "publish")),
                            "no worker crashed")


if __name__ == "__main__":
    harness.main()
