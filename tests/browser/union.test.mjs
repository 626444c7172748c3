// tests/browser/union.test.mjs -- sseq.js in real Chromium: 6 tabs of one
// browser context on 3 different channel sets share one /events stream
// that carries the union of their channels (tag=channel); each tab shows
// exactly its own channels' messages, in order, once. Then the leading
// tab closes while messages are published (nothing lost or doubled in
// the other 5), and the two tabs of one set close (the union shrinks to
// what is left). Run by ./run on the demo stack (see lib.mjs), after
// tabs.test.mjs. The page is a blank one of the stack's origin that
// imports /sseq.js (the stack serves www/).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, WAIT, launch, cliPublish, openStreams, until }
    from './lib.mjs';

const P = `u${process.pid}`;
const [A, B, C, D] = ['a', 'b', 'c', 'd'].map((x) => `${P}.${x}`);
const SETS = [[A], [B, C], [A, C], [A], [B, C], [A, C]];   // per tab
const PAGE = `${BASE}/union-test.html`;

let browser;
let context;
let tabs = [];                          // { page, set }
const errors = [];                      // uncaught errors of any tab
const sent = [];                        // [channel, data] in order

// Opens a tab whose SseqSource subscribes to the channels of set; it
// records "data" of each message in window.got.
async function openTab(set) {
    const page = await context.newPage();
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.setDefaultTimeout(WAIT);
    await page.goto(PAGE);
    await page.evaluate(async (chans) => {
        const { SseqSource, eventsUrl } = await import('/sseq.js');
        window.got = [];
        window.es = new SseqSource(eventsUrl(chans));
        window.es.onmessage = (e) => window.got.push(e.data);
    }, set);
    tabs.push({ page, set });
}

// What the tab of tab.page knows: leads, state, its connection's union.
function info(tab) {
    return tab.page.evaluate(() => ({ leader: window.es.leader,
        state: window.es.state, union: window.es._connKey }));
}

// Waits until one tab leads, all are open and the leader's connection
// carries the union of the tabs' sets, on one stream; returns the leader.
async function settled() {
    const want = [...new Set(tabs.flatMap((t) => t.set))].sort().join();
    return until(async () => {
        const all = await Promise.all(tabs.map(info));
        const lead = all.filter((x) => x.leader);
        if (lead.length !== 1 || lead[0].union !== want ||
            all.some((x) => x.state !== 'open') ||
            (await openStreams()) !== 1)
            return false;
        return tabs[all.indexOf(lead[0])];
    }, `one leader on the union ${want}, every tab open, one stream`);
}

// Publishes n messages round-robin into channels (sseq CLI); calls
// at(i) before message i.
async function publish(n, channels, tag, at = () => {}) {
    for (let i = 0; i < n; i++) {
        const ch = channels[i % channels.length];
        await at(i);
        sent.push([ch, `${tag} ${i} ${ch}`]);
        await cliPublish(ch, sent[sent.length - 1][1]);
    }
}

// Checks that every open tab shows exactly the messages of sent (those
// whose data matches re) of its channels, in order, once.
async function assertTabs(re, why) {
    for (const [i, t] of tabs.entries()) {
        const want = sent.filter(([ch, d]) => t.set.includes(ch) &&
            re.test(d)).map(([, d]) => d);
        await t.page.waitForFunction((n) => window.got.length >= n,
            want.length).catch(() => {});
        const got = (await t.page.evaluate(() => window.got))
            .filter((d) => re.test(d));
        assert.deepEqual(got, want, `tab ${i} (${t.set}): ${why}`);
    }
}

before(async () => {
    browser = await launch();
    context = await browser.newContext();
    await context.route(PAGE, (r) => r.fulfill({ contentType: 'text/html',
        body: '<!doctype html><title>union</title>' }));
});

after(async () => {
    if (browser)
        await browser.close();
});

test('6 tabs on 3 channel sets share one stream of the union; each ' +
    'shows its channels only, in order, once', async () => {
    await until(async () => (await openStreams()) === 0,
        'no stream left from earlier tests');
    for (const set of SETS)
        await openTab(set);
    await settled();
    await publish(30, [A, B, C, D], 'm');
    await assertTabs(/^m /, 'its channels\' 30 messages');
    assert.equal(await openStreams(), 1, 'one /events stream for 6 tabs ' +
        '(sseq stats)');
});

test('the leading tab closes while 60 messages are published: the ' +
    'other 5 show theirs, in order, once', async () => {
    const lead = await settled();
    tabs = tabs.filter((t) => t !== lead);
    let closed;
    await publish(60, [A, B, C], 'h', (i) => {
        if (i === 20)
            closed = lead.page.close();
        return new Promise((r) => setTimeout(r, 5));
    });
    await closed;
    await assertTabs(/^h /, 'all of its channels\' messages');
    await settled();
});

test('the tabs of one set close: the union shrinks, the others still ' +
    'get theirs', async () => {
    const gone = tabs.filter((t) => t.set.includes(B));
    tabs = tabs.filter((t) => !gone.includes(t));
    for (const t of gone)
        await t.page.close();
    const lead = await settled();
    assert.equal((await info(lead)).union, [A, C].sort().join(),
        'B left the union');
    await publish(12, [A, B, C], 's');
    await assertTabs(/^s /, 'its channels\' messages after the shrink');
});

test('no page error', () => {
    assert.deepEqual(errors, []);
});
