/**
 * Reliable provisional responses (RFC 3262) sent by a UAS application.
 *
 *   alice (scripted, Supported: 100rel)     Siplet: app "prack" (T1 = 20 ms)
 *      | INVITE -------------------------------> | doInvite → createResponse(183).sendReliably()
 *      | <---------- 183 RSeq: n, Require: 100rel |
 *      | <---------- 183 (retransmitted at T1, 2*T1 …)
 *      | PRACK RAck: n 1 INVITE ----------------> | sendReliably resolves; doInvite → 200
 *      | <------------------------------ 200 (INVITE)
 *      |                                          | doPrack → 200
 *      | <------------------------------ 200 (PRACK)
 *      | ACK -----------------------------------> |
 *
 * Without 100rel in the INVITE, sendReliably rejects and nothing goes out.
 * Without a PRACK, the 183 is retransmitted for 64*T1, then sendReliably
 * rejects and the app gives up with a 5xx (RFC 3262 §3). A second reliable
 * 1xx is refused while the first is unacknowledged; a PRACK that
 * acknowledges no reliable response gets 481.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SipApplication, SipServlet, type SipServletRequest } from 'siplet/sdk';
import { createTestSiplet, type TestSiplet } from 'siplet/sdk/testing';
import type { SipResponse } from '../../../src/sip/message/index.js';
import { attemptAsync, darFor, sleep, waitUntil } from './flow-helpers.js';

const events: string[] = [];
let siplet: TestSiplet | undefined;

const prackOnWire = (): boolean => (siplet?.network.log ?? []).some((p) => p.data.toString().startsWith('PRACK '));

@SipApplication({ name: 'prack' })
@SipServlet({ name: 'main' })
class PrackServlet extends SipServlet {
  override async doInvite(req: SipServletRequest): Promise<void> {
    if (req.getHeader('X-Mode') === 'twice') {
      const ringing = req.createResponse(180).sendReliably();
      const second = await attemptAsync(() => req.createResponse(183).sendReliably());
      events.push(`second sendReliably: ${second.name}: ${second.message}`);
      await ringing;
      const third = await attemptAsync(() => req.createResponse(183).sendReliably());
      events.push(`after the PRACK: ${third.ok ? 'sent' : third.message}`);
      await req.createResponse(200).send();
      return;
    }
    const progress = req.createResponse(183);
    progress.setContent('v=0\r\n', 'application/sdp');
    const sent = await attemptAsync(() => progress.sendReliably());
    if (sent.ok) {
      events.push(`sendReliably resolved (PRACK on the wire: ${prackOnWire()})`);
      await req.createResponse(200).send();
      return;
    }
    events.push(`sendReliably rejected: ${sent.name}: ${sent.message}`);
    await req.createResponse(req.getHeader('X-Then') === 'ring' ? 180 : 500).send();
    if (req.getHeader('X-Then') === 'ring') await req.createResponse(200).send();
  }

  override async doPrack(req: SipServletRequest): Promise<void> {
    events.push(`doPrack RAck: ${req.getHeader('RAck') ?? '-'}`);
    await req.createResponse(200).send();
  }

  override doAck(): void {
    events.push('doAck');
  }
}

afterEach(async () => {
  await siplet?.close();
  siplet = undefined;
  events.length = 0;
});

async function start(t1 = 20): Promise<TestSiplet> {
  siplet = await createTestSiplet({ apps: [{ exports: { PrackServlet } }], dar: darFor('prack'), config: { t1 } });
  return siplet;
}

const reliable183s = (received: readonly unknown[]): SipResponse[] =>
  (received as SipResponse[]).filter((m) => !(m as { isRequest: boolean }).isRequest && m.status === 183);

describe('reliable provisional responses (RFC 3262)', () => {
  it('sends the 183 with RSeq and Require: 100rel, retransmits it until the PRACK, which resolves sendReliably and reaches doPrack', async () => {
    const s = await start();
    const alice = await s.ua('alice');
    const invite = alice.createRequest('INVITE', { to: 'sip:prack@127.0.0.1', headers: { Supported: '100rel' }, body: 'v=0\r\n' });
    await alice.send(invite);

    const first = await alice.expectResponse(invite, 183);
    const rseq = Number(first.get('rseq'));
    expect(Number.isInteger(rseq) && rseq >= 1 && rseq < 2 ** 31).toBe(true);
    expect(first.getAll('require').map((t) => t.toLowerCase())).toContain('100rel');
    expect(first.to.tag).toBeDefined();
    expect(first.contact).toHaveLength(1);
    expect(first.body.toString()).toBe('v=0\r\n');

    // RFC 3262 §3: retransmitted at T1, 2*T1 … while no PRACK came (even over a reliable transport).
    const again = await alice.expectResponse(invite, 183, 500);
    expect(again.toString()).toBe(first.toString());
    expect(events).toEqual([]);

    const prack = alice.createInDialog(invite, first, 'PRACK', { headers: { RAck: `${rseq} ${invite.cseq.seq} INVITE` } });
    await alice.send(prack);
    const ok = await alice.expectResponse(invite, 200);
    expect((await alice.expectResponse(prack)).status).toBe(200);
    await alice.ack(invite, ok);
    await waitUntil(() => events.length === 3, 'doPrack and doAck');
    expect(events).toEqual([
      'sendReliably resolved (PRACK on the wire: true)',
      `doPrack RAck: ${rseq} ${invite.cseq.seq} INVITE`,
      'doAck',
    ]);

    // No more retransmissions once the PRACK came.
    const before = reliable183s(alice.received).length;
    await sleep(100);
    expect(reliable183s(alice.received).length).toBe(before);
  });

  it('rejects sendReliably when the INVITE did not offer 100rel, and sends nothing for it', async () => {
    const s = await start();
    const alice = await s.ua('alice');
    const invite = alice.createRequest('INVITE', { to: 'sip:prack@127.0.0.1', headers: { 'X-Then': 'ring' } });
    await alice.send(invite);
    const ok = await alice.expectResponse(invite, 200);
    await alice.ack(invite, ok);
    expect(events[0]).toMatch(/^sendReliably rejected: IllegalStateError: .*100rel/);
    expect(alice.received.filter((m) => !m.isRequest).map((m) => (m as SipResponse).status)).toEqual([180, 200]);
    expect(alice.received.some((m) => m.has('rseq'))).toBe(false);
  });

  it('gives up after 64*T1 without a PRACK: sendReliably rejects and the app answers 5xx', async () => {
    const t1 = 10;
    const s = await start(t1);
    const alice = await s.ua('alice');
    const invite = alice.createRequest('INVITE', { to: 'sip:prack@127.0.0.1', headers: { Require: '100rel' } });
    await alice.send(invite);
    const failed = await alice.expectResponse(invite, 500, 64 * t1 + 1000);
    await alice.ack(invite, failed);
    expect(events).toEqual([expect.stringMatching(/^sendReliably rejected: IllegalStateError: no PRACK/)]);
    // T1, 2*T1, 4*T1 … capped at T2 within 64*T1: a handful of copies.
    expect(reliable183s(alice.received).length).toBeGreaterThanOrEqual(4);
  });

  it('refuses a second reliable provisional response until the first is acknowledged, with the next RSeq after', async () => {
    const s = await start();
    const alice = await s.ua('alice');
    const invite = alice.createRequest('INVITE', { to: 'sip:prack@127.0.0.1', headers: { Supported: '100rel', 'X-Mode': 'twice' } });
    await alice.send(invite);
    const ringing = await alice.expectResponse(invite, 180);
    const rseq = Number(ringing.get('rseq'));
    await waitUntil(() => events.length === 1, 'the second sendReliably');
    expect(events[0]).toMatch(/^second sendReliably: IllegalStateError: a reliable provisional response \(RSeq \d+\) is not acknowledged yet/);

    const prack = alice.createInDialog(invite, ringing, 'PRACK', { headers: { RAck: `${rseq} ${invite.cseq.seq} INVITE` } });
    await alice.send(prack);
    const progress = await alice.expectResponse(invite, 183);
    expect(Number(progress.get('rseq'))).toBe(rseq + 1);
    const prack2 = alice.createInDialog(invite, progress, 'PRACK', { headers: { RAck: `${rseq + 1} ${invite.cseq.seq} INVITE` } });
    await alice.send(prack2);
    const ok = await alice.expectResponse(invite, 200);
    await alice.ack(invite, ok);
    expect(events[1]).toBe('after the PRACK: sent');
    expect((await alice.expectResponse(prack)).status).toBe(200);
    expect((await alice.expectResponse(prack2)).status).toBe(200);
  });

  it('answers 481 to a PRACK that acknowledges no reliable provisional response', async () => {
    const s = await start();
    const alice = await s.ua('alice');
    const invite = alice.createRequest('INVITE', { to: 'sip:prack@127.0.0.1', headers: { Supported: '100rel' } });
    await alice.send(invite);
    const first = await alice.expectResponse(invite, 183);
    const rseq = Number(first.get('rseq'));

    const wrong = alice.createInDialog(invite, first, 'PRACK', { headers: { RAck: `${rseq + 7} ${invite.cseq.seq} INVITE` } });
    await alice.send(wrong);
    expect((await alice.expectResponse(wrong)).status).toBe(481);

    const right = alice.createInDialog(invite, first, 'PRACK', { headers: { RAck: `${rseq} ${invite.cseq.seq} INVITE` } });
    await alice.send(right);
    expect((await alice.expectResponse(right)).status).toBe(200);
    const ok = await alice.expectResponse(invite, 200);
    await alice.ack(invite, ok);

    // Acknowledged already: a second PRACK for it acknowledges nothing.
    const late = alice.createInDialog(invite, first, 'PRACK', { headers: { RAck: `${rseq} ${invite.cseq.seq} INVITE` } });
    await alice.send(late);
    expect((await alice.expectResponse(late)).status).toBe(481);
    expect(events.filter((e) => e.startsWith('doPrack'))).toHaveLength(1);
  });
});
