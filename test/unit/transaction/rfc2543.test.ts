import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createResponse, type SipRequest } from '../../../src/sip/message/index.js';
import { TransactionLayer, type ServerTransaction } from '../../../src/sip/transaction/index.js';
import { FakeSender, request, UDP_SOURCE } from './helpers.js';

/** RFC 3261 §17.2.3: matching requests from RFC 2543 elements, whose Via has no magic cookie. */
let sender: FakeSender;
let layer: TransactionLayer;
let received: { request: SipRequest; tx: ServerTransaction }[];
let acks: SipRequest[];
const OLD_VIA = 'SIP/2.0/UDP 192.0.2.7:5060';

beforeEach(() => {
  vi.useFakeTimers();
  sender = new FakeSender();
  layer = new TransactionLayer({ sender });
  received = [];
  acks = [];
  layer.onRequest((req, tx) => received.push({ request: req, tx }));
  layer.onAck((ack) => acks.push(ack));
});

afterEach(() => {
  layer.close();
  vi.useRealTimers();
});

describe('RFC 2543 fallback matching (RFC 3261 §17.2.3)', () => {
  it('matches a retransmitted INVITE without a branch and replays the last response', () => {
    layer.receiveRequest(request({ via: OLD_VIA }), UDP_SOURCE);
    const tx = received[0]!.tx;
    expect(tx.id.startsWith('2543')).toBe(true);
    tx.respond(createResponse(tx.request!, 180, { toTag: 'uas' }));
    layer.receiveRequest(request({ via: OLD_VIA }), UDP_SOURCE);
    expect(received).toHaveLength(1);
    expect(sender.responses(180)).toHaveLength(2);
  });

  it('tells requests apart by Call-ID, CSeq, From tag, Request-URI and top Via', () => {
    layer.receiveRequest(request({ via: OLD_VIA }), UDP_SOURCE);
    layer.receiveRequest(request({ via: OLD_VIA, callId: 'other@example.com' }), UDP_SOURCE);
    layer.receiveRequest(request({ via: OLD_VIA, cseq: 2 }), UDP_SOURCE);
    layer.receiveRequest(request({ via: OLD_VIA, fromTag: 'other' }), UDP_SOURCE);
    layer.receiveRequest(request({ via: OLD_VIA, uri: 'sip:carol@example.com' }), UDP_SOURCE);
    layer.receiveRequest(request({ via: 'SIP/2.0/UDP 192.0.2.8:5060' }), UDP_SOURCE);
    expect(received).toHaveLength(6);
    expect(layer.size).toBe(6);
  });

  it('also matches a branch that lacks the magic cookie', () => {
    layer.receiveRequest(request({ method: 'OPTIONS', via: `${OLD_VIA};branch=1234` }), UDP_SOURCE);
    layer.receiveRequest(request({ method: 'OPTIONS', via: `${OLD_VIA};branch=1234` }), UDP_SOURCE);
    expect(received).toHaveLength(1);
    expect(layer.counters.absorbed).toBe(1);
  });

  it('matches the ACK of a non-2xx by the To tag of the response', () => {
    layer.receiveRequest(request({ via: OLD_VIA }), UDP_SOURCE);
    const tx = received[0]!.tx;
    tx.respond(createResponse(tx.request!, 486, { toTag: 'busy' }));
    // An ACK with another To tag is not this transaction's.
    layer.receiveRequest(request({ method: 'ACK', via: OLD_VIA, toTag: 'nope' }), UDP_SOURCE);
    expect(acks).toHaveLength(1);
    expect(tx.state).toBe('Completed');
    layer.receiveRequest(request({ method: 'ACK', via: OLD_VIA, toTag: 'busy' }), UDP_SOURCE);
    expect(tx.state).toBe('Confirmed');
    expect(acks).toHaveLength(1);
  });

  it('matches the ACK of a re-INVITE, whose To tag the INVITE already had', () => {
    layer.receiveRequest(request({ via: OLD_VIA, toTag: 'dlg' }), UDP_SOURCE);
    const tx = received[0]!.tx;
    tx.respond(createResponse(tx.request!, 491));
    layer.receiveRequest(request({ method: 'ACK', via: OLD_VIA, toTag: 'dlg' }), UDP_SOURCE);
    expect(tx.state).toBe('Confirmed');
    expect(acks).toEqual([]);
  });

  it('matches a CANCEL to its INVITE', () => {
    layer.receiveRequest(request({ via: OLD_VIA }), UDP_SOURCE);
    layer.receiveRequest(request({ method: 'CANCEL', via: OLD_VIA }), UDP_SOURCE);
    const cancel = received[1]!.tx;
    expect(cancel.kind === 'server-non-invite' ? cancel.cancelled : undefined).toBe(received[0]!.tx);
  });
});
