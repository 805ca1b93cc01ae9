import { SipRequest, type SipResponse } from '../message/index.js';

/**
 * RFC 3261 §17.1.1.3: the ACK an INVITE client transaction sends for a non-2xx final response.
 * Request-URI, Call-ID, From and the CSeq number of the INVITE, CSeq method ACK, the INVITE's top
 * Via only, To from the response (with its tag), and the INVITE's Route header fields.
 */
export function createNon2xxAck(invite: SipRequest, response: SipResponse): SipRequest {
  const ack = new SipRequest('ACK', invite.uriText);
  ack.add('Via', invite.get('via') ?? '');
  for (const route of invite.getAll('route')) ack.add('Route', route);
  ack.add('Max-Forwards', String(invite.maxForwards ?? 70));
  ack.add('From', invite.get('from') ?? '');
  ack.add('To', response.get('to') ?? '');
  ack.add('Call-ID', invite.callId);
  ack.add('CSeq', invite.cseq.seq + ' ACK');
  return ack;
}
