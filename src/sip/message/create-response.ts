import { headerKey } from './header-names.js';
import { reasonPhrase } from './reason-phrases.js';
import type { SipRequest } from './sip-request.js';
import { SipResponse } from './sip-response.js';

const COPIED = ['via', 'from', 'to', 'call-id', 'cseq'];

/**
 * Builds a response to `request` per RFC 3261 §8.2.6.2: Via, From, To, Call-ID
 * and CSeq copied as received; a To tag added when `toTag` is given and the
 * request had none (never on 100 Trying); Timestamp echoed on 100 (§8.2.6.1).
 *
 * Works on a request that failed validation too, copying the raw header lines,
 * so that a 400 can answer a malformed request.
 *
 * @example
 * const ok = createResponse(invite, 200, { toTag: 'a8f3' });
 */
export function createResponse(
  request: SipRequest,
  status: number,
  options: { reason?: string; toTag?: string } = {},
): SipResponse {
  const names: string[] = [];
  const keys: string[] = [];
  const values: string[] = [];
  for (const [name, value] of request.headers()) {
    const key = headerKey(name);
    if (!COPIED.includes(key) && !(status === 100 && key === 'timestamp')) continue;
    let v = value;
    if (key === 'to' && options.toTag !== undefined && status !== 100 && !/;\s*tag\s*=/i.test(value)) {
      v = value + ';tag=' + options.toTag;
    }
    names.push(name);
    keys.push(key);
    values.push(v);
  }
  return new SipResponse(status, options.reason ?? reasonPhrase(status), names, keys, values);
}
