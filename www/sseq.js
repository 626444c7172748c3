/* sseq.js -- the browser client of sseq's /events and of a Mercure hub:
 * an EventSource-like object that
 * - shares one connection among all tabs of an origin that subscribe to
 *   the same URL (a leader tab elected with the Web Locks API fans events
 *   out to the others over a BroadcastChannel; without either API, or
 *   with {share: false}, each object has its own connection);
 * - on sseq's /events, tabs with different channels share too: the
 *   leader subscribes to the union of the tabs' channels with
 *   tag=channel (each event names its channels) and each tab delivers
 *   the events of its own channels;
 * - never gives up on a transient error (network, end of stream, 408,
 *   429, 500, 502, 503, 504): it reconnects with capped exponential
 *   backoff and jitter, honours Retry-After, and resumes after the last
 *   id it delivered (last_event_id= or lastEventID= on the URL);
 * - on 401/403 fires "error" with the status and stops, unless the page's
 *   refreshToken(status) callback supplies a fresh credential.
 *
 * Delivery: events go out in the order received; an event whose id was
 * already received (a resume after a hand-over overlaps) is dropped.
 * Ids that are decimal numbers (sseq's) compare as numbers, others
 * (Mercure's) by a set of the recent ones.
 *
 * Hand-over: the leader posts a heartbeat every TICK_MS. When it closes,
 * its lock is released and the next tab in the lock queue leads; when it
 * freezes, a follower that heard nothing for DEAD_MS steals the lock.
 * Without Web Locks (plain HTTP but on localhost is not a secure context)
 * a tab that heard no leader for DEAD_MS claims the lead, and of two
 * leaders the older steps down. A new leader resumes from its own last
 * id; every tab drops what it already has. Messages carry the leader's
 * epoch (the time it took the lead) and followers ignore older epochs,
 * so a leader that wakes up after being replaced is never heard.
 *
 * Union: every tab announces its channels ("hi", "bye"); the leader's
 * heartbeat carries the list of them all, so the next leader has it. When
 * the union changes the leader reconnects with it, resuming after the
 * last id it received (sseq's ids are global: the resume is exact).
 *
 * ES module. sseq-classic.js, made from this file by `make`, is the same
 * for a plain <script> (window.sseq). No dependencies. */

const STATES = { connecting: 0, open: 1, reconnecting: 0, closed: 2 };
const TICK_MS = 250;           /* leader heartbeat, follower watchdog */
const DEAD_MS = 1250;           /* silence after which a follower leads */
const RING_MAX = 1000;         /* recent events kept for joining tabs */
const RECENT_IDS = 1000;       /* non-numeric ids remembered for dedupe */
const RETRY_AFTER_MAX_MS = 600000;

/* What an answer with status means (0: network error or end of stream):
 * "retry", "auth" (401/403) or "fatal". */
function retryPolicy(status) {
    if ([0, 408, 429, 500, 502, 503, 504].includes(status))
        return 'retry';
    return status === 401 || status === 403 ? 'auth' : 'fatal';
}

/* The delay before reconnect attempt n (0 first): min * 2^n capped at
 * max, the upper half of it random ("equal jitter"). */
function backoffDelay(n, min, max, random = Math.random) {
    const base = Math.min(max, min * Math.pow(2, Math.min(n, 30)));
    return Math.round(base / 2 + random() * base / 2);
}

/* Milliseconds a Retry-After value asks to wait (delta-seconds or an
 * HTTP date), capped at 10 minutes; null when absent or unreadable. */
function retryAfterMs(value, now = Date.now()) {
    let ms;
    if (value == null || value === '')
        return null;
    if (/^\s*\d+\s*$/.test(value))
        ms = Number(value) * 1000;
    else if (/[a-z]{3}/i.test(value) && !isNaN(Date.parse(value)))
        ms = Math.max(0, Date.parse(value) - now);
    else
        return null;
    return Math.min(ms, RETRY_AFTER_MAX_MS);
}

/* The wait before reconnect attempt n after status: the backoff, but
 * never less than Retry-After asks. */
function retryDelay(n, retryAfter, opt, random, now) {
    const ra = retryAfterMs(retryAfter, now);
    const d = backoffDelay(n, opt.retryMin, opt.retryMax, random);
    return ra === null ? d : Math.max(ra, d);
}

/* Appends name=value pairs (values encoded) to url's query. */
function addQuery(url, pairs) {
    const q = pairs.filter((p) => p[1] != null && p[1] !== '')
        .map((p) => p[0] + '=' + encodeURIComponent(String(p[1])));
    if (!q.length)
        return url;
    return url + (url.includes('?') ? '&' : '?') + q.join('&');
}

/* url without the query parameters named in names. */
function dropQuery(url, names) {
    const hash = url.indexOf('#');
    const u = hash < 0 ? url : url.slice(0, hash);
    const i = u.indexOf('?');
    if (i < 0)
        return u;
    const kept = u.slice(i + 1).split('&').filter((kv) => kv &&
        !names.includes(decodeURIComponent(kv.split('=')[0])));
    return u.slice(0, i) + (kept.length ? '?' + kept.join('&') : '');
}

/* The channels a /events URL names (channel= values, comma lists
 * split); null for a Mercure URL. */
function channelsOf(url) {
    const q = url.split('#')[0].split('?')[1] || '';
    return isMercure(url) ? null : q.split('&')
        .filter((kv) => kv.split('=')[0] === 'channel')
        .flatMap((kv) => decodeURIComponent(kv.slice(8)).split(','))
        .filter((c) => c);
}

/* url on channels instead of its own, events naming their channels. */
function unionUrl(url, channels) {
    return addQuery(dropQuery(url, ['channel', 'tag']),
        [['channel', channels.join(',')], ['tag', 'channel']]);
}

/* sseq's stream URL: path (default /events) ? channel=... [backlog=N]
 * [last_event_id=ID]. */
function eventsUrl(channels, o = {}) {
    const list = [].concat(channels).map((c) => ['channel', c]);
    return addQuery(o.path || '/events', list.concat([
        ['backlog', o.backlog], ['last_event_id', o.lastEventId]]));
}

/* A Mercure subscription URL (Mercure spec, "Subscription"): the hub
 * (default /.well-known/mercure) with one topic= per topic (an IRI or URI
 * template) and lastEventID= to resume. */
function mercureUrl(topics, o = {}) {
    const list = [].concat(topics).map((t) => ['topic', t]);
    return addQuery(o.hub || '/.well-known/mercure',
        list.concat([['lastEventID', o.lastEventId]]));
}

/* Whether url subscribes to a Mercure hub (resumes with lastEventID). */
function isMercure(url) {
    return /(^|[?&])topic=/.test(url.split('#')[0].split('?')[1] || '') ||
        /\/\.well-known\/mercure(\?|#|$)/.test(url);
}

/* url set to resume after id: the resume parameter replaced (and
 * sseq's backlog dropped: the resume replaces it). */
function resumeUrl(url, id) {
    const param = isMercure(url) ? 'lastEventID' : 'last_event_id';
    if (id == null || id === '')
        return url;
    return addQuery(dropQuery(url, [param, 'backlog']), [[param, id]]);
}

/* The identity of a subscription: the URL with its query sorted and the
 * parameters that only say where to start removed. */
function shareKey(url, withCredentials) {
    const u = dropQuery(url, ['backlog', 'last_event_id', 'lastEventID']);
    const i = u.indexOf('?');
    const q = i < 0 ? '' : u.slice(i + 1).split('&').sort().join('&');
    return (withCredentials ? 'c ' : '') + (i < 0 ? u : u.slice(0, i)) +
        '?' + q;
}

/* An incremental text/event-stream parser (WHATWG HTML, "Server-sent
 * events", event stream interpretation). push(text) calls
 * onEvent({type, data, id}) per event (with channels: [...] when it has
 * channel fields) and onRetry(ms) per retry field. */
function sseParser(onEvent, onRetry = () => {}) {
    let buf = '', data = [], type = '', id = '', cr = false, chs = [];
    function line(l) {
        if (l === '') {
            const ev = { type: type || 'message', data: data.join('\n'), id };
            if (chs.length)
                ev.channels = chs;
            if (data.length)
                onEvent(ev);
            data = [];
            chs = [];
            type = '';
            return;
        }
        const c = l.indexOf(':');
        if (c === 0)
            return;
        const f = c < 0 ? l : l.slice(0, c);
        let v = c < 0 ? '' : l.slice(c + 1);
        if (v[0] === ' ')
            v = v.slice(1);
        if (f === 'data')
            data.push(v);
        else if (f === 'event')
            type = v;
        else if (f === 'id' && !v.includes('\0'))
            id = v;
        else if (f === 'retry' && /^\d+$/.test(v))
            onRetry(Number(v));
        else if (f === 'channel')
            chs.push(v);
    }
    return function push(text) {
        let i = 0, m;
        if (cr && text[0] === '\n')
            i = 1;
        cr = false;
        buf += text.slice(i);
        const re = /\r\n|\r|\n/g;
        i = 0;
        while ((m = re.exec(buf)) !== null) {
            if (m[0] === '\r' && m.index === buf.length - 1) {
                cr = true;
            }
            line(buf.slice(i, m.index));
            i = re.lastIndex;
        }
        buf = buf.slice(i);
    };
}

/* Whether an event with id is new after last (see the top). */
function isNewId(id, last, recent) {
    if (!id)
        return true;
    if (/^\d+$/.test(id) && /^\d+$/.test(last || ''))
        return BigInt(id) > BigInt(last);
    return !recent.has(id);
}

const DEFAULTS = {
    withCredentials: false, share: true, union: true, token: null,
    refreshToken: null,
    retryMin: 1000, retryMax: 30000, timeout: 45000, backlog: 0,
};

/* new SseqSource(url, options): see the top of the file and
 * doc/browser.md. */
class SseqSource extends EventTarget {
    constructor(url, options = {}) {
        super();
        const o = Object.assign({}, DEFAULTS, options);
        const m = /[?&]backlog=(\d+)/.exec(url);
        const chans = o.union && channelsOf(url);
        const cred = !!o.withCredentials;
        this.url = url;
        this.withCredentials = cred;
        this.lastEventId = '';
        this.state = 'connecting';
        this.status = 0;              /* last error status, 0: none */
        this.leader = false;
        this.onopen = this.onmessage = this.onerror = null;
        this.onstatechange = this.ongap = null;
        for (const t of ['open', 'message', 'error', 'statechange', 'gap'])
            this.addEventListener(t === 'gap' ? 'sseq-gap' : t, (e) =>
                typeof this['on' + t] === 'function' && this['on' + t](e));
        this._o = o;
        this._token = o.token;
        this._recent = new Set();
        this._ring = [];
        this._ringMax = Math.min(RING_MAX, m ? Number(m[1]) : o.backlog);
        this._attempt = 0;
        this._id = Math.random().toString(36).slice(2);
        this._epoch = 0;              /* of the leader we follow or are */
        this._streamId = '';          /* last id of the (shared) stream */
        this._union = !!(chans && chans.length && o.share &&
                         typeof BroadcastChannel === 'function');
        this._chanList = this._union && chans;
        this._chans = this._union && new Set(chans);
        this._subs = new Map([[this._id, chans]]);  /* tab: channels */
        this._gone = new Set();         /* tabs that said bye */
        this._key = 'sseq ' + (this._union ? 'u ' + shareKey(dropQuery(url,
            ['channel', 'tag']), cred) : shareKey(url, cred));
        try { this._origin = new URL(url, location.href).origin; }
        catch (e) { this._origin = ''; }
        /* window's events: back online; the page goes (its channels
         * leave the union) or comes back from the back/forward cache */
        this._on = [['online', () => this._retryTimer && this._connect()],
            ['pagehide', () => this._bc && this._bye()],
            ['pageshow', (e) => this._bc && e.persisted && this._hi()]];
        if (typeof addEventListener === 'function')
            this._on.forEach((a) => addEventListener(...a));
        if (o.share && typeof BroadcastChannel === 'function')
            this._share();
        else {
            this.leader = true;         /* of itself alone */
            this._connect();
        }
    }

    get readyState() { return STATES[this.state]; }

    /* Ends this object's subscription for good; a leading tab hands the
     * connection over to another. */
    close() {
        this._setState('closed', this.status);
    }

    /* Stops everything this object runs; the lock goes to the next tab. */
    _teardown() {
        this._stopConnection();
        clearInterval(this._tick);
        clearTimeout(this._joinTimer);
        if (typeof removeEventListener === 'function')
            this._on.forEach((a) => removeEventListener(...a));
        if (this._bc) {
            this._bye();
            this._bc.close();
        }
        if (this._release)
            this._release();
        if (this._abortLock)
            this._abortLock.abort();
    }

    /* ---- delivery (every tab) ---- */

    /* An event of the stream (shared or not): dropped if its id came
     * already, else kept for joining tabs and delivered; false if
     * dropped. */
    _stream(ev) {
        if (!isNewId(ev.id, this._streamId, this._recent))
            return false;
        if (ev.id) {
            this._streamId = ev.id;
            this._recent.add(ev.id);
            if (this._recent.size > RECENT_IDS)
                this._recent.delete(this._recent.values().next().value);
        }
        if (this._ringMax > 0) {
            this._ring.push(ev);
            if (this._ring.length > this._ringMax)
                this._ring.shift();
        }
        this._deliver(ev);
        return true;
    }

    /* Fires ev here, unless it names channels none of which are ours. */
    _deliver(ev) {
        if (this._chans && ev.channels &&
            !ev.channels.some((c) => this._chans.has(c)))
            return;
        if (ev.id)
            this.lastEventId = ev.id;
        this.dispatchEvent(new MessageEvent(ev.type, { data: ev.data,
            lastEventId: ev.id, origin: this._origin }));
    }

    /* Sets the connection state; fires "statechange" (and "open") on a
     * change, and "error" with status when detail says so. */
    _setState(state, status, error) {
        if (this.state === 'closed')
            return;
        if (state === 'closed')
            this._teardown();
        if (error) {
            const e = new Event('error');
            Object.assign(e, { status, retryIn: error.retryIn,
                               fatal: state === 'closed' });
            this.status = status;
            this.dispatchEvent(e);
        }
        if (state === this.state)
            return;
        this.state = state;
        const sc = new Event('statechange');
        Object.assign(sc, { state, status });
        this.dispatchEvent(sc);
        if (state === 'open')
            this.dispatchEvent(new Event('open'));
    }

    /* ---- the connection (the leader, or every object when alone) ---- */

    _stopConnection() {
        clearTimeout(this._unionTimer);
        clearTimeout(this._retryTimer);
        this._retryTimer = null;
        clearTimeout(this._idleTimer);
        if (this._abort)
            this._abort.abort();
        this._abort = null;
    }

    /* Opens the stream (of the union when sharing one): resumes after the
     * last id received, else the URL as given (with its backlog). */
    async _connect() {
        const ctl = new AbortController();
        const headers = { Accept: 'text/event-stream' };
        const list = this._union && this._unionList();
        let res;
        this._stopConnection();
        this._connKey = list && list.join();
        this._abort = ctl;
        if (this._token)
            headers.Authorization = 'Bearer ' + this._token;
        try {
            res = await fetch(resumeUrl(list ? unionUrl(this.url, list) :
                this.url, this._streamId), {
                headers, cache: 'no-store', signal: ctl.signal,
                credentials: this.withCredentials ? 'include' : 'same-origin',
            });
        } catch (e) {
            return ctl.signal.aborted || this._failed(0, null, ctl);
        }
        if (res.status !== 200 || !/^text\/event-stream/i.test(
                res.headers.get('Content-Type') || '')) {
            res.body && res.body.cancel().catch(() => {});
            return this._failed(res.status === 200 ? -1 : res.status,
                res.headers.get('Retry-After'), ctl);
        }
        this._attempt = 0;
        if (list && !this._streamId)    /* tag=channel: where it starts */
            this._streamId = res.headers.get('Last-Event-ID') || '';
        this._announce('open', 0);
        this._read(res.body, ctl);
    }

    /* Reads the body until it ends or breaks, then retries. */
    async _read(body, ctl) {
        const reader = body.getReader();
        const dec = new TextDecoder();
        const push = sseParser((ev) => this._received(ev),
            (ms) => { this._o.retryMin = ms; });
        try {
            for (;;) {
                this._idle(ctl);
                const { value, done } = await reader.read();
                if (done || ctl.signal.aborted)
                    break;
                push(dec.decode(value, { stream: true }));
            }
        } catch (e) { /* a broken stream: retried below */ }
        if (!ctl.signal.aborted)
            this._failed(0, null, ctl);
    }

    /* Aborts the stream when nothing (not even a heartbeat) came for
     * options.timeout ms. */
    _idle(ctl) {
        clearTimeout(this._idleTimer);
        this._idleTimer = setTimeout(() => {
            ctl.abort();
            this._failed(0, null, ctl);
        }, this._o.timeout);
    }

    /* An event from the server: to this tab and to the followers. */
    _received(ev) {
        if (this._stream(ev))
            this._post({ t: 'ev', ev });
    }

    /* A failed attempt (status 0: network, -1: not an event stream):
     * retry after a delay, ask for a credential, or stop. */
    async _failed(status, retryAfter, ctl) {
        const policy = retryPolicy(status);
        if (this._abort !== ctl)
            return;
        clearTimeout(this._idleTimer);
        if (policy === 'fatal')
            return this._announce('closed', status, {});
        if (policy === 'auth') {
            const f = this._o.refreshToken;
            const t = f ? await f.call(this, status) : null;
            if (this._abort !== ctl)
                return;
            if (!t)
                return this._announce('closed', status, {});
            if (typeof t === 'string')
                this._token = t;
        }
        const d = retryDelay(this._attempt++, retryAfter, this._o);
        this._announce('reconnecting', status, { retryIn: d });
        this._retryTimer = setTimeout(() => this._connect(), d);
    }

    /* A state change of the connection: here and in the followers. */
    _announce(state, status, error) {
        this._post({ t: 'st', state, status, error });
        this._setState(state, status, error);
    }

    /* ---- sharing among tabs ---- */

    _post(m) {
        if (this._bc && this.leader && this.state !== 'closed')
            this._bc.postMessage(Object.assign(m,
                { ep: this._epoch, from: this._id }));
    }

    /* Joins the tabs sharing this URL: asks for the lock (the leader's
     * seat), and meanwhile follows whoever leads. */
    _share() {
        this._bc = new BroadcastChannel(this._key);
        this._bc.onmessage = (e) => this._onShared(e.data);
        this._locks = typeof navigator === 'object' && navigator.locks;
        this._heard = Date.now() - (this._locks ? 0 : DEAD_MS - 300);
        this._joined = false;
        this._queued = [];
        this._requestLock(false);
        this._hi();
        let last = Date.now();
        this._tick = setInterval(() => {
            const now = Date.now();
            this._watch(now, now - last);
            last = now;
        }, TICK_MS);
        this._joinTimer = setTimeout(() => this._joinDone([]), DEAD_MS);
    }

    /* Asks for the lock (queues), or takes it from a frozen leader when
     * steal; without Web Locks, a steal is a claim and a queue nothing. */
    _requestLock(steal) {
        if (!this._locks)
            return steal && this._becomeLeader();
        if (this._abortLock)
            this._abortLock.abort();
        this._abortLock = steal ? null : new AbortController();
        const opt = steal ? { steal: true } :
            { signal: this._abortLock.signal };
        const req = {};               /* rejects: stolen if it was held */
        this._locks.request(this._key, opt, () => new Promise((resolve) => {
            this._release = resolve;
            this._held = req;
            this._becomeLeader();
        })).catch(() => this._held === req && this._stepDown());
    }

    _becomeLeader() {
        if (this.state === 'closed')
            return this._release && this._release();
        this._abortLock = null;
        this._epoch = Math.max(Date.now(), this._epoch + 1) + Math.random();
        this._joinDone([]);
        this.leader = true;
        if (this.state === 'open')
            this._announce('reconnecting', 0);
        this._beat();
        this._connect();
    }

    /* Tells the other tabs this one goes. */
    _bye() {
        this._bc.postMessage({ t: 'bye', from: this._id, lead: this.leader,
                               ep: this._epoch });
    }

    /* Announces this tab (its channels, its backlog) to the others. */
    _hi() {
        this._bc.postMessage({ t: 'hi', from: this._id, ch: this._chanList,
                               backlog: this._ringMax });
    }

    /* The leader's heartbeat: its state and every tab's channels. */
    _beat() {
        this._post({ t: 'hb', state: this.state, status: this.status,
                     subs: this._union && [...this._subs] });
    }

    /* Every tab's channels, sorted, each once. */
    _unionList() {
        return [...new Set([].concat(...this._subs.values()))].sort();
    }

    /* The leader reconnects (after 100 ms that gather changes) when the
     * union of the tabs' channels is not its connection's. */
    _unionCheck() {
        if (!this.leader || !this._union || this._retryTimer)
            return;
        clearTimeout(this._unionTimer);
        this._unionTimer = setTimeout(() => this._unionList().join() !==
            this._connKey && this._connect(), 100);
    }

    /* Another tab leads now (it stole the lock from us, or a newer
     * leader spoke): stop the connection, release the lock, queue again. */
    _stepDown() {
        const release = this._release;
        if (!this.leader || this.state === 'closed')
            return;
        this.leader = false;
        this._release = this._held = null;
        this._stopConnection();
        this._heard = Date.now();
        if (release)
            release();
        this._requestLock(false);
    }

    /* Every TICK_MS: the leader beats; a follower that heard nothing for
     * DEAD_MS takes the lead (unless its own timer came that late: then
     * it was the one frozen). */
    _watch(now, since) {
        if (this.leader)
            return this._beat();
        if (since > DEAD_MS)
            this._heard = now;
        else if (now - this._heard > DEAD_MS + Math.random() * TICK_MS) {
            this._heard = now;
            this._requestLock(true);
        }
    }

    /* The first events of a joining tab: the leader's recent ones, then
     * what arrived live while waiting for them. */
    _joinDone(history) {
        if (this._joined)
            return;
        this._joined = true;
        clearTimeout(this._joinTimer);
        history.concat(this._queued).forEach((ev) => this._stream(ev));
        this._queued = null;
    }

    /* A follower takes the leader's list of every tab's channels (but
     * tabs it heard leave: the list may predate their bye), and announces
     * its own again if the leader lacks them. */
    _syncSubs(subs) {
        this._subs = new Map(subs.filter(([id]) => !this._gone.has(id)));
        if (!this._subs.has(this._id)) {
            this._subs.set(this._id, this._chanList);
            this._hi();
        }
    }

    /* A message from another tab of the same subscription. */
    _onShared(m) {
        if (this.state === 'closed')
            return;
        if (m.t === 'bye' || m.ch) {
            const bye = m.t === 'bye';
            bye ? this._gone.add(m.from) : this._gone.delete(m.from);
            bye ? this._subs.delete(m.from) : this._subs.set(m.from, m.ch);
            this._unionCheck();
        }
        if (m.t === 'bye') {
            if (m.lead && !this._locks && m.ep >= this._epoch)
                this._heard = Date.now() - DEAD_MS + Math.random() * 400;
            return;
        }
        if (m.t === 'hi') {
            this._ringMax = Math.max(this._ringMax,
                Math.min(RING_MAX, m.backlog || 0));
            if (this.leader) {
                this._post({ t: 'hist', to: m.from,
                    evs: this._ring.slice(-m.backlog || this._ring.length),
                    state: this.state, status: this.status });
            }
            return;
        }
        if (m.ep < this._epoch)
            return;                     /* a replaced leader */
        if (m.ep > this._epoch) {
            this._epoch = m.ep;
            if (this.leader)
                this._stepDown();
        }
        this._heard = Date.now();
        if (m.t === 'ev') {
            if (this._joined)
                this._stream(m.ev);
            else
                this._queued.push(m.ev);
        } else if (m.t === 'st' || m.t === 'hb') {
            this._setState(m.state, m.status, m.error);
            if (m.subs)
                this._syncSubs(m.subs);
        } else if (m.t === 'hist' && m.to === this._id) {
            this._joinDone(m.evs);
            this._setState(m.state, m.status);
        }
    }
}

export {
    SseqSource, eventsUrl, mercureUrl, resumeUrl, shareKey, sseParser,
    retryPolicy, backoffDelay, retryAfterMs, retryDelay, isNewId,
    channelsOf, unionUrl,
};
