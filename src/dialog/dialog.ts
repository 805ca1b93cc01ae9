import {
  NameAddress,
  SipUri,
  SipRequest,
  type SipResponse,
  type Uri,
} from '../sip/message/index.js';

export type DialogState = 'early' | 'confirmed' | 'terminated';

/** Methods that create a dialog (RFC 3261 §12.1; RFC 6665 SUBSCRIBE; RFC 3515 REFER). */
export const DIALOG_CREATING = new Set(['INVITE', 'SUBSCRIBE', 'REFER']);
/** Methods whose 2xx (and Contact) refresh the remote target (RFC 3261 §12.2, RFC 3311, RFC 6665). */
export const TARGET_REFRESH = new Set(['INVITE', 'UPDATE', 'SUBSCRIBE', 'NOTIFY', 'REFER']);

/** The key a dialog is found by: Call-ID, local tag, remote tag (RFC 3261 §12). */
export function dialogKey(callId: string, localTag: string, remoteTag: string): string {
  return callId + '\u0000' + localTag + '\u0000' + remoteTag;
}

/**
 * The state of one dialog (RFC 3261 §12): identifiers, sequence numbers, the
 * local and remote URIs, the remote target and the route set, and what it takes
 * to build requests inside it (§12.2.1.1). It sends nothing itself.
 */
export class Dialog {
  readonly callId: string;
  readonly localTag: string;
  remoteTag: string;
  /** Last CSeq number sent in this dialog. */
  localSeq: number;
  /** Last CSeq number received in this dialog, or undefined until the first request. */
  remoteSeq: number | undefined;
  readonly local: NameAddress;
  readonly remote: NameAddress;
  remoteTarget: Uri;
  /** Route set, in the order requests carry it. */
  routeSet: NameAddress[];
  readonly secure: boolean;
  state: DialogState;
  /** UAC: we sent the request that created it; UAS: we answered it. */
  readonly role: 'uac' | 'uas';

  constructor(init: {
    callId: string;
    localTag: string;
    remoteTag: string;
    localSeq: number;
    remoteSeq: number | undefined;
    local: NameAddress;
    remote: NameAddress;
    remoteTarget: Uri;
    routeSet: NameAddress[];
    secure: boolean;
    state: DialogState;
    role: 'uac' | 'uas';
  }) {
    this.callId = init.callId;
    this.localTag = init.localTag;
    this.remoteTag = init.remoteTag;
    this.localSeq = init.localSeq;
    this.remoteSeq = init.remoteSeq;
    this.local = init.local;
    this.remote = init.remote;
    this.remoteTarget = init.remoteTarget;
    this.routeSet = init.routeSet;
    this.secure = init.secure;
    this.state = init.state;
    this.role = init.role;
  }

  get key(): string {
    return dialogKey(this.callId, this.localTag, this.remoteTag);
  }

  /**
   * RFC 3261 §12.1.1: the UAS side, from the request and the response (1xx with
   * a To tag, or 2xx) it sends. The route set is the Record-Route of the request
   * in order; the remote target its Contact.
   */
  static asUas(request: SipRequest, response: SipResponse): Dialog {
    const localTag = response.to.tag;
    if (localTag === undefined) throw new Error('a dialog needs a To tag on the response');
    const contact = request.contact[0];
    return new Dialog({
      callId: request.callId,
      localTag,
      remoteTag: request.from.tag ?? '',
      localSeq: 0,
      remoteSeq: request.cseq.seq,
      local: stripTag(response.to),
      remote: stripTag(request.from),
      remoteTarget: contact ? contact.uri.clone() : request.from.uri.clone(),
      routeSet: request.recordRoute.map((r) => r.clone()),
      secure: request.uri instanceof SipUri && request.uri.secure,
      state: response.status < 200 ? 'early' : 'confirmed',
      role: 'uas',
    });
  }

  /**
   * RFC 3261 §12.1.2: the UAC side, from the request sent and a response with a
   * To tag. The route set is the response's Record-Route in reverse order.
   */
  static asUac(request: SipRequest, response: SipResponse): Dialog {
    const remoteTag = response.to.tag;
    if (remoteTag === undefined) throw new Error('a dialog needs a To tag on the response');
    const contact = response.contact[0];
    return new Dialog({
      callId: request.callId,
      localTag: request.from.tag ?? '',
      remoteTag,
      localSeq: request.cseq.seq,
      remoteSeq: undefined,
      local: stripTag(request.from),
      remote: stripTag(response.to),
      remoteTarget: contact ? contact.uri.clone() : request.uri.clone(),
      routeSet: response.recordRoute.map((r) => r.clone()).reverse(),
      secure: request.uri instanceof SipUri && request.uri.secure,
      state: response.status < 200 ? 'early' : 'confirmed',
      role: 'uac',
    });
  }

  /**
   * Updates the dialog from a later response to the dialog-creating request
   * (§12.1.2: early → confirmed on 2xx; the route set of an early dialog is
   * recomputed from the 2xx; the Contact refreshes the target).
   */
  updateFromResponse(response: SipResponse): void {
    const contact = response.contact[0];
    if (contact) this.remoteTarget = contact.uri.clone();
    if (this.state === 'early') {
      if (this.role === 'uac' && response.status >= 200 && response.status < 300) {
        this.routeSet = response.recordRoute.map((r) => r.clone()).reverse();
      }
      if (response.status >= 200 && response.status < 300) this.state = 'confirmed';
    }
  }

  /** A target refresh request or its 2xx changed the remote target (§12.2.1.2, §12.2.2). */
  refreshTarget(message: SipRequest | SipResponse): void {
    const contact = message.contact[0];
    if (contact && !contact.wildcard) this.remoteTarget = contact.uri.clone();
  }

  /**
   * RFC 3261 §12.2.2: a request inside the dialog with a lower CSeq than the last
   * one is out of order (answer 500); otherwise the remote CSeq advances.
   */
  acceptRemoteSeq(request: SipRequest): boolean {
    const seq = request.cseq.seq;
    if (request.method === 'ACK' || request.method === 'CANCEL') return true;
    if (this.remoteSeq !== undefined && seq < this.remoteSeq) return false;
    this.remoteSeq = seq;
    return true;
  }

  /**
   * Builds a request inside the dialog (§12.2.1.1): To/From with tags, Call-ID,
   * the next local CSeq (ACK reuses the INVITE's, §13.2.2.4), Request-URI and
   * Route from the remote target and route set (loose or strict routing). Via
   * and Contact are left to the layers that send it.
   */
  createRequest(method: string, options: { cseq?: number } = {}): SipRequest {
    let seq: number;
    if (options.cseq !== undefined) seq = options.cseq;
    else {
      this.localSeq += 1;
      seq = this.localSeq;
    }
    const { requestUri, routes } = this.#routing();
    const req = new SipRequest(method, requestUri);
    const from = this.local.clone();
    from.tag = this.localTag;
    const to = this.remote.clone();
    if (this.remoteTag) to.tag = this.remoteTag;
    req.add('From', from.toString());
    req.add('To', to.toString());
    req.add('Call-ID', this.callId);
    req.add('CSeq', `${seq} ${method}`);
    req.add('Max-Forwards', '70');
    for (const r of routes) req.add('Route', r.toString());
    return req;
  }

  #routing(): { requestUri: Uri; routes: NameAddress[] } {
    const first = this.routeSet[0];
    if (first === undefined) return { requestUri: this.remoteTarget.clone(), routes: [] };
    if (first.uri instanceof SipUri && first.uri.lr) {
      return { requestUri: this.remoteTarget.clone(), routes: this.routeSet.map((r) => r.clone()) };
    }
    // Strict routing (RFC 3261 §12.2.1.1): the first route becomes the Request-URI.
    const requestUri = first.uri.clone();
    if (requestUri instanceof SipUri) requestUri.headers.names().forEach((n) => requestUri.headers.delete(n));
    const routes = this.routeSet.slice(1).map((r) => r.clone());
    routes.push(new NameAddress(this.remoteTarget.clone()));
    return { requestUri, routes };
  }
}

function stripTag(a: NameAddress): NameAddress {
  const c = a.clone();
  c.params.delete('tag');
  return c;
}
