// tests/browser/presence.test.mjs -- who is online in the chat room
// (www/chat.js on the hub's active subscriptions, mercure.subscriptions
// on in the demo stack) in a real Chromium: one browser with 5 tabs of
// the room counts once (sseq.js shares the presence stream), another
// browser is seen by all, a late one gets the list from the subscription
// API, and tabs closing take their browser off the list. The page's
// list and the subscription API (what the hub sees) must agree. Run by
// ./run; starts a stack of its own in out/stack-presence, as the demo
// runs it (the JWT key set, mercure.subscriptions on, the presence token
// served). Waits have generous timeouts; nothing asserts on timing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { freePort, BUILD, OUT, WAIT, launch, stack, until, waitState } from './lib.mjs';

const SECRET = 'browser-presence-key-4e8a1c6f2b9d3e7a5c0f8b2d6e4a1c9f';
const dir = path.join(OUT, 'stack-presence');
let BASE;

const ROOM = `pr-${process.pid}`;
const PREFIX = `chat.${ROOM}.who.`;
const TABS = 5;

let browser;
const contexts = {};                    // nick -> browser context
const tabs = {};                        // nick -> its open pages
const errors = [];                      // uncaught errors of any tab

before(async () => {
    const port = await freePort();
    BASE = `http://127.0.0.1:${port}`;
    await stack('start', dir, [String(port), BUILD],
        { SSEQ_STACK_JWT_KEY: SECRET, SSEQ_STACK_SUBSCRIPTIONS: 'true' });
    browser = await launch();
});

after(async () => {
    await browser?.close();
    await stack('stop', dir);
});

// Opens one more tab of the room in nick's browser (context); the first
// joins through the form, the others join by themselves (the nickname
// is remembered).
async function openTab(nick) {
    contexts[nick] ??= await browser.newContext();
    const page = await contexts[nick].newPage();
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.setDefaultTimeout(WAIT);
    await page.goto(`${BASE}/?room=${ROOM}`);
    if (await page.isVisible('#join')) {
        await page.fill('#nick', nick);
        await page.click('#join button[type=submit]');
    }
    await waitState(page, 'connected');
    (tabs[nick] ??= []).push(page);
    return page;
}

// Waits until page lists exactly want (sorted nicknames) as online.
function waitOnline(page, want) {
    return page.waitForFunction((w) =>
        JSON.stringify(window.sseqChat.online) === w &&
        document.getElementById('online-count').textContent ===
            String(JSON.parse(w).length), JSON.stringify(want),
        { timeout: WAIT });
}

// The nicknames of the room's subscriptions, as the subscription API
// answers them with the page's own presence token.
async function apiOnline() {
    const token = await (await fetch(`${BASE}/chat/presence-token`)).text();
    const res = await fetch(`${BASE}/.well-known/mercure/subscriptions`,
        { headers: { Authorization: `Bearer ${token.trim()}` } });
    assert.equal(res.status, 200, 'the subscription API answers');
    const doc = await res.json();
    return doc.subscriptions.filter((s) => s.topic.startsWith(PREFIX))
        .map((s) => s.topic.slice(PREFIX.length)).sort();
}

// Waits until the API lists want.
function waitApi(want) {
    return until(async () => JSON.stringify(await apiOnline()) ===
        JSON.stringify(want), `the API listing ${want}`);
}

function all() {
    return Object.values(tabs).flat();
}

test('5 tabs of one browser count once', async () => {
    for (let i = 0; i < TABS; i++)
        await openTab('ada');
    await openTab('bob');
    for (const p of all())
        await waitOnline(p, ['ada', 'bob']);
    await waitApi(['ada', 'bob']);
    await tabs.ada[0].screenshot({ path: path.join(OUT, 'presence.png') });
});

test('a browser joining later sees who is there', async () => {
    const cy = await openTab('cy');
    await waitOnline(cy, ['ada', 'bob', 'cy']);
    for (const p of all())
        await waitOnline(p, ['ada', 'bob', 'cy']);
});

test('closing every tab of a browser takes it off the list', async () => {
    while (tabs.ada.length > 1)
        await tabs.ada.pop().close();
    for (const p of all())
        await waitOnline(p, ['ada', 'bob', 'cy']);
    await tabs.ada.pop().close();
    for (const p of all())
        await waitOnline(p, ['bob', 'cy']);
    await waitApi(['bob', 'cy']);
    await tabs.cy.pop().close();
    await waitOnline(tabs.bob[0], ['bob']);
    await tabs.bob.pop().close();
    await waitApi([]);
    assert.deepEqual(errors, [], 'no page had an uncaught error');
});
