// tests/browser/private.test.mjs -- Mercure private updates in a real
// Chromium: plain EventSource pages on the hub (/.well-known/mercure),
// authorized by the mercureAuthorization cookie, against a stack of its
// own (a subscriber key in its sseq.conf). A page whose cookie's token
// may receive topic A gets A's private update and never B's; a page
// without a cookie gets neither; a page whose token expires is cut off
// by sseq-stream, is refused (401) on its automatic reconnect, and
// connects again with a new cookie. Tokens are minted by python3-jwt
// (Debian's /usr/bin/python3). Nothing asserts on timing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { freePort, BUILD, OUT, WAIT, launch, stack, run, mintJwt }
    from './lib.mjs';

const SECRET = 'browser-sub-key-4e9d1c7a2b6f8e0d3c5a7b9e1f2d4c6a';
const TOPIC_A = 'https://example.com/private/a';
const TOPIC_B = 'https://example.com/private/b';
const HUB = '/.well-known/mercure?topic=' +
    encodeURIComponent('https://example.com/private/{x}');

const dir = path.join(OUT, 'stack-private');
let base, browser;
const errors = [];                      // uncaught errors of any page

// A token for mercure.subscribe = topics, expiring in expIn seconds.
async function mint(topics, expIn = 3600) {
    const claims = { mercure: { subscribe: topics },
        exp: Math.floor(Date.now() / 1000) + expIn };
    return mintJwt(claims, SECRET);
}

// Publishes with the sseq CLI of the test's stack (Mercure options).
async function publish(topic, data, opts = []) {
    await run(path.join(BUILD, 'src', 'sseq'),
        ['-c', path.join(dir, 'sseq.conf'), 'publish', ...opts, topic,
         data]);
}

// A page of the stack in a fresh context, with the cookie token if given
// (a function: called once the page is loaded, just before it connects,
// so that a short-lived token's time is not spent loading the page);
// it subscribes with EventSource and logs what happens in window.log.
// When the stream is refused for good (an expired cookie), it asks the
// test for a new token (window.newToken), sets the cookie and connects
// again.
async function openPage(token) {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(WAIT);
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    await page.exposeFunction('newToken', () => mint([TOPIC_A]));
    await page.goto(`${base}/`);
    if (typeof token === 'function')
        token = await token();
    if (token)
        await context.addCookies([{ name: 'mercureAuthorization',
            value: token, url: base }]);
    await page.evaluate((hub) => {
        const log = window.log = { data: [], opens: 0, errors: 0,
                                   refused: 0 };
        window.connect = () => {
            const es = window.es = new EventSource(hub);
            es.onopen = () => log.opens++;
            es.onmessage = (e) => log.data.push(e.data);
            es.onerror = async () => {
                log.errors++;
                if (es.readyState !== EventSource.CLOSED)
                    return;
                log.refused++;
                const tok = await window.newToken();
                document.cookie = `mercureAuthorization=${tok}; path=/`;
                window.connect();
            };
        };
        window.connect();
    }, HUB);
    await page.waitForFunction(() => window.log.opens >= 1);
    return page;
}

// Publishes a public marker and waits until every page has it.
async function sync(pages) {
    const marker = `sync ${Date.now()} ${Math.random()}`;
    await publish(TOPIC_A, marker);
    for (const p of pages)
        await p.waitForFunction((m) => window.log.data.includes(m), marker);
    return marker;
}

before(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    await stack('start', dir, [String(port), BUILD], {
        SSEQ_STACK_CONF_EXTRA:
            `mercure = { subscriber_jwt_key = "${SECRET}"; };` });
    browser = await launch();
});

after(async () => {
    if (browser)
        await browser.close();
    await stack('stop', dir);
});

test('a cookie for topic A gets A\'s private update, never B\'s; an ' +
    'anonymous page gets neither', async () => {
    const a = await openPage(await mint([TOPIC_A]));
    const anon = await openPage(null);
    await publish(TOPIC_A, 'private A', ['--private']);
    await publish(TOPIC_B, 'private B', ['--private']);
    await publish(TOPIC_B, 'public B');
    const marker = await sync([a, anon]);
    assert.deepEqual(await a.evaluate(() => window.log.data),
        ['private A', 'public B', marker]);
    assert.deepEqual(await anon.evaluate(() => window.log.data),
        ['public B', marker]);
});

test('an expiring token cuts the stream; the page reconnects with a new ' +
    'cookie', async () => {
    const page = await openPage(() => mint([TOPIC_A], 6));
    assert.equal(await page.evaluate(() => window.log.refused), 0,
        'the first stream opened before its token expired');
    await publish(TOPIC_A, 'before', ['--private']);
    await page.waitForFunction(() => window.log.data.includes('before'));
    // sseq-stream ends the stream at exp; the browser's own reconnect
    // still carries the expired cookie and is refused; the page then
    // sets a new cookie and connects again.
    await page.waitForFunction(() => window.log.refused >= 1 &&
        window.log.opens >= 2);
    await publish(TOPIC_A, 'after', ['--private']);
    await page.waitForFunction(() => window.log.data.includes('after'));
    const log = await page.evaluate(() => window.log);
    assert.ok(log.errors >= 2, 'the cut and the refusal were seen');
    const { stdout } = await run('cat', [path.join(dir, 'stream.log')]);
    assert.match(stdout, /token expired, stream ended/);
    assert.match(stdout, /refused 401 .*expired/);
});

test('no page error', () => {
    assert.deepEqual(errors, []);
});
