/**
 * The JSR 289 B2buaHelper in the container, driven by hand by the HelperApp.
 *
 *   alice               Siplet: b2b-helper                                bob
 *     | INVITE ---------> | createRequest(req, linked) ─► INVITE --------> |
 *     |                   | <------------------------------------- 180/200 |
 *     | <----- 180, 200 - | (getLinkedSipServletRequest → createResponse)   |
 *     | ACK ------------> | createRequestFor(linked, ack) ─► ACK ---------> |
 *     | INFO -----------> | createRequestFor(linked, info, X-Relayed) ----> |
 *     | BYE ------------> | createRequestFor(linked, bye) ─► BYE ---------> |
 *
 * Forked 2xx answered upstream on a derived session:
 *   alice               Siplet                                           bob (forking)
 *     |                   | <------------------------------- 200 (tag b1) |
 *     | <--- 200 (tag x)  |                                                  |
 *     |                   | <------------------------------- 200 (tag b2) |  derived UAC session
 *     | <--- 200 (tag y)  | createResponseToOriginalRequest(caller, 200)   |  derived UAS session
 *     | ACK x, ACK y ---> | ACK b1, ACK b2 -------------------------------> |
 *
 * Composition: the new leg goes through the application router (CONTINUE) first.
 *   alice ─► b2b-helper ─► (Route: Siplet;siplet-ar) ─► screen (proxy) ─► bob
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createTestSiplet, type ScriptedUa, type TestSiplet } from 'siplet/sdk/testing';
import { SipApplication, SipServlet, type SipServletRequest } from 'siplet/sdk';
import { HelperApp, resetTrace, seen, trace } from './b2bua-apps.js';
import { noSessionsLeft, SDP_A, SDP_B } from './call-helpers.js';

const DAR = 'INVITE: ("b2b-helper", "DAR:From", "ORIGINATING", "", "NO_ROUTE", "0")';

let siplet: TestSiplet;
let alice: ScriptedUa;
let bob: ScriptedUa;

async function start(dar = DAR, extra: Record<string, unknown>[] = []): Promise<void> {
  resetTrace();
  siplet = await createTestSiplet({ apps: [{ exports: { HelperApp } }, ...extra.map((exports) => ({ exports }))], dar });
  alice = await siplet.ua('alice');
  bob = await siplet.ua('bob');
}

afterEach(async () => {
  await siplet.close();
});

function invite(op: string, headers: Record<string, string> = {}) {
  return alice.createRequest('INVITE', { to: 'sip:bob@example.com', body: SDP_A, headers: { 'X-Op': op, 'X-Target': bob.uri.toString(), ...headers } });
}

describe('B2buaHelper: two linked legs', () => {
  it('creates a linked leg, relays responses, ACK, INFO and BYE, and reports pending messages', async () => {
    await start();
    const req = invite('relay', { Subject: 'copied', 'X-App': 'copied too' });
    await alice.send(req);
    const atBob = await bob.expectRequest('INVITE');
    expect(seen).toMatchObject({ linkedSession: true, linkedBack: true, linkedRequest: true, sameAppSession: true, pendingUasBefore: ['INVITE'], secondLinkedLeg: 'IllegalStateError', pendingUac: ['INVITE'] });
    // A copy of the original: its headers and content, but a new Call-ID, From tag and one hop less.
    expect(atBob.get('subject')).toBe('copied');
    expect(atBob.get('x-app')).toBe('copied too');
    expect(atBob.body.toString()).toBe(SDP_A);
    expect(atBob.callId).not.toBe(req.callId);
    expect(atBob.from.uri.toString()).toBe(req.from.uri.toString());
    expect(atBob.from.tag).not.toBe(req.from.tag);
    expect(atBob.to.tag).toBeUndefined();
    expect(atBob.maxForwards).toBe(69);
    expect(atBob.via).toHaveLength(1);

    await bob.respond(atBob, 180, { toTag: 'b1' });
    await alice.expectResponse(req, 180);
    await bob.respond(atBob, 200, { toTag: 'b1', body: SDP_B });
    const ok = await alice.expectResponse(req, 200);
    expect(ok.body.toString()).toBe(SDP_B);
    expect(seen['pendingUacAfter2xx']).toEqual(['200 INVITE']);
    await alice.ack(req, ok);
    await bob.expectRequest('ACK');
    expect(seen).toMatchObject({ pendingBeforeAck: ['200 INVITE'], pendingAfterAck: [], unlinked: true, relinked: true });

    const info = alice.createInDialog(req, ok, 'INFO', { body: 'x', contentType: 'text/plain' });
    await alice.send(info);
    const infoAtBob = await bob.expectRequest('INFO');
    expect(infoAtBob.get('x-relayed')).toBe('yes');
    expect(infoAtBob.body.toString()).toBe('x');
    expect(seen['pendingUasINFO']).toEqual(['INFO']);
    await bob.respond(infoAtBob, 200);
    expect((await alice.expectResponse(info)).status).toBe(200);

    const bye = alice.createInDialog(req, ok, 'BYE');
    await alice.send(bye);
    await bob.respond(await bob.expectRequest('BYE'), 200);
    expect((await alice.expectResponse(bye)).status).toBe(200);
    await noSessionsLeft(siplet);
  });

  it('cancels the leg with createCancel(session), and relays the caller\'s CANCEL the same way', async () => {
    await start();
    const req = invite('cancel-on-180');
    await alice.send(req);
    const atBob = await bob.expectRequest('INVITE');
    await bob.respond(atBob, 180, { toTag: 'b1' });
    const cancelAtBob = await bob.expectRequest('CANCEL');
    expect(seen['cancelMethod']).toBe('CANCEL');
    await bob.respond(cancelAtBob, 200);
    await bob.respond(atBob, 487, { toTag: 'b1' });
    expect((await alice.expectResponse(req)).status).toBe(487);
    await noSessionsLeft(siplet);

    const again = invite('relay');
    await alice.send(again);
    const atBob2 = await bob.expectRequest('INVITE');
    await bob.respond(atBob2, 180, { toTag: 'b2' });
    await alice.expectResponse(again, 180);
    await alice.cancel(again);
    expect((await alice.expectResponse(again)).status).toBe(487);
    const cancel2 = await bob.expectRequest('CANCEL');
    await bob.respond(cancel2, 200);
    await bob.respond(atBob2, 487, { toTag: 'b2' });
    expect(trace).toContain('doCancel');
    await noSessionsLeft(siplet);
  });

  it('applies a header map: From, To, Contact user part, Route and plain headers; refuses system headers', async () => {
    await start();
    const map = {
      From: ['"Desk" <sip:desk@example.com>'],
      To: ['<sip:carol@example.com>'],
      Contact: ['<sip:b2bleg@ignored.invalid>'],
      Route: [`<sip:${bob.address}:5060;transport=tcp;lr>`],
      Subject: ['from the map'],
      'X-Gone': [],
    };
    const req = invite('headers', { 'X-Map': JSON.stringify(map), 'X-Gone': 'was here' });
    await alice.send(req);
    const atBob = await bob.expectRequest('INVITE');
    expect(atBob.from.displayName).toBe('Desk');
    expect(atBob.from.uri.toString()).toBe('sip:desk@example.com');
    expect(atBob.from.tag).toBeDefined();
    expect(atBob.to.uri.toString()).toBe('sip:carol@example.com');
    expect(atBob.contact[0]!.uri.toString()).toBe('sip:b2bleg@127.0.0.1:5060;transport=tcp');
    expect(atBob.route.map((r) => r.uri.toString())).toEqual([`sip:${bob.address}:5060;transport=tcp;lr`]);
    expect(atBob.get('subject')).toBe('from the map');
    expect(atBob.get('x-gone')).toBeUndefined();
    await bob.respond(atBob, 486, { toTag: 'b1' });
    expect((await alice.expectResponse(req)).status).toBe(486);
    await noSessionsLeft(siplet);

    for (const [bad, error] of [
      [{ Via: ['SIP/2.0/UDP 10.0.0.1'] }, 'SystemHeaderError: Via is a system header'],
      [{ 'Call-ID': ['x'] }, 'SystemHeaderError: Call-ID is a system header'],
      [{ From: ['<sip:a@example.com>;tag=1'] }, 'SystemHeaderError: From is a system header'],
    ] as const) {
      resetTrace();
      const r = invite('headers', { 'X-Map': JSON.stringify(bad) });
      await alice.send(r);
      expect((await alice.expectResponse(r)).status).toBe(500);
      expect(String(seen['createError'])).toContain(error);
    }
    await noSessionsLeft(siplet);
  });

  it('refuses getProxy() once the request is a B2BUA\'s, and getB2buaHelper() once it is proxied', async () => {
    await start();
    const req = invite('b2b-then-proxy');
    await alice.send(req);
    expect((await alice.expectResponse(req)).status).toBe(603);
    expect(seen['proxyError']).toBe('IllegalStateError');

    const proxied = invite('proxy-then-b2b');
    await alice.send(proxied);
    const atBob = await bob.expectRequest('INVITE');
    expect(atBob.callId).toBe(proxied.callId);
    await bob.respond(atBob, 486, { toTag: 'b1' });
    expect((await alice.expectResponse(proxied)).status).toBe(486);
    expect(seen['b2bError']).toBe('IllegalStateError');
  });
});

describe('B2buaHelper: forked answers', () => {
  it('answers a second fork\'s 2xx upstream in a derived session (createResponseToOriginalRequest)', async () => {
    await start();
    const req = invite('relay');
    await alice.send(req);
    const atBob = await bob.expectRequest('INVITE');
    // bob plays a forking proxy: two 2xx with different tags to the same INVITE.
    await bob.respond(atBob, 200, { toTag: 'b1', body: SDP_B });
    const ok1 = await alice.expectResponse(req, 200);
    await bob.respond(atBob, 200, { toTag: 'b2', body: SDP_B });
    const ok2 = await alice.expectResponse(req, 200);
    expect(ok2.to.tag).not.toBe(ok1.to.tag);
    expect(seen).toMatchObject({ derivedLinked: 'unlinked', derivedCaller: true, inconsistent: 'IllegalStateError' });

    await alice.ack(req, ok1);
    await alice.ack(req, ok2);
    const acks = [await bob.expectRequest('ACK'), await bob.expectRequest('ACK')];
    expect(acks.map((a) => a.to.tag).sort()).toEqual(['b1', 'b2']);

    for (const ok of [ok1, ok2]) {
      const bye = alice.createInDialog(req, ok, 'BYE');
      await alice.send(bye);
      await bob.respond(await bob.expectRequest('BYE'), 200);
      expect((await alice.expectResponse(bye)).status).toBe(200);
    }
    await noSessionsLeft(siplet, 5000);
  });
});

describe('B2buaHelper: application composition', () => {
  @SipApplication({ name: 'screen' })
  @SipServlet({ name: 'screen' })
  class Screen extends SipServlet {
    override doInvite(req: SipServletRequest): void {
      trace.push(`screen:INVITE:${req.isInitial() ? 'initial' : 'subsequent'}:${req.getRoutingRegion() ?? '-'}`);
      if (!req.isInitial()) return;
      const proxy = req.getProxy();
      proxy.setRecordRoute(true);
      proxy.proxyTo(req.getRequestURI());
    }
  }

  it('routes the new leg through the application router (CONTINUE) to the next application', async () => {
    await start(
      'INVITE: ("b2b-helper", "DAR:From", "ORIGINATING", "", "NO_ROUTE", "0"), ("screen", "DAR:To", "TERMINATING", "", "NO_ROUTE", "1")',
      [{ Screen }],
    );
    const req = invite('relay');
    await alice.send(req);
    const atBob = await bob.expectRequest('INVITE');
    expect(trace).toEqual(['doInvite relay', 'screen:INVITE:initial:TERMINATING']);
    // Two hops of Siplet: the B2BUA leg, then the proxy (record-routed); the router's Route was consumed.
    expect(atBob.via).toHaveLength(2);
    expect(atBob.recordRoute).toHaveLength(1);
    expect(atBob.route).toHaveLength(0);
    await bob.respond(atBob, 200, { toTag: 'b1', body: SDP_B });
    const ok = await alice.expectResponse(req, 200);
    await alice.ack(req, ok);
    await bob.expectRequest('ACK');
    const bye = alice.createInDialog(req, ok, 'BYE');
    await alice.send(bye);
    await bob.respond(await bob.expectRequest('BYE'), 200);
    expect((await alice.expectResponse(bye)).status).toBe(200);
    await noSessionsLeft(siplet);
  });
});
