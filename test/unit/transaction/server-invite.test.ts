import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createResponse, type SipRequest } from '../../../src/sip/message/index.js';
import {
  ServerInviteTransaction,
  TransactionLayer,
  type MessageSource,
  type ServerTransaction,
  type TransactionLayerOptions,
} from '../../../src/sip/transaction/index.js';
import { FakeSender, request, TCP_SOURCE, UDP_SOURCE } from './helpers.js';

let sender: FakeSender;
let layer: TransactionLayer;
let received: { request: SipRequest; tx: ServerTransaction; source: MessageSource; sentBefore: number }[];
let acks: SipRequest[];

function setup(options: Partial<TransactionLayerOptions> = {}): void {
  layer?.close();
  sender = new FakeSender();
  layer = new TransactionLayer({ sender, ...options });
  received = [];
  acks = [];
  layer.onRequest((req, tx, source) => received.push({ request: req, tx, source, sentBefore: sender.sent.length }));
  layer.onAck((ack) => acks.push(ack));
}

beforeEach(() => {
  vi.useFakeTimers();
  setup();
});

afterEach(() => {
  layer.close();
  vi.useRealTimers();
});

function serverInvite(source: MessageSource = UDP_SOURCE, req = request()): ServerInviteTransaction {
  layer.receiveRequest(req, source);
  const tx = received.at(-1)?.tx;
  if (!(tx instanceof ServerInviteTransaction)) throw new Error('expected an INVITE server transaction');
  return tx;
}

function ackFor(toTag: string, options: { branch?: string } = {}): SipRequest {
  return request({ method: 'ACK', toTag, branch: options.branch });
}

describe('INVITE server transaction (RFC 3261 §17.2.1, RFC 6026 §7.1)', () => {
  it('sends 100 Trying after 200 ms when the TU has not answered (delayed, the default)', () => {
    const tx = serverInvite();
    expect(tx.state).toBe('Proceeding');
    vi.advanceTimersByTime(199);
    expect(sender.responses()).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(sender.responseTimes(100)).toEqual([200]);
    const trying = sender.responses(100)[0]!;
    expect(trying.source).toEqual(UDP_SOURCE);
    expect(trying.message.to.tag).toBeUndefined();
    expect(trying.message.get('via')).toBe(tx.request!.get('via'));
  });

  it('sends no 100 Trying when the TU answered within 200 ms', () => {
    const tx = serverInvite();
    vi.advanceTimersByTime(50);
    expect(tx.respond(createResponse(tx.request!, 180, { toTag: 'uas' }))).toBe(true);
    vi.advanceTimersByTime(10_000);
    expect(sender.responses().map((s) => [s.message.status, s.at])).toEqual([[180, 50]]);
  });

  it("sends 100 Trying before the TU sees the INVITE with trying100: 'immediate'", () => {
    setup({ trying100: 'immediate' });
    serverInvite();
    expect(received[0]!.sentBefore).toBe(1);
    expect(sender.responseTimes(100)).toEqual([0]);
    vi.advanceTimersByTime(1000);
    expect(sender.responses(100)).toHaveLength(1);
  });

  it('absorbs a retransmitted INVITE and replays the last provisional response', () => {
    const tx = serverInvite();
    layer.receiveRequest(request(), UDP_SOURCE);
    expect(sender.responses()).toEqual([]);
    vi.advanceTimersByTime(300);
    tx.respond(createResponse(tx.request!, 180, { toTag: 'uas' }));
    layer.receiveRequest(request(), UDP_SOURCE);
    expect(sender.responses().map((s) => s.message.status)).toEqual([100, 180, 180]);
    expect(received).toHaveLength(1);
    expect(layer.counters.absorbed).toBe(2);
  });

  it('retransmits a non-2xx final response on Timer G (T1 doubling to T2) and reports no ACK on Timer H', () => {
    const tx = serverInvite();
    const timeouts: number[] = [];
    const terminated: number[] = [];
    tx.onTimeout(() => timeouts.push(Date.now()));
    tx.onTerminated(() => terminated.push(Date.now()));
    vi.advanceTimersByTime(1000);
    const t = Date.now();
    tx.respond(createResponse(tx.request!, 486, { toTag: 'uas' }));
    expect(tx.state).toBe('Completed');
    vi.advanceTimersByTime(31_999);
    expect(sender.responseTimes(486).map((at) => at - 1000)).toEqual([
      0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500,
    ]);
    expect(timeouts).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(timeouts).toEqual([t + 32000]);
    expect(terminated).toEqual([t + 32000]);
    expect(tx.state).toBe('Terminated');
    expect(layer.size).toBe(0);
  });

  it('replays the final response on a retransmitted INVITE in Completed', () => {
    const tx = serverInvite();
    tx.respond(createResponse(tx.request!, 404, { toTag: 'uas' }));
    layer.receiveRequest(request(), UDP_SOURCE);
    expect(sender.responses(404)).toHaveLength(2);
    expect(received).toHaveLength(1);
  });

  it('absorbs the ACK of a non-2xx (Confirmed), stops Timer G and ends on Timer I = T4', () => {
    const tx = serverInvite();
    tx.respond(createResponse(tx.request!, 486, { toTag: 'uas' }));
    vi.advanceTimersByTime(600);
    layer.receiveRequest(ackFor('uas'), UDP_SOURCE);
    expect(tx.state).toBe('Confirmed');
    layer.receiveRequest(ackFor('uas'), UDP_SOURCE);
    expect(acks).toEqual([]);
    vi.advanceTimersByTime(4999);
    expect(tx.state).toBe('Confirmed');
    expect(sender.responseTimes(486)).toEqual([0, 500]);
    vi.advanceTimersByTime(1);
    expect(tx.state).toBe('Terminated');
    expect(layer.size).toBe(0);
    expect(received).toHaveLength(1);
  });

  it('over TCP sends no Timer G retransmission and ends on the ACK (Timer I = 0)', () => {
    const tx = serverInvite(TCP_SOURCE, request({ via: 'SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bK74bf9' }));
    tx.respond(createResponse(tx.request!, 486, { toTag: 'uas' }));
    vi.advanceTimersByTime(20_000);
    expect(sender.responses(486)).toHaveLength(1);
    layer.receiveRequest(request({ method: 'ACK', toTag: 'uas', via: 'SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bK74bf9' }), TCP_SOURCE);
    expect(tx.state).toBe('Terminated');
    expect(layer.size).toBe(0);
  });

  it('on a 2xx enters Accepted: absorbs INVITE retransmissions, passes ACKs to the TU, sends TU 2xx retransmissions, ends on Timer L', () => {
    const tx = serverInvite();
    const sent = tx.request!;
    const ok = createResponse(sent, 200, { toTag: 'uas' });
    tx.respond(ok);
    expect(tx.state).toBe('Accepted');
    layer.receiveRequest(request(), UDP_SOURCE);
    expect(sender.responses(200)).toHaveLength(1);
    expect(received).toHaveLength(1);

    expect(tx.respond(ok)).toBe(true);
    expect(sender.responses(200)).toHaveLength(2);
    expect(tx.respond(createResponse(sent, 486, { toTag: 'uas' }))).toBe(false);

    // The 2xx ACK of an RFC 3261 UAC has a new branch: it matches no transaction.
    layer.receiveRequest(ackFor('uas', { branch: 'z9hG4bKack2xx' }), UDP_SOURCE);
    // One with the INVITE's branch matches the Accepted transaction, which passes it up (RFC 6026).
    layer.receiveRequest(ackFor('uas'), UDP_SOURCE);
    expect(acks.map((a) => a.topVia?.branch)).toEqual(['z9hG4bKack2xx', 'z9hG4bK74bf9']);
    expect(layer.counters.strayAcks).toBe(1);

    vi.advanceTimersByTime(31_999);
    expect(tx.state).toBe('Accepted');
    vi.advanceTimersByTime(1);
    expect(tx.state).toBe('Terminated');
    expect(layer.size).toBe(0);
    expect(sender.responses(200)).toHaveLength(2);
  });

  it('refuses responses after a non-2xx final response', () => {
    const tx = serverInvite();
    const sent = tx.request!;
    expect(tx.respond(createResponse(sent, 486, { toTag: 'uas' }))).toBe(true);
    expect(tx.respond(createResponse(sent, 200, { toTag: 'uas' }))).toBe(false);
    expect(layer.counters.refused).toBe(1);
  });

  it('reports a transport error on a response and terminates', async () => {
    const tx = serverInvite();
    const errors: Error[] = [];
    tx.onTransportError((e) => errors.push(e));
    sender.failWith = 'closed';
    tx.respond(createResponse(tx.request!, 486, { toTag: 'uas' }));
    await vi.advanceTimersByTimeAsync(0);
    expect(errors.map((e) => (e as Error & { code?: string }).code)).toEqual(['closed']);
    expect(tx.state).toBe('Terminated');
    expect(layer.size).toBe(0);
  });
});
