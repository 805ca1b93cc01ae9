/**
 * CANCEL races (RFC 3261 §9, JSR 289 §11.2.4.1), on the UAS and the UAC side.
 *
 * CANCEL before the app answers:
 *
 *   alice (scripted)                   Siplet: app "cancel"
 *      | INVITE --------------------------> | doInvite → 180 (and waits, or returns)
 *      | <------------------------- 180     |
 *      | CANCEL --------------------------> | container: 200 to CANCEL,
 *      | <------------------ 200 (CANCEL)   |            487 to INVITE,
 *      | <------------------ 487 (INVITE)   |
 *      | ACK -----------------------------> |
 *      |                                    | then doCancel (the 487 is already on the wire);
 *      |                                    | createResponse on the INVITE → IllegalStateError
 *
 * CANCEL after the 200: 200 to the CANCEL, no 487, no doCancel. CANCEL for no
 * INVITE: 481.
 *
 * The app cancels its own INVITE:
 *
 *   alice            Siplet "cancel"                    bob
 *     | MESSAGE <bob> -> | INVITE -----------------------> |
 *     |                  | <------------------------ 180  | doProvisionalResponse → createCancel().send()
 *     |                  | CANCEL -----------------------> |
 *     |                  | <------------------ 200 (CANCEL)
 *     |                  | <------------------ 487 (INVITE)
 *     |                  | ACK (transaction layer) ------> | doErrorResponse(487)
 */
import { afterEach, describe, expect, it } from 'vitest';
import { inject, SIP_FACTORY, SipApplication, SipServlet, type SipFactory, type SipServletRequest, type SipServletResponse } from 'siplet/sdk';
import { createTestSiplet, type TestSiplet } from 'siplet/sdk/testing';
import { attempt, darFor, latch, sleep, waitUntil, type Latch } from './flow-helpers.js';

const events: string[] = [];
let hold: Latch = latch();
let siplet: TestSiplet | undefined;
let invite: SipServletRequest | undefined;

/** True once a 487 to an INVITE crossed the memory network. */
const sent487 = (): boolean => (siplet?.network.log ?? []).some((p) => /^SIP\/2\.0 487 /.test(p.data.toString()));

@SipApplication({ name: 'cancel' })
@SipServlet({ name: 'main' })
class CancelServlet extends SipServlet {
  readonly #factory: SipFactory;

  constructor(@inject(SIP_FACTORY) factory: SipFactory) {
    super();
    this.#factory = factory;
  }

  override async doInvite(req: SipServletRequest): Promise<void> {
    invite = req;
    events.push('doInvite');
    const mode = req.getHeader('X-Mode');
    if (mode === 'answer') {
      await req.createResponse(200).send();
      return;
    }
    await req.createResponse(180).send();
    if (mode === 'hold') {
      await hold.promise;
      const r = attempt(() => req.createResponse(200));
      events.push(`createResponse after CANCEL: ${r.name ?? 'ok'}`);
    }
  }

  override doCancel(req: SipServletRequest): void {
    events.push(`doCancel (487 on the wire: ${sent487()})`);
    const onInvite = attempt(() => invite?.createResponse(200));
    events.push(`createResponse in doCancel: ${onInvite.name ?? 'ok'}`);
    const onCancel = attempt(() => req.createResponse(200));
    events.push(`answering the CANCEL: ${onCancel.name ?? 'ok'}`);
  }

  override doAck(): void {
    events.push('doAck');
  }

  override async doBye(req: SipServletRequest): Promise<void> {
    await req.createResponse(200).send();
  }

  override async doMessage(req: SipServletRequest): Promise<void> {
    await req.createResponse(202).send();
    const out = this.#factory.createRequest({
      appSession: this.#factory.createApplicationSession(),
      method: 'INVITE',
      from: 'sip:cancel@127.0.0.1',
      to: String(req.getContent()),
    });
    await out.send();
  }

  override async doProvisionalResponse(res: SipServletResponse): Promise<void> {
    events.push(`response ${res.getStatus()}`);
    if (res.getStatus() === 180) await res.getRequest().createCancel().send();
  }

  override doSuccessResponse(res: SipServletResponse): void {
    events.push(`response ${res.getStatus()} ${res.getMethod()}`);
  }

  override doErrorResponse(res: SipServletResponse): void {
    events.push(`response ${res.getStatus()} ${res.getMethod()}`);
  }
}

afterEach(async () => {
  hold.open();
  await siplet?.close();
  siplet = undefined;
  invite = undefined;
  events.length = 0;
  hold = latch();
});

async function start(): Promise<TestSiplet> {
  siplet = await createTestSiplet({ apps: [{ exports: { CancelServlet } }], dar: darFor('cancel') });
  return siplet;
}

describe('CANCEL on the UAS side', () => {
  it('answers 200 and the INVITE 487 before doCancel runs; the app can no longer answer (servlet still in doInvite)', async () => {
    const s = await start();
    const alice = await s.ua('alice');
    const inv = alice.createRequest('INVITE', { to: 'sip:cancel@127.0.0.1', headers: { 'X-Mode': 'hold' } });
    await alice.send(inv);
    const ringing = await alice.expectResponse(inv, 180);
    const cancel = await alice.cancel(inv);
    const cancelOk = await alice.expectResponse(cancel, 200);
    expect(cancelOk.to.tag).toBe(ringing.to.tag);
    const terminated = await alice.expectResponse(inv, 487);
    expect(terminated.to.tag).toBe(ringing.to.tag);
    await alice.ack(inv, terminated);
    // doCancel waits for doInvite: one event at a time per application session (JSR 289 §6.4.3).
    expect(events).toEqual(['doInvite']);

    hold.open();
    await waitUntil(() => events.length === 5, 'doCancel');
    expect(events).toEqual([
      'doInvite',
      'createResponse after CANCEL: IllegalStateError',
      'doCancel (487 on the wire: true)',
      'createResponse in doCancel: IllegalStateError',
      'answering the CANCEL: IllegalStateError',
    ]);
    // Nothing else went to alice: no 200 to the INVITE.
    await sleep(20);
    expect(alice.unread()).toEqual([]);
    await waitUntil(() => s.container.stats().sessions.sipSessions === 0, 'the session to be invalidated');
  });

  it('runs doCancel after the 487 even when doInvite has returned (the session lives until doCancel is done)', async () => {
    const s = await start();
    const alice = await s.ua('alice');
    const inv = alice.createRequest('INVITE', { to: 'sip:cancel@127.0.0.1', headers: { 'X-Mode': 'ring' } });
    await alice.send(inv);
    await alice.expectResponse(inv, 180);
    await waitUntil(() => events.length === 1, 'doInvite to return');
    const cancel = await alice.cancel(inv);
    expect((await alice.expectResponse(cancel)).status).toBe(200);
    const terminated = await alice.expectResponse(inv, 487);
    await alice.ack(inv, terminated);
    await waitUntil(() => events.length === 4, 'doCancel');
    expect(events).toEqual([
      'doInvite',
      'doCancel (487 on the wire: true)',
      'createResponse in doCancel: IllegalStateError',
      'answering the CANCEL: IllegalStateError',
    ]);
    await waitUntil(() => s.container.stats().sessions.sipSessions === 0, 'the session to be invalidated');
    expect(s.container.stats().sessions).toMatchObject({ applicationSessions: 0, dialogs: 0 });
  });

  it('answers a CANCEL that comes after the 200 with 200, sends no 487 and does not tell the app', async () => {
    const s = await start();
    const alice = await s.ua('alice');
    const inv = alice.createRequest('INVITE', { to: 'sip:cancel@127.0.0.1', headers: { 'X-Mode': 'answer' } });
    await alice.send(inv);
    const ok = await alice.expectResponse(inv, 200);
    const cancel = await alice.cancel(inv);
    expect((await alice.expectResponse(cancel)).status).toBe(200);
    await alice.ack(inv, ok);
    await waitUntil(() => events.includes('doAck'), 'the ACK');
    await sleep(20);
    expect(alice.received.some((m) => !m.isRequest && m.status === 487)).toBe(false);
    expect(events).toEqual(['doInvite', 'doAck']);

    // The call is up: a BYE ends it.
    const bye = alice.createInDialog(inv, ok, 'BYE');
    await alice.send(bye);
    expect((await alice.expectResponse(bye)).status).toBe(200);
    await waitUntil(() => s.container.stats().sessions.sipSessions === 0, 'the session to be invalidated');
  });

  it('answers 481 to a CANCEL that matches no INVITE', async () => {
    const s = await start();
    const alice = await s.ua('alice');
    const never = alice.createRequest('INVITE', { to: 'sip:cancel@127.0.0.1' });
    never.add('Via', `SIP/2.0/TCP ${alice.address}:${alice.port};branch=z9hG4bKnever-sent;rport`);
    const cancel = await alice.cancel(never);
    const r = await alice.expectResponse(cancel);
    expect(r.status).toBe(481);
    expect(events).toEqual([]);
  });
});

describe('CANCEL on the UAC side', () => {
  it('cancels the app\'s INVITE after a 180: the UA gets the CANCEL, answers 200 and 487, the app gets the 487', async () => {
    const s = await start();
    const alice = await s.ua('alice');
    const bob = await s.ua('bob');
    const msg = alice.createRequest('MESSAGE', { to: 'sip:cancel@127.0.0.1', body: `<${bob.uri.toString()}>`, contentType: 'text/plain' });
    await alice.send(msg);
    expect((await alice.expectResponse(msg)).status).toBe(202);

    const inv = await bob.expectRequest('INVITE');
    await bob.respond(inv, 180, { toTag: 'bob1' });
    const cancel = await bob.expectRequest('CANCEL');
    // RFC 3261 §9.1: same Request-URI, Call-ID, From, To (no tag), CSeq number and branch as the INVITE.
    expect(cancel.uriText).toBe(inv.uriText);
    expect(cancel.callId).toBe(inv.callId);
    expect(cancel.from.tag).toBe(inv.from.tag);
    expect(cancel.to.tag).toBeUndefined();
    expect(cancel.cseq).toMatchObject({ seq: inv.cseq.seq, method: 'CANCEL' });
    expect(cancel.topVia?.branch).toBe(inv.topVia?.branch);

    await bob.respond(cancel, 200);
    await bob.respond(inv, 487, { toTag: 'bob1' });
    // The non-2xx ACK is the transaction layer's: same branch as the INVITE (§17.1.1.3).
    const ack = await bob.expectRequest('ACK');
    expect(ack.topVia?.branch).toBe(inv.topVia?.branch);
    expect(ack.to.tag).toBe('bob1');

    await waitUntil(() => events.includes('response 487 INVITE'), 'the app to get the 487');
    expect(events).toEqual(['response 180', 'response 487 INVITE']);
    await waitUntil(() => s.container.stats().sessions.sipSessions === 0, 'the sessions to be invalidated');
    expect(s.container.stats().sessions).toMatchObject({ applicationSessions: 0, dialogs: 0 });
  });
});
