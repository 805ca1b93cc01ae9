/**
 * The admin console in a real browser (Debian's Chromium driven by playwright-core) against a
 * Siplet process, with SIPp placing calls through the application the console deployed.
 *
 *   person (Chromium)                  Siplet (/admin)                 SIPp uac ─► Siplet ─► SIPp uas
 *     | sign in (wrong, then right) ──► |
 *     | upload call-screening.sar ────► | deployed, listed (active)
 *     |                                 |                                5 calls: 200, BYE/200
 *     |                                 |                                a long call, established
 *     | sees 1 live session ──────────► |
 *     | Undeploy (graceful) ──────────► | draining
 *     |                                 |                                new INVITE ─► 403 (no app, no relay)
 *     |                                 |                                the long call: BYE ─► 200
 *     | sees the app gone ────────────► | undeployed once its last call ended
 *     | DAR with a bad line ──────────► | "Line 1: …", the file unchanged
 *
 * Screenshots go to .test-results/browser/.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, runSipp, startSipp, type SippResult } from '../interop/harness/sipp.js';
import { startSiplet, type SipletProcess } from '../interop/harness/siplet-process.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const scenarios = join(root, 'test', 'interop', 'scenarios');
const output = join(root, '.test-results', 'browser');
const CHROMIUM = '/usr/bin/chromium';
const PASSWORD = 'browser-test-admin-password-51b7';
const DAR = 'INVITE: ("call-screening", "DAR:From", "ORIGINATING", "", "NO_ROUTE", "0")\n';

let siplet: SipletProcess | undefined;
let context: BrowserContext | undefined;
const temp: string[] = [];

afterAll(async () => {
  await context?.close();
  await siplet?.stop();
  for (const dir of temp) rmSync(dir, { recursive: true, force: true });
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temp.push(dir);
  return dir;
}

/** `siplet pack samples/call-screening`: the archive a person would upload. */
function packCallScreening(): string {
  const archive = join(tempDir('siplet-browser-sar-'), 'call-screening.sar');
  const result = spawnSync(process.execPath, [join(root, 'bin', 'siplet.js'), 'pack', join(root, 'samples', 'call-screening'), '-o', archive], { encoding: 'utf8', timeout: 120_000 });
  expect(result.status, `${result.stdout}\n${result.stderr}`).toBe(0);
  return archive;
}

async function launch(): Promise<Page> {
  context = await chromium.launchPersistentContext(tempDir('siplet-chromium-'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    viewport: { width: 1280, height: 800 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(15_000);
  return page;
}

/** Polls the page until `check` holds (the console refreshes every 3 s). */
async function until(what: string, check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the console did not show ${what} within ${ms} ms\n--- siplet ---\n${siplet?.output().slice(-3000) ?? ''}`);
}

function explain(result: SippResult): string {
  return `sipp ${result.args.join(' ')}\ncounters ${JSON.stringify(result.counters)}\n${result.errors.slice(-3000)}\n--- siplet ---\n${siplet?.output().slice(-3000) ?? ''}`;
}

describe('the admin console in Chromium', () => {
  it('signs in, deploys call-screening by upload, lists it, undeploys it gracefully while a call lives on', async () => {
    mkdirSync(output, { recursive: true });
    const archive = packCallScreening();
    // The harness passes the environment on: the admin password is set, none is generated.
    process.env['SIPLET_ADMIN_PASSWORD'] = PASSWORD;
    try {
      siplet = await startSiplet({ apps: [], dar: DAR, extraArgs: ['--drain-timeout', '60000'] });
    } finally {
      delete process.env['SIPLET_ADMIN_PASSWORD'];
    }
    const page = await launch();
    // Script errors, and answers nobody expects (the wrong password's 401 and the bad DAR's 400 are expected).
    const consoleErrors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    page.on('response', (r) => {
      if (r.status() === 404 || r.status() >= 500) consoleErrors.push(`${r.status()} ${r.url()}`);
    });

    // ---- sign in --------------------------------------------------------------------------
    await page.goto(`http://127.0.0.1:${siplet.httpPort}/admin`);
    const login = page.locator('#page-login');
    await login.getByRole('heading', { name: 'Sign in' }).waitFor();
    await login.getByLabel('User name').fill('admin');
    await login.getByLabel('Password', { exact: true }).fill('not the password');
    await login.getByRole('button', { name: 'Sign in' }).click();
    await until('the wrong-password error', async () => (await login.getByRole('alert').textContent())?.includes('Wrong user name or password') ?? false);
    await login.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await login.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Applications' }).waitFor();
    expect(await page.locator('#who-name').textContent()).toBe('admin');
    await until('no application yet', () => page.locator('#apps-empty').isVisible());

    // ---- upload and deploy ----------------------------------------------------------------------
    await page.getByLabel('Application archive (.sar)').setInputFiles(archive);
    await page.getByRole('button', { name: 'Upload and deploy' }).click();
    const row = page.locator('tr[data-app="call-screening"]');
    await until('call-screening active', async () => (await row.getAttribute('data-state').catch(() => null)) === 'active');
    expect(await page.locator('#flash').textContent()).toContain('Deployed call-screening');
    expect(await row.locator('td').nth(0).textContent()).toBe('1.0.0');

    // ---- calls through it ------------------------------------------------------------------------
    const uasPort = await freePort();
    const uas = startSipp({ scenarioFile: join(scenarios, 'uas-rr.xml'), localPort: uasPort, calls: 6, killAfterMs: 120_000 });
    await uas.ready;
    const short = await runSipp({
      scenarioFile: join(scenarios, 'uac-rr.xml'),
      remote: `127.0.0.1:${uasPort}`,
      extraArgs: ['-rsa', `127.0.0.1:${siplet.sipPort}`],
      calls: 5,
      rate: 10,
      timeoutSeconds: 30,
    });
    expect(short, explain(short)).toMatchObject({ exitCode: 0, successful: 5, failed: 0 });

    // A call that stays up for 12 s.
    const long = runSipp({
      scenarioFile: join(scenarios, 'uac-rr-hold.xml'),
      remote: `127.0.0.1:${uasPort}`,
      extraArgs: ['-rsa', `127.0.0.1:${siplet.sipPort}`],
      calls: 1,
      timeoutSeconds: 60,
      killAfterMs: 90_000,
    });
    await until('1 live session', async () => (await row.locator('[data-sessions]').textContent().catch(() => null)) === '1');
    await page.screenshot({ path: join(output, 'apps-page.png'), fullPage: true });

    // ---- graceful undeploy -----------------------------------------------------------------------
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Undeploy call-screening 1.0.0', exact: true }).click();
    await until('call-screening draining', async () => (await row.getAttribute('data-state').catch(() => null)) === 'draining');
    expect(await page.locator('#flash').textContent()).toContain('call-screening is draining');
    await page.screenshot({ path: join(output, 'apps-page-draining.png'), fullPage: true });

    // New calls are refused: no application takes them, and Siplet relays for nobody.
    const refused = await runSipp({ scenarioFile: join(scenarios, 'refused-uac.xml'), remote: `127.0.0.1:${uasPort}`, extraArgs: ['-rsa', `127.0.0.1:${siplet.sipPort}`], calls: 3, rate: 10, timeoutSeconds: 20 });
    expect(refused, explain(refused)).toMatchObject({ exitCode: 0, successful: 3, failed: 0 });

    // The call from before the undeploy still ends with BYE / 200.
    const held = await long;
    expect(held, explain(held)).toMatchObject({ exitCode: 0, successful: 1, failed: 0 });
    const uasResult = await uas.result;
    expect(uasResult, explain(uasResult)).toMatchObject({ successful: 6, failed: 0 });
    await until('the app gone once its last call ended', () => page.locator('#apps-empty').isVisible());

    // ---- the DAR editor refuses a bad line and says which ------------------------------------------
    await page.getByRole('link', { name: 'Routing (DAR)' }).click();
    await page.getByRole('heading', { name: 'Application routing (DAR)' }).waitFor();
    await until('the DAR text', async () => (await page.getByLabel('DAR rules').inputValue()) === DAR);
    await page.getByLabel('DAR rules').fill('INVITE: ("call-screening", "DAR:From", "NOWHERE", "", "NO_ROUTE", "0")\n');
    await page.getByRole('button', { name: 'Validate and save' }).click();
    await until('the error with its line number', async () => /Line 1: .*NOWHERE/.test((await page.locator('#dar-errors').textContent()) ?? ''));
    expect(readFileSync(join(siplet.appsDir, 'dar.properties'), 'utf8')).toBe(DAR);
    await page.screenshot({ path: join(output, 'dar-page.png'), fullPage: true });

    // ---- realms and users -----------------------------------------------------------------------------
    await page.getByRole('link', { name: 'Realms & users' }).click();
    const users = page.locator('#page-users');
    await users.getByRole('heading', { name: 'Realms and users' }).waitFor();
    await users.getByLabel('New realm').fill('example.com');
    await users.getByRole('button', { name: 'Add realm' }).click();
    await until('the realm listed', async () => (await users.locator('#realms-table tbody').innerText()).includes('example.com'));
    await users.getByLabel('User name').fill('alice');
    await users.getByLabel('Realm', { exact: true }).selectOption('example.com');
    await users.getByLabel('Password', { exact: true }).fill('alice-first-password');
    await users.getByLabel('Roles (optional, comma-separated)').fill('caller');
    await users.getByRole('button', { name: 'Add user' }).click();
    await until('alice listed', async () => (await users.locator('#users-table tbody').innerText()).includes('alice'));
    await users.getByRole('button', { name: 'Set the password of alice@example.com' }).click();
    await page.getByLabel('New password for alice@example.com').fill('alice-second-password');
    await page.getByRole('button', { name: 'Set password', exact: true }).click();
    await until('the password changed', async () => (await page.locator('#flash').textContent())?.includes('Password of alice@example.com changed') ?? false);
    await page.screenshot({ path: join(output, 'users-page.png'), fullPage: true });

    // ---- statistics ----------------------------------------------------------------------------------
    await page.getByRole('link', { name: 'Statistics' }).click();
    await until('INVITE counted', async () => /INVITE\s*\d+/.test((await page.locator('#stats').innerText().catch(() => '')) ?? ''));
    await page.screenshot({ path: join(output, 'stats-page.png'), fullPage: true });

    expect(consoleErrors).toEqual([]);
    expect(siplet.output()).not.toContain(PASSWORD);
    expect(siplet.output()).not.toContain('alice-first-password');
    expect(siplet.output()).not.toContain('alice-second-password');
    expect(siplet.output()).toMatch(/"audit":true,"user":"admin","source":"(::ffff:)?127\.0\.0\.1","via":"session","action":"app\.deploy"/);
  });
});
