import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createResponse, parseMessage, type SipRequest, type SipResponse } from '../../../src/sip/message/index.js';
import {
  ClientInviteTransaction,
  ClientNonInviteTransaction,
  newBranch,
  ServerInviteTransaction,
  TransactionLayer,
  type ServerTransaction,
} from '../../../src/sip/transaction/index.js';
import { MemoryNetwork, MessageTransport, TransportLayer, type Destination, type MemoryTransport } from '../../../src/sip/transport/index.js';

/**
 * Lingering transactions (RFC 6026 Timers L and M, RFC 3261 Timers J, K, D, I) release the request
 * and the TU's listeners and records on entering that state, and still behave on the wire: the
 * transaction layer runs over a MessageTransport on a memory network, a peer transport sends bytes.
 *
 *   peer 10.0.0.2                    Siplet 10.0.0.1 (transactions, fake timers)
 *     | INVITE ─────────────────────────► server INVITE tx ── TU answers 200 ─► Accepted
 *     | ◄───────────────────────── 200  │  request, tuRecord, timeout listener released
 *     | INVITE (retransmission) ──────► │  absorbed
 *     | ACK (same branch) ────────────► │  passed to the TU (RFC 6026 §7.1)
 *     | ◄────────────── 200 (TU resends)│
 *     |                                 │  Timer L: Terminated
 */

const SIPLET: Destination = { address: '10.0.0.1', port: 5060, protocol: 'udp' };
const PEER: Destination = { address: '10.0.0.2', port: 5060, protocol: 'udp' };

let transports: TransportLayer;
let peer: MemoryTransport;
let layer: TransactionLayer;
let messages: MessageTransport;
/** What the peer received, parsed. */
let wire: (SipRequest | SipResponse)[];
let requests: { request: SipRequest; tx: ServerTransaction }[];
let acks: SipRequest[];

/** Delivery on the memory network runs in setImmediate, which stays real; the transaction timers are fake. */
async function flush(): Promise<void> {
  for (let i = 0; i < 6; i++) await new Promise((resolve) => setImmediate(resolve));
}

function gc(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/** True once nothing but the weak reference holds `ref`'s target (after a full GC in a later task). */
async function collected(ref: WeakRef<object>): Promise<boolean> {
  await flush();
  gc();
  return ref.deref() === undefined;
}

/** A listener that keeps `object` reachable for as long as the listener is. */
function holding(object: object): () => void {
  return () => void object;
}

/** A response listener that records statuses and keeps `object` reachable for as long as it is. */
function recording(object: object, statuses: number[]): (response: SipResponse) => void {
  return (response) => {
    void object;
    statuses.push(response.status);
  };
}

function peerSends(text: string): Promise<void> {
  return peer.send(SIPLET, Buffer.from(text.replace(/\n/g, '\r\n') + '\r\n', 'latin1'));
}

function inviteText(method = 'INVITE', branch = 'z9hG4bKpeer1', extra = ''): string {
  return [
    `${method} sip:bob@10.0.0.1 SIP/2.0`,
    `Via: SIP/2.0/UDP 10.0.0.2:5060;branch=${branch}`,
    'Max-Forwards: 70',
    `To: <sip:bob@10.0.0.1>${extra}`,
    'From: <sip:alice@10.0.0.2>;tag=a1',
    'Call-ID: linger-1@10.0.0.2',
    `CSeq: 1 ${method}`,
    'Contact: <sip:alice@10.0.0.2>',
    'Content-Length: 0',
    '',
  ].join('\n');
}

function statuses(): number[] {
  return wire.flatMap((m) => (m.isRequest ? [] : [m.status]));
}

beforeEach(async () => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  const net = new MemoryNetwork();
  transports = new TransportLayer();
  transports.add(net.transport({ address: SIPLET.address, port: SIPLET.port }));
  await transports.listen();
  peer = net.transport({ address: PEER.address, port: PEER.port });
  await peer.listen();
  wire = [];
  peer.onPacket((packet) => {
    const parsed = parseMessage(packet.data);
    if (parsed.ok === true) wire.push(parsed.message);
  });
  messages = new MessageTransport({ layer: transports, advertisedAddress: { 4: SIPLET.address } });
  layer = new TransactionLayer({ sender: messages, timers: { t1: 500 } });
  requests = [];
  acks = [];
  layer.onRequest((request, tx) => requests.push({ request, tx }));
  layer.onAck((ack) => acks.push(ack));
  messages.onRequest((request, source) => layer.receiveRequest(request, source));
  messages.onResponse((response, source) => layer.receiveResponse(response, source));
});

afterEach(async () => {
  layer.close();
  await transports.close();
  await peer.close();
  vi.useRealTimers();
});

describe('a lingering INVITE server transaction', () => {
  it('in Accepted holds no request, TU record or timeout listener, absorbs INVITEs and passes ACKs up (RFC 6026 §7.1)', async () => {
    await peerSends(inviteText());
    await flush();
    const tx = requests[0]!.tx as ServerInviteTransaction;
    expect(tx).toBeInstanceOf(ServerInviteTransaction);
    const invite = tx.request!;
    let call: object | undefined = { name: 'the TU call graph' };
    const ref = new WeakRef(call);
    tx.keepTuRecord(call);
    tx.onTimeout(holding(call));
    expect(tx.tuRecord).toBe(call);
    call = undefined;

    const ok = createResponse(invite, 200, { toTag: 'b1' });
    expect(tx.respond(ok)).toBe(true);
    expect(tx.state).toBe('Accepted');
    expect(tx.request).toBeUndefined();
    expect(tx.tuRecord).toBeUndefined();
    expect(tx.method).toBe('INVITE');
    // The 2xx is the TU's to retransmit: the transaction keeps its To tag only.
    expect(tx.lastResponse).toBeUndefined();
    expect(tx.toTag).toBe('b1');
    expect(await collected(ref)).toBe(true);

    // A retransmitted INVITE is absorbed: no new request for the TU, and no answer from the transaction.
    await peerSends(inviteText());
    await flush();
    expect(requests).toHaveLength(1);
    expect(statuses()).toEqual([200]);
    expect(layer.counters.absorbed).toBe(1);
    // The ACK with the INVITE's branch goes to the TU; the TU's 2xx retransmission still goes out.
    await peerSends(inviteText('ACK', 'z9hG4bKpeer1', ';tag=b1'));
    await flush();
    expect(acks.map((a) => a.method)).toEqual(['ACK']);
    expect(tx.respond(ok)).toBe(true);
    await flush();
    expect(statuses()).toEqual([200, 200]);

    vi.advanceTimersByTime(32_000);
    expect(tx.state).toBe('Terminated');
    expect(layer.size).toBe(0);
  });

  it('in Completed replays its non-2xx to retransmissions without the request, and reaches Confirmed on the ACK', async () => {
    await peerSends(inviteText());
    await flush();
    const tx = requests[0]!.tx as ServerInviteTransaction;
    const timeouts: number[] = [];
    tx.onTimeout(() => timeouts.push(Date.now()));
    tx.respond(createResponse(tx.request!, 486, { toTag: 'b1' }));
    expect(tx.state).toBe('Completed');
    expect(tx.request).toBeUndefined();
    expect(tx.lastResponse?.status).toBe(486);
    await flush();
    await peerSends(inviteText());
    await flush();
    expect(statuses()).toEqual([486, 486]);
    expect(requests).toHaveLength(1);
    await peerSends(inviteText('ACK', 'z9hG4bKpeer1', ';tag=b1'));
    await flush();
    expect(tx.state).toBe('Confirmed');
    expect(tx.lastResponse).toBeUndefined();
    expect(tx.toTag).toBe('b1');
    expect(acks).toEqual([]);
    vi.advanceTimersByTime(5000);
    expect(tx.state).toBe('Terminated');
    expect(timeouts).toEqual([]);
  });

  it('keeps its TU record while Proceeding, so a CANCEL finds the INVITE (RFC 3261 §9.2)', async () => {
    await peerSends(inviteText());
    await flush();
    const tx = requests[0]!.tx as ServerInviteTransaction;
    const record = { name: 'pending INVITE' };
    tx.keepTuRecord(record);
    await peerSends(inviteText('CANCEL'));
    await flush();
    const cancel = requests[1]!.tx;
    expect(cancel.kind === 'server-non-invite' && cancel.cancelled).toBe(tx);
    expect(tx.state).toBe('Proceeding');
    expect(tx.tuRecord).toBe(record);
    expect(tx.request).toBeDefined();
    // Once answered, a record is no longer taken.
    tx.respond(createResponse(tx.request!, 487, { toTag: 'b1' }));
    tx.keepTuRecord(record);
    expect(tx.tuRecord).toBeUndefined();
  });
});

describe('a lingering non-INVITE server transaction', () => {
  it('in Completed holds no request and replays its final response until Timer J', async () => {
    await peerSends(inviteText('BYE', 'z9hG4bKbye1', ';tag=b1'));
    await flush();
    const tx = requests[0]!.tx;
    tx.respond(createResponse(tx.request!, 200));
    expect(tx.state).toBe('Completed');
    expect(tx.request).toBeUndefined();
    expect(tx.method).toBe('BYE');
    await flush();
    await peerSends(inviteText('BYE', 'z9hG4bKbye1', ';tag=b1'));
    await flush();
    expect(statuses()).toEqual([200, 200]);
    expect(requests).toHaveLength(1);
    vi.advanceTimersByTime(32_000);
    expect(tx.state).toBe('Terminated');
  });
});

describe('lingering client transactions', () => {
  function send(method: string): { tx: ClientInviteTransaction | ClientNonInviteTransaction; request: SipRequest } {
    const text = inviteText(method, 'z9hG4bKunused').replace('sip:bob@10.0.0.1', 'sip:bob@10.0.0.2');
    const parsed = parseMessage(Buffer.from(text.replace(/\n/g, '\r\n') + '\r\n', 'latin1'));
    if (parsed.ok !== true || !parsed.message.isRequest) throw new Error('bad test request');
    const request = parsed.message;
    request.removeFirst('via');
    const destination = messages.prepareRequest(request, PEER, newBranch());
    return { tx: layer.createClientTransaction(request, destination), request };
  }

  function answer(request: SipRequest, status: number): Promise<void> {
    return peer.send(SIPLET, createResponse(request, status, { toTag: 'b1' }).toBuffer());
  }

  it('INVITE in Accepted drops the request and its timeout and transport-error listeners, and still passes 2xx retransmissions up (RFC 6026 §7.2)', async () => {
    const { tx, request } = send('INVITE');
    expect(tx).toBeInstanceOf(ClientInviteTransaction);
    let branch: object | undefined = { name: 'proxy branch' };
    const ref = new WeakRef(branch);
    tx.onTimeout(holding(branch));
    tx.onTransportError(holding(branch));
    const responses: number[] = [];
    tx.onResponse((r) => responses.push(r.status));
    branch = undefined;
    await flush();
    expect(wire.map((m) => (m.isRequest ? m.method : m.status))).toEqual(['INVITE']);

    await answer(request, 200);
    await flush();
    expect(tx.state).toBe('Accepted');
    expect(tx.request).toBeUndefined();
    expect(tx.lastResponse).toBeUndefined();
    expect(await collected(ref)).toBe(true);
    await answer(request, 200);
    await flush();
    expect(responses).toEqual([200, 200]);
    // No ACK from the transaction for a 2xx, and no INVITE retransmission.
    vi.advanceTimersByTime(10_000);
    await flush();
    expect(wire.map((m) => (m.isRequest ? m.method : m.status))).toEqual(['INVITE']);
    vi.advanceTimersByTime(22_000);
    expect(tx.state).toBe('Terminated');
  });

  it('INVITE in Completed resends its ACK to a retransmitted non-2xx without the request or onResponse listener', async () => {
    const { tx, request } = send('INVITE');
    let listener: object | undefined = { name: 'uac record' };
    const ref = new WeakRef(listener);
    const responses: number[] = [];
    tx.onResponse(recording(listener, responses));
    listener = undefined;
    await answer(request, 486);
    await flush();
    expect(tx.state).toBe('Completed');
    expect(tx.request).toBeUndefined();
    expect(await collected(ref)).toBe(true);
    await answer(request, 486);
    await flush();
    expect(responses).toEqual([486]);
    expect(wire.map((m) => (m.isRequest ? m.method : m.status))).toEqual(['INVITE', 'ACK', 'ACK']);
  });

  it('non-INVITE in Completed drops the request and every listener but onTerminated, and absorbs retransmissions (Timer K)', async () => {
    const { tx, request } = send('BYE');
    expect(tx).toBeInstanceOf(ClientNonInviteTransaction);
    let session: object | undefined = { name: 'session' };
    const ref = new WeakRef(session);
    const responses: number[] = [];
    tx.onResponse(recording(session, responses));
    tx.onTimeout(holding(session));
    let ended = 0;
    tx.onTerminated(() => ended++);
    session = undefined;
    await answer(request, 200);
    await flush();
    expect(tx.state).toBe('Completed');
    expect(tx.request).toBeUndefined();
    expect(tx.lastResponse).toBeUndefined();
    expect(await collected(ref)).toBe(true);
    await answer(request, 200);
    await flush();
    expect(responses).toEqual([200]);
    expect(layer.counters.absorbed).toBe(1);
    vi.advanceTimersByTime(5000);
    expect(tx.state).toBe('Terminated');
    expect(ended).toBe(1);
  });
});
