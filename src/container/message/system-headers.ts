import { SystemHeaderError } from '../../api/index.js';
import { canonicalName, headerKey, type SipMessageValue } from '../../sip/message/index.js';

/** JSR 289 §4.1.2: headers the container owns, with what an app should use instead. */
const SYSTEM: Record<string, string> = {
  'call-id': 'the container chooses it; use SipFactory.createRequestFrom(original, { sameCallId: true }) to keep one',
  cseq: 'the container numbers requests; use SipSession.createRequest() for requests inside a dialog',
  via: 'the container adds Via; relay a request with getProxy() or getB2buaHelper()',
  'record-route': 'use getProxy().setRecordRoute(true)',
  route: 'use pushRoute() to add a route',
  rseq: 'use sendReliably() to send a provisional response reliably',
  rack: 'use createPrack() on the reliable provisional response',
  'content-length': 'the container computes it; use setContent()',
  path: 'use getProxy().setAddToPath(true)',
};

const CONTACT_ADVICE =
  'the container sets Contact on dialog-creating messages; an application may set it only on REGISTER requests and responses, 3xx and 485 responses and 200 responses to OPTIONS';

/**
 * Throws a SystemHeaderError when an application may not set or remove this
 * header on this message (JSR 289 §4.1.2). From and To are checked separately:
 * their URI and display name may change on a new request, never their tag.
 */
export function checkWritable(name: string, message: SipMessageValue): void {
  const key = headerKey(name);
  const advice = SYSTEM[key];
  // RFC 3327 §5.3: a registrar returns the Path it stored in its 2xx to REGISTER.
  const registrarPath = key === 'path' && !message.isRequest && message.cseq.method === 'REGISTER';
  if (advice !== undefined && !registrarPath) throw new SystemHeaderError(canonicalName(key), advice);
  if (key === 'contact' && !contactWritable(message)) throw new SystemHeaderError('Contact', CONTACT_ADVICE);
  if (key === 'from' || key === 'to') {
    throw new SystemHeaderError(key === 'from' ? 'From' : 'To', 'use setAddressHeader() on a new request; tags are set by the container');
  }
}

function contactWritable(m: SipMessageValue): boolean {
  if (m.isRequest) return m.method === 'REGISTER';
  const method = m.cseq.method;
  return method === 'REGISTER' || (m.status >= 300 && m.status < 400) || m.status === 485 || (m.status === 200 && method === 'OPTIONS');
}
