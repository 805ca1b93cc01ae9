import { dialogKey } from '../../dialog/index.js';
import { ApplicationSessionImpl } from './application-session.js';
import type { SessionEvents } from './session-events.js';
import type { SipSessionImpl } from './sip-session.js';

export interface SessionCounts {
  applicationSessions: number;
  sipSessions: number;
  dialogs: number;
  created: { applicationSessions: number; sipSessions: number };
}

/**
 * Indexes the live sessions of every application: application sessions by id
 * and by key (JSR 289 §15.11.2), SIP sessions by dialog. Entries leave the
 * indexes when the session is invalidated, so the maps stay as large as the
 * traffic in flight.
 */
export class SessionManager {
  readonly #appSessions = new Map<string, ApplicationSessionImpl>();
  readonly #byKey = new Map<string, ApplicationSessionImpl>();
  readonly #byDialog = new Map<string, SipSessionImpl>();
  #sipSessions = 0;
  #createdApp = 0;
  #createdSip = 0;

  createApplicationSession(options: { applicationName: string; timeoutMinutes: number; events: SessionEvents; key?: string }): ApplicationSessionImpl {
    const keyIndex = options.key === undefined ? undefined : options.applicationName + '\u0000' + options.key;
    const session = new ApplicationSessionImpl({
      applicationName: options.applicationName,
      timeoutMinutes: options.timeoutMinutes,
      events: options.events,
      key: options.key,
      onInvalidated: (s) => {
        this.#appSessions.delete(s.getId());
        if (keyIndex !== undefined && this.#byKey.get(keyIndex) === s) this.#byKey.delete(keyIndex);
      },
    });
    this.#appSessions.set(session.getId(), session);
    if (keyIndex !== undefined) this.#byKey.set(keyIndex, session);
    this.#createdApp++;
    options.events.appSessionCreated(session);
    return session;
  }

  getApplicationSession(id: string): ApplicationSessionImpl | undefined {
    return this.#appSessions.get(id);
  }

  getApplicationSessionByKey(applicationName: string, key: string): ApplicationSessionImpl | undefined {
    return this.#byKey.get(applicationName + '\u0000' + key);
  }

  /** Every live application session of one application (for undeploy and statistics). */
  applicationSessionsOf(applicationName: string): ApplicationSessionImpl[] {
    return [...this.#appSessions.values()].filter((s) => s.getApplicationName() === applicationName);
  }

  sipSessionCreated(): void {
    this.#sipSessions++;
    this.#createdSip++;
  }

  /** Registers the session under its dialog's key (RFC 3261 §12: Call-ID, local tag, remote tag). */
  bindDialog(session: SipSessionImpl): void {
    const d = session.dialog;
    if (d !== undefined) this.#byDialog.set(d.key, session);
  }

  /** Drops the session's dialog from the index (its early dialog ended). */
  unbindDialog(session: SipSessionImpl): void {
    const d = session.dialog;
    if (d !== undefined && this.#byDialog.get(d.key) === session) this.#byDialog.delete(d.key);
  }

  findByDialog(callId: string, localTag: string, remoteTag: string): SipSessionImpl | undefined {
    return this.#byDialog.get(dialogKey(callId, localTag, remoteTag));
  }

  /** Drops a SIP session from the indexes (called when it is invalidated). */
  forget(session: SipSessionImpl): void {
    this.#sipSessions--;
    this.unbindDialog(session);
  }

  counts(): SessionCounts {
    return {
      applicationSessions: this.#appSessions.size,
      sipSessions: this.#sipSessions,
      dialogs: this.#byDialog.size,
      created: { applicationSessions: this.#createdApp, sipSessions: this.#createdSip },
    };
  }
}
