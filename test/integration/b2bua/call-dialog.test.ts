/**
 * b2bua(): what happens inside the two dialogs once the call is up.
 *
 * re-INVITE (either side), SDP both ways, ACK relayed:
 *   alice                 Siplet: b2bua()                      bob
 *     | re-INVITE (SDP a2) ->| re-INVITE (SDP a2) ----------------> |
 *     |                      | <------------------- 200 (SDP b2)    |
 *     | <------ 200 (SDP b2) |                                      |
 *     | ACK ---------------> | ACK -------------------------------> |
 *
 * Glare (RFC 3261 §14.2): bob's re-INVITE is relayed to alice and still pending
 * when alice sends her own: alice's gets 491; bob's completes.
 *   alice                 Siplet                                bob
 *     |                      | <------------------ re-INVITE (b)  |
 *     | <------ re-INVITE (b)|                                     |
 *     | re-INVITE (a) -----> |                                     |
 *     | <-------------- 491  |                                     |
 *     | 200 (b) -----------> | 200 -----------------------------> |
 *
 * INFO, UPDATE and PRACK are relayed the same way; BYEs that cross end the call once.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestSiplet, type ScriptedUa, type TestSiplet } from 'siplet/sdk/testing';
import { callApp, calls, resetTrace } from './b2bua-apps.js';
import { answer, callerInvite, DAR, noSessionsLeft, SDP_B } from './call-helpers.js';

let siplet: TestSiplet;
let alice: ScriptedUa;
let bob: ScriptedUa;

beforeEach(async () => {
  resetTrace();
  siplet = await createTestSiplet({ apps: [{ exports: { CallApp: callApp() } }], dar: DAR });
  alice = await siplet.ua('alice');
  bob = await siplet.ua('bob');
});

afterEach(async () => {
  await siplet.close();
});

async function connected() {
  const invite = callerInvite(alice, bob);
  await alice.send(invite);
  const atBob = await bob.expectRequest('INVITE');
  const { ok } = await answer(alice, bob, invite, atBob);
  return { invite, atBob, ok };
}

async function hangUp(call: Awaited<ReturnType<typeof connected>>): Promise<void> {
  const bye = alice.createInDialog(call.invite, call.ok, 'BYE');
  await alice.send(bye);
  await bob.respond(await bob.expectRequest('BYE'), 200);
  expect((await alice.expectResponse(bye)).status).toBe(200);
  await noSessionsLeft(siplet);
}

describe('b2bua(): re-INVITE', () => {
  it('relays a re-INVITE from the caller with its offer, the answer back, and the ACK', async () => {
    const call = await connected();
    const reinvite = alice.createInDialog(call.invite, call.ok, 'INVITE', { body: 'v=0\r\ns=hold\r\n' });
    await alice.send(reinvite);
    const atBob = await bob.expectRequest('INVITE');
    expect(atBob.to.tag).toBe('b1');
    expect(atBob.body.toString()).toBe('v=0\r\ns=hold\r\n');
    await bob.respond(atBob, 200, { body: 'v=0\r\ns=held\r\n' });
    const ok = await alice.expectResponse(reinvite, 200);
    expect(ok.body.toString()).toBe('v=0\r\ns=held\r\n');
    await alice.ack(reinvite, ok);
    const ack = await bob.expectRequest('ACK');
    expect(ack.cseq.seq).toBe(atBob.cseq.seq);
    await hangUp(call);
  });

  it('relays a re-INVITE from the callee without an offer: the offer comes in the 200, the answer in the ACK', async () => {
    const call = await connected();
    const reinvite = bob.createInDialogAsUas(call.atBob, 'b1', 'INVITE', { headers: { Contact: bob.contact } });
    await bob.send(reinvite);
    const atAlice = await alice.expectRequest('INVITE');
    expect(atAlice.callId).toBe(call.invite.callId);
    expect(atAlice.body.length).toBe(0);
    await alice.respond(atAlice, 200, { body: 'v=0\r\ns=offer\r\n' });
    const ok = await bob.expectResponse(reinvite, 200);
    expect(ok.body.toString()).toBe('v=0\r\ns=offer\r\n');
    const ack = bob.createInDialogAsUas(call.atBob, 'b1', 'ACK', { body: 'v=0\r\ns=answer\r\n' });
    ack.set('CSeq', `${reinvite.cseq.seq} ACK`);
    await bob.send(ack);
    const ackAtAlice = await alice.expectRequest('ACK');
    expect(ackAtAlice.body.toString()).toBe('v=0\r\ns=answer\r\n');
    await hangUp(call);
  });

  it('answers 491 to a re-INVITE that crosses one pending the other way (glare)', async () => {
    const call = await connected();
    const fromBob = bob.createInDialogAsUas(call.atBob, 'b1', 'INVITE', { body: 'v=0\r\ns=b\r\n', headers: { Contact: bob.contact } });
    await bob.send(fromBob);
    const atAlice = await alice.expectRequest('INVITE');
    const fromAlice = alice.createInDialog(call.invite, call.ok, 'INVITE', { body: 'v=0\r\ns=a\r\n' });
    await alice.send(fromAlice);
    const glare = await alice.expectResponse(fromAlice);
    expect(glare.status).toBe(491);
    await alice.ack(fromAlice, glare);
    await alice.respond(atAlice, 200, { body: 'v=0\r\ns=a-answer\r\n' });
    const ok = await bob.expectResponse(fromBob, 200);
    expect(ok.body.toString()).toBe('v=0\r\ns=a-answer\r\n');
    const ack = bob.createInDialogAsUas(call.atBob, 'b1', 'ACK');
    ack.set('CSeq', `${fromBob.cseq.seq} ACK`);
    await bob.send(ack);
    await alice.expectRequest('ACK');
    // bob never saw alice's re-INVITE: only the initial INVITE reached him.
    expect(bob.received.filter((m) => m.isRequest && m.method === 'INVITE')).toHaveLength(1);
    await hangUp(call);
  });

  it('relays a 491 from the callee when the glare happens at the callee', async () => {
    const call = await connected();
    const fromAlice = alice.createInDialog(call.invite, call.ok, 'INVITE', { body: 'v=0\r\n' });
    await alice.send(fromAlice);
    const atBob = await bob.expectRequest('INVITE');
    await bob.respond(atBob, 491);
    await bob.expectRequest('ACK');
    expect((await alice.expectResponse(fromAlice)).status).toBe(491);
    await hangUp(call);
  });
});

describe('b2bua(): INFO, UPDATE, PRACK', () => {
  it('relays INFO both ways with its content and the answer', async () => {
    const call = await connected();
    const info = alice.createInDialog(call.invite, call.ok, 'INFO', { body: 'Signal=5\r\nDuration=160\r\n', contentType: 'application/dtmf-relay' });
    await alice.send(info);
    const atBob = await bob.expectRequest('INFO');
    expect(atBob.body.toString()).toBe('Signal=5\r\nDuration=160\r\n');
    expect(atBob.get('content-type')).toBe('application/dtmf-relay');
    await bob.respond(atBob, 200);
    expect((await alice.expectResponse(info)).status).toBe(200);

    const back = bob.createInDialogAsUas(call.atBob, 'b1', 'INFO', { body: 'x', contentType: 'text/plain' });
    await bob.send(back);
    const atAlice = await alice.expectRequest('INFO');
    await alice.respond(atAlice, 415);
    expect((await bob.expectResponse(back)).status).toBe(415);
    await hangUp(call);
  });

  it('relays UPDATE in the confirmed dialog', async () => {
    const call = await connected();
    const update = alice.createInDialog(call.invite, call.ok, 'UPDATE', { body: 'v=0\r\ns=upd\r\n' });
    await alice.send(update);
    const atBob = await bob.expectRequest('UPDATE');
    expect(atBob.body.toString()).toBe('v=0\r\ns=upd\r\n');
    await bob.respond(atBob, 200, { body: 'v=0\r\ns=upd-answer\r\n' });
    expect((await alice.expectResponse(update, 200)).body.toString()).toBe('v=0\r\ns=upd-answer\r\n');
    await hangUp(call);
  });

  it('relays a reliable 183 and the caller\'s PRACK (RFC 3262) end to end', async () => {
    const invite = callerInvite(alice, bob, { Supported: '100rel' });
    await alice.send(invite);
    const atBob = await bob.expectRequest('INVITE');
    expect(atBob.get('supported')).toBe('100rel');
    await bob.respond(atBob, 183, { toTag: 'b1', headers: { Require: '100rel', RSeq: '7' }, body: 'v=0\r\ns=early\r\n' });
    const early = await alice.expectResponse(invite, 183);
    expect(early.get('require')).toBe('100rel');
    expect(early.get('rseq')).toBeDefined();
    expect(early.body.toString()).toBe('v=0\r\ns=early\r\n');
    const prack = alice.createInDialog(invite, early, 'PRACK', { headers: { RAck: `${early.get('rseq')} ${invite.cseq.seq} INVITE` }, body: 'v=0\r\ns=prack\r\n' });
    await alice.send(prack);
    const atBobPrack = await bob.expectRequest('PRACK');
    expect(atBobPrack.get('rack')).toBe(`7 ${atBob.cseq.seq} INVITE`);
    expect(atBobPrack.body.toString()).toBe('v=0\r\ns=prack\r\n');
    await bob.respond(atBobPrack, 200, { body: 'v=0\r\ns=prack-answer\r\n' });
    expect((await alice.expectResponse(prack, 200)).body.toString()).toBe('v=0\r\ns=prack-answer\r\n');
    await bob.respond(atBob, 200, { toTag: 'b1', body: SDP_B });
    const ok = await alice.expectResponse(invite, 200);
    await alice.ack(invite, ok);
    await bob.expectRequest('ACK');
    await hangUp({ invite, atBob, ok });
  });

  it('PRACKs a reliable 1xx itself when the caller does not support 100rel', async () => {
    const invite = callerInvite(alice, bob);
    await alice.send(invite);
    const atBob = await bob.expectRequest('INVITE');
    await bob.respond(atBob, 180, { toTag: 'b1', headers: { Require: '100rel', RSeq: '1' } });
    const ringing = await alice.expectResponse(invite, 180);
    expect(ringing.get('rseq')).toBeUndefined();
    expect(ringing.get('require')).toBeUndefined();
    const prack = await bob.expectRequest('PRACK');
    expect(prack.get('rack')).toBe(`1 ${atBob.cseq.seq} INVITE`);
    await bob.respond(prack, 200);
    await bob.respond(atBob, 200, { toTag: 'b1', body: SDP_B });
    const ok = await alice.expectResponse(invite, 200);
    await alice.ack(invite, ok);
    await bob.expectRequest('ACK');
    await hangUp({ invite, atBob, ok });
  });
});

describe('b2bua(): BYEs that cross', () => {
  it('ends the call once when both sides hang up at the same time', async () => {
    const call = await connected();
    const byeA = alice.createInDialog(call.invite, call.ok, 'BYE');
    const byeB = bob.createInDialogAsUas(call.atBob, 'b1', 'BYE');
    await Promise.all([alice.send(byeA), bob.send(byeB)]);
    // Each side gets the other's BYE (relayed) or none, and a 200 for its own.
    expect((await alice.expectResponse(byeA)).status).toBe(200);
    expect((await bob.expectResponse(byeB)).status).toBe(200);
    const atAlice = await alice.expectRequest('BYE', { timeoutMs: 300 }).catch(() => undefined);
    if (atAlice !== undefined) await alice.respond(atAlice, 481);
    const atBob = await bob.expectRequest('BYE', { timeoutMs: 300 }).catch(() => undefined);
    if (atBob !== undefined) await bob.respond(atBob, 481);
    const end = await calls[0]!.ended;
    expect(['caller', 'callee']).toContain(end.by);
    expect(end.cause).toBe('bye');
    await noSessionsLeft(siplet);
  });

  it('relays the callee\'s BYE only after the caller\'s ACK (RFC 3261 §15)', async () => {
    const invite = callerInvite(alice, bob);
    await alice.send(invite);
    const atBob = await bob.expectRequest('INVITE');
    await bob.respond(atBob, 200, { toTag: 'b1', body: SDP_B });
    const ok = await alice.expectResponse(invite, 200);
    const bye = bob.createInDialogAsUas(atBob, 'b1', 'BYE');
    await bob.send(bye);
    expect((await bob.expectResponse(bye)).status).toBe(200);
    // bob's 2xx is acknowledged at once; alice hears nothing until she ACKs.
    await bob.expectRequest('ACK');
    await new Promise((r) => setTimeout(r, 30));
    expect(alice.unread().filter((m) => m.isRequest)).toHaveLength(0);
    await alice.ack(invite, ok);
    const byeAtAlice = await alice.expectRequest('BYE');
    await alice.respond(byeAtAlice, 200);
    expect(await calls[0]!.ended).toMatchObject({ by: 'callee', cause: 'bye' });
    await noSessionsLeft(siplet);
  });
});
