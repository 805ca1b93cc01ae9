/**
 * The admin API of a real Siplet (startServer on loopback ports, SQLite data store, apps folder),
 * driven over HTTP with fetch and with the `siplet deploy|apps|undeploy` client.
 *
 *   admin (Basic) ── POST /admin/api/apps (archive) ──► Siplet: versioned 1.0.0 active
 *   alice (UDP)   ── INVITE ─────────────────────────► versioned ── 200 (X-Version) ──► alice
 *   admin ── DELETE /admin/api/apps/versioned ───────► draining (alice's call lives on)
 *   admin ── DELETE …?force=true ────────────────────► undeployed: BYE to alice; a new INVITE ─► 404
 *   admin ── PUT /admin/api/dar (line 2 bad) ────────► 400 line 2, old rules in force; good text ─► saved, kept after a restart
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/main.js';
import { createConfig, type SipletConfig } from '../../../src/config/index.js';
import { startServer, type RunningServer } from '../../../src/server.js';
import type { SipResponse } from '../../../src/sip/message/index.js';
import { ha1 } from '../../../src/store/index.js';
import { createLogger, silentLogger } from '../../../src/util/index.js';
import { freePort } from '../../interop/harness/sipp.js';
import { UdpPeer } from '../../support/wire.js';
import { events } from '../../unit/container/deploy/app-fixtures.js';
import { eventually, versionedArchive } from '../deploy/deploy-fixtures.js';

const PASSWORD = 'integration-admin-password-9f2c';
const BASIC = `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`;
const DAR = 'INVITE: ("versioned", "DAR:From", "ORIGINATING", "", "NO_ROUTE", "0")\n';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

interface Running {
  server: RunningServer;
  config: SipletConfig;
  url: string;
  logs: Record<string, unknown>[];
  /** fetch on the admin API with the admin's Basic credentials. */
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  stop(): Promise<void>;
}

async function start(options: { appsDir?: string; dataDir?: string; env?: Record<string, string>; dar?: string } = {}): Promise<Running> {
  events();
  const appsDir = options.appsDir ?? tempDir('siplet-admin-apps-');
  const dataDir = options.dataDir ?? tempDir('siplet-admin-data-');
  if (options.dar !== undefined) writeFileSync(join(appsDir, 'dar.properties'), options.dar);
  const config = createConfig({ host: '127.0.0.1', sipPort: await freePort(), httpPort: await freePort(), appsDir, dataDir, drainTimeout: 60_000, deploySettleTime: 100, deployPollInterval: 100 });
  const logs: Record<string, unknown>[] = [];
  const logger = createLogger({ level: 'info', destination: { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) } });
  const server = await startServer(config, logger, { env: options.env ?? { SIPLET_ADMIN_PASSWORD: PASSWORD } });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await server.close();
  };
  cleanups.push(stop);
  const url = `http://127.0.0.1:${server.httpPort}`;
  return {
    server,
    config,
    url,
    logs,
    stop,
    async api(method, path, body) {
      const headers: Record<string, string> = { authorization: BASIC };
      let payload: RequestInit['body'];
      if (body instanceof FormData) payload = body;
      else if (typeof body === 'string') {
        headers['content-type'] = 'text/plain';
        payload = body;
      } else if (body !== undefined) {
        headers['content-type'] = 'application/json';
        payload = JSON.stringify(body);
      }
      const res = await fetch(`${url}/admin/api${path}`, { method, headers, body: payload });
      const text = await res.text();
      return { status: res.status, body: text === '' ? undefined : JSON.parse(text) };
    },
  };
}

let callCounter = 0;

/** alice's INVITE to bob at Siplet over UDP; resolves with the final response. */
async function invite(peer: UdpPeer, sipPort: number): Promise<{ callId: string; final: SipResponse }> {
  const callId = `admin-call-${++callCounter}@test`;
  await peer.send(
    Buffer.from(
      `INVITE sip:bob@127.0.0.1:${sipPort} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bK-adm-${callCounter};rport\r\n` +
        `From: <sip:alice@127.0.0.1>;tag=a${callCounter}\r\nTo: <sip:bob@127.0.0.1:${sipPort}>\r\nCall-ID: ${callId}\r\nCSeq: 1 INVITE\r\n` +
        `Contact: <sip:alice@127.0.0.1:${peer.port}>\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n`,
    ),
    sipPort,
  );
  const finalOf = (list: SipResponse[]) => list.find((r) => r.get('call-id') === callId && r.status >= 200);
  expect(await peer.waitFor((list) => finalOf(list) !== undefined, 5000)).toBe(true);
  const final = finalOf(peer.received)!;
  if (final.status >= 200 && final.status < 300) {
    await peer.send(
      Buffer.from(
        `ACK sip:bob@127.0.0.1:${sipPort} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bK-adm-ack-${callCounter};rport\r\n` +
          `From: <sip:alice@127.0.0.1>;tag=a${callCounter}\r\nTo: ${final.get('to')}\r\nCall-ID: ${callId}\r\nCSeq: 1 ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n`,
      ),
      sipPort,
    );
  }
  return { callId, final };
}

function archiveForm(bytes: Buffer, name: string): FormData {
  const form = new FormData();
  form.append('archive', new Blob([bytes], { type: 'application/zip' }), name);
  return form;
}

describe('applications through the admin API', () => {
  it('deploys an uploaded archive, lists it with its live sessions, drains it on undeploy and ends it when forced', async () => {
    const s = await start({ dar: DAR });
    const peer = await UdpPeer.open();
    cleanups.push(() => peer.close());
    expect((await s.api('GET', '/apps')).body).toEqual([]);

    const deployed = await s.api('POST', '/apps', archiveForm(await versionedArchive('1.0.0'), 'versioned.sar'));
    expect(deployed.status).toBe(201);
    expect(deployed.body).toMatchObject({ name: 'versioned', version: '1.0.0', state: 'active', servlets: ['main'], sessions: 0, source: 'archive' });
    // Kept in the apps folder: it comes back after a restart.
    expect(readFileSync(join(s.config.appsDir, 'versioned.sar')).length).toBeGreaterThan(100);

    const call = await invite(peer, s.config.sipPort);
    expect(call.final.status).toBe(200);
    expect(call.final.get('x-version')).toBe('1.0.0');
    await eventually(async () => expect((await s.api('GET', '/apps')).body).toMatchObject([{ name: 'versioned', state: 'active', sessions: 1 }]));

    const graceful = await s.api('DELETE', '/apps/versioned');
    expect(graceful.status).toBe(202);
    expect(graceful.body).toMatchObject({ name: 'versioned', state: 'draining', draining: [{ name: 'versioned', state: 'draining', sessions: 1 }] });
    expect((await s.api('GET', '/apps')).body).toMatchObject([{ name: 'versioned', state: 'draining', sessions: 1 }]);
    expect((await invite(peer, s.config.sipPort)).final.status).toBe(404);

    const forced = await s.api('DELETE', '/apps/versioned?force=true');
    expect(forced.status).toBe(200);
    expect(forced.body).toEqual({ name: 'versioned', state: 'undeployed', draining: [] });
    expect((await s.api('GET', '/apps')).body).toEqual([]);
    // The live call was ended with a BYE to alice.
    expect(peer.raw.some((d) => d.toString('latin1').startsWith('BYE ') && d.toString('latin1').includes(call.callId))).toBe(true);

    const audit = s.logs.filter((l) => l['audit'] === true).map((l) => [l['action'], l['user'], l['source']]);
    expect(audit).toEqual([
      ['app.deploy', 'admin', '127.0.0.1'],
      ['app.undeploy', 'admin', '127.0.0.1'],
      ['app.undeploy', 'admin', '127.0.0.1'],
    ]);
    expect(JSON.stringify(s.logs)).not.toContain(PASSWORD);
  }, 30_000);

  it('refuses a broken archive with 400 and the deployer\'s message, and the running version stays', async () => {
    const s = await start({ dar: DAR });
    expect((await s.api('POST', '/apps', archiveForm(await versionedArchive('1.0.0'), 'versioned.sar'))).status).toBe(201);
    const broken = await s.api('POST', '/apps', archiveForm(Buffer.from('this is not a zip archive at all'), 'versioned-2.sar'));
    expect(broken.status).toBe(400);
    expect(broken.body.error.code).toBe('SIPLET_DEPLOY_FAILED');
    expect(broken.body.error.message).toMatch(/^Cannot deploy archive versioned-2\.sar: .*The running version \(if any\) is unchanged\.$/);
    expect(broken.body.error.details).toMatchObject({ archive: 'versioned-2.sar' });
    expect((await s.api('GET', '/apps')).body).toMatchObject([{ name: 'versioned', version: '1.0.0', state: 'active' }]);
    expect((await s.api('DELETE', '/apps/nothing')).status).toBe(404);
  }, 30_000);

  it('serves the siplet deploy, apps and undeploy commands', async () => {
    const s = await start({ dar: DAR });
    const dir = tempDir('siplet-admin-cli-');
    const file = join(dir, 'versioned.sar');
    writeFileSync(file, await versionedArchive('2.0.0'));
    const cli = async (argv: string[], password = PASSWORD) => {
      let out = '';
      let err = '';
      const code = await runCli({
        argv: [...argv, '--url', s.url, '--user', 'admin'],
        env: { SIPLET_ADMIN_PASSWORD: password },
        cwd: dir,
        stdout: { write: (t: string) => (out += t) },
        stderr: { write: (t: string) => (err += t) },
        readFile: () => undefined,
      });
      return { code, out, err };
    };
    expect(await cli(['deploy', file])).toEqual({ code: 0, out: 'deployed versioned 2.0.0 (active)\n', err: '' });
    expect((await cli(['apps'])).out).toBe('NAME       VERSION  STATE   SESSIONS\nversioned  2.0.0    active  0\n');
    expect(await cli(['undeploy', 'versioned', '--force'])).toEqual({ code: 0, out: 'undeployed versioned: its calls were ended\n', err: '' });
    expect((await cli(['apps'])).out).toBe('no applications deployed\n');
    const refused = await cli(['apps'], 'wrong');
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/401 Wrong user or password for the admin API\. Check --user/);
  }, 30_000);
});

describe('the DAR through the admin API', () => {
  it('refuses a malformed line with its number and keeps the rules; saves good text to the file, kept after a restart', async () => {
    const appsDir = tempDir('siplet-admin-apps-');
    const dataDir = tempDir('siplet-admin-data-');
    const s = await start({ appsDir, dataDir, dar: DAR });
    const before = await s.api('GET', '/dar');
    expect(before.status).toBe(200);
    expect(before.body).toEqual({
      path: join(appsDir, 'dar.properties'),
      text: DAR,
      rules: [
        {
          method: 'INVITE',
          applications: [
            { applicationName: 'versioned', subscriber: 'DAR:From', routingRegion: 'ORIGINATING', routeModifier: 'NO_ROUTE', order: 0, patterns: [], line: 1 },
          ],
        },
      ],
    });

    const bad = 'OPTIONS: ("hello-uas", "DAR:To", "TERMINATING", "", "NO_ROUTE", "0")\nINVITE: ("versioned", "DAR:From", "SIDEWAYS", "", "NO_ROUTE", "0")\n';
    const checked = await s.api('POST', '/dar/validate', { text: bad });
    expect(checked.body).toMatchObject({ ok: false, errors: [{ line: 2 }] });
    const refused = await s.api('PUT', '/dar', bad);
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('SIPLET_DAR_INVALID');
    expect(refused.body.error.message).toMatch(/^The DAR was not saved: dar\.properties line 2: .*SIDEWAYS.*the rules in force are unchanged\.$/);
    expect(refused.body.error.details.errors).toEqual([{ line: 2, problem: expect.stringContaining('SIDEWAYS'), message: expect.stringMatching(/^dar\.properties line 2: /) }]);
    expect((await s.api('GET', '/dar')).body).toEqual(before.body);
    expect(readFileSync(join(appsDir, 'dar.properties'), 'utf8')).toBe(DAR);

    const good = '# hello first\nOPTIONS: ("hello-uas", "DAR:To", "TERMINATING", "", "NO_ROUTE", "0")\n' + DAR;
    expect((await s.api('POST', '/dar/validate', { text: good })).body).toEqual({ ok: true, methods: ['OPTIONS', 'INVITE'] });
    const saved = await s.api('PUT', '/dar', { text: good });
    expect(saved.status).toBe(200);
    expect(saved.body.text).toBe(good);
    expect(saved.body.rules.map((r: { method: string }) => r.method)).toEqual(['OPTIONS', 'INVITE']);
    expect(readFileSync(join(appsDir, 'dar.properties'), 'utf8')).toBe(good);
    expect(s.logs.find((l) => l['action'] === 'dar.update')).toMatchObject({ user: 'admin', source: '127.0.0.1' });

    await s.stop();
    const again = await start({ appsDir, dataDir });
    expect((await again.api('GET', '/dar')).body).toMatchObject({ text: good, rules: [{ method: 'OPTIONS' }, { method: 'INVITE' }] });
  }, 30_000);
});

describe('realms, users and registrations through the admin API', () => {
  it('adds, lists, changes the password of and removes users and realms, never answering a password', async () => {
    const s = await start();
    expect((await s.api('POST', '/realms', { realm: 'Example.COM' })).body).toEqual({ realm: 'example.com', users: 0 });
    expect((await s.api('POST', '/realms', { realm: 'example.com' })).status).toBe(409);
    expect((await s.api('POST', '/realms', { realm: 'not a realm' })).status).toBe(400);
    const added = await s.api('POST', '/users', { user: 'alice', realm: 'example.com', password: 'alice-pw-1', roles: ['caller'] });
    expect(added).toEqual({ status: 201, body: { username: 'alice', realm: 'example.com', roles: ['caller'] } });
    expect((await s.api('POST', '/users', { user: 'bob', realm: 'nowhere.example', password: 'x' })).body.error).toMatchObject({ code: 'SIPLET_STORE_UNKNOWN_REALM' });
    expect((await s.api('GET', '/users')).body).toEqual([{ username: 'alice', realm: 'example.com', roles: ['caller'] }]);
    expect((await s.api('GET', '/realms')).body).toEqual([{ realm: 'example.com', users: 1 }]);

    expect((await s.api('PUT', '/users/example.com/alice/password', { password: 'alice-pw-2' })).status).toBe(204);
    expect(s.server.stack.store.users.credentials('example.com', 'alice')?.ha1Sha256).toBe(ha1('SHA-256', 'alice', 'example.com', 'alice-pw-2'));
    expect((await s.api('PUT', '/users/example.com/carol/password', { password: 'x' })).status).toBe(404);

    expect((await s.api('DELETE', '/users/example.com/alice')).status).toBe(204);
    expect((await s.api('GET', '/users?realm=example.com')).body).toEqual([]);
    expect((await s.api('DELETE', '/realms/example.com')).body).toEqual({ realm: 'example.com', usersRemoved: 0 });
    const everything = JSON.stringify(s.logs);
    expect(everything).not.toContain('alice-pw-1');
    expect(everything).not.toContain('alice-pw-2');
    expect(s.logs.filter((l) => l['audit'] === true).map((l) => l['action'])).toEqual(['realm.add', 'user.add', 'user.password', 'user.remove', 'realm.remove']);
  }, 30_000);

  it('lists registrations by address of record with their expiry, removes one contact or all', async () => {
    const s = await start();
    const now = Date.now();
    const put = (aor: string, uri: string, q = 1) =>
      s.server.stack.store.location.put({
        aor,
        uri,
        contact: `<${uri}>;q=${q}`,
        expires: now + 3_600_000,
        q,
        callId: `reg-${uri}`,
        cseq: 1,
        path: [],
        source: { protocol: 'udp', address: '192.0.2.10', port: 5060 },
        updatedAt: now,
      });
    await put('sip:alice@example.com', 'sip:alice@192.0.2.10:5060', 1);
    await put('sip:alice@example.com', 'sip:alice@192.0.2.11:5060', 0.5);
    await put('sip:bob@example.com', 'sip:bob@192.0.2.20:5060');

    const all = await s.api('GET', '/registrations');
    expect(all.body).toHaveLength(2);
    expect(all.body[0]).toMatchObject({
      aor: 'sip:alice@example.com',
      contacts: [
        { uri: 'sip:alice@192.0.2.10:5060', q: 1, source: 'udp:192.0.2.10:5060', expires: new Date(now + 3_600_000).toISOString() },
        { uri: 'sip:alice@192.0.2.11:5060', q: 0.5 },
      ],
    });
    expect(all.body[0].contacts[0].expiresIn).toBeGreaterThan(3590);
    expect((await s.api('GET', `/registrations?aor=${encodeURIComponent('sip:bob@example.com')}`)).body).toMatchObject([{ aor: 'sip:bob@example.com' }]);

    const one = await s.api('DELETE', `/registrations/${encodeURIComponent('sip:alice@example.com')}?contact=${encodeURIComponent('sip:alice@192.0.2.11:5060')}`);
    expect(one.body).toEqual({ aor: 'sip:alice@example.com', removed: 1 });
    const rest = await s.api('DELETE', `/registrations/${encodeURIComponent('sip:bob@example.com')}`);
    expect(rest.body).toEqual({ aor: 'sip:bob@example.com', removed: 1 });
    expect((await s.api('GET', '/registrations')).body).toMatchObject([{ aor: 'sip:alice@example.com', contacts: [{ uri: 'sip:alice@192.0.2.10:5060' }] }]);
    expect((await s.api('GET', '/registrations?aor=mailto:x')).status).toBe(400);
  }, 30_000);
});

describe('statistics through the admin API', () => {
  it('counts requests by method, responses by status, transactions, dialogs, sessions, registrations and apps', async () => {
    const s = await start({ dar: DAR });
    const peer = await UdpPeer.open();
    cleanups.push(() => peer.close());
    await s.api('POST', '/apps', archiveForm(await versionedArchive('1.0.0'), 'versioned.sar'));
    await invite(peer, s.config.sipPort);
    const stats = await eventually(async () => {
      const body = (await s.api('GET', '/stats')).body;
      expect(body.messages.requestsInByMethod).toMatchObject({ INVITE: 1, ACK: 1 });
      return body;
    }).then(async () => (await s.api('GET', '/stats')).body);
    expect(stats).toMatchObject({
      uptimeSeconds: expect.any(Number),
      messages: {
        requestsIn: 2,
        requestsInByMethod: { INVITE: 1, ACK: 1 },
        responsesOut: expect.any(Number),
        responsesOutByStatus: { '180': 1, '200': 1 },
        requestsOut: 0,
        requestsOutByMethod: {},
        responsesIn: 0,
        responsesInByStatus: {},
        malformedAnswered: 0,
        dropped: 0,
      },
      transactions: { live: expect.any(Number), created: 1, retransmissions: expect.any(Number), timeouts: 0, transportErrors: 0 },
      dialogs: { live: 1 },
      sessions: { applicationSessions: 1, sipSessions: 1, applicationSessionsCreated: 1, sipSessionsCreated: 1 },
      registrations: { aors: 0, contacts: 0 },
      applications: { active: 1, draining: 0 },
      layers: { transport: expect.any(Object), messages: expect.any(Object), transactions: expect.any(Object), container: expect.any(Object) },
    });
  }, 30_000);
});

describe('the admin account', () => {
  it('without SIPLET_ADMIN_PASSWORD, is generated at the first start only, printed once, stored as a hash', async () => {
    const appsDir = tempDir('siplet-admin-apps-');
    const dataDir = tempDir('siplet-admin-data-');
    const runStart = async (env: Record<string, string>): Promise<string> => {
      const signals = new EventEmitter();
      let out = '';
      const sipPort = await freePort();
      const httpPort = await freePort();
      const exit = runCli({
        argv: ['start', '--host', '127.0.0.1', '--sip-port', String(sipPort), '--http-port', String(httpPort), '--apps', appsDir, '--data', dataDir],
        env,
        cwd: appsDir,
        stdout: { write: (t: string) => (out += t) },
        stderr: { write: (t: string) => (out += t) },
        readFile: () => undefined,
        createLogger: () => silentLogger(),
        signals,
        exit: () => undefined,
      });
      // Up once /health answers; then the admin API is checked with what was printed.
      await eventually(async () => expect((await fetch(`http://127.0.0.1:${httpPort}/health`)).status).toBe(200), 15_000);
      const printed = /password: {2}(\S+)/.exec(out)?.[1];
      const tries = printed === undefined ? [] : [printed];
      for (const password of tries) {
        const res = await fetch(`http://127.0.0.1:${httpPort}/admin/api/apps`, { headers: { authorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}` } });
        expect(res.status).toBe(200);
      }
      signals.emit('SIGTERM');
      expect(await exit).toBe(0);
      return out;
    };

    const first = await runStart({});
    expect(first).toContain('Siplet admin console: first start, a password was generated.');
    expect(first).toContain('It is shown this once and stored only as a hash');
    const password = /password: {2}(\S+)/.exec(first)![1]!;
    expect(password).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const files = Buffer.concat(['siplet.db', 'siplet.db-wal'].flatMap((f) => { try { return [readFileSync(join(dataDir, f))]; } catch { return []; } }));
    expect(files.includes(Buffer.from(password))).toBe(false);

    const second = await runStart({});
    expect(second).not.toContain('password');

    // SIPLET_ADMIN_PASSWORD, once set, replaces it.
    const s = await start({ appsDir, dataDir, env: { SIPLET_ADMIN_PASSWORD: PASSWORD } });
    expect((await s.api('GET', '/apps')).status).toBe(200);
    const old = await fetch(`${s.url}/admin/api/apps`, { headers: { authorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}` } });
    expect(old.status).toBe(401);
  }, 60_000);

  it('lets the signed-in admin change their own password', async () => {
    const s = await start();
    expect((await s.api('PUT', '/account/password', { password: 'brand-new-admin-password' })).status).toBe(204);
    expect((await s.api('GET', '/apps')).status).toBe(401);
    const res = await fetch(`${s.url}/admin/api/apps`, { headers: { authorization: `Basic ${Buffer.from('admin:brand-new-admin-password').toString('base64')}` } });
    expect(res.status).toBe(200);
    expect(s.logs.find((l) => l['action'] === 'account.password')).toMatchObject({ user: 'admin', account: 'admin' });
  }, 30_000);
});
