import { SystemHeaderError } from '../../api/index.js';
import { canonicalName, headerKey, NameAddress, parseNameAddress, parseUri, type SipRequest } from '../../sip/message/index.js';

/** A JSR 289 header map: header name → the values that replace the header's (one string or a list). */
export type HeaderMap = Readonly<Record<string, string | readonly string[]>>;

/**
 * Headers a B2BUA request never takes from the request it copies (JSR 289 §12.2: the
 * system headers, the transport state, and what the container fills in itself).
 */
export const NOT_COPIED: ReadonlySet<string> = new Set([
  'via', 'route', 'record-route', 'call-id', 'cseq', 'from', 'to', 'contact', 'content-length', 'max-forwards', 'rseq', 'rack', 'path',
]);

/** Headers a header map may never set: the container owns them (JSR 289 §4.1.2). */
const SYSTEM: Record<string, string> = {
  via: 'the container adds its own Via when the request is sent',
  'record-route': 'a B2BUA does not record-route; the legs are separate dialogs',
  'call-id': 'each leg has its own Call-ID, chosen by the container',
  cseq: 'the container numbers the requests of each leg',
  'content-length': 'the container computes it from the content',
  rseq: 'use sendReliably() to send a provisional response reliably',
  rack: 'relay a PRACK with createRequestFor(session, prack)',
  path: 'Path is added by registrars and proxies, not by a B2BUA',
};

/** What a header map sets beyond plain headers: the addresses the container fills in itself. */
export interface MappedAddresses {
  from?: NameAddress;
  to?: NameAddress;
  /** Contact user part, display name and header parameters; the container supplies host, port and transport. */
  contact?: NameAddress;
}

/**
 * Applies a JSR 289 header map to a request the B2BUA helper built: each entry
 * replaces the header's values (an empty list removes it). From and To (new
 * requests only) and Contact are returned for the container to use with its
 * own tags and address; Route (new requests only) pushes an outbound route.
 * System headers are refused with a SystemHeaderError naming them.
 */
export function applyHeaderMap(request: SipRequest, map: HeaderMap | undefined, options: { initial: boolean }): MappedAddresses {
  const mapped: MappedAddresses = {};
  if (map === undefined) return mapped;
  for (const [name, raw] of Object.entries(map)) {
    const values: readonly string[] = typeof raw === 'string' ? [raw] : raw;
    const key = headerKey(name);
    const advice = SYSTEM[key];
    if (advice !== undefined) throw new SystemHeaderError(canonicalName(key), advice);
    if (key === 'from' || key === 'to') {
      const which = key === 'from' ? 'From' : 'To';
      if (!options.initial) throw new SystemHeaderError(which, 'From and To of a dialog are fixed; set them only on the new leg of createRequest()');
      const address = singleAddress(which, values);
      if (address.tag !== undefined) throw new SystemHeaderError(which, 'the tag is chosen by the container; give the URI and display name only');
      mapped[key] = address;
      continue;
    }
    if (key === 'contact') {
      // JSR 289 §4.1.3: a B2BUA may choose the user part (and display name, parameters) of its Contact.
      mapped.contact = singleAddress('Contact', values);
      continue;
    }
    if (key === 'route' && !options.initial) {
      throw new SystemHeaderError('Route', 'requests inside a dialog follow its route set; set Route only on the new leg of createRequest()');
    }
    request.remove(key);
    for (const v of values) request.add(canonicalName(key), v);
  }
  return mapped;
}

/** Copies the headers of `source` that a B2BUA relays (all but NOT_COPIED and `skip`) onto `target`. */
export function copyHeaders(source: SipRequest, target: SipRequest, skip: ReadonlySet<string> = NOT_COPIED): void {
  for (const [name, value] of source.headers()) {
    if (!skip.has(headerKey(name))) target.add(name, value);
  }
}

function singleAddress(header: string, values: readonly string[]): NameAddress {
  if (values.length !== 1) throw new TypeError(`the header map must give exactly one ${header} value, got ${values.length}`);
  const text = (values[0] as string).trim();
  // A bare URI ("sip:bob@example.com;transport=tcp") keeps its URI parameters, as SipFactory reads it.
  if (!/[<"]/.test(text)) {
    const uri = parseUri(text);
    if (uri !== undefined) return new NameAddress(uri);
  }
  const address = parseNameAddress(text);
  if (address === undefined) throw new TypeError(`not a ${header} address: ${JSON.stringify(text)} (expected e.g. "Bob" <sip:bob@example.com>)`);
  return address;
}
