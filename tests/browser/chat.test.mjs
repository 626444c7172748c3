// tests/browser/chat.test.mjs -- the chat room (www/) in a real Chromium
// against a running demo stack (nginx + sseq-stream + sseq-publish), the
// proof that the whole pipe works in a browser. Run by ./run, which
// starts the stack and sets:
//   SSEQ_BASE_URL     http://127.0.0.1:PORT
//   SSEQ_STACK_DIR    the stack's directory (sseq.conf, pid files)
//   SSEQ_BUILDDIR     the build (src/sseq)
//   SSEQ_TOP          the source tree (scripts/stack.sh)
//   SSEQ_BROWSER_OUT  where screenshots go
// The tests run in order and share two pages: A (desktop) and B (phone
// width), each in its own browser context. Waits have generous timeouts;
// nothing asserts on timing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { BASE, OUT, WAIT, launch, stack, cliPublish as publishTo,
    waitState, texts, waitText, send } from './lib.mjs';

const ROOM = `bt-${process.pid}`;
const CHANNEL = `chat.${ROOM}`;
const MAX_MESSAGE_SIZE = 65536;         // the stack's default

let browser;
const pages = {};                       // A, B -> { page, errors }

// Opens a page in a fresh context (its own storage) and records what
// would mean a broken page: uncaught errors, dialogs.
async function openPage(name, viewport) {
    const context = await browser.newContext({ viewport });
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('dialog', (d) => {
        errors.push(`dialog: ${d.message()}`);
        d.dismiss().catch(() => {});
    });
    page.setDefaultTimeout(WAIT);
    pages[name] = { page, errors };
    return page;
}

// Joins ROOM as nick via the form (room prefilled from ?room=).
async function join(page, nick) {
    await page.goto(`${BASE}/?room=${ROOM}`);
    await page.fill('#nick', nick);
    await page.click('#join button[type=submit]');
    await waitState(page, 'connected');
}

// How often the page shows a message with text t.
async function count(page, t) {
    return (await texts(page)).filter((x) => x === t).length;
}

// Publishes data into the room with the sseq CLI (no HTTP).
function cliPublish(data) {
    return publishTo(CHANNEL, data);
}

// Publishes a marker with the CLI and waits for it on every page given:
// whatever the stream sent before it has then arrived.
async function sync(...list) {
    const marker = `sync ${Date.now()} ${Math.random()}`;
    await cliPublish(marker);
    for (const p of list)
        await waitText(p, marker);
}

before(async () => {
    browser = await launch();
    await openPage('A', { width: 1024, height: 720 });
    await openPage('B', { width: 375, height: 700 });
});

after(async () => {
    if (browser)
        await browser.close();
});

test('two pages join a room; a message typed in A appears in B', async () => {
    const { page: a } = pages.A;
    const { page: b } = pages.B;
    await join(a, 'alice');
    await join(b, 'bob');
    await send(a, 'hello from alice');
    await waitText(b, 'hello from alice');
    await waitText(a, 'hello from alice');
    assert.equal(await a.inputValue('#text'), '',
        'the input is cleared after a successful send');
    const nick = await b.textContent('#messages li.msg .nick');
    assert.equal(nick, 'alice', 'B shows the sender\'s nickname');
    assert.match(await b.textContent('#messages li.msg time'), /\d/,
        'B shows the message time');
});

test('B reloads and shows the history with the message once', async () => {
    const { page: b } = pages.B;
    await b.reload();
    await waitState(b, 'connected');
    await waitText(b, 'hello from alice');
    await sync(b);
    assert.equal(await count(b, 'hello from alice'), 1,
        'history shows the message exactly once');
    assert.equal(await b.evaluate(() => window.sseqChat.dupes), 0,
        'the server sent no duplicate');
});

test('sseq-stream restarts; what was published meanwhile shows once',
    async () => {
        const list = [pages.A.page, pages.B.page];
        const before = await Promise.all(list.map((p) =>
            p.evaluate(() => window.sseqChat.states.length)));
        await stack('stop-stream');
        // Each page has seen its stream end and a reconnect refused (502):
        // the browser has given up, and the page must retry by itself.
        for (const p of list)
            await p.waitForFunction(() => window.sseqChat.state !==
                'connected' && window.sseqChat.failures >= 2, null,
                { timeout: WAIT });
        const sent = ['while down 1', 'while down 2', 'while down 3'];
        for (const t of sent)
            await cliPublish(t);
        await stack('start-stream');
        for (const p of list) {
            for (const t of sent)
                await waitText(p, t);
            await waitState(p, 'connected');
        }
        await sync(...list);
        for (const [i, p] of list.entries()) {
            for (const t of [...sent, 'hello from alice'])
                assert.equal(await count(p, t), 1, `"${t}" shown once`);
            const states = await p.evaluate(() => window.sseqChat.states);
            const since = states.slice(before[i] - 1);
            assert.equal(since[0], 'connected', 'it was connected');
            assert.ok(since.includes('reconnecting'),
                `went to reconnecting (states: ${since.join(', ')})`);
            assert.equal(since[since.length - 1], 'connected',
                'and back to connected');
            assert.equal(await p.evaluate(() => window.sseqChat.dupes), 0,
                'the server sent no duplicate');
        }
    });

test('a network drop: offline, then what was missed shows once',
    async () => {
        const { page: b } = pages.B;
        await b.context().setOffline(true);
        await waitState(b, 'offline');
        await cliPublish('while offline');
        await b.context().setOffline(false);
        await waitText(b, 'while offline');
        await waitState(b, 'connected');
        await sync(b);
        assert.equal(await count(b, 'while offline'), 1, 'shown once');
        assert.equal(await b.evaluate(() => window.sseqChat.dupes), 0,
            'the server sent no duplicate');
    });

test('a message with HTML shows as text and runs no script', async () => {
    const { page: a } = pages.A;
    const { page: b } = pages.B;
    const evil = '<script>window.pwned = 1</script>' +
        '<img src="x" onerror="window.pwned = 2"><b>bold</b>';
    await send(a, evil);
    await waitText(b, evil);
    await waitText(a, evil);
    for (const p of [a, b]) {
        assert.equal(await p.evaluate(() => window.pwned), undefined,
            'no script ran');
        assert.equal(await p.$$eval('#messages img, #messages script, ' +
            '#messages b', (els) => els.length), 0, 'no element was made');
    }
});

test('a refused send shows the server\'s reason and keeps the text',
    async () => {
        const { page: a } = pages.A;
        const big = 'x'.repeat(MAX_MESSAGE_SIZE + 100);
        const res = await fetch(`${BASE}/publish/${CHANNEL}`, {
            method: 'POST', headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ data: { nick: 'alice', text: big } }),
        });
        assert.equal(res.status, 413, 'the server refuses it');
        const reason = (await res.text()).trim();
        assert.ok(reason.length > 0, 'with a reason');
        await send(a, big);
        await a.waitForSelector('#error:not([hidden])', { timeout: WAIT });
        const shown = await a.textContent('#error');
        const digitless = (t) => t.replace(/[0-9]+/g, 'N');
        assert.ok(shown.includes('413') &&
            digitless(shown).includes(digitless(reason)),
            `the page shows "413 ${reason}" (it shows "${shown}"; ` +
            'sizes may differ)');
        assert.equal(await a.inputValue('#text'), big,
            'the typed text is kept');
    });

test('no page error; screenshot of page B', async () => {
    const { page: b } = pages.B;
    await b.screenshot({ path: path.join(OUT, 'chat-b.png'),
        fullPage: true });
    await pages.A.page.screenshot({ path: path.join(OUT, 'chat-a.png') });
    for (const name of ['A', 'B'])
        assert.deepEqual(pages[name].errors, [], `page ${name} errors`);
});
