import type { SipResponse } from '../../sip/message/index.js';

/** RFC 3261 §16.7 step 6: 4xx responses a proxy should prefer when the 4xx class is chosen. */
const PREFERRED_4XX = [401, 407, 415, 420, 484];

/**
 * Chooses the response a proxy forwards once every branch has a final
 * response (RFC 3261 §16.7 step 6): a 6xx if there is one, otherwise the
 * lowest class, preferring 401/407/415/420/484 among 4xx. `undefined` when
 * there is no final response at all (the caller answers 408).
 */
export function chooseBestResponse(finals: readonly SipResponse[]): SipResponse | undefined {
  const sixes = finals.filter((r) => r.status >= 600);
  if (sixes.length > 0) return sixes[0];
  let best: SipResponse | undefined;
  for (const r of finals) {
    if (r.status < 300) return r;
    if (best === undefined || Math.floor(r.status / 100) < Math.floor(best.status / 100)) best = r;
    else if (Math.floor(r.status / 100) === 4 && Math.floor(best.status / 100) === 4 && PREFERRED_4XX.includes(r.status) && !PREFERRED_4XX.includes(best.status)) {
      best = r;
    }
  }
  return best;
}

/**
 * The copy of the chosen response that goes upstream: a 503 becomes 500
 * (§16.7 step 6, so the client does not take it as this proxy being
 * overloaded), and a 401/407 carries the challenges of every 401/407 branch
 * (§16.7 step 7).
 */
export function prepareBestResponse(best: SipResponse, finals: readonly SipResponse[]): SipResponse {
  const out = best.clone();
  if (out.status === 503) {
    out.status = 500;
    out.reason = 'Server Internal Error';
  }
  if (out.status === 401 || out.status === 407) {
    for (const r of finals) {
      if (r === best || (r.status !== 401 && r.status !== 407)) continue;
      for (const h of ['www-authenticate', 'proxy-authenticate']) {
        for (const value of r.getAll(h)) if (!out.getAll(h).includes(value)) out.add(h, value);
      }
    }
  }
  return out;
}
