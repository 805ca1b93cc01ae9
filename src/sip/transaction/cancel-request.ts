import { SipRequest } from '../message/index.js';

/**
 * RFC 3261 §9.1: the CANCEL for a pending INVITE. Request-URI, Call-ID, To, From (tags included)
 * and the CSeq number of the INVITE, CSeq method CANCEL, the INVITE's top Via only (so the CANCEL
 * takes the INVITE's branch and reaches the same server), and its Route header fields.
 */
export function createCancelRequest(invite: SipRequest): SipRequest {
  const cancel = new SipRequest('CANCEL', invite.uriText);
  cancel.add('Via', invite.get('via') ?? '');
  for (const route of invite.getAll('route')) cancel.add('Route', route);
  cancel.add('Max-Forwards', String(invite.maxForwards ?? 70));
  cancel.add('From', invite.get('from') ?? '');
  cancel.add('To', invite.get('to') ?? '');
  cancel.add('Call-ID', invite.callId);
  cancel.add('CSeq', invite.cseq.seq + ' CANCEL');
  return cancel;
}
