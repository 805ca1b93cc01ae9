import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SipResponse } from '../../../src/sip/message/index.js';
import { ClientInviteTransaction, TransactionLayer } from '../../../src/sip/transaction/index.js';
import { FakeSender, outgoing, reply, TCP_DEST, UDP_DEST, UDP_SOURCE } from './helpers.js';

let sender: FakeSender;
let layer: TransactionLayer;

beforeEach(() => {
  vi.useFakeTimers();
  sender = new FakeSender();
  layer = new TransactionLayer({ sender });
});

afterEach(() => {
  layer.close();
  vi.useRealTimers();
});

function invite(options: Parameters<typeof outgoing>[0] = {}): ClientInviteTransaction {
  const tx = layer.createClientTransaction(outgoing(options), options.transport === 'TCP' ? TCP_DEST : UDP_DEST);
  if (!(tx instanceof ClientInviteTransaction)) throw new Error('expected an INVITE client transaction');
  return tx;
}

function watch(tx: ClientInviteTransaction) {
  const seen = { responses: [] as SipResponse[], timeouts: [] as number[], terminated: [] as number[], errors: [] as Error[] };
  tx.onResponse((r) => seen.responses.push(r));
  tx.onTimeout(() => seen.timeouts.push(Date.now()));
  tx.onTerminated(() => seen.terminated.push(Date.now()));
  tx.onTransportError((e) => seen.errors.push(e));
  return seen;
}

describe('INVITE client transaction (RFC 3261 §17.1.1)', () => {
  it('over UDP retransmits on Timer A (T1 doubling) and times out on Timer B = 64*T1', () => {
    const t0 = Date.now();
    const tx = invite();
    const seen = watch(tx);
    expect(tx.state).toBe('Calling');
    vi.advanceTimersByTime(31999);
    expect(sender.requestTimes('INVITE')).toEqual([0, 500, 1500, 3500, 7500, 15500, 31500]);
    expect(seen.timeouts).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(seen.timeouts).toEqual([t0 + 32000]);
    expect(seen.terminated).toEqual([t0 + 32000]);
    expect(tx.state).toBe('Terminated');
    expect(layer.size).toBe(0);
    vi.advanceTimersByTime(100_000);
    expect(sender.requestTimes('INVITE')).toHaveLength(7);
    expect(layer.counters.retransmissions).toBe(6);
    expect(layer.counters.timeouts).toBe(1);
  });

  it('over TCP sends once and still times out on Timer B', () => {
    const tx = invite({ transport: 'TCP' });
    const seen = watch(tx);
    vi.advanceTimersByTime(32000);
    expect(sender.requestTimes('INVITE')).toEqual([0]);
    expect(seen.timeouts).toHaveLength(1);
    expect(tx.state).toBe('Terminated');
  });

  it('uses the configured T1', () => {
    layer = new TransactionLayer({ sender, timers: { t1: 100 } });
    const seen = watch(invite());
    vi.advanceTimersByTime(6400);
    expect(sender.requestTimes('INVITE')).toEqual([0, 100, 300, 700, 1500, 3100, 6300]);
    expect(seen.timeouts).toHaveLength(1);
  });

  it('stops retransmitting and stops Timer B on a provisional response', () => {
    const tx = invite();
    const seen = watch(tx);
    vi.advanceTimersByTime(600);
    layer.receiveResponse(reply(tx.request!, 180), UDP_SOURCE);
    expect(tx.state).toBe('Proceeding');
    vi.advanceTimersByTime(60_000);
    expect(sender.requestTimes('INVITE')).toEqual([0, 500]);
    expect(seen.timeouts).toEqual([]);
    expect(seen.responses.map((r) => r.status)).toEqual([180]);
    layer.receiveResponse(reply(tx.request!, 183), UDP_SOURCE);
    expect(seen.responses.map((r) => r.status)).toEqual([180, 183]);
  });

  it('ACKs a non-2xx final response itself (§17.1.1.3) and absorbs its retransmissions for Timer D', () => {
    const req = outgoing({ extra: ['Route: <sip:p1.example.com;lr>', 'Route: <sip:p2.example.com;lr>'], cseq: 7 });
    const tx = layer.createClientTransaction(req, UDP_DEST) as ClientInviteTransaction;
    const seen = watch(tx);
    vi.advanceTimersByTime(100);
    layer.receiveResponse(reply(req, 100), UDP_SOURCE);
    layer.receiveResponse(reply(req, 486, 'busy-tag'), UDP_SOURCE);
    expect(tx.state).toBe('Completed');
    expect(seen.responses.map((r) => r.status)).toEqual([100, 486]);

    const acks = sender.requests('ACK');
    expect(acks).toHaveLength(1);
    const ack = acks[0]!.message;
    expect(acks[0]!.destination).toEqual(UDP_DEST);
    expect(ack.uriText).toBe(req.uriText);
    expect(ack.callId).toBe(req.callId);
    expect(ack.get('from')).toBe(req.get('from'));
    expect(ack.to.tag).toBe('busy-tag');
    expect(ack.cseq).toEqual({ seq: 7, method: 'ACK' });
    expect(ack.getAll('via')).toEqual([req.get('via')]);
    expect(ack.getAll('route')).toEqual(['<sip:p1.example.com;lr>', '<sip:p2.example.com;lr>']);
    expect(ack.has('contact')).toBe(false);

    vi.advanceTimersByTime(1000);
    layer.receiveResponse(reply(req, 486, 'busy-tag'), UDP_SOURCE);
    expect(sender.requests('ACK')).toHaveLength(2);
    expect(seen.responses).toHaveLength(2);
    expect(layer.counters.absorbed).toBe(1);

    vi.advanceTimersByTime(32000 - 1001);
    expect(tx.state).toBe('Completed');
    vi.advanceTimersByTime(1);
    expect(tx.state).toBe('Terminated');
    expect(seen.terminated).toHaveLength(1);
    expect(layer.size).toBe(0);
  });

  it('over TCP ends right after ACKing a non-2xx (Timer D = 0)', () => {
    const tx = invite({ transport: 'TCP' });
    const seen = watch(tx);
    layer.receiveResponse(reply(tx.request!, 603), UDP_SOURCE);
    expect(sender.requests('ACK')).toHaveLength(1);
    expect(seen.responses.map((r) => r.status)).toEqual([603]);
    expect(tx.state).toBe('Terminated');
    expect(layer.size).toBe(0);
  });

  it('enters Accepted on a 2xx (RFC 6026 §7.2), passes further 2xx to the TU during Timer M, sends no ACK', () => {
    const strays: SipResponse[] = [];
    layer.onStrayResponse((r) => strays.push(r));
    const tx = invite();
    const sent = tx.request!;
    const seen = watch(tx);
    layer.receiveResponse(reply(sent, 200, 'uas-1'), UDP_SOURCE);
    expect(tx.state).toBe('Accepted');
    vi.advanceTimersByTime(10_000);
    expect(sender.requestTimes('INVITE')).toEqual([0]);
    layer.receiveResponse(reply(sent, 200, 'uas-1'), UDP_SOURCE);
    layer.receiveResponse(reply(sent, 200, 'uas-2'), UDP_SOURCE);
    layer.receiveResponse(reply(sent, 180), UDP_SOURCE);
    expect(seen.responses.map((r) => [r.status, r.to.tag])).toEqual([
      [200, 'uas-1'],
      [200, 'uas-1'],
      [200, 'uas-2'],
    ]);
    expect(sender.requests('ACK')).toEqual([]);
    vi.advanceTimersByTime(22_000);
    expect(tx.state).toBe('Terminated');
    expect(seen.timeouts).toEqual([]);
    layer.receiveResponse(reply(sent, 200, 'uas-1'), UDP_SOURCE);
    expect(strays.map((r) => r.status)).toEqual([200]);
    expect(seen.responses).toHaveLength(3);
  });

  it('reports a transport error on the INVITE and terminates', async () => {
    sender.failWith = 'unreachable';
    const tx = invite();
    const seen = watch(tx);
    await vi.advanceTimersByTimeAsync(0);
    expect(seen.errors).toHaveLength(1);
    expect((seen.errors[0] as Error & { code?: string }).code).toBe('unreachable');
    expect(seen.terminated).toHaveLength(1);
    expect(tx.state).toBe('Terminated');
    expect(layer.size).toBe(0);
    await vi.advanceTimersByTimeAsync(40_000);
    expect(sender.requests('INVITE')).toHaveLength(1);
    expect(seen.timeouts).toEqual([]);
  });
});
