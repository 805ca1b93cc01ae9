import { reasonPhrase } from './reason-phrases.js';
import { SipMessage } from './sip-message.js';

/** A SIP response (RFC 3261 §7.2). */
export class SipResponse extends SipMessage {
  readonly isRequest = false as const;
  status: number;
  reason: string;

  constructor(status: number, reason?: string, names?: string[], keys?: string[], values?: string[], body?: Buffer) {
    super(names, keys, values, body);
    this.status = status;
    this.reason = reason ?? reasonPhrase(status);
  }

  /** 1xx */
  get provisional(): boolean {
    return this.status < 200;
  }

  startLine(): string {
    return 'SIP/2.0 ' + this.status + ' ' + this.reason;
  }

  clone(): SipResponse {
    return this.copyInto(new SipResponse(this.status, this.reason));
  }
}
