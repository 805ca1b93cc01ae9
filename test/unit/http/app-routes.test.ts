import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { AppRoutes, RESERVED_PATHS } from '../../../src/http/index.js';
import { silentLogger } from '../../../src/util/index.js';

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

async function serve(routes: AppRoutes): Promise<string> {
  const app = express();
  app.use(routes.dispatch);
  const server = createServer(app);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('AppRoutes: the dispatch table of converged apps', () => {
  it('sends /<name>/… to that app\'s routes only, with paths relative to /<name>', async () => {
    const routes = new AppRoutes(silentLogger());
    for (const name of ['one', 'two']) {
      const r = express.Router();
      r.get('/', (req, res) => void res.send(`${name} root ${req.baseUrl}`));
      r.get('/who', (req, res) => void res.send(`${name} ${req.baseUrl} ${req.path}`));
      routes.mount(name, r);
    }
    const url = await serve(routes);
    expect(await (await fetch(`${url}/one/who`)).text()).toBe('one /one /who');
    expect(await (await fetch(`${url}/two/who?x=1`)).text()).toBe('two /two /who');
    expect(await (await fetch(`${url}/two`)).text()).toBe('two root /two');
    expect((await fetch(`${url}/three/who`)).status).toBe(404);
    expect((await fetch(`${url}/onex/who`)).status).toBe(404);
    expect(routes.names()).toEqual(['one', 'two']);
  });

  it('swaps an app\'s routes when mounted again and drops them when unmounted', async () => {
    const routes = new AppRoutes(silentLogger());
    const url = await serve(routes);
    routes.mount('app', (_req, res) => void res.end('v1'));
    expect(await (await fetch(`${url}/app/`)).text()).toBe('v1');
    routes.mount('app', (_req, res) => void res.end('v2'));
    expect(await (await fetch(`${url}/app/`)).text()).toBe('v2');
    routes.unmount('app');
    expect((await fetch(`${url}/app/`)).status).toBe(404);
  });

  it('answers an app\'s error with its 4xx status or 500, never a stack trace, and serves on', async () => {
    const routes = new AppRoutes(silentLogger());
    const r = express.Router();
    r.get('/boom', () => {
      throw new Error('secret detail');
    });
    r.get('/async', async () => {
      throw new Error('later');
    });
    r.post('/json', express.json(), (_req, res) => void res.end('ok'));
    routes.mount('app', r);
    const url = await serve(routes);
    const boom = await fetch(`${url}/app/boom`);
    expect(boom.status).toBe(500);
    expect(await boom.text()).toBe('{"error":"Internal Server Error"}');
    expect((await fetch(`${url}/app/async`)).status).toBe(500);
    const bad = await fetch(`${url}/app/json`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' });
    expect(bad.status).toBe(400);
    expect((await fetch(`${url}/app/json`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(200);
  });

  it('refuses Siplet\'s own paths and names that are not a path segment', () => {
    const routes = new AppRoutes(silentLogger());
    for (const name of RESERVED_PATHS) expect(() => routes.mount(name, () => undefined)).toThrow(/Siplet's own path/);
    expect(() => routes.mount('a/b', () => undefined)).toThrow(/path segment/);
    expect(routes.names()).toEqual([]);
  });
});
