import type { SipServletRequest, SipServletResponse } from './message.js';
import type { SipApplicationSession, SipSession } from './session.js';
import type { ServletTimer } from './timer.js';

/**
 * Listener interfaces (JSR 289 §6.3, §17). A class decorated with `@SipListener()`
 * implements any of them; the container calls each method it finds. Listener
 * methods may be async; session events are serialised with the session's messages.
 */
export interface SipServletListener {
  servletInitialized?(event: { servletName: string }): void | Promise<void>;
}

export interface SipApplicationSessionEvent {
  session: SipApplicationSession;
}

export interface SipApplicationSessionListener {
  sessionCreated?(event: SipApplicationSessionEvent): void | Promise<void>;
  sessionDestroyed?(event: SipApplicationSessionEvent): void | Promise<void>;
  /** Called when the session times out; call `session.setExpires(minutes)` here to extend it. */
  sessionExpired?(event: SipApplicationSessionEvent): void | Promise<void>;
  sessionReadyToInvalidate?(event: SipApplicationSessionEvent): void | Promise<void>;
}

export interface SipSessionEvent {
  session: SipSession;
}

export interface SipSessionListener {
  sessionCreated?(event: SipSessionEvent): void | Promise<void>;
  sessionDestroyed?(event: SipSessionEvent): void | Promise<void>;
  sessionReadyToInvalidate?(event: SipSessionEvent): void | Promise<void>;
}

export interface AttributeEvent<S> {
  session: S;
  name: string;
  /** The new value (added/replaced) or the removed value. */
  value: unknown;
}

export interface SipApplicationSessionAttributeListener {
  attributeAdded?(event: AttributeEvent<SipApplicationSession>): void | Promise<void>;
  attributeRemoved?(event: AttributeEvent<SipApplicationSession>): void | Promise<void>;
  attributeReplaced?(event: AttributeEvent<SipApplicationSession>): void | Promise<void>;
}

export interface SipSessionAttributeListener {
  attributeAdded?(event: AttributeEvent<SipSession>): void | Promise<void>;
  attributeRemoved?(event: AttributeEvent<SipSession>): void | Promise<void>;
  attributeReplaced?(event: AttributeEvent<SipSession>): void | Promise<void>;
}

export interface SipErrorEvent {
  request: SipServletRequest;
  response: SipServletResponse;
}

/** Errors of the UAS side of a dialog: no ACK for a 2xx, no PRACK for a reliable 1xx. */
export interface SipErrorListener {
  noAckReceived?(event: SipErrorEvent): void | Promise<void>;
  noPrackReceived?(event: SipErrorEvent): void | Promise<void>;
}

export interface TimerListener {
  timeout(timer: ServletTimer): void | Promise<void>;
}

/** Every listener method the container knows, for discovery on a listener instance. */
export type AnyListener = SipServletListener &
  SipApplicationSessionListener &
  SipSessionListener &
  SipErrorListener &
  Partial<TimerListener>;
