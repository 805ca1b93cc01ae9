/**
 * Application composition (JSR 289 §15): one INVITE flows through three
 * applications chosen in turn by the default application router; each
 * record-routes, so the ACK and the BYE follow the same chain, in both
 * directions. The router state travels in Route parameters, the chain of
 * sessions in Record-Route parameters.
 *
 *   alice            Siplet: screen ─► audit ─► locate                  bob
 *     | INVITE ---------> | (router NEW: screen)                          |
 *     |                   | proxy ─► Route: Siplet;siplet-ar (CONTINUE: audit)
 *     |                   | proxy ─► Route: Siplet;siplet-ar (CONTINUE: locate)
 *     |                   | locate rewrites the target ─► INVITE -------> |
 *     | <--------------------------------------------------------- 200   |  (3 Record-Routes)
 *     | ACK, BYE -------> | screen ─► audit ─► locate ─► ---------------> |
 *     | <--------------------------------------------- BYE ------------- |  locate ─► audit ─► screen
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SipApplication, SipServlet, parseUri, type SipServletRequest } from 'siplet/sdk';
import { createTestSiplet, type ScriptedUa, type TestSiplet } from 'siplet/sdk/testing';
import { createMemoryDataStore } from '../../../src/store/index.js';

const trace: string[] = [];

function proxyingServlet(name: string, target?: () => string) {
  @SipApplication({ name })
  @SipServlet({ name })
  class Hop extends SipServlet {
    override doInvite(req: SipServletRequest): void {
      trace.push(`${name}:INVITE:${req.isInitial() ? 'initial' : 'subsequent'}:${req.getRoutingRegion() ?? '-'}`);
      if (!req.isInitial()) return;
      const proxy = req.getProxy();
      proxy.setRecordRoute(true);
      proxy.proxyTo(target ? parseUri(target())! : req.getRequestURI());
    }
    override doAck(): void {
      trace.push(`${name}:ACK`);
    }
    override doBye(): void {
      trace.push(`${name}:BYE`);
    }
  }
  return Hop;
}

const DAR = [
  'INVITE: ("screen", "DAR:From", "ORIGINATING", "", "NO_ROUTE", "0"), ("audit", "DAR:From", "NEUTRAL", "", "NO_ROUTE", "1"), ("locate", "DAR:To", "TERMINATING", "", "NO_ROUTE", "2")',
].join('\n');

let siplet: TestSiplet;
let alice: ScriptedUa;
let bob: ScriptedUa;

beforeEach(async () => {
  trace.length = 0;
  siplet = await createTestSiplet({ dar: DAR });
  alice = await siplet.ua('alice');
  bob = await siplet.ua('bob');
  await siplet.deploy({ exports: { Screen: proxyingServlet('screen') } });
  await siplet.deploy({ exports: { Audit: proxyingServlet('audit') } });
  await siplet.deploy({ exports: { Locate: proxyingServlet('locate', () => bob.uri.toString()) } });
});

afterEach(async () => {
  await siplet.close();
});

describe('application composition through the default application router', () => {
  it('routes one INVITE through three apps in order, and its ACK and BYEs through the same chain both ways', async () => {
    const invite = alice.createRequest('INVITE', { to: 'sip:bob@127.0.0.1', body: 'v=0\r\n' });
    await alice.send(invite);
    const atBob = await bob.expectRequest('INVITE');
    expect(trace).toEqual(['screen:INVITE:initial:ORIGINATING', 'audit:INVITE:initial:NEUTRAL', 'locate:INVITE:initial:TERMINATING']);
    // Each application record-routed; the router state Routes were consumed on the way.
    expect(atBob.recordRoute).toHaveLength(3);
    expect(atBob.route).toHaveLength(0);
    expect(atBob.maxForwards).toBe(67);

    await bob.respond(atBob, 200, { toTag: 'b1' });
    const ok = await alice.expectResponse(invite, 200);
    expect(ok.recordRoute).toHaveLength(3);
    expect(ok.via).toHaveLength(1);

    trace.length = 0;
    await alice.ack(invite, ok);
    await bob.expectRequest('ACK');
    expect(trace).toEqual(['screen:ACK', 'audit:ACK', 'locate:ACK']);

    trace.length = 0;
    const bye = bob.createInDialogAsUas(atBob, 'b1', 'BYE');
    await bob.send(bye);
    const byeAtAlice = await alice.expectRequest('BYE');
    expect(trace).toEqual(['locate:BYE', 'audit:BYE', 'screen:BYE']);
    await alice.respond(byeAtAlice, 200);
    expect((await bob.expectResponse(bye)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 20));
    expect(siplet.container.stats().sessions).toMatchObject({ applicationSessions: 0, sipSessions: 0 });
  });

  it('skips an application once it is undeployed (the router is told)', async () => {
    await siplet.container.undeploy('audit');
    const invite = alice.createRequest('INVITE', { to: 'sip:bob@127.0.0.1', body: 'v=0\r\n' });
    await alice.send(invite);
    const atBob = await bob.expectRequest('INVITE');
    expect(trace).toEqual(['screen:INVITE:initial:ORIGINATING', 'locate:INVITE:initial:TERMINATING']);
    expect(atBob.recordRoute).toHaveLength(2);
  });
});

describe('requests no application takes', () => {
  /*
   *  alice                Siplet (no application, relay to 127.0.0.3 only)       bob (127.0.0.3)
   *    | INVITE sip:x@127.0.0.1 ──► 404 (our own domain: nobody serves it)
   *    | INVITE sip:x@example.com ──► 403 (not ours, not a relay domain)
   *    | INVITE sip:bob@127.0.0.3 ─────────────────────────────────────────────► |
   *    | <──────────────────────────────────────────────────────────────── 200 ─ |
   */
  it('answers 404 for its own domains, 403 for others, and relays only to the configured domains', async () => {
    await siplet.close();
    siplet = await createTestSiplet({ config: { relayDomains: ['127.0.0.3'] } });
    alice = await siplet.ua('alice');
    bob = await siplet.ua('bob');
    const own = alice.createRequest('INVITE', { to: 'sip:nobody@127.0.0.1' });
    await alice.send(own);
    expect((await alice.expectResponse(own)).status).toBe(404);
    const foreign = alice.createRequest('INVITE', { to: 'sip:somebody@example.com' });
    await alice.send(foreign);
    const refused = await alice.expectResponse(foreign);
    expect(refused.status).toBe(403);
    expect(refused.reason).toMatch(/relay/i);
    const relayed = alice.createRequest('INVITE', { to: bob.uri });
    await alice.send(relayed);
    const atBob = await bob.expectRequest('INVITE');
    expect(atBob.maxForwards).toBe(69);
    await bob.respond(atBob, 200, { toTag: 'b1' });
    expect((await alice.expectResponse(relayed, 200)).to.tag).toBe('b1');
  });
});

describe('OPTIONS no application takes', () => {
  it('answers 200 for its own domain and 403 for any other (never speaks for another domain)', async () => {
    const own = alice.createRequest('OPTIONS', { to: 'sip:127.0.0.1' });
    await alice.send(own);
    expect((await alice.expectResponse(own)).status).toBe(200);
    const foreign = alice.createRequest('OPTIONS', { to: 'sip:other.example.org' });
    await alice.send(foreign);
    expect((await alice.expectResponse(foreign)).status).toBe(403);
  });
});

describe('realms are domains this server serves', () => {
  it('answers OPTIONS for a realm of the data store with 200, not 403', async () => {
    await siplet.close();
    const store = createMemoryDataStore();
    await store.users.addRealm('realm.example');
    siplet = await createTestSiplet({ store });
    alice = await siplet.ua('alice');
    const options = alice.createRequest('OPTIONS', { to: 'sip:realm.example' });
    await alice.send(options);
    expect((await alice.expectResponse(options)).status).toBe(200);
  });
});
