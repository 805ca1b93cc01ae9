/**
 * An operation on a session or a message in a state that does not allow it
 * (JSR 289 IllegalStateException): changing a committed message, using an
 * invalidated session, sending a response twice. The message says what to do.
 */
export class IllegalStateError extends Error {
  override readonly name = 'IllegalStateError';
}

/**
 * An attempt to change a header the container owns (Call-ID, CSeq, Via, Route,
 * Record-Route, From/To tags, RSeq, RAck, Contact where the spec forbids it).
 */
export class SystemHeaderError extends Error {
  override readonly name = 'SystemHeaderError';
  readonly header: string;
  constructor(header: string, advice: string) {
    super(`${header} is a system header and cannot be changed by an application: ${advice}`);
    this.header = header;
  }
}

/**
 * Thrown (or rejected) by a handler to answer the request with a given status
 * instead of the default 500.
 *
 * @example
 * if (!allowed) throw new SipError(403, 'Caller blocked');
 */
export class SipError extends Error {
  override readonly name = 'SipError';
  readonly status: number;
  readonly reason: string | undefined;
  constructor(status: number, reason?: string) {
    super(reason ? `${status} ${reason}` : String(status));
    this.status = status;
    this.reason = reason;
  }
}
