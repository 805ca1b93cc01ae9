import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createResponse, type SipRequest, type SipResponse } from '../../../src/sip/message/index.js';
import {
  ClientInviteTransaction,
  ServerInviteTransaction,
  ServerNonInviteTransaction,
  TransactionLayer,
  type ServerTransaction,
} from '../../../src/sip/transaction/index.js';
import { FakeSender, outgoing, reply, request, UDP_DEST, UDP_SOURCE } from './helpers.js';

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

describe('CANCEL at the server (RFC 3261 §9.2, §17.2.3)', () => {
  let received: { request: SipRequest; tx: ServerTransaction }[];
  beforeEach(() => {
    received = [];
    layer.onRequest((req, tx) => received.push({ request: req, tx }));
  });

  it('gives a CANCEL its own transaction, pointing at the INVITE it matches', () => {
    layer.receiveRequest(request(), UDP_SOURCE);
    const invite = received[0]!.tx;
    expect(invite).toBeInstanceOf(ServerInviteTransaction);
    layer.receiveRequest(request({ method: 'CANCEL' }), UDP_SOURCE);
    expect(received).toHaveLength(2);
    const cancel = received[1]!.tx;
    expect(cancel).toBeInstanceOf(ServerNonInviteTransaction);
    expect(cancel.kind === 'server-non-invite' && cancel.cancelled).toBe(invite);
    expect(cancel.id).not.toBe(invite.id);

    // The CANCEL's retransmission is its own transaction's, not a new request.
    cancel.respond(createResponse(cancel.request!, 200, { toTag: 'uas' }));
    layer.receiveRequest(request({ method: 'CANCEL' }), UDP_SOURCE);
    expect(received).toHaveLength(2);
    expect(sender.responses(200)).toHaveLength(2);
    expect(invite.state).toBe('Proceeding');
  });

  it('leaves cancelled undefined when no INVITE matches (the TU answers 481)', () => {
    layer.receiveRequest(request({ method: 'CANCEL', branch: 'z9hG4bKunknown' }), UDP_SOURCE);
    const tx = received[0]!.tx;
    expect(tx.kind).toBe('server-non-invite');
    expect(tx.kind === 'server-non-invite' ? tx.cancelled : 'wrong').toBeUndefined();
  });

  it('does not match a CANCEL from another sent-by', () => {
    layer.receiveRequest(request(), UDP_SOURCE);
    layer.receiveRequest(request({ method: 'CANCEL', via: 'SIP/2.0/UDP 192.0.2.99:5060;branch=z9hG4bK74bf9' }), UDP_SOURCE);
    const tx = received[1]!.tx;
    expect(tx.kind === 'server-non-invite' ? tx.cancelled : 'wrong').toBeUndefined();
  });
});

describe('createCancel at the client (RFC 3261 §9.1)', () => {
  function clientInvite(): ClientInviteTransaction {
    const req = outgoing({ cseq: 42, toTag: undefined, extra: ['Route: <sip:edge.example.com;lr>'] });
    return layer.createClientTransaction(req, UDP_DEST) as ClientInviteTransaction;
  }

  it('waits for a provisional response before sending the CANCEL, then builds it per §9.1', async () => {
    const invite = clientInvite();
    let settled: unknown = 'pending';
    const pending = layer.createCancel(invite).then((tx) => (settled = tx));
    await vi.advanceTimersByTimeAsync(1000);
    expect(settled).toBe('pending');
    expect(sender.requests('CANCEL')).toEqual([]);

    layer.receiveResponse(reply(invite.request!, 180), UDP_SOURCE);
    const cancelTx = await pending;
    expect(cancelTx).toBeDefined();
    const sent = sender.requests('CANCEL');
    expect(sent).toHaveLength(1);
    expect(sent[0]!.at).toBe(1000);
    expect(sent[0]!.destination).toEqual(UDP_DEST);
    const cancel = sent[0]!.message;
    const req = invite.request!;
    expect(cancel.uriText).toBe(req.uriText);
    expect(cancel.callId).toBe(req.callId);
    expect(cancel.get('to')).toBe(req.get('to'));
    expect(cancel.get('from')).toBe(req.get('from'));
    expect(cancel.cseq).toEqual({ seq: 42, method: 'CANCEL' });
    expect(cancel.getAll('via')).toEqual([req.get('via')]);
    expect(cancel.getAll('route')).toEqual(['<sip:edge.example.com;lr>']);

    // The CANCEL's 200 and the INVITE's 487 share the branch but not the transaction.
    const cancelResponses: SipResponse[] = [];
    const inviteResponses: SipResponse[] = [];
    cancelTx!.onResponse((r) => cancelResponses.push(r));
    invite.onResponse((r) => inviteResponses.push(r));
    layer.receiveResponse(reply(cancel, 200), UDP_SOURCE);
    layer.receiveResponse(reply(req, 487), UDP_SOURCE);
    expect(cancelResponses.map((r) => r.status)).toEqual([200]);
    expect(inviteResponses.map((r) => r.status)).toEqual([487]);
    expect(cancelTx!.state).toBe('Completed');
    expect(invite.state).toBe('Completed');
  });

  it('sends the CANCEL at once when a provisional response already came, and only once', async () => {
    const invite = clientInvite();
    layer.receiveResponse(reply(invite.request!, 183), UDP_SOURCE);
    const first = layer.createCancel(invite);
    expect(sender.requests('CANCEL')).toHaveLength(1);
    expect(layer.createCancel(invite)).toBe(first);
    expect(await first).toBeDefined();
    expect(sender.requests('CANCEL')).toHaveLength(1);
  });

  it('sends no CANCEL when a final response comes first', async () => {
    const invite = clientInvite();
    const sent = invite.request!;
    const pending = layer.createCancel(invite);
    layer.receiveResponse(reply(sent, 200), UDP_SOURCE);
    expect(await pending).toBeUndefined();
    layer.receiveResponse(reply(sent, 180), UDP_SOURCE);
    expect(sender.requests('CANCEL')).toEqual([]);
    expect(await layer.createCancel(invite)).toBeUndefined();
  });

  it('sends no CANCEL when the INVITE times out first', async () => {
    const invite = clientInvite();
    const pending = layer.createCancel(invite);
    await vi.advanceTimersByTimeAsync(32_000);
    expect(await pending).toBeUndefined();
    expect(sender.requests('CANCEL')).toEqual([]);
  });
});
