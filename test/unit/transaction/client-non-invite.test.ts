import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SipResponse } from '../../../src/sip/message/index.js';
import { ClientNonInviteTransaction, TransactionLayer } from '../../../src/sip/transaction/index.js';
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

function options(transport: 'UDP' | 'TCP' = 'UDP'): ClientNonInviteTransaction {
  const tx = layer.createClientTransaction(outgoing({ method: 'OPTIONS', transport }), transport === 'TCP' ? TCP_DEST : UDP_DEST);
  if (!(tx instanceof ClientNonInviteTransaction)) throw new Error('expected a non-INVITE client transaction');
  return tx;
}

function watch(tx: ClientNonInviteTransaction) {
  const seen = { responses: [] as SipResponse[], timeouts: [] as number[], terminated: [] as number[], errors: [] as Error[] };
  tx.onResponse((r) => seen.responses.push(r));
  tx.onTimeout(() => seen.timeouts.push(Date.now()));
  tx.onTerminated(() => seen.terminated.push(Date.now()));
  tx.onTransportError((e) => seen.errors.push(e));
  return seen;
}

describe('non-INVITE client transaction (RFC 3261 §17.1.2, RFC 4320)', () => {
  it('over UDP retransmits on Timer E doubling up to T2 and times out on Timer F = 64*T1', () => {
    const t0 = Date.now();
    const tx = options();
    const seen = watch(tx);
    vi.advanceTimersByTime(31999);
    expect(sender.requestTimes('OPTIONS')).toEqual([0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
    expect(seen.timeouts).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(seen.timeouts).toEqual([t0 + 32000]);
    expect(seen.terminated).toEqual([t0 + 32000]);
    expect(tx.state).toBe('Terminated');
    expect(layer.size).toBe(0);
    // RFC 4320 §4.2: the transaction fabricates no 408 and sends nothing on timeout.
    expect(sender.responses()).toEqual([]);
    expect(seen.responses).toEqual([]);
  });

  it('caps Timer E at a configured T2', () => {
    layer = new TransactionLayer({ sender, timers: { t1: 500, t2: 1000 } });
    const seen = watch(options());
    vi.advanceTimersByTime(5000);
    expect(sender.requestTimes('OPTIONS')).toEqual([0, 500, 1500, 2500, 3500, 4500]);
    expect(seen.timeouts).toEqual([]);
  });

  it('over TCP sends once and times out on Timer F', () => {
    const seen = watch(options('TCP'));
    vi.advanceTimersByTime(32000);
    expect(sender.requestTimes('OPTIONS')).toEqual([0]);
    expect(seen.timeouts).toHaveLength(1);
  });

  it('keeps Timer F on a provisional and retransmits every T2 in Proceeding', () => {
    const tx = options();
    const seen = watch(tx);
    vi.advanceTimersByTime(1000);
    layer.receiveResponse(reply(tx.request!, 100), UDP_SOURCE);
    expect(tx.state).toBe('Proceeding');
    expect(seen.responses.map((r) => r.status)).toEqual([100]);
    vi.advanceTimersByTime(31000);
    expect(sender.requestTimes('OPTIONS')).toEqual([0, 500, 1500, 5500, 9500, 13500, 17500, 21500, 25500, 29500]);
    expect(seen.timeouts).toHaveLength(1);
    expect(tx.state).toBe('Terminated');
  });

  it('passes the final response up once and absorbs retransmissions for Timer K = T4', () => {
    const tx = options();
    const sent = tx.request!;
    const seen = watch(tx);
    vi.advanceTimersByTime(700);
    layer.receiveResponse(reply(sent, 200), UDP_SOURCE);
    expect(tx.state).toBe('Completed');
    // The TU had the 200 through onResponse; the lingering transaction keeps no response.
    expect(tx.lastResponse).toBeUndefined();
    layer.receiveResponse(reply(sent, 200), UDP_SOURCE);
    expect(seen.responses.map((r) => r.status)).toEqual([200]);
    expect(layer.counters.absorbed).toBe(1);
    vi.advanceTimersByTime(4999);
    expect(tx.state).toBe('Completed');
    vi.advanceTimersByTime(1);
    expect(tx.state).toBe('Terminated');
    expect(seen.terminated).toHaveLength(1);
    expect(sender.requestTimes('OPTIONS')).toEqual([0, 500]);
    expect(layer.size).toBe(0);
  });

  it('over TCP terminates on the final response (Timer K = 0)', () => {
    const tx = options('TCP');
    const seen = watch(tx);
    layer.receiveResponse(reply(tx.request!, 404), UDP_SOURCE);
    expect(seen.responses.map((r) => r.status)).toEqual([404]);
    expect(tx.state).toBe('Terminated');
    expect(layer.size).toBe(0);
  });

  it('reports a transport error on a retransmission and terminates', async () => {
    const tx = options();
    const seen = watch(tx);
    await vi.advanceTimersByTimeAsync(100);
    sender.failWith = 'send-failed';
    await vi.advanceTimersByTimeAsync(400);
    expect(seen.errors.map((e) => (e as Error & { code?: string }).code)).toEqual(['send-failed']);
    expect(tx.state).toBe('Terminated');
    expect(seen.terminated).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(40_000);
    expect(sender.requestTimes('OPTIONS')).toEqual([0, 500]);
  });
});
