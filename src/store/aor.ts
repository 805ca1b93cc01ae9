import { parseUri, SipUri, type Uri } from '../sip/message/index.js';

/**
 * The canonical text of an address of record: `sip:` or `sips:`, the user part (escaped the one
 * canonical way), the host lower-cased, the port when one is written; no password, parameters or
 * headers. `sip:Alice@Example.COM:5070;transport=tcp` → `sip:Alice@example.com:5070`.
 *
 * Returns `undefined` for anything that is not a sip or sips URI (tel:, a malformed text), which
 * no registrar binds (RFC 3261 §10.3 step 5).
 *
 * Hazard: the user part stays case-sensitive and a written default port stays written, as URI
 * comparison says (RFC 3261 §19.1.4): `sip:bob@example.com` and `sip:bob@example.com:5060` are
 * different addresses of record.
 */
export function normalizeAor(aor: string | Uri): string | undefined {
  const uri = typeof aor === 'string' ? parseUri(aor.trim()) : aor;
  if (!(uri instanceof SipUri) || uri.host === '') return undefined;
  return new SipUri({ scheme: uri.scheme, user: uri.user, host: uri.host.toLowerCase(), port: uri.port }).toString();
}
