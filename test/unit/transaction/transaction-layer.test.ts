import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createResponse, MAGIC_COOKIE, SipRequest, type SipResponse } from '../../../src/sip/message/index.js';
import { addVia, newBranch, TransactionLayer } from '../../../src/sip/transaction/index.js';
import { silentLogger } from '../../../src/util/index.js';
import { FakeSender, outgoing, parseRequest, reply, request, TCP_DEST, UDP_DEST, UDP_SOURCE } from './helpers.js';

let sender: FakeSender;
let layer: TransactionLayer;

beforeEach(() => {
  vi.useFakeTimers();
  sender = new FakeSender();
  layer = new TransactionLayer({ sender, logger: silentLogger() });
});

afterEach(() => {
  layer.close();
  vi.useRealTimers();
});

describe('newBranch and addVia', () => {
  it('makes short, unique branches with the magic cookie', () => {
    const branches = new Set<string>();
    for (let i = 0; i < 2000; i++) branches.add(newBranch());
    expect(branches.size).toBe(2000);
    for (const b of branches) expect(b).toMatch(new RegExp(`^${MAGIC_COOKIE}[A-Za-z0-9_-]{12}$`));
  });

  it('puts a new top Via with a fresh branch and rport', () => {
    const req = request();
    const via = addVia(req, { transport: 'udp', host: '192.0.2.10', port: 5070 });
    expect(req.via).toHaveLength(2);
    expect(req.topVia?.toString()).toBe(via.toString());
    expect(req.topVia?.transport).toBe('UDP');
    expect(req.topVia?.host).toBe('192.0.2.10');
    expect(req.topVia?.port).toBe(5070);
    expect(req.topVia?.rfc3261).toBe(true);
    expect(req.topVia?.rport).toBeNull();
    expect(req.via[1]?.branch).toBe('z9hG4bK74bf9');
  });

  it('lets a request built from scratch run in a client transaction', () => {
    const req = new SipRequest('OPTIONS', 'sip:bob@example.com');
    req.add('Max-Forwards', '70').add('To', '<sip:bob@example.com>').add('From', '<sip:a@example.com>;tag=1');
    req.add('Call-ID', 'x@y').add('CSeq', '1 OPTIONS');
    addVia(req, { transport: 'tcp', host: 'proxy.example.com' });
    const tx = layer.createClientTransaction(req, TCP_DEST);
    const responses: SipResponse[] = [];
    tx.onResponse((r) => responses.push(r));
    layer.receiveResponse(reply(req, 200), UDP_SOURCE);
    expect(responses.map((r) => r.status)).toEqual([200]);
  });
});

describe('TransactionLayer', () => {
  it('gives responses that match no client transaction to onStrayResponse', () => {
    const strays: SipResponse[] = [];
    layer.onStrayResponse((r) => strays.push(r));
    const tx = layer.createClientTransaction(outgoing({ method: 'OPTIONS' }), UDP_DEST);
    layer.receiveResponse(reply(outgoing({ method: 'OPTIONS', branch: 'z9hG4bKother' }), 200), UDP_SOURCE);
    // Same branch, other CSeq method: not this transaction (§17.1.3).
    const otherMethod = reply(outgoing({ method: 'OPTIONS' }), 200);
    otherMethod.set('CSeq', '1 INFO');
    layer.receiveResponse(otherMethod, UDP_SOURCE);
    expect(strays).toHaveLength(2);
    expect(tx.state).toBe('Trying');
    expect(layer.counters.strayResponses).toBe(2);
  });

  it('dispatches parsed messages with receive()', () => {
    const methods: string[] = [];
    layer.onRequest((req, tx) => {
      methods.push(req.method);
      tx.respond(createResponse(req, 200, { toTag: 't' }));
    });
    layer.receive(request({ method: 'OPTIONS' }), UDP_SOURCE);
    const tx = layer.createClientTransaction(outgoing({ method: 'OPTIONS' }), UDP_DEST);
    layer.receive(reply(tx.request!, 200), UDP_SOURCE);
    expect(methods).toEqual(['OPTIONS']);
    expect(tx.state).toBe('Completed');
  });

  it('refuses client transactions it cannot run', () => {
    expect(() => layer.createClientTransaction(outgoing({ method: 'ACK' }), UDP_DEST)).toThrow(/ACK/);
    expect(() => layer.createClientTransaction(request({ via: 'SIP/2.0/UDP 192.0.2.10' }), UDP_DEST)).toThrow(/addVia/);
    layer.createClientTransaction(outgoing(), UDP_DEST);
    expect(() => layer.createClientTransaction(outgoing(), UDP_DEST)).toThrow(/branch/);
  });

  it('answers 503 when no request handler is registered, and 500 when the handler throws', () => {
    layer.receiveRequest(request({ method: 'OPTIONS', branch: 'z9hG4bKa' }), UDP_SOURCE);
    expect(sender.responses().map((s) => s.message.status)).toEqual([503]);
    layer.onRequest(() => {
      throw new Error('application bug');
    });
    layer.receiveRequest(request({ method: 'OPTIONS', branch: 'z9hG4bKb' }), UDP_SOURCE);
    expect(sender.responses().map((s) => s.message.status)).toEqual([503, 500]);
  });

  it('keeps running when a transaction listener throws', () => {
    const tx = layer.createClientTransaction(outgoing({ method: 'OPTIONS' }), UDP_DEST);
    const after: number[] = [];
    tx.onResponse(() => {
      throw new Error('listener bug');
    });
    tx.onResponse((r) => after.push(r.status));
    layer.receiveResponse(reply(tx.request!, 200), UDP_SOURCE);
    expect(after).toEqual([200]);
    expect(tx.state).toBe('Completed');
  });

  it('uses a configured T4 for Timers I and K', () => {
    layer = new TransactionLayer({ sender, timers: { t4: 2000 } });
    const client = layer.createClientTransaction(outgoing({ method: 'OPTIONS' }), UDP_DEST);
    layer.receiveResponse(reply(client.request!, 200), UDP_SOURCE);
    layer.onRequest((req, tx) => tx.respond(createResponse(req, 486, { toTag: 'u' })));
    layer.receiveRequest(request(), UDP_SOURCE);
    layer.receiveRequest(request({ method: 'ACK', toTag: 'u' }), UDP_SOURCE);
    expect(layer.size).toBe(2);
    vi.advanceTimersByTime(1999);
    expect(layer.size).toBe(2);
    vi.advanceTimersByTime(1);
    expect(layer.size).toBe(0);
  });

  it('leaks no transaction: a batch of every kind runs out its timers and the maps are empty', () => {
    layer.onRequest((req, tx) => {
      const n = Number(req.callId.split('@')[0]);
      if (n % 3 === 0) tx.respond(createResponse(req, req.method === 'INVITE' ? 486 : 200, { toTag: 't' + n }));
      else if (n % 3 === 1 && req.method === 'INVITE') tx.respond(createResponse(req, 200, { toTag: 't' + n }));
      else if (req.method !== 'INVITE') tx.respond(createResponse(req, 404, { toTag: 't' + n }));
      // INVITEs with n % 3 === 2 get no final response: they stay in Proceeding (§17.2.1: the TU must answer).
    });
    const pending: { req: SipRequest }[] = [];
    for (let n = 0; n < 60; n++) {
      const callId = `${n}@example.com`;
      const branch = `z9hG4bKsrv${n}`;
      layer.receiveRequest(request({ branch, callId }), UDP_SOURCE);
      layer.receiveRequest(request({ method: 'MESSAGE', branch, callId }), UDP_SOURCE);
      if (n % 3 === 0) layer.receiveRequest(request({ method: 'ACK', branch, callId, toTag: 't' + n }), UDP_SOURCE);
      if (n % 3 === 2) pending.push({ req: request({ branch, callId }) });
      const invite = layer.createClientTransaction(outgoing({ branch: `z9hG4bKcli${n}`, callId }), UDP_DEST);
      const nit = layer.createClientTransaction(outgoing({ method: 'OPTIONS', branch: `z9hG4bKcli${n}`, callId }), UDP_DEST);
      if (n % 2 === 0) {
        layer.receiveResponse(reply(invite.request!, n % 4 === 0 ? 200 : 480), UDP_SOURCE);
        layer.receiveResponse(reply(nit.request!, 200), UDP_SOURCE);
      }
    }
    expect(layer.size).toBe(240);
    vi.advanceTimersByTime(1000);
    // Their retransmissions are absorbed, not new transactions.
    for (const { req } of pending) layer.receiveRequest(req, UDP_SOURCE);
    expect(layer.size).toBe(240);
    vi.advanceTimersByTime(100_000);
    // Only the server INVITEs the TU never answered remain; close() drops them.
    expect(layer.size).toBe(pending.length);
    expect(layer.counters.created['server-invite'] - layer.counters.terminated['server-invite']).toBe(pending.length);
    layer.close();
    expect(layer.size).toBe(0);
    const c = layer.counters;
    expect(c.created).toEqual({ 'client-invite': 60, 'client-non-invite': 60, 'server-invite': 60, 'server-non-invite': 60 });
    expect(c.terminated).toEqual(c.created);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('ends server INVITEs the TU answers late once Timer H runs out', () => {
    const txs: { respond(r: SipResponse): boolean; request: SipRequest | undefined }[] = [];
    layer.onRequest((_req, tx) => txs.push(tx));
    for (let n = 0; n < 20; n++) layer.receiveRequest(request({ branch: `z9hG4bKlate${n}` }), UDP_SOURCE);
    vi.advanceTimersByTime(5000);
    for (const tx of txs) tx.respond(createResponse(tx.request!, 480, { toTag: 'late' }));
    vi.advanceTimersByTime(32_000);
    expect(layer.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    expect(layer.counters.timeouts).toBe(20);
  });

  it('drops everything silently on close()', () => {
    const tx = layer.createClientTransaction(outgoing(), UDP_DEST);
    const terminated: number[] = [];
    tx.onTerminated(() => terminated.push(1));
    layer.receiveRequest(request({ method: 'OPTIONS' }), UDP_SOURCE);
    layer.close();
    expect(layer.size).toBe(0);
    expect(tx.state).toBe('Terminated');
    expect(terminated).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(60_000);
    expect(sender.requests('INVITE')).toHaveLength(1);
  });

  it('counts retransmissions and absorbed messages', () => {
    layer.onRequest((req, tx) => tx.respond(createResponse(req, 200, { toTag: 't' })));
    layer.receiveRequest(parseRequest(request({ method: 'OPTIONS' }).toString()), UDP_SOURCE);
    layer.receiveRequest(request({ method: 'OPTIONS' }), UDP_SOURCE);
    layer.createClientTransaction(outgoing({ method: 'OPTIONS' }), UDP_DEST);
    vi.advanceTimersByTime(1500);
    expect(layer.counters.absorbed).toBe(1);
    expect(layer.counters.retransmissions).toBe(1 + 2);
  });
});
