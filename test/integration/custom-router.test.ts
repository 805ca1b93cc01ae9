/**
 * A custom application router plugged in by configuration (--router): Siplet
 * loads the module, calls init, tells it about deployments, and asks it for
 * every initial request.
 *
 *   peer                    Siplet ──getNextApplication()──► custom router (records the call)
 *    | OPTIONS ─────────────► |   no application named ─► 200 from the core
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createConfig } from '../../src/config/index.js';
import { startServer } from '../../src/server.js';
import { silentLogger } from '../../src/util/index.js';
import { freePort } from '../interop/harness/sipp.js';
import { optionsRequest, UdpPeer } from '../support/wire.js';

const ROUTER = `
export default class RecordingRouter {
  init() { globalThis.__sipletRouterCalls = []; }
  destroy() { globalThis.__sipletRouterDestroyed = true; }
  applicationDeployed() {}
  applicationUndeployed() {}
  getNextApplication(request, region, directive) {
    globalThis.__sipletRouterCalls.push(request.method + ' ' + directive);
    return undefined;
  }
}
`;

describe('custom application router from configuration', () => {
  it('is loaded, initialised, asked for each initial request, and destroyed on close', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'siplet-router-'));
    writeFileSync(join(dir, 'router.mjs'), ROUTER);
    const port = await freePort();
    const server = await startServer(
      createConfig({ host: '127.0.0.1', sipPort: port, httpPort: await freePort(), appsDir: dir, dataDir: dir, router: join(dir, 'router.mjs') }),
      silentLogger(),
    );
    const peer = await UdpPeer.open();
    try {
      await peer.send(optionsRequest(port), port);
      expect(await peer.waitFor(() => peer.statuses.includes(200))).toBe(true);
      expect((globalThis as { __sipletRouterCalls?: string[] }).__sipletRouterCalls).toEqual(['OPTIONS NEW']);
    } finally {
      await peer.close();
      await server.close();
    }
    expect((globalThis as { __sipletRouterDestroyed?: boolean }).__sipletRouterDestroyed).toBe(true);
  });

  it('refuses to start with a module that is not an application router, saying what is wrong', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'siplet-router-'));
    writeFileSync(join(dir, 'bad.mjs'), 'export default { hello: 1 };');
    await expect(
      startServer(createConfig({ host: '127.0.0.1', sipPort: await freePort(), httpPort: await freePort(), appsDir: dir, dataDir: dir, router: join(dir, 'bad.mjs') }), silentLogger()),
    ).rejects.toThrow(/getNextApplication/);
  });
});
