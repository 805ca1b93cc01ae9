import type { HttpHandler, ListenerKind, ServletTimer, SipApplicationSession, SipSession } from '../api/index.js';
import type { LoadedApplication } from './deploy/index.js';
import type { ListenerKindMap } from './model/index.js';
import type { ApplicationSessionImpl, AttributeChange, SessionEvents } from './session/index.js';
import type { Logger } from '../util/index.js';

/**
 * One deployed application as the container runs it: its loaded code, and the
 * session events it turns into listener calls. Listener calls never throw into
 * the container: errors are logged with the application's name.
 */
export class DeployedApp implements SessionEvents {
  readonly #log: Logger;
  #loaded: LoadedApplication | undefined;
  readonly #watchers: { close(): void }[] = [];
  /**
   * 'active' takes new initial requests; 'draining' only serves its live sessions (undeployed, or
   * replaced by a newer version); 'undeployed' once destroyed.
   */
  state: 'loading' | 'active' | 'draining' | 'undeployed' = 'loading';
  readonly deployedAt = Date.now();
  /** The HTTP side of a converged app (its routes and HTTP sessions); set when it is activated. */
  converged: { readonly handler: HttpHandler; close(): void } | undefined;
  /** This version's live application sessions (a newer version of the same app has its own). */
  readonly #live = new Set<SipApplicationSession>();
  #idle: (() => void)[] = [];

  constructor(logger: Logger) {
    this.#log = logger;
  }

  get loaded(): LoadedApplication {
    if (this.#loaded === undefined) throw new Error('application not loaded yet');
    return this.#loaded;
  }

  attach(loaded: LoadedApplication): void {
    this.#loaded = loaded;
  }

  /** Keeps a watcher (config.json reloads) to close when the app is undeployed. */
  watch(watcher: { close(): void }): void {
    this.#watchers.push(watcher);
  }

  unwatch(): void {
    for (const w of this.#watchers.splice(0)) w.close();
  }

  get name(): string {
    return this.loaded.model.name;
  }

  /** The servlet that takes initial requests: the model's main servlet, or its only one. */
  get mainServlet(): string {
    const model = this.loaded.model;
    return model.mainServlet ?? model.servlets[0]?.name ?? '';
  }

  get log(): Logger {
    return this.#log;
  }

  /** This version's application sessions still alive. */
  get liveSessions(): readonly SipApplicationSession[] {
    return [...this.#live];
  }

  /** Resolves once this version has no live application session. */
  whenIdle(): Promise<void> {
    if (this.#live.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  appSessionCreated(session: SipApplicationSession): void {
    this.#live.add(session);
    this.#each('applicationSession', (l) => l.sessionCreated?.({ session }));
  }

  appSessionDestroyed(session: SipApplicationSession): void {
    this.#each('applicationSession', (l) => l.sessionDestroyed?.({ session }));
    if (this.#live.delete(session) && this.#live.size === 0) for (const resolve of this.#idle.splice(0)) resolve();
  }

  appSessionReadyToInvalidate(session: SipApplicationSession): void {
    this.#each('applicationSession', (l) => l.sessionReadyToInvalidate?.({ session }));
  }

  async appSessionExpired(session: SipApplicationSession): Promise<void> {
    for (const l of this.#listeners('applicationSession')) {
      try {
        await l.sessionExpired?.({ session });
      } catch (error) {
        this.error(error, 'sessionExpired listener');
      }
    }
  }

  appSessionAttribute(session: SipApplicationSession, change: AttributeChange, name: string, value: unknown): void {
    this.#each('applicationSessionAttribute', (l) => attributeCall(l as AttributeListener, change)?.call(l, { session: session as never, name, value }));
  }

  sessionCreated(session: SipSession): void {
    this.#each('session', (l) => l.sessionCreated?.({ session }));
  }

  sessionDestroyed(session: SipSession): void {
    this.#each('session', (l) => l.sessionDestroyed?.({ session }));
  }

  sessionReadyToInvalidate(session: SipSession): void {
    this.#each('session', (l) => l.sessionReadyToInvalidate?.({ session }));
  }

  sessionAttribute(session: SipSession, change: AttributeChange, name: string, value: unknown): void {
    this.#each('sessionAttribute', (l) => attributeCall(l as AttributeListener, change)?.call(l, { session: session as never, name, value }));
  }

  async timerFired(timer: ServletTimer): Promise<void> {
    const listeners = this.#listeners('timer');
    if (listeners.length === 0) {
      this.#log.warn({ timer: timer.getId() }, 'a timer expired but the application has no TimerListener');
      return;
    }
    for (const l of listeners) {
      try {
        await l.timeout(timer);
      } catch (error) {
        this.error(error, 'TimerListener.timeout');
      }
    }
  }

  /**
   * SipErrorListener.noAckReceived / noPrackReceived, run in the application
   * session's queue like the session's messages (a handler still running goes first).
   */
  errorEvent(kind: 'noAckReceived' | 'noPrackReceived', event: Parameters<NonNullable<ListenerKindMap['error']['noAckReceived']>>[0]): Promise<void> {
    const listeners = this.#listeners('error');
    if (listeners.length === 0) return Promise.resolve();
    const appSession = event.request.getApplicationSession() as ApplicationSessionImpl;
    return appSession.queue.run(async () => {
      for (const l of listeners) {
        try {
          await l[kind]?.(event);
        } catch (error) {
          this.error(error, `SipErrorListener.${kind}`);
        }
      }
    });
  }

  error(error: unknown, where: string): void {
    this.#log.error({ err: error, where }, `application ${this.#loaded?.model.name ?? '?'} failed in ${where}`);
  }

  #listeners<K extends ListenerKind>(kind: K): readonly ListenerKindMap[K][] {
    return this.#loaded === undefined ? [] : this.#loaded.listenersOf(kind);
  }

  /** Calls every listener of a kind; a rejected promise or a throw is logged, never propagated. */
  #each<K extends ListenerKind>(kind: K, call: (listener: ListenerKindMap[K]) => unknown): void {
    for (const l of this.#listeners(kind)) {
      try {
        const result = call(l);
        if (result instanceof Promise) result.catch((error: unknown) => this.error(error, `${kind} listener`));
      } catch (error) {
        this.error(error, `${kind} listener`);
      }
    }
  }
}

type AttributeCallback = (event: { session: never; name: string; value: unknown }) => unknown;
type AttributeListener = { attributeAdded?: AttributeCallback; attributeRemoved?: AttributeCallback; attributeReplaced?: AttributeCallback };

function attributeCall(l: AttributeListener, change: AttributeChange): AttributeCallback | undefined {
  return change === 'added' ? l.attributeAdded : change === 'removed' ? l.attributeRemoved : l.attributeReplaced;
}
