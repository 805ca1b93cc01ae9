/**
 * The click-to-call page in a real browser (Debian's Chromium driven by playwright-core) against a
 * Siplet process serving the sample, with two SIPp UASs as the parties.
 *
 *   person (Chromium)                 Siplet: click-to-call             SIPp first       SIPp second
 *     | GET /click-to-call/ ─────────► | the page                         |                 |
 *     | types two addresses, Call ───► | POST /calls: INVITE ───────────► | 180, 200 (offer) |
 *     | sees calling, ringing ◄─ polls |        INVITE (offer) ──────────────────────────► | 180, 200
 *     | sees ANSWERED ◄──────── polls  |        ACK ─► second, ACK (answer) ─► first        |
 *     | Hang up ──────────────────────► | DELETE: BYE ─► both                                |
 *     | sees ENDED, "hung up"          |                                                    |
 *
 * Screenshots go to .test-results/browser/.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, startSipp, type SippResult, type SippRun } from '../interop/harness/sipp.js';
import { startSiplet, type SipletProcess } from '../interop/harness/siplet-process.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const scenarios = join(root, 'test', 'interop', 'scenarios');
const output = join(root, '.test-results', 'browser');
const CHROMIUM = '/usr/bin/chromium';

let siplet: SipletProcess | undefined;
let context: BrowserContext | undefined;
const peers: SippRun[] = [];
const temp: string[] = [];

afterAll(async () => {
  await context?.close();
  for (const peer of peers) await peer.stop(500);
  await siplet?.stop();
  for (const dir of temp) rmSync(dir, { recursive: true, force: true });
});

async function launch(): Promise<Page> {
  const profile = mkdtempSync(join(tmpdir(), 'siplet-chromium-'));
  temp.push(profile);
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    viewport: { width: 900, height: 700 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(15_000);
  return page;
}

async function party(scenario: string): Promise<{ uri: string; run: SippRun }> {
  const port = await freePort();
  const run = startSipp({ scenarioFile: join(scenarios, scenario), localPort: port, calls: 1, timeoutSeconds: 60, killAfterMs: 120_000 });
  peers.push(run);
  await run.ready;
  return { uri: `sip:${scenario.replace('.xml', '')}@127.0.0.1:${port}`, run };
}

function explain(result: SippResult): string {
  return `sipp ${result.args.join(' ')}\ncounters ${JSON.stringify(result.counters)}\n${result.errors.slice(-3000)}\n--- siplet ---\n${siplet?.output().slice(-3000) ?? ''}`;
}

/** Reads the page's state line every 25 ms until it reads `final`; returns every distinct text seen. */
async function watchState(page: Page, final: RegExp, ms = 20_000): Promise<string[]> {
  const seen: string[] = [];
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const text = ((await page.textContent('#state')) ?? '').trim();
    if (seen[seen.length - 1] !== text) seen.push(text);
    if (final.test(text)) return seen;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`the page never showed ${String(final)}; it showed ${seen.join(' → ')}\n--- siplet ---\n${siplet?.output().slice(-3000) ?? ''}`);
}

describe('the click-to-call page', () => {
  it('places a call between two addresses, shows it ringing and answered, and hangs up', async () => {
    mkdirSync(output, { recursive: true });
    siplet = await startSiplet({ apps: [{ name: 'click-to-call' }], dar: '' });
    const first = await party('ctc-first.xml');
    const second = await party('ctc-second.xml');
    const page = await launch();

    await page.goto(`http://127.0.0.1:${siplet.httpPort}/click-to-call/`);
    expect(await page.title()).toBe('Click to call');
    expect(await page.textContent('#state')).toBe('idle');
    await page.fill('#from', first.uri);
    await page.fill('#to', second.uri);
    await page.click('#call');

    const seen = await watchState(page, /^answered$/);
    expect(seen.indexOf('ringing (first party)')).toBeGreaterThanOrEqual(0);
    expect(seen.indexOf('ringing (second party)')).toBeGreaterThan(seen.indexOf('ringing (first party)'));
    expect(seen[seen.length - 1]).toBe('answered');
    expect(await page.textContent('#first')).toBe(`${first.uri} — answered`);
    expect(await page.textContent('#second')).toBe(`${second.uri} — answered`);
    expect(await page.isDisabled('#call')).toBe(true);
    await page.screenshot({ path: join(output, 'click-to-call-answered.png'), fullPage: true });

    await page.click('#hangup');
    await watchState(page, /^ended$/);
    expect(await page.textContent('#reason')).toBe('hung up');
    expect(await page.isEnabled('#call')).toBe(true);
    await page.screenshot({ path: join(output, 'click-to-call-ended.png'), fullPage: true });

    const [a, b] = await Promise.all([first.run.result, second.run.result]);
    expect(a, explain(a)).toMatchObject({ exitCode: 0, successful: 1, failed: 0 });
    expect(b, explain(b)).toMatchObject({ exitCode: 0, successful: 1, failed: 0 });
  });

  it('shows why a call cannot be placed', async () => {
    const page = context?.pages()[0] as Page;
    await page.goto(`http://127.0.0.1:${siplet?.httpPort}/click-to-call/`);
    await page.fill('#from', 'not an address');
    await page.fill('#to', 'sip:bob@127.0.0.1');
    await page.click('#call');
    await watchState(page, /^error$/);
    expect(await page.textContent('#reason')).toMatch(/"from" is not a SIP URI|must be a sip: or sips: URI/);
    await page.screenshot({ path: join(output, 'click-to-call-error.png'), fullPage: true });
  });
});
