import { SipMessage } from './sip-message.js';
import { parseUri, type Uri } from './uri.js';

/**
 * A SIP request (RFC 3261 §7.1). The Request-URI is parsed on first use; the
 * request line is serialised from the parsed URI once it has been read, so
 * changes made through `uri` reach the wire.
 */
export class SipRequest extends SipMessage {
  readonly isRequest = true as const;
  method: string;
  #rawUri: string;
  #uri: Uri | undefined;

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

  /** The Request-URI as text, without parsing it when it was never touched. */
  get uriText(): string {
    return this.#uri === undefined ? this.#rawUri : this.#uri.toString();
  }

  startLine(): string {
    return this.method + ' ' + this.uriText + ' SIP/2.0';
  }

  clone(): SipRequest {
    const copy = new SipRequest(this.method, this.#uri ? this.#uri.clone() : this.#rawUri);
    return this.copyInto(copy);
  }
}
