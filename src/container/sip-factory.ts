import type {
  Address,
  AuthInfo,
  CreateRequestOptions,
  Parameterable,
  SipApplicationSession,
  SipFactory,
  SipServletRequest,
  SipSessionsUtil,
} from '../api/index.js';
import {
  headerKey,
  NameAddress,
  Parameters,
  parseNameAddress,
  parseUri,
  SipRequest,
  SipUri,
  TelUri,
  type Uri,
} from '../sip/message/index.js';
import { randomText } from '../util/index.js';
import type { DeployedApp } from './deployed-app.js';
import { OutgoingRequest, ParameterableValue, type MessageRuntime } from './message/index.js';
import { newSessionTag, type ApplicationSessionImpl, type SessionManager, type SipSessionImpl } from './session/index.js';

/** What the factory needs from the container. */
export interface FactoryHost {
  readonly sessions: SessionManager;
  readonly runtime: MessageRuntime;
  /** Creates a SIP session of `app` in `appSession` and announces it to the listeners. */
  createSession(app: DeployedApp, appSession: ApplicationSessionImpl, init: { callId: string; local: Address; remote: Address; role: 'UAC' | 'UAS' }): SipSessionImpl;
}

/** Headers a copied request never takes from its original (JSR 289 §4.1.2 system headers and transport state). */
const NOT_COPIED = new Set(['via', 'route', 'record-route', 'call-id', 'cseq', 'from', 'to', 'contact', 'content-length', 'max-forwards', 'rseq', 'rack', 'path']);

/** The SipFactory of one application (JSR 289 §4.1.1). */
export class SipFactoryImpl implements SipFactory {
  readonly #app: DeployedApp;
  readonly #host: FactoryHost;

  constructor(app: DeployedApp, host: FactoryHost) {
    this.#app = app;
    this.#host = host;
  }

  createRequest(options: CreateRequestOptions): SipServletRequest {
    const appSession = this.#ownSession(options.appSession);
    const method = options.method.toUpperCase();
    if (method === 'ACK' || method === 'CANCEL') {
      throw new TypeError(`SipFactory.createRequest cannot create ${method}: use response.createAck() or request.createCancel()`);
    }
    const from = toAddress(options.from, 'from');
    from.tag = newSessionTag();
    const to = toAddress(options.to, 'to');
    to.params.delete('tag');
    const requestUri = options.requestUri === undefined ? requestUriFrom(to.uri) : typeof options.requestUri === 'string' ? parse(options.requestUri) : options.requestUri.clone();
    const callId = randomText(12, 'base64url');
    const request = new SipRequest(method, requestUri);
    request.add('From', from.toString());
    request.add('To', to.toString());
    request.add('Call-ID', callId);
    request.add('CSeq', `1 ${method}`);
    request.add('Max-Forwards', '70');
    const session = this.#host.createSession(this.#app, appSession, { callId, local: from, remote: to, role: 'UAC' });
    return new OutgoingRequest({ request, session, runtime: this.#host.runtime, kind: 'initial' });
  }

  createRequestFrom(original: SipServletRequest, options: { sameCallId?: boolean } = {}): SipServletRequest {
    const appSession = this.#ownSession(original.getApplicationSession());
    const source = (original as unknown as { message: SipRequest }).message;
    const method = source.method;
    const from = source.from.clone();
    from.tag = newSessionTag();
    const to = source.to.clone();
    to.params.delete('tag');
    const callId = options.sameCallId ? source.callId : randomText(12, 'base64url');
    const request = new SipRequest(method, source.uri.clone());
    request.add('From', from.toString());
    request.add('To', to.toString());
    request.add('Call-ID', callId);
    request.add('CSeq', `1 ${method}`);
    request.add('Max-Forwards', '70');
    for (const [name, value] of source.headers()) {
      if (!NOT_COPIED.has(headerKey(name))) request.add(name, value);
    }
    request.body = source.body;
    const session = this.#host.createSession(this.#app, appSession, { callId, local: from, remote: to, role: 'UAC' });
    return new OutgoingRequest({ request, session, runtime: this.#host.runtime, kind: 'initial' });
  }

  createAddress(text: string): Address {
    const a = parseNameAddress(text);
    if (a === undefined) throw new TypeError(`Not a SIP address: ${JSON.stringify(text)} (expected e.g. "Alice" <sip:alice@example.com>)`);
    return a;
  }

  createAddressFromUri(uri: Uri, displayName?: string): Address {
    return new NameAddress(uri.clone(), { displayName });
  }

  createURI(text: string): Uri {
    return parse(text);
  }

  createSipURI(user: string | undefined, host: string): SipUri {
    return new SipUri({ user, host });
  }

  createTelURI(number: string): TelUri {
    const uri = parseUri('tel:' + number);
    if (!(uri instanceof TelUri)) throw new TypeError(`Not a telephone number: ${JSON.stringify(number)}`);
    return uri;
  }

  createParameterable(text: string): Parameterable {
    const p = ParameterableValue.parse(text);
    if (p === undefined) throw new TypeError(`Not a parameterable value: ${JSON.stringify(text)}`);
    return p;
  }

  createParameters(): Parameters {
    return new Parameters();
  }

  createApplicationSession(): SipApplicationSession {
    return this.#host.sessions.createApplicationSession({
      applicationName: this.#app.name,
      timeoutMinutes: this.#app.loaded.model.sessionTimeout,
      events: this.#app,
    });
  }

  createApplicationSessionByKey(key: string): SipApplicationSession {
    return (
      this.#host.sessions.getApplicationSessionByKey(this.#app.name, key) ??
      this.#host.sessions.createApplicationSession({
        applicationName: this.#app.name,
        timeoutMinutes: this.#app.loaded.model.sessionTimeout,
        events: this.#app,
        key,
      })
    );
  }

  createAuthInfo(): AuthInfo {
    const entries = new Map<string, { status: number; username: string; password: string }>();
    return {
      addAuthInfo: (status, realm, username, password) => void entries.set(realm, { status, username, password }),
      get: (realm) => entries.get(realm),
    };
  }

  #ownSession(appSession: SipApplicationSession): ApplicationSessionImpl {
    const s = appSession as ApplicationSessionImpl;
    if (s.getApplicationName() !== this.#app.name) {
      throw new TypeError(`application session ${s.getId()} belongs to ${s.getApplicationName()}, not ${this.#app.name}`);
    }
    if (!s.isValid()) throw new TypeError(`application session ${s.getId()} was invalidated; create a new one`);
    return s;
  }
}

/** SipSessionsUtil of one application (JSR 289 §15.11): finds only that application's sessions. */
export class SessionsUtilImpl implements SipSessionsUtil {
  readonly #app: DeployedApp;
  readonly #sessions: SessionManager;
  readonly #factory: SipFactoryImpl;

  constructor(app: DeployedApp, sessions: SessionManager, factory: SipFactoryImpl) {
    this.#app = app;
    this.#sessions = sessions;
    this.#factory = factory;
  }

  getApplicationSessionById(id: string): SipApplicationSession | undefined {
    const s = this.#sessions.getApplicationSession(id);
    return s !== undefined && s.getApplicationName() === this.#app.name ? s : undefined;
  }

  getApplicationSessionByKey(key: string, create = false): SipApplicationSession | undefined {
    return create ? this.#factory.createApplicationSessionByKey(key) : this.#sessions.getApplicationSessionByKey(this.#app.name, key);
  }
}

function parse(text: string): Uri {
  const uri = parseUri(text);
  if (uri === undefined) throw new TypeError(`Not a URI: ${JSON.stringify(text)} (expected e.g. sip:alice@example.com)`);
  return uri;
}

function toAddress(value: Address | Uri | string, what: string): NameAddress {
  if (value instanceof NameAddress) return value.clone();
  if (typeof value === 'string') {
    // A bare URI string ("sip:bob@host;transport=tcp") is a URI with its parameters, as apps mean it;
    // only the name-addr form ("Bob" <sip:…>;tag=…) carries header parameters.
    if (!/[<"]/.test(value)) {
      const uri = parseUri(value.trim());
      if (uri !== undefined) return new NameAddress(uri);
    }
    const a = parseNameAddress(value);
    if (a === undefined) throw new TypeError(`Invalid ${what} address ${JSON.stringify(value)}`);
    return a;
  }
  return new NameAddress(value.clone());
}

/** JSR 289 §4.1.1: the Request-URI is the To URI without headers and without the parameters a Request-URI may not carry. */
function requestUriFrom(uri: Uri): Uri {
  const copy = uri.clone();
  if (copy instanceof SipUri) {
    for (const n of copy.headers.names()) copy.headers.delete(n);
    copy.params.delete('tag');
  }
  return copy;
}
