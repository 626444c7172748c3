#!/usr/bin/env python3
"""test_mercure_subscriptions.py -- Mercure active subscriptions through
real nginx and two sseq-stream processes (mercure.subscriptions on):
subscription updates (v0.x and 1.0 documents, the token's payload,
active true then false) reach a subscriber whose token allows the
subscriptions topics and never an anonymous one; the subscription API
lists the streams of both processes, by collection, topic, matcher and
subscriber, with a lastEventID from which the updates carry on; its
authorization (401, 403, a collection showing what the token may see);
the setting off (404, no updates); Mercure 1.0: the metadata's
mercure_subscriptions, access tokens' authorization_details on the API
and the events. Tokens are minted by python3-jwt (hub_util.mint)."""
import json
import time
import urllib.parse

import harness
import hub_util

HUB = hub_util.HUB
SUBS = HUB + "/subscriptions"
V0_TEMPLATE = SUBS + "/{topic}/{subscriber}"
V1_TEMPLATE = SUBS + "/exact/{match}/{subscriber}"
V1_ISS = "https://localhost"
V1_AUD = "https://localhost/.well-known/mercure"
V1_META = "/.well-known/oauth-protected-resource/.well-known/mercure"
V1_DETAIL = "https://mercure.rocks/authorization-detail"


def token(subscribe, payload=None):
    """A subscriber token (python3-jwt) for subscribe, with payload."""
    m = {"subscribe": list(subscribe)}
    if payload is not None:
        m["payload"] = payload
    return hub_util.mint({"mercure": m, "exp": int(time.time()) + 3600})


def bearer(tok):
    return {"Authorization": "Bearer " + tok}


def hub_path(*pairs):
    return HUB + "?" + urllib.parse.urlencode(pairs)


def enc(s):
    return urllib.parse.quote(s, safe="")


def stack(on=True, procs=2, v1=False):
    settings = {
        "mercure.subscriber_jwt_key": hub_util.KEY,
        "mercure.anonymous": True,
        "mercure.subscriptions": on,
    }
    if v1:
        settings.update({"mercure.issuer": V1_ISS,
                         "mercure.resource": V1_AUD})
    return harness.Stack(settings=settings, stream_procs=procs,
                         publish_procs=1)


class Subscriptions(harness.TestCase):

    def updates(self, c, n, timeout=10):
        """The next n events of c (which must come), data read as JSON."""
        got = c.events(n, timeout=timeout)
        self.assertEqual(len(got), n, "expected %d updates, got %r" % (
            n, got))
        return [(e, json.loads(e.data)) for e in got]

    def until(self, c, pred, timeout=10):
        """The first update of c whose document satisfies pred (others,
        e.g. the subscribers' own, are skipped); it must come."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for e in c.events(1, timeout=deadline - time.monotonic()):
                d = json.loads(e.data)
                if pred(d):
                    return e, d
        self.fail("no such update came")

    def api(self, st, path, tok, status=200):
        s, h, body = st.http("GET", path, headers=bearer(tok) if tok else {})
        self.assertEqual(s, status, body)
        return h, (json.loads(body) if s == 200 else body.decode())

    def streams_per_process(self, st):
        return [p.get("streams", 0) for p in st.stats()["processes"]
                if p["role"] == "stream"]

    def test_updates_reach_authorized_only(self):
        """A stream opening and closing is seen by a subscriber whose
        token allows the subscriptions topics (v0.x document with the
        payload, then active false; a 1.0 stream's update with the event
        type "mercure"), and never by an anonymous one."""
        watch = token([V0_TEMPLATE, V1_TEMPLATE])
        with stack() as st:
            w = st.sse(hub_path(("topic", V0_TEMPLATE),
                                ("topic", V1_TEMPLATE)),
                       headers=bearer(watch))
            anon = st.sse(hub_path(("topic", V0_TEMPLATE),
                                   ("topic", "urn:marker")))
            ada = st.sse(hub_path(("topic", "chat.lobby")),
                         headers=bearer(token([], {"nick": "ada"})))
            e1, on = self.until(w, lambda d: d.get("topic") == "chat.lobby")
            self.assertEqual(e1.event, "message")
            sub = on["subscriber"]
            self.assertTrue(sub.startswith("urn:uuid:"), sub)
            self.assertEqual(on, {
                "@context": "https://mercure.rocks/",
                "id": SUBS + "/chat.lobby/" + enc(sub),
                "type": "Subscription", "topic": "chat.lobby",
                "subscriber": sub, "active": True,
                "payload": {"nick": "ada"}})
            v1 = st.sse(hub_path(("match", "urn:x/1")))
            e2, d2 = self.until(w, lambda d: d.get("match") == "urn:x/1")
            self.assertEqual(e2.event, "mercure")
            self.assertEqual(d2["type"], "subscription")
            self.assertEqual(d2["match_type"], "exact")
            self.assertEqual(d2["id"], SUBS + "/exact/urn%3Ax%2F1/" +
                             enc(d2["subscriber"]))
            self.assertEqual(d2["active"], True)
            self.assertNotIn("payload", d2, "an anonymous stream has none")
            ada.close()
            e3, off = self.until(w, lambda d: d["active"] is False)
            self.assertEqual(off["subscriber"], sub)
            self.assertEqual(off["topic"], "chat.lobby")
            self.assertTrue(int(e3.id) > int(e1.id))
            v1.close()
            _, off = self.until(w, lambda d: d["active"] is False)
            self.assertEqual(off["subscriber"], d2["subscriber"])
            st.publish_cli("urn:marker", "end")
            self.assertEqual([e.data for e in anon.events(1)], ["end"],
                             "an anonymous subscriber gets no "
                             "subscription update (they are private)")
            for c in (w, anon):
                c.close()

    def open_on_both(self, st, tok):
        """Opens streams on topic chat.room until both sseq-stream
        processes hold one; returns them."""
        streams = []
        while (len(self.streams_per_process(st)) < 2 or
               min(self.streams_per_process(st)) == 0):
            self.assertLess(len(streams), 40, "nginx never used the "
                            "second process")
            streams.append(st.sse(hub_path(("topic", "chat.room")),
                                  headers=bearer(tok)))
            st.wait_for(lambda: sum(self.streams_per_process(st)) ==
                        len(streams), "the stream counted")
        return streams

    def test_api_lists_both_processes(self):
        """The collection lists the subscriptions of both processes; by
        topic, by subscriber; lastEventID is the newest id, from which a
        subscriber gets the updates that followed and none before."""
        admin = token(["*"])
        with stack() as st:
            streams = self.open_on_both(st, token([], {"n": 1}))
            ids = set()

            def listed():
                _, doc = self.api(st, SUBS, admin)
                ids.clear()
                ids.update(s["subscriber"] for s in doc["subscriptions"]
                           if s["topic"] == "chat.room")
                return len(ids) == len(streams)
            st.wait_for(listed, "every stream listed")
            h, doc = self.api(st, SUBS, admin)
            self.assertEqual(h["content-type"], "application/ld+json")
            self.assertEqual(doc["type"], "Subscriptions")
            self.assertEqual(doc["id"], SUBS)
            last = doc["lastEventID"]
            self.assertIn('last-event-id="%s"' % last, h["link"])
            self.assertEqual(set(s["subscriber"] for s in
                                 doc["subscriptions"]), ids)
            _, by_topic = self.api(st, SUBS + "/chat.room", admin)
            self.assertEqual(len(by_topic["subscriptions"]), len(streams))
            one = sorted(ids)[0]
            _, single = self.api(st, SUBS + "/chat.room/" + enc(one), admin)
            self.assertEqual(single["subscriber"], one)
            self.assertEqual(single["payload"], {"n": 1})
            self.assertEqual(single["@context"], "https://mercure.rocks/")
            self.assertIn("lastEventID", single)
            self.api(st, SUBS + "/chat.room/urn%3Auuid%3Anone", admin, 404)
            self.api(st, SUBS + "/other/" + enc(one), admin, 404)
            # From lastEventID on: what changed after the snapshot, only.
            w = st.sse(hub_path(("topic", V0_TEMPLATE),
                                ("lastEventID", last)),
                       headers=bearer(admin))
            streams[0].close()
            got = []
            while not any(d["active"] is False for _, d in got):
                got += self.updates(w, 1)
            self.assertEqual([d["topic"] for _, d in got],
                             [V0_TEMPLATE, "chat.room"],
                             "the watcher's own update, then the close")
            self.assertTrue(all(int(e.id) > int(last) for e, _ in got))
            for c in streams[1:] + [w]:
                c.close()

    def test_api_v1_and_authorization(self):
        """1.0 paths answer application/json with the Link cursor; no
        token is 401, a token not matching the URL 403; a collection
        shows only the subscriptions the token may see."""
        with stack(procs=1) as st:
            a = st.sse(hub_path(("match", "urn:a")))
            b = st.sse(hub_path(("topic", "room.b")))
            admin = token(["*"])
            room = token([SUBS, SUBS + "/room.b/{subscriber}"])
            st.wait_for(lambda: len(self.api(st, SUBS, admin)[1][
                "subscriptions"]) == 2, "both listed")
            h, doc = self.api(st, SUBS + "/exact/urn%3Aa", admin)
            self.assertEqual(h["content-type"], "application/json")
            self.assertEqual(doc["type"], "subscriptions")
            self.assertRegex(h["link"], r'^<%s>; rel="mercure"; '
                             r'last-event-id="\d+"' % HUB)
            self.assertEqual([s["match"] for s in doc["subscriptions"]],
                             ["urn:a"])
            sub = doc["subscriptions"][0]["subscriber"]
            _, one = self.api(st, SUBS + "/exact/urn%3Aa/" + enc(sub), admin)
            self.assertEqual(one, doc["subscriptions"][0])
            self.api(st, SUBS, None, 401)
            self.api(st, SUBS + "/exact/urn%3Aa", room, 403)
            _, seen = self.api(st, SUBS, room)
            self.assertEqual([s.get("topic") for s in seen["subscriptions"]],
                             ["room.b"], "only what the token may see")
            self.api(st, SUBS + "/a%zz", admin, 400)
            for c in (a, b):
                c.close()

    def test_v1_authorization_and_metadata(self):
        """Mercure 1.0 on the subscriptions: the metadata says
        mercure_subscriptions; an access token whose authorization_details
        grant subscribe on the subscriptions' relative URLs (an exact
        collection URL and a relative URL pattern under it) reads the API
        (header or the 1.0 cookie) as 1.0 documents, gets 403
        insufficient_scope with its challenge outside its grants, and
        receives the subscription events (type mercure) on a stream, each
        subscription with the payload of the first subscribe detail
        matching its matcher."""
        def detail(*matchers, payload=None):
            d = {"type": V1_DETAIL, "actions": ["subscribe"],
                 "topics": [{"match": m} if isinstance(m, str) else
                            {"match": m[0], "match_type": m[1]}
                            for m in matchers]}
            if payload is not None:
                d["payload"] = payload
            return d

        def access(*details):
            return hub_util.mint({"iss": V1_ISS, "aud": V1_AUD,
                                  "exp": int(time.time()) + 3600,
                                  "authorization_details": list(details)},
                                 headers={"typ": "at+jwt"})
        watch = access(detail(SUBS, (SUBS + "/*", "urlpattern")))
        exact_only = access(detail(SUBS + "/exact/urn%3Aother"))
        # the spec's Payloads: the first subscribe detail matching the
        # subscription's own matcher gives its payload; "*" the default
        ada = access(detail("urn:b"),
                     detail(("urn\\:(a|z)", "urlpattern"),
                            payload={"who": "a"}),
                     detail("*", payload={"default": True}))
        with stack(procs=1, v1=True) as st:
            s, _, body = st.http("GET", V1_META)
            self.assertEqual(s, 200, body)
            self.assertIs(json.loads(body).get("mercure_subscriptions"),
                          True)
            w = st.sse(hub_path(("match_urlpattern", SUBS + "/*")),
                       headers=bearer(watch))
            a = st.sse(hub_path(("match", "urn:a"), ("match", "urn:b"),
                                ("match", "urn:c")), headers=bearer(ada))
            e, d = self.until(w, lambda d: d.get("match") == "urn:a")
            self.assertEqual(e.event, "mercure")
            self.assertEqual(d["active"], True)
            self.assertEqual(d["payload"], {"who": "a"})
            _, d = self.until(w, lambda d: d.get("match") == "urn:b")
            self.assertNotIn("payload", d, "its first detail has none")
            _, d = self.until(w, lambda d: d.get("match") == "urn:c")
            self.assertEqual(d["payload"], {"default": True})
            h, doc = self.api(st, SUBS, watch)
            self.assertEqual(h["content-type"], "application/json")
            self.assertEqual(doc["type"], "subscriptions")
            self.assertIn("urn:a", [x.get("match")
                                    for x in doc["subscriptions"]])
            _, one = self.api(st, SUBS + "/exact/urn%3Aa", watch)
            self.assertEqual([(x["match"], x.get("payload"))
                              for x in one["subscriptions"]],
                             [("urn:a", {"who": "a"})])
            s, _, body = st.http("GET", SUBS, headers={
                "Cookie": "__Secure-mercure_access_token=" + watch})
            self.assertEqual(s, 200, body)
            for path in (SUBS, SUBS + "/exact/urn%3Aa"):
                s, hdrs, body = st.http("GET", path,
                                        headers=bearer(exact_only))
                self.assertEqual(s, 403, body)
                self.assertIn(b"authorization_details", body)
                self.assertIn('error="insufficient_scope"',
                              hdrs.get("www-authenticate", ""))
                self.assertIn("resource_metadata=",
                              hdrs.get("www-authenticate", ""))
            for c in (w, a):
                c.close()
        with stack(procs=1, v1=True, on=False) as st:
            s, _, body = st.http("GET", V1_META)
            self.assertEqual(s, 200, body)
            self.assertNotIn("mercure_subscriptions", json.loads(body))

    def test_off(self):
        """mercure.subscriptions off (the default): the API is 404 and no
        update is published."""
        with stack(on=False, procs=1) as st:
            w = st.sse(hub_path(("topic", V0_TEMPLATE), ("topic", "urn:m")),
                       headers=bearer(token(["*"])))
            x = st.sse(hub_path(("topic", "chat.lobby")))
            x.close()
            st.publish_cli("urn:m", "end")
            self.assertEqual([e.data for e in w.events(1)], ["end"])
            self.api(st, SUBS, token(["*"]), 404)
            w.close()


if __name__ == "__main__":
    harness.main()
