/**
 * A converged app's HTTP routes follow its deployments: a new version's routes replace the old
 * version's at once (the old one drains its calls without routes), a version without routes
 * removes them, undeploying removes them, and other apps' routes are never disturbed.
 *
 *   GET /versioned/version ─► "1.0.0"   redeploy 2.0.0 (1.0.0 drains a live call) ─► "2.0.0"
 *   redeploy 3.0.0 without http ─► 404  undeploy ─► 404   /other/version ─► "other" throughout
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestSiplet, type ScriptedUa, type TestSiplet } from 'siplet/sdk/testing';
import { removeApps, writeApp } from '../../unit/container/deploy/app-fixtures.js';

/** An app folder: answers INVITE 200; with `http`, its routes answer GET /version with its version. */
function app(name: string, version: string, http: boolean): Record<string, string> {
  return {
    'siplet.json': JSON.stringify({ name, version, mainServlet: 'main', ...(http && { http: { router: 'routes' } }) }),
    'index.js': `
let Main = class Main extends SipServlet {
  async doInvite(req) { await req.createResponse(200).send(); }
  doAck() {}
  async doBye(req) { await req.createResponse(200).send(); }
};
Main = __decorate([SipApplication({ name: '${name}' }), Servlet({ name: 'main' })], Main);
export { Main };
export function routes(ctx) {
  return (req, res, next) => {
    if (req.url !== '/version') return next();
    res.setHeader('content-type', 'text/plain');
    res.end(ctx.applicationName === '${name}' ? '${version}' : 'wrong context');
  };
}
`,
  };
}

let siplet: TestSiplet;
let alice: ScriptedUa;

beforeEach(async () => {
  siplet = await createTestSiplet({ http: true, dar: 'INVITE: ("versioned", "DAR:From", "ORIGINATING", "", "NO_ROUTE", "0")' });
  alice = await siplet.ua('alice');
});

afterEach(async () => {
  await siplet.close();
  await removeApps();
});

async function version(name: string): Promise<string | number> {
  const res = await fetch(`${siplet.httpUrl}/${name}/version`);
  return res.status === 200 ? await res.text() : res.status;
}

describe('converged routes across deployments', () => {
  it('swaps the routes on redeploy (the draining version keeps none), drops them with a version that has none, and on undeploy', async () => {
    await siplet.container.deployFolder(await writeApp(app('other', 'other', true)));
    await siplet.container.deployFolder(await writeApp(app('versioned', '1.0.0', true)));
    expect(await version('versioned')).toBe('1.0.0');

    // A live call keeps 1.0.0 draining after the redeploy.
    const invite = alice.createRequest('INVITE', { to: 'sip:bob@127.0.0.1' });
    await alice.send(invite);
    const ok = await alice.expectResponse(invite, 200);
    await alice.ack(invite, ok);
    await siplet.container.deployFolder(await writeApp(app('versioned', '2.0.0', true)), { replace: true });
    expect(siplet.container.versions().map((v) => `${v.loaded.model.version}:${v.state}`)).toEqual(['other:active', '2.0.0:active', '1.0.0:draining']);
    expect(await version('versioned')).toBe('2.0.0');

    await siplet.container.deployFolder(await writeApp(app('versioned', '3.0.0', false)), { replace: true });
    expect(await version('versioned')).toBe(404);
    await siplet.container.deployFolder(await writeApp(app('versioned', '4.0.0', true)), { replace: true });
    expect(await version('versioned')).toBe('4.0.0');

    // The forced undeploy ends 1.0.0's call too: alice answers its BYE.
    const undeployed = siplet.container.undeploy('versioned', { force: true });
    expect(await version('versioned')).toBe(404);
    await alice.respond(await alice.expectRequest('BYE'), 200);
    await undeployed;
    expect(await version('other')).toBe('other');
  });

  it('refuses a deployment whose http.router names nothing it exports, saying what to fix', async () => {
    const files = app('versioned', '1.0.0', true);
    files['siplet.json'] = JSON.stringify({ name: 'versioned', version: '1.0.0', http: { router: 'missing' } });
    await expect(siplet.container.deployFolder(await writeApp(files))).rejects.toThrow(/"http\.router" names 'missing', which the entry module does not export/);
  });

  it('refuses a deployment whose router factory throws, and keeps the running version and its routes', async () => {
    await siplet.container.deployFolder(await writeApp(app('versioned', '1.0.0', true)));
    const files = app('versioned', '2.0.0', true);
    files['index.js'] = (files['index.js'] as string).replace('return (req, res, next) => {', "throw new Error('no database');\n  return (req, res, next) => {");
    await expect(siplet.container.deployFolder(await writeApp(files), { replace: true })).rejects.toThrow(/HTTP router 'routes' could not be built: no database/);
    expect(await version('versioned')).toBe('1.0.0');
  });
});
