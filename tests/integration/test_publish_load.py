#!/usr/bin/env python3
"""test_publish_load.py -- 8 concurrent publishers x 2,000 POSTs through
nginx to 2 sseq-publish processes: 16,000 202s with 16,000 distinct ids,
and a subscriber sees every message exactly once, in id order. No timing
assertions (the machine is shared)."""
import http.client
import json
import threading

import harness
from publish_util import Subscriber, stack

PUBLISHERS = 8
EACH = 2000


def publisher(st, n, ids, errors):
    """POSTs EACH messages over one keep-alive connection."""
    conn = http.client.HTTPConnection("127.0.0.1", st.port, timeout=30)
    headers = {"Content-Type": "text/plain",
               "Authorization": "Bearer " + st.token}
    try:
        for i in range(EACH):
            conn.request("POST", "/publish/load", body="%d-%d" % (n, i),
                         headers=headers)
            r = conn.getresponse()
            body = r.read()
            if r.status != 202:
                errors.append((r.status, body))
                continue
            ids.append((int(json.loads(body)["id"]), "%d-%d" % (n, i)))
    except Exception as e:          # reported by the main thread
        errors.append(repr(e))
    finally:
        conn.close()


class Load(harness.TestCase):
    def test_concurrent_publishers(self):
        total = PUBLISHERS * EACH
        with stack(publish_procs=2, nginx_workers=2,
                   settings={"stream.backlog_max": total}) as st:
            sub = Subscriber(st, "load")
            ids, errors = [], []
            threads = [threading.Thread(target=publisher,
                                        args=(st, n, ids, errors))
                       for n in range(PUBLISHERS)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            self.assertEqual(errors, [])
            self.assertEqual(len(ids), total)
            self.assertEqual(len({i for i, _ in ids}), total,
                             "16,000 distinct ids")
            events = sub.events(total, timeout=120)
            sub.close()
            self.assertEqual(len(events), total)
            got = [int(e.id) for e in events]
            self.assertEqual(got, sorted(got), "delivered in id order")
            self.assertEqual(len(set(got)), total, "each exactly once")
            self.assertEqual(sorted(ids), sorted(zip(got, (e.data for e in
                                                           events))))


if __name__ == "__main__":
    harness.main()
