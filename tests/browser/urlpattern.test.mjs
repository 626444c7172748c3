// tests/browser/urlpattern.test.mjs -- Mercure 1.0's match_urlpattern= in a
// real Chromium: a page opens the browser's own EventSource on
// /.well-known/mercure?match=...&match_urlpattern=...&match_urlpattern=...
// (an exact topic, an absolute URL pattern and a relative one, resolved
// against the hub's URL); updates POSTed to the hub (a publisher JWT
// minted by python3-jwt) on matching and non-matching topics: the page
// gets exactly the matching ones, in order. A stack of its own
// (scripts/stack.sh with a Mercure key). Nothing asserts on timing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { freePort, BUILD, OUT, WAIT, launch, stack, mintJwt }
    from './lib.mjs';

const SECRET = 'browser-urlpattern-key-3b9d1f7a5c2e8046b1d3f5a7c9e0b2d4';

const dir = path.join(OUT, 'stack-urlpattern');
let base, browser, token;

// POSTs an update on topic with data to the hub; 200 expected.
async function hubPost(topic, data) {
    const res = await fetch(`${base}/.well-known/mercure`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`,
                   'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ topic, data }).toString(),
    });
    assert.equal(res.status, 200, `POST ${topic}: ${res.status}`);
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
});

after(async () => {
    if (browser)
        await browser.close();
    await stack('stop', dir);
});

test('EventSource with match= and match_urlpattern= gets exactly the ' +
    'matching updates', async () => {
    const page = await browser.newPage();
    const errors = [];
    page.setDefaultTimeout(WAIT);
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${base}/`);
    await page.evaluate(() => {
        const u = new URL('/.well-known/mercure', location.href);
        u.searchParams.append('match', 'https://example.com/foo');
        u.searchParams.append('match_urlpattern',
            'https://example.com/books/:id(\\d+)');
        u.searchParams.append('match_urlpattern', '/rooms/:room/*');
        const log = window.log = [];
        const es = window.es = new EventSource(u);
        es.onmessage = (e) => log.push(e.data);
    });
    await page.waitForFunction(() => window.es.readyState === 1);
    const posts = [
        ['https://example.com/books/1', 'book 1'],
        ['https://example.com/books/one', 'not a number'],
        ['https://example.com/foo', 'foo'],
        ['https://example.com/foo/bar', 'not foo'],
        ['/rooms/lobby/messages/1', 'relative room'],
        [`${base}/rooms/lobby/x`, 'absolute room'],
        ['https://elsewhere.example/rooms/lobby/x', 'other host'],
        ['/rooms/lobby', 'no tail'],
        ['https://example.com/books/2', 'book 2'],
    ];
    for (const [topic, data] of posts)
        await hubPost(topic, data);
    const want = ['book 1', 'foo', 'relative room', 'absolute room',
        'book 2'];
    await page.waitForFunction((n) => window.log.length >= n, want.length);
    assert.deepEqual(await page.evaluate(() => window.log), want);
    assert.deepEqual(errors, []);
    await page.evaluate(() => window.es.close());
    await page.close();
});
