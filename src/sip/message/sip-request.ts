import { SipMessage } from './sip-message.js';
import { parseUri, type Uri } from './uri.js';

/**
 * A SIP request (RFC 3261 §7.1). The Request-URI is parsed on first use; the
 * request line is serialised from the parsed URI once it has been read (and
 * always for a request the parser produced), so changes made through `uri`
 * reach the wire.
 */
export class SipRequest extends SipMessage {
  readonly isRequest = true as const;
  method: string;
  #rawUri: string;
  #uri: Uri | undefined;
  /** The parser checked #rawUri: it is then serialised from its parsed form, as if parsed already. */
  #checked = false;

  constructor(method: string, uri: Uri | string, names?: string[], keys?: string[], values?: string[], body?: Buffer) {
    super(names, keys, values, body);
    this.method = method;
    if (typeof uri === 'string') this.#rawUri = uri;
    else {
      this.#uri = uri;
      this.#rawUri = '';
    }
  }

  get uri(): Uri {
    if (this.#uri === undefined) {
      const parsed = parseUri(this.#rawUri);
      if (parsed === undefined) throw new TypeError(`Malformed Request-URI ${JSON.stringify(this.#rawUri)}`);
      this.#uri = parsed;
    }
    return this.#uri;
  }

  set uri(value: Uri) {
    this.#uri = value;
  }

  /** The Request-URI as text: from the parsed URI, or as given when it was never parsed nor checked by the parser. */
  get uriText(): string {
    if (this.#uri !== undefined) return this.#uri.toString();
    return this.#checked ? this.uri.toString() : this.#rawUri;
  }

  /**
   * For the parser: the Request-URI text is known to parse. It is parsed on
   * first use, and the request behaves from now on as if it had been (`uriText`
   * and the request line come from the parsed URI).
   */
  static checkedUri(m: SipRequest): void {
    m.#checked = true;
  }

  startLine(): string {
    return this.method + ' ' + this.uriText + ' SIP/2.0';
  }

  clone(): SipRequest {
    const uri = this.#uri ?? (this.#checked ? this.uri : undefined);
    const copy = new SipRequest(this.method, uri ? uri.clone() : this.#rawUri);
    return this.copyInto(copy);
  }
}
