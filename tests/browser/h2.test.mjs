// tests/browser/h2.test.mjs -- the shipped HTTP/2 server block
// (fcgi-conf/nginx/sseq-http2.conf.example) in front of the test's stack:
// a second nginx with TLS (a throwaway self-signed certificate made by
// openssl here) and HTTP/2, on a free port, using the stack's upstream
// sockets. In Chromium (certificate errors ignored): 12 tabs with plain
// EventSource all open and all receive a message POSTed from one of them
// (over HTTP/1.1 six would wait for good), and an event passes through
// HTTP/2 unbuffered. Run by ./run after tabs.test.mjs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { freePort, BASE, DIR, TOP, OUT, WAIT, launch, run, until } from './lib.mjs';

const H2DIR = path.join(OUT, 'h2');
const CHANNEL = `chat.h2-${process.pid}`;   // chat.* takes anonymous POSTs
const TABS = 12;
const EXAMPLE = path.join(TOP, 'fcgi-conf', 'nginx',
    'sseq-http2.conf.example');

let origin;                             // https://127.0.0.1:PORT
let browser;
let context;
const tabs = [];

// The example block made runnable here: each edit must match once, so a
// change of the example's shape fails the test instead of testing less.
function renderExample(port) {
    const edits = [
        [/^\s*listen 443 ssl http2;.*$/m,
            `listen 127.0.0.1:${port} ssl http2;`],
        [/^\s*listen \[::\]:443 ssl http2;.*$/m, ''],
        [/^\s*server_name .*$/m, 'server_name localhost;'],
        [/^\s*ssl_certificate \S+;.*$/m,
            `ssl_certificate ${H2DIR}/cert.pem;`],
        [/^\s*ssl_certificate_key \S+;.*$/m,
            `ssl_certificate_key ${H2DIR}/key.pem;`],
        [/^\s*root \S+;.*$/m, `root ${TOP}/www;`],
        [/^\s*include \S+\/fcgi-conf\/nginx\/sseq\.conf;.*$/m,
            `include ${TOP}/fcgi-conf/nginx/sseq.conf;`]];
    let text = fs.readFileSync(EXAMPLE, 'utf8');
    for (const [re, to] of edits) {
        assert.match(text, re, `the example has ${re}`);
        text = text.replace(re, to);
    }
    return text;
}

// nginx.conf of the HTTP/2 front: the stack's upstreams, the example.
function nginxConf(port) {
    const tmp = path.join(H2DIR, 'tmp');
    return `daemon on;
${process.getuid() === 0 ? 'user root;' : ''}
pid ${H2DIR}/nginx.pid;
error_log ${H2DIR}/error.log warn;
events { worker_connections 1024; }
http {
    include ${DIR}/mime.types;
    log_format proto '$request_method $uri $status $server_protocol';
    access_log ${H2DIR}/access.log proto;
    client_body_temp_path ${tmp}/body;
    fastcgi_temp_path ${tmp}/fastcgi;
    proxy_temp_path ${tmp}/proxy;
    uwsgi_temp_path ${tmp}/uwsgi;
    scgi_temp_path ${tmp}/scgi;
    include ${DIR}/sseq-upstream.conf;
${renderExample(port)}
}
`;
}

// Stops the HTTP/2 nginx (by its pid file) and waits until it is gone.
async function stopNginx() {
    let pid;
    try {
        pid = Number(fs.readFileSync(path.join(H2DIR, 'nginx.pid'), 'utf8'));
    } catch (e) {
        return;
    }
    const alive = () => {
        try { process.kill(pid, 0); return true; } catch (e) { return false; }
    };
    if (alive())
        process.kill(pid, 'SIGTERM');
    await until(() => !alive(), `nginx ${pid} to exit`);
}

before(async () => {
    const port = await freePort();
    fs.mkdirSync(path.join(H2DIR, 'tmp'), { recursive: true });
    fs.copyFileSync(path.join(DIR, 'fastcgi_params'),
        path.join(H2DIR, 'fastcgi_params'));
    await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes',
        '-days', '1', '-subj', '/CN=127.0.0.1',
        '-addext', 'subjectAltName=IP:127.0.0.1',
        '-keyout', path.join(H2DIR, 'key.pem'),
        '-out', path.join(H2DIR, 'cert.pem')]);
    fs.writeFileSync(path.join(H2DIR, 'nginx.conf'), nginxConf(port));
    await run('nginx', ['-p', H2DIR, '-c', path.join(H2DIR, 'nginx.conf'),
        '-e', path.join(H2DIR, 'error.log')],
        { env: { ...process.env, PATH: `${process.env.PATH}:/usr/sbin` } });
    origin = `https://127.0.0.1:${port}`;
    browser = await launch();
    context = await browser.newContext({ ignoreHTTPSErrors: true });
});

after(async () => {
    if (browser)
        await browser.close();
    await stopNginx();
});

// Opens a tab of the origin with an EventSource on CHANNEL that records
// each message's data and arrival time (ms since the epoch).
async function openTab() {
    const page = await context.newPage();
    page.setDefaultTimeout(WAIT);
    await page.goto(`${origin}/`);      // the chat page: joins no room
    await page.evaluate((ch) => {
        window.got = [];
        window.es = new EventSource(`/events?channel=${ch}`);
        window.es.onmessage = (e) => window.got.push({ data: e.data,
                                                       at: Date.now() });
    }, CHANNEL);
    tabs.push(page);
    return page;
}

test(`HTTP/2: ${TABS} tabs with plain EventSource all receive a message ` +
    'POSTed from one of them', async () => {
    for (let i = 0; i < TABS; i++)
        await openTab();
    for (const p of tabs)
        await p.waitForFunction(() => window.es.readyState === 1);
    assert.equal(await tabs[0].evaluate(() =>
        performance.getEntriesByType('navigation')[0].nextHopProtocol), 'h2',
        'the page came over HTTP/2');
    const status = await tabs[TABS - 1].evaluate((ch) =>
        fetch(`/publish/${ch}`, { method: 'POST', body: 'to all tabs',
            headers: { 'Content-Type': 'text/plain' } })
            .then((r) => r.status), CHANNEL);
    assert.equal(status, 202, 'the POST went through');
    for (const p of tabs)
        await p.waitForFunction(() => window.got.length === 1);
    for (const [i, p] of tabs.entries())
        assert.equal(await p.evaluate(() => window.got[0].data),
            'to all tabs', `tab ${i}`);
});

// A buffered stream would hold an event until the next heartbeat (15 s)
// or a full buffer; 1 s leaves room for a machine busy with other tests.
test('HTTP/2: an event arrives unbuffered (within 1 s of publish)',
    async () => {
        const page = tabs[0];
        const lat = [];
        for (let i = 0; i < 5; i++) {
            const n = await page.evaluate(() => window.got.length);
            const t0 = Date.now();
            const res = await fetch(`${BASE}/publish/${CHANNEL}`, {
                method: 'POST', body: `timed ${i}`,
                headers: { 'Content-Type': 'text/plain' } });
            assert.equal(res.status, 202);
            await page.waitForFunction((k) => window.got.length > k, n);
            lat.push(await page.evaluate((k) => window.got[k].at, n) - t0);
            await new Promise((r) => setTimeout(r, 100));
        }
        console.log(`# HTTP/2 publish-to-browser latency (ms): ${lat}`);
        assert.ok(Math.min(...lat) < 1000, `latencies ${lat} ms: the ` +
            'stream is buffered somewhere');
    });

test('HTTP/2: nginx logged the streams and the POST as HTTP/2.0',
    async () => {
        for (const p of tabs)
            await p.close();
        const log = path.join(H2DIR, 'access.log');
        const lines = await until(() => {
            const l = fs.readFileSync(log, 'utf8').split('\n')
                .filter((x) => x.startsWith('GET /events '));
            return l.length === TABS && l;
        }, `${TABS} /events lines in ${log}`);
        for (const l of lines)
            assert.match(l, / HTTP\/2\.0$/, l);
        assert.match(fs.readFileSync(log, 'utf8'),
            /^POST \/publish\/\S+ 202 HTTP\/2\.0$/m);
    });
