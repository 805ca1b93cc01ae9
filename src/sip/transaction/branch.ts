import { randomFillSync } from 'node:crypto';
import { MAGIC_COOKIE, Parameters, Via, type SipRequest } from '../message/index.js';

const BRANCH_BYTES = 9;
const pool = Buffer.allocUnsafe(BRANCH_BYTES * 64);
let offset = pool.length;

/**
 * A new RFC 3261 branch (§8.1.1.7): the magic cookie and 72 cryptographically random bits in
 * base64url, e.g. `z9hG4bKq3J0xv7Yk2Ab`. Random bytes are drawn in batches to keep the per-request
 * cost to one string conversion.
 */
export function newBranch(): string {
  if (offset + BRANCH_BYTES > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const token = pool.toString('base64url', offset, offset + BRANCH_BYTES);
  offset += BRANCH_BYTES;
  return MAGIC_COOKIE + token;
}

/** The sent-by of a Via this element inserts: transport (`udp`, `TCP`…), host or address, port. */
export interface SentBy {
  transport: string;
  host: string;
  port?: number;
}

/**
 * Puts a new top Via on `request` with a fresh branch and an empty `rport` (RFC 3581 §3), as a UAC
 * (§8.1.1.7) or a proxy (§16.6 step 8) must before handing it to a client transaction. Returns it.
 *
 * @example
 * addVia(request, { transport: 'udp', host: '192.0.2.10', port: 5060 });
 * layer.createClientTransaction(request, destination);
 */
export function addVia(request: SipRequest, sentBy: SentBy): Via {
  const params = new Parameters().set('branch', newBranch()).set('rport', null);
  const via = new Via({ transport: sentBy.transport, host: sentBy.host, port: sentBy.port, params });
  request.add('Via', via.toString(), { first: true });
  return via;
}
