/**
 * `siplet deploy`, `undeploy` and `apps` against a small fake admin API (express), on the routes
 * the admin console serves: POST /admin/api/apps (multipart field "archive"), DELETE
 * /admin/api/apps/:name[?force=true], GET /admin/api/apps, all behind HTTP Basic auth.
 */
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/main.js';

interface Seen {
  method: string;
  path: string;
  query: Record<string, unknown>;
  filename?: string;
  archiveBytes?: number;
}

const AUTH = `Basic ${Buffer.from('admin:s3cret').toString('base64')}`;
const seen: Seen[] = [];
let server: Server;
let url: string;
let port: number;
let dir: string;
let archive: string;
const ARCHIVE = Buffer.concat([Buffer.from('PK\u0003\u0004'), Buffer.alloc(2000, 0x41)]);

beforeAll(async () => {
  const app = express();
  app.use('/admin/api', (req, res, next) => {
    if (req.headers.authorization !== AUTH) {
      res.status(401).set('WWW-Authenticate', 'Basic realm="siplet admin"').json({ error: { code: 'SIPLET_ADMIN_UNAUTHORIZED', message: 'Wrong user or password' } });
      return;
    }
    next();
  });
  app.post('/admin/api/apps', express.raw({ type: 'multipart/form-data', limit: '10mb' }), (req, res) => {
    const body = req.body as Buffer;
    const header = /name="archive"; filename="([^"]+)"/.exec(body.toString('latin1'));
    const start = body.indexOf(ARCHIVE.subarray(0, 8));
    seen.push({ method: 'POST', path: req.path, query: req.query, filename: header?.[1], archiveBytes: start >= 0 && body.subarray(start, start + ARCHIVE.length).equals(ARCHIVE) ? ARCHIVE.length : 0 });
    if (header?.[1] === 'broken.sar') {
      res.status(422).json({ error: { code: 'SIPLET_DEPLOY_FAILED', message: 'Cannot deploy archive broken.sar: it is not a zip archive' } });
      return;
    }
    res.status(201).json({ name: 'call-screening', version: '1.0.0', state: 'active', sessions: 0 });
  });
  app.delete('/admin/api/apps/:name', (req, res) => {
    seen.push({ method: 'DELETE', path: req.path, query: req.query });
    if (req.params.name !== 'call-screening') {
      res.status(404).json({ error: { code: 'SIPLET_DEPLOY_FAILED', message: `No application named ${req.params.name} is deployed` } });
      return;
    }
    res.status(202).json({ name: 'call-screening', state: req.query['force'] === 'true' ? 'undeployed' : 'draining' });
  });
  app.get('/admin/api/apps', (req, res) => {
    seen.push({ method: 'GET', path: req.path, query: req.query });
    res.json([
      { name: 'call-screening', version: '1.1.0', state: 'active', sessions: 3 },
      { name: 'call-screening', version: '1.0.0', state: 'draining', sessions: 12 },
    ]);
  });
  server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
  url = `http://127.0.0.1:${port}`;
  dir = await mkdtemp(join(tmpdir(), 'siplet-cli-'));
  archive = join(dir, 'call-screening.sar');
  await writeFile(archive, ARCHIVE);
  await writeFile(join(dir, 'broken.sar'), ARCHIVE);
});

afterAll(async () => {
  server?.close();
  await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
  seen.length = 0;
});

async function cli(argv: string[], env: Record<string, string> = { SIPLET_ADMIN_PASSWORD: 's3cret' }): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli({
    argv,
    env,
    cwd: dir,
    stdout: { write: (t: string) => (out += t) },
    stderr: { write: (t: string) => (err += t) },
    readFile: () => undefined,
  });
  return { code, out, err };
}

describe('siplet deploy / undeploy / apps', () => {
  it('deploy uploads the archive in the multipart field "archive", with Basic auth', async () => {
    const r = await cli(['deploy', archive, '--url', url, '--user', 'admin']);
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(r.out).toBe('deployed call-screening 1.0.0 (active)\n');
    expect(seen).toEqual([{ method: 'POST', path: '/admin/api/apps', query: {}, filename: 'call-screening.sar', archiveBytes: ARCHIVE.length }]);
  });

  it('takes the user from SIPLET_ADMIN_USER and the URL from the configured HTTP port', async () => {
    const r = await cli(['apps'], { SIPLET_ADMIN_USER: 'admin', SIPLET_ADMIN_PASSWORD: 's3cret', SIPLET_HTTP_PORT: String(port) });
    expect(r.code).toBe(0);
    expect(r.out).toBe(
      ['NAME            VERSION  STATE     SESSIONS', 'call-screening  1.1.0    active    3', 'call-screening  1.0.0    draining  12', ''].join('\n'),
    );
    const json = await cli(['apps', '--json', '--url', url, '--user', 'admin']);
    expect(JSON.parse(json.out)).toHaveLength(2);
  });

  it('undeploy is graceful unless --force', async () => {
    expect((await cli(['undeploy', 'call-screening', '--url', url, '--user', 'admin'])).out).toMatch(/undeploying call-screening: it takes no new calls/);
    expect((await cli(['undeploy', 'call-screening', '--force', '--url', url, '--user', 'admin'])).out).toMatch(/its calls were ended/);
    expect(seen.map((s) => [s.method, s.path, s.query])).toEqual([
      ['DELETE', '/admin/api/apps/call-screening', {}],
      ['DELETE', '/admin/api/apps/call-screening', { force: 'true' }],
    ]);
  });

  it('shows the server\'s message when it refuses, and exits 1', async () => {
    const denied = await cli(['apps', '--url', url, '--user', 'admin'], { SIPLET_ADMIN_PASSWORD: 'wrong' });
    expect(denied.code).toBe(1);
    expect(denied.err).toMatch(/^siplet apps: GET http:\/\/127\.0\.0\.1:\d+\/admin\/api\/apps failed: 401 Wrong user or password\. Check --user/);
    const broken = await cli(['deploy', join(dir, 'broken.sar'), '--url', url, '--user', 'admin']);
    expect(broken).toMatchObject({ code: 1 });
    expect(broken.err).toContain('422 Cannot deploy archive broken.sar: it is not a zip archive');
    const unknown = await cli(['undeploy', 'nope', '--url', url, '--user', 'admin']);
    expect(unknown.err).toContain('404 No application named nope is deployed');
  });

  it('says when the server cannot be reached, or the archive read', async () => {
    const closed = express().listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const closedPort = (closed.address() as AddressInfo).port;
    closed.close();
    await once(closed, 'close');
    const r = await cli(['apps', '--url', `http://127.0.0.1:${closedPort}`]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`Cannot reach the admin API at http://127.0.0.1:${closedPort} (ECONNREFUSED). Is siplet running?`);
    const missing = await cli(['deploy', join(dir, 'missing.sar'), '--url', url]);
    expect(missing.err).toMatch(/Cannot read .*missing\.sar/);
  });

  it('refuses bad usage with exit 2', async () => {
    expect((await cli(['deploy'])).code).toBe(2);
    expect((await cli(['undeploy', 'a', 'b'])).err).toMatch(/unexpected argument b/);
    expect((await cli(['apps', '--bogus'])).err).toMatch(/unknown option --bogus/);
    expect((await cli(['pack', 'x', '-o'])).err).toMatch(/-o needs a value/);
    expect((await cli(['deploy', '--help'])).out).toMatch(/^Usage: siplet deploy <file\.sar>/);
    expect(seen).toEqual([]);
  });
});
