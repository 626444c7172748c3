// tests/browser/lib.mjs -- what the browser tests share: the settings
// ./run passes in the environment, a free port, Chromium's launch
// (chromium.mjs), the stack's commands (scripts/stack.sh, the sseq CLI)
// and the chat page's helpers.
import { execFile } from 'node:child_process';
import net from 'node:net';
import { promisify } from 'node:util';
import path from 'node:path';
import { WAIT, launch } from './chromium.mjs';

export const run = promisify(execFile);

// An HS256 JWT of claims signed with secret, minted by python3-jwt (a
// library of its own: never sseq's code).
const JWT_PYTHON = process.env.SSEQ_JWT_PYTHON || '/usr/bin/python3';
const MINT = `
import json, sys, jwt
print(jwt.encode(json.loads(sys.argv[1]), sys.argv[2], algorithm="HS256"))
`;
export async function mintJwt(claims, secret) {
    const { stdout } = await run(JWT_PYTHON,
        ['-c', MINT, JSON.stringify(claims), secret]);
    return stdout.trim();
}

// A TCP port on 127.0.0.1 that nothing listens on right now.
export function freePort() {
    return new Promise((resolve, reject) => {
        const s = net.createServer();
        s.on('error', reject);
        s.listen(0, '127.0.0.1', () => {
            const { port } = s.address();
            s.close(() => resolve(port));
        });
    });
}

// The value of environment variable name; throws when ./run did not set it.
export function env(name) {
    const v = process.env[name];
    if (!v)
        throw new Error(`${name} is not set: run tests/browser/run`);
    return v;
}

export const BASE = env('SSEQ_BASE_URL');
export const DIR = env('SSEQ_STACK_DIR');
export const BUILD = env('SSEQ_BUILDDIR');
export const TOP = env('SSEQ_TOP');
export const OUT = env('SSEQ_BROWSER_OUT');
export { WAIT, launch };

// scripts/stack.sh command on directory dir (default: the test's stack),
// with more environment variables from extra.
export function stack(command, dir = DIR, args = [], extra = {}) {
    return run('bash', [path.join(TOP, 'scripts', 'stack.sh'), command,
        dir, ...args], { env: { ...process.env, ...extra } });
}

// Publishes data into channel with the sseq CLI (no HTTP).
export async function cliPublish(channel, data, dir = DIR) {
    await run(path.join(BUILD, 'src', 'sseq'),
        ['-c', path.join(dir, 'sseq.conf'), 'publish', channel, data]);
}

// Open streams counted by the sseq-stream processes of the stack in dir.
export async function openStreams(dir = DIR) {
    const { stdout } = await run(path.join(BUILD, 'src', 'sseq'),
        ['-c', path.join(dir, 'sseq.conf'), 'stats', '--json']);
    return JSON.parse(stdout).processes.filter((p) => p.role === 'stream')
        .reduce((n, p) => n + p.streams, 0);
}

// Waits until fn() resolves to a truthy value (polling); throws with what
// after WAIT ms.
export async function until(fn, what) {
    const end = Date.now() + WAIT;
    let v;
    while (!(v = await fn())) {
        if (Date.now() > end)
            throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 100));
    }
    return v;
}

// Waits until a chat page's connection state is s.
export function waitState(page, s) {
    return page.waitForFunction((want) =>
        document.getElementById('state').dataset.state === want, s,
        { timeout: WAIT });
}

// The texts of the messages a chat page shows, in order.
export function texts(page) {
    return page.$$eval('#messages li.msg .text',
        (els) => els.map((e) => e.textContent));
}

// Waits until a chat page shows a message whose text is t.
export function waitText(page, t) {
    return page.waitForFunction((want) =>
        [...document.querySelectorAll('#messages li.msg .text')]
            .some((e) => e.textContent === want), t, { timeout: WAIT });
}

// Types text into a chat page's input and sends it with Enter.
export async function send(page, text) {
    await page.fill('#text', text);
    await page.press('#text', 'Enter');
}
