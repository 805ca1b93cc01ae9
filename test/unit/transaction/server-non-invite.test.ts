import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createResponse, type SipRequest } from '../../../src/sip/message/index.js';
import { ServerNonInviteTransaction, TransactionLayer, type MessageSource } from '../../../src/sip/transaction/index.js';
import { FakeSender, request, TCP_SOURCE, UDP_SOURCE } from './helpers.js';

let sender: FakeSender;
let layer: TransactionLayer;
let received: SipRequest[];

beforeEach(() => {
  vi.useFakeTimers();
  sender = new FakeSender();
  layer = new TransactionLayer({ sender });
  received = [];
});

afterEach(() => {
  layer.close();
  vi.useRealTimers();
});

function serverOptions(source: MessageSource = UDP_SOURCE): ServerNonInviteTransaction {
  let tx: ServerNonInviteTransaction | undefined;
  layer.onRequest((req, t) => {
    received.push(req);
    if (t instanceof ServerNonInviteTransaction) tx = t;
  });
  const via = `SIP/2.0/${source.protocol.toUpperCase()} 192.0.2.1:5060;branch=z9hG4bKnit1`;
  layer.receiveRequest(request({ method: 'OPTIONS', via }), source);
  if (tx === undefined) throw new Error('expected a non-INVITE server transaction');
  return tx;
}

function retransmit(source: MessageSource = UDP_SOURCE): void {
  const via = `SIP/2.0/${source.protocol.toUpperCase()} 192.0.2.1:5060;branch=z9hG4bKnit1`;
  layer.receiveRequest(request({ method: 'OPTIONS', via }), source);
}

describe('non-INVITE server transaction (RFC 3261 §17.2.2, RFC 4320)', () => {
  it('never sends a 100 on its own and absorbs retransmissions silently in Trying', () => {
    const tx = serverOptions();
    expect(tx.state).toBe('Trying');
    vi.advanceTimersByTime(10_000);
    retransmit();
    expect(sender.sent).toEqual([]);
    expect(received).toHaveLength(1);
    expect(layer.counters.absorbed).toBe(1);
  });

  it('replays the final response to retransmissions and ends on Timer J = 64*T1', () => {
    const tx = serverOptions();
    const sent = tx.request!;
    const terminated: number[] = [];
    tx.onTerminated(() => terminated.push(Date.now()));
    const t = Date.now();
    expect(tx.respond(createResponse(sent, 200, { toTag: 'uas' }))).toBe(true);
    expect(tx.state).toBe('Completed');
    vi.advanceTimersByTime(1000);
    retransmit();
    expect(sender.responseTimes(200)).toEqual([0, 1000]);
    expect(received).toHaveLength(1);
    expect(tx.respond(createResponse(sent, 500))).toBe(false);
    vi.advanceTimersByTime(30_999);
    expect(tx.state).toBe('Completed');
    vi.advanceTimersByTime(1);
    expect(terminated).toEqual([t + 32000]);
    expect(layer.size).toBe(0);
  });

  it('over TCP terminates on the final response (Timer J = 0)', () => {
    const tx = serverOptions(TCP_SOURCE);
    tx.respond(createResponse(tx.request!, 200, { toTag: 'uas' }));
    expect(tx.state).toBe('Terminated');
    expect(sender.responses(200)[0]!.source).toEqual(TCP_SOURCE);
    expect(layer.size).toBe(0);
  });

  it('replays the last provisional response in Proceeding', () => {
    const tx = serverOptions(TCP_SOURCE);
    expect(tx.respond(createResponse(tx.request!, 100))).toBe(true);
    expect(tx.state).toBe('Proceeding');
    retransmit(TCP_SOURCE);
    expect(sender.responses(100)).toHaveLength(2);
  });

  it('RFC 4320 §4.2: never sends a 408; completes silently and absorbs retransmissions until Timer J', () => {
    const tx = serverOptions();
    expect(tx.respond(createResponse(tx.request!, 408, { toTag: 'uas' }))).toBe(false);
    expect(tx.state).toBe('Completed');
    retransmit();
    expect(sender.sent).toEqual([]);
    expect(received).toHaveLength(1);
    vi.advanceTimersByTime(32_000);
    expect(tx.state).toBe('Terminated');
    expect(layer.size).toBe(0);
  });

  it('RFC 4320 §4.1: refuses provisionals other than 100, and a 100 over UDP before Timer E reaches T2', () => {
    const tx = serverOptions();
    expect(tx.respond(createResponse(tx.request!, 180, { toTag: 'uas' }))).toBe(false);
    expect(tx.respond(createResponse(tx.request!, 100))).toBe(false);
    vi.advanceTimersByTime(3500);
    expect(tx.respond(createResponse(tx.request!, 100))).toBe(true);
    expect(sender.responses().map((s) => [s.message.status, s.at])).toEqual([[100, 3500]]);
    expect(tx.state).toBe('Proceeding');
    expect(layer.counters.refused).toBe(2);
  });

  it('reports a transport error on the final response and terminates', async () => {
    const tx = serverOptions();
    const errors: Error[] = [];
    tx.onTransportError((e) => errors.push(e));
    sender.failWith = 'congested';
    tx.respond(createResponse(tx.request!, 200, { toTag: 'uas' }));
    await vi.advanceTimersByTimeAsync(0);
    expect(errors.map((e) => (e as Error & { code?: string }).code)).toEqual(['congested']);
    expect(tx.state).toBe('Terminated');
    expect(layer.size).toBe(0);
  });
});
