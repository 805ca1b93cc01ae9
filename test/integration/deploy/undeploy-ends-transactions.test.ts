/**
 * What ending a version does to transactions still pending: an INVITE the app sent is cancelled,
 * one it received and has not answered gets 503, and a request it proxies has its branches
 * cancelled (the 487 goes upstream as the best response).
 *
 * UAC leg of an app (forced undeploy):
 *   alice               Siplet: app "versioned"              bob
 *     | INVITE ───────────► | doInvite: new INVITE ──────────► |
 *     |                     | <──────────────────────── 180    |
 *     |                     |  <── undeploy(force)             |
 *     | <──────────── 503   | CANCEL ────────────────────────► |
 *     | ACK ──────────────► | <──────────── 200 (CANCEL), 487  |
 *     |                     | ACK ───────────────────────────► |
 *
 * Proxy (forced undeploy):
 *   alice               Siplet: proxying app                 bob
 *     | INVITE ───────────► | INVITE (Record-Route) ─────────► |
 *     | <──────────── 180   | <──────────────────────── 180    |
 *     |                     |  <── undeploy(force)             |
 *     |                     | CANCEL ────────────────────────► |
 *     |                     | <──────────── 200 (CANCEL), 487  |
 *     | <──────────── 487   |                                  |
 */
import { afterEach, describe, expect, it } from 'vitest';
import { buildArchive } from '../../support/archives.js';
import { events, PRELUDE } from '../../unit/container/deploy/app-fixtures.js';
import { deployHarness, type DeployHarness } from './deploy-fixtures.js';

let h: DeployHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
  events().length = 0;
});

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
}

const DESCRIPTOR = JSON.stringify({ name: 'versioned', version: 'x', mainServlet: 'main' });

/** Calls bob on a new leg of its own and leaves alice's INVITE unanswered. */
const caller = (bob: string): string => `${PRELUDE}
let Caller = class Caller extends SipServlet {
  constructor(factory) { super(); this.factory = factory; }
  async doInvite(req) {
    const out = this.factory.createRequest({ appSession: req.getApplicationSession(), method: 'INVITE', from: 'sip:bridge@127.0.0.1', to: '${bob}' });
    await out.send();
  }
  doProvisionalResponse(res) { events.push('provisional ' + res.getStatus()); }
  doErrorResponse(res) { events.push('error ' + res.getStatus()); }
};
Caller = __decorate([SipApplication({ name: 'versioned' }), Servlet({ name: 'main' }), __param(0, inject(SIP_FACTORY))], Caller);
export { Caller };
`;

/** Proxies every INVITE to its Request-URI, record-routed. */
const PROXY = `${PRELUDE}
let Forward = class Forward extends SipServlet {
  doInvite(req) {
    const proxy = req.getProxy();
    proxy.setRecordRoute(true);
    proxy.proxyTo(req.getRequestURI());
  }
};
Forward = __decorate([SipApplication({ name: 'versioned' }), Servlet({ name: 'main' })], Forward);
export { Forward };
`;

describe('a forced undeploy ends pending transactions', () => {
  it('cancels the INVITE the app sent and answers 503 to the one it had not answered', async () => {
    h = await deployHarness();
    const alice = await h.siplet.ua('alice');
    const bob = await h.siplet.ua('bob');
    await h.deployer.deployArchive(await buildArchive({ 'siplet.json': DESCRIPTOR, 'index.js': caller(bob.uri.toString()) }));
    const invite = alice.createRequest('INVITE', { to: 'sip:bob@127.0.0.1' });
    await alice.send(invite);
    const leg = await bob.expectRequest('INVITE');
    await bob.respond(leg, 180, { toTag: 'bobtag' });
    await new Promise((r) => setTimeout(r, 50));

    const result = await h.deployer.undeploy('versioned', { force: true });
    const refused = await alice.expectResponse(invite, (s) => s >= 200, 2000);
    expect(refused.status).toBe(503);
    await alice.ack(invite, refused);
    const cancel = await bob.expectRequest('CANCEL', { timeoutMs: 2000 });
    expect(cancel.callId).toBe(leg.callId);
    await bob.respond(cancel, 200, { toTag: 'bobtag' });
    await bob.respond(leg, 487, { toTag: 'bobtag' });
    await within(result.finished, 6000, 'the forced undeploy');
    expect(h.deployer.list()).toEqual([]);
  }, 15_000);

  it('cancels the branches of a request the app proxies; the caller gets 487', async () => {
    h = await deployHarness();
    await h.deployer.deployArchive(await buildArchive({ 'siplet.json': DESCRIPTOR, 'index.js': PROXY }));
    const alice = await h.siplet.ua('alice');
    const bob = await h.siplet.ua('bob');
    const invite = alice.createRequest('INVITE', { to: bob.uri });
    await alice.send(invite);
    const forwarded = await bob.expectRequest('INVITE');
    expect(forwarded.get('record-route')).toBeDefined();
    await bob.respond(forwarded, 180, { toTag: 'bobtag' });
    await alice.expectResponse(invite, 180);

    const result = await h.deployer.undeploy('versioned', { force: true });
    const cancel = await bob.expectRequest('CANCEL', { timeoutMs: 2000 });
    await bob.respond(cancel, 200, { toTag: 'bobtag' });
    await bob.respond(forwarded, 487, { toTag: 'bobtag' });
    const final = await alice.expectResponse(invite, (s) => s >= 200, 2000);
    expect(final.status).toBe(487);
    await alice.ack(invite, final);
    await within(result.finished, 6000, 'the forced undeploy');
  }, 15_000);
});
