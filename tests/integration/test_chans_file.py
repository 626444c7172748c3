#!/usr/bin/env python3
"""test_chans_file.py -- a stream worker's `<queue>.chans-N` file (its
top channels, for sseq_channel_streams) is removed only by the process
that made it: after `sseq create --force --while-running` the new
worker of the new queue may hold the same slot number, hence the same
file name, and the old worker's exit must leave the new one's file (it
used to delete it, and the channel metric then lost that worker)."""
import glob
import re

import harness


class ChansFile(harness.TestCase):
    def test_old_worker_leaves_new_file(self):
        with harness.Stack(stream_procs=1, publish_procs=0) as st:
            files = "/dev/shm%s.chans-*" % st.queue
            st.wait_for(lambda: glob.glob(files), "the worker's chans file",
                        timeout=60)
            old = set(st.stream_pids())
            st.sseq_ok("create", "--force", "--while-running")
            st.wait_for(lambda: len(st.stream_pids()) == 1 and
                        not old & set(st.stream_pids()) and
                        not any(harness.pid_alive(p) for p in old),
                        "the old worker gone, a new one on the new queue",
                        timeout=60)
            c = st.sse("/events?channel=after")
            line = 'sseq_channel_streams{channel="after"} 1'
            seen = []

            def listed():
                seen[:] = [st.sseq("stats", "--prometheus").stdout]
                return re.search("^" + re.escape(line) + "$", seen[0], re.M)
            try:
                self.assertTrue(
                    st.wait_for(listed, "the channel metric", timeout=60,
                                fail=False),
                    "the new worker's stream is not counted (its chans file"
                    " %s is gone?): %s" % (glob.glob(files), seen[0][-1500:]))
            finally:
                c.close()


if __name__ == "__main__":
    harness.main()
