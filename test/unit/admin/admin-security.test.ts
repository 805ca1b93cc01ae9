/**
 * The admin API's security, in process: an express app with the admin console mounted over a fake
 * facade, on an ephemeral loopback port, driven with fetch.
 *
 *   script ── Basic ──────────────► /admin/api/*      401 + challenge without, 200 with
 *   console ─ POST /session ──────► cookie (HttpOnly, SameSite=Strict) + CSRF token
 *           ─ changes + X-CSRF-Token ► 200; without it ► 403
 *   another site ─ Origin: evil ──► 403          10 wrong passwords ► 429 + Retry-After
 */
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { mountAdminConsole, type AdminFacade, type AppView } from '../../../src/admin/index.js';
import { createLogger, SipletError } from '../../../src/util/index.js';

const PASSWORD = 'Tr0ub4dor&3-correct-horse';
const BASIC = `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`;

interface Harness {
  url: string;
  logs: Record<string, unknown>[];
  calls: string[];
  close(): Promise<void>;
}

const APP: AppView = { name: 'hello', version: '1.0.0', state: 'active', servlets: ['main'], mainServlet: 'main', description: undefined, sessions: 2, deployedAt: '2024-01-01T00:00:00.000Z', source: 'archive' };

function fakeFacade(calls: string[]): AdminFacade {
  const notUsed = async (): Promise<never> => {
    throw new Error('not used in this test');
  };
  return {
    listApps: () => [APP],
    deployArchive: async (bytes, { fileName }) => {
      calls.push(`deploy ${fileName} ${bytes.length}`);
      if (fileName === 'broken.sar') {
        throw new SipletError('SIPLET_DEPLOY_FAILED', 'Cannot deploy archive broken.sar: it is not a zip archive. The running version (if any) is unchanged.', {
          details: { archive: 'broken.sar', problem: 'it is not a zip archive' },
        });
      }
      return APP;
    },
    undeployApp: async (name, { force }) => {
      calls.push(`undeploy ${name} ${force}`);
      if (name !== 'hello') throw new SipletError('SIPLET_DEPLOY_FAILED', `No application named ${name} is deployed: list them with "siplet apps".`, { details: { name, notFound: true } });
      return { name, state: force ? 'undeployed' : 'draining', draining: force ? [] : [{ ...APP, state: 'draining' }] };
    },
    getDar: notUsed,
    checkDar: () => ({ ok: true, methods: [] }),
    putDar: notUsed,
    stats: notUsed,
    listRegistrations: notUsed,
    removeRegistrations: notUsed,
    listRealms: async () => [],
    addRealm: async (realm) => {
      calls.push(`addRealm ${realm}`);
      return realm;
    },
    removeRealm: notUsed,
    listUsers: notUsed,
    addUser: async (options) => {
      calls.push(`addUser ${options.user}@${options.realm}`);
      return { username: options.user, realm: options.realm, roles: [] };
    },
    removeUser: notUsed,
    setUserPassword: async (options) => {
      calls.push(`setUserPassword ${options.user}@${options.realm}`);
    },
    verifyAdmin: async (user, password) => user === 'admin' && password === PASSWORD,
    setAdminPassword: notUsed,
  };
}

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

async function start(options: { maxFailures?: number } = {}): Promise<Harness> {
  const logs: Record<string, unknown>[] = [];
  const calls: string[] = [];
  const logger = createLogger({ level: 'debug', destination: { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) } });
  const app = express();
  mountAdminConsole(app, { facade: fakeFacade(calls), logger, maxUploadBytes: 4096, throttle: { maxFailures: options.maxFailures ?? 10, lockMs: 60_000 } });
  app.get('/hello/ping', (_req, res) => void res.send('pong'));
  const server: Server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    logs,
    calls,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function json(res: Response): Promise<Record<string, unknown>> {
  return (await res.json()) as Record<string, unknown>;
}

/** Signs in as the console does; the cookie and the CSRF token. */
async function consoleLogin(url: string): Promise<{ cookie: string; csrf: string; setCookie: string }> {
  const res = await fetch(`${url}/admin/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-siplet-console': '1' },
    body: JSON.stringify({ username: 'admin', password: PASSWORD }),
  });
  expect(res.status).toBe(200);
  const setCookie = res.headers.get('set-cookie') ?? '';
  const body = await json(res);
  return { cookie: setCookie.split(';')[0]!, csrf: body['csrfToken'] as string, setCookie };
}

describe('admin API authentication', () => {
  it('answers 401 with a Basic challenge without credentials, and with a wrong password', async () => {
    harness = await start();
    const none = await fetch(`${harness.url}/admin/api/apps`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Basic realm="Siplet admin", charset="UTF-8"');
    expect(await json(none)).toEqual({ error: { code: 'SIPLET_ADMIN_UNAUTHORIZED', message: expect.stringContaining('Sign in first') } });

    const wrong = await fetch(`${harness.url}/admin/api/apps`, { headers: { authorization: `Basic ${Buffer.from('admin:guess').toString('base64')}` } });
    expect(wrong.status).toBe(401);
    expect(((await json(wrong))['error'] as { message: string }).message).toMatch(/Wrong user or password/);

    const unknown = await fetch(`${harness.url}/admin/api/apps`, { headers: { authorization: `Basic ${Buffer.from(`root:${PASSWORD}`).toString('base64')}` } });
    expect(unknown.status).toBe(401);

    // The console asks without a challenge, so that the browser shows no login box of its own.
    const fromConsole = await fetch(`${harness.url}/admin/api/session`, { headers: { 'x-siplet-console': '1' } });
    expect(fromConsole.status).toBe(401);
    expect(fromConsole.headers.get('www-authenticate')).toBeNull();
  });

  it('lets a script in with Basic credentials, and logs who changed what from where, never a password', async () => {
    harness = await start();
    const list = await fetch(`${harness.url}/admin/api/apps`, { headers: { authorization: BASIC } });
    expect(list.status).toBe(200);
    expect(list.headers.get('cache-control')).toBe('no-store');
    expect(await list.json()).toEqual([APP]);

    const added = await fetch(`${harness.url}/admin/api/users`, {
      method: 'POST',
      headers: { authorization: BASIC, 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'alice', realm: 'example.com', password: 'alice-secret-123' }),
    });
    expect(added.status).toBe(201);
    expect(await added.json()).toEqual({ username: 'alice', realm: 'example.com', roles: [] });
    const audit = harness.logs.find((l) => l['action'] === 'user.add');
    expect(audit).toMatchObject({ audit: true, user: 'admin', source: '127.0.0.1', via: 'basic', username: 'alice', realm: 'example.com' });
    expect(audit?.['msg']).toBe('user alice@example.com added (by admin from 127.0.0.1)');
    const everything = JSON.stringify(harness.logs);
    expect(everything).not.toContain('alice-secret-123');
    expect(everything).not.toContain(PASSWORD);
  });

  it('rate-limits failed logins per address: 429 with Retry-After, even for the right password', async () => {
    harness = await start({ maxFailures: 3 });
    const bad = { authorization: `Basic ${Buffer.from('admin:nope').toString('base64')}` };
    for (let i = 0; i < 3; i++) expect((await fetch(`${harness.url}/admin/api/apps`, { headers: bad })).status).toBe(401);
    const locked = await fetch(`${harness.url}/admin/api/apps`, { headers: { authorization: BASIC } });
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(50);
    expect(await json(locked)).toEqual({ error: { code: 'SIPLET_ADMIN_RATE_LIMITED', message: expect.stringMatching(/Too many failed logins from 127\.0\.0\.1: try again in \d+ s/) } });
    const login = await fetch(`${harness.url}/admin/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: PASSWORD }) });
    expect(login.status).toBe(429);
    expect(harness.logs.filter((l) => l['msg'] === 'failed admin login for "admin" from 127.0.0.1' || String(l['msg']).startsWith('failed admin login'))).toHaveLength(3);
  });
});

describe('console sessions', () => {
  it('sets an HttpOnly, SameSite=Strict cookie and requires the CSRF token on every change', async () => {
    harness = await start();
    const { cookie, csrf, setCookie } = await consoleLogin(harness.url);
    expect(setCookie).toMatch(/^siplet_admin=[A-Za-z0-9_-]{43}; Path=\/admin; HttpOnly; SameSite=Strict$/);
    expect(csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const who = await fetch(`${harness.url}/admin/api/session`, { headers: { cookie } });
    expect(await who.json()).toEqual({ user: 'admin', via: 'session', csrfToken: csrf });
    expect((await fetch(`${harness.url}/admin/api/apps`, { headers: { cookie } })).status).toBe(200);

    const change = (headers: Record<string, string>) =>
      fetch(`${harness!.url}/admin/api/realms`, { method: 'POST', headers: { cookie, 'content-type': 'application/json', ...headers }, body: JSON.stringify({ realm: 'example.com' }) });
    const without = await change({});
    expect(without.status).toBe(403);
    expect(await json(without)).toEqual({ error: { code: 'SIPLET_ADMIN_CSRF_REJECTED', message: expect.stringContaining('X-CSRF-Token') } });
    expect((await change({ 'x-csrf-token': 'not-the-token' })).status).toBe(403);
    expect(harness.calls).toEqual([]);
    const withToken = await change({ 'x-csrf-token': csrf });
    expect(withToken.status).toBe(201);
    expect(harness.calls).toEqual(['addRealm example.com']);
    expect(harness.logs.find((l) => l['action'] === 'realm.add')).toMatchObject({ user: 'admin', via: 'session', source: '127.0.0.1' });

    const out = await fetch(`${harness.url}/admin/api/session`, { method: 'DELETE', headers: { cookie, 'x-csrf-token': csrf } });
    expect(out.status).toBe(204);
    expect((await fetch(`${harness.url}/admin/api/apps`, { headers: { cookie } })).status).toBe(401);
  });

  it('refuses changes a browser says come from another site, even with valid credentials', async () => {
    harness = await start();
    const { cookie, csrf } = await consoleLogin(harness.url);
    const crossOrigin = await fetch(`${harness.url}/admin/api/apps/hello`, { method: 'DELETE', headers: { cookie, 'x-csrf-token': csrf, origin: 'http://evil.example' } });
    expect(crossOrigin.status).toBe(403);
    expect(((await json(crossOrigin))['error'] as { code: string }).code).toBe('SIPLET_ADMIN_FORBIDDEN');
    const crossSite = await fetch(`${harness.url}/admin/api/apps/hello`, { method: 'DELETE', headers: { authorization: BASIC, 'sec-fetch-site': 'cross-site' } });
    expect(crossSite.status).toBe(403);
    expect(harness.calls).toEqual([]);
    const sameOrigin = await fetch(`${harness.url}/admin/api/apps/hello`, { method: 'DELETE', headers: { cookie, 'x-csrf-token': csrf, origin: harness.url, 'sec-fetch-site': 'same-origin' } });
    expect(sameOrigin.status).toBe(202);
  });
});

describe('admin API answers', () => {
  it('deploys a multipart upload (field "archive"), refuses a bad one with 400 and the deployer\'s message, and other fields or sizes clearly', async () => {
    harness = await start();
    const upload = (field: string, name: string, size = 100) => {
      const form = new FormData();
      form.append(field, new Blob([Buffer.alloc(size, 1)]), name);
      return fetch(`${harness!.url}/admin/api/apps`, { method: 'POST', headers: { authorization: BASIC }, body: form });
    };
    const ok = await upload('archive', 'hello.sar');
    expect(ok.status).toBe(201);
    expect(await ok.json()).toEqual(APP);
    const broken = await upload('archive', 'broken.sar');
    expect(broken.status).toBe(400);
    expect(await json(broken)).toEqual({
      error: {
        code: 'SIPLET_DEPLOY_FAILED',
        message: 'Cannot deploy archive broken.sar: it is not a zip archive. The running version (if any) is unchanged.',
        details: { archive: 'broken.sar', problem: 'it is not a zip archive' },
      },
    });
    const wrongField = await upload('file', 'hello.sar');
    expect(wrongField.status).toBe(400);
    expect(((await json(wrongField))['error'] as { message: string }).message).toMatch(/field named "archive"/);
    const tooLarge = await upload('archive', 'big.sar', 5000);
    expect(tooLarge.status).toBe(413);
    const nothing = await fetch(`${harness.url}/admin/api/apps`, { method: 'POST', headers: { authorization: BASIC } });
    expect(nothing.status).toBe(400);
    expect(harness.calls).toEqual(['deploy hello.sar 100', 'deploy broken.sar 100']);
  });

  it('undeploys gracefully (202 draining) or forced (200 undeployed); 404 for an unknown app', async () => {
    harness = await start();
    const graceful = await fetch(`${harness.url}/admin/api/apps/hello`, { method: 'DELETE', headers: { authorization: BASIC } });
    expect(graceful.status).toBe(202);
    expect(await json(graceful)).toMatchObject({ name: 'hello', state: 'draining' });
    const forced = await fetch(`${harness.url}/admin/api/apps/hello?force=true`, { method: 'DELETE', headers: { authorization: BASIC } });
    expect(forced.status).toBe(200);
    expect(await json(forced)).toEqual({ name: 'hello', state: 'undeployed', draining: [] });
    const unknown = await fetch(`${harness.url}/admin/api/apps/nope`, { method: 'DELETE', headers: { authorization: BASIC } });
    expect(unknown.status).toBe(404);
    expect(((await json(unknown))['error'] as { message: string }).message).toBe('No application named nope is deployed: list them with "siplet apps".');
    const badFlag = await fetch(`${harness.url}/admin/api/apps/hello?force=maybe`, { method: 'DELETE', headers: { authorization: BASIC } });
    expect(badFlag.status).toBe(400);
    expect(harness.calls).toEqual(['undeploy hello false', 'undeploy hello true', 'undeploy nope false']);
  });

  it('says what to send for malformed bodies and unknown routes', async () => {
    harness = await start();
    const headers = { authorization: BASIC, 'content-type': 'application/json' };
    const notJson = await fetch(`${harness.url}/admin/api/realms`, { method: 'POST', headers, body: '{"realm":' });
    expect(notJson.status).toBe(400);
    expect(((await json(notJson))['error'] as { message: string }).message).toMatch(/not valid JSON/);
    const missing = await fetch(`${harness.url}/admin/api/users`, { method: 'POST', headers, body: JSON.stringify({ user: 'bob', realm: 'example.com' }) });
    expect(await json(missing)).toEqual({ error: { code: 'SIPLET_ADMIN_BAD_REQUEST', message: '"password" is missing: give a password as a non-empty string.' } });
    const route = await fetch(`${harness.url}/admin/api/nothing-here`, { headers: { authorization: BASIC } });
    expect(route.status).toBe(404);
    expect(((await json(route))['error'] as { code: string }).code).toBe('SIPLET_ADMIN_NOT_FOUND');
  });

  it('serves the console with a strict content security policy; apps\' own routes are not under it', async () => {
    harness = await start();
    const redirect = await fetch(`${harness.url}/admin`, { redirect: 'manual' });
    expect(redirect.status).toBe(301);
    const page = await fetch(`${harness.url}/admin/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    const html = await page.text();
    expect(html).toContain('<label for="login-password">Password</label>');
    expect((await fetch(`${harness.url}/admin/console.js`)).status).toBe(200);
    const own = await fetch(`${harness.url}/hello/ping`);
    expect(await own.text()).toBe('pong');
    expect(own.headers.get('content-security-policy')).toBeNull();
  });
});
