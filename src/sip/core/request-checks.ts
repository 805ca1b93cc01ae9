import { validateHeaders, type SipRequest } from '../message/index.js';

/** A refusal the core sends before anything above it sees the request. */
export interface Refusal {
  status: number;
  reason?: string;
  /** Extra headers for the answer, e.g. `Unsupported` on a 420. */
  headers?: [string, string][];
}

export interface RequestCheckOptions {
  /** Option tags this server supports (RFC 3261 §19.2): anything else in Require is refused. */
  supported: ReadonlySet<string>;
  /** True when the request would be forwarded (a proxy): enables the Max-Forwards and Proxy-Require checks. */
  forwarding: boolean;
}

const URI_SCHEMES = new Set(['sip', 'sips', 'tel']);

/**
 * The stateless checks of RFC 3261 §8.2.1–§8.2.2 and §16.3 that every request
 * passes before a transaction user or an application sees it: malformed headers
 * the parser left for later (400), an unsupported Request-URI scheme (416),
 * option tags in Require / Proxy-Require this server does not support (420 with
 * Unsupported), and Max-Forwards 0 on a request that would be forwarded (483).
 *
 * Method/CSeq mismatch, missing mandatory headers and an unknown SIP version
 * are refused by the parser already (400, 505). ACK and CANCEL are never
 * refused for Require (§8.2.2.3).
 */
export function checkRequest(request: SipRequest, options: RequestCheckOptions): Refusal | undefined {
  const bad = validateHeaders(request);
  if (bad !== undefined) return { status: 400, reason: `Bad Request (${bad})` };

  // RFC 3261 §8.2.2.1
  const scheme = request.uri.scheme.toLowerCase();
  if (!URI_SCHEMES.has(scheme)) {
    return { status: 416, reason: `Unsupported URI Scheme (${scheme})` };
  }

  const method = request.method;
  if (method !== 'ACK' && method !== 'CANCEL') {
    // A UAS looks at Require (RFC 3261 §8.2.2.3); a proxy only at Proxy-Require (§16.3 item 6).
    const unknown: string[] = [];
    for (const tag of request.getAll(options.forwarding ? 'proxy-require' : 'require')) {
      if (!options.supported.has(tag.toLowerCase())) unknown.push(tag);
    }
    if (unknown.length > 0) {
      return { status: 420, headers: [['Unsupported', unknown.join(', ')]] };
    }
  }

  // RFC 3261 §16.3 item 3
  if (options.forwarding && request.maxForwards === 0) {
    return { status: 483 };
  }
  return undefined;
}
