// tests/browser/hub.test.mjs -- sseq.js on the Mercure hub in a real
// Chromium: two tabs subscribe with SseqSource(mercureUrl(...)) and share
// one stream; updates POSTed to the hub (a publisher JWT minted by
// python3-jwt) reach both; sseq-stream restarts twice while updates are
// POSTed and both tabs resume (lastEventID=) with nothing lost or
// doubled. A stack of its own (scripts/stack.sh with a Mercure key).
// Nothing asserts on timing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { freePort, BUILD, OUT, WAIT, launch, stack, openStreams, until,
    mintJwt } from './lib.mjs';

const SECRET = 'browser-hub-key-7c1e9a3f5d2b8e4a6c0f1d3b5e7a9c2d';
const TOPIC = `https://example.com/hub-test/${process.pid}`;

const dir = path.join(OUT, 'stack-hub');
let base, browser, context, token;
const tabs = [];
const errors = [];                      // uncaught errors of any page
const sent = [];                        // data POSTed, in order

// POSTs an update with data to the hub; 200 and its id expected.
async function hubPost(data) {
    const res = await fetch(`${base}/.well-known/mercure`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`,
                   'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ topic: TOPIC, data }).toString(),
    });
    assert.equal(res.status, 200, `POST "${data}": ${res.status}`);
    sent.push(data);
    return res.text();
}

// Opens a tab subscribed to TOPIC with SseqSource; it logs messages and
// states in window.log.
async function openTab() {
    const page = await context.newPage();
    page.setDefaultTimeout(WAIT);
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    await page.goto(`${base}/`);
    await page.evaluate(async (topic) => {
        const { SseqSource, mercureUrl } = await import('/sseq.js');
        const log = window.log = { data: [], states: [] };
        const es = window.es = new SseqSource(mercureUrl([topic]));
        es.onmessage = (e) => log.data.push(e.data);
        es.onstatechange = (e) => log.states.push(e.state);
    }, TOPIC);
    await page.waitForFunction(() => window.es.state === 'open');
    tabs.push(page);
    return page;
}

// Checks that every tab shows sent, in order, once.
async function assertTabs(why) {
    for (const [i, p] of tabs.entries()) {
        await p.waitForFunction((n) => window.log.data.length >= n,
            sent.length).catch(() => {});
        assert.deepEqual(await p.evaluate(() => window.log.data), sent,
            `tab ${i}: ${why}`);
    }
}

before(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    await stack('start', dir, [String(port), BUILD],
        { SSEQ_STACK_JWT_KEY: SECRET });
    const claims = { mercure: { publish: ['*'] },
        exp: Math.floor(Date.now() / 1000) + 3600 };
    token = await mintJwt(claims, SECRET);
    browser = await launch();
    context = await browser.newContext();
});

after(async () => {
    if (browser)
        await browser.close();
    await stack('stop', dir);
});

test('two tabs on the hub share one stream; POSTed updates reach both',
    async () => {
        await openTab();
        await openTab();
        await until(async () => (await openStreams(dir)) === 1,
            'one hub stream for the two tabs');
        for (let i = 0; i < 10; i++)
            await hubPost(`u ${i}`);
        await assertTabs('the 10 updates');
    });

test('sseq-stream restarts twice while updates are POSTed: both tabs ' +
    'resume, nothing lost or doubled', async () => {
    let posting = true;
    const poster = (async () => {
        for (let i = 0; posting; i++) {
            await hubPost(`r ${i}`);
            await new Promise((r) => setTimeout(r, 50));
        }
    })();
    try {
        for (let i = 0; i < 2; i++) {
            await new Promise((r) => setTimeout(r, 500));
            await stack('restart-stream', dir);
        }
        await new Promise((r) => setTimeout(r, 500));
    } finally {
        posting = false;
        await poster;
    }
    await assertTabs(`all ${sent.length} updates`);
    for (const [i, p] of tabs.entries()) {
        const states = await p.evaluate(() => window.log.states);
        assert.ok(states.includes('reconnecting'),
            `tab ${i} went to reconnecting (${states.join(', ')})`);
    }
    await until(async () => (await openStreams(dir)) === 1,
        'one hub stream again');
});

test('no page error', () => {
    assert.deepEqual(errors, []);
});
