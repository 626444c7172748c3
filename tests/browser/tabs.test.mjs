// tests/browser/tabs.test.mjs -- sseq.js in real Chromium: 12 tabs of the
// chat room in one browser context (one profile) on plain HTTP/1.1, where
// the browser allows 6 connections per origin. They must share one
// stream, survive the leader tab closing or hanging and sseq-stream
// restarting, also without Web Locks, and honour a 503's Retry-After.
// Run by ./run after chat.test.mjs, on the same stack (see lib.mjs); the
// 503 test starts a second, small stack.
// The tests run in order and share the tabs. Waits have generous
// timeouts; the only time asserted is a lower bound (Retry-After).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import http from 'node:http';
import { freePort, BASE, BUILD, OUT, WAIT, launch, stack, cliPublish, openStreams,
    until, waitState, texts, waitText, send } from './lib.mjs';

const ROOM = `tabs-${process.pid}`;
const CHANNEL = `chat.${ROOM}`;
const TABS = 12;

let browser;
let context;
let tabs = [];                          // the open chat tabs
const errors = [];                      // uncaught errors of any tab

// Opens one more tab of chat room (in context ctx) and adds it to list.
async function openTab(ctx = context, room = ROOM, list = tabs) {
    const page = await ctx.newPage();
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.setDefaultTimeout(WAIT);
    await page.goto(`${BASE}/?room=${room}`);
    list.push(page);
    return page;
}

// The tabs of list (default: all) that lead (hold the room's stream).
async function leaders(list = tabs) {
    const flags = await Promise.all(list.map((p) => p.evaluate(() =>
        !!(window.sseqChat.source && window.sseqChat.source.leader))));
    return list.filter((p, i) => flags[i]);
}

// Publishes data into the room (or channel) over HTTP, as the chat does.
async function httpPublish(text, channel = CHANNEL) {
    const res = await fetch(`${BASE}/publish/${channel}`, {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ data: { nick: 'pub', text } }),
    });
    assert.equal(res.status, 202, `publish "${text}": ${res.status}`);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Makes each tab of pages note (in window.ledAt) when it starts to lead.
async function noteLead(pages) {
    for (const p of pages)
        await p.evaluate(() => {
            const t = setInterval(() => {
                if (window.sseqChat.source.leader) {
                    window.ledAt = Date.now();
                    clearInterval(t);
                }
            }, 10);
        });
}

// The first time one of pages noted it leads (ms since the epoch).
async function ledAt(pages) {
    return Math.min(...await Promise.all(pages.map((p) =>
        p.evaluate(() => window.ledAt || Infinity))));
}

// Checks that every tab (of pages) shows the texts of list, in order,
// each once, among the messages whose text matches re.
async function assertAll(list, re, why, pages = tabs) {
    const last = list[list.length - 1];
    for (const [i, p] of pages.entries()) {
        await waitText(p, last);
        const got = (await texts(p)).filter((t) => re.test(t));
        assert.deepEqual(got, list, `tab ${i}: ${why}`);
        assert.equal(await p.evaluate(() => window.sseqChat.dupes), 0,
            `tab ${i}: no duplicate reached the page`);
    }
}

before(async () => {
    browser = await launch();
    context = await browser.newContext();
});

after(async () => {
    if (browser)
        await browser.close();
});

test(`${TABS} tabs share one stream; a message from any tab reaches all`,
    async () => {
        await until(async () => (await openStreams()) === 0,
            'no stream left from earlier tests');
        const first = await openTab();
        await first.fill('#nick', 'tabs');
        await first.click('#join button[type=submit]');
        await waitState(first, 'connected');
        for (let i = 1; i < TABS; i++)
            await openTab();        // the nickname is stored: joins at once
        for (const p of tabs)
            await waitState(p, 'connected');
        assert.equal((await leaders()).length, 1, 'one tab leads');
        await until(async () => (await openStreams()) === 1,
            'the stream of the leading tab');
        const sent = tabs.map((p, i) => `from tab ${i}`);
        await Promise.all(tabs.map((p, i) => send(p, sent[i])));
        for (const p of tabs)         // the input clears once the POST is done
            await p.waitForFunction(() =>
                document.getElementById('text').value === '');
        for (const [i, p] of tabs.entries()) {
            for (const t of sent)
                await waitText(p, t);
            const got = (await texts(p)).filter((t) => sent.includes(t));
            assert.equal(got.length, TABS, `tab ${i} shows each once`);
        }
        assert.equal(await openStreams(), 1, `one /events stream for ` +
            `${TABS} tabs (sseq stats)`);
    });

test('the leading tab closes while 100 messages are published: every ' +
    'other tab shows all 100, in order, once', async () => {
    const [leader] = await leaders();
    const list = Array.from({ length: 100 }, (x, i) => `m ${i}`);
    let closed, t0;
    await noteLead(tabs.filter((p) => p !== leader));
    for (const [i, t] of list.entries()) {
        if (i === 30) {
            tabs = tabs.filter((p) => p !== leader);
            t0 = Date.now();
            closed = leader.close();
        }
        await httpPublish(t);
        await sleep(5);
    }
    await closed;
    await assertAll(list, /^m \d+$/, 'all 100 in order, once');
    assert.equal((await leaders()).length, 1, 'another tab leads');
    console.log('# a follower took the lead ' +
        `${await ledAt(tabs) - t0} ms after the leader's tab closed`);
    await until(async () => (await openStreams()) === 1,
        'one stream again');
});

// A frozen tab is one whose main thread runs nothing: a busy loop of 6 s
// (Chromium does not freeze a page that holds a Web Lock, even when
// DevTools asks).
test('the leading tab freezes for 6 s while messages are published: ' +
    'another leads; after it thaws every tab shows each message once, ' +
    'in order', async () => {
        const [frozen] = await leaders();
        const others = tabs.filter((p) => p !== frozen);
        const list = Array.from({ length: 60 }, (x, i) => `f ${i}`);
        await noteLead(others);
        const t0 = await frozen.evaluate(() => Date.now());
        const hang = frozen.evaluate(() => {
            const end = Date.now() + 6000;
            while (Date.now() < end)
                ;
        });
        const watch = until(async () =>
            (await leaders(others)).length === 1, 'a new leader');
        for (const t of list.slice(0, 40)) {
            await httpPublish(t);
            await sleep(20);
        }
        await watch;
        console.log('# a follower took the lead ' +
            `${await ledAt(others) - t0} ms after the leader froze`);
        for (const t of list.slice(40))
            await httpPublish(t);
        await hang;
        await assertAll(list, /^f \d+$/, 'all 60 in order, once');
        assert.equal((await leaders()).length, 1, 'one tab leads');
        await until(async () => (await openStreams()) === 1,
            'one stream again');
    });

test('sseq-stream restarts 3 times and answers 502 for 2 s: every tab ' +
    'resumes, nothing lost or doubled', async () => {
    const mark = await Promise.all(tabs.map((p) =>
        p.evaluate(() => window.sseqChat.states.length)));
    const list = [];
    let publishing = true;
    const publisher = (async () => {
        while (publishing) {
            list.push(`p ${list.length}`);
            await httpPublish(list[list.length - 1]);
            await sleep(50);
        }
    })();
    try {
        for (let i = 0; i < 3; i++) {
            await sleep(500);
            await stack('restart-stream');
        }
        await sleep(500);
        await stack('stop-stream');
        const res = await fetch(`${BASE}/events?channel=${CHANNEL}`);
        assert.equal(res.status, 502, 'nginx answers 502 meanwhile');
        await sleep(2000);
        await stack('start-stream');
        await sleep(500);
    } finally {
        publishing = false;
        await publisher;
    }
    await assertAll(list, /^p \d+$/, `all ${list.length} in order, once`);
    for (const [i, p] of tabs.entries()) {
        await waitState(p, 'connected');
        const states = (await p.evaluate(() => window.sseqChat.states))
            .slice(mark[i]);
        assert.ok(states.includes('reconnecting'),
            `tab ${i} went to reconnecting (${states.join(', ')})`);
    }
    await until(async () => (await openStreams()) === 1,
        'one stream again');
});

test('without Web Locks (plain HTTP off localhost): 4 tabs elect a ' +
    'leader over BroadcastChannel; it closes mid-publish, nothing lost or ' +
    'doubled', async () => {
    const room = `${ROOM}-nolocks`;
    const ctx = await browser.newContext();
    const list = [];
    await ctx.addInitScript(() => Object.defineProperty(
        Navigator.prototype, 'locks', { get: () => undefined }));
    const first = await openTab(ctx, room, list);
    await first.fill('#nick', 'nolocks');
    await first.click('#join button[type=submit]');
    for (let i = 1; i < 4; i++)
        await openTab(ctx, room, list);
    for (const p of list)
        await waitState(p, 'connected');
    assert.equal(await first.evaluate(() => navigator.locks), undefined);
    const [leader] = await until(async () => {
        const l = await leaders(list);
        return l.length === 1 && l;
    }, 'one leader of the 4 tabs');
    await until(async () => (await openStreams()) === 2,
        'one stream for the 4 tabs (and one for the other tabs)');
    const sent = Array.from({ length: 40 }, (x, i) => `n ${i}`);
    for (const [i, t] of sent.entries()) {
        if (i === 10) {
            list.splice(list.indexOf(leader), 1);
            await leader.close();
        }
        await httpPublish(t, `chat.${room}`);
        await sleep(20);
    }
    await assertAll(sent, /^n \d+$/, 'all 40 in order, once', list);
    assert.equal((await leaders(list)).length, 1, 'another tab leads');
    await ctx.close();
});

test('no page error', () => {
    assert.deepEqual(errors, []);
});

// Opens a stream of url on its own connection (no keep-alive pool) and
// resolves to { status, headers, close } once the head arrived; close()
// destroys the socket, so nginx sees the client leave and frees the
// stream. (An aborted fetch() left undici's connection open.)
function openHeld(url) {
    return new Promise((resolve, reject) => {
        const req = http.get(url, { agent: false }, (res) => {
            res.resume();
            resolve({ status: res.statusCode, headers: res.headers,
                      close: () => req.destroy() });
        });
        req.on('error', reject);
    });
}

test('a 503 with Retry-After: 2 is honoured (sseq-classic.js in a plain ' +
    '<script>)', async (t) => {
    // One sseq-stream that takes one stream, retry 2000 ms: Retry-After 2.
    const dir = path.join(OUT, 'stack503');
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const url = '/events?channel=hold.test';
    await stack('start', dir, [String(port), BUILD], {
        SSEQ_STACK_STREAM_PROCS: '1', SSEQ_STACK_MAX_SUBSCRIBERS: '1',
        SSEQ_STACK_RETRY: '2000', SSEQ_STACK_OPEN_CHANNELS: '' });
    t.after(() => stack('stop', dir));
    const holder = await openHeld(base + url);
    t.after(() => holder.close());
    assert.equal(holder.status, 200, 'the one stream is taken');
    const full = await openHeld(base + url);
    full.close();
    assert.equal(full.status, 503, 'a second stream is refused');
    assert.equal(full.headers['retry-after'], '2', 'with Retry-After');

    const page = await context.newPage();
    page.setDefaultTimeout(WAIT);
    // The stack serves the source tree's www/; the build made this file.
    await page.route(`${base}/sseq-classic.js`, (r) => r.fulfill({
        path: path.join(BUILD, 'www', 'sseq-classic.js'),
        contentType: 'text/javascript' }));
    await page.goto(`${base}/`);
    await page.addScriptTag({ url: '/sseq-classic.js' });
    await page.evaluate((u) => {
        const log = window.log = { fetches: [], errors: [], data: [] };
        const f = window.fetch;
        window.fetch = (...a) => {
            log.fetches.push(performance.now());
            return f(...a);
        };
        const es = window.es = new window.sseq.SseqSource(u);
        es.onerror = (e) => log.errors.push({ status: e.status,
                                              retryIn: e.retryIn });
        es.onmessage = (e) => log.data.push(e.data);
    }, url);
    await page.waitForFunction(() => window.log.fetches.length >= 3);
    // The slot is free once nginx saw the client leave: the page's next
    // attempt (Retry-After later) opens.
    holder.close();
    await page.waitForFunction(() => window.es.state === 'open');
    await cliPublish('hold.test', 'after the 503s', dir);
    await page.waitForFunction(() => window.log.data.length === 1);
    const log = await page.evaluate(() => window.log);
    const refused = log.errors.filter((e) => e.status === 503);
    assert.ok(refused.length >= 2, `503s seen: ${JSON.stringify(log)}`);
    for (const e of refused)
        assert.ok(e.retryIn >= 2000, `retry in ${e.retryIn} ms`);
    for (let i = 1; i < refused.length + 1; i++) {
        const gap = log.fetches[i] - log.fetches[i - 1];
        assert.ok(gap >= 1995, `attempt ${i} came ${gap} ms after the ` +
            'one before: Retry-After says 2 s');
    }
    assert.deepEqual(log.data, ['after the 503s']);
    await page.close();
});
