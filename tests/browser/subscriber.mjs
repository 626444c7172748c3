// tests/browser/subscriber.mjs URL -- one Chromium page subscribed to URL
// (http://HOST:PORT/PATH?QUERY) with sseq.js, for the integration tests
// (tests/integration/test_sentinel.py drives it through a load balancer
// while hosts and Redis die). The page is opened on URL's origin, imports
// /sseq.js from it and keeps, in order, every message (its id and data),
// every "error" event (status, fatal), its states and sseq-gap events.
// Speaks JSON lines on stdout: {"ready": true} once the stream is open,
// then {"n", "newest", "opens", "state"} whenever they change (polled);
// on a line "stop" on stdin: {"final": {got, errors, states, gaps,
// pageErrors, console}} and exits 0. Anything else going wrong:
// {"fatal": message} and exit 1. Needs playwright-core (tests/browser/
// node_modules) and Debian's /usr/bin/chromium.
import readline from 'node:readline';
import { WAIT, launch } from './chromium.mjs';

const POLL_MS = 200;

// Writes one JSON line on stdout.
function say(obj) {
    process.stdout.write(JSON.stringify(obj) + '\n');
}

// Opens the page and its SseqSource on path (the URL's path and query);
// the page's window.log holds what it saw.
async function subscribe(page, path) {
    await page.evaluate(async (p) => {
        const { SseqSource } = await import('/sseq.js');
        const log = window.log = { got: [], errors: [], states: [], gaps: 0 };
        const es = window.es = new SseqSource(p);
        es.onmessage = (e) => log.got.push([e.lastEventId, e.data]);
        es.onerror = (e) => log.errors.push({ status: e.status,
            fatal: !!e.fatal, retryIn: e.retryIn ?? null });
        es.onstatechange = (e) => log.states.push(e.state);
        es.addEventListener('sseq-gap', () => { log.gaps += 1; });
    }, path);
    await page.waitForFunction(() => window.es.state === 'open', null,
        { timeout: WAIT });
}

// The page's progress: messages, newest id, opens, state.
function progress(page) {
    return page.evaluate(() => ({
        n: window.log.got.length,
        newest: window.log.got.length ?
            window.log.got[window.log.got.length - 1][0] : '',
        opens: window.log.states.filter((s) => s === 'open').length,
        state: window.es.state,
    }));
}

// Resolves when stdin says "stop" (or closes).
function stopped() {
    return new Promise((resolve) => {
        const rl = readline.createInterface({ input: process.stdin });
        rl.on('line', (l) => l.trim() === 'stop' && resolve());
        rl.on('close', resolve);
    });
}

async function main() {
    const url = new URL(process.argv[2]);
    const pageErrors = [], consoleErrors = [];
    const browser = await launch();
    try {
        const page = await browser.newPage();
        page.on('pageerror', (e) => pageErrors.push(e.message));
        page.on('console', (m) => m.type() === 'error' &&
            consoleErrors.push(m.text()));
        await page.goto(`${url.origin}/sseq.js`);
        await subscribe(page, url.pathname + url.search);
        say({ ready: true });
        let stop = false, last = '';
        stopped().then(() => { stop = true; });
        while (!stop) {
            const p = JSON.stringify(await progress(page));
            if (p !== last)
                process.stdout.write(p + '\n');
            last = p;
            await new Promise((r) => setTimeout(r, POLL_MS));
        }
        const final = await page.evaluate(() => window.log);
        say({ final: { ...final, pageErrors, console: consoleErrors } });
    } finally {
        await browser.close();
    }
}

main().catch((e) => {
    say({ fatal: String(e && e.stack || e) });
    process.exit(1);
});
