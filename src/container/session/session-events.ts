import type { ServletTimer, SipApplicationSession, SipSession } from '../../api/index.js';
import type { AttributeChange } from './attributes.js';

/**
 * What sessions report to the application that owns them. The deployed
 * application implements it by calling its listeners; every call is made from
 * inside the application session's serial queue, except where noted.
 */
export interface SessionEvents {
  appSessionCreated(session: SipApplicationSession): void;
  appSessionDestroyed(session: SipApplicationSession): void;
  appSessionReadyToInvalidate(session: SipApplicationSession): void;
  /** Awaited: a listener may call `setExpires` to keep the session. */
  appSessionExpired(session: SipApplicationSession): Promise<void>;
  appSessionAttribute(session: SipApplicationSession, change: AttributeChange, name: string, value: unknown): void;
  sessionCreated(session: SipSession): void;
  sessionDestroyed(session: SipSession): void;
  sessionReadyToInvalidate(session: SipSession): void;
  sessionAttribute(session: SipSession, change: AttributeChange, name: string, value: unknown): void;
  /** Awaited: the TimerListener runs in the session's queue. */
  timerFired(timer: ServletTimer): Promise<void>;
  /** A listener or handler threw: logged with the app name, never rethrown. */
  error(error: unknown, where: string): void;
}

/** Events that do nothing: for sessions of the container itself and for tests. */
export const NO_SESSION_EVENTS: SessionEvents = {
  appSessionCreated() {},
  appSessionDestroyed() {},
  appSessionReadyToInvalidate() {},
  async appSessionExpired() {},
  appSessionAttribute() {},
  sessionCreated() {},
  sessionDestroyed() {},
  sessionReadyToInvalidate() {},
  sessionAttribute() {},
  async timerFired() {},
  error() {},
};
