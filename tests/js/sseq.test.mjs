// tests/js/sseq.test.mjs -- www/sseq.js in node (node --test), no
// browser: the retry policy, backoff and Retry-After tables, the URLs
// (sseq's /events and Mercure's), the event-stream parser, and SseqSource
// against a real node HTTP server answering what a restart, a full
// process or an expired token would answer. Node has fetch and
// BroadcastChannel but no Web Locks: two sources here share a connection
// by the BroadcastChannel-only election.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import fs from 'node:fs';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import * as sseq from '../../www/sseq.js';

const SRC = fileURLToPath(new URL('../../www/sseq.js', import.meta.url));

test('sseq.js is under 8 KiB gzipped, unminified', () => {
    const n = zlib.gzipSync(fs.readFileSync(SRC)).length;
    assert.ok(n < 8192, `${n} bytes gzipped`);
});

test('retryPolicy: transient answers retry, 401/403 ask, others stop', () => {
    const table = [[0, 'retry'], [408, 'retry'], [429, 'retry'],
        [500, 'retry'], [502, 'retry'], [503, 'retry'], [504, 'retry'],
        [401, 'auth'], [403, 'auth'], [-1, 'fatal'], [204, 'fatal'],
        [400, 'fatal'], [404, 'fatal'], [405, 'fatal'], [501, 'fatal']];
    for (const [status, want] of table)
        assert.equal(sseq.retryPolicy(status), want, `status ${status}`);
});

test('backoffDelay: doubles from min, capped at max, upper half random',
    () => {
        const table = [        // n, min, max, random, want
            [0, 1000, 30000, 0, 500], [0, 1000, 30000, 1, 1000],
            [1, 1000, 30000, 0, 1000], [1, 1000, 30000, 1, 2000],
            [3, 1000, 30000, 0.5, 6000], [5, 1000, 30000, 1, 30000],
            [5, 1000, 30000, 0, 15000], [80, 1000, 30000, 1, 30000],
            [2, 10, 25, 1, 25]];
        for (const [n, min, max, r, want] of table)
            assert.equal(sseq.backoffDelay(n, min, max, () => r), want,
                `attempt ${n} (${min}..${max}, random ${r})`);
        for (let n = 0; n < 40; n++) {
            const d = sseq.backoffDelay(n, 1000, 30000);
            assert.ok(d >= 500 && d <= 30000, `attempt ${n}: ${d}`);
        }
    });

test('retryAfterMs: seconds or an HTTP date, capped, else null', () => {
    const now = Date.parse('Mon, 30 Nov 2026 06:00:00 GMT');
    const table = [['2', 2000], [' 5 ', 5000], ['0', 0],
        ['Mon, 30 Nov 2026 06:00:07 GMT', 7000],
        ['Mon, 30 Nov 2026 05:59:00 GMT', 0],
        ['999999', 600000], ['', null], [null, null], [undefined, null],
        ['soon', null], ['-3', null], ['1.5', null]];
    for (const [v, want] of table)
        assert.equal(sseq.retryAfterMs(v, now), want, `"${v}"`);
});

test('retryDelay: the backoff, never below Retry-After', () => {
    const o = { retryMin: 1000, retryMax: 30000 };
    const table = [[0, null, 1, 1000], [0, '2', 1, 2000], [0, '2', 0, 2000],
        [4, '2', 1, 16000], [9, '60', 1, 60000]];
    for (const [n, ra, r, want] of table)
        assert.equal(sseq.retryDelay(n, ra, o, () => r, 0), want,
            `attempt ${n}, Retry-After ${ra}`);
});

test('eventsUrl: channels, backlog, last_event_id, encoded', () => {
    const table = [
        [['chat'], {}, '/events?channel=chat'],
        ['chat', { backlog: 50 }, '/events?channel=chat&backlog=50'],
        [['a', 'b c'], { lastEventId: '17' },
            '/events?channel=a&channel=b%20c&last_event_id=17'],
        [['x&y'], { path: 'https://h.example/sse/events' },
            'https://h.example/sse/events?channel=x%26y'],
        [['chat'], { backlog: 0 }, '/events?channel=chat&backlog=0']];
    for (const [ch, o, want] of table)
        assert.equal(sseq.eventsUrl(ch, o), want);
});

test('mercureUrl: one topic= per topic, lastEventID, the hub kept', () => {
    const table = [
        ['https://example.com/books/1', {},
            '/.well-known/mercure?topic=https%3A%2F%2Fexample.com%2F' +
            'books%2F1'],
        [['https://example.com/books/{id}', 'urn:x:y'],
            { lastEventId: 'urn:uuid:5e94c686' },
            '/.well-known/mercure?topic=https%3A%2F%2Fexample.com%2F' +
            'books%2F%7Bid%7D&topic=urn%3Ax%3Ay&lastEventID=' +
            'urn%3Auuid%3A5e94c686'],
        ['a', { hub: 'https://hub.example/.well-known/mercure?x=1' },
            'https://hub.example/.well-known/mercure?x=1&topic=a'],
        ['*', { lastEventId: 'earliest' },
            '/.well-known/mercure?topic=*&lastEventID=earliest']];
    for (const [topics, o, want] of table)
        assert.equal(sseq.mercureUrl(topics, o), want);
});

test('resumeUrl: the resume parameter of sseq or Mercure, backlog gone',
    () => {
        const table = [
            ['/events?channel=a&backlog=50', '9', '/events?channel=a&' +
                'last_event_id=9'],
            ['/events?channel=a&last_event_id=3', '9',
                '/events?channel=a&last_event_id=9'],
            ['/events?channel=a&backlog=5', '', '/events?channel=a&backlog=5'],
            ['/.well-known/mercure?topic=a&lastEventID=x', 'urn:y',
                '/.well-known/mercure?topic=a&lastEventID=urn%3Ay'],
            ['/hub?topic=a', 'k', '/hub?topic=a&lastEventID=k'],
            ['/events?channel=a#frag', '2', '/events?channel=a&' +
                'last_event_id=2']];
        for (const [url, id, want] of table)
            assert.equal(sseq.resumeUrl(url, id), want, `${url} after ${id}`);
    });

test('channelsOf: the channels of a /events URL, none of a hub URL', () => {
    const table = [
        ['/events?channel=a', ['a']],
        ['/events?channel=b&backlog=3&channel=a%2Cc,d', ['b', 'a', 'c', 'd']],
        ['/events?x=channel&channel=&tag=channel', []],
        ['/.well-known/mercure?topic=a', null],
        ['/events?channel=a#channel=z', ['a']]];
    for (const [url, want] of table)
        assert.deepEqual(sseq.channelsOf(url), want, url);
});

test('unionUrl: the channels replaced by the union, tag=channel', () => {
    const table = [
        ['/events?channel=a&backlog=5', ['a', 'b'],
            '/events?backlog=5&channel=a%2Cb&tag=channel'],
        ['/events?tag=channel&channel=z', ['z'],
            '/events?channel=z&tag=channel'],
        ['/sse/events?k=1&channel=a', ['a'],
            '/sse/events?k=1&channel=a&tag=channel']];
    for (const [url, chans, want] of table)
        assert.equal(sseq.unionUrl(url, chans), want, url);
});

test('shareKey: the same subscription whatever the order or start', () => {
    const k = (u, c) => sseq.shareKey(u, c);
    assert.equal(k('/events?channel=a&channel=b&backlog=5'),
        k('/events?channel=b&channel=a&last_event_id=9'));
    assert.notEqual(k('/events?channel=a'), k('/events?channel=b'));
    assert.notEqual(k('/events?channel=a'), k('/events?channel=a', true));
    assert.equal(k('/.well-known/mercure?topic=x&lastEventID=1'),
        k('/.well-known/mercure?topic=x'));
});

// The events sseParser makes of chunks (joined with | in the table).
function parse(chunks) {
    const out = [];
    const retries = [];
    const push = sseq.sseParser((e) => out.push(e), (ms) => retries.push(ms));
    for (const c of chunks)
        push(c);
    return { out, retries };
}

test('sseParser: the WHATWG event stream rules, across chunk seams', () => {
    const ev = (data, type = 'message', id = '') => ({ type, data, id });
    const table = [
        ['data: a\n\n', [ev('a')]],
        ['data: a\ndata: b\n\n', [ev('a\nb')]],
        ['data:a|\r|\ndata:b\r\n\r\n', [ev('a\nb')]],
        ['data: x\r\rdata: y\r\n\n', [ev('x'), ev('y')]],
        ['id: 7\nevent: t\ndata: 1\n\ndata: 2\n\n',
            [ev('1', 't', '7'), ev('2', 'message', '7')]],
        [': comment\n\ndata\n\n', [ev('')]],
        ['data:  two spaces\n\n', [ev(' two spaces')]],
        ['id: a\0b\ndata: z\n\n', [ev('z')]],
        ['event: only\n\nid: 3\n\ndata: w\n\n', [ev('w', 'message', '3')]],
        ['da|ta: sp|lit\n|\n', [ev('split')]],
        ['data: no end', []],
        ['unknown: f\ndata: k\n\n', [ev('k')]],
        ['id: 4\nchannel: a\nchannel: b.c\ndata: t\n\ndata: u\n\n',
            [Object.assign(ev('t', 'message', '4'), { channels: ['a', 'b.c'] }),
             ev('u', 'message', '4')]]];
    for (const [input, want] of table)
        assert.deepEqual(parse(input.split('|')).out, want,
            JSON.stringify(input));
    assert.deepEqual(parse(['retry: 2500\nretry: x\n\n']).retries, [2500]);
});

test('isNewId: numbers compare as numbers (u64), others by a set', () => {
    const seen = new Set(['urn:a']);
    const table = [['5', '4', true], ['4', '4', false], ['3', '4', false],
        ['18446744073709551615', '18446744073709551614', true],
        ['9007199254740993', '9007199254740992', true],
        ['', '4', true], ['urn:b', 'urn:a', true], ['urn:a', 'urn:a', false],
        ['7', '', true]];
    for (const [id, last, want] of table)
        assert.equal(sseq.isNewId(id, last, seen), want, `${id} after ${last}`);
});

// A node HTTP server that answers request n with answers[n](req, res);
// records each request (url, authorization, time).
async function server(answers) {
    const reqs = [];
    const s = http.createServer((req, res) => {
        reqs.push({ url: req.url, auth: req.headers.authorization,
                    t: Date.now() });
        const a = answers[Math.min(reqs.length, answers.length) - 1];
        a(req, res);
    });
    await new Promise((r) => s.listen(0, '127.0.0.1', r));
    s.reqs = reqs;
    s.base = `http://127.0.0.1:${s.address().port}`;
    s.stop = () => { s.closeAllConnections(); s.close(); };
    return s;
}

const status = (code, headers = {}) => (req, res) => {
    res.writeHead(code, headers);
    res.end('refused\n');
};
const stream = (body, end) => (req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/event-stream' });
    res.write(body);
    if (end)
        res.end();
};

// Resolves when pred() holds (polled), rejects after 10 s.
async function until(pred, what) {
    for (let i = 0; i < 1000; i++) {
        if (pred())
            return;
        await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`timed out: ${what}`);
}

test('SseqSource: retries 502/503 (Retry-After), resumes by id, asks ' +
    'for a token on 401', async () => {
    const s = await server([status(502), status(503, { 'Retry-After': '1' }),
        stream('retry: 20\nid: 5\ndata: a\n\n', true), status(401),
        stream('id: 6\ndata: b\n\n', false)]);
    const asked = [];
    const es = new sseq.SseqSource(`${s.base}/events?channel=c&backlog=3`,
        { share: false, token: 'tok1', retryMin: 20, retryMax: 100,
          refreshToken: (st) => { asked.push(st); return 'tok2'; } });
    const seen = { data: [], errors: [], states: [] };
    es.onmessage = (e) => seen.data.push(`${e.lastEventId}:${e.data}`);
    es.onerror = (e) => seen.errors.push(e.status);
    es.addEventListener('statechange', (e) => seen.states.push(e.state));
    try {
        await until(() => seen.data.length === 2, 'two events');
        assert.deepEqual(seen.data, ['5:a', '6:b']);
        assert.deepEqual(seen.errors, [502, 503, 0, 401]);
        assert.deepEqual(asked, [401]);
        assert.deepEqual(seen.states, ['reconnecting', 'open',
            'reconnecting', 'open']);
        const r = s.reqs;
        assert.equal(r[0].url, '/events?channel=c&backlog=3');
        assert.ok(r[2].t - r[1].t >= 1000, 'waited for Retry-After: 1');
        assert.equal(r[3].url, '/events?channel=c&last_event_id=5');
        assert.equal(r[3].auth, 'Bearer tok1');
        assert.equal(r[4].auth, 'Bearer tok2', 'the fresh token');
        assert.equal(es.readyState, 1);
        assert.equal(es.lastEventId, '6');
    } finally {
        es.close();
        s.stop();
    }
    assert.equal(es.readyState, 2);
    assert.equal(es.state, 'closed');
});

test('SseqSource: 403 without a fresh token, or 404, stops for good',
    async () => {
        for (const code of [403, 404]) {
            const s = await server([status(code)]);
            const es = new sseq.SseqSource(`${s.base}/events?channel=c`,
                { share: false, retryMin: 10, retryMax: 20,
                  refreshToken: () => null });
            const errs = [];
            es.onerror = (e) => errs.push([e.status, e.fatal]);
            try {
                await until(() => es.state === 'closed', `closed on ${code}`);
                await new Promise((r) => setTimeout(r, 100));
                assert.deepEqual(errs, [[code, true]],
                    `one error event for ${code}`);
                assert.equal(s.reqs.length, 1, 'no retry');
            } finally {
                es.close();
                s.stop();
            }
        }
    });

test('SseqSource: two sources of one URL share a connection ' +
    '(BroadcastChannel election); the other resumes when the leader ' +
    'closes', async () => {
    let n = 0;
    const s = await server([(req, res) => {
        n++;
        res.writeHead(200, { 'Content-Type': 'text/event-stream' });
        res.write('id: 10\ndata: x\n\n');
        s.live = res;
    }]);
    const url = `${s.base}/events?channel=shared${process.pid}`;
    const a = new sseq.SseqSource(url, { retryMin: 20 });
    const b = new sseq.SseqSource(url, { retryMin: 20 });
    const got = { a: [], b: [] };
    a.onmessage = (e) => got.a.push(e.lastEventId);
    b.onmessage = (e) => got.b.push(e.lastEventId);
    try {
        await until(() => got.a.length && got.b.length, 'both see id 10');
        assert.equal(n, 1, 'one connection');
        assert.equal([a, b].filter((x) => x.leader).length, 1, 'one leads');
        const [leader, other] = a.leader ? [a, b] : [b, a];
        s.live.write('id: 11\ndata: y\n\n');
        await until(() => got.a.length === 2 && got.b.length === 2, 'id 11');
        leader.close();
        await until(() => other.leader && s.reqs.length === 2,
            'the other leads');
        assert.equal(s.base + s.reqs[1].url,
            `${url}&tag=channel&last_event_id=11`);
        s.live.write('id: 12\ndata: z\n\n');
        await until(() => (a === other ? got.a : got.b).length === 3,
            'id 12');
        assert.deepEqual(a === other ? got.a : got.b, ['10', '11', '12']);
    } finally {
        a.close();
        b.close();
        s.stop();
    }
});

test('SseqSource: two sources of different channels share one ' +
    'connection of their union; each delivers its own channels; the ' +
    'union follows the tabs', async () => {
    const s = await server([(req, res) => {
        res.writeHead(200, { 'Content-Type': 'text/event-stream',
                             'Last-Event-ID': '4' });
        res.flushHeaders();
        s.live = res;
    }]);
    const [ca, cb] = [`ua${process.pid}`, `ub${process.pid}`];
    const a = new sseq.SseqSource(`${s.base}/events?channel=${ca}`,
        { retryMin: 20 });
    const got = { a: [], b: [] };
    let b;
    a.onmessage = (e) => got.a.push(e.lastEventId);
    try {
        await until(() => a.leader && a.state === 'open', 'a leads');
        assert.equal(s.reqs[0].url, `/events?channel=${ca}&tag=channel`);
        b = new sseq.SseqSource(`${s.base}/events?channel=${cb}`,
            { retryMin: 20 });
        b.onmessage = (e) => got.b.push(e.lastEventId);
        await until(() => s.reqs.length === 2, 'the union connection');
        assert.equal(s.reqs[1].url, `/events?channel=${ca}%2C${cb}&` +
            'tag=channel&last_event_id=4', 'resumes from where the ' +
            'first stream started (its Last-Event-ID): nothing came yet');
        assert.ok(a.leader && !b.leader, 'a still leads');
        await until(() => a.state === 'open', 'a open again');
        s.live.write(`id: 5\nchannel: ${ca}\ndata: x\n\n` +
            `id: 6\nchannel: ${cb}\ndata: y\n\n` +
            `id: 7\nchannel: ${ca}\ndata: z\n\n` +
            `id: 8\nchannel: uc\nchannel: ${ca}\ndata: w\n\n` +
            'id: 9\nchannel: uc\ndata: none\n\n');
        await until(() => got.a.length === 3 && got.b.length === 1,
            'ids 5 to 9');
        a.close();
        await until(() => b.leader && s.reqs.length === 3, 'b leads');
        assert.equal(s.reqs[2].url,
            `/events?channel=${cb}&tag=channel&last_event_id=9`);
        s.live.write(`id: 10\nchannel: ${cb}\ndata: v\n\n`);
        await until(() => got.b.length === 2, 'id 10');
        assert.deepEqual(got, { a: ['5', '7', '8'], b: ['6', '10'] });
        assert.equal(s.reqs.length, 3, 'one connection at a time');
    } finally {
        a.close();
        if (b)
            b.close();
        s.stop();
    }
});

test('SseqSource: a heartbeat sent before a tab\'s bye does not bring ' +
    'its channels back into the union', async () => {
    const s = await server([(req, res) => {
        res.writeHead(200, { 'Content-Type': 'text/event-stream',
                             'Last-Event-ID': '4' });
        res.flushHeaders();
    }]);
    const [ca, cb, gone] = ['ga', 'gb', 'gz'].map((c) => c + process.pid);
    const a = new sseq.SseqSource(`${s.base}/events?channel=${ca}`,
        { retryMin: 20 });
    let b;
    try {
        await until(() => a.leader && a.state === 'open', 'a leads');
        b = new sseq.SseqSource(`${s.base}/events?channel=${cb}`,
            { retryMin: 20 });
        await until(() => s.reqs.length === 2, 'the union connection');
        // What b may hear in this order: the leaving tab's bye, then a
        // heartbeat the leader sent before it heard that bye.
        b._onShared({ t: 'bye', from: 'tab-x' });
        b._onShared({ t: 'hb', ep: a._epoch, state: 'open', status: 200,
                      subs: [...a._subs, ['tab-x', [gone]]] });
        a.close();
        await until(() => b.leader && s.reqs.length === 3, 'b leads');
        assert.match(s.reqs[2].url, new RegExp(`^/events\\?channel=${cb}&`),
            'the tab that left is not in the new leader\'s union');
    } finally {
        a.close();
        if (b)
            b.close();
        s.stop();
    }
});
