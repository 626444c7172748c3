// tests/browser/chromium.mjs -- Debian's Chromium launched through
// playwright-core, the one way every browser test starts it (lib.mjs
// re-exports it; subscriber.mjs, run by the integration tests without
// ./run's environment, imports it alone). Never a downloaded browser.
import { chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const WAIT = 30000;              // ms: generous, never asserted

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu',
    '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'];

// Debian's Chromium (never a downloaded one), with args added.
export function launch(args = []) {
    return chromium.launch({ executablePath: CHROMIUM,
        args: CHROMIUM_ARGS.concat(args), timeout: WAIT });
}
