/**
 * b2bua(): topology hiding and the header policy.
 *
 *   alice ── (her proxy p1: Via, Record-Route) ──► Siplet: b2bua() ──► bob (his proxy p2: Record-Route)
 *
 * On bob's side nothing names alice's hosts, proxies, Call-ID or tags; on alice's side
 * nothing names bob's. Each leg is a dialog of its own with Siplet's Contact.
 *
 *   alice                          Siplet                           bob
 *     | INVITE X-Keep, X-Secret, X-Other ─► | INVITE X-Keep, P-Asserted-Identity (rewritten) ─► |
 *     | <─ 200 X-Keep (P-Asserted-Identity removed) ───── | <─ 200 X-Keep, X-Other, P-Asserted-Identity |
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createTestSiplet, type ScriptedUa, type TestSiplet } from 'siplet/sdk/testing';
import type { B2buaOptions } from 'siplet/sdk';
import { callApp, resetTrace } from './b2bua-apps.js';
import { DAR, noSessionsLeft, SDP_A, SDP_B } from './call-helpers.js';

let siplet: TestSiplet;
let alice: ScriptedUa;
let bob: ScriptedUa;

async function start(options: (bob: ScriptedUa) => B2buaOptions): Promise<void> {
  resetTrace();
  let target: ScriptedUa | undefined;
  siplet = await createTestSiplet({ apps: [{ exports: { CallApp: callApp(() => options(target!)) } }], dar: DAR });
  alice = await siplet.ua('alice');
  bob = await siplet.ua('bob');
  target = bob;
}

afterEach(async () => {
  await siplet.close();
});

/** Everything a UA received, as text. */
const wire = (ua: ScriptedUa): string => ua.received.map((m) => m.toString()).join('\n');

describe('b2bua(): topology hiding', () => {
  it('lets no host, route, Call-ID or tag of one side reach the other, both ways', async () => {
    await start(() => ({}));
    const invite = alice.createRequest('INVITE', {
      to: 'sip:bob@example.com',
      from: 'sip:alice@example.com',
      body: SDP_A,
      headers: {
        // As if alice's outbound proxy had forwarded it: its Via under hers, its Record-Route.
        Via: 'SIP/2.0/UDP p1.example.net:5060;branch=z9hG4bKp1proxy',
        // Routes must lead somewhere on the memory network: alice's proxy sits at her address.
        'Record-Route': '<sip:127.0.0.2:5060;transport=tcp;lr;proxy=p1>',
        'Proxy-Authorization': 'Digest username="alice", realm="example.com", nonce="1", uri="sip:bob@example.com", response="0"',
        'In-Reply-To': 'an-earlier-call@127.0.0.2',
        'X-Target': bob.uri.toString(),
      },
    });
    await alice.send(invite);
    const atBob = await bob.expectRequest('INVITE');
    const bobProxy = '<sip:127.0.0.3:5060;transport=tcp;lr;proxy=p2>';
    await bob.respond(atBob, 180, { toTag: 'bob-leg-tag', headers: { 'Record-Route': bobProxy, Warning: '399 127.0.0.3 "ringing here"' } });
    await alice.expectResponse(invite, 180);
    await bob.respond(atBob, 200, { toTag: 'bob-leg-tag', body: SDP_B, headers: { 'Record-Route': bobProxy } });
    const ok = await alice.expectResponse(invite, 200);
    await alice.ack(invite, ok);
    await bob.expectRequest('ACK');
    const bye = bob.createInDialogAsUas(atBob, 'bob-leg-tag', 'BYE');
    await bob.send(bye);
    await bob.expectResponse(bye);
    await alice.respond(await alice.expectRequest('BYE'), 200);
    await noSessionsLeft(siplet);

    // bob's side: alice's address, her proxy, her Call-ID and From tag never appear.
    const atBobText = wire(bob);
    for (const leak of ['127.0.0.2', 'p1.example.net', 'proxy=p1', invite.callId, invite.from.tag as string, 'Proxy-Authorization', 'In-Reply-To']) {
      expect(atBobText, `bob saw ${leak}`).not.toContain(leak);
    }
    expect(atBob.via).toHaveLength(1);
    expect(atBob.via[0]!.host).toBe('127.0.0.1');
    expect(atBob.recordRoute).toHaveLength(0);
    expect(atBob.contact[0]!.uri.toString()).toMatch(/^sip:127\.0\.0\.1:5060/);
    // alice's side: bob's address, his proxy, his Call-ID and tag never appear.
    const atAliceText = wire(alice);
    for (const leak of ['127.0.0.3', 'proxy=p2', atBob.callId, 'bob-leg-tag']) {
      expect(atAliceText, `alice saw ${leak}`).not.toContain(leak);
    }
    // alice's own route set comes back to her (RFC 3261 §12.1.1): it is hers, not bob's.
    expect(ok.recordRoute.map((r) => r.uri.toString())).toEqual(['sip:127.0.0.2:5060;transport=tcp;lr;proxy=p1']);
    expect(ok.contact[0]!.uri.toString()).toMatch(/^sip:127\.0\.0\.1:5060/);
  });

  it('does not relay the Contacts of a 3xx when hiding, and does when not', async () => {
    await start(() => ({}));
    const invite = alice.createRequest('INVITE', { to: 'sip:bob@example.com', body: SDP_A, headers: { 'X-Target': bob.uri.toString() } });
    await alice.send(invite);
    await bob.respond(await bob.expectRequest('INVITE'), 302, { toTag: 'b1', headers: { Contact: '<sip:carol@127.0.0.9>' } });
    const moved = await alice.expectResponse(invite);
    expect(moved.status).toBe(302);
    expect(moved.toString()).not.toContain('127.0.0.9');
    await siplet.close();

    await start(() => ({ hideTopology: false }));
    const again = alice.createRequest('INVITE', { to: 'sip:bob@example.com', body: SDP_A, headers: { 'X-Target': bob.uri.toString() } });
    await alice.send(again);
    const atBob = await bob.expectRequest('INVITE');
    // Without hiding, the callee leg's Contact keeps the caller's user part.
    expect(atBob.contact[0]!.uri.toString()).toMatch(/^sip:alice@127\.0\.0\.1:5060/);
    await bob.respond(atBob, 302, { toTag: 'b1', headers: { Contact: '<sip:carol@127.0.0.9>' } });
    const relayed = await alice.expectResponse(again);
    expect(relayed.contact.map((c) => c.uri.toString())).toEqual(['sip:carol@127.0.0.9']);
  });
});

describe('b2bua(): header policy', () => {
  it('copies only the named headers, drops and rewrites others, both ways', async () => {
    await start((target) => ({
      headers: {
        copy: ['Subject', 'X-Keep', 'P-Asserted-Identity', 'Supported', 'Allow', 'Reason'],
        drop: ['X-Secret'],
        rewrite: {
          'P-Asserted-Identity': (values, { direction }) => (direction === 'toCallee' ? `<sip:+15551234@example.com>;was="${values.length}"` : undefined),
          'X-Added': 'yes',
        },
      },
      to: `<sip:desk@example.com>`,
      from: '"Front desk" <sip:frontdesk@example.com>',
      ...{ target },
    }));
    const invite = alice.createRequest('INVITE', {
      to: 'sip:bob@example.com',
      body: SDP_A,
      headers: {
        'X-Target': bob.uri.toString(),
        'X-Keep': 'one',
        'X-Other': 'two',
        'X-Secret': 'three',
        Subject: 'hello',
        'P-Asserted-Identity': '<sip:alice@example.com>',
      },
    });
    await alice.send(invite);
    const atBob = await bob.expectRequest('INVITE');
    expect(atBob.get('x-keep')).toBe('one');
    expect(atBob.get('subject')).toBe('hello');
    expect(atBob.get('x-other')).toBeUndefined();
    expect(atBob.get('x-secret')).toBeUndefined();
    expect(atBob.get('p-asserted-identity')).toBe('<sip:+15551234@example.com>;was="1"');
    expect(atBob.get('x-added')).toBe('yes');
    expect(atBob.from.uri.toString()).toBe('sip:frontdesk@example.com');
    expect(atBob.from.displayName).toBe('Front desk');
    expect(atBob.to.uri.toString()).toBe('sip:desk@example.com');
    expect(atBob.body.toString()).toBe(SDP_A);

    await bob.respond(atBob, 200, { toTag: 'b1', body: SDP_B, headers: { 'X-Keep': 'back', 'X-Other': 'no', 'P-Asserted-Identity': '<sip:bob@example.com>' } });
    const ok = await alice.expectResponse(invite, 200);
    expect(ok.get('x-keep')).toBe('back');
    expect(ok.get('x-other')).toBeUndefined();
    expect(ok.get('p-asserted-identity')).toBeUndefined();
    expect(ok.get('x-added')).toBe('yes');
    expect(ok.body.toString()).toBe(SDP_B);
    await alice.ack(invite, ok);
    await bob.expectRequest('ACK');
    const bye = alice.createInDialog(invite, ok, 'BYE', { headers: { Reason: 'SIP;cause=200', 'X-Other': 'x' } });
    await alice.send(bye);
    const byeAtBob = await bob.expectRequest('BYE');
    expect(byeAtBob.get('reason')).toBe('SIP;cause=200');
    expect(byeAtBob.get('x-other')).toBeUndefined();
    await bob.respond(byeAtBob, 200);
    await noSessionsLeft(siplet);
  });
});
